/*
 * Copyright 2026 The Postroom developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#define G_LOG_DOMAIN "PrDaemon"

#include <glib/gi18n.h>
#include <string.h>

#include "pr-daemon.h"
#include "pr-dbus-generated.h"
#include "pr-connector.h"
#include "pr-contract.h"
#include "pr-error.h"
#include "pr-options.h"
#include "pr-imap-probe.h"
#include "pr-service.h"
#include "pr-settings.h"

struct _PrDaemon {
	GObject parent_instance;
	GDBusConnection *connection;
	GDBusObjectManagerServer *manager;
	PrDBusManager *iface;
	GHashTable *services; /* id -> PrService */
	guint64 operation_counter;
	guint owner_id;
	GSettings *settings;
};

G_DEFINE_TYPE(PrDaemon, pr_daemon, G_TYPE_OBJECT)

enum { SIGNAL_QUIT, SIGNAL_LAST };
static guint signals[SIGNAL_LAST] = { 0 };

PrOperation *
pr_daemon_new_operation(PrDaemon *self, const gchar *kind, const gchar *service_path)
{
	return pr_operation_new(self->manager, ++self->operation_counter, kind, service_path);
}

static PrService *
pr_daemon_find_service_by_path(PrDaemon *self, const gchar *path)
{
	GHashTableIter iter;
	gpointer value;

	g_hash_table_iter_init(&iter, self->services);
	while (g_hash_table_iter_next(&iter, NULL, &value)) {
		if (g_strcmp0(pr_service_get_path(value), path) == 0)
			return value;
	}
	return NULL;
}

static gboolean
pr_daemon_export_service(PrDaemon *self, const gchar *id, GError **error)
{
	g_autoptr(PrService) service = pr_service_new(self, self->manager, id, error);

	if (service == NULL)
		return FALSE;
	g_hash_table_insert(self->services, g_strdup(id), g_steal_pointer(&service));
	return TRUE;
}

/* AddService ---------------------------------------------------------------------------- */

static gboolean
pr_daemon_handle_add_service(PrDBusManager *iface,
			     GDBusMethodInvocation *invocation,
			     GVariant *settings,
			     gpointer user_data)
{
	PrDaemon *self = PR_DAEMON(user_data);
	g_auto(GVariantDict) dict = G_VARIANT_DICT_INIT(settings);
	g_autoptr(GVariant) changes = NULL;
	g_autoptr(GSettings) gsettings = NULL;
	g_autoptr(GError) error = NULL;
	g_autofree gchar *id = NULL;
	g_auto(GStrv) taken = NULL;
	const gchar *user = "";
	const gchar *host = "";

	/* "id" chooses the object path; it is not a setting */
	if (g_variant_dict_lookup(&dict, "id", "s", &id)) {
		g_variant_dict_remove(&dict, "id");
		if (!pr_contract_service_id_is_valid(id)) {
			g_dbus_method_invocation_return_error(invocation,
							      PR_ERROR,
							      PR_ERROR_INVALID_ARGUMENT,
							      _("A service id is made of a–z, 0–9 "
								"and _ only, at most 64 of them"));
			return TRUE;
		}
		if (g_hash_table_contains(self->services, id)) {
			g_dbus_method_invocation_return_error(invocation,
							      PR_ERROR,
							      PR_ERROR_INVALID_ARGUMENT,
							      _("A service “%s” exists already"),
							      id);
			return TRUE;
		}
	} else if (g_variant_dict_contains(&dict, "id")) {
		g_dbus_method_invocation_return_error(invocation,
						      PR_ERROR,
						      PR_ERROR_INVALID_ARGUMENT,
						      _("Setting “%s” must be of type %s"),
						      "id",
						      "s");
		return TRUE;
	}
	changes = g_variant_ref_sink(g_variant_dict_end(&dict));
	if (!pr_settings_validate(changes, TRUE, NULL, &error)) {
		g_dbus_method_invocation_return_gerror(invocation, error);
		return TRUE;
	}
	g_variant_lookup(changes, "user", "&s", &user);
	g_variant_lookup(changes, "host", "&s", &host);
	if (id == NULL) {
		taken = pr_settings_dup_service_ids();
		id = pr_settings_make_service_id(user, host, (const gchar *const *)taken);
	}
	gsettings = pr_settings_new_for_service(id);
	/* a stale account of the same id would leak old values into the new one */
	pr_settings_reset_all(gsettings);
	if (!pr_settings_apply(gsettings, changes, &error)) {
		g_dbus_method_invocation_return_gerror(invocation, error);
		return TRUE;
	}
	g_settings_sync();
	if (!pr_daemon_export_service(self, id, &error)) {
		pr_settings_reset_all(gsettings);
		g_dbus_method_invocation_return_gerror(invocation, error);
		return TRUE;
	}
	pr_settings_add_service_id(id);
	g_info("added service %s", id);
	pr_dbus_manager_complete_add_service(
		iface, invocation, pr_service_get_path(g_hash_table_lookup(self->services, id)));
	return TRUE;
}

