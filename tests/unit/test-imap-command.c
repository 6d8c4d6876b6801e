/*
 * Copyright 2026 The Postroom developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <glib-object.h>
#include <string.h>

#include "pr-error.h"
#include "pr-imap-command.h"

/* Compares piece @idx of @pieces with @len bytes of @expected, byte for byte. */
static void
assert_piece(GPtrArray *pieces, guint idx, const gchar *expected, gsize len)
{
	GBytes *piece;
	gsize piece_len = 0;
	const gchar *data;

	g_assert_cmpuint(idx, <, pieces->len);
	piece = g_ptr_array_index(pieces, idx);
	data = g_bytes_get_data(piece, &piece_len);
	if (piece_len != len || memcmp(data, expected, len) != 0) {
		g_autofree gchar *got = g_strndup(data, MIN(piece_len, 200));
		g_autofree gchar *want = g_strndup(expected, MIN(len, 200));
		g_test_message("piece %u: got %" G_GSIZE_FORMAT
			       " bytes \"%s\", want %" G_GSIZE_FORMAT " bytes \"%s\"",
			       idx,
			       piece_len,
			       got,
			       len,
			       want);
	}
	g_assert_cmpmem(data, piece_len, expected, len);
}

/* A command that serialises to one piece, given as a C string. */
static void
assert_single(PrImapCommand *cmd, const gchar *tag, const gchar *expected)
{
	g_autoptr(GPtrArray) pieces = pr_imap_command_serialize(cmd, tag);
	g_assert_cmpuint(pieces->len, ==, 1);
	assert_piece(pieces, 0, expected, strlen(expected));
}

/* One astring argument, as it goes on the wire (all pieces joined). */
static void
assert_string_arg(const gchar *str, gssize len, gboolean utf8, const gchar *expected)
{
	g_autoptr(PrImapCommand) cmd = pr_imap_command_new("X");
	g_autofree gchar *line = g_strdup_printf("t X %s\r\n", expected);
	g_autoptr(GPtrArray) pieces = NULL;
	g_autoptr(GByteArray) all = g_byte_array_new();

	pr_imap_command_set_utf8(cmd, utf8);
	pr_imap_command_add_string(cmd, str, len);
	pieces = pr_imap_command_serialize(cmd, "t");
	for (guint i = 0; i < pieces->len; i++) {
		gsize n = 0;
		const guint8 *data = g_bytes_get_data(g_ptr_array_index(pieces, i), &n);
		g_byte_array_append(all, data, (guint)n);
	}
	/* a synchronising literal, and only that, splits the command */
	g_assert_cmpuint(pieces->len, ==, strstr(expected, "}\r\n") != NULL ? 2 : 1);
	g_assert_cmpmem(all->data, all->len, line, strlen(line));
}

static void
test_command_simple(void)
{
	g_autoptr(PrImapCommand) cmd = pr_imap_command_new("UID FETCH");
	g_autofree gchar *log = NULL;

	g_assert_cmpstr(pr_imap_command_get_name(cmd), ==, "UID FETCH");
	g_assert_false(pr_imap_command_get_sensitive(cmd));
	pr_imap_command_add_atom(cmd, "1:*");
	pr_imap_command_add_printf(cmd, "(UID FLAGS MODSEQ) (CHANGEDSINCE %u)", 12345u);
	assert_single(cmd, "A7", "A7 UID FETCH 1:* (UID FLAGS MODSEQ) (CHANGEDSINCE 12345)\r\n");
	log = pr_imap_command_to_log_string(cmd, "A7");
	g_assert_cmpstr(log, ==, "A7 UID FETCH 1:* (UID FLAGS MODSEQ) (CHANGEDSINCE 12345)");
}

static void
test_command_no_args(void)
{
	g_autoptr(PrImapCommand) cmd = pr_imap_command_new("CAPABILITY");
	g_autofree gchar *log = NULL;

	assert_single(cmd, "a0001", "a0001 CAPABILITY\r\n");
	log = pr_imap_command_to_log_string(cmd, "a0001");
	g_assert_cmpstr(log, ==, "a0001 CAPABILITY");
}

