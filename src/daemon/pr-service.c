/*
 * Copyright 2026 The Postroom developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#define G_LOG_DOMAIN "PrDaemon"

#include <gio/gunixfdlist.h>
#include <glib/gi18n.h>
#include <string.h>
#include <unistd.h>

#include "pr-daemon.h"
#include "pr-dbus-generated.h"
#include "pr-error.h"
#include "pr-imap-client.h"
#include "pr-imap-utf7.h"
#include "pr-secrets.h"
#include "pr-service.h"
#include "pr-settings.h"
#include "pr-store.h"
#include "pr-push.h"
#include "pr-sync.h"

/*
 * Requests that do network work become jobs: each job owns an exported operation, and
 * the jobs of one account run one at a time in the order they came (one writer per
 * account). Reads of the store answer at once, online or not.
 */

typedef struct _PrJob PrJob;
typedef void (*PrJobFunc)(PrService *self, PrJob *job);

typedef enum {
	PR_COMPLETE_AFTER_NONE,
	PR_COMPLETE_AFTER_CONNECT,
	PR_COMPLETE_AFTER_SYNC,
	PR_COMPLETE_AFTER_DISCONNECT,
} PrCompleteAfter;

struct _PrJob {
	PrOperation *operation;
	PrJobFunc run;
	PrJobFunc then; /* what a connecting job does once connected */
	PrSyncScope scope;
	gchar **folders;
	GArray *ids; /* guint64 */
	PrCompleteAfter complete_after;
	gboolean disconnect_after;
	gboolean background; /* no client waits for it: BackgroundSync */
	gboolean read_only;  /* may run beside a background sync, on the reader connection */
	gboolean reconnect;  /* re-establishing a dropped connection */
};

static void
pr_job_free(PrJob *job)
{
	g_clear_object(&job->operation);
	g_strfreev(job->folders);
	if (job->ids != NULL)
		g_array_unref(job->ids);
	g_free(job);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC(PrJob, pr_job_free)

/* The service and the job an async step belongs to. */
typedef struct {
	PrService *self; /* owned */
	PrJob *job;
} JobCall;

static JobCall *
job_call_new(PrService *self, PrJob *job)
{
	JobCall *call = g_new0(JobCall, 1);
	call->self = g_object_ref(self);
	call->job = job;
	return call;
}

static void
job_call_free(JobCall *call)
{
	g_object_unref(call->self);
	g_free(call);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC(JobCall, job_call_free)

struct _PrService {
	GObject parent_instance;
	PrDaemon *daemon; /* unowned: the daemon owns us */
	GDBusObjectManagerServer *manager;
	gchar *id;
	gchar *path;
	PrDBusObjectSkeleton *object;
	PrDBusImap4Service *iface;
	GSettings *settings;
	PrStore *store;
	PrImapClient *client; /* logged in, or NULL */
	PrSync *sync;
	GQueue jobs;
	PrJob *current;
	PrJob *background; /* a running background sync, not in the queue */
	PrJob *reading;	   /* read-only work running beside the background sync */
	PrImapClient *reader_client;
	PrSync *reader_sync;
	PrJob *stay_online; /* ConnectAndSync("disconnect"), alive until the connection ends */
	guint resync_id;
	PrImapClient *push_client; /* the connection that waits for news */
	PrPush *push;
	GCancellable *push_cancellable;
	guint push_retry_id;
	gboolean sync_dirty;	  /* sync settings changed: the next sync uses the new ones */
	gboolean online;	  /* the user wants the account connected: a drop reconnects */
	gboolean push_after_sync; /* push waits for the first full sync of the connection */
	gboolean push_pending;	  /* then for a moment without work (pr_service_push_when_quiet) */
	guint push_quiet_id;
	guint reconnect_id;
	guint reconnect_attempt;
	gboolean removed;
};

G_DEFINE_TYPE(PrService, pr_service, G_TYPE_OBJECT)

/* how long the account must have had no work before the push connection starts */
#define PR_SERVICE_PUSH_QUIET_MS 250

static void pr_service_run_next(PrService *self);
static void pr_service_job_connect(PrService *self, PrJob *job);

/* State ---------------------------------------------------------------------------------- */

static void
pr_service_set_state(PrService *self, const gchar *state)
{
	if (g_strcmp0(pr_dbus_imap4_service_get_state(self->iface), state) == 0)
		return;
	pr_dbus_imap4_service_set_state(self->iface, state);
	/* every state is announced, even one that lasts less than a main-loop pass */
	g_dbus_interface_skeleton_flush(G_DBUS_INTERFACE_SKELETON(self->iface));
}

static void
pr_service_update_busy(PrService *self)
{
	gboolean busy = self->current != NULL || self->background != NULL ||
			self->reading != NULL || self->stay_online != NULL;
	gboolean background = self->background != NULL;

	if (busy == pr_dbus_imap4_service_get_busy(self->iface) &&
	    background == pr_dbus_imap4_service_get_background_sync(self->iface))
		return;
	pr_dbus_imap4_service_set_busy(self->iface, busy);
	pr_dbus_imap4_service_set_background_sync(self->iface, background);
	/* one background sync can end and the next start in the same main-loop pass:
	 * announce each value, as for State */
	g_dbus_interface_skeleton_flush(G_DBUS_INTERFACE_SKELETON(self->iface));
}

static void
pr_service_set_last_error(PrService *self, const GError *error)
{
	g_autoptr(GError) copy = g_error_copy(error);

	pr_error_convert(&copy);
	pr_dbus_imap4_service_set_last_error(
		self->iface,
		g_variant_new("(ss)", pr_error_to_dbus_name(copy->code), copy->message));
}

static void pr_service_stop_push(PrService *self);

static void pr_service_stop_reader(PrService *self);

static void
pr_service_forget_connection(PrService *self)
{
	pr_service_stop_push(self);
	pr_service_stop_reader(self);
	if (self->client != NULL) {
		g_signal_handlers_disconnect_by_data(self->client, self);
		pr_imap_client_close(self->client);
	}
	g_clear_object(&self->sync);
	g_clear_object(&self->client);
	if (self->resync_id != 0) {
		g_source_remove(self->resync_id);
		self->resync_id = 0;
	}
	pr_dbus_imap4_service_set_connected(self->iface, FALSE);
	pr_service_set_state(self, "disconnected");
}

/* ConnectAndSync("disconnect") lives until the account goes offline for good. */
static void
pr_service_end_stay_online(PrService *self, const GError *error)
{
	g_autoptr(PrJob) stay = g_steal_pointer(&self->stay_online);

	if (stay != NULL)
		pr_operation_complete(stay->operation, error);
}

static void
pr_service_go_offline(PrService *self, const GError *error)
{
	self->online = FALSE;
	self->reconnect_attempt = 0;
	if (self->reconnect_id != 0) {
		g_source_remove(self->reconnect_id);
		self->reconnect_id = 0;
	}
	pr_service_end_stay_online(self, error);
}

static gboolean pr_service_reconnect_cb(gpointer user_data);

/* Exponential backoff (1 s doubling to 5 min) with ±20 % jitter, so that many clients
 * dropped by one server restart do not all come back in the same second. */
static void
pr_service_schedule_reconnect(PrService *self)
{
	guint base = MIN(300u, 1u << MIN(self->reconnect_attempt, 9u));
	guint delay_ms = (guint)(base * 1000 * g_random_double_range(0.8, 1.2));

	self->reconnect_attempt++;
	if (self->reconnect_id != 0)
		g_source_remove(self->reconnect_id);
	self->reconnect_id = g_timeout_add(delay_ms, pr_service_reconnect_cb, self);
	pr_service_set_state(self, "connecting");
	g_info("%s: reconnecting in %u ms (attempt %u)",
	       self->id,
	       delay_ms,
	       self->reconnect_attempt);
}

/* The connection ended without being asked to. */
static void
pr_service_client_closed_cb(PrImapClient *client, GError *error, gpointer user_data)
{
	PrService *self = PR_SERVICE(user_data);

	g_debug("%s: connection closed: %s", self->id, error != NULL ? error->message : "");
	if (error != NULL && !g_error_matches(error, PR_ERROR, PR_ERROR_CANCELLED))
		pr_service_set_last_error(self, error);
	pr_service_forget_connection(self);
	if (self->online && !self->removed) {
		pr_service_schedule_reconnect(self);
		return;
	}
	pr_service_end_stay_online(self, NULL);
}

/* Finishing jobs -------------------------------------------------------------------------- */

static void
pr_service_job_done(PrService *self, PrJob *job, GError *error)
{
	g_autoptr(GError) owned = error;
	g_autoptr(PrJob) finished = NULL;

	if (owned != NULL) {
		pr_error_convert(&owned);
		if (!g_error_matches(owned, PR_ERROR, PR_ERROR_CANCELLED))
			pr_service_set_last_error(self, owned);
	}
	if (job == self->reading) {
		finished = g_steal_pointer(&self->reading);
	} else if (job == self->background) {
		finished = g_steal_pointer(&self->background);
	} else if (job == self->current) {
		finished = g_steal_pointer(&self->current);
	} else {
		finished = job;
	}
	if (self->client != NULL) {
		pr_service_set_state(self, "connected");
	} else if (finished->reconnect && owned != NULL) {
		/* a rejected login or certificate will not get better by retrying */
		if (g_error_matches(owned, PR_ERROR, PR_ERROR_LOGIN_FAILED) ||
		    g_error_matches(owned, PR_ERROR, PR_ERROR_NO_PASSWORD) ||
		    g_error_matches(owned, PR_ERROR, PR_ERROR_CERTIFICATE_UNTRUSTED) ||
		    g_error_matches(owned, PR_ERROR, PR_ERROR_SECRET_SERVICE_UNAVAILABLE) ||
		    g_error_matches(owned, PR_ERROR, PR_ERROR_CANCELLED) || !self->online) {
			pr_service_go_offline(self, owned);
			pr_service_set_state(self, "disconnected");
		} else {
			pr_service_schedule_reconnect(self);
		}
	}
	pr_operation_complete(finished->operation, owned);
	pr_service_update_busy(self);
	pr_service_run_next(self);
}

/* Settings -> engine ---------------------------------------------------------------------- */

static PrImapClient *
pr_service_new_client(PrService *self, PrAccountConfig *config, GError **error)
{
	g_autoptr(PrImapClient) client = NULL;
	PrImapSecurity security = PR_IMAP_SECURITY_TLS;

	pr_imap_security_from_string(config->security, &security);
	client = pr_imap_client_new(config->host, config->port_effective, security);
	pr_imap_client_set_timeout(client, config->timeout);
	pr_imap_client_set_compress(client, config->compress);
	/* stopping a sync must not cost the connection */
	pr_imap_client_set_soft_cancel(client, TRUE);
	if (config->tls_ca_file != NULL && config->tls_ca_file[0] != '\0' &&
	    !pr_imap_client_set_ca_file(client, config->tls_ca_file, error))
		return NULL;
	if (config->tls_pinned_certificate != NULL && config->tls_pinned_certificate[0] != '\0' &&
	    !pr_imap_client_set_pinned_certificate(client, config->tls_pinned_certificate, error))
		return NULL;
	return g_steal_pointer(&client);
}

static void
pr_service_sync_options(PrAccountConfig *config, PrSyncOptions *options)
{
	memset(options, 0, sizeof(*options));
	pr_sync_folder_strategy_from_string(config->folder_sync, &options->folder_sync);
	pr_sync_subscription_strategy_from_string(config->subscription_update,
						  &options->subscription_update);
	options->inbox_sync_limit = config->inbox_sync_limit;
	options->mailbox_sync_limit = config->mailbox_sync_limit;
	options->sync_search = config->sync_search;
	options->folder_path = config->folder_path;
	options->update_seen_flags = config->update_seen_flags;
}

/* Store changes -> signals ---------------------------------------------------------------- */

static GVariant *
pr_service_ids_variant(GArray *ids)
{
	if (ids == NULL)
		return g_variant_new_fixed_array(G_VARIANT_TYPE_UINT64, NULL, 0, sizeof(guint64));
	return g_variant_new_fixed_array(
		G_VARIANT_TYPE_UINT64, ids->data, ids->len, sizeof(guint64));
}

static void
pr_service_folders_changed_cb(PrSync *sync, gpointer user_data)
{
	PrService *self = PR_SERVICE(user_data);
	pr_dbus_imap4_service_emit_folders_changed(self->iface);
}

static void
pr_service_messages_changed_cb(PrSync *sync,
			       const gchar *folder,
			       GArray *added,
			       GArray *changed,
			       GArray *removed,
			       gpointer user_data)
{
	PrService *self = PR_SERVICE(user_data);
	pr_dbus_imap4_service_emit_messages_changed(self->iface,
						    folder,
						    pr_service_ids_variant(added),
						    pr_service_ids_variant(changed),
						    pr_service_ids_variant(removed));
}

static void
pr_service_new_mail_cb(PrSync *sync, const gchar *folder, GArray *ids, gpointer user_data)
{
	PrService *self = PR_SERVICE(user_data);
	pr_dbus_imap4_service_emit_new_mail(self->iface, folder, pr_service_ids_variant(ids));
}

static void
pr_service_alert_cb(PrImapClient *client, const gchar *text, gpointer user_data)
{
	PrService *self = PR_SERVICE(user_data);
	pr_dbus_imap4_service_emit_alert(self->iface, text);
}

/* The sync engine of the main connection, with the settings as they are now. */
static void
pr_service_make_sync(PrService *self, PrAccountConfig *config)
{
	PrSyncOptions options;

	if (self->sync != NULL)
		g_signal_handlers_disconnect_by_data(self->sync, self);
	g_clear_object(&self->sync);
	pr_service_sync_options(config, &options);
	self->sync = pr_sync_new(self->client, self->store, &options);
	self->sync_dirty = FALSE;
	g_signal_connect(
		self->sync, "folders-changed", G_CALLBACK(pr_service_folders_changed_cb), self);
	g_signal_connect(
		self->sync, "messages-changed", G_CALLBACK(pr_service_messages_changed_cb), self);
	g_signal_connect(self->sync, "new-mail", G_CALLBACK(pr_service_new_mail_cb), self);
}

/* Connect --------------------------------------------------------------------------------- */

typedef struct {
	PrService *self;
	PrJob *job;
	PrImapClient *client;
	PrAccountConfig *config;
} ConnectData;

static void
connect_data_free(ConnectData *data)
{
	g_object_unref(data->self);
	g_clear_object(&data->client);
	g_clear_pointer(&data->config, pr_account_config_free);
	g_free(data);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC(ConnectData, connect_data_free)

/* The job continues after a successful connect (sync, stay online, ...). */
static void pr_service_connected(PrService *self, PrJob *job);

static void
pr_service_connect_failed(ConnectData *data, GError *error)
{
	PrService *self = data->self;

	if (data->client != NULL)
		pr_imap_client_close(data->client);
	pr_service_set_state(self, "disconnected");
	pr_service_job_done(self, data->job, error);
}

static void
pr_service_login_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	g_autoptr(ConnectData) data = user_data;
	PrService *self = data->self;
	g_autoptr(GError) error = NULL;

	if (!pr_imap_client_login_finish(PR_IMAP_CLIENT(source), res, &error)) {
		pr_service_connect_failed(data, g_steal_pointer(&error));
		return;
	}
	if (self->removed) {
		pr_service_connect_failed(data,
					  g_error_new_literal(PR_ERROR,
							      PR_ERROR_CANCELLED,
							      _("The account was removed")));
		return;
	}
	self->client = g_steal_pointer(&data->client);
	g_signal_connect(self->client, "closed", G_CALLBACK(pr_service_client_closed_cb), self);
	g_signal_connect(self->client, "alert", G_CALLBACK(pr_service_alert_cb), self);
	pr_service_make_sync(self, data->config);
	pr_dbus_imap4_service_set_server_capabilities(
		self->iface, pr_imap_client_get_capabilities(self->client));
	pr_dbus_imap4_service_set_connected(self->iface, TRUE);
	pr_dbus_imap4_service_set_last_error(self->iface, g_variant_new("(ss)", "", ""));
	pr_service_set_state(self, "connected");
	g_info("%s: connected to %s", self->id, data->config->host);
	pr_service_connected(self, data->job);
}

static void
pr_service_tcp_connected_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	g_autoptr(ConnectData) data = user_data;
	PrService *self = data->self;
	g_autoptr(GError) error = NULL;
	g_autofree gchar *password = NULL;

	if (!pr_imap_client_connect_finish(PR_IMAP_CLIENT(source), res, &error)) {
		pr_service_connect_failed(data, g_steal_pointer(&error));
		return;
	}
	password = g_object_steal_data(G_OBJECT(data->client), "pr-service-password");
	pr_service_set_state(self, "authenticating");
	pr_progress_set_stage(pr_operation_get_progress(data->job->operation), "authenticating");
	pr_imap_client_login_async(data->client,
				   data->config->user,
				   password,
				   data->config->auth,
				   pr_operation_get_cancellable(data->job->operation),
				   pr_service_login_cb,
				   data);
	explicit_bzero(password, strlen(password));
	g_steal_pointer(&data);
}

static void
pr_service_password_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	g_autoptr(ConnectData) data = user_data;
	PrService *self = data->self;
	g_autoptr(GError) error = NULL;
	gchar *password;

	password = pr_secrets_lookup_finish(res, &error);
	if (password == NULL) {
		pr_service_connect_failed(data, g_steal_pointer(&error));
		return;
	}
	data->client = pr_service_new_client(self, data->config, &error);
	if (data->client == NULL) {
		explicit_bzero(password, strlen(password));
		g_free(password);
		pr_service_connect_failed(data, g_steal_pointer(&error));
		return;
	}
	/* held only until the login is sent; freed (and wiped) by the login step */
	g_object_set_data_full(G_OBJECT(data->client), "pr-service-password", password, g_free);
	pr_service_set_state(self, "connecting");
	pr_imap_client_connect_async(data->client,
				     pr_operation_get_cancellable(data->job->operation),
				     pr_service_tcp_connected_cb,
				     data);
	g_steal_pointer(&data);
}

