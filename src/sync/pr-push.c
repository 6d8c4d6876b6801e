/*
 * Copyright 2026 The Postroom developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#define G_LOG_DOMAIN "PrSync"

#include <glib/gi18n-lib.h>

#include "pr-error.h"
#include "pr-push-private.h"

/*
 * PrPush: one state machine over one dedicated connection.
 *
 * Why push stays in IDLE when it has news: the daemon syncs over its own main connection,
 * so this connection never has to leave IDLE to fetch anything (the seed left IDLE, synced
 * and re-entered IDLE on the same session, and lost whatever happened in between). It leaves
 * IDLE only to re-issue it, for a liveness check, to re-arm NOTIFY after an overflow, or when
 * the daemon asks (pause/resume/stop).
 *
 * Requests set what is wanted (active, paused, stopped); pr_push_advance() compares it with
 * where the connection is and sends the next command. Every step completes through the
 * client and calls pr_push_advance() again, so a request made while a command is in flight
 * is served when it ends. pr_push_advance() is idempotent.
 *
 * Liveness: the client's timeout covers every wait except an accepted IDLE, so a DONE or a
 * NOOP that gets no answer ends the connection with Timeout and the client emits "closed".
 * The re-issue timer runs from each IDLE acceptance; the watchdog counts from the last byte
 * the server sent while idling (Dovecot's "* OK Still here" keepalives renew it, as Delta
 * Chat does since #5093), so a session that goes silent is checked within its interval.
 *
 * What the server says unasked becomes news in pr-push-news.c, which also sends NOTIFY SET.
 */

/* RFC 2177: re-issue before the server's 30-minute inactivity logout. */
#define PR_PUSH_REISSUE_MARGIN 60
#define PR_PUSH_COALESCE_MS    100

G_DEFINE_TYPE(PrPush, pr_push, G_TYPE_OBJECT)

enum { SIGNAL_CHANGED, SIGNAL_DEAD, SIGNAL_LAST };
static guint signals[SIGNAL_LAST] = { 0 };

void
pr_push_options_init(PrPushOptions *options)
{
	g_return_if_fail(options != NULL);
	*options = (PrPushOptions){
		.idle = TRUE,
		.idle_timeout = PR_PUSH_IDLE_TIMEOUT_MAX,
		.use_notify = TRUE,
		.coalesce_ms = PR_PUSH_COALESCE_MS,
	};
}

static const gchar *
pr_push_state_to_string(PrPushState state)
{
	static const gchar *const names[] = {
		"new",	  "starting", "selected", "notifying", "entering",
		"idling", "leaving",  "checking", "stopped",   "dead",
	};
	return names[state];
}

void
pr_push_set_state(PrPush *self, PrPushState state)
{
	if (self->state == state)
		return;
	g_debug("push: %s -> %s",
		pr_push_state_to_string(self->state),
		pr_push_state_to_string(state));
	self->state = state;
}

void
pr_push_emit_changed(PrPush *self, const gchar *folder)
{
	g_signal_emit(self, signals[SIGNAL_CHANGED], 0, folder);
}

/* Tasks -------------------------------------------------------------------------------- */

static void
pr_push_return_all(GQueue *tasks, const GError *error)
{
	GTask *task;

	while ((task = g_queue_pop_head(tasks)) != NULL) {
		if (error != NULL)
			g_task_return_error(task, g_error_copy(error));
		else
			g_task_return_boolean(task, TRUE);
		g_object_unref(task);
	}
}

static void
pr_push_clear_start_cancel(PrPush *self)
{
	if (self->start_cancel_source != NULL) {
		g_source_destroy(self->start_cancel_source);
		g_clear_pointer(&self->start_cancel_source, g_source_unref);
	}
}

static void
pr_push_return_start(PrPush *self, const GError *error)
{
	g_autoptr(GTask) task = g_steal_pointer(&self->start_task);

	pr_push_clear_start_cancel(self);
	if (task == NULL)
		return;
	if (error != NULL) {
		g_task_return_error(task, g_error_copy(error));
		return;
	}
	self->started = TRUE;
	g_task_return_boolean(task, TRUE);
}