static void
test_command_number(void)
{
	g_autoptr(PrImapCommand) cmd = pr_imap_command_new("X");

	pr_imap_command_add_number(cmd, 0);
	pr_imap_command_add_number(cmd, G_MAXUINT32);
	pr_imap_command_add_number(cmd, G_MAXUINT64);
	assert_single(cmd, "t", "t X 0 4294967295 18446744073709551615\r\n");
}

static void
test_command_astring(void)
{
	/* atoms */
	assert_string_arg("joe", -1, FALSE, "joe");
	assert_string_arg("user@example.com", -1, FALSE, "user@example.com");
	assert_string_arg("a!#$&'+,-./:;<=>?@[^_`|}~", -1, FALSE, "a!#$&'+,-./:;<=>?@[^_`|}~");
	assert_string_arg("NILS", -1, FALSE, "NILS");
	/* NIL in any case must not be read as nil */
	assert_string_arg("NIL", -1, FALSE, "\"NIL\"");
	assert_string_arg("nil", -1, FALSE, "\"nil\"");
	assert_string_arg("NIL", 2, FALSE, "NI");
	/* empty */
	assert_string_arg("", -1, FALSE, "\"\"");
	assert_string_arg("abc", 0, FALSE, "\"\"");
	assert_string_arg(NULL, 0, FALSE, "\"\"");
	/* each atom-special forces quoting */
	assert_string_arg("a b", -1, FALSE, "\"a b\"");
	assert_string_arg("(", -1, FALSE, "\"(\"");
	assert_string_arg(")", -1, FALSE, "\")\"");
	assert_string_arg("{", -1, FALSE, "\"{\"");
	assert_string_arg("%", -1, FALSE, "\"%\"");
	assert_string_arg("*", -1, FALSE, "\"*\"");
	assert_string_arg("]", -1, FALSE, "\"]\"");
	assert_string_arg("\"", -1, FALSE, "\"\\\"\"");
	assert_string_arg("\\", -1, FALSE, "\"\\\\\"");
	assert_string_arg("a\"b\\c", -1, FALSE, "\"a\\\"b\\\\c\"");
	/* controls and 8-bit go as literals */
	assert_string_arg("a\r\nb", -1, FALSE, "{4}\r\na\r\nb");
	assert_string_arg("a\rb", -1, FALSE, "{3}\r\na\rb");
	assert_string_arg("a\nb", -1, FALSE, "{3}\r\na\nb");
	assert_string_arg("a\tb", -1, FALSE, "{3}\r\na\tb");
	assert_string_arg("a\177b", -1, FALSE, "{3}\r\na\177b");
	assert_string_arg("Entwürfe", -1, FALSE, "{9}\r\nEntwürfe");
	/* UTF8=ACCEPT: valid UTF-8 may be quoted, never an atom; invalid UTF-8 stays literal */
	assert_string_arg("Entwürfe", -1, TRUE, "\"Entwürfe\"");
	assert_string_arg("日本語 x", -1, TRUE, "\"日本語 x\"");
	assert_string_arg("Entw\374rfe", -1, TRUE, "{8}\r\nEntw\374rfe");
	assert_string_arg("ü\r\n", -1, TRUE, "{4}\r\nü\r\n");
	assert_string_arg("plain", -1, TRUE, "plain");
}

static void
test_command_astring_nul(void)
{
	g_autoptr(PrImapCommand) cmd = pr_imap_command_new("X");
	static const gchar expected[] = "t X {3+}\r\na\0b\r\n";
	g_autoptr(GPtrArray) pieces = NULL;

	pr_imap_command_set_literal_mode(cmd, PR_IMAP_LITERAL_PLUS);
	pr_imap_command_add_string(cmd, "a\0b", 3);
	pieces = pr_imap_command_serialize(cmd, "t");
	g_assert_cmpuint(pieces->len, ==, 1);
	assert_piece(pieces, 0, expected, sizeof(expected) - 1);
}

