/*
 * Copyright 2026 The Postroom developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#define G_LOG_DOMAIN "PrImap"

#include <glib/gi18n-lib.h>
#include <string.h>

#include "pr-error.h"
#include "pr-imap-client.h"
#include "pr-imap-sasl.h"

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

#define PR_IMAP_CLIENT_READ_SIZE (64 * 1024)

typedef enum {
	CMD_FLAG_NONE = 0,
	CMD_FLAG_EXCLUSIVE = 1 << 0, /* nothing else in flight around it */
	CMD_FLAG_BOUNDARY = 1 << 1,  /* the stream changes after its tagged OK */
	CMD_FLAG_IDLE = 1 << 2,
	CMD_FLAG_SASL = 1 << 3,
} CmdFlags;

typedef struct {
	PrImapClient *self; /* unowned */
	gchar *tag;
	PrImapCommand *command;
	CmdFlags flags;
	GPtrArray *pieces;
	guint next_piece;
	GTask *task;
	GTask *done_task; /* IDLE: the DONE completion */
	GPtrArray *untagged;
	PrImapSasl *sasl;
	PrImapUntaggedFunc handler;
	gpointer handler_data;
	gboolean sent;	   /* the first piece went to the writer */
	gboolean accepted; /* IDLE: "+ idling" seen */
	gboolean done_sent;
	GCancellable *cancellable;
	gulong cancel_id;
} PrImapPending;

struct _PrImapClient {
	GObject parent_instance;

	gchar *host;
	guint16 port;
	PrImapSecurity security;
	guint timeout;
	GTlsDatabase *database;
	gchar *pin;
	gboolean want_compress;
	gboolean soft_cancel;

	PrImapClientState state;
	GIOStream *tls_pending; /* a TLS connection until its handshake ends */
	guint select_generation;
	GSocketConnection *socket_conn;
	GIOStream *iostream; /* socket_conn or the TLS connection over it */
	GInputStream *istream;
	GOutputStream *ostream;
	GCancellable *io_cancellable;
	PrImapParser *parser;
	guint8 *readbuf;
	gboolean reading;
	gboolean reader_paused;
	gboolean tls_active;
	gboolean compressed;
	gboolean utf8;

	/* connect/greeting phase */
	GTask *connect_task;
	GCancellable *connect_cancellable;
	gulong connect_cancel_id;
	gboolean greeting_seen;
	gint64 connect_deadline;
	gboolean timed_out;

	/* queues */
	GQueue sendq;	 /* PrImapPending not yet fully sent */
	GQueue inflight; /* PrImapPending sent, awaiting the tagged response */
	PrImapPending *waiting_continuation;
	GQueue outq; /* GBytes to write */
	gboolean writing;
	GBytes *writing_bytes; /* the buffer of the write in progress */
	guint tag_counter;
	gint64 last_rx;
	guint tick_id;
	guint send_idle_id;

	gchar **capabilities;
	gchar delimiter;
	gchar *bye_text;

	/* certificate learnt during the handshake */
	gchar *cert_sha256;
	gchar *cert_subject;
	gboolean cert_trusted;
	GTlsCertificateFlags cert_errors;
};

G_DEFINE_TYPE(PrImapClient, pr_imap_client, G_TYPE_OBJECT)

enum { SIGNAL_UNTAGGED, SIGNAL_ALERT, SIGNAL_CLOSED, SIGNAL_LAST };
static guint signals[SIGNAL_LAST] = { 0 };

static void pr_imap_client_send_next(PrImapClient *self);
static void pr_imap_client_reader_start(PrImapClient *self);
static void pr_imap_client_fail_all(PrImapClient *self, const GError *error);

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

/* Pending commands --------------------------------------------------------------------- */

static void
pr_imap_pending_free(PrImapPending *pending)
{
	if (pending->cancel_id != 0)
		g_cancellable_disconnect(pending->cancellable, pending->cancel_id);
	g_clear_object(&pending->cancellable);
	g_free(pending->tag);
	g_clear_object(&pending->command);
	g_clear_pointer(&pending->pieces, g_ptr_array_unref);
	g_clear_pointer(&pending->untagged, g_ptr_array_unref);
	g_clear_object(&pending->sasl);
	/* tasks are always completed before the pending is freed */
	g_clear_object(&pending->task);
	g_clear_object(&pending->done_task);
	g_free(pending);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC(PrImapPending, pr_imap_pending_free)

static void
pr_imap_pending_return_error(PrImapPending *pending, const GError *error)
{
	if (pending->done_task != NULL) {
		g_task_return_error(pending->done_task, g_error_copy(error));
		g_clear_object(&pending->done_task);
	}
	if (pending->task != NULL) {
		g_task_return_error(pending->task, g_error_copy(error));
		g_clear_object(&pending->task);
	}
}

/* Tasks whose callbacks run from g_task_return_*() may re-enter the client; every state
 * change must be done before a task returns. */

static gboolean
pr_imap_client_is_connected(PrImapClient *self)
{
	return self->iostream != NULL && self->state != PR_IMAP_CLIENT_STATE_DISCONNECTED;
}

/* Whether we wait for the server: the timeout applies then. */
static gboolean
pr_imap_client_awaiting(PrImapClient *self)
{
	if (self->connect_task != NULL)
		return TRUE;
	for (GList *l = self->inflight.head; l != NULL; l = l->next) {
		PrImapPending *pending = l->data;
		if ((pending->flags & CMD_FLAG_IDLE) && pending->accepted && !pending->done_sent)
			continue;
		return TRUE;
	}
	return FALSE;
}

/* Closing ------------------------------------------------------------------------------ */

static void
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
static void
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

static void
pr_imap_client_forget_connect_cancellable(PrImapClient *self)
{
	if (self->connect_cancel_id != 0)
		g_cancellable_disconnect(self->connect_cancellable, self->connect_cancel_id);
	self->connect_cancel_id = 0;
	g_clear_object(&self->connect_cancellable);
}

static void
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

static void
pr_imap_client_start_ticking(PrImapClient *self)
{
	self->last_rx = g_get_monotonic_time();
	if (self->tick_id == 0) {
		/* 250 ms is fine enough for second-granularity timeouts and costs nothing */
		self->tick_id = g_timeout_add(250, pr_imap_client_tick_cb, self);
	}
}

/* Writing ------------------------------------------------------------------------------ */

static void pr_imap_client_write_next(PrImapClient *self);

static void
pr_imap_client_flush_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	g_autoptr(PrImapClient) self = PR_IMAP_CLIENT(user_data);
	g_autoptr(GError) error = NULL;

	if (!g_output_stream_flush_finish(G_OUTPUT_STREAM(source), res, &error)) {
		if (self->iostream != NULL) {
			pr_error_convert(&error);
			pr_imap_client_abort(self, error);
		}
		return;
	}
	self->writing = FALSE;
	pr_imap_client_write_next(self);
}

static void
pr_imap_client_write_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	g_autoptr(PrImapClient) self = PR_IMAP_CLIENT(user_data);
	g_autoptr(GError) error = NULL;

	if (!g_output_stream_write_all_finish(G_OUTPUT_STREAM(source), res, NULL, &error)) {
		if (self->iostream != NULL) {
			pr_error_convert(&error);
			pr_imap_client_abort(self, error);
		}
		return;
	}
	if (self->ostream == NULL)
		return;
	if (g_queue_is_empty(&self->outq) && self->compressed) {
		/* the deflate stream holds bytes back until flushed (Z_SYNC_FLUSH) */
		g_output_stream_flush_async(self->ostream,
					    G_PRIORITY_DEFAULT,
					    self->io_cancellable,
					    pr_imap_client_flush_cb,
					    g_object_ref(self));
		return;
	}
	self->writing = FALSE;
	pr_imap_client_write_next(self);
}

static void
pr_imap_client_write_next(PrImapClient *self)
{
	g_autoptr(GBytes) bytes = NULL;
	gconstpointer data;
	gsize len = 0;

	if (self->writing || self->ostream == NULL)
		return;
	bytes = g_queue_pop_head(&self->outq);
	if (bytes == NULL)
		return;
	self->writing = TRUE;
	data = g_bytes_get_data(bytes, &len);
	g_clear_pointer(&self->writing_bytes, g_bytes_unref);
	self->writing_bytes = g_bytes_ref(bytes);
	g_output_stream_write_all_async(self->ostream,
					data,
					len,
					G_PRIORITY_DEFAULT,
					self->io_cancellable,
					pr_imap_client_write_cb,
					g_object_ref(self));
}

