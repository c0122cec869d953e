/* gst-hangout — what hangoutsink knows of the stream it is fed: the
 * files' names, whether upstream can say a file's size or is live, the
 * spool that holds a file upstream may still rewrite, and byte segments
 * that move back. GStreamer-specific, but not about being a sink: the
 * sink drives it and shares what it says.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <gst/gst.h>
#include <gst/base/gstbasesink.h>
#include "gsthangoutshareobject.h"
#include "gsthangoutspool.h"

G_BEGIN_DECLS

/**
 * GstHangoutSinkNextFile:
 * @GST_HANGOUT_SINK_NEXT_FILE_STREAM: a new file at each stream-start
 *   event after the first (concat, several streams in a row)
 * @GST_HANGOUT_SINK_NEXT_FILE_BUFFER: each buffer is a whole file, as
 *   multifilesrc makes them
 *
 * When #GstHangoutSink:next-file starts sharing another file.
 */
typedef enum {
  GST_HANGOUT_SINK_NEXT_FILE_STREAM,
  GST_HANGOUT_SINK_NEXT_FILE_BUFFER,
} GstHangoutSinkNextFile;

GType gst_hangout_sink_next_file_get_type (void);
#define GST_TYPE_HANGOUT_SINK_NEXT_FILE (gst_hangout_sink_next_file_get_type ())

/**
 * GstHangoutSinkSpool:
 * @GST_HANGOUT_SINK_SPOOL_AUTO: when upstream's size is unknown and it is
 *   not live (a muxer, an encoder, a pipe), hold the file in a temporary
 *   file until its end, so that rewrites of earlier bytes (a muxer seeking
 *   back to its header) reach the members; offer it then, with its size
 * @GST_HANGOUT_SINK_SPOOL_NEVER: share every byte as it arrives; upstream
 *   rewriting bytes already sent fails the file
 *
 * What #GstHangoutSink:spool does with a stream whose bytes may change.
 */
typedef enum {
  GST_HANGOUT_SINK_SPOOL_AUTO,
  GST_HANGOUT_SINK_SPOOL_NEVER,
} GstHangoutSinkSpool;

GType gst_hangout_sink_spool_get_type (void);
#define GST_TYPE_HANGOUT_SINK_SPOOL (gst_hangout_sink_spool_get_type ())

/* Its properties' ids, after the share object's. */
enum {
  GST_HANGOUT_UPSTREAM_PROP_FILENAME = GST_HANGOUT_SHARE_PROP_LAST,
  GST_HANGOUT_UPSTREAM_PROP_NEXT_FILE,
  GST_HANGOUT_UPSTREAM_PROP_SPOOL,
  GST_HANGOUT_UPSTREAM_PROP_LAST
};

typedef struct _GstHangoutUpstream GstHangoutUpstream;

/* Installs filename, next-file and spool. */
void gst_hangout_upstream_install_properties (GObjectClass *klass);

/* For @sink, which owns it; properties are kept under its object lock. */
GstHangoutUpstream *gst_hangout_upstream_new (GstBaseSink *sink);
void gst_hangout_upstream_free (GstHangoutUpstream *upstream);

/* FALSE when @prop_id is not one of its properties. */
gboolean gst_hangout_upstream_set_property (GstHangoutUpstream *upstream,
    guint prop_id, const GValue *value);
gboolean gst_hangout_upstream_get_property (GstHangoutUpstream *upstream,
    guint prop_id, GValue *value);

/* The rest is called from the streaming thread (and start/stop). */

/* Forgets the stream (start, stop): the next file is the first. */
void gst_hangout_upstream_reset (GstHangoutUpstream *upstream);

/* next-file=buffer: each buffer is a file of its own. */
gboolean gst_hangout_upstream_buffer_is_file (GstHangoutUpstream *upstream);
/* Files ended since the reset. */
guint gst_hangout_upstream_count_files (GstHangoutUpstream *upstream);
/* The file has been shared: the next byte begins another. */
void gst_hangout_upstream_end_file (GstHangoutUpstream *upstream);

/* The name the current file is announced with: the filename property or
 * the base name of upstream's URI, numbered after the first file. */
gchar *gst_hangout_upstream_choose_filename (GstHangoutUpstream *upstream);
/* The current file's size when upstream knows it for sure, else -1. */
gint64 gst_hangout_upstream_query_size (GstHangoutUpstream *upstream);
/* Whether a file of @size (gst_hangout_upstream_query_size()) is held in
 * the spool until its end. */
gboolean gst_hangout_upstream_wants_spool (GstHangoutUpstream *upstream,
    gint64 size);

/* Begins holding the current file in a spool; posts an error and returns
 * FALSE when no spool can be made. */
gboolean gst_hangout_upstream_begin_spool (GstHangoutUpstream *upstream);
gboolean gst_hangout_upstream_is_spooling (GstHangoutUpstream *upstream);
/* Writes into the spool; posts an error and returns FALSE on failure. */
gboolean gst_hangout_upstream_spool_write (GstHangoutUpstream *upstream,
    const guint8 *data, gsize len);
/* The spooled file is complete: the caller takes it (the current file
 * is no longer spooling). */
GstHangoutSpool *gst_hangout_upstream_take_spool
    (GstHangoutUpstream *upstream);
/* Hands the whole of @spool to @send, piece by piece, in order; stops at
 * the first piece @send does not take (anything but GST_FLOW_OK, which is
 * returned), and posts an error for a spool that cannot be read back. */
GstFlowReturn gst_hangout_upstream_drain_spool (GstHangoutUpstream *upstream,
    GstHangoutSpool *spool,
    GstFlowReturn (*send) (const guint8 *data, gsize len, gpointer user_data),
    gpointer user_data);

/* A byte segment: where upstream writes next. @has_file: @sent bytes of
 * the current file were shared already, which cannot be taken back; a
 * segment elsewhere posts an error, marks the stream damaged and returns
 * FALSE. A segment before the spooled file's start returns FALSE too,
 * with nothing posted. */
gboolean gst_hangout_upstream_follow_segment (GstHangoutUpstream *upstream,
    const GstSegment *segment, gboolean has_file, guint64 sent);
/* This stream rewrote bytes already sent: its file was dropped, and the
 * rest of the stream is refused rather than shared as a file. A new
 * stream (stream-start) clears it. */
gboolean gst_hangout_upstream_is_damaged (GstHangoutUpstream *upstream);
void gst_hangout_upstream_new_stream (GstHangoutUpstream *upstream);

/* Answers a muxer's seeking query: seekable in bytes while the file is,
 * or would be, held in the spool. @has_file: the current file is being
 * shared as it arrives. */
void gst_hangout_upstream_answer_seeking (GstHangoutUpstream *upstream,
    GstQuery *query, gboolean has_file);

G_END_DECLS
