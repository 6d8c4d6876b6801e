/*
 * Copyright 2026 The Postroom developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Arguments are kept as given and rendered only when serialising, so the literal mode and
 * UTF-8 mode may be set before or after the arguments are added.
 *
 * A NUL byte is sent unchanged inside a literal; RFC 3501 forbids that and only BINARY's
 * literal8 ("~{n}") allows it, which we do not support yet: APPEND data with NULs has to
 * be rejected or re-encoded by the caller.
 */
#define G_LOG_DOMAIN "PrImap"

#include <string.h>

#include "pr-error.h"
#include "pr-imap-command.h"
#include "pr-imap-seqset.h"
#include "pr-imap-utf7.h"

/* RFC 7888: LITERAL- allows non-synchronising literals of up to 4096 bytes. */
#define PR_IMAP_LITERAL_MINUS_MAX 4096
/* Longer strings go as literals: some servers limit quoted strings. */
#define PR_IMAP_QUOTED_MAX 1024
/* The modified UTF-7 encoder's bound. */
#define PR_IMAP_MAILBOX_MAX (64 * 1024)

typedef enum {
	PR_IMAP_ARG_RAW,     /* verbatim: atom, number, list, sequence set */
	PR_IMAP_ARG_STRING,  /* astring: atom, quoted or literal */
	PR_IMAP_ARG_MAILBOX, /* UTF-8 name: INBOX, modified UTF-7 or UTF-8 astring */
	PR_IMAP_ARG_LITERAL, /* always a literal */
} PrImapArgKind;

typedef struct {
	PrImapArgKind kind;
	GBytes *data;
} PrImapArg;

struct _PrImapCommand {
	GObject parent_instance;
	gchar *name;
	GPtrArray *args; /* of PrImapArg */
	PrImapLiteralMode literal_mode;
	gboolean utf8;
	gboolean sensitive;
};

G_DEFINE_TYPE(PrImapCommand, pr_imap_command, G_TYPE_OBJECT)

/* GBytes cannot be wiped through its API, so arguments own a private copy that is wiped
 * before it is freed: a password must not linger in freed heap memory. */
typedef struct {
	gsize len;
	gchar data[];
} PrImapArgBuffer;

static void
pr_imap_arg_buffer_wipe_free(gpointer data)
{
	PrImapArgBuffer *buf = data;
	explicit_bzero(buf->data, buf->len);
	g_free(buf);
}

static void
pr_imap_arg_free(PrImapArg *arg)
{
	g_bytes_unref(arg->data);
	g_free(arg);
}

static void
pr_imap_command_add_arg(PrImapCommand *self, PrImapArgKind kind, GBytes *data)
{
	PrImapArg *arg = g_new0(PrImapArg, 1);
	arg->kind = kind;
	arg->data = data;
	g_ptr_array_add(self->args, arg);
}

/* Copies @len bytes (plus a NUL so the copy is usable as a C string). */
static GBytes *
pr_imap_command_copy_bytes(const gchar *str, gsize len)
{
	PrImapArgBuffer *buf = g_malloc(sizeof(PrImapArgBuffer) + len + 1);
	buf->len = len + 1;
	if (len > 0)
		memcpy(buf->data, str, len);
	buf->data[len] = '\0';
	return g_bytes_new_with_free_func(buf->data, len, pr_imap_arg_buffer_wipe_free, buf);
}

static void
pr_imap_command_finalize(GObject *object)
{
	PrImapCommand *self = PR_IMAP_COMMAND(object);

	g_free(self->name);
	g_ptr_array_unref(self->args);
	G_OBJECT_CLASS(pr_imap_command_parent_class)->finalize(object);
}

static void
pr_imap_command_class_init(PrImapCommandClass *klass)
{
	GObjectClass *object_class = G_OBJECT_CLASS(klass);
	object_class->finalize = pr_imap_command_finalize;
}

static void
pr_imap_command_init(PrImapCommand *self)
{
	self->args = g_ptr_array_new_with_free_func((GDestroyNotify)pr_imap_arg_free);
	self->literal_mode = PR_IMAP_LITERAL_SYNC;
}

PrImapCommand *
pr_imap_command_new(const gchar *name)
{
	PrImapCommand *self;

	g_return_val_if_fail(name != NULL && name[0] != '\0', NULL);

	self = g_object_new(PR_TYPE_IMAP_COMMAND, NULL);
	self->name = g_strdup(name);
	return self;
}

