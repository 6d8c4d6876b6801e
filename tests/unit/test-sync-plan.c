/*
 * Copyright 2026 The Postroom developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <glib.h>
#include <stdlib.h>
#include <string.h>

#include "pr-sync-plan.h"

/* Every case pr_sync_plan_mailbox() tells apart, one row each. */

#define SYNCED                                                                                     \
	{                                                                                          \
		.synced = TRUE, .uidvalidity = 7, .uidnext = 101, .highestmodseq = 500,            \
		.messages = 100                                                                    \
	}

typedef struct {
	const gchar *name;
	/* server */
	const gchar *caps; /* "qresync", "condstore" or NULL */
	PrSyncOpen open;
	gboolean no_uidvalidity;
	guint32 uidvalidity; /* 0: 7 */
	guint32 uidnext;
	guint64 highestmodseq;
	gboolean nomodseq;
	guint32 exists;
	gboolean vanished;
	const gchar *reported; /* UIDs of the FETCH reports */
	/* store */
	PrSyncStoreState store;
	/* options */
	const gchar *folder; /* NULL: "Archive" */
	const gchar *max;    /* NULL: QRESYNC */
	const gchar *limits; /* NULL: none; "inbox=N" or "mailbox=N" */
	gboolean sync_search;
	gboolean new_only;
	/* expected */
	PrSyncMethod method;
	PrSyncFolderAction action;
	gboolean first;
	PrSyncFlagQuery flags;
	guint64 changedsince;
	PrSyncUidQuery uids;
	guint32 since_uid;
	const gchar *new_uids;
	gint limit; /* 0: -1 */
	gboolean window;
	guint64 save_highestmodseq;
} PlanCase;

