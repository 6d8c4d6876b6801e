/*
 * Copyright 2026 The Postroom developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#define G_LOG_DOMAIN "PrDaemon"

#include <glib/gi18n.h>

#include "pr-contract.h"
#include "pr-dbus-generated.h"
#include "pr-error.h"
#include "pr-options.h"
#include "pr-operation.h"

/* The Progress signal is sent at most this often. */
#define PR_OPERATION_PROGRESS_INTERVAL_US (100 * G_TIME_SPAN_MILLISECOND)

static guint pr_operation_linger = 60;

struct _PrOperation {
	GObject parent_instance;
	GDBusObjectManagerServer *manager;
	PrDBusObjectSkeleton *object;
	PrDBusImap4Operation *iface;
	gchar *path;
	gchar *kind;
	PrProgress *progress;
	GCancellable *cancellable;
	GVariantDict result;
	gboolean finished;
	GError *error;
	GPtrArray *waiters; /* GDBusMethodInvocation */
	gint64 last_flush;
	guint flush_id;
	guint linger_id;
};

G_DEFINE_TYPE(PrOperation, pr_operation, G_TYPE_OBJECT)

enum { SIGNAL_COMPLETED, SIGNAL_LAST };
static guint signals[SIGNAL_LAST] = { 0 };

void
pr_operation_set_linger(guint seconds)
{
	pr_operation_linger = seconds;
}

static GVariant *
pr_operation_progress_dict(PrOperation *self)
{
	g_auto(GVariantBuilder) builder = G_VARIANT_BUILDER_INIT(G_VARIANT_TYPE_VARDICT);
	PrProgress *p = self->progress;

	g_variant_builder_add(&builder,
			      "{sv}",
			      "State",
			      g_variant_new_string(pr_dbus_imap4_operation_get_state(self->iface)));
	g_variant_builder_add(
		&builder, "{sv}", "Stage", g_variant_new_string(pr_progress_get_stage(p)));
	g_variant_builder_add(
		&builder, "{sv}", "Folder", g_variant_new_string(pr_progress_get_folder(p)));
	g_variant_builder_add(&builder,
			      "{sv}",
			      "FoldersDone",
			      g_variant_new_uint32(pr_progress_get_folders_done(p)));
	g_variant_builder_add(&builder,
			      "{sv}",
			      "FoldersTotal",
			      g_variant_new_uint32(pr_progress_get_folders_total(p)));
	g_variant_builder_add(&builder,
			      "{sv}",
			      "MessagesDone",
			      g_variant_new_uint32(pr_progress_get_messages_done(p)));
	g_variant_builder_add(&builder,
			      "{sv}",
			      "MessagesTotal",
			      g_variant_new_uint32(pr_progress_get_messages_total(p)));
	g_variant_builder_add(
		&builder, "{sv}", "BytesDone", g_variant_new_uint64(pr_progress_get_bytes_done(p)));
	g_variant_builder_add(&builder,
			      "{sv}",
			      "BytesTotal",
			      g_variant_new_uint64(pr_progress_get_bytes_total(p)));
	g_variant_builder_add(
		&builder, "{sv}", "Progress", g_variant_new_double(pr_progress_get_fraction(p)));
	return g_variant_builder_end(&builder);
}

