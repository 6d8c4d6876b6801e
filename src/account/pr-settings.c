/*
 * Copyright 2026 The Postroom developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#define G_LOG_DOMAIN "PrAccount"

#include <glib/gi18n-lib.h>
#include <string.h>

#include "pr-error.h"
#include "pr-settings-private.h"

/* The settings in GSettings: a service's relocatable schema, the list of services and the
 * ids; what is written is validated by pr-settings-keys.c first. */

/* Room for "_" and a counter after a truncated id base. */
#define PR_SETTINGS_ID_BASE_MAX (PR_CONTRACT_SERVICE_ID_MAX - 8)

gboolean
pr_settings_check_schemas(GError **error)
{
	GSettingsSchemaSource *source = g_settings_schema_source_get_default();
	const gchar *ids[] = { PR_SETTINGS_SCHEMA_ID, PR_SETTINGS_SERVICE_SCHEMA_ID };

	for (guint i = 0; i < G_N_ELEMENTS(ids); i++) {
		g_autoptr(GSettingsSchema) schema = NULL;
		if (source != NULL)
			schema = g_settings_schema_source_lookup(source, ids[i], TRUE);
		if (schema == NULL) {
			g_set_error(error,
				    PR_ERROR,
				    PR_ERROR_FAILED,
				    _("The GSettings schema “%s” is not installed"),
				    ids[i]);
			return FALSE;
		}
	}
	return TRUE;
}

/* GSettings access */

gboolean
pr_settings_is_valid_service_id(const gchar *id)
{
	return pr_contract_service_id_is_valid(id);
}

gchar *
pr_settings_service_path(const gchar *id)
{
	g_return_val_if_fail(pr_contract_service_id_is_valid(id), NULL);
	return g_strconcat(PR_SETTINGS_SERVICES_PATH, id, "/", NULL);
}

GSettings *
pr_settings_new_for_service(const gchar *id)
{
	g_autofree gchar *path = NULL;

	g_return_val_if_fail(pr_contract_service_id_is_valid(id), NULL);
	path = pr_settings_service_path(id);
	return g_settings_new_with_path(PR_SETTINGS_SERVICE_SCHEMA_ID, path);
}

/* A second GSettings on the same schema, path and backend: delay mode cannot be left
 * again, so batches never turn the caller's object into a delayed one. */
static GSettings *
pr_settings_new_batch(GSettings *settings)
{
	g_autoptr(GSettingsSchema) schema = NULL;
	g_autoptr(GSettingsBackend) backend = NULL;
	g_autofree gchar *path = NULL;
	GSettings *batch;

	g_object_get(
		settings, "settings-schema", &schema, "backend", &backend, "path", &path, NULL);
	batch = g_settings_new_full(schema, backend, path);
	g_settings_delay(batch);
	return batch;
}

GVariant *
pr_settings_dup_all_raw(GSettings *settings)
{
	g_auto(GVariantBuilder) builder = G_VARIANT_BUILDER_INIT(G_VARIANT_TYPE_VARDICT);

	for (const gchar *const *name = pr_settings_list_keys(); *name != NULL; name++)
		g_variant_builder_add(
			&builder, "{sv}", *name, g_settings_get_value(settings, *name));
	return g_variant_builder_end(&builder);
}

gchar *
pr_settings_make_display_name(const gchar *display_name, const gchar *user, const gchar *host)
{
	if (display_name[0] != '\0')
		return g_strdup(display_name);
	return g_strdup_printf("%s@%s", user, host);
}

gchar *
pr_settings_dup_display_name(GSettings *settings)
{
	g_autofree gchar *display_name = NULL;
	g_autofree gchar *user = NULL;
	g_autofree gchar *host = NULL;

	g_return_val_if_fail(G_IS_SETTINGS(settings), NULL);
	display_name = g_settings_get_string(settings, "display-name");
	user = g_settings_get_string(settings, "user");
	host = g_settings_get_string(settings, "host");
	return pr_settings_make_display_name(display_name, user, host);
}

