/*
 * Copyright 2026 The Postroom developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#define G_LOG_DOMAIN "PrStore"

#include <glib/gi18n-lib.h>

#include "pr-error.h"
#include "pr-store-private.h"

/* Reading messages ---------------------------------------------------------------------- */

PrStoreMessage *
pr_store_message_from_row(PrStoreStmt *stmt, const gchar *folder_name)
{
	PrStoreMessage *message = pr_store_message_new();
	message->id = (guint64)sqlite3_column_int64(stmt, COL_M_ID);
	message->folder_id = sqlite3_column_int64(stmt, COL_M_FOLDER_ID);
	message->folder = folder_name != NULL ? g_strdup(folder_name)
					      : pr_store_column_dup(stmt, COL_M_FOLDER_NAME);
	message->uid = (guint32)sqlite3_column_int64(stmt, COL_M_UID);
	message->modseq = (guint64)sqlite3_column_int64(stmt, COL_M_MODSEQ);
	message->flags =
		pr_store_list_split((const gchar *)sqlite3_column_text(stmt, COL_M_FLAGS), " ");
	message->internal_date = sqlite3_column_int64(stmt, COL_M_INTERNAL_DATE);
	message->size = (guint64)sqlite3_column_int64(stmt, COL_M_SIZE);
	message->subject = pr_store_column_dup(stmt, COL_M_SUBJECT);
	message->from = pr_store_column_dup(stmt, COL_M_SENDER);
	message->to = pr_store_list_split((const gchar *)sqlite3_column_text(stmt, COL_M_TO), "\n");
	message->cc = pr_store_list_split((const gchar *)sqlite3_column_text(stmt, COL_M_CC), "\n");
	message->date = sqlite3_column_int64(stmt, COL_M_DATE);
	message->message_id = pr_store_column_dup(stmt, COL_M_MESSAGE_ID);
	message->in_reply_to = pr_store_column_dup(stmt, COL_M_IN_REPLY_TO);
	message->has_attachments = sqlite3_column_int(stmt, COL_M_HAS_ATTACHMENTS) != 0;
	message->bodystructure = pr_store_column_dup(stmt, COL_M_BODYSTRUCTURE);
	message->download = (PrStoreDownload)sqlite3_column_int(stmt, COL_M_DOWNLOAD);
	message->pending = pr_store_column_dup(stmt, COL_M_PENDING);
	message->changed = (guint64)sqlite3_column_int64(stmt, COL_M_CHANGED);
	return message;
}

GPtrArray *
pr_store_list_messages(PrStore *self, gint64 folder_id, const PrStoreQuery *query, GError **error)
{
	g_autoptr(GPtrArray) messages =
		g_ptr_array_new_with_free_func((GDestroyNotify)pr_store_message_free);
	g_autoptr(PrStoreStmt) stmt = NULL;
	g_autofree gchar *folder_name = NULL;
	PrStoreQuery all = { 0 };
	gboolean row = TRUE;

	g_return_val_if_fail(PR_IS_STORE(self), NULL);

	if (query == NULL)
		query = &all;
	if (!pr_store_folder_check(self, folder_id, &folder_name, error))
		return NULL;
	stmt = pr_store_prepare(self, STMT_MESSAGE_LIST, error);
	if (stmt == NULL)
		return NULL;
	sqlite3_bind_int64(stmt, 1, folder_id);
	sqlite3_bind_int(stmt, 2, query->unseen_only ? 1 : 0);
	sqlite3_bind_int64(stmt, 3, (gint64)query->changed_since);
	sqlite3_bind_int64(stmt, 4, query->limit != 0 ? (gint64)query->limit : -1);
	sqlite3_bind_int64(stmt, 5, query->offset);
	while (TRUE) {
		if (!pr_store_step_row(self, stmt, &row, error))
			return NULL;
		if (!row)
			break;
		g_ptr_array_add(messages, pr_store_message_from_row(stmt, folder_name));
	}
	return g_steal_pointer(&messages);
}