static void
pr_service_job_connect(PrService *self, PrJob *job)
{
	ConnectData *data;

	pr_progress_set_stage(pr_operation_get_progress(job->operation), "connecting");
	if (self->client != NULL) {
		pr_service_connected(self, job);
		return;
	}
	data = g_new0(ConnectData, 1);
	data->self = g_object_ref(self);
	data->job = job;
	data->config = pr_account_config_new_from_settings(self->settings);
	pr_service_set_state(self, "connecting");
	pr_secrets_lookup_async(self->id,
				"imap",
				pr_operation_get_cancellable(job->operation),
				pr_service_password_cb,
				data);
}

/* Sync ------------------------------------------------------------------------------------ */

static void pr_service_start_push(PrService *self);

static gboolean
pr_service_is_quiet(PrService *self)
{
	return self->current == NULL && self->background == NULL && self->reading == NULL &&
	       g_queue_is_empty(&self->jobs);
}

static gboolean
pr_service_push_quiet_cb(gpointer user_data)
{
	PrService *self = PR_SERVICE(user_data);

	self->push_quiet_id = 0;
	/* not quiet after all: the end of that work asks again */
	if (!self->push_pending || !pr_service_is_quiet(self))
		return G_SOURCE_REMOVE;
	self->push_pending = FALSE;
	pr_service_start_push(self);
	return G_SOURCE_REMOVE;
}

/* The push connection (its login, its SELECT of the inbox) would only compete for the
 * server with the first full sync of a connection and with what a client asks for right
 * after it (a GetMail, say): it starts once the account has had no work for a moment. Its
 * catch-up sync covers what arrived meanwhile. */
static void
pr_service_push_when_quiet(PrService *self)
{
	if (!self->push_pending || self->client == NULL || !pr_service_is_quiet(self))
		return;
	if (self->push_quiet_id != 0)
		g_source_remove(self->push_quiet_id);
	self->push_quiet_id =
		g_timeout_add(PR_SERVICE_PUSH_QUIET_MS, pr_service_push_quiet_cb, self);
}

/* The first full sync of a connection ended: push may start when the account is quiet. */
static void
pr_service_push_after_sync(PrService *self, PrSyncScope scope)
{
	if (!self->push_after_sync || scope != PR_SYNC_SCOPE_FULL)
		return;
	self->push_after_sync = FALSE;
	self->push_pending = TRUE;
	pr_service_push_when_quiet(self);
}

static void
pr_service_sync_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	g_autoptr(JobCall) call = user_data;
	PrService *self = call->self;
	PrJob *job = call->job;
	PrSyncScope scope = job->scope; /* the job is gone once done */
	g_autoptr(GError) error = NULL;

	if (!pr_sync_run_finish(PR_SYNC(source), res, &error)) {
		pr_service_job_done(self, job, g_steal_pointer(&error));
		pr_service_push_after_sync(self, scope);
		return;
	}
	if (job->scope == PR_SYNC_SCOPE_FULL)
		pr_dbus_imap4_service_set_last_sync(self->iface,
						    g_get_real_time() / G_USEC_PER_SEC);
	pr_service_job_done(self, job, NULL);
	pr_service_push_after_sync(self, scope);
}

static void
pr_service_start_sync(PrService *self, PrJob *job)
{
	if (self->sync == NULL) {
		pr_service_job_done(
			self,
			job,
			g_error_new_literal(PR_ERROR, PR_ERROR_NOT_CONNECTED, _("Not connected")));
		return;
	}
	if (self->sync_dirty) {
		g_autoptr(PrAccountConfig) config =
			pr_account_config_new_from_settings(self->settings);
		pr_service_make_sync(self, config);
	}
	pr_service_set_state(self, "syncing");
	pr_sync_run_async(self->sync,
			  job->scope,
			  (const gchar *const *)job->folders,
			  pr_operation_get_progress(job->operation),
			  pr_operation_get_cancellable(job->operation),
			  pr_service_sync_cb,
			  job_call_new(self, job));
}

static void
pr_service_job_sync(PrService *self, PrJob *job)
{
	pr_service_start_sync(self, job);
}

/* ConnectAndSync("connect"): the full sync goes on with no client waiting for it. */
static void
pr_service_start_background_sync(PrService *self)
{
	PrJob *job = g_new0(PrJob, 1);

	job->operation = pr_daemon_new_operation(self->daemon, "synchronise", self->path);
	job->run = pr_service_job_sync;
	job->scope = PR_SYNC_SCOPE_FULL;
	job->background = TRUE;
	g_queue_push_head(&self->jobs, job);
}

static gboolean
pr_service_resync_cb(gpointer user_data)
{
	PrService *self = PR_SERVICE(user_data);
	PrJob *job;

	if (self->client == NULL || self->current != NULL || self->background != NULL)
		return G_SOURCE_CONTINUE;
	job = g_new0(PrJob, 1);
	job->operation = pr_daemon_new_operation(self->daemon, "synchronise", self->path);
	job->run = pr_service_job_sync;
	job->scope = PR_SYNC_SCOPE_INBOX_NEW;
	job->background = TRUE;
	g_queue_push_tail(&self->jobs, job);
	pr_service_run_next(self);
	return G_SOURCE_CONTINUE;
}

static gboolean
pr_service_reconnect_cb(gpointer user_data)
{
	PrService *self = PR_SERVICE(user_data);
	PrJob *job;

	self->reconnect_id = 0;
	if (!self->online || self->client != NULL)
		return G_SOURCE_REMOVE;
	job = g_new0(PrJob, 1);
	job->operation = pr_daemon_new_operation(self->daemon, "connect", self->path);
	job->run = pr_service_job_connect;
	job->reconnect = TRUE;
	job->background = TRUE;
	g_queue_push_head(&self->jobs, job);
	pr_service_run_next(self);
	return G_SOURCE_REMOVE;
}

/* Push ------------------------------------------------------------------------------------ */

static void pr_service_start_push(PrService *self);

/* News on the server: sync that folder in the background. A sync of the same folder
 * already waiting in the queue will see this news too. */
static void
pr_service_queue_folder_sync(PrService *self, const gchar *folder)
{
	PrJob *job;

	if (self->client == NULL)
		return;
	for (GList *l = self->jobs.head; l != NULL; l = l->next) {
		PrJob *queued = l->data;
		if (!queued->background || queued->run != pr_service_job_sync)
			continue;
		if (queued->scope == PR_SYNC_SCOPE_FULL)
			return;
		if (folder != NULL && queued->scope == PR_SYNC_SCOPE_FOLDERS &&
		    queued->folders != NULL &&
		    g_strv_contains((const gchar *const *)queued->folders, folder))
			return;
	}
	job = g_new0(PrJob, 1);
	job->operation = pr_daemon_new_operation(self->daemon, "synchronise", self->path);
	job->run = pr_service_job_sync;
	job->background = TRUE;
	if (folder == NULL) {
		/* the server lost track (NOTIFICATIONOVERFLOW): anything may have changed */
		job->scope = PR_SYNC_SCOPE_FULL;
	} else {
		gchar *folders[] = { (gchar *)folder, NULL };
		job->scope = PR_SYNC_SCOPE_FOLDERS;
		job->folders = g_strdupv(folders);
	}
	g_queue_push_tail(&self->jobs, job);
	pr_service_run_next(self);
}

static void
pr_service_push_changed_cb(PrPush *push, const gchar *folder, gpointer user_data)
{
	PrService *self = PR_SERVICE(user_data);

	g_debug("%s: news in %s", self->id, folder != NULL ? folder : "(everywhere)");
	if (folder != NULL) {
		g_autoptr(PrStoreFolder) known = pr_store_get_folder(self->store, folder, NULL);
		/* a folder the store does not know yet comes with the next tree sync */
		if (known == NULL)
			folder = NULL;
	}
	pr_service_queue_folder_sync(self, folder);
}

static void
pr_service_push_logout_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	pr_imap_client_logout_finish(PR_IMAP_CLIENT(source), res, NULL);
}

static void
pr_service_push_stopped_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	g_autoptr(PrImapClient) client = PR_IMAP_CLIENT(user_data);

	if (!pr_push_stop_finish(PR_PUSH(source), res, NULL)) {
		pr_imap_client_close(client);
		return;
	}
	pr_imap_client_logout_async(client, NULL, pr_service_push_logout_cb, NULL);
}

static void
pr_service_stop_push(PrService *self)
{
	self->push_pending = FALSE;
	if (self->push_quiet_id != 0) {
		g_source_remove(self->push_quiet_id);
		self->push_quiet_id = 0;
	}
	if (self->push_retry_id != 0) {
		g_source_remove(self->push_retry_id);
		self->push_retry_id = 0;
	}
	if (self->push_cancellable != NULL) {
		g_cancellable_cancel(self->push_cancellable);
		g_clear_object(&self->push_cancellable);
	}
	if (self->push != NULL) {
		g_signal_handlers_disconnect_by_data(self->push, self);
		/* leave IDLE, then LOGOUT; nobody waits for either */
		pr_push_stop_async(self->push,
				   NULL,
				   pr_service_push_stopped_cb,
				   g_object_ref(self->push_client));
		g_clear_object(&self->push);
		g_clear_object(&self->push_client);
	} else if (self->push_client != NULL) {
		pr_imap_client_close(self->push_client);
		g_clear_object(&self->push_client);
	}
}

