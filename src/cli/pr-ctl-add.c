/*
 * Copyright 2026 The Postroom developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#define G_LOG_DOMAIN "PrCtl"

#include <glib/gi18n.h>
#include <unistd.h>

#include "pr-ctl.h"

typedef struct {
	gchar *host;
	gchar *user;
	gint port;
	gchar *security;
	gchar *auth;
	gchar *ca_file;
	gchar *pin;
	gchar *display_name;
	gchar *id;
	gboolean allow_insecure;
	gboolean password_stdin;
	gboolean no_password;
} PrCtlAddArgs;

static void
pr_ctl_add_args_clear(PrCtlAddArgs *args)
{
	g_free(args->host);
	g_free(args->user);
	g_free(args->security);
	g_free(args->auth);
	g_free(args->ca_file);
	g_free(args->pin);
	g_free(args->display_name);
	g_free(args->id);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(PrCtlAddArgs, pr_ctl_add_args_clear)

static void
pr_ctl_add_string(GVariantDict *dict, const gchar *key, const gchar *value)
{
	if (value != NULL)
		g_variant_dict_insert(dict, key, "s", value);
}

static GVariant *
pr_ctl_add_settings(const PrCtlAddArgs *args)
{
	g_auto(GVariantDict) dict = G_VARIANT_DICT_INIT(NULL);

	pr_ctl_add_string(&dict, "host", args->host);
	pr_ctl_add_string(&dict, "user", args->user);
	pr_ctl_add_string(&dict, "security", args->security);
	pr_ctl_add_string(&dict, "auth", args->auth);
	pr_ctl_add_string(&dict, "tls-pinned-certificate", args->pin);
	pr_ctl_add_string(&dict, "display-name", args->display_name);
	pr_ctl_add_string(&dict, "id", args->id);
	pr_ctl_add_string(&dict, "tls-ca-file", args->ca_file);
	if (args->port != 0)
		g_variant_dict_insert(&dict, "port", "q", (guint16)args->port);
	if (args->allow_insecure)
		g_variant_dict_insert(&dict, "allow-insecure", "b", TRUE);
	return g_variant_dict_end(&dict);
}

static gint
pr_ctl_add_check(const PrCtlOptions *opts, PrCtlAddArgs *args)
{
	g_autoptr(GError) error = NULL;

	if (args->ca_file != NULL) {
		/* the daemon does not share our working directory */
		gchar *absolute = g_canonicalize_filename(args->ca_file, NULL);
		g_free(args->ca_file);
		args->ca_file = absolute;
		if (!pr_ctl_check_utf8(args->ca_file, &error))
			return pr_ctl_fail(opts, error);
	}
	if (args->host == NULL || args->host[0] == '\0')
		return pr_ctl_usage_error(opts, "%s", _("--host is required"));
	if (args->user == NULL || args->user[0] == '\0')
		return pr_ctl_usage_error(opts, "%s", _("--user is required"));
	if (args->port < 0 || args->port > G_MAXUINT16)
		return pr_ctl_usage_error(opts, "%s", _("--port must be between 1 and 65535"));
	if (args->password_stdin && args->no_password)
		return pr_ctl_usage_error(
			opts, "%s", _("--password-stdin and --no-password exclude each other"));
	if (!args->password_stdin && !args->no_password && !isatty(STDIN_FILENO))
		return pr_ctl_usage_error(
			opts,
			"%s",
			_("standard input is no terminal to ask for the password; "
			  "use --password-stdin or --no-password"));
	return PR_CTL_EXIT_OK;
}

static gchar *
pr_ctl_add_read_password(const PrCtlAddArgs *args, GError **error)
{
	g_autofree gchar *prompt = NULL;

	if (args->no_password)
		return NULL;
	if (args->password_stdin)
		return pr_ctl_read_secret_stdin(error);
	/* TRANSLATORS: the prompt for the password, e.g. "Password for alice@imap.example:" */
	prompt = g_strdup_printf(_("Password for %s@%s: "), args->user, args->host);
	return pr_ctl_read_secret_terminal(prompt, error);
}

static void
pr_ctl_add_print(const PrCtlOptions *opts, const gchar *path, gboolean password)
{
	const gchar *id = pr_ctl_service_id_from_path(path);
	g_auto(GVariantDict) dict = G_VARIANT_DICT_INIT(NULL);

	if (!opts->json) {
		g_print(_("Added service “%s” (%s).\n"), id, path);
		return;
	}
	g_variant_dict_insert(&dict, "service", "s", id);
	g_variant_dict_insert(&dict, "path", "o", path);
	g_variant_dict_insert(&dict, "password-stored", "b", password);
	pr_ctl_json_output(g_variant_dict_end(&dict));
}

static gboolean
pr_ctl_add_store_password(PrCtlClient *client,
			  const gchar *path,
			  const gchar *password,
			  GError **error)
{
	g_autoptr(PrDBusImap4Service) service = NULL;

	service = pr_ctl_client_get_service_by_path(client, path, error);
	if (service == NULL)
		return FALSE;
	return pr_dbus_imap4_service_call_set_password_sync(service, "imap", password, NULL, error);
}

