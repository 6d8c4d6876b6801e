/*
 * Copyright 2026 The Postroom developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#define G_LOG_DOMAIN "PrCtl"

#include <glib/gi18n.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <unistd.h>

#include "pr-ctl.h"
#include "pr-error.h"

#define PR_CTL_SECRET_MAX 4096

static gboolean
pr_ctl_error_is_not_running(const GError *error)
{
	return g_error_matches(error, G_DBUS_ERROR, G_DBUS_ERROR_SERVICE_UNKNOWN) ||
	       g_error_matches(error, G_DBUS_ERROR, G_DBUS_ERROR_NAME_HAS_NO_OWNER);
}

gchar *
pr_ctl_error_get_name(const GError *error)
{
	if (g_dbus_error_is_remote_error(error)) {
		g_autofree gchar *remote = g_dbus_error_get_remote_error(error);
		if (remote != NULL && g_str_has_prefix(remote, PR_DBUS_ERROR_PREFIX))
			return g_strdup(remote + strlen(PR_DBUS_ERROR_PREFIX));
		if (remote != NULL)
			return g_steal_pointer(&remote);
	}
	if (error->domain == PR_ERROR && error->code >= 0 && error->code < PR_ERROR_LAST)
		return g_strdup(pr_error_to_name(error->code));
	if (g_error_matches(error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT))
		return g_strdup(pr_error_to_name(PR_ERROR_TIMEOUT));
	return g_strdup(pr_error_to_name(PR_ERROR_FAILED));
}

gboolean
pr_ctl_error_has_name(const GError *error, const gchar *name)
{
	g_autofree gchar *actual = pr_ctl_error_get_name(error);
	return g_strcmp0(actual, name) == 0;
}

void
pr_ctl_print_error(const GError *error)
{
	g_autofree gchar *name = NULL;
	g_autoptr(GError) copy = NULL;

	if (pr_ctl_error_is_not_running(error)) {
		g_printerr("postroomctl: %s: %s\n",
			   pr_error_to_name(PR_ERROR_FAILED),
			   _("Postroom is not running on this bus"));
		return;
	}
	name = pr_ctl_error_get_name(error);
	copy = g_error_copy(error);
	g_dbus_error_strip_remote_error(copy);
	g_printerr("postroomctl: %s: %s\n", name, copy->message);
}

/* Reads up to the line end; the buffer never grows, so no copy of the secret is left
 * behind in freed memory. */
static gchar *
pr_ctl_read_secret_line(const gchar *too_long, const gchar *empty, GError **error)
{
	g_autoptr(GString) line = g_string_sized_new(PR_CTL_SECRET_MAX + 1);
	gint c;

	while ((c = fgetc(stdin)) != EOF && c != '\n') {
		if (line->len >= PR_CTL_SECRET_MAX) {
			explicit_bzero(line->str, line->len);
			g_set_error_literal(error, PR_ERROR, PR_ERROR_INVALID_ARGUMENT, too_long);
			return NULL;
		}
		g_string_append_c(line, (gchar)c);
	}
	if (line->len > 0 && line->str[line->len - 1] == '\r')
		g_string_truncate(line, line->len - 1);
	if (line->len == 0) {
		g_set_error_literal(error, PR_ERROR, PR_ERROR_INVALID_ARGUMENT, empty);
		return NULL;
	}
	return g_string_free(g_steal_pointer(&line), FALSE);
}

gchar *
pr_ctl_read_secret_stdin(GError **error)
{
	/* a password is never taken from argv, where every user can read it */
	return pr_ctl_read_secret_line(_("The password on standard input is too long"),
				       _("No password on standard input"),
				       error);
}

static struct termios pr_ctl_saved_termios;

/* Ctrl-C at the prompt must not leave the terminal without echo. */
static void
pr_ctl_restore_terminal_cb(int signum)
{
	tcsetattr(STDIN_FILENO, TCSAFLUSH, &pr_ctl_saved_termios);
	signal(signum, SIG_DFL);
	raise(signum);
}

