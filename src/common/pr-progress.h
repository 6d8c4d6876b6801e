/*
 * Copyright 2026 The Postroom developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <glib-object.h>

G_BEGIN_DECLS

#define PR_TYPE_PROGRESS (pr_progress_get_type())
G_DECLARE_FINAL_TYPE(PrProgress, pr_progress, PR, PROGRESS, GObject)

/*
 * The counters of one operation, shared by every piece of work it runs. Workers add to
 * the totals as they learn them and to the done counters as they go; "changed" is
 * emitted on every change (the D-Bus layer throttles what it sends). The fraction is
 * derived: bytes when a byte total is known, else messages, else folders, else -1.
 */
PrProgress *pr_progress_new(void);
void pr_progress_set_stage(PrProgress *self, const gchar *stage);
const gchar *pr_progress_get_stage(PrProgress *self);
void pr_progress_set_folder(PrProgress *self, const gchar *folder);
const gchar *pr_progress_get_folder(PrProgress *self);
void pr_progress_add_folders_total(PrProgress *self, guint n);
void pr_progress_add_folders_done(PrProgress *self, guint n);
void pr_progress_add_messages_total(PrProgress *self, guint n);
void pr_progress_add_messages_done(PrProgress *self, guint n);
void pr_progress_add_bytes_total(PrProgress *self, guint64 n);
void pr_progress_add_bytes_done(PrProgress *self, guint64 n);
guint pr_progress_get_folders_done(PrProgress *self);
guint pr_progress_get_folders_total(PrProgress *self);
guint pr_progress_get_messages_done(PrProgress *self);
guint pr_progress_get_messages_total(PrProgress *self);
guint64 pr_progress_get_bytes_done(PrProgress *self);
guint64 pr_progress_get_bytes_total(PrProgress *self);
/* 0..1, or -1 when no total is known. Never decreases while totals only grow. */
gdouble pr_progress_get_fraction(PrProgress *self);
/* Mark everything done (fraction 1). */
void pr_progress_finish(PrProgress *self);

G_END_DECLS
