/*
 * Copyright 2026 The Postroom developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#define G_LOG_DOMAIN "PrImap"

#include <glib/gi18n-lib.h>
#include <string.h>

#include "pr-error.h"
#include "pr-imap-probe.h"

struct _PrImapProbe {
	GObject parent_instance;
	PrImapClient *client;
	PrImapSecurity security;
	gchar *user;
	gchar *secret;
	gchar *mechanism;
	gchar **auth_mechanisms; /* as offered before login (after TLS) */
	gboolean authenticated;
	gboolean have_folders;
	guint folders;
	GVariant *result;
};

G_DEFINE_TYPE(PrImapProbe, pr_imap_probe, G_TYPE_OBJECT)

/* What protects the connection; a handshake that failed on the certificate still
 * tells the panel which security it was trying. */
static const gchar *
pr_imap_probe_security(PrImapProbe *self)
{
	if (g_strcmp0(pr_imap_client_get_security_negotiated(self->client), "none") == 0 &&
	    pr_imap_client_get_certificate_sha256(self->client) != NULL)
		return pr_imap_security_to_string(self->security);
	return pr_imap_client_get_security_negotiated(self->client);
}

static void
pr_imap_probe_build_result(PrImapProbe *self)
{
	g_auto(GVariantBuilder) builder = G_VARIANT_BUILDER_INIT(G_VARIANT_TYPE_VARDICT);
	const gchar *sha256 = pr_imap_client_get_certificate_sha256(self->client);
	const gchar *subject = pr_imap_client_get_certificate_subject(self->client);
	const gchar *const *caps = pr_imap_client_get_capabilities(self->client);
	const gchar *const empty[] = { NULL };

	g_variant_builder_add(&builder, "{sv}", "capabilities", g_variant_new_strv(caps, -1));
	g_variant_builder_add(
		&builder, "{sv}", "security", g_variant_new_string(pr_imap_probe_security(self)));
	g_variant_builder_add(&builder,
			      "{sv}",
			      "certificate-sha256",
			      g_variant_new_string(sha256 != NULL ? sha256 : ""));
	g_variant_builder_add(&builder,
			      "{sv}",
			      "certificate-subject",
			      g_variant_new_string(subject != NULL ? subject : ""));
	g_variant_builder_add(
		&builder,
		"{sv}",
		"certificate-trusted",
		g_variant_new_boolean(pr_imap_client_get_certificate_trusted(self->client)));
	g_variant_builder_add(
		&builder,
		"{sv}",
		"auth-mechanisms",
		g_variant_new_strv(self->auth_mechanisms != NULL
					   ? (const gchar *const *)self->auth_mechanisms
					   : empty,
				   -1));
	g_variant_builder_add(
		&builder, "{sv}", "authenticated", g_variant_new_boolean(self->authenticated));
	if (self->have_folders)
		g_variant_builder_add(
			&builder, "{sv}", "folders", g_variant_new_uint32(self->folders));
	g_clear_pointer(&self->result, g_variant_unref);
	self->result = g_variant_ref_sink(g_variant_builder_end(&builder));
}

static void
pr_imap_probe_wipe_secret(PrImapProbe *self)
{
	if (self->secret == NULL)
		return;
	explicit_bzero(self->secret, strlen(self->secret));
	g_clear_pointer(&self->secret, g_free);
}

static void
pr_imap_probe_finish_task(GTask *task, GError *error)
{
	PrImapProbe *self = g_task_get_source_object(task);

	pr_imap_probe_wipe_secret(self);
	pr_imap_probe_build_result(self);
	if (error != NULL) {
		pr_imap_client_close(self->client);
		g_task_return_error(task, error);
		return;
	}
	g_task_return_boolean(task, TRUE);
}

static void
pr_imap_probe_logout_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	g_autoptr(GTask) task = G_TASK(user_data);

	/* never fails the probe: the answers are in already */
	pr_imap_client_logout_finish(PR_IMAP_CLIENT(source), res, NULL);
	pr_imap_probe_finish_task(task, NULL);
}

static void
pr_imap_probe_logout(GTask *task)
{
	PrImapProbe *self = g_task_get_source_object(task);

	pr_imap_probe_build_result(self);
	pr_imap_client_logout_async(self->client,
				    g_task_get_cancellable(task),
				    pr_imap_probe_logout_cb,
				    g_object_ref(task));
}

static void
pr_imap_probe_list_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	g_autoptr(GTask) task = G_TASK(user_data);
	PrImapProbe *self = g_task_get_source_object(task);
	g_autoptr(PrImapResponse) response = NULL;
	g_autoptr(GPtrArray) untagged = NULL;
	g_autoptr(GError) error = NULL;

	response = pr_imap_client_run_finish(PR_IMAP_CLIENT(source), res, &untagged, &error);
	if (response == NULL) {
		pr_imap_probe_finish_task(task, g_steal_pointer(&error));
		return;
	}
	/* every mailbox LIST returns counts, \Noselect ones included */
	self->folders = 0;
	for (guint i = 0; i < untagged->len; i++) {
		PrImapResponse *r = g_ptr_array_index(untagged, i);
		if (g_strcmp0(pr_imap_response_get_keyword(r), "LIST") == 0)
			self->folders++;
	}
	self->have_folders = TRUE;
	pr_imap_probe_logout(task);
}

