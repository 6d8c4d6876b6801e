/*
 * Copyright 2026 The Postroom developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#define G_LOG_DOMAIN "PrCtl"

#include <glib/gi18n.h>
#include <unistd.h>

#include "pr-ctl.h"

#define PR_CTL_CANCEL_TIMEOUT 5000 /* ms */

static void
pr_ctl_connect_print_result(GVariant *props)
{
	g_print("%s\n", _("Connected."));
}

static void
pr_ctl_connect_stay_print_result(GVariant *props)
{
	g_print("%s\n",
		_("Connected; the full synchronisation goes on in the background "
		  "(“postroomctl wait” waits for it)."));
}

static void
pr_ctl_disconnect_print_result(GVariant *props)
{
	g_print("%s\n", _("Disconnected."));
}

/* Ctrl-C ended --until-disconnect: stop the operation if it still connects, then log out. */
static gint
pr_ctl_connect_interrupted(PrCtlClient *client,
			   const PrCtlOptions *opts,
			   PrDBusImap4Service *service,
			   const gchar *path)
{
	g_autoptr(GVariant) reply = NULL;
	g_autoptr(GVariant) props = NULL;
	g_autoptr(GError) error = NULL;
	g_autofree gchar *disconnect = NULL;
	PrCtlOptions quiet = *opts;

	/* once online it cannot be cancelled: the disconnect below ends it */
	reply = g_dbus_connection_call_sync(client->connection,
					    PR_DBUS_NAME,
					    path,
					    PR_DBUS_OPERATION_IFACE,
					    "Cancel",
					    g_variant_new("(@a{sv})", pr_ctl_no_options()),
					    NULL,
					    G_DBUS_CALL_FLAGS_NO_AUTO_START,
					    PR_CTL_CANCEL_TIMEOUT,
					    NULL,
					    &error);
	if (reply == NULL) {
		g_debug("cancelling %s: %s", path, error->message);
		g_clear_error(&error);
	}
	if (!pr_dbus_imap4_service_call_disconnect_sync(
		    service, pr_ctl_no_options(), &disconnect, NULL, &error)) {
		pr_ctl_fail(opts, error);
		return PR_CTL_EXIT_INTERRUPTED;
	}
	/* a second Ctrl-C while logging out stops waiting, not the disconnect */
	quiet.keep_on_interrupt = TRUE;
	quiet.no_plain_progress = TRUE;
	if (!pr_ctl_operation_wait(client, &quiet, disconnect, &props, &error)) {
		pr_ctl_fail(opts, error);
		return PR_CTL_EXIT_INTERRUPTED;
	}
	if (opts->json)
		pr_ctl_json_output(pr_ctl_operation_props_to_json(disconnect, props));
	else
		pr_ctl_disconnect_print_result(props);
	return PR_CTL_EXIT_INTERRUPTED;
}

/* --until-disconnect: the operation runs until the connection ends. */
static gint
pr_ctl_connect_until_disconnect(PrCtlClient *client,
				PrCtlOptions *opts,
				PrDBusImap4Service *service,
				const gchar *path)
{
	g_autoptr(GVariant) props = NULL;
	g_autoptr(GError) error = NULL;
	gboolean ok;

	if (opts->no_wait)
		return pr_ctl_operation_run(client, opts, path, NULL);
	if (!opts->json && isatty(STDERR_FILENO))
		g_printerr("%s\n",
			   _("Staying online until the service is disconnected; press Ctrl-C "
			     "to disconnect."));
	opts->keep_on_interrupt = TRUE;
	ok = pr_ctl_operation_wait(client, opts, path, &props, &error);
	if (!ok && g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
		return pr_ctl_connect_interrupted(client, opts, service, path);
	if (props != NULL && opts->json)
		pr_ctl_json_output(pr_ctl_operation_props_to_json(path, props));
	if (!ok)
		return pr_ctl_fail(opts, error);
	if (!opts->json)
		pr_ctl_disconnect_print_result(props);
	return PR_CTL_EXIT_OK;
}

static gint
pr_ctl_connect_run(gint argc, gchar **argv, gboolean connect)
{
	g_auto(PrCtlOptions) opts = { 0 };
	g_autoptr(PrCtlClient) client = NULL;
	g_autoptr(PrDBusImap4Service) service = NULL;
	g_autoptr(GError) error = NULL;
	g_autofree gchar *path = NULL;
	gboolean stay = FALSE;
	gboolean until_disconnect = FALSE;
	const GOptionEntry entries[] = {
		{ "stay",
		  0,
		  0,
		  G_OPTION_ARG_NONE,
		  &stay,
		  N_("Return once logged in; the full synchronisation goes on in the "
		     "background and the service stays online (ConnectAndSync “connect”)"),
		  NULL },
		{ "until-disconnect",
		  0,
		  0,
		  G_OPTION_ARG_NONE,
		  &until_disconnect,
		  N_("Synchronise, then stay online until the service is disconnected; "
		     "Ctrl-C disconnects (ConnectAndSync “disconnect”)"),
		  NULL },
		{ NULL }
	};
	gboolean ok;

	if (!pr_ctl_options_parse(
		    &opts,
		    PR_CTL_OPTION_SERVICE | PR_CTL_OPTION_JSON | PR_CTL_OPTION_NO_WAIT |
			    PR_CTL_OPTION_BUS,
		    connect ? entries : NULL,
		    NULL,
		    connect ? _("Connect a service and log in (queued offline changes "
				"are replayed first). With --stay, a full synchronisation "
				"follows in the background and the service stays online, "
				"keeping the inbox current; --until-disconnect does the same "
				"but waits until the service is disconnected.")
			    : _("Disconnect a service."),
		    &argc,
		    &argv))
		return PR_CTL_EXIT_USAGE;
	if (argc > 1)
		return pr_ctl_unexpected_argument(&opts, argv[1]);
	if (stay && until_disconnect)
		return pr_ctl_usage_error(
			&opts, "%s", _("--stay and --until-disconnect exclude each other"));

	service = pr_ctl_open_service(&opts, &client, &error);
	if (service == NULL)
		return pr_ctl_fail(&opts, error);
	if (!connect)
		ok = pr_dbus_imap4_service_call_disconnect_sync(
			service, pr_ctl_no_options(), &path, NULL, &error);
	else if (stay || until_disconnect)
		ok = pr_dbus_imap4_service_call_connect_and_sync_sync(service,
								      stay ? "connect"
									   : "disconnect",
								      pr_ctl_no_options(),
								      &path,
								      NULL,
								      &error);
	else
		ok = pr_dbus_imap4_service_call_connect_sync(
			service, pr_ctl_no_options(), &path, NULL, &error);
	if (!ok)
		return pr_ctl_fail(&opts, error);
	if (until_disconnect)
		return pr_ctl_connect_until_disconnect(client, &opts, service, path);
	if (!connect)
		return pr_ctl_operation_run(client, &opts, path, pr_ctl_disconnect_print_result);
	return pr_ctl_operation_run(client,
				    &opts,
				    path,
				    stay ? pr_ctl_connect_stay_print_result
					 : pr_ctl_connect_print_result);
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
