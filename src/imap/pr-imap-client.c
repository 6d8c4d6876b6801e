/*
 * Copyright 2026 The Postroom developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#define G_LOG_DOMAIN "PrImap"

#include <glib/gi18n-lib.h>
#include <string.h>

#include "pr-error.h"
#include "pr-imap-client-private.h"

/*
 * One IMAP connection.
 *
 * Reading: one read is always outstanding while connected; every byte goes to the parser
 * and every completed response is dispatched at once, so untagged data is accepted at any
 * time. Writing: commands are queued and pipelined; a command whose next piece needs a
 * continuation ("+") holds the line until it comes. STARTTLS and COMPRESS change the
 * stream under the parser, so they are sent alone and the reader stops exactly at the end
 * of their tagged response: nothing read before the switch is ever interpreted after it.
 */

G_DEFINE_TYPE(PrImapClient, pr_imap_client, G_TYPE_OBJECT)

enum { SIGNAL_UNTAGGED, SIGNAL_ALERT, SIGNAL_CLOSED, SIGNAL_LAST };
static guint signals[SIGNAL_LAST] = { 0 };

const gchar *
pr_imap_security_to_string(PrImapSecurity security)
{
	switch (security) {
	case PR_IMAP_SECURITY_TLS:
		return "tls";
	case PR_IMAP_SECURITY_STARTTLS:
		return "starttls";
	case PR_IMAP_SECURITY_NONE:
		return "none";
	default:
		return NULL;
	}
}

gboolean
pr_imap_security_from_string(const gchar *str, PrImapSecurity *security)
{
	if (g_strcmp0(str, "tls") == 0)
		*security = PR_IMAP_SECURITY_TLS;
	else if (g_strcmp0(str, "starttls") == 0)
		*security = PR_IMAP_SECURITY_STARTTLS;
	else if (g_strcmp0(str, "none") == 0)
		*security = PR_IMAP_SECURITY_NONE;
	else
		return FALSE;
	return TRUE;
}

/* Tasks whose callbacks run from g_task_return_*() may re-enter the client; every state
 * change must be done before a task returns. */

gboolean
pr_imap_client_is_connected(PrImapClient *self)
{
	return self->iostream != NULL && self->state != PR_IMAP_CLIENT_STATE_DISCONNECTED;
}

/* Closing ------------------------------------------------------------------------------ */

void
pr_imap_client_teardown(PrImapClient *self)
{
	if (self->tick_id != 0) {
		g_source_remove(self->tick_id);
		self->tick_id = 0;
	}
	if (self->send_idle_id != 0) {
		g_source_remove(self->send_idle_id);
		self->send_idle_id = 0;
	}
	if (self->io_cancellable != NULL)
		g_cancellable_cancel(self->io_cancellable);
	if (self->iostream != NULL) {
		/* Best effort (TLS close_notify); nobody waits for it. */
		g_io_stream_close_async(self->iostream, G_PRIORITY_DEFAULT, NULL, NULL, NULL);
	}
	g_clear_object(&self->istream);
	g_clear_object(&self->ostream);
	g_clear_object(&self->iostream);
	g_clear_object(&self->tls_pending);
	g_clear_object(&self->socket_conn);
	g_queue_clear_full(&self->outq, (GDestroyNotify)g_bytes_unref);
	self->writing = FALSE;
	self->reading = FALSE;
	self->state = PR_IMAP_CLIENT_STATE_DISCONNECTED;
	self->select_generation++;
	/* ends a literal being streamed, so its sink learns at once that it was cut */
	if (self->parser != NULL)
		pr_imap_parser_reset(self->parser);
}

/* Ends the connection and fails everything pending with @error. */
void
pr_imap_client_abort(PrImapClient *self, const GError *error)
{
	/* callbacks of the failed tasks may drop the last reference to us */
	PrImapClient *keep = g_object_ref(self);
	gboolean was_connected = self->iostream != NULL || self->connect_task != NULL;

	g_debug("connection to %s ended: %s", self->host, error->message);
	pr_imap_client_teardown(self);
	pr_imap_client_fail_all(self, error);
	if (was_connected)
		g_signal_emit(self, signals[SIGNAL_CLOSED], 0, error);
	g_object_unref(keep);
}

