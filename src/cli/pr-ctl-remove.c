/*
 * Copyright 2026 The Postroom developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#define G_LOG_DOMAIN "PrCtl"

#include <glib/gi18n.h>

#include "pr-ctl.h"

static void
pr_ctl_remove_print(const PrCtlOptions *opts, const gchar *id)
{
	g_auto(GVariantDict) dict = G_VARIANT_DICT_INIT(NULL);

	if (!opts->json) {
		g_print(_("Removed service “%s”.\n"), id);
		return;
	}
	g_variant_dict_insert(&dict, "service", "s", id);
	g_variant_dict_insert(&dict, "removed", "b", TRUE);
	pr_ctl_json_output(g_variant_dict_end(&dict));
}

/* Removing deletes data: the service is always named, never taken as "the only one". */
static const gchar *
pr_ctl_remove_get_id(const PrCtlOptions *opts, gint argc, gchar **argv)
{
	if (argc > 2)
		return NULL;
	if (argc == 2 && opts->service != NULL && g_strcmp0(argv[1], opts->service) != 0)
		return NULL;
	return argc == 2 ? argv[1] : opts->service;
}

gint
pr_ctl_remove(gint argc, gchar **argv)
{
	g_auto(PrCtlOptions) opts = { 0 };
	g_autoptr(PrCtlClient) client = NULL;
	g_autoptr(PrDBusManager) manager = NULL;
	g_autoptr(GError) error = NULL;
	g_autofree gchar *path = NULL;
	const gchar *id;

	if (!pr_ctl_options_parse(
		    &opts,
		    PR_CTL_OPTION_SERVICE | PR_CTL_OPTION_JSON | PR_CTL_OPTION_BUS,
		    NULL,
		    _("[ID]"),
		    _("Remove a service: disconnect it and delete its settings, stored "
		      "passwords and local store. The service must be named, as ID or "
		      "with --service."),
		    &argc,
		    &argv))
		return PR_CTL_EXIT_USAGE;
	id = pr_ctl_remove_get_id(&opts, argc, argv);
	if (id == NULL)
		return pr_ctl_usage_error(&opts, "%s", _("name the one service to remove"));
	path = pr_ctl_service_path_from_id(id, &error);
	if (path == NULL)
		return pr_ctl_fail(&opts, error);

	client = pr_ctl_client_new(&opts, &error);
	if (client == NULL)
		return pr_ctl_fail(&opts, error);
	manager = pr_ctl_client_get_manager(client, &error);
	if (manager == NULL)
		return pr_ctl_fail(&opts, error);
	if (!pr_dbus_manager_call_remove_service_sync(
		    manager, path, pr_ctl_no_options(), NULL, &error))
		return pr_ctl_fail(&opts, error);
	pr_ctl_remove_print(&opts, id);
	return PR_CTL_EXIT_OK;
}
