/*
 * Copyright 2026 The Postroom developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

/*
 * PrImapClient against tests/servers/badimap.py: one misbehaving server per test, each
 * asserting the exact contract error, and for every scenario that no credential byte
 * reached the server before TLS (badimap logs all plaintext it receives).
 */
#define G_LOG_DOMAIN "PrTest"

#include <glib/gstdio.h>
#include <string.h>

#include "pr-test-imap.h"

#define USER "alice"

static gchar *cert_dir;
static gchar *ca_file;
static const gchar *password;

static PrTestBadimap *
fault_start(const gchar *scenario)
{
	g_autoptr(GError) error = NULL;
	PrTestBadimap *server = pr_test_badimap_start(scenario, cert_dir, USER, password, &error);

	g_assert_no_error(error);
	g_assert_nonnull(server);
	if (server == NULL)
		g_error("cannot run badimap.py --scenario %s", scenario);
	return server;
}

static PrImapClient *
fault_client(PrTestBadimap *server, PrImapSecurity security, guint timeout)
{
	PrImapClient *client = pr_imap_client_new("127.0.0.1", server->port, security);
	g_autoptr(GError) error = NULL;

	pr_imap_client_set_timeout(client, timeout);
	pr_imap_client_set_ca_file(client, ca_file, &error);
	g_assert_no_error(error);
	return client;
}

static gboolean
bytes_contain(GBytes *haystack, const gchar *needle, gsize len)
{
	gsize size = 0;
	const guint8 *data = g_bytes_get_data(haystack, &size);

	return len > 0 && memmem(data, size, needle, len) != NULL;
}

/* No form of the password in plaintext; with @tls_required no LOGIN or AUTHENTICATE at all,
 * and only CAPABILITY, STARTTLS, NOOP or LOGOUT before TLS. */
static void
fault_check_log(PrTestBadimap *server, gboolean tls_required)
{
	g_autoptr(GBytes) log = pr_test_badimap_get_log(server);
	g_autoptr(GString) plain = g_string_new(NULL);
	g_autoptr(GString) plain_authz = g_string_new(NULL);
	g_autofree gchar *b64_plain = NULL;
	g_autofree gchar *b64_plain_authz = NULL;
	g_autofree gchar *b64_password = NULL;
	g_autofree gchar *text = NULL;
	g_auto(GStrv) lines = NULL;
	gboolean ok = TRUE;

	g_string_append_c(plain, '\0');
	g_string_append(plain, USER);
	g_string_append_c(plain, '\0');
	g_string_append(plain, password);
	g_string_append(plain_authz, USER);
	g_string_append_len(plain_authz, plain->str, plain->len);
	b64_plain = g_base64_encode((const guchar *)plain->str, plain->len);
	b64_plain_authz = g_base64_encode((const guchar *)plain_authz->str, plain_authz->len);
	b64_password = g_base64_encode((const guchar *)password, strlen(password));

	if (bytes_contain(log, password, strlen(password)) ||
	    bytes_contain(log, "wonder land", strlen("wonder land")) ||
	    bytes_contain(log, b64_plain, strlen(b64_plain)) ||
	    bytes_contain(log, b64_plain_authz, strlen(b64_plain_authz)) ||
	    bytes_contain(log, b64_password, strlen(b64_password))) {
		g_test_fail_printf("the password reached the server before TLS");
		ok = FALSE;
	}
	text = g_strndup(g_bytes_get_data(log, NULL), g_bytes_get_size(log));
	lines = g_strsplit(text, "\n", -1);
	for (guint i = 0; tls_required && lines[i] != NULL; i++) {
		g_auto(GStrv) words = g_strsplit(g_strstrip(lines[i]), " ", 3);
		const gchar *cmd = words[0] != NULL ? words[1] : NULL;

		if (cmd == NULL)
			continue;
		if (g_ascii_strcasecmp(cmd, "LOGIN") == 0 ||
		    g_ascii_strcasecmp(cmd, "AUTHENTICATE") == 0) {
			g_test_fail_printf("%s was sent before TLS", cmd);
			ok = FALSE;
		} else if (g_ascii_strcasecmp(cmd, "CAPABILITY") != 0 &&
			   g_ascii_strcasecmp(cmd, "STARTTLS") != 0 &&
			   g_ascii_strcasecmp(cmd, "NOOP") != 0 &&
			   g_ascii_strcasecmp(cmd, "LOGOUT") != 0) {
			g_test_fail_printf("%s was sent before TLS", cmd);
			ok = FALSE;
		}
	}
	if (!ok)
		pr_test_badimap_dump_trace(server);
}

