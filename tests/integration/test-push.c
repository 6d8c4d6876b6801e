/*
 * Copyright 2026 The Postroom developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

/*
 * PrPush against a real Dovecot (tests/servers/with-dovecot). News is made independently of
 * the code under test: APPEND from a second connection, or doveadm save (-c
 * PR_TEST_DOVECOT_CONF). The dead-connection cases put a small TCP proxy of our own (below,
 * GIO in this process) between the push connection and Dovecot; it forwards until told to
 * drop everything silently (sockets kept open, as a NAT that forgot the mapping) or to reset
 * both sides.
 *
 * Deadlines are generous (this is not a timing test); the latencies measured are logged.
 */
#define G_LOG_DOMAIN "PrTest"

#include <string.h>
#include <sys/socket.h>

#include "pr-push.h"
#include "pr-test-imap.h"

/* How long news may take to show up as "changed". */
#define NEWS_DEADLINE 20

typedef struct {
	const gchar *host;
	guint16 imaps_port;
	const gchar *ca_file;
	const gchar *user;
	const gchar *password;
	const gchar *conf;
} TestEnv;

static TestEnv env;
static guint message_counter;

/* Server-side changes ---------------------------------------------------------------------- */

static gchar *
make_message(void)
{
	guint n = ++message_counter;

	return g_strdup_printf("From: \"Push Test\" <push@example.test>\r\n"
			       "To: alice@wonderland.test\r\n"
			       "Subject: push %u\r\n"
			       "Date: Mon, 6 Jan 2025 10:00:00 +0000\r\n"
			       "Message-ID: <push.%u.%" G_GINT64_FORMAT "@example.test>\r\n"
			       "\r\n"
			       "news number %u\r\n",
			       n,
			       n,
			       g_get_real_time(),
			       n);
}

/* doveadm -c CONF ARGS... with @input on stdin; the server side, apart from the code under
 * test. */
static void
doveadm_v(GBytes *input, const gchar *const *args)
{
	g_autoptr(GPtrArray) argv = g_ptr_array_new();
	g_autoptr(GSubprocess) proc = NULL;
	g_autoptr(GBytes) err = NULL;
	g_autoptr(GBytes) empty = NULL;
	g_autoptr(GError) error = NULL;

	g_ptr_array_add(argv, (gpointer) "doveadm");
	g_ptr_array_add(argv, (gpointer) "-c");
	g_ptr_array_add(argv, (gpointer)env.conf);
	for (guint i = 0; args[i] != NULL; i++)
		g_ptr_array_add(argv, (gpointer)args[i]);
	g_ptr_array_add(argv, NULL);
	proc = g_subprocess_newv((const gchar *const *)argv->pdata,
				 G_SUBPROCESS_FLAGS_STDIN_PIPE | G_SUBPROCESS_FLAGS_STDOUT_SILENCE |
					 G_SUBPROCESS_FLAGS_STDERR_PIPE,
				 &error);
	g_assert_no_error(error);
	if (input == NULL)
		input = empty = g_bytes_new_static("", 0);
	g_subprocess_communicate(proc, input, NULL, NULL, &err, &error);
	g_assert_no_error(error);
	if (!g_subprocess_get_successful(proc)) {
		g_autofree gchar *line = g_strjoinv(" ", (gchar **)args);
		g_error("doveadm %s failed: %.*s",
			line,
			(gint)g_bytes_get_size(err),
			(const gchar *)g_bytes_get_data(err, NULL));
	}
}

#define DOVEADM(...) doveadm_v(NULL, (const gchar *const[]){ __VA_ARGS__, NULL })

/* doveadm save: delivery as an MDA does it, outside IMAP. */
static void
deliver_message(const gchar *folder)
{
	g_autofree gchar *text = make_message();
	g_autoptr(GBytes) input = g_bytes_new(text, strlen(text));

	doveadm_v(input, (const gchar *const[]){ "save", "-u", env.user, "-m", folder, NULL });
}

static PrImapClient *
login(guint16 port, guint timeout)
{
	g_autoptr(PrImapClient) client = pr_imap_client_new(env.host, port, PR_IMAP_SECURITY_TLS);
	g_autoptr(GError) error = NULL;

	pr_imap_client_set_timeout(client, timeout);
	g_assert_true(pr_imap_client_set_ca_file(client, env.ca_file, &error));
	g_assert_no_error(error);
	pr_test_connect(client, NULL, &error);
	g_assert_no_error(error);
	pr_test_login(client, env.user, env.password, "auto", &error);
	g_assert_no_error(error);
	return g_steal_pointer(&client);
}