/* Timers ------------------------------------------------------------------------------- */

/* Milliseconds for g_timeout_add(), saturating. */
static guint
pr_push_ms(guint seconds)
{
	return (guint)MIN((guint64)seconds * 1000, (guint64)G_MAXUINT);
}

void
pr_push_clear_source(guint *id)
{
	if (*id != 0) {
		g_source_remove(*id);
		*id = 0;
	}
}

static void
pr_push_clear_timers(PrPush *self)
{
	pr_push_clear_source(&self->reissue_id);
	pr_push_clear_source(&self->watchdog_id);
	pr_push_clear_source(&self->poll_id);
}

static gboolean
pr_push_reissue_cb(gpointer user_data)
{
	PrPush *self = PR_PUSH(user_data);

	self->reissue_id = 0;
	g_debug("push: re-issuing IDLE after %u s", self->reissue_interval);
	self->cycle_due = TRUE;
	pr_push_advance(self);
	return G_SOURCE_REMOVE;
}

static gboolean
pr_push_watchdog_cb(gpointer user_data)
{
	PrPush *self = PR_PUSH(user_data);
	gint64 quiet = g_get_monotonic_time() - self->last_activity;
	gint64 interval = (gint64)self->watchdog_interval * G_USEC_PER_SEC;

	self->watchdog_id = 0;
	if (quiet < interval) {
		/* the server spoke meanwhile: wait for the rest of a silent interval */
		guint left = (guint)((interval - quiet) / 1000) + 1;
		self->watchdog_id = g_timeout_add(left, pr_push_watchdog_cb, self);
		return G_SOURCE_REMOVE;
	}
	g_debug("push: server silent for %u s, checking the connection", self->watchdog_interval);
	self->cycle_due = TRUE;
	pr_push_advance(self);
	return G_SOURCE_REMOVE;
}

static void
pr_push_arm_idle_timers(PrPush *self)
{
	pr_push_clear_timers(self);
	self->last_activity = g_get_monotonic_time();
	self->reissue_id =
		g_timeout_add(pr_push_ms(self->reissue_interval), pr_push_reissue_cb, self);
	/* a watchdog as long as the re-issue timer would never fire first */
	if (self->watchdog_interval < self->reissue_interval) {
		self->watchdog_id = g_timeout_add(
			pr_push_ms(self->watchdog_interval), pr_push_watchdog_cb, self);
	}
}

static gboolean
pr_push_poll_cb(gpointer user_data)
{
	PrPush *self = PR_PUSH(user_data);

	self->poll_id = 0;
	self->poll_due = TRUE;
	pr_push_advance(self);
	return G_SOURCE_REMOVE;
}

/* The end ------------------------------------------------------------------------------ */

static void
pr_push_disconnect_client(PrPush *self)
{
	if (self->untagged_id != 0) {
		g_signal_handler_disconnect(self->client, self->untagged_id);
		self->untagged_id = 0;
	}
	if (self->closed_id != 0) {
		g_signal_handler_disconnect(self->client, self->closed_id);
		self->closed_id = 0;
	}
}

/* The connection is gone (or must go: @close_client). Idempotent. */
static void
pr_push_fail(PrPush *self, const GError *error, gboolean close_client)
{
	g_autoptr(PrPush) keep = g_object_ref(self);
	gboolean emit = self->started && self->want != PR_PUSH_WANT_STOPPED;

	if (self->state == PR_PUSH_STATE_DEAD || self->state == PR_PUSH_STATE_STOPPED)
		return;
	g_debug("push: connection lost: %s", error->message);
	pr_push_set_state(self, PR_PUSH_STATE_DEAD);
	pr_push_clear_timers(self);
	pr_push_drop_news(self);
	pr_push_disconnect_client(self);
	if (close_client)
		pr_imap_client_close(self->client);
	pr_push_return_start(self, error);
	pr_push_return_all(&self->pause_tasks, error);
	pr_push_return_all(&self->resume_tasks, error);
	pr_push_return_all(&self->stop_tasks, error);
	if (emit)
		g_signal_emit(self, signals[SIGNAL_DEAD], 0, error);
}

