/* gst-hangout — the elements against a wss:// signalling server with a
 * self-signed certificate (hangout-server --tls-cert), as a private server
 * has one: without ssl-ca-file the join fails at once with an error that
 * says it is TLS, what GIO found wrong and which property to change; with
 * ssl-ca-file (or a tls-database set from C) two pipelines share a file;
 * ssl-strict=false joins and warns; a certificate for another name is a
 * bad identity; wss:// to a server without TLS fails within a second; an
 * ssl-ca-file that cannot be used is an error naming it.
 *
 * hangout-server and openssl run as processes, the pipelines here. Runs in
 * a private network namespace (lo only). Exits 77 (skipped) without
 * openssl.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#include "pipelines.h"

#include <string.h>

#define FILE_SIZE (1024 * 1024)
#define TRANSFER_TIMEOUT (20 * GST_SECOND)
/* How soon a join that cannot work must be an error: it is one at once
 * (a certificate refused on the first connection; a handshake without an
 * answer after 750 ms), not after join-timeout (30 s). Under
 * AddressSanitizer on a busy machine a refused certificate took 2.2 s
 * once (CI), so the bound leaves room for that and still tells the two
 * apart. */
#define FAIL_BOUND_MS 5000

static gchar *workdir;
static gchar *cert, *key;               /* for 127.0.0.1 */
static gchar *other_cert, *other_key;   /* for other.example */
static gchar *in;

/* ---- hangout-server ---- */

/* With @certificate and @private_key: wss://; without: ws://. */
static Server *
tls_server_start (const gchar *certificate, const gchar *private_key)
{
  const gchar *args[] = { certificate ? "--tls-cert" : NULL, certificate,
    "--tls-key", private_key, NULL
  };
  Server *server = server_start (args);

  fail_unless (g_str_has_prefix (server->url, certificate ? "wss://" :
          "ws://"), "%s", server->url);
  return server;
}

/* ---- the members ---- */

/* The error @pipeline posts, as "TEXT" with its domain and code checked,
 * and how long it took from PLAYING, in ms. */
static gchar *
wait_error (GstElement *pipeline, GQuark domain, gint code, gint64 *ms)
{
  g_autoptr (GstBus) bus = gst_element_get_bus (pipeline);
  gint64 start = g_get_monotonic_time ();
  GstMessage *message;
  g_autoptr (GError) error = NULL;
  g_autofree gchar *debug = NULL;

  gst_element_set_state (pipeline, GST_STATE_PLAYING);
  message = gst_bus_timed_pop_filtered (bus, 10 * GST_SECOND,
      GST_MESSAGE_ERROR);
  fail_unless (message != NULL, "no error within 10 s");
  *ms = (g_get_monotonic_time () - start) / 1000;
  gst_message_parse_error (message, &error, &debug);
  gst_message_unref (message);
  GST_INFO ("after %" G_GINT64_FORMAT " ms: %s (%s)", *ms, error->message,
      debug);
  fail_unless (error->domain == domain && error->code == code,
      "%s (%s): %s", g_quark_to_string (error->domain),
      g_quark_to_string (domain), error->message);
  gst_element_set_state (pipeline, GST_STATE_NULL);
  return g_strdup (error->message);
}

#define assert_contains(text, part) \
  fail_unless (strstr ((text), (part)) != NULL, "'%s' not in '%s'", (part), \
      (text))

/* What a join to @url with @properties (on either element) posts: an
 * error, at once, whose text is returned. The sink's is OPEN_WRITE, the
 * source's OPEN_READ. */
static gchar *
join_error (const gchar *url, const gchar *properties, gboolean sink)
{
  g_autofree gchar *description = sink ?
      g_strdup_printf ("fakesrc num-buffers=1 ! hangoutsink room=tls "
      "server=%s %s", url, properties) :
      g_strdup_printf ("hangoutsrc room=tls server=%s %s ! fakesink", url,
      properties);
  GstElement *pipeline = parse (description);
  gint64 ms;
  gchar *text = wait_error (pipeline, GST_RESOURCE_ERROR, sink ?
      GST_RESOURCE_ERROR_OPEN_WRITE : GST_RESOURCE_ERROR_OPEN_READ, &ms);

  gst_object_unref (pipeline);
  fail_unless (ms < FAIL_BOUND_MS, "the error took %" G_GINT64_FORMAT " ms",
      ms);
  return text;
}

/* Waits for the warning @pipeline posts when it accepts an untrusted
 * certificate (ssl-strict=false), before any error. */
