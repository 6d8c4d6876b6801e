/*
 * Copyright 2026 The Postroom developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#define G_LOG_DOMAIN "PrAccount"

#include <glib/gi18n-lib.h>
#include <libsecret/secret.h>
#include <string.h>

#include "pr-error.h"
#include "pr-secrets.h"
#include "pr-settings.h"

/*
 * Only the SecretService API is used, never secret_password_*(): those go through
 * libsecret's backend selection, which may pick a local file instead of the Secret
 * Service (SECRET_BACKEND=file, sandboxes). We fail closed instead.
 *
 * Lookups and deletions search by "service" and "protocol" only, without the schema
 * name: gnome-keyring cannot match xdg:schema on items of a locked collection, so a
 * schema search reports "nothing stored" for a password that is merely locked away.
 * Unlocked matches are then filtered by schema name; a match that stays locked after the
 * unlock attempt fails the operation (SecretServiceUnavailable), never NoPassword.
 * secret_service_clear() is not used either: it silently skips locked items.
 */

static const SecretSchema *
pr_secrets_get_schema(void)
{
	static const SecretSchema schema = {
		PR_SECRETS_SCHEMA_NAME,
		SECRET_SCHEMA_NONE,
		{
			{ "service", SECRET_SCHEMA_ATTRIBUTE_STRING },
			{ "protocol", SECRET_SCHEMA_ATTRIBUTE_STRING },
			{ NULL, 0 },
		},
	};
	return &schema;
}

typedef enum {
	PR_SECRETS_OP_STORE,
	PR_SECRETS_OP_LOOKUP,
	PR_SECRETS_OP_CLEAR,
} PrSecretsOp;

typedef struct {
	PrSecretsOp op;
	GHashTable *attributes;
	gchar *label;
	SecretValue *value; /* store only; libsecret keeps it in secure memory */
	guint pending;	    /* clear: deletions in flight */
	gboolean locked;    /* clear: a match stayed locked */
	GError *error;	    /* clear: the first deletion error */
} PrSecretsData;

static void
pr_secrets_data_free(PrSecretsData *data)
{
	g_hash_table_unref(data->attributes);
	g_free(data->label);
	if (data->value != NULL)
		secret_value_unref(data->value);
	g_clear_error(&data->error);
	g_free(data);
}

void
pr_secrets_password_free(gchar *password)
{
	if (password == NULL)
		return;
	explicit_bzero(password, strlen(password));
	g_free(password);
}

gchar *
pr_secrets_make_label(const gchar *user, const gchar *host, const gchar *protocol)
{
	g_autofree gchar *proto = g_ascii_strup(protocol != NULL ? protocol : "", -1);
	/* TRANSLATORS: the label of a password in the keyring: user, host, "IMAP" or "SMTP" */
	return g_strdup_printf(_("Postroom password for %s@%s (%s)"),
			       user != NULL ? user : "",
			       host != NULL ? host : "",
			       proto);
}

/* Map libsecret/D-Bus/GIO errors onto the contract: everything that is not a
 * cancellation means no usable Secret Service. */
static GError *
pr_secrets_convert_error(GError *error)
{
	g_autoptr(GError) e = error;

	if (g_error_matches(e, G_IO_ERROR, G_IO_ERROR_CANCELLED))
		return g_error_new_literal(PR_ERROR, PR_ERROR_CANCELLED, e->message);
	if (g_dbus_error_is_remote_error(e))
		g_dbus_error_strip_remote_error(e);
	g_debug("Secret Service error: %s (%s %d)",
		e->message,
		g_quark_to_string(e->domain),
		e->code);
	return g_error_new(PR_ERROR,
			   PR_ERROR_SECRET_SERVICE_UNAVAILABLE,
			   _("The Secret Service is not available: %s"),
			   e->message);
}

static gboolean
pr_secrets_check_args(const gchar *service_id,
		      const gchar *protocol,
		      gboolean protocol_optional,
		      GError **error)
{
	if (!pr_settings_is_valid_service_id(service_id)) {
		g_set_error_literal(
			error, PR_ERROR, PR_ERROR_INVALID_ARGUMENT, _("Invalid service id"));
		return FALSE;
	}
	if (protocol == NULL && protocol_optional)
		return TRUE;
	if (g_strcmp0(protocol, PR_SECRETS_PROTOCOL_IMAP) != 0 &&
	    g_strcmp0(protocol, PR_SECRETS_PROTOCOL_SMTP) != 0) {
		g_set_error(error,
			    PR_ERROR,
			    PR_ERROR_INVALID_ARGUMENT,
			    _("Unknown protocol “%s”: expected “%s” or “%s”"),
			    protocol != NULL ? protocol : "",
			    PR_SECRETS_PROTOCOL_IMAP,
			    PR_SECRETS_PROTOCOL_SMTP);
		return FALSE;
	}
	return TRUE;
}

