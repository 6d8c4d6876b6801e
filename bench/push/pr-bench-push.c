/*
 * Copyright 2026 The Postroom developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

/*
 * Push latency: the time from sending APPEND on a second connection to PrPush's "changed",
 * median of N (default 50), with IDLE (APPEND to INBOX, NOTIFY off) and with NOTIFY (APPEND
 * to another folder, reported as untagged STATUS). Runs against the fixture Dovecot:
 *
 *   tests/servers/with-dovecot --no-badcert --seed INBOX=10,Archive=10 -- \
 *       BUILDDIR/bench/push/pr-bench-push [-n 50] [--coalesce-ms 100] [--folder Archive]
 *
 * It reads the PR_TEST_* variables with-dovecot exports (the password never goes on argv).
 * Between samples it waits --gap-ms so a late duplicate of one sample's news (Dovecot sends
 * two STATUS for one APPEND) cannot end the next sample early.
 */
#define G_LOG_DOMAIN "PrBench"

#include <stdlib.h>
#include <string.h>

#include "pr-push.h"

typedef struct {
	GAsyncResult *res;
} Wait;

static void
wait_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	Wait *wait = user_data;

	wait->res = g_object_ref(res);
}

static GAsyncResult *
wait_for(Wait *wait)
{
	while (wait->res == NULL)
		g_main_context_iteration(NULL, TRUE);
	return wait->res;
}

static gboolean
flag_cb(gpointer user_data)
{
	*(gboolean *)user_data = TRUE;
	return G_SOURCE_REMOVE;
}

static void
spin(guint ms)
{
	gboolean done = FALSE;

	g_timeout_add(ms, flag_cb, &done);
	while (!done)
		g_main_context_iteration(NULL, TRUE);
}

static const gchar *
env_or_die(const gchar *name)
{
	const gchar *value = g_getenv(name);

	if (value == NULL || value[0] == '\0') {
		g_printerr("%s is not set: run under tests/servers/with-dovecot\n", name);
		exit(2);
	}
	return value;
}

static PrImapClient *
login(GError **error)
{
	guint64 port = g_ascii_strtoull(env_or_die("PR_TEST_IMAPS_PORT"), NULL, 10);
	g_autoptr(PrImapClient) client = pr_imap_client_new(
		env_or_die("PR_TEST_IMAP_HOST"), (guint16)port, PR_IMAP_SECURITY_TLS);
	g_autoptr(GAsyncResult) res = NULL;
	g_autoptr(GAsyncResult) res2 = NULL;
	Wait wait = { 0 };
	Wait wait2 = { 0 };

	if (!pr_imap_client_set_ca_file(client, env_or_die("PR_TEST_CA_FILE"), error))
		return NULL;
	pr_imap_client_connect_async(client, NULL, wait_cb, &wait);
	res = wait_for(&wait);
	if (!pr_imap_client_connect_finish(client, res, error))
		return NULL;
	pr_imap_client_login_async(client,
				   env_or_die("PR_TEST_USER"),
				   env_or_die("PR_TEST_PASSWORD"),
				   "auto",
				   NULL,
				   wait_cb,
				   &wait2);
	res2 = wait_for(&wait2);
	if (!pr_imap_client_login_finish(client, res2, error))
		return NULL;
	return g_steal_pointer(&client);
}

typedef struct {
	const gchar *expect;
	gboolean seen;
	gint64 seen_at;
} Expect;

static void
changed_cb(PrPush *push, const gchar *folder, gpointer user_data)
{
	Expect *expect = user_data;

	if (!expect->seen && expect->expect != NULL && g_strcmp0(folder, expect->expect) == 0) {
		expect->seen = TRUE;
		expect->seen_at = g_get_monotonic_time();
	}
}

static void
dead_cb(PrPush *push, const GError *error, gpointer user_data)
{
	g_printerr("push connection died: %s\n", error->message);
	exit(1);
}

