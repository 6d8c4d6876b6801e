/*
 * Copyright 2026 The Postroom developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include "pr-store.h"

G_BEGIN_DECLS

/* The arguments of SetFlags, DeleteMessages and UndeleteMessages, checked against the
 * store: ids that exist and are on the server, valid flags (normalised), no flag both
 * added and removed, no options. */

typedef struct {
	GArray *ids; /* guint64, without duplicates */
	gchar **add; /* normalised flags */
	gchar **remove;
} PrFlagsRequest;

PrFlagsRequest *pr_flags_request_new(PrStore *store,
				     GVariant *ids,
				     const gchar *const *add,
				     const gchar *const *remove,
				     GVariant *options,
				     GError **error);
void pr_flags_request_free(PrFlagsRequest *request);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(PrFlagsRequest, pr_flags_request_free)

G_END_DECLS
