/*
 * Copyright 2026 The Postroom developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#define G_LOG_DOMAIN "PrSync"

#include <string.h>

#include "pr-error.h"
#include "pr-sync-private.h"

/*
 * The folder tree: LIST (with RETURN (SUBSCRIBED SPECIAL-USE) under LIST-EXTENDED, else
 * LIST and LSUB pipelined), limited to folder-path when set (INBOX always), compared with
 * the store in one transaction. Subscriptions: subscription-update applied to both sides.
 */

/* INBOX exists on every server; the first sync handles it before the tree is known. It is
 * created locally subscribed: it is synchronised whatever the strategies say. */
gboolean
pr_sync_ensure_inbox(PrSync *self, GError **error)
{
	g_autoptr(PrStoreFolder) folder = NULL;
	g_autoptr(GError) error_local = NULL;

	folder = pr_store_get_folder(self->store, "INBOX", &error_local);
	if (folder != NULL)
		return TRUE;
	if (!g_error_matches(error_local, PR_ERROR, PR_ERROR_NOT_FOUND)) {
		g_propagate_error(error, g_steal_pointer(&error_local));
		return FALSE;
	}
	folder = g_new0(PrStoreFolder, 1);
	folder->name = g_strdup("INBOX");
	folder->raw_name = g_strdup("INBOX");
	folder->delimiter = pr_imap_client_get_delimiter(self->client);
	folder->attributes = g_new0(gchar *, 1);
	folder->subscribed = TRUE;
	if (!pr_store_save_folder(self->store, folder, error))
		return FALSE;
	pr_sync_emit_folders_changed(self);
	return TRUE;
}

/* Tree ---------------------------------------------------------------------------------- */

typedef struct {
	GHashTable *entries;	/* name -> PrImapListEntry */
	GHashTable *lsub;	/* names LSUB returned */
	gboolean list_extended; /* \Subscribed comes with the LIST answer */
	guint pending;
	gboolean failed;
} TreeData;

static void
tree_data_free(TreeData *data)
{
	g_hash_table_unref(data->entries);
	g_hash_table_unref(data->lsub);
	g_free(data);
}

static gboolean
pr_sync_strv_equal(gchar **a, gchar **b)
{
	guint na = a != NULL ? g_strv_length(a) : 0;
	guint nb = b != NULL ? g_strv_length(b) : 0;

	if (na != nb)
		return FALSE;
	for (guint i = 0; i < na; i++) {
		if (g_strcmp0(a[i], b[i]) != 0)
			return FALSE;
	}
	return TRUE;
}

/* LIST attributes as kept: \Subscribed is tracked in remote_subscribed instead, and
 * \Marked/\Unmarked are hints that change whenever the mailbox is read (they would make
 * every tree sync a change). */
static gchar **
pr_sync_list_attributes(const PrImapListEntry *entry)
{
	g_autoptr(GStrvBuilder) builder = g_strv_builder_new();

	for (guint i = 0; entry->attributes != NULL && entry->attributes[i] != NULL; i++) {
		if (g_ascii_strcasecmp(entry->attributes[i], "\\Subscribed") == 0 ||
		    g_ascii_strcasecmp(entry->attributes[i], "\\Marked") == 0 ||
		    g_ascii_strcasecmp(entry->attributes[i], "\\Unmarked") == 0)
			continue;
		g_strv_builder_add(builder, entry->attributes[i]);
	}
	return g_strv_builder_end(builder);
}

