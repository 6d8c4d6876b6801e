/*
 * Copyright 2026 The Postroom developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#define G_LOG_DOMAIN "PrCtl"

#include <glib/gi18n.h>
#include <stdarg.h>

#include "pr-ctl.h"
#include "pr-error.h"

#define PR_CTL_DBUS_TIMEOUT 120000 /* ms; listing a big folder may take a while */

void
pr_ctl_options_clear(PrCtlOptions *opts)
{
	g_clear_pointer(&opts->command, g_free);
	g_clear_pointer(&opts->address, g_free);
	g_clear_pointer(&opts->service, g_free);
}

static guint
pr_ctl_options_add_common(PrCtlOptions *opts, PrCtlOptionFlags flags, GOptionEntry *entries)
{
	guint n = 0;

	if (flags & PR_CTL_OPTION_SERVICE)
		entries[n++] =
			(GOptionEntry){ "service",
					's',
					0,
					G_OPTION_ARG_STRING,
					&opts->service,
					N_("The service (account) to use; needed when there are "
					   "several"),
					N_("ID") };
	if (flags & PR_CTL_OPTION_JSON)
		entries[n++] = (GOptionEntry){ "json",	    0,
					       0,	    G_OPTION_ARG_NONE,
					       &opts->json, N_("Print JSON for scripts"),
					       NULL };
	if (flags & PR_CTL_OPTION_NO_WAIT)
		entries[n++] =
			(GOptionEntry){ "no-wait",
					0,
					0,
					G_OPTION_ARG_NONE,
					&opts->no_wait,
					N_("Print the operation's object path and exit at once"),
					NULL };
	if (flags & PR_CTL_OPTION_BUS)
		entries[n++] =
			(GOptionEntry){ "address",
					0,
					0,
					G_OPTION_ARG_STRING,
					&opts->address,
					N_("D-Bus address of the bus Postroom runs on (default: "
					   "$POSTROOM_BUS_ADDRESS, else the session bus)"),
					N_("ADDRESS") };
	entries[n] = (GOptionEntry){ NULL };
	return n;
}

gboolean
pr_ctl_options_parse(PrCtlOptions *opts,
		     PrCtlOptionFlags flags,
		     const GOptionEntry *entries,
		     const gchar *parameter_string,
		     const gchar *summary,
		     gint *argc,
		     gchar ***argv)
{
	g_autoptr(GOptionContext) context = g_option_context_new(parameter_string);
	g_autoptr(GError) error = NULL;
	GOptionEntry common[5];
	const gchar *env;

	opts->command = g_strdup((*argv)[0]);
	pr_ctl_options_add_common(opts, flags, common);
	g_option_context_set_translation_domain(context, GETTEXT_PACKAGE);
	if (summary != NULL)
		g_option_context_set_summary(context, summary);
	if (entries != NULL)
		g_option_context_add_main_entries(context, entries, GETTEXT_PACKAGE);
	g_option_context_add_main_entries(context, common, GETTEXT_PACKAGE);
	if (!g_option_context_parse(context, argc, argv, &error)) {
		g_printerr("postroomctl %s: %s\n", opts->command, error->message);
		return FALSE;
	}
	if (opts->service != NULL) {
		g_autofree gchar *path = pr_ctl_service_path_from_id(opts->service, &error);
		if (path == NULL) {
			g_printerr("postroomctl %s: %s\n", opts->command, error->message);
			return FALSE;
		}
	}
	env = g_getenv(PR_CTL_ADDRESS_ENV);
	if (opts->address == NULL && env != NULL && env[0] != '\0')
		opts->address = g_strdup(env);
	return TRUE;
}

gint
pr_ctl_usage_error(const PrCtlOptions *opts, const gchar *format, ...)
{
	g_autofree gchar *message = NULL;
	va_list args;

	va_start(args, format);
	message = g_strdup_vprintf(format, args);
	va_end(args);
	g_printerr("postroomctl %s: %s\n", opts->command != NULL ? opts->command : "", message);
	return PR_CTL_EXIT_USAGE;
}

