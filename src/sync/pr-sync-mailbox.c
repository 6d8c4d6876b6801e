/*
 * Copyright 2026 The Postroom developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#define G_LOG_DOMAIN "PrSync"

#include <string.h>

#include "pr-error.h"
#include "pr-sync-mailbox-private.h"

/*
 * One mailbox, in four phases:
 *
 * 1. SELECT: with QRESYNC (UIDVALIDITY HIGHESTMODSEQ) when the server has it and we know
 *    both; the answer carries VANISHED (EARLIER) and FETCH for everything changed, so a
 *    mailbox where nothing changed costs this one round trip. Else SELECT (CONDSTORE), or
 *    plain SELECT.
 * 2. Queries, pipelined, only those needed: UID FETCH 1:* (FLAGS) (CHANGEDSINCE m) for
 *    CONDSTORE; UID FETCH 1:* (FLAGS) for a plain diff; UID SEARCH [RETURN (ALL)] for the
 *    mailbox's UIDs (the "listing", filtered by sync-search and cut to the sync limit), or
 *    UID SEARCH UID n:* for new messages only. Their answers are told apart by keyword
 *    (see pr_sync_mailbox_untagged_cb()).
 * 3. Apply, in one store transaction: removals, flag changes, \Seen reconciliation.
 * 4. Headers of new messages, newest first, fetch_batch UIDs per UID FETCH, two in flight,
 *    each batch one transaction.
 *
 * Every command's untagged answers are handled as they arrive, by a handler that consumes
 * them (pr_sync_run_command_with_handler()): SELECT's into the sync state, the queries'
 * into UID sets and flags, the header batches' into the messages to save. None is held
 * until its tagged response, so memory follows the batch size, not the mailbox.
 *
 * UIDVALIDITY, UIDNEXT and HIGHESTMODSEQ are saved only when all of it succeeded, so an
 * interrupted sync starts again from the previous state; messages already fetched are
 * found in the store and not fetched again. The values saved are those the SELECT
 * reported: anything that changed during the sync shows up in the next one.
 *
 * A UIDVALIDITY change retires the folder's messages at once and saves the new
 * UIDVALIDITY with an empty state (never synchronised), so an interruption after it does
 * not retire what was fetched since.
 *
 * What to do at each step is decided in pr-sync-plan.c from what the server and the store
 * say; phases 3 to 5 are in pr-sync-mailbox-apply.c.
 */

static void
mailbox_data_free(MailboxData *data)
{
	g_clear_object(&data->progress);
	g_free(data->name);
	g_clear_pointer(&data->folder, pr_store_folder_free);
	g_clear_pointer(&data->vanished, pr_imap_seqset_free);
	g_clear_pointer(&data->updates, g_ptr_array_unref);
	g_clear_pointer(&data->listing, g_array_unref);
	g_clear_pointer(&data->candidates, g_array_unref);
	g_clear_pointer(&data->server_flags, g_hash_table_unref);
	g_clear_pointer(&data->seen_add, g_array_unref);
	g_clear_pointer(&data->seen_remove, g_array_unref);
	g_clear_pointer(&data->fetch_uids, g_array_unref);
	g_clear_pointer(&data->batch_messages, g_ptr_array_unref);
	g_clear_pointer(&data->batch_flags, g_ptr_array_unref);
	g_clear_pointer(&data->found, g_array_unref);
	g_clear_error(&data->handler_error);
	pr_sync_plan_clear(&data->plan);
	g_free(data);
}

void
pr_sync_mailbox_fail(GTask *task, GError *error)
{
	MailboxData *data = g_task_get_task_data(task);

	if (data->failed) {
		g_error_free(error);
		return;
	}
	data->failed = TRUE;
	g_task_return_error(task, error);
}

