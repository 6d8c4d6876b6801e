/*
 * Copyright 2026 The Postroom developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include "pr-daemon.h"
#include "pr-dbus-generated.h"
#include "pr-service.h"
#include "pr-session.h"
#include "pr-store.h"

G_BEGIN_DECLS

/* One room per capability: pr-service.c holds the object, its export and properties and
 * the methods on the connection, synchronisation, settings and reading the store;
 * pr-service-folders.c and pr-service-messages.c the methods that change folders and
 * messages. Each method checks its arguments, then answers or queues a job. */

struct _PrService {
	GObject parent_instance;
	PrDaemon *daemon; /* unowned: the daemon owns us */
	GDBusObjectManagerServer *manager;
	gchar *id;
	gchar *path;
	PrDBusObjectSkeleton *object;
	PrDBusImap4Service *iface;
	GSettings *settings;
	PrStore *store;
	PrSession *session;
};

gboolean pr_service_check_no_options(GDBusMethodInvocation *invocation, GVariant *options);
gboolean pr_service_check_connected(PrService *self, GDBusMethodInvocation *invocation);
/* Queues @job and answers the call with its operation's path. */
void pr_service_return_job(PrService *self, GDBusMethodInvocation *invocation, PrJob *job);
/* An operation for work that is done by the time the call returns. */
void pr_service_return_done(PrService *self,
			    GDBusMethodInvocation *invocation,
			    const gchar *kind,
			    const GError *error);

void pr_service_connect_folder_methods(PrService *self);
void pr_service_connect_message_methods(PrService *self);

G_END_DECLS
