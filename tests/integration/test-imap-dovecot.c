/*
 * Copyright 2026 The Postroom developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

/*
 * PrImapClient against a real Dovecot (tests/servers/with-dovecot): security modes,
 * certificate trust and pins, every SASL mechanism, capabilities, LIST, EXAMINE, QRESYNC,
 * streaming the seeded INBOX through the literal sink, IDLE, COMPRESS, cancellation and a
 * timeout. The seed (PR_TEST_SEED) needs INBOX, Archive, Notify and Changes.
 */
#define G_LOG_DOMAIN "PrTest"

#include <string.h>

#include "pr-test-imap.h"

typedef struct {
	const gchar *host;
	guint16 port;
	guint16 imaps_port;
	guint16 badcert_port;
	const gchar *ca_file;
	const gchar *sha256;
	const gchar *user;
	const gchar *password;
	const gchar *user2;
	const gchar *password2;
	const gchar *maildir;
	GHashTable *seed; /* folder -> count */
} TestEnv;

static TestEnv env;

static guint
seed_count(const gchar *folder)
{
	return GPOINTER_TO_UINT(g_hash_table_lookup(env.seed, folder));
}

static PrImapClient *
dovecot_client(PrImapSecurity security, gboolean trust_ca)
{
	guint16 port = security == PR_IMAP_SECURITY_TLS ? env.imaps_port : env.port;
	PrImapClient *client = pr_imap_client_new(env.host, port, security);
	g_autoptr(GError) error = NULL;

	pr_imap_client_set_timeout(client, 30);
	if (trust_ca) {
		gboolean ok = pr_imap_client_set_ca_file(client, env.ca_file, &error);
		g_assert_no_error(error);
		g_assert_true(ok);
	}
	return client;
}

/* TLS with the CA, logged in as alice ("auto"); NULL (test failed) when that fails. */
static PrImapClient *
dovecot_login(const gchar *user, const gchar *password, gboolean compress)
{
	g_autoptr(PrImapClient) client = dovecot_client(PR_IMAP_SECURITY_TLS, TRUE);
	g_autoptr(GError) error = NULL;

	pr_imap_client_set_compress(client, compress);
	if (!pr_test_connect(client, NULL, &error) ||
	    !pr_test_login(client, user, password, "auto", &error)) {
		pr_test_assert_no_error(error);
		return NULL;
	}
	return g_steal_pointer(&client);
}

static gboolean
strv_has(gchar **strv, const gchar *str)
{
	return strv != NULL && g_strv_contains((const gchar *const *)strv, str);
}

/* Security modes ------------------------------------------------------------------------ */

static void
test_tls_with_ca(void)
{
	g_autoptr(PrImapClient) client = dovecot_client(PR_IMAP_SECURITY_TLS, TRUE);
	g_autoptr(GError) error = NULL;
	g_auto(GStrv) mechs = NULL;

	if (!pr_test_connect(client, NULL, &error)) {
		pr_test_assert_no_error(error);
		return;
	}
	g_assert_cmpstr(pr_imap_client_get_security_negotiated(client), ==, "tls");
	g_assert_cmpstr(pr_imap_client_get_certificate_sha256(client), ==, env.sha256);
	g_assert_true(pr_imap_client_get_certificate_trusted(client));
	g_assert_nonnull(strstr(pr_imap_client_get_certificate_subject(client), "localhost"));
	g_assert_cmpint(
		pr_imap_client_get_state(client), ==, PR_IMAP_CLIENT_STATE_NOT_AUTHENTICATED);
	g_assert_true(pr_imap_client_has_capability(client, "IMAP4rev1"));
	mechs = pr_imap_client_dup_auth_mechanisms(client);
	g_assert_true(strv_has(mechs, "PLAIN"));
	g_assert_true(strv_has(mechs, "LOGIN"));
	g_assert_true(strv_has(mechs, "CRAM-MD5"));
	g_assert_true(strv_has(mechs, "SCRAM-SHA-256"));

	pr_test_login(client, env.user, env.password, "auto", &error);
	pr_test_assert_no_error(error);
	g_assert_cmpint(pr_imap_client_get_state(client), ==, PR_IMAP_CLIENT_STATE_AUTHENTICATED);
	pr_test_logout(client);
}

static void
test_starttls(void)
{
	g_autoptr(PrImapClient) client = dovecot_client(PR_IMAP_SECURITY_STARTTLS, TRUE);
	g_autoptr(GError) error = NULL;

	if (!pr_test_connect(client, NULL, &error)) {
		pr_test_assert_no_error(error);
		return;
	}
	g_assert_cmpstr(pr_imap_client_get_security_negotiated(client), ==, "starttls");
	g_assert_cmpstr(pr_imap_client_get_certificate_sha256(client), ==, env.sha256);
	g_assert_true(pr_imap_client_get_certificate_trusted(client));
	/* re-read over TLS: Dovecot offers STARTTLS only in plaintext */
	g_assert_true(pr_imap_client_has_capability(client, "AUTH=PLAIN"));
	g_assert_false(pr_imap_client_has_capability(client, "STARTTLS"));

	pr_test_login(client, env.user, env.password, "plain", &error);
	pr_test_assert_no_error(error);
	g_assert_cmpint(pr_imap_client_get_state(client), ==, PR_IMAP_CLIENT_STATE_AUTHENTICATED);
	pr_test_logout(client);
}

