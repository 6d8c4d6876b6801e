/*
 * Copyright 2026 The Postroom developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#define G_LOG_DOMAIN "PrImap"

#include <string.h>

#include "pr-error.h"
#include "pr-imap-parser.h"
#include "pr-imap-value-private.h"

/*
 * The incremental parser. It builds the response model of pr-imap-value.c (PrImapResponse
 * and its PrImapValue tree, allocated in the response's arena); pr-imap-response.c holds
 * the typed decoders and renderings, written against the public accessors only.
 *
 * Input is cut into "segments": the bytes up to and including an LF. A response is one
 * segment, or several when literals split it: "{n}" must end a segment, then n raw bytes
 * follow, then the response continues in the next segment. A segment is parsed in one go
 * (tokens never cross a segment), so only the open-list stack survives between segments.
 * Literal bytes never go through the tokenizer: they are memcpy'd or handed to the sink in
 * the chunks they arrived in.
 *
 * Leniency, on purpose: a bare LF ends a line like CRLF does (some servers send it); a CR
 * anywhere else is an error. Keywords are case-insensitive. Atoms accept any printable
 * byte except SP ( ) { " so odd flags like "$label[1]" or "\*" parse; a "[" starts a
 * bracketed part that runs to its matching "]" and may hold spaces and parentheses, so
 * "BODY[HEADER.FIELDS (DATE FROM)]<0>" is one ATOM. Tokens need no space between them.
 */

#define PR_IMAP_LITERAL_FIRST 65536 /* a literal's first buffer; it grows with the bytes */
#define PR_IMAP_SHRINK_ABOVE  65536 /* give back scratch memory after a huge response */
#define PR_IMAP_ERROR_NEAR    40

typedef enum {
	PR_IMAP_SCAN_END,     /* the segment is used up */
	PR_IMAP_SCAN_LITERAL, /* a literal announcement ends the segment */
	PR_IMAP_SCAN_CODE,    /* the "]" closing a response code */
} PrImapScan;

/* value of code_base outside response codes: opens->len never reaches it */
#define PR_IMAP_NO_CODE G_MAXUINT

struct _PrImapParser {
	GObject parent_instance;
	PrImapParserLimits limits;
	PrImapLiteralSink sink;
	gpointer sink_data;
	GDestroyNotify sink_destroy;
	GQueue queue;
	gboolean failed;

	GByteArray *line; /* a segment still waiting for its LF */
	PrImapResponse *cur;
	gsize line_bytes; /* bytes of cur outside literals, for max_line */
	gsize pending;
	PrImapValue *vals; /* children of the lists still open, then the data */
	guint n_vals;
	guint cap_vals;
	GArray *opens; /* guint: where each open list starts in stack */
	gsize items;
	guint uid_scanned; /* FETCH pairs already searched for "UID n" */
	guint32 uid;

	/* the literal being received */
	gboolean in_literal;
	gboolean lit_is8;
	guint64 lit_size;
	guint64 lit_done;
	gpointer lit_handle; /* the sink's, when streaming */
	PrImapBlock *lit_block;
	gsize lit_cap;
};

G_DEFINE_TYPE(PrImapParser, pr_imap_parser, G_TYPE_OBJECT)

static const PrImapParserLimits pr_imap_parser_default_limits = {
	.max_line = 8 * 1024 * 1024,
	.max_depth = 64,
	.max_items = 1000000,
	.max_literal = G_GUINT64_CONSTANT(2) * 1024 * 1024 * 1024,
	.inline_threshold = 64 * 1024,
	.max_inline_literal = 16 * 1024 * 1024,
};

/* Error text never carries raw server bytes: a short escaped excerpt at most. */
static gboolean
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

/* Character classes, filled once in class_init: the tokenizer's inner loops are table
 * lookups, not chains of comparisons. */
enum {
	PR_IMAP_CC_ATOM = 1 << 0,   /* may appear in an atom */
	PR_IMAP_CC_PLAIN = 1 << 1,  /* an atom char with no special meaning ([ and ] have) */
	PR_IMAP_CC_QUOTED = 1 << 2, /* ordinary inside a quoted string */
};
static guint8 pr_imap_cc[256];

static void
pr_imap_cc_init(void)
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

