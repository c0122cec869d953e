/* gst-hangout — HangoutShareSender (share.h): files shared with a room.
 *
 * Threads: the sending thread blocks in wait/write/finish; the room's
 * signals and the channels' "buffered-amount-low" arrive on the network
 * thread. Everything they share lives under `lock`; `cond` is broadcast on
 * every change (a member connected or left, an answer arrived, a channel
 * drained, a cancellable was cancelled). Nothing is sent while `lock` is
 * held: a send may take the channel's locks, and the network thread takes
 * `lock` from handlers it runs while holding those.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#include "debug-private.h"
#include "share-private.h"
#include <hangout/merkle.h>
#include <hangout/piece-scheduler.h>
#include <hangout/piece-window.h>
#include <hangout/share.h>
#include <hangout/transfer2.h>

#define GST_CAT_DEFAULT hangout_debug_share

#define LOW_THRESHOLD (HANGOUT_SHARE_WINDOW / 2)
/* How often the wait for acks looks whether data still drains. */
#define BACKLOG_POLL_US G_USEC_PER_SEC
/* Honest receivers ask for what they miss after `end` once, and again
 * only after a retry time (3 s, piece-window.h) if a repair was lost. */
#define MAX_RESEND_RESTARTS 8
/* How long a version 2 offer may wait for its accept or reject (§4.3). */
#define ACCEPT_TIMEOUT_US (10 * G_USEC_PER_SEC)
/* How often a piece that cannot go yet looks again: a member's queue
 * drains as its SCTP acknowledges, which signals nothing. */
#define SCHEDULE_POLL_US (5 * G_TIME_SPAN_MILLISECOND)
/* How often members that joined late are sent more of what they lack:
 * their channel drains as SCTP acknowledges, which signals nothing. */
#define CATCH_UP_TICK_MS 10

typedef struct {
  HangoutDataChannel *channel;
  gulong handler;
} Recipient;

/* A version 2 member's answer to the offer. */
typedef enum {
  SWARM_OFFERED,                /* no answer yet */
  SWARM_ACCEPTED,               /* in the swarm (once it started) */
  SWARM_LATE,                   /* accepted after the pieces began: sent
                                 * what it lacks by us until it caught up */
  SWARM_OUT,                    /* rejected, left, or accepted too late */
} SwarmAnswer;

/* A member that accepted after the pieces began (docs/protocol.md §4.8):
 * we send it the pieces before the current ones ourselves, as `repair`,
 * in order and paced by its channel and its window. Once it is within
 * half a window of the pieces being made it joins the swarm, which
 * brings it every piece from then on, and we send it the rest of those
 * before; after the end, it is sent them all and the `end`. */
typedef struct {
  guint64 next_push;            /* the next piece we send it */
  guint64 next;                 /* its window's start, by its `have` */
  gboolean joined;              /* in the swarm, from piece joined_at on */
  guint64 joined_at;
  gboolean ended;               /* sent `end` */
} LateMember;

/* The version 2 part of the current file (docs/protocol.md §4): the
 * members offered it in version 2, the pieces and whom they go to. */
typedef struct {
  gsize piece_size;
  gsize window;
  guint chunk_size;
  GHashTable *answers;          /* member id → SwarmAnswer */
  gint64 offered_at;
  gboolean started;             /* the swarm was named: pieces flow */
  gboolean forwarding;          /* distribution swarm: pieces are handed
                                 * to forwarders; else all go direct */
  HangoutPieceScheduler *scheduler;
  HangoutMerkle *merkle;        /* the whole file's root, built from the
                                 * hashes of its pieces */
  GByteArray *piece;            /* the piece being filled */
  guint64 next_piece;           /* its index */
  /* The last window of pieces, piece i in slot i % n_recent: what a
   * `request` or a departed forwarder may need again. */
  GBytes **recent;
  guint n_recent;
  gchar root[2 * HANGOUT_MERKLE_HASH_SIZE + 1];  /* once finished */
  gboolean finished;
  guint64 resent;               /* pieces sent again: repairs, departures */
  /* A file that can be read at any offset (a known size): what members
   * that join late are offered and sent. */
  HangoutShareReadFunc read;
  gpointer read_data;
  gchar *name;
  gchar *mime;
  guint64 size;
  GHashTable *late;             /* member id → LateMember */
  gboolean closed;              /* finish() returned: no more late offers */
  guint64 caught_up;            /* pieces sent to late members */
} Swarm;

struct _HangoutShareSender {
  GObject parent;

  HangoutRoom *room;
  gchar *decline_reason;
  gulong room_handlers[3];

  GMutex lock;
  GCond cond;
  /* Properties, under the lock. */
  guint chunk_size;
  guint ack_timeout;
  guint min_acks;
  GHashTable *connected;        /* member ids with an open channel */
  HangoutTransferSender *file;  /* the current file, or NULL */
  GHashTable *recipients;       /* member id → Recipient */
  guint64 low_events;           /* "buffered-amount-low" count */
  guint answers_to_emit;        /* answers taken whose signal has not returned */
  HangoutShareDistribution distribution;
  guint linger;
  HangoutShareReadFunc read;    /* for the files begun from now on */
  gpointer read_data;
  Swarm *swarm;                 /* the current file's version 2 part, or NULL */
  GSource *catch_up;            /* while members that joined late lack
                                 * pieces */
};

enum {
  PROP_0,
  PROP_ROOM,
  PROP_CHUNK_SIZE,
  PROP_ACK_TIMEOUT,
  PROP_MIN_ACKS,
  PROP_DECLINE_REASON,
  PROP_DISTRIBUTION,
  PROP_LINGER,
  N_PROPS
};

enum {
  SIGNAL_ANSWER,
  SIGNAL_RECIPIENT_LEFT,
  N_SIGNALS
};

static GParamSpec *properties[N_PROPS];
static guint signals[N_SIGNALS];

G_DEFINE_FINAL_TYPE (HangoutShareSender, hangout_share_sender, G_TYPE_OBJECT)

G_DEFINE_ENUM_TYPE (HangoutShareDistribution, hangout_share_distribution,
    G_DEFINE_ENUM_VALUE (HANGOUT_SHARE_DISTRIBUTION_DIRECT, "direct"),
    G_DEFINE_ENUM_VALUE (HANGOUT_SHARE_DISTRIBUTION_SWARM, "swarm"))

static void
recipient_free (Recipient *recipient)
{
  g_signal_handler_disconnect (recipient->channel, recipient->handler);
  g_object_unref (recipient->channel);
  g_free (recipient);
}

/* ---- version 2: the swarm ---- */

static Swarm *
swarm_new (guint chunk_size)
{
  Swarm *swarm = g_new0 (Swarm, 1);

  swarm->piece_size = HANGOUT_TRANSFER2_DEFAULT_PIECE_SIZE;
  swarm->window = HANGOUT_TRANSFER2_DEFAULT_WINDOW;
  swarm->chunk_size = chunk_size;
  swarm->answers = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
      NULL);
  swarm->scheduler = hangout_piece_scheduler_new (swarm->piece_size,
      swarm->window);
  swarm->merkle = hangout_merkle_new (FALSE);
  swarm->piece = g_byte_array_sized_new (swarm->piece_size);
  swarm->n_recent = swarm->window / swarm->piece_size;
  swarm->recent = g_new0 (GBytes *, swarm->n_recent);
  swarm->late = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
      g_free);
  return swarm;
}

static void
swarm_free (Swarm *swarm)
{
  g_hash_table_unref (swarm->answers);
  hangout_piece_scheduler_free (swarm->scheduler);
  hangout_merkle_free (swarm->merkle);
  g_byte_array_unref (swarm->piece);
  for (guint i = 0; i < swarm->n_recent; i++)
    g_clear_pointer (&swarm->recent[i], g_bytes_unref);
  g_free (swarm->recent);
  g_hash_table_unref (swarm->late);
  g_free (swarm->name);
  g_free (swarm->mime);
  g_free (swarm);
}

/* TRUE for a member offered the current file in version 2: nothing of
 * version 1 goes to it. Called with the lock. */
static gboolean
is_swarm_member (HangoutShareSender *self, const gchar *member)
{
  return self->swarm != NULL
      && g_hash_table_contains (self->swarm->answers, member);
}

/* Piece @index if it is still among the recent ones, else NULL (transfer
 * none). Called with the lock. */
static GBytes *
recent_piece (Swarm *swarm, guint64 index)
{
  GBytes *piece;

  if (index >= swarm->next_piece
      || swarm->next_piece - index > swarm->n_recent)
    return NULL;
  piece = swarm->recent[index % swarm->n_recent];
  return piece;
}

/* Sends @text, or each of @messages, to each of @members. Called without
 * the lock. */
static void
send_to_members (HangoutShareSender *self, const gchar *const *members,
    const gchar *text, GPtrArray *messages)
{
  for (guint i = 0; members != NULL && members[i] != NULL; i++) {
    g_autoptr (GError) error = NULL;
    gboolean sent = TRUE;

    if (text != NULL)
      sent = hangout_room_send_string (self->room, members[i], text, &error);
    for (guint m = 0; sent && messages != NULL && m < messages->len; m++)
      sent = hangout_room_send (self->room, members[i],
          g_ptr_array_index (messages, m), &error);
    if (!sent)
      GST_DEBUG_OBJECT (self, "could not send to %s: %s", members[i],
          error->message);
  }
}

/* What @member still has to receive from us: queued above SCTP or not
 * acknowledged by its SCTP (the scheduler's queue). Called with the
 * lock. */
