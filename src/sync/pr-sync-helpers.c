/*
 * Copyright 2026 The Postroom developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#define G_LOG_DOMAIN "PrSync"

#include <glib/gi18n-lib.h>

#include "pr-error.h"
#include "pr-sync-private.h"

/* The helpers every pr-sync-*.c step uses: commands on the one connection, the selected
 * mailbox, flags, UID sets and searches, BODYSTRUCTURE as text, and progress that may be
 * NULL. */

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

/* Progress ----------------------------------------------------------------------------- */

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
