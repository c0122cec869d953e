/* hangout-server: the signalling server of gst-hangout as a program.
 *
 * The server itself is HangoutServer (include/hangout/server.h, running on
 * a thread of its own); this is its command line, the URL on standard
 * output, logging on standard error, and a clean stop on SIGINT/SIGTERM.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <hangout/server.h>

#include <signal.h>
#include <stdio.h>

#include <glib-unix.h>

#define DEFAULT_PORT 8080
/* On SIGINT/SIGTERM, how long we wait for clients to answer our close. */
#define SHUTDOWN_GRACE_MS 2000

static gboolean
on_quit_signal (gpointer user_data)
{
  g_main_loop_quit (user_data);
  return G_SOURCE_CONTINUE;
}

int
main (int argc, char **argv)
{
  char *opt_host = NULL, *opt_web_root = NULL, *opt_cert = NULL, *opt_key = NULL;
  int opt_port = DEFAULT_PORT, opt_max_members = HANGOUT_SERVER_DEFAULT_MAX_MEMBERS;
  int opt_max_connections = HANGOUT_SERVER_DEFAULT_MAX_CONNECTIONS;
  int opt_join_timeout = HANGOUT_SERVER_DEFAULT_JOIN_TIMEOUT;
  gboolean opt_verbose = FALSE;
  GOptionEntry entries[] = {
    { "host", 0, 0, G_OPTION_ARG_STRING, &opt_host,
      "Address to listen on: an IP address or a host name (its first address). "
      "Default " HANGOUT_SERVER_DEFAULT_HOST "; use 0.0.0.0 or :: to accept other machines", "ADDR" },
    { "port", 0, 0, G_OPTION_ARG_INT, &opt_port,
      "TCP port for HTTP and WebSocket (default 8080; 0 picks a free port)", "PORT" },
    { "web-root", 0, 0, G_OPTION_ARG_FILENAME, &opt_web_root,
      "Serve static files from DIR at / (index.html for directories) instead of the "
      "built-in web client, e.g. gst/web while working on the page", "DIR" },
    { "max-members", 0, 0, G_OPTION_ARG_INT, &opt_max_members,
      "Maximum members per room (default 32)", "N" },
    { "max-connections", 0, 0, G_OPTION_ARG_INT, &opt_max_connections,
      "Maximum WebSockets open at once; more are closed with code 1008 (default 512)", "N" },
    { "join-timeout", 0, 0, G_OPTION_ARG_INT, &opt_join_timeout,
      "Close a WebSocket that has not joined a room after this many seconds "
      "(code 1008; default 30)", "SECONDS" },
    { "tls-cert", 0, 0, G_OPTION_ARG_FILENAME, &opt_cert,
      "PEM certificate (chain): serve https:// and wss:// (needs --tls-key)", "FILE" },
    { "tls-key", 0, 0, G_OPTION_ARG_FILENAME, &opt_key, "PEM private key for --tls-cert", "FILE" },
    { "verbose", 'v', 0, G_OPTION_ARG_NONE, &opt_verbose,
      "Also log every connection and every error sent to a client", NULL },
    G_OPTION_ENTRY_NULL
  };
  GOptionContext *ctx;
  GError *error = NULL;
  GTlsCertificate *cert = NULL;
  HangoutServer *server;
  GMainLoop *loop;
  guint sig_int, sig_term;
  int ret = 1;

  /* Logs go to stderr only: the first line of stdout is the URL, which
   * scripts read, and nothing else is ever written there. */
  g_log_writer_default_set_use_stderr (TRUE);
  /* A client vanishing while we write must not kill the server. */
  signal (SIGPIPE, SIG_IGN);

  ctx = g_option_context_new (NULL);
  g_option_context_set_summary (ctx,
    "Signalling server for gst-hangout (docs/protocol.md section 1).\n"
    "HTTP and WebSocket share one port: the WebSocket is at /ws, GET /healthz\n"
    "answers {\"rooms\":N,\"members\":M}, and / serves the web client (built in,\n"
    "or --web-root). The first line on standard output is the signalling URL\n"
    "(ws://HOST:PORT/ws, or wss:// with TLS), printed as soon as the server\n"
    "listens. SIGINT or SIGTERM stop it cleanly (exit status 0).");
  g_option_context_add_main_entries (ctx, entries, NULL);
  if (!g_option_context_parse (ctx, &argc, &argv, &error)) {
    g_printerr ("hangout-server: %s\n", error->message);
    g_clear_error (&error);
    g_option_context_free (ctx);
    return 2;
  }
  g_option_context_free (ctx);

  if (opt_verbose)
    g_log_set_debug_enabled (TRUE);
  if (opt_port < 0 || opt_port > 65535) {
    g_printerr ("hangout-server: --port must be 0 to 65535\n");
    goto out;
  }
  if (opt_max_members < 1) {
    g_printerr ("hangout-server: --max-members must be at least 1\n");
    goto out;
  }
  if (opt_max_connections < 1) {
    g_printerr ("hangout-server: --max-connections must be at least 1\n");
    goto out;
  }
  if (opt_join_timeout < 1) {
    g_printerr ("hangout-server: --join-timeout must be at least 1\n");
    goto out;
  }
  if ((opt_cert == NULL) != (opt_key == NULL)) {
    g_printerr ("hangout-server: --tls-cert and --tls-key go together\n");
    goto out;
  }
  if (opt_cert) {
    cert = g_tls_certificate_new_from_files (opt_cert, opt_key, &error);
    if (!cert) {
      g_printerr ("hangout-server: TLS certificate: %s\n", error->message);
      g_clear_error (&error);
      goto out;
    }
  }

  server = hangout_server_start (&(HangoutServerOptions) {
                                   .host = opt_host,
                                   .port = (guint16) opt_port,
                                   .web_root = opt_web_root,
                                   .max_members = (guint) opt_max_members,
                                   .max_connections = (guint) opt_max_connections,
                                   .join_timeout = (guint) opt_join_timeout,
                                   .certificate = cert,
                                 }, &error);
  if (!server) {
    g_printerr ("hangout-server: %s\n", error->message);
    g_clear_error (&error);
    goto out;
  }
  /* The handlers are in place before the URL is out: whoever reads it may
   * signal us at once, and must get a clean stop, not a kill. */
  loop = g_main_loop_new (NULL, FALSE);
  sig_int = g_unix_signal_add (SIGINT, on_quit_signal, loop);
  sig_term = g_unix_signal_add (SIGTERM, on_quit_signal, loop);
  printf ("%s\n", hangout_server_get_url (server));
  fflush (stdout);
  g_main_loop_run (loop);
  /* Our handlers stay while the server stops: without them a second
   * signal would kill the process mid-stop. */
  hangout_server_stop (server, SHUTDOWN_GRACE_MS);
  g_source_remove (sig_int);
  g_source_remove (sig_term);
  g_main_loop_unref (loop);
  ret = 0;

out:
  g_clear_object (&cert);
  g_free (opt_host);
  g_free (opt_web_root);
  g_free (opt_cert);
  g_free (opt_key);
  return ret;
}
