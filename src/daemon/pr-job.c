/*
 * Copyright 2026 The Postroom developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#define G_LOG_DOMAIN "PrDaemon"

#include "pr-job.h"

/* Takes @operation. */
PrJob *
pr_job_new(PrJobKind kind, PrOperation *operation)
{
	PrJob *job = g_new0(PrJob, 1);

	job->kind = kind;
	job->operation = operation;
	return job;
}

void
pr_job_free(PrJob *job)
{
	switch (job->kind) {
	case PR_JOB_SYNC:
		g_strfreev(job->sync.folders);
		break;
	case PR_JOB_GET_MAIL:
		g_clear_pointer(&job->get_mail.ids, g_array_unref);
		break;
	case PR_JOB_FOLDER:
		g_free(job->folder.name);
		g_free(job->folder.to);
		break;
	case PR_JOB_FLAGS:
		g_clear_pointer(&job->flags.ids, g_array_unref);
		g_strfreev(job->flags.add);
		g_strfreev(job->flags.remove);
		break;
	case PR_JOB_CONNECT:
	case PR_JOB_DISCONNECT:
	default:
		break;
	}
	g_clear_object(&job->operation);
	g_free(job);
}

GCancellable *
pr_job_get_cancellable(PrJob *job)
{
	return pr_operation_get_cancellable(job->operation);
}

PrProgress *
pr_job_get_progress(PrJob *job)
{
	return pr_operation_get_progress(job->operation);
}