static gboolean
pr_sync_tree_apply(PrSync *self, TreeData *data, gboolean *changed, GError **error)
{
	g_autoptr(GPtrArray) folders = NULL;
	g_autoptr(GHashTable) known = g_hash_table_new(g_str_hash, g_str_equal);
	GHashTableIter iter;
	gpointer key, value;

	folders = pr_store_list_folders(self->store, error);
	if (folders == NULL)
		return FALSE;
	if (!pr_store_begin(self->store, error))
		return FALSE;
	for (guint i = 0; i < folders->len; i++) {
		PrStoreFolder *folder = g_ptr_array_index(folders, i);
		PrImapListEntry *entry;
		g_auto(GStrv) attributes = NULL;
		gboolean remote_subscribed;

		if (folder->local)
			continue;
		g_hash_table_add(known, folder->name);
		entry = g_hash_table_lookup(data->entries, folder->name);
		if (entry == NULL) {
			/* INBOX always exists, even when a folder-path hides it from LIST */
			if (g_strcmp0(folder->name, "INBOX") == 0)
				continue;
			g_debug("folder %s is gone from the server", folder->name);
			if (!pr_store_delete_folder(self->store, folder->id, error)) {
				pr_store_rollback(self->store);
				return FALSE;
			}
			*changed = TRUE;
			continue;
		}
		attributes = pr_sync_list_attributes(entry);
		remote_subscribed =
			data->list_extended
				? pr_sync_flag_in((const gchar *const *)entry->attributes,
						  "\\Subscribed")
				: g_hash_table_contains(data->lsub, folder->name);
		if (g_strcmp0(folder->raw_name, entry->raw_name) == 0 &&
		    folder->delimiter == entry->delimiter &&
		    pr_sync_strv_equal(folder->attributes, attributes) &&
		    g_strcmp0(folder->special_use, entry->special_use) == 0 &&
		    folder->remote_subscribed == remote_subscribed)
			continue;
		g_debug("folder %s changed on the server", folder->name);
		g_free(folder->raw_name);
		folder->raw_name = g_strdup(entry->raw_name);
		folder->delimiter = entry->delimiter;
		g_strfreev(folder->attributes);
		folder->attributes = g_steal_pointer(&attributes);
		g_free(folder->special_use);
		folder->special_use = g_strdup(entry->special_use);
		folder->remote_subscribed = remote_subscribed;
		if (!pr_store_save_folder(self->store, folder, error)) {
			pr_store_rollback(self->store);
			return FALSE;
		}
		*changed = TRUE;
	}
	g_hash_table_iter_init(&iter, data->entries);
	while (g_hash_table_iter_next(&iter, &key, &value)) {
		PrImapListEntry *entry = value;
		g_autoptr(PrStoreFolder) folder = NULL;

		if (g_hash_table_contains(known, key))
			continue;
		folder = g_new0(PrStoreFolder, 1);
		folder->name = g_strdup(entry->name);
		folder->raw_name = g_strdup(entry->raw_name);
		folder->delimiter = entry->delimiter;
		folder->attributes = pr_sync_list_attributes(entry);
		folder->special_use = g_strdup(entry->special_use);
		folder->remote_subscribed =
			data->list_extended
				? pr_sync_flag_in((const gchar *const *)entry->attributes,
						  "\\Subscribed")
				: g_hash_table_contains(data->lsub, entry->name);
		folder->subscribed = folder->remote_subscribed;
		if (!pr_store_save_folder(self->store, folder, error)) {
			pr_store_rollback(self->store);
			return FALSE;
		}
		*changed = TRUE;
	}
	return pr_store_commit(self->store, error);
}

