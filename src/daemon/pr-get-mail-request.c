/*
 * Copyright 2026 The Postroom developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#define G_LOG_DOMAIN "PrDaemon"

#include <glib/gi18n.h>

#include "pr-error.h"
#include "pr-get-mail-request.h"
#include "pr-options.h"

static const gchar *const pr_get_mail_choices_action[] = { "copy", "move", "populate", NULL };
static const gchar *const pr_get_mail_choices_messages[] = { "new", "all", "selection", NULL };
static const gchar *const pr_get_mail_choices_connection[] = { "already-connected",
							       "connect-and-disconnect",
							       "connect-and-stay-online",
							       NULL };
static const gchar *const pr_get_mail_choices_parts[] = {
	"headers", "body-text", "body-text-and-attachments", "attachments", "body-alternative-text",
	NULL
};
static const gchar *const pr_get_mail_choices_partial[] = { "none",
							    "body-text-only",
							    "attachments-only",
							    "body-text-and-attachments",
							    "cumulative",
							    "body-alternative-text",
							    NULL };

static const PrOptionSpec pr_get_mail_options[] = {
	{ "action", "s", pr_get_mail_choices_action },
	{ "messages", "s", pr_get_mail_choices_messages },
	{ "folder", "s", NULL },
	{ "ids", "at", NULL },
	{ "destination", "s", NULL },
	{ "connection", "s", pr_get_mail_choices_connection },
	{ "parts", "s", pr_get_mail_choices_parts },
	{ "partial", "s", pr_get_mail_choices_partial },
	{ "body-text-size-limit", "t", NULL },
	{ "attachment-size-limit", "t", NULL },
	{ "total-size-limit", "t", NULL },
	{ "max-message-size", "t", NULL },
};

/* The ids the options name: a selection, or the messages of a folder still without their
 * body. */
static GArray *
pr_get_mail_request_ids(GVariant *options, PrStore *store, GError **error)
{
	g_autoptr(GArray) ids = g_array_new(FALSE, FALSE, sizeof(guint64));
	const gchar *messages = "new";
	const gchar *folder_name = "INBOX";

	g_variant_lookup(options, "messages", "&s", &messages);
	g_variant_lookup(options, "folder", "&s", &folder_name);
	if (g_strcmp0(messages, "selection") == 0) {
		g_autoptr(GVariant) v =
			g_variant_lookup_value(options, "ids", G_VARIANT_TYPE("at"));
		gsize n = 0;
		const guint64 *list =
			v != NULL ? g_variant_get_fixed_array(v, &n, sizeof(guint64)) : NULL;
		if (n == 0) {
			g_set_error_literal(error,
					    PR_ERROR,
					    PR_ERROR_INVALID_ARGUMENT,
					    _("messages=selection needs a non-empty “ids”"));
			return NULL;
		}
		for (gsize i = 0; i < n; i++) {
			g_autoptr(PrStoreMessage) m = pr_store_get_message(store, list[i], error);
			if (m == NULL)
				return NULL;
			g_array_append_val(ids, list[i]);
		}
	} else {
		g_autoptr(GArray) missing = NULL;
		g_autoptr(PrStoreFolder) folder = pr_store_get_folder(store, folder_name, error);
		if (folder == NULL)
			return NULL;
		missing = pr_store_get_missing_bodies(store, folder->id, error);
		if (missing == NULL)
			return NULL;
		g_array_append_vals(ids, missing->data, missing->len);
	}
	return g_steal_pointer(&ids);
}

PrGetMailRequest *
pr_get_mail_request_new(GVariant *options, PrStore *store, GError **error)
{
	g_autoptr(PrGetMailRequest) request = g_new0(PrGetMailRequest, 1);
	const gchar *action = "populate";
	const gchar *connection = "already-connected";

	if (!pr_options_check(options,
			      PR_OPTIONS_KIND_OPTION,
			      pr_get_mail_options,
			      G_N_ELEMENTS(pr_get_mail_options),
			      error))
		return NULL;
	g_variant_lookup(options, "action", "&s", &action);
	g_variant_lookup(options, "connection", "&s", &connection);
	if (g_strcmp0(action, "populate") != 0) {
		/* TODO(get-mail): copy and move into local folders */
		g_set_error_literal(error,
				    PR_ERROR,
				    PR_ERROR_INVALID_ARGUMENT,
				    _("GetMail supports action “populate” only so far"));
		return NULL;
	}
	request->ids = pr_get_mail_request_ids(options, store, error);
	if (request->ids == NULL)
		return NULL;
	if (g_strcmp0(connection, "connect-and-disconnect") == 0)
		request->connection = PR_GET_MAIL_CONNECT_AND_DISCONNECT;
	else if (g_strcmp0(connection, "connect-and-stay-online") == 0)
		request->connection = PR_GET_MAIL_CONNECT_AND_STAY_ONLINE;
	else
		request->connection = PR_GET_MAIL_ALREADY_CONNECTED;
	return g_steal_pointer(&request);
}

void
pr_get_mail_request_free(PrGetMailRequest *request)
{
	g_clear_pointer(&request->ids, g_array_unref);
	g_free(request);
}
