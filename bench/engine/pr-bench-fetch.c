/*
 * Copyright 2026 The Postroom developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#define G_LOG_DOMAIN "PrBench"

/*
 * Engine fetch benchmark: what an initial sync of one folder costs the engine.
 *
 *   PR_BENCH_PASSWORD=... pr-bench-fetch --port P --user U             headers (default)
 *   PR_BENCH_PASSWORD=... pr-bench-fetch --port P --user U --bodies    bodies to a sink
 *   PR_BENCH_PASSWORD=... pr-bench-fetch --port P --user U --record FILE [--record-mb 100]
 *   pr-bench-fetch --replay FILE [--iterations 5] [--no-decode]
 *
 * Headers: PrImapClient connects (plaintext, or implicit TLS with --ca-file), logs in,
 * EXAMINEs the mailbox and runs UID FETCH 1:* (UID FLAGS RFC822.SIZE INTERNALDATE ENVELOPE
 * BODYSTRUCTURE). Decoding every FETCH response with pr_imap_response_parse_fetch() is the
 * work a sync does; it happens as each arrives, in a handler given to
 * pr_imap_client_run_with_handler_async() that consumes it (--collect: from the "untagged"
 * signal under pr_imap_client_run_async(), which keeps every response until the tagged OK).
 *
 * Bodies: UID FETCH 1:* (UID BODY.PEEK[]); literals above the parser's inline threshold
 * stream to a literal sink, smaller ones arrive in the response. Each message is SHA-256
 * hashed, as a store would, with GnuTLS (--sink gchecksum: GLib's GChecksum; --sink
 * discard: only counted); "sha256" in the output is the SHA-256 of those digests in
 * sequence order.
 *
 * Prints one JSON line: messages, bytes (received on the socket during the FETCH, from
 * TCP_INFO), seconds from before connecting to the FETCH's tagged OK, fetch_seconds
 * for the FETCH alone, and the process's CPU and peak RSS.
 *
 * --record writes the raw server bytes of UID FETCH (UID FLAGS BODY.PEEK[]) (from the
 * first response line to the tagged OK line, inclusive) to FILE using the bare socket
 * client, optionally limited to the first messages adding up to --record-mb MB, for the
 * parser benchmark. --replay feeds such a file through PrImapParser in 64 KiB chunks and
 * decodes every FETCH: the engine's parse+decode throughput without a server.
 */

#include <errno.h>
#include <gio/gio.h>
#include <gnutls/crypto.h>
#include <linux/tcp.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "pr-bench-wire.h"
#include "pr-error.h"
#include "pr-imap-client.h"

#define HEADERS_ITEMS "(UID FLAGS RFC822.SIZE INTERNALDATE ENVELOPE BODYSTRUCTURE)"
#define BODIES_ITEMS  "(UID BODY.PEEK[])"
#define RECORD_ITEMS  "(UID FLAGS BODY.PEEK[])"
#define CHUNK_SIZE    (64 * 1024)

#define HEADERS_FIELDS                                                                             \
	(PR_IMAP_FETCH_HAS_UID | PR_IMAP_FETCH_HAS_FLAGS | PR_IMAP_FETCH_HAS_SIZE |                \
	 PR_IMAP_FETCH_HAS_INTERNALDATE | PR_IMAP_FETCH_HAS_ENVELOPE |                             \
	 PR_IMAP_FETCH_HAS_BODYSTRUCTURE)

typedef enum {
	BENCH_HASH_NONE,
	BENCH_HASH_GNUTLS, /* --sink sha256: nettle uses the CPU's SHA extensions */
	BENCH_HASH_GLIB,   /* --sink gchecksum: GLib's portable SHA-256, ~10x slower */
} BenchHashKind;

#define BENCH_DIGEST_LEN 32

/* One SHA-256 in progress, with either library. */
typedef struct {
	gnutls_hash_hd_t gnutls;
	GChecksum *glib;
} BenchHasher;

static gboolean
bench_hasher_init(BenchHasher *h, BenchHashKind kind)
{
	memset(h, 0, sizeof(*h));
	if (kind == BENCH_HASH_GLIB) {
		h->glib = g_checksum_new(G_CHECKSUM_SHA256);
		return TRUE;
	}
	return gnutls_hash_init(&h->gnutls, GNUTLS_DIG_SHA256) >= 0;
}

static void
bench_hasher_update(BenchHasher *h, const guint8 *data, gsize len)
{
	if (h->glib != NULL)
		g_checksum_update(h->glib, data, (gssize)len);
	else
		gnutls_hash(h->gnutls, data, len);
}

/* Writes the digest (when @out is not NULL) and frees the state. */
static void
bench_hasher_finish(BenchHasher *h, guint8 *out)
{
	if (h->glib != NULL) {
		gsize len = BENCH_DIGEST_LEN;
		if (out != NULL)
			g_checksum_get_digest(h->glib, out, &len);
		g_checksum_free(h->glib);
	} else if (h->gnutls != NULL) {
		gnutls_hash_deinit(h->gnutls, out);
	}
	memset(h, 0, sizeof(*h));
}

