/*
 * Copyright 2026 The Postroom developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#define G_LOG_DOMAIN "PrSync"

#include <glib/gi18n-lib.h>
#include <string.h>

#include "pr-error.h"
#include "pr-sync-private.h"

/*
 * PrSync: the GObject, its signals and the scope runner. The steps live beside it:
 * pr-sync-tree.c (LIST, subscriptions), pr-sync-mailbox.c (one mailbox), pr-sync-bodies.c
 * (message bodies) and pr-sync-seen.c (\Seen reconciliation state); the helpers they share
 * are in pr-sync-helpers.c.
 *
 * One run at a time: every step uses the one connection (SELECT state is per connection),
 * so a second run or body fetch while one is going fails with Busy.
 */

#define PR_SYNC_DEFAULT_FETCH_BATCH 500

G_DEFINE_TYPE(PrSync, pr_sync, G_TYPE_OBJECT)

enum { SIGNAL_FOLDERS_CHANGED, SIGNAL_MESSAGES_CHANGED, SIGNAL_NEW_MAIL, SIGNAL_LAST };
static guint signals[SIGNAL_LAST] = { 0 };

/* Settings strings --------------------------------------------------------------------- */

gboolean
pr_sync_scope_from_string(const gchar *str, PrSyncScope *scope)
{
	static const struct {
		const gchar *name;
		PrSyncScope scope;
	} scopes[] = {
		{ "full", PR_SYNC_SCOPE_FULL },
		{ "tree", PR_SYNC_SCOPE_TREE },
		{ "inbox-new", PR_SYNC_SCOPE_INBOX_NEW },
		{ "folders", PR_SYNC_SCOPE_FOLDERS },
		{ "subscriptions", PR_SYNC_SCOPE_SUBSCRIPTIONS },
	};
	for (guint i = 0; i < G_N_ELEMENTS(scopes); i++) {
		if (g_strcmp0(str, scopes[i].name) == 0) {
			if (scope != NULL)
				*scope = scopes[i].scope;
			return TRUE;
		}
	}
	return FALSE;
}

gboolean
pr_sync_folder_strategy_from_string(const gchar *str, PrSyncFolderStrategy *strategy)
{
	static const gchar *const names[] = {
		"remote-subscribed",
		"local-subscribed",
		"either",
		"all",
	};
	for (guint i = 0; i < G_N_ELEMENTS(names); i++) {
		if (g_strcmp0(str, names[i]) == 0) {
			if (strategy != NULL)
				*strategy = (PrSyncFolderStrategy)i;
			return TRUE;
		}
	}
	return FALSE;
}

gboolean
pr_sync_subscription_strategy_from_string(const gchar *str, PrSyncSubscriptionStrategy *strategy)
{
	static const gchar *const names[] = {
		"neither",
		"local-from-remote",
		"remote-from-local",
		"both",
	};
	for (guint i = 0; i < G_N_ELEMENTS(names); i++) {
		if (g_strcmp0(str, names[i]) == 0) {
			if (strategy != NULL)
				*strategy = (PrSyncSubscriptionStrategy)i;
			return TRUE;
		}
	}
	return FALSE;
}

/* Signals ------------------------------------------------------------------------------ */

void
pr_sync_emit_folders_changed(PrSync *self)
{
	g_signal_emit(self, signals[SIGNAL_FOLDERS_CHANGED], 0);
}

void
pr_sync_emit_messages_changed(PrSync *self,
			      const gchar *folder,
			      GArray *added,
			      GArray *changed,
			      GArray *removed)
{
	g_autoptr(GArray) empty = g_array_new(FALSE, FALSE, sizeof(guint64));

	if ((added == NULL || added->len == 0) && (changed == NULL || changed->len == 0) &&
	    (removed == NULL || removed->len == 0))
		return;
	g_signal_emit(self,
		      signals[SIGNAL_MESSAGES_CHANGED],
		      0,
		      folder,
		      added != NULL ? added : empty,
		      changed != NULL ? changed : empty,
		      removed != NULL ? removed : empty);
}

void
pr_sync_emit_new_mail(PrSync *self, const gchar *folder, GArray *ids)
{
	if (ids == NULL || ids->len == 0)
		return;
	g_signal_emit(self, signals[SIGNAL_NEW_MAIL], 0, folder, ids);
}

/* Running a scope ----------------------------------------------------------------------- */

