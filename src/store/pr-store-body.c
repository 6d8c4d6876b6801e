/*
 * Copyright 2026 The Postroom developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#define G_LOG_DOMAIN "PrStore"

#include <errno.h>
#include <fcntl.h>
#include <glib/gi18n-lib.h>
#include <glib/gstdio.h>
#include <unistd.h>

#include "pr-error.h"
#include "pr-store-body-stream.h"
#include "pr-store-private.h"

/* A body committed with pr_store_body_commit_deferred(), waiting for the flush in its
 * temporary file; the flush renames it (see pr_store_bodies_flush_prepare()). */
typedef struct {
	guint64 id;
	gchar *tmp_path; /* NULL once renamed */
	gchar *path;
	PrStoreDownload download;
} PrStoreDeferred;

struct _PrStoreBodyBatch {
	PrStore *store;
	GPtrArray *deferred; /* of PrStoreDeferred */
};

static void
pr_store_deferred_free(gpointer data)
{
	PrStoreDeferred *deferred = data;
	g_free(deferred->tmp_path);
	g_free(deferred->path);
	g_free(deferred);
}

/* Message bodies ------------------------------------------------------------------------ */

/* STMT_MESSAGE_MISSING spells PR_STORE_DOWNLOAD_COMPLETE as 2, for its partial index */
G_STATIC_ASSERT(PR_STORE_DOWNLOAD_COMPLETE == 2);

gchar *
pr_store_get_body_path(PrStore *self, guint64 id)
{
	g_return_val_if_fail(PR_IS_STORE(self), NULL);
	/* only the numeric id: no server-provided string ever reaches a path */
	return g_strdup_printf(
		"%s/%02x/%" G_GUINT64_FORMAT ".eml", self->messages_dir, (guint)(id % 256), id);
}

static gchar *
pr_store_bucket_path(PrStore *self, guint bucket)
{
	return g_strdup_printf("%s/%02x", self->messages_dir, bucket);
}

/* O_CREAT | O_EXCL with a random suffix, mode 0600; *tmp_path is the name tried. */
static gint
pr_store_body_mkstemp(PrStore *self, guint64 id, gchar **tmp_path)
{
	*tmp_path = g_strdup_printf("%s/%02x/.%" G_GUINT64_FORMAT ".eml.tmp-XXXXXX",
				    self->messages_dir,
				    (guint)(id % 256),
				    id);
	return g_mkstemp_full(*tmp_path, O_WRONLY | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY, 0600);
}

/* A new temporary file for the body of @id, its bucket made on first use. */
static GOutputStream *
pr_store_body_create(PrStore *self, guint64 id, GError **error)
{
	g_autofree gchar *tmp_path = NULL;
	gint fd = pr_store_body_mkstemp(self, id, &tmp_path);

	if (fd < 0 && errno == ENOENT) {
		/* the bucket is made on first use */
		g_autofree gchar *bucket = pr_store_bucket_path(self, (guint)(id % 256));
		if (g_mkdir(bucket, 0700) != 0 && errno != EEXIST) {
			pr_store_set_errno_error(error, errno, _("Cannot create %s"), bucket);
			return NULL;
		}
		g_clear_pointer(&tmp_path, g_free);
		fd = pr_store_body_mkstemp(self, id, &tmp_path);
	}
	if (fd < 0) {
		pr_store_set_errno_error(error, errno, _("Cannot create %s"), tmp_path);
		return NULL;
	}
	self->open_bodies++;
	return G_OUTPUT_STREAM(pr_store_body_stream_new(fd, id, g_steal_pointer(&tmp_path)));
}

GOutputStream *
pr_store_body_begin(PrStore *self, guint64 id, GError **error)
{
	gboolean exists = FALSE;

	g_return_val_if_fail(PR_IS_STORE(self), NULL);

	if (!pr_store_message_exists(self, id, &exists, error))
		return NULL;
	if (!exists) {
		pr_store_set_message_error(error, id);
		return NULL;
	}
	return pr_store_body_create(self, id, error);
}