static void
pr_push_closed_cb(PrImapClient *client, GError *error, gpointer user_data)
{
	PrPush *self = PR_PUSH(user_data);

	pr_push_fail(self, error, FALSE);
}

/* A command of ours failed: a refusal (NO/BAD) on a live connection is fatal too once
 * started, as the connection is in an unknown state; the client closes it. */
void
pr_push_command_failed(PrPush *self, const GError *error)
{
	gboolean alive =
		g_error_matches(error, PR_ERROR, PR_ERROR_SERVER_ERROR) &&
		pr_imap_client_get_state(self->client) != PR_IMAP_CLIENT_STATE_DISCONNECTED;

	pr_push_fail(self, error, alive && self->started);
}

static void
pr_push_finish_stopped(PrPush *self)
{
	g_autoptr(GError) error = NULL;

	pr_push_set_state(self, PR_PUSH_STATE_STOPPED);
	pr_push_clear_timers(self);
	pr_push_drop_news(self);
	pr_push_disconnect_client(self);
	error = g_error_new_literal(PR_ERROR, PR_ERROR_CANCELLED, _("Push was stopped"));
	pr_push_return_start(self, error);
	pr_push_return_all(&self->resume_tasks, error);
	pr_push_return_all(&self->pause_tasks, NULL);
	pr_push_return_all(&self->stop_tasks, NULL);
}

/* Steps -------------------------------------------------------------------------------- */

static void
pr_push_idle_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	g_autoptr(PrPush) self = PR_PUSH(user_data);
	g_autoptr(GError) error = NULL;

	if (!pr_imap_client_idle_finish(self->client, res, &error)) {
		if (self->state == PR_PUSH_STATE_ENTERING)
			pr_push_command_failed(self, error);
		return;
	}
	if (self->state != PR_PUSH_STATE_ENTERING)
		return;
	pr_push_set_state(self, PR_PUSH_STATE_IDLING);
	if (self->cycling) {
		self->cycling = FALSE;
		self->cycles++;
	}
	pr_push_arm_idle_timers(self);
	pr_push_return_start(self, NULL);
	pr_push_advance(self);
}

static void
pr_push_done_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	g_autoptr(PrPush) self = PR_PUSH(user_data);
	g_autoptr(GError) error = NULL;

	if (!pr_imap_client_idle_done_finish(self->client, res, &error)) {
		if (self->state == PR_PUSH_STATE_LEAVING)
			pr_push_command_failed(self, error);
		return;
	}
	if (self->state != PR_PUSH_STATE_LEAVING)
		return;
	pr_push_set_state(self, PR_PUSH_STATE_SELECTED);
	pr_push_advance(self);
}

static void
pr_push_noop_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	g_autoptr(PrPush) self = PR_PUSH(user_data);
	g_autoptr(PrImapResponse) response = NULL;
	g_autoptr(GError) error = NULL;

	response = pr_imap_client_run_finish(self->client, res, NULL, &error);
	if (self->state != PR_PUSH_STATE_CHECKING)
		return;
	if (response == NULL) {
		pr_push_command_failed(self, error);
		return;
	}
	pr_push_set_state(self, PR_PUSH_STATE_SELECTED);
	pr_push_advance(self);
}

static void
pr_push_examine_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	g_autoptr(PrPush) self = PR_PUSH(user_data);
	g_autoptr(PrImapResponse) response = NULL;
	g_autoptr(GError) error = NULL;

	response = pr_imap_client_run_finish(self->client, res, NULL, &error);
	if (self->state != PR_PUSH_STATE_STARTING)
		return;
	if (response == NULL) {
		pr_push_command_failed(self, error);
		return;
	}
	pr_push_set_state(self, PR_PUSH_STATE_SELECTED);
	pr_push_advance(self);
}

