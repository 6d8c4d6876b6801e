/*
 * Copyright 2026 The Postroom developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#define G_LOG_DOMAIN "PrCtl"

#include <glib/gi18n.h>

#include "pr-ctl.h"

#define PR_CTL_MESSAGES_FROM_MAX    24
#define PR_CTL_MESSAGES_SUBJECT_MAX 50

/* a(ta{sv}) -> {"folder": ..., "messages": [{"id": ..., <the message's keys>}, ...]} */
static GVariant *
pr_ctl_messages_to_json(const gchar *folder, GVariant *messages)
{
	g_auto(GVariantBuilder) list = G_VARIANT_BUILDER_INIT(G_VARIANT_TYPE("aa{sv}"));
	g_auto(GVariantDict) doc = G_VARIANT_DICT_INIT(NULL);
	GVariantIter iter;
	guint64 id;
	GVariant *info;

	g_variant_iter_init(&iter, messages);
	while (g_variant_iter_next(&iter, "(t@a{sv})", &id, &info)) {
		g_auto(GVariantDict) dict = G_VARIANT_DICT_INIT(info);
		g_variant_dict_insert(&dict, "id", "t", id);
		g_variant_builder_add_value(&list, g_variant_dict_end(&dict));
		g_variant_unref(info);
	}
	g_variant_dict_insert(&doc, "folder", "s", folder);
	g_variant_dict_insert_value(&doc, "messages", g_variant_builder_end(&list));
	return g_variant_dict_end(&doc);
}

static gchar *
pr_ctl_messages_date(GVariant *info)
{
	gint64 date = 0;

	if (!g_variant_lookup(info, "date", "x", &date) || date == 0)
		g_variant_lookup(info, "internal-date", "x", &date);
	if (date == 0)
		return g_strdup("");
	return pr_ctl_format_time(date);
}

static gchar *
pr_ctl_messages_flags(GVariant *info)
{
	g_autofree const gchar **flags = NULL;

	if (!g_variant_lookup(info, "flags", "^a&s", &flags) || flags == NULL)
		return g_strdup("");
	return g_strjoinv(" ", (gchar **)flags);
}

static void
pr_ctl_messages_add_row(PrCtlTable *table, guint64 id, GVariant *info)
{
	g_autofree gchar *id_text = g_strdup_printf("%" G_GUINT64_FORMAT, id);
	g_autofree gchar *uid_text = NULL;
	g_autofree gchar *date = pr_ctl_messages_date(info);
	g_autofree gchar *flags = pr_ctl_messages_flags(info);
	const gchar *from = "";
	const gchar *subject = "";
	const gchar *download = "";
	const gchar *row[8];
	guint32 uid = 0;

	g_variant_lookup(info, "from", "&s", &from);
	g_variant_lookup(info, "subject", "&s", &subject);
	g_variant_lookup(info, "download", "&s", &download);
	uid_text = g_variant_lookup(info, "uid", "u", &uid) ? g_strdup_printf("%u", uid)
							    : g_strdup("");
	row[0] = id_text;
	row[1] = uid_text;
	row[2] = date;
	row[3] = from;
	row[4] = subject;
	row[5] = flags;
	row[6] = download;
	row[7] = NULL;
	pr_ctl_table_add_row(table, row);
}

static void
pr_ctl_messages_print(GVariant *messages)
{
	const gchar *headers[] = { _("ID"),	 _("UID"),   _("DATE"),	    _("FROM"),
				   _("SUBJECT"), _("FLAGS"), _("DOWNLOAD"), NULL };
	g_autoptr(PrCtlTable) table = pr_ctl_table_new(headers);
	GVariantIter iter;
	guint64 id;
	GVariant *info;

	pr_ctl_table_set_align_right(table, 0);
	pr_ctl_table_set_align_right(table, 1);
	pr_ctl_table_set_max_width(table, 3, PR_CTL_MESSAGES_FROM_MAX);
	pr_ctl_table_set_max_width(table, 4, PR_CTL_MESSAGES_SUBJECT_MAX);
	g_variant_iter_init(&iter, messages);
	while (g_variant_iter_next(&iter, "(t@a{sv})", &id, &info)) {
		pr_ctl_messages_add_row(table, id, info);
		g_variant_unref(info);
	}
	if (pr_ctl_table_get_n_rows(table) == 0) {
		g_print("%s\n", _("No messages."));
		return;
	}
	pr_ctl_table_print(table);
}

static GVariant *
pr_ctl_messages_query(gint64 offset, gint64 limit, gboolean unseen)
{
	g_auto(GVariantDict) dict = G_VARIANT_DICT_INIT(NULL);

	if (offset > 0)
		g_variant_dict_insert(&dict, "offset", "u", (guint32)offset);
	if (limit > 0)
		g_variant_dict_insert(&dict, "limit", "u", (guint32)limit);
	if (unseen)
		g_variant_dict_insert(&dict, "unseen-only", "b", TRUE);
	return g_variant_dict_end(&dict);
}

gint
pr_ctl_messages(gint argc, gchar **argv)
{
	g_auto(PrCtlOptions) opts = { 0 };
	g_autoptr(PrCtlClient) client = NULL;
	g_autoptr(PrDBusImap4Service) service = NULL;
	g_autoptr(GVariant) messages = NULL;
	g_autoptr(GError) error = NULL;
	gint64 offset = 0;
	gint64 limit = 0;
	gboolean unseen = FALSE;
	const GOptionEntry entries[] = { { "limit",
					   0,
					   0,
					   G_OPTION_ARG_INT64,
					   &limit,
					   N_("List at most N messages (0: all)"),
					   N_("N") },
					 { "offset",
					   0,
					   0,
					   G_OPTION_ARG_INT64,
					   &offset,
					   N_("Skip the first N messages"),
					   N_("N") },
					 { "unseen",
					   0,
					   0,
					   G_OPTION_ARG_NONE,
					   &unseen,
					   N_("Only messages not yet seen"),
					   NULL },
					 { NULL } };

	if (!pr_ctl_options_parse(
		    &opts,
		    PR_CTL_OPTION_SERVICE | PR_CTL_OPTION_JSON | PR_CTL_OPTION_BUS,
		    entries,
		    _("FOLDER"),
		    _("List the messages of a folder in the local store, oldest first "
		      "(by UID); the ID column is what “show” and “fetch” take."),
		    &argc,
		    &argv))
		return PR_CTL_EXIT_USAGE;
	if (argc < 2)
		return pr_ctl_usage_error(&opts, "%s", _("name the FOLDER"));
	if (argc > 2)
		return pr_ctl_unexpected_argument(&opts, argv[2]);
	if (offset < 0 || offset > G_MAXUINT32 || limit < 0 || limit > G_MAXUINT32)
		return pr_ctl_usage_error(
			&opts, "%s", _("--offset and --limit must be between 0 and 4294967295"));
	if (!pr_ctl_check_utf8(argv[1], &error))
		return pr_ctl_fail(&opts, error);

	service = pr_ctl_open_service(&opts, &client, &error);
	if (service == NULL)
		return pr_ctl_fail(&opts, error);
	if (!pr_dbus_imap4_service_call_list_messages_sync(
		    service,
		    argv[1],
		    pr_ctl_messages_query(offset, limit, unseen),
		    &messages,
		    NULL,
		    &error))
		return pr_ctl_fail(&opts, error);
	if (opts.json)
		pr_ctl_json_output(pr_ctl_messages_to_json(argv[1], messages));
	else
		pr_ctl_messages_print(messages);
	return PR_CTL_EXIT_OK;
}