static void
test_none_on_loopback(void)
{
	g_autoptr(PrImapClient) client = dovecot_client(PR_IMAP_SECURITY_NONE, FALSE);
	g_autoptr(GError) error = NULL;

	if (!pr_test_connect(client, NULL, &error)) {
		pr_test_assert_no_error(error);
		return;
	}
	g_assert_cmpstr(pr_imap_client_get_security_negotiated(client), ==, "none");
	g_assert_null(pr_imap_client_get_certificate_sha256(client));
	g_assert_false(pr_imap_client_get_certificate_trusted(client));
	g_assert_true(pr_imap_client_has_capability(client, "STARTTLS"));
	pr_test_login(client, env.user, env.password, "login", &error);
	pr_test_assert_no_error(error);
	g_assert_cmpint(pr_imap_client_get_state(client), ==, PR_IMAP_CLIENT_STATE_AUTHENTICATED);
	pr_test_logout(client);
}

/* Certificates -------------------------------------------------------------------------- */

static gchar *
colon_upper(const gchar *hex)
{
	g_autoptr(GString) out = g_string_new(NULL);

	for (guint i = 0; hex[i] != '\0'; i += 2) {
		if (i > 0)
			g_string_append_c(out, ':');
		g_string_append_c(out, g_ascii_toupper(hex[i]));
		g_string_append_c(out, g_ascii_toupper(hex[i + 1]));
	}
	return g_string_free(g_steal_pointer(&out), FALSE);
}

static void
check_pin(PrImapSecurity security, const gchar *pin)
{
	g_autoptr(PrImapClient) client = dovecot_client(security, FALSE);
	g_autoptr(GError) error = NULL;

	g_test_message("pin %s over %s", pin, pr_imap_security_to_string(security));
	pr_imap_client_set_pinned_certificate(client, pin, &error);
	g_assert_no_error(error);
	if (!pr_test_connect(client, NULL, &error)) {
		pr_test_assert_no_error(error);
		return;
	}
	g_assert_true(pr_imap_client_get_certificate_trusted(client));
	g_assert_cmpstr(pr_imap_client_get_certificate_sha256(client), ==, env.sha256);
	pr_test_login(client, env.user, env.password, "auto", &error);
	pr_test_assert_no_error(error);
	pr_test_logout(client);
}

static void
test_pin(void)
{
	g_autofree gchar *colons = colon_upper(env.sha256);

	check_pin(PR_IMAP_SECURITY_TLS, env.sha256);
	check_pin(PR_IMAP_SECURITY_TLS, colons);
	check_pin(PR_IMAP_SECURITY_STARTTLS, colons);
}

static void
test_pin_invalid(void)
{
	g_autoptr(PrImapClient) client = dovecot_client(PR_IMAP_SECURITY_TLS, FALSE);
	const gchar *bad[] = { "", "abcd", "zz", "0123456789abcdef", NULL };

	for (guint i = 0; bad[i] != NULL; i++) {
		g_autoptr(GError) error = NULL;
		g_assert_false(pr_imap_client_set_pinned_certificate(client, bad[i], &error));
		pr_test_assert_error(error, PR_ERROR_INVALID_ARGUMENT);
	}
}

/* Connects expecting CertificateUntrusted; returns the fingerprint the client saw. */
static gchar *
connect_untrusted(PrImapClient *client)
{
	g_autoptr(GError) error = NULL;
	const gchar *sha;

	pr_test_connect(client, NULL, &error);
	pr_test_assert_error(error, PR_ERROR_CERTIFICATE_UNTRUSTED);
	g_assert_cmpint(pr_imap_client_get_state(client), ==, PR_IMAP_CLIENT_STATE_DISCONNECTED);
	g_assert_false(pr_imap_client_get_certificate_trusted(client));
	sha = pr_imap_client_get_certificate_sha256(client);
	g_assert_nonnull(sha);
	if (sha == NULL)
		return NULL;
	g_assert_cmpuint(strlen(sha), ==, 64);
	/* the message shows the fingerprint so the user can compare and accept it */
	if (error != NULL)
		g_assert_nonnull(strstr(error->message, sha));
	return g_strdup(sha);
}

static void
test_untrusted_without_ca(void)
{
	PrImapSecurity modes[] = { PR_IMAP_SECURITY_TLS, PR_IMAP_SECURITY_STARTTLS };

	for (guint i = 0; i < G_N_ELEMENTS(modes); i++) {
		g_autoptr(PrImapClient) client = dovecot_client(modes[i], FALSE);
		g_autofree gchar *sha = connect_untrusted(client);
		g_assert_cmpstr(sha, ==, env.sha256);
	}
}

