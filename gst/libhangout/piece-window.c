/* gst-hangout — a version 2 receiver's piece window (piece-window.h,
 * docs/protocol.md §4.4, §4.6, §4.7). Pure logic: the caller passes the
 * fields of the messages and the time.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#include <hangout/piece-window.h>
#include <string.h>
#include "debug-private.h"

#define GST_CAT_DEFAULT hangout_debug_pieces

#define HASH HANGOUT_MERKLE_HASH_SIZE

typedef enum {
  SLOT_EMPTY,
  SLOT_ASSEMBLING,              /* data from one member, not whole yet */
  SLOT_WHOLE,                   /* whole, waiting for its hash (or `end`) */
  SLOT_VERIFIED,
} SlotState;

/* One piece of the window: piece p lives in slot p mod n_slots, so the
 * window's pieces never share one. */
typedef struct {
  SlotState state;
  guint64 piece;                /* ASSEMBLING, WHOLE, VERIFIED */
  guint8 *data;                 /* ASSEMBLING, WHOLE, VERIFIED */
  gsize capacity;               /* bytes allocated for data */
  gsize fill;
  gchar *member;                /* who sent data */
  HangoutPieceWindowRole role;
  gint64 verified_at;           /* VERIFIED */
  gboolean has_hash;
  gint64 hash_at;               /* when the hash came */
  guint8 hash[HASH];
  gboolean requested;
  gint64 requested_at;
  gboolean corrupt;             /* failed its hash: request at once */
} Slot;

typedef struct {
  gboolean assembling;          /* a piece in slot `piece` */
  guint64 piece;
  guint64 expected;             /* the offset that continues it */
  guint corrupt;
} Member;

struct _HangoutPieceWindow {
  gint64 size;                  /* -1 until `end` for a stream */
  gsize piece_size;
  guint full_level;             /* the piece level of a file of many pieces */
  gchar *sharer;
  Slot *slots;
  guint64 n_slots;
  guint64 next;
  gsize bytes_held;
  GHashTable *members;          /* id → Member */
  HangoutMerkle *merkle;        /* the root of what was output */

  gboolean ended;
  gint64 ended_at;
  guint8 end_root[HASH];
  gboolean finished;
  guint8 root[HASH];

  HangoutPieceWindowState state;
  GError *error;                /* FAILED */
  guint64 have_next;            /* `next` of the last `have` */
  gboolean have_sent;
  /* How late forwarded pieces come after their hash (RFC 6298's
   * estimator), for the repair delay; lag_seen FALSE before a sample. */
  gboolean lag_seen;
  gint64 lag_smoothed;
  gint64 lag_variation;
};

static void
event_clear (gpointer data)
{
  HangoutPieceEvent *event = data;

  g_free (event->member);
  g_clear_pointer (&event->forward, g_bytes_unref);
  g_clear_error (&event->error);
}

static GArray *
events_new (void)
{
  GArray *events = g_array_new (FALSE, TRUE, sizeof (HangoutPieceEvent));

  g_array_set_clear_func (events, event_clear);
  return events;
}

static GArray *
ranges_new (void)
{
  return g_array_new (FALSE, FALSE, sizeof (HangoutPieceRange));
}

/* Appends @piece to @ranges, extending the last range when it follows it;
 * FALSE when that would take a range more than the limit. */
static gboolean
ranges_add (GArray *ranges, guint64 piece)
{
  HangoutPieceRange *last = ranges->len > 0
      ? &g_array_index (ranges, HangoutPieceRange, ranges->len - 1) : NULL;
  HangoutPieceRange range = { piece, 1 };

  if (last != NULL && last->first + last->count == piece) {
    last->count++;
    return TRUE;
  }
  if (ranges->len == HANGOUT_PIECE_WINDOW_MAX_RANGES)
    return FALSE;
  g_array_append_val (ranges, range);
  return TRUE;
}

static void
add_dropped (GArray *events, const gchar *member, guint64 piece,
    const gchar *reason)
{
  HangoutPieceEvent event = { .type = HANGOUT_PIECE_EVENT_DROPPED,
    .piece = piece, .member = g_strdup (member), .reason = reason
  };

  GST_LOG ("dropped a message from %s for piece %" G_GUINT64_FORMAT ": %s",
      member, piece, reason);
  g_array_append_val (events, event);
}

