/*
 * Copyright 2026 The Postroom developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#define G_LOG_DOMAIN "PrStore"

#include <glib/gi18n-lib.h>
#include <string.h>

#include "pr-error.h"
#include "pr-store-private.h"

/* Structures ---------------------------------------------------------------------------- */

static gint
pr_store_flag_cmp(gconstpointer a, gconstpointer b)
{
	const gchar *fa = *(const gchar *const *)a;
	const gchar *fb = *(const gchar *const *)b;
	gint rc = g_ascii_strcasecmp(fa, fb);
	return rc != 0 ? rc : strcmp(fa, fb);
}

/* Flags as stored: system flags in their canonical spelling, no duplicates (flags compare
 * case-insensitively), sorted, space-joined. \Recent is per session and never stored, so
 * it cannot make an unchanged message look changed. */
static gchar *
pr_store_flags_normalize(const gchar *const *flags, gboolean *seen)
{
	static const gchar *const system_flags[] = {
		"\\Answered", "\\Deleted", "\\Draft", "\\Flagged", "\\Seen"
	};
	g_autoptr(GPtrArray) list = g_ptr_array_new();
	GString *str = g_string_new(NULL);

	*seen = FALSE;
	for (guint i = 0; flags != NULL && flags[i] != NULL; i++) {
		const gchar *flag = flags[i];
		gboolean valid = flag[0] != '\0';

		/* an atom: no space, no control character (they would break the joined form) */
		for (const gchar *p = flag; *p != '\0' && valid; p++) {
			if ((guchar)*p <= 0x20 || (guchar)*p == 0x7f)
				valid = FALSE;
		}
		if (!valid || g_ascii_strcasecmp(flag, "\\Recent") == 0)
			continue;
		for (guint j = 0; j < G_N_ELEMENTS(system_flags); j++) {
			if (g_ascii_strcasecmp(flag, system_flags[j]) == 0)
				flag = system_flags[j];
		}
		if (flag == system_flags[4])
			*seen = TRUE;
		g_ptr_array_add(list, (gpointer)flag);
	}
	g_ptr_array_sort(list, pr_store_flag_cmp);
	for (guint i = 0; i < list->len; i++) {
		const gchar *flag = g_ptr_array_index(list, i);
		if (i > 0 && g_ascii_strcasecmp(flag, g_ptr_array_index(list, i - 1)) == 0)
			continue;
		if (str->len > 0)
			g_string_append_c(str, ' ');
		g_string_append(str, flag);
	}
	return g_string_free(str, FALSE);
}

PrStoreMessage *
pr_store_message_new(void)
{
	return g_new0(PrStoreMessage, 1);
}

void
pr_store_message_free(PrStoreMessage *message)
{
	if (message == NULL)
		return;
	g_free(message->folder);
	g_strfreev(message->flags);
	g_free(message->subject);
	g_free(message->from);
	g_strfreev(message->to);
	g_strfreev(message->cc);
	g_free(message->message_id);
	g_free(message->in_reply_to);
	g_free(message->bodystructure);
	g_free(message->pending);
	g_free(message);
}

gboolean
pr_store_message_has_flag(const PrStoreMessage *message, const gchar *flag)
{
	g_return_val_if_fail(message != NULL, FALSE);
	g_return_val_if_fail(flag != NULL, FALSE);
	for (guint i = 0; message->flags != NULL && message->flags[i] != NULL; i++) {
		if (g_ascii_strcasecmp(message->flags[i], flag) == 0)
			return TRUE;
	}
	return FALSE;
}

gboolean
pr_store_message_exists(PrStore *self, guint64 id, gboolean *exists, GError **error)
{
	g_autoptr(PrStoreStmt) stmt = pr_store_prepare(self, STMT_MESSAGE_STATE_BY_ID, error);
	if (stmt == NULL)
		return FALSE;
	sqlite3_bind_int64(stmt, 1, (gint64)id);
	return pr_store_step_row(self, stmt, exists, error);
}

/* Deletes every message row of the folder; their ids go to @removed and their files to the
 * unlink list. */
