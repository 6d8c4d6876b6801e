/*
 * Copyright 2026 The Postroom developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/*
 * Whether @host names this machine, so that a connection to it never leaves it: "localhost"
 * (not the names under it, which a resolver may send to DNS), with or without the root's
 * trailing dot, an IPv4
 * address in 127.0.0.0/8, or the IPv6 address ::1, bare or in brackets. Names compare
 * case-insensitively. Used wherever a plaintext connection is allowed only to loopback.
 */
gboolean pr_net_host_is_loopback(const gchar *host);

G_END_DECLS
