/*
 * Copyright 2026 The Postroom developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#define G_LOG_DOMAIN "PrImap"

#include <string.h>

#include "pr-error.h"
#include "pr-imap-response-private.h"
#include "pr-rfc2047.h"
#include "pr-imap-utf7.h"

/*
 * Typed decoders over the generic value tree (built by pr-imap-parser.c; the type and its
 * accessors are in pr-imap-value.c). Everything here goes through the public accessors,
 * so a decoder can only read what the grammar allowed; every string handed out is valid
 * UTF-8.
 *
 * Mailbox names (LIST, LSUB, STATUS, NAMESPACE): decoded from modified UTF-7 unless the
 * session enabled UTF8=ACCEPT. An invalid encoding (e.g. "&AGE") is a ProtocolError for
 * that entry, never a raw fallback: a raw fallback could collide with the decoded name of
 * another mailbox. Names are not sanitised for filesystem use ("../../etc" or "/" are
 * legal IMAP names); the store must treat them as opaque keys.
 *
 * FETCH and what it carries (ENVELOPE, BODYSTRUCTURE) are in pr-imap-fetch.c.
 */

#define PR_IMAP_MAX_SET_LEN (1024 * 1024) /* a UID set from a response code or ESEARCH */
#define PR_IMAP_PREVIEW	    32

gboolean
pr_imap_malformed(GError **error, const gchar *what)
{
	g_set_error(error, PR_ERROR, PR_ERROR_PROTOCOL_ERROR, "malformed %s", what);
	return FALSE;
}

const PrImapValue *
pr_imap_child(const PrImapValue *value, guint idx)
{
	if (value == NULL)
		return NULL;
	return pr_imap_value_get_child(value, idx);
}

gboolean
pr_imap_is_kind(const PrImapValue *value, PrImapValueKind kind)
{
	return value != NULL && pr_imap_value_get_kind(value) == kind;
}

/* NULL-tolerant forms: decoders walk trees whose shape the server chose */
guint
pr_imap_n(const PrImapValue *value)
{
	return value != NULL ? pr_imap_value_get_n_children(value) : 0;
}

gboolean
pr_imap_equal(const PrImapValue *value, const gchar *str)
{
	return value != NULL && pr_imap_value_equal_atom(value, str);
}

/* ATOM, NUMBER or STRING without an embedded NUL; NULL for anything else. */
const gchar *
pr_imap_value_text(const PrImapValue *value, gsize *len)
{
	const gchar *s;
	gsize n = 0;

	if (value == NULL)
		return NULL;
	s = pr_imap_value_get_string(value, &n);
	if (s == NULL || memchr(s, '\0', n) != NULL)
		return NULL;
	if (len != NULL)
		*len = n;
	return s;
}

/* An nstring (or astring) for display; NULL for NIL, lists and streamed literals. */
gchar *
pr_imap_value_dup_display(const PrImapValue *value)
{
	const gchar *s;
	gsize len = 0;
	g_autofree gchar *tmp = NULL;

	if (value == NULL)
		return NULL;
	s = pr_imap_value_get_string(value, &len);
	if (s == NULL)
		return NULL;
	if (memchr(s, '\0', len) == NULL)
		return pr_rfc2047_dup_display(s, len);
	tmp = g_memdup2(s, len);
	for (gsize i = 0; i < len; i++) {
		if (tmp[i] == '\0')
			tmp[i] = ' ';
	}
	return pr_rfc2047_dup_display(tmp, len);
}

gboolean
pr_imap_value_get_u32(const PrImapValue *value, guint32 *out)
{
	guint64 n = 0;

	if (!pr_imap_is_kind(value, PR_IMAP_VALUE_NUMBER) || !pr_imap_value_get_number(value, &n) ||
	    n > G_MAXUINT32)
		return FALSE;
	*out = (guint32)n;
	return TRUE;
}

gboolean
pr_imap_value_get_u64(const PrImapValue *value, guint64 *out)
{
	if (!pr_imap_is_kind(value, PR_IMAP_VALUE_NUMBER))
		return FALSE;
	return pr_imap_value_get_number(value, out);
}

gboolean
pr_imap_response_is_data(const PrImapResponse *self, const gchar *keyword)
{
	return pr_imap_response_get_kind(self) == PR_IMAP_RESPONSE_KIND_UNTAGGED &&
	       pr_imap_response_get_status(self) == PR_IMAP_STATUS_NONE &&
	       g_strcmp0(pr_imap_response_get_keyword(self), keyword) == 0;
}

