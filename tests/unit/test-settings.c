/*
 * Copyright 2026 The Postroom developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <gio/gio.h>
#include <glib/gstdio.h>

#include "pr-error.h"
#include "pr-settings.h"

/* The contract's defaults, written out independently of the code and the schema. */
static const struct {
	const gchar *key;
	const gchar *value;
} contract_defaults[] = {
	{ "display-name", "''" },
	{ "host", "''" },
	{ "port", "uint16 0" },
	{ "security", "'tls'" },
	{ "allow-insecure", "false" },
	{ "compress", "false" },
	{ "user", "''" },
	{ "auth", "'auto'" },
	{ "timeout", "uint32 60" },
	{ "tls-ca-file", "''" },
	{ "tls-pinned-certificate", "''" },
	{ "folder-path", "''" },
	{ "folder-sync", "'remote-subscribed'" },
	{ "subscription-update", "'neither'" },
	{ "inbox-sync-limit", "-1" },
	{ "mailbox-sync-limit", "-1" },
	{ "sync-search", "''" },
	{ "get-mail-parts", "'body-text-and-attachments'" },
	{ "body-text-size-limit", "uint64 0" },
	{ "attachment-size-limit", "uint64 0" },
	{ "total-size-limit", "uint64 0" },
	{ "fetch-chunk-size", "uint32 20480" },
	{ "idle", "true" },
	{ "idle-timeout", "uint32 1740" },
	{ "sync-interval", "uint32 300" },
	{ "offline-operations", "true" },
	{ "update-seen-flags", "true" },
	{ "delete-on-disconnect", "false" },
	{ "use-expunge", "true" },
	{ "send-on-next-connection", "false" },
	{ "smtp-host", "''" },
	{ "smtp-port", "uint16 0" },
	{ "smtp-security", "'tls'" },
	{ "smtp-user", "''" },
	{ "from-address", "''" },
	{ "save-sent", "true" },
	{ "sent-folder", "''" },
	{ "drafts-folder", "''" },
	{ "acknowledge-receipts", "false" },
};

static GVariant *
parse_dict(const gchar *text)
{
	g_autoptr(GError) error = NULL;
	GVariant *v = g_variant_parse(G_VARIANT_TYPE_VARDICT, text, NULL, NULL, &error);
	g_assert_no_error(error);
	return g_variant_ref_sink(v);
}

/* Validation fails with InvalidArgument and the message names @key. */
static void
assert_invalid(const gchar *text, gboolean adding, const gchar *key)
{
	g_autoptr(GVariant) changes = parse_dict(text);
	g_autoptr(GError) error = NULL;
	g_autofree gchar *quoted = g_strdup_printf("“%s”", key);

	g_assert_false(pr_settings_validate(changes, adding, NULL, &error));
	g_assert_error(error, PR_ERROR, PR_ERROR_INVALID_ARGUMENT);
	if (strstr(error->message, quoted) == NULL)
		g_error("“%s”: message “%s” does not name %s", text, error->message, quoted);
}

static void
assert_valid(const gchar *text, gboolean adding)
{
	g_autoptr(GVariant) changes = parse_dict(text);
	g_autoptr(GError) error = NULL;

	if (!pr_settings_validate(changes, adding, NULL, &error))
		g_error("“%s”: %s", text, error->message);
}