static gboolean
pr_service_push_retry_cb(gpointer user_data)
{
	PrService *self = PR_SERVICE(user_data);

	self->push_retry_id = 0;
	pr_service_start_push(self);
	return G_SOURCE_REMOVE;
}

/* Push could not start or died: the interval keeps the inbox current meanwhile, and push
 * is tried again while the main connection lives. */
static void
pr_service_push_failed(PrService *self, const GError *error)
{
	g_autoptr(PrAccountConfig) config = pr_account_config_new_from_settings(self->settings);

	g_debug("%s: push stopped: %s", self->id, error != NULL ? error->message : "");
	pr_service_stop_push(self);
	if (self->resync_id == 0 && config->sync_interval > 0)
		self->resync_id =
			g_timeout_add_seconds(config->sync_interval, pr_service_resync_cb, self);
	if (self->client != NULL && self->online && error != NULL &&
	    !g_error_matches(error, PR_ERROR, PR_ERROR_LOGIN_FAILED) &&
	    !g_error_matches(error, PR_ERROR, PR_ERROR_CANCELLED))
		self->push_retry_id = g_timeout_add_seconds(30, pr_service_push_retry_cb, self);
}

static void
pr_service_push_dead_cb(PrPush *push, GError *error, gpointer user_data)
{
	PrService *self = PR_SERVICE(user_data);

	/* the main connection may be just as dead: check it with a sync of the inbox */
	pr_service_push_failed(self, error);
	pr_service_queue_folder_sync(self, "INBOX");
}

static void
pr_service_push_started_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	g_autoptr(PrService) self = PR_SERVICE(user_data);
	g_autoptr(GError) error = NULL;

	if (!pr_push_start_finish(PR_PUSH(source), res, &error)) {
		if (self->push == PR_PUSH(source))
			pr_service_push_failed(self, error);
		return;
	}
	/* push keeps the inbox current: the interval is only the fallback */
	if (self->resync_id != 0) {
		g_source_remove(self->resync_id);
		self->resync_id = 0;
	}
	/* news that came between the last sync and IDLE would wait for the next event */
	pr_service_queue_folder_sync(self, "INBOX");
	g_info("%s: push started (%s)",
	       self->id,
	       pr_push_get_notify_active(PR_PUSH(source)) ? "IDLE with NOTIFY" : "IDLE");
}

static void
pr_service_push_login_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	g_autoptr(PrService) self = PR_SERVICE(user_data);
	g_autoptr(PrAccountConfig) config = NULL;
	g_autoptr(GError) error = NULL;
	PrPushOptions options;

	if (!pr_imap_client_login_finish(PR_IMAP_CLIENT(source), res, &error)) {
		if (self->push_client == PR_IMAP_CLIENT(source))
			pr_service_push_failed(self, error);
		return;
	}
	if (self->push_client != PR_IMAP_CLIENT(source))
		return;
	config = pr_account_config_new_from_settings(self->settings);
	pr_push_options_init(&options);
	options.idle = TRUE;
	options.idle_timeout = config->idle_timeout;
	/* servers in the wild drop idle sessions silently after ~23 minutes: check
	 * liveness after 5 quiet minutes (server keepalives count as life) */
	options.watchdog_interval = 300;
	options.use_notify = TRUE;
	options.notify_subscribed = FALSE;
	self->push = pr_push_new(self->push_client, &options);
	g_signal_connect(self->push, "changed", G_CALLBACK(pr_service_push_changed_cb), self);
	g_signal_connect(self->push, "dead", G_CALLBACK(pr_service_push_dead_cb), self);
	pr_push_start_async(
		self->push, self->push_cancellable, pr_service_push_started_cb, g_object_ref(self));
}

static void
pr_service_push_connected_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	g_autoptr(PrService) self = PR_SERVICE(user_data);
	g_autoptr(GError) error = NULL;
	g_autoptr(PrAccountConfig) config = NULL;
	g_autofree gchar *password = NULL;

	password = g_object_steal_data(source, "pr-service-password");
	if (!pr_imap_client_connect_finish(PR_IMAP_CLIENT(source), res, &error)) {
		if (self->push_client == PR_IMAP_CLIENT(source))
			pr_service_push_failed(self, error);
		if (password != NULL)
			explicit_bzero(password, strlen(password));
		return;
	}
	if (self->push_client != PR_IMAP_CLIENT(source)) {
		if (password != NULL)
			explicit_bzero(password, strlen(password));
		return;
	}
	config = pr_account_config_new_from_settings(self->settings);
	pr_imap_client_login_async(self->push_client,
				   config->user,
				   password,
				   config->auth,
				   self->push_cancellable,
				   pr_service_push_login_cb,
				   g_object_ref(self));
	explicit_bzero(password, strlen(password));
}

static void
pr_service_push_password_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	g_autoptr(PrService) self = PR_SERVICE(user_data);
	g_autoptr(PrAccountConfig) config = NULL;
	g_autoptr(GError) error = NULL;
	gchar *password;

	password = pr_secrets_lookup_finish(res, &error);
	if (password == NULL) {
		pr_service_push_failed(self, error);
		return;
	}
	if (self->push_cancellable == NULL || g_cancellable_is_cancelled(self->push_cancellable)) {
		pr_secrets_password_free(password);
		return;
	}
	config = pr_account_config_new_from_settings(self->settings);
	self->push_client = pr_service_new_client(self, config, &error);
	if (self->push_client == NULL) {
		pr_secrets_password_free(password);
		pr_service_push_failed(self, error);
		return;
	}
	g_object_set_data_full(G_OBJECT(self->push_client),
			       "pr-service-password",
			       password,
			       (GDestroyNotify)pr_secrets_password_free);
	pr_imap_client_connect_async(self->push_client,
				     self->push_cancellable,
				     pr_service_push_connected_cb,
				     g_object_ref(self));
}

/* A second connection that only waits for news (IDLE, and NOTIFY for other folders), so
 * that the main one stays free for syncs and client requests. */
static void
pr_service_start_push(PrService *self)
{
	g_autoptr(PrAccountConfig) config = pr_account_config_new_from_settings(self->settings);

	if (self->push != NULL || self->push_client != NULL || self->push_cancellable != NULL)
		return;
	if (!config->idle || self->client == NULL ||
	    !pr_imap_client_has_capability(self->client, "IDLE"))
		return;
	g_debug("%s: starting push", self->id);
	self->push_cancellable = g_cancellable_new();
	pr_secrets_lookup_async(self->id,
				"imap",
				self->push_cancellable,
				pr_service_push_password_cb,
				g_object_ref(self));
}

static void
pr_service_stay_online(PrService *self)
{
	g_autoptr(PrAccountConfig) config = pr_account_config_new_from_settings(self->settings);

	/* the interval keeps the inbox current until push runs, and when it cannot */
	if (self->resync_id == 0 && config->sync_interval > 0)
		self->resync_id =
			g_timeout_add_seconds(config->sync_interval, pr_service_resync_cb, self);
	if (!self->push_after_sync)
		pr_service_start_push(self);
}

static void pr_service_job_disconnect(PrService *self, PrJob *job);
static PrJob *pr_service_queue_job(PrService *self, const gchar *kind, PrJobFunc run);

static gboolean
pr_service_stay_online_cancel_idle_cb(gpointer user_data)
{
	PrService *self = PR_SERVICE(user_data);
	g_autoptr(PrJob) stay = g_steal_pointer(&self->stay_online);
	g_autoptr(GError) error = NULL;

	if (stay == NULL)
		return G_SOURCE_REMOVE;
	/* cancelling "stay online until disconnected" is asking to disconnect */
	error = g_error_new_literal(PR_ERROR, PR_ERROR_CANCELLED, _("The operation was cancelled"));
	pr_operation_complete(stay->operation, error);
	if (self->background != NULL)
		g_cancellable_cancel(pr_operation_get_cancellable(self->background->operation));
	pr_service_queue_job(self, "disconnect", pr_service_job_disconnect);
	pr_service_update_busy(self);
	pr_service_run_next(self);
	return G_SOURCE_REMOVE;
}

static void
pr_service_stay_online_cancelled_cb(GCancellable *cancellable, gpointer user_data)
{
	/* runs inside Cancel(): act from the main loop */
	g_idle_add_full(G_PRIORITY_DEFAULT,
			pr_service_stay_online_cancel_idle_cb,
			g_object_ref(user_data),
			g_object_unref);
}

static void
pr_service_connected(PrService *self, PrJob *job)
{
	self->online = TRUE;
	self->reconnect_attempt = 0;
	self->push_after_sync = FALSE;
	if (job->reconnect) {
		/* back online: catch up on the inbox, then carry on as before */
		PrJob *sync = g_new0(PrJob, 1);
		sync->operation = pr_daemon_new_operation(self->daemon, "synchronise", self->path);
		sync->run = pr_service_job_sync;
		sync->scope = PR_SYNC_SCOPE_INBOX_NEW;
		sync->background = TRUE;
		g_queue_push_head(&self->jobs, sync);
		pr_service_stay_online(self);
		pr_service_job_done(self, job, NULL);
		return;
	}
	if (job->then != NULL) {
		job->then(self, job);
		return;
	}
	switch (job->complete_after) {
	case PR_COMPLETE_AFTER_NONE:
		pr_service_job_done(self, job, NULL);
		return;
	case PR_COMPLETE_AFTER_CONNECT:
		self->push_after_sync = TRUE;
		pr_service_stay_online(self);
		pr_service_start_background_sync(self);
		pr_service_job_done(self, job, NULL);
		return;
	case PR_COMPLETE_AFTER_SYNC:
		self->push_after_sync = TRUE;
		pr_service_stay_online(self);
		job->scope = PR_SYNC_SCOPE_FULL;
		pr_service_start_sync(self, job);
		return;
	case PR_COMPLETE_AFTER_DISCONNECT:
		/* the operation lives until the connection ends; the full sync runs first */
		self->push_after_sync = TRUE;
		pr_service_stay_online(self);
		self->stay_online = g_new0(PrJob, 1);
		self->stay_online->operation = g_object_ref(job->operation);
		g_cancellable_connect(pr_operation_get_cancellable(job->operation),
				      G_CALLBACK(pr_service_stay_online_cancelled_cb),
				      g_object_ref(self),
				      g_object_unref);
		pr_progress_set_stage(pr_operation_get_progress(job->operation), "idle");
		g_clear_object(&job->operation);
		job->operation = pr_daemon_new_operation(self->daemon, "synchronise", self->path);
		job->scope = PR_SYNC_SCOPE_FULL;
		job->background = TRUE;
		self->background = g_steal_pointer(&self->current);
		pr_service_update_busy(self);
		pr_operation_start(job->operation);
		pr_service_start_sync(self, job);
		return;
	default:
		g_assert_not_reached();
	}
}

/* Disconnect ------------------------------------------------------------------------------ */

static void
pr_service_logout_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	g_autoptr(JobCall) call = user_data;
	PrService *self = call->self;
	PrJob *job = call->job;

	pr_imap_client_logout_finish(PR_IMAP_CLIENT(source), res, NULL);
	pr_service_client_closed_cb(PR_IMAP_CLIENT(source), NULL, self);
	pr_service_job_done(self, job, NULL);
}

/* delete-on-disconnect: what the account marked \Deleted is expunged now, folder by
 * folder, with UID EXPUNGE where the server has UIDPLUS (only our messages go), else
 * EXPUNGE, or CLOSE when use-expunge is off. */
typedef struct {
	GPtrArray *commands; /* PrImapCommand */
	GPtrArray *folders;  /* PrStoreFolder, for removing what went from the store */
	GPtrArray *uids;     /* GArray of guint32 per folder */
	guint next;
} ExpungeWork;

static void
expunge_work_free(ExpungeWork *work)
{
	g_ptr_array_unref(work->commands);
	g_ptr_array_unref(work->folders);
	g_ptr_array_unref(work->uids);
	g_free(work);
}

static void
pr_service_logout(PrService *self, PrJob *job)
{
	pr_service_set_state(self, "disconnecting");
	g_signal_handlers_disconnect_by_data(self->client, self);
	pr_imap_client_logout_async(
		self->client, NULL, pr_service_logout_cb, job_call_new(self, job));
}

static void pr_service_expunge_next(PrService *self, PrJob *job);

static void
pr_service_expunge_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	g_autoptr(JobCall) call = user_data;
	g_autoptr(PrImapResponse) response = NULL;
	g_autoptr(GError) error = NULL;

	response = pr_imap_client_run_finish(PR_IMAP_CLIENT(source), res, NULL, &error);
	if (response == NULL && !g_error_matches(error, PR_ERROR, PR_ERROR_SERVER_ERROR)) {
		/* the connection is gone: nothing more to expunge or log out */
		pr_service_job_done(call->self, call->job, g_steal_pointer(&error));
		return;
	}
	if (error != NULL)
		g_warning("%s: expunge at disconnect: %s", call->self->id, error->message);
	pr_service_expunge_next(call->self, call->job);
}

