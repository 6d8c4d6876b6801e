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
 * Flag changes on the server: the messages are grouped by folder; each folder is selected
 * (read-write), then UID STORE +FLAGS / -FLAGS goes in steps whose UID set keeps the
 * command line under PR_SYNC_FLAGS_MAX_LINE. With CONDSTORE, the messages of a step share
 * the modseq the store knows (UNCHANGEDSINCE), so that a message another client changed
 * meanwhile is left alone and reported. STORE is sent without .SILENT: the untagged FETCH
 * answers carry the flags as they now are on the server, and those go into the store.
 */

#define PR_SYNC_FLAGS_MAX_LINE 8192
/* what a UID STORE line holds besides its set and flag list */
#define PR_SYNC_FLAGS_LINE_OVERHEAD 96
/* a keyword longer than this is no keyword a client means */
#define PR_SYNC_FLAG_MAX_LEN 256

static const gchar *const pr_sync_system_flags[] = {
	"\\Seen", "\\Answered", "\\Flagged", "\\Deleted", "\\Draft",
};

typedef struct {
	guint64 id;
	guint32 uid;
	guint64 modseq;
	gchar **flags; /* as stored */
} FlagsItem;

static void
flags_item_free(FlagsItem *item)
{
	g_strfreev(item->flags);
	g_free(item);
}

typedef struct {
	guint64 modseq; /* UNCHANGEDSINCE, 0 for none */
	GArray *uids;	/* guint32, ascending */
} FlagsStep;

static void
flags_step_free(FlagsStep *step)
{
	g_array_unref(step->uids);
	g_free(step);
}

typedef struct {
	gint64 folder_id;
	GHashTable *items; /* uid -> FlagsItem */
} FlagsFolder;

static void
flags_folder_free(FlagsFolder *folder)
{
	g_hash_table_unref(folder->items);
	g_free(folder);
}

typedef struct {
	PrProgress *progress;
	gchar **add;
	gchar **remove;
	GPtrArray *folders; /* FlagsFolder, in the order met */
	guint folder_idx;
	PrStoreFolder *folder; /* the current one */
	FlagsFolder *entry;    /* the current one's (unowned) */
	guint select_expect;
	gchar **add_now;  /* @add less what the current folder would not keep */
	GPtrArray *steps; /* FlagsStep of the current folder */
	guint step_idx;
	gboolean step_removing; /* the current step's -FLAGS is in flight */
	GHashTable *modified;	/* uids the server reported MODIFIED in this step */
	GHashTable *fetched;	/* uid -> FlagsItem with the server's flags, this step */
	GArray *changed;	/* guint64, of the current folder */
	PrSyncFlagsResult *result;
	GHashTable *unsupported; /* flag -> NULL */
} FlagsData;

static void
flags_data_free(FlagsData *data)
{
	g_clear_object(&data->progress);
	g_strfreev(data->add);
	g_strfreev(data->remove);
	g_ptr_array_unref(data->folders);
	g_clear_pointer(&data->folder, pr_store_folder_free);
	g_strfreev(data->add_now);
	g_clear_pointer(&data->steps, g_ptr_array_unref);
	g_hash_table_unref(data->modified);
	g_hash_table_unref(data->fetched);
	g_clear_pointer(&data->changed, g_array_unref);
	g_clear_pointer(&data->result, pr_sync_flags_result_free);
	g_hash_table_unref(data->unsupported);
	g_free(data);
}

void
pr_sync_flags_result_free(PrSyncFlagsResult *result)
{
	g_clear_pointer(&result->conflicts, g_array_unref);
	g_strfreev(result->unsupported);
	g_free(result);
}

/* Flags ------------------------------------------------------------------------------- */

static gboolean
pr_sync_flag_is_atom(const gchar *flag)
{
	for (const gchar *p = flag; *p != '\0'; p++) {
		guchar c = (guchar)*p;
		/* ATOM-CHAR of RFC 3501, and no backslash: that is for system flags */
		if (c <= 0x20 || c >= 0x7f || strchr("(){%*\"\\]", c) != NULL)
			return FALSE;
	}
	return flag[0] != '\0';
}

