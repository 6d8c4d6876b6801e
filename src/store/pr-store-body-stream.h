/*
 * Copyright 2026 The Postroom developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

/* The stream a body is written through: a plain file descriptor (a GUnixOutputStream
 * probes every descriptor for pollability with an epoll instance of its own, three system
 * calls per message) and the temporary file it belongs to. Internal to the store. */
#define PR_TYPE_STORE_BODY_STREAM (pr_store_body_stream_get_type())
G_DECLARE_FINAL_TYPE(PrStoreBodyStream, pr_store_body_stream, PR, STORE_BODY_STREAM, GOutputStream)

/* Takes @fd and @tmp_path; the file is deleted on finalize unless marked done. */
PrStoreBodyStream *pr_store_body_stream_new(gint fd, guint64 id, gchar *tmp_path);
gint pr_store_body_stream_get_fd(PrStoreBodyStream *self);
guint64 pr_store_body_stream_get_id(PrStoreBodyStream *self);
const gchar *pr_store_body_stream_get_tmp_path(PrStoreBodyStream *self);
gboolean pr_store_body_stream_get_done(PrStoreBodyStream *self);
/* Committed or discarded: finalize leaves the file alone. */
void pr_store_body_stream_set_done(PrStoreBodyStream *self);

G_END_DECLS
