/* gst-hangout — SCTP layer on usrsctp.
 *
 * Threads. usrsctp is initialised once per process (refcounted), without
 * threads of its own; its timers are process-global, while our associations
 * live on as many GMainContexts as there are rooms, so no single context of
 * ours could drive them: a clock thread does (sctp-clock.c), often only
 * while packets that start timers move. Everything usrsctp calls back lands
 * either in conn_output() (packets to send: from our threads or the clock
 * thread) or in
 * on_upcall() (the socket became readable/writable). Neither calls back into
 * usrsctp: packets go straight to DTLS, and the upcall only wakes the
 * association's owner thread, which then reads messages and flushes the send
 * queue outside every usrsctp lock.
 *
 * usrsctp may call back after a socket was closed, so it never gets a
 * pointer: it gets a random registry id, looked up under a lock that
 * hangout_sctp_free() takes exclusively before freeing.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#include <hangout/sctp.h>

#include <errno.h>
#include <string.h>
#include <arpa/inet.h>
#include <usrsctp.h>
#if defined(__x86_64__)
#include <nmmintrin.h>
#include "debug-private.h"
#include "sctp-clock-private.h"
#include "timers-private.h"

#define GST_CAT_DEFAULT hangout_debug_sctp
#endif

/* Send and receive buffers. The receive buffer is the window the peer may
 * have in flight; the send buffer holds what SCTP has accepted but the peer
 * has not acknowledged. 1 MiB (libdatachannel's and Firefox's choice, up
 * from usrsctp's 256 KiB) keeps a loopback or LAN link busy; see
 * docs/performance.md for the measurements. */
#define SEND_BUFFER_SIZE (1024 * 1024)
#define RECEIVE_BUFFER_SIZE (1024 * 1024)
/* Reads are done in pieces of this size and joined until MSG_EOR. */
#define READ_CHUNK_SIZE (64 * 1024)
/* Retransmissions of one chunk before SCTP gives up on the peer: with RTOs
 * backing off to 10 s, about 2.7 hours, so never while consent holds. */
#define RETRANSMISSIONS_MAX 1000
#define SCTP_COMMON_HEADER_SIZE 12
/* The SACK chunks (RFC 9260 §3.3.4, and usrsctp's NR-SACK). */
#define CHUNK_SACK 3
#define CHUNK_NR_SACK 16

/* usrsctp can lose an association's retransmission timer while chunks it
 * sent are unacknowledged and fill its congestion window (sctplab/usrsctp
 * issue 750; seen here sending to Chromium under load, status read once
 * a second: 17 chunks unacknowledged for a minute, RTO 323 ms, the peer's
 * window 4.6 MB): it then sends nothing new and retransmits nothing, and
 * only heartbeats go on. When packets keep coming from the peer but none
 * acknowledged anything for WEDGE_AFTER_US while chunks are
 * unacknowledged and the peer's window has room, we lower the path MTU a
 * little, usrsctp's one public way to have sent chunks (those larger than
 * the new MTU: a full one is) marked for retransmission, and have it send
 * them. A healthy association whose acknowledgements are late costs one
 * early retransmission; the wait doubles after each nudge without an
 * acknowledgement, and the MTU goes down by NUDGE_MTU_STEP at most
 * MAX_NUDGES times (64 bytes of 1176, for good: usrsctp never raises it
 * again). */
#define WEDGE_AFTER_US (3 * G_USEC_PER_SEC)
/* A peer whose window is closed (a slow reader) acknowledges nothing new
 * either; usrsctp's window probes are then the timer's, and a nudge would
 * only resend what the peer cannot take. Wedged, the peer had 4.6 MB of
 * room. */
#define WEDGE_MIN_PEER_WINDOW (64 * 1024)
#define WEDGE_AFTER_MAX_US (60 * G_USEC_PER_SEC)
#define NUDGE_MTU_STEP 4
#define MAX_NUDGES 16

typedef enum {
  STATE_NEW,
  STATE_CONNECTING,
  STATE_CONNECTED,
  STATE_CLOSED,
} State;

typedef enum {
  SEND_OK,
  SEND_WOULD_BLOCK,
  SEND_ERROR,
} SendResult;

/* A message waiting for room in SCTP's send buffer, or a stream reset
 * queued behind the messages sent before it. */
typedef struct {
  HangoutSctpSendParams params;
  gboolean reset;
  gsize len;
  guint8 data[];
} Pending;

struct _HangoutSctp {
  guint32 id;                   /* our AF_CONN address and registry key */
  struct socket *sock;
  GMainContext *context;
  HangoutTimer *wake;           /* armed by on_upcall() */
  HangoutSctpCallbacks callbacks;
  gpointer user_data;
  guint16 local_port, remote_port;
  gsize max_message_size;
  State state;                  /* owner thread; CLOSED also read under send_lock */
  gboolean paused;              /* owner thread: not reading, see set_receiving */

  gint events;                  /* atomic: an upcall asked for attention */

  GMutex send_lock;
  GQueue queue;                 /* of Pending, under send_lock */
  gboolean send_closed;         /* under send_lock */
  gboolean shutdown_requested;  /* owner thread: hangout_sctp_shutdown() */

