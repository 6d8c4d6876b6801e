/*
 * Copyright 2026 The Postroom developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#define G_LOG_DOMAIN "PrAccount"

#include <errno.h>
#include <glib/gi18n-lib.h>
#include <glib/gstdio.h>
#include <string.h>
#include <unistd.h>

#include "pr-error.h"
#include "pr-net.h"
#include "pr-settings.h"

/* Strings from the bus end up in dconf and in IMAP commands: keep them bounded. */
#define PR_SETTINGS_STRING_MAX 4096
#define PR_SETTINGS_HOST_MAX   253
#define PR_SETTINGS_LABEL_MAX  63
/* Room for "_" and a counter after a truncated id base. */
#define PR_SETTINGS_ID_BASE_MAX (PR_CONTRACT_SERVICE_ID_MAX - 8)

typedef struct _PrSettingsKey PrSettingsKey;

/* An extra check after type, choices and range: returns the (possibly normalised) value
 * as a new reference, or NULL with an error. */
typedef GVariant *(*PrSettingsValidateFunc)(const PrSettingsKey *key,
					    GVariant *value,
					    GError **error);

struct _PrSettingsKey {
	const gchar *name;
	const gchar *type;	   /* GVariant type string */
	const gchar *default_text; /* GVariant text format, as in the schema */
	const gchar *const *choices;
	gboolean has_range;
	gint64 min;
	gint64 max;
	gboolean reconnect; /* a change applies at the next connect */
	PrSettingsValidateFunc validate;
};

static GVariant *
pr_settings_validate_host(const PrSettingsKey *key, GVariant *value, GError **error);
static GVariant *
pr_settings_validate_pin(const PrSettingsKey *key, GVariant *value, GError **error);
static GVariant *
pr_settings_validate_ca_file(const PrSettingsKey *key, GVariant *value, GError **error);
static GVariant *
pr_settings_validate_address(const PrSettingsKey *key, GVariant *value, GError **error);

static const gchar *const pr_settings_security_choices[] = { "tls", "starttls", "none", NULL };
static const gchar *const pr_settings_auth_choices[] = {
	"auto", "plain", "login", "cram-md5", "scram-sha-256", "xoauth2", "oauthbearer", NULL
};
static const gchar *const pr_settings_folder_sync_choices[] = { "remote-subscribed",
								"local-subscribed",
								"either",
								"all",
								NULL };
static const gchar *const pr_settings_subscription_update_choices[] = { "neither",
									"local-from-remote",
									"remote-from-local",
									"both",
									NULL };
static const gchar *const pr_settings_get_mail_parts_choices[] = {
	"headers", "body-text", "body-text-and-attachments", "attachments", "body-alternative-text",
	NULL
};

#define CHOICES(c)  .choices = (c)
#define RANGE(a, b) .has_range = TRUE, .min = (a), .max = (b)

/* Must agree with data/org.postroom.Imap4Service.gschema.xml (tests/unit/test-settings.c
 * compares them key by key). */
