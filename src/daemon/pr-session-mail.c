/*
 * Copyright 2026 The Postroom developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#define G_LOG_DOMAIN "PrDaemon"

#include <glib/gi18n.h>

#include "pr-error.h"
#include "pr-session-private.h"
#include "pr-variant.h"

/* The jobs of a session that work on mail: downloads, on the main connection or on a
 * second one beside a background sync, and changes of folders and flags on the server. */

/* GetMail (populate) ------------------------------------------------------------------------ */

static void
pr_session_fetch_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	g_autoptr(JobCall) call = user_data;
	PrSession *self = call->self;
	PrJob *job = call->job;
	g_autoptr(GArray) fetched = NULL;
	g_autoptr(GError) error = NULL;

	if (!pr_sync_fetch_bodies_finish(PR_SYNC(source), res, &fetched, &error)) {
		pr_session_finish(self, job, g_steal_pointer(&error));
		return;
	}
	pr_operation_set_result_value(job->operation, "ids", pr_variant_ids(fetched));
	if (job->get_mail.disconnect_after && self->client != NULL) {
		/* connect-and-disconnect: the same job goes on as a disconnect */
		pr_session_disconnect(self, job);
		return;
	}
	pr_session_finish(self, job, NULL);
}

/* Downloads @job's bodies over @sync's connection (the main one or the reader). */
void
pr_session_fetch_on(PrSession *self, PrSync *sync, PrJob *job)
{
	pr_progress_set_stage(pr_job_get_progress(job), "fetching");
	pr_sync_fetch_bodies_async(sync,
				   (const guint64 *)job->get_mail.ids->data,
				   job->get_mail.ids->len,
				   pr_job_get_progress(job),
				   pr_job_get_cancellable(job),
				   pr_session_fetch_cb,
				   job_call_new(self, job));
}

/* Reading beside a background sync ---------------------------------------------------------- */

static void
pr_session_reader_closed_cb(PrImapClient *client, GError *error, gpointer user_data)
{
	PrSession *self = PR_SESSION(user_data);

	if (client != self->reader_client)
		return;
	g_signal_handlers_disconnect_by_data(client, self);
	if (self->reader_sync != NULL)
		g_signal_handlers_disconnect_by_data(self->reader_sync, self);
	g_clear_object(&self->reader_sync);
	g_clear_object(&self->reader_client);
}

static void
pr_session_reader_opened_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	g_autoptr(JobCall) call = user_data;
	PrSession *self = call->self;
	g_autoptr(PrImapClient) client = NULL;
	g_autoptr(GError) error = NULL;

	client = pr_connector_open_finish(PR_CONNECTOR(source), res, &error);
	if (client != NULL && !self->reader_opening) {
		/* the account disconnected meanwhile */
		pr_imap_client_close(client);
		g_clear_object(&client);
		error = pr_session_not_connected_error();
	}
	self->reader_opening = FALSE;
	if (client == NULL) {
		pr_session_finish(self, call->job, g_steal_pointer(&error));
		return;
	}
	self->reader_client = g_steal_pointer(&client);
	g_signal_connect(
		self->reader_client, "closed", G_CALLBACK(pr_session_reader_closed_cb), self);
	self->reader_sync = pr_session_new_sync(self, self->reader_client);
	g_signal_connect(self->reader_sync,
			 "messages-changed",
			 G_CALLBACK(pr_session_messages_changed_cb),
			 self);
	pr_session_fetch_on(self, self->reader_sync, call->job);
}

/* Read-only work (downloading bodies) does not wait for a long background sync: it runs on
 * its own connection, opened on demand and kept until the account disconnects. */
void
pr_session_read(PrSession *self, PrJob *job)
{
	if (self->reader_sync != NULL) {
		pr_session_fetch_on(self, self->reader_sync, job);
		return;
	}
	if (self->reader_opening) {
		/* a login on it is under way for another job: keep order simple, wait */
		pr_session_finish(self,
				  job,
				  g_error_new_literal(PR_ERROR,
						      PR_ERROR_BUSY,
						      _("The second connection is still opening")));
		return;
	}
	self->reader_opening = TRUE;
	pr_connector_open_async(self->connector,
				PR_CONNECTOR_FLAG_NONE,
				pr_job_get_cancellable(job),
				pr_session_reader_opened_cb,
				job_call_new(self, job));
}

/* Folders on the server ---------------------------------------------------------------------- */

static void
pr_session_folder_done_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	g_autoptr(JobCall) call = user_data;
	g_autoptr(GError) error = NULL;

	if (!pr_sync_change_folder_finish(PR_SYNC(source), res, &error)) {
		pr_session_finish(call->self, call->job, g_steal_pointer(&error));
		return;
	}
	pr_session_finish(call->self, call->job, NULL);
}

void
pr_session_change_folder(PrSession *self, PrJob *job)
{
	if (self->client == NULL || self->sync == NULL) {
		pr_session_finish(self, job, pr_session_not_connected_error());
		return;
	}
	/* a change sent to the server cannot be taken back by cancelling */
	pr_operation_set_cancelable(job->operation, FALSE);
	pr_sync_change_folder_async(self->sync,
				    job->folder.action,
				    job->folder.name,
				    job->folder.to,
				    pr_job_get_progress(job),
				    pr_job_get_cancellable(job),
				    pr_session_folder_done_cb,
				    job_call_new(self, job));
}

/* Flags on the server ------------------------------------------------------------------------ */

static void
pr_session_flags_done_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	g_autoptr(JobCall) call = user_data;
	g_autoptr(PrSyncFlagsResult) result = NULL;
	g_autoptr(GError) error = NULL;
	const gchar *const empty[] = { NULL };
	PrOperation *operation = call->job->operation;

	result = pr_sync_set_flags_finish(PR_SYNC(source), res, &error);
	if (result == NULL) {
		pr_session_finish(call->self, call->job, g_steal_pointer(&error));
		return;
	}
	pr_operation_set_result_value(operation, "changed", g_variant_new_uint32(result->changed));
	pr_operation_set_result_value(operation, "conflicts", pr_variant_ids(result->conflicts));
	pr_operation_set_result_value(
		operation,
		"unsupported-flags",
		g_variant_new_strv(result->unsupported != NULL
					   ? (const gchar *const *)result->unsupported
					   : empty,
				   -1));
	pr_session_finish(call->self, call->job, NULL);
}

void
pr_session_set_flags(PrSession *self, PrJob *job)
{
	if (self->client == NULL || self->sync == NULL) {
		/* TODO(offline): queue the change instead */
		pr_session_finish(self, job, pr_session_not_connected_error());
		return;
	}
	pr_sync_set_flags_async(self->sync,
				(const guint64 *)job->flags.ids->data,
				job->flags.ids->len,
				(const gchar *const *)job->flags.add,
				(const gchar *const *)job->flags.remove,
				pr_job_get_progress(job),
				pr_job_get_cancellable(job),
				pr_session_flags_done_cb,
				job_call_new(self, job));
}

void
pr_session_stop_reader(PrSession *self)
{
	self->reader_opening = FALSE;
	if (self->reader_client == NULL)
		return;
	g_signal_handlers_disconnect_by_data(self->reader_client, self);
	if (self->reader_sync != NULL)
		g_signal_handlers_disconnect_by_data(self->reader_sync, self);
	pr_imap_client_logout_async(self->reader_client, NULL, NULL, NULL);
	g_clear_object(&self->reader_sync);
	g_clear_object(&self->reader_client);
}
