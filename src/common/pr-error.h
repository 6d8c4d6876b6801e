/*
 * Copyright 2026 The Postroom developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define PR_ERROR (pr_error_quark())

/* The order matches the D-Bus contract; pr-error.c holds the names. */
typedef enum {
	PR_ERROR_FAILED,
	PR_ERROR_CANCELLED,
	PR_ERROR_INVALID_ARGUMENT,
	PR_ERROR_NOT_FOUND,
	PR_ERROR_NOT_CONNECTED,
	PR_ERROR_BUSY,
	PR_ERROR_CONNECT_FAILED,
	PR_ERROR_TLS_FAILED,
	PR_ERROR_CERTIFICATE_UNTRUSTED,
	PR_ERROR_STARTTLS_UNAVAILABLE,
	PR_ERROR_LOGIN_FAILED,
	PR_ERROR_NO_PASSWORD,
	PR_ERROR_SECRET_SERVICE_UNAVAILABLE,
	PR_ERROR_SERVER_ERROR,
	PR_ERROR_PROTOCOL_ERROR,
	PR_ERROR_TIMEOUT,
	PR_ERROR_NOT_DOWNLOADED,
	PR_ERROR_SEND_FAILED,
	PR_ERROR_STORE_FAILED,
	PR_ERROR_LAST /*< skip >*/
} PrError;

GQuark pr_error_quark(void);
const gchar *pr_error_to_name(PrError code);
const gchar *pr_error_to_dbus_name(PrError code);
gboolean pr_error_from_name(const gchar *name, PrError *code);
void pr_error_convert(GError **error);

G_END_DECLS