static const PrSettingsKey pr_settings_keys[] = {
	{ "display-name", "s", "''" },
	{ "host", "s", "''", .reconnect = TRUE, .validate = pr_settings_validate_host },
	{ "port", "q", "uint16 0", .reconnect = TRUE },
	{ "security", "s", "'tls'", CHOICES(pr_settings_security_choices), .reconnect = TRUE },
	{ "allow-insecure", "b", "false", .reconnect = TRUE },
	{ "compress", "b", "false", .reconnect = TRUE },
	{ "user", "s", "''", .reconnect = TRUE },
	{ "auth", "s", "'auto'", CHOICES(pr_settings_auth_choices), .reconnect = TRUE },
	{ "timeout", "u", "uint32 60", RANGE(1, 3600), .reconnect = TRUE },
	{ "tls-ca-file", "s", "''", .reconnect = TRUE, .validate = pr_settings_validate_ca_file },
	{ "tls-pinned-certificate",
	  "s",
	  "''",
	  .reconnect = TRUE,
	  .validate = pr_settings_validate_pin },
	{ "folder-path", "s", "''" },
	{ "folder-sync", "s", "'remote-subscribed'", CHOICES(pr_settings_folder_sync_choices) },
	{ "subscription-update",
	  "s",
	  "'neither'",
	  CHOICES(pr_settings_subscription_update_choices) },
	{ "inbox-sync-limit", "i", "-1", RANGE(-1, G_MAXINT32) },
	{ "mailbox-sync-limit", "i", "-1", RANGE(-1, G_MAXINT32) },
	{ "sync-search", "s", "''" },
	{ "get-mail-parts",
	  "s",
	  "'body-text-and-attachments'",
	  CHOICES(pr_settings_get_mail_parts_choices) },
	{ "body-text-size-limit", "t", "uint64 0" },
	{ "attachment-size-limit", "t", "uint64 0" },
	{ "total-size-limit", "t", "uint64 0" },
	{ "fetch-chunk-size", "u", "uint32 20480", RANGE(512, 67108864) },
	{ "idle", "b", "true" },
	{ "idle-timeout", "u", "uint32 1740", RANGE(10, 1740) },
	{ "sync-interval", "u", "uint32 300" },
	{ "offline-operations", "b", "true" },
	{ "update-seen-flags", "b", "true" },
	{ "delete-on-disconnect", "b", "false" },
	{ "use-expunge", "b", "true" },
	{ "send-on-next-connection", "b", "false" },
	{ "smtp-host", "s", "''", .validate = pr_settings_validate_host },
	{ "smtp-port", "q", "uint16 0" },
	{ "smtp-security", "s", "'tls'", CHOICES(pr_settings_security_choices) },
	{ "smtp-user", "s", "''" },
	{ "from-address", "s", "''", .validate = pr_settings_validate_address },
	{ "save-sent", "b", "true" },
	{ "sent-folder", "s", "''" },
	{ "drafts-folder", "s", "''" },
	{ "acknowledge-receipts", "b", "false" },
};

#undef CHOICES
#undef RANGE

static const PrSettingsKey *
pr_settings_key_find(const gchar *name)
{
	for (guint i = 0; i < G_N_ELEMENTS(pr_settings_keys); i++) {
		if (g_strcmp0(pr_settings_keys[i].name, name) == 0)
			return &pr_settings_keys[i];
	}
	return NULL;
}

const gchar *const *
pr_settings_list_keys(void)
{
	static const gchar *names[G_N_ELEMENTS(pr_settings_keys) + 1] = { NULL };
	static gsize once = 0;

	if (g_once_init_enter(&once)) {
		for (guint i = 0; i < G_N_ELEMENTS(pr_settings_keys); i++)
			names[i] = pr_settings_keys[i].name;
		g_once_init_leave(&once, 1);
	}
	return names;
}

const gchar *
pr_settings_key_get_type_string(const gchar *key)
{
	const PrSettingsKey *k = pr_settings_key_find(key);
	return k != NULL ? k->type : NULL;
}

static GVariant *
pr_settings_key_default(const PrSettingsKey *key)
{
	g_autoptr(GError) error = NULL;
	GVariant *value;

	value = g_variant_parse(G_VARIANT_TYPE(key->type), key->default_text, NULL, NULL, &error);
	/* the table is static: a parse failure is a programming error */
	g_assert_no_error(error);
	return g_variant_ref_sink(value);
}

GVariant *
pr_settings_key_dup_default(const gchar *key)
{
	const PrSettingsKey *k = pr_settings_key_find(key);
	return k != NULL ? pr_settings_key_default(k) : NULL;
}

gboolean
pr_settings_key_needs_reconnect(const gchar *key)
{
	const PrSettingsKey *k = pr_settings_key_find(key);
	return k != NULL && k->reconnect;
}

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

/* validators */