static gint
cmp_double(gconstpointer a, gconstpointer b)
{
	gdouble x = *(const gdouble *)a;
	gdouble y = *(const gdouble *)b;

	return (x > y) - (x < y);
}

static gboolean
append_async_done(PrImapClient *appender, Wait *wait, GError **error)
{
	g_autoptr(PrImapResponse) response = NULL;
	g_autoptr(GAsyncResult) res = wait_for(wait);

	response = pr_imap_client_run_finish(appender, res, NULL, error);
	return response != NULL;
}

/* One mode: N samples of APPEND to @folder -> "changed"(@folder). */
static gboolean
measure(const gchar *label,
	gboolean use_notify,
	const gchar *folder,
	guint n,
	guint coalesce_ms,
	guint gap_ms,
	GError **error)
{
	g_autoptr(PrImapClient) client = NULL;
	g_autoptr(PrImapClient) appender = NULL;
	g_autoptr(PrPush) push = NULL;
	g_autoptr(GAsyncResult) res = NULL;
	g_autoptr(GArray) samples = g_array_new(FALSE, FALSE, sizeof(gdouble));
	PrPushOptions options;
	Expect expect = { 0 };
	Wait wait = { 0 };
	gdouble sum = 0;

	client = login(error);
	if (client == NULL)
		return FALSE;
	appender = login(error);
	if (appender == NULL)
		return FALSE;
	if (use_notify && !pr_imap_client_has_capability(client, "NOTIFY")) {
		g_set_error(error, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED, "no NOTIFY on the server");
		return FALSE;
	}

	pr_push_options_init(&options);
	options.use_notify = use_notify;
	options.coalesce_ms = coalesce_ms;
	push = pr_push_new(client, &options);
	g_signal_connect(push, "changed", G_CALLBACK(changed_cb), &expect);
	g_signal_connect(push, "dead", G_CALLBACK(dead_cb), NULL);
	pr_push_start_async(push, NULL, wait_cb, &wait);
	res = wait_for(&wait);
	if (!pr_push_start_finish(push, res, error))
		return FALSE;
	spin(gap_ms);

	for (guint i = 0; i < n; i++) {
		g_autofree gchar *text = g_strdup_printf("From: bench@example.test\r\n"
							 "Subject: push bench %u\r\n"
							 "Message-ID: <bench.%u.%" G_GINT64_FORMAT
							 "@example.test>\r\n\r\nsample %u\r\n",
							 i,
							 i,
							 g_get_real_time(),
							 i);
		g_autoptr(GBytes) bytes = g_bytes_new(text, strlen(text));
		g_autoptr(PrImapCommand) command = pr_imap_command_new("APPEND");
		gint64 deadline;
		gint64 t0;
		Wait append = { 0 };
		gdouble ms;

		pr_imap_command_set_literal_mode(command, PR_IMAP_LITERAL_PLUS);
		if (!pr_imap_command_add_mailbox(command, folder, error))
			return FALSE;
		pr_imap_command_add_literal(command, bytes);

		expect = (Expect){ .expect = folder };
		t0 = g_get_monotonic_time();
		pr_imap_client_run_async(appender, command, NULL, wait_cb, &append);
		deadline = t0 + 20 * G_USEC_PER_SEC;
		while (!expect.seen && g_get_monotonic_time() < deadline)
			g_main_context_iteration(NULL, TRUE);
		if (!append_async_done(appender, &append, error))
			return FALSE;
		if (!expect.seen) {
			g_set_error(error,
				    G_IO_ERROR,
				    G_IO_ERROR_TIMED_OUT,
				    "sample %u: no \"changed\" within 20 s",
				    i);
			return FALSE;
		}
		ms = (gdouble)(expect.seen_at - t0) / 1000.0;
		g_array_append_val(samples, ms);
		sum += ms;
		expect.expect = NULL;
		spin(gap_ms);
	}

	g_array_sort(samples, cmp_double);
	g_print("%-28s n=%u coalesce=%u ms  median %.1f ms  min %.1f  p90 %.1f  max %.1f  "
		"mean %.1f\n",
		label,
		n,
		coalesce_ms,
		n % 2 == 1 ? g_array_index(samples, gdouble, n / 2)
			   : (g_array_index(samples, gdouble, n / 2 - 1) +
			      g_array_index(samples, gdouble, n / 2)) /
				     2,
		g_array_index(samples, gdouble, 0),
		g_array_index(samples, gdouble, (n * 9) / 10 < n ? (n * 9) / 10 : n - 1),
		g_array_index(samples, gdouble, n - 1),
		sum / n);

	{
		Wait stop = { 0 };
		Wait out1 = { 0 };
		Wait out2 = { 0 };
		g_autoptr(GAsyncResult) stop_res = NULL;
		g_autoptr(GAsyncResult) res1 = NULL;
		g_autoptr(GAsyncResult) res2 = NULL;

		pr_push_stop_async(push, NULL, wait_cb, &stop);
		stop_res = wait_for(&stop);
		if (!pr_push_stop_finish(push, stop_res, error))
			return FALSE;
		pr_imap_client_logout_async(client, NULL, wait_cb, &out1);
		res1 = wait_for(&out1);
		pr_imap_client_logout_finish(client, res1, NULL);
		pr_imap_client_logout_async(appender, NULL, wait_cb, &out2);
		res2 = wait_for(&out2);
		pr_imap_client_logout_finish(appender, res2, NULL);
	}
	return TRUE;
}

