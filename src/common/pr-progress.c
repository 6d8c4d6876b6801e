/*
 * Copyright 2026 The Postroom developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#define G_LOG_DOMAIN "PrProgress"

#include "pr-progress.h"

typedef enum {
	PR_PROGRESS_BASIS_NONE,
	PR_PROGRESS_BASIS_FOLDERS,
	PR_PROGRESS_BASIS_MESSAGES,
	PR_PROGRESS_BASIS_BYTES,
} PrProgressBasis;

typedef struct {
	guint weight;
	gchar *stage;
	PrProgress *child; /* created on demand */
} PrProgressStep;

struct _PrProgress {
	GObject parent_instance;
	PrProgress *parent; /* not a reference: a parent owns its children */
	gchar *stage;
	gchar *folder;
	/* this node's and its descendants' */
	guint folders_done, folders_total;
	guint messages_done, messages_total;
	guint64 bytes_done, bytes_total;
	PrProgressBasis basis; /* a leaf's: the first kind of total given to it */
	GArray *steps;	       /* of PrProgressStep */
	guint step;	       /* the current one */
	guint64 weight_total;
	gdouble last_fraction;
	gboolean finished;
};

G_DEFINE_TYPE(PrProgress, pr_progress, G_TYPE_OBJECT)

enum { SIGNAL_CHANGED, SIGNAL_LAST };
static guint signals[SIGNAL_LAST] = { 0 };

/* Whoever watches an ancestor sees every change below it. */
static void
pr_progress_changed(PrProgress *self)
{
	for (PrProgress *p = self; p != NULL; p = p->parent)
		g_signal_emit(p, signals[SIGNAL_CHANGED], 0);
}

/* Sets *@field of @self and its ancestors; TRUE when any of them changed. */
static gboolean
pr_progress_set_string(PrProgress *self, gsize offset, const gchar *value)
{
	gboolean changed = FALSE;

	for (PrProgress *p = self; p != NULL; p = p->parent) {
		gchar **field = G_STRUCT_MEMBER_P(p, offset);
		if (g_strcmp0(*field, value) == 0)
			continue;
		g_free(*field);
		*field = g_strdup(value);
		changed = TRUE;
	}
	return changed;
}

void
pr_progress_set_stage(PrProgress *self, const gchar *stage)
{
	g_return_if_fail(PR_IS_PROGRESS(self));
	if (pr_progress_set_string(self, G_STRUCT_OFFSET(PrProgress, stage), stage))
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
	if (pr_progress_set_string(self, G_STRUCT_OFFSET(PrProgress, folder), folder))
		pr_progress_changed(self);
}

const gchar *
pr_progress_get_folder(PrProgress *self)
{
	g_return_val_if_fail(PR_IS_PROGRESS(self), NULL);
	return self->folder != NULL ? self->folder : "";
}

/* Counters saturate rather than wrap (a server can claim anything), and add up in every
 * ancestor. */
#define PR_PROGRESS_ADD(field, n, max)                                                             \
	G_STMT_START                                                                               \
	{                                                                                          \
		g_return_if_fail(PR_IS_PROGRESS(self));                                            \
		if (n == 0)                                                                        \
			return;                                                                    \
		for (PrProgress *p = self; p != NULL; p = p->parent)                               \
			p->field = p->field > (max) - (n) ? (max) : p->field + (n);                \
		pr_progress_changed(self);                                                         \
	}                                                                                          \
	G_STMT_END

/* A leaf keeps the basis of its first total: switching would make the fraction jump. */
static void
pr_progress_set_basis(PrProgress *self, PrProgressBasis basis)
{
	if (self->basis == PR_PROGRESS_BASIS_NONE)
		self->basis = basis;
}