static guint64
member_queue (const gchar *member, gpointer data)
{
  HangoutShareSender *self = data;
  Recipient *recipient = g_hash_table_lookup (self->recipients, member);

  if (recipient == NULL)
    return G_MAXUINT64;
  return hangout_data_channel_get_buffered_amount (recipient->channel)
      + hangout_data_channel_get_unacknowledged (recipient->channel);
}

/* Whether every member of the swarm can take one more piece from us:
 * what is queued to it above SCTP is within the window (as version 1
 * paces its recipients), so a direct piece waits for the slowest and
 * memory stays bounded. Called with the lock. */
static gboolean
swarm_upload_spare (HangoutShareSender *self)
{
  g_auto (GStrv) members =
      hangout_piece_scheduler_list_members (self->swarm->scheduler);

  for (guint i = 0; members[i] != NULL; i++) {
    Recipient *recipient = g_hash_table_lookup (self->recipients, members[i]);

    if (recipient != NULL
        && hangout_data_channel_get_buffered_amount (recipient->channel)
        > HANGOUT_SHARE_WINDOW)
      return FALSE;
  }
  return TRUE;
}

/* Waits for every version 2 member's accept or reject (ACCEPT_TIMEOUT_US
 * after the offer at most; silence counts as a reject), then names the
 * swarm to it: from then on pieces flow. Sending thread. */
static gboolean
swarm_start (HangoutShareSender *self, GCancellable *cancellable,
    GError **error)
{
  Swarm *swarm = self->swarm;
  g_auto (GStrv) members = NULL;
  g_autofree gchar *text = NULL;
  GHashTableIter iter;
  gpointer key, value;
  gboolean waiting = TRUE;

  g_mutex_lock (&self->lock);
  while (waiting) {
    waiting = FALSE;
    g_hash_table_iter_init (&iter, swarm->answers);
    while (!waiting && g_hash_table_iter_next (&iter, NULL, &value))
      waiting = GPOINTER_TO_INT (value) == SWARM_OFFERED;
    if (g_cancellable_set_error_if_cancelled (cancellable, error)) {
      g_mutex_unlock (&self->lock);
      return FALSE;
    }
    if (waiting && !g_cond_wait_until (&self->cond, &self->lock,
            swarm->offered_at + ACCEPT_TIMEOUT_US))
      break;
  }
  g_hash_table_iter_init (&iter, swarm->answers);
  while (g_hash_table_iter_next (&iter, &key, &value)) {
    if (GPOINTER_TO_INT (value) == SWARM_ACCEPTED) {
      hangout_piece_scheduler_add_member (swarm->scheduler, key, 0);
    } else if (GPOINTER_TO_INT (value) == SWARM_OFFERED) {
      GST_INFO_OBJECT (self, "%s did not answer the offer within %d s: "
          "taken as a reject", (const gchar *) key,
          (int) (ACCEPT_TIMEOUT_US / G_USEC_PER_SEC));
      hangout_transfer_sender_set_answer (self->file, key,
          HANGOUT_TRANSFER_RECIPIENT_REJECTED);
      g_hash_table_iter_replace (&iter, GINT_TO_POINTER (SWARM_OUT));
    }
  }
  swarm->started = TRUE;
  members = hangout_piece_scheduler_list_members (swarm->scheduler);
  text = hangout_transfer2_build_swarm (hangout_transfer_sender_get_id
      (self->file), (const gchar * const *) members);
  GST_INFO_OBJECT (self, "swarm of %u members", g_strv_length (members));
  g_mutex_unlock (&self->lock);
  send_to_members (self, (const gchar * const *) members, text, NULL);
  return TRUE;
}

/* Piece @piece (the next one; its hash at @level) goes to the swarm: its
 * hash to everyone, then its data to the forwarder the scheduler picks,
 * or to everyone, once one can take it. Sending thread. */
static gboolean
swarm_send_piece (HangoutShareSender *self, GBytes *piece, guint level,
    GCancellable *cancellable, GError **error)
{
  Swarm *swarm = self->swarm;
  const gchar *id = hangout_transfer_sender_get_id (self->file);
  guint8 hash[HANGOUT_MERKLE_HASH_SIZE];
  g_autoptr (GPtrArray) hashes = g_ptr_array_new_with_free_func
      ((GDestroyNotify) g_bytes_unref);
  g_autoptr (GPtrArray) messages = NULL;
  g_auto (GStrv) members = NULL;
  g_autofree gchar *forwarder = NULL;
  HangoutPieceDecision decision;
  const gchar *chosen = NULL;
  guint64 index;
  gsize len;
  gconstpointer data = g_bytes_get_data (piece, &len);

  if (!swarm->started && !swarm_start (self, cancellable, error))
    return FALSE;
  hangout_merkle_hash_piece (level, data, len, hash);
  hangout_merkle_update_node (swarm->merkle, level, hash, len);
  g_mutex_lock (&self->lock);
  index = swarm->next_piece;
  for (;;) {
    if (g_cancellable_set_error_if_cancelled (cancellable, error)) {
      g_mutex_unlock (&self->lock);
      return FALSE;
    }
    /* Forwarding, the sharer keeps its upload for the forwarders. */
    decision = hangout_piece_scheduler_decide (swarm->scheduler, index,
        member_queue, self, !swarm->forwarding && swarm_upload_spare (self),
        &chosen);
    if (decision != HANGOUT_PIECE_WAIT)
      break;
    g_cond_wait_until (&self->cond, &self->lock,
        g_get_monotonic_time () + SCHEDULE_POLL_US);
  }
  forwarder = g_strdup (chosen);
  swarm->next_piece++;
  g_clear_pointer (&swarm->recent[index % swarm->n_recent], g_bytes_unref);
  swarm->recent[index % swarm->n_recent] = g_bytes_ref (piece);
  members = hangout_piece_scheduler_list_members (swarm->scheduler);
  g_mutex_unlock (&self->lock);

  g_ptr_array_add (hashes, hangout_transfer2_build_hashes (id, index, hash, 1,
          NULL, 0));
  send_to_members (self, (const gchar * const *) members, NULL, hashes);
  if (decision == HANGOUT_PIECE_ASSIGN) {
    const gchar *to[] = { forwarder, NULL };

    messages = hangout_share_piece_messages (id,
        HANGOUT_TRANSFER2_ROLE_ASSIGNED, index, piece, swarm->piece_size,
        swarm->chunk_size);
    send_to_members (self, to, NULL, messages);
  } else {
    messages = hangout_share_piece_messages (id,
        HANGOUT_TRANSFER2_ROLE_DIRECT, index, piece, swarm->piece_size,
        swarm->chunk_size);
    send_to_members (self, (const gchar * const *) members, NULL, messages);
  }
  return TRUE;
}

/* File bytes for the swarm: every whole piece goes. Sending thread. */
static gboolean
swarm_write (HangoutShareSender *self, const guint8 *data, gsize len,
    GCancellable *cancellable, GError **error)
{
  Swarm *swarm = self->swarm;
  /* A whole piece is at its own level in any file larger than one piece,
   * and in one of exactly one piece too. */
  guint level = hangout_merkle_piece_level (G_MAXINT64, swarm->piece_size);

  while (len > 0) {
    gsize take = MIN (len, swarm->piece_size - swarm->piece->len);

    g_byte_array_append (swarm->piece, data, take);
    data += take;
    len -= take;
    if (swarm->piece->len == swarm->piece_size) {
      g_autoptr (GBytes) piece = g_byte_array_free_to_bytes (swarm->piece);

      swarm->piece = g_byte_array_sized_new (swarm->piece_size);
      if (!swarm_send_piece (self, piece, level, cancellable, error))
        return FALSE;
    }
  }
  return TRUE;
}

/* The end of the file for the swarm: its last piece, then `end` with the
 * root. Sending thread. */
static gboolean
swarm_finish (HangoutShareSender *self, guint64 size,
    GCancellable *cancellable, GError **error)
{
  Swarm *swarm = self->swarm;
  guint8 root[HANGOUT_MERKLE_HASH_SIZE];
  g_auto (GStrv) members = NULL;
  g_autofree gchar *end = NULL;

  if (!swarm->started && !swarm_start (self, cancellable, error))
    return FALSE;
  if (swarm->piece->len > 0) {
    g_autoptr (GBytes) piece = g_byte_array_free_to_bytes (swarm->piece);

    swarm->piece = g_byte_array_new ();
    if (!swarm_send_piece (self, piece, hangout_merkle_piece_level (size,
                swarm->piece_size), cancellable, error))
      return FALSE;
  }
  hangout_merkle_finish (swarm->merkle, root);
  g_mutex_lock (&self->lock);
  hangout_share_digest_to_hex (root, swarm->root);
  swarm->finished = TRUE;
  members = hangout_piece_scheduler_list_members (swarm->scheduler);
  end = hangout_transfer2_build_end (hangout_transfer_sender_get_id
      (self->file), size, swarm->root);
  GST_INFO_OBJECT (self, "swarm: %" G_GUINT64_FORMAT " pieces, %"
      G_GUINT64_FORMAT " sent directly; root %s", swarm->next_piece,
      hangout_piece_scheduler_count_direct (swarm->scheduler), swarm->root);
  for (guint i = 0; members[i] != NULL; i++)
    GST_INFO_OBJECT (self, "swarm: %s was handed %" G_GUINT64_FORMAT
        " pieces", members[i], hangout_piece_scheduler_count_assigned
        (swarm->scheduler, members[i]));
  g_mutex_unlock (&self->lock);
  send_to_members (self, (const gchar * const *) members, end, NULL);
  return TRUE;
}