static gboolean
pr_sync_mailbox_collect_fetch(MailboxData *data, GPtrArray *untagged, gboolean all, GError **error)
{
	for (guint i = 0; i < untagged->len; i++) {
		PrImapResponse *response = g_ptr_array_index(untagged, i);
		g_autoptr(PrImapFetch) fetch = NULL;

		if (g_strcmp0(pr_imap_response_get_keyword(response), "FETCH") != 0)
			continue;
		fetch = pr_imap_response_parse_fetch(response, error);
		if (fetch == NULL)
			return FALSE;
		if ((fetch->fields & (PR_IMAP_FETCH_HAS_UID | PR_IMAP_FETCH_HAS_FLAGS)) !=
		    (PR_IMAP_FETCH_HAS_UID | PR_IMAP_FETCH_HAS_FLAGS))
			continue;
		if (all) {
			g_hash_table_replace(data->server_flags,
					     GUINT_TO_POINTER(fetch->uid),
					     pr_sync_flags_key((const gchar *const *)fetch->flags));
		} else {
			g_ptr_array_add(data->updates, g_steal_pointer(&fetch));
		}
	}
	return TRUE;
}

/*
 * Pipelined queries may be answered in parallel (Dovecot runs FETCH and SEARCH side by
 * side), so their untagged responses are told apart by keyword, not by which command was
 * the oldest in flight when they arrived: every query has this handler. At most one UID
 * SEARCH is pending at a time, and a FETCH with UID and FLAGS is the message's current
 * flags whichever command caused it.
 */
static gboolean
pr_sync_mailbox_query_untagged_cb(PrImapResponse *response, gpointer user_data)
{
	GTask *task = user_data;
	MailboxData *data = g_task_get_task_data(task);
	const gchar *keyword = pr_imap_response_get_keyword(response);
	g_autoptr(GPtrArray) one = NULL;
	GError *error = NULL;
	gboolean ok = TRUE;

	if (g_strcmp0(keyword, "FETCH") != 0 && g_strcmp0(keyword, "SEARCH") != 0 &&
	    g_strcmp0(keyword, "ESEARCH") != 0)
		return FALSE;
	if (data->failed || data->handler_error != NULL)
		return TRUE;
	one = g_ptr_array_new();
	g_ptr_array_add(one, response);
	if (g_strcmp0(keyword, "FETCH") == 0)
		ok = pr_sync_mailbox_collect_fetch(data, one, data->server_flags != NULL, &error);
	else if (data->found != NULL)
		ok = pr_sync_collect_search(one, data->found, &error);
	if (!ok)
		data->handler_error = error;
	return TRUE;
}

static void
pr_sync_mailbox_query_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	g_autoptr(GTask) task = G_TASK(user_data);
	MailboxData *data = g_task_get_task_data(task);
	g_autoptr(PrImapResponse) response = NULL;
	g_autoptr(GError) error = NULL;

	response = pr_imap_client_run_finish(PR_IMAP_CLIENT(source), res, NULL, &error);
	data->pending--;
	if (data->failed)
		return;
	if (response == NULL) {
		pr_sync_mailbox_fail(task, g_steal_pointer(&error));
		return;
	}
	if (data->pending > 0)
		return;
	/* every untagged answer came before the last tagged one */
	if (data->handler_error != NULL) {
		pr_sync_mailbox_fail(task, g_steal_pointer(&data->handler_error));
		return;
	}
	if (data->found != NULL && data->found_is_listing) {
		data->listing = g_steal_pointer(&data->found);
	} else if (data->found != NULL) {
		/* "UID n:*" always matches the highest UID, even when it is below n */
		data->candidates = g_array_new(FALSE, FALSE, sizeof(guint32));
		for (guint i = 0; i < data->found->len; i++) {
			guint32 uid = g_array_index(data->found, guint32, i);
			if (uid >= data->since_uid)
				g_array_append_val(data->candidates, uid);
		}
	}
	pr_sync_mailbox_apply_and_fetch(task);
}