static void
test_settings_schema_matches_table(void)
{
	GSettingsSchemaSource *source = g_settings_schema_source_get_default();
	g_autoptr(GSettingsSchema) schema = NULL;
	g_auto(GStrv) schema_keys = NULL;
	const gchar *const *keys = pr_settings_list_keys();
	g_autoptr(GError) error = NULL;

	g_assert_true(pr_settings_check_schemas(&error));
	g_assert_no_error(error);
	schema = g_settings_schema_source_lookup(source, PR_SETTINGS_SERVICE_SCHEMA_ID, TRUE);
	g_assert_nonnull(schema);
	g_assert_null(g_settings_schema_get_path(schema)); /* relocatable */
	schema_keys = g_settings_schema_list_keys(schema);
	g_assert_cmpuint(g_strv_length(schema_keys), ==, g_strv_length((gchar **)keys));
	g_assert_cmpuint(g_strv_length((gchar **)keys), ==, G_N_ELEMENTS(contract_defaults));

	for (guint i = 0; keys[i] != NULL; i++) {
		g_autoptr(GSettingsSchemaKey) skey = NULL;
		g_autoptr(GVariant) sdefault = NULL;
		g_autoptr(GVariant) tdefault = pr_settings_key_dup_default(keys[i]);
		g_autoptr(GVariant) range = NULL;
		const gchar *kind = NULL;
		g_autoptr(GVariant) detail = NULL;

		g_assert_true(g_settings_schema_has_key(schema, keys[i]));
		skey = g_settings_schema_get_key(schema, keys[i]);
		g_assert_cmpstr(
			g_variant_type_peek_string(g_settings_schema_key_get_value_type(skey)),
			==,
			pr_settings_key_get_type_string(keys[i]));
		sdefault = g_settings_schema_key_get_default_value(skey);
		g_assert_true(g_variant_equal(sdefault, tdefault));
		g_assert_nonnull(g_settings_schema_key_get_summary(skey));
		g_assert_nonnull(g_settings_schema_key_get_description(skey));

		/* the schema's choices and ranges are what the code enforces */
		range = g_settings_schema_key_get_range(skey);
		g_variant_get(range, "(&sv)", &kind, &detail);
		if (g_strcmp0(kind, "enum") == 0) {
			GVariantIter iter;
			const gchar *choice;
			g_autoptr(GVariant) changes = NULL;
			g_autoptr(GError) e = NULL;
			g_autofree gchar *text = NULL;

			g_variant_iter_init(&iter, detail);
			while (g_variant_iter_next(&iter, "&s", &choice)) {
				g_autofree gchar *t =
					g_strdup_printf("{'%s': <'%s'>}", keys[i], choice);
				g_autoptr(GVariant) ok = parse_dict(t);
				g_assert_true(pr_settings_validate(ok, FALSE, NULL, NULL));
			}
			text = g_strdup_printf("{'%s': <'not-a-choice'>}", keys[i]);
			changes = parse_dict(text);
			g_assert_false(pr_settings_validate(changes, FALSE, NULL, &e));
			g_assert_error(e, PR_ERROR, PR_ERROR_INVALID_ARGUMENT);
		} else if (g_strcmp0(kind, "range") == 0) {
			g_autoptr(GVariant) min = NULL;
			g_autoptr(GVariant) max = NULL;
			g_autoptr(GVariantBuilder) b = NULL;
			g_autoptr(GVariant) changes = NULL;

			min = g_variant_get_child_value(detail, 0);
			max = g_variant_get_child_value(detail, 1);
			b = g_variant_builder_new(G_VARIANT_TYPE_VARDICT);
			g_variant_builder_add(b, "{sv}", keys[i], min);
			changes = g_variant_ref_sink(g_variant_builder_end(b));
			g_assert_true(pr_settings_validate(changes, FALSE, NULL, NULL));
			g_clear_pointer(&changes, g_variant_unref);
			g_clear_pointer(&b, g_variant_builder_unref);
			b = g_variant_builder_new(G_VARIANT_TYPE_VARDICT);
			g_variant_builder_add(b, "{sv}", keys[i], max);
			changes = g_variant_ref_sink(g_variant_builder_end(b));
			g_assert_true(pr_settings_validate(changes, FALSE, NULL, NULL));
		} else {
			g_assert_cmpstr(kind, ==, "type");
		}
	}

	/* the services list */
	g_clear_pointer(&schema, g_settings_schema_unref);
	schema = g_settings_schema_source_lookup(source, PR_SETTINGS_SCHEMA_ID, TRUE);
	g_assert_nonnull(schema);
	g_assert_cmpstr(g_settings_schema_get_path(schema), ==, PR_SETTINGS_SCHEMA_PATH);
	g_assert_true(g_settings_schema_has_key(schema, "services"));
}

static void
test_settings_defaults(void)
{
	g_autoptr(GSettings) settings = pr_settings_new_for_service("defaults");
	g_autofree gchar *path = NULL;

	g_object_get(settings, "path", &path, NULL);
	g_assert_cmpstr(path, ==, "/org/postroom/Postroom1/services/defaults/");
	for (guint i = 0; i < G_N_ELEMENTS(contract_defaults); i++) {
		g_autoptr(GVariant) value =
			g_settings_get_value(settings, contract_defaults[i].key);
		g_autoptr(GVariant) expected =
			g_variant_parse(NULL, contract_defaults[i].value, NULL, NULL, NULL);
		g_autofree gchar *got = g_variant_print(value, TRUE);
		g_assert_nonnull(expected);
		if (!g_variant_equal(value, expected))
			g_error("%s: got %s, expected %s",
				contract_defaults[i].key,
				got,
				contract_defaults[i].value);
	}
}