/* Pieces to send members again that only the file itself still holds,
 * each with its hash: what members that joined late lack, and what they
 * request. Filled with the lock, sent without it (reading may take
 * time). */
typedef struct {
  gchar *id;
  HangoutShareReadFunc read;
  gpointer read_data;
  gsize piece_size;
  guint64 size;
  guint chunk_size;
  GArray *pieces;               /* ReadPiece */
} ReadAgain;

typedef struct {
  gchar *member;
  guint64 index;
  GBytes *piece;                /* still among the recent ones, or NULL */
} ReadPiece;

static void
read_piece_clear (ReadPiece *piece)
{
  g_free (piece->member);
  g_clear_pointer (&piece->piece, g_bytes_unref);
}

/* Nothing to send yet, for the current file. Called with the lock. */
static void
read_again_init (ReadAgain *again, HangoutShareSender *self)
{
  Swarm *swarm = self->swarm;

  again->id = g_strdup (hangout_transfer_sender_get_id (self->file));
  again->read = swarm->read;
  again->read_data = swarm->read_data;
  again->piece_size = swarm->piece_size;
  again->size = swarm->size;
  again->chunk_size = swarm->chunk_size;
  again->pieces = g_array_new (FALSE, TRUE, sizeof (ReadPiece));
  g_array_set_clear_func (again->pieces, (GDestroyNotify) read_piece_clear);
}

static void
read_again_clear (ReadAgain *again)
{
  g_clear_pointer (&again->id, g_free);
  g_clear_pointer (&again->pieces, g_array_unref);
}

/* Piece @index for @member: @piece (a reference is taken) or, if NULL,
 * read from the file. */
static void
read_again_add (ReadAgain *again, const gchar *member, guint64 index,
    GBytes *piece)
{
  ReadPiece add = { g_strdup (member), index,
    piece ? g_bytes_ref (piece) : NULL
  };

  g_array_append_val (again->pieces, add);
}

static void late_fail (HangoutShareSender *self, const gchar *id,
    const gchar *member, const GError *error);
static void late_begin (HangoutShareSender *self, const gchar *member);

/* Sends each piece of @again, its hash first, as `repair`. A piece that
 * cannot be read fails the file for its member. Called without the
 * lock. */
static void
read_again_send (HangoutShareSender *self, ReadAgain *again)
{
  guint level;

  /* Nothing to read again, and @again may be unset: a version 2 message
   * after the file's swarm ended, or to a sharer that never had one. */
  if (again->pieces == NULL || again->pieces->len == 0)
    return;
  level = hangout_merkle_piece_level (again->size, again->piece_size);
  for (guint i = 0; i < again->pieces->len; i++) {
    ReadPiece *p = &g_array_index (again->pieces, ReadPiece, i);
    const gchar *to[] = { p->member, NULL };
    g_autoptr (GPtrArray) messages = g_ptr_array_new_with_free_func
        ((GDestroyNotify) g_bytes_unref);
    g_autoptr (GPtrArray) data = NULL;
    g_autoptr (GError) error = NULL;
    guint8 hash[HANGOUT_MERKLE_HASH_SIZE];
    gconstpointer bytes;
    gsize len;

    if (p->piece == NULL) {
      guint64 offset = p->index * again->piece_size;
      gsize size = MIN (again->piece_size, again->size - offset);
      guint8 *buffer = g_malloc (size);

      if (!again->read (offset, size, buffer, again->read_data, &error)) {
        g_free (buffer);
        late_fail (self, again->id, p->member, error);
        continue;
      }
      p->piece = g_bytes_new_take (buffer, size);
    }
    bytes = g_bytes_get_data (p->piece, &len);
    hangout_merkle_hash_piece (level, bytes, len, hash);
    g_ptr_array_add (messages, hangout_transfer2_build_hashes (again->id,
            p->index, hash, 1, NULL, 0));
    data = hangout_share_piece_messages (again->id,
        HANGOUT_TRANSFER2_ROLE_REPAIR, p->index, p->piece, again->piece_size,
        again->chunk_size);
    g_ptr_array_extend_and_steal (messages, g_steal_pointer (&data));
    send_to_members (self, to, NULL, messages);
  }
}

/* @member's `request`: the pieces we still hold go as `repair`, those
 * we can read again are added to @again, the others are `unavailable`.
 * Called with the lock. */
static void
swarm_request (HangoutShareSender *self, const gchar *member,
    const HangoutTransfer2Control *control, GPtrArray *out, ReadAgain *again)
{
  Swarm *swarm = self->swarm;
  const gchar *id = hangout_transfer_sender_get_id (self->file);
  g_autoptr (GArray) unavailable = hangout_transfer2_ranges_new ();
  guint64 asked = 0;

  for (guint r = 0; r < control->pieces->len; r++)
    asked += g_array_index (control->pieces, HangoutTransfer2Range, r).count;
  /* More than one window: not a receiver's repair (§4.7). */
  if (asked > swarm->n_recent) {
    GST_INFO_OBJECT (self, "%s requested %" G_GUINT64_FORMAT " pieces, more "
        "than a window: ignored", member, asked);
    return;
  }
  for (guint r = 0; r < control->pieces->len; r++) {
    HangoutTransfer2Range range = g_array_index (control->pieces,
        HangoutTransfer2Range, r);

    for (guint64 i = range.first; i < range.first + range.count; i++) {
      GBytes *piece = recent_piece (swarm, i);
      const gchar *silent;

      /* After the end every receiver asks for whatever is still on its
       * way, from honest forwarders too; and nothing is left to hand
       * out. */
      if (!swarm->finished
          && hangout_piece_scheduler_report_missed (swarm->scheduler, i,
              member, &silent))
        GST_WARNING_OBJECT (self, "%s did not forward half the pieces "
            "handed to it or more (the others asked us for them): no more "
            "pieces are handed to it", silent);

      if (piece == NULL && swarm->read != NULL && i < swarm->next_piece) {
        read_again_add (again, member, i, NULL);
        swarm->resent++;
      } else if (piece == NULL)
        hangout_transfer2_ranges_add (unavailable, i, 1);
      else {
        hangout_share_queue (out, member, NULL,
            hangout_share_piece_messages (id, HANGOUT_TRANSFER2_ROLE_REPAIR,
                i, piece, swarm->piece_size, swarm->chunk_size));
        swarm->resent++;
      }
    }
  }
  GST_DEBUG_OBJECT (self, "%s requested %" G_GUINT64_FORMAT " pieces, %u "
      "ranges unavailable", member, asked, unavailable->len);
  if (unavailable->len > 0)
    hangout_share_queue (out, member, hangout_transfer2_build_unavailable (id,
            unavailable), NULL);
}

/* A version 2 member's ack: whole and verified, with our root, or not.
 * Returns the state to announce, or PENDING when it was not an answer to
 * take. Called with the lock. */
static HangoutTransferRecipientState
swarm_ack (HangoutShareSender *self, const gchar *member,
    const HangoutTransfer2Control *control)
{
  HangoutTransferRecipientState state;

  if (!self->swarm->finished)
    return HANGOUT_TRANSFER_RECIPIENT_PENDING;
  state = control->ok && g_strcmp0 (control->root, self->swarm->root) == 0
      ? HANGOUT_TRANSFER_RECIPIENT_OK : HANGOUT_TRANSFER_RECIPIENT_FAILED;
  if (!hangout_transfer_sender_set_answer (self->file, member, state))
    return HANGOUT_TRANSFER_RECIPIENT_PENDING;
  return state;
}

/* A version 2 control message from @member about the current file.
 * Returns the answer state to emit (OK, FAILED), else PENDING. Called
 * with the lock. */
static HangoutTransferRecipientState
swarm_handle (HangoutShareSender *self, const gchar *member,
    const HangoutTransfer2Control *control, GPtrArray *out, ReadAgain *again)
{
  Swarm *swarm = self->swarm;
  LateMember *late;
  gpointer answer;

  if (swarm == NULL || g_strcmp0 (control->id,
          hangout_transfer_sender_get_id (self->file)) != 0
      || !g_hash_table_lookup_extended (swarm->answers, member, NULL,
          &answer)) {
    GST_DEBUG_OBJECT (self, "version 2 message from %s not about a file it "
        "was offered: ignored", member);
    return HANGOUT_TRANSFER_RECIPIENT_PENDING;
  }
  switch (control->type) {
    case HANGOUT_TRANSFER2_ACCEPT:
      if (GPOINTER_TO_INT (answer) != SWARM_OFFERED)
        break;
      if (!swarm->started) {
        g_hash_table_insert (swarm->answers, g_strdup (member),
            GINT_TO_POINTER (SWARM_ACCEPTED));
        break;
      }
      if (swarm->read != NULL) {
        late_begin (self, member);
        break;
      }
      /* Its window would begin at piece 0, long gone. */
      GST_INFO_OBJECT (self, "%s accepted after the file began: aborted "
          "for it", member);
      g_hash_table_insert (swarm->answers, g_strdup (member),
          GINT_TO_POINTER (SWARM_OUT));
      hangout_transfer_sender_set_answer (self->file, member,
          HANGOUT_TRANSFER_RECIPIENT_REJECTED);
      hangout_share_queue (out, member, hangout_transfer_build_abort (control->id,
              "accepted after the file began"), NULL);
      break;
    case HANGOUT_TRANSFER2_HAVE:
      if ((late = g_hash_table_lookup (swarm->late, member)) != NULL)
        late->next = MAX (late->next, control->next);
      /* A late member that joined the swarm is in both. */
      hangout_piece_scheduler_set_next (swarm->scheduler, member,
          control->next);
      break;
    case HANGOUT_TRANSFER2_REQUEST:
      if (GPOINTER_TO_INT (answer) == SWARM_ACCEPTED
          || GPOINTER_TO_INT (answer) == SWARM_LATE)
        swarm_request (self, member, control, out, again);
      break;
    case HANGOUT_TRANSFER2_CORRUPT:
      if (hangout_piece_scheduler_report_corrupt (swarm->scheduler,
              control->from, control->piece))
        GST_WARNING_OBJECT (self, "%s sent corrupt pieces %d times (as %s "
            "says): no more pieces are handed to it",
            control->from, HANGOUT_PIECE_SCHEDULER_MAX_CORRUPT, member);
      break;
    case HANGOUT_TRANSFER2_ACK:
      return swarm_ack (self, member, control);
    default:
      GST_DEBUG_OBJECT (self, "version 2 message of type %d from %s: not "
          "for a sharer", control->type, member);
      break;
  }
  g_cond_broadcast (&self->cond);
  return HANGOUT_TRANSFER_RECIPIENT_PENDING;
}