static void
pr_imap_client_queue_bytes(PrImapClient *self, GBytes *bytes)
{
	g_queue_push_tail(&self->outq, g_bytes_ref(bytes));
	pr_imap_client_write_next(self);
}

static void
pr_imap_client_queue_line(PrImapClient *self, const gchar *line)
{
	g_autoptr(GBytes) bytes = g_bytes_new(line, strlen(line));
	pr_imap_client_queue_bytes(self, bytes);
}

/* Sends the pieces of @pending up to the next continuation wait. */
static void
pr_imap_client_send_pieces(PrImapClient *self, PrImapPending *pending)
{
	while (pending->next_piece < pending->pieces->len) {
		GBytes *piece = g_ptr_array_index(pending->pieces, pending->next_piece);
		pending->next_piece++;
		pr_imap_client_queue_bytes(self, piece);
		if (pending->next_piece < pending->pieces->len) {
			self->waiting_continuation = pending;
			return;
		}
	}
	/* a SASL exchange or IDLE keeps the line until the command ends */
	if (pending->flags & (CMD_FLAG_SASL | CMD_FLAG_IDLE))
		self->waiting_continuation = pending;
}

static gboolean
pr_imap_client_line_busy(PrImapClient *self)
{
	PrImapPending *pending;

	if (self->waiting_continuation != NULL)
		return TRUE;
	pending = g_queue_peek_tail(&self->inflight);
	return pending != NULL && (pending->flags & CMD_FLAG_EXCLUSIVE);
}

static void
pr_imap_client_send_next(PrImapClient *self)
{
	while (!g_queue_is_empty(&self->sendq) && !pr_imap_client_line_busy(self) &&
	       self->ostream != NULL && !self->reader_paused) {
		PrImapPending *pending = g_queue_peek_head(&self->sendq);
		if ((pending->flags & CMD_FLAG_EXCLUSIVE) && !g_queue_is_empty(&self->inflight))
			return;
		g_queue_pop_head(&self->sendq);
		if (g_getenv("PR_IMAP_TRACE") != NULL) {
			g_autofree gchar *log =
				pr_imap_command_to_log_string(pending->command, pending->tag);
			g_debug("C: %s", log);
		}
		/* the timeout counts from when we start waiting, not from the last byte of
		 * an earlier exchange */
		if (!pr_imap_client_awaiting(self))
			self->last_rx = g_get_monotonic_time();
		pending->sent = TRUE;
		g_queue_push_tail(&self->inflight, pending);
		pr_imap_client_send_pieces(self, pending);
	}
}

/* Reading and dispatch ----------------------------------------------------------------- */

static void
pr_imap_client_set_capabilities(PrImapClient *self, gchar **caps)
{
	g_strfreev(self->capabilities);
	self->capabilities = caps;
}

/* Capabilities learnt before TLS on a connection that must be upgraded are not trusted. */
static gboolean
pr_imap_client_trusts_data(PrImapClient *self)
{
	return self->tls_active || self->security == PR_IMAP_SECURITY_NONE;
}

static PrImapPending *pr_imap_client_find_pending(GQueue *queue, const gchar *tag);

static void
pr_imap_client_handle_untagged(PrImapClient *self, PrImapResponse *response)
{
	const gchar *keyword = pr_imap_response_get_keyword(response);
	const gchar *code = pr_imap_response_get_code(response);
	PrImapPending *oldest = g_queue_peek_head(&self->inflight);

	if (g_strcmp0(keyword, "CAPABILITY") == 0 && pr_imap_client_trusts_data(self)) {
		pr_imap_client_set_capabilities(self, pr_imap_response_dup_capabilities(response));
	} else if (g_strcmp0(keyword, "BYE") == 0) {
		g_free(self->bye_text);
		self->bye_text = g_strdup(pr_imap_response_get_text(response));
	}
	if (g_strcmp0(code, "ALERT") == 0 && self->tls_active) {
		g_signal_emit(self, signals[SIGNAL_ALERT], 0, pr_imap_response_get_text(response));
	}
	/* ESEARCH names the command it answers (RFC 4731 TAG): with pipelining the
	 * server may interleave it with another command's FETCH data */
	if (g_strcmp0(keyword, "ESEARCH") == 0) {
		g_autoptr(PrImapEsearch) esearch = pr_imap_response_parse_esearch(response, NULL);
		if (esearch != NULL && esearch->tag != NULL) {
			PrImapPending *owner =
				pr_imap_client_find_pending(&self->inflight, esearch->tag);
			if (owner != NULL)
				oldest = owner;
		}
	}
	if (oldest != NULL && oldest->handler != NULL &&
	    oldest->handler(response, oldest->handler_data))
		oldest = NULL; /* consumed */
	if (oldest != NULL && oldest->untagged != NULL)
		g_ptr_array_add(oldest->untagged, pr_imap_response_ref(response));
	g_signal_emit(self, signals[SIGNAL_UNTAGGED], 0, response);
}

static void
pr_imap_client_handle_continuation(PrImapClient *self, PrImapResponse *response)
{
	PrImapPending *pending = self->waiting_continuation;
	g_autoptr(GError) error = NULL;

	if (pending == NULL) {
		error = g_error_new_literal(PR_ERROR,
					    PR_ERROR_PROTOCOL_ERROR,
					    _("The server sent a continuation nobody asked for"));
		pr_imap_client_abort(self, error);
		return;
	}
	if (pending->flags & CMD_FLAG_SASL) {
		const gchar *text = pr_imap_response_get_continuation(response);
		g_autoptr(GBytes) challenge = NULL;
		g_autoptr(GBytes) answer = NULL;
		g_autofree gchar *encoded = NULL;
		g_autofree gchar *line = NULL;
		gsize len = 0;
		guchar *decoded = NULL;

		/* SASL challenges are base64; a non-base64 one is a protocol error */
		if (text == NULL)
			text = "";
		for (const gchar *p = text; *p != '\0'; p++) {
			if (!g_ascii_isalnum(*p) && *p != '+' && *p != '/' && *p != '=') {
				error = g_error_new_literal(PR_ERROR,
							    PR_ERROR_PROTOCOL_ERROR,
							    _("The server sent a malformed "
							      "authentication challenge"));
				pr_imap_client_abort(self, error);
				return;
			}
		}
		decoded = g_base64_decode(text, &len);
		challenge = g_bytes_new_take(decoded, len);
		answer = pr_imap_sasl_step(pending->sasl, challenge, &error);
		if (answer == NULL) {
			/* cancel the exchange as RFC 9051 says: a line with "*" */
			pr_imap_client_queue_line(self, "*\r\n");
			pr_imap_pending_return_error(pending, error);
			return;
		}
		encoded = g_base64_encode(g_bytes_get_data(answer, NULL), g_bytes_get_size(answer));
		line = g_strdup_printf("%s\r\n", encoded);
		explicit_bzero(encoded, strlen(encoded));
		pr_imap_client_queue_line(self, line);
		explicit_bzero(line, strlen(line));
		return;
	}
	if (pending->flags & CMD_FLAG_IDLE) {
		if (!pending->accepted) {
			pending->accepted = TRUE;
			self->state = PR_IMAP_CLIENT_STATE_IDLE;
			if (pending->task != NULL) {
				g_autoptr(GTask) task = g_steal_pointer(&pending->task);
				g_task_return_boolean(task, TRUE);
			}
		}
		return;
	}
	/* a synchronising literal may now be sent */
	self->waiting_continuation = NULL;
	pr_imap_client_send_pieces(self, pending);
	pr_imap_client_send_next(self);
}

static GError *
pr_imap_client_status_error(PrImapClient *self, PrImapResponse *response)
{
	const gchar *text = pr_imap_response_get_text(response);
	g_autofree gchar *safe = g_strescape(text != NULL ? text : "", NULL);

	if (strlen(safe) > 200)
		safe[200] = '\0';
	return g_error_new(
		PR_ERROR, PR_ERROR_SERVER_ERROR, _("The server refused the request: %s"), safe);
}