gboolean
pr_store_delete_folder_messages(PrStore *self, gint64 folder_id, GArray *removed, GError **error)
{
	g_autoptr(PrStoreStmt) stmt = pr_store_prepare(self, STMT_FOLDER_MESSAGES_DELETE, error);
	gboolean row = TRUE;

	if (stmt == NULL)
		return FALSE;
	sqlite3_bind_int64(stmt, 1, folder_id);
	while (TRUE) {
		guint64 id;
		if (!pr_store_step_row(self, stmt, &row, error))
			return FALSE;
		if (!row)
			break;
		id = (guint64)sqlite3_column_int64(stmt, 0);
		g_array_append_val(self->unlink_ids, id);
		if (removed != NULL)
			g_array_append_val(removed, id);
	}
	return TRUE;
}

/* Messages ------------------------------------------------------------------------------ */

void
pr_store_message_state_clear(PrStoreMessageState *state)
{
	g_clear_pointer(&state->flags, g_free);
}

/* The bookkeeping columns of one message, by id (@uid 0) or by folder and UID. */
gboolean
pr_store_message_state(PrStore *self,
		       guint64 id,
		       gint64 folder_id,
		       guint32 uid,
		       PrStoreMessageState *state,
		       gboolean *found,
		       GError **error)
{
	g_autoptr(PrStoreStmt) stmt = NULL;

	stmt = pr_store_prepare(
		self, uid == 0 ? STMT_MESSAGE_STATE_BY_ID : STMT_MESSAGE_STATE_BY_UID, error);
	if (stmt == NULL)
		return FALSE;
	if (uid == 0) {
		sqlite3_bind_int64(stmt, 1, (gint64)id);
	} else {
		sqlite3_bind_int64(stmt, 1, folder_id);
		sqlite3_bind_int64(stmt, 2, uid);
	}
	if (!pr_store_step_row(self, stmt, found, error))
		return FALSE;
	if (!*found)
		return TRUE;
	state->id = (guint64)sqlite3_column_int64(stmt, COL_S_ID);
	state->folder_id = sqlite3_column_int64(stmt, COL_S_FOLDER_ID);
	state->flags = pr_store_column_dup(stmt, COL_S_FLAGS);
	state->modseq = (guint64)sqlite3_column_int64(stmt, COL_S_MODSEQ);
	state->changed = (guint64)sqlite3_column_int64(stmt, COL_S_CHANGED);
	state->download = (PrStoreDownload)sqlite3_column_int(stmt, COL_S_DOWNLOAD);
	return TRUE;
}

gboolean
pr_store_body_referenced(PrStore *self, guint64 id, gboolean *referenced, GError **error)
{
	g_auto(PrStoreMessageState) state = { 0 };
	gboolean found = FALSE;

	if (!pr_store_message_state(self, id, 0, 0, &state, &found, error))
		return FALSE;
	*referenced = found && state.download != PR_STORE_DOWNLOAD_HEADERS;
	return TRUE;
}

static gboolean
pr_store_add_tombstone(PrStore *self, guint64 id, gint64 folder_id, guint64 changed, GError **error)
{
	g_autoptr(PrStoreStmt) stmt = pr_store_prepare(self, STMT_TOMBSTONE_INSERT, error);
	if (stmt == NULL)
		return FALSE;
	sqlite3_bind_int64(stmt, 1, (gint64)id);
	sqlite3_bind_int64(stmt, 2, folder_id);
	sqlite3_bind_int64(stmt, 3, (gint64)changed);
	return pr_store_step_done(self, stmt, error);
}

