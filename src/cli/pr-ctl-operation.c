/*
 * Copyright 2026 The Postroom developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#define G_LOG_DOMAIN "PrCtl"

#include <glib-unix.h>
#include <glib/gi18n.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "pr-ctl.h"
#include "pr-error.h"

#define PR_CTL_PLAIN_INTERVAL G_USEC_PER_SEC /* plain progress lines at most once a second */
#define PR_CTL_CANCEL_TIMEOUT 5000	     /* ms */
#define PR_CTL_BAR_MIN	      10
#define PR_CTL_BAR_MAX	      30

typedef struct {
	PrCtlClient *client;
	const PrCtlOptions *opts;
	PrDBusImap4Operation *proxy;
	GMainLoop *loop;
	GVariantDict *progress; /* the latest values, keyed by property name */
	GVariantDict *display;	/* what is shown: @progress, or the followed operation's */
	gboolean tty;
	gboolean drawn;	   /* a progress bar is on the terminal's current line */
	gint64 last_plain; /* monotonic time of the last plain progress line */
	gchar *last_line;  /* the last plain progress line, not repeated */
	gboolean done;
	gboolean success;
	gboolean interrupted;
	gboolean vanished;
	gchar *error_name;
	gchar *error_message;
} PrCtlWait;

typedef struct {
	const gchar *stage;
	const gchar *label;
} PrCtlStageLabel;

static const PrCtlStageLabel stage_labels[] = {
	{ "connecting", N_("Connecting") },
	{ "authenticating", N_("Logging in") },
	{ "processing-offline-operations", N_("Replaying offline changes") },
	{ "syncing-inbox", N_("Syncing") },
	{ "syncing-tree", N_("Listing folders") },
	{ "syncing-subscriptions", N_("Syncing subscriptions") },
	{ "syncing-folder", N_("Syncing") },
	{ "fetching", N_("Fetching") },
	{ "appending", N_("Uploading") },
	{ "sending", N_("Sending") },
	{ "disconnecting", N_("Disconnecting") },
	{ "idle", N_("Idle") },
};

static const gchar *
pr_ctl_lookup_string(GVariant *dict, const gchar *key)
{
	const gchar *value = NULL;

	if (!g_variant_lookup(dict, key, "&s", &value))
		return "";
	return value;
}

static guint32
pr_ctl_lookup_uint32(GVariant *dict, const gchar *key)
{
	guint32 value = 0;

	g_variant_lookup(dict, key, "u", &value);
	return value;
}

static const gchar *
pr_ctl_stage_label(const gchar *state, const gchar *stage)
{
	if (g_strcmp0(state, "queued") == 0)
		return _("Waiting");
	if (stage[0] == '\0')
		return _("Working");
	for (guint i = 0; i < G_N_ELEMENTS(stage_labels); i++) {
		if (g_strcmp0(stage, stage_labels[i].stage) == 0)
			return _(stage_labels[i].label);
	}
	return stage;
}

/* "840/2000 messages", else "3/10 folders", else NULL */
static gchar *
pr_ctl_progress_counts(GVariant *progress)
{
	guint32 messages_total = pr_ctl_lookup_uint32(progress, "MessagesTotal");
	guint32 folders_total = pr_ctl_lookup_uint32(progress, "FoldersTotal");

	if (messages_total > 0)
		return g_strdup_printf(ngettext("%u/%u message", "%u/%u messages", messages_total),
				       pr_ctl_lookup_uint32(progress, "MessagesDone"),
				       messages_total);
	if (folders_total > 0)
		return g_strdup_printf(ngettext("%u/%u folder", "%u/%u folders", folders_total),
				       pr_ctl_lookup_uint32(progress, "FoldersDone"),
				       folders_total);
	return NULL;
}

static gdouble
pr_ctl_progress_fraction(GVariant *progress)
{
	gdouble fraction = -1;

	if (!g_variant_lookup(progress, "Progress", "d", &fraction) || isnan(fraction))
		return -1;
	return MIN(fraction, 1.0);
}

static void
pr_ctl_progress_append_bar(GString *line, gdouble fraction, guint width)
{
	guint filled = fraction < 0 ? 0 : (guint)floor(fraction * width);

	g_string_append_c(line, '[');
	for (guint i = 0; i < width; i++)
		g_string_append_c(line, i < filled ? '#' : '-');
	g_string_append_c(line, ']');
}