gchar *
pr_sync_flag_normalize(const gchar *flag, GError **error)
{
	g_return_val_if_fail(flag != NULL, NULL);

	if (flag[0] == '\\') {
		for (guint i = 0; i < G_N_ELEMENTS(pr_sync_system_flags); i++) {
			if (g_ascii_strcasecmp(flag, pr_sync_system_flags[i]) == 0)
				return g_strdup(pr_sync_system_flags[i]);
		}
		/* \Recent belongs to the server; other backslash names are not flags */
		g_set_error(error,
			    PR_ERROR,
			    PR_ERROR_INVALID_ARGUMENT,
			    _("“%s” is not a flag that can be set or cleared"),
			    g_utf8_validate(flag, -1, NULL) ? flag : "?");
		return NULL;
	}
	if (strlen(flag) > PR_SYNC_FLAG_MAX_LEN || !pr_sync_flag_is_atom(flag)) {
		g_set_error(error,
			    PR_ERROR,
			    PR_ERROR_INVALID_ARGUMENT,
			    _("“%s” is not a valid IMAP keyword"),
			    g_utf8_validate(flag, -1, NULL) ? flag : "?");
		return NULL;
	}
	return g_strdup(flag);
}

/* Whether a folder whose PERMANENTFLAGS are @permanent keeps @flag; NULL: unknown, which
 * is taken as yes (the server says NO if not). */
static gboolean
pr_sync_flags_permanent(const gchar *const *permanent, const gchar *flag)
{
	if (permanent == NULL || flag[0] == '\\')
		return TRUE;
	return pr_sync_flag_in(permanent, "\\*") || pr_sync_flag_in(permanent, flag);
}

static gchar **
pr_sync_flags_apply(const gchar *const *flags, const gchar *const *add, const gchar *const *remove)
{
	g_autoptr(GPtrArray) out = g_ptr_array_new();

	for (guint i = 0; flags != NULL && flags[i] != NULL; i++) {
		if (!pr_sync_flag_in(remove, flags[i]))
			g_ptr_array_add(out, (gpointer)flags[i]);
	}
	for (guint i = 0; add != NULL && add[i] != NULL; i++)
		g_ptr_array_add(out, (gpointer)add[i]);
	g_ptr_array_add(out, NULL);
	return pr_sync_flags_normalize((const gchar *const *)out->pdata);
}

/* Planning ---------------------------------------------------------------------------- */

static gboolean
pr_sync_flags_plan(PrSync *self, FlagsData *data, const guint64 *ids, gsize n, GError **error)
{
	g_autoptr(GHashTable) by_folder = g_hash_table_new(g_int64_hash, g_int64_equal);
	guint total = 0;

	for (gsize i = 0; i < n; i++) {
		g_autoptr(PrStoreMessage) message =
			pr_store_get_message(self->store, ids[i], error);
		FlagsFolder *folder;
		FlagsItem *item;

		if (message == NULL)
			return FALSE;
		if (message->uid == 0) {
			/* a format macro in a msgid would differ between platforms */
			g_autofree gchar *id = g_strdup_printf("%" G_GUINT64_FORMAT, ids[i]);
			g_set_error(error,
				    PR_ERROR,
				    PR_ERROR_INVALID_ARGUMENT,
				    _("Message %s is not on the server"),
				    id);
			return FALSE;
		}
		folder = g_hash_table_lookup(by_folder, &message->folder_id);
		if (folder == NULL) {
			folder = g_new0(FlagsFolder, 1);
			folder->folder_id = message->folder_id;
			folder->items = g_hash_table_new_full(g_direct_hash,
							      g_direct_equal,
							      NULL,
							      (GDestroyNotify)flags_item_free);
			g_ptr_array_add(data->folders, folder);
			g_hash_table_insert(by_folder, &folder->folder_id, folder);
		}
		if (g_hash_table_contains(folder->items, GUINT_TO_POINTER(message->uid)))
			continue;
		item = g_new0(FlagsItem, 1);
		item->id = message->id;
		item->uid = message->uid;
		item->modseq = message->modseq;
		item->flags = g_steal_pointer(&message->flags);
		g_hash_table_insert(folder->items, GUINT_TO_POINTER(item->uid), item);
		total++;
	}
	pr_sync_progress_messages(data->progress, total, 0);
	pr_sync_progress_folders(data->progress, data->folders->len, 0);
	return TRUE;
}

