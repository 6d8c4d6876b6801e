/*
 * Copyright 2026 The Postroom developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#define G_LOG_DOMAIN "PrCtl"

#include <glib-unix.h>
#include <glib/gi18n.h>
#include <string.h>
#include <unistd.h>

#include "pr-ctl.h"

#define PR_CTL_SERVICE_IFACE   "org.postroom.Postroom1.Imap4Service"
#define PR_CTL_OPERATION_IFACE "org.postroom.Postroom1.Imap4Operation"

typedef struct {
	const PrCtlOptions *opts;
	gchar *service_path; /* only this service's events, or NULL for all */
	GMainLoop *loop;
	gboolean bus_closed;
} PrCtlWatch;

static void
pr_ctl_watch_emit_json(const gchar *event, GDateTime *now, const gchar *id, GVariant *extra)
{
	g_auto(GVariantBuilder) builder = G_VARIANT_BUILDER_INIT(G_VARIANT_TYPE_VARDICT);
	GVariantIter iter;
	const gchar *key;
	GVariant *value;

	/* time, event and service first: the lines are also read by people */
	g_variant_builder_add(
		&builder, "{sv}", "time", g_variant_new_int64(g_date_time_to_unix(now)));
	g_variant_builder_add(&builder, "{sv}", "event", g_variant_new_string(event));
	if (id != NULL)
		g_variant_builder_add(&builder, "{sv}", "service", g_variant_new_string(id));
	if (extra != NULL) {
		g_variant_iter_init(&iter, extra);
		while (g_variant_iter_next(&iter, "{&sv}", &key, &value)) {
			g_autofree gchar *dashed = pr_ctl_dashed_name(key);
			g_variant_builder_add(&builder, "{sv}", dashed, value);
			g_variant_unref(value);
		}
	}
	pr_ctl_json_output(g_variant_builder_end(&builder));
}

/* One event: a JSON line, or "12:34:56  SERVICE  text" for people. */
static void
pr_ctl_watch_emit(PrCtlWatch *self,
		  const gchar *event,
		  const gchar *service_path,
		  GVariant *extra,
		  const gchar *text)
{
	g_autoptr(GVariant) owned = extra != NULL ? g_variant_ref_sink(extra) : NULL;
	const gchar *id = service_path != NULL ? pr_ctl_service_id_from_path(service_path) : NULL;
	g_autoptr(GDateTime) now = g_date_time_new_now_local();
	g_autofree gchar *clean = NULL;
	g_autofree gchar *time = NULL;

	if (self->opts->json) {
		pr_ctl_watch_emit_json(event, now, id, owned);
		return;
	}
	clean = pr_ctl_sanitize(text);
	time = g_date_time_format(now, "%H:%M:%S");
	g_print("%s  %s  %s\n", time, id != NULL ? id : "-", clean);
}

static gboolean
pr_ctl_watch_wants(PrCtlWatch *self, const gchar *service_path)
{
	return self->service_path == NULL || g_strcmp0(self->service_path, service_path) == 0;
}

static gchar *
pr_ctl_watch_ids_text(GVariant *ids)
{
	g_autoptr(GString) text = g_string_new(NULL);
	gsize n = g_variant_n_children(ids);

	for (gsize i = 0; i < n; i++) {
		guint64 id = 0;
		g_variant_get_child(ids, i, "t", &id);
		g_string_append_printf(
			text, i > 0 ? " %" G_GUINT64_FORMAT : "%" G_GUINT64_FORMAT, id);
	}
	return g_string_free(g_steal_pointer(&text), FALSE);
}

static void
pr_ctl_watch_new_mail(PrCtlWatch *self, const gchar *path, GVariant *params)
{
	const gchar *folder = NULL;
	g_autoptr(GVariant) ids = NULL;
	g_autofree gchar *ids_text = NULL;
	g_autofree gchar *text = NULL;
	g_auto(GVariantDict) dict = G_VARIANT_DICT_INIT(NULL);

	g_variant_get(params, "(&s@at)", &folder, &ids);
	ids_text = pr_ctl_watch_ids_text(ids);
	/* TRANSLATORS: a folder name, then message ids */
	text = g_strdup_printf(_("new mail in %s: %s"), folder, ids_text);
	g_variant_dict_insert(&dict, "folder", "s", folder);
	g_variant_dict_insert_value(&dict, "ids", ids);
	pr_ctl_watch_emit(self, "NewMail", path, g_variant_dict_end(&dict), text);
}

