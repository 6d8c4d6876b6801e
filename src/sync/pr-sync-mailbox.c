/*
 * Copyright 2026 The Postroom developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#define G_LOG_DOMAIN "PrSync"

#include <string.h>

#include "pr-error.h"
#include "pr-sync-private.h"

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
 */

#define PR_SYNC_PIPELINE_DEPTH 2
/* vanished UIDs are expanded when the set is at most this large, else intersected with
 * the store's UIDs */
#define PR_SYNC_MAX_EXPAND 200000

typedef struct {
	PrProgress *progress;
	gchar *name;
	PrStoreFolder *folder; /* as stored when the sync began (after any retirement) */
	gboolean new_only;
	gint limit;
	gboolean window; /* limit or sync-search: the store keeps a subset */
	PrSyncMethod method;
	gboolean sent_qresync;
	gboolean still_selected; /* the mailbox stayed selected: no SELECT (see below) */
	guint select_expect;

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

	gboolean first;	       /* no usable earlier state */
	gboolean had_synced;   /* announce new mail */
	gboolean flags_synced; /* every flag is current as of SELECT: HIGHESTMODSEQ may be saved */
	gboolean incomplete;   /* a batch failed: keep the old state */

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
	g_free(data);
}

static void
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

static gint
pr_sync_uid_desc_cb(gconstpointer a, gconstpointer b)
{
	guint32 x = *(const guint32 *)a;
	guint32 y = *(const guint32 *)b;
	return x > y ? -1 : (x < y ? 1 : 0);
}

/* Phase 5: the folder's state ---------------------------------------------------------- */

static void
pr_sync_mailbox_done(GTask *task)
{
	PrSync *self = g_task_get_source_object(task);
	MailboxData *data = g_task_get_task_data(task);
	g_autoptr(PrStoreFolder) folder = NULL;
	GError *error = NULL;
	guint32 uidnext = data->have_uidnext ? data->uidnext : 0;
	guint64 highestmodseq = data->folder->highestmodseq;

	if (data->max_uid != G_MAXUINT32 && data->max_uid + 1 > uidnext)
		uidnext = data->max_uid + 1;
	if (data->nomodseq)
		highestmodseq = 0;
	else if (data->flags_synced)
		highestmodseq = data->highestmodseq;

	/* nothing moved: the state stands as saved (a quiet resync writes nothing) */
	if (!data->incomplete && !data->modified && data->folder->last_sync != 0 &&
	    data->folder->uidvalidity == data->uidvalidity && data->folder->uidnext == uidnext &&
	    data->folder->highestmodseq == highestmodseq &&
	    (data->seen_mark != 0 || !self->update_seen_flags) &&
	    (data->seen_add == NULL || data->seen_add->len == 0) &&
	    (data->seen_remove == NULL || data->seen_remove->len == 0)) {
		g_task_return_boolean(task, TRUE);
		return;
	}
	folder = pr_store_get_folder_by_id(self->store, data->folder->id, &error);
	if (folder == NULL) {
		pr_sync_mailbox_fail(task, error);
		return;
	}
	folder->uidvalidity = data->uidvalidity;
	if (data->incomplete) {
		g_debug("%s: a batch failed; keeping the previous sync state", data->name);
	} else {
		folder->uidnext = uidnext;
		folder->highestmodseq = highestmodseq;
		folder->last_sync = g_get_real_time() / G_USEC_PER_SEC;
	}
	if (!pr_store_save_folder(self->store, folder, &error)) {
		pr_sync_mailbox_fail(task, error);
		return;
	}
	/* local changes from now on are the user's */
	if (self->update_seen_flags && !data->incomplete &&
	    (data->modified || data->seen_mark == 0 ||
	     (data->seen_add != NULL && data->seen_add->len > 0) ||
	     (data->seen_remove != NULL && data->seen_remove->len > 0))) {
		if (!pr_sync_seen_set_mark(
			    self, folder->id, pr_store_get_change_counter(self->store), &error)) {
			pr_sync_mailbox_fail(task, error);
			return;
		}
	}
	g_task_return_boolean(task, TRUE);
}

/* Phase 4: headers of new messages ----------------------------------------------------- */

