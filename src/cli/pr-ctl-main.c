/*
 * Copyright 2026 The Postroom developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#define G_LOG_DOMAIN "PrCtl"

#include <glib/gi18n.h>
#include <locale.h>

#include "pr-ctl.h"

typedef struct {
	const gchar *name;
	PrCtlCommandFunc func;
	const gchar *summary;
} PrCtlCommand;

static const PrCtlCommand commands[] = {
	{ "services", pr_ctl_services, N_("List the services (IMAP accounts)") },
	{ "add", pr_ctl_add, N_("Add a service and store its password") },
	{ "remove", pr_ctl_remove, N_("Remove a service with its settings, passwords and store") },
	{ "settings", pr_ctl_settings, N_("Show a service's settings") },
	{ "set", pr_ctl_set, N_("Change settings: KEY=VALUE…") },
	{ "password", pr_ctl_password, N_("Store or clear a service's password") },
	{ "connect", pr_ctl_connect, N_("Connect and log in (--stay: and stay online)") },
	{ "disconnect", pr_ctl_disconnect, N_("Disconnect") },
	{ "sync", pr_ctl_sync, N_("Synchronise with the server (--background: return at once)") },
	{ "wait", pr_ctl_wait, N_("Wait until the background synchronisation ends") },
	{ "status", pr_ctl_status, N_("Show a service's state") },
	{ "folders", pr_ctl_folders, N_("List the folders") },
	{ "subscribe", pr_ctl_subscribe, N_("Subscribe to a folder") },
	{ "unsubscribe", pr_ctl_unsubscribe, N_("Unsubscribe from a folder") },
	{ "mkdir", pr_ctl_mkdir, N_("Create a folder") },
	{ "rename", pr_ctl_rename, N_("Rename a folder") },
	{ "rmdir", pr_ctl_rmdir, N_("Delete a folder with its messages and subfolders") },
	{ "messages", pr_ctl_messages, N_("List the messages of a folder") },
	{ "show", pr_ctl_show, N_("Write a message to standard output") },
	{ "fetch", pr_ctl_fetch, N_("Download messages") },
	{ "flag", pr_ctl_flag, N_("Set or clear flags of messages (--add, --remove)") },
	{ "delete", pr_ctl_delete, N_("Mark messages \\Deleted") },
	{ "undelete", pr_ctl_undelete, N_("Clear \\Deleted of messages") },
	{ "watch", pr_ctl_watch, N_("Print events as they come: new mail, changes, state") },
	{ "probe",
	  pr_ctl_probe_command,
	  N_("Try an IMAP server: security, certificate, capabilities, login") },
};

static void
pr_ctl_usage(void)
{
	g_print("%s\n\n", _("Usage: postroomctl COMMAND [OPTION…]"));
	g_print("%s\n", _("Commands:"));
	for (guint i = 0; i < G_N_ELEMENTS(commands); i++)
		g_print("  %-11s %s\n", commands[i].name, _(commands[i].summary));
	g_print("\n%s\n", _("Common options:"));
	g_print("  %-18s %s\n", "--service ID", _("The service to use, when there are several"));
	g_print("  %-18s %s\n", "--json", _("Print JSON for scripts"));
	g_print("  %-18s %s\n", "--no-wait", _("Print the operation's path instead of waiting"));
	g_print("  %-18s %s\n",
		"--address ADDRESS",
		_("The bus to use (default: $POSTROOM_BUS_ADDRESS or the session bus)"));
	g_print("\n%s\n", _("Run “postroomctl COMMAND --help” for a command's options."));
}

int
main(int argc, char **argv)
{
	setlocale(LC_ALL, "");
	bindtextdomain(GETTEXT_PACKAGE, LOCALEDIR);
	bind_textdomain_codeset(GETTEXT_PACKAGE, "UTF-8");
	textdomain(GETTEXT_PACKAGE);

	if (argc < 2 || g_strcmp0(argv[1], "--help") == 0 || g_strcmp0(argv[1], "-h") == 0 ||
	    g_strcmp0(argv[1], "help") == 0) {
		pr_ctl_usage();
		return argc < 2 ? PR_CTL_EXIT_USAGE : PR_CTL_EXIT_OK;
	}
	if (g_strcmp0(argv[1], "--version") == 0) {
		g_print("postroomctl %s\n", PACKAGE_VERSION);
		return PR_CTL_EXIT_OK;
	}
	for (guint i = 0; i < G_N_ELEMENTS(commands); i++) {
		if (g_strcmp0(argv[1], commands[i].name) == 0) {
			g_autofree gchar *prgname = g_strdup_printf("postroomctl %s", argv[1]);
			/* "Usage: postroomctl sync [OPTION…]" in every command's --help */
			g_set_prgname(prgname);
			return commands[i].func(argc - 1, argv + 1);
		}
	}
	/* TRANSLATORS: %s is what the user typed as a command */
	g_printerr(_("postroomctl: unknown command “%s”\n"), argv[1]);
	pr_ctl_usage();
	return PR_CTL_EXIT_USAGE;
}
