/*
 * Copyright 2026 The Postroom developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#define G_LOG_DOMAIN "PrCtl"

#include <glib-unix.h>
#include <glib/gi18n.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "pr-ctl.h"

#define PR_CTL_NEW_MAIL_SHOWN 10	   /* messages of one NewMail shown with From and Subject */
#define PR_CTL_NEW_MAIL_SLACK 10	   /* messages listed around the newest, for races */
#define PR_CTL_INDENT	      "          " /* under the text after the time */

typedef struct {
	const PrCtlOptions *opts;
	PrCtlClient *client;
	gchar *service_path; /* only this service's events, or NULL for all */
	GMainLoop *loop;
	gboolean tty;
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

/* One event: a JSON line, or "12:34:56  SERVICE  text" for people, in bold when
 * @prominent and on a terminal, followed by the @details lines (sanitized already). Every
 * event is flushed at once: watch is read through pipes. */
static void
pr_ctl_watch_emit_full(PrCtlWatch *self,
		       const gchar *event,
		       const gchar *service_path,
		       GVariant *extra,
		       const gchar *text,
		       gboolean prominent,
		       GPtrArray *details)
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
	if (prominent && self->tty)
		g_print("%s  %s  \033[1m%s\033[0m\n", time, id != NULL ? id : "-", clean);
	else
		g_print("%s  %s  %s\n", time, id != NULL ? id : "-", clean);
	for (guint i = 0; details != NULL && i < details->len; i++)
		g_print("%s\n", (const gchar *)g_ptr_array_index(details, i));
	fflush(stdout);
}

static void
pr_ctl_watch_emit(PrCtlWatch *self,
		  const gchar *event,
		  const gchar *service_path,
		  GVariant *extra,
		  const gchar *text)
{
	pr_ctl_watch_emit_full(self, event, service_path, extra, text, FALSE, NULL);
}

static gboolean
pr_ctl_watch_wants(PrCtlWatch *self, const gchar *service_path)
{
	return self->service_path == NULL || g_strcmp0(self->service_path, service_path) == 0;
}

/* The messages count of @folder in the store, or -1. */
static gint64
pr_ctl_watch_folder_count(PrDBusImap4Service *service, const gchar *folder, GError **error)
{
	g_autoptr(GVariant) folders = NULL;
	GVariantIter iter;
	const gchar *name;
	GVariant *info;
	gint64 count = -1;

	if (!pr_dbus_imap4_service_call_list_folders_sync(
		    service, pr_ctl_no_options(), &folders, NULL, error))
		return -1;
	g_variant_iter_init(&iter, folders);
	while (count < 0 && g_variant_iter_next(&iter, "(&s@a{sv})", &name, &info)) {
		guint32 messages = 0;
		if (g_strcmp0(name, folder) == 0 &&
		    g_variant_lookup(info, "messages", "u", &messages))
			count = messages;
		g_variant_unref(info);
	}
	if (count < 0)
		g_set_error(error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND, "no folder %s", folder);
	return count;
}

/* The last (newest) messages of @folder, enough to hold the @n newest that arrived: new
 * mail has the highest UIDs, and messages are listed by UID. a(ta{sv}), or NULL. */
static GVariant *
pr_ctl_watch_list_newest(PrCtlWatch *self,
			 const gchar *service_path,
			 const gchar *folder,
			 guint n,
			 GError **error)
{
	g_autoptr(GDBusInterface) iface = NULL;
	g_auto(GVariantDict) query = G_VARIANT_DICT_INIT(NULL);
	GVariant *messages = NULL;
	gint64 count;
	guint32 offset;

	iface = g_dbus_object_manager_get_interface(
		self->client->object_manager, service_path, PR_DBUS_SERVICE_IFACE);
	if (iface == NULL) {
		g_set_error(
			error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND, "no service at %s", service_path);
		return NULL;
	}
	count = pr_ctl_watch_folder_count(PR_DBUS_IMAP4_SERVICE(iface), folder, error);
	if (count < 0)
		return NULL;
	offset = count > n + PR_CTL_NEW_MAIL_SLACK ? (guint32)(count - n - PR_CTL_NEW_MAIL_SLACK)
						   : 0;
	g_variant_dict_insert(&query, "offset", "u", offset);
	g_variant_dict_insert(&query, "limit", "u", n + 2 * PR_CTL_NEW_MAIL_SLACK);
	if (!pr_dbus_imap4_service_call_list_messages_sync(PR_DBUS_IMAP4_SERVICE(iface),
							   folder,
							   g_variant_dict_end(&query),
							   &messages,
							   NULL,
							   error))
		return NULL;
	return messages;
}