gint
main(gint argc, gchar **argv)
{
	gint n = 50;
	gint coalesce_ms = 100;
	gint gap_ms = 700;
	g_autofree gchar *folder = NULL;
	g_autofree gchar *mode = NULL;
	g_autoptr(GOptionContext) context = NULL;
	g_autoptr(GError) error = NULL;
	const GOptionEntry entries[] = {
		{ "samples", 'n', 0, G_OPTION_ARG_INT, &n, "Samples per mode (50)", "N" },
		{ "coalesce-ms",
		  0,
		  0,
		  G_OPTION_ARG_INT,
		  &coalesce_ms,
		  "PrPush coalescing window (100, the default)",
		  "MS" },
		{ "gap-ms", 0, 0, G_OPTION_ARG_INT, &gap_ms, "Pause between samples (700)", "MS" },
		{ "folder",
		  0,
		  0,
		  G_OPTION_ARG_STRING,
		  &folder,
		  "The other folder for NOTIFY (Archive)",
		  "NAME" },
		{ "mode", 0, 0, G_OPTION_ARG_STRING, &mode, "idle, notify or both (both)", "MODE" },
		G_OPTION_ENTRY_NULL,
	};

	context = g_option_context_new("- APPEND to \"changed\" latency of PrPush");
	g_option_context_add_main_entries(context, entries, NULL);
	if (!g_option_context_parse(context, &argc, &argv, &error)) {
		g_printerr("%s\n", error->message);
		return 2;
	}
	if (n < 1 || coalesce_ms < 0 || gap_ms < 0) {
		g_printerr("bad arguments\n");
		return 2;
	}
	if (folder == NULL)
		folder = g_strdup("Archive");
	if (mode == NULL)
		mode = g_strdup("both");

	if (g_strcmp0(mode, "idle") == 0 || g_strcmp0(mode, "both") == 0) {
		if (!measure("IDLE (INBOX)", FALSE, "INBOX", n, coalesce_ms, gap_ms, &error)) {
			g_printerr("IDLE: %s\n", error->message);
			return 1;
		}
	}
	if (g_strcmp0(mode, "notify") == 0 || g_strcmp0(mode, "both") == 0) {
		g_autofree gchar *label = g_strdup_printf("NOTIFY (%s)", folder);
		if (!measure(label, TRUE, folder, n, coalesce_ms, gap_ms, &error)) {
			g_printerr("NOTIFY: %s\n", error->message);
			return 1;
		}
	}
	return 0;
}
