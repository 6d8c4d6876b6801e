/*
 * Copyright 2026 The Postroom developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <gio/gio.h>

#include "pr-contract.h"

G_BEGIN_DECLS

/*
 * The account settings model: one static table of every settings key of the D-Bus
 * contract (name, GVariant type, default, allowed values, validator), used to validate
 * AddService/UpdateSettings/ProbeServer dictionaries, to write them to GSettings, to read
 * them back for GetSettings and to fill a PrAccountConfig for the engine.
 *
 * Storage: schema "org.postroom.Postroom1" (key "services": the account ids) and the
 * relocatable schema "org.postroom.Imap4Service" at /org/postroom/Postroom1/services/ID/.
 * Passwords are never settings (see pr-secrets.h).
 *
 * All errors are in the PR_ERROR domain; validation failures are
 * PR_ERROR_INVALID_ARGUMENT with a translated message naming the offending key.
 */

#define PR_SETTINGS_SCHEMA_ID	      "org.postroom.Postroom1"
#define PR_SETTINGS_SERVICE_SCHEMA_ID "org.postroom.Imap4Service"
/* The settings tree mirrors the object paths, so an account is found under the same name
 * in dconf as on the bus; data/org.postroom.Postroom1.gschema.xml spells out the first. */
#define PR_SETTINGS_SCHEMA_PATH	  PR_DBUS_MANAGER_PATH "/"
#define PR_SETTINGS_SERVICES_PATH PR_DBUS_SERVICES_PATH "/"

/* Both schemas are installed (or in $GSETTINGS_SCHEMA_DIR). GSettings aborts the process
 * when asked for a missing schema, so the daemon calls this once at startup. */
gboolean pr_settings_check_schemas(GError **error);

/* NULL-terminated list of every key name, in schema order (static, do not free). */
const gchar *const *pr_settings_list_keys(void);
/* The key's GVariant type string ("s", "q", ...), or NULL for an unknown key. */
const gchar *pr_settings_key_get_type_string(const gchar *key);
/* The key's default as a new floating-free reference, or NULL for an unknown key. */
GVariant *pr_settings_key_dup_default(const gchar *key);

/*
 * Validate @changes (a{sv}). Checks, each failing with InvalidArgument naming the key:
 * unknown key, a key given twice, wrong type, value outside the key's choices or range,
 * control characters in a string, host syntax (a host name or IP literal, no spaces,
 * <= 253 bytes), tls-pinned-certificate (64 hex digits; colons and upper case accepted),
 * tls-ca-file (an absolute path to a readable regular file), from-address (contains "@").
 * Cross-key rules use the merged view (@current, or the defaults when @current is NULL,
 * overlaid with @changes): "host" and "user" must be non-empty; security (or
 * smtp-security) "none" needs a loopback host (pr_net_host_is_loopback()) unless
 * allow-insecure is true. When @adding is FALSE the cross-key rules are only checked
 * when @changes touches one of the keys involved, so a stored state that predates a rule
 * never blocks unrelated changes.
 *
 * @adding: TRUE for AddService/ProbeServer (host and user must be given).
 * @current: nullable a{sv}, the service's present values (pr_settings_dup_all()).
 */
gboolean
pr_settings_validate(GVariant *changes, gboolean adding, GVariant *current, GError **error);

/* Validate like pr_settings_validate() and return @changes with values normalised
 * (tls-pinned-certificate in lower case without colons), as a new a{sv} (floating). */
GVariant *
pr_settings_normalize(GVariant *changes, gboolean adding, GVariant *current, GError **error);

/* The relocatable path of service @id's settings, PR_SETTINGS_SERVICES_PATH "ID/"; the only
 * place that builds it. @id must be valid (pr_contract_service_id_is_valid()). */
gchar *pr_settings_service_path(const gchar *id);
/* The GSettings of service @id at pr_settings_service_path(). @id must be valid
 * (pr_contract_service_id_is_valid()); uses the default backend. */
GSettings *pr_settings_new_for_service(const gchar *id);

/*
 * Validate @changes against the merged view of @settings' present values, normalise them
 * and write them all at once (one delay/apply, so the backend sees one change set).
 * @settings itself is left in normal (non-delayed) mode. Nothing is written on error.
 * With the dconf backend the write is asynchronous: call g_settings_sync() before exiting.
 */
