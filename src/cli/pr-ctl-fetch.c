/*
 * Copyright 2026 The Postroom developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#define G_LOG_DOMAIN "PrCtl"

#include <glib/gi18n.h>

#include "pr-ctl.h"

static void
pr_ctl_fetch_print_result(GVariant *props)
{
	g_autoptr(GVariant) result =
		g_variant_lookup_value(props, "Result", G_VARIANT_TYPE_VARDICT);
	g_autoptr(GVariant) ids = NULL;
	guint64 bytes = 0;
	guint32 count = 0;
	g_autofree gchar *size = NULL;

	if (result != NULL)
		ids = g_variant_lookup_value(result, "ids", G_VARIANT_TYPE("at"));
	if (ids != NULL)
		count = (guint32)g_variant_n_children(ids);
	else
		g_variant_lookup(props, "MessagesDone", "u", &count);
	g_variant_lookup(props, "BytesDone", "t", &bytes);
	size = g_format_size(bytes);
	/* TRANSLATORS: the second %s is a size such as "1.2 MB" */
	g_print(ngettext("Fetched %u message (%s).\n", "Fetched %u messages (%s).\n", count),
		count,
		size);
}

static GVariant *
pr_ctl_fetch_ids(gint argc, gchar **argv, GError **error)
{
	g_autoptr(GArray) ids = g_array_new(FALSE, FALSE, sizeof(guint64));

	for (gint i = 0; i < argc; i++) {
		guint64 id = 0;
		if (!pr_ctl_parse_message_id(argv[i], &id, error))
			return NULL;
		g_array_append_val(ids, id);
	}
	return g_variant_ref_sink(g_variant_new_fixed_array(
		G_VARIANT_TYPE_UINT64, ids->data, ids->len, sizeof(guint64)));
}

static GVariant *
pr_ctl_fetch_options(GVariant *ids, const gchar *parts)
{
	g_auto(GVariantDict) dict = G_VARIANT_DICT_INIT(NULL);

	g_variant_dict_insert(&dict, "action", "s", "populate");
	g_variant_dict_insert(&dict, "messages", "s", "selection");
	g_variant_dict_insert_value(&dict, "ids", ids);
	if (parts != NULL)
		g_variant_dict_insert(&dict, "parts", "s", parts);
	return g_variant_dict_end(&dict);
}

gint
pr_ctl_fetch(gint argc, gchar **argv)
{
	g_auto(PrCtlOptions) opts = { 0 };
	g_autoptr(PrCtlClient) client = NULL;
	g_autoptr(PrDBusImap4Service) service = NULL;
	g_autoptr(GError) error = NULL;
	g_autofree gchar *parts = NULL;
	g_autofree gchar *path = NULL;
	g_autoptr(GVariant) ids = NULL;
	const GOptionEntry entries[] = {
		{ "parts",
		  0,
		  0,
		  G_OPTION_ARG_STRING,
		  &parts,
		  N_("headers, body-text, body-text-and-attachments, attachments or "
		     "body-alternative-text (default: the get-mail-parts setting)"),
		  N_("PARTS") },
		{ NULL }
	};

	if (!pr_ctl_options_parse(&opts,
				  PR_CTL_OPTION_SERVICE | PR_CTL_OPTION_JSON |
					  PR_CTL_OPTION_NO_WAIT | PR_CTL_OPTION_BUS,
				  entries,
				  _("ID…"),
				  _("Download messages into the local store, by message id (see "
				    "“postroomctl messages”)."),
				  &argc,
				  &argv))
		return PR_CTL_EXIT_USAGE;
	if (argc < 2)
		return pr_ctl_usage_error(&opts, "%s", _("give at least one message id"));
	ids = pr_ctl_fetch_ids(argc - 1, argv + 1, &error);
	if (ids == NULL)
		return pr_ctl_fail(&opts, error);

	service = pr_ctl_open_service(&opts, &client, &error);
	if (service == NULL)
		return pr_ctl_fail(&opts, error);
	if (!pr_dbus_imap4_service_call_get_mail_sync(
		    service, pr_ctl_fetch_options(ids, parts), &path, NULL, &error))
		return pr_ctl_fail(&opts, error);
	return pr_ctl_operation_run(client, &opts, path, pr_ctl_fetch_print_result);
}