typedef struct {
	gboolean bodies;
	BenchHashKind hash;
	GByteArray *digests; /* bodies: one SHA-256 per message, at (seq - 1) * 32 */
	gboolean counting;   /* the FETCH is running */
	gboolean collect;    /* decode from the "untagged" signal, not a run handler */
	guint32 exists;
	guint64 messages;
	guint64 incomplete; /* FETCH responses lacking an item we asked for */
	guint64 octets;	    /* sum of RFC822.SIZE */
	guint64 literal_bytes;
	guint64 streamed; /* literals that went to the sink */
	guint64 decode_errors;
	GError *error; /* the first decode error */
} BenchFetch;

static void
bench_fetch_clear(BenchFetch *self)
{
	g_clear_pointer(&self->digests, g_byte_array_unref);
	g_clear_error(&self->error);
}
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(BenchFetch, bench_fetch_clear)

static gboolean
bench_fetch_set_sink(BenchFetch *self, const gchar *kind, GError **error)
{
	if (g_strcmp0(kind, "sha256") == 0) {
		self->hash = BENCH_HASH_GNUTLS;
	} else if (g_strcmp0(kind, "gchecksum") == 0) {
		self->hash = BENCH_HASH_GLIB;
	} else if (kind == NULL || g_strcmp0(kind, "discard") == 0) {
		self->hash = BENCH_HASH_NONE;
	} else {
		g_set_error(error,
			    PR_ERROR,
			    PR_ERROR_INVALID_ARGUMENT,
			    "unknown sink %s (sha256, gchecksum, discard)",
			    kind);
		return FALSE;
	}
	if (self->hash != BENCH_HASH_NONE)
		self->digests = g_byte_array_new();
	return TRUE;
}

static void
bench_fetch_store_digest(BenchFetch *self, guint32 seq, const guint8 *digest)
{
	gsize at = (gsize)(seq - 1) * BENCH_DIGEST_LEN;

	if (seq == 0 || seq > 10000000)
		return;
	if (self->digests->len < at + BENCH_DIGEST_LEN)
		g_byte_array_set_size(self->digests, (guint)(at + BENCH_DIGEST_LEN));
	memcpy(self->digests->data + at, digest, BENCH_DIGEST_LEN);
}

/* SHA-256 over the per-message digests in sequence order (streamed and in-memory bodies
 * finish in an order that depends on read boundaries; this does not), or NULL. */
static gchar *
bench_fetch_dup_digest(BenchFetch *self)
{
	guint8 digest[BENCH_DIGEST_LEN];
	BenchHasher h;
	GString *hex;

	if (self->digests == NULL || !bench_hasher_init(&h, BENCH_HASH_GNUTLS))
		return NULL;
	bench_hasher_update(&h, self->digests->data, self->digests->len);
	bench_hasher_finish(&h, digest);
	hex = g_string_sized_new(2 * sizeof(digest));
	for (guint i = 0; i < sizeof(digest); i++)
		g_string_append_printf(hex, "%02x", digest[i]);
	return g_string_free(hex, FALSE);
}

/* The literal sink ---------------------------------------------------------------------- */

typedef struct {
	guint32 seq;
	BenchHasher hasher;
} BenchLiteral;

static gpointer
bench_sink_begin(const PrImapLiteralInfo *info, gpointer user_data)
{
	BenchFetch *self = user_data;
	BenchLiteral *literal = g_new0(BenchLiteral, 1);

	self->streamed++;
	literal->seq = info->seq;
	if (self->hash != BENCH_HASH_NONE && !bench_hasher_init(&literal->hasher, self->hash))
		g_warning("cannot start SHA-256");
	return literal;
}

static gboolean
bench_sink_write(gpointer handle, const guint8 *data, gsize len, gpointer user_data, GError **error)
{
	BenchFetch *self = user_data;
	BenchLiteral *literal = handle;

	self->literal_bytes += len;
	if (self->hash != BENCH_HASH_NONE)
		bench_hasher_update(&literal->hasher, data, len);
	return TRUE;
}

static void
bench_sink_end(gpointer handle, gboolean aborted, gpointer user_data)
{
	BenchFetch *self = user_data;
	BenchLiteral *literal = handle;
	guint8 digest[BENCH_DIGEST_LEN];

	if (self->hash != BENCH_HASH_NONE) {
		bench_hasher_finish(&literal->hasher, aborted ? NULL : digest);
		if (!aborted)
			bench_fetch_store_digest(self, literal->seq, digest);
	}
	g_free(literal);
}

static const PrImapLiteralSink bench_sink = {
	.begin = bench_sink_begin,
	.write = bench_sink_write,
	.end = bench_sink_end,
};

/* Decoding ------------------------------------------------------------------------------ */

