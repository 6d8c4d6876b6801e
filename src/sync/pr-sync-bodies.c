/*
 * Copyright 2026 The Postroom developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#define G_LOG_DOMAIN "PrSync"

#include <glib/gi18n-lib.h>
#include <string.h>

#include "pr-error.h"
#include "pr-sync-private.h"

/*
 * Message bodies: per folder, EXAMINE then UID FETCH <set> (UID BODY.PEEK[]) in chunks,
 * two in flight. Literals above the parser's in-memory threshold stream through a
 * literal sink straight into the store's temporary file for that message; smaller ones
 * arrive in memory and are written at once. Each FETCH response is handled as it
 * completes, by the command's untagged handler, which consumes it: the body goes to the
 * store as a deferred commit and the response is freed, so memory and open files do not
 * grow with the chunk. When a chunk's tagged response arrives, the store flushes every
 * body queued so far (one file-system sync, one transaction; see pr-store.h) and only
 * then are they reported fetched.
 *
 * The sink learns the UID from the FETCH items before the literal (we ask for UID first
 * and Dovecot answers in that order); when a server sends it after the literal, the bytes
 * go to a temporary file and are copied into the store once the UID is known.
 */

#define PR_SYNC_BODY_CHUNK_MESSAGES 200
#define PR_SYNC_BODY_CHUNK_BYTES    (32 * 1024 * 1024)
#define PR_SYNC_BODY_DEPTH	    2

typedef struct {
	guint64 id;
	guint32 uid;
	guint64 size;
} BodyItem;

typedef struct _BodiesData BodiesData;

typedef struct {
	BodiesData *data; /* unowned: the sink holds the data */
	guint32 seq;
	guint32 uid;
	guint64 id;
	GOutputStream *stream; /* the store's (uid known) or the temporary file's */
	GFile *tmp;
	GFileIOStream *tmp_io;
	gboolean discard;
} BodyLiteral;

struct _BodiesData {
	gint refcount;
	PrSync *self; /* unowned: valid while the task runs (the sink may outlive it) */
	PrStore *store;
	GTask *task; /* while running */
	PrProgress *progress;
	GHashTable *by_folder; /* folder id (gint64 *) -> GArray of BodyItem */
	GArray *folder_ids;    /* gint64 */
	guint folder_idx;
	PrStoreFolder *folder;
	GHashTable *by_uid; /* uid -> BodyItem *, of the current folder */
	GArray *items;	    /* the current folder's, newest first */
	guint next;
	guint inflight;
	gboolean active;
	gboolean failed;
	BodyLiteral *open;     /* being streamed */
	BodyLiteral *finished; /* streamed, its response not yet complete */
	GError *error;	       /* a store failure met inside a callback */
	GArray *fetched;       /* guint64, flushed */
	PrStoreBodyBatch *batch;
	guint select_expect;
	gboolean flushing;	 /* a flush of the batch is in flight */
	gboolean return_pending; /* returns when that flush ends */
	GError *return_error;
	/* \Seen marks: see pr_sync_bodies_folder_done() */
	gboolean mark_clean;
	guint64 mark_counter;
	GHashTable *own_stamps; /* change stamps of our flushes in the current folder */
	gboolean sink_installed;
};

static void
body_literal_free(BodyLiteral *lit, gboolean abort)
{
	if (lit == NULL)
		return;
	if (lit->tmp != NULL) {
		if (lit->tmp_io != NULL)
			g_io_stream_close(G_IO_STREAM(lit->tmp_io), NULL, NULL);
		g_file_delete(lit->tmp, NULL, NULL);
		g_clear_object(&lit->tmp);
		g_clear_object(&lit->tmp_io);
	} else if (lit->stream != NULL && abort) {
		pr_store_body_abort(lit->data->store, lit->id, lit->stream);
	}
	g_clear_object(&lit->stream);
	g_free(lit);
}

static BodiesData *
bodies_data_ref(BodiesData *data)
{
	g_atomic_int_inc(&data->refcount);
	return data;
}

