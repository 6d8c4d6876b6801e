/*
 * Copyright 2026 The Postroom developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#define G_LOG_DOMAIN "PrImap"

#include <string.h>

#include "pr-error.h"
#include "pr-imap-parser-private.h"

/*
 * PrImapParser's grammar: what one segment's bytes mean. The response head (tag or "*",
 * number, keyword), resp-text with its "[CODE args]", continuation requests, and the
 * tokenizer that turns values into the parser's stack. pr-imap-parser.c cuts the input
 * into segments and receives the literals between them.
 *
 * Leniency, on purpose: keywords are case-insensitive. Atoms accept any printable byte
 * except SP ( ) { " so odd flags like "$label[1]" or "\*" parse; a "[" starts a bracketed
 * part that runs to its matching "]" and may hold spaces and parentheses, so
 * "BODY[HEADER.FIELDS (DATE FROM)]<0>" is one ATOM. Tokens need no space between them.
 */

#define PR_IMAP_ERROR_NEAR 40

/* Error text never carries raw server bytes: a short escaped excerpt at most. */
gboolean
pr_imap_parser_error(GError **error, const gchar *what, const guint8 *near, gsize near_len)
{
	g_autofree gchar *raw = NULL;
	g_autofree gchar *esc = NULL;

	if (near == NULL || near_len == 0) {
		g_set_error_literal(error, PR_ERROR, PR_ERROR_PROTOCOL_ERROR, what);
		return FALSE;
	}
	raw = g_malloc(MIN(near_len, PR_IMAP_ERROR_NEAR) + 1);
	for (gsize i = 0; i < MIN(near_len, PR_IMAP_ERROR_NEAR); i++)
		raw[i] = near[i] == '\0' ? ' ' : (gchar)near[i];
	raw[MIN(near_len, PR_IMAP_ERROR_NEAR)] = '\0';
	esc = g_strescape(raw, NULL);
	if (strlen(esc) > 80)
		esc[80] = '\0';
	g_set_error(error, PR_ERROR, PR_ERROR_PROTOCOL_ERROR, "%s near \"%s\"", what, esc);
	return FALSE;
}

/* Character classes, filled once by pr_imap_grammar_init() (from class_init): the
 * tokenizer's inner loops are table lookups, not chains of comparisons. */
enum {
	PR_IMAP_CC_ATOM = 1 << 0,   /* may appear in an atom */
	PR_IMAP_CC_PLAIN = 1 << 1,  /* an atom char with no special meaning ([ and ] have) */
	PR_IMAP_CC_QUOTED = 1 << 2, /* ordinary inside a quoted string */
};
static guint8 pr_imap_cc[256];

void
pr_imap_grammar_init(void)
{
	for (guint c = 0; c < 256; c++) {
		gboolean atom =
			c > ' ' && c != 0x7f && c != '(' && c != ')' && c != '{' && c != '"';
		guint8 cls = 0;
		if (atom)
			cls |= PR_IMAP_CC_ATOM;
		if (atom && c != '[' && c != ']')
			cls |= PR_IMAP_CC_PLAIN;
		if (c != '"' && c != '\\' && c != '\0' && c != '\r' && c != '\n')
			cls |= PR_IMAP_CC_QUOTED;
		pr_imap_cc[c] = cls;
	}
}

static inline gboolean
pr_imap_is_atom_char(guint8 c)
{
	return (pr_imap_cc[c] & PR_IMAP_CC_ATOM) != 0;
}

static gboolean
pr_imap_parser_bad_char(const guint8 *s, gsize pos, gsize end, GError **error)
{
	if (s[pos] == '\0')
		return pr_imap_parser_error(
			error, "NUL byte outside a literal", s + pos, end - pos);
	if (s[pos] == '\r')
		return pr_imap_parser_error(error, "CR without LF", s + pos, end - pos);
	return pr_imap_parser_error(error, "unexpected character", s + pos, end - pos);
}

/*
 * The "]" matching the "[" at @pos, or 0. Nesting is capped: IMAP never nests brackets,
 * and the cap keeps a line of unmatched "[" linear (at most that many searches are in
 * flight over any byte) instead of one scan to the end of the line per "[".
 */
