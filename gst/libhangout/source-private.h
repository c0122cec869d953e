/* gst-hangout — clearing a GSource, for every layer (private).
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Destroys *@source (it never runs again) and drops our reference; NULL
 * stays NULL. */
static inline void
hangout_clear_source (GSource **source)
{
  if (*source != NULL) {
    g_source_destroy (*source);
    g_clear_pointer (source, g_source_unref);
  }
}

G_END_DECLS
