/*
 * Copyright 2026 The Postroom developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/*
 * The names of the D-Bus contract (the files in introspection/), defined here once for the daemon,
 * postroomctl and the benchmarks. The macros need no linking (bench/sync builds without
 * Meson); the functions are in the common library.
 */

#define PR_DBUS_NAME		"org.postroom.Postroom1"
#define PR_DBUS_MANAGER_PATH	"/org/postroom/Postroom1"
#define PR_DBUS_SERVICES_PATH	PR_DBUS_MANAGER_PATH "/services"
#define PR_DBUS_OPERATIONS_PATH PR_DBUS_MANAGER_PATH "/operations"

#define PR_DBUS_MANAGER_IFACE	"org.postroom.Postroom1.Manager"
#define PR_DBUS_SERVICE_IFACE	"org.postroom.Postroom1.Imap4Service"
#define PR_DBUS_OPERATION_IFACE "org.postroom.Postroom1.Imap4Operation"

/* Followed by a PrError name ("LoginFailed"), see pr-error.h. */
#define PR_DBUS_ERROR_PREFIX "org.postroom.Postroom1.Error."

/* Longest service id, in bytes. */
#define PR_CONTRACT_SERVICE_ID_MAX 64

/*
 * The one rule for service ids, wherever one comes from (AddService, --service, a path):
 * 1 to PR_CONTRACT_SERVICE_ID_MAX bytes of a-z, 0-9 and _. Such an id is a valid D-Bus
 * object path element and GSettings path element, and can never be "", ".." or hold a '/'.
 */
gboolean pr_contract_service_id_is_valid(const gchar *id);
/* PR_DBUS_SERVICES_PATH "/ID"; @id must be valid. */
gchar *pr_contract_service_path(const gchar *id);
/* The id in a service object path, or NULL when @path is none (static: points into @path). */
const gchar *pr_contract_service_id_from_path(const gchar *path);
/* PR_DBUS_OPERATIONS_PATH "/NUMBER". */
gchar *pr_contract_operation_path(guint64 number);

G_END_DECLS