static void
pr_sync_tree_list_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	g_autoptr(GTask) task = G_TASK(user_data);
	PrSync *self = g_task_get_source_object(task);
	TreeData *data = g_task_get_task_data(task);
	g_autoptr(PrImapResponse) response = NULL;
	g_autoptr(GPtrArray) untagged = NULL;
	g_autoptr(GError) error = NULL;
	gboolean utf8 = pr_imap_client_get_utf8_enabled(self->client);
	gboolean changed = FALSE;

	response = pr_imap_client_run_finish(PR_IMAP_CLIENT(source), res, &untagged, &error);
	data->pending--;
	if (data->failed)
		return;
	if (response == NULL) {
		data->failed = TRUE;
		g_task_return_error(task, g_steal_pointer(&error));
		return;
	}
	for (guint i = 0; i < untagged->len; i++) {
		PrImapResponse *r = g_ptr_array_index(untagged, i);
		const gchar *keyword = pr_imap_response_get_keyword(r);
		g_autoptr(PrImapListEntry) entry = NULL;
		gchar *name;

		if (g_strcmp0(keyword, "LIST") != 0 && g_strcmp0(keyword, "LSUB") != 0)
			continue;
		entry = pr_imap_response_parse_list(r, utf8, &error);
		if (entry == NULL) {
			data->failed = TRUE;
			g_task_return_error(task, g_steal_pointer(&error));
			return;
		}
		if (g_strcmp0(keyword, "LSUB") == 0) {
			g_hash_table_add(data->lsub, g_strdup(entry->name));
			continue;
		}
		/* \NonExistent (LIST-EXTENDED) parents of real mailboxes are kept, like
		 * \Noselect ones: the tree needs them; they are never selected */
		name = g_strdup(entry->name);
		g_hash_table_replace(data->entries, name, g_steal_pointer(&entry));
	}
	if (data->pending > 0)
		return;
	if (!pr_sync_tree_apply(self, data, &changed, &error)) {
		g_task_return_error(task, g_steal_pointer(&error));
		return;
	}
	if (changed)
		pr_sync_emit_folders_changed(self);
	g_task_return_boolean(task, TRUE);
}

static gboolean
pr_sync_tree_queue(PrSync *self,
		   GTask *task,
		   const gchar *verb,
		   const gchar *pattern,
		   GError **error)
{
	TreeData *data = g_task_get_task_data(task);
	g_autoptr(PrImapCommand) command = pr_sync_command_new(self, verb);

	pr_imap_command_add_string(command, "", 0);
	if (!pr_imap_command_add_mailbox(command, pattern, error))
		return FALSE;
	if (g_strcmp0(verb, "LIST") == 0 && data->list_extended) {
		if (pr_imap_client_has_capability(self->client, "SPECIAL-USE"))
			pr_imap_command_add_atom(command,
						 "RETURN (SUBSCRIBED CHILDREN SPECIAL-USE)");
		else
			pr_imap_command_add_atom(command, "RETURN (SUBSCRIBED CHILDREN)");
	}
	data->pending++;
	pr_sync_run_command(self,
			    command,
			    g_task_get_cancellable(task),
			    pr_sync_tree_list_cb,
			    g_object_ref(task));
	return TRUE;
}

void
pr_sync_tree_async(PrSync *self,
		   GCancellable *cancellable,
		   GAsyncReadyCallback callback,
		   gpointer user_data)
{
	g_autoptr(GTask) task = g_task_new(self, cancellable, callback, user_data);
	g_autofree gchar *pattern = NULL;
	TreeData *data = g_new0(TreeData, 1);
	GError *error = NULL;
	const gchar *verbs[] = { "LIST", "LSUB" };
	guint n_verbs;

	g_task_set_source_tag(task, pr_sync_tree_async);
	g_task_set_check_cancellable(task, FALSE);
	data->entries = g_hash_table_new_full(
		g_str_hash, g_str_equal, g_free, (GDestroyNotify)pr_imap_list_entry_free);
	data->lsub = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	data->list_extended = pr_imap_client_has_capability(self->client, "LIST-EXTENDED");
	g_task_set_task_data(task, data, (GDestroyNotify)tree_data_free);
	n_verbs = data->list_extended ? 1 : 2;

	if (self->folder_path != NULL) {
		gchar delimiter = pr_imap_client_get_delimiter(self->client);
		g_autofree gchar *root = g_strdup(self->folder_path);
		gsize len = strlen(root);

		while (len > 0 && delimiter != '\0' && root[len - 1] == delimiter)
			root[--len] = '\0';
		if (delimiter != '\0')
			pattern = g_strdup_printf("%s%c*", root, delimiter);
		else
			pattern = g_strdup_printf("%s*", root);
	}
	for (guint i = 0; i < n_verbs; i++) {
		gboolean ok;
		if (pattern != NULL) {
			/* INBOX is outside most roots but always synchronised */
			ok = pr_sync_tree_queue(self, task, verbs[i], "INBOX", &error) &&
			     pr_sync_tree_queue(self, task, verbs[i], pattern, &error);
		} else {
			ok = pr_sync_tree_queue(self, task, verbs[i], "*", &error);
		}
		if (!ok) {
			/* nothing queued completes the task: only a bad folder-path gets here,
			 * and then before any command is queued */
			data->failed = TRUE;
			g_task_return_error(task, error);
			return;
		}
	}
}