  /* Owner thread: the retransmission nudge (WEDGE_AFTER_US). */
  guint path_mtu;               /* SCTP_PEER_ADDR_PARAMS' spp_pathmtu */
  gint64 last_sack;             /* monotonic µs: the peer's last SACK */
  gint64 wedge_after;           /* µs without one before a nudge */
  guint nudges;

  guint8 *read_buf;
  GByteArray *message;          /* a message being joined */
  gboolean discarding;          /* dropping the rest of an oversized message */
  GByteArray *notification;     /* a notification being joined */
};

static GMutex global_lock;
static guint global_users;
static GRWLock registry_lock;
static GHashTable *registry;    /* id → HangoutSctp, under registry_lock */

/* The association whose packet the current thread is feeding to usrsctp:
 * its upcalls need not wake the context, the feeder looks right after. */
static _Thread_local HangoutSctp *feeding;

static HangoutSctp *
registry_lookup (void *addr)
{
  return g_hash_table_lookup (registry, addr);
}

#if defined(__x86_64__)
/* SSE 4.2 has an instruction for CRC32c itself: 11.8 GB/s here against
 * 2.2 GB/s for usrsctp's table code, over every byte a sender sends. The
 * result is the value usrsctp_crc32c() returns (both little-endian here). */
__attribute__((target ("sse4.2")))
static uint32_t
crc32c_sse42 (const void *buffer, size_t length)
{
  const guint8 *p = buffer;
  guint64 crc = 0xffffffff;
  guint32 crc32;

  for (; length >= 8; p += 8, length -= 8) {
    guint64 word;

    memcpy (&word, p, sizeof word);
    crc = _mm_crc32_u64 (crc, word);
  }
  crc32 = (guint32) crc;
  for (; length > 0; p++, length--)
    crc32 = _mm_crc32_u8 (crc32, *p);
  return ~crc32;
}
#endif

static uint32_t
crc32c_usrsctp (const void *buffer, size_t length)
{
  return usrsctp_crc32c ((void *) buffer, length);
}

/* Chosen once, in global_ref(). */
static uint32_t (*compute_crc32c) (const void *buffer, size_t length) =
    crc32c_usrsctp;

static int
conn_output (void *addr, void *buffer, size_t length, uint8_t tos,
    uint8_t set_df)
{
  HangoutSctp *sctp;
  struct sctp_common_header *header = buffer;

  /* CRC32c is offloaded to us: computed only for packets that leave. DTLS
   * authenticates every packet anyway, but peers still check it. */
  if (length >= sizeof *header) {
    header->crc32c = 0;
    header->crc32c = compute_crc32c (buffer, length);
  }
  if (hangout_sctp_clock_chunks_are_busy (hangout_sctp_packet_chunks (buffer,
              length)))
    hangout_sctp_clock_kick ();
  g_rw_lock_reader_lock (&registry_lock);
  sctp = registry_lookup (addr);
  if (sctp != NULL)
    sctp->callbacks.send_packet (sctp->user_data, buffer, length);
  g_rw_lock_reader_unlock (&registry_lock);
  return 0;
}

static void
on_upcall (struct socket *sock, void *arg, int flags)
{
  HangoutSctp *sctp;

  g_rw_lock_reader_lock (&registry_lock);
  sctp = registry_lookup (arg);
  if (sctp != NULL) {
    g_atomic_int_set (&sctp->events, 1);
    if (feeding != sctp)
      hangout_timer_set (sctp->wake, 0);
  }
  g_rw_lock_reader_unlock (&registry_lock);
}

static void
global_ref (void)
{
  g_mutex_lock (&global_lock);
  if (global_users++ == 0) {
#if defined(__x86_64__)
    if (__builtin_cpu_supports ("sse4.2"))
      compute_crc32c = crc32c_sse42;
#endif
    usrsctp_init_nothreads (0, conn_output, NULL);
    hangout_sctp_clock_start ();
    usrsctp_enable_crc32c_offload ();
    /* Tuning as in libdatachannel, which measured it (see
     * ../shared/notes): RFC 6928's initial window, SACKs after 20 ms not
     * 200, RFC 4960 congestion control, timers a browser tolerates. */
    usrsctp_sysctl_set_sctp_ecn_enable (0);
    usrsctp_sysctl_set_sctp_pr_enable (1);
    usrsctp_sysctl_set_sctp_initial_cwnd (10);
    usrsctp_sysctl_set_sctp_max_burst_default (10);
    usrsctp_sysctl_set_sctp_max_chunks_on_queue (10 * 1024);
    usrsctp_sysctl_set_sctp_delayed_sack_time_default (20);
    usrsctp_sysctl_set_sctp_default_cc_module (0);
    usrsctp_sysctl_set_sctp_rto_min_default (200);
    usrsctp_sysctl_set_sctp_rto_max_default (10000);
    usrsctp_sysctl_set_sctp_init_rto_max_default (10000);
    usrsctp_sysctl_set_sctp_rto_initial_default (1000);
    usrsctp_sysctl_set_sctp_init_rtx_max_default (5);
    /* Consent (peer.c) decides when a peer is gone. SCTP's own limit of 5
     * retransmissions counts window probes too, and usrsctp's receiver
     * leaves some unanswered once its buffer is full: a receiver slower
     * than the link (a paused hangoutsrc) lost its sender after ~25 s. */
    usrsctp_sysctl_set_sctp_assoc_rtx_max_default (RETRANSMISSIONS_MAX);
    usrsctp_sysctl_set_sctp_path_rtx_max_default (RETRANSMISSIONS_MAX);
    usrsctp_sysctl_set_sctp_heartbeat_interval_default (10000);
    usrsctp_sysctl_set_sctp_nr_outgoing_streams_default (HANGOUT_SCTP_MAX_STREAMS);
    usrsctp_sysctl_set_sctp_nr_incoming_streams_default (HANGOUT_SCTP_MAX_STREAMS);
    registry = g_hash_table_new (NULL, NULL);
  }
  g_mutex_unlock (&global_lock);
}