PrStoreMessage *
pr_store_get_message(PrStore *self, guint64 id, GError **error)
{
	g_autoptr(PrStoreStmt) stmt = NULL;
	gboolean row = FALSE;

	g_return_val_if_fail(PR_IS_STORE(self), NULL);

	stmt = pr_store_prepare(self, STMT_MESSAGE_GET, error);
	if (stmt == NULL)
		return NULL;
	sqlite3_bind_int64(stmt, 1, (gint64)id);
	if (!pr_store_step_row(self, stmt, &row, error))
		return NULL;
	if (!row) {
		pr_store_set_message_error(error, id);
		return NULL;
	}
	return pr_store_message_from_row(stmt, NULL);
}

PrStoreMessage *
pr_store_get_message_by_uid(PrStore *self, gint64 folder_id, guint32 uid, GError **error)
{
	g_autoptr(PrStoreStmt) stmt = NULL;
	gboolean row = FALSE;

	g_return_val_if_fail(PR_IS_STORE(self), NULL);

	if (!pr_store_folder_check(self, folder_id, NULL, error))
		return NULL;
	stmt = pr_store_prepare(self, STMT_MESSAGE_GET_BY_UID, error);
	if (stmt == NULL)
		return NULL;
	sqlite3_bind_int64(stmt, 1, folder_id);
	sqlite3_bind_int64(stmt, 2, uid);
	if (!pr_store_step_row(self, stmt, &row, error))
		return NULL;
	if (!row) {
		g_set_error(error,
			    PR_ERROR,
			    PR_ERROR_NOT_FOUND,
			    _("No message with UID %u in folder %lld"),
			    uid,
			    (long long)folder_id);
		return NULL;
	}
	return pr_store_message_from_row(stmt, NULL);
}

/* The ids of a single-column query bound to (@a, @b). */
static GArray *
pr_store_query_ids(PrStore *self, PrStoreStmtId id, gint64 a, gint64 b, GError **error)
{
	g_autoptr(GArray) ids = g_array_new(FALSE, FALSE, sizeof(guint64));
	g_autoptr(PrStoreStmt) stmt = pr_store_prepare(self, id, error);
	gboolean row = TRUE;

	if (stmt == NULL)
		return NULL;
	sqlite3_bind_int64(stmt, 1, a);
	if (sqlite3_bind_parameter_count(stmt) >= 2)
		sqlite3_bind_int64(stmt, 2, b);
	while (TRUE) {
		guint64 value;
		if (!pr_store_step_row(self, stmt, &row, error))
			return NULL;
		if (!row)
			break;
		value = (guint64)sqlite3_column_int64(stmt, 0);
		g_array_append_val(ids, value);
	}
	return g_steal_pointer(&ids);
}

GArray *
pr_store_get_missing_bodies(PrStore *self, gint64 folder_id, GError **error)
{
	g_return_val_if_fail(PR_IS_STORE(self), NULL);

	if (!pr_store_folder_check(self, folder_id, NULL, error))
		return NULL;
	return pr_store_query_ids(self, STMT_MESSAGE_MISSING, folder_id, 0, error);
}

GArray *
pr_store_get_changes_since(PrStore *self, gint64 folder_id, guint64 since, GError **error)
{
	g_autoptr(GArray) changes = g_array_new(FALSE, FALSE, sizeof(PrStoreChange));
	g_autoptr(PrStoreStmt) stmt = NULL;
	gboolean row = TRUE;

	g_return_val_if_fail(PR_IS_STORE(self), NULL);

	if (!pr_store_folder_check(self, folder_id, NULL, error))
		return NULL;
	stmt = pr_store_prepare(self, STMT_MESSAGE_CHANGES, error);
	if (stmt == NULL)
		return NULL;
	sqlite3_bind_int64(stmt, 1, folder_id);
	sqlite3_bind_int64(stmt, 2, (gint64)since);
	while (TRUE) {
		PrStoreChange change;
		if (!pr_store_step_row(self, stmt, &row, error))
			return NULL;
		if (!row)
			break;
		change.id = (guint64)sqlite3_column_int64(stmt, 0);
		change.uid = (guint32)sqlite3_column_int64(stmt, 1);
		change.seen = sqlite3_column_int(stmt, 2) != 0;
		change.changed = (guint64)sqlite3_column_int64(stmt, 3);
		g_array_append_val(changes, change);
	}
	return g_steal_pointer(&changes);
}