static Slot *
slot_of (HangoutPieceWindow *window, guint64 piece)
{
  return &window->slots[piece % window->n_slots];
}

static gboolean
size_known (HangoutPieceWindow *window)
{
  return window->size >= 0;
}

/* Pieces of the file: ⌈size / P⌉; for a stream, as many as can be. */
static guint64
n_pieces (HangoutPieceWindow *window)
{
  if (!size_known (window))
    return G_MAXUINT64;
  return ((guint64) window->size + window->piece_size - 1)
      / window->piece_size;
}

/* The first piece past the window, or past the file when that is sooner. */
static guint64
window_end (HangoutPieceWindow *window)
{
  return MIN (window->next + window->n_slots, n_pieces (window));
}

/* Piece @piece's bytes: a whole piece but for a known file's last one. */
static gsize
piece_length (HangoutPieceWindow *window, guint64 piece)
{
  guint64 start = piece * window->piece_size;

  if (!size_known (window))
    return window->piece_size;
  return (gsize) MIN ((guint64) window->piece_size,
      (guint64) window->size - start);
}

static Member *
member_get (HangoutPieceWindow *window, const gchar *id)
{
  Member *member = g_hash_table_lookup (window->members, id);

  if (member == NULL) {
    member = g_new0 (Member, 1);
    g_hash_table_insert (window->members, g_strdup (id), member);
  }
  return member;
}

/* The member still sending @slot's piece, or NULL. */
static Member *
slot_sender (HangoutPieceWindow *window, Slot *slot)
{
  Member *member;

  if (slot->state != SLOT_ASSEMBLING)
    return NULL;
  member = g_hash_table_lookup (window->members, slot->member);
  if (member == NULL || !member->assembling || member->piece != slot->piece)
    return NULL;
  return member;
}

/* Empties @slot, keeping its hash; whoever was sending it stops. */
static void
slot_drop_data (HangoutPieceWindow *window, Slot *slot)
{
  Member *sender = slot_sender (window, slot);

  if (sender != NULL)
    sender->assembling = FALSE;
  window->bytes_held -= slot->capacity;
  g_clear_pointer (&slot->data, g_free);
  g_clear_pointer (&slot->member, g_free);
  slot->capacity = slot->fill = 0;
  slot->state = SLOT_EMPTY;
}

/* Empties @slot for the piece that will take it next. */
static void
slot_reset (HangoutPieceWindow *window, Slot *slot)
{
  slot_drop_data (window, slot);
  memset (slot, 0, sizeof *slot);
}

/* Fails the file for @error (taken), reported in @events if not NULL. */
static void
fail (HangoutPieceWindow *window, GArray *events, GError *error)
{
  GST_DEBUG ("the file failed: %s", error->message);
  window->state = HANGOUT_PIECE_WINDOW_FAILED;
  window->error = error;
  /* Nothing of it will be output: free the window at once. */
  for (guint64 i = 0; i < window->n_slots; i++)
    slot_reset (window, &window->slots[i]);
  if (events != NULL) {
    HangoutPieceEvent event = { .type = HANGOUT_PIECE_EVENT_FAILED,
      .error = g_error_copy (error)
    };

    g_array_append_val (events, event);
  }
}

static guint
level_of (HangoutPieceWindow *window)
{
  if (!size_known (window))
    return window->full_level;
  return hangout_merkle_piece_level ((guint64) window->size,
      window->piece_size);
}

/* A forwarded piece was verified @lag µs after its hash came (the sharer
 * sends the hash as it assigns the piece). */
static void
sample_lag (HangoutPieceWindow *window, gint64 lag)
{
  if (!window->lag_seen) {
    window->lag_seen = TRUE;
    window->lag_smoothed = lag;
    window->lag_variation = lag / 2;
    return;
  }
  window->lag_variation = (3 * window->lag_variation
      + ABS (window->lag_smoothed - lag)) / 4;
  window->lag_smoothed = (7 * window->lag_smoothed + lag) / 8;
}

gint64
hangout_piece_window_get_repair_delay (HangoutPieceWindow *window)
{
  g_return_val_if_fail (window != NULL,
      HANGOUT_PIECE_WINDOW_REPAIR_DELAY_MIN_US);
  if (!window->lag_seen)
    return HANGOUT_PIECE_WINDOW_REPAIR_DELAY_MIN_US;
  return CLAMP (window->lag_smoothed + 4 * window->lag_variation,
      HANGOUT_PIECE_WINDOW_REPAIR_DELAY_MIN_US,
      HANGOUT_PIECE_WINDOW_REPAIR_DELAY_MAX_US);
}