static void
pr_service_expunge_next(PrService *self, PrJob *job)
{
	ExpungeWork *work = g_object_get_data(G_OBJECT(job->operation), "pr-expunge");

	if (self->client == NULL) {
		pr_service_job_done(self, job, NULL);
		return;
	}
	if (work->next < work->commands->len) {
		PrImapCommand *command = g_ptr_array_index(work->commands, work->next++);
		pr_imap_client_run_async(self->client,
					 command,
					 NULL,
					 pr_service_expunge_cb,
					 job_call_new(self, job));
		return;
	}
	for (guint i = 0; i < work->folders->len; i++) {
		PrStoreFolder *folder = g_ptr_array_index(work->folders, i);
		GArray *uids = g_ptr_array_index(work->uids, i);
		g_autoptr(GArray) removed = g_array_new(FALSE, FALSE, sizeof(guint64));
		g_autoptr(GError) error = NULL;
		if (!pr_store_remove_uids(self->store,
					  folder->id,
					  (const guint32 *)uids->data,
					  uids->len,
					  removed,
					  &error)) {
			g_warning("%s: %s", self->id, error->message);
			continue;
		}
		pr_dbus_imap4_service_emit_messages_changed(self->iface,
							    folder->name,
							    pr_service_ids_variant(NULL),
							    pr_service_ids_variant(NULL),
							    pr_service_ids_variant(removed));
	}
	pr_service_logout(self, job);
}

static ExpungeWork *
pr_service_plan_expunge(PrService *self, gboolean use_expunge)
{
	g_autoptr(GPtrArray) folders = pr_store_list_folders(self->store, NULL);
	ExpungeWork *work = g_new0(ExpungeWork, 1);
	gboolean uidplus = pr_imap_client_has_capability(self->client, "UIDPLUS");

	work->commands = g_ptr_array_new_with_free_func(g_object_unref);
	work->folders = g_ptr_array_new_with_free_func((GDestroyNotify)pr_store_folder_free);
	work->uids = g_ptr_array_new_with_free_func((GDestroyNotify)g_array_unref);
	for (guint i = 0; folders != NULL && i < folders->len; i++) {
		PrStoreFolder *folder = g_ptr_array_index(folders, i);
		g_autoptr(GPtrArray) messages = NULL;
		g_autoptr(GArray) uids = g_array_new(FALSE, FALSE, sizeof(guint32));
		g_autoptr(PrImapCommand) select = NULL;
		PrStoreQuery query = { 0 };

		if (folder->local || folder->raw_name == NULL)
			continue;
		messages = pr_store_list_messages(self->store, folder->id, &query, NULL);
		for (guint j = 0; messages != NULL && j < messages->len; j++) {
			PrStoreMessage *message = g_ptr_array_index(messages, j);
			if (message->uid != 0 && pr_store_message_has_flag(message, "\\Deleted"))
				g_array_append_val(uids, message->uid);
		}
		if (uids->len == 0)
			continue;
		select = pr_imap_command_new("SELECT");
		pr_imap_command_add_string(select, folder->raw_name, -1);
		g_ptr_array_add(work->commands, g_steal_pointer(&select));
		if (use_expunge && uidplus) {
			PrImapCommand *expunge = pr_imap_command_new("UID EXPUNGE");
			pr_imap_command_add_uid_set(
				expunge, (const guint32 *)uids->data, uids->len);
			g_ptr_array_add(work->commands, expunge);
		} else {
			g_ptr_array_add(work->commands,
					pr_imap_command_new(use_expunge ? "EXPUNGE" : "CLOSE"));
		}
		g_ptr_array_add(work->folders,
				pr_store_get_folder(self->store, folder->name, NULL));
		g_ptr_array_add(work->uids, g_steal_pointer(&uids));
	}
	return work;
}

static void
pr_service_job_disconnect(PrService *self, PrJob *job)
{
	g_autoptr(PrAccountConfig) config = NULL;

	pr_progress_set_stage(pr_operation_get_progress(job->operation), "disconnecting");
	pr_service_go_offline(self, NULL);
	if (self->client == NULL) {
		pr_service_set_state(self, "disconnected");
		pr_service_job_done(self, job, NULL);
		return;
	}
	if (self->background != NULL)
		g_cancellable_cancel(pr_operation_get_cancellable(self->background->operation));
	config = pr_account_config_new_from_settings(self->settings);
	if (config->delete_on_disconnect) {
		ExpungeWork *work = pr_service_plan_expunge(self, config->use_expunge);
		g_object_set_data_full(G_OBJECT(job->operation),
				       "pr-expunge",
				       work,
				       (GDestroyNotify)expunge_work_free);
		pr_service_set_state(self, "disconnecting");
		pr_service_expunge_next(self, job);
		return;
	}
	pr_service_logout(self, job);
}

/* GetMail (populate) ---------------------------------------------------------------------- */

static void
pr_service_fetch_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	g_autoptr(JobCall) call = user_data;
	PrService *self = call->self;
	PrJob *job = call->job;
	g_autoptr(GArray) fetched = NULL;
	g_autoptr(GError) error = NULL;

	if (!pr_sync_fetch_bodies_finish(PR_SYNC(source), res, &fetched, &error)) {
		pr_service_job_done(self, job, g_steal_pointer(&error));
		return;
	}
	pr_operation_set_result_value(job->operation, "ids", pr_service_ids_variant(fetched));
	if (job->disconnect_after && self->client != NULL) {
		/* connect-and-disconnect: the same job goes on as a disconnect */
		pr_service_job_disconnect(self, job);
		return;
	}
	pr_service_job_done(self, job, NULL);
}

/* Downloads @job's bodies over @sync's connection (the main one or the reader). */
static void
pr_service_fetch_on(PrService *self, PrSync *sync, PrJob *job)
{
	pr_progress_set_stage(pr_operation_get_progress(job->operation), "fetching");
	pr_sync_fetch_bodies_async(sync,
				   (const guint64 *)job->ids->data,
				   job->ids->len,
				   pr_operation_get_progress(job->operation),
				   pr_operation_get_cancellable(job->operation),
				   pr_service_fetch_cb,
				   job_call_new(self, job));
}

static void
pr_service_job_get_mail(PrService *self, PrJob *job)
{
	if (self->sync == NULL) {
		pr_service_job_done(
			self,
			job,
			g_error_new_literal(PR_ERROR, PR_ERROR_NOT_CONNECTED, _("Not connected")));
		return;
	}
	pr_service_fetch_on(self, self->sync, job);
}

/* Reading beside a background sync --------------------------------------------------------- */

/* Read-only work (downloading bodies) does not wait for a long background sync: it runs on
 * its own connection, opened on demand and kept until the account disconnects. */
static void
pr_service_reader_fetch(PrService *self, PrJob *job)
{
	pr_service_fetch_on(self, self->reader_sync, job);
}

static void
pr_service_reader_closed_cb(PrImapClient *client, GError *error, gpointer user_data)
{
	PrService *self = PR_SERVICE(user_data);

	if (client != self->reader_client)
		return;
	g_signal_handlers_disconnect_by_data(client, self);
	g_clear_object(&self->reader_sync);
	g_clear_object(&self->reader_client);
}

static void
pr_service_reader_login_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	g_autoptr(JobCall) call = user_data;
	PrService *self = call->self;
	g_autoptr(PrAccountConfig) config = NULL;
	g_autoptr(GError) error = NULL;
	PrSyncOptions options;

	if (!pr_imap_client_login_finish(PR_IMAP_CLIENT(source), res, &error)) {
		pr_service_reader_closed_cb(PR_IMAP_CLIENT(source), NULL, self);
		pr_service_job_done(self, call->job, g_steal_pointer(&error));
		return;
	}
	config = pr_account_config_new_from_settings(self->settings);
	pr_service_sync_options(config, &options);
	self->reader_sync = pr_sync_new(self->reader_client, self->store, &options);
	g_signal_connect(self->reader_sync,
			 "messages-changed",
			 G_CALLBACK(pr_service_messages_changed_cb),
			 self);
	pr_service_reader_fetch(self, call->job);
}

static void
pr_service_reader_connected_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	g_autoptr(JobCall) call = user_data;
	PrService *self = call->self;
	g_autoptr(PrAccountConfig) config = NULL;
	g_autoptr(GError) error = NULL;
	g_autofree gchar *password = g_object_steal_data(source, "pr-service-password");
	GCancellable *cancellable;

	if (!pr_imap_client_connect_finish(PR_IMAP_CLIENT(source), res, &error)) {
		if (password != NULL)
			explicit_bzero(password, strlen(password));
		pr_service_reader_closed_cb(PR_IMAP_CLIENT(source), NULL, self);
		pr_service_job_done(self, call->job, g_steal_pointer(&error));
		return;
	}
	config = pr_account_config_new_from_settings(self->settings);
	cancellable = pr_operation_get_cancellable(call->job->operation);
	pr_imap_client_login_async(PR_IMAP_CLIENT(source),
				   config->user,
				   password,
				   config->auth,
				   cancellable,
				   pr_service_reader_login_cb,
				   g_steal_pointer(&call));
	explicit_bzero(password, strlen(password));
}

static void
pr_service_reader_password_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	g_autoptr(JobCall) call = user_data;
	PrService *self = call->self;
	GCancellable *cancellable;
	g_autoptr(PrAccountConfig) config = NULL;
	g_autoptr(GError) error = NULL;
	gchar *password;

	password = pr_secrets_lookup_finish(res, &error);
	if (password == NULL) {
		pr_service_job_done(self, call->job, g_steal_pointer(&error));
		return;
	}
	config = pr_account_config_new_from_settings(self->settings);
	self->reader_client = pr_service_new_client(self, config, &error);
	if (self->reader_client == NULL) {
		pr_secrets_password_free(password);
		pr_service_job_done(self, call->job, g_steal_pointer(&error));
		return;
	}
	g_signal_connect(
		self->reader_client, "closed", G_CALLBACK(pr_service_reader_closed_cb), self);
	g_object_set_data_full(G_OBJECT(self->reader_client),
			       "pr-service-password",
			       password,
			       (GDestroyNotify)pr_secrets_password_free);
	cancellable = pr_operation_get_cancellable(call->job->operation);
	pr_imap_client_connect_async(self->reader_client,
				     cancellable,
				     pr_service_reader_connected_cb,
				     g_steal_pointer(&call));
}

static void
pr_service_job_read(PrService *self, PrJob *job)
{
	if (self->reader_sync != NULL) {
		pr_service_reader_fetch(self, job);
		return;
	}
	if (self->reader_client != NULL) {
		/* a login on it is under way for another job: keep order simple, wait */
		pr_service_job_done(
			self,
			job,
			g_error_new_literal(PR_ERROR,
					    PR_ERROR_BUSY,
					    _("The second connection is still opening")));
		return;
	}
	pr_secrets_lookup_async(self->id,
				"imap",
				pr_operation_get_cancellable(job->operation),
				pr_service_reader_password_cb,
				job_call_new(self, job));
}

static void
pr_service_stop_reader(PrService *self)
{
	if (self->reader_client == NULL)
		return;
	g_signal_handlers_disconnect_by_data(self->reader_client, self);
	if (self->reader_sync != NULL)
		g_signal_handlers_disconnect_by_data(self->reader_sync, self);
	pr_imap_client_logout_async(self->reader_client, NULL, NULL, NULL);
	g_clear_object(&self->reader_sync);
	g_clear_object(&self->reader_client);
}

/* Scheduling ------------------------------------------------------------------------------ */

static void
pr_service_run_next(PrService *self)
{
	PrJob *job;

	if (self->current != NULL || self->background != NULL) {
		/* writing work waits its turn; reading may go beside a background sync */
		if (self->background == NULL || self->current != NULL || self->reading != NULL ||
		    self->client == NULL)
			return;
		for (GList *l = self->jobs.head; l != NULL; l = l->next) {
			PrJob *candidate = l->data;
			if (!candidate->read_only)
				continue;
			g_queue_delete_link(&self->jobs, l);
			self->reading = candidate;
			pr_service_update_busy(self);
			pr_operation_start(candidate->operation);
			pr_service_job_read(self, candidate);
			return;
		}
		return;
	}
	job = g_queue_pop_head(&self->jobs);
	if (job == NULL) {
		pr_service_push_when_quiet(self);
		return;
	}
	if (job->background)
		self->background = job;
	else
		self->current = job;
	pr_service_update_busy(self);
	pr_operation_start(job->operation);
	job->run(self, job);
}

static PrJob *
pr_service_queue_job(PrService *self, const gchar *kind, PrJobFunc run)
{
	PrJob *job = g_new0(PrJob, 1);

	job->operation = pr_daemon_new_operation(self->daemon, kind, self->path);
	job->run = run;
	g_queue_push_tail(&self->jobs, job);
	return job;
}

/* Method helpers -------------------------------------------------------------------------- */

static gboolean
pr_service_check_no_options(GDBusMethodInvocation *invocation, GVariant *options)
{
	const gchar *key = NULL;

	if (g_variant_n_children(options) == 0)
		return TRUE;
	g_variant_get_child(options, 0, "{&sv}", &key, NULL);
	g_dbus_method_invocation_return_error(
		invocation, PR_ERROR, PR_ERROR_INVALID_ARGUMENT, _("Unknown option “%s”"), key);
	return FALSE;
}

static gboolean
pr_service_check_connected(PrService *self, GDBusMethodInvocation *invocation)
{
	if (self->client != NULL)
		return TRUE;
	g_dbus_method_invocation_return_error(invocation,
					      PR_ERROR,
					      PR_ERROR_NOT_CONNECTED,
					      _("The account %s is not connected"),
					      self->id);
	return FALSE;
}

