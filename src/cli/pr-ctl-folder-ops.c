/*
 * Copyright 2026 The Postroom developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#define G_LOG_DOMAIN "PrCtl"

#include <glib/gi18n.h>

#include "pr-ctl.h"

/* subscribe, unsubscribe, mkdir, rename and rmdir: folder names in, an operation out. */
typedef enum {
	PR_CTL_FOLDER_OP_SUBSCRIBE,
	PR_CTL_FOLDER_OP_UNSUBSCRIBE,
	PR_CTL_FOLDER_OP_MKDIR,
	PR_CTL_FOLDER_OP_RENAME,
	PR_CTL_FOLDER_OP_RMDIR,
} PrCtlFolderOp;

typedef struct {
	gint n_args;
	const gchar *parameter_string;
	const gchar *summary;
} PrCtlFolderOpInfo;

static const PrCtlFolderOpInfo folder_ops[] = {
	[PR_CTL_FOLDER_OP_SUBSCRIBE] = { 1,
					 N_("FOLDER"),
					 N_("Subscribe to a folder on this machine (the “sync this "
					    "folder” flag that folder-sync=local-subscribed and "
					    "either use). The server's subscriptions follow the "
					    "subscription-update setting at the next full or "
					    "subscriptions synchronisation. Works offline.") },
	[PR_CTL_FOLDER_OP_UNSUBSCRIBE] = { 1,
					   N_("FOLDER"),
					   N_("Unsubscribe from a folder on this machine (see "
					      "“subscribe”). Works offline.") },
	[PR_CTL_FOLDER_OP_MKDIR] = { 1,
				     N_("FOLDER"),
				     N_("Create a folder: a server folder (its full name with the "
					"server's hierarchy delimiter, see “postroomctl folders”; "
					"needs a connection), or local:NAME on this machine only. "
					"A new server folder is subscribed.") },
	[PR_CTL_FOLDER_OP_RENAME] = { 2,
				      N_("FROM TO"),
				      N_("Rename a folder; its subfolders and the messages stored "
					 "here follow. Server folders need a connection; INBOX "
					 "cannot be renamed.") },
	[PR_CTL_FOLDER_OP_RMDIR] = { 1,
				     N_("FOLDER"),
				     N_("Delete a folder WITH its messages and subfolders, on the "
					"server too for a server folder (which needs a "
					"connection). "
					"INBOX cannot be deleted.") },
};

static gboolean
pr_ctl_folder_op_start(PrCtlFolderOp op,
		       PrDBusImap4Service *service,
		       gchar **names,
		       gchar **path,
		       GError **error)
{
	switch (op) {
	case PR_CTL_FOLDER_OP_SUBSCRIBE:
		return pr_dbus_imap4_service_call_subscribe_sync(
			service, names[0], pr_ctl_no_options(), path, NULL, error);
	case PR_CTL_FOLDER_OP_UNSUBSCRIBE:
		return pr_dbus_imap4_service_call_unsubscribe_sync(
			service, names[0], pr_ctl_no_options(), path, NULL, error);
	case PR_CTL_FOLDER_OP_MKDIR:
		return pr_dbus_imap4_service_call_create_folder_sync(
			service, names[0], pr_ctl_no_options(), path, NULL, error);
	case PR_CTL_FOLDER_OP_RENAME:
		return pr_dbus_imap4_service_call_rename_folder_sync(
			service, names[0], names[1], pr_ctl_no_options(), path, NULL, error);
	case PR_CTL_FOLDER_OP_RMDIR:
		return pr_dbus_imap4_service_call_delete_folder_sync(
			service, names[0], pr_ctl_no_options(), path, NULL, error);
	default:
		g_assert_not_reached();
	}
}

static void
pr_ctl_folder_op_print_result(PrCtlFolderOp op, gchar **names)
{
	g_autofree gchar *name = pr_ctl_sanitize(names[0]);
	g_autofree gchar *to = names[1] != NULL ? pr_ctl_sanitize(names[1]) : NULL;

	switch (op) {
	case PR_CTL_FOLDER_OP_SUBSCRIBE:
		g_print(_("Subscribed to “%s”.\n"), name);
		break;
	case PR_CTL_FOLDER_OP_UNSUBSCRIBE:
		g_print(_("Unsubscribed from “%s”.\n"), name);
		break;
	case PR_CTL_FOLDER_OP_MKDIR:
		g_print(_("Created folder “%s”.\n"), name);
		break;
	case PR_CTL_FOLDER_OP_RENAME:
		g_print(_("Renamed “%s” to “%s”.\n"), name, to);
		break;
	case PR_CTL_FOLDER_OP_RMDIR:
		g_print(_("Deleted folder “%s”.\n"), name);
		break;
	default:
		g_assert_not_reached();
	}
}

