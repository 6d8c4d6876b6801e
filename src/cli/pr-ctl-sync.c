/*
 * Copyright 2026 The Postroom developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#define G_LOG_DOMAIN "PrCtl"

#include <glib/gi18n.h>

#include "pr-ctl.h"

static const gchar *const sync_scopes[] = { "full",    "tree",		"inbox-new",
					    "folders", "subscriptions", NULL };

static void
pr_ctl_sync_print_result(GVariant *props)
{
	guint32 folders = 0;
	guint32 messages = 0;
	guint64 bytes = 0;
	g_autofree gchar *folders_text = NULL;
	g_autofree gchar *messages_text = NULL;
	g_autofree gchar *size = NULL;

	g_variant_lookup(props, "FoldersDone", "u", &folders);
	g_variant_lookup(props, "MessagesDone", "u", &messages);
	g_variant_lookup(props, "BytesDone", "t", &bytes);
	folders_text = g_strdup_printf(ngettext("%u folder", "%u folders", folders), folders);
	messages_text = g_strdup_printf(ngettext("%u message", "%u messages", messages), messages);
	size = g_format_size(bytes);
	/* TRANSLATORS: e.g. "Synchronised: 5 folders, 2000 messages, 12.3 MB." */
	g_print(_("Synchronised: %s, %s, %s.\n"), folders_text, messages_text, size);
}

/* The scope is "folders" when folders are named, else "full", unless --scope says. */
static gint
pr_ctl_sync_check(const PrCtlOptions *opts, gchar **scope, gboolean connect, gint n_folders)
{
	if (*scope == NULL)
		*scope = g_strdup(n_folders > 0 ? "folders" : "full");
	if (!g_strv_contains(sync_scopes, *scope))
		return pr_ctl_usage_error(opts,
					  "%s",
					  _("--scope must be full, tree, inbox-new, folders or "
					    "subscriptions"));
	if (g_strcmp0(*scope, "folders") == 0 && n_folders == 0)
		return pr_ctl_usage_error(opts, "%s", _("--scope folders needs FOLDER arguments"));
	if (g_strcmp0(*scope, "folders") != 0 && n_folders > 0)
		return pr_ctl_usage_error(opts, "%s", _("FOLDER arguments need --scope folders"));
	if (connect && g_strcmp0(*scope, "full") != 0)
		return pr_ctl_usage_error(
			opts, "%s", _("--connect always runs a full synchronisation"));
	return PR_CTL_EXIT_OK;
}

/* --cancel-background takes no other option and no FOLDER. */
static gint
pr_ctl_sync_check_cancel(const PrCtlOptions *opts,
			 const gchar *scope,
			 gboolean connect,
			 gboolean background,
			 gint n_folders)
{
	if (scope != NULL || connect || background || opts->no_wait || n_folders > 0)
		return pr_ctl_usage_error(opts,
					  "%s",
					  _("--cancel-background takes no FOLDER and none of "
					    "--scope, --connect, --background and --no-wait"));
	return PR_CTL_EXIT_OK;
}

static gint
pr_ctl_sync_cancel_background(const PrCtlOptions *opts, PrDBusImap4Service *service)
{
	g_autoptr(GError) error = NULL;
	g_auto(GVariantDict) dict = G_VARIANT_DICT_INIT(NULL);
	gboolean running = pr_dbus_imap4_service_get_background_sync(service);

	if (!pr_dbus_imap4_service_call_cancel_background_sync_sync(
		    service, pr_ctl_no_options(), NULL, &error))
		return pr_ctl_fail(opts, error);
	if (!opts->json) {
		g_print("%s\n",
			running ? _("Background synchronisation cancelled.")
				: _("No background synchronisation was running."));
		return PR_CTL_EXIT_OK;
	}
	g_variant_dict_insert(&dict, "service", "s", pr_dbus_imap4_service_get_id(service));
	g_variant_dict_insert(&dict, "cancelled", "b", running);
	pr_ctl_json_output(g_variant_dict_end(&dict));
	return PR_CTL_EXIT_OK;
}

