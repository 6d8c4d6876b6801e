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
 * PrImapClient's transport: the TCP connection, implicit TLS and STARTTLS, the certificate
 * policy (CA file, SHA-256 pin), the greeting and first capabilities, the COMPRESS stream
 * switch, and the reader and writer under the command pipeline.
 */
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

void
pr_imap_client_queue_bytes(PrImapClient *self, GBytes *bytes)
{
	g_queue_push_tail(&self->outq, g_bytes_ref(bytes));
	pr_imap_client_write_next(self);
}

void
pr_imap_client_queue_line(PrImapClient *self, const gchar *line)
{
	g_autoptr(GBytes) bytes = g_bytes_new(line, strlen(line));
	pr_imap_client_queue_bytes(self, bytes);
}

/* Reading -------------------------------------------------------------------------------- */

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

void
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

void
pr_imap_client_set_stream(PrImapClient *self, GIOStream *stream)
{
	g_set_object(&self->iostream, stream);
	g_set_object(&self->istream, g_io_stream_get_input_stream(stream));
	g_set_object(&self->ostream, g_io_stream_get_output_stream(stream));
	self->reading = FALSE;
}

/* Connecting --------------------------------------------------------------------------- */

void
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

void
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

/* COMPRESS ----------------------------------------------------------------------------- */

/* After the tagged OK of COMPRESS DEFLATE: the reader stopped exactly there, so every byte
 * from now on goes through the deflate streams. */
void
pr_imap_client_start_compression(PrImapClient *self)
{
	g_autoptr(GZlibCompressor) compressor = NULL;
	g_autoptr(GZlibDecompressor) decompressor = NULL;

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
}

/* Certificate policy ------------------------------------------------------------------- */

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