static void
test_settings_validate_errors(void)
{
	g_autoptr(GVariant) not_dict = g_variant_ref_sink(g_variant_new_string("x"));
	g_autoptr(GError) error = NULL;

	/* unknown key, wrong type, given twice */
	assert_invalid("{'hots': <'imap.example.com'>}", FALSE, "hots");
	assert_invalid("{'port': <993>}", FALSE, "port"); /* int32, not uint16 */
	assert_invalid("{'idle': <'yes'>}", FALSE, "idle");
	assert_invalid("{'timeout': <int64 60>}", FALSE, "timeout");
	assert_invalid("{'user': <'a'>, 'user': <'b'>}", FALSE, "user");
	g_assert_false(pr_settings_validate(not_dict, FALSE, NULL, &error));
	g_assert_error(error, PR_ERROR, PR_ERROR_INVALID_ARGUMENT);

	/* choices */
	assert_invalid("{'security': <'ssl'>}", FALSE, "security");
	assert_invalid("{'auth': <'gssapi'>}", FALSE, "auth");
	assert_invalid("{'folder-sync': <'some'>}", FALSE, "folder-sync");
	assert_invalid("{'subscription-update': <'all'>}", FALSE, "subscription-update");
	assert_invalid("{'get-mail-parts': <'everything'>}", FALSE, "get-mail-parts");
	assert_invalid("{'smtp-security': <'TLS'>}", FALSE, "smtp-security");

	/* ranges */
	assert_invalid("{'timeout': <uint32 0>}", FALSE, "timeout");
	assert_invalid("{'timeout': <uint32 3601>}", FALSE, "timeout");
	assert_valid("{'timeout': <uint32 3600>}", FALSE);
	assert_invalid("{'inbox-sync-limit': <-2>}", FALSE, "inbox-sync-limit");
	assert_invalid("{'mailbox-sync-limit': <-100>}", FALSE, "mailbox-sync-limit");
	assert_valid("{'mailbox-sync-limit': <0>, 'inbox-sync-limit': <2147483647>}", FALSE);
	assert_invalid("{'idle-timeout': <uint32 1741>}", FALSE, "idle-timeout");
	assert_invalid("{'fetch-chunk-size': <uint32 0>}", FALSE, "fetch-chunk-size");

	/* required on add, and never emptied */
	assert_invalid("{'user': <'ann'>}", TRUE, "host");
	assert_invalid("{'host': <'imap.example.com'>}", TRUE, "user");
	assert_invalid("{'host': <''>, 'user': <'ann'>}", TRUE, "host");
	assert_invalid("{'host': <''>}", FALSE, "host");
	assert_invalid("{'user': <''>}", FALSE, "user");
	assert_valid("{'host': <'imap.example.com'>, 'user': <'ann'>}", TRUE);
	assert_valid("{'sync-interval': <uint32 0>}", FALSE);

	/* host syntax */
	assert_invalid("{'host': <'imap.example.com:993'>}", FALSE, "host");
	assert_invalid("{'host': <'imap example.com'>}", FALSE, "host");
	assert_invalid("{'host': <'imap..example.com'>}", FALSE, "host");
	assert_invalid("{'host': <'-imap.example.com'>}", FALSE, "host");
	assert_invalid("{'host': <'[::1]'>}", FALSE, "host");
	assert_invalid("{'host': <'imap\\u0001.example.com'>}", FALSE, "host");
	assert_invalid("{'smtp-host': <'smtp/example'>}", FALSE, "smtp-host");
	assert_valid("{'host': <'imap.example.com.'>}", FALSE);
	assert_valid("{'host': <'192.0.2.7'>}", FALSE);
	assert_valid("{'host': <'2001:db8::1'>}", FALSE);
	assert_valid("{'host': <'bücher.example'>}", FALSE);
	assert_valid("{'host': <'mail_1.example.org'>}", FALSE);
	assert_valid("{'smtp-host': <''>}", FALSE);
	{
		g_autoptr(GString) long_host = g_string_new(NULL);
		g_autofree gchar *text = NULL;
		while (long_host->len < 254)
			g_string_append(long_host, "abcdefgh.");
		g_string_truncate(long_host, 254);
		text = g_strdup_printf("{'host': <'%s'>}", long_host->str);
		assert_invalid(text, FALSE, "host");
	}

	/* control characters never reach a command line */
	assert_invalid("{'sync-search': <'ALL\\r\\nA1 DELETE INBOX'>}", FALSE, "sync-search");
	assert_invalid("{'user': <'ann\\n'>}", FALSE, "user");
	assert_invalid("{'from-address': <'ann'>}", FALSE, "from-address");
	assert_valid("{'from-address': <'Ann <ann@example.com>'>}", FALSE);
}

