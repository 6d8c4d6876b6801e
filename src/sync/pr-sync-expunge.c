/*
 * Copyright 2026 The Postroom developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#define G_LOG_DOMAIN "PrSync"

#include "pr-error.h"
#include "pr-sync-private.h"

/*
 * delete-on-disconnect: what the account marked \Deleted is expunged, folder by folder,
 * with UID EXPUNGE where the server has UIDPLUS (only our messages go), else EXPUNGE, or
 * CLOSE when use-expunge is off; then the store forgets what went.
 */

typedef struct {
	PrStoreFolder *folder;
	GArray *uids; /* guint32, marked \Deleted in the store */
} ExpungeFolder;

static void
expunge_folder_free(ExpungeFolder *entry)
{
	pr_store_folder_free(entry->folder);
	g_array_unref(entry->uids);
	g_free(entry);
}

typedef struct {
	GPtrArray *commands; /* PrImapCommand */
	GPtrArray *folders;  /* ExpungeFolder */
	guint next;
} ExpungeData;

static void
expunge_data_free(ExpungeData *data)
{
	g_ptr_array_unref(data->commands);
	g_ptr_array_unref(data->folders);
	g_free(data);
}

/* The folders with messages marked \Deleted, and the commands that expunge them. */
static ExpungeData *
pr_sync_expunge_plan(PrSync *self, gboolean use_expunge)
{
	g_autoptr(GPtrArray) folders = pr_store_list_folders(self->store, NULL);
	ExpungeData *data = g_new0(ExpungeData, 1);
	gboolean uidplus = pr_imap_client_has_capability(self->client, "UIDPLUS");

	data->commands = g_ptr_array_new_with_free_func(g_object_unref);
	data->folders = g_ptr_array_new_with_free_func((GDestroyNotify)expunge_folder_free);
	for (guint i = 0; folders != NULL && i < folders->len; i++) {
		PrStoreFolder *folder = g_ptr_array_index(folders, i);
		g_autoptr(GPtrArray) messages = NULL;
		g_autoptr(GArray) uids = g_array_new(FALSE, FALSE, sizeof(guint32));
		PrImapCommand *select;
		ExpungeFolder *entry;
		PrStoreQuery query = { 0 };

		if (folder->local || folder->raw_name == NULL)
			continue;
		messages = pr_store_list_messages(self->store, folder->id, &query, NULL);
		for (guint j = 0; messages != NULL && j < messages->len; j++) {
			PrStoreMessage *message = g_ptr_array_index(messages, j);
			if (message->uid != 0 && pr_store_message_has_flag(message, "\\Deleted"))
				g_array_append_val(uids, message->uid);
		}
		if (uids->len == 0)
			continue;
		select = pr_imap_command_new("SELECT");
		pr_imap_command_add_string(select, folder->raw_name, -1);
		g_ptr_array_add(data->commands, select);
		if (use_expunge && uidplus) {
			PrImapCommand *expunge = pr_imap_command_new("UID EXPUNGE");
			pr_imap_command_add_uid_set(
				expunge, (const guint32 *)uids->data, uids->len);
			g_ptr_array_add(data->commands, expunge);
		} else {
			g_ptr_array_add(data->commands,
					pr_imap_command_new(use_expunge ? "EXPUNGE" : "CLOSE"));
		}
		entry = g_new0(ExpungeFolder, 1);
		entry->folder = g_ptr_array_steal_index(folders, i);
		entry->uids = g_steal_pointer(&uids);
		g_ptr_array_add(data->folders, entry);
		i--;
	}
	return data;
}

static void
pr_sync_expunge_forget(PrSync *self, ExpungeData *data)
{
	for (guint i = 0; i < data->folders->len; i++) {
		ExpungeFolder *entry = g_ptr_array_index(data->folders, i);
		g_autoptr(GArray) removed = g_array_new(FALSE, FALSE, sizeof(guint64));
		g_autoptr(GError) error = NULL;

		if (!pr_store_remove_uids(self->store,
					  entry->folder->id,
					  (const guint32 *)entry->uids->data,
					  entry->uids->len,
					  removed,
					  &error)) {
			g_warning("%s", error->message);
			continue;
		}
		pr_sync_emit_messages_changed(self, entry->folder->name, NULL, NULL, removed);
	}
}

static void pr_sync_expunge_next(GTask *task);

static void
pr_sync_expunge_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	g_autoptr(GTask) task = G_TASK(user_data);
	g_autoptr(PrImapResponse) response = NULL;
	g_autoptr(GError) error = NULL;

	response = pr_imap_client_run_finish(PR_IMAP_CLIENT(source), res, NULL, &error);
	if (response == NULL && !g_error_matches(error, PR_ERROR, PR_ERROR_SERVER_ERROR)) {
		/* the connection is gone: nothing more to expunge */
		g_task_return_error(task, g_steal_pointer(&error));
		return;
	}
	if (error != NULL)
		g_warning("expunge at disconnect: %s", error->message);
	pr_sync_expunge_next(task);
}

static void
pr_sync_expunge_next(GTask *task)
{
	PrSync *self = g_task_get_source_object(task);
	ExpungeData *data = g_task_get_task_data(task);

	if (data->next < data->commands->len) {
		PrImapCommand *command = g_ptr_array_index(data->commands, data->next++);
		pr_sync_run_command(self, command, NULL, pr_sync_expunge_cb, g_object_ref(task));
		return;
	}
	pr_sync_expunge_forget(self, data);
	g_task_return_boolean(task, TRUE);
}

void
pr_sync_expunge_deleted_async(PrSync *self,
			      gboolean use_expunge,
			      GCancellable *cancellable,
			      GAsyncReadyCallback callback,
			      gpointer user_data)
{
	g_autoptr(GTask) task = g_task_new(self, cancellable, callback, user_data);

	g_return_if_fail(PR_IS_SYNC(self));
	g_task_set_source_tag(task, pr_sync_expunge_deleted_async);
	g_task_set_task_data(
		task, pr_sync_expunge_plan(self, use_expunge), (GDestroyNotify)expunge_data_free);
	pr_sync_expunge_next(g_steal_pointer(&task));
}

gboolean
pr_sync_expunge_deleted_finish(PrSync *self, GAsyncResult *res, GError **error)
{
	g_return_val_if_fail(g_task_is_valid(res, self), FALSE);
	return g_task_propagate_boolean(G_TASK(res), error);
}
