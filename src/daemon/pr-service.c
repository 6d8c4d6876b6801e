/*
 * Copyright 2026 The Postroom developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#define G_LOG_DOMAIN "PrDaemon"

#include <gio/gunixfdlist.h>
#include <glib/gi18n.h>
#include <string.h>
#include <unistd.h>

#include "pr-contract.h"
#include "pr-daemon.h"
#include "pr-dbus-generated.h"
#include "pr-error.h"
#include "pr-get-mail-request.h"
#include "pr-options.h"
#include "pr-secrets.h"
#include "pr-service-private.h"
#include "pr-session.h"
#include "pr-settings.h"
#include "pr-store.h"
#include "pr-variant.h"

/*
 * One account's org.postroom.Postroom1.Imap4Service: each method checks its arguments and
 * either answers from the store at once or queues a job on the account's session, which
 * runs it and reports through the job's operation.
 */

G_DEFINE_TYPE(PrService, pr_service, G_TYPE_OBJECT)

/* Method helpers ----------------------------------------------------------------------------- */

gboolean
pr_service_check_no_options(GDBusMethodInvocation *invocation, GVariant *options)
{
	g_autoptr(GError) error = NULL;

	if (pr_options_check(options, PR_OPTIONS_KIND_OPTION, NULL, 0, &error))
		return TRUE;
	g_dbus_method_invocation_return_gerror(invocation, error);
	return FALSE;
}

gboolean
pr_service_check_connected(PrService *self, GDBusMethodInvocation *invocation)
{
	if (pr_session_is_connected(self->session))
		return TRUE;
	g_dbus_method_invocation_return_error(invocation,
					      PR_ERROR,
					      PR_ERROR_NOT_CONNECTED,
					      _("The account %s is not connected"),
					      self->id);
	return FALSE;
}

/* Queues @job and answers the call with its operation's path. */
void
pr_service_return_job(PrService *self, GDBusMethodInvocation *invocation, PrJob *job)
{
	g_dbus_method_invocation_return_value(
		invocation, g_variant_new("(o)", pr_operation_get_path(job->operation)));
	pr_session_enqueue(self->session, job);
}

/* An operation for work that is done by the time the call returns. */
void
pr_service_return_done(PrService *self,
		       GDBusMethodInvocation *invocation,
		       const gchar *kind,
		       const GError *error)
{
	g_autoptr(PrOperation) operation = pr_daemon_new_operation(self->daemon, kind, self->path);

	pr_operation_start(operation);
	pr_operation_complete(operation, error);
	if (error != NULL)
		pr_session_set_last_error(self->session, error);
	g_dbus_method_invocation_return_value(
		invocation, g_variant_new("(o)", pr_operation_get_path(operation)));
}

/* Settings and passwords --------------------------------------------------------------------- */

static gboolean
pr_service_handle_get_settings(PrDBusImap4Service *iface,
			       GDBusMethodInvocation *invocation,
			       gpointer user_data)
{
	PrService *self = PR_SERVICE(user_data);
	pr_dbus_imap4_service_complete_get_settings(
		iface, invocation, pr_settings_dup_all(self->settings));
	return TRUE;
}

static gboolean
pr_service_handle_update_settings(PrDBusImap4Service *iface,
				  GDBusMethodInvocation *invocation,
				  GVariant *changes,
				  gpointer user_data)
{
	PrService *self = PR_SERVICE(user_data);
	g_autoptr(GError) error = NULL;

	if (!pr_settings_apply(self->settings, changes, &error)) {
		g_dbus_method_invocation_return_gerror(invocation, error);
		return TRUE;
	}
	pr_dbus_imap4_service_complete_update_settings(iface, invocation);
	return TRUE;
}

