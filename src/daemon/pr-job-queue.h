/*
 * Copyright 2026 The Postroom developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include "pr-job.h"

G_BEGIN_DECLS

#define PR_TYPE_JOB_QUEUE (pr_job_queue_get_type())
G_DECLARE_FINAL_TYPE(PrJobQueue, pr_job_queue, PR, JOB_QUEUE, GObject)

/*
 * The jobs of one account, in the order they came: one writer at a time (a client's job
 * or a background one), and read-only work may run beside a background job when
 * readers are allowed (the account is connected: it goes over a second connection).
 *
 * The queue starts a job's operation and calls the run function; whoever runs the job
 * ends it with pr_job_queue_finish(), which emits "finished" (for the owner's
 * bookkeeping), completes the operation and starts the next job. A queued job whose
 * operation is cancelled leaves the queue at once, cancelled.
 */
typedef enum {
	PR_JOB_LANE_WRITER,	/* the one job that may change things */
	PR_JOB_LANE_BACKGROUND, /* a background job, which also holds the writer's turn */
	PR_JOB_LANE_READER,	/* read-only work beside a background job */
} PrJobLane;

typedef void (*PrJobRunFunc)(PrJob *job, PrJobLane lane, gpointer user_data);

PrJobQueue *pr_job_queue_new(PrJobRunFunc run, gpointer user_data);

/* Both take @job and start it when its turn has come. */
void pr_job_queue_push(PrJobQueue *self, PrJob *job);
void pr_job_queue_push_front(PrJobQueue *self, PrJob *job);
/* Starts what may start now (after a push, or when readers become allowed). */
void pr_job_queue_run_next(PrJobQueue *self);
void pr_job_queue_finish(PrJobQueue *self, PrJob *job, GError *error);

void pr_job_queue_set_readers_allowed(PrJobQueue *self, gboolean allowed);
/* Moves the running writer job into the background lane: its client stopped waiting. */
void pr_job_queue_move_to_background(PrJobQueue *self, PrJob *job);

PrJob *pr_job_queue_get_writer(PrJobQueue *self);
PrJob *pr_job_queue_get_background(PrJobQueue *self);
PrJob *pr_job_queue_get_reader(PrJobQueue *self);
/* The queued jobs, oldest first (not the running ones). */
const GList *pr_job_queue_peek_queued(PrJobQueue *self);
/* Something runs. */
gboolean pr_job_queue_get_busy(PrJobQueue *self);
/* Nothing runs and nothing waits. */
gboolean pr_job_queue_is_idle(PrJobQueue *self);

void pr_job_queue_cancel_background(PrJobQueue *self);
/* Ends every queued job with @error and cancels the running ones. */
void pr_job_queue_abort(PrJobQueue *self, const GError *error);

G_END_DECLS