GVariant *
pr_settings_dup_all(GSettings *settings)
{
	g_auto(GVariantBuilder) builder = G_VARIANT_BUILDER_INIT(G_VARIANT_TYPE_VARDICT);

	g_return_val_if_fail(G_IS_SETTINGS(settings), NULL);
	for (const gchar *const *keys = pr_settings_list_keys(); *keys != NULL; keys++) {
		const gchar *name = *keys;
		GVariant *value;
		if (g_strcmp0(name, "display-name") == 0) {
			g_autofree gchar *display_name = pr_settings_dup_display_name(settings);
			value = g_variant_new_string(display_name);
		} else {
			value = g_settings_get_value(settings, name);
		}
		g_variant_builder_add(&builder, "{sv}", name, value);
	}
	return g_variant_builder_end(&builder);
}

gboolean
pr_settings_apply(GSettings *settings, GVariant *changes, GError **error)
{
	g_autoptr(GVariant) current = NULL;
	g_autoptr(GVariant) norm = NULL;
	g_autoptr(GSettings) batch = NULL;
	GVariantIter iter;
	const gchar *name;
	GVariant *value_raw;

	g_return_val_if_fail(G_IS_SETTINGS(settings), FALSE);

	current = g_variant_ref_sink(pr_settings_dup_all_raw(settings));
	norm = pr_settings_normalize(changes, FALSE, current, error);
	if (norm == NULL)
		return FALSE;
	g_variant_ref_sink(norm);

	batch = pr_settings_new_batch(settings);
	g_variant_iter_init(&iter, norm);
	while (g_variant_iter_next(&iter, "{&sv}", &name, &value_raw)) {
		g_autoptr(GVariant) value = value_raw;
		/* the schema's own range check: only fails if schema and table disagree */
		if (!g_settings_set_value(batch, name, value)) {
			g_settings_revert(batch);
			g_set_error(error,
				    PR_ERROR,
				    PR_ERROR_INVALID_ARGUMENT,
				    _("Setting “%s” is out of range"),
				    name);
			return FALSE;
		}
	}
	g_settings_apply(batch);
	return TRUE;
}

void
pr_settings_reset_all(GSettings *settings)
{
	g_autoptr(GSettings) batch = NULL;
	g_autoptr(GSettingsSchema) schema = NULL;
	g_auto(GStrv) keys = NULL;

	g_return_if_fail(G_IS_SETTINGS(settings));
	batch = pr_settings_new_batch(settings);
	g_object_get(batch, "settings-schema", &schema, NULL);
	/* every key of the schema, including any the table does not know */
	keys = g_settings_schema_list_keys(schema);
	for (guint i = 0; keys[i] != NULL; i++)
		g_settings_reset(batch, keys[i]);
	g_settings_apply(batch);
}

/* service ids */

static void
pr_settings_append_sanitized(GString *str, const gchar *text, gsize len)
{
	for (gsize i = 0; i < len && text[i] != '\0'; i++) {
		gchar c = text[i];
		if (g_ascii_isalnum(c)) {
			g_string_append_c(str, g_ascii_tolower(c));
		} else if (str->len > 0 && str->str[str->len - 1] != '_') {
			g_string_append_c(str, '_');
		}
	}
}

