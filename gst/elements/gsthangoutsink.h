/* gst-hangout — hangoutsink: shares the file it is fed with every member
 * of a room.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <gst/gst.h>
#include <gst/base/gstbasesink.h>
#include "gsthangoutupstream.h"   /* the types of next-file and spool */

G_BEGIN_DECLS

#define GST_TYPE_HANGOUT_SINK (gst_hangout_sink_get_type ())
G_DECLARE_FINAL_TYPE (GstHangoutSink, gst_hangout_sink, GST, HANGOUT_SINK,
    GstBaseSink)

GST_ELEMENT_REGISTER_DECLARE (hangoutsink);

G_END_DECLS
