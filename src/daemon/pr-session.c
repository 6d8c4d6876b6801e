/*
 * Copyright 2026 The Postroom developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#define G_LOG_DOMAIN "PrDaemon"

#include <glib/gi18n.h>

#include "pr-connector.h"
#include "pr-error.h"
#include "pr-job-queue.h"
#include "pr-online.h"
#include "pr-session-private.h"
#include "pr-settings.h"
#include "pr-sync.h"
#include "pr-variant.h"

G_DEFINE_TYPE(PrSession, pr_session, G_TYPE_OBJECT)

static void pr_session_connected(PrSession *self, PrJob *job);

/* What the service object shows ----------------------------------------------------------- */

static void
pr_session_set_state(PrSession *self, const gchar *state)
{
	if (g_strcmp0(pr_dbus_imap4_service_get_state(self->iface), state) == 0)
		return;
	pr_dbus_imap4_service_set_state(self->iface, state);
	/* every state is announced, even one that lasts less than a main-loop pass */
	g_dbus_interface_skeleton_flush(G_DBUS_INTERFACE_SKELETON(self->iface));
}

static void
pr_session_update_busy(PrSession *self)
{
	gboolean busy = pr_job_queue_get_busy(self->queue) || self->stay_online != NULL;
	gboolean background = pr_job_queue_get_background(self->queue) != NULL;

	if (busy == pr_dbus_imap4_service_get_busy(self->iface) &&
	    background == pr_dbus_imap4_service_get_background_sync(self->iface))
		return;
	pr_dbus_imap4_service_set_busy(self->iface, busy);
	pr_dbus_imap4_service_set_background_sync(self->iface, background);
	/* one background sync can end and the next start in the same main-loop pass:
	 * announce each value, as for State */
	g_dbus_interface_skeleton_flush(G_DBUS_INTERFACE_SKELETON(self->iface));
}

void
pr_session_set_last_error(PrSession *self, const GError *error)
{
	g_autoptr(GError) copy = g_error_copy(error);

	pr_error_convert(&copy);
	pr_dbus_imap4_service_set_last_error(
		self->iface,
		g_variant_new("(ss)", pr_error_to_dbus_name(copy->code), copy->message));
}

static void
pr_session_folders_changed_cb(PrSync *sync, gpointer user_data)
{
	PrSession *self = PR_SESSION(user_data);
	pr_dbus_imap4_service_emit_folders_changed(self->iface);
}

void
pr_session_messages_changed_cb(PrSync *sync,
			       const gchar *folder,
			       GArray *added,
			       GArray *changed,
			       GArray *removed,
			       gpointer user_data)
{
	PrSession *self = PR_SESSION(user_data);
	pr_dbus_imap4_service_emit_messages_changed(self->iface,
						    folder,
						    pr_variant_ids(added),
						    pr_variant_ids(changed),
						    pr_variant_ids(removed));
}

static void
pr_session_new_mail_cb(PrSync *sync, const gchar *folder, GArray *ids, gpointer user_data)
{
	PrSession *self = PR_SESSION(user_data);
	pr_dbus_imap4_service_emit_new_mail(self->iface, folder, pr_variant_ids(ids));
}

static void
pr_session_alert_cb(PrConnector *connector, const gchar *text, gpointer user_data)
{
	PrSession *self = PR_SESSION(user_data);
	pr_dbus_imap4_service_emit_alert(self->iface, text);
}

static void
pr_session_stage_cb(PrConnector *connector, const gchar *stage, gpointer user_data)
{
	PrSession *self = PR_SESSION(user_data);

	pr_session_set_state(self, stage);
	if (self->connecting != NULL)
		pr_progress_set_stage(pr_job_get_progress(self->connecting), stage);
}

/* The connection ----------------------------------------------------------------------------- */

