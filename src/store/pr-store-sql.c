/*
 * Copyright 2026 The Postroom developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "pr-store-private.h"

/* Schema steps, applied in order: step i takes user_version from i to i + 1, in one
 * transaction. Add a version by appending a string; never edit a step that has shipped. */
const gchar *const pr_store_migrations[] = {
	/* v1 */
	"CREATE TABLE meta (key TEXT PRIMARY KEY NOT NULL, value INTEGER NOT NULL) WITHOUT ROWID;"
	"INSERT INTO meta (key, value) VALUES ('change-counter', 0), ('open', 0);"
	"CREATE TABLE folders ("
	" id INTEGER PRIMARY KEY AUTOINCREMENT,"
	" name TEXT NOT NULL UNIQUE,"
	" raw_name TEXT,"
	" delimiter INTEGER NOT NULL DEFAULT 0,"
	" attributes TEXT NOT NULL DEFAULT '',"
	" special_use TEXT,"
	" subscribed INTEGER NOT NULL DEFAULT 0,"
	" remote_subscribed INTEGER NOT NULL DEFAULT 0,"
	" local INTEGER NOT NULL DEFAULT 0,"
	" uidvalidity INTEGER NOT NULL DEFAULT 0,"
	" uidnext INTEGER NOT NULL DEFAULT 0,"
	" highestmodseq INTEGER NOT NULL DEFAULT 0,"
	" last_sync INTEGER NOT NULL DEFAULT 0);"
	"INSERT INTO folders (name, subscribed, local) VALUES"
	" ('local:Outbox', 1, 1), ('local:Drafts', 1, 1), ('local:Sent', 1, 1);"
	/* uid is NULL for local messages: UNIQUE ignores NULLs, so one full index gives both
	 * UNIQUE(folder_id, uid) for server messages and the per-folder COUNT */
	"CREATE TABLE messages ("
	" id INTEGER PRIMARY KEY AUTOINCREMENT,"
	" folder_id INTEGER NOT NULL REFERENCES folders (id) ON DELETE CASCADE,"
	" uid INTEGER CHECK (uid IS NULL OR uid > 0),"
	" modseq INTEGER NOT NULL DEFAULT 0,"
	" flags TEXT NOT NULL DEFAULT '',"
	" seen INTEGER NOT NULL DEFAULT 0,"
	" internal_date INTEGER NOT NULL DEFAULT 0,"
	" size INTEGER NOT NULL DEFAULT 0,"
	" subject TEXT,"
	" sender TEXT,"
	" to_list TEXT NOT NULL DEFAULT '',"
	" cc_list TEXT NOT NULL DEFAULT '',"
	" date INTEGER NOT NULL DEFAULT 0,"
	" message_id TEXT,"
	" in_reply_to TEXT,"
	" has_attachments INTEGER NOT NULL DEFAULT 0,"
	" bodystructure TEXT,"
	" download INTEGER NOT NULL DEFAULT 0,"
	" pending TEXT,"
	" changed INTEGER NOT NULL DEFAULT 0);"
	"CREATE UNIQUE INDEX messages_folder_uid ON messages (folder_id, uid);"
	"CREATE INDEX messages_folder_seen ON messages (folder_id, seen);"
	"CREATE INDEX messages_folder_changed ON messages (folder_id, changed);"
	/* one row per (message, folder it left): a message moved A -> B -> C must still be
	 * reported as gone from A */
	"CREATE TABLE tombstones ("
	" id INTEGER NOT NULL,"
	" folder_id INTEGER NOT NULL,"
	" changed INTEGER NOT NULL,"
	" PRIMARY KEY (id, folder_id)) WITHOUT ROWID;"
	"CREATE INDEX tombstones_folder_changed ON tombstones (folder_id, changed);",
	/* v2: per-folder counts kept with the rows instead of two COUNT(*) per folder read.
	 * Triggers keep them in the statement's own transaction, whatever path inserts, moves,
	 * re-flags or deletes a message (upserts, ON DELETE CASCADE included). */
	"ALTER TABLE folders ADD COLUMN message_count INTEGER NOT NULL DEFAULT 0;"
	"ALTER TABLE folders ADD COLUMN unseen_count INTEGER NOT NULL DEFAULT 0;"
	"UPDATE folders SET"
	" message_count = (SELECT COUNT(*) FROM messages m WHERE m.folder_id = folders.id),"
	" unseen_count = (SELECT COUNT(*) FROM messages m"
	" WHERE m.folder_id = folders.id AND m.seen = 0);"
	"CREATE TRIGGER messages_count_insert AFTER INSERT ON messages BEGIN"
	" UPDATE folders SET message_count = message_count + 1,"
	" unseen_count = unseen_count + (NEW.seen = 0) WHERE id = NEW.folder_id;"
	" END;"
	"CREATE TRIGGER messages_count_delete AFTER DELETE ON messages BEGIN"
	" UPDATE folders SET message_count = message_count - 1,"
	" unseen_count = unseen_count - (OLD.seen = 0) WHERE id = OLD.folder_id;"
	" END;"
	"CREATE TRIGGER messages_count_update AFTER UPDATE OF folder_id, seen ON messages"
	" WHEN OLD.folder_id IS NOT NEW.folder_id OR OLD.seen IS NOT NEW.seen BEGIN"
	" UPDATE folders SET message_count = message_count - 1,"
	" unseen_count = unseen_count - (OLD.seen = 0) WHERE id = OLD.folder_id;"
	" UPDATE folders SET message_count = message_count + 1,"
	" unseen_count = unseen_count + (NEW.seen = 0) WHERE id = NEW.folder_id;"
	" END;",
	/* v3: the messages whose body is missing, found without reading every row of a
	 * folder (GetMail "all" on a large folder); the condition is the statement's */
	"CREATE INDEX messages_folder_missing ON messages (folder_id, uid DESC, id DESC)"
	" WHERE download <> 2;",
};

