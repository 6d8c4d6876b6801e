/*
 * Copyright 2026 The Postroom developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#define G_LOG_DOMAIN "PrCtl"

#include <glib/gi18n.h>

#include "pr-ctl.h"

static gchar *
pr_ctl_password_read(PrDBusImap4Service *service,
		     const gchar *protocol,
		     gboolean from_stdin,
		     GError **error)
{
	g_autofree gchar *prompt = NULL;

	if (from_stdin)
		return pr_ctl_read_secret_stdin(error);
	/* TRANSLATORS: the prompt for a password; "imap" or "smtp", then the service id */
	prompt = g_strdup_printf(
		_("%s password for %s: "), protocol, pr_dbus_imap4_service_get_id(service));
	return pr_ctl_read_secret_terminal(prompt, error);
}

static void
pr_ctl_password_print(const PrCtlOptions *opts,
		      PrDBusImap4Service *service,
		      const gchar *protocol,
		      gboolean clear)
{
	const gchar *id = pr_dbus_imap4_service_get_id(service);
	g_auto(GVariantDict) dict = G_VARIANT_DICT_INIT(NULL);

	if (!opts->json) {
		if (clear)
			g_print(_("Cleared the %s password of “%s”.\n"), protocol, id);
		else
			g_print(_("Stored the %s password of “%s”.\n"), protocol, id);
		return;
	}
	g_variant_dict_insert(&dict, "service", "s", id);
	g_variant_dict_insert(&dict, "protocol", "s", protocol);
	g_variant_dict_insert(&dict, "stored", "b", !clear);
	pr_ctl_json_output(g_variant_dict_end(&dict));
}

static gint
pr_ctl_password_apply(const PrCtlOptions *opts,
		      PrDBusImap4Service *service,
		      const gchar *protocol,
		      gboolean clear,
		      gboolean from_stdin)
{
	g_autoptr(PrCtlSecret) password = NULL;
	g_autoptr(GError) error = NULL;

	if (clear) {
		if (!pr_dbus_imap4_service_call_clear_password_sync(
			    service, protocol, NULL, &error))
			return pr_ctl_fail(opts, error);
		return PR_CTL_EXIT_OK;
	}
	/* no password to read is a problem of the command line, as for probe */
	password = pr_ctl_password_read(service, protocol, from_stdin, &error);
	if (password == NULL) {
		pr_ctl_print_error(error);
		return PR_CTL_EXIT_USAGE;
	}
	if (!pr_dbus_imap4_service_call_set_password_sync(
		    service, protocol, password, NULL, &error))
		return pr_ctl_fail(opts, error);
	return PR_CTL_EXIT_OK;
}

gint
pr_ctl_password(gint argc, gchar **argv)
{
	g_auto(PrCtlOptions) opts = { 0 };
	g_autoptr(PrCtlClient) client = NULL;
	g_autoptr(PrDBusImap4Service) service = NULL;
	g_autoptr(GError) error = NULL;
	g_autofree gchar *protocol = NULL;
	gboolean from_stdin = FALSE;
	gboolean clear = FALSE;
	gint rc;
	const GOptionEntry entries[] = {
		{ "password-stdin",
		  0,
		  0,
		  G_OPTION_ARG_NONE,
		  &from_stdin,
		  N_("Read the password from standard input instead of asking"),
		  NULL },
		{ "clear",
		  0,
		  0,
		  G_OPTION_ARG_NONE,
		  &clear,
		  N_("Delete the stored password"),
		  NULL },
		{ "protocol",
		  0,
		  0,
		  G_OPTION_ARG_STRING,
		  &protocol,
		  N_("imap (default) or smtp"),
		  N_("PROTOCOL") },
		{ NULL }
	};

	if (!pr_ctl_options_parse(&opts,
				  PR_CTL_OPTION_SERVICE | PR_CTL_OPTION_JSON | PR_CTL_OPTION_BUS,
				  entries,
				  NULL,
				  _("Store a service's password in the keyring (asked for without "
				    "echo), or delete it with --clear."),
				  &argc,
				  &argv))
		return PR_CTL_EXIT_USAGE;
	if (argc > 1)
		return pr_ctl_unexpected_argument(&opts, argv[1]);
	if (protocol == NULL)
		protocol = g_strdup("imap");
	if (g_strcmp0(protocol, "imap") != 0 && g_strcmp0(protocol, "smtp") != 0)
		return pr_ctl_usage_error(&opts, "%s", _("--protocol must be imap or smtp"));
	if (clear && from_stdin)
		return pr_ctl_usage_error(
			&opts, "%s", _("--clear and --password-stdin exclude each other"));

	service = pr_ctl_open_service(&opts, &client, &error);
	if (service == NULL)
		return pr_ctl_fail(&opts, error);
	rc = pr_ctl_password_apply(&opts, service, protocol, clear, from_stdin);
	if (rc != PR_CTL_EXIT_OK)
		return rc;
	pr_ctl_password_print(&opts, service, protocol, clear);
	return PR_CTL_EXIT_OK;
}