static void
pr_ctl_watch_messages_changed(PrCtlWatch *self, const gchar *path, GVariant *params)
{
	const gchar *folder = NULL;
	g_autoptr(GVariant) added = NULL;
	g_autoptr(GVariant) changed = NULL;
	g_autoptr(GVariant) removed = NULL;
	g_autofree gchar *text = NULL;
	g_auto(GVariantDict) dict = G_VARIANT_DICT_INIT(NULL);

	g_variant_get(params, "(&s@at@at@at)", &folder, &added, &changed, &removed);
	text = g_strdup_printf(_("messages changed in %s: %u added, %u changed, %u removed"),
			       folder,
			       (guint)g_variant_n_children(added),
			       (guint)g_variant_n_children(changed),
			       (guint)g_variant_n_children(removed));
	g_variant_dict_insert(&dict, "folder", "s", folder);
	g_variant_dict_insert_value(&dict, "added", added);
	g_variant_dict_insert_value(&dict, "changed", changed);
	g_variant_dict_insert_value(&dict, "removed", removed);
	pr_ctl_watch_emit(self, "MessagesChanged", path, g_variant_dict_end(&dict), text);
}

static void
pr_ctl_watch_service_signal(PrCtlWatch *self,
			    const gchar *path,
			    const gchar *signal_name,
			    GVariant *params)
{
	const gchar *alert = NULL;
	g_autofree gchar *text = NULL;
	g_auto(GVariantDict) dict = G_VARIANT_DICT_INIT(NULL);

	if (g_strcmp0(signal_name, "NewMail") == 0 &&
	    g_variant_is_of_type(params, G_VARIANT_TYPE("(sat)"))) {
		pr_ctl_watch_new_mail(self, path, params);
	} else if (g_strcmp0(signal_name, "MessagesChanged") == 0 &&
		   g_variant_is_of_type(params, G_VARIANT_TYPE("(satatat)"))) {
		pr_ctl_watch_messages_changed(self, path, params);
	} else if (g_strcmp0(signal_name, "FoldersChanged") == 0) {
		pr_ctl_watch_emit(self, "FoldersChanged", path, NULL, _("folders changed"));
	} else if (g_strcmp0(signal_name, "Alert") == 0 &&
		   g_variant_is_of_type(params, G_VARIANT_TYPE("(s)"))) {
		g_variant_get(params, "(&s)", &alert);
		text = g_strdup_printf(_("server alert: %s"), alert);
		g_variant_dict_insert(&dict, "text", "s", alert);
		pr_ctl_watch_emit(self, "Alert", path, g_variant_dict_end(&dict), text);
	}
}

/* "operation 12 (synchronise)" */
static gchar *
pr_ctl_watch_operation_label(PrDBusImap4Operation *operation)
{
	const gchar *path = g_dbus_proxy_get_object_path(G_DBUS_PROXY(operation));
	const gchar *number = strrchr(path, '/');
	const gchar *kind = pr_dbus_imap4_operation_get_kind(operation);

	/* TRANSLATORS: an operation's number and kind, e.g. "operation 12 (synchronise)" */
	return g_strdup_printf(_("operation %s (%s)"),
			       number != NULL ? number + 1 : path,
			       kind != NULL ? kind : "");
}

static GVariant *
pr_ctl_watch_operation_extra(PrDBusImap4Operation *operation, GVariant *more)
{
	g_autoptr(GVariant) owned = more != NULL ? g_variant_ref_sink(more) : NULL;
	const gchar *kind = pr_dbus_imap4_operation_get_kind(operation);
	GVariantDict dict;

	g_variant_dict_init(&dict, owned);
	g_variant_dict_insert(
		&dict, "Operation", "o", g_dbus_proxy_get_object_path(G_DBUS_PROXY(operation)));
	g_variant_dict_insert(&dict, "Kind", "s", kind != NULL ? kind : "");
	return g_variant_dict_end(&dict);
}