static gsize
pr_sync_flags_list_len(const gchar *const *flags)
{
	gsize len = 2;

	for (guint i = 0; flags != NULL && flags[i] != NULL; i++)
		len += strlen(flags[i]) + 1;
	return len;
}

/* Cuts @uids (sorted) into steps whose set fits a command line. */
static void
pr_sync_flags_add_steps(FlagsData *data, guint64 modseq, GArray *uids)
{
	g_autoptr(PrImapSeqset) set = pr_imap_seqset_new();
	g_autoptr(GPtrArray) strings = NULL;
	gsize flags_len = MAX(pr_sync_flags_list_len((const gchar *const *)data->add_now),
			      pr_sync_flags_list_len((const gchar *const *)data->remove));
	gsize budget = PR_SYNC_FLAGS_MAX_LINE - PR_SYNC_FLAGS_LINE_OVERHEAD;

	/* a flag list as long as the line itself still gets sets of some size */
	budget = flags_len + 1024 < budget ? budget - flags_len : 1024;
	for (guint i = 0; i < uids->len; i++)
		pr_imap_seqset_add(set, g_array_index(uids, guint32, i));
	strings = pr_imap_seqset_to_strings(set, budget);
	for (guint i = 0; i < strings->len; i++) {
		g_autoptr(PrImapSeqset) part =
			pr_imap_seqset_parse(g_ptr_array_index(strings, i), 0, 0, NULL);
		FlagsStep *step;

		if (part == NULL)
			continue;
		step = g_new0(FlagsStep, 1);
		step->modseq = modseq;
		step->uids = pr_sync_seqset_expand(part, G_MAXUINT32, NULL);
		g_ptr_array_add(data->steps, step);
	}
}

static gint
pr_sync_flags_modseq_cmp(gconstpointer a, gconstpointer b)
{
	guint64 x = *(const guint64 *)a;
	guint64 y = *(const guint64 *)b;
	return x < y ? -1 : (x > y ? 1 : 0);
}

/* The current folder's steps: with CONDSTORE one group per known modseq. */
static void
pr_sync_flags_plan_steps(PrSync *self, FlagsData *data)
{
	gboolean condstore = pr_imap_client_has_capability(self->client, "CONDSTORE");
	g_autoptr(GHashTable) groups = g_hash_table_new_full(
		g_int64_hash, g_int64_equal, g_free, (GDestroyNotify)g_array_unref);
	g_autoptr(GList) keys = NULL;
	GHashTableIter iter;
	FlagsItem *item;

	g_clear_pointer(&data->steps, g_ptr_array_unref);
	data->steps = g_ptr_array_new_with_free_func((GDestroyNotify)flags_step_free);
	data->step_idx = 0;
	g_hash_table_iter_init(&iter, data->entry->items);
	while (g_hash_table_iter_next(&iter, NULL, (gpointer *)&item)) {
		guint64 modseq = condstore ? item->modseq : 0;
		GArray *uids = g_hash_table_lookup(groups, &modseq);
		if (uids == NULL) {
			uids = g_array_new(FALSE, FALSE, sizeof(guint32));
			g_hash_table_insert(groups, g_memdup2(&modseq, sizeof(modseq)), uids);
		}
		g_array_append_val(uids, item->uid);
	}
	keys = g_list_sort(g_hash_table_get_keys(groups), pr_sync_flags_modseq_cmp);
	for (GList *l = keys; l != NULL; l = l->next) {
		GArray *uids = g_hash_table_lookup(groups, l->data);
		pr_sync_uids_sort_unique(uids);
		pr_sync_flags_add_steps(data, *(guint64 *)l->data, uids);
	}
}

/* Running ----------------------------------------------------------------------------- */

static void pr_sync_flags_next_folder(GTask *task);
static void pr_sync_flags_next_step(GTask *task);

static void
pr_sync_flags_return(GTask *task, GError *error)
{
	PrSync *self = g_task_get_source_object(task);
	FlagsData *data = g_task_get_task_data(task);

	self->busy = FALSE;
	if (error != NULL) {
		g_task_return_error(task, error);
		return;
	}
	data->result->unsupported =
		(gchar **)g_hash_table_get_keys_as_array(data->unsupported, NULL);
	g_hash_table_steal_all(data->unsupported);
	g_task_return_pointer(
		task, g_steal_pointer(&data->result), (GDestroyNotify)pr_sync_flags_result_free);
}

