/*
 * Copyright 2026 The Postroom developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <gio/gio.h>

#include "pr-contract.h"
#include "pr-dbus-generated.h"

G_BEGIN_DECLS

/* Exit codes of postroomctl. */
#define PR_CTL_EXIT_OK		0
#define PR_CTL_EXIT_FAILED	1   /* the request failed; stderr names the error */
#define PR_CTL_EXIT_USAGE	2   /* bad command line */
#define PR_CTL_EXIT_INTERRUPTED 130 /* Ctrl-C while waiting for an operation */

#define PR_CTL_ADDRESS_ENV "POSTROOM_BUS_ADDRESS"

/* One sub-command: argv[0] is the sub-command's name. Returns an exit code. */
typedef gint (*PrCtlCommandFunc)(gint argc, gchar **argv);

gint pr_ctl_probe(gint argc, gchar **argv);
gint pr_ctl_probe_command(gint argc, gchar **argv);
/* The probe's text report, shared by the in-process and the daemon probe. */
void pr_ctl_probe_print_report(const gchar *host, guint16 port, GVariant *result, gboolean login);
gint pr_ctl_services(gint argc, gchar **argv);
gint pr_ctl_add(gint argc, gchar **argv);
gint pr_ctl_remove(gint argc, gchar **argv);
gint pr_ctl_settings(gint argc, gchar **argv);
gint pr_ctl_set(gint argc, gchar **argv);
gint pr_ctl_password(gint argc, gchar **argv);
gint pr_ctl_connect(gint argc, gchar **argv);
gint pr_ctl_disconnect(gint argc, gchar **argv);
gint pr_ctl_sync(gint argc, gchar **argv);
gint pr_ctl_status(gint argc, gchar **argv);
gint pr_ctl_folders(gint argc, gchar **argv);
gint pr_ctl_messages(gint argc, gchar **argv);
gint pr_ctl_show(gint argc, gchar **argv);
gint pr_ctl_fetch(gint argc, gchar **argv);
gint pr_ctl_flag(gint argc, gchar **argv);
gint pr_ctl_delete(gint argc, gchar **argv);
gint pr_ctl_undelete(gint argc, gchar **argv);
gint pr_ctl_watch(gint argc, gchar **argv);
gint pr_ctl_wait(gint argc, gchar **argv);
gint pr_ctl_subscribe(gint argc, gchar **argv);
gint pr_ctl_unsubscribe(gint argc, gchar **argv);
gint pr_ctl_mkdir(gint argc, gchar **argv);
gint pr_ctl_rename(gint argc, gchar **argv);
gint pr_ctl_rmdir(gint argc, gchar **argv);

/* ---- output (pr-ctl-output.c) ---- */

/* Prints "postroomctl: NAME: message" for @error (NAME from the contract). */
void pr_ctl_print_error(const GError *error);
/* The error's short name ("LoginFailed"; the contract prefix stripped from D-Bus names). */
gchar *pr_ctl_error_get_name(const GError *error);
/* Whether @error is the contract error @name ("NotDownloaded"), local or remote. */
gboolean pr_ctl_error_has_name(const GError *error, const gchar *name);
/* Reads one line from standard input (a password), without its line end. */
gchar *pr_ctl_read_secret_stdin(GError **error);
/* Asks for a secret on the terminal (standard input) without echo. */
gchar *pr_ctl_read_secret_terminal(const gchar *prompt, GError **error);
/* Overwrites and frees a secret. */
void pr_ctl_secret_free(gchar *secret);
typedef gchar PrCtlSecret;
G_DEFINE_AUTOPTR_CLEANUP_FUNC(PrCtlSecret, pr_ctl_secret_free)
/* Writes @dict (a{sv} of strings, booleans, integers and string arrays) as JSON. */
void pr_ctl_print_json(GVariant *dict, GString *out);
/* Prints @dict (floating references are sunk) as one JSON document on a line of stdout. */
void pr_ctl_json_output(GVariant *dict);
/* "FoldersDone" -> "folders-done", for JSON keys of D-Bus property names. */
gchar *pr_ctl_dashed_name(const gchar *camel);
/* Replaces control characters of server-provided text so it cannot drive the terminal. */
gchar *pr_ctl_sanitize(const gchar *text);
/* Terminal columns @text takes: wide (CJK) characters count twice, combining ones not. */
guint pr_ctl_display_width(const gchar *text);
/* @text cut to @max columns with an ellipsis; sanitized. */
gchar *pr_ctl_ellipsize(const gchar *text, guint max);
/* Local time as "2026-01-31 12:34", or "never" for 0. */
gchar *pr_ctl_format_time(gint64 unix_time);
/* A settings value for people: strings sanitized, booleans true/false, arrays joined. */
gchar *pr_ctl_format_value(GVariant *value);
/* The terminal's width in columns, 80 when stdout is no terminal. */
guint pr_ctl_terminal_width(void);