static PrStoreMessage *
pr_sync_message_from_fetch(gint64 folder_id, const PrImapFetch *fetch)
{
	PrStoreMessage *message = pr_store_message_new();
	const PrImapEnvelope *env = fetch->envelope;

	message->folder_id = folder_id;
	message->uid = fetch->uid;
	message->modseq = fetch->modseq;
	message->flags = pr_sync_flags_normalize((const gchar *const *)fetch->flags);
	message->internal_date = fetch->internal_date;
	message->size = fetch->size;
	message->has_attachments = fetch->has_attachments;
	if (fetch->bodystructure != NULL)
		message->bodystructure = pr_sync_render_value(fetch->bodystructure);
	message->download = PR_STORE_DOWNLOAD_HEADERS;
	if (env != NULL) {
		g_autoptr(GStrvBuilder) to = g_strv_builder_new();
		g_autoptr(GStrvBuilder) cc = g_strv_builder_new();

		message->subject = g_strdup(env->subject);
		message->date = env->date;
		message->message_id = g_strdup(env->message_id);
		message->in_reply_to = g_strdup(env->in_reply_to);
		if (env->from != NULL && env->from->len > 0)
			message->from = pr_imap_address_to_string(g_ptr_array_index(env->from, 0));
		for (guint i = 0; env->to != NULL && i < env->to->len; i++) {
			g_autofree gchar *address =
				pr_imap_address_to_string(g_ptr_array_index(env->to, i));
			g_strv_builder_add(to, address);
		}
		for (guint i = 0; env->cc != NULL && i < env->cc->len; i++) {
			g_autofree gchar *address =
				pr_imap_address_to_string(g_ptr_array_index(env->cc, i));
			g_strv_builder_add(cc, address);
		}
		message->to = g_strv_builder_end(to);
		message->cc = g_strv_builder_end(cc);
	}
	return message;
}

static void pr_sync_mailbox_fetch_next(GTask *task);

/* What the header batches' handler gathered so far: saved in one transaction, then
 * announced. */
static gboolean
pr_sync_mailbox_save_batch(GTask *task, GError **error)
{
	PrSync *self = g_task_get_source_object(task);
	MailboxData *data = g_task_get_task_data(task);
	g_autoptr(GArray) added = g_array_new(FALSE, FALSE, sizeof(guint64));
	g_autoptr(GArray) changed = g_array_new(FALSE, FALSE, sizeof(guint64));
	g_autoptr(GPtrArray) messages = g_steal_pointer(&data->batch_messages);
	g_autoptr(GPtrArray) updates = g_steal_pointer(&data->batch_flags);

	data->batch_messages =
		g_ptr_array_new_with_free_func((GDestroyNotify)pr_store_message_free);
	data->batch_flags = g_ptr_array_new_with_free_func((GDestroyNotify)pr_imap_fetch_free);
	if (messages->len == 0 && updates->len == 0)
		return TRUE;
	if (!pr_store_begin(self->store, error))
		return FALSE;
	for (guint i = 0; i < messages->len; i++) {
		PrStoreMessage *message = g_ptr_array_index(messages, i);
		if (!pr_store_save_message(self->store, message, error)) {
			pr_store_rollback(self->store);
			return FALSE;
		}
		g_array_append_val(added, message->id);
	}
	for (guint i = 0; i < updates->len; i++) {
		/* a change another client made meanwhile */
		PrImapFetch *fetch = g_ptr_array_index(updates, i);
		g_auto(GStrv) flags = pr_sync_flags_normalize((const gchar *const *)fetch->flags);
		guint64 before = pr_store_get_change_counter(self->store);
		guint64 id = 0;
		if (!pr_store_set_flags_by_uid(self->store,
					       data->folder->id,
					       fetch->uid,
					       (const gchar *const *)flags,
					       fetch->modseq,
					       &id,
					       error)) {
			pr_store_rollback(self->store);
			return FALSE;
		}
		if (id != 0 && pr_store_get_change_counter(self->store) != before)
			g_array_append_val(changed, id);
	}
	if (!pr_store_commit(self->store, error))
		return FALSE;
	if (added->len > 0 || changed->len > 0)
		data->modified = TRUE;
	pr_sync_emit_messages_changed(self, data->name, added, changed, NULL);
	if (data->had_synced)
		pr_sync_emit_new_mail(self, data->name, added);
	return TRUE;
}

/* Each untagged response of the header batches: a FETCH becomes the message to save (or a
 * flag change to apply) at once, and the response is freed. */
static gboolean
pr_sync_mailbox_header_cb(PrImapResponse *response, gpointer user_data)
{
	GTask *task = user_data;
	MailboxData *data = g_task_get_task_data(task);
	g_autoptr(PrImapFetch) fetch = NULL;
	GError *error = NULL;

	if (g_strcmp0(pr_imap_response_get_keyword(response), "FETCH") != 0)
		return FALSE;
	if (data->failed || data->handler_error != NULL)
		return TRUE;
	fetch = pr_imap_response_parse_fetch(response, &error);
	if (fetch == NULL) {
		data->handler_error = error;
		return TRUE;
	}
	if (!(fetch->fields & PR_IMAP_FETCH_HAS_UID))
		return TRUE; /* an unsolicited change without UID: next sync */
	if (fetch->fields & PR_IMAP_FETCH_HAS_ENVELOPE) {
		g_ptr_array_add(data->batch_messages,
				pr_sync_message_from_fetch(data->folder->id, fetch));
	} else if (fetch->fields & PR_IMAP_FETCH_HAS_FLAGS) {
		g_ptr_array_add(data->batch_flags, g_steal_pointer(&fetch));
	}
	return TRUE;
}

typedef struct {
	GTask *task;
	guint count;
} BatchOp;