/* Connect, expecting @code. */
static void
expect_connect_error(const gchar *scenario, PrImapSecurity security, guint timeout, PrError code)
{
	g_autoptr(PrTestBadimap) server = fault_start(scenario);
	g_autoptr(PrImapClient) client = fault_client(server, security, timeout);
	g_autoptr(GError) error = NULL;

	g_test_message("%s over %s", scenario, pr_imap_security_to_string(security));
	pr_test_connect(client, NULL, &error);
	if (!pr_test_assert_error(error, code))
		pr_test_badimap_dump_trace(server);
	g_assert_cmpint(pr_imap_client_get_state(client), ==, PR_IMAP_CLIENT_STATE_DISCONNECTED);
	fault_check_log(server, security != PR_IMAP_SECURITY_NONE);
}

/* Connect and log in over TLS; NULL (test failed) if that does not work. */
static PrImapClient *
fault_login(PrTestBadimap *server, guint timeout)
{
	g_autoptr(PrImapClient) client = fault_client(server, PR_IMAP_SECURITY_TLS, timeout);
	g_autoptr(GError) error = NULL;

	if (!pr_test_connect(client, NULL, &error) ||
	    !pr_test_login(client, USER, password, "auto", &error)) {
		pr_test_assert_no_error(error);
		pr_test_badimap_dump_trace(server);
		return NULL;
	}
	return g_steal_pointer(&client);
}

/* STARTTLS ------------------------------------------------------------------------------- */

static void
test_starttls_missing(void)
{
	expect_connect_error(
		"starttls-missing", PR_IMAP_SECURITY_STARTTLS, 20, PR_ERROR_STARTTLS_UNAVAILABLE);
}

static void
test_starttls_no(void)
{
	expect_connect_error(
		"starttls-no", PR_IMAP_SECURITY_STARTTLS, 20, PR_ERROR_STARTTLS_UNAVAILABLE);
}

static void
test_starttls_bad(void)
{
	expect_connect_error(
		"starttls-bad", PR_IMAP_SECURITY_STARTTLS, 20, PR_ERROR_STARTTLS_UNAVAILABLE);
}

/* Connects with STARTTLS and logs in; the capabilities must be the post-TLS ones. */
static void
check_starttls_session(const gchar *scenario)
{
	g_autoptr(PrTestBadimap) server = fault_start(scenario);
	g_autoptr(PrImapClient) client = fault_client(server, PR_IMAP_SECURITY_STARTTLS, 20);
	g_autoptr(PrImapResponse) ok = NULL;
	g_autoptr(GError) error = NULL;

	if (!pr_test_connect(client, NULL, &error)) {
		pr_test_assert_no_error(error);
		pr_test_badimap_dump_trace(server);
		fault_check_log(server, TRUE);
		return;
	}
	g_assert_cmpstr(pr_imap_client_get_security_negotiated(client), ==, "starttls");
	g_assert_true(pr_imap_client_get_certificate_trusted(client));
	/* what badimap offers over TLS, not what it injected or put in the plaintext OK */
	g_assert_true(pr_imap_client_has_capability(client, "X-BADIMAP-TLS"));
	g_assert_false(pr_imap_client_has_capability(client, "X-INJECTED"));
	g_assert_false(pr_imap_client_has_capability(client, "LOGINDISABLED"));
	g_assert_true(pr_imap_client_has_capability(client, "AUTH=LOGIN"));
	pr_test_login(client, USER, password, "auto", &error);
	pr_test_assert_no_error(error);
	ok = pr_test_run_line(client, "NOOP", NULL, NULL, &error);
	pr_test_assert_no_error(error);
	pr_test_logout(client);
	fault_check_log(server, TRUE);
}

static void
test_starttls_inject(void)
{
	check_starttls_session("starttls-inject");
}