static void
bodies_data_unref(BodiesData *data)
{
	if (!g_atomic_int_dec_and_test(&data->refcount))
		return;
	body_literal_free(data->open, TRUE);
	body_literal_free(data->finished, TRUE);
	g_clear_object(&data->progress);
	g_clear_pointer(&data->by_folder, g_hash_table_unref);
	g_clear_pointer(&data->folder_ids, g_array_unref);
	g_clear_pointer(&data->folder, pr_store_folder_free);
	g_clear_pointer(&data->by_uid, g_hash_table_unref);
	g_clear_pointer(&data->items, g_array_unref);
	g_clear_pointer(&data->fetched, g_array_unref);
	g_clear_pointer(&data->batch, pr_store_body_batch_free);
	g_clear_pointer(&data->own_stamps, g_hash_table_unref);
	g_clear_error(&data->error);
	g_clear_error(&data->return_error);
	g_clear_object(&data->store);
	g_free(data);
}

static void
pr_sync_bodies_note_error(BodiesData *data, GError *error)
{
	if (data->error == NULL)
		data->error = error;
	else
		g_error_free(error);
}

/* The literal sink ----------------------------------------------------------------------- */

static gpointer
pr_sync_bodies_sink_begin(const PrImapLiteralInfo *info, gpointer user_data)
{
	BodiesData *data = user_data;
	BodyLiteral *lit;
	GError *error = NULL;

	if (!data->active || g_strcmp0(info->keyword, "FETCH") != 0 ||
	    g_strcmp0(info->section, "BODY[]") != 0)
		return NULL; /* not ours: the parser keeps it in memory */
	lit = g_new0(BodyLiteral, 1);
	lit->data = data;
	lit->seq = info->seq;
	lit->uid = info->uid;
	if (info->uid != 0) {
		BodyItem *item = g_hash_table_lookup(data->by_uid, GUINT_TO_POINTER(info->uid));
		if (item == NULL) {
			lit->discard = TRUE; /* not one we asked for */
		} else {
			lit->id = item->id;
			lit->stream = pr_store_body_batch_begin(data->batch, item->id, &error);
			if (lit->stream == NULL) {
				pr_sync_bodies_note_error(data, error);
				lit->discard = TRUE;
			}
		}
	} else {
		lit->tmp = g_file_new_tmp("postroom-body-XXXXXX", &lit->tmp_io, &error);
		if (lit->tmp == NULL) {
			pr_sync_bodies_note_error(data, error);
			lit->discard = TRUE;
		} else {
			lit->stream = g_object_ref(
				g_io_stream_get_output_stream(G_IO_STREAM(lit->tmp_io)));
		}
	}
	data->open = lit;
	return lit;
}

static gboolean
pr_sync_bodies_sink_write(gpointer handle,
			  const guint8 *buf,
			  gsize len,
			  gpointer user_data,
			  GError **error)
{
	BodyLiteral *lit = handle;
	BodiesData *data = user_data;
	g_autoptr(GError) error_local = NULL;

	if (lit->discard)
		return TRUE;
	/* chunks are at most the client's read size: a synchronous write is fine */
	if (!g_output_stream_write_all(lit->stream, buf, len, NULL, NULL, &error_local)) {
		g_set_error(error,
			    PR_ERROR,
			    PR_ERROR_STORE_FAILED,
			    _("Could not write a message body: %s"),
			    error_local->message);
		return FALSE;
	}
	pr_sync_progress_bytes(data->progress, 0, len);
	return TRUE;
}

static void
pr_sync_bodies_sink_end(gpointer handle, gboolean aborted, gpointer user_data)
{
	BodyLiteral *lit = handle;
	BodiesData *data = user_data;

	if (data->open == lit)
		data->open = NULL;
	if (aborted) {
		body_literal_free(lit, TRUE);
		return;
	}
	/* committed when the FETCH response is complete */
	body_literal_free(data->finished, TRUE);
	data->finished = lit;
}

static const PrImapLiteralSink pr_sync_bodies_sink = {
	pr_sync_bodies_sink_begin,
	pr_sync_bodies_sink_write,
	pr_sync_bodies_sink_end,
};

