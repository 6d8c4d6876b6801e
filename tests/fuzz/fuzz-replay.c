/*
 * Copyright 2026 The Postroom developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Standalone driver for the fuzz targets: replays each file (or each file of each
 * directory) given on the command line through LLVMFuzzerTestOneInput().
 */
#include <glib.h>

int LLVMFuzzerTestOneInput(const guint8 *data, gsize size);

static gboolean
replay_file(const gchar *path, guint *count)
{
	g_autoptr(GError) error = NULL;
	g_autofree gchar *contents = NULL;
	gsize len = 0;

	if (!g_file_get_contents(path, &contents, &len, &error)) {
		g_printerr("%s\n", error->message);
		return FALSE;
	}
	LLVMFuzzerTestOneInput((const guint8 *)contents, len);
	(*count)++;
	return TRUE;
}

static gboolean
replay_path(const gchar *path, guint *count)
{
	g_autoptr(GDir) dir = NULL;
	const gchar *name;

	if (!g_file_test(path, G_FILE_TEST_IS_DIR))
		return replay_file(path, count);
	dir = g_dir_open(path, 0, NULL);
	if (dir == NULL)
		return FALSE;
	while ((name = g_dir_read_name(dir)) != NULL) {
		g_autofree gchar *child = g_build_filename(path, name, NULL);
		if (!replay_path(child, count))
			return FALSE;
	}
	return TRUE;
}

int
main(int argc, char **argv)
{
	guint count = 0;

	if (argc < 2) {
		g_printerr("usage: %s FILE|DIR...\n", argv[0]);
		return 2;
	}
	for (int i = 1; i < argc; i++) {
		if (!replay_path(argv[i], &count))
			return 1;
	}
	if (count == 0) {
		g_printerr("no corpus files under the given paths\n");
		return 1;
	}
	g_print("replayed %u inputs\n", count);
	return 0;
}
