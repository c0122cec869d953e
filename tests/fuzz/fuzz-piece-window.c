/* gst-hangout — fuzz target: a version 2 receiver's piece window
 * (piece-window.h) fed piece data, piece hashes and `end` from four
 * members (member 0 the sharer), with output, repair, members leaving and
 * time passing in between.
 *
 * The input starts with 3 bytes: bit 0 of the first picks the piece size
 * (16 or 32 KiB), bit 1 an offer of unknown size, bits 2-4 the window (2
 * to 9 pieces); the next two, big-endian, times 5, the file's size (the
 * test file of docs/protocol.md §4.11). Then records: one byte, bits 0-2
 * the kind, bits 3-4 the member, bits 5-7 a few flags (x), and for some
 * kinds more bytes:
 *   0  data: piece delta (1 byte: the piece is next + it), offset in the
 *      piece (1 byte, times 512), length (2 bytes); role x & 3, the first
 *      byte changed when x & 4. The bytes are the file's (and past its
 *      end, two pieces more of its pattern).
 *   1  data continuing the member's last message, length (2 bytes); role
 *      and change as in 0
 *   2  a whole piece: piece delta (1 byte); role and change as in 0
 *   3  hashes: first (1 byte, signed, from next), count (1 byte, plus 1),
 *      one of them changed when x & 4
 *   4  end: the wrong root when x & 1, one byte more when x & 2
 *   5  pop every piece ready
 *   6  repair (x & 1: the member leaves instead)
 *   7  the time moves on by (x + 1) · 250 ms
 * The hashes are the file's own (merkle.h with its leaves kept), so whole
 * pieces get through and the file can complete.
 *
 * Checked against the target's own account: the window never holds more
 * than `window` bytes; every piece output, and every piece to forward, is
 * the file's, and pieces to forward came assigned from the sharer; a
 * corrupt piece never names the sharer (its corrupt piece fails the file);
 * COMPLETE only with every byte output and after an `end` with the right
 * size and root; nothing verified or output after COMPLETE or FAILED;
 * `have` and `request` ranges at most 64, ascending, in the window.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#include "fuzz-common.h"

#include <hangout/piece-window.h>
#include <string.h>

#define N_MEMBERS 4
#define MAX_RECORDS 512
#define HASH HANGOUT_MERKLE_HASH_SIZE
#define KIB 1024

static const gchar *const members[N_MEMBERS] = {
  "sharer", "member-1", "member-2", "member-3",
};

typedef struct {
  HangoutPieceWindow *window;
  gsize window_bytes;
  gsize piece_size;
  guint64 n_slots;
  const guint8 *file;           /* size bytes, then more of the pattern */
  gsize size;
  guint64 n_pieces;
  guint8 *hashes;
  guint8 root[HASH];
  guint64 output;               /* bytes popped */
  gboolean ended;
  gboolean end_right;           /* the first `end` had the right size, root */
  guint64 continues[N_MEMBERS]; /* where each member's last message ended */
  gint64 now;
} State;

static gsize
piece_len (State *state, guint64 piece)
{
  guint64 start = piece * state->piece_size;

  return start >= state->size ? 0
      : (gsize) MIN (state->piece_size, state->size - start);
}

static gboolean
over (State *state)
{
  return hangout_piece_window_get_state (state->window, NULL)
      != HANGOUT_PIECE_WINDOW_RECEIVING;
}

static void
check_ranges (State *state, GArray *ranges)
{
  guint64 next = hangout_piece_window_get_next (state->window);
  guint64 after = next;

  FUZZ_CHECK (ranges->len <= HANGOUT_PIECE_WINDOW_MAX_RANGES);
  for (guint i = 0; i < ranges->len; i++) {
    HangoutPieceRange *range = &g_array_index (ranges, HangoutPieceRange, i);

    FUZZ_CHECK (range->count >= 1 && range->first >= after);
    FUZZ_CHECK (range->first + range->count <= next + state->n_slots);
    after = range->first + range->count;
  }
  g_array_unref (ranges);
}