const gchar *
pr_imap_command_get_name(PrImapCommand *self)
{
	g_return_val_if_fail(PR_IS_IMAP_COMMAND(self), NULL);
	return self->name;
}

void
pr_imap_command_set_literal_mode(PrImapCommand *self, PrImapLiteralMode mode)
{
	g_return_if_fail(PR_IS_IMAP_COMMAND(self));
	g_return_if_fail(mode <= PR_IMAP_LITERAL_MINUS);
	self->literal_mode = mode;
}

void
pr_imap_command_set_utf8(PrImapCommand *self, gboolean utf8)
{
	g_return_if_fail(PR_IS_IMAP_COMMAND(self));
	self->utf8 = utf8;
}

/* Command-wide: every argument is hidden from logs, before or after it is added. */
void
pr_imap_command_set_sensitive(PrImapCommand *self, gboolean sensitive)
{
	g_return_if_fail(PR_IS_IMAP_COMMAND(self));
	self->sensitive = sensitive;
}

gboolean
pr_imap_command_get_sensitive(PrImapCommand *self)
{
	g_return_val_if_fail(PR_IS_IMAP_COMMAND(self), FALSE);
	return self->sensitive;
}

void
pr_imap_command_add_atom(PrImapCommand *self, const gchar *token)
{
	g_return_if_fail(PR_IS_IMAP_COMMAND(self));
	g_return_if_fail(token != NULL);
	/* a line break here would let the token inject a second command */
	g_return_if_fail(strpbrk(token, "\r\n") == NULL);
	pr_imap_command_add_arg(
		self, PR_IMAP_ARG_RAW, pr_imap_command_copy_bytes(token, strlen(token)));
}

void
pr_imap_command_add_printf(PrImapCommand *self, const gchar *format, ...)
{
	g_autofree gchar *token = NULL;
	va_list args;

	g_return_if_fail(PR_IS_IMAP_COMMAND(self));
	g_return_if_fail(format != NULL);

	va_start(args, format);
	token = g_strdup_vprintf(format, args);
	va_end(args);
	pr_imap_command_add_atom(self, token);
	explicit_bzero(token, strlen(token));
}

void
pr_imap_command_add_number(PrImapCommand *self, guint64 number)
{
	g_autofree gchar *token = g_strdup_printf("%" G_GUINT64_FORMAT, number);
	pr_imap_command_add_atom(self, token);
}

void
pr_imap_command_add_string(PrImapCommand *self, const gchar *str, gssize len)
{
	g_return_if_fail(PR_IS_IMAP_COMMAND(self));
	g_return_if_fail(str != NULL || len == 0);

	if (str == NULL)
		str = "";
	pr_imap_command_add_arg(
		self,
		PR_IMAP_ARG_STRING,
		pr_imap_command_copy_bytes(str, len < 0 ? strlen(str) : (gsize)len));
}

gboolean
pr_imap_command_add_mailbox(PrImapCommand *self, const gchar *utf8_name, GError **error)
{
	gsize len;

	g_return_val_if_fail(PR_IS_IMAP_COMMAND(self), FALSE);
	g_return_val_if_fail(utf8_name != NULL, FALSE);

	len = strlen(utf8_name);
	if (!g_utf8_validate(utf8_name, (gssize)len, NULL)) {
		g_set_error_literal(error,
				    PR_ERROR,
				    PR_ERROR_INVALID_ARGUMENT,
				    "mailbox name is not valid UTF-8");
		return FALSE;
	}
	/* checked now so that rendering, which may encode later, cannot fail */
	if (len > PR_IMAP_MAILBOX_MAX) {
		g_set_error(error,
			    PR_ERROR,
			    PR_ERROR_INVALID_ARGUMENT,
			    "mailbox name too long (%" G_GSIZE_FORMAT " bytes)",
			    len);
		return FALSE;
	}
	pr_imap_command_add_arg(
		self, PR_IMAP_ARG_MAILBOX, pr_imap_command_copy_bytes(utf8_name, len));
	return TRUE;
}

void
pr_imap_command_add_literal(PrImapCommand *self, GBytes *bytes)
{
	g_return_if_fail(PR_IS_IMAP_COMMAND(self));
	g_return_if_fail(bytes != NULL);
	/* message data is not a secret and may be large: shared, not copied */
	pr_imap_command_add_arg(self, PR_IMAP_ARG_LITERAL, g_bytes_ref(bytes));
}