static void
pr_sync_mailbox_query(GTask *task, PrImapCommand *command)
{
	PrSync *self = g_task_get_source_object(task);
	MailboxData *data = g_task_get_task_data(task);

	/* one handler for all of them (see pr_sync_mailbox_query_untagged_cb()) */
	data->pending++;
	pr_sync_run_command_with_handler(self,
					 command,
					 pr_sync_mailbox_query_untagged_cb,
					 task,
					 g_task_get_cancellable(task),
					 pr_sync_mailbox_query_cb,
					 g_object_ref(task));
}

/* UID SEARCH [RETURN (ALL)] [UID n:*] <criteria or ALL> */
static PrImapCommand *
pr_sync_search_command(PrSync *self, guint32 since_uid, gboolean criteria)
{
	PrImapCommand *command = pr_sync_command_new(self, "UID SEARCH");

	if (pr_imap_client_has_capability(self->client, "ESEARCH"))
		pr_imap_command_add_atom(command, "RETURN (ALL)");
	if (since_uid > 0)
		pr_imap_command_add_printf(command, "UID %u:*", since_uid);
	if (criteria && self->sync_search != NULL)
		pr_imap_command_add_printf(command, "(%s)", self->sync_search);
	else if (since_uid == 0)
		pr_imap_command_add_atom(command, "ALL");
	return command;
}

/* The plan's queries; their answers go on in pr_sync_mailbox_query_cb(). */
static void
pr_sync_mailbox_ask(GTask *task)
{
	PrSync *self = g_task_get_source_object(task);
	MailboxData *data = g_task_get_task_data(task);
	PrSyncPlan *plan = &data->plan;

	g_debug("%s: %s%s, UIDVALIDITY %u UIDNEXT %u (had %u) HIGHESTMODSEQ %" G_GUINT64_FORMAT
		" (had %" G_GUINT64_FORMAT "), %u messages (had %u), %u changes reported: "
		"%s%s%s%s%s",
		data->name,
		plan->method == PR_SYNC_METHOD_QRESYNC	   ? "QRESYNC"
		: plan->method == PR_SYNC_METHOD_CONDSTORE ? "CONDSTORE"
							   : "plain",
		data->open == PR_SYNC_OPEN_SELECT_QRESYNC ||
				data->open == PR_SYNC_OPEN_STILL_SELECTED
			? " (resync)"
			: "",
		plan->uidvalidity,
		data->uidnext,
		data->folder->uidnext,
		data->highestmodseq,
		data->folder->highestmodseq,
		data->exists,
		data->folder->messages,
		data->updates->len,
		plan->flags == PR_SYNC_FLAGS_CHANGEDSINCE ? "CHANGEDSINCE " : "",
		plan->flags == PR_SYNC_FLAGS_ALL ? "all-flags " : "",
		plan->uids == PR_SYNC_UIDS_LISTING ? "listing " : "",
		plan->uids == PR_SYNC_UIDS_SINCE ? "new-uids " : "",
		plan->uids == PR_SYNC_UIDS_REPORTED ? "reported-uids" : "");

	if (plan->uids == PR_SYNC_UIDS_EMPTY)
		data->listing = g_array_new(FALSE, FALSE, sizeof(guint32));
	else if (plan->uids == PR_SYNC_UIDS_REPORTED)
		data->candidates = g_array_copy(plan->new_uids);
	if (plan->flags == PR_SYNC_FLAGS_ALL)
		data->server_flags =
			g_hash_table_new_full(g_direct_hash, g_direct_equal, NULL, g_free);

	data->pending = 0;
	if (plan->flags == PR_SYNC_FLAGS_CHANGEDSINCE) {
		g_autoptr(PrImapCommand) command = pr_sync_command_new(self, "UID FETCH");
		pr_imap_command_add_atom(command, "1:* (UID FLAGS)");
		pr_imap_command_add_printf(
			command, "(CHANGEDSINCE %" G_GUINT64_FORMAT ")", plan->changedsince);
		pr_sync_mailbox_query(task, command);
	} else if (plan->flags == PR_SYNC_FLAGS_ALL) {
		g_autoptr(PrImapCommand) command = pr_sync_command_new(self, "UID FETCH");
		pr_imap_command_add_atom(command, "1:* (UID FLAGS)");
		pr_sync_mailbox_query(task, command);
	}
	if (plan->uids == PR_SYNC_UIDS_LISTING) {
		g_autoptr(PrImapCommand) command = pr_sync_search_command(self, 0, TRUE);
		data->found = g_array_new(FALSE, FALSE, sizeof(guint32));
		data->found_is_listing = TRUE;
		pr_sync_mailbox_query(task, command);
	} else if (plan->uids == PR_SYNC_UIDS_SINCE) {
		g_autoptr(PrImapCommand) command =
			pr_sync_search_command(self, plan->since_uid, FALSE);
		data->since_uid = plan->since_uid;
		data->found = g_array_new(FALSE, FALSE, sizeof(guint32));
		pr_sync_mailbox_query(task, command);
	}
	if (data->pending == 0)
		pr_sync_mailbox_apply_and_fetch(task);
}

