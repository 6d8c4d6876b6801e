/*
 * Copyright 2026 The Postroom developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#define G_LOG_DOMAIN "PrImap"

#include <string.h>

#include "pr-date.h"
#include "pr-error.h"
#include "pr-imap-response-private.h"
#include "pr-rfc2047.h"

/*
 * The FETCH decoder and what it carries: ENVELOPE (header text decoded from RFC 2047,
 * dates read leniently), BODYSTRUCTURE (only whether there are attachments), sections and
 * the plain items. Same rules as the other decoders in pr-imap-response.c.
 */

#define PR_IMAP_BODY_MAX_DEPTH 64

/* ENVELOPE ------------------------------------------------------------------------------ */

static void
pr_imap_address_free(PrImapAddress *address)
{
	g_free(address->name);
	g_free(address->mailbox);
	g_free(address->host);
	g_free(address);
}

void
pr_imap_envelope_free(PrImapEnvelope *envelope)
{
	if (envelope == NULL)
		return;
	g_free(envelope->date_raw);
	g_free(envelope->subject);
	g_clear_pointer(&envelope->from, g_ptr_array_unref);
	g_clear_pointer(&envelope->sender, g_ptr_array_unref);
	g_clear_pointer(&envelope->reply_to, g_ptr_array_unref);
	g_clear_pointer(&envelope->to, g_ptr_array_unref);
	g_clear_pointer(&envelope->cc, g_ptr_array_unref);
	g_clear_pointer(&envelope->bcc, g_ptr_array_unref);
	g_free(envelope->in_reply_to);
	g_free(envelope->message_id);
	g_free(envelope);
}

gchar *
pr_imap_address_to_string(const PrImapAddress *address)
{
	g_return_val_if_fail(address != NULL, NULL);
	/* a group start keeps only its name */
	if (address->mailbox == NULL)
		return g_strdup_printf("%s:", address->name != NULL ? address->name : "");
	if (address->host == NULL)
		return g_strdup(address->mailbox);
	if (address->name != NULL && address->name[0] != '\0')
		return g_strdup_printf(
			"%s <%s@%s>", address->name, address->mailbox, address->host);
	return g_strdup_printf("%s@%s", address->mailbox, address->host);
}

static gchar *
pr_imap_value_dup_header(const PrImapValue *value)
{
	g_autofree gchar *raw = pr_imap_value_dup_display(value);
	if (raw == NULL)
		return NULL;
	return pr_rfc2047_decode(raw, strlen(raw));
}

/*
 * An address list: NIL or ((name adl mailbox host) ...). RFC 3501 group syntax: host NIL
 * and mailbox set starts a group (kept as an entry whose name is the group's, mailbox and
 * host NULL); host and mailbox NIL ends it (dropped).
 */
static GPtrArray *
pr_imap_parse_addresses(const PrImapValue *value, GError **error)
{
	g_autoptr(GPtrArray) array =
		g_ptr_array_new_with_free_func((GDestroyNotify)pr_imap_address_free);

	if (pr_imap_is_kind(value, PR_IMAP_VALUE_NIL))
		return g_steal_pointer(&array);
	if (!pr_imap_is_kind(value, PR_IMAP_VALUE_LIST)) {
		pr_imap_malformed(error, "ENVELOPE address list");
		return NULL;
	}
	for (guint i = 0; i < pr_imap_n(value); i++) {
		const PrImapValue *a = pr_imap_value_get_child(value, i);
		PrImapAddress *address;
		g_autofree gchar *mailbox = NULL;
		g_autofree gchar *host = NULL;
		if (!pr_imap_is_kind(a, PR_IMAP_VALUE_LIST) || pr_imap_n(a) != 4) {
			pr_imap_malformed(error, "ENVELOPE address");
			return NULL;
		}
		mailbox = pr_imap_value_dup_display(pr_imap_child(a, 2));
		host = pr_imap_value_dup_display(pr_imap_child(a, 3));
		if (host == NULL && mailbox == NULL)
			continue;
		address = g_new0(PrImapAddress, 1);
		if (host == NULL) {
			address->name = pr_rfc2047_decode(mailbox, strlen(mailbox));
		} else {
			address->name = pr_imap_value_dup_header(pr_imap_child(a, 0));
			address->mailbox =
				mailbox != NULL ? g_steal_pointer(&mailbox) : g_strdup("");
			address->host = g_steal_pointer(&host);
		}
		g_ptr_array_add(array, address);
	}
	return g_steal_pointer(&array);
}

