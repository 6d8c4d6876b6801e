/*
 * Copyright 2026 The Postroom developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <glib.h>

#include "pr-progress.h"

static void
test_progress_leaf(void)
{
	g_autoptr(PrProgress) progress = pr_progress_new();

	g_assert_cmpfloat(pr_progress_get_fraction(progress), ==, -1);
	pr_progress_add_messages_total(progress, 4);
	g_assert_cmpfloat(pr_progress_get_fraction(progress), ==, 0);
	pr_progress_add_messages_done(progress, 1);
	g_assert_cmpfloat_with_epsilon(pr_progress_get_fraction(progress), 0.25, 1e-9);
	/* all that is known is done, but the leaf is not finished */
	pr_progress_add_messages_done(progress, 3);
	g_assert_cmpfloat_with_epsilon(pr_progress_get_fraction(progress), 0.99, 1e-9);
	pr_progress_finish(progress);
	g_assert_cmpfloat(pr_progress_get_fraction(progress), ==, 1);
}

static void
test_progress_weights(void)
{
	g_autoptr(PrProgress) progress = pr_progress_new();
	PrProgress *child;

	pr_progress_add_step(progress, 1, "one");
	pr_progress_add_step(progress, 3, "two");
	g_assert_cmpuint(pr_progress_get_n_steps(progress), ==, 2);
	g_assert_cmpstr(pr_progress_get_stage(progress), ==, "one");
	g_assert_cmpfloat(pr_progress_get_fraction(progress), ==, 0);

	child = pr_progress_get_child(progress);
	pr_progress_add_bytes_total(child, 10);
	pr_progress_add_bytes_done(child, 5);
	g_assert_cmpfloat_with_epsilon(pr_progress_get_fraction(progress), 0.5 / 4, 1e-9);
	pr_progress_step_done(progress);
	g_assert_cmpuint(pr_progress_get_step(progress), ==, 1);
	g_assert_cmpstr(pr_progress_get_stage(progress), ==, "two");
	g_assert_cmpfloat_with_epsilon(pr_progress_get_fraction(progress), 0.25, 1e-9);

	child = pr_progress_get_child(progress);
	pr_progress_add_folders_total(child, 3);
	pr_progress_add_folders_done(child, 2);
	g_assert_cmpfloat_with_epsilon(pr_progress_get_fraction(progress), 0.25 + 0.5, 1e-9);
	pr_progress_step_done(progress);
	/* every step done: the node is done */
	g_assert_cmpfloat(pr_progress_get_fraction(progress), ==, 1);
}

static void
test_progress_nested(void)
{
	g_autoptr(PrProgress) root = pr_progress_new();
	PrProgress *mid;
	PrProgress *leaf;

	pr_progress_add_step(root, 1, NULL);
	pr_progress_add_step(root, 1, NULL);
	pr_progress_step_done(root);
	mid = pr_progress_get_child(root);
	pr_progress_add_step(mid, 1, "inner-a");
	pr_progress_add_step(mid, 1, "inner-b");
	g_assert_cmpstr(pr_progress_get_stage(root), ==, "inner-a");
	leaf = pr_progress_get_child(mid);
	pr_progress_add_messages_total(leaf, 10);
	pr_progress_add_messages_done(leaf, 5);
	/* 1/2 + 1/2 * (1/2 * 5/10) */
	g_assert_cmpfloat_with_epsilon(pr_progress_get_fraction(root), 0.625, 1e-9);
	pr_progress_step_done(mid);
	g_assert_cmpstr(pr_progress_get_stage(root), ==, "inner-b");
	g_assert_cmpfloat_with_epsilon(pr_progress_get_fraction(root), 0.75, 1e-9);
	pr_progress_step_done(mid);
	g_assert_cmpfloat_with_epsilon(pr_progress_get_fraction(root), 1.0, 1e-9);
}

static void
test_progress_basis_fixed(void)
{
	g_autoptr(PrProgress) progress = pr_progress_new();

	pr_progress_add_messages_total(progress, 10);
	pr_progress_add_messages_done(progress, 5);
	g_assert_cmpfloat_with_epsilon(pr_progress_get_fraction(progress), 0.5, 1e-9);
	/* bytes arrive later: the leaf keeps counting messages */
	pr_progress_add_bytes_total(progress, 1000);
	pr_progress_add_bytes_done(progress, 900);
	g_assert_cmpfloat_with_epsilon(pr_progress_get_fraction(progress), 0.5, 1e-9);
	pr_progress_add_messages_done(progress, 1);
	g_assert_cmpfloat_with_epsilon(pr_progress_get_fraction(progress), 0.6, 1e-9);
}

