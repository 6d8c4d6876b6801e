/*
 * Copyright 2026 The Postroom developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <glib-object.h>

G_BEGIN_DECLS

/*
 * One complete server response as the parser produced it.
 *
 * Generic shape: every response is kept as a tree of PrImapValue nodes so that the whole
 * RFC 9051 / RFC 3501 grammar (and extensions we do not interpret yet) survives parsing;
 * typed accessors below decode the parts the engine uses.
 */

typedef enum {
	PR_IMAP_RESPONSE_KIND_TAGGED,
	PR_IMAP_RESPONSE_KIND_UNTAGGED,
	PR_IMAP_RESPONSE_KIND_CONTINUATION,
} PrImapResponseKind;

typedef enum {
	PR_IMAP_STATUS_NONE, /* untagged data such as "* 3 EXISTS" or "* LIST ..." */
	PR_IMAP_STATUS_OK,
	PR_IMAP_STATUS_NO,
	PR_IMAP_STATUS_BAD,
	PR_IMAP_STATUS_PREAUTH,
	PR_IMAP_STATUS_BYE,
} PrImapStatus;

typedef enum {
	PR_IMAP_VALUE_NIL,
	PR_IMAP_VALUE_ATOM,	/* atoms, flags (\Seen), section specs (BODY[HEADER]<0>) */
	PR_IMAP_VALUE_NUMBER,	/* a token of digits only, up to 2^63-1 */
	PR_IMAP_VALUE_STRING,	/* quoted string or literal held in memory */
	PR_IMAP_VALUE_LIST,	/* ( ... ) */
	PR_IMAP_VALUE_STREAMED, /* literal handed to a PrImapLiteralSink, not kept */
} PrImapValueKind;

/* Owned by the response it belongs to; valid as long as the response lives. */
typedef struct _PrImapValue PrImapValue;

PrImapValueKind pr_imap_value_get_kind(const PrImapValue *value);
/* ATOM, NUMBER (its digits) and STRING: the bytes (NUL-terminated; STRING may hold NULs
 * when it came from a literal, *len says the real length). NIL and others: NULL. */
const gchar *pr_imap_value_get_string(const PrImapValue *value, gsize *len);
/* NUMBER: TRUE and the value. A STRING or ATOM made of digits also converts. */
gboolean pr_imap_value_get_number(const PrImapValue *value, guint64 *number);
/* LIST: the count of children; others 0. */
guint pr_imap_value_get_n_children(const PrImapValue *value);
const PrImapValue *pr_imap_value_get_child(const PrImapValue *value, guint idx);
/* STRING or STREAMED: TRUE when it came as a literal. */
gboolean pr_imap_value_is_literal(const PrImapValue *value);
/* STREAMED: the literal's length; STRING: its length. */
guint64 pr_imap_value_get_literal_size(const PrImapValue *value);
/* Case-insensitive compare of an ATOM (or STRING) with @str. */
gboolean pr_imap_value_equal_atom(const PrImapValue *value, const gchar *str);
/* A debug rendering in IMAP syntax (literals abbreviated). */
gchar *pr_imap_value_to_string(const PrImapValue *value);

#define PR_TYPE_IMAP_RESPONSE (pr_imap_response_get_type())
typedef struct _PrImapResponse PrImapResponse;

GType pr_imap_response_get_type(void);
PrImapResponse *pr_imap_response_ref(PrImapResponse *self);
void pr_imap_response_unref(PrImapResponse *self);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(PrImapResponse, pr_imap_response_unref)

PrImapResponseKind pr_imap_response_get_kind(const PrImapResponse *self);
/* TAGGED: the tag; others NULL. */
const gchar *pr_imap_response_get_tag(const PrImapResponse *self);
/* OK/NO/BAD/PREAUTH/BYE for tagged and untagged status responses, NONE for data. */
PrImapStatus pr_imap_response_get_status(const PrImapResponse *self);
/* The upper-cased response keyword: "OK", "BYE", "CAPABILITY", "LIST", "EXISTS", "FETCH",
 * "ESEARCH", "VANISHED", "ENABLED", "ID", "NAMESPACE", ...; NULL for continuations. */