/* Polling is on and the timer armed, or IDLE accepted: start and resume are done. */
static void
pr_push_now_active(PrPush *self)
{
	pr_push_return_start(self, NULL);
	pr_push_return_all(&self->resume_tasks, NULL);
}

void
pr_push_advance(PrPush *self)
{
	g_autoptr(PrPush) keep = g_object_ref(self);

	switch (self->state) {
	case PR_PUSH_STATE_SELECTED:
		if (self->want == PR_PUSH_WANT_STOPPED) {
			pr_push_finish_stopped(self);
			return;
		}
		if (self->want == PR_PUSH_WANT_PAUSED) {
			self->cycling = FALSE;
			pr_push_clear_timers(self);
			pr_push_return_all(&self->pause_tasks, NULL);
			return;
		}
		/* a pause superseded by a resume still happened */
		pr_push_return_all(&self->pause_tasks, NULL);
		if (self->state != PR_PUSH_STATE_SELECTED || self->want != PR_PUSH_WANT_ACTIVE)
			return;
		if (self->notify_needed) {
			pr_push_send_notify(self);
			return;
		}
		if (self->use_idle) {
			pr_push_set_state(self, PR_PUSH_STATE_ENTERING);
			/* no cancellable: cancelling an accepted IDLE would close the connection */
			pr_imap_client_idle_async(
				self->client, NULL, pr_push_idle_cb, g_object_ref(self));
			return;
		}
		if (self->poll_due) {
			g_autoptr(PrImapCommand) command = pr_imap_command_new("NOOP");
			self->poll_due = FALSE;
			pr_push_set_state(self, PR_PUSH_STATE_CHECKING);
			pr_imap_client_run_async(
				self->client, command, NULL, pr_push_noop_cb, g_object_ref(self));
			return;
		}
		if (self->poll_id == 0) {
			self->poll_id = g_timeout_add(
				self->options.poll_interval * 1000, pr_push_poll_cb, self);
		}
		pr_push_now_active(self);
		return;
	case PR_PUSH_STATE_IDLING:
		if (self->want != PR_PUSH_WANT_ACTIVE || self->cycle_due || self->notify_needed) {
			self->cycling = self->cycle_due && self->want == PR_PUSH_WANT_ACTIVE;
			self->cycle_due = FALSE;
			pr_push_clear_timers(self);
			pr_push_set_state(self, PR_PUSH_STATE_LEAVING);
			/* the client's timeout runs from here: no answer means a dead line */
			pr_imap_client_idle_done_async(
				self->client, NULL, pr_push_done_cb, g_object_ref(self));
			return;
		}
		pr_push_return_all(&self->resume_tasks, NULL);
		return;
	case PR_PUSH_STATE_NEW:
	case PR_PUSH_STATE_STARTING:
	case PR_PUSH_STATE_NOTIFYING:
	case PR_PUSH_STATE_ENTERING:
	case PR_PUSH_STATE_LEAVING:
	case PR_PUSH_STATE_CHECKING:
	case PR_PUSH_STATE_STOPPED:
	case PR_PUSH_STATE_DEAD:
	default:
		/* a step is in flight (its callback advances again) or nothing is left to do */
		return;
	}
}

/* Public API --------------------------------------------------------------------------- */

static gboolean
pr_push_start_cancelled_cb(GCancellable *cancellable, gpointer user_data)
{
	g_autoptr(PrPush) self = g_object_ref(PR_PUSH(user_data));
	g_autoptr(GError) error = NULL;

	error = g_error_new_literal(PR_ERROR, PR_ERROR_CANCELLED, _("The operation was cancelled"));
	/* IMAP cannot take back a command once sent: the connection goes with it */
	pr_push_fail(self, error, TRUE);
	return G_SOURCE_REMOVE;
}

