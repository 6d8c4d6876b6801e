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
 * Not thread-safe: use from the main thread (long batches belong in transactions).
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
	/* computed on read */
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

/* Batching: everything between begin and commit is one transaction (nestable by count;
 * only the outermost commit writes). */
/* An inner level is a savepoint: rolling it back undoes only that level. A failed commit
 * has already rolled its level back (do not call rollback after it). */
gboolean pr_store_begin(PrStore *self, GError **error);
gboolean pr_store_commit(PrStore *self, GError **error);
void pr_store_rollback(PrStore *self);

/* The change counter: every message insert/change/removal bumps it. */
guint64 pr_store_get_change_counter(PrStore *self);

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
/* All UIDs of the folder, ascending (GArray of guint32). */
GArray *pr_store_get_uids(PrStore *self, gint64 folder_id, GError **error);
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
PrStoreMessage *pr_store_get_message(PrStore *self, guint64 id, GError **error);
PrStoreMessage *
pr_store_get_message_by_uid(PrStore *self, gint64 folder_id, guint32 uid, GError **error);
/* Ids of messages whose body is not complete (for populate), newest UID first. */
GArray *pr_store_get_missing_bodies(PrStore *self, gint64 folder_id, GError **error);
/* Ids (GArray of guint64) of messages that left @folder_id (removed, retired or moved
 * away) after the change counter was @since, and are not back in it: with ListMessages'
 * changed-since this tells a polling client about removals. */
GArray *pr_store_get_removed_since(PrStore *self, gint64 folder_id, guint64 since, GError **error);

/* Message bodies ----------------------------------------------------------------------- */

/* A stream to a new temporary file for the body of @id. */
GOutputStream *pr_store_body_begin(PrStore *self, guint64 id, GError **error);
/* Flushes, fsyncs and renames the temporary file into place, then marks @download. */
gboolean pr_store_body_commit(PrStore *self,
			      guint64 id,
			      GOutputStream *stream,
			      PrStoreDownload download,
			      GError **error);
/* Drops a temporary body (cancel, error). */
void pr_store_body_abort(PrStore *self, guint64 id, GOutputStream *stream);
/* A read-only descriptor of the stored body; NotDownloaded when there is none. */
gint pr_store_open_body(PrStore *self, guint64 id, GError **error);
/* The path of the body file (for tests and tools), whether or not it exists. */
gchar *pr_store_get_body_path(PrStore *self, guint64 id);

G_END_DECLS
