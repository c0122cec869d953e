/* gst-hangout — many timers of one main context behind one GSource
 * (private to libhangout).
 *
 * GLib's main loop prepares and checks every source of a context on each
 * wake-up, so a context's cost per event grows with its sources: a
 * member's network context holds every peer connection's, and each had
 * three timers of its own (consent, the SCTP wake-up, DTLS
 * retransmissions), idle most of the time but walked on every packet.
 * Here all timers of a context share one source, and arming one from the
 * context's own thread wakes nothing up (g_source_set_ready_time() does,
 * every time: one more wasted iteration of the loop per timer that fires
 * and is disarmed). docs/performance.md, "What an idle mesh costs".
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct _HangoutTimer HangoutTimer;

typedef void (*HangoutTimerFunc) (gpointer data);

/* A timer of @context, disarmed; @func runs on @context's thread, once
 * each time the timer is armed and its time comes. */
G_GNUC_INTERNAL
HangoutTimer *hangout_timer_new (GMainContext *context, HangoutTimerFunc func,
    gpointer data);

/* Arms @timer for @ready_time (monotonic µs; 0 or any past time: at the
 * next iteration), or disarms it with -1. Any thread; from another thread
 * than the context's, the context is woken up. */
G_GNUC_INTERNAL
void hangout_timer_set (HangoutTimer *timer, gint64 ready_time);

/* Whether @timer is armed. Any thread. */
G_GNUC_INTERNAL
gboolean hangout_timer_is_armed (HangoutTimer *timer);

/* Its function never runs again once this returns on the context's
 * thread (from its own function too); on another thread, it may still be
 * running. NULL is fine. */
G_GNUC_INTERNAL
void hangout_timer_free (HangoutTimer *timer);

/* hangout_timer_free (*@timer), and NULL in its place. */
static inline void
hangout_clear_timer (HangoutTimer **timer)
{
  g_clear_pointer (timer, hangout_timer_free);
}

G_END_DECLS
