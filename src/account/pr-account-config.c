/*
 * Copyright 2026 The Postroom developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#define G_LOG_DOMAIN "PrAccount"

#include "pr-settings-private.h"

/* PrAccountConfig: a plain-C snapshot of every settings key for the engine. */

static gchar *
pr_account_config_dup_string(GVariant *dict, const gchar *name)
{
	const gchar *value = "";
	g_variant_lookup(dict, name, "&s", &value);
	return g_strdup(value);
}

static gboolean
pr_account_config_get_boolean(GVariant *dict, const gchar *name)
{
	gboolean value = FALSE;
	g_variant_lookup(dict, name, "b", &value);
	return value;
}

static guint16
pr_account_config_get_uint16(GVariant *dict, const gchar *name)
{
	guint16 value = 0;
	g_variant_lookup(dict, name, "q", &value);
	return value;
}

static guint32
pr_account_config_get_uint32(GVariant *dict, const gchar *name)
{
	guint32 value = 0;
	g_variant_lookup(dict, name, "u", &value);
	return value;
}

static gint32
pr_account_config_get_int32(GVariant *dict, const gchar *name)
{
	gint32 value = 0;
	g_variant_lookup(dict, name, "i", &value);
	return value;
}

static guint64
pr_account_config_get_uint64(GVariant *dict, const gchar *name)
{
	guint64 value = 0;
	g_variant_lookup(dict, name, "t", &value);
	return value;
}

/* @dict holds every key (stored values or the merged view). */
static PrAccountConfig *
pr_account_config_new_from_dict(GVariant *dict)
{
	PrAccountConfig *c = g_new0(PrAccountConfig, 1);
	g_autofree gchar *display_name = pr_account_config_dup_string(dict, "display-name");

	c->host = pr_account_config_dup_string(dict, "host");
	c->user = pr_account_config_dup_string(dict, "user");
	c->display_name = pr_settings_make_display_name(display_name, c->user, c->host);
	c->port = pr_account_config_get_uint16(dict, "port");
	c->security = pr_account_config_dup_string(dict, "security");
	c->port_effective =
		c->port != 0 ? c->port : (g_strcmp0(c->security, "tls") == 0 ? 993 : 143);
	c->allow_insecure = pr_account_config_get_boolean(dict, "allow-insecure");
	c->compress = pr_account_config_get_boolean(dict, "compress");
	c->auth = pr_account_config_dup_string(dict, "auth");
	c->timeout = pr_account_config_get_uint32(dict, "timeout");
	c->tls_ca_file = pr_account_config_dup_string(dict, "tls-ca-file");
	c->tls_pinned_certificate = pr_account_config_dup_string(dict, "tls-pinned-certificate");
	c->folder_path = pr_account_config_dup_string(dict, "folder-path");
	c->folder_sync = pr_account_config_dup_string(dict, "folder-sync");
	c->subscription_update = pr_account_config_dup_string(dict, "subscription-update");
	c->inbox_sync_limit = pr_account_config_get_int32(dict, "inbox-sync-limit");
	c->mailbox_sync_limit = pr_account_config_get_int32(dict, "mailbox-sync-limit");
	c->sync_search = pr_account_config_dup_string(dict, "sync-search");
	c->get_mail_parts = pr_account_config_dup_string(dict, "get-mail-parts");
	c->body_text_size_limit = pr_account_config_get_uint64(dict, "body-text-size-limit");
	c->attachment_size_limit = pr_account_config_get_uint64(dict, "attachment-size-limit");
	c->total_size_limit = pr_account_config_get_uint64(dict, "total-size-limit");
	c->fetch_chunk_size = pr_account_config_get_uint32(dict, "fetch-chunk-size");
	c->idle = pr_account_config_get_boolean(dict, "idle");
	c->idle_timeout = pr_account_config_get_uint32(dict, "idle-timeout");
	c->sync_interval = pr_account_config_get_uint32(dict, "sync-interval");
	c->offline_operations = pr_account_config_get_boolean(dict, "offline-operations");
	c->update_seen_flags = pr_account_config_get_boolean(dict, "update-seen-flags");
	c->delete_on_disconnect = pr_account_config_get_boolean(dict, "delete-on-disconnect");
	c->use_expunge = pr_account_config_get_boolean(dict, "use-expunge");
	c->send_on_next_connection = pr_account_config_get_boolean(dict, "send-on-next-connection");
	c->smtp_host = pr_account_config_dup_string(dict, "smtp-host");
	c->smtp_port = pr_account_config_get_uint16(dict, "smtp-port");
	c->smtp_security = pr_account_config_dup_string(dict, "smtp-security");
	if (c->smtp_port != 0)
		c->smtp_port_effective = c->smtp_port;
	else if (g_strcmp0(c->smtp_security, "tls") == 0)
		c->smtp_port_effective = 465;
	else if (g_strcmp0(c->smtp_security, "starttls") == 0)
		c->smtp_port_effective = 587;
	else
		c->smtp_port_effective = 25;
	c->smtp_user = pr_account_config_dup_string(dict, "smtp-user");
	c->from_address = pr_account_config_dup_string(dict, "from-address");
	c->save_sent = pr_account_config_get_boolean(dict, "save-sent");
	c->sent_folder = pr_account_config_dup_string(dict, "sent-folder");
	c->drafts_folder = pr_account_config_dup_string(dict, "drafts-folder");
	c->acknowledge_receipts = pr_account_config_get_boolean(dict, "acknowledge-receipts");
	return c;
}

PrAccountConfig *
pr_account_config_new_from_settings(GSettings *settings)
{
	g_autoptr(GVariant) dict = NULL;

	g_return_val_if_fail(G_IS_SETTINGS(settings), NULL);
	dict = g_variant_ref_sink(pr_settings_dup_all_raw(settings));
	return pr_account_config_new_from_dict(dict);
}

PrAccountConfig *
pr_account_config_new_from_variant(GVariant *settings)
{
	g_autoptr(GVariant) dict = g_variant_ref_sink(pr_settings_complete(settings));

	return pr_account_config_new_from_dict(dict);
}

void
pr_account_config_free(PrAccountConfig *config)
{
	if (config == NULL)
		return;
	g_free(config->display_name);
	g_free(config->host);
	g_free(config->security);
	g_free(config->user);
	g_free(config->auth);
	g_free(config->tls_ca_file);
	g_free(config->tls_pinned_certificate);
	g_free(config->folder_path);
	g_free(config->folder_sync);
	g_free(config->subscription_update);
	g_free(config->sync_search);
	g_free(config->get_mail_parts);
	g_free(config->smtp_host);
	g_free(config->smtp_security);
	g_free(config->smtp_user);
	g_free(config->from_address);
	g_free(config->sent_folder);
	g_free(config->drafts_folder);
	g_free(config);
}