static void
test_settings_security_none(void)
{
	const gchar *loopback[] = { "localhost", "LOCALHOST", "127.0.0.1", "127.1.2.3", "::1" };

	assert_invalid("{'host': <'imap.example.com'>, 'user': <'ann'>, 'security': <'none'>}",
		       TRUE,
		       "security");
	assert_invalid(
		"{'host': <'10.0.0.1'>, 'user': <'ann'>, 'security': <'none'>}", TRUE, "security");
	assert_valid("{'host': <'imap.example.com'>, 'user': <'ann'>, 'security': <'none'>, "
		     "'allow-insecure': <true>}",
		     TRUE);
	assert_valid("{'host': <'imap.example.com'>, 'user': <'ann'>, 'security': <'starttls'>}",
		     TRUE);
	for (guint i = 0; i < G_N_ELEMENTS(loopback); i++) {
		g_autofree gchar *text = g_strdup_printf(
			"{'host': <'%s'>, 'user': <'ann'>, 'security': <'none'>}", loopback[i]);
		assert_valid(text, TRUE);
	}
	/* SMTP: its own host, or the IMAP host when it has none */
	assert_invalid(
		"{'host': <'localhost'>, 'user': <'ann'>, 'smtp-host': <'smtp.example.com'>, "
		"'smtp-security': <'none'>}",
		TRUE,
		"smtp-security");
	assert_invalid("{'host': <'imap.example.com'>, 'user': <'ann'>, "
		       "'smtp-security': <'none'>}",
		       TRUE,
		       "smtp-security");
	assert_valid("{'host': <'imap.example.com'>, 'user': <'ann'>, 'smtp-host': <'127.0.0.1'>, "
		     "'smtp-security': <'none'>}",
		     TRUE);

	/* updates: the merged view decides */
	{
		g_autoptr(GSettings) settings = pr_settings_new_for_service("insecure");
		g_autoptr(GVariant) add = parse_dict(
			"{'host': <'localhost'>, 'user': <'ann'>, 'security': <'none'>}");
		g_autoptr(GVariant) to_remote = parse_dict("{'host': <'imap.example.com'>}");
		g_autoptr(GVariant) allow = parse_dict("{'allow-insecure': <true>}");
		g_autoptr(GVariant) disallow = parse_dict("{'allow-insecure': <false>}");
		g_autoptr(GError) error = NULL;
		g_autofree gchar *host = NULL;

		g_assert_true(pr_settings_apply(settings, add, &error));
		g_assert_no_error(error);
		g_assert_false(pr_settings_apply(settings, to_remote, &error));
		g_assert_error(error, PR_ERROR, PR_ERROR_INVALID_ARGUMENT);
		g_assert_nonnull(strstr(error->message, "“security”"));
		g_clear_error(&error);
		host = g_settings_get_string(settings, "host");
		g_assert_cmpstr(host, ==, "localhost");

		g_assert_true(pr_settings_apply(settings, allow, &error));
		g_assert_true(pr_settings_apply(settings, to_remote, &error));
		g_assert_no_error(error);
		g_assert_false(pr_settings_apply(settings, disallow, &error));
		g_assert_error(error, PR_ERROR, PR_ERROR_INVALID_ARGUMENT);
		g_assert_true(g_settings_get_boolean(settings, "allow-insecure"));
		pr_settings_reset_all(settings);
	}
}

static void
test_settings_pin(void)
{
	g_autoptr(GSettings) settings = pr_settings_new_for_service("pin");
	const gchar *lower = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
	const gchar *inputs[] = {
		"0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
		"0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF",
		"01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:EF:"
		"01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:EF",
	};

	for (guint i = 0; i < G_N_ELEMENTS(inputs); i++) {
		g_autoptr(GVariantBuilder) b = g_variant_builder_new(G_VARIANT_TYPE_VARDICT);
		g_autoptr(GVariant) changes = NULL;
		g_autoptr(GVariant) norm = NULL;
		g_autoptr(GError) error = NULL;
		g_autofree gchar *stored = NULL;
		const gchar *pin = NULL;

		g_variant_builder_add(
			b, "{sv}", "tls-pinned-certificate", g_variant_new_string(inputs[i]));
		changes = g_variant_ref_sink(g_variant_builder_end(b));
		norm = g_variant_ref_sink(pr_settings_normalize(changes, FALSE, NULL, &error));
		g_assert_no_error(error);
		g_assert_true(g_variant_lookup(norm, "tls-pinned-certificate", "&s", &pin));
		g_assert_cmpstr(pin, ==, lower);

		g_settings_reset(settings, "tls-pinned-certificate");
		g_assert_true(pr_settings_apply(settings, changes, &error));
		g_assert_no_error(error);
		stored = g_settings_get_string(settings, "tls-pinned-certificate");
		g_assert_cmpstr(stored, ==, lower);
	}
	/* too short, too long, not hex, another separator */
	assert_invalid("{'tls-pinned-certificate': <'0123'>}", FALSE, "tls-pinned-certificate");
	assert_invalid("{'tls-pinned-certificate': <'0123456789abcdef0123456789abcdef0123456789abcd"
		       "ef0123456789abcdef00'>}",
		       FALSE,
		       "tls-pinned-certificate");
	assert_invalid("{'tls-pinned-certificate': <'g123456789abcdef0123456789abcdef0123456789abcd"
		       "ef0123456789abcdef'>}",
		       FALSE,
		       "tls-pinned-certificate");
	assert_invalid("{'tls-pinned-certificate': <'01 23456789abcdef0123456789abcdef0123456789ab"
		       "cdef0123456789abcdef'>}",
		       FALSE,
		       "tls-pinned-certificate");
	assert_valid("{'tls-pinned-certificate': <''>}", FALSE);
	pr_settings_reset_all(settings);
}