/* @member, offered the file in version 2, left or rejected it: out of
 * the swarm; the pieces it may not have forwarded go to the others
 * directly, and they learn the new swarm. Called with the lock. */
static void
swarm_member_gone (HangoutShareSender *self, const gchar *member,
    GPtrArray *out)
{
  Swarm *swarm = self->swarm;
  const gchar *id = hangout_transfer_sender_get_id (self->file);
  g_autoptr (GArray) lost = NULL;
  g_auto (GStrv) members = NULL;
  g_autofree gchar *text = NULL;
  gboolean in_swarm;

  if (!is_swarm_member (self, member))
    return;
  g_hash_table_insert (swarm->answers, g_strdup (member),
      GINT_TO_POINTER (SWARM_OUT));
  g_hash_table_remove (swarm->late, member);
  members = hangout_piece_scheduler_list_members (swarm->scheduler);
  in_swarm = g_strv_contains ((const gchar * const *) members, member);
  g_clear_pointer (&members, g_strfreev);
  lost = hangout_piece_scheduler_remove_member (swarm->scheduler, member);
  g_cond_broadcast (&self->cond);
  if (!in_swarm)
    return;
  members = hangout_piece_scheduler_list_members (swarm->scheduler);
  GST_INFO_OBJECT (self, "%s left the swarm: %u pieces it may not have "
      "forwarded go directly", member, lost->len);
  text = hangout_transfer2_build_swarm (id, (const gchar * const *) members);
  for (guint m = 0; members[m] != NULL; m++)
    hangout_share_queue (out, members[m], g_strdup (text), NULL);
  for (guint i = 0; i < lost->len; i++) {
    guint64 index = g_array_index (lost, guint64, i);
    GBytes *piece = recent_piece (swarm, index);
    g_autoptr (GPtrArray) messages = NULL;

    if (piece == NULL)
      continue;
    /* Built once: every member is sent the same messages. */
    messages = hangout_share_piece_messages (id,
        HANGOUT_TRANSFER2_ROLE_DIRECT, index, piece, swarm->piece_size,
        swarm->chunk_size);
    for (guint m = 0; members[m] != NULL; m++) {
      hangout_share_queue (out, members[m], NULL, g_ptr_array_ref (messages));
      swarm->resent++;
    }
  }
}

/* ---- version 2: members that join late (§4.8) ---- */

static gboolean add_recipient (HangoutShareSender *self,
    HangoutTransferSender *file, const gchar *member, guint chunk_size);
static gboolean catch_up_tick (gpointer data);

/* @member connected while a file we can read at any offset is shared:
 * it is offered the file in version 2, with its root once we know it.
 * Called with the lock. */
static void
late_offer (HangoutShareSender *self, const gchar *member, GPtrArray *out)
{
  Swarm *swarm = self->swarm;

  if (swarm == NULL || swarm->read == NULL || swarm->closed
      || g_hash_table_contains (swarm->answers, member)
      || !(hangout_room_get_member_transfer_versions (self->room, member)
          & HANGOUT_ROOM_TRANSFER_V (2))
      || !add_recipient (self, self->file, member, swarm->chunk_size))
    return;
  g_hash_table_insert (swarm->answers, g_strdup (member),
      GINT_TO_POINTER (SWARM_OFFERED));
  GST_INFO_OBJECT (self, "%s joined while %s is shared: offered it",
      member, swarm->name);
  hangout_share_queue (out, member, hangout_transfer2_build_offer
      (hangout_transfer_sender_get_id (self->file), swarm->name,
          (gint64) swarm->size, swarm->mime, swarm->chunk_size,
          swarm->piece_size, swarm->window,
          swarm->finished ? swarm->root : NULL), NULL);
}

/* @member accepted after the pieces began: we send it what it lacks.
 * Called with the lock. */
static void
late_begin (HangoutShareSender *self, const gchar *member)
{
  GST_INFO_OBJECT (self, "%s accepted after the file began: sending it "
      "the %" G_GUINT64_FORMAT " pieces before the current one", member,
      self->swarm->next_piece);
  g_hash_table_insert (self->swarm->answers, g_strdup (member),
      GINT_TO_POINTER (SWARM_LATE));
  g_hash_table_insert (self->swarm->late, g_strdup (member),
      g_new0 (LateMember, 1));
  if (self->catch_up == NULL) {
    self->catch_up = g_timeout_source_new (CATCH_UP_TICK_MS);
    g_source_set_callback (self->catch_up, catch_up_tick, self, NULL);
    g_source_attach (self->catch_up, hangout_room_get_context (self->room));
  }
}

/* The file @id could not be read for @member: it fails for it. Called
 * without the lock. */
static void
late_fail (HangoutShareSender *self, const gchar *id, const gchar *member,
    const GError *error)
{
  g_autofree gchar *abort = hangout_transfer_build_abort (id,
      "the file can no longer be read");

  GST_WARNING_OBJECT (self, "cannot read the file again for %s: %s", member,
      error->message);
  g_mutex_lock (&self->lock);
  if (self->swarm != NULL
      && g_strcmp0 (hangout_transfer_sender_get_id (self->file), id) == 0
      && g_hash_table_contains (self->swarm->answers, member)) {
    g_hash_table_insert (self->swarm->answers, g_strdup (member),
        GINT_TO_POINTER (SWARM_OUT));
    g_hash_table_remove (self->swarm->late, member);
    hangout_transfer_sender_set_answer (self->file, member,
        HANGOUT_TRANSFER_RECIPIENT_FAILED);
    g_cond_broadcast (&self->cond);
  }
  g_mutex_unlock (&self->lock);
  if (!hangout_room_send_string (self->room, member, abort, NULL))
    GST_DEBUG_OBJECT (self, "could not send %s the abort", member);
}

/* Late member @member's next pieces, as many as its channel and its
 * window take, into @again. It joins the swarm once it is near the
 * pieces being made (*@joined), and is done once it was sent every piece
 * before (TRUE); after the end, once it was sent every piece, it is sent
 * the `end`. Called with the lock. */
static gboolean
late_push (HangoutShareSender *self, const gchar *member, LateMember *late,
    ReadAgain *again, GPtrArray *out, gboolean *joined)
{
  Swarm *swarm = self->swarm;
  Recipient *recipient = g_hash_table_lookup (self->recipients, member);
  guint64 until, queued;

  if (recipient == NULL)
    return FALSE;
  if (!late->joined && !swarm->finished
      && late->next_push + swarm->n_recent / 2 >= swarm->next_piece) {
    /* The pieces from now on reach it through the swarm (their hashes
     * from us): pieces are made under the lock, so none falls between.
     * Its window holds back the swarm until it has the ones before. */
    GST_INFO_OBJECT (self, "%s is %" G_GUINT64_FORMAT " pieces behind: it "
        "joins the swarm", member, swarm->next_piece - late->next_push);
    late->joined = TRUE;
    late->joined_at = swarm->next_piece;
    hangout_piece_scheduler_add_member (swarm->scheduler, member, late->next);
    g_hash_table_insert (swarm->answers, g_strdup (member),
        GINT_TO_POINTER (SWARM_ACCEPTED));
    *joined = TRUE;
  }
  until = late->joined ? late->joined_at : swarm->next_piece;
  queued = hangout_data_channel_get_buffered_amount (recipient->channel);
  while (late->next_push < until
      && late->next_push < late->next + swarm->n_recent
      && queued + swarm->piece_size <= HANGOUT_SHARE_WINDOW) {
    read_again_add (again, member, late->next_push,
        recent_piece (swarm, late->next_push));
    late->next_push++;
    swarm->caught_up++;
    queued += swarm->piece_size;
  }
  if (late->next_push < until)
    return FALSE;
  if (late->joined)
    return TRUE;
  if (swarm->finished && !late->ended) {
    late->ended = TRUE;
    hangout_share_queue (out, member, hangout_transfer2_build_end
        (hangout_transfer_sender_get_id (self->file), swarm->size,
            swarm->root), NULL);
  }
  return FALSE;
}

/* Every CATCH_UP_TICK_MS on the network thread while members that joined
 * late lack pieces: they are sent more. */
