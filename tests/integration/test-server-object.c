/* gst-hangout — HangoutServer in one process (include/hangout/server.h), as
 * a GStreamer element hosts it: started on a free port it welcomes a
 * WebSocket member and serves the built-in web client; stopping it closes
 * its clients with 1001, promptly when they answer and after the grace time
 * when they do not; it starts and stops repeatedly in one process (the
 * ASan build checks that nothing leaks); and when it cannot start, the
 * error says why.
 *
 * The test's clients (libsoup) run on this thread's default context, the
 * server on its own thread. Every wait is for a flag, with a deadline.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#include <gst/check/gstcheck.h>
#include <hangout/server.h>
#include <libsoup/soup.h>
#include <string.h>

#define DEADLINE_MS 5000

static SoupSession *session;

static gboolean
on_deadline (gpointer data)
{
  *(gboolean *) data = TRUE;
  return G_SOURCE_REMOVE;
}

/* Iterates the default context until *flag is set or DEADLINE_MS pass. */
static gboolean
wait_for (const gboolean * flag)
{
  gboolean expired = FALSE;
  guint deadline = g_timeout_add (DEADLINE_MS, on_deadline, &expired);

  while (!*flag && !expired)
    g_main_context_iteration (NULL, TRUE);
  if (!expired)
    g_source_remove (deadline);
  return *flag;
}

/* ---- a member's WebSocket ---- */

typedef struct {
  SoupWebsocketConnection *ws;
  gboolean connected;
  gboolean got_message;
  gchar *message;               /* the latest text frame */
  gboolean closed;
  gushort close_code;
} Member;

static void
on_message (SoupWebsocketConnection * ws, gint type, GBytes * bytes,
    Member * member)
{
  g_free (member->message);
  member->message = g_strndup (g_bytes_get_data (bytes, NULL),
      g_bytes_get_size (bytes));
  member->got_message = TRUE;
}

static void
on_closed (SoupWebsocketConnection * ws, Member * member)
{
  member->close_code = soup_websocket_connection_get_close_code (ws);
  member->closed = TRUE;
}

static void
on_connected (GObject * source, GAsyncResult * result, gpointer data)
{
  Member *member = data;
  g_autoptr (GError) error = NULL;

  member->ws = soup_session_websocket_connect_finish (SOUP_SESSION (source),
      result, &error);
  fail_unless (member->ws != NULL, "websocket: %s", error->message);
  g_signal_connect (member->ws, "message", G_CALLBACK (on_message), member);
  g_signal_connect (member->ws, "closed", G_CALLBACK (on_closed), member);
  member->connected = TRUE;
}

/* Connects to @server's URL and joins @room: "welcome" must come back. */
static Member *
member_join (HangoutServer * server, const gchar * room)
{
  Member *member = g_new0 (Member, 1);
  g_autoptr (SoupMessage) msg = soup_message_new ("GET",
      hangout_server_get_url (server));
  g_autofree gchar *join =
      g_strdup_printf ("{\"type\":\"join\",\"room\":\"%s\",\"name\":\"m\"}",
      room);

  soup_session_websocket_connect_async (session, msg, NULL, NULL,
      G_PRIORITY_DEFAULT, NULL, on_connected, member);
  fail_unless (wait_for (&member->connected), "no WebSocket to %s",
      hangout_server_get_url (server));
  soup_websocket_connection_send_text (member->ws, join);
  fail_unless (wait_for (&member->got_message), "no answer to join");
  fail_unless (g_str_has_prefix (member->message, "{\"type\":\"welcome\""),
      "answer to join: %s", member->message);
  return member;
}

/* The server was stopped: @member must have been closed with 1001. */
static void
member_free_after_stop (Member * member)
{
  fail_unless (wait_for (&member->closed), "the member was not closed");
  fail_unless_equals_int (member->close_code,
      SOUP_WEBSOCKET_CLOSE_GOING_AWAY);
  g_signal_handlers_disconnect_by_data (member->ws, member);
  g_object_unref (member->ws);
  g_free (member->message);
  g_free (member);
}

/* ---- HTTP ---- */

typedef struct {
  gboolean done;
  GBytes *body;
} Response;

static void
on_response (GObject * source, GAsyncResult * result, gpointer data)
{
  Response *response = data;

  response->body = soup_session_send_and_read_finish (SOUP_SESSION (source),
      result, NULL);
  response->done = TRUE;
}

/* GETs @path below the web URL; the status, and the body as a string. */
static guint
http_get (HangoutServer * server, const gchar * path, gchar ** body,
    gchar ** content_type)
{
  g_autofree gchar *url = g_strconcat (hangout_server_get_web_url (server),
      path, NULL);
  g_autoptr (SoupMessage) msg = soup_message_new ("GET", url);
  Response response = { 0 };

  soup_session_send_and_read_async (session, msg, G_PRIORITY_DEFAULT, NULL,
      on_response, &response);
  fail_unless (wait_for (&response.done), "GET %s timed out", url);
  fail_unless (response.body != NULL, "GET %s failed", url);
  *body = g_strndup (g_bytes_get_data (response.body, NULL),
      g_bytes_get_size (response.body));
  *content_type = g_strdup (soup_message_headers_get_content_type
      (soup_message_get_response_headers (msg), NULL));
  g_bytes_unref (response.body);
  return soup_message_get_status (msg);
}

