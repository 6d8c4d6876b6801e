/*
 * Copyright 2026 The Postroom developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#define G_LOG_DOMAIN "PrDaemon"

#include "pr-error.h"
#include "pr-online.h"
#include "pr-push.h"

/* how long the account must have had no work before the push connection starts */
#define PR_ONLINE_PUSH_QUIET_MS 250
/* servers in the wild drop idle sessions silently after ~23 minutes: check liveness after
 * 5 quiet minutes (server keepalives count as life) */
#define PR_ONLINE_WATCHDOG_S   300
#define PR_ONLINE_PUSH_RETRY_S 30

struct _PrOnline {
	GObject parent_instance;
	gchar *service_id;
	GSettings *settings;
	PrConnector *connector;
	PrStore *store;
	PrJobQueue *queue;
	PrImapClient *client; /* the main connection, or NULL */
	gboolean wanted;      /* the user wants the account connected: a drop reconnects */
	guint reconnect_id;
	guint reconnect_attempt;
	guint resync_id;
	PrImapClient *push_client; /* the connection that waits for news */
	PrPush *push;
	GCancellable *push_cancellable;
	guint push_retry_id;
	gboolean push_after_sync; /* push waits for the first full sync of the connection */
	gboolean push_pending;	  /* then for a moment without work */
	guint push_quiet_id;
	guint push_generation; /* of the push connection being opened */
};

G_DEFINE_TYPE(PrOnline, pr_online, G_TYPE_OBJECT)

enum { SIGNAL_FOLDER_CHANGED, SIGNAL_RESYNC, SIGNAL_RECONNECT, SIGNAL_LAST };
static guint signals[SIGNAL_LAST] = { 0 };

static void pr_online_start_push(PrOnline *self);

static void
pr_online_clear_source(guint *id)
{
	if (*id != 0) {
		g_source_remove(*id);
		*id = 0;
	}
}

/* Periodic sync ---------------------------------------------------------------------------- */

static gboolean
pr_online_resync_cb(gpointer user_data)
{
	g_signal_emit(PR_ONLINE(user_data), signals[SIGNAL_RESYNC], 0);
	return G_SOURCE_CONTINUE;
}

static void
pr_online_start_interval(PrOnline *self)
{
	g_autoptr(PrAccountConfig) config = pr_account_config_new_from_settings(self->settings);

	if (self->resync_id == 0 && config->sync_interval > 0)
		self->resync_id =
			g_timeout_add_seconds(config->sync_interval, pr_online_resync_cb, self);
}

/* Push ------------------------------------------------------------------------------------- */

static void
pr_online_folder_changed(PrOnline *self, const gchar *folder)
{
	g_signal_emit(self, signals[SIGNAL_FOLDER_CHANGED], 0, folder);
}

static void
pr_online_push_changed_cb(PrPush *push, const gchar *folder, gpointer user_data)
{
	PrOnline *self = PR_ONLINE(user_data);

	g_debug("%s: news in %s", self->service_id, folder != NULL ? folder : "(everywhere)");
	if (folder != NULL) {
		g_autoptr(PrStoreFolder) known = pr_store_get_folder(self->store, folder, NULL);
		/* a folder the store does not know yet comes with the next tree sync */
		if (known == NULL)
			folder = NULL;
	}
	pr_online_folder_changed(self, folder);
}

static void
pr_online_push_logout_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	pr_imap_client_logout_finish(PR_IMAP_CLIENT(source), res, NULL);
}

static void
pr_online_push_stopped_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	g_autoptr(PrImapClient) client = PR_IMAP_CLIENT(user_data);

	if (!pr_push_stop_finish(PR_PUSH(source), res, NULL)) {
		pr_imap_client_close(client);
		return;
	}
	pr_imap_client_logout_async(client, NULL, pr_online_push_logout_cb, NULL);
}