static gboolean
pr_service_check_protocol(GDBusMethodInvocation *invocation, const gchar *protocol)
{
	if (g_strcmp0(protocol, "imap") == 0 || g_strcmp0(protocol, "smtp") == 0)
		return TRUE;
	g_dbus_method_invocation_return_error(invocation,
					      PR_ERROR,
					      PR_ERROR_INVALID_ARGUMENT,
					      _("The protocol must be “imap” or “smtp”"));
	return FALSE;
}

static void
pr_service_password_stored_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	g_autoptr(GDBusMethodInvocation) invocation = user_data;
	g_autoptr(GError) error = NULL;

	if (!pr_secrets_store_finish(res, &error)) {
		g_dbus_method_invocation_return_gerror(invocation, error);
		return;
	}
	g_dbus_method_invocation_return_value(invocation, NULL);
}

static void
pr_service_password_cleared_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	g_autoptr(GDBusMethodInvocation) invocation = user_data;
	g_autoptr(GError) error = NULL;

	if (!pr_secrets_clear_finish(res, &error)) {
		g_dbus_method_invocation_return_gerror(invocation, error);
		return;
	}
	g_dbus_method_invocation_return_value(invocation, NULL);
}

static gboolean
pr_service_handle_set_password(PrDBusImap4Service *iface,
			       GDBusMethodInvocation *invocation,
			       const gchar *protocol,
			       const gchar *password,
			       gpointer user_data)
{
	PrService *self = PR_SERVICE(user_data);
	g_autoptr(PrAccountConfig) config = NULL;
	g_autofree gchar *label = NULL;
	gboolean smtp = g_strcmp0(protocol, "smtp") == 0;

	if (!pr_service_check_protocol(invocation, protocol))
		return TRUE;
	if (password[0] == '\0') {
		g_dbus_method_invocation_return_error(invocation,
						      PR_ERROR,
						      PR_ERROR_INVALID_ARGUMENT,
						      _("The password is empty"));
		return TRUE;
	}
	config = pr_account_config_new_from_settings(self->settings);
	label = pr_secrets_make_label(
		smtp && config->smtp_user[0] != '\0' ? config->smtp_user : config->user,
		smtp && config->smtp_host[0] != '\0' ? config->smtp_host : config->host,
		protocol);
	pr_secrets_store_async(self->id,
			       protocol,
			       label,
			       password,
			       NULL,
			       pr_service_password_stored_cb,
			       g_object_ref(invocation));
	return TRUE;
}

static gboolean
pr_service_handle_clear_password(PrDBusImap4Service *iface,
				 GDBusMethodInvocation *invocation,
				 const gchar *protocol,
				 gpointer user_data)
{
	PrService *self = PR_SERVICE(user_data);

	if (!pr_service_check_protocol(invocation, protocol))
		return TRUE;
	pr_secrets_clear_async(
		self->id, protocol, NULL, pr_service_password_cleared_cb, g_object_ref(invocation));
	return TRUE;
}

/* Connection ---------------------------------------------------------------------------------- */

static gboolean
pr_service_handle_connect(PrDBusImap4Service *iface,
			  GDBusMethodInvocation *invocation,
			  GVariant *options,
			  gpointer user_data)
{
	PrService *self = PR_SERVICE(user_data);

	if (!pr_service_check_no_options(invocation, options))
		return TRUE;
	pr_service_return_job(
		self, invocation, pr_session_new_job(self->session, PR_JOB_CONNECT, "connect"));
	return TRUE;
}

static gboolean
pr_service_handle_disconnect(PrDBusImap4Service *iface,
			     GDBusMethodInvocation *invocation,
			     GVariant *options,
			     gpointer user_data)
{
	PrService *self = PR_SERVICE(user_data);

	if (!pr_service_check_no_options(invocation, options))
		return TRUE;
	/* a background sync would hold the queue: stop it so the disconnect can run */
	pr_session_cancel_background(self->session);
	pr_service_return_job(self,
			      invocation,
			      pr_session_new_job(self->session, PR_JOB_DISCONNECT, "disconnect"));
	return TRUE;
}

