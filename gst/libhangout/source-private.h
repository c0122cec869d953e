/* gst-hangout — the GSource helper every layer with timers uses (private).
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

static inline gboolean
hangout_ready_time_dispatch (GSource *source, GSourceFunc callback,
    gpointer data)
{
  g_source_set_ready_time (source, -1);
  return callback (data);
}

/* A source attached to @context that calls @func once each time
 * g_source_set_ready_time() arms it (from any thread): a timer or a
 * wake-up that is re-armed, not re-created. */
static inline GSource *
hangout_ready_time_source_new (GMainContext *context, GSourceFunc func,
    gpointer data)
{
  static GSourceFuncs funcs = { NULL, NULL, hangout_ready_time_dispatch,
    NULL, NULL, NULL
  };
  GSource *source = g_source_new (&funcs, sizeof (GSource));

  g_source_set_callback (source, func, data, NULL);
  g_source_attach (source, context);
  return source;
}

G_END_DECLS
