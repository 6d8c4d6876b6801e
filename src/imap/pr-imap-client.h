/*
 * Copyright 2026 The Postroom developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <gio/gio.h>

#include "pr-imap-command.h"
#include "pr-imap-parser.h"
#include "pr-imap-response.h"

G_BEGIN_DECLS

#define PR_TYPE_IMAP_CLIENT (pr_imap_client_get_type())
G_DECLARE_FINAL_TYPE(PrImapClient, pr_imap_client, PR, IMAP_CLIENT, GObject)

typedef enum {
	PR_IMAP_SECURITY_TLS,	   /* implicit TLS (port 993) */
	PR_IMAP_SECURITY_STARTTLS, /* plaintext, then STARTTLS, mandatory */
	PR_IMAP_SECURITY_NONE,	   /* no TLS at all */
} PrImapSecurity;

typedef enum {
	PR_IMAP_CLIENT_STATE_DISCONNECTED,
	PR_IMAP_CLIENT_STATE_CONNECTING,
	PR_IMAP_CLIENT_STATE_NOT_AUTHENTICATED,
	PR_IMAP_CLIENT_STATE_AUTHENTICATED,
	PR_IMAP_CLIENT_STATE_SELECTED,
	PR_IMAP_CLIENT_STATE_IDLE,
	PR_IMAP_CLIENT_STATE_LOGOUT,
} PrImapClientState;

const gchar *pr_imap_security_to_string(PrImapSecurity security);
gboolean pr_imap_security_from_string(const gchar *str, PrImapSecurity *security);

/* Settings are fixed once connect starts. */
PrImapClient *pr_imap_client_new(const gchar *host, guint16 port, PrImapSecurity security);
void pr_imap_client_set_timeout(PrImapClient *self, guint seconds);
guint pr_imap_client_get_timeout(PrImapClient *self);
/* Trust anchors: a PEM file of CAs used instead of the system store. */
gboolean pr_imap_client_set_ca_file(PrImapClient *self, const gchar *path, GError **error);
/* A SHA-256 fingerprint (hex, any case, colons allowed) of a certificate the user accepted;
 * a server presenting exactly it is trusted whatever its chain. */
gboolean
pr_imap_client_set_pinned_certificate(PrImapClient *self, const gchar *sha256, GError **error);
/* Ask for COMPRESS=DEFLATE after login when offered. */
/* Cancelling a command already sent normally closes the connection (IMAP has no other way
 * to stop it). With soft cancel, a plain command's caller gets Cancelled at once while the
 * command finishes unheard and the connection stays usable. */
void pr_imap_client_set_soft_cancel(PrImapClient *self, gboolean soft_cancel);
void pr_imap_client_set_compress(PrImapClient *self, gboolean compress);
/* Literals above the parser threshold go to @sink while a command runs. */
void pr_imap_client_set_literal_sink(PrImapClient *self,
				     const PrImapLiteralSink *sink,
				     gpointer user_data,
				     GDestroyNotify destroy);

/* Connects, negotiates TLS/STARTTLS as configured, reads the greeting and capabilities.
 * Errors: ConnectFailed, TlsFailed, CertificateUntrusted, StartTlsUnavailable,
 * ServerError (BYE greeting), ProtocolError, Timeout, Cancelled. */
void pr_imap_client_connect_async(PrImapClient *self,
				  GCancellable *cancellable,
				  GAsyncReadyCallback callback,
				  gpointer user_data);
gboolean pr_imap_client_connect_finish(PrImapClient *self, GAsyncResult *res, GError **error);

/* Authenticates with @mechanism ("auto" or a setting value, see PrImapSasl), then
 * re-reads capabilities, ENABLEs what we use and starts COMPRESS when asked.
 * Errors: LoginFailed (rejected, LOGINDISABLED, no usable mechanism), and as above. */
void pr_imap_client_login_async(PrImapClient *self,
				const gchar *user,
				const gchar *secret,
				const gchar *mechanism,
				GCancellable *cancellable,
				GAsyncReadyCallback callback,
				gpointer user_data);
gboolean pr_imap_client_login_finish(PrImapClient *self, GAsyncResult *res, GError **error);

