/*
 * Copyright 2026 The Postroom developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <errno.h>
#include <fcntl.h>
#include <gio/gio.h>
#include <glib/gstdio.h>
#include <sqlite3.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "pr-error.h"
#include "pr-store-private.h"
#include "pr-store.h"

typedef struct {
	gchar *tmp; /* removed after the test */
	gchar *dir; /* the store, created by pr_store_new inside tmp */
	PrStore *store;
} Fixture;

/* What the store's test hook saw, as "event@main" or "event@worker": which thread did the
 * slow work. */
static GThread *main_thread;
static GMutex events_lock;
static GPtrArray *events;

static void
record_event(const gchar *event)
{
	g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&events_lock);
	g_ptr_array_add(events,
			g_strdup_printf("%s@%s",
					event,
					g_thread_self() == main_thread ? "main" : "worker"));
}

/* The events so far, space-joined; forgets them. */
static gchar *
take_events(void)
{
	g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&events_lock);
	g_autoptr(GString) str = g_string_new(NULL);

	for (guint i = 0; i < events->len; i++) {
		if (i > 0)
			g_string_append_c(str, ' ');
		g_string_append(str, g_ptr_array_index(events, i));
	}
	g_ptr_array_set_size(events, 0);
	return g_strdup(str->str);
}

static void
rm_rf(const gchar *path)
{
	GStatBuf st;

	if (g_lstat(path, &st) != 0)
		return;
	if (S_ISDIR(st.st_mode)) {
		g_autoptr(GDir) dir = g_dir_open(path, 0, NULL);
		const gchar *name;
		while (dir != NULL && (name = g_dir_read_name(dir)) != NULL) {
			g_autofree gchar *child = g_build_filename(path, name, NULL);
			rm_rf(child);
		}
		g_rmdir(path);
	} else {
		g_unlink(path);
	}
}

static void
fixture_setup(Fixture *fx, gconstpointer user_data)
{
	g_autoptr(GError) error = NULL;

	fx->tmp = g_dir_make_tmp("postroom-store-XXXXXX", &error);
	g_assert_no_error(error);
	fx->dir = g_build_filename(fx->tmp, "account", NULL);
	fx->store = pr_store_new(fx->dir, &error);
	g_assert_no_error(error);
	g_assert_nonnull(fx->store);
}

static void
fixture_teardown(Fixture *fx, gconstpointer user_data)
{
	g_clear_object(&fx->store);
	rm_rf(fx->tmp);
	g_free(fx->tmp);
	g_free(fx->dir);
}

static void
fixture_reopen(Fixture *fx)
{
	g_autoptr(GError) error = NULL;

	g_clear_object(&fx->store);
	fx->store = pr_store_new(fx->dir, &error);
	g_assert_no_error(error);
	g_assert_nonnull(fx->store);
}

/* Runs SQL on the closed store's database behind its back; returns the first column. */
static gint64
db_query_full(const gchar *dir, const gchar *sql, gchar **text)
{
	g_autofree gchar *path = g_build_filename(dir, "store.db", NULL);
	sqlite3 *db = NULL;
	sqlite3_stmt *stmt = NULL;
	gint64 value = -1;

	g_assert_cmpint(sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL), ==, SQLITE_OK);
	g_assert_cmpint(sqlite3_prepare_v2(db, sql, -1, &stmt, NULL), ==, SQLITE_OK);
	if (sqlite3_step(stmt) == SQLITE_ROW) {
		value = sqlite3_column_int64(stmt, 0);
		if (text != NULL)
			*text = g_strdup((const gchar *)sqlite3_column_text(stmt, 0));
	}
	sqlite3_finalize(stmt);
	g_assert_cmpint(sqlite3_close(db), ==, SQLITE_OK);
	return value;
}

static gint64
db_query(const gchar *dir, const gchar *sql)
{
	return db_query_full(dir, sql, NULL);
}

static gint64
add_folder(PrStore *store, const gchar *name, const gchar *raw_name)
{
	g_autoptr(PrStoreFolder) folder = pr_store_folder_new();
	g_autoptr(GError) error = NULL;

	folder->name = g_strdup(name);
	folder->raw_name = g_strdup(raw_name);
	folder->delimiter = '/';
	folder->subscribed = TRUE;
	g_assert_true(pr_store_save_folder(store, folder, &error));
	g_assert_no_error(error);
	g_assert_cmpint(folder->id, >, 0);
	return folder->id;
}

static PrStoreMessage *
make_message(gint64 folder_id, guint32 uid, const gchar *flags)
{
	PrStoreMessage *message = pr_store_message_new();

	message->folder_id = folder_id;
	message->uid = uid;
	message->flags = g_strsplit(flags, " ", -1);
	message->subject = g_strdup_printf("Message %u", uid);
	message->from = g_strdup("Alice <alice@example.org>");
	message->size = 1000 + uid;
	message->internal_date = 1700000000 + uid;
	return message;
}

static guint64
add_message(PrStore *store, gint64 folder_id, guint32 uid, const gchar *flags)
{
	g_autoptr(PrStoreMessage) message = make_message(folder_id, uid, flags);
	g_autoptr(GError) error = NULL;

	g_assert_true(pr_store_save_message(store, message, &error));
	g_assert_no_error(error);
	g_assert_cmpuint(message->id, >, 0);
	return message->id;
}

static void
write_body(PrStore *store, guint64 id, const gchar *data, PrStoreDownload download)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GOutputStream) stream = pr_store_body_begin(store, id, &error);

	g_assert_no_error(error);
	g_assert_nonnull(stream);
	g_assert_true(g_output_stream_write_all(stream, data, strlen(data), NULL, NULL, &error));
	g_assert_no_error(error);
	g_assert_true(pr_store_body_commit(store, id, stream, download, &error));
	g_assert_no_error(error);
}

static GBytes *
read_fd(gint fd)
{
	g_autoptr(GByteArray) bytes = g_byte_array_new();
	guint8 buf[4096];
	gssize n;

	while ((n = read(fd, buf, sizeof(buf))) > 0)
		g_byte_array_append(bytes, buf, (guint)n);
	g_assert_cmpint(n, ==, 0);
	return g_byte_array_free_to_bytes(g_steal_pointer(&bytes));
}

static gchar *
bucket_path(Fixture *fx, guint64 id)
{
	return g_strdup_printf("%s/messages/%02x", fx->dir, (guint)(id % 256));
}

static guint
count_entries(const gchar *path)
{
	g_autoptr(GDir) dir = g_dir_open(path, 0, NULL);
	guint n = 0;

	while (dir != NULL && g_dir_read_name(dir) != NULL)
		n++;
	return n;
}

static gchar *
flags_string(PrStoreMessage *message)
{
	return g_strjoinv(" ", message->flags);
}

static gint
cmp_guint64(gconstpointer a, gconstpointer b)
{
	guint64 x = *(const guint64 *)a;
	guint64 y = *(const guint64 *)b;
	return x < y ? -1 : x > y ? 1 : 0;
}

static guint
file_mode(const gchar *path)
{
	GStatBuf st;
	g_assert_cmpint(g_lstat(path, &st), ==, 0);
	return st.st_mode & 07777;
}

/* Folders whose kept counts differ from the rows (read behind the store's back: WAL lets
 * a second connection read while the store is open). */
static gint64
count_inconsistent_folders(const gchar *dir)
{
	return db_query(dir,
			"SELECT COUNT(*) FROM folders f WHERE f.message_count <> "
			"(SELECT COUNT(*) FROM messages m WHERE m.folder_id = f.id) OR "
			"f.unseen_count <> (SELECT COUNT(*) FROM messages m "
			"WHERE m.folder_id = f.id AND m.seen = 0)");
}

#define assert_counts_consistent(fx) g_assert_cmpint(count_inconsistent_folders((fx)->dir), ==, 0)

static void
assert_counts(PrStore *store, gint64 folder_id, guint32 messages, guint32 unseen)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(PrStoreFolder) folder = pr_store_get_folder_by_id(store, folder_id, &error);

	g_assert_no_error(error);
	g_assert_cmpuint(folder->messages, ==, messages);
	g_assert_cmpuint(folder->unseen, ==, unseen);
}

/* Tests -------------------------------------------------------------------------------- */

static void
test_store_create(Fixture *fx, gconstpointer user_data)
{
	g_autoptr(GPtrArray) folders = NULL;
	g_autoptr(GError) error = NULL;
	g_autofree gchar *db = g_build_filename(fx->dir, "store.db", NULL);
	g_autofree gchar *messages = g_build_filename(fx->dir, "messages", NULL);
	const gchar *names[] = { "local:Drafts", "local:Outbox", "local:Sent" };

	g_assert_cmpstr(pr_store_get_directory(fx->store), ==, fx->dir);
	g_assert_cmpuint(pr_store_get_change_counter(fx->store), ==, 0);
	folders = pr_store_list_folders(fx->store, &error);
	g_assert_no_error(error);
	g_assert_cmpuint(folders->len, ==, 3);
	for (guint i = 0; i < folders->len; i++) {
		PrStoreFolder *folder = g_ptr_array_index(folders, i);
		g_assert_cmpstr(folder->name, ==, names[i]);
		g_assert_null(folder->raw_name);
		g_assert_true(folder->local);
		g_assert_true(folder->subscribed);
		g_assert_cmpuint(folder->messages, ==, 0);
		g_assert_cmpuint(folder->unseen, ==, 0);
		g_assert_nonnull(folder->attributes);
		g_assert_null(folder->attributes[0]);
	}

	/* private: 0700 directories, 0600 database */
	g_assert_cmpuint(file_mode(fx->dir), ==, 0700);
	g_assert_cmpuint(file_mode(messages), ==, 0700);
	g_assert_cmpuint(file_mode(db), ==, 0600);
	{
		g_autofree gchar *wal = g_strconcat(db, "-wal", NULL);
		g_autofree gchar *shm = g_strconcat(db, "-shm", NULL);
		g_assert_cmpuint(file_mode(wal), ==, 0600);
		g_assert_cmpuint(file_mode(shm), ==, 0600);
	}

	g_clear_object(&fx->store);
	g_assert_cmpint(db_query(fx->dir, "PRAGMA user_version"), ==, 3);
	g_assert_cmpint(db_query(fx->dir, "SELECT COUNT(*) FROM folders"), ==, 3);
}

static void
test_store_reopen(Fixture *fx, gconstpointer user_data)
{
	g_autoptr(PrStoreFolder) folder = pr_store_folder_new();
	g_autoptr(PrStoreFolder) back = NULL;
	g_autoptr(PrStoreFolder) sent = NULL;
	g_autoptr(PrStoreMessage) message = NULL;
	g_autoptr(GError) error = NULL;
	g_autofree gchar *journal_mode = NULL;
	const gchar *attributes[] = { "\\HasChildren", "\\Subscribed", NULL };
	guint64 id;
	guint64 counter;

	folder->name = g_strdup("Lists/GLib");
	folder->raw_name = g_strdup("Lists.GLib");
	folder->delimiter = '.';
	folder->attributes = g_strdupv((gchar **)attributes);
	folder->special_use = g_strdup("\\Archive");
	folder->remote_subscribed = TRUE;
	folder->uidvalidity = 4000000000u;
	folder->uidnext = 321;
	folder->highestmodseq = G_GUINT64_CONSTANT(9000000000000000000);
	folder->last_sync = 1700000123;
	g_assert_true(pr_store_save_folder(fx->store, folder, &error));
	g_assert_no_error(error);
	id = add_message(fx->store, folder->id, 7, "\\Seen");
	sent = pr_store_get_folder(fx->store, "local:Sent", &error);
	g_assert_no_error(error);
	g_assert_true(pr_store_delete_folder(fx->store, sent->id, &error));
	g_assert_no_error(error);
	counter = pr_store_get_change_counter(fx->store);
	g_assert_cmpuint(counter, ==, 1);

	fixture_reopen(fx);

	back = pr_store_get_folder_by_id(fx->store, folder->id, &error);
	g_assert_no_error(error);
	g_assert_cmpstr(back->name, ==, "Lists/GLib");
	g_assert_cmpstr(back->raw_name, ==, "Lists.GLib");
	g_assert_cmpint(back->delimiter, ==, '.');
	g_assert_cmpstrv(back->attributes, attributes);
	g_assert_cmpstr(back->special_use, ==, "\\Archive");
	g_assert_false(back->subscribed);
	g_assert_true(back->remote_subscribed);
	g_assert_false(back->local);
	g_assert_cmpuint(back->uidvalidity, ==, 4000000000u);
	g_assert_cmpuint(back->uidnext, ==, 321);
	g_assert_cmpuint(back->highestmodseq, ==, G_GUINT64_CONSTANT(9000000000000000000));
	g_assert_cmpint(back->last_sync, ==, 1700000123);
	g_assert_cmpuint(back->messages, ==, 1);
	g_assert_cmpuint(back->unseen, ==, 0);
	message = pr_store_get_message(fx->store, id, &error);
	g_assert_no_error(error);
	g_assert_cmpuint(message->uid, ==, 7);
	g_assert_cmpuint(pr_store_get_change_counter(fx->store), ==, counter);

	/* the migration ran once: the deleted local folder stays deleted */
	g_assert_null(pr_store_get_folder(fx->store, "local:Sent", &error));
	g_assert_error(error, PR_ERROR, PR_ERROR_NOT_FOUND);
	g_clear_object(&fx->store);
	g_assert_cmpint(db_query(fx->dir, "PRAGMA user_version"), ==, 3);
	db_query_full(fx->dir, "PRAGMA journal_mode", &journal_mode);
	g_assert_cmpstr(journal_mode, ==, "wal");
	g_assert_cmpint(
		db_query(fx->dir, "SELECT value FROM meta WHERE key = 'change-counter'"), ==, 1);
}

static void
test_store_schema_newer(Fixture *fx, gconstpointer user_data)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(PrStore) store = NULL;

	g_clear_object(&fx->store);
	db_query(fx->dir, "PRAGMA user_version = 99");
	store = pr_store_new(fx->dir, &error);
	g_assert_error(error, PR_ERROR, PR_ERROR_STORE_FAILED);
	g_assert_null(store);
	g_assert_cmpint(db_query(fx->dir, "PRAGMA user_version"), ==, 99);
}

