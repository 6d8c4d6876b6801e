/*
 * Copyright 2026 The Postroom developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#define G_LOG_DOMAIN "PrStore"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <glib/gi18n-lib.h>
#include <glib/gstdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "pr-error.h"
#include "pr-store-private.h"

/* Files --------------------------------------------------------------------------------- */

/* Names in a directory, read before anything in it is removed. */
static GPtrArray *
pr_store_read_dir(gint dfd, const gchar *path, GError **error)
{
	g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func(g_free);
	struct dirent *entry;
	DIR *dir;
	gint fd = dup(dfd);

	if (fd < 0 || (dir = fdopendir(fd)) == NULL) {
		gint errsv = errno;
		if (fd >= 0)
			close(fd);
		pr_store_set_errno_error(error, errsv, _("Cannot read %s"), path);
		return NULL;
	}
	rewinddir(dir);
	while ((entry = readdir(dir)) != NULL) {
		if (g_strcmp0(entry->d_name, ".") == 0 || g_strcmp0(entry->d_name, "..") == 0)
			continue;
		g_ptr_array_add(names, g_strdup(entry->d_name));
	}
	closedir(dir);
	return g_steal_pointer(&names);
}

static gboolean
pr_store_is_regular_at(gint dfd, const gchar *name)
{
	struct stat st;
	return fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG(st.st_mode);
}

static gboolean
pr_store_is_bucket_name(const gchar *name)
{
	return strlen(name) == 2 && g_ascii_isxdigit(name[0]) && g_ascii_isxdigit(name[1]) &&
	       !g_ascii_isupper(name[0]) && !g_ascii_isupper(name[1]);
}

static gboolean
pr_store_is_tmp_name(const gchar *name)
{
	return name[0] == '.' && strstr(name, ".eml.tmp-") != NULL;
}

/* "ID.eml" -> ID */
static gboolean
pr_store_parse_body_name(const gchar *name, guint64 *id)
{
	g_autofree gchar *number = NULL;
	if (!g_str_has_suffix(name, ".eml"))
		return FALSE;
	number = g_strndup(name, strlen(name) - 4);
	return g_ascii_string_to_unsigned(number, 10, 1, G_MAXINT64, id, NULL);
}

/* After an unclean shutdown: drop temporary files of interrupted downloads, bodies whose
 * removal was committed but not yet carried out, and bodies the index does not point at
 * (see pr-store.h on durability). A clean shutdown skips this. */
void
pr_store_sweep(PrStore *self)
{
	guint removed = 0;

	for (guint bucket = 0; bucket < 256; bucket++) {
		g_autofree gchar *path = g_strdup_printf("%s/%02x", self->messages_dir, bucket);
		g_autoptr(GPtrArray) names = NULL;
		g_autoptr(GError) error_local = NULL;
		gint dfd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);

		if (dfd < 0)
			continue;
		names = pr_store_read_dir(dfd, path, &error_local);
		if (names == NULL) {
			g_warning("%s", error_local->message);
			close(dfd);
			continue;
		}
		for (guint i = 0; i < names->len; i++) {
			const gchar *name = g_ptr_array_index(names, i);
			gboolean stale = FALSE;
			guint64 id = 0;

			if (!pr_store_is_regular_at(dfd, name))
				continue;
			if (pr_store_is_tmp_name(name)) {
				stale = TRUE;
			} else if (pr_store_parse_body_name(name, &id) && id % 256 == bucket) {
				/* also a body renamed into place by a flush whose index commit
				 * never happened: complete, but the message says "headers" */
				gboolean referenced = TRUE;
				if (!pr_store_body_referenced(
					    self, id, &referenced, &error_local)) {
					g_warning("%s", error_local->message);
					g_clear_error(&error_local);
				}
				stale = !referenced;
			}
			if (!stale)
				continue;
			if (unlinkat(dfd, name, 0) != 0)
				g_warning("failed to remove %s/%s: %s",
					  path,
					  name,
					  g_strerror(errno));
			else
				removed++;
		}
		close(dfd);
	}
	g_debug("swept %u stale files from %s", removed, self->messages_dir);
}

/* Destroy ------------------------------------------------------------------------------- */

/* Removes our regular files named by @match in @dfd, never following a symlink. */
static gboolean
pr_store_remove_files_at(gint dfd,
			 const gchar *path,
			 gboolean (*match)(const gchar *name),
			 GError **error)
{
	g_autoptr(GPtrArray) names = pr_store_read_dir(dfd, path, error);

	if (names == NULL)
		return FALSE;
	for (guint i = 0; i < names->len; i++) {
		const gchar *name = g_ptr_array_index(names, i);
		if (!match(name) || !pr_store_is_regular_at(dfd, name))
			continue;
		if (unlinkat(dfd, name, 0) != 0 && errno != ENOENT) {
			g_autofree gchar *file = g_build_filename(path, name, NULL);
			pr_store_set_errno_error(error, errno, _("Cannot remove %s"), file);
			return FALSE;
		}
	}
	return TRUE;
}

static gboolean
pr_store_is_body_file_name(const gchar *name)
{
	guint64 id;
	return pr_store_is_tmp_name(name) || pr_store_parse_body_name(name, &id);
}

static gboolean
pr_store_is_db_file_name(const gchar *name)
{
	return g_strcmp0(name, "store.db") == 0 || g_strcmp0(name, "store.db-wal") == 0 ||
	       g_strcmp0(name, "store.db-shm") == 0 || g_strcmp0(name, "store.db-journal") == 0;
}

/* Destroying goes as far as it can and reports the first failure. */
static void
pr_store_keep_first_error(GError **first, GError *error)
{
	if (*first == NULL)
		*first = error;
	else
		g_error_free(error);
}

