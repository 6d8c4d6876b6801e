/*
 * Copyright 2026 The Postroom developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Parser throughput: feeds a recorded FETCH stream through PrImapParser in 16 KiB chunks
 * (as a socket read would deliver it) with a literal sink that discards the bytes, N times,
 * and prints MB/s on one core and responses/s. --generate writes a synthetic stream when
 * no recording is at hand.
 *
 * --threshold BYTES: the parser's inline_threshold (default 64 KiB: smaller literals are
 * copied into the response, larger ones streamed); 0 streams every literal.
 * --touch: the sink reads every byte (a cheap rolling sum), a floor for a hashing consumer.
 * --decode: also run pr_imap_response_parse_fetch() on every response.
 */
#define G_LOG_DOMAIN "PrBench"

#include <stdlib.h>
#include <string.h>

#include "pr-imap-parser.h"

#define PR_BENCH_CHUNK (16 * 1024)

typedef struct {
	guint64 literal_bytes;
	guint64 literals;
	gboolean touch; /* read every byte, as a hash would */
	guint64 sum;
} PrBenchSink;

static gpointer
pr_bench_sink_begin(const PrImapLiteralInfo *info, gpointer user_data)
{
	PrBenchSink *sink = user_data;
	sink->literals++;
	return sink;
}

static gboolean
pr_bench_sink_write(gpointer handle,
		    const guint8 *data,
		    gsize len,
		    gpointer user_data,
		    GError **error)
{
	PrBenchSink *sink = user_data;

	sink->literal_bytes += len;
	if (sink->touch) {
		guint64 sum = sink->sum;
		for (gsize i = 0; i < len; i++)
			sum = sum * 31 + data[i];
		sink->sum = sum;
	}
	return TRUE;
}

static void
pr_bench_sink_end(gpointer handle, gboolean aborted, gpointer user_data)
{
}

static const PrImapLiteralSink pr_bench_sink = {
	pr_bench_sink_begin,
	pr_bench_sink_write,
	pr_bench_sink_end,
};

static const gchar *const pr_bench_words[] = {
	"the",	    "report",  "quarter", "meeting", "budget",	 "please", "review",
	"attached", "numbers", "team",	  "project", "deadline", "thanks", "regards",
	"update",   "server",  "mailbox", "sync",    "message",	 "draft",  "schedule",
};

/* An RFC 5322 message of about @size bytes: headers, text, sometimes a base64 part. */
static void
pr_bench_message(GString *out, GRand *rand, guint n, gsize size)
{
	g_string_append_printf(out,
			       "Return-Path: <sender%u@example.test>\r\n"
			       "Date: Tue, 14 Nov 2023 %02u:%02u:07 +0000\r\n"
			       "From: \"Sender %u\" <sender%u@example.test>\r\n"
			       "To: =?utf-8?b?0JTQvNC40YLRgNC40Lkg0JjQstCw0L3QvtCy?= "
			       "<dmitri@example.test>\r\n"
			       "Subject: Quarterly report #%u\r\n"
			       "Message-ID: <%u.bench@postroom.test>\r\n"
			       "MIME-Version: 1.0\r\n",
			       n % 97,
			       n % 24,
			       n % 60,
			       n % 97,
			       n % 97,
			       n,
			       n);
	if (n % 3 == 0) {
		gsize half = size / 2;
		g_string_append(out,
				"Content-Type: multipart/mixed; boundary=\"b1\"\r\n\r\n"
				"--b1\r\nContent-Type: text/plain; charset=us-ascii\r\n\r\n");
		while (out->len < half) {
			g_string_append(out,
					pr_bench_words[g_rand_int_range(
						rand, 0, G_N_ELEMENTS(pr_bench_words))]);
			g_string_append(out, out->len % 72 < 8 ? "\r\n" : " ");
		}
		g_string_append(out,
				"\r\n--b1\r\nContent-Type: application/pdf; name=\"r.pdf\"\r\n"
				"Content-Disposition: attachment; filename=\"r.pdf\"\r\n"
				"Content-Transfer-Encoding: base64\r\n\r\n");
		while (out->len < size) {
			guint8 raw[57];
			g_autofree gchar *b64 = NULL;
			for (guint i = 0; i < sizeof(raw); i++)
				raw[i] = (guint8)g_rand_int(rand);
			b64 = g_base64_encode(raw, sizeof(raw));
			g_string_append_printf(out, "%s\r\n", b64);
		}
		g_string_append(out, "--b1--\r\n");
		return;
	}
	g_string_append(out, "Content-Type: text/plain; charset=us-ascii\r\n\r\n");
	while (out->len < size) {
		g_string_append(
			out,
			pr_bench_words[g_rand_int_range(rand, 0, G_N_ELEMENTS(pr_bench_words))]);
		g_string_append(out, out->len % 72 < 8 ? "\r\n" : " ");
	}
	g_string_append(out, "\r\n");
}

