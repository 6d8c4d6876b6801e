/*
 * Copyright 2026 The Postroom developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <gio/gio.h>

#include "pr-imap-client.h"

G_BEGIN_DECLS

#define PR_TYPE_IMAP_PROBE (pr_imap_probe_get_type())
G_DECLARE_FINAL_TYPE(PrImapProbe, pr_imap_probe, PR, IMAP_PROBE, GObject)

/*
 * Tries a server without creating an account: what `postroomctl probe` and the daemon's
 * Manager.ProbeServer do. The result is an a{sv} with the keys of the D-Bus contract:
 * capabilities as, security s, certificate-sha256 s, certificate-subject s,
 * certificate-trusted b, auth-mechanisms as, authenticated b, folders u (only after a
 * login). It is available after a failure too (an untrusted certificate still shows).
 */
PrImapProbe *pr_imap_probe_new(const gchar *host, guint16 port, PrImapSecurity security);
void pr_imap_probe_set_timeout(PrImapProbe *self, guint seconds);
/* The connection the probe will use, for its certificate policy. */
PrImapClient *pr_imap_probe_get_client(PrImapProbe *self);
gboolean pr_imap_probe_set_ca_file(PrImapProbe *self, const gchar *path, GError **error);
gboolean
pr_imap_probe_set_pinned_certificate(PrImapProbe *self, const gchar *sha256, GError **error);
/* Log in with @secret (copied, wiped when done; NULL: connect only). */
void pr_imap_probe_set_login(PrImapProbe *self,
			     const gchar *user,
			     const gchar *secret,
			     const gchar *mechanism);
void pr_imap_probe_run_async(PrImapProbe *self,
			     GCancellable *cancellable,
			     GAsyncReadyCallback callback,
			     gpointer user_data);
gboolean pr_imap_probe_run_finish(PrImapProbe *self, GAsyncResult *res, GError **error);
/* The a{sv} result (floating reference sunk: transfer none). */
GVariant *pr_imap_probe_get_result(PrImapProbe *self);

G_END_DECLS
