/*
 * Copyright 2026 The Postroom developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

/* Exit codes of postroomctl. */
#define PR_CTL_EXIT_OK	    0
#define PR_CTL_EXIT_FAILED  1 /* the request failed; stderr names the error */
#define PR_CTL_EXIT_USAGE   2 /* bad command line */

/* One sub-command: argv[0] is the sub-command's name. Returns an exit code. */
typedef gint (*PrCtlCommandFunc)(gint argc, gchar **argv);

gint
pr_ctl_probe(gint argc, gchar **argv);

/* Prints "postroomctl: NAME: message" for @error (NAME from the contract). */
void
pr_ctl_print_error(const GError *error);
/* Reads one line from standard input (a password), without its line end. */
gchar *
pr_ctl_read_secret_stdin(GError **error);
/* Writes @dict (a{sv} of strings, booleans, integers and string arrays) as JSON. */
void
pr_ctl_print_json(GVariant *dict, GString *out);

G_END_DECLS