static void
test_settings_ca_file(void)
{
	g_autoptr(GError) error = NULL;
	g_autofree gchar *dir = g_dir_make_tmp("pr-settings-XXXXXX", &error);
	g_autofree gchar *file = NULL;
	g_autofree gchar *missing = NULL;
	g_autofree gchar *text = NULL;

	g_assert_no_error(error);
	file = g_build_filename(dir, "ca.pem", NULL);
	missing = g_build_filename(dir, "missing.pem", NULL);
	g_assert_true(g_file_set_contents(file, "-----BEGIN CERTIFICATE-----\n", -1, &error));

	text = g_strdup_printf("{'tls-ca-file': <'%s'>}", file);
	assert_valid(text, FALSE);
	g_free(text);
	text = g_strdup_printf("{'tls-ca-file': <'%s'>}", missing);
	assert_invalid(text, FALSE, "tls-ca-file");
	g_free(text);
	text = g_strdup_printf("{'tls-ca-file': <'%s'>}", dir);
	assert_invalid(text, FALSE, "tls-ca-file");
	assert_invalid("{'tls-ca-file': <'ca.pem'>}", FALSE, "tls-ca-file");
	assert_valid("{'tls-ca-file': <''>}", FALSE);

	g_assert_cmpint(g_unlink(file), ==, 0);
	g_assert_cmpint(g_rmdir(dir), ==, 0);
}

static void
test_settings_round_trip(void)
{
	g_autoptr(GSettings) settings = pr_settings_new_for_service("round_trip");
	g_autoptr(GVariant) changes =
		parse_dict("{'host': <'imap.example.com'>, 'user': <'ann'>, "
			   "'port': <uint16 10993>, 'security': <'starttls'>, "
			   "'auth': <'scram-sha-256'>, 'timeout': <uint32 30>, "
			   "'inbox-sync-limit': <100>, 'idle': <false>, "
			   "'total-size-limit': <uint64 5000000000>, "
			   "'sync-search': <'SINCE 1-Jan-2024'>, "
			   "'smtp-host': <'smtp.example.com'>, "
			   "'smtp-security': <'starttls'>}");
	g_autoptr(GVariant) all = NULL;
	g_autoptr(GVariant) renamed = parse_dict("{'display-name': <'Work'>}");
	g_autoptr(PrAccountConfig) config = NULL;
	g_autoptr(GError) error = NULL;
	g_autofree gchar *display_name = NULL;
	GVariantIter iter;
	const gchar *key;
	GVariant *value;
	guint n = 0;

	g_assert_true(pr_settings_apply(settings, changes, &error));
	g_assert_no_error(error);
	/* the caller's object is not left in delay mode */
	g_assert_false(g_settings_get_has_unapplied(settings));
	g_assert_true(g_settings_set_boolean(settings, "compress", TRUE));
	g_assert_false(g_settings_get_has_unapplied(settings));

	all = g_variant_ref_sink(pr_settings_dup_all(settings));
	g_assert_true(g_variant_is_of_type(all, G_VARIANT_TYPE_VARDICT));
	g_variant_iter_init(&iter, changes);
	while (g_variant_iter_loop(&iter, "{&sv}", &key, &value)) {
		g_autoptr(GVariant) got = g_variant_lookup_value(all, key, NULL);
		g_assert_nonnull(got);
		g_assert_true(g_variant_equal(got, value));
	}
	/* every key, nothing else (in particular no password) */
	g_variant_iter_init(&iter, all);
	while (g_variant_iter_loop(&iter, "{&sv}", &key, &value)) {
		g_assert_nonnull(pr_settings_key_get_type_string(key));
		g_assert_true(g_variant_is_of_type(
			value, G_VARIANT_TYPE(pr_settings_key_get_type_string(key))));
		n++;
	}
	g_assert_cmpuint(n, ==, G_N_ELEMENTS(contract_defaults));
	g_assert_false(g_variant_lookup(all, "password", "s", NULL));

	/* display-name defaults to user@host */
	{
		const gchar *dn = NULL;
		g_assert_true(g_variant_lookup(all, "display-name", "&s", &dn));
		g_assert_cmpstr(dn, ==, "ann@imap.example.com");
	}
	display_name = pr_settings_dup_display_name(settings);
	g_assert_cmpstr(display_name, ==, "ann@imap.example.com");

	config = pr_account_config_new_from_settings(settings);
	g_assert_cmpstr(config->display_name, ==, "ann@imap.example.com");
	g_assert_cmpstr(config->host, ==, "imap.example.com");
	g_assert_cmpstr(config->user, ==, "ann");
	g_assert_cmpuint(config->port, ==, 10993);
	g_assert_cmpuint(config->port_effective, ==, 10993);
	g_assert_cmpstr(config->security, ==, "starttls");
	g_assert_cmpstr(config->auth, ==, "scram-sha-256");
	g_assert_cmpuint(config->timeout, ==, 30);
	g_assert_cmpint(config->inbox_sync_limit, ==, 100);
	g_assert_cmpint(config->mailbox_sync_limit, ==, -1);
	g_assert_false(config->idle);
	g_assert_true(config->compress);
	g_assert_cmpuint(config->total_size_limit, ==, 5000000000);
	g_assert_cmpuint(config->fetch_chunk_size, ==, 20480);
	g_assert_cmpuint(config->idle_timeout, ==, 1740);
	g_assert_cmpuint(config->sync_interval, ==, 300);
	g_assert_cmpstr(config->sync_search, ==, "SINCE 1-Jan-2024");
	g_assert_cmpstr(config->get_mail_parts, ==, "body-text-and-attachments");
	g_assert_cmpstr(config->smtp_host, ==, "smtp.example.com");
	g_assert_cmpuint(config->smtp_port_effective, ==, 587);
	g_assert_cmpstr(config->tls_pinned_certificate, ==, "");
	g_assert_true(config->offline_operations);
	g_assert_true(config->save_sent);
	g_assert_false(config->acknowledge_receipts);

	g_assert_true(pr_settings_apply(settings, renamed, &error));
	g_clear_pointer(&display_name, g_free);
	display_name = pr_settings_dup_display_name(settings);
	g_assert_cmpstr(display_name, ==, "Work");

	pr_settings_reset_all(settings);
}

