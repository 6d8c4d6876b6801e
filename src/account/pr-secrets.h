/*
 * Copyright 2026 The Postroom developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

/*
 * Account passwords in the Secret Service (libsecret, D-Bus org.freedesktop.secrets),
 * schema "org.postroom.Password" with attributes "service" (the account id) and
 * "protocol" ("imap" or "smtp"), stored in the default collection.
 *
 * Everything is asynchronous: nothing blocks the main loop (an unlock prompt may take as
 * long as the user needs; cancel through @cancellable). Failures fail closed: when no
 * Secret Service is reachable (no bus, nothing owns or activates the name, a locked
 * collection that stays locked, any libsecret or D-Bus error) the operation fails with
 * PR_ERROR_SECRET_SERVICE_UNAVAILABLE and nothing is ever written elsewhere. libsecret's
 * own local-file backend is never used. A cancelled operation fails with
 * PR_ERROR_CANCELLED; bad arguments (an invalid service id, a protocol other than "imap"
 * or "smtp", an empty password) with PR_ERROR_INVALID_ARGUMENT. Passwords are never
 * logged.
 */

#define PR_SECRETS_SCHEMA_NAME	 "org.postroom.Password"
#define PR_SECRETS_PROTOCOL_IMAP "imap"
#define PR_SECRETS_PROTOCOL_SMTP "smtp"

/* The item label: "Postroom password for USER@HOST (IMAP)" (translated). */
gchar *pr_secrets_make_label(const gchar *user, const gchar *host, const gchar *protocol);

/* Store (or replace) the password of @service_id for @protocol. @label: nullable, see
 * pr_secrets_make_label(). @password is copied into libsecret's secure memory before this
 * returns, so the caller may wipe its copy at once. */
void pr_secrets_store_async(const gchar *service_id,
			    const gchar *protocol,
			    const gchar *label,
			    const gchar *password,
			    GCancellable *cancellable,
			    GAsyncReadyCallback callback,
			    gpointer user_data);
gboolean pr_secrets_store_finish(GAsyncResult *result, GError **error);

/* Look the password up. Fails with PR_ERROR_NO_PASSWORD when none is stored. */
void pr_secrets_lookup_async(const gchar *service_id,
			     const gchar *protocol,
			     GCancellable *cancellable,
			     GAsyncReadyCallback callback,
			     gpointer user_data);
/* The password; free it with pr_secrets_password_free() (or wipe it with explicit_bzero()
 * before g_free()), e.g. g_autoptr(PrSecretsPassword). */
gchar *pr_secrets_lookup_finish(GAsyncResult *result, GError **error);

/* Delete the stored password of @service_id for @protocol, or for every protocol when
 * @protocol is NULL. Succeeds when there was nothing to delete. */
void pr_secrets_clear_async(const gchar *service_id,
			    const gchar *protocol,
			    GCancellable *cancellable,
			    GAsyncReadyCallback callback,
			    gpointer user_data);
gboolean pr_secrets_clear_finish(GAsyncResult *result, GError **error);

/* Wipe and free a password (NULL is fine). */
void pr_secrets_password_free(gchar *password);

typedef gchar PrSecretsPassword;
G_DEFINE_AUTOPTR_CLEANUP_FUNC(PrSecretsPassword, pr_secrets_password_free)

G_END_DECLS
