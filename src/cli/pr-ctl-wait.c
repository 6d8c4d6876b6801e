/*
 * Copyright 2026 The Postroom developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#define G_LOG_DOMAIN "PrCtl"

#include <glib/gi18n.h>

#include "pr-ctl.h"

/* What "wait" waits for besides WaitForBackground's own operation: not another wait, and
 * not the ConnectAndSync("disconnect") that runs until the connection ends. */
static gboolean
pr_ctl_wait_wants(PrDBusImap4Operation *operation)
{
	return g_strcmp0(pr_dbus_imap4_operation_get_kind(operation), "wait-for-background") != 0 &&
	       !pr_ctl_operation_is_stay_online(operation);
}

/* Waits for one operation started earlier (sync --background, --no-wait, the queued
 * background sync). One that someone cancelled is over, not failed. */
static gboolean
pr_ctl_wait_for_operation(PrCtlClient *client,
			  const PrCtlOptions *opts,
			  const gchar *path,
			  GError **error)
{
	g_autoptr(GVariant) props = NULL;
	g_autoptr(GError) error_local = NULL;

	if (pr_ctl_operation_wait(client, opts, path, &props, &error_local))
		return TRUE;
	if (pr_ctl_error_has_name(error_local, "Cancelled")) {
		g_debug("%s was cancelled", path);
		return TRUE;
	}
	/* scripts learn which operation failed */
	if (props != NULL && opts->json)
		pr_ctl_json_output(pr_ctl_operation_props_to_json(path, props));
	g_propagate_error(error, g_steal_pointer(&error_local));
	return FALSE;
}

/* The background sync running now, whose progress is shown while waiting; or NULL. */
static gchar *
pr_ctl_wait_find_running(PrCtlClient *client, const gchar *service_path)
{
	GList *operations = pr_ctl_client_list_active_operations(client, service_path);
	gchar *path = NULL;

	for (GList *l = operations; l != NULL && path == NULL; l = l->next) {
		PrDBusImap4Operation *operation = l->data;
		if (pr_ctl_wait_wants(operation) &&
		    g_strcmp0(pr_dbus_imap4_operation_get_state(operation), "running") == 0)
			path = g_strdup(g_dbus_proxy_get_object_path(G_DBUS_PROXY(operation)));
	}
	g_list_free_full(operations, g_object_unref);
	return path;
}

static void
pr_ctl_wait_print(const PrCtlOptions *opts, const gchar *path, GVariant *props, GPtrArray *waited)
{
	g_autoptr(GVariant) doc = NULL;
	g_auto(GVariantBuilder) builder = G_VARIANT_BUILDER_INIT(G_VARIANT_TYPE_VARDICT);
	GVariantIter iter;
	GVariant *entry;

	if (!opts->json) {
		g_print("%s\n",
			waited->len > 0 ? _("The background work has ended.")
					: _("Nothing was running in the background."));
		return;
	}
	/* the operation's keys first, in their order, then what else was waited for */
	doc = g_variant_ref_sink(pr_ctl_operation_props_to_json(path, props));
	g_variant_iter_init(&iter, doc);
	while ((entry = g_variant_iter_next_value(&iter)) != NULL) {
		g_variant_builder_add_value(&builder, entry);
		g_variant_unref(entry);
	}
	g_variant_builder_add(
		&builder,
		"{sv}",
		"waited-for",
		g_variant_new_objv((const gchar *const *)waited->pdata, (gssize)waited->len));
	pr_ctl_json_output(g_variant_builder_end(&builder));
}

gint
pr_ctl_wait(gint argc, gchar **argv)
{
	g_auto(PrCtlOptions) opts = { 0 };
	g_autoptr(PrCtlClient) client = NULL;
	g_autoptr(PrDBusImap4Service) service = NULL;
	g_autoptr(GError) error = NULL;
	g_autoptr(GVariant) props = NULL;
	g_autoptr(GPtrArray) waited = g_ptr_array_new_with_free_func(g_free);
	g_autofree gchar *path = NULL;
	g_autofree gchar *running = NULL;
	const gchar *service_path;
	GList *operations;
	gboolean ok = TRUE;

	if (!pr_ctl_options_parse(
		    &opts,
		    PR_CTL_OPTION_SERVICE | PR_CTL_OPTION_JSON | PR_CTL_OPTION_BUS,
		    NULL,
		    NULL,
		    _("Wait until a service's background work ends: the synchronisation "
		      "after “connect --stay”, inbox re-syncs, and the operations "
		      "started with “sync --background” or --no-wait; their progress is "
		      "shown. Ctrl-C stops waiting; the work goes on."),
		    &argc,
		    &argv))
		return PR_CTL_EXIT_USAGE;
	if (argc > 1)
		return pr_ctl_unexpected_argument(&opts, argv[1]);
	opts.keep_on_interrupt = TRUE;
	/* ConnectAndSync("disconnect") runs on while online: its sync is what counts */
	opts.stop_when_idle = TRUE;

	service = pr_ctl_open_service(&opts, &client, &error);
	if (service == NULL)
		return pr_ctl_fail(&opts, error);
	service_path = g_dbus_proxy_get_object_path(G_DBUS_PROXY(service));

	/* what was started before: the jobs of a service run one after the other */
	operations = pr_ctl_client_list_active_operations(client, service_path);
	for (GList *l = operations; l != NULL && ok; l = l->next) {
		const gchar *op_path = g_dbus_proxy_get_object_path(G_DBUS_PROXY(l->data));
		if (!pr_ctl_wait_wants(l->data))
			continue;
		g_ptr_array_add(waited, g_strdup(op_path));
		ok = pr_ctl_wait_for_operation(client, &opts, op_path, &error);
	}
	g_list_free_full(operations, g_object_unref);
	if (!ok)
		return pr_ctl_fail(&opts, error);

	/* then the background sync, which may have started since */
	running = pr_ctl_wait_find_running(client, service_path);
	if (!pr_dbus_imap4_service_call_wait_for_background_sync(
		    service, pr_ctl_no_options(), &path, NULL, &error))
		return pr_ctl_fail(&opts, error);
	if (running != NULL &&
	    !g_ptr_array_find_with_equal_func(waited, running, g_str_equal, NULL))
		g_ptr_array_add(waited, g_strdup(running));
	if (!pr_ctl_operation_wait_follow(client, &opts, path, running, &props, &error)) {
		if (props != NULL && opts.json)
			pr_ctl_json_output(pr_ctl_operation_props_to_json(path, props));
		return pr_ctl_fail(&opts, error);
	}
	pr_ctl_wait_print(&opts, path, props, waited);
	return PR_CTL_EXIT_OK;
}