static void
count_changed_cb(GSettings *settings, const gchar *key, gpointer user_data)
{
	guint *count = user_data;
	(*count)++;
}

static void
test_settings_apply_atomic(void)
{
	g_autoptr(GSettings) settings = pr_settings_new_for_service("atomic");
	g_autoptr(GVariant) changes =
		parse_dict("{'idle': <false>, 'port': <uint16 1143>, 'security': <'bogus'>}");
	g_autoptr(GVariant) port = NULL;
	g_autoptr(GError) error = NULL;
	guint changed = 0;

	g_signal_connect(settings, "changed", G_CALLBACK(count_changed_cb), &changed);
	g_assert_false(pr_settings_apply(settings, changes, &error));
	g_assert_error(error, PR_ERROR, PR_ERROR_INVALID_ARGUMENT);
	g_assert_true(g_settings_get_boolean(settings, "idle"));
	port = g_settings_get_value(settings, "port");
	g_assert_cmpuint(g_variant_get_uint16(port), ==, 0);
	g_assert_null(g_settings_get_user_value(settings, "idle"));
	while (g_main_context_iteration(NULL, FALSE))
		;
	g_assert_cmpuint(changed, ==, 0);

	/* a valid batch is seen by the caller's object */
	g_clear_error(&error);
	g_clear_pointer(&changes, g_variant_unref);
	changes = parse_dict("{'idle': <false>, 'port': <uint16 1143>}");
	g_assert_true(pr_settings_apply(settings, changes, &error));
	g_assert_no_error(error);
	while (g_main_context_iteration(NULL, FALSE))
		;
	g_assert_cmpuint(changed, >=, 1);
	g_assert_false(g_settings_get_boolean(settings, "idle"));
	pr_settings_reset_all(settings);
}

static void
test_settings_reset_all(void)
{
	g_autoptr(GSettings) settings = pr_settings_new_for_service("reset");
	g_autoptr(GVariant) changes = parse_dict("{'host': <'imap.example.com'>, 'user': <'ann'>, "
						 "'idle': <false>, 'timeout': <uint32 10>, "
						 "'display-name': <'Ann'>}");
	const gchar *const *keys = pr_settings_list_keys();
	g_autoptr(GError) error = NULL;

	g_assert_true(pr_settings_apply(settings, changes, &error));
	g_assert_no_error(error);
	g_assert_nonnull(g_settings_get_user_value(settings, "host"));
	pr_settings_reset_all(settings);
	for (guint i = 0; keys[i] != NULL; i++) {
		g_autoptr(GVariant) user_value = g_settings_get_user_value(settings, keys[i]);
		if (user_value != NULL)
			g_error("%s still set after reset", keys[i]);
	}
	g_assert_true(g_settings_get_boolean(settings, "idle"));
}