/*
 * A sequence set of plain numbers: "1:5,7,9:12", each number 1..2^32-1, no "*", bounded
 * length. @count gets how many numbers it covers (ranges may be reversed).
 */
static gboolean
pr_imap_uid_set_parse(const gchar *s, gsize len, guint64 *count)
{
	gsize i = 0;
	guint64 total = 0;

	if (len == 0 || len > PR_IMAP_MAX_SET_LEN)
		return FALSE;
	while (TRUE) {
		guint64 range[2] = { 0, 0 };
		guint n = 0;
		for (n = 0; n < 2; n++) {
			gsize digits = 0;
			for (; i < len && g_ascii_isdigit(s[i]); i++, digits++) {
				range[n] = range[n] * 10 + (guint)(s[i] - '0');
				if (range[n] > G_MAXUINT32)
					return FALSE;
			}
			if (digits == 0 || range[n] == 0)
				return FALSE;
			if (i < len && s[i] == ':' && n == 0) {
				i++;
				continue;
			}
			if (n == 0)
				range[1] = range[0];
			break;
		}
		total += (range[0] > range[1] ? range[0] - range[1] : range[1] - range[0]) + 1;
		if (i == len)
			break;
		if (s[i] != ',')
			return FALSE;
		i++;
	}
	if (count != NULL)
		*count = total;
	return TRUE;
}

static gchar *
pr_imap_value_dup_uid_set(const PrImapValue *value, guint64 *count)
{
	const gchar *s;
	gsize len = 0;

	if (pr_imap_is_kind(value, PR_IMAP_VALUE_STRING))
		return NULL;
	s = pr_imap_value_text(value, &len);
	if (s == NULL || !pr_imap_uid_set_parse(s, len, count))
		return NULL;
	return g_strndup(s, len);
}

/* Rendering --------------------------------------------------------------------------- */

static void
pr_imap_render_quoted(GString *out, const gchar *s, gsize len, gboolean cut)
{
	gsize n = cut ? MIN(len, PR_IMAP_PREVIEW) : len;

	g_string_append_c(out, '"');
	for (gsize i = 0; i < n; i++) {
		guchar c = (guchar)s[i];
		if (c == '"' || c == '\\')
			g_string_append_printf(out, "\\%c", c);
		else if (c < 0x20 || c == 0x7f)
			g_string_append_printf(out, "\\x%02x", c);
		else
			g_string_append_c(out, (gchar)c);
	}
	if (n < len)
		g_string_append(out, "...");
	g_string_append_c(out, '"');
}

static void
pr_imap_render_value(GString *out, const PrImapValue *value)
{
	const gchar *s;
	gsize len = 0;

	switch (pr_imap_value_get_kind(value)) {
	case PR_IMAP_VALUE_NIL:
		g_string_append(out, "NIL");
		break;
	case PR_IMAP_VALUE_ATOM:
	case PR_IMAP_VALUE_NUMBER:
		s = pr_imap_value_get_string(value, &len);
		g_string_append_len(out, s, (gssize)len);
		break;
	case PR_IMAP_VALUE_STRING:
		s = pr_imap_value_get_string(value, &len);
		if (pr_imap_value_is_literal(value))
			g_string_append_printf(out, "{%" G_GSIZE_FORMAT "}", len);
		pr_imap_render_quoted(out, s, len, pr_imap_value_is_literal(value));
		break;
	case PR_IMAP_VALUE_LIST:
		g_string_append_c(out, '(');
		for (guint i = 0; i < pr_imap_n(value); i++) {
			if (i > 0)
				g_string_append_c(out, ' ');
			pr_imap_render_value(out, pr_imap_value_get_child(value, i));
		}
		g_string_append_c(out, ')');
		break;
	case PR_IMAP_VALUE_STREAMED:
		g_string_append_printf(out,
				       "{%" G_GUINT64_FORMAT "}<streamed>",
				       pr_imap_value_get_literal_size(value));
		break;
	default:
		g_string_append(out, "?");
		break;
	}
}

static gchar *
pr_imap_render_finish(GString *out)
{
	g_autofree gchar *str = g_string_free(out, FALSE);
	if (g_utf8_validate(str, -1, NULL))
		return g_steal_pointer(&str);
	return g_utf8_make_valid(str, -1);
}

gchar *
pr_imap_value_to_string(const PrImapValue *value)
{
	GString *out = g_string_new(NULL);

	g_return_val_if_fail(value != NULL, NULL);
	pr_imap_render_value(out, value);
	return pr_imap_render_finish(out);
}