/* RemoveService ------------------------------------------------------------------------- */

typedef struct {
	PrDaemon *self;
	GDBusMethodInvocation *invocation;
	gchar *id;
} RemoveData;

static void
remove_data_free(RemoveData *data)
{
	g_object_unref(data->self);
	g_object_unref(data->invocation);
	g_free(data->id);
	g_free(data);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC(RemoveData, remove_data_free)

static void
pr_daemon_remove_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	g_autoptr(RemoveData) data = user_data;
	g_autoptr(GError) error = NULL;

	if (!pr_service_remove_finish(PR_SERVICE(source), res, &error)) {
		g_dbus_method_invocation_return_gerror(data->invocation, error);
		return;
	}
	pr_settings_remove_service_id(data->id);
	g_hash_table_remove(data->self->services, data->id);
	g_info("removed service %s", data->id);
	g_dbus_method_invocation_return_value(data->invocation, NULL);
}

static gboolean
pr_daemon_handle_remove_service(PrDBusManager *iface,
				GDBusMethodInvocation *invocation,
				const gchar *path,
				GVariant *options,
				gpointer user_data)
{
	PrDaemon *self = PR_DAEMON(user_data);
	PrService *service = pr_daemon_find_service_by_path(self, path);
	g_autoptr(GError) error = NULL;
	RemoveData *data;

	if (!pr_options_check(options, PR_OPTIONS_KIND_OPTION, NULL, 0, &error)) {
		g_dbus_method_invocation_return_gerror(invocation, error);
		return TRUE;
	}
	if (service == NULL) {
		g_dbus_method_invocation_return_error(
			invocation, PR_ERROR, PR_ERROR_NOT_FOUND, _("No service at %s"), path);
		return TRUE;
	}
	data = g_new0(RemoveData, 1);
	data->self = g_object_ref(self);
	data->invocation = g_object_ref(invocation);
	data->id = g_strdup(pr_service_get_id(service));
	pr_service_remove_async(service, NULL, pr_daemon_remove_cb, data);
	return TRUE;
}

/* ProbeServer --------------------------------------------------------------------------- */

static void
pr_daemon_probe_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	g_autoptr(PrOperation) operation = PR_OPERATION(user_data);
	PrImapProbe *probe = PR_IMAP_PROBE(source);
	g_autoptr(GError) error = NULL;
	GVariantIter iter;
	const gchar *key;
	GVariant *value;

	pr_imap_probe_run_finish(probe, res, &error);
	g_variant_iter_init(&iter, pr_imap_probe_get_result(probe));
	while (g_variant_iter_next(&iter, "{&sv}", &key, &value)) {
		pr_operation_set_result_value(operation, key, value);
		g_variant_unref(value);
	}
	pr_operation_complete(operation, error);
}