static void
wait_accepted_warning (GstElement *pipeline)
{
  g_autoptr (GstBus) bus = gst_element_get_bus (pipeline);
  GstMessage *message = gst_bus_timed_pop_filtered (bus, 10 * GST_SECOND,
      GST_MESSAGE_WARNING | GST_MESSAGE_ERROR);
  g_autoptr (GError) error = NULL;

  fail_unless (message != NULL, "no warning within 10 s");
  fail_unless (GST_MESSAGE_TYPE (message) == GST_MESSAGE_WARNING);
  gst_message_parse_warning (message, &error, NULL);
  gst_message_unref (message);
  assert_contains (error->message, "TLS");
  assert_contains (error->message, "unknown authority");
  assert_contains (error->message, "ssl-strict=false");
}

/* Sender and receiver in @room on @url with @properties; with @database,
 * both elements' tls-database is set to it. With @warned, both must warn
 * that they accepted an untrusted certificate. The copy must be the
 * original, byte for byte. */
static void
share_file (const gchar *url, const gchar *room, const gchar *properties,
    GTlsDatabase *database, gboolean warned)
{
  g_autofree gchar *out = g_strdup_printf ("%s/out-%s.bin", workdir, room);
  g_autofree gchar *common = g_strdup_printf ("name=member room=%s "
      "server=%s %s", room, url, properties);
  g_autofree gchar *receive = g_strdup_printf ("hangoutsrc %s num-files=1 "
      "! filesink location=%s", common, out);
  g_autofree gchar *send = g_strdup_printf ("filesrc location=%s "
      "! hangoutsink %s min-peers=1", in, common);
  g_autofree gchar *want = NULL, *got = NULL;
  GstElement *pipelines[] = { parse (receive), parse (send) };

  for (guint i = 0; i < G_N_ELEMENTS (pipelines); i++) {
    if (database != NULL) {
      g_autoptr (GstElement) member = gst_bin_get_by_name (GST_BIN
          (pipelines[i]), "member");

      g_object_set (member, "tls-database", database, NULL);
    }
    fail_if (gst_element_set_state (pipelines[i], GST_STATE_PLAYING)
        == GST_STATE_CHANGE_FAILURE);
    if (warned)
      wait_accepted_warning (pipelines[i]);
  }
  wait_eos (pipelines[1], "sender", TRANSFER_TIMEOUT);
  wait_eos (pipelines[0], "receiver", TRANSFER_TIMEOUT);
  for (guint i = 0; i < G_N_ELEMENTS (pipelines); i++) {
    gst_element_set_state (pipelines[i], GST_STATE_NULL);
    gst_object_unref (pipelines[i]);
  }
  want = file_sha256 (in);
  got = file_sha256 (out);
  fail_unless_equals_string (got, want);
}

/* ---- the tests ---- */

/* Nothing says to trust the server's certificate: both elements fail at
 * once, saying it is TLS, what failed and what to set. */
GST_START_TEST (test_untrusted_fails_at_once)
{
  Server *server = tls_server_start (cert, key);

  for (gint sink = 0; sink <= 1; sink++) {
    g_autofree gchar *text = join_error (server->url, "", sink);

    assert_contains (text, "Could not join room 'tls': TLS: ");
    assert_contains (text, "unknown authority");
    assert_contains (text, "\"ssl-ca-file\"");
    assert_contains (text, "ssl-strict=false");
  }
  server_stop (server);
}

GST_END_TEST;

GST_START_TEST (test_ca_file_shares)
{
  Server *server = tls_server_start (cert, key);
  g_autofree gchar *properties = g_strdup_printf ("ssl-ca-file=%s", cert);

  share_file (server->url, "tls-ca-file", properties, NULL, FALSE);
  server_stop (server);
}

GST_END_TEST;

/* ssl-strict=false: no authority, and yet both join and share, each with
 * a warning that says what was wrong. */
GST_START_TEST (test_not_strict_joins_and_warns)
{
  Server *server = tls_server_start (cert, key);

  share_file (server->url, "tls-not-strict", "ssl-strict=false", NULL, TRUE);
  server_stop (server);
}

GST_END_TEST;

/* A trusted certificate issued for another name than the URL's host. */
GST_START_TEST (test_other_name_is_bad_identity)
{
  Server *server = tls_server_start (other_cert, other_key);
  g_autofree gchar *properties = g_strdup_printf ("ssl-ca-file=%s",
      other_cert);
  g_autofree gchar *text = join_error (server->url, properties, FALSE);

  assert_contains (text, "TLS: ");
  assert_contains (text, "bad identity (it was not issued for 127.0.0.1)");
  fail_if (strstr (text, "unknown authority") != NULL, "%s", text);
  server_stop (server);
}

GST_END_TEST;