gchar *
pr_imap_response_to_string(const PrImapResponse *self)
{
	GString *out;
	const gchar *text;
	guint32 number = 0;

	g_return_val_if_fail(self != NULL, NULL);
	out = g_string_new(NULL);
	switch (pr_imap_response_get_kind(self)) {
	case PR_IMAP_RESPONSE_KIND_CONTINUATION:
		g_string_append(out, "+ ");
		g_string_append(out, pr_imap_response_get_continuation(self));
		return pr_imap_render_finish(out);
	case PR_IMAP_RESPONSE_KIND_TAGGED:
		g_string_append(out, pr_imap_response_get_tag(self));
		break;
	default:
		g_string_append_c(out, '*');
		break;
	}
	if (pr_imap_response_get_number(self, &number))
		g_string_append_printf(out, " %u", number);
	g_string_append_printf(out, " %s", pr_imap_response_get_keyword(self));
	if (pr_imap_response_get_status(self) == PR_IMAP_STATUS_NONE) {
		const PrImapValue *data = pr_imap_response_get_data(self);
		for (guint i = 0; i < pr_imap_n(data); i++) {
			g_string_append_c(out, ' ');
			pr_imap_render_value(out, pr_imap_value_get_child(data, i));
		}
		return pr_imap_render_finish(out);
	}
	if (pr_imap_response_get_code(self) != NULL) {
		const PrImapValue *args = pr_imap_response_get_code_args(self);
		g_string_append_printf(out, " [%s", pr_imap_response_get_code(self));
		for (guint i = 0; i < pr_imap_n(args); i++) {
			g_string_append_c(out, ' ');
			pr_imap_render_value(out, pr_imap_value_get_child(args, i));
		}
		g_string_append_c(out, ']');
	}
	text = pr_imap_response_get_text(self);
	if (text != NULL && text[0] != '\0')
		g_string_append_printf(out, " %s", text);
	return pr_imap_render_finish(out);
}

/* Capabilities, flags, ENABLED ---------------------------------------------------------- */

gchar **
pr_imap_dup_atoms(const PrImapValue *list, gboolean upper)
{
	g_autoptr(GStrvBuilder) builder = g_strv_builder_new();

	for (guint i = 0; i < pr_imap_n(list); i++) {
		const PrImapValue *child = pr_imap_value_get_child(list, i);
		const gchar *s;
		gsize len = 0;
		if (pr_imap_is_kind(child, PR_IMAP_VALUE_LIST))
			continue;
		s = pr_imap_value_text(child, &len);
		if (s == NULL)
			continue;
		if (upper) {
			g_autofree gchar *up = g_ascii_strup(s, (gssize)len);
			g_autofree gchar *item = pr_rfc2047_dup_display(up, len);
			g_strv_builder_add(builder, item);
		} else {
			g_autofree gchar *item = pr_rfc2047_dup_display(s, len);
			g_strv_builder_add(builder, item);
		}
	}
	return g_strv_builder_end(builder);
}

gchar **
pr_imap_response_dup_capabilities(const PrImapResponse *self)
{
	g_return_val_if_fail(self != NULL, NULL);
	if (pr_imap_response_is_data(self, "CAPABILITY"))
		return pr_imap_dup_atoms(pr_imap_response_get_data(self), TRUE);
	if (g_strcmp0(pr_imap_response_get_code(self), "CAPABILITY") == 0)
		return pr_imap_dup_atoms(pr_imap_response_get_code_args(self), TRUE);
	return NULL;
}

gchar **
pr_imap_response_dup_flags(const PrImapResponse *self)
{
	const PrImapValue *list = NULL;

	g_return_val_if_fail(self != NULL, NULL);
	if (pr_imap_response_is_data(self, "FLAGS"))
		list = pr_imap_child(pr_imap_response_get_data(self), 0);
	else if (g_strcmp0(pr_imap_response_get_code(self), "PERMANENTFLAGS") == 0)
		list = pr_imap_child(pr_imap_response_get_code_args(self), 0);
	if (!pr_imap_is_kind(list, PR_IMAP_VALUE_LIST))
		return NULL;
	return pr_imap_dup_atoms(list, FALSE);
}

gchar **
pr_imap_response_dup_enabled(const PrImapResponse *self)
{
	g_return_val_if_fail(self != NULL, NULL);
	if (!pr_imap_response_is_data(self, "ENABLED"))
		return NULL;
	return pr_imap_dup_atoms(pr_imap_response_get_data(self), TRUE);
}

