/*
 * Copyright 2026 The Postroom developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#define G_LOG_DOMAIN "PrImap"

#include <string.h>

#include "pr-error.h"
#include "pr-imap-parser-private.h"

/*
 * The incremental parser. It builds the response model of pr-imap-value.c (PrImapResponse
 * and its PrImapValue tree, allocated in the response's arena); pr-imap-response.c holds
 * the typed decoders and renderings, written against the public accessors only.
 *
 * Input is cut into "segments": the bytes up to and including an LF. A response is one
 * segment, or several when literals split it: "{n}" must end a segment, then n raw bytes
 * follow, then the response continues in the next segment. A segment is parsed in one go
 * by pr-imap-grammar.c (tokens never cross a segment), so only the open-list stack
 * survives between segments. Literal bytes never go through the tokenizer: they are
 * memcpy'd or handed to the sink in the chunks they arrived in.
 *
 * Leniency, on purpose: a bare LF ends a line like CRLF does (some servers send it); a CR
 * anywhere else is an error.
 */

#define PR_IMAP_LITERAL_FIRST 65536 /* a literal's first buffer; it grows with the bytes */
#define PR_IMAP_SHRINK_ABOVE  65536 /* give back scratch memory after a huge response */

G_DEFINE_TYPE(PrImapParser, pr_imap_parser, G_TYPE_OBJECT)

static const PrImapParserLimits pr_imap_parser_default_limits = {
	.max_line = 8 * 1024 * 1024,
	.max_depth = 64,
	.max_items = 1000000,
	.max_literal = G_GUINT64_CONSTANT(2) * 1024 * 1024 * 1024,
	.inline_threshold = 64 * 1024,
	.max_inline_literal = 16 * 1024 * 1024,
};

static void
pr_imap_parser_abort_literal(PrImapParser *self)
{
	if (self->lit_handle != NULL) {
		gpointer handle = self->lit_handle;
		self->lit_handle = NULL;
		self->sink.end(handle, TRUE, self->sink_data);
	}
	g_clear_pointer(&self->lit_block, g_free);
	self->in_literal = FALSE;
}

/* Drop the response being built and every scratch buffer; keep the queue. */
static void
pr_imap_parser_clear_current(PrImapParser *self)
{
	pr_imap_parser_abort_literal(self);
	g_clear_pointer(&self->cur, pr_imap_response_unref);
	self->line_bytes = 0;
	self->pending = 0;
	self->items = 0;
	self->uid_scanned = 0;
	self->uid = 0;
	g_byte_array_set_size(self->line, 0);
	self->n_vals = 0;
	g_array_set_size(self->opens, 0);
}

static gboolean
pr_imap_parser_complete(PrImapParser *self, GError **error)
{
	PrImapResponse *cur = self->cur;
	const gchar *kw = cur->keyword;
	gboolean big = self->n_vals > PR_IMAP_SHRINK_ABOVE / sizeof(PrImapValue);

	if (cur->kind != PR_IMAP_RESPONSE_KIND_CONTINUATION && cur->status == PR_IMAP_STATUS_NONE) {
		pr_imap_parser_collect(self, 0, &cur->data);
		/* the shapes the engine relies on; anything else after them is junk */
		if (g_strcmp0(kw, "FETCH") == 0) {
			if (!cur->has_number || cur->data.n != 1 ||
			    cur->data.u.children[0].kind != PR_IMAP_VALUE_LIST)
				return pr_imap_parser_error(
					error, "malformed FETCH response", NULL, 0);
		} else if (g_strcmp0(kw, "EXISTS") == 0 || g_strcmp0(kw, "RECENT") == 0 ||
			   g_strcmp0(kw, "EXPUNGE") == 0) {
			if (!cur->has_number)
				return pr_imap_parser_error(
					error, "message count missing", NULL, 0);
			if (cur->data.n != 0)
				return pr_imap_parser_error(
					error, "junk after the response", NULL, 0);
		}
	}
	g_queue_push_tail(&self->queue, cur);
	self->cur = NULL;
	self->line_bytes = 0;
	self->pending = 0;
	self->items = 0;
	self->uid_scanned = 0;
	self->uid = 0;
	self->n_vals = 0;
	g_array_set_size(self->opens, 0);
	if (big) {
		/* do not keep megabytes of scratch after one huge response */
		g_clear_pointer(&self->vals, g_free);
		self->cap_vals = 0;
	}
	return TRUE;
}

