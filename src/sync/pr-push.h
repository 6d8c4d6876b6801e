/*
 * Copyright 2026 The Postroom developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <gio/gio.h>

#include "pr-imap-client.h"

G_BEGIN_DECLS

/*
 * The push engine: tells the daemon when the server has news, over one logged-in
 * PrImapClient dedicated to it while it runs.
 *
 * It EXAMINEs INBOX (read-only: push never writes), asks for NOTIFY (RFC 5465) when offered
 * and wanted, so that changes in other folders arrive as untagged STATUS/LIST, then sits in
 * IDLE (RFC 2177). News is coalesced and reported with "changed"; the connection stays in
 * IDLE, since the daemon syncs over its own main connection. Without IDLE it polls with
 * NOOP every poll interval.
 *
 * A connection that IDLE hides can die silently (NAT or server dropping the session, see
 * EDS #211, Geary #797, Delta Chat #5093): IDLE is re-issued (DONE, tagged OK, IDLE) every
 * re-issue interval, and the same cycle is run as a liveness check whenever the server has
 * been silent for the watchdog interval. A DONE that gets no answer runs into the client's
 * own timeout, the client closes, and "dead" is emitted; so is any other end of the
 * connection ("closed"). The daemon then reconnects with a new client and a new PrPush.
 *
 * Signals:
 *   "changed" (const gchar *folder): new mail, an expunge or a flag change in @folder
 *     (UTF-8 name as the server names it; "INBOX" for the inbox). @folder is NULL when the
 *     server dropped notifications (NOTIFICATIONOVERFLOW): anything may have changed.
 *   "dead" (GError *error): the connection ended or was found dead after start completed;
 *     not emitted once pr_push_stop_async() was called.
 *
 * Every async call takes a GCancellable; cancelling a start closes the connection (IMAP
 * cannot take a command back), cancelling the others only fails them with Cancelled.
 */

#define PR_TYPE_PUSH (pr_push_get_type())
G_DECLARE_FINAL_TYPE(PrPush, pr_push, PR, PUSH, GObject)

/* The largest re-issue interval RFC 2177 allows a client: servers may log out after 30 min. */
#define PR_PUSH_IDLE_TIMEOUT_MAX 1740

typedef struct {
	gboolean idle;		    /* use IDLE when the server offers it */
	guint idle_timeout;	    /* seconds the server keeps an IDLE (0: 1740); we re-issue at
				       min(idle_timeout, 1740) minus a margin */
	guint reissue_interval;	    /* seconds between re-issues, at most 1740; 0: derived from
				       idle_timeout */
	guint watchdog_interval;    /* seconds of server silence in IDLE before a liveness cycle;
				       0: the re-issue interval */
	gboolean use_notify;	    /* use NOTIFY when the server offers it */
	gboolean notify_subscribed; /* NOTIFY for subscribed folders only, else every personal
				       folder */
	guint poll_interval;	    /* seconds between NOOP checks without IDLE; 0: off */
	guint coalesce_ms;	    /* news within this is one "changed" per folder; 0: next idle */
} PrPushOptions;

/* The settings defaults: idle on, idle_timeout 1740, NOTIFY on, no polling, 100 ms. */
void pr_push_options_init(PrPushOptions *options);

/* @options may be NULL (the defaults); it is copied. */
PrPush *pr_push_new(PrImapClient *client, const PrPushOptions *options);
PrImapClient *pr_push_get_client(PrPush *self);

/* The re-issue and watchdog intervals in use, in seconds. */
guint pr_push_get_reissue_interval(PrPush *self);
guint pr_push_get_watchdog_interval(PrPush *self);
/* Whether the session uses IDLE (else polling) and NOTIFY; valid once start completed. */
gboolean pr_push_get_idling(PrPush *self);
gboolean pr_push_get_notify_active(PrPush *self);
/* DONE/IDLE cycles completed since start (re-issues and watchdog checks). */
guint pr_push_get_cycles(PrPush *self);

/*
 * EXAMINE INBOX, NOTIFY SET when offered and wanted, then IDLE; completes once IDLE is
 * accepted (or polling started). The client must be logged in and is not used by anybody
 * else while the push runs.
 * Errors: InvalidArgument (neither IDLE nor polling wanted), NotConnected, Failed (the
 * server has no IDLE and polling is off), Busy (started twice), the client's errors.
 */
void pr_push_start_async(PrPush *self,
			 GCancellable *cancellable,
			 GAsyncReadyCallback callback,
			 gpointer user_data);
gboolean pr_push_start_finish(PrPush *self, GAsyncResult *res, GError **error);

/* Leaves IDLE (or stops polling) until pr_push_resume_async(); completes when the
 * connection is out of IDLE. While paused the connection stays on INBOX: news found on it
 * is still reported, and news that came meanwhile is reported when IDLE is entered again.
 * Errors: NotConnected (not started, stopped or dead), the client's errors. */
void pr_push_pause_async(PrPush *self,
			 GCancellable *cancellable,
			 GAsyncReadyCallback callback,
			 gpointer user_data);
gboolean pr_push_pause_finish(PrPush *self, GAsyncResult *res, GError **error);
/* Enters IDLE again (or restarts polling); completes once IDLE is accepted. */
void pr_push_resume_async(PrPush *self,
			  GCancellable *cancellable,
			  GAsyncReadyCallback callback,
			  gpointer user_data);
gboolean pr_push_resume_finish(PrPush *self, GAsyncResult *res, GError **error);

/* DONE and stop for good (before LOGOUT); the client stays connected and selected.
 * Stopping a push that never started or is dead succeeds at once. Errors: the client's
 * errors when the connection ends during the DONE. */
void pr_push_stop_async(PrPush *self,
			GCancellable *cancellable,
			GAsyncReadyCallback callback,
			gpointer user_data);
gboolean pr_push_stop_finish(PrPush *self, GAsyncResult *res, GError **error);

G_END_DECLS