static void
pr_imap_client_handle_tagged(PrImapClient *self, PrImapResponse *response)
{
	const gchar *tag = pr_imap_response_get_tag(response);
	PrImapPending *pending = NULL;
	g_autoptr(PrImapPending) done = NULL;
	g_autoptr(GError) error = NULL;

	for (GList *l = self->inflight.head; l != NULL; l = l->next) {
		PrImapPending *p = l->data;
		if (g_strcmp0(p->tag, tag) == 0) {
			pending = p;
			g_queue_delete_link(&self->inflight, l);
			break;
		}
	}
	if (pending == NULL) {
		error = g_error_new_literal(PR_ERROR,
					    PR_ERROR_PROTOCOL_ERROR,
					    _("The server answered a command that was never sent"));
		pr_imap_client_abort(self, error);
		return;
	}
	done = pending;
	if (self->waiting_continuation == pending)
		self->waiting_continuation = NULL;
	if (pending->flags & CMD_FLAG_IDLE) {
		if (self->state == PR_IMAP_CLIENT_STATE_IDLE)
			self->state = PR_IMAP_CLIENT_STATE_SELECTED;
	} else if (self->state == PR_IMAP_CLIENT_STATE_AUTHENTICATED ||
		   self->state == PR_IMAP_CLIENT_STATE_SELECTED) {
		/* RFC 9051 6.3.2: a failed SELECT leaves no mailbox selected either */
		const gchar *name = pr_imap_command_get_name(pending->command);
		if (g_ascii_strcasecmp(name, "SELECT") == 0 ||
		    g_ascii_strcasecmp(name, "EXAMINE") == 0) {
			self->state = pr_imap_response_get_status(response) == PR_IMAP_STATUS_OK
					      ? PR_IMAP_CLIENT_STATE_SELECTED
					      : PR_IMAP_CLIENT_STATE_AUTHENTICATED;
			self->select_generation++;
		} else if (g_ascii_strcasecmp(name, "CLOSE") == 0 ||
			   g_ascii_strcasecmp(name, "UNSELECT") == 0) {
			self->state = PR_IMAP_CLIENT_STATE_AUTHENTICATED;
			self->select_generation++;
		}
	}
	/* STARTTLS/COMPRESS: whatever follows belongs to the new stream */
	if ((pending->flags & CMD_FLAG_BOUNDARY) &&
	    pr_imap_response_get_status(response) == PR_IMAP_STATUS_OK)
		self->reader_paused = TRUE;

	if (pr_imap_response_get_status(response) == PR_IMAP_STATUS_OK) {
		if (pending->done_task != NULL) {
			g_autoptr(GTask) task = g_steal_pointer(&pending->done_task);
			g_task_return_boolean(task, TRUE);
		}
		if (pending->task != NULL) {
			g_autoptr(GTask) task = g_steal_pointer(&pending->task);
			if (pending->untagged != NULL)
				g_task_set_task_data(task,
						     g_steal_pointer(&pending->untagged),
						     (GDestroyNotify)g_ptr_array_unref);
			g_task_return_pointer(task,
					      pr_imap_response_ref(response),
					      (GDestroyNotify)pr_imap_response_unref);
		}
	} else {
		error = pr_imap_client_status_error(self, response);
		pr_imap_pending_return_error(pending, error);
	}
	pr_imap_client_send_next(self);
}

static void pr_imap_client_handle_greeting(PrImapClient *self, PrImapResponse *response);

static void
pr_imap_client_dispatch(PrImapClient *self, PrImapResponse *response)
{
	PrImapResponseKind kind = pr_imap_response_get_kind(response);

	if (!self->greeting_seen) {
		pr_imap_client_handle_greeting(self, response);
		return;
	}
	if (kind == PR_IMAP_RESPONSE_KIND_TAGGED)
		pr_imap_client_handle_tagged(self, response);
	else if (kind == PR_IMAP_RESPONSE_KIND_CONTINUATION)
		pr_imap_client_handle_continuation(self, response);
	else
		pr_imap_client_handle_untagged(self, response);
}

static void
pr_imap_client_dispatch_all(PrImapClient *self)
{
	PrImapResponse *response;

	while (self->parser != NULL && (response = pr_imap_parser_pop(self->parser)) != NULL) {
		g_autoptr(PrImapResponse) owned = response;
		if (self->iostream == NULL)
			continue; /* aborted meanwhile: drop */
		pr_imap_client_dispatch(self, owned);
	}
}

/* Feeds @len bytes; while a boundary command is in flight, line by line so the reader
 * stops exactly after its tagged response. Returns the bytes consumed. */
static gsize
pr_imap_client_feed(PrImapClient *self, const guint8 *data, gsize len, GError **error)
{
	gsize done = 0;

	while (done < len && !self->reader_paused && self->iostream != NULL) {
		PrImapPending *tail = g_queue_peek_tail(&self->inflight);
		gsize chunk = len - done;
		if (tail != NULL && (tail->flags & CMD_FLAG_BOUNDARY)) {
			const guint8 *nl = memchr(data + done, '\n', len - done);
			if (nl != NULL)
				chunk = (gsize)(nl - (data + done)) + 1;
		}
		if (!pr_imap_parser_feed(self->parser, data + done, chunk, error))
			return done;
		done += chunk;
		pr_imap_client_dispatch_all(self);
	}
	return done;
}

static void
pr_imap_client_read_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	g_autoptr(PrImapClient) self = PR_IMAP_CLIENT(user_data);
	g_autoptr(GError) error = NULL;
	gssize n;
	gsize used;

	n = g_input_stream_read_finish(G_INPUT_STREAM(source), res, &error);
	if (G_INPUT_STREAM(source) != self->istream) {
		/* a stale read from a replaced or closed stream */
		return;
	}
	self->reading = FALSE;
	/* a peer that closes without close_notify mid-session just hung up: report it
	 * like any other closed connection, not as a TLS failure */
	if (n < 0 && g_error_matches(error, G_TLS_ERROR, G_TLS_ERROR_EOF)) {
		g_clear_error(&error);
		n = 0;
	}
	if (n < 0) {
		if (self->iostream != NULL) {
			pr_error_convert(&error);
			if (error->code == PR_ERROR_CANCELLED && self->timed_out)
				error->code = PR_ERROR_TIMEOUT;
			pr_imap_client_abort(self, error);
		}
		return;
	}
	if (n == 0) {
		if (self->bye_text != NULL) {
			error = g_error_new(PR_ERROR,
					    PR_ERROR_SERVER_ERROR,
					    _("The server closed the connection: %s"),
					    self->bye_text);
		} else {
			error = g_error_new(PR_ERROR,
					    PR_ERROR_CONNECT_FAILED,
					    _("The server %s closed the connection"),
					    self->host);
		}
		pr_imap_client_abort(self, error);
		return;
	}
	self->last_rx = g_get_monotonic_time();
	used = pr_imap_client_feed(self, self->readbuf, (gsize)n, &error);
	if (error != NULL) {
		pr_imap_client_abort(self, error);
		return;
	}
	if (self->reader_paused) {
		/* STARTTLS: bytes after the tagged OK were sent before TLS; never use them.
		 * COMPRESS: the server must not send anything before our next command. */
		if (used < (gsize)n)
			g_debug("discarding %" G_GSIZE_FORMAT " bytes read before a stream switch",
				(gsize)n - used);
		return;
	}
	pr_imap_client_reader_start(self);
}

static void
pr_imap_client_reader_start(PrImapClient *self)
{
	if (self->reading || self->istream == NULL || self->reader_paused)
		return;
	self->reading = TRUE;
	g_input_stream_read_async(self->istream,
				  self->readbuf,
				  PR_IMAP_CLIENT_READ_SIZE,
				  G_PRIORITY_DEFAULT,
				  self->io_cancellable,
				  pr_imap_client_read_cb,
				  g_object_ref(self));
}

static void
pr_imap_client_set_stream(PrImapClient *self, GIOStream *stream)
{
	g_set_object(&self->iostream, stream);
	g_set_object(&self->istream, g_io_stream_get_input_stream(stream));
	g_set_object(&self->ostream, g_io_stream_get_output_stream(stream));
	self->reading = FALSE;
}

/* Running commands ---------------------------------------------------------------------- */

typedef struct {
	PrImapClient *self; /* owned */
	gchar *tag;
} CancelData;

static void
cancel_data_free(CancelData *data)
{
	g_object_unref(data->self);
	g_free(data->tag);
	g_free(data);
}

static PrImapPending *
pr_imap_client_find_pending(GQueue *queue, const gchar *tag)
{
	for (GList *l = queue->head; l != NULL; l = l->next) {
		PrImapPending *pending = l->data;
		if (g_strcmp0(pending->tag, tag) == 0)
			return pending;
	}
	return NULL;
}