static void
pr_store_remove_messages_dir(gint dfd, const gchar *path, GError **first)
{
	g_autoptr(GPtrArray) names = NULL;
	GError *error_local = NULL;

	names = pr_store_read_dir(dfd, path, &error_local);
	if (names == NULL) {
		pr_store_keep_first_error(first, error_local);
		return;
	}
	for (guint i = 0; i < names->len; i++) {
		const gchar *name = g_ptr_array_index(names, i);
		g_autofree gchar *sub = NULL;
		gint sfd;

		if (!pr_store_is_bucket_name(name))
			continue;
		sub = g_build_filename(path, name, NULL);
		/* a symlink planted here is not ours: O_NOFOLLOW refuses it */
		sfd = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (sfd < 0) {
			if (errno != ENOTDIR && errno != ELOOP) {
				pr_store_set_errno_error(
					&error_local, errno, _("Cannot open %s"), sub);
				pr_store_keep_first_error(first, error_local);
			}
			continue;
		}
		if (!pr_store_remove_files_at(sfd, sub, pr_store_is_body_file_name, &error_local)) {
			pr_store_keep_first_error(first, error_local);
			error_local = NULL;
		}
		close(sfd);
		if (unlinkat(dfd, name, AT_REMOVEDIR) != 0) {
			pr_store_set_errno_error(&error_local, errno, _("Cannot remove %s"), sub);
			pr_store_keep_first_error(first, error_local);
			error_local = NULL;
		}
	}
}

/* Removes what a store left in @directory; touches nothing but the file system, so it may
 * run in a worker thread. */
static gboolean
pr_store_remove_directory(const gchar *directory, const gchar *messages_dir, GError **error)
{
	GError *first = NULL;
	GError *error_local = NULL;
	gint dfd;
	gint mfd;

	dfd = open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0) {
		if (errno == ENOENT)
			return TRUE;
		pr_store_set_errno_error(error, errno, _("Cannot open %s"), directory);
		return FALSE;
	}
	mfd = openat(dfd, "messages", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (mfd >= 0) {
		pr_store_remove_messages_dir(mfd, messages_dir, &first);
		close(mfd);
		if (unlinkat(dfd, "messages", AT_REMOVEDIR) != 0) {
			pr_store_set_errno_error(
				&error_local, errno, _("Cannot remove %s"), messages_dir);
			pr_store_keep_first_error(&first, error_local);
			error_local = NULL;
		}
	}
	if (!pr_store_remove_files_at(dfd, directory, pr_store_is_db_file_name, &error_local)) {
		pr_store_keep_first_error(&first, error_local);
		error_local = NULL;
	}
	close(dfd);
	/* fails on anything we did not create, which we leave alone */
	if (g_rmdir(directory) != 0) {
		pr_store_set_errno_error(&error_local, errno, _("Cannot remove %s"), directory);
		pr_store_keep_first_error(&first, error_local);
	}
	if (first != NULL) {
		g_propagate_error(error, first);
		return FALSE;
	}
	return TRUE;
}

/* The part of destroying that needs the store: on the caller's thread. */
static void
pr_store_destroy_close(PrStore *self)
{
	/* nothing left to mark: the files go */
	self->marked_open = FALSE;
	pr_store_close(self);
	g_array_set_size(self->unlink_ids, 0);
}

gboolean
pr_store_destroy(PrStore *self, GError **error)
{
	g_return_val_if_fail(PR_IS_STORE(self), FALSE);

	pr_store_destroy_close(self);
	return pr_store_remove_directory(self->directory, self->messages_dir, error);
}

typedef struct {
	gchar *directory;
	gchar *messages_dir;
} PrStoreDestroyData;

static void
pr_store_destroy_data_free(PrStoreDestroyData *data)
{
	g_free(data->directory);
	g_free(data->messages_dir);
	g_free(data);
}

static void
pr_store_destroy_thread(GTask *task,
			gpointer source_object,
			gpointer task_data,
			GCancellable *cancellable)
{
	PrStoreDestroyData *data = task_data;
	GError *error = NULL;

	pr_store_test_event("destroy");
	if (g_task_return_error_if_cancelled(task))
		return;
	if (!pr_store_remove_directory(data->directory, data->messages_dir, &error)) {
		g_task_return_error(task, error);
		return;
	}
	g_task_return_boolean(task, TRUE);
}

void
pr_store_destroy_async(PrStore *self,
		       GCancellable *cancellable,
		       GAsyncReadyCallback callback,
		       gpointer user_data)
{
	g_autoptr(GTask) task = NULL;
	PrStoreDestroyData *data;

	g_return_if_fail(PR_IS_STORE(self));
	g_return_if_fail(cancellable == NULL || G_IS_CANCELLABLE(cancellable));

	task = g_task_new(self, cancellable, callback, user_data);
	g_task_set_source_tag(task, pr_store_destroy_async);
	/* once the removal has begun it runs to the end: a store half gone is no use */
	g_task_set_check_cancellable(task, FALSE);
	pr_store_destroy_close(self);
	data = g_new0(PrStoreDestroyData, 1);
	data->directory = g_strdup(self->directory);
	data->messages_dir = g_strdup(self->messages_dir);
	g_task_set_task_data(task, data, (GDestroyNotify)pr_store_destroy_data_free);
	g_task_run_in_thread(task, pr_store_destroy_thread);
}

gboolean
pr_store_destroy_finish(PrStore *self, GAsyncResult *res, GError **error)
{
	g_return_val_if_fail(PR_IS_STORE(self), FALSE);
	g_return_val_if_fail(g_task_is_valid(res, self), FALSE);

	return g_task_propagate_boolean(G_TASK(res), error);
}