static void
test_command_astring_long(void)
{
	g_autofree gchar *max = g_strnfill(1024, 'x');
	g_autofree gchar *over = g_strnfill(1025, 'x');
	g_autofree gchar *max_q = g_strnfill(1024, ' ');
	g_autofree gchar *quoted = g_strdup_printf("\"%s\"", max_q);
	g_autofree gchar *literal = g_strdup_printf("{1025}\r\n%s", over);

	/* up to 1 KiB inline; longer strings, even atoms, go as literals (line limits) */
	assert_string_arg(max, -1, FALSE, max);
	assert_string_arg(max_q, -1, FALSE, quoted);
	assert_string_arg(over, -1, FALSE, literal);
	over[0] = ' ';
	literal[8] = ' ';
	assert_string_arg(over, -1, FALSE, literal);
}

static void
test_command_login(void)
{
	g_autoptr(PrImapCommand) cmd = pr_imap_command_new("LOGIN");
	g_autoptr(PrImapCommand) cmd8 = pr_imap_command_new("LOGIN");
	g_autoptr(PrImapCommand) cmd_ascii = pr_imap_command_new("LOGIN");
	g_autoptr(GPtrArray) pieces = NULL;
	g_autofree gchar *log = NULL;
	g_autofree gchar *log8 = NULL;
	const gchar *password = "p a\"ss\\wörd";

	/* 8-bit without UTF8=ACCEPT: a synchronising literal */
	pr_imap_command_set_sensitive(cmd, TRUE);
	pr_imap_command_add_string(cmd, "joe@example.com", -1);
	pr_imap_command_add_string(cmd, password, -1);
	g_assert_true(pr_imap_command_get_sensitive(cmd));
	pieces = pr_imap_command_serialize(cmd, "A1");
	g_assert_cmpuint(pieces->len, ==, 2);
	assert_piece(pieces, 0, "A1 LOGIN joe@example.com {12}\r\n", 31);
	assert_piece(pieces, 1, "p a\"ss\\wörd\r\n", 14);
	log = pr_imap_command_to_log_string(cmd, "A1");
	g_assert_cmpstr(log, ==, "A1 LOGIN <hidden> <hidden>");

	/* with UTF8=ACCEPT it is a quoted string; sensitivity set after the arguments */
	pr_imap_command_set_utf8(cmd8, TRUE);
	pr_imap_command_add_string(cmd8, "joe", -1);
	pr_imap_command_add_string(cmd8, password, -1);
	pr_imap_command_set_sensitive(cmd8, TRUE);
	assert_single(cmd8, "A2", "A2 LOGIN joe \"p a\\\"ss\\\\wörd\"\r\n");
	log8 = pr_imap_command_to_log_string(cmd8, "A2");
	g_assert_cmpstr(log8, ==, "A2 LOGIN <hidden> <hidden>");
	g_assert_null(strstr(log8, "ss"));

	pr_imap_command_add_string(cmd_ascii, "joe", -1);
	pr_imap_command_add_string(cmd_ascii, "p a\"ss", -1);
	assert_single(cmd_ascii, "A3", "A3 LOGIN joe \"p a\\\"ss\"\r\n");
}

static void
test_command_sensitive_literal(void)
{
	g_autoptr(PrImapCommand) cmd = pr_imap_command_new("LOGIN");
	g_autofree gchar *log = NULL;

	pr_imap_command_set_sensitive(cmd, TRUE);
	pr_imap_command_add_string(cmd, "joe", -1);
	pr_imap_command_add_string(cmd, "secret\r\n", -1);
	log = pr_imap_command_to_log_string(cmd, "A1");
	/* not even the length of a secret literal is shown */
	g_assert_cmpstr(log, ==, "A1 LOGIN <hidden> <hidden>");
}