static PrImapEnvelope *
pr_imap_parse_envelope(const PrImapValue *value, GError **error)
{
	g_autoptr(PrImapEnvelope) env = NULL;
	GPtrArray **lists[6];

	if (!pr_imap_is_kind(value, PR_IMAP_VALUE_LIST) || pr_imap_n(value) < 10) {
		pr_imap_malformed(error, "ENVELOPE");
		return NULL;
	}
	env = g_new0(PrImapEnvelope, 1);
	env->date_raw = pr_imap_value_dup_display(pr_imap_child(value, 0));
	if (env->date_raw != NULL)
		env->date = pr_date_parse_rfc5322(env->date_raw);
	env->subject = pr_imap_value_dup_header(pr_imap_child(value, 1));
	lists[0] = &env->from;
	lists[1] = &env->sender;
	lists[2] = &env->reply_to;
	lists[3] = &env->to;
	lists[4] = &env->cc;
	lists[5] = &env->bcc;
	for (guint i = 0; i < G_N_ELEMENTS(lists); i++) {
		*lists[i] = pr_imap_parse_addresses(pr_imap_child(value, 2 + i), error);
		if (*lists[i] == NULL)
			return NULL;
	}
	env->in_reply_to = pr_imap_value_dup_display(pr_imap_child(value, 8));
	env->message_id = pr_imap_value_dup_display(pr_imap_child(value, 9));
	return g_steal_pointer(&env);
}

/* BODYSTRUCTURE ------------------------------------------------------------------------- */

static gboolean
pr_imap_body_disposition_is(const PrImapValue *dsp, const gchar *kind)
{
	/* ("ATTACHMENT" (params)); some servers send the bare string */
	if (pr_imap_is_kind(dsp, PR_IMAP_VALUE_LIST))
		dsp = pr_imap_child(dsp, 0);
	return dsp != NULL && pr_imap_equal(dsp, kind);
}

static const PrImapValue *
pr_imap_body_leaf_disposition(const PrImapValue *part)
{
	const PrImapValue *type = pr_imap_child(part, 0);
	const PrImapValue *subtype = pr_imap_child(part, 1);
	guint idx = 7; /* type subtype params id description encoding size */

	if (type != NULL && pr_imap_equal(type, "TEXT"))
		idx += 1; /* lines */
	else if (type != NULL && pr_imap_equal(type, "MESSAGE") && subtype != NULL &&
		 (pr_imap_equal(subtype, "RFC822") || pr_imap_equal(subtype, "GLOBAL")))
		idx += 3;		     /* envelope body lines */
	return pr_imap_child(part, idx + 1); /* after md5 */
}

static gboolean
pr_imap_body_is_multipart(const PrImapValue *part)
{
	return pr_imap_is_kind(pr_imap_child(part, 0), PR_IMAP_VALUE_LIST);
}

/*
 * has_attachments, kept simple on purpose:
 *  1. any part (recursing through multiparts, not into attached messages) whose
 *     disposition is "attachment"; or
 *  2. a part of a multipart/mixed other than its first that is neither text nor
 *     multipart and is not marked "inline" (an attached PDF, image or message/rfc822
 *     sent without a disposition).
 * Inline images in multipart/related and alternatives never count.
 */
static gboolean
pr_imap_body_has_attachments(const PrImapValue *part, guint depth)
{
	guint n_parts = 0;
	gboolean mixed;

	if (!pr_imap_is_kind(part, PR_IMAP_VALUE_LIST) || depth > PR_IMAP_BODY_MAX_DEPTH)
		return FALSE;
	if (!pr_imap_body_is_multipart(part))
		return pr_imap_body_disposition_is(pr_imap_body_leaf_disposition(part),
						   "ATTACHMENT");
	while (pr_imap_body_is_multipart(part) &&
	       pr_imap_is_kind(pr_imap_child(part, n_parts), PR_IMAP_VALUE_LIST))
		n_parts++;
	mixed = pr_imap_child(part, n_parts) != NULL &&
		pr_imap_equal(pr_imap_child(part, n_parts), "MIXED");
	for (guint i = 0; i < n_parts; i++) {
		const PrImapValue *child = pr_imap_child(part, i);
		const PrImapValue *type = pr_imap_child(child, 0);
		if (pr_imap_body_has_attachments(child, depth + 1))
			return TRUE;
		if (mixed && i > 0 && !pr_imap_body_is_multipart(child) &&
		    !(type != NULL && pr_imap_equal(type, "TEXT")) &&
		    !pr_imap_body_disposition_is(pr_imap_body_leaf_disposition(child), "INLINE"))
			return TRUE;
	}
	/* multipart extension data: subtype params disposition */
	return pr_imap_body_disposition_is(pr_imap_child(part, n_parts + 2), "ATTACHMENT");
}