typedef enum {
	STEP_INBOX,
	STEP_INBOX_NEW,
	STEP_TREE,
	STEP_SUBSCRIPTIONS,
	STEP_PLAN,
	STEP_FOLDERS,
} RunStep;

typedef struct {
	PrSyncScope scope;
	PrProgress *progress;
	GArray *steps; /* of RunStep, in order */
	guint step;
	GPtrArray *names; /* folders for STEP_FOLDERS */
	guint idx;
	/* STEP_FOLDERS' progress (owned by ->progress): one step per folder */
	PrProgress *folders_progress;
} RunData;

static void
run_data_free(RunData *data)
{
	g_clear_object(&data->progress);
	g_array_unref(data->steps);
	g_clear_pointer(&data->names, g_ptr_array_unref);
	g_free(data);
}

static void
pr_sync_run_return(GTask *task, GError *error)
{
	PrSync *self = g_task_get_source_object(task);

	self->busy = FALSE;
	if (error != NULL) {
		g_task_return_error(task, error);
		return;
	}
	g_task_return_boolean(task, TRUE);
}

static void pr_sync_run_next(GTask *task);

/* The next step, in the run and in its progress. */
static void
pr_sync_run_advance(RunData *data)
{
	pr_sync_progress_step_done(data->progress);
	data->step++;
}

/* How much work a folder's sync is, as far as the store knows: its messages, and one
 * for the round trips even when it is empty. */
static guint
pr_sync_folder_weight(PrSync *self, const gchar *name)
{
	g_autoptr(PrStoreFolder) folder = pr_store_get_folder(self->store, name, NULL);
	return folder != NULL ? MIN((guint64)folder->messages + 1, G_MAXUINT / 2) : 1;
}

static guint
pr_sync_folders_weight(PrSync *self, GPtrArray *names)
{
	guint64 weight = 0;

	for (guint i = 0; names != NULL && i < names->len; i++)
		weight += pr_sync_folder_weight(self, g_ptr_array_index(names, i));
	return (guint)CLAMP(weight, 1, G_MAXUINT / 2);
}

/* One step of the progress per folder of STEP_FOLDERS, weighted as they are known. */
static void
pr_sync_run_folder_steps(PrSync *self, RunData *data)
{
	data->folders_progress = pr_sync_progress_child(data->progress);
	for (guint i = 0; data->folders_progress != NULL && i < data->names->len; i++)
		pr_sync_progress_add_step(
			data->folders_progress,
			pr_sync_folder_weight(self, g_ptr_array_index(data->names, i)));
}

/* The run's steps as steps of its progress: the sync is one tree, so that its fraction
 * never jumps back nor leaps when the first message total arrives. */
static void
pr_sync_run_progress_steps(PrSync *self, RunData *data)
{
	g_autoptr(GPtrArray) planned = NULL;

	if (data->progress == NULL)
		return;
	for (guint i = 0; i < data->steps->len; i++) {
		guint weight = 1;
		switch (g_array_index(data->steps, RunStep, i)) {
		case STEP_INBOX:
		case STEP_INBOX_NEW:
			weight = pr_sync_folder_weight(self, "INBOX");
			break;
		case STEP_PLAN:
			weight = 0; /* no I/O */
			break;
		case STEP_FOLDERS:
			/* the folders as the store knows them before LIST */
			if (data->names == NULL)
				planned = pr_sync_plan_folders(self, NULL);
			weight = pr_sync_folders_weight(
				self, data->names != NULL ? data->names : planned);
			break;
		case STEP_TREE:
		case STEP_SUBSCRIPTIONS:
		default:
			break;
		}
		pr_sync_progress_add_step(data->progress, weight);
	}
}

static void
pr_sync_run_step_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	g_autoptr(GTask) task = G_TASK(user_data);
	PrSync *self = PR_SYNC(source);
	RunData *data = g_task_get_task_data(task);
	RunStep step = g_array_index(data->steps, RunStep, data->step);
	g_autoptr(GError) error = NULL;
	gboolean ok;

	switch (step) {
	case STEP_TREE:
		ok = pr_sync_tree_finish(self, res, &error);
		break;
	case STEP_SUBSCRIPTIONS:
		ok = pr_sync_subscriptions_finish(self, res, &error);
		break;
	default:
		ok = pr_sync_mailbox_finish(self, res, &error);
		if (ok)
			pr_sync_progress_folders(data->progress, 0, 1);
		if (ok && step == STEP_FOLDERS)
			pr_sync_progress_step_done(data->folders_progress);
		break;
	}
	if (!ok) {
		pr_sync_run_return(task, g_steal_pointer(&error));
		return;
	}
	if (step == STEP_FOLDERS) {
		data->idx++;
		if (data->idx < data->names->len) {
			pr_sync_run_next(task);
			return;
		}
	}
	pr_sync_run_advance(data);
	pr_sync_run_next(task);
}