static gboolean
pr_settings_label_is_valid(const gchar *label, gsize len)
{
	if (len == 0 || len > PR_SETTINGS_LABEL_MAX)
		return FALSE;
	if (label[0] == '-' || label[len - 1] == '-')
		return FALSE;
	for (gsize i = 0; i < len; i++) {
		if (!g_ascii_isalnum(label[i]) && label[i] != '-' && label[i] != '_')
			return FALSE;
	}
	return TRUE;
}

/* A host name (IDN allowed) or an IP literal; no port, no brackets, no spaces. */
static gboolean
pr_settings_host_is_plausible(const gchar *host)
{
	g_autofree gchar *ascii = NULL;
	const gchar *p;
	gsize len = strlen(host);

	if (len == 0 || len > PR_SETTINGS_HOST_MAX)
		return FALSE;
	for (gsize i = 0; i < len; i++) {
		guchar c = (guchar)host[i];
		if (c <= 0x20 || c == 0x7f)
			return FALSE;
	}
	if (g_hostname_is_ip_address(host))
		return TRUE;
	ascii = g_hostname_to_ascii(host);
	if (ascii == NULL || strlen(ascii) > PR_SETTINGS_HOST_MAX)
		return FALSE;

	/* dot-separated labels; one trailing dot (a rooted name) is fine */
	p = ascii;
	while (*p != '\0') {
		const gchar *dot = strchr(p, '.');
		gsize label_len = dot != NULL ? (gsize)(dot - p) : strlen(p);
		if (!pr_settings_label_is_valid(p, label_len))
			return FALSE;
		if (dot == NULL)
			break;
		p = dot + 1;
	}
	return TRUE;
}

static GVariant *
pr_settings_validate_host(const PrSettingsKey *key, GVariant *value, GError **error)
{
	const gchar *host = g_variant_get_string(value, NULL);

	/* empty is "not set": whether that is allowed is a cross-key rule */
	if (host[0] != '\0' && !pr_settings_host_is_plausible(host)) {
		g_set_error(error,
			    PR_ERROR,
			    PR_ERROR_INVALID_ARGUMENT,
			    _("Setting “%s” must be a host name or an IP address"),
			    key->name);
		return NULL;
	}
	return g_variant_ref(value);
}

/* SHA-256 fingerprint: 64 hex digits, colons and upper case accepted. */
static GVariant *
pr_settings_validate_pin(const PrSettingsKey *key, GVariant *value, GError **error)
{
	const gchar *pin = g_variant_get_string(value, NULL);
	g_autoptr(GString) norm = g_string_new(NULL);

	if (pin[0] == '\0')
		return g_variant_ref(value);
	for (const gchar *p = pin; *p != '\0'; p++) {
		if (*p == ':')
			continue;
		if (!g_ascii_isxdigit(*p) || norm->len >= 64) {
			norm->len = 0;
			break;
		}
		g_string_append_c(norm, g_ascii_tolower(*p));
	}
	if (norm->len != 64) {
		g_set_error(error,
			    PR_ERROR,
			    PR_ERROR_INVALID_ARGUMENT,
			    _("Setting “%s” must be a SHA-256 fingerprint of 64 hex digits"),
			    key->name);
		return NULL;
	}
	return g_variant_ref_sink(g_variant_new_string(norm->str));
}