/* Completed FETCH responses ------------------------------------------------------------ */

static gboolean
pr_sync_bodies_copy_tmp(BodyLiteral *lit, GOutputStream *out, GError **error)
{
	GInputStream *in;
	g_autoptr(GError) error_local = NULL;

	if (!g_output_stream_flush(lit->stream, NULL, &error_local) ||
	    !g_seekable_seek(G_SEEKABLE(lit->tmp_io), 0, G_SEEK_SET, NULL, &error_local)) {
		g_set_error(error,
			    PR_ERROR,
			    PR_ERROR_STORE_FAILED,
			    _("Could not write a message body: %s"),
			    error_local->message);
		return FALSE;
	}
	in = g_io_stream_get_input_stream(G_IO_STREAM(lit->tmp_io));
	if (g_output_stream_splice(out, in, G_OUTPUT_STREAM_SPLICE_NONE, NULL, &error_local) < 0) {
		g_set_error(error,
			    PR_ERROR,
			    PR_ERROR_STORE_FAILED,
			    _("Could not write a message body: %s"),
			    error_local->message);
		return FALSE;
	}
	return TRUE;
}

static gboolean
pr_sync_bodies_commit(BodiesData *data,
		      BodyItem *item,
		      const PrImapValue *value,
		      BodyLiteral *lit,
		      GError **error)
{
	PrStore *store = data->store;
	g_autoptr(GOutputStream) stream = NULL;

	if (pr_imap_value_get_kind(value) == PR_IMAP_VALUE_STRING) {
		gsize len = 0;
		const gchar *bytes = pr_imap_value_get_string(value, &len);
		g_autoptr(GError) error_local = NULL;

		stream = pr_store_body_batch_begin(data->batch, item->id, error);
		if (stream == NULL)
			return FALSE;
		if (!g_output_stream_write_all(stream, bytes, len, NULL, NULL, &error_local)) {
			pr_store_body_abort(store, item->id, stream);
			g_set_error(error,
				    PR_ERROR,
				    PR_ERROR_STORE_FAILED,
				    _("Could not write a message body: %s"),
				    error_local->message);
			return FALSE;
		}
		pr_sync_progress_bytes(data->progress, 0, len);
	} else if (lit->tmp != NULL) {
		stream = pr_store_body_batch_begin(data->batch, item->id, error);
		if (stream == NULL)
			return FALSE;
		if (!pr_sync_bodies_copy_tmp(lit, stream, error)) {
			pr_store_body_abort(store, item->id, stream);
			return FALSE;
		}
	} else {
		stream = g_steal_pointer(&lit->stream);
	}
	return pr_store_body_commit_deferred(
		data->batch, item->id, stream, PR_STORE_DOWNLOAD_COMPLETE, error);
}

/* Bodies now durable and marked: only now are they fetched. */
static void
pr_sync_bodies_note_flushed(BodiesData *data, GArray *flushed)
{
	g_autoptr(PrStoreMessage) message = NULL;
	g_autoptr(GError) error = NULL;

	if (flushed->len == 0)
		return;
	/* the change stamp of this flush, for pr_sync_bodies_folder_done() */
	message = pr_store_get_message(data->store, g_array_index(flushed, guint64, 0), &error);
	if (message != NULL)
		g_hash_table_add(data->own_stamps, g_memdup2(&message->changed, sizeof(guint64)));
	else
		g_debug("%s", error->message);
	g_array_append_vals(data->fetched, flushed->data, flushed->len);
	pr_sync_progress_messages(data->progress, 0, flushed->len);
}

