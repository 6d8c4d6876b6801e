/*
 * Copyright 2026 The Postroom developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <glib.h>

#include "pr-error.h"
#include "pr-imap-utf7.h"

typedef struct {
	const gchar *utf8;
	const gchar *mutf7;
} Utf7Pair;

/* Expected encodings were computed independently (Python's utf-16-be + base64). */
static const Utf7Pair utf7_pairs[] = {
	{ "", "" },
	{ "INBOX", "INBOX" },
	{ "Gesendete Objekte", "Gesendete Objekte" },
	{ "Entwürfe", "Entw&APw-rfe" },
	{ "Отправленные", "&BB4EQgQ,BEAEMAQyBDsENQQ9BD0ESwQ1-" },
	{ "日本語", "&ZeVnLIqe-" },
	{ "📁 Archive", "&2D3cwQ- Archive" },
	{ "a&b", "a&-b" },
	{ "&&", "&-&-" },
	{ "é", "&AOk-" },
	{ "é&", "&AOk-&-" },
	/* RFC 3501 section 5.1.3 example */
	{ "~peter/mail/台北/日本語", "~peter/mail/&U,BTFw-/&ZeVnLIqe-" },
	{ "Ünïcödé & 📁📂", "&ANw-n&AO8-c&APY-d&AOk- &- &2D3cwdg93MI-" },
	{ "x\001y", "x&AAE-y" },
	{ "\177", "&AH8-" },
	{ "Ελληνικά", "&A5UDuwO7A7cDvQO5A7oDrA-" },
	{ "עברית", "&BeIF0QXoBdkF6g-" },
	{ "العربية", "&BicGRAY5BjEGKAZKBik-" },
	{ "한국어", "&1VytbcW0-" },
	{ "🎉", "&2DzfiQ-" },
	{ "a📁b🗂c", "a&2D3cwQ-b&2D3dwg-c" },
	{ "Posteingang/Entwürfe/Ärger", "Posteingang/Entw&APw-rfe/&AMQ-rger" },
};

static void
test_utf7_encode(void)
{
	for (guint i = 0; i < G_N_ELEMENTS(utf7_pairs); i++) {
		g_autoptr(GError) error = NULL;
		g_autofree gchar *enc = pr_imap_utf7_encode(utf7_pairs[i].utf8, &error);
		g_assert_no_error(error);
		g_assert_cmpstr(enc, ==, utf7_pairs[i].mutf7);
	}
}

static void
test_utf7_decode(void)
{
	for (guint i = 0; i < G_N_ELEMENTS(utf7_pairs); i++) {
		g_autoptr(GError) error = NULL;
		g_autofree gchar *dec = pr_imap_utf7_decode(utf7_pairs[i].mutf7, -1, &error);
		g_assert_no_error(error);
		g_assert_cmpstr(dec, ==, utf7_pairs[i].utf8);
	}
}

static void
test_utf7_decode_len(void)
{
	g_autoptr(GError) error = NULL;
	g_autofree gchar *dec = NULL;
	g_autofree gchar *amp = NULL;

	/* @len stops early: the rest is not looked at */
	dec = pr_imap_utf7_decode("&AOk-xyz&", 5, &error);
	g_assert_no_error(error);
	g_assert_cmpstr(dec, ==, "é");
	amp = pr_imap_utf7_decode("&--", 3, &error);
	g_assert_no_error(error);
	g_assert_cmpstr(amp, ==, "&-");
}

static void
test_utf7_decode_invalid(void)
{
	const gchar *invalid[] = {
		"&",	      /* unterminated */
		"abc&",	      /* unterminated */
		"&AOk",	      /* unterminated */
		"&A=k-",      /* '=' is not modified base64 */
		"&AO/-",      /* '/' is ',' in modified base64 */
		"&AO k-",     /* space inside a shift */
		"&AOl-",      /* non-zero leftover bits */
		"&AOkA-",     /* a whole spare base64 character */
		"&A-",	      /* too short for one UTF-16 unit */
		"&AGE-",      /* 'a' must not be encoded */
		"&ACY-",      /* '&' must be written "&-" */
		"&AOk-&AOk-", /* a shift directly after a shift */
		"&AGE-&AGE-", /* same, and printable inside */
		"&2D0-",      /* lone high surrogate */
		"&2D0AQQ-",   /* high surrogate then a non-surrogate */
		"&2D3YPQ-",   /* two high surrogates */
		"&3ME-",      /* lone low surrogate */
		"&3MHYPQ-",   /* low then high */
		"&AAA-",      /* encoded NUL */
		"Entwürfe",   /* raw 8-bit */
		"a\tb",	      /* raw control character */
		"a\177b",     /* raw DEL */
	};

	for (guint i = 0; i < G_N_ELEMENTS(invalid); i++) {
		g_autoptr(GError) error = NULL;
		g_autofree gchar *dec = pr_imap_utf7_decode(invalid[i], -1, &error);
		g_assert_error(error, PR_ERROR, PR_ERROR_PROTOCOL_ERROR);
		g_assert_null(dec);
	}
}

