/*
 * Copyright 2026 The Postroom developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#define G_LOG_DOMAIN "PrCtl"

#include <glib/gi18n.h>
#include <string.h>

#include "pr-ctl.h"
#include "pr-error.h"
#include "pr-imap-probe.h"
#include "pr-net.h"

typedef struct {
	GMainLoop *loop;
	GError *error;
} ProbeWait;

static void
pr_ctl_probe_done_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	ProbeWait *wait = user_data;

	pr_imap_probe_run_finish(PR_IMAP_PROBE(source), res, &wait->error);
	g_main_loop_quit(wait->loop);
}

static gchar *
pr_ctl_strv_join(GVariant *dict, const gchar *key)
{
	g_autofree const gchar **strv = NULL;

	if (!g_variant_lookup(dict, key, "^a&s", &strv) || strv == NULL || strv[0] == NULL)
		return g_strdup("—");
	return g_strjoinv(" ", (gchar **)strv);
}

void
pr_ctl_probe_print_report(const gchar *host, guint16 port, GVariant *result, gboolean login)
{
	const gchar *security = "";
	const gchar *sha256 = "";
	const gchar *subject = "";
	gboolean trusted = FALSE;
	gboolean authenticated = FALSE;
	guint32 folders = 0;
	g_autofree gchar *caps = pr_ctl_strv_join(result, "capabilities");
	g_autofree gchar *mechs = pr_ctl_strv_join(result, "auth-mechanisms");

	g_variant_lookup(result, "security", "&s", &security);
	g_variant_lookup(result, "certificate-sha256", "&s", &sha256);
	g_variant_lookup(result, "certificate-subject", "&s", &subject);
	g_variant_lookup(result, "certificate-trusted", "b", &trusted);
	g_variant_lookup(result, "authenticated", "b", &authenticated);

	g_print("%-16s %s:%u\n", _("Server:"), host, port);
	g_print("%-16s %s\n", _("Security:"), security);
	if (sha256[0] != '\0') {
		g_print("%-16s %s\n", _("Certificate:"), sha256);
		g_print("%-16s %s\n", _("  Subject:"), subject);
		g_print("%-16s %s\n", _("  Trusted:"), trusted ? _("yes") : _("no"));
	}
	g_print("%-16s %s\n", _("Capabilities:"), caps);
	g_print("%-16s %s\n", _("SASL:"), mechs);
	if (login)
		g_print("%-16s %s\n", _("Login:"), authenticated ? _("succeeded") : _("failed"));
	else
		g_print("%-16s %s\n", _("Login:"), _("not tried (no password given)"));
	if (g_variant_lookup(result, "folders", "u", &folders))
		g_print("%-16s %u\n", _("Folders:"), folders);
}

gint
pr_ctl_probe(gint argc, gchar **argv)
{
	g_autofree gchar *host = NULL;
	gint port = 0;
	g_autofree gchar *security_str = NULL;
	g_autofree gchar *user = NULL;
	g_autofree gchar *ca_file = NULL;
	g_autofree gchar *pin = NULL;
	g_autofree gchar *auth = NULL;
	gboolean password_stdin = FALSE;
	gboolean json = FALSE;
	gboolean allow_insecure = FALSE;
	gint timeout = 30;
	g_autoptr(GOptionContext) context = NULL;
	g_autoptr(GError) error = NULL;
	g_autoptr(PrImapProbe) probe = NULL;
	g_autoptr(GMainLoop) loop = NULL;
	PrImapSecurity security = PR_IMAP_SECURITY_TLS;
	ProbeWait wait = { 0 };
	GVariant *result;
	const GOptionEntry entries[] = {
		{ "host",
		  0,
		  0,
		  G_OPTION_ARG_STRING,
		  &host,
		  N_("Server name or address"),
		  N_("HOST") },
		{ "port",
		  0,
		  0,
		  G_OPTION_ARG_INT,
		  &port,
		  N_("Port (993 for tls, else 143)"),
		  N_("PORT") },
		{ "security",
		  0,
		  0,
		  G_OPTION_ARG_STRING,
		  &security_str,
		  N_("tls (default), starttls or none"),
		  N_("MODE") },
		{ "user",
		  0,
		  0,
		  G_OPTION_ARG_STRING,
		  &user,
		  N_("User name to log in with"),
		  N_("USER") },
		{ "password-stdin",
		  0,
		  0,
		  G_OPTION_ARG_NONE,
		  &password_stdin,
		  N_("Read the password from standard input"),
		  NULL },
		{ "auth",
		  0,
		  0,
		  G_OPTION_ARG_STRING,
		  &auth,
		  N_("auto, plain, login, cram-md5, scram-sha-256, xoauth2 or oauthbearer"),
		  N_("MECHANISM") },
		{ "ca-file",
		  0,
		  0,
		  G_OPTION_ARG_FILENAME,
		  &ca_file,
		  N_("Trust the CAs in this PEM file instead of the system's"),
		  N_("FILE") },
		{ "pin",
		  0,
		  0,
		  G_OPTION_ARG_STRING,
		  &pin,
		  N_("Trust the certificate with this SHA-256 fingerprint"),
		  N_("SHA256") },
		{ "timeout",
		  0,
		  0,
		  G_OPTION_ARG_INT,
		  &timeout,
		  N_("Seconds a network wait may last (30)"),
		  N_("SECONDS") },
		{ "allow-insecure",
		  0,
		  0,
		  G_OPTION_ARG_NONE,
		  &allow_insecure,
		  N_("Allow --security none to a host that is not this machine"),
		  NULL },
		{ "json", 0, 0, G_OPTION_ARG_NONE, &json, N_("Print JSON for scripts"), NULL },
		{ NULL }
	};

	context = g_option_context_new(_("— try an IMAP server"));
	g_option_context_set_translation_domain(context, GETTEXT_PACKAGE);
	g_option_context_add_main_entries(context, entries, GETTEXT_PACKAGE);
	if (!g_option_context_parse(context, &argc, &argv, &error)) {
		g_printerr("postroomctl probe: %s\n", error->message);
		return PR_CTL_EXIT_USAGE;
	}
	if (argc > 1) {
		g_printerr(_("postroomctl probe: unexpected argument “%s”\n"), argv[1]);
		return PR_CTL_EXIT_USAGE;
	}
	if (host == NULL || host[0] == '\0') {
		g_printerr("postroomctl probe: %s\n", _("--host is required"));
		return PR_CTL_EXIT_USAGE;
	}
	if (port < 0 || port > G_MAXUINT16) {
		g_printerr("postroomctl probe: %s\n", _("--port must be between 1 and 65535"));
		return PR_CTL_EXIT_USAGE;
	}
	if (timeout < 1 || timeout > 3600) {
		g_printerr("postroomctl probe: %s\n", _("--timeout must be between 1 and 3600"));
		return PR_CTL_EXIT_USAGE;
	}
	if (security_str != NULL && !pr_imap_security_from_string(security_str, &security)) {
		g_printerr("postroomctl probe: %s\n",
			   _("--security must be tls, starttls or none"));
		return PR_CTL_EXIT_USAGE;
	}
	if (security == PR_IMAP_SECURITY_NONE && !allow_insecure &&
	    !pr_net_host_is_loopback(host)) {
		g_printerr("postroomctl probe: %s\n",
			   _("--security none sends the password in clear text; it is only "
			     "allowed to this machine unless --allow-insecure is given"));
		return PR_CTL_EXIT_USAGE;
	}
	if (password_stdin && user == NULL) {
		g_printerr("postroomctl probe: %s\n", _("--password-stdin needs --user"));
		return PR_CTL_EXIT_USAGE;
	}
	if (port == 0)
		port = security == PR_IMAP_SECURITY_TLS ? 993 : 143;

	probe = pr_imap_probe_new(host, (guint16)port, security);
	pr_imap_probe_set_timeout(probe, (guint)timeout);
	if (ca_file != NULL && !pr_imap_probe_set_ca_file(probe, ca_file, &error)) {
		pr_ctl_print_error(error);
		return PR_CTL_EXIT_USAGE;
	}
	if (pin != NULL && !pr_imap_probe_set_pinned_certificate(probe, pin, &error)) {
		pr_ctl_print_error(error);
		return PR_CTL_EXIT_USAGE;
	}
	if (password_stdin) {
		g_autofree gchar *password = pr_ctl_read_secret_stdin(&error);
		if (password == NULL) {
			pr_ctl_print_error(error);
			return PR_CTL_EXIT_USAGE;
		}
		pr_imap_probe_set_login(probe, user, password, auth);
		explicit_bzero(password, strlen(password));
	}

	loop = g_main_loop_new(NULL, FALSE);
	wait.loop = loop;
	pr_imap_probe_run_async(probe, NULL, pr_ctl_probe_done_cb, &wait);
	g_main_loop_run(loop);

	result = pr_imap_probe_get_result(probe);
	if (json) {
		g_autoptr(GString) out = g_string_new(NULL);
		g_auto(GVariantBuilder) builder = G_VARIANT_BUILDER_INIT(G_VARIANT_TYPE_VARDICT);
		GVariantIter iter;
		const gchar *key;
		GVariant *value;

		g_variant_iter_init(&iter, result);
		while (g_variant_iter_next(&iter, "{&sv}", &key, &value)) {
			g_variant_builder_add(&builder, "{sv}", key, value);
			g_variant_unref(value);
		}
		if (wait.error != NULL) {
			const gchar *name = wait.error->domain == PR_ERROR
						    ? pr_error_to_name(wait.error->code)
						    : "Failed";
			g_variant_builder_add(
				&builder, "{sv}", "error", g_variant_new_string(name));
			g_variant_builder_add(&builder,
					      "{sv}",
					      "error-message",
					      g_variant_new_string(wait.error->message));
		}
		pr_ctl_print_json(g_variant_builder_end(&builder), out);
		g_print("%s\n", out->str);
	} else if (wait.error == NULL ||
		   g_error_matches(wait.error, PR_ERROR, PR_ERROR_LOGIN_FAILED)) {
		pr_ctl_probe_print_report(host, (guint16)port, result, password_stdin);
	}
	if (wait.error != NULL) {
		pr_ctl_print_error(wait.error);
		g_clear_error(&wait.error);
		return PR_CTL_EXIT_FAILED;
	}
	return PR_CTL_EXIT_OK;
}
