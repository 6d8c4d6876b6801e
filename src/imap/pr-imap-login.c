/*
 * Copyright 2026 The Postroom developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#define G_LOG_DOMAIN "PrImap"

#include <glib/gi18n-lib.h>
#include <string.h>

#include "pr-error.h"
#include "pr-imap-client-private.h"

/*
 * PrImapClient's login: the choice of mechanism, LOGIN or AUTHENTICATE and its SASL steps,
 * then the capabilities after authentication, ENABLE, ID, the hierarchy delimiter and
 * COMPRESS.
 */
/* Login -------------------------------------------------------------------------------- */

/* One step of an AUTHENTICATE exchange: the server's challenge in, our answer out. */
void
pr_imap_client_sasl_continue(PrImapClient *self, PrImapPending *pending, PrImapResponse *response)
{
	g_autoptr(GError) error = NULL;
	const gchar *text = pr_imap_response_get_continuation(response);
	g_autoptr(GBytes) challenge = NULL;
	g_autoptr(GBytes) answer = NULL;
	g_autofree gchar *encoded = NULL;
	g_autofree gchar *line = NULL;
	gsize len = 0;
	guchar *decoded = NULL;

	/* SASL challenges are base64; a non-base64 one is a protocol error */
	if (text == NULL)
		text = "";
	for (const gchar *p = text; *p != '\0'; p++) {
		if (!g_ascii_isalnum(*p) && *p != '+' && *p != '/' && *p != '=') {
			error = g_error_new_literal(PR_ERROR,
						    PR_ERROR_PROTOCOL_ERROR,
						    _("The server sent a malformed "
						      "authentication challenge"));
			pr_imap_client_abort(self, error);
			return;
		}
	}
	decoded = g_base64_decode(text, &len);
	challenge = g_bytes_new_take(decoded, len);
	answer = pr_imap_sasl_step(pending->sasl, challenge, &error);
	if (answer == NULL) {
		/* cancel the exchange as RFC 9051 says: a line with "*" */
		pr_imap_client_queue_line(self, "*\r\n");
		pr_imap_pending_return_error(pending, error);
		return;
	}
	encoded = g_base64_encode(g_bytes_get_data(answer, NULL), g_bytes_get_size(answer));
	line = g_strdup_printf("%s\r\n", encoded);
	explicit_bzero(encoded, strlen(encoded));
	pr_imap_client_queue_line(self, line);
	explicit_bzero(line, strlen(line));
}

typedef struct {
	guint pending;
	gboolean failed;
} SetupData;

static void
pr_imap_client_login_fail(GTask *task, GError *error)
{
	PrImapClient *self = g_task_get_source_object(task);

	pr_error_convert(&error);
	if (error->code == PR_ERROR_CANCELLED && self->timed_out)
		error->code = PR_ERROR_TIMEOUT;
	g_task_return_error(task, error);
}

static void
pr_imap_client_compress_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	g_autoptr(GTask) task = G_TASK(user_data);
	PrImapClient *self = PR_IMAP_CLIENT(source);
	g_autoptr(PrImapResponse) response = NULL;
	g_autoptr(GError) error = NULL;

	response = pr_imap_client_run_finish(self, res, NULL, &error);
	if (response == NULL) {
		if (g_error_matches(error, PR_ERROR, PR_ERROR_SERVER_ERROR)) {
			/* compression is an optimisation: carry on without it */
			g_debug("COMPRESS refused: %s", error->message);
			g_task_return_boolean(task, TRUE);
			return;
		}
		pr_imap_client_login_fail(task, g_steal_pointer(&error));
		return;
	}
	pr_imap_client_start_compression(self);
	g_task_return_boolean(task, TRUE);
}