static gboolean
pr_imap_client_cancel_idle_cb(gpointer user_data)
{
	CancelData *data = user_data;
	PrImapClient *self = data->self;
	PrImapPending *pending;
	g_autoptr(GError) error = NULL;

	error = g_error_new_literal(PR_ERROR, PR_ERROR_CANCELLED, _("The operation was cancelled"));
	pending = pr_imap_client_find_pending(&self->sendq, data->tag);
	if (pending != NULL) {
		/* never sent: just forget it */
		g_queue_remove(&self->sendq, pending);
		pr_imap_pending_return_error(pending, error);
		pr_imap_pending_free(pending);
		return G_SOURCE_REMOVE;
	}
	pending = pr_imap_client_find_pending(&self->inflight, data->tag);
	if (pending == NULL)
		return G_SOURCE_REMOVE;
	/* IMAP cannot abort a command once sent. With soft cancel a plain command is left to
	 * finish unheard (its responses are dropped, the timeout still guards it) so that
	 * the connection survives; anything else can only be stopped by closing. */
	if (self->soft_cancel && pending->flags == CMD_FLAG_NONE &&
	    self->waiting_continuation != pending) {
		pending->handler = NULL;
		pending->handler_data = NULL;
		g_clear_pointer(&pending->untagged, g_ptr_array_unref);
		pr_imap_pending_return_error(pending, error);
		return G_SOURCE_REMOVE;
	}
	pr_imap_client_abort(self, error);
	return G_SOURCE_REMOVE;
}

static void
pr_imap_client_cancelled_cb(GCancellable *cancellable, gpointer user_data)
{
	PrImapPending *pending = user_data;
	CancelData *data = g_new0(CancelData, 1);

	/* may run inside g_cancellable_cancel() anywhere: act from the main loop, by tag, as
	 * the command may have completed meanwhile */
	data->self = g_object_ref(pending->self);
	data->tag = g_strdup(pending->tag);
	g_idle_add_full(G_PRIORITY_HIGH,
			pr_imap_client_cancel_idle_cb,
			data,
			(GDestroyNotify)cancel_data_free);
}

static PrImapPending *
pr_imap_client_enqueue(PrImapClient *self,
		       PrImapCommand *command,
		       CmdFlags flags,
		       GTask *task,
		       gboolean collect)
{
	PrImapPending *pending = g_new0(PrImapPending, 1);
	GCancellable *cancellable = g_task_get_cancellable(task);

	pending->self = self;
	pending->tag = g_strdup_printf("P%u", ++self->tag_counter);
	pending->command = g_object_ref(command);
	pending->flags = flags;
	pending->pieces = pr_imap_command_serialize(command, pending->tag);
	pending->task = g_object_ref(task);
	if (collect)
		pending->untagged =
			g_ptr_array_new_with_free_func((GDestroyNotify)pr_imap_response_unref);
	if (cancellable != NULL) {
		pending->cancellable = g_object_ref(cancellable);
		pending->cancel_id = g_cancellable_connect(
			cancellable, G_CALLBACK(pr_imap_client_cancelled_cb), pending, NULL);
	}
	g_queue_push_tail(&self->sendq, pending);
	pr_imap_client_send_next(self);
	return pending;
}

static gboolean
pr_imap_client_check_ready(PrImapClient *self, GTask *task)
{
	if (!pr_imap_client_is_connected(self)) {
		g_task_return_new_error(
			task, PR_ERROR, PR_ERROR_NOT_CONNECTED, _("Not connected to the server"));
		return FALSE;
	}
	if (g_cancellable_is_cancelled(g_task_get_cancellable(task))) {
		g_task_return_new_error(
			task, PR_ERROR, PR_ERROR_CANCELLED, _("The operation was cancelled"));
		return FALSE;
	}
	return TRUE;
}

static void
pr_imap_client_queue_command(PrImapClient *self,
			     PrImapCommand *command,
			     CmdFlags flags,
			     PrImapSasl *sasl,
			     GCancellable *cancellable,
			     GAsyncReadyCallback callback,
			     gpointer user_data)
{
	g_autoptr(GTask) task = g_task_new(self, cancellable, callback, user_data);
	PrImapPending *pending;

	g_task_set_source_tag(task, pr_imap_client_queue_command);
	/* a cancelled task reports the cancellation itself, in our domain */
	g_task_set_check_cancellable(task, FALSE);
	if (!pr_imap_client_check_ready(self, task))
		return;
	pending = pr_imap_client_enqueue(self, command, flags, task, TRUE);
	if (sasl != NULL)
		pending->sasl = g_object_ref(sasl);
}

static void
pr_imap_client_run_internal(PrImapClient *self,
			    PrImapCommand *command,
			    CmdFlags flags,
			    GCancellable *cancellable,
			    GAsyncReadyCallback callback,
			    gpointer user_data)
{
	pr_imap_client_queue_command(self, command, flags, NULL, cancellable, callback, user_data);
}

void
pr_imap_client_run_with_handler_async(PrImapClient *self,
				      PrImapCommand *command,
				      PrImapUntaggedFunc handler,
				      gpointer handler_data,
				      GCancellable *cancellable,
				      GAsyncReadyCallback callback,
				      gpointer user_data)
{
	g_autoptr(GTask) task = NULL;
	PrImapPending *pending;

	g_return_if_fail(PR_IS_IMAP_CLIENT(self));
	g_return_if_fail(PR_IS_IMAP_COMMAND(command));
	task = g_task_new(self, cancellable, callback, user_data);
	g_task_set_source_tag(task, pr_imap_client_queue_command);
	g_task_set_check_cancellable(task, FALSE);
	if (!pr_imap_client_check_ready(self, task))
		return;
	pending = pr_imap_client_enqueue(self, command, CMD_FLAG_NONE, task, TRUE);
	pending->handler = handler;
	pending->handler_data = handler_data;
}

void
pr_imap_client_run_async(PrImapClient *self,
			 PrImapCommand *command,
			 GCancellable *cancellable,
			 GAsyncReadyCallback callback,
			 gpointer user_data)
{
	g_return_if_fail(PR_IS_IMAP_CLIENT(self));
	g_return_if_fail(PR_IS_IMAP_COMMAND(command));
	pr_imap_client_run_internal(self, command, CMD_FLAG_NONE, cancellable, callback, user_data);
}

static gboolean
pr_imap_client_propagate_boolean(GAsyncResult *res, GError **error)
{
	g_autoptr(GError) local = NULL;

	if (!g_task_propagate_boolean(G_TASK(res), &local)) {
		pr_error_convert(&local);
		g_propagate_error(error, g_steal_pointer(&local));
		return FALSE;
	}
	return TRUE;
}

PrImapResponse *
pr_imap_client_run_finish(PrImapClient *self,
			  GAsyncResult *res,
			  GPtrArray **untagged,
			  GError **error)
{
	GTask *task = G_TASK(res);
	g_autoptr(GError) local = NULL;
	PrImapResponse *response;

	g_return_val_if_fail(g_task_is_valid(res, self), NULL);
	response = g_task_propagate_pointer(task, &local);
	if (response == NULL) {
		pr_error_convert(&local);
		g_propagate_error(error, g_steal_pointer(&local));
		return NULL;
	}
	if (untagged != NULL) {
		GPtrArray *data = g_task_get_task_data(task);
		*untagged = data != NULL ? g_ptr_array_ref(data)
					 : g_ptr_array_new_with_free_func(
						   (GDestroyNotify)pr_imap_response_unref);
	}
	return response;
}

/* Connecting --------------------------------------------------------------------------- */

static void
pr_imap_client_connect_failed(PrImapClient *self, GError *error)
{
	g_autoptr(GError) owned = error;

	pr_error_convert(&owned);
	if (owned->code == PR_ERROR_CANCELLED && self->timed_out)
		owned->code = PR_ERROR_TIMEOUT;
	pr_imap_client_abort(self, owned);
}

static void
pr_imap_client_connect_done(PrImapClient *self)
{
	g_autoptr(GTask) task = g_steal_pointer(&self->connect_task);

	pr_imap_client_forget_connect_cancellable(self);
	self->last_rx = g_get_monotonic_time();
	if (task != NULL)
		g_task_return_boolean(task, TRUE);
}

