/*
 * Copyright 2026 The Postroom developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#define G_LOG_DOMAIN "PrDaemon"

#include <glib/gi18n.h>
#include <string.h>

#include "pr-error.h"
#include "pr-folder-change.h"
#include "pr-sync.h"

static gboolean
pr_folder_name_is_local(const gchar *name)
{
	return g_str_has_prefix(name, "local:");
}

static gboolean
pr_folder_name_is_protected(const gchar *name)
{
	return g_ascii_strcasecmp(name, "INBOX") == 0 || g_strcmp0(name, "local:Outbox") == 0 ||
	       g_strcmp0(name, "local:Drafts") == 0 || g_strcmp0(name, "local:Sent") == 0;
}

static gboolean
pr_folder_name_check_new(PrStore *store, const gchar *name, GError **error)
{
	g_autoptr(PrStoreFolder) existing = NULL;
	const gchar *bare = pr_folder_name_is_local(name) ? name + strlen("local:") : name;

	if (bare[0] == '\0' || !g_utf8_validate(name, -1, NULL)) {
		g_set_error(error,
			    PR_ERROR,
			    PR_ERROR_INVALID_ARGUMENT,
			    _("“%s” is not a valid folder name"),
			    name);
		return FALSE;
	}
	for (const gchar *p = name; *p != '\0'; p++) {
		if ((guchar)*p < 0x20 || *p == 0x7f) {
			g_set_error(error,
				    PR_ERROR,
				    PR_ERROR_INVALID_ARGUMENT,
				    _("A folder name cannot contain control characters"));
			return FALSE;
		}
	}
	if (pr_folder_name_is_protected(name)) {
		g_set_error(error,
			    PR_ERROR,
			    PR_ERROR_INVALID_ARGUMENT,
			    _("The folder name “%s” is reserved"),
			    name);
		return FALSE;
	}
	existing = pr_store_get_folder(store, name, NULL);
	if (existing != NULL) {
		g_set_error(error,
			    PR_ERROR,
			    PR_ERROR_INVALID_ARGUMENT,
			    _("A folder named “%s” already exists"),
			    name);
		return FALSE;
	}
	return TRUE;
}

/* The folder @name of the store, unless it is one that cannot be renamed (@rename) or
 * deleted. */
static PrStoreFolder *
pr_folder_name_lookup_changeable(PrStore *store, const gchar *name, gboolean rename, GError **error)
{
	if (pr_folder_name_is_protected(name)) {
		if (rename)
			g_set_error(error,
				    PR_ERROR,
				    PR_ERROR_INVALID_ARGUMENT,
				    _("The folder “%s” cannot be renamed"),
				    name);
		else
			g_set_error(error,
				    PR_ERROR,
				    PR_ERROR_INVALID_ARGUMENT,
				    _("The folder “%s” cannot be deleted"),
				    name);
		return NULL;
	}
	return pr_store_get_folder(store, name, error);
}

gboolean
pr_folder_change_check(PrStore *store,
		       PrSyncFolderChange change,
		       const gchar *name,
		       const gchar *to,
		       gboolean *local,
		       GError **error)
{
	g_autoptr(PrStoreFolder) folder = NULL;

	if (change == PR_SYNC_FOLDER_CHANGE_CREATE) {
		if (!pr_folder_name_check_new(store, name, error))
			return FALSE;
		*local = pr_folder_name_is_local(name);
		return *local || pr_sync_folder_name_check(name, error);
	}
	folder = pr_folder_name_lookup_changeable(
		store, name, change == PR_SYNC_FOLDER_CHANGE_RENAME, error);
	if (folder == NULL)
		return FALSE;
	*local = folder->local;
	if (change == PR_SYNC_FOLDER_CHANGE_DELETE)
		return TRUE;
	if (!pr_folder_name_check_new(store, to, error))
		return FALSE;
	if (folder->local != pr_folder_name_is_local(to)) {
		g_set_error_literal(
			error,
			PR_ERROR,
			PR_ERROR_INVALID_ARGUMENT,
			_("A folder cannot move between this machine and the server by renaming"));
		return FALSE;
	}
	return *local || pr_sync_folder_name_check(to, error);
}

gboolean
pr_folder_change_apply_local(PrStore *store,
			     PrSyncFolderChange change,
			     const gchar *name,
			     const gchar *to,
			     GError **error)
{
	g_autoptr(PrStoreFolder) folder = NULL;

	switch (change) {
	case PR_SYNC_FOLDER_CHANGE_CREATE:
		folder = pr_store_folder_new();
		folder->name = g_strdup(name);
		folder->local = TRUE;
		folder->subscribed = TRUE;
		return pr_store_save_folder(store, folder, error);
	case PR_SYNC_FOLDER_CHANGE_RENAME:
		return pr_store_rename_folder(store, name, to, NULL, 0, error);
	case PR_SYNC_FOLDER_CHANGE_DELETE:
		folder = pr_store_get_folder(store, name, error);
		return folder != NULL && pr_store_delete_folder(store, folder->id, error);
	default:
		g_assert_not_reached();
	}
}