static void
pr_imap_parser_abort_literal(PrImapParser *self)
{
	if (self->lit_handle != NULL) {
		gpointer handle = self->lit_handle;
		self->lit_handle = NULL;
		self->sink.end(handle, TRUE, self->sink_data);
	}
	g_clear_pointer(&self->lit_block, g_free);
	self->in_literal = FALSE;
}

/* Drop the response being built and every scratch buffer; keep the queue. */
static void
pr_imap_parser_clear_current(PrImapParser *self)
{
	pr_imap_parser_abort_literal(self);
	g_clear_pointer(&self->cur, pr_imap_response_unref);
	self->line_bytes = 0;
	self->pending = 0;
	self->items = 0;
	self->uid_scanned = 0;
	self->uid = 0;
	g_byte_array_set_size(self->line, 0);
	self->n_vals = 0;
	g_array_set_size(self->opens, 0);
}

static gboolean
pr_imap_parser_count_item(PrImapParser *self, GError **error)
{
	if (self->items >= self->limits.max_items)
		return pr_imap_parser_error(error, "too many values in one response", NULL, 0);
	self->items++;
	return TRUE;
}

static inline void
pr_imap_parser_push(PrImapParser *self, const PrImapValue *value)
{
	/* bounded by max_items, counted before every push */
	if (G_UNLIKELY(self->n_vals == self->cap_vals)) {
		self->cap_vals = MAX(64, self->cap_vals * 2);
		self->vals = g_renew(PrImapValue, self->vals, self->cap_vals);
	}
	self->vals[self->n_vals++] = *value;
}

