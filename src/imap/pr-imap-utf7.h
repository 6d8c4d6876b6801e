/*
 * Copyright 2026 The Postroom developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* RFC 3501 section 5.1.3 modified UTF-7 for mailbox names. */

/* UTF-8 -> modified UTF-7. NULL with InvalidArgument when @utf8 is not valid UTF-8. */
gchar *pr_imap_utf7_encode(const gchar *utf8, GError **error);
/* Modified UTF-7 -> UTF-8. Strict: bad base64, non-zero padding bits, "&" unterminated,
 * directly-encodable characters inside a shift, or a lone surrogate give ProtocolError.
 * @len may be -1 for a NUL-terminated input. */
gchar *pr_imap_utf7_decode(const gchar *mutf7, gssize len, GError **error);

G_END_DECLS