static gboolean
pr_service_handle_connect_and_sync(PrDBusImap4Service *iface,
				   GDBusMethodInvocation *invocation,
				   const gchar *complete_after,
				   GVariant *options,
				   gpointer user_data)
{
	PrService *self = PR_SERVICE(user_data);
	PrCompleteAfter mode;
	PrJob *job;

	if (g_strcmp0(complete_after, "connect") == 0) {
		mode = PR_COMPLETE_AFTER_CONNECT;
	} else if (g_strcmp0(complete_after, "sync") == 0) {
		mode = PR_COMPLETE_AFTER_SYNC;
	} else if (g_strcmp0(complete_after, "disconnect") == 0) {
		mode = PR_COMPLETE_AFTER_DISCONNECT;
	} else {
		g_dbus_method_invocation_return_error(
			invocation,
			PR_ERROR,
			PR_ERROR_INVALID_ARGUMENT,
			_("complete_after must be “connect”, “sync” or “disconnect”"));
		return TRUE;
	}
	if (!pr_service_check_no_options(invocation, options))
		return TRUE;
	job = pr_session_new_job(self->session, PR_JOB_CONNECT, "connect-and-sync");
	job->connect.complete_after = mode;
	pr_service_return_job(self, invocation, job);
	return TRUE;
}

/* Synchronisation ----------------------------------------------------------------------------- */

static gboolean
pr_service_handle_synchronise(PrDBusImap4Service *iface,
			      GDBusMethodInvocation *invocation,
			      const gchar *scope_str,
			      const gchar *const *folders,
			      GVariant *options,
			      gpointer user_data)
{
	PrService *self = PR_SERVICE(user_data);
	PrSyncScope scope;
	PrJob *job;

	if (!pr_sync_scope_from_string(scope_str, &scope)) {
		g_dbus_method_invocation_return_error(
			invocation,
			PR_ERROR,
			PR_ERROR_INVALID_ARGUMENT,
			_("The scope must be full, tree, inbox-new, folders or subscriptions"));
		return TRUE;
	}
	if (!pr_service_check_no_options(invocation, options))
		return TRUE;
	if (scope == PR_SYNC_SCOPE_FOLDERS) {
		if (folders[0] == NULL) {
			g_dbus_method_invocation_return_error(
				invocation,
				PR_ERROR,
				PR_ERROR_INVALID_ARGUMENT,
				_("Scope “folders” needs folder names"));
			return TRUE;
		}
		for (guint i = 0; folders[i] != NULL; i++) {
			g_autoptr(PrStoreFolder) folder = NULL;
			g_autoptr(GError) error = NULL;
			folder = pr_store_get_folder(self->store, folders[i], &error);
			if (folder == NULL) {
				g_dbus_method_invocation_return_gerror(invocation, error);
				return TRUE;
			}
		}
	}
	if (!pr_service_check_connected(self, invocation))
		return TRUE;
	job = pr_session_new_job(self->session, PR_JOB_SYNC, "synchronise");
	job->sync.scope = scope;
	job->sync.folders = g_strdupv((gchar **)folders);
	pr_service_return_job(self, invocation, job);
	return TRUE;
}

static gboolean
pr_service_handle_cancel_background_sync(PrDBusImap4Service *iface,
					 GDBusMethodInvocation *invocation,
					 GVariant *options,
					 gpointer user_data)
{
	PrService *self = PR_SERVICE(user_data);

	if (!pr_service_check_no_options(invocation, options))
		return TRUE;
	pr_session_cancel_background(self->session);
	pr_dbus_imap4_service_complete_cancel_background_sync(iface, invocation);
	return TRUE;
}

static void
pr_service_background_done_cb(PrOperation *background, GError *error, gpointer user_data)
{
	PrOperation *waiter = PR_OPERATION(user_data);
	g_signal_handlers_disconnect_by_data(background, waiter);
	pr_operation_complete(waiter, NULL);
	g_object_unref(waiter);
}