void
pr_push_start_async(PrPush *self,
		    GCancellable *cancellable,
		    GAsyncReadyCallback callback,
		    gpointer user_data)
{
	g_autoptr(GTask) task = NULL;
	g_autoptr(PrImapCommand) command = NULL;
	PrImapClientState client_state;

	g_return_if_fail(PR_IS_PUSH(self));
	g_return_if_fail(cancellable == NULL || G_IS_CANCELLABLE(cancellable));

	task = g_task_new(self, cancellable, callback, user_data);
	g_task_set_source_tag(task, pr_push_start_async);
	g_task_set_check_cancellable(task, FALSE);
	if (self->state != PR_PUSH_STATE_NEW) {
		g_task_return_new_error(
			task, PR_ERROR, PR_ERROR_BUSY, _("Push was already started"));
		return;
	}
	if (!self->options.idle && self->options.poll_interval == 0) {
		g_task_return_new_error(task,
					PR_ERROR,
					PR_ERROR_INVALID_ARGUMENT,
					_("Push needs IDLE or a poll interval"));
		return;
	}
	client_state = pr_imap_client_get_state(self->client);
	if (client_state != PR_IMAP_CLIENT_STATE_AUTHENTICATED &&
	    client_state != PR_IMAP_CLIENT_STATE_SELECTED) {
		g_task_return_new_error(task,
					PR_ERROR,
					PR_ERROR_NOT_CONNECTED,
					_("Push needs a logged-in connection"));
		return;
	}
	self->use_idle = self->options.idle && pr_imap_client_has_capability(self->client, "IDLE");
	if (!self->use_idle && self->options.poll_interval == 0) {
		g_task_return_new_error(task,
					PR_ERROR,
					PR_ERROR_FAILED,
					_("The server does not support IDLE and polling is off"));
		return;
	}
	if (g_cancellable_is_cancelled(cancellable)) {
		g_task_return_new_error(
			task, PR_ERROR, PR_ERROR_CANCELLED, _("The operation was cancelled"));
		return;
	}

	self->notify_needed =
		self->options.use_notify && pr_imap_client_has_capability(self->client, "NOTIFY");
	self->want = PR_PUSH_WANT_ACTIVE;
	self->start_task = g_steal_pointer(&task);
	if (cancellable != NULL) {
		self->start_cancel_source = g_cancellable_source_new(cancellable);
		g_source_set_callback(self->start_cancel_source,
				      G_SOURCE_FUNC(pr_push_start_cancelled_cb),
				      self,
				      NULL);
		g_source_attach(self->start_cancel_source, g_main_context_get_thread_default());
	}
	self->untagged_id =
		g_signal_connect(self->client, "untagged", G_CALLBACK(pr_push_untagged_cb), self);
	self->closed_id =
		g_signal_connect(self->client, "closed", G_CALLBACK(pr_push_closed_cb), self);

	/* read-only: push never changes the mailbox, not even \Recent */
	command = pr_imap_command_new("EXAMINE");
	pr_imap_command_add_atom(command, "INBOX");
	pr_push_set_state(self, PR_PUSH_STATE_STARTING);
	pr_imap_client_run_async(
		self->client, command, NULL, pr_push_examine_cb, g_object_ref(self));
}

gboolean
pr_push_start_finish(PrPush *self, GAsyncResult *res, GError **error)
{
	g_return_val_if_fail(g_task_is_valid(res, self), FALSE);
	return g_task_propagate_boolean(G_TASK(res), error);
}

/* Pause and resume need a push that started and is neither stopping nor dead. */
static gboolean
pr_push_check_running(PrPush *self, GTask *task)
{
	if (self->state == PR_PUSH_STATE_STARTING ||
	    (self->start_task != NULL && self->state != PR_PUSH_STATE_DEAD)) {
		g_task_return_new_error(task, PR_ERROR, PR_ERROR_BUSY, _("Push is starting"));
		return FALSE;
	}
	if (!self->started || self->state == PR_PUSH_STATE_DEAD ||
	    self->state == PR_PUSH_STATE_STOPPED || self->want == PR_PUSH_WANT_STOPPED) {
		g_task_return_new_error(
			task, PR_ERROR, PR_ERROR_NOT_CONNECTED, _("Push is not running"));
		return FALSE;
	}
	if (g_cancellable_is_cancelled(g_task_get_cancellable(task))) {
		g_task_return_new_error(
			task, PR_ERROR, PR_ERROR_CANCELLED, _("The operation was cancelled"));
		return FALSE;
	}
	return TRUE;
}

