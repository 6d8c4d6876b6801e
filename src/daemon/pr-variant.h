/*
 * Copyright 2026 The Postroom developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <gio/gio.h>

#include "pr-store.h"

G_BEGIN_DECLS

/* The store's records as the D-Bus contract spells them. */

/* "at" of @ids (guint64; NULL: empty), floating. */
GVariant *pr_variant_ids(GArray *ids);
/* "(sa{sv})": a folder of ListFolders, floating. */
GVariant *pr_variant_folder(const PrStoreFolder *folder);
/* Adds the keys a message has in ListMessages to an a{sv} builder. */
void pr_variant_add_message_keys(GVariantBuilder *builder, const PrStoreMessage *message);
/* GetMessage's "a{sv}": the ListMessages keys and id, folder, complete; floating. */
GVariant *pr_variant_message_info(const PrStoreMessage *message);
/* "a(ta{sv})": the reply of ListMessages, floating. */
GVariant *pr_variant_message_list(GPtrArray *messages);

/* Answers ListMessages with @messages (taking both): the reply of a big folder is
 * megabytes to build and serialise, so that happens in a worker thread. */
void pr_variant_return_message_list(GDBusMethodInvocation *invocation, GPtrArray *messages);

G_END_DECLS
