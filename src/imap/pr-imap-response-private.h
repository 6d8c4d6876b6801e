/*
 * Copyright 2026 The Postroom developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include "pr-imap-response.h"

/* Helpers of the typed decoders, shared by pr-imap-response.c (which defines them) and
 * pr-imap-fetch.c. Nothing here is for use outside src/imap. */

G_BEGIN_DECLS

gboolean pr_imap_malformed(GError **error, const gchar *what);
const PrImapValue *pr_imap_child(const PrImapValue *value, guint idx);
gboolean pr_imap_is_kind(const PrImapValue *value, PrImapValueKind kind);
guint pr_imap_n(const PrImapValue *value);
gboolean pr_imap_equal(const PrImapValue *value, const gchar *str);
const gchar *pr_imap_value_text(const PrImapValue *value, gsize *len);
gchar *pr_imap_value_dup_display(const PrImapValue *value);
gboolean pr_imap_value_get_u32(const PrImapValue *value, guint32 *out);
gboolean pr_imap_value_get_u64(const PrImapValue *value, guint64 *out);
gboolean pr_imap_response_is_data(const PrImapResponse *self, const gchar *keyword);
gchar **pr_imap_dup_atoms(const PrImapValue *list, gboolean upper);

G_END_DECLS