void
pr_push_pause_async(PrPush *self,
		    GCancellable *cancellable,
		    GAsyncReadyCallback callback,
		    gpointer user_data)
{
	g_autoptr(GTask) task = NULL;

	g_return_if_fail(PR_IS_PUSH(self));
	task = g_task_new(self, cancellable, callback, user_data);
	g_task_set_source_tag(task, pr_push_pause_async);
	g_task_set_check_cancellable(task, FALSE);
	if (!pr_push_check_running(self, task))
		return;
	self->want = PR_PUSH_WANT_PAUSED;
	g_queue_push_tail(&self->pause_tasks, g_steal_pointer(&task));
	pr_push_advance(self);
}

gboolean
pr_push_pause_finish(PrPush *self, GAsyncResult *res, GError **error)
{
	g_return_val_if_fail(g_task_is_valid(res, self), FALSE);
	return g_task_propagate_boolean(G_TASK(res), error);
}

void
pr_push_resume_async(PrPush *self,
		     GCancellable *cancellable,
		     GAsyncReadyCallback callback,
		     gpointer user_data)
{
	g_autoptr(GTask) task = NULL;

	g_return_if_fail(PR_IS_PUSH(self));
	task = g_task_new(self, cancellable, callback, user_data);
	g_task_set_source_tag(task, pr_push_resume_async);
	g_task_set_check_cancellable(task, FALSE);
	if (!pr_push_check_running(self, task))
		return;
	self->want = PR_PUSH_WANT_ACTIVE;
	g_queue_push_tail(&self->resume_tasks, g_steal_pointer(&task));
	pr_push_advance(self);
}

gboolean
pr_push_resume_finish(PrPush *self, GAsyncResult *res, GError **error)
{
	g_return_val_if_fail(g_task_is_valid(res, self), FALSE);
	return g_task_propagate_boolean(G_TASK(res), error);
}

void
pr_push_stop_async(PrPush *self,
		   GCancellable *cancellable,
		   GAsyncReadyCallback callback,
		   gpointer user_data)
{
	g_autoptr(GTask) task = NULL;

	g_return_if_fail(PR_IS_PUSH(self));
	task = g_task_new(self, cancellable, callback, user_data);
	g_task_set_source_tag(task, pr_push_stop_async);
	g_task_set_check_cancellable(task, FALSE);
	if (g_cancellable_is_cancelled(cancellable)) {
		g_task_return_new_error(
			task, PR_ERROR, PR_ERROR_CANCELLED, _("The operation was cancelled"));
		return;
	}
	if (self->state == PR_PUSH_STATE_NEW) {
		pr_push_set_state(self, PR_PUSH_STATE_STOPPED);
		g_task_return_boolean(task, TRUE);
		return;
	}
	if (self->state == PR_PUSH_STATE_STOPPED || self->state == PR_PUSH_STATE_DEAD) {
		g_task_return_boolean(task, TRUE);
		return;
	}
	self->want = PR_PUSH_WANT_STOPPED;
	g_queue_push_tail(&self->stop_tasks, g_steal_pointer(&task));
	pr_push_advance(self);
}

gboolean
pr_push_stop_finish(PrPush *self, GAsyncResult *res, GError **error)
{
	g_return_val_if_fail(g_task_is_valid(res, self), FALSE);
	return g_task_propagate_boolean(G_TASK(res), error);
}

PrImapClient *
pr_push_get_client(PrPush *self)
{
	g_return_val_if_fail(PR_IS_PUSH(self), NULL);
	return self->client;
}

guint
pr_push_get_reissue_interval(PrPush *self)
{
	g_return_val_if_fail(PR_IS_PUSH(self), 0);
	return self->reissue_interval;
}

guint
pr_push_get_watchdog_interval(PrPush *self)
{
	g_return_val_if_fail(PR_IS_PUSH(self), 0);
	return self->watchdog_interval;
}

