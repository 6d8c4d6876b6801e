/*
 * Copyright 2026 The Postroom developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#define G_LOG_DOMAIN "PrCtl"

#include <glib/gi18n.h>

#include "pr-ctl.h"

static GVariant *
pr_ctl_services_to_json(GList *services)
{
	g_auto(GVariantBuilder) list = G_VARIANT_BUILDER_INIT(G_VARIANT_TYPE("aa{sv}"));
	g_auto(GVariantDict) doc = G_VARIANT_DICT_INIT(NULL);

	for (GList *l = services; l != NULL; l = l->next) {
		PrDBusImap4Service *service = l->data;
		g_auto(GVariantDict) dict = G_VARIANT_DICT_INIT(NULL);
		const gchar *path = g_dbus_proxy_get_object_path(G_DBUS_PROXY(service));

		g_variant_dict_insert(&dict, "id", "s", pr_dbus_imap4_service_get_id(service));
		g_variant_dict_insert(&dict, "path", "o", path);
		g_variant_dict_insert(&dict,
				      "display-name",
				      "s",
				      pr_dbus_imap4_service_get_display_name(service));
		g_variant_dict_insert(
			&dict, "state", "s", pr_dbus_imap4_service_get_state(service));
		g_variant_dict_insert(
			&dict, "connected", "b", pr_dbus_imap4_service_get_connected(service));
		g_variant_dict_insert(&dict, "busy", "b", pr_dbus_imap4_service_get_busy(service));
		g_variant_dict_insert(
			&dict, "last-sync", "x", pr_dbus_imap4_service_get_last_sync(service));
		g_variant_builder_add_value(&list, g_variant_dict_end(&dict));
	}
	g_variant_dict_insert_value(&doc, "services", g_variant_builder_end(&list));
	return g_variant_dict_end(&doc);
}

static void
pr_ctl_services_print(GList *services)
{
	const gchar *headers[] = { _("ID"), _("NAME"), _("STATE"), _("LAST SYNC"), NULL };
	g_autoptr(PrCtlTable) table = NULL;

	if (services == NULL) {
		g_print("%s\n", _("No services are configured; add one with “postroomctl add”."));
		return;
	}
	table = pr_ctl_table_new(headers);
	for (GList *l = services; l != NULL; l = l->next) {
		PrDBusImap4Service *service = l->data;
		g_autofree gchar *last_sync =
			pr_ctl_format_time(pr_dbus_imap4_service_get_last_sync(service));
		const gchar *row[] = { pr_dbus_imap4_service_get_id(service),
				       pr_dbus_imap4_service_get_display_name(service),
				       pr_dbus_imap4_service_get_state(service),
				       last_sync,
				       NULL };
		pr_ctl_table_add_row(table, row);
	}
	pr_ctl_table_print(table);
}

gint
pr_ctl_services(gint argc, gchar **argv)
{
	g_auto(PrCtlOptions) opts = { 0 };
	g_autoptr(PrCtlClient) client = NULL;
	g_autoptr(GError) error = NULL;
	GList *services;

	if (!pr_ctl_options_parse(&opts,
				  PR_CTL_OPTION_JSON | PR_CTL_OPTION_BUS,
				  NULL,
				  NULL,
				  _("List the configured services (IMAP accounts)."),
				  &argc,
				  &argv))
		return PR_CTL_EXIT_USAGE;
	if (argc > 1)
		return pr_ctl_unexpected_argument(&opts, argv[1]);
	client = pr_ctl_client_new(&opts, &error);
	if (client == NULL)
		return pr_ctl_fail(&opts, error);

	services = pr_ctl_client_list_services(client);
	if (opts.json)
		pr_ctl_json_output(pr_ctl_services_to_json(services));
	else
		pr_ctl_services_print(services);
	g_list_free_full(services, g_object_unref);
	return PR_CTL_EXIT_OK;
}
