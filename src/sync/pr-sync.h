/*
 * Copyright 2026 The Postroom developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <gio/gio.h>

#include "pr-imap-client.h"
#include "pr-progress.h"
#include "pr-store.h"

G_BEGIN_DECLS

/*
 * Folder-tree and mailbox synchronisation of one account: brings the store in line with
 * the server over a logged-in PrImapClient. QRESYNC when the server offers it, else
 * CONDSTORE, else a UID/flag diff. Headers (ENVELOPE, BODYSTRUCTURE, FLAGS, sizes) are
 * fetched newest first in batches; bodies only through pr_sync_fetch_bodies_async().
 */

#define PR_TYPE_SYNC (pr_sync_get_type())
G_DECLARE_FINAL_TYPE(PrSync, pr_sync, PR, SYNC, GObject)

typedef enum {
	PR_SYNC_SCOPE_FULL,	     /* inbox, tree, subscriptions, every folder by folder-sync */
	PR_SYNC_SCOPE_TREE,	     /* folder list only */
	PR_SYNC_SCOPE_INBOX_NEW,     /* headers of new inbox messages */
	PR_SYNC_SCOPE_FOLDERS,	     /* the listed folders fully */
	PR_SYNC_SCOPE_SUBSCRIPTIONS, /* subscriptions per subscription-update */
} PrSyncScope;

gboolean pr_sync_scope_from_string(const gchar *str, PrSyncScope *scope);

typedef enum {
	PR_SYNC_FOLDERS_REMOTE_SUBSCRIBED, /* default */
	PR_SYNC_FOLDERS_LOCAL_SUBSCRIBED,
	PR_SYNC_FOLDERS_EITHER,
	PR_SYNC_FOLDERS_ALL,
} PrSyncFolderStrategy;

typedef enum {
	PR_SYNC_SUBSCRIPTIONS_NEITHER, /* default */
	PR_SYNC_SUBSCRIPTIONS_LOCAL_FROM_REMOTE,
	PR_SYNC_SUBSCRIPTIONS_REMOTE_FROM_LOCAL,
	PR_SYNC_SUBSCRIPTIONS_BOTH,
} PrSyncSubscriptionStrategy;

/* What the account settings say about synchronising (copied by pr_sync_new). */
typedef struct {
	PrSyncFolderStrategy folder_sync;
	PrSyncSubscriptionStrategy subscription_update;
	gint inbox_sync_limit;	  /* -1 all, 0 none, N newest */
	gint mailbox_sync_limit;  /* -1 all, 0 none, N newest */
	const gchar *sync_search; /* IMAP SEARCH criteria, or NULL/"" */
	const gchar *folder_path; /* root prefix, or NULL/"" */
	gboolean update_seen_flags;
	guint fetch_batch; /* messages per header FETCH batch (0: default 500) */
} PrSyncOptions;

PrSync *pr_sync_new(PrImapClient *client, PrStore *store, const PrSyncOptions *options);

/* Runs @scope (@folders for PR_SYNC_SCOPE_FOLDERS), reporting into @progress (may be
 * NULL). Errors: NotFound (an unknown folder in @folders), the client's errors, and
 * StoreFailed. A cancelled sync leaves the store consistent (committed batches stay). */
void pr_sync_run_async(PrSync *self,
		       PrSyncScope scope,
		       const gchar *const *folders,
		       PrProgress *progress,
		       GCancellable *cancellable,
		       GAsyncReadyCallback callback,
		       gpointer user_data);
gboolean pr_sync_run_finish(PrSync *self, GAsyncResult *res, GError **error);

/* Downloads the full bodies of @ids (message ids of this store; complete ones are
 * skipped) into the store, streaming literals to files. @fetched receives the ids that
 * were downloaded (may be NULL). */
void pr_sync_fetch_bodies_async(PrSync *self,
				const guint64 *ids,
				gsize n_ids,
				PrProgress *progress,
				GCancellable *cancellable,
				GAsyncReadyCallback callback,
				gpointer user_data);
gboolean
pr_sync_fetch_bodies_finish(PrSync *self, GAsyncResult *res, GArray **fetched, GError **error);

/*
 * Signals (emitted as the store changes, after the change is committed):
 *   "folders-changed" ()
 *   "messages-changed" (const gchar *folder, GArray *added, GArray *changed,
 *                       GArray *removed)   arrays of guint64 message ids
 *   "new-mail" (const gchar *folder, GArray *ids)   new messages found in a sync
 */