GArray *
pr_store_get_removed_since(PrStore *self, gint64 folder_id, guint64 since, GError **error)
{
	g_return_val_if_fail(PR_IS_STORE(self), NULL);

	if (!pr_store_folder_check(self, folder_id, NULL, error))
		return NULL;
	return pr_store_query_ids(self, STMT_TOMBSTONE_SINCE, folder_id, (gint64)since, error);
}

/* Listing in a worker thread -------------------------------------------------------------- */

/*
 * A listing of a big folder reads tens of thousands of rows: in a worker thread, on a
 * read-only connection of its own, so that the main thread (and its connection, which is
 * not thread-safe) goes on. WAL lets it read beside the writer: it sees what was committed
 * when its read began, never the main thread's open transaction.
 */

static void
pr_store_set_reader_error(sqlite3 *reader, GError **error)
{
	g_set_error(error,
		    PR_ERROR,
		    PR_ERROR_STORE_FAILED,
		    _("Store database error: %s"),
		    reader != NULL ? sqlite3_errmsg(reader) : "closed");
}

/* Idle connections kept for the next listings; more may be open while listings overlap. */
#define PR_STORE_READERS_IDLE_MAX 4

void
pr_store_reader_close(PrStore *self)
{
	g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&self->reader_lock);

	self->reader_closed = TRUE;
	while (self->readers_idle->len > 0)
		sqlite3_close(g_ptr_array_steal_index_fast(self->readers_idle, 0));
}

/* A connection of its own for one listing: an idle one, or a new one. */
static sqlite3 *
pr_store_reader_take(PrStore *self, GError **error)
{
	g_autofree gchar *path = g_build_filename(self->directory, "store.db", NULL);
	sqlite3 *reader = NULL;
	gint rc;

	{
		g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&self->reader_lock);
		if (self->reader_closed) {
			g_set_error_literal(
				error, PR_ERROR, PR_ERROR_STORE_FAILED, _("The store is closed"));
			return NULL;
		}
		if (self->readers_idle->len > 0)
			return g_ptr_array_steal_index_fast(self->readers_idle,
							    self->readers_idle->len - 1);
	}
	/* NOMUTEX: one thread at a time uses a connection */
	rc = sqlite3_open_v2(path,
			     &reader,
			     SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_NOFOLLOW,
			     NULL);
	if (rc != SQLITE_OK) {
		pr_store_set_reader_error(reader, error);
		sqlite3_close(reader);
		return NULL;
	}
	sqlite3_extended_result_codes(reader, 1);
	sqlite3_busy_timeout(reader, 5000);
	return reader;
}

static void
pr_store_reader_give_back(PrStore *self, sqlite3 *reader)
{
	g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&self->reader_lock);

	if (self->reader_closed || self->readers_idle->len >= PR_STORE_READERS_IDLE_MAX) {
		sqlite3_close(reader);
		return;
	}
	g_ptr_array_add(self->readers_idle, reader);
}

/* One statement on the reader: NULL with @error set when it cannot be prepared. */
static sqlite3_stmt *
pr_store_reader_prepare(sqlite3 *reader, PrStoreStmtId id, GError **error)
{
	sqlite3_stmt *stmt = NULL;

	if (sqlite3_prepare_v2(reader, pr_store_sql[id], -1, &stmt, NULL) != SQLITE_OK) {
		pr_store_set_reader_error(reader, error);
		return NULL;
	}
	return stmt;
}

