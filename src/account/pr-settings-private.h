/*
 * Copyright 2026 The Postroom developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include "pr-settings.h"

G_BEGIN_DECLS

/* Shared by pr-settings-keys.c (the key table, validation), pr-settings.c (GSettings) and
 * pr-account-config.c (PrAccountConfig). */

/* Every key of the table as a{sv} (floating): @settings' value where it is given and passes
 * the key's own checks, else the default. @settings is nullable. */
GVariant *pr_settings_complete(GVariant *settings);

/* Every key as stored (no display-name substitution), floating. */
GVariant *pr_settings_dup_all_raw(GSettings *settings);
/* @display_name, or "user@host" when it is empty. */
gchar *
pr_settings_make_display_name(const gchar *display_name, const gchar *user, const gchar *host);

G_END_DECLS