static const gchar *
pr_sync_stage_for(const gchar *name)
{
	return g_strcmp0(name, "INBOX") == 0 ? "syncing-inbox" : "syncing-folder";
}

static void
pr_sync_run_next(GTask *task)
{
	PrSync *self = g_task_get_source_object(task);
	RunData *data = g_task_get_task_data(task);
	GCancellable *cancellable = g_task_get_cancellable(task);
	GError *error = NULL;
	RunStep step;

	if (g_cancellable_set_error_if_cancelled(cancellable, &error)) {
		pr_error_convert(&error);
		pr_sync_run_return(task, error);
		return;
	}
	if (data->step >= data->steps->len) {
		pr_sync_run_return(task, NULL);
		return;
	}
	step = g_array_index(data->steps, RunStep, data->step);
	switch (step) {
	case STEP_INBOX:
	case STEP_INBOX_NEW:
		pr_sync_progress_stage(data->progress, "syncing-inbox");
		if (!pr_sync_ensure_inbox(self, &error)) {
			pr_sync_run_return(task, error);
			return;
		}
		pr_sync_mailbox_async(self,
				      "INBOX",
				      step == STEP_INBOX_NEW,
				      pr_sync_progress_child(data->progress),
				      cancellable,
				      pr_sync_run_step_cb,
				      g_object_ref(task));
		break;
	case STEP_TREE:
		pr_sync_progress_stage(data->progress,
				       data->scope == PR_SYNC_SCOPE_SUBSCRIPTIONS
					       ? "syncing-subscriptions"
					       : "syncing-tree");
		pr_sync_progress_folder(data->progress, NULL);
		pr_sync_tree_async(self, cancellable, pr_sync_run_step_cb, g_object_ref(task));
		break;
	case STEP_SUBSCRIPTIONS:
		pr_sync_progress_stage(data->progress, "syncing-subscriptions");
		pr_sync_progress_folder(data->progress, NULL);
		pr_sync_subscriptions_async(
			self, cancellable, pr_sync_run_step_cb, g_object_ref(task));
		break;
	case STEP_PLAN:
		data->names = pr_sync_plan_folders(self, &error);
		if (data->names == NULL) {
			pr_sync_run_return(task, error);
			return;
		}
		pr_sync_progress_folders(data->progress, data->names->len, 0);
		data->idx = 0;
		pr_sync_run_advance(data);
		if (data->names->len == 0)
			pr_sync_run_advance(data); /* nothing for STEP_FOLDERS */
		else
			pr_sync_run_folder_steps(self, data);
		pr_sync_run_next(task);
		break;
	case STEP_FOLDERS: {
		const gchar *name = g_ptr_array_index(data->names, data->idx);
		pr_sync_progress_stage(data->progress, pr_sync_stage_for(name));
		if (g_strcmp0(name, "INBOX") == 0 && !pr_sync_ensure_inbox(self, &error)) {
			pr_sync_run_return(task, error);
			return;
		}
		pr_sync_mailbox_async(self,
				      name,
				      FALSE,
				      pr_sync_progress_child(data->folders_progress),
				      cancellable,
				      pr_sync_run_step_cb,
				      g_object_ref(task));
		break;
	}
	default:
		g_assert_not_reached();
	}
}

/* The folders of a FOLDERS scope: each must be known; local and \Noselect ones have
 * nothing to synchronise. */
