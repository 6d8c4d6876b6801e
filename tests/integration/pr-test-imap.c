/*
 * Copyright 2026 The Postroom developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#define G_LOG_DOMAIN "PrTest"

#include <glib/gstdio.h>
#include <stdlib.h>
#include <string.h>

#include "pr-test-imap.h"

gint
pr_test_skip_all(gint argc, gchar **argv, const gchar *reason)
{
	for (gint i = 1; i < argc; i++) {
		if (g_strcmp0(argv[i], "--tap") == 0) {
			g_print("1..0 # SKIP %s\n", reason);
			return EXIT_SUCCESS;
		}
	}
	g_printerr("SKIP: %s\n", reason);
	return 77;
}

const gchar *
pr_test_env(const gchar *name)
{
	const gchar *value = g_getenv(name);

	if (value == NULL || value[0] == '\0')
		g_error("%s is not set: run this test through tests/servers/with-dovecot or meson",
			name);
	return value;
}

guint16
pr_test_env_port(const gchar *name)
{
	guint64 port = 0;

	if (!g_ascii_string_to_unsigned(pr_test_env(name), 10, 1, G_MAXUINT16, &port, NULL))
		g_error("%s is not a port number", name);
	return (guint16)port;
}

gboolean
pr_test_check_error(const GError *error, PrError code, const gchar *where)
{
	if (error == NULL) {
		g_test_fail_printf("%s: expected %s, got success", where, pr_error_to_name(code));
		return FALSE;
	}
	if (error->domain != PR_ERROR || error->code != (gint)code) {
		g_test_fail_printf("%s: expected %s, got %s: %s",
				   where,
				   pr_error_to_name(code),
				   error->domain == PR_ERROR ? pr_error_to_name(error->code)
							     : g_quark_to_string(error->domain),
				   error->message);
		return FALSE;
	}
	g_test_message("got %s as expected: %s", pr_error_to_name(code), error->message);
	return TRUE;
}

gboolean
pr_test_check_error2(const GError *error, PrError a, PrError b, const gchar *where)
{
	if (error != NULL && error->domain == PR_ERROR && error->code == (gint)b)
		return pr_test_check_error(error, b, where);
	return pr_test_check_error(error, a, where);
}

/* Logs ----------------------------------------------------------------------------------- */

static GPtrArray *pr_test_secrets;

static GLogWriterOutput
pr_test_log_writer(GLogLevelFlags level, const GLogField *fields, gsize n_fields, gpointer data)
{
	for (gsize i = 0; i < n_fields && pr_test_secrets != NULL; i++) {
		const gchar *text = fields[i].value;

		if (g_strcmp0(fields[i].key, "MESSAGE") != 0 || fields[i].length != -1)
			continue;
		for (guint j = 0; j < pr_test_secrets->len; j++) {
			if (strstr(text, g_ptr_array_index(pr_test_secrets, j)) != NULL &&
			    g_test_get_path() != NULL)
				g_test_fail_printf("a log message holds the password (form %u)", j);
		}
	}
	return g_log_writer_default(level, fields, n_fields, data);
}

void
pr_test_forbid_secret_in_logs(const gchar *user, const gchar *password)
{
	g_autoptr(GString) plain = g_string_new(NULL);

	pr_test_secrets = g_ptr_array_new_with_free_func(g_free);
	g_ptr_array_add(pr_test_secrets, g_strdup(password));
	g_ptr_array_add(pr_test_secrets,
			g_base64_encode((const guchar *)password, strlen(password)));
	g_string_append_c(plain, '\0');
	g_string_append(plain, user);
	g_string_append_c(plain, '\0');
	g_string_append(plain, password);
	g_ptr_array_add(pr_test_secrets, g_base64_encode((const guchar *)plain->str, plain->len));
	g_log_set_writer_func(pr_test_log_writer, NULL, NULL);
}

/* Waiting ------------------------------------------------------------------------------ */

typedef struct {
	GAsyncResult *res;
} PrTestWait;

static void
pr_test_wait_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	PrTestWait *wait = user_data;

	wait->res = g_object_ref(res);
}

static gboolean
pr_test_tick_cb(gpointer user_data)
{
	return G_SOURCE_CONTINUE;
}

/* Iterates until the call completed; a hang fails the test and closes the client, which
 * completes everything in flight. */