#define PR_IMAP_MAX_BRACKET_DEPTH 8

static gsize
pr_imap_find_bracket_end(const guint8 *s, gsize pos, gsize end)
{
	guint depth = 0;

	for (gsize i = pos; i < end; i++) {
		guint8 c = s[i];
		if (c < ' ' || c == 0x7f)
			return 0;
		if (c == '[') {
			if (++depth > PR_IMAP_MAX_BRACKET_DEPTH)
				return 0;
		} else if (c == ']') {
			if (--depth == 0)
				return i;
		}
	}
	return 0;
}

/* An atom from @pos; a "]" ends it only when it closes a response code. */
static gsize
pr_imap_scan_atom(const guint8 *s, gsize pos, gsize end, gboolean stop_at_bracket)
{
	gsize i = pos;

	while (i < end) {
		guint8 c;
		while (i < end && (pr_imap_cc[s[i]] & PR_IMAP_CC_PLAIN))
			i++;
		if (i >= end)
			break;
		c = s[i];
		if (c == '[') {
			gsize close = pr_imap_find_bracket_end(s, i, end);
			/* unmatched: an ordinary character, as in a lenient flag */
			i = close != 0 ? close + 1 : i + 1;
			continue;
		}
		if (c == ']' && stop_at_bracket)
			break;
		if (!pr_imap_is_atom_char(c))
			break;
		i++;
	}
	return i;
}

static gboolean
pr_imap_parser_atom(PrImapParser *self,
		    const guint8 *s,
		    gsize *pos_inout,
		    gsize end,
		    gboolean stop_at_bracket,
		    GError **error)
{
	gsize pos = *pos_inout;
	gsize aend = pr_imap_scan_atom(s, pos, end, stop_at_bracket);
	gsize len = aend - pos;
	PrImapValue v = { 0 };
	gboolean digits = TRUE;
	gboolean overflow = FALSE;
	guint64 n = 0;

	if (len == 0)
		return pr_imap_parser_bad_char(s, pos, end, error);
	if (!pr_imap_parser_count_item(self, error))
		return FALSE;
	for (gsize i = pos; i < aend; i++) {
		guint d = s[i] - (guint)'0';
		if (d > 9) {
			digits = FALSE;
			break;
		}
		if (n > ((guint64)G_MAXINT64 - d) / 10)
			overflow = TRUE;
		else
			n = n * 10 + d;
	}
	if (digits && overflow)
		return pr_imap_parser_error(error, "number too large", s + pos, len);
	if (digits) {
		v.kind = PR_IMAP_VALUE_NUMBER;
		v.num = n;
		v.n = (guint32)len;
		v.u.str = pr_imap_response_strndup(self->cur, s + pos, len);
	} else if (len == 3 && g_ascii_strncasecmp((const gchar *)s + pos, "NIL", 3) == 0) {
		v.kind = PR_IMAP_VALUE_NIL;
	} else {
		v.kind = PR_IMAP_VALUE_ATOM;
		v.num = len;
		v.u.str = pr_imap_response_strndup(self->cur, s + pos, len);
	}
	pr_imap_parser_push(self, &v);
	*pos_inout = aend;
	return TRUE;
}

static gboolean
pr_imap_parser_quoted(PrImapParser *self,
		      const guint8 *s,
		      gsize *pos_inout,
		      gsize end,
		      GError **error)
{
	gsize start = *pos_inout;
	gsize i = start + 1;
	gsize n = 0;
	gboolean escapes = FALSE;
	PrImapValue v = { 0 };
	gchar *buf;

	/* first pass: find the end and the unescaped length; a backslash takes the next
	 * byte literally (RFC only defines \" and \\, others are kept without the backslash) */
	for (; i < end; i++) {
		guint8 c = s[i];
		if (pr_imap_cc[c] & PR_IMAP_CC_QUOTED) {
			n++;
			continue;
		}
		if (c == '"')
			break;
		if (c == '\\') {
			escapes = TRUE;
			if (++i >= end)
				break;
			c = s[i];
		}
		if (c == '\0' || c == '\r')
			return pr_imap_parser_bad_char(s, i, end, error);
		n++;
	}
	if (i >= end)
		return pr_imap_parser_error(
			error, "unterminated quoted string", s + start, end - start);
	if (!pr_imap_parser_count_item(self, error))
		return FALSE;
	buf = pr_imap_response_alloc(self->cur, n + 1);
	if (!escapes) {
		memcpy(buf, s + start + 1, n);
	} else {
		gsize o = 0;
		for (gsize j = start + 1; j < i; j++) {
			if (s[j] == '\\')
				j++;
			buf[o++] = (gchar)s[j];
		}
	}
	buf[n] = '\0';
	v.kind = PR_IMAP_VALUE_STRING;
	v.num = n;
	v.u.str = buf;
	pr_imap_parser_push(self, &v);
	*pos_inout = i + 1;
	return TRUE;
}

