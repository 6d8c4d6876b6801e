/*
 * Copyright 2026 The Postroom developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

/*
 * The local store of one account: an SQLite index (WAL, versioned schema with
 * migrations) in DIR/store.db and message files in DIR/messages/, named from the message
 * id only. Errors are PR_ERROR_STORE_FAILED (disk, corruption) or PR_ERROR_NOT_FOUND.
 * Not thread-safe: use from the main thread (long batches belong in transactions); the
 * slow disk work runs in worker threads of the store's own (the *_async calls).
 */

#define PR_TYPE_STORE (pr_store_get_type())
G_DECLARE_FINAL_TYPE(PrStore, pr_store, PR, STORE, GObject)

typedef enum {
	PR_STORE_DOWNLOAD_HEADERS,
	PR_STORE_DOWNLOAD_PARTIAL,
	PR_STORE_DOWNLOAD_COMPLETE,
} PrStoreDownload;

const gchar *pr_store_download_to_string(PrStoreDownload download);

typedef struct {
	gint64 id;	     /* row id; 0 before it is saved */
	gchar *name;	     /* UTF-8 as shown: "INBOX", "Lists/GLib", "local:Outbox" */
	gchar *raw_name;     /* as the server spells it (for commands); NULL for local */
	gchar delimiter;     /* 0 when flat or unknown */
	gchar **attributes;  /* LIST attributes, e.g. "\\Noselect" */
	gchar *special_use;  /* "\\Sent", ... or NULL */
	gboolean subscribed; /* the local "sync this folder" flag */
	gboolean remote_subscribed;
	gboolean local; /* kept only here (local:NAME) */
	guint32 uidvalidity;
	guint32 uidnext;
	guint64 highestmodseq;
	gint64 last_sync;
	/* kept by the store as messages come and go (ignored on save) */
	guint32 messages;
	guint32 unseen;
} PrStoreFolder;

PrStoreFolder *pr_store_folder_new(void);
void pr_store_folder_free(PrStoreFolder *folder);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(PrStoreFolder, pr_store_folder_free)

typedef struct {
	guint64 id; /* message id, store-wide, never reused; 0 before it is saved */
	gint64 folder_id;
	gchar *folder; /* filled on read */
	guint32 uid;   /* 0 for local messages */
	guint64 modseq;
	gchar **flags; /* NULL-terminated */
	gint64 internal_date;
	guint64 size;
	gchar *subject;
	gchar *from;
	gchar **to;
	gchar **cc;
	gint64 date;
	gchar *message_id;
	gchar *in_reply_to;
	gboolean has_attachments;
	gchar *bodystructure; /* IMAP syntax as received, or NULL */
	PrStoreDownload download;
	gchar *pending;	 /* an offline operation waiting on it, or NULL */
	guint64 changed; /* the change counter when it last changed */
} PrStoreMessage;

PrStoreMessage *pr_store_message_new(void);
void pr_store_message_free(PrStoreMessage *message);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(PrStoreMessage, pr_store_message_free)
gboolean pr_store_message_has_flag(const PrStoreMessage *message, const gchar *flag);

typedef struct {
	guint32 offset;
	guint32 limit; /* 0: no limit */
	gboolean unseen_only;
	guint64 changed_since; /* 0: all */
} PrStoreQuery;

/* Opens (creating, migrating) the store in @directory (created 0700). */
PrStore *pr_store_new(const gchar *directory, GError **error);
const gchar *pr_store_get_directory(PrStore *self);
/* Deletes the whole store directory (RemoveService). The object is unusable after. */
gboolean pr_store_destroy(PrStore *self, GError **error);
/* The same with the removal of the files (possibly tens of thousands) in a worker thread:
 * the database is closed before this returns, on the caller's thread. Cancelling stops it
 * only before the removal has begun; pr_store_destroy() finishes a stopped one. */
void pr_store_destroy_async(PrStore *self,
			    GCancellable *cancellable,
			    GAsyncReadyCallback callback,
			    gpointer user_data);
gboolean pr_store_destroy_finish(PrStore *self, GAsyncResult *res, GError **error);

/* Batching: everything between begin and commit is one transaction (nestable by count;
 * only the outermost commit writes). */
/* An inner level is a savepoint: rolling it back undoes only that level. A failed commit
 * has already rolled its level back (do not call rollback after it). */
gboolean pr_store_begin(PrStore *self, GError **error);
gboolean pr_store_commit(PrStore *self, GError **error);
void pr_store_rollback(PrStore *self);

/* The change counter: every message insert/change/removal bumps it. */
guint64 pr_store_get_change_counter(PrStore *self);

/* Small named numbers kept in the index for other modules (sync state such as the \Seen
 * marks), so they share its transactions and go with pr_store_destroy(). Keys are the
 * caller's, e.g. "sync/seen-mark/12"; the store's own ("change-counter", "open") are not
 * theirs to touch. A key never set reads as 0 with *found FALSE (@found may be NULL). */