const guint pr_store_migrations_len = G_N_ELEMENTS(pr_store_migrations);

#define PR_STORE_FOLDER_COLUMNS                                                                    \
	"f.id, f.name, f.raw_name, f.delimiter, f.attributes, f.special_use, f.subscribed, "       \
	"f.remote_subscribed, f.local, f.uidvalidity, f.uidnext, f.highestmodseq, f.last_sync, "   \
	"f.message_count, f.unseen_count "

#define PR_STORE_MESSAGE_COLUMNS                                                                   \
	"m.id, m.folder_id, m.uid, m.modseq, m.flags, m.internal_date, m.size, m.subject, "        \
	"m.sender, m.to_list, m.cc_list, m.date, m.message_id, m.in_reply_to, "                    \
	"m.has_attachments, m.bodystructure, m.download, m.pending, m.changed "

/* The server-derived fields: an upsert by UID rewrites these and keeps download and
 * pending, which belong to the body writer and the offline queue. */
#define PR_STORE_MESSAGE_SERVER_FIELDS                                                             \
	"modseq, flags, seen, internal_date, size, subject, sender, to_list, cc_list, date, "      \
	"message_id, in_reply_to, has_attachments, bodystructure"

/* Prepared once, on first use, and kept for the life of the store. */
const gchar *const pr_store_sql[STMT_LAST] = {
	[STMT_BEGIN] = "BEGIN IMMEDIATE",
	[STMT_COMMIT] = "COMMIT",
	[STMT_ROLLBACK] = "ROLLBACK",
	/* SQLite resolves a repeated savepoint name to the innermost one */
	[STMT_SAVEPOINT] = "SAVEPOINT pr",
	[STMT_RELEASE] = "RELEASE pr",
	[STMT_ROLLBACK_TO] = "ROLLBACK TO pr",
	[STMT_META_GET] = "SELECT value FROM meta WHERE key = ?1",
	[STMT_META_SET] = "INSERT OR REPLACE INTO meta (key, value) VALUES (?1, ?2)",
	[STMT_META_DELETE] = "DELETE FROM meta WHERE key = ?1",
	[STMT_FOLDER_CHECK] = "SELECT name FROM folders WHERE id = ?1",
	[STMT_FOLDER_LIST] = "SELECT " PR_STORE_FOLDER_COLUMNS "FROM folders f ORDER BY f.name",
	[STMT_FOLDER_BY_NAME] =
		"SELECT " PR_STORE_FOLDER_COLUMNS "FROM folders f WHERE f.name = ?1",
	[STMT_FOLDER_BY_ID] = "SELECT " PR_STORE_FOLDER_COLUMNS "FROM folders f WHERE f.id = ?1",
	[STMT_FOLDER_INSERT] =
		"INSERT INTO folders (name, raw_name, delimiter, attributes, "
		"special_use, subscribed, remote_subscribed, local, uidvalidity, "
		"uidnext, highestmodseq, last_sync) "
		"VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12) RETURNING id",
	[STMT_FOLDER_UPDATE] =
		"UPDATE folders SET name = ?1, raw_name = ?2, delimiter = ?3, "
		"attributes = ?4, special_use = ?5, subscribed = ?6, "
		"remote_subscribed = ?7, local = ?8, uidvalidity = ?9, uidnext = ?10, "
		"highestmodseq = ?11, last_sync = ?12 WHERE id = ?13",
	[STMT_FOLDER_RENAME] = "UPDATE folders SET name = ?1, raw_name = ?2 WHERE id = ?3",
	[STMT_FOLDER_DELETE] = "DELETE FROM folders WHERE id = ?1",
	[STMT_FOLDER_MESSAGES_DELETE] = "DELETE FROM messages WHERE folder_id = ?1 RETURNING id",
	[STMT_FOLDER_TOMBSTONES_DELETE] = "DELETE FROM tombstones WHERE folder_id = ?1",
	[STMT_MESSAGE_UPSERT] =
		"INSERT INTO messages (folder_id, uid, " PR_STORE_MESSAGE_SERVER_FIELDS
		", download, "
		"pending, changed) "
		"VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, "
		"?17, "
		"?18, ?19) "
		"ON CONFLICT (folder_id, uid) DO UPDATE SET (" PR_STORE_MESSAGE_SERVER_FIELDS
		", changed) = (excluded.modseq, excluded.flags, excluded.seen, "
		"excluded.internal_date, "
		"excluded.size, excluded.subject, excluded.sender, excluded.to_list, "
		"excluded.cc_list, "
		"excluded.date, excluded.message_id, excluded.in_reply_to, "
		"excluded.has_attachments, "
		"excluded.bodystructure, excluded.changed) "
		/* a re-sync that brings nothing new must not bump the counter */
		"WHERE (" PR_STORE_MESSAGE_SERVER_FIELDS
		") IS NOT (excluded.modseq, excluded.flags, "
		"excluded.seen, excluded.internal_date, excluded.size, excluded.subject, "
		"excluded.sender, excluded.to_list, excluded.cc_list, excluded.date, "
		"excluded.message_id, excluded.in_reply_to, excluded.has_attachments, "
		"excluded.bodystructure) "
		"RETURNING id",
	[STMT_MESSAGE_UPDATE] =
		"UPDATE messages SET (folder_id, uid, " PR_STORE_MESSAGE_SERVER_FIELDS
		", download, pending, changed) = (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, "
		"?12, ?13, "
		"?14, ?15, ?16, ?17, ?18, ?19) "
		"WHERE id = ?20 AND (folder_id, uid, " PR_STORE_MESSAGE_SERVER_FIELDS
		", download, pending) IS NOT (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, "
		"?13, ?14, "
		"?15, ?16, ?17, ?18) RETURNING id",
	[STMT_MESSAGE_STATE_BY_ID] = "SELECT id, folder_id, flags, modseq, changed, download FROM "
				     "messages WHERE id = ?1",
	[STMT_MESSAGE_STATE_BY_UID] = "SELECT id, folder_id, flags, modseq, changed, download "
				      "FROM messages WHERE folder_id = ?1 AND uid = ?2",
	[STMT_MESSAGE_SET_FLAGS] =
		"UPDATE messages SET flags = ?1, seen = ?2, "
		"modseq = CASE WHEN ?3 <> 0 THEN ?3 ELSE modseq END, changed = ?4 "
		"WHERE id = ?5",
	[STMT_MESSAGE_SET_MODSEQ] = "UPDATE messages SET modseq = ?1 WHERE id = ?2",
	[STMT_MESSAGE_SET_DOWNLOAD] =
		"UPDATE messages SET download = ?1, changed = ?2 WHERE id = ?3",
	[STMT_MESSAGE_UIDS] =
		"SELECT uid FROM messages WHERE folder_id = ?1 AND uid >= ?2 ORDER BY uid",
	[STMT_MESSAGE_UID_FLAGS] =
		"SELECT uid, flags FROM messages WHERE folder_id = ?1 AND uid IS NOT NULL",
	[STMT_MESSAGE_DELETE_BY_UID] =
		"DELETE FROM messages WHERE folder_id = ?1 AND uid = ?2 RETURNING id",
	[STMT_MESSAGE_DELETE] = "DELETE FROM messages WHERE id = ?1 RETURNING folder_id",
	[STMT_MESSAGE_LIST] =
		"SELECT " PR_STORE_MESSAGE_COLUMNS "FROM messages m "
		/* (?3 = 0 OR ...): without a changed-since the folder's UID index gives the
		 * order, and a page of a big folder costs its own rows, not a sort of all */
		"WHERE m.folder_id = ?1 AND (?2 = 0 OR m.seen = 0) AND (?3 = 0 OR m.changed > ?3) "
		"ORDER BY m.uid, m.id LIMIT ?4 OFFSET ?5",
	[STMT_MESSAGE_GET] = "SELECT " PR_STORE_MESSAGE_COLUMNS ", f.name FROM messages m "
			     "JOIN folders f ON f.id = m.folder_id WHERE m.id = ?1",
	[STMT_MESSAGE_GET_BY_UID] = "SELECT " PR_STORE_MESSAGE_COLUMNS ", f.name FROM messages m "
				    "JOIN folders f ON f.id = m.folder_id "
				    "WHERE m.folder_id = ?1 AND m.uid = ?2",
	/* download <> 2 (PR_STORE_DOWNLOAD_COMPLETE) as a literal: the partial index's own */
	[STMT_MESSAGE_MISSING] = "SELECT id FROM messages WHERE folder_id = ?1 AND download <> 2 "
				 "ORDER BY uid DESC, id DESC",
	[STMT_MESSAGE_CHANGES] = "SELECT id, uid, seen, changed FROM messages "
				 "WHERE folder_id = ?1 AND changed > ?2 ORDER BY changed, id",
	[STMT_TOMBSTONE_INSERT] =
		"INSERT OR REPLACE INTO tombstones (id, folder_id, changed) VALUES (?1, ?2, ?3)",
	[STMT_TOMBSTONE_RETIRE] = "INSERT OR REPLACE INTO tombstones (id, folder_id, changed) "
				  "SELECT id, folder_id, ?1 FROM messages WHERE folder_id = ?2",
	[STMT_TOMBSTONE_SINCE] = "SELECT t.id FROM tombstones t WHERE t.folder_id = ?1 "
				 "AND t.changed > ?2 AND NOT EXISTS (SELECT 1 FROM messages m "
				 "WHERE m.id = t.id AND m.folder_id = t.folder_id) ORDER BY t.id",
};
