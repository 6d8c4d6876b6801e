/*
 * Copyright 2026 The Postroom developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

/*
 * PrSync against a real Dovecot (tests/servers/with-dovecot), one meson test per case so
 * each starts from its own seed. The server side is read and changed independently of
 * the code under test, through doveadm (-c PR_TEST_DOVECOT_CONF): the store must end up
 * equal to what doveadm lists (folders, UIDs, flags, bodies).
 */
#define G_LOG_DOMAIN "PrTest"

#include <glib/gstdio.h>
#include <string.h>
#include <sys/stat.h>

#include "pr-progress.h"
#include "pr-store.h"
#include "pr-sync.h"
#include "pr-test-imap.h"

typedef struct {
	const gchar *host;
	guint16 imaps_port;
	const gchar *ca_file;
	const gchar *user;
	const gchar *password;
	const gchar *maildir;
	const gchar *conf;
} TestEnv;

static TestEnv env;

/* doveadm -------------------------------------------------------------------------------- */

static gchar *
doveadm_v(GBytes *input, const gchar *const *args)
{
	g_autoptr(GPtrArray) argv = g_ptr_array_new();
	g_autoptr(GSubprocess) proc = NULL;
	g_autoptr(GBytes) out = NULL;
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
				 G_SUBPROCESS_FLAGS_STDIN_PIPE | G_SUBPROCESS_FLAGS_STDOUT_PIPE |
					 G_SUBPROCESS_FLAGS_STDERR_PIPE,
				 &error);
	g_assert_no_error(error);
	if (input == NULL)
		input = empty = g_bytes_new_static("", 0);
	g_subprocess_communicate(proc, input, NULL, &out, &err, &error);
	g_assert_no_error(error);
	if (!g_subprocess_get_successful(proc)) {
		g_autofree gchar *line = g_strjoinv(" ", (gchar **)args);
		g_error("doveadm %s failed: %.*s",
			line,
			(gint)g_bytes_get_size(err),
			(const gchar *)g_bytes_get_data(err, NULL));
	}
	return g_strndup(g_bytes_get_data(out, NULL), g_bytes_get_size(out));
}

#define DOVEADM(...) doveadm_v(NULL, (const gchar *const[]){ __VA_ARGS__, NULL })

static void
server_flag(const gchar *op, const gchar *flag, const gchar *folder, guint32 uid)
{
	g_autofree gchar *uidstr = g_strdup_printf("%u", uid);

	g_free(DOVEADM("flags", op, "-u", env.user, flag, "mailbox", folder, "uid", uidstr));
}

static void
server_expunge(const gchar *folder, guint32 uid)
{
	g_autofree gchar *uidstr = g_strdup_printf("%u", uid);

	g_free(DOVEADM("expunge", "-u", env.user, "mailbox", folder, "uid", uidstr));
}

static gchar *
make_message(guint n, gsize body_size)
{
	GString *msg = g_string_new(NULL);

	g_string_append_printf(msg,
			       "From: \"Test Sender\" <sender@example.test>\r\n"
			       "To: alice@wonderland.test\r\n"
			       "Subject: appended %u\r\n"
			       "Date: Mon, 6 Jan 2025 10:%02u:00 +0000\r\n"
			       "Message-ID: <appended.%u.%" G_GINT64_FORMAT "@example.test>\r\n"
			       "\r\n",
			       n,
			       n % 60,
			       n,
			       g_get_real_time());
	while (msg->len < body_size)
		g_string_append_printf(
			msg, "line %" G_GSIZE_FORMAT " of message %u, some text\r\n", msg->len, n);
	g_string_append(msg, "end\r\n");
	return g_string_free(msg, FALSE);
}

static void
server_append(const gchar *folder, guint n, gsize body_size)
{
	g_autofree gchar *text = make_message(n, body_size);
	g_autoptr(GBytes) input = g_bytes_new(text, strlen(text));

	g_free(doveadm_v(input,
			 (const gchar *const[]){ "save", "-u", env.user, "-m", folder, NULL }));
}

static gint
strptr_cmp(gconstpointer a, gconstpointer b)
{
	return g_strcmp0(*(const gchar *const *)a, *(const gchar *const *)b);
}

static gchar *
flags_key(const gchar *joined)
{
	g_auto(GStrv) split = g_strsplit(joined != NULL ? joined : "", " ", -1);
	g_autoptr(GPtrArray) keep = g_ptr_array_new();

	for (guint i = 0; split[i] != NULL; i++) {
		if (split[i][0] == '\0' || g_ascii_strcasecmp(split[i], "\\Recent") == 0)
			continue;
		g_ptr_array_add(keep, split[i]);
	}
	g_ptr_array_sort(keep, strptr_cmp);
	g_ptr_array_add(keep, NULL);
	return g_strjoinv(" ", (gchar **)keep->pdata);
}

/* uid -> flags ("\Flagged \Seen", sorted, no \Recent), as doveadm sees the mailbox. */
static GHashTable *
server_flags(const gchar *folder)
{
	g_autoptr(GHashTable) table =
		g_hash_table_new_full(g_direct_hash, g_direct_equal, NULL, g_free);
	g_autofree gchar *out =
		DOVEADM("-f", "tab", "fetch", "-u", env.user, "uid flags", "mailbox", folder);
	g_auto(GStrv) lines = g_strsplit(out, "\n", -1);

	for (guint i = 1; lines[i] != NULL; i++) {
		g_auto(GStrv) cols = NULL;
		guint64 uid = 0;
		if (lines[i][0] == '\0')
			continue;
		cols = g_strsplit(lines[i], "\t", 2);
		g_assert_true(g_ascii_string_to_unsigned(cols[0], 10, 1, G_MAXUINT32, &uid, NULL));
		g_hash_table_insert(table, GUINT_TO_POINTER((guint32)uid), flags_key(cols[1]));
	}
	return g_steal_pointer(&table);
}

static guint32
server_uidvalidity(const gchar *folder)
{
	g_autofree gchar *out =
		DOVEADM("-f", "tab", "mailbox", "status", "-u", env.user, "uidvalidity", folder);
	g_auto(GStrv) lines = g_strsplit(out, "\n", -1);
	g_auto(GStrv) cols = NULL;
	guint64 value = 0;

	/* "mailbox\tuidvalidity", then "NAME\tVALUE" */
	g_assert_nonnull(lines[0]);
	g_assert_nonnull(lines[1]);
	cols = g_strsplit(lines[1], "\t", -1);
	g_assert_cmpuint(g_strv_length(cols), ==, 2);
	g_assert_true(
		g_ascii_string_to_unsigned(g_strstrip(cols[1]), 10, 1, G_MAXUINT32, &value, NULL));
	return (guint32)value;
}

/* Sorted lines of doveadm mailbox list (-s: subscriptions). */
static GPtrArray *
server_folders(gboolean subscribed)
{
	g_autofree gchar *out = subscribed ? DOVEADM("mailbox", "list", "-s", "-u", env.user)
					   : DOVEADM("mailbox", "list", "-u", env.user);
	g_auto(GStrv) lines = g_strsplit(out, "\n", -1);
	GPtrArray *names = g_ptr_array_new_with_free_func(g_free);

	for (guint i = 0; lines[i] != NULL; i++) {
		if (lines[i][0] != '\0')
			g_ptr_array_add(names, g_strdup(lines[i]));
	}
	g_ptr_array_sort(names, strptr_cmp);
	return names;
}

/* The fixture ------------------------------------------------------------------------------ */

typedef struct {
	gchar *dir;
	PrStore *store;
	PrImapClient *client;
	PrSync *sync;
	guint folders_changed;
	GArray *added;
	GArray *changed;
	GArray *removed;
	GArray *new_mail;
	guint new_mail_signals;
	GCancellable *cancel_after_added; /* cancelled at the first batch */
} Fixture;

static PrImapClient *
fixture_login(void)
{
	g_autoptr(PrImapClient) client =
		pr_imap_client_new(env.host, env.imaps_port, PR_IMAP_SECURITY_TLS);
	g_autoptr(GError) error = NULL;

	pr_imap_client_set_timeout(client, 60);
	g_assert_true(pr_imap_client_set_ca_file(client, env.ca_file, &error));
	g_assert_no_error(error);
	pr_test_connect(client, NULL, &error);
	g_assert_no_error(error);
	pr_test_login(client, env.user, env.password, "auto", &error);
	g_assert_no_error(error);
	return g_steal_pointer(&client);
}

static void
fixture_open_store(Fixture *fx)
{
	g_autofree gchar *path = g_build_filename(fx->dir, "store", NULL);
	g_autoptr(GError) error = NULL;

	if (fx->store != NULL) {
		g_assert_true(pr_store_destroy(fx->store, &error));
		g_assert_no_error(error);
		g_clear_object(&fx->store);
	}
	fx->store = pr_store_new(path, &error);
	g_assert_no_error(error);
	g_assert_nonnull(fx->store);
}

static void
fixture_setup(Fixture *fx, gconstpointer user_data)
{
	g_autoptr(GError) error = NULL;

	fx->dir = g_dir_make_tmp("pr-test-sync-XXXXXX", &error);
	g_assert_no_error(error);
	fixture_open_store(fx);
	fx->client = fixture_login();
	fx->added = g_array_new(FALSE, FALSE, sizeof(guint64));
	fx->changed = g_array_new(FALSE, FALSE, sizeof(guint64));
	fx->removed = g_array_new(FALSE, FALSE, sizeof(guint64));
	fx->new_mail = g_array_new(FALSE, FALSE, sizeof(guint64));
}

static void
fixture_teardown(Fixture *fx, gconstpointer user_data)
{
	g_autoptr(GError) error = NULL;

	g_clear_object(&fx->sync);
	if (fx->client != NULL) {
		if (pr_imap_client_get_state(fx->client) != PR_IMAP_CLIENT_STATE_DISCONNECTED)
			pr_test_logout(fx->client);
		g_clear_object(&fx->client);
	}
	if (fx->store != NULL) {
		g_assert_true(pr_store_destroy(fx->store, &error));
		g_assert_no_error(error);
		g_clear_object(&fx->store);
	}
	g_rmdir(fx->dir);
	g_free(fx->dir);
	g_array_unref(fx->added);
	g_array_unref(fx->changed);
	g_array_unref(fx->removed);
	g_array_unref(fx->new_mail);
	g_clear_object(&fx->cancel_after_added);
}

