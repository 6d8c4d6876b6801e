/*
 * Copyright 2026 The Postroom developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#define G_LOG_DOMAIN "PrSync"

#include <glib/gi18n-lib.h>

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
 * The marks live in sync-state.ini in the store directory (a key file: folder id -> mark)
 * so the store's schema stays the store engineer's; they are written only when they
 * change, atomically (g_file_set_contents). A lost mark only means one sync where the
 * server wins everywhere.
 */

#define PR_SYNC_STATE_FILE  "sync-state.ini"
#define PR_SYNC_STATE_GROUP "seen-marks"

static GKeyFile *
pr_sync_seen_state(PrSync *self)
{
	g_autoptr(GError) error = NULL;

	if (self->state != NULL)
		return self->state;
	self->state = g_key_file_new();
	self->state_path =
		g_build_filename(pr_store_get_directory(self->store), PR_SYNC_STATE_FILE, NULL);
	if (!g_key_file_load_from_file(self->state, self->state_path, G_KEY_FILE_NONE, &error) &&
	    !g_error_matches(error, G_FILE_ERROR, G_FILE_ERROR_NOENT))
		g_warning("ignoring %s: %s", self->state_path, error->message);
	return self->state;
}

guint64
pr_sync_seen_get_mark(PrSync *self, gint64 folder_id)
{
	GKeyFile *state = pr_sync_seen_state(self);
	g_autofree gchar *key = g_strdup_printf("%" G_GINT64_FORMAT, folder_id);

	return g_key_file_get_uint64(state, PR_SYNC_STATE_GROUP, key, NULL);
}

static gboolean
pr_sync_seen_save(PrSync *self, GError **error)
{
	g_autofree gchar *data = NULL;
	gsize len = 0;
	g_autoptr(GError) error_local = NULL;

	data = g_key_file_to_data(self->state, &len, NULL);
	if (!g_file_set_contents_full(self->state_path,
				      data,
				      (gssize)len,
				      G_FILE_SET_CONTENTS_CONSISTENT,
				      0600,
				      &error_local)) {
		g_set_error(error,
			    PR_ERROR,
			    PR_ERROR_STORE_FAILED,
			    _("Could not save the synchronisation state: %s"),
			    error_local->message);
		return FALSE;
	}
	return TRUE;
}

gboolean
pr_sync_seen_set_mark(PrSync *self, gint64 folder_id, guint64 mark, GError **error)
{
	GKeyFile *state = pr_sync_seen_state(self);
	g_autofree gchar *key = g_strdup_printf("%" G_GINT64_FORMAT, folder_id);

	if (g_key_file_get_uint64(state, PR_SYNC_STATE_GROUP, key, NULL) == mark)
		return TRUE;
	g_key_file_set_uint64(state, PR_SYNC_STATE_GROUP, key, mark);
	return pr_sync_seen_save(self, error);
}

void
pr_sync_seen_forget(PrSync *self, gint64 folder_id)
{
	GKeyFile *state = pr_sync_seen_state(self);
	g_autofree gchar *key = g_strdup_printf("%" G_GINT64_FORMAT, folder_id);
	g_autoptr(GError) error = NULL;

	if (!g_key_file_remove_key(state, PR_SYNC_STATE_GROUP, key, NULL))
		return;
	if (!pr_sync_seen_save(self, &error))
		g_warning("%s", error->message);
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