static void
global_unref (void)
{
  g_mutex_lock (&global_lock);
  if (--global_users == 0) {
    /* usrsctp_finish() refuses while an aborted socket still awaits its
     * timer-driven release, which takes a few milliseconds: the timers
     * go on here, with no clock thread left to race with the finish. */
    hangout_sctp_clock_stop ();
    for (guint i = 0; i < 300 && usrsctp_finish () != 0; i++) {
      g_usleep (10 * 1000);
      usrsctp_handle_timers (10);
    }
    g_clear_pointer (&registry, g_hash_table_unref);
  }
  g_mutex_unlock (&global_lock);
}

static void
set_error (GError **error, const gchar *what)
{
  int err = errno;

  g_set_error (error, HANGOUT_ERROR, HANGOUT_ERROR_SCTP, "SCTP: %s: %s", what,
      g_strerror (err));
}

static gboolean
set_option (HangoutSctp *sctp, int level, int name, const void *value,
    socklen_t len, const gchar *what, GError **error)
{
  if (usrsctp_setsockopt (sctp->sock, level, name, value, len) != 0) {
    set_error (error, what);
    return FALSE;
  }
  return TRUE;
}

static gboolean
configure_socket (HangoutSctp *sctp, guint mtu, guint heartbeat_ms,
    GError **error)
{
  struct linger linger = { 1, 0 };
  struct sctp_assoc_value reset = { SCTP_FUTURE_ASSOC,
    SCTP_ENABLE_RESET_STREAM_REQ | SCTP_ENABLE_CHANGE_ASSOC_REQ };
  struct sctp_initmsg init = { 0 };
  struct sctp_paddrparams paddr = { 0 };
  const uint16_t events[] = { SCTP_ASSOC_CHANGE, SCTP_SENDER_DRY_EVENT,
    SCTP_STREAM_RESET_EVENT, SCTP_SHUTDOWN_EVENT };
  int on = 1, off = 0;
  int sndbuf = MAX (SEND_BUFFER_SIZE, (int) sctp->max_message_size * 2);
  int rcvbuf = MAX (RECEIVE_BUFFER_SIZE, (int) sctp->max_message_size * 2);

  /* Closing aborts: the peer learns at once, nothing lingers. */
  if (!set_option (sctp, SOL_SOCKET, SO_LINGER, &linger, sizeof linger,
          "SO_LINGER", error)
      || !set_option (sctp, IPPROTO_SCTP, SCTP_ENABLE_STREAM_RESET, &reset,
          sizeof reset, "SCTP_ENABLE_STREAM_RESET", error)
      || !set_option (sctp, IPPROTO_SCTP, SCTP_RECVRCVINFO, &on, sizeof on,
          "SCTP_RECVRCVINFO", error)
      /* RFC 8831 §6.6: no Nagle for data channels. */
      || !set_option (sctp, IPPROTO_SCTP, SCTP_NODELAY, &on, sizeof on,
          "SCTP_NODELAY", error)
      || !set_option (sctp, IPPROTO_SCTP, SCTP_FRAGMENT_INTERLEAVE, &off,
          sizeof off, "SCTP_FRAGMENT_INTERLEAVE", error)
      /* A whole message must fit in the send buffer or it is never sent. */
      || !set_option (sctp, SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof sndbuf,
          "SO_SNDBUF", error)
      || !set_option (sctp, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf,
          "SO_RCVBUF", error))
    return FALSE;

  for (guint i = 0; i < G_N_ELEMENTS (events); i++) {
    struct sctp_event event = { .se_assoc_id = SCTP_FUTURE_ASSOC,
      .se_type = events[i], .se_on = 1 };

    if (!set_option (sctp, IPPROTO_SCTP, SCTP_EVENT, &event, sizeof event,
            "SCTP_EVENT", error))
      return FALSE;
  }

  init.sinit_num_ostreams = HANGOUT_SCTP_MAX_STREAMS;
  init.sinit_max_instreams = HANGOUT_SCTP_MAX_STREAMS;
  if (!set_option (sctp, IPPROTO_SCTP, SCTP_INITMSG, &init, sizeof init,
          "SCTP_INITMSG", error))
    return FALSE;

  /* usrsctp has no path MTU discovery over AF_CONN: fix the packet size.
   * Over AF_CONN its "path MTU" leaves out the 12-byte common header
   * (measured: 1188 gives 1200-byte packets). */
  paddr.spp_assoc_id = SCTP_FUTURE_ASSOC;
  paddr.spp_flags = SPP_PMTUD_DISABLE
      | (heartbeat_ms > 0 ? SPP_HB_ENABLE : SPP_HB_DISABLE);
  paddr.spp_pathmtu = sctp->path_mtu = mtu - SCTP_COMMON_HEADER_SIZE;
  paddr.spp_hbinterval = heartbeat_ms;
  return set_option (sctp, IPPROTO_SCTP, SCTP_PEER_ADDR_PARAMS, &paddr,
      sizeof paddr, "SCTP_PEER_ADDR_PARAMS", error);
}