gint
pr_ctl_fail(const PrCtlOptions *opts, const GError *error)
{
	if (g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
		return PR_CTL_EXIT_INTERRUPTED;
	if (error->domain == G_OPTION_ERROR)
		return pr_ctl_usage_error(opts, "%s", error->message);
	pr_ctl_print_error(error);
	return PR_CTL_EXIT_FAILED;
}

gboolean
pr_ctl_parse_message_id(const gchar *text, guint64 *id, GError **error)
{
	if (!g_ascii_string_to_unsigned(text, 10, 1, G_MAXUINT64, id, NULL)) {
		g_set_error(error,
			    G_OPTION_ERROR,
			    G_OPTION_ERROR_BAD_VALUE,
			    _("“%s” is not a message id (a number greater than 0)"),
			    text);
		return FALSE;
	}
	return TRUE;
}

static GDBusConnection *
pr_ctl_bus_connect(const gchar *address, GError **error)
{
	GDBusConnection *connection;

	if (address == NULL) {
		connection = g_bus_get_sync(G_BUS_TYPE_SESSION, NULL, error);
		if (connection == NULL)
			g_prefix_error(error, "%s", _("Cannot connect to the session bus: "));
	} else {
		connection = g_dbus_connection_new_for_address_sync(
			address,
			G_DBUS_CONNECTION_FLAGS_AUTHENTICATION_CLIENT |
				G_DBUS_CONNECTION_FLAGS_MESSAGE_BUS_CONNECTION,
			NULL,
			NULL,
			error);
		if (connection == NULL)
			g_prefix_error(error, _("Cannot connect to the bus at “%s”: "), address);
	}
	/* a lost bus is reported as an error, not by exit(1) from inside GDBus */
	if (connection != NULL)
		g_dbus_connection_set_exit_on_close(connection, FALSE);
	return connection;
}

PrCtlClient *
pr_ctl_client_new(const PrCtlOptions *opts, GError **error)
{
	g_autoptr(PrCtlClient) self = g_new0(PrCtlClient, 1);
	g_autofree gchar *owner = NULL;

	/* registers the contract's error names, so remote errors map onto PR_ERROR */
	(void)pr_error_quark();

	self->connection = pr_ctl_bus_connect(opts->address, error);
	if (self->connection == NULL)
		return NULL;
	/* may start postroomd by D-Bus activation */
	self->object_manager =
		pr_dbus_object_manager_client_new_sync(self->connection,
						       G_DBUS_OBJECT_MANAGER_CLIENT_FLAGS_NONE,
						       PR_DBUS_NAME,
						       PR_DBUS_MANAGER_PATH,
						       NULL,
						       error);
	if (self->object_manager == NULL)
		return NULL;
	owner = g_dbus_object_manager_client_get_name_owner(
		G_DBUS_OBJECT_MANAGER_CLIENT(self->object_manager));
	if (owner == NULL) {
		g_set_error_literal(
			error, PR_ERROR, PR_ERROR_FAILED, _("Postroom is not running on this bus"));
		return NULL;
	}
	return g_steal_pointer(&self);
}

void
pr_ctl_client_free(PrCtlClient *self)
{
	g_clear_object(&self->object_manager);
	g_clear_object(&self->connection);
	g_free(self);
}

PrDBusManager *
pr_ctl_client_get_manager(PrCtlClient *self, GError **error)
{
	PrDBusManager *manager;

	manager = pr_dbus_manager_proxy_new_sync(self->connection,
						 G_DBUS_PROXY_FLAGS_DO_NOT_AUTO_START,
						 PR_DBUS_NAME,
						 PR_DBUS_MANAGER_PATH,
						 NULL,
						 error);
	if (manager != NULL)
		g_dbus_proxy_set_default_timeout(G_DBUS_PROXY(manager), PR_CTL_DBUS_TIMEOUT);
	return manager;
}

static gint
pr_ctl_service_compare(gconstpointer a, gconstpointer b)
{
	return g_strcmp0(pr_dbus_imap4_service_get_id((PrDBusImap4Service *)a),
			 pr_dbus_imap4_service_get_id((PrDBusImap4Service *)b));
}

GList *
pr_ctl_client_list_services(PrCtlClient *self)
{
	GList *objects = g_dbus_object_manager_get_objects(self->object_manager);
	GList *services = NULL;

	for (GList *l = objects; l != NULL; l = l->next) {
		PrDBusImap4Service *service = pr_dbus_object_get_imap4_service(l->data);
		if (service == NULL)
			continue;
		g_dbus_proxy_set_default_timeout(G_DBUS_PROXY(service), PR_CTL_DBUS_TIMEOUT);
		services = g_list_prepend(services, service);
	}
	g_list_free_full(objects, g_object_unref);
	return g_list_sort(services, pr_ctl_service_compare);
}

static gchar *
pr_ctl_service_ids(GList *services)
{
	g_autoptr(GString) ids = g_string_new(NULL);

	for (GList *l = services; l != NULL; l = l->next) {
		if (ids->len > 0)
			g_string_append(ids, ", ");
		g_string_append(ids, pr_dbus_imap4_service_get_id(l->data));
	}
	return g_string_free(g_steal_pointer(&ids), FALSE);
}

gchar *
pr_ctl_service_path_from_id(const gchar *id, GError **error)
{
	if (!pr_contract_service_id_is_valid(id)) {
		g_set_error(error,
			    G_OPTION_ERROR,
			    G_OPTION_ERROR_BAD_VALUE,
			    _("“%s” is not a service id (at most %u of a-z, 0-9 and _)"),
			    id,
			    (guint)PR_CONTRACT_SERVICE_ID_MAX);
		return NULL;
	}
	return pr_contract_service_path(id);
}

const gchar *
pr_ctl_service_id_from_path(const gchar *path)
{
	const gchar *id = pr_contract_service_id_from_path(path);

	return id != NULL ? id : path;
}

static PrDBusImap4Service *
pr_ctl_client_find_service(PrCtlClient *self, const gchar *id, GError **error)
{
	g_autofree gchar *path = pr_ctl_service_path_from_id(id, error);
	GDBusInterface *iface;
	GList *services;
	g_autofree gchar *ids = NULL;

	if (path == NULL)
		return NULL;
	iface = g_dbus_object_manager_get_interface(
		self->object_manager, path, PR_DBUS_SERVICE_IFACE);
	if (iface != NULL) {
		g_dbus_proxy_set_default_timeout(G_DBUS_PROXY(iface), PR_CTL_DBUS_TIMEOUT);
		return PR_DBUS_IMAP4_SERVICE(iface);
	}
	services = pr_ctl_client_list_services(self);
	ids = pr_ctl_service_ids(services);
	g_list_free_full(services, g_object_unref);
	if (ids[0] == '\0') {
		g_set_error(error, PR_ERROR, PR_ERROR_NOT_FOUND, _("There is no service “%s”"), id);
		return NULL;
	}
	g_set_error(error,
		    PR_ERROR,
		    PR_ERROR_NOT_FOUND,
		    _("There is no service “%s”; the services are: %s"),
		    id,
		    ids);
	return NULL;
}

PrDBusImap4Service *
pr_ctl_client_get_service(PrCtlClient *self, const PrCtlOptions *opts, GError **error)
{
	GList *services;
	g_autofree gchar *ids = NULL;
	PrDBusImap4Service *service;

	if (opts->service != NULL)
		return pr_ctl_client_find_service(self, opts->service, error);

	services = pr_ctl_client_list_services(self);
	if (services == NULL) {
		g_set_error_literal(error,
				    PR_ERROR,
				    PR_ERROR_NOT_FOUND,
				    _("No service is configured; add one with “postroomctl add”"));
		return NULL;
	}
	if (services->next != NULL) {
		ids = pr_ctl_service_ids(services);
		g_list_free_full(services, g_object_unref);
		g_set_error(error,
			    G_OPTION_ERROR,
			    G_OPTION_ERROR_FAILED,
			    _("There are several services; choose one with --service ID: %s"),
			    ids);
		return NULL;
	}
	service = g_object_ref(services->data);
	g_list_free_full(services, g_object_unref);
	return service;
}

static guint64
pr_ctl_operation_number(PrDBusImap4Operation *operation)
{
	const gchar *path = g_dbus_proxy_get_object_path(G_DBUS_PROXY(operation));
	const gchar *slash = strrchr(path, '/');

	return g_ascii_strtoull(slash != NULL ? slash + 1 : path, NULL, 10);
}

static gint
pr_ctl_operation_compare(gconstpointer a, gconstpointer b)
{
	guint64 na = pr_ctl_operation_number((PrDBusImap4Operation *)a);
	guint64 nb = pr_ctl_operation_number((PrDBusImap4Operation *)b);

	return na < nb ? -1 : (na > nb ? 1 : 0);
}

gboolean
pr_ctl_operation_is_stay_online(PrDBusImap4Operation *operation)
{
	return g_strcmp0(pr_dbus_imap4_operation_get_kind(operation), "connect-and-sync") == 0 &&
	       g_strcmp0(pr_dbus_imap4_operation_get_stage(operation), "idle") == 0;
}

GList *
pr_ctl_client_list_active_operations(PrCtlClient *self, const gchar *service_path)
{
	GList *objects = g_dbus_object_manager_get_objects(self->object_manager);
	GList *operations = NULL;

	for (GList *l = objects; l != NULL; l = l->next) {
		PrDBusImap4Operation *operation = pr_dbus_object_get_imap4_operation(l->data);
		const gchar *state;

		if (operation == NULL)
			continue;
		state = pr_dbus_imap4_operation_get_state(operation);
		if (g_strcmp0(pr_dbus_imap4_operation_get_service(operation), service_path) != 0 ||
		    (g_strcmp0(state, "queued") != 0 && g_strcmp0(state, "running") != 0)) {
			g_object_unref(operation);
			continue;
		}
		operations = g_list_prepend(operations, operation);
	}
	g_list_free_full(objects, g_object_unref);
	return g_list_sort(operations, pr_ctl_operation_compare);
}

GVariant *
pr_ctl_client_get_all_properties(PrCtlClient *self,
				 const gchar *path,
				 const gchar *iface,
				 GError **error)
{
	g_autoptr(GVariant) reply = NULL;

	reply = g_dbus_connection_call_sync(self->connection,
					    PR_DBUS_NAME,
					    path,
					    "org.freedesktop.DBus.Properties",
					    "GetAll",
					    g_variant_new("(s)", iface),
					    G_VARIANT_TYPE("(a{sv})"),
					    G_DBUS_CALL_FLAGS_NO_AUTO_START,
					    -1,
					    NULL,
					    error);
	if (reply == NULL)
		return NULL;
	return g_variant_get_child_value(reply, 0);
}

PrDBusImap4Service *
pr_ctl_client_get_service_by_path(PrCtlClient *self, const gchar *path, GError **error)
{
	PrDBusImap4Service *service;

	service = pr_dbus_imap4_service_proxy_new_sync(self->connection,
						       G_DBUS_PROXY_FLAGS_DO_NOT_AUTO_START,
						       PR_DBUS_NAME,
						       path,
						       NULL,
						       error);
	if (service != NULL)
		g_dbus_proxy_set_default_timeout(G_DBUS_PROXY(service), PR_CTL_DBUS_TIMEOUT);
	return service;
}

PrDBusImap4Service *
pr_ctl_open_service(const PrCtlOptions *opts, PrCtlClient **client, GError **error)
{
	g_autoptr(PrCtlClient) new_client = pr_ctl_client_new(opts, error);
	PrDBusImap4Service *service;

	if (new_client == NULL)
		return NULL;
	service = pr_ctl_client_get_service(new_client, opts, error);
	if (service == NULL)
		return NULL;
	*client = g_steal_pointer(&new_client);
	return service;
}

GVariant *
pr_ctl_no_options(void)
{
	return g_variant_new_array(G_VARIANT_TYPE("{sv}"), NULL, 0);
}

gint
pr_ctl_unexpected_argument(const PrCtlOptions *opts, const gchar *arg)
{
	return pr_ctl_usage_error(opts, _("unexpected argument “%s”"), arg);
}

gboolean
pr_ctl_check_utf8(const gchar *text, GError **error)
{
	g_autofree gchar *shown = NULL;

	if (g_utf8_validate(text, -1, NULL))
		return TRUE;
	shown = g_utf8_make_valid(text, -1);
	g_set_error(error,
		    G_OPTION_ERROR,
		    G_OPTION_ERROR_BAD_VALUE,
		    _("“%s” is not valid UTF-8"),
		    shown);
	return FALSE;
}

gchar **
pr_ctl_args_to_utf8(gint argc, gchar **argv, GError **error)
{
	g_auto(GStrv) strv = g_new0(gchar *, argc + 1);

	for (gint i = 0; i < argc; i++) {
		if (!pr_ctl_check_utf8(argv[i], error))
			return NULL;
		strv[i] = g_strdup(argv[i]);
	}
	return g_steal_pointer(&strv);
}
