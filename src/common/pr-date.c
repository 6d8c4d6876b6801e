/*
 * Copyright 2026 The Postroom developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#define G_LOG_DOMAIN "PrDate"

#include <glib/gi18n-lib.h>
#include <string.h>

#include "pr-date.h"
#include "pr-error.h"

static gint
pr_date_month(const gchar *s)
{
	static const gchar *const months[] = {
		"Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
	};
	for (guint i = 0; i < G_N_ELEMENTS(months); i++) {
		if (g_ascii_strncasecmp(s, months[i], 3) == 0)
			return (gint)i + 1;
	}
	return 0;
}

static gboolean
pr_date_make_time(gint year,
		  gint month,
		  gint day,
		  gint hour,
		  gint minute,
		  gint second,
		  gint offset_minutes,
		  gint64 *out)
{
	g_autoptr(GDateTime) dt = NULL;

	if (year < 1 || year > 9999 || hour > 23 || minute > 59 || second > 60)
		return FALSE;
	/* a leap second: GDateTime has none */
	if (second == 60)
		second = 59;
	dt = g_date_time_new_utc(year, month, day, hour, minute, second);
	if (dt == NULL)
		return FALSE;
	*out = g_date_time_to_unix(dt) - (gint64)offset_minutes * 60;
	return TRUE;
}

/* up to @max digits at *p */
static gboolean
pr_date_digits(const gchar **p, const gchar *end, guint min, guint max, gint *out)
{
	gint v = 0;
	guint n = 0;

	while (*p < end && n < max && g_ascii_isdigit(**p)) {
		v = v * 10 + (**p - '0');
		(*p)++;
		n++;
	}
	if (n < min)
		return FALSE;
	*out = v;
	return TRUE;
}

static gboolean
pr_date_zone(const gchar **p, const gchar *end, gint *offset_minutes)
{
	static const struct {
		const gchar *name;
		gint hours;
	} zones[] = {
		{ "UT", 0 },   { "UTC", 0 },  { "GMT", 0 },  { "Z", 0 },
		{ "EST", -5 }, { "EDT", -4 }, { "CST", -6 }, { "CDT", -5 },
		{ "MST", -7 }, { "MDT", -6 }, { "PST", -8 }, { "PDT", -7 },
	};
	const gchar *q = *p;
	gint hhmm = 0;
	gint sign;

	if (q < end && (*q == '+' || *q == '-')) {
		sign = *q == '-' ? -1 : 1;
		q++;
		if (!pr_date_digits(&q, end, 4, 4, &hhmm) || hhmm % 100 > 59)
			return FALSE;
		*offset_minutes = sign * ((hhmm / 100) * 60 + hhmm % 100);
		*p = q;
		return TRUE;
	}
	while (q < end && g_ascii_isalpha(*q))
		q++;
	for (guint i = 0; i < G_N_ELEMENTS(zones); i++) {
		if ((gsize)(q - *p) == strlen(zones[i].name) &&
		    g_ascii_strncasecmp(*p, zones[i].name, strlen(zones[i].name)) == 0) {
			*offset_minutes = zones[i].hours * 60;
			*p = q;
			return TRUE;
		}
	}
	/* RFC 5322 4.3: other (military) zones are treated as "-0000" */
	*offset_minutes = 0;
	*p = q;
	return TRUE;
}

static void
pr_date_skip_space(const gchar **p, const gchar *end)
{
	while (*p < end && (g_ascii_isspace(**p) || **p == ','))
		(*p)++;
}

gint64
pr_date_parse_rfc5322(const gchar *s)
{
	const gchar *p = s;
	const gchar *end = s + strlen(s);
	gint day = 0, month, year = 0, hour = 0, minute = 0, second = 0, offset = 0;
	gint64 t = 0;

	pr_date_skip_space(&p, end);
	if (p < end && g_ascii_isalpha(*p)) {
		while (p < end && g_ascii_isalpha(*p))
			p++;
		pr_date_skip_space(&p, end);
	}
	if (!pr_date_digits(&p, end, 1, 2, &day))
		return 0;
	while (p < end && (*p == ' ' || *p == '-'))
		p++;
	if (end - p < 3 || (month = pr_date_month(p)) == 0)
		return 0;
	while (p < end && g_ascii_isalpha(*p))
		p++;
	while (p < end && (*p == ' ' || *p == '-'))
		p++;
	{
		const gchar *ys = p;
		if (!pr_date_digits(&p, end, 2, 4, &year))
			return 0;
		if (p - ys == 2)
			year += year < 50 ? 2000 : 1900;
		else if (p - ys == 3)
			year += 1900;
	}
	pr_date_skip_space(&p, end);
	if (!pr_date_digits(&p, end, 1, 2, &hour) || p >= end || *p != ':')
		return 0;
	p++;
	if (!pr_date_digits(&p, end, 2, 2, &minute))
		return 0;
	if (p < end && *p == ':') {
		p++;
		if (!pr_date_digits(&p, end, 2, 2, &second))
			return 0;
	}
	pr_date_skip_space(&p, end);
	if (p < end && !pr_date_zone(&p, end, &offset))
		return 0;
	if (!pr_date_make_time(year, month, day, hour, minute, second, offset, &t))
		return 0;
	return t;
}

static gboolean
pr_date_read_internaldate(const gchar *s, gsize len, gint64 *out)
{
	const gchar *p = s;
	const gchar *end = s + len;
	gint day = 0, month, year = 0, hour = 0, minute = 0, second = 0, offset = 0;

	if (p < end && *p == ' ')
		p++;
	if (!pr_date_digits(&p, end, 1, 2, &day) || p >= end || *p++ != '-')
		return FALSE;
	if (end - p < 4 || (month = pr_date_month(p)) == 0 || p[3] != '-')
		return FALSE;
	p += 4;
	if (!pr_date_digits(&p, end, 4, 4, &year) || p >= end || *p++ != ' ')
		return FALSE;
	if (!pr_date_digits(&p, end, 2, 2, &hour) || p >= end || *p++ != ':')
		return FALSE;
	if (!pr_date_digits(&p, end, 2, 2, &minute) || p >= end || *p++ != ':')
		return FALSE;
	if (!pr_date_digits(&p, end, 2, 2, &second) || p >= end || *p++ != ' ')
		return FALSE;
	if (p >= end || (*p != '+' && *p != '-') || !pr_date_zone(&p, end, &offset) || p != end)
		return FALSE;
	return pr_date_make_time(year, month, day, hour, minute, second, offset, out);
}

gboolean
pr_date_parse_internaldate(const gchar *s, gsize len, gint64 *out, GError **error)
{
	g_return_val_if_fail(s != NULL, FALSE);
	g_return_val_if_fail(out != NULL, FALSE);
	if (!pr_date_read_internaldate(s, len, out)) {
		g_set_error_literal(
			error, PR_ERROR, PR_ERROR_INVALID_ARGUMENT, _("Not an IMAP date and time"));
		return FALSE;
	}
	return TRUE;
}