/* APPEND from another session. */
static void
append_message(PrImapClient *client, const gchar *folder)
{
	g_autofree gchar *text = make_message();
	g_autoptr(GBytes) bytes = g_bytes_new(text, strlen(text));
	g_autoptr(PrImapCommand) command = pr_imap_command_new("APPEND");
	g_autoptr(PrImapResponse) response = NULL;
	g_autoptr(GError) error = NULL;

	if (pr_imap_client_has_capability(client, "LITERAL+"))
		pr_imap_command_set_literal_mode(command, PR_IMAP_LITERAL_PLUS);
	g_assert_true(pr_imap_command_add_mailbox(command, folder, &error));
	pr_imap_command_add_literal(command, bytes);
	response = pr_test_run(client, command, NULL, NULL, &error);
	g_assert_no_error(error);
	g_assert_nonnull(response);
}

/* Watching a push ------------------------------------------------------------------------ */

typedef struct {
	GPtrArray *changed; /* folder names in order ("(all)" for NULL) */
	const gchar *expect;
	gboolean expect_seen;
	gint64 expect_at;
	guint expect_count;
	GError *dead;
	gboolean dead_seen;
	gint64 dead_at;
} Watch;

static void
watch_changed_cb(PrPush *push, const gchar *folder, gpointer user_data)
{
	Watch *watch = user_data;

	g_test_message("changed: %s", folder != NULL ? folder : "(all)");
	g_ptr_array_add(watch->changed, g_strdup(folder != NULL ? folder : "(all)"));
	if (watch->expect != NULL && g_strcmp0(folder, watch->expect) == 0) {
		watch->expect_count++;
		if (!watch->expect_seen)
			watch->expect_at = g_get_monotonic_time();
		watch->expect_seen = TRUE;
	}
}

static void
watch_dead_cb(PrPush *push, const GError *error, gpointer user_data)
{
	Watch *watch = user_data;

	g_test_message("dead: %s", error->message);
	g_assert_false(watch->dead_seen);
	watch->dead = g_error_copy(error);
	watch->dead_seen = TRUE;
	watch->dead_at = g_get_monotonic_time();
}

static void
watch_init(Watch *watch)
{
	memset(watch, 0, sizeof(*watch));
	watch->changed = g_ptr_array_new_with_free_func(g_free);
}

static void
watch_clear(Watch *watch)
{
	g_clear_pointer(&watch->changed, g_ptr_array_unref);
	g_clear_error(&watch->dead);
}

/* From now on, wait for "changed" in @folder. */
static void
watch_expect(Watch *watch, const gchar *folder)
{
	watch->expect = folder;
	watch->expect_seen = FALSE;
	watch->expect_count = 0;
	watch->expect_at = 0;
}

/* Waits for the expected "changed"; logs and returns the latency from @since in ms. */
static gdouble
watch_wait(Watch *watch, gint64 since, const gchar *what)
{
	gdouble ms;

	if (!pr_test_wait_for_flag(&watch->expect_seen, NEWS_DEADLINE)) {
		g_test_fail_printf("%s: no \"changed\" for %s within %u s",
				   what,
				   watch->expect,
				   (guint)NEWS_DEADLINE);
		return -1;
	}
	ms = (gdouble)(watch->expect_at - since) / 1000.0;
	g_test_message("%s -> changed(%s): %.1f ms", what, watch->expect, ms);
	return ms;
}

typedef struct {
	GAsyncResult *res;
	gboolean done;
} AsyncWait;

static void
async_wait_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	AsyncWait *wait = user_data;

	wait->res = g_object_ref(res);
	wait->done = TRUE;
}

static GAsyncResult *
async_wait(AsyncWait *wait)
{
	if (!pr_test_wait_for_flag(&wait->done, PR_TEST_DEADLINE_SECONDS))
		g_error("a push call did not complete within %u s",
			(guint)PR_TEST_DEADLINE_SECONDS);
	return wait->res;
}

static PrPush *
push_new(PrImapClient *client, const PrPushOptions *options, Watch *watch)
{
	g_autoptr(PrPush) push = pr_push_new(client, options);

	g_signal_connect(push, "changed", G_CALLBACK(watch_changed_cb), watch);
	g_signal_connect(push, "dead", G_CALLBACK(watch_dead_cb), watch);
	return g_steal_pointer(&push);
}

static gboolean
push_start(PrPush *push, GError **error)
{
	AsyncWait wait = { 0 };
	g_autoptr(GAsyncResult) res = NULL;

	pr_push_start_async(push, NULL, async_wait_cb, &wait);
	res = async_wait(&wait);
	return pr_push_start_finish(push, res, error);
}

static void
push_start_ok(PrPush *push)
{
	g_autoptr(GError) error = NULL;

	push_start(push, &error);
	pr_test_assert_no_error(error);
	g_assert_no_error(error);
}

