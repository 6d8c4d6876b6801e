/*
 * Copyright 2026 The Postroom developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <gio/gio.h>
#include <string.h>

#include "pr-error.h"
#include "pr-imap-parser.h"

/* Helpers ------------------------------------------------------------------------------- */

static GPtrArray *
parse_ok_len(const gchar *text, gsize len)
{
	g_autoptr(GError) error = NULL;
	GPtrArray *responses = pr_imap_parser_parse_all((const guint8 *)text, len, &error);
	g_assert_no_error(error);
	g_assert_nonnull(responses);
	return responses;
}

static GPtrArray *
parse_ok(const gchar *text)
{
	return parse_ok_len(text, strlen(text));
}

static PrImapResponse *
parse_one_len(const gchar *text, gsize len)
{
	g_autoptr(GPtrArray) responses = parse_ok_len(text, len);
	g_assert_cmpuint(responses->len, ==, 1);
	return pr_imap_response_ref(g_ptr_array_index(responses, 0));
}

static PrImapResponse *
parse_one(const gchar *text)
{
	return parse_one_len(text, strlen(text));
}

static void
assert_protocol_error_len(const gchar *text, gsize len)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GPtrArray) responses =
		pr_imap_parser_parse_all((const guint8 *)text, len, &error);
	g_assert_error(error, PR_ERROR, PR_ERROR_PROTOCOL_ERROR);
	g_assert_null(responses);
	/* the message is short and never carries raw control bytes */
	g_assert_cmpuint(strlen(error->message), <, 160);
	for (const gchar *p = error->message; *p != '\0'; p++)
		g_assert_true((guchar)*p >= 0x20 && (guchar)*p < 0x7f);
}

static void
assert_protocol_error(const gchar *text)
{
	assert_protocol_error_len(text, strlen(text));
}

static gchar *
response_string(PrImapResponse *response)
{
	return pr_imap_response_to_string(response);
}

static void
assert_strv(gchar **got, const gchar *const *want)
{
	g_assert_nonnull(got);
	g_assert_cmpuint(g_strv_length(got), ==, g_strv_length((gchar **)want));
	for (guint i = 0; want[i] != NULL; i++)
		g_assert_cmpstr(got[i], ==, want[i]);
}

static const gchar *
value_str(const PrImapValue *value)
{
	g_assert_nonnull(value);
	return pr_imap_value_get_string(value, NULL);
}

/* Real transcripts ---------------------------------------------------------------------- */

static void
test_parser_dovecot_greeting(void)
{
	g_autoptr(PrImapResponse) r = parse_one(
		"* OK [CAPABILITY IMAP4rev1 SASL-IR LOGIN-REFERRALS ID ENABLE IDLE LITERAL+ "
		"STARTTLS AUTH=PLAIN] Dovecot (Debian) ready.\r\n");
	g_auto(GStrv) caps = pr_imap_response_dup_capabilities(r);
	const gchar *want[] = { "IMAP4REV1", "SASL-IR",	 "LOGIN-REFERRALS", "ID",	  "ENABLE",
				"IDLE",	     "LITERAL+", "STARTTLS",	    "AUTH=PLAIN", NULL };

	g_assert_cmpint(pr_imap_response_get_kind(r), ==, PR_IMAP_RESPONSE_KIND_UNTAGGED);
	g_assert_cmpint(pr_imap_response_get_status(r), ==, PR_IMAP_STATUS_OK);
	g_assert_cmpstr(pr_imap_response_get_keyword(r), ==, "OK");
	g_assert_null(pr_imap_response_get_tag(r));
	g_assert_cmpstr(pr_imap_response_get_code(r), ==, "CAPABILITY");
	g_assert_cmpstr(pr_imap_response_get_text(r), ==, "Dovecot (Debian) ready.");
	g_assert_cmpuint(pr_imap_value_get_n_children(pr_imap_response_get_data(r)), ==, 0);
	assert_strv(caps, want);
}

static void
test_parser_login_capability(void)
{
	g_autoptr(PrImapResponse) r = parse_one(
		"a1 OK [CAPABILITY IMAP4rev1 SASL-IR LOGIN-REFERRALS ID ENABLE IDLE SORT "
		"SORT=DISPLAY THREAD=REFERENCES MULTIAPPEND URL-PARTIAL CATENATE UNSELECT CHILDREN "
		"NAMESPACE UIDPLUS LIST-EXTENDED I18NLEVEL=1 CONDSTORE QRESYNC ESEARCH ESORT "
		"SEARCHRES WITHIN CONTEXT=SEARCH LIST-STATUS BINARY MOVE SNIPPET=FUZZY "
		"PREVIEW=FUZZY "
		"PREVIEW STATUS=SIZE SAVEDATE LITERAL+ NOTIFY SPECIAL-USE] Logged in\r\n");
	g_auto(GStrv) caps = pr_imap_response_dup_capabilities(r);
	g_autofree gchar *str = response_string(r);

	g_assert_cmpint(pr_imap_response_get_kind(r), ==, PR_IMAP_RESPONSE_KIND_TAGGED);
	g_assert_cmpstr(pr_imap_response_get_tag(r), ==, "a1");
	g_assert_cmpint(pr_imap_response_get_status(r), ==, PR_IMAP_STATUS_OK);
	g_assert_cmpstr(pr_imap_response_get_text(r), ==, "Logged in");
	g_assert_nonnull(caps);
	g_assert_cmpuint(g_strv_length(caps), ==, 36);
	g_assert_true(g_strv_contains((const gchar *const *)caps, "QRESYNC"));
	g_assert_true(g_strv_contains((const gchar *const *)caps, "STATUS=SIZE"));
	g_assert_true(g_strv_contains((const gchar *const *)caps, "SPECIAL-USE"));
	g_assert_true(g_str_has_prefix(str, "a1 OK [CAPABILITY IMAP4rev1 SASL-IR"));
	g_assert_true(g_str_has_suffix(str, "SPECIAL-USE] Logged in"));

	/* no capability list at all */
	{
		g_autoptr(PrImapResponse) r2 = parse_one("a2 OK done\r\n");
		g_assert_null(pr_imap_response_dup_capabilities(r2));
	}
	/* untagged CAPABILITY data */
	{
		g_autoptr(PrImapResponse) r3 =
			parse_one("* CAPABILITY IMAP4rev1 IDLE imap4rev2\r\n");
		g_auto(GStrv) c3 = pr_imap_response_dup_capabilities(r3);
		const gchar *want[] = { "IMAP4REV1", "IDLE", "IMAP4REV2", NULL };
		assert_strv(c3, want);
	}
}

static void
test_parser_list_dovecot(void)
{
	g_autoptr(GPtrArray) rs = parse_ok(
		"* LIST (\\HasNoChildren) \".\" INBOX\r\n"
		"* LIST (\\HasNoChildren \\Sent) \".\" Sent\r\n"
		"* LIST (\\HasChildren \\Noselect) \"/\" \"Archive\"\r\n"
		"* LIST (\\HasNoChildren \\Trash) \".\" \"&AMQ-rger\"\r\n"
		"* LIST (\\HasNoChildren \\Junk \\Marked) \"\\\\\" {4}\r\nJunk\r\n"
		"* LSUB () \"/\" inbox\r\n"
		"* LIST (\\NonExistent) \"/\" \"Fruit\" (\"CHILDINFO\" (\"SUBSCRIBED\"))\r\n"
		"* LIST (\\Subscribed) \"/\" \"New\" (\"OLDNAME\" (\"Old&AOQ-\"))\r\n"
		"B3 OK List completed (0.001 + 0.000 secs).\r\n");
	g_autoptr(GError) error = NULL;
	g_autoptr(PrImapListEntry) e0 = NULL;
	g_autoptr(PrImapListEntry) e1 = NULL;
	g_autoptr(PrImapListEntry) e2 = NULL;
	g_autoptr(PrImapListEntry) e3 = NULL;
	g_autoptr(PrImapListEntry) e4 = NULL;
	g_autoptr(PrImapListEntry) e5 = NULL;
	g_autoptr(PrImapListEntry) e6 = NULL;
	g_autoptr(PrImapListEntry) e7 = NULL;
	g_autoptr(PrImapListEntry) bad = NULL;
	const gchar *attrs1[] = { "\\HasNoChildren", "\\Sent", NULL };

	g_assert_cmpuint(rs->len, ==, 9);
	e0 = pr_imap_response_parse_list(g_ptr_array_index(rs, 0), FALSE, &error);
	g_assert_no_error(error);
	g_assert_cmpstr(e0->name, ==, "INBOX");
	g_assert_cmpint(e0->delimiter, ==, '.');
	g_assert_null(e0->special_use);

	e1 = pr_imap_response_parse_list(g_ptr_array_index(rs, 1), FALSE, &error);
	g_assert_no_error(error);
	assert_strv(e1->attributes, attrs1);
	g_assert_cmpstr(e1->special_use, ==, "\\Sent");
	g_assert_cmpstr(e1->name, ==, "Sent");

	e2 = pr_imap_response_parse_list(g_ptr_array_index(rs, 2), FALSE, &error);
	g_assert_no_error(error);
	g_assert_cmpstr(e2->name, ==, "Archive");
	g_assert_cmpint(e2->delimiter, ==, '/');

	e3 = pr_imap_response_parse_list(g_ptr_array_index(rs, 3), FALSE, &error);
	g_assert_no_error(error);
	g_assert_cmpstr(e3->name, ==, "\xc3\x84rger");
	g_assert_cmpstr(e3->raw_name, ==, "&AMQ-rger");
	g_assert_cmpstr(e3->special_use, ==, "\\Trash");

	e4 = pr_imap_response_parse_list(g_ptr_array_index(rs, 4), FALSE, &error);
	g_assert_no_error(error);
	g_assert_cmpint(e4->delimiter, ==, '\\');
	g_assert_cmpstr(e4->name, ==, "Junk");
	g_assert_cmpstr(e4->special_use, ==, "\\Junk");

	/* INBOX in any case is INBOX; the raw form is kept for commands */
	e5 = pr_imap_response_parse_list(g_ptr_array_index(rs, 5), FALSE, &error);
	g_assert_no_error(error);
	g_assert_cmpstr(e5->name, ==, "INBOX");
	g_assert_cmpstr(e5->raw_name, ==, "inbox");

	e6 = pr_imap_response_parse_list(g_ptr_array_index(rs, 6), FALSE, &error);
	g_assert_no_error(error);
	g_assert_cmpstr(e6->child_info, ==, "SUBSCRIBED");
	g_assert_null(e6->old_name);

	e7 = pr_imap_response_parse_list(g_ptr_array_index(rs, 7), FALSE, &error);
	g_assert_no_error(error);
	g_assert_cmpstr(e7->old_name, ==, "Old\xc3\xa4");
	g_assert_null(e7->child_info);

	/* a tagged OK is not a LIST */
	bad = pr_imap_response_parse_list(g_ptr_array_index(rs, 8), FALSE, &error);
	g_assert_error(error, PR_ERROR, PR_ERROR_PROTOCOL_ERROR);
	g_assert_null(bad);
}