static void
test_progress_never_decreases(void)
{
	g_autoptr(PrProgress) progress = pr_progress_new();
	g_autoptr(PrProgress) stepped = pr_progress_new();

	pr_progress_add_messages_total(progress, 2);
	pr_progress_add_messages_done(progress, 1);
	g_assert_cmpfloat_with_epsilon(pr_progress_get_fraction(progress), 0.5, 1e-9);
	/* a total that grows */
	pr_progress_add_messages_total(progress, 8);
	g_assert_cmpfloat_with_epsilon(pr_progress_get_fraction(progress), 0.5, 1e-9);
	pr_progress_add_messages_done(progress, 5);
	g_assert_cmpfloat_with_epsilon(pr_progress_get_fraction(progress), 0.6, 1e-9);

	/* a step added after others were done */
	pr_progress_add_step(stepped, 1, NULL);
	pr_progress_step_done(stepped);
	g_assert_cmpfloat(pr_progress_get_fraction(stepped), ==, 1);
	pr_progress_add_step(stepped, 1, NULL);
	g_assert_cmpfloat(pr_progress_get_fraction(stepped), ==, 1);
}

static void
count_cb(PrProgress *progress, guint *n)
{
	(*n)++;
}

static void
test_progress_counters_at_root(void)
{
	g_autoptr(PrProgress) root = pr_progress_new();
	PrProgress *a;
	PrProgress *b;
	guint changed = 0;

	g_signal_connect(root, "changed", G_CALLBACK(count_cb), &changed);
	pr_progress_add_folders_total(root, 2);
	pr_progress_add_step(root, 1, NULL);
	pr_progress_add_step(root, 1, NULL);
	a = pr_progress_get_child(root);
	pr_progress_add_step(a, 1, NULL);
	b = pr_progress_get_child(a);
	changed = 0;
	pr_progress_add_messages_total(b, 7);
	pr_progress_add_messages_done(b, 3);
	pr_progress_add_bytes_total(b, 100);
	pr_progress_add_bytes_done(b, 40);
	pr_progress_set_stage(b, "syncing-folder");
	pr_progress_set_folder(b, "Archive");
	g_assert_cmpuint(changed, ==, 6);
	pr_progress_step_done(a);
	pr_progress_step_done(root);
	pr_progress_add_folders_done(root, 1);
	b = pr_progress_get_child(root);
	pr_progress_add_messages_total(b, 2);
	pr_progress_add_messages_done(b, 2);
	pr_progress_add_folders_done(b, 1);

	g_assert_cmpuint(pr_progress_get_folders_total(root), ==, 2);
	g_assert_cmpuint(pr_progress_get_folders_done(root), ==, 2);
	g_assert_cmpuint(pr_progress_get_messages_total(root), ==, 9);
	g_assert_cmpuint(pr_progress_get_messages_done(root), ==, 5);
	g_assert_cmpuint(pr_progress_get_bytes_total(root), ==, 100);
	g_assert_cmpuint(pr_progress_get_bytes_done(root), ==, 40);
	g_assert_cmpstr(pr_progress_get_stage(root), ==, "syncing-folder");
	g_assert_cmpstr(pr_progress_get_folder(root), ==, "Archive");
	/* a node counts its own subtree only */
	g_assert_cmpuint(pr_progress_get_messages_total(b), ==, 2);
}

static void
test_progress_finish(void)
{
	g_autoptr(PrProgress) root = pr_progress_new();

	pr_progress_add_step(root, 5, NULL);
	pr_progress_add_step(root, 5, NULL);
	pr_progress_add_bytes_total(pr_progress_get_child(root), 10);
	g_assert_cmpfloat(pr_progress_get_fraction(root), ==, 0);
	pr_progress_finish(root);
	g_assert_cmpfloat(pr_progress_get_fraction(root), ==, 1);
}

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/progress/leaf", test_progress_leaf);
	g_test_add_func("/progress/weights", test_progress_weights);
	g_test_add_func("/progress/nested", test_progress_nested);
	g_test_add_func("/progress/basis-fixed", test_progress_basis_fixed);
	g_test_add_func("/progress/never-decreases", test_progress_never_decreases);
	g_test_add_func("/progress/counters-at-root", test_progress_counters_at_root);
	g_test_add_func("/progress/finish", test_progress_finish);
	return g_test_run();
}