static void
test_settings_service_id(void)
{
	const gchar *taken[] = { "ann_imap_example_com", "ann_imap_example_com_2", NULL };
	g_autofree gchar *id1 = pr_settings_make_service_id("ann", "imap.example.com", NULL);
	g_autofree gchar *id2 =
		pr_settings_make_service_id("Ann@Example.COM", "IMAP.Example.com", NULL);
	g_autofree gchar *id3 = pr_settings_make_service_id("ann", "imap.example.com", taken);
	g_autofree gchar *id4 = pr_settings_make_service_id("", "", NULL);
	g_autofree gchar *id5 = pr_settings_make_service_id("über-user", "bücher.example", NULL);
	g_autofree gchar *id6 = NULL;
	g_autoptr(GString) long_user = g_string_new(NULL);

	g_assert_cmpstr(id1, ==, "ann_imap_example_com");
	g_assert_cmpstr(id2, ==, "ann_imap_example_com");
	g_assert_cmpstr(id3, ==, "ann_imap_example_com_3");
	g_assert_cmpstr(id4, ==, "account");
	g_assert_true(pr_settings_is_valid_service_id(id5));
	g_assert_cmpstr(id5, ==, "ber_user_b_cher_example");

	for (guint i = 0; i < 100; i++)
		g_string_append(long_user, "x.");
	id6 = pr_settings_make_service_id(long_user->str, "imap.example.com", NULL);
	g_assert_true(pr_settings_is_valid_service_id(id6));
	g_assert_cmpuint(strlen(id6), <=, 64);

	/* unique among many */
	{
		g_autoptr(GPtrArray) ids = g_ptr_array_new_with_free_func(g_free);
		for (guint i = 0; i < 20; i++) {
			gchar *id;
			g_ptr_array_add(ids, NULL);
			id = pr_settings_make_service_id(
				"ann", "imap.example.com", (const gchar *const *)ids->pdata);
			g_ptr_array_remove_index(ids, ids->len - 1);
			g_assert_true(pr_settings_is_valid_service_id(id));
			for (guint j = 0; j < ids->len; j++)
				g_assert_cmpstr(id, !=, g_ptr_array_index(ids, j));
			g_ptr_array_add(ids, id);
		}
	}

	g_assert_true(pr_settings_is_valid_service_id("a"));
	g_assert_true(pr_settings_is_valid_service_id("ann_2"));
	g_assert_false(pr_settings_is_valid_service_id(NULL));
	g_assert_false(pr_settings_is_valid_service_id(""));
	g_assert_false(pr_settings_is_valid_service_id("Ann"));
	g_assert_false(pr_settings_is_valid_service_id("a-b"));
	g_assert_false(pr_settings_is_valid_service_id("a/b"));
	g_assert_false(pr_settings_is_valid_service_id("../x"));
	g_assert_false(pr_settings_is_valid_service_id(
		"a0123456789012345678901234567890123456789012345678901234567890123"));
}

static void
test_settings_needs_reconnect(void)
{
	const gchar *reconnect[] = {
		"host",	   "port",     "security",	 "user",	"auth",
		"timeout", "compress", "allow-insecure", "tls-ca-file", "tls-pinned-certificate"
	};
	const gchar *live[] = { "display-name",	    "idle",	 "sync-interval", "folder-sync",
				"inbox-sync-limit", "smtp-host", "save-sent" };

	for (guint i = 0; i < G_N_ELEMENTS(reconnect); i++)
		g_assert_true(pr_settings_key_needs_reconnect(reconnect[i]));
	for (guint i = 0; i < G_N_ELEMENTS(live); i++)
		g_assert_false(pr_settings_key_needs_reconnect(live[i]));
	g_assert_false(pr_settings_key_needs_reconnect("no-such-key"));
}

