/*
 * Copyright 2026 The Postroom developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

/*
 * A test-only driver timing PrSync against a running Dovecot (never run by meson test):
 *
 *   pr-sync-bench --store DIR [--folder INBOX] [--repeat N] headers|bodies|resync
 *
 * headers: one sync of the folder into the store (the initial header sync when the store
 * is new); bodies: the full bodies of every message not yet complete; resync: N syncs of
 * the folder (a no-change resync when nothing moved). Connects to PR_TEST_IMAP_HOST and
 * PR_TEST_IMAP_PORT without TLS (loopback only) as PR_TEST_USER / PR_TEST_PASSWORD, as
 * tests/servers/dovecot.py sets them. Prints one line per run: what, seconds, commands,
 * messages and the peak RSS so far (KiB); every run of a mode is its own process when
 * its peak RSS matters.
 */
#define G_LOG_DOMAIN "PrTest"

#include <stdlib.h>
#include <sys/resource.h>

#include "pr-store.h"
#include "pr-sync.h"
#include "pr-test-imap.h"

typedef struct {
	gboolean done;
	GAsyncResult *res;
} Wait;

static void
wait_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	Wait *wait = user_data;
	wait->res = g_object_ref(res);
	wait->done = TRUE;
}

static glong
peak_rss_kib(void)
{
	struct rusage usage;
	if (getrusage(RUSAGE_SELF, &usage) != 0)
		return -1;
	return usage.ru_maxrss;
}

static void
report(const gchar *what, gint64 start, PrSync *sync, guint commands_before, guint messages)
{
	gdouble seconds = (gdouble)(g_get_monotonic_time() - start) / G_USEC_PER_SEC;
	g_print("%-8s %10.3f ms  %6u commands  %6u messages  peak RSS %ld KiB\n",
		what,
		seconds * 1000,
		pr_sync_get_command_count(sync) - commands_before,
		messages,
		peak_rss_kib());
}

static gboolean
run_folder_sync(PrSync *sync, const gchar *folder, GError **error)
{
	const gchar *folders[] = { folder, NULL };
	g_autoptr(GAsyncResult) res = NULL;
	Wait wait = { 0 };

	pr_sync_run_async(sync, PR_SYNC_SCOPE_FOLDERS, folders, NULL, NULL, wait_cb, &wait);
	while (!wait.done)
		g_main_context_iteration(NULL, TRUE);
	res = wait.res;
	return pr_sync_run_finish(sync, res, error);
}

static gboolean
run_bodies(PrSync *sync, PrStore *store, const gchar *folder, guint *count, GError **error)
{
	g_autoptr(PrStoreFolder) f = pr_store_get_folder(store, folder, error);
	g_autoptr(GArray) ids = NULL;
	g_autoptr(GArray) fetched = NULL;
	g_autoptr(GAsyncResult) res = NULL;
	Wait wait = { 0 };

	if (f == NULL)
		return FALSE;
	ids = pr_store_get_missing_bodies(store, f->id, error);
	if (ids == NULL)
		return FALSE;
	if (ids->len == 0) {
		*count = 0;
		return TRUE;
	}
	pr_sync_fetch_bodies_async(
		sync, &g_array_index(ids, guint64, 0), ids->len, NULL, NULL, wait_cb, &wait);
	while (!wait.done)
		g_main_context_iteration(NULL, TRUE);
	res = wait.res;
	if (!pr_sync_fetch_bodies_finish(sync, res, &fetched, error))
		return FALSE;
	*count = fetched->len;
	return TRUE;
}

gint
main(gint argc, gchar **argv)
{
	g_autofree gchar *store_dir = NULL;
	g_autofree gchar *folder = NULL;
	gint repeat = 1;
	GOptionEntry entries[] = {
		{ "store", 's', 0, G_OPTION_ARG_FILENAME, &store_dir, "Store directory", "DIR" },
		{ "folder", 'f', 0, G_OPTION_ARG_STRING, &folder, "Folder (INBOX)", "NAME" },
		{ "repeat", 'n', 0, G_OPTION_ARG_INT, &repeat, "Runs of the mode (1)", "N" },
		{ NULL },
	};
	g_autoptr(GOptionContext) context = g_option_context_new("headers|bodies|resync");
	g_autoptr(GError) error = NULL;
	g_autoptr(PrImapClient) client = NULL;
	g_autoptr(PrStore) store = NULL;
	g_autoptr(PrSync) sync = NULL;
	PrSyncOptions options = { 0 };
	const gchar *mode;
	gint64 start;

	g_option_context_add_main_entries(context, entries, NULL);
	if (!g_option_context_parse(context, &argc, &argv, &error)) {
		g_printerr("%s\n", error->message);
		return EXIT_FAILURE;
	}
	if (argc != 2 || store_dir == NULL) {
		g_printerr("usage: pr-sync-bench --store DIR [--folder F] [--repeat N] "
			   "headers|bodies|resync\n");
		return EXIT_FAILURE;
	}
	mode = argv[1];
	if (folder == NULL)
		folder = g_strdup("INBOX");

	start = g_get_monotonic_time();
	store = pr_store_new(store_dir, &error);
	if (store == NULL) {
		g_printerr("store: %s\n", error->message);
		return EXIT_FAILURE;
	}
	client = pr_imap_client_new(pr_test_env("PR_TEST_IMAP_HOST"),
				    pr_test_env_port("PR_TEST_IMAP_PORT"),
				    PR_IMAP_SECURITY_NONE);
	pr_imap_client_set_timeout(client, 600);
	if (!pr_test_connect(client, NULL, &error) ||
	    !pr_test_login(client,
			   pr_test_env("PR_TEST_USER"),
			   pr_test_env("PR_TEST_PASSWORD"),
			   "auto",
			   &error)) {
		g_printerr("login: %s\n", error->message);
		return EXIT_FAILURE;
	}
	g_print("open     %8.3f s\n", (gdouble)(g_get_monotonic_time() - start) / G_USEC_PER_SEC);

	options.folder_sync = PR_SYNC_FOLDERS_ALL;
	options.inbox_sync_limit = -1;
	options.mailbox_sync_limit = -1;
	options.update_seen_flags = TRUE;
	sync = pr_sync_new(client, store, &options);
	for (gint i = 0; i < repeat; i++) {
		guint commands = pr_sync_get_command_count(sync);
		gboolean ok;
		guint count = 0;

		start = g_get_monotonic_time();
		if (g_strcmp0(mode, "bodies") == 0) {
			ok = run_bodies(sync, store, folder, &count, &error);
		} else if (g_strcmp0(mode, "headers") == 0 || g_strcmp0(mode, "resync") == 0) {
			g_autoptr(PrStoreFolder) f = NULL;
			ok = run_folder_sync(sync, folder, &error);
			f = ok ? pr_store_get_folder(store, folder, &error) : NULL;
			ok = f != NULL;
			count = ok ? f->messages : 0;
		} else {
			g_printerr("unknown mode %s\n", mode);
			return EXIT_FAILURE;
		}
		if (!ok) {
			g_printerr("%s: %s\n", mode, error->message);
			return EXIT_FAILURE;
		}
		report(mode, start, sync, commands, count);
	}
	pr_test_logout(client);
	return EXIT_SUCCESS;
}
