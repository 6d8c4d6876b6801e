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
 * The progress of one operation, as a tree. A node given steps (pr_progress_add_step())
 * is done by the weight of its finished steps plus the current step's child
 * (pr_progress_get_child()) times that step's weight, over the total weight. A node
 * without steps is a leaf: its fraction is done/total in the first kind of total it is
 * given (bytes, messages or folders), which it keeps for its whole life.
 *
 * The counters, stage and folder set on any node add up at the root (they are the
 * operation's properties); every change emits "changed" on the node and each of its
 * ancestors (the D-Bus layer throttles what it sends).
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
/* 0..1, or -1 while nothing is known. Never decreases. A leaf stays below 1 until it is
 * finished (more may come); a node with steps is at 1 once every step is done. */
gdouble pr_progress_get_fraction(PrProgress *self);
/* Mark everything done (fraction 1). */
void pr_progress_finish(PrProgress *self);

/* Additions ----------------------------------------------------------------------------- */

/* Appends a step of @weight; @stage (may be NULL) becomes the stage when the step starts. */
void pr_progress_add_step(PrProgress *self, guint weight, const gchar *stage);
/* The progress of the current step (owned by @self), created on first use. */
PrProgress *pr_progress_get_child(PrProgress *self);
/* Finishes the current step (and its child) and starts the next one. */
void pr_progress_step_done(PrProgress *self);
guint pr_progress_get_n_steps(PrProgress *self);
/* Index of the current step; pr_progress_get_n_steps() once all are done. */
guint pr_progress_get_step(PrProgress *self);

G_END_DECLS