static void
fixture_reset_signals(Fixture *fx)
{
	fx->folders_changed = 0;
	fx->new_mail_signals = 0;
	g_array_set_size(fx->added, 0);
	g_array_set_size(fx->changed, 0);
	g_array_set_size(fx->removed, 0);
	g_array_set_size(fx->new_mail, 0);
}

static void
folders_changed_cb(PrSync *sync, gpointer user_data)
{
	Fixture *fx = user_data;
	fx->folders_changed++;
}

static void
messages_changed_cb(PrSync *sync,
		    const gchar *folder,
		    GArray *added,
		    GArray *changed,
		    GArray *removed,
		    gpointer user_data)
{
	Fixture *fx = user_data;

	g_assert_true(added->len + changed->len + removed->len > 0);
	g_array_append_vals(fx->added, added->data, added->len);
	g_array_append_vals(fx->changed, changed->data, changed->len);
	g_array_append_vals(fx->removed, removed->data, removed->len);
	if (added->len > 0 && fx->cancel_after_added != NULL)
		g_cancellable_cancel(fx->cancel_after_added);
}

static void
new_mail_cb(PrSync *sync, const gchar *folder, GArray *ids, gpointer user_data)
{
	Fixture *fx = user_data;

	g_assert_true(ids->len > 0);
	fx->new_mail_signals++;
	g_array_append_vals(fx->new_mail, ids->data, ids->len);
}

static void
fixture_sync(Fixture *fx, const PrSyncOptions *options, PrSyncMethod method)
{
	g_clear_object(&fx->sync);
	fx->sync = pr_sync_new(fx->client, fx->store, options);
	pr_sync_set_max_method(fx->sync, method);
	g_signal_connect(fx->sync, "folders-changed", G_CALLBACK(folders_changed_cb), fx);
	g_signal_connect(fx->sync, "messages-changed", G_CALLBACK(messages_changed_cb), fx);
	g_signal_connect(fx->sync, "new-mail", G_CALLBACK(new_mail_cb), fx);
}

static PrSyncOptions
default_options(void)
{
	PrSyncOptions options = { 0 };

	options.folder_sync = PR_SYNC_FOLDERS_ALL;
	options.subscription_update = PR_SYNC_SUBSCRIPTIONS_NEITHER;
	options.inbox_sync_limit = -1;
	options.mailbox_sync_limit = -1;
	options.update_seen_flags = TRUE;
	return options;
}

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

static gboolean
run_sync(Fixture *fx,
	 PrSyncScope scope,
	 const gchar *const *folders,
	 PrProgress *progress,
	 GCancellable *cancellable,
	 GError **error)
{
	Wait wait = { 0 };
	g_autoptr(GAsyncResult) res = NULL;

	pr_sync_run_async(fx->sync, scope, folders, progress, cancellable, wait_cb, &wait);
	g_assert_true(pr_test_wait_for_flag(&wait.done, PR_TEST_DEADLINE_SECONDS));
	res = wait.res;
	return pr_sync_run_finish(fx->sync, res, error);
}

static void
sync_ok(Fixture *fx, PrSyncScope scope, const gchar *const *folders)
{
	g_autoptr(GError) error = NULL;
	gboolean ok = run_sync(fx, scope, folders, NULL, NULL, &error);
	g_assert_no_error(error);
	g_assert_true(ok);
}

static GArray *
fetch_bodies(Fixture *fx, GArray *ids, PrProgress *progress, GError **error)
{
	Wait wait = { 0 };
	g_autoptr(GAsyncResult) res = NULL;
	GArray *fetched = NULL;

	pr_sync_fetch_bodies_async(fx->sync,
				   &g_array_index(ids, guint64, 0),
				   ids->len,
				   progress,
				   NULL,
				   wait_cb,
				   &wait);
	g_assert_true(pr_test_wait_for_flag(&wait.done, PR_TEST_DEADLINE_SECONDS));
	res = wait.res;
	if (!pr_sync_fetch_bodies_finish(fx->sync, res, &fetched, error))
		return NULL;
	return fetched;
}

/* Reading the store ------------------------------------------------------------------------ */

static PrStoreFolder *
store_folder(Fixture *fx, const gchar *name)
{
	g_autoptr(GError) error = NULL;
	PrStoreFolder *folder = pr_store_get_folder(fx->store, name, &error);
	g_assert_no_error(error);
	return folder;
}

static GPtrArray *
store_messages(Fixture *fx, const gchar *name)
{
	g_autoptr(PrStoreFolder) folder = store_folder(fx, name);
	g_autoptr(GError) error = NULL;
	PrStoreQuery query = { 0 };
	GPtrArray *messages = pr_store_list_messages(fx->store, folder->id, &query, &error);

	g_assert_no_error(error);
	return messages;
}

/* uid -> flags key; fails on a duplicate UID */
static GHashTable *
store_flags(Fixture *fx, const gchar *name)
{
	g_autoptr(GPtrArray) messages = store_messages(fx, name);
	GHashTable *table = g_hash_table_new_full(g_direct_hash, g_direct_equal, NULL, g_free);

	for (guint i = 0; i < messages->len; i++) {
		PrStoreMessage *m = g_ptr_array_index(messages, i);
		g_autofree gchar *joined = g_strjoinv(" ", m->flags);
		if (g_hash_table_contains(table, GUINT_TO_POINTER(m->uid)))
			g_test_fail_printf("%s: UID %u stored twice", name, m->uid);
		g_hash_table_insert(table, GUINT_TO_POINTER(m->uid), flags_key(joined));
	}
	return table;
}

/* uid -> message id */
static GHashTable *
store_ids(Fixture *fx, const gchar *name)
{
	g_autoptr(GPtrArray) messages = store_messages(fx, name);
	GHashTable *table = g_hash_table_new_full(g_direct_hash, g_direct_equal, NULL, g_free);

	for (guint i = 0; i < messages->len; i++) {
		PrStoreMessage *m = g_ptr_array_index(messages, i);
		g_hash_table_insert(
			table, GUINT_TO_POINTER(m->uid), g_memdup2(&m->id, sizeof(guint64)));
	}
	return table;
}

static guint64
id_of(GHashTable *ids, guint32 uid)
{
	guint64 *id = g_hash_table_lookup(ids, GUINT_TO_POINTER(uid));
	return id != NULL ? *id : 0;
}

static gboolean
tables_equal(GHashTable *want, GHashTable *got, const gchar *what)
{
	GHashTableIter iter;
	gpointer key, value;

	g_hash_table_iter_init(&iter, want);
	while (g_hash_table_iter_next(&iter, &key, &value)) {
		gpointer other = NULL;
		if (!g_hash_table_lookup_extended(got, key, NULL, &other)) {
			g_test_fail_printf(
				"%s: UID %u missing from the store", what, GPOINTER_TO_UINT(key));
			return FALSE;
		}
		if (g_strcmp0(value, other) != 0) {
			g_test_fail_printf("%s: UID %u has flags \"%s\" in the store, \"%s\" on "
					   "the server",
					   what,
					   GPOINTER_TO_UINT(key),
					   (const gchar *)other,
					   (const gchar *)value);
			return FALSE;
		}
	}
	g_hash_table_iter_init(&iter, got);
	while (g_hash_table_iter_next(&iter, &key, NULL)) {
		if (!g_hash_table_contains(want, key)) {
			g_test_fail_printf("%s: UID %u in the store, not on the server",
					   what,
					   GPOINTER_TO_UINT(key));
			return FALSE;
		}
	}
	return TRUE;
}

/* The counts the store keeps on the folder agree with its messages. */
static void
assert_folder_counts(Fixture *fx, const gchar *name)
{
	g_autoptr(PrStoreFolder) folder = store_folder(fx, name);
	g_autoptr(GPtrArray) messages = store_messages(fx, name);
	guint unseen = 0;

	for (guint i = 0; i < messages->len; i++) {
		PrStoreMessage *m = g_ptr_array_index(messages, i);
		if (!pr_store_message_has_flag(m, "\\Seen"))
			unseen++;
	}
	g_assert_cmpuint(folder->messages, ==, messages->len);
	g_assert_cmpuint(folder->unseen, ==, unseen);
}

static void
assert_folder_equal(Fixture *fx, const gchar *name)
{
	g_autoptr(GHashTable) want = server_flags(name);
	g_autoptr(GHashTable) got = store_flags(fx, name);

	tables_equal(want, got, name);
	assert_folder_counts(fx, name);
}

/* What tells whether the store wrote anything: its files and the change counter. */
typedef struct {
	guint64 counter;
	gint64 db_size;
	gint64 db_mtime_ns;
	gint64 wal_size;
	gint64 wal_mtime_ns;
} StoreWrites;

static void
stat_file(const gchar *dir, const gchar *name, gint64 *size, gint64 *mtime_ns)
{
	g_autofree gchar *path = g_build_filename(dir, "store", name, NULL);
	struct stat st;

	*size = -1;
	*mtime_ns = -1;
	if (stat(path, &st) != 0)
		return;
	*size = st.st_size;
	*mtime_ns = (gint64)st.st_mtim.tv_sec * G_GINT64_CONSTANT(1000000000) + st.st_mtim.tv_nsec;
}

static StoreWrites
store_writes(Fixture *fx)
{
	StoreWrites w = { 0 };

	w.counter = pr_store_get_change_counter(fx->store);
	stat_file(fx->dir, "store.db", &w.db_size, &w.db_mtime_ns);
	stat_file(fx->dir, "store.db-wal", &w.wal_size, &w.wal_mtime_ns);
	return w;
}

static void
assert_no_store_writes(Fixture *fx, const StoreWrites *before)
{
	StoreWrites after = store_writes(fx);

	g_assert_cmpuint(after.counter, ==, before->counter);
	g_assert_cmpint(after.db_size, ==, before->db_size);
	g_assert_cmpint(after.db_mtime_ns, ==, before->db_mtime_ns);
	g_assert_cmpint(after.wal_size, ==, before->wal_size);
	g_assert_cmpint(after.wal_mtime_ns, ==, before->wal_mtime_ns);
}

static GPtrArray *
store_folder_names(Fixture *fx, gboolean subscribed_only, gboolean synced_only)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GPtrArray) folders = pr_store_list_folders(fx->store, &error);
	GPtrArray *names = g_ptr_array_new_with_free_func(g_free);

	g_assert_no_error(error);
	for (guint i = 0; i < folders->len; i++) {
		PrStoreFolder *f = g_ptr_array_index(folders, i);
		if (f->local)
			continue;
		if (subscribed_only && !f->subscribed)
			continue;
		if (synced_only && f->last_sync == 0)
			continue;
		g_ptr_array_add(names, g_strdup(f->name));
	}
	g_ptr_array_sort(names, strptr_cmp);
	return names;
}