void
pr_imap_client_forget_connect_cancellable(PrImapClient *self)
{
	if (self->connect_cancel_id != 0)
		g_cancellable_disconnect(self->connect_cancellable, self->connect_cancel_id);
	self->connect_cancel_id = 0;
	g_clear_object(&self->connect_cancellable);
}

void
pr_imap_client_fail_all(PrImapClient *self, const GError *error)
{
	g_autoptr(GTask) connect_task = g_steal_pointer(&self->connect_task);
	GQueue failed = G_QUEUE_INIT;
	PrImapPending *pending;

	self->waiting_continuation = NULL;
	while ((pending = g_queue_pop_head(&self->inflight)) != NULL)
		g_queue_push_tail(&failed, pending);
	while ((pending = g_queue_pop_head(&self->sendq)) != NULL)
		g_queue_push_tail(&failed, pending);
	pr_imap_client_forget_connect_cancellable(self);
	while ((pending = g_queue_pop_head(&failed)) != NULL) {
		pr_imap_pending_return_error(pending, error);
		pr_imap_pending_free(pending);
	}
	if (connect_task != NULL)
		g_task_return_error(connect_task, g_error_copy(error));
}

void
pr_imap_client_close(PrImapClient *self)
{
	g_autoptr(GError) error = NULL;

	g_return_if_fail(PR_IS_IMAP_CLIENT(self));
	error = g_error_new_literal(PR_ERROR, PR_ERROR_CANCELLED, _("The connection was closed"));
	pr_imap_client_abort(self, error);
}

/* Timeouts ----------------------------------------------------------------------------- */

static gboolean
pr_imap_client_tick_cb(gpointer user_data)
{
	PrImapClient *self = PR_IMAP_CLIENT(user_data);
	gint64 now = g_get_monotonic_time();
	gboolean expired = FALSE;

	/* The connect phase (TCP, TLS, greeting, STARTTLS, CAPABILITY) is small: it has one
	 * deadline overall, so a server that drips a byte at a time cannot hold us. After
	 * that, any wait for the server may last at most the timeout without a byte. */
	if (self->connect_task != NULL)
		expired = now > self->connect_deadline;
	else if (pr_imap_client_awaiting(self))
		expired = now - self->last_rx > (gint64)self->timeout * G_USEC_PER_SEC;

	if (expired) {
		g_autoptr(GError) error = NULL;
		self->tick_id = 0;
		self->timed_out = TRUE;
		error = g_error_new(PR_ERROR,
				    PR_ERROR_TIMEOUT,
				    _("The server %s did not answer within %u seconds"),
				    self->host,
				    self->timeout);
		pr_imap_client_abort(self, error);
		return G_SOURCE_REMOVE;
	}
	return G_SOURCE_CONTINUE;
}

void
pr_imap_client_start_ticking(PrImapClient *self)
{
	self->last_rx = g_get_monotonic_time();
	if (self->tick_id == 0) {
		/* 250 ms is fine enough for second-granularity timeouts and costs nothing */
		self->tick_id = g_timeout_add(250, pr_imap_client_tick_cb, self);
	}
}

/* Signals ------------------------------------------------------------------------------ */

void
pr_imap_client_emit_untagged(PrImapClient *self, PrImapResponse *response)
{
	g_signal_emit(self, signals[SIGNAL_UNTAGGED], 0, response);
}

/* An [ALERT] is shown to the user, so only one a man in the middle cannot have written. */
void
pr_imap_client_emit_alert(PrImapClient *self, PrImapResponse *response)
{
	if (g_strcmp0(pr_imap_response_get_code(response), "ALERT") == 0 && self->tls_active)
		g_signal_emit(self, signals[SIGNAL_ALERT], 0, pr_imap_response_get_text(response));
}

/* Capabilities ------------------------------------------------------------------------- */

void
pr_imap_client_set_capabilities(PrImapClient *self, gchar **caps)
{
	g_strfreev(self->capabilities);
	self->capabilities = caps;
}