static gboolean
catch_up_tick (gpointer data)
{
  HangoutShareSender *self = data;
  g_autoptr (GPtrArray) out = hangout_share_outgoing_new ();
  ReadAgain again = { 0 };
  GHashTableIter iter;
  gpointer key, value;
  gboolean joined = FALSE;

  g_mutex_lock (&self->lock);
  if (self->swarm == NULL || g_hash_table_size (self->swarm->late) == 0) {
    g_clear_pointer (&self->catch_up, g_source_unref);
    g_mutex_unlock (&self->lock);
    return G_SOURCE_REMOVE;
  }
  read_again_init (&again, self);
  g_hash_table_iter_init (&iter, self->swarm->late);
  while (g_hash_table_iter_next (&iter, &key, &value))
    if (late_push (self, key, value, &again, out, &joined))
      g_hash_table_iter_remove (&iter);
  if (joined) {
    g_auto (GStrv) members =
        hangout_piece_scheduler_list_members (self->swarm->scheduler);
    g_autofree gchar *text = hangout_transfer2_build_swarm (again.id,
        (const gchar * const *) members);

    for (guint m = 0; members[m] != NULL; m++)
      hangout_share_queue (out, members[m], g_strdup (text), NULL);
  }
  if (again.pieces->len > 0 || joined)
    g_cond_broadcast (&self->cond);
  g_mutex_unlock (&self->lock);
  read_again_send (self, &again);
  hangout_share_send_queued (self->room, out);
  read_again_clear (&again);
  return G_SOURCE_CONTINUE;
}

/* ---- the room's signals (network thread) ---- */

static void
on_peer_connected (HangoutRoom *room, const gchar *member,
    HangoutShareSender *self)
{
  g_autoptr (GPtrArray) out = hangout_share_outgoing_new ();

  g_mutex_lock (&self->lock);
  g_hash_table_add (self->connected, g_strdup (member));
  if (self->file != NULL)
    late_offer (self, member, out);
  g_cond_broadcast (&self->cond);
  g_mutex_unlock (&self->lock);
  hangout_share_send_queued (self->room, out);
}

static void
on_member_left (HangoutRoom *room, const gchar *member, const gchar *failure,
    HangoutShareSender *self)
{
  gboolean mid_file;

  g_autoptr (GPtrArray) out = hangout_share_outgoing_new ();

  g_mutex_lock (&self->lock);
  g_hash_table_remove (self->connected, member);
  mid_file = self->file != NULL
      && hangout_transfer_sender_member_left (self->file, member);
  if (self->file != NULL)
    swarm_member_gone (self, member, out);
  g_cond_broadcast (&self->cond);
  g_mutex_unlock (&self->lock);
  hangout_share_send_queued (self->room, out);

  if (mid_file) {
    GST_INFO_OBJECT (self, "recipient %s left: %s", member,
        failure ? failure : "closed");
    g_signal_emit (self, signals[SIGNAL_RECIPIENT_LEFT], 0, member, failure);
  }
}

/* Emits "answer" for @member's answer, counted in answers_to_emit. */
static void
emit_answer (HangoutShareSender *self, const gchar *member,
    HangoutTransferRecipientState state, const gchar *sha256,
    const gchar *reason)
{
  GST_INFO_OBJECT (self, "%s answered: state %d", member, state);
  g_signal_emit (self, signals[SIGNAL_ANSWER], 0, member, (guint) state,
      sha256, reason);
  g_mutex_lock (&self->lock);
  self->answers_to_emit--;
  g_cond_broadcast (&self->cond);
  g_mutex_unlock (&self->lock);
}

static void
on_message_version2 (HangoutShareSender *self, const gchar *member,
    const HangoutTransfer2Control *control)
{
  g_autoptr (GPtrArray) out = hangout_share_outgoing_new ();
  HangoutTransferRecipientState state = HANGOUT_TRANSFER_RECIPIENT_PENDING;
  g_autofree gchar *sha256 = NULL;
  ReadAgain again = { 0 };

  if (control->type == HANGOUT_TRANSFER2_OFFER) {
    g_autofree gchar *reject = hangout_transfer_build_reject (control->id,
        self->decline_reason);

    hangout_room_send_reply (self->room, member, reject, NULL);
    return;
  }
  g_mutex_lock (&self->lock);
  if (self->swarm != NULL) {
    read_again_init (&again, self);
    state = swarm_handle (self, member, control, out, &again);
  }
  if (state != HANGOUT_TRANSFER_RECIPIENT_PENDING) {
    self->answers_to_emit++;
    /* Its root is ours: its bytes are ours, and so is their SHA-256. */
    if (state == HANGOUT_TRANSFER_RECIPIENT_OK)
      sha256 = g_strdup (hangout_transfer_sender_get_sha256 (self->file));
  }
  g_mutex_unlock (&self->lock);
  read_again_send (self, &again);
  read_again_clear (&again);
  hangout_share_send_queued (self->room, out);
  if (state != HANGOUT_TRANSFER_RECIPIENT_PENDING)
    emit_answer (self, member, state, sha256, NULL);
}

static void
on_message (HangoutRoom *room, const gchar *member, gboolean is_string,
    GBytes *data, HangoutShareSender *self)
{
  HangoutTransferControl control;
  HangoutTransfer2Control control2;
  g_autoptr (GPtrArray) out = hangout_share_outgoing_new ();
  HangoutTransferRecipientState state = HANGOUT_TRANSFER_RECIPIENT_PENDING;
  g_autoptr (GError) error = NULL;
  gboolean handled = FALSE;
  const gchar *text;
  gsize len;

  if (!is_string) {
    GST_DEBUG_OBJECT (self, "ignoring a data message from %s", member);
    return;
  }
  text = g_bytes_get_data (data, &len);
  if (!hangout_transfer2_parse_control (text, len, &control2, &error)) {
    GST_DEBUG_OBJECT (self, "bad message from %s: %s", member,
        error->message);
    return;
  }
  if (control2.type != HANGOUT_TRANSFER2_VERSION1) {
    on_message_version2 (self, member, &control2);
    hangout_transfer2_control_clear (&control2);
    return;
  }
  hangout_transfer2_control_clear (&control2);
  if (!hangout_transfer_parse_control (text, len, &control, &error)) {
    GST_WARNING_OBJECT (self, "bad message from %s: %s", member,
        error->message);
    return;
  }
  if (control.type == HANGOUT_TRANSFER_OFFER) {
    /* Say so at once, so that the offering member does not wait for an
     * acknowledgement from us until it times out. */
    g_autofree gchar *reject = hangout_transfer_build_reject (control.id,
        self->decline_reason);

    if (!hangout_room_send_reply (room, member, reject, &error))
      GST_DEBUG_OBJECT (self, "could not reject an offer from %s: %s",
          member, error->message);
    hangout_transfer_control_clear (&control);
    return;
  }
  if (control.type == HANGOUT_TRANSFER_ACK
      || control.type == HANGOUT_TRANSFER_REJECT) {
    g_mutex_lock (&self->lock);
    if (self->file != NULL)
      handled = hangout_transfer_sender_handle_answer (self->file, member,
          &control, &state, &error);
    if (handled && state == HANGOUT_TRANSFER_RECIPIENT_REJECTED)
      swarm_member_gone (self, member, out);
    /* finish() waits for what the handlers of this answer do, not only for
     * the answer. */
    if (handled)
      self->answers_to_emit++;
    g_mutex_unlock (&self->lock);
  }
  hangout_share_send_queued (self->room, out);
  if (!handled) {
    GST_DEBUG_OBJECT (self, "ignoring a message from %s: %s", member,
        error ? error->message : "not an answer to our file");
    hangout_transfer_control_clear (&control);
    return;
  }

  emit_answer (self, member, state, control.sha256, control.reason);
  hangout_transfer_control_clear (&control);
}

static void
on_buffered_amount_low (HangoutDataChannel *channel, HangoutShareSender *self)
{
  g_mutex_lock (&self->lock);
  self->low_events++;
  g_cond_broadcast (&self->cond);
  g_mutex_unlock (&self->lock);
}

/* ---- waiting (sending thread) ---- */

static void
on_cancelled (GCancellable *cancellable, HangoutShareSender *self)
{
  g_mutex_lock (&self->lock);
  g_cond_broadcast (&self->cond);
  g_mutex_unlock (&self->lock);
}

/* Connects @cancellable to the condition before a blocking call takes the
 * lock (its handler takes the lock). */
static gulong
watch_cancellable (HangoutShareSender *self, GCancellable *cancellable)
{
  return cancellable ? g_cancellable_connect (cancellable,
      G_CALLBACK (on_cancelled), self, NULL) : 0;
}

/* After the lock is released: the handler may be running. */
static void
unwatch_cancellable (GCancellable *cancellable, gulong handler)
{
  if (handler != 0)
    g_cancellable_disconnect (cancellable, handler);
}

/* Waits until @count members are connected. Called with the lock. */
static gboolean
wait_for_members_locked (HangoutShareSender *self, guint count,
    guint timeout_s, GCancellable *cancellable, GError **error)
{
  gint64 deadline = g_get_monotonic_time () + timeout_s * G_USEC_PER_SEC;

  while (g_hash_table_size (self->connected) < count) {
    if (g_cancellable_set_error_if_cancelled (cancellable, error))
      return FALSE;
    if (!g_cond_wait_until (&self->cond, &self->lock, deadline)
        && g_get_monotonic_time () >= deadline
        && g_hash_table_size (self->connected) < count) {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT,
          "only %u of %u members connected within %u s",
          g_hash_table_size (self->connected), count, timeout_s);
      return FALSE;
    }
  }
  return TRUE;
}

