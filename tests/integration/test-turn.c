/* gst-hangout — members that may only use relayed candidates (relay-only)
 * share a file through a real TURN server (coturn) over UDP, TCP and TLS,
 * with credentials the signalling server makes from --turn-secret and
 * hands out in its welcome; an element's turn-server property overrides the
 * welcome's; and every TURN allocation is released when the members leave
 * (coturn logs a refresh with lifetime 0 for each, then closes it), not
 * kept for its 10 minutes.
 *
 * coturn, hangout-server and openssl (the TLS certificate) run as
 * processes; the pipelines run here, with the plugin loaded by path. Runs
 * in a private network namespace (lo only), so coturn takes its usual
 * ports. Exits 77 (skipped) without turnserver or openssl.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#include "pipelines.h"

#include <glib/gstdio.h>
#include <signal.h>
#include <string.h>

#define TURN_SECRET "correct horse battery staple"
#define TURN_REALM "hangout.test"
#define FILE_SIZE (3 * 1024 * 1024)
#define TRANSFER_TIMEOUT (60 * GST_SECOND)
/* From the members' stop to coturn's closing every allocation: the
 * deallocations take under a second; coturn closes a released UDP
 * allocation on its next timer tick, about a second later. Without the
 * deallocations it would wait 600 s. */
#define RELEASE_TIMEOUT_MS 8000
/* Leaving waits for each peer to answer SCTP SHUTDOWN (1 s at most: a
 * frozen TURN server relays no answer), then for the deallocations,
 * retransmitted for 800 ms at most when the TURN server does not answer. */
#define LEAVE_BOUND_MS 2500

static gchar *workdir;

static gboolean
wait_until (gboolean (*cond) (gpointer), gpointer data, guint timeout_ms)
{
  gint64 deadline = g_get_monotonic_time ()
      + timeout_ms * G_GINT64_CONSTANT (1000);

  while (!cond (data)) {
    if (g_get_monotonic_time () > deadline)
      return FALSE;
    g_usleep (50 * 1000);       /* coturn's log file: nothing to wait on */
  }
  return TRUE;
}

/* ---- coturn ---- */

typedef struct {
  GSubprocess *proc;
  gchar *log;
} Turn;

static gchar *
read_log (Turn *turn)
{
  gchar *text = NULL;

  g_file_get_contents (turn->log, &text, NULL, NULL);
  return text ? text : g_strdup ("");
}

static guint
count (const gchar *text, const gchar *pattern)
{
  g_autoptr (GRegex) regex = g_regex_new (pattern, G_REGEX_MULTILINE, 0,
      NULL);
  g_autoptr (GMatchInfo) match = NULL;
  guint n = 0;

  g_regex_match (regex, text, 0, &match);
  while (g_match_info_matches (match)) {
    n++;
    g_match_info_next (match, NULL);
  }
  return n;
}

/* Messages must stay short: the log goes to standard error. */
#define fail_unless_log(cond, turn, ...) G_STMT_START { \
  if (!(cond)) { \
    g_autofree gchar *log_ = read_log (turn); \
    g_printerr ("---- coturn log ----\n%s---- end ----\n", log_); \
    fail (__VA_ARGS__); \
  } \
} G_STMT_END

static gboolean
turn_listening (gpointer data)
{
  g_autofree gchar *log = read_log (data);

  /* One line per listener: UDP and TCP on 3478, TLS on 5349. */
  return count (log, "UDP listener opened on: 127\\.0\\.0\\.1:3478") > 0
      && count (log, "TLS/TCP listener opened on : 127\\.0\\.0\\.1:5349") > 0;
}

static Turn *
turn_start (void)
{
  Turn *turn = g_new0 (Turn, 1);
  g_autofree gchar *cert = g_build_filename (workdir, "cert.pem", NULL);
  g_autofree gchar *key = g_build_filename (workdir, "key.pem", NULL);
  g_autofree gchar *db = g_build_filename (workdir, "turndb", NULL);
  g_autofree gchar *pid = g_build_filename (workdir, "turn.pid", NULL);
  const gchar *argv[] = { "turnserver", "-n", "--listening-ip=127.0.0.1",
    "--relay-ip=127.0.0.1", "--listening-port=3478",
    "--tls-listening-port=5349", "--min-port=49152", "--max-port=49999",
    "--use-auth-secret", "--static-auth-secret=" TURN_SECRET,
    "--realm=" TURN_REALM, NULL, NULL, "--allow-loopback-peers", "--no-dtls",
    "--no-cli", "--fingerprint", "--verbose", "--simple-log", NULL, NULL,
    NULL, NULL
  };
  g_autofree gchar *cert_arg = g_strconcat ("--cert=", cert, NULL);
  g_autofree gchar *key_arg = g_strconcat ("--pkey=", key, NULL);
  g_autofree gchar *log_arg = NULL;
  g_autofree gchar *db_arg = g_strconcat ("--userdb=", db, NULL);
  g_autofree gchar *pid_arg = g_strconcat ("--pidfile=", pid, NULL);

  turn->log = g_build_filename (workdir, "turn.log", NULL);
  g_unlink (turn->log);
  log_arg = g_strconcat ("--log-file=", turn->log, NULL);
  argv[11] = cert_arg;
  argv[12] = key_arg;
  argv[19] = log_arg;
  argv[20] = db_arg;
  argv[21] = pid_arg;
  turn->proc = spawn (G_SUBPROCESS_FLAGS_STDOUT_SILENCE
      | G_SUBPROCESS_FLAGS_STDERR_SILENCE, argv);
  fail_unless_log (wait_until (turn_listening, turn, 10000), turn,
      "coturn did not listen");
  return turn;
}