static void
test_store_folders(Fixture *fx, gconstpointer user_data)
{
	g_autoptr(PrStoreFolder) folder = NULL;
	g_autoptr(PrStoreFolder) dup = pr_store_folder_new();
	g_autoptr(PrStoreFolder) ghost = pr_store_folder_new();
	g_autoptr(GPtrArray) folders = NULL;
	g_autoptr(GError) error = NULL;
	gint64 inbox = add_folder(fx->store, "INBOX", "INBOX");
	gint64 archive = add_folder(fx->store, "Archive", "Archive");

	g_assert_cmpint(archive, >, inbox);
	folders = pr_store_list_folders(fx->store, &error);
	g_assert_no_error(error);
	g_assert_cmpuint(folders->len, ==, 5);
	g_assert_cmpstr(((PrStoreFolder *)g_ptr_array_index(folders, 0))->name, ==, "Archive");
	g_assert_cmpstr(((PrStoreFolder *)g_ptr_array_index(folders, 1))->name, ==, "INBOX");
	g_assert_cmpstr(((PrStoreFolder *)g_ptr_array_index(folders, 2))->name, ==, "local:Drafts");

	/* update by id */
	folder = pr_store_get_folder(fx->store, "INBOX", &error);
	g_assert_no_error(error);
	g_assert_cmpint(folder->id, ==, inbox);
	g_assert_cmpint(folder->delimiter, ==, '/');
	folder->subscribed = FALSE;
	folder->uidnext = 55;
	g_assert_true(pr_store_save_folder(fx->store, folder, &error));
	g_assert_no_error(error);
	g_clear_pointer(&folder, pr_store_folder_free);
	folder = pr_store_get_folder_by_id(fx->store, inbox, &error);
	g_assert_no_error(error);
	g_assert_false(folder->subscribed);
	g_assert_cmpuint(folder->uidnext, ==, 55);

	/* names are unique */
	dup->name = g_strdup("Archive");
	g_assert_false(pr_store_save_folder(fx->store, dup, &error));
	g_assert_error(error, PR_ERROR, PR_ERROR_INVALID_ARGUMENT);
	g_clear_error(&error);
	g_assert_cmpint(dup->id, ==, 0);

	/* unknown */
	g_assert_null(pr_store_get_folder(fx->store, "Nope", &error));
	g_assert_error(error, PR_ERROR, PR_ERROR_NOT_FOUND);
	g_assert_cmpstr(error->message, ==, "No folder named “Nope”");
	g_clear_error(&error);
	g_assert_null(pr_store_get_folder_by_id(fx->store, 999, &error));
	g_assert_error(error, PR_ERROR, PR_ERROR_NOT_FOUND);
	g_clear_error(&error);
	ghost->id = 999;
	ghost->name = g_strdup("Ghost");
	g_assert_false(pr_store_save_folder(fx->store, ghost, &error));
	g_assert_error(error, PR_ERROR, PR_ERROR_NOT_FOUND);
	g_clear_error(&error);
	g_assert_false(pr_store_delete_folder(fx->store, 999, &error));
	g_assert_error(error, PR_ERROR, PR_ERROR_NOT_FOUND);
}

static void
assert_folder(PrStore *store, gint64 id, const gchar *name, const gchar *raw_name)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(PrStoreFolder) folder = pr_store_get_folder_by_id(store, id, &error);

	g_assert_no_error(error);
	g_assert_cmpstr(folder->name, ==, name);
	g_assert_cmpstr(folder->raw_name, ==, raw_name);
}

static void
test_store_rename(Fixture *fx, gconstpointer user_data)
{
	g_autoptr(GError) error = NULL;
	gint64 a = add_folder(fx->store, "A", "A");
	gint64 ab = add_folder(fx->store, "A/B", "A/B");
	gint64 abc = add_folder(fx->store, "A/B/C", "A/B/C");
	gint64 sibling = add_folder(fx->store, "AB", "AB");
	gint64 other = add_folder(fx->store, "Other", "Other");

	g_assert_true(pr_store_rename_folder(fx->store, "A", "Zürich", "Z&APw-rich", '/', &error));
	g_assert_no_error(error);
	assert_folder(fx->store, a, "Zürich", "Z&APw-rich");
	assert_folder(fx->store, ab, "Zürich/B", "Z&APw-rich/B");
	assert_folder(fx->store, abc, "Zürich/B/C", "Z&APw-rich/B/C");
	assert_folder(fx->store, sibling, "AB", "AB");
	assert_folder(fx->store, other, "Other", "Other");

	/* into its own subtree: the names it passes through are its own */
	g_assert_true(pr_store_rename_folder(fx->store, "Zürich", "Zürich/B", "ZB", '/', &error));
	g_assert_no_error(error);
	assert_folder(fx->store, a, "Zürich/B", "ZB");
	assert_folder(fx->store, ab, "Zürich/B/B", "ZB/B");
	assert_folder(fx->store, abc, "Zürich/B/B/C", "ZB/B/C");

	/* onto an existing folder: refused, nothing changed */
	g_assert_false(
		pr_store_rename_folder(fx->store, "Zürich/B", "Other", "Other", '/', &error));
	g_assert_error(error, PR_ERROR, PR_ERROR_INVALID_ARGUMENT);
	g_clear_error(&error);
	assert_folder(fx->store, a, "Zürich/B", "ZB");
	assert_folder(fx->store, abc, "Zürich/B/B/C", "ZB/B/C");

	/* a child's new name taken by an unrelated folder */
	add_folder(fx->store, "New/B", "New/B");
	g_assert_false(pr_store_rename_folder(fx->store, "Zürich/B", "New", "New", '/', &error));
	g_assert_error(error, PR_ERROR, PR_ERROR_INVALID_ARGUMENT);
	g_clear_error(&error);
	assert_folder(fx->store, ab, "Zürich/B/B", "ZB/B");

	g_assert_false(pr_store_rename_folder(fx->store, "Nope", "X", "X", '/', &error));
	g_assert_error(error, PR_ERROR, PR_ERROR_NOT_FOUND);
	g_clear_error(&error);

	/* no delimiter: the folder alone */
	g_assert_true(pr_store_rename_folder(fx->store, "Zürich/B", "Flat", "Flat", 0, &error));
	g_assert_no_error(error);
	assert_folder(fx->store, a, "Flat", "Flat");
	assert_folder(fx->store, ab, "Zürich/B/B", "ZB/B");
}

static void
test_store_delete_folder(Fixture *fx, gconstpointer user_data)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(PrStoreMessage) kept = NULL;
	g_autoptr(PrStoreMessage) gone = NULL;
	g_autoptr(PrStoreFolder) folder = NULL;
	gint64 doomed = add_folder(fx->store, "Doomed", "Doomed");
	gint64 inbox = add_folder(fx->store, "INBOX", "INBOX");
	guint64 m1 = add_message(fx->store, doomed, 1, "");
	guint64 m2 = add_message(fx->store, doomed, 2, "");
	guint64 m3 = add_message(fx->store, inbox, 1, "");
	g_autofree gchar *p1 = pr_store_get_body_path(fx->store, m1);
	g_autofree gchar *p2 = pr_store_get_body_path(fx->store, m2);
	g_autofree gchar *p3 = pr_store_get_body_path(fx->store, m3);
	guint64 counter;

	write_body(fx->store, m1, "one", PR_STORE_DOWNLOAD_COMPLETE);
	write_body(fx->store, m3, "three", PR_STORE_DOWNLOAD_COMPLETE);
	g_assert_true(g_file_test(p1, G_FILE_TEST_IS_REGULAR));
	counter = pr_store_get_change_counter(fx->store);

	g_assert_true(pr_store_delete_folder(fx->store, doomed, &error));
	g_assert_no_error(error);
	g_assert_cmpuint(pr_store_get_change_counter(fx->store), ==, counter + 1);
	folder = pr_store_get_folder(fx->store, "Doomed", &error);
	g_assert_error(error, PR_ERROR, PR_ERROR_NOT_FOUND);
	g_clear_error(&error);
	gone = pr_store_get_message(fx->store, m2, &error);
	g_assert_error(error, PR_ERROR, PR_ERROR_NOT_FOUND);
	g_clear_error(&error);
	g_assert_false(g_file_test(p1, G_FILE_TEST_EXISTS));
	g_assert_false(g_file_test(p2, G_FILE_TEST_EXISTS));

	/* the other folder is untouched */
	kept = pr_store_get_message(fx->store, m3, &error);
	g_assert_no_error(error);
	g_assert_cmpint(kept->folder_id, ==, inbox);
	g_assert_true(g_file_test(p3, G_FILE_TEST_IS_REGULAR));
	g_clear_object(&fx->store);
	g_assert_cmpint(db_query(fx->dir, "SELECT COUNT(*) FROM messages"), ==, 1);
}

static void
test_store_message_save(Fixture *fx, gconstpointer user_data)
{
	g_autoptr(PrStoreMessage) message = pr_store_message_new();
	g_autoptr(PrStoreMessage) back = NULL;
	g_autoptr(PrStoreMessage) again = NULL;
	g_autoptr(PrStoreMessage) same = NULL;
	g_autoptr(PrStoreMessage) check = NULL;
	g_autoptr(GError) error = NULL;
	g_autofree gchar *flags = NULL;
	const gchar *in_flags[] = { "\\seen", "$Label",	  "\\FLAGGED", "\\Seen", "\\Recent",
				    "$label", "bad flag", "",	       NULL };
	const gchar *to[] = { "Bob <bob@example.org>", "carol@example.org", NULL };
	const gchar *cc[] = { "dave@example.org", NULL };
	const gchar *empty[] = { NULL };
	gint64 inbox = add_folder(fx->store, "INBOX", "INBOX");
	guint64 id;

	message->folder_id = inbox;
	message->uid = 42;
	message->modseq = 77;
	message->flags = g_strdupv((gchar **)in_flags);
	message->internal_date = 1700000000;
	message->size = 12345;
	message->subject = g_strdup("Hello \xff world");
	message->from = g_strdup("Alice <alice@example.org>");
	message->to = g_strdupv((gchar **)to);
	message->cc = g_strdupv((gchar **)cc);
	message->date = 1699999999;
	message->message_id = g_strdup("<m1@example.org>");
	message->in_reply_to = g_strdup("<m0@example.org>");
	message->has_attachments = TRUE;
	message->bodystructure = g_strdup("(\"TEXT\" \"PLAIN\" NIL NIL NIL \"7BIT\" 5 1)");
	g_assert_true(pr_store_save_message(fx->store, message, &error));
	g_assert_no_error(error);
	id = message->id;
	g_assert_cmpuint(id, >, 0);
	g_assert_cmpuint(message->changed, ==, 1);
	g_assert_cmpuint(pr_store_get_change_counter(fx->store), ==, 1);

	back = pr_store_get_message(fx->store, id, &error);
	g_assert_no_error(error);
	g_assert_cmpuint(back->id, ==, id);
	g_assert_cmpint(back->folder_id, ==, inbox);
	g_assert_cmpstr(back->folder, ==, "INBOX");
	g_assert_cmpuint(back->uid, ==, 42);
	g_assert_cmpuint(back->modseq, ==, 77);
	flags = flags_string(back);
	g_assert_cmpstr(flags, ==, "$Label \\Flagged \\Seen");
	g_assert_true(pr_store_message_has_flag(back, "\\SEEN"));
	g_assert_false(pr_store_message_has_flag(back, "\\Recent"));
	g_assert_cmpint(back->internal_date, ==, 1700000000);
	g_assert_cmpuint(back->size, ==, 12345);
	g_assert_cmpstr(back->subject, ==, "Hello \xef\xbf\xbd world");
	g_assert_cmpstr(back->from, ==, "Alice <alice@example.org>");
	g_assert_cmpstrv(back->to, to);
	g_assert_cmpstrv(back->cc, cc);
	g_assert_cmpint(back->date, ==, 1699999999);
	g_assert_cmpstr(back->message_id, ==, "<m1@example.org>");
	g_assert_cmpstr(back->in_reply_to, ==, "<m0@example.org>");
	g_assert_true(back->has_attachments);
	g_assert_cmpstr(back->bodystructure, ==, "(\"TEXT\" \"PLAIN\" NIL NIL NIL \"7BIT\" 5 1)");
	g_assert_cmpint(back->download, ==, PR_STORE_DOWNLOAD_HEADERS);
	g_assert_null(back->pending);
	g_assert_cmpuint(back->changed, ==, 1);

	/* a body arrives; then the same UID is saved again from a fresh envelope */
	write_body(fx->store, id, "x", PR_STORE_DOWNLOAD_COMPLETE);
	g_assert_cmpuint(pr_store_get_change_counter(fx->store), ==, 2);
	again = make_message(inbox, 42, "\\Seen");
	g_free(again->subject);
	again->subject = g_strdup("Changed");
	g_assert_true(pr_store_save_message(fx->store, again, &error));
	g_assert_no_error(error);
	g_assert_cmpuint(again->id, ==, id);
	g_assert_cmpuint(again->changed, ==, 3);
	g_assert_cmpuint(pr_store_get_change_counter(fx->store), ==, 3);
	check = pr_store_get_message_by_uid(fx->store, inbox, 42, &error);
	g_assert_no_error(error);
	g_assert_cmpuint(check->id, ==, id);
	g_assert_cmpstr(check->subject, ==, "Changed");
	g_assert_cmpstrv(check->to, empty);
	/* the upsert keeps the download state the body writer set */
	g_assert_cmpint(check->download, ==, PR_STORE_DOWNLOAD_COMPLETE);

	/* an identical save changes nothing */
	same = make_message(inbox, 42, "\\Seen");
	g_free(same->subject);
	same->subject = g_strdup("Changed");
	g_assert_true(pr_store_save_message(fx->store, same, &error));
	g_assert_no_error(error);
	g_assert_cmpuint(same->id, ==, id);
	g_assert_cmpuint(same->changed, ==, 3);
	g_assert_cmpuint(pr_store_get_change_counter(fx->store), ==, 3);

	/* unknown folder, unknown id */
	same->id = 0;
	same->folder_id = 999;
	g_assert_false(pr_store_save_message(fx->store, same, &error));
	g_assert_error(error, PR_ERROR, PR_ERROR_NOT_FOUND);
	g_clear_error(&error);
	same->id = 12345;
	same->folder_id = inbox;
	g_assert_false(pr_store_save_message(fx->store, same, &error));
	g_assert_error(error, PR_ERROR, PR_ERROR_NOT_FOUND);
	g_assert_cmpstr(error->message, ==, "No message with id 12345");
	g_clear_error(&error);
	g_clear_pointer(&check, pr_store_message_free);
	check = pr_store_get_message_by_uid(fx->store, inbox, 43, &error);
	g_assert_error(error, PR_ERROR, PR_ERROR_NOT_FOUND);
	g_assert_cmpuint(pr_store_get_change_counter(fx->store), ==, 3);
}