/* FETCH --------------------------------------------------------------------------------- */

static void
pr_imap_fetch_section_free(PrImapFetchSection *section)
{
	g_free(section->section);
	g_free(section);
}

void
pr_imap_fetch_free(PrImapFetch *fetch)
{
	if (fetch == NULL)
		return;
	g_strfreev(fetch->flags);
	pr_imap_envelope_free(fetch->envelope);
	g_clear_pointer(&fetch->sections, g_ptr_array_unref);
	g_clear_pointer(&fetch->response, pr_imap_response_unref);
	g_free(fetch);
}

static gboolean
pr_imap_is_section_item(const gchar *name)
{
	return g_str_has_prefix(name, "BODY[") || g_str_has_prefix(name, "BINARY[") ||
	       g_strcmp0(name, "RFC822") == 0 || g_strcmp0(name, "RFC822.HEADER") == 0 ||
	       g_strcmp0(name, "RFC822.TEXT") == 0;
}

/* "BODY[1]<0>": section "BODY[1]", origin 0. */
static PrImapFetchSection *
pr_imap_parse_section(const gchar *name, const PrImapValue *value, GError **error)
{
	g_autofree gchar *upper = g_ascii_strup(name, -1);
	const gchar *bracket = strrchr(upper, ']');
	gchar *lt = strchr(bracket != NULL ? bracket : upper, '<');
	PrImapFetchSection *section;
	gint64 origin = 0;

	if (lt != NULL) {
		const gchar *p = lt + 1;
		gsize digits = 0;
		for (; g_ascii_isdigit(*p); p++, digits++) {
			origin = origin * 10 + (*p - '0');
			if (origin > G_MAXUINT32)
				break;
		}
		if (digits == 0 || origin > G_MAXUINT32 || p[0] != '>' || p[1] != '\0') {
			pr_imap_malformed(error, "FETCH section origin");
			return NULL;
		}
		*lt = '\0';
	}
	if (!pr_imap_is_kind(value, PR_IMAP_VALUE_STRING) &&
	    !pr_imap_is_kind(value, PR_IMAP_VALUE_NIL) &&
	    !pr_imap_is_kind(value, PR_IMAP_VALUE_STREAMED)) {
		pr_imap_malformed(error, "FETCH section value");
		return NULL;
	}
	section = g_new0(PrImapFetchSection, 1);
	section->section = pr_rfc2047_dup_display(upper, strlen(upper));
	section->origin = (guint32)origin;
	section->value = value;
	return section;
}

