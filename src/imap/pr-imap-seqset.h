/*
 * Copyright 2026 The Postroom developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/*
 * A set of message numbers or UIDs kept as sorted, merged ranges: parsing "1:4294967295"
 * costs one range, never four billion entries.
 */
typedef struct {
	guint32 first;
	guint32 last; /* inclusive; first <= last */
} PrImapRange;

typedef struct _PrImapSeqset PrImapSeqset;

PrImapSeqset *pr_imap_seqset_new(void);
void pr_imap_seqset_free(PrImapSeqset *self);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(PrImapSeqset, pr_imap_seqset_free)

/* Parse "1,3:5,9:*"; @star is the value '*' stands for (e.g. the largest UID); 0 makes
 * '*' an error. Numbers must be 1..2^32-1. Ranges given reversed ("5:3") are accepted.
 * At most @max_ranges ranges before merging (0: 100,000). */
PrImapSeqset *
pr_imap_seqset_parse(const gchar *text, guint32 star, guint max_ranges, GError **error);
void pr_imap_seqset_add(PrImapSeqset *self, guint32 value);
void pr_imap_seqset_add_range(PrImapSeqset *self, guint32 first, guint32 last);
gboolean pr_imap_seqset_contains(const PrImapSeqset *self, guint32 value);
/* How many numbers the set holds (64-bit: 1:4294967295 has 2^32-1). */
guint64 pr_imap_seqset_count(const PrImapSeqset *self);
guint pr_imap_seqset_get_n_ranges(const PrImapSeqset *self);
const PrImapRange *pr_imap_seqset_get_range(const PrImapSeqset *self, guint idx);
/* Compact form: "1:5,7,9:12". Empty set: "". */
gchar *pr_imap_seqset_to_string(const PrImapSeqset *self);
/* Split into strings of at most @max_len bytes each (for long commands). */
GPtrArray *pr_imap_seqset_to_strings(const PrImapSeqset *self, gsize max_len);
/* Compact form of a sorted or unsorted array of numbers. */
gchar *pr_imap_seqset_format_uids(const guint32 *uids, gsize n);

G_END_DECLS