static void
pr_sync_bodies_fetch_response(BodiesData *data, PrImapResponse *response)
{
	g_autoptr(PrImapFetch) fetch = NULL;
	const PrImapFetchSection *section = NULL;
	BodyLiteral *lit = NULL;
	BodyItem *item;
	GError *error = NULL;
	PrImapValueKind kind;

	fetch = pr_imap_response_parse_fetch(response, NULL);
	if (fetch == NULL)
		return; /* the command's own answer reports what is wrong */
	for (guint i = 0; i < fetch->sections->len; i++) {
		const PrImapFetchSection *s = g_ptr_array_index(fetch->sections, i);
		if (g_strcmp0(s->section, "BODY[]") == 0 && s->origin == 0)
			section = s;
	}
	if (section == NULL)
		return; /* a flag change, say */
	kind = pr_imap_value_get_kind(section->value);
	if (kind == PR_IMAP_VALUE_STREAMED) {
		lit = g_steal_pointer(&data->finished);
		if (lit == NULL || lit->seq != fetch->seq) {
			body_literal_free(lit, TRUE);
			return;
		}
	}
	item = (fetch->fields & PR_IMAP_FETCH_HAS_UID)
		       ? g_hash_table_lookup(data->by_uid, GUINT_TO_POINTER(fetch->uid))
		       : NULL;
	if (item == NULL || kind == PR_IMAP_VALUE_NIL || (lit != NULL && lit->discard) ||
	    (lit != NULL && lit->tmp == NULL && lit->id != item->id)) {
		body_literal_free(lit, TRUE);
		return;
	}
	if (!pr_sync_bodies_commit(data, item, section->value, lit, &error)) {
		body_literal_free(lit, TRUE);
		pr_sync_bodies_note_error(data, error);
		return;
	}
	body_literal_free(lit, FALSE);
	g_hash_table_remove(data->by_uid, GUINT_TO_POINTER(item->uid));
}

/* Each untagged response of our FETCH commands, as it completes; FETCH ones are consumed. */
static gboolean
pr_sync_bodies_untagged_cb(PrImapResponse *response, gpointer user_data)
{
	BodiesData *data = user_data;

	if (!data->active || g_strcmp0(pr_imap_response_get_keyword(response), "FETCH") != 0)
		return FALSE;
	pr_sync_bodies_fetch_response(data, response);
	return TRUE;
}

/* Driving the commands ------------------------------------------------------------------ */

static void
pr_sync_bodies_stop(BodiesData *data)
{
	PrSync *self = data->self;

	data->active = FALSE;
	/* A literal still open means the connection died inside it: the parser ends it
	 * (aborted) only when it is reset, and refuses a new sink until then, so ours stays
	 * installed, inactive, until the next connect. */
	if (data->sink_installed && data->open == NULL) {
		pr_imap_client_set_literal_sink(self->client, NULL, NULL, NULL);
		data->sink_installed = FALSE;
	}
}

static void pr_sync_bodies_flush_cb(GObject *source, GAsyncResult *res, gpointer user_data);

static void
pr_sync_bodies_return_now(BodiesData *data, GError *error)
{
	g_autoptr(GTask) task = NULL;
	PrSync *self = data->self;

	/* whatever ended the download, the bodies that arrived whole are kept: the last
	 * flush syncs in the store's worker thread too, and its end comes back here */
	if (pr_store_body_batch_get_pending(data->batch) > 0) {
		data->return_pending = TRUE;
		data->return_error = error;
		data->flushing = TRUE;
		pr_store_bodies_flush_async(
			data->batch, pr_sync_bodies_flush_cb, bodies_data_ref(data));
		return;
	}
	task = g_steal_pointer(&data->task);
	self->busy = FALSE;
	if (error != NULL) {
		g_task_return_error(task, error);
		return;
	}
	g_task_return_pointer(task, g_array_ref(data->fetched), (GDestroyNotify)g_array_unref);
}

static void
pr_sync_bodies_return(BodiesData *data, GError *error)
{
	if (data->task == NULL || data->return_pending) {
		if (error != NULL)
			g_error_free(error);
		return;
	}
	data->failed = TRUE;
	pr_sync_bodies_stop(data);
	if (data->flushing) {
		/* the flush in flight ends it, so that its bodies are kept and counted */
		data->return_pending = TRUE;
		data->return_error = error;
		return;
	}
	pr_sync_bodies_return_now(data, error);
}

static void pr_sync_bodies_next_folder(BodiesData *data);
static void pr_sync_bodies_fetch_next(BodiesData *data);
static void pr_sync_bodies_flush_start(BodiesData *data);