static PrImapCommand *
pr_sync_flags_command(PrSync *self, GArray *uids, gboolean add, guint64 modseq)
{
	PrImapCommand *command = pr_sync_command_new(self, "UID STORE");

	pr_imap_command_add_uid_set(command, (const guint32 *)uids->data, uids->len);
	if (modseq != 0)
		pr_imap_command_add_printf(
			command, "(UNCHANGEDSINCE %" G_GUINT64_FORMAT ")", modseq);
	pr_imap_command_add_atom(command, add ? "+FLAGS" : "-FLAGS");
	return command;
}

static void
pr_sync_flags_add_list(PrImapCommand *command, const gchar *const *flags)
{
	g_autofree gchar *joined = g_strjoinv(" ", (gchar **)flags);
	g_autofree gchar *list = g_strdup_printf("(%s)", joined);

	pr_imap_command_add_atom(command, list);
}

/* The step's STORE answers are in: the store takes the server's flags. */
static gboolean
pr_sync_flags_step_done(PrSync *self, FlagsData *data, FlagsStep *step, GError **error)
{
	if (!pr_store_begin(self->store, error))
		return FALSE;
	for (guint i = 0; i < step->uids->len; i++) {
		guint32 uid = g_array_index(step->uids, guint32, i);
		FlagsItem *item = g_hash_table_lookup(data->entry->items, GUINT_TO_POINTER(uid));
		FlagsItem *fetched = g_hash_table_lookup(data->fetched, GUINT_TO_POINTER(uid));
		g_auto(GStrv) flags = NULL;
		guint64 id = 0;

		if (item == NULL)
			continue;
		if (g_hash_table_contains(data->modified, GUINT_TO_POINTER(uid))) {
			g_array_append_val(data->result->conflicts, item->id);
			continue;
		}
		/* a server that did not answer with FETCH: what it must have now */
		flags = fetched != NULL
				? pr_sync_flags_normalize((const gchar *const *)fetched->flags)
				: pr_sync_flags_apply((const gchar *const *)item->flags,
						      (const gchar *const *)data->add_now,
						      (const gchar *const *)data->remove);
		if (!pr_store_set_flags_by_uid(self->store,
					       data->folder->id,
					       uid,
					       (const gchar *const *)flags,
					       fetched != NULL ? fetched->modseq : 0,
					       &id,
					       error)) {
			pr_store_rollback(self->store);
			return FALSE;
		}
		if (id != 0) {
			g_array_append_val(data->changed, id);
			data->result->changed++;
		}
	}
	if (!pr_store_commit(self->store, error))
		return FALSE;
	pr_sync_progress_messages(data->progress, 0, step->uids->len);
	return TRUE;
}

static gboolean
pr_sync_flags_note_responses(FlagsData *data,
			     FlagsStep *step,
			     PrImapResponse *tagged,
			     GPtrArray *untagged,
			     GError **error)
{
	const gchar *code = pr_imap_response_get_code(tagged);

	for (guint i = 0; untagged != NULL && i < untagged->len; i++) {
		PrImapResponse *response = g_ptr_array_index(untagged, i);
		g_autoptr(PrImapFetch) fetch = NULL;
		FlagsItem *item;

		if (g_strcmp0(pr_imap_response_get_keyword(response), "FETCH") != 0)
			continue;
		fetch = pr_imap_response_parse_fetch(response, error);
		if (fetch == NULL)
			return FALSE;
		if (!(fetch->fields & PR_IMAP_FETCH_HAS_UID) ||
		    !(fetch->fields & PR_IMAP_FETCH_HAS_FLAGS))
			continue;
		item = g_new0(FlagsItem, 1);
		item->uid = fetch->uid;
		item->modseq = (fetch->fields & PR_IMAP_FETCH_HAS_MODSEQ) ? fetch->modseq : 0;
		item->flags = g_steal_pointer(&fetch->flags);
		g_hash_table_replace(data->fetched, GUINT_TO_POINTER(item->uid), item);
	}
	if (g_strcmp0(code, "MODIFIED") == 0) {
		const PrImapValue *args = pr_imap_response_get_code_args(tagged);
		const PrImapValue *arg = NULL;
		g_autoptr(PrImapSeqset) set = NULL;

		if (args != NULL && pr_imap_value_get_n_children(args) > 0)
			arg = pr_imap_value_get_child(args, 0);
		if (arg == NULL)
			return TRUE;
		set = pr_imap_seqset_parse(pr_imap_value_get_string(arg, NULL), 0, 0, error);
		if (set == NULL)
			return FALSE;
		/* only the step's own UIDs count: the set may be of any size */
		for (guint i = 0; i < step->uids->len; i++) {
			guint32 uid = g_array_index(step->uids, guint32, i);
			if (!pr_imap_seqset_contains(set, uid))
				continue;
			g_hash_table_add(data->modified, GUINT_TO_POINTER(uid));
			g_hash_table_remove(data->fetched, GUINT_TO_POINTER(uid));
		}
	}
	return TRUE;
}