static void
pr_online_stop_push(PrOnline *self)
{
	self->push_pending = FALSE;
	pr_online_clear_source(&self->push_quiet_id);
	pr_online_clear_source(&self->push_retry_id);
	self->push_generation++;
	if (self->push_cancellable != NULL) {
		g_cancellable_cancel(self->push_cancellable);
		g_clear_object(&self->push_cancellable);
	}
	if (self->push != NULL) {
		g_signal_handlers_disconnect_by_data(self->push, self);
		/* leave IDLE, then LOGOUT; nobody waits for either */
		pr_push_stop_async(self->push,
				   NULL,
				   pr_online_push_stopped_cb,
				   g_object_ref(self->push_client));
		g_clear_object(&self->push);
		g_clear_object(&self->push_client);
	} else if (self->push_client != NULL) {
		pr_imap_client_close(self->push_client);
		g_clear_object(&self->push_client);
	}
}

static gboolean
pr_online_push_retry_cb(gpointer user_data)
{
	PrOnline *self = PR_ONLINE(user_data);

	self->push_retry_id = 0;
	pr_online_start_push(self);
	return G_SOURCE_REMOVE;
}

/* Push could not start or died: the interval keeps the inbox current meanwhile, and push
 * is tried again while the main connection lives. */
static void
pr_online_push_failed(PrOnline *self, const GError *error)
{
	g_debug("%s: push stopped: %s", self->service_id, error != NULL ? error->message : "");
	pr_online_stop_push(self);
	pr_online_start_interval(self);
	if (self->client != NULL && self->wanted && error != NULL &&
	    !g_error_matches(error, PR_ERROR, PR_ERROR_LOGIN_FAILED) &&
	    !g_error_matches(error, PR_ERROR, PR_ERROR_CANCELLED))
		self->push_retry_id = g_timeout_add_seconds(
			PR_ONLINE_PUSH_RETRY_S, pr_online_push_retry_cb, self);
}

static void
pr_online_push_dead_cb(PrPush *push, GError *error, gpointer user_data)
{
	PrOnline *self = PR_ONLINE(user_data);

	/* the main connection may be just as dead: check it with a sync of the inbox */
	pr_online_push_failed(self, error);
	pr_online_folder_changed(self, "INBOX");
}

static void
pr_online_push_started_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	g_autoptr(PrOnline) self = PR_ONLINE(user_data);
	g_autoptr(GError) error = NULL;

	if (!pr_push_start_finish(PR_PUSH(source), res, &error)) {
		if (self->push == PR_PUSH(source))
			pr_online_push_failed(self, error);
		return;
	}
	/* push keeps the inbox current: the interval is only the fallback */
	pr_online_clear_source(&self->resync_id);
	/* news that came between the last sync and IDLE would wait for the next event */
	pr_online_folder_changed(self, "INBOX");
	g_info("%s: push started (%s)",
	       self->service_id,
	       pr_push_get_notify_active(PR_PUSH(source)) ? "IDLE with NOTIFY" : "IDLE");
}

/* One opening of the push connection; a stopped push makes it stale. */
typedef struct {
	PrOnline *self;
	guint generation;
} PushAttempt;

static void
push_attempt_free(PushAttempt *attempt)
{
	g_object_unref(attempt->self);
	g_free(attempt);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC(PushAttempt, push_attempt_free)

static void
pr_online_push_opened_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	g_autoptr(PushAttempt) attempt = user_data;
	PrOnline *self = attempt->self;
	g_autoptr(PrImapClient) client = NULL;
	g_autoptr(PrAccountConfig) config = NULL;
	g_autoptr(GError) error = NULL;
	PrPushOptions options;

	client = pr_connector_open_finish(PR_CONNECTOR(source), res, &error);
	/* stopped meanwhile (this attempt's cancellable is no longer the current one) */
	if (attempt->generation != self->push_generation || self->push_cancellable == NULL) {
		if (client != NULL)
			pr_imap_client_close(client);
		return;
	}
	if (client == NULL) {
		pr_online_push_failed(self, error);
		return;
	}
	self->push_client = g_steal_pointer(&client);
	config = pr_account_config_new_from_settings(self->settings);
	pr_push_options_init(&options);
	options.idle = TRUE;
	options.idle_timeout = config->idle_timeout;
	options.watchdog_interval = PR_ONLINE_WATCHDOG_S;
	options.use_notify = TRUE;
	options.notify_subscribed = FALSE;
	self->push = pr_push_new(self->push_client, &options);
	g_signal_connect(self->push, "changed", G_CALLBACK(pr_online_push_changed_cb), self);
	g_signal_connect(self->push, "dead", G_CALLBACK(pr_online_push_dead_cb), self);
	pr_push_start_async(
		self->push, self->push_cancellable, pr_online_push_started_cb, g_object_ref(self));
}

