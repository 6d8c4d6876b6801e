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
#include "pr-settings-private.h"

/* The key table of the settings contract and the validation of a{sv} dictionaries against
 * it; pr-settings.c stores what passes in GSettings. */

/* Strings from the bus end up in dconf and in IMAP commands: keep them bounded. */
#define PR_SETTINGS_STRING_MAX 4096
#define PR_SETTINGS_HOST_MAX   253
#define PR_SETTINGS_LABEL_MAX  63

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

GVariant *
pr_settings_complete(GVariant *settings)
{
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
	return g_variant_builder_end(&builder);
}