/* Checks whole @slot (piece @piece) against its hash and reports it. */
static void
verify (HangoutPieceWindow *window, guint64 piece, Slot *slot,
    gint64 now_us, GArray *events)
{
  guint8 hash[HASH];
  HangoutPieceEvent event = { .piece = piece,
    .member = g_strdup (slot->member)
  };

  hangout_merkle_hash_piece (level_of (window), slot->data, slot->fill, hash);
  if (memcmp (hash, slot->hash, HASH) == 0) {
    if (slot->role == HANGOUT_PIECE_WINDOW_ROLE_FORWARDED)
      sample_lag (window, now_us - slot->hash_at);
    slot->state = SLOT_VERIFIED;
    slot->verified_at = now_us;
    slot->requested = slot->corrupt = FALSE;
    event.type = HANGOUT_PIECE_EVENT_VERIFIED;
    if (slot->role == HANGOUT_PIECE_WINDOW_ROLE_ASSIGNED)
      event.forward = g_bytes_new (slot->data, slot->fill);
    GST_LOG ("piece %" G_GUINT64_FORMAT " from %s verified", piece,
        slot->member);
    g_array_append_val (events, event);
    return;
  }

  GST_DEBUG ("piece %" G_GUINT64_FORMAT " from %s failed its hash", piece,
      slot->member);
  if (g_strcmp0 (slot->member, window->sharer) == 0) {
    g_free (event.member);
    fail (window, events, g_error_new (HANGOUT_ERROR,
            HANGOUT_ERROR_INVALID_MESSAGE, "piece %" G_GUINT64_FORMAT
            " from the sharer %s failed its own hash", piece, window->sharer));
    return;
  }
  {
    Member *member = member_get (window, slot->member);

    member->corrupt++;
    event.excluded = member->corrupt == HANGOUT_PIECE_WINDOW_MAX_CORRUPT;
  }
  event.type = HANGOUT_PIECE_EVENT_CORRUPT;
  g_array_append_val (events, event);
  slot_drop_data (window, slot);
  slot->corrupt = TRUE;
}

/* @slot has all its bytes: verify it if it can be already. */
static void
slot_whole (HangoutPieceWindow *window, guint64 piece, Slot *slot,
    gint64 now_us, GArray *events)
{
  Member *sender = slot_sender (window, slot);

  if (sender != NULL)
    sender->assembling = FALSE;
  slot->state = SLOT_WHOLE;
  if (slot->has_hash)
    verify (window, piece, slot, now_us, events);
}

static gboolean
piece_is_whole (HangoutPieceWindow *window, guint64 piece, Slot *slot)
{
  return slot->fill == piece_length (window, piece);
}

HangoutPieceWindow *
hangout_piece_window_new (gint64 size, gsize piece_size, gsize window_bytes,
    const gchar *sharer, GError **error)
{
  HangoutPieceWindow *window;

  hangout_debug_init ();
  g_return_val_if_fail (sharer != NULL, NULL);
  if (piece_size < HANGOUT_MERKLE_BLOCK_SIZE
      || piece_size > HANGOUT_PIECE_WINDOW_MAX_PIECE_SIZE
      || piece_size % HANGOUT_MERKLE_BLOCK_SIZE != 0
      || (piece_size & (piece_size - 1)) != 0) {
    g_set_error_literal (error, HANGOUT_ERROR, HANGOUT_ERROR_INVALID_MESSAGE,
        "piece-size not supported");
    return NULL;
  }
  if (window_bytes % piece_size != 0 || window_bytes < 2 * piece_size
      || window_bytes > HANGOUT_PIECE_WINDOW_MAX_WINDOW) {
    g_set_error_literal (error, HANGOUT_ERROR, HANGOUT_ERROR_INVALID_MESSAGE,
        "window not supported");
    return NULL;
  }
  window = g_new0 (HangoutPieceWindow, 1);
  window->size = size < 0 ? -1 : size;
  window->piece_size = piece_size;
  /* piece_size / 16 KiB is a power of two: its log2 is its trailing zeros. */
  window->full_level = (guint) g_bit_nth_lsf (piece_size
      / HANGOUT_MERKLE_BLOCK_SIZE, -1);
  window->sharer = g_strdup (sharer);
  window->n_slots = window_bytes / piece_size;
  window->slots = g_new0 (Slot, window->n_slots);
  window->members = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
      g_free);
  window->merkle = hangout_merkle_new (FALSE);
  GST_DEBUG ("a file of %" G_GINT64_FORMAT " bytes in pieces of %"
      G_GSIZE_FORMAT ", window %" G_GUINT64_FORMAT " pieces, from %s",
      window->size, piece_size, window->n_slots, sharer);
  return window;
}