static void
test_parser_select_qresync(void)
{
	g_autoptr(GPtrArray) rs = parse_ok(
		"* FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft $Forwarded)\r\n"
		"* OK [PERMANENTFLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft $Forwarded "
		"\\*)] "
		"Flags permitted.\r\n"
		"* 172 EXISTS\r\n"
		"* 1 RECENT\r\n"
		"* OK [UNSEEN 12] First unseen.\r\n"
		"* OK [UIDVALIDITY 3857529045] UIDs valid\r\n"
		"* OK [UIDNEXT 4392] Predicted next UID\r\n"
		"* OK [HIGHESTMODSEQ 715194045007] Highest\r\n"
		"* VANISHED (EARLIER) 41,43:116,118,120:211,214:540\r\n"
		"* 49 FETCH (UID 117 FLAGS (\\Seen \\Answered) MODSEQ (90060115194045001))\r\n"
		"* 50 FETCH (UID 119 FLAGS (\\Draft $MDNSent) MODSEQ (90060115194045308))\r\n"
		"A02 OK [READ-WRITE] Select completed (0.001 + 0.000 secs).\r\n");
	const gchar *flags[] = { "\\Answered", "\\Flagged",  "\\Deleted", "\\Seen",
				 "\\Draft",    "$Forwarded", NULL };
	const gchar *pflags[] = { "\\Answered", "\\Flagged",  "\\Deleted", "\\Seen",
				  "\\Draft",	"$Forwarded", "\\*",	   NULL };
	const gchar *f49[] = { "\\Seen", "\\Answered", NULL };
	g_auto(GStrv) got_flags = NULL;
	g_auto(GStrv) got_pflags = NULL;
	g_autofree gchar *vanished = NULL;
	g_autoptr(PrImapFetch) fetch = NULL;
	g_autoptr(PrImapFetch) fetch2 = NULL;
	g_autoptr(GError) error = NULL;
	guint32 number = 0;
	guint64 value = 0;
	gboolean earlier = FALSE;
	PrImapResponse *r;

	g_assert_cmpuint(rs->len, ==, 12);
	r = g_ptr_array_index(rs, 0);
	g_assert_cmpstr(pr_imap_response_get_keyword(r), ==, "FLAGS");
	g_assert_cmpint(pr_imap_response_get_status(r), ==, PR_IMAP_STATUS_NONE);
	got_flags = pr_imap_response_dup_flags(r);
	assert_strv(got_flags, flags);

	got_pflags = pr_imap_response_dup_flags(g_ptr_array_index(rs, 1));
	assert_strv(got_pflags, pflags);
	g_assert_cmpstr(
		pr_imap_response_get_text(g_ptr_array_index(rs, 1)), ==, "Flags permitted.");

	r = g_ptr_array_index(rs, 2);
	g_assert_cmpstr(pr_imap_response_get_keyword(r), ==, "EXISTS");
	g_assert_true(pr_imap_response_get_number(r, &number));
	g_assert_cmpuint(number, ==, 172);
	r = g_ptr_array_index(rs, 3);
	g_assert_cmpstr(pr_imap_response_get_keyword(r), ==, "RECENT");
	g_assert_true(pr_imap_response_get_number(r, &number));
	g_assert_cmpuint(number, ==, 1);

	g_assert_true(pr_imap_response_get_code_number(g_ptr_array_index(rs, 4), "UNSEEN", &value));
	g_assert_cmpuint(value, ==, 12);
	g_assert_false(
		pr_imap_response_get_code_number(g_ptr_array_index(rs, 4), "UIDNEXT", &value));
	g_assert_true(
		pr_imap_response_get_code_number(g_ptr_array_index(rs, 5), "UIDVALIDITY", &value));
	g_assert_cmpuint(value, ==, 3857529045u);
	g_assert_true(
		pr_imap_response_get_code_number(g_ptr_array_index(rs, 6), "uidnext", &value));
	g_assert_cmpuint(value, ==, 4392);
	g_assert_true(pr_imap_response_get_code_number(
		g_ptr_array_index(rs, 7), "HIGHESTMODSEQ", &value));
	g_assert_cmpuint(value, ==, G_GUINT64_CONSTANT(715194045007));

	vanished = pr_imap_response_parse_vanished(g_ptr_array_index(rs, 8), &earlier, &error);
	g_assert_no_error(error);
	g_assert_cmpstr(vanished, ==, "41,43:116,118,120:211,214:540");
	g_assert_true(earlier);

	fetch = pr_imap_response_parse_fetch(g_ptr_array_index(rs, 9), &error);
	g_assert_no_error(error);
	g_assert_cmpuint(fetch->seq, ==, 49);
	g_assert_cmpuint(fetch->uid, ==, 117);
	g_assert_cmpuint(fetch->modseq, ==, G_GUINT64_CONSTANT(90060115194045001));
	g_assert_cmpint(fetch->fields,
			==,
			PR_IMAP_FETCH_HAS_UID | PR_IMAP_FETCH_HAS_FLAGS | PR_IMAP_FETCH_HAS_MODSEQ);
	assert_strv(fetch->flags, f49);
	g_assert_cmpuint(fetch->sections->len, ==, 0);
	fetch2 = pr_imap_response_parse_fetch(g_ptr_array_index(rs, 10), &error);
	g_assert_no_error(error);
	g_assert_cmpuint(fetch2->uid, ==, 119);

	r = g_ptr_array_index(rs, 11);
	g_assert_cmpint(pr_imap_response_get_kind(r), ==, PR_IMAP_RESPONSE_KIND_TAGGED);
	g_assert_cmpstr(pr_imap_response_get_tag(r), ==, "A02");
	g_assert_cmpstr(pr_imap_response_get_code(r), ==, "READ-WRITE");
	g_assert_cmpuint(pr_imap_value_get_n_children(pr_imap_response_get_code_args(r)), ==, 0);
	g_assert_cmpstr(pr_imap_response_get_text(r), ==, "Select completed (0.001 + 0.000 secs).");

	/* VANISHED without EARLIER */
	{
		g_autoptr(PrImapResponse) v = parse_one("* VANISHED 405,407,410:425\r\n");
		g_autofree gchar *set = pr_imap_response_parse_vanished(v, &earlier, &error);
		g_assert_no_error(error);
		g_assert_cmpstr(set, ==, "405,407,410:425");
		g_assert_false(earlier);
	}
	/* and a set with "*" is refused */
	{
		g_autoptr(PrImapResponse) v = parse_one("* VANISHED 405:*\r\n");
		g_autofree gchar *set = pr_imap_response_parse_vanished(v, &earlier, &error);
		g_assert_error(error, PR_ERROR, PR_ERROR_PROTOCOL_ERROR);
		g_assert_null(set);
	}
}

#define FETCH_ENVELOPE                                                                             \
	"* 12 FETCH (UID 4827 RFC822.SIZE 48213 INTERNALDATE \"17-Jul-1996 02:44:25 -0700\" "      \
	"FLAGS (\\Seen) ENVELOPE (\"Wed, 17 Jul 1996 02:23:25 -0700 (PDT)\" "                      \
	"\"=?UTF-8?Q?Quarterly_report_=E2=80=93_draft?=\" "                                        \
	"((\"=?ISO-8859-1?Q?Andr=E9?= Pirard\" NIL \"pirard\" \"vm1.ulg.ac.be\")) "                \
	"((\"Terry Gray\" NIL \"gray\" \"cac.washington.edu\")) "                                  \
	"((\"Terry Gray\" NIL \"gray\" \"cac.washington.edu\")) "                                  \
	"((NIL NIL \"imap\" \"cac.washington.edu\")) "                                             \
	"((NIL NIL \"minutes\" \"CNRI.Reston.VA.US\")(\"John Klensin\" NIL \"KLENSIN\" "           \
	"\"MIT.EDU\")) NIL \"<1234@local.machine.example>\" "                                      \
	"\"<B27397-0100000@cac.washington.edu>\") "                                                \
	"BODYSTRUCTURE ((\"TEXT\" \"PLAIN\" (\"CHARSET\" \"utf-8\") NIL NIL \"QUOTED-PRINTABLE\" " \
	"1152 23 NIL NIL NIL NIL)(\"APPLICATION\" \"PDF\" (\"NAME\" \"report.pdf\") NIL NIL "      \
	"\"BASE64\" 44802 NIL (\"ATTACHMENT\" (\"FILENAME\" \"report.pdf\")) NIL NIL) \"MIXED\" "  \
	"(\"BOUNDARY\" \"----=_Part_0\") NIL NIL NIL))\r\n"

static void
test_parser_fetch_envelope(void)
{
	g_autoptr(PrImapResponse) r = parse_one(FETCH_ENVELOPE);
	g_autoptr(GError) error = NULL;
	g_autoptr(PrImapFetch) f = pr_imap_response_parse_fetch(r, &error);
	PrImapEnvelope *env;
	PrImapAddress *a;
	g_autofree gchar *from = NULL;
	g_autofree gchar *cc1 = NULL;
	const PrImapValue *bs;
	const PrImapValue *att;

	g_assert_no_error(error);
	g_assert_nonnull(f);
	g_assert_cmpuint(f->seq, ==, 12);
	g_assert_cmpuint(f->uid, ==, 4827);
	g_assert_cmpuint(f->size, ==, 48213);
	g_assert_cmpint(f->internal_date, ==, 837596665);
	g_assert_true(f->fields & PR_IMAP_FETCH_HAS_ENVELOPE);
	g_assert_true(f->fields & PR_IMAP_FETCH_HAS_BODYSTRUCTURE);
	g_assert_true(f->fields & PR_IMAP_FETCH_HAS_INTERNALDATE);
	g_assert_true(f->fields & PR_IMAP_FETCH_HAS_SIZE);
	g_assert_false(f->fields & PR_IMAP_FETCH_HAS_MODSEQ);
	g_assert_true(f->response == r);

	env = f->envelope;
	g_assert_nonnull(env);
	g_assert_cmpstr(env->date_raw, ==, "Wed, 17 Jul 1996 02:23:25 -0700 (PDT)");
	g_assert_cmpint(env->date, ==, 837595405);
	g_assert_cmpstr(env->subject, ==, "Quarterly report \xe2\x80\x93 draft");
	g_assert_cmpuint(env->from->len, ==, 1);
	a = g_ptr_array_index(env->from, 0);
	g_assert_cmpstr(a->name, ==, "Andr\xc3\xa9 Pirard");
	g_assert_cmpstr(a->mailbox, ==, "pirard");
	g_assert_cmpstr(a->host, ==, "vm1.ulg.ac.be");
	from = pr_imap_address_to_string(a);
	g_assert_cmpstr(from, ==, "Andr\xc3\xa9 Pirard <pirard@vm1.ulg.ac.be>");
	g_assert_cmpuint(env->sender->len, ==, 1);
	g_assert_cmpuint(env->reply_to->len, ==, 1);
	g_assert_cmpuint(env->to->len, ==, 1);
	a = g_ptr_array_index(env->to, 0);
	g_assert_null(a->name);
	g_assert_cmpstr(a->mailbox, ==, "imap");
	g_assert_cmpuint(env->cc->len, ==, 2);
	cc1 = pr_imap_address_to_string(g_ptr_array_index(env->cc, 1));
	g_assert_cmpstr(cc1, ==, "John Klensin <KLENSIN@MIT.EDU>");
	g_assert_cmpuint(env->bcc->len, ==, 0);
	g_assert_cmpstr(env->in_reply_to, ==, "<1234@local.machine.example>");
	g_assert_cmpstr(env->message_id, ==, "<B27397-0100000@cac.washington.edu>");

	bs = f->bodystructure;
	g_assert_nonnull(bs);
	g_assert_true(f->has_attachments);
	g_assert_cmpuint(pr_imap_value_get_n_children(bs), ==, 7);
	g_assert_true(pr_imap_value_equal_atom(pr_imap_value_get_child(bs, 2), "mixed"));
	att = pr_imap_value_get_child(bs, 1);
	g_assert_cmpstr(value_str(pr_imap_value_get_child(att, 5)), ==, "BASE64");
	{
		guint64 size = 0;
		g_assert_true(pr_imap_value_get_number(pr_imap_value_get_child(att, 6), &size));
		g_assert_cmpuint(size, ==, 44802);
	}
}

static gboolean
bodystructure_has_attachments(const gchar *bs)
{
	g_autofree gchar *text = g_strdup_printf("* 1 FETCH (BODYSTRUCTURE %s)\r\n", bs);
	g_autoptr(PrImapResponse) r = parse_one(text);
	g_autoptr(GError) error = NULL;
	g_autoptr(PrImapFetch) f = pr_imap_response_parse_fetch(r, &error);
	g_assert_no_error(error);
	g_assert_true(f->fields & PR_IMAP_FETCH_HAS_BODYSTRUCTURE);
	return f->has_attachments;
}