static gchar *
join_names(GPtrArray *names)
{
	GString *out = g_string_new(NULL);
	for (guint i = 0; i < names->len; i++) {
		if (i > 0)
			g_string_append_c(out, ',');
		g_string_append(out, g_ptr_array_index(names, i));
	}
	return g_string_free(out, FALSE);
}

#define assert_names(names, expected)                                                              \
	G_STMT_START                                                                               \
	{                                                                                          \
		g_autofree gchar *joined_ = join_names(names);                                     \
		g_assert_cmpstr(joined_, ==, (expected));                                          \
	}                                                                                          \
	G_STMT_END

static void
hash_add(GHashTable *hashes, gchar *hex)
{
	guint n = GPOINTER_TO_UINT(g_hash_table_lookup(hashes, hex));
	g_hash_table_insert(hashes, hex, GUINT_TO_POINTER(n + 1));
}

static guint
count_in(GArray *ids, guint64 id)
{
	guint n = 0;
	for (guint i = 0; i < ids->len; i++)
		n += g_array_index(ids, guint64, i) == id;
	return n;
}

/* Cases ------------------------------------------------------------------------------------ */

/* The published fraction on every "changed" of a progress. */
static void
record_fraction_cb(PrProgress *progress, GArray *fractions)
{
	gdouble fraction = pr_progress_get_fraction(progress);
	g_array_append_val(fractions, fraction);
}

/* What a sync's progress published: never back, known from the start, ends at 1. */
static void
assert_fractions(GArray *fractions)
{
	guint between = 0;

	g_assert_cmpuint(fractions->len, >, 0);
	for (guint i = 0; i < fractions->len; i++) {
		gdouble f = g_array_index(fractions, gdouble, i);
		g_assert_cmpfloat(f, >=, 0);
		g_assert_cmpfloat(f, <=, 1);
		if (i > 0)
			g_assert_cmpfloat(f, >=, g_array_index(fractions, gdouble, i - 1));
		if (f > 0 && f < 1 && (i == 0 || f > g_array_index(fractions, gdouble, i - 1)))
			between++;
	}
	/* it moved in steps, not from 0 to 1 at the end */
	g_assert_cmpuint(between, >=, 5);
	g_assert_cmpfloat(g_array_index(fractions, gdouble, fractions->len - 1), ==, 1);
}

/* seed: INBOX=60,Archive=20,Lists/GLib=4,Empty=0,Entwürfe=3 */
static void
test_initial(Fixture *fx, gconstpointer user_data)
{
	PrSyncOptions options = default_options();
	g_autoptr(PrProgress) progress = pr_progress_new();
	g_autoptr(GArray) fractions = g_array_new(FALSE, FALSE, sizeof(gdouble));
	g_autoptr(GPtrArray) want = server_folders(FALSE);
	g_autoptr(GPtrArray) got = NULL;
	g_autoptr(GError) error = NULL;
	g_autoptr(PrStoreFolder) inbox = NULL;
	g_autoptr(PrStoreFolder) parent = NULL;
	g_autofree gchar *want_joined = join_names(want);
	g_autofree gchar *ids_out = NULL;
	g_autoptr(GHashTable) message_ids =
		g_hash_table_new_full(g_direct_hash, g_direct_equal, NULL, g_free);
	g_autoptr(GPtrArray) inbox_messages = NULL;
	g_auto(GStrv) lines = NULL;
	guint total = 0;

	fixture_sync(fx, &options, PR_SYNC_METHOD_QRESYNC);
	g_signal_connect(progress, "changed", G_CALLBACK(record_fraction_cb), fractions);
	g_assert_true(run_sync(fx, PR_SYNC_SCOPE_FULL, NULL, progress, NULL, &error));
	pr_test_assert_no_error(error);
	g_signal_handlers_disconnect_by_data(progress, fractions);
	assert_fractions(fractions);

	/* folders: exactly the server's, with the \Noselect parent */
	got = store_folder_names(fx, FALSE, FALSE);
	assert_names(got, want_joined);
	parent = store_folder(fx, "Lists");
	g_assert_false(parent->attributes == NULL || parent->attributes[0] == NULL);
	g_assert_cmpint(parent->delimiter, ==, '/');
	g_assert_cmpuint(parent->last_sync, ==, 0);

	for (guint i = 0; i < want->len; i++) {
		const gchar *name = g_ptr_array_index(want, i);
		g_autoptr(PrStoreFolder) folder = store_folder(fx, name);
		g_autoptr(GHashTable) server = NULL;
		if (g_strcmp0(name, "Lists") == 0)
			continue;
		assert_folder_equal(fx, name);
		server = server_flags(name);
		total += g_hash_table_size(server);
		g_assert_cmpuint(folder->uidvalidity, ==, server_uidvalidity(name));
		g_assert_cmpuint(folder->last_sync, >, 0);
		g_assert_cmpuint(folder->messages, ==, g_hash_table_size(server));
	}
	g_assert_cmpuint(total, ==, 60 + 20 + 4 + 3);

	/* the envelope made it: Message-ID of every INBOX message as doveadm reads it */
	ids_out = DOVEADM(
		"-f", "tab", "fetch", "-u", env.user, "uid hdr.message-id", "mailbox", "INBOX");
	lines = g_strsplit(ids_out, "\n", -1);
	for (guint i = 1; lines[i] != NULL; i++) {
		g_auto(GStrv) cols = g_strsplit(lines[i], "\t", 2);
		if (lines[i][0] == '\0')
			continue;
		g_hash_table_insert(message_ids,
				    GUINT_TO_POINTER((guint)g_ascii_strtoull(cols[0], NULL, 10)),
				    g_strdup(g_strstrip(cols[1])));
	}
	inbox_messages = store_messages(fx, "INBOX");
	g_assert_cmpuint(inbox_messages->len, ==, 60);
	for (guint i = 0; i < inbox_messages->len; i++) {
		PrStoreMessage *m = g_ptr_array_index(inbox_messages, i);
		g_assert_cmpstr(m->message_id,
				==,
				g_hash_table_lookup(message_ids, GUINT_TO_POINTER(m->uid)));
		g_assert_nonnull(m->subject);
		g_assert_nonnull(m->from);
		g_assert_nonnull(m->bodystructure);
		g_assert_cmpuint(m->size, >, 0);
		g_assert_cmpint(m->internal_date, >, 0);
		g_assert_cmpint(m->download, ==, PR_STORE_DOWNLOAD_HEADERS);
	}

	/* signals and progress */
	g_assert_cmpuint(fx->folders_changed, >, 0);
	g_assert_cmpuint(fx->added->len, ==, total);
	g_assert_cmpuint(fx->new_mail_signals, ==, 0); /* the first sync is not new mail */
	g_assert_cmpuint(pr_progress_get_folders_done(progress), ==, want->len - 1);
	g_assert_cmpuint(pr_progress_get_folders_total(progress), ==, want->len - 1);
	g_assert_cmpuint(pr_progress_get_messages_done(progress), ==, total);
	g_assert_cmpuint(pr_progress_get_messages_total(progress), ==, total);

	/* a second run changes nothing */
	fixture_reset_signals(fx);
	sync_ok(fx, PR_SYNC_SCOPE_FULL, NULL);
	g_assert_cmpuint(fx->folders_changed, ==, 0);
	g_assert_cmpuint(fx->added->len + fx->changed->len + fx->removed->len, ==, 0);
	inbox = store_folder(fx, "INBOX");
	g_assert_cmpuint(inbox->messages, ==, 60);
}

/* seed: INBOX=50,Archive=10; user_data: the method */
static void
test_resync(Fixture *fx, gconstpointer user_data)
{
	PrSyncMethod method = GPOINTER_TO_INT(user_data);
	PrSyncOptions options = default_options();
	g_autoptr(GHashTable) before = NULL;
	g_autoptr(GHashTable) after = NULL;
	g_autoptr(GHashTable) server = NULL;
	g_autoptr(GHashTable) archive_before = NULL;
	GHashTableIter iter;
	gpointer key, value;
	guint32 expunged[] = { 3, 7, 20 };
	guint new_count = 0;

	fixture_sync(fx, &options, method);
	sync_ok(fx, PR_SYNC_SCOPE_FULL, NULL);
	before = store_ids(fx, "INBOX");
	archive_before = store_ids(fx, "Archive");
	g_assert_cmpuint(g_hash_table_size(before), ==, 50);

	/* the server changes behind our back */
	server = server_flags("INBOX");
	for (guint32 uid = 1; uid <= 2; uid++) {
		const gchar *flags = g_hash_table_lookup(server, GUINT_TO_POINTER(uid));
		server_flag(
			strstr(flags, "\\Seen") != NULL ? "remove" : "add", "\\Seen", "INBOX", uid);
	}
	server_flag("add", "$Changed", "INBOX", 5);
	server_flag("add", "$Label1", "INBOX", 6);
	for (guint i = 0; i < G_N_ELEMENTS(expunged); i++)
		server_expunge("INBOX", expunged[i]);
	server_append("INBOX", 1, 500);
	server_append("INBOX", 2, 800);
	server_expunge("Archive", 1);

	fixture_reset_signals(fx);
	sync_ok(fx, PR_SYNC_SCOPE_FULL, NULL);
	assert_folder_equal(fx, "INBOX");
	assert_folder_equal(fx, "Archive");

	/* ids: unchanged messages keep theirs, expunged ones are gone, new ones are new */
	after = store_ids(fx, "INBOX");
	g_assert_cmpuint(g_hash_table_size(after), ==, 50 - 3 + 2);
	g_hash_table_iter_init(&iter, after);
	while (g_hash_table_iter_next(&iter, &key, &value)) {
		guint64 id = *(guint64 *)value;
		guint64 old = id_of(before, GPOINTER_TO_UINT(key));
		if (old != 0) {
			g_assert_cmpuint(id, ==, old);
		} else {
			new_count++;
			g_assert_cmpuint(count_in(fx->new_mail, id), ==, 1);
			g_assert_cmpuint(count_in(fx->added, id), ==, 1);
		}
	}
	g_assert_cmpuint(new_count, ==, 2);
	g_assert_cmpuint(fx->new_mail->len, ==, 2);
	for (guint i = 0; i < G_N_ELEMENTS(expunged); i++)
		g_assert_cmpuint(count_in(fx->removed, id_of(before, expunged[i])), ==, 1);
	g_assert_cmpuint(count_in(fx->removed, id_of(archive_before, 1)), ==, 1);
	g_assert_cmpuint(fx->removed->len, ==, 4);
	for (guint32 uid = 1; uid <= 6; uid++) {
		if (uid == 3 || uid == 4)
			continue;
		g_assert_cmpuint(count_in(fx->changed, id_of(before, uid)), ==, 1);
	}
	g_assert_cmpuint(fx->changed->len, ==, 4);

	/* and a third run finds nothing to do */
	fixture_reset_signals(fx);
	sync_ok(fx, PR_SYNC_SCOPE_FULL, NULL);
	g_assert_cmpuint(fx->added->len + fx->changed->len + fx->removed->len, ==, 0);
	assert_folder_equal(fx, "INBOX");
}