gboolean pr_settings_apply(GSettings *settings, GVariant *changes, GError **error);

/* Every key of the contract as a{sv} (GetSettings), floating. An empty display-name is
 * returned as "user@host". There is no password key. */
GVariant *pr_settings_dup_all(GSettings *settings);

/* "display-name", or "user@host" when it is empty. */
gchar *pr_settings_dup_display_name(GSettings *settings);

/* Reset every key of @settings to its default, so nothing of the account is left in the
 * backend (RemoveService). */
void pr_settings_reset_all(GSettings *settings);

/*
 * A new service id made from @user and @host: lower case, [a-z0-9_]+, at most 64 bytes,
 * e.g. "ann_imap_example_com", with "_2", "_3", ... appended when it is in @taken
 * (nullable, NULL-terminated).
 */
gchar *pr_settings_make_service_id(const gchar *user, const gchar *host, const gchar *const *taken);
/* pr_contract_service_id_is_valid(): kept for its callers, the rule is the contract's. */
gboolean pr_settings_is_valid_service_id(const gchar *id);

/* A change of @key applies only at the next connect (connection parameters). */
gboolean pr_settings_key_needs_reconnect(const gchar *key);

/* The "services" list of org.postroom.Postroom1 (default backend). */
gchar **pr_settings_dup_service_ids(void);
/* Append @id unless already listed. */
void pr_settings_add_service_id(const gchar *id);
/* Remove @id if listed. */
void pr_settings_remove_service_id(const gchar *id);

/*
 * AddService in one call: validate @settings (adding), make an id unique among the listed
 * services, reset any stale keys at its path, write the settings and list the id.
 * Returns the new id.
 */
gchar *pr_settings_create_service(GVariant *settings, GError **error);
/* RemoveService's settings part: reset every key of @id and unlist it. */
void pr_settings_delete_service(const gchar *id);

/*
 * The values the engine needs, as plain C: one field per settings key (strings are
 * g_strdup'd, never NULL). Enumerated keys stay strings as the schema spells them
 * (e.g. security "tls"); pr_imap_security_from_string() and friends convert them.
 */
typedef struct {
	gchar *display_name; /* never empty: "user@host" when the key is empty */
	gchar *host;
	guint16 port;		/* as stored; 0 = default */
	guint16 port_effective; /* 993 for tls, 143 otherwise when port is 0 */
	gchar *security;
	gboolean allow_insecure;
	gboolean compress;
	gchar *user;
	gchar *auth;
	guint32 timeout;
	gchar *tls_ca_file;
	gchar *tls_pinned_certificate; /* "" or 64 lower-case hex digits */
	gchar *folder_path;
	gchar *folder_sync;
	gchar *subscription_update;
	gint32 inbox_sync_limit;
	gint32 mailbox_sync_limit;
	gchar *sync_search;
	gchar *get_mail_parts;
	guint64 body_text_size_limit;
	guint64 attachment_size_limit;
	guint64 total_size_limit;
	guint32 fetch_chunk_size;
	gboolean idle;
	guint32 idle_timeout;
	guint32 sync_interval;
	gboolean offline_operations;
	gboolean update_seen_flags;
	gboolean delete_on_disconnect;
	gboolean use_expunge;
	gboolean send_on_next_connection;
	gchar *smtp_host;
	guint16 smtp_port;
	guint16 smtp_port_effective; /* 465 tls, 587 starttls, 25 none when smtp-port is 0 */
	gchar *smtp_security;
	gchar *smtp_user; /* as stored; "" means the IMAP user */
	gchar *from_address;
	gboolean save_sent;
	gchar *sent_folder;
	gchar *drafts_folder;
	gboolean acknowledge_receipts;
} PrAccountConfig;

PrAccountConfig *pr_account_config_new_from_settings(GSettings *settings);
/* From a dictionary such as ProbeServer's: the defaults overlaid with @settings (normalised,
 * e.g. the pin in lower case). Validate @settings with pr_settings_validate() first:
 * unknown keys are ignored and a value that fails its checks keeps the default. */
PrAccountConfig *pr_account_config_new_from_variant(GVariant *settings);
void pr_account_config_free(PrAccountConfig *config);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(PrAccountConfig, pr_account_config_free)

G_END_DECLS
