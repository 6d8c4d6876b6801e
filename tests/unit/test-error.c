/*
 * Copyright 2026 The Postroom developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <gio/gio.h>

#include "pr-error.h"

static void
test_error_names(void)
{
	PrError code = PR_ERROR_FAILED;

	g_assert_cmpstr(
		pr_error_to_name(PR_ERROR_CERTIFICATE_UNTRUSTED), ==, "CertificateUntrusted");
	g_assert_cmpstr(pr_error_to_dbus_name(PR_ERROR_STARTTLS_UNAVAILABLE),
			==,
			"org.postroom.Postroom1.Error.StartTlsUnavailable");
	g_assert_true(pr_error_from_name("LoginFailed", &code));
	g_assert_cmpint(code, ==, PR_ERROR_LOGIN_FAILED);
	g_assert_true(pr_error_from_name("org.postroom.Postroom1.Error.Timeout", &code));
	g_assert_cmpint(code, ==, PR_ERROR_TIMEOUT);
	g_assert_false(pr_error_from_name("Nonsense", &code));
	for (guint i = 0; i < PR_ERROR_LAST; i++) {
		PrError back = PR_ERROR_LAST;
		g_assert_true(pr_error_from_name(pr_error_to_name(i), &back));
		g_assert_cmpint(back, ==, i);
	}
}

static void
test_error_dbus(void)
{
	g_autoptr(GError) error = g_error_new_literal(PR_ERROR, PR_ERROR_LOGIN_FAILED, "nope");
	g_autofree gchar *remote = g_dbus_error_get_remote_error(error);
	g_autoptr(GError) back = NULL;

	/* registered domain: the D-Bus name round-trips into our domain and code */
	g_assert_cmpstr(remote, ==, "org.postroom.Postroom1.Error.LoginFailed");
	back = g_dbus_error_new_for_dbus_error("org.postroom.Postroom1.Error.LoginFailed", "x");
	g_assert_error(back, PR_ERROR, PR_ERROR_LOGIN_FAILED);
}

static void
test_error_convert(void)
{
	g_autoptr(GError) e1 = g_error_new_literal(G_IO_ERROR, G_IO_ERROR_CANCELLED, "c");
	g_autoptr(GError) e2 = g_error_new_literal(G_IO_ERROR, G_IO_ERROR_TIMED_OUT, "t");
	g_autoptr(GError) e3 = g_error_new_literal(G_TLS_ERROR, G_TLS_ERROR_HANDSHAKE, "h");
	g_autoptr(GError) e4 = g_error_new_literal(G_IO_ERROR, G_IO_ERROR_CONNECTION_REFUSED, "r");

	pr_error_convert(&e1);
	pr_error_convert(&e2);
	pr_error_convert(&e3);
	pr_error_convert(&e4);
	g_assert_error(e1, PR_ERROR, PR_ERROR_CANCELLED);
	g_assert_error(e2, PR_ERROR, PR_ERROR_TIMEOUT);
	g_assert_error(e3, PR_ERROR, PR_ERROR_TLS_FAILED);
	g_assert_error(e4, PR_ERROR, PR_ERROR_CONNECT_FAILED);
}

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/error/names", test_error_names);
	g_test_add_func("/error/dbus", test_error_dbus);
	g_test_add_func("/error/convert", test_error_convert);
	return g_test_run();
}
