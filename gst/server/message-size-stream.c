/* gst-hangout — a WebSocket's stream that refuses messages over a size
 * (message-size-stream.h). Only the frame headers are read here (RFC 6455
 * §5.2); libsoup parses everything else, and checks it.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "message-size-stream.h"

#include <libsoup/soup.h>

/* ---------------------------------------------------------------------- */
/* The input side: follows the frames as they pass                        */

#define MAX_FRAME_HEADER 14 /* 2, 8 bytes of extended length, 4 of mask */

G_GNUC_INTERNAL G_DECLARE_FINAL_TYPE (HangoutMessageSizeInput, message_size_input, MESSAGE_SIZE, INPUT, GFilterInputStream)

struct _HangoutMessageSizeInput {
  GFilterInputStream parent;
  guint64 max_message_size;
  guint8 header[MAX_FRAME_HEADER];
  guint header_len;     /* of the next frame's header, so far */
  guint64 payload_left; /* of the frame under way */
  guint64 message_size; /* data payload of the message under way */
  gboolean too_big;
};

static void message_size_input_pollable_init (GPollableInputStreamInterface *iface);

G_DEFINE_FINAL_TYPE_WITH_CODE (HangoutMessageSizeInput, message_size_input, G_TYPE_FILTER_INPUT_STREAM,
    G_IMPLEMENT_INTERFACE (G_TYPE_POLLABLE_INPUT_STREAM, message_size_input_pollable_init))

static guint
header_size (const guint8 *h)
{
  guint len7 = h[1] & 0x7f;

  return 2 + (len7 == 126 ? 2 : len7 == 127 ? 8 : 0) + ((h[1] & 0x80) ? 4 : 0);
}

static guint64
header_payload_len (const guint8 *h)
{
  guint len7 = h[1] & 0x7f;
  guint64 len = 0;

  if (len7 < 126)
    return len7;
  for (guint i = 0; i < (len7 == 126 ? 2u : 8u); i++)
    len = (len << 8) | h[2 + i];
  return len;
}

/* Follows @len bytes just read; FALSE once a message is over the limit. */
static gboolean
follow (HangoutMessageSizeInput *self, const guint8 *data, gsize len)
{
  while (len > 0) {
    guint64 payload;
    guint8 opcode;

    if (self->payload_left > 0) {
      gsize skip = (gsize) MIN ((guint64) len, self->payload_left);
      data += skip;
      len -= skip;
      self->payload_left -= skip;
      continue;
    }
    self->header[self->header_len++] = *data++;
    len--;
    if (self->header_len < 2 || self->header_len < header_size (self->header))
      continue;

    payload = header_payload_len (self->header);
    opcode = self->header[0] & 0x0f;
    self->header_len = 0;
    self->payload_left = payload;
    /* Data frames (continuation, text, binary) count; control frames,
     * which may come between a message's fragments, do not. */
    if (opcode < 0x8) {
      if (payload > self->max_message_size - self->message_size)
        return FALSE;
      self->message_size += payload;
      if (self->header[0] & 0x80) /* FIN: the message is complete */
        self->message_size = 0;
    }
  }
  return TRUE;
}

/* What a read of @n bytes into @buffer returns. */
static gssize
checked (HangoutMessageSizeInput *self, const void *buffer, gssize n, GError **error)
{
  if (n > 0 && !self->too_big && !follow (self, buffer, (gsize) n))
    self->too_big = TRUE;
  if (self->too_big) {
    g_set_error_literal (error, SOUP_WEBSOCKET_ERROR, SOUP_WEBSOCKET_CLOSE_TOO_BIG,
                         "Received WebSocket message is too big");
    return -1;
  }
  return n;
}

static GInputStream *
base_of (gpointer self)
{
  return g_filter_input_stream_get_base_stream (G_FILTER_INPUT_STREAM (self));
}

static gssize
message_size_input_read (GInputStream *stream, void *buffer, gsize count, GCancellable *cancellable,
                         GError **error)
{
  HangoutMessageSizeInput *self = MESSAGE_SIZE_INPUT (stream);

  if (self->too_big)
    return checked (self, buffer, 0, error);
  return checked (self, buffer, g_input_stream_read (base_of (self), buffer, count, cancellable, error),
                  error);
}

static gssize
message_size_input_read_nonblocking (GPollableInputStream *stream, void *buffer, gsize count,
                                     GError **error)
{
  HangoutMessageSizeInput *self = MESSAGE_SIZE_INPUT (stream);

  if (self->too_big)
    return checked (self, buffer, 0, error);
  return checked (self, buffer,
                  g_pollable_input_stream_read_nonblocking (G_POLLABLE_INPUT_STREAM (base_of (self)), buffer,
                                                            count, NULL, error),
                  error);
}

static gboolean
message_size_input_can_poll (GPollableInputStream *stream)
{
  return g_pollable_input_stream_can_poll (G_POLLABLE_INPUT_STREAM (base_of (stream)));
}