gboolean
pr_store_get_meta(PrStore *self, const gchar *key, gint64 *value, gboolean *found, GError **error);
gboolean pr_store_set_meta(PrStore *self, const gchar *key, gint64 value, GError **error);
/* Forgets @key; forgetting one never set is not an error. */
gboolean pr_store_delete_meta(PrStore *self, const gchar *key, GError **error);

/* Folders ------------------------------------------------------------------------------ */
GPtrArray *pr_store_list_folders(PrStore *self, GError **error); /* of PrStoreFolder, by name */
PrStoreFolder *pr_store_get_folder(PrStore *self, const gchar *name, GError **error);
PrStoreFolder *pr_store_get_folder_by_id(PrStore *self, gint64 id, GError **error);
/* Inserts (id 0) or updates by id; on insert sets folder->id. Names are unique. */
gboolean pr_store_save_folder(PrStore *self, PrStoreFolder *folder, GError **error);
/* Deletes the folder, its messages and their files. */
gboolean pr_store_delete_folder(PrStore *self, gint64 id, GError **error);
/* Renames @from and its children (names starting with @from + delimiter). */
gboolean pr_store_rename_folder(PrStore *self,
				const gchar *from,
				const gchar *to,
				const gchar *raw_to,
				gchar delimiter,
				GError **error);

/* Messages ----------------------------------------------------------------------------- */

/* Inserts @message (id 0) into its folder, or, when a message with the same folder and
 * UID exists, updates it keeping its id. Sets message->id and message->changed. */
gboolean pr_store_save_message(PrStore *self, PrStoreMessage *message, GError **error);
/* Sets flags (and modseq when non-zero) of the message with @uid in @folder_id. Returns
 * the message id in @id (0 when there is no such message, which is not an error).
 * Unchanged flags do not bump the change counter. */
gboolean pr_store_set_flags_by_uid(PrStore *self,
				   gint64 folder_id,
				   guint32 uid,
				   const gchar *const *flags,
				   guint64 modseq,
				   guint64 *id,
				   GError **error);
gboolean pr_store_set_flags(PrStore *self, guint64 id, const gchar *const *flags, GError **error);
/* The folder's UIDs from @min_uid up (0: all), ascending (GArray of guint32). */
GArray *pr_store_get_uids(PrStore *self, gint64 folder_id, guint32 min_uid, GError **error);
/* uid -> flags (space-joined string) for a flag diff; keys GUINT_TO_POINTER(uid). */
GHashTable *pr_store_get_uid_flags(PrStore *self, gint64 folder_id, GError **error);
/* Removes the messages with these UIDs (and their files); their ids go to @removed
 * (GArray of guint64, may be NULL). */
gboolean pr_store_remove_uids(PrStore *self,
			      gint64 folder_id,
			      const guint32 *uids,
			      gsize n,
			      GArray *removed,
			      GError **error);
gboolean pr_store_remove_message(PrStore *self, guint64 id, GError **error);
/* UIDVALIDITY changed: every message of the folder is retired (ids and files gone). */
gboolean
pr_store_retire_folder_messages(PrStore *self, gint64 folder_id, GArray *removed, GError **error);
/* Ordered by UID (local folders: by id). */
GPtrArray *
pr_store_list_messages(PrStore *self, gint64 folder_id, const PrStoreQuery *query, GError **error);
/* The same (PrStoreMessage, same order) read in a worker thread on a read-only connection
 * of its own, so that a big folder does not hold the caller's thread. It sees what was
 * committed when it ran, never a transaction still open on the caller's thread. @query
 * (may be NULL) is copied. */
void pr_store_list_messages_async(PrStore *self,
				  gint64 folder_id,
				  const PrStoreQuery *query,
				  GCancellable *cancellable,
				  GAsyncReadyCallback callback,
				  gpointer user_data);
GPtrArray *pr_store_list_messages_finish(PrStore *self, GAsyncResult *res, GError **error);
PrStoreMessage *pr_store_get_message(PrStore *self, guint64 id, GError **error);
PrStoreMessage *
pr_store_get_message_by_uid(PrStore *self, gint64 folder_id, guint32 uid, GError **error);
/* Ids of messages whose body is not complete (for populate), newest UID first. */
GArray *pr_store_get_missing_bodies(PrStore *self, gint64 folder_id, GError **error);
/* What a folder's sync needs to tell local changes apart, without reading whole messages:
 * the messages of @folder_id changed after the change counter was @since (GArray of
 * PrStoreChange, by change). */
typedef struct {
	guint64 id;
	guint32 uid; /* 0 for local messages */
	gboolean seen;
	guint64 changed;
} PrStoreChange;

GArray *pr_store_get_changes_since(PrStore *self, gint64 folder_id, guint64 since, GError **error);
/* Ids (GArray of guint64) of messages that left @folder_id (removed, retired or moved
 * away) after the change counter was @since, and are not back in it: with ListMessages'
 * changed-since this tells a polling client about removals. */