/* A second connection that only waits for news (IDLE, and NOTIFY for other folders), so
 * that the main one stays free for syncs and client requests. */
static void
pr_online_start_push(PrOnline *self)
{
	g_autoptr(PrAccountConfig) config = pr_account_config_new_from_settings(self->settings);
	PushAttempt *attempt;

	if (self->push != NULL || self->push_client != NULL || self->push_cancellable != NULL)
		return;
	if (!config->idle || self->client == NULL ||
	    !pr_imap_client_has_capability(self->client, "IDLE"))
		return;
	g_debug("%s: starting push", self->service_id);
	self->push_cancellable = g_cancellable_new();
	attempt = g_new0(PushAttempt, 1);
	attempt->self = g_object_ref(self);
	attempt->generation = ++self->push_generation;
	pr_connector_open_async(self->connector,
				PR_CONNECTOR_FLAG_NONE,
				self->push_cancellable,
				pr_online_push_opened_cb,
				attempt);
}

static gboolean
pr_online_push_quiet_cb(gpointer user_data)
{
	PrOnline *self = PR_ONLINE(user_data);

	self->push_quiet_id = 0;
	/* not quiet after all: the end of that work asks again */
	if (!self->push_pending || !pr_job_queue_is_idle(self->queue))
		return G_SOURCE_REMOVE;
	self->push_pending = FALSE;
	pr_online_start_push(self);
	return G_SOURCE_REMOVE;
}

/* The push connection (its login, its SELECT of the inbox) would only compete for the
 * server with the first full sync of a connection and with what a client asks for right
 * after it (a GetMail, say): it starts once the account has had no work for a moment. Its
 * catch-up sync covers what arrived meanwhile. */
void
pr_online_quiet(PrOnline *self)
{
	if (!self->push_pending || self->client == NULL || !pr_job_queue_is_idle(self->queue))
		return;
	pr_online_clear_source(&self->push_quiet_id);
	self->push_quiet_id = g_timeout_add(PR_ONLINE_PUSH_QUIET_MS, pr_online_push_quiet_cb, self);
}

void
pr_online_sync_done(PrOnline *self, PrSyncScope scope)
{
	if (!self->push_after_sync || scope != PR_SYNC_SCOPE_FULL)
		return;
	self->push_after_sync = FALSE;
	self->push_pending = TRUE;
	pr_online_quiet(self);
}

/* Connection life --------------------------------------------------------------------------- */

void
pr_online_connected(PrOnline *self, PrImapClient *client)
{
	g_set_object(&self->client, client);
	self->wanted = TRUE;
	self->reconnect_attempt = 0;
	self->push_after_sync = FALSE;
}

void
pr_online_stay(PrOnline *self, gboolean after_first_sync)
{
	self->push_after_sync = after_first_sync;
	/* the interval keeps the inbox current until push runs, and when it cannot */
	pr_online_start_interval(self);
	if (!self->push_after_sync)
		pr_online_start_push(self);
}

void
pr_online_disconnected(PrOnline *self)
{
	pr_online_stop_push(self);
	pr_online_clear_source(&self->resync_id);
	g_clear_object(&self->client);
}