static void
check_events (State *state, GArray *events, gboolean was_over)
{
  guint64 next = hangout_piece_window_get_next (state->window);

  for (guint i = 0; i < events->len; i++) {
    HangoutPieceEvent *event = &g_array_index (events, HangoutPieceEvent, i);

    switch (event->type) {
      case HANGOUT_PIECE_EVENT_VERIFIED:
        FUZZ_CHECK (!was_over);
        FUZZ_CHECK (event->piece >= next
            && event->piece < next + state->n_slots);
        if (event->forward != NULL) {
          gsize len;
          const guint8 *bytes = g_bytes_get_data (event->forward, &len);

          FUZZ_CHECK (strcmp (event->member, members[0]) == 0);
          FUZZ_CHECK (len == piece_len (state, event->piece));
          FUZZ_CHECK (memcmp (bytes, state->file
                  + event->piece * state->piece_size, len) == 0);
        }
        break;
      case HANGOUT_PIECE_EVENT_CORRUPT:
        FUZZ_CHECK (!was_over);
        FUZZ_CHECK (strcmp (event->member, members[0]) != 0);
        break;
      case HANGOUT_PIECE_EVENT_DROPPED:
        FUZZ_CHECK (event->reason != NULL);
        break;
      case HANGOUT_PIECE_EVENT_FAILED:
        FUZZ_CHECK (!was_over && event->error != NULL);
        FUZZ_CHECK (hangout_piece_window_get_state (state->window, NULL)
            == HANGOUT_PIECE_WINDOW_FAILED);
        break;
    }
  }
  g_array_unref (events);
}

static void
pop_all (State *state)
{
  GBytes *piece;

  while ((piece = hangout_piece_window_pop (state->window)) != NULL) {
    gsize len;
    const guint8 *bytes = g_bytes_get_data (piece, &len);

    FUZZ_CHECK (len > 0 && state->output + len <= state->size);
    FUZZ_CHECK (memcmp (bytes, state->file + state->output, len) == 0);
    state->output += len;
    g_bytes_unref (piece);
  }
}

static void
data (State *state, guint m, guint8 x, guint64 offset, gsize len)
{
  g_autofree guint8 *payload = NULL;
  gboolean was_over = over (state);

  /* Data past the end of the file are bytes too, up to two pieces. */
  if (offset >= state->size + 2 * state->piece_size
      || len > state->size + 2 * state->piece_size - offset)
    return;
  payload = g_memdup2 (state->file + offset, MAX (len, 1));
  if (x & 4 && len > 0)
    payload[0] ^= 0xff;
  check_events (state, hangout_piece_window_data (state->window, members[m],
          (HangoutPieceWindowRole) (x & 3), offset, payload, len, state->now),
      was_over);
  state->continues[m] = offset + len;
}

