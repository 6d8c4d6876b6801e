/*
 * Copyright 2026 The Postroom developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <glib.h>
#include <string.h>

#include "pr-error.h"
#include "pr-imap-seqset.h"

static void
test_seqset_parse(void)
{
	const struct {
		const gchar *text;
		guint32 star;
		const gchar *compact;
		guint64 count;
		guint n_ranges;
	} cases[] = {
		{ "1", 0, "1", 1, 1 },
		{ "1,3:5,9:*", 12, "1,3:5,9:12", 8, 3 },
		{ "5:3", 0, "3:5", 3, 1 },
		{ "*:9", 12, "9:12", 4, 1 },
		{ "*", 7, "7", 1, 1 },
		{ "1:*", 4294967295u, "1:4294967295", 4294967295u, 1 },
		{ "1:4294967295", 0, "1:4294967295", 4294967295u, 1 },
		{ "4294967295", 0, "4294967295", 1, 1 },
		{ "3,1,2", 0, "1:3", 3, 1 },
		{ "1:5,2:3,4:10,12", 0, "1:10,12", 11, 2 },
		{ "7,7,7", 0, "7", 1, 1 },
		{ "10:20,1:9", 0, "1:20", 20, 1 },
		{ "4294967294,4294967295,1", 0, "1,4294967294:4294967295", 3, 2 },
	};

	for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
		g_autoptr(GError) error = NULL;
		g_autoptr(PrImapSeqset) set = NULL;
		g_autofree gchar *str = NULL;

		set = pr_imap_seqset_parse(cases[i].text, cases[i].star, 0, &error);
		g_assert_no_error(error);
		g_assert_nonnull(set);
		str = pr_imap_seqset_to_string(set);
		g_assert_cmpstr(str, ==, cases[i].compact);
		g_assert_cmpuint(pr_imap_seqset_count(set), ==, cases[i].count);
		g_assert_cmpuint(pr_imap_seqset_get_n_ranges(set), ==, cases[i].n_ranges);
	}
}

static void
test_seqset_parse_invalid(void)
{
	const struct {
		const gchar *text;
		guint32 star;
	} cases[] = {
		{ "", 10 },
		{ "0", 10 },
		{ "0:5", 10 },
		{ "1:0", 10 },
		{ "01", 10 },
		{ "4294967296", 10 },
		{ "1:4294967296", 10 },
		{ "99999999999999999999999", 10 },
		{ "1,,2", 10 },
		{ ",1", 10 },
		{ "1,", 10 },
		{ "1:", 10 },
		{ ":1", 10 },
		{ "1::2", 10 },
		{ "1:2:3", 10 },
		{ "1 ,2", 10 },
		{ " 1", 10 },
		{ "1 ", 10 },
		{ "-1", 10 },
		{ "+1", 10 },
		{ "a", 10 },
		{ "1:*", 0 },
		{ "*", 0 },
		{ "**", 10 },
		{ "1\n", 10 },
	};

	for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
		g_autoptr(GError) error = NULL;
		g_autoptr(PrImapSeqset) set = NULL;

		set = pr_imap_seqset_parse(cases[i].text, cases[i].star, 0, &error);
		g_assert_error(error, PR_ERROR, PR_ERROR_PROTOCOL_ERROR);
		g_assert_null(set);
	}
}

/* net-imap CVE-2025-25186: a short string must never expand into memory per number, and
 * a string of very many ranges stops at the bound. */
static void
test_seqset_bomb(void)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(PrImapSeqset) set = NULL;
	g_autoptr(PrImapSeqset) many = NULL;
	g_autoptr(PrImapSeqset) limit = NULL;
	g_autoptr(PrImapSeqset) over = NULL;
	g_autoptr(GString) str = g_string_new(NULL);

	set = pr_imap_seqset_parse("1:4294967295", 0, 0, &error);
	g_assert_no_error(error);
	g_assert_cmpuint(pr_imap_seqset_get_n_ranges(set), ==, 1);
	g_assert_cmpuint(pr_imap_seqset_count(set), ==, G_MAXUINT32);

	/* 10^6 ranges: beyond the default bound of 100,000 */
	for (guint i = 0; i < 1000000; i++)
		g_string_append_printf(str, "%s%u", i > 0 ? "," : "", i * 2 + 1);
	many = pr_imap_seqset_parse(str->str, 0, 0, &error);
	g_assert_error(error, PR_ERROR, PR_ERROR_PROTOCOL_ERROR);
	g_assert_null(many);
	g_clear_error(&error);

	/* exactly at an explicit bound is fine, one more is not */
	limit = pr_imap_seqset_parse("1,3,5", 0, 3, &error);
	g_assert_no_error(error);
	g_assert_cmpuint(pr_imap_seqset_get_n_ranges(limit), ==, 3);
	over = pr_imap_seqset_parse("1,3,5,7", 0, 3, &error);
	g_assert_error(error, PR_ERROR, PR_ERROR_PROTOCOL_ERROR);
	g_assert_null(over);
}