static void
turn_stop (Turn *turn)
{
  stop_process (turn->proc);
  g_free (turn->log);
  g_free (turn);
}

/* Every allocation coturn made was released by its client (a refresh
 * with lifetime 0) and closed. */
static gboolean
allocations_released (gpointer data)
{
  g_autofree gchar *log = read_log (data);
  guint made = count (log, "session [0-9]+: new, ");

  return made > 0 && count (log, "session [0-9]+: refreshed, .*lifetime=0(,|$)")
      >= made && count (log, "session [0-9]+: closed ") >= made;
}

/* ---- hangout-server ---- */

static Server *
turn_server_start (const gchar *turn_url)
{
  g_autofree gchar *secret = g_build_filename (workdir, "turn-secret", NULL);
  const gchar *args[] = { "--turn-server", turn_url, "--turn-secret", secret,
    NULL
  };

  /* coturn's static-auth-secret, as an operator would keep it. */
  fail_unless (g_file_set_contents (secret, TURN_SECRET "\n", -1, NULL));
  return server_start (args);
}

/* ---- the members ---- */

/* Sets @pipeline to NULL, which leaves the room; returns how long it
 * took, in ms. */
static gint64
leave (GstElement *pipeline)
{
  gint64 start = g_get_monotonic_time ();

  gst_element_set_state (pipeline, GST_STATE_NULL);
  gst_object_unref (pipeline);
  return (g_get_monotonic_time () - start) / 1000;
}

/* A sender and a receiver in @room, both relay-only (@extra: more
 * properties for both); the copy must be the original, byte for byte.
 * With @frozen, the TURN server is stopped (SIGSTOP) before the members
 * leave: its silence must not hold them up for long. */
static void
share_file (const gchar *server_url, const gchar *room, const gchar *extra,
    Turn *frozen)
{
  g_autofree gchar *in = g_build_filename (workdir, "in.bin", NULL);
  g_autofree gchar *out = g_strdup_printf ("%s/out-%s.bin", workdir, room);
  g_autofree gchar *common = g_strdup_printf ("room=%s server=%s "
      "relay-only=true %s", room, server_url, extra);
  g_autofree gchar *receive = g_strdup_printf ("hangoutsrc %s num-files=1 "
      "! filesink location=%s", common, out);
  g_autofree gchar *send = g_strdup_printf ("filesrc location=%s "
      "! hangoutsink %s min-peers=1", in, common);
  g_autofree gchar *want = NULL, *got = NULL;
  GstElement *receiver = launch (receive);
  GstElement *sender = launch (send);

  gint64 sender_ms, receiver_ms;

  wait_eos (sender, "sender", TRANSFER_TIMEOUT);
  wait_eos (receiver, "receiver", TRANSFER_TIMEOUT);
  if (frozen != NULL)
    g_subprocess_send_signal (frozen->proc, SIGSTOP);
  sender_ms = leave (sender);
  receiver_ms = leave (receiver);
  if (frozen != NULL)
    g_subprocess_send_signal (frozen->proc, SIGCONT);
  GST_INFO ("left in %" G_GINT64_FORMAT " and %" G_GINT64_FORMAT " ms",
      sender_ms, receiver_ms);
  fail_unless (sender_ms < LEAVE_BOUND_MS && receiver_ms < LEAVE_BOUND_MS,
      "leaving took %" G_GINT64_FORMAT " and %" G_GINT64_FORMAT " ms",
      sender_ms, receiver_ms);
  want = file_sha256 (in);
  got = file_sha256 (out);
  fail_unless_equals_string (got, want);
}

/* The file through coturn over @turn_url, then every allocation released. */
static void
share_through (const gchar *turn_url, const gchar *room)
{
  Turn *turn = turn_start ();
  Server *server = turn_server_start (turn_url);
  g_autofree gchar *log = NULL;

  share_file (server->url, room, "", NULL);
  fail_unless_log (wait_until (allocations_released, turn,
          RELEASE_TIMEOUT_MS), turn, "allocations not released");
  log = read_log (turn);
  /* The members' own credentials: EXPIRY:ID, accepted by coturn (two
   * members, at least one allocation each, on one host address). */
  fail_unless_log (count (log, "session [0-9]+: new, realm=<" TURN_REALM
          ">, username=<[0-9]{10}:[0-9a-f]{32}>") >= 2, turn,
      "not two members' own credentials");
  fail_unless_log (count (log, "CHANNEL_BIND processed, success") >= 2
      || count (log, "SEND processed, success") >= 2, turn,
      "no relayed data");
  server_stop (server);
  turn_stop (turn);
}

