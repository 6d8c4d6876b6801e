/*
 * Copyright 2026 The Postroom developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include "pr-connector.h"
#include "pr-job-queue.h"
#include "pr-store.h"
#include "pr-sync.h"

G_BEGIN_DECLS

#define PR_TYPE_ONLINE (pr_online_get_type())
G_DECLARE_FINAL_TYPE(PrOnline, pr_online, PR, ONLINE, GObject)

/*
 * Staying online: what keeps a connected account current and connected. Push (IDLE on a
 * connection of its own, NOTIFY for the other folders, its watchdog), the periodic sync
 * while push cannot run, and reconnection with backoff when the user wants the account
 * online and the connection dropped. It decides when; the session does the work it asks
 * for through its signals:
 *   "folder-changed" (const gchar *folder, or NULL for anything): sync that folder
 *   "resync": time for the periodic sync of new inbox mail
 *   "reconnect": time to try connecting again
 */
PrOnline *pr_online_new(const gchar *service_id,
			GSettings *settings,
			PrConnector *connector,
			PrStore *store,
			PrJobQueue *queue);

/* The main connection is up: the user wants the account online from now on. */
void pr_online_connected(PrOnline *self, PrImapClient *client);
/* Keep it current: start the periodic sync and push, or — with @after_first_sync — push
 * once the connection's first full sync ended and the account is quiet. */
void pr_online_stay(PrOnline *self, gboolean after_first_sync);
/* A sync of @scope ended (successfully or not). */
void pr_online_sync_done(PrOnline *self, PrSyncScope scope);
/* The account has no work: push may start if it waits for that. */
void pr_online_quiet(PrOnline *self);
/* The main connection is gone: push and the periodic sync stop. */
void pr_online_disconnected(PrOnline *self);
/* The user no longer wants the account online: no more reconnecting. */
void pr_online_go_offline(PrOnline *self);
gboolean pr_online_get_wanted(PrOnline *self);
/* The connection dropped while wanted: try again after a backoff. */
void pr_online_schedule_reconnect(PrOnline *self);

G_END_DECLS
