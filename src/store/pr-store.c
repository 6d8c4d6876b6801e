/*
 * Copyright 2026 The Postroom developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#define G_LOG_DOMAIN "PrStore"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <glib/gi18n-lib.h>
#include <glib/gstdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "pr-error.h"
#include "pr-store-private.h"

/*
 * Durability: the index runs with WAL and synchronous=NORMAL, so a commit is atomic and
 * consistent but may be lost on power failure (never on a process crash). Everything here
 * can be re-synced from the server. The offline queue and the outbox cannot: their commits
 * must switch to `PRAGMA synchronous=FULL` around their own transaction.
 */

G_DEFINE_TYPE(PrStore, pr_store, G_TYPE_OBJECT)

PrStoreTestHook pr_store_test_hook = NULL;

void
pr_store_test_event(const gchar *event)
{
	if (pr_store_test_hook != NULL)
		pr_store_test_hook(event);
}

/* Helpers ------------------------------------------------------------------------------- */

void
pr_store_stmt_release(PrStoreStmt *stmt)
{
	sqlite3_reset(stmt);
	sqlite3_clear_bindings(stmt);
}

void
pr_store_set_db_error(PrStore *self, GError **error)
{
	g_set_error(error,
		    PR_ERROR,
		    PR_ERROR_STORE_FAILED,
		    _("Store database error: %s"),
		    self->db != NULL ? sqlite3_errmsg(self->db) : "closed");
}

/* @format names what failed, e.g. _("Cannot create %s"); the system's reason follows. */
void
pr_store_set_errno_error(GError **error, gint errsv, const gchar *format, ...)
{
	g_autofree gchar *what = NULL;
	va_list args;

	va_start(args, format);
	what = g_strdup_vprintf(format, args);
	va_end(args);
	g_set_error(error, PR_ERROR, PR_ERROR_STORE_FAILED, "%s: %s", what, g_strerror(errsv));
}

/* 64-bit numbers go through %lld/%llu: xgettext cannot read G_GINT64_FORMAT */
void
pr_store_set_folder_id_error(GError **error, gint64 id)
{
	g_set_error(
		error, PR_ERROR, PR_ERROR_NOT_FOUND, _("No folder with id %lld"), (long long)id);
}

void
pr_store_set_message_error(GError **error, guint64 id)
{
	g_set_error(error,
		    PR_ERROR,
		    PR_ERROR_NOT_FOUND,
		    _("No message with id %llu"),
		    (unsigned long long)id);
}

PrStoreStmt *
pr_store_prepare(PrStore *self, PrStoreStmtId id, GError **error)
{
	if (self->db == NULL) {
		g_set_error_literal(
			error, PR_ERROR, PR_ERROR_STORE_FAILED, _("The store is closed"));
		return NULL;
	}
	if (self->stmts[id] == NULL) {
		if (sqlite3_prepare_v3(self->db,
				       pr_store_sql[id],
				       -1,
				       SQLITE_PREPARE_PERSISTENT,
				       &self->stmts[id],
				       NULL) != SQLITE_OK) {
			pr_store_set_db_error(self, error);
			return NULL;
		}
	}
	return self->stmts[id];
}

/* Runs a statement that returns no rows (or whose rows are not wanted). */
gboolean
pr_store_step_done(PrStore *self, PrStoreStmt *stmt, GError **error)
{
	gint rc = sqlite3_step(stmt);
	if (rc != SQLITE_DONE && rc != SQLITE_ROW) {
		pr_store_set_db_error(self, error);
		return FALSE;
	}
	return TRUE;
}

/* Steps a query: TRUE with *row set when it gave a row or was done. */
gboolean
pr_store_step_row(PrStore *self, PrStoreStmt *stmt, gboolean *row, GError **error)
{
	gint rc = sqlite3_step(stmt);
	if (rc == SQLITE_ROW) {
		*row = TRUE;
		return TRUE;
	}
	*row = FALSE;
	if (rc != SQLITE_DONE) {
		pr_store_set_db_error(self, error);
		return FALSE;
	}
	return TRUE;
}

gboolean
pr_store_run(PrStore *self, PrStoreStmtId id, GError **error)
{
	g_autoptr(PrStoreStmt) stmt = pr_store_prepare(self, id, error);
	if (stmt == NULL)
		return FALSE;
	return pr_store_step_done(self, stmt, error);
}

static gboolean
pr_store_exec(PrStore *self, const gchar *sql, GError **error)
{
	if (sqlite3_exec(self->db, sql, NULL, NULL, NULL) != SQLITE_OK) {
		pr_store_set_db_error(self, error);
		return FALSE;
	}
	return TRUE;
}