/* Waits while any pending recipient's channel holds more than the window.
 * Called with the lock. */
static gboolean
wait_for_window_locked (HangoutShareSender *self, GCancellable *cancellable,
    GError **error)
{
  for (;;) {
    GHashTableIter iter;
    gpointer key, value;
    gboolean full = FALSE;
    guint64 seen;

    if (g_cancellable_set_error_if_cancelled (cancellable, error))
      return FALSE;
    /* Read the counter before the amounts: a drain after this point bumps
     * it (under the lock, so only once we wait) and the wait returns. */
    seen = self->low_events;
    g_hash_table_iter_init (&iter, self->recipients);
    while (!full && g_hash_table_iter_next (&iter, &key, &value)) {
      Recipient *recipient = value;

      full = hangout_transfer_sender_get_state (self->file, key)
          == HANGOUT_TRANSFER_RECIPIENT_PENDING
          && hangout_data_channel_get_buffered_amount (recipient->channel)
          > HANGOUT_SHARE_WINDOW;
      if (full)
        GST_LOG_OBJECT (self, "waiting for %s: %" G_GSIZE_FORMAT " bytes "
            "queued to it, %" G_GSIZE_FORMAT " unacknowledged",
            (const gchar *) key,
            hangout_data_channel_get_buffered_amount (recipient->channel),
            (gsize) hangout_data_channel_get_unacknowledged
            (recipient->channel));
    }
    if (!full)
      return TRUE;
    while (seen == self->low_events
        && !g_cancellable_is_cancelled (cancellable))
      /* The bound only guards against a channel that closes without a
       * last "buffered-amount-low"; member-left wakes us too. */
      if (!g_cond_wait_until (&self->cond, &self->lock,
              g_get_monotonic_time () + G_USEC_PER_SEC))
        break;
  }
}

/* Bytes still on their way to the recipients that have not answered yet:
 * queued above SCTP or not acknowledged by the member's SCTP. Called with
 * the lock. */
static guint64
pending_backlog (HangoutShareSender *self)
{
  GHashTableIter iter;
  gpointer key, value;
  guint64 bytes = 0;

  g_hash_table_iter_init (&iter, self->recipients);
  while (g_hash_table_iter_next (&iter, &key, &value)) {
    Recipient *recipient = value;

    if (hangout_transfer_sender_get_state (self->file, key)
        == HANGOUT_TRANSFER_RECIPIENT_PENDING)
      bytes += hangout_data_channel_get_buffered_amount (recipient->channel)
          + hangout_data_channel_get_unacknowledged (recipient->channel);
  }
  return bytes;
}

/* Sends @text or @data to every recipient still expecting the file. Called
 * without the lock. */
static void
send_to_recipients (HangoutShareSender *self, const gchar *text, GBytes *data)
{
  g_auto (GStrv) members = NULL;

  g_mutex_lock (&self->lock);
  members = hangout_transfer_sender_list (self->file,
      HANGOUT_TRANSFER_RECIPIENT_PENDING);
  /* Version 2 members get the file through the swarm. */
  for (guint i = 0; members[i] != NULL; i++)
    if (is_swarm_member (self, members[i]))
      members[i][0] = '\0';
  g_mutex_unlock (&self->lock);

  for (guint i = 0; members[i] != NULL; i++) {
    g_autoptr (GError) error = NULL;
    gboolean sent;

    if (members[i][0] == '\0')
      continue;
    sent = text ? hangout_room_send_string (self->room, members[i], text,
        &error) : hangout_room_send (self->room, members[i], data, &error);

    /* A member that is going away fails here before "member-left" says
     * so. */
    if (!sent)
      GST_DEBUG_OBJECT (self, "could not send to %s: %s", members[i],
          error->message);
  }
}

/* Sends one data message once every recipient has room for it; the
 * caller watches @cancellable. */
static gboolean
send_data (HangoutShareSender *self, GBytes *message,
    GCancellable *cancellable, GError **error)
{
  gboolean ok;

  g_mutex_lock (&self->lock);
  ok = wait_for_window_locked (self, cancellable, error);
  g_mutex_unlock (&self->lock);
  if (ok)
    send_to_recipients (self, NULL, message);
  return ok;
}

/* Makes @member a recipient of @file, unless it has no channel or one
 * whose messages are smaller than @chunk_size. Called with the lock. */
static gboolean
add_recipient (HangoutShareSender *self, HangoutTransferSender *file,
    const gchar *member, guint chunk_size)
{
  HangoutDataChannel *channel = hangout_room_get_channel (self->room, member);
  Recipient *recipient;

  if (channel == NULL)
    return FALSE;
  if (hangout_data_channel_get_max_message_size (channel) < chunk_size) {
    GST_WARNING_OBJECT (self, "member %s accepts messages of at most %"
        G_GSIZE_FORMAT " bytes, less than chunk-size %u: not sent the file",
        member, hangout_data_channel_get_max_message_size (channel),
        chunk_size);
    g_object_unref (channel);
    return FALSE;
  }
  hangout_data_channel_set_buffered_amount_low_threshold (channel,
      LOW_THRESHOLD);
  recipient = g_new0 (Recipient, 1);
  recipient->channel = channel;
  recipient->handler = g_signal_connect (channel, "buffered-amount-low",
      G_CALLBACK (on_buffered_amount_low), self);
  g_hash_table_insert (self->recipients, g_strdup (member), recipient);
  hangout_transfer_sender_add_recipient (file, member);
  return TRUE;
}

/* ---- public ---- */

HangoutShareSender *
hangout_share_sender_new (HangoutRoom *room, const gchar *decline_reason)
{
  g_return_val_if_fail (HANGOUT_IS_ROOM (room), NULL);
  /* A NULL reason leaves the default. */
  return g_object_new (HANGOUT_TYPE_SHARE_SENDER, "room", room,
      decline_reason ? "decline-reason" : NULL, decline_reason, NULL);
}

HangoutRoom *
hangout_share_sender_get_room (HangoutShareSender *self)
{
  return self->room;
}

guint
hangout_share_sender_count_connected (HangoutShareSender *self)
{
  guint count;

  g_mutex_lock (&self->lock);
  count = g_hash_table_size (self->connected);
  g_mutex_unlock (&self->lock);
  return count;
}

gboolean
hangout_share_sender_wait_for_members (HangoutShareSender *self, guint count,
    guint timeout_s, GCancellable *cancellable, GError **error)
{
  gulong watch = watch_cancellable (self, cancellable);
  gboolean ok;

  g_mutex_lock (&self->lock);
  ok = wait_for_members_locked (self, count, timeout_s, cancellable, error);
  g_mutex_unlock (&self->lock);
  unwatch_cancellable (cancellable, watch);
  return ok;
}

gboolean
hangout_share_sender_begin (HangoutShareSender *self, const gchar *name,
    gint64 size, const gchar *mime, GError **error)
{
  g_autofree gchar *offer = NULL;
  g_autofree gchar *offer2 = NULL;
  g_autoptr (GPtrArray) swarm_members = g_ptr_array_new_with_free_func
      (g_free);
  HangoutTransferSender *file;
  GHashTableIter iter;
  gpointer key;
  guint chunk_size;
  gboolean version2, readable;

  g_mutex_lock (&self->lock);
  chunk_size = self->chunk_size;
  /* Version 2 whatever the distribution: its window (§4.6) is the flow
   * control that version 1 lacks, so a member slower than us (a page)
   * holds us back instead of queueing the file in its memory. */
  version2 = chunk_size >= HANGOUT_TRANSFER2_MIN_CHUNK_SIZE
      && chunk_size > HANGOUT_TRANSFER2_PIECE_HEADER_SIZE;
  if (self->file != NULL) {
    g_mutex_unlock (&self->lock);
    g_set_error (error, HANGOUT_ERROR, HANGOUT_ERROR_INVALID_STATE,
        "a file is being shared already");
    return FALSE;
  }
  g_mutex_unlock (&self->lock);
  file = hangout_transfer_sender_new (name, size, mime, chunk_size, error);
  if (file == NULL)
    return FALSE;

  g_mutex_lock (&self->lock);
  g_hash_table_iter_init (&iter, self->connected);
  while (g_hash_table_iter_next (&iter, &key, NULL))
    if (add_recipient (self, file, key, chunk_size) && version2
        && (hangout_room_get_member_transfer_versions (self->room, key)
            & HANGOUT_ROOM_TRANSFER_V (2)))
      g_ptr_array_add (swarm_members, g_strdup (key));
  self->file = file;
  offer = hangout_transfer_sender_build_offer (file);
  /* A file we can read again serves the members that join later. */
  readable = self->read != NULL && size >= 0;
  if (version2 && (swarm_members->len > 0 || readable)) {
    self->swarm = swarm_new (chunk_size);
    self->swarm->forwarding =
        self->distribution == HANGOUT_SHARE_DISTRIBUTION_SWARM;
    hangout_piece_scheduler_set_forwarding (self->swarm->scheduler,
        self->swarm->forwarding);
    self->swarm->offered_at = g_get_monotonic_time ();
    self->swarm->name = g_strdup (name);
    self->swarm->mime = g_strdup (mime ? mime : "application/octet-stream");
    self->swarm->size = MAX (size, 0);
    if (readable) {
      self->swarm->read = self->read;
      self->swarm->read_data = self->read_data;
    }
  }
  if (swarm_members->len > 0) {
    for (guint i = 0; i < swarm_members->len; i++)
      g_hash_table_insert (self->swarm->answers,
          g_strdup (swarm_members->pdata[i]), GINT_TO_POINTER (SWARM_OFFERED));
    offer2 = hangout_transfer2_build_offer (hangout_transfer_sender_get_id
        (file), name, size, mime ? mime : "application/octet-stream",
        chunk_size, self->swarm->piece_size, self->swarm->window, NULL);
  }
  GST_INFO_OBJECT (self, "offering %s (%" G_GINT64_FORMAT " bytes) to %u "
      "members, %u of them in version 2", name, size,
      g_hash_table_size (self->recipients), swarm_members->len);
  g_mutex_unlock (&self->lock);

  send_to_recipients (self, offer, NULL);
  g_ptr_array_add (swarm_members, NULL);
  send_to_members (self, (const gchar * const *) swarm_members->pdata,
      offer2, NULL);
  return TRUE;
}