static gboolean
pr_daemon_handle_probe_server(PrDBusManager *iface,
			      GDBusMethodInvocation *invocation,
			      GVariant *settings,
			      gpointer user_data)
{
	PrDaemon *self = PR_DAEMON(user_data);
	g_auto(GVariantDict) dict = G_VARIANT_DICT_INIT(settings);
	g_autoptr(GVariant) checked = NULL;
	g_autoptr(GError) error = NULL;
	g_autoptr(PrImapProbe) probe = NULL;
	g_autoptr(PrAccountConfig) config = NULL;
	g_autofree gchar *password = NULL;
	PrImapSecurity security = PR_IMAP_SECURITY_TLS;
	PrOperation *operation;
	const gchar *host = NULL;

	if (g_variant_dict_contains(&dict, "password") &&
	    !g_variant_dict_lookup(&dict, "password", "s", &password)) {
		g_dbus_method_invocation_return_error(invocation,
						      PR_ERROR,
						      PR_ERROR_INVALID_ARGUMENT,
						      _("Setting “%s” must be of type %s"),
						      "password",
						      "s");
		return TRUE;
	}
	g_variant_dict_remove(&dict, "password");
	checked = g_variant_ref_sink(g_variant_dict_end(&dict));
	if (!g_variant_lookup(checked, "host", "&s", &host) || host[0] == '\0') {
		g_dbus_method_invocation_return_error(invocation,
						      PR_ERROR,
						      PR_ERROR_INVALID_ARGUMENT,
						      _("Setting “%s” is required"),
						      "host");
		return TRUE;
	}
	if (!pr_settings_validate(checked, FALSE, NULL, &error)) {
		g_dbus_method_invocation_return_gerror(invocation, error);
		return TRUE;
	}
	config = pr_account_config_new_from_variant(checked);
	pr_imap_security_from_string(config->security, &security);
	probe = pr_imap_probe_new(config->host, config->port_effective, security);
	pr_imap_probe_set_timeout(probe, config->timeout);
	if (!pr_connector_apply_trust(config, pr_imap_probe_get_client(probe), &error)) {
		g_dbus_method_invocation_return_gerror(invocation, error);
		return TRUE;
	}
	if (password != NULL) {
		pr_imap_probe_set_login(probe, config->user, password, config->auth);
		explicit_bzero(password, strlen(password));
	}
	operation = pr_daemon_new_operation(self, "probe", "/");
	pr_operation_start(operation);
	pr_progress_set_stage(pr_operation_get_progress(operation), "connecting");
	pr_imap_probe_run_async(probe,
				pr_operation_get_cancellable(operation),
				pr_daemon_probe_cb,
				g_object_ref(operation));
	pr_dbus_manager_complete_probe_server(iface, invocation, pr_operation_get_path(operation));
	g_object_unref(operation);
	return TRUE;
}

/* Start and stop ------------------------------------------------------------------------ */

static void
pr_daemon_name_acquired_cb(GDBusConnection *connection, const gchar *name, gpointer user_data)
{
	g_info("acquired %s", name);
}

static void
pr_daemon_name_lost_cb(GDBusConnection *connection, const gchar *name, gpointer user_data)
{
	PrDaemon *self = PR_DAEMON(user_data);

	if (connection == NULL)
		g_warning("cannot connect to the bus");
	else
		g_warning("lost or could not acquire the name %s", name);
	g_signal_emit(self, signals[SIGNAL_QUIT], 0);
}