/* seed: INBOX=30. Commands per INBOX sync: what each method costs. */
static void
test_round_trips(Fixture *fx, gconstpointer user_data)
{
	PrSyncMethod method = GPOINTER_TO_INT(user_data);
	PrSyncOptions options = default_options();
	const gchar *inbox[] = { "INBOX", NULL };
	/* no change / one flag changed, by method; with QRESYNC the mailbox stays selected
	 * between syncs: UID FETCH (CHANGEDSINCE VANISHED) and UID SEARCH for new UIDs, no
	 * SELECT */
	const guint idle[] = { 2, 1, 2 };
	const guint flags[] = { 2, 2, 2 };
	StoreWrites writes;
	guint before;

	fixture_sync(fx, &options, method);
	sync_ok(fx, PR_SYNC_SCOPE_FOLDERS, inbox);

	/* nothing changed: the commands above, and not one write to the store */
	before = pr_sync_get_command_count(fx->sync);
	writes = store_writes(fx);
	sync_ok(fx, PR_SYNC_SCOPE_FOLDERS, inbox);
	g_assert_cmpuint(pr_sync_get_command_count(fx->sync) - before, ==, idle[method]);
	assert_no_store_writes(fx, &writes);

	server_flag("add", "$Changed", "INBOX", 4);
	fixture_reset_signals(fx);
	before = pr_sync_get_command_count(fx->sync);
	sync_ok(fx, PR_SYNC_SCOPE_FOLDERS, inbox);
	g_assert_cmpuint(pr_sync_get_command_count(fx->sync) - before, ==, flags[method]);
	g_assert_cmpuint(fx->changed->len, ==, 1);
	assert_folder_equal(fx, "INBOX");

	/* an expunge and a new message: still no per-message round trip */
	server_expunge("INBOX", 9);
	server_append("INBOX", 1, 300);
	before = pr_sync_get_command_count(fx->sync);
	sync_ok(fx, PR_SYNC_SCOPE_FOLDERS, inbox);
	g_assert_cmpuint(pr_sync_get_command_count(fx->sync) - before, <=, 4);
	assert_folder_equal(fx, "INBOX");
}

/* seed: INBOX=30. A new connection's QRESYNC SELECT reports the new messages with the
 * flag changes: their headers are fetched without a UID SEARCH, unless it also reported
 * expunges (then the count no longer proves that it reported every new message). */
static void
test_round_trips_reconnect(Fixture *fx, gconstpointer user_data)
{
	PrSyncOptions options = default_options();
	const gchar *inbox[] = { "INBOX", NULL };
	guint before;

	fixture_sync(fx, &options, PR_SYNC_METHOD_QRESYNC);
	sync_ok(fx, PR_SYNC_SCOPE_FOLDERS, inbox);

	for (guint round = 0; round < 2; round++) {
		g_clear_object(&fx->sync);
		pr_test_logout(fx->client);
		g_clear_object(&fx->client);
		fx->client = fixture_login();
		fixture_sync(fx, &options, PR_SYNC_METHOD_QRESYNC);

		server_flag("add", "$Changed", "INBOX", 4 + round);
		server_append("INBOX", 1 + round, 300);
		server_append("INBOX", 3 + round, 400);
		if (round == 1)
			server_expunge("INBOX", 9);
		fixture_reset_signals(fx);
		before = pr_sync_get_command_count(fx->sync);
		sync_ok(fx, PR_SYNC_SCOPE_FOLDERS, inbox);
		/* SELECT (QRESYNC), [UID SEARCH,] UID FETCH of the new headers */
		g_assert_cmpuint(
			pr_sync_get_command_count(fx->sync) - before, ==, round == 0 ? 2 : 3);
		g_assert_cmpuint(fx->new_mail->len, ==, 2);
		g_assert_cmpuint(fx->removed->len, ==, round == 0 ? 0 : 1);
		assert_folder_equal(fx, "INBOX");
	}
}

/* seed: INBOX=5,Archive=10 */
static void
test_uidvalidity(Fixture *fx, gconstpointer user_data)
{
	PrSyncOptions options = default_options();
	g_autoptr(GHashTable) old_ids = NULL;
	g_autoptr(PrStoreFolder) folder = NULL;
	GHashTableIter iter;
	gpointer value;
	guint32 old_validity;

	fixture_sync(fx, &options, PR_SYNC_METHOD_QRESYNC);
	sync_ok(fx, PR_SYNC_SCOPE_FULL, NULL);
	old_ids = store_ids(fx, "Archive");
	g_assert_cmpuint(g_hash_table_size(old_ids), ==, 10);
	old_validity = server_uidvalidity("Archive");

	/* the same name, a new mailbox: UIDs start again under a new UIDVALIDITY */
	g_free(DOVEADM("mailbox", "delete", "-u", env.user, "Archive"));
	g_usleep(G_USEC_PER_SEC); /* Dovecot derives UIDVALIDITY from the clock */
	g_free(DOVEADM("mailbox", "create", "-u", env.user, "Archive"));
	for (guint i = 0; i < 3; i++)
		server_append("Archive", i, 200);
	g_assert_cmpuint(server_uidvalidity("Archive"), !=, old_validity);

	fixture_reset_signals(fx);
	sync_ok(fx, PR_SYNC_SCOPE_FULL, NULL);
	assert_folder_equal(fx, "Archive");
	folder = store_folder(fx, "Archive");
	g_assert_cmpuint(folder->uidvalidity, ==, server_uidvalidity("Archive"));
	g_hash_table_iter_init(&iter, old_ids);
	while (g_hash_table_iter_next(&iter, NULL, &value)) {
		guint64 id = *(guint64 *)value;
		g_autoptr(GError) error = NULL;
		g_autoptr(PrStoreMessage) m = pr_store_get_message(fx->store, id, &error);
		g_assert_null(m);
		g_assert_error(error, PR_ERROR, PR_ERROR_NOT_FOUND);
		g_assert_cmpuint(count_in(fx->removed, id), ==, 1);
	}
	/* a retired folder starts over: not announced as new mail */
	g_assert_cmpuint(fx->new_mail->len, ==, 0);
	g_assert_cmpuint(fx->added->len, ==, 3);
}

/* seed: INBOX=40,Archive=10 */
static void
test_limits(Fixture *fx, gconstpointer user_data)
{
	PrSyncOptions options = default_options();
	g_autoptr(GHashTable) got = NULL;
	g_autoptr(GHashTable) archive = NULL;
	g_autoptr(GHashTable) server = NULL;
	guint n = 0;

	options.inbox_sync_limit = 10;
	options.mailbox_sync_limit = 0;
	fixture_sync(fx, &options, PR_SYNC_METHOD_QRESYNC);
	sync_ok(fx, PR_SYNC_SCOPE_FULL, NULL);
	got = store_flags(fx, "INBOX");
	g_assert_cmpuint(g_hash_table_size(got), ==, 10);
	for (guint32 uid = 31; uid <= 40; uid++)
		g_assert_true(g_hash_table_contains(got, GUINT_TO_POINTER(uid)));
	archive = store_flags(fx, "Archive");
	g_assert_cmpuint(g_hash_table_size(archive), ==, 0);

	/* three new ones push the three oldest out */
	for (guint i = 0; i < 3; i++)
		server_append("INBOX", i, 100);
	server_flag("add", "$Changed", "INBOX", 38);
	sync_ok(fx, PR_SYNC_SCOPE_FULL, NULL);
	g_clear_pointer(&got, g_hash_table_unref);
	got = store_flags(fx, "INBOX");
	server = server_flags("INBOX");
	g_assert_cmpuint(g_hash_table_size(got), ==, 10);
	for (guint32 uid = 1; uid <= 43; uid++) {
		gboolean want = uid >= 34;
		g_assert_cmpint(g_hash_table_contains(got, GUINT_TO_POINTER(uid)), ==, want);
		if (want) {
			g_assert_cmpstr(g_hash_table_lookup(got, GUINT_TO_POINTER(uid)),
					==,
					g_hash_table_lookup(server, GUINT_TO_POINTER(uid)));
			n++;
		}
	}
	g_assert_cmpuint(n, ==, 10);
}

/* seed: INBOX=30 */
static void
test_search(Fixture *fx, gconstpointer user_data)
{
	PrSyncOptions options = default_options();
	g_autoptr(GHashTable) server = NULL;
	g_autoptr(GHashTable) got = NULL;
	GHashTableIter iter;
	gpointer key, value;
	guint32 seen_uid = 0;
	guint32 unseen_uid = 0;
	guint expected = 0;

	options.sync_search = "UNSEEN";
	fixture_sync(fx, &options, PR_SYNC_METHOD_QRESYNC);
	sync_ok(fx, PR_SYNC_SCOPE_FULL, NULL);

	server = server_flags("INBOX");
	got = store_flags(fx, "INBOX");
	g_hash_table_iter_init(&iter, server);
	while (g_hash_table_iter_next(&iter, &key, &value)) {
		gboolean seen = strstr(value, "\\Seen") != NULL;
		g_assert_cmpint(g_hash_table_contains(got, key), ==, !seen);
		expected += !seen;
		if (seen)
			seen_uid = GPOINTER_TO_UINT(key);
		else
			unseen_uid = GPOINTER_TO_UINT(key);
	}
	g_assert_cmpuint(g_hash_table_size(got), ==, expected);
	g_assert_cmpuint(expected, >, 0);
	g_assert_cmpuint(seen_uid, >, 0);

	/* one read elsewhere leaves the window, one marked unread enters it */
	server_flag("add", "\\Seen", "INBOX", unseen_uid);
	server_flag("remove", "\\Seen", "INBOX", seen_uid);
	sync_ok(fx, PR_SYNC_SCOPE_FULL, NULL);
	g_clear_pointer(&got, g_hash_table_unref);
	got = store_flags(fx, "INBOX");
	g_assert_false(g_hash_table_contains(got, GUINT_TO_POINTER(unseen_uid)));
	g_assert_true(g_hash_table_contains(got, GUINT_TO_POINTER(seen_uid)));
	g_assert_cmpuint(g_hash_table_size(got), ==, expected);
}