/* Returns an operation path for a queued job and starts the queue. */
static void
pr_service_return_job(PrService *self, GDBusMethodInvocation *invocation, PrJob *job)
{
	g_dbus_method_invocation_return_value(
		invocation, g_variant_new("(o)", pr_operation_get_path(job->operation)));
	pr_service_run_next(self);
}

/* Settings and passwords ------------------------------------------------------------------ */

static gboolean
pr_service_handle_get_settings(PrDBusImap4Service *iface,
			       GDBusMethodInvocation *invocation,
			       gpointer user_data)
{
	PrService *self = PR_SERVICE(user_data);
	pr_dbus_imap4_service_complete_get_settings(
		iface, invocation, pr_settings_dup_all(self->settings));
	return TRUE;
}

static gboolean
pr_service_handle_update_settings(PrDBusImap4Service *iface,
				  GDBusMethodInvocation *invocation,
				  GVariant *changes,
				  gpointer user_data)
{
	PrService *self = PR_SERVICE(user_data);
	g_autoptr(GError) error = NULL;

	if (!pr_settings_apply(self->settings, changes, &error)) {
		g_dbus_method_invocation_return_gerror(invocation, error);
		return TRUE;
	}
	pr_dbus_imap4_service_complete_update_settings(iface, invocation);
	return TRUE;
}

static gboolean
pr_service_check_protocol(GDBusMethodInvocation *invocation, const gchar *protocol)
{
	if (g_strcmp0(protocol, "imap") == 0 || g_strcmp0(protocol, "smtp") == 0)
		return TRUE;
	g_dbus_method_invocation_return_error(invocation,
					      PR_ERROR,
					      PR_ERROR_INVALID_ARGUMENT,
					      _("The protocol must be “imap” or “smtp”"));
	return FALSE;
}

static void
pr_service_secret_done_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	g_autoptr(GDBusMethodInvocation) invocation = user_data;
	g_autoptr(GError) error = NULL;
	gboolean ok;

	if (g_object_get_data(G_OBJECT(invocation), "pr-clear") != NULL)
		ok = pr_secrets_clear_finish(res, &error);
	else
		ok = pr_secrets_store_finish(res, &error);
	if (!ok) {
		g_dbus_method_invocation_return_gerror(invocation, error);
		return;
	}
	g_dbus_method_invocation_return_value(invocation, NULL);
}

static gboolean
pr_service_handle_set_password(PrDBusImap4Service *iface,
			       GDBusMethodInvocation *invocation,
			       const gchar *protocol,
			       const gchar *password,
			       gpointer user_data)
{
	PrService *self = PR_SERVICE(user_data);
	g_autoptr(PrAccountConfig) config = NULL;
	g_autofree gchar *label = NULL;

	if (!pr_service_check_protocol(invocation, protocol))
		return TRUE;
	if (password[0] == '\0') {
		g_dbus_method_invocation_return_error(invocation,
						      PR_ERROR,
						      PR_ERROR_INVALID_ARGUMENT,
						      _("The password is empty"));
		return TRUE;
	}
	config = pr_account_config_new_from_settings(self->settings);
	/* TRANSLATORS: the keyring's label: user, host, protocol */
	label = g_strdup_printf(
		_("Postroom password for %s@%s (%s)"),
		g_strcmp0(protocol, "smtp") == 0 && config->smtp_user[0] != '\0' ? config->smtp_user
										 : config->user,
		g_strcmp0(protocol, "smtp") == 0 && config->smtp_host[0] != '\0' ? config->smtp_host
										 : config->host,
		g_strcmp0(protocol, "smtp") == 0 ? "SMTP" : "IMAP");
	pr_secrets_store_async(self->id,
			       protocol,
			       label,
			       password,
			       NULL,
			       pr_service_secret_done_cb,
			       g_object_ref(invocation));
	return TRUE;
}

static gboolean
pr_service_handle_clear_password(PrDBusImap4Service *iface,
				 GDBusMethodInvocation *invocation,
				 const gchar *protocol,
				 gpointer user_data)
{
	PrService *self = PR_SERVICE(user_data);

	if (!pr_service_check_protocol(invocation, protocol))
		return TRUE;
	g_object_set_data(G_OBJECT(invocation), "pr-clear", GINT_TO_POINTER(1));
	pr_secrets_clear_async(
		self->id, protocol, NULL, pr_service_secret_done_cb, g_object_ref(invocation));
	return TRUE;
}

/* Connection methods ---------------------------------------------------------------------- */

static gboolean
pr_service_handle_connect(PrDBusImap4Service *iface,
			  GDBusMethodInvocation *invocation,
			  GVariant *options,
			  gpointer user_data)
{
	PrService *self = PR_SERVICE(user_data);
	PrJob *job;

	if (!pr_service_check_no_options(invocation, options))
		return TRUE;
	job = pr_service_queue_job(self, "connect", pr_service_job_connect);
	pr_service_return_job(self, invocation, job);
	return TRUE;
}

static gboolean
pr_service_handle_disconnect(PrDBusImap4Service *iface,
			     GDBusMethodInvocation *invocation,
			     GVariant *options,
			     gpointer user_data)
{
	PrService *self = PR_SERVICE(user_data);
	PrJob *job;

	if (!pr_service_check_no_options(invocation, options))
		return TRUE;
	/* a background sync would hold the queue: stop it so the disconnect can run */
	if (self->background != NULL)
		g_cancellable_cancel(pr_operation_get_cancellable(self->background->operation));
	job = pr_service_queue_job(self, "disconnect", pr_service_job_disconnect);
	pr_service_return_job(self, invocation, job);
	return TRUE;
}

static gboolean
pr_service_handle_connect_and_sync(PrDBusImap4Service *iface,
				   GDBusMethodInvocation *invocation,
				   const gchar *complete_after,
				   GVariant *options,
				   gpointer user_data)
{
	PrService *self = PR_SERVICE(user_data);
	PrCompleteAfter mode;
	PrJob *job;

	if (g_strcmp0(complete_after, "connect") == 0) {
		mode = PR_COMPLETE_AFTER_CONNECT;
	} else if (g_strcmp0(complete_after, "sync") == 0) {
		mode = PR_COMPLETE_AFTER_SYNC;
	} else if (g_strcmp0(complete_after, "disconnect") == 0) {
		mode = PR_COMPLETE_AFTER_DISCONNECT;
	} else {
		g_dbus_method_invocation_return_error(
			invocation,
			PR_ERROR,
			PR_ERROR_INVALID_ARGUMENT,
			_("complete_after must be “connect”, “sync” or “disconnect”"));
		return TRUE;
	}
	if (!pr_service_check_no_options(invocation, options))
		return TRUE;
	job = pr_service_queue_job(self, "connect-and-sync", pr_service_job_connect);
	job->complete_after = mode;
	pr_service_return_job(self, invocation, job);
	return TRUE;
}

static gboolean
pr_service_handle_synchronise(PrDBusImap4Service *iface,
			      GDBusMethodInvocation *invocation,
			      const gchar *scope_str,
			      const gchar *const *folders,
			      GVariant *options,
			      gpointer user_data)
{
	PrService *self = PR_SERVICE(user_data);
	PrSyncScope scope;
	PrJob *job;

	if (!pr_sync_scope_from_string(scope_str, &scope)) {
		g_dbus_method_invocation_return_error(
			invocation,
			PR_ERROR,
			PR_ERROR_INVALID_ARGUMENT,
			_("The scope must be full, tree, inbox-new, folders or subscriptions"));
		return TRUE;
	}
	if (!pr_service_check_no_options(invocation, options))
		return TRUE;
	if (scope == PR_SYNC_SCOPE_FOLDERS) {
		if (folders[0] == NULL) {
			g_dbus_method_invocation_return_error(
				invocation,
				PR_ERROR,
				PR_ERROR_INVALID_ARGUMENT,
				_("Scope “folders” needs folder names"));
			return TRUE;
		}
		for (guint i = 0; folders[i] != NULL; i++) {
			g_autoptr(PrStoreFolder) folder = NULL;
			g_autoptr(GError) error = NULL;
			folder = pr_store_get_folder(self->store, folders[i], &error);
			if (folder == NULL) {
				g_dbus_method_invocation_return_gerror(invocation, error);
				return TRUE;
			}
		}
	}
	if (!pr_service_check_connected(self, invocation))
		return TRUE;
	job = pr_service_queue_job(self, "synchronise", pr_service_job_sync);
	job->scope = scope;
	job->folders = g_strdupv((gchar **)folders);
	pr_service_return_job(self, invocation, job);
	return TRUE;
}

static gboolean
pr_service_handle_cancel_background_sync(PrDBusImap4Service *iface,
					 GDBusMethodInvocation *invocation,
					 GVariant *options,
					 gpointer user_data)
{
	PrService *self = PR_SERVICE(user_data);

	if (!pr_service_check_no_options(invocation, options))
		return TRUE;
	if (self->background != NULL)
		g_cancellable_cancel(pr_operation_get_cancellable(self->background->operation));
	pr_dbus_imap4_service_complete_cancel_background_sync(iface, invocation);
	return TRUE;
}

static void
pr_service_background_done_cb(PrOperation *background, GError *error, gpointer user_data)
{
	PrOperation *waiter = PR_OPERATION(user_data);
	g_signal_handlers_disconnect_by_data(background, waiter);
	pr_operation_complete(waiter, NULL);
	g_object_unref(waiter);
}

static gboolean
pr_service_handle_wait_for_background(PrDBusImap4Service *iface,
				      GDBusMethodInvocation *invocation,
				      GVariant *options,
				      gpointer user_data)
{
	PrService *self = PR_SERVICE(user_data);
	g_autoptr(PrOperation) operation = NULL;

	if (!pr_service_check_no_options(invocation, options))
		return TRUE;
	operation = pr_daemon_new_operation(self->daemon, "wait-for-background", self->path);
	pr_operation_start(operation);
	if (self->background == NULL) {
		pr_operation_complete(operation, NULL);
	} else {
		g_signal_connect(self->background->operation,
				 "completed",
				 G_CALLBACK(pr_service_background_done_cb),
				 g_object_ref(operation));
	}
	pr_dbus_imap4_service_complete_wait_for_background(
		iface, invocation, pr_operation_get_path(operation));
	return TRUE;
}

/* Reading the store ----------------------------------------------------------------------- */

static GVariant *
pr_service_folder_variant(PrStoreFolder *folder)
{
	g_auto(GVariantBuilder) builder = G_VARIANT_BUILDER_INIT(G_VARIANT_TYPE_VARDICT);
	const gchar *const empty[] = { NULL };
	gchar delimiter[2] = { folder->delimiter, '\0' };

	g_variant_builder_add(&builder, "{sv}", "delimiter", g_variant_new_string(delimiter));
	g_variant_builder_add(&builder,
			      "{sv}",
			      "attributes",
			      g_variant_new_strv(folder->attributes != NULL
							 ? (const gchar *const *)folder->attributes
							 : empty,
						 -1));
	g_variant_builder_add(
		&builder,
		"{sv}",
		"special-use",
		g_variant_new_string(folder->special_use != NULL ? folder->special_use : ""));
	g_variant_builder_add(
		&builder, "{sv}", "subscribed", g_variant_new_boolean(folder->subscribed));
	g_variant_builder_add(&builder, "{sv}", "local", g_variant_new_boolean(folder->local));
	g_variant_builder_add(&builder, "{sv}", "messages", g_variant_new_uint32(folder->messages));
	g_variant_builder_add(&builder, "{sv}", "unseen", g_variant_new_uint32(folder->unseen));
	g_variant_builder_add(
		&builder, "{sv}", "uidvalidity", g_variant_new_uint32(folder->uidvalidity));
	return g_variant_new("(s@a{sv})", folder->name, g_variant_builder_end(&builder));
}

static gboolean
pr_service_handle_list_folders(PrDBusImap4Service *iface,
			       GDBusMethodInvocation *invocation,
			       GVariant *options,
			       gpointer user_data)
{
	PrService *self = PR_SERVICE(user_data);
	g_autoptr(GPtrArray) folders = NULL;
	g_autoptr(GError) error = NULL;
	g_auto(GVariantBuilder) builder = G_VARIANT_BUILDER_INIT(G_VARIANT_TYPE("a(sa{sv})"));

	if (!pr_service_check_no_options(invocation, options))
		return TRUE;
	folders = pr_store_list_folders(self->store, &error);
	if (folders == NULL) {
		g_dbus_method_invocation_return_gerror(invocation, error);
		return TRUE;
	}
	for (guint i = 0; i < folders->len; i++)
		g_variant_builder_add_value(
			&builder, pr_service_folder_variant(g_ptr_array_index(folders, i)));
	pr_dbus_imap4_service_complete_list_folders(
		iface, invocation, g_variant_builder_end(&builder));
	return TRUE;
}