static gboolean
pr_imap_fetch_item(PrImapFetch *fetch, const gchar *name, const PrImapValue *val, GError **error)
{
	if (g_ascii_strcasecmp(name, "UID") == 0) {
		if (!pr_imap_value_get_u32(val, &fetch->uid) || fetch->uid == 0)
			return pr_imap_malformed(error, "FETCH UID");
		fetch->fields |= PR_IMAP_FETCH_HAS_UID;
	} else if (g_ascii_strcasecmp(name, "FLAGS") == 0) {
		if (!pr_imap_is_kind(val, PR_IMAP_VALUE_LIST) &&
		    !pr_imap_is_kind(val, PR_IMAP_VALUE_NIL))
			return pr_imap_malformed(error, "FETCH FLAGS");
		g_strfreev(fetch->flags);
		fetch->flags = pr_imap_dup_atoms(val, FALSE);
		fetch->fields |= PR_IMAP_FETCH_HAS_FLAGS;
	} else if (g_ascii_strcasecmp(name, "MODSEQ") == 0) {
		if (pr_imap_n(val) != 1 ||
		    !pr_imap_value_get_u64(pr_imap_child(val, 0), &fetch->modseq))
			return pr_imap_malformed(error, "FETCH MODSEQ");
		fetch->fields |= PR_IMAP_FETCH_HAS_MODSEQ;
	} else if (g_ascii_strcasecmp(name, "RFC822.SIZE") == 0) {
		if (!pr_imap_value_get_u64(val, &fetch->size))
			return pr_imap_malformed(error, "FETCH RFC822.SIZE");
		fetch->fields |= PR_IMAP_FETCH_HAS_SIZE;
	} else if (g_ascii_strcasecmp(name, "INTERNALDATE") == 0) {
		gsize len = 0;
		const gchar *s = pr_imap_value_text(val, &len);
		if (!pr_imap_is_kind(val, PR_IMAP_VALUE_STRING) || s == NULL ||
		    !pr_date_parse_internaldate(s, len, &fetch->internal_date, NULL))
			return pr_imap_malformed(error, "FETCH INTERNALDATE");
		fetch->fields |= PR_IMAP_FETCH_HAS_INTERNALDATE;
	} else if (g_ascii_strcasecmp(name, "ENVELOPE") == 0) {
		PrImapEnvelope *env = pr_imap_parse_envelope(val, error);
		if (env == NULL)
			return FALSE;
		pr_imap_envelope_free(fetch->envelope);
		fetch->envelope = env;
		fetch->fields |= PR_IMAP_FETCH_HAS_ENVELOPE;
	} else if (g_ascii_strcasecmp(name, "BODYSTRUCTURE") == 0 ||
		   (g_ascii_strcasecmp(name, "BODY") == 0 &&
		    pr_imap_is_kind(val, PR_IMAP_VALUE_LIST))) {
		if (!pr_imap_is_kind(val, PR_IMAP_VALUE_LIST))
			return pr_imap_malformed(error, "FETCH BODYSTRUCTURE");
		fetch->bodystructure = val;
		fetch->has_attachments = pr_imap_body_has_attachments(val, 0);
		fetch->fields |= PR_IMAP_FETCH_HAS_BODYSTRUCTURE;
	} else {
		g_autofree gchar *upper = g_ascii_strup(name, -1);
		PrImapFetchSection *section;
		if (!pr_imap_is_section_item(upper))
			return TRUE; /* unknown items (X-GM-LABELS, BINARY.SIZE, ...) */
		section = pr_imap_parse_section(name, val, error);
		if (section == NULL)
			return FALSE;
		g_ptr_array_add(fetch->sections, section);
	}
	return TRUE;
}

PrImapFetch *
pr_imap_response_parse_fetch(const PrImapResponse *self, GError **error)
{
	const PrImapValue *items;
	g_autoptr(PrImapFetch) fetch = NULL;
	guint n;

	g_return_val_if_fail(self != NULL, NULL);
	items = pr_imap_child(pr_imap_response_get_data(self), 0);
	n = pr_imap_n(items);
	if (!pr_imap_response_is_data(self, "FETCH") ||
	    !pr_imap_is_kind(items, PR_IMAP_VALUE_LIST) || n % 2 != 0) {
		pr_imap_malformed(error, "FETCH response");
		return NULL;
	}
	fetch = g_new0(PrImapFetch, 1);
	pr_imap_response_get_number(self, &fetch->seq);
	fetch->response = pr_imap_response_ref((PrImapResponse *)self);
	fetch->sections =
		g_ptr_array_new_with_free_func((GDestroyNotify)pr_imap_fetch_section_free);
	for (guint i = 0; i < n; i += 2) {
		const gchar *name = pr_imap_value_text(pr_imap_value_get_child(items, i), NULL);
		if (name == NULL ||
		    !pr_imap_is_kind(pr_imap_value_get_child(items, i), PR_IMAP_VALUE_ATOM)) {
			pr_imap_malformed(error, "FETCH item name");
			return NULL;
		}
		if (!pr_imap_fetch_item(fetch, name, pr_imap_value_get_child(items, i + 1), error))
			return NULL;
	}
	if (fetch->flags == NULL)
		fetch->flags = g_new0(gchar *, 1);
	return g_steal_pointer(&fetch);
}
