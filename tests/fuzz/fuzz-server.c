/* gst-hangout — fuzz target: the signalling server's handling of client
 * frames, four clients at once on WebSocket connections over memory
 * streams (gst/server/server-private.h), no socket anywhere.
 *
 * The input is a sequence of records: one byte, a 16-bit big-endian length
 * and that many bytes. In the byte, bits 0-1 pick the client that sends;
 * bit 2 set: a binary frame of the bytes; else bit 3 set: a signal to the
 * client of bits 4-5, the bytes being its payload (the target knows the
 * ids the server gave, which the fuzzer cannot guess); else a text frame
 * of the bytes.
 *
 * Every frame the server sends must be one text frame that the members'
 * own decoder (hangout_server_message_parse) takes as a known, complete
 * message: whatever a client sends, the others are never sent what they
 * cannot read.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#include "fuzz-common.h"

#include "server-private.h"
#include "signalling-private.h"
#include <string.h>

#define N_CLIENTS 4
/* Below the server's burst of 100 frames, so the rate limit (which counts
 * in real time) never decides and a run is repeatable. */
#define MAX_RECORDS 64

typedef struct {
  SoupWebsocketConnection *conn;
  GMemoryOutputStream *out;
  gsize read;                   /* bytes of out decoded so far */
  gchar *id;                    /* from the welcome, or NULL */
} Client;

/* Decodes and checks the frames the server wrote to @c since last time. */
static void
check_output (Client *c)
{
  const guint8 *data = g_memory_output_stream_get_data (c->out);
  gsize size = g_memory_output_stream_get_data_size (c->out);

  while (c->read < size) {
    const guint8 *p = data + c->read;
    gsize avail = size - c->read, header = 2;
    guint64 len;
    g_auto (HangoutServerMessage) msg = { 0 };

    FUZZ_CHECK (avail >= 2);
    /* FIN, text; a server does not mask. */
    FUZZ_CHECK (p[0] == 0x81 && (p[1] & 0x80) == 0);
    len = p[1] & 0x7f;
    if (len == 126) {
      FUZZ_CHECK (avail >= 4);
      len = (guint64) p[2] << 8 | p[3];
      header = 4;
    } else if (len == 127) {
      FUZZ_CHECK (avail >= 10);
      len = 0;
      for (guint i = 0; i < 8; i++)
        len = len << 8 | p[2 + i];
      header = 10;
    }
    FUZZ_CHECK (len <= avail - header);
    FUZZ_CHECK (hangout_server_message_parse ((const gchar *) p + header, len,
            &msg, NULL));
    FUZZ_CHECK (msg.type != HANGOUT_SERVER_MESSAGE_UNKNOWN && msg.complete);
    if (msg.type == HANGOUT_SERVER_MESSAGE_WELCOME) {
      g_free (c->id);
      c->id = g_strdup (msg.id);
    }
    c->read += header + len;
  }
}

static void
send_frame (Client *c, gboolean binary, GBytes *bytes)
{
  g_signal_emit_by_name (c->conn, "message", binary ? SOUP_WEBSOCKET_DATA_BINARY
      : SOUP_WEBSOCKET_DATA_TEXT, bytes);
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  HangoutServer *server = hangout_server_new_detached (NULL);
  g_autoptr (GUri) uri = g_uri_parse ("ws://fuzz/ws", G_URI_FLAGS_NONE, NULL);
  Client clients[N_CLIENTS] = { { 0 } };
  const uint8_t *p = data, *end = data + size;

  for (guint i = 0; i < N_CLIENTS; i++) {
    /* Never read from: frames come through the "message" signal. */
    g_autoptr (GInputStream) in = g_memory_input_stream_new ();
    g_autoptr (GOutputStream) out = g_memory_output_stream_new_resizable ();
    g_autoptr (GIOStream) io = g_simple_io_stream_new (in, out);

    clients[i].out = G_MEMORY_OUTPUT_STREAM (g_object_ref (out));
    clients[i].conn = soup_websocket_connection_new (io, uri,
        SOUP_WEBSOCKET_CONNECTION_SERVER, NULL, NULL, NULL);
    hangout_server_add_client (server, clients[i].conn, NULL, "fuzz");
  }

  for (guint n = 0; p < end && n < MAX_RECORDS; n++) {
    guint8 h = *p++;
    Client *from = &clients[h & 3], *to = &clients[(h >> 4) & 3];
    gsize len = end - p >= 2 ? ((gsize) p[0] << 8 | p[1]) : 0;
    g_autoptr (GBytes) bytes = NULL;

    p += MIN (2, end - p);
    len = MIN (len, (gsize) (end - p));
    if (h & 4) {
      bytes = g_bytes_new (p, len);
      send_frame (from, TRUE, bytes);
    } else if (h & 8) {
      g_autofree gchar *head = g_strdup_printf
          ("{\"type\":\"signal\",\"to\":\"%s\",\"payload\":",
          to->id ? to->id : "");
      GByteArray *frame = g_byte_array_new ();

      g_byte_array_append (frame, (const guint8 *) head, strlen (head));
      g_byte_array_append (frame, p, len);
      g_byte_array_append (frame, (const guint8 *) "}", 1);
      bytes = g_byte_array_free_to_bytes (frame);
      send_frame (from, FALSE, bytes);
    } else {
      bytes = g_bytes_new (p, len);
      send_frame (from, FALSE, bytes);
    }
    p += len;
    for (guint i = 0; i < N_CLIENTS; i++)
      check_output (&clients[i]);
  }

  hangout_server_free_detached (server);
  for (guint i = 0; i < N_CLIENTS; i++) {
    g_object_unref (clients[i].conn);
    g_object_unref (clients[i].out);
    g_free (clients[i].id);
  }
  /* libsoup closes a connection's streams asynchronously, on the context
   * it was made on. */
  while (g_main_context_iteration (NULL, FALSE))
    ;
  return 0;
}
