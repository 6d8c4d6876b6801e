/*
 * Copyright 2026 The Postroom developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#define G_LOG_DOMAIN "PrDaemon"

#include "pr-connector.h"
#include "pr-error.h"
#include "pr-secrets.h"

struct _PrConnector {
	GObject parent_instance;
	gchar *service_id;
	GSettings *settings;
};

G_DEFINE_TYPE(PrConnector, pr_connector, G_TYPE_OBJECT)

enum { SIGNAL_STAGE, SIGNAL_ALERT, SIGNAL_LAST };
static guint signals[SIGNAL_LAST] = { 0 };

typedef struct {
	PrConnectorFlags flags;
	PrAccountConfig *config;
	PrImapClient *client;
	gchar *password; /* until the login is sent */
} OpenData;

static void
open_data_free(OpenData *data)
{
	g_clear_pointer(&data->password, pr_secrets_password_free);
	g_clear_pointer(&data->config, pr_account_config_free);
	if (data->client != NULL)
		pr_imap_client_close(data->client);
	g_clear_object(&data->client);
	g_free(data);
}

gboolean
pr_connector_apply_trust(PrAccountConfig *config, PrImapClient *client, GError **error)
{
	if (config->tls_ca_file != NULL && config->tls_ca_file[0] != '\0' &&
	    !pr_imap_client_set_ca_file(client, config->tls_ca_file, error))
		return FALSE;
	if (config->tls_pinned_certificate != NULL && config->tls_pinned_certificate[0] != '\0' &&
	    !pr_imap_client_set_pinned_certificate(client, config->tls_pinned_certificate, error))
		return FALSE;
	return TRUE;
}

static PrImapClient *
pr_connector_new_client(PrAccountConfig *config, GError **error)
{
	g_autoptr(PrImapClient) client = NULL;
	PrImapSecurity security = PR_IMAP_SECURITY_TLS;

	pr_imap_security_from_string(config->security, &security);
	client = pr_imap_client_new(config->host, config->port_effective, security);
	pr_imap_client_set_timeout(client, config->timeout);
	pr_imap_client_set_compress(client, config->compress);
	/* stopping a sync must not cost the connection */
	pr_imap_client_set_soft_cancel(client, TRUE);
	if (!pr_connector_apply_trust(config, client, error))
		return NULL;
	return g_steal_pointer(&client);
}

static void
pr_connector_stage(PrConnector *self, OpenData *data, const gchar *stage)
{
	if (data->flags & PR_CONNECTOR_FLAG_MAIN)
		g_signal_emit(self, signals[SIGNAL_STAGE], 0, stage);
}

static void
pr_connector_alert_cb(PrImapClient *client, const gchar *text, gpointer user_data)
{
	g_signal_emit(PR_CONNECTOR(user_data), signals[SIGNAL_ALERT], 0, text);
}

static void
pr_connector_login_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	g_autoptr(GTask) task = G_TASK(user_data);
	OpenData *data = g_task_get_task_data(task);
	g_autoptr(GError) error = NULL;

	if (!pr_imap_client_login_finish(PR_IMAP_CLIENT(source), res, &error)) {
		g_task_return_error(task, g_steal_pointer(&error));
		return;
	}
	g_task_return_pointer(task, g_steal_pointer(&data->client), g_object_unref);
}

static void
pr_connector_connected_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	g_autoptr(GTask) task = G_TASK(user_data);
	PrConnector *self = g_task_get_source_object(task);
	OpenData *data = g_task_get_task_data(task);
	g_autoptr(GError) error = NULL;

	if (!pr_imap_client_connect_finish(PR_IMAP_CLIENT(source), res, &error)) {
		g_task_return_error(task, g_steal_pointer(&error));
		return;
	}
	pr_connector_stage(self, data, "authenticating");
	pr_imap_client_login_async(data->client,
				   data->config->user,
				   data->password,
				   data->config->auth,
				   g_task_get_cancellable(task),
				   pr_connector_login_cb,
				   g_object_ref(task));
	/* the login command holds its own copy until it is sent */
	g_clear_pointer(&data->password, pr_secrets_password_free);
}

