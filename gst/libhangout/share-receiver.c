/* gst-hangout — HangoutShareReceiver (share.h): the files a room's members
 * share, handed out one at a time.
 *
 * Threads: the room's network thread turns messages into events on a
 * queue (it never blocks: it also carries every other member's traffic);
 * hangout_share_receiver_next() runs in the consuming thread and takes
 * them off. `lock` guards the queues and the transfer receiver; `cond`
 * wakes next().
 *
 * Several files may arrive at once (one per sender, or more): the queue is
 * kept per file (PendingFile) and next() hands out one file at a time, so
 * the output stays one byte stream; the others wait in their queues until
 * it is complete. Which file goes first is decided by its data, not by its
 * offer: files are ordered by the arrival of their first data message (an
 * offer alone never takes the place, so a member cannot hold the receiver
 * with offers it never follows), and next() commits to a file (hands out
 * its STARTED) only once it has data. A waiting file that fails (its
 * sender left or stalled, a bad digest) is dropped ("dropped"). A piece
 * of a version 2 file that a member forwarded corrupt is told of too
 * ("corrupt"): the share layer takes it from the sharer again, but the
 * user should learn who sends corrupt data.
 *
 * Memory: each file's queue is bounded. The network thread cannot wait for
 * the consumer, so when a file's queue holds HANGOUT_SHARE_QUEUE_HIGH
 * bytes we stop reading from its sender (hangout_room_set_receiving()):
 * SCTP's window closes, the sender's buffered amount grows and its sender
 * waits. next() reads again below QUEUE_LOW. A file waiting for its turn
 * is held the same way at HANGOUT_SHARE_QUEUE_WAITING, so other senders
 * pause instead of filling memory.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#include "debug-private.h"
#include "sha256-thread-private.h"
#include "share-private.h"
#include "source-private.h"
#include <hangout/piece-window.h>
#include <hangout/share.h>
#include <hangout/transfer2.h>
#include <string.h>

#define GST_CAT_DEFAULT hangout_debug_share

#define QUEUE_LOW (HANGOUT_SHARE_QUEUE_HIGH / 2)
/* next() waiting for data is woken once this much has gathered (or
 * anything but data arrives), not for every message; it also looks by
 * itself every WAKE_INTERVAL while some file is offered, so that a slow
 * sender's bytes do not wait for a batch. With none, it sleeps until one
 * comes: an idle member does not wake. */
#define WAKE_BATCH (256 * 1024)
#define WAKE_INTERVAL (G_USEC_PER_SEC / 10)
/* Version 2: how often the swarm's timer looks for repairs to request,
 * stalled files and forwards that drained (a forwarder reads from the
 * sharer again once its channels to the swarm took what it forwarded). */
#define SWARM_TICK_MS 10
/* A forwarder stops reading from the sharer while a channel to the swarm
 * holds more than FORWARD_HOLD pieces it has not handed to SCTP (§4.5),
 * and reads again at FORWARD_RESUME (docs/architecture.md, "Swarm
 * distribution", says why not what SCTP has not acknowledged). */
#define FORWARD_HOLD 4
#define FORWARD_RESUME 2
/* A version 2 file's queue of events: its window holds what is ahead, so
 * the queue only needs to keep the consumer fed between refills (each
 * next() refills it). A receiver thus holds at most the window (8 MiB)
 * and this of a version 2 file. */
#define SWARM_QUEUE (1024 * 1024)

/* A file offered in transfer version 2 (docs/protocol.md §4), accepted:
 * its piece window, the swarm it forwards to, its events' file. Known by
 * its id alone (§4.3). */
typedef struct {
  gchar *id;
  gchar *sharer;
  gchar *name;
  gint64 size;
  guint chunk_size;
  gsize piece_size;
  HangoutPieceWindow *window;
  GStrv swarm;                  /* the sharer's latest `swarm` */
  struct _PendingFile *pending; /* where its events go */
  /* Of what was output, for the `complete` event: hashed off the room's
   * thread, which verifies every leaf already. */
  HangoutSha256Thread *sha256;
  guint64 output;               /* bytes output */
  gint64 last_heard;            /* monotonic µs of its last data or hashes */
  gboolean holding;             /* not reading from the sharer: forwarding */
  gboolean done;                /* complete or failed: only forgetting left */
} SwarmFile;

/* An accepted file: its events, not yet handed out. */
typedef struct _PendingFile {
  gchar *key;                   /* "member/id" */
  gchar *member;                /* its sender */
  gchar *id;
  GQueue events;                /* HangoutTransferEvent */
  guint64 bytes;                /* of data in events */
  gboolean paused;              /* not reading from the sender meanwhile */
  gboolean flowing;             /* its data began: it may be handed out */
  SwarmFile *swarm;             /* a version 2 file's state, or NULL */
} PendingFile;

struct _HangoutShareReceiver {
  GObject parent;

  HangoutRoom *room;
  gulong room_handlers[3];
  guint join_timeout;
  gint64 join_deadline;         /* monotonic; 0: none */

  GMutex lock;
  GCond cond;
  guint stall_timeout;
  gchar *from;                  /* display name to take files from, or NULL */
  guint max_files;              /* files to hand out complete (0: no limit) */
  HangoutTransferReceiver *receiver;
  GQueue files;                 /* PendingFile: those flowing first, in the
                                 * order their data began, then the others */
  PendingFile *current;         /* being handed out (committed), or NULL */
  GHashTable *by_key;           /* "member/id" -> PendingFile (owned) */
  GSource *stall_check;         /* on the room's context, from the first
                                 * message */
  gboolean waiting;             /* next() waits for events */
  gboolean waiting_for_files;   /* ... with no file offered: any event wakes it */
  gboolean joined;              /* the room has an id on the server */
  guint completed;              /* files handed out complete */
  GHashTable *swarm_files;      /* id → SwarmFile (owned by its PendingFile) */
  GSource *swarm_tick;          /* while there are version 2 files */
  GArray *corrupt;              /* CorruptPiece: to emit "corrupt" for once
                                 * the lock is released */
};

/* A piece that failed verification, as "corrupt" tells it. */
typedef struct {
  gchar *member;
  gchar *name;
  guint64 piece;
  gboolean excluded;
} CorruptPiece;

enum {
  PROP_0,
  PROP_ROOM,
  PROP_JOIN_TIMEOUT,
  PROP_STALL_TIMEOUT,
  PROP_FROM,
  PROP_MAX_FILES,
  N_PROPS
};

enum {
  SIGNAL_OFFERED,
  SIGNAL_DROPPED,
  SIGNAL_CORRUPT,
  N_SIGNALS
};

static GParamSpec *properties[N_PROPS];
static guint signals[N_SIGNALS];

G_DEFINE_FINAL_TYPE (HangoutShareReceiver, hangout_share_receiver,
    G_TYPE_OBJECT)

static void
swarm_file_free (SwarmFile *sf)
{
  g_free (sf->id);
  g_free (sf->sharer);
  g_free (sf->name);
  hangout_piece_window_free (sf->window);
  g_strfreev (sf->swarm);
  hangout_sha256_thread_free (sf->sha256);
  g_free (sf);
}

static void
pending_file_free (PendingFile *file)
{
  g_clear_pointer (&file->swarm, swarm_file_free);
  g_queue_clear_full (&file->events,
      (GDestroyNotify) hangout_transfer_event_free);
  g_free (file->key);
  g_free (file->member);
  g_free (file->id);
  g_free (file);
}