static GAsyncResult *
pr_test_wait(PrTestWait *wait, PrImapClient *client)
{
	gint64 deadline = g_get_monotonic_time() + PR_TEST_DEADLINE_SECONDS * G_USEC_PER_SEC;
	gboolean closed = FALSE;
	guint tick = g_timeout_add(200, pr_test_tick_cb, NULL);

	while (wait->res == NULL) {
		if (g_get_monotonic_time() > deadline) {
			if (closed)
				g_error("the call did not complete even after close()");
			g_test_fail_printf("no answer within the %u s deadline: closing",
					   (guint)PR_TEST_DEADLINE_SECONDS);
			closed = TRUE;
			deadline = g_get_monotonic_time() + 10 * G_USEC_PER_SEC;
			pr_imap_client_close(client);
			continue;
		}
		g_main_context_iteration(NULL, TRUE);
	}
	g_source_remove(tick);
	return wait->res;
}

gboolean
pr_test_wait_for_flag(gboolean *flag, guint seconds)
{
	gint64 deadline = g_get_monotonic_time() + (gint64)seconds * G_USEC_PER_SEC;
	guint tick = g_timeout_add(100, pr_test_tick_cb, NULL);

	while (!*flag && g_get_monotonic_time() < deadline)
		g_main_context_iteration(NULL, TRUE);
	g_source_remove(tick);
	return *flag;
}

gboolean
pr_test_connect(PrImapClient *client, GCancellable *cancellable, GError **error)
{
	PrTestWait wait = { 0 };
	g_autoptr(GAsyncResult) res = NULL;

	pr_imap_client_connect_async(client, cancellable, pr_test_wait_cb, &wait);
	res = pr_test_wait(&wait, client);
	return pr_imap_client_connect_finish(client, res, error);
}

gboolean
pr_test_login(PrImapClient *client,
	      const gchar *user,
	      const gchar *password,
	      const gchar *mechanism,
	      GError **error)
{
	PrTestWait wait = { 0 };
	g_autoptr(GAsyncResult) res = NULL;

	pr_imap_client_login_async(client, user, password, mechanism, NULL, pr_test_wait_cb, &wait);
	res = pr_test_wait(&wait, client);
	return pr_imap_client_login_finish(client, res, error);
}

PrImapResponse *
pr_test_run(PrImapClient *client,
	    PrImapCommand *command,
	    GCancellable *cancellable,
	    GPtrArray **untagged,
	    GError **error)
{
	PrTestWait wait = { 0 };
	g_autoptr(GAsyncResult) res = NULL;

	pr_imap_client_run_async(client, command, cancellable, pr_test_wait_cb, &wait);
	res = pr_test_wait(&wait, client);
	return pr_imap_client_run_finish(client, res, untagged, error);
}

PrImapCommand *
pr_test_command(const gchar *name, const gchar *args)
{
	PrImapCommand *command = pr_imap_command_new(name);

	if (args != NULL)
		pr_imap_command_add_atom(command, args);
	return command;
}

PrImapResponse *
pr_test_run_line(PrImapClient *client,
		 const gchar *name,
		 const gchar *args,
		 GPtrArray **untagged,
		 GError **error)
{
	g_autoptr(PrImapCommand) command = pr_test_command(name, args);

	return pr_test_run(client, command, NULL, untagged, error);
}

gboolean
pr_test_idle(PrImapClient *client, GError **error)
{
	PrTestWait wait = { 0 };
	g_autoptr(GAsyncResult) res = NULL;

	pr_imap_client_idle_async(client, NULL, pr_test_wait_cb, &wait);
	res = pr_test_wait(&wait, client);
	return pr_imap_client_idle_finish(client, res, error);
}

gboolean
pr_test_idle_done(PrImapClient *client, GError **error)
{
	PrTestWait wait = { 0 };
	g_autoptr(GAsyncResult) res = NULL;

	pr_imap_client_idle_done_async(client, NULL, pr_test_wait_cb, &wait);
	res = pr_test_wait(&wait, client);
	return pr_imap_client_idle_done_finish(client, res, error);
}