void
hangout_share_sender_set_reader (HangoutShareSender *self,
    HangoutShareReadFunc read, gpointer user_data)
{
  g_mutex_lock (&self->lock);
  self->read = read;
  self->read_data = read ? user_data : NULL;
  g_mutex_unlock (&self->lock);
}

gboolean
hangout_share_sender_has_file (HangoutShareSender *self)
{
  gboolean has;

  g_mutex_lock (&self->lock);
  has = self->file != NULL;
  g_mutex_unlock (&self->lock);
  return has;
}

guint64
hangout_share_sender_get_offset (HangoutShareSender *self)
{
  guint64 offset;

  g_mutex_lock (&self->lock);
  offset = self->file ? hangout_transfer_sender_get_offset (self->file) : 0;
  g_mutex_unlock (&self->lock);
  return offset;
}

gboolean
hangout_share_sender_write (HangoutShareSender *self, const guint8 *data,
    gsize len, GCancellable *cancellable, GError **error)
{
  g_autoptr (GPtrArray) messages = NULL;
  g_autoptr (GError) local = NULL;
  gboolean ok = TRUE;
  gulong watch;

  g_return_val_if_fail (self->file != NULL, FALSE);
  /* The file is only replaced by this thread; its recipient table is what
   * the network thread touches, under the lock. */
  g_mutex_lock (&self->lock);
  messages = hangout_transfer_sender_write (self->file, data, len, &local);
  g_mutex_unlock (&self->lock);
  if (local != NULL) {
    g_propagate_error (error, g_steal_pointer (&local));
    return FALSE;
  }
  if (messages == NULL && self->swarm == NULL)
    return TRUE;
  /* Once per write, not per chunk: connecting takes GCancellable's lock. */
  watch = watch_cancellable (self, cancellable);
  for (guint i = 0; ok && messages != NULL && i < messages->len; i++)
    ok = send_data (self, g_ptr_array_index (messages, i), cancellable,
        error);
  if (ok && self->swarm != NULL)
    ok = swarm_write (self, data, len, cancellable, error);
  unwatch_cancellable (cancellable, watch);
  return ok;
}

static void
add_members (HangoutShareSender *self, GstStructure *summary,
    const gchar *field, HangoutTransferRecipientState state)
{
  g_auto (GStrv) members = hangout_transfer_sender_list (self->file, state);
  GValue array = G_VALUE_INIT;

  gst_value_array_init (&array, g_strv_length (members));
  for (guint i = 0; members[i] != NULL; i++) {
    GValue id = G_VALUE_INIT;

    g_value_init (&id, G_TYPE_STRING);
    g_value_set_string (&id, members[i]);
    gst_value_array_append_and_take_value (&array, &id);
  }
  gst_structure_take_value (summary, field, &array);
}

/* "swarm-excluded": the members handed no more pieces for sending corrupt
 * ones. Called with the lock. */
static void
add_excluded (HangoutShareSender *self, GstStructure *summary)
{
  GValue array = G_VALUE_INIT;
  GHashTableIter iter;
  gpointer key;

  gst_value_array_init (&array, 0);
  g_hash_table_iter_init (&iter, self->swarm->answers);
  while (g_hash_table_iter_next (&iter, &key, NULL)) {
    GValue id = G_VALUE_INIT;

    if (!hangout_piece_scheduler_is_excluded (self->swarm->scheduler, key))
      continue;
    g_value_init (&id, G_TYPE_STRING);
    g_value_set_string (&id, key);
    gst_value_array_append_and_take_value (&array, &id);
  }
  gst_structure_take_value (summary, "swarm-excluded", &array);
}

/* Who has the file and who does not, by member id. Called with the lock. */
static GstStructure *
build_summary (HangoutShareSender *self)
{
  GstStructure *summary = gst_structure_new ("hangout-summary",
      "id", G_TYPE_STRING, hangout_transfer_sender_get_id (self->file),
      "size", G_TYPE_UINT64, hangout_transfer_sender_get_offset (self->file),
      NULL);

  add_members (self, summary, "complete", HANGOUT_TRANSFER_RECIPIENT_OK);
  add_members (self, summary, "failed", HANGOUT_TRANSFER_RECIPIENT_FAILED);
  add_members (self, summary, "rejected", HANGOUT_TRANSFER_RECIPIENT_REJECTED);
  add_members (self, summary, "left", HANGOUT_TRANSFER_RECIPIENT_LEFT);
  add_members (self, summary, "no-answer", HANGOUT_TRANSFER_RECIPIENT_PENDING);
  if (self->swarm != NULL)
    add_excluded (self, summary);
  if (self->swarm != NULL)
    gst_structure_set (summary,
        "swarm-pieces", G_TYPE_UINT64, self->swarm->next_piece,
        "swarm-direct", G_TYPE_UINT64,
        hangout_piece_scheduler_count_direct (self->swarm->scheduler),
        "swarm-resent", G_TYPE_UINT64, self->swarm->resent,
        "swarm-caught-up", G_TYPE_UINT64, self->swarm->caught_up, NULL);
  return summary;
}

/* Pieces sent beyond the plan so far: to members that joined late, and
 * again to members that asked for them (a repair). Called with the
 * lock. */
static guint64
sent_beyond_plan (HangoutShareSender *self)
{
  return self->swarm != NULL
      ? self->swarm->caught_up + self->swarm->resent : 0;
}

/* Waits for every pending recipient's answer, the clock restarting
 * whenever the data still on its way to them drains (on a slow link, or
 * to a slow receiver, the end leaves long after it was queued) or a
 * member is sent pieces beyond the plan (it joined late, or asked for a
 * repair); and, until @linger_until (monotonic), for the members that
 * join meanwhile. A swarm's receivers ask for what they still miss only
 * once `end` is a second old (the least repair delay, protocol §4.7): the
 * clock starts after that second, or ack-timeout shorter than it would
 * cut them off before they asked. Pieces sent again restart it
 * MAX_RESEND_RESTARTS times at most: a member that asks for the same
 * pieces forever must not keep us here. Called with the lock. */
static gboolean
wait_for_answers_locked (HangoutShareSender *self, guint timeout_s,
    gint64 linger_until, GCancellable *cancellable, GError **error)
{
  gint64 wait = timeout_s * G_USEC_PER_SEC
      + (self->swarm != NULL ? HANGOUT_PIECE_WINDOW_REPAIR_DELAY_MIN_US : 0);
  guint64 backlog = pending_backlog (self);
  guint64 beyond = sent_beyond_plan (self);
  gint64 deadline = g_get_monotonic_time () + wait;
  guint resend_restarts = 0;

  for (;;) {
    gint64 now = g_get_monotonic_time ();
    guint64 current;

    if (g_cancellable_set_error_if_cancelled (cancellable, error))
      return FALSE;
    if (now >= linger_until && self->answers_to_emit == 0
        && (now >= deadline || hangout_transfer_sender_count (self->file,
                HANGOUT_TRANSFER_RECIPIENT_PENDING) == 0))
      break;
    g_cond_wait_until (&self->cond, &self->lock,
        MIN (MAX (deadline, linger_until), now + BACKLOG_POLL_US));
    current = pending_backlog (self);
    if (current < backlog)
      deadline = g_get_monotonic_time () + wait;
    else if (sent_beyond_plan (self) != beyond
        && resend_restarts < MAX_RESEND_RESTARTS) {
      resend_restarts++;
      deadline = g_get_monotonic_time () + wait;
    }
    backlog = current;
    beyond = sent_beyond_plan (self);
  }
  return TRUE;
}