/* Additions ----------------------------------------------------------------------------- */

/* Setting values ("remote-subscribed", "local-subscribed", "either", "all"; "neither",
 * "local-from-remote", "remote-from-local", "both"). FALSE for anything else. */

/* Folder administration on the server (pr-sync-folders.c): the commands, then a tree sync;
 * "folders-changed" at the end. */
typedef enum {
	PR_SYNC_FOLDER_CHANGE_CREATE, /* CREATE and SUBSCRIBE */
	PR_SYNC_FOLDER_CHANGE_RENAME, /* RENAME; the store keeps the folder's message ids */
	PR_SYNC_FOLDER_CHANGE_DELETE, /* children first, each unsubscribed, then DELETE */
} PrSyncFolderChange;

/* Whether @name can be sent as a mailbox name at all. */
gboolean pr_sync_folder_name_check(const gchar *name, GError **error);
void pr_sync_change_folder_async(PrSync *self,
				 PrSyncFolderChange action,
				 const gchar *name,
				 const gchar *to,
				 PrProgress *progress,
				 GCancellable *cancellable,
				 GAsyncReadyCallback callback,
				 gpointer user_data);
gboolean pr_sync_change_folder_finish(PrSync *self, GAsyncResult *res, GError **error);

/* Expunges what the store marks \Deleted (delete-on-disconnect, pr-sync-expunge.c);
 * "messages-changed" reports what the store forgot. A server that refuses one folder does
 * not stop the others. */
void pr_sync_expunge_deleted_async(PrSync *self,
				   gboolean use_expunge,
				   GCancellable *cancellable,
				   GAsyncReadyCallback callback,
				   gpointer user_data);
gboolean pr_sync_expunge_deleted_finish(PrSync *self, GAsyncResult *res, GError **error);

/* Flag changes on the server (pr-sync-flags.c). */
typedef struct {
	guint changed;	     /* messages whose flags are now as asked */
	GArray *conflicts;   /* guint64 ids left alone: another client changed them meanwhile */
	gchar **unsupported; /* keywords a folder's PERMANENTFLAGS would not keep (not sent) */
} PrSyncFlagsResult;

void pr_sync_flags_result_free(PrSyncFlagsResult *result);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(PrSyncFlagsResult, pr_sync_flags_result_free)

/* @flag as sent: a system flag (\Seen \Answered \Flagged \Deleted \Draft, in that
 * spelling) or a keyword (an atom without "\"); InvalidArgument for anything else, \Recent
 * included. */
gchar *pr_sync_flag_normalize(const gchar *flag, GError **error);
/* Adds @add and removes @remove (normalised flags) on the server for @ids (messages of
 * this store, from any folders), then stores the flags the server reports and emits
 * "messages-changed" per folder with the ids as changed. Errors: NotFound (an unknown id,
 * or a folder whose UIDVALIDITY changed), InvalidArgument (a local message or a bad
 * flag), the client's errors, StoreFailed. */
void pr_sync_set_flags_async(PrSync *self,
			     const guint64 *ids,
			     gsize n_ids,
			     const gchar *const *add,
			     const gchar *const *remove,
			     PrProgress *progress,
			     GCancellable *cancellable,
			     GAsyncReadyCallback callback,
			     gpointer user_data);
PrSyncFlagsResult *pr_sync_set_flags_finish(PrSync *self, GAsyncResult *res, GError **error);

gboolean pr_sync_folder_strategy_from_string(const gchar *str, PrSyncFolderStrategy *strategy);
gboolean pr_sync_subscription_strategy_from_string(const gchar *str,
						   PrSyncSubscriptionStrategy *strategy);

/* How a mailbox is compared with the store, best last. */
typedef enum {
	PR_SYNC_METHOD_PLAIN,	  /* UID/flag diff */
	PR_SYNC_METHOD_CONDSTORE, /* CHANGEDSINCE + UID SEARCH for expunges */
	PR_SYNC_METHOD_QRESYNC,	  /* SELECT (QRESYNC ...): one round trip when nothing changed */
} PrSyncMethod;

/* Caps the method (tests, diagnostics, servers with broken extensions); the default is
 * PR_SYNC_METHOD_QRESYNC, i.e. the best the server offers. */
void pr_sync_set_max_method(PrSync *self, PrSyncMethod method);
/* IMAP commands this object has sent so far (tests and benchmarks). */
guint pr_sync_get_command_count(PrSync *self);

G_END_DECLS