/* Reads from @file's sender again if we stopped. Called with the lock. */
static void
resume_sender (HangoutShareReceiver *self, PendingFile *file)
{
  if (!file->paused)
    return;
  file->paused = FALSE;
  hangout_transfer_receiver_set_held (self->receiver, file->member, FALSE);
  GST_DEBUG_OBJECT (self, "reading from %s again (%" G_GUINT64_FORMAT
      " bytes queued)", file->member, file->bytes);
  hangout_room_set_receiving (self->room, file->member, TRUE);
}

/* Forgets @file, which is off self->files. Called with the lock. */
static void
remove_file (HangoutShareReceiver *self, PendingFile *file)
{
  if (self->current == file)
    self->current = NULL;
  resume_sender (self, file);
  if (file->swarm != NULL) {
    if (file->swarm->holding)
      hangout_room_set_receiving (self->room, file->swarm->sharer, TRUE);
    g_hash_table_remove (self->swarm_files, file->swarm->id);
  }
  g_hash_table_remove (self->by_key, file->key);
}

/* The file next() hands out next: the one being handed out, else the
 * first whose data began. Called with the lock. */
static PendingFile *
next_file (HangoutShareReceiver *self)
{
  PendingFile *head = g_queue_peek_head (&self->files);

  if (self->current != NULL)
    return self->current;
  return head != NULL && head->flowing ? head : NULL;
}

/* Moves @event onto @file's queue. Called with the lock. */
static void
push_event (HangoutShareReceiver *self, PendingFile *file,
    HangoutTransferEvent *event)
{
  HangoutTransferEvent *item = g_new (HangoutTransferEvent, 1);

  *item = *event;
  memset (event, 0, sizeof *event);
  if (item->payload != NULL) {
    file->bytes += g_bytes_get_size (item->payload);
    if (!file->paused && file->bytes >= (file == self->current ?
            HANGOUT_SHARE_QUEUE_HIGH : HANGOUT_SHARE_QUEUE_WAITING)) {
      /* We are on the network thread: this takes effect before the next
       * message is read. */
      file->paused = TRUE;
      hangout_transfer_receiver_set_held (self->receiver, file->member, TRUE);
      GST_DEBUG_OBJECT (self, "%" G_GUINT64_FORMAT " bytes of %s queued: "
          "not reading from %s for now", file->bytes, file->key,
          file->member);
      hangout_room_set_receiving (self->room, file->member, FALSE);
    }
  }
  g_queue_push_tail (&file->events, item);
  if (item->type != HANGOUT_TRANSFER_EVENT_STARTED && !file->flowing) {
    /* Its data began: behind the files whose data began earlier, ahead of
     * those that have only been offered. */
    GList *l;

    file->flowing = TRUE;
    g_queue_remove (&self->files, file);
    l = self->files.head;
    while (l != NULL && ((PendingFile *) l->data)->flowing)
      l = l->next;
    if (l != NULL)
      g_queue_insert_before (&self->files, l, file);
    else
      g_queue_push_tail (&self->files, file);
  }
  if (self->waiting && (self->waiting_for_files || (file == next_file (self)
              && (item->type != HANGOUT_TRANSFER_EVENT_DATA
                  || file->bytes >= WAKE_BATCH))))
    g_cond_broadcast (&self->cond);
}

/* The file named @key failed (@event FAILED, consumed). The file being
 * handed out gets the failure queued; a waiting one is dropped: returns
 * @event to emit "dropped" with once the lock is released, else NULL.
 * Called with the lock. */
static HangoutTransferEvent *
file_failed (HangoutShareReceiver *self, const gchar *key,
    HangoutTransferEvent *event)
{
  PendingFile *file = key ? g_hash_table_lookup (self->by_key, key) : NULL;
  HangoutTransferEvent *dropped;

  if (file == NULL) {
    hangout_transfer_event_clear (event);
    return NULL;
  }
  if (file == self->current) {
    push_event (self, file, event);
    return NULL;
  }
  dropped = g_new (HangoutTransferEvent, 1);
  *dropped = *event;
  memset (event, 0, sizeof *event);
  g_queue_remove (&self->files, file);
  remove_file (self, file);
  return dropped;
}

static void
emit_dropped (HangoutShareReceiver *self, HangoutTransferEvent *event)
{
  if (event == NULL)
    return;
  g_signal_emit (self, signals[SIGNAL_DROPPED], 0, event->member,
      event->name, event->error ? event->error->message : "failed");
  hangout_transfer_event_free (event);
}

static void
corrupt_piece_clear (CorruptPiece *corrupt)
{
  g_free (corrupt->member);
  g_free (corrupt->name);
}

static GArray *
corrupt_pieces_new (void)
{
  GArray *corrupt = g_array_new (FALSE, FALSE, sizeof (CorruptPiece));

  g_array_set_clear_func (corrupt, (GDestroyNotify) corrupt_piece_clear);
  return corrupt;
}

/* "corrupt" for the pieces found so. Called without the lock. */
static void
emit_corrupt (HangoutShareReceiver *self)
{
  g_autoptr (GArray) corrupt = NULL;

  g_mutex_lock (&self->lock);
  if (self->corrupt->len > 0) {
    corrupt = self->corrupt;
    self->corrupt = corrupt_pieces_new ();
  }
  g_mutex_unlock (&self->lock);
  for (guint i = 0; corrupt != NULL && i < corrupt->len; i++) {
    CorruptPiece *c = &g_array_index (corrupt, CorruptPiece, i);

    g_signal_emit (self, signals[SIGNAL_CORRUPT], 0, c->member, c->name,
        c->piece, c->excluded);
  }
}

/* Why @file, whose data begins now, cannot be held (transfer full), or
 * NULL. Called with the lock. */
static gchar *
over_flowing_limit (HangoutShareReceiver *self, PendingFile *file)
{
  guint flowing = 0, from_member = 0;

  for (GList *l = self->files.head; l != NULL; l = l->next) {
    PendingFile *other = l->data;

    if (!other->flowing)
      continue;
    flowing++;
    if (g_str_equal (other->member, file->member))
      from_member++;
  }
  if (flowing >= HANGOUT_SHARE_MAX_FLOWING_FILES)
    return g_strdup ("already receives 16 files");
  if (from_member >= HANGOUT_SHARE_MAX_FLOWING_PER_MEMBER)
    return g_strdup ("already receives 4 files from this member");
  return NULL;
}

/* Every second on the room's thread: files whose data stopped. */
static gboolean
check_stalls (gpointer data)
{
  HangoutShareReceiver *self = data;
  g_autoptr (GPtrArray) dropped = g_ptr_array_new ();
  g_autoptr (GPtrArray) replies = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (GPtrArray) members = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (GPtrArray) events = NULL;

  g_mutex_lock (&self->lock);
  events = hangout_transfer_receiver_expire (self->receiver,
      (gint64) self->stall_timeout * G_USEC_PER_SEC);
  for (guint i = 0; i < events->len; i++) {
    HangoutTransferEvent *event = g_ptr_array_index (events, i);
    g_autofree gchar *key = hangout_transfer_file_key (event->member, event->id);
    HangoutTransferEvent *drop;

    GST_INFO_OBJECT (self, "%s stalled: %s", key, event->error->message);
    g_ptr_array_add (members, g_strdup (event->member));
    g_ptr_array_add (replies, g_steal_pointer (&event->reply));
    if ((drop = file_failed (self, key, event)) != NULL)
      g_ptr_array_add (dropped, drop);
  }
  g_mutex_unlock (&self->lock);
  for (guint i = 0; i < replies->len; i++)
    hangout_room_send_reply (self->room, members->pdata[i],
        replies->pdata[i], NULL);
  for (guint i = 0; i < dropped->len; i++)
    emit_dropped (self, g_ptr_array_index (dropped, i));
  return G_SOURCE_CONTINUE;
}