static PrStoreBodyStream *
pr_store_body_get(guint64 id, GOutputStream *stream, GError **error)
{
	PrStoreBodyStream *body = NULL;

	if (PR_IS_STORE_BODY_STREAM(stream))
		body = PR_STORE_BODY_STREAM(stream);
	if (body == NULL || pr_store_body_stream_get_done(body) ||
	    pr_store_body_stream_get_id(body) != id) {
		g_set_error(error,
			    PR_ERROR,
			    PR_ERROR_INVALID_ARGUMENT,
			    _("Not an open body stream of message %llu"),
			    (unsigned long long)id);
		return NULL;
	}
	return body;
}

static void
pr_store_body_discard(PrStore *self, PrStoreBodyStream *body)
{
	GOutputStream *stream = G_OUTPUT_STREAM(body);
	const gchar *tmp_path = pr_store_body_stream_get_tmp_path(body);

	if (!g_output_stream_is_closed(stream))
		g_output_stream_close(stream, NULL, NULL);
	if (g_unlink(tmp_path) != 0 && errno != ENOENT)
		g_warning("failed to remove %s: %s", tmp_path, g_strerror(errno));
	pr_store_body_stream_set_done(body);
	self->open_bodies--;
}

/* Ends the writing of the temporary file: flushed, synced when @sync, closed. */
static gboolean
pr_store_body_close_file(PrStoreBodyStream *body, gboolean sync, GError **error)
{
	GOutputStream *stream = G_OUTPUT_STREAM(body);
	g_autoptr(GError) error_local = NULL;

	if (!g_output_stream_flush(stream, NULL, &error_local)) {
		g_set_error(error,
			    PR_ERROR,
			    PR_ERROR_STORE_FAILED,
			    _("Cannot write %s: %s"),
			    pr_store_body_stream_get_tmp_path(body),
			    error_local->message);
		return FALSE;
	}
	if (sync)
		pr_store_test_event("fdatasync");
	if (sync && fdatasync(pr_store_body_stream_get_fd(body)) != 0) {
		pr_store_set_errno_error(
			error, errno, _("Cannot sync %s"), pr_store_body_stream_get_tmp_path(body));
		return FALSE;
	}
	if (!g_output_stream_close(stream, NULL, &error_local)) {
		g_set_error(error,
			    PR_ERROR,
			    PR_ERROR_STORE_FAILED,
			    _("Cannot write %s: %s"),
			    pr_store_body_stream_get_tmp_path(body),
			    error_local->message);
		return FALSE;
	}
	return TRUE;
}

/* Makes what was written under directory @path durable: its names (fsync of the
 * directory: a rename is not durable until its directory is) or, with @whole_fs, every
 * dirty page of its file system, data and metadata (syncfs). */
static gboolean
pr_store_sync_dir(const gchar *path, gboolean whole_fs, GError **error)
{
	gint fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);

	pr_store_test_event(whole_fs ? "syncfs" : "fsync");
	if (fd < 0 || (whole_fs ? syncfs(fd) : fsync(fd)) != 0) {
		gint errsv = errno;
		if (fd >= 0)
			close(fd);
		pr_store_set_errno_error(error, errsv, _("Cannot sync %s"), path);
		return FALSE;
	}
	close(fd);
	return TRUE;
}

/* The file part of a commit: complete and durable under its final name, or gone. */
static gboolean
pr_store_body_finish_file(PrStore *self, PrStoreBodyStream *body, const gchar *path, GError **error)
{
	guint64 id = pr_store_body_stream_get_id(body);
	g_autofree gchar *bucket = pr_store_bucket_path(self, (guint)(id % 256));

	if (!pr_store_body_close_file(body, TRUE, error))
		return FALSE;
	if (g_rename(pr_store_body_stream_get_tmp_path(body), path) != 0) {
		pr_store_set_errno_error(error,
					 errno,
					 _("Cannot rename %s"),
					 pr_store_body_stream_get_tmp_path(body));
		return FALSE;
	}
	if (!pr_store_sync_dir(bucket, FALSE, error)) {
		if (g_unlink(path) != 0 && errno != ENOENT)
			g_warning("failed to remove %s: %s", path, g_strerror(errno));
		return FALSE;
	}
	return TRUE;
}

