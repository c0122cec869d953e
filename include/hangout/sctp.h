/* gst-hangout — SCTP layer: one usrsctp association over DTLS (AF_CONN),
 * whole-message sends, a send queue flushed by usrsctp's own events.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <glib.h>
#include <hangout/error.h>

G_BEGIN_DECLS

/* RFC 8831 §8 payload protocol identifiers. */
typedef enum {
  HANGOUT_SCTP_PPID_DCEP = 50,
  HANGOUT_SCTP_PPID_STRING = 51,
  HANGOUT_SCTP_PPID_BINARY_PARTIAL = 52,    /* deprecated, accepted on receive */
  HANGOUT_SCTP_PPID_BINARY = 53,
  HANGOUT_SCTP_PPID_STRING_PARTIAL = 54,    /* deprecated, accepted on receive */
  HANGOUT_SCTP_PPID_STRING_EMPTY = 56,
  HANGOUT_SCTP_PPID_BINARY_EMPTY = 57,
} HangoutSctpPpid;

/* Streams negotiated in each direction; browsers open at most 65534 channels
 * but 1024 costs far less memory per association. */
#define HANGOUT_SCTP_MAX_STREAMS 1024

/* Largest SCTP packet on an unknown path: the IPv6 minimum MTU (1280) less
 * IPv6 (40), UDP (8) and DTLS 1.2 AEAD record overhead (37), rounded down. */
#define HANGOUT_SCTP_DEFAULT_MTU 1188

typedef struct {
  guint16 stream_id;
  guint32 ppid;
  gboolean unordered;
  gint max_retransmits;         /* -1: no limit */
  gint max_lifetime_ms;         /* -1: no limit */
} HangoutSctpSendParams;

/**
 * HangoutSctpCallbacks:
 * @send_packet: one SCTP packet to carry over DTLS. Called from any thread
 *   (usrsctp's timer thread included); must not call back into the association.
 * @connected: the association is up. Owner thread.
 * @closed: the association ended; @error is %NULL for an orderly shutdown by
 *   the peer, HANGOUT_ERROR_CLOSED when the peer aborted it, and
 *   HANGOUT_ERROR_SCTP when it failed (e.g. the peer stopped acknowledging).
 *   Owner thread; nothing is called after it.
 * @message: one whole message. Owner thread.
 * @stream_reset: the peer reset its outgoing stream @stream_id (it closed a
 *   data channel). Owner thread.
 * @message_sent: a queued message of @len bytes on @stream_id was handed to
 *   SCTP. Owner thread.
 */
typedef struct {
  void (*send_packet) (gpointer user_data, const guint8 *data, gsize len);
  void (*connected) (gpointer user_data);
  void (*closed) (gpointer user_data, const GError *error);
  void (*message) (gpointer user_data, guint16 stream_id, guint32 ppid,
      const guint8 *data, gsize len);
  void (*stream_reset) (gpointer user_data, guint16 stream_id);
  void (*message_sent) (gpointer user_data, guint16 stream_id, gsize len);
} HangoutSctpCallbacks;

typedef struct _HangoutSctp HangoutSctp;

/* An association whose events are dispatched on @context. @mtu is the largest
 * SCTP packet (HANGOUT_SCTP_DEFAULT_MTU unless the path is known to take more).
 * @max_message_size is the largest message that will be sent or received.
 * An idle association sends a heartbeat every @heartbeat_ms (plus the
 * retransmission timeout, with jitter); 0 sends none. */
HangoutSctp *hangout_sctp_new (GMainContext *context, guint16 local_port,
    guint16 remote_port, guint mtu, gsize max_message_size, guint heartbeat_ms,
    const HangoutSctpCallbacks *callbacks, gpointer user_data, GError **error);
/* Aborts the association (the peer learns it at once), stops every callback
 * and frees everything. Owner thread; not from inside a callback. */
void hangout_sctp_free (HangoutSctp *sctp);

/* Starts the association. Both sides connect (RFC 8841 simultaneous open). */
gboolean hangout_sctp_connect (HangoutSctp *sctp, GError **error);
/* Feeds one SCTP packet that arrived over DTLS. Owner thread. */
void hangout_sctp_receive_packet (HangoutSctp *sctp, const guint8 *data,
    gsize len);

/* Stops or resumes reading received messages (default: reading). While
 * stopped, what arrives stays in SCTP's receive buffer, whose window then
 * closes: the peer stops sending until we read again. The way a receiver
 * slower than the link paces the sender without holding data itself.
 * Notifications wait too (they are read in order with the data). Owner
 * thread. */
void hangout_sctp_set_receiving (HangoutSctp *sctp, gboolean receiving);

/* Sends one whole message, or queues it (in order) when SCTP's send buffer is
 * full; *@queued tells which (a queued one is reported by @message_sent).
 * Thread-safe. Fails when the association is closed. */
gboolean hangout_sctp_send (HangoutSctp *sctp,
    const HangoutSctpSendParams *params, const guint8 *data, gsize len,
    gboolean *queued, GError **error);
/* Ends the association gracefully: what is queued is sent and acknowledged,
 * then SHUTDOWN; sends fail from now on. @closed follows with %NULL when
 * the peer completed the shutdown. Owner thread, not from inside a
 * callback. */
void hangout_sctp_shutdown (HangoutSctp *sctp);
/* Bytes handed to SCTP (sent or not) that the peer has not acknowledged
 * yet; 0 once closed. Thread-safe. */
gsize hangout_sctp_get_unacknowledged (HangoutSctp *sctp);
/* Resets our outgoing stream (closes our half of a data channel). Thread-safe. */
void hangout_sctp_reset_stream (HangoutSctp *sctp, guint16 stream_id);

G_END_DECLS