/* Capabilities learnt before TLS on a connection that must be upgraded are not trusted. */
gboolean
pr_imap_client_trusts_data(PrImapClient *self)
{
	return self->tls_active || self->security == PR_IMAP_SECURITY_NONE;
}

/* IDLE --------------------------------------------------------------------------------- */

void
pr_imap_client_idle_async(PrImapClient *self,
			  GCancellable *cancellable,
			  GAsyncReadyCallback callback,
			  gpointer user_data)
{
	g_autoptr(GTask) task = g_task_new(self, cancellable, callback, user_data);
	g_autoptr(PrImapCommand) command = NULL;

	g_task_set_source_tag(task, pr_imap_client_idle_async);
	if (!pr_imap_client_is_connected(self)) {
		g_task_return_new_error(
			task, PR_ERROR, PR_ERROR_NOT_CONNECTED, _("Not connected to the server"));
		return;
	}
	if (!pr_imap_client_has_capability(self, "IDLE")) {
		g_task_return_new_error(task,
					PR_ERROR,
					PR_ERROR_SERVER_ERROR,
					_("The server does not support IDLE"));
		return;
	}
	command = pr_imap_command_new("IDLE");
	g_task_set_check_cancellable(task, FALSE);
	if (!pr_imap_client_check_ready(self, task))
		return;
	pr_imap_client_enqueue(self, command, CMD_FLAG_IDLE | CMD_FLAG_EXCLUSIVE, task, FALSE);
}

gboolean
pr_imap_client_idle_finish(PrImapClient *self, GAsyncResult *res, GError **error)
{
	g_return_val_if_fail(g_task_is_valid(res, self), FALSE);
	return pr_imap_client_propagate_boolean(res, error);
}

void
pr_imap_client_idle_done_async(PrImapClient *self,
			       GCancellable *cancellable,
			       GAsyncReadyCallback callback,
			       gpointer user_data)
{
	g_autoptr(GTask) task = g_task_new(self, cancellable, callback, user_data);
	PrImapPending *idle = NULL;

	g_task_set_source_tag(task, pr_imap_client_idle_done_async);
	for (GList *l = self->inflight.head; l != NULL; l = l->next) {
		PrImapPending *p = l->data;
		if ((p->flags & CMD_FLAG_IDLE) && p->accepted && !p->done_sent)
			idle = p;
	}
	if (idle == NULL) {
		g_task_return_new_error(task, PR_ERROR, PR_ERROR_NOT_CONNECTED, _("Not idling"));
		return;
	}
	idle->done_sent = TRUE;
	idle->done_task = g_steal_pointer(&task);
	self->last_rx = g_get_monotonic_time();
	pr_imap_client_queue_line(self, "DONE\r\n");
}

gboolean
pr_imap_client_idle_done_finish(PrImapClient *self, GAsyncResult *res, GError **error)
{
	g_return_val_if_fail(g_task_is_valid(res, self), FALSE);
	return pr_imap_client_propagate_boolean(res, error);
}

/* Logout ------------------------------------------------------------------------------- */

static void
pr_imap_client_logout_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	g_autoptr(GTask) task = G_TASK(user_data);
	PrImapClient *self = PR_IMAP_CLIENT(source);
	g_autoptr(PrImapResponse) response = NULL;

	response = pr_imap_client_run_finish(self, res, NULL, NULL);
	pr_imap_client_teardown(self);
	self->state = PR_IMAP_CLIENT_STATE_DISCONNECTED;
	g_task_return_boolean(task, TRUE);
}

void
pr_imap_client_logout_async(PrImapClient *self,
			    GCancellable *cancellable,
			    GAsyncReadyCallback callback,
			    gpointer user_data)
{
	g_autoptr(GTask) task = g_task_new(self, cancellable, callback, user_data);
	g_autoptr(PrImapCommand) command = NULL;

	g_task_set_source_tag(task, pr_imap_client_logout_async);
	if (!pr_imap_client_is_connected(self)) {
		g_task_return_boolean(task, TRUE);
		return;
	}
	self->state = PR_IMAP_CLIENT_STATE_LOGOUT;
	command = pr_imap_command_new("LOGOUT");
	pr_imap_client_run_internal(self,
				    command,
				    CMD_FLAG_NONE,
				    cancellable,
				    pr_imap_client_logout_cb,
				    g_steal_pointer(&task));
}