static void pr_sync_flags_send(GTask *task, gboolean add);

static void
pr_sync_flags_store_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	g_autoptr(GTask) task = G_TASK(user_data);
	PrSync *self = g_task_get_source_object(task);
	FlagsData *data = g_task_get_task_data(task);
	FlagsStep *step = g_ptr_array_index(data->steps, data->step_idx);
	g_autoptr(PrImapResponse) response = NULL;
	g_autoptr(GPtrArray) untagged = NULL;
	GError *error = NULL;

	response = pr_imap_client_run_finish(PR_IMAP_CLIENT(source), res, &untagged, &error);
	if (response == NULL ||
	    !pr_sync_flags_note_responses(data, step, response, untagged, &error)) {
		pr_sync_flags_return(task, error);
		return;
	}
	if (!data->step_removing && data->remove[0] != NULL) {
		pr_sync_flags_send(task, FALSE);
		return;
	}
	if (!pr_sync_flags_step_done(self, data, step, &error)) {
		pr_sync_flags_return(task, error);
		return;
	}
	data->step_idx++;
	pr_sync_flags_next_step(task);
}

/* The current step's +FLAGS (@add) or -FLAGS; only the first of the two is conditional:
 * the second goes to what the first changed, before anyone else could. */
static void
pr_sync_flags_send(GTask *task, gboolean add)
{
	PrSync *self = g_task_get_source_object(task);
	FlagsData *data = g_task_get_task_data(task);
	FlagsStep *step = g_ptr_array_index(data->steps, data->step_idx);
	g_autoptr(GArray) uids = g_array_new(FALSE, FALSE, sizeof(guint32));
	g_autoptr(PrImapCommand) command = NULL;
	gboolean first = add || data->add_now[0] == NULL;

	data->step_removing = !add;
	for (guint i = 0; i < step->uids->len; i++) {
		guint32 uid = g_array_index(step->uids, guint32, i);
		if (!g_hash_table_contains(data->modified, GUINT_TO_POINTER(uid)))
			g_array_append_val(uids, uid);
	}
	if (uids->len == 0) {
		/* every message of the step was changed meanwhile */
		g_autoptr(GError) error = NULL;
		if (!pr_sync_flags_step_done(self, data, step, &error)) {
			pr_sync_flags_return(task, g_steal_pointer(&error));
			return;
		}
		data->step_idx++;
		pr_sync_flags_next_step(task);
		return;
	}
	command = pr_sync_flags_command(self, uids, add, first ? step->modseq : 0);
	pr_sync_flags_add_list(command, (const gchar *const *)(add ? data->add_now : data->remove));
	pr_sync_run_command(self,
			    command,
			    g_task_get_cancellable(task),
			    pr_sync_flags_store_cb,
			    g_object_ref(task));
}

static void
pr_sync_flags_next_step(GTask *task)
{
	PrSync *self = g_task_get_source_object(task);
	FlagsData *data = g_task_get_task_data(task);
	GError *error = NULL;

	if (data->step_idx >= data->steps->len) {
		if (data->changed->len > 0)
			pr_sync_emit_messages_changed(
				self, data->folder->name, NULL, data->changed, NULL);
		pr_sync_progress_folders(data->progress, 0, 1);
		pr_sync_flags_next_folder(task);
		return;
	}
	if (g_cancellable_set_error_if_cancelled(g_task_get_cancellable(task), &error)) {
		pr_error_convert(&error);
		pr_sync_flags_return(task, error);
		return;
	}
	g_hash_table_remove_all(data->modified);
	g_hash_table_remove_all(data->fetched);
	pr_sync_flags_send(task, data->add_now[0] != NULL);
}

