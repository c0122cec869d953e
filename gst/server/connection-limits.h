/* gst-hangout — the TCP connections of hangout-server, whatever they carry
 * (docs/architecture.md, "Limits the server enforces"): how many at once,
 * how many from one address, how long a request may take to arrive, and
 * accepting again after an accept() failed. Not public; runs on the
 * server's thread only.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <libsoup/soup.h>
#include "server-log.h"

G_BEGIN_DECLS

typedef struct _ConnectionLimits ConnectionLimits;

/* Watches every connection @soup accepts (from its "request-started"),
 * timers on @context. The cap on connections at once follows from the
 * process's limit of open files, read now. */
G_GNUC_INTERNAL
ConnectionLimits *connection_limits_new (SoupServer *soup, GMainContext *context,
    guint max_per_address, guint request_timeout_s, const ServerLog *log);
/* After @soup is gone (its connections have told us they ended). */
G_GNUC_INTERNAL
void connection_limits_free (ConnectionLimits *limits);

/* soup_server_listen_socket(), kept accepting across failed accepts. */
G_GNUC_INTERNAL
gboolean connection_limits_listen (ConnectionLimits *limits, GSocket *listener,
    SoupServerListenOptions options, GError **error);
/* Before soup_server_disconnect() closes the listening socket. */
G_GNUC_INTERNAL
void connection_limits_stop_listening (ConnectionLimits *limits);

/* A WebSocket keeps its connection's place: libsoup's HTTP connection ends
 * when the WebSocket takes over its stream. */
G_GNUC_INTERNAL
void connection_limits_hold (ConnectionLimits *limits, const char *address);
G_GNUC_INTERNAL
void connection_limits_release (ConnectionLimits *limits, const char *address);

/* How many bytes the kernel has taken from us on @socket so far (sent and
 * acknowledged, or in its send queue), TLS records included; FALSE if it
 * cannot tell (not TCP). What a connection has been given and this has
 * not taken waits in libsoup's memory. */
G_GNUC_INTERNAL
gboolean connection_bytes_taken (GSocket *socket, guint64 *taken);

/* Connections at once (for the log). */
G_GNUC_INTERNAL
guint connection_limits_get_max_total (ConnectionLimits *limits);

G_END_DECLS