/* The folder is done when every chunk has arrived and is durable. */
static void
pr_sync_bodies_advance(BodiesData *data)
{
	if (data->inflight == 0 && !data->flushing && data->next >= data->items->len)
		pr_sync_bodies_next_folder(data);
}

static void
pr_sync_bodies_flush_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	BodiesData *data = user_data;
	g_autoptr(GArray) flushed = g_array_new(FALSE, FALSE, sizeof(guint64));
	GError *error = NULL;

	data->flushing = FALSE;
	if (!pr_store_bodies_flush_finish(PR_STORE(source), res, flushed, &error)) {
		if (data->return_pending) {
			data->return_pending = FALSE;
			if (data->return_error == NULL)
				data->return_error = g_steal_pointer(&error);
			else
				g_warning("%s", error->message);
			g_clear_error(&error);
			pr_sync_bodies_return_now(data, g_steal_pointer(&data->return_error));
		} else {
			pr_sync_bodies_return(data, error);
		}
		bodies_data_unref(data);
		return;
	}
	pr_sync_bodies_note_flushed(data, flushed);
	if (data->return_pending) {
		data->return_pending = FALSE;
		pr_sync_bodies_return_now(data, g_steal_pointer(&data->return_error));
	} else if (data->task != NULL && !data->failed) {
		/* bodies that arrived while this flush synced */
		pr_sync_bodies_flush_start(data);
		pr_sync_bodies_advance(data);
	}
	bodies_data_unref(data);
}

/* Makes the bodies queued so far durable, in the background: the next chunk streams in
 * meanwhile. One flush at a time; what arrives during one waits for the next. */
static void
pr_sync_bodies_flush_start(BodiesData *data)
{
	if (data->flushing || pr_store_body_batch_get_pending(data->batch) == 0)
		return;
	data->flushing = TRUE;
	pr_store_bodies_flush_async(data->batch, pr_sync_bodies_flush_cb, bodies_data_ref(data));
}

static void
pr_sync_bodies_fetch_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	BodiesData *data = user_data;
	g_autoptr(PrImapResponse) response = NULL;
	g_autoptr(GError) error = NULL;

	response = pr_imap_client_run_finish(PR_IMAP_CLIENT(source), res, NULL, &error);
	data->inflight--;
	if (data->failed || data->task == NULL) {
		bodies_data_unref(data);
		return;
	}
	if (data->error != NULL) {
		pr_sync_bodies_return(data, g_steal_pointer(&data->error));
		bodies_data_unref(data);
		return;
	}
	if (response == NULL) {
		if (!g_error_matches(error, PR_ERROR, PR_ERROR_SERVER_ERROR)) {
			pr_sync_bodies_return(data, g_steal_pointer(&error));
			bodies_data_unref(data);
			return;
		}
		/* some messages gone meanwhile: the others arrived and are committed */
		g_warning("%s: fetching bodies: %s", data->folder->name, error->message);
	}
	/* the next chunk streams in while this one is made durable */
	pr_sync_bodies_fetch_next(data);
	pr_sync_bodies_flush_start(data);
	pr_sync_bodies_advance(data);
	bodies_data_unref(data);
}

static void
pr_sync_bodies_fetch_next(BodiesData *data)
{
	PrSync *self = data->self;

	while (data->inflight < PR_SYNC_BODY_DEPTH && data->next < data->items->len) {
		g_autoptr(PrImapCommand) command = pr_sync_command_new(self, "UID FETCH");
		g_autoptr(GArray) uids = g_array_new(FALSE, FALSE, sizeof(guint32));
		guint64 bytes = 0;

		while (data->next < data->items->len && uids->len < PR_SYNC_BODY_CHUNK_MESSAGES &&
		       (uids->len == 0 || bytes < PR_SYNC_BODY_CHUNK_BYTES)) {
			BodyItem *item = &g_array_index(data->items, BodyItem, data->next++);
			g_array_append_val(uids, item->uid);
			bytes += item->size;
		}
		pr_imap_command_add_uid_set(command, &g_array_index(uids, guint32, 0), uids->len);
		pr_imap_command_add_atom(command, "(UID BODY.PEEK[])");
		data->inflight++;
		pr_sync_run_command_with_handler(self,
						 command,
						 pr_sync_bodies_untagged_cb,
						 data,
						 g_task_get_cancellable(data->task),
						 pr_sync_bodies_fetch_cb,
						 bodies_data_ref(data));
	}
}