static void
test_untrusted_wrong_pin(void)
{
	g_autoptr(PrImapClient) client = dovecot_client(PR_IMAP_SECURITY_TLS, FALSE);
	g_autoptr(GError) error = NULL;
	g_autofree gchar *sha = NULL;
	g_autofree gchar *other = g_strdup(env.sha256);

	other[0] = other[0] == '0' ? '1' : '0';
	pr_imap_client_set_pinned_certificate(client, other, &error);
	g_assert_no_error(error);
	sha = connect_untrusted(client);
	g_assert_cmpstr(sha, ==, env.sha256);
}

static void
test_wrong_certificate(void)
{
	g_autoptr(PrImapClient) client = NULL;
	g_autoptr(PrImapClient) pinned = NULL;
	g_autoptr(GError) error = NULL;
	g_autofree gchar *sha = NULL;

	/* the CA does not vouch for it, and the right server's pin does not fit it */
	client = pr_imap_client_new(env.host, env.badcert_port, PR_IMAP_SECURITY_TLS);
	pr_imap_client_set_timeout(client, 30);
	pr_imap_client_set_ca_file(client, env.ca_file, &error);
	g_assert_no_error(error);
	pr_imap_client_set_pinned_certificate(client, env.sha256, &error);
	g_assert_no_error(error);
	sha = connect_untrusted(client);
	if (sha == NULL)
		return;
	g_assert_cmpstr(sha, !=, env.sha256);
	g_assert_nonnull(strstr(pr_imap_client_get_certificate_subject(client), "wrong.example"));

	/* the user accepts exactly that certificate: the pin trusts it */
	pinned = pr_imap_client_new(env.host, env.badcert_port, PR_IMAP_SECURITY_TLS);
	pr_imap_client_set_timeout(pinned, 30);
	pr_imap_client_set_pinned_certificate(pinned, sha, &error);
	g_assert_no_error(error);
	if (!pr_test_connect(pinned, NULL, &error)) {
		pr_test_assert_no_error(error);
		return;
	}
	g_assert_true(pr_imap_client_get_certificate_trusted(pinned));
	g_assert_cmpstr(pr_imap_client_get_certificate_sha256(pinned), ==, sha);
	pr_test_login(pinned, env.user, env.password, "auto", &error);
	pr_test_assert_no_error(error);
	pr_test_logout(pinned);
}

/* Login ---------------------------------------------------------------------------------- */

static const gchar *mechanisms[] = { "auto", "plain", "login", "cram-md5", "scram-sha-256", NULL };

static void
test_login_mechanisms(void)
{
	for (guint i = 0; mechanisms[i] != NULL; i++) {
		g_autoptr(PrImapClient) client = dovecot_client(PR_IMAP_SECURITY_TLS, TRUE);
		g_autoptr(GError) error = NULL;

		g_test_message("mechanism %s", mechanisms[i]);
		if (!pr_test_connect(client, NULL, &error)) {
			pr_test_assert_no_error(error);
			continue;
		}
		pr_test_login(client, env.user, env.password, mechanisms[i], &error);
		pr_test_assert_no_error(error);
		g_assert_cmpint(
			pr_imap_client_get_state(client), ==, PR_IMAP_CLIENT_STATE_AUTHENTICATED);
		pr_test_logout(client);
	}
}

static void
test_login_wrong_password(void)
{
	g_autofree gchar *wrong = g_strconcat(env.password, "x", NULL);

	for (guint i = 0; mechanisms[i] != NULL; i++) {
		g_autoptr(PrImapClient) client = dovecot_client(PR_IMAP_SECURITY_TLS, TRUE);
		g_autoptr(GError) error = NULL;
		g_autoptr(GError) error2 = NULL;

		g_test_message("mechanism %s", mechanisms[i]);
		if (!pr_test_connect(client, NULL, &error)) {
			pr_test_assert_no_error(error);
			continue;
		}
		pr_test_login(client, env.user, wrong, mechanisms[i], &error);
		pr_test_assert_error(error, PR_ERROR_LOGIN_FAILED);
		g_assert_cmpint(pr_imap_client_get_state(client),
				==,
				PR_IMAP_CLIENT_STATE_NOT_AUTHENTICATED);
		/* the connection stays usable: the right password works on it */
		pr_test_login(client, env.user, env.password, mechanisms[i], &error2);
		pr_test_assert_no_error(error2);
		pr_test_logout(client);
	}
}

static void
test_login_second_user(void)
{
	g_autoptr(PrImapClient) client = dovecot_login(env.user2, env.password2, FALSE);

	if (client == NULL)
		return;
	g_assert_cmpint(pr_imap_client_get_state(client), ==, PR_IMAP_CLIENT_STATE_AUTHENTICATED);
	pr_test_logout(client);
}

/* After login ---------------------------------------------------------------------------- */

static void
test_capabilities_after_login(void)
{
	g_autoptr(PrImapClient) client = dovecot_login(env.user, env.password, FALSE);

	if (client == NULL)
		return;
	g_assert_true(pr_imap_client_has_capability(client, "QRESYNC"));
	g_assert_true(pr_imap_client_has_capability(client, "CONDSTORE"));
	g_assert_true(pr_imap_client_has_capability(client, "IDLE"));
	g_assert_true(pr_imap_client_has_capability(client, "COMPRESS=DEFLATE"));
	g_assert_true(pr_imap_client_has_capability(client, "idle")); /* case-insensitive */
	g_assert_cmpint(pr_imap_client_get_delimiter(client), ==, '/');
	g_assert_false(pr_imap_client_get_compressed(client));
	pr_test_logout(client);
}