static void
test_starttls_cap_in_ok(void)
{
	check_starttls_session("starttls-cap-in-ok");
}

/* Greetings ------------------------------------------------------------------------------ */

static void
test_preauth_starttls(void)
{
	expect_connect_error(
		"preauth", PR_IMAP_SECURITY_STARTTLS, 20, PR_ERROR_STARTTLS_UNAVAILABLE);
}

static void
test_preauth_none(void)
{
	g_autoptr(PrTestBadimap) server = fault_start("preauth");
	g_autoptr(PrImapClient) client = fault_client(server, PR_IMAP_SECURITY_NONE, 20);
	g_autoptr(GError) error = NULL;

	/* no TLS wanted: a pre-authenticated session is fine, and no password is sent */
	if (!pr_test_connect(client, NULL, &error)) {
		pr_test_assert_no_error(error);
		return;
	}
	g_assert_cmpint(pr_imap_client_get_state(client), ==, PR_IMAP_CLIENT_STATE_AUTHENTICATED);
	pr_test_login(client, USER, password, "auto", &error);
	pr_test_assert_no_error(error);
	pr_test_logout(client);
	fault_check_log(server, TRUE);
}

static void
test_logindisabled(void)
{
	g_autoptr(PrTestBadimap) server = fault_start("logindisabled");
	const gchar *mechs[] = { "auto", "plain", "login", NULL };

	for (guint i = 0; mechs[i] != NULL; i++) {
		g_autoptr(PrImapClient) client = fault_client(server, PR_IMAP_SECURITY_NONE, 20);
		g_autoptr(GError) error = NULL;

		g_test_message("mechanism %s", mechs[i]);
		if (!pr_test_connect(client, NULL, &error)) {
			pr_test_assert_no_error(error);
			continue;
		}
		pr_test_login(client, USER, password, mechs[i], &error);
		pr_test_assert_error(error, PR_ERROR_LOGIN_FAILED);
	}
	/* LOGINDISABLED: nothing with the password may have been sent */
	fault_check_log(server, TRUE);
}

static void
test_bye_greeting(void)
{
	PrImapSecurity modes[] = { PR_IMAP_SECURITY_NONE, PR_IMAP_SECURITY_STARTTLS };

	for (guint i = 0; i < G_N_ELEMENTS(modes); i++) {
		g_autoptr(PrTestBadimap) server = fault_start("bye-greeting");
		g_autoptr(PrImapClient) client = fault_client(server, modes[i], 20);
		g_autoptr(GError) error = NULL;

		pr_test_connect(client, NULL, &error);
		if (pr_test_assert_error(error, PR_ERROR_SERVER_ERROR))
			g_assert_nonnull(strstr(error->message, "server busy"));
		fault_check_log(server, TRUE);
	}
}

static void
check_login_refused(const gchar *scenario)
{
	g_autoptr(PrTestBadimap) server = fault_start(scenario);
	const gchar *mechs[] = { "auto", "login", NULL };

	for (guint i = 0; mechs[i] != NULL; i++) {
		g_autoptr(PrImapClient) client = fault_client(server, PR_IMAP_SECURITY_TLS, 20);
		g_autoptr(GError) error = NULL;

		g_test_message("%s, mechanism %s", scenario, mechs[i]);
		if (!pr_test_connect(client, NULL, &error)) {
			pr_test_assert_no_error(error);
			pr_test_badimap_dump_trace(server);
			continue;
		}
		pr_test_login(client, USER, password, mechs[i], &error);
		if (!pr_test_assert_error(error, PR_ERROR_LOGIN_FAILED))
			pr_test_badimap_dump_trace(server);
		g_assert_cmpint(
			pr_imap_client_get_state(client), !=, PR_IMAP_CLIENT_STATE_AUTHENTICATED);
	}
	fault_check_log(server, TRUE);
}

static void
test_no_everything(void)
{
	check_login_refused("no-everything");
}

static void
test_bad_everything(void)
{
	check_login_refused("bad-everything");
}

/* Literals and nesting ------------------------------------------------------------------- */

/* Logs in, runs "UID FETCH 1 (UID BODY.PEEK[])" (or @name @args), expects one of @a/@b and
 * a closed connection. */
