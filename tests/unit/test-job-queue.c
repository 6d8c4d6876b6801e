/*
 * Copyright 2026 The Postroom developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <string.h>

#include "pr-error.h"
#include "pr-job-queue.h"

/* The job queue without a bus: operations are exported on an ObjectManager that has no
 * connection, and the "runner" below only records what it was asked to run. */

typedef struct {
	GDBusObjectManagerServer *manager;
	PrJobQueue *queue;
	guint64 counter;
	GPtrArray *ran;	  /* gchar*: "<name>@<lane>" in the order started */
	GPtrArray *ended; /* gchar*: "<name>:<error name or ok>" in the order ended */
	guint idle_signals;
} Fixture;

static const gchar *
lane_name(PrJobLane lane)
{
	switch (lane) {
	case PR_JOB_LANE_WRITER:
		return "writer";
	case PR_JOB_LANE_BACKGROUND:
		return "background";
	case PR_JOB_LANE_READER:
		return "reader";
	default:
		return "?";
	}
}

static void
fixture_run_cb(PrJob *job, PrJobLane lane, gpointer user_data)
{
	Fixture *fx = user_data;
	g_ptr_array_add(
		fx->ran,
		g_strdup_printf("%s@%s", pr_operation_get_kind(job->operation), lane_name(lane)));
}

static void
fixture_finished_cb(PrJobQueue *queue, PrJob *job, GError *error, gpointer user_data)
{
	Fixture *fx = user_data;
	g_ptr_array_add(
		fx->ended,
		g_strdup_printf("%s:%s",
				pr_operation_get_kind(job->operation),
				error != NULL ? strrchr(pr_error_to_dbus_name(error->code), '.') + 1
					      : "ok"));
}

static void
fixture_idle_cb(PrJobQueue *queue, gpointer user_data)
{
	Fixture *fx = user_data;
	fx->idle_signals++;
}

static void
fixture_setup(Fixture *fx, gconstpointer data)
{
	fx->manager = g_dbus_object_manager_server_new("/org/postroom/Postroom1");
	fx->queue = pr_job_queue_new(fixture_run_cb, fx);
	fx->ran = g_ptr_array_new_with_free_func(g_free);
	fx->ended = g_ptr_array_new_with_free_func(g_free);
	g_signal_connect(fx->queue, "finished", G_CALLBACK(fixture_finished_cb), fx);
	g_signal_connect(fx->queue, "idle", G_CALLBACK(fixture_idle_cb), fx);
	pr_operation_set_linger(0);
}

static void
fixture_teardown(Fixture *fx, gconstpointer data)
{
	g_object_unref(fx->queue);
	g_ptr_array_unref(fx->ran);
	g_ptr_array_unref(fx->ended);
	/* let the finished operations unexport themselves */
	while (g_main_context_iteration(NULL, FALSE))
		;
	g_object_unref(fx->manager);
}

static PrJob *
fixture_job(Fixture *fx, const gchar *name, gboolean background, gboolean read_only)
{
	PrJob *job = pr_job_new(PR_JOB_SYNC,
				pr_operation_new(fx->manager, ++fx->counter, name, "/service"));
	job->background = background;
	job->read_only = read_only;
	return job;
}

/* What ran (or ended), joined: "a@writer b@writer". */
static gchar *
joined(GPtrArray *list)
{
	GString *out = g_string_new(NULL);

	for (guint i = 0; i < list->len; i++)
		g_string_append_printf(out, "%s%s", i > 0 ? " " : "", (gchar *)list->pdata[i]);
	return g_string_free(out, FALSE);
}

#define assert_ran(fx, expected)                                                                   \
	G_STMT_START                                                                               \
	{                                                                                          \
		g_autofree gchar *_got = joined((fx)->ran);                                        \
		g_assert_cmpstr(_got, ==, expected);                                               \
	}                                                                                          \
	G_STMT_END

#define assert_ended(fx, expected)                                                                 \
	G_STMT_START                                                                               \
	{                                                                                          \
		g_autofree gchar *_got = joined((fx)->ended);                                      \
		g_assert_cmpstr(_got, ==, expected);                                               \
	}                                                                                          \
	G_STMT_END

static void
spin(void)
{
	while (g_main_context_iteration(NULL, FALSE))
		;
}