/* seed: INBOX=3,A=2,B=2,C=2; A subscribed on the server */
static void
test_folder_sync(Fixture *fx, gconstpointer user_data)
{
	const struct {
		PrSyncFolderStrategy strategy;
		const gchar *synced;
	} cases[] = {
		{ PR_SYNC_FOLDERS_REMOTE_SUBSCRIBED, "A,INBOX" },
		{ PR_SYNC_FOLDERS_LOCAL_SUBSCRIBED, "B,INBOX" },
		{ PR_SYNC_FOLDERS_EITHER, "A,B,INBOX" },
		{ PR_SYNC_FOLDERS_ALL, "A,B,C,INBOX" },
	};

	g_free(DOVEADM("mailbox", "subscribe", "-u", env.user, "A"));
	for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
		PrSyncOptions options = default_options();
		g_autoptr(GPtrArray) synced = NULL;
		g_autoptr(GError) error = NULL;
		g_autoptr(PrStoreFolder) a = NULL;
		g_autoptr(PrStoreFolder) b = NULL;

		fixture_open_store(fx);
		options.folder_sync = cases[i].strategy;
		fixture_sync(fx, &options, PR_SYNC_METHOD_QRESYNC);
		sync_ok(fx, PR_SYNC_SCOPE_TREE, NULL);
		a = store_folder(fx, "A");
		g_assert_true(a->remote_subscribed);
		g_assert_true(a->subscribed); /* new folders follow the server */
		/* locally: B on, A off */
		a->subscribed = FALSE;
		g_assert_true(pr_store_save_folder(fx->store, a, &error));
		b = store_folder(fx, "B");
		g_assert_false(b->remote_subscribed);
		b->subscribed = TRUE;
		g_assert_true(pr_store_save_folder(fx->store, b, &error));
		g_assert_no_error(error);

		sync_ok(fx, PR_SYNC_SCOPE_FULL, NULL);
		synced = store_folder_names(fx, FALSE, TRUE);
		assert_names(synced, cases[i].synced);
	}
}

static void
set_local_subscribed(Fixture *fx, const gchar *name, gboolean subscribed)
{
	g_autoptr(PrStoreFolder) folder = store_folder(fx, name);
	g_autoptr(GError) error = NULL;

	folder->subscribed = subscribed;
	g_assert_true(pr_store_save_folder(fx->store, folder, &error));
	g_assert_no_error(error);
}

/* seed: INBOX=1,A=1,B=1,C=1,D=1,E=1; A and B subscribed on the server */
static void
test_subscriptions(Fixture *fx, gconstpointer user_data)
{
	PrSyncOptions options = default_options();
	g_autoptr(GPtrArray) local = NULL;
	g_autoptr(GPtrArray) remote = NULL;

	g_free(DOVEADM("mailbox", "subscribe", "-u", env.user, "A", "B"));

	/* neither: the tree learns the server's, new folders follow it, nothing is pushed */
	fixture_sync(fx, &options, PR_SYNC_METHOD_QRESYNC);
	sync_ok(fx, PR_SYNC_SCOPE_SUBSCRIPTIONS, NULL);
	local = store_folder_names(fx, TRUE, FALSE);
	assert_names(local, "A,B");
	g_clear_pointer(&local, g_ptr_array_unref);

	/* local-from-remote */
	set_local_subscribed(fx, "C", TRUE);
	g_free(DOVEADM("mailbox", "unsubscribe", "-u", env.user, "B"));
	g_free(DOVEADM("mailbox", "subscribe", "-u", env.user, "D"));
	options.subscription_update = PR_SYNC_SUBSCRIPTIONS_LOCAL_FROM_REMOTE;
	fixture_sync(fx, &options, PR_SYNC_METHOD_QRESYNC);
	sync_ok(fx, PR_SYNC_SCOPE_SUBSCRIPTIONS, NULL);
	local = store_folder_names(fx, TRUE, FALSE);
	assert_names(local, "A,D");
	g_clear_pointer(&local, g_ptr_array_unref);

	/* remote-from-local */
	set_local_subscribed(fx, "A", FALSE);
	set_local_subscribed(fx, "C", TRUE);
	set_local_subscribed(fx, "E", TRUE);
	options.subscription_update = PR_SYNC_SUBSCRIPTIONS_REMOTE_FROM_LOCAL;
	fixture_sync(fx, &options, PR_SYNC_METHOD_QRESYNC);
	fixture_reset_signals(fx);
	sync_ok(fx, PR_SYNC_SCOPE_SUBSCRIPTIONS, NULL);
	g_assert_cmpuint(fx->folders_changed, >, 0);
	remote = server_folders(TRUE);
	assert_names(remote, "C,D,E");
	local = store_folder_names(fx, TRUE, FALSE);
	assert_names(local, "C,D,E");
	g_clear_pointer(&local, g_ptr_array_unref);
	g_clear_pointer(&remote, g_ptr_array_unref);

	/* both: the union, on both sides */
	set_local_subscribed(fx, "B", TRUE);
	g_free(DOVEADM("mailbox", "subscribe", "-u", env.user, "A"));
	options.subscription_update = PR_SYNC_SUBSCRIPTIONS_BOTH;
	fixture_sync(fx, &options, PR_SYNC_METHOD_QRESYNC);
	sync_ok(fx, PR_SYNC_SCOPE_SUBSCRIPTIONS, NULL);
	remote = server_folders(TRUE);
	assert_names(remote, "A,B,C,D,E");
	local = store_folder_names(fx, TRUE, FALSE);
	assert_names(local, "A,B,C,D,E");
}

/* seed: INBOX=25 (plus two large messages appended here) */
static void
test_bodies(Fixture *fx, gconstpointer user_data)
{
	PrSyncOptions options = default_options();
	const gchar *inbox[] = { "INBOX", NULL };
	g_autoptr(PrProgress) progress = pr_progress_new();
	g_autoptr(GPtrArray) messages = NULL;
	g_autoptr(GArray) ids = g_array_new(FALSE, FALSE, sizeof(guint64));
	g_autoptr(GArray) fetched = NULL;
	g_autoptr(GArray) again = NULL;
	g_autoptr(GHashTable) want = NULL;
	g_autoptr(GHashTable) got = pr_test_hash_table_new();
	g_autoptr(GError) error = NULL;
	StoreWrites writes;
	guint64 bytes = 0;
	guint before;

	/* above the parser's in-memory threshold: these stream through the sink */
	server_append("INBOX", 100, 300 * 1024);
	server_append("INBOX", 101, 3 * 1024 * 1024);
	fixture_sync(fx, &options, PR_SYNC_METHOD_QRESYNC);
	sync_ok(fx, PR_SYNC_SCOPE_FOLDERS, inbox);
	messages = store_messages(fx, "INBOX");
	g_assert_cmpuint(messages->len, ==, 27);
	for (guint i = 0; i < messages->len; i++) {
		PrStoreMessage *m = g_ptr_array_index(messages, i);
		g_array_append_val(ids, m->id);
		bytes += m->size;
	}

	fetched = fetch_bodies(fx, ids, progress, &error);
	pr_test_assert_no_error(error);
	g_assert_nonnull(fetched);
	g_assert_cmpuint(fetched->len, ==, 27);
	g_assert_cmpuint(pr_progress_get_bytes_total(progress), ==, bytes);
	g_assert_cmpuint(pr_progress_get_bytes_done(progress), ==, bytes);

	/* every body byte for byte as Dovecot keeps it */
	want = pr_test_maildir_hashes(env.maildir, &error);
	g_assert_no_error(error);
	for (guint i = 0; i < messages->len; i++) {
		PrStoreMessage *m = g_ptr_array_index(messages, i);
		g_autoptr(PrStoreMessage) now = pr_store_get_message(fx->store, m->id, &error);
		g_autofree gchar *path = pr_store_get_body_path(fx->store, m->id);
		g_autofree gchar *contents = NULL;
		gsize len = 0;

		g_assert_no_error(error);
		g_assert_cmpint(now->download, ==, PR_STORE_DOWNLOAD_COMPLETE);
		g_assert_true(g_file_get_contents(path, &contents, &len, &error));
		g_assert_cmpuint(len, ==, m->size);
		g_assert_no_error(error);
		hash_add(got,
			 g_compute_checksum_for_data(
				 G_CHECKSUM_SHA256, (const guchar *)contents, len));
	}
	g_assert_true(pr_test_hash_multisets_equal(want, got));

	/* complete ones are skipped */
	again = fetch_bodies(fx, ids, NULL, &error);
	pr_test_assert_no_error(error);
	g_assert_cmpuint(again->len, ==, 0);

	/* downloading is not a local change: the next sync is the two queries of a mailbox
	 * still selected (see test_round_trips), and writes nothing */
	before = pr_sync_get_command_count(fx->sync);
	writes = store_writes(fx);
	sync_ok(fx, PR_SYNC_SCOPE_FOLDERS, inbox);
	g_assert_cmpuint(pr_sync_get_command_count(fx->sync) - before, ==, 2);
	assert_no_store_writes(fx, &writes);
	assert_folder_equal(fx, "INBOX");
}

/* Every fetched body is its own message's: its Message-ID is the envelope's. */
static void
assert_bodies_match_envelopes(Fixture *fx, GPtrArray *messages)
{
	for (guint i = 0; i < messages->len; i++) {
		PrStoreMessage *m = g_ptr_array_index(messages, i);
		g_autofree gchar *path = pr_store_get_body_path(fx->store, m->id);
		g_autofree gchar *contents = NULL;
		g_autofree gchar *header = NULL;
		g_autoptr(GError) error = NULL;

		g_assert_true(g_file_get_contents(path, &contents, NULL, &error));
		g_assert_no_error(error);
		g_assert_nonnull(m->message_id);
		g_assert_cmpstr(m->message_id, !=, "");
		header = g_strdup_printf("Message-ID: %s\r\n", m->message_id);
		g_assert_nonnull(strstr(contents, header));
	}
}

static GArray *
message_ids(GPtrArray *messages)
{
	GArray *ids = g_array_new(FALSE, FALSE, sizeof(guint64));

	for (guint i = 0; i < messages->len; i++)
		g_array_append_val(ids, ((PrStoreMessage *)g_ptr_array_index(messages, i))->id);
	return ids;
}

