/*
 * Copyright 2026 The Postroom developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#define G_LOG_DOMAIN "PrDaemon"

#include <glib/gi18n.h>

#include "pr-error.h"
#include "pr-flags-request.h"
#include "pr-options.h"
#include "pr-sync.h"

void
pr_flags_request_free(PrFlagsRequest *request)
{
	g_clear_pointer(&request->ids, g_array_unref);
	g_strfreev(request->add);
	g_strfreev(request->remove);
	g_free(request);
}

static gchar **
pr_flags_request_normalize(const gchar *const *flags, GError **error)
{
	g_autoptr(GPtrArray) out = g_ptr_array_new_with_free_func(g_free);

	for (guint i = 0; flags != NULL && flags[i] != NULL; i++) {
		gchar *flag = pr_sync_flag_normalize(flags[i], error);
		gboolean seen = FALSE;

		if (flag == NULL)
			return NULL;
		for (guint j = 0; j < out->len && !seen; j++)
			seen = g_ascii_strcasecmp(g_ptr_array_index(out, j), flag) == 0;
		if (seen)
			g_free(flag);
		else
			g_ptr_array_add(out, flag);
	}
	g_ptr_array_add(out, NULL);
	return (gchar **)g_ptr_array_free(g_steal_pointer(&out), FALSE);
}

static gboolean
pr_flags_request_check_ids(PrFlagsRequest *request, PrStore *store, GVariant *ids, GError **error)
{
	g_autoptr(GHashTable) seen = g_hash_table_new(g_int64_hash, g_int64_equal);
	gsize n = 0;
	const guint64 *values = g_variant_get_fixed_array(ids, &n, sizeof(guint64));

	if (n == 0) {
		g_set_error_literal(
			error, PR_ERROR, PR_ERROR_INVALID_ARGUMENT, _("No message ids given"));
		return FALSE;
	}
	request->ids = g_array_sized_new(FALSE, FALSE, sizeof(guint64), (guint)n);
	for (gsize i = 0; i < n; i++) {
		g_autoptr(PrStoreMessage) message = NULL;

		if (g_hash_table_contains(seen, &values[i]))
			continue;
		g_hash_table_add(seen, (gpointer)&values[i]);
		message = pr_store_get_message(store, values[i], error);
		if (message == NULL)
			return FALSE;
		if (message->uid == 0) {
			/* not yet: a local message's flags would change in the store alone */
			g_set_error(error,
				    PR_ERROR,
				    PR_ERROR_INVALID_ARGUMENT,
				    _("Messages of %s are not on the server"),
				    message->folder);
			return FALSE;
		}
		g_array_append_val(request->ids, values[i]);
	}
	return TRUE;
}

PrFlagsRequest *
pr_flags_request_new(PrStore *store,
		     GVariant *ids,
		     const gchar *const *add,
		     const gchar *const *remove,
		     GVariant *options,
		     GError **error)
{
	g_autoptr(PrFlagsRequest) request = g_new0(PrFlagsRequest, 1);

	if (!pr_options_check(options, PR_OPTIONS_KIND_OPTION, NULL, 0, error))
		return NULL;
	request->add = pr_flags_request_normalize(add, error);
	if (request->add == NULL)
		return NULL;
	request->remove = pr_flags_request_normalize(remove, error);
	if (request->remove == NULL)
		return NULL;
	for (guint i = 0; request->add[i] != NULL; i++) {
		for (guint j = 0; request->remove[j] != NULL; j++) {
			if (g_ascii_strcasecmp(request->add[i], request->remove[j]) != 0)
				continue;
			g_set_error(error,
				    PR_ERROR,
				    PR_ERROR_INVALID_ARGUMENT,
				    _("The flag %s cannot be both added and removed"),
				    request->add[i]);
			return NULL;
		}
	}
	if (!pr_flags_request_check_ids(request, store, ids, error))
		return NULL;
	return g_steal_pointer(&request);
}