/* Marks the body of @id as @download with the change stamp @changed; *found FALSE when
 * the message is gone. */
static gboolean
pr_store_body_mark(PrStore *self,
		   guint64 id,
		   PrStoreDownload download,
		   guint64 changed,
		   gboolean *found,
		   GError **error)
{
	g_autoptr(PrStoreStmt) stmt = pr_store_prepare(self, STMT_MESSAGE_SET_DOWNLOAD, error);

	if (stmt == NULL)
		return FALSE;
	sqlite3_bind_int(stmt, 1, (gint)download);
	sqlite3_bind_int64(stmt, 2, (gint64)changed);
	sqlite3_bind_int64(stmt, 3, (gint64)id);
	if (!pr_store_step_done(self, stmt, error))
		return FALSE;
	*found = sqlite3_changes(self->db) > 0;
	return TRUE;
}

gboolean
pr_store_body_commit(PrStore *self,
		     guint64 id,
		     GOutputStream *stream,
		     PrStoreDownload download,
		     GError **error)
{
	g_autofree gchar *path = NULL;
	gboolean found = FALSE;
	PrStoreBodyStream *body;

	g_return_val_if_fail(PR_IS_STORE(self), FALSE);

	body = pr_store_body_get(id, stream, error);
	if (body == NULL)
		return FALSE;
	path = pr_store_get_body_path(self, id);
	if (!pr_store_body_finish_file(self, body, path, error)) {
		pr_store_body_discard(self, body);
		return FALSE;
	}
	pr_store_body_stream_set_done(body);
	self->open_bodies--;

	/* only now may the index point at the file */
	if (!pr_store_begin(self, error))
		return FALSE;
	if (pr_store_body_mark(self, id, download, pr_store_next_change(self), &found, error) &&
	    !found) {
		/* the message went away while its body was downloading */
		pr_store_set_message_error(error, id);
	}
	if (!found) {
		pr_store_rollback(self);
		if (g_unlink(path) != 0 && errno != ENOENT)
			g_warning("failed to remove %s: %s", path, g_strerror(errno));
		return FALSE;
	}
	self->counter = pr_store_next_change(self);
	return pr_store_commit(self, error);
}

static void
pr_store_unlink_quietly(const gchar *path)
{
	if (path != NULL && g_unlink(path) != 0 && errno != ENOENT)
		g_warning("failed to remove %s: %s", path, g_strerror(errno));
}

PrStoreBodyBatch *
pr_store_body_batch_new(PrStore *self)
{
	PrStoreBodyBatch *batch;

	g_return_val_if_fail(PR_IS_STORE(self), NULL);

	batch = g_new0(PrStoreBodyBatch, 1);
	batch->store = g_object_ref(self);
	batch->deferred = g_ptr_array_new_with_free_func(pr_store_deferred_free);
	return batch;
}

/* Removes what @deferred left on disk, unless the index points at it (the final name may
 * since have been taken by a body committed another way). */
static void
pr_store_deferred_remove(PrStore *self, PrStoreDeferred *deferred)
{
	g_autoptr(GError) error_local = NULL;
	gboolean referenced = TRUE;

	pr_store_unlink_quietly(deferred->tmp_path);
	if (deferred->tmp_path != NULL)
		return;
	if (!pr_store_body_referenced(self, deferred->id, &referenced, &error_local)) {
		/* the startup sweep decides, after an unclean shutdown */
		g_debug("keeping %s: %s", deferred->path, error_local->message);
		return;
	}
	if (!referenced)
		pr_store_unlink_quietly(deferred->path);
}

