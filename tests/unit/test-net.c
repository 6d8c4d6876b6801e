/*
 * Copyright 2026 The Postroom developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <glib.h>

#include "pr-net.h"

static void
test_net_loopback(void)
{
	const struct {
		const gchar *host;
		gboolean loopback;
	} table[] = {
		/* names */
		{ "localhost", TRUE },
		{ "LOCALHOST", TRUE },
		{ "LocalHost", TRUE },
		{ "localhost.", TRUE },
		{ "imap.localhost", FALSE },
		{ "a.b.localhost", FALSE },
		{ "IMAP.LocalHost.", FALSE },
		{ "LocalHost.", TRUE },
		{ "mail-1.localhost", FALSE },
		{ "localhost..", FALSE },
		{ ".localhost", FALSE },
		{ "a..localhost", FALSE },
		{ "a b.localhost", FALSE },
		{ "a/b.localhost", FALSE },
		{ "xlocalhost", FALSE },
		{ "localhost.example.com", FALSE },
		{ "localhostx", FALSE },
		{ "localhos", FALSE },
		{ "local", FALSE },
		{ "example.com", FALSE },
		{ "", FALSE },
		{ ".", FALSE },
		{ " localhost", FALSE },
		{ "localhost ", FALSE },
		{ "l\xc3\xb6"
		  "calhost",
		  FALSE }, /* lö… */
		/* IPv4 */
		{ "127.0.0.1", TRUE },
		{ "127.1.2.3", TRUE },
		{ "127.255.255.255", TRUE },
		{ "127.0.0.0", TRUE },
		{ "128.0.0.1", FALSE },
		{ "126.255.255.255", FALSE },
		{ "10.0.0.1", FALSE },
		{ "0.0.0.0", FALSE },
		{ "192.0.2.7", FALSE },
		{ "127.0.0.1.", FALSE },
		{ "127.0.0.256", FALSE },
		{ "[127.0.0.1]", FALSE },
		/* IPv6 */
		{ "::1", TRUE },
		{ "0:0:0:0:0:0:0:1", TRUE },
		{ "[::1]", TRUE },
		{ "[0:0::1]", TRUE },
		{ "::", FALSE },
		{ "::2", FALSE },
		{ "2001:db8::1", FALSE },
		{ "[2001:db8::1]", FALSE },
		{ "[::1", FALSE },
		{ "::1]", FALSE },
		{ "[[::1]]", FALSE },
		{ "[]", FALSE },
		{ "[localhost]", FALSE },
	};

	for (guint i = 0; i < G_N_ELEMENTS(table); i++) {
		if (pr_net_host_is_loopback(table[i].host) != table[i].loopback)
			g_error("“%s”: expected %s",
				table[i].host,
				table[i].loopback ? "loopback" : "not loopback");
	}
}

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/net/loopback", test_net_loopback);
	return g_test_run();
}