static void
bench_fetch_account(BenchFetch *self, PrImapResponse *response)
{
	g_autoptr(PrImapFetch) fetch = NULL;
	g_autoptr(GError) error = NULL;

	fetch = pr_imap_response_parse_fetch(response, &error);
	if (fetch == NULL) {
		self->decode_errors++;
		if (self->error == NULL)
			self->error = g_steal_pointer(&error);
		return;
	}
	self->messages++;
	if (!self->bodies) {
		if ((fetch->fields & HEADERS_FIELDS) != HEADERS_FIELDS || fetch->envelope == NULL)
			self->incomplete++;
		self->octets += fetch->size;
		return;
	}
	if (!(fetch->fields & PR_IMAP_FETCH_HAS_UID) || fetch->sections == NULL ||
	    fetch->sections->len == 0) {
		self->incomplete++;
		return;
	}
	for (guint i = 0; i < fetch->sections->len; i++) {
		PrImapFetchSection *section = g_ptr_array_index(fetch->sections, i);
		const gchar *data;
		gsize len = 0;

		if (section->value == NULL ||
		    pr_imap_value_get_kind(section->value) != PR_IMAP_VALUE_STRING)
			continue; /* STREAMED: the sink saw it; NIL: nothing */
		data = pr_imap_value_get_string(section->value, &len);
		self->literal_bytes += len;
		if (data != NULL && self->hash != BENCH_HASH_NONE) {
			guint8 digest[BENCH_DIGEST_LEN];
			BenchHasher h;
			if (bench_hasher_init(&h, self->hash)) {
				bench_hasher_update(&h, (const guint8 *)data, len);
				bench_hasher_finish(&h, digest);
				bench_fetch_store_digest(self, fetch->seq, digest);
			}
		}
	}
}

static void
bench_untagged_cb(PrImapClient *client, PrImapResponse *response, gpointer user_data)
{
	BenchFetch *self = user_data;
	const gchar *keyword = pr_imap_response_get_keyword(response);

	if (self->counting) {
		if (self->collect && g_strcmp0(keyword, "FETCH") == 0)
			bench_fetch_account(self, response);
		return;
	}
	if (g_strcmp0(keyword, "EXISTS") == 0)
		pr_imap_response_get_number(response, &self->exists);
}

/* The run handler: each FETCH is decoded and dropped as it arrives. */
static gboolean
bench_fetch_handler(PrImapResponse *response, gpointer user_data)
{
	BenchFetch *self = user_data;

	if (g_strcmp0(pr_imap_response_get_keyword(response), "FETCH") != 0)
		return FALSE;
	bench_fetch_account(self, response);
	return TRUE;
}

/* Waiting for async calls ---------------------------------------------------------------- */

static void
bench_async_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	GAsyncResult **slot = user_data;
	*slot = g_object_ref(res);
}

static GAsyncResult *
bench_wait(GAsyncResult **slot)
{
	while (*slot == NULL)
		g_main_context_iteration(NULL, TRUE);
	return *slot;
}

/* With @handler, through pr_imap_client_run_with_handler_async(), as a sync streams a large
 * FETCH; without, pr_imap_client_run_async(), which keeps every untagged response of the
 * command until its tagged OK. */
static gboolean
bench_run(PrImapClient *client,
	  PrImapCommand *command,
	  PrImapUntaggedFunc handler,
	  gpointer handler_data,
	  GError **error)
{
	g_autoptr(GAsyncResult) res = NULL;
	g_autoptr(PrImapResponse) response = NULL;

	if (handler != NULL) {
		pr_imap_client_run_with_handler_async(
			client, command, handler, handler_data, NULL, bench_async_cb, &res);
	} else {
		pr_imap_client_run_async(client, command, NULL, bench_async_cb, &res);
	}
	response = pr_imap_client_run_finish(client, bench_wait(&res), NULL, error);
	return response != NULL;
}

/* Bytes the kernel received so far on this process's TCP sockets (TCP_INFO): the wire
 * bytes, TLS records included, whatever the engine does with them. */
static guint64
bench_tcp_bytes_received(void)
{
	g_autoptr(GDir) dir = g_dir_open("/proc/self/fd", 0, NULL);
	const gchar *name;
	guint64 total = 0;

	if (dir == NULL)
		return 0;
	while ((name = g_dir_read_name(dir)) != NULL) {
		struct tcp_info info = { 0 };
		socklen_t len = sizeof(info);
		gint fd = atoi(name);

		if (getsockopt(fd, IPPROTO_TCP, TCP_INFO, &info, &len) != 0)
			continue;
		if (len >= G_STRUCT_OFFSET(struct tcp_info, tcpi_bytes_received) + sizeof(guint64))
			total += info.tcpi_bytes_received;
	}
	return total;
}

/* Options ------------------------------------------------------------------------------- */