static void
test_parser_bodystructure_attachments(void)
{
	/* single text part */
	g_assert_false(bodystructure_has_attachments(
		"(\"TEXT\" \"PLAIN\" (\"CHARSET\" \"us-ascii\") NIL NIL \"7BIT\" 3028 92)"));
	/* alternative: never an attachment */
	g_assert_false(bodystructure_has_attachments(
		"((\"TEXT\" \"PLAIN\" (\"CHARSET\" \"utf-8\") NIL NIL \"7BIT\" 10 1 NIL NIL NIL "
		"NIL)"
		"(\"TEXT\" \"HTML\" (\"CHARSET\" \"utf-8\") NIL NIL \"7BIT\" 20 1 NIL NIL NIL NIL) "
		"\"ALTERNATIVE\" (\"BOUNDARY\" \"b\") NIL NIL NIL)"));
	/* related with an inline image: not an attachment */
	g_assert_false(bodystructure_has_attachments(
		"((\"TEXT\" \"HTML\" (\"CHARSET\" \"utf-8\") NIL NIL \"7BIT\" 20 1 NIL NIL NIL NIL)"
		"(\"IMAGE\" \"PNG\" NIL \"<img1>\" NIL \"BASE64\" 2000 NIL (\"INLINE\" NIL) NIL "
		"NIL) "
		"\"RELATED\" NIL NIL NIL NIL)"));
	/* mixed, second part an image without a disposition: attachment (rule 2) */
	g_assert_true(bodystructure_has_attachments("((\"TEXT\" \"PLAIN\" NIL NIL NIL \"7BIT\" 10 "
						    "1)(\"IMAGE\" \"JPEG\" (\"NAME\" \"a.jpg\") "
						    "NIL NIL \"BASE64\" 5000) \"MIXED\")"));
	/* mixed, second part marked inline: not an attachment */
	g_assert_false(bodystructure_has_attachments("((\"TEXT\" \"PLAIN\" NIL NIL NIL \"7BIT\" 10 "
						     "1 NIL NIL NIL NIL)(\"IMAGE\" \"JPEG\" NIL "
						     "NIL NIL \"BASE64\" 5000 NIL (\"INLINE\" NIL) "
						     "NIL NIL) \"MIXED\" NIL NIL NIL NIL)"));
	/* attached message/rfc822 inside mixed */
	g_assert_true(bodystructure_has_attachments("((\"TEXT\" \"PLAIN\" NIL NIL NIL \"7BIT\" 10 "
						    "1)(\"MESSAGE\" \"RFC822\" NIL NIL NIL "
						    "\"7BIT\" 300 (NIL \"s\" NIL NIL NIL NIL NIL "
						    "NIL NIL NIL) (\"TEXT\" \"PLAIN\" NIL NIL NIL "
						    "\"7BIT\" 10 1) 12) \"MIXED\")"));
	/* Exchange: lower case, odd NILs, a nested attachment disposition */
	g_assert_true(bodystructure_has_attachments(
		"(((\"text\" \"plain\" (\"charset\" \"utf-8\") NIL NIL \"quoted-printable\" 123 4 "
		"NIL "
		"NIL NIL NIL)(\"text\" \"html\" NIL NIL NIL NIL 456 7 NIL NIL NIL NIL) "
		"\"alternative\" "
		"NIL NIL NIL NIL)(\"application\" \"octet-stream\" (\"name\" \"x.bin\") NIL NIL "
		"\"base64\" 100 NIL (\"attachment\" (\"filename\" \"x.bin\" \"size\" \"100\")) NIL "
		"NIL) "
		"\"mixed\" (\"boundary\" \"_000_\") NIL \"en-US\" NIL)"));
	/* a text attachment counts through its disposition */
	g_assert_true(bodystructure_has_attachments(
		"(\"TEXT\" \"PLAIN\" NIL NIL NIL \"7BIT\" 10 1 NIL (\"ATTACHMENT\" NIL) NIL NIL)"));
}

static PrImapEnvelope *
envelope_with_subject(const gchar *subject, const gchar *name, PrImapFetch **keep)
{
	g_autofree gchar *text = g_strdup_printf(
		"* 1 FETCH (ENVELOPE (\"Fri, 1 Mar 2024 13:00:00 +0100\" \"%s\" ((\"%s\" NIL \"a\" "
		"\"b.example\")) NIL NIL NIL NIL NIL NIL NIL))\r\n",
		subject,
		name);
	g_autoptr(PrImapResponse) r = parse_one(text);
	g_autoptr(GError) error = NULL;
	PrImapFetch *f = pr_imap_response_parse_fetch(r, &error);
	g_assert_no_error(error);
	g_assert_nonnull(f->envelope);
	g_assert_cmpint(f->envelope->date, ==, 1709294400);
	*keep = f;
	return f->envelope;
}

static void
test_parser_rfc2047(void)
{
	struct {
		const gchar *in;
		const gchar *out;
	} cases[] = {
		{ "=?UTF-8?B?w6lsw6h2ZQ==?=", "\xc3\xa9l\xc3\xa8ve" },
		{ "=?utf-8?q?caf=C3=A9_cr=C3=A8me?=", "caf\xc3\xa9 cr\xc3\xa8me" },
		{ "=?ISO-8859-1?Q?Gr=FC=DFe?= aus Bonn",
		  "Gr\xc3\xbc\xc3\x9f"
		  "e aus Bonn" },
		{ "Re: =?UTF-8?Q?h=C3=A9llo?= world", "Re: h\xc3\xa9llo world" },
		/* whitespace between encoded words disappears */
		{ "=?UTF-8?B?4oKs?= =?UTF-8?B?MTA=?=",
		  "\xe2\x82\xac"
		  "10" },
		/* a character split across two words */
		{ "=?UTF-8?Q?=C3?=  =?UTF-8?Q?=A9?=", "\xc3\xa9" },
		/* RFC 2231 language suffix */
		{ "=?UTF-8*en?Q?hi?=", "hi" },
		/* unknown charset: kept as sent */
		{ "=?x-unknown-cs?Q?abc?=", "=?x-unknown-cs?Q?abc?=" },
		/* broken Q escape: kept as sent */
		{ "=?UTF-8?Q?a=ZZ?=", "=?UTF-8?Q?a=ZZ?=" },
		/* not encoded words at all */
		{ "1 + 1 = 2 ?= yes", "1 + 1 = 2 ?= yes" },
		{ "=?", "=?" },
		/* a broken word does not swallow the next one */
		{ "=?a?Q?x=?UTF-8?Q?caf=C3=A9?=", "=?a?Q?xcaf\xc3\xa9" },
		/* an empty encoded word (a fuzzer finding) */
		{ "a=?UTF-8?B?\?=b", "ab" },
		/* encoded CR LF does not reach callers */
		{ "=?UTF-8?Q?a=0D=0Ab?=", "a  b" },
	};

	for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
		g_autoptr(PrImapFetch) keep = NULL;
		PrImapEnvelope *env = envelope_with_subject(cases[i].in, cases[i].in, &keep);
		PrImapAddress *a = g_ptr_array_index(env->from, 0);
		g_assert_cmpstr(env->subject, ==, cases[i].out);
		g_assert_cmpstr(a->name, ==, cases[i].out);
	}
	/* 8-bit (raw UTF-8) subject in a quoted string */
	{
		g_autoptr(PrImapFetch) keep = NULL;
		PrImapEnvelope *env = envelope_with_subject("Gr\xc3\xbc\xc3\x9f"
							    "e",
							    "J\xc3\xb6rg",
							    &keep);
		g_assert_cmpstr(env->subject,
				==,
				"Gr\xc3\xbc\xc3\x9f"
				"e");
	}
	/* invalid 8-bit becomes valid UTF-8 */
	{
		g_autoptr(PrImapFetch) keep = NULL;
		PrImapEnvelope *env = envelope_with_subject("caf\xe9", "x", &keep);
		g_assert_true(g_utf8_validate(env->subject, -1, NULL));
		g_assert_true(g_str_has_prefix(env->subject, "caf"));
	}
}

static void
test_parser_dates(void)
{
	struct {
		const gchar *date;
		gint64 unix_time;
	} cases[] = {
		{ "Wed, 17 Jul 1996 02:23:25 -0700 (PDT)", 837595405 },
		{ "17 Jul 1996 09:23:25 +0000", 837595405 },
		{ "Wed, 17 Jul 96 02:23:25 PDT", 837595405 },
		{ "Wed, 17 Jul 1996 09:23 GMT", 837595380 },
		{ "Fri, 1 Mar 2024 13:00:00 +0100", 1709294400 },
		{ "garbage", 0 },
		{ "Fri, 31 Feb 2024 13:00:00 +0100", 0 },
		{ "", 0 },
	};

	for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
		g_autofree gchar *text = g_strdup_printf(
			"* 1 FETCH (ENVELOPE (\"%s\" NIL NIL NIL NIL NIL NIL NIL NIL NIL))\r\n",
			cases[i].date);
		g_autoptr(PrImapResponse) r = parse_one(text);
		g_autoptr(GError) error = NULL;
		g_autoptr(PrImapFetch) f = pr_imap_response_parse_fetch(r, &error);
		g_assert_no_error(error);
		g_assert_cmpint(f->envelope->date, ==, cases[i].unix_time);
		g_assert_cmpstr(f->envelope->date_raw, ==, cases[i].date);
		g_assert_null(f->envelope->subject);
	}
	/* INTERNALDATE: space-padded day; a malformed one is an error */
	{
		g_autoptr(PrImapResponse) r =
			parse_one("* 1 FETCH (INTERNALDATE \" 7-Jul-1996 02:44:25 +0000\")\r\n");
		g_autoptr(GError) error = NULL;
		g_autoptr(PrImapFetch) f = pr_imap_response_parse_fetch(r, &error);
		g_assert_no_error(error);
		g_assert_cmpint(f->internal_date, ==, 836707465);
	}
	{
		g_autoptr(PrImapResponse) r =
			parse_one("* 1 FETCH (INTERNALDATE \"17-Jul-1996 02:44\")\r\n");
		g_autoptr(GError) error = NULL;
		g_autoptr(PrImapFetch) f = pr_imap_response_parse_fetch(r, &error);
		g_assert_error(error, PR_ERROR, PR_ERROR_PROTOCOL_ERROR);
		g_assert_null(f);
	}
}

/* Quirks -------------------------------------------------------------------------------- */

static void
test_parser_quirk_gmail_flags(void)
{
	g_autoptr(GPtrArray) rs = parse_ok(
		"* FLAGS (\\Answered \\Flagged \\Draft \\Deleted \\Seen $Forwarded "
		"$NotPhishing $Phishing $label[1] Junk NonJunk foo] \\*)\r\n"
		"* OK [PERMANENTFLAGS (\\Answered \\Seen $label[1] \\*)] Flags permitted.\r\n"
		"* 3 FETCH (X-GM-THRID 1278455344230334865 X-GM-LABELS (\"\\\\Important\" "
		"Inbox) UID 9 FLAGS ($label[1] \\Seen $Forwarded))\r\n");
	const gchar *flags[] = { "\\Answered", "\\Flagged",    "\\Draft",   "\\Deleted", "\\Seen",
				 "$Forwarded", "$NotPhishing", "$Phishing", "$label[1]", "Junk",
				 "NonJunk",    "foo]",	       "\\*",	    NULL };
	const gchar *pflags[] = { "\\Answered", "\\Seen", "$label[1]", "\\*", NULL };
	const gchar *fflags[] = { "$label[1]", "\\Seen", "$Forwarded", NULL };
	g_auto(GStrv) f0 = pr_imap_response_dup_flags(g_ptr_array_index(rs, 0));
	g_auto(GStrv) f1 = pr_imap_response_dup_flags(g_ptr_array_index(rs, 1));
	g_autoptr(GError) error = NULL;
	g_autoptr(PrImapFetch) fetch =
		pr_imap_response_parse_fetch(g_ptr_array_index(rs, 2), &error);

	assert_strv(f0, flags);
	assert_strv(f1, pflags);
	g_assert_cmpstr(
		pr_imap_response_get_text(g_ptr_array_index(rs, 1)), ==, "Flags permitted.");
	g_assert_no_error(error);
	g_assert_cmpuint(fetch->uid, ==, 9);
	assert_strv(fetch->flags, fflags);
}