/* A small stat/access on a local path: cheap enough for the main loop. */
static GVariant *
pr_settings_validate_ca_file(const PrSettingsKey *key, GVariant *value, GError **error)
{
	const gchar *path = g_variant_get_string(value, NULL);

	if (path[0] == '\0')
		return g_variant_ref(value);
	if (!g_path_is_absolute(path)) {
		g_set_error(error,
			    PR_ERROR,
			    PR_ERROR_INVALID_ARGUMENT,
			    _("Setting “%s” must be an absolute path"),
			    key->name);
		return NULL;
	}
	if (!g_file_test(path, G_FILE_TEST_IS_REGULAR)) {
		g_set_error(error,
			    PR_ERROR,
			    PR_ERROR_INVALID_ARGUMENT,
			    _("Setting “%s”: “%s” is not a file"),
			    key->name,
			    path);
		return NULL;
	}
	if (g_access(path, R_OK) != 0) {
		int errsv = errno;
		g_set_error(error,
			    PR_ERROR,
			    PR_ERROR_INVALID_ARGUMENT,
			    _("Setting “%s”: cannot read “%s”: %s"),
			    key->name,
			    path,
			    g_strerror(errsv));
		return NULL;
	}
	return g_variant_ref(value);
}

static GVariant *
pr_settings_validate_address(const PrSettingsKey *key, GVariant *value, GError **error)
{
	const gchar *address = g_variant_get_string(value, NULL);

	if (address[0] != '\0' && strchr(address, '@') == NULL) {
		g_set_error(error,
			    PR_ERROR,
			    PR_ERROR_INVALID_ARGUMENT,
			    _("Setting “%s” must be an e-mail address"),
			    key->name);
		return NULL;
	}
	return g_variant_ref(value);
}

static gboolean
pr_settings_check_string(const PrSettingsKey *key, GVariant *value, GError **error)
{
	gsize len = 0;
	const gchar *str = g_variant_get_string(value, &len);

	if (len > PR_SETTINGS_STRING_MAX) {
		g_set_error(error,
			    PR_ERROR,
			    PR_ERROR_INVALID_ARGUMENT,
			    _("Setting “%s” is too long (at most %u bytes)"),
			    key->name,
			    (guint)PR_SETTINGS_STRING_MAX);
		return FALSE;
	}
	/* no CR/LF or other controls: values end up in IMAP commands and in logs */
	for (gsize i = 0; i < len; i++) {
		guchar c = (guchar)str[i];
		if (c < 0x20 || c == 0x7f) {
			g_set_error(error,
				    PR_ERROR,
				    PR_ERROR_INVALID_ARGUMENT,
				    _("Setting “%s” must not contain control characters"),
				    key->name);
			return FALSE;
		}
	}
	if (key->choices != NULL && !g_strv_contains(key->choices, str)) {
		g_autofree gchar *allowed = g_strjoinv(", ", (gchar **)key->choices);
		g_set_error(error,
			    PR_ERROR,
			    PR_ERROR_INVALID_ARGUMENT,
			    _("Setting “%s” must be one of: %s"),
			    key->name,
			    allowed);
		return FALSE;
	}
	return TRUE;
}

static gboolean
pr_settings_check_range(const PrSettingsKey *key, GVariant *value, GError **error)
{
	gint64 v;

	if (!key->has_range)
		return TRUE;
	if (g_variant_is_of_type(value, G_VARIANT_TYPE_UINT16))
		v = g_variant_get_uint16(value);
	else if (g_variant_is_of_type(value, G_VARIANT_TYPE_UINT32))
		v = g_variant_get_uint32(value);
	else if (g_variant_is_of_type(value, G_VARIANT_TYPE_INT32))
		v = g_variant_get_int32(value);
	else
		v = g_variant_get_int64(value);
	if (v < key->min || v > key->max) {
		g_autofree gchar *min = g_strdup_printf("%" G_GINT64_FORMAT, key->min);
		g_autofree gchar *max = g_strdup_printf("%" G_GINT64_FORMAT, key->max);
		g_set_error(error,
			    PR_ERROR,
			    PR_ERROR_INVALID_ARGUMENT,
			    _("Setting “%s” must be between %s and %s"),
			    key->name,
			    min,
			    max);
		return FALSE;
	}
	return TRUE;
}