static void
test_list(void)
{
	g_autoptr(PrImapClient) client = dovecot_login(env.user, env.password, FALSE);
	g_autoptr(GPtrArray) untagged = NULL;
	g_autoptr(PrImapResponse) ok = NULL;
	g_autoptr(GError) error = NULL;
	g_autoptr(GHashTable) names =
		g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
	GHashTableIter iter;
	gpointer key;

	if (client == NULL)
		return;
	ok = pr_test_run_line(client, "LIST", "\"\" \"*\"", &untagged, &error);
	pr_test_assert_no_error(error);
	if (ok == NULL)
		return;
	for (guint i = 0; i < untagged->len; i++) {
		PrImapResponse *r = g_ptr_array_index(untagged, i);
		g_autoptr(PrImapListEntry) entry = NULL;
		g_autoptr(GError) local = NULL;

		if (g_strcmp0(pr_imap_response_get_keyword(r), "LIST") != 0)
			continue;
		entry = pr_imap_response_parse_list(
			r, pr_imap_client_get_utf8_enabled(client), &local);
		g_assert_no_error(local);
		if (entry == NULL)
			continue;
		g_assert_cmpint(entry->delimiter, ==, '/');
		g_test_message("LIST %s (raw %s)", entry->name, entry->raw_name);
		g_hash_table_insert(names, g_strdup(entry->name), g_strdup(entry->raw_name));
	}
	/* every seeded folder and its parents ... */
	g_hash_table_iter_init(&iter, env.seed);
	while (g_hash_table_iter_next(&iter, &key, NULL)) {
		g_auto(GStrv) parts = g_strsplit(key, "/", -1);
		g_autoptr(GString) path = g_string_new(NULL);

		for (guint i = 0; parts[i] != NULL; i++) {
			if (i > 0)
				g_string_append_c(path, '/');
			g_string_append(path, parts[i]);
			if (!g_hash_table_contains(names, path->str))
				g_test_fail_printf("LIST lacks the seeded folder %s", path->str);
		}
	}
	/* ... and nothing else */
	g_hash_table_iter_init(&iter, names);
	while (g_hash_table_iter_next(&iter, &key, NULL)) {
		g_autofree gchar *prefix = g_strconcat(key, "/", NULL);
		gboolean known = g_hash_table_contains(env.seed, key);
		GHashTableIter seeds;
		gpointer seeded;

		g_hash_table_iter_init(&seeds, env.seed);
		while (!known && g_hash_table_iter_next(&seeds, &seeded, NULL))
			known = g_str_has_prefix(seeded, prefix);
		if (!known)
			g_test_fail_printf("LIST returned %s, which was never seeded",
					   (gchar *)key);
	}
	if (g_hash_table_contains(env.seed, "Entwürfe"))
		g_assert_cmpstr(g_hash_table_lookup(names, "Entwürfe"), ==, "Entw&APw-rfe");
	g_assert_true(g_hash_table_contains(names, "INBOX"));
	pr_test_logout(client);
}

static void
test_examine(void)
{
	g_autoptr(PrImapClient) client = dovecot_login(env.user, env.password, FALSE);
	g_autoptr(GPtrArray) untagged = NULL;
	g_autoptr(PrImapResponse) ok = NULL;
	g_autoptr(GError) error = NULL;
	guint64 uidvalidity = 0;
	guint32 exists = 0;

	if (client == NULL)
		return;
	ok = pr_test_run_line(client, "EXAMINE", "INBOX", &untagged, &error);
	pr_test_assert_no_error(error);
	if (ok == NULL)
		return;
	g_assert_cmpstr(pr_imap_response_get_code(ok), ==, "READ-ONLY");
	g_assert_cmpint(pr_imap_client_get_state(client), ==, PR_IMAP_CLIENT_STATE_SELECTED);
	g_assert_true(pr_test_find_code_number(untagged, "UIDVALIDITY", &uidvalidity));
	g_assert_cmpuint(uidvalidity, >, 0);
	for (guint i = 0; i < untagged->len; i++) {
		PrImapResponse *r = g_ptr_array_index(untagged, i);
		if (g_strcmp0(pr_imap_response_get_keyword(r), "EXISTS") == 0)
			pr_imap_response_get_number(r, &exists);
	}
	g_assert_cmpuint(exists, ==, seed_count("INBOX"));
	pr_test_logout(client);
}