static void
pr_imap_client_capability_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	g_autoptr(PrImapClient) self = PR_IMAP_CLIENT(user_data);
	g_autoptr(PrImapResponse) response = NULL;
	g_autoptr(GError) error = NULL;

	response = pr_imap_client_run_finish(self, res, NULL, &error);
	if (response == NULL) {
		if (self->connect_task != NULL)
			pr_imap_client_connect_failed(self, g_steal_pointer(&error));
		return;
	}
	if (!pr_imap_client_has_capability(self, "IMAP4REV1") &&
	    !pr_imap_client_has_capability(self, "IMAP4REV2")) {
		pr_imap_client_connect_failed(
			self,
			g_error_new_literal(PR_ERROR,
					    PR_ERROR_PROTOCOL_ERROR,
					    _("The server does not speak IMAP4rev1 or IMAP4rev2")));
		return;
	}
	pr_imap_client_connect_done(self);
}

static void
pr_imap_client_ask_capabilities(PrImapClient *self)
{
	g_autoptr(PrImapCommand) command = pr_imap_command_new("CAPABILITY");

	pr_imap_client_set_capabilities(self, NULL);
	pr_imap_client_run_internal(self,
				    command,
				    CMD_FLAG_NONE,
				    NULL,
				    pr_imap_client_capability_cb,
				    g_object_ref(self));
}

static gchar *
pr_imap_client_fingerprint(GTlsCertificate *cert)
{
	g_autoptr(GByteArray) der = NULL;

	g_object_get(cert, "certificate", &der, NULL);
	if (der == NULL)
		return NULL;
	return g_compute_checksum_for_data(G_CHECKSUM_SHA256, der->data, der->len);
}

static void
pr_imap_client_remember_certificate(PrImapClient *self, GTlsCertificate *cert)
{
	g_free(self->cert_sha256);
	g_free(self->cert_subject);
	self->cert_sha256 = pr_imap_client_fingerprint(cert);
	self->cert_subject = g_tls_certificate_get_subject_name(cert);
}

/* Called by GIO only when normal validation failed: the pin is the one way to accept. */
static gboolean
pr_imap_client_accept_certificate_cb(GTlsConnection *conn,
				     GTlsCertificate *cert,
				     GTlsCertificateFlags errors,
				     gpointer user_data)
{
	PrImapClient *self = PR_IMAP_CLIENT(user_data);

	pr_imap_client_remember_certificate(self, cert);
	self->cert_errors = errors;
	if (self->pin != NULL && g_strcmp0(self->pin, self->cert_sha256) == 0) {
		self->cert_trusted = TRUE;
		return TRUE;
	}
	self->cert_trusted = FALSE;
	return FALSE;
}

static void pr_imap_client_handshake_cb(GObject *source, GAsyncResult *res, gpointer user_data);

static void
pr_imap_client_start_tls(PrImapClient *self)
{
	g_autoptr(GSocketConnectable) identity = NULL;
	g_autoptr(GIOStream) tls = NULL;
	g_autoptr(GError) error = NULL;

	identity = g_network_address_new(self->host, self->port);
	tls = g_tls_client_connection_new(G_IO_STREAM(self->socket_conn), identity, &error);
	if (tls == NULL) {
		g_prefix_error(&error, "%s", _("TLS is not available: "));
		error->domain = PR_ERROR;
		error->code = PR_ERROR_TLS_FAILED;
		pr_imap_client_connect_failed(self, g_steal_pointer(&error));
		return;
	}
	if (self->database != NULL)
		g_tls_connection_set_database(G_TLS_CONNECTION(tls), self->database);
	g_signal_connect(
		tls, "accept-certificate", G_CALLBACK(pr_imap_client_accept_certificate_cb), self);
	self->cert_trusted = TRUE; /* until accept-certificate says otherwise */
	self->cert_errors = 0;
	g_tls_connection_handshake_async(G_TLS_CONNECTION(tls),
					 G_PRIORITY_DEFAULT,
					 self->io_cancellable,
					 pr_imap_client_handshake_cb,
					 g_object_ref(self));
	/* held here, not on the socket connection it wraps: that would be a reference cycle,
	 * and a connection whose handshake never ended would keep its socket open */
	g_set_object(&self->tls_pending, tls);
}

static gchar *
pr_imap_client_describe_cert_errors(GTlsCertificateFlags errors)
{
	g_autoptr(GPtrArray) parts = g_ptr_array_new();

	if (errors & G_TLS_CERTIFICATE_UNKNOWN_CA)
		g_ptr_array_add(parts, (gpointer)_("issued by an unknown authority"));
	if (errors & G_TLS_CERTIFICATE_BAD_IDENTITY)
		g_ptr_array_add(parts, (gpointer)_("issued for another host"));
	if (errors & G_TLS_CERTIFICATE_NOT_ACTIVATED)
		g_ptr_array_add(parts, (gpointer)_("not yet valid"));
	if (errors & G_TLS_CERTIFICATE_EXPIRED)
		g_ptr_array_add(parts, (gpointer)_("expired"));
	if (errors & G_TLS_CERTIFICATE_REVOKED)
		g_ptr_array_add(parts, (gpointer)_("revoked"));
	if (errors & G_TLS_CERTIFICATE_INSECURE)
		g_ptr_array_add(parts, (gpointer)_("using an insecure algorithm"));
	if (parts->len == 0)
		g_ptr_array_add(parts, (gpointer)_("not valid"));
	g_ptr_array_add(parts, NULL);
	return g_strjoinv(", ", (gchar **)parts->pdata);
}

static void
pr_imap_client_handshake_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	g_autoptr(PrImapClient) self = PR_IMAP_CLIENT(user_data);
	GTlsConnection *tls = G_TLS_CONNECTION(source);
	g_autoptr(GError) error = NULL;
	GTlsCertificate *peer;

	if (!g_tls_connection_handshake_finish(tls, res, &error)) {
		if (self->connect_task == NULL)
			return;
		if (!self->cert_trusted && self->cert_sha256 != NULL) {
			g_autofree gchar *why =
				pr_imap_client_describe_cert_errors(self->cert_errors);
			g_autoptr(GError) untrusted = NULL;
			untrusted =
				g_error_new(PR_ERROR,
					    PR_ERROR_CERTIFICATE_UNTRUSTED,
					    _("The certificate of %s is not trusted (%s); "
					      "SHA-256 fingerprint %s, subject %s"),
					    self->host,
					    why,
					    self->cert_sha256,
					    self->cert_subject != NULL ? self->cert_subject : "");
			pr_imap_client_connect_failed(self, g_steal_pointer(&untrusted));
			return;
		}
		pr_error_convert(&error);
		if (error->code != PR_ERROR_CANCELLED && error->code != PR_ERROR_TIMEOUT) {
			g_autoptr(GError) tls_error = NULL;
			tls_error = g_error_new(PR_ERROR,
						PR_ERROR_TLS_FAILED,
						_("TLS negotiation with %s failed: %s"),
						self->host,
						error->message);
			pr_imap_client_connect_failed(self, g_steal_pointer(&tls_error));
			return;
		}
		pr_imap_client_connect_failed(self, g_steal_pointer(&error));
		return;
	}
	if (self->connect_task == NULL)
		return;
	peer = g_tls_connection_get_peer_certificate(tls);
	if (peer != NULL && self->cert_sha256 == NULL)
		pr_imap_client_remember_certificate(self, peer);
	self->tls_active = TRUE;
	pr_imap_client_set_stream(self, G_IO_STREAM(tls));
	g_clear_object(&self->tls_pending);
	pr_imap_client_start_ticking(self);

	if (self->security == PR_IMAP_SECURITY_STARTTLS) {
		/* Everything learnt in plaintext is forgotten; ask again over TLS. */
		pr_imap_parser_reset(self->parser);
		self->reader_paused = FALSE;
		pr_imap_client_reader_start(self);
		pr_imap_client_ask_capabilities(self);
		return;
	}
	pr_imap_client_reader_start(self);
}

static void
pr_imap_client_starttls_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	g_autoptr(PrImapClient) self = PR_IMAP_CLIENT(user_data);
	g_autoptr(PrImapResponse) response = NULL;
	g_autoptr(GError) error = NULL;

	response = pr_imap_client_run_finish(self, res, NULL, &error);
	if (response == NULL) {
		if (self->connect_task == NULL)
			return;
		if (g_error_matches(error, PR_ERROR, PR_ERROR_SERVER_ERROR)) {
			g_autoptr(GError) refused = NULL;
			refused = g_error_new(PR_ERROR,
					      PR_ERROR_STARTTLS_UNAVAILABLE,
					      _("The server %s refused STARTTLS: %s"),
					      self->host,
					      error->message);
			pr_imap_client_connect_failed(self, g_steal_pointer(&refused));
			return;
		}
		pr_imap_client_connect_failed(self, g_steal_pointer(&error));
		return;
	}
	/* The [CAPABILITY] of this plaintext OK is ignored on purpose (an attacker could
	 * have written it); the reader stopped right after it and the parser forgets
	 * anything that followed in the same segment. */
	pr_imap_parser_reset(self->parser);
	pr_imap_client_set_capabilities(self, NULL);
	g_free(self->bye_text);
	self->bye_text = NULL;
	pr_imap_client_start_tls(self);
}