gchar *
pr_ctl_progress_format_bar(GVariant *progress, guint width)
{
	const gchar *folder = pr_ctl_lookup_string(progress, "Folder");
	const gchar *label = pr_ctl_stage_label(pr_ctl_lookup_string(progress, "State"),
						pr_ctl_lookup_string(progress, "Stage"));
	gdouble fraction = pr_ctl_progress_fraction(progress);
	g_autofree gchar *counts = pr_ctl_progress_counts(progress);
	g_autoptr(GString) left = g_string_new(label);
	g_autoptr(GString) right = g_string_new(NULL);
	g_autoptr(GString) line = g_string_new(NULL);
	guint64 bytes = 0;
	glong avail;
	guint bar;

	if (folder[0] != '\0') {
		g_autofree gchar *clean = pr_ctl_sanitize(folder);
		g_string_append_printf(left, " %s", clean);
	}
	if (fraction >= 0)
		g_string_append_printf(right, "%3u%%", (guint)floor(fraction * 100));
	else
		g_string_append(right, " --%");
	if (counts != NULL)
		g_string_append_printf(right, "  %s", counts);
	if (g_variant_lookup(progress, "BytesDone", "t", &bytes) && bytes > 0) {
		g_autofree gchar *size = g_format_size(bytes);
		g_string_append_printf(right, "  %s", size);
	}

	/* never write into the last column: terminals wrap there */
	avail = (glong)width - 1 - pr_ctl_display_width(left->str) -
		pr_ctl_display_width(right->str) - 6;
	bar = (guint)CLAMP(avail, PR_CTL_BAR_MIN, PR_CTL_BAR_MAX);
	g_string_append_printf(line, "%s  ", left->str);
	pr_ctl_progress_append_bar(line, fraction, bar);
	g_string_append_printf(line, "  %s", right->str);
	return pr_ctl_ellipsize(line->str, width > 1 ? width - 1 : 1);
}

gchar *
pr_ctl_progress_format_plain(GVariant *progress)
{
	const gchar *stage = pr_ctl_lookup_string(progress, "Stage");
	const gchar *folder = pr_ctl_lookup_string(progress, "Folder");
	g_autofree gchar *counts = pr_ctl_progress_counts(progress);
	g_autoptr(GString) line =
		g_string_new(stage[0] != '\0' ? stage : pr_ctl_lookup_string(progress, "State"));

	if (folder[0] != '\0') {
		g_autofree gchar *clean = pr_ctl_sanitize(folder);
		g_string_append_printf(line, " %s", clean);
	}
	if (counts != NULL)
		g_string_append_printf(line, " %s", counts);
	return g_string_free(g_steal_pointer(&line), FALSE);
}

static void
pr_ctl_wait_clear_line(PrCtlWait *self)
{
	if (!self->drawn)
		return;
	g_print("\r\033[K");
	self->drawn = FALSE;
}

static void
pr_ctl_wait_show(PrCtlWait *self)
{
	g_autoptr(GVariant) progress = NULL;
	g_autofree gchar *line = NULL;
	gint64 now;

	if (self->opts->json)
		return;
	/* g_variant_dict_end() empties the dict: fill it again from the snapshot */
	progress = g_variant_ref_sink(g_variant_dict_end(self->display));
	g_variant_dict_init(self->display, progress);
	if (self->tty) {
		line = pr_ctl_progress_format_bar(progress, pr_ctl_terminal_width());
		g_print("\r%s\033[K", line);
		self->drawn = TRUE;
		return;
	}
	/* for logs: no line before there is something to say */
	if (self->opts->no_plain_progress ||
	    g_strcmp0(pr_ctl_lookup_string(progress, "Stage"), "") == 0)
		return;
	now = g_get_monotonic_time();
	if (self->last_plain != 0 && now - self->last_plain < PR_CTL_PLAIN_INTERVAL)
		return;
	line = pr_ctl_progress_format_plain(progress);
	if (g_strcmp0(line, self->last_line) == 0)
		return;
	self->last_plain = now;
	g_print("%s\n", line);
	g_free(self->last_line);
	self->last_line = g_steal_pointer(&line);
}

static void
pr_ctl_wait_merge_into(GVariantDict *dict, GVariant *values)
{
	GVariantIter iter;
	const gchar *key;
	GVariant *value;

	g_variant_iter_init(&iter, values);
	while (g_variant_iter_next(&iter, "{&sv}", &key, &value)) {
		g_variant_dict_insert_value(dict, key, value);
		g_variant_unref(value);
	}
}

static void
pr_ctl_wait_merge(PrCtlWait *self, GVariant *values)
{
	pr_ctl_wait_merge_into(self->progress, values);
}