static void
test_qresync(void)
{
	g_autoptr(PrImapClient) client = dovecot_login(env.user, env.password, FALSE);
	g_autoptr(PrImapClient) other = NULL;
	g_autoptr(GPtrArray) untagged = NULL;
	g_autoptr(GPtrArray) same = NULL;
	g_autoptr(GPtrArray) changed = NULL;
	g_autoptr(PrImapResponse) ok = NULL;
	g_autoptr(GError) error = NULL;
	g_autofree gchar *args = NULL;
	guint64 uidvalidity = 0;
	guint64 modseq = 0;
	gboolean saw_vanished = FALSE;
	gboolean saw_fetch = FALSE;

	g_assert_cmpuint(seed_count("Changes"), >=, 3);
	if (client == NULL)
		return;
	ok = pr_test_run_line(client, "SELECT", "Changes", &untagged, &error);
	pr_test_assert_no_error(error);
	if (ok == NULL)
		return;
	g_assert_true(pr_test_find_code_number(untagged, "UIDVALIDITY", &uidvalidity));
	g_assert_true(pr_test_find_code_number(untagged, "HIGHESTMODSEQ", &modseq));
	g_clear_pointer(&ok, pr_imap_response_unref);

	/* nothing changed: one round trip, no VANISHED, no FETCH */
	args = g_strdup_printf("Changes (QRESYNC (%" G_GUINT64_FORMAT " %" G_GUINT64_FORMAT "))",
			       uidvalidity,
			       modseq);
	ok = pr_test_run_line(client, "SELECT", args, &same, &error);
	pr_test_assert_no_error(error);
	if (ok == NULL)
		return;
	g_assert_cmpuint(pr_test_count_keyword(same, "VANISHED"), ==, 0);
	g_assert_cmpuint(pr_test_count_keyword(same, "FETCH"), ==, 0);
	g_clear_pointer(&ok, pr_imap_response_unref);

	/* another session flags UID 1 and expunges UID 2 */
	other = dovecot_login(env.user, env.password, FALSE);
	if (other == NULL)
		return;
	{
		const gchar *steps[][2] = { { "SELECT", "Changes" },
					    { "UID STORE", "1 +FLAGS (\\Flagged)" },
					    { "UID STORE", "2 +FLAGS (\\Deleted)" },
					    { "UID EXPUNGE", "2" } };
		for (guint i = 0; i < G_N_ELEMENTS(steps); i++) {
			g_autoptr(PrImapResponse) r = NULL;
			r = pr_test_run_line(other, steps[i][0], steps[i][1], NULL, &error);
			pr_test_assert_no_error(error);
			if (r == NULL)
				return;
		}
	}
	pr_test_logout(other);

	ok = pr_test_run_line(client, "SELECT", args, &changed, &error);
	pr_test_assert_no_error(error);
	if (ok == NULL)
		return;
	for (guint i = 0; i < changed->len; i++) {
		PrImapResponse *r = g_ptr_array_index(changed, i);
		const gchar *kw = pr_imap_response_get_keyword(r);

		if (g_strcmp0(kw, "VANISHED") == 0) {
			gboolean earlier = FALSE;
			g_autofree gchar *set =
				pr_imap_response_parse_vanished(r, &earlier, &error);
			g_assert_no_error(error);
			g_assert_true(earlier);
			g_assert_cmpstr(set, ==, "2");
			saw_vanished = TRUE;
		} else if (g_strcmp0(kw, "FETCH") == 0) {
			g_autoptr(PrImapFetch) fetch = pr_imap_response_parse_fetch(r, &error);
			g_assert_no_error(error);
			if (fetch == NULL)
				continue;
			g_assert_cmpuint(fetch->uid, ==, 1);
			g_assert_true(fetch->fields & PR_IMAP_FETCH_HAS_MODSEQ);
			g_assert_cmpuint(fetch->modseq, >, modseq);
			g_assert_true(strv_has(fetch->flags, "\\Flagged"));
			saw_fetch = TRUE;
		}
	}
	g_assert_true(saw_vanished);
	g_assert_true(saw_fetch);
	pr_test_logout(client);
}

/* Streaming ------------------------------------------------------------------------------ */

/* Fetches every BODY[] of @folder through a hashing sink and compares with @maildir. */
static void
fetch_and_compare(PrImapClient *client, const gchar *folder, const gchar *maildir)
{
	g_autoptr(GHashTable) want = NULL;
	g_autoptr(GHashTable) got = pr_test_hash_table_new();
	g_autoptr(PrTestHashSink) sink = pr_test_hash_sink_new();
	g_autoptr(GPtrArray) untagged = NULL;
	g_autoptr(PrImapResponse) ok = NULL;
	g_autoptr(GError) error = NULL;
	gint n;

	want = pr_test_maildir_hashes(maildir, &error);
	g_assert_no_error(error);
	if (want == NULL)
		return;
	pr_test_hash_sink_install(sink, client);
	ok = pr_test_run_line(client, "EXAMINE", folder, NULL, &error);
	pr_test_assert_no_error(error);
	g_clear_pointer(&ok, pr_imap_response_unref);
	ok = pr_test_run_line(client, "UID FETCH", "1:* (UID BODY.PEEK[])", &untagged, &error);
	pr_test_assert_no_error(error);
	if (ok != NULL) {
		n = pr_test_collect_body_hashes(untagged, sink, got);
		g_test_message("%s: %d bodies, %u streamed (%" G_GUINT64_FORMAT " bytes)",
			       folder,
			       n,
			       sink->completed,
			       sink->bytes);
		g_assert_cmpint(n, ==, (gint)seed_count(folder));
		g_assert_cmpuint(sink->aborted, ==, 0);
		g_assert_true(pr_test_hash_multisets_equal(want, got));
	}
	pr_imap_client_set_literal_sink(client, NULL, NULL, NULL);
}

