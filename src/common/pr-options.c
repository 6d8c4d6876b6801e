/*
 * Copyright 2026 The Postroom developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#define G_LOG_DOMAIN "PrOptions"

#include <glib/gi18n.h>

#include "pr-error.h"
#include "pr-options.h"

static const PrOptionSpec *
pr_options_lookup(const PrOptionSpec *specs, gsize n_specs, const gchar *key)
{
	for (gsize i = 0; i < n_specs; i++) {
		if (g_strcmp0(specs[i].key, key) == 0)
			return &specs[i];
	}
	return NULL;
}

gboolean
pr_options_check(GVariant *dict,
		 PrOptionsKind kind,
		 const PrOptionSpec *specs,
		 gsize n_specs,
		 GError **error)
{
	GVariantIter iter;
	const gchar *key;
	GVariant *value;

	g_return_val_if_fail(dict != NULL, FALSE);
	g_variant_iter_init(&iter, dict);
	while (g_variant_iter_next(&iter, "{&sv}", &key, &value)) {
		g_autoptr(GVariant) owned = value;
		const PrOptionSpec *spec = pr_options_lookup(specs, n_specs, key);

		if (spec == NULL) {
			if (kind == PR_OPTIONS_KIND_QUERY)
				g_set_error(error,
					    PR_ERROR,
					    PR_ERROR_INVALID_ARGUMENT,
					    _("Unknown query key “%s”"),
					    key);
			else
				g_set_error(error,
					    PR_ERROR,
					    PR_ERROR_INVALID_ARGUMENT,
					    _("Unknown option “%s”"),
					    key);
			return FALSE;
		}
		if (!g_variant_is_of_type(value, G_VARIANT_TYPE(spec->type))) {
			if (kind == PR_OPTIONS_KIND_QUERY)
				g_set_error(error,
					    PR_ERROR,
					    PR_ERROR_INVALID_ARGUMENT,
					    _("Query key “%s” must be of type %s"),
					    key,
					    spec->type);
			else
				g_set_error(error,
					    PR_ERROR,
					    PR_ERROR_INVALID_ARGUMENT,
					    _("Option “%s” must be of type %s"),
					    key,
					    spec->type);
			return FALSE;
		}
		if (spec->choices != NULL &&
		    !g_strv_contains(spec->choices, g_variant_get_string(value, NULL))) {
			g_autofree gchar *allowed = g_strjoinv(", ", (gchar **)spec->choices);
			g_set_error(error,
				    PR_ERROR,
				    PR_ERROR_INVALID_ARGUMENT,
				    _("Option “%s” must be one of: %s"),
				    key,
				    allowed);
			return FALSE;
		}
	}
	return TRUE;
}