static void
pr_imap_client_setup_done(GTask *task)
{
	PrImapClient *self = g_task_get_source_object(task);

	if (self->want_compress && pr_imap_client_has_capability(self, "COMPRESS=DEFLATE")) {
		g_autoptr(PrImapCommand) command = pr_imap_command_new("COMPRESS");
		pr_imap_command_add_atom(command, "DEFLATE");
		pr_imap_client_run_internal(self,
					    command,
					    CMD_FLAG_EXCLUSIVE | CMD_FLAG_BOUNDARY,
					    g_task_get_cancellable(task),
					    pr_imap_client_compress_cb,
					    g_object_ref(task));
		return;
	}
	g_task_return_boolean(task, TRUE);
}

static void
pr_imap_client_setup_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	g_autoptr(GTask) task = G_TASK(user_data);
	PrImapClient *self = PR_IMAP_CLIENT(source);
	SetupData *data = g_task_get_task_data(task);
	g_autoptr(PrImapResponse) response = NULL;
	g_autoptr(GPtrArray) untagged = NULL;
	g_autoptr(GError) error = NULL;

	response = pr_imap_client_run_finish(self, res, &untagged, &error);
	data->pending--;
	if (data->failed)
		return;
	if (response == NULL) {
		/* ENABLE, ID and LIST "" "" are optional niceties; a dead line is not */
		if (!g_error_matches(error, PR_ERROR, PR_ERROR_SERVER_ERROR)) {
			data->failed = TRUE;
			pr_imap_client_login_fail(task, g_steal_pointer(&error));
			return;
		}
		g_debug("optional command refused: %s", error->message);
	} else {
		for (guint i = 0; i < untagged->len; i++) {
			PrImapResponse *r = g_ptr_array_index(untagged, i);
			const gchar *kw = pr_imap_response_get_keyword(r);
			if (g_strcmp0(kw, "ENABLED") == 0) {
				g_auto(GStrv) enabled = pr_imap_response_dup_enabled(r);
				if (enabled != NULL &&
				    g_strv_contains((const gchar *const *)enabled, "UTF8=ACCEPT"))
					self->utf8 = TRUE;
			} else if (g_strcmp0(kw, "LIST") == 0) {
				g_autoptr(PrImapListEntry) entry =
					pr_imap_response_parse_list(r, FALSE, NULL);
				if (entry != NULL)
					self->delimiter = entry->delimiter;
			}
		}
	}
	if (data->pending == 0)
		pr_imap_client_setup_done(task);
}

static void
pr_imap_client_setup_queue(PrImapClient *self, GTask *task, PrImapCommand *command)
{
	SetupData *data = g_task_get_task_data(task);

	data->pending++;
	pr_imap_client_run_internal(self,
				    command,
				    CMD_FLAG_NONE,
				    g_task_get_cancellable(task),
				    pr_imap_client_setup_cb,
				    g_object_ref(task));
}

/* After authentication: ENABLE, ID and the hierarchy delimiter, pipelined in one go. */
static void
pr_imap_client_setup(GTask *task)
{
	PrImapClient *self = g_task_get_source_object(task);
	g_autoptr(GString) enable = g_string_new(NULL);
	g_autoptr(PrImapCommand) list = NULL;

	self->state = PR_IMAP_CLIENT_STATE_AUTHENTICATED;
	g_task_set_task_data(task, g_new0(SetupData, 1), g_free);
	if (pr_imap_client_has_capability(self, "QRESYNC"))
		g_string_append(enable, " QRESYNC");
	else if (pr_imap_client_has_capability(self, "CONDSTORE"))
		g_string_append(enable, " CONDSTORE");
	if (pr_imap_client_has_capability(self, "UTF8=ACCEPT"))
		g_string_append(enable, " UTF8=ACCEPT");
	if (enable->len > 0 && pr_imap_client_has_capability(self, "ENABLE")) {
		g_autoptr(PrImapCommand) command = pr_imap_command_new("ENABLE");
		pr_imap_command_add_atom(command, enable->str + 1);
		pr_imap_client_setup_queue(self, task, command);
	}
	if (pr_imap_client_has_capability(self, "ID")) {
		g_autoptr(PrImapCommand) command = pr_imap_command_new("ID");
		/* name and version only: nothing that identifies the user or machine */
		pr_imap_command_add_printf(
			command, "(\"name\" \"Postroom\" \"version\" \"%s\")", PACKAGE_VERSION);
		pr_imap_client_setup_queue(self, task, command);
	}
	list = pr_imap_command_new("LIST");
	pr_imap_command_add_atom(list, "\"\" \"\"");
	pr_imap_client_setup_queue(self, task, list);
}