/* seed: INBOX=6,Archive=6 (the same UIDs in both). Bodies of the mailbox the sync left
 * selected come without selecting it again; another mailbox's are fetched from it. */
static void
test_bodies_selected(Fixture *fx, gconstpointer user_data)
{
	PrSyncOptions options = default_options();
	const gchar *inbox[] = { "INBOX", NULL };
	const gchar *archive[] = { "Archive", NULL };
	g_autoptr(GPtrArray) in_inbox = NULL;
	g_autoptr(GPtrArray) in_archive = NULL;
	g_autoptr(GArray) inbox_ids = NULL;
	g_autoptr(GArray) archive_ids = NULL;
	g_autoptr(GArray) fetched = NULL;
	g_autoptr(GError) error = NULL;
	guint before;

	fixture_sync(fx, &options, PR_SYNC_METHOD_QRESYNC);
	sync_ok(fx, PR_SYNC_SCOPE_TREE, NULL);
	sync_ok(fx, PR_SYNC_SCOPE_FOLDERS, inbox);
	sync_ok(fx, PR_SYNC_SCOPE_FOLDERS, archive);
	in_inbox = store_messages(fx, "INBOX");
	in_archive = store_messages(fx, "Archive");
	g_assert_cmpuint(in_inbox->len, ==, 6);
	g_assert_cmpuint(in_archive->len, ==, 6);
	inbox_ids = message_ids(in_inbox);
	archive_ids = message_ids(in_archive);

	/* Archive is selected: INBOX's bodies need INBOX examined first */
	before = pr_sync_get_command_count(fx->sync);
	fetched = fetch_bodies(fx, inbox_ids, NULL, &error);
	pr_test_assert_no_error(error);
	g_assert_cmpuint(fetched->len, ==, 6);
	g_assert_cmpuint(pr_sync_get_command_count(fx->sync) - before, ==, 2);
	assert_bodies_match_envelopes(fx, in_inbox);

	/* the sync leaves Archive selected again: one FETCH, no EXAMINE */
	sync_ok(fx, PR_SYNC_SCOPE_FOLDERS, archive);
	before = pr_sync_get_command_count(fx->sync);
	g_clear_pointer(&fetched, g_array_unref);
	fetched = fetch_bodies(fx, archive_ids, NULL, &error);
	pr_test_assert_no_error(error);
	g_assert_cmpuint(fetched->len, ==, 6);
	g_assert_cmpuint(pr_sync_get_command_count(fx->sync) - before, ==, 1);
	assert_bodies_match_envelopes(fx, in_archive);
}

static void
cancel_on_bytes_cb(PrProgress *progress, gpointer user_data)
{
	GCancellable *cancellable = user_data;

	/* in the middle of a streamed body */
	if (pr_progress_get_bytes_done(progress) > 256 * 1024)
		g_cancellable_cancel(cancellable);
}

/* seed: INBOX=3 (plus large messages appended here) */
static void
test_bodies_cancel(Fixture *fx, gconstpointer user_data)
{
	PrSyncOptions options = default_options();
	const gchar *inbox[] = { "INBOX", NULL };
	g_autoptr(GCancellable) cancellable = g_cancellable_new();
	g_autoptr(PrProgress) progress = pr_progress_new();
	g_autoptr(GPtrArray) messages = NULL;
	g_autoptr(GArray) ids = g_array_new(FALSE, FALSE, sizeof(guint64));
	g_autoptr(GArray) fetched = NULL;
	g_autoptr(GError) error = NULL;
	g_autoptr(GAsyncResult) res = NULL;
	Wait wait = { 0 };

	for (guint i = 0; i < 3; i++)
		server_append("INBOX", 200 + i, 4 * 1024 * 1024);
	fixture_sync(fx, &options, PR_SYNC_METHOD_QRESYNC);
	sync_ok(fx, PR_SYNC_SCOPE_FOLDERS, inbox);
	messages = store_messages(fx, "INBOX");
	for (guint i = 0; i < messages->len; i++) {
		PrStoreMessage *m = g_ptr_array_index(messages, i);
		g_array_append_val(ids, m->id);
	}

	g_signal_connect(progress, "changed", G_CALLBACK(cancel_on_bytes_cb), cancellable);
	pr_sync_fetch_bodies_async(fx->sync,
				   &g_array_index(ids, guint64, 0),
				   ids->len,
				   progress,
				   cancellable,
				   wait_cb,
				   &wait);
	g_assert_true(pr_test_wait_for_flag(&wait.done, PR_TEST_DEADLINE_SECONDS));
	res = wait.res;
	g_assert_false(pr_sync_fetch_bodies_finish(fx->sync, res, NULL, &error));
	pr_test_assert_error(error, PR_ERROR_CANCELLED);
	g_clear_error(&error);
	g_assert_cmpint(
		pr_imap_client_get_state(fx->client), ==, PR_IMAP_CLIENT_STATE_DISCONNECTED);

	/* the same client connects again; the rest arrives, nothing half-written stays */
	pr_test_connect(fx->client, NULL, &error);
	g_assert_no_error(error);
	pr_test_login(fx->client, env.user, env.password, "auto", &error);
	g_assert_no_error(error);
	fetched = fetch_bodies(fx, ids, NULL, &error);
	g_assert_no_error(error);
	g_assert_cmpuint(fetched->len, >, 0);
	for (guint i = 0; i < messages->len; i++) {
		PrStoreMessage *m = g_ptr_array_index(messages, i);
		g_autoptr(PrStoreMessage) now = pr_store_get_message(fx->store, m->id, &error);
		g_autofree gchar *path = pr_store_get_body_path(fx->store, m->id);
		g_autofree gchar *contents = NULL;
		gsize len = 0;

		g_assert_no_error(error);
		g_assert_cmpint(now->download, ==, PR_STORE_DOWNLOAD_COMPLETE);
		g_assert_true(g_file_get_contents(path, &contents, &len, &error));
		g_assert_cmpuint(len, ==, m->size);
	}
}

/* seed: INBOX=3000 */
static void
test_cancel(Fixture *fx, gconstpointer user_data)
{
	PrSyncOptions options = default_options();
	g_autoptr(GCancellable) cancellable = g_cancellable_new();
	g_autoptr(GHashTable) partial = NULL;
	g_autoptr(GHashTable) after = NULL;
	g_autoptr(GError) error = NULL;
	GHashTableIter iter;
	gpointer key, value;
	gboolean ok;

	options.fetch_batch = 100;
	fixture_sync(fx, &options, PR_SYNC_METHOD_QRESYNC);
	fx->cancel_after_added = g_object_ref(cancellable);
	ok = run_sync(fx, PR_SYNC_SCOPE_FULL, NULL, NULL, cancellable, &error);
	g_assert_false(ok);
	pr_test_assert_error(error, PR_ERROR_CANCELLED);
	g_clear_object(&fx->cancel_after_added);

	/* what was committed stays; the rest did not arrive */
	partial = store_ids(fx, "INBOX");
	g_test_message("%u of 3000 stored before the cancellation", g_hash_table_size(partial));
	g_assert_cmpuint(g_hash_table_size(partial), >=, 100);
	g_assert_cmpuint(g_hash_table_size(partial), <, 3000);

	/* the connection went with the cancellation; a new one carries on */
	g_clear_object(&fx->sync);
	g_clear_object(&fx->client);
	fx->client = fixture_login();
	fixture_sync(fx, &options, PR_SYNC_METHOD_QRESYNC);
	fixture_reset_signals(fx);
	sync_ok(fx, PR_SYNC_SCOPE_FULL, NULL);
	assert_folder_equal(fx, "INBOX");
	after = store_ids(fx, "INBOX");
	g_assert_cmpuint(g_hash_table_size(after), ==, 3000);
	g_hash_table_iter_init(&iter, partial);
	while (g_hash_table_iter_next(&iter, &key, &value))
		g_assert_cmpuint(id_of(after, GPOINTER_TO_UINT(key)), ==, *(guint64 *)value);
	/* only the missing ones were fetched */
	g_assert_cmpuint(fx->added->len, ==, 3000 - g_hash_table_size(partial));
}

/* seed: INBOX=2,Gone=3 */
static void
test_vanished_folder(Fixture *fx, gconstpointer user_data)
{
	PrSyncOptions options = default_options();
	const gchar *gone[] = { "Gone", NULL };
	g_autoptr(PrStoreFolder) folder = NULL;
	g_autoptr(GError) error = NULL;

	fixture_sync(fx, &options, PR_SYNC_METHOD_QRESYNC);
	sync_ok(fx, PR_SYNC_SCOPE_TREE, NULL);
	folder = store_folder(fx, "Gone");
	g_clear_pointer(&folder, pr_store_folder_free);

	/* deleted after we read the tree */
	g_free(DOVEADM("mailbox", "delete", "-u", env.user, "Gone"));
	fixture_reset_signals(fx);
	sync_ok(fx, PR_SYNC_SCOPE_FOLDERS, gone);
	folder = pr_store_get_folder(fx->store, "Gone", &error);
	g_assert_null(folder);
	g_assert_error(error, PR_ERROR, PR_ERROR_NOT_FOUND);
	g_assert_cmpuint(fx->folders_changed, ==, 1);

	/* an unknown name is the caller's mistake */
	g_clear_error(&error);
	g_assert_false(run_sync(fx, PR_SYNC_SCOPE_FOLDERS, gone, NULL, NULL, &error));
	pr_test_assert_error(error, PR_ERROR_NOT_FOUND);
}

static void
set_local_seen(Fixture *fx, GHashTable *ids, guint32 uid, gboolean seen)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(PrStoreMessage) m = pr_store_get_message(fx->store, id_of(ids, uid), &error);
	g_autoptr(GStrvBuilder) builder = g_strv_builder_new();
	g_auto(GStrv) flags = NULL;

	g_assert_no_error(error);
	for (guint i = 0; m->flags[i] != NULL; i++) {
		if (g_strcmp0(m->flags[i], "\\Seen") != 0)
			g_strv_builder_add(builder, m->flags[i]);
	}
	if (seen)
		g_strv_builder_add(builder, "\\Seen");
	flags = g_strv_builder_end(builder);
	g_assert_true(pr_store_set_flags(fx->store, m->id, (const gchar *const *)flags, &error));
	g_assert_no_error(error);
}