static void
test_command_mailbox(void)
{
	const struct {
		const gchar *name;
		gboolean utf8;
		const gchar *expected;
	} cases[] = {
		{ "Entwürfe", FALSE, "t SELECT Entw&APw-rfe\r\n" },
		{ "Entwürfe", TRUE, "t SELECT \"Entwürfe\"\r\n" },
		{ "INBOX", FALSE, "t SELECT INBOX\r\n" },
		{ "inbox", FALSE, "t SELECT INBOX\r\n" },
		{ "InBoX", TRUE, "t SELECT INBOX\r\n" },
		{ "INBOX/Sub", FALSE, "t SELECT INBOX/Sub\r\n" },
		{ "inbox.sub", FALSE, "t SELECT inbox.sub\r\n" },
		{ "a&b", FALSE, "t SELECT a&-b\r\n" },
		{ "a&b", TRUE, "t SELECT a&b\r\n" },
		{ "Sent Items", FALSE, "t SELECT \"Sent Items\"\r\n" },
		{ "日本語", FALSE, "t SELECT &ZeVnLIqe-\r\n" },
		{ "📁 Archive", FALSE, "t SELECT \"&2D3cwQ- Archive\"\r\n" },
		{ "~peter/mail/台北/日本語",
		  FALSE,
		  "t SELECT ~peter/mail/&U,BTFw-/&ZeVnLIqe-\r\n" },
		{ "%", FALSE, "t SELECT \"%\"\r\n" },
		{ "NIL", FALSE, "t SELECT \"NIL\"\r\n" },
		{ "", FALSE, "t SELECT \"\"\r\n" },
		{ "", TRUE, "t SELECT \"\"\r\n" },
	};

	for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
		g_autoptr(PrImapCommand) cmd = pr_imap_command_new("SELECT");
		g_autoptr(GError) error = NULL;

		pr_imap_command_set_utf8(cmd, cases[i].utf8);
		g_assert_true(pr_imap_command_add_mailbox(cmd, cases[i].name, &error));
		g_assert_no_error(error);
		assert_single(cmd, "t", cases[i].expected);
	}
}

static void
test_command_mailbox_invalid(void)
{
	g_autoptr(PrImapCommand) cmd = pr_imap_command_new("SELECT");
	g_autoptr(GError) error = NULL;
	g_autoptr(GError) error_long = NULL;
	g_autofree gchar *huge = g_strnfill(64 * 1024 + 1, 'a');

	g_assert_false(pr_imap_command_add_mailbox(cmd, "Entw\374rfe", &error));
	g_assert_error(error, PR_ERROR, PR_ERROR_INVALID_ARGUMENT);
	g_assert_false(pr_imap_command_add_mailbox(cmd, huge, &error_long));
	g_assert_error(error_long, PR_ERROR, PR_ERROR_INVALID_ARGUMENT);
	/* nothing was added */
	assert_single(cmd, "t", "t SELECT\r\n");
}

/* A mailbox set before UTF-8 mode is switched on is rendered with the final mode. */
static void
test_command_mode_late(void)
{
	g_autoptr(PrImapCommand) cmd = pr_imap_command_new("SELECT");
	g_autoptr(GError) error = NULL;

	g_assert_true(pr_imap_command_add_mailbox(cmd, "Entwürfe", &error));
	g_assert_no_error(error);
	assert_single(cmd, "t", "t SELECT Entw&APw-rfe\r\n");
	pr_imap_command_set_utf8(cmd, TRUE);
	assert_single(cmd, "t", "t SELECT \"Entwürfe\"\r\n");
}

static GBytes *
make_message(gsize len)
{
	guint8 *data = g_malloc(len);
	for (gsize i = 0; i < len; i++)
		data[i] = (guint8)('a' + i % 26);
	return g_bytes_new_take(data, len);
}

static PrImapCommand *
make_append(PrImapLiteralMode mode, GBytes *message)
{
	PrImapCommand *cmd = pr_imap_command_new("APPEND");
	g_autoptr(GError) error = NULL;

	pr_imap_command_set_literal_mode(cmd, mode);
	g_assert_true(pr_imap_command_add_mailbox(cmd, "Entwürfe", &error));
	g_assert_no_error(error);
	pr_imap_command_add_atom(cmd, "(\\Seen)");
	pr_imap_command_add_literal(cmd, message);
	return cmd;
}