static void
pr_ctl_wait_finish(PrCtlWait *self, gboolean success, const gchar *name, const gchar *message)
{
	self->done = TRUE;
	self->success = success;
	g_free(self->error_name);
	g_free(self->error_message);
	self->error_name = g_strdup(name);
	self->error_message = g_strdup(message);
	if (g_main_loop_is_running(self->loop))
		g_main_loop_quit(self->loop);
}

/* The operation may have ended before we listened: its State tells. */
static void
pr_ctl_wait_check_state(PrCtlWait *self, GVariant *props)
{
	const gchar *state = pr_ctl_lookup_string(props, "State");
	const gchar *name = "";
	const gchar *message = "";

	if (g_strcmp0(state, "succeeded") == 0) {
		pr_ctl_wait_finish(self, TRUE, "", "");
		return;
	}
	if (g_strcmp0(state, "failed") != 0 && g_strcmp0(state, "cancelled") != 0)
		return;
	g_variant_lookup(props, "Error", "(&s&s)", &name, &message);
	pr_ctl_wait_finish(self, FALSE, name, message);
}

/* stop_when_idle: an operation that stays online is done with once it idles. */
static void
pr_ctl_wait_check_idle(PrCtlWait *self, GVariant *values)
{
	const gchar *stage = NULL;

	if (self->opts->stop_when_idle && !self->done &&
	    g_variant_lookup(values, "Stage", "&s", &stage) && g_strcmp0(stage, "idle") == 0)
		pr_ctl_wait_finish(self, TRUE, "", "");
}

static void
pr_ctl_wait_progress_cb(PrDBusImap4Operation *proxy, GVariant *progress, gpointer user_data)
{
	PrCtlWait *self = user_data;

	if (self->done)
		return;
	pr_ctl_wait_merge(self, progress);
	pr_ctl_wait_check_idle(self, progress);
	if (self->done)
		return;
	if (self->display == self->progress)
		pr_ctl_wait_show(self);
}

static void
pr_ctl_wait_follow_progress_cb(PrDBusImap4Operation *proxy, GVariant *progress, gpointer user_data)
{
	PrCtlWait *self = user_data;

	if (self->done || self->display == self->progress)
		return;
	pr_ctl_wait_merge_into(self->display, progress);
	pr_ctl_wait_show(self);
}

static void
pr_ctl_wait_completed_cb(PrDBusImap4Operation *proxy,
			 gboolean success,
			 const gchar *error_name,
			 const gchar *error_message,
			 gpointer user_data)
{
	pr_ctl_wait_finish(user_data, success, error_name, error_message);
}

static void
pr_ctl_wait_vanished(PrCtlWait *self)
{
	if (self->done)
		return;
	self->vanished = TRUE;
	self->done = TRUE;
	g_main_loop_quit(self->loop);
}

static void
pr_ctl_wait_name_owner_cb(GObject *object, GParamSpec *pspec, gpointer user_data)
{
	g_autofree gchar *owner = g_dbus_proxy_get_name_owner(G_DBUS_PROXY(object));

	if (owner == NULL)
		pr_ctl_wait_vanished(user_data);
}

static void
pr_ctl_wait_closed_cb(GDBusConnection *connection,
		      gboolean remote_peer_vanished,
		      GError *error,
		      gpointer user_data)
{
	pr_ctl_wait_vanished(user_data);
}

static gboolean
pr_ctl_wait_sigint_cb(gpointer user_data)
{
	PrCtlWait *self = user_data;
	g_autoptr(GVariant) reply = NULL;
	g_autoptr(GError) error = NULL;

	pr_ctl_wait_clear_line(self);
	self->interrupted = TRUE;
	self->done = TRUE;
	if (self->opts->keep_on_interrupt) {
		g_main_loop_quit(self->loop);
		return G_SOURCE_REMOVE;
	}
	reply = g_dbus_proxy_call_sync(G_DBUS_PROXY(self->proxy),
				       "Cancel",
				       g_variant_new("(@a{sv})", g_variant_new("a{sv}", NULL)),
				       G_DBUS_CALL_FLAGS_NO_AUTO_START,
				       PR_CTL_CANCEL_TIMEOUT,
				       NULL,
				       &error);
	/* the operation goes on: say so rather than pretend it stopped */
	if (reply == NULL)
		pr_ctl_print_error(error);
	g_main_loop_quit(self->loop);
	return G_SOURCE_REMOVE;
}

static GError *
pr_ctl_wait_error(PrCtlWait *self)
{
	g_autofree gchar *name = NULL;
	const gchar *message = self->error_message;

	if (self->error_name == NULL || self->error_name[0] == '\0')
		name = g_strdup(PR_DBUS_ERROR_PREFIX "Failed");
	else if (strchr(self->error_name, '.') == NULL)
		name = g_strconcat(PR_DBUS_ERROR_PREFIX, self->error_name, NULL);
	else
		name = g_strdup(self->error_name);
	if (message == NULL || message[0] == '\0')
		message = _("The operation failed");
	return g_dbus_error_new_for_dbus_error(name, message);
}

