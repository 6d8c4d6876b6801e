/*
 * Copyright 2026 The Postroom developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#define G_LOG_DOMAIN "PrContract"

#include <string.h>

#include "pr-contract.h"

gboolean
pr_contract_service_id_is_valid(const gchar *id)
{
	gsize len;

	if (id == NULL)
		return FALSE;
	len = strlen(id);
	if (len == 0 || len > PR_CONTRACT_SERVICE_ID_MAX)
		return FALSE;
	/* narrower than object paths allow ([A-Za-z0-9_]): ids are also GSettings path
	 * elements and directory names of the store, and must not differ only in case */
	for (gsize i = 0; i < len; i++) {
		if (!g_ascii_islower(id[i]) && !g_ascii_isdigit(id[i]) && id[i] != '_')
			return FALSE;
	}
	return TRUE;
}

gchar *
pr_contract_service_path(const gchar *id)
{
	g_return_val_if_fail(pr_contract_service_id_is_valid(id), NULL);
	return g_strconcat(PR_DBUS_SERVICES_PATH "/", id, NULL);
}

const gchar *
pr_contract_service_id_from_path(const gchar *path)
{
	const gchar *id;

	if (path == NULL || !g_str_has_prefix(path, PR_DBUS_SERVICES_PATH "/"))
		return NULL;
	id = path + strlen(PR_DBUS_SERVICES_PATH "/");
	return pr_contract_service_id_is_valid(id) ? id : NULL;
}

gchar *
pr_contract_operation_path(guint64 number)
{
	return g_strdup_printf(PR_DBUS_OPERATIONS_PATH "/%" G_GUINT64_FORMAT, number);
}