/* Phase 1: SELECT ----------------------------------------------------------------------- */

static gboolean
pr_sync_mailbox_retire(GTask *task, GError **error)
{
	PrSync *self = g_task_get_source_object(task);
	MailboxData *data = g_task_get_task_data(task);
	g_autoptr(GArray) removed = g_array_new(FALSE, FALSE, sizeof(guint64));
	g_autoptr(PrStoreFolder) folder = NULL;

	g_debug("%s: UIDVALIDITY %u -> %u: retiring its messages",
		data->name,
		data->folder->uidvalidity,
		data->plan.uidvalidity);
	if (!pr_store_begin(self->store, error))
		return FALSE;
	folder = pr_store_get_folder_by_id(self->store, data->folder->id, error);
	if (folder == NULL ||
	    !pr_store_retire_folder_messages(self->store, data->folder->id, removed, error)) {
		pr_store_rollback(self->store);
		return FALSE;
	}
	folder->uidvalidity = data->plan.uidvalidity;
	folder->uidnext = 0;
	folder->highestmodseq = 0;
	folder->last_sync = 0;
	if (!pr_store_save_folder(self->store, folder, error)) {
		pr_store_rollback(self->store);
		return FALSE;
	}
	if (!pr_store_commit(self->store, error))
		return FALSE;
	pr_sync_seen_forget(self, folder->id);
	pr_sync_emit_messages_changed(self, data->name, NULL, NULL, removed);
	/* from here on, as a folder never synchronised */
	pr_store_folder_free(data->folder);
	data->folder = pr_store_get_folder_by_id(self->store, folder->id, error);
	if (data->folder == NULL)
		return FALSE;
	data->seen_mark = 0;
	return TRUE;
}

static gboolean
pr_sync_mailbox_save_uidvalidity(GTask *task, GError **error)
{
	PrSync *self = g_task_get_source_object(task);
	MailboxData *data = g_task_get_task_data(task);
	g_autoptr(PrStoreFolder) folder = NULL;

	folder = pr_store_get_folder_by_id(self->store, data->folder->id, error);
	if (folder == NULL)
		return FALSE;
	folder->uidvalidity = data->plan.uidvalidity;
	if (!pr_store_save_folder(self->store, folder, error))
		return FALSE;
	data->folder->uidvalidity = data->plan.uidvalidity;
	return TRUE;
}