typedef struct {
	gchar *host;
	gint port;
	gchar *user;
	gchar *mailbox;
	gchar *security;
	gchar *ca_file;
	gchar *mechanism;
	gboolean compress;
	gboolean bodies;
	gchar *sink;
	gchar *items;
	gchar *label;
	gchar *record;
	gdouble record_mb;
	gchar *record_items;
	gchar *enable;
	gchar *replay;
	gint iterations;
	gboolean no_decode;
	gboolean collect;
} BenchOptions;

static void
bench_options_clear(BenchOptions *o)
{
	g_free(o->host);
	g_free(o->user);
	g_free(o->mailbox);
	g_free(o->security);
	g_free(o->ca_file);
	g_free(o->mechanism);
	g_free(o->sink);
	g_free(o->items);
	g_free(o->label);
	g_free(o->record);
	g_free(o->record_items);
	g_free(o->enable);
	g_free(o->replay);
}
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(BenchOptions, bench_options_clear)

static void
bench_append_rusage(GString *out)
{
	long maxrss_kb;
	double user_s, sys_s;

	pr_bench_wire_rusage(&maxrss_kb, &user_s, &sys_s);
	g_string_append_printf(out,
			       ", \"user_s\": %.3f, \"sys_s\": %.3f, \"maxrss_kb\": %ld}",
			       user_s,
			       sys_s,
			       maxrss_kb);
}

static void
bench_append_common(GString *out, BenchFetch *self)
{
	g_autofree gchar *digest = self->bodies ? bench_fetch_dup_digest(self) : NULL;

	g_string_append_printf(
		out,
		", \"messages\": %" G_GUINT64_FORMAT ", \"literal_bytes\": %" G_GUINT64_FORMAT
		", \"octets\": %" G_GUINT64_FORMAT ", \"streamed_literals\": %" G_GUINT64_FORMAT
		", \"incomplete\": %" G_GUINT64_FORMAT ", \"decode_errors\": %" G_GUINT64_FORMAT,
		self->messages,
		self->literal_bytes,
		self->octets,
		self->streamed,
		self->incomplete,
		self->decode_errors);
	if (digest != NULL)
		g_string_append_printf(out, ", \"sha256\": \"%s\"", digest);
}

/* The engine run ------------------------------------------------------------------------ */

static gboolean
bench_engine(BenchOptions *o, GError **error)
{
	/* declared first so that it is freed after the client that points at it */
	g_auto(BenchFetch) self = { 0 };
	g_autoptr(PrImapClient) client = NULL;
	g_autoptr(PrImapCommand) examine = NULL;
	g_autoptr(PrImapCommand) fetch = NULL;
	g_autoptr(GAsyncResult) res_connect = NULL;
	g_autoptr(GAsyncResult) res_login = NULL;
	g_autoptr(GAsyncResult) res_logout = NULL;
	g_autoptr(GString) out = g_string_new(NULL);
	const gchar *password = g_getenv("PR_BENCH_PASSWORD");
	const gchar *items = o->items;
	PrImapSecurity security = PR_IMAP_SECURITY_NONE;
	guint64 rx0, rx1;
	gint64 t0, t_fetch, t_end;

	if (password == NULL) {
		g_set_error_literal(
			error, PR_ERROR, PR_ERROR_INVALID_ARGUMENT, "set PR_BENCH_PASSWORD");
		return FALSE;
	}
	if (o->security != NULL) {
		if (!pr_imap_security_from_string(o->security, &security)) {
			g_set_error(error,
				    PR_ERROR,
				    PR_ERROR_INVALID_ARGUMENT,
				    "unknown security %s",
				    o->security);
			return FALSE;
		}
	} else if (o->ca_file != NULL) {
		security = PR_IMAP_SECURITY_TLS;
	}
	if (items == NULL)
		items = o->bodies ? BODIES_ITEMS : HEADERS_ITEMS;
	self.bodies = o->bodies;
	self.collect = o->collect;
	if (!bench_fetch_set_sink(&self, o->sink != NULL ? o->sink : "sha256", error))
		return FALSE;

	client = pr_imap_client_new(o->host, (guint16)o->port, security);
	if (o->ca_file != NULL && !pr_imap_client_set_ca_file(client, o->ca_file, error))
		return FALSE;
	pr_imap_client_set_compress(client, o->compress);
	pr_imap_client_set_literal_sink(client, &bench_sink, &self, NULL);
	g_signal_connect(client, "untagged", G_CALLBACK(bench_untagged_cb), &self);

	t0 = g_get_monotonic_time();
	pr_imap_client_connect_async(client, NULL, bench_async_cb, &res_connect);
	if (!pr_imap_client_connect_finish(client, bench_wait(&res_connect), error))
		return FALSE;
	pr_imap_client_login_async(
		client, o->user, password, o->mechanism, NULL, bench_async_cb, &res_login);
	if (!pr_imap_client_login_finish(client, bench_wait(&res_login), error))
		return FALSE;
	examine = pr_imap_command_new("EXAMINE");
	if (!pr_imap_command_add_mailbox(examine, o->mailbox, error))
		return FALSE;
	if (!bench_run(client, examine, NULL, NULL, error))
		return FALSE;

	fetch = pr_imap_command_new("UID FETCH");
	pr_imap_command_add_atom(fetch, "1:*");
	pr_imap_command_add_atom(fetch, items);
	rx0 = bench_tcp_bytes_received();
	self.counting = TRUE;
	t_fetch = g_get_monotonic_time();
	if (!bench_run(client, fetch, o->collect ? NULL : bench_fetch_handler, &self, error))
		return FALSE;
	t_end = g_get_monotonic_time();
	self.counting = FALSE;
	rx1 = bench_tcp_bytes_received();

	pr_imap_client_logout_async(client, NULL, bench_async_cb, &res_logout);
	pr_imap_client_logout_finish(client, bench_wait(&res_logout), NULL);
	g_signal_handlers_disconnect_by_data(client, &self);

	g_string_append_printf(out,
			       "{\"client\": \"%s\", \"mode\": \"%s\", \"security\": \"%s\", "
			       "\"api\": \"%s\"",
			       o->label != NULL ? o->label : "engine",
			       o->bodies ? "bodies" : "headers",
			       pr_imap_security_to_string(security),
			       o->collect ? "run_async" : "run_with_handler_async");
	bench_append_common(out, &self);
	g_string_append_printf(out,
			       ", \"exists\": %u, \"bytes\": %" G_GUINT64_FORMAT
			       ", \"seconds\": %.6f, \"fetch_seconds\": %.6f",
			       self.exists,
			       rx1 - rx0,
			       (gdouble)(t_end - t0) / G_USEC_PER_SEC,
			       (gdouble)(t_end - t_fetch) / G_USEC_PER_SEC);
	bench_append_rusage(out);
	g_print("%s\n", out->str);

	if (self.error != NULL) {
		g_propagate_prefixed_error(error,
					   g_steal_pointer(&self.error),
					   "%" G_GUINT64_FORMAT
					   " FETCH responses failed to decode: ",
					   self.decode_errors);
		return FALSE;
	}
	if (self.messages != self.exists || self.incomplete > 0) {
		g_set_error(error,
			    PR_ERROR,
			    PR_ERROR_PROTOCOL_ERROR,
			    "decoded %" G_GUINT64_FORMAT " of %u messages, %" G_GUINT64_FORMAT
			    " incomplete",
			    self.messages,
			    self.exists,
			    self.incomplete);
		return FALSE;
	}
	return TRUE;
}

