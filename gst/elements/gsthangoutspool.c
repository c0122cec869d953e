/* gst-hangout — a file's bytes held on disk until upstream has finished
 * writing them (gsthangoutspool.h).
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#include "gsthangoutspool.h"

#include <errno.h>
#include <fcntl.h>
#include <gio/gio.h>
#include <glib/gstdio.h>
#include <unistd.h>

struct _GstHangoutSpool {
  int fd;
  guint64 start;                /* the file's first byte, in upstream's */
  guint64 position;             /* where the next write goes, from start */
  guint64 size;
};

static gboolean
fail (GError **error, const gchar *what, const gchar *name)
{
  int err = errno;

  g_set_error (error, G_IO_ERROR, g_io_error_from_errno (err),
      "%s %s: %s", what, name, g_strerror (err));
  return FALSE;
}

GstHangoutSpool *
gst_hangout_spool_new (guint64 start, GError **error)
{
  g_autofree gchar *path = g_build_filename (g_get_tmp_dir (),
      "hangoutsink-XXXXXX", NULL);
  GstHangoutSpool *spool;
  int fd = g_mkstemp_full (path, O_RDWR, 0600);

  if (fd < 0) {
    fail (error, "Cannot create a temporary file in", g_get_tmp_dir ());
    return NULL;
  }
  g_unlink (path);
  spool = g_new0 (GstHangoutSpool, 1);
  spool->fd = fd;
  spool->start = start;
  return spool;
}

void
gst_hangout_spool_free (GstHangoutSpool *spool)
{
  if (spool == NULL)
    return;
  close (spool->fd);
  g_free (spool);
}

gboolean
gst_hangout_spool_seek (GstHangoutSpool *spool, guint64 position)
{
  if (position < spool->start)
    return FALSE;
  spool->position = position - spool->start;
  return TRUE;
}

gboolean
gst_hangout_spool_write (GstHangoutSpool *spool, const guint8 *data,
    gsize len, GError **error)
{
  gsize done = 0;

  while (done < len) {
    ssize_t n = pwrite (spool->fd, data + done, len - done,
        (off_t) (spool->position + done));

    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0)
      return fail (error, "Cannot write to", "the temporary file");
    done += n;
  }
  spool->position += len;
  spool->size = MAX (spool->size, spool->position);
  return TRUE;
}

guint64
gst_hangout_spool_get_size (GstHangoutSpool *spool)
{
  return spool->size;
}

gssize
gst_hangout_spool_read (GstHangoutSpool *spool, guint64 offset,
    guint8 *data, gsize len, GError **error)
{
  ssize_t n;

  if (offset >= spool->size)
    return 0;
  len = MIN (len, spool->size - offset);
  do
    n = pread (spool->fd, data, len, (off_t) offset);
  while (n < 0 && errno == EINTR);
  if (n < 0) {
    fail (error, "Cannot read", "the temporary file");
    return -1;
  }
  return n;
}