static void
pr_service_add_message_keys(GVariantBuilder *builder, PrStoreMessage *message)
{
	const gchar *const empty[] = { NULL };

#define PR_STRV(v) g_variant_new_strv((v) != NULL ? (const gchar *const *)(v) : empty, -1)
#define PR_STR(v)  g_variant_new_string((v) != NULL ? (v) : "")
	g_variant_builder_add(builder, "{sv}", "uid", g_variant_new_uint32(message->uid));
	g_variant_builder_add(builder, "{sv}", "flags", PR_STRV(message->flags));
	g_variant_builder_add(
		builder, "{sv}", "internal-date", g_variant_new_int64(message->internal_date));
	g_variant_builder_add(builder, "{sv}", "size", g_variant_new_uint64(message->size));
	g_variant_builder_add(builder, "{sv}", "subject", PR_STR(message->subject));
	g_variant_builder_add(builder, "{sv}", "from", PR_STR(message->from));
	g_variant_builder_add(builder, "{sv}", "to", PR_STRV(message->to));
	g_variant_builder_add(builder, "{sv}", "cc", PR_STRV(message->cc));
	g_variant_builder_add(builder, "{sv}", "date", g_variant_new_int64(message->date));
	g_variant_builder_add(builder, "{sv}", "message-id", PR_STR(message->message_id));
	g_variant_builder_add(builder, "{sv}", "in-reply-to", PR_STR(message->in_reply_to));
	g_variant_builder_add(builder,
			      "{sv}",
			      "has-attachments",
			      g_variant_new_boolean(message->has_attachments));
	g_variant_builder_add(builder,
			      "{sv}",
			      "download",
			      g_variant_new_string(pr_store_download_to_string(message->download)));
	g_variant_builder_add(builder, "{sv}", "pending", PR_STR(message->pending));
#undef PR_STRV
#undef PR_STR
}

static gboolean
pr_service_parse_query(GVariant *query, PrStoreQuery *out, GError **error)
{
	GVariantIter iter;
	const gchar *key;
	GVariant *value;

	memset(out, 0, sizeof(*out));
	g_variant_iter_init(&iter, query);
	while (g_variant_iter_next(&iter, "{&sv}", &key, &value)) {
		g_autoptr(GVariant) owned = value;
		const gchar *type = NULL;
		if (g_strcmp0(key, "offset") == 0) {
			type = "u";
			if (g_variant_is_of_type(value, G_VARIANT_TYPE_UINT32)) {
				out->offset = g_variant_get_uint32(value);
				continue;
			}
		} else if (g_strcmp0(key, "limit") == 0) {
			type = "u";
			if (g_variant_is_of_type(value, G_VARIANT_TYPE_UINT32)) {
				out->limit = g_variant_get_uint32(value);
				continue;
			}
		} else if (g_strcmp0(key, "unseen-only") == 0) {
			type = "b";
			if (g_variant_is_of_type(value, G_VARIANT_TYPE_BOOLEAN)) {
				out->unseen_only = g_variant_get_boolean(value);
				continue;
			}
		} else if (g_strcmp0(key, "changed-since") == 0) {
			type = "t";
			if (g_variant_is_of_type(value, G_VARIANT_TYPE_UINT64)) {
				out->changed_since = g_variant_get_uint64(value);
				continue;
			}
		} else {
			g_set_error(error,
				    PR_ERROR,
				    PR_ERROR_INVALID_ARGUMENT,
				    _("Unknown query key “%s”"),
				    key);
			return FALSE;
		}
		g_set_error(error,
			    PR_ERROR,
			    PR_ERROR_INVALID_ARGUMENT,
			    _("Query key “%s” must be of type %s"),
			    key,
			    type);
		return FALSE;
	}
	return TRUE;
}

static gboolean
pr_service_handle_list_messages(PrDBusImap4Service *iface,
				GDBusMethodInvocation *invocation,
				const gchar *folder_name,
				GVariant *query,
				gpointer user_data)
{
	PrService *self = PR_SERVICE(user_data);
	g_autoptr(PrStoreFolder) folder = NULL;
	g_autoptr(GPtrArray) messages = NULL;
	g_autoptr(GError) error = NULL;
	g_auto(GVariantBuilder) builder = G_VARIANT_BUILDER_INIT(G_VARIANT_TYPE("a(ta{sv})"));
	PrStoreQuery q;

	if (!pr_service_parse_query(query, &q, &error)) {
		g_dbus_method_invocation_return_gerror(invocation, error);
		return TRUE;
	}
	folder = pr_store_get_folder(self->store, folder_name, &error);
	if (folder == NULL) {
		g_dbus_method_invocation_return_gerror(invocation, error);
		return TRUE;
	}
	messages = pr_store_list_messages(self->store, folder->id, &q, &error);
	if (messages == NULL) {
		g_dbus_method_invocation_return_gerror(invocation, error);
		return TRUE;
	}
	for (guint i = 0; i < messages->len; i++) {
		PrStoreMessage *message = g_ptr_array_index(messages, i);
		g_auto(GVariantBuilder) entry = G_VARIANT_BUILDER_INIT(G_VARIANT_TYPE_VARDICT);
		pr_service_add_message_keys(&entry, message);
		g_variant_builder_add(
			&builder, "(t@a{sv})", message->id, g_variant_builder_end(&entry));
	}
	pr_dbus_imap4_service_complete_list_messages(
		iface, invocation, g_variant_builder_end(&builder));
	return TRUE;
}

static gboolean
pr_service_handle_get_message(PrDBusImap4Service *iface,
			      GDBusMethodInvocation *invocation,
			      GUnixFDList *in_fds,
			      guint64 id,
			      GVariant *options,
			      gpointer user_data)
{
	PrService *self = PR_SERVICE(user_data);
	g_autoptr(PrStoreMessage) message = NULL;
	g_autoptr(GError) error = NULL;
	g_autoptr(GUnixFDList) fds = NULL;
	g_auto(GVariantBuilder) info = G_VARIANT_BUILDER_INIT(G_VARIANT_TYPE_VARDICT);
	gint fd;
	gint handle;

	if (!pr_service_check_no_options(invocation, options))
		return TRUE;
	message = pr_store_get_message(self->store, id, &error);
	if (message == NULL) {
		g_dbus_method_invocation_return_gerror(invocation, error);
		return TRUE;
	}
	fd = pr_store_open_body(self->store, id, &error);
	if (fd < 0) {
		g_dbus_method_invocation_return_gerror(invocation, error);
		return TRUE;
	}
	fds = g_unix_fd_list_new();
	handle = g_unix_fd_list_append(fds, fd, &error);
	close(fd);
	if (handle < 0) {
		g_dbus_method_invocation_return_gerror(invocation, error);
		return TRUE;
	}
	pr_service_add_message_keys(&info, message);
	g_variant_builder_add(&info, "{sv}", "id", g_variant_new_uint64(message->id));
	g_variant_builder_add(&info,
			      "{sv}",
			      "folder",
			      g_variant_new_string(message->folder != NULL ? message->folder : ""));
	g_variant_builder_add(
		&info,
		"{sv}",
		"complete",
		g_variant_new_boolean(message->download == PR_STORE_DOWNLOAD_COMPLETE));
	pr_dbus_imap4_service_complete_get_message(
		iface, invocation, fds, g_variant_builder_end(&info), g_variant_new_handle(handle));
	return TRUE;
}

/* GetMail --------------------------------------------------------------------------------- */

static const gchar *const pr_get_mail_choices_action[] = { "copy", "move", "populate", NULL };
static const gchar *const pr_get_mail_choices_messages[] = { "new", "all", "selection", NULL };
static const gchar *const pr_get_mail_choices_connection[] = { "already-connected",
							       "connect-and-disconnect",
							       "connect-and-stay-online",
							       NULL };
static const gchar *const pr_get_mail_choices_parts[] = {
	"headers", "body-text", "body-text-and-attachments", "attachments", "body-alternative-text",
	NULL
};
static const gchar *const pr_get_mail_choices_partial[] = { "none",
							    "body-text-only",
							    "attachments-only",
							    "body-text-and-attachments",
							    "cumulative",
							    "body-alternative-text",
							    NULL };

typedef struct {
	const gchar *key;
	const gchar *type;
	const gchar *const *choices;
} PrOptionSpec;

static const PrOptionSpec pr_get_mail_options[] = {
	{ "action", "s", pr_get_mail_choices_action },
	{ "messages", "s", pr_get_mail_choices_messages },
	{ "folder", "s", NULL },
	{ "ids", "at", NULL },
	{ "destination", "s", NULL },
	{ "connection", "s", pr_get_mail_choices_connection },
	{ "parts", "s", pr_get_mail_choices_parts },
	{ "partial", "s", pr_get_mail_choices_partial },
	{ "body-text-size-limit", "t", NULL },
	{ "attachment-size-limit", "t", NULL },
	{ "total-size-limit", "t", NULL },
	{ "max-message-size", "t", NULL },
};

static gboolean
pr_service_check_options(GVariant *options,
			 const PrOptionSpec *specs,
			 gsize n_specs,
			 GError **error)
{
	GVariantIter iter;
	const gchar *key;
	GVariant *value;

	g_variant_iter_init(&iter, options);
	while (g_variant_iter_next(&iter, "{&sv}", &key, &value)) {
		g_autoptr(GVariant) owned = value;
		const PrOptionSpec *spec = NULL;
		for (gsize i = 0; i < n_specs; i++) {
			if (g_strcmp0(specs[i].key, key) == 0)
				spec = &specs[i];
		}
		if (spec == NULL) {
			g_set_error(error,
				    PR_ERROR,
				    PR_ERROR_INVALID_ARGUMENT,
				    _("Unknown option “%s”"),
				    key);
			return FALSE;
		}
		if (!g_variant_is_of_type(value, G_VARIANT_TYPE(spec->type))) {
			g_set_error(error,
				    PR_ERROR,
				    PR_ERROR_INVALID_ARGUMENT,
				    _("Option “%s” must be of type %s"),
				    key,
				    spec->type);
			return FALSE;
		}
		if (spec->choices != NULL &&
		    !g_strv_contains(spec->choices, g_variant_get_string(value, NULL))) {
			g_autofree gchar *allowed = g_strjoinv(", ", (gchar **)spec->choices);
			g_set_error(error,
				    PR_ERROR,
				    PR_ERROR_INVALID_ARGUMENT,
				    _("Option “%s” must be one of: %s"),
				    key,
				    allowed);
			return FALSE;
		}
	}
	return TRUE;
}

/* The get-mail job connects first when asked to. */
static void
pr_service_job_connect_then_get_mail(PrService *self, PrJob *job)
{
	pr_service_job_connect(self, job);
}

static gboolean
pr_service_handle_get_mail(PrDBusImap4Service *iface,
			   GDBusMethodInvocation *invocation,
			   GVariant *options,
			   gpointer user_data)
{
	PrService *self = PR_SERVICE(user_data);
	g_autoptr(GError) error = NULL;
	g_autoptr(GArray) ids = g_array_new(FALSE, FALSE, sizeof(guint64));
	g_autoptr(PrStoreFolder) folder = NULL;
	const gchar *action = "populate";
	const gchar *messages = "new";
	const gchar *folder_name = "INBOX";
	const gchar *connection = "already-connected";
	PrJob *job;

	if (!pr_service_check_options(
		    options, pr_get_mail_options, G_N_ELEMENTS(pr_get_mail_options), &error)) {
		g_dbus_method_invocation_return_gerror(invocation, error);
		return TRUE;
	}
	g_variant_lookup(options, "action", "&s", &action);
	g_variant_lookup(options, "messages", "&s", &messages);
	g_variant_lookup(options, "folder", "&s", &folder_name);
	g_variant_lookup(options, "connection", "&s", &connection);
	if (g_strcmp0(action, "populate") != 0) {
		/* TODO(get-mail): copy and move into local folders */
		g_dbus_method_invocation_return_error(
			invocation,
			PR_ERROR,
			PR_ERROR_INVALID_ARGUMENT,
			_("GetMail supports action “populate” only so far"));
		return TRUE;
	}
	if (g_strcmp0(messages, "selection") == 0) {
		g_autoptr(GVariant) v =
			g_variant_lookup_value(options, "ids", G_VARIANT_TYPE("at"));
		gsize n = 0;
		const guint64 *list =
			v != NULL ? g_variant_get_fixed_array(v, &n, sizeof(guint64)) : NULL;
		if (n == 0) {
			g_dbus_method_invocation_return_error(
				invocation,
				PR_ERROR,
				PR_ERROR_INVALID_ARGUMENT,
				_("messages=selection needs a non-empty “ids”"));
			return TRUE;
		}
		for (gsize i = 0; i < n; i++) {
			g_autoptr(PrStoreMessage) m =
				pr_store_get_message(self->store, list[i], &error);
			if (m == NULL) {
				g_dbus_method_invocation_return_gerror(invocation, error);
				return TRUE;
			}
			g_array_append_val(ids, list[i]);
		}
	} else {
		g_autoptr(GArray) missing = NULL;
		folder = pr_store_get_folder(self->store, folder_name, &error);
		if (folder == NULL) {
			g_dbus_method_invocation_return_gerror(invocation, error);
			return TRUE;
		}
		missing = pr_store_get_missing_bodies(self->store, folder->id, &error);
		if (missing == NULL) {
			g_dbus_method_invocation_return_gerror(invocation, error);
			return TRUE;
		}
		g_array_append_vals(ids, missing->data, missing->len);
	}
	if (g_strcmp0(connection, "already-connected") == 0 &&
	    !pr_service_check_connected(self, invocation))
		return TRUE;
	job = pr_service_queue_job(self, "get-mail", pr_service_job_connect_then_get_mail);
	job->ids = g_steal_pointer(&ids);
	job->disconnect_after = g_strcmp0(connection, "connect-and-disconnect") == 0;
	/* downloading bodies changes nothing on the server */
	job->read_only = self->client != NULL && !job->disconnect_after;
	job->then = pr_service_job_get_mail;
	pr_service_return_job(self, invocation, job);
	return TRUE;
}

/* Subscriptions and folders --------------------------------------------------------------- */