static void
pr_ctl_wait_run_loop(PrCtlWait *self)
{
	guint sigint_id = g_unix_signal_add(SIGINT, pr_ctl_wait_sigint_cb, self);
	gulong closed_id = g_signal_connect(
		self->client->connection, "closed", G_CALLBACK(pr_ctl_wait_closed_cb), self);

	pr_ctl_wait_show(self);
	g_main_loop_run(self->loop);
	if (!self->interrupted)
		g_source_remove(sigint_id);
	g_signal_handler_disconnect(self->client->connection, closed_id);
	pr_ctl_wait_clear_line(self);
}

static gboolean
pr_ctl_wait_result(PrCtlWait *self, const gchar *path, GVariant **props, GError **error)
{
	g_autoptr(GError) error_props = NULL;
	GVariant *final;

	if (self->interrupted) {
		g_set_error_literal(error, G_IO_ERROR, G_IO_ERROR_CANCELLED, _("Interrupted"));
		return FALSE;
	}
	if (self->vanished) {
		g_set_error_literal(error,
				    PR_ERROR,
				    PR_ERROR_FAILED,
				    _("Postroom stopped before the operation finished"));
		return FALSE;
	}
	/* the last Progress signal may have been throttled away; the properties are final */
	final = pr_ctl_client_get_all_properties(
		self->client, path, PR_DBUS_OPERATION_IFACE, &error_props);
	if (final == NULL) {
		g_debug("reading the final properties: %s", error_props->message);
		final = g_variant_ref_sink(g_variant_dict_end(self->progress));
	}
	*props = final;
	if (!self->success) {
		g_propagate_error(error, pr_ctl_wait_error(self));
		return FALSE;
	}
	return TRUE;
}

/* Shows the progress of the operation at @path instead of the waited one's; NULL (and the
 * waited one's progress stays shown) when that operation is gone already. */
static PrDBusImap4Operation *
pr_ctl_wait_follow(PrCtlWait *self, const gchar *path, GVariantDict *dict)
{
	g_autoptr(PrDBusImap4Operation) proxy = NULL;
	g_autoptr(GVariant) initial = NULL;
	g_autoptr(GError) error = NULL;

	proxy = pr_dbus_imap4_operation_proxy_new_sync(self->client->connection,
						       G_DBUS_PROXY_FLAGS_DO_NOT_LOAD_PROPERTIES |
							       G_DBUS_PROXY_FLAGS_DO_NOT_AUTO_START,
						       PR_DBUS_NAME,
						       path,
						       NULL,
						       &error);
	if (proxy == NULL) {
		g_debug("following %s: %s", path, error->message);
		return NULL;
	}
	g_signal_connect(proxy, "progress", G_CALLBACK(pr_ctl_wait_follow_progress_cb), self);
	initial = pr_ctl_client_get_all_properties(
		self->client, path, PR_DBUS_OPERATION_IFACE, &error);
	if (initial == NULL) {
		g_debug("following %s: %s", path, error->message);
		g_signal_handlers_disconnect_by_data(proxy, self);
		return NULL;
	}
	pr_ctl_wait_merge_into(dict, initial);
	self->display = dict;
	return g_steal_pointer(&proxy);
}

