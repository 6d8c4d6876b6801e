/*
 * Copyright 2026 The Postroom developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

/*
 * Drives src/account/pr-secrets.c for tests/integration/test-secrets.py:
 *
 *   pr-secrets-tool store SERVICE PROTOCOL [USER HOST]   password read from stdin
 *   pr-secrets-tool lookup SERVICE PROTOCOL               password written to stdout
 *   pr-secrets-tool clear SERVICE [PROTOCOL]
 *   pr-secrets-tool wait-name NAME SECONDS                until NAME has an owner
 *
 * Passwords never travel in argv. Errors go to stderr as "ERROR <ContractName>: message"
 * and exit with 1.
 */
#define G_LOG_DOMAIN "PrSecretsTool"

#include <gio/gio.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "pr-error.h"
#include "pr-secrets.h"

typedef struct {
	GMainLoop *loop;
	GError *error;
	gchar *password;
} ToolData;

static void
tool_store_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	ToolData *data = user_data;
	pr_secrets_store_finish(res, &data->error);
	g_main_loop_quit(data->loop);
}

static void
tool_lookup_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	ToolData *data = user_data;
	data->password = pr_secrets_lookup_finish(res, &data->error);
	g_main_loop_quit(data->loop);
}

static void
tool_clear_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	ToolData *data = user_data;
	pr_secrets_clear_finish(res, &data->error);
	g_main_loop_quit(data->loop);
}

/* All of stdin, without one trailing newline. */
static gchar *
tool_read_password(GError **error)
{
	g_autoptr(GString) buf = g_string_new(NULL);
	gchar chunk[256];
	gssize n;

	while ((n = read(STDIN_FILENO, chunk, sizeof(chunk))) > 0)
		g_string_append_len(buf, chunk, n);
	explicit_bzero(chunk, sizeof(chunk));
	if (n < 0) {
		g_set_error_literal(error, PR_ERROR, PR_ERROR_FAILED, "cannot read stdin");
		return NULL;
	}
	if (buf->len > 0 && buf->str[buf->len - 1] == '\n')
		g_string_truncate(buf, buf->len - 1);
	return g_string_free(g_steal_pointer(&buf), FALSE);
}

static gboolean
tool_wait_name(const gchar *name, guint seconds, GError **error)
{
	g_autoptr(GDBusConnection) bus = g_bus_get_sync(G_BUS_TYPE_SESSION, NULL, error);
	gint64 deadline = g_get_monotonic_time() + (gint64)seconds * G_USEC_PER_SEC;

	if (bus == NULL)
		return FALSE;
	while (g_get_monotonic_time() < deadline) {
		g_autoptr(GVariant) reply = NULL;
		gboolean has_owner = FALSE;

		reply = g_dbus_connection_call_sync(bus,
						    "org.freedesktop.DBus",
						    "/org/freedesktop/DBus",
						    "org.freedesktop.DBus",
						    "NameHasOwner",
						    g_variant_new("(s)", name),
						    G_VARIANT_TYPE("(b)"),
						    G_DBUS_CALL_FLAGS_NONE,
						    -1,
						    NULL,
						    error);
		if (reply == NULL)
			return FALSE;
		g_variant_get(reply, "(b)", &has_owner);
		if (has_owner)
			return TRUE;
		g_usleep(50 * 1000);
	}
	g_set_error(error, PR_ERROR, PR_ERROR_TIMEOUT, "%s has no owner", name);
	return FALSE;
}

static int
tool_fail(GError *error)
{
	const gchar *name = "Failed";

	if (error->domain == PR_ERROR)
		name = pr_error_to_name(error->code);
	g_printerr("ERROR %s: %s\n", name, error->message);
	return 1;
}

int
main(int argc, char **argv)
{
	g_autoptr(GMainLoop) loop = g_main_loop_new(NULL, FALSE);
	g_autoptr(GError) error = NULL;
	ToolData data = { loop, NULL, NULL };
	const gchar *cmd = argc > 1 ? argv[1] : "";

	if (g_strcmp0(cmd, "wait-name") == 0 && argc == 4) {
		if (!tool_wait_name(argv[2], (guint)g_ascii_strtoull(argv[3], NULL, 10), &error))
			return tool_fail(error);
		return 0;
	}
	if (g_strcmp0(cmd, "store") == 0 && (argc == 4 || argc == 6)) {
		g_autofree gchar *label =
			argc == 6 ? pr_secrets_make_label(argv[4], argv[5], argv[3]) : NULL;
		g_autoptr(PrSecretsPassword) password = tool_read_password(&error);
		if (password == NULL)
			return tool_fail(error);
		pr_secrets_store_async(
			argv[2], argv[3], label, password, NULL, tool_store_cb, &data);
	} else if (g_strcmp0(cmd, "lookup") == 0 && argc == 4) {
		pr_secrets_lookup_async(argv[2], argv[3], NULL, tool_lookup_cb, &data);
	} else if (g_strcmp0(cmd, "clear") == 0 && (argc == 3 || argc == 4)) {
		pr_secrets_clear_async(
			argv[2], argc == 4 ? argv[3] : NULL, NULL, tool_clear_cb, &data);
	} else {
		g_printerr("usage: %s store SERVICE PROTOCOL [USER HOST] < password\n"
			   "       %s lookup SERVICE PROTOCOL\n"
			   "       %s clear SERVICE [PROTOCOL]\n"
			   "       %s wait-name NAME SECONDS\n",
			   argv[0],
			   argv[0],
			   argv[0],
			   argv[0]);
		return 2;
	}
	g_main_loop_run(loop);
	if (data.error != NULL) {
		error = data.error;
		return tool_fail(error);
	}
	if (data.password != NULL) {
		g_autoptr(PrSecretsPassword) password = data.password;
		fputs(password, stdout);
		fflush(stdout);
	}
	return 0;
}