static void
pr_imap_client_check_starttls(PrImapClient *self, gchar **plain_caps)
{
	g_autoptr(PrImapCommand) command = NULL;

	if (plain_caps == NULL || !g_strv_contains((const gchar *const *)plain_caps, "STARTTLS")) {
		pr_imap_client_connect_failed(
			self,
			g_error_new(PR_ERROR,
				    PR_ERROR_STARTTLS_UNAVAILABLE,
				    _("The server %s does not offer STARTTLS"),
				    self->host));
		return;
	}
	command = pr_imap_command_new("STARTTLS");
	pr_imap_client_run_internal(self,
				    command,
				    CMD_FLAG_EXCLUSIVE | CMD_FLAG_BOUNDARY,
				    NULL,
				    pr_imap_client_starttls_cb,
				    g_object_ref(self));
}

static void
pr_imap_client_plain_capability_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	g_autoptr(PrImapClient) self = PR_IMAP_CLIENT(user_data);
	g_autoptr(PrImapResponse) response = NULL;
	g_autoptr(GPtrArray) untagged = NULL;
	g_autoptr(GError) error = NULL;
	g_auto(GStrv) caps = NULL;

	response = pr_imap_client_run_finish(self, res, &untagged, &error);
	if (response == NULL) {
		if (self->connect_task != NULL)
			pr_imap_client_connect_failed(self, g_steal_pointer(&error));
		return;
	}
	/* Plaintext capabilities are used for one thing only: whether STARTTLS exists. */
	for (guint i = 0; i < untagged->len && caps == NULL; i++)
		caps = pr_imap_response_dup_capabilities(g_ptr_array_index(untagged, i));
	if (caps == NULL)
		caps = pr_imap_response_dup_capabilities(response);
	pr_imap_client_check_starttls(self, caps);
}

static void
pr_imap_client_handle_greeting(PrImapClient *self, PrImapResponse *response)
{
	PrImapStatus status = pr_imap_response_get_status(response);
	g_auto(GStrv) caps = NULL;

	self->greeting_seen = TRUE;
	if (pr_imap_response_get_kind(response) != PR_IMAP_RESPONSE_KIND_UNTAGGED ||
	    (status != PR_IMAP_STATUS_OK && status != PR_IMAP_STATUS_PREAUTH &&
	     status != PR_IMAP_STATUS_BYE)) {
		pr_imap_client_connect_failed(
			self,
			g_error_new_literal(PR_ERROR,
					    PR_ERROR_PROTOCOL_ERROR,
					    _("The server did not send an IMAP greeting")));
		return;
	}
	if (status == PR_IMAP_STATUS_BYE) {
		const gchar *text = pr_imap_response_get_text(response);
		g_autofree gchar *safe = g_strescape(text != NULL ? text : "", NULL);
		pr_imap_client_connect_failed(
			self,
			g_error_new(PR_ERROR,
				    PR_ERROR_SERVER_ERROR,
				    _("The server %s refused the connection: %s"),
				    self->host,
				    safe));
		return;
	}
	if (status == PR_IMAP_STATUS_PREAUTH && self->security == PR_IMAP_SECURITY_STARTTLS) {
		/* A pre-authenticated plaintext session can never be upgraded (RFC 9051). */
		pr_imap_client_connect_failed(
			self,
			g_error_new(PR_ERROR,
				    PR_ERROR_STARTTLS_UNAVAILABLE,
				    _("The server %s sent PREAUTH, so STARTTLS is impossible"),
				    self->host));
		return;
	}
	self->state = status == PR_IMAP_STATUS_PREAUTH ? PR_IMAP_CLIENT_STATE_AUTHENTICATED
						       : PR_IMAP_CLIENT_STATE_NOT_AUTHENTICATED;
	caps = pr_imap_response_dup_capabilities(response);

	if (self->security == PR_IMAP_SECURITY_STARTTLS) {
		if (caps != NULL) {
			pr_imap_client_check_starttls(self, caps);
		} else {
			g_autoptr(PrImapCommand) command = pr_imap_command_new("CAPABILITY");
			pr_imap_client_run_internal(self,
						    command,
						    CMD_FLAG_NONE,
						    NULL,
						    pr_imap_client_plain_capability_cb,
						    g_object_ref(self));
		}
		return;
	}
	if (caps != NULL && (g_strv_contains((const gchar *const *)caps, "IMAP4REV1") ||
			     g_strv_contains((const gchar *const *)caps, "IMAP4REV2"))) {
		pr_imap_client_set_capabilities(self, g_steal_pointer(&caps));
		pr_imap_client_connect_done(self);
		return;
	}
	pr_imap_client_ask_capabilities(self);
}

static void
pr_imap_client_tcp_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	g_autoptr(PrImapClient) self = PR_IMAP_CLIENT(user_data);
	g_autoptr(GError) error = NULL;
	g_autoptr(GSocketConnection) conn = NULL;

	conn = g_socket_client_connect_to_host_finish(G_SOCKET_CLIENT(source), res, &error);
	if (self->connect_task == NULL) {
		if (conn != NULL)
			g_io_stream_close(G_IO_STREAM(conn), NULL, NULL);
		return;
	}
	if (conn == NULL) {
		pr_error_convert(&error);
		if (error->code == PR_ERROR_CONNECT_FAILED) {
			g_autoptr(GError) failed = NULL;
			failed = g_error_new(PR_ERROR,
					     PR_ERROR_CONNECT_FAILED,
					     _("Could not connect to %s port %u: %s"),
					     self->host,
					     self->port,
					     error->message);
			pr_imap_client_connect_failed(self, g_steal_pointer(&failed));
			return;
		}
		pr_imap_client_connect_failed(self, g_steal_pointer(&error));
		return;
	}
	self->socket_conn = g_steal_pointer(&conn);
	g_socket_set_keepalive(g_socket_connection_get_socket(self->socket_conn), TRUE);
	if (self->security == PR_IMAP_SECURITY_TLS) {
		pr_imap_client_start_tls(self);
		return;
	}
	pr_imap_client_set_stream(self, G_IO_STREAM(self->socket_conn));
	pr_imap_client_reader_start(self);
}

static void
pr_imap_client_user_cancelled_cb(GCancellable *cancellable, gpointer user_data)
{
	GCancellable *io = G_CANCELLABLE(user_data);
	g_cancellable_cancel(io);
}

void
pr_imap_client_connect_async(PrImapClient *self,
			     GCancellable *cancellable,
			     GAsyncReadyCallback callback,
			     gpointer user_data)
{
	g_autoptr(GTask) task = NULL;
	g_autoptr(GSocketClient) client = NULL;

	g_return_if_fail(PR_IS_IMAP_CLIENT(self));

	task = g_task_new(self, cancellable, callback, user_data);
	g_task_set_source_tag(task, pr_imap_client_connect_async);
	if (self->iostream != NULL || self->connect_task != NULL) {
		g_task_return_new_error(
			task, PR_ERROR, PR_ERROR_BUSY, _("The connection is already open"));
		return;
	}
	g_clear_object(&self->io_cancellable);
	self->io_cancellable = g_cancellable_new();
	if (cancellable != NULL) {
		self->connect_cancellable = g_object_ref(cancellable);
		self->connect_cancel_id =
			g_cancellable_connect(cancellable,
					      G_CALLBACK(pr_imap_client_user_cancelled_cb),
					      g_object_ref(self->io_cancellable),
					      g_object_unref);
	}
	/* the parser keeps its sink and limits across connections */
	if (self->parser == NULL)
		self->parser = pr_imap_parser_new();
	else
		pr_imap_parser_reset(self->parser);
	self->greeting_seen = FALSE;
	self->timed_out = FALSE;
	self->tls_active = FALSE;
	self->compressed = FALSE;
	self->utf8 = FALSE;
	self->reader_paused = FALSE;
	pr_imap_client_set_capabilities(self, NULL);
	g_clear_pointer(&self->bye_text, g_free);
	g_clear_pointer(&self->cert_sha256, g_free);
	g_clear_pointer(&self->cert_subject, g_free);
	self->cert_trusted = FALSE;
	self->state = PR_IMAP_CLIENT_STATE_CONNECTING;
	self->select_generation++;
	self->connect_task = g_steal_pointer(&task);
	self->connect_deadline = g_get_monotonic_time() + (gint64)self->timeout * G_USEC_PER_SEC;
	pr_imap_client_start_ticking(self);

	client = g_socket_client_new();
	g_socket_client_set_enable_proxy(client, FALSE);
	g_socket_client_connect_to_host_async(client,
					      self->host,
					      self->port,
					      self->io_cancellable,
					      pr_imap_client_tcp_cb,
					      g_object_ref(self));
}