void
pr_progress_add_folders_total(PrProgress *self, guint n)
{
	g_return_if_fail(PR_IS_PROGRESS(self));
	if (n > 0)
		pr_progress_set_basis(self, PR_PROGRESS_BASIS_FOLDERS);
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
	g_return_if_fail(PR_IS_PROGRESS(self));
	if (n > 0)
		pr_progress_set_basis(self, PR_PROGRESS_BASIS_MESSAGES);
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
	g_return_if_fail(PR_IS_PROGRESS(self));
	if (n > 0)
		pr_progress_set_basis(self, PR_PROGRESS_BASIS_BYTES);
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

static gdouble
pr_progress_leaf_fraction(PrProgress *self)
{
	gdouble fraction;

	switch (self->basis) {
	case PR_PROGRESS_BASIS_BYTES:
		fraction = (gdouble)MIN(self->bytes_done, self->bytes_total) / self->bytes_total;
		break;
	case PR_PROGRESS_BASIS_MESSAGES:
		fraction = (gdouble)MIN(self->messages_done, self->messages_total) /
			   self->messages_total;
		break;
	case PR_PROGRESS_BASIS_FOLDERS:
		fraction =
			(gdouble)MIN(self->folders_done, self->folders_total) / self->folders_total;
		break;
	case PR_PROGRESS_BASIS_NONE:
	default:
		return -1;
	}
	/* all that is known is done, but more may come (the next batch's total): only
	 * pr_progress_finish() says the work is over */
	return MIN(fraction, 0.99);
}

static gdouble
pr_progress_steps_fraction(PrProgress *self)
{
	gdouble done = 0;

	/* weightless steps count by number, so that such a node still moves */
	if (self->weight_total == 0)
		return (gdouble)self->step / self->steps->len;
	for (guint i = 0; i < self->step && i < self->steps->len; i++)
		done += g_array_index(self->steps, PrProgressStep, i).weight;
	if (self->step < self->steps->len) {
		PrProgressStep *current = &g_array_index(self->steps, PrProgressStep, self->step);
		if (current->child != NULL) {
			gdouble child = pr_progress_get_fraction(current->child);
			if (child > 0)
				done += child * current->weight;
		}
	}
	return MIN(done / self->weight_total, 1.0);
}

gdouble
pr_progress_get_fraction(PrProgress *self)
{
	gdouble fraction;

	g_return_val_if_fail(PR_IS_PROGRESS(self), -1);
	if (self->finished)
		fraction = 1;
	else if (self->steps->len > 0)
		fraction = pr_progress_steps_fraction(self);
	else
		fraction = pr_progress_leaf_fraction(self);
	/* a total that grows, or a step added, must not make the bar jump back */
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

void
pr_progress_add_step(PrProgress *self, guint weight, const gchar *stage)
{
	PrProgressStep step = { weight, g_strdup(stage), NULL };

	g_return_if_fail(PR_IS_PROGRESS(self));
	g_array_append_val(self->steps, step);
	self->weight_total += weight;
	if (self->step == self->steps->len - 1 && stage != NULL)
		pr_progress_set_string(self, G_STRUCT_OFFSET(PrProgress, stage), stage);
	pr_progress_changed(self);
}

PrProgress *
pr_progress_get_child(PrProgress *self)
{
	PrProgressStep *current;

	g_return_val_if_fail(PR_IS_PROGRESS(self), NULL);
	g_return_val_if_fail(self->step < self->steps->len, NULL);
	current = &g_array_index(self->steps, PrProgressStep, self->step);
	if (current->child == NULL) {
		current->child = pr_progress_new();
		current->child->parent = self;
	}
	return current->child;
}

void
pr_progress_step_done(PrProgress *self)
{
	PrProgressStep *current;

	g_return_if_fail(PR_IS_PROGRESS(self));
	g_return_if_fail(self->step < self->steps->len);
	current = &g_array_index(self->steps, PrProgressStep, self->step);
	if (current->child != NULL)
		current->child->finished = TRUE;
	self->step++;
	if (self->step < self->steps->len) {
		const gchar *stage = g_array_index(self->steps, PrProgressStep, self->step).stage;
		if (stage != NULL)
			pr_progress_set_string(self, G_STRUCT_OFFSET(PrProgress, stage), stage);
	}
	pr_progress_changed(self);
}

guint
pr_progress_get_n_steps(PrProgress *self)
{
	g_return_val_if_fail(PR_IS_PROGRESS(self), 0);
	return self->steps->len;
}

guint
pr_progress_get_step(PrProgress *self)
{
	g_return_val_if_fail(PR_IS_PROGRESS(self), 0);
	return self->step;
}

static void
pr_progress_step_clear(PrProgressStep *step)
{
	g_free(step->stage);
	if (step->child != NULL) {
		/* a child someone still holds stands alone from now on */
		step->child->parent = NULL;
		g_object_unref(step->child);
	}
}

static void
pr_progress_finalize(GObject *object)
{
	PrProgress *self = PR_PROGRESS(object);
	g_array_unref(self->steps);
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
	self->steps = g_array_new(FALSE, TRUE, sizeof(PrProgressStep));
	g_array_set_clear_func(self->steps, (GDestroyNotify)pr_progress_step_clear);
}

PrProgress *
pr_progress_new(void)
{
	return g_object_new(PR_TYPE_PROGRESS, NULL);
}
