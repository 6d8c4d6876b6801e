/*
 * Copyright 2026 The Postroom developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The timed client of the Postroom sync benchmark (bench/peers.d/postroom.sh): one process,
 * one D-Bus connection, what postroomctl sync + gdbus GetMail do, without their start-up
 * (each postroomctl or gdbus process costs 13-20 ms, which is most of a no-change resync).
 *
 *   pr-bench-sync-client --address ADDR --service PATH
 *       (--connect-and-sync | --synchronise full | --synchronise-folder INBOX) [--get-mail]
 *
 * Starts the operation (ConnectAndSync("sync"), Synchronise(SCOPE) or Synchronise("folders",
 * [FOLDER])), waits for it (Imap4Operation.Wait), then with --get-mail starts
 * GetMail(action=populate, messages=all, folder=INBOX) and waits for it. Prints one JSON
 * line: {"sync_s": ..., "bodies_s": ...} (monotonic, from the first call to each Wait's
 * return). Exits non-zero with the D-Bus error on failure.
 *
 * Built by bench/run-sync: cc -O2 pr-bench-sync-client.c $(pkg-config --cflags --libs gio-2.0)
 */
#include <gio/gio.h>
#include <stdio.h>

/* by its path: bench/run-sync compiles this file alone, without Meson's include dirs; only
 * the header's macros are used, so nothing needs linking */
#include "../../src/common/pr-contract.h"

static gboolean
run_operation(GDBusConnection *conn,
	      const gchar *service,
	      const gchar *method,
	      GVariant *args,
	      GError **error)
{
	g_autoptr(GVariant) reply = NULL;
	g_autoptr(GVariant) done = NULL;
	const gchar *path = NULL;

	reply = g_dbus_connection_call_sync(conn,
					    PR_DBUS_NAME,
					    service,
					    PR_DBUS_SERVICE_IFACE,
					    method,
					    args,
					    G_VARIANT_TYPE("(o)"),
					    G_DBUS_CALL_FLAGS_NONE,
					    -1,
					    NULL,
					    error);
	if (reply == NULL)
		return FALSE;
	g_variant_get(reply, "(&o)", &path);
	done = g_dbus_connection_call_sync(conn,
					   PR_DBUS_NAME,
					   path,
					   PR_DBUS_OPERATION_IFACE,
					   "Wait",
					   g_variant_new("(@a{sv})", g_variant_new("a{sv}", NULL)),
					   NULL,
					   G_DBUS_CALL_FLAGS_NONE,
					   G_MAXINT,
					   NULL,
					   error);
	return done != NULL;
}

int
main(int argc, char **argv)
{
	g_autofree gchar *address = NULL;
	g_autofree gchar *service = NULL;
	g_autofree gchar *scope = NULL;
	g_autofree gchar *folder = NULL;
	gboolean connect = FALSE;
	gboolean get_mail = FALSE;
	const GOptionEntry entries[] = {
		{ "address", 0, 0, G_OPTION_ARG_STRING, &address, "D-Bus address", "ADDR" },
		{ "service", 0, 0, G_OPTION_ARG_STRING, &service, "Service object path", "PATH" },
		{ "connect-and-sync",
		  0,
		  0,
		  G_OPTION_ARG_NONE,
		  &connect,
		  "ConnectAndSync(sync)",
		  NULL },
		{ "synchronise", 0, 0, G_OPTION_ARG_STRING, &scope, "Synchronise(SCOPE)", "SCOPE" },
		{ "synchronise-folder",
		  0,
		  0,
		  G_OPTION_ARG_STRING,
		  &folder,
		  "Synchronise(folders, [FOLDER])",
		  "FOLDER" },
		{ "get-mail",
		  0,
		  0,
		  G_OPTION_ARG_NONE,
		  &get_mail,
		  "then GetMail(populate, all)",
		  NULL },
		{ NULL }
	};
	g_autoptr(GOptionContext) ctx = g_option_context_new("- timed Postroom sync client");
	g_autoptr(GError) error = NULL;
	g_autoptr(GDBusConnection) conn = NULL;
	gint64 t0, t1, t2;

	g_option_context_add_main_entries(ctx, entries, NULL);
	if (!g_option_context_parse(ctx, &argc, &argv, &error) || address == NULL ||
	    service == NULL || (connect + (scope != NULL) + (folder != NULL)) != 1) {
		g_printerr("%s\n", error != NULL ? error->message : "see --help");
		return 2;
	}
	conn = g_dbus_connection_new_for_address_sync(
		address,
		G_DBUS_CONNECTION_FLAGS_AUTHENTICATION_CLIENT |
			G_DBUS_CONNECTION_FLAGS_MESSAGE_BUS_CONNECTION,
		NULL,
		NULL,
		&error);
	if (conn == NULL) {
		g_printerr("%s\n", error->message);
		return 1;
	}

	t0 = g_get_monotonic_time();
	if (connect) {
		if (!run_operation(conn,
				   service,
				   "ConnectAndSync",
				   g_variant_new("(s@a{sv})", "sync", g_variant_new("a{sv}", NULL)),
				   &error))
			goto fail;
	} else {
		const gchar *folders[] = { folder, NULL };
		if (!run_operation(
			    conn,
			    service,
			    "Synchronise",
			    g_variant_new("(s^as@a{sv})",
					  folder != NULL ? "folders" : scope,
					  folder != NULL ? folders : (const gchar *[]){ NULL },
					  g_variant_new("a{sv}", NULL)),
			    &error))
			goto fail;
	}
	t1 = g_get_monotonic_time();
	if (get_mail) {
		g_auto(GVariantDict) dict = G_VARIANT_DICT_INIT(NULL);
		g_variant_dict_insert(&dict, "action", "s", "populate");
		g_variant_dict_insert(&dict, "messages", "s", "all");
		g_variant_dict_insert(&dict, "folder", "s", "INBOX");
		if (!run_operation(conn,
				   service,
				   "GetMail",
				   g_variant_new("(@a{sv})", g_variant_dict_end(&dict)),
				   &error))
			goto fail;
	}
	t2 = g_get_monotonic_time();
	if (get_mail)
		printf("{\"sync_s\": %.6f, \"bodies_s\": %.6f}\n",
		       (t1 - t0) / 1e6,
		       (t2 - t1) / 1e6);
	else
		printf("{\"sync_s\": %.6f}\n", (t1 - t0) / 1e6);
	return 0;

fail:
	g_dbus_error_strip_remote_error(error);
	g_printerr("pr-bench-sync-client: %s\n", error->message);
	return 1;
}
