/*
 * Copyright 2026 The Postroom developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <glib.h>
#include <string.h>

#include "pr-rfc2047.h"

typedef struct {
	const gchar *in;
	const gchar *out;
} Rfc2047Case;

/* Expected results were written by hand from RFC 2047 (base64 by Python's base64). */
static const Rfc2047Case rfc2047_cases[] = {
	/* B and Q encodings, charset names in any case */
	{ "=?UTF-8?B?w6lsw6h2ZQ==?=", "\xc3\xa9l\xc3\xa8ve" },
	{ "=?utf-8?b?w6lsw6h2ZQ==?=", "\xc3\xa9l\xc3\xa8ve" },
	{ "=?utf-8?q?caf=C3=A9_cr=C3=A8me?=", "caf\xc3\xa9 cr\xc3\xa8me" },
	{ "=?UTF-8?Q?caf=c3=a9?=", "caf\xc3\xa9" },
	{ "=?US-ASCII?Q?plain_text?=", "plain text" },
	/* other charsets */
	{ "=?ISO-8859-1?Q?Gr=FC=DFe?= aus Bonn",
	  "Gr\xc3\xbc\xc3\x9f"
	  "e aus Bonn" },
	{ "=?iso-8859-1?B?R3L832U=?=",
	  "Gr\xc3\xbc\xc3\x9f"
	  "e" },
	{ "=?latin1?Q?=E9?=", "\xc3\xa9" },
	{ "=?windows-1252?Q?=80_5?=", "\xe2\x82\xac 5" },
	{ "=?ISO-2022-JP?B?GyRCJUYlOSVIGyhC?=", "\xe3\x83\x86\xe3\x82\xb9\xe3\x83\x88" },
	/* RFC 2231 language suffix */
	{ "=?UTF-8*en?Q?hi?=", "hi" },
	/* mixed with plain text */
	{ "Re: =?UTF-8?Q?h=C3=A9llo?= world", "Re: h\xc3\xa9llo world" },
	{ "=?UTF-8?Q?a?= x =?UTF-8?Q?b?=", "a x b" },
	/* adjacent encoded words: the whitespace between them disappears */
	{ "=?UTF-8?B?4oKs?= =?UTF-8?B?MTA=?=",
	  "\xe2\x82\xac"
	  "10" },
	{ "=?UTF-8?Q?a?=\r\n =?UTF-8?Q?b?=", "ab" },
	{ "=?UTF-8?Q?a?==?UTF-8?Q?b?=", "ab" },
	/* a character split across two words, and words in two charsets side by side */
	{ "=?UTF-8?Q?=C3?=  =?UTF-8?Q?=A9?=", "\xc3\xa9" },
	{ "=?ISO-8859-1?Q?=E9?= =?UTF-8?Q?=C3=A9?=", "\xc3\xa9\xc3\xa9" },
	/* bad input: kept as sent */
	{ "=?x-unknown-cs?Q?abc?=", "=?x-unknown-cs?Q?abc?=" },
	{ "=?UTF-8?Q?a=ZZ?=", "=?UTF-8?Q?a=ZZ?=" },
	{ "=?UTF-8?Q?a=C?=", "=?UTF-8?Q?a=C?=" },
	{ "=?UTF-8?B?w6*=?=", "=?UTF-8?B?w6*=?=" },
	{ "=?UTF-8?X?abc?=", "=?UTF-8?X?abc?=" },
	{ "=?UTF-8?Q?a b?=", "=?UTF-8?Q?a b?=" },
	{ "=??Q?abc?=", "=??Q?abc?=" },
	{ "=?*en?Q?abc?=", "=?*en?Q?abc?=" },
	{ "=?aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa?Q?abc?=",
	  "=?aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa?Q?abc?=" },
	{ "=?UTF-8?Q?abc", "=?UTF-8?Q?abc" },
	/* not encoded words at all */
	{ "", "" },
	{ "plain", "plain" },
	{ "1 + 1 = 2 ?= yes", "1 + 1 = 2 ?= yes" },
	{ "=?", "=?" },
	/* a broken word does not swallow the next one */
	{ "=?a?Q?x=?UTF-8?Q?caf=C3=A9?=", "=?a?Q?xcaf\xc3\xa9" },
	/* an empty encoded word (a fuzzer finding) */
	{ "a=?UTF-8?B?\?=b", "ab" },
	/* what reaches callers is valid UTF-8 without CR or LF */
	{ "=?UTF-8?Q?a=0D=0Ab?=", "a  b" },
	{ "=?UTF-8?Q?caf=E9?=", "caf\xef\xbf\xbd" },
	{ "line\r\nbreak", "line  break" },
};

static void
test_rfc2047_decode(void)
{
	for (guint i = 0; i < G_N_ELEMENTS(rfc2047_cases); i++) {
		const Rfc2047Case *c = &rfc2047_cases[i];
		g_autofree gchar *out = pr_rfc2047_decode(c->in, strlen(c->in));
		g_test_message("%s", c->in);
		g_assert_cmpstr(out, ==, c->out);
	}
}

/* Exactly @len bytes are read. */
static void
test_rfc2047_len(void)
{
	const gchar *in = "=?UTF-8?Q?caf=C3=A9?= and more";
	g_autofree gchar *word = pr_rfc2047_decode(in, 21);
	g_autofree gchar *cut = pr_rfc2047_decode(in, 20);

	g_assert_cmpstr(word, ==, "caf\xc3\xa9");
	g_assert_cmpstr(cut, ==, "=?UTF-8?Q?caf=C3=A9?");
}

/* Header text longer than the bound is left encoded (but still made displayable). */
static void
test_rfc2047_bound(void)
{
	g_autoptr(GString) in = g_string_new("=?UTF-8?Q?caf=C3=A9?=");
	g_autofree gchar *out = NULL;

	while (in->len <= 64 * 1024)
		g_string_append_c(in, 'x');
	out = pr_rfc2047_decode(in->str, in->len);
	g_assert_cmpstr(out, ==, in->str);
	g_string_truncate(in, 64 * 1024);
	g_clear_pointer(&out, g_free);
	out = pr_rfc2047_decode(in->str, in->len);
	g_assert_true(g_str_has_prefix(out, "caf\xc3\xa9x"));
}

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/common/rfc2047/decode", test_rfc2047_decode);
	g_test_add_func("/common/rfc2047/len", test_rfc2047_len);
	g_test_add_func("/common/rfc2047/bound", test_rfc2047_bound);
	return g_test_run();
}