static void
test_store_message_move(Fixture *fx, gconstpointer user_data)
{
	g_autoptr(PrStoreMessage) message = NULL;
	g_autoptr(GArray) removed = NULL;
	g_autoptr(GError) error = NULL;
	gint64 inbox = add_folder(fx->store, "INBOX", "INBOX");
	gint64 drafts = 0;
	guint64 id = add_message(fx->store, inbox, 5, "");
	guint64 before = pr_store_get_change_counter(fx->store);

	{
		g_autoptr(PrStoreFolder) folder =
			pr_store_get_folder(fx->store, "local:Drafts", &error);
		g_assert_no_error(error);
		drafts = folder->id;
	}

	/* an update by id moves it (offline move) and keeps its id */
	message = pr_store_get_message(fx->store, id, &error);
	g_assert_no_error(error);
	message->folder_id = drafts;
	message->uid = 0;
	g_free(message->pending);
	message->pending = g_strdup("move");
	g_assert_true(pr_store_save_message(fx->store, message, &error));
	g_assert_no_error(error);
	g_assert_cmpuint(message->id, ==, id);
	g_assert_cmpuint(message->changed, ==, before + 1);
	g_clear_pointer(&message, pr_store_message_free);
	message = pr_store_get_message(fx->store, id, &error);
	g_assert_no_error(error);
	g_assert_cmpstr(message->folder, ==, "local:Drafts");
	g_assert_cmpuint(message->uid, ==, 0);
	g_assert_cmpstr(message->pending, ==, "move");

	removed = pr_store_get_removed_since(fx->store, inbox, before, &error);
	g_assert_no_error(error);
	g_assert_cmpuint(removed->len, ==, 1);
	g_assert_cmpuint(g_array_index(removed, guint64, 0), ==, id);
	g_clear_pointer(&removed, g_array_unref);

	/* and back: no longer reported as gone from INBOX */
	message->folder_id = inbox;
	message->uid = 5;
	g_assert_true(pr_store_save_message(fx->store, message, &error));
	g_assert_no_error(error);
	removed = pr_store_get_removed_since(fx->store, inbox, before, &error);
	g_assert_no_error(error);
	g_assert_cmpuint(removed->len, ==, 0);
	g_clear_pointer(&removed, g_array_unref);
	removed = pr_store_get_removed_since(fx->store, drafts, before, &error);
	g_assert_no_error(error);
	g_assert_cmpuint(removed->len, ==, 1);
}

static void
test_store_ids_never_reused(Fixture *fx, gconstpointer user_data)
{
	g_autoptr(GError) error = NULL;
	gint64 inbox = add_folder(fx->store, "INBOX", "INBOX");
	guint64 first = add_message(fx->store, inbox, 1, "");
	guint64 second;
	guint64 third;

	g_assert_true(pr_store_remove_message(fx->store, first, &error));
	g_assert_no_error(error);
	second = add_message(fx->store, inbox, 1, "");
	g_assert_cmpuint(second, >, first);

	/* not even the highest id after a reopen */
	g_assert_true(pr_store_remove_message(fx->store, second, &error));
	g_assert_no_error(error);
	fixture_reopen(fx);
	third = add_message(fx->store, inbox, 1, "");
	g_assert_cmpuint(third, >, second);
}

static void
test_store_flags(Fixture *fx, gconstpointer user_data)
{
	g_autoptr(PrStoreMessage) message = NULL;
	g_autoptr(PrStoreFolder) folder = NULL;
	g_autoptr(GError) error = NULL;
	g_autofree gchar *flags = NULL;
	const gchar *same[] = { "\\SEEN", "$Work", NULL };
	const gchar *unseen[] = { "$Work", "\\Answered", NULL };
	gint64 inbox = add_folder(fx->store, "INBOX", "INBOX");
	guint64 id = add_message(fx->store, inbox, 9, "$Work \\Seen");
	guint64 counter = pr_store_get_change_counter(fx->store);
	guint64 got = 1;

	/* same flags, other spelling and order: no change, but the modseq is taken */
	g_assert_true(pr_store_set_flags_by_uid(fx->store, inbox, 9, same, 500, &got, &error));
	g_assert_no_error(error);
	g_assert_cmpuint(got, ==, id);
	g_assert_cmpuint(pr_store_get_change_counter(fx->store), ==, counter);
	message = pr_store_get_message(fx->store, id, &error);
	g_assert_no_error(error);
	g_assert_cmpuint(message->modseq, ==, 500);
	g_assert_cmpuint(message->changed, ==, counter);
	g_clear_pointer(&message, pr_store_message_free);

	/* a real change */
	g_assert_true(pr_store_set_flags_by_uid(fx->store, inbox, 9, unseen, 0, &got, &error));
	g_assert_no_error(error);
	g_assert_cmpuint(pr_store_get_change_counter(fx->store), ==, counter + 1);
	message = pr_store_get_message(fx->store, id, &error);
	g_assert_no_error(error);
	flags = flags_string(message);
	g_assert_cmpstr(flags, ==, "$Work \\Answered");
	g_assert_cmpuint(message->modseq, ==, 500);
	g_assert_cmpuint(message->changed, ==, counter + 1);
	folder = pr_store_get_folder_by_id(fx->store, inbox, &error);
	g_assert_no_error(error);
	g_assert_cmpuint(folder->unseen, ==, 1);

	/* no such UID: not an error */
	g_assert_true(pr_store_set_flags_by_uid(fx->store, inbox, 10, same, 0, &got, &error));
	g_assert_no_error(error);
	g_assert_cmpuint(got, ==, 0);
	g_assert_false(pr_store_set_flags_by_uid(fx->store, 999, 9, same, 0, &got, &error));
	g_assert_error(error, PR_ERROR, PR_ERROR_NOT_FOUND);
	g_clear_error(&error);

	/* by id */
	g_assert_true(pr_store_set_flags(fx->store, id, same, &error));
	g_assert_no_error(error);
	g_assert_cmpuint(pr_store_get_change_counter(fx->store), ==, counter + 2);
	g_assert_true(pr_store_set_flags(fx->store, id, same, &error));
	g_assert_no_error(error);
	g_assert_cmpuint(pr_store_get_change_counter(fx->store), ==, counter + 2);
	g_assert_false(pr_store_set_flags(fx->store, id + 100, same, &error));
	g_assert_error(error, PR_ERROR, PR_ERROR_NOT_FOUND);
}

/* The folder's UIDs from @min_uid up, as the store lists them, equal @want ("1 3 5"). */
static void
assert_folder_uids(PrStore *store, gint64 folder, guint32 min_uid, const gchar *want)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GArray) uids = pr_store_get_uids(store, folder, min_uid, &error);
	g_autoptr(GString) got = g_string_new(NULL);

	g_assert_no_error(error);
	g_assert_nonnull(uids);
	for (guint i = 0; i < uids->len; i++)
		g_string_append_printf(
			got, "%s%u", i > 0 ? " " : "", g_array_index(uids, guint32, i));
	g_assert_cmpstr(got->str, ==, want);
}

static void
test_store_uids(Fixture *fx, gconstpointer user_data)
{
	g_autoptr(GArray) uids = NULL;
	g_autoptr(GHashTable) flags = NULL;
	g_autoptr(GError) error = NULL;
	gint64 inbox = add_folder(fx->store, "INBOX", "INBOX");
	gint64 other = add_folder(fx->store, "Other", "Other");

	add_message(fx->store, inbox, 5, "\\Seen \\Flagged");
	add_message(fx->store, inbox, 1, "");
	add_message(fx->store, inbox, 3, "$Junk");
	add_message(fx->store, inbox, 0, "\\Draft"); /* a local message: no UID */
	add_message(fx->store, other, 2, "");

	assert_folder_uids(fx->store, inbox, 0, "1 3 5");
	/* from a UID up: what a sync asks when only new UIDs are to be told apart */
	assert_folder_uids(fx->store, inbox, 3, "3 5");
	assert_folder_uids(fx->store, inbox, 6, "");

	flags = pr_store_get_uid_flags(fx->store, inbox, &error);
	g_assert_no_error(error);
	g_assert_cmpuint(g_hash_table_size(flags), ==, 3);
	g_assert_cmpstr(g_hash_table_lookup(flags, GUINT_TO_POINTER(5)), ==, "\\Flagged \\Seen");
	g_assert_cmpstr(g_hash_table_lookup(flags, GUINT_TO_POINTER(1)), ==, "");
	g_assert_cmpstr(g_hash_table_lookup(flags, GUINT_TO_POINTER(3)), ==, "$Junk");

	g_clear_pointer(&uids, g_array_unref);
	uids = pr_store_get_uids(fx->store, 999, 0, &error);
	g_assert_error(error, PR_ERROR, PR_ERROR_NOT_FOUND);
	g_assert_null(uids);
}

static void
test_store_remove(Fixture *fx, gconstpointer user_data)
{
	g_autoptr(GArray) removed = g_array_new(FALSE, FALSE, sizeof(guint64));
	g_autoptr(GArray) uids = NULL;
	g_autoptr(GError) error = NULL;
	g_autoptr(PrStoreMessage) gone = NULL;
	gint64 inbox = add_folder(fx->store, "INBOX", "INBOX");
	guint64 m1 = add_message(fx->store, inbox, 1, "");
	guint64 m3 = add_message(fx->store, inbox, 3, "");
	guint64 m5 = add_message(fx->store, inbox, 5, "");
	guint64 m7 = add_message(fx->store, inbox, 7, "");
	g_autofree gchar *p3 = pr_store_get_body_path(fx->store, m3);
	g_autofree gchar *p5 = pr_store_get_body_path(fx->store, m5);
	const guint32 doomed[] = { 3, 99 };
	guint64 counter;

	write_body(fx->store, m3, "three", PR_STORE_DOWNLOAD_COMPLETE);
	write_body(fx->store, m5, "five", PR_STORE_DOWNLOAD_PARTIAL);
	counter = pr_store_get_change_counter(fx->store);

	g_assert_true(pr_store_remove_uids(fx->store, inbox, doomed, 2, removed, &error));
	g_assert_no_error(error);
	g_assert_cmpuint(removed->len, ==, 1);
	g_assert_cmpuint(g_array_index(removed, guint64, 0), ==, m3);
	g_assert_false(g_file_test(p3, G_FILE_TEST_EXISTS));
	g_assert_cmpuint(pr_store_get_change_counter(fx->store), ==, counter + 1);
	uids = pr_store_get_uids(fx->store, inbox, 0, &error);
	g_assert_no_error(error);
	g_assert_cmpuint(uids->len, ==, 3);
	g_assert_cmpuint(g_array_index(uids, guint32, 1), ==, 5);
	g_clear_pointer(&uids, g_array_unref);

	/* nothing to remove: the counter stays */
	g_assert_true(pr_store_remove_uids(fx->store, inbox, doomed, 2, NULL, &error));
	g_assert_no_error(error);
	g_assert_cmpuint(pr_store_get_change_counter(fx->store), ==, counter + 1);

	g_assert_true(pr_store_remove_message(fx->store, m1, &error));
	g_assert_no_error(error);
	gone = pr_store_get_message(fx->store, m1, &error);
	g_assert_error(error, PR_ERROR, PR_ERROR_NOT_FOUND);
	g_clear_error(&error);
	g_assert_false(pr_store_remove_message(fx->store, m1, &error));
	g_assert_error(error, PR_ERROR, PR_ERROR_NOT_FOUND);
	g_clear_error(&error);
	g_assert_cmpuint(pr_store_get_change_counter(fx->store), ==, counter + 2);

	/* UIDVALIDITY changed */
	g_array_set_size(removed, 0);
	g_assert_true(pr_store_retire_folder_messages(fx->store, inbox, removed, &error));
	g_assert_no_error(error);
	g_assert_cmpuint(removed->len, ==, 2);
	g_array_sort(removed, cmp_guint64);
	g_assert_cmpuint(g_array_index(removed, guint64, 0), ==, m5);
	g_assert_cmpuint(g_array_index(removed, guint64, 1), ==, m7);
	g_assert_false(g_file_test(p5, G_FILE_TEST_EXISTS));
	g_assert_cmpuint(pr_store_get_change_counter(fx->store), ==, counter + 3);
	uids = pr_store_get_uids(fx->store, inbox, 0, &error);
	g_assert_no_error(error);
	g_assert_cmpuint(uids->len, ==, 0);
	g_assert_false(pr_store_retire_folder_messages(fx->store, 999, NULL, &error));
	g_assert_error(error, PR_ERROR, PR_ERROR_NOT_FOUND);
}

static void
assert_uids(GPtrArray *messages, const guint32 *expected, guint n)
{
	g_assert_cmpuint(messages->len, ==, n);
	for (guint i = 0; i < n; i++) {
		PrStoreMessage *message = g_ptr_array_index(messages, i);
		g_assert_cmpuint(message->uid, ==, expected[i]);
		g_assert_cmpstr(message->folder, ==, "INBOX");
	}
}