static void
pr_imap_client_login_caps_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	g_autoptr(GTask) task = G_TASK(user_data);
	PrImapClient *self = PR_IMAP_CLIENT(source);
	g_autoptr(PrImapResponse) response = NULL;
	g_autoptr(GError) error = NULL;

	response = pr_imap_client_run_finish(self, res, NULL, &error);
	if (response == NULL) {
		pr_imap_client_login_fail(task, g_steal_pointer(&error));
		return;
	}
	pr_imap_client_setup(task);
}

static void
pr_imap_client_auth_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	g_autoptr(GTask) task = G_TASK(user_data);
	PrImapClient *self = PR_IMAP_CLIENT(source);
	PrImapSasl *sasl = g_task_get_task_data(task);
	g_autoptr(PrImapResponse) response = NULL;
	g_autoptr(GError) error = NULL;
	g_auto(GStrv) caps = NULL;

	response = pr_imap_client_run_finish(self, res, NULL, &error);
	if (response == NULL) {
		if (g_error_matches(error, PR_ERROR, PR_ERROR_SERVER_ERROR) ||
		    g_error_matches(error, PR_ERROR, PR_ERROR_LOGIN_FAILED)) {
			pr_imap_client_login_fail(
				task,
				g_error_new(PR_ERROR,
					    PR_ERROR_LOGIN_FAILED,
					    _("The server %s rejected the login: %s"),
					    self->host,
					    error->message));
			return;
		}
		pr_imap_client_login_fail(task, g_steal_pointer(&error));
		return;
	}
	if (sasl != NULL && !pr_imap_sasl_is_complete(sasl)) {
		/* SCRAM: a server that did not prove it knows the password is not trusted */
		pr_imap_client_login_fail(
			task,
			g_error_new(PR_ERROR,
				    PR_ERROR_LOGIN_FAILED,
				    _("The server %s did not complete the authentication exchange"),
				    self->host));
		return;
	}
	g_task_set_task_data(task, NULL, NULL);

	/* capabilities change with authentication; a [CAPABILITY] in this OK is trusted
	 * (TLS is up by now, or the user chose none) */
	caps = pr_imap_response_dup_capabilities(response);
	if (caps != NULL) {
		pr_imap_client_set_capabilities(self, g_steal_pointer(&caps));
		pr_imap_client_setup(task);
	} else {
		g_autoptr(PrImapCommand) command = pr_imap_command_new("CAPABILITY");
		pr_imap_client_set_capabilities(self, NULL);
		pr_imap_client_run_internal(self,
					    command,
					    CMD_FLAG_NONE,
					    g_task_get_cancellable(task),
					    pr_imap_client_login_caps_cb,
					    g_object_ref(task));
	}
}