/* ---- stopping from another thread, so that our clients can answer ---- */

typedef struct {
  HangoutServer *server;
  guint grace_ms;
  gboolean done;
} Stop;

static gboolean
stop_done (gpointer data)
{
  ((Stop *) data)->done = TRUE;
  return G_SOURCE_REMOVE;
}

static gpointer
stop_thread (gpointer data)
{
  Stop *stop = data;

  hangout_server_stop (stop->server, stop->grace_ms);
  g_idle_add (stop_done, stop);
  return NULL;
}

/* Stops @server while this thread's clients keep running, so they answer
 * its close: hangout_server_stop() must return within DEADLINE_MS, however
 * long @grace_ms is. */
static void
stop_while_running (HangoutServer * server, guint grace_ms)
{
  Stop stop = { server, grace_ms, FALSE };
  GThread *thread = g_thread_new ("stop", stop_thread, &stop);

  fail_unless (wait_for (&stop.done), "hangout_server_stop did not return");
  g_thread_join (thread);
}

/* ---- tests ---- */

/* A server with the defaults (NULL options). */
static HangoutServer *
start_default (void)
{
  g_autoptr (GError) error = NULL;
  HangoutServer *server = hangout_server_start (NULL, &error);

  fail_unless (server != NULL, "start: %s", error ? error->message : "");
  return server;
}

static void
setup (void)
{
  session = soup_session_new ();
}

static void
teardown (void)
{
  g_clear_object (&session);
  /* Let the session's connections finish closing before leak checking. */
  while (g_main_context_iteration (NULL, FALSE));
}

GST_START_TEST (test_join_page_stop)
{
  HangoutServerOptions options = { 0 };
  g_autoptr (GError) error = NULL;
  HangoutServer *server = hangout_server_start (&options, &error);
  g_autofree gchar *page = NULL, *type = NULL, *script = NULL,
      *script_type = NULL, *missing = NULL, *missing_type = NULL;
  Member *member;

  fail_unless (server != NULL, "start: %s", error ? error->message : "");
  fail_unless (g_str_has_prefix (hangout_server_get_url (server),
          "ws://127.0.0.1:"), "%s", hangout_server_get_url (server));
  fail_unless (g_str_has_suffix (hangout_server_get_url (server), "/ws"));
  fail_if (g_str_has_prefix (hangout_server_get_url (server),
          "ws://127.0.0.1:0/"), "the URL must carry the real port");
  fail_unless (g_str_has_prefix (hangout_server_get_web_url (server),
          "http://127.0.0.1:"), "%s", hangout_server_get_web_url (server));

  member = member_join (server, "object");

  /* The built-in client: gst/web's page and script. */
  fail_unless_equals_int (http_get (server, "", &page, &type), 200);
  fail_unless (g_str_has_prefix (type, "text/html"), "%s", type);
  fail_unless (strstr (page, "<title>Hangout</title>") != NULL, "%s", page);
  fail_unless_equals_int (http_get (server, "hangout.js", &script,
          &script_type), 200);
  fail_unless (g_str_has_prefix (script_type, "text/javascript"), "%s",
      script_type);
  fail_unless_equals_int (http_get (server, "nope", &missing, &missing_type),
      404);

  /* The member answers the close at once: no waiting for the grace time. */
  stop_while_running (server, 20000);
  member_free_after_stop (member);
}

GST_END_TEST;

/* On every address, the URLs name one a browser can open: here, in a
 * namespace with loopback alone, 127.0.0.1; never 0.0.0.0. */
GST_START_TEST (test_any_address)
{
  HangoutServerOptions options = { .host = "0.0.0.0" };
  g_autoptr (GError) error = NULL;
  HangoutServer *server = hangout_server_start (&options, &error);
  g_autofree gchar *page = NULL, *type = NULL;
  Member *member;

  fail_unless (server != NULL, "start: %s", error ? error->message : "");
  fail_if (strstr (hangout_server_get_url (server), "0.0.0.0") != NULL,
      "%s", hangout_server_get_url (server));
  fail_if (strstr (hangout_server_get_web_url (server), "0.0.0.0") != NULL,
      "%s", hangout_server_get_web_url (server));
  fail_unless_equals_int (http_get (server, "", &page, &type), 200);
  member = member_join (server, "any");
  stop_while_running (server, 20000);
  member_free_after_stop (member);
}

GST_END_TEST;

/* A log function of the options' gets every line (and GLib's log none:
 * a pipeline's run-server keeps its host application's stderr clean). */