/* seed: INBOX=12; user_data: the method */
static void
test_seen(Fixture *fx, gconstpointer user_data)
{
	PrSyncMethod method = GPOINTER_TO_INT(user_data);
	PrSyncOptions options = default_options();
	const gchar *inbox[] = { "INBOX", NULL };
	g_autoptr(GHashTable) ids = NULL;
	g_autoptr(GHashTable) server = NULL;
	g_autoptr(GHashTable) after = NULL;
	guint32 unseen[2] = { 0, 0 };
	guint32 seen = 0;
	guint n_unseen = 0;
	guint before;

	fixture_sync(fx, &options, method);
	sync_ok(fx, PR_SYNC_SCOPE_FOLDERS, inbox);
	ids = store_ids(fx, "INBOX");
	server = server_flags("INBOX");
	for (guint32 uid = 1; uid <= 12; uid++) {
		const gchar *flags = g_hash_table_lookup(server, GUINT_TO_POINTER(uid));
		if (strstr(flags, "\\Seen") == NULL && n_unseen < 2)
			unseen[n_unseen++] = uid;
		else if (strstr(flags, "\\Seen") != NULL && seen == 0)
			seen = uid;
	}
	g_assert_cmpuint(n_unseen, ==, 2);
	g_assert_cmpuint(seen, >, 0);

	/* read here, unread here, and one read here while the server changed it too */
	set_local_seen(fx, ids, unseen[0], TRUE);
	set_local_seen(fx, ids, seen, FALSE);
	set_local_seen(fx, ids, unseen[1], TRUE);
	server_flag("add", "$Changed", "INBOX", unseen[1]);

	sync_ok(fx, PR_SYNC_SCOPE_FOLDERS, inbox);
	g_clear_pointer(&server, g_hash_table_unref);
	server = server_flags("INBOX");
	g_assert_nonnull(
		strstr(g_hash_table_lookup(server, GUINT_TO_POINTER(unseen[0])), "\\Seen"));
	g_assert_null(strstr(g_hash_table_lookup(server, GUINT_TO_POINTER(seen)), "\\Seen"));
	if (method == PR_SYNC_METHOD_PLAIN) {
		/* nothing tells that the server changed it: the local \Seen wins */
		g_assert_cmpstr(g_hash_table_lookup(server, GUINT_TO_POINTER(unseen[1])),
				==,
				"$Changed \\Seen");
	} else {
		/* the server changed it since the last sync: the server wins */
		g_assert_cmpstr(
			g_hash_table_lookup(server, GUINT_TO_POINTER(unseen[1])), ==, "$Changed");
	}
	assert_folder_equal(fx, "INBOX");

	/* settled: nothing more goes either way */
	fixture_reset_signals(fx);
	before = pr_sync_get_command_count(fx->sync);
	sync_ok(fx, PR_SYNC_SCOPE_FOLDERS, inbox);
	if (method == PR_SYNC_METHOD_QRESYNC) {
		/* our own STOREs come back as changes once, then the folder is quiet: the two
		 * queries of a mailbox still selected (see test_round_trips), no STORE */
		sync_ok(fx, PR_SYNC_SCOPE_FOLDERS, inbox);
		before = pr_sync_get_command_count(fx->sync);
		sync_ok(fx, PR_SYNC_SCOPE_FOLDERS, inbox);
		g_assert_cmpuint(pr_sync_get_command_count(fx->sync) - before, ==, 2);
	}
	after = server_flags("INBOX");
	tables_equal(server, after, "INBOX after a quiet sync");
	assert_folder_equal(fx, "INBOX");
}

/* seed: INBOX=12. A restart (a new process: store reopened, new connection, new PrSync)
 * keeps the \Seen marks, so the user's local changes still go to the server. */
static void
test_seen_restart(Fixture *fx, gconstpointer user_data)
{
	PrSyncOptions options = default_options();
	const gchar *inbox[] = { "INBOX", NULL };
	g_autofree gchar *path = g_build_filename(fx->dir, "store", NULL);
	g_autofree gchar *key = NULL;
	g_autoptr(PrStoreFolder) folder = NULL;
	g_autoptr(GHashTable) ids = NULL;
	g_autoptr(GHashTable) server = NULL;
	g_autoptr(GError) error = NULL;
	guint32 unseen = 0;
	guint32 seen = 0;
	gint64 mark = 0;
	gint64 mark_after = 0;
	gboolean found = FALSE;

	fixture_sync(fx, &options, PR_SYNC_METHOD_QRESYNC);
	sync_ok(fx, PR_SYNC_SCOPE_FOLDERS, inbox);
	folder = store_folder(fx, "INBOX");
	key = g_strdup_printf("sync/seen-mark/%" G_GINT64_FORMAT, folder->id);
	g_assert_true(pr_store_get_meta(fx->store, key, &mark, &found, &error));
	g_assert_no_error(error);
	g_assert_true(found);
	g_assert_cmpint(mark, ==, (gint64)pr_store_get_change_counter(fx->store));

	/* the daemon stops and starts again */
	g_clear_object(&fx->sync);
	pr_test_logout(fx->client);
	g_clear_object(&fx->client);
	g_clear_object(&fx->store);
	fx->store = pr_store_new(path, &error);
	g_assert_no_error(error);
	fx->client = fixture_login();
	g_assert_true(pr_store_get_meta(fx->store, key, &mark_after, &found, &error));
	g_assert_no_error(error);
	g_assert_true(found);
	g_assert_cmpint(mark_after, ==, mark);

	/* read and unread here, while the server changed nothing */
	ids = store_ids(fx, "INBOX");
	server = server_flags("INBOX");
	for (guint32 uid = 1; uid <= 12; uid++) {
		const gchar *flags = g_hash_table_lookup(server, GUINT_TO_POINTER(uid));
		if (strstr(flags, "\\Seen") == NULL && unseen == 0)
			unseen = uid;
		else if (strstr(flags, "\\Seen") != NULL && seen == 0)
			seen = uid;
	}
	g_assert_cmpuint(unseen, >, 0);
	g_assert_cmpuint(seen, >, 0);
	set_local_seen(fx, ids, unseen, TRUE);
	set_local_seen(fx, ids, seen, FALSE);

	fixture_sync(fx, &options, PR_SYNC_METHOD_QRESYNC);
	sync_ok(fx, PR_SYNC_SCOPE_FOLDERS, inbox);
	g_clear_pointer(&server, g_hash_table_unref);
	server = server_flags("INBOX");
	g_assert_nonnull(strstr(g_hash_table_lookup(server, GUINT_TO_POINTER(unseen)), "\\Seen"));
	g_assert_null(strstr(g_hash_table_lookup(server, GUINT_TO_POINTER(seen)), "\\Seen"));
	assert_folder_equal(fx, "INBOX");
}

/* seed: INBOX=2,Lists/GLib=2,Lists/GTK=1,Other=1 */
static void
test_folder_path(Fixture *fx, gconstpointer user_data)
{
	PrSyncOptions options = default_options();
	g_autoptr(GPtrArray) names = NULL;

	fixture_sync(fx, &options, PR_SYNC_METHOD_QRESYNC);
	sync_ok(fx, PR_SYNC_SCOPE_TREE, NULL);
	names = store_folder_names(fx, FALSE, FALSE);
	assert_names(names, "INBOX,Lists,Lists/GLib,Lists/GTK,Other");
	g_clear_pointer(&names, g_ptr_array_unref);

	options.folder_path = "Lists/";
	fixture_sync(fx, &options, PR_SYNC_METHOD_QRESYNC);
	sync_ok(fx, PR_SYNC_SCOPE_FULL, NULL);
	names = store_folder_names(fx, FALSE, FALSE);
	assert_names(names, "INBOX,Lists/GLib,Lists/GTK");
	g_clear_pointer(&names, g_ptr_array_unref);
	assert_folder_equal(fx, "Lists/GLib");
	assert_folder_equal(fx, "INBOX");
}

/* seed: INBOX=8,Archive=2 */
static void
test_inbox_new(Fixture *fx, gconstpointer user_data)
{
	PrSyncMethod method = GPOINTER_TO_INT(user_data);
	PrSyncOptions options = default_options();
	g_autoptr(GHashTable) got = NULL;
	g_autoptr(GPtrArray) synced = NULL;

	fixture_sync(fx, &options, method);
	sync_ok(fx, PR_SYNC_SCOPE_INBOX_NEW, NULL);
	assert_folder_equal(fx, "INBOX");
	synced = store_folder_names(fx, FALSE, TRUE);
	assert_names(synced, "INBOX");

	server_append("INBOX", 1, 100);
	server_append("INBOX", 2, 100);
	fixture_reset_signals(fx);
	sync_ok(fx, PR_SYNC_SCOPE_INBOX_NEW, NULL);
	got = store_flags(fx, "INBOX");
	g_assert_cmpuint(g_hash_table_size(got), ==, 10);
	g_assert_cmpuint(fx->new_mail->len, ==, 2);
	/* a full sync afterwards agrees */
	sync_ok(fx, PR_SYNC_SCOPE_FULL, NULL);
	assert_folder_equal(fx, "INBOX");
}

/* A scripted server: bodies whose UID comes after the literal ----------------------------- */

/*
 * Dovecot sends UID before BODY[] when asked "(UID BODY.PEEK[])"; servers need not. This
 * one answers UID FETCH with the UID after the body, so the sink starts without knowing the
 * message: streamed bodies go through a temporary file, in-memory ones are matched at the
 * end. UID 5 is streamed (above the parser's 64 KiB), 6 is small, 7 has the UID first.
 */
typedef struct {
	gchar *bodies[3];
	guint32 uids[3];
} FakeServer;

static gboolean
fake_send(GOutputStream *out, const gchar *text, gsize len)
{
	return g_output_stream_write_all(out, text, len, NULL, NULL, NULL);
}