static void
test_store_list_messages(Fixture *fx, gconstpointer user_data)
{
	g_autoptr(GPtrArray) list = NULL;
	g_autoptr(GError) error = NULL;
	gint64 inbox = add_folder(fx->store, "INBOX", "INBOX");
	const gchar *seen[] = { "\\Seen", NULL };
	const guint32 all[] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10 };
	const guint32 page[] = { 3, 4, 5 };
	const guint32 unseen[] = { 1, 3, 5, 7, 9 };
	const guint32 unseen_page[] = { 7, 9 };
	const guint32 changed[] = { 4, 9 };
	PrStoreQuery query = { 0 };
	guint64 counter;
	guint64 local_ids[3];
	gint64 drafts;

	/* inserted out of order: listed by UID */
	for (guint32 uid = 10; uid >= 1; uid--)
		add_message(fx->store, inbox, uid, uid % 2 == 0 ? "\\Seen" : "");
	counter = pr_store_get_change_counter(fx->store);

	list = pr_store_list_messages(fx->store, inbox, NULL, &error);
	g_assert_no_error(error);
	assert_uids(list, all, G_N_ELEMENTS(all));
	g_clear_pointer(&list, g_ptr_array_unref);

	query.offset = 2;
	query.limit = 3;
	list = pr_store_list_messages(fx->store, inbox, &query, &error);
	g_assert_no_error(error);
	assert_uids(list, page, G_N_ELEMENTS(page));
	g_clear_pointer(&list, g_ptr_array_unref);

	query.offset = 0;
	query.limit = 0;
	query.unseen_only = TRUE;
	list = pr_store_list_messages(fx->store, inbox, &query, &error);
	g_assert_no_error(error);
	assert_uids(list, unseen, G_N_ELEMENTS(unseen));
	g_clear_pointer(&list, g_ptr_array_unref);

	query.offset = 3;
	query.limit = 5;
	list = pr_store_list_messages(fx->store, inbox, &query, &error);
	g_assert_no_error(error);
	assert_uids(list, unseen_page, G_N_ELEMENTS(unseen_page));
	g_clear_pointer(&list, g_ptr_array_unref);

	/* changed since: only what changed after the client's counter */
	g_assert_true(pr_store_set_flags_by_uid(fx->store, inbox, 9, seen, 0, NULL, &error));
	g_assert_no_error(error);
	g_assert_true(pr_store_set_flags_by_uid(fx->store, inbox, 4, NULL, 0, NULL, &error));
	g_assert_no_error(error);
	memset(&query, 0, sizeof(query));
	query.changed_since = counter;
	list = pr_store_list_messages(fx->store, inbox, &query, &error);
	g_assert_no_error(error);
	assert_uids(list, changed, G_N_ELEMENTS(changed));
	g_clear_pointer(&list, g_ptr_array_unref);
	query.changed_since = pr_store_get_change_counter(fx->store);
	list = pr_store_list_messages(fx->store, inbox, &query, &error);
	g_assert_no_error(error);
	g_assert_cmpuint(list->len, ==, 0);
	g_clear_pointer(&list, g_ptr_array_unref);

	/* a local folder: by id */
	{
		g_autoptr(PrStoreFolder) folder =
			pr_store_get_folder(fx->store, "local:Drafts", &error);
		g_assert_no_error(error);
		drafts = folder->id;
	}
	for (guint i = 0; i < 3; i++)
		local_ids[i] = add_message(fx->store, drafts, 0, "\\Draft");
	list = pr_store_list_messages(fx->store, drafts, NULL, &error);
	g_assert_no_error(error);
	g_assert_cmpuint(list->len, ==, 3);
	for (guint i = 0; i < 3; i++) {
		PrStoreMessage *message = g_ptr_array_index(list, i);
		g_assert_cmpuint(message->id, ==, local_ids[i]);
		g_assert_cmpuint(message->uid, ==, 0);
	}
	g_clear_pointer(&list, g_ptr_array_unref);

	list = pr_store_list_messages(fx->store, 999, NULL, &error);
	g_assert_error(error, PR_ERROR, PR_ERROR_NOT_FOUND);
	g_assert_null(list);
}

static void
async_result_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	GAsyncResult **result = user_data;
	*result = g_object_ref(res);
}

static GAsyncResult *
async_result_wait(GAsyncResult **result)
{
	while (*result == NULL)
		g_main_context_iteration(NULL, TRUE);
	return *result;
}

/* pr_store_list_messages_async() to its end. */
static GPtrArray *
list_messages_async(PrStore *store, gint64 folder_id, const PrStoreQuery *query, GError **error)
{
	g_autoptr(GAsyncResult) result = NULL;

	pr_store_list_messages_async(store, folder_id, query, NULL, async_result_cb, &result);
	return pr_store_list_messages_finish(store, async_result_wait(&result), error);
}

static void
assert_same_messages(GPtrArray *got, GPtrArray *expected)
{
	g_assert_cmpuint(got->len, ==, expected->len);
	for (guint i = 0; i < got->len; i++) {
		PrStoreMessage *a = g_ptr_array_index(got, i);
		PrStoreMessage *b = g_ptr_array_index(expected, i);
		g_autofree gchar *a_flags = flags_string(a);
		g_autofree gchar *b_flags = flags_string(b);

		g_assert_cmpuint(a->id, ==, b->id);
		g_assert_cmpint(a->folder_id, ==, b->folder_id);
		g_assert_cmpstr(a->folder, ==, b->folder);
		g_assert_cmpuint(a->uid, ==, b->uid);
		g_assert_cmpstr(a_flags, ==, b_flags);
		g_assert_cmpstr(a->subject, ==, b->subject);
		g_assert_cmpstr(a->from, ==, b->from);
		g_assert_cmpuint(a->size, ==, b->size);
		g_assert_cmpint(a->internal_date, ==, b->internal_date);
		g_assert_cmpint(a->download, ==, b->download);
		g_assert_cmpuint(a->changed, ==, b->changed);
	}
}

/* The listing in a worker thread gives what the synchronous one gives, query by query. */
static void
test_store_list_messages_async(Fixture *fx, gconstpointer user_data)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GPtrArray) none = NULL;
	g_autofree gchar *seen_events = NULL;
	gint64 inbox = add_folder(fx->store, "INBOX", "INBOX");
	const gchar *seen[] = { "\\Seen", NULL };
	PrStoreQuery queries[7] = { { 0 } };
	guint64 counter;

	for (guint32 uid = 40; uid >= 1; uid--)
		add_message(fx->store, inbox, uid, uid % 3 == 0 ? "\\Seen \\Flagged" : "");
	counter = pr_store_get_change_counter(fx->store);
	g_assert_true(pr_store_set_flags_by_uid(fx->store, inbox, 7, seen, 0, NULL, &error));
	g_assert_no_error(error);
	g_assert_true(pr_store_set_flags_by_uid(fx->store, inbox, 30, NULL, 0, NULL, &error));
	g_assert_no_error(error);
	write_body(fx->store, 5, "five", PR_STORE_DOWNLOAD_COMPLETE);

	queries[1].offset = 5;
	queries[1].limit = 10;
	queries[2].unseen_only = TRUE;
	queries[3].unseen_only = TRUE;
	queries[3].offset = 4;
	queries[3].limit = 6;
	queries[4].changed_since = counter;
	queries[5].limit = 3;
	queries[6].offset = 100;
	g_free(take_events());
	for (guint i = 0; i < G_N_ELEMENTS(queries); i++) {
		g_autoptr(GPtrArray) expected =
			pr_store_list_messages(fx->store, inbox, &queries[i], &error);
		g_autoptr(GPtrArray) got = NULL;

		g_assert_no_error(error);
		got = list_messages_async(fx->store, inbox, &queries[i], &error);
		g_assert_no_error(error);
		g_assert_nonnull(got);
		assert_same_messages(got, expected);
	}
	/* ran in a worker thread, every time */
	seen_events = take_events();
	g_assert_cmpstr(seen_events,
			==,
			"list-messages@worker list-messages@worker list-messages@worker "
			"list-messages@worker list-messages@worker list-messages@worker "
			"list-messages@worker");
	/* the queries did select: the test would not tell them apart otherwise */
	{
		g_autoptr(GPtrArray) changed =
			list_messages_async(fx->store, inbox, &queries[4], &error);
		g_assert_no_error(error);
		g_assert_cmpuint(changed->len, ==, 3);
	}
	/* NULL is every message */
	{
		g_autoptr(GPtrArray) all = list_messages_async(fx->store, inbox, NULL, &error);
		g_assert_no_error(error);
		g_assert_cmpuint(all->len, ==, 40);
		g_assert_cmpstr(((PrStoreMessage *)g_ptr_array_index(all, 0))->folder, ==, "INBOX");
	}

	none = list_messages_async(fx->store, 999, NULL, &error);
	g_assert_error(error, PR_ERROR, PR_ERROR_NOT_FOUND);
	g_assert_null(none);
}

/* The worker's connection reads beside the main one while it writes: it sees what was
 * committed, never the main thread's open transaction, and the next listing sees the
 * commit. */
static void
test_store_list_messages_async_writing(Fixture *fx, gconstpointer user_data)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GAsyncResult) result = NULL;
	g_autoptr(GPtrArray) before = NULL;
	g_autoptr(GPtrArray) got = NULL;
	g_autoptr(GPtrArray) after = NULL;
	g_autoptr(GPtrArray) after_async = NULL;
	gint64 inbox = add_folder(fx->store, "INBOX", "INBOX");
	const gchar *seen[] = { "\\Seen", NULL };
	PrStoreQuery query = { 0 };

	for (guint32 uid = 1; uid <= 20; uid++)
		add_message(fx->store, inbox, uid, "");
	/* opens the worker's connection before the writes */
	got = list_messages_async(fx->store, inbox, NULL, &error);
	g_assert_no_error(error);
	g_clear_pointer(&got, g_ptr_array_unref);
	before = pr_store_list_messages(fx->store, inbox, NULL, &error);
	g_assert_no_error(error);

	g_assert_true(pr_store_begin(fx->store, &error));
	g_assert_no_error(error);
	for (guint32 uid = 21; uid <= 25; uid++)
		add_message(fx->store, inbox, uid, "");
	pr_store_list_messages_async(fx->store, inbox, &query, NULL, async_result_cb, &result);
	/* the query was copied */
	query.limit = 1;
	for (guint32 uid = 26; uid <= 30; uid++)
		add_message(fx->store, inbox, uid, "");
	g_assert_true(pr_store_set_flags_by_uid(fx->store, inbox, 1, seen, 0, NULL, &error));
	g_assert_no_error(error);
	got = pr_store_list_messages_finish(fx->store, async_result_wait(&result), &error);
	g_assert_no_error(error);
	assert_same_messages(got, before);
	g_assert_true(pr_store_commit(fx->store, &error));
	g_assert_no_error(error);

	after = pr_store_list_messages(fx->store, inbox, NULL, &error);
	g_assert_no_error(error);
	g_assert_cmpuint(after->len, ==, 30);
	after_async = list_messages_async(fx->store, inbox, NULL, &error);
	g_assert_no_error(error);
	assert_same_messages(after_async, after);
	g_assert_true(pr_store_message_has_flag(g_ptr_array_index(after_async, 0), "\\Seen"));
}

static void
test_store_removed_since(Fixture *fx, gconstpointer user_data)
{
	g_autoptr(GArray) removed = NULL;
	g_autoptr(GError) error = NULL;
	gint64 inbox = add_folder(fx->store, "INBOX", "INBOX");
	gint64 other = add_folder(fx->store, "Other", "Other");
	guint64 m1 = add_message(fx->store, inbox, 1, "");
	guint64 m2 = add_message(fx->store, inbox, 2, "");
	guint64 m3 = add_message(fx->store, other, 3, "");
	const guint32 first[] = { 2 };
	guint64 c0 = pr_store_get_change_counter(fx->store);
	guint64 c1;

	g_assert_true(pr_store_remove_uids(fx->store, inbox, first, 1, NULL, &error));
	g_assert_no_error(error);
	c1 = pr_store_get_change_counter(fx->store);
	g_assert_true(pr_store_remove_message(fx->store, m1, &error));
	g_assert_no_error(error);
	g_assert_true(pr_store_remove_message(fx->store, m3, &error));
	g_assert_no_error(error);

	removed = pr_store_get_removed_since(fx->store, inbox, c0, &error);
	g_assert_no_error(error);
	g_assert_cmpuint(removed->len, ==, 2);
	g_assert_cmpuint(g_array_index(removed, guint64, 0), ==, m1);
	g_assert_cmpuint(g_array_index(removed, guint64, 1), ==, m2);
	g_clear_pointer(&removed, g_array_unref);

	removed = pr_store_get_removed_since(fx->store, inbox, c1, &error);
	g_assert_no_error(error);
	g_assert_cmpuint(removed->len, ==, 1);
	g_assert_cmpuint(g_array_index(removed, guint64, 0), ==, m1);
	g_clear_pointer(&removed, g_array_unref);

	removed = pr_store_get_removed_since(
		fx->store, inbox, pr_store_get_change_counter(fx->store), &error);
	g_assert_no_error(error);
	g_assert_cmpuint(removed->len, ==, 0);
	g_clear_pointer(&removed, g_array_unref);

	/* tombstones survive a reopen and go with their folder */
	fixture_reopen(fx);
	removed = pr_store_get_removed_since(fx->store, other, 0, &error);
	g_assert_no_error(error);
	g_assert_cmpuint(removed->len, ==, 1);
	g_assert_cmpuint(g_array_index(removed, guint64, 0), ==, m3);
	g_clear_pointer(&removed, g_array_unref);
	g_assert_true(pr_store_delete_folder(fx->store, other, &error));
	g_assert_no_error(error);
	removed = pr_store_get_removed_since(fx->store, other, 0, &error);
	g_assert_error(error, PR_ERROR, PR_ERROR_NOT_FOUND);
	g_assert_null(removed);
	g_clear_object(&fx->store);
	g_assert_cmpint(db_query(fx->dir, "SELECT COUNT(*) FROM tombstones"), ==, 2);
}

static void
test_store_counts(Fixture *fx, gconstpointer user_data)
{
	g_autoptr(GPtrArray) folders = NULL;
	g_autoptr(PrStoreFolder) folder = NULL;
	g_autoptr(GError) error = NULL;
	gint64 inbox = add_folder(fx->store, "INBOX", "INBOX");
	gint64 other = add_folder(fx->store, "Other", "Other");

	for (guint32 uid = 1; uid <= 7; uid++)
		add_message(fx->store, inbox, uid, uid <= 3 ? "\\Seen" : "\\Flagged");
	add_message(fx->store, other, 1, "\\Seen");
	add_message(fx->store, other, 2, "\\Seen");

	folder = pr_store_get_folder(fx->store, "INBOX", &error);
	g_assert_no_error(error);
	g_assert_cmpuint(folder->messages, ==, 7);
	g_assert_cmpuint(folder->unseen, ==, 4);
	folders = pr_store_list_folders(fx->store, &error);
	g_assert_no_error(error);
	for (guint i = 0; i < folders->len; i++) {
		PrStoreFolder *f = g_ptr_array_index(folders, i);
		if (f->id == other) {
			g_assert_cmpuint(f->messages, ==, 2);
			g_assert_cmpuint(f->unseen, ==, 0);
		} else if (f->id == inbox) {
			g_assert_cmpuint(f->messages, ==, 7);
			g_assert_cmpuint(f->unseen, ==, 4);
		} else {
			g_assert_cmpuint(f->messages, ==, 0);
		}
	}
}