gboolean
pr_imap_client_logout_finish(PrImapClient *self, GAsyncResult *res, GError **error)
{
	g_return_val_if_fail(g_task_is_valid(res, self), FALSE);
	return pr_imap_client_propagate_boolean(res, error);
}

/* Accessors ---------------------------------------------------------------------------- */

PrImapClientState
pr_imap_client_get_state(PrImapClient *self)
{
	g_return_val_if_fail(PR_IS_IMAP_CLIENT(self), PR_IMAP_CLIENT_STATE_DISCONNECTED);
	return self->state;
}

guint
pr_imap_client_get_select_generation(PrImapClient *self)
{
	g_return_val_if_fail(PR_IS_IMAP_CLIENT(self), 0);
	return self->select_generation;
}

const gchar *const *
pr_imap_client_get_capabilities(PrImapClient *self)
{
	static const gchar *const empty[] = { NULL };
	g_return_val_if_fail(PR_IS_IMAP_CLIENT(self), empty);
	return self->capabilities != NULL ? (const gchar *const *)self->capabilities : empty;
}

gboolean
pr_imap_client_has_capability(PrImapClient *self, const gchar *capability)
{
	g_return_val_if_fail(PR_IS_IMAP_CLIENT(self), FALSE);
	if (self->capabilities == NULL)
		return FALSE;
	for (guint i = 0; self->capabilities[i] != NULL; i++) {
		if (g_ascii_strcasecmp(self->capabilities[i], capability) == 0)
			return TRUE;
	}
	return FALSE;
}

gchar **
pr_imap_client_dup_auth_mechanisms(PrImapClient *self)
{
	g_autoptr(GStrvBuilder) builder = g_strv_builder_new();

	g_return_val_if_fail(PR_IS_IMAP_CLIENT(self), NULL);
	for (guint i = 0; self->capabilities != NULL && self->capabilities[i] != NULL; i++) {
		const gchar *cap = self->capabilities[i];
		if (g_ascii_strncasecmp(cap, "AUTH=", 5) == 0 && cap[5] != '\0')
			g_strv_builder_add(builder, cap + 5);
	}
	return g_strv_builder_end(builder);
}

const gchar *
pr_imap_client_get_security_negotiated(PrImapClient *self)
{
	g_return_val_if_fail(PR_IS_IMAP_CLIENT(self), NULL);
	if (!self->tls_active)
		return "none";
	return pr_imap_security_to_string(self->security);
}

gboolean
pr_imap_client_get_compressed(PrImapClient *self)
{
	g_return_val_if_fail(PR_IS_IMAP_CLIENT(self), FALSE);
	return self->compressed;
}

gboolean
pr_imap_client_get_utf8_enabled(PrImapClient *self)
{
	g_return_val_if_fail(PR_IS_IMAP_CLIENT(self), FALSE);
	return self->utf8;
}

const gchar *
pr_imap_client_get_certificate_sha256(PrImapClient *self)
{
	g_return_val_if_fail(PR_IS_IMAP_CLIENT(self), NULL);
	return self->cert_sha256;
}

const gchar *
pr_imap_client_get_certificate_subject(PrImapClient *self)
{
	g_return_val_if_fail(PR_IS_IMAP_CLIENT(self), NULL);
	return self->cert_subject;
}

gboolean
pr_imap_client_get_certificate_trusted(PrImapClient *self)
{
	g_return_val_if_fail(PR_IS_IMAP_CLIENT(self), FALSE);
	return self->cert_sha256 != NULL && self->cert_trusted;
}

gchar
pr_imap_client_get_delimiter(PrImapClient *self)
{
	g_return_val_if_fail(PR_IS_IMAP_CLIENT(self), 0);
	return self->delimiter;
}

/* Settings ----------------------------------------------------------------------------- */

void
pr_imap_client_set_timeout(PrImapClient *self, guint seconds)
{
	g_return_if_fail(PR_IS_IMAP_CLIENT(self));
	self->timeout = MAX(seconds, 1);
}