gchar *
pr_ctl_read_secret_terminal(const gchar *prompt, GError **error)
{
	const gint signals[] = { SIGINT, SIGTERM, SIGHUP, SIGQUIT };
	struct sigaction action = { 0 };
	struct sigaction saved[G_N_ELEMENTS(signals)];
	struct termios quiet;
	gchar *secret;

	if (!isatty(STDIN_FILENO) || tcgetattr(STDIN_FILENO, &pr_ctl_saved_termios) != 0) {
		g_set_error_literal(error,
				    PR_ERROR,
				    PR_ERROR_INVALID_ARGUMENT,
				    _("Standard input is not a terminal to ask for the password; "
				      "use --password-stdin"));
		return NULL;
	}
	action.sa_handler = pr_ctl_restore_terminal_cb;
	sigemptyset(&action.sa_mask);
	for (guint i = 0; i < G_N_ELEMENTS(signals); i++)
		sigaction(signals[i], &action, &saved[i]);

	quiet = pr_ctl_saved_termios;
	quiet.c_lflag &= ~(tcflag_t)ECHO;
	quiet.c_lflag |= ECHONL;
	g_printerr("%s", prompt);
	tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet);
	secret = pr_ctl_read_secret_line(
		_("The password is too long"), _("No password was entered"), error);
	tcsetattr(STDIN_FILENO, TCSAFLUSH, &pr_ctl_saved_termios);

	for (guint i = 0; i < G_N_ELEMENTS(signals); i++)
		sigaction(signals[i], &saved[i], NULL);
	return secret;
}

void
pr_ctl_secret_free(gchar *secret)
{
	if (secret == NULL)
		return;
	explicit_bzero(secret, strlen(secret));
	g_free(secret);
}

static void
pr_ctl_json_string(GString *out, const gchar *str)
{
	g_string_append_c(out, '"');
	for (const guchar *p = (const guchar *)str; *p != '\0'; p++) {
		switch (*p) {
		case '"':
			g_string_append(out, "\\\"");
			break;
		case '\\':
			g_string_append(out, "\\\\");
			break;
		case '\n':
			g_string_append(out, "\\n");
			break;
		case '\r':
			g_string_append(out, "\\r");
			break;
		case '\t':
			g_string_append(out, "\\t");
			break;
		default:
			if (*p < 0x20)
				g_string_append_printf(out, "\\u%04x", *p);
			else
				g_string_append_c(out, (gchar)*p);
		}
	}
	g_string_append_c(out, '"');
}

static void
pr_ctl_json_double(GString *out, gdouble value)
{
	gchar buf[G_ASCII_DTOSTR_BUF_SIZE];

	/* JSON has no NaN or infinity; and the decimal point must not follow the locale */
	if (!isfinite(value)) {
		g_string_append(out, "null");
		return;
	}
	g_string_append(out, g_ascii_formatd(buf, sizeof(buf), "%g", value));
}

static void
pr_ctl_json_value(GString *out, GVariant *value)
{
	if (g_variant_is_of_type(value, G_VARIANT_TYPE_VARIANT)) {
		g_autoptr(GVariant) inner = g_variant_get_variant(value);
		pr_ctl_json_value(out, inner);
	} else if (g_variant_is_of_type(value, G_VARIANT_TYPE_STRING) ||
		   g_variant_is_of_type(value, G_VARIANT_TYPE_OBJECT_PATH)) {
		pr_ctl_json_string(out, g_variant_get_string(value, NULL));
	} else if (g_variant_is_of_type(value, G_VARIANT_TYPE_BOOLEAN)) {
		g_string_append(out, g_variant_get_boolean(value) ? "true" : "false");
	} else if (g_variant_is_of_type(value, G_VARIANT_TYPE_BYTE)) {
		g_string_append_printf(out, "%u", g_variant_get_byte(value));
	} else if (g_variant_is_of_type(value, G_VARIANT_TYPE_INT16)) {
		g_string_append_printf(out, "%d", g_variant_get_int16(value));
	} else if (g_variant_is_of_type(value, G_VARIANT_TYPE_UINT32)) {
		g_string_append_printf(out, "%u", g_variant_get_uint32(value));
	} else if (g_variant_is_of_type(value, G_VARIANT_TYPE_INT32)) {
		g_string_append_printf(out, "%d", g_variant_get_int32(value));
	} else if (g_variant_is_of_type(value, G_VARIANT_TYPE_UINT64)) {
		g_string_append_printf(out, "%" G_GUINT64_FORMAT, g_variant_get_uint64(value));
	} else if (g_variant_is_of_type(value, G_VARIANT_TYPE_INT64)) {
		g_string_append_printf(out, "%" G_GINT64_FORMAT, g_variant_get_int64(value));
	} else if (g_variant_is_of_type(value, G_VARIANT_TYPE_UINT16)) {
		g_string_append_printf(out, "%u", g_variant_get_uint16(value));
	} else if (g_variant_is_of_type(value, G_VARIANT_TYPE_DOUBLE)) {
		pr_ctl_json_double(out, g_variant_get_double(value));
	} else if (g_variant_is_of_type(value, G_VARIANT_TYPE_VARDICT)) {
		pr_ctl_print_json(value, out);
	} else if (g_variant_is_container(value)) {
		gsize n = g_variant_n_children(value);
		g_string_append_c(out, '[');
		for (gsize i = 0; i < n; i++) {
			g_autoptr(GVariant) child = g_variant_get_child_value(value, i);
			if (i > 0)
				g_string_append(out, ", ");
			pr_ctl_json_value(out, child);
		}
		g_string_append_c(out, ']');
	} else {
		g_autofree gchar *printed = g_variant_print(value, FALSE);
		pr_ctl_json_string(out, printed);
	}
}