void
hangout_piece_window_free (HangoutPieceWindow *window)
{
  if (window == NULL)
    return;
  for (guint64 i = 0; i < window->n_slots; i++) {
    g_free (window->slots[i].data);
    g_free (window->slots[i].member);
  }
  g_free (window->slots);
  g_hash_table_unref (window->members);
  hangout_merkle_free (window->merkle);
  g_clear_error (&window->error);
  g_free (window->sharer);
  g_free (window);
}

/* Every piece was output after `end`: the root decides. */
static void
finish (HangoutPieceWindow *window, GArray *events)
{
  hangout_merkle_finish (window->merkle, window->root);
  window->finished = TRUE;
  if (memcmp (window->root, window->end_root, HASH) == 0) {
    GST_DEBUG ("complete: %" G_GUINT64_FORMAT " pieces, root equal",
        window->next);
    window->state = HANGOUT_PIECE_WINDOW_COMPLETE;
    return;
  }
  fail (window, events, g_error_new (HANGOUT_ERROR,
          HANGOUT_ERROR_INVALID_MESSAGE, "the root of the %" G_GINT64_FORMAT
          " bytes output is not the one end gives", window->size));
}

GArray *
hangout_piece_window_data (HangoutPieceWindow *window, const gchar *member_id,
    HangoutPieceWindowRole role, guint64 offset, const guint8 *payload,
    gsize len, gint64 now_us)
{
  GArray *events = events_new ();
  guint64 piece;
  gsize within;
  Member *member;
  Slot *slot;

  g_return_val_if_fail (window != NULL && member_id != NULL, events);
  g_return_val_if_fail (payload != NULL || len == 0, events);
  piece = offset / window->piece_size;
  within = (gsize) (offset % window->piece_size);
  if (window->state != HANGOUT_PIECE_WINDOW_RECEIVING) {
    add_dropped (events, member_id, piece, "the file is over");
    return events;
  }
  if (len == 0 || len > window->piece_size - within) {
    add_dropped (events, member_id, piece, "not within one piece");
    return events;
  }
  if (size_known (window) && (offset >= (guint64) window->size
          || len > (guint64) window->size - offset)) {
    add_dropped (events, member_id, piece, "past the end of the file");
    return events;
  }
  if (role > HANGOUT_PIECE_WINDOW_ROLE_REPAIR) {
    add_dropped (events, member_id, piece, "an unknown role");
    return events;
  }
  if ((role == HANGOUT_PIECE_WINDOW_ROLE_DIRECT
          || role == HANGOUT_PIECE_WINDOW_ROLE_ASSIGNED)
      && strcmp (member_id, window->sharer) != 0) {
    add_dropped (events, member_id, piece,
        "direct or assigned from a member other than the sharer");
    return events;
  }
  member = member_get (window, member_id);
  if (member->corrupt >= HANGOUT_PIECE_WINDOW_MAX_CORRUPT) {
    add_dropped (events, member_id, piece,
        "the member sent too many corrupt pieces");
    return events;
  }

  if (member->assembling && offset != member->expected) {
    slot = slot_of (window, member->piece);
    if (size_known (window) || within != 0) {
      add_dropped (events, member_id, member->piece,
          "does not continue the piece its sender was sending");
      slot_drop_data (window, slot);
      return events;
    }
    /* In a stream, a piece that its sender ended short may be the file's
     * last: it stays for `end` to tell (or repair to replace), and this
     * message starts the sender's next piece. */
    member->assembling = FALSE;
  }
  if (member->assembling) {
    slot = slot_of (window, member->piece);
  } else {
    if (within != 0) {
      add_dropped (events, member_id, piece,
          "does not start at the first byte of a piece");
      return events;
    }
    if (piece < window->next) {
      add_dropped (events, member_id, piece, "a duplicate: already output");
      return events;
    }
    if (piece - window->next >= window->n_slots) {
      add_dropped (events, member_id, piece, "beyond the window");
      return events;
    }
    slot = slot_of (window, piece);
    if (slot->state != SLOT_EMPTY) {
      add_dropped (events, member_id, piece,
          "a duplicate: held or being assembled from another member");
      return events;
    }
    slot->state = SLOT_ASSEMBLING;
    slot->piece = piece;
    slot->capacity = piece_length (window, piece);
    slot->data = g_malloc (slot->capacity);
    slot->member = g_strdup (member_id);
    slot->role = role;
    window->bytes_held += slot->capacity;
    member->assembling = TRUE;
    member->piece = piece;
  }

  memcpy (slot->data + slot->fill, payload, len);
  slot->fill += len;
  member->expected = offset + len;
  /* In a stream, a short piece may be the last one: `end` will tell. */
  if (piece_is_whole (window, piece, slot))
    slot_whole (window, piece, slot, now_us, events);
  return events;
}