static void
pr_ctl_watch_progress(PrCtlWatch *self, PrDBusImap4Operation *operation, GVariant *params)
{
	g_autoptr(GVariant) progress = g_variant_get_child_value(params, 0);
	g_autofree gchar *label = pr_ctl_watch_operation_label(operation);
	g_autofree gchar *line = pr_ctl_progress_format_plain(progress);
	g_autofree gchar *text = g_strdup_printf("%s: %s", label, line);

	pr_ctl_watch_emit(self,
			  "Progress",
			  pr_dbus_imap4_operation_get_service(operation),
			  pr_ctl_watch_operation_extra(operation, progress),
			  text);
}

static void
pr_ctl_watch_completed(PrCtlWatch *self, PrDBusImap4Operation *operation, GVariant *params)
{
	g_autofree gchar *label = pr_ctl_watch_operation_label(operation);
	g_autofree gchar *text = NULL;
	g_auto(GVariantDict) more = G_VARIANT_DICT_INIT(NULL);
	const gchar *name = NULL;
	const gchar *message = NULL;
	gboolean success = FALSE;

	g_variant_get(params, "(b&s&s)", &success, &name, &message);
	if (g_str_has_prefix(name, PR_CTL_ERROR_PREFIX))
		name += strlen(PR_CTL_ERROR_PREFIX);
	if (success)
		text = g_strdup_printf(_("%s succeeded"), label);
	else
		text = g_strdup_printf(_("%s failed: %s: %s"), label, name, message);
	g_variant_dict_insert(&more, "Success", "b", success);
	g_variant_dict_insert(&more, "Error", "s", name);
	g_variant_dict_insert(&more, "ErrorMessage", "s", message);
	pr_ctl_watch_emit(self,
			  "Completed",
			  pr_dbus_imap4_operation_get_service(operation),
			  pr_ctl_watch_operation_extra(operation, g_variant_dict_end(&more)),
			  text);
}

static void
pr_ctl_watch_signal_cb(GDBusObjectManagerClient *manager,
		       GDBusObjectProxy *object,
		       GDBusProxy *iface,
		       const gchar *sender,
		       const gchar *signal_name,
		       GVariant *params,
		       gpointer user_data)
{
	PrCtlWatch *self = user_data;
	const gchar *iface_name = g_dbus_proxy_get_interface_name(iface);
	const gchar *path = g_dbus_proxy_get_object_path(iface);
	PrDBusImap4Operation *operation;

	if (g_strcmp0(iface_name, PR_CTL_SERVICE_IFACE) == 0) {
		if (pr_ctl_watch_wants(self, path))
			pr_ctl_watch_service_signal(self, path, signal_name, params);
		return;
	}
	if (g_strcmp0(iface_name, PR_CTL_OPERATION_IFACE) != 0)
		return;
	operation = PR_DBUS_IMAP4_OPERATION(iface);
	if (!pr_ctl_watch_wants(self, pr_dbus_imap4_operation_get_service(operation)))
		return;
	if (g_strcmp0(signal_name, "Progress") == 0 &&
	    g_variant_is_of_type(params, G_VARIANT_TYPE("(a{sv})")))
		pr_ctl_watch_progress(self, operation, params);
	else if (g_strcmp0(signal_name, "Completed") == 0 &&
		 g_variant_is_of_type(params, G_VARIANT_TYPE("(bss)")))
		pr_ctl_watch_completed(self, operation, params);
}

