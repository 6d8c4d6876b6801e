/*
 * Copyright 2026 The Postroom developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/*
 * The one validator for the a{sv} arguments of the D-Bus API: a table says which keys a
 * dictionary may hold, the type of each and, for strings, the allowed values. An empty
 * table accepts only an empty dictionary.
 */
typedef struct {
	const gchar *key;
	const gchar *type;	     /* a GVariant type string */
	const gchar *const *choices; /* allowed string values, or NULL for any */
} PrOptionSpec;

typedef enum {
	PR_OPTIONS_KIND_OPTION, /* "options" arguments: "Unknown option ..." */
	PR_OPTIONS_KIND_QUERY,	/* ListMessages' query: "Unknown query key ..." */
} PrOptionsKind;

gboolean pr_options_check(GVariant *dict,
			  PrOptionsKind kind,
			  const PrOptionSpec *specs,
			  gsize n_specs,
			  GError **error);

G_END_DECLS
