/*
 * Copyright 2026 The Postroom developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <gio/gio.h>
#include <string.h>

#include "pr-contract.h"
#include "pr-error.h"
#include "pr-settings.h"

static void
test_contract_names(void)
{
	/* the literal names, so that a slip in the header shows here */
	g_assert_cmpstr(PR_DBUS_NAME, ==, "org.postroom.Postroom1");
	g_assert_cmpstr(PR_DBUS_MANAGER_PATH, ==, "/org/postroom/Postroom1");
	g_assert_cmpstr(PR_DBUS_SERVICES_PATH, ==, "/org/postroom/Postroom1/services");
	g_assert_cmpstr(PR_DBUS_OPERATIONS_PATH, ==, "/org/postroom/Postroom1/operations");
	g_assert_cmpstr(PR_DBUS_MANAGER_IFACE, ==, "org.postroom.Postroom1.Manager");
	g_assert_cmpstr(PR_DBUS_SERVICE_IFACE, ==, "org.postroom.Postroom1.Imap4Service");
	g_assert_cmpstr(PR_DBUS_OPERATION_IFACE, ==, "org.postroom.Postroom1.Imap4Operation");
	g_assert_cmpstr(PR_DBUS_ERROR_PREFIX, ==, "org.postroom.Postroom1.Error.");
	g_assert_cmpstr(pr_error_to_dbus_name(PR_ERROR_LOGIN_FAILED),
			==,
			PR_DBUS_ERROR_PREFIX "LoginFailed");
	g_assert_true(g_dbus_is_name(PR_DBUS_NAME));
	g_assert_true(g_dbus_is_interface_name(PR_DBUS_MANAGER_IFACE));
	g_assert_true(g_dbus_is_interface_name(PR_DBUS_SERVICE_IFACE));
	g_assert_true(g_dbus_is_interface_name(PR_DBUS_OPERATION_IFACE));
	g_assert_true(g_variant_is_object_path(PR_DBUS_SERVICES_PATH));
	g_assert_true(g_variant_is_object_path(PR_DBUS_OPERATIONS_PATH));
}

/* The introspection XML is the contract; the header must name its interfaces. */
static void
test_contract_introspection(void)
{
	const struct {
		const gchar *file;
		const gchar *iface;
	} files[] = {
		{ "org.postroom.Postroom1.Manager.xml", PR_DBUS_MANAGER_IFACE },
		{ "org.postroom.Postroom1.Imap4Service.xml", PR_DBUS_SERVICE_IFACE },
		{ "org.postroom.Postroom1.Imap4Operation.xml", PR_DBUS_OPERATION_IFACE },
	};

	for (guint i = 0; i < G_N_ELEMENTS(files); i++) {
		g_autofree gchar *path = g_test_build_filename(
			G_TEST_DIST, "..", "..", "introspection", files[i].file, NULL);
		g_autofree gchar *xml = NULL;
		g_autoptr(GDBusNodeInfo) node = NULL;
		g_autoptr(GError) error = NULL;

		g_assert_true(g_file_get_contents(path, &xml, NULL, &error));
		g_assert_no_error(error);
		node = g_dbus_node_info_new_for_xml(xml, &error);
		g_assert_no_error(error);
		g_assert_nonnull(g_dbus_node_info_lookup_interface(node, files[i].iface));
	}
}

static void
test_contract_service_path(void)
{
	g_autofree gchar *path = pr_contract_service_path("ann_imap_example_com");
	g_autofree gchar *op1 = pr_contract_operation_path(1);
	g_autofree gchar *opmax = pr_contract_operation_path(G_MAXUINT64);

	g_assert_cmpstr(path, ==, "/org/postroom/Postroom1/services/ann_imap_example_com");
	g_assert_true(g_variant_is_object_path(path));
	g_assert_cmpstr(pr_contract_service_id_from_path(path), ==, "ann_imap_example_com");
	g_assert_null(pr_contract_service_id_from_path(PR_DBUS_SERVICES_PATH));
	g_assert_null(pr_contract_service_id_from_path(PR_DBUS_SERVICES_PATH "/"));
	g_assert_null(pr_contract_service_id_from_path(PR_DBUS_SERVICES_PATH "/a/b"));
	g_assert_null(pr_contract_service_id_from_path(PR_DBUS_SERVICES_PATH "x/a"));
	g_assert_null(pr_contract_service_id_from_path(PR_DBUS_OPERATIONS_PATH "/1"));
	g_assert_null(pr_contract_service_id_from_path(NULL));

	g_assert_cmpstr(op1, ==, "/org/postroom/Postroom1/operations/1");
	g_assert_cmpstr(opmax, ==, "/org/postroom/Postroom1/operations/18446744073709551615");
	g_assert_true(g_variant_is_object_path(opmax));
}

