/*
 * Copyright 2026 The Postroom developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#define G_LOG_DOMAIN "PrImap"

#include <string.h>

#include "pr-error.h"
#include "pr-imap-utf7.h"

/* Mailbox names are short; anything larger is hostile or broken, and bounding it bounds
 * the output too (at most 8/3 growth on encode, smaller on decode). */
#define PR_IMAP_UTF7_MAX_INPUT (64 * 1024)

/* RFC 3501 5.1.3: modified base64 uses ',' instead of '/' and no '=' padding. */
static const gchar pr_imap_utf7_b64[] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+,";

static gint
pr_imap_utf7_b64_value(guchar c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == ',')
		return 63;
	return -1;
}

/* Printable US-ASCII represents itself; everything else must be base64-encoded. */
static gboolean
pr_imap_utf7_is_direct(gunichar c)
{
	return c >= 0x20 && c <= 0x7e;
}

/* Encode one run of non-direct characters as "&<base64 of UTF-16BE>-". */
static void
pr_imap_utf7_encode_run(GString *out, const gunichar *run, gsize n)
{
	guint32 bits = 0;
	guint nbits = 0;

	g_string_append_c(out, '&');
	for (gsize i = 0; i < n; i++) {
		guint16 units[2];
		guint nunits = 1;
		gunichar c = run[i];

		if (c >= 0x10000) {
			c -= 0x10000;
			units[0] = (guint16)(0xd800 | (c >> 10));
			units[1] = (guint16)(0xdc00 | (c & 0x3ff));
			nunits = 2;
		} else {
			units[0] = (guint16)c;
		}
		for (guint j = 0; j < nunits; j++) {
			bits = (bits << 16) | units[j];
			nbits += 16;
			while (nbits >= 6) {
				nbits -= 6;
				g_string_append_c(out, pr_imap_utf7_b64[(bits >> nbits) & 0x3f]);
			}
			/* keep only the bits not yet written so the accumulator never overflows */
			bits &= (1u << nbits) - 1;
		}
	}
	if (nbits > 0)
		g_string_append_c(out, pr_imap_utf7_b64[(bits << (6 - nbits)) & 0x3f]);
	g_string_append_c(out, '-');
}

gchar *
pr_imap_utf7_encode(const gchar *utf8, GError **error)
{
	g_autoptr(GString) out = NULL;
	g_autofree gunichar *run = NULL;
	gsize run_len = 0;
	gsize len;

	g_return_val_if_fail(utf8 != NULL, NULL);

	len = strlen(utf8);
	if (len > PR_IMAP_UTF7_MAX_INPUT) {
		g_set_error(error,
			    PR_ERROR,
			    PR_ERROR_INVALID_ARGUMENT,
			    "mailbox name too long (%" G_GSIZE_FORMAT " bytes)",
			    len);
		return NULL;
	}
	if (!g_utf8_validate(utf8, (gssize)len, NULL)) {
		g_set_error_literal(error,
				    PR_ERROR,
				    PR_ERROR_INVALID_ARGUMENT,
				    "mailbox name is not valid UTF-8");
		return NULL;
	}

	/* a run never holds more characters than the input has bytes */
	run = g_new(gunichar, len + 1);
	out = g_string_sized_new(len + 8);
	for (const gchar *p = utf8; *p != '\0'; p = g_utf8_next_char(p)) {
		gunichar c = g_utf8_get_char(p);

		if (!pr_imap_utf7_is_direct(c)) {
			run[run_len++] = c;
			continue;
		}
		/* one shift per maximal run: RFC 3501 forbids adjacent shifts */
		if (run_len > 0) {
			pr_imap_utf7_encode_run(out, run, run_len);
			run_len = 0;
		}
		if (c == '&')
			g_string_append(out, "&-");
		else
			g_string_append_c(out, (gchar)c);
	}
	if (run_len > 0)
		pr_imap_utf7_encode_run(out, run, run_len);
	return g_string_free(g_steal_pointer(&out), FALSE);
}