/* A one-off query giving a single value (pragmas). */
static gboolean
pr_store_query_value(PrStore *self, const gchar *sql, gint64 *number, gchar **text, GError **error)
{
	sqlite3_stmt *stmt = NULL;
	gint rc;

	if (sqlite3_prepare_v2(self->db, sql, -1, &stmt, NULL) != SQLITE_OK) {
		pr_store_set_db_error(self, error);
		return FALSE;
	}
	rc = sqlite3_step(stmt);
	if (rc != SQLITE_ROW) {
		if (rc == SQLITE_DONE)
			g_set_error(error,
				    PR_ERROR,
				    PR_ERROR_STORE_FAILED,
				    _("Store database error: no result for %s"),
				    sql);
		else
			pr_store_set_db_error(self, error);
		sqlite3_finalize(stmt);
		return FALSE;
	}
	if (number != NULL)
		*number = sqlite3_column_int64(stmt, 0);
	if (text != NULL)
		*text = g_strdup((const gchar *)sqlite3_column_text(stmt, 0));
	sqlite3_finalize(stmt);
	return TRUE;
}

void
pr_store_bind_text(PrStoreStmt *stmt, gint idx, const gchar *text)
{
	if (text == NULL)
		sqlite3_bind_null(stmt, idx);
	else
		sqlite3_bind_text(stmt, idx, text, -1, SQLITE_STATIC);
}

gchar *
pr_store_column_dup(PrStoreStmt *stmt, gint col)
{
	return g_strdup((const gchar *)sqlite3_column_text(stmt, col));
}

/* Stored strings are shown over D-Bus, which needs UTF-8: repair what the server sent. */
const gchar *
pr_store_utf8(const gchar *text, gchar **repaired)
{
	if (text == NULL || g_utf8_validate(text, -1, NULL))
		return text;
	*repaired = g_utf8_make_valid(text, -1);
	return *repaired;
}

/* An address list as stored: newline-joined; an item's own newlines become spaces. */
gchar *
pr_store_list_join(const gchar *const *items)
{
	GString *str = g_string_new(NULL);
	for (guint i = 0; items != NULL && items[i] != NULL; i++) {
		g_autofree gchar *repaired = NULL;
		const gchar *item = pr_store_utf8(items[i], &repaired);
		gsize start;
		if (i > 0)
			g_string_append_c(str, '\n');
		start = str->len;
		g_string_append(str, item);
		for (gsize j = start; j < str->len; j++) {
			if (str->str[j] == '\n' || str->str[j] == '\r')
				str->str[j] = ' ';
		}
	}
	return g_string_free(str, FALSE);
}

gchar **
pr_store_list_split(const gchar *text, const gchar *delimiter)
{
	if (text == NULL || text[0] == '\0')
		return g_new0(gchar *, 1);
	return g_strsplit(text, delimiter, -1);
}

/* Structures ---------------------------------------------------------------------------- */

const gchar *
pr_store_download_to_string(PrStoreDownload download)
{
	switch (download) {
	case PR_STORE_DOWNLOAD_HEADERS:
		return "headers";
	case PR_STORE_DOWNLOAD_PARTIAL:
		return "partial";
	case PR_STORE_DOWNLOAD_COMPLETE:
		return "complete";
	default:
		return NULL;
	}
}

/* Transactions -------------------------------------------------------------------------- */

static gboolean
pr_store_meta_get(PrStore *self, const gchar *key, gint64 *value, GError **error)
{
	g_autoptr(PrStoreStmt) stmt = pr_store_prepare(self, STMT_META_GET, error);
	gboolean row = FALSE;

	if (stmt == NULL)
		return FALSE;
	pr_store_bind_text(stmt, 1, key);
	if (!pr_store_step_row(self, stmt, &row, error))
		return FALSE;
	*value = row ? sqlite3_column_int64(stmt, 0) : 0;
	return TRUE;
}

static gboolean
pr_store_meta_set(PrStore *self, const gchar *key, gint64 value, GError **error)
{
	g_autoptr(PrStoreStmt) stmt = pr_store_prepare(self, STMT_META_SET, error);
	if (stmt == NULL)
		return FALSE;
	pr_store_bind_text(stmt, 1, key);
	sqlite3_bind_int64(stmt, 2, value);
	return pr_store_step_done(self, stmt, error);
}

/* The store's own keys: written only by the store. */
static gboolean
pr_store_meta_key_is_reserved(const gchar *key)
{
	return g_strcmp0(key, "change-counter") == 0 || g_strcmp0(key, "open") == 0;
}