static void
test_seqset_default_bound(void)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(PrImapSeqset) at = NULL;
	g_autoptr(PrImapSeqset) over = NULL;
	g_autoptr(GString) str = g_string_new(NULL);

	for (guint i = 0; i < 100000; i++)
		g_string_append_printf(str, "%s%u", i > 0 ? "," : "", i * 2 + 1);
	at = pr_imap_seqset_parse(str->str, 0, 0, &error);
	g_assert_no_error(error);
	g_assert_cmpuint(pr_imap_seqset_get_n_ranges(at), ==, 100000);
	g_assert_cmpuint(pr_imap_seqset_count(at), ==, 100000);
	g_string_append(str, ",1000000");
	over = pr_imap_seqset_parse(str->str, 0, 0, &error);
	g_assert_error(error, PR_ERROR, PR_ERROR_PROTOCOL_ERROR);
	g_assert_null(over);
}

static void
test_seqset_add(void)
{
	g_autoptr(PrImapSeqset) set = pr_imap_seqset_new();
	g_autofree gchar *s1 = NULL;
	g_autofree gchar *s2 = NULL;
	g_autofree gchar *s3 = NULL;
	g_autofree gchar *s4 = NULL;
	g_autofree gchar *s5 = NULL;
	const PrImapRange *r;

	s1 = pr_imap_seqset_to_string(set);
	g_assert_cmpstr(s1, ==, "");
	g_assert_cmpuint(pr_imap_seqset_count(set), ==, 0);
	g_assert_false(pr_imap_seqset_contains(set, 1));

	pr_imap_seqset_add(set, 9);
	pr_imap_seqset_add(set, 1);
	pr_imap_seqset_add(set, 5);
	pr_imap_seqset_add_range(set, 12, 10);
	s2 = pr_imap_seqset_to_string(set);
	g_assert_cmpstr(s2, ==, "1,5,9:12");

	/* touching ranges merge */
	pr_imap_seqset_add_range(set, 2, 4);
	s3 = pr_imap_seqset_to_string(set);
	g_assert_cmpstr(s3, ==, "1:5,9:12");

	/* one range swallowing several */
	pr_imap_seqset_add(set, 7);
	pr_imap_seqset_add_range(set, 6, 20);
	s4 = pr_imap_seqset_to_string(set);
	g_assert_cmpstr(s4, ==, "1:20");
	g_assert_cmpuint(pr_imap_seqset_get_n_ranges(set), ==, 1);

	/* the top of the UID space does not wrap */
	pr_imap_seqset_add(set, G_MAXUINT32);
	pr_imap_seqset_add_range(set, G_MAXUINT32 - 1, G_MAXUINT32);
	pr_imap_seqset_add(set, 22);
	s5 = pr_imap_seqset_to_string(set);
	g_assert_cmpstr(s5, ==, "1:20,22,4294967294:4294967295");
	g_assert_cmpuint(pr_imap_seqset_count(set), ==, 23);
	g_assert_cmpuint(pr_imap_seqset_get_n_ranges(set), ==, 3);
	r = pr_imap_seqset_get_range(set, 1);
	g_assert_cmpuint(r->first, ==, 22);
	g_assert_cmpuint(r->last, ==, 22);
	r = pr_imap_seqset_get_range(set, 2);
	g_assert_cmpuint(r->first, ==, G_MAXUINT32 - 1);
	g_assert_cmpuint(r->last, ==, G_MAXUINT32);
}

