/*
 * Copyright 2026 The Postroom developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <glib-object.h>

G_BEGIN_DECLS

#define PR_TYPE_IMAP_SASL (pr_imap_sasl_get_type())
G_DECLARE_FINAL_TYPE(PrImapSasl, pr_imap_sasl, PR, IMAP_SASL, GObject)

/* Mechanism names as IMAP spells them (AUTH=...). "LOGIN" here is the SASL mechanism;
 * the plain IMAP LOGIN command is handled by the client. */
#define PR_IMAP_SASL_PLAIN	   "PLAIN"
#define PR_IMAP_SASL_LOGIN	   "LOGIN"
#define PR_IMAP_SASL_CRAM_MD5	   "CRAM-MD5"
#define PR_IMAP_SASL_SCRAM_SHA_256 "SCRAM-SHA-256"
#define PR_IMAP_SASL_XOAUTH2	   "XOAUTH2"
#define PR_IMAP_SASL_OAUTHBEARER   "OAUTHBEARER"

/* Whether we implement @mechanism (case-insensitive). */
gboolean pr_imap_sasl_is_supported(const gchar *mechanism);

/*
 * Pick a mechanism: @wanted is a setting value ("auto", "plain", "login", "cram-md5",
 * "scram-sha-256", "xoauth2", "oauthbearer"); @offered the server's AUTH= names. "auto"
 * takes the strongest password mechanism offered (SCRAM-SHA-256, then PLAIN, then LOGIN,
 * then CRAM-MD5), never an OAuth one. Returns NULL with LoginFailed when nothing fits;
 * for "auto" with no AUTH= offered it returns NULL and no error (use the LOGIN command).
 */
gchar *pr_imap_sasl_choose(const gchar *wanted, const gchar *const *offered, GError **error);

/* @secret is the password, or the OAuth 2 access token for XOAUTH2/OAUTHBEARER. @host and
 * @port are only used by OAUTHBEARER. The secret is wiped from memory on finalize. */
PrImapSasl *pr_imap_sasl_new(const gchar *mechanism,
			     const gchar *user,
			     const gchar *secret,
			     const gchar *host,
			     guint16 port,
			     GError **error);
const gchar *pr_imap_sasl_get_mechanism(PrImapSasl *self);
/* The client speaks first with this mechanism (usable as SASL-IR initial response). */
gboolean pr_imap_sasl_has_initial_response(PrImapSasl *self);

/*
 * One step: @challenge is the decoded server challenge (NULL for the initial step).
 * Returns the response to send (raw bytes, the caller base64-encodes; may be empty), or
 * NULL with an error (e.g. a SCRAM server signature that does not verify: LoginFailed).
 */
GBytes *pr_imap_sasl_step(PrImapSasl *self, GBytes *challenge, GError **error);
/* SCRAM: TRUE once the server's final message verified. Other mechanisms: TRUE after the
 * last step. The client must fail a login whose tagged OK arrives before this is TRUE for
 * SCRAM (a server that skips its proof is not trusted). */
gboolean pr_imap_sasl_is_complete(PrImapSasl *self);

/* Tests only: use @nonce as the SCRAM client nonce instead of a random one, so published
 * test vectors can be replayed. Call before the first step. Never use it in the service. */
void pr_imap_sasl_set_nonce_for_testing(PrImapSasl *self, const gchar *nonce);

G_END_DECLS