gchar *
pr_settings_make_service_id(const gchar *user, const gchar *host, const gchar *const *taken)
{
	g_autoptr(GString) base = g_string_new(NULL);
	const gchar *at;

	/* the local part of an address-like user name is enough next to the host */
	if (user != NULL) {
		at = strchr(user, '@');
		pr_settings_append_sanitized(
			base, user, at != NULL ? (gsize)(at - user) : G_MAXSIZE);
		if (base->len > 0 && base->str[base->len - 1] != '_')
			g_string_append_c(base, '_');
	}
	if (host != NULL)
		pr_settings_append_sanitized(base, host, G_MAXSIZE);
	if (base->len > PR_SETTINGS_ID_BASE_MAX)
		g_string_truncate(base, PR_SETTINGS_ID_BASE_MAX);
	while (base->len > 0 && base->str[base->len - 1] == '_')
		g_string_truncate(base, base->len - 1);
	if (base->len == 0)
		g_string_assign(base, "account");

	if (taken == NULL || !g_strv_contains(taken, base->str))
		return g_string_free(g_steal_pointer(&base), FALSE);
	for (guint n = 2;; n++) {
		g_autofree gchar *id = g_strdup_printf("%s_%u", base->str, n);
		if (!g_strv_contains(taken, id))
			return g_steal_pointer(&id);
	}
}

gchar **
pr_settings_dup_service_ids(void)
{
	g_autoptr(GSettings) settings = g_settings_new(PR_SETTINGS_SCHEMA_ID);
	return g_settings_get_strv(settings, "services");
}

void
pr_settings_add_service_id(const gchar *id)
{
	g_autoptr(GSettings) settings = g_settings_new(PR_SETTINGS_SCHEMA_ID);
	g_auto(GStrv) ids = g_settings_get_strv(settings, "services");
	g_autoptr(GStrvBuilder) builder = g_strv_builder_new();
	g_auto(GStrv) updated = NULL;

	g_return_if_fail(pr_contract_service_id_is_valid(id));
	if (g_strv_contains((const gchar *const *)ids, id))
		return;
	g_strv_builder_addv(builder, (const gchar **)ids);
	g_strv_builder_add(builder, id);
	updated = g_strv_builder_end(builder);
	g_settings_set_strv(settings, "services", (const gchar *const *)updated);
}

void
pr_settings_remove_service_id(const gchar *id)
{
	g_autoptr(GSettings) settings = g_settings_new(PR_SETTINGS_SCHEMA_ID);
	g_auto(GStrv) ids = g_settings_get_strv(settings, "services");
	g_autoptr(GStrvBuilder) builder = g_strv_builder_new();
	g_auto(GStrv) updated = NULL;

	g_return_if_fail(id != NULL);
	if (!g_strv_contains((const gchar *const *)ids, id))
		return;
	for (guint i = 0; ids[i] != NULL; i++) {
		if (g_strcmp0(ids[i], id) != 0)
			g_strv_builder_add(builder, ids[i]);
	}
	updated = g_strv_builder_end(builder);
	g_settings_set_strv(settings, "services", (const gchar *const *)updated);
}

gchar *
pr_settings_create_service(GVariant *settings, GError **error)
{
	g_autoptr(GVariant) norm = NULL;
	g_autoptr(GSettings) service = NULL;
	g_auto(GStrv) ids = NULL;
	g_autofree gchar *id = NULL;
	const gchar *user = NULL;
	const gchar *host = NULL;

	norm = pr_settings_normalize(settings, TRUE, NULL, error);
	if (norm == NULL)
		return NULL;
	g_variant_ref_sink(norm);
	g_variant_lookup(norm, "user", "&s", &user);
	g_variant_lookup(norm, "host", "&s", &host);

	ids = pr_settings_dup_service_ids();
	id = pr_settings_make_service_id(user, host, (const gchar *const *)ids);
	service = pr_settings_new_for_service(id);
	/* a crash between writing and listing may have left keys behind */
	pr_settings_reset_all(service);
	if (!pr_settings_apply(service, norm, error))
		return NULL;
	pr_settings_add_service_id(id);
	return g_steal_pointer(&id);
}

void
pr_settings_delete_service(const gchar *id)
{
	g_autoptr(GSettings) service = NULL;

	g_return_if_fail(pr_contract_service_id_is_valid(id));
	service = pr_settings_new_for_service(id);
	pr_settings_reset_all(service);
	pr_settings_remove_service_id(id);
}