/* Response codes ------------------------------------------------------------------------ */

gboolean
pr_imap_response_get_code_number(const PrImapResponse *self, const gchar *code, guint64 *value)
{
	const gchar *have;

	g_return_val_if_fail(self != NULL, FALSE);
	g_return_val_if_fail(code != NULL, FALSE);
	have = pr_imap_response_get_code(self);
	if (have == NULL || g_ascii_strcasecmp(have, code) != 0)
		return FALSE;
	return pr_imap_value_get_u64(pr_imap_child(pr_imap_response_get_code_args(self), 0), value);
}

gboolean
pr_imap_response_parse_appenduid(const PrImapResponse *self,
				 guint32 *uidvalidity,
				 gchar **uids,
				 GError **error)
{
	const PrImapValue *args;
	guint32 validity = 0;
	g_autofree gchar *set = NULL;

	g_return_val_if_fail(self != NULL, FALSE);
	if (g_strcmp0(pr_imap_response_get_code(self), "APPENDUID") != 0)
		return pr_imap_malformed(error, "APPENDUID: no such response code");
	args = pr_imap_response_get_code_args(self);
	if (pr_imap_n(args) != 2 || !pr_imap_value_get_u32(pr_imap_child(args, 0), &validity))
		return pr_imap_malformed(error, "APPENDUID");
	set = pr_imap_value_dup_uid_set(pr_imap_child(args, 1), NULL);
	if (set == NULL)
		return pr_imap_malformed(error, "APPENDUID UID set");
	if (uidvalidity != NULL)
		*uidvalidity = validity;
	if (uids != NULL)
		*uids = g_steal_pointer(&set);
	return TRUE;
}

gboolean
pr_imap_response_parse_copyuid(const PrImapResponse *self,
			       guint32 *uidvalidity,
			       gchar **source,
			       gchar **dest,
			       GError **error)
{
	const PrImapValue *args;
	guint32 validity = 0;
	guint64 n_src = 0;
	guint64 n_dst = 0;
	g_autofree gchar *src = NULL;
	g_autofree gchar *dst = NULL;

	g_return_val_if_fail(self != NULL, FALSE);
	if (g_strcmp0(pr_imap_response_get_code(self), "COPYUID") != 0)
		return pr_imap_malformed(error, "COPYUID: no such response code");
	args = pr_imap_response_get_code_args(self);
	if (pr_imap_n(args) != 3 || !pr_imap_value_get_u32(pr_imap_child(args, 0), &validity))
		return pr_imap_malformed(error, "COPYUID");
	src = pr_imap_value_dup_uid_set(pr_imap_child(args, 1), &n_src);
	dst = pr_imap_value_dup_uid_set(pr_imap_child(args, 2), &n_dst);
	if (src == NULL || dst == NULL)
		return pr_imap_malformed(error, "COPYUID UID set");
	/* RFC 4315: the sets map one to one; a mismatch cannot be applied safely */
	if (n_src != n_dst)
		return pr_imap_malformed(error, "COPYUID: the UID sets differ in size");
	if (uidvalidity != NULL)
		*uidvalidity = validity;
	if (source != NULL)
		*source = g_steal_pointer(&src);
	if (dest != NULL)
		*dest = g_steal_pointer(&dst);
	return TRUE;
}

/* Mailbox names ------------------------------------------------------------------------- */

static gboolean
pr_imap_decode_mailbox(const PrImapValue *value,
		       gboolean utf8,
		       gchar **name,
		       gchar **raw_name,
		       GError **error)
{
	const gchar *raw;
	gsize len = 0;
	g_autofree gchar *decoded = NULL;

	raw = pr_imap_value_text(value, &len);
	if (raw == NULL)
		return pr_imap_malformed(error, "mailbox name");
	if (utf8) {
		if (!g_utf8_validate(raw, (gssize)len, NULL))
			return pr_imap_malformed(error, "mailbox name: not UTF-8");
		decoded = g_strndup(raw, len);
	} else {
		decoded = pr_imap_utf7_decode(raw, (gssize)len, error);
		if (decoded == NULL) {
			g_prefix_error(error, "mailbox name: ");
			return FALSE;
		}
	}
	/* INBOX is case-insensitive (RFC 3501 5.1) */
	if (g_ascii_strcasecmp(decoded, "INBOX") == 0) {
		g_free(decoded);
		decoded = g_strdup("INBOX");
	}
	if (name != NULL)
		*name = g_steal_pointer(&decoded);
	if (raw_name != NULL)
		*raw_name = g_strndup(raw, len);
	return TRUE;
}

