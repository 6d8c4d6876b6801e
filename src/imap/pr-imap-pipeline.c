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
 * PrImapClient's command pipeline: tags, the queues of commands to send and in flight,
 * literals waiting for a continuation, and the dispatch of every parsed response to the
 * command it belongs to.
 */
/* Pending commands --------------------------------------------------------------------- */

void
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

void
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

/* Whether we wait for the server: the timeout applies then. */
gboolean
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

/* Sending ------------------------------------------------------------------------------ */

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

void
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

/* Dispatch ----------------------------------------------------------------------------- */

static void
pr_imap_client_handle_untagged(PrImapClient *self, PrImapResponse *response)
{
	const gchar *keyword = pr_imap_response_get_keyword(response);
	PrImapPending *oldest = g_queue_peek_head(&self->inflight);

	if (g_strcmp0(keyword, "CAPABILITY") == 0 && pr_imap_client_trusts_data(self)) {
		pr_imap_client_set_capabilities(self, pr_imap_response_dup_capabilities(response));
	} else if (g_strcmp0(keyword, "BYE") == 0) {
		g_free(self->bye_text);
		self->bye_text = g_strdup(pr_imap_response_get_text(response));
	}
	pr_imap_client_emit_alert(self, response);
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
	pr_imap_client_emit_untagged(self, response);
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
		pr_imap_client_sasl_continue(self, pending, response);
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
	/* a tagged OK or NO may carry an [ALERT] too, most often the one ending LOGIN or
	 * AUTHENTICATE; emitted before the command completes, so it precedes the result */
	pr_imap_client_emit_alert(self, response);
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
gsize
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

PrImapPending *
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

PrImapPending *
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

gboolean
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

void
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

void
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

gboolean
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