gboolean
pr_sync_tree_finish(PrSync *self, GAsyncResult *res, GError **error)
{
	g_return_val_if_fail(g_task_is_valid(res, self), FALSE);
	return g_task_propagate_boolean(G_TASK(res), error);
}

/* Subscriptions ------------------------------------------------------------------------- */

typedef struct {
	guint pending;
	gboolean changed;
	gboolean failed;
} SubsData;

typedef struct {
	GTask *task;
	gint64 folder_id;
	gboolean subscribe;
} SubsOp;

static void
pr_sync_subscriptions_done(GTask *task)
{
	PrSync *self = g_task_get_source_object(task);
	SubsData *data = g_task_get_task_data(task);

	if (data->changed)
		pr_sync_emit_folders_changed(self);
	g_task_return_boolean(task, TRUE);
}

static void
pr_sync_subscribe_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	SubsOp *op = user_data;
	g_autoptr(GTask) task = op->task;
	PrSync *self = g_task_get_source_object(task);
	SubsData *data = g_task_get_task_data(task);
	g_autoptr(PrImapResponse) response = NULL;
	g_autoptr(GError) error = NULL;
	g_autoptr(PrStoreFolder) folder = NULL;
	gint64 folder_id = op->folder_id;
	gboolean subscribe = op->subscribe;

	g_free(op);
	response = pr_imap_client_run_finish(PR_IMAP_CLIENT(source), res, NULL, &error);
	data->pending--;
	if (data->failed)
		return;
	if (response == NULL) {
		if (!g_error_matches(error, PR_ERROR, PR_ERROR_SERVER_ERROR)) {
			data->failed = TRUE;
			g_task_return_error(task, g_steal_pointer(&error));
			return;
		}
		/* one folder the server will not (un)subscribe does not stop the others */
		g_warning("could not change the subscription: %s", error->message);
		g_clear_error(&error);
	} else {
		/* read again now: the folder may have changed while the command ran */
		folder = pr_store_get_folder_by_id(self->store, folder_id, &error);
		if (folder == NULL && !g_error_matches(error, PR_ERROR, PR_ERROR_NOT_FOUND)) {
			data->failed = TRUE;
			g_task_return_error(task, g_steal_pointer(&error));
			return;
		}
		g_clear_error(&error);
		if (folder != NULL && folder->remote_subscribed != subscribe) {
			folder->remote_subscribed = subscribe;
			if (!pr_store_save_folder(self->store, folder, &error)) {
				data->failed = TRUE;
				g_task_return_error(task, g_steal_pointer(&error));
				return;
			}
			data->changed = TRUE;
		}
	}
	if (data->pending == 0)
		pr_sync_subscriptions_done(task);
}