/* Why an offer from @member is declined by our properties (static), or
 * NULL. Called with the lock. */
static const gchar *
declined_by_properties (HangoutShareReceiver *self, const gchar *member)
{
  g_autofree gchar *name = NULL;

  if (self->from != NULL) {
    name = hangout_room_dup_member_name (self->room, member);
    if (g_strcmp0 (name, self->from) != 0)
      return "not from the member this receiver listens to";
  }
  if (self->max_files > 0 && self->completed >= self->max_files)
    return "has all the files it wanted";
  return NULL;
}

/* An offer: our properties, then the first "offered" handler decide.
 * Called with the lock, which the handler does not get (it may call
 * back). */
static gchar *
ask_offered (HangoutShareReceiver *self, const HangoutTransferEvent *event)
{
  const gchar *declined = declined_by_properties (self, event->member);
  gchar *why = NULL;

  if (declined != NULL)
    return g_strdup (declined);
  g_mutex_unlock (&self->lock);
  g_signal_emit (self, signals[SIGNAL_OFFERED], 0, event->member,
      event->name, event->size, event->mime, &why);
  g_mutex_lock (&self->lock);
  return why;
}

/* What a handler of the room's signals does once it released the lock:
 * the messages it queued go out, then "dropped" for the files it dropped
 * (HangoutTransferEvent, consumed). */
static void
send_and_emit (HangoutShareReceiver *self, GPtrArray *out,
    GPtrArray *dropped)
{
  hangout_share_send_queued (self->room, out);
  for (guint i = 0; i < dropped->len; i++)
    emit_dropped (self, g_ptr_array_index (dropped, i));
}

/* ---- transfer version 2 (docs/protocol.md §4) ---- */

/* An event of @sf's file, with what every event of it carries. */
static void
swarm_event (SwarmFile *sf, HangoutTransferEventType type,
    HangoutTransferEvent *event)
{
  memset (event, 0, sizeof *event);
  event->type = type;
  event->member = g_strdup (sf->sharer);
  event->id = g_strdup (sf->id);
  event->name = g_strdup (sf->name);
  event->size = sf->size;
  event->offset = sf->output;
}

/* Where the swarm's messages go: its members but us. (transfer full) */
static GPtrArray *
swarm_peers (HangoutShareReceiver *self, SwarmFile *sf)
{
  g_autofree gchar *own = hangout_room_dup_id (self->room);
  GPtrArray *peers = g_ptr_array_new_with_free_func (g_free);

  for (guint i = 0; sf->swarm != NULL && sf->swarm[i] != NULL; i++)
    if (g_strcmp0 (sf->swarm[i], own) != 0
        && g_strcmp0 (sf->swarm[i], sf->sharer) != 0)
      g_ptr_array_add (peers, g_strdup (sf->swarm[i]));
  return peers;
}

/* The window's ranges as the wire's (transfer full). */
static GArray *
wire_ranges (GArray *pieces)
{
  GArray *ranges = hangout_transfer2_ranges_new ();

  for (guint i = 0; i < pieces->len; i++) {
    HangoutPieceRange *r = &g_array_index (pieces, HangoutPieceRange, i);

    hangout_transfer2_ranges_add (ranges, r->first, r->count);
  }
  return ranges;
}

/* Asks the sharer for @pieces (none: nothing). Called with the lock. */
static void
swarm_request (SwarmFile *sf, GArray *pieces, GPtrArray *out)
{
  g_autoptr (GArray) ranges = NULL;

  if (pieces->len == 0)
    return;
  ranges = wire_ranges (pieces);
  GST_DEBUG ("%s: requesting %u ranges of pieces from %s", sf->name,
      ranges->len, sf->sharer);
  hangout_share_queue (out, sf->sharer, hangout_transfer2_build_request
      (sf->id, ranges), NULL);
}

/* Sends `have` to the sharer and the swarm when one is due (or @force).
 * Called with the lock. */
static void
swarm_announce (HangoutShareReceiver *self, SwarmFile *sf, gboolean force,
    GPtrArray *out)
{
  g_autoptr (GArray) held = NULL;
  g_autoptr (GArray) ranges = NULL;
  g_autoptr (GPtrArray) peers = NULL;
  g_autofree gchar *have = NULL;
  guint64 next;

  if (!force && !hangout_piece_window_have_due (sf->window))
    return;
  held = hangout_piece_window_build_have (sf->window, &next);
  ranges = wire_ranges (held);
  have = hangout_transfer2_build_have (sf->id, next, ranges);
  hangout_share_queue (out, sf->sharer, g_strdup (have), NULL);
  peers = swarm_peers (self, sf);
  for (guint i = 0; i < peers->len; i++)
    hangout_share_queue (out, peers->pdata[i], g_strdup (have), NULL);
}

/* @sf's file failed: the sharer is told (ack, ok false) and the file's
 * FAILED event queued; returns the event to emit "dropped" with when it
 * was waiting (@sf is gone then), else NULL. Called with the lock. */
static HangoutTransferEvent *
swarm_fail (HangoutShareReceiver *self, SwarmFile *sf, GError *why,
    GPtrArray *out)
{
  HangoutTransferEvent event;
  guint8 root[HANGOUT_MERKLE_HASH_SIZE];
  gchar hex[2 * HANGOUT_MERKLE_HASH_SIZE + 1];
  gboolean has_root = hangout_piece_window_get_root (sf->window, root);

  if (sf->done) {
    g_error_free (why);
    return NULL;
  }
  sf->done = TRUE;
  GST_INFO_OBJECT (self, "%s from %s failed: %s", sf->name, sf->sharer,
      why->message);
  if (has_root)
    hangout_share_digest_to_hex (root, hex);
  hangout_share_queue (out, sf->sharer, hangout_transfer2_build_ack (sf->id,
          FALSE, has_root ? hex : NULL), NULL);
  swarm_event (sf, HANGOUT_TRANSFER_EVENT_FAILED, &event);
  event.error = why;
  return file_failed (self, sf->pending->key, &event);
}

/* Hands out @sf's verified pieces in order while its queue has room, then
 * announces, and ends the file once its window says so. Returns as
 * swarm_fail() does. Called with the lock. */