static gboolean
pr_service_handle_wait_for_background(PrDBusImap4Service *iface,
				      GDBusMethodInvocation *invocation,
				      GVariant *options,
				      gpointer user_data)
{
	PrService *self = PR_SERVICE(user_data);
	g_autoptr(PrOperation) operation = NULL;
	PrOperation *background = pr_session_get_background_operation(self->session);

	if (!pr_service_check_no_options(invocation, options))
		return TRUE;
	operation = pr_daemon_new_operation(self->daemon, "wait-for-background", self->path);
	pr_operation_start(operation);
	if (background == NULL) {
		pr_operation_complete(operation, NULL);
	} else {
		g_signal_connect(background,
				 "completed",
				 G_CALLBACK(pr_service_background_done_cb),
				 g_object_ref(operation));
	}
	pr_dbus_imap4_service_complete_wait_for_background(
		iface, invocation, pr_operation_get_path(operation));
	return TRUE;
}

/* Reading the store ---------------------------------------------------------------------------- */

static gboolean
pr_service_handle_list_folders(PrDBusImap4Service *iface,
			       GDBusMethodInvocation *invocation,
			       GVariant *options,
			       gpointer user_data)
{
	PrService *self = PR_SERVICE(user_data);
	g_autoptr(GPtrArray) folders = NULL;
	g_autoptr(GError) error = NULL;
	g_auto(GVariantBuilder) builder = G_VARIANT_BUILDER_INIT(G_VARIANT_TYPE("a(sa{sv})"));

	if (!pr_service_check_no_options(invocation, options))
		return TRUE;
	folders = pr_store_list_folders(self->store, &error);
	if (folders == NULL) {
		g_dbus_method_invocation_return_gerror(invocation, error);
		return TRUE;
	}
	for (guint i = 0; i < folders->len; i++)
		g_variant_builder_add_value(&builder,
					    pr_variant_folder(g_ptr_array_index(folders, i)));
	pr_dbus_imap4_service_complete_list_folders(
		iface, invocation, g_variant_builder_end(&builder));
	return TRUE;
}

static const PrOptionSpec pr_service_query_keys[] = {
	{ "offset", "u", NULL },
	{ "limit", "u", NULL },
	{ "unseen-only", "b", NULL },
	{ "changed-since", "t", NULL },
};

static gboolean
pr_service_parse_query(GVariant *query, PrStoreQuery *out, GError **error)
{
	memset(out, 0, sizeof(*out));
	if (!pr_options_check(query,
			      PR_OPTIONS_KIND_QUERY,
			      pr_service_query_keys,
			      G_N_ELEMENTS(pr_service_query_keys),
			      error))
		return FALSE;
	g_variant_lookup(query, "offset", "u", &out->offset);
	g_variant_lookup(query, "limit", "u", &out->limit);
	g_variant_lookup(query, "unseen-only", "b", &out->unseen_only);
	g_variant_lookup(query, "changed-since", "t", &out->changed_since);
	return TRUE;
}

static void
pr_service_listed_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	g_autoptr(GDBusMethodInvocation) invocation = user_data;
	g_autoptr(GPtrArray) messages = NULL;
	g_autoptr(GError) error = NULL;

	messages = pr_store_list_messages_finish(PR_STORE(source), res, &error);
	if (messages == NULL) {
		g_dbus_method_invocation_return_gerror(invocation, error);
		return;
	}
	pr_variant_return_message_list(g_steal_pointer(&invocation), g_steal_pointer(&messages));
}

