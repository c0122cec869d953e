/* gst-hangout example: safe local names for files received from a room.
 * The name comes from a remote member, so it is hostile until proven
 * otherwise: it must not climb out of the directory, replace a file or
 * carry bytes a terminal or a file manager would interpret.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#include "safe-name.h"
#include <hangout/transfer.h>

#include <errno.h>
#include <string.h>
#include <unistd.h>
#include <gio/gio.h>

/* Extensions longer than this are kept as part of the stem: they are not
 * worth shortening the name for. */
#define MAX_EXTENSION 32

/* The longest prefix of @s that is at most @max bytes and ends on a
 * character boundary (@s is valid UTF-8). */
static gsize
utf8_prefix_len (const gchar *s, gsize max)
{
  const gchar *end;

  if (strlen (s) <= max)
    return strlen (s);
  end = s + max;
  /* Back up over continuation bytes to the start of the cut character. */
  while (end > s && ((guchar) *end & 0xC0) == 0x80)
    end--;
  return end - s;
}

/* Only the last component counts, whichever separator the sender's system
 * used: "a/../../b" and "..\\..\\b" both become "b". */
static const gchar *
last_component (const gchar *name)
{
  const gchar *slash = strrchr (name, '/');
  const gchar *backslash = strrchr (name, '\\');

  if (backslash != NULL && (slash == NULL || backslash > slash))
    slash = backslash;
  return slash != NULL ? slash + 1 : name;
}

/* Valid UTF-8 without C0/C1 controls or DEL (they would drive terminals
 * listing the directory) or bidirectional controls (a file manager would
 * show "…\u202Egnp.exe" as "…exe.png"), and no leading dot. */
static gchar *
clean (const gchar *component)
{
  g_autofree gchar *valid = g_utf8_make_valid (component, -1);
  GString *out = g_string_new (NULL);
  const gchar *p;

  for (p = valid; *p != '\0'; p = g_utf8_next_char (p)) {
    gunichar c = g_utf8_get_char (p);

    if (hangout_transfer_is_unsafe_char (c))
      g_string_append_c (out, '_');
    else
      g_string_append_unichar (out, c);
  }
  /* Leading dots: ".", ".." and hidden files (which the user would not see
   * arrive, and which the receiver's own temporary files use). */
  if (out->str[0] == '.')
    out->str[0] = '_';
  if (out->len == 0)
    g_string_assign (out, "unnamed");
  return g_string_free (out, FALSE);
}

gchar *
hangout_safe_name (const gchar *name, guint n)
{
  g_autofree gchar *base = clean (last_component (name ? name : ""));
  g_autofree gchar *suffix = n > 0 ? g_strdup_printf (" (%u)", n) :
      g_strdup ("");
  const gchar *dot = strrchr (base, '.');
  g_autofree gchar *ext = NULL;
  gsize stem_len, ext_len, room;

  /* The extension (with its dot) survives shortening, so "x….iso" stays an
   * .iso; a dot at the start is not one (clean() made it '_' anyway). */
  if (dot != NULL && dot != base && strlen (dot) <= MAX_EXTENSION) {
    ext = g_strdup (dot);
    stem_len = dot - base;
  } else {
    ext = g_strdup ("");
    stem_len = strlen (base);
  }
  ext_len = strlen (ext);
  room = HANGOUT_SAFE_NAME_MAX - ext_len - strlen (suffix);
  base[stem_len] = '\0';        /* the extension is copied out already */
  stem_len = utf8_prefix_len (base, MIN (stem_len, room));
  return g_strdup_printf ("%.*s%s%s", (int) stem_len, base, suffix, ext);
}

gchar *
hangout_publish_file (const gchar *dir, const gchar *tmp_path,
    const gchar *name, GError **error)
{
  guint n;

  /* link() fails with EEXIST instead of replacing, so checking and taking
   * a name is one atomic step: no window in which another writer's file
   * could be overwritten. */
  for (n = 0; n < 10000; n++) {
    g_autofree gchar *safe = hangout_safe_name (name, n);
    g_autofree gchar *path = g_build_filename (dir, safe, NULL);
    int saved;

    if (link (tmp_path, path) == 0) {
      unlink (tmp_path);
      return g_steal_pointer (&path);
    }
    saved = errno;
    if (saved != EEXIST) {
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved),
          "Could not save %s: %s", path, g_strerror (saved));
      return NULL;
    }
  }
  g_set_error (error, G_IO_ERROR, G_IO_ERROR_EXISTS,
      "Too many files named like %s in %s", name, dir);
  return NULL;
}
