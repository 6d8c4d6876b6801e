/*
 * Copyright 2026 The Postroom developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#define G_LOG_DOMAIN "PrCtl"

#include <glib/gi18n.h>
#include <string.h>

#include "pr-ctl.h"
#include "pr-error.h"

static gboolean
pr_ctl_set_parse_boolean(const gchar *text, gboolean *value)
{
	const gchar *yes[] = { "true", "yes", "1" };
	const gchar *no[] = { "false", "no", "0" };

	for (guint i = 0; i < G_N_ELEMENTS(yes); i++) {
		if (g_ascii_strcasecmp(text, yes[i]) == 0) {
			*value = TRUE;
			return TRUE;
		}
		if (g_ascii_strcasecmp(text, no[i]) == 0) {
			*value = FALSE;
			return TRUE;
		}
	}
	return FALSE;
}

static GVariant *
pr_ctl_set_parse_unsigned(const gchar *key, const gchar *text, guint64 max, GError **error)
{
	guint64 value = 0;

	if (!g_ascii_string_to_unsigned(text, 10, 0, max, &value, NULL)) {
		/* xgettext cannot see through G_GUINT64_FORMAT: the number goes in as text */
		g_autofree gchar *max_text = g_strdup_printf("%" G_GUINT64_FORMAT, max);
		g_set_error(error,
			    PR_ERROR,
			    PR_ERROR_INVALID_ARGUMENT,
			    _("Invalid value “%s” for %s: expected a whole number from 0 to %s"),
			    text,
			    key,
			    max_text);
		return NULL;
	}
	if (max == G_MAXUINT16)
		return g_variant_new_uint16((guint16)value);
	if (max == G_MAXUINT32)
		return g_variant_new_uint32((guint32)value);
	return g_variant_new_uint64(value);
}

static GVariant *
pr_ctl_set_parse_int32(const gchar *key, const gchar *text, GError **error)
{
	gint64 value = 0;

	if (!g_ascii_string_to_signed(text, 10, G_MININT32, G_MAXINT32, &value, NULL)) {
		g_set_error(error,
			    PR_ERROR,
			    PR_ERROR_INVALID_ARGUMENT,
			    _("Invalid value “%s” for %s: expected a whole number"),
			    text,
			    key);
		return NULL;
	}
	return g_variant_new_int32((gint32)value);
}

static GVariant *
pr_ctl_set_parse_value(const gchar *key, GVariant *current, const gchar *text, GError **error)
{
	gboolean boolean = FALSE;

	switch (g_variant_classify(current)) {
	case G_VARIANT_CLASS_STRING:
		return g_variant_new_string(text);
	case G_VARIANT_CLASS_BOOLEAN:
		if (pr_ctl_set_parse_boolean(text, &boolean))
			return g_variant_new_boolean(boolean);
		g_set_error(error,
			    PR_ERROR,
			    PR_ERROR_INVALID_ARGUMENT,
			    _("Invalid value “%s” for %s: expected true, false, yes, no, 1 or 0"),
			    text,
			    key);
		return NULL;
	case G_VARIANT_CLASS_UINT16:
		return pr_ctl_set_parse_unsigned(key, text, G_MAXUINT16, error);
	case G_VARIANT_CLASS_UINT32:
		return pr_ctl_set_parse_unsigned(key, text, G_MAXUINT32, error);
	case G_VARIANT_CLASS_UINT64:
		return pr_ctl_set_parse_unsigned(key, text, G_MAXUINT64, error);
	case G_VARIANT_CLASS_INT32:
		return pr_ctl_set_parse_int32(key, text, error);
	default:
		g_set_error(error,
			    PR_ERROR,
			    PR_ERROR_INVALID_ARGUMENT,
			    _("The setting %s has the type “%s”, which cannot be set here"),
			    key,
			    g_variant_get_type_string(current));
		return NULL;
	}
}

/* The syntax of every KEY=VALUE, before anything is asked of the daemon. */
static gboolean
pr_ctl_set_check_syntax(gint argc, gchar **argv, GError **error)
{
	for (gint i = 1; i < argc; i++) {
		const gchar *eq = strchr(argv[i], '=');
		g_autofree gchar *key = NULL;

		if (!pr_ctl_check_utf8(argv[i], error))
			return FALSE;
		if (eq == NULL || eq == argv[i]) {
			g_set_error(error,
				    G_OPTION_ERROR,
				    G_OPTION_ERROR_BAD_VALUE,
				    _("“%s” is not KEY=VALUE"),
				    argv[i]);
			return FALSE;
		}
		key = g_strndup(argv[i], eq - argv[i]);
		if (strstr(key, "password") != NULL) {
			g_set_error_literal(error,
					    G_OPTION_ERROR,
					    G_OPTION_ERROR_BAD_VALUE,
					    _("passwords are never given on the command line; use "
					      "“postroomctl password”"));
			return FALSE;
		}
	}
	return TRUE;
}

/* One KEY=VALUE into @changes; the type is that of the current value. */
static gboolean
pr_ctl_set_parse_assignment(GVariant *settings,
			    const gchar *assignment,
			    GVariantDict *changes,
			    GError **error)
{
	const gchar *eq = strchr(assignment, '=');
	g_autofree gchar *key = g_strndup(assignment, eq - assignment);
	g_autoptr(GVariant) current = g_variant_lookup_value(settings, key, NULL);
	GVariant *value;

	if (current == NULL) {
		g_set_error(error,
			    PR_ERROR,
			    PR_ERROR_INVALID_ARGUMENT,
			    _("Unknown setting “%s”; “postroomctl settings” lists them"),
			    key);
		return FALSE;
	}
	value = pr_ctl_set_parse_value(key, current, eq + 1, error);
	if (value == NULL)
		return FALSE;
	g_variant_dict_insert_value(changes, key, value);
	return TRUE;
}