void
pr_online_go_offline(PrOnline *self)
{
	self->wanted = FALSE;
	self->reconnect_attempt = 0;
	pr_online_clear_source(&self->reconnect_id);
}

gboolean
pr_online_get_wanted(PrOnline *self)
{
	return self->wanted;
}

static gboolean
pr_online_reconnect_cb(gpointer user_data)
{
	PrOnline *self = PR_ONLINE(user_data);

	self->reconnect_id = 0;
	if (self->wanted && self->client == NULL)
		g_signal_emit(self, signals[SIGNAL_RECONNECT], 0);
	return G_SOURCE_REMOVE;
}

/* Exponential backoff (1 s doubling to 5 min) with ±20 % jitter, so that many clients
 * dropped by one server restart do not all come back in the same second. */
void
pr_online_schedule_reconnect(PrOnline *self)
{
	guint base = MIN(300u, 1u << MIN(self->reconnect_attempt, 9u));
	guint delay_ms = (guint)(base * 1000 * g_random_double_range(0.8, 1.2));

	self->reconnect_attempt++;
	pr_online_clear_source(&self->reconnect_id);
	self->reconnect_id = g_timeout_add(delay_ms, pr_online_reconnect_cb, self);
	g_info("%s: reconnecting in %u ms (attempt %u)",
	       self->service_id,
	       delay_ms,
	       self->reconnect_attempt);
}

static void
pr_online_dispose(GObject *object)
{
	PrOnline *self = PR_ONLINE(object);

	pr_online_clear_source(&self->resync_id);
	pr_online_clear_source(&self->reconnect_id);
	pr_online_stop_push(self);
	g_clear_object(&self->client);
	G_OBJECT_CLASS(pr_online_parent_class)->dispose(object);
}

static void
pr_online_finalize(GObject *object)
{
	PrOnline *self = PR_ONLINE(object);

	g_free(self->service_id);
	g_clear_object(&self->settings);
	g_clear_object(&self->connector);
	g_clear_object(&self->store);
	g_clear_object(&self->queue);
	G_OBJECT_CLASS(pr_online_parent_class)->finalize(object);
}

static void
pr_online_class_init(PrOnlineClass *klass)
{
	GObjectClass *object_class = G_OBJECT_CLASS(klass);

	object_class->dispose = pr_online_dispose;
	object_class->finalize = pr_online_finalize;
	signals[SIGNAL_FOLDER_CHANGED] = g_signal_new("folder-changed",
						      G_TYPE_FROM_CLASS(klass),
						      G_SIGNAL_RUN_LAST,
						      0,
						      NULL,
						      NULL,
						      NULL,
						      G_TYPE_NONE,
						      1,
						      G_TYPE_STRING);
	signals[SIGNAL_RESYNC] = g_signal_new("resync",
					      G_TYPE_FROM_CLASS(klass),
					      G_SIGNAL_RUN_LAST,
					      0,
					      NULL,
					      NULL,
					      NULL,
					      G_TYPE_NONE,
					      0);
	signals[SIGNAL_RECONNECT] = g_signal_new("reconnect",
						 G_TYPE_FROM_CLASS(klass),
						 G_SIGNAL_RUN_LAST,
						 0,
						 NULL,
						 NULL,
						 NULL,
						 G_TYPE_NONE,
						 0);
}

static void
pr_online_init(PrOnline *self)
{
}

PrOnline *
pr_online_new(const gchar *service_id,
	      GSettings *settings,
	      PrConnector *connector,
	      PrStore *store,
	      PrJobQueue *queue)
{
	PrOnline *self = g_object_new(PR_TYPE_ONLINE, NULL);

	self->service_id = g_strdup(service_id);
	self->settings = g_object_ref(settings);
	self->connector = g_object_ref(connector);
	self->store = g_object_ref(store);
	self->queue = g_object_ref(queue);
	return self;
}
