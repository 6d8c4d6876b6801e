/*
 * Copyright 2026 The Postroom developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <gio/gio.h>

#include "pr-progress.h"

G_BEGIN_DECLS

#define PR_TYPE_OPERATION (pr_operation_get_type())
G_DECLARE_FINAL_TYPE(PrOperation, pr_operation, PR, OPERATION, GObject)

/*
 * One org.postroom.Postroom1.Imap4Operation: exported at creation (state "queued"),
 * running, then ended once; it stays exported for the linger time and then removes
 * itself. Its PrProgress is fed by the work and mirrored onto the bus at most 10 times a
 * second. The "completed" signal (GError or NULL) lets the scheduler go on.
 */
PrOperation *pr_operation_new(GDBusObjectManagerServer *manager,
			      guint64 number,
			      const gchar *kind,
			      const gchar *service_path);
const gchar *pr_operation_get_path(PrOperation *self);
const gchar *pr_operation_get_kind(PrOperation *self);
PrProgress *pr_operation_get_progress(PrOperation *self);
GCancellable *pr_operation_get_cancellable(PrOperation *self);
void pr_operation_set_cancelable(PrOperation *self, gboolean cancelable);
/* queued -> running */
void pr_operation_start(PrOperation *self);
gboolean pr_operation_is_finished(PrOperation *self);
/* Add a key to Result (published at the next progress flush or at completion). */
void pr_operation_set_result_value(PrOperation *self, const gchar *key, GVariant *value);
/* Ends the operation: success when @error is NULL, "cancelled" for a Cancelled error. */
void pr_operation_complete(PrOperation *self, const GError *error);
/* Seconds a finished operation stays exported (60; tests shorten it). */
void pr_operation_set_linger(guint seconds);

G_END_DECLS