static gboolean
message_size_input_is_readable (GPollableInputStream *stream)
{
  /* Once too big, a read answers at once (with the error). */
  return MESSAGE_SIZE_INPUT (stream)->too_big ||
         g_pollable_input_stream_is_readable (G_POLLABLE_INPUT_STREAM (base_of (stream)));
}

static GSource *
message_size_input_create_source (GPollableInputStream *stream, GCancellable *cancellable)
{
  GSource *base = g_pollable_input_stream_create_source (G_POLLABLE_INPUT_STREAM (base_of (stream)), NULL);
  GSource *source = g_pollable_source_new_full (stream, base, cancellable);

  g_source_unref (base);
  return source;
}

static void
message_size_input_pollable_init (GPollableInputStreamInterface *iface)
{
  iface->can_poll = message_size_input_can_poll;
  iface->is_readable = message_size_input_is_readable;
  iface->create_source = message_size_input_create_source;
  iface->read_nonblocking = message_size_input_read_nonblocking;
}

static void
message_size_input_class_init (HangoutMessageSizeInputClass *klass)
{
  G_INPUT_STREAM_CLASS (klass)->read_fn = message_size_input_read;
}

static void
message_size_input_init (HangoutMessageSizeInput *self)
{
}

/* ---------------------------------------------------------------------- */
/* The stream: that input, the base's output, closed with the base        */

G_GNUC_INTERNAL G_DECLARE_FINAL_TYPE (HangoutMessageSizeStream, message_size_stream, MESSAGE_SIZE, STREAM, GIOStream)

struct _HangoutMessageSizeStream {
  GIOStream parent;
  GIOStream *base;
  GInputStream *input;
};

G_DEFINE_FINAL_TYPE (HangoutMessageSizeStream, message_size_stream, G_TYPE_IO_STREAM)

static GInputStream *
message_size_stream_get_input_stream (GIOStream *stream)
{
  return MESSAGE_SIZE_STREAM (stream)->input;
}

static GOutputStream *
message_size_stream_get_output_stream (GIOStream *stream)
{
  return g_io_stream_get_output_stream (MESSAGE_SIZE_STREAM (stream)->base);
}

static gboolean
message_size_stream_close (GIOStream *stream, GCancellable *cancellable, GError **error)
{
  return g_io_stream_close (MESSAGE_SIZE_STREAM (stream)->base, cancellable, error);
}

static void
on_base_closed (GObject *base, GAsyncResult *result, gpointer data)
{
  GTask *task = data;
  GError *error = NULL;

  if (g_io_stream_close_finish (G_IO_STREAM (base), result, &error))
    g_task_return_boolean (task, TRUE);
  else
    g_task_return_error (task, error);
  g_object_unref (task);
}

/* The base's own asynchronous close (GIOStream's default would run the
 * synchronous one on a worker thread). */
static void
message_size_stream_close_async (GIOStream *stream, int priority, GCancellable *cancellable,
                                 GAsyncReadyCallback callback, gpointer data)
{
  GTask *task = g_task_new (stream, cancellable, callback, data);

  g_io_stream_close_async (MESSAGE_SIZE_STREAM (stream)->base, priority, cancellable, on_base_closed, task);
}

static gboolean
message_size_stream_close_finish (GIOStream *stream, GAsyncResult *result, GError **error)
{
  return g_task_propagate_boolean (G_TASK (result), error);
}

static void
message_size_stream_finalize (GObject *object)
{
  HangoutMessageSizeStream *self = MESSAGE_SIZE_STREAM (object);

  g_object_unref (self->input);
  g_object_unref (self->base);
  G_OBJECT_CLASS (message_size_stream_parent_class)->finalize (object);
}

static void
message_size_stream_class_init (HangoutMessageSizeStreamClass *klass)
{
  GIOStreamClass *io_class = G_IO_STREAM_CLASS (klass);

  G_OBJECT_CLASS (klass)->finalize = message_size_stream_finalize;
  io_class->get_input_stream = message_size_stream_get_input_stream;
  io_class->get_output_stream = message_size_stream_get_output_stream;
  io_class->close_fn = message_size_stream_close;
  io_class->close_async = message_size_stream_close_async;
  io_class->close_finish = message_size_stream_close_finish;
}

static void
message_size_stream_init (HangoutMessageSizeStream *self)
{
}

GIOStream *
message_size_stream_new (GIOStream *base, guint64 max_message_size)
{
  HangoutMessageSizeStream *self = g_object_new (message_size_stream_get_type (), NULL);
  HangoutMessageSizeInput *input;

  self->base = g_object_ref (base);
  /* The base's input is closed with the base, not by us. */
  input = g_object_new (message_size_input_get_type (), "base-stream", g_io_stream_get_input_stream (base),
                        "close-base-stream", FALSE, NULL);
  input->max_message_size = max_message_size;
  self->input = G_INPUT_STREAM (input);
  return G_IO_STREAM (self);
}
