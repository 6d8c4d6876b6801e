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
 * The marks are kept in the store's meta table (pr_store_get_meta()), one per folder id,
 * so they survive a daemon restart and go with the store when it is destroyed. Writing one
 * is a small write of its own, made only when a sync or a body download changed the
 * folder: a quiet resync reads its mark and writes nothing.
 */

static gchar *
pr_sync_seen_key(gint64 folder_id)
{
	return g_strdup_printf("sync/seen-mark/%" G_GINT64_FORMAT, folder_id);
}

guint64
pr_sync_seen_get_mark(PrSync *self, gint64 folder_id)
{
	g_autofree gchar *key = pr_sync_seen_key(folder_id);
	g_autoptr(GError) error = NULL;
	gint64 mark = 0;

	if (!pr_store_get_meta(self->store, key, &mark, NULL, &error)) {
		/* unknown: the server wins this time, as after a first sync */
		g_warning("cannot read the \\Seen mark of folder %" G_GINT64_FORMAT ": %s",
			  folder_id,
			  error->message);
		return 0;
	}
	/* a mark above the counter cannot be ours (the store was replaced under it) */
	if (mark <= 0 || (guint64)mark > pr_store_get_change_counter(self->store))
		return 0;
	return (guint64)mark;
}

gboolean
pr_sync_seen_set_mark(PrSync *self, gint64 folder_id, guint64 mark, GError **error)
{
	g_autofree gchar *key = pr_sync_seen_key(folder_id);
	return pr_store_set_meta(self->store, key, (gint64)mark, error);
}

void
pr_sync_seen_forget(PrSync *self, gint64 folder_id)
{
	g_autofree gchar *key = pr_sync_seen_key(folder_id);
	g_autoptr(GError) error = NULL;

	if (!pr_store_delete_meta(self->store, key, &error))
		g_warning("cannot forget the \\Seen mark of folder %" G_GINT64_FORMAT ": %s",
			  folder_id,
			  error->message);
}

GHashTable *
pr_sync_seen_local_changes(PrSync *self, gint64 folder_id, guint64 mark, GError **error)
{
	g_autoptr(GHashTable) local = g_hash_table_new(g_direct_hash, g_direct_equal);
	g_autoptr(GArray) changes = NULL;

	/* nothing at all changed since: the usual case, and no query */
	if (mark == 0 || pr_store_get_change_counter(self->store) <= mark)
		return g_steal_pointer(&local);
	/* an indexed range: only what changed, never the whole folder */
	changes = pr_store_get_changes_since(self->store, folder_id, mark, error);
	if (changes == NULL)
		return NULL;
	for (guint i = 0; i < changes->len; i++) {
		PrStoreChange *change = &g_array_index(changes, PrStoreChange, i);
		if (change->uid == 0)
			continue;
		g_hash_table_insert(local,
				    GUINT_TO_POINTER(change->uid),
				    GINT_TO_POINTER(change->seen ? 1 : 2));
	}
	return g_steal_pointer(&local);
}
