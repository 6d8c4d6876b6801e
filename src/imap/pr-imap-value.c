/*
 * Copyright 2026 The Postroom developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#define G_LOG_DOMAIN "PrImap"

#include <string.h>

#include "pr-imap-value-private.h"

/*
 * The response model: PrImapResponse and the PrImapValue tree it owns, their arena, and
 * the public accessors of both. Only the parser (pr-imap-parser.c) builds them, through
 * pr-imap-value-private.h; the typed decoders (pr-imap-response.c, pr-imap-fetch.c) read
 * them through the accessors only.
 */

#define PR_IMAP_ARENA_FIRST	4096
#define PR_IMAP_ARENA_MAX_BLOCK 65536
#define PR_IMAP_ARENA_BIG	2048 /* larger allocations get a block of their own */

G_DEFINE_BOXED_TYPE(PrImapResponse, pr_imap_response, pr_imap_response_ref, pr_imap_response_unref)

PrImapResponse *
pr_imap_response_new(PrImapResponseKind kind)
{
	PrImapResponse *self = g_malloc(sizeof(PrImapResponse));

	/* the inline arena needs no zeroing */
	memset(self, 0, G_STRUCT_OFFSET(PrImapResponse, arena_inline));
	self->ref_count = 1;
	self->kind = kind;
	self->data.kind = PR_IMAP_VALUE_LIST;
	self->arena_pos = (guint8 *)self->arena_inline;
	self->arena_end = self->arena_pos + sizeof(self->arena_inline);
	self->arena_next = PR_IMAP_ARENA_FIRST;
	return self;
}

/* The fast path is pr_imap_response_alloc(), inline in the private header; @size is
 * already rounded up to 8. */
gpointer
pr_imap_response_alloc_slow(PrImapResponse *self, gsize size)
{
	PrImapBlock *block;
	gsize bsize;
	guint8 *p;

	if (size > PR_IMAP_ARENA_BIG) {
		/* own block; the current one keeps serving small allocations */
		block = g_malloc(PR_IMAP_BLOCK_HDR + size);
		block->size = size;
		block->next = self->blocks;
		self->blocks = block;
		return pr_imap_block_data(block);
	}
	bsize = self->arena_next;
	if (self->arena_next < PR_IMAP_ARENA_MAX_BLOCK)
		self->arena_next *= 2;
	block = g_malloc(PR_IMAP_BLOCK_HDR + bsize);
	block->size = bsize;
	block->next = self->blocks;
	self->blocks = block;
	p = pr_imap_block_data(block);
	self->arena_pos = p + size;
	self->arena_end = p + bsize;
	return p;
}

void
pr_imap_response_take_block(PrImapResponse *self, PrImapBlock *block, gsize size)
{
	block->size = size;
	block->next = self->blocks;
	self->blocks = block;
}

gchar *
pr_imap_response_strup(PrImapResponse *self, const guint8 *s, gsize len)
{
	gchar *p = pr_imap_response_alloc(self, len + 1);
	for (gsize i = 0; i < len; i++)
		p[i] = g_ascii_toupper(s[i]);
	p[len] = '\0';
	return p;
}

PrImapResponse *
pr_imap_response_ref(PrImapResponse *self)
{
	g_return_val_if_fail(self != NULL, NULL);
	g_atomic_int_inc(&self->ref_count);
	return self;
}

void
pr_imap_response_unref(PrImapResponse *self)
{
	PrImapBlock *block;

	g_return_if_fail(self != NULL);
	if (!g_atomic_int_dec_and_test(&self->ref_count))
		return;
	block = self->blocks;
	while (block != NULL) {
		PrImapBlock *next = block->next;
		g_free(block);
		block = next;
	}
	g_free(self);
}

PrImapResponseKind
pr_imap_response_get_kind(const PrImapResponse *self)
{
	g_return_val_if_fail(self != NULL, PR_IMAP_RESPONSE_KIND_UNTAGGED);
	return self->kind;
}

const gchar *
pr_imap_response_get_tag(const PrImapResponse *self)
{
	g_return_val_if_fail(self != NULL, NULL);
	return self->tag;
}

PrImapStatus
pr_imap_response_get_status(const PrImapResponse *self)
{
	g_return_val_if_fail(self != NULL, PR_IMAP_STATUS_NONE);
	return self->status;
}

const gchar *
pr_imap_response_get_keyword(const PrImapResponse *self)
{
	g_return_val_if_fail(self != NULL, NULL);
	return self->keyword;
}