static void
test_settings_services(void)
{
	g_autoptr(GVariant) add = parse_dict(
		"{'host': <'imap.example.com'>, 'user': <'bob'>, 'tls-pinned-certificate': "
		"<'AA:BB:CC:DD:EE:FF:00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:00:11:22:33:"
		"44:"
		"55:66:77:88:99'>}");
	g_autoptr(GVariant) bad = parse_dict("{'host': <'imap.example.com'>}");
	g_autoptr(GError) error = NULL;
	g_autofree gchar *id1 = NULL;
	g_autofree gchar *id2 = NULL;
	g_autofree gchar *pin = NULL;
	g_autoptr(GSettings) settings = NULL;
	g_auto(GStrv) ids = NULL;

	pr_settings_add_service_id("other");
	pr_settings_add_service_id("other");
	ids = pr_settings_dup_service_ids();
	g_assert_cmpuint(g_strv_length(ids), ==, 1);
	g_clear_pointer(&ids, g_strfreev);

	g_assert_null(pr_settings_create_service(bad, &error));
	g_assert_error(error, PR_ERROR, PR_ERROR_INVALID_ARGUMENT);
	g_clear_error(&error);

	id1 = pr_settings_create_service(add, &error);
	g_assert_no_error(error);
	g_assert_cmpstr(id1, ==, "bob_imap_example_com");
	id2 = pr_settings_create_service(add, &error);
	g_assert_no_error(error);
	g_assert_cmpstr(id2, ==, "bob_imap_example_com_2");
	ids = pr_settings_dup_service_ids();
	g_assert_cmpuint(g_strv_length(ids), ==, 3);
	g_assert_cmpstr(ids[0], ==, "other");
	g_assert_cmpstr(ids[1], ==, id1);
	g_assert_cmpstr(ids[2], ==, id2);
	g_clear_pointer(&ids, g_strfreev);

	settings = pr_settings_new_for_service(id2);
	pin = g_settings_get_string(settings, "tls-pinned-certificate");
	g_assert_cmpstr(
		pin, ==, "aabbccddeeff00112233445566778899aabbccddeeff00112233445566778899");

	pr_settings_delete_service(id2);
	g_assert_null(g_settings_get_user_value(settings, "host"));
	pr_settings_delete_service(id1);
	pr_settings_remove_service_id("other");
	pr_settings_remove_service_id("never-there");
	ids = pr_settings_dup_service_ids();
	g_assert_cmpuint(g_strv_length(ids), ==, 0);
}

static void
test_settings_config_from_variant(void)
{
	g_autoptr(GVariant) probe = parse_dict(
		"{'host': <'localhost'>, 'user': <'ann'>, 'security': <'none'>, "
		"'smtp-security': <'none'>, 'tls-pinned-certificate': <'AA:BB:CC:DD:EE:FF:00:11:22:"
		"33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:00:11:22:33:44:55:66:77:88:99'>}");
	g_autoptr(GVariant) odd = parse_dict(
		"{'host': <'localhost'>, 'timeout': <uint32 0>, 'port': <993>, 'password': <'x'>}");
	g_autoptr(PrAccountConfig) config = NULL;
	g_autoptr(PrAccountConfig) fallback = NULL;

	g_assert_true(pr_settings_validate(probe, TRUE, NULL, NULL));
	config = pr_account_config_new_from_variant(probe);
	g_assert_nonnull(config);
	g_assert_cmpstr(config->host, ==, "localhost");
	g_assert_cmpstr(config->security, ==, "none");
	g_assert_cmpuint(config->port, ==, 0);
	g_assert_cmpuint(config->port_effective, ==, 143);
	g_assert_cmpuint(config->smtp_port_effective, ==, 25);
	g_assert_cmpuint(config->timeout, ==, 60);
	g_assert_cmpstr(config->display_name, ==, "ann@localhost");
	g_assert_cmpstr(config->tls_pinned_certificate,
			==,
			"aabbccddeeff00112233445566778899aabbccddeeff00112233445566778899");

	/* unvalidated input never yields out-of-range values: those keep the defaults */
	g_assert_false(pr_settings_validate(odd, FALSE, NULL, NULL));
	fallback = pr_account_config_new_from_variant(odd);
	g_assert_cmpuint(fallback->timeout, ==, 60);
	g_assert_cmpuint(fallback->port, ==, 0);
	g_assert_cmpuint(fallback->port_effective, ==, 993);
	g_assert_cmpstr(fallback->user, ==, "");
}

int
main(int argc, char **argv)
{
	/* before anything touches GSettings: never the user's dconf */
	g_setenv("GSETTINGS_BACKEND", "memory", TRUE);
	g_test_init(&argc, &argv, NULL);
	if (g_getenv("GSETTINGS_SCHEMA_DIR") == NULL) {
		g_autofree gchar *dir =
			g_test_build_filename(G_TEST_BUILT, "..", "..", "data", NULL);
		g_setenv("GSETTINGS_SCHEMA_DIR", dir, TRUE);
	}

	g_test_add_func("/settings/schema-matches-table", test_settings_schema_matches_table);
	g_test_add_func("/settings/defaults", test_settings_defaults);
	g_test_add_func("/settings/validate-errors", test_settings_validate_errors);
	g_test_add_func("/settings/security-none", test_settings_security_none);
	g_test_add_func("/settings/pin", test_settings_pin);
	g_test_add_func("/settings/ca-file", test_settings_ca_file);
	g_test_add_func("/settings/round-trip", test_settings_round_trip);
	g_test_add_func("/settings/apply-atomic", test_settings_apply_atomic);
	g_test_add_func("/settings/reset-all", test_settings_reset_all);
	g_test_add_func("/settings/service-id", test_settings_service_id);
	g_test_add_func("/settings/needs-reconnect", test_settings_needs_reconnect);
	g_test_add_func("/settings/services", test_settings_services);
	g_test_add_func("/settings/config-from-variant", test_settings_config_from_variant);
	return g_test_run();
}
