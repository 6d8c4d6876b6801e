/*
 * Copyright 2026 The Postroom developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <sqlite3.h>

#include "pr-store.h"

G_BEGIN_DECLS

/* Shared by the files of PrStore: pr-store.c (object, opening, transactions, meta),
 * pr-store-folder.c (folders), pr-store-files.c (the store's directory: sweep, destroy),
 * pr-store-message.c (writing message rows), pr-store-query.c (reading them),
 * pr-store-body.c (body files) and pr-store-sql.c (schema and statements). */

typedef enum {
	STMT_BEGIN,
	STMT_COMMIT,
	STMT_ROLLBACK,
	STMT_SAVEPOINT,
	STMT_RELEASE,
	STMT_ROLLBACK_TO,
	STMT_META_GET,
	STMT_META_SET,
	STMT_META_DELETE,
	STMT_FOLDER_CHECK,
	STMT_FOLDER_LIST,
	STMT_FOLDER_BY_NAME,
	STMT_FOLDER_BY_ID,
	STMT_FOLDER_INSERT,
	STMT_FOLDER_UPDATE,
	STMT_FOLDER_RENAME,
	STMT_FOLDER_DELETE,
	STMT_FOLDER_MESSAGES_DELETE,
	STMT_FOLDER_TOMBSTONES_DELETE,
	STMT_MESSAGE_UPSERT,
	STMT_MESSAGE_UPDATE,
	STMT_MESSAGE_STATE_BY_ID,
	STMT_MESSAGE_STATE_BY_UID,
	STMT_MESSAGE_SET_FLAGS,
	STMT_MESSAGE_SET_MODSEQ,
	STMT_MESSAGE_SET_DOWNLOAD,
	STMT_MESSAGE_UIDS,
	STMT_MESSAGE_UID_FLAGS,
	STMT_MESSAGE_DELETE_BY_UID,
	STMT_MESSAGE_DELETE,
	STMT_MESSAGE_LIST,
	STMT_MESSAGE_GET,
	STMT_MESSAGE_GET_BY_UID,
	STMT_MESSAGE_MISSING,
	STMT_MESSAGE_CHANGES,
	STMT_TOMBSTONE_INSERT,
	STMT_TOMBSTONE_RETIRE,
	STMT_TOMBSTONE_SINCE,
	STMT_LAST
} PrStoreStmtId;

extern const gchar *const pr_store_sql[STMT_LAST];
extern const gchar *const pr_store_migrations[];
extern const guint pr_store_migrations_len;

/* Columns of PR_STORE_MESSAGE_COLUMNS */
enum {
	COL_M_ID,
	COL_M_FOLDER_ID,
	COL_M_UID,
	COL_M_MODSEQ,
	COL_M_FLAGS,
	COL_M_INTERNAL_DATE,
	COL_M_SIZE,
	COL_M_SUBJECT,
	COL_M_SENDER,
	COL_M_TO,
	COL_M_CC,
	COL_M_DATE,
	COL_M_MESSAGE_ID,
	COL_M_IN_REPLY_TO,
	COL_M_HAS_ATTACHMENTS,
	COL_M_BODYSTRUCTURE,
	COL_M_DOWNLOAD,
	COL_M_PENDING,
	COL_M_CHANGED,
	COL_M_FOLDER_NAME, /* only with a join */
};

/* Columns of STMT_MESSAGE_STATE_BY_* */
enum {
	COL_S_ID,
	COL_S_FOLDER_ID,
	COL_S_FLAGS,
	COL_S_MODSEQ,
	COL_S_CHANGED,
	COL_S_DOWNLOAD,
};

typedef struct {
	guint64 counter;  /* the change counter when the level began */
	guint unlink_len; /* unlink_ids->len when the level began */
} PrStoreLevel;