PrSync *
pr_session_new_sync(PrSession *self, PrImapClient *client)
{
	g_autoptr(PrAccountConfig) config = pr_account_config_new_from_settings(self->settings);
	PrSyncOptions options;

	memset(&options, 0, sizeof(options));
	pr_sync_folder_strategy_from_string(config->folder_sync, &options.folder_sync);
	pr_sync_subscription_strategy_from_string(config->subscription_update,
						  &options.subscription_update);
	options.inbox_sync_limit = config->inbox_sync_limit;
	options.mailbox_sync_limit = config->mailbox_sync_limit;
	options.sync_search = config->sync_search;
	options.folder_path = config->folder_path;
	options.update_seen_flags = config->update_seen_flags;
	return pr_sync_new(client, self->store, &options);
}

/* The sync engine of the main connection, with the settings as they are now. */
static void
pr_session_make_sync(PrSession *self)
{
	if (self->sync != NULL)
		g_signal_handlers_disconnect_by_data(self->sync, self);
	g_clear_object(&self->sync);
	self->sync = pr_session_new_sync(self, self->client);
	self->sync_dirty = FALSE;
	g_signal_connect(
		self->sync, "folders-changed", G_CALLBACK(pr_session_folders_changed_cb), self);
	g_signal_connect(
		self->sync, "messages-changed", G_CALLBACK(pr_session_messages_changed_cb), self);
	g_signal_connect(self->sync, "new-mail", G_CALLBACK(pr_session_new_mail_cb), self);
}

static void
pr_session_forget_connection(PrSession *self)
{
	pr_online_disconnected(self->online);
	pr_session_stop_reader(self);
	if (self->client != NULL) {
		g_signal_handlers_disconnect_by_data(self->client, self);
		pr_imap_client_close(self->client);
	}
	if (self->sync != NULL)
		g_signal_handlers_disconnect_by_data(self->sync, self);
	g_clear_object(&self->sync);
	g_clear_object(&self->client);
	pr_job_queue_set_readers_allowed(self->queue, FALSE);
	pr_dbus_imap4_service_set_connected(self->iface, FALSE);
	pr_session_set_state(self, "disconnected");
}

/* ConnectAndSync("disconnect") lives until the account goes offline for good. */
static void
pr_session_end_stay_online(PrSession *self, const GError *error)
{
	g_autoptr(PrOperation) stay = g_steal_pointer(&self->stay_online);

	if (stay != NULL)
		pr_operation_complete(stay, error);
}

static void
pr_session_go_offline(PrSession *self, const GError *error)
{
	pr_online_go_offline(self->online);
	pr_session_end_stay_online(self, error);
}

static void
pr_session_schedule_reconnect(PrSession *self)
{
	pr_online_schedule_reconnect(self->online);
	pr_session_set_state(self, "connecting");
}

/* The connection ended without being asked to. */
static void
pr_session_client_closed_cb(PrImapClient *client, GError *error, gpointer user_data)
{
	PrSession *self = PR_SESSION(user_data);

	g_debug("%s: connection closed: %s", self->id, error != NULL ? error->message : "");
	if (error != NULL && !g_error_matches(error, PR_ERROR, PR_ERROR_CANCELLED))
		pr_session_set_last_error(self, error);
	pr_session_forget_connection(self);
	if (pr_online_get_wanted(self->online) && !self->removed) {
		pr_session_schedule_reconnect(self);
		return;
	}
	pr_session_end_stay_online(self, NULL);
}

/* Ending jobs ------------------------------------------------------------------------------- */

void
pr_session_finish(PrSession *self, PrJob *job, GError *error)
{
	pr_job_queue_finish(self->queue, job, error);
}

