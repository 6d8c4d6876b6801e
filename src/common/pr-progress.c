/*
 * Copyright 2026 The Postroom developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#define G_LOG_DOMAIN "PrProgress"

#include "pr-progress.h"

struct _PrProgress {
	GObject parent_instance;
	gchar *stage;
	gchar *folder;
	guint folders_done, folders_total;
	guint messages_done, messages_total;
	guint64 bytes_done, bytes_total;
	gdouble last_fraction;
	gboolean finished;
};

G_DEFINE_TYPE(PrProgress, pr_progress, G_TYPE_OBJECT)

enum { SIGNAL_CHANGED, SIGNAL_LAST };
static guint signals[SIGNAL_LAST] = { 0 };

static void
pr_progress_changed(PrProgress *self)
{
	g_signal_emit(self, signals[SIGNAL_CHANGED], 0);
}

void
pr_progress_set_stage(PrProgress *self, const gchar *stage)
{
	g_return_if_fail(PR_IS_PROGRESS(self));
	if (g_strcmp0(self->stage, stage) == 0)
		return;
	g_free(self->stage);
	self->stage = g_strdup(stage);
	pr_progress_changed(self);
}

const gchar *
pr_progress_get_stage(PrProgress *self)
{
	g_return_val_if_fail(PR_IS_PROGRESS(self), NULL);
	return self->stage != NULL ? self->stage : "";
}

void
pr_progress_set_folder(PrProgress *self, const gchar *folder)
{
	g_return_if_fail(PR_IS_PROGRESS(self));
	if (g_strcmp0(self->folder, folder) == 0)
		return;
	g_free(self->folder);
	self->folder = g_strdup(folder);
	pr_progress_changed(self);
}

const gchar *
pr_progress_get_folder(PrProgress *self)
{
	g_return_val_if_fail(PR_IS_PROGRESS(self), NULL);
	return self->folder != NULL ? self->folder : "";
}

/* Counters saturate rather than wrap: a server can claim anything. */
#define PR_PROGRESS_ADD(field, n, max)                                                             \
	G_STMT_START                                                                               \
	{                                                                                          \
		g_return_if_fail(PR_IS_PROGRESS(self));                                            \
		if (n == 0)                                                                        \
			return;                                                                    \
		self->field = self->field > (max) - (n) ? (max) : self->field + (n);               \
		pr_progress_changed(self);                                                         \
	}                                                                                          \
	G_STMT_END

void
pr_progress_add_folders_total(PrProgress *self, guint n)
{
	PR_PROGRESS_ADD(folders_total, n, G_MAXUINT);
}

void
pr_progress_add_folders_done(PrProgress *self, guint n)
{
	PR_PROGRESS_ADD(folders_done, n, G_MAXUINT);
}

void
pr_progress_add_messages_total(PrProgress *self, guint n)
{
	PR_PROGRESS_ADD(messages_total, n, G_MAXUINT);
}

void
pr_progress_add_messages_done(PrProgress *self, guint n)
{
	PR_PROGRESS_ADD(messages_done, n, G_MAXUINT);
}

void
pr_progress_add_bytes_total(PrProgress *self, guint64 n)
{
	PR_PROGRESS_ADD(bytes_total, n, G_MAXUINT64);
}

void
pr_progress_add_bytes_done(PrProgress *self, guint64 n)
{
	PR_PROGRESS_ADD(bytes_done, n, G_MAXUINT64);
}

guint
pr_progress_get_folders_done(PrProgress *self)
{
	return self->folders_done;
}

guint
pr_progress_get_folders_total(PrProgress *self)
{
	return self->folders_total;
}

guint
pr_progress_get_messages_done(PrProgress *self)
{
	return self->messages_done;
}

guint
pr_progress_get_messages_total(PrProgress *self)
{
	return self->messages_total;
}

guint64
pr_progress_get_bytes_done(PrProgress *self)
{
	return self->bytes_done;
}

guint64
pr_progress_get_bytes_total(PrProgress *self)
{
	return self->bytes_total;
}

gdouble
pr_progress_get_fraction(PrProgress *self)
{
	gdouble fraction = -1;

	g_return_val_if_fail(PR_IS_PROGRESS(self), -1);
	if (self->finished)
		return 1;
	if (self->bytes_total > 0)
		fraction = (gdouble)MIN(self->bytes_done, self->bytes_total) / self->bytes_total;
	else if (self->messages_total > 0)
		fraction = (gdouble)MIN(self->messages_done, self->messages_total) /
			   self->messages_total;
	else if (self->folders_total > 0)
		fraction =
			(gdouble)MIN(self->folders_done, self->folders_total) / self->folders_total;
	if (fraction < 0)
		return self->last_fraction > 0 ? self->last_fraction : -1;
	/* all that is known is done, but more may come (the next folder's messages): only
	 * pr_progress_finish() says the operation is over */
	if (fraction > 0.99)
		fraction = 0.99;
	/* a total that grows must not make the bar jump back */
	if (fraction < self->last_fraction)
		fraction = self->last_fraction;
	self->last_fraction = fraction;
	return fraction;
}

void
pr_progress_finish(PrProgress *self)
{
	g_return_if_fail(PR_IS_PROGRESS(self));
	self->finished = TRUE;
	pr_progress_changed(self);
}

static void
pr_progress_finalize(GObject *object)
{
	PrProgress *self = PR_PROGRESS(object);
	g_free(self->stage);
	g_free(self->folder);
	G_OBJECT_CLASS(pr_progress_parent_class)->finalize(object);
}

static void
pr_progress_class_init(PrProgressClass *klass)
{
	GObjectClass *object_class = G_OBJECT_CLASS(klass);
	object_class->finalize = pr_progress_finalize;
	signals[SIGNAL_CHANGED] = g_signal_new("changed",
					       G_TYPE_FROM_CLASS(klass),
					       G_SIGNAL_RUN_LAST,
					       0,
					       NULL,
					       NULL,
					       NULL,
					       G_TYPE_NONE,
					       0);
}

static void
pr_progress_init(PrProgress *self)
{
	self->last_fraction = -1;
}

PrProgress *
pr_progress_new(void)
{
	return g_object_new(PR_TYPE_PROGRESS, NULL);
}