static const PlanCase plan_cases[] = {
	{ .name = "first-sync",
	  .caps = "qresync",
	  .open = PR_SYNC_OPEN_SELECT_CONDSTORE,
	  .uidnext = 101,
	  .highestmodseq = 500,
	  .exists = 100,
	  .store = { 0 },
	  .method = PR_SYNC_METHOD_QRESYNC,
	  .action = PR_SYNC_FOLDER_ADOPT,
	  .first = TRUE,
	  .flags = PR_SYNC_FLAGS_NONE,
	  .uids = PR_SYNC_UIDS_LISTING,
	  .save_highestmodseq = 500 },
	{ .name = "first-sync-resumed",
	  .caps = "qresync",
	  .open = PR_SYNC_OPEN_SELECT_CONDSTORE,
	  .uidnext = 101,
	  .highestmodseq = 500,
	  .exists = 100,
	  .store = { .uidvalidity = 7, .messages = 40 },
	  .method = PR_SYNC_METHOD_QRESYNC,
	  .action = PR_SYNC_FOLDER_KEEP,
	  .first = TRUE,
	  .flags = PR_SYNC_FLAGS_ALL,
	  .uids = PR_SYNC_UIDS_LISTING,
	  .save_highestmodseq = 500 },
	{ .name = "empty-mailbox",
	  .caps = "qresync",
	  .open = PR_SYNC_OPEN_SELECT_QRESYNC,
	  .uidnext = 101,
	  .highestmodseq = 520,
	  .exists = 0,
	  .vanished = TRUE,
	  .store = SYNCED,
	  .method = PR_SYNC_METHOD_QRESYNC,
	  .flags = PR_SYNC_FLAGS_NONE,
	  .uids = PR_SYNC_UIDS_EMPTY,
	  .save_highestmodseq = 520 },
	{ .name = "qresync-nothing-changed",
	  .caps = "qresync",
	  .open = PR_SYNC_OPEN_SELECT_QRESYNC,
	  .uidnext = 101,
	  .highestmodseq = 500,
	  .exists = 100,
	  .store = SYNCED,
	  .method = PR_SYNC_METHOD_QRESYNC,
	  .flags = PR_SYNC_FLAGS_NONE,
	  .uids = PR_SYNC_UIDS_NONE,
	  .save_highestmodseq = 500 },
	{ .name = "qresync-vanished",
	  .caps = "qresync",
	  .open = PR_SYNC_OPEN_SELECT_QRESYNC,
	  .uidnext = 101,
	  .highestmodseq = 510,
	  .exists = 98,
	  .vanished = TRUE,
	  .store = SYNCED,
	  .method = PR_SYNC_METHOD_QRESYNC,
	  .flags = PR_SYNC_FLAGS_NONE,
	  .uids = PR_SYNC_UIDS_NONE,
	  .save_highestmodseq = 510 },
	{ .name = "qresync-vanished-and-new",
	  .caps = "qresync",
	  .open = PR_SYNC_OPEN_SELECT_QRESYNC,
	  .uidnext = 103,
	  .highestmodseq = 510,
	  .exists = 100,
	  .vanished = TRUE,
	  .reported = "101 102",
	  .store = SYNCED,
	  .method = PR_SYNC_METHOD_QRESYNC,
	  .flags = PR_SYNC_FLAGS_NONE,
	  .uids = PR_SYNC_UIDS_SINCE,
	  .since_uid = 101,
	  .save_highestmodseq = 510 },
	{ .name = "qresync-new-uids-reported",
	  .caps = "qresync",
	  .open = PR_SYNC_OPEN_SELECT_QRESYNC,
	  .uidnext = 104,
	  .highestmodseq = 530,
	  .exists = 103,
	  .reported = "103 5 101 102 101",
	  .store = SYNCED,
	  .method = PR_SYNC_METHOD_QRESYNC,
	  .flags = PR_SYNC_FLAGS_NONE,
	  .uids = PR_SYNC_UIDS_REPORTED,
	  .new_uids = "101 102 103",
	  .save_highestmodseq = 530 },
	{ .name = "qresync-new-uids-some-not-reported",
	  .caps = "qresync",
	  .open = PR_SYNC_OPEN_SELECT_QRESYNC,
	  .uidnext = 104,
	  .highestmodseq = 530,
	  .exists = 103,
	  .reported = "101 102",
	  .store = SYNCED,
	  .method = PR_SYNC_METHOD_QRESYNC,
	  .flags = PR_SYNC_FLAGS_NONE,
	  .uids = PR_SYNC_UIDS_SINCE,
	  .since_uid = 101,
	  .save_highestmodseq = 530 },
	{ .name = "qresync-new-uids-exists-shrank",
	  .caps = "qresync",
	  .open = PR_SYNC_OPEN_SELECT_QRESYNC,
	  .uidnext = 102,
	  .highestmodseq = 530,
	  .exists = 99,
	  .reported = "101",
	  .store = SYNCED,
	  .method = PR_SYNC_METHOD_QRESYNC,
	  .flags = PR_SYNC_FLAGS_NONE,
	  .uids = PR_SYNC_UIDS_SINCE,
	  .since_uid = 101,
	  .save_highestmodseq = 530 },
	{ .name = "qresync-nothing-stored-to-count-from",
	  .caps = "qresync",
	  .open = PR_SYNC_OPEN_SELECT_QRESYNC,
	  .uidnext = 5,
	  .highestmodseq = 530,
	  .exists = 4,
	  .reported = "1 2 3 4",
	  .store = { .synced = TRUE, .uidvalidity = 7, .uidnext = 1, .highestmodseq = 500 },
	  .method = PR_SYNC_METHOD_QRESYNC,
	  .flags = PR_SYNC_FLAGS_NONE,
	  .uids = PR_SYNC_UIDS_LISTING,
	  .save_highestmodseq = 530 },
	{ .name = "qresync-window-changed",
	  .caps = "qresync",
	  .open = PR_SYNC_OPEN_SELECT_QRESYNC,
	  .uidnext = 101,
	  .highestmodseq = 505,
	  .exists = 100,
	  .reported = "50",
	  .store = SYNCED,
	  .limits = "mailbox=50",
	  .method = PR_SYNC_METHOD_QRESYNC,
	  .flags = PR_SYNC_FLAGS_NONE,
	  .uids = PR_SYNC_UIDS_LISTING,
	  .limit = 50,
	  .window = TRUE,
	  .save_highestmodseq = 505 },
	{ .name = "qresync-window-unchanged",
	  .caps = "qresync",
	  .open = PR_SYNC_OPEN_SELECT_QRESYNC,
	  .uidnext = 101,
	  .highestmodseq = 500,
	  .exists = 100,
	  .store = SYNCED,
	  .limits = "mailbox=50",
	  .method = PR_SYNC_METHOD_QRESYNC,
	  .flags = PR_SYNC_FLAGS_NONE,
	  .uids = PR_SYNC_UIDS_NONE,
	  .limit = 50,
	  .window = TRUE,
	  .save_highestmodseq = 500 },
	{ .name = "still-selected",
	  .caps = "qresync",
	  .open = PR_SYNC_OPEN_STILL_SELECTED,
	  .uidnext = 101,
	  .highestmodseq = 500,
	  .exists = 100,
	  .store = SYNCED,
	  .method = PR_SYNC_METHOD_QRESYNC,
	  .flags = PR_SYNC_FLAGS_NONE,
	  .uids = PR_SYNC_UIDS_SINCE,
	  .since_uid = 101,
	  .save_highestmodseq = 500 },
	{ .name = "still-selected-new-reported",
	  .caps = "qresync",
	  .open = PR_SYNC_OPEN_STILL_SELECTED,
	  .uidnext = 102,
	  .highestmodseq = 501,
	  .exists = 100,
	  .reported = "101",
	  .store = SYNCED,
	  .method = PR_SYNC_METHOD_QRESYNC,
	  .flags = PR_SYNC_FLAGS_NONE,
	  .uids = PR_SYNC_UIDS_SINCE,
	  .since_uid = 101,
	  .save_highestmodseq = 501 },
	{ .name = "condstore-flags-changed",
	  .caps = "condstore",
	  .open = PR_SYNC_OPEN_SELECT_CONDSTORE,
	  .uidnext = 101,
	  .highestmodseq = 520,
	  .exists = 100,
	  .store = SYNCED,
	  .method = PR_SYNC_METHOD_CONDSTORE,
	  .flags = PR_SYNC_FLAGS_CHANGEDSINCE,
	  .changedsince = 500,
	  .uids = PR_SYNC_UIDS_NONE,
	  .save_highestmodseq = 520 },
	{ .name = "condstore-new-messages",
	  .caps = "condstore",
	  .open = PR_SYNC_OPEN_SELECT_CONDSTORE,
	  .uidnext = 103,
	  .highestmodseq = 520,
	  .exists = 102,
	  .store = SYNCED,
	  .method = PR_SYNC_METHOD_CONDSTORE,
	  .flags = PR_SYNC_FLAGS_CHANGEDSINCE,
	  .changedsince = 500,
	  .uids = PR_SYNC_UIDS_LISTING,
	  .save_highestmodseq = 520 },
	{ .name = "condstore-expunged",
	  .caps = "condstore",
	  .open = PR_SYNC_OPEN_SELECT_CONDSTORE,
	  .uidnext = 101,
	  .highestmodseq = 500,
	  .exists = 99,
	  .store = SYNCED,
	  .method = PR_SYNC_METHOD_CONDSTORE,
	  .flags = PR_SYNC_FLAGS_NONE,
	  .uids = PR_SYNC_UIDS_LISTING,
	  .save_highestmodseq = 500 },
	{ .name = "condstore-nothing-changed",
	  .caps = "condstore",
	  .open = PR_SYNC_OPEN_SELECT_CONDSTORE,
	  .uidnext = 101,
	  .highestmodseq = 500,
	  .exists = 100,
	  .store = SYNCED,
	  .method = PR_SYNC_METHOD_CONDSTORE,
	  .flags = PR_SYNC_FLAGS_NONE,
	  .uids = PR_SYNC_UIDS_NONE,
	  .save_highestmodseq = 500 },
	{ .name = "condstore-nomodseq",
	  .caps = "condstore",
	  .open = PR_SYNC_OPEN_SELECT_CONDSTORE,
	  .uidnext = 101,
	  .nomodseq = TRUE,
	  .exists = 100,
	  .store = SYNCED,
	  .method = PR_SYNC_METHOD_PLAIN,
	  .flags = PR_SYNC_FLAGS_ALL,
	  .uids = PR_SYNC_UIDS_NONE,
	  .save_highestmodseq = 0 },
	{ .name = "condstore-none-stored",
	  .caps = "condstore",
	  .open = PR_SYNC_OPEN_SELECT_CONDSTORE,
	  .uidnext = 101,
	  .highestmodseq = 520,
	  .exists = 100,
	  .store = { .synced = TRUE, .uidvalidity = 7, .uidnext = 101, .messages = 100 },
	  .method = PR_SYNC_METHOD_CONDSTORE,
	  .flags = PR_SYNC_FLAGS_ALL,
	  .uids = PR_SYNC_UIDS_NONE,
	  .save_highestmodseq = 520 },
	{ .name = "plain",
	  .open = PR_SYNC_OPEN_SELECT,
	  .uidnext = 103,
	  .highestmodseq = 520,
	  .exists = 102,
	  .store = SYNCED,
	  .method = PR_SYNC_METHOD_PLAIN,
	  .flags = PR_SYNC_FLAGS_ALL,
	  .uids = PR_SYNC_UIDS_NONE,
	  .save_highestmodseq = 0 },
	{ .name = "plain-capped",
	  .caps = "qresync",
	  .max = "plain",
	  .open = PR_SYNC_OPEN_SELECT,
	  .uidnext = 101,
	  .highestmodseq = 520,
	  .exists = 100,
	  .store = SYNCED,
	  .method = PR_SYNC_METHOD_PLAIN,
	  .flags = PR_SYNC_FLAGS_ALL,
	  .uids = PR_SYNC_UIDS_NONE,
	  .save_highestmodseq = 0 },
	{ .name = "plain-inbox-limit",
	  .open = PR_SYNC_OPEN_SELECT,
	  .folder = "INBOX",
	  .limits = "inbox=20",
	  .uidnext = 101,
	  .exists = 100,
	  .store = SYNCED,
	  .method = PR_SYNC_METHOD_PLAIN,
	  .flags = PR_SYNC_FLAGS_ALL,
	  .uids = PR_SYNC_UIDS_LISTING,
	  .limit = 20,
	  .window = TRUE,
	  .save_highestmodseq = 0 },
	{ .name = "inbox-limit-not-for-other-folders",
	  .open = PR_SYNC_OPEN_SELECT,
	  .limits = "inbox=20",
	  .uidnext = 101,
	  .exists = 100,
	  .store = SYNCED,
	  .method = PR_SYNC_METHOD_PLAIN,
	  .flags = PR_SYNC_FLAGS_ALL,
	  .uids = PR_SYNC_UIDS_NONE,
	  .save_highestmodseq = 0 },
	{ .name = "sync-search-window",
	  .caps = "condstore",
	  .open = PR_SYNC_OPEN_SELECT_CONDSTORE,
	  .sync_search = TRUE,
	  .uidnext = 101,
	  .highestmodseq = 500,
	  .exists = 100,
	  .store = SYNCED,
	  .method = PR_SYNC_METHOD_CONDSTORE,
	  .flags = PR_SYNC_FLAGS_NONE,
	  .uids = PR_SYNC_UIDS_LISTING,
	  .window = TRUE,
	  .save_highestmodseq = 500 },
	{ .name = "uidvalidity-changed",
	  .caps = "qresync",
	  .open = PR_SYNC_OPEN_SELECT_QRESYNC,
	  .uidvalidity = 9,
	  .uidnext = 11,
	  .highestmodseq = 40,
	  .exists = 10,
	  .vanished = TRUE,
	  .reported = "3 4",
	  .store = SYNCED,
	  .method = PR_SYNC_METHOD_QRESYNC,
	  .action = PR_SYNC_FOLDER_RETIRE,
	  .first = TRUE,
	  .flags = PR_SYNC_FLAGS_NONE,
	  .uids = PR_SYNC_UIDS_LISTING,
	  .save_highestmodseq = 40 },
	{ .name = "no-uidvalidity",
	  .open = PR_SYNC_OPEN_SELECT,
	  .no_uidvalidity = TRUE,
	  .uidnext = 11,
	  .exists = 10,
	  .store = { .synced = TRUE, .uidnext = 11, .messages = 10 },
	  .method = PR_SYNC_METHOD_PLAIN,
	  .action = PR_SYNC_FOLDER_RESCAN,
	  .first = TRUE,
	  .flags = PR_SYNC_FLAGS_ALL,
	  .uids = PR_SYNC_UIDS_LISTING,
	  .save_highestmodseq = 0 },
	{ .name = "new-only",
	  .caps = "condstore",
	  .open = PR_SYNC_OPEN_SELECT_CONDSTORE,
	  .new_only = TRUE,
	  .folder = "INBOX",
	  .uidnext = 103,
	  .highestmodseq = 520,
	  .exists = 102,
	  .store = SYNCED,
	  .method = PR_SYNC_METHOD_CONDSTORE,
	  .flags = PR_SYNC_FLAGS_NONE,
	  .uids = PR_SYNC_UIDS_SINCE,
	  .since_uid = 101,
	  .save_highestmodseq = 500 },
	{ .name = "new-only-nothing-new",
	  .caps = "condstore",
	  .open = PR_SYNC_OPEN_SELECT_CONDSTORE,
	  .new_only = TRUE,
	  .folder = "INBOX",
	  .uidnext = 101,
	  .highestmodseq = 520,
	  .exists = 100,
	  .store = SYNCED,
	  .method = PR_SYNC_METHOD_CONDSTORE,
	  .flags = PR_SYNC_FLAGS_NONE,
	  .uids = PR_SYNC_UIDS_NONE,
	  .save_highestmodseq = 500 },
	{ .name = "new-only-inbox-limit",
	  .caps = "condstore",
	  .open = PR_SYNC_OPEN_SELECT_CONDSTORE,
	  .new_only = TRUE,
	  .folder = "INBOX",
	  .limits = "inbox=5",
	  .uidnext = 103,
	  .highestmodseq = 520,
	  .exists = 102,
	  .store = SYNCED,
	  .method = PR_SYNC_METHOD_CONDSTORE,
	  .flags = PR_SYNC_FLAGS_NONE,
	  .uids = PR_SYNC_UIDS_LISTING,
	  .limit = 5,
	  .window = TRUE,
	  .save_highestmodseq = 500 },
	{ .name = "new-only-with-qresync",
	  .caps = "qresync",
	  .open = PR_SYNC_OPEN_SELECT_QRESYNC,
	  .new_only = TRUE,
	  .folder = "INBOX",
	  .uidnext = 102,
	  .highestmodseq = 520,
	  .exists = 101,
	  .reported = "101",
	  .store = SYNCED,
	  .method = PR_SYNC_METHOD_QRESYNC,
	  .flags = PR_SYNC_FLAGS_NONE,
	  .uids = PR_SYNC_UIDS_REPORTED,
	  .new_uids = "101",
	  .save_highestmodseq = 520 },
};