/* Runs before the operation of @job completes. */
static void
pr_session_job_finished_cb(PrJobQueue *queue, PrJob *job, GError *error, gpointer user_data)
{
	PrSession *self = PR_SESSION(user_data);

	if (error != NULL && !g_error_matches(error, PR_ERROR, PR_ERROR_CANCELLED))
		pr_session_set_last_error(self, error);
	if (self->client != NULL) {
		pr_session_set_state(self, "connected");
	} else if (job->kind == PR_JOB_CONNECT && job->connect.reconnect && error != NULL) {
		/* a rejected login or certificate will not get better by retrying */
		if (g_error_matches(error, PR_ERROR, PR_ERROR_LOGIN_FAILED) ||
		    g_error_matches(error, PR_ERROR, PR_ERROR_NO_PASSWORD) ||
		    g_error_matches(error, PR_ERROR, PR_ERROR_CERTIFICATE_UNTRUSTED) ||
		    g_error_matches(error, PR_ERROR, PR_ERROR_SECRET_SERVICE_UNAVAILABLE) ||
		    g_error_matches(error, PR_ERROR, PR_ERROR_CANCELLED) ||
		    !pr_online_get_wanted(self->online)) {
			pr_session_go_offline(self, error);
			pr_session_set_state(self, "disconnected");
		} else {
			pr_session_schedule_reconnect(self);
		}
	}
}

static void
pr_session_queue_changed_cb(PrJobQueue *queue, gpointer user_data)
{
	pr_session_update_busy(PR_SESSION(user_data));
}

static void
pr_session_queue_idle_cb(PrJobQueue *queue, gpointer user_data)
{
	pr_online_quiet(PR_SESSION(user_data)->online);
}

GError *
pr_session_not_connected_error(void)
{
	return g_error_new_literal(PR_ERROR, PR_ERROR_NOT_CONNECTED, _("Not connected"));
}

/* Connect ------------------------------------------------------------------------------------ */

static void
pr_session_opened_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	g_autoptr(JobCall) call = user_data;
	PrSession *self = call->self;
	g_autoptr(PrImapClient) client = NULL;
	g_autoptr(GError) error = NULL;

	self->connecting = NULL;
	client = pr_connector_open_finish(PR_CONNECTOR(source), res, &error);
	if (client != NULL && self->removed) {
		pr_imap_client_close(client);
		g_clear_object(&client);
		error = g_error_new_literal(
			PR_ERROR, PR_ERROR_CANCELLED, _("The account was removed"));
	}
	if (client == NULL) {
		pr_session_set_state(self, "disconnected");
		pr_session_finish(self, call->job, g_steal_pointer(&error));
		return;
	}
	self->client = g_steal_pointer(&client);
	g_signal_connect(self->client, "closed", G_CALLBACK(pr_session_client_closed_cb), self);
	pr_session_make_sync(self);
	pr_job_queue_set_readers_allowed(self->queue, TRUE);
	pr_dbus_imap4_service_set_server_capabilities(
		self->iface, pr_imap_client_get_capabilities(self->client));
	pr_dbus_imap4_service_set_connected(self->iface, TRUE);
	pr_dbus_imap4_service_set_last_error(self->iface, g_variant_new("(ss)", "", ""));
	pr_session_set_state(self, "connected");
	g_info("%s: connected", self->id);
	pr_session_connected(self, call->job);
}

static void
pr_session_connect(PrSession *self, PrJob *job)
{
	pr_progress_set_stage(pr_job_get_progress(job), "connecting");
	if (self->client != NULL) {
		pr_session_connected(self, job);
		return;
	}
	self->connecting = job;
	pr_connector_open_async(self->connector,
				PR_CONNECTOR_FLAG_MAIN,
				pr_job_get_cancellable(job),
				pr_session_opened_cb,
				job_call_new(self, job));
}

/* Sync --------------------------------------------------------------------------------------- */

static void
pr_session_sync_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	g_autoptr(JobCall) call = user_data;
	PrSession *self = call->self;
	PrSyncScope scope = call->job->sync.scope; /* the job is gone once finished */
	g_autoptr(GError) error = NULL;

	if (!pr_sync_run_finish(PR_SYNC(source), res, &error)) {
		pr_session_finish(self, call->job, g_steal_pointer(&error));
		pr_online_sync_done(self->online, scope);
		return;
	}
	if (scope == PR_SYNC_SCOPE_FULL)
		pr_dbus_imap4_service_set_last_sync(self->iface,
						    g_get_real_time() / G_USEC_PER_SEC);
	pr_session_finish(self, call->job, NULL);
	pr_online_sync_done(self->online, scope);
}