static gboolean
pr_imap_parser_literal_begin(PrImapParser *self, GError **error)
{
	PrImapResponse *cur = self->cur;
	guint64 size = self->lit_size;
	gsize cap;

	if (!pr_imap_parser_count_item(self, error))
		return FALSE;
	if (size == 0) {
		PrImapValue v = { 0 };
		v.kind = PR_IMAP_VALUE_STRING;
		v.literal = 1;
		v.u.str = "";
		pr_imap_parser_push(self, &v);
		return TRUE;
	}
	self->lit_done = 0;
	if (size > self->limits.inline_threshold && self->sink.begin != NULL) {
		PrImapLiteralInfo info = { 0 };
		gboolean fetch = g_strcmp0(cur->keyword, "FETCH") == 0;

		info.keyword = cur->keyword;
		info.seq = cur->has_number ? cur->number : 0;
		info.size = size;
		if (fetch && self->opens->len == 1) {
			guint start = g_array_index(self->opens, guint, 0);
			guint top = self->n_vals;
			const PrImapValue *items = self->vals;

			/* FETCH items are name/value pairs; the literal is the value of the last
			 * name, and a "UID n" pair may precede it */
			if (top > start && (top - start) % 2 == 1 &&
			    items[top - 1].kind == PR_IMAP_VALUE_ATOM)
				info.section =
					pr_imap_response_strup(cur,
							       (const guint8 *)items[top - 1].u.str,
							       items[top - 1].num);
			/* resume where the last literal left off: one pass per response */
			if (self->uid_scanned < start)
				self->uid_scanned = start;
			for (; self->uid_scanned + 1 < top; self->uid_scanned += 2) {
				const PrImapValue *name = &items[self->uid_scanned];
				const PrImapValue *val = name + 1;
				if (pr_imap_value_equal_atom(name, "UID") &&
				    val->kind == PR_IMAP_VALUE_NUMBER && val->num <= G_MAXUINT32)
					self->uid = (guint32)val->num;
			}
			info.uid = self->uid;
		}
		self->lit_handle = self->sink.begin(&info, self->sink_data);
		if (self->lit_handle != NULL) {
			self->in_literal = TRUE;
			return TRUE;
		}
	}
	if (size > self->limits.max_inline_literal)
		return pr_imap_parser_error(error, "literal too large to keep in memory", NULL, 0);
	/* grows with the bytes that actually arrive, not with the announced size */
	cap = (gsize)MIN(size, PR_IMAP_LITERAL_FIRST) + 1;
	self->lit_block = g_malloc(PR_IMAP_BLOCK_HDR + cap);
	self->lit_cap = cap;
	self->in_literal = TRUE;
	return TRUE;
}

static void
pr_imap_parser_literal_finish(PrImapParser *self)
{
	PrImapValue v = { 0 };

	v.literal = 1;
	v.num = self->lit_size;
	if (self->lit_handle != NULL) {
		gpointer handle = self->lit_handle;
		self->lit_handle = NULL;
		self->sink.end(handle, FALSE, self->sink_data);
		v.kind = PR_IMAP_VALUE_STREAMED;
	} else {
		PrImapBlock *block = self->lit_block;
		guint8 *buf = pr_imap_block_data(block);
		buf[self->lit_size] = '\0';
		pr_imap_response_take_block(self->cur, block, self->lit_cap);
		self->lit_block = NULL;
		v.kind = PR_IMAP_VALUE_STRING;
		v.u.str = (const gchar *)buf;
	}
	self->in_literal = FALSE;
	pr_imap_parser_push(self, &v);
}

