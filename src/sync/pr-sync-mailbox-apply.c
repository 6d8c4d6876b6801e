/*
 * Copyright 2026 The Postroom developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#define G_LOG_DOMAIN "PrSync"

#include "pr-error.h"
#include "pr-sync-mailbox-private.h"

/* Phases 3 to 5 of a mailbox's sync (see pr-sync-mailbox.c). */

#define PR_SYNC_PIPELINE_DEPTH 2
/* vanished UIDs are expanded when the set is at most this large, else intersected with
 * the store's UIDs */
#define PR_SYNC_MAX_EXPAND 200000

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
	guint32 uidnext = data->plan.uidnext;
	guint64 highestmodseq = data->plan.highestmodseq;

	if (data->max_uid != G_MAXUINT32 && data->max_uid + 1 > uidnext)
		uidnext = data->max_uid + 1;

	/* nothing moved: the state stands as saved (a quiet resync writes nothing) */
	if (!data->incomplete && !data->modified && data->folder->last_sync != 0 &&
	    data->folder->uidvalidity == data->plan.uidvalidity &&
	    data->folder->uidnext == uidnext && data->folder->highestmodseq == highestmodseq &&
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
	folder->uidvalidity = data->plan.uidvalidity;
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
	if (data->plan.announce_new)
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
	pr_sync_progress_messages(data->headers_progress, 0, count);
	if (data->inflight == 0 && data->fetch_next >= data->fetch_uids->len)
		pr_sync_mailbox_done(task);
}

static void
pr_sync_mailbox_fetch_next(GTask *task)
{
	PrSync *self = g_task_get_source_object(task);
	MailboxData *data = g_task_get_task_data(task);
	gboolean modseq = data->plan.modseq;

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
	/* the folder's first step (opening and comparing) is over */
	pr_sync_progress_step_done(data->progress);
	if (data->fetch_uids == NULL || data->fetch_uids->len == 0) {
		pr_sync_mailbox_done(task);
		return;
	}
	data->headers_progress = pr_sync_progress_child(data->progress);
	g_array_sort(data->fetch_uids, pr_sync_uid_desc_cb);
	data->batch_messages =
		g_ptr_array_new_with_free_func((GDestroyNotify)pr_store_message_free);
	data->batch_flags = g_ptr_array_new_with_free_func((GDestroyNotify)pr_imap_fetch_free);
	pr_sync_progress_messages(data->headers_progress, data->fetch_uids->len, 0);
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
	if (data->listing != NULL && data->plan.limit >= 0 &&
	    data->listing->len > (guint)data->plan.limit)
		g_array_remove_range(
			data->listing, 0, data->listing->len - (guint)data->plan.limit);

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

void
pr_sync_mailbox_apply_and_fetch(GTask *task)
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