const gchar *pr_imap_response_get_keyword(const PrImapResponse *self);
/* "* 12 EXISTS" / "* 12 FETCH ...": TRUE and 12. */
gboolean pr_imap_response_get_number(const PrImapResponse *self, guint32 *number);
/* Status responses: the response code name upper-cased ("APPENDUID", "ALERT"), or NULL. */
const gchar *pr_imap_response_get_code(const PrImapResponse *self);
/* The code's arguments as a LIST value (possibly empty); NULL without a code. */
const PrImapValue *pr_imap_response_get_code_args(const PrImapResponse *self);
/* Status responses and continuations: the human-readable text (may be ""). */
const gchar *pr_imap_response_get_text(const PrImapResponse *self);
/* Untagged data: the values after the keyword, as a LIST (for FETCH: the single
 * parenthesised list is child 0). Status responses: an empty LIST. */
const PrImapValue *pr_imap_response_get_data(const PrImapResponse *self);
/* The raw bytes of a continuation request's text (base64 for SASL), NUL-terminated. */
const gchar *pr_imap_response_get_continuation(const PrImapResponse *self);

/* Typed decoders ---------------------------------------------------------------------- */

/* "* CAPABILITY ..." or a [CAPABILITY ...] code: upper-cased atoms, NULL-terminated.
 * NULL when the response carries no capability list. */
gchar **pr_imap_response_dup_capabilities(const PrImapResponse *self);

typedef struct {
	gchar **attributes; /* as sent, e.g. "\\HasNoChildren", "\\Noselect", "\\Sent" */
	gchar delimiter;    /* 0 when NIL (a flat namespace) */
	gchar *name;	    /* UTF-8: modified UTF-7 decoded, or raw under UTF8=ACCEPT */
	gchar *raw_name;    /* exactly as the server sent it, for use in commands */
	gchar *special_use; /* the first RFC 6154 attribute, or NULL */
	gchar *child_info;  /* LIST-EXTENDED CHILDINFO ("SUBSCRIBED"), or NULL */
	gchar *old_name;    /* LIST-EXTENDED OLDNAME, or NULL */
} PrImapListEntry;

void pr_imap_list_entry_free(PrImapListEntry *entry);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(PrImapListEntry, pr_imap_list_entry_free)

/* "* LIST" / "* LSUB". @utf8: the session enabled UTF8=ACCEPT. */
/* A name that is not valid modified UTF-7 (or not UTF-8 under @utf8) is a ProtocolError,
 * never a raw fallback that could collide with another mailbox's decoded name. Names are
 * not sanitised for filesystem use ("../x" is a legal IMAP name). */
PrImapListEntry *
pr_imap_response_parse_list(const PrImapResponse *self, gboolean utf8, GError **error);

typedef struct {
	gchar *name; /* UTF-8 */
	gboolean has_messages, has_recent, has_uidnext, has_uidvalidity, has_unseen,
		has_highestmodseq, has_size;
	guint32 messages, recent, uidnext, uidvalidity, unseen;
	guint64 highestmodseq, size;
} PrImapStatusInfo;

void pr_imap_status_info_free(PrImapStatusInfo *info);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(PrImapStatusInfo, pr_imap_status_info_free)

/* "* STATUS mailbox (...)" (also what LIST-STATUS returns). */
PrImapStatusInfo *
pr_imap_response_parse_status(const PrImapResponse *self, gboolean utf8, GError **error);

typedef struct {
	gchar *name; /* the mailbox or group, decoded; NULL when NIL */
	gchar *mailbox;
	gchar *host;
} PrImapAddress;

typedef struct {
	gint64 date; /* Unix time parsed from the Date string, 0 when absent or unparseable */
	gchar *date_raw;
	gchar *subject;					     /* RFC 2047 decoded to UTF-8 */
	GPtrArray *from, *sender, *reply_to, *to, *cc, *bcc; /* of PrImapAddress */
	gchar *in_reply_to;
	gchar *message_id;
} PrImapEnvelope;

void pr_imap_envelope_free(PrImapEnvelope *envelope);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(PrImapEnvelope, pr_imap_envelope_free)
/* "Name <mailbox@host>" or "mailbox@host". */
gchar *pr_imap_address_to_string(const PrImapAddress *address);

typedef enum {
	PR_IMAP_FETCH_HAS_UID = 1 << 0,
	PR_IMAP_FETCH_HAS_FLAGS = 1 << 1,
	PR_IMAP_FETCH_HAS_MODSEQ = 1 << 2,
	PR_IMAP_FETCH_HAS_SIZE = 1 << 3,
	PR_IMAP_FETCH_HAS_INTERNALDATE = 1 << 4,
	PR_IMAP_FETCH_HAS_ENVELOPE = 1 << 5,
	PR_IMAP_FETCH_HAS_BODYSTRUCTURE = 1 << 6,
} PrImapFetchFields;