/* The checks of one value on its own; returns the normalised value. */
static GVariant *
pr_settings_check_value(const PrSettingsKey *key, GVariant *value, GError **error)
{
	if (!g_variant_is_of_type(value, G_VARIANT_TYPE(key->type))) {
		g_set_error(error,
			    PR_ERROR,
			    PR_ERROR_INVALID_ARGUMENT,
			    _("Setting “%s” must be of type %s"),
			    key->name,
			    key->type);
		return NULL;
	}
	if (g_variant_is_of_type(value, G_VARIANT_TYPE_STRING)) {
		if (!pr_settings_check_string(key, value, error))
			return NULL;
	}
	if (!pr_settings_check_range(key, value, error))
		return NULL;
	if (key->validate != NULL)
		return key->validate(key, value, error);
	return g_variant_ref(value);
}

/* merged view: name -> GVariant, the defaults (or @current) overlaid with changes */

static GHashTable *
pr_settings_merged_new(GVariant *current)
{
	GHashTable *merged = g_hash_table_new_full(
		g_str_hash, g_str_equal, NULL, (GDestroyNotify)g_variant_unref);

	for (guint i = 0; i < G_N_ELEMENTS(pr_settings_keys); i++) {
		const PrSettingsKey *key = &pr_settings_keys[i];
		GVariant *value = NULL;
		if (current != NULL)
			value = g_variant_lookup_value(
				current, key->name, G_VARIANT_TYPE(key->type));
		if (value == NULL)
			value = pr_settings_key_default(key);
		g_hash_table_insert(merged, (gpointer)key->name, value);
	}
	return merged;
}

static const gchar *
pr_settings_merged_get_string(GHashTable *merged, const gchar *name)
{
	return g_variant_get_string(g_hash_table_lookup(merged, name), NULL);
}

static gboolean
pr_settings_touches(GHashTable *changed, const gchar *const *names)
{
	for (guint i = 0; names[i] != NULL; i++) {
		if (g_hash_table_contains(changed, names[i]))
			return TRUE;
	}
	return FALSE;
}

static gboolean
pr_settings_check_insecure(GHashTable *merged,
			   GHashTable *changed,
			   gboolean adding,
			   const gchar *security_key,
			   const gchar *host,
			   const gchar *const *involved,
			   GError **error)
{
	if (!adding && !pr_settings_touches(changed, involved))
		return TRUE;
	if (g_strcmp0(pr_settings_merged_get_string(merged, security_key), "none") != 0)
		return TRUE;
	if (g_variant_get_boolean(g_hash_table_lookup(merged, "allow-insecure")))
		return TRUE;
	if (host[0] == '\0' || pr_net_host_is_loopback(host))
		return TRUE;
	g_set_error(error,
		    PR_ERROR,
		    PR_ERROR_INVALID_ARGUMENT,
		    _("Setting “%s” may be “none” (no encryption) only for a loopback host; "
		      "“%s” is not one (set “allow-insecure” to allow it)"),
		    security_key,
		    host);
	return FALSE;
}

static gboolean
pr_settings_check_cross(GHashTable *merged, GHashTable *changed, gboolean adding, GError **error)
{
	const gchar *required[] = { "host", "user" };
	const gchar *imap_involved[] = { "security", "host", "allow-insecure", NULL };
	const gchar *smtp_involved[] = {
		"smtp-security", "smtp-host", "host", "allow-insecure", NULL
	};
	const gchar *host = pr_settings_merged_get_string(merged, "host");
	const gchar *smtp_host = pr_settings_merged_get_string(merged, "smtp-host");

	for (guint i = 0; i < G_N_ELEMENTS(required); i++) {
		if (!adding && !g_hash_table_contains(changed, required[i]))
			continue;
		if (pr_settings_merged_get_string(merged, required[i])[0] == '\0') {
			g_set_error(error,
				    PR_ERROR,
				    PR_ERROR_INVALID_ARGUMENT,
				    _("Setting “%s” is required"),
				    required[i]);
			return FALSE;
		}
	}
	if (!pr_settings_check_insecure(
		    merged, changed, adding, "security", host, imap_involved, error))
		return FALSE;
	/* SMTP without its own host name goes to the IMAP host: check that one */
	return pr_settings_check_insecure(merged,
					  changed,
					  adding,
					  "smtp-security",
					  smtp_host[0] != '\0' ? smtp_host : host,
					  smtp_involved,
					  error);
}

