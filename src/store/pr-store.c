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

PrStoreFolder *
pr_store_folder_new(void)
{
	return g_new0(PrStoreFolder, 1);
}

void
pr_store_folder_free(PrStoreFolder *folder)
{
	if (folder == NULL)
		return;
	g_free(folder->name);
	g_free(folder->raw_name);
	g_strfreev(folder->attributes);
	g_free(folder->special_use);
	g_free(folder);
}

static PrStoreFolder *
pr_store_folder_from_row(PrStoreStmt *stmt)
{
	PrStoreFolder *folder = pr_store_folder_new();
	folder->id = sqlite3_column_int64(stmt, 0);
	folder->name = pr_store_column_dup(stmt, 1);
	folder->raw_name = pr_store_column_dup(stmt, 2);
	folder->delimiter = (gchar)sqlite3_column_int(stmt, 3);
	folder->attributes = pr_store_list_split((const gchar *)sqlite3_column_text(stmt, 4), "\n");
	folder->special_use = pr_store_column_dup(stmt, 5);
	folder->subscribed = sqlite3_column_int(stmt, 6) != 0;
	folder->remote_subscribed = sqlite3_column_int(stmt, 7) != 0;
	folder->local = sqlite3_column_int(stmt, 8) != 0;
	folder->uidvalidity = (guint32)sqlite3_column_int64(stmt, 9);
	folder->uidnext = (guint32)sqlite3_column_int64(stmt, 10);
	folder->highestmodseq = (guint64)sqlite3_column_int64(stmt, 11);
	folder->last_sync = sqlite3_column_int64(stmt, 12);
	folder->messages = (guint32)sqlite3_column_int64(stmt, 13);
	folder->unseen = (guint32)sqlite3_column_int64(stmt, 14);
	return folder;
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

/* Names in a directory, read before anything in it is removed. */
static GPtrArray *
pr_store_read_dir(gint dfd, const gchar *path, GError **error)
{
	g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func(g_free);
	struct dirent *entry;
	DIR *dir;
	gint fd = dup(dfd);

	if (fd < 0 || (dir = fdopendir(fd)) == NULL) {
		gint errsv = errno;
		if (fd >= 0)
			close(fd);
		pr_store_set_errno_error(error, errsv, _("Cannot read %s"), path);
		return NULL;
	}
	rewinddir(dir);
	while ((entry = readdir(dir)) != NULL) {
		if (g_strcmp0(entry->d_name, ".") == 0 || g_strcmp0(entry->d_name, "..") == 0)
			continue;
		g_ptr_array_add(names, g_strdup(entry->d_name));
	}
	closedir(dir);
	return g_steal_pointer(&names);
}

static gboolean
pr_store_is_regular_at(gint dfd, const gchar *name)
{
	struct stat st;
	return fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG(st.st_mode);
}

static gboolean
pr_store_is_bucket_name(const gchar *name)
{
	return strlen(name) == 2 && g_ascii_isxdigit(name[0]) && g_ascii_isxdigit(name[1]) &&
	       !g_ascii_isupper(name[0]) && !g_ascii_isupper(name[1]);
}

static gboolean
pr_store_is_tmp_name(const gchar *name)
{
	return name[0] == '.' && strstr(name, ".eml.tmp-") != NULL;
}

/* "ID.eml" -> ID */
static gboolean
pr_store_parse_body_name(const gchar *name, guint64 *id)
{
	g_autofree gchar *number = NULL;
	if (!g_str_has_suffix(name, ".eml"))
		return FALSE;
	number = g_strndup(name, strlen(name) - 4);
	return g_ascii_string_to_unsigned(number, 10, 1, G_MAXINT64, id, NULL);
}

/* After an unclean shutdown: drop temporary files of interrupted downloads, bodies whose
 * removal was committed but not yet carried out, and bodies the index does not point at
 * (see pr-store.h on durability). A clean shutdown skips this. */
static void
pr_store_sweep(PrStore *self)
{
	guint removed = 0;

	for (guint bucket = 0; bucket < 256; bucket++) {
		g_autofree gchar *path = g_strdup_printf("%s/%02x", self->messages_dir, bucket);
		g_autoptr(GPtrArray) names = NULL;
		g_autoptr(GError) error_local = NULL;
		gint dfd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);

		if (dfd < 0)
			continue;
		names = pr_store_read_dir(dfd, path, &error_local);
		if (names == NULL) {
			g_warning("%s", error_local->message);
			close(dfd);
			continue;
		}
		for (guint i = 0; i < names->len; i++) {
			const gchar *name = g_ptr_array_index(names, i);
			gboolean stale = FALSE;
			guint64 id = 0;

			if (!pr_store_is_regular_at(dfd, name))
				continue;
			if (pr_store_is_tmp_name(name)) {
				stale = TRUE;
			} else if (pr_store_parse_body_name(name, &id) && id % 256 == bucket) {
				/* also a body renamed into place by a flush whose index commit
				 * never happened: complete, but the message says "headers" */
				gboolean referenced = TRUE;
				if (!pr_store_body_referenced(
					    self, id, &referenced, &error_local)) {
					g_warning("%s", error_local->message);
					g_clear_error(&error_local);
				}
				stale = !referenced;
			}
			if (!stale)
				continue;
			if (unlinkat(dfd, name, 0) != 0)
				g_warning("failed to remove %s/%s: %s",
					  path,
					  name,
					  g_strerror(errno));
			else
				removed++;
		}
		close(dfd);
	}
	g_debug("swept %u stale files from %s", removed, self->messages_dir);
}

