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
 * PrSync: the GObject, shared helpers and the scope runner. The steps live beside it:
 * pr-sync-tree.c (LIST, subscriptions), pr-sync-mailbox.c (one mailbox), pr-sync-bodies.c
 * (message bodies) and pr-sync-seen.c (\Seen reconciliation state).
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

/* Commands ----------------------------------------------------------------------------- */

PrImapCommand *
pr_sync_command_new(PrSync *self, const gchar *name)
{
	PrImapCommand *command = pr_imap_command_new(name);

	pr_imap_command_set_utf8(command, pr_imap_client_get_utf8_enabled(self->client));
	if (pr_imap_client_has_capability(self->client, "LITERAL+"))
		pr_imap_command_set_literal_mode(command, PR_IMAP_LITERAL_PLUS);
	else if (pr_imap_client_has_capability(self->client, "LITERAL-"))
		pr_imap_command_set_literal_mode(command, PR_IMAP_LITERAL_MINUS);
	return command;
}

/* The server's own spelling when it is usable as is, else the name encoded again. */
gboolean
pr_sync_command_add_folder(PrSync *self,
			   PrImapCommand *command,
			   const PrStoreFolder *folder,
			   GError **error)
{
	const gchar *raw = folder->raw_name;
	gboolean ascii = TRUE;

	if (raw == NULL || pr_imap_client_get_utf8_enabled(self->client))
		return pr_imap_command_add_mailbox(command, folder->name, error);
	for (const gchar *p = raw; *p != '\0'; p++) {
		if ((guchar)*p >= 0x80) {
			ascii = FALSE;
			break;
		}
	}
	if (!ascii)
		return pr_imap_command_add_mailbox(command, folder->name, error);
	pr_imap_command_add_string(command, raw, -1);
	return TRUE;
}

void
pr_sync_run_command(PrSync *self,
		    PrImapCommand *command,
		    GCancellable *cancellable,
		    GAsyncReadyCallback callback,
		    gpointer user_data)
{
	self->command_count++;
	pr_imap_client_run_async(self->client, command, cancellable, callback, user_data);
}

/* Like pr_sync_run_command(), with @handler seeing (and consuming, when it returns TRUE)
 * each untagged response as it arrives: what it consumes is not held until the tagged
 * response, so a FETCH of any size costs the memory of one response. */
void
pr_sync_run_command_with_handler(PrSync *self,
				 PrImapCommand *command,
				 PrImapUntaggedFunc handler,
				 gpointer handler_data,
				 GCancellable *cancellable,
				 GAsyncReadyCallback callback,
				 gpointer user_data)
{
	self->command_count++;
	pr_imap_client_run_with_handler_async(
		self->client, command, handler, handler_data, cancellable, callback, user_data);
}

/* The selected mailbox ------------------------------------------------------------------ */

/* Before sending a SELECT or EXAMINE: the client's select generation once it completes,
 * if no other command that changes the selection runs in between. */
guint
pr_sync_select_expect(PrSync *self)
{
	return pr_imap_client_get_select_generation(self->client) + 1;
}

/* After a successful SELECT (@read_only FALSE) or EXAMINE of @folder. */
void
pr_sync_select_done(PrSync *self,
		    const PrStoreFolder *folder,
		    guint expected,
		    guint32 uidvalidity,
		    gboolean read_only)
{
	self->have_selected = pr_imap_client_get_select_generation(self->client) == expected;
	self->selected_folder_id = folder->id;
	self->selected_uidvalidity = uidvalidity;
	self->selected_read_only = read_only;
	self->selected_generation = expected;
}

/* Whether @folder, as stored, is still the selected mailbox (read-write when @writable):
 * then a command that needs it selected can go without selecting it again, which costs a
 * server like Dovecot tens of milliseconds in a large mailbox. */
gboolean
pr_sync_is_selected(PrSync *self, const PrStoreFolder *folder, gboolean writable)
{
	return self->have_selected &&
	       pr_imap_client_get_state(self->client) == PR_IMAP_CLIENT_STATE_SELECTED &&
	       pr_imap_client_get_select_generation(self->client) == self->selected_generation &&
	       self->selected_folder_id == folder->id &&
	       self->selected_uidvalidity == folder->uidvalidity && folder->uidvalidity != 0 &&
	       (!writable || !self->selected_read_only);
}

/* Folders and flags --------------------------------------------------------------------- */

gboolean
pr_sync_folder_is_selectable(const PrStoreFolder *folder)
{
	if (folder->local)
		return FALSE;
	for (guint i = 0; folder->attributes != NULL && folder->attributes[i] != NULL; i++) {
		if (g_ascii_strcasecmp(folder->attributes[i], "\\Noselect") == 0 ||
		    g_ascii_strcasecmp(folder->attributes[i], "\\NonExistent") == 0)
			return FALSE;
	}
	return TRUE;
}