/* Checks an APPEND of @len bytes: either "{n}" and a wait, or "{n+}" in one piece. */
static void
assert_append(PrImapLiteralMode mode, gsize len, gboolean expect_sync)
{
	g_autoptr(GBytes) message = make_message(len);
	g_autoptr(PrImapCommand) cmd = make_append(mode, message);
	g_autoptr(GPtrArray) pieces = pr_imap_command_serialize(cmd, "A5");
	g_autoptr(GByteArray) tail = g_byte_array_new();
	g_autofree gchar *head = NULL;
	g_autofree gchar *log = NULL;
	g_autofree gchar *expected_log = NULL;

	g_byte_array_append(tail, g_bytes_get_data(message, NULL), (guint)len);
	g_byte_array_append(tail, (const guint8 *)"\r\n", 2);
	if (expect_sync) {
		head = g_strdup_printf("A5 APPEND Entw&APw-rfe (\\Seen) {%" G_GSIZE_FORMAT "}\r\n",
				       len);
		g_assert_cmpuint(pieces->len, ==, 2);
		assert_piece(pieces, 0, head, strlen(head));
		assert_piece(pieces, 1, (const gchar *)tail->data, tail->len);
	} else {
		g_autoptr(GByteArray) all = g_byte_array_new();
		head = g_strdup_printf("A5 APPEND Entw&APw-rfe (\\Seen) {%" G_GSIZE_FORMAT "+}\r\n",
				       len);
		g_byte_array_append(all, (const guint8 *)head, (guint)strlen(head));
		g_byte_array_append(all, tail->data, tail->len);
		g_assert_cmpuint(pieces->len, ==, 1);
		assert_piece(pieces, 0, (const gchar *)all->data, all->len);
	}
	log = pr_imap_command_to_log_string(cmd, "A5");
	expected_log =
		g_strdup_printf("A5 APPEND Entw&APw-rfe (\\Seen) {%" G_GSIZE_FORMAT " bytes}", len);
	g_assert_cmpstr(log, ==, expected_log);
}

static void
test_command_append(void)
{
	assert_append(PR_IMAP_LITERAL_SYNC, 5000, TRUE);
	assert_append(PR_IMAP_LITERAL_PLUS, 5000, FALSE);
	assert_append(PR_IMAP_LITERAL_MINUS, 5000, TRUE);
}

static void
test_command_literal_minus(void)
{
	assert_append(PR_IMAP_LITERAL_MINUS, 4096, FALSE);
	assert_append(PR_IMAP_LITERAL_MINUS, 4097, TRUE);
	assert_append(PR_IMAP_LITERAL_MINUS, 1, FALSE);
	assert_append(PR_IMAP_LITERAL_PLUS, 4097, FALSE);
	assert_append(PR_IMAP_LITERAL_SYNC, 1, TRUE);
}

static void
test_command_literal_empty(void)
{
	g_autoptr(GBytes) empty = g_bytes_new(NULL, 0);
	g_autoptr(PrImapCommand) cmd = pr_imap_command_new("APPEND");
	g_autoptr(GPtrArray) pieces = NULL;

	pr_imap_command_add_atom(cmd, "INBOX");
	pr_imap_command_add_literal(cmd, empty);
	pieces = pr_imap_command_serialize(cmd, "t");
	g_assert_cmpuint(pieces->len, ==, 2);
	assert_piece(pieces, 0, "t APPEND INBOX {0}\r\n", 20);
	assert_piece(pieces, 1, "\r\n", 2);
}