static void
test_parser_quirk_icloud_exchange(void)
{
	g_autoptr(GPtrArray) rs = parse_ok("* OK [UIDVALIDITY 0] UIDs valid\r\n"
					   "* OK [UNSEEN 0]\r\n"
					   "* LIST (\\Noselect) NIL \"\"\r\n"
					   "A1 OK\r\n"
					   "A2 OK \r\n"
					   "A3 OK [READ-ONLY]\r\n"
					   "* ok Still here\r\n"
					   "a4 ok done\r\n"
					   "* 3 exists\r\n"
					   "* 2 Fetch (uid 7)\r\n"
					   "* LIST () \"/\" \"\xc3\x9cn\xc3\xaf"
					   "c\xc3\xb6"
					   "de\"\r\n"
					   "* OK h\xc3\xa9llo w\xc3\xb6rld\r\n");
	guint64 value = 42;
	guint32 number = 0;
	g_autoptr(GError) error = NULL;
	g_autoptr(PrImapListEntry) entry = NULL;
	g_autoptr(PrImapListEntry) utf8 = NULL;
	g_autoptr(PrImapFetch) fetch = NULL;

	g_assert_cmpuint(rs->len, ==, 12);
	g_assert_true(
		pr_imap_response_get_code_number(g_ptr_array_index(rs, 0), "UIDVALIDITY", &value));
	g_assert_cmpuint(value, ==, 0);
	value = 42;
	g_assert_true(pr_imap_response_get_code_number(g_ptr_array_index(rs, 1), "UNSEEN", &value));
	g_assert_cmpuint(value, ==, 0);
	g_assert_cmpstr(pr_imap_response_get_text(g_ptr_array_index(rs, 1)), ==, "");

	entry = pr_imap_response_parse_list(g_ptr_array_index(rs, 2), FALSE, &error);
	g_assert_no_error(error);
	g_assert_cmpint(entry->delimiter, ==, 0);
	g_assert_cmpstr(entry->name, ==, "");

	for (guint i = 3; i <= 5; i++) {
		PrImapResponse *r = g_ptr_array_index(rs, i);
		g_assert_cmpint(pr_imap_response_get_kind(r), ==, PR_IMAP_RESPONSE_KIND_TAGGED);
		g_assert_cmpint(pr_imap_response_get_status(r), ==, PR_IMAP_STATUS_OK);
		g_assert_cmpstr(pr_imap_response_get_text(r), ==, "");
	}
	g_assert_cmpstr(pr_imap_response_get_code(g_ptr_array_index(rs, 5)), ==, "READ-ONLY");

	g_assert_cmpint(
		pr_imap_response_get_status(g_ptr_array_index(rs, 6)), ==, PR_IMAP_STATUS_OK);
	g_assert_cmpstr(pr_imap_response_get_keyword(g_ptr_array_index(rs, 6)), ==, "OK");
	g_assert_cmpstr(pr_imap_response_get_tag(g_ptr_array_index(rs, 7)), ==, "a4");
	g_assert_cmpint(
		pr_imap_response_get_status(g_ptr_array_index(rs, 7)), ==, PR_IMAP_STATUS_OK);
	g_assert_cmpstr(pr_imap_response_get_keyword(g_ptr_array_index(rs, 8)), ==, "EXISTS");
	g_assert_true(pr_imap_response_get_number(g_ptr_array_index(rs, 8), &number));
	g_assert_cmpuint(number, ==, 3);
	fetch = pr_imap_response_parse_fetch(g_ptr_array_index(rs, 9), &error);
	g_assert_no_error(error);
	g_assert_cmpuint(fetch->uid, ==, 7);

	utf8 = pr_imap_response_parse_list(g_ptr_array_index(rs, 10), TRUE, &error);
	g_assert_no_error(error);
	g_assert_cmpstr(utf8->name,
			==,
			"\xc3\x9cn\xc3\xaf"
			"c\xc3\xb6"
			"de");
	g_assert_cmpstr(pr_imap_response_get_text(g_ptr_array_index(rs, 11)),
			==,
			"h\xc3\xa9llo w\xc3\xb6rld");
}

static void
test_parser_status_text(void)
{
	g_autoptr(GPtrArray) rs =
		parse_ok("* OK [ALERT] The [bracket is \"unbalanced (and so on\r\n"
			 "* OK some [text \"with (odd ] chars\r\n"
			 "* NO [UNKNOWN-CODE a (b c) \"d\"] x\r\n"
			 "* BAD [X-BROKEN \"unterminated] text\r\n"
			 "A5 NO [TRYCREATE] Mailbox doesn't exist\r\n"
			 "A6 NO [BADCHARSET (UTF-8 US-ASCII)] bad charset\r\n"
			 "A7 OK [NOMODSEQ] No permanent modsequences\r\n"
			 "A8 OK [MODIFIED 7,9] Conditional STORE failed\r\n"
			 "* OK [CLOSED] Previous mailbox closed\r\n"
			 "A9 OK [UIDNOTSTICKY] Non-persistent UIDs\r\n"
			 "A10 OK [COMPRESSIONACTIVE] DEFLATE active\r\n"
			 "* NO [PARSE] Bad header\r\n"
			 "* BYE Logging out\r\n"
			 "* PREAUTH [CAPABILITY IMAP4rev1] IMAP4rev1 server logged in as Smith\r\n"
			 "* OK [REFERRAL imap://user;AUTH=*@SERVER2/] Try there\r\n"
			 "* OK [READ-WRITE]text-without-space\r\n");
	PrImapResponse *r;
	const PrImapValue *args;

	r = g_ptr_array_index(rs, 0);
	g_assert_cmpstr(pr_imap_response_get_code(r), ==, "ALERT");
	g_assert_cmpstr(
		pr_imap_response_get_text(r), ==, "The [bracket is \"unbalanced (and so on");
	r = g_ptr_array_index(rs, 1);
	g_assert_null(pr_imap_response_get_code(r));
	g_assert_null(pr_imap_response_get_code_args(r));
	g_assert_cmpstr(pr_imap_response_get_text(r), ==, "some [text \"with (odd ] chars");

	r = g_ptr_array_index(rs, 2);
	g_assert_cmpint(pr_imap_response_get_status(r), ==, PR_IMAP_STATUS_NO);
	g_assert_cmpstr(pr_imap_response_get_code(r), ==, "UNKNOWN-CODE");
	args = pr_imap_response_get_code_args(r);
	g_assert_cmpuint(pr_imap_value_get_n_children(args), ==, 3);
	g_assert_cmpint(
		pr_imap_value_get_kind(pr_imap_value_get_child(args, 0)), ==, PR_IMAP_VALUE_ATOM);
	g_assert_cmpuint(pr_imap_value_get_n_children(pr_imap_value_get_child(args, 1)), ==, 2);
	g_assert_cmpstr(value_str(pr_imap_value_get_child(args, 2)), ==, "d");
	g_assert_cmpstr(pr_imap_response_get_text(r), ==, "x");

	/* a code that does not parse is text */
	r = g_ptr_array_index(rs, 3);
	g_assert_cmpint(pr_imap_response_get_status(r), ==, PR_IMAP_STATUS_BAD);
	g_assert_null(pr_imap_response_get_code(r));
	g_assert_cmpstr(pr_imap_response_get_text(r), ==, "[X-BROKEN \"unterminated] text");

	g_assert_cmpstr(pr_imap_response_get_code(g_ptr_array_index(rs, 4)), ==, "TRYCREATE");
	r = g_ptr_array_index(rs, 5);
	args = pr_imap_response_get_code_args(r);
	g_assert_cmpstr(pr_imap_response_get_code(r), ==, "BADCHARSET");
	g_assert_cmpuint(pr_imap_value_get_n_children(pr_imap_value_get_child(args, 0)), ==, 2);
	g_assert_cmpstr(pr_imap_response_get_code(g_ptr_array_index(rs, 6)), ==, "NOMODSEQ");
	r = g_ptr_array_index(rs, 7);
	g_assert_cmpstr(pr_imap_response_get_code(r), ==, "MODIFIED");
	g_assert_cmpstr(value_str(pr_imap_value_get_child(pr_imap_response_get_code_args(r), 0)),
			==,
			"7,9");
	g_assert_cmpstr(pr_imap_response_get_code(g_ptr_array_index(rs, 8)), ==, "CLOSED");
	g_assert_cmpstr(pr_imap_response_get_code(g_ptr_array_index(rs, 9)), ==, "UIDNOTSTICKY");
	g_assert_cmpstr(
		pr_imap_response_get_code(g_ptr_array_index(rs, 10)), ==, "COMPRESSIONACTIVE");
	g_assert_cmpstr(pr_imap_response_get_code(g_ptr_array_index(rs, 11)), ==, "PARSE");
	r = g_ptr_array_index(rs, 12);
	g_assert_cmpint(pr_imap_response_get_status(r), ==, PR_IMAP_STATUS_BYE);
	g_assert_cmpstr(pr_imap_response_get_text(r), ==, "Logging out");
	r = g_ptr_array_index(rs, 13);
	g_assert_cmpint(pr_imap_response_get_status(r), ==, PR_IMAP_STATUS_PREAUTH);
	{
		g_auto(GStrv) caps = pr_imap_response_dup_capabilities(r);
		const gchar *want[] = { "IMAP4REV1", NULL };
		assert_strv(caps, want);
	}
	r = g_ptr_array_index(rs, 14);
	g_assert_cmpstr(pr_imap_response_get_code(r), ==, "REFERRAL");
	g_assert_cmpstr(value_str(pr_imap_value_get_child(pr_imap_response_get_code_args(r), 0)),
			==,
			"imap://user;AUTH=*@SERVER2/");
	r = g_ptr_array_index(rs, 15);
	g_assert_cmpstr(pr_imap_response_get_code(r), ==, "READ-WRITE");
	g_assert_cmpstr(pr_imap_response_get_text(r), ==, "text-without-space");
}

static void
test_parser_section_atoms(void)
{
	static const gchar text[] =
		"* 5 FETCH (UID 77 BODY[HEADER.FIELDS (DATE FROM)]<0> {5}\r\nabcde "
		"BINARY[1.2] ~{3}\r\nx\0z BODY[1]<100> NIL RFC822.HEADER \"h\" "
		"BODY[] {0}\r\n BINARY.SIZE[1] 1234 body[text] \"t\" RFC822 {2}\r\nhi)\r\n";
	g_autoptr(PrImapResponse) r = parse_one_len(text, sizeof(text) - 1);
	const PrImapValue *items = pr_imap_value_get_child(pr_imap_response_get_data(r), 0);
	const PrImapValue *v;
	g_autoptr(GError) error = NULL;
	g_autoptr(PrImapFetch) f = NULL;
	PrImapFetchSection *s;
	gsize len = 0;

	g_assert_cmpuint(pr_imap_value_get_n_children(items), ==, 18);
	v = pr_imap_value_get_child(items, 2);
	g_assert_cmpint(pr_imap_value_get_kind(v), ==, PR_IMAP_VALUE_ATOM);
	g_assert_cmpstr(value_str(v), ==, "BODY[HEADER.FIELDS (DATE FROM)]<0>");
	v = pr_imap_value_get_child(items, 3);
	g_assert_cmpint(pr_imap_value_get_kind(v), ==, PR_IMAP_VALUE_STRING);
	g_assert_true(pr_imap_value_is_literal(v));
	g_assert_cmpstr(value_str(v), ==, "abcde");
	/* literal8 with a NUL in it */
	v = pr_imap_value_get_child(items, 5);
	g_assert_cmpmem(pr_imap_value_get_string(v, &len), 3, "x\0z", 3);
	g_assert_cmpuint(len, ==, 3);
	g_assert_cmpuint(pr_imap_value_get_literal_size(v), ==, 3);
	g_assert_false(pr_imap_value_equal_atom(v, "x"));

	f = pr_imap_response_parse_fetch(r, &error);
	g_assert_no_error(error);
	g_assert_cmpuint(f->uid, ==, 77);
	g_assert_cmpuint(f->sections->len, ==, 7);
	s = g_ptr_array_index(f->sections, 0);
	g_assert_cmpstr(s->section, ==, "BODY[HEADER.FIELDS (DATE FROM)]");
	g_assert_cmpuint(s->origin, ==, 0);
	g_assert_cmpstr(value_str(s->value), ==, "abcde");
	s = g_ptr_array_index(f->sections, 1);
	g_assert_cmpstr(s->section, ==, "BINARY[1.2]");
	s = g_ptr_array_index(f->sections, 2);
	g_assert_cmpstr(s->section, ==, "BODY[1]");
	g_assert_cmpuint(s->origin, ==, 100);
	g_assert_cmpint(pr_imap_value_get_kind(s->value), ==, PR_IMAP_VALUE_NIL);
	s = g_ptr_array_index(f->sections, 3);
	g_assert_cmpstr(s->section, ==, "RFC822.HEADER");
	s = g_ptr_array_index(f->sections, 4);
	g_assert_cmpstr(s->section, ==, "BODY[]");
	g_assert_cmpuint(pr_imap_value_get_literal_size(s->value), ==, 0);
	s = g_ptr_array_index(f->sections, 5);
	g_assert_cmpstr(s->section, ==, "BODY[TEXT]");
	s = g_ptr_array_index(f->sections, 6);
	g_assert_cmpstr(s->section, ==, "RFC822");
	g_assert_cmpstr(value_str(s->value), ==, "hi");

	/* a bad origin or a list as a section value is malformed */
	{
		g_autoptr(PrImapResponse) r2 = parse_one("* 1 FETCH (BODY[]<x> NIL)\r\n");
		g_autoptr(PrImapFetch) f2 = pr_imap_response_parse_fetch(r2, &error);
		g_assert_error(error, PR_ERROR, PR_ERROR_PROTOCOL_ERROR);
		g_assert_null(f2);
		g_clear_error(&error);
	}
	{
		g_autoptr(PrImapResponse) r2 = parse_one("* 1 FETCH (BODY[1] (a))\r\n");
		g_autoptr(PrImapFetch) f2 = pr_imap_response_parse_fetch(r2, &error);
		g_assert_error(error, PR_ERROR, PR_ERROR_PROTOCOL_ERROR);
		g_assert_null(f2);
		g_clear_error(&error);
	}
	{
		g_autoptr(PrImapResponse) r2 = parse_one("* 1 FETCH (UID 0)\r\n");
		g_autoptr(PrImapFetch) f2 = pr_imap_response_parse_fetch(r2, &error);
		g_assert_error(error, PR_ERROR, PR_ERROR_PROTOCOL_ERROR);
		g_assert_null(f2);
		g_clear_error(&error);
	}
	{
		g_autoptr(PrImapResponse) r2 = parse_one("* 1 FETCH (UID 3 FLAGS)\r\n");
		g_autoptr(PrImapFetch) f2 = pr_imap_response_parse_fetch(r2, &error);
		g_assert_error(error, PR_ERROR, PR_ERROR_PROTOCOL_ERROR);
		g_assert_null(f2);
	}
}

