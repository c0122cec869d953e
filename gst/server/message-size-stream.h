/* gst-hangout — the stream under each of hangout-server's WebSockets: it
 * refuses a message larger than a limit as its frames arrive. Not public.
 *
 * libsoup 3.2 checks each frame against max-incoming-payload-size but not
 * the message it reassembles from fragments (CVE-2025-32049, fixed in
 * later libsoup; Debian 12's 3.2.3 has no fix): one message of endless
 * small fragments grows without limit. This stream, between the TCP (or
 * TLS) stream and libsoup's WebSocket connection, follows the frame
 * headers as they pass and counts the payload of the data frames of the
 * message under way (control frames between them do not count), as the
 * later libsoup does. Over the limit, reading fails with libsoup's own
 * error for a message too big (SOUP_WEBSOCKET_ERROR,
 * SOUP_WEBSOCKET_CLOSE_TOO_BIG), and the connection reports it as it
 * would one frame too big.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

/* A stream that reads @base (a client's side of a WebSocket, after the
 * handshake) and writes to it; closing it closes @base. */
G_GNUC_INTERNAL
GIOStream *message_size_stream_new (GIOStream *base, guint64 max_message_size);

G_END_DECLS
