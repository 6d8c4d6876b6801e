/*
 * Copyright 2026 The Postroom developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#define G_LOG_DOMAIN "PrDaemon"

#include "pr-error.h"
#include "pr-flags-request.h"
#include "pr-service-private.h"

/* The Imap4Service methods that change messages: their flags, delete and undelete. */

/* Message flags ------------------------------------------------------------------------------ */

static gboolean
pr_service_set_flags(PrService *self,
		     GDBusMethodInvocation *invocation,
		     const gchar *kind,
		     GVariant *ids,
		     const gchar *const *add,
		     const gchar *const *remove,
		     GVariant *options)
{
	g_autoptr(PrFlagsRequest) request = NULL;
	g_autoptr(GError) error = NULL;
	PrJob *job;

	request = pr_flags_request_new(self->store, ids, add, remove, options, &error);
	if (request == NULL) {
		g_dbus_method_invocation_return_gerror(invocation, error);
		return TRUE;
	}
	/* TODO(offline): with offline-operations on, apply to the store and queue */
	if (!pr_service_check_connected(self, invocation))
		return TRUE;
	job = pr_session_new_job(self->session, PR_JOB_FLAGS, kind);
	job->flags.ids = g_steal_pointer(&request->ids);
	job->flags.add = g_steal_pointer(&request->add);
	job->flags.remove = g_steal_pointer(&request->remove);
	pr_service_return_job(self, invocation, job);
	return TRUE;
}

static gboolean
pr_service_handle_set_flags(PrDBusImap4Service *iface,
			    GDBusMethodInvocation *invocation,
			    GVariant *ids,
			    const gchar *const *add,
			    const gchar *const *remove,
			    GVariant *options,
			    gpointer user_data)
{
	return pr_service_set_flags(user_data, invocation, "set-flags", ids, add, remove, options);
}

static const gchar *const pr_service_deleted[] = { "\\Deleted", NULL };
static const gchar *const pr_service_no_flags[] = { NULL };

static gboolean
pr_service_handle_delete_messages(PrDBusImap4Service *iface,
				  GDBusMethodInvocation *invocation,
				  GVariant *ids,
				  GVariant *options,
				  gpointer user_data)
{
	return pr_service_set_flags(user_data,
				    invocation,
				    "delete",
				    ids,
				    pr_service_deleted,
				    pr_service_no_flags,
				    options);
}

static gboolean
pr_service_handle_undelete_messages(PrDBusImap4Service *iface,
				    GDBusMethodInvocation *invocation,
				    GVariant *ids,
				    GVariant *options,
				    gpointer user_data)
{
	return pr_service_set_flags(user_data,
				    invocation,
				    "undelete",
				    ids,
				    pr_service_no_flags,
				    pr_service_deleted,
				    options);
}

void
pr_service_connect_message_methods(PrService *self)
{
	g_signal_connect(
		self->iface, "handle-set-flags", G_CALLBACK(pr_service_handle_set_flags), self);
	g_signal_connect(self->iface,
			 "handle-delete-messages",
			 G_CALLBACK(pr_service_handle_delete_messages),
			 self);
	g_signal_connect(self->iface,
			 "handle-undelete-messages",
			 G_CALLBACK(pr_service_handle_undelete_messages),
			 self);
}