/* Writes the row; TRUE with *written FALSE when it was already exactly so. */
static gboolean
pr_store_write_message(PrStore *self,
		       PrStoreMessage *message,
		       guint64 changed,
		       gboolean *written,
		       GError **error)
{
	g_autofree gchar *flags = NULL;
	g_autofree gchar *to = pr_store_list_join((const gchar *const *)message->to);
	g_autofree gchar *cc = pr_store_list_join((const gchar *const *)message->cc);
	g_autofree gchar *subject_tmp = NULL;
	g_autofree gchar *from_tmp = NULL;
	g_autofree gchar *message_id_tmp = NULL;
	g_autofree gchar *in_reply_to_tmp = NULL;
	g_autofree gchar *bodystructure_tmp = NULL;
	g_autofree gchar *pending_tmp = NULL;
	g_autoptr(PrStoreStmt) stmt = NULL;
	gboolean seen = FALSE;

	flags = pr_store_flags_normalize((const gchar *const *)message->flags, &seen);
	stmt = pr_store_prepare(
		self, message->id == 0 ? STMT_MESSAGE_UPSERT : STMT_MESSAGE_UPDATE, error);
	if (stmt == NULL)
		return FALSE;
	sqlite3_bind_int64(stmt, 1, message->folder_id);
	if (message->uid == 0)
		sqlite3_bind_null(stmt, 2);
	else
		sqlite3_bind_int64(stmt, 2, message->uid);
	sqlite3_bind_int64(stmt, 3, (gint64)message->modseq);
	pr_store_bind_text(stmt, 4, flags);
	sqlite3_bind_int(stmt, 5, seen ? 1 : 0);
	sqlite3_bind_int64(stmt, 6, message->internal_date);
	sqlite3_bind_int64(stmt, 7, (gint64)message->size);
	pr_store_bind_text(stmt, 8, pr_store_utf8(message->subject, &subject_tmp));
	pr_store_bind_text(stmt, 9, pr_store_utf8(message->from, &from_tmp));
	pr_store_bind_text(stmt, 10, to);
	pr_store_bind_text(stmt, 11, cc);
	sqlite3_bind_int64(stmt, 12, message->date);
	pr_store_bind_text(stmt, 13, pr_store_utf8(message->message_id, &message_id_tmp));
	pr_store_bind_text(stmt, 14, pr_store_utf8(message->in_reply_to, &in_reply_to_tmp));
	sqlite3_bind_int(stmt, 15, message->has_attachments ? 1 : 0);
	pr_store_bind_text(stmt, 16, pr_store_utf8(message->bodystructure, &bodystructure_tmp));
	sqlite3_bind_int(stmt, 17, (gint)message->download);
	pr_store_bind_text(stmt, 18, pr_store_utf8(message->pending, &pending_tmp));
	sqlite3_bind_int64(stmt, 19, (gint64)changed);
	if (message->id != 0)
		sqlite3_bind_int64(stmt, 20, (gint64)message->id);
	if (!pr_store_step_row(self, stmt, written, error))
		return FALSE;
	if (*written)
		message->id = (guint64)sqlite3_column_int64(stmt, 0);
	return TRUE;
}

static gboolean
pr_store_save_message_inner(PrStore *self, PrStoreMessage *message, GError **error)
{
	g_auto(PrStoreMessageState) old = { 0 };
	guint64 changed = pr_store_next_change(self);
	gboolean found = FALSE;
	gboolean written = FALSE;

	if (!pr_store_folder_check(self, message->folder_id, NULL, error))
		return FALSE;
	/* an update by id may move the message: its old folder needs a tombstone */
	if (message->id != 0) {
		if (!pr_store_message_state(self, message->id, 0, 0, &old, &found, error))
			return FALSE;
		if (!found) {
			pr_store_set_message_error(error, message->id);
			return FALSE;
		}
	}
	if (!pr_store_write_message(self, message, changed, &written, error))
		return FALSE;
	if (written) {
		if (found && old.folder_id != message->folder_id &&
		    !pr_store_add_tombstone(self, message->id, old.folder_id, changed, error))
			return FALSE;
		self->counter = changed;
		message->changed = changed;
		return TRUE;
	}

	/* unchanged: report the id and the stamp it already has */
	if (!found) {
		if (!pr_store_message_state(
			    self, 0, message->folder_id, message->uid, &old, &found, error))
			return FALSE;
		if (!found) {
			g_set_error_literal(error,
					    PR_ERROR,
					    PR_ERROR_STORE_FAILED,
					    _("Store database error: message vanished on save"));
			return FALSE;
		}
	}
	message->id = old.id;
	message->changed = old.changed;
	return TRUE;
}

