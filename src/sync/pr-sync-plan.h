/*
 * Copyright 2026 The Postroom developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <glib.h>

#include "pr-sync.h"

G_BEGIN_DECLS

/*
 * What a mailbox sync does, decided from what the server reported and what the store
 * holds: pure functions of plain values (no I/O), so that every case is table-tested.
 * pr-sync-mailbox.c gathers the inputs and carries the plan out.
 */

/* How the mailbox is opened. */
typedef enum {
	PR_SYNC_OPEN_SELECT,	       /* SELECT */
	PR_SYNC_OPEN_SELECT_CONDSTORE, /* SELECT (CONDSTORE) */
	PR_SYNC_OPEN_SELECT_QRESYNC,   /* SELECT (QRESYNC (uidvalidity highestmodseq)) */
	/* still selected since our last sync: UID FETCH 1:* (FLAGS) (CHANGEDSINCE m VANISHED),
	 * whose answers stand for the SELECT's (the state is the stored one, moved by them) */
	PR_SYNC_OPEN_STILL_SELECTED,
} PrSyncOpen;

typedef struct {
	gboolean qresync;   /* QRESYNC and ENABLE offered */
	gboolean condstore; /* CONDSTORE (or QRESYNC) offered */
	PrSyncOpen open;    /* how the mailbox was opened (pr_sync_plan_open()) */
	/* what the SELECT reported */
	gboolean have_uidvalidity;
	guint32 uidvalidity;
	gboolean have_uidnext;
	guint32 uidnext;
	guint64 highestmodseq; /* 0: none reported */
	gboolean nomodseq;
	guint32 exists;
	gboolean vanished; /* VANISHED (EARLIER) reported expunges */
	/* UIDs of the FETCH reports (with FLAGS) that came with it, in any order */
	const guint32 *reported_uids;
	guint n_reported_uids;
} PrSyncServerState;

typedef struct {
	gboolean synced;     /* a sync of the folder completed before */
	guint32 uidvalidity; /* 0: never learnt */
	guint32 uidnext;
	guint64 highestmodseq;
	guint32 messages;
	/* the connection still has the folder selected read-write from our last sync */
	gboolean selected;
} PrSyncStoreState;

typedef struct {
	PrSyncMethod max_method;
	gboolean inbox;
	gint inbox_sync_limit;	 /* -1 all, 0 none, N newest */
	gint mailbox_sync_limit; /* -1 all, 0 none, N newest */
	gboolean sync_search;	 /* a sync-search narrows what is kept */
	gboolean new_only;	 /* only the headers of new messages */
} PrSyncPlanOptions;

/* What happens to the stored folder state before anything else. */
typedef enum {
	PR_SYNC_FOLDER_KEEP,
	/* the first UIDVALIDITY learnt: saved at once, so that an interrupted first sync
	 * resumes instead of retiring what it fetched */
	PR_SYNC_FOLDER_ADOPT,
	/* UIDVALIDITY changed: every stored message retired, the folder starts afresh and
	 * the QRESYNC answers (about the old UIDs) are dropped */
	PR_SYNC_FOLDER_RETIRE,
	/* no UIDVALIDITY: nothing says UIDs still mean the same, everything is compared */
	PR_SYNC_FOLDER_RESCAN,
} PrSyncFolderAction;

typedef enum {
	PR_SYNC_FLAGS_NONE,	    /* the SELECT's reports (if any) are all */
	PR_SYNC_FLAGS_CHANGEDSINCE, /* UID FETCH 1:* (UID FLAGS) (CHANGEDSINCE changedsince) */
	PR_SYNC_FLAGS_ALL,	    /* UID FETCH 1:* (UID FLAGS), compared with the store */
} PrSyncFlagQuery;

typedef enum {
	PR_SYNC_UIDS_NONE,     /* no new message looked for */
	PR_SYNC_UIDS_EMPTY,    /* the mailbox is empty: the listing is empty, nothing asked */
	PR_SYNC_UIDS_LISTING,  /* UID SEARCH [criteria|ALL]: what the folder should hold */
	PR_SYNC_UIDS_SINCE,    /* UID SEARCH UID since_uid:*: the new UIDs */
	PR_SYNC_UIDS_REPORTED, /* the SELECT's FETCH reports are the new UIDs (new_uids) */
} PrSyncUidQuery;

typedef struct {
	PrSyncMethod method; /* as used: PLAIN when the mailbox has no MODSEQs */
	PrSyncFolderAction folder;
	gboolean first;	       /* no usable earlier state: the whole mailbox is compared */
	gboolean announce_new; /* new messages are new mail (not the first fill) */
	gint limit;	       /* the newest @limit of the listing are kept; -1 all */
	gboolean window;       /* limit or sync-search: the store keeps a subset */
	PrSyncFlagQuery flags;
	guint64 changedsince;
	PrSyncUidQuery uids;
	guint32 since_uid;
	GArray *new_uids; /* PR_SYNC_UIDS_REPORTED: sorted guint32 */
	gboolean modseq;  /* header FETCHes ask MODSEQ */
	/* saved when the sync completes */
	guint32 uidvalidity;
	guint32 uidnext; /* at least; 0 when not reported */
	guint64 highestmodseq;
} PrSyncPlan;

PrSyncMethod pr_sync_plan_method(const PrSyncServerState *server, const PrSyncPlanOptions *options);
PrSyncOpen pr_sync_plan_open(const PrSyncServerState *server,
			     const PrSyncStoreState *store,
			     const PrSyncPlanOptions *options);
PrSyncPlan pr_sync_plan_mailbox(const PrSyncServerState *server,
				const PrSyncStoreState *store,
				const PrSyncPlanOptions *options);
void pr_sync_plan_clear(PrSyncPlan *plan);

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(PrSyncPlan, pr_sync_plan_clear)

G_END_DECLS