static gboolean process (HangoutSctp * sctp);

static void
on_wake (gpointer data)
{
  process (data);
}

HangoutSctp *
hangout_sctp_new (GMainContext *context, guint16 local_port,
    guint16 remote_port, guint mtu, gsize max_message_size, guint heartbeat_ms,
    const HangoutSctpCallbacks *callbacks, gpointer user_data, GError **error)
{
  HangoutSctp *sctp = g_new0 (HangoutSctp, 1);

  hangout_debug_init ();
  global_ref ();
  sctp->context = g_main_context_ref (context);
  sctp->callbacks = *callbacks;
  sctp->user_data = user_data;
  sctp->local_port = local_port;
  sctp->remote_port = remote_port;
  sctp->max_message_size = max_message_size;
  sctp->state = STATE_NEW;
  sctp->last_sack = g_get_monotonic_time ();
  sctp->wedge_after = WEDGE_AFTER_US;
  g_mutex_init (&sctp->send_lock);
  g_queue_init (&sctp->queue);
  sctp->read_buf = g_malloc (READ_CHUNK_SIZE);
  sctp->message = g_byte_array_new ();
  sctp->notification = g_byte_array_new ();

  sctp->wake = hangout_timer_new (context, on_wake, sctp);

  g_rw_lock_writer_lock (&registry_lock);
  do
    sctp->id = g_random_int ();
  while (sctp->id == 0
      || g_hash_table_contains (registry, GUINT_TO_POINTER (sctp->id)));
  g_hash_table_insert (registry, GUINT_TO_POINTER (sctp->id), sctp);
  g_rw_lock_writer_unlock (&registry_lock);

  usrsctp_register_address (GUINT_TO_POINTER (sctp->id));
  sctp->sock = usrsctp_socket (AF_CONN, SOCK_STREAM, IPPROTO_SCTP, NULL, NULL,
      0, NULL);
  if (sctp->sock == NULL) {
    set_error (error, "socket");
    hangout_sctp_free (sctp);
    return NULL;
  }
  usrsctp_set_non_blocking (sctp->sock, 1);
  usrsctp_set_upcall (sctp->sock, on_upcall, GUINT_TO_POINTER (sctp->id));
  hangout_sctp_clock_note_heartbeat (heartbeat_ms);
  if (!configure_socket (sctp, mtu, heartbeat_ms, error)) {
    hangout_sctp_free (sctp);
    return NULL;
  }
  return sctp;
}

void
hangout_sctp_free (HangoutSctp *sctp)
{
  Pending *p;

  if (sctp == NULL)
    return;
  g_mutex_lock (&sctp->send_lock);
  sctp->send_closed = TRUE;
  g_mutex_unlock (&sctp->send_lock);
  /* With SO_LINGER {1, 0} this sends an ABORT through conn_output(), so the
   * registry entry must still be there. */
  if (sctp->sock != NULL) {
    hangout_sctp_clock_kick ();
    usrsctp_close (sctp->sock);
  }
  usrsctp_deregister_address (GUINT_TO_POINTER (sctp->id));
  /* Waits for callbacks running on other threads; later ones find nothing. */
  g_rw_lock_writer_lock (&registry_lock);
  g_hash_table_remove (registry, GUINT_TO_POINTER (sctp->id));
  g_rw_lock_writer_unlock (&registry_lock);

  hangout_timer_free (sctp->wake);
  while ((p = g_queue_pop_head (&sctp->queue)) != NULL)
    g_free (p);
  g_mutex_clear (&sctp->send_lock);
  g_free (sctp->read_buf);
  g_byte_array_unref (sctp->message);
  g_byte_array_unref (sctp->notification);
  g_main_context_unref (sctp->context);
  g_free (sctp);
  global_unref ();
}

