/*
 * Copyright 2026 The Postroom developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <string.h>

#include "pr-imap-response.h"

/* The representation of PrImapResponse and PrImapValue, shared by pr-imap-value.c (the
 * arena and the accessors) and pr-imap-parser.c (the only code that builds them). The
 * decoders must not include this: they read responses through the public accessors. */

G_BEGIN_DECLS

/* Arena: every string and value of a response is bump-allocated from blocks freed together
 * with the response, so a response costs a few mallocs however many values it has. */
typedef struct _PrImapBlock PrImapBlock;
struct _PrImapBlock {
	PrImapBlock *next;
	gsize size;
};
#define PR_IMAP_BLOCK_HDR    ((sizeof(PrImapBlock) + 15) & ~(gsize)15)
#define PR_IMAP_ARENA_INLINE 1024 /* bytes inside the response itself */

struct _PrImapValue {
	guint8 kind;
	guint8 literal;
	guint32 n;   /* LIST: children; NUMBER: length of the digits */
	guint64 num; /* NUMBER: value; STRING and ATOM: length; STREAMED: size */
	union {
		const gchar *str;
		const PrImapValue *children;
	} u;
};

struct _PrImapResponse {
	gint ref_count;
	PrImapResponseKind kind;
	PrImapStatus status;
	gboolean has_number;
	guint32 number;
	const gchar *tag;
	const gchar *keyword;
	const gchar *code;
	const gchar *text;
	const gchar *continuation;
	const PrImapValue *code_args;
	PrImapValue data;
	guint8 *arena_pos;
	guint8 *arena_end;
	gsize arena_next;
	PrImapBlock *blocks;
	guint64 arena_inline[PR_IMAP_ARENA_INLINE / sizeof(guint64)];
};

static inline guint8 *
pr_imap_block_data(PrImapBlock *block)
{
	return (guint8 *)block + PR_IMAP_BLOCK_HDR;
}

PrImapResponse *pr_imap_response_new(PrImapResponseKind kind);
gpointer pr_imap_response_alloc_slow(PrImapResponse *self, gsize size);
gchar *pr_imap_response_strup(PrImapResponse *self, const guint8 *s, gsize len);
/* Hand a block filled outside the arena (a literal received in place) to the response,
 * which frees it with the rest; @size is the block's capacity after the header. */
void pr_imap_response_take_block(PrImapResponse *self, PrImapBlock *block, gsize size);

/* @size bytes, 8-aligned, owned by the response. This and strndup are inline because the
 * parser calls them for every token; only a full block leaves the fast path. */
static inline gpointer
pr_imap_response_alloc(PrImapResponse *self, gsize size)
{
	guint8 *p;

	size = (size + 7) & ~(gsize)7;
	if (G_UNLIKELY((gsize)(self->arena_end - self->arena_pos) < size))
		return pr_imap_response_alloc_slow(self, size);
	p = self->arena_pos;
	self->arena_pos += size;
	return p;
}

/* @len bytes of @s and a NUL, owned by the response. */
static inline gchar *
pr_imap_response_strndup(PrImapResponse *self, const guint8 *s, gsize len)
{
	gchar *p = pr_imap_response_alloc(self, len + 1);
	memcpy(p, s, len);
	p[len] = '\0';
	return p;
}

G_END_DECLS