/* Copies the counters onto the bus: properties and one Progress signal. */
static void
pr_operation_flush(PrOperation *self)
{
	PrProgress *p = self->progress;

	if (self->flush_id != 0) {
		g_source_remove(self->flush_id);
		self->flush_id = 0;
	}
	self->last_flush = g_get_monotonic_time();
	g_object_freeze_notify(G_OBJECT(self->iface));
	pr_dbus_imap4_operation_set_stage(self->iface, pr_progress_get_stage(p));
	pr_dbus_imap4_operation_set_folder(self->iface, pr_progress_get_folder(p));
	pr_dbus_imap4_operation_set_folders_done(self->iface, pr_progress_get_folders_done(p));
	pr_dbus_imap4_operation_set_folders_total(self->iface, pr_progress_get_folders_total(p));
	pr_dbus_imap4_operation_set_messages_done(self->iface, pr_progress_get_messages_done(p));
	pr_dbus_imap4_operation_set_messages_total(self->iface, pr_progress_get_messages_total(p));
	pr_dbus_imap4_operation_set_bytes_done(self->iface, pr_progress_get_bytes_done(p));
	pr_dbus_imap4_operation_set_bytes_total(self->iface, pr_progress_get_bytes_total(p));
	pr_dbus_imap4_operation_set_progress(self->iface, pr_progress_get_fraction(p));
	g_object_thaw_notify(G_OBJECT(self->iface));
	pr_dbus_imap4_operation_emit_progress(self->iface, pr_operation_progress_dict(self));
}

static gboolean
pr_operation_flush_cb(gpointer user_data)
{
	PrOperation *self = PR_OPERATION(user_data);
	self->flush_id = 0;
	pr_operation_flush(self);
	return G_SOURCE_REMOVE;
}

static void
pr_operation_progress_changed_cb(PrProgress *progress, gpointer user_data)
{
	PrOperation *self = PR_OPERATION(user_data);
	gint64 since = g_get_monotonic_time() - self->last_flush;

	if (self->finished || self->flush_id != 0)
		return;
	if (since >= PR_OPERATION_PROGRESS_INTERVAL_US) {
		pr_operation_flush(self);
		return;
	}
	self->flush_id =
		g_timeout_add((guint)((PR_OPERATION_PROGRESS_INTERVAL_US - since) / 1000) + 1,
			      pr_operation_flush_cb,
			      self);
}

static gboolean
pr_operation_linger_cb(gpointer user_data)
{
	PrOperation *self = PR_OPERATION(user_data);

	self->linger_id = 0;
	g_dbus_object_manager_server_unexport(self->manager, self->path);
	g_object_unref(self); /* the reference the export held */
	return G_SOURCE_REMOVE;
}

static void
pr_operation_return_waiters(PrOperation *self)
{
	for (guint i = 0; i < self->waiters->len; i++) {
		GDBusMethodInvocation *invocation = g_ptr_array_index(self->waiters, i);
		if (self->error != NULL)
			g_dbus_method_invocation_return_gerror(invocation, self->error);
		else
			g_dbus_method_invocation_return_value(invocation, NULL);
	}
	g_ptr_array_set_size(self->waiters, 0);
}

void
pr_operation_complete(PrOperation *self, const GError *error)
{
	const gchar *name = "";
	const gchar *message = "";

	g_return_if_fail(PR_IS_OPERATION(self));
	if (self->finished)
		return;
	self->finished = TRUE;
	if (error != NULL) {
		self->error = g_error_copy(error);
		pr_error_convert(&self->error);
		name = pr_error_to_dbus_name(self->error->code);
		message = self->error->message;
	} else {
		pr_progress_finish(self->progress);
	}
	pr_operation_flush(self);
	g_object_freeze_notify(G_OBJECT(self->iface));
	pr_dbus_imap4_operation_set_cancelable(self->iface, FALSE);
	pr_dbus_imap4_operation_set_error(self->iface, g_variant_new("(ss)", name, message));
	pr_dbus_imap4_operation_set_result(self->iface, g_variant_dict_end(&self->result));
	g_variant_dict_init(&self->result, NULL);
	if (error == NULL)
		pr_dbus_imap4_operation_set_state(self->iface, "succeeded");
	else if (g_error_matches(self->error, PR_ERROR, PR_ERROR_CANCELLED))
		pr_dbus_imap4_operation_set_state(self->iface, "cancelled");
	else
		pr_dbus_imap4_operation_set_state(self->iface, "failed");
	g_object_thaw_notify(G_OBJECT(self->iface));
	/* properties first, so a client reacting to Completed reads the final values */
	g_dbus_interface_skeleton_flush(G_DBUS_INTERFACE_SKELETON(self->iface));
	pr_dbus_imap4_operation_emit_completed(self->iface, error == NULL, name, message);
	pr_operation_return_waiters(self);
	g_debug("operation %s (%s) ended: %s", self->path, self->kind, error ? message : "ok");
	/* handlers of "completed" may drop their references: the export's keeps us */
	g_signal_emit(self, signals[SIGNAL_COMPLETED], 0, self->error);
	self->linger_id = g_timeout_add_seconds(pr_operation_linger, pr_operation_linger_cb, self);
}