void
pr_test_logout(PrImapClient *client)
{
	PrTestWait wait = { 0 };
	g_autoptr(GAsyncResult) res = NULL;
	g_autoptr(GError) error = NULL;

	pr_imap_client_logout_async(client, NULL, pr_test_wait_cb, &wait);
	res = pr_test_wait(&wait, client);
	if (!pr_imap_client_logout_finish(client, res, &error))
		g_test_fail_printf("logout failed: %s", error->message);
	g_assert_cmpint(pr_imap_client_get_state(client), ==, PR_IMAP_CLIENT_STATE_DISCONNECTED);
}

/* Responses ---------------------------------------------------------------------------- */

guint
pr_test_count_keyword(GPtrArray *untagged, const gchar *keyword)
{
	guint n = 0;

	for (guint i = 0; untagged != NULL && i < untagged->len; i++) {
		if (g_strcmp0(pr_imap_response_get_keyword(g_ptr_array_index(untagged, i)),
			      keyword) == 0)
			n++;
	}
	return n;
}

gboolean
pr_test_find_code_number(GPtrArray *untagged, const gchar *code, guint64 *value)
{
	for (guint i = 0; untagged != NULL && i < untagged->len; i++) {
		if (pr_imap_response_get_code_number(g_ptr_array_index(untagged, i), code, value))
			return TRUE;
	}
	return FALSE;
}

/* Hashes ------------------------------------------------------------------------------- */

GHashTable *
pr_test_hash_table_new(void)
{
	return g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
}

static void
pr_test_hash_add(GHashTable *hashes, gchar *hex)
{
	guint n = GPOINTER_TO_UINT(g_hash_table_lookup(hashes, hex));

	g_hash_table_insert(hashes, hex, GUINT_TO_POINTER(n + 1));
}

GHashTable *
pr_test_maildir_hashes(const gchar *maildir, GError **error)
{
	g_autoptr(GHashTable) hashes = pr_test_hash_table_new();
	const gchar *subs[] = { "cur", "new" };

	for (guint i = 0; i < G_N_ELEMENTS(subs); i++) {
		g_autofree gchar *path = g_build_filename(maildir, subs[i], NULL);
		g_autoptr(GDir) dir = g_dir_open(path, 0, error);
		const gchar *name;

		if (dir == NULL)
			return NULL;
		while ((name = g_dir_read_name(dir)) != NULL) {
			g_autofree gchar *file = g_build_filename(path, name, NULL);
			g_autofree gchar *contents = NULL;
			gsize len = 0;

			if (!g_file_get_contents(file, &contents, &len, error))
				return NULL;
			pr_test_hash_add(hashes,
					 g_compute_checksum_for_data(
						 G_CHECKSUM_SHA256, (const guchar *)contents, len));
		}
	}
	return g_steal_pointer(&hashes);
}

gboolean
pr_test_hash_multisets_equal(GHashTable *want, GHashTable *got)
{
	GHashTableIter iter;
	gpointer key, value;
	guint missing = 0;
	guint extra = 0;

	g_hash_table_iter_init(&iter, want);
	while (g_hash_table_iter_next(&iter, &key, &value)) {
		guint n = GPOINTER_TO_UINT(g_hash_table_lookup(got, key));
		if (n != GPOINTER_TO_UINT(value)) {
			if (missing++ < 5)
				g_test_message("maildir file %s: %u on disk, %u fetched",
					       (const gchar *)key,
					       GPOINTER_TO_UINT(value),
					       n);
		}
	}
	g_hash_table_iter_init(&iter, got);
	while (g_hash_table_iter_next(&iter, &key, &value)) {
		if (!g_hash_table_contains(want, key)) {
			if (extra++ < 5)
				g_test_message("fetched %s matches no maildir file",
					       (const gchar *)key);
		}
	}
	if (missing > 0 || extra > 0)
		g_test_message("%u hashes differ, %u fetched bodies unknown", missing, extra);
	return missing == 0 && extra == 0;
}

typedef struct {
	PrTestHashSink *sink;
	GChecksum *checksum;
	guint32 seq;
} PrTestHashHandle;

static gpointer
pr_test_hash_sink_begin(const PrImapLiteralInfo *info, gpointer user_data)
{
	PrTestHashSink *sink = user_data;
	PrTestHashHandle *handle = g_new0(PrTestHashHandle, 1);

	handle->sink = sink;
	handle->checksum = g_checksum_new(G_CHECKSUM_SHA256);
	handle->seq = info->seq;
	sink->begun++;
	return handle;
}