static gboolean
pr_bench_generate(const gchar *path, guint size_mb, GError **error)
{
	g_autoptr(GRand) rand = g_rand_new_with_seed(20261125);
	g_autoptr(GString) out = g_string_sized_new((gsize)size_mb * 1024 * 1024 + 65536);
	g_autoptr(GString) msg = g_string_sized_new(128 * 1024);
	guint n = 0;

	while (out->len < (gsize)size_mb * 1024 * 1024) {
		/* 20 to 70 KB, about 45 KB on average */
		gsize size = (gsize)g_rand_int_range(rand, 20 * 1024, 70 * 1024);
		n++;
		g_string_truncate(msg, 0);
		pr_bench_message(msg, rand, n, size);
		g_string_append_printf(out,
				       "* %u FETCH (UID %u FLAGS (\\Seen) BODY[] {%" G_GSIZE_FORMAT
				       "}\r\n",
				       n,
				       n,
				       msg->len);
		g_string_append_len(out, msg->str, (gssize)msg->len);
		g_string_append(out, ")\r\n");
	}
	g_string_append(out, "A1 OK Fetch completed.\r\n");
	if (!g_file_set_contents(path, out->str, (gssize)out->len, error))
		return FALSE;
	g_print("wrote %u messages, %" G_GSIZE_FORMAT " bytes to %s\n", n, out->len, path);
	return TRUE;
}

static gboolean
pr_bench_run(const gchar *path,
	     guint rounds,
	     gssize threshold,
	     gboolean decode,
	     gboolean touch,
	     GError **error)
{
	g_autofree gchar *data = NULL;
	gsize len = 0;
	PrBenchSink sink = { 0 };
	guint64 responses = 0;
	guint64 decoded = 0;
	gint64 start;
	gdouble secs;
	gdouble mb;

	if (!g_file_get_contents(path, &data, &len, error))
		return FALSE;
	sink.touch = touch;
	start = g_get_monotonic_time();
	for (guint round = 0; round < rounds; round++) {
		g_autoptr(PrImapParser) parser = pr_imap_parser_new();
		PrImapResponse *r;

		if (threshold >= 0) {
			PrImapParserLimits limits;
			pr_imap_parser_get_limits(parser, &limits);
			limits.inline_threshold = (gsize)threshold;
			pr_imap_parser_set_limits(parser, &limits);
		}
		pr_imap_parser_set_sink(parser, &pr_bench_sink, &sink, NULL);
		for (gsize off = 0; off < len; off += PR_BENCH_CHUNK) {
			if (!pr_imap_parser_feed(parser,
						 (const guint8 *)data + off,
						 MIN(PR_BENCH_CHUNK, len - off),
						 error))
				return FALSE;
			while ((r = pr_imap_parser_pop(parser)) != NULL) {
				if (decode) {
					g_autoptr(PrImapFetch) f =
						pr_imap_response_parse_fetch(r, NULL);
					if (f != NULL)
						decoded++;
				}
				responses++;
				pr_imap_response_unref(r);
			}
		}
	}
	secs = (gdouble)(g_get_monotonic_time() - start) / G_USEC_PER_SEC;
	mb = (gdouble)len * rounds / (1024.0 * 1024.0);
	g_print("%s: %.1f MiB x %u in %.3f s\n",
		path,
		(gdouble)len / (1024.0 * 1024.0),
		rounds,
		secs);
	g_print("  %.1f MB/s (MiB/s), %.0f responses/s, %" G_GUINT64_FORMAT
		" responses, %" G_GUINT64_FORMAT " literals streamed (%" G_GUINT64_FORMAT
		" bytes)\n",
		mb / secs,
		(gdouble)responses / secs,
		responses,
		sink.literals,
		sink.literal_bytes);
	if (touch)
		g_print("  checksum of the streamed bytes: %016" G_GINT64_MODIFIER "x\n", sink.sum);
	if (decode)
		g_print("  %" G_GUINT64_FORMAT " FETCH responses decoded\n", decoded);
	return TRUE;
}

int
main(int argc, char **argv)
{
	g_autoptr(GError) error = NULL;
	gssize threshold = -1;
	gboolean decode = FALSE;
	gboolean touch = FALSE;
	const gchar *path = NULL;
	guint rounds = 5;

	if (argc == 4 && g_strcmp0(argv[1], "--generate") == 0) {
		guint64 size_mb = 0;
		if (!g_ascii_string_to_unsigned(argv[3], 10, 1, 4096, &size_mb, &error) ||
		    !pr_bench_generate(argv[2], (guint)size_mb, &error)) {
			g_printerr("%s\n", error->message);
			return 1;
		}
		return 0;
	}
	for (gint i = 1; i < argc; i++) {
		if (g_strcmp0(argv[i], "--threshold") == 0 && i + 1 < argc) {
			threshold = (gssize)g_ascii_strtoll(argv[++i], NULL, 10);
		} else if (g_strcmp0(argv[i], "--decode") == 0) {
			decode = TRUE;
		} else if (g_strcmp0(argv[i], "--touch") == 0) {
			touch = TRUE;
		} else if (path == NULL) {
			path = argv[i];
		} else {
			rounds = (guint)MAX(1, g_ascii_strtoll(argv[i], NULL, 10));
		}
	}
	if (path == NULL) {
		g_printerr("usage: %s FILE [N] [--threshold BYTES] [--decode] [--touch]\n"
			   "       %s --generate FILE SIZE_MB\n",
			   argv[0],
			   argv[0]);
		return 2;
	}
	if (!pr_bench_run(path, rounds, threshold, decode, touch, &error)) {
		g_printerr("%s\n", error->message);
		return 1;
	}
	return 0;
}