gboolean
hangout_sctp_connect (HangoutSctp *sctp, GError **error)
{
  struct sockaddr_conn addr = { 0 };

  g_return_val_if_fail (sctp->state == STATE_NEW, FALSE);
#ifdef HAVE_SCONN_LEN
  addr.sconn_len = sizeof addr;
#endif
  addr.sconn_family = AF_CONN;
  addr.sconn_addr = GUINT_TO_POINTER (sctp->id);
  addr.sconn_port = htons (sctp->local_port);
  if (usrsctp_bind (sctp->sock, (struct sockaddr *) &addr, sizeof addr) != 0) {
    set_error (error, "bind");
    return FALSE;
  }
  addr.sconn_port = htons (sctp->remote_port);
  hangout_sctp_clock_kick ();
  if (usrsctp_connect (sctp->sock, (struct sockaddr *) &addr, sizeof addr) != 0
      && errno != EINPROGRESS) {
    set_error (error, "connect");
    return FALSE;
  }
  sctp->state = STATE_CONNECTING;
  return TRUE;
}

/* SCTP_PEER_ADDR_PARAMS on the association, with @flags and @pathmtu,
 * for all of its paths or (@one_path) for the peer's address. Called with
 * send_lock. */
static void
set_paddr_params (HangoutSctp *sctp, guint32 flags, guint pathmtu,
    gboolean one_path)
{
  struct sctp_paddrparams paddr = { 0 };
  struct sockaddr_conn *addr = (struct sockaddr_conn *) &paddr.spp_address;

  /* AF_CONN without an address: all paths. */
  addr->sconn_family = AF_CONN;
  if (one_path) {
    addr->sconn_port = htons (sctp->remote_port);
    addr->sconn_addr = GUINT_TO_POINTER (sctp->id);
  }
  paddr.spp_flags = flags;
  paddr.spp_pathmtu = pathmtu;
  if (usrsctp_setsockopt (sctp->sock, IPPROTO_SCTP, SCTP_PEER_ADDR_PARAMS,
          &paddr, sizeof paddr) != 0)
    GST_DEBUG ("SCTP %u: SCTP_PEER_ADDR_PARAMS (flags 0x%x): %s", sctp->id,
        flags, g_strerror (errno));
}

/* No SACK came for sctp->wedge_after while the peer still sends: if
 * chunks are unacknowledged, have usrsctp send them again (WEDGE_AFTER_US):
 * the lower MTU marks them, and a heartbeat on demand makes usrsctp send
 * what is marked (it stops at the congestion window, but then starts the
 * timer that was lost). Owner thread. */
static void
nudge_if_wedged (HangoutSctp *sctp, gint64 now)
{
  struct sctp_status status = { 0 };
  socklen_t len = sizeof status;

  /* Nothing unacknowledged counts as acknowledged: wait afresh. */
  sctp->last_sack = now;
  g_mutex_lock (&sctp->send_lock);
  if (!sctp->send_closed && sctp->nudges < MAX_NUDGES
      && usrsctp_getsockopt (sctp->sock, IPPROTO_SCTP, SCTP_STATUS, &status,
          &len) == 0 && status.sstat_unackdata > 0
      && status.sstat_rwnd >= WEDGE_MIN_PEER_WINDOW) {
    sctp->nudges++;
    GST_INFO ("SCTP %u: %u chunks unacknowledged and nothing acknowledged "
        "for %" G_GINT64_FORMAT " ms while the peer sends: sending them "
        "again", sctp->id, status.sstat_unackdata, sctp->wedge_after / 1000);
    set_paddr_params (sctp, SPP_PMTUD_DISABLE,
        sctp->path_mtu - sctp->nudges * NUDGE_MTU_STEP, FALSE);
    set_paddr_params (sctp, SPP_HB_DEMAND, 0, TRUE);
    sctp->wedge_after = MIN (2 * sctp->wedge_after, WEDGE_AFTER_MAX_US);
  }
  g_mutex_unlock (&sctp->send_lock);
}

void
hangout_sctp_receive_packet (HangoutSctp *sctp, const guint8 *data, gsize len)
{
  guint64 chunks = hangout_sctp_packet_chunks (data, len);
  gint64 now;

  if (sctp->state == STATE_CLOSED)
    return;
  if (hangout_sctp_clock_chunks_are_busy (chunks))
    hangout_sctp_clock_kick ();
  now = g_get_monotonic_time ();
  if (chunks & (HANGOUT_SCTP_CHUNK (CHUNK_SACK)
          | HANGOUT_SCTP_CHUNK (CHUNK_NR_SACK))) {
    sctp->last_sack = now;
    sctp->wedge_after = WEDGE_AFTER_US;
  } else if (sctp->state == STATE_CONNECTED
      && now - sctp->last_sack >= sctp->wedge_after) {
    nudge_if_wedged (sctp, now);
  }
  feeding = sctp;
  usrsctp_conninput (GUINT_TO_POINTER (sctp->id), data, len, 0);
  feeding = NULL;
  if (g_atomic_int_get (&sctp->events))
    process (sctp);
}

void
hangout_sctp_set_receiving (HangoutSctp *sctp, gboolean receiving)
{
  if (sctp->paused == !receiving)
    return;
  sctp->paused = !receiving;
  /* Whatever waits in the receive buffer raised no upcall of its own
   * since: read it now, as if one had. */
  if (receiving && sctp->state != STATE_CLOSED) {
    g_atomic_int_set (&sctp->events, 1);
    hangout_timer_set (sctp->wake, 0);
  }
}