static GHashTable *
pr_secrets_attributes_new(const gchar *service_id, const gchar *protocol)
{
	GHashTable *attributes = g_hash_table_new_full(g_str_hash, g_str_equal, NULL, g_free);

	g_hash_table_insert(attributes, (gpointer) "service", g_strdup(service_id));
	if (protocol != NULL)
		g_hash_table_insert(attributes, (gpointer) "protocol", g_strdup(protocol));
	return attributes;
}

static void
pr_secrets_store_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	g_autoptr(GTask) task = G_TASK(user_data);
	GError *error = NULL;

	if (!secret_service_store_finish(SECRET_SERVICE(source), res, &error)) {
		g_task_return_error(task, pr_secrets_convert_error(error));
		return;
	}
	g_task_return_boolean(task, TRUE);
}

static gboolean
pr_secrets_item_is_ours(SecretItem *item)
{
	g_autofree gchar *schema_name = secret_item_get_schema_name(item);
	return g_strcmp0(schema_name, PR_SECRETS_SCHEMA_NAME) == 0;
}

static GError *
pr_secrets_locked_error(void)
{
	return g_error_new_literal(PR_ERROR,
				   PR_ERROR_SECRET_SERVICE_UNAVAILABLE,
				   _("The keyring holding the password is locked"));
}

/* The first matching item's secret; items that stayed locked (the unlock prompt was
 * dismissed or could not be shown) mean the Secret Service cannot serve us. */
static void
pr_secrets_search_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	g_autoptr(GTask) task = G_TASK(user_data);
	GError *error = NULL;
	GList *items;
	gboolean locked = FALSE;
	gchar *password = NULL;

	items = secret_service_search_finish(SECRET_SERVICE(source), res, &error);
	if (error != NULL) {
		g_task_return_error(task, pr_secrets_convert_error(error));
		return;
	}
	for (GList *l = items; l != NULL && password == NULL; l = l->next) {
		SecretItem *item = SECRET_ITEM(l->data);
		SecretValue *value;
		const gchar *bytes;
		gsize len = 0;

		if (secret_item_get_locked(item)) {
			locked = TRUE;
			continue;
		}
		if (!pr_secrets_item_is_ours(item))
			continue;
		value = secret_item_get_secret(item);
		if (value == NULL) {
			locked = TRUE;
			continue;
		}
		bytes = secret_value_get(value, &len);
		password = g_strndup(bytes, len);
		secret_value_unref(value);
	}
	g_list_free_full(items, g_object_unref);
	if (password != NULL) {
		g_task_return_pointer(task, password, (GDestroyNotify)pr_secrets_password_free);
		return;
	}
	if (locked) {
		g_task_return_error(task, pr_secrets_locked_error());
		return;
	}
	g_task_return_new_error(task, PR_ERROR, PR_ERROR_NO_PASSWORD, _("No password is stored"));
}

static void
pr_secrets_clear_done(GTask *task)
{
	PrSecretsData *data = g_task_get_task_data(task);

	if (data->pending > 0)
		return;
	if (data->error != NULL) {
		g_task_return_error(task, g_steal_pointer(&data->error));
		return;
	}
	if (data->locked) {
		g_task_return_error(task, pr_secrets_locked_error());
		return;
	}
	g_task_return_boolean(task, TRUE);
}

static void
pr_secrets_delete_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	g_autoptr(GTask) task = G_TASK(user_data);
	PrSecretsData *data = g_task_get_task_data(task);
	GError *error = NULL;

	if (!secret_item_delete_finish(SECRET_ITEM(source), res, &error)) {
		GError *converted = pr_secrets_convert_error(error);
		if (data->error == NULL)
			data->error = converted;
		else
			g_error_free(converted);
	}
	data->pending--;
	pr_secrets_clear_done(task);
}

/* Delete every unlocked item of ours; a match that stays locked fails the operation
 * after the others are gone, so a retry once unlocked finishes the job. */
static void
pr_secrets_clear_search_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	g_autoptr(GTask) task = G_TASK(user_data);
	PrSecretsData *data = g_task_get_task_data(task);
	GError *error = NULL;
	GList *items;

	items = secret_service_search_finish(SECRET_SERVICE(source), res, &error);
	if (error != NULL) {
		g_task_return_error(task, pr_secrets_convert_error(error));
		return;
	}
	data->pending = 1; /* held until every deletion has started */
	for (GList *l = items; l != NULL; l = l->next) {
		SecretItem *item = SECRET_ITEM(l->data);
		if (secret_item_get_locked(item)) {
			data->locked = TRUE;
			continue;
		}
		if (!pr_secrets_item_is_ours(item))
			continue;
		data->pending++;
		secret_item_delete(item,
				   g_task_get_cancellable(task),
				   pr_secrets_delete_cb,
				   g_object_ref(task));
	}
	g_list_free_full(items, g_object_unref);
	data->pending--;
	pr_secrets_clear_done(task);
}

