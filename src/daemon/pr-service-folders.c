/*
 * Copyright 2026 The Postroom developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#define G_LOG_DOMAIN "PrDaemon"

#include "pr-error.h"
#include "pr-folder-change.h"
#include "pr-service-private.h"

/* The Imap4Service methods that change folders: subscriptions, create, rename, delete. */

/* Subscriptions and folders ------------------------------------------------------------------- */

static gboolean
pr_service_set_subscribed(PrService *self,
			  GDBusMethodInvocation *invocation,
			  const gchar *name,
			  GVariant *options,
			  gboolean subscribed)
{
	g_autoptr(PrStoreFolder) folder = NULL;
	g_autoptr(GError) error = NULL;

	if (!pr_service_check_no_options(invocation, options))
		return TRUE;
	folder = pr_store_get_folder(self->store, name, &error);
	if (folder == NULL) {
		g_dbus_method_invocation_return_gerror(invocation, error);
		return TRUE;
	}
	if (folder->subscribed != subscribed) {
		folder->subscribed = subscribed;
		if (!pr_store_save_folder(self->store, folder, &error)) {
			g_dbus_method_invocation_return_gerror(invocation, error);
			return TRUE;
		}
		pr_dbus_imap4_service_emit_folders_changed(self->iface);
	}
	pr_service_return_done(self, invocation, subscribed ? "subscribe" : "unsubscribe", NULL);
	return TRUE;
}

static gboolean
pr_service_handle_subscribe(PrDBusImap4Service *iface,
			    GDBusMethodInvocation *invocation,
			    const gchar *folder,
			    GVariant *options,
			    gpointer user_data)
{
	return pr_service_set_subscribed(user_data, invocation, folder, options, TRUE);
}

static gboolean
pr_service_handle_unsubscribe(PrDBusImap4Service *iface,
			      GDBusMethodInvocation *invocation,
			      const gchar *folder,
			      GVariant *options,
			      gpointer user_data)
{
	return pr_service_set_subscribed(user_data, invocation, folder, options, FALSE);
}

static gboolean
pr_service_change_folder(PrService *self,
			 GDBusMethodInvocation *invocation,
			 PrSyncFolderChange change,
			 const gchar *name,
			 const gchar *to,
			 GVariant *options)
{
	const gchar *kind = change == PR_SYNC_FOLDER_CHANGE_CREATE   ? "create-folder"
			    : change == PR_SYNC_FOLDER_CHANGE_RENAME ? "rename-folder"
								     : "delete-folder";
	g_autoptr(GError) error = NULL;
	gboolean local = FALSE;
	PrJob *job;

	if (!pr_service_check_no_options(invocation, options))
		return TRUE;
	if (!pr_folder_change_check(self->store, change, name, to, &local, &error)) {
		g_dbus_method_invocation_return_gerror(invocation, error);
		return TRUE;
	}
	if (local) {
		if (!pr_folder_change_apply_local(self->store, change, name, to, &error)) {
			g_dbus_method_invocation_return_gerror(invocation, error);
			return TRUE;
		}
		pr_dbus_imap4_service_emit_folders_changed(self->iface);
		pr_service_return_done(self, invocation, kind, NULL);
		return TRUE;
	}
	/* a server folder changes in a job: the commands, then a tree sync */
	if (!pr_service_check_connected(self, invocation))
		return TRUE;
	job = pr_session_new_job(self->session, PR_JOB_FOLDER, kind);
	job->folder.action = change;
	job->folder.name = g_strdup(name);
	job->folder.to = g_strdup(to);
	pr_service_return_job(self, invocation, job);
	return TRUE;
}

static gboolean
pr_service_handle_create_folder(PrDBusImap4Service *iface,
				GDBusMethodInvocation *invocation,
				const gchar *name,
				GVariant *options,
				gpointer user_data)
{
	return pr_service_change_folder(
		user_data, invocation, PR_SYNC_FOLDER_CHANGE_CREATE, name, NULL, options);
}

static gboolean
pr_service_handle_delete_folder(PrDBusImap4Service *iface,
				GDBusMethodInvocation *invocation,
				const gchar *name,
				GVariant *options,
				gpointer user_data)
{
	return pr_service_change_folder(
		user_data, invocation, PR_SYNC_FOLDER_CHANGE_DELETE, name, NULL, options);
}

static gboolean
pr_service_handle_rename_folder(PrDBusImap4Service *iface,
				GDBusMethodInvocation *invocation,
				const gchar *from,
				const gchar *to,
				GVariant *options,
				gpointer user_data)
{
	return pr_service_change_folder(
		user_data, invocation, PR_SYNC_FOLDER_CHANGE_RENAME, from, to, options);
}

void
pr_service_connect_folder_methods(PrService *self)
{
	g_signal_connect(
		self->iface, "handle-subscribe", G_CALLBACK(pr_service_handle_subscribe), self);
	g_signal_connect(
		self->iface, "handle-unsubscribe", G_CALLBACK(pr_service_handle_unsubscribe), self);
	g_signal_connect(self->iface,
			 "handle-create-folder",
			 G_CALLBACK(pr_service_handle_create_folder),
			 self);
	g_signal_connect(self->iface,
			 "handle-rename-folder",
			 G_CALLBACK(pr_service_handle_rename_folder),
			 self);
	g_signal_connect(self->iface,
			 "handle-delete-folder",
			 G_CALLBACK(pr_service_handle_delete_folder),
			 self);
}
