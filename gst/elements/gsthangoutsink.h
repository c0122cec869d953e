/* gst-hangout — hangoutsink: shares the file it is fed with every member
 * of a room.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <gst/gst.h>
#include <gst/base/gstbasesink.h>

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

#define GST_TYPE_HANGOUT_SINK (gst_hangout_sink_get_type ())
G_DECLARE_FINAL_TYPE (GstHangoutSink, gst_hangout_sink, GST, HANGOUT_SINK,
    GstBaseSink)

GST_ELEMENT_REGISTER_DECLARE (hangoutsink);

G_END_DECLS