gboolean
pr_imap_client_connect_finish(PrImapClient *self, GAsyncResult *res, GError **error)
{
	g_return_val_if_fail(g_task_is_valid(res, self), FALSE);
	return pr_imap_client_propagate_boolean(res, error);
}

/* Login -------------------------------------------------------------------------------- */

typedef struct {
	guint pending;
	gboolean failed;
} SetupData;

static void
pr_imap_client_login_fail(GTask *task, GError *error)
{
	PrImapClient *self = g_task_get_source_object(task);

	pr_error_convert(&error);
	if (error->code == PR_ERROR_CANCELLED && self->timed_out)
		error->code = PR_ERROR_TIMEOUT;
	g_task_return_error(task, error);
}

static void
pr_imap_client_compress_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	g_autoptr(GTask) task = G_TASK(user_data);
	PrImapClient *self = PR_IMAP_CLIENT(source);
	g_autoptr(PrImapResponse) response = NULL;
	g_autoptr(GError) error = NULL;
	g_autoptr(GZlibCompressor) compressor = NULL;
	g_autoptr(GZlibDecompressor) decompressor = NULL;

	response = pr_imap_client_run_finish(self, res, NULL, &error);
	if (response == NULL) {
		if (g_error_matches(error, PR_ERROR, PR_ERROR_SERVER_ERROR)) {
			/* compression is an optimisation: carry on without it */
			g_debug("COMPRESS refused: %s", error->message);
			g_task_return_boolean(task, TRUE);
			return;
		}
		pr_imap_client_login_fail(task, g_steal_pointer(&error));
		return;
	}
	compressor = g_zlib_compressor_new(G_ZLIB_COMPRESSOR_FORMAT_RAW, 6);
	decompressor = g_zlib_decompressor_new(G_ZLIB_COMPRESSOR_FORMAT_RAW);
	g_clear_object(&self->istream);
	g_clear_object(&self->ostream);
	self->istream = g_converter_input_stream_new(g_io_stream_get_input_stream(self->iostream),
						     G_CONVERTER(decompressor));
	self->ostream = g_converter_output_stream_new(g_io_stream_get_output_stream(self->iostream),
						      G_CONVERTER(compressor));
	self->compressed = TRUE;
	self->reader_paused = FALSE;
	self->reading = FALSE;
	pr_imap_client_reader_start(self);
	pr_imap_client_send_next(self);
	g_task_return_boolean(task, TRUE);
}

static void
pr_imap_client_setup_done(GTask *task)
{
	PrImapClient *self = g_task_get_source_object(task);

	if (self->want_compress && pr_imap_client_has_capability(self, "COMPRESS=DEFLATE")) {
		g_autoptr(PrImapCommand) command = pr_imap_command_new("COMPRESS");
		pr_imap_command_add_atom(command, "DEFLATE");
		pr_imap_client_run_internal(self,
					    command,
					    CMD_FLAG_EXCLUSIVE | CMD_FLAG_BOUNDARY,
					    g_task_get_cancellable(task),
					    pr_imap_client_compress_cb,
					    g_object_ref(task));
		return;
	}
	g_task_return_boolean(task, TRUE);
}

static void
pr_imap_client_setup_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	g_autoptr(GTask) task = G_TASK(user_data);
	PrImapClient *self = PR_IMAP_CLIENT(source);
	SetupData *data = g_task_get_task_data(task);
	g_autoptr(PrImapResponse) response = NULL;
	g_autoptr(GPtrArray) untagged = NULL;
	g_autoptr(GError) error = NULL;

	response = pr_imap_client_run_finish(self, res, &untagged, &error);
	data->pending--;
	if (data->failed)
		return;
	if (response == NULL) {
		/* ENABLE, ID and LIST "" "" are optional niceties; a dead line is not */
		if (!g_error_matches(error, PR_ERROR, PR_ERROR_SERVER_ERROR)) {
			data->failed = TRUE;
			pr_imap_client_login_fail(task, g_steal_pointer(&error));
			return;
		}
		g_debug("optional command refused: %s", error->message);
	} else {
		for (guint i = 0; i < untagged->len; i++) {
			PrImapResponse *r = g_ptr_array_index(untagged, i);
			const gchar *kw = pr_imap_response_get_keyword(r);
			if (g_strcmp0(kw, "ENABLED") == 0) {
				g_auto(GStrv) enabled = pr_imap_response_dup_enabled(r);
				if (enabled != NULL &&
				    g_strv_contains((const gchar *const *)enabled, "UTF8=ACCEPT"))
					self->utf8 = TRUE;
			} else if (g_strcmp0(kw, "LIST") == 0) {
				g_autoptr(PrImapListEntry) entry =
					pr_imap_response_parse_list(r, FALSE, NULL);
				if (entry != NULL)
					self->delimiter = entry->delimiter;
			}
		}
	}
	if (data->pending == 0)
		pr_imap_client_setup_done(task);
}

static void
pr_imap_client_setup_queue(PrImapClient *self, GTask *task, PrImapCommand *command)
{
	SetupData *data = g_task_get_task_data(task);

	data->pending++;
	pr_imap_client_run_internal(self,
				    command,
				    CMD_FLAG_NONE,
				    g_task_get_cancellable(task),
				    pr_imap_client_setup_cb,
				    g_object_ref(task));
}

/* After authentication: ENABLE, ID and the hierarchy delimiter, pipelined in one go. */
static void
pr_imap_client_setup(GTask *task)
{
	PrImapClient *self = g_task_get_source_object(task);
	g_autoptr(GString) enable = g_string_new(NULL);
	g_autoptr(PrImapCommand) list = NULL;

	self->state = PR_IMAP_CLIENT_STATE_AUTHENTICATED;
	g_task_set_task_data(task, g_new0(SetupData, 1), g_free);
	if (pr_imap_client_has_capability(self, "QRESYNC"))
		g_string_append(enable, " QRESYNC");
	else if (pr_imap_client_has_capability(self, "CONDSTORE"))
		g_string_append(enable, " CONDSTORE");
	if (pr_imap_client_has_capability(self, "UTF8=ACCEPT"))
		g_string_append(enable, " UTF8=ACCEPT");
	if (enable->len > 0 && pr_imap_client_has_capability(self, "ENABLE")) {
		g_autoptr(PrImapCommand) command = pr_imap_command_new("ENABLE");
		pr_imap_command_add_atom(command, enable->str + 1);
		pr_imap_client_setup_queue(self, task, command);
	}
	if (pr_imap_client_has_capability(self, "ID")) {
		g_autoptr(PrImapCommand) command = pr_imap_command_new("ID");
		/* name and version only: nothing that identifies the user or machine */
		pr_imap_command_add_printf(
			command, "(\"name\" \"Postroom\" \"version\" \"%s\")", PACKAGE_VERSION);
		pr_imap_client_setup_queue(self, task, command);
	}
	list = pr_imap_command_new("LIST");
	pr_imap_command_add_atom(list, "\"\" \"\"");
	pr_imap_client_setup_queue(self, task, list);
}

static void
pr_imap_client_login_caps_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	g_autoptr(GTask) task = G_TASK(user_data);
	PrImapClient *self = PR_IMAP_CLIENT(source);
	g_autoptr(PrImapResponse) response = NULL;
	g_autoptr(GError) error = NULL;

	response = pr_imap_client_run_finish(self, res, NULL, &error);
	if (response == NULL) {
		pr_imap_client_login_fail(task, g_steal_pointer(&error));
		return;
	}
	pr_imap_client_setup(task);
}