/* Splits -------------------------------------------------------------------------------- */

#define TRANSCRIPT                                                                                 \
	"* OK [CAPABILITY IMAP4rev1 LITERAL+ AUTH=PLAIN] Dovecot ready.\r\n"                       \
	"+ \r\n"                                                                                   \
	"a1 OK [CAPABILITY IMAP4rev1 QRESYNC] Logged in\r\n"                                       \
	"* LIST (\\HasNoChildren \\Drafts) \"/\" {6}\r\nDrafts\r\n"                                \
	"* STATUS \"INBOX\" (MESSAGES 231 UIDNEXT 44292 HIGHESTMODSEQ 7011231777 SIZE 9000)\r\n"   \
	"* 1 FETCH (UID 10 BODY[] {14}\r\nline1\r\nline2\r\n FLAGS (\\Seen))\n"                    \
	"* 2 FETCH (UID 11 BODY[HEADER.FIELDS (DATE FROM)] {0}\r\n BODY[TEXT] "                    \
	"\"x\\\"y\\\\z\")\r\n"                                                                     \
	"* SEARCH 2 84 882 (MODSEQ 917162500)\r\n"                                                 \
	"* NAMESPACE ((\"\" \"/\")) NIL ((\"#shared/\" \"/\"))\r\n" FETCH_ENVELOPE                 \
	"a2 OK [READ-WRITE] done\r\n"

static GPtrArray *
feed_in_pieces(const gchar *text, gsize len, gsize piece)
{
	g_autoptr(PrImapParser) parser = pr_imap_parser_new();
	GPtrArray *out = g_ptr_array_new_with_free_func(g_free);
	PrImapResponse *r;

	for (gsize off = 0; off < len; off += piece) {
		g_autoptr(GError) error = NULL;
		gboolean ok = pr_imap_parser_feed(
			parser, (const guint8 *)text + off, MIN(piece, len - off), &error);
		g_assert_no_error(error);
		g_assert_true(ok);
		while ((r = pr_imap_parser_pop(parser)) != NULL) {
			g_ptr_array_add(out, pr_imap_response_to_string(r));
			pr_imap_response_unref(r);
		}
	}
	g_assert_cmpuint(pr_imap_parser_get_pending(parser), ==, 0);
	return out;
}

static void
test_parser_split_feeding(void)
{
	const gchar *text = TRANSCRIPT;
	gsize len = strlen(text);
	g_autoptr(GPtrArray) whole = feed_in_pieces(text, len, len);
	const gsize pieces[] = { 1, 2, 3, 5, 7, 13, 64, 1000 };

	g_assert_cmpuint(whole->len, ==, 11);
	g_assert_cmpstr(g_ptr_array_index(whole, 3),
			==,
			"* LIST (\\HasNoChildren \\Drafts) \"/\" {6}\"Drafts\"");
	g_assert_cmpstr(
		g_ptr_array_index(whole, 5),
		==,
		"* 1 FETCH (UID 10 BODY[] {14}\"line1\\x0d\\x0aline2\\x0d\\x0a\" FLAGS (\\Seen))");
	g_assert_cmpstr(g_ptr_array_index(whole, 6),
			==,
			"* 2 FETCH (UID 11 BODY[HEADER.FIELDS (DATE FROM)] {0}\"\" BODY[TEXT] "
			"\"x\\\"y\\\\z\")");
	for (guint p = 0; p < G_N_ELEMENTS(pieces); p++) {
		g_autoptr(GPtrArray) split = feed_in_pieces(text, len, pieces[p]);
		g_assert_cmpuint(split->len, ==, whole->len);
		for (guint i = 0; i < whole->len; i++)
			g_assert_cmpstr(
				g_ptr_array_index(split, i), ==, g_ptr_array_index(whole, i));
	}
	/* pending counts the bytes of an incomplete response */
	{
		g_autoptr(PrImapParser) parser = pr_imap_parser_new();
		g_autoptr(GError) error = NULL;
		g_assert_true(pr_imap_parser_feed(
			parser, (const guint8 *)"* 3 EXISTS\r\n* 1 FET", 19, &error));
		g_assert_cmpuint(pr_imap_parser_get_pending(parser), ==, 7);
		g_assert_true(pr_imap_parser_feed(
			parser, (const guint8 *)"CH (UID 1 X {3}\r\nab", 19, &error));
		g_assert_cmpuint(pr_imap_parser_get_pending(parser), ==, 26);
		g_assert_true(pr_imap_parser_feed(parser, (const guint8 *)"c)\r\n", 4, &error));
		g_assert_no_error(error);
		g_assert_cmpuint(pr_imap_parser_get_pending(parser), ==, 0);
	}
	/* the end of input inside a response */
	assert_protocol_error("* 1 FETCH (UID 1\r\n");
	assert_protocol_error("* 1 FETCH (BODY[] {10}\r\nabc");
	assert_protocol_error("* OK no newline");
}

/* Literal sink -------------------------------------------------------------------------- */

typedef struct {
	GByteArray *bytes;
	guint n_begin;
	guint n_writes;
	guint n_end;
	guint n_aborted;
	gboolean refuse;     /* begin returns NULL */
	gboolean fail_write; /* write fails */
	PrImapLiteralInfo info;
	gchar *section;
	gchar *keyword;
} SinkState;

static gpointer
sink_begin(const PrImapLiteralInfo *info, gpointer user_data)
{
	SinkState *st = user_data;
	st->n_begin++;
	st->info = *info;
	g_free(st->section);
	g_free(st->keyword);
	st->section = g_strdup(info->section);
	st->keyword = g_strdup(info->keyword);
	if (st->refuse)
		return NULL;
	return st;
}

static gboolean
sink_write(gpointer handle, const guint8 *data, gsize len, gpointer user_data, GError **error)
{
	SinkState *st = user_data;
	g_assert_true(handle == st);
	st->n_writes++;
	if (st->fail_write) {
		g_set_error_literal(error, G_IO_ERROR, G_IO_ERROR_NO_SPACE, "disk full");
		return FALSE;
	}
	g_byte_array_append(st->bytes, data, (guint)len);
	return TRUE;
}

static void
sink_end(gpointer handle, gboolean aborted, gpointer user_data)
{
	SinkState *st = user_data;
	g_assert_true(handle == st);
	st->n_end++;
	if (aborted)
		st->n_aborted++;
}

static const PrImapLiteralSink test_sink = { sink_begin, sink_write, sink_end };

static void
sink_state_clear(SinkState *st)
{
	g_byte_array_unref(st->bytes);
	g_free(st->section);
	g_free(st->keyword);
}

static void
test_parser_literal_streaming(void)
{
	const gsize size = 1024 * 1024;
	g_autoptr(PrImapParser) parser = pr_imap_parser_new();
	g_autoptr(GError) error = NULL;
	g_autoptr(GByteArray) input = g_byte_array_new();
	g_autoptr(PrImapResponse) r = NULL;
	g_autoptr(PrImapFetch) f = NULL;
	g_autofree guint8 *body = g_malloc(size);
	g_autofree gchar *head = NULL;
	g_autofree gchar *str = NULL;
	SinkState st = { 0 };
	PrImapFetchSection *s;
	gsize head_len;

	st.bytes = g_byte_array_new();
	for (gsize i = 0; i < size; i++)
		body[i] = (guint8)(i * 131 + (i >> 9));
	head = g_strdup_printf("* 7 FETCH (UID 42 BODY[] {%" G_GSIZE_FORMAT "}\r\n", size);
	head_len = strlen(head);
	g_byte_array_append(input, (const guint8 *)head, (guint)head_len);
	g_byte_array_append(input, body, (guint)size);
	g_byte_array_append(input, (const guint8 *)" FLAGS (\\Seen))\r\n", 17);

	pr_imap_parser_set_sink(parser, &test_sink, &st, NULL);
	for (gsize off = 0; off < input->len; off += 16384) {
		g_assert_true(pr_imap_parser_feed(
			parser, input->data + off, MIN(16384, input->len - off), &error));
		g_assert_no_error(error);
		/* every literal byte fed so far already went to the sink: none is held back */
		if (off + 16384 > head_len)
			g_assert_cmpuint(st.bytes->len, ==, MIN(off + 16384 - head_len, size));
	}
	g_assert_cmpuint(st.n_begin, ==, 1);
	g_assert_cmpuint(st.n_end, ==, 1);
	g_assert_cmpuint(st.n_aborted, ==, 0);
	/* chunks as fed, not the whole literal at once */
	g_assert_cmpuint(st.n_writes, >, 60);
	g_assert_cmpuint(st.bytes->len, ==, size);
	g_assert_cmpmem(st.bytes->data, size, body, size);
	g_assert_cmpstr(st.keyword, ==, "FETCH");
	g_assert_cmpuint(st.info.seq, ==, 7);
	g_assert_cmpuint(st.info.uid, ==, 42);
	g_assert_cmpstr(st.section, ==, "BODY[]");
	g_assert_cmpuint(st.info.size, ==, size);

	r = pr_imap_parser_pop(parser);
	g_assert_nonnull(r);
	f = pr_imap_response_parse_fetch(r, &error);
	g_assert_no_error(error);
	g_assert_cmpuint(f->sections->len, ==, 1);
	s = g_ptr_array_index(f->sections, 0);
	g_assert_cmpint(pr_imap_value_get_kind(s->value), ==, PR_IMAP_VALUE_STREAMED);
	g_assert_cmpuint(pr_imap_value_get_literal_size(s->value), ==, size);
	g_assert_true(pr_imap_value_is_literal(s->value));
	g_assert_null(pr_imap_value_get_string(s->value, NULL));
	str = pr_imap_response_to_string(r);
	g_assert_cmpstr(str, ==, "* 7 FETCH (UID 42 BODY[] {1048576}<streamed> FLAGS (\\Seen))");
	sink_state_clear(&st);
}

