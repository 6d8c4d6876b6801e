/*
 * Copyright 2026 The Postroom developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#define G_LOG_DOMAIN "PrSync"

#include "pr-error.h"
#include "pr-push-private.h"

/* What the server tells push unasked, turned into "changed": untagged EXISTS, EXPUNGE,
 * VANISHED and FETCH on INBOX, STATUS and LIST from NOTIFY for the other folders, coalesced
 * per folder; and the NOTIFY SET that asks for them. The IDLE cycle is in pr-push.c. */

/* News --------------------------------------------------------------------------------- */

static gboolean
pr_push_coalesce_cb(gpointer user_data)
{
	g_autoptr(PrPush) self = g_object_ref(PR_PUSH(user_data));
	g_autoptr(GHashTable) pending = g_steal_pointer(&self->pending);
	g_autoptr(GList) names = NULL;
	gboolean all = self->pending_all;

	self->coalesce_id = 0;
	self->pending_all = FALSE;
	self->pending = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	if (all)
		pr_push_emit_changed(self, NULL);
	/* INBOX first, the others in name order: stable for the daemon and for tests */
	names = g_list_sort(g_hash_table_get_keys(pending), (GCompareFunc)g_strcmp0);
	if (g_hash_table_contains(pending, "INBOX"))
		pr_push_emit_changed(self, "INBOX");
	for (GList *l = names; l != NULL; l = l->next) {
		if (g_strcmp0(l->data, "INBOX") != 0)
			pr_push_emit_changed(self, l->data);
	}
	return G_SOURCE_REMOVE;
}

/* @folder NULL: anything may have changed. */
static void
pr_push_news(PrPush *self, const gchar *folder)
{
	if (folder == NULL)
		self->pending_all = TRUE;
	else
		g_hash_table_add(self->pending, g_strdup(folder));
	if (self->coalesce_id == 0) {
		self->coalesce_id =
			g_timeout_add(self->options.coalesce_ms, pr_push_coalesce_cb, self);
	}
}

static void
pr_push_handle_status(PrPush *self, PrImapResponse *response)
{
	g_autoptr(PrImapStatusInfo) info = NULL;
	g_autoptr(GError) error = NULL;

	info = pr_imap_response_parse_status(
		response, pr_imap_client_get_utf8_enabled(self->client), &error);
	if (info == NULL) {
		g_debug("push: ignoring a STATUS: %s", error->message);
		return;
	}
	pr_push_news(self, info->name);
}

static void
pr_push_handle_list(PrPush *self, PrImapResponse *response)
{
	g_autoptr(PrImapListEntry) entry = NULL;
	g_autoptr(GError) error = NULL;

	entry = pr_imap_response_parse_list(
		response, pr_imap_client_get_utf8_enabled(self->client), &error);
	if (entry == NULL) {
		g_debug("push: ignoring a LIST: %s", error->message);
		return;
	}
	pr_push_news(self, entry->name);
	if (entry->old_name != NULL)
		pr_push_news(self, entry->old_name);
}