/* One untagged response of the SELECT into the sync state. */
static gboolean
pr_sync_mailbox_select_response(MailboxData *data, PrImapResponse *response, GError **error)
{
	const gchar *keyword = pr_imap_response_get_keyword(response);
	const gchar *code = pr_imap_response_get_code(response);
	guint64 value = 0;
	guint32 number = 0;

	if (g_strcmp0(code, "CLOSED") == 0) {
		/* RFC 7162: what came before belongs to the mailbox selected before */
		data->exists = 0;
		data->nomodseq = FALSE;
		data->have_uidnext = FALSE;
		data->highestmodseq = 0;
		data->have_uidvalidity = FALSE;
		g_clear_pointer(&data->vanished, pr_imap_seqset_free);
		g_ptr_array_set_size(data->updates, 0);
		return TRUE;
	}
	if (code != NULL) {
		if (g_strcmp0(code, "NOMODSEQ") == 0) {
			data->nomodseq = TRUE;
		} else if (pr_imap_response_get_code_number(response, "UIDVALIDITY", &value)) {
			data->uidvalidity = (guint32)value;
			data->have_uidvalidity = TRUE;
		} else if (pr_imap_response_get_code_number(response, "UIDNEXT", &value)) {
			data->uidnext = (guint32)value;
			data->have_uidnext = TRUE;
		} else if (pr_imap_response_get_code_number(response, "HIGHESTMODSEQ", &value)) {
			data->highestmodseq = value;
		}
		return TRUE;
	}
	if (g_strcmp0(keyword, "EXISTS") == 0 && pr_imap_response_get_number(response, &number)) {
		data->exists = number;
	} else if (g_strcmp0(keyword, "VANISHED") == 0) {
		gboolean earlier = FALSE;
		g_autofree gchar *set = pr_imap_response_parse_vanished(response, &earlier, error);
		g_autoptr(PrImapSeqset) parsed = NULL;
		if (set == NULL)
			return FALSE;
		/* the answer to our QRESYNC is VANISHED (EARLIER); a plain one is news about the
		 * mailbox selected before, unless it is still this one */
		if (!earlier && !data->still_selected)
			return TRUE;
		parsed = pr_imap_seqset_parse(set, 0, 4000000, error);
		if (parsed == NULL)
			return FALSE;
		if (data->vanished == NULL) {
			data->vanished = g_steal_pointer(&parsed);
		} else {
			for (guint r = 0; r < pr_imap_seqset_get_n_ranges(parsed); r++) {
				const PrImapRange *range = pr_imap_seqset_get_range(parsed, r);
				pr_imap_seqset_add_range(data->vanished, range->first, range->last);
			}
		}
	} else if (g_strcmp0(keyword, "FETCH") == 0) {
		g_autoptr(PrImapFetch) fetch = pr_imap_response_parse_fetch(response, error);
		if (fetch == NULL)
			return FALSE;
		if (data->still_selected && (fetch->fields & PR_IMAP_FETCH_HAS_UID)) {
			/* no SELECT told the state: what changed since is its own measure */
			if (fetch->uid >= data->uidnext)
				data->uidnext = fetch->uid + 1;
			if ((fetch->fields & PR_IMAP_FETCH_HAS_MODSEQ) &&
			    fetch->modseq > data->highestmodseq)
				data->highestmodseq = fetch->modseq;
		}
		if ((fetch->fields & PR_IMAP_FETCH_HAS_UID) &&
		    (fetch->fields & PR_IMAP_FETCH_HAS_FLAGS))
			g_ptr_array_add(data->updates, g_steal_pointer(&fetch));
	}
	return TRUE;
}

/* The SELECT's untagged answers, consumed as they arrive (a QRESYNC answer may carry a
 * FETCH for every message changed since the last sync). */
static gboolean
pr_sync_mailbox_select_untagged_cb(PrImapResponse *response, gpointer user_data)
{
	GTask *task = user_data;
	MailboxData *data = g_task_get_task_data(task);
	GError *error = NULL;

	if (data->handler_error != NULL)
		return TRUE;
	if (!pr_sync_mailbox_select_response(data, response, &error))
		data->handler_error = error;
	return TRUE;
}

static PrSyncStoreState
pr_sync_mailbox_store_state(const PrStoreFolder *folder, gboolean selected)
{
	PrSyncStoreState store = {
		.synced = folder->last_sync != 0,
		.uidvalidity = folder->uidvalidity,
		.uidnext = folder->uidnext,
		.highestmodseq = folder->highestmodseq,
		.messages = folder->messages,
		.selected = selected,
	};
	return store;
}