static void
pr_session_sync(PrSession *self, PrJob *job)
{
	if (self->sync == NULL) {
		pr_session_finish(self, job, pr_session_not_connected_error());
		return;
	}
	if (self->sync_dirty)
		pr_session_make_sync(self);
	pr_session_set_state(self, "syncing");
	pr_sync_run_async(self->sync,
			  job->sync.scope,
			  (const gchar *const *)job->sync.folders,
			  pr_job_get_progress(job),
			  pr_job_get_cancellable(job),
			  pr_session_sync_cb,
			  job_call_new(self, job));
}

/* A job that turns into a sync of @scope once connected. */
static void
pr_session_job_becomes_sync(PrJob *job, PrSyncScope scope)
{
	job->kind = PR_JOB_SYNC;
	job->sync.scope = scope;
	job->sync.folders = NULL;
}

static PrJob *
pr_session_new_background_sync(PrSession *self, PrSyncScope scope)
{
	PrJob *job = pr_session_new_job(self, PR_JOB_SYNC, "synchronise");

	job->sync.scope = scope;
	job->background = TRUE;
	return job;
}

/* The periodic sync: new inbox mail, unless the account is busy anyway. */
static void
pr_session_resync_cb(PrOnline *online, gpointer user_data)
{
	PrSession *self = PR_SESSION(user_data);

	if (self->client == NULL || pr_job_queue_get_writer(self->queue) != NULL ||
	    pr_job_queue_get_background(self->queue) != NULL)
		return;
	pr_job_queue_push(self->queue,
			  pr_session_new_background_sync(self, PR_SYNC_SCOPE_INBOX_NEW));
	pr_job_queue_run_next(self->queue);
}

static void
pr_session_reconnect_cb(PrOnline *online, gpointer user_data)
{
	PrSession *self = PR_SESSION(user_data);
	PrJob *job;

	if (self->client != NULL)
		return;
	job = pr_session_new_job(self, PR_JOB_CONNECT, "connect");
	job->connect.reconnect = TRUE;
	job->background = TRUE;
	pr_job_queue_push_front(self->queue, job);
	pr_job_queue_run_next(self->queue);
}

/* News on the server: sync that folder in the background. A sync of the same folder
 * already waiting in the queue will see this news too. */
static void
pr_session_folder_changed_cb(PrOnline *online, const gchar *folder, gpointer user_data)
{
	PrSession *self = PR_SESSION(user_data);
	PrJob *job;

	if (self->client == NULL)
		return;
	for (const GList *l = pr_job_queue_peek_queued(self->queue); l != NULL; l = l->next) {
		PrJob *queued = l->data;
		if (!queued->background || queued->kind != PR_JOB_SYNC)
			continue;
		if (queued->sync.scope == PR_SYNC_SCOPE_FULL)
			return;
		if (folder != NULL && queued->sync.scope == PR_SYNC_SCOPE_FOLDERS &&
		    queued->sync.folders != NULL &&
		    g_strv_contains((const gchar *const *)queued->sync.folders, folder))
			return;
	}
	if (folder == NULL) {
		/* the server lost track (NOTIFICATIONOVERFLOW): anything may have changed */
		job = pr_session_new_background_sync(self, PR_SYNC_SCOPE_FULL);
	} else {
		const gchar *folders[] = { folder, NULL };
		job = pr_session_new_background_sync(self, PR_SYNC_SCOPE_FOLDERS);
		job->sync.folders = g_strdupv((gchar **)folders);
	}
	pr_job_queue_push(self->queue, job);
	pr_job_queue_run_next(self->queue);
}

/* Staying connected until disconnected ------------------------------------------------------- */