GST_START_TEST (test_turn_udp)
{
  share_through ("turn:127.0.0.1:3478?transport=udp", "turn-udp");
}

GST_END_TEST;

GST_START_TEST (test_turn_tcp)
{
  share_through ("turn:127.0.0.1:3478?transport=tcp", "turn-tcp");
}

GST_END_TEST;

GST_START_TEST (test_turn_tls)
{
  share_through ("turns:127.0.0.1:5349", "turn-tls");
}

GST_END_TEST;

/* A TURN server that stops answering while the members leave costs them
 * at most the deallocations' retransmissions. */
GST_START_TEST (test_leave_silent_turn_server)
{
  Turn *turn = turn_start ();
  Server *server = turn_server_start ("turn:127.0.0.1:3478?transport=udp");

  share_file (server->url, "turn-silent", "", turn);
  server_stop (server);
  turn_stop (turn);
}

GST_END_TEST;

/* The welcome names a TURN server where nothing listens; the elements'
 * turn-server, with TURN REST credentials made here (GLib's HMAC, not the
 * server's GnuTLS), is the one that works. */
GST_START_TEST (test_property_overrides_welcome)
{
  Turn *turn = turn_start ();
  Server *server = turn_server_start ("turn:127.0.0.1:9?transport=udp");
  g_autofree gchar *username = g_strdup_printf ("%" G_GINT64_FORMAT
      ":override", g_get_real_time () / G_USEC_PER_SEC + 600);
  g_autofree gchar *credential = NULL, *escaped_user = NULL, *extra = NULL;
  g_autofree gchar *escaped_credential = NULL;
  g_autofree gchar *log = NULL;
  g_autoptr (GHmac) hmac = g_hmac_new (G_CHECKSUM_SHA1,
      (const guchar *) TURN_SECRET, strlen (TURN_SECRET));
  guint8 mac[20];
  gsize mac_len = sizeof mac;

  g_hmac_update (hmac, (const guchar *) username, strlen (username));
  g_hmac_get_digest (hmac, mac, &mac_len);
  credential = g_base64_encode (mac, mac_len);
  escaped_user = g_uri_escape_string (username, NULL, FALSE);
  escaped_credential = g_uri_escape_string (credential, NULL, FALSE);
  extra = g_strdup_printf ("turn-server=\"turn://%s:%s@127.0.0.1:3478\"",
      escaped_user, escaped_credential);
  share_file (server->url, "turn-override", extra, NULL);
  fail_unless_log (wait_until (allocations_released, turn,
          RELEASE_TIMEOUT_MS), turn, "allocations not released");
  log = read_log (turn);
  fail_unless_log (count (log, "username=<[0-9]+:override>, lifetime=600")
      >= 2, turn, "the property's credentials were not used");
  server_stop (server);
  turn_stop (turn);
}

GST_END_TEST;

/* The certificate coturn presents for 127.0.0.1, and the trust in it: a
 * program may replace GIO's default TLS database (the system's
 * authorities), as this one does. */
static void
trust_certificate (void)
{
  g_autofree gchar *cert = g_build_filename (workdir, "cert.pem", NULL);
  g_autofree gchar *key = g_build_filename (workdir, "key.pem", NULL);
  g_autoptr (GError) error = NULL;
  g_autoptr (GTlsDatabase) database = NULL;

  make_certificate (cert, key, "127.0.0.1", "IP:127.0.0.1");
  database = g_tls_file_database_new (cert, &error);
  fail_unless (database != NULL, "%s", error ? error->message : "");
  g_tls_backend_set_default_database (g_tls_backend_get_default (), database);
}

static void
setup (void)
{
  g_autofree gchar *in = NULL;

  workdir = make_workdir ("turn");
  in = g_build_filename (workdir, "in.bin", NULL);
  write_random_file (in, FILE_SIZE);
  trust_certificate ();
}

static void
teardown (void)
{
  remove_workdir (g_steal_pointer (&workdir));
}

static Suite *
turn_suite (void)
{
  Suite *s = suite_create ("turn");
  TCase *tc = tcase_create ("coturn");

  tcase_add_checked_fixture (tc, setup, teardown);
  suite_add_tcase (s, tc);
  tcase_add_test (tc, test_turn_udp);
  tcase_add_test (tc, test_turn_tcp);
  tcase_add_test (tc, test_turn_tls);
  tcase_add_test (tc, test_property_overrides_welcome);
  tcase_add_test (tc, test_leave_silent_turn_server);
  return s;
}

int
main (int argc, char **argv)
{
  g_autofree gchar *turnserver = g_find_program_in_path ("turnserver");
  g_autofree gchar *openssl = g_find_program_in_path ("openssl");

  if (turnserver == NULL || openssl == NULL) {
    g_print ("SKIP: turnserver (Debian's coturn) or openssl not found; "
        "scripts/install-deps.sh installs them\n");
    return 77;
  }
  gst_check_init (&argc, &argv);
  return gst_check_run_suite (turn_suite (), "turn", __FILE__);
}