static void
test_contract_service_path_invalid(void)
{
	if (g_test_subprocess()) {
		g_autofree gchar *path = pr_contract_service_path("a/b");
		g_assert_null(path);
		return;
	}
	/* an invalid id is a programmer error: the caller checks first */
	g_test_trap_subprocess(NULL, 0, G_TEST_SUBPROCESS_DEFAULT);
	g_test_trap_assert_failed();
	g_test_trap_assert_stderr("*pr_contract_service_id_is_valid*");
}

static void
test_contract_service_id(void)
{
	g_autofree gchar *max = g_strnfill(PR_CONTRACT_SERVICE_ID_MAX, 'a');
	g_autofree gchar *too_long = g_strnfill(PR_CONTRACT_SERVICE_ID_MAX + 1, 'a');
	const struct {
		const gchar *id;
		gboolean valid;
	} table[] = {
		{ "a", TRUE },
		{ "ann_imap_example_com", TRUE },
		{ "ann_imap_example_com_2", TRUE },
		{ "0", TRUE },
		{ "_", TRUE },
		{ max, TRUE },
		{ too_long, FALSE },
		{ "", FALSE },
		{ ".", FALSE },
		{ "..", FALSE },
		{ "a/b", FALSE },
		{ "/", FALSE },
		{ "a/", FALSE },
		{ "a b", FALSE },
		{ "a.b", FALSE },
		{ "a-b", FALSE },
		{ "Ann", FALSE },
		{ "ann\n", FALSE },
		{ "ann@example", FALSE },
		{ "caf\xc3\xa9", FALSE },			   /* café */
		{ "\xe3\x83\xa1\xe3\x83\xbc\xe3\x83\xab", FALSE }, /* Japanese "mail" */
		{ "\xff", FALSE },
	};

	g_assert_false(pr_contract_service_id_is_valid(NULL));
	for (guint i = 0; i < G_N_ELEMENTS(table); i++) {
		g_autofree gchar *path = NULL;
		g_autofree gchar *settings_path = NULL;

		if (pr_contract_service_id_is_valid(table[i].id) != table[i].valid)
			g_error("id “%s”: expected %s",
				table[i].id,
				table[i].valid ? "valid" : "invalid");
		/* the settings model applies the same rule */
		g_assert_cmpint(pr_settings_is_valid_service_id(table[i].id), ==, table[i].valid);
		if (!table[i].valid)
			continue;
		/* usable as an object path element and as a GSettings path element */
		path = pr_contract_service_path(table[i].id);
		g_assert_true(g_variant_is_object_path(path));
		settings_path = pr_settings_service_path(table[i].id);
		g_assert_true(g_str_has_prefix(settings_path, "/org/postroom/Postroom1/services/"));
		g_assert_true(g_str_has_suffix(settings_path, "/"));
		g_assert_null(strstr(settings_path, "//"));
	}
}

static void
test_contract_settings_paths(void)
{
	g_autofree gchar *path = pr_settings_service_path("ann_imap_example_com");
	g_autoptr(GSettings) settings = pr_settings_new_for_service("ann_imap_example_com");
	g_autofree gchar *settings_path = NULL;

	g_assert_cmpstr(PR_SETTINGS_SCHEMA_PATH, ==, "/org/postroom/Postroom1/");
	g_assert_cmpstr(path, ==, "/org/postroom/Postroom1/services/ann_imap_example_com/");
	g_object_get(settings, "path", &settings_path, NULL);
	g_assert_cmpstr(settings_path, ==, path);
}

int
main(int argc, char **argv)
{
	g_setenv("GSETTINGS_BACKEND", "memory", TRUE);
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/contract/names", test_contract_names);
	g_test_add_func("/contract/introspection", test_contract_introspection);
	g_test_add_func("/contract/service-path", test_contract_service_path);
	g_test_add_func("/contract/service-path-invalid", test_contract_service_path_invalid);
	g_test_add_func("/contract/service-id", test_contract_service_id);
	g_test_add_func("/contract/settings-paths", test_contract_settings_paths);
	return g_test_run();
}