static gboolean
pr_session_stay_online_cancel_idle_cb(gpointer user_data)
{
	PrSession *self = PR_SESSION(user_data);
	g_autoptr(PrOperation) stay = g_steal_pointer(&self->stay_online);
	g_autoptr(GError) error = NULL;

	if (stay == NULL)
		return G_SOURCE_REMOVE;
	/* cancelling "stay online until disconnected" is asking to disconnect */
	error = g_error_new_literal(PR_ERROR, PR_ERROR_CANCELLED, _("The operation was cancelled"));
	pr_operation_complete(stay, error);
	pr_job_queue_cancel_background(self->queue);
	pr_job_queue_push(self->queue, pr_session_new_job(self, PR_JOB_DISCONNECT, "disconnect"));
	pr_session_update_busy(self);
	pr_job_queue_run_next(self->queue);
	return G_SOURCE_REMOVE;
}

static void
pr_session_stay_online_cancelled_cb(GCancellable *cancellable, gpointer user_data)
{
	/* runs inside Cancel(): act from the main loop */
	g_idle_add_full(G_PRIORITY_DEFAULT,
			pr_session_stay_online_cancel_idle_cb,
			g_object_ref(user_data),
			g_object_unref);
}

/* ConnectAndSync("disconnect"): its operation stays until the connection ends; the full
 * sync runs first as a background job of its own. */
static void
pr_session_stay_until_disconnected(PrSession *self, PrJob *job)
{
	self->stay_online = g_object_ref(job->operation);
	g_cancellable_connect(pr_job_get_cancellable(job),
			      G_CALLBACK(pr_session_stay_online_cancelled_cb),
			      g_object_ref(self),
			      g_object_unref);
	pr_progress_set_stage(pr_job_get_progress(job), "idle");
	g_clear_object(&job->operation);
	job->operation = pr_daemon_new_operation(self->daemon, "synchronise", self->path);
	pr_session_job_becomes_sync(job, PR_SYNC_SCOPE_FULL);
	pr_job_queue_move_to_background(self->queue, job);
	pr_session_update_busy(self);
	pr_operation_start(job->operation);
	pr_session_sync(self, job);
}

static void
pr_session_connected(PrSession *self, PrJob *job)
{
	pr_online_connected(self->online, self->client);
	if (job->kind == PR_JOB_CONNECT && job->connect.reconnect) {
		/* back online: catch up on the inbox, then carry on as before */
		pr_job_queue_push_front(
			self->queue, pr_session_new_background_sync(self, PR_SYNC_SCOPE_INBOX_NEW));
		pr_online_stay(self->online, FALSE);
		pr_session_finish(self, job, NULL);
		return;
	}
	switch (job->kind) {
	case PR_JOB_GET_MAIL:
		/* GetMail connected first when asked to */
		if (self->sync == NULL) {
			pr_session_finish(self, job, pr_session_not_connected_error());
			return;
		}
		pr_session_fetch_on(self, self->sync, job);
		return;
	case PR_JOB_CONNECT:
		break;
	case PR_JOB_SYNC:
	case PR_JOB_DISCONNECT:
	case PR_JOB_FOLDER:
	case PR_JOB_FLAGS:
	default:
		g_assert_not_reached();
	}
	switch (job->connect.complete_after) {
	case PR_COMPLETE_AFTER_NONE:
		pr_session_finish(self, job, NULL);
		return;
	case PR_COMPLETE_AFTER_CONNECT:
		pr_online_stay(self->online, TRUE);
		pr_job_queue_push_front(self->queue,
					pr_session_new_background_sync(self, PR_SYNC_SCOPE_FULL));
		pr_session_finish(self, job, NULL);
		return;
	case PR_COMPLETE_AFTER_SYNC:
		pr_online_stay(self->online, TRUE);
		pr_session_job_becomes_sync(job, PR_SYNC_SCOPE_FULL);
		pr_session_sync(self, job);
		return;
	case PR_COMPLETE_AFTER_DISCONNECT:
		pr_online_stay(self->online, TRUE);
		pr_session_stay_until_disconnected(self, job);
		return;
	default:
		g_assert_not_reached();
	}
}

/* Disconnect --------------------------------------------------------------------------------- */

