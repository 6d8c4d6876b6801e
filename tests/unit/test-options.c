/*
 * Copyright 2026 The Postroom developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "pr-error.h"
#include "pr-options.h"

static const gchar *const colours[] = { "red", "green", NULL };

static const PrOptionSpec specs[] = {
	{ "count", "u", NULL },
	{ "ids", "at", NULL },
	{ "colour", "s", colours },
	{ "name", "s", NULL },
};

typedef struct {
	const gchar *dict; /* GVariant text of an a{sv} */
	PrOptionsKind kind;
	gboolean use_specs;
	const gchar *error; /* NULL: accepted; else the expected message */
} Row;

static const Row rows[] = {
	{ "@a{sv} {}", PR_OPTIONS_KIND_OPTION, FALSE, NULL },
	{ "@a{sv} {}", PR_OPTIONS_KIND_OPTION, TRUE, NULL },
	{ "{'count': <@u 3>}", PR_OPTIONS_KIND_OPTION, TRUE, NULL },
	{ "{'count': <@u 3>}", PR_OPTIONS_KIND_OPTION, FALSE, "Unknown option “count”" },
	{ "{'count': <@u 3>}", PR_OPTIONS_KIND_QUERY, FALSE, "Unknown query key “count”" },
	{ "{'count': <3>}", PR_OPTIONS_KIND_OPTION, TRUE, "Option “count” must be of type u" },
	{ "{'count': <3>}", PR_OPTIONS_KIND_QUERY, TRUE, "Query key “count” must be of type u" },
	{ "{'ids': <@at [1, 2]>, 'name': <'x'>}", PR_OPTIONS_KIND_OPTION, TRUE, NULL },
	{ "{'ids': <@au [1]>}", PR_OPTIONS_KIND_OPTION, TRUE, "Option “ids” must be of type at" },
	{ "{'colour': <'green'>}", PR_OPTIONS_KIND_OPTION, TRUE, NULL },
	{ "{'colour': <'blue'>}",
	  PR_OPTIONS_KIND_OPTION,
	  TRUE,
	  "Option “colour” must be one of: red, green" },
	{ "{'name': <'a'>, 'bogus': <true>}",
	  PR_OPTIONS_KIND_OPTION,
	  TRUE,
	  "Unknown option “bogus”" },
};

static void
test_table(void)
{
	for (gsize i = 0; i < G_N_ELEMENTS(rows); i++) {
		const Row *row = &rows[i];
		g_autoptr(GVariant) dict = g_variant_ref_sink(
			g_variant_parse(G_VARIANT_TYPE_VARDICT, row->dict, NULL, NULL, NULL));
		g_autoptr(GError) error = NULL;
		gboolean ok;

		g_assert_nonnull(dict);
		ok = pr_options_check(dict,
				      row->kind,
				      row->use_specs ? specs : NULL,
				      row->use_specs ? G_N_ELEMENTS(specs) : 0,
				      &error);
		g_test_message("row %" G_GSIZE_FORMAT ": %s", i, row->dict);
		if (row->error == NULL) {
			g_assert_no_error(error);
			g_assert_true(ok);
		} else {
			g_assert_error(error, PR_ERROR, PR_ERROR_INVALID_ARGUMENT);
			g_assert_cmpstr(error->message, ==, row->error);
			g_assert_false(ok);
		}
	}
}

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/options/table", test_table);
	return g_test_run();
}
