/*
 * Copyright 2026 The Postroom developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/*
 * An RFC 5322 date-time (a Date: header), read leniently: optional day name, 2- and
 * 3-digit years, obsolete zone names (UT, GMT, EST...; unknown ones count as -0000), no
 * seconds. Returns Unix time, or 0 when it cannot be read.
 */
gint64 pr_date_parse_rfc5322(const gchar *s);

/*
 * An IMAP date-time (INTERNALDATE): "17-Jul-1996 02:44:25 -0700", the day possibly
 * space-padded, exactly @len bytes. Sets @out to Unix time; InvalidArgument otherwise.
 */
gboolean pr_date_parse_internaldate(const gchar *s, gsize len, gint64 *out, GError **error);

G_END_DECLS