void
pr_push_untagged_cb(PrImapClient *client, PrImapResponse *response, gpointer user_data)
{
	PrPush *self = PR_PUSH(user_data);
	const gchar *keyword = pr_imap_response_get_keyword(response);
	gboolean starting = self->state == PR_PUSH_STATE_STARTING;
	guint32 number = 0;

	if (self->state == PR_PUSH_STATE_IDLING)
		self->last_activity = g_get_monotonic_time();
	if (keyword == NULL)
		return;

	if (g_strcmp0(keyword, "EXISTS") == 0 && pr_imap_response_get_number(response, &number)) {
		/* EXAMINE's own EXISTS is the baseline, not news; an EXISTS repeating the
		 * count we know is not news either */
		if (!starting && (!self->exists_known || number != self->exists))
			pr_push_news(self, "INBOX");
		self->exists = number;
		self->exists_known = TRUE;
	} else if (g_strcmp0(keyword, "EXPUNGE") == 0) {
		if (self->exists_known && self->exists > 0)
			self->exists--;
		if (!starting)
			pr_push_news(self, "INBOX");
	} else if (g_strcmp0(keyword, "VANISHED") == 0) {
		g_autofree gchar *set = NULL;
		gboolean earlier = FALSE;

		/* (EARLIER) answers a QRESYNC command, which push never sends */
		set = pr_imap_response_parse_vanished(response, &earlier, NULL);
		if (!earlier) {
			self->exists_known = FALSE;
			if (!starting)
				pr_push_news(self, "INBOX");
		}
	} else if (g_strcmp0(keyword, "FETCH") == 0) {
		/* push only EXAMINEs: every FETCH is another session changing flags */
		if (!starting)
			pr_push_news(self, "INBOX");
	} else if (g_strcmp0(keyword, "STATUS") == 0) {
		if (!starting)
			pr_push_handle_status(self, response);
	} else if (g_strcmp0(keyword, "LIST") == 0) {
		/* only NOTIFY's MailboxName/SubscriptionChange send LIST unasked here */
		if (self->notify_active)
			pr_push_handle_list(self, response);
	} else if (g_strcmp0(pr_imap_response_get_code(response), "NOTIFICATIONOVERFLOW") == 0) {
		/* RFC 5465 5.8: the server stopped notifying; whatever happened is lost */
		g_debug("push: NOTIFY overflow, re-arming it");
		self->notify_active = FALSE;
		self->notify_needed = self->options.use_notify;
		pr_push_news(self, NULL);
		pr_push_advance(self);
	}
}

void
pr_push_drop_news(PrPush *self)
{
	pr_push_clear_source(&self->coalesce_id);
	g_hash_table_remove_all(self->pending);
	self->pending_all = FALSE;
}

/* NOTIFY SET --------------------------------------------------------------------------- */

/* What NOTIFY asks for in folders other than the selected one, most useful first: a server
 * that refuses an event (BADEVENT) gets the next set. MailboxName and SubscriptionChange
 * report folder-tree changes as untagged LIST. */
static const gchar *const pr_push_notify_events[] = {
	"(MessageNew MessageExpunge MailboxName SubscriptionChange)",
	"(MessageNew MessageExpunge)",
};

static void
pr_push_notify_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	g_autoptr(PrPush) self = PR_PUSH(user_data);
	g_autoptr(PrImapResponse) response = NULL;
	g_autoptr(GError) error = NULL;

	response = pr_imap_client_run_finish(self->client, res, NULL, &error);
	if (self->state != PR_PUSH_STATE_NOTIFYING)
		return;
	if (response == NULL) {
		if (!g_error_matches(error, PR_ERROR, PR_ERROR_SERVER_ERROR)) {
			pr_push_command_failed(self, error);
			return;
		}
		/* a refused NOTIFY costs push nothing but the other folders */
		self->notify_variant++;
		if (self->notify_variant >= G_N_ELEMENTS(pr_push_notify_events)) {
			g_debug("push: NOTIFY refused, watching INBOX only: %s", error->message);
			self->notify_needed = FALSE;
		}
	} else {
		self->notify_needed = FALSE;
		self->notify_active = TRUE;
	}
	pr_push_set_state(self, PR_PUSH_STATE_SELECTED);
	pr_push_advance(self);
}

void
pr_push_send_notify(PrPush *self)
{
	g_autoptr(PrImapCommand) command = pr_imap_command_new("NOTIFY");

	pr_imap_command_add_printf(command,
				   "SET (selected (MessageNew MessageExpunge FlagChange)) (%s %s)",
				   self->options.notify_subscribed ? "subscribed" : "personal",
				   pr_push_notify_events[self->notify_variant]);
	pr_push_set_state(self, PR_PUSH_STATE_NOTIFYING);
	pr_imap_client_run_async(
		self->client, command, NULL, pr_push_notify_cb, g_object_ref(self));
}