static gboolean
pr_imap_value_get_delimiter(const PrImapValue *value, gchar *delimiter)
{
	const gchar *s;
	gsize len = 0;

	if (pr_imap_is_kind(value, PR_IMAP_VALUE_NIL)) {
		*delimiter = '\0';
		return TRUE;
	}
	if (!pr_imap_is_kind(value, PR_IMAP_VALUE_STRING) &&
	    !pr_imap_is_kind(value, PR_IMAP_VALUE_ATOM))
		return FALSE;
	s = pr_imap_value_text(value, &len);
	if (s == NULL || len != 1 || (guchar)s[0] >= 0x80)
		return FALSE;
	*delimiter = s[0];
	return TRUE;
}

void
pr_imap_list_entry_free(PrImapListEntry *entry)
{
	if (entry == NULL)
		return;
	g_strfreev(entry->attributes);
	g_free(entry->name);
	g_free(entry->raw_name);
	g_free(entry->special_use);
	g_free(entry->child_info);
	g_free(entry->old_name);
	g_free(entry);
}

static const gchar *
pr_imap_special_use(const gchar *attribute)
{
	static const gchar *const names[] = {
		"\\All",  "\\Archive", "\\Drafts", "\\Flagged",
		"\\Junk", "\\Sent",    "\\Trash",  "\\Important",
	};
	for (guint i = 0; i < G_N_ELEMENTS(names); i++) {
		if (g_ascii_strcasecmp(attribute, names[i]) == 0)
			return names[i];
	}
	return NULL;
}

/* LIST-EXTENDED items: ("CHILDINFO" ("SUBSCRIBED") "OLDNAME" ("old")) */
static gboolean
pr_imap_list_extended(PrImapListEntry *entry, const PrImapValue *ext, gboolean utf8, GError **error)
{
	guint n = pr_imap_n(ext);

	if (!pr_imap_is_kind(ext, PR_IMAP_VALUE_LIST) || n % 2 != 0)
		return pr_imap_malformed(error, "LIST extended data");
	for (guint i = 0; i < n; i += 2) {
		const PrImapValue *tag = pr_imap_value_get_child(ext, i);
		const PrImapValue *val = pr_imap_value_get_child(ext, i + 1);
		if (pr_imap_equal(tag, "CHILDINFO")) {
			g_auto(GStrv) items = pr_imap_dup_atoms(val, TRUE);
			if (!pr_imap_is_kind(val, PR_IMAP_VALUE_LIST))
				return pr_imap_malformed(error, "LIST CHILDINFO");
			g_free(entry->child_info);
			entry->child_info = g_strjoinv(" ", items);
		} else if (pr_imap_equal(tag, "OLDNAME")) {
			g_free(entry->old_name);
			entry->old_name = NULL;
			if (!pr_imap_decode_mailbox(
				    pr_imap_child(val, 0), utf8, &entry->old_name, NULL, error))
				return FALSE;
		}
	}
	return TRUE;
}

PrImapListEntry *
pr_imap_response_parse_list(const PrImapResponse *self, gboolean utf8, GError **error)
{
	const PrImapValue *data;
	const PrImapValue *attrs;
	g_autoptr(PrImapListEntry) entry = NULL;
	guint n;

	g_return_val_if_fail(self != NULL, NULL);
	if (!pr_imap_response_is_data(self, "LIST") && !pr_imap_response_is_data(self, "LSUB")) {
		pr_imap_malformed(error, "LIST: not a LIST or LSUB response");
		return NULL;
	}
	data = pr_imap_response_get_data(self);
	n = pr_imap_n(data);
	attrs = pr_imap_child(data, 0);
	if ((n != 3 && n != 4) || !pr_imap_is_kind(attrs, PR_IMAP_VALUE_LIST)) {
		pr_imap_malformed(error, "LIST response");
		return NULL;
	}
	entry = g_new0(PrImapListEntry, 1);
	entry->attributes = pr_imap_dup_atoms(attrs, FALSE);
	for (guint i = 0; entry->attributes[i] != NULL; i++) {
		const gchar *use = pr_imap_special_use(entry->attributes[i]);
		if (use != NULL) {
			entry->special_use = g_strdup(use);
			break;
		}
	}
	if (!pr_imap_value_get_delimiter(pr_imap_child(data, 1), &entry->delimiter)) {
		pr_imap_malformed(error, "LIST hierarchy delimiter");
		return NULL;
	}
	if (!pr_imap_decode_mailbox(
		    pr_imap_child(data, 2), utf8, &entry->name, &entry->raw_name, error))
		return NULL;
	if (n == 4 && !pr_imap_list_extended(entry, pr_imap_child(data, 3), utf8, error))
		return NULL;
	return g_steal_pointer(&entry);
}