static void
pr_sync_bodies_examine_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	BodiesData *data = user_data;
	g_autoptr(PrImapResponse) response = NULL;
	g_autoptr(GPtrArray) untagged = NULL;
	g_autoptr(GError) error = NULL;
	guint64 uidvalidity = 0;
	gboolean have_uidvalidity = FALSE;

	response = pr_imap_client_run_finish(PR_IMAP_CLIENT(source), res, &untagged, &error);
	if (data->failed || data->task == NULL) {
		bodies_data_unref(data);
		return;
	}
	if (response == NULL) {
		if (!g_error_matches(error, PR_ERROR, PR_ERROR_SERVER_ERROR)) {
			pr_sync_bodies_return(data, g_steal_pointer(&error));
			bodies_data_unref(data);
			return;
		}
		/* the folder is gone: its bodies are not fetched; the next sync removes it */
		g_warning("%s: %s", data->folder->name, error->message);
		pr_sync_bodies_next_folder(data);
		bodies_data_unref(data);
		return;
	}
	for (guint i = 0; i < untagged->len && !have_uidvalidity; i++) {
		have_uidvalidity = pr_imap_response_get_code_number(
			g_ptr_array_index(untagged, i), "UIDVALIDITY", &uidvalidity);
	}
	if (have_uidvalidity && uidvalidity != data->folder->uidvalidity) {
		/* the UIDs we hold mean other messages now: the next sync retires them */
		g_debug("%s: UIDVALIDITY changed; not fetching bodies", data->folder->name);
		pr_sync_bodies_next_folder(data);
		bodies_data_unref(data);
		return;
	}
	if (have_uidvalidity)
		pr_sync_select_done(
			data->self, data->folder, data->select_expect, (guint32)uidvalidity, TRUE);
	pr_sync_bodies_fetch_next(data);
	if (data->inflight == 0)
		pr_sync_bodies_next_folder(data);
	bodies_data_unref(data);
}

/*
 * Marking bodies complete stamps the messages with a new change counter, which would make
 * them look changed by the user at the next sync (pr-sync-seen.c), and that sync would
 * send their \Seen back to the server one by one. When nothing in the folder had changed
 * since its mark and every change in it since carries one of our flushes' stamps, the
 * mark moves past them. Changes elsewhere in the store (another folder, another
 * connection) do not matter: the mark is the folder's.
 */
static void
pr_sync_bodies_folder_start(BodiesData *data)
{
	PrSync *self = data->self;
	g_autoptr(GPtrArray) changed = NULL;
	g_autoptr(GError) error = NULL;
	PrStoreQuery query = { 0 };

	data->mark_clean = FALSE;
	g_hash_table_remove_all(data->own_stamps);
	if (!self->update_seen_flags)
		return;
	query.changed_since = pr_sync_seen_get_mark(self, data->folder->id);
	query.limit = 1;
	if (query.changed_since == 0)
		return;
	changed = pr_store_list_messages(self->store, data->folder->id, &query, &error);
	if (changed == NULL) {
		g_debug("%s", error->message);
		return;
	}
	data->mark_clean = changed->len == 0;
	data->mark_counter = pr_store_get_change_counter(self->store);
}

static void
pr_sync_bodies_folder_done(BodiesData *data)
{
	PrSync *self = data->self;
	g_autoptr(GArray) changes = NULL;
	g_autoptr(GError) error = NULL;

	if (data->folder == NULL || !data->mark_clean || g_hash_table_size(data->own_stamps) == 0)
		return;
	changes = pr_store_get_changes_since(
		self->store, data->folder->id, data->mark_counter, &error);
	if (changes == NULL) {
		g_debug("%s", error->message);
		return;
	}
	for (guint i = 0; i < changes->len; i++) {
		PrStoreChange *change = &g_array_index(changes, PrStoreChange, i);
		if (!g_hash_table_contains(data->own_stamps, &change->changed))
			return; /* changed by someone else too */
	}
	if (!pr_sync_seen_set_mark(
		    self, data->folder->id, pr_store_get_change_counter(self->store), &error))
		g_warning("%s", error->message);
}