typedef struct {
	gchar *section;		  /* upper-cased, e.g. "BODY[]", "BODY[HEADER]", "BINARY[1]" */
	guint32 origin;		  /* the <origin> of a partial fetch, 0 otherwise */
	const PrImapValue *value; /* STRING, NIL or STREAMED; owned by the response */
} PrImapFetchSection;

typedef struct {
	guint32 seq;
	PrImapFetchFields fields;
	guint32 uid;
	gchar **flags; /* NULL-terminated; may be empty */
	guint64 modseq;
	guint64 size;
	gint64 internal_date; /* Unix time */
	PrImapEnvelope *envelope;
	const PrImapValue *bodystructure; /* owned by the response */
	gboolean has_attachments;	  /* derived from BODYSTRUCTURE */
	GPtrArray *sections;		  /* of PrImapFetchSection */
	PrImapResponse *response;	  /* keeps the values above alive */
} PrImapFetch;

void pr_imap_fetch_free(PrImapFetch *fetch);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(PrImapFetch, pr_imap_fetch_free)

/* "* N FETCH (...)". Unknown items are ignored; malformed known ones are a ProtocolError. */
PrImapFetch *pr_imap_response_parse_fetch(const PrImapResponse *self, GError **error);

/* "* SEARCH 1 2 3 (MODSEQ n)": the numbers (guint32) and, when present, the MODSEQ. */
GArray *pr_imap_response_parse_search(const PrImapResponse *self, guint64 *modseq, GError **error);

typedef struct {
	gchar *tag; /* the (TAG "x") correlator, or NULL */
	gboolean uid;
	gboolean has_min, has_max, has_count, has_modseq;
	guint32 min, max, count;
	guint64 modseq;
	gchar *all; /* the ALL sequence set as sent, or NULL */
} PrImapEsearch;

void pr_imap_esearch_free(PrImapEsearch *esearch);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(PrImapEsearch, pr_imap_esearch_free)
PrImapEsearch *pr_imap_response_parse_esearch(const PrImapResponse *self, GError **error);

/* "* VANISHED [(EARLIER)] uid-set": the set as sent (validate with PrImapSeqset). */
gchar *
pr_imap_response_parse_vanished(const PrImapResponse *self, gboolean *earlier, GError **error);

/* Response codes with numeric payloads: UIDVALIDITY, UIDNEXT, UNSEEN, HIGHESTMODSEQ. */
gboolean
pr_imap_response_get_code_number(const PrImapResponse *self, const gchar *code, guint64 *value);
/* [APPENDUID uidvalidity uid-set] */
gboolean pr_imap_response_parse_appenduid(const PrImapResponse *self,
					  guint32 *uidvalidity,
					  gchar **uids,
					  GError **error);
/* [COPYUID uidvalidity source-set dest-set] */
gboolean pr_imap_response_parse_copyuid(const PrImapResponse *self,
					guint32 *uidvalidity,
					gchar **source,
					gchar **dest,
					GError **error);
/* "* FLAGS (...)" and [PERMANENTFLAGS (...)]. */
gchar **pr_imap_response_dup_flags(const PrImapResponse *self);
/* "* ENABLED X Y": the upper-cased names. */
gchar **pr_imap_response_dup_enabled(const PrImapResponse *self);

/* "* ID (...)" (RFC 2971): field name (lower-cased) -> value (NULL for NIL), both UTF-8.
 * "* ID NIL" gives an empty table. */
GHashTable *pr_imap_response_parse_id(const PrImapResponse *self, GError **error);

typedef struct {
	gchar *prefix;	   /* UTF-8: modified UTF-7 decoded, or raw under UTF8=ACCEPT */
	gchar *raw_prefix; /* exactly as the server sent it */
	gchar delimiter;   /* 0 when NIL */
} PrImapNamespace;

typedef struct {
	GPtrArray *personal, *other, *shared; /* of PrImapNamespace; empty when NIL */
} PrImapNamespaces;

void pr_imap_namespaces_free(PrImapNamespaces *namespaces);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(PrImapNamespaces, pr_imap_namespaces_free)
/* "* NAMESPACE personal other shared" (RFC 2342). */
PrImapNamespaces *
pr_imap_response_parse_namespace(const PrImapResponse *self, gboolean utf8, GError **error);

/* A one-line debug rendering (literal contents abbreviated). */
gchar *pr_imap_response_to_string(const PrImapResponse *self);

G_END_DECLS