/* The hot path: literal bytes go to the sink or one memcpy per chunk. */
static gboolean
pr_imap_parser_literal_data(PrImapParser *self, const guint8 **data, gsize *len, GError **error)
{
	gsize take = (gsize)MIN((guint64)*len, self->lit_size - self->lit_done);

	if (self->lit_handle != NULL) {
		g_autoptr(GError) error_local = NULL;
		if (!self->sink.write(
			    self->lit_handle, *data, take, self->sink_data, &error_local)) {
			if (error_local == NULL)
				g_set_error_literal(
					error, PR_ERROR, PR_ERROR_FAILED, "literal sink failed");
			else
				g_propagate_error(error, g_steal_pointer(&error_local));
			return FALSE;
		}
	} else {
		gsize need = (gsize)self->lit_done + take + 1;
		if (need > self->lit_cap) {
			gsize cap = self->lit_cap;
			while (cap < need)
				cap *= 2;
			cap = (gsize)MIN((guint64)cap, self->lit_size + 1);
			self->lit_block = g_realloc(self->lit_block, PR_IMAP_BLOCK_HDR + cap);
			self->lit_cap = cap;
		}
		memcpy(pr_imap_block_data(self->lit_block) + self->lit_done, *data, take);
	}
	self->lit_done += take;
	self->pending += take;
	*data += take;
	*len -= take;
	if (self->lit_done == self->lit_size)
		pr_imap_parser_literal_finish(self);
	return TRUE;
}

/* One segment: the bytes up to and including an LF. */
static gboolean
pr_imap_parser_segment(PrImapParser *self, const guint8 *s, gsize len, GError **error)
{
	gsize end = len - 1;
	gsize pos = 0;
	PrImapScan scan = PR_IMAP_SCAN_END;

	if (end > 0 && s[end - 1] == '\r')
		end--;
	if (self->cur == NULL) {
		gboolean is_data = FALSE;
		if (!pr_imap_parser_head(self, s, &pos, end, &is_data, error))
			return FALSE;
		if (!is_data)
			return pr_imap_parser_complete(self, error);
	}
	if (!pr_imap_parser_scan(self, s, &pos, end, PR_IMAP_NO_CODE, &scan, error))
		return FALSE;
	if (scan == PR_IMAP_SCAN_LITERAL)
		return pr_imap_parser_literal_begin(self, error);
	if (self->opens->len > 0)
		return pr_imap_parser_error(
			error, "unbalanced '(' at the end of the response", s, end);
	return pr_imap_parser_complete(self, error);
}

static gboolean
pr_imap_parser_fail(PrImapParser *self)
{
	self->failed = TRUE;
	pr_imap_parser_clear_current(self);
	return FALSE;
}

gboolean
pr_imap_parser_feed(PrImapParser *self, const guint8 *data, gsize len, GError **error)
{
	g_return_val_if_fail(PR_IS_IMAP_PARSER(self), FALSE);
	g_return_val_if_fail(data != NULL || len == 0, FALSE);

	if (self->failed) {
		g_set_error_literal(error,
				    PR_ERROR,
				    PR_ERROR_PROTOCOL_ERROR,
				    "parser stopped after an error; reset it first");
		return FALSE;
	}
	while (len > 0) {
		const guint8 *nl;
		gsize seglen;
		gboolean ok;

		if (self->in_literal) {
			if (!pr_imap_parser_literal_data(self, &data, &len, error))
				return pr_imap_parser_fail(self);
			continue;
		}
		nl = memchr(data, '\n', len);
		if (nl == NULL) {
			if (self->line_bytes + len > self->limits.max_line) {
				pr_imap_parser_error(error, "line too long", NULL, 0);
				return pr_imap_parser_fail(self);
			}
			g_byte_array_append(self->line, data, (guint)len);
			self->line_bytes += len;
			self->pending += len;
			return TRUE;
		}
		seglen = (gsize)(nl - data) + 1;
		if (self->line_bytes + seglen > self->limits.max_line) {
			pr_imap_parser_error(error, "line too long", NULL, 0);
			return pr_imap_parser_fail(self);
		}
		self->line_bytes += seglen;
		self->pending += seglen;
		if (self->line->len > 0) {
			g_byte_array_append(self->line, data, (guint)seglen);
			ok = pr_imap_parser_segment(self, self->line->data, self->line->len, error);
			if (self->line->len > PR_IMAP_SHRINK_ABOVE) {
				g_byte_array_unref(self->line);
				self->line = g_byte_array_new();
			} else {
				g_byte_array_set_size(self->line, 0);
			}
		} else {
			ok = pr_imap_parser_segment(self, data, seglen, error);
		}
		if (!ok)
			return pr_imap_parser_fail(self);
		data += seglen;
		len -= seglen;
	}
	return TRUE;
}

PrImapResponse *
pr_imap_parser_pop(PrImapParser *self)
{
	g_return_val_if_fail(PR_IS_IMAP_PARSER(self), NULL);
	return g_queue_pop_head(&self->queue);
}