gboolean
pr_store_get_meta(PrStore *self, const gchar *key, gint64 *value, gboolean *found, GError **error)
{
	g_autoptr(PrStoreStmt) stmt = NULL;
	gboolean row = FALSE;

	g_return_val_if_fail(PR_IS_STORE(self), FALSE);
	g_return_val_if_fail(key != NULL, FALSE);
	g_return_val_if_fail(value != NULL, FALSE);

	stmt = pr_store_prepare(self, STMT_META_GET, error);
	if (stmt == NULL)
		return FALSE;
	pr_store_bind_text(stmt, 1, key);
	if (!pr_store_step_row(self, stmt, &row, error))
		return FALSE;
	*value = row ? sqlite3_column_int64(stmt, 0) : 0;
	if (found != NULL)
		*found = row;
	return TRUE;
}

gboolean
pr_store_set_meta(PrStore *self, const gchar *key, gint64 value, GError **error)
{
	g_return_val_if_fail(PR_IS_STORE(self), FALSE);
	g_return_val_if_fail(key != NULL, FALSE);
	g_return_val_if_fail(!pr_store_meta_key_is_reserved(key), FALSE);

	return pr_store_meta_set(self, key, value, error);
}

gboolean
pr_store_delete_meta(PrStore *self, const gchar *key, GError **error)
{
	g_autoptr(PrStoreStmt) stmt = NULL;

	g_return_val_if_fail(PR_IS_STORE(self), FALSE);
	g_return_val_if_fail(key != NULL, FALSE);
	g_return_val_if_fail(!pr_store_meta_key_is_reserved(key), FALSE);

	stmt = pr_store_prepare(self, STMT_META_DELETE, error);
	if (stmt == NULL)
		return FALSE;
	pr_store_bind_text(stmt, 1, key);
	return pr_store_step_done(self, stmt, error);
}

gboolean
pr_store_begin(PrStore *self, GError **error)
{
	PrStoreLevel level;

	g_return_val_if_fail(PR_IS_STORE(self), FALSE);

	if (self->levels->len > 0 && self->db != NULL && sqlite3_get_autocommit(self->db)) {
		/* SQLite rolled the whole transaction back (disk full, I/O error): refuse to
		 * write outside it until the outermost level ends */
		g_set_error_literal(error,
				    PR_ERROR,
				    PR_ERROR_STORE_FAILED,
				    _("The store transaction was aborted"));
		return FALSE;
	}
	if (!pr_store_run(self, self->levels->len == 0 ? STMT_BEGIN : STMT_SAVEPOINT, error))
		return FALSE;
	level.counter = self->counter;
	level.unlink_len = self->unlink_ids->len;
	g_array_append_val(self->levels, level);
	return TRUE;
}

/* Body files of committed removals: the rows are gone, so a leftover is only litter. */
static void
pr_store_unlink_bodies(PrStore *self)
{
	for (guint i = 0; i < self->unlink_ids->len; i++) {
		g_autofree gchar *path =
			pr_store_get_body_path(self, g_array_index(self->unlink_ids, guint64, i));
		if (g_unlink(path) != 0 && errno != ENOENT)
			g_warning("failed to remove %s: %s", path, g_strerror(errno));
	}
	g_array_set_size(self->unlink_ids, 0);
}

void
pr_store_rollback(PrStore *self)
{
	PrStoreLevel level;
	g_autoptr(GError) error_local = NULL;

	g_return_if_fail(PR_IS_STORE(self));
	g_return_if_fail(self->levels->len > 0);

	level = g_array_index(self->levels, PrStoreLevel, self->levels->len - 1);
	if (self->db == NULL || sqlite3_get_autocommit(self->db)) {
		/* already rolled back as a whole by SQLite: nothing of any level survives */
		level = g_array_index(self->levels, PrStoreLevel, 0);
	} else if (self->levels->len == 1) {
		if (!pr_store_run(self, STMT_ROLLBACK, &error_local))
			g_warning("rollback failed: %s", error_local->message);
	} else {
		if (!pr_store_run(self, STMT_ROLLBACK_TO, &error_local) ||
		    !pr_store_run(self, STMT_RELEASE, &error_local))
			g_warning("rollback to savepoint failed: %s", error_local->message);
	}
	self->counter = level.counter;
	g_array_set_size(self->unlink_ids, level.unlink_len);
	g_array_set_size(self->levels, self->levels->len - 1);
}

