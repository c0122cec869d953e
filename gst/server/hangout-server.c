/* hangout-server: the signalling server of gst-hangout as a program.
 *
 * The server itself is HangoutServer (include/hangout/server.h, running on
 * a thread of its own); this is its command line, the URL on standard
 * output, logging on standard error, and a clean stop on SIGINT, SIGTERM
 * and SIGHUP.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <hangout/server.h>
#include <hangout/iceserver.h>

#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>

#include <glib-unix.h>

#define DEFAULT_PORT 8080
/* On SIGINT, SIGTERM or SIGHUP, how long we wait for clients to answer our close. */
#define SHUTDOWN_GRACE_MS 2000

/* The first line of @path, the TURN secret (a newline after it is not
 * part of it, as in coturn's static-auth-secret). */
static char *
read_secret (const char *path, GError **error)
{
  char *text = NULL;

  if (!g_file_get_contents (path, &text, NULL, error))
    return NULL;
  text[strcspn (text, "\r\n")] = '\0';
  if (*text == '\0') {
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, "%s: the first line is empty", path);
    g_free (text);
    return NULL;
  }
  return text;
}

/* --stun-server and --turn-server URLs into one list, each of its kind. */
static gboolean
add_urls (GPtrArray *urls, char **given, gboolean turn, GError **error)
{
  for (guint i = 0; given && given[i]; i++) {
    g_autoptr (HangoutIceServer) server = hangout_ice_server_parse (given[i], NULL, NULL, error);

    if (!server)
      return FALSE;
    if (hangout_ice_server_is_turn (server) != turn) {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT, "--%s-server '%s': not a %s URL",
                   turn ? "turn" : "stun", given[i], turn ? "turn: or turns:" : "stun:");
      return FALSE;
    }
    g_ptr_array_add (urls, given[i]);
  }
  return TRUE;
}

/* --verbose: the server's own g_info lines (each connection, each error
 * sent to a client), added to whatever G_MESSAGES_DEBUG already names.
 * Not g_log_set_debug_enabled(): that enables every domain, and libsoup's
 * debug lines (several per closed connection) would drown ours. Set before
 * any thread exists, as setenv must be. */
static void
enable_server_info_log (void)
{
  const char *domains = g_getenv ("G_MESSAGES_DEBUG");
  char *value = domains && *domains ? g_strconcat (domains, " hangout-server", NULL)
                                    : g_strdup ("hangout-server");

  g_setenv ("G_MESSAGES_DEBUG", value, TRUE);
  g_free (value);
}

/* Each connection is an open file, and the server keeps its connections
 * below the limit it finds: take all the kernel allows this process (the
 * hard limit), as servers do, rather than the soft 1024 shells give. */