static void
test_parser_literal_sink_paths(void)
{
	/* UID after the literal: 0; small literals never reach the sink */
	{
		g_autoptr(PrImapParser) parser = pr_imap_parser_new();
		g_autoptr(GError) error = NULL;
		g_autoptr(PrImapResponse) r = NULL;
		PrImapParserLimits limits;
		SinkState st = { 0 };
		const gchar *text = "* 3 FETCH (BODY[TEXT] {20}\r\n0123456789abcdefghij UID 5 "
				    "BODY[1] {4}\r\nabcd)\r\n";

		st.bytes = g_byte_array_new();
		pr_imap_parser_get_limits(parser, &limits);
		g_assert_cmpuint(limits.inline_threshold, ==, 64 * 1024);
		g_assert_cmpuint(limits.max_depth, ==, 64);
		limits.inline_threshold = 10;
		pr_imap_parser_set_limits(parser, &limits);
		pr_imap_parser_set_sink(parser, &test_sink, &st, NULL);
		g_assert_true(
			pr_imap_parser_feed(parser, (const guint8 *)text, strlen(text), &error));
		g_assert_no_error(error);
		g_assert_cmpuint(st.n_begin, ==, 1);
		g_assert_cmpuint(st.info.uid, ==, 0);
		g_assert_cmpstr(st.section, ==, "BODY[TEXT]");
		g_assert_cmpmem(st.bytes->data, st.bytes->len, "0123456789abcdefghij", 20);
		r = pr_imap_parser_pop(parser);
		g_assert_nonnull(r);
		sink_state_clear(&st);
	}
	/* begin returns NULL: kept in memory up to max_inline_literal, else an error */
	{
		g_autoptr(PrImapParser) parser = pr_imap_parser_new();
		g_autoptr(GError) error = NULL;
		g_autoptr(PrImapResponse) r = NULL;
		PrImapParserLimits limits;
		SinkState st = { 0 };
		const gchar *text = "* 3 FETCH (BODY[] {20}\r\n0123456789abcdefghij)\r\n";
		const PrImapValue *v;

		st.bytes = g_byte_array_new();
		st.refuse = TRUE;
		pr_imap_parser_get_limits(parser, &limits);
		limits.inline_threshold = 10;
		limits.max_inline_literal = 20;
		pr_imap_parser_set_limits(parser, &limits);
		pr_imap_parser_set_sink(parser, &test_sink, &st, NULL);
		g_assert_true(
			pr_imap_parser_feed(parser, (const guint8 *)text, strlen(text), &error));
		g_assert_no_error(error);
		r = pr_imap_parser_pop(parser);
		v = pr_imap_value_get_child(
			pr_imap_value_get_child(pr_imap_response_get_data(r), 0), 1);
		g_assert_cmpint(pr_imap_value_get_kind(v), ==, PR_IMAP_VALUE_STRING);
		g_assert_cmpstr(value_str(v), ==, "0123456789abcdefghij");
		g_assert_cmpuint(st.n_begin, ==, 1);
		g_assert_cmpuint(st.n_writes, ==, 0);

		limits.max_inline_literal = 19;
		pr_imap_parser_set_limits(parser, &limits);
		g_assert_false(
			pr_imap_parser_feed(parser, (const guint8 *)text, strlen(text), &error));
		g_assert_error(error, PR_ERROR, PR_ERROR_PROTOCOL_ERROR);
		sink_state_clear(&st);
	}
	/* a sink write error stops parsing with that error and aborts the literal */
	{
		g_autoptr(PrImapParser) parser = pr_imap_parser_new();
		g_autoptr(GError) error = NULL;
		PrImapParserLimits limits;
		SinkState st = { 0 };
		const gchar *text = "* 3 FETCH (BODY[] {20}\r\n0123456789abcdefghij)\r\n";

		st.bytes = g_byte_array_new();
		st.fail_write = TRUE;
		pr_imap_parser_get_limits(parser, &limits);
		limits.inline_threshold = 0;
		pr_imap_parser_set_limits(parser, &limits);
		pr_imap_parser_set_sink(parser, &test_sink, &st, NULL);
		g_assert_false(
			pr_imap_parser_feed(parser, (const guint8 *)text, strlen(text), &error));
		g_assert_error(error, G_IO_ERROR, G_IO_ERROR_NO_SPACE);
		g_assert_cmpuint(st.n_end, ==, 1);
		g_assert_cmpuint(st.n_aborted, ==, 1);
		g_clear_error(&error);
		/* refuses input until reset */
		g_assert_false(
			pr_imap_parser_feed(parser, (const guint8 *)"* 1 EXISTS\r\n", 12, &error));
		g_assert_error(error, PR_ERROR, PR_ERROR_PROTOCOL_ERROR);
		g_clear_error(&error);
		pr_imap_parser_reset(parser);
		g_assert_true(
			pr_imap_parser_feed(parser, (const guint8 *)"* 1 EXISTS\r\n", 12, &error));
		g_assert_no_error(error);
		sink_state_clear(&st);
	}
	/* reset and finalize mid-literal abort it; reset drops queued responses too */
	{
		PrImapParser *parser = pr_imap_parser_new();
		g_autoptr(GError) error = NULL;
		PrImapParserLimits limits;
		SinkState st = { 0 };
		const gchar *text = "* 9 EXISTS\r\n* 3 FETCH (BODY[] {20}\r\n0123456789";

		st.bytes = g_byte_array_new();
		pr_imap_parser_get_limits(parser, &limits);
		limits.inline_threshold = 0;
		pr_imap_parser_set_limits(parser, &limits);
		pr_imap_parser_set_sink(parser, &test_sink, &st, NULL);
		g_assert_true(
			pr_imap_parser_feed(parser, (const guint8 *)text, strlen(text), &error));
		g_assert_cmpuint(st.n_writes, ==, 1);
		pr_imap_parser_reset(parser);
		g_assert_cmpuint(st.n_aborted, ==, 1);
		g_assert_null(pr_imap_parser_pop(parser));
		g_assert_cmpuint(pr_imap_parser_get_pending(parser), ==, 0);
		g_assert_true(
			pr_imap_parser_feed(parser, (const guint8 *)text, strlen(text), &error));
		g_object_unref(parser);
		g_assert_cmpuint(st.n_begin, ==, 2);
		g_assert_cmpuint(st.n_end, ==, 2);
		g_assert_cmpuint(st.n_aborted, ==, 2);
		sink_state_clear(&st);
	}
}

/* Bounds -------------------------------------------------------------------------------- */

static void
test_parser_bounds(void)
{
	/* literal sizes: overflow, negative, empty, junk, over max_literal (2 GiB) */
	assert_protocol_error("* 1 FETCH (BODY[] {4294967297}\r\n");
	assert_protocol_error("* 1 FETCH (BODY[] {99999999999999999999}\r\n");
	assert_protocol_error("* 1 FETCH (BODY[] {18446744073709551616}\r\n");
	assert_protocol_error("* 1 FETCH (BODY[] {-1}\r\n");
	assert_protocol_error("* 1 FETCH (BODY[] {}\r\n");
	assert_protocol_error("* 1 FETCH (BODY[] {12a}\r\n");
	assert_protocol_error("* 1 FETCH (BODY[] {12+}\r\n");
	assert_protocol_error("* 1 FETCH (BODY[] {12} x\r\n");
	/* too large for memory without a sink: refused before any byte */
	assert_protocol_error("* 1 FETCH (BODY[] {2000000000}\r\n");
	/* numbers */
	assert_protocol_error("* SEARCH 9223372036854775808\r\n");
	assert_protocol_error("* SEARCH 18446744073709551616\r\n");
	assert_protocol_error("* 4294967296 EXISTS\r\n");
	{
		g_autoptr(PrImapResponse) r = parse_one("* SEARCH 9223372036854775807\r\n");
		guint64 n = 0;
		g_assert_true(pr_imap_value_get_number(
			pr_imap_value_get_child(pr_imap_response_get_data(r), 0), &n));
		g_assert_cmpuint(n, ==, G_MAXINT64);
	}
	/* CR without LF, NUL outside literals, junk after a complete response */
	assert_protocol_error("* OK a\rb\r\n");
	assert_protocol_error("* SEARCH 1\r2\r\n");
	assert_protocol_error("* LIST () \"/\" \"a\rb\"\r\n");
	assert_protocol_error_len("* OK a\0b\r\n", 10);
	assert_protocol_error_len("* SEARCH 1 \0\r\n", 14);
	assert_protocol_error_len("* LIST () \"/\" \"a\0\"\r\n", 20);
	assert_protocol_error("* 3 EXISTS junk\r\n");
	assert_protocol_error("* 1 FETCH (UID 1) (X)\r\n");
	assert_protocol_error("* 1 FETCH (UID 1))\r\n");
	assert_protocol_error("* 1 FETCH UID 1\r\n");
	assert_protocol_error("* EXISTS\r\n");
	assert_protocol_error("* LIST (\\Noselect \"/\" x\r\n");
	assert_protocol_error("* LIST () \"/\" \"unterminated\r\n");
	assert_protocol_error("A1 FETCH done\r\n");
	assert_protocol_error("A1\r\n");
	assert_protocol_error("*\r\n");
	assert_protocol_error("* \r\n");
	assert_protocol_error("\r\n");
	assert_protocol_error(" * OK\r\n");
	assert_protocol_error("* OK [ALERT] x\r\r\n");
	/* control characters other than CR, LF in data */
	assert_protocol_error("* SEARCH 1\x01\r\n");

	/* a bare LF ends a line */
	{
		g_autoptr(GPtrArray) rs = parse_ok("* 2 EXISTS\n* OK fine\nA1 OK done\n");
		g_assert_cmpuint(rs->len, ==, 3);
		g_assert_cmpstr(pr_imap_response_get_text(g_ptr_array_index(rs, 2)), ==, "done");
	}

	/* line length: refused before the LF arrives */
	{
		g_autoptr(PrImapParser) parser = pr_imap_parser_new();
		g_autoptr(GError) error = NULL;
		g_autofree gchar *junk = g_strnfill(600, 'a');
		PrImapParserLimits limits;
		pr_imap_parser_get_limits(parser, &limits);
		g_assert_cmpuint(limits.max_line, ==, 8 * 1024 * 1024);
		limits.max_line = 1024;
		pr_imap_parser_set_limits(parser, &limits);
		g_assert_true(pr_imap_parser_feed(parser, (const guint8 *)"* OK ", 5, &error));
		g_assert_true(pr_imap_parser_feed(parser, (const guint8 *)junk, 600, &error));
		g_assert_false(pr_imap_parser_feed(parser, (const guint8 *)junk, 600, &error));
		g_assert_error(error, PR_ERROR, PR_ERROR_PROTOCOL_ERROR);
	}
	/* the default: 8 MiB without an LF */
	{
		g_autoptr(PrImapParser) parser = pr_imap_parser_new();
		g_autoptr(GError) error = NULL;
		gsize chunk = 1024 * 1024;
		g_autofree gchar *junk = g_strnfill(chunk, 'a');
		gboolean ok = TRUE;
		guint i;
		for (i = 0; i < 10 && ok; i++)
			ok = pr_imap_parser_feed(parser, (const guint8 *)junk, chunk, &error);
		g_assert_false(ok);
		g_assert_cmpuint(i, ==, 9);
		g_assert_error(error, PR_ERROR, PR_ERROR_PROTOCOL_ERROR);
	}
	/* max_line counts the whole response outside literals, across segments */
	{
		g_autoptr(PrImapParser) parser = pr_imap_parser_new();
		g_autoptr(GError) error = NULL;
		PrImapParserLimits limits;
		GString *text = g_string_new("* 1 FETCH (");
		pr_imap_parser_get_limits(parser, &limits);
		limits.max_line = 200;
		pr_imap_parser_set_limits(parser, &limits);
		for (guint i = 0; i < 40; i++)
			g_string_append(text, "X {1}\r\na ");
		g_string_append(text, ")\r\n");
		g_assert_false(
			pr_imap_parser_feed(parser, (const guint8 *)text->str, text->len, &error));
		g_assert_error(error, PR_ERROR, PR_ERROR_PROTOCOL_ERROR);
		g_string_free(text, TRUE);
	}

	/* a megabyte of unmatched "[" is one atom, parsed in linear time */
	{
		gsize n = 1024 * 1024;
		g_autofree gchar *flag = g_strnfill(n, '[');
		g_autofree gchar *text = g_strdup_printf("* FLAGS (a%s)\r\n", flag);
		g_autoptr(PrImapResponse) r = parse_one(text);
		g_auto(GStrv) flags = pr_imap_response_dup_flags(r);
		g_assert_cmpuint(g_strv_length(flags), ==, 1);
		g_assert_cmpuint(strlen(flags[0]), ==, n + 1);
	}
	/* depth: 64 lists parse, 65 do not */
	{
		GString *ok = g_string_new("* X ");
		GString *bad = g_string_new("* X ");
		g_autoptr(GPtrArray) rs = NULL;
		for (guint i = 0; i < 64; i++)
			g_string_append_c(ok, '(');
		for (guint i = 0; i < 64; i++)
			g_string_append_c(ok, ')');
		g_string_append(ok, "\r\n");
		for (guint i = 0; i < 65; i++)
			g_string_append_c(bad, '(');
		for (guint i = 0; i < 65; i++)
			g_string_append_c(bad, ')');
		g_string_append(bad, "\r\n");
		rs = parse_ok(ok->str);
		g_assert_cmpuint(rs->len, ==, 1);
		assert_protocol_error(bad->str);
		g_string_free(ok, TRUE);
		g_string_free(bad, TRUE);
	}
	/* item count */
	{
		g_autoptr(PrImapParser) parser = pr_imap_parser_new();
		g_autoptr(GError) error = NULL;
		PrImapParserLimits limits;
		const gchar *ten = "* SEARCH 1 2 3 4 5 6 7 8 9 10\r\n";
		const gchar *eleven = "* SEARCH 1 2 3 4 5 6 7 8 9 10 11\r\n";
		pr_imap_parser_get_limits(parser, &limits);
		g_assert_cmpuint(limits.max_items, ==, 1000000);
		limits.max_items = 10;
		pr_imap_parser_set_limits(parser, &limits);
		g_assert_true(
			pr_imap_parser_feed(parser, (const guint8 *)ten, strlen(ten), &error));
		g_assert_no_error(error);
		g_assert_false(pr_imap_parser_feed(
			parser, (const guint8 *)eleven, strlen(eleven), &error));
		g_assert_error(error, PR_ERROR, PR_ERROR_PROTOCOL_ERROR);
		/* the response completed before the error is still there */
		{
			g_autoptr(PrImapResponse) r = pr_imap_parser_pop(parser);
			g_assert_nonnull(r);
			g_assert_null(pr_imap_parser_pop(parser));
		}
	}
	/* max_literal applies to streamed literals as well */
	{
		g_autoptr(PrImapParser) parser = pr_imap_parser_new();
		g_autoptr(GError) error = NULL;
		PrImapParserLimits limits;
		SinkState st = { 0 };
		const gchar *text = "* 3 FETCH (BODY[] {101}\r\n";
		st.bytes = g_byte_array_new();
		pr_imap_parser_get_limits(parser, &limits);
		limits.max_literal = 100;
		limits.inline_threshold = 0;
		pr_imap_parser_set_limits(parser, &limits);
		pr_imap_parser_set_sink(parser, &test_sink, &st, NULL);
		g_assert_false(
			pr_imap_parser_feed(parser, (const guint8 *)text, strlen(text), &error));
		g_assert_error(error, PR_ERROR, PR_ERROR_PROTOCOL_ERROR);
		g_assert_cmpuint(st.n_begin, ==, 0);
		sink_state_clear(&st);
	}
}