/* The kept counts follow every way a message comes, changes and goes. */
static void
test_store_counters(Fixture *fx, gconstpointer user_data)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(PrStoreMessage) moved = NULL;
	g_autoptr(PrStoreMessage) again = NULL;
	g_autoptr(GArray) removed = g_array_new(FALSE, FALSE, sizeof(guint64));
	gint64 inbox = add_folder(fx->store, "INBOX", "INBOX");
	gint64 other = add_folder(fx->store, "Other", "Other");
	gint64 doomed = add_folder(fx->store, "Doomed", "Doomed");
	const gchar *seen[] = { "\\Seen", NULL };
	const gchar *none[] = { NULL };
	const guint32 gone[] = { 2, 3, 77 };
	guint64 m1;
	guint64 m4;

	for (guint32 uid = 1; uid <= 6; uid++)
		add_message(fx->store, inbox, uid, uid % 2 == 0 ? "\\Seen" : "");
	m1 = add_message(fx->store, inbox, 7, "\\Flagged");
	add_message(fx->store, doomed, 1, "");
	assert_counts(fx->store, inbox, 7, 4);
	assert_counts(fx->store, doomed, 1, 1);
	assert_counts_consistent(fx);

	/* an upsert of the same UID: one message, its new \Seen */
	again = make_message(inbox, 7, "\\Seen");
	g_assert_true(pr_store_save_message(fx->store, again, &error));
	g_assert_no_error(error);
	g_assert_cmpuint(again->id, ==, m1);
	assert_counts(fx->store, inbox, 7, 3);

	/* flags both ways, by id and by UID; an unchanged \Seen changes nothing */
	g_assert_true(pr_store_set_flags(fx->store, m1, none, &error));
	g_assert_no_error(error);
	g_assert_true(pr_store_set_flags_by_uid(fx->store, inbox, 1, seen, 5, NULL, &error));
	g_assert_no_error(error);
	g_assert_true(pr_store_set_flags_by_uid(fx->store, inbox, 1, seen, 6, NULL, &error));
	g_assert_no_error(error);
	assert_counts(fx->store, inbox, 7, 3);
	assert_counts_consistent(fx);

	/* a move by id */
	m4 = add_message(fx->store, inbox, 8, "");
	moved = pr_store_get_message(fx->store, m4, &error);
	g_assert_no_error(error);
	moved->folder_id = other;
	moved->uid = 1;
	g_assert_true(pr_store_save_message(fx->store, moved, &error));
	g_assert_no_error(error);
	assert_counts(fx->store, inbox, 7, 3);
	assert_counts(fx->store, other, 1, 1);
	assert_counts_consistent(fx);

	/* removals by UID and by id, a rolled-back one, a retirement, a folder deletion */
	g_assert_true(
		pr_store_remove_uids(fx->store, inbox, gone, G_N_ELEMENTS(gone), NULL, &error));
	g_assert_no_error(error);
	assert_counts(fx->store, inbox, 5, 2);
	g_assert_true(pr_store_begin(fx->store, &error));
	g_assert_no_error(error);
	g_assert_true(pr_store_remove_message(fx->store, m1, &error));
	g_assert_no_error(error);
	assert_counts(fx->store, inbox, 4, 1);
	pr_store_rollback(fx->store);
	assert_counts(fx->store, inbox, 5, 2);
	g_assert_true(pr_store_remove_message(fx->store, m1, &error));
	g_assert_no_error(error);
	assert_counts(fx->store, inbox, 4, 1);
	assert_counts_consistent(fx);
	g_assert_true(pr_store_retire_folder_messages(fx->store, other, removed, &error));
	g_assert_no_error(error);
	g_assert_cmpuint(removed->len, ==, 1);
	assert_counts(fx->store, other, 0, 0);
	g_assert_true(pr_store_delete_folder(fx->store, doomed, &error));
	g_assert_no_error(error);
	assert_counts_consistent(fx);

	/* and they are kept on disk, not computed */
	fixture_reopen(fx);
	assert_counts(fx->store, inbox, 4, 1);
	assert_counts_consistent(fx);
}

static void
test_store_changes_since(Fixture *fx, gconstpointer user_data)
{
	g_autoptr(GArray) changes = NULL;
	g_autoptr(GError) error = NULL;
	const gchar *seen[] = { "\\Seen", NULL };
	gint64 inbox = add_folder(fx->store, "INBOX", "INBOX");
	gint64 other = add_folder(fx->store, "Other", "Other");
	guint64 m1 = add_message(fx->store, inbox, 1, "");
	guint64 m2 = add_message(fx->store, inbox, 2, "");
	guint64 since;
	PrStoreChange *change;

	add_message(fx->store, other, 1, "");
	since = pr_store_get_change_counter(fx->store);
	changes = pr_store_get_changes_since(fx->store, inbox, since, &error);
	g_assert_no_error(error);
	g_assert_cmpuint(changes->len, ==, 0);
	g_clear_pointer(&changes, g_array_unref);

	/* in the order they changed; other folders' changes are not the folder's */
	g_assert_true(pr_store_set_flags(fx->store, m2, seen, &error));
	g_assert_no_error(error);
	add_message(fx->store, other, 2, "");
	g_assert_true(pr_store_set_flags(fx->store, m1, seen, &error));
	g_assert_no_error(error);
	changes = pr_store_get_changes_since(fx->store, inbox, since, &error);
	g_assert_no_error(error);
	g_assert_cmpuint(changes->len, ==, 2);
	change = &g_array_index(changes, PrStoreChange, 0);
	g_assert_cmpuint(change->id, ==, m2);
	g_assert_cmpuint(change->uid, ==, 2);
	g_assert_true(change->seen);
	g_assert_cmpuint(change->changed, ==, since + 1);
	change = &g_array_index(changes, PrStoreChange, 1);
	g_assert_cmpuint(change->id, ==, m1);
	g_assert_cmpuint(change->changed, ==, since + 3);
	g_clear_pointer(&changes, g_array_unref);

	changes = pr_store_get_changes_since(fx->store, 4242, 0, &error);
	g_assert_error(error, PR_ERROR, PR_ERROR_NOT_FOUND);
	g_assert_null(changes);
}

/* A store of schema version 1 gets the counts filled on open. */
static void
test_store_migrate_counts(Fixture *fx, gconstpointer user_data)
{
	gint64 inbox = add_folder(fx->store, "INBOX", "INBOX");
	gint64 other = add_folder(fx->store, "Other", "Other");

	for (guint32 uid = 1; uid <= 5; uid++)
		add_message(fx->store, inbox, uid, uid <= 2 ? "\\Seen" : "");
	add_message(fx->store, other, 1, "\\Seen");
	g_clear_object(&fx->store);

	/* back to what version 1 had */
	db_query(fx->dir, "DROP TRIGGER messages_count_insert");
	db_query(fx->dir, "DROP TRIGGER messages_count_delete");
	db_query(fx->dir, "DROP TRIGGER messages_count_update");
	db_query(fx->dir, "ALTER TABLE folders DROP COLUMN message_count");
	db_query(fx->dir, "ALTER TABLE folders DROP COLUMN unseen_count");
	db_query(fx->dir, "DROP INDEX messages_folder_missing");
	db_query(fx->dir, "PRAGMA user_version = 1");

	fixture_reopen(fx);
	g_assert_cmpint(db_query(fx->dir, "PRAGMA user_version"), ==, 3);
	/* v3: the index of missing bodies */
	g_assert_cmpint(db_query(fx->dir,
				 "SELECT COUNT(*) FROM sqlite_master WHERE name = "
				 "'messages_folder_missing'"),
			==,
			1);
	assert_counts(fx->store, inbox, 5, 3);
	assert_counts(fx->store, other, 1, 0);
	assert_counts_consistent(fx);
	add_message(fx->store, inbox, 6, "");
	assert_counts(fx->store, inbox, 6, 4);
}

static void
test_store_meta(Fixture *fx, gconstpointer user_data)
{
	g_autoptr(GError) error = NULL;
	gboolean found = TRUE;
	gint64 value = -1;

	g_assert_true(pr_store_get_meta(fx->store, "test/mark", &value, &found, &error));
	g_assert_no_error(error);
	g_assert_false(found);
	g_assert_cmpint(value, ==, 0);
	g_assert_true(pr_store_set_meta(fx->store, "test/mark", G_MAXINT64, &error));
	g_assert_no_error(error);
	g_assert_true(pr_store_set_meta(fx->store, "test/other", -5, &error));
	g_assert_no_error(error);

	/* kept across a restart, and inside transactions like the rest */
	fixture_reopen(fx);
	g_assert_true(pr_store_get_meta(fx->store, "test/mark", &value, &found, &error));
	g_assert_no_error(error);
	g_assert_true(found);
	g_assert_cmpint(value, ==, G_MAXINT64);
	g_assert_true(pr_store_begin(fx->store, &error));
	g_assert_no_error(error);
	g_assert_true(pr_store_set_meta(fx->store, "test/mark", 3, &error));
	g_assert_no_error(error);
	pr_store_rollback(fx->store);
	g_assert_true(pr_store_get_meta(fx->store, "test/mark", &value, NULL, &error));
	g_assert_no_error(error);
	g_assert_cmpint(value, ==, G_MAXINT64);

	g_assert_true(pr_store_delete_meta(fx->store, "test/mark", &error));
	g_assert_no_error(error);
	g_assert_true(pr_store_delete_meta(fx->store, "test/never", &error));
	g_assert_no_error(error);
	g_assert_true(pr_store_get_meta(fx->store, "test/mark", &value, &found, &error));
	g_assert_no_error(error);
	g_assert_false(found);
	g_assert_true(pr_store_get_meta(fx->store, "test/other", &value, &found, &error));
	g_assert_true(found);
	g_assert_cmpint(value, ==, -5);

	/* the store's own are not the caller's */
	if (g_test_undefined()) {
		g_test_expect_message("PrStore", G_LOG_LEVEL_CRITICAL, "*reserved*");
		g_assert_false(pr_store_set_meta(fx->store, "change-counter", 0, &error));
		g_test_assert_expected_messages();
	}
	g_assert_cmpint(
		db_query(fx->dir, "SELECT value FROM meta WHERE key = 'test/other'"), ==, -5);
}

static void
test_store_body(Fixture *fx, gconstpointer user_data)
{
	g_autoptr(GOutputStream) stream = NULL;
	g_autoptr(PrStoreMessage) message = NULL;
	g_autoptr(GError) error = NULL;
	g_autofree gchar *path = NULL;
	g_autofree gchar *bucket = NULL;
	g_autofree gchar *tmp = NULL;
	g_autofree gchar *content = NULL;
	g_autofree gchar *expected_path = NULL;
	g_autoptr(GBytes) bytes = NULL;
	static const gchar data[] = "From: a@example.org\r\nSubject: hi\r\n\r\nbody\r\n\0after\xff";
	const gsize len = sizeof(data) - 1;
	gsize content_len = 0;
	gint64 inbox = add_folder(fx->store, "INBOX", "INBOX");
	guint64 id = add_message(fx->store, inbox, 1, "");
	guint64 counter = pr_store_get_change_counter(fx->store);
	gint fd;

	path = pr_store_get_body_path(fx->store, id);
	expected_path = g_strdup_printf(
		"%s/messages/%02x/%" G_GUINT64_FORMAT ".eml", fx->dir, (guint)(id % 256), id);
	g_assert_cmpstr(path, ==, expected_path);
	bucket = bucket_path(fx, id);

	stream = pr_store_body_begin(fx->store, id, &error);
	g_assert_no_error(error);
	g_assert_true(g_output_stream_write_all(stream, data, 20, NULL, NULL, &error));
	g_assert_no_error(error);
	g_assert_true(g_output_stream_write_all(stream, data + 20, len - 20, NULL, NULL, &error));
	g_assert_no_error(error);

	/* before the commit: only a private temporary file, never the final name */
	g_assert_false(g_file_test(path, G_FILE_TEST_EXISTS));
	g_assert_cmpuint(count_entries(bucket), ==, 1);
	{
		g_autoptr(GDir) dir = g_dir_open(bucket, 0, NULL);
		g_autofree gchar *prefix = g_strdup_printf(".%" G_GUINT64_FORMAT ".eml.tmp-", id);
		const gchar *name = g_dir_read_name(dir);
		g_assert_true(g_str_has_prefix(name, prefix));
		tmp = g_build_filename(bucket, name, NULL);
	}
	g_assert_cmpuint(file_mode(tmp), ==, 0600);
	g_assert_cmpuint(file_mode(bucket), ==, 0700);
	message = pr_store_get_message(fx->store, id, &error);
	g_assert_no_error(error);
	g_assert_cmpint(message->download, ==, PR_STORE_DOWNLOAD_HEADERS);
	g_clear_pointer(&message, pr_store_message_free);
	fd = pr_store_open_body(fx->store, id, &error);
	g_assert_error(error, PR_ERROR, PR_ERROR_NOT_DOWNLOADED);
	g_assert_cmpint(fd, ==, -1);
	g_clear_error(&error);

	g_assert_true(
		pr_store_body_commit(fx->store, id, stream, PR_STORE_DOWNLOAD_COMPLETE, &error));
	g_assert_no_error(error);
	g_assert_false(g_file_test(tmp, G_FILE_TEST_EXISTS));
	g_assert_true(g_file_get_contents(path, &content, &content_len, &error));
	g_assert_no_error(error);
	g_assert_cmpmem(content, content_len, data, len);
	g_assert_cmpuint(file_mode(path), ==, 0600);
	message = pr_store_get_message(fx->store, id, &error);
	g_assert_no_error(error);
	g_assert_cmpint(message->download, ==, PR_STORE_DOWNLOAD_COMPLETE);
	g_assert_cmpuint(message->changed, ==, counter + 1);

	/* a read-only descriptor of exactly those bytes */
	fd = pr_store_open_body(fx->store, id, &error);
	g_assert_no_error(error);
	g_assert_cmpint(fd, >=, 0);
	g_assert_cmpint(fcntl(fd, F_GETFL) & O_ACCMODE, ==, O_RDONLY);
	g_assert_cmpint(fcntl(fd, F_GETFD) & FD_CLOEXEC, ==, FD_CLOEXEC);
	g_assert_cmpint(write(fd, "x", 1), ==, -1);
	g_assert_cmpint(errno, ==, EBADF);
	{
		struct stat st;
		g_assert_cmpint(fstat(fd, &st), ==, 0);
		g_assert_cmpint(st.st_size, ==, len);
	}
	bytes = read_fd(fd);
	close(fd);
	g_assert_cmpmem(g_bytes_get_data(bytes, NULL), g_bytes_get_size(bytes), data, len);

	/* a stream is committed once */
	g_assert_false(
		pr_store_body_commit(fx->store, id, stream, PR_STORE_DOWNLOAD_COMPLETE, &error));
	g_assert_error(error, PR_ERROR, PR_ERROR_INVALID_ARGUMENT);
}