gboolean
pr_store_save_message(PrStore *self, PrStoreMessage *message, GError **error)
{
	g_return_val_if_fail(PR_IS_STORE(self), FALSE);
	g_return_val_if_fail(message != NULL, FALSE);

	if (!pr_store_begin(self, error))
		return FALSE;
	if (!pr_store_save_message_inner(self, message, error)) {
		pr_store_rollback(self);
		return FALSE;
	}
	return pr_store_commit(self, error);
}

/* Sets the flags of the message described by @state; unchanged flags leave the counter. */
static gboolean
pr_store_update_flags(PrStore *self,
		      const PrStoreMessageState *state,
		      const gchar *const *flags,
		      guint64 modseq,
		      GError **error)
{
	g_autofree gchar *normalized = NULL;
	g_autoptr(PrStoreStmt) stmt = NULL;
	gboolean seen = FALSE;

	normalized = pr_store_flags_normalize(flags, &seen);
	if (g_strcmp0(normalized, state->flags) == 0) {
		if (modseq == 0 || modseq == state->modseq)
			return TRUE;
		stmt = pr_store_prepare(self, STMT_MESSAGE_SET_MODSEQ, error);
		if (stmt == NULL)
			return FALSE;
		sqlite3_bind_int64(stmt, 1, (gint64)modseq);
		sqlite3_bind_int64(stmt, 2, (gint64)state->id);
		return pr_store_step_done(self, stmt, error);
	}
	stmt = pr_store_prepare(self, STMT_MESSAGE_SET_FLAGS, error);
	if (stmt == NULL)
		return FALSE;
	pr_store_bind_text(stmt, 1, normalized);
	sqlite3_bind_int(stmt, 2, seen ? 1 : 0);
	sqlite3_bind_int64(stmt, 3, (gint64)modseq);
	sqlite3_bind_int64(stmt, 4, (gint64)pr_store_next_change(self));
	sqlite3_bind_int64(stmt, 5, (gint64)state->id);
	if (!pr_store_step_done(self, stmt, error))
		return FALSE;
	self->counter = pr_store_next_change(self);
	return TRUE;
}

static gboolean
pr_store_set_flags_inner(PrStore *self,
			 guint64 id,
			 gint64 folder_id,
			 guint32 uid,
			 const gchar *const *flags,
			 guint64 modseq,
			 guint64 *id_out,
			 GError **error)
{
	g_auto(PrStoreMessageState) state = { 0 };
	gboolean found = FALSE;

	if (uid != 0 && !pr_store_folder_check(self, folder_id, NULL, error))
		return FALSE;
	if (!pr_store_message_state(self, id, folder_id, uid, &state, &found, error))
		return FALSE;
	if (!found) {
		if (uid == 0) {
			pr_store_set_message_error(error, id);
			return FALSE;
		}
		if (id_out != NULL)
			*id_out = 0;
		return TRUE;
	}
	if (!pr_store_update_flags(self, &state, flags, modseq, error))
		return FALSE;
	if (id_out != NULL)
		*id_out = state.id;
	return TRUE;
}

gboolean
pr_store_set_flags_by_uid(PrStore *self,
			  gint64 folder_id,
			  guint32 uid,
			  const gchar *const *flags,
			  guint64 modseq,
			  guint64 *id,
			  GError **error)
{
	g_return_val_if_fail(PR_IS_STORE(self), FALSE);

	if (uid == 0) {
		/* no server message has UID 0 */
		if (id != NULL)
			*id = 0;
		return pr_store_folder_check(self, folder_id, NULL, error);
	}
	if (!pr_store_begin(self, error))
		return FALSE;
	if (!pr_store_set_flags_inner(self, 0, folder_id, uid, flags, modseq, id, error)) {
		pr_store_rollback(self);
		return FALSE;
	}
	return pr_store_commit(self, error);
}