static HangoutTransferEvent *
swarm_pump (HangoutShareReceiver *self, SwarmFile *sf, GPtrArray *out)
{
  PendingFile *file = sf->pending;
  guint64 limit = SWARM_QUEUE > sf->piece_size ? SWARM_QUEUE - sf->piece_size
      : 1;
  GError *error = NULL;
  HangoutTransferEvent event;
  GBytes *piece;

  if (sf->done)
    return NULL;
  while (file->bytes < limit
      && (piece = hangout_piece_window_pop (sf->window)) != NULL) {
    gsize len = g_bytes_get_size (piece);

    hangout_sha256_thread_update (sf->sha256, piece, 0, len);
    swarm_event (sf, HANGOUT_TRANSFER_EVENT_DATA, &event);
    event.payload = piece;
    sf->output += len;
    push_event (self, file, &event);
  }
  switch (hangout_piece_window_get_state (sf->window, &error)) {
    case HANGOUT_PIECE_WINDOW_RECEIVING:
      swarm_announce (self, sf, FALSE, out);
      return NULL;
    case HANGOUT_PIECE_WINDOW_FAILED:
      return swarm_fail (self, sf, error, out);
    case HANGOUT_PIECE_WINDOW_COMPLETE:
      break;
  }
  {
    guint8 root[HANGOUT_MERKLE_HASH_SIZE];
    gchar hex[2 * HANGOUT_MERKLE_HASH_SIZE + 1];

    hangout_piece_window_get_root (sf->window, root);
    hangout_share_digest_to_hex (root, hex);
    swarm_announce (self, sf, TRUE, out);
    hangout_share_queue (out, sf->sharer, hangout_transfer2_build_ack (sf->id,
            TRUE, hex), NULL);
    sf->done = TRUE;
    swarm_event (sf, HANGOUT_TRANSFER_EVENT_COMPLETE, &event);
    event.size = sf->output;
    event.sha256 = g_strdup (hangout_sha256_thread_get_string (sf->sha256));
    GST_INFO_OBJECT (self, "%s from %s complete: %" G_GUINT64_FORMAT
        " bytes, root %s", sf->name, sf->sharer, sf->output, hex);
    push_event (self, file, &event);
  }
  return NULL;
}

/* TRUE while a channel to the swarm holds more than @pieces of @sf's
 * pieces that it has not handed to SCTP. Called with the lock. */
static gboolean
forwards_waiting (HangoutShareReceiver *self, SwarmFile *sf, guint pieces)
{
  g_autoptr (GPtrArray) peers = swarm_peers (self, sf);
  gboolean waiting = FALSE;

  for (guint i = 0; !waiting && i < peers->len; i++) {
    g_autoptr (HangoutDataChannel) channel = hangout_room_get_channel
        (self->room, peers->pdata[i]);

    waiting = channel != NULL && hangout_data_channel_get_buffered_amount
        (channel) > pieces * sf->piece_size;
  }
  return waiting;
}

/* Acts on what @sf's window said. Returns as swarm_fail() does (the
 * events after a failure are not looked at). Called with the lock. */
static HangoutTransferEvent *
swarm_events (HangoutShareReceiver *self, SwarmFile *sf, GArray *events,
    GPtrArray *out)
{
  gboolean forwarded = FALSE;

  for (guint i = 0; i < events->len; i++) {
    HangoutPieceEvent *ev = &g_array_index (events, HangoutPieceEvent, i);

    switch (ev->type) {
      case HANGOUT_PIECE_EVENT_VERIFIED:
        if (ev->forward != NULL) {
          g_autoptr (GPtrArray) peers = swarm_peers (self, sf);
          /* Built once: every peer is sent the same messages. */
          g_autoptr (GPtrArray) messages = hangout_share_piece_messages
              (sf->id, HANGOUT_TRANSFER2_ROLE_FORWARDED, ev->piece,
              ev->forward, sf->piece_size, sf->chunk_size);

          GST_LOG_OBJECT (self, "forwarding piece %" G_GUINT64_FORMAT
              " of %s to %u members", ev->piece, sf->name, peers->len);
          for (guint p = 0; p < peers->len; p++)
            hangout_share_queue (out, peers->pdata[p], NULL,
                g_ptr_array_ref (messages));
          forwarded = TRUE;
        }
        break;
      case HANGOUT_PIECE_EVENT_CORRUPT:{
        CorruptPiece corrupt = { g_strdup (ev->member), g_strdup (sf->name),
          ev->piece, ev->excluded
        };

        GST_WARNING_OBJECT (self, "piece %" G_GUINT64_FORMAT " of '%s' from "
            "%s failed verification%s", ev->piece, sf->name, ev->member,
            ev->excluded ? "; its data for the file are dropped from now on"
            : "");
        g_array_append_val (self->corrupt, corrupt);
        hangout_share_queue (out, sf->sharer, hangout_transfer2_build_corrupt
            (sf->id, ev->piece, ev->member), NULL);
        break;
      }
      case HANGOUT_PIECE_EVENT_DROPPED:
        GST_LOG_OBJECT (self, "%s: a message from %s dropped: %s", sf->id,
            ev->member, ev->reason);
        break;
      case HANGOUT_PIECE_EVENT_FAILED:
        return swarm_fail (self, sf, g_error_copy (ev->error), out);
    }
  }
  /* What we forward waits in our channels to the swarm: above two pieces
   * we stop taking more from the sharer (§4.5), so that our upload sets
   * how much it hands us. */
  if (forwarded && !sf->holding
      && forwards_waiting (self, sf, FORWARD_HOLD)) {
    sf->holding = TRUE;
    hangout_room_set_receiving (self->room, sf->sharer, FALSE);
  }
  return swarm_pump (self, sf, out);
}

static gboolean swarm_tick (gpointer data);

/* A version 2 offer from @member: taken (a new file, `accept`) or not
 * (`reject`, with the reason of docs/protocol.md §4.9). Called with the
 * lock, which it releases while "offered" runs. */
static void
swarm_offer (HangoutShareReceiver *self, const gchar *member,
    const HangoutTransfer2Control *c, GPtrArray *out)
{
  HangoutTransferEvent started = { 0 };
  g_autoptr (GError) error = NULL;
  g_autofree gchar *why = NULL;
  HangoutPieceWindow *window = NULL;
  PendingFile *file;
  SwarmFile *sf;

  /* Fewer at once than version 1's 16 per member (§4.9): each holds its
   * window. */
  if (c->unsupported != NULL)
    why = g_strdup (c->unsupported);
  else if (c->window > HANGOUT_SHARE_MAX_SWARM_WINDOW)
    why = g_strdup (HANGOUT_TRANSFER2_REASON_WINDOW);
  else if (g_hash_table_size (self->swarm_files)
      >= HANGOUT_SHARE_MAX_SWARM_FILES)
    why = g_strdup ("already receives 4 files of version 2");
  else if (g_hash_table_contains (self->swarm_files, c->id))
    why = g_strdup ("file id in use");
  else if (strlen (c->name) > HANGOUT_TRANSFER_MAX_NAME_BYTES)
    why = g_strdup ("name longer than 1024 bytes");
  else if (strlen (c->mime) > HANGOUT_TRANSFER_MAX_MIME_BYTES)
    why = g_strdup ("mime longer than 255 bytes");
  if (why == NULL) {
    started.type = HANGOUT_TRANSFER_EVENT_STARTED;
    started.member = g_strdup (member);
    started.id = g_strdup (c->id);
    started.name = g_strdup (c->name);
    started.mime = g_strdup (c->mime);
    started.size = c->size;
    why = ask_offered (self, &started);
  }
  /* "offered" ran without the lock: the id may be taken meanwhile. */
  if (why == NULL && g_hash_table_contains (self->swarm_files, c->id))
    why = g_strdup ("file id in use");
  if (why == NULL && (window = hangout_piece_window_new (c->size,
              c->piece_size, c->window, member, &error)) == NULL)
    why = g_strdup (error->message);
  if (why != NULL) {
    GST_INFO_OBJECT (self, "declining %s from %s: %s", c->name, member, why);
    hangout_share_queue (out, member, hangout_transfer_build_reject (c->id,
            why), NULL);
    hangout_transfer_event_clear (&started);
    return;
  }
  sf = g_new0 (SwarmFile, 1);
  sf->id = g_strdup (c->id);
  sf->sharer = g_strdup (member);
  sf->name = g_strdup (c->name);
  sf->size = c->size;
  sf->chunk_size = c->chunk_size;
  sf->piece_size = c->piece_size;
  sf->window = window;
  sf->sha256 = hangout_sha256_thread_new ();
  sf->last_heard = g_get_monotonic_time ();
  if (!g_queue_is_empty (&self->files))
    GST_INFO_OBJECT (self, "%s from %s waits for %u other files", c->name,
        member, g_queue_get_length (&self->files));
  file = g_new0 (PendingFile, 1);
  file->key = hangout_transfer_file_key (member, c->id);
  file->member = g_strdup (member);
  file->id = g_strdup (c->id);
  file->swarm = sf;
  sf->pending = file;
  g_queue_init (&file->events);
  g_hash_table_insert (self->by_key, file->key, file);
  g_hash_table_insert (self->swarm_files, sf->id, sf);
  g_queue_push_tail (&self->files, file);
  push_event (self, file, &started);
  if (self->swarm_tick == NULL) {
    self->swarm_tick = g_timeout_source_new (SWARM_TICK_MS);
    g_source_set_callback (self->swarm_tick, swarm_tick, self, NULL);
    g_source_attach (self->swarm_tick, hangout_room_get_context (self->room));
  }
  GST_INFO_OBJECT (self, "taking %s from %s in version 2 (pieces of %u "
      "bytes, window %u)", c->name, member, c->piece_size, c->window);
  hangout_share_queue (out, member, hangout_transfer2_build_accept (c->id),
      NULL);
  swarm_announce (self, sf, TRUE, out);
}

