/* gst-hangout — TURN over TLS for the ICE layer: libnice's TURN over "TLS"
 * (NICE_RELAY_TYPE_TURN_TLS) is plain TCP under RFC 5245 compatibility (it
 * wraps only Google's and Microsoft's pseudo-TLS), so a turns: server is
 * reached through a local tunnel instead: libnice speaks TURN over TCP to
 * a port on 127.0.0.1, and each connection it opens there is carried to
 * the server over TLS (GIO's, i.e. GnuTLS through glib-networking). Not
 * public: only ice.c uses it.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

typedef struct _HangoutTurnTls HangoutTurnTls;

/* Listens on 127.0.0.1 (a free port). The server's certificate is checked
 * for @host against GIO's default TLS database (the system's trusted
 * authorities, unless the program set another with
 * g_tls_backend_set_default_database()); a connection whose check fails is
 * closed, and the TURN allocation through it fails. Everything runs on
 * @context. */
G_GNUC_INTERNAL
HangoutTurnTls *hangout_turn_tls_new (GMainContext *context, const gchar *host,
    guint16 port, GError **error);
/* The local port to give libnice as the TURN server's. */
G_GNUC_INTERNAL
guint16 hangout_turn_tls_get_port (HangoutTurnTls *tunnel);
/* Stops listening and closes every connection; callbacks still queued on
 * the context find it gone. */
G_GNUC_INTERNAL
void hangout_turn_tls_free (HangoutTurnTls *tunnel);

G_END_DECLS
