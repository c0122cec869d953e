/* gst-hangout — STUN and TURN server URLs (RFC 7064, RFC 7065, and the
 * forms the stun-server and turn-server properties take) and the TURN REST
 * credentials, checked against openssl's HMAC-SHA1 computed here.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#include <gst/check/gstcheck.h>
#include <gio/gio.h>
#include <hangout/iceserver.h>
#include <string.h>

typedef struct {
  const gchar *url;
  HangoutIceServerKind kind;
  const gchar *host;
  guint16 port;
  const gchar *username;        /* from the URL */
  const gchar *credential;
  const gchar *canonical;       /* hangout_ice_server_to_url () */
} Good;

GST_START_TEST (test_parse_urls)
{
  static const Good good[] = {
    {"stun:stun.example.org", HANGOUT_ICE_SERVER_STUN, "stun.example.org",
        3478, NULL, NULL, "stun:stun.example.org:3478"},
    {"stun:198.18.0.1:19302", HANGOUT_ICE_SERVER_STUN, "198.18.0.1", 19302,
        NULL, NULL, "stun:198.18.0.1:19302"},
    {"STUN://[2001:db8::1]:3479", HANGOUT_ICE_SERVER_STUN, "2001:db8::1",
        3479, NULL, NULL, "stun:[2001:db8::1]:3479"},
    {"turn:turn.example.org", HANGOUT_ICE_SERVER_TURN_UDP, "turn.example.org",
        3478, NULL, NULL, "turn:turn.example.org:3478?transport=udp"},
    {"turn:198.18.0.1:3478?transport=udp", HANGOUT_ICE_SERVER_TURN_UDP,
        "198.18.0.1", 3478, NULL, NULL, "turn:198.18.0.1:3478?transport=udp"},
    {"turn:198.18.0.1:80?transport=TCP", HANGOUT_ICE_SERVER_TURN_TCP,
        "198.18.0.1", 80, NULL, NULL, "turn:198.18.0.1:80?transport=tcp"},
    {"turns:turn.example.org", HANGOUT_ICE_SERVER_TURN_TLS,
        "turn.example.org", 5349, NULL, NULL,
        "turns:turn.example.org:5349?transport=tcp"},
    {"turns:turn.example.org:443?transport=tcp", HANGOUT_ICE_SERVER_TURN_TLS,
        "turn.example.org", 443, NULL, NULL,
        "turns:turn.example.org:443?transport=tcp"},
    /* The properties' form: credentials in the URL, percent-encoded. */
    {"turn://alice:s%40cret%3A1@[::1]:3478", HANGOUT_ICE_SERVER_TURN_UDP,
        "::1", 3478, "alice", "s@cret:1", "turn:[::1]:3478?transport=udp"},
    {"turn:u:p@198.18.0.1?transport=tcp", HANGOUT_ICE_SERVER_TURN_TCP,
        "198.18.0.1", 3478, "u", "p", "turn:198.18.0.1:3478?transport=tcp"},
    {"turns://u:p@turn.example.org:5350", HANGOUT_ICE_SERVER_TURN_TLS,
        "turn.example.org", 5350, "u", "p",
        "turns:turn.example.org:5350?transport=tcp"},
  };
  static const struct {
    const gchar *url;
    const gchar *why;           /* part of the message */
  } bad[] = {
    {"", "expected a stun:, turn: or turns: URL"},
    {"http://example.org", "expected a stun:, turn: or turns: URL"},
    {"198.18.0.1:3478", "expected a stun:, turn: or turns: URL"},
    {"stuns:example.org", "stuns:"},
    {"turns:example.org?transport=udp", "DTLS"},
    {"stun:", "no host"},
    {"turn://u:p@", "no host"},
    {"stun:example.org:0", "port"},
    {"stun:example.org:65536", "port"},
    {"stun:example.org:34x", "port"},
    {"stun:2001:db8::1", "brackets"},
    {"stun:[2001:db8::1", "closing"},
    {"stun:[2001:db8::1]x", "after the IPv6"},
    {"stun:example.org?transport=udp", "no query"},
    {"stun:u:p@example.org", "no credentials"},
    {"turn:example.org?transport=sctp", "udp or tcp"},
    {"turn:example.org?foo=bar", "?transport="},
    {"turn:user@example.org", "USER:PASSWORD@"},
    {"turn:u:%zz@example.org", "percent-encoding"},
  };

  for (guint i = 0; i < G_N_ELEMENTS (good); i++) {
    g_autoptr (GError) error = NULL;
    g_autoptr (HangoutIceServer) server = hangout_ice_server_parse (good[i].url,
        NULL, NULL, &error);
    g_autofree gchar *url = NULL;

    fail_unless (server != NULL, "%s: %s", good[i].url,
        error ? error->message : "");
    fail_unless_equals_int (server->kind, good[i].kind);
    fail_unless_equals_string (server->host, good[i].host);
    fail_unless_equals_int (server->port, good[i].port);
    fail_unless_equals_string (server->username, good[i].username);
    fail_unless_equals_string (server->credential, good[i].credential);
    url = hangout_ice_server_to_url (server);
    fail_unless_equals_string (url, good[i].canonical);
  }
  for (guint i = 0; i < G_N_ELEMENTS (bad); i++) {
    g_autoptr (GError) error = NULL;
    g_autoptr (HangoutIceServer) server = hangout_ice_server_parse (bad[i].url,
        NULL, NULL, &error);

    fail_unless (server == NULL, "accepted: '%s'", bad[i].url);
    fail_unless (g_error_matches (error, G_IO_ERROR,
            G_IO_ERROR_INVALID_ARGUMENT));
    fail_unless (strstr (error->message, bad[i].why) != NULL
        && strstr (error->message, bad[i].url) != NULL,
        "'%s': message '%s' lacks '%s'", bad[i].url, error->message,
        bad[i].why);
  }
}