void
pr_imap_client_login_async(PrImapClient *self,
			   const gchar *user,
			   const gchar *secret,
			   const gchar *mechanism,
			   GCancellable *cancellable,
			   GAsyncReadyCallback callback,
			   gpointer user_data)
{
	g_autoptr(GTask) task = NULL;
	g_autoptr(GError) error = NULL;
	g_autoptr(PrImapCommand) command = NULL;
	g_autoptr(PrImapSasl) sasl = NULL;
	g_auto(GStrv) offered = NULL;
	g_autofree gchar *mech = NULL;
	CmdFlags flags = CMD_FLAG_EXCLUSIVE;

	g_return_if_fail(PR_IS_IMAP_CLIENT(self));
	g_return_if_fail(user != NULL && secret != NULL);

	task = g_task_new(self, cancellable, callback, user_data);
	g_task_set_source_tag(task, pr_imap_client_login_async);
	if (!pr_imap_client_is_connected(self) || self->connect_task != NULL) {
		g_task_return_new_error(
			task, PR_ERROR, PR_ERROR_NOT_CONNECTED, _("Not connected to the server"));
		return;
	}
	if (self->state == PR_IMAP_CLIENT_STATE_AUTHENTICATED) {
		/* PREAUTH over TLS */
		g_task_return_boolean(task, TRUE);
		return;
	}
	if (self->state != PR_IMAP_CLIENT_STATE_NOT_AUTHENTICATED) {
		g_task_return_new_error(task, PR_ERROR, PR_ERROR_BUSY, _("Already logged in"));
		return;
	}
	/* TLS is mandatory for credentials unless the user chose no security at all */
	if (self->security != PR_IMAP_SECURITY_NONE && !self->tls_active) {
		g_task_return_new_error(task,
					PR_ERROR,
					PR_ERROR_TLS_FAILED,
					_("Refusing to send credentials without TLS"));
		return;
	}

	offered = pr_imap_client_dup_auth_mechanisms(self);
	mech = pr_imap_sasl_choose(
		mechanism != NULL ? mechanism : "auto", (const gchar *const *)offered, &error);
	if (mech == NULL && error != NULL) {
		pr_imap_client_login_fail(task, g_steal_pointer(&error));
		return;
	}
	if (mech == NULL) {
		if (pr_imap_client_has_capability(self, "LOGINDISABLED")) {
			g_task_return_new_error(task,
						PR_ERROR,
						PR_ERROR_LOGIN_FAILED,
						_("The server %s does not allow logging in here "
						  "(LOGINDISABLED)"),
						self->host);
			return;
		}
		command = pr_imap_command_new("LOGIN");
		pr_imap_command_set_sensitive(command, TRUE);
		pr_imap_command_add_string(command, user, -1);
		pr_imap_command_add_string(command, secret, -1);
	} else {
		sasl = pr_imap_sasl_new(mech, user, secret, self->host, self->port, &error);
		if (sasl == NULL) {
			pr_imap_client_login_fail(task, g_steal_pointer(&error));
			return;
		}
		command = pr_imap_command_new("AUTHENTICATE");
		pr_imap_command_set_sensitive(command, TRUE);
		pr_imap_command_add_atom(command, mech);
		if (pr_imap_sasl_has_initial_response(sasl) &&
		    pr_imap_client_has_capability(self, "SASL-IR")) {
			g_autoptr(GBytes) initial = pr_imap_sasl_step(sasl, NULL, &error);
			g_autofree gchar *encoded = NULL;
			if (initial == NULL) {
				pr_imap_client_login_fail(task, g_steal_pointer(&error));
				return;
			}
			/* RFC 4959: an empty initial response is sent as "=" */
			encoded = g_bytes_get_size(initial) == 0
					  ? g_strdup("=")
					  : g_base64_encode(g_bytes_get_data(initial, NULL),
							    g_bytes_get_size(initial));
			pr_imap_command_add_atom(command, encoded);
			explicit_bzero(encoded, strlen(encoded));
		}
		flags |= CMD_FLAG_SASL;
		g_task_set_task_data(task, g_object_ref(sasl), g_object_unref);
	}
	pr_imap_client_queue_command(self,
				     command,
				     flags,
				     sasl,
				     cancellable,
				     pr_imap_client_auth_cb,
				     g_object_ref(task));
}

gboolean
pr_imap_client_login_finish(PrImapClient *self, GAsyncResult *res, GError **error)
{
	g_return_val_if_fail(g_task_is_valid(res, self), FALSE);
	return pr_imap_client_propagate_boolean(res, error);
}