/* Object -------------------------------------------------------------------------------- */

static void
pr_store_close(PrStore *self)
{
	gint rc;

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

/* Destroy ------------------------------------------------------------------------------- */

/* Removes our regular files named by @match in @dfd, never following a symlink. */
static gboolean
pr_store_remove_files_at(gint dfd,
			 const gchar *path,
			 gboolean (*match)(const gchar *name),
			 GError **error)
{
	g_autoptr(GPtrArray) names = pr_store_read_dir(dfd, path, error);

	if (names == NULL)
		return FALSE;
	for (guint i = 0; i < names->len; i++) {
		const gchar *name = g_ptr_array_index(names, i);
		if (!match(name) || !pr_store_is_regular_at(dfd, name))
			continue;
		if (unlinkat(dfd, name, 0) != 0 && errno != ENOENT) {
			g_autofree gchar *file = g_build_filename(path, name, NULL);
			pr_store_set_errno_error(error, errno, _("Cannot remove %s"), file);
			return FALSE;
		}
	}
	return TRUE;
}

static gboolean
pr_store_is_body_file_name(const gchar *name)
{
	guint64 id;
	return pr_store_is_tmp_name(name) || pr_store_parse_body_name(name, &id);
}

static gboolean
pr_store_is_db_file_name(const gchar *name)
{
	return g_strcmp0(name, "store.db") == 0 || g_strcmp0(name, "store.db-wal") == 0 ||
	       g_strcmp0(name, "store.db-shm") == 0 || g_strcmp0(name, "store.db-journal") == 0;
}

/* Destroying goes as far as it can and reports the first failure. */
static void
pr_store_keep_first_error(GError **first, GError *error)
{
	if (*first == NULL)
		*first = error;
	else
		g_error_free(error);
}

static void
pr_store_remove_messages_dir(gint dfd, const gchar *path, GError **first)
{
	g_autoptr(GPtrArray) names = NULL;
	GError *error_local = NULL;

	names = pr_store_read_dir(dfd, path, &error_local);
	if (names == NULL) {
		pr_store_keep_first_error(first, error_local);
		return;
	}
	for (guint i = 0; i < names->len; i++) {
		const gchar *name = g_ptr_array_index(names, i);
		g_autofree gchar *sub = NULL;
		gint sfd;

		if (!pr_store_is_bucket_name(name))
			continue;
		sub = g_build_filename(path, name, NULL);
		/* a symlink planted here is not ours: O_NOFOLLOW refuses it */
		sfd = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (sfd < 0) {
			if (errno != ENOTDIR && errno != ELOOP) {
				pr_store_set_errno_error(
					&error_local, errno, _("Cannot open %s"), sub);
				pr_store_keep_first_error(first, error_local);
			}
			continue;
		}
		if (!pr_store_remove_files_at(sfd, sub, pr_store_is_body_file_name, &error_local)) {
			pr_store_keep_first_error(first, error_local);
			error_local = NULL;
		}
		close(sfd);
		if (unlinkat(dfd, name, AT_REMOVEDIR) != 0) {
			pr_store_set_errno_error(&error_local, errno, _("Cannot remove %s"), sub);
			pr_store_keep_first_error(first, error_local);
			error_local = NULL;
		}
	}
}

gboolean
pr_store_destroy(PrStore *self, GError **error)
{
	GError *first = NULL;
	GError *error_local = NULL;
	gint dfd;
	gint mfd;

	g_return_val_if_fail(PR_IS_STORE(self), FALSE);

	/* nothing left to mark: the files go */
	self->marked_open = FALSE;
	pr_store_close(self);
	g_array_set_size(self->unlink_ids, 0);

	dfd = open(self->directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0) {
		if (errno == ENOENT)
			return TRUE;
		pr_store_set_errno_error(error, errno, _("Cannot open %s"), self->directory);
		return FALSE;
	}
	mfd = openat(dfd, "messages", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (mfd >= 0) {
		pr_store_remove_messages_dir(mfd, self->messages_dir, &first);
		close(mfd);
		if (unlinkat(dfd, "messages", AT_REMOVEDIR) != 0) {
			pr_store_set_errno_error(
				&error_local, errno, _("Cannot remove %s"), self->messages_dir);
			pr_store_keep_first_error(&first, error_local);
			error_local = NULL;
		}
	}
	if (!pr_store_remove_files_at(
		    dfd, self->directory, pr_store_is_db_file_name, &error_local)) {
		pr_store_keep_first_error(&first, error_local);
		error_local = NULL;
	}
	close(dfd);
	/* fails on anything we did not create, which we leave alone */
	if (g_rmdir(self->directory) != 0) {
		pr_store_set_errno_error(
			&error_local, errno, _("Cannot remove %s"), self->directory);
		pr_store_keep_first_error(&first, error_local);
	}
	if (first != NULL) {
		g_propagate_error(error, first);
		return FALSE;
	}
	return TRUE;
}

/* Folders ------------------------------------------------------------------------------- */

/* NotFound unless @id is a folder; its name in @name when wanted. */
gboolean
pr_store_folder_check(PrStore *self, gint64 id, gchar **name, GError **error)
{
	g_autoptr(PrStoreStmt) stmt = pr_store_prepare(self, STMT_FOLDER_CHECK, error);
	gboolean row = FALSE;

	if (stmt == NULL)
		return FALSE;
	sqlite3_bind_int64(stmt, 1, id);
	if (!pr_store_step_row(self, stmt, &row, error))
		return FALSE;
	if (!row) {
		pr_store_set_folder_id_error(error, id);
		return FALSE;
	}
	if (name != NULL)
		*name = pr_store_column_dup(stmt, 0);
	return TRUE;
}

GPtrArray *
pr_store_list_folders(PrStore *self, GError **error)
{
	g_autoptr(GPtrArray) folders =
		g_ptr_array_new_with_free_func((GDestroyNotify)pr_store_folder_free);
	g_autoptr(PrStoreStmt) stmt = NULL;
	gboolean row = TRUE;

	g_return_val_if_fail(PR_IS_STORE(self), NULL);

	stmt = pr_store_prepare(self, STMT_FOLDER_LIST, error);
	if (stmt == NULL)
		return NULL;
	while (TRUE) {
		if (!pr_store_step_row(self, stmt, &row, error))
			return NULL;
		if (!row)
			break;
		g_ptr_array_add(folders, pr_store_folder_from_row(stmt));
	}
	return g_steal_pointer(&folders);
}

PrStoreFolder *
pr_store_get_folder(PrStore *self, const gchar *name, GError **error)
{
	g_autoptr(PrStoreStmt) stmt = NULL;
	gboolean row = FALSE;

	g_return_val_if_fail(PR_IS_STORE(self), NULL);
	g_return_val_if_fail(name != NULL, NULL);

	stmt = pr_store_prepare(self, STMT_FOLDER_BY_NAME, error);
	if (stmt == NULL)
		return NULL;
	pr_store_bind_text(stmt, 1, name);
	if (!pr_store_step_row(self, stmt, &row, error))
		return NULL;
	if (!row) {
		g_set_error(error, PR_ERROR, PR_ERROR_NOT_FOUND, _("No folder named “%s”"), name);
		return NULL;
	}
	return pr_store_folder_from_row(stmt);
}

PrStoreFolder *
pr_store_get_folder_by_id(PrStore *self, gint64 id, GError **error)
{
	g_autoptr(PrStoreStmt) stmt = NULL;
	gboolean row = FALSE;

	g_return_val_if_fail(PR_IS_STORE(self), NULL);

	stmt = pr_store_prepare(self, STMT_FOLDER_BY_ID, error);
	if (stmt == NULL)
		return NULL;
	sqlite3_bind_int64(stmt, 1, id);
	if (!pr_store_step_row(self, stmt, &row, error))
		return NULL;
	if (!row) {
		pr_store_set_folder_id_error(error, id);
		return NULL;
	}
	return pr_store_folder_from_row(stmt);
}

static void
pr_store_set_folder_exists_error(GError **error, const gchar *name)
{
	g_set_error(error,
		    PR_ERROR,
		    PR_ERROR_INVALID_ARGUMENT,
		    _("A folder named “%s” already exists"),
		    name);
}

gboolean
pr_store_save_folder(PrStore *self, PrStoreFolder *folder, GError **error)
{
	g_autofree gchar *attributes = NULL;
	g_autoptr(PrStoreStmt) stmt = NULL;
	gint rc;

	g_return_val_if_fail(PR_IS_STORE(self), FALSE);
	g_return_val_if_fail(folder != NULL, FALSE);
	g_return_val_if_fail(folder->name != NULL, FALSE);

	attributes = pr_store_list_join((const gchar *const *)folder->attributes);
	stmt = pr_store_prepare(
		self, folder->id == 0 ? STMT_FOLDER_INSERT : STMT_FOLDER_UPDATE, error);
	if (stmt == NULL)
		return FALSE;
	pr_store_bind_text(stmt, 1, folder->name);
	pr_store_bind_text(stmt, 2, folder->raw_name);
	sqlite3_bind_int(stmt, 3, (guchar)folder->delimiter);
	pr_store_bind_text(stmt, 4, attributes);
	pr_store_bind_text(stmt, 5, folder->special_use);
	sqlite3_bind_int(stmt, 6, folder->subscribed ? 1 : 0);
	sqlite3_bind_int(stmt, 7, folder->remote_subscribed ? 1 : 0);
	sqlite3_bind_int(stmt, 8, folder->local ? 1 : 0);
	sqlite3_bind_int64(stmt, 9, folder->uidvalidity);
	sqlite3_bind_int64(stmt, 10, folder->uidnext);
	sqlite3_bind_int64(stmt, 11, (gint64)folder->highestmodseq);
	sqlite3_bind_int64(stmt, 12, folder->last_sync);
	if (folder->id != 0)
		sqlite3_bind_int64(stmt, 13, folder->id);
	rc = sqlite3_step(stmt);
	if (rc == SQLITE_CONSTRAINT_UNIQUE) {
		pr_store_set_folder_exists_error(error, folder->name);
		return FALSE;
	}
	if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
		pr_store_set_db_error(self, error);
		return FALSE;
	}
	if (folder->id == 0) {
		folder->id = sqlite3_column_int64(stmt, 0);
	} else if (sqlite3_changes(self->db) == 0) {
		pr_store_set_folder_id_error(error, folder->id);
		return FALSE;
	}
	return TRUE;
}

static gboolean
pr_store_delete_folder_inner(PrStore *self, gint64 id, GError **error)
{
	guint unlink_len = self->unlink_ids->len;

	if (!pr_store_folder_check(self, id, NULL, error))
		return FALSE;
	if (!pr_store_delete_folder_messages(self, id, NULL, error))
		return FALSE;
	if (self->unlink_ids->len > unlink_len)
		self->counter = pr_store_next_change(self);
	{
		g_autoptr(PrStoreStmt) stmt =
			pr_store_prepare(self, STMT_FOLDER_TOMBSTONES_DELETE, error);
		if (stmt == NULL)
			return FALSE;
		sqlite3_bind_int64(stmt, 1, id);
		if (!pr_store_step_done(self, stmt, error))
			return FALSE;
	}
	{
		g_autoptr(PrStoreStmt) stmt = pr_store_prepare(self, STMT_FOLDER_DELETE, error);
		if (stmt == NULL)
			return FALSE;
		sqlite3_bind_int64(stmt, 1, id);
		if (!pr_store_step_done(self, stmt, error))
			return FALSE;
	}
	return TRUE;
}

gboolean
pr_store_delete_folder(PrStore *self, gint64 id, GError **error)
{
	g_return_val_if_fail(PR_IS_STORE(self), FALSE);

	if (!pr_store_begin(self, error))
		return FALSE;
	if (!pr_store_delete_folder_inner(self, id, error)) {
		pr_store_rollback(self);
		return FALSE;
	}
	return pr_store_commit(self, error);
}

static gboolean
pr_store_rename_one(PrStore *self,
		    gint64 id,
		    const gchar *name,
		    const gchar *raw_name,
		    GError **error)
{
	g_autoptr(PrStoreStmt) stmt = pr_store_prepare(self, STMT_FOLDER_RENAME, error);
	if (stmt == NULL)
		return FALSE;
	pr_store_bind_text(stmt, 1, name);
	pr_store_bind_text(stmt, 2, raw_name);
	sqlite3_bind_int64(stmt, 3, id);
	return pr_store_step_done(self, stmt, error);
}

static gboolean
pr_store_rename_folder_inner(PrStore *self,
			     const gchar *from,
			     const gchar *to,
			     const gchar *raw_to,
			     gchar delimiter,
			     GError **error)
{
	g_autoptr(GPtrArray) folders = NULL;
	g_autoptr(GPtrArray) moved = g_ptr_array_new(); /* of PrStoreFolder, borrowed */
	g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func(g_free);
	g_autoptr(GPtrArray) raw_names = g_ptr_array_new_with_free_func(g_free);
	g_autoptr(GHashTable) staying = g_hash_table_new(g_str_hash, g_str_equal);
	g_autofree gchar *prefix = delimiter != 0 ? g_strdup_printf("%s%c", from, delimiter) : NULL;
	g_autofree gchar *raw_prefix = NULL;
	PrStoreFolder *folder = NULL;

	folders = pr_store_list_folders(self, error);
	if (folders == NULL)
		return FALSE;
	for (guint i = 0; i < folders->len; i++) {
		PrStoreFolder *f = g_ptr_array_index(folders, i);
		if (g_strcmp0(f->name, from) == 0)
			folder = f;
	}
	if (folder == NULL) {
		g_set_error(error, PR_ERROR, PR_ERROR_NOT_FOUND, _("No folder named “%s”"), from);
		return FALSE;
	}
	if (delimiter != 0 && folder->raw_name != NULL)
		raw_prefix = g_strdup_printf("%s%c", folder->raw_name, delimiter);

	/* the folder first, then its children: new names keep what follows the prefix */
	g_ptr_array_add(moved, folder);
	g_ptr_array_add(names, g_strdup(to));
	g_ptr_array_add(raw_names, g_strdup(raw_to));
	for (guint i = 0; i < folders->len; i++) {
		PrStoreFolder *f = g_ptr_array_index(folders, i);
		if (f == folder)
			continue;
		if (prefix == NULL || !g_str_has_prefix(f->name, prefix)) {
			g_hash_table_add(staying, f->name);
			continue;
		}
		g_ptr_array_add(moved, f);
		g_ptr_array_add(names, g_strconcat(to, f->name + strlen(from), NULL));
		if (raw_prefix != NULL && raw_to != NULL && f->raw_name != NULL &&
		    g_str_has_prefix(f->raw_name, raw_prefix)) {
			g_ptr_array_add(
				raw_names,
				g_strconcat(raw_to, f->raw_name + strlen(folder->raw_name), NULL));
		} else {
			g_ptr_array_add(raw_names, g_strdup(f->raw_name));
		}
	}
	for (guint i = 0; i < names->len; i++) {
		const gchar *name = g_ptr_array_index(names, i);
		if (g_hash_table_contains(staying, name)) {
			pr_store_set_folder_exists_error(error, name);
			return FALSE;
		}
	}

	/* two passes, so a rename into the moved subtree cannot collide with itself */
	for (guint i = 0; i < moved->len; i++) {
		PrStoreFolder *f = g_ptr_array_index(moved, i);
		g_autofree gchar *tmp = g_strdup_printf("\x01renaming-%" G_GINT64_FORMAT, f->id);
		if (!pr_store_rename_one(self, f->id, tmp, f->raw_name, error))
			return FALSE;
	}
	for (guint i = 0; i < moved->len; i++) {
		PrStoreFolder *f = g_ptr_array_index(moved, i);
		if (!pr_store_rename_one(self,
					 f->id,
					 g_ptr_array_index(names, i),
					 g_ptr_array_index(raw_names, i),
					 error))
			return FALSE;
	}
	return TRUE;
}

gboolean
pr_store_rename_folder(PrStore *self,
		       const gchar *from,
		       const gchar *to,
		       const gchar *raw_to,
		       gchar delimiter,
		       GError **error)
{
	g_return_val_if_fail(PR_IS_STORE(self), FALSE);
	g_return_val_if_fail(from != NULL, FALSE);
	g_return_val_if_fail(to != NULL, FALSE);

	if (!pr_store_begin(self, error))
		return FALSE;
	if (!pr_store_rename_folder_inner(self, from, to, raw_to, delimiter, error)) {
		pr_store_rollback(self);
		return FALSE;
	}
	return pr_store_commit(self, error);
}
