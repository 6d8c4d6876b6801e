/*
 * Copyright 2026 The Postroom developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#define G_LOG_DOMAIN "PrDaemon"

#include <glib/gi18n.h>

#include "pr-error.h"
#include "pr-job-queue.h"

struct _PrJobQueue {
	GObject parent_instance;
	PrJobRunFunc run;
	gpointer run_data;
	GQueue queued;
	PrJob *writer;
	PrJob *background;
	PrJob *reader;
	gboolean readers_allowed;
	guint reap_id; /* ends the queued jobs whose operation was cancelled */
};

G_DEFINE_TYPE(PrJobQueue, pr_job_queue, G_TYPE_OBJECT)

enum { SIGNAL_FINISHED, SIGNAL_CHANGED, SIGNAL_IDLE, SIGNAL_LAST };
static guint signals[SIGNAL_LAST] = { 0 };

static gboolean
pr_job_queue_reap_cb(gpointer user_data)
{
	PrJobQueue *self = PR_JOB_QUEUE(user_data);
	GList *l = self->queued.head;

	self->reap_id = 0;
	while (l != NULL) {
		GList *next = l->next;
		PrJob *job = l->data;
		if (g_cancellable_is_cancelled(pr_job_get_cancellable(job))) {
			g_autoptr(GError) error = g_error_new_literal(
				PR_ERROR, PR_ERROR_CANCELLED, _("The operation was cancelled"));
			g_queue_delete_link(&self->queued, l);
			g_signal_handler_disconnect(pr_job_get_cancellable(job), job->cancelled_id);
			job->cancelled_id = 0;
			g_signal_emit(self, signals[SIGNAL_FINISHED], 0, job, error);
			pr_operation_complete(job->operation, error);
			pr_job_free(job);
		}
		l = next;
	}
	return G_SOURCE_REMOVE;
}

/* Runs inside Cancel(): the job leaves the queue from the main loop. */
static void
pr_job_queue_cancelled_cb(GCancellable *cancellable, gpointer user_data)
{
	PrJobQueue *self = PR_JOB_QUEUE(user_data);

	if (self->reap_id == 0)
		self->reap_id = g_idle_add(pr_job_queue_reap_cb, self);
}

static void
pr_job_queue_enqueue(PrJobQueue *self, PrJob *job, gboolean front)
{
	job->cancelled_id = g_signal_connect(pr_job_get_cancellable(job),
					     "cancelled",
					     G_CALLBACK(pr_job_queue_cancelled_cb),
					     self);
	if (front)
		g_queue_push_head(&self->queued, job);
	else
		g_queue_push_tail(&self->queued, job);
}

static void
pr_job_queue_dequeued(PrJob *job)
{
	if (job->cancelled_id != 0) {
		g_signal_handler_disconnect(pr_job_get_cancellable(job), job->cancelled_id);
		job->cancelled_id = 0;
	}
}

void
pr_job_queue_push(PrJobQueue *self, PrJob *job)
{
	g_return_if_fail(PR_IS_JOB_QUEUE(self));
	pr_job_queue_enqueue(self, job, FALSE);
}

void
pr_job_queue_push_front(PrJobQueue *self, PrJob *job)
{
	g_return_if_fail(PR_IS_JOB_QUEUE(self));
	pr_job_queue_enqueue(self, job, TRUE);
}

static void
pr_job_queue_start(PrJobQueue *self, PrJob *job, PrJobLane lane)
{
	pr_job_queue_dequeued(job);
	g_signal_emit(self, signals[SIGNAL_CHANGED], 0);
	pr_operation_start(job->operation);
	self->run(job, lane, self->run_data);
}

void
pr_job_queue_run_next(PrJobQueue *self)
{
	PrJob *job;

	g_return_if_fail(PR_IS_JOB_QUEUE(self));
	if (self->writer != NULL || self->background != NULL) {
		/* writing work waits its turn; reading may go beside a background job */
		if (self->background == NULL || self->writer != NULL || self->reader != NULL ||
		    !self->readers_allowed)
			return;
		for (GList *l = self->queued.head; l != NULL; l = l->next) {
			PrJob *candidate = l->data;
			if (!candidate->read_only)
				continue;
			g_queue_delete_link(&self->queued, l);
			self->reader = candidate;
			pr_job_queue_start(self, candidate, PR_JOB_LANE_READER);
			return;
		}
		return;
	}
	job = g_queue_pop_head(&self->queued);
	if (job == NULL) {
		g_signal_emit(self, signals[SIGNAL_IDLE], 0);
		return;
	}
	if (job->background) {
		self->background = job;
		pr_job_queue_start(self, job, PR_JOB_LANE_BACKGROUND);
	} else {
		self->writer = job;
		pr_job_queue_start(self, job, PR_JOB_LANE_WRITER);
	}
}