/* Extensions ---------------------------------------------------------------------------- */

static void
test_parser_search(void)
{
	g_autoptr(GError) error = NULL;
	guint64 modseq = 1;

	{
		g_autoptr(PrImapResponse) r = parse_one("* SEARCH 2 84 882 (MODSEQ 917162500)\r\n");
		g_autoptr(GArray) n = pr_imap_response_parse_search(r, &modseq, &error);
		g_assert_no_error(error);
		g_assert_cmpuint(n->len, ==, 3);
		g_assert_cmpuint(g_array_index(n, guint32, 0), ==, 2);
		g_assert_cmpuint(g_array_index(n, guint32, 2), ==, 882);
		g_assert_cmpuint(modseq, ==, 917162500);
	}
	{
		g_autoptr(PrImapResponse) r = parse_one("* SEARCH\r\n");
		g_autoptr(GArray) n = pr_imap_response_parse_search(r, &modseq, &error);
		g_assert_no_error(error);
		g_assert_cmpuint(n->len, ==, 0);
		g_assert_cmpuint(modseq, ==, 0);
	}
	{
		g_autoptr(PrImapResponse) r = parse_one("* SEARCH 1 x\r\n");
		g_autoptr(GArray) n = pr_imap_response_parse_search(r, &modseq, &error);
		g_assert_error(error, PR_ERROR, PR_ERROR_PROTOCOL_ERROR);
		g_assert_null(n);
		g_clear_error(&error);
	}
	{
		g_autoptr(PrImapResponse) r = parse_one("* SEARCH 4294967296\r\n");
		g_autoptr(GArray) n = pr_imap_response_parse_search(r, &modseq, &error);
		g_assert_error(error, PR_ERROR, PR_ERROR_PROTOCOL_ERROR);
		g_assert_null(n);
		g_clear_error(&error);
	}
	{
		g_autoptr(PrImapResponse) r =
			parse_one("* ESEARCH (TAG \"A282\") UID MIN 2 COUNT 3 ALL 2,10:11\r\n");
		g_autoptr(PrImapEsearch) es = pr_imap_response_parse_esearch(r, &error);
		g_assert_no_error(error);
		g_assert_cmpstr(es->tag, ==, "A282");
		g_assert_true(es->uid);
		g_assert_true(es->has_min);
		g_assert_cmpuint(es->min, ==, 2);
		g_assert_false(es->has_max);
		g_assert_true(es->has_count);
		g_assert_cmpuint(es->count, ==, 3);
		g_assert_cmpstr(es->all, ==, "2,10:11");
		g_assert_false(es->has_modseq);
	}
	{
		g_autoptr(PrImapResponse) r =
			parse_one("* ESEARCH (TAG \"a5\") MAX 7 MODSEQ 1234567890123 ALL 1:7\r\n");
		g_autoptr(PrImapEsearch) es = pr_imap_response_parse_esearch(r, &error);
		g_assert_no_error(error);
		g_assert_false(es->uid);
		g_assert_cmpuint(es->max, ==, 7);
		g_assert_cmpuint(es->modseq, ==, G_GUINT64_CONSTANT(1234567890123));
	}
	{
		g_autoptr(PrImapResponse) r = parse_one("* ESEARCH UID COUNT 0\r\n");
		g_autoptr(PrImapEsearch) es = pr_imap_response_parse_esearch(r, &error);
		g_assert_no_error(error);
		g_assert_null(es->tag);
		g_assert_true(es->has_count);
		g_assert_cmpuint(es->count, ==, 0);
		g_assert_null(es->all);
	}
	{
		g_autoptr(PrImapResponse) r = parse_one("* ESEARCH (TAG \"x\") ALL 1:*\r\n");
		g_autoptr(PrImapEsearch) es = pr_imap_response_parse_esearch(r, &error);
		g_assert_error(error, PR_ERROR, PR_ERROR_PROTOCOL_ERROR);
		g_assert_null(es);
	}
}

static void
test_parser_uidplus(void)
{
	g_autoptr(GError) error = NULL;
	guint32 validity = 0;

	{
		g_autoptr(PrImapResponse) r =
			parse_one("A003 OK [APPENDUID 38505 3955] APPEND completed\r\n");
		g_autofree gchar *uids = NULL;
		g_assert_true(pr_imap_response_parse_appenduid(r, &validity, &uids, &error));
		g_assert_no_error(error);
		g_assert_cmpuint(validity, ==, 38505);
		g_assert_cmpstr(uids, ==, "3955");
	}
	{
		g_autoptr(PrImapResponse) r =
			parse_one("A004 OK [COPYUID 38505 304,319:320 3956:3958] Done\r\n");
		g_autofree gchar *src = NULL;
		g_autofree gchar *dst = NULL;
		g_assert_true(pr_imap_response_parse_copyuid(r, &validity, &src, &dst, &error));
		g_assert_no_error(error);
		g_assert_cmpuint(validity, ==, 38505);
		g_assert_cmpstr(src, ==, "304,319:320");
		g_assert_cmpstr(dst, ==, "3956:3958");
	}
	{
		const gchar *bad[] = {
			"A1 OK [APPENDUID 38505 *] x\r\n",
			"A1 OK [APPENDUID 38505 1:*] x\r\n",
			"A1 OK [APPENDUID 38505 0] x\r\n",
			"A1 OK [APPENDUID 38505 4294967296] x\r\n",
			"A1 OK [APPENDUID 38505 1,,2] x\r\n",
			"A1 OK [APPENDUID 38505 \"1\"] x\r\n",
			"A1 OK [APPENDUID 38505] x\r\n",
			"A1 OK [APPENDUID x 5] x\r\n",
			"A1 OK [APPENDUID 4294967296 5] x\r\n",
			"A1 OK done\r\n",
		};
		for (guint i = 0; i < G_N_ELEMENTS(bad); i++) {
			g_autoptr(PrImapResponse) r = parse_one(bad[i]);
			g_autofree gchar *uids = NULL;
			g_autoptr(GError) e = NULL;
			g_assert_false(pr_imap_response_parse_appenduid(r, &validity, &uids, &e));
			g_assert_error(e, PR_ERROR, PR_ERROR_PROTOCOL_ERROR);
			g_assert_null(uids);
		}
	}
	{
		const gchar *bad[] = {
			"A1 OK [COPYUID 1 1:3 5:6] sizes differ\r\n",
			"A1 OK [COPYUID 1 1:* 5:6] star\r\n",
			"A1 OK [COPYUID 1 1:3] missing\r\n",
		};
		for (guint i = 0; i < G_N_ELEMENTS(bad); i++) {
			g_autoptr(PrImapResponse) r = parse_one(bad[i]);
			g_autofree gchar *src = NULL;
			g_autofree gchar *dst = NULL;
			g_autoptr(GError) e = NULL;
			g_assert_false(
				pr_imap_response_parse_copyuid(r, &validity, &src, &dst, &e));
			g_assert_error(e, PR_ERROR, PR_ERROR_PROTOCOL_ERROR);
			g_assert_null(src);
			g_assert_null(dst);
		}
	}
}

static void
test_parser_continuation(void)
{
	g_autoptr(GPtrArray) rs = parse_ok(
		"+ YGgGCSqGSIb3EgECAgIBAAD/////6jcyG4GE3KkTzBeBiVHeceP2CWY0SR0fAQAgAAQEBAQ=\r\n"
		"+\r\n"
		"+ \r\n"
		"+ Ready for literal data\r\n"
		"+ [ALERT] idling\r\n");
	PrImapResponse *r = g_ptr_array_index(rs, 0);

	g_assert_cmpuint(rs->len, ==, 5);
	g_assert_cmpint(pr_imap_response_get_kind(r), ==, PR_IMAP_RESPONSE_KIND_CONTINUATION);
	g_assert_null(pr_imap_response_get_keyword(r));
	g_assert_null(pr_imap_response_get_tag(r));
	g_assert_cmpstr(pr_imap_response_get_continuation(r),
			==,
			"YGgGCSqGSIb3EgECAgIBAAD/////6jcyG4GE3KkTzBeBiVHeceP2CWY0SR0fAQAgAAQEBAQ=");
	for (guint i = 1; i <= 2; i++) {
		r = g_ptr_array_index(rs, i);
		g_assert_cmpint(
			pr_imap_response_get_kind(r), ==, PR_IMAP_RESPONSE_KIND_CONTINUATION);
		g_assert_cmpstr(pr_imap_response_get_continuation(r), ==, "");
		g_assert_cmpstr(pr_imap_response_get_text(r), ==, "");
	}
	g_assert_cmpstr(
		pr_imap_response_get_text(g_ptr_array_index(rs, 3)), ==, "Ready for literal data");
	r = g_ptr_array_index(rs, 4);
	g_assert_cmpstr(pr_imap_response_get_code(r), ==, "ALERT");
	g_assert_cmpstr(pr_imap_response_get_text(r), ==, "idling");
	g_assert_cmpstr(pr_imap_response_get_continuation(r), ==, "[ALERT] idling");
}

static void
test_parser_hostile_names(void)
{
	static const gchar text[] = "* LIST () \"/\" \"../../etc\"\r\n"
				    "* LIST () \"/\" a/b/../../c\r\n"
				    "* LIST () \"/\" \"&AGE\"\r\n"
				    "* LIST () \"/\" {6}\r\nIN\0BOX\r\n"
				    "* LIST () \"/\" \"caf\xc3\xa9\"\r\n"
				    "* LIST () \"//\" x\r\n"
				    "* LIST () \"/\" (x)\r\n"
				    "* LIST () \"/\"\r\n"
				    "* LIST () \"/\" \"&ZeVnLIqe-\"\r\n"
				    "* LIST () \"/\" {3}\r\n\xff\xfe\xfd\r\n";
	g_autoptr(GPtrArray) rs = parse_ok_len(text, sizeof(text) - 1);
	g_autoptr(GError) error = NULL;

	g_assert_cmpuint(rs->len, ==, 10);
	/* legal names pass through untouched: path safety is the store's job */
	{
		g_autoptr(PrImapListEntry) e =
			pr_imap_response_parse_list(g_ptr_array_index(rs, 0), FALSE, &error);
		g_assert_no_error(error);
		g_assert_cmpstr(e->name, ==, "../../etc");
	}
	{
		g_autoptr(PrImapListEntry) e =
			pr_imap_response_parse_list(g_ptr_array_index(rs, 1), FALSE, &error);
		g_assert_no_error(error);
		g_assert_cmpstr(e->name, ==, "a/b/../../c");
		g_assert_cmpint(e->delimiter, ==, '/');
	}
	/* invalid modified UTF-7, NUL, 8-bit in a non-UTF8 session, bad delimiter, a list as
	 * name, a missing name: errors, no fallback */
	for (guint i = 2; i <= 7; i++) {
		g_autoptr(GError) e = NULL;
		g_autoptr(PrImapListEntry) entry =
			pr_imap_response_parse_list(g_ptr_array_index(rs, i), FALSE, &e);
		g_assert_error(e, PR_ERROR, PR_ERROR_PROTOCOL_ERROR);
		g_assert_null(entry);
	}
	{
		g_autoptr(PrImapListEntry) e =
			pr_imap_response_parse_list(g_ptr_array_index(rs, 8), FALSE, &error);
		g_assert_no_error(error);
		g_assert_cmpstr(e->name, ==, "\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e");
		g_assert_cmpstr(e->raw_name, ==, "&ZeVnLIqe-");
	}
	/* UTF8=ACCEPT: raw UTF-8 accepted, invalid UTF-8 refused */
	{
		g_autoptr(PrImapListEntry) e =
			pr_imap_response_parse_list(g_ptr_array_index(rs, 4), TRUE, &error);
		g_assert_no_error(error);
		g_assert_cmpstr(e->name, ==, "caf\xc3\xa9");
	}
	{
		g_autoptr(GError) e = NULL;
		g_autoptr(PrImapListEntry) entry =
			pr_imap_response_parse_list(g_ptr_array_index(rs, 9), TRUE, &e);
		g_assert_error(e, PR_ERROR, PR_ERROR_PROTOCOL_ERROR);
		g_assert_null(entry);
	}
}

