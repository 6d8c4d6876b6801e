/*
 * Copyright 2026 The Postroom developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include "pr-push.h"

G_BEGIN_DECLS

/* Shared by pr-push.c (the type, its requests and the IDLE cycle) and pr-push-news.c
 * (untagged responses to "changed", NOTIFY SET). */

typedef enum {
	PR_PUSH_STATE_NEW,
	PR_PUSH_STATE_STARTING,	 /* EXAMINE in flight */
	PR_PUSH_STATE_SELECTED,	 /* out of IDLE, nothing in flight */
	PR_PUSH_STATE_NOTIFYING, /* NOTIFY SET in flight */
	PR_PUSH_STATE_ENTERING,	 /* IDLE sent, waiting for "+" */
	PR_PUSH_STATE_IDLING,
	PR_PUSH_STATE_LEAVING,	/* DONE sent, waiting for the tagged OK */
	PR_PUSH_STATE_CHECKING, /* NOOP in flight (polling) */
	PR_PUSH_STATE_STOPPED,
	PR_PUSH_STATE_DEAD,
} PrPushState;

typedef enum {
	PR_PUSH_WANT_ACTIVE,
	PR_PUSH_WANT_PAUSED,
	PR_PUSH_WANT_STOPPED,
} PrPushWant;

struct _PrPush {
	GObject parent_instance;

	PrImapClient *client;
	PrPushOptions options;
	guint reissue_interval;
	guint watchdog_interval;

	PrPushState state;
	PrPushWant want;
	gboolean started; /* start completed: "dead" may be emitted from now on */
	gboolean use_idle;
	gboolean notify_needed; /* NOTIFY SET before the next IDLE */
	gboolean notify_active;
	guint notify_variant; /* index into pr_push_notify_events */
	gboolean cycle_due;
	gboolean cycling; /* the DONE in flight is a re-issue or a liveness check */
	gboolean poll_due;
	gboolean exists_known;
	guint32 exists;
	guint cycles;
	gint64 last_activity; /* monotonic time of the last server byte while idling */

	gulong untagged_id;
	gulong closed_id;
	guint reissue_id;
	guint watchdog_id;
	guint poll_id;
	guint coalesce_id;
	GHashTable *pending; /* folder names with news not yet reported */
	gboolean pending_all;

	GTask *start_task;
	GSource *start_cancel_source;
	GQueue pause_tasks;
	GQueue resume_tasks;
	GQueue stop_tasks;
};

/* pr-push.c */
void pr_push_set_state(PrPush *self, PrPushState state);
/* Sends the next command for what is wanted; idempotent. */
void pr_push_advance(PrPush *self);
void pr_push_clear_source(guint *id);
void pr_push_command_failed(PrPush *self, const GError *error);
/* "changed" for @folder (NULL: anything may have changed). */
void pr_push_emit_changed(PrPush *self, const gchar *folder);

/* pr-push-news.c */
void pr_push_untagged_cb(PrImapClient *client, PrImapResponse *response, gpointer user_data);
/* Forgets news not yet reported: nothing is reported once the push ended. */
void pr_push_drop_news(PrPush *self);
/* NOTIFY SET with the next event set the server may accept; completes in SELECTED. */
void pr_push_send_notify(PrPush *self);

G_END_DECLS