static void
pr_ctl_watch_properties_cb(GDBusObjectManagerClient *manager,
			   GDBusObjectProxy *object,
			   GDBusProxy *iface,
			   GVariant *changed,
			   const gchar *const *invalidated,
			   gpointer user_data)
{
	PrCtlWatch *self = user_data;
	const gchar *path = g_dbus_proxy_get_object_path(iface);
	g_auto(GVariantDict) dict = G_VARIANT_DICT_INIT(NULL);
	g_autoptr(GString) text = g_string_new(NULL);
	const gchar *state = NULL;
	gboolean connected = FALSE;

	if (g_strcmp0(g_dbus_proxy_get_interface_name(iface), PR_CTL_SERVICE_IFACE) != 0 ||
	    !pr_ctl_watch_wants(self, path))
		return;
	if (g_variant_lookup(changed, "State", "&s", &state)) {
		g_variant_dict_insert(&dict, "State", "s", state);
		g_string_append_printf(text, _("state: %s"), state);
	}
	if (g_variant_lookup(changed, "Connected", "b", &connected)) {
		g_variant_dict_insert(&dict, "Connected", "b", connected);
		if (text->len > 0)
			g_string_append(text, ", ");
		g_string_append(text, connected ? _("connected: yes") : _("connected: no"));
	}
	if (text->len == 0)
		return;
	pr_ctl_watch_emit(self, "PropertiesChanged", path, g_variant_dict_end(&dict), text->str);
}

static void
pr_ctl_watch_object(PrCtlWatch *self, GDBusObject *object, gboolean added)
{
	PrDBusImap4Service *service = pr_dbus_object_peek_imap4_service(PR_DBUS_OBJECT(object));
	PrDBusImap4Operation *operation =
		pr_dbus_object_peek_imap4_operation(PR_DBUS_OBJECT(object));
	const gchar *path = g_dbus_object_get_object_path(object);
	g_autofree gchar *label = NULL;
	g_autofree gchar *text = NULL;

	if (service != NULL && pr_ctl_watch_wants(self, path)) {
		pr_ctl_watch_emit(self,
				  added ? "ServiceAdded" : "ServiceRemoved",
				  path,
				  NULL,
				  added ? _("service added") : _("service removed"));
		return;
	}
	/* finished operations are removed after a while: not news */
	if (operation == NULL || !added ||
	    !pr_ctl_watch_wants(self, pr_dbus_imap4_operation_get_service(operation)))
		return;
	label = pr_ctl_watch_operation_label(operation);
	text = g_strdup_printf(_("%s started"), label);
	pr_ctl_watch_emit(self,
			  "OperationAdded",
			  pr_dbus_imap4_operation_get_service(operation),
			  pr_ctl_watch_operation_extra(operation, NULL),
			  text);
}

static void
pr_ctl_watch_object_added_cb(GDBusObjectManager *manager, GDBusObject *object, gpointer user_data)
{
	pr_ctl_watch_object(user_data, object, TRUE);
}

static void
pr_ctl_watch_object_removed_cb(GDBusObjectManager *manager, GDBusObject *object, gpointer user_data)
{
	pr_ctl_watch_object(user_data, object, FALSE);
}

static void
pr_ctl_watch_name_owner_cb(GObject *manager, GParamSpec *pspec, gpointer user_data)
{
	PrCtlWatch *self = user_data;
	g_autofree gchar *owner =
		g_dbus_object_manager_client_get_name_owner(G_DBUS_OBJECT_MANAGER_CLIENT(manager));

	if (owner == NULL)
		pr_ctl_watch_emit(self, "DaemonStopped", NULL, NULL, _("Postroom stopped"));
	else
		pr_ctl_watch_emit(self, "DaemonStarted", NULL, NULL, _("Postroom started"));
}

static void
pr_ctl_watch_closed_cb(GDBusConnection *connection,
		       gboolean remote_peer_vanished,
		       GError *error,
		       gpointer user_data)
{
	PrCtlWatch *self = user_data;

	self->bus_closed = TRUE;
	g_main_loop_quit(self->loop);
}

static gboolean
pr_ctl_watch_quit_cb(gpointer user_data)
{
	PrCtlWatch *self = user_data;

	g_main_loop_quit(self->loop);
	return G_SOURCE_CONTINUE;
}