static void
pr_sync_bodies_next_folder(BodiesData *data)
{
	PrSync *self = data->self;
	g_autoptr(PrImapCommand) command = NULL;
	GError *error = NULL;
	gint64 folder_id;
	GArray *items;

	if (g_cancellable_set_error_if_cancelled(g_task_get_cancellable(data->task), &error)) {
		pr_error_convert(&error);
		pr_sync_bodies_return(data, error);
		return;
	}
	pr_sync_bodies_folder_done(data);
	if (data->folder_idx >= data->folder_ids->len) {
		pr_sync_bodies_return(data, NULL);
		return;
	}
	folder_id = g_array_index(data->folder_ids, gint64, data->folder_idx++);
	items = g_hash_table_lookup(data->by_folder, &folder_id);
	g_clear_pointer(&data->folder, pr_store_folder_free);
	data->folder = pr_store_get_folder_by_id(self->store, folder_id, &error);
	if (data->folder == NULL) {
		pr_sync_bodies_return(data, error);
		return;
	}
	g_clear_pointer(&data->items, g_array_unref);
	data->items = g_array_ref(items);
	data->next = 0;
	g_hash_table_remove_all(data->by_uid);
	for (guint i = 0; i < items->len; i++) {
		BodyItem *item = &g_array_index(items, BodyItem, i);
		g_hash_table_insert(data->by_uid, GUINT_TO_POINTER(item->uid), item);
	}
	pr_sync_bodies_folder_start(data);
	pr_sync_progress_folder(data->progress, data->folder->name);
	if (pr_sync_is_selected(self, data->folder, FALSE)) {
		/* the sync that listed these messages left it selected, UIDVALIDITY checked */
		pr_sync_bodies_fetch_next(data);
		return;
	}
	/* read-only is enough: BODY.PEEK leaves \Seen alone */
	data->select_expect = pr_sync_select_expect(self);
	command = pr_sync_command_new(self, "EXAMINE");
	if (!pr_sync_command_add_folder(self, command, data->folder, &error)) {
		pr_sync_bodies_return(data, error);
		return;
	}
	pr_sync_run_command(self,
			    command,
			    g_task_get_cancellable(data->task),
			    pr_sync_bodies_examine_cb,
			    bodies_data_ref(data));
}

static gint
pr_sync_body_item_desc_cb(gconstpointer a, gconstpointer b)
{
	const BodyItem *x = a;
	const BodyItem *y = b;
	return x->uid > y->uid ? -1 : (x->uid < y->uid ? 1 : 0);
}

/* Groups @ids by folder; complete and local ones are left out. */
static gboolean
pr_sync_bodies_plan(BodiesData *data, const guint64 *ids, gsize n_ids, GError **error)
{
	PrSync *self = data->self;
	g_autoptr(GHashTable) seen =
		g_hash_table_new_full(g_int64_hash, g_int64_equal, g_free, NULL);
	guint64 bytes = 0;
	guint messages = 0;

	for (gsize i = 0; i < n_ids; i++) {
		g_autoptr(PrStoreMessage) message = NULL;
		GArray *items;
		BodyItem item = { 0 };

		if (g_hash_table_contains(seen, &ids[i]))
			continue;
		g_hash_table_add(seen, g_memdup2(&ids[i], sizeof(guint64)));
		message = pr_store_get_message(self->store, ids[i], error);
		if (message == NULL)
			return FALSE;
		if (message->download == PR_STORE_DOWNLOAD_COMPLETE || message->uid == 0)
			continue;
		items = g_hash_table_lookup(data->by_folder, &message->folder_id);
		if (items == NULL) {
			gint64 *key = g_memdup2(&message->folder_id, sizeof(gint64));
			items = g_array_new(FALSE, FALSE, sizeof(BodyItem));
			g_hash_table_insert(data->by_folder, key, items);
			g_array_append_val(data->folder_ids, message->folder_id);
		}
		item.id = message->id;
		item.uid = message->uid;
		item.size = message->size;
		g_array_append_val(items, item);
		bytes += message->size;
		messages++;
	}
	for (guint i = 0; i < data->folder_ids->len; i++) {
		gint64 folder_id = g_array_index(data->folder_ids, gint64, i);
		g_array_sort(g_hash_table_lookup(data->by_folder, &folder_id),
			     pr_sync_body_item_desc_cb);
	}
	pr_sync_progress_bytes(data->progress, bytes, 0);
	pr_sync_progress_messages(data->progress, messages, 0);
	return TRUE;
}