static void
push_stop_ok(PrPush *push)
{
	AsyncWait wait = { 0 };
	g_autoptr(GAsyncResult) res = NULL;
	g_autoptr(GError) error = NULL;

	pr_push_stop_async(push, NULL, async_wait_cb, &wait);
	res = async_wait(&wait);
	pr_push_stop_finish(push, res, &error);
	pr_test_assert_no_error(error);
}

static void
push_pause_ok(PrPush *push)
{
	AsyncWait wait = { 0 };
	g_autoptr(GAsyncResult) res = NULL;
	g_autoptr(GError) error = NULL;

	pr_push_pause_async(push, NULL, async_wait_cb, &wait);
	res = async_wait(&wait);
	pr_push_pause_finish(push, res, &error);
	pr_test_assert_no_error(error);
}

static void
push_resume_ok(PrPush *push)
{
	AsyncWait wait = { 0 };
	g_autoptr(GAsyncResult) res = NULL;
	g_autoptr(GError) error = NULL;

	pr_push_resume_async(push, NULL, async_wait_cb, &wait);
	res = async_wait(&wait);
	pr_push_resume_finish(push, res, &error);
	pr_test_assert_no_error(error);
}

static gboolean
spin_done_cb(gpointer user_data)
{
	*(gboolean *)user_data = TRUE;
	return G_SOURCE_REMOVE;
}

/* Runs the main loop for @ms (lets late signals arrive). */
static void
spin(guint ms)
{
	gboolean done = FALSE;

	g_timeout_add(ms, spin_done_cb, &done);
	while (!done)
		g_main_context_iteration(NULL, TRUE);
}

/* Connected, not in IDLE. (The client reports AUTHENTICATED after EXAMINE: it tracks
 * SELECTED only around IDLE.) */
static void
assert_out_of_idle(PrImapClient *client)
{
	PrImapClientState state = pr_imap_client_get_state(client);

	g_assert_true(state == PR_IMAP_CLIENT_STATE_SELECTED ||
		      state == PR_IMAP_CLIENT_STATE_AUTHENTICATED);
}

static PrPushOptions
options_default(void)
{
	PrPushOptions options;

	pr_push_options_init(&options);
	return options;
}

/* A TCP proxy that can play dead ------------------------------------------------------ */

typedef enum {
	PROXY_FORWARD,
	PROXY_BLACKHOLE, /* read and drop everything, both ways; sockets stay open */
	PROXY_RESET,	 /* both sides got a TCP RST */
} ProxyMode;

typedef struct {
	GSocketService *service;
	guint16 port;
	guint16 target;
	ProxyMode mode;
	GPtrArray *connections; /* GSocketConnection, both sides of every pair */
	GCancellable *cancellable;
	guint active; /* pumps running */
	guint64 dropped;
} Proxy;

typedef struct {
	Proxy *proxy;
	GSocketConnection *from;
	GSocketConnection *to;
	guint8 buf[16384];
} ProxyPump;

static void proxy_pump_read(ProxyPump *pump);

static void
proxy_pump_end(ProxyPump *pump)
{
	Proxy *proxy = pump->proxy;

	/* the other side learns of the end only while we forward */
	if (proxy->mode == PROXY_FORWARD) {
		g_socket_shutdown(g_socket_connection_get_socket(pump->from), TRUE, TRUE, NULL);
		g_socket_shutdown(g_socket_connection_get_socket(pump->to), TRUE, TRUE, NULL);
	}
	g_object_unref(pump->from);
	g_object_unref(pump->to);
	g_free(pump);
	proxy->active--;
}

static void
proxy_pump_write_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	ProxyPump *pump = user_data;

	if (!g_output_stream_write_all_finish(G_OUTPUT_STREAM(source), res, NULL, NULL)) {
		proxy_pump_end(pump);
		return;
	}
	proxy_pump_read(pump);
}

static void
proxy_pump_read_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	ProxyPump *pump = user_data;
	gssize n = g_input_stream_read_finish(G_INPUT_STREAM(source), res, NULL);

	if (n <= 0) {
		proxy_pump_end(pump);
		return;
	}
	if (pump->proxy->mode != PROXY_FORWARD) {
		pump->proxy->dropped += (guint64)n;
		proxy_pump_read(pump);
		return;
	}
	g_output_stream_write_all_async(g_io_stream_get_output_stream(G_IO_STREAM(pump->to)),
					pump->buf,
					(gsize)n,
					G_PRIORITY_DEFAULT,
					pump->proxy->cancellable,
					proxy_pump_write_cb,
					pump);
}

static void
proxy_pump_read(ProxyPump *pump)
{
	g_input_stream_read_async(g_io_stream_get_input_stream(G_IO_STREAM(pump->from)),
				  pump->buf,
				  sizeof(pump->buf),
				  G_PRIORITY_DEFAULT,
				  pump->proxy->cancellable,
				  proxy_pump_read_cb,
				  pump);
}