static void
test_fetch_stream_inbox(void)
{
	g_autoptr(PrImapClient) client = dovecot_login(env.user, env.password, FALSE);

	if (client == NULL)
		return;
	g_assert_cmpuint(seed_count("INBOX"), >=, 100);
	fetch_and_compare(client, "INBOX", env.maildir);
	pr_test_logout(client);
}

static void
test_compress(void)
{
	g_autoptr(PrImapClient) client = dovecot_login(env.user, env.password, TRUE);
	g_autofree gchar *archive = g_build_filename(env.maildir, ".Archive", NULL);
	g_autoptr(PrImapResponse) ok = NULL;
	g_autoptr(GError) error = NULL;

	if (client == NULL)
		return;
	g_assert_true(pr_imap_client_get_compressed(client));
	fetch_and_compare(client, "Archive", archive);
	ok = pr_test_run_line(client, "NOOP", NULL, NULL, &error);
	pr_test_assert_no_error(error);
	pr_test_logout(client);
}

/* IDLE ----------------------------------------------------------------------------------- */

typedef struct {
	guint32 exists_before;
	guint32 exists_now;
	gboolean woken;
} IdleWatch;

static void
idle_untagged_cb(PrImapClient *client, PrImapResponse *response, gpointer user_data)
{
	IdleWatch *watch = user_data;
	guint32 n = 0;

	if (g_strcmp0(pr_imap_response_get_keyword(response), "EXISTS") == 0 &&
	    pr_imap_response_get_number(response, &n) && n > watch->exists_before) {
		watch->exists_now = n;
		watch->woken = TRUE;
	}
}

static void
test_idle_woken_by_append(void)
{
	g_autoptr(PrImapClient) client = dovecot_login(env.user, env.password, FALSE);
	g_autoptr(PrImapClient) other = NULL;
	g_autoptr(PrImapCommand) append = NULL;
	g_autoptr(GPtrArray) untagged = NULL;
	g_autoptr(PrImapResponse) ok = NULL;
	g_autoptr(PrImapResponse) appended = NULL;
	g_autoptr(GError) error = NULL;
	g_autoptr(GBytes) message = NULL;
	IdleWatch watch = { 0 };
	gulong handler;

	if (client == NULL)
		return;
	ok = pr_test_run_line(client, "SELECT", "Notify", &untagged, &error);
	pr_test_assert_no_error(error);
	if (ok == NULL)
		return;
	for (guint i = 0; i < untagged->len; i++) {
		PrImapResponse *r = g_ptr_array_index(untagged, i);
		if (g_strcmp0(pr_imap_response_get_keyword(r), "EXISTS") == 0)
			pr_imap_response_get_number(r, &watch.exists_before);
	}
	g_assert_cmpuint(watch.exists_before, ==, seed_count("Notify"));
	handler = g_signal_connect(client, "untagged", G_CALLBACK(idle_untagged_cb), &watch);
	if (!pr_test_idle(client, &error)) {
		pr_test_assert_no_error(error);
		return;
	}
	g_assert_cmpint(pr_imap_client_get_state(client), ==, PR_IMAP_CLIENT_STATE_IDLE);

	other = dovecot_login(env.user, env.password, FALSE);
	if (other == NULL)
		return;
	message =
		g_bytes_new_static("From: bob@builder.test\r\nTo: alice@wonderland.test\r\n"
				   "Subject: wake up\r\nMessage-ID: <idle@postroom.test>\r\n\r\n"
				   "IDLE test\r\n",
				   strlen("From: bob@builder.test\r\nTo: alice@wonderland.test\r\n"
					  "Subject: wake up\r\nMessage-ID: <idle@postroom.test>\r\n"
					  "\r\nIDLE test\r\n"));
	append = pr_imap_command_new("APPEND");
	g_assert_true(pr_imap_command_add_mailbox(append, "Notify", NULL));
	pr_imap_command_add_literal(append, message);
	appended = pr_test_run(other, append, NULL, NULL, &error);
	pr_test_assert_no_error(error);
	if (appended != NULL)
		g_assert_cmpstr(pr_imap_response_get_code(appended), ==, "APPENDUID");

	/* a generous deadline, not a timing assertion */
	g_assert_true(pr_test_wait_for_flag(&watch.woken, 20));
	g_assert_cmpuint(watch.exists_now, ==, watch.exists_before + 1);
	pr_test_idle_done(client, &error);
	pr_test_assert_no_error(error);
	g_assert_cmpint(pr_imap_client_get_state(client), ==, PR_IMAP_CLIENT_STATE_SELECTED);
	g_signal_handler_disconnect(client, handler);
	pr_test_logout(other);
	pr_test_logout(client);
}

/* Cancel and timeout --------------------------------------------------------------------- */

typedef struct {
	GCancellable *cancellable;
	guint fetches;
	guint cancel_after;
	gint64 cancelled_at;
	gboolean closed;
	gint closed_code;
} CancelWatch;