static gboolean
pr_test_hash_sink_write(gpointer data,
			const guint8 *bytes,
			gsize len,
			gpointer user_data,
			GError **error)
{
	PrTestHashHandle *handle = data;

	g_checksum_update(handle->checksum, bytes, len);
	handle->sink->bytes += len;
	return TRUE;
}

static void
pr_test_hash_sink_end(gpointer data, gboolean aborted, gpointer user_data)
{
	PrTestHashHandle *handle = data;
	PrTestHashSink *sink = handle->sink;

	if (aborted) {
		sink->aborted++;
	} else {
		sink->completed++;
		g_hash_table_insert(sink->by_seq,
				    GUINT_TO_POINTER(handle->seq),
				    g_strdup(g_checksum_get_string(handle->checksum)));
	}
	g_checksum_free(handle->checksum);
	g_free(handle);
}

static const PrImapLiteralSink pr_test_hash_sink_vtable = {
	pr_test_hash_sink_begin,
	pr_test_hash_sink_write,
	pr_test_hash_sink_end,
};

PrTestHashSink *
pr_test_hash_sink_new(void)
{
	PrTestHashSink *sink = g_new0(PrTestHashSink, 1);

	sink->by_seq = g_hash_table_new_full(g_direct_hash, g_direct_equal, NULL, g_free);
	return sink;
}

void
pr_test_hash_sink_free(PrTestHashSink *sink)
{
	g_hash_table_unref(sink->by_seq);
	g_free(sink);
}

void
pr_test_hash_sink_install(PrTestHashSink *sink, PrImapClient *client)
{
	pr_imap_client_set_literal_sink(client, &pr_test_hash_sink_vtable, sink, NULL);
}

gint
pr_test_collect_body_hashes(GPtrArray *untagged, PrTestHashSink *sink, GHashTable *hashes)
{
	gint n = 0;

	for (guint i = 0; i < untagged->len; i++) {
		PrImapResponse *response = g_ptr_array_index(untagged, i);
		g_autoptr(PrImapFetch) fetch = NULL;
		g_autoptr(GError) error = NULL;

		if (g_strcmp0(pr_imap_response_get_keyword(response), "FETCH") != 0)
			continue;
		fetch = pr_imap_response_parse_fetch(response, &error);
		if (fetch == NULL) {
			g_autofree gchar *text = pr_imap_response_to_string(response);
			g_test_fail_printf("unparseable FETCH %s: %s", text, error->message);
			return -1;
		}
		for (guint j = 0; fetch->sections != NULL && j < fetch->sections->len; j++) {
			PrImapFetchSection *section = g_ptr_array_index(fetch->sections, j);
			PrImapValueKind kind = pr_imap_value_get_kind(section->value);

			if (g_strcmp0(section->section, "BODY[]") != 0)
				continue;
			if (kind == PR_IMAP_VALUE_STRING) {
				gsize len = 0;
				const gchar *data = pr_imap_value_get_string(section->value, &len);
				pr_test_hash_add(hashes,
						 g_compute_checksum_for_data(G_CHECKSUM_SHA256,
									     (const guchar *)data,
									     len));
			} else if (kind == PR_IMAP_VALUE_STREAMED) {
				const gchar *hex = g_hash_table_lookup(
					sink->by_seq, GUINT_TO_POINTER(fetch->seq));
				if (hex == NULL) {
					g_test_fail_printf(
						"streamed body of seq %u not in the sink",
						fetch->seq);
					return -1;
				}
				pr_test_hash_add(hashes, g_strdup(hex));
			} else {
				g_test_fail_printf(
					"BODY[] of seq %u is neither string nor streamed",
					fetch->seq);
				return -1;
			}
			n++;
		}
	}
	return n;
}

/* badimap ------------------------------------------------------------------------------ */