gboolean
pr_store_set_flags(PrStore *self, guint64 id, const gchar *const *flags, GError **error)
{
	g_return_val_if_fail(PR_IS_STORE(self), FALSE);

	if (!pr_store_begin(self, error))
		return FALSE;
	if (!pr_store_set_flags_inner(self, id, 0, 0, flags, 0, NULL, error)) {
		pr_store_rollback(self);
		return FALSE;
	}
	return pr_store_commit(self, error);
}

GArray *
pr_store_get_uids(PrStore *self, gint64 folder_id, guint32 min_uid, GError **error)
{
	g_autoptr(GArray) uids = g_array_new(FALSE, FALSE, sizeof(guint32));
	g_autoptr(PrStoreStmt) stmt = NULL;
	gboolean row = TRUE;

	g_return_val_if_fail(PR_IS_STORE(self), NULL);

	if (!pr_store_folder_check(self, folder_id, NULL, error))
		return NULL;
	stmt = pr_store_prepare(self, STMT_MESSAGE_UIDS, error);
	if (stmt == NULL)
		return NULL;
	sqlite3_bind_int64(stmt, 1, folder_id);
	sqlite3_bind_int64(stmt, 2, min_uid);
	while (TRUE) {
		guint32 uid;
		if (!pr_store_step_row(self, stmt, &row, error))
			return NULL;
		if (!row)
			break;
		uid = (guint32)sqlite3_column_int64(stmt, 0);
		g_array_append_val(uids, uid);
	}
	return g_steal_pointer(&uids);
}

GHashTable *
pr_store_get_uid_flags(PrStore *self, gint64 folder_id, GError **error)
{
	g_autoptr(GHashTable) flags =
		g_hash_table_new_full(g_direct_hash, g_direct_equal, NULL, g_free);
	g_autoptr(PrStoreStmt) stmt = NULL;
	gboolean row = TRUE;

	g_return_val_if_fail(PR_IS_STORE(self), NULL);

	if (!pr_store_folder_check(self, folder_id, NULL, error))
		return NULL;
	stmt = pr_store_prepare(self, STMT_MESSAGE_UID_FLAGS, error);
	if (stmt == NULL)
		return NULL;
	sqlite3_bind_int64(stmt, 1, folder_id);
	while (TRUE) {
		if (!pr_store_step_row(self, stmt, &row, error))
			return NULL;
		if (!row)
			break;
		g_hash_table_insert(flags,
				    GUINT_TO_POINTER((guint32)sqlite3_column_int64(stmt, 0)),
				    pr_store_column_dup(stmt, 1));
	}
	return g_steal_pointer(&flags);
}

/* Deletes one message by UID; *id is 0 when there was none. */
static gboolean
pr_store_delete_uid(PrStore *self, gint64 folder_id, guint32 uid, guint64 *id, GError **error)
{
	g_autoptr(PrStoreStmt) stmt = pr_store_prepare(self, STMT_MESSAGE_DELETE_BY_UID, error);
	gboolean row = FALSE;

	if (stmt == NULL)
		return FALSE;
	sqlite3_bind_int64(stmt, 1, folder_id);
	sqlite3_bind_int64(stmt, 2, uid);
	if (!pr_store_step_row(self, stmt, &row, error))
		return FALSE;
	*id = row ? (guint64)sqlite3_column_int64(stmt, 0) : 0;
	return TRUE;
}

static gboolean
pr_store_remove_uids_inner(PrStore *self,
			   gint64 folder_id,
			   const guint32 *uids,
			   gsize n,
			   GArray *removed,
			   GError **error)
{
	guint64 changed = pr_store_next_change(self);
	gboolean any = FALSE;

	if (!pr_store_folder_check(self, folder_id, NULL, error))
		return FALSE;
	for (gsize i = 0; i < n; i++) {
		guint64 id = 0;
		if (uids[i] == 0)
			continue;
		if (!pr_store_delete_uid(self, folder_id, uids[i], &id, error))
			return FALSE;
		if (id == 0)
			continue;
		if (!pr_store_add_tombstone(self, id, folder_id, changed, error))
			return FALSE;
		g_array_append_val(self->unlink_ids, id);
		if (removed != NULL)
			g_array_append_val(removed, id);
		any = TRUE;
	}
	if (any)
		self->counter = changed;
	return TRUE;
}