GArray *
hangout_piece_window_hashes (HangoutPieceWindow *window, const gchar *member,
    guint64 first, guint64 count, const guint8 *hashes, gint64 now_us)
{
  GArray *events = events_new ();
  guint64 from, to, stop;

  g_return_val_if_fail (window != NULL && member != NULL, events);
  g_return_val_if_fail (hashes != NULL || count == 0, events);
  if (window->state != HANGOUT_PIECE_WINDOW_RECEIVING) {
    add_dropped (events, member, first, "the file is over");
    return events;
  }
  if (strcmp (member, window->sharer) != 0) {
    add_dropped (events, member, first,
        "piece hashes from a member other than the sharer");
    return events;
  }
  /* The part of the run in the window (first + count may overflow). */
  stop = count > G_MAXUINT64 - first ? G_MAXUINT64 : first + count;
  from = MAX (first, window->next);
  to = MIN (window_end (window), stop);
  if (from > first || to < stop)
    add_dropped (events, member, first, "hashes outside the window");
  for (guint64 piece = from; piece < to; piece++) {
    Slot *slot = slot_of (window, piece);

    if (slot->has_hash)
      continue;
    memcpy (slot->hash, hashes + (piece - first) * HASH, HASH);
    slot->has_hash = TRUE;
    slot->hash_at = now_us;
    if (slot->state == SLOT_WHOLE)
      verify (window, piece, slot, now_us, events);
    if (window->state != HANGOUT_PIECE_WINDOW_RECEIVING)
      break;
  }
  return events;
}

GArray *
hangout_piece_window_end (HangoutPieceWindow *window, guint64 size,
    const guint8 root[HASH], gint64 now_us)
{
  GArray *events = events_new ();

  g_return_val_if_fail (window != NULL && root != NULL, events);
  if (window->state != HANGOUT_PIECE_WINDOW_RECEIVING || window->ended) {
    add_dropped (events, window->sharer, 0, "end after the file ended");
    return events;
  }
  if (size_known (window) && size != (guint64) window->size) {
    fail (window, events, g_error_new (HANGOUT_ERROR,
            HANGOUT_ERROR_INVALID_MESSAGE, "end gives %" G_GUINT64_FORMAT
            " bytes, the offer %" G_GINT64_FORMAT, size, window->size));
    return events;
  }
  if (size > G_MAXINT64
      || window->next > (size + window->piece_size - 1) / window->piece_size) {
    fail (window, events, g_error_new (HANGOUT_ERROR,
            HANGOUT_ERROR_INVALID_MESSAGE, "end gives %" G_GUINT64_FORMAT
            " bytes, fewer than the pieces already output", size));
    return events;
  }
  window->ended = TRUE;
  window->ended_at = now_us;
  memcpy (window->end_root, root, HASH);

  if (!size_known (window)) {
    window->size = (gint64) size;
    /* Now the last piece has a length, and the pieces have a level (lower
     * than a whole piece's when the file is smaller than one). A piece
     * verified at another length, or past the end, means the sharer's
     * hashes and its end disagree. */
    for (guint64 piece = window->next; piece < window->next + window->n_slots;
        piece++) {
      Slot *slot = slot_of (window, piece);
      gboolean inside = piece < n_pieces (window);

      if (slot->state == SLOT_VERIFIED
          && (!inside || slot->fill != piece_length (window, piece))) {
        fail (window, events, g_error_new (HANGOUT_ERROR,
                HANGOUT_ERROR_INVALID_MESSAGE, "piece %" G_GUINT64_FORMAT
                " was verified, but end gives a file of %" G_GUINT64_FORMAT
                " bytes", piece, size));
        return events;
      }
      if (!inside) {
        slot_reset (window, slot);
      } else if (slot->state != SLOT_EMPTY
          && slot->fill > piece_length (window, piece)) {
        add_dropped (events, slot->member, piece, "past the end of the file");
        slot_drop_data (window, slot);
      } else if (slot->state == SLOT_ASSEMBLING
          && piece_is_whole (window, piece, slot)) {
        slot_whole (window, piece, slot, now_us, events);
        if (window->state != HANGOUT_PIECE_WINDOW_RECEIVING)
          return events;
      }
    }
  }
  if (window->next == n_pieces (window))
    finish (window, events);
  return events;
}

