/*
 * Copyright 2026 The Postroom developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include "pr-imap-client.h"
#include "pr-imap-sasl.h"

/*
 * Shared by the files of PrImapClient: pr-imap-client.c (the type, its state, closing,
 * timeouts, IDLE, LOGOUT, accessors), pr-imap-transport.c (socket, TLS, STARTTLS,
 * certificates, COMPRESS, reading and writing), pr-imap-pipeline.c (tags, queues,
 * dispatch of responses, continuations) and pr-imap-login.c (LOGIN/AUTHENTICATE and the
 * set-up after it). Nothing here is for use outside src/imap.
 */

G_BEGIN_DECLS

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

/* pr-imap-client.c */
gboolean pr_imap_client_is_connected(PrImapClient *self);
void pr_imap_client_teardown(PrImapClient *self);
void pr_imap_client_abort(PrImapClient *self, const GError *error);
void pr_imap_client_forget_connect_cancellable(PrImapClient *self);
void pr_imap_client_fail_all(PrImapClient *self, const GError *error);
void pr_imap_client_start_ticking(PrImapClient *self);
void pr_imap_client_set_capabilities(PrImapClient *self, gchar **caps);
gboolean pr_imap_client_trusts_data(PrImapClient *self);
void pr_imap_client_emit_untagged(PrImapClient *self, PrImapResponse *response);
void pr_imap_client_emit_alert(PrImapClient *self, PrImapResponse *response);

/* pr-imap-transport.c */
void pr_imap_client_queue_bytes(PrImapClient *self, GBytes *bytes);
void pr_imap_client_queue_line(PrImapClient *self, const gchar *line);
void pr_imap_client_reader_start(PrImapClient *self);
void pr_imap_client_set_stream(PrImapClient *self, GIOStream *stream);
void pr_imap_client_connect_failed(PrImapClient *self, GError *error);
void pr_imap_client_handle_greeting(PrImapClient *self, PrImapResponse *response);
void pr_imap_client_start_compression(PrImapClient *self);

/* pr-imap-pipeline.c */
void pr_imap_pending_free(PrImapPending *pending);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(PrImapPending, pr_imap_pending_free)
void pr_imap_pending_return_error(PrImapPending *pending, const GError *error);
gboolean pr_imap_client_awaiting(PrImapClient *self);
void pr_imap_client_send_next(PrImapClient *self);
PrImapPending *pr_imap_client_find_pending(GQueue *queue, const gchar *tag);
gsize pr_imap_client_feed(PrImapClient *self, const guint8 *data, gsize len, GError **error);
PrImapPending *pr_imap_client_enqueue(PrImapClient *self,
				      PrImapCommand *command,
				      CmdFlags flags,
				      GTask *task,
				      gboolean collect);
gboolean pr_imap_client_check_ready(PrImapClient *self, GTask *task);
void pr_imap_client_queue_command(PrImapClient *self,
				  PrImapCommand *command,
				  CmdFlags flags,
				  PrImapSasl *sasl,
				  GCancellable *cancellable,
				  GAsyncReadyCallback callback,
				  gpointer user_data);
void pr_imap_client_run_internal(PrImapClient *self,
				 PrImapCommand *command,
				 CmdFlags flags,
				 GCancellable *cancellable,
				 GAsyncReadyCallback callback,
				 gpointer user_data);
gboolean pr_imap_client_propagate_boolean(GAsyncResult *res, GError **error);

/* pr-imap-login.c */
void
pr_imap_client_sasl_continue(PrImapClient *self, PrImapPending *pending, PrImapResponse *response);

G_END_DECLS
