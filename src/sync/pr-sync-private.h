/*
 * Copyright 2026 The Postroom developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include "pr-imap-seqset.h"
#include "pr-sync.h"

G_BEGIN_DECLS

/* Shared by the pr-sync-*.c files: the PrSync instance and the steps it runs. */

struct _PrSync {
	GObject parent_instance;
	PrImapClient *client;
	PrStore *store;
	PrSyncFolderStrategy folder_sync;
	PrSyncSubscriptionStrategy subscription_update;
	gint inbox_sync_limit;
	gint mailbox_sync_limit;
	gchar *sync_search; /* NULL when empty */
	gchar *folder_path; /* NULL when empty; no trailing delimiter */
	gboolean update_seen_flags;
	guint fetch_batch;
	PrSyncMethod max_method;
	guint command_count;
	gboolean busy;
	/* the folder our last SELECT or EXAMINE chose, while the client's select generation
	 * says nothing else was selected since (see pr_sync_select_done()) */
	gboolean have_selected;
	gint64 selected_folder_id;
	guint32 selected_uidvalidity;
	gboolean selected_read_only;
	guint selected_generation;
};

/* Helpers (pr-sync-helpers.c) ----------------------------------------------------------- */

PrImapCommand *pr_sync_command_new(PrSync *self, const gchar *name);
gboolean pr_sync_command_add_folder(PrSync *self,
				    PrImapCommand *command,
				    const PrStoreFolder *folder,
				    GError **error);
void pr_sync_run_command(PrSync *self,
			 PrImapCommand *command,
			 GCancellable *cancellable,
			 GAsyncReadyCallback callback,
			 gpointer user_data);
void pr_sync_run_command_with_handler(PrSync *self,
				      PrImapCommand *command,
				      PrImapUntaggedFunc handler,
				      gpointer handler_data,
				      GCancellable *cancellable,
				      GAsyncReadyCallback callback,
				      gpointer user_data);
gboolean pr_sync_folder_is_selectable(const PrStoreFolder *folder);
guint pr_sync_select_expect(PrSync *self);
void pr_sync_select_done(PrSync *self,
			 const PrStoreFolder *folder,
			 guint expected,
			 guint32 uidvalidity,
			 gboolean read_only);
gboolean pr_sync_is_selected(PrSync *self, const PrStoreFolder *folder, gboolean writable);
gboolean pr_sync_flag_in(const gchar *const *flags, const gchar *flag);
gchar **pr_sync_flags_normalize(const gchar *const *flags);
gchar *pr_sync_flags_key(const gchar *const *flags);
gchar *pr_sync_flags_key_from_string(const gchar *joined);
/* The sorted UIDs of a "* SEARCH" or "* ESEARCH" response set; appends to @uids. */
gboolean pr_sync_collect_search(GPtrArray *untagged, GArray *uids, GError **error);
GArray *pr_sync_seqset_expand(const PrImapSeqset *set, guint64 max, GError **error);
/* Ascending order of guint32 UIDs, for g_array_sort(). */
gint pr_sync_uid_cmp(gconstpointer a, gconstpointer b);
void pr_sync_uids_sort_unique(GArray *uids);
gboolean pr_sync_uids_contains(const GArray *sorted, guint32 uid);
gchar *pr_sync_render_value(const PrImapValue *value);

void pr_sync_progress_stage(PrProgress *progress, const gchar *stage);
void pr_sync_progress_folder(PrProgress *progress, const gchar *folder);
void pr_sync_progress_folders(PrProgress *progress, guint total, guint done);
void pr_sync_progress_messages(PrProgress *progress, guint total, guint done);
void pr_sync_progress_bytes(PrProgress *progress, guint64 total, guint64 done);
/* Steps of @progress (which may be NULL, as may the child then) */
void pr_sync_progress_add_step(PrProgress *progress, guint weight);
PrProgress *pr_sync_progress_child(PrProgress *progress);
void pr_sync_progress_step_done(PrProgress *progress);

/* Signals (pr-sync.c) ----------------------------------------------------------------- */

void pr_sync_emit_folders_changed(PrSync *self);
void pr_sync_emit_messages_changed(PrSync *self,
				   const gchar *folder,
				   GArray *added,
				   GArray *changed,
				   GArray *removed);
void pr_sync_emit_new_mail(PrSync *self, const gchar *folder, GArray *ids);

/* Tree and subscriptions (pr-sync-tree.c) -------------------------------------------- */

gboolean pr_sync_ensure_inbox(PrSync *self, GError **error);
void pr_sync_tree_async(PrSync *self,
			GCancellable *cancellable,
			GAsyncReadyCallback callback,
			gpointer user_data);
gboolean pr_sync_tree_finish(PrSync *self, GAsyncResult *res, GError **error);
void pr_sync_subscriptions_async(PrSync *self,
				 GCancellable *cancellable,
				 GAsyncReadyCallback callback,
				 gpointer user_data);
gboolean pr_sync_subscriptions_finish(PrSync *self, GAsyncResult *res, GError **error);
/* Names of the folders @strategy selects (never \Noselect ones nor INBOX). */
GPtrArray *pr_sync_plan_folders(PrSync *self, GError **error);

/* One mailbox (pr-sync-mailbox.c) ------------------------------------------------------ */

void pr_sync_mailbox_async(PrSync *self,
			   const gchar *name,
			   gboolean new_only,
			   PrProgress *progress,
			   GCancellable *cancellable,
			   GAsyncReadyCallback callback,
			   gpointer user_data);
gboolean pr_sync_mailbox_finish(PrSync *self, GAsyncResult *res, GError **error);

/* Seen-flag reconciliation state (pr-sync-seen.c) ------------------------------------- */

/* The store change counter at the end of the folder's last sync; 0 when unknown. */
guint64 pr_sync_seen_get_mark(PrSync *self, gint64 folder_id);
gboolean pr_sync_seen_set_mark(PrSync *self, gint64 folder_id, guint64 mark, GError **error);
void pr_sync_seen_forget(PrSync *self, gint64 folder_id);
/* UIDs of the folder's messages changed locally since @mark: uid -> GINT_TO_POINTER(1)
 * when the local copy has \Seen, GINT_TO_POINTER(2) when not. */
GHashTable *
pr_sync_seen_local_changes(PrSync *self, gint64 folder_id, guint64 mark, GError **error);

G_END_DECLS
