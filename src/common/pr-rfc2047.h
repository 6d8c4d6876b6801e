/*
 * Copyright 2026 The Postroom developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/*
 * Header text with RFC 2047 encoded-words (=?charset?B|Q?text?=) to UTF-8. Whitespace
 * between two encoded words is dropped; adjacent words in one charset are joined before
 * conversion (a character may be split across them). A word that fails to decode or
 * convert is kept as it was sent. Text longer than 64 KiB is not decoded. The result is
 * always valid UTF-8 with CR and LF turned into spaces; @in need not be NUL-terminated.
 */
gchar *pr_rfc2047_decode(const gchar *in, gsize len);

/* Bytes as valid UTF-8 without CR or LF (those become spaces): header text, or any
 * text from the wire, for display. */
gchar *pr_rfc2047_dup_display(const gchar *s, gsize len);

G_END_DECLS