static gboolean
fake_run_cb(GThreadedSocketService *service,
	    GSocketConnection *conn,
	    GObject *source,
	    gpointer user_data)
{
	FakeServer *fake = user_data;
	GOutputStream *out = g_io_stream_get_output_stream(G_IO_STREAM(conn));
	g_autoptr(GDataInputStream) in =
		g_data_input_stream_new(g_io_stream_get_input_stream(G_IO_STREAM(conn)));
	const gchar *greeting = "* OK [CAPABILITY IMAP4rev1 LITERAL+] fake ready\r\n";

	g_data_input_stream_set_newline_type(in, G_DATA_STREAM_NEWLINE_TYPE_CR_LF);
	if (!fake_send(out, greeting, strlen(greeting)))
		return TRUE;
	while (TRUE) {
		g_autofree gchar *line = g_data_input_stream_read_line(in, NULL, NULL, NULL);
		g_auto(GStrv) words = NULL;
		g_autoptr(GString) reply = g_string_new(NULL);

		if (line == NULL)
			break;
		words = g_strsplit(line, " ", 3);
		if (words[0] == NULL || words[1] == NULL)
			break;
		if (g_ascii_strcasecmp(words[1], "CAPABILITY") == 0) {
			g_string_append(reply, "* CAPABILITY IMAP4rev1 LITERAL+\r\n");
		} else if (g_ascii_strcasecmp(words[1], "LIST") == 0) {
			g_string_append(reply, "* LIST () \"/\" \"\"\r\n");
		} else if (g_ascii_strcasecmp(words[1], "EXAMINE") == 0 ||
			   g_ascii_strcasecmp(words[1], "SELECT") == 0) {
			g_string_append(reply,
					"* 3 EXISTS\r\n* OK [UIDVALIDITY 7] ok\r\n"
					"* OK [UIDNEXT 8] ok\r\n");
		} else if (g_ascii_strcasecmp(words[1], "UID") == 0 && words[2] != NULL &&
			   strstr(words[2], "BODY.PEEK[]") != NULL) {
			for (guint i = 0; i < G_N_ELEMENTS(fake->uids); i++) {
				gsize len = strlen(fake->bodies[i]);
				if (fake->uids[i] == 7) {
					g_string_append_printf(
						reply,
						"* %u FETCH (UID %u BODY[] {%" G_GSIZE_FORMAT
						"}\r\n",
						i + 1,
						fake->uids[i],
						len);
					g_string_append_len(reply, fake->bodies[i], (gssize)len);
					g_string_append(reply, ")\r\n");
					continue;
				}
				g_string_append_printf(reply,
						       "* %u FETCH (BODY[] {%" G_GSIZE_FORMAT
						       "}\r\n",
						       i + 1,
						       len);
				g_string_append_len(reply, fake->bodies[i], (gssize)len);
				g_string_append_printf(reply, " UID %u)\r\n", fake->uids[i]);
			}
		} else if (g_ascii_strcasecmp(words[1], "LOGOUT") == 0) {
			g_string_append(reply, "* BYE bye\r\n");
			g_string_append_printf(reply, "%s OK done\r\n", words[0]);
			fake_send(out, reply->str, reply->len);
			break;
		}
		g_string_append_printf(reply, "%s OK done\r\n", words[0]);
		if (!fake_send(out, reply->str, reply->len))
			break;
	}
	return TRUE;
}

static void
test_uid_after_literal(void)
{
	FakeServer fake = { { NULL }, { 5, 6, 7 } };
	g_autoptr(GSocketService) service = g_threaded_socket_service_new(2);
	g_autoptr(GInetAddress) loopback = g_inet_address_new_loopback(G_SOCKET_FAMILY_IPV4);
	g_autoptr(GSocketAddress) address = g_inet_socket_address_new(loopback, 0);
	g_autoptr(GSocketAddress) bound = NULL;
	g_autoptr(PrImapClient) client = NULL;
	g_autoptr(PrStore) store = NULL;
	g_autoptr(PrSync) sync = NULL;
	g_autoptr(GArray) ids = g_array_new(FALSE, FALSE, sizeof(guint64));
	g_autoptr(GArray) fetched = NULL;
	g_autoptr(GAsyncResult) res = NULL;
	g_autoptr(GError) error = NULL;
	g_autoptr(PrStoreFolder) folder = g_new0(PrStoreFolder, 1);
	g_autofree gchar *dir = g_dir_make_tmp("pr-test-sync-XXXXXX", &error);
	g_autofree gchar *store_dir = g_build_filename(dir, "store", NULL);
	PrSyncOptions options = default_options();
	Wait wait = { 0 };

	g_assert_no_error(error);
	fake.bodies[0] = make_message(5, 100 * 1024);
	fake.bodies[1] = make_message(6, 2 * 1024);
	fake.bodies[2] = make_message(7, 90 * 1024);
	g_socket_listener_add_address(G_SOCKET_LISTENER(service),
				      address,
				      G_SOCKET_TYPE_STREAM,
				      G_SOCKET_PROTOCOL_TCP,
				      NULL,
				      &bound,
				      &error);
	g_assert_no_error(error);
	g_signal_connect(service, "run", G_CALLBACK(fake_run_cb), &fake);
	g_socket_service_start(service);

	/* the store knows the three messages (headers synchronised earlier) */
	store = pr_store_new(store_dir, &error);
	g_assert_no_error(error);
	folder->name = g_strdup("INBOX");
	folder->raw_name = g_strdup("INBOX");
	folder->delimiter = '/';
	folder->attributes = g_new0(gchar *, 1);
	folder->uidvalidity = 7;
	folder->uidnext = 8;
	folder->last_sync = 1;
	g_assert_true(pr_store_save_folder(store, folder, &error));
	for (guint i = 0; i < G_N_ELEMENTS(fake.uids); i++) {
		g_autoptr(PrStoreMessage) m = pr_store_message_new();
		m->folder_id = folder->id;
		m->uid = fake.uids[i];
		m->size = strlen(fake.bodies[i]);
		m->flags = g_new0(gchar *, 1);
		g_assert_true(pr_store_save_message(store, m, &error));
		g_assert_no_error(error);
		g_array_append_val(ids, m->id);
	}

	client = pr_imap_client_new("127.0.0.1",
				    g_inet_socket_address_get_port(G_INET_SOCKET_ADDRESS(bound)),
				    PR_IMAP_SECURITY_NONE);
	pr_imap_client_set_timeout(client, 30);
	pr_test_connect(client, NULL, &error);
	g_assert_no_error(error);
	pr_test_login(client, "user", "secret", "auto", &error);
	g_assert_no_error(error);
	sync = pr_sync_new(client, store, &options);
	pr_sync_fetch_bodies_async(
		sync, &g_array_index(ids, guint64, 0), ids->len, NULL, NULL, wait_cb, &wait);
	g_assert_true(pr_test_wait_for_flag(&wait.done, PR_TEST_DEADLINE_SECONDS));
	res = wait.res;
	g_assert_true(pr_sync_fetch_bodies_finish(sync, res, &fetched, &error));
	g_assert_no_error(error);
	g_assert_cmpuint(fetched->len, ==, 3);
	for (guint i = 0; i < ids->len; i++) {
		guint64 id = g_array_index(ids, guint64, i);
		g_autofree gchar *path = pr_store_get_body_path(store, id);
		g_autofree gchar *contents = NULL;
		gsize len = 0;
		g_autoptr(PrStoreMessage) m = pr_store_get_message(store, id, &error);

		g_assert_no_error(error);
		g_assert_cmpint(m->download, ==, PR_STORE_DOWNLOAD_COMPLETE);
		g_assert_true(g_file_get_contents(path, &contents, &len, &error));
		g_assert_cmpuint(len, ==, strlen(fake.bodies[i]));
		g_assert_true(memcmp(contents, fake.bodies[i], len) == 0);
	}
	pr_test_logout(client);
	g_socket_service_stop(service);
	g_socket_listener_close(G_SOCKET_LISTENER(service));
	g_assert_true(pr_store_destroy(store, &error));
	g_assert_no_error(error);
	g_rmdir(dir);
	for (guint i = 0; i < G_N_ELEMENTS(fake.bodies); i++)
		g_free(fake.bodies[i]);
}

gint
main(gint argc, gchar **argv)
{
	const struct {
		const gchar *name;
		PrSyncMethod method;
	} methods[] = {
		{ "plain", PR_SYNC_METHOD_PLAIN },
		{ "condstore", PR_SYNC_METHOD_CONDSTORE },
		{ "qresync", PR_SYNC_METHOD_QRESYNC },
	};

	g_test_init(&argc, &argv, NULL);
	/* no server needed: its own scripted one */
	g_test_add_func("/sync/uid-after-literal", test_uid_after_literal);
	if (g_getenv("PR_TEST_IMAPS_PORT") == NULL) {
		if (g_test_verbose() || argc > 1)
			g_test_message("the other cases need tests/servers/with-dovecot");
		return g_test_run();
	}
	env.host = pr_test_env("PR_TEST_IMAP_HOST");
	env.imaps_port = pr_test_env_port("PR_TEST_IMAPS_PORT");
	env.ca_file = pr_test_env("PR_TEST_CA_FILE");
	env.user = pr_test_env("PR_TEST_USER");
	env.password = pr_test_env("PR_TEST_PASSWORD");
	env.maildir = pr_test_env("PR_TEST_MAILDIR");
	env.conf = pr_test_env("PR_TEST_DOVECOT_CONF");

#define ADD(path, fn, data) g_test_add(path, Fixture, data, fixture_setup, fn, fixture_teardown)
	ADD("/sync/initial", test_initial, NULL);
	for (guint i = 0; i < G_N_ELEMENTS(methods); i++) {
		g_autofree gchar *resync = g_strdup_printf("/sync/resync/%s", methods[i].name);
		g_autofree gchar *trips = g_strdup_printf("/sync/round-trips/%s", methods[i].name);
		g_autofree gchar *seen = g_strdup_printf("/sync/seen/%s", methods[i].name);
		g_autofree gchar *inbox_new =
			g_strdup_printf("/sync/inbox-new/%s", methods[i].name);
		ADD(resync, test_resync, GINT_TO_POINTER(methods[i].method));
		ADD(trips, test_round_trips, GINT_TO_POINTER(methods[i].method));
		ADD(seen, test_seen, GINT_TO_POINTER(methods[i].method));
		ADD(inbox_new, test_inbox_new, GINT_TO_POINTER(methods[i].method));
	}
	ADD("/sync/round-trips/reconnect", test_round_trips_reconnect, NULL);
	ADD("/sync/uidvalidity", test_uidvalidity, NULL);
	ADD("/sync/limits", test_limits, NULL);
	ADD("/sync/search", test_search, NULL);
	ADD("/sync/folder-sync", test_folder_sync, NULL);
	ADD("/sync/subscriptions", test_subscriptions, NULL);
	ADD("/sync/bodies", test_bodies, NULL);
	ADD("/sync/cancel", test_cancel, NULL);
	ADD("/sync/bodies-cancel", test_bodies_cancel, NULL);
	ADD("/sync/bodies-selected", test_bodies_selected, NULL);
	ADD("/sync/vanished-folder", test_vanished_folder, NULL);
	ADD("/sync/folder-path", test_folder_path, NULL);
	ADD("/sync/seen-restart", test_seen_restart, NULL);
#undef ADD
	return g_test_run();
}