gboolean
hangout_share_sender_finish (HangoutShareSender *self,
    GCancellable *cancellable, GstStructure **summary, GError **error)
{
  g_autoptr (GBytes) last = NULL;
  g_autofree gchar *end = NULL;
  GstStructure *result;
  gulong watch;
  guint ok, min_acks, timeout_s;
  gint64 linger_until = 0;
  gboolean answered;

  g_return_val_if_fail (self->file != NULL, FALSE);
  g_mutex_lock (&self->lock);
  end = hangout_transfer_sender_finish (self->file, &last, error);
  g_mutex_unlock (&self->lock);
  if (end == NULL)
    return FALSE;
  watch = watch_cancellable (self, cancellable);
  if ((last != NULL && !send_data (self, last, cancellable, error))
      || (self->swarm != NULL && !swarm_finish (self,
              hangout_transfer_sender_get_offset (self->file), cancellable,
              error))) {
    unwatch_cancellable (cancellable, watch);
    return FALSE;
  }
  send_to_recipients (self, end, NULL);

  g_mutex_lock (&self->lock);
  timeout_s = self->ack_timeout;
  min_acks = self->min_acks;
  if (self->swarm != NULL && self->swarm->read != NULL)
    linger_until = g_get_monotonic_time ()
        + (gint64) self->linger * G_USEC_PER_SEC;
  answered = wait_for_answers_locked (self, timeout_s, linger_until,
      cancellable, error);
  if (self->swarm != NULL)
    self->swarm->closed = TRUE;
  result = answered ? build_summary (self) : NULL;
  ok = hangout_transfer_sender_count (self->file,
      HANGOUT_TRANSFER_RECIPIENT_OK);
  g_mutex_unlock (&self->lock);
  unwatch_cancellable (cancellable, watch);
  if (!answered)
    return FALSE;

  GST_INFO_OBJECT (self, "file sent: %u members have it", ok);
  if (summary != NULL)
    *summary = result;
  else
    gst_structure_free (result);
  if (ok < min_acks) {
    g_set_error (error, HANGOUT_ERROR, HANGOUT_ERROR_INCOMPLETE,
        "only %u members have the whole file, %u needed (min-acks)", ok,
        min_acks);
    return FALSE;
  }
  return TRUE;
}

void
hangout_share_sender_end (HangoutShareSender *self)
{
  g_mutex_lock (&self->lock);
  g_hash_table_remove_all (self->recipients);
  g_clear_pointer (&self->swarm, swarm_free);
  g_clear_pointer (&self->file, hangout_transfer_sender_free);
  g_mutex_unlock (&self->lock);
}

static guint
count_members (const GstStructure *summary, const gchar *field)
{
  return gst_value_array_get_size (gst_structure_get_value (summary, field));
}

void
hangout_share_summary_count (const GstStructure *summary,
    HangoutShareCounts *counts)
{
  counts->complete = count_members (summary, "complete");
  counts->lost = count_members (summary, "failed")
      + count_members (summary, "left");
  counts->silent = count_members (summary, "no-answer");
}

/* ---- GObject ---- */

static void
hangout_share_sender_constructed (GObject *object)
{
  HangoutShareSender *self = HANGOUT_SHARE_SENDER (object);

  G_OBJECT_CLASS (hangout_share_sender_parent_class)->constructed (object);
  g_return_if_fail (self->room != NULL);
  self->room_handlers[0] = g_signal_connect (self->room, "peer-connected",
      G_CALLBACK (on_peer_connected), self);
  self->room_handlers[1] = g_signal_connect (self->room, "member-left",
      G_CALLBACK (on_member_left), self);
  self->room_handlers[2] = g_signal_connect (self->room, "message",
      G_CALLBACK (on_message), self);
}

static void
hangout_share_sender_dispose (GObject *object)
{
  HangoutShareSender *self = HANGOUT_SHARE_SENDER (object);

  if (self->room != NULL) {
    for (guint i = 0; i < G_N_ELEMENTS (self->room_handlers); i++)
      g_clear_signal_handler (&self->room_handlers[i], self->room);
    g_clear_object (&self->room);
  }
  hangout_share_sender_end (self);
  /* The room stopped: its thread no longer runs the tick. */
  if (self->catch_up != NULL) {
    g_source_destroy (self->catch_up);
    g_clear_pointer (&self->catch_up, g_source_unref);
  }
  G_OBJECT_CLASS (hangout_share_sender_parent_class)->dispose (object);
}

static void
hangout_share_sender_finalize (GObject *object)
{
  HangoutShareSender *self = HANGOUT_SHARE_SENDER (object);

  g_hash_table_unref (self->recipients);
  g_hash_table_unref (self->connected);
  g_free (self->decline_reason);
  g_mutex_clear (&self->lock);
  g_cond_clear (&self->cond);
  G_OBJECT_CLASS (hangout_share_sender_parent_class)->finalize (object);
}

static void
hangout_share_sender_set_property (GObject *object, guint prop_id,
    const GValue *value, GParamSpec *pspec)
{
  HangoutShareSender *self = HANGOUT_SHARE_SENDER (object);

  g_mutex_lock (&self->lock);
  switch (prop_id) {
    case PROP_ROOM:
      self->room = g_value_dup_object (value);
      break;
    case PROP_CHUNK_SIZE:
      self->chunk_size = g_value_get_uint (value);
      break;
    case PROP_ACK_TIMEOUT:
      self->ack_timeout = g_value_get_uint (value);
      break;
    case PROP_MIN_ACKS:
      self->min_acks = g_value_get_uint (value);
      break;
    case PROP_DECLINE_REASON:
      g_free (self->decline_reason);
      self->decline_reason = g_value_dup_string (value);
      break;
    case PROP_DISTRIBUTION:
      self->distribution = g_value_get_enum (value);
      break;
    case PROP_LINGER:
      self->linger = g_value_get_uint (value);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
  g_mutex_unlock (&self->lock);
}

static void
hangout_share_sender_get_property (GObject *object, guint prop_id,
    GValue *value, GParamSpec *pspec)
{
  HangoutShareSender *self = HANGOUT_SHARE_SENDER (object);

  g_mutex_lock (&self->lock);
  switch (prop_id) {
    case PROP_ROOM:
      g_value_set_object (value, self->room);
      break;
    case PROP_CHUNK_SIZE:
      g_value_set_uint (value, self->chunk_size);
      break;
    case PROP_ACK_TIMEOUT:
      g_value_set_uint (value, self->ack_timeout);
      break;
    case PROP_MIN_ACKS:
      g_value_set_uint (value, self->min_acks);
      break;
    case PROP_DECLINE_REASON:
      g_value_set_string (value, self->decline_reason);
      break;
    case PROP_DISTRIBUTION:
      g_value_set_enum (value, self->distribution);
      break;
    case PROP_LINGER:
      g_value_set_uint (value, self->linger);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
  g_mutex_unlock (&self->lock);
}

static void
hangout_share_sender_init (HangoutShareSender *self)
{
  g_mutex_init (&self->lock);
  g_cond_init (&self->cond);
  self->chunk_size = HANGOUT_TRANSFER_DEFAULT_CHUNK_SIZE;
  self->ack_timeout = HANGOUT_SHARE_DEFAULT_ACK_TIMEOUT;
  self->min_acks = HANGOUT_SHARE_DEFAULT_MIN_ACKS;
  self->connected = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
      NULL);
  self->recipients = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
      (GDestroyNotify) recipient_free);
}

static void
hangout_share_sender_class_init (HangoutShareSenderClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  hangout_debug_init ();
  object_class->constructed = hangout_share_sender_constructed;
  object_class->dispose = hangout_share_sender_dispose;
  object_class->finalize = hangout_share_sender_finalize;
  object_class->set_property = hangout_share_sender_set_property;
  object_class->get_property = hangout_share_sender_get_property;

  properties[PROP_ROOM] = g_param_spec_object ("room", "Room",
      "The room whose members the files are shared with", HANGOUT_TYPE_ROOM,
      G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS);
  properties[PROP_CHUNK_SIZE] = g_param_spec_uint ("chunk-size",
      "Chunk size", "Bytes per data message, header included (read when a "
      "file begins)", HANGOUT_TRANSFER_MIN_CHUNK_SIZE,
      HANGOUT_TRANSFER_MAX_CHUNK_SIZE, HANGOUT_TRANSFER_DEFAULT_CHUNK_SIZE,
      G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS);
  properties[PROP_ACK_TIMEOUT] = g_param_spec_uint ("ack-timeout",
      "Acknowledgement timeout", "Seconds to wait for the answers at the "
      "end of a file, counted from the last progress of the data still on "
      "its way (a swarm's: from 1 s later)", 1, 24 * 3600, HANGOUT_SHARE_DEFAULT_ACK_TIMEOUT,
      G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS);
  properties[PROP_MIN_ACKS] = g_param_spec_uint ("min-acks",
      "Minimum acknowledgements", "Members that must have the whole file "
      "for it to succeed (0: never an error)", 0, G_MAXUINT,
      HANGOUT_SHARE_DEFAULT_MIN_ACKS,
      G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS);
  properties[PROP_DECLINE_REASON] = g_param_spec_string ("decline-reason",
      "Decline reason", "The reason of the reject that answers offers made "
      "to us", "this member only shares files",
      G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS);
  properties[PROP_DISTRIBUTION] = g_param_spec_enum ("distribution",
      "Distribution", "How the next file is distributed: every byte to "
      "every member directly (in version 2 to the members that speak it), "
      "or through the members that speak transfer version 2, which "
      "forward what they are handed (read when a file begins)",
      HANGOUT_TYPE_SHARE_DISTRIBUTION,
      HANGOUT_SHARE_DISTRIBUTION_DIRECT,
      G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS);
  properties[PROP_LINGER] = g_param_spec_uint ("linger", "Linger",
      "Seconds a file that can be read at any offset is still served after "
      "its end, to the members that join meanwhile (finish returns once "
      "they have it, or ack-timeout ran out for them)", 0, 24 * 3600,
      HANGOUT_SHARE_DEFAULT_LINGER,
      G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);

  signals[SIGNAL_ANSWER] = g_signal_new ("answer", G_TYPE_FROM_CLASS (klass),
      G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL, G_TYPE_NONE, 4, G_TYPE_STRING,
      G_TYPE_UINT, G_TYPE_STRING, G_TYPE_STRING);
  signals[SIGNAL_RECIPIENT_LEFT] = g_signal_new ("recipient-left",
      G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
      G_TYPE_NONE, 2, G_TYPE_STRING, G_TYPE_STRING);
}