/*
 * Sends @command (pipelined behind any in flight) and completes when its tagged response
 * arrives. Returns the tagged OK response; NO/BAD become ServerError carrying the server's
 * text. Untagged responses are emitted with the "untagged" signal as they arrive and, if
 * @untagged is not NULL, collected into it (transfer: the caller owns the array, which
 * gets PrImapResponse references) when they arrive while this command is the oldest in
 * flight.
 */
void pr_imap_client_run_async(PrImapClient *self,
			      PrImapCommand *command,
			      GCancellable *cancellable,
			      GAsyncReadyCallback callback,
			      gpointer user_data);
/* Called for each untagged response that arrives while the command is the oldest in
 * flight; returning TRUE consumes it (it is not collected for run_finish), so a large
 * FETCH is handled as it streams instead of being held until its tagged response. */
typedef gboolean (*PrImapUntaggedFunc)(PrImapResponse *response, gpointer user_data);

void pr_imap_client_run_with_handler_async(PrImapClient *self,
					   PrImapCommand *command,
					   PrImapUntaggedFunc handler,
					   gpointer handler_data,
					   GCancellable *cancellable,
					   GAsyncReadyCallback callback,
					   gpointer user_data);
PrImapResponse *pr_imap_client_run_finish(PrImapClient *self,
					  GAsyncResult *res,
					  GPtrArray **untagged,
					  GError **error);

/* Starts IDLE; completes once the server accepted it ("+ idling"). Untagged responses
 * then arrive through the "untagged" signal. pr_imap_client_idle_done_async() sends DONE
 * and completes on the tagged response. */
void pr_imap_client_idle_async(PrImapClient *self,
			       GCancellable *cancellable,
			       GAsyncReadyCallback callback,
			       gpointer user_data);
gboolean pr_imap_client_idle_finish(PrImapClient *self, GAsyncResult *res, GError **error);
void pr_imap_client_idle_done_async(PrImapClient *self,
				    GCancellable *cancellable,
				    GAsyncReadyCallback callback,
				    gpointer user_data);
gboolean pr_imap_client_idle_done_finish(PrImapClient *self, GAsyncResult *res, GError **error);

/* LOGOUT and close; never fails the caller (a dead connection is already logged out). */
void pr_imap_client_logout_async(PrImapClient *self,
				 GCancellable *cancellable,
				 GAsyncReadyCallback callback,
				 gpointer user_data);
gboolean pr_imap_client_logout_finish(PrImapClient *self, GAsyncResult *res, GError **error);
/* Closes at once, failing whatever is in flight with Cancelled. */
void pr_imap_client_close(PrImapClient *self);

PrImapClientState pr_imap_client_get_state(PrImapClient *self);
/* Changes whenever the selected mailbox may have: every SELECT, EXAMINE, CLOSE or UNSELECT
 * that completes (whatever its answer) and every new connection. Who selected a mailbox
 * and sees the same generation later knows it is still selected. */
guint pr_imap_client_get_select_generation(PrImapClient *self);
/* Upper-cased capabilities learnt last (after TLS when TLS is used). */
const gchar *const *pr_imap_client_get_capabilities(PrImapClient *self);
gboolean pr_imap_client_has_capability(PrImapClient *self, const gchar *capability);
/* The AUTH= mechanisms offered, upper-cased, without the prefix. */
gchar **pr_imap_client_dup_auth_mechanisms(PrImapClient *self);
/* "tls", "starttls" or "none": what protects the connection now. */
const gchar *pr_imap_client_get_security_negotiated(PrImapClient *self);
gboolean pr_imap_client_get_compressed(PrImapClient *self);
gboolean pr_imap_client_get_utf8_enabled(PrImapClient *self);
/* The server certificate (after TLS): SHA-256 hex lower case, subject DN, and whether it
 * was trusted (system/CA file or pin). NULL/FALSE before TLS or without TLS. */
const gchar *pr_imap_client_get_certificate_sha256(PrImapClient *self);
const gchar *pr_imap_client_get_certificate_subject(PrImapClient *self);
gboolean pr_imap_client_get_certificate_trusted(PrImapClient *self);
/* The hierarchy delimiter learnt from LIST "" "" (0 when unknown or flat). */
gchar pr_imap_client_get_delimiter(PrImapClient *self);

G_END_DECLS