void
pr_imap_status_info_free(PrImapStatusInfo *info)
{
	if (info == NULL)
		return;
	g_free(info->name);
	g_free(info);
}

PrImapStatusInfo *
pr_imap_response_parse_status(const PrImapResponse *self, gboolean utf8, GError **error)
{
	const PrImapValue *data;
	const PrImapValue *items;
	g_autoptr(PrImapStatusInfo) info = NULL;
	guint n;

	g_return_val_if_fail(self != NULL, NULL);
	if (!pr_imap_response_is_data(self, "STATUS")) {
		pr_imap_malformed(error, "STATUS: not a STATUS response");
		return NULL;
	}
	data = pr_imap_response_get_data(self);
	items = pr_imap_child(data, 1);
	n = pr_imap_n(items);
	if (pr_imap_n(data) != 2 || !pr_imap_is_kind(items, PR_IMAP_VALUE_LIST) || n % 2 != 0) {
		pr_imap_malformed(error, "STATUS response");
		return NULL;
	}
	info = g_new0(PrImapStatusInfo, 1);
	if (!pr_imap_decode_mailbox(pr_imap_child(data, 0), utf8, &info->name, NULL, error))
		return NULL;
	for (guint i = 0; i < n; i += 2) {
		const PrImapValue *key = pr_imap_value_get_child(items, i);
		const PrImapValue *val = pr_imap_value_get_child(items, i + 1);
		gboolean ok = TRUE;
		if (pr_imap_equal(key, "MESSAGES"))
			ok = info->has_messages = pr_imap_value_get_u32(val, &info->messages);
		else if (pr_imap_equal(key, "RECENT"))
			ok = info->has_recent = pr_imap_value_get_u32(val, &info->recent);
		else if (pr_imap_equal(key, "UIDNEXT"))
			ok = info->has_uidnext = pr_imap_value_get_u32(val, &info->uidnext);
		else if (pr_imap_equal(key, "UIDVALIDITY"))
			ok = info->has_uidvalidity = pr_imap_value_get_u32(val, &info->uidvalidity);
		else if (pr_imap_equal(key, "UNSEEN"))
			ok = info->has_unseen = pr_imap_value_get_u32(val, &info->unseen);
		else if (pr_imap_equal(key, "HIGHESTMODSEQ"))
			ok = info->has_highestmodseq =
				pr_imap_value_get_u64(val, &info->highestmodseq);
		else if (pr_imap_equal(key, "SIZE"))
			ok = info->has_size = pr_imap_value_get_u64(val, &info->size);
		if (!ok) {
			pr_imap_malformed(error, "STATUS item");
			return NULL;
		}
	}
	return g_steal_pointer(&info);
}

/* NAMESPACE and ID ---------------------------------------------------------------------- */

static void
pr_imap_namespace_free(PrImapNamespace *ns)
{
	g_free(ns->prefix);
	g_free(ns->raw_prefix);
	g_free(ns);
}

void
pr_imap_namespaces_free(PrImapNamespaces *namespaces)
{
	if (namespaces == NULL)
		return;
	g_clear_pointer(&namespaces->personal, g_ptr_array_unref);
	g_clear_pointer(&namespaces->other, g_ptr_array_unref);
	g_clear_pointer(&namespaces->shared, g_ptr_array_unref);
	g_free(namespaces);
}

static GPtrArray *
pr_imap_parse_namespace_list(const PrImapValue *value, gboolean utf8, GError **error)
{
	g_autoptr(GPtrArray) array =
		g_ptr_array_new_with_free_func((GDestroyNotify)pr_imap_namespace_free);

	if (pr_imap_is_kind(value, PR_IMAP_VALUE_NIL))
		return g_steal_pointer(&array);
	if (!pr_imap_is_kind(value, PR_IMAP_VALUE_LIST)) {
		pr_imap_malformed(error, "NAMESPACE");
		return NULL;
	}
	for (guint i = 0; i < pr_imap_n(value); i++) {
		const PrImapValue *desc = pr_imap_value_get_child(value, i);
		PrImapNamespace *ns;
		if (!pr_imap_is_kind(desc, PR_IMAP_VALUE_LIST) || pr_imap_n(desc) < 2) {
			pr_imap_malformed(error, "NAMESPACE descriptor");
			return NULL;
		}
		ns = g_new0(PrImapNamespace, 1);
		g_ptr_array_add(array, ns);
		if (!pr_imap_decode_mailbox(
			    pr_imap_child(desc, 0), utf8, &ns->prefix, &ns->raw_prefix, error))
			return NULL;
		if (!pr_imap_value_get_delimiter(pr_imap_child(desc, 1), &ns->delimiter)) {
			pr_imap_malformed(error, "NAMESPACE delimiter");
			return NULL;
		}
	}
	return g_steal_pointer(&array);
}