struct _PrStore {
	GObject parent_instance;
	gchar *directory;
	gchar *messages_dir;
	sqlite3 *db;
	sqlite3_stmt *stmts[STMT_LAST];
	GArray *levels;	    /* of PrStoreLevel: one per open pr_store_begin() */
	GArray *unlink_ids; /* of guint64: body files to delete once the removal is committed */
	guint64 counter;
	guint64 counter_saved; /* the value in the meta table */
	guint open_bodies;
	gboolean marked_open;
	/* The read-only connections of the worker threads (pr-store-query.c), never the main
	 * thread's: one per listing under way, a few kept idle for the next ones, closed
	 * with the store. The lock guards the idle ones and the flag. */
	GMutex reader_lock;
	GPtrArray *readers_idle; /* sqlite3 */
	gboolean reader_closed;
};

/* A borrowed cached statement: the autoptr resets it and clears its bindings. */
typedef sqlite3_stmt PrStoreStmt;

void pr_store_stmt_release(PrStoreStmt *stmt);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(PrStoreStmt, pr_store_stmt_release)

void pr_store_set_db_error(PrStore *self, GError **error);
void pr_store_set_errno_error(GError **error, gint errsv, const gchar *format, ...)
	G_GNUC_PRINTF(3, 4);
void pr_store_set_folder_id_error(GError **error, gint64 id);
void pr_store_set_message_error(GError **error, guint64 id);
PrStoreStmt *pr_store_prepare(PrStore *self, PrStoreStmtId id, GError **error);
gboolean pr_store_step_done(PrStore *self, PrStoreStmt *stmt, GError **error);
gboolean pr_store_step_row(PrStore *self, PrStoreStmt *stmt, gboolean *row, GError **error);
gboolean pr_store_run(PrStore *self, PrStoreStmtId id, GError **error);
void pr_store_bind_text(PrStoreStmt *stmt, gint idx, const gchar *text);
gchar *pr_store_column_dup(PrStoreStmt *stmt, gint col);
const gchar *pr_store_utf8(const gchar *text, gchar **repaired);
gchar *pr_store_list_join(const gchar *const *items);
gchar **pr_store_list_split(const gchar *text, const gchar *delimiter);
gboolean pr_store_folder_check(PrStore *self, gint64 id, gchar **name, GError **error);
guint64 pr_store_next_change(PrStore *self);
gboolean pr_store_message_exists(PrStore *self, guint64 id, gboolean *exists, GError **error);
/* Whether the index points at a body file of @id (the message exists and is not headers
 * only). */
gboolean pr_store_body_referenced(PrStore *self, guint64 id, gboolean *referenced, GError **error);
gboolean
pr_store_delete_folder_messages(PrStore *self, gint64 folder_id, GArray *removed, GError **error);
/* The bookkeeping columns of one message row. */
typedef struct {
	guint64 id;
	gint64 folder_id;
	gchar *flags;
	guint64 modseq;
	guint64 changed;
	PrStoreDownload download;
} PrStoreMessageState;

void pr_store_message_state_clear(PrStoreMessageState *state);
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(PrStoreMessageState, pr_store_message_state_clear)

/* By id (@uid 0) or by folder and UID; *found FALSE when there is no such message. */
gboolean pr_store_message_state(PrStore *self,
				guint64 id,
				gint64 folder_id,
				guint32 uid,
				PrStoreMessageState *state,
				gboolean *found,
				GError **error);
/* A row of PR_STORE_MESSAGE_COLUMNS; @folder_name NULL takes COL_M_FOLDER_NAME. */
PrStoreMessage *pr_store_message_from_row(PrStoreStmt *stmt, const gchar *folder_name);
/* Closes the worker threads' connection; waits for a query running on it. */
void pr_store_reader_close(PrStore *self);

/* Tests: when set, called with what is happening and on the thread doing it, by every
 * disk sync ("syncfs", "fsync", "fdatasync") and by the worker-thread jobs ("destroy",
 * "list-messages"). Set it before the store is used. */
typedef void (*PrStoreTestHook)(const gchar *event);
extern PrStoreTestHook pr_store_test_hook;
void pr_store_test_event(const gchar *event);

/* Closes the database (marking a clean shutdown); the object stays. */
void pr_store_close(PrStore *self);
/* Drops the files an unclean shutdown may have left (see pr-store.h on durability). */
void pr_store_sweep(PrStore *self);

G_END_DECLS