static SendResult
try_send (HangoutSctp *sctp, const HangoutSctpSendParams *params,
    const guint8 *data, gsize len)
{
  struct sctp_sendv_spa spa = { 0 };

  spa.sendv_flags = SCTP_SEND_SNDINFO_VALID;
  spa.sendv_sndinfo.snd_sid = params->stream_id;
  spa.sendv_sndinfo.snd_ppid = htonl (params->ppid);
  spa.sendv_sndinfo.snd_flags = SCTP_EOR
      | (params->unordered ? SCTP_UNORDERED : 0);
  if (params->max_retransmits >= 0) {
    spa.sendv_flags |= SCTP_SEND_PRINFO_VALID;
    spa.sendv_prinfo.pr_policy = SCTP_PR_SCTP_RTX;
    spa.sendv_prinfo.pr_value = params->max_retransmits;
  } else if (params->max_lifetime_ms >= 0) {
    spa.sendv_flags |= SCTP_SEND_PRINFO_VALID;
    spa.sendv_prinfo.pr_policy = SCTP_PR_SCTP_TTL;
    spa.sendv_prinfo.pr_value = params->max_lifetime_ms;
  }
  hangout_sctp_clock_kick ();
  /* Without SCTP_EXPLICIT_EOR usrsctp takes the whole message or nothing. */
  if (usrsctp_sendv (sctp->sock, data, len, NULL, 0, &spa, sizeof spa,
          SCTP_SENDV_SPA, 0) >= 0)
    return SEND_OK;
  return (errno == EWOULDBLOCK || errno == EAGAIN) ? SEND_WOULD_BLOCK
      : SEND_ERROR;
}

static gboolean
try_reset (HangoutSctp *sctp, guint16 stream_id)
{
  gsize len = sizeof (struct sctp_reset_streams) + sizeof (uint16_t);
  struct sctp_reset_streams *srs = g_alloca (len);

  memset (srs, 0, len);
  srs->srs_assoc_id = SCTP_ALL_ASSOC;
  srs->srs_flags = SCTP_STREAM_RESET_OUTGOING;
  srs->srs_number_streams = 1;
  srs->srs_stream_list[0] = stream_id;
  hangout_sctp_clock_kick ();
  if (usrsctp_setsockopt (sctp->sock, IPPROTO_SCTP, SCTP_RESET_STREAMS, srs,
          len) == 0)
    return TRUE;
  {
    int err = errno;            /* the caller looks at it */

    GST_DEBUG ("SCTP: resetting stream %u: %s", stream_id, g_strerror (err));
    errno = err;
  }
  return FALSE;
}

static void
enqueue (HangoutSctp *sctp, const HangoutSctpSendParams *params,
    gboolean reset, const guint8 *data, gsize len)
{
  Pending *p = g_malloc (sizeof (Pending) + len);

  p->params = *params;
  p->reset = reset;
  p->len = len;
  if (len > 0)
    memcpy (p->data, data, len);
  g_queue_push_tail (&sctp->queue, p);
}

gboolean
hangout_sctp_send (HangoutSctp *sctp, const HangoutSctpSendParams *params,
    const guint8 *data, gsize len, gboolean *queued, GError **error)
{
  SendResult result = SEND_WOULD_BLOCK;

  if (len > sctp->max_message_size) {
    g_set_error (error, HANGOUT_ERROR, HANGOUT_ERROR_MESSAGE_TOO_BIG,
        "SCTP: message of %" G_GSIZE_FORMAT " bytes exceeds the maximum of %"
        G_GSIZE_FORMAT, len, sctp->max_message_size);
    return FALSE;
  }
  g_mutex_lock (&sctp->send_lock);
  if (sctp->send_closed) {
    g_mutex_unlock (&sctp->send_lock);
    g_set_error (error, HANGOUT_ERROR, HANGOUT_ERROR_CLOSED,
        "SCTP: the association is closed");
    return FALSE;
  }
  /* Only the head of the queue may go first: order on a stream matters. */
  if (g_queue_is_empty (&sctp->queue)
      && g_atomic_int_get ((gint *) & sctp->state) == STATE_CONNECTED)
    result = try_send (sctp, params, data, len);
  if (result == SEND_WOULD_BLOCK)
    enqueue (sctp, params, FALSE, data, len);
  g_mutex_unlock (&sctp->send_lock);

  if (result == SEND_ERROR) {
    set_error (error, "send");
    return FALSE;
  }
  *queued = result == SEND_WOULD_BLOCK;
  return TRUE;
}

void
hangout_sctp_reset_stream (HangoutSctp *sctp, guint16 stream_id)
{
  HangoutSctpSendParams params = { stream_id, 0, FALSE, -1, -1 };

  g_mutex_lock (&sctp->send_lock);
  if (!sctp->send_closed) {
    if (!g_queue_is_empty (&sctp->queue)
        || g_atomic_int_get ((gint *) & sctp->state) != STATE_CONNECTED
        || !try_reset (sctp, stream_id))
      enqueue (sctp, &params, TRUE, NULL, 0);
  }
  g_mutex_unlock (&sctp->send_lock);
}

