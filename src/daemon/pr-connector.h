/*
 * Copyright 2026 The Postroom developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <gio/gio.h>

#include "pr-imap-client.h"
#include "pr-settings.h"

G_BEGIN_DECLS

#define PR_TYPE_CONNECTOR (pr_connector_get_type())
G_DECLARE_FINAL_TYPE(PrConnector, pr_connector, PR, CONNECTOR, GObject)

/*
 * The one way the service opens a connection: the password from the Secret Service, a
 * client configured from the account's settings (security, certificate policy, timeout,
 * compression), connect and TLS, then login. Every connection of an account (the main
 * one, the push connection, the second one for reading) comes from here. The password
 * lives only until the login is sent and is wiped on every path.
 */
typedef enum {
	PR_CONNECTOR_FLAG_NONE = 0,
	/* the account's main connection: "stage" tells its progress, and its [ALERT]s —
	 * from the login on — are emitted as "alert" */
	PR_CONNECTOR_FLAG_MAIN = 1 << 0,
} PrConnectorFlags;

PrConnector *pr_connector_new(const gchar *service_id, GSettings *settings);

void pr_connector_open_async(PrConnector *self,
			     PrConnectorFlags flags,
			     GCancellable *cancellable,
			     GAsyncReadyCallback callback,
			     gpointer user_data);
/* A logged-in client, or NULL. */
PrImapClient *pr_connector_open_finish(PrConnector *self, GAsyncResult *res, GError **error);

/* The certificate policy of @config (CA file, pinned certificate) applied to @client. */
gboolean pr_connector_apply_trust(PrAccountConfig *config, PrImapClient *client, GError **error);

G_END_DECLS