static void
test_utf7_decode_nul(void)
{
	g_autoptr(GError) error = NULL;
	g_autofree gchar *dec = pr_imap_utf7_decode("a\0b", 3, &error);
	g_assert_error(error, PR_ERROR, PR_ERROR_PROTOCOL_ERROR);
	g_assert_null(dec);
}

static void
test_utf7_bounds(void)
{
	g_autoptr(GError) error = NULL;
	g_autofree gchar *max = g_strnfill(64 * 1024, 'a');
	g_autofree gchar *over = g_strnfill(64 * 1024 + 1, 'a');
	g_autofree gchar *dec_max = NULL;
	g_autofree gchar *dec_over = NULL;
	g_autofree gchar *enc_max = NULL;
	g_autofree gchar *enc_over = NULL;

	dec_max = pr_imap_utf7_decode(max, -1, &error);
	g_assert_no_error(error);
	g_assert_cmpstr(dec_max, ==, max);
	enc_max = pr_imap_utf7_encode(max, &error);
	g_assert_no_error(error);
	g_assert_cmpstr(enc_max, ==, max);

	dec_over = pr_imap_utf7_decode(over, -1, &error);
	g_assert_error(error, PR_ERROR, PR_ERROR_PROTOCOL_ERROR);
	g_assert_null(dec_over);
	g_clear_error(&error);
	enc_over = pr_imap_utf7_encode(over, &error);
	g_assert_error(error, PR_ERROR, PR_ERROR_INVALID_ARGUMENT);
	g_assert_null(enc_over);
}

static void
test_utf7_encode_invalid(void)
{
	const gchar *invalid[] = {
		"\xff",
		"Entw\xfcrfe",	    /* Latin-1, not UTF-8 */
		"\xc3",		    /* truncated sequence */
		"\xed\xa0\xbd",	    /* CESU-style surrogate */
		"\xf4\x90\x80\x80", /* beyond U+10FFFF */
		"\xc0\xaf",	    /* overlong '/' */
	};

	for (guint i = 0; i < G_N_ELEMENTS(invalid); i++) {
		g_autoptr(GError) error = NULL;
		g_autofree gchar *enc = pr_imap_utf7_encode(invalid[i], &error);
		g_assert_error(error, PR_ERROR, PR_ERROR_INVALID_ARGUMENT);
		g_assert_null(enc);
	}
}

/* Every BMP character (outside surrogates) and a spread of supplementary ones survive
 * encode then decode, each alone and between ASCII. */
static void
test_utf7_roundtrip_all(void)
{
	for (gunichar c = 1; c <= 0x10ffff; c += (c < 0x10000 ? 1 : 97)) {
		g_autoptr(GError) error = NULL;
		g_autofree gchar *enc = NULL;
		g_autofree gchar *dec = NULL;
		gchar buf[16] = { 'x', 0 };
		gint n;

		if (c >= 0xd800 && c <= 0xdfff)
			continue;
		n = g_unichar_to_utf8(c, buf + 1);
		buf[1 + n] = 'y';
		buf[2 + n] = '\0';
		enc = pr_imap_utf7_encode(buf, &error);
		g_assert_no_error(error);
		dec = pr_imap_utf7_decode(enc, -1, &error);
		g_assert_no_error(error);
		g_assert_cmpstr(dec, ==, buf);
	}
}

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/imap/utf7/encode", test_utf7_encode);
	g_test_add_func("/imap/utf7/decode", test_utf7_decode);
	g_test_add_func("/imap/utf7/decode-len", test_utf7_decode_len);
	g_test_add_func("/imap/utf7/decode-invalid", test_utf7_decode_invalid);
	g_test_add_func("/imap/utf7/decode-nul", test_utf7_decode_nul);
	g_test_add_func("/imap/utf7/bounds", test_utf7_bounds);
	g_test_add_func("/imap/utf7/encode-invalid", test_utf7_encode_invalid);
	g_test_add_func("/imap/utf7/roundtrip-all", test_utf7_roundtrip_all);
	return g_test_run();
}