static gboolean
pr_service_handle_list_messages(PrDBusImap4Service *iface,
				GDBusMethodInvocation *invocation,
				const gchar *folder_name,
				GVariant *query,
				gpointer user_data)
{
	PrService *self = PR_SERVICE(user_data);
	g_autoptr(PrStoreFolder) folder = NULL;
	g_autoptr(GError) error = NULL;
	PrStoreQuery q;

	if (!pr_service_parse_query(query, &q, &error)) {
		g_dbus_method_invocation_return_gerror(invocation, error);
		return TRUE;
	}
	folder = pr_store_get_folder(self->store, folder_name, &error);
	if (folder == NULL) {
		g_dbus_method_invocation_return_gerror(invocation, error);
		return TRUE;
	}
	/* a folder of 50,000 messages takes a while to read: other callers do not wait */
	pr_store_list_messages_async(
		self->store, folder->id, &q, NULL, pr_service_listed_cb, g_object_ref(invocation));
	return TRUE;
}

static gboolean
pr_service_handle_get_message(PrDBusImap4Service *iface,
			      GDBusMethodInvocation *invocation,
			      GUnixFDList *in_fds,
			      guint64 id,
			      GVariant *options,
			      gpointer user_data)
{
	PrService *self = PR_SERVICE(user_data);
	g_autoptr(PrStoreMessage) message = NULL;
	g_autoptr(GError) error = NULL;
	g_autoptr(GUnixFDList) fds = NULL;
	gint fd;
	gint handle;

	if (!pr_service_check_no_options(invocation, options))
		return TRUE;
	message = pr_store_get_message(self->store, id, &error);
	if (message == NULL) {
		g_dbus_method_invocation_return_gerror(invocation, error);
		return TRUE;
	}
	fd = pr_store_open_body(self->store, id, &error);
	if (fd < 0) {
		g_dbus_method_invocation_return_gerror(invocation, error);
		return TRUE;
	}
	fds = g_unix_fd_list_new();
	handle = g_unix_fd_list_append(fds, fd, &error);
	close(fd);
	if (handle < 0) {
		g_dbus_method_invocation_return_gerror(invocation, error);
		return TRUE;
	}
	pr_dbus_imap4_service_complete_get_message(iface,
						   invocation,
						   fds,
						   pr_variant_message_info(message),
						   g_variant_new_handle(handle));
	return TRUE;
}

/* GetMail ------------------------------------------------------------------------------------- */

static gboolean
pr_service_handle_get_mail(PrDBusImap4Service *iface,
			   GDBusMethodInvocation *invocation,
			   GVariant *options,
			   gpointer user_data)
{
	PrService *self = PR_SERVICE(user_data);
	g_autoptr(GError) error = NULL;
	g_autoptr(PrGetMailRequest) request = NULL;
	PrJob *job;

	request = pr_get_mail_request_new(options, self->store, &error);
	if (request == NULL) {
		g_dbus_method_invocation_return_gerror(invocation, error);
		return TRUE;
	}
	if (request->connection == PR_GET_MAIL_ALREADY_CONNECTED &&
	    !pr_service_check_connected(self, invocation))
		return TRUE;
	job = pr_session_new_job(self->session, PR_JOB_GET_MAIL, "get-mail");
	job->get_mail.ids = g_steal_pointer(&request->ids);
	job->get_mail.disconnect_after = request->connection == PR_GET_MAIL_CONNECT_AND_DISCONNECT;
	/* downloading bodies changes nothing on the server */
	job->read_only = pr_session_is_connected(self->session) && !job->get_mail.disconnect_after;
	pr_service_return_job(self, invocation, job);
	return TRUE;
}

/* Not yet available ---------------------------------------------------------------------------- */

static gboolean
pr_service_handle_unsupported(PrDBusImap4Service *iface,
			      GDBusMethodInvocation *invocation,
			      gpointer user_data)
{
	g_dbus_method_invocation_return_error(invocation,
					      PR_ERROR,
					      PR_ERROR_FAILED,
					      _("%s is not available in this version"),
					      g_dbus_method_invocation_get_method_name(invocation));
	return TRUE;
}

/* Remove and shutdown -------------------------------------------------------------------------- */