static GOutputStream *
begin_body(PrStore *store, guint64 id, const gchar *data)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GOutputStream) stream = pr_store_body_begin(store, id, &error);

	g_assert_no_error(error);
	g_assert_true(g_output_stream_write_all(stream, data, strlen(data), NULL, NULL, &error));
	g_assert_no_error(error);
	return g_steal_pointer(&stream);
}

static void
write_body_deferred(PrStoreBodyBatch *batch, PrStore *store, guint64 id, const gchar *data)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GOutputStream) stream = begin_body(store, id, data);

	g_assert_true(pr_store_body_commit_deferred(
		batch, id, stream, PR_STORE_DOWNLOAD_COMPLETE, &error));
	g_assert_no_error(error);
}

static void
assert_body(PrStore *store, guint64 id, const gchar *data)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(PrStoreMessage) message = pr_store_get_message(store, id, &error);
	g_autoptr(GBytes) bytes = NULL;
	gint fd;

	g_assert_no_error(error);
	g_assert_cmpint(message->download, ==, PR_STORE_DOWNLOAD_COMPLETE);
	fd = pr_store_open_body(store, id, &error);
	g_assert_no_error(error);
	bytes = read_fd(fd);
	close(fd);
	g_assert_cmpmem(g_bytes_get_data(bytes, NULL), g_bytes_get_size(bytes), data, strlen(data));
}

static void
assert_not_downloaded(PrStore *store, guint64 id)
{
	g_autoptr(GError) error = NULL;
	gint fd = pr_store_open_body(store, id, &error);

	g_assert_error(error, PR_ERROR, PR_ERROR_NOT_DOWNLOADED);
	g_assert_cmpint(fd, ==, -1);
}

/* Bodies of a batch: invisible until the flush, then all marked at once. */
static void
test_store_body_deferred(Fixture *fx, gconstpointer user_data)
{
	g_autoptr(GArray) flushed = g_array_new(FALSE, FALSE, sizeof(guint64));
	g_autoptr(GError) error = NULL;
	g_autoptr(PrStoreMessage) m1 = NULL;
	g_autoptr(PrStoreMessage) m2 = NULL;
	g_autoptr(PrStoreBodyBatch) batch = pr_store_body_batch_new(fx->store);
	g_autoptr(PrStoreBodyBatch) other = pr_store_body_batch_new(fx->store);
	g_autoptr(GBytes) old_body = NULL;
	gint64 inbox = add_folder(fx->store, "INBOX", "INBOX");
	guint64 ids[6];
	guint64 counter;
	gchar *paths[6];
	gchar *tmp_name = NULL;
	gint fd;

	for (guint i = 0; i < G_N_ELEMENTS(ids); i++) {
		ids[i] = add_message(fx->store, inbox, i + 1, "");
		paths[i] = pr_store_get_body_path(fx->store, ids[i]);
	}
	write_body(fx->store, ids[5], "six, partly", PR_STORE_DOWNLOAD_PARTIAL);
	write_body_deferred(batch, fx->store, ids[0], "one");
	write_body_deferred(batch, fx->store, ids[1], "two");
	write_body_deferred(batch, fx->store, ids[2], "three");
	write_body_deferred(batch, fx->store, ids[5], "six");
	/* another downloader's batch is its own */
	write_body_deferred(other, fx->store, ids[4], "five");
	g_assert_cmpuint(pr_store_body_batch_get_pending(batch), ==, 4);
	for (guint i = 0; i < 3; i++) {
		/* in its temporary file until the flush: the message reads as before */
		g_autofree gchar *bucket = bucket_path(fx, ids[i]);
		g_assert_false(g_file_test(paths[i], G_FILE_TEST_EXISTS));
		g_assert_cmpuint(count_entries(bucket), ==, 1);
		assert_not_downloaded(fx->store, ids[i]);
	}
	/* the partial body stays what the index says until the flush */
	fd = pr_store_open_body(fx->store, ids[5], &error);
	g_assert_no_error(error);
	old_body = read_fd(fd);
	close(fd);
	g_assert_cmpmem(
		g_bytes_get_data(old_body, NULL), g_bytes_get_size(old_body), "six, partly", 11);
	{
		g_autofree gchar *bucket = bucket_path(fx, ids[5]);
		g_autoptr(GDir) dir = g_dir_open(bucket, 0, NULL);
		const gchar *name;
		guint n = 0;
		while ((name = g_dir_read_name(dir)) != NULL) {
			if (g_str_has_prefix(name, "."))
				tmp_name = g_build_filename(bucket, name, NULL);
			n++;
		}
		g_assert_cmpuint(n, ==, 2);
		g_assert_nonnull(tmp_name);
	}

	/* one goes away before the flush */
	g_assert_true(pr_store_remove_message(fx->store, ids[2], &error));
	g_assert_no_error(error);
	counter = pr_store_get_change_counter(fx->store);
	g_assert_true(pr_store_bodies_flush(batch, flushed, &error));
	g_assert_no_error(error);
	g_assert_cmpuint(pr_store_body_batch_get_pending(batch), ==, 0);
	g_assert_cmpuint(pr_store_body_batch_get_pending(other), ==, 1);
	assert_not_downloaded(fx->store, ids[4]);
	g_assert_cmpuint(flushed->len, ==, 3);
	g_assert_cmpuint(g_array_index(flushed, guint64, 0), ==, ids[0]);
	g_assert_cmpuint(g_array_index(flushed, guint64, 1), ==, ids[1]);
	g_assert_cmpuint(g_array_index(flushed, guint64, 2), ==, ids[5]);
	assert_body(fx->store, ids[0], "one");
	assert_body(fx->store, ids[1], "two");
	assert_body(fx->store, ids[5], "six");
	g_assert_false(g_file_test(tmp_name, G_FILE_TEST_EXISTS));
	g_free(tmp_name);
	g_assert_cmpuint(file_mode(paths[0]), ==, 0600);
	for (guint i = 0; i < 3; i++) {
		g_autofree gchar *bucket = bucket_path(fx, ids[i]);
		g_assert_cmpuint(count_entries(bucket), ==, i < 2 ? 1 : 0);
	}
	g_assert_false(g_file_test(paths[2], G_FILE_TEST_EXISTS));
	/* one change for the batch */
	g_assert_cmpuint(pr_store_get_change_counter(fx->store), ==, counter + 1);
	m1 = pr_store_get_message(fx->store, ids[0], &error);
	g_assert_no_error(error);
	m2 = pr_store_get_message(fx->store, ids[1], &error);
	g_assert_no_error(error);
	g_assert_cmpuint(m1->changed, ==, counter + 1);
	g_assert_cmpuint(m2->changed, ==, counter + 1);

	/* nothing queued: nothing to do */
	g_assert_true(pr_store_bodies_flush(batch, NULL, &error));
	g_assert_no_error(error);
	g_assert_cmpuint(pr_store_get_change_counter(fx->store), ==, counter + 1);

	/* a batch dropped unflushed leaves nothing behind */
	write_body_deferred(batch, fx->store, ids[3], "four");
	g_clear_pointer(&batch, pr_store_body_batch_free);
	{
		g_autofree gchar *bucket = bucket_path(fx, ids[3]);
		g_assert_cmpuint(count_entries(bucket), ==, 0);
	}
	assert_not_downloaded(fx->store, ids[3]);
	g_assert_true(pr_store_bodies_flush(other, NULL, &error));
	g_assert_no_error(error);
	assert_body(fx->store, ids[4], "five");

	for (guint i = 0; i < G_N_ELEMENTS(paths); i++)
		g_free(paths[i]);
}

static void
flush_async_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	GAsyncResult **result = user_data;
	*result = g_object_ref(res);
}

/* pr_store_bodies_flush_async() to its end; the ids it marked replace @flushed's. */
static void
flush_async_wait(Fixture *fx, PrStoreBodyBatch *batch, GArray *flushed)
{
	g_autoptr(GAsyncResult) result = NULL;
	g_autoptr(GError) error = NULL;

	pr_store_bodies_flush_async(batch, flush_async_cb, &result);
	while (result == NULL)
		g_main_context_iteration(NULL, TRUE);
	g_array_set_size(flushed, 0);
	g_assert_true(pr_store_bodies_flush_finish(fx->store, result, flushed, &error));
	g_assert_no_error(error);
}

/* The asynchronous flush: the batch may grow while it syncs; a message gone before the
 * flush read the index loses its body; the next flush takes what came meanwhile. */
static void
test_store_body_flush_async(Fixture *fx, gconstpointer user_data)
{
	g_autoptr(GArray) flushed = g_array_new(FALSE, FALSE, sizeof(guint64));
	g_autoptr(GError) error = NULL;
	g_autoptr(PrStoreBodyBatch) batch = pr_store_body_batch_new(fx->store);
	g_autoptr(GAsyncResult) result = NULL;
	g_autoptr(GOutputStream) stream = NULL;
	gint64 inbox = add_folder(fx->store, "INBOX", "INBOX");
	guint64 ids[3];
	guint64 counter;

	for (guint i = 0; i < G_N_ELEMENTS(ids); i++)
		ids[i] = add_message(fx->store, inbox, i + 1, "");
	/* the batch's own begin does not look the message up */
	stream = pr_store_body_batch_begin(batch, ids[0], &error);
	g_assert_no_error(error);
	g_assert_true(g_output_stream_write_all(stream, "one", 3, NULL, NULL, &error));
	g_assert_true(pr_store_body_commit_deferred(
		batch, ids[0], stream, PR_STORE_DOWNLOAD_COMPLETE, &error));
	g_assert_no_error(error);
	write_body_deferred(batch, fx->store, ids[1], "two");
	g_assert_true(pr_store_remove_message(fx->store, ids[1], &error));
	g_assert_no_error(error);
	counter = pr_store_get_change_counter(fx->store);

	pr_store_bodies_flush_async(batch, flush_async_cb, &result);
	g_assert_cmpuint(pr_store_body_batch_get_pending(batch), ==, 0);
	/* arrives while the first flush syncs */
	write_body_deferred(batch, fx->store, ids[2], "three");
	while (result == NULL)
		g_main_context_iteration(NULL, TRUE);
	g_assert_true(pr_store_bodies_flush_finish(fx->store, result, flushed, &error));
	g_assert_no_error(error);
	g_assert_cmpuint(flushed->len, ==, 1);
	g_assert_cmpuint(g_array_index(flushed, guint64, 0), ==, ids[0]);
	assert_body(fx->store, ids[0], "one");
	assert_not_downloaded(fx->store, ids[2]);
	{
		g_autofree gchar *bucket = bucket_path(fx, ids[1]);
		g_autofree gchar *path = pr_store_get_body_path(fx->store, ids[1]);
		g_assert_false(g_file_test(path, G_FILE_TEST_EXISTS));
		g_assert_cmpuint(count_entries(bucket), ==, 0);
	}
	g_assert_cmpuint(pr_store_get_change_counter(fx->store), ==, counter + 1);

	flush_async_wait(fx, batch, flushed);
	g_assert_cmpuint(flushed->len, ==, 1);
	assert_body(fx->store, ids[2], "three");

	/* nothing queued: an empty result */
	flush_async_wait(fx, batch, flushed);
	g_assert_cmpuint(flushed->len, ==, 0);
	g_assert_cmpuint(pr_store_get_change_counter(fx->store), ==, counter + 2);
}

/* Bodies replacing ones the index points at (renamed only after the first sync, then
 * synced again): every sync of the asynchronous flush runs in the worker thread, and the
 * index ends up pointing at the new, complete files, with nothing else left. */
static void
test_store_body_flush_async_replace(Fixture *fx, gconstpointer user_data)
{
	g_autoptr(GArray) flushed = g_array_new(FALSE, FALSE, sizeof(guint64));
	g_autoptr(PrStoreBodyBatch) batch = pr_store_body_batch_new(fx->store);
	g_autofree gchar *seen = NULL;
	gint64 inbox = add_folder(fx->store, "INBOX", "INBOX");
	guint64 ids[3];

	for (guint i = 0; i < G_N_ELEMENTS(ids); i++)
		ids[i] = add_message(fx->store, inbox, i + 1, "");
	write_body(fx->store, ids[0], "one, partly", PR_STORE_DOWNLOAD_PARTIAL);
	write_body(fx->store, ids[1], "two, partly", PR_STORE_DOWNLOAD_PARTIAL);
	write_body_deferred(batch, fx->store, ids[0], "one");
	write_body_deferred(batch, fx->store, ids[1], "two");
	write_body_deferred(batch, fx->store, ids[2], "three");
	g_free(take_events());

	flush_async_wait(fx, batch, flushed);
	seen = take_events();
	/* the batch's sync, then the one for the late names: both off the main thread */
	g_assert_cmpstr(seen, ==, "syncfs@worker syncfs@worker");
	g_assert_cmpuint(flushed->len, ==, 3);
	for (guint i = 0; i < G_N_ELEMENTS(ids); i++) {
		g_autofree gchar *bucket = bucket_path(fx, ids[i]);
		g_autofree gchar *path = pr_store_get_body_path(fx->store, ids[i]);
		g_assert_cmpuint(g_array_index(flushed, guint64, i), ==, ids[i]);
		/* only the body under its final name: no temporary file */
		g_assert_cmpuint(count_entries(bucket), ==, 1);
		g_assert_true(g_file_test(path, G_FILE_TEST_IS_REGULAR));
	}
	assert_body(fx->store, ids[0], "one");
	assert_body(fx->store, ids[1], "two");
	assert_body(fx->store, ids[2], "three");

	/* and after a restart, which sweeps, they are still there */
	g_clear_pointer(&batch, pr_store_body_batch_free);
	fixture_reopen(fx);
	assert_body(fx->store, ids[0], "one");
	assert_body(fx->store, ids[2], "three");
}

