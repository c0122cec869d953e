/* gst-hangout — sharing files in a room: the orchestration above the wire
 * format (transfer.h) and the mesh (room.h).
 *
 * HangoutShareSender shares files, one after another, with the members of
 * a room: it decides who is offered a file, paces the data to the slowest
 * member (a window per member above SCTP, refilled on the channel's
 * "buffered-amount-low"), collects the acknowledgements with their
 * timeout, and says at the end who has the file. HangoutShareReceiver
 * takes the files the members share, queues them, holds back their
 * senders and hands them out one at a time. hangoutsink and hangoutsrc
 * are thin GStreamer adapters over them; a program shares and receives
 * files without a pipeline.
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

/* How a sender distributes a file (docs/protocol.md §4): every byte to
 * every member itself (version 1), or through the members that speak
 * version 2, each piece handed to one of them to forward to the others
 * (members that speak only version 1 still get it directly). */
typedef enum {
  HANGOUT_SHARE_DISTRIBUTION_DIRECT,
  HANGOUT_SHARE_DISTRIBUTION_SWARM,
} HangoutShareDistribution;

GType hangout_share_distribution_get_type (void);
#define HANGOUT_TYPE_SHARE_DISTRIBUTION (hangout_share_distribution_get_type ())

/* The transfer versions a room of ours speaks (hangout_room_set_transfer_
 * versions()): 1 and 2. */
#define HANGOUT_SHARE_TRANSFER_VERSIONS \
  (HANGOUT_ROOM_TRANSFER_V (1) | HANGOUT_ROOM_TRANSFER_V (2))

#define HANGOUT_SHARE_DEFAULT_ACK_TIMEOUT 30
#define HANGOUT_SHARE_DEFAULT_MIN_ACKS 1
#define HANGOUT_SHARE_DEFAULT_LINGER 0

/* Reads @size bytes at @offset of the file being shared into @buffer
 * (docs/protocol.md §4.8: the pieces a member that joined late lacks).
 * Called on the room's network thread, with no lock of the sender's
 * held; FALSE (and @error) when the bytes cannot be read. */
typedef gboolean (*HangoutShareReadFunc) (guint64 offset, gsize size,
    guint8 *buffer, gpointer user_data, GError **error);

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
 *       that answers any offer made to us (a sender only sends);
 *   "distribution" (HangoutShareDistribution, default DIRECT): how the
 *       next file is distributed. Members that speak transfer version 2
 *       get a version 2 offer (its window paces each), the others
 *       version 1; with DIRECT every piece goes to every member from us,
 *       with SWARM pieces are handed to members that forward them;
 *   "linger" (guint, seconds, HANGOUT_SHARE_DEFAULT_LINGER): how long
 *       hangout_share_sender_finish() goes on serving a file that can be
 *       read at any offset (hangout_share_sender_set_reader()) after its
 *       end, offering it to the members that connect meanwhile; it
 *       returns once that time passed and every member offered the file
 *       answered (or ack-timeout ran out for it).
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
 * hangout_room_start(), or members already connected are not known; drop
 * it after hangout_room_stop() (its handlers run on the room's thread
 * until then). */
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
/* Files begun from now on can be read at any offset with @read (NULL:
 * they cannot, as a stream): a member that speaks version 2 and
 * connects while such a file is shared, before
 * hangout_share_sender_end(), is offered it too and sent the pieces it
 * lacks (docs/protocol.md §4.8). @user_data must stay valid until the
 * room stops. */
void hangout_share_sender_set_reader (HangoutShareSender *self,
    HangoutShareReadFunc read, gpointer user_data);
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
 * ids complete, failed, rejected, left, no-answer (and, when members took
 * it in version 2: swarm-pieces, the file's pieces; swarm-direct, those
 * sent to every member of the swarm by us; swarm-resent, pieces sent
 * again to one member, for its request or after a forwarder left; all
 * guint64; the others were handed to one forwarder each;
 * swarm-caught-up, pieces sent by us to members that joined late; and
 * swarm-excluded, the members handed no more pieces once others named
 * three of theirs corrupt or asked us for half of theirs), unless the
 * call failed
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

/* A file's outcome, counted from its summary: members that have the
 * whole file (complete), that failed it or left before answering (failed,
 * left) and that did not answer within ack-timeout (no-answer); members
 * that declined it (rejected) are not counted. */
typedef struct {
  guint complete;
  guint lost;
  guint silent;
} HangoutShareCounts;

void hangout_share_summary_count (const GstStructure *summary,
    HangoutShareCounts *counts);