/* What to do about a refused request, after the error itself. */
static void
pr_ctl_folder_op_hint(const PrCtlOptions *opts, const GError *error)
{
	if (pr_ctl_error_has_name(error, "NotConnected")) {
		if (opts->service != NULL)
			g_printerr(_("Server folders change only online: connect first with "
				     "“postroomctl connect --service %s”.\n"),
				   opts->service);
		else
			g_printerr("%s\n",
				   _("Server folders change only online: connect first with "
				     "“postroomctl connect”."));
	} else if (pr_ctl_error_has_name(error, "NotFound")) {
		g_printerr("%s\n", _("“postroomctl folders” lists the folders."));
	}
}

static gint
pr_ctl_folder_op_run(gint argc, gchar **argv, PrCtlFolderOp op)
{
	const PrCtlFolderOpInfo *info = &folder_ops[op];
	g_auto(PrCtlOptions) opts = { 0 };
	g_autoptr(PrCtlClient) client = NULL;
	g_autoptr(PrDBusImap4Service) service = NULL;
	g_autoptr(GError) error = NULL;
	g_autofree gchar *path = NULL;
	g_auto(GStrv) names = NULL;
	gint rc;

	if (!pr_ctl_options_parse(&opts,
				  PR_CTL_OPTION_SERVICE | PR_CTL_OPTION_JSON |
					  PR_CTL_OPTION_NO_WAIT | PR_CTL_OPTION_BUS,
				  NULL,
				  _(info->parameter_string),
				  _(info->summary),
				  &argc,
				  &argv))
		return PR_CTL_EXIT_USAGE;
	/* a tree sync ends each of them: not news in a log */
	opts.no_plain_progress = TRUE;
	if (argc - 1 < info->n_args) {
		/* TRANSLATORS: %s is e.g. "FOLDER" or "FROM TO" */
		return pr_ctl_usage_error(&opts, _("name %s"), _(info->parameter_string));
	}
	if (argc - 1 > info->n_args)
		return pr_ctl_unexpected_argument(&opts, argv[info->n_args + 1]);
	names = pr_ctl_args_to_utf8(info->n_args, argv + 1, &error);
	if (names == NULL)
		return pr_ctl_fail(&opts, error);
	for (gint i = 0; i < info->n_args; i++) {
		if (names[i][0] == '\0')
			return pr_ctl_usage_error(&opts, "%s", _("a folder name cannot be empty"));
	}

	service = pr_ctl_open_service(&opts, &client, &error);
	if (service == NULL)
		return pr_ctl_fail(&opts, error);
	if (!pr_ctl_folder_op_start(op, service, names, &path, &error)) {
		rc = pr_ctl_fail(&opts, error);
		pr_ctl_folder_op_hint(&opts, error);
		return rc;
	}
	rc = pr_ctl_operation_run(client, &opts, path, NULL);
	if (rc == PR_CTL_EXIT_OK && !opts.json && !opts.no_wait)
		pr_ctl_folder_op_print_result(op, names);
	return rc;
}

gint
pr_ctl_subscribe(gint argc, gchar **argv)
{
	return pr_ctl_folder_op_run(argc, argv, PR_CTL_FOLDER_OP_SUBSCRIBE);
}

gint
pr_ctl_unsubscribe(gint argc, gchar **argv)
{
	return pr_ctl_folder_op_run(argc, argv, PR_CTL_FOLDER_OP_UNSUBSCRIBE);
}

gint
pr_ctl_mkdir(gint argc, gchar **argv)
{
	return pr_ctl_folder_op_run(argc, argv, PR_CTL_FOLDER_OP_MKDIR);
}

gint
pr_ctl_rename(gint argc, gchar **argv)
{
	return pr_ctl_folder_op_run(argc, argv, PR_CTL_FOLDER_OP_RENAME);
}

gint
pr_ctl_rmdir(gint argc, gchar **argv)
{
	return pr_ctl_folder_op_run(argc, argv, PR_CTL_FOLDER_OP_RMDIR);
}