void
pr_operation_start(PrOperation *self)
{
	g_return_if_fail(PR_IS_OPERATION(self));
	pr_dbus_imap4_operation_set_state(self->iface, "running");
	pr_dbus_imap4_operation_set_start_time(self->iface, g_get_real_time() / G_USEC_PER_SEC);
	pr_operation_flush(self);
}

gboolean
pr_operation_is_finished(PrOperation *self)
{
	return self->finished;
}

void
pr_operation_set_result_value(PrOperation *self, const gchar *key, GVariant *value)
{
	g_return_if_fail(PR_IS_OPERATION(self));
	g_variant_dict_insert_value(&self->result, key, value);
}

void
pr_operation_set_cancelable(PrOperation *self, gboolean cancelable)
{
	g_return_if_fail(PR_IS_OPERATION(self));
	if (self->finished || pr_dbus_imap4_operation_get_cancelable(self->iface) == cancelable)
		return;
	pr_dbus_imap4_operation_set_cancelable(self->iface, cancelable);
	/* a client deciding whether to offer "Cancel" sees it before the operation ends */
	g_dbus_interface_skeleton_flush(G_DBUS_INTERFACE_SKELETON(self->iface));
}

static gboolean
pr_operation_check_options(GDBusMethodInvocation *invocation, GVariant *options)
{
	g_autoptr(GError) error = NULL;

	if (pr_options_check(options, PR_OPTIONS_KIND_OPTION, NULL, 0, &error))
		return TRUE;
	g_dbus_method_invocation_return_gerror(invocation, error);
	return FALSE;
}

static gboolean
pr_operation_handle_cancel(PrDBusImap4Operation *iface,
			   GDBusMethodInvocation *invocation,
			   GVariant *options,
			   gpointer user_data)
{
	PrOperation *self = PR_OPERATION(user_data);

	if (!pr_operation_check_options(invocation, options))
		return TRUE;
	if (!self->finished) {
		if (!pr_dbus_imap4_operation_get_cancelable(self->iface)) {
			g_dbus_method_invocation_return_error(
				invocation,
				PR_ERROR,
				PR_ERROR_BUSY,
				_("This operation cannot be cancelled now"));
			return TRUE;
		}
		g_cancellable_cancel(self->cancellable);
	}
	pr_dbus_imap4_operation_complete_cancel(iface, invocation);
	return TRUE;
}

static gboolean
pr_operation_handle_wait(PrDBusImap4Operation *iface,
			 GDBusMethodInvocation *invocation,
			 GVariant *options,
			 gpointer user_data)
{
	PrOperation *self = PR_OPERATION(user_data);

	if (!pr_operation_check_options(invocation, options))
		return TRUE;
	g_ptr_array_add(self->waiters, g_object_ref(invocation));
	if (self->finished)
		pr_operation_return_waiters(self);
	return TRUE;
}

const gchar *
pr_operation_get_path(PrOperation *self)
{
	return self->path;
}

const gchar *
pr_operation_get_kind(PrOperation *self)
{
	return self->kind;
}

PrProgress *
pr_operation_get_progress(PrOperation *self)
{
	return self->progress;
}

GCancellable *
pr_operation_get_cancellable(PrOperation *self)
{
	return self->cancellable;
}