static void
pr_sync_mailbox_batch_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	BatchOp *op = user_data;
	g_autoptr(GTask) task = op->task;
	MailboxData *data = g_task_get_task_data(task);
	guint count = op->count;
	g_autoptr(PrImapResponse) response = NULL;
	g_autoptr(GError) error = NULL;

	g_free(op);
	response = pr_imap_client_run_finish(PR_IMAP_CLIENT(source), res, NULL, &error);
	data->inflight--;
	if (data->failed)
		return;
	if (data->handler_error != NULL) {
		pr_sync_mailbox_fail(task, g_steal_pointer(&data->handler_error));
		return;
	}
	if (response == NULL) {
		if (!g_error_matches(error, PR_ERROR, PR_ERROR_SERVER_ERROR)) {
			pr_sync_mailbox_fail(task, g_steal_pointer(&error));
			return;
		}
		/* e.g. NO [EXPUNGEISSUED]: the rest of the mailbox goes on; the next sync
		 * starts from the old state and fetches what is missing */
		g_warning("%s: fetching headers failed: %s", data->name, error->message);
		data->incomplete = TRUE;
	}
	/* keep the pipeline full before the (synchronous) store work; what arrived of a failed
	 * batch is saved too */
	pr_sync_mailbox_fetch_next(task);
	if (!pr_sync_mailbox_save_batch(task, &error)) {
		pr_sync_mailbox_fail(task, g_steal_pointer(&error));
		return;
	}
	pr_sync_progress_messages(data->progress, 0, count);
	if (data->inflight == 0 && data->fetch_next >= data->fetch_uids->len)
		pr_sync_mailbox_done(task);
}

static void
pr_sync_mailbox_fetch_next(GTask *task)
{
	PrSync *self = g_task_get_source_object(task);
	MailboxData *data = g_task_get_task_data(task);
	gboolean modseq = data->method >= PR_SYNC_METHOD_CONDSTORE && !data->nomodseq;

	while (!data->failed && data->inflight < PR_SYNC_PIPELINE_DEPTH &&
	       data->fetch_next < data->fetch_uids->len) {
		guint n = MIN(self->fetch_batch, data->fetch_uids->len - data->fetch_next);
		g_autoptr(PrImapCommand) command = pr_sync_command_new(self, "UID FETCH");
		BatchOp *op = g_new0(BatchOp, 1);

		pr_imap_command_add_uid_set(
			command, &g_array_index(data->fetch_uids, guint32, data->fetch_next), n);
		pr_imap_command_add_atom(command,
					 modseq ? "(UID FLAGS RFC822.SIZE INTERNALDATE ENVELOPE "
						  "BODYSTRUCTURE MODSEQ)"
						: "(UID FLAGS RFC822.SIZE INTERNALDATE ENVELOPE "
						  "BODYSTRUCTURE)");
		data->fetch_next += n;
		data->inflight++;
		op->task = g_object_ref(task);
		op->count = n;
		pr_sync_run_command_with_handler(self,
						 command,
						 pr_sync_mailbox_header_cb,
						 task,
						 g_task_get_cancellable(task),
						 pr_sync_mailbox_batch_cb,
						 op);
	}
}

static void
pr_sync_mailbox_fetch_start(GTask *task)
{
	MailboxData *data = g_task_get_task_data(task);
	GError *error = NULL;

	if (g_cancellable_set_error_if_cancelled(g_task_get_cancellable(task), &error)) {
		pr_error_convert(&error);
		pr_sync_mailbox_fail(task, error);
		return;
	}
	if (data->fetch_uids == NULL || data->fetch_uids->len == 0) {
		pr_sync_mailbox_done(task);
		return;
	}
	g_array_sort(data->fetch_uids, pr_sync_uid_desc_cb);
	data->batch_messages =
		g_ptr_array_new_with_free_func((GDestroyNotify)pr_store_message_free);
	data->batch_flags = g_ptr_array_new_with_free_func((GDestroyNotify)pr_imap_fetch_free);
	pr_sync_progress_messages(data->progress, data->fetch_uids->len, 0);
	pr_sync_mailbox_fetch_next(task);
}

/* Phase 3b: \Seen to the server -------------------------------------------------------- */

static void
pr_sync_mailbox_store_cb(GObject *source, GAsyncResult *res, gpointer user_data)
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
		if (!g_error_matches(error, PR_ERROR, PR_ERROR_SERVER_ERROR)) {
			pr_sync_mailbox_fail(task, g_steal_pointer(&error));
			return;
		}
		/* a read-only mailbox, say: the local flag stays, the server keeps its own */
		g_warning("%s: could not update \\Seen on the server: %s",
			  data->name,
			  error->message);
	}
	if (data->pending == 0)
		pr_sync_mailbox_fetch_start(task);
}

