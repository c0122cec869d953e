/* gst-hangout — STUN and TURN server URLs and TURN REST credentials.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#include <hangout/iceserver.h>

#include <gio/gio.h>
#include <gnutls/gnutls.h>
#include <gnutls/crypto.h>
#include <string.h>

static gboolean
fail (GError **error, const gchar *url, const gchar *why)
{
  g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
      "server '%s': %s", url, why);
  return FALSE;
}

/* "HOST[:PORT]" or "[V6]:PORT" into @server. */
static gboolean
parse_host_port (const gchar *url, const gchar *hostport,
    HangoutIceServer *server, GError **error)
{
  const gchar *port = NULL;

  if (hostport[0] == '[') {
    const gchar *close = strchr (hostport, ']');

    if (close == NULL || close == hostport + 1)
      return fail (error, url, "an IPv6 address needs its closing ']'");
    server->host = g_strndup (hostport + 1, close - hostport - 1);
    if (close[1] == ':')
      port = close + 2;
    else if (close[1] != '\0')
      return fail (error, url, "unexpected text after the IPv6 address");
  } else {
    const gchar *colon = strchr (hostport, ':');

    if (colon != NULL && strchr (colon + 1, ':') != NULL)
      return fail (error, url, "an IPv6 address goes in brackets");
    server->host = colon ? g_strndup (hostport, colon - hostport)
        : g_strdup (hostport);
    if (colon != NULL)
      port = colon + 1;
  }
  if (server->host[0] == '\0')
    return fail (error, url, "no host");
  if (port != NULL) {
    guint64 value;

    if (!g_ascii_string_to_unsigned (port, 10, 1, 65535, &value, NULL))
      return fail (error, url, "the port must be a number from 1 to 65535");
    server->port = value;
  }
  return TRUE;
}

/* "transport=udp" or "transport=tcp", the only query RFC 7065 defines. */
static gboolean
parse_transport (const gchar *url, const gchar *query,
    HangoutIceServer *server, GError **error)
{
  if (!g_str_has_prefix (query, "transport="))
    return fail (error, url, "the only query a TURN URL takes is "
        "?transport=udp or ?transport=tcp");
  query += strlen ("transport=");
  if (g_ascii_strcasecmp (query, "tcp") == 0) {
    if (server->kind == HANGOUT_ICE_SERVER_TURN_UDP)
      server->kind = HANGOUT_ICE_SERVER_TURN_TCP;
  } else if (g_ascii_strcasecmp (query, "udp") == 0) {
    if (server->kind == HANGOUT_ICE_SERVER_TURN_TLS)
      return fail (error, url, "TURN over DTLS (turns: with "
          "?transport=udp) is not supported");
  } else {
    return fail (error, url, "the transport must be udp or tcp");
  }
  return TRUE;
}

/* @shown: what the user gave, for messages. */
static gboolean
parse_into (const gchar *url, const gchar *shown, HangoutIceServer *server,
    GError **error)
{
  static const struct {
    const gchar *scheme;
    HangoutIceServerKind kind;
    guint16 port;
  } schemes[] = {
    { "stun:", HANGOUT_ICE_SERVER_STUN, HANGOUT_ICE_SERVER_DEFAULT_PORT },
    { "turn:", HANGOUT_ICE_SERVER_TURN_UDP, HANGOUT_ICE_SERVER_DEFAULT_PORT },
    { "turns:", HANGOUT_ICE_SERVER_TURN_TLS,
        HANGOUT_ICE_SERVER_DEFAULT_TLS_PORT },
  };
  g_autofree gchar *rest = NULL;
  gchar *query, *at;
  const gchar *body = NULL;

  for (guint i = 0; i < G_N_ELEMENTS (schemes) && body == NULL; i++) {
    if (g_ascii_strncasecmp (url, schemes[i].scheme,
            strlen (schemes[i].scheme)) == 0) {
      body = url + strlen (schemes[i].scheme);
      server->kind = schemes[i].kind;
      server->port = schemes[i].port;
    }
  }
  if (body == NULL) {
    if (g_ascii_strncasecmp (url, "stuns:", 6) == 0)
      return fail (error, shown, "STUN over TLS (stuns:) is not supported; "
          "use stun:");
    return fail (error, shown, "expected a stun:, turn: or turns: URL");
  }
  if (g_str_has_prefix (body, "//"))
    body += 2;
  rest = g_strdup (body);
  query = strchr (rest, '?');
  if (query != NULL) {
    *query++ = '\0';
    if (server->kind == HANGOUT_ICE_SERVER_STUN)
      return fail (error, shown, "a stun: URL takes no query");
    if (!parse_transport (shown, query, server, error))
      return FALSE;
  }
  at = strrchr (rest, '@');
  if (at != NULL) {
    gchar *sep;

    *at = '\0';
    sep = strchr (rest, ':');
    if (server->kind == HANGOUT_ICE_SERVER_STUN)
      return fail (error, shown, "a STUN server takes no credentials");
    if (sep == NULL)
      return fail (error, shown, "credentials must be USER:PASSWORD@");
    *sep = '\0';
    server->username = g_uri_unescape_string (rest, NULL);
    server->credential = g_uri_unescape_string (sep + 1, NULL);
    if (server->username == NULL || server->credential == NULL)
      return fail (error, shown, "bad percent-encoding in the credentials");
  }
  return parse_host_port (shown, at ? at + 1 : rest, server, error);
}