/* An application's own GTlsDatabase, as souphttpsrc takes one. */
GST_START_TEST (test_tls_database_shares)
{
  Server *server = tls_server_start (cert, key);
  g_autoptr (GError) error = NULL;
  g_autoptr (GTlsDatabase) database = g_tls_file_database_new (cert, &error);

  fail_unless (database != NULL, "%s", error ? error->message : "");
  share_file (server->url, "tls-database", "", database, FALSE);
  server_stop (server);
}

GST_END_TEST;

/* wss:// to a server without TLS: it never answers the handshake. */
GST_START_TEST (test_plain_server_fails_at_once)
{
  Server *server = tls_server_start (NULL, NULL);
  g_autofree gchar *url = g_strconcat ("wss", server->url + strlen ("ws"),
      NULL);
  g_autofree gchar *text = join_error (url, "", FALSE);

  assert_contains (text, "TLS with 127.0.0.1 failed: no answer to the TLS "
      "handshake");
  assert_contains (text, "\"server\"");
  server_stop (server);
}

GST_END_TEST;

/* ssl-ca-file is read at the state change; nothing listens at the URL. */
GST_START_TEST (test_unusable_ca_file)
{
  g_autofree gchar *missing = g_build_filename (workdir, "missing.pem", NULL);
  g_autofree gchar *garbage = g_build_filename (workdir, "garbage.pem", NULL);
  struct {
    const gchar *path;
    gint code;
    const gchar *why;
  } cases[] = {
    { missing, GST_RESOURCE_ERROR_OPEN_READ, "No such file" },
    { garbage, GST_RESOURCE_ERROR_SETTINGS, "it holds no PEM certificate" },
  };

  fail_unless (g_file_set_contents (garbage, "not a certificate\n", -1,
          NULL));
  for (guint i = 0; i < G_N_ELEMENTS (cases); i++) {
    g_autofree gchar *description = g_strdup_printf ("hangoutsrc room=tls "
        "server=wss://127.0.0.1:9/ws ssl-ca-file=%s ! fakesink",
        cases[i].path);
    g_autofree gchar *want = g_strdup_printf ("Could not use "
        "\"ssl-ca-file\" '%s': ", cases[i].path);
    GstElement *pipeline = parse (description);
    gint64 ms;
    g_autofree gchar *text = wait_error (pipeline, GST_RESOURCE_ERROR,
        cases[i].code, &ms);

    assert_contains (text, want);
    assert_contains (text, cases[i].why);
    gst_object_unref (pipeline);
  }
}

GST_END_TEST;

static void
setup (void)
{
  workdir = make_workdir ("tls");
  cert = g_build_filename (workdir, "cert.pem", NULL);
  key = g_build_filename (workdir, "key.pem", NULL);
  other_cert = g_build_filename (workdir, "other-cert.pem", NULL);
  other_key = g_build_filename (workdir, "other-key.pem", NULL);
  make_certificate (cert, key, "127.0.0.1", "IP:127.0.0.1");
  make_certificate (other_cert, other_key, "other.example",
      "DNS:other.example");
  in = g_build_filename (workdir, "in.bin", NULL);
  write_random_file (in, FILE_SIZE);
}

static void
teardown (void)
{
  remove_workdir (g_steal_pointer (&workdir));
  g_clear_pointer (&cert, g_free);
  g_clear_pointer (&key, g_free);
  g_clear_pointer (&other_cert, g_free);
  g_clear_pointer (&other_key, g_free);
  g_clear_pointer (&in, g_free);
}

static Suite *
tls_suite (void)
{
  Suite *s = suite_create ("tls");
  TCase *tc = tcase_create ("wss");

  tcase_add_unchecked_fixture (tc, setup, teardown);
  tcase_set_timeout (tc, 30);
  suite_add_tcase (s, tc);
  tcase_add_test (tc, test_untrusted_fails_at_once);
  tcase_add_test (tc, test_ca_file_shares);
  tcase_add_test (tc, test_not_strict_joins_and_warns);
  tcase_add_test (tc, test_other_name_is_bad_identity);
  tcase_add_test (tc, test_tls_database_shares);
  tcase_add_test (tc, test_plain_server_fails_at_once);
  tcase_add_test (tc, test_unusable_ca_file);
  return s;
}

int
main (int argc, char **argv)
{
  g_autofree gchar *openssl = g_find_program_in_path ("openssl");

  if (openssl == NULL) {
    g_print ("SKIP: openssl not found; scripts/install-deps.sh installs "
        "it\n");
    return 77;
  }
  gst_check_init (&argc, &argv);
  return gst_check_run_suite (tls_suite (), "tls", __FILE__);
}
