/* gst-hangout — the signalling server (docs/protocol.md section 1) as an
 * object, so that the hangout-server program and a GStreamer pipeline host
 * the same server. Besides the WebSocket at /ws it answers GET /healthz and
 * serves the web client: the one built into the library, or a directory.
 *
 * Threads: a started server runs on a thread of its own, with its own
 * GMainContext; nothing of it ever runs on the caller's threads or on the
 * global default context. The functions below may be called from any
 * thread, but not concurrently for the same server. The server invokes no
 * callbacks and emits no signals; it logs with the domain "hangout-server"
 * (g_message for joins, leaves, start and stop; g_info, shown only when
 * debug output is enabled (G_MESSAGES_DEBUG, g_log_set_debug_enabled()),
 * for every connection and every error sent to a client).
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

#define HANGOUT_SERVER_DEFAULT_HOST "127.0.0.1"
#define HANGOUT_SERVER_DEFAULT_MAX_MEMBERS 32
#define HANGOUT_SERVER_DEFAULT_MAX_CONNECTIONS 512
#define HANGOUT_SERVER_DEFAULT_JOIN_TIMEOUT 30
#define HANGOUT_SERVER_DEFAULT_MAX_PER_ADDRESS 256
#define HANGOUT_SERVER_DEFAULT_REQUEST_TIMEOUT 10
#define HANGOUT_SERVER_DEFAULT_TURN_CREDENTIAL_LIFETIME 3600

typedef struct _HangoutServer HangoutServer;

/**
 * HangoutServerOptions:
 * @host: where to listen: an IP address or a host name (its first address
 *   is used); NULL for %HANGOUT_SERVER_DEFAULT_HOST. "0.0.0.0" or "::"
 *   accept other machines.
 * @port: the TCP port for HTTP and WebSocket; 0 picks a free one (see
 *   hangout_server_get_url()).
 * @web_root: a directory whose files are served at / (index.html for a
 *   directory), never anything outside it; NULL serves the built-in web
 *   client (index.html at /, hangout.js, style.css).
 * @max_members: members per room; 0 for
 *   %HANGOUT_SERVER_DEFAULT_MAX_MEMBERS.
 * @max_connections: WebSockets open at once, joined or not; one more is
 *   closed at once with code 1008, reason "server full". 0 for
 *   %HANGOUT_SERVER_DEFAULT_MAX_CONNECTIONS, which stays below the usual
 *   limit of 1024 open files. Whatever they carry, the server keeps no
 *   more TCP connections than that limit (RLIMIT_NOFILE) less 64; one more
 *   is closed at once.
 * @join_timeout: seconds a WebSocket may stay open without joining a room
 *   before it is closed with code 1008; 0 for
 *   %HANGOUT_SERVER_DEFAULT_JOIN_TIMEOUT.
 * @max_per_address: TCP connections (HTTP or WebSocket) open at once from
 *   one client address; more are closed at once, before a byte is read.
 *   0 for %HANGOUT_SERVER_DEFAULT_MAX_PER_ADDRESS, which leaves room for a
 *   class behind one NAT address, each member with a WebSocket and a few
 *   page loads.
 * @request_timeout: seconds an HTTP request may take to arrive whole
 *   (headers and body), and a kept-alive connection may stay idle, before
 *   the connection is closed; 0 for %HANGOUT_SERVER_DEFAULT_REQUEST_TIMEOUT.
 * @certificate: with a certificate (and its private key) the server speaks
 *   only https:// and wss://; NULL for http:// and ws://.
 * @ice_servers: NULL-terminated stun:, turn: and turns: URLs (RFC 7064,
 *   RFC 7065, e.g. "turn:HOST:3478?transport=tcp"; no credentials in them)
 *   handed to every member in its welcome as "iceServers"
 *   (docs/protocol.md §1.4); NULL: none.
 * @turn_secret: the secret the TURN servers share with us (coturn's
 *   use-auth-secret / static-auth-secret): each welcome carries a fresh
 *   TURN REST username and credential for the TURN URLs, made from it, so
 *   no long-lived password reaches members. Required with TURN URLs.
 * @turn_credential_lifetime: seconds such a credential works; 0 for
 *   %HANGOUT_SERVER_DEFAULT_TURN_CREDENTIAL_LIFETIME.
 * @log_func: where the server's log lines go (from its thread, and from
 *   the threads that start and stop it); NULL: GLib's log, domain
 *   "hangout-server" (messages for events, info for connection details).
 * @log_data: passed to @log_func.
 * @redis: share rooms with the other servers of the same Redis
 *   (docs/architecture.md, "Rooms across servers"): "redis://HOST[:PORT]"
 *   (port 6379 by default; "redis://:PASSWORD@HOST" for requirepass,
 *   "redis://USER:PASSWORD@HOST" for an ACL user), or a Unix socket as
 *   "unix:PATH" or "/PATH".
 *   Members on different servers then form one room, whose limit holds
 *   over all of them; hangout_server_start() fails when Redis does not
 *   answer within 5 s. A server that loses Redis later closes its members
 *   (code 1011, "room directory lost"; they join again) and refuses joins
 *   (error "unavailable") until it is back. NULL: rooms are this server's
 *   alone, and no Redis code runs.
 *
 * Zero-initialise and set what you need: all zeros is a server on
 * 127.0.0.1, on a free port, with the built-in client. The server copies
 * what it needs (and refs @certificate) during hangout_server_start().
 */