/* Subscribed: scripts may start what they want to watch once this line is out. */
static void
pr_ctl_watch_ready(PrCtlWatch *self, PrCtlClient *client)
{
	g_autoptr(GPtrArray) ids = g_ptr_array_new();
	GList *services = pr_ctl_client_list_services(client);
	g_auto(GVariantDict) dict = G_VARIANT_DICT_INIT(NULL);

	if (!self->opts->json) {
		if (isatty(STDERR_FILENO))
			g_printerr("%s\n", _("Watching Postroom; press Ctrl-C to stop."));
		g_list_free_full(services, g_object_unref);
		return;
	}
	for (GList *l = services; l != NULL; l = l->next) {
		const gchar *path = g_dbus_proxy_get_object_path(l->data);
		if (pr_ctl_watch_wants(self, path))
			g_ptr_array_add(ids, (gpointer)pr_dbus_imap4_service_get_id(l->data));
	}
	g_variant_dict_insert_value(
		&dict, "services", g_variant_new_strv((const gchar *const *)ids->pdata, ids->len));
	pr_ctl_watch_emit(self, "Watching", NULL, g_variant_dict_end(&dict), NULL);
	g_list_free_full(services, g_object_unref);
}

static void
pr_ctl_watch_run(PrCtlWatch *self, PrCtlClient *client)
{
	guint sigint_id = g_unix_signal_add(SIGINT, pr_ctl_watch_quit_cb, self);
	guint sigterm_id = g_unix_signal_add(SIGTERM, pr_ctl_watch_quit_cb, self);

	g_signal_connect(client->object_manager,
			 "interface-proxy-signal",
			 G_CALLBACK(pr_ctl_watch_signal_cb),
			 self);
	g_signal_connect(client->object_manager,
			 "interface-proxy-properties-changed",
			 G_CALLBACK(pr_ctl_watch_properties_cb),
			 self);
	g_signal_connect(client->object_manager,
			 "object-added",
			 G_CALLBACK(pr_ctl_watch_object_added_cb),
			 self);
	g_signal_connect(client->object_manager,
			 "object-removed",
			 G_CALLBACK(pr_ctl_watch_object_removed_cb),
			 self);
	g_signal_connect(client->object_manager,
			 "notify::name-owner",
			 G_CALLBACK(pr_ctl_watch_name_owner_cb),
			 self);
	g_signal_connect(client->connection, "closed", G_CALLBACK(pr_ctl_watch_closed_cb), self);
	pr_ctl_watch_ready(self, client);
	g_main_loop_run(self->loop);
	g_signal_handlers_disconnect_by_data(client->object_manager, self);
	g_signal_handlers_disconnect_by_data(client->connection, self);
	g_source_remove(sigint_id);
	g_source_remove(sigterm_id);
}

gint
pr_ctl_watch(gint argc, gchar **argv)
{
	g_auto(PrCtlOptions) opts = { 0 };
	g_autoptr(PrCtlClient) client = NULL;
	g_autoptr(GMainLoop) loop = g_main_loop_new(NULL, FALSE);
	g_autoptr(GError) error = NULL;
	g_autofree gchar *service_path = NULL;
	PrCtlWatch self = { .opts = &opts, .loop = loop };

	if (!pr_ctl_options_parse(
		    &opts,
		    PR_CTL_OPTION_SERVICE | PR_CTL_OPTION_JSON | PR_CTL_OPTION_BUS,
		    NULL,
		    NULL,
		    _("Print the events of every service (or of --service) as they "
		      "come: new mail, changed messages and folders, server alerts, "
		      "state changes and the progress of operations. With --json, one "
		      "JSON document per line."),
		    &argc,
		    &argv))
		return PR_CTL_EXIT_USAGE;
	if (argc > 1)
		return pr_ctl_unexpected_argument(&opts, argv[1]);

	client = pr_ctl_client_new(&opts, &error);
	if (client == NULL)
		return pr_ctl_fail(&opts, error);
	if (opts.service != NULL) {
		g_autoptr(PrDBusImap4Service) service =
			pr_ctl_client_get_service(client, &opts, &error);
		if (service == NULL)
			return pr_ctl_fail(&opts, error);
		service_path = g_strdup(g_dbus_proxy_get_object_path(G_DBUS_PROXY(service)));
	}
	self.service_path = service_path;
	pr_ctl_watch_run(&self, client);
	if (self.bus_closed) {
		g_set_error_literal(&error,
				    G_IO_ERROR,
				    G_IO_ERROR_CLOSED,
				    _("The connection to the bus was closed"));
		return pr_ctl_fail(&opts, error);
	}
	return PR_CTL_EXIT_OK;
}