static GArray *
uids_from_string(const gchar *str)
{
	g_auto(GStrv) split = g_strsplit(str != NULL ? str : "", " ", -1);
	GArray *uids = g_array_new(FALSE, FALSE, sizeof(guint32));

	for (guint i = 0; split[i] != NULL; i++) {
		guint32 uid;
		if (split[i][0] == '\0')
			continue;
		uid = (guint32)g_ascii_strtoull(split[i], NULL, 10);
		g_array_append_val(uids, uid);
	}
	return uids;
}

static gchar *
uids_to_string(const GArray *uids)
{
	GString *out = g_string_new(NULL);

	for (guint i = 0; uids != NULL && i < uids->len; i++)
		g_string_append_printf(
			out, "%s%u", i > 0 ? " " : "", g_array_index(uids, guint32, i));
	return g_string_free(out, uids == NULL);
}

static PrSyncPlanOptions
plan_options(const PlanCase *c)
{
	PrSyncPlanOptions options = {
		.max_method = PR_SYNC_METHOD_QRESYNC,
		.inbox = g_strcmp0(c->folder, "INBOX") == 0,
		.inbox_sync_limit = -1,
		.mailbox_sync_limit = -1,
		.sync_search = c->sync_search,
		.new_only = c->new_only,
	};
	if (g_strcmp0(c->max, "plain") == 0)
		options.max_method = PR_SYNC_METHOD_PLAIN;
	else if (g_strcmp0(c->max, "condstore") == 0)
		options.max_method = PR_SYNC_METHOD_CONDSTORE;
	if (g_str_has_prefix(c->limits != NULL ? c->limits : "", "inbox="))
		options.inbox_sync_limit = atoi(c->limits + strlen("inbox="));
	if (g_str_has_prefix(c->limits != NULL ? c->limits : "", "mailbox="))
		options.mailbox_sync_limit = atoi(c->limits + strlen("mailbox="));
	return options;
}

