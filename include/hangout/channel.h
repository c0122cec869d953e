/* gst-hangout — data channels: RFC 8832 DCEP and RFC 8831 messages on SCTP streams.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <glib-object.h>
#include <hangout/error.h>

G_BEGIN_DECLS

typedef enum {
  HANGOUT_DATA_CHANNEL_STATE_CONNECTING,
  HANGOUT_DATA_CHANNEL_STATE_OPEN,
  HANGOUT_DATA_CHANNEL_STATE_CLOSING,
  HANGOUT_DATA_CHANNEL_STATE_CLOSED,
} HangoutDataChannelState;

GType hangout_data_channel_state_get_type (void);
#define HANGOUT_TYPE_DATA_CHANNEL_STATE (hangout_data_channel_state_get_type ())

/**
 * HangoutDataChannelOptions:
 * @ordered: deliver in order (default TRUE)
 * @max_retransmits: partial reliability by retransmissions, -1 for none
 * @max_packet_lifetime: partial reliability by lifetime in ms, -1 for none
 * @protocol: sub-protocol name, or %NULL
 * @negotiated: the application agreed on @id with the peer out of band; no
 *   DCEP is exchanged (RTCDataChannelInit.negotiated)
 * @id: stream id for a negotiated channel, -1 to pick one by DTLS role
 * @priority: DCEP priority (256 is "normal" in the W3C mapping)
 *
 * The names follow RTCDataChannelInit and webrtcbin's create-data-channel.
 */
typedef struct {
  gboolean ordered;
  gint max_retransmits;
  gint max_packet_lifetime;
  const gchar *protocol;
  gboolean negotiated;
  gint id;
  guint16 priority;
} HangoutDataChannelOptions;

#define HANGOUT_DATA_CHANNEL_OPTIONS_INIT { TRUE, -1, -1, NULL, FALSE, -1, 256 }

#define HANGOUT_TYPE_DATA_CHANNEL (hangout_data_channel_get_type ())
G_DECLARE_FINAL_TYPE (HangoutDataChannel, hangout_data_channel, HANGOUT,
    DATA_CHANNEL, GObject)

/* Properties (read-only but the threshold): label, protocol, id, ordered,
 * max-retransmits, max-packet-lifetime, negotiated, priority, ready-state,
 * buffered-amount, buffered-amount-low-threshold, max-message-size.
 * Signals, emitted on the peer connection's network thread:
 *   "open" (), "close" (), "error" (GError*),
 *   "message-string" (const gchar *text), "message-data" (GBytes *data),
 *   "buffered-amount-low" () when buffered-amount falls from above
 *   buffered-amount-low-threshold to at or below it. */

const gchar *hangout_data_channel_get_label (HangoutDataChannel *channel);
/* -1 until the stream id is known (DTLS role decided). */
gint hangout_data_channel_get_id (HangoutDataChannel *channel);
HangoutDataChannelState hangout_data_channel_get_ready_state (HangoutDataChannel *channel);
/* Bytes accepted by send but not yet handed to SCTP. Thread-safe. */
guint64 hangout_data_channel_get_buffered_amount (HangoutDataChannel *channel);
/* Bytes accepted by send since the channel was made: a message sent now
 * leaves the buffer once get_bytes_accepted() − get_buffered_amount() (read
 * in this order) passes what get_bytes_accepted() said right after it was
 * sent. Thread-safe. */
guint64 hangout_data_channel_get_bytes_accepted (HangoutDataChannel *channel);
/* Bytes handed to SCTP that the peer has not acknowledged yet, for the
 * whole association (every channel of the connection); 0 without one.
 * With the buffered amount, what still has to reach the peer. Thread-safe. */
guint64 hangout_data_channel_get_unacknowledged (HangoutDataChannel *channel);
void hangout_data_channel_set_buffered_amount_low_threshold (HangoutDataChannel *channel,
    guint64 threshold);
/* The largest message the peer accepts: min(ours, theirs). */
gsize hangout_data_channel_get_max_message_size (HangoutDataChannel *channel);

/* Send one message. Thread-safe. Fails with HANGOUT_ERROR_MESSAGE_TOO_BIG
 * over the negotiated max-message-size and with HANGOUT_ERROR_INVALID_STATE
 * when the channel is not open (RTCDataChannel.send throws alike). */
gboolean hangout_data_channel_send_data (HangoutDataChannel *channel,
    const guint8 *data, gsize len, GError **error);
gboolean hangout_data_channel_send_bytes (HangoutDataChannel *channel,
    GBytes *bytes, GError **error);
gboolean hangout_data_channel_send_string (HangoutDataChannel *channel,
    const gchar *text, GError **error);
/* Closes the channel by resetting its stream; "close" follows once the peer
 * has reset its side too. */
void hangout_data_channel_close (HangoutDataChannel *channel);

/* ---- DCEP (RFC 8832) wire format, exposed for the peer layer and tests ---- */

#define HANGOUT_DCEP_MESSAGE_ACK 0x02
#define HANGOUT_DCEP_MESSAGE_OPEN 0x03

typedef struct {
  guint8 channel_type;          /* 0x00 reliable, 0x01 rexmit, 0x02 timed; |0x80 unordered */
  guint16 priority;
  guint32 reliability;
  gchar *label;
  gchar *protocol;
} HangoutDcepOpen;

void hangout_dcep_open_clear (HangoutDcepOpen *open);
/* Parses a DATA_CHANNEL_OPEN; fails with HANGOUT_ERROR_INVALID_MESSAGE on a
 * short message, an unknown channel type, lengths that overrun the message, or
 * a label or protocol that is not UTF-8. */
gboolean hangout_dcep_parse_open (const guint8 *data, gsize len,
    HangoutDcepOpen *open, GError **error);
GBytes *hangout_dcep_build_open (const HangoutDcepOpen *open);

G_END_DECLS
