/* gst-hangout — the "hangout" plugin: hangoutsink and hangoutsrc.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "gsthangoutsink.h"
#include "gsthangoutsrc.h"

static gboolean
plugin_init (GstPlugin * plugin)
{
  gboolean ret = FALSE;

  ret |= GST_ELEMENT_REGISTER (hangoutsink, plugin);
  ret |= GST_ELEMENT_REGISTER (hangoutsrc, plugin);
  return ret;
}

GST_PLUGIN_DEFINE (GST_VERSION_MAJOR, GST_VERSION_MINOR, hangout,
    "File sharing between the members of a room over WebRTC data channels",
    plugin_init, PACKAGE_VERSION, "LGPL", "gst-hangout",
    "https://example.invalid/gst-hangout")