/* One writer at a time, in the order the jobs came; background jobs pushed to the front
 * go first. */
static void
test_order(Fixture *fx, gconstpointer data)
{
	PrJob *a = fixture_job(fx, "a", FALSE, FALSE);
	PrJob *b = fixture_job(fx, "b", FALSE, FALSE);
	PrJob *c = fixture_job(fx, "c", FALSE, FALSE);
	PrJob *front = fixture_job(fx, "front", TRUE, FALSE);
	PrOperation *op_a = g_object_ref(a->operation);

	pr_job_queue_push(fx->queue, a);
	pr_job_queue_push(fx->queue, b);
	pr_job_queue_push(fx->queue, c);
	g_assert_false(pr_job_queue_get_busy(fx->queue));
	pr_job_queue_run_next(fx->queue);
	assert_ran(fx, "a@writer");
	g_assert_true(pr_job_queue_get_writer(fx->queue) == a);
	g_assert_true(pr_job_queue_get_busy(fx->queue));
	/* a second push does not start anything beside the writer */
	pr_job_queue_push_front(fx->queue, front);
	pr_job_queue_run_next(fx->queue);
	assert_ran(fx, "a@writer");

	pr_job_queue_finish(fx->queue, a, NULL);
	g_assert_true(pr_operation_is_finished(op_a));
	assert_ran(fx, "a@writer front@background");
	pr_job_queue_finish(fx->queue, front, NULL);
	assert_ran(fx, "a@writer front@background b@writer");
	pr_job_queue_finish(fx->queue, b, g_error_new_literal(PR_ERROR, PR_ERROR_FAILED, "no"));
	assert_ran(fx, "a@writer front@background b@writer c@writer");
	g_assert_cmpuint(fx->idle_signals, ==, 0);
	pr_job_queue_finish(fx->queue, c, NULL);
	assert_ended(fx, "a:ok front:ok b:Failed c:ok");
	g_assert_cmpuint(fx->idle_signals, ==, 1);
	g_assert_true(pr_job_queue_is_idle(fx->queue));
	g_object_unref(op_a);
}

/* Read-only work runs beside a background job when readers are allowed, never beside a
 * writer, and does not overtake the writer waiting before it otherwise. */
static void
test_read_only_beside_background(Fixture *fx, gconstpointer data)
{
	PrJob *bg = fixture_job(fx, "bg", TRUE, FALSE);
	PrJob *w = fixture_job(fx, "w", FALSE, FALSE);
	PrJob *r1 = fixture_job(fx, "r1", FALSE, TRUE);
	PrJob *r2 = fixture_job(fx, "r2", FALSE, TRUE);

	pr_job_queue_push(fx->queue, bg);
	pr_job_queue_run_next(fx->queue);
	pr_job_queue_push(fx->queue, w);
	pr_job_queue_push(fx->queue, r1);
	pr_job_queue_push(fx->queue, r2);
	/* not connected: no second connection, so nothing beside the background job */
	pr_job_queue_run_next(fx->queue);
	assert_ran(fx, "bg@background");
	pr_job_queue_set_readers_allowed(fx->queue, TRUE);
	pr_job_queue_run_next(fx->queue);
	assert_ran(fx, "bg@background r1@reader");
	g_assert_true(pr_job_queue_get_reader(fx->queue) == r1);
	/* one reader at a time */
	pr_job_queue_run_next(fx->queue);
	assert_ran(fx, "bg@background r1@reader");
	pr_job_queue_finish(fx->queue, r1, NULL);
	assert_ran(fx, "bg@background r1@reader r2@reader");
	pr_job_queue_finish(fx->queue, r2, NULL);
	g_assert_true(pr_job_queue_get_busy(fx->queue));
	pr_job_queue_finish(fx->queue, bg, NULL);
	assert_ran(fx, "bg@background r1@reader r2@reader w@writer");
	/* a read-only job behind a writer waits for it */
	pr_job_queue_push(fx->queue, fixture_job(fx, "r3", FALSE, TRUE));
	pr_job_queue_run_next(fx->queue);
	assert_ran(fx, "bg@background r1@reader r2@reader w@writer");
	pr_job_queue_finish(fx->queue, w, NULL);
	assert_ran(fx, "bg@background r1@reader r2@reader w@writer r3@writer");
	pr_job_queue_finish(fx->queue, pr_job_queue_get_writer(fx->queue), NULL);
	assert_ended(fx, "r1:ok r2:ok bg:ok w:ok r3:ok");
}