GST_END_TEST;

/* RTCIceServer's username and credential, given beside the URL, win over
 * the URL's; a STUN server keeps none. */
GST_START_TEST (test_parse_separate_credentials)
{
  g_autoptr (HangoutIceServer) turn = hangout_ice_server_parse
      ("turn://a:b@198.18.0.1", "1796000000:x", "c2VjcmV0", NULL);
  g_autoptr (HangoutIceServer) stun = hangout_ice_server_parse
      ("stun:198.18.0.1", "user", "pass", NULL);
  g_autoptr (HangoutIceServer) copy = hangout_ice_server_copy (turn);

  fail_unless_equals_string (turn->username, "1796000000:x");
  fail_unless_equals_string (turn->credential, "c2VjcmV0");
  fail_unless (stun->username == NULL && stun->credential == NULL);
  fail_unless_equals_string (copy->host, "198.18.0.1");
  fail_unless_equals_string (copy->credential, "c2VjcmV0");
}

GST_END_TEST;

GST_START_TEST (test_parse_settings)
{
  static const gchar *const stun_good[] = { "198.18.0.1", "198.18.0.1:3479",
    "stun.example.org:3478", "[::1]:3478", "stun:198.18.0.1",
  };
  static const struct {
    const gchar *value;
    gboolean turn;
    const gchar *why;
  } bad[] = {
    {"turn:u:p@198.18.0.1", FALSE, "expected a stun: URL"},
    {"stun:198.18.0.1", TRUE, "expected a turn: or turns: URL"},
    {"198.18.0.1:3478", TRUE, "expected a stun:, turn: or turns: URL"},
    {"turn:198.18.0.1:3478", TRUE, "needs USER:PASSWORD@"},
    {"turns:198.18.0.1", TRUE, "needs USER:PASSWORD@"},
    {"stun:", FALSE, "no host"},
  };

  for (guint i = 0; i < G_N_ELEMENTS (stun_good); i++) {
    g_autoptr (GError) error = NULL;
    g_autoptr (HangoutIceServer) server =
        hangout_ice_server_parse_setting (stun_good[i], FALSE, &error);

    fail_unless (server != NULL && server->kind == HANGOUT_ICE_SERVER_STUN,
        "%s: %s", stun_good[i], error ? error->message : "");
  }
  for (guint i = 0; i < G_N_ELEMENTS (bad); i++) {
    g_autoptr (GError) error = NULL;
    g_autoptr (HangoutIceServer) server =
        hangout_ice_server_parse_setting (bad[i].value, bad[i].turn, &error);

    fail_unless (server == NULL, "accepted: '%s'", bad[i].value);
    fail_unless (strstr (error->message, bad[i].why) != NULL,
        "'%s': message '%s' lacks '%s'", bad[i].value, error->message,
        bad[i].why);
  }
}