gboolean
pr_daemon_start(PrDaemon *self, const gchar *address, gboolean replace, GError **error)
{
	g_auto(GStrv) ids = NULL;
	GBusNameOwnerFlags flags = G_BUS_NAME_OWNER_FLAGS_ALLOW_REPLACEMENT;

	/* GSettings aborts on a missing schema: find out first and say so */
	if (!pr_settings_check_schemas(error))
		return FALSE;
	if (address != NULL) {
		self->connection = g_dbus_connection_new_for_address_sync(
			address,
			G_DBUS_CONNECTION_FLAGS_AUTHENTICATION_CLIENT |
				G_DBUS_CONNECTION_FLAGS_MESSAGE_BUS_CONNECTION,
			NULL,
			NULL,
			error);
	} else {
		self->connection = g_bus_get_sync(G_BUS_TYPE_SESSION, NULL, error);
	}
	if (self->connection == NULL)
		return FALSE;
	g_dbus_connection_set_exit_on_close(self->connection, FALSE);

	self->manager = g_dbus_object_manager_server_new(PR_DBUS_MANAGER_PATH);
	self->iface = pr_dbus_manager_skeleton_new();
	pr_dbus_manager_set_version(self->iface, PACKAGE_VERSION);
	g_signal_connect(
		self->iface, "handle-add-service", G_CALLBACK(pr_daemon_handle_add_service), self);
	g_signal_connect(self->iface,
			 "handle-remove-service",
			 G_CALLBACK(pr_daemon_handle_remove_service),
			 self);
	g_signal_connect(self->iface,
			 "handle-probe-server",
			 G_CALLBACK(pr_daemon_handle_probe_server),
			 self);
	/* The Manager shares the ObjectManager's own path, which the ObjectManager does not
	 * manage (it only exports children), so it is exported directly. */
	if (!g_dbus_interface_skeleton_export(G_DBUS_INTERFACE_SKELETON(self->iface),
					      self->connection,
					      PR_DBUS_MANAGER_PATH,
					      error))
		return FALSE;

	ids = pr_settings_dup_service_ids();
	for (guint i = 0; ids[i] != NULL; i++) {
		g_autoptr(GError) local = NULL;
		if (!pr_daemon_export_service(self, ids[i], &local))
			g_warning("cannot load service %s: %s", ids[i], local->message);
	}
	g_dbus_object_manager_server_set_connection(self->manager, self->connection);

	/* the name comes last: a client that sees it finds every object in place */
	if (replace)
		flags |= G_BUS_NAME_OWNER_FLAGS_REPLACE;
	self->owner_id = g_bus_own_name_on_connection(self->connection,
						      PR_DBUS_NAME,
						      flags,
						      pr_daemon_name_acquired_cb,
						      pr_daemon_name_lost_cb,
						      self,
						      NULL);
	return TRUE;
}

void
pr_daemon_stop(PrDaemon *self)
{
	GHashTableIter iter;
	gpointer value;

	g_hash_table_iter_init(&iter, self->services);
	while (g_hash_table_iter_next(&iter, NULL, &value))
		pr_service_shutdown(value);
	if (self->owner_id != 0) {
		g_bus_unown_name(self->owner_id);
		self->owner_id = 0;
	}
	if (self->connection != NULL)
		g_dbus_connection_flush_sync(self->connection, NULL, NULL);
}

static void
pr_daemon_finalize(GObject *object)
{
	PrDaemon *self = PR_DAEMON(object);

	if (self->owner_id != 0)
		g_bus_unown_name(self->owner_id);
	g_hash_table_unref(self->services);
	g_clear_object(&self->iface);
	g_clear_object(&self->manager);
	g_clear_object(&self->connection);
	g_clear_object(&self->settings);
	G_OBJECT_CLASS(pr_daemon_parent_class)->finalize(object);
}

static void
pr_daemon_class_init(PrDaemonClass *klass)
{
	GObjectClass *object_class = G_OBJECT_CLASS(klass);

	object_class->finalize = pr_daemon_finalize;
	signals[SIGNAL_QUIT] = g_signal_new("quit",
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
pr_daemon_init(PrDaemon *self)
{
	self->services = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_object_unref);
}

PrDaemon *
pr_daemon_new(void)
{
	return g_object_new(PR_TYPE_DAEMON, NULL);
}
