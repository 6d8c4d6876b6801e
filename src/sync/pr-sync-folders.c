/*
 * Copyright 2026 The Postroom developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#define G_LOG_DOMAIN "PrSync"

#include "pr-error.h"
#include "pr-imap-utf7.h"
#include "pr-sync-private.h"

/*
 * Folder administration on the server: one chain of commands (CREATE, RENAME, DELETE and
 * the subscriptions that go with them), then a tree sync so that the store shows the
 * server's result.
 */

typedef struct {
	PrSyncFolderChange action;
	gchar *name;
	gchar *to;
	PrProgress *progress;
	GPtrArray *commands; /* PrImapCommand, sent in order */
	guint next;
} FolderData;

static void
folder_data_free(FolderData *data)
{
	g_free(data->name);
	g_free(data->to);
	g_clear_object(&data->progress);
	g_ptr_array_unref(data->commands);
	g_free(data);
}

gboolean
pr_sync_folder_name_check(const gchar *name, GError **error)
{
	g_autoptr(PrImapCommand) command = pr_imap_command_new("CREATE");

	return pr_imap_command_add_mailbox(command, name, error);
}

static PrImapCommand *
pr_sync_folder_command(PrSync *self, const gchar *verb, const PrStoreFolder *folder)
{
	PrImapCommand *command = pr_sync_command_new(self, verb);

	/* a name as the server spelled it goes back byte for byte */
	pr_imap_command_add_string(command, folder->raw_name, -1);
	return command;
}

static PrImapCommand *
pr_sync_folder_command_new_name(PrSync *self, const gchar *verb, const gchar *name, GError **error)
{
	g_autoptr(PrImapCommand) command = pr_sync_command_new(self, verb);

	if (!pr_imap_command_add_mailbox(command, name, error))
		return NULL;
	return g_steal_pointer(&command);
}

/* Servers end the session when the selected mailbox is deleted or renamed under it
 * (Dovecot: BYE "Selected mailbox was deleted"): leave it first. UNSELECT does not expunge;
 * without it, EXAMINE INBOX (never renamed or deleted here) deselects just as well. */
static void
pr_sync_folder_deselect_first(PrSync *self, GPtrArray *commands)
{
	PrImapCommand *command;

	if (pr_imap_client_get_state(self->client) != PR_IMAP_CLIENT_STATE_SELECTED)
		return;
	if (pr_imap_client_has_capability(self->client, "UNSELECT")) {
		command = pr_sync_command_new(self, "UNSELECT");
	} else {
		command = pr_sync_command_new(self, "EXAMINE");
		pr_imap_command_add_atom(command, "INBOX");
	}
	g_ptr_array_insert(commands, 0, command);
}

/* Children of @folder in the store, deepest first. */
static GPtrArray *
pr_sync_folder_children(PrSync *self, const PrStoreFolder *folder)
{
	g_autoptr(GPtrArray) all = pr_store_list_folders(self->store, NULL);
	GPtrArray *children = g_ptr_array_new_with_free_func((GDestroyNotify)pr_store_folder_free);
	g_autofree gchar *prefix = NULL;

	if (all == NULL || folder->delimiter == 0)
		return children;
	prefix = g_strdup_printf("%s%c", folder->name, folder->delimiter);
	for (guint i = all->len; i > 0; i--) {
		PrStoreFolder *f = g_ptr_array_index(all, i - 1);
		if (g_str_has_prefix(f->name, prefix))
			g_ptr_array_add(children, g_ptr_array_steal_index(all, i - 1));
	}
	return children;
}

static gboolean
pr_sync_folder_plan(PrSync *self, FolderData *data, GError **error)
{
	g_autoptr(PrStoreFolder) folder = NULL;
	PrImapCommand *command;

	if (data->action == PR_SYNC_FOLDER_CHANGE_CREATE) {
		command = pr_sync_folder_command_new_name(self, "CREATE", data->name, error);
		if (command == NULL)
			return FALSE;
		g_ptr_array_add(data->commands, command);
		/* a folder the user made is one they want to see synchronised */
		command = pr_sync_folder_command_new_name(self, "SUBSCRIBE", data->name, error);
		if (command == NULL)
			return FALSE;
		g_ptr_array_add(data->commands, command);
		return TRUE;
	}
	folder = pr_store_get_folder(self->store, data->name, error);
	if (folder == NULL)
		return FALSE;
	if (data->action == PR_SYNC_FOLDER_CHANGE_DELETE) {
		/* children first: servers refuse, or leave a \Noselect shell, otherwise */
		g_autoptr(GPtrArray) children = pr_sync_folder_children(self, folder);
		for (guint i = 0; i < children->len; i++) {
			PrStoreFolder *child = g_ptr_array_index(children, i);
			g_ptr_array_add(data->commands,
					pr_sync_folder_command(self, "UNSUBSCRIBE", child));
			g_ptr_array_add(data->commands,
					pr_sync_folder_command(self, "DELETE", child));
		}
		g_ptr_array_add(data->commands,
				pr_sync_folder_command(self, "UNSUBSCRIBE", folder));
		g_ptr_array_add(data->commands, pr_sync_folder_command(self, "DELETE", folder));
	} else {
		command = pr_sync_folder_command(self, "RENAME", folder);
		if (!pr_imap_command_add_mailbox(command, data->to, error)) {
			g_object_unref(command);
			return FALSE;
		}
		g_ptr_array_add(data->commands, command);
	}
	pr_sync_folder_deselect_first(self, data->commands);
	return TRUE;
}

