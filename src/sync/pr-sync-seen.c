/*
 * Copyright 2026 The Postroom developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#define G_LOG_DOMAIN "PrSync"

#include "pr-error.h"
#include "pr-sync-private.h"

/*
 * update-seen-flags: which local changes are the user's.
 *
 * After a folder's sync completes we note the store's change counter (its "mark"). A
 * message of the folder whose change counter is above the mark at the next sync was
 * changed here since: its \Seen is the user's and goes to the server, unless the server
 * reports the message changed too (MODSEQ above our HIGHESTMODSEQ), in which case the
 * server wins. Without CONDSTORE nothing tells whether the server changed it, so the
 * local \Seen wins for these messages.
 *
 * The marks are kept for the life of the process, per store directory and folder id (so
 * they outlive one PrSync: the daemon may make one per operation). They are not written
 * to disk: the store has no place for them yet and its directory must hold only what
 * pr_store_destroy() removes. After a restart the first sync of a folder knows no mark
 * and lets the server win everywhere; from then on local changes count again.
 */

static GHashTable *pr_sync_marks = NULL; /* "dir\nfolder-id" -> guint64 * */

static gchar *
pr_sync_seen_key(PrSync *self, gint64 folder_id)
{
	return g_strdup_printf(
		"%s\n%" G_GINT64_FORMAT, pr_store_get_directory(self->store), folder_id);
}

guint64
pr_sync_seen_get_mark(PrSync *self, gint64 folder_id)
{
	g_autofree gchar *key = NULL;
	guint64 *mark;

	if (pr_sync_marks == NULL)
		return 0;
	key = pr_sync_seen_key(self, folder_id);
	mark = g_hash_table_lookup(pr_sync_marks, key);
	/* a mark from another store that used the same directory means nothing here */
	if (mark == NULL || *mark > pr_store_get_change_counter(self->store))
		return 0;
	return *mark;
}

gboolean
pr_sync_seen_set_mark(PrSync *self, gint64 folder_id, guint64 mark, GError **error)
{
	if (pr_sync_marks == NULL)
		pr_sync_marks = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
	g_hash_table_replace(
		pr_sync_marks, pr_sync_seen_key(self, folder_id), g_memdup2(&mark, sizeof(mark)));
	return TRUE;
}

void
pr_sync_seen_forget(PrSync *self, gint64 folder_id)
{
	g_autofree gchar *key = NULL;

	if (pr_sync_marks == NULL)
		return;
	key = pr_sync_seen_key(self, folder_id);
	g_hash_table_remove(pr_sync_marks, key);
}

GHashTable *
pr_sync_seen_local_changes(PrSync *self, gint64 folder_id, guint64 mark, GError **error)
{
	g_autoptr(GHashTable) local = g_hash_table_new(g_direct_hash, g_direct_equal);
	g_autoptr(GPtrArray) messages = NULL;
	PrStoreQuery query = { 0 };

	/* nothing at all changed since: the usual case, and no query */
	if (mark == 0 || pr_store_get_change_counter(self->store) <= mark)
		return g_steal_pointer(&local);
	query.changed_since = mark;
	messages = pr_store_list_messages(self->store, folder_id, &query, error);
	if (messages == NULL)
		return NULL;
	for (guint i = 0; i < messages->len; i++) {
		PrStoreMessage *message = g_ptr_array_index(messages, i);
		gboolean seen;

		/* changed_since may be inclusive: the mark itself was the sync's change */
		if (message->changed <= mark || message->uid == 0)
			continue;
		seen = pr_store_message_has_flag(message, "\\Seen");
		g_hash_table_insert(
			local, GUINT_TO_POINTER(message->uid), GINT_TO_POINTER(seen ? 1 : 2));
	}
	return g_steal_pointer(&local);
}