/* The SELECT completed: the plan, and what it asks of the folder first. */
static void
pr_sync_mailbox_selected(GTask *task)
{
	MailboxData *data = g_task_get_task_data(task);
	g_autoptr(GArray) reported = g_array_new(FALSE, FALSE, sizeof(guint32));
	PrSyncStoreState store = pr_sync_mailbox_store_state(data->folder, FALSE);
	PrSyncServerState server = { 0 };
	GError *error = NULL;

	if (data->handler_error != NULL) {
		pr_sync_mailbox_fail(task, g_steal_pointer(&data->handler_error));
		return;
	}
	if (!data->have_uidvalidity)
		g_debug("%s: no UIDVALIDITY in the SELECT answer", data->name);
	for (guint i = 0; i < data->updates->len; i++) {
		PrImapFetch *fetch = g_ptr_array_index(data->updates, i);
		g_array_append_val(reported, fetch->uid);
	}
	server.qresync = data->qresync;
	server.condstore = data->condstore;
	server.open = data->open;
	server.have_uidvalidity = data->have_uidvalidity;
	server.uidvalidity = data->uidvalidity;
	server.have_uidnext = data->have_uidnext;
	server.uidnext = data->uidnext;
	server.highestmodseq = data->highestmodseq;
	server.nomodseq = data->nomodseq;
	server.exists = data->exists;
	server.vanished = data->vanished != NULL;
	server.reported_uids = (const guint32 *)reported->data;
	server.n_reported_uids = reported->len;
	data->plan = pr_sync_plan_mailbox(&server, &store, &data->options);

	switch (data->plan.folder) {
	case PR_SYNC_FOLDER_RETIRE:
		/* QRESYNC data refers to the old UIDs: drop it */
		g_clear_pointer(&data->vanished, pr_imap_seqset_free);
		g_ptr_array_set_size(data->updates, 0);
		if (!pr_sync_mailbox_retire(task, &error)) {
			pr_sync_mailbox_fail(task, error);
			return;
		}
		break;
	case PR_SYNC_FOLDER_RESCAN:
		data->folder->last_sync = 0;
		break;
	case PR_SYNC_FOLDER_ADOPT:
		if (!pr_sync_mailbox_save_uidvalidity(task, &error)) {
			pr_sync_mailbox_fail(task, error);
			return;
		}
		break;
	case PR_SYNC_FOLDER_KEEP:
	default:
		break;
	}
	pr_sync_mailbox_ask(task);
}

typedef struct {
	GTask *task;
	GError *select_error;
} ExistsOp;

/* After a refused SELECT: is the mailbox still there? */
static void
pr_sync_mailbox_exists_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	ExistsOp *op = user_data;
	g_autoptr(GTask) task = op->task;
	g_autoptr(GError) select_error = op->select_error;
	PrSync *self = g_task_get_source_object(task);
	MailboxData *data = g_task_get_task_data(task);
	g_autoptr(PrImapResponse) response = NULL;
	g_autoptr(GPtrArray) untagged = NULL;
	g_autoptr(GError) error = NULL;
	gboolean exists = FALSE;

	g_free(op);
	response = pr_imap_client_run_finish(PR_IMAP_CLIENT(source), res, &untagged, &error);
	if (response == NULL) {
		pr_sync_mailbox_fail(task, g_steal_pointer(&error));
		return;
	}
	for (guint i = 0; i < untagged->len; i++) {
		PrImapResponse *r = g_ptr_array_index(untagged, i);
		g_autoptr(PrImapListEntry) entry = NULL;
		if (g_strcmp0(pr_imap_response_get_keyword(r), "LIST") != 0)
			continue;
		entry = pr_imap_response_parse_list(
			r, pr_imap_client_get_utf8_enabled(self->client), NULL);
		if (entry != NULL && g_strcmp0(entry->name, data->folder->name) == 0 &&
		    !pr_sync_flag_in((const gchar *const *)entry->attributes, "\\NonExistent") &&
		    !pr_sync_flag_in((const gchar *const *)entry->attributes, "\\Noselect"))
			exists = TRUE;
	}
	if (exists || g_strcmp0(data->folder->name, "INBOX") == 0) {
		pr_sync_mailbox_fail(task, g_steal_pointer(&select_error));
		return;
	}
	/* deleted on the server since the tree was read: not a failure of the sync */
	g_debug("%s: gone from the server; removing it", data->name);
	if (!pr_store_delete_folder(self->store, data->folder->id, &error)) {
		pr_sync_mailbox_fail(task, g_steal_pointer(&error));
		return;
	}
	pr_sync_seen_forget(self, data->folder->id);
	pr_sync_emit_folders_changed(self);
	g_task_return_boolean(task, TRUE);
}