static void
raise_open_files_limit (void)
{
  struct rlimit files;

  if (getrlimit (RLIMIT_NOFILE, &files) == 0 && files.rlim_cur < files.rlim_max) {
    files.rlim_cur = files.rlim_max;
    setrlimit (RLIMIT_NOFILE, &files);
  }
}

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
  int opt_max_per_address = HANGOUT_SERVER_DEFAULT_MAX_PER_ADDRESS;
  int opt_request_timeout = HANGOUT_SERVER_DEFAULT_REQUEST_TIMEOUT;
  int opt_turn_lifetime = HANGOUT_SERVER_DEFAULT_TURN_CREDENTIAL_LIFETIME;
  char **opt_stun = NULL, **opt_turn = NULL, *opt_turn_secret = NULL, *turn_secret = NULL;
  char *opt_redis = NULL;
  GPtrArray *ice_urls = g_ptr_array_new ();
  gboolean opt_verbose = FALSE, opt_version = FALSE;
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
    { "max-per-address", 0, 0, G_OPTION_ARG_INT, &opt_max_per_address,
      "Maximum TCP connections (HTTP or WebSocket) from one address; more are closed "
      "at once (default 256)", "N" },
    { "request-timeout", 0, 0, G_OPTION_ARG_INT, &opt_request_timeout,
      "Close an HTTP connection whose request has not arrived whole, or that stays idle, "
      "after this many seconds (default 10)", "SECONDS" },
    { "tls-cert", 0, 0, G_OPTION_ARG_FILENAME, &opt_cert,
      "PEM certificate (chain): serve https:// and wss:// (needs --tls-key)", "FILE" },
    { "tls-key", 0, 0, G_OPTION_ARG_FILENAME, &opt_key, "PEM private key for --tls-cert", "FILE" },
    { "stun-server", 0, 0, G_OPTION_ARG_STRING_ARRAY, &opt_stun,
      "A STUN server for every member (given to it in welcome), e.g. stun:HOST:3478; "
      "repeatable", "URL" },
    { "turn-server", 0, 0, G_OPTION_ARG_STRING_ARRAY, &opt_turn,
      "A TURN server for every member: turn:HOST:PORT?transport=udp, "
      "turn:HOST:PORT?transport=tcp or turns:HOST:PORT (TLS); repeatable; needs --turn-secret",
      "URL" },
    { "turn-secret", 0, 0, G_OPTION_ARG_FILENAME, &opt_turn_secret,
      "File whose first line is the secret shared with the TURN servers (coturn's "
      "use-auth-secret, static-auth-secret): each member gets its own short-lived "
      "credential (TURN REST scheme)", "FILE" },
    { "turn-credential-lifetime", 0, 0, G_OPTION_ARG_INT, &opt_turn_lifetime,
      "Seconds a member's TURN credential works (default 3600)", "SECONDS" },
    { "redis", 0, 0, G_OPTION_ARG_STRING, &opt_redis,
      "Share rooms with the other servers of this Redis: redis://[[USER]:PASSWORD@]HOST[:PORT], "
      "unix:PATH or /PATH (a Unix socket). Members on different servers form one room",
      "URL" },
    { "verbose", 'v', 0, G_OPTION_ARG_NONE, &opt_verbose,
      "Also log every connection and every error sent to a client", NULL },
    { "version", 0, 0, G_OPTION_ARG_NONE, &opt_version, "Print the version and exit", NULL },
    G_OPTION_ENTRY_NULL
  };
  GOptionContext *ctx;
  GError *error = NULL;
  GTlsCertificate *cert = NULL;
  HangoutServer *server;
  GMainLoop *loop;
  guint sig_int, sig_term, sig_hup;
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
    "listens. SIGINT, SIGTERM or SIGHUP stop it cleanly (exit status 0).");
  g_option_context_add_main_entries (ctx, entries, NULL);
  if (!g_option_context_parse (ctx, &argc, &argv, &error)) {
    g_printerr ("hangout-server: %s\n", error->message);
    g_clear_error (&error);
    g_option_context_free (ctx);
    return 2;
  }
  g_option_context_free (ctx);

  if (opt_version) {
    printf ("hangout-server %s\n", HANGOUT_VERSION);
    ret = 0;
    goto out;
  }
  if (opt_verbose)
    enable_server_info_log ();
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
  if (opt_max_per_address < 1) {
    g_printerr ("hangout-server: --max-per-address must be at least 1\n");
    goto out;
  }
  if (opt_request_timeout < 1) {
    g_printerr ("hangout-server: --request-timeout must be at least 1\n");
    goto out;
  }
  if (opt_turn_lifetime < 1) {
    g_printerr ("hangout-server: --turn-credential-lifetime must be at least 1\n");
    goto out;
  }
  if (opt_turn_secret && !(turn_secret = read_secret (opt_turn_secret, &error))) {
    g_printerr ("hangout-server: --turn-secret: %s\n", error->message);
    g_clear_error (&error);
    goto out;
  }
  if (opt_turn && !turn_secret) {
    g_printerr ("hangout-server: --turn-server needs --turn-secret\n");
    goto out;
  }
  if (!add_urls (ice_urls, opt_stun, FALSE, &error) || !add_urls (ice_urls, opt_turn, TRUE, &error)) {
    g_printerr ("hangout-server: %s\n", error->message);
    g_clear_error (&error);
    goto out;
  }
  g_ptr_array_add (ice_urls, NULL);
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

  raise_open_files_limit ();
  server = hangout_server_start (&(HangoutServerOptions) {
                                   .host = opt_host,
                                   .port = (guint16) opt_port,
                                   .web_root = opt_web_root,
                                   .max_members = (guint) opt_max_members,
                                   .max_connections = (guint) opt_max_connections,
                                   .join_timeout = (guint) opt_join_timeout,
                                   .max_per_address = (guint) opt_max_per_address,
                                   .request_timeout = (guint) opt_request_timeout,
                                   .certificate = cert,
                                   .ice_servers = (const gchar *const *) ice_urls->pdata,
                                   .turn_secret = turn_secret,
                                   .turn_credential_lifetime = (guint) opt_turn_lifetime,
                                   .redis = opt_redis,
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
  /* A hangup (the terminal that started us closed) ends the session the
   * server was started in: stop as cleanly as on SIGTERM rather than die
   * with members still connected. */
  sig_hup = g_unix_signal_add (SIGHUP, on_quit_signal, loop);
  printf ("%s\n", hangout_server_get_url (server));
  fflush (stdout);
  g_main_loop_run (loop);
  /* Our handlers stay while the server stops: without them a second
   * signal would kill the process mid-stop. */
  hangout_server_stop (server, SHUTDOWN_GRACE_MS);
  g_source_remove (sig_int);
  g_source_remove (sig_term);
  g_source_remove (sig_hup);
  g_main_loop_unref (loop);
  ret = 0;

out:
  g_clear_object (&cert);
  g_free (opt_host);
  g_free (opt_web_root);
  g_free (opt_cert);
  g_free (opt_key);
  g_strfreev (opt_stun);
  g_strfreev (opt_turn);
  g_free (opt_turn_secret);
  g_free (opt_redis);
  g_free (turn_secret);
  g_ptr_array_unref (ice_urls);
  return ret;
}