static GPtrArray *
pr_sync_check_folders(PrSync *self, const gchar *const *folders, GError **error)
{
	g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func(g_free);

	for (guint i = 0; folders != NULL && folders[i] != NULL; i++) {
		g_autoptr(PrStoreFolder) folder = NULL;
		g_autoptr(GError) error_local = NULL;
		gboolean dup = FALSE;

		folder = pr_store_get_folder(self->store, folders[i], &error_local);
		if (folder == NULL && g_strcmp0(folders[i], "INBOX") == 0 &&
		    g_error_matches(error_local, PR_ERROR, PR_ERROR_NOT_FOUND)) {
			/* INBOX always exists on the server even before the first tree sync */
			g_ptr_array_add(names, g_strdup("INBOX"));
			continue;
		}
		if (folder == NULL) {
			if (g_error_matches(error_local, PR_ERROR, PR_ERROR_NOT_FOUND)) {
				g_set_error(error,
					    PR_ERROR,
					    PR_ERROR_NOT_FOUND,
					    _("No folder named ‘%s’"),
					    folders[i]);
			} else {
				g_propagate_error(error, g_steal_pointer(&error_local));
			}
			return NULL;
		}
		if (!pr_sync_folder_is_selectable(folder))
			continue;
		for (guint j = 0; j < names->len; j++)
			dup = dup || g_strcmp0(g_ptr_array_index(names, j), folder->name) == 0;
		if (!dup)
			g_ptr_array_add(names, g_strdup(folder->name));
	}
	return g_steal_pointer(&names);
}

void
pr_sync_run_async(PrSync *self,
		  PrSyncScope scope,
		  const gchar *const *folders,
		  PrProgress *progress,
		  GCancellable *cancellable,
		  GAsyncReadyCallback callback,
		  gpointer user_data)
{
	g_autoptr(GTask) task = NULL;
	RunData *data;
	GError *error = NULL;
	RunStep step;

	g_return_if_fail(PR_IS_SYNC(self));
	g_return_if_fail(progress == NULL || PR_IS_PROGRESS(progress));

	task = g_task_new(self, cancellable, callback, user_data);
	g_task_set_source_tag(task, pr_sync_run_async);
	g_task_set_check_cancellable(task, FALSE);
	if (self->busy) {
		g_task_return_new_error(
			task, PR_ERROR, PR_ERROR_BUSY, _("A synchronisation is already running"));
		return;
	}
	data = g_new0(RunData, 1);
	data->scope = scope;
	data->progress = progress != NULL ? g_object_ref(progress) : NULL;
	data->steps = g_array_new(FALSE, FALSE, sizeof(RunStep));
	g_task_set_task_data(task, data, (GDestroyNotify)run_data_free);

	switch (scope) {
	case PR_SYNC_SCOPE_FULL:
		pr_sync_progress_folders(progress, 1, 0); /* INBOX; the others after LIST */
		step = STEP_INBOX;
		g_array_append_val(data->steps, step);
		step = STEP_TREE;
		g_array_append_val(data->steps, step);
		step = STEP_SUBSCRIPTIONS;
		g_array_append_val(data->steps, step);
		step = STEP_PLAN;
		g_array_append_val(data->steps, step);
		step = STEP_FOLDERS;
		g_array_append_val(data->steps, step);
		break;
	case PR_SYNC_SCOPE_TREE:
		step = STEP_TREE;
		g_array_append_val(data->steps, step);
		break;
	case PR_SYNC_SCOPE_INBOX_NEW:
		pr_sync_progress_folders(progress, 1, 0);
		step = STEP_INBOX_NEW;
		g_array_append_val(data->steps, step);
		break;
	case PR_SYNC_SCOPE_FOLDERS:
		data->names = pr_sync_check_folders(self, folders, &error);
		if (data->names == NULL) {
			g_task_return_error(task, error);
			return;
		}
		pr_sync_progress_folders(progress, data->names->len, 0);
		if (data->names->len > 0) {
			step = STEP_FOLDERS;
			g_array_append_val(data->steps, step);
		}
		break;
	case PR_SYNC_SCOPE_SUBSCRIPTIONS:
		step = STEP_TREE;
		g_array_append_val(data->steps, step);
		step = STEP_SUBSCRIPTIONS;
		g_array_append_val(data->steps, step);
		break;
	default:
		g_task_return_new_error(task,
					PR_ERROR,
					PR_ERROR_INVALID_ARGUMENT,
					_("Unknown synchronisation scope %d"),
					(gint)scope);
		return;
	}
	pr_sync_run_progress_steps(self, data);
	if (scope == PR_SYNC_SCOPE_FOLDERS && data->names->len > 0)
		pr_sync_run_folder_steps(self, data);
	self->busy = TRUE;
	pr_sync_run_next(task);
}

gboolean
pr_sync_run_finish(PrSync *self, GAsyncResult *res, GError **error)
{
	g_return_val_if_fail(PR_IS_SYNC(self), FALSE);
	g_return_val_if_fail(g_task_is_valid(res, self), FALSE);
	return g_task_propagate_boolean(G_TASK(res), error);
}

/* Object -------------------------------------------------------------------------------- */