gboolean
pr_sync_flag_in(const gchar *const *flags, const gchar *flag)
{
	for (guint i = 0; flags != NULL && flags[i] != NULL; i++) {
		if (g_ascii_strcasecmp(flags[i], flag) == 0)
			return TRUE;
	}
	return FALSE;
}

static gint
pr_sync_strcmp_cb(gconstpointer a, gconstpointer b)
{
	return g_strcmp0(*(const gchar *const *)a, *(const gchar *const *)b);
}

/* Flags as we keep them: without \Recent (a per-session flag that would make every
 * session look like a change), sorted, without duplicates. */
gchar **
pr_sync_flags_normalize(const gchar *const *flags)
{
	g_autoptr(GPtrArray) out = g_ptr_array_new();
	guint n = 0;

	for (guint i = 0; flags != NULL && flags[i] != NULL; i++) {
		if (flags[i][0] == '\0' || g_ascii_strcasecmp(flags[i], "\\Recent") == 0)
			continue;
		g_ptr_array_add(out, g_strdup(flags[i]));
	}
	g_ptr_array_sort(out, pr_sync_strcmp_cb);
	for (guint i = 0; i < out->len; i++) {
		gchar *flag = g_ptr_array_index(out, i);
		if (n > 0 && g_strcmp0(g_ptr_array_index(out, n - 1), flag) == 0) {
			g_free(flag);
			continue;
		}
		out->pdata[n++] = flag;
	}
	g_ptr_array_set_size(out, n);
	g_ptr_array_add(out, NULL);
	return (gchar **)g_ptr_array_free(g_steal_pointer(&out), FALSE);
}

gchar *
pr_sync_flags_key(const gchar *const *flags)
{
	g_auto(GStrv) normal = pr_sync_flags_normalize(flags);
	return g_strjoinv(" ", normal);
}

gchar *
pr_sync_flags_key_from_string(const gchar *joined)
{
	g_auto(GStrv) split = g_strsplit(joined != NULL ? joined : "", " ", -1);
	return pr_sync_flags_key((const gchar *const *)split);
}

/* UID sets ------------------------------------------------------------------------------ */

gint
pr_sync_uid_cmp(gconstpointer a, gconstpointer b)
{
	guint32 x = *(const guint32 *)a;
	guint32 y = *(const guint32 *)b;
	return x < y ? -1 : (x > y ? 1 : 0);
}

/* At most this many ranges in a set the server sends us: a mailbox of UIDs that are all
 * apart has one range per message. */
#define PR_SYNC_MAX_RANGES 4000000
/* and at most this many numbers expanded into memory */
#define PR_SYNC_MAX_UIDS (16u * 1024u * 1024u)

GArray *
pr_sync_seqset_expand(const PrImapSeqset *set, guint64 max, GError **error)
{
	g_autoptr(GArray) uids = g_array_new(FALSE, FALSE, sizeof(guint32));

	if (pr_imap_seqset_count(set) > max) {
		/* a format macro in a msgid would differ between platforms */
		g_autofree gchar *count =
			g_strdup_printf("%" G_GUINT64_FORMAT, pr_imap_seqset_count(set));
		g_set_error(error,
			    PR_ERROR,
			    PR_ERROR_PROTOCOL_ERROR,
			    _("The server sent an implausibly large set of %s messages"),
			    count);
		return NULL;
	}
	g_array_set_size(uids, (guint)pr_imap_seqset_count(set));
	g_array_set_size(uids, 0);
	for (guint i = 0; i < pr_imap_seqset_get_n_ranges(set); i++) {
		const PrImapRange *range = pr_imap_seqset_get_range(set, i);
		for (guint64 uid = range->first; uid <= range->last; uid++) {
			guint32 v = (guint32)uid;
			g_array_append_val(uids, v);
		}
	}
	return g_steal_pointer(&uids);
}

gboolean
pr_sync_collect_search(GPtrArray *untagged, GArray *uids, GError **error)
{
	for (guint i = 0; i < untagged->len; i++) {
		PrImapResponse *response = g_ptr_array_index(untagged, i);
		const gchar *keyword = pr_imap_response_get_keyword(response);

		if (g_strcmp0(keyword, "SEARCH") == 0) {
			g_autoptr(GArray) found =
				pr_imap_response_parse_search(response, NULL, error);
			if (found == NULL)
				return FALSE;
			g_array_append_vals(uids, found->data, found->len);
		} else if (g_strcmp0(keyword, "ESEARCH") == 0) {
			g_autoptr(PrImapEsearch) es =
				pr_imap_response_parse_esearch(response, error);
			g_autoptr(PrImapSeqset) set = NULL;
			g_autoptr(GArray) found = NULL;
			if (es == NULL)
				return FALSE;
			if (es->all == NULL)
				continue;
			set = pr_imap_seqset_parse(es->all, 0, PR_SYNC_MAX_RANGES, error);
			if (set == NULL)
				return FALSE;
			found = pr_sync_seqset_expand(set, PR_SYNC_MAX_UIDS, error);
			if (found == NULL)
				return FALSE;
			g_array_append_vals(uids, found->data, found->len);
		}
	}
	g_array_sort(uids, pr_sync_uid_cmp);
	return TRUE;
}

