/* gst-hangout — the clock of usrsctp's timers (private to the SCTP layer).
 *
 * usrsctp started without threads (usrsctp_init_nothreads()) runs its
 * timers only when told how much time passed. This clock tells it from a
 * thread of its own: every TICK_MS while an association may have a timer
 * due soon (data moved lately), and every IDLE_TICK_MS otherwise, so that
 * an idle association costs no wake-ups of its own.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* After usrsctp_init_nothreads(); once per process at a time. */
G_GNUC_INTERNAL
void hangout_sctp_clock_start (void);
/* Stops the thread; usrsctp's timers stand still until the next start
 * (or until the caller calls usrsctp_handle_timers() itself). */
G_GNUC_INTERNAL
void hangout_sctp_clock_stop (void);
/* An association sends heartbeats every @interval_ms (0: none): idle
 * ticks come at least eight times as often, so that a short consent period
 * (peer.c) keeps its margin. Any thread. */
G_GNUC_INTERNAL
void hangout_sctp_clock_note_heartbeat (guint interval_ms);
/* Something was sent or received that may start a timer which is due
 * within milliseconds (a delayed acknowledgement, a retransmission): tick
 * often again. Any thread, cheap. */
G_GNUC_INTERNAL
void hangout_sctp_clock_kick (void);
/* The chunk types an SCTP packet of @len bytes holds: bit
 * HANGOUT_SCTP_CHUNK (type) for each type below 63, and
 * HANGOUT_SCTP_CHUNKS_OTHER for any other type or a malformed packet. */
#define HANGOUT_SCTP_CHUNK(type) (G_GUINT64_CONSTANT (1) << (type))
#define HANGOUT_SCTP_CHUNKS_OTHER HANGOUT_SCTP_CHUNK (63)
G_GNUC_INTERNAL
guint64 hangout_sctp_packet_chunks (const guint8 *packet, gsize len);
/* FALSE when a packet's @chunks are only ones that start no timer due
 * soon (heartbeats and their acknowledgements, which idle associations
 * exchange), TRUE otherwise. */
G_GNUC_INTERNAL
gboolean hangout_sctp_clock_chunks_are_busy (guint64 chunks);

G_END_DECLS