gboolean
pr_ctl_operation_wait_follow(PrCtlClient *client,
			     const PrCtlOptions *opts,
			     const gchar *path,
			     const gchar *follow_path,
			     GVariant **props,
			     GError **error)
{
	g_autoptr(PrDBusImap4Operation) proxy = NULL;
	g_autoptr(PrDBusImap4Operation) follow = NULL;
	g_autoptr(GVariant) initial = NULL;
	g_autoptr(GMainLoop) loop = g_main_loop_new(NULL, FALSE);
	g_auto(GVariantDict) progress = G_VARIANT_DICT_INIT(NULL);
	g_auto(GVariantDict) followed = G_VARIANT_DICT_INIT(NULL);
	PrCtlWait self = {
		.client = client,
		.opts = opts,
		.loop = loop,
		.progress = &progress,
		.display = &progress,
		.tty = isatty(STDOUT_FILENO),
	};
	gboolean ret;

	/* listen first, then read the state: a Completed after the read is not missed */
	proxy = pr_dbus_imap4_operation_proxy_new_sync(client->connection,
						       G_DBUS_PROXY_FLAGS_DO_NOT_LOAD_PROPERTIES |
							       G_DBUS_PROXY_FLAGS_DO_NOT_AUTO_START,
						       PR_DBUS_NAME,
						       path,
						       NULL,
						       error);
	if (proxy == NULL)
		return FALSE;
	self.proxy = proxy;
	g_signal_connect(proxy, "progress", G_CALLBACK(pr_ctl_wait_progress_cb), &self);
	g_signal_connect(proxy, "completed", G_CALLBACK(pr_ctl_wait_completed_cb), &self);
	g_signal_connect(
		proxy, "notify::g-name-owner", G_CALLBACK(pr_ctl_wait_name_owner_cb), &self);
	initial = pr_ctl_client_get_all_properties(client, path, PR_DBUS_OPERATION_IFACE, error);
	if (initial == NULL) {
		g_signal_handlers_disconnect_by_data(proxy, &self);
		return FALSE;
	}
	pr_ctl_wait_merge(&self, initial);
	pr_ctl_wait_check_state(&self, initial);
	pr_ctl_wait_check_idle(&self, initial);
	if (!self.done && follow_path != NULL)
		follow = pr_ctl_wait_follow(&self, follow_path, &followed);
	if (!self.done)
		pr_ctl_wait_run_loop(&self);
	g_signal_handlers_disconnect_by_data(proxy, &self);
	if (follow != NULL)
		g_signal_handlers_disconnect_by_data(follow, &self);

	ret = pr_ctl_wait_result(&self, path, props, error);
	g_free(self.error_name);
	g_free(self.error_message);
	g_free(self.last_line);
	return ret;
}

gboolean
pr_ctl_operation_wait(PrCtlClient *client,
		      const PrCtlOptions *opts,
		      const gchar *path,
		      GVariant **props,
		      GError **error)
{
	return pr_ctl_operation_wait_follow(client, opts, path, NULL, props, error);
}

GVariant *
pr_ctl_operation_props_to_json(const gchar *path, GVariant *props)
{
	g_auto(GVariantBuilder) builder = G_VARIANT_BUILDER_INIT(G_VARIANT_TYPE_VARDICT);
	const gchar *state = pr_ctl_lookup_string(props, "State");
	GVariantIter iter;
	const gchar *key;
	GVariant *value;

	g_variant_builder_add(&builder, "{sv}", "operation", g_variant_new_object_path(path));
	g_variant_builder_add(&builder,
			      "{sv}",
			      "success",
			      g_variant_new_boolean(g_strcmp0(state, "succeeded") == 0));
	g_variant_iter_init(&iter, props);
	while (g_variant_iter_next(&iter, "{&sv}", &key, &value)) {
		g_autoptr(GVariant) owned = value;
		g_autofree gchar *dashed = NULL;
		const gchar *name = "";
		const gchar *message = "";

		if (g_strcmp0(key, "Error") == 0 &&
		    g_variant_is_of_type(value, G_VARIANT_TYPE("(ss)"))) {
			g_variant_get(value, "(&s&s)", &name, &message);
			if (g_str_has_prefix(name, PR_DBUS_ERROR_PREFIX))
				name += strlen(PR_DBUS_ERROR_PREFIX);
			g_variant_builder_add(
				&builder, "{sv}", "error", g_variant_new_string(name));
			g_variant_builder_add(
				&builder, "{sv}", "error-message", g_variant_new_string(message));
			continue;
		}
		dashed = pr_ctl_dashed_name(key);
		g_variant_builder_add(&builder, "{sv}", dashed, owned);
	}
	return g_variant_builder_end(&builder);
}

gint
pr_ctl_operation_run(PrCtlClient *client,
		     const PrCtlOptions *opts,
		     const gchar *path,
		     PrCtlResultFunc func)
{
	g_autoptr(GVariant) props = NULL;
	g_autoptr(GError) error = NULL;
	gboolean ok;

	if (opts->no_wait) {
		g_auto(GVariantDict) dict = G_VARIANT_DICT_INIT(NULL);
		if (!opts->json) {
			g_print("%s\n", path);
			return PR_CTL_EXIT_OK;
		}
		g_variant_dict_insert(&dict, "operation", "o", path);
		pr_ctl_json_output(g_variant_dict_end(&dict));
		return PR_CTL_EXIT_OK;
	}
	ok = pr_ctl_operation_wait(client, opts, path, &props, &error);
	if (props != NULL && opts->json)
		pr_ctl_json_output(pr_ctl_operation_props_to_json(path, props));
	if (!ok)
		return pr_ctl_fail(opts, error);
	if (!opts->json && func != NULL)
		func(props);
	return PR_CTL_EXIT_OK;
}