/* "{n}" or "~{n}" at the end of the segment: checked for overflow and the bound before
 * anything is allocated. */
static gboolean
pr_imap_parser_literal_size(PrImapParser *self,
			    const guint8 *s,
			    gsize pos,
			    gsize end,
			    gboolean is8,
			    GError **error)
{
	gsize i = pos + (is8 ? 2 : 1);
	guint64 n = 0;
	gsize digits = 0;

	for (; i < end && g_ascii_isdigit(s[i]); i++, digits++) {
		guint d = s[i] - (guint)'0';
		if (n > (G_MAXUINT64 - d) / 10)
			return pr_imap_parser_error(
				error, "literal size overflows", s + pos, end - pos);
		n = n * 10 + d;
	}
	if (digits == 0 || i >= end || s[i] != '}')
		return pr_imap_parser_error(error, "invalid literal size", s + pos, end - pos);
	if (i + 1 != end)
		return pr_imap_parser_error(error,
					    "literal announcement not at the end of the line",
					    s + pos,
					    end - pos);
	if (n > self->limits.max_literal)
		return pr_imap_parser_error(
			error, "literal larger than allowed", s + pos, end - pos);
	self->lit_size = n;
	self->lit_is8 = is8;
	return TRUE;
}

/*
 * Tokenize values from @pos onwards into the stack. @code_base is the nesting at which
 * a "]" closes the response code being parsed, or PR_IMAP_NO_CODE for data.
 */
gboolean
pr_imap_parser_scan(PrImapParser *self,
		    const guint8 *s,
		    gsize *pos_inout,
		    gsize end,
		    guint code_base,
		    PrImapScan *result,
		    GError **error)
{
	gsize pos = *pos_inout;

	while (pos < end) {
		guint8 c = s[pos];
		switch (c) {
		case ' ':
			pos++;
			break;
		case '(': {
			guint start = self->n_vals;
			if (self->opens->len >= self->limits.max_depth)
				return pr_imap_parser_error(
					error, "lists nested too deeply", s + pos, end - pos);
			if (!pr_imap_parser_count_item(self, error))
				return FALSE;
			g_array_append_val(self->opens, start);
			pos++;
			break;
		}
		case ')': {
			PrImapValue list;
			guint start;
			if (self->opens->len == 0 ||
			    (code_base != PR_IMAP_NO_CODE && self->opens->len <= code_base))
				return pr_imap_parser_error(
					error, "unbalanced ')'", s + pos, end - pos);
			start = g_array_index(self->opens, guint, self->opens->len - 1);
			g_array_set_size(self->opens, self->opens->len - 1);
			pr_imap_parser_collect(self, start, &list);
			pr_imap_parser_push(self, &list);
			pos++;
			break;
		}
		case '"':
			if (!pr_imap_parser_quoted(self, s, &pos, end, error))
				return FALSE;
			break;
		case '~':
		case '{': {
			gboolean is8 = c == '~';
			if (is8 && (pos + 1 >= end || s[pos + 1] != '{')) {
				if (!pr_imap_parser_atom(self, s, &pos, end, FALSE, error))
					return FALSE;
				break;
			}
			if (code_base != PR_IMAP_NO_CODE)
				return pr_imap_parser_error(error,
							    "literal inside a response code",
							    s + pos,
							    end - pos);
			if (!pr_imap_parser_literal_size(self, s, pos, end, is8, error))
				return FALSE;
			*pos_inout = end;
			*result = PR_IMAP_SCAN_LITERAL;
			return TRUE;
		}
		case ']':
			if (self->opens->len == code_base) {
				*pos_inout = pos + 1;
				*result = PR_IMAP_SCAN_CODE;
				return TRUE;
			}
			if (!pr_imap_parser_atom(self, s, &pos, end, FALSE, error))
				return FALSE;
			break;
		default:
			if (!pr_imap_parser_atom(
				    self, s, &pos, end, self->opens->len == code_base, error))
				return FALSE;
			break;
		}
	}
	*pos_inout = pos;
	*result = PR_IMAP_SCAN_END;
	return TRUE;
}