static void
check_fetch_fails(const gchar *scenario,
		  gboolean with_sink,
		  const gchar *name,
		  const gchar *args,
		  PrError a,
		  PrError b,
		  PrTestHashSink *sink)
{
	g_autoptr(PrTestBadimap) server = fault_start(scenario);
	g_autoptr(PrImapClient) client = fault_login(server, 20);
	g_autoptr(PrImapResponse) ok = NULL;
	g_autoptr(GError) error = NULL;

	g_test_message("%s (%s a sink)", scenario, with_sink ? "with" : "without");
	if (client == NULL)
		return;
	if (with_sink)
		pr_test_hash_sink_install(sink, client);
	ok = pr_test_run_line(client, "SELECT", "INBOX", NULL, &error);
	pr_test_assert_no_error(error);
	g_clear_pointer(&ok, pr_imap_response_unref);
	ok = pr_test_run_line(client,
			      name != NULL ? name : "UID FETCH",
			      name != NULL ? args : "1 (UID BODY.PEEK[])",
			      NULL,
			      &error);
	g_assert_null(ok);
	if (!pr_test_assert_error2(error, a, b))
		pr_test_badimap_dump_trace(server);
	g_assert_cmpint(pr_imap_client_get_state(client), ==, PR_IMAP_CLIENT_STATE_DISCONNECTED);
	/* once the connection is gone, every literal the sink began has ended */
	if (with_sink)
		g_assert_cmpuint(sink->begun, ==, sink->completed + sink->aborted);
	fault_check_log(server, TRUE);
}

static void
test_huge_literal(void)
{
	g_autoptr(PrTestHashSink) sink = pr_test_hash_sink_new();

	check_fetch_fails("huge-literal",
			  TRUE,
			  NULL,
			  NULL,
			  PR_ERROR_PROTOCOL_ERROR,
			  PR_ERROR_PROTOCOL_ERROR,
			  sink);
	/* refused from its header: no sink was ever opened for 4 GiB */
	g_assert_cmpuint(sink->begun, ==, 0);
	check_fetch_fails("huge-literal",
			  FALSE,
			  NULL,
			  NULL,
			  PR_ERROR_PROTOCOL_ERROR,
			  PR_ERROR_PROTOCOL_ERROR,
			  sink);
}

static void
test_negative_literal(void)
{
	g_autoptr(PrTestHashSink) sink = pr_test_hash_sink_new();

	check_fetch_fails("negative-literal",
			  TRUE,
			  NULL,
			  NULL,
			  PR_ERROR_PROTOCOL_ERROR,
			  PR_ERROR_PROTOCOL_ERROR,
			  sink);
	g_assert_cmpuint(sink->begun, ==, 0);
}

static void
test_long_digits_literal(void)
{
	g_autoptr(PrTestHashSink) sink = pr_test_hash_sink_new();

	check_fetch_fails("long-digits-literal",
			  TRUE,
			  NULL,
			  NULL,
			  PR_ERROR_PROTOCOL_ERROR,
			  PR_ERROR_PROTOCOL_ERROR,
			  sink);
	g_assert_cmpuint(sink->begun, ==, 0);
}

static void
test_short_literal(void)
{
	g_autoptr(PrTestHashSink) sink = pr_test_hash_sink_new();

	check_fetch_fails("short-literal",
			  TRUE,
			  NULL,
			  NULL,
			  PR_ERROR_CONNECT_FAILED,
			  PR_ERROR_PROTOCOL_ERROR,
			  sink);
}

static void
test_deep_nesting(void)
{
	g_autoptr(PrTestHashSink) sink = pr_test_hash_sink_new();

	check_fetch_fails("deep-nesting",
			  FALSE,
			  NULL,
			  NULL,
			  PR_ERROR_PROTOCOL_ERROR,
			  PR_ERROR_PROTOCOL_ERROR,
			  sink);
	check_fetch_fails("deep-nesting",
			  FALSE,
			  "LIST",
			  "\"\" \"*\"",
			  PR_ERROR_PROTOCOL_ERROR,
			  PR_ERROR_PROTOCOL_ERROR,
			  sink);
}