/* The sharer's file @id, if it is one we take and it is not over. */
static SwarmFile *
swarm_file_from (HangoutShareReceiver *self, const gchar *id,
    const gchar *sharer)
{
  SwarmFile *sf = g_hash_table_lookup (self->swarm_files, id);

  if (sf == NULL || sf->done
      || (sharer != NULL && !g_str_equal (sf->sharer, sharer)))
    return NULL;
  return sf;
}

/* The ids of the version 2 files, to go through while some may be
 * forgotten on the way (transfer full). Called with the lock. */
static GPtrArray *
swarm_file_ids (HangoutShareReceiver *self)
{
  GPtrArray *ids = g_ptr_array_new_with_free_func (g_free);
  GHashTableIter iter;
  gpointer key;

  g_hash_table_iter_init (&iter, self->swarm_files);
  while (g_hash_table_iter_next (&iter, &key, NULL))
    g_ptr_array_add (ids, g_strdup (key));
  return ids;
}

/* A version 2 control message. Returns as swarm_fail() does. Called with
 * the lock. */
static HangoutTransferEvent *
swarm_control (HangoutShareReceiver *self, const gchar *member,
    const HangoutTransfer2Control *c, GPtrArray *out)
{
  SwarmFile *sf;
  guint8 root[HANGOUT_MERKLE_HASH_SIZE];
  g_autoptr (GArray) events = NULL;

  switch (c->type) {
    case HANGOUT_TRANSFER2_OFFER:
      swarm_offer (self, member, c, out);
      return NULL;
    case HANGOUT_TRANSFER2_SWARM:
      if ((sf = swarm_file_from (self, c->id, member)) == NULL)
        break;
      g_strfreev (sf->swarm);
      sf->swarm = g_strdupv (c->members);
      swarm_announce (self, sf, TRUE, out);
      return NULL;
    case HANGOUT_TRANSFER2_END:
      if ((sf = swarm_file_from (self, c->id, member)) == NULL)
        break;
      if (!hangout_share_digest_from_hex (c->root, root))
        break;
      sf->last_heard = g_get_monotonic_time ();
      events = hangout_piece_window_end (sf->window, c->size, root,
          sf->last_heard);
      return swarm_events (self, sf, events, out);
    case HANGOUT_TRANSFER2_UNAVAILABLE:
      if ((sf = swarm_file_from (self, c->id, member)) == NULL)
        break;
      /* Only the sharer can vouch for the pieces (§4.7). */
      return swarm_fail (self, sf, g_error_new (HANGOUT_ERROR,
              HANGOUT_ERROR_INCOMPLETE, "the sharer no longer has pieces "
              "we lack"), out);
    default:
      break;
  }
  GST_DEBUG_OBJECT (self, "version 2 message of type %d from %s ignored",
      c->type, member);
  return NULL;
}

/* A version 2 binary message (piece data, piece hashes). Returns as
 * swarm_fail() does. Called with the lock. */
static HangoutTransferEvent *
swarm_binary (HangoutShareReceiver *self, const gchar *member,
    HangoutTransfer2BinaryKind kind, const guint8 *data, gsize len,
    GPtrArray *out)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GArray) events = NULL;
  HangoutTransfer2Piece piece;
  HangoutTransfer2Hashes hashes;
  SwarmFile *sf;
  gint64 now = g_get_monotonic_time ();

  if (kind == HANGOUT_TRANSFER2_BINARY_PIECE) {
    if (!hangout_transfer2_parse_piece (data, len, &piece, &error)) {
      GST_DEBUG_OBJECT (self, "piece data from %s dropped: %s", member,
          error->message);
      return NULL;
    }
    sf = swarm_file_from (self, piece.id, NULL);
    if (sf == NULL || len > sf->chunk_size) {
      GST_LOG_OBJECT (self, "piece data from %s for %s dropped: %s", member,
          piece.id, sf == NULL ? "not a file we take" : "over chunk-size");
      return NULL;
    }
    sf->last_heard = now;
    events = hangout_piece_window_data (sf->window, member,
        (HangoutPieceWindowRole) piece.role, piece.offset, piece.payload,
        piece.payload_len, now);
  } else {
    if (!hangout_transfer2_parse_hashes (data, len, &hashes, &error)) {
      GST_DEBUG_OBJECT (self, "piece hashes from %s dropped: %s", member,
          error->message);
      return NULL;
    }
    if ((sf = swarm_file_from (self, hashes.id, NULL)) == NULL)
      return NULL;
    sf->last_heard = now;
    events = hangout_piece_window_hashes (sf->window, member, hashes.first,
        hashes.count, hashes.hashes, now);
  }
  return swarm_events (self, sf, events, out);
}

/* The files of @member's `abort` (a version 1 form that serves version 2
 * files too): TRUE when it was about one of them. Called with the lock. */
static gboolean
swarm_abort (HangoutShareReceiver *self, const gchar *member,
    const gchar *text, gsize len, GPtrArray *out,
    HangoutTransferEvent **dropped)
{
  HangoutTransferControl control;
  SwarmFile *sf = NULL;

  if (!hangout_transfer_parse_control (text, len, &control, NULL))
    return FALSE;
  if (control.type == HANGOUT_TRANSFER_ABORT)
    sf = swarm_file_from (self, control.id, member);
  if (sf != NULL)
    *dropped = swarm_fail (self, sf, g_error_new (HANGOUT_ERROR,
            HANGOUT_ERROR_CLOSED, "the sender aborted: %s",
            control.reason), out);
  hangout_transfer_control_clear (&control);
  return sf != NULL;
}

/* Every SWARM_TICK_MS on the room's thread: forwarders read again once
 * their forwards drained, missing pieces are requested, stalled files
 * fail, queues that drained are refilled. */
