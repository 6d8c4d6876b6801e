/*
 * Copyright 2026 The Postroom developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Fuzz target for the IMAP response parser and every typed decoder. The first input byte
 * picks how the rest is split into feeds and which limits apply, so one corpus exercises
 * byte-at-a-time feeding, streamed and in-memory literals, and the reset path.
 */
#include <stdlib.h>
#include <string.h>

#include "pr-error.h"
#include "pr-imap-parser.h"

int LLVMFuzzerTestOneInput(const guint8 *data, gsize size);

static gpointer
fuzz_sink_begin(const PrImapLiteralInfo *info, gpointer user_data)
{
	/* odd sizes are refused so the in-memory fallback runs as well */
	if (info->size % 2 == 1)
		return NULL;
	return user_data;
}

static gboolean
fuzz_sink_write(gpointer handle, const guint8 *data, gsize len, gpointer user_data, GError **error)
{
	/* a failing sink now and then, as a full disk would */
	if (len > 0 && data[0] == 0xfe) {
		g_set_error_literal(error, G_FILE_ERROR, G_FILE_ERROR_NOSPC, "sink failed");
		return FALSE;
	}
	return TRUE;
}

static void
fuzz_sink_end(gpointer handle, gboolean aborted, gpointer user_data)
{
}

static void
fuzz_log_handler(const gchar *domain, GLogLevelFlags level, const gchar *message, gpointer data)
{
	if (level & (G_LOG_LEVEL_ERROR | G_LOG_LEVEL_CRITICAL | G_LOG_LEVEL_WARNING)) {
		g_printerr("%s: %s\n", domain != NULL ? domain : "", message);
		abort();
	}
}

static const PrImapLiteralSink fuzz_sink = { fuzz_sink_begin, fuzz_sink_write, fuzz_sink_end };

static void
fuzz_check_utf8(const gchar *s)
{
	if (s != NULL)
		g_assert_true(g_utf8_validate(s, -1, NULL));
}

static void
fuzz_check_strv(gchar **v)
{
	for (guint i = 0; v != NULL && v[i] != NULL; i++)
		fuzz_check_utf8(v[i]);
}

static void
fuzz_check_set(const gchar *set)
{
	/* decoders only hand out plain number sets */
	for (const gchar *p = set; p != NULL && *p != '\0'; p++)
		g_assert_true(g_ascii_isdigit(*p) || *p == ',' || *p == ':');
}

static void
fuzz_fetch(PrImapResponse *r)
{
	g_autoptr(PrImapFetch) fetch = pr_imap_response_parse_fetch(r, NULL);

	if (fetch == NULL)
		return;
	fuzz_check_strv(fetch->flags);
	if (fetch->envelope != NULL) {
		GPtrArray *lists[] = { fetch->envelope->from,	  fetch->envelope->sender,
				       fetch->envelope->reply_to, fetch->envelope->to,
				       fetch->envelope->cc,	  fetch->envelope->bcc };
		for (guint i = 0; i < G_N_ELEMENTS(lists); i++) {
			for (guint j = 0; j < lists[i]->len; j++) {
				g_autofree gchar *s = pr_imap_address_to_string(lists[i]->pdata[j]);
				fuzz_check_utf8(s);
			}
		}
		fuzz_check_utf8(fetch->envelope->subject);
		fuzz_check_utf8(fetch->envelope->message_id);
	}
	for (guint i = 0; i < fetch->sections->len; i++) {
		PrImapFetchSection *s = g_ptr_array_index(fetch->sections, i);
		g_autofree gchar *str = pr_imap_value_to_string(s->value);
		fuzz_check_utf8(str);
		fuzz_check_utf8(s->section);
	}
}