static void close_with (HangoutSctp * sctp, HangoutError code,
    const gchar * reason);

/* Once everything queued is with usrsctp: SHUTDOWN, which usrsctp sends
 * after the last DATA chunk is acknowledged. Owner thread. */
static void
maybe_shutdown (HangoutSctp *sctp)
{
  gboolean ready;

  if (!sctp->shutdown_requested || sctp->state != STATE_CONNECTED)
    return;
  g_mutex_lock (&sctp->send_lock);
  ready = !sctp->send_closed && g_queue_is_empty (&sctp->queue);
  if (ready)
    sctp->send_closed = TRUE;
  g_mutex_unlock (&sctp->send_lock);
  if (ready)
    hangout_sctp_clock_kick ();
  if (ready && usrsctp_shutdown (sctp->sock, SHUT_WR) != 0)
    close_with (sctp, HANGOUT_ERROR_SCTP, g_strerror (errno));
}

/* usrsctp implements SCTP_GET_SNDBUF_USE (netinet/sctp.h of its sources)
 * but its public header leaves it out. */
#ifndef SCTP_GET_SNDBUF_USE
#define SCTP_GET_SNDBUF_USE 0x00001101
struct sctp_sockstat {
  sctp_assoc_t ss_assoc_id;
  uint32_t ss_total_sndbuf;
  uint32_t ss_total_recv_buf;
};
#endif

gsize
hangout_sctp_get_unacknowledged (HangoutSctp *sctp)
{
  struct sctp_sockstat stat = { 0 };
  socklen_t len = sizeof stat;
  gsize bytes = 0;

  g_mutex_lock (&sctp->send_lock);
  /* One association per socket: usrsctp finds it under any id. */
  if (!sctp->send_closed && usrsctp_getsockopt (sctp->sock, IPPROTO_SCTP,
          SCTP_GET_SNDBUF_USE, &stat, &len) == 0)
    bytes = stat.ss_total_sndbuf;
  g_mutex_unlock (&sctp->send_lock);
  return bytes;
}

void
hangout_sctp_shutdown (HangoutSctp *sctp)
{
  sctp->shutdown_requested = TRUE;
  maybe_shutdown (sctp);
}

typedef struct {
  guint16 stream_id;
  gsize len;
} Sent;

/* Hands queued messages to SCTP while it takes them. Owner thread. */
static void
flush (HangoutSctp *sctp)
{
  Sent sent[64];
  guint n_sent;

  do {
    n_sent = 0;
    g_mutex_lock (&sctp->send_lock);
    while (n_sent < G_N_ELEMENTS (sent) && !sctp->send_closed) {
      Pending *p = g_queue_peek_head (&sctp->queue);

      if (p == NULL)
        break;
      if (p->reset) {
        /* EAGAIN while an earlier reset is in progress: retried on the next
         * event (usrsctp signals writability when the reset completes). */
        if (!try_reset (sctp, p->params.stream_id) && errno == EAGAIN)
          break;
      } else {
        SendResult result = try_send (sctp, &p->params, p->data, p->len);

        if (result == SEND_WOULD_BLOCK)
          break;
        if (result == SEND_ERROR)
          GST_WARNING ("SCTP: dropping a queued message on stream %u: %s",
              p->params.stream_id, g_strerror (errno));
        sent[n_sent].stream_id = p->params.stream_id;
        sent[n_sent].len = p->len;
        n_sent++;
      }
      g_queue_pop_head (&sctp->queue);
      g_free (p);
    }
    g_mutex_unlock (&sctp->send_lock);
    for (guint i = 0; i < n_sent; i++)
      sctp->callbacks.message_sent (sctp->user_data, sent[i].stream_id,
          sent[i].len);
  } while (n_sent == G_N_ELEMENTS (sent));
  maybe_shutdown (sctp);
}

/* @code: HANGOUT_ERROR_CLOSED when the peer ended the association,
 * HANGOUT_ERROR_SCTP when it failed; @reason %NULL for a SHUTDOWN. */
static void
close_with (HangoutSctp *sctp, HangoutError code, const gchar *reason)
{
  GError *error = NULL;

  if (sctp->state == STATE_CLOSED)
    return;
  sctp->state = STATE_CLOSED;
  g_mutex_lock (&sctp->send_lock);
  sctp->send_closed = TRUE;
  g_mutex_unlock (&sctp->send_lock);
  if (reason != NULL)
    error = g_error_new (HANGOUT_ERROR, code, "SCTP: %s", reason);
  sctp->callbacks.closed (sctp->user_data, error);
  g_clear_error (&error);
}