static void
test_sync_plan_mailbox(gconstpointer user_data)
{
	const PlanCase *c = user_data;
	g_autoptr(GArray) reported = uids_from_string(c->reported);
	PrSyncPlanOptions options = plan_options(c);
	PrSyncServerState server = {
		.qresync = g_strcmp0(c->caps, "qresync") == 0,
		.condstore = c->caps != NULL,
		.open = c->open,
		.have_uidvalidity = !c->no_uidvalidity,
		.uidvalidity = c->no_uidvalidity ? 0 : (c->uidvalidity != 0 ? c->uidvalidity : 7),
		.have_uidnext = TRUE,
		.uidnext = c->uidnext,
		.highestmodseq = c->highestmodseq,
		.nomodseq = c->nomodseq,
		.exists = c->exists,
		.vanished = c->vanished,
		.reported_uids = (const guint32 *)reported->data,
		.n_reported_uids = reported->len,
	};
	g_auto(PrSyncPlan) plan = pr_sync_plan_mailbox(&server, &c->store, &options);
	g_autofree gchar *new_uids = uids_to_string(plan.new_uids);

	g_assert_cmpint(plan.method, ==, c->method);
	g_assert_cmpint(plan.folder, ==, c->action);
	g_assert_cmpint(plan.first, ==, c->first);
	g_assert_cmpint(plan.announce_new, ==, !c->first);
	g_assert_cmpint(plan.flags, ==, c->flags);
	g_assert_cmpuint(plan.changedsince, ==, c->changedsince);
	g_assert_cmpint(plan.uids, ==, c->uids);
	g_assert_cmpuint(plan.since_uid, ==, c->since_uid);
	g_assert_cmpstr(new_uids, ==, c->new_uids);
	g_assert_cmpint(plan.limit, ==, c->limit != 0 ? c->limit : -1);
	g_assert_cmpint(plan.window, ==, c->window);
	g_assert_cmpint(plan.modseq, ==, c->method >= PR_SYNC_METHOD_CONDSTORE);
	g_assert_cmpuint(plan.uidvalidity, ==, server.uidvalidity);
	g_assert_cmpuint(plan.uidnext, ==, c->uidnext);
	g_assert_cmpuint(plan.highestmodseq, ==, c->save_highestmodseq);
}