static void
pr_sync_mailbox_push_seen(GTask *task)
{
	PrSync *self = g_task_get_source_object(task);
	MailboxData *data = g_task_get_task_data(task);
	GArray *sets[] = { data->seen_add, data->seen_remove };
	const gchar *ops[] = { "+FLAGS.SILENT (\\Seen)", "-FLAGS.SILENT (\\Seen)" };

	data->pending = 0;
	for (guint i = 0; i < G_N_ELEMENTS(sets); i++) {
		g_autoptr(PrImapCommand) command = NULL;
		if (sets[i] == NULL || sets[i]->len == 0)
			continue;
		command = pr_sync_command_new(self, "UID STORE");
		pr_imap_command_add_uid_set(
			command, &g_array_index(sets[i], guint32, 0), sets[i]->len);
		pr_imap_command_add_atom(command, ops[i]);
		data->pending++;
		pr_sync_run_command(self,
				    command,
				    g_task_get_cancellable(task),
				    pr_sync_mailbox_store_cb,
				    g_object_ref(task));
	}
	if (data->pending == 0)
		pr_sync_mailbox_fetch_start(task);
}

/* Phase 3: apply ------------------------------------------------------------------------ */

typedef struct {
	PrSync *self;
	MailboxData *data;
	GHashTable *local; /* \Seen reconciliation: uid -> 1 seen / 2 unseen, or NULL */
	GArray *changed;
	GArray *removed;
} ApplyCtx;

static gboolean
pr_sync_apply_flags(ApplyCtx *ctx, guint32 uid, gchar **flags, guint64 modseq, GError **error)
{
	guint64 before = pr_store_get_change_counter(ctx->self->store);
	guint64 id = 0;

	if (!pr_store_set_flags_by_uid(ctx->self->store,
				       ctx->data->folder->id,
				       uid,
				       (const gchar *const *)flags,
				       modseq,
				       &id,
				       error))
		return FALSE;
	if (id != 0 && pr_store_get_change_counter(ctx->self->store) != before)
		g_array_append_val(ctx->changed, id);
	return TRUE;
}

/* Flags with \Seen as @seen says. */
static gchar **
pr_sync_flags_with_seen(gchar **flags, gboolean seen)
{
	g_autoptr(GStrvBuilder) builder = g_strv_builder_new();

	for (guint i = 0; flags != NULL && flags[i] != NULL; i++) {
		if (g_ascii_strcasecmp(flags[i], "\\Seen") != 0)
			g_strv_builder_add(builder, flags[i]);
	}
	if (seen)
		g_strv_builder_add(builder, "\\Seen");
	{
		g_auto(GStrv) out = g_strv_builder_end(builder);
		return pr_sync_flags_normalize((const gchar *const *)out);
	}
}

static gboolean
pr_sync_apply_removals(ApplyCtx *ctx, GHashTable *store_uids, GError **error)
{
	MailboxData *data = ctx->data;
	PrStore *store = ctx->self->store;
	g_autoptr(GArray) gone = g_array_new(FALSE, FALSE, sizeof(guint32));

	if (data->listing != NULL && store_uids != NULL) {
		GHashTableIter iter;
		gpointer key;
		g_hash_table_iter_init(&iter, store_uids);
		while (g_hash_table_iter_next(&iter, &key, NULL)) {
			guint32 uid = GPOINTER_TO_UINT(key);
			if (!pr_sync_uids_contains(data->listing, uid))
				g_array_append_val(gone, uid);
		}
	} else if (data->vanished != NULL) {
		if (store_uids != NULL) {
			GHashTableIter iter;
			gpointer key;
			g_hash_table_iter_init(&iter, store_uids);
			while (g_hash_table_iter_next(&iter, &key, NULL)) {
				guint32 uid = GPOINTER_TO_UINT(key);
				if (pr_imap_seqset_contains(data->vanished, uid))
					g_array_append_val(gone, uid);
			}
		} else {
			g_autoptr(GArray) expanded =
				pr_sync_seqset_expand(data->vanished, PR_SYNC_MAX_EXPAND, error);
			if (expanded == NULL)
				return FALSE;
			g_array_append_vals(gone, expanded->data, expanded->len);
		}
	}
	if (gone->len == 0)
		return TRUE;
	if (ctx->local != NULL) {
		for (guint i = 0; i < gone->len; i++)
			g_hash_table_remove(ctx->local,
					    GUINT_TO_POINTER(g_array_index(gone, guint32, i)));
	}
	return pr_store_remove_uids(store,
				    data->folder->id,
				    &g_array_index(gone, guint32, 0),
				    gone->len,
				    ctx->removed,
				    error);
}

