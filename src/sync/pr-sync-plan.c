/*
 * Copyright 2026 The Postroom developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#define G_LOG_DOMAIN "PrSync"

#include "pr-sync-plan.h"
#include "pr-sync-private.h"

PrSyncMethod
pr_sync_plan_method(const PrSyncServerState *server, const PrSyncPlanOptions *options)
{
	if (server->qresync && options->max_method >= PR_SYNC_METHOD_QRESYNC)
		return PR_SYNC_METHOD_QRESYNC;
	if (server->condstore && options->max_method >= PR_SYNC_METHOD_CONDSTORE)
		return PR_SYNC_METHOD_CONDSTORE;
	return PR_SYNC_METHOD_PLAIN;
}

static gint
pr_sync_plan_limit(const PrSyncPlanOptions *options)
{
	gint limit = options->inbox ? options->inbox_sync_limit : options->mailbox_sync_limit;
	return limit < 0 ? -1 : limit;
}

static gboolean
pr_sync_plan_window(const PrSyncPlanOptions *options)
{
	return pr_sync_plan_limit(options) >= 0 || options->sync_search;
}

PrSyncOpen
pr_sync_plan_open(const PrSyncServerState *server,
		  const PrSyncStoreState *store,
		  const PrSyncPlanOptions *options)
{
	PrSyncMethod method = pr_sync_plan_method(server, options);

	/* asking the selected mailbox for changes costs the server less than selecting it
	 * again; with a window the listing is needed anyway */
	if (method == PR_SYNC_METHOD_QRESYNC && !pr_sync_plan_window(options) && store->synced &&
	    store->highestmodseq != 0 && store->uidvalidity != 0 && store->selected)
		return PR_SYNC_OPEN_STILL_SELECTED;
	if (method == PR_SYNC_METHOD_QRESYNC && store->synced && store->uidvalidity != 0 &&
	    store->highestmodseq != 0)
		return PR_SYNC_OPEN_SELECT_QRESYNC;
	if (method >= PR_SYNC_METHOD_CONDSTORE)
		return PR_SYNC_OPEN_SELECT_CONDSTORE;
	return PR_SYNC_OPEN_SELECT;
}

/*
 * After a SELECT with QRESYNC that reported no expunge, the FETCH reports cover every
 * message that arrived since (their MODSEQ is higher than the one we gave). When those
 * above the stored UIDNEXT account for all that EXISTS grew by, they are the new UIDs and
 * no UID SEARCH is needed; otherwise (a server that left some out) it is asked.
 */
static GArray *
pr_sync_plan_reported_uids(const PrSyncServerState *server,
			   const PrSyncStoreState *store,
			   guint n_reported)
{
	g_autoptr(GArray) uids = g_array_new(FALSE, FALSE, sizeof(guint32));

	if (server->vanished || server->exists < store->messages || !server->have_uidnext)
		return NULL;
	for (guint i = 0; i < n_reported; i++) {
		guint32 uid = server->reported_uids[i];
		if (uid >= store->uidnext && uid < server->uidnext)
			g_array_append_val(uids, uid);
	}
	pr_sync_uids_sort_unique(uids);
	if (uids->len != server->exists - store->messages)
		return NULL;
	return g_steal_pointer(&uids);
}