/* The folder is selected, its PERMANENTFLAGS @permanent (NULL: not known). */
static void
pr_sync_flags_folder_ready(GTask *task, const gchar *const *permanent)
{
	PrSync *self = g_task_get_source_object(task);
	FlagsData *data = g_task_get_task_data(task);
	g_autoptr(GPtrArray) add = g_ptr_array_new();

	for (guint i = 0; data->add[i] != NULL; i++) {
		if (pr_sync_flags_permanent(permanent, data->add[i]))
			g_ptr_array_add(add, data->add[i]);
		else
			g_hash_table_add(data->unsupported, g_strdup(data->add[i]));
	}
	g_ptr_array_add(add, NULL);
	g_strfreev(data->add_now);
	data->add_now = g_strdupv((gchar **)add->pdata);
	if (data->add_now[0] == NULL && data->remove[0] == NULL) {
		/* nothing this folder would keep: its messages stay as they are */
		pr_sync_progress_messages(data->progress, 0, g_hash_table_size(data->entry->items));
		pr_sync_progress_folders(data->progress, 0, 1);
		pr_sync_flags_next_folder(task);
		return;
	}
	pr_sync_flags_plan_steps(self, data);
	pr_sync_flags_next_step(task);
}

static void
pr_sync_flags_select_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	g_autoptr(GTask) task = G_TASK(user_data);
	PrSync *self = g_task_get_source_object(task);
	FlagsData *data = g_task_get_task_data(task);
	g_autoptr(PrImapResponse) response = NULL;
	g_autoptr(GPtrArray) untagged = NULL;
	g_auto(GStrv) permanent = NULL;
	GError *error = NULL;
	guint64 uidvalidity = 0;
	gboolean have_uidvalidity = FALSE;

	response = pr_imap_client_run_finish(PR_IMAP_CLIENT(source), res, &untagged, &error);
	if (response == NULL) {
		pr_sync_flags_return(task, error);
		return;
	}
	for (guint i = 0; i < untagged->len; i++) {
		PrImapResponse *r = g_ptr_array_index(untagged, i);
		if (!have_uidvalidity)
			have_uidvalidity =
				pr_imap_response_get_code_number(r, "UIDVALIDITY", &uidvalidity);
		if (permanent == NULL &&
		    g_strcmp0(pr_imap_response_get_code(r), "PERMANENTFLAGS") == 0)
			permanent = pr_imap_response_dup_flags(r);
	}
	if (!have_uidvalidity || uidvalidity != data->folder->uidvalidity) {
		/* the UIDs we hold mean other messages now: the next sync retires them */
		g_set_error(&error,
			    PR_ERROR,
			    PR_ERROR_NOT_FOUND,
			    _("The messages of %s changed on the server; synchronise it first"),
			    data->folder->name);
		pr_sync_flags_return(task, error);
		return;
	}
	pr_sync_select_done(self, data->folder, data->select_expect, (guint32)uidvalidity, FALSE);
	if (permanent == NULL)
		permanent = g_new0(gchar *, 1); /* no PERMANENTFLAGS: nothing is kept (RFC 3501) */
	pr_sync_flags_folder_ready(task, (const gchar *const *)permanent);
}