PrImapNamespaces *
pr_imap_response_parse_namespace(const PrImapResponse *self, gboolean utf8, GError **error)
{
	const PrImapValue *data;
	g_autoptr(PrImapNamespaces) namespaces = NULL;

	g_return_val_if_fail(self != NULL, NULL);
	if (!pr_imap_response_is_data(self, "NAMESPACE")) {
		pr_imap_malformed(error, "NAMESPACE: not a NAMESPACE response");
		return NULL;
	}
	data = pr_imap_response_get_data(self);
	if (pr_imap_n(data) != 3) {
		pr_imap_malformed(error, "NAMESPACE response");
		return NULL;
	}
	namespaces = g_new0(PrImapNamespaces, 1);
	namespaces->personal = pr_imap_parse_namespace_list(pr_imap_child(data, 0), utf8, error);
	if (namespaces->personal == NULL)
		return NULL;
	namespaces->other = pr_imap_parse_namespace_list(pr_imap_child(data, 1), utf8, error);
	if (namespaces->other == NULL)
		return NULL;
	namespaces->shared = pr_imap_parse_namespace_list(pr_imap_child(data, 2), utf8, error);
	if (namespaces->shared == NULL)
		return NULL;
	return g_steal_pointer(&namespaces);
}

GHashTable *
pr_imap_response_parse_id(const PrImapResponse *self, GError **error)
{
	const PrImapValue *data;
	const PrImapValue *list;
	g_autoptr(GHashTable) table = NULL;
	guint n;

	g_return_val_if_fail(self != NULL, NULL);
	if (!pr_imap_response_is_data(self, "ID")) {
		pr_imap_malformed(error, "ID: not an ID response");
		return NULL;
	}
	data = pr_imap_response_get_data(self);
	list = pr_imap_child(data, 0);
	n = pr_imap_n(list);
	if (pr_imap_n(data) != 1 ||
	    (!pr_imap_is_kind(list, PR_IMAP_VALUE_NIL) &&
	     !pr_imap_is_kind(list, PR_IMAP_VALUE_LIST)) ||
	    n % 2 != 0) {
		pr_imap_malformed(error, "ID response");
		return NULL;
	}
	table = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
	for (guint i = 0; i < n; i += 2) {
		g_autofree gchar *key = pr_imap_value_dup_display(pr_imap_child(list, i));
		const PrImapValue *val = pr_imap_child(list, i + 1);
		if (key == NULL || pr_imap_is_kind(val, PR_IMAP_VALUE_LIST)) {
			pr_imap_malformed(error, "ID field");
			return NULL;
		}
		g_hash_table_replace(
			table, g_ascii_strdown(key, -1), pr_imap_value_dup_display(val));
	}
	return g_steal_pointer(&table);
}

/* SEARCH, ESEARCH, VANISHED ------------------------------------------------------------- */

GArray *
pr_imap_response_parse_search(const PrImapResponse *self, guint64 *modseq, GError **error)
{
	const PrImapValue *data;
	g_autoptr(GArray) numbers = g_array_new(FALSE, FALSE, sizeof(guint32));
	guint64 found_modseq = 0;
	guint n;

	g_return_val_if_fail(self != NULL, NULL);
	if (!pr_imap_response_is_data(self, "SEARCH") && !pr_imap_response_is_data(self, "SORT")) {
		pr_imap_malformed(error, "SEARCH: not a SEARCH response");
		return NULL;
	}
	data = pr_imap_response_get_data(self);
	n = pr_imap_n(data);
	for (guint i = 0; i < n; i++) {
		const PrImapValue *child = pr_imap_value_get_child(data, i);
		guint32 number = 0;
		if (pr_imap_value_get_u32(child, &number) && number > 0) {
			g_array_append_val(numbers, number);
			continue;
		}
		/* RFC 7162: "(MODSEQ n)" closes the list */
		if (i + 1 == n && pr_imap_n(child) == 2 &&
		    pr_imap_equal(pr_imap_child(child, 0), "MODSEQ") &&
		    pr_imap_value_get_u64(pr_imap_child(child, 1), &found_modseq))
			continue;
		pr_imap_malformed(error, "SEARCH response");
		return NULL;
	}
	if (modseq != NULL)
		*modseq = found_modseq;
	return g_steal_pointer(&numbers);
}