/* Validates and normalises; fills @merged_out with the merged view when non-NULL. */
static GVariant *
pr_settings_normalize_internal(GVariant *changes,
			       gboolean adding,
			       GVariant *current,
			       GHashTable **merged_out,
			       GError **error)
{
	g_autoptr(GHashTable) merged = NULL;
	g_autoptr(GHashTable) changed = g_hash_table_new(g_str_hash, g_str_equal);
	g_auto(GVariantBuilder) builder = G_VARIANT_BUILDER_INIT(G_VARIANT_TYPE_VARDICT);
	GVariantIter iter;
	const gchar *name;
	GVariant *value_raw;

	if (changes == NULL || !g_variant_is_of_type(changes, G_VARIANT_TYPE_VARDICT)) {
		g_set_error_literal(error,
				    PR_ERROR,
				    PR_ERROR_INVALID_ARGUMENT,
				    _("Settings must be a dictionary of type a{sv}"));
		return NULL;
	}
	if (current != NULL && !g_variant_is_of_type(current, G_VARIANT_TYPE_VARDICT))
		current = NULL;

	merged = pr_settings_merged_new(current);
	g_variant_iter_init(&iter, changes);
	while (g_variant_iter_next(&iter, "{&sv}", &name, &value_raw)) {
		g_autoptr(GVariant) value = value_raw;
		g_autoptr(GVariant) norm = NULL;
		const PrSettingsKey *key = pr_settings_key_find(name);

		if (key == NULL) {
			g_set_error(error,
				    PR_ERROR,
				    PR_ERROR_INVALID_ARGUMENT,
				    _("Unknown setting “%s”"),
				    name);
			return NULL;
		}
		if (g_hash_table_contains(changed, key->name)) {
			g_set_error(error,
				    PR_ERROR,
				    PR_ERROR_INVALID_ARGUMENT,
				    _("Setting “%s” is given more than once"),
				    key->name);
			return NULL;
		}
		norm = pr_settings_check_value(key, value, error);
		if (norm == NULL)
			return NULL;
		g_hash_table_add(changed, (gpointer)key->name);
		g_hash_table_replace(merged, (gpointer)key->name, g_variant_ref(norm));
		g_variant_builder_add(&builder, "{sv}", key->name, norm);
	}
	if (!pr_settings_check_cross(merged, changed, adding, error))
		return NULL;
	if (merged_out != NULL)
		*merged_out = g_steal_pointer(&merged);
	return g_variant_builder_end(&builder);
}

gboolean
pr_settings_validate(GVariant *changes, gboolean adding, GVariant *current, GError **error)
{
	g_autoptr(GVariant) norm = NULL;

	norm = pr_settings_normalize_internal(changes, adding, current, NULL, error);
	if (norm == NULL)
		return FALSE;
	g_variant_ref_sink(norm);
	return TRUE;
}

