/*
 * Copyright 2026 The Postroom developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#define G_LOG_DOMAIN "PrImap"

#include <stdlib.h>

#include "pr-error.h"
#include "pr-imap-seqset.h"

#define PR_IMAP_SEQSET_DEFAULT_MAX_RANGES 100000

struct _PrImapSeqset {
	GArray *ranges; /* of PrImapRange: sorted, disjoint and non-adjacent */
};

PrImapSeqset *
pr_imap_seqset_new(void)
{
	PrImapSeqset *self = g_new0(PrImapSeqset, 1);
	self->ranges = g_array_new(FALSE, FALSE, sizeof(PrImapRange));
	return self;
}

void
pr_imap_seqset_free(PrImapSeqset *self)
{
	if (self == NULL)
		return;
	g_array_unref(self->ranges);
	g_free(self);
}

static gint
pr_imap_seqset_range_cmp(gconstpointer a, gconstpointer b)
{
	const PrImapRange *ra = a;
	const PrImapRange *rb = b;
	if (ra->first != rb->first)
		return ra->first < rb->first ? -1 : 1;
	if (ra->last != rb->last)
		return ra->last < rb->last ? -1 : 1;
	return 0;
}

/* Sort then merge overlapping and touching ranges in place: O(n log n) for a whole parse
 * instead of one insertion per range. */
static void
pr_imap_seqset_normalize(PrImapSeqset *self)
{
	PrImapRange *r = (PrImapRange *)(gpointer)self->ranges->data;
	guint n = self->ranges->len;
	guint out = 0;

	if (n < 2)
		return;
	qsort(r, n, sizeof(PrImapRange), pr_imap_seqset_range_cmp);
	for (guint i = 1; i < n; i++) {
		/* 64-bit so last + 1 cannot wrap at 2^32-1 */
		if ((guint64)r[i].first <= (guint64)r[out].last + 1) {
			if (r[i].last > r[out].last)
				r[out].last = r[i].last;
		} else {
			r[++out] = r[i];
		}
	}
	g_array_set_size(self->ranges, out + 1);
}

/* Reads an nz-number (RFC 3501: digit-nz *DIGIT, at most 2^32-1) or '*'. */
static gboolean
pr_imap_seqset_parse_number(const gchar **pp, guint32 star, guint32 *value, GError **error)
{
	const gchar *p = *pp;
	guint64 v = 0;

	if (*p == '*') {
		if (star == 0) {
			g_set_error_literal(error,
					    PR_ERROR,
					    PR_ERROR_PROTOCOL_ERROR,
					    "sequence set: '*' is not allowed here");
			return FALSE;
		}
		*value = star;
		*pp = p + 1;
		return TRUE;
	}
	if (*p < '1' || *p > '9') {
		g_set_error(error,
			    PR_ERROR,
			    PR_ERROR_PROTOCOL_ERROR,
			    "sequence set: expected a non-zero number at \"%.16s\"",
			    p);
		return FALSE;
	}
	while (*p >= '0' && *p <= '9') {
		v = v * 10 + (guint64)(*p - '0');
		/* checked on every digit, so v never gets near overflowing 64 bits */
		if (v > G_MAXUINT32) {
			g_set_error_literal(error,
					    PR_ERROR,
					    PR_ERROR_PROTOCOL_ERROR,
					    "sequence set: number larger than 4294967295");
			return FALSE;
		}
		p++;
	}
	*value = (guint32)v;
	*pp = p;
	return TRUE;
}

