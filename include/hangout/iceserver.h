/* gst-hangout — STUN and TURN servers as members and browsers name them:
 * the URLs of RFC 7064 and RFC 7065 (RTCIceServer's "urls"), and the
 * short-lived TURN credentials of the TURN REST scheme (coturn's
 * use-auth-secret). Plain GLib and GnuTLS: the signalling server, which
 * has none of the WebRTC layers, uses it as well as the ICE layer.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define HANGOUT_ICE_SERVER_DEFAULT_PORT 3478
#define HANGOUT_ICE_SERVER_DEFAULT_TLS_PORT 5349

typedef enum {
  HANGOUT_ICE_SERVER_STUN,      /* stun: */
  HANGOUT_ICE_SERVER_TURN_UDP,  /* turn: or turn:…?transport=udp */
  HANGOUT_ICE_SERVER_TURN_TCP,  /* turn:…?transport=tcp */
  HANGOUT_ICE_SERVER_TURN_TLS,  /* turns: (…?transport=tcp) */
} HangoutIceServerKind;

/**
 * HangoutIceServer:
 * @kind: what it is and how to reach it
 * @host: a host name or a literal address (IPv6 without brackets)
 * @port: given, or 3478 (5349 for turns:)
 * @username: TURN only; NULL when none was given
 * @credential: TURN only; NULL when none was given
 */
typedef struct {
  HangoutIceServerKind kind;
  gchar *host;
  guint16 port;
  gchar *username;
  gchar *credential;
} HangoutIceServer;

/* Parses one RTCIceServer URL: "stun:HOST[:PORT]", "turn:HOST[:PORT]
 * [?transport=udp|tcp]" or "turns:HOST[:PORT][?transport=tcp]", also with
 * "//" after the scheme and, for TURN, "USER:PASSWORD@" (percent-encoded)
 * before the host. @username and @credential, when not NULL, are the
 * RTCIceServer's and take precedence over the URL's. Fails with a
 * G_IO_ERROR_INVALID_ARGUMENT error saying what is wrong (stuns: and
 * TURN over DTLS are refused: nothing here speaks them). A TURN server
 * without credentials parses: the caller decides whether it needs them. */
HangoutIceServer *hangout_ice_server_parse (const gchar *url,
    const gchar *username, const gchar *credential, GError **error);
/* What the stun-server and turn-server properties take: with @turn FALSE a
 * stun: URL or a bare "HOST[:PORT]"; with @turn TRUE a turn: or turns: URL
 * that carries its credentials ("turn://USER:PASSWORD@HOST:PORT"). */
HangoutIceServer *hangout_ice_server_parse_setting (const gchar *value,
    gboolean turn, GError **error);
/* The URL in RFC 7064/7065 form, as browsers take it: "stun:HOST:PORT",
 * "turn:HOST:PORT?transport=udp" (or tcp), "turns:HOST:PORT?transport=tcp";
 * no credentials. */
gchar *hangout_ice_server_to_url (const HangoutIceServer *server);
HangoutIceServer *hangout_ice_server_copy (const HangoutIceServer *server);
void hangout_ice_server_free (HangoutIceServer *server);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (HangoutIceServer, hangout_ice_server_free)

static inline gboolean
hangout_ice_server_is_turn (const HangoutIceServer *server)
{
  return server->kind != HANGOUT_ICE_SERVER_STUN;
}

/* The TURN REST scheme (draft-uberti-behave-turn-rest-00 §2, coturn's
 * use-auth-secret): the username is "EXPIRY:ID", EXPIRY the Unix time at
 * which the credential stops working, and the credential is
 * base64(HMAC-SHA1(@secret, username)). The TURN server, which knows
 * @secret, checks both without storing any user. */
gchar *hangout_turn_rest_username (gint64 expiry, const gchar *id);
gchar *hangout_turn_rest_credential (const gchar *secret,
    const gchar *username);

G_END_DECLS
