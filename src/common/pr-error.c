/*
 * Copyright 2026 The Postroom developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#define G_LOG_DOMAIN "PrError"

#include <gio/gio.h>

#include "pr-contract.h"
#include "pr-error.h"

static const GDBusErrorEntry pr_error_entries[] = {
	{ PR_ERROR_FAILED, PR_DBUS_ERROR_PREFIX "Failed" },
	{ PR_ERROR_CANCELLED, PR_DBUS_ERROR_PREFIX "Cancelled" },
	{ PR_ERROR_INVALID_ARGUMENT, PR_DBUS_ERROR_PREFIX "InvalidArgument" },
	{ PR_ERROR_NOT_FOUND, PR_DBUS_ERROR_PREFIX "NotFound" },
	{ PR_ERROR_NOT_CONNECTED, PR_DBUS_ERROR_PREFIX "NotConnected" },
	{ PR_ERROR_BUSY, PR_DBUS_ERROR_PREFIX "Busy" },
	{ PR_ERROR_CONNECT_FAILED, PR_DBUS_ERROR_PREFIX "ConnectFailed" },
	{ PR_ERROR_TLS_FAILED, PR_DBUS_ERROR_PREFIX "TlsFailed" },
	{ PR_ERROR_CERTIFICATE_UNTRUSTED, PR_DBUS_ERROR_PREFIX "CertificateUntrusted" },
	{ PR_ERROR_STARTTLS_UNAVAILABLE, PR_DBUS_ERROR_PREFIX "StartTlsUnavailable" },
	{ PR_ERROR_LOGIN_FAILED, PR_DBUS_ERROR_PREFIX "LoginFailed" },
	{ PR_ERROR_NO_PASSWORD, PR_DBUS_ERROR_PREFIX "NoPassword" },
	{ PR_ERROR_SECRET_SERVICE_UNAVAILABLE, PR_DBUS_ERROR_PREFIX "SecretServiceUnavailable" },
	{ PR_ERROR_SERVER_ERROR, PR_DBUS_ERROR_PREFIX "ServerError" },
	{ PR_ERROR_PROTOCOL_ERROR, PR_DBUS_ERROR_PREFIX "ProtocolError" },
	{ PR_ERROR_TIMEOUT, PR_DBUS_ERROR_PREFIX "Timeout" },
	{ PR_ERROR_NOT_DOWNLOADED, PR_DBUS_ERROR_PREFIX "NotDownloaded" },
	{ PR_ERROR_SEND_FAILED, PR_DBUS_ERROR_PREFIX "SendFailed" },
	{ PR_ERROR_STORE_FAILED, PR_DBUS_ERROR_PREFIX "StoreFailed" },
};
G_STATIC_ASSERT(G_N_ELEMENTS(pr_error_entries) == PR_ERROR_LAST);

GQuark
pr_error_quark(void)
{
	static gsize quark = 0;
	g_dbus_error_register_error_domain(
		"postroom-error-quark", &quark, pr_error_entries, G_N_ELEMENTS(pr_error_entries));
	return (GQuark)quark;
}

const gchar *
pr_error_to_dbus_name(PrError code)
{
	g_return_val_if_fail(code < PR_ERROR_LAST, NULL);
	return pr_error_entries[code].dbus_error_name;
}

/* The short contract name, e.g. "CertificateUntrusted". */
const gchar *
pr_error_to_name(PrError code)
{
	g_return_val_if_fail(code < PR_ERROR_LAST, NULL);
	return pr_error_entries[code].dbus_error_name + strlen(PR_DBUS_ERROR_PREFIX);
}

gboolean
pr_error_from_name(const gchar *name, PrError *code)
{
	for (guint i = 0; i < G_N_ELEMENTS(pr_error_entries); i++) {
		const gchar *full = pr_error_entries[i].dbus_error_name;
		if (g_strcmp0(name, full) == 0 ||
		    g_strcmp0(name, full + strlen(PR_DBUS_ERROR_PREFIX)) == 0) {
			*code = (PrError)i;
			return TRUE;
		}
	}
	return FALSE;
}

/* Map errors of other domains that reach our boundaries onto the contract's names. */
void
pr_error_convert(GError **error)
{
	GError *e;

	if (error == NULL || *error == NULL)
		return;
	e = *error;
	if (e->domain == PR_ERROR)
		return;
	if (g_error_matches(e, G_IO_ERROR, G_IO_ERROR_CANCELLED)) {
		e->code = PR_ERROR_CANCELLED;
	} else if (g_error_matches(e, G_IO_ERROR, G_IO_ERROR_TIMED_OUT)) {
		e->code = PR_ERROR_TIMEOUT;
	} else if (e->domain == G_TLS_ERROR) {
		e->code = PR_ERROR_TLS_FAILED;
	} else if (e->domain == G_RESOLVER_ERROR ||
		   g_error_matches(e, G_IO_ERROR, G_IO_ERROR_CONNECTION_REFUSED) ||
		   g_error_matches(e, G_IO_ERROR, G_IO_ERROR_HOST_UNREACHABLE) ||
		   g_error_matches(e, G_IO_ERROR, G_IO_ERROR_NETWORK_UNREACHABLE)) {
		e->code = PR_ERROR_CONNECT_FAILED;
	} else if (e->domain == G_IO_ERROR) {
		e->code = PR_ERROR_CONNECT_FAILED;
	} else {
		e->code = PR_ERROR_FAILED;
	}
	e->domain = PR_ERROR;
}