static void
pr_sync_folder_tree_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	g_autoptr(GTask) task = G_TASK(user_data);
	PrSync *self = PR_SYNC(source);
	g_autoptr(GError) error = NULL;

	if (!pr_sync_run_finish(self, res, &error)) {
		g_task_return_error(task, g_steal_pointer(&error));
		return;
	}
	pr_sync_emit_folders_changed(self);
	g_task_return_boolean(task, TRUE);
}

/* The commands went through: the store follows the rename first, so that message ids
 * survive it; the tree sync then confirms what the server has. */
static void
pr_sync_folder_commands_done(GTask *task)
{
	PrSync *self = g_task_get_source_object(task);
	FolderData *data = g_task_get_task_data(task);

	if (data->action == PR_SYNC_FOLDER_CHANGE_RENAME) {
		g_autoptr(GError) error = NULL;
		g_autofree gchar *raw_to = NULL;
		g_autoptr(PrStoreFolder) folder =
			pr_store_get_folder(self->store, data->name, NULL);

		raw_to = pr_imap_client_get_utf8_enabled(self->client)
				 ? g_strdup(data->to)
				 : pr_imap_utf7_encode(data->to, NULL);
		if (folder != NULL &&
		    !pr_store_rename_folder(
			    self->store, data->name, data->to, raw_to, folder->delimiter, &error)) {
			g_task_return_error(task, g_steal_pointer(&error));
			return;
		}
	}
	if (data->progress != NULL)
		pr_progress_set_stage(data->progress, "syncing-tree");
	pr_sync_run_async(self,
			  PR_SYNC_SCOPE_TREE,
			  NULL,
			  data->progress,
			  g_task_get_cancellable(task),
			  pr_sync_folder_tree_cb,
			  g_object_ref(task));
}

static void pr_sync_folder_next(GTask *task);

static void
pr_sync_folder_command_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	g_autoptr(GTask) task = G_TASK(user_data);
	g_autoptr(PrImapResponse) response = NULL;
	g_autoptr(GError) error = NULL;

	response = pr_imap_client_run_finish(PR_IMAP_CLIENT(source), res, NULL, &error);
	if (response == NULL) {
		g_task_return_error(task, g_steal_pointer(&error));
		return;
	}
	pr_sync_folder_next(task);
}

static void
pr_sync_folder_next(GTask *task)
{
	PrSync *self = g_task_get_source_object(task);
	FolderData *data = g_task_get_task_data(task);

	if (data->next < data->commands->len) {
		PrImapCommand *command = g_ptr_array_index(data->commands, data->next++);
		pr_sync_run_command(self,
				    command,
				    g_task_get_cancellable(task),
				    pr_sync_folder_command_cb,
				    g_object_ref(task));
		return;
	}
	pr_sync_folder_commands_done(task);
}

void
pr_sync_change_folder_async(PrSync *self,
			    PrSyncFolderChange action,
			    const gchar *name,
			    const gchar *to,
			    PrProgress *progress,
			    GCancellable *cancellable,
			    GAsyncReadyCallback callback,
			    gpointer user_data)
{
	g_autoptr(GTask) task = g_task_new(self, cancellable, callback, user_data);
	g_autoptr(GError) error = NULL;
	FolderData *data = g_new0(FolderData, 1);

	g_return_if_fail(PR_IS_SYNC(self));
	g_return_if_fail(action != PR_SYNC_FOLDER_CHANGE_RENAME || to != NULL);
	g_task_set_source_tag(task, pr_sync_change_folder_async);
	data->action = action;
	data->name = g_strdup(name);
	data->to = g_strdup(to);
	data->progress = progress != NULL ? g_object_ref(progress) : NULL;
	data->commands = g_ptr_array_new_with_free_func(g_object_unref);
	g_task_set_task_data(task, data, (GDestroyNotify)folder_data_free);
	if (!pr_sync_folder_plan(self, data, &error)) {
		g_task_return_error(task, g_steal_pointer(&error));
		return;
	}
	pr_sync_folder_next(task);
}

gboolean
pr_sync_change_folder_finish(PrSync *self, GAsyncResult *res, GError **error)
{
	g_return_val_if_fail(g_task_is_valid(res, self), FALSE);
	return g_task_propagate_boolean(G_TASK(res), error);
}
