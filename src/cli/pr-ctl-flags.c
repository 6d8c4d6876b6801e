/*
 * Copyright 2026 The Postroom developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#define G_LOG_DOMAIN "PrCtl"

#include <glib/gi18n.h>

#include "pr-ctl.h"

/* flag, delete and undelete: flag changes of messages on the server, by message id. */

static void
pr_ctl_flags_print_result(GVariant *props)
{
	g_autoptr(GVariant) result =
		g_variant_lookup_value(props, "Result", G_VARIANT_TYPE_VARDICT);
	g_autoptr(GVariant) conflicts = NULL;
	g_autofree const gchar **unsupported = NULL;
	guint32 changed = 0;

	if (result == NULL)
		return;
	g_variant_lookup(result, "changed", "u", &changed);
	g_print(ngettext("Changed %u message.\n", "Changed %u messages.\n", changed), changed);
	conflicts = g_variant_lookup_value(result, "conflicts", G_VARIANT_TYPE("at"));
	if (conflicts != NULL && g_variant_n_children(conflicts) > 0) {
		gsize n = 0;
		const guint64 *ids = g_variant_get_fixed_array(conflicts, &n, sizeof(guint64));
		g_autoptr(GString) list = g_string_new(NULL);

		for (gsize i = 0; i < n; i++)
			g_string_append_printf(
				list, "%s%" G_GUINT64_FORMAT, i > 0 ? " " : "", ids[i]);
		/* TRANSLATORS: %s is a list of message ids */
		g_print(_("Changed by another client meanwhile, left alone: %s\n"), list->str);
	}
	if (g_variant_lookup(result, "unsupported-flags", "^a&s", &unsupported) &&
	    unsupported[0] != NULL) {
		g_autofree gchar *joined = g_strjoinv(" ", (gchar **)unsupported);
		/* TRANSLATORS: %s is a list of IMAP keywords */
		g_print(_("Not kept by the folder, not set: %s\n"), joined);
	}
}

static GVariant *
pr_ctl_flags_ids(gint argc, gchar **argv, GError **error)
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

typedef enum {
	PR_CTL_FLAGS_SET,
	PR_CTL_FLAGS_DELETE,
	PR_CTL_FLAGS_UNDELETE,
} PrCtlFlagsAction;

static gint
pr_ctl_flags_run(gint argc, gchar **argv, PrCtlFlagsAction action)
{
	g_auto(PrCtlOptions) opts = { 0 };
	g_autoptr(PrCtlClient) client = NULL;
	g_autoptr(PrDBusImap4Service) service = NULL;
	g_autoptr(GError) error = NULL;
	g_autofree gchar *path = NULL;
	g_autoptr(GVariant) ids = NULL;
	g_auto(GStrv) add = NULL;
	g_auto(GStrv) remove = NULL;
	const gchar *const none[] = { NULL };
	const GOptionEntry entries[] = {
		{ "add",
		  0,
		  0,
		  G_OPTION_ARG_STRING_ARRAY,
		  &add,
		  N_("Set FLAG (\\Seen, \\Flagged, … or a keyword); may be repeated"),
		  N_("FLAG") },
		{ "remove",
		  0,
		  0,
		  G_OPTION_ARG_STRING_ARRAY,
		  &remove,
		  N_("Clear FLAG; may be repeated"),
		  N_("FLAG") },
		{ NULL }
	};
	const gchar *summary = action == PR_CTL_FLAGS_SET
				       ? _("Set and clear flags of messages on the server, by "
					   "message id (see “postroomctl messages”).")
			       : action == PR_CTL_FLAGS_DELETE
				       ? _("Mark messages \\Deleted on the server, by message id; "
					   "they are expunged after the folder's next "
					   "synchronisation.")
				       : _("Clear \\Deleted of messages on the server, by message "
					   "id.");

	if (!pr_ctl_options_parse(&opts,
				  PR_CTL_OPTION_SERVICE | PR_CTL_OPTION_JSON |
					  PR_CTL_OPTION_NO_WAIT | PR_CTL_OPTION_BUS,
				  action == PR_CTL_FLAGS_SET ? entries : NULL,
				  _("ID…"),
				  summary,
				  &argc,
				  &argv))
		return PR_CTL_EXIT_USAGE;
	if (argc < 2)
		return pr_ctl_usage_error(&opts, "%s", _("give at least one message id"));
	if (action == PR_CTL_FLAGS_SET && add == NULL && remove == NULL)
		return pr_ctl_usage_error(&opts, "%s", _("give --add or --remove"));
	ids = pr_ctl_flags_ids(argc - 1, argv + 1, &error);
	if (ids == NULL)
		return pr_ctl_fail(&opts, error);

	service = pr_ctl_open_service(&opts, &client, &error);
	if (service == NULL)
		return pr_ctl_fail(&opts, error);
	switch (action) {
	case PR_CTL_FLAGS_SET:
		if (!pr_dbus_imap4_service_call_set_flags_sync(
			    service,
			    ids,
			    add != NULL ? (const gchar *const *)add : none,
			    remove != NULL ? (const gchar *const *)remove : none,
			    g_variant_new("a{sv}", NULL),
			    &path,
			    NULL,
			    &error))
			return pr_ctl_fail(&opts, error);
		break;
	case PR_CTL_FLAGS_DELETE:
		if (!pr_dbus_imap4_service_call_delete_messages_sync(
			    service, ids, g_variant_new("a{sv}", NULL), &path, NULL, &error))
			return pr_ctl_fail(&opts, error);
		break;
	case PR_CTL_FLAGS_UNDELETE:
	default:
		if (!pr_dbus_imap4_service_call_undelete_messages_sync(
			    service, ids, g_variant_new("a{sv}", NULL), &path, NULL, &error))
			return pr_ctl_fail(&opts, error);
		break;
	}
	return pr_ctl_operation_run(client, &opts, path, pr_ctl_flags_print_result);
}

gint
pr_ctl_flag(gint argc, gchar **argv)
{
	return pr_ctl_flags_run(argc, argv, PR_CTL_FLAGS_SET);
}

gint
pr_ctl_delete(gint argc, gchar **argv)
{
	return pr_ctl_flags_run(argc, argv, PR_CTL_FLAGS_DELETE);
}

gint
pr_ctl_undelete(gint argc, gchar **argv)
{
	return pr_ctl_flags_run(argc, argv, PR_CTL_FLAGS_UNDELETE);
}
