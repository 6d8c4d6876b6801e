/*
 * Copyright 2026 The Postroom developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#define G_LOG_DOMAIN "PrCtl"

#include <glib/gi18n.h>

#include "pr-ctl.h"

/* a(sa{sv}) -> {"folders": [{"name": ..., <the folder's keys>}, ...]} */
static GVariant *
pr_ctl_folders_to_json(GVariant *folders)
{
	g_auto(GVariantBuilder) list = G_VARIANT_BUILDER_INIT(G_VARIANT_TYPE("aa{sv}"));
	g_auto(GVariantDict) doc = G_VARIANT_DICT_INIT(NULL);
	GVariantIter iter;
	const gchar *name;
	GVariant *info;

	g_variant_iter_init(&iter, folders);
	while (g_variant_iter_next(&iter, "(&s@a{sv})", &name, &info)) {
		g_auto(GVariantDict) dict = G_VARIANT_DICT_INIT(info);
		g_variant_dict_insert(&dict, "name", "s", name);
		g_variant_builder_add_value(&list, g_variant_dict_end(&dict));
		g_variant_unref(info);
	}
	g_variant_dict_insert_value(&doc, "folders", g_variant_builder_end(&list));
	return g_variant_dict_end(&doc);
}

static gchar *
pr_ctl_folders_count(GVariant *info, const gchar *key)
{
	guint32 count = 0;

	if (!g_variant_lookup(info, key, "u", &count))
		return g_strdup("");
	return g_strdup_printf("%u", count);
}

static void
pr_ctl_folders_add_row(PrCtlTable *table, const gchar *name, GVariant *info)
{
	g_autofree gchar *messages = pr_ctl_folders_count(info, "messages");
	g_autofree gchar *unseen = pr_ctl_folders_count(info, "unseen");
	const gchar *special_use = "";
	gboolean subscribed = FALSE;
	const gchar *row[6];

	g_variant_lookup(info, "special-use", "&s", &special_use);
	g_variant_lookup(info, "subscribed", "b", &subscribed);
	row[0] = name;
	row[1] = messages;
	row[2] = unseen;
	row[3] = subscribed ? _("yes") : _("no");
	row[4] = special_use;
	row[5] = NULL;
	pr_ctl_table_add_row(table, row);
}

static void
pr_ctl_folders_print(GVariant *folders)
{
	const gchar *headers[] = { _("FOLDER"),	    _("MESSAGES"),    _("UNSEEN"),
				   _("SUBSCRIBED"), _("SPECIAL-USE"), NULL };
	g_autoptr(PrCtlTable) table = pr_ctl_table_new(headers);
	GVariantIter iter;
	const gchar *name;
	GVariant *info;

	pr_ctl_table_set_align_right(table, 1);
	pr_ctl_table_set_align_right(table, 2);
	g_variant_iter_init(&iter, folders);
	while (g_variant_iter_next(&iter, "(&s@a{sv})", &name, &info)) {
		pr_ctl_folders_add_row(table, name, info);
		g_variant_unref(info);
	}
	if (pr_ctl_table_get_n_rows(table) == 0) {
		g_print("%s\n", _("No folders yet; run “postroomctl sync”."));
		return;
	}
	pr_ctl_table_print(table);
}

gint
pr_ctl_folders(gint argc, gchar **argv)
{
	g_auto(PrCtlOptions) opts = { 0 };
	g_autoptr(PrCtlClient) client = NULL;
	g_autoptr(PrDBusImap4Service) service = NULL;
	g_autoptr(GVariant) folders = NULL;
	g_autoptr(GError) error = NULL;

	if (!pr_ctl_options_parse(&opts,
				  PR_CTL_OPTION_SERVICE | PR_CTL_OPTION_JSON | PR_CTL_OPTION_BUS,
				  NULL,
				  NULL,
				  _("List the folders of a service's local store (works offline)."),
				  &argc,
				  &argv))
		return PR_CTL_EXIT_USAGE;
	if (argc > 1)
		return pr_ctl_unexpected_argument(&opts, argv[1]);

	service = pr_ctl_open_service(&opts, &client, &error);
	if (service == NULL)
		return pr_ctl_fail(&opts, error);
	if (!pr_dbus_imap4_service_call_list_folders_sync(
		    service, pr_ctl_no_options(), &folders, NULL, &error))
		return pr_ctl_fail(&opts, error);
	if (opts.json)
		pr_ctl_json_output(pr_ctl_folders_to_json(folders));
	else
		pr_ctl_folders_print(folders);
	return PR_CTL_EXIT_OK;
}