static void
test_drop_mid_fetch(void)
{
	g_autoptr(PrTestHashSink) sink = pr_test_hash_sink_new();

	check_fetch_fails("drop-mid-fetch",
			  TRUE,
			  "UID FETCH",
			  "1:* (UID BODY.PEEK[])",
			  PR_ERROR_CONNECT_FAILED,
			  PR_ERROR_PROTOCOL_ERROR,
			  sink);
	/* the whole first literal reached the sink, the cut one was ended as aborted */
	g_assert_cmpuint(sink->completed, ==, 1);
	g_assert_cmpuint(sink->aborted, ==, 1);
	g_assert_cmpuint(sink->begun, ==, 2);
}

/* Silence -------------------------------------------------------------------------------- */

static void
test_slow_drip(void)
{
	gint64 start = g_get_monotonic_time();

	expect_connect_error("slow-drip", PR_IMAP_SECURITY_NONE, 2, PR_ERROR_TIMEOUT);
	expect_connect_error("slow-drip", PR_IMAP_SECURITY_STARTTLS, 2, PR_ERROR_TIMEOUT);
	/* generous: a per-byte timer would never fire; the point is that both end */
	g_assert_cmpint(g_get_monotonic_time() - start, <, 120 * G_USEC_PER_SEC);
}

static void
test_silent(void)
{
	expect_connect_error("silent", PR_IMAP_SECURITY_NONE, 2, PR_ERROR_TIMEOUT);
	expect_connect_error("silent", PR_IMAP_SECURITY_STARTTLS, 2, PR_ERROR_TIMEOUT);
	/* a TLS handshake nobody answers */
	expect_connect_error("silent", PR_IMAP_SECURITY_TLS, 2, PR_ERROR_TIMEOUT);
}

static void
test_silent_after_login(void)
{
	g_autoptr(PrTestBadimap) server = fault_start("silent-after-login");
	g_autoptr(PrImapClient) client = fault_client(server, PR_IMAP_SECURITY_TLS, 2);
	g_autoptr(PrImapResponse) ok = NULL;
	g_autoptr(GError) error = NULL;

	if (!pr_test_connect(client, NULL, &error)) {
		pr_test_assert_no_error(error);
		return;
	}
	/* the login itself may wait for the silent server (setup commands), else LIST does */
	if (pr_test_login(client, USER, password, "auto", &error))
		ok = pr_test_run_line(client, "LIST", "\"\" \"*\"", NULL, &error);
	g_assert_null(ok);
	pr_test_assert_error(error, PR_ERROR_TIMEOUT);
	g_assert_cmpint(pr_imap_client_get_state(client), ==, PR_IMAP_CLIENT_STATE_DISCONNECTED);
	fault_check_log(server, TRUE);
}

/* Hostile data --------------------------------------------------------------------------- */

static void
test_hostile_names(void)
{
	g_autoptr(PrTestBadimap) server = fault_start("hostile-names");
	g_autoptr(PrImapClient) client = fault_login(server, 20);
	g_autoptr(PrImapResponse) ok = NULL;
	g_autoptr(PrImapResponse) noop = NULL;
	g_autoptr(GPtrArray) untagged = NULL;
	g_autoptr(GError) error = NULL;
	g_autoptr(GHashTable) names = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	const gchar *verbatim[] = {
		"../../etc/passwd", "a/b", "..", "/etc/shadow", "INBOX/../../x"
	};
	guint parsed = 0;

	if (client == NULL)
		return;
	ok = pr_test_run_line(client, "LIST", "\"\" \"*\"", &untagged, &error);
	pr_test_assert_no_error(error);
	if (ok == NULL) {
		pr_test_badimap_dump_trace(server);
		return;
	}
	g_assert_cmpuint(pr_test_count_keyword(untagged, "LIST"), ==, 8);
	for (guint i = 0; i < untagged->len; i++) {
		g_autoptr(PrImapListEntry) entry = NULL;
		g_autoptr(GError) local = NULL;

		entry = pr_imap_response_parse_list(g_ptr_array_index(untagged, i), FALSE, &local);
		if (entry == NULL) {
			/* refusing a name is fine; it must be a clean protocol error */
			g_test_message("refused: %s", local != NULL ? local->message : "?");
			pr_test_assert_error(local, PR_ERROR_PROTOCOL_ERROR);
			continue;
		}
		parsed++;
		/* whatever goes up to the store must be valid UTF-8 */
		g_assert_true(g_utf8_validate(entry->name, -1, NULL));
		g_assert_cmpint(entry->delimiter, ==, '/');
		if (strlen(entry->raw_name) == 61440)
			g_assert_cmpuint(strlen(entry->name), ==, 61440);
		g_hash_table_add(names, g_strdup(entry->name));
	}
	/* names are data: returned verbatim, never interpreted or "cleaned" into paths */
	for (guint i = 0; i < G_N_ELEMENTS(verbatim); i++) {
		if (!g_hash_table_contains(names, verbatim[i]))
			g_test_fail_printf("LIST name %s was not returned as sent", verbatim[i]);
	}
	g_assert_cmpuint(parsed, >=, G_N_ELEMENTS(verbatim) + 1);
	noop = pr_test_run_line(client, "NOOP", NULL, NULL, &error);
	pr_test_assert_no_error(error);
	pr_test_logout(client);
	fault_check_log(server, TRUE);
}

