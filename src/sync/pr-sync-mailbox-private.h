/*
 * Copyright 2026 The Postroom developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include "pr-sync-plan.h"
#include "pr-sync-private.h"

G_BEGIN_DECLS

/* Shared by the two halves of one mailbox's sync: pr-sync-mailbox.c (SELECT, the plan, the
 * queries) and pr-sync-mailbox-apply.c (applying, \Seen, headers, the folder's state). */

typedef struct {
	PrProgress *progress;	      /* the folder's: opening and comparing, then headers */
	PrProgress *headers_progress; /* the headers step's, a leaf in messages */
	gchar *name;
	PrStoreFolder *folder; /* as stored when the sync began (after any retirement) */
	PrSyncPlanOptions options;
	PrSyncOpen open;
	gboolean still_selected; /* the mailbox stayed selected: no SELECT (see
				    pr_sync_mailbox_async()) */
	guint select_expect;
	gboolean qresync; /* capabilities */
	gboolean condstore;
	PrSyncPlan plan; /* once the SELECT answered */

	/* SELECT */
	gboolean have_uidvalidity;
	guint32 uidvalidity;
	gboolean have_uidnext;
	guint32 uidnext;
	guint64 highestmodseq;
	gboolean nomodseq;
	guint32 exists;
	PrImapSeqset *vanished;
	GPtrArray *updates; /* PrImapFetch with UID and FLAGS */

	gboolean incomplete; /* a batch failed: keep the old state */

	/* queries */
	guint pending;
	gboolean failed;
	GError *handler_error; /* met by an untagged handler; the command's callback fails */
	GArray *found;	       /* what the pending UID SEARCH found, or NULL */
	gboolean found_is_listing;
	GArray *listing;	  /* sorted UIDs the folder should hold, or NULL */
	GArray *candidates;	  /* sorted UIDs >= the stored UIDNEXT, or NULL */
	GHashTable *server_flags; /* plain diff: uid -> flags key */
	guint32 since_uid;

	/* apply */
	guint64 seen_mark;
	gboolean modified;
	GArray *seen_add;
	GArray *seen_remove;

	/* headers */
	GPtrArray *batch_messages; /* PrStoreMessage: arrived, not yet saved */
	GPtrArray *batch_flags;	   /* PrImapFetch with UID and FLAGS: changes seen meanwhile */
	GArray *fetch_uids;	   /* descending */
	guint fetch_next;
	guint inflight;
	guint32 max_uid;
} MailboxData;

void pr_sync_mailbox_fail(GTask *task, GError *error);
/* The queries are answered: phases 3 to 5. */
void pr_sync_mailbox_apply_and_fetch(GTask *task);

G_END_DECLS