static gboolean
swarm_tick (gpointer data)
{
  HangoutShareReceiver *self = data;
  g_autoptr (GPtrArray) out = hangout_share_outgoing_new ();
  g_autoptr (GPtrArray) dropped = g_ptr_array_new ();
  g_autoptr (GPtrArray) ids = NULL;
  gint64 now = g_get_monotonic_time ();

  g_mutex_lock (&self->lock);
  ids = swarm_file_ids (self);
  for (guint i = 0; i < ids->len; i++) {
    SwarmFile *sf = swarm_file_from (self, ids->pdata[i], NULL);
    g_autoptr (GArray) repairs = NULL;
    HangoutTransferEvent *drop;

    if (sf == NULL)
      continue;
    if (sf->holding && !forwards_waiting (self, sf, FORWARD_RESUME)) {
      sf->holding = FALSE;
      hangout_room_set_receiving (self->room, sf->sharer, TRUE);
    }
    repairs = hangout_piece_window_repair (sf->window, now);
    swarm_request (sf, repairs, out);
    /* Time we hold the sharer, or our own output is full, is not its
     * fault. */
    if (sf->holding || sf->pending->bytes + sf->piece_size >= SWARM_QUEUE)
      sf->last_heard = now;
    if (now - sf->last_heard > (gint64) self->stall_timeout * G_USEC_PER_SEC)
      drop = swarm_fail (self, sf, g_error_new (HANGOUT_ERROR,
              HANGOUT_ERROR_INCOMPLETE, "no data from the sender for %u s",
              self->stall_timeout), out);
    else
      drop = swarm_pump (self, sf, out);
    if (drop != NULL)
      g_ptr_array_add (dropped, drop);
  }
  g_mutex_unlock (&self->lock);
  send_and_emit (self, out, dropped);
  return G_SOURCE_CONTINUE;
}

/* ---- the room's signals (network thread) ---- */

/* A message of transfer version 2, or an abort of one of its files: TRUE
 * when @data was one (the rest is version 1's). */
static gboolean
handle_version2 (HangoutShareReceiver *self, const gchar *member,
    gboolean is_string, GBytes *data)
{
  g_autoptr (GPtrArray) out = hangout_share_outgoing_new ();
  HangoutTransferEvent *dropped = NULL;
  HangoutTransfer2BinaryKind kind;
  HangoutTransfer2Control control;
  gboolean handled = TRUE;
  gsize len;
  const guint8 *bytes = g_bytes_get_data (data, &len);

  if (!is_string) {
    kind = hangout_transfer2_binary_kind (bytes, len);
    if (kind != HANGOUT_TRANSFER2_BINARY_PIECE
        && kind != HANGOUT_TRANSFER2_BINARY_HASHES)
      return FALSE;
    g_mutex_lock (&self->lock);
    dropped = swarm_binary (self, member, kind, bytes, len, out);
    g_mutex_unlock (&self->lock);
  } else {
    /* Malformed ones are version 1's to log. */
    if (!hangout_transfer2_parse_control ((const gchar *) bytes, len,
            &control, NULL))
      return FALSE;
    g_mutex_lock (&self->lock);
    if (control.type == HANGOUT_TRANSFER2_VERSION1)
      handled = swarm_abort (self, member, (const gchar *) bytes, len, out,
          &dropped);
    else if (control.type == HANGOUT_TRANSFER2_UNKNOWN)
      handled = FALSE;
    else
      dropped = swarm_control (self, member, &control, out);
    g_mutex_unlock (&self->lock);
    hangout_transfer2_control_clear (&control);
  }
  hangout_share_send_queued (self->room, out);
  emit_dropped (self, dropped);
  emit_corrupt (self);
  return handled;
}

static void
on_message (HangoutRoom *room, const gchar *member, gboolean is_string,
    GBytes *data, HangoutShareReceiver *self)
{
  HangoutTransferEvent event;
  g_autoptr (GError) error = NULL;
  g_autofree gchar *reply = NULL;
  g_autofree gchar *key = NULL;
  g_autofree gchar *over = NULL;
  g_autofree gchar *why = NULL;
  HangoutTransferEvent *dropped = NULL;
  PendingFile *file;

  if (handle_version2 (self, member, is_string, data))
    return;
  g_mutex_lock (&self->lock);
  if (self->stall_check == NULL) {
    /* From the first message on: the transfer receiver also forgets
     * declined files there. */
    self->stall_check = g_timeout_source_new_seconds (1);
    g_source_set_callback (self->stall_check, check_stalls, self, NULL);
    g_source_attach (self->stall_check, hangout_room_get_context (room));
  }
  if (!hangout_transfer_receiver_handle (self->receiver, member, is_string,
          data, &event, &error)) {
    g_mutex_unlock (&self->lock);
    GST_WARNING_OBJECT (self, "ignoring a message from %s: %s", member,
        error->message);
    return;
  }
  reply = g_steal_pointer (&event.reply);
  key = event.id ? hangout_transfer_file_key (event.member, event.id) : NULL;

  switch (event.type) {
    case HANGOUT_TRANSFER_EVENT_STARTED:
      why = ask_offered (self, &event);
      if (why != NULL) {
        GST_INFO_OBJECT (self, "declining %s from %s: %s", event.name,
            member, why);
        reply = hangout_transfer_receiver_reject (self->receiver, member,
            event.id, why);
        hangout_transfer_event_clear (&event);
        break;
      }
      if (!g_queue_is_empty (&self->files))
        GST_INFO_OBJECT (self, "%s from %s waits for %u other files",
            event.name, member, g_queue_get_length (&self->files));
      file = g_new0 (PendingFile, 1);
      file->key = g_steal_pointer (&key);
      file->member = g_strdup (member);
      file->id = g_strdup (event.id);
      g_queue_init (&file->events);
      g_hash_table_insert (self->by_key, file->key, file);
      g_queue_push_tail (&self->files, file);
      push_event (self, file, &event);
      break;
    case HANGOUT_TRANSFER_EVENT_DATA:
    case HANGOUT_TRANSFER_EVENT_COMPLETE:
      file = key ? g_hash_table_lookup (self->by_key, key) : NULL;
      if (file != NULL && !file->flowing
          && (over = over_flowing_limit (self, file)) != NULL) {
        GST_INFO_OBJECT (self, "declining %s from %s: %s", key, member, over);
        reply = hangout_transfer_receiver_reject (self->receiver, member,
            event.id, over);
        g_queue_remove (&self->files, file);
        remove_file (self, file);
        file = NULL;
      }
      if (file != NULL)
        push_event (self, file, &event);
      hangout_transfer_event_clear (&event);
      break;
    case HANGOUT_TRANSFER_EVENT_FAILED:
      dropped = file_failed (self, key, &event);
      break;
    case HANGOUT_TRANSFER_EVENT_NONE:
      hangout_transfer_event_clear (&event);
      break;
  }
  g_mutex_unlock (&self->lock);

  emit_dropped (self, dropped);
  if (reply != NULL && !hangout_room_send_reply (room, member, reply,
          &error))
    GST_WARNING_OBJECT (self, "could not answer %s: %s", member,
        error->message);
}