/* Recording a raw FETCH stream (bare socket) ------------------------------------------- */

typedef struct {
	GArray *sizes; /* guint64 pairs: uid, size */
	FILE *fp;
	guint64 written;
} BenchRecord;

static guint64
bench_line_number_after(const char *line, size_t len, const char *key)
{
	const gchar *p = g_strstr_len(line, (gssize)len, key);
	if (p == NULL)
		return 0;
	return g_ascii_strtoull(p + strlen(key), NULL, 10);
}

static void
bench_record_line(const char *line, size_t len, void *user_data)
{
	BenchRecord *rec = user_data;
	guint64 pair[2];

	pair[0] = bench_line_number_after(line, len, "UID ");
	pair[1] = bench_line_number_after(line, len, "RFC822.SIZE ");
	if (pair[0] != 0)
		g_array_append_vals(rec->sizes, pair, 2);
}

static int
bench_record_tap(const uint8_t *data, size_t len, void *user_data)
{
	BenchRecord *rec = user_data;
	if (fwrite(data, 1, len, rec->fp) != len)
		return -1;
	rec->written += len;
	return 0;
}

static gboolean
bench_wire_error(PrBenchWire *wire, const gchar *what, GError **error)
{
	g_set_error(
		error, PR_ERROR, PR_ERROR_FAILED, "%s: %s", what, pr_bench_wire_get_error(wire));
	pr_bench_wire_free(wire);
	return FALSE;
}