static void
pr_connector_password_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	g_autoptr(GTask) task = G_TASK(user_data);
	PrConnector *self = g_task_get_source_object(task);
	OpenData *data = g_task_get_task_data(task);
	g_autoptr(GError) error = NULL;

	data->password = pr_secrets_lookup_finish(res, &error);
	if (data->password == NULL) {
		g_task_return_error(task, g_steal_pointer(&error));
		return;
	}
	if (g_task_return_error_if_cancelled(task))
		return;
	data->client = pr_connector_new_client(data->config, &error);
	if (data->client == NULL) {
		g_task_return_error(task, g_steal_pointer(&error));
		return;
	}
	/* before the login: servers most often send an [ALERT] in its response */
	if (data->flags & PR_CONNECTOR_FLAG_MAIN)
		g_signal_connect_object(
			data->client, "alert", G_CALLBACK(pr_connector_alert_cb), self, 0);
	pr_connector_stage(self, data, "connecting");
	pr_imap_client_connect_async(data->client,
				     g_task_get_cancellable(task),
				     pr_connector_connected_cb,
				     g_object_ref(task));
}

void
pr_connector_open_async(PrConnector *self,
			PrConnectorFlags flags,
			GCancellable *cancellable,
			GAsyncReadyCallback callback,
			gpointer user_data)
{
	g_autoptr(GTask) task = g_task_new(self, cancellable, callback, user_data);
	OpenData *data = g_new0(OpenData, 1);

	g_task_set_source_tag(task, pr_connector_open_async);
	data->flags = flags;
	data->config = pr_account_config_new_from_settings(self->settings);
	g_task_set_task_data(task, data, (GDestroyNotify)open_data_free);
	pr_connector_stage(self, data, "connecting");
	pr_secrets_lookup_async(self->service_id,
				"imap",
				cancellable,
				pr_connector_password_cb,
				g_steal_pointer(&task));
}

PrImapClient *
pr_connector_open_finish(PrConnector *self, GAsyncResult *res, GError **error)
{
	g_return_val_if_fail(g_task_is_valid(res, self), NULL);
	return g_task_propagate_pointer(G_TASK(res), error);
}

static void
pr_connector_finalize(GObject *object)
{
	PrConnector *self = PR_CONNECTOR(object);

	g_free(self->service_id);
	g_clear_object(&self->settings);
	G_OBJECT_CLASS(pr_connector_parent_class)->finalize(object);
}

static void
pr_connector_class_init(PrConnectorClass *klass)
{
	GObjectClass *object_class = G_OBJECT_CLASS(klass);

	object_class->finalize = pr_connector_finalize;
	/* (const gchar *stage): "connecting", "authenticating" — the main connection only */
	signals[SIGNAL_STAGE] = g_signal_new("stage",
					     G_TYPE_FROM_CLASS(klass),
					     G_SIGNAL_RUN_LAST,
					     0,
					     NULL,
					     NULL,
					     NULL,
					     G_TYPE_NONE,
					     1,
					     G_TYPE_STRING);
	/* (const gchar *text): an [ALERT] of the main connection, from its login on */
	signals[SIGNAL_ALERT] = g_signal_new("alert",
					     G_TYPE_FROM_CLASS(klass),
					     G_SIGNAL_RUN_LAST,
					     0,
					     NULL,
					     NULL,
					     NULL,
					     G_TYPE_NONE,
					     1,
					     G_TYPE_STRING);
}

static void
pr_connector_init(PrConnector *self)
{
}

PrConnector *
pr_connector_new(const gchar *service_id, GSettings *settings)
{
	PrConnector *self = g_object_new(PR_TYPE_CONNECTOR, NULL);

	self->service_id = g_strdup(service_id);
	self->settings = g_object_ref(settings);
	return self;
}
