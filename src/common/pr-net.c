/*
 * Copyright 2026 The Postroom developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#define G_LOG_DOMAIN "PrNet"

#include <gio/gio.h>
#include <string.h>

#include "pr-net.h"

/* "localhost" (with the DNS root's dot or not) only: names under it are loopback by RFC
 * 6761, but a resolver that does not know that sends them to DNS, and a plaintext login
 * to a name DNS answers would leave the machine. */
static gboolean
pr_net_name_is_localhost(const gchar *host)
{
	return g_ascii_strcasecmp(host, "localhost") == 0 ||
	       g_ascii_strcasecmp(host, "localhost.") == 0;
}

static gboolean
pr_net_address_is_loopback(const gchar *text)
{
	g_autoptr(GInetAddress) address = g_inet_address_new_from_string(text);

	return address != NULL && g_inet_address_get_is_loopback(address);
}

gboolean
pr_net_host_is_loopback(const gchar *host)
{
	gsize len;

	g_return_val_if_fail(host != NULL, FALSE);
	len = strlen(host);
	if (len == 0)
		return FALSE;
	/* brackets are URL syntax for IPv6 literals only */
	if (host[0] == '[') {
		g_autofree gchar *inner = NULL;
		if (len < 3 || host[len - 1] != ']' || strchr(host + 1, '[') != NULL)
			return FALSE;
		inner = g_strndup(host + 1, len - 2);
		return strchr(inner, ':') != NULL && pr_net_address_is_loopback(inner);
	}
	if (pr_net_address_is_loopback(host))
		return TRUE;
	return pr_net_name_is_localhost(host);
}