/* Turn stack[start..] into one LIST value allocated in the response. */
static void
pr_imap_parser_collect(PrImapParser *self, guint start, PrImapValue *list)
{
	guint n = self->n_vals - start;
	PrImapValue *children = NULL;

	if (n > 0) {
		children = pr_imap_response_alloc(self->cur, (gsize)n * sizeof(PrImapValue));
		memcpy(children, self->vals + start, (gsize)n * sizeof(PrImapValue));
	}
	self->n_vals = start;
	memset(list, 0, sizeof(*list));
	list->kind = PR_IMAP_VALUE_LIST;
	list->n = n;
	list->u.children = children;
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
static gboolean
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
static gboolean
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

static gboolean
pr_imap_parser_complete(PrImapParser *self, GError **error)
{
	PrImapResponse *cur = self->cur;
	const gchar *kw = cur->keyword;
	gboolean big = self->n_vals > PR_IMAP_SHRINK_ABOVE / sizeof(PrImapValue);

	if (cur->kind != PR_IMAP_RESPONSE_KIND_CONTINUATION && cur->status == PR_IMAP_STATUS_NONE) {
		pr_imap_parser_collect(self, 0, &cur->data);
		/* the shapes the engine relies on; anything else after them is junk */
		if (g_strcmp0(kw, "FETCH") == 0) {
			if (!cur->has_number || cur->data.n != 1 ||
			    cur->data.u.children[0].kind != PR_IMAP_VALUE_LIST)
				return pr_imap_parser_error(
					error, "malformed FETCH response", NULL, 0);
		} else if (g_strcmp0(kw, "EXISTS") == 0 || g_strcmp0(kw, "RECENT") == 0 ||
			   g_strcmp0(kw, "EXPUNGE") == 0) {
			if (!cur->has_number)
				return pr_imap_parser_error(
					error, "message count missing", NULL, 0);
			if (cur->data.n != 0)
				return pr_imap_parser_error(
					error, "junk after the response", NULL, 0);
		}
	}
	g_queue_push_tail(&self->queue, cur);
	self->cur = NULL;
	self->line_bytes = 0;
	self->pending = 0;
	self->items = 0;
	self->uid_scanned = 0;
	self->uid = 0;
	self->n_vals = 0;
	g_array_set_size(self->opens, 0);
	if (big) {
		/* do not keep megabytes of scratch after one huge response */
		g_clear_pointer(&self->vals, g_free);
		self->cap_vals = 0;
	}
	return TRUE;
}

static gboolean
pr_imap_parser_literal_begin(PrImapParser *self, GError **error)
{
	PrImapResponse *cur = self->cur;
	guint64 size = self->lit_size;
	gsize cap;

	if (!pr_imap_parser_count_item(self, error))
		return FALSE;
	if (size == 0) {
		PrImapValue v = { 0 };
		v.kind = PR_IMAP_VALUE_STRING;
		v.literal = 1;
		v.u.str = "";
		pr_imap_parser_push(self, &v);
		return TRUE;
	}
	self->lit_done = 0;
	if (size > self->limits.inline_threshold && self->sink.begin != NULL) {
		PrImapLiteralInfo info = { 0 };
		gboolean fetch = g_strcmp0(cur->keyword, "FETCH") == 0;

		info.keyword = cur->keyword;
		info.seq = cur->has_number ? cur->number : 0;
		info.size = size;
		if (fetch && self->opens->len == 1) {
			guint start = g_array_index(self->opens, guint, 0);
			guint top = self->n_vals;
			const PrImapValue *items = self->vals;

			/* FETCH items are name/value pairs; the literal is the value of the last
			 * name, and a "UID n" pair may precede it */
			if (top > start && (top - start) % 2 == 1 &&
			    items[top - 1].kind == PR_IMAP_VALUE_ATOM)
				info.section =
					pr_imap_response_strup(cur,
							       (const guint8 *)items[top - 1].u.str,
							       items[top - 1].num);
			/* resume where the last literal left off: one pass per response */
			if (self->uid_scanned < start)
				self->uid_scanned = start;
			for (; self->uid_scanned + 1 < top; self->uid_scanned += 2) {
				const PrImapValue *name = &items[self->uid_scanned];
				const PrImapValue *val = name + 1;
				if (pr_imap_value_equal_atom(name, "UID") &&
				    val->kind == PR_IMAP_VALUE_NUMBER && val->num <= G_MAXUINT32)
					self->uid = (guint32)val->num;
			}
			info.uid = self->uid;
		}
		self->lit_handle = self->sink.begin(&info, self->sink_data);
		if (self->lit_handle != NULL) {
			self->in_literal = TRUE;
			return TRUE;
		}
	}
	if (size > self->limits.max_inline_literal)
		return pr_imap_parser_error(error, "literal too large to keep in memory", NULL, 0);
	/* grows with the bytes that actually arrive, not with the announced size */
	cap = (gsize)MIN(size, PR_IMAP_LITERAL_FIRST) + 1;
	self->lit_block = g_malloc(PR_IMAP_BLOCK_HDR + cap);
	self->lit_cap = cap;
	self->in_literal = TRUE;
	return TRUE;
}

static void
pr_imap_parser_literal_finish(PrImapParser *self)
{
	PrImapValue v = { 0 };

	v.literal = 1;
	v.num = self->lit_size;
	if (self->lit_handle != NULL) {
		gpointer handle = self->lit_handle;
		self->lit_handle = NULL;
		self->sink.end(handle, FALSE, self->sink_data);
		v.kind = PR_IMAP_VALUE_STREAMED;
	} else {
		PrImapBlock *block = self->lit_block;
		guint8 *buf = pr_imap_block_data(block);
		buf[self->lit_size] = '\0';
		pr_imap_response_take_block(self->cur, block, self->lit_cap);
		self->lit_block = NULL;
		v.kind = PR_IMAP_VALUE_STRING;
		v.u.str = (const gchar *)buf;
	}
	self->in_literal = FALSE;
	pr_imap_parser_push(self, &v);
}

/* The hot path: literal bytes go to the sink or one memcpy per chunk. */
static gboolean
pr_imap_parser_literal_data(PrImapParser *self, const guint8 **data, gsize *len, GError **error)
{
	gsize take = (gsize)MIN((guint64)*len, self->lit_size - self->lit_done);

	if (self->lit_handle != NULL) {
		g_autoptr(GError) error_local = NULL;
		if (!self->sink.write(
			    self->lit_handle, *data, take, self->sink_data, &error_local)) {
			if (error_local == NULL)
				g_set_error_literal(
					error, PR_ERROR, PR_ERROR_FAILED, "literal sink failed");
			else
				g_propagate_error(error, g_steal_pointer(&error_local));
			return FALSE;
		}
	} else {
		gsize need = (gsize)self->lit_done + take + 1;
		if (need > self->lit_cap) {
			gsize cap = self->lit_cap;
			while (cap < need)
				cap *= 2;
			cap = (gsize)MIN((guint64)cap, self->lit_size + 1);
			self->lit_block = g_realloc(self->lit_block, PR_IMAP_BLOCK_HDR + cap);
			self->lit_cap = cap;
		}
		memcpy(pr_imap_block_data(self->lit_block) + self->lit_done, *data, take);
	}
	self->lit_done += take;
	self->pending += take;
	*data += take;
	*len -= take;
	if (self->lit_done == self->lit_size)
		pr_imap_parser_literal_finish(self);
	return TRUE;
}

/* One segment: the bytes up to and including an LF. */
static gboolean
pr_imap_parser_segment(PrImapParser *self, const guint8 *s, gsize len, GError **error)
{
	gsize end = len - 1;
	gsize pos = 0;
	PrImapScan scan = PR_IMAP_SCAN_END;

	if (end > 0 && s[end - 1] == '\r')
		end--;
	if (self->cur == NULL) {
		gboolean is_data = FALSE;
		if (!pr_imap_parser_head(self, s, &pos, end, &is_data, error))
			return FALSE;
		if (!is_data)
			return pr_imap_parser_complete(self, error);
	}
	if (!pr_imap_parser_scan(self, s, &pos, end, PR_IMAP_NO_CODE, &scan, error))
		return FALSE;
	if (scan == PR_IMAP_SCAN_LITERAL)
		return pr_imap_parser_literal_begin(self, error);
	if (self->opens->len > 0)
		return pr_imap_parser_error(
			error, "unbalanced '(' at the end of the response", s, end);
	return pr_imap_parser_complete(self, error);
}

static gboolean
pr_imap_parser_fail(PrImapParser *self)
{
	self->failed = TRUE;
	pr_imap_parser_clear_current(self);
	return FALSE;
}

gboolean
pr_imap_parser_feed(PrImapParser *self, const guint8 *data, gsize len, GError **error)
{
	g_return_val_if_fail(PR_IS_IMAP_PARSER(self), FALSE);
	g_return_val_if_fail(data != NULL || len == 0, FALSE);

	if (self->failed) {
		g_set_error_literal(error,
				    PR_ERROR,
				    PR_ERROR_PROTOCOL_ERROR,
				    "parser stopped after an error; reset it first");
		return FALSE;
	}
	while (len > 0) {
		const guint8 *nl;
		gsize seglen;
		gboolean ok;

		if (self->in_literal) {
			if (!pr_imap_parser_literal_data(self, &data, &len, error))
				return pr_imap_parser_fail(self);
			continue;
		}
		nl = memchr(data, '\n', len);
		if (nl == NULL) {
			if (self->line_bytes + len > self->limits.max_line) {
				pr_imap_parser_error(error, "line too long", NULL, 0);
				return pr_imap_parser_fail(self);
			}
			g_byte_array_append(self->line, data, (guint)len);
			self->line_bytes += len;
			self->pending += len;
			return TRUE;
		}
		seglen = (gsize)(nl - data) + 1;
		if (self->line_bytes + seglen > self->limits.max_line) {
			pr_imap_parser_error(error, "line too long", NULL, 0);
			return pr_imap_parser_fail(self);
		}
		self->line_bytes += seglen;
		self->pending += seglen;
		if (self->line->len > 0) {
			g_byte_array_append(self->line, data, (guint)seglen);
			ok = pr_imap_parser_segment(self, self->line->data, self->line->len, error);
			if (self->line->len > PR_IMAP_SHRINK_ABOVE) {
				g_byte_array_unref(self->line);
				self->line = g_byte_array_new();
			} else {
				g_byte_array_set_size(self->line, 0);
			}
		} else {
			ok = pr_imap_parser_segment(self, data, seglen, error);
		}
		if (!ok)
			return pr_imap_parser_fail(self);
		data += seglen;
		len -= seglen;
	}
	return TRUE;
}

PrImapResponse *
pr_imap_parser_pop(PrImapParser *self)
{
	g_return_val_if_fail(PR_IS_IMAP_PARSER(self), NULL);
	return g_queue_pop_head(&self->queue);
}

gsize
pr_imap_parser_get_pending(PrImapParser *self)
{
	g_return_val_if_fail(PR_IS_IMAP_PARSER(self), 0);
	return self->pending;
}

void
pr_imap_parser_reset(PrImapParser *self)
{
	g_return_if_fail(PR_IS_IMAP_PARSER(self));
	pr_imap_parser_clear_current(self);
	g_queue_clear_full(&self->queue, (GDestroyNotify)pr_imap_response_unref);
	self->failed = FALSE;
}

void
pr_imap_parser_get_limits(PrImapParser *self, PrImapParserLimits *limits)
{
	g_return_if_fail(PR_IS_IMAP_PARSER(self));
	g_return_if_fail(limits != NULL);
	*limits = self->limits;
}

void
pr_imap_parser_set_limits(PrImapParser *self, const PrImapParserLimits *limits)
{
	g_return_if_fail(PR_IS_IMAP_PARSER(self));
	g_return_if_fail(limits != NULL);
	self->limits = *limits;
	/* keep the arithmetic on sizes (+1 for a NUL, GByteArray's guint) free of overflow */
	self->limits.max_line = MIN(self->limits.max_line, (gsize)G_MAXUINT / 2);
	self->limits.max_literal = MIN(self->limits.max_literal, (guint64)G_MAXINT64);
	self->limits.max_inline_literal = MIN(self->limits.max_inline_literal, G_MAXSIZE / 4);
}

void
pr_imap_parser_set_sink(PrImapParser *self,
			const PrImapLiteralSink *sink,
			gpointer user_data,
			GDestroyNotify destroy)
{
	g_return_if_fail(PR_IS_IMAP_PARSER(self));
	/* the streamed literal in progress belongs to the old sink */
	g_return_if_fail(self->lit_handle == NULL);
	g_return_if_fail(sink == NULL ||
			 (sink->begin != NULL && sink->write != NULL && sink->end != NULL));

	if (self->sink_destroy != NULL)
		self->sink_destroy(self->sink_data);
	memset(&self->sink, 0, sizeof(self->sink));
	self->sink_data = NULL;
	self->sink_destroy = NULL;
	if (sink == NULL)
		return;
	self->sink = *sink;
	self->sink_data = user_data;
	self->sink_destroy = destroy;
}

static void
pr_imap_parser_finalize(GObject *object)
{
	PrImapParser *self = PR_IMAP_PARSER(object);

	pr_imap_parser_clear_current(self);
	g_queue_clear_full(&self->queue, (GDestroyNotify)pr_imap_response_unref);
	if (self->sink_destroy != NULL)
		self->sink_destroy(self->sink_data);
	g_byte_array_unref(self->line);
	g_free(self->vals);
	g_array_unref(self->opens);
	G_OBJECT_CLASS(pr_imap_parser_parent_class)->finalize(object);
}

static void
pr_imap_parser_class_init(PrImapParserClass *klass)
{
	GObjectClass *object_class = G_OBJECT_CLASS(klass);
	object_class->finalize = pr_imap_parser_finalize;
	pr_imap_cc_init();
}

static void
pr_imap_parser_init(PrImapParser *self)
{
	self->limits = pr_imap_parser_default_limits;
	g_queue_init(&self->queue);
	self->line = g_byte_array_new();
	self->opens = g_array_new(FALSE, FALSE, sizeof(guint));
}

PrImapParser *
pr_imap_parser_new(void)
{
	return g_object_new(PR_TYPE_IMAP_PARSER, NULL);
}

GPtrArray *
pr_imap_parser_parse_all(const guint8 *data, gsize len, GError **error)
{
	g_autoptr(PrImapParser) parser = pr_imap_parser_new();
	g_autoptr(GPtrArray) responses =
		g_ptr_array_new_with_free_func((GDestroyNotify)pr_imap_response_unref);
	PrImapResponse *response;

	if (!pr_imap_parser_feed(parser, data, len, error))
		return NULL;
	while ((response = pr_imap_parser_pop(parser)) != NULL)
		g_ptr_array_add(responses, response);
	if (pr_imap_parser_get_pending(parser) > 0) {
		g_set_error_literal(
			error, PR_ERROR, PR_ERROR_PROTOCOL_ERROR, "input ends inside a response");
		return NULL;
	}
	return g_steal_pointer(&responses);
}
