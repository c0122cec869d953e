/* gst-hangout test helper — a member of transfer version 2 that does not
 * play fair (rogue.h).
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#include "rogue.h"

#include <hangout/share.h>
#include <hangout/transfer2.h>

struct _Rogue {
  HangoutRoom *room;
  RogueKind kind;
  RogueNotify notify;
  gpointer notify_data;
  gulong handler;
  GStrv swarm;                  /* the sharer's latest, network thread only */
  gchar *sharer;                /* network thread only */
  guint64 pieces;               /* of the file offered last (0: unknown) */
  guint assigned;               /* atomic */
};

/* Sends @piece on to the swarm as forwarded, its first byte changed: every
 * receiver must find it corrupt. */
static void
forward_corrupted (Rogue *r, const HangoutTransfer2Piece *piece)
{
  g_autofree guint8 *flipped = g_memdup2 (piece->payload, piece->payload_len);
  g_autoptr (GBytes) message = NULL;
  g_autofree gchar *own = hangout_room_dup_id (r->room);

  flipped[0] ^= 0x80;
  message = hangout_transfer2_build_piece (piece->id,
      HANGOUT_TRANSFER2_ROLE_FORWARDED, piece->offset, flipped,
      piece->payload_len);
  for (guint i = 0; r->swarm != NULL && r->swarm[i] != NULL; i++)
    if (g_strcmp0 (r->swarm[i], own) != 0
        && g_strcmp0 (r->swarm[i], r->sharer) != 0)
      hangout_room_send (r->room, r->swarm[i], message, NULL);
}

static void
on_message (HangoutRoom *room, const gchar *member, gboolean is_string,
    GBytes *data, Rogue *r)
{
  gsize len;
  const guint8 *bytes = g_bytes_get_data (data, &len);
  HangoutTransfer2Control control;
  HangoutTransfer2Piece piece;

  if (is_string) {
    if (!hangout_transfer2_parse_control ((const gchar *) bytes, len,
            &control, NULL))
      return;
    if (control.type == HANGOUT_TRANSFER2_OFFER) {
      g_autofree gchar *accept = hangout_transfer2_build_accept (control.id);

      g_free (r->sharer);
      r->sharer = g_strdup (member);
      hangout_room_send_string (room, member, accept, NULL);
      r->pieces = control.size < 0 || control.piece_size == 0 ? 0 :
          (control.size + control.piece_size - 1) / control.piece_size;
    } else if (control.type == HANGOUT_TRANSFER2_SWARM) {
      g_strfreev (r->swarm);
      r->swarm = g_strdupv (control.members);
      if (r->pieces > 0) {
        /* In the swarm now, it claims to hold the whole file: a member
         * whose window stays at piece 0 would hold the sharer back one
         * window into the file (§4.6), and a file larger than that would
         * end there, by a stall rather than by what the rogue forwards. */
        g_autoptr (GArray) none = g_array_new (FALSE, FALSE,
            sizeof (HangoutTransfer2Range));
        g_autofree gchar *have = hangout_transfer2_build_have (control.id,
            r->pieces, none);

        hangout_room_send_string (room, member, have, NULL);
      }
    }
    hangout_transfer2_control_clear (&control);
    return;
  }
  if (hangout_transfer2_binary_kind (bytes, len)
      != HANGOUT_TRANSFER2_BINARY_PIECE
      || !hangout_transfer2_parse_piece (bytes, len, &piece, NULL)
      || piece.role != HANGOUT_TRANSFER2_ROLE_ASSIGNED)
    return;
  if (r->kind == ROGUE_CORRUPT)
    forward_corrupted (r, &piece);
  g_atomic_int_inc (&r->assigned);
  if (r->notify != NULL)
    r->notify (r->notify_data);
}

Rogue *
rogue_new (HangoutRoom *room, RogueKind kind, RogueNotify notify,
    gpointer notify_data)
{
  Rogue *r = g_new0 (Rogue, 1);

  r->room = g_object_ref (room);
  r->kind = kind;
  r->notify = notify;
  r->notify_data = notify_data;
  hangout_room_set_transfer_versions (room, HANGOUT_SHARE_TRANSFER_VERSIONS);
  r->handler = g_signal_connect (room, "message", G_CALLBACK (on_message), r);
  return r;
}

HangoutRoom *
rogue_get_room (Rogue *r)
{
  return r->room;
}

guint
rogue_get_assigned (Rogue *r)
{
  return g_atomic_int_get (&r->assigned);
}

void
rogue_free (Rogue *r)
{
  g_signal_handler_disconnect (r->room, r->handler);
  g_object_unref (r->room);
  g_strfreev (r->swarm);
  g_free (r->sharer);
  g_free (r);
}