static void
pr_sync_mailbox_select_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	g_autoptr(GTask) task = G_TASK(user_data);
	PrSync *self = g_task_get_source_object(task);
	MailboxData *data = g_task_get_task_data(task);
	g_autoptr(PrImapResponse) response = NULL;
	g_autoptr(GError) error = NULL;

	response = pr_imap_client_run_finish(PR_IMAP_CLIENT(source), res, NULL, &error);
	if (response == NULL) {
		g_autoptr(PrImapCommand) command = NULL;
		ExistsOp *op;
		GError *error_local = NULL;

		if (!g_error_matches(error, PR_ERROR, PR_ERROR_SERVER_ERROR)) {
			pr_sync_mailbox_fail(task, g_steal_pointer(&error));
			return;
		}
		command = pr_sync_command_new(self, "LIST");
		pr_imap_command_add_string(command, "", 0);
		if (!pr_sync_command_add_folder(self, command, data->folder, &error_local)) {
			pr_sync_mailbox_fail(task, error_local);
			return;
		}
		op = g_new0(ExistsOp, 1);
		op->task = g_object_ref(task);
		op->select_error = g_steal_pointer(&error);
		pr_sync_run_command(
			self, command, g_task_get_cancellable(task), pr_sync_mailbox_exists_cb, op);
		return;
	}
	if (!data->still_selected && data->have_uidvalidity && data->uidvalidity != 0)
		pr_sync_select_done(self,
				    data->folder,
				    data->select_expect,
				    data->uidvalidity,
				    g_strcmp0(pr_imap_response_get_code(response), "READ-ONLY") ==
					    0);
	pr_sync_mailbox_selected(task);
}

/* The SELECT, or what stands for it (see pr_sync_mailbox_async()). */
static void
pr_sync_mailbox_run_select(PrSync *self, GTask *task, PrImapCommand *command)
{
	/* the handler borrows the task: the callback holds it until the tagged response */
	pr_sync_run_command_with_handler(self,
					 command,
					 pr_sync_mailbox_select_untagged_cb,
					 task,
					 g_task_get_cancellable(task),
					 pr_sync_mailbox_select_cb,
					 g_object_ref(task));
}

