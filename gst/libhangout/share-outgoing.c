/* gst-hangout — the share layer's queued sends and piece messages
 * (share-private.h).
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#include "debug-private.h"
#include "share-private.h"
#include <string.h>

#define GST_CAT_DEFAULT hangout_debug_share

typedef struct {
  gchar *member;
  gchar *text;
  GPtrArray *messages;
} Outgoing;

static void
outgoing_free (Outgoing *out)
{
  g_free (out->member);
  g_free (out->text);
  g_clear_pointer (&out->messages, g_ptr_array_unref);
  g_free (out);
}

GPtrArray *
hangout_share_outgoing_new (void)
{
  return g_ptr_array_new_with_free_func ((GDestroyNotify) outgoing_free);
}

void
hangout_share_queue (GPtrArray *outgoing, const gchar *member, gchar *text,
    GPtrArray *messages)
{
  Outgoing *out = g_new0 (Outgoing, 1);

  out->member = g_strdup (member);
  out->text = text;
  out->messages = messages;
  g_ptr_array_add (outgoing, out);
}

void
hangout_share_send_queued (HangoutRoom *room, GPtrArray *outgoing)
{
  for (guint i = 0; i < outgoing->len; i++) {
    Outgoing *out = g_ptr_array_index (outgoing, i);
    g_autoptr (GError) error = NULL;
    gboolean sent = TRUE;

    if (out->text != NULL)
      sent = hangout_room_send_string (room, out->member, out->text, &error);
    for (guint m = 0; sent && out->messages != NULL
        && m < out->messages->len; m++)
      sent = hangout_room_send (room, out->member,
          g_ptr_array_index (out->messages, m), &error);
    /* A member that is going away fails here before "member-left". */
    if (!sent)
      GST_DEBUG ("could not send to %s: %s", out->member, error->message);
  }
}

GPtrArray *
hangout_share_piece_messages (const gchar *id, HangoutTransfer2Role role,
    guint64 index, GBytes *piece, gsize piece_size, guint chunk_size)
{
  const gsize step = chunk_size - HANGOUT_TRANSFER2_PIECE_HEADER_SIZE;
  GPtrArray *messages = g_ptr_array_new_with_free_func ((GDestroyNotify)
      g_bytes_unref);
  gsize len;
  const guint8 *data = g_bytes_get_data (piece, &len);
  guint64 offset = index * piece_size;

  for (gsize at = 0; at < len; at += step)
    g_ptr_array_add (messages, hangout_transfer2_build_piece (id, role,
            offset + at, data + at, MIN (step, len - at)));
  return messages;
}

void
hangout_share_digest_to_hex (const guint8 *digest,
    gchar hex[2 * HANGOUT_MERKLE_HASH_SIZE + 1])
{
  for (guint i = 0; i < HANGOUT_MERKLE_HASH_SIZE; i++)
    g_snprintf (hex + 2 * i, 3, "%02x", digest[i]);
}

gboolean
hangout_share_digest_from_hex (const gchar *hex,
    guint8 digest[HANGOUT_MERKLE_HASH_SIZE])
{
  if (hex == NULL || strlen (hex) != 2 * HANGOUT_MERKLE_HASH_SIZE)
    return FALSE;
  for (guint i = 0; i < HANGOUT_MERKLE_HASH_SIZE; i++) {
    gint hi = g_ascii_xdigit_value (hex[2 * i]);
    gint lo = g_ascii_xdigit_value (hex[2 * i + 1]);

    if (hi < 0 || lo < 0)
      return FALSE;
    digest[i] = (guint8) (hi << 4 | lo);
  }
  return TRUE;
}