GArray *pr_store_get_removed_since(PrStore *self, gint64 folder_id, guint64 since, GError **error);

/* Message bodies ----------------------------------------------------------------------- */

/*
 * Durability: the index never points at a body that is not on disk for good. A single
 * commit syncs the file, renames it into place, syncs its directory and marks the message
 * in one transaction. Many bodies (a FETCH batch) go through the deferred commit instead:
 * each is written to its temporary file without a sync; the flush then reads the index
 * once for the whole batch, renames every body the index does not point at yet into
 * place (the name means nothing while the message says "headers"), syncs the store's file
 * system once (syncfs: the data and the directory entries of every body of the batch) and
 * marks them all in one transaction. A body replacing one the index already points at
 * keeps its temporary name until the flush's sync, is renamed then, and the flush syncs
 * once more for those names.
 *
 * A crash before the flush leaves temporary files and bodies under their final names
 * that the index does not point at, possibly incomplete; a crash between the sync and the
 * index commit leaves such files complete. The startup sweep after an unclean shutdown
 * deletes both kinds (a file is adopted only by a commit, never by the sweep); those
 * bodies are fetched again.
 */

/* A stream to a new temporary file for the body of @id. */
GOutputStream *pr_store_body_begin(PrStore *self, guint64 id, GError **error);
/* Flushes, fsyncs and renames the temporary file into place, fsyncs its directory, then
 * marks @download. */
gboolean pr_store_body_commit(PrStore *self,
			      guint64 id,
			      GOutputStream *stream,
			      PrStoreDownload download,
			      GError **error);
/* The same with the syncs in a worker thread, so that the caller's main loop goes on: the
 * body is a batch of one through the flush below (one file-system sync, two when it
 * replaces a body the index points at). NotFound when the message went away meanwhile
 * (its file is deleted). Not cancellable. */
void pr_store_body_commit_async(PrStore *self,
				guint64 id,
				GOutputStream *stream,
				PrStoreDownload download,
				GAsyncReadyCallback callback,
				gpointer user_data);
gboolean pr_store_body_commit_finish(PrStore *self, GAsyncResult *res, GError **error);
/* A batch of bodies committed together, owned by one downloader (several may share a
 * store). It holds a reference to the store. */
typedef struct _PrStoreBodyBatch PrStoreBodyBatch;

PrStoreBodyBatch *pr_store_body_batch_new(PrStore *self);
/* Drops what was not flushed (its temporary files are deleted). */
void pr_store_body_batch_free(PrStoreBodyBatch *batch);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(PrStoreBodyBatch, pr_store_body_batch_free)
/* How many bodies of @batch wait for pr_store_bodies_flush(). */
guint pr_store_body_batch_get_pending(PrStoreBodyBatch *batch);
/* Like pr_store_body_begin() without looking the message up: the flush does, once for
 * the whole batch, and drops the bodies of messages gone meanwhile. */
GOutputStream *pr_store_body_batch_begin(PrStoreBodyBatch *batch, guint64 id, GError **error);
/* Closes the body's temporary file (no sync) and adds it to @batch; until the flush the
 * message reads as it did (NotDownloaded). */
gboolean pr_store_body_commit_deferred(PrStoreBodyBatch *batch,
				       guint64 id,
				       GOutputStream *stream,
				       PrStoreDownload download,
				       GError **error);
/* Makes every body of @batch durable and marks it, as above, in one transaction with one
 * change stamp; @batch is empty after. The ids marked are appended to @flushed (GArray of
 * guint64, may be NULL); a message removed meanwhile is left out and its file deleted. On
 * failure none of them is kept (their temporary files are deleted): they are fetched
 * again. */
gboolean pr_store_bodies_flush(PrStoreBodyBatch *batch, GArray *flushed, GError **error);
/* The same with the file-system syncs (and the late renames between them) in a worker
 * thread, so that the caller's main loop goes on (receiving the next bodies into @batch,
 * say); the index is read before and written after on the caller's thread. Not cancellable:
 * whatever arrived whole is kept. One flush of a batch at a time. */
void pr_store_bodies_flush_async(PrStoreBodyBatch *batch,
				 GAsyncReadyCallback callback,
				 gpointer user_data);
gboolean
pr_store_bodies_flush_finish(PrStore *self, GAsyncResult *res, GArray *flushed, GError **error);
/* Drops a temporary body (cancel, error). */
void pr_store_body_abort(PrStore *self, guint64 id, GOutputStream *stream);
/* A read-only descriptor of the stored body; NotDownloaded when there is none. */
gint pr_store_open_body(PrStore *self, guint64 id, GError **error);
/* The path of the body file (for tests and tools), whether or not it exists. */
gchar *pr_store_get_body_path(PrStore *self, guint64 id);

G_END_DECLS
