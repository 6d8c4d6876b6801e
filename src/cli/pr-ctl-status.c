/*
 * Copyright 2026 The Postroom developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#define G_LOG_DOMAIN "PrCtl"

#include <glib/gi18n.h>
#include <string.h>

#include "pr-ctl.h"

/* LastError's name without the contract prefix, and its message. */
static void
pr_ctl_status_last_error(PrDBusImap4Service *service, const gchar **name, const gchar **message)
{
	GVariant *last_error = pr_dbus_imap4_service_get_last_error(service);

	*name = "";
	*message = "";
	if (last_error != NULL && g_variant_is_of_type(last_error, G_VARIANT_TYPE("(ss)")))
		g_variant_get(last_error, "(&s&s)", name, message);
	if (g_str_has_prefix(*name, PR_DBUS_ERROR_PREFIX))
		*name += strlen(PR_DBUS_ERROR_PREFIX);
}

static GVariant *
pr_ctl_status_to_json(PrDBusImap4Service *service)
{
	g_auto(GVariantDict) dict = G_VARIANT_DICT_INIT(NULL);
	const gchar *const *caps = pr_dbus_imap4_service_get_server_capabilities(service);
	const gchar *error_name;
	const gchar *error_message;

	pr_ctl_status_last_error(service, &error_name, &error_message);
	g_variant_dict_insert(&dict, "id", "s", pr_dbus_imap4_service_get_id(service));
	g_variant_dict_insert(
		&dict, "path", "o", g_dbus_proxy_get_object_path(G_DBUS_PROXY(service)));
	g_variant_dict_insert(
		&dict, "display-name", "s", pr_dbus_imap4_service_get_display_name(service));
	g_variant_dict_insert(&dict, "state", "s", pr_dbus_imap4_service_get_state(service));
	g_variant_dict_insert(
		&dict, "connected", "b", pr_dbus_imap4_service_get_connected(service));
	g_variant_dict_insert(&dict, "busy", "b", pr_dbus_imap4_service_get_busy(service));
	g_variant_dict_insert(
		&dict, "background-sync", "b", pr_dbus_imap4_service_get_background_sync(service));
	g_variant_dict_insert(
		&dict, "last-sync", "x", pr_dbus_imap4_service_get_last_sync(service));
	g_variant_dict_insert(&dict, "last-error", "s", error_name);
	g_variant_dict_insert(&dict, "last-error-message", "s", error_message);
	g_variant_dict_insert(&dict,
			      "pending-offline-operations",
			      "u",
			      pr_dbus_imap4_service_get_pending_offline_operations(service));
	g_variant_dict_insert(
		&dict, "outbox-count", "u", pr_dbus_imap4_service_get_outbox_count(service));
	g_variant_dict_insert_value(
		&dict, "server-capabilities", g_variant_new_strv(caps, caps != NULL ? -1 : 0));
	return g_variant_dict_end(&dict);
}

static const gchar *
pr_ctl_yes_no(gboolean value)
{
	return value ? _("yes") : _("no");
}

static void
pr_ctl_status_print_line(const gchar *label, const gchar *value)
{
	g_autofree gchar *clean = pr_ctl_sanitize(value);
	g_print("%-18s %s\n", label, clean);
}

static void
pr_ctl_status_print(PrDBusImap4Service *service)
{
	const gchar *const *caps = pr_dbus_imap4_service_get_server_capabilities(service);
	g_autofree gchar *name = g_strdup_printf("%s (%s)",
						 pr_dbus_imap4_service_get_id(service),
						 pr_dbus_imap4_service_get_display_name(service));
	g_autofree gchar *last_sync =
		pr_ctl_format_time(pr_dbus_imap4_service_get_last_sync(service));
	g_autofree gchar *pending = g_strdup_printf(
		"%u", pr_dbus_imap4_service_get_pending_offline_operations(service));
	g_autofree gchar *outbox =
		g_strdup_printf("%u", pr_dbus_imap4_service_get_outbox_count(service));
	g_autofree gchar *caps_text = caps != NULL ? g_strjoinv(" ", (gchar **)caps) : NULL;
	g_autofree gchar *last_error = NULL;
	const gchar *error_name;
	const gchar *error_message;

	pr_ctl_status_last_error(service, &error_name, &error_message);
	last_error = error_name[0] != '\0' ? g_strdup_printf("%s: %s", error_name, error_message)
					   : g_strdup(_("none"));
	pr_ctl_status_print_line(_("Service:"), name);
	pr_ctl_status_print_line(_("State:"), pr_dbus_imap4_service_get_state(service));
	pr_ctl_status_print_line(_("Connected:"),
				 pr_ctl_yes_no(pr_dbus_imap4_service_get_connected(service)));
	pr_ctl_status_print_line(_("Busy:"),
				 pr_ctl_yes_no(pr_dbus_imap4_service_get_busy(service)));
	pr_ctl_status_print_line(_("Background sync:"),
				 pr_ctl_yes_no(pr_dbus_imap4_service_get_background_sync(service)));
	pr_ctl_status_print_line(_("Last sync:"), last_sync);
	pr_ctl_status_print_line(_("Last error:"), last_error);
	pr_ctl_status_print_line(_("Offline changes:"), pending);
	pr_ctl_status_print_line(_("Outbox:"), outbox);
	pr_ctl_status_print_line(_("Capabilities:"),
				 caps_text != NULL && caps_text[0] != '\0' ? caps_text : "—");
}

gint
pr_ctl_status(gint argc, gchar **argv)
{
	g_auto(PrCtlOptions) opts = { 0 };
	g_autoptr(PrCtlClient) client = NULL;
	g_autoptr(PrDBusImap4Service) service = NULL;
	g_autoptr(GError) error = NULL;

	if (!pr_ctl_options_parse(
		    &opts,
		    PR_CTL_OPTION_SERVICE | PR_CTL_OPTION_JSON | PR_CTL_OPTION_BUS,
		    NULL,
		    NULL,
		    _("Show the state of a service: connection, last sync, last error, "
		      "queued offline changes, outbox, server capabilities."),
		    &argc,
		    &argv))
		return PR_CTL_EXIT_USAGE;
	if (argc > 1)
		return pr_ctl_unexpected_argument(&opts, argv[1]);

	service = pr_ctl_open_service(&opts, &client, &error);
	if (service == NULL)
		return pr_ctl_fail(&opts, error);
	if (opts.json)
		pr_ctl_json_output(pr_ctl_status_to_json(service));
	else
		pr_ctl_status_print(service);
	return PR_CTL_EXIT_OK;
}