static void
fuzz_response(PrImapResponse *r)
{
	static const gchar *const codes[] = { "UIDVALIDITY", "UIDNEXT", "UNSEEN", "HIGHESTMODSEQ" };
	g_autofree gchar *str = pr_imap_response_to_string(r);
	g_autofree gchar *data = pr_imap_value_to_string(pr_imap_response_get_data(r));
	g_auto(GStrv) caps = pr_imap_response_dup_capabilities(r);
	g_auto(GStrv) flags = pr_imap_response_dup_flags(r);
	g_auto(GStrv) enabled = pr_imap_response_dup_enabled(r);
	g_autoptr(PrImapListEntry) list = pr_imap_response_parse_list(r, FALSE, NULL);
	g_autoptr(PrImapListEntry) list8 = pr_imap_response_parse_list(r, TRUE, NULL);
	g_autoptr(PrImapStatusInfo) status = pr_imap_response_parse_status(r, FALSE, NULL);
	g_autoptr(PrImapStatusInfo) status8 = pr_imap_response_parse_status(r, TRUE, NULL);
	g_autoptr(GArray) search = NULL;
	g_autoptr(PrImapEsearch) esearch = pr_imap_response_parse_esearch(r, NULL);
	g_autoptr(GHashTable) id = pr_imap_response_parse_id(r, NULL);
	g_autoptr(PrImapNamespaces) ns = pr_imap_response_parse_namespace(r, FALSE, NULL);
	g_autofree gchar *vanished = NULL;
	g_autofree gchar *uids = NULL;
	g_autofree gchar *src = NULL;
	g_autofree gchar *dst = NULL;
	guint64 modseq = 0;
	guint64 number = 0;
	guint32 validity = 0;
	gboolean earlier = FALSE;

	fuzz_check_utf8(str);
	fuzz_check_utf8(data);
	fuzz_check_utf8(pr_imap_response_get_text(r));
	fuzz_check_strv(caps);
	fuzz_check_strv(flags);
	fuzz_check_strv(enabled);
	if (pr_imap_response_get_code_args(r) != NULL) {
		g_autofree gchar *args = pr_imap_value_to_string(pr_imap_response_get_code_args(r));
		fuzz_check_utf8(args);
	}
	if (list != NULL) {
		fuzz_check_utf8(list->name);
		fuzz_check_strv(list->attributes);
		fuzz_check_utf8(list->old_name);
	}
	if (list8 != NULL)
		fuzz_check_utf8(list8->name);
	if (status != NULL)
		fuzz_check_utf8(status->name);
	if (status8 != NULL)
		fuzz_check_utf8(status8->name);
	if (esearch != NULL) {
		fuzz_check_utf8(esearch->tag);
		fuzz_check_set(esearch->all);
	}
	if (id != NULL)
		g_assert_cmpuint(g_hash_table_size(id), <, G_MAXUINT);
	if (ns != NULL)
		g_assert_true(ns->personal != NULL && ns->other != NULL && ns->shared != NULL);
	search = pr_imap_response_parse_search(r, &modseq, NULL);
	vanished = pr_imap_response_parse_vanished(r, &earlier, NULL);
	fuzz_check_set(vanished);
	for (guint i = 0; i < G_N_ELEMENTS(codes); i++)
		pr_imap_response_get_code_number(r, codes[i], &number);
	if (pr_imap_response_parse_appenduid(r, &validity, &uids, NULL))
		fuzz_check_set(uids);
	if (pr_imap_response_parse_copyuid(r, &validity, &src, &dst, NULL)) {
		fuzz_check_set(src);
		fuzz_check_set(dst);
	}
	fuzz_fetch(r);
}

int
LLVMFuzzerTestOneInput(const guint8 *data, gsize size)
{
	static const gsize splits[] = { 1, 2, 3, 7, 16, 64, 4096, G_MAXSIZE };
	g_autoptr(PrImapParser) parser = NULL;
	PrImapParserLimits limits;
	PrImapResponse *r;
	gsize split;
	gsize off = 0;

	/* a critical from a decoder is a bug the fuzzer must report: abort() (which libFuzzer
	 * catches and saves) rather than GLib's fatal path, which raises SIGTRAP */
	g_log_set_default_handler(fuzz_log_handler, NULL);
	if (size < 1)
		return 0;
	split = splits[data[0] & 7];
	parser = pr_imap_parser_new();
	pr_imap_parser_get_limits(parser, &limits);
	/* small bounds so fuzzing reaches them */
	if (data[0] & 8) {
		limits.inline_threshold = 8;
		limits.max_inline_literal = 4096;
		limits.max_line = 8192;
		limits.max_depth = 8;
		limits.max_items = 256;
	}
	pr_imap_parser_set_limits(parser, &limits);
	if (data[0] & 16)
		pr_imap_parser_set_sink(parser, &fuzz_sink, parser, NULL);
	data++;
	size--;
	while (off < size) {
		gsize len = MIN(split, size - off);
		g_autoptr(GError) error = NULL;
		gboolean ok = pr_imap_parser_feed(parser, data + off, len, &error);
		off += len;
		/* responses completed before an error stay poppable */
		while ((r = pr_imap_parser_pop(parser)) != NULL) {
			fuzz_response(r);
			pr_imap_response_unref(r);
		}
		if (!ok) {
			g_assert_nonnull(error);
			/* refused until reset, then parsing resumes with the next bytes */
			g_assert_false(pr_imap_parser_feed(parser, data, 0, NULL));
			pr_imap_parser_reset(parser);
		}
	}
	return 0;
}