GBytes *
hangout_piece_window_pop (HangoutPieceWindow *window)
{
  Slot *slot;
  GBytes *piece;

  g_return_val_if_fail (window != NULL, NULL);
  if (window->state != HANGOUT_PIECE_WINDOW_RECEIVING
      || window->next >= n_pieces (window))
    return NULL;
  slot = slot_of (window, window->next);
  if (slot->state != SLOT_VERIFIED)
    return NULL;
  /* Its hash is the verified one: the root needs no second pass over
   * the bytes. */
  hangout_merkle_update_node (window->merkle, level_of (window), slot->hash,
      slot->fill);
  window->bytes_held -= slot->capacity;
  piece = g_bytes_new_take (g_steal_pointer (&slot->data), slot->fill);
  slot->capacity = 0;
  slot_reset (window, slot);
  window->next++;
  if (window->ended && window->next == n_pieces (window))
    finish (window, NULL);
  return piece;
}

HangoutPieceWindowState
hangout_piece_window_get_state (HangoutPieceWindow *window, GError **error)
{
  g_return_val_if_fail (window != NULL, HANGOUT_PIECE_WINDOW_FAILED);
  if (window->state == HANGOUT_PIECE_WINDOW_FAILED && error != NULL)
    *error = g_error_copy (window->error);
  return window->state;
}

gboolean
hangout_piece_window_get_root (HangoutPieceWindow *window, guint8 root[HASH])
{
  g_return_val_if_fail (window != NULL, FALSE);
  if (!window->finished)
    return FALSE;
  memcpy (root, window->root, HASH);
  return TRUE;
}

guint64
hangout_piece_window_get_next (HangoutPieceWindow *window)
{
  g_return_val_if_fail (window != NULL, 0);
  return window->next;
}

gsize
hangout_piece_window_get_bytes_held (HangoutPieceWindow *window)
{
  g_return_val_if_fail (window != NULL, 0);
  return window->bytes_held;
}

gboolean
hangout_piece_window_have_due (HangoutPieceWindow *window)
{
  g_return_val_if_fail (window != NULL, FALSE);
  if (window->state == HANGOUT_PIECE_WINDOW_COMPLETE)
    return !window->have_sent || window->have_next != window->next;
  return window->state == HANGOUT_PIECE_WINDOW_RECEIVING
      && window->next - window->have_next >= MAX (window->n_slots / 4, 1);
}

GArray *
hangout_piece_window_build_have (HangoutPieceWindow *window, guint64 *next)
{
  GArray *ranges = ranges_new ();

  g_return_val_if_fail (window != NULL && next != NULL, ranges);
  *next = window->next;
  window->have_next = window->next;
  window->have_sent = TRUE;
  for (guint64 piece = window->next; piece < window_end (window); piece++) {
    if (slot_of (window, piece)->state == SLOT_VERIFIED
        && !ranges_add (ranges, piece))
      break;
  }
  return ranges;
}

/* Missing: not whole, and not on its way from the sharer (its channel is
 * ordered: what it is sending it finishes). */
static gboolean
is_missing (HangoutPieceWindow *window, Slot *slot)
{
  Member *sender = slot_sender (window, slot);

  if (slot->state == SLOT_EMPTY)
    return TRUE;
  return slot->state == SLOT_ASSEMBLING
      && (sender == NULL || strcmp (slot->member, window->sharer) != 0);
}

