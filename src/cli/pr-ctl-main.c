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
    {"probe", pr_ctl_probe, N_("Try an IMAP server: security, certificate, capabilities, login")},
};

static void
pr_ctl_usage(void)
{
	g_print("%s\n\n", _("Usage: postroomctl COMMAND [OPTION…]"));
	g_print("%s\n", _("Commands:"));
	for (guint i = 0; i < G_N_ELEMENTS(commands); i++)
		g_print("  %-10s %s\n", commands[i].name, _(commands[i].summary));
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
		if (g_strcmp0(argv[1], commands[i].name) == 0)
			return commands[i].func(argc - 1, argv + 1);
	}
	/* TRANSLATORS: %s is what the user typed as a command */
	g_printerr(_("postroomctl: unknown command “%s”\n"), argv[1]);
	pr_ctl_usage();
	return PR_CTL_EXIT_USAGE;
}