static void
cancel_untagged_cb(PrImapClient *client, PrImapResponse *response, gpointer user_data)
{
	CancelWatch *watch = user_data;

	if (g_strcmp0(pr_imap_response_get_keyword(response), "FETCH") != 0)
		return;
	if (++watch->fetches == watch->cancel_after) {
		watch->cancelled_at = g_get_monotonic_time();
		g_cancellable_cancel(watch->cancellable);
	}
}

static void
closed_cb(PrImapClient *client, GError *error, gpointer user_data)
{
	CancelWatch *watch = user_data;

	watch->closed = TRUE;
	watch->closed_code = error != NULL && error->domain == PR_ERROR ? error->code : -1;
}

static void
test_cancel_mid_fetch(void)
{
	g_autoptr(PrTestHashSink) sink = pr_test_hash_sink_new();
	g_autoptr(PrImapClient) client = dovecot_login(env.user, env.password, FALSE);
	g_autoptr(GCancellable) cancellable = g_cancellable_new();
	g_autoptr(PrImapCommand) fetch = NULL;
	g_autoptr(PrImapResponse) ok = NULL;
	g_autoptr(PrImapResponse) after = NULL;
	g_autoptr(GError) error = NULL;
	g_autoptr(GError) error2 = NULL;
	CancelWatch watch = { .cancellable = cancellable, .cancel_after = 50 };
	gint64 finished;

	if (client == NULL)
		return;
	pr_test_hash_sink_install(sink, client);
	ok = pr_test_run_line(client, "EXAMINE", "INBOX", NULL, &error);
	pr_test_assert_no_error(error);
	g_signal_connect(client, "untagged", G_CALLBACK(cancel_untagged_cb), &watch);
	g_signal_connect(client, "closed", G_CALLBACK(closed_cb), &watch);

	fetch = pr_test_command("UID FETCH", "1:* (UID BODY.PEEK[])");
	g_clear_pointer(&ok, pr_imap_response_unref);
	ok = pr_test_run(client, fetch, cancellable, NULL, &error);
	finished = g_get_monotonic_time();
	pr_test_assert_error(error, PR_ERROR_CANCELLED);
	g_assert_null(ok);
	g_assert_cmpint(watch.cancelled_at, >, 0);
	g_test_message("cancelled after %u FETCH responses, done %.3f s later",
		       watch.fetches,
		       (finished - watch.cancelled_at) / (gdouble)G_USEC_PER_SEC);
	/* promptly: well before the rest of the 2,000 messages could have arrived */
	g_assert_cmpuint(watch.fetches, <, seed_count("INBOX"));
	g_assert_cmpint(finished - watch.cancelled_at, <, 30 * G_USEC_PER_SEC);
	/* IMAP cannot abort a sent command: the connection is closed */
	g_assert_true(watch.closed);
	g_assert_cmpint(watch.closed_code, ==, PR_ERROR_CANCELLED);
	g_assert_cmpint(pr_imap_client_get_state(client), ==, PR_IMAP_CLIENT_STATE_DISCONNECTED);
	/* the literal being streamed when the connection closed was ended as aborted */
	g_assert_cmpuint(sink->begun, ==, sink->completed + sink->aborted);
	after = pr_test_run_line(client, "NOOP", NULL, NULL, &error2);
	pr_test_assert_error(error2, PR_ERROR_NOT_CONNECTED);
}

/* Soft cancel: the caller hears Cancelled at once, the connection lives on. */
static void
test_soft_cancel_mid_fetch(void)
{
	g_autoptr(PrImapClient) client = dovecot_login(env.user, env.password, FALSE);
	g_autoptr(GCancellable) cancellable = g_cancellable_new();
	g_autoptr(PrImapCommand) fetch = NULL;
	g_autoptr(PrImapResponse) ok = NULL;
	g_autoptr(PrImapResponse) noop = NULL;
	g_autoptr(GError) error = NULL;
	g_autoptr(GError) error2 = NULL;
	CancelWatch watch = { .cancellable = cancellable, .cancel_after = 50 };

	if (client == NULL)
		return;
	pr_imap_client_set_soft_cancel(client, TRUE);
	ok = pr_test_run_line(client, "EXAMINE", "INBOX", NULL, &error);
	pr_test_assert_no_error(error);
	g_signal_connect(client, "untagged", G_CALLBACK(cancel_untagged_cb), &watch);
	g_signal_connect(client, "closed", G_CALLBACK(closed_cb), &watch);

	fetch = pr_test_command("UID FETCH", "1:* (UID FLAGS ENVELOPE)");
	g_clear_pointer(&ok, pr_imap_response_unref);
	ok = pr_test_run(client, fetch, cancellable, NULL, &error);
	pr_test_assert_error(error, PR_ERROR_CANCELLED);
	g_assert_null(ok);
	g_assert_cmpint(watch.cancelled_at, >, 0);
	/* the connection is still there and answers the next command */
	noop = pr_test_run_line(client, "NOOP", NULL, NULL, &error2);
	pr_test_assert_no_error(error2);
	g_assert_nonnull(noop);
	g_assert_false(watch.closed);
	g_assert_cmpint(pr_imap_client_get_state(client), ==, PR_IMAP_CLIENT_STATE_SELECTED);
}

