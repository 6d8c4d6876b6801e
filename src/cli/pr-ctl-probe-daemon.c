/*
 * Copyright 2026 The Postroom developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#define G_LOG_DOMAIN "PrCtl"

#include <glib/gi18n.h>

#include "pr-ctl.h"

/* "postroomctl probe" runs in this process (pr-ctl-probe.c) unless --daemon asks for
 * Manager.ProbeServer; the help of both is this file's, which lists every option. */

typedef struct {
	gchar *host;
	gint port;
	gchar *security;
	gchar *user;
	gchar *auth;
	gchar *ca_file;
	gchar *pin;
	gint timeout;
	gboolean allow_insecure;
	gboolean password_stdin;
	gboolean daemon;
} PrCtlProbeArgs;

static void
pr_ctl_probe_args_clear(PrCtlProbeArgs *args)
{
	g_free(args->host);
	g_free(args->security);
	g_free(args->user);
	g_free(args->auth);
	g_free(args->ca_file);
	g_free(args->pin);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(PrCtlProbeArgs, pr_ctl_probe_args_clear)

static gboolean
pr_ctl_probe_wants_daemon(gint argc, gchar **argv)
{
	const gchar *ours[] = { "--daemon", "--help", "-h", "-?", "--help-all" };

	for (gint i = 1; i < argc && g_strcmp0(argv[i], "--") != 0; i++) {
		for (guint j = 0; j < G_N_ELEMENTS(ours); j++) {
			if (g_strcmp0(argv[i], ours[j]) == 0)
				return TRUE;
		}
	}
	return FALSE;
}

static gint
pr_ctl_probe_check(const PrCtlOptions *opts, gint argc, gchar **argv, PrCtlProbeArgs *args)
{
	g_autoptr(GError) error = NULL;

	if (argc > 1)
		return pr_ctl_unexpected_argument(opts, argv[1]);
	if (!args->daemon)
		return pr_ctl_usage_error(opts, "%s", _("these options need --daemon"));
	if (args->host == NULL || args->host[0] == '\0')
		return pr_ctl_usage_error(opts, "%s", _("--host is required"));
	if (args->port < 0 || args->port > G_MAXUINT16)
		return pr_ctl_usage_error(opts, "%s", _("--port must be between 1 and 65535"));
	if (args->timeout != 0 && (args->timeout < 1 || args->timeout > 3600))
		return pr_ctl_usage_error(opts, "%s", _("--timeout must be between 1 and 3600"));
	if (args->password_stdin && args->user == NULL)
		return pr_ctl_usage_error(opts, "%s", _("--password-stdin needs --user"));
	if (args->ca_file != NULL) {
		/* the daemon does not share our working directory */
		gchar *absolute = g_canonicalize_filename(args->ca_file, NULL);
		g_free(args->ca_file);
		args->ca_file = absolute;
		if (!pr_ctl_check_utf8(args->ca_file, &error))
			return pr_ctl_fail(opts, error);
	}
	return PR_CTL_EXIT_OK;
}

static void
pr_ctl_probe_add_string(GVariantDict *dict, const gchar *key, const gchar *value)
{
	if (value != NULL)
		g_variant_dict_insert(dict, key, "s", value);
}

static GVariant *
pr_ctl_probe_settings(const PrCtlProbeArgs *args, const gchar *password)
{
	g_auto(GVariantDict) dict = G_VARIANT_DICT_INIT(NULL);

	pr_ctl_probe_add_string(&dict, "host", args->host);
	pr_ctl_probe_add_string(&dict, "security", args->security);
	pr_ctl_probe_add_string(&dict, "user", args->user);
	pr_ctl_probe_add_string(&dict, "auth", args->auth);
	pr_ctl_probe_add_string(&dict, "tls-ca-file", args->ca_file);
	pr_ctl_probe_add_string(&dict, "tls-pinned-certificate", args->pin);
	pr_ctl_probe_add_string(&dict, "password", password);
	if (args->port != 0)
		g_variant_dict_insert(&dict, "port", "q", (guint16)args->port);
	if (args->timeout != 0)
		g_variant_dict_insert(&dict, "timeout", "u", (guint32)args->timeout);
	if (args->allow_insecure)
		g_variant_dict_insert(&dict, "allow-insecure", "b", TRUE);
	return g_variant_dict_end(&dict);
}

static void
pr_ctl_probe_print_text(const PrCtlProbeArgs *args, GVariant *result)
{
	guint port = (guint)args->port;

	if (port == 0)
		port = args->security == NULL || g_strcmp0(args->security, "tls") == 0 ? 993 : 143;
	pr_ctl_probe_print_report(args->host, (guint16)port, result, args->password_stdin);
}

/* Like the in-process probe: the Result keys, plus "error" and "error-message". */
static void
pr_ctl_probe_print_json(GVariant *result, const GError *error)
{
	g_auto(GVariantDict) dict = G_VARIANT_DICT_INIT(result);

	if (error != NULL) {
		g_autofree gchar *name = pr_ctl_error_get_name(error);
		g_autoptr(GError) copy = g_error_copy(error);
		g_dbus_error_strip_remote_error(copy);
		g_variant_dict_insert(&dict, "error", "s", name);
		g_variant_dict_insert(&dict, "error-message", "s", copy->message);
	}
	pr_ctl_json_output(g_variant_dict_end(&dict));
}

static gint
pr_ctl_probe_report(const PrCtlOptions *opts,
		    const PrCtlProbeArgs *args,
		    GVariant *props,
		    const GError *error)
{
	g_autoptr(GVariant) result = NULL;

	if (error != NULL && props == NULL)
		return pr_ctl_fail(opts, error);
	result = g_variant_lookup_value(props, "Result", G_VARIANT_TYPE_VARDICT);
	if (result == NULL)
		result = g_variant_ref_sink(g_variant_new_array(G_VARIANT_TYPE("{sv}"), NULL, 0));
	if (opts->json)
		pr_ctl_probe_print_json(result, error);
	else if (error == NULL || pr_ctl_error_has_name(error, "LoginFailed"))
		pr_ctl_probe_print_text(args, result);
	if (error != NULL)
		return pr_ctl_fail(opts, error);
	return PR_CTL_EXIT_OK;
}

static gint
pr_ctl_probe_daemon(const PrCtlOptions *opts, const PrCtlProbeArgs *args)
{
	g_autoptr(PrCtlClient) client = NULL;
	g_autoptr(PrDBusManager) manager = NULL;
	g_autoptr(PrCtlSecret) password = NULL;
	g_autoptr(GVariant) props = NULL;
	g_autoptr(GError) error = NULL;
	g_autofree gchar *path = NULL;

	if (args->password_stdin) {
		password = pr_ctl_read_secret_stdin(&error);
		if (password == NULL) {
			pr_ctl_print_error(error);
			return PR_CTL_EXIT_USAGE;
		}
	}
	client = pr_ctl_client_new(opts, &error);
	if (client == NULL)
		return pr_ctl_fail(opts, error);
	manager = pr_ctl_client_get_manager(client, &error);
	if (manager == NULL)
		return pr_ctl_fail(opts, error);
	if (!pr_dbus_manager_call_probe_server_sync(
		    manager, pr_ctl_probe_settings(args, password), &path, NULL, &error))
		return pr_ctl_fail(opts, error);
	if (opts->no_wait)
		return pr_ctl_operation_run(client, opts, path, NULL);
	pr_ctl_operation_wait(client, opts, path, &props, &error);
	if (g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
		return PR_CTL_EXIT_INTERRUPTED;
	return pr_ctl_probe_report(opts, args, props, error);
}

gint
pr_ctl_probe_command(gint argc, gchar **argv)
{
	g_auto(PrCtlOptions) opts = { 0 };
	g_auto(PrCtlProbeArgs) args = { 0 };
	const GOptionEntry entries[] = {
		{ "host",
		  0,
		  0,
		  G_OPTION_ARG_STRING,
		  &args.host,
		  N_("Server name or address"),
		  N_("HOST") },
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
		{ "user",
		  0,
		  0,
		  G_OPTION_ARG_STRING,
		  &args.user,
		  N_("User name to log in with"),
		  N_("USER") },
		{ "password-stdin",
		  0,
		  0,
		  G_OPTION_ARG_NONE,
		  &args.password_stdin,
		  N_("Read the password from standard input"),
		  NULL },
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
		{ "timeout",
		  0,
		  0,
		  G_OPTION_ARG_INT,
		  &args.timeout,
		  N_("Seconds a network wait may last (30; with --daemon the daemon's default)"),
		  N_("SECONDS") },
		{ "allow-insecure",
		  0,
		  0,
		  G_OPTION_ARG_NONE,
		  &args.allow_insecure,
		  N_("Allow --security none to a host that is not this machine"),
		  NULL },
		{ "daemon",
		  0,
		  0,
		  G_OPTION_ARG_NONE,
		  &args.daemon,
		  N_("Probe from postroomd (Manager.ProbeServer) instead of this process"),
		  NULL },
		{ NULL }
	};
	gint rc;

	if (!pr_ctl_probe_wants_daemon(argc, argv))
		return pr_ctl_probe(argc, argv);
	if (!pr_ctl_options_parse(
		    &opts,
		    PR_CTL_OPTION_JSON | PR_CTL_OPTION_NO_WAIT | PR_CTL_OPTION_BUS,
		    entries,
		    NULL,
		    _("Try an IMAP server: security, certificate, capabilities, login. "
		      "It runs in this process, or in postroomd with --daemon "
		      "(--address and --no-wait apply to --daemon only)."),
		    &argc,
		    &argv))
		return PR_CTL_EXIT_USAGE;
	/* like the in-process probe: a report, no progress lines */
	opts.no_plain_progress = TRUE;
	rc = pr_ctl_probe_check(&opts, argc, argv, &args);
	if (rc != PR_CTL_EXIT_OK)
		return rc;
	return pr_ctl_probe_daemon(&opts, &args);
}