PrSyncPlan
pr_sync_plan_mailbox(const PrSyncServerState *server,
		     const PrSyncStoreState *store,
		     const PrSyncPlanOptions *options)
{
	PrSyncPlan plan = { 0 };
	PrSyncStoreState stored = *store;
	gboolean resync = server->open == PR_SYNC_OPEN_SELECT_QRESYNC ||
			  server->open == PR_SYNC_OPEN_STILL_SELECTED;
	gboolean still_selected = server->open == PR_SYNC_OPEN_STILL_SELECTED;
	gboolean vanished = server->vanished;
	guint n_reported = server->n_reported_uids;
	guint64 highestmodseq = server->highestmodseq;
	gboolean nomodseq = server->nomodseq || server->highestmodseq == 0;
	gboolean uidnext_changed;
	gboolean flags_synced = FALSE;
	gboolean listing = FALSE;
	gboolean candidates = FALSE;

	plan.method = pr_sync_plan_method(server, options);
	plan.limit = pr_sync_plan_limit(options);
	plan.window = pr_sync_plan_window(options);
	/* RFC 3501 makes it mandatory; without it UIDs cannot be trusted across sessions */
	plan.uidvalidity = server->have_uidvalidity ? server->uidvalidity : 0;
	plan.uidnext = server->have_uidnext ? server->uidnext : 0;
	if (plan.method == PR_SYNC_METHOD_PLAIN) {
		/* MODSEQs not used: whatever the server says about them does not matter */
		nomodseq = FALSE;
		highestmodseq = 0;
	}

	if (stored.uidvalidity != plan.uidvalidity &&
	    (stored.uidvalidity != 0 || stored.messages > 0)) {
		/* QRESYNC data refers to the old UIDs: from here on, a folder never synced */
		plan.folder = PR_SYNC_FOLDER_RETIRE;
		resync = FALSE;
		vanished = FALSE;
		n_reported = 0;
		stored = (PrSyncStoreState){ .uidvalidity = plan.uidvalidity };
	} else if (plan.uidvalidity == 0) {
		plan.folder = PR_SYNC_FOLDER_RESCAN;
		resync = FALSE;
		stored.synced = FALSE;
	} else if (stored.uidvalidity == 0) {
		plan.folder = PR_SYNC_FOLDER_ADOPT;
		stored.uidvalidity = plan.uidvalidity;
	}

	plan.first = !stored.synced;
	plan.announce_new = !plan.first;
	if (nomodseq)
		plan.method = PR_SYNC_METHOD_PLAIN;
	uidnext_changed = !server->have_uidnext || server->uidnext != stored.uidnext;

	if (server->exists == 0) {
		/* nothing there: whatever we hold is gone */
		plan.uids = PR_SYNC_UIDS_EMPTY;
		flags_synced = TRUE;
	} else if (plan.first) {
		/* everything is new; what an interrupted first sync stored is compared too */
		listing = TRUE;
		if (stored.messages > 0)
			plan.flags = PR_SYNC_FLAGS_ALL;
		flags_synced = TRUE;
	} else if (options->new_only && !resync) {
		if (plan.window)
			listing = uidnext_changed;
		else
			candidates = uidnext_changed;
	} else if (resync) {
		gboolean changed = vanished || n_reported > 0 || uidnext_changed ||
				   highestmodseq != stored.highestmodseq;
		if (plan.window)
			listing = changed;
		else
			/* a mailbox that stayed selected shows new messages only at the end of
			 * the FETCH that asked for changes (EXISTS): they are searched for */
			candidates = uidnext_changed || still_selected;
		flags_synced = TRUE;
	} else if (plan.method >= PR_SYNC_METHOD_CONDSTORE && stored.highestmodseq > 0) {
		if (highestmodseq != stored.highestmodseq) {
			plan.flags = PR_SYNC_FLAGS_CHANGEDSINCE;
			plan.changedsince = stored.highestmodseq;
		}
		/* no new UID and as many messages as we hold: nothing was expunged */
		listing = plan.window || uidnext_changed || server->exists != stored.messages;
		flags_synced = TRUE;
	} else {
		plan.flags = PR_SYNC_FLAGS_ALL;
		listing = plan.window;
		flags_synced = TRUE;
	}

	/* nothing stored to count from */
	if (candidates && stored.uidnext <= 1) {
		candidates = FALSE;
		listing = TRUE;
	}
	if (candidates && resync && !still_selected) {
		plan.new_uids = pr_sync_plan_reported_uids(server, &stored, n_reported);
		if (plan.new_uids != NULL) {
			candidates = FALSE;
			plan.uids = PR_SYNC_UIDS_REPORTED;
		}
	}
	if (listing) {
		plan.uids = PR_SYNC_UIDS_LISTING;
	} else if (candidates) {
		plan.uids = PR_SYNC_UIDS_SINCE;
		plan.since_uid = stored.uidnext;
	}
	plan.modseq = plan.method >= PR_SYNC_METHOD_CONDSTORE;
	if (nomodseq)
		plan.highestmodseq = 0;
	else if (flags_synced)
		plan.highestmodseq = highestmodseq;
	else
		plan.highestmodseq = stored.highestmodseq;
	return plan;
}

void
pr_sync_plan_clear(PrSyncPlan *plan)
{
	g_clear_pointer(&plan->new_uids, g_array_unref);
}
