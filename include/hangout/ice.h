/* gst-hangout — ICE layer: one libnice agent with one stream and one component
 * (BUNDLE, rtcp-mux: a data channel needs nothing else), trickle in and out.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <gst/gst.h>
#include <hangout/error.h>
#include <hangout/iceserver.h>

G_BEGIN_DECLS

typedef enum {
  HANGOUT_ICE_STATE_NEW,
  HANGOUT_ICE_STATE_CHECKING,
  HANGOUT_ICE_STATE_CONNECTED,
  HANGOUT_ICE_STATE_FAILED,
} HangoutIceState;

/**
 * HangoutIceConfig:
 * @stun_server: "HOST[:PORT]" or a stun: URL
 *   (hangout_ice_server_parse_setting()),
 *   or %NULL; when set, @servers' STUN servers are not used
 * @turn_server: a turn: or turns: URL with its credentials,
 *   "turn://USER:PASSWORD@HOST:PORT[?transport=udp|tcp]" or
 *   "turns://USER:PASSWORD@HOST:PORT", or %NULL; when set, @servers' TURN
 *   servers are not used
 * @servers: (element-type HangoutIceServer) (nullable): more servers, as
 *   the signalling server hands them out (its welcome's iceServers). libnice
 *   takes one STUN server: the first is used. A TURN server without
 *   credentials is skipped, and so is one whose host cannot be resolved.
 * @relay_only: gather and use relayed candidates only (like the browsers'
 *   iceTransportPolicy "relay"): every packet goes through a TURN server
 *
 * TURN over UDP, TCP and TLS. A TLS server's certificate is checked against
 * GIO's default TLS database (turn-tls-private.h).
 */
typedef struct {
  const gchar *stun_server;
  const gchar *turn_server;
  GPtrArray *servers;
  gboolean relay_only;
} HangoutIceConfig;

/**
 * HangoutIceCallbacks:
 * @local_candidate: a local candidate in the browsers' form ("candidate:…",
 *   no "a=" prefix), or %NULL once gathering is done.
 * @state_changed: connectivity reached or lost.
 * @received: one datagram that is not STUN (DTLS, for us).
 *
 * All are called on the thread iterating the agent's GMainContext.
 */
typedef struct {
  void (*local_candidate) (gpointer user_data, const gchar *candidate);
  void (*state_changed) (gpointer user_data, HangoutIceState state);
  void (*received) (gpointer user_data, const guint8 *data, gsize len);
} HangoutIceCallbacks;

typedef struct _HangoutIce HangoutIce;

/* @controlling: TRUE for the offerer (RFC 8445 §6.1.1). Fails when a STUN or
 * TURN server string cannot be parsed. */
HangoutIce *hangout_ice_new (GMainContext *context, gboolean controlling,
    const HangoutIceConfig *config, const HangoutIceCallbacks *callbacks,
    gpointer user_data, GError **error);
/* Stops every callback and frees the agent; safe from inside a callback.
 * The agent first releases its TURN allocations (otherwise the server
 * keeps each for its lifetime, 10 minutes by default) on the context,
 * which must go on being iterated: it takes until the servers answer, at
 * most about a second; then @closed (if not NULL) is called with
 * @closed_data there. Without TURN that is at once. */
void hangout_ice_free_full (HangoutIce *ice, GDestroyNotify closed,
    gpointer closed_data);
void hangout_ice_free (HangoutIce *ice);

void hangout_ice_get_local_credentials (HangoutIce *ice, gchar **ufrag,
    gchar **pwd);
/* Starts gathering; candidates arrive through @local_candidate. When the host
 * has no address but loopback (a private network namespace), loopback is
 * used, which libnice otherwise skips. */
gboolean hangout_ice_gather (HangoutIce *ice, GError **error);
/* Local candidates gathered so far, browsers' form. */
GPtrArray *hangout_ice_get_local_candidates (HangoutIce *ice);

gboolean hangout_ice_set_remote_credentials (HangoutIce *ice,
    const gchar *ufrag, const gchar *pwd, GError **error);
/* Accepts "candidate:…" (browser JSON form) or "a=candidate:…". A ".local"
 * mDNS host candidate, which libnice cannot resolve, is skipped (returns TRUE):
 * the peer's connectivity checks teach us a peer-reflexive candidate instead.
 * Returns FALSE with HANGOUT_ERROR_INVALID_CANDIDATE on anything malformed. */
gboolean hangout_ice_add_remote_candidate (HangoutIce *ice,
    const gchar *candidate, GError **error);
/* The peer trickled its last candidate: ICE may now conclude it failed. */
void hangout_ice_remote_gathering_done (HangoutIce *ice);

/* Sends one datagram on the selected pair. Thread-safe. FALSE when no pair is
 * selected yet or the socket refused the datagram. */
gboolean hangout_ice_send (HangoutIce *ice, const guint8 *data, gsize len);

/* TRUE once a pair is selected, neither end is relayed and both of its
 * addresses are loopback ones. */
gboolean hangout_ice_selected_pair_is_loopback (HangoutIce *ice);
/* The selected pair, %NULL before one is: a structure "hangout-ice-pair" with
 * "local-type" and "remote-type" (G_TYPE_STRING: "host", "srflx", "prflx",
 * "relay"), "local-address" and "remote-address" ("IP:PORT"; for a relayed
 * local candidate, the relay's address) and "transport" ("udp", "tcp"). */
GstStructure *hangout_ice_dup_selected_pair (HangoutIce *ice);

G_END_DECLS