/* Decode the base64 between '&' and '-' (exclusive) and append it as UTF-8. */
static gboolean
pr_imap_utf7_decode_shift(GString *out, const guchar *p, gsize n, GError **error)
{
	guint32 bits = 0;
	guint nbits = 0;
	gunichar high = 0;

	for (gsize i = 0; i < n; i++) {
		gint v = pr_imap_utf7_b64_value(p[i]);
		guint16 unit;

		if (v < 0) {
			g_set_error(error,
				    PR_ERROR,
				    PR_ERROR_PROTOCOL_ERROR,
				    "modified UTF-7: invalid base64 character 0x%02x",
				    p[i]);
			return FALSE;
		}
		bits = (bits << 6) | (guint32)v;
		nbits += 6;
		if (nbits < 16)
			continue;
		nbits -= 16;
		unit = (guint16)(bits >> nbits);
		bits &= (1u << nbits) - 1;

		if (unit >= 0xd800 && unit <= 0xdbff) {
			if (high != 0) {
				g_set_error_literal(error,
						    PR_ERROR,
						    PR_ERROR_PROTOCOL_ERROR,
						    "modified UTF-7: unpaired high surrogate");
				return FALSE;
			}
			high = unit;
			continue;
		}
		if (unit >= 0xdc00 && unit <= 0xdfff) {
			if (high == 0) {
				g_set_error_literal(error,
						    PR_ERROR,
						    PR_ERROR_PROTOCOL_ERROR,
						    "modified UTF-7: unpaired low surrogate");
				return FALSE;
			}
			g_string_append_unichar(
				out, 0x10000 + ((high - 0xd800) << 10) + (unit - 0xdc00));
			high = 0;
			continue;
		}
		if (high != 0) {
			g_set_error_literal(error,
					    PR_ERROR,
					    PR_ERROR_PROTOCOL_ERROR,
					    "modified UTF-7: unpaired high surrogate");
			return FALSE;
		}
		if (unit == 0) {
			g_set_error_literal(error,
					    PR_ERROR,
					    PR_ERROR_PROTOCOL_ERROR,
					    "modified UTF-7: encoded NUL");
			return FALSE;
		}
		/* only the canonical form is accepted: it keeps names comparable byte-wise */
		if (pr_imap_utf7_is_direct(unit)) {
			g_set_error(error,
				    PR_ERROR,
				    PR_ERROR_PROTOCOL_ERROR,
				    "modified UTF-7: printable ASCII 0x%02x inside a shift",
				    unit);
			return FALSE;
		}
		g_string_append_unichar(out, unit);
	}
	if (high != 0) {
		g_set_error_literal(error,
				    PR_ERROR,
				    PR_ERROR_PROTOCOL_ERROR,
				    "modified UTF-7: shift ends inside a surrogate pair");
		return FALSE;
	}
	/* fewer than 6 leftover bits, all zero: anything else is padding we never write */
	if (nbits >= 6 || bits != 0) {
		g_set_error_literal(error,
				    PR_ERROR,
				    PR_ERROR_PROTOCOL_ERROR,
				    "modified UTF-7: bad padding at the end of a shift");
		return FALSE;
	}
	return TRUE;
}

gchar *
pr_imap_utf7_decode(const gchar *mutf7, gssize len, GError **error)
{
	g_autoptr(GString) out = NULL;
	const guchar *p = (const guchar *)mutf7;
	gsize n;
	gsize i = 0;
	gboolean after_shift = FALSE;

	g_return_val_if_fail(mutf7 != NULL, NULL);

	n = len < 0 ? strlen(mutf7) : (gsize)len;
	if (n > PR_IMAP_UTF7_MAX_INPUT) {
		g_set_error(error,
			    PR_ERROR,
			    PR_ERROR_PROTOCOL_ERROR,
			    "modified UTF-7: mailbox name too long (%" G_GSIZE_FORMAT " bytes)",
			    n);
		return NULL;
	}

	out = g_string_sized_new(n + 1);
	while (i < n) {
		gsize start;

		if (p[i] != '&') {
			if (!pr_imap_utf7_is_direct(p[i])) {
				g_set_error(error,
					    PR_ERROR,
					    PR_ERROR_PROTOCOL_ERROR,
					    "modified UTF-7: byte 0x%02x must be encoded",
					    p[i]);
				return NULL;
			}
			g_string_append_c(out, (gchar)p[i]);
			after_shift = FALSE;
			i++;
			continue;
		}

		start = ++i;
		while (i < n && p[i] != '-')
			i++;
		if (i >= n) {
			g_set_error_literal(error,
					    PR_ERROR,
					    PR_ERROR_PROTOCOL_ERROR,
					    "modified UTF-7: unterminated shift");
			return NULL;
		}
		if (i == start) {
			/* "&-" is the ampersand itself */
			g_string_append_c(out, '&');
			after_shift = FALSE;
			i++;
			continue;
		}
		if (after_shift) {
			g_set_error_literal(
				error,
				PR_ERROR,
				PR_ERROR_PROTOCOL_ERROR,
				"modified UTF-7: a shift directly follows another shift");
			return NULL;
		}
		if (!pr_imap_utf7_decode_shift(out, p + start, i - start, error))
			return NULL;
		after_shift = TRUE;
		i++;
	}
	return g_string_free(g_steal_pointer(&out), FALSE);
}