/* pr_store_body_commit_async() to its end. */
static gboolean
body_commit_async(PrStore *store, guint64 id, GOutputStream *stream, GError **error)
{
	g_autoptr(GAsyncResult) result = NULL;

	pr_store_body_commit_async(
		store, id, stream, PR_STORE_DOWNLOAD_COMPLETE, async_result_cb, &result);
	return pr_store_body_commit_finish(store, async_result_wait(&result), error);
}

/* A single body committed asynchronously: synced in the worker thread, marked only once
 * durable, under its final name and nothing else. */
static void
test_store_body_commit_async(Fixture *fx, gconstpointer user_data)
{
	g_autoptr(GError) error = NULL;
	g_autofree gchar *seen = NULL;
	gint64 inbox = add_folder(fx->store, "INBOX", "INBOX");
	guint64 ids[3];
	guint64 counter;

	for (guint i = 0; i < G_N_ELEMENTS(ids); i++)
		ids[i] = add_message(fx->store, inbox, i + 1, "");
	counter = pr_store_get_change_counter(fx->store);
	g_free(take_events());
	{
		g_autoptr(GOutputStream) stream = begin_body(fx->store, ids[0], "one");
		g_autofree gchar *bucket = bucket_path(fx, ids[0]);
		g_assert_true(body_commit_async(fx->store, ids[0], stream, &error));
		g_assert_no_error(error);
		seen = take_events();
		g_assert_cmpstr(seen, ==, "syncfs@worker");
		g_clear_pointer(&seen, g_free);
		assert_body(fx->store, ids[0], "one");
		g_assert_cmpuint(count_entries(bucket), ==, 1);
		g_assert_cmpuint(pr_store_get_change_counter(fx->store), ==, counter + 1);
	}

	/* replacing a body the index points at: the late name, synced again */
	write_body(fx->store, ids[1], "two, partly", PR_STORE_DOWNLOAD_PARTIAL);
	g_free(take_events());
	{
		g_autoptr(GOutputStream) stream = begin_body(fx->store, ids[1], "two");
		g_autofree gchar *bucket = bucket_path(fx, ids[1]);
		g_assert_true(body_commit_async(fx->store, ids[1], stream, &error));
		g_assert_no_error(error);
		seen = take_events();
		g_assert_cmpstr(seen, ==, "syncfs@worker syncfs@worker");
		g_clear_pointer(&seen, g_free);
		assert_body(fx->store, ids[1], "two");
		g_assert_cmpuint(count_entries(bucket), ==, 1);
	}

	/* the message goes away while its body downloads: NotFound, no file left */
	{
		g_autoptr(GOutputStream) stream = begin_body(fx->store, ids[2], "three");
		g_autofree gchar *bucket = bucket_path(fx, ids[2]);
		g_autofree gchar *path = pr_store_get_body_path(fx->store, ids[2]);
		g_assert_true(pr_store_remove_message(fx->store, ids[2], &error));
		g_assert_no_error(error);
		counter = pr_store_get_change_counter(fx->store);
		g_assert_false(body_commit_async(fx->store, ids[2], stream, &error));
		g_assert_error(error, PR_ERROR, PR_ERROR_NOT_FOUND);
		g_clear_error(&error);
		g_assert_false(g_file_test(path, G_FILE_TEST_EXISTS));
		g_assert_cmpuint(count_entries(bucket), ==, 0);
		g_assert_cmpuint(pr_store_get_change_counter(fx->store), ==, counter);
	}

	/* not a body stream of that message */
	{
		g_autoptr(GOutputStream) stream = begin_body(fx->store, ids[0], "again");
		g_assert_false(body_commit_async(fx->store, ids[1], stream, &error));
		g_assert_error(error, PR_ERROR, PR_ERROR_INVALID_ARGUMENT);
		g_clear_error(&error);
		pr_store_body_abort(fx->store, ids[0], stream);
	}
}

/* A crash after a flush renamed bodies into place but before its index commit: complete
 * files the index does not point at. The sweep deletes them; the message stays. */
static void
test_store_sweep_unreferenced(Fixture *fx, gconstpointer user_data)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(PrStoreMessage) message = NULL;
	gint64 inbox = add_folder(fx->store, "INBOX", "INBOX");
	guint64 kept = add_message(fx->store, inbox, 1, "");
	guint64 unreferenced = add_message(fx->store, inbox, 2, "");
	g_autofree gchar *kept_path = pr_store_get_body_path(fx->store, kept);
	g_autofree gchar *path = pr_store_get_body_path(fx->store, unreferenced);
	g_autofree gchar *bucket = bucket_path(fx, unreferenced);

	write_body(fx->store, kept, "kept", PR_STORE_DOWNLOAD_PARTIAL);
	g_clear_object(&fx->store);
	g_assert_cmpint(g_mkdir_with_parents(bucket, 0700), ==, 0);
	g_assert_true(g_file_set_contents(path, "complete, never marked", -1, &error));
	g_assert_no_error(error);
	db_query(fx->dir, "UPDATE meta SET value = 1 WHERE key = 'open'");

	fixture_reopen(fx);
	g_assert_false(g_file_test(path, G_FILE_TEST_EXISTS));
	g_assert_true(g_file_test(kept_path, G_FILE_TEST_IS_REGULAR));
	message = pr_store_get_message(fx->store, unreferenced, &error);
	g_assert_no_error(error);
	g_assert_cmpint(message->download, ==, PR_STORE_DOWNLOAD_HEADERS);
}

static void
test_store_body_abort(Fixture *fx, gconstpointer user_data)
{
	g_autoptr(GOutputStream) stream = NULL;
	g_autoptr(GOutputStream) leaked = NULL;
	g_autoptr(PrStoreMessage) message = NULL;
	g_autoptr(GError) error = NULL;
	g_autofree gchar *bucket = NULL;
	gint64 inbox = add_folder(fx->store, "INBOX", "INBOX");
	guint64 id = add_message(fx->store, inbox, 1, "");
	guint64 counter = pr_store_get_change_counter(fx->store);
	gint fd;

	bucket = bucket_path(fx, id);
	stream = pr_store_body_begin(fx->store, id, &error);
	g_assert_no_error(error);
	g_assert_true(g_output_stream_write_all(stream, "partial", 7, NULL, NULL, &error));
	g_assert_no_error(error);
	g_assert_cmpuint(count_entries(bucket), ==, 1);
	pr_store_body_abort(fx->store, id, stream);
	g_assert_cmpuint(count_entries(bucket), ==, 0);
	g_assert_cmpuint(pr_store_get_change_counter(fx->store), ==, counter);
	message = pr_store_get_message(fx->store, id, &error);
	g_assert_no_error(error);
	g_assert_cmpint(message->download, ==, PR_STORE_DOWNLOAD_HEADERS);
	fd = pr_store_open_body(fx->store, id, &error);
	g_assert_error(error, PR_ERROR, PR_ERROR_NOT_DOWNLOADED);
	g_assert_cmpint(fd, ==, -1);
	g_clear_error(&error);

	/* a stream dropped without commit or abort leaves nothing either */
	leaked = pr_store_body_begin(fx->store, id, &error);
	g_assert_no_error(error);
	g_assert_cmpuint(count_entries(bucket), ==, 1);
	g_clear_object(&leaked);
	g_assert_cmpuint(count_entries(bucket), ==, 0);

	/* the message goes away while its body downloads */
	g_clear_object(&stream);
	stream = pr_store_body_begin(fx->store, id, &error);
	g_assert_no_error(error);
	g_assert_true(pr_store_remove_message(fx->store, id, &error));
	g_assert_no_error(error);
	g_assert_false(
		pr_store_body_commit(fx->store, id, stream, PR_STORE_DOWNLOAD_COMPLETE, &error));
	g_assert_error(error, PR_ERROR, PR_ERROR_NOT_FOUND);
	g_clear_error(&error);
	g_assert_cmpuint(count_entries(bucket), ==, 0);

	g_clear_object(&stream);
	stream = pr_store_body_begin(fx->store, id, &error);
	g_assert_error(error, PR_ERROR, PR_ERROR_NOT_FOUND);
	g_assert_null(stream);
}

static void
test_store_body_not_downloaded(Fixture *fx, gconstpointer user_data)
{
	g_autoptr(GError) error = NULL;
	g_autofree gchar *path = NULL;
	gint64 inbox = add_folder(fx->store, "INBOX", "INBOX");
	guint64 headers = add_message(fx->store, inbox, 1, "");
	guint64 lost = add_message(fx->store, inbox, 2, "");
	gint fd;

	fd = pr_store_open_body(fx->store, headers, &error);
	g_assert_error(error, PR_ERROR, PR_ERROR_NOT_DOWNLOADED);
	g_assert_cmpint(fd, ==, -1);
	g_clear_error(&error);

	/* marked complete, but the file is gone */
	write_body(fx->store, lost, "body", PR_STORE_DOWNLOAD_COMPLETE);
	path = pr_store_get_body_path(fx->store, lost);
	g_assert_cmpint(g_unlink(path), ==, 0);
	fd = pr_store_open_body(fx->store, lost, &error);
	g_assert_error(error, PR_ERROR, PR_ERROR_NOT_DOWNLOADED);
	g_assert_cmpint(fd, ==, -1);
	g_clear_error(&error);

	fd = pr_store_open_body(fx->store, 4242, &error);
	g_assert_error(error, PR_ERROR, PR_ERROR_NOT_FOUND);
	g_assert_cmpint(fd, ==, -1);
}

static void
test_store_missing_bodies(Fixture *fx, gconstpointer user_data)
{
	g_autoptr(GArray) missing = NULL;
	g_autoptr(GError) error = NULL;
	gint64 inbox = add_folder(fx->store, "INBOX", "INBOX");
	guint64 m1 = add_message(fx->store, inbox, 1, "");
	guint64 m2 = add_message(fx->store, inbox, 2, "");
	guint64 m3 = add_message(fx->store, inbox, 3, "");
	guint64 m4 = add_message(fx->store, inbox, 4, "");

	write_body(fx->store, m2, "two", PR_STORE_DOWNLOAD_COMPLETE);
	write_body(fx->store, m3, "three", PR_STORE_DOWNLOAD_PARTIAL);
	missing = pr_store_get_missing_bodies(fx->store, inbox, &error);
	g_assert_no_error(error);
	g_assert_cmpuint(missing->len, ==, 3);
	g_assert_cmpuint(g_array_index(missing, guint64, 0), ==, m4);
	g_assert_cmpuint(g_array_index(missing, guint64, 1), ==, m3);
	g_assert_cmpuint(g_array_index(missing, guint64, 2), ==, m1);
}

static void
test_store_sweep(Fixture *fx, gconstpointer user_data)
{
	g_autoptr(GError) error = NULL;
	g_autofree gchar *kept = NULL;
	g_autofree gchar *orphan = NULL;
	g_autofree gchar *tmp = NULL;
	g_autofree gchar *foreign = NULL;
	gint64 inbox = add_folder(fx->store, "INBOX", "INBOX");
	guint64 id = add_message(fx->store, inbox, 1, "");
	guint64 orphan_id = id + 256 * 1000;

	write_body(fx->store, id, "keep me", PR_STORE_DOWNLOAD_COMPLETE);
	kept = pr_store_get_body_path(fx->store, id);
	orphan = pr_store_get_body_path(fx->store, orphan_id);
	tmp = g_strdup_printf("%s/messages/%02x/.%" G_GUINT64_FORMAT ".eml.tmp-Ab12Cd",
			      fx->dir,
			      (guint)(id % 256),
			      id);
	foreign = g_strdup_printf("%s/messages/%02x/notes.txt", fx->dir, (guint)(id % 256));
	g_clear_object(&fx->store);

	/* a crash: a download cut short and a removal committed but not carried out */
	g_assert_true(g_file_set_contents(orphan, "orphan", -1, &error));
	g_assert_no_error(error);
	g_assert_true(g_file_set_contents(tmp, "half a mess", -1, &error));
	g_assert_no_error(error);
	g_assert_true(g_file_set_contents(foreign, "not ours", -1, &error));
	g_assert_no_error(error);
	g_assert_cmpint(db_query(fx->dir, "SELECT value FROM meta WHERE key = 'open'"), ==, 0);
	db_query(fx->dir, "UPDATE meta SET value = 1 WHERE key = 'open'");

	fixture_reopen(fx);
	g_assert_false(g_file_test(tmp, G_FILE_TEST_EXISTS));
	g_assert_false(g_file_test(orphan, G_FILE_TEST_EXISTS));
	g_assert_true(g_file_test(kept, G_FILE_TEST_IS_REGULAR));
	g_assert_true(g_file_test(foreign, G_FILE_TEST_IS_REGULAR));
	g_clear_object(&fx->store);
	g_assert_cmpint(db_query(fx->dir, "SELECT value FROM meta WHERE key = 'open'"), ==, 0);
}