static gboolean
pr_sync_apply_updates(ApplyCtx *ctx, GHashTable *store_flags, GError **error)
{
	MailboxData *data = ctx->data;

	/* what the server reported changed since our HIGHESTMODSEQ: the server wins */
	for (guint i = 0; data->updates != NULL && i < data->updates->len; i++) {
		PrImapFetch *fetch = g_ptr_array_index(data->updates, i);
		g_auto(GStrv) flags = pr_sync_flags_normalize((const gchar *const *)fetch->flags);
		if (ctx->local != NULL)
			g_hash_table_remove(ctx->local, GUINT_TO_POINTER(fetch->uid));
		if (!pr_sync_apply_flags(ctx, fetch->uid, flags, fetch->modseq, error))
			return FALSE;
	}
	/* plain diff: every flag compared; local \Seen changes win (no MODSEQ to tell) */
	if (data->server_flags != NULL && store_flags != NULL) {
		GHashTableIter iter;
		gpointer key, value;
		g_hash_table_iter_init(&iter, data->server_flags);
		while (g_hash_table_iter_next(&iter, &key, &value)) {
			g_auto(GStrv) server = NULL;
			g_auto(GStrv) flags = NULL;
			g_autofree gchar *stored_key = NULL;
			g_autofree gchar *new_key = NULL;
			gpointer stored = NULL;
			gpointer local = NULL;

			if (!g_hash_table_lookup_extended(store_flags, key, NULL, &stored))
				continue; /* not in the store (new, or outside the window) */
			stored_key = pr_sync_flags_key_from_string(stored);
			server = g_strsplit(value, " ", -1);
			if (ctx->local != NULL &&
			    g_hash_table_lookup_extended(ctx->local, key, NULL, &local))
				flags = pr_sync_flags_with_seen(server,
								GPOINTER_TO_INT(local) == 1);
			else
				flags = pr_sync_flags_normalize((const gchar *const *)server);
			new_key = g_strjoinv(" ", flags);
			if (g_strcmp0(new_key, stored_key) == 0)
				continue;
			if (!pr_sync_apply_flags(ctx, GPOINTER_TO_UINT(key), flags, 0, error))
				return FALSE;
		}
	}
	return TRUE;
}

/* What is left in @local is what the user changed here: send its \Seen to the server. In a
 * plain diff only where the server differs; with MODSEQs the server did not change those
 * messages since the last sync, so its \Seen is what we had then: send it as it is now. */
static void
pr_sync_apply_seen_pushes(ApplyCtx *ctx)
{
	MailboxData *data = ctx->data;
	GHashTableIter iter;
	gpointer key, value;

	if (ctx->local == NULL)
		return;
	data->seen_add = g_array_new(FALSE, FALSE, sizeof(guint32));
	data->seen_remove = g_array_new(FALSE, FALSE, sizeof(guint32));
	g_hash_table_iter_init(&iter, ctx->local);
	while (g_hash_table_iter_next(&iter, &key, &value)) {
		guint32 uid = GPOINTER_TO_UINT(key);
		gboolean seen = GPOINTER_TO_INT(value) == 1;
		if (data->server_flags != NULL) {
			const gchar *server = g_hash_table_lookup(data->server_flags, key);
			g_auto(GStrv) split = NULL;
			if (server == NULL)
				continue; /* gone from the server or outside the window */
			split = g_strsplit(server, " ", -1);
			if (pr_sync_flag_in((const gchar *const *)split, "\\Seen") == seen)
				continue;
		}
		g_array_append_val(seen ? data->seen_add : data->seen_remove, uid);
	}
}

/* Where the apply step reads the store's UIDs from: with nothing to compare but new UIDs
 * (to tell them from what an interrupted sync stored), not below the lowest of them; a
 * 50,000-message folder costs milliseconds to read whole. */
static guint32
pr_sync_store_uids_from(MailboxData *data)
{
	if (data->listing != NULL || data->vanished != NULL || data->candidates == NULL ||
	    data->candidates->len == 0)
		return 0;
	return g_array_index(data->candidates, guint32, 0);
}