void
pr_ctl_print_json(GVariant *dict, GString *out)
{
	GVariantIter iter;
	const gchar *key;
	GVariant *value;
	gboolean first = TRUE;

	g_string_append_c(out, '{');
	g_variant_iter_init(&iter, dict);
	while (g_variant_iter_next(&iter, "{&sv}", &key, &value)) {
		g_autoptr(GVariant) owned = value;
		if (!first)
			g_string_append(out, ", ");
		first = FALSE;
		pr_ctl_json_string(out, key);
		g_string_append(out, ": ");
		pr_ctl_json_value(out, owned);
	}
	g_string_append_c(out, '}');
}

void
pr_ctl_json_output(GVariant *dict)
{
	g_autoptr(GVariant) owned = g_variant_ref_sink(dict);
	g_autoptr(GString) out = g_string_new(NULL);

	pr_ctl_print_json(owned, out);
	g_string_append_c(out, '\n');
	/* JSON is UTF-8 whatever the locale, so no g_print() and its charset conversion */
	fwrite(out->str, 1, out->len, stdout);
	fflush(stdout);
}

gchar *
pr_ctl_dashed_name(const gchar *camel)
{
	GString *out = g_string_new(NULL);

	for (const gchar *p = camel; *p != '\0'; p++) {
		if (g_ascii_isupper(*p) && p != camel)
			g_string_append_c(out, '-');
		g_string_append_c(out, g_ascii_tolower(*p));
	}
	return g_string_free(out, FALSE);
}

gchar *
pr_ctl_sanitize(const gchar *text)
{
	g_autofree gchar *valid = g_utf8_make_valid(text != NULL ? text : "", -1);
	GString *out = g_string_sized_new(strlen(valid));

	for (const gchar *p = valid; *p != '\0'; p = g_utf8_next_char(p)) {
		gunichar c = g_utf8_get_char(p);
		if (c == '\t' || c == '\n' || c == '\r')
			g_string_append_c(out, ' ');
		else if (g_unichar_iscntrl(c))
			g_string_append_unichar(out, 0xFFFD);
		else
			g_string_append_unichar(out, c);
	}
	return g_string_free(out, FALSE);
}

static guint
pr_ctl_unichar_width(gunichar c)
{
	if (g_unichar_iszerowidth(c))
		return 0;
	return g_unichar_iswide(c) ? 2 : 1;
}

guint
pr_ctl_display_width(const gchar *text)
{
	guint width = 0;

	for (const gchar *p = text; *p != '\0'; p = g_utf8_next_char(p))
		width += pr_ctl_unichar_width(g_utf8_get_char(p));
	return width;
}

gchar *
pr_ctl_ellipsize(const gchar *text, guint max)
{
	g_autofree gchar *clean = pr_ctl_sanitize(text);
	const gchar *p = clean;
	guint width = 0;

	if (max == 0 || pr_ctl_display_width(clean) <= max)
		return g_steal_pointer(&clean);
	/* keep what fits in max - 1 columns, then the ellipsis */
	for (; *p != '\0'; p = g_utf8_next_char(p)) {
		guint w = pr_ctl_unichar_width(g_utf8_get_char(p));
		if (width + w > max - 1)
			break;
		width += w;
	}
	return g_strdup_printf("%.*s…", (gint)(p - clean), clean);
}

gchar *
pr_ctl_format_time(gint64 unix_time)
{
	g_autoptr(GDateTime) dt = NULL;

	if (unix_time == 0)
		return g_strdup(_("never"));
	dt = g_date_time_new_from_unix_local(unix_time);
	if (dt == NULL)
		return g_strdup_printf("%" G_GINT64_FORMAT, unix_time);
	return g_date_time_format(dt, "%Y-%m-%d %H:%M");
}

static gchar *
pr_ctl_format_array(GVariant *value)
{
	GString *out = g_string_new(NULL);
	gsize n = g_variant_n_children(value);

	for (gsize i = 0; i < n; i++) {
		g_autoptr(GVariant) child = g_variant_get_child_value(value, i);
		g_autofree gchar *text = pr_ctl_format_value(child);
		if (i > 0)
			g_string_append_c(out, ' ');
		g_string_append(out, text);
	}
	return g_string_free(out, FALSE);
}