static void
proxy_pump_start(Proxy *proxy, GSocketConnection *from, GSocketConnection *to)
{
	ProxyPump *pump = g_new0(ProxyPump, 1);

	pump->proxy = proxy;
	pump->from = g_object_ref(from);
	pump->to = g_object_ref(to);
	proxy->active++;
	proxy_pump_read(pump);
}

static gboolean
proxy_incoming_cb(GSocketService *service,
		  GSocketConnection *connection,
		  GObject *source_object,
		  gpointer user_data)
{
	Proxy *proxy = user_data;
	g_autoptr(GSocketClient) client = g_socket_client_new();
	g_autoptr(GSocketConnection) upstream = NULL;
	g_autoptr(GError) error = NULL;

	/* loopback: a blocking connect is immediate */
	upstream = g_socket_client_connect_to_host(client, env.host, proxy->target, NULL, &error);
	g_assert_no_error(error);
	g_ptr_array_add(proxy->connections, g_object_ref(connection));
	g_ptr_array_add(proxy->connections, g_object_ref(upstream));
	proxy_pump_start(proxy, connection, upstream);
	proxy_pump_start(proxy, upstream, connection);
	return TRUE;
}

static Proxy *
proxy_new(guint16 target)
{
	Proxy *proxy = g_new0(Proxy, 1);
	g_autoptr(GInetAddress) loopback = g_inet_address_new_from_string(env.host);
	g_autoptr(GSocketAddress) address = g_inet_socket_address_new(loopback, 0);
	g_autoptr(GSocketAddress) effective = NULL;
	g_autoptr(GError) error = NULL;

	proxy->target = target;
	proxy->connections = g_ptr_array_new_with_free_func(g_object_unref);
	proxy->cancellable = g_cancellable_new();
	proxy->service = g_socket_service_new();
	g_socket_listener_add_address(G_SOCKET_LISTENER(proxy->service),
				      address,
				      G_SOCKET_TYPE_STREAM,
				      G_SOCKET_PROTOCOL_TCP,
				      NULL,
				      &effective,
				      &error);
	g_assert_no_error(error);
	proxy->port = g_inet_socket_address_get_port(G_INET_SOCKET_ADDRESS(effective));
	g_signal_connect(proxy->service, "incoming", G_CALLBACK(proxy_incoming_cb), proxy);
	g_socket_service_start(proxy->service);
	return proxy;
}

/* Both sides get a TCP RST at once (SO_LINGER 0, then close). */
static void
proxy_reset(Proxy *proxy)
{
	struct linger lin = { .l_onoff = 1, .l_linger = 0 };

	proxy->mode = PROXY_RESET;
	for (guint i = 0; i < proxy->connections->len; i++) {
		GSocket *socket =
			g_socket_connection_get_socket(g_ptr_array_index(proxy->connections, i));
		g_assert_cmpint(
			setsockopt(
				g_socket_get_fd(socket), SOL_SOCKET, SO_LINGER, &lin, sizeof(lin)),
			==,
			0);
		g_socket_close(socket, NULL);
	}
}

