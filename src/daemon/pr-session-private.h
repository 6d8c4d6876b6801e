/*
 * Copyright 2026 The Postroom developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include "pr-connector.h"
#include "pr-job-queue.h"
#include "pr-online.h"
#include "pr-session.h"
#include "pr-sync.h"

G_BEGIN_DECLS

/* Shared by pr-session.c (the connection, its life and the sync jobs) and
 * pr-session-mail.c (the jobs that work on mail: downloads, folder and flag changes). */

struct _PrSession {
	GObject parent_instance;
	PrDaemon *daemon; /* unowned: it outlives every service */
	gchar *id;
	gchar *path;
	GSettings *settings;
	PrStore *store;
	PrDBusImap4Service *iface;
	PrConnector *connector;
	PrJobQueue *queue;
	PrOnline *online;
	PrImapClient *client; /* logged in, or NULL */
	PrSync *sync;
	PrJob *connecting; /* the job the main connection opens for */
	PrImapClient *reader_client;
	PrSync *reader_sync;
	gboolean reader_opening;
	PrOperation *stay_online; /* ConnectAndSync("disconnect"): until the connection ends */
	gboolean sync_dirty;	  /* sync settings changed: the next sync uses the new ones */
	gboolean removed;
};

/* What a callback needs: the session (owned) and its job. */
typedef struct {
	PrSession *self;
	PrJob *job;
} JobCall;

static inline JobCall *
job_call_new(PrSession *self, PrJob *job)
{
	JobCall *call = g_new0(JobCall, 1);
	call->self = g_object_ref(self);
	call->job = job;
	return call;
}

static inline void
job_call_free(JobCall *call)
{
	g_object_unref(call->self);
	g_free(call);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC(JobCall, job_call_free)

/* pr-session.c */
void pr_session_finish(PrSession *self, PrJob *job, GError *error);
GError *pr_session_not_connected_error(void);
PrSync *pr_session_new_sync(PrSession *self, PrImapClient *client);
void pr_session_messages_changed_cb(PrSync *sync,
				    const gchar *folder,
				    GArray *added,
				    GArray *changed,
				    GArray *removed,
				    gpointer user_data);
void pr_session_disconnect(PrSession *self, PrJob *job);

/* pr-session-mail.c */
void pr_session_fetch_on(PrSession *self, PrSync *sync, PrJob *job);
void pr_session_read(PrSession *self, PrJob *job);
void pr_session_stop_reader(PrSession *self);
void pr_session_change_folder(PrSession *self, PrJob *job);
void pr_session_set_flags(PrSession *self, PrJob *job);

G_END_DECLS