static void
test_seqset_contains(void)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(PrImapSeqset) set = pr_imap_seqset_parse("2:4,8,10:20,4294967295", 0, 0, &error);

	g_assert_no_error(error);
	g_assert_false(pr_imap_seqset_contains(set, 1));
	g_assert_true(pr_imap_seqset_contains(set, 2));
	g_assert_true(pr_imap_seqset_contains(set, 3));
	g_assert_true(pr_imap_seqset_contains(set, 4));
	g_assert_false(pr_imap_seqset_contains(set, 5));
	g_assert_false(pr_imap_seqset_contains(set, 7));
	g_assert_true(pr_imap_seqset_contains(set, 8));
	g_assert_false(pr_imap_seqset_contains(set, 9));
	g_assert_true(pr_imap_seqset_contains(set, 10));
	g_assert_true(pr_imap_seqset_contains(set, 20));
	g_assert_false(pr_imap_seqset_contains(set, 21));
	g_assert_false(pr_imap_seqset_contains(set, G_MAXUINT32 - 1));
	g_assert_true(pr_imap_seqset_contains(set, G_MAXUINT32));
	g_assert_false(pr_imap_seqset_contains(set, 0));
}

/* Compares a large randomly built set against a plain bitmap. */
static void
test_seqset_random(void)
{
	g_autoptr(PrImapSeqset) set = pr_imap_seqset_new();
	g_autoptr(PrImapSeqset) reparsed = NULL;
	g_autoptr(GError) error = NULL;
	g_autofree gchar *str = NULL;
	g_autofree gchar *str2 = NULL;
	gboolean bitmap[2001] = { FALSE };
	guint64 expected = 0;
	GRand *rand = g_rand_new_with_seed(42);

	for (guint i = 0; i < 500; i++) {
		guint32 a = (guint32)g_rand_int_range(rand, 1, 2001);
		guint32 b = MIN(2000, a + (guint32)g_rand_int_range(rand, 0, 6));
		pr_imap_seqset_add_range(set, a, b);
		for (guint32 v = a; v <= b; v++)
			bitmap[v] = TRUE;
	}
	g_rand_free(rand);
	for (guint32 v = 1; v <= 2000; v++) {
		g_assert_cmpint(pr_imap_seqset_contains(set, v), ==, bitmap[v]);
		expected += bitmap[v] ? 1 : 0;
	}
	g_assert_cmpuint(pr_imap_seqset_count(set), ==, expected);
	/* ranges stay sorted, disjoint and non-adjacent */
	for (guint i = 1; i < pr_imap_seqset_get_n_ranges(set); i++) {
		const PrImapRange *prev = pr_imap_seqset_get_range(set, i - 1);
		const PrImapRange *cur = pr_imap_seqset_get_range(set, i);
		g_assert_cmpuint(prev->first, <=, prev->last);
		g_assert_cmpuint((guint64)prev->last + 1, <, cur->first);
	}
	str = pr_imap_seqset_to_string(set);
	reparsed = pr_imap_seqset_parse(str, 0, 0, &error);
	g_assert_no_error(error);
	str2 = pr_imap_seqset_to_string(reparsed);
	g_assert_cmpstr(str, ==, str2);
}

static void
test_seqset_to_strings(void)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(PrImapSeqset) set =
		pr_imap_seqset_parse("1:5,7,9:12,100,1000:2000", 0, 0, &error);
	g_autoptr(PrImapSeqset) empty = pr_imap_seqset_new();
	g_autoptr(GPtrArray) all = NULL;
	g_autoptr(GPtrArray) split = NULL;
	g_autoptr(GPtrArray) tiny = NULL;
	g_autoptr(GPtrArray) none = NULL;
	g_autoptr(GPtrArray) exact = NULL;

	g_assert_no_error(error);
	all = pr_imap_seqset_to_strings(set, 1000);
	g_assert_cmpuint(all->len, ==, 1);
	g_assert_cmpstr(g_ptr_array_index(all, 0), ==, "1:5,7,9:12,100,1000:2000");

	/* "1:5,7" is 5 bytes; adding ",9:12" would make 10 */
	split = pr_imap_seqset_to_strings(set, 9);
	g_assert_cmpuint(split->len, ==, 3);
	g_assert_cmpstr(g_ptr_array_index(split, 0), ==, "1:5,7");
	g_assert_cmpstr(g_ptr_array_index(split, 1), ==, "9:12,100");
	g_assert_cmpstr(g_ptr_array_index(split, 2), ==, "1000:2000");

	/* a limit that fits exactly */
	exact = pr_imap_seqset_to_strings(set, 10);
	g_assert_cmpuint(exact->len, ==, 3);
	g_assert_cmpstr(g_ptr_array_index(exact, 0), ==, "1:5,7,9:12");
	g_assert_cmpstr(g_ptr_array_index(exact, 1), ==, "100");
	g_assert_cmpstr(g_ptr_array_index(exact, 2), ==, "1000:2000");

	/* a range longer than the limit is kept whole, alone */
	tiny = pr_imap_seqset_to_strings(set, 2);
	g_assert_cmpuint(tiny->len, ==, 5);
	g_assert_cmpstr(g_ptr_array_index(tiny, 0), ==, "1:5");
	g_assert_cmpstr(g_ptr_array_index(tiny, 1), ==, "7");
	g_assert_cmpstr(g_ptr_array_index(tiny, 4), ==, "1000:2000");

	none = pr_imap_seqset_to_strings(empty, 100);
	g_assert_cmpuint(none->len, ==, 0);
}