static GVariant *
pr_ctl_set_parse_changes(GVariant *settings, gint argc, gchar **argv, GError **error)
{
	g_auto(GVariantDict) changes = G_VARIANT_DICT_INIT(NULL);

	for (gint i = 1; i < argc; i++) {
		if (!pr_ctl_set_parse_assignment(settings, argv[i], &changes, error))
			return NULL;
	}
	return g_variant_ref_sink(g_variant_dict_end(&changes));
}

gint
pr_ctl_set(gint argc, gchar **argv)
{
	g_auto(PrCtlOptions) opts = { 0 };
	g_autoptr(PrCtlClient) client = NULL;
	g_autoptr(PrDBusImap4Service) service = NULL;
	g_autoptr(GVariant) settings = NULL;
	g_autoptr(GVariant) changes = NULL;
	g_autoptr(GError) error = NULL;

	if (!pr_ctl_options_parse(
		    &opts,
		    PR_CTL_OPTION_SERVICE | PR_CTL_OPTION_JSON | PR_CTL_OPTION_BUS,
		    NULL,
		    _("KEY=VALUE…"),
		    _("Change settings of a service. A VALUE is read by the type of the "
		      "setting: text, a whole number, or true/false (also yes/no, 1/0). "
		      "“postroomctl settings” lists the keys and types. Changes that "
		      "need a new connection apply at the next connect."),
		    &argc,
		    &argv))
		return PR_CTL_EXIT_USAGE;
	if (argc < 2)
		return pr_ctl_usage_error(&opts, "%s", _("give at least one KEY=VALUE"));
	if (!pr_ctl_set_check_syntax(argc, argv, &error))
		return pr_ctl_fail(&opts, error);

	service = pr_ctl_open_service(&opts, &client, &error);
	if (service == NULL)
		return pr_ctl_fail(&opts, error);
	if (!pr_dbus_imap4_service_call_get_settings_sync(service, &settings, NULL, &error))
		return pr_ctl_fail(&opts, error);
	changes = pr_ctl_set_parse_changes(settings, argc, argv, &error);
	if (changes == NULL)
		return pr_ctl_fail(&opts, error);
	if (!pr_dbus_imap4_service_call_update_settings_sync(service, changes, NULL, &error))
		return pr_ctl_fail(&opts, error);
	if (opts.json) {
		g_auto(GVariantDict) doc = G_VARIANT_DICT_INIT(NULL);
		g_variant_dict_insert(&doc, "service", "s", pr_dbus_imap4_service_get_id(service));
		g_variant_dict_insert_value(&doc, "updated", changes);
		pr_ctl_json_output(g_variant_dict_end(&doc));
	}
	return PR_CTL_EXIT_OK;
}

static gint
pr_ctl_settings_compare(gconstpointer a, gconstpointer b)
{
	return g_strcmp0(*(const gchar *const *)a, *(const gchar *const *)b);
}

static void
pr_ctl_settings_print(GVariant *settings)
{
	const gchar *headers[] = { _("KEY"), _("TYPE"), _("VALUE"), NULL };
	g_autoptr(PrCtlTable) table = pr_ctl_table_new(headers);
	g_autoptr(GPtrArray) keys = g_ptr_array_new();
	GVariantIter iter;
	const gchar *key;

	g_variant_iter_init(&iter, settings);
	while (g_variant_iter_next(&iter, "{&sv}", &key, NULL))
		g_ptr_array_add(keys, (gpointer)key);
	g_ptr_array_sort(keys, pr_ctl_settings_compare);
	for (guint i = 0; i < keys->len; i++) {
		const gchar *name = g_ptr_array_index(keys, i);
		g_autoptr(GVariant) value = g_variant_lookup_value(settings, name, NULL);
		g_autofree gchar *text = pr_ctl_format_value(value);
		const gchar *row[] = { name, g_variant_get_type_string(value), text, NULL };
		pr_ctl_table_add_row(table, row);
	}
	pr_ctl_table_print(table);
}

gint
pr_ctl_settings(gint argc, gchar **argv)
{
	g_auto(PrCtlOptions) opts = { 0 };
	g_autoptr(PrCtlClient) client = NULL;
	g_autoptr(PrDBusImap4Service) service = NULL;
	g_autoptr(GVariant) settings = NULL;
	g_autoptr(GError) error = NULL;

	if (!pr_ctl_options_parse(&opts,
				  PR_CTL_OPTION_SERVICE | PR_CTL_OPTION_JSON | PR_CTL_OPTION_BUS,
				  NULL,
				  NULL,
				  _("Show the settings of a service (never a password)."),
				  &argc,
				  &argv))
		return PR_CTL_EXIT_USAGE;
	if (argc > 1)
		return pr_ctl_unexpected_argument(&opts, argv[1]);

	service = pr_ctl_open_service(&opts, &client, &error);
	if (service == NULL)
		return pr_ctl_fail(&opts, error);
	if (!pr_dbus_imap4_service_call_get_settings_sync(service, &settings, NULL, &error))
		return pr_ctl_fail(&opts, error);
	if (opts.json)
		pr_ctl_json_output(settings);
	else
		pr_ctl_settings_print(settings);
	return PR_CTL_EXIT_OK;
}