/* A normal TLS server -------------------------------------------------------------------- */

static void
test_tls_ok(void)
{
	g_autoptr(PrTestBadimap) server = fault_start("tls-ok");
	g_autoptr(PrImapClient) client = fault_login(server, 20);
	g_autoptr(PrImapClient) untrusted = NULL;
	g_autoptr(PrImapClient) pinned = NULL;
	g_autoptr(PrImapResponse) ok = NULL;
	g_autoptr(GPtrArray) untagged = NULL;
	g_autoptr(GError) error = NULL;
	g_autofree gchar *sha = NULL;

	if (client == NULL)
		return;
	g_assert_true(pr_imap_client_get_certificate_trusted(client));
	ok = pr_test_run_line(client, "LIST", "\"\" \"*\"", &untagged, &error);
	pr_test_assert_no_error(error);
	g_assert_cmpuint(pr_test_count_keyword(untagged, "LIST"), ==, 1);
	sha = g_strdup(pr_imap_client_get_certificate_sha256(client));
	pr_test_logout(client);

	/* without the CA: untrusted, fingerprint shown; with that fingerprint pinned: fine */
	untrusted = pr_imap_client_new("127.0.0.1", server->port, PR_IMAP_SECURITY_TLS);
	pr_imap_client_set_timeout(untrusted, 20);
	pr_test_connect(untrusted, NULL, &error);
	pr_test_assert_error(error, PR_ERROR_CERTIFICATE_UNTRUSTED);
	g_assert_cmpstr(pr_imap_client_get_certificate_sha256(untrusted), ==, sha);
	g_clear_error(&error);

	pinned = pr_imap_client_new("127.0.0.1", server->port, PR_IMAP_SECURITY_TLS);
	pr_imap_client_set_timeout(pinned, 20);
	pr_imap_client_set_pinned_certificate(pinned, sha, &error);
	g_assert_no_error(error);
	pr_test_connect(pinned, NULL, &error);
	pr_test_assert_no_error(error);
	g_assert_true(pr_imap_client_get_certificate_trusted(pinned));
	pr_imap_client_close(pinned);
	fault_check_log(server, TRUE);
}

static void
test_wrong_transport(void)
{
	/* TLS to a plaintext greeting: the handshake fails, nothing else is sent */
	expect_connect_error("starttls-missing", PR_IMAP_SECURITY_TLS, 20, PR_ERROR_TLS_FAILED);
	/* STARTTLS to an implicit-TLS port: both wait; the timeout ends it */
	expect_connect_error("tls-ok", PR_IMAP_SECURITY_STARTTLS, 2, PR_ERROR_TIMEOUT);
}

/* [ALERT] during login ------------------------------------------------------------------- */

/* As tests/servers/badimap.py sends them in the alert-* scenarios. */
#define ALERT_UNTAGGED "Maintenance tonight at 22:00"
#define ALERT_OK       "Your password expires in 3 days"
#define ALERT_NO       "Your account is locked"

static void
alert_cb(PrImapClient *client, const gchar *text, gpointer user_data)
{
	g_ptr_array_add(user_data, g_strdup(text));
}