static void
pr_imap_client_auth_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	g_autoptr(GTask) task = G_TASK(user_data);
	PrImapClient *self = PR_IMAP_CLIENT(source);
	PrImapSasl *sasl = g_task_get_task_data(task);
	g_autoptr(PrImapResponse) response = NULL;
	g_autoptr(GError) error = NULL;
	g_auto(GStrv) caps = NULL;

	response = pr_imap_client_run_finish(self, res, NULL, &error);
	if (response == NULL) {
		if (g_error_matches(error, PR_ERROR, PR_ERROR_SERVER_ERROR) ||
		    g_error_matches(error, PR_ERROR, PR_ERROR_LOGIN_FAILED)) {
			pr_imap_client_login_fail(
				task,
				g_error_new(PR_ERROR,
					    PR_ERROR_LOGIN_FAILED,
					    _("The server %s rejected the login: %s"),
					    self->host,
					    error->message));
			return;
		}
		pr_imap_client_login_fail(task, g_steal_pointer(&error));
		return;
	}
	if (sasl != NULL && !pr_imap_sasl_is_complete(sasl)) {
		/* SCRAM: a server that did not prove it knows the password is not trusted */
		pr_imap_client_login_fail(
			task,
			g_error_new(PR_ERROR,
				    PR_ERROR_LOGIN_FAILED,
				    _("The server %s did not complete the authentication exchange"),
				    self->host));
		return;
	}
	g_task_set_task_data(task, NULL, NULL);

	/* capabilities change with authentication; a [CAPABILITY] in this OK is trusted
	 * (TLS is up by now, or the user chose none) */
	caps = pr_imap_response_dup_capabilities(response);
	if (caps != NULL) {
		pr_imap_client_set_capabilities(self, g_steal_pointer(&caps));
		pr_imap_client_setup(task);
	} else {
		g_autoptr(PrImapCommand) command = pr_imap_command_new("CAPABILITY");
		pr_imap_client_set_capabilities(self, NULL);
		pr_imap_client_run_internal(self,
					    command,
					    CMD_FLAG_NONE,
					    g_task_get_cancellable(task),
					    pr_imap_client_login_caps_cb,
					    g_object_ref(task));
	}
}

void
pr_imap_client_login_async(PrImapClient *self,
			   const gchar *user,
			   const gchar *secret,
			   const gchar *mechanism,
			   GCancellable *cancellable,
			   GAsyncReadyCallback callback,
			   gpointer user_data)
{
	g_autoptr(GTask) task = NULL;
	g_autoptr(GError) error = NULL;
	g_autoptr(PrImapCommand) command = NULL;
	g_autoptr(PrImapSasl) sasl = NULL;
	g_auto(GStrv) offered = NULL;
	g_autofree gchar *mech = NULL;
	CmdFlags flags = CMD_FLAG_EXCLUSIVE;

	g_return_if_fail(PR_IS_IMAP_CLIENT(self));
	g_return_if_fail(user != NULL && secret != NULL);

	task = g_task_new(self, cancellable, callback, user_data);
	g_task_set_source_tag(task, pr_imap_client_login_async);
	if (!pr_imap_client_is_connected(self) || self->connect_task != NULL) {
		g_task_return_new_error(
			task, PR_ERROR, PR_ERROR_NOT_CONNECTED, _("Not connected to the server"));
		return;
	}
	if (self->state == PR_IMAP_CLIENT_STATE_AUTHENTICATED) {
		/* PREAUTH over TLS */
		g_task_return_boolean(task, TRUE);
		return;
	}
	if (self->state != PR_IMAP_CLIENT_STATE_NOT_AUTHENTICATED) {
		g_task_return_new_error(task, PR_ERROR, PR_ERROR_BUSY, _("Already logged in"));
		return;
	}
	/* TLS is mandatory for credentials unless the user chose no security at all */
	if (self->security != PR_IMAP_SECURITY_NONE && !self->tls_active) {
		g_task_return_new_error(task,
					PR_ERROR,
					PR_ERROR_TLS_FAILED,
					_("Refusing to send credentials without TLS"));
		return;
	}

	offered = pr_imap_client_dup_auth_mechanisms(self);
	mech = pr_imap_sasl_choose(
		mechanism != NULL ? mechanism : "auto", (const gchar *const *)offered, &error);
	if (mech == NULL && error != NULL) {
		pr_imap_client_login_fail(task, g_steal_pointer(&error));
		return;
	}
	if (mech == NULL) {
		if (pr_imap_client_has_capability(self, "LOGINDISABLED")) {
			g_task_return_new_error(task,
						PR_ERROR,
						PR_ERROR_LOGIN_FAILED,
						_("The server %s does not allow logging in here "
						  "(LOGINDISABLED)"),
						self->host);
			return;
		}
		command = pr_imap_command_new("LOGIN");
		pr_imap_command_set_sensitive(command, TRUE);
		pr_imap_command_add_string(command, user, -1);
		pr_imap_command_add_string(command, secret, -1);
	} else {
		sasl = pr_imap_sasl_new(mech, user, secret, self->host, self->port, &error);
		if (sasl == NULL) {
			pr_imap_client_login_fail(task, g_steal_pointer(&error));
			return;
		}
		command = pr_imap_command_new("AUTHENTICATE");
		pr_imap_command_set_sensitive(command, TRUE);
		pr_imap_command_add_atom(command, mech);
		if (pr_imap_sasl_has_initial_response(sasl) &&
		    pr_imap_client_has_capability(self, "SASL-IR")) {
			g_autoptr(GBytes) initial = pr_imap_sasl_step(sasl, NULL, &error);
			g_autofree gchar *encoded = NULL;
			if (initial == NULL) {
				pr_imap_client_login_fail(task, g_steal_pointer(&error));
				return;
			}
			/* RFC 4959: an empty initial response is sent as "=" */
			encoded = g_bytes_get_size(initial) == 0
					  ? g_strdup("=")
					  : g_base64_encode(g_bytes_get_data(initial, NULL),
							    g_bytes_get_size(initial));
			pr_imap_command_add_atom(command, encoded);
			explicit_bzero(encoded, strlen(encoded));
		}
		flags |= CMD_FLAG_SASL;
		g_task_set_task_data(task, g_object_ref(sasl), g_object_unref);
	}
	pr_imap_client_queue_command(self,
				     command,
				     flags,
				     sasl,
				     cancellable,
				     pr_imap_client_auth_cb,
				     g_object_ref(task));
}

gboolean
pr_imap_client_login_finish(PrImapClient *self, GAsyncResult *res, GError **error)
{
	g_return_val_if_fail(g_task_is_valid(res, self), FALSE);
	return pr_imap_client_propagate_boolean(res, error);
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

gboolean
pr_imap_client_set_ca_file(PrImapClient *self, const gchar *path, GError **error)
{
	g_autoptr(GTlsDatabase) database = NULL;

	g_return_val_if_fail(PR_IS_IMAP_CLIENT(self), FALSE);
	database = g_tls_file_database_new(path, error);
	if (database == NULL) {
		g_prefix_error(error, _("Cannot use the CA file %s: "), path);
		if (error != NULL && *error != NULL) {
			(*error)->domain = PR_ERROR;
			(*error)->code = PR_ERROR_INVALID_ARGUMENT;
		}
		return FALSE;
	}
	g_set_object(&self->database, database);
	return TRUE;
}

gboolean
pr_imap_client_set_pinned_certificate(PrImapClient *self, const gchar *sha256, GError **error)
{
	g_autoptr(GString) hex = g_string_new(NULL);

	g_return_val_if_fail(PR_IS_IMAP_CLIENT(self), FALSE);
	for (const gchar *p = sha256; *p != '\0'; p++) {
		if (*p == ':' || *p == ' ')
			continue;
		if (!g_ascii_isxdigit(*p)) {
			g_set_error(error,
				    PR_ERROR,
				    PR_ERROR_INVALID_ARGUMENT,
				    _("A certificate pin is 64 hexadecimal digits (SHA-256)"));
			return FALSE;
		}
		g_string_append_c(hex, g_ascii_tolower(*p));
	}
	if (hex->len != 64) {
		g_set_error(error,
			    PR_ERROR,
			    PR_ERROR_INVALID_ARGUMENT,
			    _("A certificate pin is 64 hexadecimal digits (SHA-256)"));
		return FALSE;
	}
	g_free(self->pin);
	self->pin = g_string_free(g_steal_pointer(&hex), FALSE);
	return TRUE;
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