static GVariant *
pr_ctl_watch_find_message(GVariant *messages, guint64 wanted)
{
	GVariantIter iter;
	guint64 id;
	GVariant *info;

	g_variant_iter_init(&iter, messages);
	while (g_variant_iter_next(&iter, "(t@a{sv})", &id, &info)) {
		if (id == wanted)
			return info;
		g_variant_unref(info);
	}
	return NULL;
}

/* "          41  From: Ann <ann@example.org>  Subject: Lunch" */
static gchar *
pr_ctl_watch_message_line(PrCtlWatch *self, guint64 id, const gchar *from, const gchar *subject)
{
	/* TRANSLATORS: a message's sender and subject, under a "New mail" line */
	g_autofree gchar *about = g_strdup_printf(_("From: %s  Subject: %s"), from, subject);
	g_autofree gchar *line = g_strdup_printf("%" G_GUINT64_FORMAT "  %s", id, about);
	g_autofree gchar *shown = NULL;
	guint width;

	if (!self->tty) {
		shown = pr_ctl_sanitize(line);
		return g_strconcat(PR_CTL_INDENT, shown, NULL);
	}
	/* one line each on a terminal */
	width = pr_ctl_terminal_width();
	shown = pr_ctl_ellipsize(line,
				 MAX(width, 2 * strlen(PR_CTL_INDENT)) - strlen(PR_CTL_INDENT) - 1);
	return g_strconcat(PR_CTL_INDENT, shown, NULL);
}

/* From and Subject of the newest (at most PR_CTL_NEW_MAIL_SHOWN) of @ids: lines for people
 * in @details, entries for JSON in @list. */
static void
pr_ctl_watch_new_mail_details(PrCtlWatch *self,
			      const gchar *path,
			      const gchar *folder,
			      GVariant *ids,
			      GPtrArray *details,
			      GVariantBuilder *list)
{
	gsize n = g_variant_n_children(ids);
	guint shown = (guint)MIN(n, PR_CTL_NEW_MAIL_SHOWN);
	g_autoptr(GVariant) messages = NULL;
	g_autoptr(GError) error = NULL;

	if (shown == 0)
		return;
	messages = pr_ctl_watch_list_newest(self, path, folder, shown, &error);
	if (messages == NULL) {
		g_debug("listing the new mail of %s: %s", folder, error->message);
		return;
	}
	for (gsize i = n - shown; i < n; i++) {
		g_autoptr(GVariant) info = NULL;
		const gchar *from = "";
		const gchar *subject = "";
		guint64 id = 0;

		g_variant_get_child(ids, i, "t", &id);
		info = pr_ctl_watch_find_message(messages, id);
		if (info == NULL)
			continue;
		g_variant_lookup(info, "from", "&s", &from);
		g_variant_lookup(info, "subject", "&s", &subject);
		g_ptr_array_add(details, pr_ctl_watch_message_line(self, id, from, subject));
		g_variant_builder_open(list, G_VARIANT_TYPE_VARDICT);
		g_variant_builder_add(list, "{sv}", "id", g_variant_new_uint64(id));
		g_variant_builder_add(list, "{sv}", "from", g_variant_new_string(from));
		g_variant_builder_add(list, "{sv}", "subject", g_variant_new_string(subject));
		g_variant_builder_close(list);
	}
	if (n > shown) {
		/* TRANSLATORS: after the From and Subject lines of the newest messages */
		g_autofree gchar *more = g_strdup_printf(
			ngettext("… and %u more message", "… and %u more messages", n - shown),
			(guint)(n - shown));
		g_ptr_array_add(details, g_strconcat(PR_CTL_INDENT, more, NULL));
	}
}

