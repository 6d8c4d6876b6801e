/*
 * Copyright 2026 The Postroom developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <glib-object.h>

G_BEGIN_DECLS

#define PR_TYPE_IMAP_COMMAND (pr_imap_command_get_type())
G_DECLARE_FINAL_TYPE(PrImapCommand, pr_imap_command, PR, IMAP_COMMAND, GObject)

/* How literals are sent: which the server allows is in its capabilities. */
typedef enum {
	PR_IMAP_LITERAL_SYNC,  /* {n}: wait for "+" before the bytes */
	PR_IMAP_LITERAL_PLUS,  /* LITERAL+: {n+} of any size */
	PR_IMAP_LITERAL_MINUS, /* LITERAL-: {n+} up to 4096 bytes, larger ones synchronising */
} PrImapLiteralMode;

/* @name is the command verb(s), e.g. "UID FETCH"; the tag is added when serialising. */
PrImapCommand *pr_imap_command_new(const gchar *name);
const gchar *pr_imap_command_get_name(PrImapCommand *self);
void pr_imap_command_set_literal_mode(PrImapCommand *self, PrImapLiteralMode mode);
/* UTF8=ACCEPT enabled: mailbox names go as UTF-8 quoted strings, not modified UTF-7. */
void pr_imap_command_set_utf8(PrImapCommand *self, gboolean utf8);
/* Arguments hold a credential: logs show "<hidden>" in their place. */
void pr_imap_command_set_sensitive(PrImapCommand *self, gboolean sensitive);
gboolean pr_imap_command_get_sensitive(PrImapCommand *self);

/* Appends a space then @token verbatim (must be a valid atom, number, list, ...). */
void pr_imap_command_add_atom(PrImapCommand *self, const gchar *token);
void pr_imap_command_add_printf(PrImapCommand *self, const gchar *format, ...) G_GNUC_PRINTF(2, 3);
void pr_imap_command_add_number(PrImapCommand *self, guint64 number);
/* An astring: atom when it may be one, else quoted, else a literal (CR, LF, NUL, 8-bit,
 * or longer than 1 KiB). */
void pr_imap_command_add_string(PrImapCommand *self, const gchar *str, gssize len);
/* A mailbox name given in UTF-8 (encoded to modified UTF-7 unless UTF-8 mode); "INBOX"
 * in any case is sent as INBOX. FALSE when @utf8_name is not valid UTF-8. */
gboolean pr_imap_command_add_mailbox(PrImapCommand *self, const gchar *utf8_name, GError **error);
/* Always a literal (APPEND message data). */
void pr_imap_command_add_literal(PrImapCommand *self, GBytes *bytes);
/* A compact sequence set of @uids (any order, duplicates allowed). */
void pr_imap_command_add_uid_set(PrImapCommand *self, const guint32 *uids, gsize n);

/*
 * The bytes to send for @tag, as pieces: after each piece but the last the sender must
 * wait for a continuation request ("+") from the server. The last piece ends in CRLF.
 */
GPtrArray *pr_imap_command_serialize(PrImapCommand *self, const gchar *tag);
/* For logs: the command line with sensitive arguments and literal contents hidden. */
gchar *pr_imap_command_to_log_string(PrImapCommand *self, const gchar *tag);

G_END_DECLS
