/*
 * Copyright 2026 The Postroom developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#define G_LOG_DOMAIN "PrRfc2047"

#include <string.h>

#include "pr-rfc2047.h"

#define PR_RFC2047_MAX	       (64 * 1024) /* longer header text is not decoded */
#define PR_RFC2047_CHARSET_MAX 40

gchar *
pr_rfc2047_dup_display(const gchar *s, gsize len)
{
	gchar *out;

	if (g_utf8_validate(s, (gssize)len, NULL))
		out = g_strndup(s, len);
	else
		out = g_utf8_make_valid(s, (gssize)len);
	for (gchar *p = out; *p != '\0'; p++) {
		if (*p == '\r' || *p == '\n')
			*p = ' ';
	}
	return out;
}

typedef struct {
	GString *out;
	GByteArray *bytes; /* decoded bytes of adjacent words in one charset */
	gchar charset[PR_RFC2047_CHARSET_MAX + 1];
	const gchar *raw; /* their encoded form, kept for a failed conversion */
	gsize raw_len;
} PrRfc2047State;

/*
 * Opening an iconv converter loads and unloads a gconv module each time, which costs more
 * than the decoding; keep a few open. Bounded: charset names come from the server.
 */
#define PR_RFC2047_ICONV_CACHE 16

typedef struct {
	gchar charset[PR_RFC2047_CHARSET_MAX + 1];
	GIConv cd;
} PrRfc2047Iconv;

static GMutex pr_rfc2047_iconv_lock;
static PrRfc2047Iconv pr_rfc2047_iconv_cache[PR_RFC2047_ICONV_CACHE];
static guint pr_rfc2047_iconv_n;

static gchar *
pr_rfc2047_convert_latin1(const guint8 *in, gsize len, gsize *written)
{
	gchar *out = g_malloc(len * 2 + 1);
	gsize o = 0;

	for (gsize i = 0; i < len; i++) {
		if (in[i] < 0x80) {
			out[o++] = (gchar)in[i];
		} else {
			out[o++] = (gchar)(0xc0 | (in[i] >> 6));
			out[o++] = (gchar)(0x80 | (in[i] & 0x3f));
		}
	}
	out[o] = '\0';
	*written = o;
	return out;
}

static gchar *
pr_rfc2047_convert(const guint8 *in, gsize len, const gchar *charset, gsize *written)
{
	g_autoptr(GMutexLocker) locker = NULL;
	GIConv cd = (GIConv)-1;

	if (g_ascii_strcasecmp(charset, "ISO-8859-1") == 0 ||
	    g_ascii_strcasecmp(charset, "ISO8859-1") == 0 ||
	    g_ascii_strcasecmp(charset, "LATIN1") == 0)
		return pr_rfc2047_convert_latin1(in, len, written);
	locker = g_mutex_locker_new(&pr_rfc2047_iconv_lock);
	for (guint i = 0; i < pr_rfc2047_iconv_n; i++) {
		if (g_ascii_strcasecmp(pr_rfc2047_iconv_cache[i].charset, charset) == 0) {
			cd = pr_rfc2047_iconv_cache[i].cd;
			break;
		}
	}
	if (cd == (GIConv)-1) {
		if (pr_rfc2047_iconv_n == PR_RFC2047_ICONV_CACHE)
			return g_convert((const gchar *)in,
					 (gssize)len,
					 "UTF-8",
					 charset,
					 NULL,
					 written,
					 NULL);
		cd = g_iconv_open("UTF-8", charset);
		if (cd == (GIConv)-1)
			return NULL;
		g_strlcpy(pr_rfc2047_iconv_cache[pr_rfc2047_iconv_n].charset,
			  charset,
			  sizeof(pr_rfc2047_iconv_cache[pr_rfc2047_iconv_n].charset));
		pr_rfc2047_iconv_cache[pr_rfc2047_iconv_n++].cd = cd;
	}
	/* a stateful charset (ISO-2022-JP) may have been left mid-shift by a failure */
	g_iconv(cd, NULL, NULL, NULL, NULL);
	return g_convert_with_iconv((const gchar *)in, (gssize)len, cd, NULL, written, NULL);
}

static void
pr_rfc2047_flush(PrRfc2047State *st)
{
	g_autofree gchar *conv = NULL;
	gsize written = 0;

	if (st->raw_len == 0)
		return;
	/* an empty encoded word decodes to nothing (and an empty GByteArray has no data) */
	if (st->bytes->len == 0) {
		st->raw_len = 0;
		return;
	}
	if (g_ascii_strcasecmp(st->charset, "UTF-8") == 0 ||
	    g_ascii_strcasecmp(st->charset, "US-ASCII") == 0) {
		conv = g_utf8_make_valid((const gchar *)st->bytes->data, (gssize)st->bytes->len);
		written = strlen(conv);
	} else {
		conv = pr_rfc2047_convert(st->bytes->data, st->bytes->len, st->charset, &written);
	}
	if (conv != NULL)
		g_string_append_len(st->out, conv, (gssize)written);
	else
		g_string_append_len(st->out, st->raw, (gssize)st->raw_len);
	g_byte_array_set_size(st->bytes, 0);
	st->raw_len = 0;
}