/* An operation for work that is done by the time the call returns. */
static void
pr_service_return_done(PrService *self,
		       GDBusMethodInvocation *invocation,
		       const gchar *kind,
		       const GError *error)
{
	g_autoptr(PrOperation) operation = pr_daemon_new_operation(self->daemon, kind, self->path);

	pr_operation_start(operation);
	pr_operation_complete(operation, error);
	if (error != NULL)
		pr_service_set_last_error(self, error);
	g_dbus_method_invocation_return_value(
		invocation, g_variant_new("(o)", pr_operation_get_path(operation)));
}

static gboolean
pr_service_set_subscribed(PrService *self,
			  GDBusMethodInvocation *invocation,
			  const gchar *name,
			  GVariant *options,
			  gboolean subscribed)
{
	g_autoptr(PrStoreFolder) folder = NULL;
	g_autoptr(GError) error = NULL;

	if (!pr_service_check_no_options(invocation, options))
		return TRUE;
	folder = pr_store_get_folder(self->store, name, &error);
	if (folder == NULL) {
		g_dbus_method_invocation_return_gerror(invocation, error);
		return TRUE;
	}
	if (folder->subscribed != subscribed) {
		folder->subscribed = subscribed;
		if (!pr_store_save_folder(self->store, folder, &error)) {
			g_dbus_method_invocation_return_gerror(invocation, error);
			return TRUE;
		}
		pr_dbus_imap4_service_emit_folders_changed(self->iface);
	}
	pr_service_return_done(self, invocation, subscribed ? "subscribe" : "unsubscribe", NULL);
	return TRUE;
}

static gboolean
pr_service_handle_subscribe(PrDBusImap4Service *iface,
			    GDBusMethodInvocation *invocation,
			    const gchar *folder,
			    GVariant *options,
			    gpointer user_data)
{
	return pr_service_set_subscribed(user_data, invocation, folder, options, TRUE);
}

static gboolean
pr_service_handle_unsubscribe(PrDBusImap4Service *iface,
			      GDBusMethodInvocation *invocation,
			      const gchar *folder,
			      GVariant *options,
			      gpointer user_data)
{
	return pr_service_set_subscribed(user_data, invocation, folder, options, FALSE);
}

static gboolean
pr_service_is_local_name(const gchar *name)
{
	return g_str_has_prefix(name, "local:");
}

/* INBOX and the built-in local folders cannot be renamed or deleted. */
static gboolean
pr_service_is_protected(const gchar *name)
{
	return g_ascii_strcasecmp(name, "INBOX") == 0 || g_strcmp0(name, "local:Outbox") == 0 ||
	       g_strcmp0(name, "local:Drafts") == 0 || g_strcmp0(name, "local:Sent") == 0;
}

static gboolean
pr_service_check_new_name(PrService *self, const gchar *name, GError **error)
{
	g_autoptr(PrStoreFolder) existing = NULL;
	const gchar *bare = pr_service_is_local_name(name) ? name + strlen("local:") : name;

	if (bare[0] == '\0' || !g_utf8_validate(name, -1, NULL)) {
		g_set_error(error,
			    PR_ERROR,
			    PR_ERROR_INVALID_ARGUMENT,
			    _("“%s” is not a valid folder name"),
			    name);
		return FALSE;
	}
	for (const gchar *p = name; *p != '\0'; p++) {
		if ((guchar)*p < 0x20 || *p == 0x7f) {
			g_set_error(error,
				    PR_ERROR,
				    PR_ERROR_INVALID_ARGUMENT,
				    _("A folder name cannot contain control characters"));
			return FALSE;
		}
	}
	if (pr_service_is_protected(name)) {
		g_set_error(error,
			    PR_ERROR,
			    PR_ERROR_INVALID_ARGUMENT,
			    _("The folder name “%s” is reserved"),
			    name);
		return FALSE;
	}
	existing = pr_store_get_folder(self->store, name, NULL);
	if (existing != NULL) {
		g_set_error(error,
			    PR_ERROR,
			    PR_ERROR_INVALID_ARGUMENT,
			    _("A folder named “%s” already exists"),
			    name);
		return FALSE;
	}
	return TRUE;
}

/* Server folder jobs: one IMAP command chain, then a tree sync to refresh the store. */
typedef struct {
	gchar *name;
	gchar *to;
	GPtrArray *commands; /* PrImapCommand, sent in order */
	guint next;
	gboolean deselect; /* leave the selected mailbox before the commands */
} FolderWork;

static void
folder_work_free(FolderWork *work)
{
	g_free(work->name);
	g_free(work->to);
	g_ptr_array_unref(work->commands);
	g_free(work);
}

static void pr_service_folder_step(PrService *self, PrJob *job);
static void pr_service_deselect_first(PrService *self, FolderWork *work);

static void
pr_service_folder_tree_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	g_autoptr(JobCall) call = user_data;
	g_autoptr(GError) error = NULL;

	if (!pr_sync_run_finish(PR_SYNC(source), res, &error)) {
		pr_service_job_done(call->self, call->job, g_steal_pointer(&error));
		return;
	}
	pr_dbus_imap4_service_emit_folders_changed(call->self->iface);
	pr_service_job_done(call->self, call->job, NULL);
}

static void
pr_service_folder_command_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	g_autoptr(JobCall) call = user_data;
	g_autoptr(PrImapResponse) response = NULL;
	g_autoptr(GError) error = NULL;

	response = pr_imap_client_run_finish(PR_IMAP_CLIENT(source), res, NULL, &error);
	if (response == NULL) {
		pr_service_job_done(call->self, call->job, g_steal_pointer(&error));
		return;
	}
	pr_service_folder_step(call->self, call->job);
}

static void
pr_service_folder_step(PrService *self, PrJob *job)
{
	FolderWork *work = g_object_get_data(G_OBJECT(job->operation), "pr-folder-work");

	if (self->client == NULL || self->sync == NULL) {
		pr_service_job_done(
			self,
			job,
			g_error_new_literal(PR_ERROR, PR_ERROR_NOT_CONNECTED, _("Not connected")));
		return;
	}
	if (work->deselect) {
		work->deselect = FALSE;
		pr_service_deselect_first(self, work);
	}
	if (work->next < work->commands->len) {
		PrImapCommand *command = g_ptr_array_index(work->commands, work->next++);
		pr_imap_command_set_utf8(command, pr_imap_client_get_utf8_enabled(self->client));
		pr_imap_client_run_async(self->client,
					 command,
					 pr_operation_get_cancellable(job->operation),
					 pr_service_folder_command_cb,
					 job_call_new(self, job));
		return;
	}
	/* rename: the store follows first, so ids survive; the tree sync then confirms */
	if (work->to != NULL) {
		g_autoptr(GError) error = NULL;
		g_autofree gchar *raw_to = NULL;
		g_autoptr(PrStoreFolder) folder =
			pr_store_get_folder(self->store, work->name, NULL);
		raw_to = pr_imap_client_get_utf8_enabled(self->client)
				 ? g_strdup(work->to)
				 : pr_imap_utf7_encode(work->to, NULL);
		if (folder != NULL &&
		    !pr_store_rename_folder(
			    self->store, work->name, work->to, raw_to, folder->delimiter, &error)) {
			pr_service_job_done(self, job, g_steal_pointer(&error));
			return;
		}
	}
	pr_progress_set_stage(pr_operation_get_progress(job->operation), "syncing-tree");
	pr_sync_run_async(self->sync,
			  PR_SYNC_SCOPE_TREE,
			  NULL,
			  pr_operation_get_progress(job->operation),
			  pr_operation_get_cancellable(job->operation),
			  pr_service_folder_tree_cb,
			  job_call_new(self, job));
}

static PrImapCommand *
pr_service_mailbox_command(const gchar *verb, const gchar *raw_or_utf8, gboolean raw)
{
	PrImapCommand *command = pr_imap_command_new(verb);

	if (raw) {
		/* a name as the server spelled it goes back byte for byte */
		pr_imap_command_add_string(command, raw_or_utf8, -1);
	} else {
		pr_imap_command_add_mailbox(command, raw_or_utf8, NULL);
	}
	return command;
}

/* Servers end the session when the selected mailbox is deleted or renamed under it
 * (Dovecot: BYE "Selected mailbox was deleted"): leave it first. UNSELECT does not expunge;
 * without it, EXAMINE INBOX (never renamed or deleted here) deselects just as well. */
static void
pr_service_deselect_first(PrService *self, FolderWork *work)
{
	PrImapCommand *command;

	if (self->client == NULL ||
	    pr_imap_client_get_state(self->client) != PR_IMAP_CLIENT_STATE_SELECTED)
		return;
	if (pr_imap_client_has_capability(self->client, "UNSELECT")) {
		command = pr_imap_command_new("UNSELECT");
	} else {
		command = pr_imap_command_new("EXAMINE");
		pr_imap_command_add_atom(command, "INBOX");
	}
	g_ptr_array_insert(work->commands, 0, command);
}

static void
pr_service_queue_folder_job(PrService *self,
			    GDBusMethodInvocation *invocation,
			    const gchar *kind,
			    FolderWork *work)
{
	PrJob *job = pr_service_queue_job(self, kind, pr_service_folder_step);

	g_object_set_data_full(
		G_OBJECT(job->operation), "pr-folder-work", work, (GDestroyNotify)folder_work_free);
	pr_service_return_job(self, invocation, job);
}

static FolderWork *
folder_work_new(const gchar *name, const gchar *to)
{
	FolderWork *work = g_new0(FolderWork, 1);
	work->name = g_strdup(name);
	work->to = g_strdup(to);
	work->commands = g_ptr_array_new_with_free_func(g_object_unref);
	return work;
}

static gboolean
pr_service_handle_create_folder(PrDBusImap4Service *iface,
				GDBusMethodInvocation *invocation,
				const gchar *name,
				GVariant *options,
				gpointer user_data)
{
	PrService *self = PR_SERVICE(user_data);
	g_autoptr(GError) error = NULL;
	FolderWork *work;

	if (!pr_service_check_no_options(invocation, options))
		return TRUE;
	if (!pr_service_check_new_name(self, name, &error)) {
		g_dbus_method_invocation_return_gerror(invocation, error);
		return TRUE;
	}
	if (pr_service_is_local_name(name)) {
		g_autoptr(PrStoreFolder) folder = pr_store_folder_new();
		folder->name = g_strdup(name);
		folder->local = TRUE;
		folder->subscribed = TRUE;
		if (!pr_store_save_folder(self->store, folder, &error)) {
			g_dbus_method_invocation_return_gerror(invocation, error);
			return TRUE;
		}
		pr_dbus_imap4_service_emit_folders_changed(self->iface);
		pr_service_return_done(self, invocation, "create-folder", NULL);
		return TRUE;
	}
	if (!pr_service_check_connected(self, invocation))
		return TRUE;
	work = folder_work_new(name, NULL);
	g_ptr_array_add(work->commands, pr_service_mailbox_command("CREATE", name, FALSE));
	/* a folder the user made is one they want to see synchronised */
	g_ptr_array_add(work->commands, pr_service_mailbox_command("SUBSCRIBE", name, FALSE));
	pr_service_queue_folder_job(self, invocation, "create-folder", work);
	return TRUE;
}

/* Children of @folder in the store, deepest first. */
static GPtrArray *
pr_service_folder_children(PrService *self, PrStoreFolder *folder)
{
	g_autoptr(GPtrArray) all = pr_store_list_folders(self->store, NULL);
	GPtrArray *children = g_ptr_array_new_with_free_func((GDestroyNotify)pr_store_folder_free);
	g_autofree gchar *prefix = NULL;

	if (all == NULL || folder->delimiter == 0)
		return children;
	prefix = g_strdup_printf("%s%c", folder->name, folder->delimiter);
	for (guint i = all->len; i > 0; i--) {
		PrStoreFolder *f = g_ptr_array_index(all, i - 1);
		if (g_str_has_prefix(f->name, prefix))
			g_ptr_array_add(children, g_ptr_array_steal_index(all, i - 1));
	}
	return children;
}

/* The folder @name of the store, unless it is one that cannot be renamed (@rename) or
 * deleted: on failure the call has been answered (InvalidArgument, or NotFound). */
static PrStoreFolder *
pr_service_lookup_changeable(PrService *self,
			     GDBusMethodInvocation *invocation,
			     const gchar *name,
			     gboolean rename)
{
	g_autoptr(GError) error = NULL;
	PrStoreFolder *folder;

	if (pr_service_is_protected(name)) {
		if (rename)
			g_dbus_method_invocation_return_error(
				invocation,
				PR_ERROR,
				PR_ERROR_INVALID_ARGUMENT,
				_("The folder “%s” cannot be renamed"),
				name);
		else
			g_dbus_method_invocation_return_error(
				invocation,
				PR_ERROR,
				PR_ERROR_INVALID_ARGUMENT,
				_("The folder “%s” cannot be deleted"),
				name);
		return NULL;
	}
	folder = pr_store_get_folder(self->store, name, &error);
	if (folder == NULL)
		g_dbus_method_invocation_return_gerror(invocation, error);
	return folder;
}

