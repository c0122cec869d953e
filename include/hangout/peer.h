/* gst-hangout — a peer connection: ICE + DTLS + SCTP + data channels, driven
 * by offer/answer and trickled candidates.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <glib-object.h>
#include <gst/gst.h>
#include <hangout/error.h>
#include <hangout/sdp.h>
#include <hangout/channel.h>

G_BEGIN_DECLS

typedef enum {
  HANGOUT_PEER_CONNECTION_STATE_NEW,
  HANGOUT_PEER_CONNECTION_STATE_CONNECTING,
  HANGOUT_PEER_CONNECTION_STATE_CONNECTED,
  HANGOUT_PEER_CONNECTION_STATE_CLOSED,
  HANGOUT_PEER_CONNECTION_STATE_FAILED,
} HangoutPeerConnectionState;

GType hangout_peer_connection_state_get_type (void);
#define HANGOUT_TYPE_PEER_CONNECTION_STATE (hangout_peer_connection_state_get_type ())

/* Our a=max-message-size: what Chromium advertises. */
#define HANGOUT_PEER_DEFAULT_MAX_MESSAGE_SIZE 262144

#define HANGOUT_TYPE_PEER_CONNECTION (hangout_peer_connection_get_type ())
G_DECLARE_FINAL_TYPE (HangoutPeerConnection, hangout_peer_connection, HANGOUT,
    PEER_CONNECTION, GObject)

/* Properties: "context" (GMainContext*, construct-only), "stun-server",
 * "turn-server", "ice-servers" (GPtrArray of HangoutIceServer),
 * "relay-only" (see HangoutIceConfig; read when the offer or answer is
 * created), "max-message-size" (ours, advertised),
 * "state", "remote-max-message-size", "connect-timeout" (ms to reach
 * CONNECTED after the remote description, default 30000).
 * Signals, emitted on the thread iterating the context:
 *   "ice-candidate" (const gchar *candidate): a local candidate in the
 *       browsers' form, or %NULL when gathering is done;
 *   "state-changed" (HangoutPeerConnectionState);
 *   "data-channel" (HangoutDataChannel*): the peer opened a channel.
 *
 * Every call is made on the thread that iterates the context, except the data
 * channels' send functions and getters, which are thread-safe. */

HangoutPeerConnection *hangout_peer_connection_new (GMainContext *context);

/* Starts ICE gathering and returns our offer (candidates trickle out as
 * "ice-candidate"; hangout_peer_connection_get_local_description() includes
 * those gathered so far). */
gchar *hangout_peer_connection_create_offer (HangoutPeerConnection *pc,
    GError **error);
/* Valid after the remote offer was set. */
gchar *hangout_peer_connection_create_answer (HangoutPeerConnection *pc,
    GError **error);
gboolean hangout_peer_connection_set_remote_description (HangoutPeerConnection *pc,
    HangoutSdpType type, const gchar *sdp, GError **error);
gchar *hangout_peer_connection_get_local_description (HangoutPeerConnection *pc);
/* @candidate: browsers' form or with "a="; %NULL or "" marks the end of the
 * peer's candidates. */
gboolean hangout_peer_connection_add_ice_candidate (HangoutPeerConnection *pc,
    const gchar *candidate, GError **error);

HangoutPeerConnectionState hangout_peer_connection_get_state (HangoutPeerConnection *pc);
/* Why the connection is FAILED or CLOSED (NULL before), e.g. "DTLS: peer
 * certificate fingerprint does not match the remote description". */
const GError *hangout_peer_connection_get_error (HangoutPeerConnection *pc);

/* How the connection runs, %NULL before DTLS is up: the selected ICE pair's
 * fields (hangout_ice_dup_selected_pair()) in a structure
 * "hangout-transport", with "sctp-packet-size" (G_TYPE_UINT: the largest SCTP
 * packet sent, HANGOUT_SCTP_DEFAULT_MTU unless both ends are on loopback and
 * the peer reads larger datagrams) and "dtls" (G_TYPE_STRING, e.g.
 * "(DTLS1.2)-(ECDHE-SECP256R1)-(ECDSA-SHA256)-(AES-128-GCM)"); with loss
 * repair (fec.h: both ends read it, the path is not loopback) also the
 * HangoutFecStats as "fec-received", "fec-lost", "fec-repaired",
 * "fec-parity-sent" (G_TYPE_UINT64) and "fec-group-size" (G_TYPE_UINT). */
GstStructure *hangout_peer_connection_dup_transport (HangoutPeerConnection *pc);

/* Our certificate's fingerprint, and the peer's once DTLS has checked its
 * certificate against the remote description (NULL before), in the form
 * of hangout_auth_normalise_fingerprint(): "sha-256 AB:01:…". For what
 * binds a connection to its two ends (docs/protocol.md §3). */
gchar *hangout_peer_connection_dup_local_fingerprint (HangoutPeerConnection *pc);
gchar *hangout_peer_connection_dup_remote_fingerprint (HangoutPeerConnection *pc);

/* Creates a channel; it opens once the connection is up (at once if it is).
 * @options may be %NULL for the defaults. */
HangoutDataChannel *hangout_peer_connection_create_data_channel (HangoutPeerConnection *pc,
    const gchar *label, const HangoutDataChannelOptions *options, GError **error);

/* Stops or resumes reading what the peer sends on any channel (default:
 * reading); while stopped, SCTP's window closes and the peer's sends wait
 * in its buffered amount (hangout_sctp_set_receiving()). */
void hangout_peer_connection_set_receiving (HangoutPeerConnection *pc,
    gboolean receiving);

/* Ends the connection gracefully: what the channels have queued is sent
 * and acknowledged by the peer, then SCTP SHUTDOWN, then DTLS close_notify;
 * the state becomes CLOSED when the peer has answered (a peer that does not
 * answer is the caller's to close() after a while). Before SCTP is up, the
 * same as close(). Idempotent. */
void hangout_peer_connection_shutdown (HangoutPeerConnection *pc);

/* Closes every channel and the connection; the peer notices at once (SCTP
 * ABORT, DTLS close_notify). State becomes CLOSED. Idempotent. */
void hangout_peer_connection_close (HangoutPeerConnection *pc);

G_END_DECLS