void
pr_imap_esearch_free(PrImapEsearch *esearch)
{
	if (esearch == NULL)
		return;
	g_free(esearch->tag);
	g_free(esearch->all);
	g_free(esearch);
}

PrImapEsearch *
pr_imap_response_parse_esearch(const PrImapResponse *self, GError **error)
{
	const PrImapValue *data;
	const PrImapValue *first;
	g_autoptr(PrImapEsearch) es = NULL;
	guint n;
	guint i = 0;

	g_return_val_if_fail(self != NULL, NULL);
	if (!pr_imap_response_is_data(self, "ESEARCH")) {
		pr_imap_malformed(error, "ESEARCH: not an ESEARCH response");
		return NULL;
	}
	data = pr_imap_response_get_data(self);
	n = pr_imap_n(data);
	es = g_new0(PrImapEsearch, 1);
	first = pr_imap_child(data, 0);
	if (pr_imap_is_kind(first, PR_IMAP_VALUE_LIST)) {
		if (pr_imap_n(first) != 2 || !pr_imap_equal(pr_imap_child(first, 0), "TAG") ||
		    !pr_imap_is_kind(pr_imap_child(first, 1), PR_IMAP_VALUE_STRING)) {
			pr_imap_malformed(error, "ESEARCH correlator");
			return NULL;
		}
		es->tag = pr_imap_value_dup_display(pr_imap_child(first, 1));
		i++;
	}
	if (i < n && pr_imap_equal(pr_imap_child(data, i), "UID")) {
		es->uid = TRUE;
		i++;
	}
	if ((n - i) % 2 != 0) {
		pr_imap_malformed(error, "ESEARCH response");
		return NULL;
	}
	for (; i < n; i += 2) {
		const PrImapValue *key = pr_imap_value_get_child(data, i);
		const PrImapValue *val = pr_imap_value_get_child(data, i + 1);
		gboolean ok = TRUE;
		if (pr_imap_equal(key, "MIN")) {
			ok = es->has_min = pr_imap_value_get_u32(val, &es->min);
		} else if (pr_imap_equal(key, "MAX")) {
			ok = es->has_max = pr_imap_value_get_u32(val, &es->max);
		} else if (pr_imap_equal(key, "COUNT")) {
			ok = es->has_count = pr_imap_value_get_u32(val, &es->count);
		} else if (pr_imap_equal(key, "MODSEQ")) {
			ok = es->has_modseq = pr_imap_value_get_u64(val, &es->modseq);
		} else if (pr_imap_equal(key, "ALL")) {
			g_free(es->all);
			es->all = pr_imap_value_dup_uid_set(val, NULL);
			ok = es->all != NULL;
		}
		if (!ok) {
			pr_imap_malformed(error, "ESEARCH item");
			return NULL;
		}
	}
	return g_steal_pointer(&es);
}

gchar *
pr_imap_response_parse_vanished(const PrImapResponse *self, gboolean *earlier, GError **error)
{
	const PrImapValue *data;
	const PrImapValue *first;
	gboolean is_earlier = FALSE;
	gchar *set;
	guint n;

	g_return_val_if_fail(self != NULL, NULL);
	if (!pr_imap_response_is_data(self, "VANISHED")) {
		pr_imap_malformed(error, "VANISHED: not a VANISHED response");
		return NULL;
	}
	data = pr_imap_response_get_data(self);
	n = pr_imap_n(data);
	first = pr_imap_child(data, 0);
	if (n == 2) {
		if (pr_imap_n(first) != 1 || !pr_imap_equal(pr_imap_child(first, 0), "EARLIER")) {
			pr_imap_malformed(error, "VANISHED tag");
			return NULL;
		}
		is_earlier = TRUE;
	} else if (n != 1) {
		pr_imap_malformed(error, "VANISHED response");
		return NULL;
	}
	set = pr_imap_value_dup_uid_set(pr_imap_child(data, n - 1), NULL);
	if (set == NULL) {
		pr_imap_malformed(error, "VANISHED UID set");
		return NULL;
	}
	if (earlier != NULL)
		*earlier = is_earlier;
	return set;
}