void
pr_store_body_batch_free(PrStoreBodyBatch *batch)
{
	if (batch == NULL)
		return;
	for (guint i = 0; i < batch->deferred->len; i++)
		pr_store_deferred_remove(batch->store, g_ptr_array_index(batch->deferred, i));
	g_ptr_array_unref(batch->deferred);
	g_object_unref(batch->store);
	g_free(batch);
}

guint
pr_store_body_batch_get_pending(PrStoreBodyBatch *batch)
{
	g_return_val_if_fail(batch != NULL, 0);
	return batch->deferred->len;
}

GOutputStream *
pr_store_body_batch_begin(PrStoreBodyBatch *batch, guint64 id, GError **error)
{
	g_return_val_if_fail(batch != NULL, NULL);
	/* whether the message still exists is the flush's question, asked once per batch */
	return pr_store_body_create(batch->store, id, error);
}

gboolean
pr_store_body_commit_deferred(PrStoreBodyBatch *batch,
			      guint64 id,
			      GOutputStream *stream,
			      PrStoreDownload download,
			      GError **error)
{
	PrStoreDeferred *deferred;
	PrStoreBodyStream *body;
	PrStore *self;

	g_return_val_if_fail(batch != NULL, FALSE);

	self = batch->store;
	body = pr_store_body_get(id, stream, error);
	if (body == NULL)
		return FALSE;
	if (!pr_store_body_close_file(body, FALSE, error)) {
		pr_store_body_discard(self, body);
		return FALSE;
	}
	deferred = g_new0(PrStoreDeferred, 1);
	deferred->id = id;
	deferred->tmp_path = g_strdup(pr_store_body_stream_get_tmp_path(body));
	deferred->path = pr_store_get_body_path(self, id);
	deferred->download = download;
	pr_store_body_stream_set_done(body);
	self->open_bodies--;
	g_ptr_array_add(batch->deferred, deferred);
	return TRUE;
}

/* A failed flush: nothing of @batch stays that the index does not point at. */
static void
pr_store_bodies_flush_undo(PrStore *self, GPtrArray *batch)
{
	for (guint i = 0; i < batch->len; i++)
		pr_store_deferred_remove(self, g_ptr_array_index(batch, i));
}

/*
 * The first part of a flush, before the sync: one read of the index for the whole batch.
 * A message gone meanwhile loses its file now; a body the index does not point at yet
 * takes its final name (it means nothing until the mark); one replacing a body the index
 * points at keeps its temporary name until after the sync.
 */
static gboolean
pr_store_bodies_flush_prepare(PrStore *self, GPtrArray *batch, GError **error)
{
	g_autoptr(GError) error_local = NULL;

	if (!pr_store_begin(self, error))
		return FALSE;
	for (guint i = 0; i < batch->len;) {
		PrStoreDeferred *deferred = g_ptr_array_index(batch, i);
		g_auto(PrStoreMessageState) state = { 0 };
		gboolean found = FALSE;

		if (!pr_store_message_state(self, deferred->id, 0, 0, &state, &found, error)) {
			pr_store_rollback(self);
			return FALSE;
		}
		if (!found) {
			pr_store_unlink_quietly(deferred->tmp_path);
			g_ptr_array_remove_index(batch, i);
			continue;
		}
		if (state.download == PR_STORE_DOWNLOAD_HEADERS) {
			if (g_rename(deferred->tmp_path, deferred->path) != 0) {
				pr_store_set_errno_error(
					error, errno, _("Cannot rename %s"), deferred->tmp_path);
				pr_store_rollback(self);
				return FALSE;
			}
			g_clear_pointer(&deferred->tmp_path, g_free);
		}
		i++;
	}
	/* nothing was written: ending the read cannot lose anything */
	if (!pr_store_commit(self, &error_local))
		g_debug("%s", error_local->message);
	return TRUE;
}

