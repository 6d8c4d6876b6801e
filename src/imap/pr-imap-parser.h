/*
 * Copyright 2026 The Postroom developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <glib-object.h>

#include "pr-imap-response.h"

G_BEGIN_DECLS

#define PR_TYPE_IMAP_PARSER (pr_imap_parser_get_type())
G_DECLARE_FINAL_TYPE(PrImapParser, pr_imap_parser, PR, IMAP_PARSER, GObject)

/*
 * Where a literal of the current response is, so a sink can decide what to do with it.
 * For "* 12 FETCH (UID 40 BODY[] {5000}" that is seq 12, uid 40 (0 when the UID comes
 * after the literal), section "BODY[]", size 5000.
 */
typedef struct {
	const gchar *keyword; /* "FETCH", or another response keyword */
	guint32 seq;	      /* the response's number, 0 if none */
	guint32 uid;	      /* a UID already seen in this FETCH, or 0 */
	const gchar *section; /* the FETCH item name before the literal, upper-cased, or NULL */
	guint64 size;
} PrImapLiteralInfo;

/*
 * Literal sink: literals larger than the in-memory threshold are handed here in chunks as
 * they arrive instead of being kept. @begin returns a handle (NULL: keep the literal in
 * memory if it fits the in-memory maximum, else fail with ProtocolError); @write gets the
 * bytes in order; @end is called once with the handle after the last byte (or with
 * @aborted TRUE when parsing stops before the literal completes).
 */
typedef struct {
	gpointer (*begin)(const PrImapLiteralInfo *info, gpointer user_data);
	gboolean (*write)(gpointer handle,
			  const guint8 *data,
			  gsize len,
			  gpointer user_data,
			  GError **error);
	void (*end)(gpointer handle, gboolean aborted, gpointer user_data);
} PrImapLiteralSink;

/* Bounds; a response breaking one is a PR_ERROR_PROTOCOL_ERROR and the parser stops. */
typedef struct {
	gsize max_line;		  /* bytes of one response outside literals (default 8 MiB) */
	gsize max_depth;	  /* parenthesis nesting (default 64) */
	gsize max_items;	  /* values in one response (default 1,000,000) */
	guint64 max_literal;	  /* any single literal, streamed or not (default 2 GiB) */
	gsize inline_threshold;	  /* literals up to this stay in memory (default 64 KiB) */
	gsize max_inline_literal; /* in-memory literals without a sink (default 16 MiB) */
} PrImapParserLimits;

PrImapParser *pr_imap_parser_new(void);
void pr_imap_parser_get_limits(PrImapParser *self, PrImapParserLimits *limits);
void pr_imap_parser_set_limits(PrImapParser *self, const PrImapParserLimits *limits);
void pr_imap_parser_set_sink(PrImapParser *self,
			     const PrImapLiteralSink *sink,
			     gpointer user_data,
			     GDestroyNotify destroy);
/* Forget everything buffered or half-parsed (STARTTLS: nothing read in plaintext
 * survives). Aborts a streamed literal in progress. */
void pr_imap_parser_reset(PrImapParser *self);

/*
 * Feed bytes as they come off the wire, in any split. Each response completed by them is
 * appended to the queue read by pr_imap_parser_pop(). FALSE with a ProtocolError when
 * the input breaks the grammar or a bound; after that the parser refuses further input
 * until reset.
 * Leniency: a bare LF ends a line like CRLF (a CR elsewhere is an error); keywords are
 * case-insensitive; "A1 OK" without text is accepted.
 */
gboolean pr_imap_parser_feed(PrImapParser *self, const guint8 *data, gsize len, GError **error);
/* The next completed response, or NULL. Transfer full. */
PrImapResponse *pr_imap_parser_pop(PrImapParser *self);
/* Bytes fed but not yet part of a completed response. */
gsize pr_imap_parser_get_pending(PrImapParser *self);

/* Convenience for tests and fuzzing: parse a whole buffer, return every response. */
GPtrArray *pr_imap_parser_parse_all(const guint8 *data, gsize len, GError **error);

G_END_DECLS
