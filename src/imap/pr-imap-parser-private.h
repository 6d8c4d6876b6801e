/*
 * Copyright 2026 The Postroom developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include "pr-imap-parser.h"
#include "pr-imap-value-private.h"

/*
 * Shared by the files of PrImapParser: pr-imap-parser.c (the type, segments, literals,
 * limits, the sink and the queue) and pr-imap-grammar.c (the response head, codes, text
 * and the value tokenizer). Nothing here is for use outside src/imap.
 */

G_BEGIN_DECLS

typedef enum {
	PR_IMAP_SCAN_END,     /* the segment is used up */
	PR_IMAP_SCAN_LITERAL, /* a literal announcement ends the segment */
	PR_IMAP_SCAN_CODE,    /* the "]" closing a response code */
} PrImapScan;

/* value of code_base outside response codes: opens->len never reaches it */
#define PR_IMAP_NO_CODE G_MAXUINT

struct _PrImapParser {
	GObject parent_instance;
	PrImapParserLimits limits;
	PrImapLiteralSink sink;
	gpointer sink_data;
	GDestroyNotify sink_destroy;
	GQueue queue;
	gboolean failed;

	GByteArray *line; /* a segment still waiting for its LF */
	PrImapResponse *cur;
	gsize line_bytes; /* bytes of cur outside literals, for max_line */
	gsize pending;
	PrImapValue *vals; /* children of the lists still open, then the data */
	guint n_vals;
	guint cap_vals;
	GArray *opens; /* guint: where each open list starts in stack */
	gsize items;
	guint uid_scanned; /* FETCH pairs already searched for "UID n" */
	guint32 uid;

	/* the literal being received */
	gboolean in_literal;
	gboolean lit_is8;
	guint64 lit_size;
	guint64 lit_done;
	gpointer lit_handle; /* the sink's, when streaming */
	PrImapBlock *lit_block;
	gsize lit_cap;
};

/* Always FALSE, with a ProtocolError quoting at most a short escaped excerpt of @near. */
gboolean
pr_imap_parser_error(GError **error, const gchar *what, const guint8 *near, gsize near_len);

static inline gboolean
pr_imap_parser_count_item(PrImapParser *self, GError **error)
{
	if (self->items >= self->limits.max_items)
		return pr_imap_parser_error(error, "too many values in one response", NULL, 0);
	self->items++;
	return TRUE;
}

static inline void
pr_imap_parser_push(PrImapParser *self, const PrImapValue *value)
{
	/* bounded by max_items, counted before every push */
	if (G_UNLIKELY(self->n_vals == self->cap_vals)) {
		self->cap_vals = MAX(64, self->cap_vals * 2);
		self->vals = g_renew(PrImapValue, self->vals, self->cap_vals);
	}
	self->vals[self->n_vals++] = *value;
}

/* Turn stack[start..] into one LIST value allocated in the response. */
static inline void
pr_imap_parser_collect(PrImapParser *self, guint start, PrImapValue *list)
{
	guint n = self->n_vals - start;
	PrImapValue *children = NULL;

	if (n > 0) {
		children = pr_imap_response_alloc(self->cur, (gsize)n * sizeof(PrImapValue));
		memcpy(children, self->vals + start, (gsize)n * sizeof(PrImapValue));
	}
	self->n_vals = start;
	memset(list, 0, sizeof(*list));
	list->kind = PR_IMAP_VALUE_LIST;
	list->n = n;
	list->u.children = children;
}

/* The character classes; once, before the first parse. */
void pr_imap_grammar_init(void);
/* Tokenize values from @pos onwards into the stack; see pr-imap-grammar.c. */
gboolean pr_imap_parser_scan(PrImapParser *self,
			     const guint8 *s,
			     gsize *pos_inout,
			     gsize end,
			     guint code_base,
			     PrImapScan *result,
			     GError **error);
/* Start self->cur from a segment's head; a status response or continuation is whole after
 * it, @is_data says values follow at *@pos_inout. */
gboolean pr_imap_parser_head(PrImapParser *self,
			     const guint8 *s,
			     gsize *pos_inout,
			     gsize end,
			     gboolean *is_data,
			     GError **error);

G_END_DECLS