void
pr_sync_subscriptions_async(PrSync *self,
			    GCancellable *cancellable,
			    GAsyncReadyCallback callback,
			    gpointer user_data)
{
	g_autoptr(GTask) task = g_task_new(self, cancellable, callback, user_data);
	g_autoptr(GPtrArray) folders = NULL;
	g_autoptr(GPtrArray) commands = g_ptr_array_new_with_free_func(g_object_unref);
	g_autoptr(GArray) ops = g_array_new(FALSE, FALSE, sizeof(SubsOp));
	SubsData *data = g_new0(SubsData, 1);
	PrSyncSubscriptionStrategy strategy = self->subscription_update;
	GError *error = NULL;

	g_task_set_source_tag(task, pr_sync_subscriptions_async);
	g_task_set_check_cancellable(task, FALSE);
	g_task_set_task_data(task, data, g_free);
	if (strategy == PR_SYNC_SUBSCRIPTIONS_NEITHER) {
		g_task_return_boolean(task, TRUE);
		return;
	}
	folders = pr_store_list_folders(self->store, &error);
	if (folders == NULL) {
		g_task_return_error(task, error);
		return;
	}
	if (!pr_store_begin(self->store, &error)) {
		g_task_return_error(task, error);
		return;
	}
	for (guint i = 0; i < folders->len; i++) {
		PrStoreFolder *folder = g_ptr_array_index(folders, i);
		gboolean local_want = folder->subscribed;
		gboolean remote_want = folder->remote_subscribed;

		if (folder->local)
			continue;
		switch (strategy) {
		case PR_SYNC_SUBSCRIPTIONS_LOCAL_FROM_REMOTE:
			local_want = folder->remote_subscribed;
			break;
		case PR_SYNC_SUBSCRIPTIONS_REMOTE_FROM_LOCAL:
			remote_want = folder->subscribed;
			break;
		case PR_SYNC_SUBSCRIPTIONS_BOTH:
			local_want = remote_want = folder->subscribed || folder->remote_subscribed;
			break;
		case PR_SYNC_SUBSCRIPTIONS_NEITHER:
		default:
			break;
		}
		if (local_want != folder->subscribed) {
			folder->subscribed = local_want;
			if (!pr_store_save_folder(self->store, folder, &error)) {
				pr_store_rollback(self->store);
				g_task_return_error(task, error);
				return;
			}
			data->changed = TRUE;
		}
		if (remote_want != folder->remote_subscribed) {
			PrImapCommand *command = pr_sync_command_new(
				self, remote_want ? "SUBSCRIBE" : "UNSUBSCRIBE");
			SubsOp op = { NULL, folder->id, remote_want };
			if (!pr_sync_command_add_folder(self, command, folder, &error)) {
				g_object_unref(command);
				pr_store_rollback(self->store);
				g_task_return_error(task, error);
				return;
			}
			g_ptr_array_add(commands, command);
			g_array_append_val(ops, op);
		}
	}
	if (!pr_store_commit(self->store, &error)) {
		g_task_return_error(task, error);
		return;
	}
	if (commands->len == 0) {
		pr_sync_subscriptions_done(task);
		return;
	}
	/* all pipelined; each OK updates remote_subscribed */
	data->pending = commands->len;
	for (guint i = 0; i < commands->len; i++) {
		SubsOp *op = g_new0(SubsOp, 1);
		*op = g_array_index(ops, SubsOp, i);
		op->task = g_object_ref(task);
		pr_sync_run_command(self,
				    g_ptr_array_index(commands, i),
				    cancellable,
				    pr_sync_subscribe_cb,
				    op);
	}
}

gboolean
pr_sync_subscriptions_finish(PrSync *self, GAsyncResult *res, GError **error)
{
	g_return_val_if_fail(g_task_is_valid(res, self), FALSE);
	return g_task_propagate_boolean(G_TASK(res), error);
}

/* Which folders a full sync visits ----------------------------------------------------- */

GPtrArray *
pr_sync_plan_folders(PrSync *self, GError **error)
{
	g_autoptr(GPtrArray) folders = NULL;
	g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func(g_free);

	folders = pr_store_list_folders(self->store, error);
	if (folders == NULL)
		return NULL;
	for (guint i = 0; i < folders->len; i++) {
		PrStoreFolder *folder = g_ptr_array_index(folders, i);
		gboolean want;

		if (!pr_sync_folder_is_selectable(folder) || g_strcmp0(folder->name, "INBOX") == 0)
			continue;
		switch (self->folder_sync) {
		case PR_SYNC_FOLDERS_LOCAL_SUBSCRIBED:
			want = folder->subscribed;
			break;
		case PR_SYNC_FOLDERS_EITHER:
			want = folder->subscribed || folder->remote_subscribed;
			break;
		case PR_SYNC_FOLDERS_ALL:
			want = TRUE;
			break;
		case PR_SYNC_FOLDERS_REMOTE_SUBSCRIBED:
		default:
			want = folder->remote_subscribed;
			break;
		}
		if (want)
			g_ptr_array_add(names, g_strdup(folder->name));
	}
	return g_steal_pointer(&names);
}