static HangoutIceServer *
parse_named (const gchar *url, const gchar *shown, const gchar *username,
    const gchar *credential, GError **error)
{
  g_autoptr (HangoutIceServer) server = g_new0 (HangoutIceServer, 1);

  if (!parse_into (url, shown, server, error))
    return NULL;
  if (hangout_ice_server_is_turn (server)) {
    if (username != NULL) {
      g_free (server->username);
      server->username = g_strdup (username);
    }
    if (credential != NULL) {
      g_free (server->credential);
      server->credential = g_strdup (credential);
    }
  }
  return g_steal_pointer (&server);
}

HangoutIceServer *
hangout_ice_server_parse (const gchar *url, const gchar *username,
    const gchar *credential, GError **error)
{
  g_return_val_if_fail (url != NULL, NULL);
  return parse_named (url, url, username, credential, error);
}

static gboolean
has_scheme (const gchar *value)
{
  static const gchar *const schemes[] = { "stun:", "stuns:", "turn:",
    "turns:"
  };

  for (guint i = 0; i < G_N_ELEMENTS (schemes); i++)
    if (g_ascii_strncasecmp (value, schemes[i], strlen (schemes[i])) == 0)
      return TRUE;
  return FALSE;
}

HangoutIceServer *
hangout_ice_server_parse_setting (const gchar *value, gboolean turn,
    GError **error)
{
  g_autofree gchar *url = NULL;
  g_autoptr (HangoutIceServer) server = NULL;

  g_return_val_if_fail (value != NULL, NULL);
  /* A bare "HOST:PORT" has always meant a STUN server. */
  if (!turn && !has_scheme (value))
    url = g_strconcat ("stun:", value, NULL);
  server = parse_named (url ? url : value, value, NULL, NULL, error);
  if (server == NULL)
    return NULL;
  if (hangout_ice_server_is_turn (server) != turn) {
    fail (error, value, turn ? "expected a turn: or turns: URL"
        : "expected a stun: URL or HOST:PORT");
    return NULL;
  }
  if (turn && server->username == NULL) {
    fail (error, value, "a TURN server needs USER:PASSWORD@ before the host");
    return NULL;
  }
  return g_steal_pointer (&server);
}

gchar *
hangout_ice_server_to_url (const HangoutIceServer *server)
{
  static const gchar *const prefixes[] = {
    [HANGOUT_ICE_SERVER_STUN] = "stun:",
    [HANGOUT_ICE_SERVER_TURN_UDP] = "turn:",
    [HANGOUT_ICE_SERVER_TURN_TCP] = "turn:",
    [HANGOUT_ICE_SERVER_TURN_TLS] = "turns:",
  };
  static const gchar *const queries[] = {
    [HANGOUT_ICE_SERVER_STUN] = "",
    [HANGOUT_ICE_SERVER_TURN_UDP] = "?transport=udp",
    [HANGOUT_ICE_SERVER_TURN_TCP] = "?transport=tcp",
    [HANGOUT_ICE_SERVER_TURN_TLS] = "?transport=tcp",
  };
  gboolean ipv6 = strchr (server->host, ':') != NULL;

  return g_strdup_printf ("%s%s%s%s:%u%s", prefixes[server->kind],
      ipv6 ? "[" : "", server->host, ipv6 ? "]" : "", server->port,
      queries[server->kind]);
}

HangoutIceServer *
hangout_ice_server_copy (const HangoutIceServer *server)
{
  HangoutIceServer *copy = g_new0 (HangoutIceServer, 1);

  copy->kind = server->kind;
  copy->host = g_strdup (server->host);
  copy->port = server->port;
  copy->username = g_strdup (server->username);
  copy->credential = g_strdup (server->credential);
  return copy;
}

void
hangout_ice_server_free (HangoutIceServer *server)
{
  if (server == NULL)
    return;
  g_free (server->host);
  g_free (server->username);
  if (server->credential != NULL)
    gnutls_memset (server->credential, 0, strlen (server->credential));
  g_free (server->credential);
  g_free (server);
}

gchar *
hangout_turn_rest_username (gint64 expiry, const gchar *id)
{
  return g_strdup_printf ("%" G_GINT64_FORMAT ":%s", expiry, id);
}

gchar *
hangout_turn_rest_credential (const gchar *secret, const gchar *username)
{
  guint8 mac[20];               /* SHA-1 */

  /* Fails only for a MAC GnuTLS does not have: nothing to go on with. */
  if (gnutls_hmac_fast (GNUTLS_MAC_SHA1, secret, strlen (secret), username,
          strlen (username), mac) < 0)
    g_error ("GnuTLS has no HMAC-SHA1");
  return g_base64_encode (mac, sizeof mac);
}
