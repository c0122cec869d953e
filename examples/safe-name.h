/* gst-hangout example: turning a file name chosen by a remote member into
 * one that can only name a new file inside a directory of ours.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <glib.h>

/* The longest name most file systems take (NAME_MAX), in bytes. */
#define HANGOUT_SAFE_NAME_MAX 255

/* Returns a single path component made from @name (any bytes, NULL
 * allowed): only the part after the last '/' or '\\', valid UTF-8, no
 * control characters, never empty, never starting with '.' (so neither "."
 * nor ".." nor a hidden file), at most HANGOUT_SAFE_NAME_MAX bytes (cut at
 * a character boundary, the extension kept). With @n > 0, " (@n)" is
 * inserted before the extension: the n-th alternative when the name is
 * taken. Free with g_free(). */
gchar *hangout_safe_name (const gchar *name, guint n);

/* Gives the complete file @tmp_path (inside @dir) its final name: the first
 * of hangout_safe_name (@name, 0), (@name, 1), … that does not exist yet in
 * @dir. Never replaces an existing file, even one created concurrently.
 * Returns the final path (free with g_free()) or NULL with @error set. */
gchar *hangout_publish_file (const gchar *dir, const gchar *tmp_path,
    const gchar *name, GError **error);