void
pr_imap_command_add_uid_set(PrImapCommand *self, const guint32 *uids, gsize n)
{
	g_autofree gchar *set = NULL;

	g_return_if_fail(PR_IS_IMAP_COMMAND(self));
	g_return_if_fail(uids != NULL && n > 0);

	set = pr_imap_seqset_format_uids(uids, n);
	/* only UID 0, which does not exist: an empty set would be a syntax error */
	g_return_if_fail(set[0] != '\0');
	pr_imap_command_add_atom(self, set);
}

/* RFC 3501 ATOM-CHAR, also excluding ']' (allowed in astrings, but quoting is safer). */
static gboolean
pr_imap_command_is_atom_char(guchar c)
{
	if (c <= 0x1f || c >= 0x7f)
		return FALSE;
	return strchr("(){ %*\"\\]", c) == NULL;
}

typedef enum {
	PR_IMAP_STRING_ATOM,
	PR_IMAP_STRING_QUOTED,
	PR_IMAP_STRING_LITERAL,
} PrImapStringForm;

static PrImapStringForm
pr_imap_command_string_form(const gchar *str, gsize len, gboolean utf8)
{
	gboolean atom = len > 0;
	gboolean high = FALSE;

	for (gsize i = 0; i < len; i++) {
		guchar c = (guchar)str[i];
		if (c >= 0x80) {
			high = TRUE;
			atom = FALSE;
			continue;
		}
		/* CR, LF, NUL and other controls can only be sent in a literal */
		if (c < 0x20 || c == 0x7f)
			return PR_IMAP_STRING_LITERAL;
		if (!pr_imap_command_is_atom_char(c))
			atom = FALSE;
	}
	if (len > PR_IMAP_QUOTED_MAX)
		return PR_IMAP_STRING_LITERAL;
	/* 8-bit is only allowed in quoted strings once UTF8=ACCEPT is enabled (RFC 6855) */
	if (high && (!utf8 || !g_utf8_validate(str, (gssize)len, NULL)))
		return PR_IMAP_STRING_LITERAL;
	/* NIL would be read as the nil value where nstring is allowed */
	if (atom && !(len == 3 && g_ascii_strncasecmp(str, "NIL", 3) == 0))
		return PR_IMAP_STRING_ATOM;
	return PR_IMAP_STRING_QUOTED;
}

/* Renders the arguments either to wire pieces or to a log line. */
typedef struct {
	PrImapCommand *cmd;
	gboolean log;
	GPtrArray *pieces; /* of GBytes; wire only */
	GByteArray *cur;
} PrImapWriter;

static void
pr_imap_writer_append(PrImapWriter *w, const gchar *data, gsize len)
{
	g_byte_array_append(w->cur, (const guint8 *)data, (guint)len);
}

static void
pr_imap_writer_append_str(PrImapWriter *w, const gchar *str)
{
	pr_imap_writer_append(w, str, strlen(str));
}

/* Ends the current piece: the sender waits for "+" before sending the next one. */
static void
pr_imap_writer_cut(PrImapWriter *w)
{
	g_ptr_array_add(w->pieces, g_byte_array_free_to_bytes(w->cur));
	w->cur = g_byte_array_new();
}

static void
pr_imap_writer_literal(PrImapWriter *w, const gchar *data, gsize len)
{
	gboolean sync =
		w->cmd->literal_mode == PR_IMAP_LITERAL_SYNC ||
		(w->cmd->literal_mode == PR_IMAP_LITERAL_MINUS && len > PR_IMAP_LITERAL_MINUS_MAX);
	g_autofree gchar *header = NULL;

	if (w->log) {
		g_autofree gchar *hint = g_strdup_printf("{%" G_GSIZE_FORMAT " bytes}", len);
		pr_imap_writer_append_str(w, hint);
		return;
	}
	header = g_strdup_printf("{%" G_GSIZE_FORMAT "%s}\r\n", len, sync ? "" : "+");
	pr_imap_writer_append_str(w, header);
	if (sync)
		pr_imap_writer_cut(w);
	pr_imap_writer_append(w, data, len);
}