static void
pr_session_logout_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	g_autoptr(JobCall) call = user_data;
	PrSession *self = call->self;

	pr_imap_client_logout_finish(PR_IMAP_CLIENT(source), res, NULL);
	pr_session_client_closed_cb(PR_IMAP_CLIENT(source), NULL, self);
	pr_session_finish(self, call->job, NULL);
}

static void
pr_session_logout(PrSession *self, PrJob *job)
{
	pr_session_set_state(self, "disconnecting");
	g_signal_handlers_disconnect_by_data(self->client, self);
	pr_imap_client_logout_async(
		self->client, NULL, pr_session_logout_cb, job_call_new(self, job));
}

static void
pr_session_expunged_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	g_autoptr(JobCall) call = user_data;
	PrSession *self = call->self;
	g_autoptr(GError) error = NULL;

	if (!pr_sync_expunge_deleted_finish(PR_SYNC(source), res, &error)) {
		/* the connection is gone: nothing more to log out of */
		pr_session_finish(self, call->job, g_steal_pointer(&error));
		return;
	}
	if (self->client == NULL) {
		pr_session_finish(self, call->job, NULL);
		return;
	}
	pr_session_logout(self, call->job);
}

void
pr_session_disconnect(PrSession *self, PrJob *job)
{
	g_autoptr(PrAccountConfig) config = NULL;

	/* once begun, a disconnect cannot be taken back */
	pr_operation_set_cancelable(job->operation, FALSE);
	pr_progress_set_stage(pr_job_get_progress(job), "disconnecting");
	pr_session_go_offline(self, NULL);
	if (self->client == NULL) {
		pr_session_set_state(self, "disconnected");
		pr_session_finish(self, job, NULL);
		return;
	}
	pr_job_queue_cancel_background(self->queue);
	config = pr_account_config_new_from_settings(self->settings);
	if (config->delete_on_disconnect) {
		pr_session_set_state(self, "disconnecting");
		pr_sync_expunge_deleted_async(self->sync,
					      config->use_expunge,
					      NULL,
					      pr_session_expunged_cb,
					      job_call_new(self, job));
		return;
	}
	pr_session_logout(self, job);
}

/* Running jobs ------------------------------------------------------------------------------- */

static void
pr_session_run_cb(PrJob *job, PrJobLane lane, gpointer user_data)
{
	PrSession *self = PR_SESSION(user_data);

	if (lane == PR_JOB_LANE_READER) {
		pr_session_read(self, job);
		return;
	}
	switch (job->kind) {
	case PR_JOB_CONNECT:
	case PR_JOB_GET_MAIL:
		pr_session_connect(self, job);
		return;
	case PR_JOB_SYNC:
		pr_session_sync(self, job);
		return;
	case PR_JOB_DISCONNECT:
		pr_session_disconnect(self, job);
		return;
	case PR_JOB_FOLDER:
		pr_session_change_folder(self, job);
		return;
	case PR_JOB_FLAGS:
		pr_session_set_flags(self, job);
		return;
	default:
		g_assert_not_reached();
	}
}

PrJob *
pr_session_new_job(PrSession *self, PrJobKind kind, const gchar *operation_kind)
{
	return pr_job_new(kind, pr_daemon_new_operation(self->daemon, operation_kind, self->path));
}

void
pr_session_enqueue(PrSession *self, PrJob *job)
{
	pr_job_queue_push(self->queue, job);
	pr_job_queue_run_next(self->queue);
}

gboolean
pr_session_is_connected(PrSession *self)
{
	return self->client != NULL;
}

PrOperation *
pr_session_get_background_operation(PrSession *self)
{
	PrJob *background = pr_job_queue_get_background(self->queue);

	return background != NULL ? background->operation : NULL;
}

void
pr_session_cancel_background(PrSession *self)
{
	pr_job_queue_cancel_background(self->queue);
}

void
pr_session_settings_changed(PrSession *self, const gchar *key)
{
	/* what synchronises how applies from the next sync, without a reconnect */
	if (!pr_settings_key_needs_reconnect(key))
		self->sync_dirty = TRUE;
}