PrTestBadimap *
pr_test_badimap_start(const gchar *scenario,
		      const gchar *cert_dir,
		      const gchar *user,
		      const gchar *password,
		      GError **error)
{
	g_autoptr(GSubprocessLauncher) launcher = NULL;
	g_autoptr(GPtrArray) argv = g_ptr_array_new_with_free_func(g_free);
	g_autofree gchar *script = NULL;
	g_autofree gchar *port_file = NULL;
	const gchar *python = g_getenv("PR_TEST_PYTHON");
	PrTestBadimap *self = g_new0(PrTestBadimap, 1);
	gint64 deadline;

	self->dir = g_dir_make_tmp("pr-badimap-XXXXXX", error);
	if (self->dir == NULL) {
		pr_test_badimap_free(self);
		return NULL;
	}
	self->log_path = g_build_filename(self->dir, "log", NULL);
	self->trace_path = g_build_filename(self->dir, "trace", NULL);
	port_file = g_build_filename(self->dir, "port", NULL);
	script = g_build_filename(pr_test_env("PR_TEST_SERVERS_DIR"), "badimap.py", NULL);

	g_ptr_array_add(argv, g_strdup(python != NULL ? python : "python3"));
	g_ptr_array_add(argv, g_strdup(script));
	g_ptr_array_add(argv, g_strdup("--scenario"));
	g_ptr_array_add(argv, g_strdup(scenario));
	g_ptr_array_add(argv, g_strdup("--port-file"));
	g_ptr_array_add(argv, g_strdup(port_file));
	g_ptr_array_add(argv, g_strdup("--log"));
	g_ptr_array_add(argv, g_strdup(self->log_path));
	g_ptr_array_add(argv, g_strdup("--trace"));
	g_ptr_array_add(argv, g_strdup(self->trace_path));
	if (cert_dir != NULL) {
		g_ptr_array_add(argv, g_strdup("--cert"));
		g_ptr_array_add(argv, g_build_filename(cert_dir, "server.pem", NULL));
		g_ptr_array_add(argv, g_strdup("--key"));
		g_ptr_array_add(argv, g_build_filename(cert_dir, "server.key", NULL));
	}
	g_ptr_array_add(argv, NULL);

	launcher = g_subprocess_launcher_new(G_SUBPROCESS_FLAGS_NONE);
	/* the credentials badimap checks: environment only, never argv */
	g_subprocess_launcher_setenv(launcher, "PR_TEST_USER", user, TRUE);
	g_subprocess_launcher_setenv(launcher, "PR_TEST_PASSWORD", password, TRUE);
	self->process =
		g_subprocess_launcher_spawnv(launcher, (const gchar *const *)argv->pdata, error);
	if (self->process == NULL) {
		pr_test_badimap_free(self);
		return NULL;
	}

	deadline = g_get_monotonic_time() + 30 * G_USEC_PER_SEC;
	while (g_get_monotonic_time() < deadline) {
		g_autofree gchar *contents = NULL;
		guint64 port = 0;

		if (g_file_get_contents(port_file, &contents, NULL, NULL) &&
		    g_ascii_string_to_unsigned(
			    g_strstrip(contents), 10, 1, G_MAXUINT16, &port, NULL)) {
			self->port = (guint16)port;
			return self;
		}
		if (g_subprocess_get_identifier(self->process) == NULL)
			break; /* exited */
		g_usleep(20 * 1000);
	}
	g_set_error(error,
		    G_IO_ERROR,
		    G_IO_ERROR_FAILED,
		    "badimap.py --scenario %s did not start",
		    scenario);
	pr_test_badimap_free(self);
	return NULL;
}

GBytes *
pr_test_badimap_get_log(PrTestBadimap *self)
{
	g_autofree gchar *contents = NULL;
	gsize len = 0;

	if (!g_file_get_contents(self->log_path, &contents, &len, NULL))
		return g_bytes_new(NULL, 0);
	return g_bytes_new_take(g_steal_pointer(&contents), len);
}

void
pr_test_badimap_dump_trace(PrTestBadimap *self)
{
	g_autofree gchar *contents = NULL;

	if (g_file_get_contents(self->trace_path, &contents, NULL, NULL))
		g_test_message("badimap transcript:\n%s", contents);
}

void
pr_test_badimap_free(PrTestBadimap *self)
{
	if (self->process != NULL) {
		g_subprocess_force_exit(self->process);
		g_subprocess_wait(self->process, NULL, NULL);
		g_object_unref(self->process);
	}
	if (self->dir != NULL) {
		g_autofree gchar *port_file = g_build_filename(self->dir, "port", NULL);
		g_unlink(port_file);
		g_unlink(self->log_path);
		g_unlink(self->trace_path);
		g_rmdir(self->dir);
	}
	g_free(self->dir);
	g_free(self->log_path);
	g_free(self->trace_path);
	g_free(self);
}