/* Which missing pieces are due for a request. */
typedef enum {
  /* A later piece verified REPAIR_DELAY ago, a corrupt one, or any after
   * REPAIR_DELAY past `end`: hangout_piece_window_repair(). */
  DUE_LATER_HELD,
  /* Every one the sharer has sent: it sends a piece's hash before its data
   * and assigns in order, so a piece whose hash came, or that lies before a
   * verified one, exists. A member left. */
  DUE_ALL_KNOWN,
} DueRule;

static GArray *
collect_requests (HangoutPieceWindow *window, DueRule rule, gint64 now_us)
{
  GArray *ranges = ranges_new ();
  guint64 end = window_end (window);
  gint64 delay = hangout_piece_window_get_repair_delay (window);
  /* After `end` the sharer has nothing left to hand out: its upload has
   * room, and a piece fetched twice costs less than the wait. */
  gboolean after_end = window->ended && now_us - window->ended_at
      >= HANGOUT_PIECE_WINDOW_REPAIR_DELAY_MIN_US;
  g_autofree gint64 *oldest_later = NULL;
  gint64 oldest = G_MAXINT64;

  if (window->state != HANGOUT_PIECE_WINDOW_RECEIVING || end <= window->next)
    return ranges;
  /* oldest_later[k]: the earliest time a piece after next + k was
   * verified (G_MAXINT64: none is). */
  oldest_later = g_new (gint64, end - window->next);
  for (guint64 piece = end; piece-- > window->next;) {
    Slot *slot = slot_of (window, piece);

    oldest_later[piece - window->next] = oldest;
    if (slot->state == SLOT_VERIFIED)
      oldest = MIN (oldest, slot->verified_at);
  }
  for (guint64 piece = window->next; piece < end; piece++) {
    Slot *slot = slot_of (window, piece);
    gint64 later = oldest_later[piece - window->next];
    gboolean due;

    if (!is_missing (window, slot))
      continue;
    if (slot->requested
        && now_us - slot->requested_at < HANGOUT_PIECE_WINDOW_RETRY_US
        && !slot->corrupt)
      continue;
    if (rule == DUE_ALL_KNOWN)
      due = slot->has_hash || later != G_MAXINT64;
    else
      due = slot->corrupt || after_end || (later != G_MAXINT64
          && now_us - later >= delay);
    if (!due)
      continue;
    if (!ranges_add (ranges, piece))
      break;
    /* The sharer's repair must not be a duplicate of this. */
    if (slot->state == SLOT_ASSEMBLING)
      slot_drop_data (window, slot);
    slot->requested = TRUE;
    slot->requested_at = now_us;
    slot->corrupt = FALSE;
  }
  if (ranges->len > 0)
    GST_DEBUG ("requesting %u ranges from piece %" G_GUINT64_FORMAT,
        ranges->len, g_array_index (ranges, HangoutPieceRange, 0).first);
  return ranges;
}

GArray *
hangout_piece_window_repair (HangoutPieceWindow *window, gint64 now_us)
{
  g_return_val_if_fail (window != NULL, ranges_new ());
  return collect_requests (window, DUE_LATER_HELD, now_us);
}

GArray *
hangout_piece_window_member_left (HangoutPieceWindow *window,
    const gchar *member_id, gint64 now_us)
{
  Member *member;

  g_return_val_if_fail (window != NULL && member_id != NULL, ranges_new ());
  if (window->state != HANGOUT_PIECE_WINDOW_RECEIVING)
    return ranges_new ();
  member = g_hash_table_lookup (window->members, member_id);
  if (member != NULL && member->assembling)
    slot_drop_data (window, slot_of (window, member->piece));
  g_hash_table_remove (window->members, member_id);
  if (strcmp (member_id, window->sharer) == 0) {
    /* After `end`, the pieces held may still complete the file; what is
     * missing no one else can send. */
    if (!window->ended)
      fail (window, NULL, g_error_new (HANGOUT_ERROR, HANGOUT_ERROR_CLOSED,
              "the sharer %s left before the end of the file", member_id));
    return ranges_new ();
  }
  return collect_requests (window, DUE_ALL_KNOWN, now_us);
}