static void
test_timeout_silent_server(void)
{
	g_autoptr(PrTestBadimap) server = NULL;
	g_autoptr(PrImapClient) client = NULL;
	g_autoptr(GError) error = NULL;
	gint64 start;

	server = pr_test_badimap_start("silent", NULL, env.user, env.password, &error);
	g_assert_no_error(error);
	if (server == NULL)
		return;
	client = pr_imap_client_new("127.0.0.1", server->port, PR_IMAP_SECURITY_STARTTLS);
	pr_imap_client_set_timeout(client, 2);
	start = g_get_monotonic_time();
	pr_test_connect(client, NULL, &error);
	pr_test_assert_error(error, PR_ERROR_TIMEOUT);
	/* generous: the point is that it ends at all */
	g_assert_cmpint(g_get_monotonic_time() - start, <, 60 * G_USEC_PER_SEC);
	g_assert_cmpint(pr_imap_client_get_state(client), ==, PR_IMAP_CLIENT_STATE_DISCONNECTED);
}

/* Setup ---------------------------------------------------------------------------------- */

static GHashTable *
parse_seed(const gchar *spec)
{
	g_autoptr(GHashTable) seed = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	g_auto(GStrv) items = g_strsplit(spec, ",", -1);

	for (guint i = 0; items[i] != NULL; i++) {
		const gchar *eq = strrchr(items[i], '=');
		guint64 n = 0;

		if (items[i][0] == '\0')
			continue;
		if (eq == NULL || !g_ascii_string_to_unsigned(eq + 1, 10, 0, G_MAXUINT, &n, NULL))
			g_error("bad PR_TEST_SEED item %s", items[i]);
		g_hash_table_insert(seed, g_strndup(items[i], eq - items[i]), GUINT_TO_POINTER(n));
	}
	return g_steal_pointer(&seed);
}

int
main(int argc, char **argv)
{
	if (g_getenv("PR_TEST_PASSWORD") != NULL)
		pr_test_forbid_secret_in_logs(g_getenv("PR_TEST_USER"),
					      g_getenv("PR_TEST_PASSWORD"));
	g_test_init(&argc, &argv, NULL);
	g_test_set_nonfatal_assertions();

	env.host = pr_test_env("PR_TEST_IMAP_HOST");
	env.port = pr_test_env_port("PR_TEST_IMAP_PORT");
	env.imaps_port = pr_test_env_port("PR_TEST_IMAPS_PORT");
	env.badcert_port = pr_test_env_port("PR_TEST_BADCERT_PORT");
	env.ca_file = pr_test_env("PR_TEST_CA_FILE");
	env.sha256 = pr_test_env("PR_TEST_CERT_SHA256");
	env.user = pr_test_env("PR_TEST_USER");
	env.password = pr_test_env("PR_TEST_PASSWORD");
	env.user2 = pr_test_env("PR_TEST_USER2");
	env.password2 = pr_test_env("PR_TEST_PASSWORD2");
	env.maildir = pr_test_env("PR_TEST_MAILDIR");
	env.seed = parse_seed(pr_test_env("PR_TEST_SEED"));
	pr_test_env("PR_TEST_SERVERS_DIR");

	g_test_add_func("/imap-dovecot/security/tls-ca", test_tls_with_ca);
	g_test_add_func("/imap-dovecot/security/starttls", test_starttls);
	g_test_add_func("/imap-dovecot/security/none", test_none_on_loopback);
	g_test_add_func("/imap-dovecot/certificate/pin", test_pin);
	g_test_add_func("/imap-dovecot/certificate/pin-invalid", test_pin_invalid);
	g_test_add_func("/imap-dovecot/certificate/untrusted", test_untrusted_without_ca);
	g_test_add_func("/imap-dovecot/certificate/wrong-pin", test_untrusted_wrong_pin);
	g_test_add_func("/imap-dovecot/certificate/wrong-certificate", test_wrong_certificate);
	g_test_add_func("/imap-dovecot/login/mechanisms", test_login_mechanisms);
	g_test_add_func("/imap-dovecot/login/wrong-password", test_login_wrong_password);
	g_test_add_func("/imap-dovecot/login/second-user", test_login_second_user);
	g_test_add_func("/imap-dovecot/capabilities", test_capabilities_after_login);
	g_test_add_func("/imap-dovecot/list", test_list);
	g_test_add_func("/imap-dovecot/examine", test_examine);
	g_test_add_func("/imap-dovecot/qresync", test_qresync);
	g_test_add_func("/imap-dovecot/fetch/stream-inbox", test_fetch_stream_inbox);
	g_test_add_func("/imap-dovecot/fetch/compress", test_compress);
	g_test_add_func("/imap-dovecot/idle", test_idle_woken_by_append);
	g_test_add_func("/imap-dovecot/cancel-mid-fetch", test_cancel_mid_fetch);
	g_test_add_func("/imap-dovecot/soft-cancel-mid-fetch", test_soft_cancel_mid_fetch);
	g_test_add_func("/imap-dovecot/timeout-silent", test_timeout_silent_server);
	return g_test_run();
}