static void
pr_ctl_watch_new_mail(PrCtlWatch *self, const gchar *path, GVariant *params)
{
	const gchar *folder = NULL;
	g_autoptr(GVariant) ids = NULL;
	g_autoptr(GPtrArray) details = g_ptr_array_new_with_free_func(g_free);
	g_auto(GVariantBuilder) list = G_VARIANT_BUILDER_INIT(G_VARIANT_TYPE("aa{sv}"));
	g_autofree gchar *text = NULL;
	g_auto(GVariantBuilder) extra = G_VARIANT_BUILDER_INIT(G_VARIANT_TYPE_VARDICT);
	guint n;

	g_variant_get(params, "(&s@at)", &folder, &ids);
	n = (guint)g_variant_n_children(ids);
	/* TRANSLATORS: a folder name, then how many messages arrived */
	text = g_strdup_printf(
		ngettext("New mail in %s: %u message", "New mail in %s: %u messages", n),
		folder,
		n);
	pr_ctl_watch_new_mail_details(self, path, folder, ids, details, &list);
	g_variant_builder_add(&extra, "{sv}", "folder", g_variant_new_string(folder));
	g_variant_builder_add(&extra, "{sv}", "ids", ids);
	g_variant_builder_add(&extra, "{sv}", "messages", g_variant_builder_end(&list));
	pr_ctl_watch_emit_full(
		self, "NewMail", path, g_variant_builder_end(&extra), text, TRUE, details);
}

/* "messages changed in INBOX: 2 added, 1 removed": only what happened. */
static gchar *
pr_ctl_watch_changes_text(const gchar *folder, guint added, guint changed, guint removed)
{
	g_autoptr(GString) text = g_string_new(NULL);
	g_autoptr(GPtrArray) parts = g_ptr_array_new_with_free_func(g_free);

	g_string_printf(text, _("messages changed in %s"), folder);
	if (added > 0)
		g_ptr_array_add(parts, g_strdup_printf(_("%u added"), added));
	if (changed > 0)
		g_ptr_array_add(parts, g_strdup_printf(_("%u changed"), changed));
	if (removed > 0)
		g_ptr_array_add(parts, g_strdup_printf(_("%u removed"), removed));
	for (guint i = 0; i < parts->len; i++)
		g_string_append_printf(
			text, "%s%s", i == 0 ? ": " : ", ", (const gchar *)parts->pdata[i]);
	return g_string_free(g_steal_pointer(&text), FALSE);
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
	text = pr_ctl_watch_changes_text(folder,
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
	if (g_str_has_prefix(name, PR_DBUS_ERROR_PREFIX))
		name += strlen(PR_DBUS_ERROR_PREFIX);
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

	if (g_strcmp0(iface_name, PR_DBUS_SERVICE_IFACE) == 0) {
		if (pr_ctl_watch_wants(self, path))
			pr_ctl_watch_service_signal(self, path, signal_name, params);
		return;
	}
	if (g_strcmp0(iface_name, PR_DBUS_OPERATION_IFACE) != 0)
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
	gboolean background = FALSE;

	if (g_strcmp0(g_dbus_proxy_get_interface_name(iface), PR_DBUS_SERVICE_IFACE) != 0 ||
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
	if (g_variant_lookup(changed, "BackgroundSync", "b", &background)) {
		g_variant_dict_insert(&dict, "BackgroundSync", "b", background);
		if (text->len > 0)
			g_string_append(text, ", ");
		g_string_append(text,
				background ? _("background sync: started")
					   : _("background sync: ended"));
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
	PrCtlWatch self = { .opts = &opts, .loop = loop, .tty = isatty(STDOUT_FILENO) };

	if (!pr_ctl_options_parse(
		    &opts,
		    PR_CTL_OPTION_SERVICE | PR_CTL_OPTION_JSON | PR_CTL_OPTION_BUS,
		    NULL,
		    NULL,
		    _("Print the events of every service (or of --service) as they "
		      "come: new mail (with the sender and subject of up to 10 messages), "
		      "changed messages and folders, server alerts, changes of state, "
		      "connection and background sync, and the progress of operations. "
		      "With --json, one JSON document per line."),
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
	self.client = client;
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
