/*
 * Copyright 2026 The Postroom developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <gio/gio.h>

#include "pr-error.h"
#include "pr-imap-client.h"

G_BEGIN_DECLS

/* Every wait of a test on the client ends by then, or the test fails (not a timing test:
 * only a hang trips it). */
#define PR_TEST_DEADLINE_SECONDS 120

/* Exit status for "a needed program is absent": TAP skip plan with --tap, else 77. */
gint pr_test_skip_all(gint argc, gchar **argv, const gchar *reason);
/* The value of @name, failing the test run when unset (run under tests/servers/...). */
const gchar *pr_test_env(const gchar *name);
guint16 pr_test_env_port(const gchar *name);

/* Installs a log writer (call before g_test_init()) that fails the running test when any
 * log message holds @password, or the base64 that SASL PLAIN/LOGIN would send for it. */
void pr_test_forbid_secret_in_logs(const gchar *user, const gchar *password);

/* Synchronous wrappers: run the default main context until the call completes. */
gboolean pr_test_connect(PrImapClient *client, GCancellable *cancellable, GError **error);
gboolean pr_test_login(PrImapClient *client,
		       const gchar *user,
		       const gchar *password,
		       const gchar *mechanism,
		       GError **error);
PrImapResponse *pr_test_run(PrImapClient *client,
			    PrImapCommand *command,
			    GCancellable *cancellable,
			    GPtrArray **untagged,
			    GError **error);
/* A command from a verb and verbatim arguments, e.g. ("UID FETCH", "1:* (UID)"). */
PrImapCommand *pr_test_command(const gchar *name, const gchar *args);
/* pr_test_run() of pr_test_command(). */
PrImapResponse *pr_test_run_line(PrImapClient *client,
				 const gchar *name,
				 const gchar *args,
				 GPtrArray **untagged,
				 GError **error);
gboolean pr_test_idle(PrImapClient *client, GError **error);
gboolean pr_test_idle_done(PrImapClient *client, GError **error);
void pr_test_logout(PrImapClient *client);
/* Runs the main context until *@flag is TRUE or @seconds pass; returns *@flag. */
gboolean pr_test_wait_for_flag(gboolean *flag, guint seconds);

/* Whether @error is PR_ERROR @code; a mismatch (or success) fails the test with the
 * contract names and the message, and returns FALSE. */
gboolean pr_test_check_error(const GError *error, PrError code, const gchar *where);
#define pr_test_assert_error(err, code) pr_test_check_error((err), (code), G_STRLOC)
/* Like pr_test_check_error() for "one of @a or @b". */
gboolean pr_test_check_error2(const GError *error, PrError a, PrError b, const gchar *where);
#define pr_test_assert_error2(err, a, b) pr_test_check_error2((err), (a), (b), G_STRLOC)
/* Fails the test with the error's contract name and message when @error is set. */
#define pr_test_assert_no_error(err)                                                               \
	G_STMT_START                                                                               \
	{                                                                                          \
		if ((err) != NULL)                                                                 \
			g_test_fail_printf("%s: unexpected error %s: %s",                          \
					   G_STRLOC,                                               \
					   (err)->domain == PR_ERROR                               \
						   ? pr_error_to_name((err)->code)                 \
						   : g_quark_to_string((err)->domain),             \
					   (err)->message);                                        \
	}                                                                                          \
	G_STMT_END

/* Counts the untagged responses with @keyword in @untagged. */
guint pr_test_count_keyword(GPtrArray *untagged, const gchar *keyword);
/* The numeric payload of a response code (UIDVALIDITY, HIGHESTMODSEQ) in @untagged. */
gboolean pr_test_find_code_number(GPtrArray *untagged, const gchar *code, guint64 *value);

/* SHA-256 (hex) of every file in @maildir's cur/ and new/, as hash -> count. */
GHashTable *pr_test_maildir_hashes(const gchar *maildir, GError **error);
/* TRUE when both hash -> count tables hold the same multiset; logs the first difference. */
gboolean pr_test_hash_multisets_equal(GHashTable *want, GHashTable *got);

/* A literal sink that hashes every streamed literal: seq -> SHA-256 hex. */
typedef struct {
	GHashTable *by_seq; /* guint seq -> gchar *hex */
	guint begun;
	guint completed;
	guint aborted;
	guint64 bytes;
} PrTestHashSink;

PrTestHashSink *pr_test_hash_sink_new(void);
void pr_test_hash_sink_free(PrTestHashSink *sink);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(PrTestHashSink, pr_test_hash_sink_free)
/* Installs @sink on @client (the client does not own it). */
void pr_test_hash_sink_install(PrTestHashSink *sink, PrImapClient *client);
/* Adds "BODY[]" hashes of the FETCH responses in @untagged to @hashes (hash -> count):
 * in-memory literals are hashed here, streamed ones come from @sink. Returns the number of
 * FETCH responses with a body; -1 (and a test failure) on a malformed one. */
gint pr_test_collect_body_hashes(GPtrArray *untagged, PrTestHashSink *sink, GHashTable *hashes);
GHashTable *pr_test_hash_table_new(void);

/* A badimap.py process serving one scenario. */
typedef struct {
	GSubprocess *process;
	gchar *dir;
	gchar *log_path;
	gchar *trace_path;
	guint16 port;
} PrTestBadimap;

/* Starts tests/servers/badimap.py (PR_TEST_SERVERS_DIR, PR_TEST_PYTHON) with --scenario
 * @scenario and, when @cert_dir is set, its server.pem/server.key. The credentials it
 * checks go through the environment (@user, @password), never argv. */
PrTestBadimap *pr_test_badimap_start(const gchar *scenario,
				     const gchar *cert_dir,
				     const gchar *user,
				     const gchar *password,
				     GError **error);
/* Everything badimap received before TLS (all bytes on a plaintext connection). */
GBytes *pr_test_badimap_get_log(PrTestBadimap *self);
/* Prints the transcript into the test log (for failure reports). */
void pr_test_badimap_dump_trace(PrTestBadimap *self);
void pr_test_badimap_free(PrTestBadimap *self);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(PrTestBadimap, pr_test_badimap_free)

G_END_DECLS