static void
pr_sync_flags_next_folder(GTask *task)
{
	PrSync *self = g_task_get_source_object(task);
	FlagsData *data = g_task_get_task_data(task);
	g_autoptr(PrImapCommand) command = NULL;
	GError *error = NULL;
	gboolean keywords = FALSE;

	if (data->folder_idx >= data->folders->len) {
		pr_sync_flags_return(task, NULL);
		return;
	}
	data->entry = g_ptr_array_index(data->folders, data->folder_idx++);
	g_clear_pointer(&data->folder, pr_store_folder_free);
	g_array_set_size(data->changed, 0);
	data->folder = pr_store_get_folder_by_id(self->store, data->entry->folder_id, &error);
	if (data->folder == NULL) {
		pr_sync_flags_return(task, error);
		return;
	}
	pr_sync_progress_folder(data->progress, data->folder->name);
	for (guint i = 0; data->add[i] != NULL; i++)
		keywords |= data->add[i][0] != '\\';
	if (!keywords && pr_sync_is_selected(self, data->folder, TRUE)) {
		/* system flags need no PERMANENTFLAGS look: no SELECT again */
		pr_sync_flags_folder_ready(task, NULL);
		return;
	}
	data->select_expect = pr_sync_select_expect(self);
	command = pr_sync_command_new(self, "SELECT");
	if (!pr_sync_command_add_folder(self, command, data->folder, &error)) {
		pr_sync_flags_return(task, error);
		return;
	}
	pr_sync_run_command(self,
			    command,
			    g_task_get_cancellable(task),
			    pr_sync_flags_select_cb,
			    g_object_ref(task));
}

void
pr_sync_set_flags_async(PrSync *self,
			const guint64 *ids,
			gsize n_ids,
			const gchar *const *add,
			const gchar *const *remove,
			PrProgress *progress,
			GCancellable *cancellable,
			GAsyncReadyCallback callback,
			gpointer user_data)
{
	g_autoptr(GTask) task = NULL;
	const gchar *const empty[] = { NULL };
	FlagsData *data;
	GError *error = NULL;

	g_return_if_fail(PR_IS_SYNC(self));
	g_return_if_fail(ids != NULL || n_ids == 0);

	task = g_task_new(self, cancellable, callback, user_data);
	g_task_set_source_tag(task, pr_sync_set_flags_async);
	g_task_set_check_cancellable(task, FALSE);
	if (self->busy) {
		g_task_return_new_error(
			task, PR_ERROR, PR_ERROR_BUSY, _("A synchronisation is already running"));
		return;
	}
	data = g_new0(FlagsData, 1);
	data->progress = progress != NULL ? g_object_ref(progress) : NULL;
	data->add = g_strdupv((gchar **)(add != NULL ? add : empty));
	data->remove = g_strdupv((gchar **)(remove != NULL ? remove : empty));
	data->folders = g_ptr_array_new_with_free_func((GDestroyNotify)flags_folder_free);
	data->modified = g_hash_table_new(g_direct_hash, g_direct_equal);
	data->fetched = g_hash_table_new_full(
		g_direct_hash, g_direct_equal, NULL, (GDestroyNotify)flags_item_free);
	data->changed = g_array_new(FALSE, FALSE, sizeof(guint64));
	data->result = g_new0(PrSyncFlagsResult, 1);
	data->result->conflicts = g_array_new(FALSE, FALSE, sizeof(guint64));
	data->unsupported = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	g_task_set_task_data(task, data, (GDestroyNotify)flags_data_free);

	for (guint i = 0; data->add[i] != NULL; i++) {
		g_autofree gchar *flag = pr_sync_flag_normalize(data->add[i], &error);
		if (flag == NULL) {
			g_task_return_error(task, error);
			return;
		}
	}
	for (guint i = 0; data->remove[i] != NULL; i++) {
		g_autofree gchar *flag = pr_sync_flag_normalize(data->remove[i], &error);
		if (flag == NULL) {
			g_task_return_error(task, error);
			return;
		}
	}
	pr_sync_progress_stage(progress, "setting-flags");
	if (!pr_sync_flags_plan(self, data, ids, n_ids, &error)) {
		g_task_return_error(task, error);
		return;
	}
	if (pr_imap_client_get_state(self->client) == PR_IMAP_CLIENT_STATE_DISCONNECTED) {
		g_task_return_new_error(
			task, PR_ERROR, PR_ERROR_NOT_CONNECTED, _("Not connected to the server"));
		return;
	}
	self->busy = TRUE;
	pr_sync_flags_next_folder(g_steal_pointer(&task));
}

PrSyncFlagsResult *
pr_sync_set_flags_finish(PrSync *self, GAsyncResult *res, GError **error)
{
	g_return_val_if_fail(PR_IS_SYNC(self), NULL);
	g_return_val_if_fail(g_task_is_valid(res, self), NULL);
	return g_task_propagate_pointer(G_TASK(res), error);
}