void
pr_job_queue_finish(PrJobQueue *self, PrJob *job, GError *error)
{
	g_autoptr(GError) owned = error;
	g_autoptr(PrJob) finished = job;

	g_return_if_fail(PR_IS_JOB_QUEUE(self));
	if (job == self->reader)
		self->reader = NULL;
	else if (job == self->background)
		self->background = NULL;
	else if (job == self->writer)
		self->writer = NULL;
	else
		g_queue_remove(&self->queued, job);
	pr_job_queue_dequeued(job);
	if (owned != NULL)
		pr_error_convert(&owned);
	g_signal_emit(self, signals[SIGNAL_FINISHED], 0, job, owned);
	pr_operation_complete(job->operation, owned);
	g_signal_emit(self, signals[SIGNAL_CHANGED], 0);
	g_clear_pointer(&finished, pr_job_free);
	pr_job_queue_run_next(self);
}

void
pr_job_queue_set_readers_allowed(PrJobQueue *self, gboolean allowed)
{
	g_return_if_fail(PR_IS_JOB_QUEUE(self));
	self->readers_allowed = allowed;
}

void
pr_job_queue_move_to_background(PrJobQueue *self, PrJob *job)
{
	g_return_if_fail(PR_IS_JOB_QUEUE(self));
	g_return_if_fail(job == self->writer && self->background == NULL);
	self->writer = NULL;
	self->background = job;
	job->background = TRUE;
	g_signal_emit(self, signals[SIGNAL_CHANGED], 0);
}

PrJob *
pr_job_queue_get_writer(PrJobQueue *self)
{
	return self->writer;
}

PrJob *
pr_job_queue_get_background(PrJobQueue *self)
{
	return self->background;
}

PrJob *
pr_job_queue_get_reader(PrJobQueue *self)
{
	return self->reader;
}

const GList *
pr_job_queue_peek_queued(PrJobQueue *self)
{
	return self->queued.head;
}

gboolean
pr_job_queue_get_busy(PrJobQueue *self)
{
	return self->writer != NULL || self->background != NULL || self->reader != NULL;
}

gboolean
pr_job_queue_is_idle(PrJobQueue *self)
{
	return !pr_job_queue_get_busy(self) && g_queue_is_empty(&self->queued);
}

void
pr_job_queue_cancel_background(PrJobQueue *self)
{
	if (self->background != NULL)
		g_cancellable_cancel(pr_job_get_cancellable(self->background));
}

void
pr_job_queue_abort(PrJobQueue *self, const GError *error)
{
	PrJob *job;

	while ((job = g_queue_pop_head(&self->queued)) != NULL) {
		pr_job_queue_dequeued(job);
		pr_operation_complete(job->operation, error);
		pr_job_free(job);
	}
	if (self->writer != NULL)
		g_cancellable_cancel(pr_job_get_cancellable(self->writer));
	if (self->background != NULL)
		g_cancellable_cancel(pr_job_get_cancellable(self->background));
	if (self->reader != NULL)
		g_cancellable_cancel(pr_job_get_cancellable(self->reader));
}

static void
pr_job_queue_finalize(GObject *object)
{
	PrJobQueue *self = PR_JOB_QUEUE(object);
	PrJob *job;

	if (self->reap_id != 0)
		g_source_remove(self->reap_id);
	while ((job = g_queue_pop_head(&self->queued)) != NULL) {
		pr_job_queue_dequeued(job);
		pr_job_free(job);
	}
	g_clear_pointer(&self->writer, pr_job_free);
	g_clear_pointer(&self->background, pr_job_free);
	g_clear_pointer(&self->reader, pr_job_free);
	G_OBJECT_CLASS(pr_job_queue_parent_class)->finalize(object);
}

static void
pr_job_queue_class_init(PrJobQueueClass *klass)
{
	GObjectClass *object_class = G_OBJECT_CLASS(klass);

	object_class->finalize = pr_job_queue_finalize;
	/* (PrJob *job, GError *error): before the operation completes */
	signals[SIGNAL_FINISHED] = g_signal_new("finished",
						G_TYPE_FROM_CLASS(klass),
						G_SIGNAL_RUN_LAST,
						0,
						NULL,
						NULL,
						NULL,
						G_TYPE_NONE,
						2,
						G_TYPE_POINTER,
						G_TYPE_ERROR);
	/* a lane was taken or freed: Busy and BackgroundSync may have changed */
	signals[SIGNAL_CHANGED] = g_signal_new("changed",
					       G_TYPE_FROM_CLASS(klass),
					       G_SIGNAL_RUN_LAST,
					       0,
					       NULL,
					       NULL,
					       NULL,
					       G_TYPE_NONE,
					       0);
	/* nothing runs and nothing waits */
	signals[SIGNAL_IDLE] = g_signal_new("idle",
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
pr_job_queue_init(PrJobQueue *self)
{
	g_queue_init(&self->queued);
}

PrJobQueue *
pr_job_queue_new(PrJobRunFunc run, gpointer user_data)
{
	PrJobQueue *self = g_object_new(PR_TYPE_JOB_QUEUE, NULL);

	self->run = run;
	self->run_data = user_data;
	return self;
}