/* Logs in to @server with the alert handler connected before login; returns the alerts. */
static GPtrArray *
alert_login(PrTestBadimap *server,
	    PrImapSecurity security,
	    const gchar *mechanism,
	    const gchar *secret,
	    PrError code)
{
	g_autoptr(PrImapClient) client = fault_client(server, security, 20);
	g_autoptr(GPtrArray) alerts = g_ptr_array_new_with_free_func(g_free);
	g_autoptr(GError) error = NULL;

	if (!pr_test_connect(client, NULL, &error)) {
		pr_test_assert_no_error(error);
		pr_test_badimap_dump_trace(server);
		return g_steal_pointer(&alerts);
	}
	g_signal_connect(client, "alert", G_CALLBACK(alert_cb), alerts);
	if (pr_test_login(client, USER, secret, mechanism, &error)) {
		g_assert_cmpint(code, ==, 0);
		g_assert_cmpint(
			pr_imap_client_get_state(client), ==, PR_IMAP_CLIENT_STATE_AUTHENTICATED);
		pr_test_logout(client);
	} else if (!pr_test_assert_error(error, code)) {
		pr_test_badimap_dump_trace(server);
	}
	return g_steal_pointer(&alerts);
}

static void
check_alerts(GPtrArray *alerts, const gchar *tagged)
{
	g_assert_cmpuint(alerts->len, ==, 2);
	if (alerts->len != 2)
		return;
	g_assert_cmpstr(g_ptr_array_index(alerts, 0), ==, ALERT_UNTAGGED);
	g_assert_cmpstr(g_ptr_array_index(alerts, 1), ==, tagged);
}

/* The alert servers send most often ("your password expires") is in the tagged response to
 * LOGIN or AUTHENTICATE, and must reach a handler connected before login. */
static void
test_alert_login(void)
{
	g_autoptr(PrTestBadimap) server = fault_start("alert-login");
	g_autoptr(GPtrArray) ok = NULL;
	g_autoptr(GPtrArray) no = NULL;

	/* no AUTH= over TLS: the LOGIN command */
	ok = alert_login(server, PR_IMAP_SECURITY_TLS, "auto", password, 0);
	check_alerts(ok, ALERT_OK);
	no = alert_login(server, PR_IMAP_SECURITY_TLS, "auto", "wrong", PR_ERROR_LOGIN_FAILED);
	check_alerts(no, ALERT_NO);
	fault_check_log(server, TRUE);
}

static void
test_alert_authenticate(void)
{
	g_autoptr(PrTestBadimap) server = fault_start("alert-authenticate");
	g_autoptr(GPtrArray) ok = NULL;
	g_autoptr(GPtrArray) no = NULL;

	ok = alert_login(server, PR_IMAP_SECURITY_TLS, "plain", password, 0);
	check_alerts(ok, ALERT_OK);
	no = alert_login(server, PR_IMAP_SECURITY_TLS, "plain", "wrong", PR_ERROR_LOGIN_FAILED);
	check_alerts(no, ALERT_NO);
	fault_check_log(server, TRUE);
}

/* Without TLS anyone on the path could have written the alert: it is never shown. */
static void
test_alert_plain(void)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(PrTestBadimap) server = NULL;
	g_autoptr(GPtrArray) ok = NULL;
	g_autoptr(GPtrArray) no = NULL;

	/* a throwaway password: this one does travel in the clear */
	server = pr_test_badimap_start("alert-plain", cert_dir, USER, "plaintext-only", &error);
	g_assert_no_error(error);
	if (server == NULL)
		return;
	ok = alert_login(server, PR_IMAP_SECURITY_NONE, "auto", "plaintext-only", 0);
	g_assert_cmpuint(ok->len, ==, 0);
	no = alert_login(server, PR_IMAP_SECURITY_NONE, "auto", "wrong", PR_ERROR_LOGIN_FAILED);
	g_assert_cmpuint(no->len, ==, 0);
}

/* Setup ---------------------------------------------------------------------------------- */