static void
on_member_left (HangoutRoom *room, const gchar *member, const gchar *failure,
    HangoutShareReceiver *self)
{
  g_autoptr (GPtrArray) dropped = g_ptr_array_new ();
  g_autoptr (GPtrArray) events = NULL;

  g_autoptr (GPtrArray) out = hangout_share_outgoing_new ();
  g_autoptr (GPtrArray) ids = NULL;

  g_mutex_lock (&self->lock);
  ids = swarm_file_ids (self);
  for (guint i = 0; i < ids->len; i++) {
    SwarmFile *sf = swarm_file_from (self, ids->pdata[i], NULL);
    g_autoptr (GArray) requests = NULL;
    HangoutTransferEvent *drop = NULL;

    if (sf == NULL)
      continue;
    if (g_str_equal (sf->sharer, member)) {
      /* No one else can vouch for the pieces we lack (§4.5). Worded as
       * version 1 words it: the user sees the same error either way. */
      drop = swarm_fail (self, sf, failure != NULL
          ? g_error_new (HANGOUT_ERROR, HANGOUT_ERROR_INCOMPLETE,
              "the connection to the sender failed before the end of the "
              "file (%s)", failure)
          : g_error_new_literal (HANGOUT_ERROR, HANGOUT_ERROR_INCOMPLETE,
              "the sender left before the end of the file"), out);
    } else {
      requests = hangout_piece_window_member_left (sf->window, member,
          g_get_monotonic_time ());
      swarm_request (sf, requests, out);
    }
    if (drop != NULL)
      g_ptr_array_add (dropped, drop);
  }
  events = hangout_transfer_receiver_member_left (self->receiver, member,
      failure);
  for (guint i = 0; i < events->len; i++) {
    HangoutTransferEvent *event = g_ptr_array_index (events, i);
    g_autofree gchar *key = hangout_transfer_file_key (event->member, event->id);
    HangoutTransferEvent *drop = file_failed (self, key, event);

    if (drop != NULL)
      g_ptr_array_add (dropped, drop);
  }
  g_mutex_unlock (&self->lock);
  send_and_emit (self, out, dropped);
}

static void
on_room_id (HangoutRoom *room, GParamSpec *pspec, HangoutShareReceiver *self)
{
  g_autofree gchar *id = hangout_room_dup_id (room);

  g_mutex_lock (&self->lock);
  self->joined = id != NULL;
  g_cond_broadcast (&self->cond);
  g_mutex_unlock (&self->lock);
}

/* ---- the consuming thread ---- */

static void
on_cancelled (GCancellable *cancellable, HangoutShareReceiver *self)
{
  g_mutex_lock (&self->lock);
  g_cond_broadcast (&self->cond);
  g_mutex_unlock (&self->lock);
}

/* Waits for the next event of the file to hand out. Called with the lock. */
static PendingFile *
wait_for_event_locked (HangoutShareReceiver *self, GCancellable *cancellable,
    GError **error)
{
  PendingFile *file;

  while ((file = next_file (self)) == NULL
      || g_queue_is_empty (&file->events)) {
    if (g_cancellable_set_error_if_cancelled (cancellable, error))
      return NULL;
    if (self->joined || self->join_deadline == 0) {
      self->waiting = TRUE;
      self->waiting_for_files = g_queue_is_empty (&self->files);
      if (self->waiting_for_files)
        g_cond_wait (&self->cond, &self->lock);
      else
        g_cond_wait_until (&self->cond, &self->lock,
            g_get_monotonic_time () + WAKE_INTERVAL);
      self->waiting = self->waiting_for_files = FALSE;
    } else if (!g_cond_wait_until (&self->cond, &self->lock,
            self->join_deadline) && !self->joined
        && !g_cancellable_is_cancelled (cancellable)) {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT,
          "not joined within %u s", self->join_timeout);
      return NULL;
    }
  }
  return file;
}

HangoutTransferEvent *
hangout_share_receiver_next (HangoutShareReceiver *self,
    GCancellable *cancellable, guint *waiting, GError **error)
{
  HangoutTransferEvent *event = NULL;
  HangoutTransferEvent *dropped = NULL;
  g_autoptr (GPtrArray) out = hangout_share_outgoing_new ();
  gboolean all_done = FALSE;
  PendingFile *file;
  gulong watch = 0;

  g_mutex_lock (&self->lock);
  file = next_file (self);
  if ((file == NULL || g_queue_is_empty (&file->events)) && cancellable) {
    /* Only when it has to wait: connecting takes GCancellable's lock, and
     * its handler takes ours. */
    g_mutex_unlock (&self->lock);
    watch = g_cancellable_connect (cancellable, G_CALLBACK (on_cancelled),
        self, NULL);
    g_mutex_lock (&self->lock);
  }
  file = wait_for_event_locked (self, cancellable, error);
  if (file != NULL) {
    event = g_queue_pop_head (&file->events);
    if (event->payload != NULL) {
      file->bytes -= g_bytes_get_size (event->payload);
      if (file->bytes <= QUEUE_LOW)
        resume_sender (self, file);
      /* A version 2 file refills its queue from its window as it drains
       * (its window, not a pause, holds the sharer back). */
      if (file->swarm != NULL)
        dropped = swarm_pump (self, file->swarm, out);
    }
    if (event->type == HANGOUT_TRANSFER_EVENT_STARTED)
      self->current = file;
    /* Its last event: the next file whose data began is handed out next. */
    if (event->type == HANGOUT_TRANSFER_EVENT_COMPLETE
        || event->type == HANGOUT_TRANSFER_EVENT_FAILED) {
      g_queue_remove (&self->files, file);
      remove_file (self, file);
    }
    if (event->type == HANGOUT_TRANSFER_EVENT_COMPLETE)
      self->completed++;
    all_done = event->type == HANGOUT_TRANSFER_EVENT_COMPLETE
        && self->max_files > 0 && self->completed == self->max_files;
    if (waiting != NULL)
      *waiting = g_queue_get_length (&self->files);
  }
  g_mutex_unlock (&self->lock);
  hangout_share_send_queued (self->room, out);
  emit_dropped (self, dropped);
  /* The last file wanted: the others' senders stop waiting for us. */
  if (all_done)
    hangout_share_receiver_decline_all (self, "has all the files it wanted");
  if (watch != 0)
    g_cancellable_disconnect (cancellable, watch);
  return event;
}

guint
hangout_share_receiver_get_completed (HangoutShareReceiver *self)
{
  guint completed;

  g_mutex_lock (&self->lock);
  completed = self->completed;
  g_mutex_unlock (&self->lock);
  return completed;
}

gboolean
hangout_share_receiver_is_mid_file (HangoutShareReceiver *self)
{
  gboolean mid_file;

  g_mutex_lock (&self->lock);
  mid_file = self->current != NULL;
  g_mutex_unlock (&self->lock);
  return mid_file;
}

guint64
hangout_share_receiver_get_level (HangoutShareReceiver *self)
{
  guint64 level = 0;

  g_mutex_lock (&self->lock);
  for (GList *l = self->files.head; l != NULL; l = l->next)
    level += ((PendingFile *) l->data)->bytes;
  g_mutex_unlock (&self->lock);
  return level;
}

void
hangout_share_receiver_decline_all (HangoutShareReceiver *self,
    const gchar *reason)
{
  g_autoptr (GPtrArray) replies = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (GPtrArray) members = g_ptr_array_new_with_free_func (g_free);
  PendingFile *file;

  g_mutex_lock (&self->lock);
  while ((file = g_queue_pop_head (&self->files)) != NULL) {
    g_ptr_array_add (members, g_strdup (file->member));
    g_ptr_array_add (replies, file->swarm != NULL
        ? hangout_transfer_build_reject (file->id, reason)
        : hangout_transfer_receiver_reject (self->receiver, file->member,
            file->id, reason));
    remove_file (self, file);
  }
  g_mutex_unlock (&self->lock);
  for (guint i = 0; i < replies->len; i++)
    hangout_room_send_reply (self->room, members->pdata[i],
        replies->pdata[i], NULL);
}

