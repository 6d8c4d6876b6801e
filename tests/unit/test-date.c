/*
 * Copyright 2026 The Postroom developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <glib.h>
#include <string.h>

#include "pr-date.h"
#include "pr-error.h"

typedef struct {
	const gchar *in;
	gint64 unix_time; /* 0: not readable */
} DateCase;

/* Expected times were computed independently (Python's calendar.timegm). */
static const DateCase rfc5322_cases[] = {
	{ "Wed, 17 Jul 1996 02:23:25 -0700 (PDT)", 837595405 },
	{ "17 Jul 1996 09:23:25 +0000", 837595405 },
	{ "Fri, 1 Mar 2024 13:00:00 +0100", 1709294400 },
	{ "17 Jul 1996 09:23:25 +0530", 837575605 },
	{ "Fri, 1 Mar 2024 12:00:00 -1400", 1709344800 },
	/* obsolete zone names (RFC 5322 4.3) */
	{ "Wed, 17 Jul 96 02:23:25 PDT", 837595405 },
	{ "Wed, 17 Jul 1996 02:23:25 EST", 837588205 },
	{ "Wed, 17 Jul 1996 09:23:25 UT", 837595405 },
	{ "Wed, 17 Jul 1996 09:23:25 utc", 837595405 },
	{ "Wed, 17 Jul 1996 09:23:25 Z", 837595405 },
	/* military and unknown zones count as -0000 */
	{ "Wed, 17 Jul 1996 09:23:25 A", 837595405 },
	{ "Wed, 17 Jul 1996 09:23:25 XYZ", 837595405 },
	/* no zone at all */
	{ "17 Jul 1996 09:23:25", 837595405 },
	/* obsolete forms: no seconds, 2- and 3-digit years, no day name, dashes */
	{ "Wed, 17 Jul 1996 09:23 GMT", 837595380 },
	{ "17 Jul 49 09:23:25 +0000", 2510126605 },
	{ "17 Jul 50 09:23:25 +0000", -614097395 },
	{ "17 Jul 096 09:23:25 +0000", 837595405 },
	{ "17-Jul-1996 09:23:25 +0000", 837595405 },
	{ "  Wed,17 jul 1996 09:23:25 +0000", 837595405 },
	/* a leap second: GDateTime has none, so one second earlier */
	{ "31 Dec 2016 23:59:60 +0000", 1483228799 },
	/* unreadable */
	{ "garbage", 0 },
	{ "", 0 },
	{ "Fri, 31 Feb 2024 13:00:00 +0100", 0 },
	{ "17 Foo 1996 09:23:25 +0000", 0 },
	{ "17 Jul 1996 24:00:00 +0000", 0 },
	{ "17 Jul 1996 09:60:00 +0000", 0 },
	{ "17 Jul 1996 09:23:25 +0160", 0 },
	{ "17 Jul 1996 09:23:25 +01", 0 },
	{ "17 Jul 1996 0923", 0 },
	{ "17 Jul 1 09:23:25 +0000", 0 },
	{ "Wed, Jul 1996 09:23:25 +0000", 0 },
};

static void
test_date_rfc5322(void)
{
	for (guint i = 0; i < G_N_ELEMENTS(rfc5322_cases); i++) {
		g_test_message("%s", rfc5322_cases[i].in);
		g_assert_cmpint(
			pr_date_parse_rfc5322(rfc5322_cases[i].in), ==, rfc5322_cases[i].unix_time);
	}
}

static const DateCase internaldate_cases[] = {
	{ "17-Jul-1996 02:44:25 -0700", 837596665 },
	{ " 7-Jul-1996 02:44:25 +0000", 836707465 },
	{ "7-Jul-1996 02:44:25 +0000", 836707465 },
	{ "17-jul-1996 09:44:25 +0000", 837596665 },
	{ "17-Jul-1996 04:14:25 -0530", 837596665 },
	/* invalid: the IMAP form is strict */
	{ "17-Jul-1996 02:44", 0 },
	{ "17-Jul-1996 02:44:25", 0 },
	{ "17-Jul-1996 02:44:25 GMT", 0 },
	{ "17-Jul-96 02:44:25 +0000", 0 },
	{ "17 Jul 1996 02:44:25 +0000", 0 },
	{ "17-Jul-1996 02:44:25 +0000x", 0 },
	{ "17-Jul-1996 2:44:25 +0000", 0 },
	{ "31-Feb-2024 02:44:25 +0000", 0 },
	{ "17-Jul-1996 02:44:25 +0099", 0 },
	{ "", 0 },
};

static void
test_date_internaldate(void)
{
	for (guint i = 0; i < G_N_ELEMENTS(internaldate_cases); i++) {
		const DateCase *c = &internaldate_cases[i];
		g_autoptr(GError) error = NULL;
		gint64 t = -1;
		gboolean ok;

		g_test_message("%s", c->in);
		ok = pr_date_parse_internaldate(c->in, strlen(c->in), &t, &error);
		if (c->unix_time != 0) {
			g_assert_no_error(error);
			g_assert_true(ok);
			g_assert_cmpint(t, ==, c->unix_time);
		} else {
			g_assert_error(error, PR_ERROR, PR_ERROR_INVALID_ARGUMENT);
			g_assert_false(ok);
			g_assert_cmpint(t, ==, -1);
		}
	}
}

/* Exactly @len bytes are read: what follows (the rest of a response) is not part of it. */
static void
test_date_internaldate_len(void)
{
	const gchar *s = "17-Jul-1996 02:44:25 -0700\")\r\n";
	g_autoptr(GError) error = NULL;
	gint64 t = 0;

	g_assert_true(pr_date_parse_internaldate(s, 26, &t, &error));
	g_assert_no_error(error);
	g_assert_cmpint(t, ==, 837596665);
	g_assert_false(pr_date_parse_internaldate(s, 25, &t, NULL));
	g_assert_false(pr_date_parse_internaldate(s, 27, &t, NULL));
}

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/common/date/rfc5322", test_date_rfc5322);
	g_test_add_func("/common/date/internaldate", test_date_internaldate);
	g_test_add_func("/common/date/internaldate-len", test_date_internaldate_len);
	return g_test_run();
}