GVariant *
pr_settings_normalize(GVariant *changes, gboolean adding, GVariant *current, GError **error)
{
	return pr_settings_normalize_internal(changes, adding, current, NULL, error);
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

/* Every key as stored (no display-name substitution). */
static GVariant *
pr_settings_dup_all_raw(GSettings *settings)
{
	g_auto(GVariantBuilder) builder = G_VARIANT_BUILDER_INIT(G_VARIANT_TYPE_VARDICT);

	for (guint i = 0; i < G_N_ELEMENTS(pr_settings_keys); i++) {
		const gchar *name = pr_settings_keys[i].name;
		g_variant_builder_add(&builder, "{sv}", name, g_settings_get_value(settings, name));
	}
	return g_variant_builder_end(&builder);
}

static gchar *
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
	for (guint i = 0; i < G_N_ELEMENTS(pr_settings_keys); i++) {
		const gchar *name = pr_settings_keys[i].name;
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
	norm = pr_settings_normalize_internal(changes, FALSE, current, NULL, error);
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

	norm = pr_settings_normalize_internal(settings, TRUE, NULL, NULL, error);
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

/* PrAccountConfig */

static gchar *
pr_account_config_dup_string(GVariant *dict, const gchar *name)
{
	const gchar *value = "";
	g_variant_lookup(dict, name, "&s", &value);
	return g_strdup(value);
}

static gboolean
pr_account_config_get_boolean(GVariant *dict, const gchar *name)
{
	gboolean value = FALSE;
	g_variant_lookup(dict, name, "b", &value);
	return value;
}

static guint16
pr_account_config_get_uint16(GVariant *dict, const gchar *name)
{
	guint16 value = 0;
	g_variant_lookup(dict, name, "q", &value);
	return value;
}

static guint32
pr_account_config_get_uint32(GVariant *dict, const gchar *name)
{
	guint32 value = 0;
	g_variant_lookup(dict, name, "u", &value);
	return value;
}

static gint32
pr_account_config_get_int32(GVariant *dict, const gchar *name)
{
	gint32 value = 0;
	g_variant_lookup(dict, name, "i", &value);
	return value;
}

static guint64
pr_account_config_get_uint64(GVariant *dict, const gchar *name)
{
	guint64 value = 0;
	g_variant_lookup(dict, name, "t", &value);
	return value;
}

/* @dict holds every key (stored values or the merged view). */
static PrAccountConfig *
pr_account_config_new_from_dict(GVariant *dict)
{
	PrAccountConfig *c = g_new0(PrAccountConfig, 1);
	g_autofree gchar *display_name = pr_account_config_dup_string(dict, "display-name");

	c->host = pr_account_config_dup_string(dict, "host");
	c->user = pr_account_config_dup_string(dict, "user");
	c->display_name = pr_settings_make_display_name(display_name, c->user, c->host);
	c->port = pr_account_config_get_uint16(dict, "port");
	c->security = pr_account_config_dup_string(dict, "security");
	c->port_effective =
		c->port != 0 ? c->port : (g_strcmp0(c->security, "tls") == 0 ? 993 : 143);
	c->allow_insecure = pr_account_config_get_boolean(dict, "allow-insecure");
	c->compress = pr_account_config_get_boolean(dict, "compress");
	c->auth = pr_account_config_dup_string(dict, "auth");
	c->timeout = pr_account_config_get_uint32(dict, "timeout");
	c->tls_ca_file = pr_account_config_dup_string(dict, "tls-ca-file");
	c->tls_pinned_certificate = pr_account_config_dup_string(dict, "tls-pinned-certificate");
	c->folder_path = pr_account_config_dup_string(dict, "folder-path");
	c->folder_sync = pr_account_config_dup_string(dict, "folder-sync");
	c->subscription_update = pr_account_config_dup_string(dict, "subscription-update");
	c->inbox_sync_limit = pr_account_config_get_int32(dict, "inbox-sync-limit");
	c->mailbox_sync_limit = pr_account_config_get_int32(dict, "mailbox-sync-limit");
	c->sync_search = pr_account_config_dup_string(dict, "sync-search");
	c->get_mail_parts = pr_account_config_dup_string(dict, "get-mail-parts");
	c->body_text_size_limit = pr_account_config_get_uint64(dict, "body-text-size-limit");
	c->attachment_size_limit = pr_account_config_get_uint64(dict, "attachment-size-limit");
	c->total_size_limit = pr_account_config_get_uint64(dict, "total-size-limit");
	c->fetch_chunk_size = pr_account_config_get_uint32(dict, "fetch-chunk-size");
	c->idle = pr_account_config_get_boolean(dict, "idle");
	c->idle_timeout = pr_account_config_get_uint32(dict, "idle-timeout");
	c->sync_interval = pr_account_config_get_uint32(dict, "sync-interval");
	c->offline_operations = pr_account_config_get_boolean(dict, "offline-operations");
	c->update_seen_flags = pr_account_config_get_boolean(dict, "update-seen-flags");
	c->delete_on_disconnect = pr_account_config_get_boolean(dict, "delete-on-disconnect");
	c->use_expunge = pr_account_config_get_boolean(dict, "use-expunge");
	c->send_on_next_connection = pr_account_config_get_boolean(dict, "send-on-next-connection");
	c->smtp_host = pr_account_config_dup_string(dict, "smtp-host");
	c->smtp_port = pr_account_config_get_uint16(dict, "smtp-port");
	c->smtp_security = pr_account_config_dup_string(dict, "smtp-security");
	if (c->smtp_port != 0)
		c->smtp_port_effective = c->smtp_port;
	else if (g_strcmp0(c->smtp_security, "tls") == 0)
		c->smtp_port_effective = 465;
	else if (g_strcmp0(c->smtp_security, "starttls") == 0)
		c->smtp_port_effective = 587;
	else
		c->smtp_port_effective = 25;
	c->smtp_user = pr_account_config_dup_string(dict, "smtp-user");
	c->from_address = pr_account_config_dup_string(dict, "from-address");
	c->save_sent = pr_account_config_get_boolean(dict, "save-sent");
	c->sent_folder = pr_account_config_dup_string(dict, "sent-folder");
	c->drafts_folder = pr_account_config_dup_string(dict, "drafts-folder");
	c->acknowledge_receipts = pr_account_config_get_boolean(dict, "acknowledge-receipts");
	return c;
}

PrAccountConfig *
pr_account_config_new_from_settings(GSettings *settings)
{
	g_autoptr(GVariant) dict = NULL;

	g_return_val_if_fail(G_IS_SETTINGS(settings), NULL);
	dict = g_variant_ref_sink(pr_settings_dup_all_raw(settings));
	return pr_account_config_new_from_dict(dict);
}

PrAccountConfig *
pr_account_config_new_from_variant(GVariant *settings)
{
	g_autoptr(GVariant) dict = NULL;
	g_auto(GVariantBuilder) builder = G_VARIANT_BUILDER_INIT(G_VARIANT_TYPE_VARDICT);

	for (guint i = 0; i < G_N_ELEMENTS(pr_settings_keys); i++) {
		const PrSettingsKey *key = &pr_settings_keys[i];
		g_autoptr(GVariant) given = NULL;
		g_autoptr(GVariant) value = NULL;

		if (settings != NULL && g_variant_is_of_type(settings, G_VARIANT_TYPE_VARDICT))
			given = g_variant_lookup_value(settings, key->name, NULL);
		/* the caller validated: anything that still fails keeps the default */
		if (given != NULL)
			value = pr_settings_check_value(key, given, NULL);
		if (value == NULL)
			value = pr_settings_key_default(key);
		g_variant_builder_add(&builder, "{sv}", key->name, value);
	}
	dict = g_variant_ref_sink(g_variant_builder_end(&builder));
	return pr_account_config_new_from_dict(dict);
}

void
pr_account_config_free(PrAccountConfig *config)
{
	if (config == NULL)
		return;
	g_free(config->display_name);
	g_free(config->host);
	g_free(config->security);
	g_free(config->user);
	g_free(config->auth);
	g_free(config->tls_ca_file);
	g_free(config->tls_pinned_certificate);
	g_free(config->folder_path);
	g_free(config->folder_sync);
	g_free(config->subscription_update);
	g_free(config->sync_search);
	g_free(config->get_mail_parts);
	g_free(config->smtp_host);
	g_free(config->smtp_security);
	g_free(config->smtp_user);
	g_free(config->from_address);
	g_free(config->sent_folder);
	g_free(config->drafts_folder);
	g_free(config);
}