static void
test_seqset_to_strings_large(void)
{
	g_autoptr(PrImapSeqset) set = pr_imap_seqset_new();
	g_autoptr(PrImapSeqset) joined = pr_imap_seqset_new();
	g_autoptr(GPtrArray) parts = NULL;
	g_autofree gchar *orig = NULL;
	g_autofree gchar *back = NULL;

	for (guint32 i = 1; i < 20000; i += 3)
		pr_imap_seqset_add(set, i * 1000);
	parts = pr_imap_seqset_to_strings(set, 1000);
	g_assert_cmpuint(parts->len, >, 1);
	for (guint i = 0; i < parts->len; i++) {
		const gchar *s = g_ptr_array_index(parts, i);
		g_autoptr(GError) error = NULL;
		g_autoptr(PrImapSeqset) part = NULL;

		g_assert_cmpuint(strlen(s), <=, 1000);
		g_assert_false(g_str_has_prefix(s, ","));
		g_assert_false(g_str_has_suffix(s, ","));
		part = pr_imap_seqset_parse(s, 0, 0, &error);
		g_assert_no_error(error);
		for (guint j = 0; j < pr_imap_seqset_get_n_ranges(part); j++) {
			const PrImapRange *r = pr_imap_seqset_get_range(part, j);
			pr_imap_seqset_add_range(joined, r->first, r->last);
		}
	}
	orig = pr_imap_seqset_to_string(set);
	back = pr_imap_seqset_to_string(joined);
	g_assert_cmpstr(orig, ==, back);
}

static void
test_seqset_format_uids(void)
{
	const guint32 uids[] = { 12, 1, 2, 3, 9, 4, 5, 7, 10, 11, 3, 3 };
	const guint32 top[] = { G_MAXUINT32, G_MAXUINT32 - 1, 1 };
	const guint32 one[] = { 42 };
	const guint32 zero[] = { 0, 5, 0, 6 };
	g_autofree gchar *s1 = pr_imap_seqset_format_uids(uids, G_N_ELEMENTS(uids));
	g_autofree gchar *s2 = pr_imap_seqset_format_uids(top, G_N_ELEMENTS(top));
	g_autofree gchar *s3 = pr_imap_seqset_format_uids(one, 1);
	g_autofree gchar *s4 = pr_imap_seqset_format_uids(NULL, 0);
	g_autofree gchar *s5 = pr_imap_seqset_format_uids(zero, G_N_ELEMENTS(zero));

	g_assert_cmpstr(s1, ==, "1:5,7,9:12");
	g_assert_cmpstr(s2, ==, "1,4294967294:4294967295");
	g_assert_cmpstr(s3, ==, "42");
	g_assert_cmpstr(s4, ==, "");
	g_assert_cmpstr(s5, ==, "5:6");
}

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/imap/seqset/parse", test_seqset_parse);
	g_test_add_func("/imap/seqset/parse-invalid", test_seqset_parse_invalid);
	g_test_add_func("/imap/seqset/bomb", test_seqset_bomb);
	g_test_add_func("/imap/seqset/default-bound", test_seqset_default_bound);
	g_test_add_func("/imap/seqset/add", test_seqset_add);
	g_test_add_func("/imap/seqset/contains", test_seqset_contains);
	g_test_add_func("/imap/seqset/random", test_seqset_random);
	g_test_add_func("/imap/seqset/to-strings", test_seqset_to_strings);
	g_test_add_func("/imap/seqset/to-strings-large", test_seqset_to_strings_large);
	g_test_add_func("/imap/seqset/format-uids", test_seqset_format_uids);
	return g_test_run();
}