static gboolean
bench_record(BenchOptions *o, GError **error)
{
	const gchar *password = g_getenv("PR_BENCH_PASSWORD");
	g_autoptr(GArray) sizes = g_array_new(FALSE, FALSE, sizeof(guint64));
	g_autofree gchar *range = g_strdup("1:*");
	g_autofree gchar *command = NULL;
	g_autofree gchar *vbuf = NULL;
	BenchRecord rec = { 0 };
	PrBenchWireStats stats = { 0 };
	PrBenchWire *wire;
	gchar buf[2048] = "LOGIN ";
	gchar reason[512] = "";
	gdouble t0, t1;
	gint rc;

	if (password == NULL) {
		g_set_error_literal(
			error, PR_ERROR, PR_ERROR_INVALID_ARGUMENT, "set PR_BENCH_PASSWORD");
		return FALSE;
	}
	wire = pr_bench_wire_connect(o->host, o->port, reason, sizeof(reason));
	if (wire == NULL) {
		g_set_error_literal(error, PR_ERROR, PR_ERROR_CONNECT_FAILED, reason);
		return FALSE;
	}
	if (pr_bench_wire_greeting(wire) != 0)
		return bench_wire_error(wire, "greeting", error);
	if (pr_bench_wire_quote(buf, sizeof(buf), o->user) != 0 ||
	    g_strlcat(buf, " ", sizeof(buf)) >= sizeof(buf) ||
	    pr_bench_wire_quote(buf, sizeof(buf), password) != 0) {
		g_set_error_literal(error,
				    PR_ERROR,
				    PR_ERROR_INVALID_ARGUMENT,
				    "the user or password cannot be sent as a quoted string");
		pr_bench_wire_free(wire);
		return FALSE;
	}
	rc = pr_bench_wire_command(wire, buf, NULL, NULL, NULL, NULL);
	memset(buf, 0, sizeof(buf));
	if (rc != 0)
		return bench_wire_error(wire, "LOGIN", error);
	if (g_strcmp0(o->enable, "none") != 0) {
		command = g_strdup_printf("ENABLE %s", o->enable != NULL ? o->enable : "QRESYNC");
		if (pr_bench_wire_command(wire, command, NULL, NULL, NULL, NULL) != 0)
			return bench_wire_error(wire, "ENABLE", error);
		g_clear_pointer(&command, g_free);
	}
	g_strlcpy(buf, "EXAMINE ", sizeof(buf));
	if (pr_bench_wire_quote(buf, sizeof(buf), o->mailbox) != 0) {
		g_set_error_literal(error, PR_ERROR, PR_ERROR_INVALID_ARGUMENT, "bad mailbox");
		pr_bench_wire_free(wire);
		return FALSE;
	}
	if (pr_bench_wire_command(wire, buf, NULL, NULL, NULL, NULL) != 0)
		return bench_wire_error(wire, "EXAMINE", error);

	if (o->record_mb > 0) {
		guint64 total = 0;
		guint64 limit = (guint64)(o->record_mb * 1e6);
		guint64 last = 0;

		rec.sizes = sizes;
		if (pr_bench_wire_command(wire,
					  "UID FETCH 1:* (UID RFC822.SIZE)",
					  NULL,
					  bench_record_line,
					  NULL,
					  &rec) != 0)
			return bench_wire_error(wire, "UID FETCH sizes", error);
		for (guint i = 0; i + 1 < sizes->len && total < limit; i += 2) {
			last = g_array_index(sizes, guint64, i);
			total += g_array_index(sizes, guint64, i + 1);
		}
		if (last > 0 && total >= limit) {
			g_free(range);
			range = g_strdup_printf("1:%" G_GUINT64_FORMAT, last);
		}
	}

	rec.fp = fopen(o->record, "wb");
	if (rec.fp == NULL) {
		g_set_error(error,
			    G_IO_ERROR,
			    g_io_error_from_errno(errno),
			    "%s: %s",
			    o->record,
			    g_strerror(errno));
		pr_bench_wire_free(wire);
		return FALSE;
	}
	vbuf = g_malloc(1024 * 1024);
	setvbuf(rec.fp, vbuf, _IOFBF, 1024 * 1024);
	command = g_strdup_printf(
		"UID FETCH %s %s", range, o->record_items != NULL ? o->record_items : RECORD_ITEMS);
	t0 = pr_bench_wire_now();
	rc = pr_bench_wire_command(wire, command, &stats, NULL, bench_record_tap, &rec);
	t1 = pr_bench_wire_now();
	if (fclose(rec.fp) != 0 && rc == 0) {
		g_set_error(error, PR_ERROR, PR_ERROR_FAILED, "%s: write failed", o->record);
		pr_bench_wire_free(wire);
		return FALSE;
	}
	if (rc != 0)
		return bench_wire_error(wire, "UID FETCH", error);
	pr_bench_wire_command(wire, "LOGOUT", NULL, NULL, NULL, NULL);
	pr_bench_wire_free(wire);
	g_print("{\"client\": \"record\", \"file\": \"%s\", \"command\": \"%s\", \"messages\": "
		"%" G_GUINT64_FORMAT ", \"bytes\": %" G_GUINT64_FORMAT
		", \"literal_bytes\": %" G_GUINT64_FORMAT ", \"fetch_seconds\": %.6f}\n",
		o->record,
		command,
		stats.fetches,
		rec.written,
		stats.literal_bytes,
		t1 - t0);
	return TRUE;
}

/* Replaying a recorded stream through the parser -------------------------------------- */

static gint
bench_compare_double(gconstpointer a, gconstpointer b)
{
	gdouble x = *(const gdouble *)a;
	gdouble y = *(const gdouble *)b;
	return (x > y) - (x < y);
}