void
pr_sync_set_max_method(PrSync *self, PrSyncMethod method)
{
	g_return_if_fail(PR_IS_SYNC(self));
	g_return_if_fail(method <= PR_SYNC_METHOD_QRESYNC);
	self->max_method = method;
}

guint
pr_sync_get_command_count(PrSync *self)
{
	g_return_val_if_fail(PR_IS_SYNC(self), 0);
	return self->command_count;
}

static void
pr_sync_finalize(GObject *object)
{
	PrSync *self = PR_SYNC(object);

	g_clear_object(&self->client);
	g_clear_object(&self->store);
	g_free(self->sync_search);
	g_free(self->folder_path);
	G_OBJECT_CLASS(pr_sync_parent_class)->finalize(object);
}

static void
pr_sync_class_init(PrSyncClass *klass)
{
	GObjectClass *object_class = G_OBJECT_CLASS(klass);

	object_class->finalize = pr_sync_finalize;

	/* The folder list of the store changed (added, removed, attributes, subscriptions). */
	signals[SIGNAL_FOLDERS_CHANGED] = g_signal_new("folders-changed",
						       G_TYPE_FROM_CLASS(klass),
						       G_SIGNAL_RUN_LAST,
						       0,
						       NULL,
						       NULL,
						       NULL,
						       G_TYPE_NONE,
						       0);
	/* Messages of a folder were added, changed or removed (GArrays of guint64 ids),
	 * emitted after the change was committed. */
	signals[SIGNAL_MESSAGES_CHANGED] = g_signal_new("messages-changed",
							G_TYPE_FROM_CLASS(klass),
							G_SIGNAL_RUN_LAST,
							0,
							NULL,
							NULL,
							NULL,
							G_TYPE_NONE,
							4,
							G_TYPE_STRING,
							G_TYPE_ARRAY,
							G_TYPE_ARRAY,
							G_TYPE_ARRAY);
	/* New messages found in a folder that had been synchronised before (the first sync
	 * of a folder, or the one after a UIDVALIDITY change, fills the store without
	 * announcing the whole mailbox as new mail). */
	signals[SIGNAL_NEW_MAIL] = g_signal_new("new-mail",
						G_TYPE_FROM_CLASS(klass),
						G_SIGNAL_RUN_LAST,
						0,
						NULL,
						NULL,
						NULL,
						G_TYPE_NONE,
						2,
						G_TYPE_STRING,
						G_TYPE_ARRAY);
}

static void
pr_sync_init(PrSync *self)
{
	self->max_method = PR_SYNC_METHOD_QRESYNC;
	self->fetch_batch = PR_SYNC_DEFAULT_FETCH_BATCH;
	self->inbox_sync_limit = -1;
	self->mailbox_sync_limit = -1;
	self->update_seen_flags = TRUE;
}

static gchar *
pr_sync_dup_nonempty(const gchar *str)
{
	if (str == NULL)
		return NULL;
	str += strspn(str, " \t");
	return str[0] != '\0' ? g_strdup(str) : NULL;
}

PrSync *
pr_sync_new(PrImapClient *client, PrStore *store, const PrSyncOptions *options)
{
	PrSync *self;

	g_return_val_if_fail(PR_IS_IMAP_CLIENT(client), NULL);
	g_return_val_if_fail(PR_IS_STORE(store), NULL);

	self = g_object_new(PR_TYPE_SYNC, NULL);
	self->client = g_object_ref(client);
	self->store = g_object_ref(store);
	if (options != NULL) {
		self->folder_sync = options->folder_sync;
		self->subscription_update = options->subscription_update;
		self->inbox_sync_limit =
			options->inbox_sync_limit < 0 ? -1 : options->inbox_sync_limit;
		self->mailbox_sync_limit =
			options->mailbox_sync_limit < 0 ? -1 : options->mailbox_sync_limit;
		self->sync_search = pr_sync_dup_nonempty(options->sync_search);
		self->folder_path = pr_sync_dup_nonempty(options->folder_path);
		self->update_seen_flags = options->update_seen_flags;
		if (options->fetch_batch > 0)
			self->fetch_batch = options->fetch_batch;
	}
	/* a line break would end the command early: never let one through */
	if (self->sync_search != NULL && strpbrk(self->sync_search, "\r\n") != NULL) {
		g_warning("sync-search contains a line break; ignored");
		g_clear_pointer(&self->sync_search, g_free);
	}
	return self;
}
