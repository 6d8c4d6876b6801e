/*
 * Copyright 2026 The Postroom developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#define G_LOG_DOMAIN "PrCtl"

#include <gio/gunixfdlist.h>
#include <gio/gunixinputstream.h>
#include <gio/gunixoutputstream.h>
#include <glib/gi18n.h>
#include <stdio.h>
#include <unistd.h>

#include "pr-ctl.h"

static GVariant *
pr_ctl_show_get_message(PrDBusImap4Service *service, guint64 id, gint *fd, GError **error)
{
	g_autoptr(GUnixFDList) fd_list = NULL;
	g_autoptr(GVariant) handle = NULL;
	g_autoptr(GVariant) info = NULL;
	gint32 index;

	if (!pr_dbus_imap4_service_call_get_message_sync(
		    service, id, pr_ctl_no_options(), NULL, &info, &handle, &fd_list, NULL, error))
		return NULL;
	index = g_variant_get_handle(handle);
	if (fd_list == NULL || index < 0 || index >= g_unix_fd_list_get_length(fd_list)) {
		g_set_error_literal(error,
				    G_DBUS_ERROR,
				    G_DBUS_ERROR_INVALID_ARGS,
				    _("GetMessage replied without a file descriptor"));
		return NULL;
	}
	*fd = g_unix_fd_list_get(fd_list, index, error);
	if (*fd < 0)
		return NULL;
	return g_steal_pointer(&info);
}

static gboolean
pr_ctl_show_copy(gint fd, GError **error)
{
	g_autoptr(GInputStream) input = g_unix_input_stream_new(fd, TRUE);
	g_autoptr(GOutputStream) output = g_unix_output_stream_new(STDOUT_FILENO, FALSE);

	fflush(stdout);
	return g_output_stream_splice(
		       output, input, G_OUTPUT_STREAM_SPLICE_CLOSE_SOURCE, NULL, error) >= 0;
}

static void
pr_ctl_show_hint(const PrCtlOptions *opts, const gchar *id)
{
	if (opts->service != NULL)
		g_printerr(_("Download it with “postroomctl fetch --service %s %s”.\n"),
			   opts->service,
			   id);
	else
		g_printerr(_("Download it with “postroomctl fetch %s”.\n"), id);
}

gint
pr_ctl_show(gint argc, gchar **argv)
{
	g_auto(PrCtlOptions) opts = { 0 };
	g_autoptr(PrCtlClient) client = NULL;
	g_autoptr(PrDBusImap4Service) service = NULL;
	g_autoptr(GVariant) info = NULL;
	g_autoptr(GError) error = NULL;
	guint64 id = 0;
	gint fd = -1;

	if (!pr_ctl_options_parse(&opts,
				  PR_CTL_OPTION_SERVICE | PR_CTL_OPTION_JSON | PR_CTL_OPTION_BUS,
				  NULL,
				  _("ID"),
				  _("Write a message as stored (RFC 5322) to standard output. With "
				    "--json, print its details instead."),
				  &argc,
				  &argv))
		return PR_CTL_EXIT_USAGE;
	if (argc < 2)
		return pr_ctl_usage_error(&opts, "%s", _("give a message ID"));
	if (argc > 2)
		return pr_ctl_unexpected_argument(&opts, argv[2]);
	if (!pr_ctl_parse_message_id(argv[1], &id, &error))
		return pr_ctl_fail(&opts, error);

	service = pr_ctl_open_service(&opts, &client, &error);
	if (service == NULL)
		return pr_ctl_fail(&opts, error);
	info = pr_ctl_show_get_message(service, id, &fd, &error);
	if (info == NULL) {
		gint rc = pr_ctl_fail(&opts, error);
		if (pr_ctl_error_has_name(error, "NotDownloaded"))
			pr_ctl_show_hint(&opts, argv[1]);
		return rc;
	}
	if (opts.json) {
		close(fd);
		pr_ctl_json_output(info);
		return PR_CTL_EXIT_OK;
	}
	/* a reader that stopped early (| head) got what it wanted */
	if (!pr_ctl_show_copy(fd, &error) &&
	    !g_error_matches(error, G_IO_ERROR, G_IO_ERROR_BROKEN_PIPE))
		return pr_ctl_fail(&opts, error);
	return PR_CTL_EXIT_OK;
}