/* CPU seconds of this thread: unlike the wall clock, not inflated by other processes
 * sharing the core. */
static gdouble
bench_thread_cpu(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (gdouble)ts.tv_sec + (gdouble)ts.tv_nsec / 1e9;
}

static gboolean
bench_replay(BenchOptions *o, GError **error)
{
	g_auto(BenchFetch) self = { 0 };
	g_autofree gchar *data = NULL;
	g_autofree gdouble *times = NULL;
	g_autofree gdouble *cpu = NULL;
	g_autoptr(GString) out = g_string_new(NULL);
	gint iterations = MAX(o->iterations, 1);
	guint64 responses = 0;
	gsize len = 0;
	gdouble total = 0;
	gdouble median;

	if (!g_file_get_contents(o->replay, &data, &len, error))
		return FALSE;
	self.bodies = o->bodies;
	if (!bench_fetch_set_sink(&self, o->sink, error))
		return FALSE;
	times = g_new0(gdouble, iterations);
	cpu = g_new0(gdouble, iterations);
	for (gint it = 0; it < iterations; it++) {
		g_autoptr(PrImapParser) parser = pr_imap_parser_new();
		gint64 t0 = g_get_monotonic_time();
		gdouble c0 = bench_thread_cpu();

		pr_imap_parser_set_sink(parser, &bench_sink, &self, NULL);
		for (gsize off = 0; off < len; off += CHUNK_SIZE) {
			PrImapResponse *response;
			gsize n = MIN(CHUNK_SIZE, len - off);

			if (!pr_imap_parser_feed(parser, (const guint8 *)data + off, n, error)) {
				g_prefix_error(error, "at byte %" G_GSIZE_FORMAT ": ", off);
				return FALSE;
			}
			while ((response = pr_imap_parser_pop(parser)) != NULL) {
				g_autoptr(PrImapResponse) owned = response;
				responses++;
				if (!o->no_decode &&
				    g_strcmp0(pr_imap_response_get_keyword(owned), "FETCH") == 0)
					bench_fetch_account(&self, owned);
			}
		}
		times[it] = (gdouble)(g_get_monotonic_time() - t0) / G_USEC_PER_SEC;
		cpu[it] = bench_thread_cpu() - c0;
		total += times[it];
		if (pr_imap_parser_get_pending(parser) != 0) {
			g_set_error(error,
				    PR_ERROR,
				    PR_ERROR_PROTOCOL_ERROR,
				    "%" G_GSIZE_FORMAT " bytes left over: a truncated stream?",
				    pr_imap_parser_get_pending(parser));
			return FALSE;
		}
	}
	qsort(times, (gsize)iterations, sizeof(gdouble), bench_compare_double);
	qsort(cpu, (gsize)iterations, sizeof(gdouble), bench_compare_double);
	median = times[iterations / 2];
	g_string_append_printf(out,
			       "{\"client\": \"%s\", \"mode\": \"%s\", \"file\": \"%s\", "
			       "\"iterations\": %d, \"responses\": %" G_GUINT64_FORMAT,
			       o->label != NULL ? o->label : "replay",
			       o->no_decode ? "parse" : "parse+decode",
			       o->replay,
			       iterations,
			       responses / (guint64)iterations);
	self.messages /= (guint64)iterations;
	self.literal_bytes /= (guint64)iterations;
	self.octets /= (guint64)iterations;
	self.streamed /= (guint64)iterations;
	self.incomplete /= (guint64)iterations;
	bench_append_common(out, &self);
	g_string_append_printf(out,
			       ", \"bytes\": %" G_GSIZE_FORMAT
			       ", \"seconds\": %.6f, \"median_seconds\": %.6f"
			       ", \"mb_s\": %.1f, \"mb_s_best\": %.1f, \"cpu_seconds\": %.6f"
			       ", \"mb_s_cpu\": %.1f",
			       len,
			       total,
			       median,
			       (gdouble)len / 1e6 / median,
			       (gdouble)len / 1e6 / times[0],
			       cpu[iterations / 2],
			       (gdouble)len / 1e6 / MAX(cpu[iterations / 2], 1e-9));
	bench_append_rusage(out);
	g_print("%s\n", out->str);
	if (self.error != NULL) {
		g_propagate_prefixed_error(error,
					   g_steal_pointer(&self.error),
					   "%" G_GUINT64_FORMAT
					   " FETCH responses failed to decode: ",
					   self.decode_errors);
		return FALSE;
	}
	return TRUE;
}

