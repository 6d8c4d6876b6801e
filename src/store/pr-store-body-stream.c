/*
 * Copyright 2026 The Postroom developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#define G_LOG_DOMAIN "PrStore"

#include <errno.h>
#include <glib/gstdio.h>
#include <unistd.h>

#include "pr-store-body-stream.h"

struct _PrStoreBodyStream {
	GOutputStream parent_instance;
	gint fd;
	guint64 id;
	gchar *tmp_path;
	gboolean done;
};

G_DEFINE_TYPE(PrStoreBodyStream, pr_store_body_stream, G_TYPE_OUTPUT_STREAM)

static gssize
pr_store_body_stream_write_fn(GOutputStream *stream,
			      const void *buffer,
			      gsize count,
			      GCancellable *cancellable,
			      GError **error)
{
	PrStoreBodyStream *self = PR_STORE_BODY_STREAM(stream);
	gssize written;

	if (g_cancellable_set_error_if_cancelled(cancellable, error))
		return -1;
	do
		written = write(self->fd, buffer, count);
	while (written < 0 && errno == EINTR);
	if (written < 0) {
		gint errsv = errno;
		g_set_error_literal(
			error, G_IO_ERROR, g_io_error_from_errno(errsv), g_strerror(errsv));
	}
	return written;
}

static gboolean
pr_store_body_stream_close_fn(GOutputStream *stream, GCancellable *cancellable, GError **error)
{
	PrStoreBodyStream *self = PR_STORE_BODY_STREAM(stream);
	gint fd = self->fd;

	self->fd = -1;
	/* Linux releases the descriptor even when close() fails; never retry */
	if (fd >= 0 && close(fd) != 0 && errno != EINTR) {
		gint errsv = errno;
		g_set_error_literal(
			error, G_IO_ERROR, g_io_error_from_errno(errsv), g_strerror(errsv));
		return FALSE;
	}
	return TRUE;
}

static void
pr_store_body_stream_finalize(GObject *object)
{
	PrStoreBodyStream *self = PR_STORE_BODY_STREAM(object);

	/* GOutputStream's dispose closed the descriptor; a stream dropped without commit or
	 * abort leaves no temporary file behind */
	if (!self->done && self->tmp_path != NULL && g_unlink(self->tmp_path) != 0 &&
	    errno != ENOENT)
		g_debug("failed to remove %s: %s", self->tmp_path, g_strerror(errno));
	g_free(self->tmp_path);
	G_OBJECT_CLASS(pr_store_body_stream_parent_class)->finalize(object);
}

static void
pr_store_body_stream_class_init(PrStoreBodyStreamClass *klass)
{
	GObjectClass *object_class = G_OBJECT_CLASS(klass);
	GOutputStreamClass *stream_class = G_OUTPUT_STREAM_CLASS(klass);

	object_class->finalize = pr_store_body_stream_finalize;
	stream_class->write_fn = pr_store_body_stream_write_fn;
	stream_class->close_fn = pr_store_body_stream_close_fn;
}

static void
pr_store_body_stream_init(PrStoreBodyStream *self)
{
	self->fd = -1;
}

PrStoreBodyStream *
pr_store_body_stream_new(gint fd, guint64 id, gchar *tmp_path)
{
	PrStoreBodyStream *self = g_object_new(PR_TYPE_STORE_BODY_STREAM, NULL);

	self->fd = fd;
	self->id = id;
	self->tmp_path = tmp_path;
	return self;
}

gint
pr_store_body_stream_get_fd(PrStoreBodyStream *self)
{
	g_return_val_if_fail(PR_IS_STORE_BODY_STREAM(self), -1);
	return self->fd;
}

guint64
pr_store_body_stream_get_id(PrStoreBodyStream *self)
{
	g_return_val_if_fail(PR_IS_STORE_BODY_STREAM(self), 0);
	return self->id;
}

const gchar *
pr_store_body_stream_get_tmp_path(PrStoreBodyStream *self)
{
	g_return_val_if_fail(PR_IS_STORE_BODY_STREAM(self), NULL);
	return self->tmp_path;
}

gboolean
pr_store_body_stream_get_done(PrStoreBodyStream *self)
{
	g_return_val_if_fail(PR_IS_STORE_BODY_STREAM(self), TRUE);
	return self->done;
}

void
pr_store_body_stream_set_done(PrStoreBodyStream *self)
{
	g_return_if_fail(PR_IS_STORE_BODY_STREAM(self));
	self->done = TRUE;
}