/* The index part of a flush: one transaction, one change stamp for the whole batch. */
static gboolean
pr_store_bodies_mark_all(PrStore *self, GPtrArray *batch, GArray *marked, GError **error)
{
	guint64 changed = pr_store_next_change(self);

	if (!pr_store_begin(self, error))
		return FALSE;
	for (guint i = 0; i < batch->len; i++) {
		PrStoreDeferred *deferred = g_ptr_array_index(batch, i);
		gboolean found = FALSE;
		if (!pr_store_body_mark(
			    self, deferred->id, deferred->download, changed, &found, error)) {
			pr_store_rollback(self);
			return FALSE;
		}
		if (found)
			g_array_append_val(marked, deferred->id);
	}
	if (marked->len > 0)
		self->counter = changed;
	return pr_store_commit(self, error);
}

/*
 * The file-system part of a flush, between the read of the index and its write: one sync
 * of the file system for the whole batch instead of one per file (the data and the names
 * it took, directory entries included), then the late names, synced again. It touches
 * nothing but the files of @batch, so the asynchronous flush runs it in a worker thread.
 */
static gboolean
pr_store_bodies_sync_files(const gchar *messages_dir, GPtrArray *batch, GError **error)
{
	gboolean late = FALSE;

	if (!pr_store_sync_dir(messages_dir, TRUE, error))
		return FALSE;
	for (guint i = 0; i < batch->len; i++) {
		PrStoreDeferred *deferred = g_ptr_array_index(batch, i);
		if (deferred->tmp_path == NULL)
			continue;
		if (g_rename(deferred->tmp_path, deferred->path) != 0) {
			pr_store_set_errno_error(
				error, errno, _("Cannot rename %s"), deferred->tmp_path);
			return FALSE;
		}
		g_clear_pointer(&deferred->tmp_path, g_free);
		late = TRUE;
	}
	return !late || pr_store_sync_dir(messages_dir, TRUE, error);
}

/* The index part of a flush, after the files are durable. */
static gboolean
pr_store_bodies_flush_complete(PrStore *self, GPtrArray *batch, GArray *flushed, GError **error)
{
	g_autoptr(GArray) marked = g_array_new(FALSE, FALSE, sizeof(guint64));
	guint m = 0;

	if (!pr_store_bodies_mark_all(self, batch, marked, error)) {
		pr_store_bodies_flush_undo(self, batch);
		return FALSE;
	}
	/* messages removed while their bodies were downloading: litter now */
	for (guint i = 0; i < batch->len; i++) {
		PrStoreDeferred *deferred = g_ptr_array_index(batch, i);
		if (m < marked->len && g_array_index(marked, guint64, m) == deferred->id) {
			m++;
			continue;
		}
		pr_store_unlink_quietly(deferred->path);
	}
	if (flushed != NULL)
		g_array_append_vals(flushed, marked->data, marked->len);
	return TRUE;
}

/* Takes what @body_batch holds, prepared for the sync; NULL when there is nothing. */
static GPtrArray *
pr_store_bodies_flush_take(PrStoreBodyBatch *body_batch, GError **error)
{
	g_autoptr(GPtrArray) batch = NULL;
	PrStore *self = body_batch->store;

	if (body_batch->deferred->len == 0)
		return NULL;
	batch = g_steal_pointer(&body_batch->deferred);
	body_batch->deferred = g_ptr_array_new_with_free_func(pr_store_deferred_free);
	if (!pr_store_bodies_flush_prepare(self, batch, error)) {
		pr_store_bodies_flush_undo(self, batch);
		return NULL;
	}
	return g_steal_pointer(&batch);
}