gchar *
pr_ctl_format_value(GVariant *value)
{
	if (g_variant_is_of_type(value, G_VARIANT_TYPE_VARIANT)) {
		g_autoptr(GVariant) inner = g_variant_get_variant(value);
		return pr_ctl_format_value(inner);
	}
	if (g_variant_is_of_type(value, G_VARIANT_TYPE_STRING) ||
	    g_variant_is_of_type(value, G_VARIANT_TYPE_OBJECT_PATH))
		return pr_ctl_sanitize(g_variant_get_string(value, NULL));
	if (g_variant_is_of_type(value, G_VARIANT_TYPE_BOOLEAN))
		return g_strdup(g_variant_get_boolean(value) ? "true" : "false");
	if (g_variant_is_of_type(value, G_VARIANT_TYPE_ARRAY) &&
	    !g_variant_is_of_type(value, G_VARIANT_TYPE_DICTIONARY))
		return pr_ctl_format_array(value);
	return g_variant_print(value, FALSE);
}

guint
pr_ctl_terminal_width(void)
{
	struct winsize ws = { 0 };

	if (!isatty(STDOUT_FILENO) || ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) != 0 || ws.ws_col == 0)
		return 80;
	return ws.ws_col;
}

struct _PrCtlTable {
	guint n_columns;
	GPtrArray *rows; /* of GStrv; the first is the header */
	guint *max_width;
	gboolean *align_right;
};

PrCtlTable *
pr_ctl_table_new(const gchar *const *headers)
{
	PrCtlTable *self = g_new0(PrCtlTable, 1);

	self->n_columns = g_strv_length((gchar **)headers);
	self->rows = g_ptr_array_new_with_free_func((GDestroyNotify)g_strfreev);
	self->max_width = g_new0(guint, self->n_columns);
	self->align_right = g_new0(gboolean, self->n_columns);
	pr_ctl_table_add_row(self, headers);
	return self;
}

void
pr_ctl_table_free(PrCtlTable *self)
{
	g_ptr_array_unref(self->rows);
	g_free(self->max_width);
	g_free(self->align_right);
	g_free(self);
}

void
pr_ctl_table_set_align_right(PrCtlTable *self, guint column)
{
	g_return_if_fail(column < self->n_columns);
	self->align_right[column] = TRUE;
}

void
pr_ctl_table_set_max_width(PrCtlTable *self, guint column, guint max)
{
	g_return_if_fail(column < self->n_columns);
	self->max_width[column] = max;
}

void
pr_ctl_table_add_row(PrCtlTable *self, const gchar *const *cells)
{
	gchar **row = g_new0(gchar *, self->n_columns + 1);

	for (guint i = 0; i < self->n_columns; i++)
		row[i] = pr_ctl_sanitize(cells[i]);
	g_ptr_array_add(self->rows, row);
}

guint
pr_ctl_table_get_n_rows(PrCtlTable *self)
{
	return self->rows->len - 1;
}

static void
pr_ctl_table_pad(GString *line, guint n)
{
	for (guint i = 0; i < n; i++)
		g_string_append_c(line, ' ');
}

void
pr_ctl_table_print(PrCtlTable *self)
{
	g_autofree guint *widths = g_new0(guint, self->n_columns);

	/* cut first, so the widths are those of what is printed; widths in terminal columns */
	for (guint r = 1; r < self->rows->len; r++) {
		gchar **row = g_ptr_array_index(self->rows, r);
		for (guint c = 0; c < self->n_columns; c++) {
			gchar *cut = pr_ctl_ellipsize(row[c], self->max_width[c]);
			g_free(row[c]);
			row[c] = cut;
		}
	}
	for (guint r = 0; r < self->rows->len; r++) {
		gchar **row = g_ptr_array_index(self->rows, r);
		for (guint c = 0; c < self->n_columns; c++)
			widths[c] = MAX(widths[c], pr_ctl_display_width(row[c]));
	}
	for (guint r = 0; r < self->rows->len; r++) {
		gchar **row = g_ptr_array_index(self->rows, r);
		g_autoptr(GString) line = g_string_new(NULL);
		for (guint c = 0; c < self->n_columns; c++) {
			guint pad = widths[c] - pr_ctl_display_width(row[c]);
			gboolean last = c + 1 == self->n_columns;
			if (c > 0)
				g_string_append(line, "  ");
			if (self->align_right[c])
				pr_ctl_table_pad(line, pad);
			g_string_append(line, row[c]);
			if (!self->align_right[c] && !last)
				pr_ctl_table_pad(line, pad);
		}
		g_print("%s\n", line->str);
	}
}