gsize
pr_imap_parser_get_pending(PrImapParser *self)
{
	g_return_val_if_fail(PR_IS_IMAP_PARSER(self), 0);
	return self->pending;
}

void
pr_imap_parser_reset(PrImapParser *self)
{
	g_return_if_fail(PR_IS_IMAP_PARSER(self));
	pr_imap_parser_clear_current(self);
	g_queue_clear_full(&self->queue, (GDestroyNotify)pr_imap_response_unref);
	self->failed = FALSE;
}

void
pr_imap_parser_get_limits(PrImapParser *self, PrImapParserLimits *limits)
{
	g_return_if_fail(PR_IS_IMAP_PARSER(self));
	g_return_if_fail(limits != NULL);
	*limits = self->limits;
}

void
pr_imap_parser_set_limits(PrImapParser *self, const PrImapParserLimits *limits)
{
	g_return_if_fail(PR_IS_IMAP_PARSER(self));
	g_return_if_fail(limits != NULL);
	self->limits = *limits;
	/* keep the arithmetic on sizes (+1 for a NUL, GByteArray's guint) free of overflow */
	self->limits.max_line = MIN(self->limits.max_line, (gsize)G_MAXUINT / 2);
	self->limits.max_literal = MIN(self->limits.max_literal, (guint64)G_MAXINT64);
	self->limits.max_inline_literal = MIN(self->limits.max_inline_literal, G_MAXSIZE / 4);
}

void
pr_imap_parser_set_sink(PrImapParser *self,
			const PrImapLiteralSink *sink,
			gpointer user_data,
			GDestroyNotify destroy)
{
	g_return_if_fail(PR_IS_IMAP_PARSER(self));
	/* the streamed literal in progress belongs to the old sink */
	g_return_if_fail(self->lit_handle == NULL);
	g_return_if_fail(sink == NULL ||
			 (sink->begin != NULL && sink->write != NULL && sink->end != NULL));

	if (self->sink_destroy != NULL)
		self->sink_destroy(self->sink_data);
	memset(&self->sink, 0, sizeof(self->sink));
	self->sink_data = NULL;
	self->sink_destroy = NULL;
	if (sink == NULL)
		return;
	self->sink = *sink;
	self->sink_data = user_data;
	self->sink_destroy = destroy;
}

static void
pr_imap_parser_finalize(GObject *object)
{
	PrImapParser *self = PR_IMAP_PARSER(object);

	pr_imap_parser_clear_current(self);
	g_queue_clear_full(&self->queue, (GDestroyNotify)pr_imap_response_unref);
	if (self->sink_destroy != NULL)
		self->sink_destroy(self->sink_data);
	g_byte_array_unref(self->line);
	g_free(self->vals);
	g_array_unref(self->opens);
	G_OBJECT_CLASS(pr_imap_parser_parent_class)->finalize(object);
}

static void
pr_imap_parser_class_init(PrImapParserClass *klass)
{
	GObjectClass *object_class = G_OBJECT_CLASS(klass);
	object_class->finalize = pr_imap_parser_finalize;
	pr_imap_grammar_init();
}

static void
pr_imap_parser_init(PrImapParser *self)
{
	self->limits = pr_imap_parser_default_limits;
	g_queue_init(&self->queue);
	self->line = g_byte_array_new();
	self->opens = g_array_new(FALSE, FALSE, sizeof(guint));
}

PrImapParser *
pr_imap_parser_new(void)
{
	return g_object_new(PR_TYPE_IMAP_PARSER, NULL);
}

GPtrArray *
pr_imap_parser_parse_all(const guint8 *data, gsize len, GError **error)
{
	g_autoptr(PrImapParser) parser = pr_imap_parser_new();
	g_autoptr(GPtrArray) responses =
		g_ptr_array_new_with_free_func((GDestroyNotify)pr_imap_response_unref);
	PrImapResponse *response;

	if (!pr_imap_parser_feed(parser, data, len, error))
		return NULL;
	while ((response = pr_imap_parser_pop(parser)) != NULL)
		g_ptr_array_add(responses, response);
	if (pr_imap_parser_get_pending(parser) > 0) {
		g_set_error_literal(
			error, PR_ERROR, PR_ERROR_PROTOCOL_ERROR, "input ends inside a response");
		return NULL;
	}
	return g_steal_pointer(&responses);
}