static void
pr_operation_dispose(GObject *object)
{
	PrOperation *self = PR_OPERATION(object);

	if (self->flush_id != 0) {
		g_source_remove(self->flush_id);
		self->flush_id = 0;
	}
	if (self->progress != NULL)
		g_signal_handlers_disconnect_by_data(self->progress, self);
	if (self->iface != NULL)
		g_signal_handlers_disconnect_by_data(self->iface, self);
	G_OBJECT_CLASS(pr_operation_parent_class)->dispose(object);
}

static void
pr_operation_finalize(GObject *object)
{
	PrOperation *self = PR_OPERATION(object);

	g_clear_object(&self->manager);
	g_clear_object(&self->object);
	g_clear_object(&self->iface);
	g_clear_object(&self->progress);
	g_clear_object(&self->cancellable);
	g_variant_dict_clear(&self->result);
	g_clear_error(&self->error);
	g_ptr_array_unref(self->waiters);
	g_free(self->path);
	g_free(self->kind);
	G_OBJECT_CLASS(pr_operation_parent_class)->finalize(object);
}

static void
pr_operation_class_init(PrOperationClass *klass)
{
	GObjectClass *object_class = G_OBJECT_CLASS(klass);

	object_class->dispose = pr_operation_dispose;
	object_class->finalize = pr_operation_finalize;
	signals[SIGNAL_COMPLETED] = g_signal_new("completed",
						 G_TYPE_FROM_CLASS(klass),
						 G_SIGNAL_RUN_LAST,
						 0,
						 NULL,
						 NULL,
						 NULL,
						 G_TYPE_NONE,
						 1,
						 G_TYPE_ERROR);
}

static void
pr_operation_init(PrOperation *self)
{
	self->waiters = g_ptr_array_new_with_free_func(g_object_unref);
	self->progress = pr_progress_new();
	self->cancellable = g_cancellable_new();
	g_variant_dict_init(&self->result, NULL);
}

PrOperation *
pr_operation_new(GDBusObjectManagerServer *manager,
		 guint64 number,
		 const gchar *kind,
		 const gchar *service_path)
{
	PrOperation *self = g_object_new(PR_TYPE_OPERATION, NULL);

	self->manager = g_object_ref(manager);
	self->kind = g_strdup(kind);
	self->path = pr_contract_operation_path(number);
	self->iface = pr_dbus_imap4_operation_skeleton_new();
	pr_dbus_imap4_operation_set_kind(self->iface, kind);
	pr_dbus_imap4_operation_set_service(self->iface, service_path);
	pr_dbus_imap4_operation_set_state(self->iface, "queued");
	pr_dbus_imap4_operation_set_stage(self->iface, "");
	pr_dbus_imap4_operation_set_folder(self->iface, "");
	pr_dbus_imap4_operation_set_progress(self->iface, -1);
	pr_dbus_imap4_operation_set_cancelable(self->iface, TRUE);
	pr_dbus_imap4_operation_set_error(self->iface, g_variant_new("(ss)", "", ""));
	pr_dbus_imap4_operation_set_result(self->iface, g_variant_new("a{sv}", NULL));
	g_signal_connect(
		self->iface, "handle-cancel", G_CALLBACK(pr_operation_handle_cancel), self);
	g_signal_connect(self->iface, "handle-wait", G_CALLBACK(pr_operation_handle_wait), self);
	g_signal_connect(
		self->progress, "changed", G_CALLBACK(pr_operation_progress_changed_cb), self);
	self->object = pr_dbus_object_skeleton_new(self->path);
	pr_dbus_object_skeleton_set_imap4_operation(self->object, self->iface);
	g_dbus_object_manager_server_export(manager, G_DBUS_OBJECT_SKELETON(self->object));
	/* the export keeps the operation alive until it lingered after its end */
	g_object_ref(self);
	return self;
}