static gint
pr_rfc2047_hex(gchar c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* "=?charset?B|Q?text?=" at @p: the decoded bytes go to st->bytes. */
static gboolean
pr_rfc2047_word(PrRfc2047State *st, const gchar *p, const gchar *end, const gchar **word_end)
{
	const gchar *cs = p + 2;
	const gchar *q = cs;
	const gchar *text;
	const gchar *tend;
	gchar charset[PR_RFC2047_CHARSET_MAX + 1];
	gsize cs_len;
	gchar enc;

	while (q < end && *q != '?' && (g_ascii_isalnum(*q) || strchr("-_.:*", *q) != NULL))
		q++;
	cs_len = (gsize)(q - cs);
	if (q + 3 >= end || *q != '?' || cs_len == 0 || cs_len > PR_RFC2047_CHARSET_MAX)
		return FALSE;
	memcpy(charset, cs, cs_len);
	charset[cs_len] = '\0';
	/* RFC 2231 language suffix: "utf-8*en" */
	if (strchr(charset, '*') != NULL)
		*strchr(charset, '*') = '\0';
	if (charset[0] == '\0')
		return FALSE;
	enc = g_ascii_toupper(q[1]);
	if ((enc != 'B' && enc != 'Q') || q[2] != '?')
		return FALSE;
	/* encoded-text holds no "?" (RFC 2047 2): the first one must start "?=". Stopping
	 * there keeps failed attempts from rescanning each other's text. */
	text = q + 3;
	tend = text;
	while (tend < end && *tend != '?') {
		if (*tend <= ' ' || (guchar)*tend >= 0x7f)
			return FALSE;
		tend++;
	}
	if (tend + 1 >= end || tend[1] != '=')
		return FALSE;

	if (st->raw_len > 0 && g_ascii_strcasecmp(st->charset, charset) != 0)
		pr_rfc2047_flush(st);
	if (enc == 'B') {
		g_autofree gchar *b64 = g_strndup(text, (gsize)(tend - text));
		g_autofree guchar *bin = NULL;
		gsize bin_len = 0;
		for (const gchar *c = b64; *c != '\0'; c++) {
			if (!g_ascii_isalnum(*c) && *c != '+' && *c != '/' && *c != '=')
				return FALSE;
		}
		bin = g_base64_decode(b64, &bin_len);
		g_byte_array_append(st->bytes, bin, (guint)bin_len);
	} else {
		guint before = st->bytes->len;
		for (const gchar *c = text; c < tend; c++) {
			guint8 b = (guint8)*c;
			if (*c == '_') {
				b = ' ';
			} else if (*c == '=') {
				gint hi = tend - c >= 3 ? pr_rfc2047_hex(c[1]) : -1;
				gint lo = hi >= 0 ? pr_rfc2047_hex(c[2]) : -1;
				if (hi < 0 || lo < 0) {
					g_byte_array_set_size(st->bytes, before);
					return FALSE;
				}
				b = (guint8)(hi * 16 + lo);
				c += 2;
			}
			g_byte_array_append(st->bytes, &b, 1);
		}
	}
	if (st->raw_len == 0) {
		st->raw = p;
		g_strlcpy(st->charset, charset, sizeof(st->charset));
	}
	*word_end = tend + 2;
	st->raw_len = (gsize)(*word_end - st->raw);
	return TRUE;
}

gchar *
pr_rfc2047_decode(const gchar *in, gsize len)
{
	PrRfc2047State st = { 0 };
	const gchar *p = in;
	const gchar *end = in + len;
	g_autoptr(GByteArray) bytes = g_byte_array_new();
	g_autofree gchar *plain = NULL;

	if (len > PR_RFC2047_MAX || memchr(in, '=', len) == NULL)
		return pr_rfc2047_dup_display(in, len);
	st.out = g_string_sized_new(len);
	st.bytes = bytes;
	while (p < end) {
		const gchar *word_end = NULL;
		const gchar *ws = p;

		if (p[0] == '=' && p + 1 < end && p[1] == '?' &&
		    pr_rfc2047_word(&st, p, end, &word_end)) {
			p = word_end;
			continue;
		}
		if (st.raw_len > 0) {
			/* whitespace followed by another encoded word is not text */
			while (ws < end && g_ascii_isspace(*ws))
				ws++;
			if (ws > p && ws + 1 < end && ws[0] == '=' && ws[1] == '?' &&
			    pr_rfc2047_word(&st, ws, end, &word_end)) {
				p = word_end;
				continue;
			}
			pr_rfc2047_flush(&st);
		}
		g_string_append_c(st.out, *p);
		p++;
	}
	pr_rfc2047_flush(&st);
	plain = g_string_free(st.out, FALSE);
	return pr_rfc2047_dup_display(plain, strlen(plain));
}