HangoutShareReceiver *
hangout_share_receiver_new (HangoutRoom *room, guint join_timeout_s)
{
  g_return_val_if_fail (HANGOUT_IS_ROOM (room), NULL);
  return g_object_new (HANGOUT_TYPE_SHARE_RECEIVER, "room", room,
      "join-timeout", join_timeout_s, NULL);
}

/* ---- GObject ---- */

static void
hangout_share_receiver_constructed (GObject *object)
{
  HangoutShareReceiver *self = HANGOUT_SHARE_RECEIVER (object);

  G_OBJECT_CLASS (hangout_share_receiver_parent_class)->constructed (object);
  g_return_if_fail (self->room != NULL);
  if (self->join_timeout > 0)
    self->join_deadline = g_get_monotonic_time ()
        + (gint64) self->join_timeout * G_USEC_PER_SEC;
  /* It takes files of both versions (docs/protocol.md §4.1). */
  hangout_room_set_transfer_versions (self->room,
      HANGOUT_SHARE_TRANSFER_VERSIONS);
  /* Joining happens on the room's thread. */
  self->room_handlers[0] = g_signal_connect (self->room, "notify::id",
      G_CALLBACK (on_room_id), self);
  self->room_handlers[1] = g_signal_connect (self->room, "member-left",
      G_CALLBACK (on_member_left), self);
  self->room_handlers[2] = g_signal_connect (self->room, "message",
      G_CALLBACK (on_message), self);
}

static void
hangout_share_receiver_dispose (GObject *object)
{
  HangoutShareReceiver *self = HANGOUT_SHARE_RECEIVER (object);

  hangout_clear_source (&self->stall_check);
  hangout_clear_source (&self->swarm_tick);
  if (self->room != NULL) {
    for (guint i = 0; i < G_N_ELEMENTS (self->room_handlers); i++)
      g_clear_signal_handler (&self->room_handlers[i], self->room);
    g_clear_object (&self->room);
  }
  G_OBJECT_CLASS (hangout_share_receiver_parent_class)->dispose (object);
}

static void
hangout_share_receiver_finalize (GObject *object)
{
  HangoutShareReceiver *self = HANGOUT_SHARE_RECEIVER (object);

  g_queue_clear (&self->files);
  g_hash_table_unref (self->swarm_files);
  g_hash_table_unref (self->by_key);
  g_array_unref (self->corrupt);
  hangout_transfer_receiver_free (self->receiver);
  g_free (self->from);
  g_mutex_clear (&self->lock);
  g_cond_clear (&self->cond);
  G_OBJECT_CLASS (hangout_share_receiver_parent_class)->finalize (object);
}

static void
hangout_share_receiver_set_property (GObject *object, guint prop_id,
    const GValue *value, GParamSpec *pspec)
{
  HangoutShareReceiver *self = HANGOUT_SHARE_RECEIVER (object);

  g_mutex_lock (&self->lock);
  switch (prop_id) {
    case PROP_ROOM:
      self->room = g_value_dup_object (value);
      break;
    case PROP_JOIN_TIMEOUT:
      self->join_timeout = g_value_get_uint (value);
      break;
    case PROP_STALL_TIMEOUT:
      self->stall_timeout = g_value_get_uint (value);
      break;
    case PROP_FROM:
      g_free (self->from);
      self->from = g_value_dup_string (value);
      break;
    case PROP_MAX_FILES:
      self->max_files = g_value_get_uint (value);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
  g_mutex_unlock (&self->lock);
}

static void
hangout_share_receiver_get_property (GObject *object, guint prop_id,
    GValue *value, GParamSpec *pspec)
{
  HangoutShareReceiver *self = HANGOUT_SHARE_RECEIVER (object);

  g_mutex_lock (&self->lock);
  switch (prop_id) {
    case PROP_ROOM:
      g_value_set_object (value, self->room);
      break;
    case PROP_JOIN_TIMEOUT:
      g_value_set_uint (value, self->join_timeout);
      break;
    case PROP_STALL_TIMEOUT:
      g_value_set_uint (value, self->stall_timeout);
      break;
    case PROP_FROM:
      g_value_set_string (value, self->from);
      break;
    case PROP_MAX_FILES:
      g_value_set_uint (value, self->max_files);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
  g_mutex_unlock (&self->lock);
}

static void
hangout_share_receiver_init (HangoutShareReceiver *self)
{
  g_mutex_init (&self->lock);
  g_cond_init (&self->cond);
  self->stall_timeout = HANGOUT_TRANSFER_STALL_TIMEOUT_S;
  self->receiver = hangout_transfer_receiver_new ();
  g_queue_init (&self->files);
  self->by_key = g_hash_table_new_full (g_str_hash, g_str_equal, NULL,
      (GDestroyNotify) pending_file_free);
  self->swarm_files = g_hash_table_new (g_str_hash, g_str_equal);
  self->corrupt = corrupt_pieces_new ();
}

static void
hangout_share_receiver_class_init (HangoutShareReceiverClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  hangout_debug_init ();
  object_class->constructed = hangout_share_receiver_constructed;
  object_class->dispose = hangout_share_receiver_dispose;
  object_class->finalize = hangout_share_receiver_finalize;
  object_class->set_property = hangout_share_receiver_set_property;
  object_class->get_property = hangout_share_receiver_get_property;

  properties[PROP_ROOM] = g_param_spec_object ("room", "Room",
      "The room whose members' files are received", HANGOUT_TYPE_ROOM,
      G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS);
  properties[PROP_JOIN_TIMEOUT] = g_param_spec_uint ("join-timeout",
      "Join timeout", "Seconds next() waits for the room to join before "
      "failing (0: no limit)", 0, G_MAXUINT, 0,
      G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS);
  properties[PROP_STALL_TIMEOUT] = g_param_spec_uint ("stall-timeout",
      "Stall timeout", "Seconds a file's data may stop (while we read from "
      "its sender) before the file fails", 1, G_MAXUINT,
      HANGOUT_TRANSFER_STALL_TIMEOUT_S,
      G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS);
  properties[PROP_FROM] = g_param_spec_string ("from", "From",
      "Take files only from members with this display name (NULL: from "
      "anyone)", NULL, G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS);
  properties[PROP_MAX_FILES] = g_param_spec_uint ("max-files",
      "Maximum files", "Once this many files are handed out complete, "
      "decline the others (0: no limit)", 0, G_MAXUINT, 0,
      G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);

  signals[SIGNAL_OFFERED] = g_signal_new ("offered",
      G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0,
      g_signal_accumulator_first_wins, NULL, NULL, G_TYPE_STRING, 4,
      G_TYPE_STRING, G_TYPE_STRING, G_TYPE_INT64, G_TYPE_STRING);
  signals[SIGNAL_DROPPED] = g_signal_new ("dropped",
      G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
      G_TYPE_NONE, 3, G_TYPE_STRING, G_TYPE_STRING, G_TYPE_STRING);
  signals[SIGNAL_CORRUPT] = g_signal_new ("corrupt",
      G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
      G_TYPE_NONE, 4, G_TYPE_STRING, G_TYPE_STRING, G_TYPE_UINT64,
      G_TYPE_BOOLEAN);
}