PrImapSeqset *
pr_imap_seqset_parse(const gchar *text, guint32 star, guint max_ranges, GError **error)
{
	g_autoptr(PrImapSeqset) self = pr_imap_seqset_new();
	const gchar *p = text;

	g_return_val_if_fail(text != NULL, NULL);

	if (max_ranges == 0)
		max_ranges = PR_IMAP_SEQSET_DEFAULT_MAX_RANGES;
	for (;;) {
		PrImapRange r;

		/* checked before growing the array: a hostile set costs at most max_ranges */
		if (self->ranges->len >= max_ranges) {
			g_set_error(error,
				    PR_ERROR,
				    PR_ERROR_PROTOCOL_ERROR,
				    "sequence set: more than %u ranges",
				    max_ranges);
			return NULL;
		}
		if (!pr_imap_seqset_parse_number(&p, star, &r.first, error))
			return NULL;
		r.last = r.first;
		if (*p == ':') {
			p++;
			if (!pr_imap_seqset_parse_number(&p, star, &r.last, error))
				return NULL;
			if (r.last < r.first) {
				guint32 tmp = r.first;
				r.first = r.last;
				r.last = tmp;
			}
		}
		g_array_append_val(self->ranges, r);
		if (*p == '\0')
			break;
		if (*p != ',') {
			g_set_error(error,
				    PR_ERROR,
				    PR_ERROR_PROTOCOL_ERROR,
				    "sequence set: unexpected character at \"%.16s\"",
				    p);
			return NULL;
		}
		p++;
	}
	pr_imap_seqset_normalize(self);
	return g_steal_pointer(&self);
}