/* The listing itself, inside a read transaction of the reader (lock held). */
static GPtrArray *
pr_store_reader_list(sqlite3 *reader, gint64 folder_id, const PrStoreQuery *query, GError **error)
{
	g_autoptr(GPtrArray) messages =
		g_ptr_array_new_with_free_func((GDestroyNotify)pr_store_message_free);
	g_autofree gchar *folder_name = NULL;
	sqlite3_stmt *stmt;
	gint rc;

	stmt = pr_store_reader_prepare(reader, STMT_FOLDER_CHECK, error);
	if (stmt == NULL)
		return NULL;
	sqlite3_bind_int64(stmt, 1, folder_id);
	rc = sqlite3_step(stmt);
	if (rc == SQLITE_ROW)
		folder_name = pr_store_column_dup(stmt, 0);
	else if (rc == SQLITE_DONE)
		pr_store_set_folder_id_error(error, folder_id);
	else
		pr_store_set_reader_error(reader, error);
	sqlite3_finalize(stmt);
	if (folder_name == NULL)
		return NULL;

	stmt = pr_store_reader_prepare(reader, STMT_MESSAGE_LIST, error);
	if (stmt == NULL)
		return NULL;
	sqlite3_bind_int64(stmt, 1, folder_id);
	sqlite3_bind_int(stmt, 2, query->unseen_only ? 1 : 0);
	sqlite3_bind_int64(stmt, 3, (gint64)query->changed_since);
	sqlite3_bind_int64(stmt, 4, query->limit != 0 ? (gint64)query->limit : -1);
	sqlite3_bind_int64(stmt, 5, query->offset);
	while ((rc = sqlite3_step(stmt)) == SQLITE_ROW)
		g_ptr_array_add(messages, pr_store_message_from_row(stmt, folder_name));
	if (rc != SQLITE_DONE) {
		pr_store_set_reader_error(reader, error);
		sqlite3_finalize(stmt);
		return NULL;
	}
	sqlite3_finalize(stmt);
	return g_steal_pointer(&messages);
}

typedef struct {
	gint64 folder_id;
	PrStoreQuery query; /* a copy: the caller's may be gone when the thread runs */
} PrStoreListData;

static void
pr_store_list_messages_thread(GTask *task,
			      gpointer source_object,
			      gpointer task_data,
			      GCancellable *cancellable)
{
	PrStore *self = PR_STORE(source_object);
	PrStoreListData *data = task_data;
	g_autoptr(GPtrArray) messages = NULL;
	GError *error = NULL;
	sqlite3 *reader;

	pr_store_test_event("list-messages");
	if (g_task_return_error_if_cancelled(task))
		return;
	reader = pr_store_reader_take(self, &error);
	if (reader == NULL) {
		g_task_return_error(task, error);
		return;
	}
	/* the folder and its messages from one snapshot */
	if (sqlite3_exec(reader, "BEGIN", NULL, NULL, NULL) == SQLITE_OK) {
		messages = pr_store_reader_list(reader, data->folder_id, &data->query, &error);
		/* nothing was written: ending the read cannot lose anything */
		sqlite3_exec(reader, "COMMIT", NULL, NULL, NULL);
	} else {
		pr_store_set_reader_error(reader, &error);
	}
	pr_store_reader_give_back(self, reader);
	if (messages == NULL) {
		g_task_return_error(task, error);
		return;
	}
	g_task_return_pointer(task, g_steal_pointer(&messages), (GDestroyNotify)g_ptr_array_unref);
}

void
pr_store_list_messages_async(PrStore *self,
			     gint64 folder_id,
			     const PrStoreQuery *query,
			     GCancellable *cancellable,
			     GAsyncReadyCallback callback,
			     gpointer user_data)
{
	g_autoptr(GTask) task = NULL;
	PrStoreListData *data;

	g_return_if_fail(PR_IS_STORE(self));
	g_return_if_fail(cancellable == NULL || G_IS_CANCELLABLE(cancellable));

	task = g_task_new(self, cancellable, callback, user_data);
	g_task_set_source_tag(task, pr_store_list_messages_async);
	if (self->db == NULL) {
		g_task_return_new_error(
			task, PR_ERROR, PR_ERROR_STORE_FAILED, _("The store is closed"));
		return;
	}
	data = g_new0(PrStoreListData, 1);
	data->folder_id = folder_id;
	if (query != NULL)
		data->query = *query;
	g_task_set_task_data(task, data, g_free);
	g_task_run_in_thread(task, pr_store_list_messages_thread);
}

GPtrArray *
pr_store_list_messages_finish(PrStore *self, GAsyncResult *res, GError **error)
{
	g_return_val_if_fail(PR_IS_STORE(self), NULL);
	g_return_val_if_fail(g_task_is_valid(res, self), NULL);

	return g_task_propagate_pointer(G_TASK(res), error);
}