guint
pr_imap_client_get_timeout(PrImapClient *self)
{
	g_return_val_if_fail(PR_IS_IMAP_CLIENT(self), 0);
	return self->timeout;
}

void
pr_imap_client_set_soft_cancel(PrImapClient *self, gboolean soft_cancel)
{
	g_return_if_fail(PR_IS_IMAP_CLIENT(self));
	self->soft_cancel = soft_cancel;
}

void
pr_imap_client_set_compress(PrImapClient *self, gboolean compress)
{
	g_return_if_fail(PR_IS_IMAP_CLIENT(self));
	self->want_compress = compress;
}

void
pr_imap_client_set_literal_sink(PrImapClient *self,
				const PrImapLiteralSink *sink,
				gpointer user_data,
				GDestroyNotify destroy)
{
	g_return_if_fail(PR_IS_IMAP_CLIENT(self));
	if (self->parser == NULL)
		self->parser = pr_imap_parser_new();
	pr_imap_parser_set_sink(self->parser, sink, user_data, destroy);
}

/* GObject ------------------------------------------------------------------------------ */

static void
pr_imap_client_dispose(GObject *object)
{
	PrImapClient *self = PR_IMAP_CLIENT(object);

	if (self->iostream != NULL || self->connect_task != NULL) {
		g_autoptr(GError) error = NULL;
		error = g_error_new_literal(
			PR_ERROR, PR_ERROR_CANCELLED, _("The connection was closed"));
		pr_imap_client_teardown(self);
		pr_imap_client_fail_all(self, error);
	}
	g_clear_object(&self->parser);
	g_clear_object(&self->io_cancellable);
	g_clear_object(&self->database);
	G_OBJECT_CLASS(pr_imap_client_parent_class)->dispose(object);
}

static void
pr_imap_client_finalize(GObject *object)
{
	PrImapClient *self = PR_IMAP_CLIENT(object);

	g_free(self->host);
	g_free(self->pin);
	g_free(self->readbuf);
	g_strfreev(self->capabilities);
	g_free(self->bye_text);
	g_free(self->cert_sha256);
	g_free(self->cert_subject);
	G_OBJECT_CLASS(pr_imap_client_parent_class)->finalize(object);
}

static void
pr_imap_client_class_init(PrImapClientClass *klass)
{
	GObjectClass *object_class = G_OBJECT_CLASS(klass);

	object_class->dispose = pr_imap_client_dispose;
	object_class->finalize = pr_imap_client_finalize;

	/* Every untagged response, as it arrives (EXISTS during IDLE, FETCH, ...). */
	signals[SIGNAL_UNTAGGED] = g_signal_new("untagged",
						G_TYPE_FROM_CLASS(klass),
						G_SIGNAL_RUN_LAST,
						0,
						NULL,
						NULL,
						NULL,
						G_TYPE_NONE,
						1,
						PR_TYPE_IMAP_RESPONSE);
	/* [ALERT] text, only ever from a TLS-protected connection. */
	signals[SIGNAL_ALERT] = g_signal_new("alert",
					     G_TYPE_FROM_CLASS(klass),
					     G_SIGNAL_RUN_LAST,
					     0,
					     NULL,
					     NULL,
					     NULL,
					     G_TYPE_NONE,
					     1,
					     G_TYPE_STRING);
	/* The connection ended; the GError says why (Cancelled for a local close). */
	signals[SIGNAL_CLOSED] = g_signal_new("closed",
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
pr_imap_client_init(PrImapClient *self)
{
	self->timeout = 60;
	self->readbuf = g_malloc(PR_IMAP_CLIENT_READ_SIZE);
	g_queue_init(&self->sendq);
	g_queue_init(&self->inflight);
	g_queue_init(&self->outq);
}

PrImapClient *
pr_imap_client_new(const gchar *host, guint16 port, PrImapSecurity security)
{
	PrImapClient *self;

	g_return_val_if_fail(host != NULL, NULL);
	self = g_object_new(PR_TYPE_IMAP_CLIENT, NULL);
	self->host = g_strdup(host);
	self->security = security;
	self->port = port != 0 ? port : (security == PR_IMAP_SECURITY_TLS ? 993 : 143);
	return self;
}