gboolean
pr_imap_response_get_number(const PrImapResponse *self, guint32 *number)
{
	g_return_val_if_fail(self != NULL, FALSE);
	if (!self->has_number)
		return FALSE;
	if (number != NULL)
		*number = self->number;
	return TRUE;
}

const gchar *
pr_imap_response_get_code(const PrImapResponse *self)
{
	g_return_val_if_fail(self != NULL, NULL);
	return self->code;
}

const PrImapValue *
pr_imap_response_get_code_args(const PrImapResponse *self)
{
	g_return_val_if_fail(self != NULL, NULL);
	return self->code_args;
}

const gchar *
pr_imap_response_get_text(const PrImapResponse *self)
{
	g_return_val_if_fail(self != NULL, NULL);
	return self->text;
}

const PrImapValue *
pr_imap_response_get_data(const PrImapResponse *self)
{
	g_return_val_if_fail(self != NULL, NULL);
	return &self->data;
}

const gchar *
pr_imap_response_get_continuation(const PrImapResponse *self)
{
	g_return_val_if_fail(self != NULL, NULL);
	return self->continuation;
}

PrImapValueKind
pr_imap_value_get_kind(const PrImapValue *value)
{
	g_return_val_if_fail(value != NULL, PR_IMAP_VALUE_NIL);
	return (PrImapValueKind)value->kind;
}

const gchar *
pr_imap_value_get_string(const PrImapValue *value, gsize *len)
{
	g_return_val_if_fail(value != NULL, NULL);
	switch (value->kind) {
	case PR_IMAP_VALUE_ATOM:
	case PR_IMAP_VALUE_STRING:
		if (len != NULL)
			*len = (gsize)value->num;
		return value->u.str;
	case PR_IMAP_VALUE_NUMBER:
		if (len != NULL)
			*len = value->n;
		return value->u.str;
	default:
		if (len != NULL)
			*len = 0;
		return NULL;
	}
}

gboolean
pr_imap_value_get_number(const PrImapValue *value, guint64 *number)
{
	guint64 n = 0;

	g_return_val_if_fail(value != NULL, FALSE);
	if (value->kind == PR_IMAP_VALUE_NUMBER) {
		n = value->num;
	} else if (value->kind == PR_IMAP_VALUE_ATOM || value->kind == PR_IMAP_VALUE_STRING) {
		if (value->num == 0 || value->num > 19)
			return FALSE;
		for (gsize i = 0; i < value->num; i++) {
			guint d = (guchar)value->u.str[i] - '0';
			if (d > 9)
				return FALSE;
			if (n > ((guint64)G_MAXINT64 - d) / 10)
				return FALSE;
			n = n * 10 + d;
		}
	} else {
		return FALSE;
	}
	if (number != NULL)
		*number = n;
	return TRUE;
}

guint
pr_imap_value_get_n_children(const PrImapValue *value)
{
	g_return_val_if_fail(value != NULL, 0);
	return value->kind == PR_IMAP_VALUE_LIST ? value->n : 0;
}

const PrImapValue *
pr_imap_value_get_child(const PrImapValue *value, guint idx)
{
	g_return_val_if_fail(value != NULL, NULL);
	if (value->kind != PR_IMAP_VALUE_LIST || idx >= value->n)
		return NULL;
	return &value->u.children[idx];
}

gboolean
pr_imap_value_is_literal(const PrImapValue *value)
{
	g_return_val_if_fail(value != NULL, FALSE);
	return value->literal != 0;
}

guint64
pr_imap_value_get_literal_size(const PrImapValue *value)
{
	g_return_val_if_fail(value != NULL, 0);
	if (value->kind == PR_IMAP_VALUE_STRING || value->kind == PR_IMAP_VALUE_STREAMED)
		return value->num;
	return 0;
}

gboolean
pr_imap_value_equal_atom(const PrImapValue *value, const gchar *str)
{
	g_return_val_if_fail(value != NULL, FALSE);
	g_return_val_if_fail(str != NULL, FALSE);
	if (value->kind != PR_IMAP_VALUE_ATOM && value->kind != PR_IMAP_VALUE_STRING)
		return FALSE;
	/* a literal may hold a NUL; it must not match a shorter atom */
	if (strlen(str) != value->num)
		return FALSE;
	return g_ascii_strncasecmp(value->u.str, str, (gsize)value->num) == 0;
}