static gboolean
pr_ctl_sync_start(PrDBusImap4Service *service,
		  const gchar *scope,
		  const gchar *const *folders,
		  gboolean connect,
		  gchar **path,
		  GError **error)
{
	if (connect)
		return pr_dbus_imap4_service_call_connect_and_sync_sync(
			service, "sync", pr_ctl_no_options(), path, NULL, error);
	return pr_dbus_imap4_service_call_synchronise_sync(
		service, scope, folders, pr_ctl_no_options(), path, NULL, error);
}

gint
pr_ctl_sync(gint argc, gchar **argv)
{
	g_auto(PrCtlOptions) opts = { 0 };
	g_autoptr(PrCtlClient) client = NULL;
	g_autoptr(PrDBusImap4Service) service = NULL;
	g_autoptr(GError) error = NULL;
	g_autofree gchar *scope = NULL;
	g_autofree gchar *path = NULL;
	g_auto(GStrv) folders = NULL;
	gboolean connect = FALSE;
	gboolean background = FALSE;
	gboolean cancel_background = FALSE;
	const GOptionEntry entries[] = {
		{ "scope",
		  0,
		  0,
		  G_OPTION_ARG_STRING,
		  &scope,
		  N_("full (default), tree, inbox-new, folders (default with FOLDER) or "
		     "subscriptions"),
		  N_("SCOPE") },
		{ "connect",
		  0,
		  0,
		  G_OPTION_ARG_NONE,
		  &connect,
		  N_("Connect first, then run a full synchronisation (ConnectAndSync)"),
		  NULL },
		{ "background",
		  0,
		  0,
		  G_OPTION_ARG_NONE,
		  &background,
		  N_("Start the synchronisation and return at once, printing the operation's "
		     "path (“postroomctl wait” waits for it)"),
		  NULL },
		{ "cancel-background",
		  0,
		  0,
		  G_OPTION_ARG_NONE,
		  &cancel_background,
		  N_("Stop the running background synchronisation (CancelBackgroundSync)"),
		  NULL },
		{ NULL }
	};
	gint rc;

	if (!pr_ctl_options_parse(
		    &opts,
		    PR_CTL_OPTION_SERVICE | PR_CTL_OPTION_JSON | PR_CTL_OPTION_NO_WAIT |
			    PR_CTL_OPTION_BUS,
		    entries,
		    _("[FOLDER…]"),
		    _("Synchronise a service with its server: everything, the folder "
		      "list, new inbox messages, the named folders or subscriptions. "
		      "With --background it returns at once; with --cancel-background "
		      "it stops the synchronisation that runs in the background."),
		    &argc,
		    &argv))
		return PR_CTL_EXIT_USAGE;
	if (cancel_background)
		rc = pr_ctl_sync_check_cancel(&opts, scope, connect, background, argc - 1);
	else
		rc = pr_ctl_sync_check(&opts, &scope, connect, argc - 1);
	if (rc != PR_CTL_EXIT_OK)
		return rc;
	/* the same as --no-wait, named for what it means here */
	if (background)
		opts.no_wait = TRUE;

	service = pr_ctl_open_service(&opts, &client, &error);
	if (service == NULL)
		return pr_ctl_fail(&opts, error);
	if (cancel_background)
		return pr_ctl_sync_cancel_background(&opts, service);
	folders = pr_ctl_args_to_utf8(argc - 1, argv + 1, &error);
	if (folders == NULL)
		return pr_ctl_fail(&opts, error);
	if (!pr_ctl_sync_start(
		    service, scope, (const gchar *const *)folders, connect, &path, &error))
		return pr_ctl_fail(&opts, error);
	return pr_ctl_operation_run(client, &opts, path, pr_ctl_sync_print_result);
}