typedef struct {
	const gchar *name;
	const gchar *caps;
	const gchar *max;
	gboolean window;
	PrSyncStoreState store;
	PrSyncOpen open;
} OpenCase;

static const OpenCase open_cases[] = {
	{ "first-sync", "qresync", NULL, FALSE, { 0 }, PR_SYNC_OPEN_SELECT_CONDSTORE },
	{ "resync", "qresync", NULL, FALSE, SYNCED, PR_SYNC_OPEN_SELECT_QRESYNC },
	{ "still-selected",
	  "qresync",
	  NULL,
	  FALSE,
	  { .synced = TRUE, .uidvalidity = 7, .highestmodseq = 500, .selected = TRUE },
	  PR_SYNC_OPEN_STILL_SELECTED },
	{ "still-selected-window",
	  "qresync",
	  NULL,
	  TRUE,
	  { .synced = TRUE, .uidvalidity = 7, .highestmodseq = 500, .selected = TRUE },
	  PR_SYNC_OPEN_SELECT_QRESYNC },
	{ "no-modseq-stored",
	  "qresync",
	  NULL,
	  FALSE,
	  { .synced = TRUE, .uidvalidity = 7, .selected = TRUE },
	  PR_SYNC_OPEN_SELECT_CONDSTORE },
	{ "capped-condstore",
	  "qresync",
	  "condstore",
	  FALSE,
	  SYNCED,
	  PR_SYNC_OPEN_SELECT_CONDSTORE },
	{ "condstore", "condstore", NULL, FALSE, SYNCED, PR_SYNC_OPEN_SELECT_CONDSTORE },
	{ "neither", NULL, NULL, FALSE, SYNCED, PR_SYNC_OPEN_SELECT },
	{ "capped-plain", "qresync", "plain", FALSE, SYNCED, PR_SYNC_OPEN_SELECT },
};

static void
test_sync_plan_open(gconstpointer user_data)
{
	const OpenCase *c = user_data;
	PlanCase p = { .max = c->max, .sync_search = c->window };
	PrSyncPlanOptions options = plan_options(&p);
	PrSyncServerState server = {
		.qresync = g_strcmp0(c->caps, "qresync") == 0,
		.condstore = c->caps != NULL,
	};

	g_assert_cmpint(pr_sync_plan_open(&server, &c->store, &options), ==, c->open);
}

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	for (guint i = 0; i < G_N_ELEMENTS(plan_cases); i++) {
		g_autofree gchar *path =
			g_strdup_printf("/sync-plan/mailbox/%s", plan_cases[i].name);
		g_test_add_data_func(path, &plan_cases[i], test_sync_plan_mailbox);
	}
	for (guint i = 0; i < G_N_ELEMENTS(open_cases); i++) {
		g_autofree gchar *path = g_strdup_printf("/sync-plan/open/%s", open_cases[i].name);
		g_test_add_data_func(path, &open_cases[i], test_sync_plan_open);
	}
	return g_test_run();
}
