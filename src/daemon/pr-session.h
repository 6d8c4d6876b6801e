/*
 * Copyright 2026 The Postroom developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include "pr-daemon.h"
#include "pr-dbus-generated.h"
#include "pr-job.h"
#include "pr-store.h"

G_BEGIN_DECLS

#define PR_TYPE_SESSION (pr_session_get_type())
G_DECLARE_FINAL_TYPE(PrSession, pr_session, PR, SESSION, GObject)

/*
 * One account's connection to its server and the jobs that use it: the job queue, the
 * main connection and its sync engine, the second connection for reading beside a
 * background sync, and staying online. It publishes what it does on the account's
 * Imap4Service object (State, Connected, Busy, BackgroundSync, LastError, LastSync,
 * ServerCapabilities and the FoldersChanged, MessagesChanged, NewMail and Alert signals).
 */
PrSession *pr_session_new(PrDaemon *daemon,
			  const gchar *id,
			  const gchar *path,
			  GSettings *settings,
			  PrStore *store,
			  PrDBusImap4Service *iface);

/* A job of @kind with a new exported operation of @operation_kind, not queued yet. */
PrJob *pr_session_new_job(PrSession *self, PrJobKind kind, const gchar *operation_kind);
/* Takes @job; it runs when its turn comes. */
void pr_session_enqueue(PrSession *self, PrJob *job);

gboolean pr_session_is_connected(PrSession *self);
/* The operation of the running background sync, or NULL. */
PrOperation *pr_session_get_background_operation(PrSession *self);
void pr_session_cancel_background(PrSession *self);
/* A setting changed: what synchronises how applies from the next sync. */
void pr_session_settings_changed(PrSession *self, const gchar *key);
/* An error to show in LastError. */
void pr_session_set_last_error(PrSession *self, const GError *error);

/* RemoveService: every job ends, the account goes offline and disconnects. */
void pr_session_abort(PrSession *self);
/* Daemon exit: close connections at once. */
void pr_session_shutdown(PrSession *self);

G_END_DECLS