static void
run (State *state, const uint8_t *in, size_t size)
{
  guint records = 0;

  while (size > 0 && records++ < MAX_RECORDS) {
    guint8 byte = in[0];
    guint kind = byte & 7, m = (byte >> 3) & 3;
    guint8 x = byte >> 5;
    guint64 next = hangout_piece_window_get_next (state->window);
    gboolean was_over = over (state);

    in++, size--;
    switch (kind) {
      case 0:
        if (size < 4)
          return;
        data (state, m, x, (next + in[0]) * state->piece_size
            + in[1] * 512u, (gsize) (in[2] << 8 | in[3]));
        in += 4, size -= 4;
        break;
      case 1:
        if (size < 2)
          return;
        data (state, m, x, state->continues[m], (gsize) (in[0] << 8 | in[1]));
        in += 2, size -= 2;
        break;
      case 2:
        if (size < 1)
          return;
        data (state, m, x, (next + in[0]) * state->piece_size,
            MAX (piece_len (state, next + in[0]), 1));
        in++, size--;
        break;
      case 3:{
        gint64 first;
        guint64 count;
        g_autofree guint8 *hashes = NULL;

        if (size < 2)
          return;
        first = (gint64) next + (gint8) in[0];
        count = (guint64) in[1] + 1;
        in += 2, size -= 2;
        if (first < 0)
          break;
        hashes = g_malloc0 (count * HASH);
        for (guint64 i = 0; i < count; i++) {
          if ((guint64) first + i < state->n_pieces)
            memcpy (hashes + i * HASH, state->hashes
                + ((guint64) first + i) * HASH, HASH);
        }
        if (x & 4)
          hashes[(count - 1) * HASH] ^= 1;
        check_events (state, hangout_piece_window_hashes (state->window,
                members[m], (guint64) first, count, hashes, state->now),
            was_over);
        break;
      }
      case 4:{
        guint8 root[HASH];

        memcpy (root, state->root, HASH);
        root[0] ^= x & 1;
        /* Only the first `end` counts. */
        if (!state->ended && !was_over)
          state->end_right = !(x & 3);
        state->ended = TRUE;
        check_events (state, hangout_piece_window_end (state->window,
                state->size + ((x & 2) ? 1 : 0), root, state->now), was_over);
        break;
      }
      case 5:
        pop_all (state);
        break;
      case 6:
        if (x & 1)
          check_ranges (state, hangout_piece_window_member_left
              (state->window, members[m], state->now));
        else
          check_ranges (state, hangout_piece_window_repair (state->window,
                  state->now));
        break;
      case 7:
        state->now += (x + 1) * G_USEC_PER_SEC / 4;
        break;
    }
    FUZZ_CHECK (hangout_piece_window_get_bytes_held (state->window)
        <= state->window_bytes);
    if (was_over)
      FUZZ_CHECK (hangout_piece_window_pop (state->window) == NULL);
    if (hangout_piece_window_get_state (state->window, NULL)
        == HANGOUT_PIECE_WINDOW_COMPLETE) {
      FUZZ_CHECK (state->end_right && state->output == state->size);
      FUZZ_CHECK (hangout_piece_window_get_next (state->window)
          == state->n_pieces);
    }
    if (hangout_piece_window_have_due (state->window)) {
      guint64 have_next;

      check_ranges (state, hangout_piece_window_build_have (state->window,
              &have_next));
      FUZZ_CHECK (have_next == hangout_piece_window_get_next (state->window));
    }
  }
}

/* The test file at its largest (65535 · 5 bytes) and two pieces more,
 * made once: every input's file is a prefix of it, and its data past the
 * end of the file are read from the rest. */
#define MAX_FILE (65535 * 5 + 2 * 32 * KIB)

static const guint8 *
test_file (void)
{
  static guint8 *file;

  if (file == NULL) {
    file = g_malloc (MAX_FILE);
    for (gsize i = 0; i < MAX_FILE; i++)
      file[i] = (guint8) (i % 251);
  }
  return file;
}

int
LLVMFuzzerTestOneInput (const uint8_t *in, size_t size)
{
  State state = { 0 };
  g_autoptr (HangoutMerkle) merkle = hangout_merkle_new (TRUE);
  GError *error = NULL;
  guint level;

  if (size < 3)
    return 0;
  state.piece_size = (in[0] & 1) ? 32 * KIB : 16 * KIB;
  state.n_slots = ((in[0] >> 2) & 7) + 2;
  state.window_bytes = state.n_slots * state.piece_size;
  state.size = (gsize) (in[1] << 8 | in[2]) * 5;
  state.n_pieces = (state.size + state.piece_size - 1) / state.piece_size;
  state.file = test_file ();
  hangout_merkle_update (merkle, state.file, state.size);
  hangout_merkle_finish (merkle, state.root);
  level = hangout_merkle_piece_level (state.size, state.piece_size);
  state.hashes = g_malloc (MAX (state.n_pieces, 1) * HASH);
  for (guint64 i = 0; i < state.n_pieces; i++)
    FUZZ_CHECK (hangout_merkle_get_node (merkle, level, i,
            state.hashes + i * HASH));
  state.window = hangout_piece_window_new ((in[0] & 2) ? -1
      : (gint64) state.size, state.piece_size, state.window_bytes,
      members[0], &error);
  FUZZ_CHECK (state.window != NULL && error == NULL);

  run (&state, in + 3, size - 3);

  hangout_piece_window_free (state.window);
  g_free (state.hashes);
  return 0;
}
