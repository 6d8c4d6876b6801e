/*
 * Copyright 2026 The Postroom developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#define G_LOG_DOMAIN "PrCtl"

#include <glib/gi18n.h>
#include <stdio.h>
#include <string.h>

#include "pr-ctl.h"
#include "pr-error.h"

void
pr_ctl_print_error(const GError *error)
{
	const gchar *name = "Failed";

	if (error->domain == PR_ERROR && error->code >= 0 && error->code < PR_ERROR_LAST)
		name = pr_error_to_name(error->code);
	g_printerr("postroomctl: %s: %s\n", name, error->message);
}

gchar *
pr_ctl_read_secret_stdin(GError **error)
{
	g_autoptr(GString) line = g_string_new(NULL);
	gint c;

	/* a password is never taken from argv, where every user can read it */
	while ((c = fgetc(stdin)) != EOF && c != '\n') {
		if (line->len >= 4096) {
			explicit_bzero(line->str, line->len);
			g_set_error_literal(error,
					    PR_ERROR,
					    PR_ERROR_INVALID_ARGUMENT,
					    _("The password on standard input is too long"));
			return NULL;
		}
		g_string_append_c(line, (gchar)c);
	}
	if (line->len > 0 && line->str[line->len - 1] == '\r')
		g_string_truncate(line, line->len - 1);
	if (line->len == 0) {
		g_set_error_literal(error,
				    PR_ERROR,
				    PR_ERROR_INVALID_ARGUMENT,
				    _("No password on standard input"));
		return NULL;
	}
	return g_string_free(g_steal_pointer(&line), FALSE);
}

static void
pr_ctl_json_string(GString *out, const gchar *str)
{
	g_string_append_c(out, '"');
	for (const guchar *p = (const guchar *)str; *p != '\0'; p++) {
		switch (*p) {
		case '"':
			g_string_append(out, "\\\"");
			break;
		case '\\':
			g_string_append(out, "\\\\");
			break;
		case '\n':
			g_string_append(out, "\\n");
			break;
		case '\r':
			g_string_append(out, "\\r");
			break;
		case '\t':
			g_string_append(out, "\\t");
			break;
		default:
			if (*p < 0x20)
				g_string_append_printf(out, "\\u%04x", *p);
			else
				g_string_append_c(out, (gchar)*p);
		}
	}
	g_string_append_c(out, '"');
}

static void
pr_ctl_json_value(GString *out, GVariant *value)
{
	if (g_variant_is_of_type(value, G_VARIANT_TYPE_VARIANT)) {
		g_autoptr(GVariant) inner = g_variant_get_variant(value);
		pr_ctl_json_value(out, inner);
	} else if (g_variant_is_of_type(value, G_VARIANT_TYPE_STRING) ||
		   g_variant_is_of_type(value, G_VARIANT_TYPE_OBJECT_PATH)) {
		pr_ctl_json_string(out, g_variant_get_string(value, NULL));
	} else if (g_variant_is_of_type(value, G_VARIANT_TYPE_BOOLEAN)) {
		g_string_append(out, g_variant_get_boolean(value) ? "true" : "false");
	} else if (g_variant_is_of_type(value, G_VARIANT_TYPE_UINT32)) {
		g_string_append_printf(out, "%u", g_variant_get_uint32(value));
	} else if (g_variant_is_of_type(value, G_VARIANT_TYPE_INT32)) {
		g_string_append_printf(out, "%d", g_variant_get_int32(value));
	} else if (g_variant_is_of_type(value, G_VARIANT_TYPE_UINT64)) {
		g_string_append_printf(out, "%" G_GUINT64_FORMAT, g_variant_get_uint64(value));
	} else if (g_variant_is_of_type(value, G_VARIANT_TYPE_INT64)) {
		g_string_append_printf(out, "%" G_GINT64_FORMAT, g_variant_get_int64(value));
	} else if (g_variant_is_of_type(value, G_VARIANT_TYPE_UINT16)) {
		g_string_append_printf(out, "%u", g_variant_get_uint16(value));
	} else if (g_variant_is_of_type(value, G_VARIANT_TYPE_DOUBLE)) {
		g_string_append_printf(out, "%g", g_variant_get_double(value));
	} else if (g_variant_is_of_type(value, G_VARIANT_TYPE_VARDICT)) {
		pr_ctl_print_json(value, out);
	} else if (g_variant_is_container(value)) {
		gsize n = g_variant_n_children(value);
		g_string_append_c(out, '[');
		for (gsize i = 0; i < n; i++) {
			g_autoptr(GVariant) child = g_variant_get_child_value(value, i);
			if (i > 0)
				g_string_append(out, ", ");
			pr_ctl_json_value(out, child);
		}
		g_string_append_c(out, ']');
	} else {
		g_autofree gchar *printed = g_variant_print(value, FALSE);
		pr_ctl_json_string(out, printed);
	}
}

void
pr_ctl_print_json(GVariant *dict, GString *out)
{
	GVariantIter iter;
	const gchar *key;
	GVariant *value;
	gboolean first = TRUE;

	g_string_append_c(out, '{');
	g_variant_iter_init(&iter, dict);
	while (g_variant_iter_next(&iter, "{&sv}", &key, &value)) {
		g_autoptr(GVariant) owned = value;
		if (!first)
			g_string_append(out, ", ");
		first = FALSE;
		pr_ctl_json_string(out, key);
		g_string_append(out, ": ");
		pr_ctl_json_value(out, owned);
	}
	g_string_append_c(out, '}');
}