typedef struct {
  GMutex lock;
  GString *lines;               /* "LEVEL line\n" each */
} Log;

static void
on_log (GLogLevelFlags level, const gchar *line, gpointer user_data)
{
  Log *log = user_data;

  g_mutex_lock (&log->lock);
  g_string_append_printf (log->lines, "%s %s\n",
      level & G_LOG_LEVEL_MESSAGE ? "message" : "info", line);
  g_mutex_unlock (&log->lock);
}

GST_START_TEST (test_log_func)
{
  Log log = { .lines = g_string_new (NULL) };
  HangoutServerOptions options = { .log_func = on_log, .log_data = &log };
  g_autoptr (GError) error = NULL;
  HangoutServer *server = hangout_server_start (&options, &error);
  Member *member;

  fail_unless (server != NULL, "start: %s", error ? error->message : "");
  member = member_join (server, "logged");
  stop_while_running (server, 20000);
  member_free_after_stop (member);
  fail_unless (g_str_has_prefix (log.lines->str, "message listening on http://"),
      "%s", log.lines->str);
  fail_unless (strstr (log.lines->str, "\nmessage join: ") != NULL, "%s",
      log.lines->str);
  fail_unless (strstr (log.lines->str, "joined room 'logged'") != NULL, "%s",
      log.lines->str);
  fail_unless (strstr (log.lines->str, "\ninfo ") != NULL, "%s",
      log.lines->str);
  fail_unless (g_str_has_suffix (log.lines->str, "\nmessage stopped\n"),
      "%s", log.lines->str);
  g_string_free (log.lines, TRUE);
  g_mutex_clear (&log.lock);
}

GST_END_TEST;

GST_START_TEST (test_stop_grace)
{
  HangoutServer *server = start_default ();
  Member *member = member_join (server, "grace");
  gint64 start, took_ms;

  /* Stopped on this thread, the member cannot answer: the server waits the
   * grace time, then drops it; the close frame was sent all the same. */
  start = g_get_monotonic_time ();
  hangout_server_stop (server, 300);
  took_ms = (g_get_monotonic_time () - start) / 1000;
  fail_unless (took_ms >= 300 && took_ms < 5000, "stop took %" G_GINT64_FORMAT
      " ms with a grace of 300 ms", took_ms);
  member_free_after_stop (member);
}

GST_END_TEST;

GST_START_TEST (test_restart)
{
  for (int round = 0; round < 3; round++) {
    HangoutServer *server = start_default ();
    Member *member = member_join (server, "again");
    g_autofree gchar *page = NULL, *type = NULL;

    fail_unless_equals_int (http_get (server, "", &page, &type), 200);
    stop_while_running (server, 5000);
    member_free_after_stop (member);
  }
}

GST_END_TEST;

GST_START_TEST (test_start_errors)
{
  HangoutServer *running = start_default ();
  g_autoptr (GError) error = NULL;
  g_autoptr (GUri) uri = NULL;
  HangoutServerOptions options = { 0 };
  g_autofree gchar *expected = NULL;
  Member *member;

  uri = g_uri_parse (hangout_server_get_url (running), G_URI_FLAGS_NONE, NULL);
  fail_unless (uri != NULL);

  /* The port the running server has. */
  options.port = (guint16) g_uri_get_port (uri);
  fail_unless (hangout_server_start (&options, &error) == NULL);
  fail_unless (g_error_matches (error, G_IO_ERROR,
          G_IO_ERROR_ADDRESS_IN_USE), "%s", error->message);
  expected = g_strdup_printf ("cannot listen on 127.0.0.1 port %u: ",
      options.port);
  fail_unless (g_str_has_prefix (error->message, expected), "%s",
      error->message);
  fail_unless (strstr (error->message, "Address already in use") != NULL,
      "%s", error->message);
  g_clear_error (&error);

  options.port = 0;
  options.web_root = "/nonexistent/hangout-web";
  fail_unless (hangout_server_start (&options, &error) == NULL);
  fail_unless (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND),
      "%s", error->message);
  fail_unless_equals_string (error->message,
      "web root /nonexistent/hangout-web: No such file or directory");
  g_clear_error (&error);

  /* The running server never noticed. */
  member = member_join (running, "still");
  stop_while_running (running, 5000);
  member_free_after_stop (member);
}

GST_END_TEST;

static Suite *
server_object_suite (void)
{
  Suite *s = suite_create ("server-object");
  TCase *tc = tcase_create ("server");

  tcase_add_checked_fixture (tc, setup, teardown);
  tcase_set_timeout (tc, 60);
  tcase_add_test (tc, test_join_page_stop);
  tcase_add_test (tc, test_any_address);
  tcase_add_test (tc, test_log_func);
  tcase_add_test (tc, test_stop_grace);
  tcase_add_test (tc, test_restart);
  tcase_add_test (tc, test_start_errors);
  suite_add_tcase (s, tc);
  return s;
}

GST_CHECK_MAIN (server_object);