void
pr_sync_fetch_bodies_async(PrSync *self,
			   const guint64 *ids,
			   gsize n_ids,
			   PrProgress *progress,
			   GCancellable *cancellable,
			   GAsyncReadyCallback callback,
			   gpointer user_data)
{
	g_autoptr(GTask) task = NULL;
	BodiesData *data;
	GError *error = NULL;

	g_return_if_fail(PR_IS_SYNC(self));
	g_return_if_fail(ids != NULL || n_ids == 0);

	task = g_task_new(self, cancellable, callback, user_data);
	g_task_set_source_tag(task, pr_sync_fetch_bodies_async);
	g_task_set_check_cancellable(task, FALSE);
	if (self->busy) {
		g_task_return_new_error(
			task, PR_ERROR, PR_ERROR_BUSY, _("A synchronisation is already running"));
		return;
	}
	data = g_new0(BodiesData, 1);
	data->refcount = 1;
	data->self = self;
	data->store = g_object_ref(self->store);
	data->progress = progress != NULL ? g_object_ref(progress) : NULL;
	data->by_folder = g_hash_table_new_full(
		g_int64_hash, g_int64_equal, g_free, (GDestroyNotify)g_array_unref);
	data->folder_ids = g_array_new(FALSE, FALSE, sizeof(gint64));
	data->by_uid = g_hash_table_new(g_direct_hash, g_direct_equal);
	data->fetched = g_array_new(FALSE, FALSE, sizeof(guint64));
	data->batch = pr_store_body_batch_new(self->store);
	data->own_stamps = g_hash_table_new_full(g_int64_hash, g_int64_equal, g_free, NULL);
	g_task_set_task_data(task, data, (GDestroyNotify)bodies_data_unref);

	pr_sync_progress_stage(progress, "fetching");
	if (!pr_sync_bodies_plan(data, ids, n_ids, &error)) {
		g_task_return_error(task, error);
		return;
	}
	if (data->folder_ids->len == 0) {
		g_task_return_pointer(
			task, g_array_ref(data->fetched), (GDestroyNotify)g_array_unref);
		return;
	}
	if (pr_imap_client_get_state(self->client) == PR_IMAP_CLIENT_STATE_DISCONNECTED) {
		g_task_return_new_error(
			task, PR_ERROR, PR_ERROR_NOT_CONNECTED, _("Not connected to the server"));
		return;
	}
	self->busy = TRUE;
	data->task = g_steal_pointer(&task);
	data->active = TRUE;
	pr_imap_client_set_literal_sink(self->client,
					&pr_sync_bodies_sink,
					bodies_data_ref(data),
					(GDestroyNotify)bodies_data_unref);
	data->sink_installed = TRUE;
	pr_sync_bodies_next_folder(data);
}

gboolean
pr_sync_fetch_bodies_finish(PrSync *self, GAsyncResult *res, GArray **fetched, GError **error)
{
	g_autoptr(GArray) ids = NULL;

	g_return_val_if_fail(PR_IS_SYNC(self), FALSE);
	g_return_val_if_fail(g_task_is_valid(res, self), FALSE);
	ids = g_task_propagate_pointer(G_TASK(res), error);
	if (ids == NULL)
		return FALSE;
	if (fetched != NULL)
		*fetched = g_steal_pointer(&ids);
	return TRUE;
}
