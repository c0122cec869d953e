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

#define GST_TYPE_HANGOUT_SINK (gst_hangout_sink_get_type ())
G_DECLARE_FINAL_TYPE (GstHangoutSink, gst_hangout_sink, GST, HANGOUT_SINK,
    GstBaseSink)

GST_ELEMENT_REGISTER_DECLARE (hangoutsink);

G_END_DECLS