static void
pr_secrets_service_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	g_autoptr(GTask) task = G_TASK(user_data);
	g_autoptr(SecretService) service = NULL;
	PrSecretsData *data = g_task_get_task_data(task);
	GCancellable *cancellable = g_task_get_cancellable(task);
	GError *error = NULL;

	service = secret_service_get_finish(res, &error);
	if (service == NULL) {
		g_task_return_error(task, pr_secrets_convert_error(error));
		return;
	}
	switch (data->op) {
	case PR_SECRETS_OP_STORE:
		secret_service_store(service,
				     pr_secrets_get_schema(),
				     data->attributes,
				     SECRET_COLLECTION_DEFAULT,
				     data->label,
				     data->value,
				     cancellable,
				     pr_secrets_store_cb,
				     g_steal_pointer(&task));
		break;
	case PR_SECRETS_OP_LOOKUP:
		secret_service_search(service,
				      NULL,
				      data->attributes,
				      SECRET_SEARCH_ALL | SECRET_SEARCH_UNLOCK |
					      SECRET_SEARCH_LOAD_SECRETS,
				      cancellable,
				      pr_secrets_search_cb,
				      g_steal_pointer(&task));
		break;
	case PR_SECRETS_OP_CLEAR:
	default:
		secret_service_search(service,
				      NULL,
				      data->attributes,
				      SECRET_SEARCH_ALL | SECRET_SEARCH_UNLOCK,
				      cancellable,
				      pr_secrets_clear_search_cb,
				      g_steal_pointer(&task));
		break;
	}
}

static void
pr_secrets_start(GTask *task, PrSecretsData *data)
{
	g_task_set_task_data(task, data, (GDestroyNotify)pr_secrets_data_free);
	secret_service_get(SECRET_SERVICE_OPEN_SESSION,
			   g_task_get_cancellable(task),
			   pr_secrets_service_cb,
			   g_object_ref(task));
}

void
pr_secrets_store_async(const gchar *service_id,
		       const gchar *protocol,
		       const gchar *label,
		       const gchar *password,
		       GCancellable *cancellable,
		       GAsyncReadyCallback callback,
		       gpointer user_data)
{
	g_autoptr(GTask) task = g_task_new(NULL, cancellable, callback, user_data);
	PrSecretsData *data;
	GError *error = NULL;

	g_task_set_source_tag(task, pr_secrets_store_async);
	if (!pr_secrets_check_args(service_id, protocol, FALSE, &error)) {
		g_task_return_error(task, error);
		return;
	}
	if (password == NULL || password[0] == '\0') {
		g_task_return_new_error(task,
					PR_ERROR,
					PR_ERROR_INVALID_ARGUMENT,
					_("The password must not be empty"));
		return;
	}
	data = g_new0(PrSecretsData, 1);
	data->op = PR_SECRETS_OP_STORE;
	data->attributes = pr_secrets_attributes_new(service_id, protocol);
	data->label = label != NULL ? g_strdup(label) : pr_secrets_make_label("", "", protocol);
	data->value = secret_value_new(password, -1, "text/plain");
	pr_secrets_start(task, data);
}

gboolean
pr_secrets_store_finish(GAsyncResult *result, GError **error)
{
	g_return_val_if_fail(g_task_is_valid(result, NULL), FALSE);
	return g_task_propagate_boolean(G_TASK(result), error);
}

void
pr_secrets_lookup_async(const gchar *service_id,
			const gchar *protocol,
			GCancellable *cancellable,
			GAsyncReadyCallback callback,
			gpointer user_data)
{
	g_autoptr(GTask) task = g_task_new(NULL, cancellable, callback, user_data);
	PrSecretsData *data;
	GError *error = NULL;

	g_task_set_source_tag(task, pr_secrets_lookup_async);
	if (!pr_secrets_check_args(service_id, protocol, FALSE, &error)) {
		g_task_return_error(task, error);
		return;
	}
	data = g_new0(PrSecretsData, 1);
	data->op = PR_SECRETS_OP_LOOKUP;
	data->attributes = pr_secrets_attributes_new(service_id, protocol);
	pr_secrets_start(task, data);
}

gchar *
pr_secrets_lookup_finish(GAsyncResult *result, GError **error)
{
	g_return_val_if_fail(g_task_is_valid(result, NULL), NULL);
	return g_task_propagate_pointer(G_TASK(result), error);
}

void
pr_secrets_clear_async(const gchar *service_id,
		       const gchar *protocol,
		       GCancellable *cancellable,
		       GAsyncReadyCallback callback,
		       gpointer user_data)
{
	g_autoptr(GTask) task = g_task_new(NULL, cancellable, callback, user_data);
	PrSecretsData *data;
	GError *error = NULL;

	g_task_set_source_tag(task, pr_secrets_clear_async);
	if (!pr_secrets_check_args(service_id, protocol, TRUE, &error)) {
		g_task_return_error(task, error);
		return;
	}
	data = g_new0(PrSecretsData, 1);
	data->op = PR_SECRETS_OP_CLEAR;
	data->attributes = pr_secrets_attributes_new(service_id, protocol);
	pr_secrets_start(task, data);
}

gboolean
pr_secrets_clear_finish(GAsyncResult *result, GError **error)
{
	g_return_val_if_fail(g_task_is_valid(result, NULL), FALSE);
	return g_task_propagate_boolean(G_TASK(result), error);
}