static gboolean
make_certificates(GError **error)
{
	const gchar *python = g_getenv("PR_TEST_PYTHON");
	g_autofree gchar *script = NULL;
	g_autoptr(GSubprocess) process = NULL;

	cert_dir = g_dir_make_tmp("pr-faults-ssl-XXXXXX", error);
	if (cert_dir == NULL)
		return FALSE;
	script = g_build_filename(pr_test_env("PR_TEST_SERVERS_DIR"), "badimap.py", NULL);
	process = g_subprocess_new(G_SUBPROCESS_FLAGS_STDOUT_SILENCE,
				   error,
				   python != NULL ? python : "python3",
				   script,
				   "--make-cert",
				   cert_dir,
				   NULL);
	if (process == NULL || !g_subprocess_wait_check(process, NULL, error))
		return FALSE;
	ca_file = g_build_filename(cert_dir, "ca.pem", NULL);
	return TRUE;
}

static void
remove_certificates(void)
{
	const gchar *names[] = { "ca.pem",     "ca.key",    "server.pem",
				 "server.key", "wrong.pem", "wrong.key" };

	for (guint i = 0; i < G_N_ELEMENTS(names); i++) {
		g_autofree gchar *path = g_build_filename(cert_dir, names[i], NULL);
		g_unlink(path);
	}
	g_rmdir(cert_dir);
}

int
main(int argc, char **argv)
{
	g_autoptr(GError) error = NULL;
	g_autofree gchar *openssl = g_find_program_in_path("openssl");
	const gchar *python = g_getenv("PR_TEST_PYTHON");
	g_autofree gchar *python_path = g_find_program_in_path(python != NULL ? python : "python3");
	gint rc;

	if (openssl == NULL)
		return pr_test_skip_all(argc, argv, "openssl is not installed");
	if (python_path == NULL)
		return pr_test_skip_all(argc, argv, "python3 is not installed");
	password = g_getenv("PR_TEST_PASSWORD");
	if (password == NULL)
		password = "wonder land\"pass";
	pr_test_forbid_secret_in_logs(USER, password);
	g_test_init(&argc, &argv, NULL);
	g_test_set_nonfatal_assertions();
	if (!make_certificates(&error))
		g_error("cannot make test certificates: %s", error->message);

	g_test_add_func("/imap-faults/starttls-missing", test_starttls_missing);
	g_test_add_func("/imap-faults/starttls-no", test_starttls_no);
	g_test_add_func("/imap-faults/starttls-bad", test_starttls_bad);
	g_test_add_func("/imap-faults/starttls-inject", test_starttls_inject);
	g_test_add_func("/imap-faults/starttls-cap-in-ok", test_starttls_cap_in_ok);
	g_test_add_func("/imap-faults/preauth-starttls", test_preauth_starttls);
	g_test_add_func("/imap-faults/preauth-none", test_preauth_none);
	g_test_add_func("/imap-faults/logindisabled", test_logindisabled);
	g_test_add_func("/imap-faults/bye-greeting", test_bye_greeting);
	g_test_add_func("/imap-faults/no-everything", test_no_everything);
	g_test_add_func("/imap-faults/bad-everything", test_bad_everything);
	g_test_add_func("/imap-faults/huge-literal", test_huge_literal);
	g_test_add_func("/imap-faults/negative-literal", test_negative_literal);
	g_test_add_func("/imap-faults/long-digits-literal", test_long_digits_literal);
	g_test_add_func("/imap-faults/short-literal", test_short_literal);
	g_test_add_func("/imap-faults/deep-nesting", test_deep_nesting);
	g_test_add_func("/imap-faults/drop-mid-fetch", test_drop_mid_fetch);
	g_test_add_func("/imap-faults/slow-drip", test_slow_drip);
	g_test_add_func("/imap-faults/silent", test_silent);
	g_test_add_func("/imap-faults/silent-after-login", test_silent_after_login);
	g_test_add_func("/imap-faults/hostile-names", test_hostile_names);
	g_test_add_func("/imap-faults/tls-ok", test_tls_ok);
	g_test_add_func("/imap-faults/wrong-transport", test_wrong_transport);
	g_test_add_func("/imap-faults/alert-login", test_alert_login);
	g_test_add_func("/imap-faults/alert-authenticate", test_alert_authenticate);
	g_test_add_func("/imap-faults/alert-plain", test_alert_plain);
	rc = g_test_run();
	remove_certificates();
	return rc;
}