gboolean
pr_store_commit(PrStore *self, GError **error)
{
	g_return_val_if_fail(PR_IS_STORE(self), FALSE);
	g_return_val_if_fail(self->levels->len > 0, FALSE);

	if (self->db == NULL || sqlite3_get_autocommit(self->db)) {
		g_set_error_literal(error,
				    PR_ERROR,
				    PR_ERROR_STORE_FAILED,
				    _("The store transaction was aborted"));
		pr_store_rollback(self);
		return FALSE;
	}
	if (self->levels->len > 1) {
		if (!pr_store_run(self, STMT_RELEASE, error)) {
			pr_store_rollback(self);
			return FALSE;
		}
		g_array_set_size(self->levels, self->levels->len - 1);
		return TRUE;
	}

	/* the counter is written once per transaction, with the rows it stamped */
	if (self->counter != self->counter_saved &&
	    !pr_store_meta_set(self, "change-counter", (gint64)self->counter, error)) {
		pr_store_rollback(self);
		return FALSE;
	}
	if (!pr_store_run(self, STMT_COMMIT, error)) {
		pr_store_rollback(self);
		return FALSE;
	}
	g_array_set_size(self->levels, 0);
	self->counter_saved = self->counter;
	pr_store_unlink_bodies(self);
	return TRUE;
}

guint64
pr_store_get_change_counter(PrStore *self)
{
	g_return_val_if_fail(PR_IS_STORE(self), 0);
	return self->counter;
}

/* A new counter value for the rows about to change; taken only once they did. */
guint64
pr_store_next_change(PrStore *self)
{
	return self->counter + 1;
}

/* Files --------------------------------------------------------------------------------- */

static gboolean
pr_store_make_private_dir(const gchar *path, gboolean follow, GError **error)
{
	struct stat st;

	if (g_mkdir_with_parents(path, 0700) != 0) {
		pr_store_set_errno_error(error, errno, _("Cannot create %s"), path);
		return FALSE;
	}
	if ((follow ? stat(path, &st) : lstat(path, &st)) != 0) {
		pr_store_set_errno_error(error, errno, _("Cannot open %s"), path);
		return FALSE;
	}
	if (!S_ISDIR(st.st_mode)) {
		pr_store_set_errno_error(error, ENOTDIR, _("Cannot open %s"), path);
		return FALSE;
	}
	if ((st.st_mode & 07777) != 0700 && g_chmod(path, 0700) != 0) {
		pr_store_set_errno_error(error, errno, _("Cannot restrict access to %s"), path);
		return FALSE;
	}
	return TRUE;
}

/* Creates the database file 0600 before SQLite sees it (its -wal and -shm copy the mode). */
static gboolean
pr_store_make_private_file(const gchar *path, GError **error)
{
	struct stat st;
	gint fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY, 0600);

	if (fd < 0) {
		pr_store_set_errno_error(error, errno, _("Cannot create %s"), path);
		return FALSE;
	}
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) ||
	    ((st.st_mode & 07777) != 0600 && fchmod(fd, 0600) != 0)) {
		gint errsv = S_ISREG(st.st_mode) ? errno : EINVAL;
		close(fd);
		pr_store_set_errno_error(error, errsv, _("Cannot restrict access to %s"), path);
		return FALSE;
	}
	close(fd);
	return TRUE;
}

/* Object -------------------------------------------------------------------------------- */

void
pr_store_close(PrStore *self)
{
	gint rc;

	pr_store_reader_close(self);
	if (self->db == NULL)
		return;
	if (self->levels->len > 0) {
		g_warning("store closed inside a transaction: rolled back");
		while (self->levels->len > 0)
			pr_store_rollback(self);
	}

	/* a body still being written means this was not a clean shutdown */
	if (self->marked_open && self->open_bodies == 0) {
		g_autoptr(GError) error_local = NULL;
		if (!pr_store_meta_set(self, "open", 0, &error_local))
			g_warning("failed to mark the store closed: %s", error_local->message);
	}
	for (guint i = 0; i < STMT_LAST; i++)
		g_clear_pointer(&self->stmts[i], sqlite3_finalize);
	rc = sqlite3_close(self->db);
	if (rc != SQLITE_OK)
		g_warning("failed to close the store: %s", sqlite3_errstr(rc));
	self->db = NULL;
}

static void
pr_store_finalize(GObject *object)
{
	PrStore *self = PR_STORE(object);

	pr_store_close(self);
	g_array_unref(self->levels);
	g_array_unref(self->unlink_ids);
	g_free(self->directory);
	g_free(self->messages_dir);
	g_ptr_array_unref(self->readers_idle);
	g_mutex_clear(&self->reader_lock);
	G_OBJECT_CLASS(pr_store_parent_class)->finalize(object);
}