static void
pr_service_store_destroyed_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	g_autoptr(GTask) task = G_TASK(user_data);
	PrService *self = g_task_get_source_object(task);
	g_autoptr(GError) error = NULL;

	if (!pr_store_destroy_finish(PR_STORE(source), res, &error)) {
		g_task_return_error(task, g_steal_pointer(&error));
		return;
	}
	pr_settings_reset_all(self->settings);
	g_dbus_object_manager_server_unexport(self->manager, self->path);
	g_task_return_boolean(task, TRUE);
}

static void
pr_service_clear_secrets_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	g_autoptr(GTask) task = G_TASK(user_data);
	PrService *self = g_task_get_source_object(task);
	g_autoptr(GError) error = NULL;

	if (!pr_secrets_clear_finish(res, &error) &&
	    !g_error_matches(error, PR_ERROR, PR_ERROR_NO_PASSWORD)) {
		g_task_return_error(task, g_steal_pointer(&error));
		return;
	}
	/* a store of many messages takes a while to unlink: not on the main loop */
	pr_store_destroy_async(
		self->store, NULL, pr_service_store_destroyed_cb, g_steal_pointer(&task));
}

void
pr_service_remove_async(PrService *self,
			GCancellable *cancellable,
			GAsyncReadyCallback callback,
			gpointer user_data)
{
	g_autoptr(GTask) task = g_task_new(self, cancellable, callback, user_data);

	pr_session_abort(self->session);
	pr_secrets_clear_async(
		self->id, NULL, cancellable, pr_service_clear_secrets_cb, g_steal_pointer(&task));
}

gboolean
pr_service_remove_finish(PrService *self, GAsyncResult *res, GError **error)
{
	return g_task_propagate_boolean(G_TASK(res), error);
}

void
pr_service_shutdown(PrService *self)
{
	pr_session_shutdown(self->session);
}

const gchar *
pr_service_get_id(PrService *self)
{
	return self->id;
}

const gchar *
pr_service_get_path(PrService *self)
{
	return self->path;
}

/* Construction --------------------------------------------------------------------------------- */

static void
pr_service_settings_changed_cb(GSettings *settings, const gchar *key, gpointer user_data)
{
	PrService *self = PR_SERVICE(user_data);

	pr_session_settings_changed(self->session, key);
	if (g_strcmp0(key, "display-name") == 0 || g_strcmp0(key, "user") == 0 ||
	    g_strcmp0(key, "host") == 0) {
		g_autoptr(PrAccountConfig) config = pr_account_config_new_from_settings(settings);
		pr_dbus_imap4_service_set_display_name(self->iface, config->display_name);
	}
}

static void
pr_service_dispose(GObject *object)
{
	PrService *self = PR_SERVICE(object);

	if (self->settings != NULL)
		g_signal_handlers_disconnect_by_data(self->settings, self);
	g_clear_object(&self->session);
	G_OBJECT_CLASS(pr_service_parent_class)->dispose(object);
}

static void
pr_service_finalize(GObject *object)
{
	PrService *self = PR_SERVICE(object);

	g_clear_object(&self->store);
	g_clear_object(&self->settings);
	g_clear_object(&self->iface);
	g_clear_object(&self->object);
	g_clear_object(&self->manager);
	g_free(self->id);
	g_free(self->path);
	G_OBJECT_CLASS(pr_service_parent_class)->finalize(object);
}

static void
pr_service_class_init(PrServiceClass *klass)
{
	GObjectClass *object_class = G_OBJECT_CLASS(klass);
	object_class->dispose = pr_service_dispose;
	object_class->finalize = pr_service_finalize;
}

static void
pr_service_init(PrService *self)
{
}

static const gchar *const pr_service_unsupported[] = {
	"handle-copy-messages",		  "handle-move-messages",
	"handle-list-offline-operations", "handle-cancel-offline-operations",
	"handle-create-message",	  "handle-create-reply",
	"handle-create-forward",	  "handle-create-forward-as-attachment",
	"handle-create-receipt",	  "handle-import-message",
	"handle-queue-message",		  "handle-send-queued",
};

