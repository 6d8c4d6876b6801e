/*
 * Copyright 2026 The Postroom developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include "pr-operation.h"
#include "pr-sync.h"

G_BEGIN_DECLS

/*
 * One request of an account that needs the connection: what to do (the kind and its
 * payload) and the operation that reports it. Jobs are plain data; PrJobQueue decides when
 * each runs, PrSession runs it.
 */
typedef enum {
	PR_JOB_CONNECT,	   /* Connect, ConnectAndSync, a reconnect */
	PR_JOB_SYNC,	   /* Synchronise, and the background syncs */
	PR_JOB_DISCONNECT, /* Disconnect */
	PR_JOB_GET_MAIL,   /* GetMail (populate) */
	PR_JOB_FOLDER,	   /* CreateFolder, RenameFolder, DeleteFolder on the server */
	PR_JOB_FLAGS,	   /* SetFlags, DeleteMessages, UndeleteMessages on the server */
} PrJobKind;

typedef enum {
	PR_COMPLETE_AFTER_NONE, /* Connect */
	PR_COMPLETE_AFTER_CONNECT,
	PR_COMPLETE_AFTER_SYNC,
	PR_COMPLETE_AFTER_DISCONNECT,
} PrCompleteAfter;

typedef struct {
	PrCompleteAfter complete_after;
	gboolean reconnect; /* re-establishing a dropped connection */
} PrJobConnect;

typedef struct {
	PrSyncScope scope;
	gchar **folders;
} PrJobSync;

typedef struct {
	GArray *ids; /* guint64 */
	gboolean disconnect_after;
} PrJobGetMail;

typedef struct {
	PrSyncFolderChange action;
	gchar *name;
	gchar *to; /* rename only */
} PrJobFolder;

typedef struct {
	GArray *ids; /* guint64 */
	gchar **add; /* normalised flags */
	gchar **remove;
} PrJobFlags;

typedef struct {
	PrJobKind kind;
	PrOperation *operation;
	gboolean background; /* no client waits for it: BackgroundSync */
	gboolean read_only;  /* may run beside a background job (a second connection) */
	gulong cancelled_id; /* PrJobQueue's, while the job waits */
	union {
		PrJobConnect connect;
		PrJobSync sync;
		PrJobGetMail get_mail;
		PrJobFolder folder;
		PrJobFlags flags;
	};
} PrJob;

PrJob *pr_job_new(PrJobKind kind, PrOperation *operation);
void pr_job_free(PrJob *job);
GCancellable *pr_job_get_cancellable(PrJob *job);
PrProgress *pr_job_get_progress(PrJob *job);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(PrJob, pr_job_free)

G_END_DECLS
