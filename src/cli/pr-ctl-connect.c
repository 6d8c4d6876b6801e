/*
 * Copyright 2026 The Postroom developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#define G_LOG_DOMAIN "PrCtl"

#include <glib/gi18n.h>

#include "pr-ctl.h"

static void
pr_ctl_connect_print_result(GVariant *props)
{
	g_print("%s\n", _("Connected."));
}

static void
pr_ctl_disconnect_print_result(GVariant *props)
{
	g_print("%s\n", _("Disconnected."));
}

static gint
pr_ctl_connect_run(gint argc, gchar **argv, gboolean connect)
{
	g_auto(PrCtlOptions) opts = { 0 };
	g_autoptr(PrCtlClient) client = NULL;
	g_autoptr(PrDBusImap4Service) service = NULL;
	g_autoptr(GError) error = NULL;
	g_autofree gchar *path = NULL;
	gboolean ok;

	if (!pr_ctl_options_parse(
		    &opts,
		    PR_CTL_OPTION_SERVICE | PR_CTL_OPTION_JSON | PR_CTL_OPTION_NO_WAIT |
			    PR_CTL_OPTION_BUS,
		    NULL,
		    NULL,
		    connect ? _("Connect a service and log in (queued offline changes "
				"are replayed first).")
			    : _("Disconnect a service."),
		    &argc,
		    &argv))
		return PR_CTL_EXIT_USAGE;
	if (argc > 1)
		return pr_ctl_unexpected_argument(&opts, argv[1]);

	service = pr_ctl_open_service(&opts, &client, &error);
	if (service == NULL)
		return pr_ctl_fail(&opts, error);
	if (connect)
		ok = pr_dbus_imap4_service_call_connect_sync(
			service, pr_ctl_no_options(), &path, NULL, &error);
	else
		ok = pr_dbus_imap4_service_call_disconnect_sync(
			service, pr_ctl_no_options(), &path, NULL, &error);
	if (!ok)
		return pr_ctl_fail(&opts, error);
	return pr_ctl_operation_run(client,
				    &opts,
				    path,
				    connect ? pr_ctl_connect_print_result
					    : pr_ctl_disconnect_print_result);
}

gint
pr_ctl_connect(gint argc, gchar **argv)
{
	return pr_ctl_connect_run(argc, argv, TRUE);
}

gint
pr_ctl_disconnect(gint argc, gchar **argv)
{
	return pr_ctl_connect_run(argc, argv, FALSE);
}