/* A text table: columns padded to their widest cell, the last one not padded. */
typedef struct _PrCtlTable PrCtlTable;
PrCtlTable *pr_ctl_table_new(const gchar *const *headers);
void pr_ctl_table_free(PrCtlTable *self);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(PrCtlTable, pr_ctl_table_free)
void pr_ctl_table_set_align_right(PrCtlTable *self, guint column);
/* Cells wider than @max columns are cut with an ellipsis. */
void pr_ctl_table_set_max_width(PrCtlTable *self, guint column, guint max);
/* Takes one cell per column (copied and sanitized). */
void pr_ctl_table_add_row(PrCtlTable *self, const gchar *const *cells);
guint pr_ctl_table_get_n_rows(PrCtlTable *self);
void pr_ctl_table_print(PrCtlTable *self);

/* ---- options and the bus (pr-ctl-client.c) ---- */

typedef enum {
	PR_CTL_OPTION_NONE = 0,
	PR_CTL_OPTION_SERVICE = 1 << 0, /* --service ID */
	PR_CTL_OPTION_JSON = 1 << 1,	/* --json */
	PR_CTL_OPTION_NO_WAIT = 1 << 2, /* --no-wait */
	PR_CTL_OPTION_BUS = 1 << 3,	/* --address ADDR */
} PrCtlOptionFlags;

/* The options every command shares; set by pr_ctl_options_parse(). */
typedef struct {
	gchar *command; /* "sync", for messages */
	gchar *address;
	gchar *service;
	gboolean json;
	gboolean no_wait;
	gboolean no_plain_progress; /* set by a command: progress only as a terminal bar */
	gboolean keep_on_interrupt; /* set by a command: Ctrl-C stops waiting, not the operation */
	gboolean stop_when_idle;    /* set by a command: an operation whose Stage turns "idle"
				     * (it stays online) is waited for no longer */
} PrCtlOptions;

void pr_ctl_options_clear(PrCtlOptions *opts);
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(PrCtlOptions, pr_ctl_options_clear)

/* Parses the command's own @entries plus the common options of @flags; on a usage error it
 * prints it and returns FALSE. @parameter_string is e.g. "FOLDER". */
gboolean pr_ctl_options_parse(PrCtlOptions *opts,
			      PrCtlOptionFlags flags,
			      const GOptionEntry *entries,
			      const gchar *parameter_string,
			      const gchar *summary,
			      gint *argc,
			      gchar ***argv);
/* Prints "postroomctl COMMAND: message" and returns PR_CTL_EXIT_USAGE. */
gint pr_ctl_usage_error(const PrCtlOptions *opts, const gchar *format, ...) G_GNUC_PRINTF(2, 3);
/* Prints @error and returns the exit code for it: usage errors (G_OPTION_ERROR) 2, an
 * interrupted wait (G_IO_ERROR_CANCELLED) 130, anything else 1. */
gint pr_ctl_fail(const PrCtlOptions *opts, const GError *error);
/* A G_OPTION_ERROR unless @text is UTF-8, as D-Bus strings must be. */
gboolean pr_ctl_check_utf8(const gchar *text, GError **error);
/* A copy of @argc arguments as a strv; a G_OPTION_ERROR unless all are UTF-8. */
gchar **pr_ctl_args_to_utf8(gint argc, gchar **argv, GError **error);
/* Parses a message id (a non-zero decimal number). */
gboolean pr_ctl_parse_message_id(const gchar *text, guint64 *id, GError **error);

/* A connection to postroomd. */
typedef struct {
	GDBusConnection *connection;
	GDBusObjectManager *object_manager;
} PrCtlClient;