/* Each synchronising literal starts a new piece; non-synchronising ones do not. */
static void
test_command_multiple_literals(void)
{
	g_autoptr(PrImapCommand) cmd = pr_imap_command_new("LOGIN");
	g_autoptr(PrImapCommand) plus = pr_imap_command_new("LOGIN");
	g_autoptr(GPtrArray) pieces = NULL;

	pr_imap_command_add_string(cmd, "jö", -1);
	pr_imap_command_add_string(cmd, "pä\nss", -1);
	pieces = pr_imap_command_serialize(cmd, "A9");
	g_assert_cmpuint(pieces->len, ==, 3);
	assert_piece(pieces, 0, "A9 LOGIN {3}\r\n", 14);
	assert_piece(pieces, 1, "jö {6}\r\n", 9);
	assert_piece(pieces, 2, "pä\nss\r\n", 8);

	pr_imap_command_add_string(plus, "jö", -1);
	pr_imap_command_add_string(plus, "pä\nss", -1);
	pr_imap_command_set_literal_mode(plus, PR_IMAP_LITERAL_MINUS);
	assert_single(plus, "A9", "A9 LOGIN {3+}\r\njö {6+}\r\npä\nss\r\n");
}

static void
test_command_uid_set(void)
{
	g_autoptr(PrImapCommand) cmd = pr_imap_command_new("UID STORE");
	const guint32 uids[] = { 9, 1, 2, 3, 12, 11, 10, 5, 4, 7, 7 };
	g_autofree gchar *log = NULL;

	pr_imap_command_add_uid_set(cmd, uids, G_N_ELEMENTS(uids));
	pr_imap_command_add_atom(cmd, "+FLAGS.SILENT");
	pr_imap_command_add_atom(cmd, "(\\Deleted)");
	assert_single(cmd, "A4", "A4 UID STORE 1:5,7,9:12 +FLAGS.SILENT (\\Deleted)\r\n");
	log = pr_imap_command_to_log_string(cmd, "A4");
	g_assert_cmpstr(log, ==, "A4 UID STORE 1:5,7,9:12 +FLAGS.SILENT (\\Deleted)");
}

/* A verbatim token cannot smuggle a line break onto the wire or into a log line. */
static void
test_command_injection(void)
{
	g_autoptr(PrImapCommand) cmd = pr_imap_command_new("NOOP");
	g_autofree gchar *log = NULL;

	g_test_expect_message("PrImap", G_LOG_LEVEL_CRITICAL, "*strpbrk*");
	pr_imap_command_add_atom(cmd, "x\r\nA2 DELETE INBOX");
	g_test_assert_expected_messages();
	pr_imap_command_add_atom(cmd, "a\tb");
	assert_single(cmd, "A1", "A1 NOOP a\tb\r\n");
	log = pr_imap_command_to_log_string(cmd, "A1");
	g_assert_cmpstr(log, ==, "A1 NOOP a?b");
}

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/imap/command/simple", test_command_simple);
	g_test_add_func("/imap/command/no-args", test_command_no_args);
	g_test_add_func("/imap/command/number", test_command_number);
	g_test_add_func("/imap/command/astring", test_command_astring);
	g_test_add_func("/imap/command/astring-nul", test_command_astring_nul);
	g_test_add_func("/imap/command/astring-long", test_command_astring_long);
	g_test_add_func("/imap/command/login", test_command_login);
	g_test_add_func("/imap/command/sensitive-literal", test_command_sensitive_literal);
	g_test_add_func("/imap/command/mailbox", test_command_mailbox);
	g_test_add_func("/imap/command/mailbox-invalid", test_command_mailbox_invalid);
	g_test_add_func("/imap/command/mode-late", test_command_mode_late);
	g_test_add_func("/imap/command/append", test_command_append);
	g_test_add_func("/imap/command/literal-minus", test_command_literal_minus);
	g_test_add_func("/imap/command/literal-empty", test_command_literal_empty);
	g_test_add_func("/imap/command/multiple-literals", test_command_multiple_literals);
	g_test_add_func("/imap/command/uid-set", test_command_uid_set);
	g_test_add_func("/imap/command/injection", test_command_injection);
	return g_test_run();
}
