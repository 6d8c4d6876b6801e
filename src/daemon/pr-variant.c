/*
 * Copyright 2026 The Postroom developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#define G_LOG_DOMAIN "PrDaemon"

#include "pr-variant.h"

GVariant *
pr_variant_ids(GArray *ids)
{
	if (ids == NULL)
		return g_variant_new_fixed_array(G_VARIANT_TYPE_UINT64, NULL, 0, sizeof(guint64));
	return g_variant_new_fixed_array(
		G_VARIANT_TYPE_UINT64, ids->data, ids->len, sizeof(guint64));
}

static GVariant *
pr_variant_strv(gchar **strv)
{
	const gchar *const empty[] = { NULL };

	return g_variant_new_strv(strv != NULL ? (const gchar *const *)strv : empty, -1);
}

static GVariant *
pr_variant_string(const gchar *str)
{
	return g_variant_new_string(str != NULL ? str : "");
}

GVariant *
pr_variant_folder(const PrStoreFolder *folder)
{
	g_auto(GVariantBuilder) builder = G_VARIANT_BUILDER_INIT(G_VARIANT_TYPE_VARDICT);
	gchar delimiter[2] = { folder->delimiter, '\0' };

	g_variant_builder_add(&builder, "{sv}", "delimiter", g_variant_new_string(delimiter));
	g_variant_builder_add(&builder, "{sv}", "attributes", pr_variant_strv(folder->attributes));
	g_variant_builder_add(
		&builder, "{sv}", "special-use", pr_variant_string(folder->special_use));
	g_variant_builder_add(
		&builder, "{sv}", "subscribed", g_variant_new_boolean(folder->subscribed));
	g_variant_builder_add(&builder, "{sv}", "local", g_variant_new_boolean(folder->local));
	g_variant_builder_add(&builder, "{sv}", "messages", g_variant_new_uint32(folder->messages));
	g_variant_builder_add(&builder, "{sv}", "unseen", g_variant_new_uint32(folder->unseen));
	g_variant_builder_add(
		&builder, "{sv}", "uidvalidity", g_variant_new_uint32(folder->uidvalidity));
	return g_variant_new("(s@a{sv})", folder->name, g_variant_builder_end(&builder));
}

void
pr_variant_add_message_keys(GVariantBuilder *builder, const PrStoreMessage *message)
{
	g_variant_builder_add(builder, "{sv}", "uid", g_variant_new_uint32(message->uid));
	g_variant_builder_add(builder, "{sv}", "flags", pr_variant_strv(message->flags));
	g_variant_builder_add(
		builder, "{sv}", "internal-date", g_variant_new_int64(message->internal_date));
	g_variant_builder_add(builder, "{sv}", "size", g_variant_new_uint64(message->size));
	g_variant_builder_add(builder, "{sv}", "subject", pr_variant_string(message->subject));
	g_variant_builder_add(builder, "{sv}", "from", pr_variant_string(message->from));
	g_variant_builder_add(builder, "{sv}", "to", pr_variant_strv(message->to));
	g_variant_builder_add(builder, "{sv}", "cc", pr_variant_strv(message->cc));
	g_variant_builder_add(builder, "{sv}", "date", g_variant_new_int64(message->date));
	g_variant_builder_add(
		builder, "{sv}", "message-id", pr_variant_string(message->message_id));
	g_variant_builder_add(
		builder, "{sv}", "in-reply-to", pr_variant_string(message->in_reply_to));
	g_variant_builder_add(builder,
			      "{sv}",
			      "has-attachments",
			      g_variant_new_boolean(message->has_attachments));
	g_variant_builder_add(builder,
			      "{sv}",
			      "download",
			      g_variant_new_string(pr_store_download_to_string(message->download)));
	g_variant_builder_add(builder, "{sv}", "pending", pr_variant_string(message->pending));
}

GVariant *
pr_variant_message_list(GPtrArray *messages)
{
	g_auto(GVariantBuilder) builder = G_VARIANT_BUILDER_INIT(G_VARIANT_TYPE("a(ta{sv})"));

	for (guint i = 0; i < messages->len; i++) {
		PrStoreMessage *message = g_ptr_array_index(messages, i);
		g_auto(GVariantBuilder) entry = G_VARIANT_BUILDER_INIT(G_VARIANT_TYPE_VARDICT);
		pr_variant_add_message_keys(&entry, message);
		g_variant_builder_add(
			&builder, "(t@a{sv})", message->id, g_variant_builder_end(&entry));
	}
	return g_variant_builder_end(&builder);
}

GVariant *
pr_variant_message_info(const PrStoreMessage *message)
{
	g_auto(GVariantBuilder) info = G_VARIANT_BUILDER_INIT(G_VARIANT_TYPE_VARDICT);

	pr_variant_add_message_keys(&info, message);
	g_variant_builder_add(&info, "{sv}", "id", g_variant_new_uint64(message->id));
	g_variant_builder_add(&info, "{sv}", "folder", pr_variant_string(message->folder));
	g_variant_builder_add(
		&info,
		"{sv}",
		"complete",
		g_variant_new_boolean(message->download == PR_STORE_DOWNLOAD_COMPLETE));
	return g_variant_builder_end(&info);
}

typedef struct {
	GDBusMethodInvocation *invocation;
	GPtrArray *messages;
} ListReply;

static void
list_reply_free(ListReply *reply)
{
	g_clear_object(&reply->invocation);
	g_clear_pointer(&reply->messages, g_ptr_array_unref);
	g_free(reply);
}

/* The reply of a big folder is megabytes to build and serialise: in a worker thread too. */
static void
pr_variant_list_reply_thread(GTask *task,
			     gpointer source_object,
			     gpointer task_data,
			     GCancellable *cancellable)
{
	ListReply *reply = task_data;

	g_dbus_method_invocation_return_value(
		g_steal_pointer(&reply->invocation),
		g_variant_new("(@a(ta{sv}))", pr_variant_message_list(reply->messages)));
	g_task_return_boolean(task, TRUE);
}

void
pr_variant_return_message_list(GDBusMethodInvocation *invocation, GPtrArray *messages)
{
	g_autoptr(GTask) task = g_task_new(NULL, NULL, NULL, NULL);
	ListReply *reply = g_new0(ListReply, 1);

	reply->invocation = invocation;
	reply->messages = messages;
	g_task_set_task_data(task, reply, (GDestroyNotify)list_reply_free);
	g_task_run_in_thread(task, pr_variant_list_reply_thread);
}