static void
test_parser_status_namespace_id(void)
{
	g_autoptr(GError) error = NULL;

	{
		g_autoptr(PrImapResponse) r =
			parse_one("* STATUS \"Sent &AMQ-\" (MESSAGES 231 UIDNEXT 44292 UIDVALIDITY "
				  "1 UNSEEN 0 RECENT 2 HIGHESTMODSEQ 7011231777 SIZE 123456789012 "
				  "DELETED 3)\r\n");
		g_autoptr(PrImapStatusInfo) st = pr_imap_response_parse_status(r, FALSE, &error);
		g_assert_no_error(error);
		g_assert_cmpstr(st->name, ==, "Sent \xc3\x84");
		g_assert_true(st->has_messages);
		g_assert_cmpuint(st->messages, ==, 231);
		g_assert_cmpuint(st->uidnext, ==, 44292);
		g_assert_cmpuint(st->uidvalidity, ==, 1);
		g_assert_true(st->has_unseen);
		g_assert_cmpuint(st->unseen, ==, 0);
		g_assert_cmpuint(st->recent, ==, 2);
		g_assert_true(st->has_highestmodseq);
		g_assert_cmpuint(st->highestmodseq, ==, G_GUINT64_CONSTANT(7011231777));
		g_assert_true(st->has_size);
		g_assert_cmpuint(st->size, ==, G_GUINT64_CONSTANT(123456789012));
	}
	{
		g_autoptr(PrImapResponse) r = parse_one("* STATUS INBOX (MESSAGES 1)\r\n");
		g_autoptr(PrImapStatusInfo) st = pr_imap_response_parse_status(r, FALSE, &error);
		g_assert_no_error(error);
		g_assert_cmpstr(st->name, ==, "INBOX");
		g_assert_false(st->has_uidnext);
		g_assert_false(st->has_size);
	}
	{
		g_autoptr(PrImapResponse) r = parse_one("* STATUS INBOX (MESSAGES 4294967296)\r\n");
		g_autoptr(PrImapStatusInfo) st = pr_imap_response_parse_status(r, FALSE, &error);
		g_assert_error(error, PR_ERROR, PR_ERROR_PROTOCOL_ERROR);
		g_assert_null(st);
		g_clear_error(&error);
	}
	{
		g_autoptr(PrImapResponse) r =
			parse_one("* NAMESPACE ((\"\" \"/\")) ((\"Other Users/\" \"/\")) "
				  "((\"#shared/\" \"/\" "
				  "\"X-PARAM\" (\"FLAG1\"))(\"Sha&AOk-\" NIL))\r\n");
		g_autoptr(PrImapNamespaces) ns = pr_imap_response_parse_namespace(r, FALSE, &error);
		PrImapNamespace *n;
		g_assert_no_error(error);
		g_assert_cmpuint(ns->personal->len, ==, 1);
		n = g_ptr_array_index(ns->personal, 0);
		g_assert_cmpstr(n->prefix, ==, "");
		g_assert_cmpint(n->delimiter, ==, '/');
		n = g_ptr_array_index(ns->other, 0);
		g_assert_cmpstr(n->prefix, ==, "Other Users/");
		g_assert_cmpuint(ns->shared->len, ==, 2);
		n = g_ptr_array_index(ns->shared, 1);
		g_assert_cmpstr(n->prefix, ==, "Sha\xc3\xa9");
		g_assert_cmpstr(n->raw_prefix, ==, "Sha&AOk-");
		g_assert_cmpint(n->delimiter, ==, 0);
	}
	{
		g_autoptr(PrImapResponse) r =
			parse_one("* NAMESPACE ((\"INBOX.\" \".\")) NIL NIL\r\n");
		g_autoptr(PrImapNamespaces) ns = pr_imap_response_parse_namespace(r, FALSE, &error);
		g_assert_no_error(error);
		g_assert_cmpuint(ns->personal->len, ==, 1);
		g_assert_cmpuint(ns->other->len, ==, 0);
		g_assert_cmpuint(ns->shared->len, ==, 0);
	}
	{
		g_autoptr(PrImapResponse) r = parse_one("* NAMESPACE NIL NIL\r\n");
		g_autoptr(PrImapNamespaces) ns = pr_imap_response_parse_namespace(r, FALSE, &error);
		g_assert_error(error, PR_ERROR, PR_ERROR_PROTOCOL_ERROR);
		g_assert_null(ns);
		g_clear_error(&error);
	}
	{
		g_autoptr(PrImapResponse) r = parse_one(
			"* ID (\"name\" \"Dovecot\" \"Version\" \"2.3.19\" \"x\" NIL)\r\n");
		g_autoptr(GHashTable) id = pr_imap_response_parse_id(r, &error);
		g_assert_no_error(error);
		g_assert_cmpuint(g_hash_table_size(id), ==, 3);
		g_assert_cmpstr(g_hash_table_lookup(id, "name"), ==, "Dovecot");
		g_assert_cmpstr(g_hash_table_lookup(id, "version"), ==, "2.3.19");
		g_assert_true(g_hash_table_contains(id, "x"));
		g_assert_null(g_hash_table_lookup(id, "x"));
	}
	{
		g_autoptr(PrImapResponse) r = parse_one("* ID NIL\r\n");
		g_autoptr(GHashTable) id = pr_imap_response_parse_id(r, &error);
		g_assert_no_error(error);
		g_assert_cmpuint(g_hash_table_size(id), ==, 0);
	}
	{
		g_autoptr(PrImapResponse) r = parse_one("* ENABLED CONDSTORE qresync\r\n");
		g_auto(GStrv) en = pr_imap_response_dup_enabled(r);
		const gchar *want[] = { "CONDSTORE", "QRESYNC", NULL };
		assert_strv(en, want);
		g_assert_null(pr_imap_response_dup_flags(r));
	}
	{
		g_autoptr(PrImapResponse) r = parse_one("* ENABLED\r\n");
		g_auto(GStrv) en = pr_imap_response_dup_enabled(r);
		g_assert_nonnull(en);
		g_assert_cmpuint(g_strv_length(en), ==, 0);
	}
}

static void
test_parser_values(void)
{
	g_autoptr(PrImapResponse) r = parse_one(
		"* X-FOO nil NIL 007 \"q\\\\\\\"\" (a (b \"\") ()) \\* atom]x \"\xc3\xa9\"\r\n");
	const PrImapValue *data = pr_imap_response_get_data(r);
	const PrImapValue *v;
	g_autofree gchar *str = pr_imap_response_to_string(r);
	guint64 n = 0;
	gsize len = 0;

	g_assert_cmpstr(pr_imap_response_get_keyword(r), ==, "X-FOO");
	g_assert_null(pr_imap_response_get_text(r));
	g_assert_cmpuint(pr_imap_value_get_n_children(data), ==, 8);
	g_assert_cmpint(
		pr_imap_value_get_kind(pr_imap_value_get_child(data, 0)), ==, PR_IMAP_VALUE_NIL);
	g_assert_null(pr_imap_value_get_string(pr_imap_value_get_child(data, 0), NULL));
	g_assert_cmpint(
		pr_imap_value_get_kind(pr_imap_value_get_child(data, 1)), ==, PR_IMAP_VALUE_NIL);
	v = pr_imap_value_get_child(data, 2);
	g_assert_cmpint(pr_imap_value_get_kind(v), ==, PR_IMAP_VALUE_NUMBER);
	g_assert_cmpstr(pr_imap_value_get_string(v, &len), ==, "007");
	g_assert_cmpuint(len, ==, 3);
	g_assert_true(pr_imap_value_get_number(v, &n));
	g_assert_cmpuint(n, ==, 7);
	v = pr_imap_value_get_child(data, 3);
	g_assert_cmpstr(value_str(v), ==, "q\\\"");
	g_assert_false(pr_imap_value_is_literal(v));
	g_assert_false(pr_imap_value_get_number(v, &n));
	v = pr_imap_value_get_child(data, 4);
	g_assert_cmpuint(pr_imap_value_get_n_children(v), ==, 3);
	g_assert_cmpuint(pr_imap_value_get_n_children(pr_imap_value_get_child(v, 1)), ==, 2);
	g_assert_cmpuint(pr_imap_value_get_n_children(pr_imap_value_get_child(v, 2)), ==, 0);
	g_assert_null(pr_imap_value_get_child(v, 3));
	g_assert_true(pr_imap_value_equal_atom(pr_imap_value_get_child(data, 5), "\\*"));
	g_assert_cmpstr(value_str(pr_imap_value_get_child(data, 6)), ==, "atom]x");
	g_assert_cmpstr(value_str(pr_imap_value_get_child(data, 7)), ==, "\xc3\xa9");
	g_assert_cmpstr(
		str,
		==,
		"* X-FOO NIL NIL 007 \"q\\\\\\\"\" (a (b \"\") ()) \\* atom]x \"\xc3\xa9\"");

	/* a quoted number converts, an atom of digits is a NUMBER */
	{
		g_autoptr(PrImapResponse) r2 = parse_one("* X \"42\" 18446744073709551615x\r\n");
		const PrImapValue *d2 = pr_imap_response_get_data(r2);
		g_assert_true(pr_imap_value_get_number(pr_imap_value_get_child(d2, 0), &n));
		g_assert_cmpuint(n, ==, 42);
		g_assert_false(pr_imap_value_get_number(pr_imap_value_get_child(d2, 1), &n));
	}
}

static void
test_parser_to_string(void)
{
	g_autoptr(GPtrArray) rs = parse_ok(FETCH_ENVELOPE "A1 NO [ALERT] nope\r\n"
							  "* 4 EXPUNGE\r\n"
							  "+ abc\r\n");
	g_autofree gchar *s1 = pr_imap_response_to_string(g_ptr_array_index(rs, 1));
	g_autofree gchar *s2 = pr_imap_response_to_string(g_ptr_array_index(rs, 2));
	g_autofree gchar *s3 = pr_imap_response_to_string(g_ptr_array_index(rs, 3));
	g_autofree gchar *s0 = pr_imap_response_to_string(g_ptr_array_index(rs, 0));
	g_autofree gchar *raw = g_strndup(FETCH_ENVELOPE, strlen(FETCH_ENVELOPE) - 2);
	g_auto(GStrv) parts = g_strsplit(raw, ")(", -1);
	g_autofree gchar *expected = g_strjoinv(") (", parts);

	g_assert_cmpstr(s1, ==, "A1 NO [ALERT] nope");
	g_assert_cmpstr(s2, ==, "* 4 EXPUNGE");
	g_assert_cmpstr(s3, ==, "+ abc");
	/* the rendering is the IMAP syntax it came from, modulo spacing */
	g_assert_cmpstr(s0, ==, expected);
}

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/imap/parser/dovecot-greeting", test_parser_dovecot_greeting);
	g_test_add_func("/imap/parser/login-capability", test_parser_login_capability);
	g_test_add_func("/imap/parser/list-dovecot", test_parser_list_dovecot);
	g_test_add_func("/imap/parser/select-qresync", test_parser_select_qresync);
	g_test_add_func("/imap/parser/fetch-envelope", test_parser_fetch_envelope);
	g_test_add_func("/imap/parser/bodystructure-attachments",
			test_parser_bodystructure_attachments);
	g_test_add_func("/imap/parser/rfc2047", test_parser_rfc2047);
	g_test_add_func("/imap/parser/dates", test_parser_dates);
	g_test_add_func("/imap/parser/quirk-gmail-flags", test_parser_quirk_gmail_flags);
	g_test_add_func("/imap/parser/quirk-icloud-exchange", test_parser_quirk_icloud_exchange);
	g_test_add_func("/imap/parser/status-text", test_parser_status_text);
	g_test_add_func("/imap/parser/section-atoms", test_parser_section_atoms);
	g_test_add_func("/imap/parser/split-feeding", test_parser_split_feeding);
	g_test_add_func("/imap/parser/literal-streaming", test_parser_literal_streaming);
	g_test_add_func("/imap/parser/literal-sink-paths", test_parser_literal_sink_paths);
	g_test_add_func("/imap/parser/bounds", test_parser_bounds);
	g_test_add_func("/imap/parser/search", test_parser_search);
	g_test_add_func("/imap/parser/uidplus", test_parser_uidplus);
	g_test_add_func("/imap/parser/continuation", test_parser_continuation);
	g_test_add_func("/imap/parser/hostile-names", test_parser_hostile_names);
	g_test_add_func("/imap/parser/status-namespace-id", test_parser_status_namespace_id);
	g_test_add_func("/imap/parser/values", test_parser_values);
	g_test_add_func("/imap/parser/to-string", test_parser_to_string);
	return g_test_run();
}
