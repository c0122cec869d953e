/* gst-hangout — hangoutsrc: outputs the files members of a room share.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <gst/gst.h>
#include <gst/base/gstpushsrc.h>

G_BEGIN_DECLS

#define GST_TYPE_HANGOUT_SRC (gst_hangout_src_get_type ())
G_DECLARE_FINAL_TYPE (GstHangoutSrc, gst_hangout_src, GST, HANGOUT_SRC,
    GstPushSrc)

GST_ELEMENT_REGISTER_DECLARE (hangoutsrc);

G_END_DECLS