int
main(int argc, char **argv)
{
	g_auto(BenchOptions) o = { 0 };
	g_autoptr(GOptionContext) context = NULL;
	g_autoptr(GError) error = NULL;
	gboolean ok;
	const GOptionEntry entries[] = {
		{ "host",
		  0,
		  0,
		  G_OPTION_ARG_STRING,
		  &o.host,
		  "Server (default 127.0.0.1)",
		  "ADDR" },
		{ "port", 'p', 0, G_OPTION_ARG_INT, &o.port, "Server port", "PORT" },
		{ "user", 'u', 0, G_OPTION_ARG_STRING, &o.user, "User (or PR_BENCH_USER)", "USER" },
		{ "mailbox", 'm', 0, G_OPTION_ARG_STRING, &o.mailbox, "Mailbox (INBOX)", "NAME" },
		{ "security",
		  0,
		  0,
		  G_OPTION_ARG_STRING,
		  &o.security,
		  "none, tls or starttls (default none; tls with --ca-file)",
		  "MODE" },
		{ "ca-file",
		  0,
		  0,
		  G_OPTION_ARG_FILENAME,
		  &o.ca_file,
		  "Trust this CA (PEM)",
		  "FILE" },
		{ "mechanism",
		  0,
		  0,
		  G_OPTION_ARG_STRING,
		  &o.mechanism,
		  "SASL mechanism setting (default auto)",
		  "MECH" },
		{ "compress",
		  0,
		  0,
		  G_OPTION_ARG_NONE,
		  &o.compress,
		  "COMPRESS=DEFLATE if offered",
		  NULL },
		{ "bodies", 0, 0, G_OPTION_ARG_NONE, &o.bodies, "Fetch BODY.PEEK[] instead", NULL },
		{ "sink",
		  0,
		  0,
		  G_OPTION_ARG_STRING,
		  &o.sink,
		  "sha256 (GnuTLS), gchecksum (GLib) or discard (default sha256; --replay discard)",
		  "KIND" },
		{ "items",
		  0,
		  0,
		  G_OPTION_ARG_STRING,
		  &o.items,
		  "FETCH items instead of the mode's",
		  "ITEMS" },
		{ "label",
		  0,
		  0,
		  G_OPTION_ARG_STRING,
		  &o.label,
		  "\"client\" in the output",
		  "NAME" },
		{ "record",
		  0,
		  0,
		  G_OPTION_ARG_FILENAME,
		  &o.record,
		  "Record a raw FETCH stream",
		  "FILE" },
		{ "record-mb",
		  0,
		  0,
		  G_OPTION_ARG_DOUBLE,
		  &o.record_mb,
		  "Only the first messages adding up to MB (default all)",
		  "MB" },
		{ "record-items",
		  0,
		  0,
		  G_OPTION_ARG_STRING,
		  &o.record_items,
		  "Items to record (default " RECORD_ITEMS ")",
		  "ITEMS" },
		{ "enable",
		  0,
		  0,
		  G_OPTION_ARG_STRING,
		  &o.enable,
		  "--record: ENABLE this after LOGIN, or none (default QRESYNC, as the engine)",
		  "EXT" },
		{ "replay",
		  0,
		  0,
		  G_OPTION_ARG_FILENAME,
		  &o.replay,
		  "Parse a recorded stream",
		  "FILE" },
		{ "iterations", 0, 0, G_OPTION_ARG_INT, &o.iterations, "--replay passes (5)", "N" },
		{ "no-decode",
		  0,
		  0,
		  G_OPTION_ARG_NONE,
		  &o.no_decode,
		  "--replay: parse only",
		  NULL },
		{ "collect",
		  0,
		  0,
		  G_OPTION_ARG_NONE,
		  &o.collect,
		  "Decode from the \"untagged\" signal under run_async (keeps every response "
		  "until the tagged OK) instead of a run_with_handler_async handler",
		  NULL },
		{ NULL },
	};

	context = g_option_context_new("- engine fetch benchmark");
	g_option_context_set_description(context,
					 "The password comes from PR_BENCH_PASSWORD, never the "
					 "command line. Prints one JSON line.");
	g_option_context_add_main_entries(context, entries, NULL);
	if (!g_option_context_parse(context, &argc, &argv, &error)) {
		g_printerr("pr-bench-fetch: %s\n", error->message);
		return 2;
	}
	if (o.host == NULL)
		o.host = g_strdup("127.0.0.1");
	if (o.mailbox == NULL)
		o.mailbox = g_strdup("INBOX");
	if (o.mechanism == NULL)
		o.mechanism = g_strdup("auto");
	if (o.user == NULL)
		o.user = g_strdup(g_getenv("PR_BENCH_USER"));
	if (o.iterations == 0)
		o.iterations = 5;

	if (o.replay != NULL) {
		ok = bench_replay(&o, &error);
	} else if (o.port <= 0 || o.port > 65535 || o.user == NULL) {
		g_printerr("pr-bench-fetch: --port and --user (or PR_BENCH_USER) are needed\n");
		return 2;
	} else if (o.record != NULL) {
		ok = bench_record(&o, &error);
	} else {
		ok = bench_engine(&o, &error);
	}
	if (!ok) {
		g_printerr("pr-bench-fetch: %s\n", error->message);
		return 1;
	}
	return 0;
}