gint
pr_ctl_add(gint argc, gchar **argv)
{
	g_auto(PrCtlOptions) opts = { 0 };
	g_auto(PrCtlAddArgs) args = { 0 };
	g_autoptr(PrCtlClient) client = NULL;
	g_autoptr(PrDBusManager) manager = NULL;
	g_autoptr(PrCtlSecret) password = NULL;
	g_autoptr(GError) error = NULL;
	g_autofree gchar *path = NULL;
	const GOptionEntry entries[] = {
		{ "host",
		  0,
		  0,
		  G_OPTION_ARG_STRING,
		  &args.host,
		  N_("Server name or address"),
		  N_("HOST") },
		{ "user",
		  0,
		  0,
		  G_OPTION_ARG_STRING,
		  &args.user,
		  N_("User name to log in with"),
		  N_("USER") },
		{ "port",
		  0,
		  0,
		  G_OPTION_ARG_INT,
		  &args.port,
		  N_("Port (993 for tls, else 143)"),
		  N_("PORT") },
		{ "security",
		  0,
		  0,
		  G_OPTION_ARG_STRING,
		  &args.security,
		  N_("tls (default), starttls or none"),
		  N_("MODE") },
		{ "auth",
		  0,
		  0,
		  G_OPTION_ARG_STRING,
		  &args.auth,
		  N_("auto, plain, login, cram-md5, scram-sha-256, xoauth2 or oauthbearer"),
		  N_("MECHANISM") },
		{ "ca-file",
		  0,
		  0,
		  G_OPTION_ARG_FILENAME,
		  &args.ca_file,
		  N_("Trust the CAs in this PEM file instead of the system's"),
		  N_("FILE") },
		{ "pin",
		  0,
		  0,
		  G_OPTION_ARG_STRING,
		  &args.pin,
		  N_("Trust the certificate with this SHA-256 fingerprint"),
		  N_("SHA256") },
		{ "display-name",
		  0,
		  0,
		  G_OPTION_ARG_STRING,
		  &args.display_name,
		  N_("The account's name for people"),
		  N_("NAME") },
		{ "id",
		  0,
		  0,
		  G_OPTION_ARG_STRING,
		  &args.id,
		  N_("The service id (a-z, 0-9, _); made from user and host if not given"),
		  N_("ID") },
		{ "allow-insecure",
		  0,
		  0,
		  G_OPTION_ARG_NONE,
		  &args.allow_insecure,
		  N_("Allow --security none to a host that is not this machine"),
		  NULL },
		{ "password-stdin",
		  0,
		  0,
		  G_OPTION_ARG_NONE,
		  &args.password_stdin,
		  N_("Read the password from standard input instead of asking"),
		  NULL },
		{ "no-password",
		  0,
		  0,
		  G_OPTION_ARG_NONE,
		  &args.no_password,
		  N_("Store no password now"),
		  NULL },
		{ NULL }
	};
	gint rc;

	if (!pr_ctl_options_parse(&opts,
				  PR_CTL_OPTION_JSON | PR_CTL_OPTION_BUS,
				  entries,
				  NULL,
				  _("Add a service (an IMAP account) and store its password in the "
				    "keyring. Other settings can be changed afterwards with "
				    "“postroomctl set”."),
				  &argc,
				  &argv))
		return PR_CTL_EXIT_USAGE;
	if (argc > 1)
		return pr_ctl_unexpected_argument(&opts, argv[1]);
	rc = pr_ctl_add_check(&opts, &args);
	if (rc != PR_CTL_EXIT_OK)
		return rc;

	client = pr_ctl_client_new(&opts, &error);
	if (client == NULL)
		return pr_ctl_fail(&opts, error);
	manager = pr_ctl_client_get_manager(client, &error);
	if (manager == NULL)
		return pr_ctl_fail(&opts, error);
	/* ask before creating anything: Ctrl-C at the prompt leaves nothing behind */
	password = pr_ctl_add_read_password(&args, &error);
	if (password == NULL && error != NULL) {
		pr_ctl_print_error(error);
		return PR_CTL_EXIT_USAGE;
	}
	if (!pr_dbus_manager_call_add_service_sync(
		    manager, pr_ctl_add_settings(&args), &path, NULL, &error))
		return pr_ctl_fail(&opts, error);
	if (password != NULL && !pr_ctl_add_store_password(client, path, password, &error)) {
		const gchar *id = pr_ctl_service_id_from_path(path);
		pr_ctl_print_error(error);
		g_printerr(_("The service “%s” was added without its password; store it with "
			     "“postroomctl password --service %s”.\n"),
			   id,
			   id);
		return PR_CTL_EXIT_FAILED;
	}
	pr_ctl_add_print(&opts, path, password != NULL);
	return PR_CTL_EXIT_OK;
}