static void
pr_store_class_init(PrStoreClass *klass)
{
	GObjectClass *object_class = G_OBJECT_CLASS(klass);
	object_class->finalize = pr_store_finalize;
}

static void
pr_store_init(PrStore *self)
{
	self->levels = g_array_new(FALSE, FALSE, sizeof(PrStoreLevel));
	self->unlink_ids = g_array_new(FALSE, FALSE, sizeof(guint64));
	g_mutex_init(&self->reader_lock);
	self->readers_idle = g_ptr_array_new();
}

static gboolean
pr_store_migrate(PrStore *self, GError **error)
{
	gint64 version = 0;

	if (!pr_store_query_value(self, "PRAGMA user_version", &version, NULL, error))
		return FALSE;
	if (version < 0 || version > (gint64)pr_store_migrations_len) {
		g_set_error(error,
			    PR_ERROR,
			    PR_ERROR_STORE_FAILED,
			    _("The store in %s has schema version %lld, which this version of "
			      "Postroom does not know"),
			    self->directory,
			    (long long)version);
		return FALSE;
	}
	for (guint i = (guint)version; i < pr_store_migrations_len; i++) {
		g_autofree gchar *bump = g_strdup_printf("PRAGMA user_version = %u", i + 1);

		g_debug("migrating %s to schema version %u", self->directory, i + 1);
		if (!pr_store_exec(self, "BEGIN IMMEDIATE", error))
			return FALSE;
		if (!pr_store_exec(self, pr_store_migrations[i], error) ||
		    !pr_store_exec(self, bump, error) || !pr_store_exec(self, "COMMIT", error)) {
			sqlite3_exec(self->db, "ROLLBACK", NULL, NULL, NULL);
			return FALSE;
		}
	}
	return TRUE;
}

static gboolean
pr_store_open_db(PrStore *self, const gchar *path, GError **error)
{
	g_autofree gchar *journal_mode = NULL;
	gint rc =
		sqlite3_open_v2(path,
				&self->db,
				SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_NOFOLLOW,
				NULL);
	if (rc != SQLITE_OK) {
		pr_store_set_db_error(self, error);
		return FALSE;
	}
	sqlite3_extended_result_codes(self->db, 1);
	/* another process (a tool) may read it; we are the only writer */
	sqlite3_busy_timeout(self->db, 5000);
	if (!pr_store_query_value(self, "PRAGMA journal_mode = WAL", NULL, &journal_mode, error))
		return FALSE;
	if (g_ascii_strcasecmp(journal_mode, "wal") != 0) {
		g_set_error(error,
			    PR_ERROR,
			    PR_ERROR_STORE_FAILED,
			    _("Store database error: cannot use write-ahead logging (mode %s)"),
			    journal_mode);
		return FALSE;
	}
	/* temp_store: savepoint journals stay in memory; spilled to /var/tmp they cost a batch of
	 * 50,000 messages some 470,000 extra writes */
	return pr_store_exec(self,
			     "PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON; "
			     "PRAGMA temp_store = MEMORY;",
			     error);
}

PrStore *
pr_store_new(const gchar *directory, GError **error)
{
	g_autoptr(PrStore) self = NULL;
	g_autofree gchar *db_path = NULL;
	gint64 counter = 0;
	gint64 was_open = 0;

	g_return_val_if_fail(directory != NULL, NULL);
	g_return_val_if_fail(error == NULL || *error == NULL, NULL);

	self = g_object_new(PR_TYPE_STORE, NULL);
	self->directory = g_strdup(directory);
	self->messages_dir = g_build_filename(directory, "messages", NULL);
	db_path = g_build_filename(directory, "store.db", NULL);
	if (!pr_store_make_private_dir(directory, TRUE, error))
		return NULL;
	if (!pr_store_make_private_dir(self->messages_dir, FALSE, error))
		return NULL;
	if (!pr_store_make_private_file(db_path, error))
		return NULL;
	if (!pr_store_open_db(self, db_path, error))
		return NULL;
	if (!pr_store_migrate(self, error))
		return NULL;
	if (!pr_store_meta_get(self, "change-counter", &counter, error))
		return NULL;
	self->counter = self->counter_saved = (guint64)counter;
	if (!pr_store_meta_get(self, "open", &was_open, error))
		return NULL;
	if (was_open != 0)
		pr_store_sweep(self);
	if (!pr_store_meta_set(self, "open", 1, error))
		return NULL;
	self->marked_open = TRUE;
	return g_steal_pointer(&self);
}

const gchar *
pr_store_get_directory(PrStore *self)
{
	g_return_val_if_fail(PR_IS_STORE(self), NULL);
	return self->directory;
}