/* Index of the first range whose last >= @value (ranges->len if none). */
static guint
pr_imap_seqset_lower_bound(const PrImapSeqset *self, guint32 value)
{
	const PrImapRange *r = (const PrImapRange *)(gconstpointer)self->ranges->data;
	guint lo = 0;
	guint hi = self->ranges->len;

	while (lo < hi) {
		guint mid = lo + (hi - lo) / 2;
		if (r[mid].last < value)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

void
pr_imap_seqset_add_range(PrImapSeqset *self, guint32 first, guint32 last)
{
	PrImapRange *r;
	PrImapRange merged;
	guint lo;
	guint hi;

	g_return_if_fail(self != NULL);
	g_return_if_fail(first != 0 && last != 0);

	if (last < first) {
		guint32 tmp = first;
		first = last;
		last = tmp;
	}
	/* ranges that end at first - 1 or later and start at last + 1 or earlier get merged */
	lo = pr_imap_seqset_lower_bound(self, first > 0 ? first - 1 : 0);
	r = (PrImapRange *)(gpointer)self->ranges->data;
	hi = lo;
	merged.first = first;
	merged.last = last;
	while (hi < self->ranges->len && (guint64)r[hi].first <= (guint64)last + 1) {
		merged.first = MIN(merged.first, r[hi].first);
		merged.last = MAX(merged.last, r[hi].last);
		hi++;
	}
	if (hi == lo) {
		g_array_insert_val(self->ranges, lo, merged);
		return;
	}
	r[lo] = merged;
	if (hi > lo + 1)
		g_array_remove_range(self->ranges, lo + 1, hi - lo - 1);
}

void
pr_imap_seqset_add(PrImapSeqset *self, guint32 value)
{
	pr_imap_seqset_add_range(self, value, value);
}

gboolean
pr_imap_seqset_contains(const PrImapSeqset *self, guint32 value)
{
	guint idx;

	g_return_val_if_fail(self != NULL, FALSE);

	idx = pr_imap_seqset_lower_bound(self, value);
	if (idx >= self->ranges->len)
		return FALSE;
	return g_array_index(self->ranges, PrImapRange, idx).first <= value;
}

guint64
pr_imap_seqset_count(const PrImapSeqset *self)
{
	guint64 total = 0;

	g_return_val_if_fail(self != NULL, 0);

	for (guint i = 0; i < self->ranges->len; i++) {
		const PrImapRange *r = &g_array_index(self->ranges, PrImapRange, i);
		total += (guint64)r->last - r->first + 1;
	}
	return total;
}

guint
pr_imap_seqset_get_n_ranges(const PrImapSeqset *self)
{
	g_return_val_if_fail(self != NULL, 0);
	return self->ranges->len;
}

const PrImapRange *
pr_imap_seqset_get_range(const PrImapSeqset *self, guint idx)
{
	g_return_val_if_fail(self != NULL, NULL);
	g_return_val_if_fail(idx < self->ranges->len, NULL);
	return &g_array_index(self->ranges, PrImapRange, idx);
}

static void
pr_imap_seqset_append_range(GString *str, const PrImapRange *r)
{
	if (r->first == r->last)
		g_string_append_printf(str, "%u", r->first);
	else
		g_string_append_printf(str, "%u:%u", r->first, r->last);
}

gchar *
pr_imap_seqset_to_string(const PrImapSeqset *self)
{
	GString *str;

	g_return_val_if_fail(self != NULL, NULL);

	str = g_string_new(NULL);
	for (guint i = 0; i < self->ranges->len; i++) {
		if (i > 0)
			g_string_append_c(str, ',');
		pr_imap_seqset_append_range(str, &g_array_index(self->ranges, PrImapRange, i));
	}
	return g_string_free(str, FALSE);
}

/*
 * Splits only between ranges, so every string is a valid set on its own. An empty set
 * gives an empty array. A single range longer than @max_len (at most 21 bytes, so only
 * with an unreasonably small @max_len) is emitted alone rather than cut.
 */
GPtrArray *
pr_imap_seqset_to_strings(const PrImapSeqset *self, gsize max_len)
{
	g_autoptr(GPtrArray) out = g_ptr_array_new_with_free_func(g_free);
	g_autoptr(GString) cur = g_string_new(NULL);
	g_autoptr(GString) item = g_string_new(NULL);

	g_return_val_if_fail(self != NULL, NULL);

	for (guint i = 0; i < self->ranges->len; i++) {
		g_string_truncate(item, 0);
		pr_imap_seqset_append_range(item, &g_array_index(self->ranges, PrImapRange, i));
		if (cur->len > 0 && cur->len + 1 + item->len > max_len) {
			g_ptr_array_add(out, g_strndup(cur->str, cur->len));
			g_string_truncate(cur, 0);
		}
		if (cur->len > 0)
			g_string_append_c(cur, ',');
		g_string_append_len(cur, item->str, item->len);
	}
	if (cur->len > 0)
		g_ptr_array_add(out, g_strndup(cur->str, cur->len));
	return g_steal_pointer(&out);
}

static gint
pr_imap_seqset_uid_cmp(gconstpointer a, gconstpointer b)
{
	guint32 ua = *(const guint32 *)a;
	guint32 ub = *(const guint32 *)b;
	return ua < ub ? -1 : (ua > ub ? 1 : 0);
}

gchar *
pr_imap_seqset_format_uids(const guint32 *uids, gsize n)
{
	g_autoptr(PrImapSeqset) set = pr_imap_seqset_new();
	g_autofree guint32 *sorted = NULL;
	PrImapRange r;
	gsize i = 0;

	g_return_val_if_fail(uids != NULL || n == 0, NULL);

	if (n == 0)
		return g_strdup("");
	/* sort a copy and build ranges in one pass: no per-UID insertion cost */
	sorted = g_memdup2(uids, n * sizeof(guint32));
	qsort(sorted, n, sizeof(guint32), pr_imap_seqset_uid_cmp);
	/* UID 0 does not exist and is not valid in a set: skip it */
	while (i < n && sorted[i] == 0)
		i++;
	if (i == n)
		return g_strdup("");
	r.first = r.last = sorted[i];
	for (i++; i < n; i++) {
		if ((guint64)sorted[i] <= (guint64)r.last + 1) {
			r.last = MAX(r.last, sorted[i]);
			continue;
		}
		g_array_append_val(set->ranges, r);
		r.first = r.last = sorted[i];
	}
	g_array_append_val(set->ranges, r);
	return pr_imap_seqset_to_string(set);
}
