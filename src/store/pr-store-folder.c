/*
 * Copyright 2026 The Postroom developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#define G_LOG_DOMAIN "PrStore"

#include <glib/gi18n-lib.h>
#include <string.h>

#include "pr-error.h"
#include "pr-store-private.h"

/* Folders ------------------------------------------------------------------------------- */

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