static void
pr_imap_probe_login_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	g_autoptr(GTask) task = G_TASK(user_data);
	PrImapProbe *self = g_task_get_source_object(task);
	g_autoptr(GError) error = NULL;
	g_autoptr(PrImapCommand) command = NULL;

	pr_imap_probe_wipe_secret(self);
	if (!pr_imap_client_login_finish(PR_IMAP_CLIENT(source), res, &error)) {
		pr_imap_probe_finish_task(task, g_steal_pointer(&error));
		return;
	}
	self->authenticated = TRUE;
	command = pr_imap_command_new("LIST");
	pr_imap_command_add_atom(command, "\"\" \"*\"");
	pr_imap_client_run_async(self->client,
				 command,
				 g_task_get_cancellable(task),
				 pr_imap_probe_list_cb,
				 g_object_ref(task));
}

static void
pr_imap_probe_connect_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	g_autoptr(GTask) task = G_TASK(user_data);
	PrImapProbe *self = g_task_get_source_object(task);
	g_autoptr(GError) error = NULL;

	if (!pr_imap_client_connect_finish(PR_IMAP_CLIENT(source), res, &error)) {
		pr_imap_probe_finish_task(task, g_steal_pointer(&error));
		return;
	}
	g_strfreev(self->auth_mechanisms);
	self->auth_mechanisms = pr_imap_client_dup_auth_mechanisms(self->client);
	if (self->secret == NULL) {
		pr_imap_probe_logout(task);
		return;
	}
	pr_imap_client_login_async(self->client,
				   self->user,
				   self->secret,
				   self->mechanism,
				   g_task_get_cancellable(task),
				   pr_imap_probe_login_cb,
				   g_object_ref(task));
}

void
pr_imap_probe_run_async(PrImapProbe *self,
			GCancellable *cancellable,
			GAsyncReadyCallback callback,
			gpointer user_data)
{
	g_autoptr(GTask) task = g_task_new(self, cancellable, callback, user_data);

	g_return_if_fail(PR_IS_IMAP_PROBE(self));
	g_task_set_source_tag(task, pr_imap_probe_run_async);
	g_task_set_check_cancellable(task, FALSE);
	pr_imap_client_connect_async(
		self->client, cancellable, pr_imap_probe_connect_cb, g_steal_pointer(&task));
}

gboolean
pr_imap_probe_run_finish(PrImapProbe *self, GAsyncResult *res, GError **error)
{
	g_return_val_if_fail(g_task_is_valid(res, self), FALSE);
	return g_task_propagate_boolean(G_TASK(res), error);
}

GVariant *
pr_imap_probe_get_result(PrImapProbe *self)
{
	g_return_val_if_fail(PR_IS_IMAP_PROBE(self), NULL);
	if (self->result == NULL)
		pr_imap_probe_build_result(self);
	return self->result;
}

void
pr_imap_probe_set_timeout(PrImapProbe *self, guint seconds)
{
	g_return_if_fail(PR_IS_IMAP_PROBE(self));
	pr_imap_client_set_timeout(self->client, seconds);
}

gboolean
pr_imap_probe_set_ca_file(PrImapProbe *self, const gchar *path, GError **error)
{
	g_return_val_if_fail(PR_IS_IMAP_PROBE(self), FALSE);
	return pr_imap_client_set_ca_file(self->client, path, error);
}

gboolean
pr_imap_probe_set_pinned_certificate(PrImapProbe *self, const gchar *sha256, GError **error)
{
	g_return_val_if_fail(PR_IS_IMAP_PROBE(self), FALSE);
	return pr_imap_client_set_pinned_certificate(self->client, sha256, error);
}

void
pr_imap_probe_set_login(PrImapProbe *self,
			const gchar *user,
			const gchar *secret,
			const gchar *mechanism)
{
	g_return_if_fail(PR_IS_IMAP_PROBE(self));
	pr_imap_probe_wipe_secret(self);
	g_free(self->user);
	g_free(self->mechanism);
	self->user = g_strdup(user);
	self->secret = g_strdup(secret);
	self->mechanism = g_strdup(mechanism != NULL ? mechanism : "auto");
}

static void
pr_imap_probe_finalize(GObject *object)
{
	PrImapProbe *self = PR_IMAP_PROBE(object);

	pr_imap_probe_wipe_secret(self);
	g_clear_object(&self->client);
	g_free(self->user);
	g_free(self->mechanism);
	g_strfreev(self->auth_mechanisms);
	g_clear_pointer(&self->result, g_variant_unref);
	G_OBJECT_CLASS(pr_imap_probe_parent_class)->finalize(object);
}

static void
pr_imap_probe_class_init(PrImapProbeClass *klass)
{
	GObjectClass *object_class = G_OBJECT_CLASS(klass);
	object_class->finalize = pr_imap_probe_finalize;
}

static void
pr_imap_probe_init(PrImapProbe *self)
{
}

PrImapProbe *
pr_imap_probe_new(const gchar *host, guint16 port, PrImapSecurity security)
{
	PrImapProbe *self = g_object_new(PR_TYPE_IMAP_PROBE, NULL);
	self->client = pr_imap_client_new(host, port, security);
	self->security = security;
	return self;
}

PrImapClient *
pr_imap_probe_get_client(PrImapProbe *self)
{
	g_return_val_if_fail(PR_IS_IMAP_PROBE(self), NULL);
	return self->client;
}
