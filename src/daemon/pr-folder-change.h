/*
 * Copyright 2026 The Postroom developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include "pr-store.h"
#include "pr-sync.h"

G_BEGIN_DECLS

/*
 * The rules for the folder changes clients ask for. "local:NAME" folders live only in the
 * store and change at once; server folders change in a job. INBOX and the built-in local
 * folders cannot be renamed or deleted; a new name is valid UTF-8 without control
 * characters, not reserved and not taken, and a rename cannot move a folder between this
 * machine and the server.
 */

/* Checks @change of @name (to @to, for a rename); *@local says whether it stays in the
 * store. */
gboolean pr_folder_change_check(PrStore *store,
				PrSyncFolderChange change,
				const gchar *name,
				const gchar *to,
				gboolean *local,
				GError **error);
/* Makes a checked change of a local folder. */
gboolean pr_folder_change_apply_local(PrStore *store,
				      PrSyncFolderChange change,
				      const gchar *name,
				      const gchar *to,
				      GError **error);

G_END_DECLS
