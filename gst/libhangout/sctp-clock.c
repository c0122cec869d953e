/* gst-hangout — the clock of usrsctp's timers (sctp-clock-private.h).
 *
 * usrsctp's own timer thread wakes every 10 ms and walks every timer of
 * every association, whether or not any is due: with 63 idle associations
 * a member spent about 0.7 ms of CPU per association per second on it.
 * usrsctp offers no way to ask when its next timer is due, but we see
 * every packet that goes in or out, and an association's timers that are
 * due within milliseconds (delayed acknowledgements, retransmissions, the
 * handshake and shutdown) are all started by such packets or by sends.
 * What an idle association has left is its heartbeat, every 10 s, which
 * may fire up to IDLE_TICK_MS late without harm.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#include "sctp-clock-private.h"

#include <stdatomic.h>
#include <usrsctp.h>

/* usrsctp's own interval: its timers are in milliseconds, and 10 ms is
 * what its thread uses (finer ticks made it erratic, its source says). */
#define TICK_MS 10
/* An idle association's timers: heartbeats (7.5 s apart by default), each
 * late by an eighth of their interval at most, and by IDLE_TICK_MS at most
 * (hangout_sctp_clock_note_heartbeat()). */
#define IDLE_TICK_MS 500
/* Ticks stay frequent this long after the last kick: it covers a
 * retransmission timeout of up to 3 s (RTO starts at 1 s and is at least
 * 200 ms, docs/architecture.md), i.e. the first retransmissions of a lost
 * last packet, at their time; later ones may come up to IDLE_TICK_MS late
 * (each kicks again). */
#define BUSY_HOLD_MS 3000

static GMutex lock;
static GCond cond;
static GThread *thread;
static gboolean running;        /* under lock */
static atomic_bool idle;        /* written under lock: ticking every
                                 * IDLE_TICK_MS */
static _Atomic gint64 last_kick;        /* monotonic µs */
static _Atomic guint idle_tick_ms = IDLE_TICK_MS;

/* SCTP chunk types (RFC 9260 §3.2) an idle association sends. */
#define CHUNK_HEARTBEAT 4
#define CHUNK_HEARTBEAT_ACK 5
#define COMMON_HEADER_SIZE 12
#define CHUNK_HEADER_SIZE 4

guint64
hangout_sctp_packet_chunks (const guint8 *packet, gsize len)
{
  gsize offset = COMMON_HEADER_SIZE;
  guint64 chunks = 0;

  if (len < COMMON_HEADER_SIZE + CHUNK_HEADER_SIZE)
    return HANGOUT_SCTP_CHUNKS_OTHER;
  while (offset + CHUNK_HEADER_SIZE <= len) {
    guint8 type = packet[offset];
    gsize chunk_len = (packet[offset + 2] << 8) | packet[offset + 3];

    chunks |= type < 63 ? HANGOUT_SCTP_CHUNK (type)
        : HANGOUT_SCTP_CHUNKS_OTHER;
    /* Malformed: usrsctp will say. */
    if (chunk_len < CHUNK_HEADER_SIZE)
      return chunks | HANGOUT_SCTP_CHUNKS_OTHER;
    offset += (chunk_len + 3) & ~(gsize) 3;
  }
  return chunks;
}

gboolean
hangout_sctp_clock_chunks_are_busy (guint64 chunks)
{
  return (chunks & ~(HANGOUT_SCTP_CHUNK (CHUNK_HEARTBEAT)
          | HANGOUT_SCTP_CHUNK (CHUNK_HEARTBEAT_ACK))) != 0;
}

void
hangout_sctp_clock_note_heartbeat (guint interval_ms)
{
  guint tick = CLAMP (interval_ms / 8, TICK_MS, IDLE_TICK_MS);
  guint current = atomic_load (&idle_tick_ms);

  while (interval_ms > 0 && tick < current
      && !atomic_compare_exchange_weak (&idle_tick_ms, &current, tick));
}

void
hangout_sctp_clock_kick (void)
{
  atomic_store (&last_kick, g_get_monotonic_time ());
  /* Only the switch from idle to busy needs the thread at once. */
  if (atomic_load (&idle)) {
    g_mutex_lock (&lock);
    idle = FALSE;
    g_cond_signal (&cond);
    g_mutex_unlock (&lock);
  }
}

static gpointer
run (G_GNUC_UNUSED gpointer data)
{
  gint64 last_tick = g_get_monotonic_time ();

  g_mutex_lock (&lock);
  while (running) {
    gint64 now = g_get_monotonic_time ();
    gint64 due = last_tick
        + (gint64) (idle ? atomic_load (&idle_tick_ms) : TICK_MS) * 1000;
    guint elapsed_ms;

    if (now < due) {
      g_cond_wait_until (&cond, &lock, due);
      continue;
    }
    /* Whole milliseconds, the rest carried to the next tick. */
    elapsed_ms = (guint) ((now - last_tick) / 1000);
    last_tick += (gint64) elapsed_ms * 1000;
    /* Idle first, then the last kick looked at again: a kick either comes
     * before and is seen, or sees idle and wakes us (both in this order). */
    if (!idle && now - atomic_load (&last_kick) > BUSY_HOLD_MS * 1000) {
      atomic_store (&idle, TRUE);
      if (now - atomic_load (&last_kick) <= BUSY_HOLD_MS * 1000)
        atomic_store (&idle, FALSE);
    }
    g_mutex_unlock (&lock);
    usrsctp_handle_timers (elapsed_ms);
    g_mutex_lock (&lock);
  }
  g_mutex_unlock (&lock);
  return NULL;
}

void
hangout_sctp_clock_start (void)
{
  g_return_if_fail (thread == NULL);
  atomic_store (&last_kick, g_get_monotonic_time ());
  atomic_store (&idle_tick_ms, IDLE_TICK_MS);
  idle = FALSE;
  running = TRUE;
  thread = g_thread_new ("SCTP timer", run, NULL);
}

void
hangout_sctp_clock_stop (void)
{
  g_mutex_lock (&lock);
  running = FALSE;
  g_cond_signal (&cond);
  g_mutex_unlock (&lock);
  g_clear_pointer (&thread, g_thread_join);
}