/* Connects to --address, $POSTROOM_BUS_ADDRESS or the session bus; fails with "Postroom is
 * not running on this bus" when nobody owns the name (after trying D-Bus activation). */
PrCtlClient *pr_ctl_client_new(const PrCtlOptions *opts, GError **error);
void pr_ctl_client_free(PrCtlClient *self);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(PrCtlClient, pr_ctl_client_free)
PrDBusManager *pr_ctl_client_get_manager(PrCtlClient *self, GError **error);
/* Every service, sorted by Id; transfer full. */
GList *pr_ctl_client_list_services(PrCtlClient *self);
/* The service --service names, or the only one; G_OPTION_ERROR when it is ambiguous. */
PrDBusImap4Service *
pr_ctl_client_get_service(PrCtlClient *self, const PrCtlOptions *opts, GError **error);
/* A proxy for the service at @path (for one that the object manager may not know yet). */
PrDBusImap4Service *
pr_ctl_client_get_service_by_path(PrCtlClient *self, const gchar *path, GError **error);
/* pr_ctl_client_new() and pr_ctl_client_get_service() in one. */
PrDBusImap4Service *
pr_ctl_open_service(const PrCtlOptions *opts, PrCtlClient **client, GError **error);
/* An empty a{sv} (floating), for the trailing options of the methods. */
GVariant *pr_ctl_no_options(void);
/* Prints "unexpected argument" and returns PR_CTL_EXIT_USAGE. */
gint pr_ctl_unexpected_argument(const PrCtlOptions *opts, const gchar *arg);
/* pr_contract_service_path() for a valid ID, else a G_OPTION_ERROR. */
gchar *pr_ctl_service_path_from_id(const gchar *id, GError **error);
/* The ID of a service object path, or the path itself when it is none. */
const gchar *pr_ctl_service_id_from_path(const gchar *path);
/* The operations of the service at @service_path that are queued or running, oldest first;
 * transfer full. */
GList *pr_ctl_client_list_active_operations(PrCtlClient *self, const gchar *service_path);
/* Whether @operation is the one ConnectAndSync("disconnect") keeps running while online. */
gboolean pr_ctl_operation_is_stay_online(PrDBusImap4Operation *operation);
/* org.freedesktop.DBus.Properties.GetAll of @iface at @path: a{sv}. */
GVariant *pr_ctl_client_get_all_properties(PrCtlClient *self,
					   const gchar *path,
					   const gchar *iface,
					   GError **error);

/* ---- operations (pr-ctl-operation.c) ---- */

/* Waits for the operation at @path showing its progress (unless --json); returns its final
 * properties (a{sv}) in @props, also when it failed. FALSE with the operation's error if it
 * failed, or G_IO_ERROR_CANCELLED when Ctrl-C cancelled it. */
gboolean pr_ctl_operation_wait(PrCtlClient *client,
			       const PrCtlOptions *opts,
			       const gchar *path,
			       GVariant **props,
			       GError **error);
/* pr_ctl_operation_wait(), but the progress shown is that of the operation at @follow_path
 * (the background sync a WaitForBackground operation waits for), when not NULL. */
gboolean pr_ctl_operation_wait_follow(PrCtlClient *client,
				      const PrCtlOptions *opts,
				      const gchar *path,
				      const gchar *follow_path,
				      GVariant **props,
				      GError **error);
/* Operation properties as a JSON-friendly a{sv}: dashed keys, "success", "error" and
 * "error-message" split out of Error. */
GVariant *pr_ctl_operation_props_to_json(const gchar *path, GVariant *props);
/* Prints the text summary of a succeeded operation. */
typedef void (*PrCtlResultFunc)(GVariant *props);
/* --no-wait: prints @path; else waits, prints the result (JSON or @func) and returns the
 * exit code. */
gint pr_ctl_operation_run(PrCtlClient *client,
			  const PrCtlOptions *opts,
			  const gchar *path,
			  PrCtlResultFunc func);
/* "Syncing INBOX  [####----]  42%  840/2000 messages  12.3 MB", at most @width columns. */
gchar *pr_ctl_progress_format_bar(GVariant *progress, guint width);
/* "syncing-inbox INBOX 840/2000 messages", for logs. */
gchar *pr_ctl_progress_format_plain(GVariant *progress);

G_END_DECLS
