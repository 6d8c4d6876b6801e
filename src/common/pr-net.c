/*
 * Copyright 2026 The Postroom developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#define G_LOG_DOMAIN "PrNet"

#include <gio/gio.h>
#include <string.h>

#include "pr-net.h"

static gboolean
pr_net_label_is_valid(const gchar *label)
{
	gsize len = strlen(label);

	if (len == 0 || len > 63)
		return FALSE;
	for (gsize i = 0; i < len; i++) {
		if (!g_ascii_isalnum(label[i]) && label[i] != '-' && label[i] != '_')
			return FALSE;
	}
	return TRUE;
}

static gboolean
pr_net_name_is_localhost(const gchar *host)
{
	g_autofree gchar *name = g_strdup(host);
	g_auto(GStrv) labels = NULL;
	guint n;

	/* one trailing dot is the DNS root: "localhost." is the same name */
	if (g_str_has_suffix(name, "."))
		name[strlen(name) - 1] = '\0';
	labels = g_strsplit(name, ".", -1);
	n = g_strv_length(labels);
	if (n == 0 || g_ascii_strcasecmp(labels[n - 1], "localhost") != 0)
		return FALSE;
	/* names under localhost are loopback as well (RFC 6761), if they are names at all */
	for (guint i = 0; i + 1 < n; i++) {
		if (!pr_net_label_is_valid(labels[i]))
			return FALSE;
	}
	return TRUE;
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