static void
pr_imap_writer_string(PrImapWriter *w, const gchar *str, gsize len)
{
	switch (pr_imap_command_string_form(str, len, w->cmd->utf8)) {
	case PR_IMAP_STRING_ATOM:
		pr_imap_writer_append(w, str, len);
		break;
	case PR_IMAP_STRING_QUOTED:
		pr_imap_writer_append(w, "\"", 1);
		for (gsize i = 0; i < len; i++) {
			if (str[i] == '"' || str[i] == '\\')
				pr_imap_writer_append(w, "\\", 1);
			pr_imap_writer_append(w, str + i, 1);
		}
		pr_imap_writer_append(w, "\"", 1);
		break;
	case PR_IMAP_STRING_LITERAL:
	default:
		pr_imap_writer_literal(w, str, len);
		break;
	}
}

static void
pr_imap_writer_mailbox(PrImapWriter *w, const gchar *name, gsize len)
{
	g_autoptr(GError) error = NULL;
	g_autofree gchar *encoded = NULL;

	/* RFC 3501: INBOX is case-insensitive; other names are not */
	if (g_ascii_strcasecmp(name, "INBOX") == 0) {
		pr_imap_writer_append_str(w, "INBOX");
		return;
	}
	if (w->cmd->utf8) {
		pr_imap_writer_string(w, name, len);
		return;
	}
	encoded = pr_imap_utf7_encode(name, &error);
	if (encoded == NULL) {
		/* add_mailbox() validated the name, so this is a bug */
		g_critical("cannot encode a validated mailbox name: %s", error->message);
		pr_imap_writer_string(w, "", 0);
		return;
	}
	pr_imap_writer_string(w, encoded, strlen(encoded));
}

static void
pr_imap_writer_run(PrImapWriter *w, const gchar *tag)
{
	pr_imap_writer_append_str(w, tag);
	pr_imap_writer_append(w, " ", 1);
	pr_imap_writer_append_str(w, w->cmd->name);
	for (guint i = 0; i < w->cmd->args->len; i++) {
		PrImapArg *arg = g_ptr_array_index(w->cmd->args, i);
		gsize len = 0;
		const gchar *data = g_bytes_get_data(arg->data, &len);

		/* GBytes may give NULL for an empty buffer */
		if (data == NULL)
			data = "";
		pr_imap_writer_append(w, " ", 1);
		if (w->log && w->cmd->sensitive) {
			pr_imap_writer_append_str(w, "<hidden>");
			continue;
		}
		switch (arg->kind) {
		case PR_IMAP_ARG_RAW:
			pr_imap_writer_append(w, data, len);
			break;
		case PR_IMAP_ARG_STRING:
			pr_imap_writer_string(w, data, len);
			break;
		case PR_IMAP_ARG_MAILBOX:
			pr_imap_writer_mailbox(w, data, len);
			break;
		case PR_IMAP_ARG_LITERAL:
		default:
			pr_imap_writer_literal(w, data, len);
			break;
		}
	}
}

GPtrArray *
pr_imap_command_serialize(PrImapCommand *self, const gchar *tag)
{
	PrImapWriter w = { .cmd = self, .log = FALSE };

	g_return_val_if_fail(PR_IS_IMAP_COMMAND(self), NULL);
	g_return_val_if_fail(tag != NULL, NULL);

	w.pieces = g_ptr_array_new_with_free_func((GDestroyNotify)g_bytes_unref);
	w.cur = g_byte_array_new();
	pr_imap_writer_run(&w, tag);
	pr_imap_writer_append(&w, "\r\n", 2);
	g_ptr_array_add(w.pieces, g_byte_array_free_to_bytes(w.cur));
	return w.pieces;
}

gchar *
pr_imap_command_to_log_string(PrImapCommand *self, const gchar *tag)
{
	PrImapWriter w = { .cmd = self, .log = TRUE };

	g_return_val_if_fail(PR_IS_IMAP_COMMAND(self), NULL);
	g_return_val_if_fail(tag != NULL, NULL);

	w.cur = g_byte_array_new();
	pr_imap_writer_run(&w, tag);
	/* one log line, whatever a verbatim token held */
	for (guint i = 0; i < w.cur->len; i++) {
		if (w.cur->data[i] < 0x20 || w.cur->data[i] == 0x7f)
			w.cur->data[i] = '?';
	}
	g_byte_array_append(w.cur, (const guint8 *)"", 1);
	return (gchar *)g_byte_array_free(w.cur, FALSE);
}