static gboolean
pr_service_handle_delete_folder(PrDBusImap4Service *iface,
				GDBusMethodInvocation *invocation,
				const gchar *name,
				GVariant *options,
				gpointer user_data)
{
	PrService *self = PR_SERVICE(user_data);
	g_autoptr(PrStoreFolder) folder = NULL;
	g_autoptr(GPtrArray) children = NULL;
	g_autoptr(GError) error = NULL;
	FolderWork *work;

	if (!pr_service_check_no_options(invocation, options))
		return TRUE;
	folder = pr_service_lookup_changeable(self, invocation, name, FALSE);
	if (folder == NULL)
		return TRUE;
	if (folder->local) {
		if (!pr_store_delete_folder(self->store, folder->id, &error)) {
			g_dbus_method_invocation_return_gerror(invocation, error);
			return TRUE;
		}
		pr_dbus_imap4_service_emit_folders_changed(self->iface);
		pr_service_return_done(self, invocation, "delete-folder", NULL);
		return TRUE;
	}
	if (!pr_service_check_connected(self, invocation))
		return TRUE;
	work = folder_work_new(name, NULL);
	/* children first: servers refuse, or leave a \Noselect shell, otherwise */
	children = pr_service_folder_children(self, folder);
	for (guint i = 0; i < children->len; i++) {
		PrStoreFolder *child = g_ptr_array_index(children, i);
		g_ptr_array_add(work->commands,
				pr_service_mailbox_command("UNSUBSCRIBE", child->raw_name, TRUE));
		g_ptr_array_add(work->commands,
				pr_service_mailbox_command("DELETE", child->raw_name, TRUE));
	}
	g_ptr_array_add(work->commands,
			pr_service_mailbox_command("UNSUBSCRIBE", folder->raw_name, TRUE));
	g_ptr_array_add(work->commands,
			pr_service_mailbox_command("DELETE", folder->raw_name, TRUE));
	work->deselect = TRUE;
	pr_service_queue_folder_job(self, invocation, "delete-folder", work);
	return TRUE;
}

static gboolean
pr_service_handle_rename_folder(PrDBusImap4Service *iface,
				GDBusMethodInvocation *invocation,
				const gchar *from,
				const gchar *to,
				GVariant *options,
				gpointer user_data)
{
	PrService *self = PR_SERVICE(user_data);
	g_autoptr(PrStoreFolder) folder = NULL;
	g_autoptr(GError) error = NULL;
	FolderWork *work;

	if (!pr_service_check_no_options(invocation, options))
		return TRUE;
	folder = pr_service_lookup_changeable(self, invocation, from, TRUE);
	if (folder == NULL)
		return TRUE;
	if (!pr_service_check_new_name(self, to, &error)) {
		g_dbus_method_invocation_return_gerror(invocation, error);
		return TRUE;
	}
	if (folder->local != pr_service_is_local_name(to)) {
		g_dbus_method_invocation_return_error(
			invocation,
			PR_ERROR,
			PR_ERROR_INVALID_ARGUMENT,
			_("A folder cannot move between this machine and the server by renaming"));
		return TRUE;
	}
	if (folder->local) {
		if (!pr_store_rename_folder(self->store, from, to, NULL, 0, &error)) {
			g_dbus_method_invocation_return_gerror(invocation, error);
			return TRUE;
		}
		pr_dbus_imap4_service_emit_folders_changed(self->iface);
		pr_service_return_done(self, invocation, "rename-folder", NULL);
		return TRUE;
	}
	if (!pr_service_check_connected(self, invocation))
		return TRUE;
	work = folder_work_new(from, to);
	{
		g_autoptr(PrImapCommand) command = pr_imap_command_new("RENAME");
		pr_imap_command_add_string(command, folder->raw_name, -1);
		if (!pr_imap_command_add_mailbox(command, to, &error)) {
			folder_work_free(work);
			g_dbus_method_invocation_return_gerror(invocation, error);
			return TRUE;
		}
		g_ptr_array_add(work->commands, g_steal_pointer(&command));
	}
	work->deselect = TRUE;
	pr_service_queue_folder_job(self, invocation, "rename-folder", work);
	return TRUE;
}

/* Not yet available ----------------------------------------------------------------------- */

static gboolean
pr_service_handle_unsupported(PrDBusImap4Service *iface,
			      GDBusMethodInvocation *invocation,
			      gpointer user_data)
{
	g_dbus_method_invocation_return_error(invocation,
					      PR_ERROR,
					      PR_ERROR_FAILED,
					      _("%s is not available in this version"),
					      g_dbus_method_invocation_get_method_name(invocation));
	return TRUE;
}

/* Remove and shutdown --------------------------------------------------------------------- */

static void
pr_service_clear_secrets_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	g_autoptr(GTask) task = G_TASK(user_data);
	PrService *self = g_task_get_source_object(task);
	g_autoptr(GError) error = NULL;

	if (!pr_secrets_clear_finish(res, &error) &&
	    !g_error_matches(error, PR_ERROR, PR_ERROR_NO_PASSWORD)) {
		g_task_return_error(task, g_steal_pointer(&error));
		return;
	}
	if (self->store != NULL && !pr_store_destroy(self->store, &error)) {
		g_task_return_error(task, g_steal_pointer(&error));
		return;
	}
	g_clear_object(&self->store);
	pr_settings_reset_all(self->settings);
	g_dbus_object_manager_server_unexport(self->manager, self->path);
	g_task_return_boolean(task, TRUE);
}

void
pr_service_remove_async(PrService *self,
			GCancellable *cancellable,
			GAsyncReadyCallback callback,
			gpointer user_data)
{
	g_autoptr(GTask) task = g_task_new(self, cancellable, callback, user_data);
	PrJob *job;

	self->removed = TRUE;
	/* everything queued or running ends now */
	while ((job = g_queue_pop_head(&self->jobs)) != NULL) {
		g_autoptr(GError) error = g_error_new_literal(
			PR_ERROR, PR_ERROR_CANCELLED, _("The account was removed"));
		pr_operation_complete(job->operation, error);
		pr_job_free(job);
	}
	if (self->current != NULL)
		g_cancellable_cancel(pr_operation_get_cancellable(self->current->operation));
	if (self->background != NULL)
		g_cancellable_cancel(pr_operation_get_cancellable(self->background->operation));
	pr_service_go_offline(self, NULL);
	pr_service_forget_connection(self);
	pr_secrets_clear_async(
		self->id, NULL, cancellable, pr_service_clear_secrets_cb, g_steal_pointer(&task));
}

gboolean
pr_service_remove_finish(PrService *self, GAsyncResult *res, GError **error)
{
	return g_task_propagate_boolean(G_TASK(res), error);
}

void
pr_service_shutdown(PrService *self)
{
	self->online = FALSE;
	if (self->current != NULL)
		g_cancellable_cancel(pr_operation_get_cancellable(self->current->operation));
	if (self->background != NULL)
		g_cancellable_cancel(pr_operation_get_cancellable(self->background->operation));
	pr_service_forget_connection(self);
}

const gchar *
pr_service_get_id(PrService *self)
{
	return self->id;
}

const gchar *
pr_service_get_path(PrService *self)
{
	return self->path;
}

/* Construction ---------------------------------------------------------------------------- */

static void
pr_service_settings_changed_cb(GSettings *settings, const gchar *key, gpointer user_data)
{
	PrService *self = PR_SERVICE(user_data);

	/* what synchronises how applies from the next sync, without a reconnect */
	if (!pr_settings_key_needs_reconnect(key))
		self->sync_dirty = TRUE;
	if (g_strcmp0(key, "display-name") == 0 || g_strcmp0(key, "user") == 0 ||
	    g_strcmp0(key, "host") == 0) {
		g_autoptr(PrAccountConfig) config = pr_account_config_new_from_settings(settings);
		pr_dbus_imap4_service_set_display_name(self->iface, config->display_name);
	}
}

static void
pr_service_dispose(GObject *object)
{
	PrService *self = PR_SERVICE(object);

	if (self->settings != NULL)
		g_signal_handlers_disconnect_by_data(self->settings, self);
	if (self->client != NULL)
		g_signal_handlers_disconnect_by_data(self->client, self);
	if (self->resync_id != 0) {
		g_source_remove(self->resync_id);
		self->resync_id = 0;
	}
	if (self->reconnect_id != 0) {
		g_source_remove(self->reconnect_id);
		self->reconnect_id = 0;
	}
	pr_service_stop_push(self);
	G_OBJECT_CLASS(pr_service_parent_class)->dispose(object);
}

static void
pr_service_finalize(GObject *object)
{
	PrService *self = PR_SERVICE(object);

	g_queue_clear_full(&self->jobs, (GDestroyNotify)pr_job_free);
	g_clear_pointer(&self->current, pr_job_free);
	g_clear_pointer(&self->background, pr_job_free);
	g_clear_pointer(&self->stay_online, pr_job_free);
	g_clear_object(&self->sync);
	g_clear_object(&self->client);
	g_clear_object(&self->store);
	g_clear_object(&self->settings);
	g_clear_object(&self->iface);
	g_clear_object(&self->object);
	g_clear_object(&self->manager);
	g_free(self->id);
	g_free(self->path);
	G_OBJECT_CLASS(pr_service_parent_class)->finalize(object);
}

static void
pr_service_class_init(PrServiceClass *klass)
{
	GObjectClass *object_class = G_OBJECT_CLASS(klass);
	object_class->dispose = pr_service_dispose;
	object_class->finalize = pr_service_finalize;
}

static void
pr_service_init(PrService *self)
{
	g_queue_init(&self->jobs);
}

static const gchar *const pr_service_unsupported[] = {
	"handle-copy-messages",
	"handle-move-messages",
	"handle-delete-messages",
	"handle-undelete-messages",
	"handle-set-flags",
	"handle-list-offline-operations",
	"handle-cancel-offline-operations",
	"handle-create-message",
	"handle-create-reply",
	"handle-create-forward",
	"handle-create-forward-as-attachment",
	"handle-create-receipt",
	"handle-import-message",
	"handle-queue-message",
	"handle-send-queued",
};

PrService *
pr_service_new(PrDaemon *daemon, GDBusObjectManagerServer *manager, const gchar *id, GError **error)
{
	g_autoptr(PrService) self = g_object_new(PR_TYPE_SERVICE, NULL);
	g_autoptr(PrAccountConfig) config = NULL;
	g_autofree gchar *store_dir = NULL;
	const gchar *const empty[] = { NULL };

	self->daemon = daemon;
	self->manager = g_object_ref(manager);
	self->id = g_strdup(id);
	self->path = g_strdup_printf("/org/postroom/Postroom1/services/%s", id);
	self->settings = pr_settings_new_for_service(id);
	config = pr_account_config_new_from_settings(self->settings);
	store_dir = g_build_filename(g_get_user_data_dir(), "postroom", id, NULL);
	self->store = pr_store_new(store_dir, error);
	if (self->store == NULL)
		return NULL;

	self->iface = pr_dbus_imap4_service_skeleton_new();
	pr_dbus_imap4_service_set_id(self->iface, id);
	pr_dbus_imap4_service_set_display_name(self->iface, config->display_name);
	pr_dbus_imap4_service_set_connected(self->iface, FALSE);
	pr_dbus_imap4_service_set_busy(self->iface, FALSE);
	pr_dbus_imap4_service_set_state(self->iface, "disconnected");
	pr_dbus_imap4_service_set_background_sync(self->iface, FALSE);
	pr_dbus_imap4_service_set_last_sync(self->iface, 0);
	pr_dbus_imap4_service_set_last_error(self->iface, g_variant_new("(ss)", "", ""));
	pr_dbus_imap4_service_set_pending_offline_operations(self->iface, 0);
	pr_dbus_imap4_service_set_outbox_count(self->iface, 0);
	pr_dbus_imap4_service_set_server_capabilities(self->iface, empty);

#define PR_HANDLE(signal, func) g_signal_connect(self->iface, signal, G_CALLBACK(func), self)
	PR_HANDLE("handle-get-settings", pr_service_handle_get_settings);
	PR_HANDLE("handle-update-settings", pr_service_handle_update_settings);
	PR_HANDLE("handle-set-password", pr_service_handle_set_password);
	PR_HANDLE("handle-clear-password", pr_service_handle_clear_password);
	PR_HANDLE("handle-connect", pr_service_handle_connect);
	PR_HANDLE("handle-disconnect", pr_service_handle_disconnect);
	PR_HANDLE("handle-connect-and-sync", pr_service_handle_connect_and_sync);
	PR_HANDLE("handle-synchronise", pr_service_handle_synchronise);
	PR_HANDLE("handle-cancel-background-sync", pr_service_handle_cancel_background_sync);
	PR_HANDLE("handle-wait-for-background", pr_service_handle_wait_for_background);
	PR_HANDLE("handle-list-folders", pr_service_handle_list_folders);
	PR_HANDLE("handle-list-messages", pr_service_handle_list_messages);
	PR_HANDLE("handle-get-message", pr_service_handle_get_message);
	PR_HANDLE("handle-get-mail", pr_service_handle_get_mail);
	PR_HANDLE("handle-subscribe", pr_service_handle_subscribe);
	PR_HANDLE("handle-unsubscribe", pr_service_handle_unsubscribe);
	PR_HANDLE("handle-create-folder", pr_service_handle_create_folder);
	PR_HANDLE("handle-rename-folder", pr_service_handle_rename_folder);
	PR_HANDLE("handle-delete-folder", pr_service_handle_delete_folder);
#undef PR_HANDLE
	for (guint i = 0; i < G_N_ELEMENTS(pr_service_unsupported); i++)
		g_signal_connect(self->iface,
				 pr_service_unsupported[i],
				 G_CALLBACK(pr_service_handle_unsupported),
				 self);
	g_signal_connect(
		self->settings, "changed", G_CALLBACK(pr_service_settings_changed_cb), self);

	self->object = pr_dbus_object_skeleton_new(self->path);
	pr_dbus_object_skeleton_set_imap4_service(self->object, self->iface);
	g_dbus_object_manager_server_export(manager, G_DBUS_OBJECT_SKELETON(self->object));
	return g_steal_pointer(&self);
}
