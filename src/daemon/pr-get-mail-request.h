/*
 * Copyright 2026 The Postroom developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include "pr-store.h"

G_BEGIN_DECLS

/* GetMail's options, checked and resolved against the store. */

typedef enum {
	PR_GET_MAIL_ALREADY_CONNECTED,
	PR_GET_MAIL_CONNECT_AND_DISCONNECT,
	PR_GET_MAIL_CONNECT_AND_STAY_ONLINE,
} PrGetMailConnection;

typedef struct {
	PrGetMailConnection connection;
	GArray *ids; /* guint64: the selection, or the folder's messages without a body */
} PrGetMailRequest;

PrGetMailRequest *pr_get_mail_request_new(GVariant *options, PrStore *store, GError **error);
void pr_get_mail_request_free(PrGetMailRequest *request);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(PrGetMailRequest, pr_get_mail_request_free)

G_END_DECLS