gboolean
pr_store_bodies_flush(PrStoreBodyBatch *body_batch, GArray *flushed, GError **error)
{
	g_autoptr(GPtrArray) batch = NULL;
	GError *error_local = NULL;
	PrStore *self;

	g_return_val_if_fail(body_batch != NULL, FALSE);

	self = body_batch->store;
	batch = pr_store_bodies_flush_take(body_batch, &error_local);
	if (batch == NULL) {
		if (error_local == NULL)
			return TRUE;
		g_propagate_error(error, error_local);
		return FALSE;
	}
	if (!pr_store_bodies_sync_files(self->messages_dir, batch, error)) {
		pr_store_bodies_flush_undo(self, batch);
		return FALSE;
	}
	return pr_store_bodies_flush_complete(self, batch, flushed, error);
}

/* The asynchronous flush: the syncs, which wait for the disk, run in a worker thread
 * (pr_store_bodies_sync_files()) while the caller goes on receiving; the index is read and
 * written on the caller's thread, before and after. */
typedef struct {
	GPtrArray *batch;
	gchar *dir;
} PrStoreFlushData;

static void
pr_store_flush_data_free(PrStoreFlushData *data)
{
	g_clear_pointer(&data->batch, g_ptr_array_unref);
	g_free(data->dir);
	g_free(data);
}

static void
pr_store_bodies_syncfs_thread(GTask *task,
			      gpointer source_object,
			      gpointer task_data,
			      GCancellable *cancellable)
{
	PrStoreFlushData *data = task_data; /* the flush's, which waits for this */
	GError *error = NULL;

	if (!pr_store_bodies_sync_files(data->dir, data->batch, &error)) {
		g_task_return_error(task, error);
		return;
	}
	g_task_return_boolean(task, TRUE);
}

static void
pr_store_bodies_synced_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	g_autoptr(GTask) task = user_data;
	PrStore *self = PR_STORE(source);
	PrStoreFlushData *data = g_task_get_task_data(task);
	g_autoptr(GArray) flushed = g_array_new(FALSE, FALSE, sizeof(guint64));
	GError *error = NULL;

	if (!g_task_propagate_boolean(G_TASK(res), &error)) {
		pr_store_bodies_flush_undo(self, data->batch);
		g_task_return_error(task, error);
		return;
	}
	if (!pr_store_bodies_flush_complete(self, data->batch, flushed, &error)) {
		g_task_return_error(task, error);
		return;
	}
	g_task_return_pointer(task, g_steal_pointer(&flushed), (GDestroyNotify)g_array_unref);
}

void
pr_store_bodies_flush_async(PrStoreBodyBatch *body_batch,
			    GAsyncReadyCallback callback,
			    gpointer user_data)
{
	g_autoptr(GTask) task = NULL;
	g_autoptr(GTask) sync_task = NULL;
	PrStoreFlushData *data;
	GError *error = NULL;
	PrStore *self;

	g_return_if_fail(body_batch != NULL);

	self = body_batch->store;
	task = g_task_new(self, NULL, callback, user_data);
	g_task_set_source_tag(task, pr_store_bodies_flush_async);
	data = g_new0(PrStoreFlushData, 1);
	g_task_set_task_data(task, data, (GDestroyNotify)pr_store_flush_data_free);
	data->batch = pr_store_bodies_flush_take(body_batch, &error);
	if (data->batch == NULL) {
		if (error != NULL)
			g_task_return_error(task, error);
		else
			g_task_return_pointer(task,
					      g_array_new(FALSE, FALSE, sizeof(guint64)),
					      (GDestroyNotify)g_array_unref);
		return;
	}
	/* not cancellable: bodies that arrived whole are kept whatever ends the download */
	data->dir = g_strdup(self->messages_dir);
	sync_task = g_task_new(self, NULL, pr_store_bodies_synced_cb, g_steal_pointer(&task));
	g_task_set_task_data(sync_task, data, NULL);
	g_task_run_in_thread(sync_task, pr_store_bodies_syncfs_thread);
}

gboolean
pr_store_bodies_flush_finish(PrStore *self, GAsyncResult *res, GArray *flushed, GError **error)
{
	g_autoptr(GArray) ids = NULL;

	g_return_val_if_fail(PR_IS_STORE(self), FALSE);
	g_return_val_if_fail(g_task_is_valid(res, self), FALSE);

	ids = g_task_propagate_pointer(G_TASK(res), error);
	if (ids == NULL)
		return FALSE;
	if (flushed != NULL)
		g_array_append_vals(flushed, ids->data, ids->len);
	return TRUE;
}