gboolean
pr_push_get_idling(PrPush *self)
{
	g_return_val_if_fail(PR_IS_PUSH(self), FALSE);
	return self->use_idle;
}

gboolean
pr_push_get_notify_active(PrPush *self)
{
	g_return_val_if_fail(PR_IS_PUSH(self), FALSE);
	return self->notify_active;
}

guint
pr_push_get_cycles(PrPush *self)
{
	g_return_val_if_fail(PR_IS_PUSH(self), 0);
	return self->cycles;
}

/* GObject ------------------------------------------------------------------------------ */

static void
pr_push_dispose(GObject *object)
{
	PrPush *self = PR_PUSH(object);

	/* every step in flight holds a reference: nothing is pending here but timers */
	pr_push_clear_timers(self);
	pr_push_clear_source(&self->coalesce_id);
	pr_push_clear_start_cancel(self);
	if (self->client != NULL)
		pr_push_disconnect_client(self);
	g_clear_object(&self->client);
	G_OBJECT_CLASS(pr_push_parent_class)->dispose(object);
}

static void
pr_push_finalize(GObject *object)
{
	PrPush *self = PR_PUSH(object);

	g_hash_table_unref(self->pending);
	G_OBJECT_CLASS(pr_push_parent_class)->finalize(object);
}

static void
pr_push_class_init(PrPushClass *klass)
{
	GObjectClass *object_class = G_OBJECT_CLASS(klass);

	object_class->dispose = pr_push_dispose;
	object_class->finalize = pr_push_finalize;

	/* News in a folder (NULL: in any folder, the server dropped notifications). */
	signals[SIGNAL_CHANGED] = g_signal_new("changed",
					       G_TYPE_FROM_CLASS(klass),
					       G_SIGNAL_RUN_LAST,
					       0,
					       NULL,
					       NULL,
					       NULL,
					       G_TYPE_NONE,
					       1,
					       G_TYPE_STRING);
	/* The connection ended or was found dead; the daemon reconnects. */
	signals[SIGNAL_DEAD] = g_signal_new("dead",
					    G_TYPE_FROM_CLASS(klass),
					    G_SIGNAL_RUN_LAST,
					    0,
					    NULL,
					    NULL,
					    NULL,
					    G_TYPE_NONE,
					    1,
					    G_TYPE_ERROR);
}

static void
pr_push_init(PrPush *self)
{
	self->pending = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	g_queue_init(&self->pause_tasks);
	g_queue_init(&self->resume_tasks);
	g_queue_init(&self->stop_tasks);
}

/* min(idle_timeout, 29 min) less a margin: a minute, or a tenth of short intervals. */
static guint
pr_push_compute_reissue(const PrPushOptions *options)
{
	guint timeout =
		options->idle_timeout != 0 ? options->idle_timeout : PR_PUSH_IDLE_TIMEOUT_MAX;
	guint margin;

	/* RFC 2177: never longer than 29 minutes, whatever is asked */
	if (options->reissue_interval != 0)
		return MIN(options->reissue_interval, PR_PUSH_IDLE_TIMEOUT_MAX);
	timeout = MIN(timeout, PR_PUSH_IDLE_TIMEOUT_MAX);
	margin = timeout >= 10 * PR_PUSH_REISSUE_MARGIN ? PR_PUSH_REISSUE_MARGIN : timeout / 10;
	return MAX(timeout - margin, 1);
}

PrPush *
pr_push_new(PrImapClient *client, const PrPushOptions *options)
{
	PrPush *self;

	g_return_val_if_fail(PR_IS_IMAP_CLIENT(client), NULL);
	self = g_object_new(PR_TYPE_PUSH, NULL);
	self->client = g_object_ref(client);
	if (options != NULL)
		self->options = *options;
	else
		pr_push_options_init(&self->options);
	self->reissue_interval = pr_push_compute_reissue(&self->options);
	self->watchdog_interval = self->options.watchdog_interval != 0
					  ? self->options.watchdog_interval
					  : self->reissue_interval;
	return self;
}