void
pr_session_abort(PrSession *self)
{
	g_autoptr(GError) error =
		g_error_new_literal(PR_ERROR, PR_ERROR_CANCELLED, _("The account was removed"));

	self->removed = TRUE;
	pr_job_queue_abort(self->queue, error);
	pr_session_go_offline(self, NULL);
	pr_session_forget_connection(self);
}

void
pr_session_shutdown(PrSession *self)
{
	pr_online_go_offline(self->online);
	if (pr_job_queue_get_writer(self->queue) != NULL)
		g_cancellable_cancel(pr_job_get_cancellable(pr_job_queue_get_writer(self->queue)));
	pr_job_queue_cancel_background(self->queue);
	pr_session_forget_connection(self);
}

/* Construction ------------------------------------------------------------------------------- */

static void
pr_session_dispose(GObject *object)
{
	PrSession *self = PR_SESSION(object);

	if (self->client != NULL)
		g_signal_handlers_disconnect_by_data(self->client, self);
	if (self->online != NULL) {
		g_signal_handlers_disconnect_by_data(self->online, self);
		/* a push connection being opened holds the module: stop it now */
		pr_online_disconnected(self->online);
	}
	if (self->queue != NULL)
		g_signal_handlers_disconnect_by_data(self->queue, self);
	if (self->connector != NULL)
		g_signal_handlers_disconnect_by_data(self->connector, self);
	g_clear_object(&self->online);
	pr_session_stop_reader(self);
	G_OBJECT_CLASS(pr_session_parent_class)->dispose(object);
}

static void
pr_session_finalize(GObject *object)
{
	PrSession *self = PR_SESSION(object);

	g_clear_object(&self->stay_online);
	g_clear_object(&self->queue);
	g_clear_object(&self->sync);
	g_clear_object(&self->client);
	g_clear_object(&self->connector);
	g_clear_object(&self->store);
	g_clear_object(&self->settings);
	g_clear_object(&self->iface);
	g_free(self->id);
	g_free(self->path);
	G_OBJECT_CLASS(pr_session_parent_class)->finalize(object);
}

static void
pr_session_class_init(PrSessionClass *klass)
{
	GObjectClass *object_class = G_OBJECT_CLASS(klass);

	object_class->dispose = pr_session_dispose;
	object_class->finalize = pr_session_finalize;
}

static void
pr_session_init(PrSession *self)
{
}

PrSession *
pr_session_new(PrDaemon *daemon,
	       const gchar *id,
	       const gchar *path,
	       GSettings *settings,
	       PrStore *store,
	       PrDBusImap4Service *iface)
{
	PrSession *self = g_object_new(PR_TYPE_SESSION, NULL);

	self->daemon = daemon;
	self->id = g_strdup(id);
	self->path = g_strdup(path);
	self->settings = g_object_ref(settings);
	self->store = g_object_ref(store);
	self->iface = g_object_ref(iface);
	self->connector = pr_connector_new(id, settings);
	g_signal_connect(self->connector, "stage", G_CALLBACK(pr_session_stage_cb), self);
	g_signal_connect(self->connector, "alert", G_CALLBACK(pr_session_alert_cb), self);
	self->queue = pr_job_queue_new(pr_session_run_cb, self);
	g_signal_connect(self->queue, "finished", G_CALLBACK(pr_session_job_finished_cb), self);
	g_signal_connect(self->queue, "changed", G_CALLBACK(pr_session_queue_changed_cb), self);
	g_signal_connect(self->queue, "idle", G_CALLBACK(pr_session_queue_idle_cb), self);
	self->online = pr_online_new(id, settings, self->connector, store, self->queue);
	g_signal_connect(
		self->online, "folder-changed", G_CALLBACK(pr_session_folder_changed_cb), self);
	g_signal_connect(self->online, "resync", G_CALLBACK(pr_session_resync_cb), self);
	g_signal_connect(self->online, "reconnect", G_CALLBACK(pr_session_reconnect_cb), self);
	return self;
}