GST_END_TEST;

/* base64 (HMAC-SHA1 (secret, text)) by openssl, another implementation. */
static gchar *
openssl_hmac_sha1_base64 (const gchar *secret, const gchar *text)
{
  g_autofree gchar *script = g_strdup_printf ("printf '%%s' \"$1\" | "
      "openssl dgst -sha1 -binary -hmac \"$2\" | base64");
  const gchar *argv[] = { "sh", "-c", script, "sh", text, secret, NULL };
  g_autoptr (GSubprocess) proc = g_subprocess_newv (argv,
      G_SUBPROCESS_FLAGS_STDOUT_PIPE, NULL);
  g_autofree gchar *out = NULL;

  fail_unless (proc != NULL);
  fail_unless (g_subprocess_communicate_utf8 (proc, NULL, NULL, &out, NULL,
          NULL));
  fail_unless (g_subprocess_get_if_exited (proc)
      && g_subprocess_get_exit_status (proc) == 0, "openssl failed");
  return g_strdup (g_strstrip (out));
}

GST_START_TEST (test_turn_rest_credentials)
{
  static const gchar *const secrets[] = { "s3cret",
    "correct horse battery staple", "a secret longer than SHA-1's 64-byte "
        "block, which HMAC hashes down to a key first",
  };
  g_autofree gchar *openssl = g_find_program_in_path ("openssl");
  g_autofree gchar *username = hangout_turn_rest_username (1796000000,
      "0123456789abcdef0123456789abcdef");

  fail_unless_equals_string (username,
      "1796000000:0123456789abcdef0123456789abcdef");
  /* The example of docs/protocol.md §1.4 (worked out there with openssl). */
  {
    g_autofree gchar *example = hangout_turn_rest_credential ("example secret",
        "1796133600:5f0e8c3a9b7d41e2a6c4b8d0f1e3a5c7");

    fail_unless_equals_string (example, "8yddIjzFXaYZeDFljWmtWpFPpVA=");
  }
  fail_unless (openssl != NULL, "openssl not found (scripts/install-deps.sh)");
  for (guint i = 0; i < G_N_ELEMENTS (secrets); i++) {
    g_autofree gchar *ours = hangout_turn_rest_credential (secrets[i],
        username);
    g_autofree gchar *theirs = openssl_hmac_sha1_base64 (secrets[i], username);

    fail_unless_equals_string (ours, theirs);
  }
}

GST_END_TEST;

static Suite *
iceserver_suite (void)
{
  Suite *s = suite_create ("iceserver");
  TCase *tc = tcase_create ("general");

  suite_add_tcase (s, tc);
  tcase_add_test (tc, test_parse_urls);
  tcase_add_test (tc, test_parse_separate_credentials);
  tcase_add_test (tc, test_parse_settings);
  tcase_add_test (tc, test_turn_rest_credentials);
  return s;
}

GST_CHECK_MAIN (iceserver);
