/*
 * Copyright 2026 The Postroom developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <gio/gio.h>

#include "pr-operation.h"

G_BEGIN_DECLS

#define PR_TYPE_DAEMON (pr_daemon_get_type())
G_DECLARE_FINAL_TYPE(PrDaemon, pr_daemon, PR, DAEMON, GObject)

/* The bus side of postroomd: the ObjectManager, the Manager interface and one
 * PrService per account. "quit" is emitted when the bus name is lost. */
PrDaemon *pr_daemon_new(void);
/* Connects to @address (NULL: the session bus), exports every configured account and
 * then asks for the bus name (replacing a running daemon when @replace). */
gboolean pr_daemon_start(PrDaemon *self, const gchar *address, gboolean replace, GError **error);
void pr_daemon_stop(PrDaemon *self);
/* A new exported operation with the next number. */
PrOperation *pr_daemon_new_operation(PrDaemon *self, const gchar *kind, const gchar *service_path);

G_END_DECLS