void
pr_sync_mailbox_async(PrSync *self,
		      const gchar *name,
		      gboolean new_only,
		      PrProgress *progress,
		      GCancellable *cancellable,
		      GAsyncReadyCallback callback,
		      gpointer user_data)
{
	g_autoptr(GTask) task = g_task_new(self, cancellable, callback, user_data);
	g_autoptr(PrImapCommand) command = NULL;
	MailboxData *data = g_new0(MailboxData, 1);
	PrSyncServerState server = { 0 };
	PrSyncStoreState store;
	GError *error = NULL;

	g_task_set_source_tag(task, pr_sync_mailbox_async);
	g_task_set_check_cancellable(task, FALSE);
	g_task_set_task_data(task, data, (GDestroyNotify)mailbox_data_free);
	data->progress = progress != NULL ? g_object_ref(progress) : NULL;
	data->name = g_strdup(name);
	data->updates = g_ptr_array_new_with_free_func((GDestroyNotify)pr_imap_fetch_free);
	data->max_uid = G_MAXUINT32;
	data->options.max_method = self->max_method;
	data->options.inbox = g_strcmp0(name, "INBOX") == 0;
	data->options.inbox_sync_limit = self->inbox_sync_limit;
	data->options.mailbox_sync_limit = self->mailbox_sync_limit;
	data->options.sync_search = self->sync_search != NULL;
	data->options.new_only = new_only;
	/* opening and comparing, then the headers of what is new: most of a first sync */
	pr_sync_progress_add_step(progress, 1);
	pr_sync_progress_add_step(progress, 4);
	pr_sync_progress_folder(progress, name);

	data->folder = pr_store_get_folder(self->store, name, &error);
	if (data->folder == NULL) {
		data->failed = TRUE;
		g_task_return_error(task, error);
		return;
	}
	if (self->update_seen_flags)
		data->seen_mark = pr_sync_seen_get_mark(self, data->folder->id);

	data->qresync = pr_imap_client_has_capability(self->client, "QRESYNC") &&
			pr_imap_client_has_capability(self->client, "ENABLE");
	data->condstore = pr_imap_client_has_capability(self->client, "CONDSTORE") ||
			  pr_imap_client_has_capability(self->client, "QRESYNC");
	server.qresync = data->qresync;
	server.condstore = data->condstore;
	store = pr_sync_mailbox_store_state(data->folder,
					    pr_sync_is_selected(self, data->folder, TRUE));
	data->open = pr_sync_plan_open(&server, &store, &data->options);

	if (data->open == PR_SYNC_OPEN_STILL_SELECTED) {
		/*
		 * The mailbox is still selected from our last sync: selecting it again costs a
		 * server like Dovecot tens of milliseconds in a large mailbox, while this asks
		 * the same of the selected one (RFC 7162 3.2.6): FETCH for every message changed
		 * since, new ones included, and VANISHED (EARLIER) for those expunged since. The
		 * state the SELECT would report is the one we hold, moved by what comes back;
		 * a HIGHESTMODSEQ raised by expunges alone stays behind, so those are reported
		 * again next time, which costs nothing.
		 */
		data->still_selected = TRUE;
		data->have_uidvalidity = TRUE;
		data->uidvalidity = data->folder->uidvalidity;
		data->have_uidnext = TRUE;
		data->uidnext = MAX(data->folder->uidnext, 1);
		data->highestmodseq = data->folder->highestmodseq;
		/* not a count the server gave: only "not known to be empty" matters here */
		data->exists = MAX(data->folder->messages, 1);
		command = pr_sync_command_new(self, "UID FETCH");
		pr_imap_command_add_atom(command, "1:*");
		pr_imap_command_add_printf(command,
					   "(UID FLAGS) (CHANGEDSINCE %" G_GUINT64_FORMAT
					   " VANISHED)",
					   data->folder->highestmodseq);
		pr_sync_mailbox_run_select(self, task, command);
		return;
	}
	/* read-write: \Seen may be written back */
	data->select_expect = pr_sync_select_expect(self);
	command = pr_sync_command_new(self, "SELECT");
	if (!pr_sync_command_add_folder(self, command, data->folder, &error)) {
		data->failed = TRUE;
		g_task_return_error(task, error);
		return;
	}
	if (data->open == PR_SYNC_OPEN_SELECT_QRESYNC) {
		pr_imap_command_add_printf(command,
					   "(QRESYNC (%u %" G_GUINT64_FORMAT "))",
					   data->folder->uidvalidity,
					   data->folder->highestmodseq);
	} else if (data->open == PR_SYNC_OPEN_SELECT_CONDSTORE) {
		pr_imap_command_add_atom(command, "(CONDSTORE)");
	}
	pr_sync_mailbox_run_select(self, task, command);
}

gboolean
pr_sync_mailbox_finish(PrSync *self, GAsyncResult *res, GError **error)
{
	g_return_val_if_fail(g_task_is_valid(res, self), FALSE);
	return g_task_propagate_boolean(G_TASK(res), error);
}