PrService *
pr_service_new(PrDaemon *daemon, GDBusObjectManagerServer *manager, const gchar *id, GError **error)
{
	g_autoptr(PrService) self = g_object_new(PR_TYPE_SERVICE, NULL);
	g_autoptr(PrAccountConfig) config = NULL;
	g_autofree gchar *store_dir = NULL;
	const gchar *const empty[] = { NULL };

	self->daemon = daemon;
	self->manager = g_object_ref(manager);
	self->id = g_strdup(id);
	self->path = pr_contract_service_path(id);
	self->settings = pr_settings_new_for_service(id);
	config = pr_account_config_new_from_settings(self->settings);
	store_dir = g_build_filename(g_get_user_data_dir(), "postroom", id, NULL);
	self->store = pr_store_new(store_dir, error);
	if (self->store == NULL)
		return NULL;

	self->iface = pr_dbus_imap4_service_skeleton_new();
	pr_dbus_imap4_service_set_id(self->iface, id);
	pr_dbus_imap4_service_set_display_name(self->iface, config->display_name);
	pr_dbus_imap4_service_set_connected(self->iface, FALSE);
	pr_dbus_imap4_service_set_busy(self->iface, FALSE);
	pr_dbus_imap4_service_set_state(self->iface, "disconnected");
	pr_dbus_imap4_service_set_background_sync(self->iface, FALSE);
	pr_dbus_imap4_service_set_last_sync(self->iface, 0);
	pr_dbus_imap4_service_set_last_error(self->iface, g_variant_new("(ss)", "", ""));
	pr_dbus_imap4_service_set_pending_offline_operations(self->iface, 0);
	pr_dbus_imap4_service_set_outbox_count(self->iface, 0);
	pr_dbus_imap4_service_set_server_capabilities(self->iface, empty);
	self->session =
		pr_session_new(daemon, id, self->path, self->settings, self->store, self->iface);

#define PR_HANDLE(signal, func) g_signal_connect(self->iface, signal, G_CALLBACK(func), self)
	PR_HANDLE("handle-get-settings", pr_service_handle_get_settings);
	PR_HANDLE("handle-update-settings", pr_service_handle_update_settings);
	PR_HANDLE("handle-set-password", pr_service_handle_set_password);
	PR_HANDLE("handle-clear-password", pr_service_handle_clear_password);
	PR_HANDLE("handle-connect", pr_service_handle_connect);
	PR_HANDLE("handle-disconnect", pr_service_handle_disconnect);
	PR_HANDLE("handle-connect-and-sync", pr_service_handle_connect_and_sync);
	PR_HANDLE("handle-synchronise", pr_service_handle_synchronise);
	PR_HANDLE("handle-cancel-background-sync", pr_service_handle_cancel_background_sync);
	PR_HANDLE("handle-wait-for-background", pr_service_handle_wait_for_background);
	PR_HANDLE("handle-list-folders", pr_service_handle_list_folders);
	PR_HANDLE("handle-list-messages", pr_service_handle_list_messages);
	PR_HANDLE("handle-get-message", pr_service_handle_get_message);
	PR_HANDLE("handle-get-mail", pr_service_handle_get_mail);
#undef PR_HANDLE
	pr_service_connect_folder_methods(self);
	pr_service_connect_message_methods(self);
	for (guint i = 0; i < G_N_ELEMENTS(pr_service_unsupported); i++)
		g_signal_connect(self->iface,
				 pr_service_unsupported[i],
				 G_CALLBACK(pr_service_handle_unsupported),
				 self);
	g_signal_connect(
		self->settings, "changed", G_CALLBACK(pr_service_settings_changed_cb), self);

	self->object = pr_dbus_object_skeleton_new(self->path);
	pr_dbus_object_skeleton_set_imap4_service(self->object, self->iface);
	g_dbus_object_manager_server_export(manager, G_DBUS_OBJECT_SKELETON(self->object));
	return g_steal_pointer(&self);
}