/**
 * HangoutServerLogFunc:
 * @level: %G_LOG_LEVEL_MESSAGE for an event (the server started or
 *   stopped, a member joined or left), %G_LOG_LEVEL_INFO for a
 *   connection's details (refused, closed, an error sent to it),
 *   %G_LOG_LEVEL_DEBUG for what Redis sent that the server dropped
 * @line: one line, without a newline
 * @user_data: the options' @log_data
 */
typedef void (*HangoutServerLogFunc) (GLogLevelFlags level,
    const gchar *line, gpointer user_data);

typedef struct {
  const gchar *host;
  guint16 port;
  const gchar *web_root;
  guint max_members;
  guint max_connections;
  guint join_timeout;
  GTlsCertificate *certificate;
  const gchar *const *ice_servers;
  const gchar *turn_secret;
  guint turn_credential_lifetime;
  guint max_per_address;
  guint request_timeout;
  HangoutServerLogFunc log_func;
  gpointer log_data;
  const gchar *redis;
} HangoutServerOptions;

/**
 * hangout_server_start:
 * @options: (nullable): NULL for all defaults
 * @error: why the server could not start: an ICE server URL is malformed
 *   or a TURN URL comes without @turn_secret (G_IO_ERROR_INVALID_ARGUMENT),
 *   the web root cannot be opened,
 *   the host cannot be resolved, the port is taken, the thread could not
 *   be created (#G_IO_ERROR codes, or the resolver's or GThread's)
 *
 * Opens the web root, listens, and starts the server's thread. When it
 * returns a server, connections to its URL are accepted. A host name is
 * resolved on the caller's thread, blocking it meanwhile; an address is
 * not looked up.
 *
 * Returns: (transfer full) (nullable): the running server, to be given back
 *   with hangout_server_stop(); NULL on error
 */
HangoutServer *hangout_server_start (const HangoutServerOptions *options,
    GError **error);

/**
 * hangout_server_get_url:
 * @server: a running server
 *
 * Returns: (transfer none): the signalling URL, "ws://HOST:PORT/ws" (or
 *   wss:// with a certificate), HOST being the address listened on and PORT
 *   the real port (also when the options asked for 0). IPv6 addresses are
 *   in brackets. A server on every address ("0.0.0.0", "::") names one
 *   that other machines may reach: this machine's first of that family,
 *   not loopback nor link-local, on an interface that is up (the loopback
 *   address when there is none).
 *   Valid until hangout_server_stop().
 */
const gchar *hangout_server_get_url (HangoutServer *server);

/**
 * hangout_server_get_web_url:
 * @server: a running server
 *
 * Returns: (transfer none): where a browser opens the web client:
 *   "http://HOST:PORT/" (https:// with a certificate). Valid until
 *   hangout_server_stop().
 */
const gchar *hangout_server_get_web_url (HangoutServer *server);

/**
 * hangout_server_stop:
 * @server: (transfer full): a server from hangout_server_start()
 * @grace_ms: how long to wait for the clients to answer the close
 *
 * Stops accepting connections, closes every WebSocket with code 1001
 * ("going away", reason "server shutting down"), waits until every client
 * has answered its close or @grace_ms have passed, drops whatever is left,
 * ends the server's thread and frees the server. Blocks for at most about
 * @grace_ms.
 */
void hangout_server_stop (HangoutServer *server, guint grace_ms);

G_END_DECLS