void
pr_sync_uids_sort_unique(GArray *uids)
{
	guint n = 0;

	g_array_sort(uids, pr_sync_uid_cmp);
	for (guint i = 0; i < uids->len; i++) {
		guint32 uid = g_array_index(uids, guint32, i);
		if (n == 0 || g_array_index(uids, guint32, n - 1) != uid)
			g_array_index(uids, guint32, n++) = uid;
	}
	g_array_set_size(uids, n);
}

gboolean
pr_sync_uids_contains(const GArray *sorted, guint32 uid)
{
	guint lo = 0;
	guint hi = sorted != NULL ? sorted->len : 0;

	while (lo < hi) {
		guint mid = lo + (hi - lo) / 2;
		guint32 v = g_array_index(sorted, guint32, mid);
		if (v == uid)
			return TRUE;
		if (v < uid)
			lo = mid + 1;
		else
			hi = mid;
	}
	return FALSE;
}

/* BODYSTRUCTURE as IMAP syntax ---------------------------------------------------------- */

static void
pr_sync_render(GString *out, const PrImapValue *value)
{
	const gchar *s;
	gsize len = 0;
	gboolean quotable = TRUE;

	switch (pr_imap_value_get_kind(value)) {
	case PR_IMAP_VALUE_ATOM:
	case PR_IMAP_VALUE_NUMBER:
		s = pr_imap_value_get_string(value, &len);
		g_string_append_len(out, s, (gssize)len);
		break;
	case PR_IMAP_VALUE_STRING:
		s = pr_imap_value_get_string(value, &len);
		for (gsize i = 0; i < len; i++) {
			if (s[i] == '\0' || s[i] == '\r' || s[i] == '\n') {
				quotable = FALSE;
				break;
			}
		}
		if (!quotable) {
			g_string_append_printf(out, "{%" G_GSIZE_FORMAT "}\r\n", len);
			g_string_append_len(out, s, (gssize)len);
			break;
		}
		g_string_append_c(out, '"');
		for (gsize i = 0; i < len; i++) {
			if (s[i] == '"' || s[i] == '\\')
				g_string_append_c(out, '\\');
			g_string_append_c(out, s[i]);
		}
		g_string_append_c(out, '"');
		break;
	case PR_IMAP_VALUE_LIST:
		g_string_append_c(out, '(');
		for (guint i = 0; i < pr_imap_value_get_n_children(value); i++) {
			if (i > 0)
				g_string_append_c(out, ' ');
			pr_sync_render(out, pr_imap_value_get_child(value, i));
		}
		g_string_append_c(out, ')');
		break;
	case PR_IMAP_VALUE_NIL:
	case PR_IMAP_VALUE_STREAMED: /* never inside a BODYSTRUCTURE we asked for */
	default:
		g_string_append(out, "NIL");
		break;
	}
}

gchar *
pr_sync_render_value(const PrImapValue *value)
{
	GString *out = g_string_new(NULL);
	pr_sync_render(out, value);
	return g_string_free(out, FALSE);
}

/* Signals and progress ----------------------------------------------------------------- */

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

void
pr_sync_progress_stage(PrProgress *progress, const gchar *stage)
{
	if (progress != NULL)
		pr_progress_set_stage(progress, stage);
}

void
pr_sync_progress_folder(PrProgress *progress, const gchar *folder)
{
	if (progress != NULL)
		pr_progress_set_folder(progress, folder);
}

void
pr_sync_progress_folders(PrProgress *progress, guint total, guint done)
{
	if (progress == NULL)
		return;
	if (total > 0)
		pr_progress_add_folders_total(progress, total);
	if (done > 0)
		pr_progress_add_folders_done(progress, done);
}

void
pr_sync_progress_messages(PrProgress *progress, guint total, guint done)
{
	if (progress == NULL)
		return;
	if (total > 0)
		pr_progress_add_messages_total(progress, total);
	if (done > 0)
		pr_progress_add_messages_done(progress, done);
}

void
pr_sync_progress_bytes(PrProgress *progress, guint64 total, guint64 done)
{
	if (progress == NULL)
		return;
	if (total > 0)
		pr_progress_add_bytes_total(progress, total);
	if (done > 0)
		pr_progress_add_bytes_done(progress, done);
}

void
pr_sync_progress_add_step(PrProgress *progress, guint weight)
{
	if (progress != NULL)
		pr_progress_add_step(progress, weight, NULL);
}

PrProgress *
pr_sync_progress_child(PrProgress *progress)
{
	return progress != NULL ? pr_progress_get_child(progress) : NULL;
}

void
pr_sync_progress_step_done(PrProgress *progress)
{
	if (progress != NULL)
		pr_progress_step_done(progress);
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