/* A queued job whose operation is cancelled leaves the queue, cancelled, without running;
 * a running one is told through its cancellable and ends when its runner says so. */
static void
test_cancel(Fixture *fx, gconstpointer data)
{
	PrJob *a = fixture_job(fx, "a", FALSE, FALSE);
	PrJob *b = fixture_job(fx, "b", FALSE, FALSE);
	PrJob *c = fixture_job(fx, "c", FALSE, FALSE);
	PrOperation *op_b = g_object_ref(b->operation);
	GCancellable *running = pr_job_get_cancellable(a);

	pr_job_queue_push(fx->queue, a);
	pr_job_queue_push(fx->queue, b);
	pr_job_queue_push(fx->queue, c);
	pr_job_queue_run_next(fx->queue);
	g_cancellable_cancel(pr_job_get_cancellable(b));
	spin();
	g_assert_true(pr_operation_is_finished(op_b));
	assert_ended(fx, "b:Cancelled");
	assert_ran(fx, "a@writer");

	g_cancellable_cancel(running);
	spin();
	/* still running: only its runner knows when it has stopped */
	g_assert_true(pr_job_queue_get_writer(fx->queue) == a);
	pr_job_queue_finish(
		fx->queue, a, g_error_new_literal(PR_ERROR, PR_ERROR_CANCELLED, "cancelled"));
	assert_ran(fx, "a@writer c@writer");
	assert_ended(fx, "b:Cancelled a:Cancelled");
	pr_job_queue_finish(fx->queue, c, NULL);
	g_object_unref(op_b);
}

/* Removing the account while jobs wait: every queued job ends with the given error and
 * never runs; every running one is cancelled. */
static void
test_abort(Fixture *fx, gconstpointer data)
{
	PrJob *bg = fixture_job(fx, "bg", TRUE, FALSE);
	PrJob *r = fixture_job(fx, "r", FALSE, TRUE);
	PrJob *w1 = fixture_job(fx, "w1", FALSE, FALSE);
	PrJob *w2 = fixture_job(fx, "w2", FALSE, FALSE);
	PrOperation *op_w1 = g_object_ref(w1->operation);
	PrOperation *op_w2 = g_object_ref(w2->operation);
	g_autoptr(GError) error =
		g_error_new_literal(PR_ERROR, PR_ERROR_CANCELLED, "The account was removed");

	pr_job_queue_set_readers_allowed(fx->queue, TRUE);
	pr_job_queue_push(fx->queue, bg);
	pr_job_queue_push(fx->queue, w1);
	pr_job_queue_push(fx->queue, r);
	pr_job_queue_push(fx->queue, w2);
	pr_job_queue_run_next(fx->queue);
	pr_job_queue_run_next(fx->queue);
	assert_ran(fx, "bg@background r@reader");

	pr_job_queue_abort(fx->queue, error);
	g_assert_true(pr_operation_is_finished(op_w1));
	g_assert_true(pr_operation_is_finished(op_w2));
	g_assert_null(pr_job_queue_peek_queued(fx->queue));
	g_assert_true(g_cancellable_is_cancelled(pr_job_get_cancellable(bg)));
	g_assert_true(g_cancellable_is_cancelled(pr_job_get_cancellable(r)));
	/* the running ones end as their runners notice; nothing else starts */
	pr_job_queue_finish(fx->queue, r, g_error_copy(error));
	pr_job_queue_finish(fx->queue, bg, g_error_copy(error));
	assert_ran(fx, "bg@background r@reader");
	g_assert_true(pr_job_queue_is_idle(fx->queue));
	g_object_unref(op_w1);
	g_object_unref(op_w2);
}

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add("/job-queue/order", Fixture, NULL, fixture_setup, test_order, fixture_teardown);
	g_test_add("/job-queue/read-only-beside-background",
		   Fixture,
		   NULL,
		   fixture_setup,
		   test_read_only_beside_background,
		   fixture_teardown);
	g_test_add(
		"/job-queue/cancel", Fixture, NULL, fixture_setup, test_cancel, fixture_teardown);
	g_test_add("/job-queue/abort", Fixture, NULL, fixture_setup, test_abort, fixture_teardown);
	return g_test_run();
}