static gboolean
pr_sync_mailbox_apply(GTask *task, GError **error)
{
	PrSync *self = g_task_get_source_object(task);
	MailboxData *data = g_task_get_task_data(task);
	g_autoptr(GHashTable) store_flags = NULL; /* uid -> flags string */
	g_autoptr(GHashTable) store_uids = NULL;  /* uid set */
	g_autoptr(GHashTable) local = NULL;
	g_autoptr(GArray) changed = g_array_new(FALSE, FALSE, sizeof(guint64));
	g_autoptr(GArray) removed = g_array_new(FALSE, FALSE, sizeof(guint64));
	gboolean need_store = data->listing != NULL || data->server_flags != NULL ||
			      (data->candidates != NULL && data->candidates->len > 0);
	GArray *wanted;
	ApplyCtx ctx = { self, data, NULL, changed, removed };

	/* the window: the newest @limit of what the search found */
	if (data->listing != NULL && data->limit >= 0 && data->listing->len > (guint)data->limit)
		g_array_remove_range(data->listing, 0, data->listing->len - (guint)data->limit);

	/* vanished sets can be "1:4294967295"-like: intersect them with what we hold */
	if (data->vanished != NULL && !need_store &&
	    pr_imap_seqset_count(data->vanished) > PR_SYNC_MAX_EXPAND)
		need_store = TRUE;
	if (need_store) {
		if (data->server_flags != NULL) {
			store_flags = pr_store_get_uid_flags(self->store, data->folder->id, error);
			if (store_flags == NULL)
				return FALSE;
			store_uids = g_hash_table_ref(store_flags);
		} else {
			g_autoptr(GArray) uids = pr_store_get_uids(self->store,
								   data->folder->id,
								   pr_sync_store_uids_from(data),
								   error);
			if (uids == NULL)
				return FALSE;
			store_uids = g_hash_table_new(g_direct_hash, g_direct_equal);
			for (guint i = 0; i < uids->len; i++)
				g_hash_table_add(store_uids,
						 GUINT_TO_POINTER(g_array_index(uids, guint32, i)));
		}
	}
	if (self->update_seen_flags && data->seen_mark != 0) {
		local = pr_sync_seen_local_changes(self, data->folder->id, data->seen_mark, error);
		if (local == NULL)
			return FALSE;
		if (g_hash_table_size(local) == 0)
			g_clear_pointer(&local, g_hash_table_unref);
	}
	ctx.local = local;

	/* a quiet resync has nothing to remove or update: no transaction at all */
	if (data->listing != NULL || data->vanished != NULL || data->updates->len > 0 ||
	    data->server_flags != NULL) {
		if (!pr_store_begin(self->store, error))
			return FALSE;
		if (!pr_sync_apply_removals(&ctx, store_uids, error) ||
		    !pr_sync_apply_updates(&ctx, store_flags, error)) {
			pr_store_rollback(self->store);
			return FALSE;
		}
		if (!pr_store_commit(self->store, error))
			return FALSE;
	}
	pr_sync_apply_seen_pushes(&ctx);
	if (changed->len > 0 || removed->len > 0)
		data->modified = TRUE;
	pr_sync_emit_messages_changed(self, data->name, NULL, changed, removed);

	/* new messages: what the server has and we lack */
	wanted = data->listing != NULL ? data->listing : data->candidates;
	data->fetch_uids = g_array_new(FALSE, FALSE, sizeof(guint32));
	for (guint i = 0; wanted != NULL && i < wanted->len; i++) {
		guint32 uid = g_array_index(wanted, guint32, i);
		if (store_uids != NULL && g_hash_table_contains(store_uids, GUINT_TO_POINTER(uid)))
			continue;
		g_array_append_val(data->fetch_uids, uid);
	}
	if (wanted != NULL && wanted->len > 0) {
		guint32 top = g_array_index(wanted, guint32, wanted->len - 1);
		if (data->max_uid == G_MAXUINT32 || top > data->max_uid)
			data->max_uid = top;
	}
	return TRUE;
}

/* Phase 2: queries ---------------------------------------------------------------------- */

