/*
 * Copyright 2026 The Postroom developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#define G_LOG_DOMAIN "PrDaemon"

#include <glib-unix.h>
#include <glib/gi18n.h>
#include <locale.h>
#include <stdlib.h>

#include "pr-daemon.h"

static gboolean
pr_main_quit_cb(gpointer user_data)
{
	g_main_loop_quit(user_data);
	return G_SOURCE_REMOVE;
}

static void
pr_main_lost_cb(PrDaemon *daemon, gpointer user_data)
{
	g_main_loop_quit(user_data);
}

int
main(int argc, char **argv)
{
	gboolean replace = FALSE;
	gboolean verbose = FALSE;
	gboolean version = FALSE;
	gint linger = -1;
	g_autofree gchar *address = NULL;
	g_autoptr(GOptionContext) context = NULL;
	g_autoptr(GError) error = NULL;
	g_autoptr(GMainLoop) loop = NULL;
	g_autoptr(PrDaemon) daemon = NULL;
	const GOptionEntry entries[] = {
		{ "replace",
		  'r',
		  0,
		  G_OPTION_ARG_NONE,
		  &replace,
		  N_("Replace a running instance"),
		  NULL },
		{ "verbose", 'v', 0, G_OPTION_ARG_NONE, &verbose, N_("Show debug messages"), NULL },
		{ "address",
		  0,
		  0,
		  G_OPTION_ARG_STRING,
		  &address,
		  N_("Use the D-Bus bus at this address instead of the session bus"),
		  N_("ADDRESS") },
		{ "operation-linger",
		  0,
		  G_OPTION_FLAG_HIDDEN,
		  G_OPTION_ARG_INT,
		  &linger,
		  "Seconds a finished operation stays exported (tests)",
		  NULL },
		{ "version", 0, 0, G_OPTION_ARG_NONE, &version, N_("Show the version"), NULL },
		{ NULL }
	};

	setlocale(LC_ALL, "");
	bindtextdomain(GETTEXT_PACKAGE, LOCALEDIR);
	bind_textdomain_codeset(GETTEXT_PACKAGE, "UTF-8");
	textdomain(GETTEXT_PACKAGE);

	context = g_option_context_new(_("— the Postroom mail service"));
	g_option_context_add_main_entries(context, entries, GETTEXT_PACKAGE);
	if (!g_option_context_parse(context, &argc, &argv, &error)) {
		g_printerr("postroomd: %s\n", error->message);
		return EXIT_FAILURE;
	}
	if (version) {
		g_print("postroomd %s\n", PACKAGE_VERSION);
		return EXIT_SUCCESS;
	}
	if (verbose)
		g_log_set_debug_enabled(TRUE);
	if (linger >= 0)
		pr_operation_set_linger((guint)linger);

	loop = g_main_loop_new(NULL, FALSE);
	daemon = pr_daemon_new();
	g_signal_connect(daemon, "quit", G_CALLBACK(pr_main_lost_cb), loop);
	if (!pr_daemon_start(daemon, address, replace, &error)) {
		g_printerr("postroomd: %s\n", error->message);
		return EXIT_FAILURE;
	}
	g_unix_signal_add(SIGTERM, pr_main_quit_cb, loop);
	g_unix_signal_add(SIGINT, pr_main_quit_cb, loop);
	g_main_loop_run(loop);
	pr_daemon_stop(daemon);
	return EXIT_SUCCESS;
}