/* Human text: anything but NUL and CR; made valid UTF-8 so callers can show or log it. */
static gboolean
pr_imap_parser_text(PrImapParser *self,
		    const guint8 *s,
		    gsize pos,
		    gsize end,
		    gboolean raw,
		    const gchar **out,
		    GError **error)
{
	gsize len = end - pos;
	g_autofree gchar *valid = NULL;

	if (len > 0 && memchr(s + pos, '\0', len) != NULL)
		return pr_imap_parser_error(error, "NUL byte outside a literal", s + pos, len);
	if (len > 0 && memchr(s + pos, '\r', len) != NULL)
		return pr_imap_parser_error(error, "CR without LF", s + pos, len);
	if (raw || g_utf8_validate((const gchar *)s + pos, (gssize)len, NULL)) {
		*out = pr_imap_response_strndup(self->cur, s + pos, len);
		return TRUE;
	}
	valid = g_utf8_make_valid((const gchar *)s + pos, (gssize)len);
	*out = pr_imap_response_strndup(self->cur, (const guint8 *)valid, strlen(valid));
	return TRUE;
}

/* "[CODE args]" at @pos. FALSE (no error) when it is not a well-formed code: the bracket
 * is then part of the text, which may hold anything. */
static gboolean
pr_imap_parser_code(PrImapParser *self, const guint8 *s, gsize *pos_inout, gsize end)
{
	gsize pos = *pos_inout + 1;
	gsize name_start = pos;
	guint stack_base = self->n_vals;
	guint opens_base = self->opens->len;
	gsize items_base = self->items;
	const gchar *name;
	PrImapValue *args;

	while (pos < end && pr_imap_is_atom_char(s[pos]) && s[pos] != '[' && s[pos] != ']')
		pos++;
	if (pos == name_start || pos >= end)
		return FALSE;
	name = pr_imap_response_strup(self->cur, s + name_start, pos - name_start);
	if (s[pos] == ']') {
		pos++;
	} else if (s[pos] == ' ') {
		g_autoptr(GError) error_local = NULL;
		PrImapScan scan = PR_IMAP_SCAN_END;
		if (!pr_imap_parser_scan(self, s, &pos, end, opens_base, &scan, &error_local) ||
		    scan != PR_IMAP_SCAN_CODE) {
			self->n_vals = stack_base;
			g_array_set_size(self->opens, opens_base);
			self->items = items_base;
			return FALSE;
		}
	} else {
		return FALSE;
	}
	args = pr_imap_response_alloc(self->cur, sizeof(PrImapValue));
	pr_imap_parser_collect(self, stack_base, args);
	self->cur->code = name;
	self->cur->code_args = args;
	if (pos < end && s[pos] == ' ')
		pos++;
	*pos_inout = pos;
	return TRUE;
}

static PrImapStatus
pr_imap_status_from_keyword(const gchar *keyword)
{
	if (g_strcmp0(keyword, "OK") == 0)
		return PR_IMAP_STATUS_OK;
	if (g_strcmp0(keyword, "NO") == 0)
		return PR_IMAP_STATUS_NO;
	if (g_strcmp0(keyword, "BAD") == 0)
		return PR_IMAP_STATUS_BAD;
	if (g_strcmp0(keyword, "PREAUTH") == 0)
		return PR_IMAP_STATUS_PREAUTH;
	if (g_strcmp0(keyword, "BYE") == 0)
		return PR_IMAP_STATUS_BYE;
	return PR_IMAP_STATUS_NONE;
}