static void
proxy_free(Proxy *proxy)
{
	gint64 deadline = g_get_monotonic_time() + 10 * G_USEC_PER_SEC;

	g_socket_service_stop(proxy->service);
	g_socket_listener_close(G_SOCKET_LISTENER(proxy->service));
	g_cancellable_cancel(proxy->cancellable);
	for (guint i = 0; i < proxy->connections->len; i++) {
		GSocket *socket =
			g_socket_connection_get_socket(g_ptr_array_index(proxy->connections, i));
		g_socket_close(socket, NULL);
	}
	while (proxy->active > 0 && g_get_monotonic_time() < deadline)
		g_main_context_iteration(NULL, FALSE);
	g_assert_cmpuint(proxy->active, ==, 0);
	g_ptr_array_unref(proxy->connections);
	g_object_unref(proxy->cancellable);
	g_object_unref(proxy->service);
	g_free(proxy);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC(Proxy, proxy_free)

/* Tests ------------------------------------------------------------------------------------ */

/* IDLE, news by APPEND from a second session. */
static void
test_idle_append(void)
{
	g_autoptr(PrImapClient) client = login(env.imaps_port, 60);
	g_autoptr(PrImapClient) appender = login(env.imaps_port, 60);
	PrPushOptions options = options_default();
	g_autoptr(PrPush) push = NULL;
	Watch watch;
	gint64 t0;

	watch_init(&watch);
	options.use_notify = FALSE;
	push = push_new(client, &options, &watch);
	push_start_ok(push);
	g_assert_true(pr_push_get_idling(push));
	g_assert_cmpint(pr_imap_client_get_state(client), ==, PR_IMAP_CLIENT_STATE_IDLE);
	g_assert_cmpuint(pr_push_get_reissue_interval(push), ==, 1680);

	/* nothing happened yet: no news */
	spin(500);
	g_assert_cmpuint(watch.changed->len, ==, 0);

	watch_expect(&watch, "INBOX");
	t0 = g_get_monotonic_time();
	append_message(appender, "INBOX");
	watch_wait(&watch, t0, "APPEND INBOX");
	g_assert_true(watch.expect_seen);
	/* push stays in IDLE with news */
	g_assert_cmpint(pr_imap_client_get_state(client), ==, PR_IMAP_CLIENT_STATE_IDLE);

	push_stop_ok(push);
	pr_test_logout(client);
	pr_test_logout(appender);
	g_assert_false(watch.dead_seen);
	watch_clear(&watch);
}

/* IDLE, news delivered outside IMAP (doveadm save, as an MDA). */
static void
test_idle_deliver(void)
{
	g_autoptr(PrImapClient) client = login(env.imaps_port, 60);
	g_autoptr(PrPush) push = NULL;
	Watch watch;
	gint64 t0;

	watch_init(&watch);
	push = push_new(client, NULL, &watch);
	push_start_ok(push);

	watch_expect(&watch, "INBOX");
	t0 = g_get_monotonic_time();
	deliver_message("INBOX");
	watch_wait(&watch, t0, "doveadm save INBOX");
	g_assert_true(watch.expect_seen);

	push_stop_ok(push);
	pr_test_logout(client);
	g_assert_false(watch.dead_seen);
	watch_clear(&watch);
}

/* NOTIFY: news in a folder that is not selected comes as STATUS. */
static void
test_notify_other_folder(void)
{
	g_autoptr(PrImapClient) client = login(env.imaps_port, 60);
	g_autoptr(PrImapClient) appender = NULL;
	g_autoptr(PrPush) push = NULL;
	g_autoptr(PrImapResponse) created = NULL;
	g_autoptr(GError) error = NULL;
	Watch watch;
	gint64 t0;

	if (!pr_imap_client_has_capability(client, "NOTIFY")) {
		g_test_skip("the server does not offer NOTIFY");
		pr_test_logout(client);
		return;
	}
	watch_init(&watch);
	appender = login(env.imaps_port, 60);
	push = push_new(client, NULL, &watch);
	push_start_ok(push);
	g_assert_true(pr_push_get_notify_active(push));

	watch_expect(&watch, "Archive");
	t0 = g_get_monotonic_time();
	append_message(appender, "Archive");
	watch_wait(&watch, t0, "APPEND Archive");
	g_assert_true(watch.expect_seen);
	/* only Archive changed */
	spin(300);
	for (guint i = 0; i < watch.changed->len; i++)
		g_assert_cmpstr(g_ptr_array_index(watch.changed, i), ==, "Archive");

	/* a new folder comes as LIST (MailboxName) */
	watch_expect(&watch, "Push/New");
	t0 = g_get_monotonic_time();
	created = pr_test_run_line(appender, "CREATE", "Push/New", NULL, &error);
	g_assert_no_error(error);
	g_assert_nonnull(created);
	watch_wait(&watch, t0, "CREATE Push/New");

	/* and INBOX still comes as EXISTS */
	watch_expect(&watch, "INBOX");
	t0 = g_get_monotonic_time();
	append_message(appender, "INBOX");
	watch_wait(&watch, t0, "APPEND INBOX (NOTIFY on)");

	push_stop_ok(push);
	pr_test_logout(client);
	pr_test_logout(appender);
	g_assert_false(watch.dead_seen);
	watch_clear(&watch);
}

/* Another session changing a flag or expunging is news too (FETCH, EXPUNGE/VANISHED). */
static void
test_idle_flags_expunge(void)
{
	g_autoptr(PrImapClient) client = login(env.imaps_port, 60);
	PrPushOptions options = options_default();
	g_autoptr(PrPush) push = NULL;
	Watch watch;
	gint64 t0;

	watch_init(&watch);
	options.use_notify = FALSE;
	push = push_new(client, &options, &watch);
	push_start_ok(push);

	watch_expect(&watch, "INBOX");
	t0 = g_get_monotonic_time();
	DOVEADM("flags", "add", "-u", env.user, "\\Flagged", "mailbox", "INBOX", "uid", "1");
	watch_wait(&watch, t0, "doveadm flags add");
	g_assert_true(watch.expect_seen);

	watch_expect(&watch, "INBOX");
	t0 = g_get_monotonic_time();
	DOVEADM("expunge", "-u", env.user, "mailbox", "INBOX", "uid", "2");
	watch_wait(&watch, t0, "doveadm expunge");
	g_assert_true(watch.expect_seen);

	push_stop_ok(push);
	pr_test_logout(client);
	g_assert_false(watch.dead_seen);
	watch_clear(&watch);
}

/* Cancelling a start fails it with Cancelled and closes the connection; no "dead". */
static void
test_cancel_start(void)
{
	g_autoptr(PrImapClient) client = login(env.imaps_port, 60);
	g_autoptr(GCancellable) cancellable = g_cancellable_new();
	g_autoptr(PrPush) push = NULL;
	g_autoptr(GAsyncResult) res = NULL;
	g_autoptr(GError) error = NULL;
	AsyncWait wait = { 0 };
	Watch watch;

	watch_init(&watch);
	push = push_new(client, NULL, &watch);
	pr_push_start_async(push, cancellable, async_wait_cb, &wait);
	g_cancellable_cancel(cancellable);
	res = async_wait(&wait);
	g_assert_false(pr_push_start_finish(push, res, &error));
	pr_test_assert_error(error, PR_ERROR_CANCELLED);
	g_assert_cmpint(pr_imap_client_get_state(client), ==, PR_IMAP_CLIENT_STATE_DISCONNECTED);
	spin(300);
	g_assert_false(watch.dead_seen);
	push_stop_ok(push);
	watch_clear(&watch);
}

/* Without IDLE: NOOP every poll interval finds the news. */
static void
test_poll(void)
{
	g_autoptr(PrImapClient) client = login(env.imaps_port, 60);
	g_autoptr(PrImapClient) appender = login(env.imaps_port, 60);
	PrPushOptions options = options_default();
	g_autoptr(PrPush) push = NULL;
	Watch watch;
	gint64 t0;

	watch_init(&watch);
	options.idle = FALSE;
	options.use_notify = FALSE;
	options.poll_interval = 1;
	push = push_new(client, &options, &watch);
	push_start_ok(push);
	g_assert_false(pr_push_get_idling(push));
	assert_out_of_idle(client);

	/* polls without news report nothing */
	spin(2500);
	g_assert_cmpuint(watch.changed->len, ==, 0);

	watch_expect(&watch, "INBOX");
	t0 = g_get_monotonic_time();
	append_message(appender, "INBOX");
	watch_wait(&watch, t0, "APPEND INBOX (polling)");
	g_assert_true(watch.expect_seen);
	g_assert_cmpint(pr_imap_client_get_state(client), !=, PR_IMAP_CLIENT_STATE_IDLE);

	push_stop_ok(push);
	pr_test_logout(client);
	pr_test_logout(appender);
	g_assert_false(watch.dead_seen);
	watch_clear(&watch);
}

/* Neither IDLE nor polling: refused before any I/O. */
static void
test_no_method(void)
{
	g_autoptr(PrImapClient) client = login(env.imaps_port, 60);
	PrPushOptions options = options_default();
	g_autoptr(PrPush) push = NULL;
	g_autoptr(GError) error = NULL;
	Watch watch;

	watch_init(&watch);
	options.idle = FALSE;
	options.poll_interval = 0;
	push = push_new(client, &options, &watch);
	g_assert_false(push_start(push, &error));
	pr_test_assert_error(error, PR_ERROR_INVALID_ARGUMENT);
	g_assert_cmpint(pr_imap_client_get_state(client), ==, PR_IMAP_CLIENT_STATE_AUTHENTICATED);
	pr_test_logout(client);
	watch_clear(&watch);
}

/* Re-issue every 2 s: the session survives the cycles and still reports news. */
static void
test_reissue(void)
{
	g_autoptr(PrImapClient) client = login(env.imaps_port, 60);
	g_autoptr(PrImapClient) appender = login(env.imaps_port, 60);
	PrPushOptions options = options_default();
	g_autoptr(PrPush) push = NULL;
	gint64 start;
	gint64 deadline;
	Watch watch;
	gint64 t0;

	watch_init(&watch);
	options.reissue_interval = 2;
	push = push_new(client, &options, &watch);
	g_assert_cmpuint(pr_push_get_reissue_interval(push), ==, 2);
	g_assert_cmpuint(pr_push_get_watchdog_interval(push), ==, 2);
	push_start_ok(push);

	start = g_get_monotonic_time();
	deadline = start + 30 * G_USEC_PER_SEC;
	while (pr_push_get_cycles(push) < 3 && !watch.dead_seen &&
	       g_get_monotonic_time() < deadline)
		g_main_context_iteration(NULL, TRUE);
	g_assert_false(watch.dead_seen);
	g_assert_cmpuint(pr_push_get_cycles(push), >=, 3);
	g_test_message("3 re-issues in %.1f s",
		       (gdouble)(g_get_monotonic_time() - start) / G_USEC_PER_SEC);
	g_assert_cmpint(pr_imap_client_get_state(client), ==, PR_IMAP_CLIENT_STATE_IDLE);
	/* the cycles themselves are not news */
	g_assert_cmpuint(watch.changed->len, ==, 0);

	watch_expect(&watch, "INBOX");
	t0 = g_get_monotonic_time();
	append_message(appender, "INBOX");
	watch_wait(&watch, t0, "APPEND INBOX after 3 re-issues");
	g_assert_true(watch.expect_seen);

	push_stop_ok(push);
	pr_test_logout(client);
	pr_test_logout(appender);
	g_assert_false(watch.dead_seen);
	watch_clear(&watch);
}

/* Silence: the proxy drops everything but keeps both sockets open. The watchdog's DONE
 * gets no answer, the client's timeout ends the connection, push reports "dead". */
static void
test_dead_blackhole(void)
{
	g_autoptr(Proxy) proxy = proxy_new(env.imaps_port);
	g_autoptr(PrImapClient) client = login(proxy->port, 2);
	PrPushOptions options = options_default();
	g_autoptr(PrPush) push = NULL;
	Watch watch;
	gint64 t0;
	gdouble seconds;

	watch_init(&watch);
	options.watchdog_interval = 2;
	push = push_new(client, &options, &watch);
	g_assert_cmpuint(pr_push_get_watchdog_interval(push), ==, 2);
	push_start_ok(push);

	/* alive through the proxy: a few watchdog cycles pass */
	spin(5000);
	g_assert_false(watch.dead_seen);
	g_assert_cmpuint(pr_push_get_cycles(push), >=, 1);

	proxy->mode = PROXY_BLACKHOLE;
	t0 = g_get_monotonic_time();
	if (!pr_test_wait_for_flag(&watch.dead_seen, NEWS_DEADLINE)) {
		g_test_fail_printf("no \"dead\" within %u s of silence", (guint)NEWS_DEADLINE);
		watch_clear(&watch);
		return;
	}
	seconds = (gdouble)(watch.dead_at - t0) / G_USEC_PER_SEC;
	g_test_message("silent connection found dead after %.1f s (watchdog 2 s + timeout 2 s)",
		       seconds);
	pr_test_assert_error(watch.dead, PR_ERROR_TIMEOUT);
	g_assert_cmpfloat(seconds, <=, 10);
	g_assert_cmpint(pr_imap_client_get_state(client), ==, PR_IMAP_CLIENT_STATE_DISCONNECTED);
	g_assert_cmpuint(proxy->dropped, >, 0);

	/* stopping a dead push is a no-op that succeeds */
	push_stop_ok(push);
	watch_clear(&watch);
}

/* A reset connection surfaces as "closed": "dead" at once, no watchdog needed. */
static void
test_dead_reset(void)
{
	g_autoptr(Proxy) proxy = proxy_new(env.imaps_port);
	g_autoptr(PrImapClient) client = login(proxy->port, 60);
	g_autoptr(PrPush) push = NULL;
	Watch watch;
	gint64 t0;
	gdouble seconds;

	watch_init(&watch);
	push = push_new(client, NULL, &watch);
	push_start_ok(push);

	t0 = g_get_monotonic_time();
	proxy_reset(proxy);
	if (!pr_test_wait_for_flag(&watch.dead_seen, NEWS_DEADLINE)) {
		g_test_fail_printf("no \"dead\" within %u s of a reset", (guint)NEWS_DEADLINE);
		watch_clear(&watch);
		return;
	}
	seconds = (gdouble)(watch.dead_at - t0) / G_USEC_PER_SEC;
	g_test_message("reset connection found dead after %.3f s", seconds);
	g_assert_nonnull(watch.dead);
	g_assert_cmpfloat(seconds, <, 5);
	watch_clear(&watch);
}

/* Pause leaves IDLE, resume enters it again, and news from the pause is not lost. */
static void
test_pause_resume(void)
{
	g_autoptr(PrImapClient) client = login(env.imaps_port, 60);
	PrPushOptions options = options_default();
	g_autoptr(PrPush) push = NULL;
	Watch watch;
	gint64 t0;

	watch_init(&watch);
	/* without NOTIFY the server sends nothing while we are out of IDLE */
	options.use_notify = FALSE;
	push = push_new(client, &options, &watch);
	push_start_ok(push);

	push_pause_ok(push);
	assert_out_of_idle(client);
	/* pausing twice is fine */
	push_pause_ok(push);

	watch_expect(&watch, "INBOX");
	t0 = g_get_monotonic_time();
	deliver_message("INBOX");
	spin(1500);
	g_test_message("news during the pause reported %s resume",
		       watch.expect_seen ? "before" : "after");
	push_resume_ok(push);
	g_assert_cmpint(pr_imap_client_get_state(client), ==, PR_IMAP_CLIENT_STATE_IDLE);
	watch_wait(&watch, t0, "doveadm save during pause");
	g_assert_true(watch.expect_seen);

	/* and the next news as usual */
	watch_expect(&watch, "INBOX");
	t0 = g_get_monotonic_time();
	deliver_message("INBOX");
	watch_wait(&watch, t0, "doveadm save after resume");

	push_stop_ok(push);
	pr_test_logout(client);
	g_assert_false(watch.dead_seen);
	watch_clear(&watch);
}

/* Several deliveries within the coalescing window give one "changed". */
static void
test_coalesce(void)
{
	g_autoptr(PrImapClient) client = login(env.imaps_port, 60);
	PrPushOptions options = options_default();
	g_autoptr(PrPush) push = NULL;
	Watch watch;
	gint64 t0;

	watch_init(&watch);
	options.use_notify = FALSE;
	options.coalesce_ms = 3000;
	push = push_new(client, &options, &watch);
	push_start_ok(push);

	watch_expect(&watch, "INBOX");
	t0 = g_get_monotonic_time();
	for (guint i = 0; i < 3; i++)
		deliver_message("INBOX");
	watch_wait(&watch, t0, "3 deliveries");
	spin(3500);
	g_test_message("3 deliveries in %.0f ms gave %u \"changed\"",
		       (gdouble)(watch.expect_at - t0) / 1000.0,
		       watch.expect_count);
	g_assert_cmpuint(watch.expect_count, <, 3);

	push_stop_ok(push);
	pr_test_logout(client);
	watch_clear(&watch);
}

/* Stop: DONE, then the client logs out cleanly and push stays quiet. */
static void
test_stop(void)
{
	g_autoptr(PrImapClient) client = login(env.imaps_port, 60);
	g_autoptr(PrPush) push = NULL;
	g_autoptr(GError) error = NULL;
	AsyncWait wait = { 0 };
	g_autoptr(GAsyncResult) res = NULL;
	g_autoptr(PrImapResponse) noop = NULL;
	Watch watch;

	watch_init(&watch);
	push = push_new(client, NULL, &watch);
	push_start_ok(push);
	g_assert_cmpint(pr_imap_client_get_state(client), ==, PR_IMAP_CLIENT_STATE_IDLE);

	push_stop_ok(push);
	assert_out_of_idle(client);
	/* stopped for good: resume is refused, stop again is fine */
	pr_push_resume_async(push, NULL, async_wait_cb, &wait);
	res = async_wait(&wait);
	g_assert_false(pr_push_resume_finish(push, res, &error));
	pr_test_assert_error(error, PR_ERROR_NOT_CONNECTED);
	push_stop_ok(push);

	/* the connection is usable and logs out cleanly */
	g_clear_error(&error);
	noop = pr_test_run_line(client, "NOOP", NULL, NULL, &error);
	g_assert_no_error(error);
	g_assert_nonnull(noop);
	pr_test_logout(client);
	spin(300);
	g_assert_false(watch.dead_seen);
	watch_clear(&watch);
}

gint
main(gint argc, gchar **argv)
{
	g_test_init(&argc, &argv, NULL);
	if (g_getenv("PR_TEST_IMAPS_PORT") == NULL)
		return pr_test_skip_all(argc, argv, "needs tests/servers/with-dovecot");
	env.host = pr_test_env("PR_TEST_IMAP_HOST");
	env.imaps_port = pr_test_env_port("PR_TEST_IMAPS_PORT");
	env.ca_file = pr_test_env("PR_TEST_CA_FILE");
	env.user = pr_test_env("PR_TEST_USER");
	env.password = pr_test_env("PR_TEST_PASSWORD");
	env.conf = pr_test_env("PR_TEST_DOVECOT_CONF");

	g_test_add_func("/push/idle/append", test_idle_append);
	g_test_add_func("/push/idle/deliver", test_idle_deliver);
	g_test_add_func("/push/idle/flags-expunge", test_idle_flags_expunge);
	g_test_add_func("/push/notify/other-folder", test_notify_other_folder);
	g_test_add_func("/push/poll", test_poll);
	g_test_add_func("/push/no-method", test_no_method);
	g_test_add_func("/push/reissue", test_reissue);
	g_test_add_func("/push/dead/blackhole", test_dead_blackhole);
	g_test_add_func("/push/dead/reset", test_dead_reset);
	g_test_add_func("/push/pause-resume", test_pause_resume);
	g_test_add_func("/push/coalesce", test_coalesce);
	g_test_add_func("/push/stop", test_stop);
	g_test_add_func("/push/cancel-start", test_cancel_start);
	return g_test_run();
}
