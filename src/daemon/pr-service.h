/*
 * Copyright 2026 The Postroom developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

typedef struct _PrDaemon PrDaemon;

#define PR_TYPE_SERVICE (pr_service_get_type())
G_DECLARE_FINAL_TYPE(PrService, pr_service, PR, SERVICE, GObject)

/* One account: its org.postroom.Postroom1.Imap4Service object, settings, store,
 * connection and the queue of its operations (one writer at a time). */
PrService *pr_service_new(PrDaemon *daemon,
			  GDBusObjectManagerServer *manager,
			  const gchar *id,
			  GError **error);
const gchar *pr_service_get_id(PrService *self);
const gchar *pr_service_get_path(PrService *self);
/* RemoveService: disconnect, delete passwords, store and settings, unexport. */
void pr_service_remove_async(PrService *self,
			     GCancellable *cancellable,
			     GAsyncReadyCallback callback,
			     gpointer user_data);
gboolean pr_service_remove_finish(PrService *self, GAsyncResult *res, GError **error);
/* Daemon exit: close connections at once; nothing is deleted. */
void pr_service_shutdown(PrService *self);

G_END_DECLS