gboolean
pr_store_remove_uids(PrStore *self,
		     gint64 folder_id,
		     const guint32 *uids,
		     gsize n,
		     GArray *removed,
		     GError **error)
{
	guint removed_len = removed != NULL ? removed->len : 0;

	g_return_val_if_fail(PR_IS_STORE(self), FALSE);
	g_return_val_if_fail(uids != NULL || n == 0, FALSE);

	if (!pr_store_begin(self, error))
		return FALSE;
	if (!pr_store_remove_uids_inner(self, folder_id, uids, n, removed, error)) {
		pr_store_rollback(self);
		if (removed != NULL)
			g_array_set_size(removed, removed_len);
		return FALSE;
	}
	if (!pr_store_commit(self, error)) {
		if (removed != NULL)
			g_array_set_size(removed, removed_len);
		return FALSE;
	}
	return TRUE;
}

static gboolean
pr_store_remove_message_inner(PrStore *self, guint64 id, GError **error)
{
	g_autoptr(PrStoreStmt) stmt = pr_store_prepare(self, STMT_MESSAGE_DELETE, error);
	guint64 changed = pr_store_next_change(self);
	gboolean row = FALSE;
	gint64 folder_id;

	if (stmt == NULL)
		return FALSE;
	sqlite3_bind_int64(stmt, 1, (gint64)id);
	if (!pr_store_step_row(self, stmt, &row, error))
		return FALSE;
	if (!row) {
		pr_store_set_message_error(error, id);
		return FALSE;
	}
	folder_id = sqlite3_column_int64(stmt, 0);
	g_clear_pointer(&stmt, pr_store_stmt_release);
	if (!pr_store_add_tombstone(self, id, folder_id, changed, error))
		return FALSE;
	g_array_append_val(self->unlink_ids, id);
	self->counter = changed;
	return TRUE;
}

gboolean
pr_store_remove_message(PrStore *self, guint64 id, GError **error)
{
	g_return_val_if_fail(PR_IS_STORE(self), FALSE);

	if (!pr_store_begin(self, error))
		return FALSE;
	if (!pr_store_remove_message_inner(self, id, error)) {
		pr_store_rollback(self);
		return FALSE;
	}
	return pr_store_commit(self, error);
}

static gboolean
pr_store_retire_inner(PrStore *self, gint64 folder_id, GArray *removed, GError **error)
{
	guint64 changed = pr_store_next_change(self);
	guint unlink_len = self->unlink_ids->len;

	if (!pr_store_folder_check(self, folder_id, NULL, error))
		return FALSE;
	{
		g_autoptr(PrStoreStmt) stmt = pr_store_prepare(self, STMT_TOMBSTONE_RETIRE, error);
		if (stmt == NULL)
			return FALSE;
		sqlite3_bind_int64(stmt, 1, (gint64)changed);
		sqlite3_bind_int64(stmt, 2, folder_id);
		if (!pr_store_step_done(self, stmt, error))
			return FALSE;
	}
	if (!pr_store_delete_folder_messages(self, folder_id, removed, error))
		return FALSE;
	if (self->unlink_ids->len > unlink_len)
		self->counter = changed;
	return TRUE;
}

gboolean
pr_store_retire_folder_messages(PrStore *self, gint64 folder_id, GArray *removed, GError **error)
{
	guint removed_len = removed != NULL ? removed->len : 0;

	g_return_val_if_fail(PR_IS_STORE(self), FALSE);

	if (!pr_store_begin(self, error))
		return FALSE;
	if (!pr_store_retire_inner(self, folder_id, removed, error)) {
		pr_store_rollback(self);
		if (removed != NULL)
			g_array_set_size(removed, removed_len);
		return FALSE;
	}
	if (!pr_store_commit(self, error)) {
		if (removed != NULL)
			g_array_set_size(removed, removed_len);
		return FALSE;
	}
	return TRUE;
}
