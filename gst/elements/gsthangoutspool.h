/* gst-hangout — a file's bytes held on disk until upstream has finished
 * writing them (hangoutsink, for muxers that seek back).
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* An anonymous temporary file (unlinked at once: nothing is left behind,
 * whatever happens to the process), written as filesink writes: at a
 * position that upstream's byte segments move; read back in order. */
typedef struct _GstHangoutSpool GstHangoutSpool;

/* For a file that begins at @start in upstream's bytes (concat counts on
 * from the stream before), in g_get_tmp_dir(). */
GstHangoutSpool *gst_hangout_spool_new (guint64 start, GError **error);
void gst_hangout_spool_free (GstHangoutSpool *spool);

/* Moves the position to @position of upstream's bytes; FALSE (and no
 * move) when that is before the file's start. */
gboolean gst_hangout_spool_seek (GstHangoutSpool *spool, guint64 position);
/* Writes at the position and moves it on; the file grows as needed (a
 * hole reads as zeros, as in a file filesink seeked past the end of). */
gboolean gst_hangout_spool_write (GstHangoutSpool *spool,
    const guint8 *data, gsize len, GError **error);
/* One past the last byte written, from the file's start. */
guint64 gst_hangout_spool_get_size (GstHangoutSpool *spool);
/* Up to @len bytes from @offset (from the file's start) into @data;
 * returns how many (0 at the end), or -1 with @error. */
gssize gst_hangout_spool_read (GstHangoutSpool *spool, guint64 offset,
    guint8 *data, gsize len, GError **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (GstHangoutSpool, gst_hangout_spool_free)

G_END_DECLS