static void
handle_notification (HangoutSctp *sctp, const union sctp_notification *n,
    gsize len)
{
  if (len < sizeof n->sn_header || len < n->sn_header.sn_length)
    return;

  switch (n->sn_header.sn_type) {
    case SCTP_ASSOC_CHANGE:
      switch (n->sn_assoc_change.sac_state) {
        case SCTP_COMM_UP:
          if (sctp->state == STATE_CONNECTING) {
            g_atomic_int_set ((gint *) & sctp->state, STATE_CONNECTED);
            sctp->callbacks.connected (sctp->user_data);
            flush (sctp);
          }
          break;
        case SCTP_COMM_LOST:
          /* usrsctp appends the ABORT chunk when the peer sent one; an
           * association it gave up on (retransmissions unanswered) has
           * none. */
          if (n->sn_assoc_change.sac_length > sizeof n->sn_assoc_change)
            close_with (sctp, HANGOUT_ERROR_CLOSED,
                "the peer aborted the association");
          else
            close_with (sctp, HANGOUT_ERROR_SCTP, "the association was lost: "
                "the peer stopped acknowledging what we sent");
          break;
        case SCTP_CANT_STR_ASSOC:
          close_with (sctp, HANGOUT_ERROR_SCTP,
              "the association could not be established");
          break;
        case SCTP_SHUTDOWN_COMP:
          close_with (sctp, HANGOUT_ERROR_CLOSED, NULL);
          break;
        default:
          break;
      }
      break;
    case SCTP_SHUTDOWN_EVENT:
      close_with (sctp, HANGOUT_ERROR_CLOSED, NULL);
      break;
    case SCTP_STREAM_RESET_EVENT:{
      const struct sctp_stream_reset_event *e = &n->sn_strreset_event;
      guint count = (e->strreset_length - sizeof *e) / sizeof (uint16_t);

      if ((e->strreset_flags & (SCTP_STREAM_RESET_DENIED |
                  SCTP_STREAM_RESET_FAILED)) != 0)
        break;
      if (e->strreset_flags & SCTP_STREAM_RESET_INCOMING_SSN) {
        for (guint i = 0; i < count && sctp->state != STATE_CLOSED; i++)
          sctp->callbacks.stream_reset (sctp->user_data,
              e->strreset_stream_list[i]);
      }
      /* A finished reset of ours may let a queued one go. */
      flush (sctp);
      break;
    }
    case SCTP_SENDER_DRY_EVENT:
      flush (sctp);
      break;
    default:
      break;
  }
}

/* Reads what usrsctp has for us and flushes the send queue. Owner thread,
 * never inside a usrsctp call. Returns FALSE once closed. */
static gboolean
process (HangoutSctp *sctp)
{
  g_atomic_int_set (&sctp->events, 0);
  while (sctp->state != STATE_CLOSED && !sctp->paused) {
    struct sctp_rcvinfo info;
    struct sockaddr_conn from;
    socklen_t from_len = sizeof from, info_len = sizeof info;
    unsigned int info_type = 0;
    int flags = 0;
    ssize_t n;

    n = usrsctp_recvv (sctp->sock, sctp->read_buf, READ_CHUNK_SIZE,
        (struct sockaddr *) &from, &from_len, &info, &info_len, &info_type,
        &flags);
    if (n < 0) {
      if (errno != EWOULDBLOCK && errno != EAGAIN)
        close_with (sctp, HANGOUT_ERROR_SCTP, g_strerror (errno));
      break;
    }
    if (n == 0) {
      /* End of stream: the association is gone. */
      close_with (sctp, sctp->state == STATE_CONNECTED ? HANGOUT_ERROR_CLOSED
          : HANGOUT_ERROR_SCTP, sctp->state == STATE_CONNECTED ? NULL
          : "the association could not be established");
      break;
    }
    if (flags & MSG_NOTIFICATION) {
      if (!(flags & MSG_EOR) || sctp->notification->len > 0) {
        g_byte_array_append (sctp->notification, sctp->read_buf, n);
        if (flags & MSG_EOR) {
          handle_notification (sctp,
              (union sctp_notification *) sctp->notification->data,
              sctp->notification->len);
          g_byte_array_set_size (sctp->notification, 0);
        }
      } else {
        handle_notification (sctp, (union sctp_notification *) sctp->read_buf,
            n);
      }
      continue;
    }
    if (info_type != SCTP_RECVV_RCVINFO)
      continue;
    if (sctp->discarding) {
      sctp->discarding = !(flags & MSG_EOR);
      continue;
    }
    if ((flags & MSG_EOR) && sctp->message->len == 0) {
      /* The common case: the whole message in one read, no copy. */
      sctp->callbacks.message (sctp->user_data, info.rcv_sid,
          ntohl (info.rcv_ppid), sctp->read_buf, n);
      continue;
    }
    if (sctp->message->len + (gsize) n > sctp->max_message_size + READ_CHUNK_SIZE) {
      /* Larger than we advertised: drop it rather than grow without bound. */
      GST_WARNING ("SCTP: dropping an oversized message on stream %u",
          info.rcv_sid);
      g_byte_array_set_size (sctp->message, 0);
      sctp->discarding = !(flags & MSG_EOR);
      continue;
    }
    g_byte_array_append (sctp->message, sctp->read_buf, n);
    if (flags & MSG_EOR) {
      sctp->callbacks.message (sctp->user_data, info.rcv_sid,
          ntohl (info.rcv_ppid), sctp->message->data, sctp->message->len);
      g_byte_array_set_size (sctp->message, 0);
    }
  }
  if (sctp->state == STATE_CONNECTED)
    flush (sctp);
  return sctp->state != STATE_CLOSED;
}