/* A receiver's queue for the file being output: above this many bytes we
 * stop reading from its sender (SCTP's window closes) until it drains to
 * half; a file waiting for its turn is held at
 * HANGOUT_SHARE_QUEUE_WAITING. */
#define HANGOUT_SHARE_QUEUE_HIGH (8 * 1024 * 1024)
#define HANGOUT_SHARE_QUEUE_WAITING (2 * 1024 * 1024)
/* Files whose data began, held at once, in all and per member. */
#define HANGOUT_SHARE_MAX_FLOWING_FILES 16
#define HANGOUT_SHARE_MAX_FLOWING_PER_MEMBER 4
/* Files of transfer version 2 taken at once, and their largest window
 * (docs/protocol.md §4.9): each holds its window whether or not it is
 * the one being handed out. */
#define HANGOUT_SHARE_MAX_SWARM_FILES 4
#define HANGOUT_SHARE_MAX_SWARM_WINDOW (8 * 1024 * 1024)

#define HANGOUT_TYPE_SHARE_RECEIVER (hangout_share_receiver_get_type ())
G_DECLARE_FINAL_TYPE (HangoutShareReceiver, hangout_share_receiver, HANGOUT,
    SHARE_RECEIVER, GObject)

/*
 * HangoutShareReceiver takes the files a room's members share and hands
 * them out one at a time, in the order their data began (an offer alone
 * never takes the place), as one stream of events. Files arriving at once
 * each wait in a bounded queue of their own, their senders paused
 * (hangout_room_set_receiving()) above the bound; a file whose data stops
 * for stall-timeout seconds fails; a waiting file that fails is dropped.
 *
 * Properties:
 *   "room" (HangoutRoom, construct only);
 *   "join-timeout" (guint, seconds, construct only): how long
 *       hangout_share_receiver_next() waits for the room to join the
 *       signalling server before failing (0: no limit);
 *   "stall-timeout" (guint, seconds; HANGOUT_TRANSFER_STALL_TIMEOUT_S);
 *   "from" (gchar*): take files only from members with this display name
 *       (NULL: from anyone; names are not authenticated);
 *   "max-files" (guint): once this many files are handed out complete,
 *       the files still held and every later offer are declined (0: no
 *       limit).
 *
 * Signals, emitted on the room's network thread:
 *   "offered" (const gchar *member, const gchar *name, gint64 size,
 *       const gchar *mime) → gchar *: a file is offered that "from" and
 *       "max-files" do not decline; return %NULL to take it, or the reason to decline it (transfer full). The first
 *       handler's answer counts; without a handler every file is taken;
 *   "dropped" (const gchar *member, const gchar *name, const gchar
 *       *error): a file waiting for its turn failed and was dropped (its
 *       bytes were never handed out);
 *   "corrupt" (const gchar *member, const gchar *name, guint64 piece,
 *       gboolean excluded): piece @piece of version 2 file @name, forwarded
 *       by @member, failed verification (docs/protocol.md §4.7): it is
 *       taken from the sharer again, so the file goes on; @excluded: that
 *       was @member's third, its data for the file are dropped unread from
 *       now on.
 */

/* Create it before hangout_room_start(); drop it after hangout_room_stop()
 * (its handlers run on the room's thread until then). */
HangoutShareReceiver *hangout_share_receiver_new (HangoutRoom *room,
    guint join_timeout_s);
/* The next event of the file being handed out: STARTED (name, size, mime),
 * DATA (payload at offset), COMPLETE (SHA-256 verified) or FAILED (error;
 * offset: bytes handed out). Blocks until there is one; fails with
 * G_IO_ERROR_TIMED_OUT when the room has not joined within join-timeout,
 * and G_IO_ERROR_CANCELLED. @waiting (optional) receives how many other
 * files are held. (transfer full) */
HangoutTransferEvent *hangout_share_receiver_next (HangoutShareReceiver *self,
    GCancellable *cancellable, guint *waiting, GError **error);
/* Files handed out complete so far. */
guint hangout_share_receiver_get_completed (HangoutShareReceiver *self);
/* TRUE between a file's STARTED and its COMPLETE or FAILED: whoever
 * consumes the events has part of a file. */
gboolean hangout_share_receiver_is_mid_file (HangoutShareReceiver *self);
/* Bytes received and not handed out yet, all files. Any thread. */
guint64 hangout_share_receiver_get_level (HangoutShareReceiver *self);
/* Declines every file still held (when no more are wanted): their senders
 * stop waiting for us. */
void hangout_share_receiver_decline_all (HangoutShareReceiver *self,
    const gchar *reason);

G_END_DECLS
