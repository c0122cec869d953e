/* gst-hangout — sharing files in a room: the orchestration above the wire
 * format (transfer.h) and the mesh (room.h).
 *
 * HangoutShareSender shares files, one after another, with the members of
 * a room: it decides who is offered a file, paces the data to the slowest
 * member (a window per member above SCTP, refilled on the channel's
 * "buffered-amount-low"), collects the acknowledgements with their
 * timeout, and says at the end who has the file. hangoutsink is a thin
 * GStreamer adapter over it; a program shares a file with it without a
 * pipeline.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <gio/gio.h>
#include <gst/gst.h>
#include <hangout/room.h>
#include <hangout/transfer.h>

G_BEGIN_DECLS

/* At most this much may wait in a member's channel above SCTP (whose own
 * send buffer adds 1 MiB): memory per member stays bounded whatever the
 * file size, and the slowest member paces the sender. */
#define HANGOUT_SHARE_WINDOW (1024 * 1024)

#define HANGOUT_SHARE_DEFAULT_ACK_TIMEOUT 30
#define HANGOUT_SHARE_DEFAULT_MIN_ACKS 1

#define HANGOUT_TYPE_SHARE_SENDER (hangout_share_sender_get_type ())
G_DECLARE_FINAL_TYPE (HangoutShareSender, hangout_share_sender, HANGOUT,
    SHARE_SENDER, GObject)

/*
 * Properties (read when a file begins or finishes, so they may change
 * between files):
 *   "room" (HangoutRoom, construct only): the room it shares in;
 *   "chunk-size" (guint): bytes per data message, header included
 *       (HANGOUT_TRANSFER_DEFAULT_CHUNK_SIZE); members whose
 *       max-message-size is smaller are not offered the file;
 *   "ack-timeout" (guint, seconds): how long hangout_share_sender_finish()
 *       waits for answers, counted from the last progress of the data
 *       still on its way to the members that have not answered (while it
 *       drains, the wait goes on);
 *   "min-acks" (guint): members that must have the whole file (ack with
 *       the right SHA-256) for hangout_share_sender_finish() to succeed;
 *   "decline-reason" (gchar*, construct only): the reason of the reject
 *       that answers any offer made to us (a sender only sends).
 *
 * Signals, emitted on the room's network thread:
 *   "answer" (const gchar *member, guint state, const gchar *sha256,
 *       const gchar *reason): a recipient of the current file answered;
 *       @state is a HangoutTransferRecipientState (OK, FAILED: an ack,
 *       with the digest it computed, or %NULL; REJECTED: a reject, with
 *       its @reason). hangout_share_sender_finish() returns only once
 *       every handler of every answer has returned;
 *   "recipient-left" (const gchar *member, const gchar *failure): a
 *       recipient of the current file left before answering; @failure as
 *       the room's "member-left".
 *
 * Threads: the blocking calls (wait, write, finish) are made from one
 * thread at a time, the sending thread; they return G_IO_ERROR_CANCELLED
 * as soon as @cancellable is cancelled. Nothing is sent while the
 * object's lock is held.
 */

/* Follows @room's members from now on: create it before
 * hangout_room_start(), or members already connected are not known. */
HangoutShareSender *hangout_share_sender_new (HangoutRoom *room,
    const gchar *decline_reason);

/* (transfer none) */
HangoutRoom *hangout_share_sender_get_room (HangoutShareSender *self);
/* Members with an open channel. Any thread. */
guint hangout_share_sender_count_connected (HangoutShareSender *self);
/* Waits until @count members are connected. Fails with
 * G_IO_ERROR_TIMED_OUT after @timeout_s seconds, G_IO_ERROR_CANCELLED. */
gboolean hangout_share_sender_wait_for_members (HangoutShareSender *self,
    guint count, guint timeout_s, GCancellable *cancellable, GError **error);

/* Offers a new file (@size -1: not known) to the members connected now;
 * those that connect later are not sent it (docs/protocol.md §2.4).
 * Fails for a bad name or chunk size, or while a file is in progress. */
gboolean hangout_share_sender_begin (HangoutShareSender *self,
    const gchar *name, gint64 size, const gchar *mime, GError **error);
/* TRUE between begin and end. */
gboolean hangout_share_sender_has_file (HangoutShareSender *self);
/* Bytes of the current file written so far (0 without one). */
guint64 hangout_share_sender_get_offset (HangoutShareSender *self);
/* Appends bytes to the current file, sending every complete chunk once
 * each recipient's window has room for it. Fails once the file would
 * exceed its announced size, and with G_IO_ERROR_CANCELLED. */
gboolean hangout_share_sender_write (HangoutShareSender *self,
    const guint8 *data, gsize len, GCancellable *cancellable, GError **error);
/* Ends the current file (the last chunk, the end with its SHA-256) and
 * waits for the answers (ack-timeout). @summary receives
 * "hangout-summary": id (string), size (guint64), and arrays of member
 * ids complete, failed, rejected, left, no-answer, unless the call failed
 * otherwise than for min-acks. Fails with HANGOUT_ERROR_INCOMPLETE when
 * fewer than min-acks members have the whole file, as
 * hangout_transfer_sender_finish() (fewer bytes than announced), and with
 * G_IO_ERROR_CANCELLED. The file stays
 * until hangout_share_sender_end(). */
gboolean hangout_share_sender_finish (HangoutShareSender *self,
    GCancellable *cancellable, GstStructure **summary, GError **error);
/* Forgets the current file (finished or not): the next begin starts
 * another. */
void hangout_share_sender_end (HangoutShareSender *self);

G_END_DECLS
