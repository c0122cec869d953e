/* gst-hangout — what the share layer's sender and receiver both use
 * (private): messages to send once a lock is released, and a piece cut
 * into the data messages of transfer version 2.
 *
 * Both handle the room's messages on its network thread under their own
 * lock, and must not send while they hold it (a send may take the
 * channel's locks, and the network thread takes theirs from handlers it
 * runs while holding those): they queue what to send and send it after.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <hangout/merkle.h>
#include <hangout/room.h>
#include <hangout/transfer2.h>

G_BEGIN_DECLS

/* An empty queue of messages to send. */
G_GNUC_INTERNAL GPtrArray *hangout_share_outgoing_new (void);
/* Queues @text (transfer full, or NULL), then @messages (GBytes, transfer
 * full, or NULL), for @member. */
G_GNUC_INTERNAL void hangout_share_queue (GPtrArray *outgoing,
    const gchar *member, gchar *text, GPtrArray *messages);
/* Sends what is queued, in order; a member that cannot take it (it is
 * leaving) is skipped, and logged. */
G_GNUC_INTERNAL void hangout_share_send_queued (HangoutRoom *room,
    GPtrArray *outgoing);

/* Piece @index (@piece, of a file in @piece_size pieces) as piece data
 * messages of @role, each at most @chunk_size bytes (GBytes, transfer
 * full). */
G_GNUC_INTERNAL GPtrArray *hangout_share_piece_messages (const gchar *id,
    HangoutTransfer2Role role, guint64 index, GBytes *piece,
    gsize piece_size, guint chunk_size);

/* A root (or any SHA-256) between its bytes and its 64 lower-case hex
 * digits, as transfer version 2 writes it; from_hex FALSE for anything
 * else. */
G_GNUC_INTERNAL void hangout_share_digest_to_hex (const guint8 *digest,
    gchar hex[2 * HANGOUT_MERKLE_HASH_SIZE + 1]);
G_GNUC_INTERNAL gboolean hangout_share_digest_from_hex (const gchar *hex,
    guint8 digest[HANGOUT_MERKLE_HASH_SIZE]);

G_END_DECLS