/* A single body committed asynchronously is a batch of one: the same flush, the same
 * worker thread for its syncs. */
static void
pr_store_body_committed_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	g_autoptr(GTask) task = user_data;
	g_autoptr(GArray) flushed = g_array_new(FALSE, FALSE, sizeof(guint64));
	const guint64 *id = g_task_get_task_data(task);
	GError *error = NULL;

	if (!pr_store_bodies_flush_finish(PR_STORE(source), res, flushed, &error)) {
		g_task_return_error(task, error);
		return;
	}
	if (flushed->len == 0) {
		/* the message went away while its body was downloading (the flush dropped
		 * the file) */
		pr_store_set_message_error(&error, *id);
		g_task_return_error(task, error);
		return;
	}
	g_task_return_boolean(task, TRUE);
}

void
pr_store_body_commit_async(PrStore *self,
			   guint64 id,
			   GOutputStream *stream,
			   PrStoreDownload download,
			   GAsyncReadyCallback callback,
			   gpointer user_data)
{
	g_autoptr(GTask) task = NULL;
	g_autoptr(PrStoreBodyBatch) batch = NULL;
	GError *error = NULL;

	g_return_if_fail(PR_IS_STORE(self));

	task = g_task_new(self, NULL, callback, user_data);
	g_task_set_source_tag(task, pr_store_body_commit_async);
	g_task_set_task_data(task, g_memdup2(&id, sizeof(id)), g_free);
	batch = pr_store_body_batch_new(self);
	if (!pr_store_body_commit_deferred(batch, id, stream, download, &error)) {
		g_task_return_error(task, error);
		return;
	}
	/* the flush takes the body before it returns: the batch may go then */
	pr_store_bodies_flush_async(batch, pr_store_body_committed_cb, g_steal_pointer(&task));
}

gboolean
pr_store_body_commit_finish(PrStore *self, GAsyncResult *res, GError **error)
{
	g_return_val_if_fail(PR_IS_STORE(self), FALSE);
	g_return_val_if_fail(g_task_is_valid(res, self), FALSE);

	return g_task_propagate_boolean(G_TASK(res), error);
}

void
pr_store_body_abort(PrStore *self, guint64 id, GOutputStream *stream)
{
	g_autoptr(GError) error_local = NULL;
	PrStoreBodyStream *body;

	g_return_if_fail(PR_IS_STORE(self));

	body = pr_store_body_get(id, stream, &error_local);
	if (body == NULL) {
		g_warning("%s", error_local->message);
		return;
	}
	pr_store_body_discard(self, body);
}

gint
pr_store_open_body(PrStore *self, guint64 id, GError **error)
{
	g_auto(PrStoreMessageState) state = { 0 };
	g_autofree gchar *path = NULL;
	gboolean found = FALSE;
	gint fd;

	g_return_val_if_fail(PR_IS_STORE(self), -1);

	if (!pr_store_message_state(self, id, 0, 0, &state, &found, error))
		return -1;
	if (!found) {
		pr_store_set_message_error(error, id);
		return -1;
	}
	path = pr_store_get_body_path(self, id);
	fd = state.download == PR_STORE_DOWNLOAD_HEADERS
		     ? -1
		     : open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY);
	if (fd >= 0)
		return fd;
	if (state.download == PR_STORE_DOWNLOAD_HEADERS || errno == ENOENT) {
		g_set_error(error,
			    PR_ERROR,
			    PR_ERROR_NOT_DOWNLOADED,
			    _("Message %llu has not been downloaded"),
			    (unsigned long long)id);
		return -1;
	}
	pr_store_set_errno_error(error, errno, _("Cannot open %s"), path);
	return -1;
}