static void
pr_sync_mailbox_queries_done(GTask *task)
{
	MailboxData *data = g_task_get_task_data(task);
	GError *error = NULL;

	/* a plain diff without a window: the FETCH 1:* answer is the listing too */
	if (data->server_flags != NULL && data->listing == NULL) {
		GHashTableIter iter;
		gpointer key;
		data->listing = g_array_sized_new(
			FALSE, FALSE, sizeof(guint32), g_hash_table_size(data->server_flags));
		g_hash_table_iter_init(&iter, data->server_flags);
		while (g_hash_table_iter_next(&iter, &key, NULL)) {
			guint32 uid = GPOINTER_TO_UINT(key);
			g_array_append_val(data->listing, uid);
		}
		g_array_sort(data->listing, pr_sync_uid_cmp);
	}
	if (!pr_sync_mailbox_apply(task, &error)) {
		pr_sync_mailbox_fail(task, error);
		return;
	}
	if (data->failed)
		return;
	pr_sync_mailbox_push_seen(task);
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
	pr_sync_mailbox_queries_done(task);
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

/*
 * After a SELECT with QRESYNC that reported no expunge, the FETCH responses it sent cover
 * every message that arrived since (their MODSEQ is higher than the one we gave). When
 * those above the stored UIDNEXT account for all that EXISTS grew by, they are the new
 * UIDs and no UID SEARCH is needed; otherwise (a server that left some out) it is asked.
 */
static GArray *
pr_sync_new_uids_from_select(MailboxData *data)
{
	g_autoptr(GArray) uids = g_array_new(FALSE, FALSE, sizeof(guint32));
	PrStoreFolder *stored = data->folder;

	if (data->vanished != NULL || data->exists < stored->messages || !data->have_uidnext)
		return NULL;
	for (guint i = 0; i < data->updates->len; i++) {
		PrImapFetch *fetch = g_ptr_array_index(data->updates, i);
		if (fetch->uid >= stored->uidnext && fetch->uid < data->uidnext)
			g_array_append_val(uids, fetch->uid);
	}
	pr_sync_uids_sort_unique(uids);
	if (uids->len != data->exists - stored->messages)
		return NULL;
	return g_steal_pointer(&uids);
}

static void
pr_sync_mailbox_plan(GTask *task)
{
	PrSync *self = g_task_get_source_object(task);
	MailboxData *data = g_task_get_task_data(task);
	PrStoreFolder *stored = data->folder;
	gboolean uidnext_changed = !data->have_uidnext || data->uidnext != stored->uidnext;
	gboolean listing = FALSE;
	gboolean candidates = FALSE;
	gboolean changedsince = FALSE;
	gboolean all_flags = FALSE;

	data->first = stored->last_sync == 0;
	data->had_synced = !data->first;
	if (data->nomodseq)
		data->method = PR_SYNC_METHOD_PLAIN;

	if (data->exists == 0) {
		/* nothing there: whatever we hold is gone */
		data->listing = g_array_new(FALSE, FALSE, sizeof(guint32));
		data->flags_synced = TRUE;
	} else if (data->first) {
		/* everything is new; what an interrupted first sync stored is compared too */
		listing = TRUE;
		all_flags = stored->messages > 0;
		data->flags_synced = TRUE;
	} else if (data->new_only && !data->sent_qresync) {
		if (data->window)
			listing = uidnext_changed;
		else
			candidates = uidnext_changed;
	} else if (data->sent_qresync) {
		gboolean changed = data->vanished != NULL || data->updates->len > 0 ||
				   uidnext_changed || data->highestmodseq != stored->highestmodseq;
		if (data->window)
			listing = changed;
		else
			/* a mailbox that stayed selected shows new messages only at the end of
			 * the FETCH that asked for changes (EXISTS): they are searched for */
			candidates = uidnext_changed || data->still_selected;
		data->flags_synced = TRUE;
	} else if (data->method >= PR_SYNC_METHOD_CONDSTORE && stored->highestmodseq > 0) {
		changedsince = data->highestmodseq != stored->highestmodseq;
		/* no new UID and as many messages as we hold: nothing was expunged */
		listing = data->window || uidnext_changed || data->exists != stored->messages;
		data->flags_synced = TRUE;
	} else {
		all_flags = TRUE;
		listing = data->window;
		data->flags_synced = TRUE;
	}

	g_debug("%s: %s%s, UIDVALIDITY %u UIDNEXT %u (had %u) HIGHESTMODSEQ %" G_GUINT64_FORMAT
		" (had %" G_GUINT64_FORMAT "), %u messages (had %u), %u changes reported: "
		"%s%s%s%s",
		data->name,
		data->method == PR_SYNC_METHOD_QRESYNC	   ? "QRESYNC"
		: data->method == PR_SYNC_METHOD_CONDSTORE ? "CONDSTORE"
							   : "plain",
		data->sent_qresync ? " (resync)" : "",
		data->uidvalidity,
		data->uidnext,
		stored->uidnext,
		data->highestmodseq,
		stored->highestmodseq,
		data->exists,
		stored->messages,
		data->updates->len,
		changedsince ? "CHANGEDSINCE " : "",
		all_flags ? "all-flags " : "",
		listing ? "listing " : "",
		candidates ? "new-uids" : "");
	if (candidates && stored->uidnext <= 1) {
		candidates = FALSE;
		listing = TRUE;
	}
	if (candidates && data->sent_qresync && !data->still_selected) {
		data->candidates = pr_sync_new_uids_from_select(data);
		candidates = data->candidates == NULL;
		if (!candidates)
			g_debug("%s: the %u new UIDs are those the SELECT reported",
				data->name,
				data->candidates->len);
	}
	if (all_flags)
		data->server_flags =
			g_hash_table_new_full(g_direct_hash, g_direct_equal, NULL, g_free);

	data->pending = 0;
	if (changedsince) {
		PrImapCommand *command = pr_sync_command_new(self, "UID FETCH");
		pr_imap_command_add_atom(command, "1:* (UID FLAGS)");
		pr_imap_command_add_printf(
			command, "(CHANGEDSINCE %" G_GUINT64_FORMAT ")", stored->highestmodseq);
		pr_sync_mailbox_query(task, command);
		g_object_unref(command);
	}
	if (all_flags) {
		PrImapCommand *command = pr_sync_command_new(self, "UID FETCH");
		pr_imap_command_add_atom(command, "1:* (UID FLAGS)");
		pr_sync_mailbox_query(task, command);
		g_object_unref(command);
	}
	if (listing) {
		PrImapCommand *command = pr_sync_search_command(self, 0, TRUE);
		data->found = g_array_new(FALSE, FALSE, sizeof(guint32));
		data->found_is_listing = TRUE;
		pr_sync_mailbox_query(task, command);
		g_object_unref(command);
	} else if (candidates) {
		PrImapCommand *command = pr_sync_search_command(self, stored->uidnext, FALSE);
		data->since_uid = stored->uidnext;
		data->found = g_array_new(FALSE, FALSE, sizeof(guint32));
		pr_sync_mailbox_query(task, command);
		g_object_unref(command);
	}
	if (data->pending == 0)
		pr_sync_mailbox_queries_done(task);
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
		data->uidvalidity);
	if (!pr_store_begin(self->store, error))
		return FALSE;
	folder = pr_store_get_folder_by_id(self->store, data->folder->id, error);
	if (folder == NULL ||
	    !pr_store_retire_folder_messages(self->store, data->folder->id, removed, error)) {
		pr_store_rollback(self->store);
		return FALSE;
	}
	folder->uidvalidity = data->uidvalidity;
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
	folder->uidvalidity = data->uidvalidity;
	if (!pr_store_save_folder(self->store, folder, error))
		return FALSE;
	data->folder->uidvalidity = data->uidvalidity;
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

/* The SELECT completed: what its answers did not say. */
static void
pr_sync_mailbox_read_select(MailboxData *data)
{
	if (!data->have_uidvalidity) {
		/* RFC 3501 makes it mandatory; without it UIDs cannot be trusted across
		 * sessions, so every sync starts afresh */
		g_debug("%s: no UIDVALIDITY in the SELECT answer", data->name);
		data->uidvalidity = 0;
	}
	if (data->highestmodseq == 0)
		data->nomodseq = TRUE;
}

static void
pr_sync_mailbox_selected(GTask *task)
{
	MailboxData *data = g_task_get_task_data(task);
	PrStoreFolder *stored = data->folder;
	GError *error = NULL;

	if (data->handler_error != NULL) {
		pr_sync_mailbox_fail(task, g_steal_pointer(&data->handler_error));
		return;
	}
	pr_sync_mailbox_read_select(data);
	if (data->method == PR_SYNC_METHOD_PLAIN) {
		/* MODSEQs not used: whatever the server says about them does not matter */
		data->nomodseq = FALSE;
		data->highestmodseq = 0;
	}
	if (stored->uidvalidity != data->uidvalidity &&
	    (stored->uidvalidity != 0 || stored->messages > 0)) {
		/* QRESYNC data refers to the old UIDs: drop it */
		g_clear_pointer(&data->vanished, pr_imap_seqset_free);
		g_ptr_array_set_size(data->updates, 0);
		data->sent_qresync = FALSE;
		if (!pr_sync_mailbox_retire(task, &error)) {
			pr_sync_mailbox_fail(task, error);
			return;
		}
	} else if (data->uidvalidity == 0) {
		/* nothing tells whether UIDs still mean the same: compare everything */
		data->sent_qresync = FALSE;
		data->folder->last_sync = 0;
	} else if (stored->uidvalidity == 0) {
		/* the first sync: what it stores is in this UID space, so that an interrupted
		 * first sync resumes instead of retiring what it fetched */
		if (!pr_sync_mailbox_save_uidvalidity(task, &error)) {
			pr_sync_mailbox_fail(task, error);
			return;
		}
	}
	pr_sync_mailbox_plan(task);
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
	GError *error = NULL;
	gboolean qresync;
	gboolean condstore;

	g_task_set_source_tag(task, pr_sync_mailbox_async);
	g_task_set_check_cancellable(task, FALSE);
	g_task_set_task_data(task, data, (GDestroyNotify)mailbox_data_free);
	data->progress = progress != NULL ? g_object_ref(progress) : NULL;
	data->name = g_strdup(name);
	data->new_only = new_only;
	data->updates = g_ptr_array_new_with_free_func((GDestroyNotify)pr_imap_fetch_free);
	data->max_uid = G_MAXUINT32;
	data->limit =
		g_strcmp0(name, "INBOX") == 0 ? self->inbox_sync_limit : self->mailbox_sync_limit;
	data->window = data->limit >= 0 || self->sync_search != NULL;
	pr_sync_progress_folder(progress, name);

	data->folder = pr_store_get_folder(self->store, name, &error);
	if (data->folder == NULL) {
		data->failed = TRUE;
		g_task_return_error(task, error);
		return;
	}
	if (self->update_seen_flags)
		data->seen_mark = pr_sync_seen_get_mark(self, data->folder->id);

	qresync = pr_imap_client_has_capability(self->client, "QRESYNC") &&
		  pr_imap_client_has_capability(self->client, "ENABLE");
	condstore = pr_imap_client_has_capability(self->client, "CONDSTORE") ||
		    pr_imap_client_has_capability(self->client, "QRESYNC");
	if (qresync && self->max_method >= PR_SYNC_METHOD_QRESYNC)
		data->method = PR_SYNC_METHOD_QRESYNC;
	else if (condstore && self->max_method >= PR_SYNC_METHOD_CONDSTORE)
		data->method = PR_SYNC_METHOD_CONDSTORE;
	else
		data->method = PR_SYNC_METHOD_PLAIN;

	if (data->method == PR_SYNC_METHOD_QRESYNC && !data->window &&
	    data->folder->last_sync != 0 && data->folder->highestmodseq != 0 &&
	    pr_sync_is_selected(self, data->folder, TRUE)) {
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
		data->sent_qresync = TRUE;
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
	if (data->method == PR_SYNC_METHOD_QRESYNC && data->folder->last_sync != 0 &&
	    data->folder->uidvalidity != 0 && data->folder->highestmodseq != 0) {
		pr_imap_command_add_printf(command,
					   "(QRESYNC (%u %" G_GUINT64_FORMAT "))",
					   data->folder->uidvalidity,
					   data->folder->highestmodseq);
		data->sent_qresync = TRUE;
	} else if (data->method >= PR_SYNC_METHOD_CONDSTORE) {
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