static gboolean
pr_imap_parser_continuation(PrImapParser *self, const guint8 *s, gsize end, GError **error)
{
	gsize pos = 1;

	self->cur = pr_imap_response_new(PR_IMAP_RESPONSE_KIND_CONTINUATION);
	if (pos < end && s[pos] == ' ')
		pos++;
	if (!pr_imap_parser_text(self, s, pos, end, TRUE, &self->cur->continuation, error))
		return FALSE;
	/* base64 never starts with "[", so a code here is resp-text */
	if (pos < end && s[pos] == '[')
		pr_imap_parser_code(self, s, &pos, end);
	return pr_imap_parser_text(self, s, pos, end, FALSE, &self->cur->text, error);
}

/* Tag or "*", optional number, keyword; a status response is completed right here.
 * @is_data: values follow. */
gboolean
pr_imap_parser_head(PrImapParser *self,
		    const guint8 *s,
		    gsize *pos_inout,
		    gsize end,
		    gboolean *is_data,
		    GError **error)
{
	gsize pos = 0;
	gsize kw_start;
	PrImapResponse *cur;

	if (end == 0)
		return pr_imap_parser_error(error, "empty line", NULL, 0);
	if (s[0] == '+') {
		*is_data = FALSE;
		return pr_imap_parser_continuation(self, s, end, error);
	}
	if (s[0] == '*') {
		self->cur = pr_imap_response_new(PR_IMAP_RESPONSE_KIND_UNTAGGED);
		pos = 1;
	} else {
		while (pos < end && pr_imap_is_atom_char(s[pos]) && s[pos] != '[' && s[pos] != ']')
			pos++;
		if (pos == 0)
			return pr_imap_parser_bad_char(s, 0, end, error);
		self->cur = pr_imap_response_new(PR_IMAP_RESPONSE_KIND_TAGGED);
		self->cur->tag = pr_imap_response_strndup(self->cur, s, pos);
	}
	cur = self->cur;
	if (pos >= end || s[pos] != ' ')
		return pr_imap_parser_error(error, "missing space after the tag", s, end);
	pos++;

	/* "* 12 FETCH": a 32-bit number */
	if (cur->kind == PR_IMAP_RESPONSE_KIND_UNTAGGED && pos < end && g_ascii_isdigit(s[pos])) {
		guint64 n = 0;
		gsize start = pos;
		for (; pos < end && g_ascii_isdigit(s[pos]); pos++) {
			n = n * 10 + (guint)(s[pos] - '0');
			if (n > G_MAXUINT32)
				return pr_imap_parser_error(
					error, "message number too large", s + start, end - start);
		}
		if (pos >= end || s[pos] != ' ')
			return pr_imap_parser_error(
				error, "missing keyword after the number", s + start, end - start);
		cur->has_number = TRUE;
		cur->number = (guint32)n;
		pos++;
	}

	kw_start = pos;
	while (pos < end && pr_imap_is_atom_char(s[pos]) && s[pos] != '[' && s[pos] != ']')
		pos++;
	if (pos == kw_start) {
		if (pos < end)
			return pr_imap_parser_bad_char(s, pos, end, error);
		return pr_imap_parser_error(error, "missing response keyword", s, end);
	}
	cur->keyword = pr_imap_response_strup(cur, s + kw_start, pos - kw_start);
	cur->status = pr_imap_status_from_keyword(cur->keyword);
	if (cur->kind == PR_IMAP_RESPONSE_KIND_TAGGED && cur->status != PR_IMAP_STATUS_OK &&
	    cur->status != PR_IMAP_STATUS_NO && cur->status != PR_IMAP_STATUS_BAD)
		return pr_imap_parser_error(error, "tagged response is not OK, NO or BAD", s, end);

	if (cur->status == PR_IMAP_STATUS_NONE) {
		*is_data = TRUE;
		*pos_inout = pos;
		return TRUE;
	}

	/* resp-text: "A1 OK" and "A1 OK " both give "" */
	*is_data = FALSE;
	if (pos < end && s[pos] == ' ')
		pos++;
	if (pos < end && s[pos] == '[')
		pr_imap_parser_code(self, s, &pos, end);
	return pr_imap_parser_text(self, s, pos, end, FALSE, &cur->text, error);
}