static void
test_store_transactions(Fixture *fx, gconstpointer user_data)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(PrStoreMessage) message = NULL;
	g_autofree gchar *path = NULL;
	gint64 inbox = add_folder(fx->store, "INBOX", "INBOX");
	guint64 body_id = add_message(fx->store, inbox, 100, "");
	guint64 counter;
	guint64 kept;
	guint64 dropped;

	write_body(fx->store, body_id, "body", PR_STORE_DOWNLOAD_COMPLETE);
	path = pr_store_get_body_path(fx->store, body_id);
	counter = pr_store_get_change_counter(fx->store);

	/* an inner rollback drops only its own level */
	g_assert_true(pr_store_begin(fx->store, &error));
	g_assert_no_error(error);
	kept = add_message(fx->store, inbox, 1, "");
	g_assert_true(pr_store_begin(fx->store, &error));
	g_assert_no_error(error);
	dropped = add_message(fx->store, inbox, 2, "");
	g_assert_cmpuint(pr_store_get_change_counter(fx->store), ==, counter + 2);
	pr_store_rollback(fx->store);
	g_assert_cmpuint(pr_store_get_change_counter(fx->store), ==, counter + 1);
	g_assert_true(pr_store_commit(fx->store, &error));
	g_assert_no_error(error);
	message = pr_store_get_message(fx->store, kept, &error);
	g_assert_no_error(error);
	g_clear_pointer(&message, pr_store_message_free);
	message = pr_store_get_message(fx->store, dropped, &error);
	g_assert_error(error, PR_ERROR, PR_ERROR_NOT_FOUND);
	g_clear_error(&error);

	/* a rolled back removal keeps the body file; a committed one removes it after */
	counter = pr_store_get_change_counter(fx->store);
	g_assert_true(pr_store_begin(fx->store, &error));
	g_assert_no_error(error);
	g_assert_true(pr_store_remove_message(fx->store, body_id, &error));
	g_assert_no_error(error);
	g_assert_true(g_file_test(path, G_FILE_TEST_IS_REGULAR));
	pr_store_rollback(fx->store);
	g_assert_true(g_file_test(path, G_FILE_TEST_IS_REGULAR));
	g_assert_cmpuint(pr_store_get_change_counter(fx->store), ==, counter);
	message = pr_store_get_message(fx->store, body_id, &error);
	g_assert_no_error(error);
	g_clear_pointer(&message, pr_store_message_free);

	g_assert_true(pr_store_begin(fx->store, &error));
	g_assert_no_error(error);
	g_assert_true(pr_store_remove_message(fx->store, body_id, &error));
	g_assert_no_error(error);
	g_assert_true(g_file_test(path, G_FILE_TEST_IS_REGULAR));
	g_assert_true(pr_store_commit(fx->store, &error));
	g_assert_no_error(error);
	g_assert_false(g_file_test(path, G_FILE_TEST_EXISTS));

	/* an outer rollback restores the persisted counter too */
	counter = pr_store_get_change_counter(fx->store);
	g_assert_true(pr_store_begin(fx->store, &error));
	g_assert_no_error(error);
	add_message(fx->store, inbox, 3, "");
	pr_store_rollback(fx->store);
	g_assert_cmpuint(pr_store_get_change_counter(fx->store), ==, counter);
	fixture_reopen(fx);
	g_assert_cmpuint(pr_store_get_change_counter(fx->store), ==, counter);
}

static void
test_store_bulk(Fixture *fx, gconstpointer user_data)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GTimer) timer = NULL;
	g_autoptr(PrStoreFolder) folder = NULL;
	g_autoptr(GArray) uids = NULL;
	g_autoptr(GPtrArray) page = NULL;
	const gchar *to[] = { "Bob <bob@example.org>", "carol@example.org", NULL };
	const guint n = 50000;
	PrStoreQuery query = { .offset = 49990, .limit = 100 };
	gint64 inbox = add_folder(fx->store, "INBOX", "INBOX");
	gdouble insert_time;

	timer = g_timer_new();
	g_assert_true(pr_store_begin(fx->store, &error));
	g_assert_no_error(error);
	for (guint32 uid = 1; uid <= n; uid++) {
		g_autoptr(PrStoreMessage) message =
			make_message(inbox, uid, uid % 2 == 0 ? "\\Seen $Work" : "\\Answered");
		message->to = g_strdupv((gchar **)to);
		message->message_id = g_strdup_printf("<%u@example.org>", uid);
		message->bodystructure = g_strdup("(\"TEXT\" \"PLAIN\" (\"CHARSET\" \"UTF-8\") "
						  "NIL NIL \"7BIT\" 1234 40 NIL NIL NIL)");
		g_assert_true(pr_store_save_message(fx->store, message, &error));
		g_assert_no_error(error);
	}
	g_assert_true(pr_store_commit(fx->store, &error));
	g_assert_no_error(error);
	insert_time = g_timer_elapsed(timer, NULL);
	g_test_message("inserted %u messages in one transaction in %.3f s (%.1f us each)",
		       n,
		       insert_time,
		       insert_time * 1e6 / n);
	g_assert_cmpuint(pr_store_get_change_counter(fx->store), ==, n);

	g_timer_start(timer);
	folder = pr_store_get_folder_by_id(fx->store, inbox, &error);
	g_assert_no_error(error);
	g_test_message("counted in %.3f ms", g_timer_elapsed(timer, NULL) * 1e3);
	g_assert_cmpuint(folder->messages, ==, n);
	g_assert_cmpuint(folder->unseen, ==, n / 2);

	g_timer_start(timer);
	uids = pr_store_get_uids(fx->store, inbox, 0, &error);
	g_assert_no_error(error);
	g_test_message("listed UIDs in %.3f ms", g_timer_elapsed(timer, NULL) * 1e3);
	g_assert_cmpuint(uids->len, ==, n);
	g_assert_cmpuint(g_array_index(uids, guint32, n - 1), ==, n);

	page = pr_store_list_messages(fx->store, inbox, &query, &error);
	g_assert_no_error(error);
	g_assert_cmpuint(page->len, ==, 10);
	g_assert_cmpuint(((PrStoreMessage *)g_ptr_array_index(page, 9))->uid, ==, n);
}

static void
test_store_destroy(Fixture *fx, gconstpointer user_data)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GOutputStream) stream = NULL;
	g_autoptr(GPtrArray) folders = NULL;
	gint64 inbox = add_folder(fx->store, "INBOX", "INBOX");
	guint64 id = add_message(fx->store, inbox, 1, "");

	write_body(fx->store, id, "body", PR_STORE_DOWNLOAD_COMPLETE);
	stream = pr_store_body_begin(fx->store, id, &error); /* a download in flight */
	g_assert_no_error(error);
	g_assert_true(pr_store_destroy(fx->store, &error));
	g_assert_no_error(error);
	g_assert_false(g_file_test(fx->dir, G_FILE_TEST_EXISTS));
	g_assert_true(g_file_test(fx->tmp, G_FILE_TEST_IS_DIR));

	/* unusable after */
	folders = pr_store_list_folders(fx->store, &error);
	g_assert_error(error, PR_ERROR, PR_ERROR_STORE_FAILED);
	g_assert_null(folders);
}

/* The removal of the files runs in a worker thread; the database is closed at once. */
static void
test_store_destroy_async(Fixture *fx, gconstpointer user_data)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GOutputStream) stream = NULL;
	g_autoptr(GPtrArray) folders = NULL;
	g_autoptr(GPtrArray) messages = NULL;
	g_autoptr(GAsyncResult) result = NULL;
	g_autofree gchar *seen_events = NULL;
	gint64 inbox = add_folder(fx->store, "INBOX", "INBOX");

	for (guint32 uid = 1; uid <= 50; uid++) {
		guint64 id = add_message(fx->store, inbox, uid, "");
		g_autofree gchar *body = g_strdup_printf("body %u", uid);
		write_body(fx->store, id, body, PR_STORE_DOWNLOAD_COMPLETE);
	}
	stream = pr_store_body_begin(fx->store, 1, &error); /* a download in flight */
	g_assert_no_error(error);
	g_free(take_events());

	pr_store_destroy_async(fx->store, NULL, async_result_cb, &result);
	/* closed before it returns */
	folders = pr_store_list_folders(fx->store, &error);
	g_assert_error(error, PR_ERROR, PR_ERROR_STORE_FAILED);
	g_assert_null(folders);
	g_clear_error(&error);
	g_assert_true(pr_store_destroy_finish(fx->store, async_result_wait(&result), &error));
	g_assert_no_error(error);
	seen_events = take_events();
	g_assert_cmpstr(seen_events, ==, "destroy@worker");
	g_assert_false(g_file_test(fx->dir, G_FILE_TEST_EXISTS));
	g_assert_true(g_file_test(fx->tmp, G_FILE_TEST_IS_DIR));

	/* nothing left to list */
	g_clear_object(&result);
	messages = list_messages_async(fx->store, inbox, NULL, &error);
	g_assert_error(error, PR_ERROR, PR_ERROR_STORE_FAILED);
	g_assert_null(messages);
	g_clear_error(&error);

	/* again: nothing to remove is no error */
	pr_store_destroy_async(fx->store, NULL, async_result_cb, &result);
	g_assert_true(pr_store_destroy_finish(fx->store, async_result_wait(&result), &error));
	g_assert_no_error(error);
}

/* Cancelled before it began: the store is closed, its files stay for pr_store_destroy(). */
static void
test_store_destroy_async_cancelled(Fixture *fx, gconstpointer user_data)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GAsyncResult) result = NULL;
	g_autoptr(GCancellable) cancellable = g_cancellable_new();
	gint64 inbox = add_folder(fx->store, "INBOX", "INBOX");
	guint64 id = add_message(fx->store, inbox, 1, "");
	g_autofree gchar *path = pr_store_get_body_path(fx->store, id);

	write_body(fx->store, id, "body", PR_STORE_DOWNLOAD_COMPLETE);
	g_cancellable_cancel(cancellable);
	pr_store_destroy_async(fx->store, cancellable, async_result_cb, &result);
	g_assert_false(pr_store_destroy_finish(fx->store, async_result_wait(&result), &error));
	g_assert_error(error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
	g_clear_error(&error);
	g_assert_true(g_file_test(path, G_FILE_TEST_IS_REGULAR));
	g_assert_true(pr_store_destroy(fx->store, &error));
	g_assert_no_error(error);
	g_assert_false(g_file_test(fx->dir, G_FILE_TEST_EXISTS));
}

/* Queued bodies go with the store; the batch fails to flush after. */
static void
test_store_destroy_deferred(Fixture *fx, gconstpointer user_data)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(PrStoreBodyBatch) batch = pr_store_body_batch_new(fx->store);
	gint64 inbox = add_folder(fx->store, "INBOX", "INBOX");
	guint64 id = add_message(fx->store, inbox, 1, "");

	write_body_deferred(batch, fx->store, id, "queued");
	g_assert_true(pr_store_destroy(fx->store, &error));
	g_assert_no_error(error);
	g_assert_false(g_file_test(fx->dir, G_FILE_TEST_EXISTS));
	g_assert_false(pr_store_bodies_flush(batch, NULL, &error));
	g_assert_error(error, PR_ERROR, PR_ERROR_STORE_FAILED);
	g_assert_cmpuint(pr_store_body_batch_get_pending(batch), ==, 0);
}

static void
test_store_destroy_symlink(Fixture *fx, gconstpointer user_data)
{
	g_autoptr(GError) error = NULL;
	g_autofree gchar *outside = g_build_filename(fx->tmp, "precious", NULL);
	g_autofree gchar *outside_file = g_build_filename(outside, "1.eml", NULL);
	g_autofree gchar *link = g_build_filename(fx->dir, "messages", "01", NULL);
	gint64 inbox = add_folder(fx->store, "INBOX", "INBOX");

	add_message(fx->store, inbox, 1, "");
	/* a bucket that is a symlink to somewhere else: never followed */
	g_assert_cmpint(g_mkdir(outside, 0700), ==, 0);
	g_assert_true(g_file_set_contents(outside_file, "precious", -1, &error));
	g_assert_no_error(error);
	g_assert_cmpint(symlink(outside, link), ==, 0);
	g_assert_false(pr_store_destroy(fx->store, &error));
	g_assert_error(error, PR_ERROR, PR_ERROR_STORE_FAILED);
	g_assert_true(g_file_test(outside_file, G_FILE_TEST_IS_REGULAR));
	/* what was ours is gone all the same */
	{
		g_autofree gchar *db = g_build_filename(fx->dir, "store.db", NULL);
		g_autofree gchar *messages = g_build_filename(fx->dir, "messages", NULL);
		g_assert_false(g_file_test(db, G_FILE_TEST_EXISTS));
		g_assert_cmpuint(count_entries(messages), ==, 1);
	}
}

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	main_thread = g_thread_self();
	events = g_ptr_array_new_with_free_func(g_free);
	pr_store_test_hook = record_event;

#define ADD(path, func) g_test_add(path, Fixture, NULL, fixture_setup, func, fixture_teardown)
	ADD("/store/create", test_store_create);
	ADD("/store/reopen", test_store_reopen);
	ADD("/store/schema-newer", test_store_schema_newer);
	ADD("/store/folders", test_store_folders);
	ADD("/store/rename", test_store_rename);
	ADD("/store/delete-folder", test_store_delete_folder);
	ADD("/store/message/save", test_store_message_save);
	ADD("/store/message/move", test_store_message_move);
	ADD("/store/message/ids-never-reused", test_store_ids_never_reused);
	ADD("/store/message/flags", test_store_flags);
	ADD("/store/message/uids", test_store_uids);
	ADD("/store/message/remove", test_store_remove);
	ADD("/store/message/list", test_store_list_messages);
	ADD("/store/message/list-async", test_store_list_messages_async);
	ADD("/store/message/list-async-writing", test_store_list_messages_async_writing);
	ADD("/store/message/removed-since", test_store_removed_since);
	ADD("/store/message/counts", test_store_counts);
	ADD("/store/message/counters", test_store_counters);
	ADD("/store/message/changes-since", test_store_changes_since);
	ADD("/store/migrate-counts", test_store_migrate_counts);
	ADD("/store/meta", test_store_meta);
	ADD("/store/body/commit", test_store_body);
	ADD("/store/body/abort", test_store_body_abort);
	ADD("/store/body/deferred", test_store_body_deferred);
	ADD("/store/body/flush-async", test_store_body_flush_async);
	ADD("/store/body/flush-async-replace", test_store_body_flush_async_replace);
	ADD("/store/body/commit-async", test_store_body_commit_async);
	ADD("/store/body/not-downloaded", test_store_body_not_downloaded);
	ADD("/store/body/missing", test_store_missing_bodies);
	ADD("/store/crash/sweep", test_store_sweep);
	ADD("/store/crash/sweep-unreferenced", test_store_sweep_unreferenced);
	ADD("/store/transactions", test_store_transactions);
	ADD("/store/bulk-50000", test_store_bulk);
	ADD("/store/destroy", test_store_destroy);
	ADD("/store/destroy-async", test_store_destroy_async);
	ADD("/store/destroy-async-cancelled", test_store_destroy_async_cancelled);
	ADD("/store/destroy-deferred", test_store_destroy_deferred);
	ADD("/store/destroy-symlink", test_store_destroy_symlink);
#undef ADD
	return g_test_run();
}
