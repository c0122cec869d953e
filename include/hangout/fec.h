/* gst-hangout — loss repair below DTLS: XOR parity over groups of DTLS
 * records, sent only to a peer that says it reads it and only while that
 * peer reports loss (docs/protocol.md §1.9, docs/architecture.md "Loss").
 *
 * Random loss costs a window-based sender (SCTP here) its window: at 1% and
 * 50 ms it moves ~0.3 MB/s whatever the link carries. A parity datagram per
 * group of k records lets the receiver rebuild one lost record per group
 * before DTLS and SCTP see it missing; the receiver holds the records after
 * a gap until the gap is repaired or cannot be, so SCTP sees them in order.
 * Loss the parity cannot repair (bursts, as a full queue makes them) still
 * reaches SCTP's congestion control.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* The first byte of the layer's own datagrams. RFC 7983 and RFC 9443
 * leave 4..15 unassigned (STUN 0..3, ZRTP 16..19, DTLS 20..63, TURN
 * channels 64..79, QUIC 64..127 and 192..255, RTP 128..191). */
#define HANGOUT_FEC_PARITY 0x0c
#define HANGOUT_FEC_REPORT 0x0d

/* The layer's datagrams are at most this size, what every path carries
 * (§1.8); so protected records are at most 1225 bytes, which the records
 * of 1188-byte SCTP packets are. */
#define HANGOUT_FEC_MAX_DATAGRAM 1232

/* The key that authenticates the layer's datagrams (HMAC-SHA256), exported
 * from the pair's DTLS session (RFC 5705) under this label, no context. */
#define HANGOUT_FEC_KEY_SIZE 32
#define HANGOUT_FEC_EXPORTER_LABEL "EXTRACTOR-gst-hangout-fec"

typedef struct _HangoutFec HangoutFec;

/**
 * HangoutFecCallbacks:
 * @send: write one of the layer's datagrams (parity, report) to the peer.
 *   Any thread, under the layer's lock: it must not call the layer.
 * @deliver: one DTLS datagram for DTLS: received, or rebuilt from parity,
 *   in record order where the layer holds them. The owner thread.
 */
typedef struct {
  void (*send) (gpointer user_data, const guint8 *datagram, gsize len);
  void (*deliver) (gpointer user_data, const guint8 *datagram, gsize len);
} HangoutFecCallbacks;

/* Both directions of one connection, with the pair's @key
 * (HANGOUT_FEC_KEY_SIZE bytes); timers run on @context, whose thread is
 * the owner thread. */
HangoutFec *hangout_fec_new (GMainContext *context, const guint8 *key,
    const HangoutFecCallbacks *callbacks, gpointer user_data);
/* Afterwards no callback runs. The owner thread, once no thread calls
 * hangout_fec_sent() any more. */
void hangout_fec_free (HangoutFec *fec);

/* TRUE when @data is one of the layer's datagrams (its first byte). */
gboolean hangout_fec_is_fec_packet (const guint8 *data, gsize len);

/* A DTLS datagram we have just sent: counted into the open parity group.
 * Any thread (calls serialised, as DTLS makes them). */
void hangout_fec_sent (HangoutFec *fec, const guint8 *datagram, gsize len);

/* A datagram from the peer: DTLS (delivered now or once its predecessors
 * are) or the layer's own. Anything malformed, or of ours without the
 * pair's tag, is dropped. Owner thread. */
void hangout_fec_receive (HangoutFec *fec, const guint8 *datagram, gsize len);

/**
 * HangoutFecStats:
 * @received: protected DTLS records that arrived
 * @lost: records that did not arrive (before repair), as the receiver counted
 * @repaired: lost records rebuilt from parity
 * @parity_sent: parity datagrams we sent
 * @group_size: records per parity datagram we send now, 0 while the peer
 *   reports no loss
 */
typedef struct {
  guint64 received;
  guint64 lost;
  guint64 repaired;
  guint64 parity_sent;
  guint group_size;
} HangoutFecStats;

void hangout_fec_get_stats (HangoutFec *fec, HangoutFecStats *stats);

G_END_DECLS
