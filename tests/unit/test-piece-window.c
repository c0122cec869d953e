/* gst-hangout — a version 2 receiver's piece window
 * (gst/libhangout/piece-window.c, docs/protocol.md §4.4, §4.6, §4.7).
 * The files are the test file of §4.11 (byte i is i mod 251); their piece
 * hashes and roots come from the tree merkle.c builds with its leaves
 * kept, the pieces from several members, in shuffled order, whole or
 * corrupt. What is checked is what a receiver's user would: the SHA-256
 * of the bytes output, the root, the pieces requested, the memory held.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#include <gst/check/gstcheck.h>
#include <hangout/piece-window.h>
#include <string.h>

#define HASH HANGOUT_MERKLE_HASH_SIZE
#define SHARER "alice"
#define KIB 1024
#define SECOND G_USEC_PER_SEC
/* The payload of a 65536-byte message (§4.4's header is 26 bytes). */
#define CHUNK (65536 - 26)

typedef struct {
  guint8 *data;
  gsize size;
  gsize piece_size;
  guint64 n_pieces;
  guint8 *hashes;               /* HASH per piece */
  guint8 root[HASH];
} TestFile;

static TestFile *
test_file_new (gsize size, gsize piece_size)
{
  TestFile *file = g_new0 (TestFile, 1);
  g_autoptr (HangoutMerkle) merkle = hangout_merkle_new (TRUE);
  guint level = hangout_merkle_piece_level (size, piece_size);

  file->data = g_malloc (MAX (size, 1));
  for (gsize i = 0; i < size; i++)
    file->data[i] = (guint8) (i % 251);
  file->size = size;
  file->piece_size = piece_size;
  file->n_pieces = (size + piece_size - 1) / piece_size;
  hangout_merkle_update (merkle, file->data, size);
  hangout_merkle_finish (merkle, file->root);
  file->hashes = g_malloc (MAX (file->n_pieces, 1) * HASH);
  for (guint64 i = 0; i < file->n_pieces; i++)
    fail_unless (hangout_merkle_get_node (merkle, level, i,
            file->hashes + i * HASH));
  return file;
}

static void
test_file_free (TestFile *file)
{
  g_free (file->data);
  g_free (file->hashes);
  g_free (file);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (TestFile, test_file_free)

static gsize
piece_len (TestFile *file, guint64 piece)
{
  return MIN (file->piece_size, file->size - piece * file->piece_size);
}

/* What the calls reported, added up. */
typedef struct {
  guint verified, corrupt, dropped, failed, forwarded;
  guint64 piece;                /* of the last event */
  gchar member[32];
  gboolean excluded;
  const gchar *reason;
  gchar error[256];
} Tally;

/* Adds @events up into @tally (and frees them); checks that a piece to
 * forward is the file's piece. */
static void
tally (Tally *tally, TestFile *file, GArray *events)
{
  for (guint i = 0; i < events->len; i++) {
    HangoutPieceEvent *event = &g_array_index (events, HangoutPieceEvent, i);

    tally->piece = event->piece;
    g_strlcpy (tally->member, event->member ? event->member : "",
        sizeof tally->member);
    switch (event->type) {
      case HANGOUT_PIECE_EVENT_VERIFIED:
        tally->verified++;
        if (event->forward != NULL) {
          gsize len;
          const guint8 *bytes = g_bytes_get_data (event->forward, &len);

          tally->forwarded++;
          fail_unless_equals_uint64 (len, piece_len (file, event->piece));
          fail_unless (memcmp (bytes, file->data
                  + event->piece * file->piece_size, len) == 0);
        }
        break;
      case HANGOUT_PIECE_EVENT_CORRUPT:
        tally->corrupt++;
        tally->excluded = event->excluded;
        break;
      case HANGOUT_PIECE_EVENT_DROPPED:
        tally->dropped++;
        tally->reason = event->reason;
        break;
      case HANGOUT_PIECE_EVENT_FAILED:
        tally->failed++;
        g_strlcpy (tally->error, event->error->message, sizeof tally->error);
        break;
    }
  }
  g_array_unref (events);
}

/* Bytes @from to @to of @file's piece @piece, as @member sends them (a
 * copy, @corrupt: with its first byte changed). */
static GArray *
send_part (HangoutPieceWindow *window, TestFile *file, const gchar *member,
    HangoutPieceWindowRole role, guint64 piece, gsize from, gsize to,
    gboolean corrupt, gint64 now)
{
  guint64 offset = piece * file->piece_size + from;
  g_autofree guint8 *copy = g_memdup2 (file->data + offset, to - from);

  if (corrupt)
    copy[0] ^= 0xff;
  return hangout_piece_window_data (window, member, role, offset, copy,
      to - from, now);
}

/* The whole piece @piece from @member, in messages of @chunk bytes. */
static void
send_piece (HangoutPieceWindow *window, TestFile *file, Tally *t,
    const gchar *member, HangoutPieceWindowRole role, guint64 piece,
    gsize chunk, gboolean corrupt, gint64 now)
{
  gsize len = piece_len (file, piece);

  for (gsize from = 0; from < len; from += chunk)
    tally (t, file, send_part (window, file, member, role, piece, from,
            MIN (from + chunk, len), corrupt && from == 0, now));
}

static void
send_hashes (HangoutPieceWindow *window, TestFile *file, Tally *t,
    guint64 first, guint64 count, gint64 now)
{
  tally (t, file, hangout_piece_window_hashes (window, SHARER, first, count,
          file->hashes + first * HASH, now));
}

/* Pops every piece ready into @sum; returns how many. */
static guint
drain (HangoutPieceWindow *window, GChecksum *sum)
{
  GBytes *piece;
  guint n = 0;

  while ((piece = hangout_piece_window_pop (window)) != NULL) {
    gsize len;
    const guint8 *data = g_bytes_get_data (piece, &len);

    g_checksum_update (sum, data, len);
    g_bytes_unref (piece);
    n++;
  }
  return n;
}

static void
end_file (HangoutPieceWindow *window, TestFile *file, Tally *t, gint64 now)
{
  tally (t, file, hangout_piece_window_end (window, file->size, file->root,
          now));
}

/* The file is complete, its output's SHA-256 is the file's and its root
 * the file's. */
static void
assert_complete (HangoutPieceWindow *window, TestFile *file, GChecksum *sum)
{
  g_autofree gchar *expected = g_compute_checksum_for_data (G_CHECKSUM_SHA256,
      file->data, file->size);
  guint8 root[HASH];

  fail_unless_equals_int (hangout_piece_window_get_state (window, NULL),
      HANGOUT_PIECE_WINDOW_COMPLETE);
  fail_unless_equals_string (g_checksum_get_string (sum), expected);
  fail_unless (hangout_piece_window_get_root (window, root));
  fail_unless (memcmp (root, file->root, HASH) == 0);
  fail_unless_equals_uint64 (hangout_piece_window_get_next (window),
      file->n_pieces);
  fail_unless_equals_uint64 (hangout_piece_window_get_bytes_held (window), 0);
}

/* "[first,count][first,count]…" of @ranges (freed). */
static gchar *
ranges_text (GArray *ranges)
{
  GString *text = g_string_new ("");

  for (guint i = 0; i < ranges->len; i++) {
    HangoutPieceRange *range = &g_array_index (ranges, HangoutPieceRange, i);

    g_string_append_printf (text, "[%" G_GUINT64_FORMAT ",%" G_GUINT64_FORMAT
        "]", range->first, range->count);
  }
  g_array_unref (ranges);
  return g_string_free (text, FALSE);
}

#define assert_ranges(call, expected) G_STMT_START { \
  g_autofree gchar *text_ = ranges_text (call); \
  fail_unless_equals_string (text_, expected); \
} G_STMT_END

static HangoutPieceWindow *
window_new (gint64 size, gsize piece_size, gsize window)
{
  GError *error = NULL;
  HangoutPieceWindow *w = hangout_piece_window_new (size, piece_size, window,
      SHARER, &error);

  fail_unless (w != NULL, "%s", error ? error->message : "");
  return w;
}

/* A message a member is sending, for the interleaving below. */
typedef struct {
  const gchar *member;
  HangoutPieceWindowRole role;
  GArray *pieces;               /* guint64, in the order it sends them */
  guint at;                     /* index in pieces */
  gsize from;                   /* in the piece */
} Sender;

/* Pieces from the sharer (direct and assigned) and two forwarders, each
 * member's in shuffled order, their messages interleaved one by one, the
 * output popped as it becomes ready: the file comes out whole. */
GST_START_TEST (test_shuffled_members)
{
  g_autoptr (TestFile) file = test_file_new (1024 * KIB + 12345, 64 * KIB);
  g_autoptr (HangoutPieceWindow) w = window_new (file->size, 64 * KIB,
      2048 * KIB);
  g_autoptr (GChecksum) sum = g_checksum_new (G_CHECKSUM_SHA256);
  g_autoptr (GRand) rand = g_rand_new_with_seed (251);
  Sender senders[] = {
    { .member = SHARER, .role = HANGOUT_PIECE_WINDOW_ROLE_DIRECT },
    { .member = SHARER, .role = HANGOUT_PIECE_WINDOW_ROLE_ASSIGNED },
    { .member = "bob", .role = HANGOUT_PIECE_WINDOW_ROLE_FORWARDED },
    { .member = "carol", .role = HANGOUT_PIECE_WINDOW_ROLE_FORWARDED },
  };
  /* The sharer's two roles come on one channel: one after the other. */
  const gsize chunks[] = { CHUNK, 20000, 9999, 4096 };
  Tally t = { 0 };
  guint assigned = 0;
  gboolean more = TRUE;

  fail_unless_equals_uint64 (file->n_pieces, 17);
  send_hashes (w, file, &t, 0, 10, 0);
  send_hashes (w, file, &t, 10, file->n_pieces - 10, 0);
  for (guint s = 0; s < G_N_ELEMENTS (senders); s++)
    senders[s].pieces = g_array_new (FALSE, FALSE, sizeof (guint64));
  for (guint64 piece = 0; piece < file->n_pieces; piece++) {
    g_array_append_val (senders[piece % 4].pieces, piece);
    assigned += piece % 4 == 1;
  }
  for (guint s = 0; s < G_N_ELEMENTS (senders); s++) {
    GArray *pieces = senders[s].pieces;

    for (guint i = pieces->len; i > 1; i--) {
      guint j = g_rand_int_range (rand, 0, (gint32) i);
      guint64 swap = g_array_index (pieces, guint64, i - 1);

      g_array_index (pieces, guint64, i - 1) =
          g_array_index (pieces, guint64, j);
      g_array_index (pieces, guint64, j) = swap;
    }
  }
  while (more) {
    more = FALSE;
    for (guint s = 0; s < G_N_ELEMENTS (senders); s++) {
      Sender *sender = &senders[s];
      guint64 piece;
      gsize len;

      /* The sharer sends its direct pieces first, then the assigned. */
      if (sender->at == sender->pieces->len || (s == 1
              && senders[0].at < senders[0].pieces->len))
        continue;
      more = TRUE;
      piece = g_array_index (sender->pieces, guint64, sender->at);
      len = piece_len (file, piece);
      tally (&t, file, send_part (w, file, sender->member, sender->role,
              piece, sender->from, MIN (sender->from + chunks[s], len), FALSE,
              0));
      sender->from = MIN (sender->from + chunks[s], len);
      if (sender->from == len) {
        sender->at++;
        sender->from = 0;
      }
      drain (w, sum);
    }
  }
  fail_unless_equals_int (t.verified, file->n_pieces);
  fail_unless_equals_int (t.forwarded, assigned);
  fail_unless_equals_int (t.dropped + t.corrupt + t.failed, 0);
  fail_unless_equals_int (hangout_piece_window_get_state (w, NULL),
      HANGOUT_PIECE_WINDOW_RECEIVING);
  end_file (w, file, &t, 0);
  assert_complete (w, file, sum);
  for (guint s = 0; s < G_N_ELEMENTS (senders); s++)
    g_array_unref (senders[s].pieces);
}

GST_END_TEST;

/* A forwarder's corrupt piece is dropped and reported with its name, then
 * requested, and the sharer's repair completes the file. The file is
 * §4.10's: 70000 bytes in three 32 KiB pieces. */
GST_START_TEST (test_corrupt_from_forwarder)
{
  g_autoptr (TestFile) file = test_file_new (70000, 32 * KIB);
  g_autoptr (HangoutPieceWindow) w = window_new (file->size, 32 * KIB,
      8192 * KIB);
  g_autoptr (GChecksum) sum = g_checksum_new (G_CHECKSUM_SHA256);
  Tally t = { 0 };

  send_hashes (w, file, &t, 0, 3, 0);
  send_piece (w, file, &t, SHARER, HANGOUT_PIECE_WINDOW_ROLE_ASSIGNED, 0,
      CHUNK, FALSE, 0);
  send_piece (w, file, &t, "carol", HANGOUT_PIECE_WINDOW_ROLE_FORWARDED, 1,
      CHUNK, TRUE, 0);
  fail_unless_equals_int (t.corrupt, 1);
  fail_unless_equals_uint64 (t.piece, 1);
  fail_unless_equals_string (t.member, "carol");
  fail_if (t.excluded);
  send_piece (w, file, &t, "dave", HANGOUT_PIECE_WINDOW_ROLE_FORWARDED, 2,
      CHUNK, FALSE, 0);
  fail_unless_equals_int (drain (w, sum), 1);
  /* Requested at once, not again before the retry time. */
  assert_ranges (hangout_piece_window_repair (w, 0), "[1,1]");
  assert_ranges (hangout_piece_window_repair (w, SECOND), "");
  send_piece (w, file, &t, SHARER, HANGOUT_PIECE_WINDOW_ROLE_REPAIR, 1,
      CHUNK, FALSE, SECOND);
  fail_unless_equals_int (t.verified, 3);
  fail_unless_equals_int (drain (w, sum), 2);
  end_file (w, file, &t, SECOND);
  assert_complete (w, file, sum);
  fail_unless_equals_int (t.failed, 0);
}

GST_END_TEST;

/* A corrupt piece from the sharer itself fails the file, and nothing of
 * it is output or held afterwards. */
GST_START_TEST (test_corrupt_from_sharer)
{
  g_autoptr (TestFile) file = test_file_new (70000, 32 * KIB);
  g_autoptr (HangoutPieceWindow) w = window_new (file->size, 32 * KIB,
      64 * KIB);
  GError *error = NULL;
  Tally t = { 0 };

  send_hashes (w, file, &t, 0, 2, 0);
  send_piece (w, file, &t, "bob", HANGOUT_PIECE_WINDOW_ROLE_FORWARDED, 0,
      CHUNK, FALSE, 0);
  send_piece (w, file, &t, SHARER, HANGOUT_PIECE_WINDOW_ROLE_DIRECT, 1,
      10000, TRUE, 0);
  fail_unless_equals_int (t.failed, 1);
  fail_unless_equals_int (t.corrupt, 0);
  fail_unless_equals_string (t.error,
      "piece 1 from the sharer alice failed its own hash");
  fail_unless_equals_int (hangout_piece_window_get_state (w, &error),
      HANGOUT_PIECE_WINDOW_FAILED);
  fail_unless_equals_string (error->message, t.error);
  g_clear_error (&error);
  fail_unless (hangout_piece_window_pop (w) == NULL);
  fail_unless_equals_uint64 (hangout_piece_window_get_bytes_held (w), 0);
  send_piece (w, file, &t, SHARER, HANGOUT_PIECE_WINDOW_ROLE_REPAIR, 1,
      CHUNK, FALSE, 0);
  fail_unless_equals_string (t.reason, "the file is over");
  end_file (w, file, &t, 0);
  fail_unless_equals_int (hangout_piece_window_get_state (w, NULL),
      HANGOUT_PIECE_WINDOW_FAILED);
  assert_ranges (hangout_piece_window_repair (w, 10 * SECOND), "");
}

GST_END_TEST;

/* After 3 corrupt pieces a member's data are dropped unread; the pieces
 * are requested from the sharer. */
GST_START_TEST (test_three_strikes)
{
  g_autoptr (TestFile) file = test_file_new (128 * KIB, 16 * KIB);
  g_autoptr (HangoutPieceWindow) w = window_new (file->size, 16 * KIB,
      128 * KIB);
  Tally t = { 0 };

  send_hashes (w, file, &t, 0, 8, 0);
  for (guint64 piece = 0; piece < 3; piece++) {
    send_piece (w, file, &t, "mallory", HANGOUT_PIECE_WINDOW_ROLE_FORWARDED,
        piece, CHUNK, TRUE, 0);
    fail_unless_equals_int (t.corrupt, piece + 1);
    fail_unless_equals_string (t.member, "mallory");
    fail_unless_equals_int (t.excluded, piece == 2);
  }
  /* Even a good piece from it is no longer read. */
  send_piece (w, file, &t, "mallory", HANGOUT_PIECE_WINDOW_ROLE_FORWARDED, 3,
      CHUNK, FALSE, 0);
  fail_unless_equals_int (t.verified, 0);
  fail_unless_equals_string (t.reason,
      "the member sent too many corrupt pieces");
  fail_unless_equals_uint64 (hangout_piece_window_get_bytes_held (w), 0);
  send_piece (w, file, &t, "bob", HANGOUT_PIECE_WINDOW_ROLE_FORWARDED, 3,
      CHUNK, FALSE, 0);
  fail_unless_equals_int (t.verified, 1);
  assert_ranges (hangout_piece_window_repair (w, 0), "[0,3]");
  fail_unless_equals_int (hangout_piece_window_get_state (w, NULL),
      HANGOUT_PIECE_WINDOW_RECEIVING);
}

GST_END_TEST;

/* A piece held, being assembled from another member, or already output is
 * dropped, and costs no memory. */
GST_START_TEST (test_duplicates)
{
  g_autoptr (TestFile) file = test_file_new (70000, 32 * KIB);
  g_autoptr (HangoutPieceWindow) w = window_new (file->size, 32 * KIB,
      64 * KIB);
  g_autoptr (GChecksum) sum = g_checksum_new (G_CHECKSUM_SHA256);
  Tally t = { 0 };

  send_hashes (w, file, &t, 0, 2, 0);
  tally (&t, file, send_part (w, file, "bob",
          HANGOUT_PIECE_WINDOW_ROLE_FORWARDED, 0, 0, 10000, FALSE, 0));
  fail_unless_equals_uint64 (hangout_piece_window_get_bytes_held (w),
      32 * KIB);
  tally (&t, file, send_part (w, file, "carol",
          HANGOUT_PIECE_WINDOW_ROLE_FORWARDED, 0, 0, 10000, FALSE, 0));
  fail_unless_equals_int (t.dropped, 1);
  fail_unless_equals_string (t.reason,
      "a duplicate: held or being assembled from another member");
  fail_unless_equals_uint64 (hangout_piece_window_get_bytes_held (w),
      32 * KIB);
  tally (&t, file, send_part (w, file, "bob",
          HANGOUT_PIECE_WINDOW_ROLE_FORWARDED, 0, 10000, 32 * KIB, FALSE, 0));
  fail_unless_equals_int (t.verified, 1);
  send_piece (w, file, &t, SHARER, HANGOUT_PIECE_WINDOW_ROLE_REPAIR, 0,
      CHUNK, FALSE, 0);
  fail_unless_equals_int (t.dropped, 2);
  fail_unless_equals_string (t.reason,
      "a duplicate: held or being assembled from another member");
  fail_unless_equals_int (drain (w, sum), 1);
  send_piece (w, file, &t, "carol", HANGOUT_PIECE_WINDOW_ROLE_FORWARDED, 0,
      CHUNK, FALSE, 0);
  fail_unless_equals_int (t.dropped, 3);
  fail_unless_equals_string (t.reason, "a duplicate: already output");
  fail_unless_equals_int (t.verified, 1);
  fail_unless_equals_uint64 (hangout_piece_window_get_bytes_held (w), 0);
}

GST_END_TEST;

/* Data and hashes of pieces beyond the window are dropped; once the
 * window moves, the piece is taken, and it waits for its hash. */
GST_START_TEST (test_beyond_window)
{
  g_autoptr (TestFile) file = test_file_new (80 * KIB, 16 * KIB);
  g_autoptr (HangoutPieceWindow) w = window_new (file->size, 16 * KIB,
      32 * KIB);
  g_autoptr (GChecksum) sum = g_checksum_new (G_CHECKSUM_SHA256);
  Tally t = { 0 };

  send_hashes (w, file, &t, 0, 5, 0);
  fail_unless_equals_string (t.reason, "hashes outside the window");
  send_piece (w, file, &t, "bob", HANGOUT_PIECE_WINDOW_ROLE_FORWARDED, 2,
      CHUNK, FALSE, 0);
  fail_unless_equals_int (t.dropped, 2);
  fail_unless_equals_string (t.reason, "beyond the window");
  fail_unless_equals_uint64 (hangout_piece_window_get_bytes_held (w), 0);
  send_piece (w, file, &t, SHARER, HANGOUT_PIECE_WINDOW_ROLE_DIRECT, 0,
      CHUNK, FALSE, 0);
  fail_unless_equals_int (drain (w, sum), 1);
  /* Piece 2 is in the window now, but its hash was dropped. */
  send_piece (w, file, &t, "bob", HANGOUT_PIECE_WINDOW_ROLE_FORWARDED, 2,
      CHUNK, FALSE, 0);
  fail_unless_equals_int (t.verified, 1);
  send_hashes (w, file, &t, 2, 1, 0);
  fail_unless_equals_int (t.verified, 2);
  fail_unless_equals_uint64 (t.piece, 2);
  fail_unless_equals_int (drain (w, sum), 0);
}

GST_END_TEST;

/* A message that does not continue its sender's piece is dropped with the
 * piece; so is the start of a new piece before the last one ended, and
 * data that do not begin at a piece's first byte. */
GST_START_TEST (test_not_continuing)
{
  g_autoptr (TestFile) file = test_file_new (70000, 32 * KIB);
  g_autoptr (HangoutPieceWindow) w = window_new (file->size, 32 * KIB,
      128 * KIB);
  g_autoptr (GChecksum) sum = g_checksum_new (G_CHECKSUM_SHA256);
  Tally t = { 0 };

  send_hashes (w, file, &t, 0, 3, 0);
  tally (&t, file, send_part (w, file, "bob",
          HANGOUT_PIECE_WINDOW_ROLE_FORWARDED, 1, 0, 10000, FALSE, 0));
  tally (&t, file, send_part (w, file, "bob",
          HANGOUT_PIECE_WINDOW_ROLE_FORWARDED, 1, 20000, 30000, FALSE, 0));
  fail_unless_equals_string (t.reason,
      "does not continue the piece its sender was sending");
  fail_unless_equals_uint64 (hangout_piece_window_get_bytes_held (w), 0);
  tally (&t, file, send_part (w, file, "bob",
          HANGOUT_PIECE_WINDOW_ROLE_FORWARDED, 1, 10000, 20000, FALSE, 0));
  fail_unless_equals_string (t.reason,
      "does not start at the first byte of a piece");
  /* A new piece before the last one ended. */
  tally (&t, file, send_part (w, file, "bob",
          HANGOUT_PIECE_WINDOW_ROLE_FORWARDED, 1, 0, 10000, FALSE, 0));
  tally (&t, file, send_part (w, file, "bob",
          HANGOUT_PIECE_WINDOW_ROLE_FORWARDED, 2, 0, 4464, FALSE, 0));
  fail_unless_equals_string (t.reason,
      "does not continue the piece its sender was sending");
  fail_unless_equals_uint64 (hangout_piece_window_get_bytes_held (w), 0);
  /* A message across two pieces. */
  tally (&t, file, hangout_piece_window_data (w, "bob",
          HANGOUT_PIECE_WINDOW_ROLE_FORWARDED, 32 * KIB - 10,
          file->data + 32 * KIB - 10, 20, 0));
  fail_unless_equals_string (t.reason, "not within one piece");
  fail_unless_equals_int (t.dropped, 4);
  fail_unless_equals_int (t.verified, 0);
  /* Piece 1 is free for another member; bob starts afresh on piece 2. */
  send_piece (w, file, &t, "carol", HANGOUT_PIECE_WINDOW_ROLE_FORWARDED, 1,
      7000, FALSE, 0);
  send_piece (w, file, &t, "bob", HANGOUT_PIECE_WINDOW_ROLE_FORWARDED, 2,
      1000, FALSE, 0);
  send_piece (w, file, &t, "dave", HANGOUT_PIECE_WINDOW_ROLE_FORWARDED, 0,
      CHUNK, FALSE, 0);
  fail_unless_equals_int (t.verified, 3);
  fail_unless_equals_int (t.dropped, 4);
  fail_unless_equals_int (drain (w, sum), 3);
  end_file (w, file, &t, 0);
  assert_complete (w, file, sum);
}

GST_END_TEST;

/* Direct and assigned only from the sharer; data past the end of the file
 * or of an unknown role is dropped. */
GST_START_TEST (test_roles)
{
  g_autoptr (TestFile) file = test_file_new (70000, 32 * KIB);
  g_autoptr (HangoutPieceWindow) w = window_new (file->size, 32 * KIB,
      128 * KIB);
  Tally t = { 0 };
  guint8 byte = 0;

  send_hashes (w, file, &t, 0, 3, 0);
  send_piece (w, file, &t, "bob", HANGOUT_PIECE_WINDOW_ROLE_ASSIGNED, 0,
      CHUNK, FALSE, 0);
  fail_unless_equals_string (t.reason,
      "direct or assigned from a member other than the sharer");
  send_piece (w, file, &t, "bob", HANGOUT_PIECE_WINDOW_ROLE_DIRECT, 0,
      CHUNK, FALSE, 0);
  fail_unless_equals_string (t.reason,
      "direct or assigned from a member other than the sharer");
  tally (&t, file, hangout_piece_window_data (w, SHARER,
          HANGOUT_PIECE_WINDOW_ROLE_DIRECT, 70000, &byte, 1, 0));
  fail_unless_equals_string (t.reason, "past the end of the file");
  send_piece (w, file, &t, SHARER, (HangoutPieceWindowRole) 4, 0, CHUNK,
      FALSE, 0);
  fail_unless_equals_string (t.reason, "an unknown role");
  fail_unless_equals_int (t.dropped, 4);
  /* A repair from any member is taken (it is verified like the rest). */
  send_piece (w, file, &t, "bob", HANGOUT_PIECE_WINDOW_ROLE_REPAIR, 0,
      CHUNK, FALSE, 0);
  send_piece (w, file, &t, SHARER, HANGOUT_PIECE_WINDOW_ROLE_ASSIGNED, 1,
      CHUNK, FALSE, 0);
  fail_unless_equals_int (t.verified, 2);
  fail_unless_equals_int (t.forwarded, 1);
  fail_unless_equals_uint64 (t.piece, 1);
}

GST_END_TEST;

/* Pieces that come before their hashes wait unverified, not output, and
 * are verified when the hashes come. */
GST_START_TEST (test_hash_after_piece)
{
  g_autoptr (TestFile) file = test_file_new (200000, 64 * KIB);
  g_autoptr (HangoutPieceWindow) w = window_new (file->size, 64 * KIB,
      256 * KIB);
  g_autoptr (GChecksum) sum = g_checksum_new (G_CHECKSUM_SHA256);
  Tally t = { 0 };

  send_piece (w, file, &t, "bob", HANGOUT_PIECE_WINDOW_ROLE_FORWARDED, 1,
      CHUNK, FALSE, 0);
  send_piece (w, file, &t, SHARER, HANGOUT_PIECE_WINDOW_ROLE_ASSIGNED, 0,
      CHUNK, FALSE, 0);
  send_piece (w, file, &t, "carol", HANGOUT_PIECE_WINDOW_ROLE_FORWARDED, 3,
      CHUNK, TRUE, 0);
  fail_unless_equals_int (t.verified + t.corrupt + t.dropped, 0);
  fail_unless (hangout_piece_window_pop (w) == NULL);
  fail_unless_equals_uint64 (hangout_piece_window_get_bytes_held (w),
      2 * 64 * KIB + (200000 - 3 * 64 * KIB));
  /* Nothing verified, so nothing announced. */
  {
    guint64 next;

    assert_ranges (hangout_piece_window_build_have (w, &next), "");
  }
  send_hashes (w, file, &t, 0, 4, 0);
  fail_unless_equals_int (t.verified, 2);
  fail_unless_equals_int (t.forwarded, 1);
  fail_unless_equals_int (t.corrupt, 1);
  fail_unless_equals_string (t.member, "carol");
  fail_unless_equals_uint64 (t.piece, 3);
  send_piece (w, file, &t, "dave", HANGOUT_PIECE_WINDOW_ROLE_FORWARDED, 2,
      CHUNK, FALSE, 0);
  send_piece (w, file, &t, SHARER, HANGOUT_PIECE_WINDOW_ROLE_REPAIR, 3,
      CHUNK, FALSE, 0);
  fail_unless_equals_int (drain (w, sum), 4);
  end_file (w, file, &t, 0);
  assert_complete (w, file, sum);
}

GST_END_TEST;

/* A file of unknown size: its short last piece is verified once `end`
 * gives the size, and a file smaller than one piece (whose piece hash is
 * the root, a lower level than a whole piece's) too. */
GST_START_TEST (test_unknown_size)
{
  const gsize sizes[] = { 200000, 20000, 3 * 64 * KIB };

  for (guint s = 0; s < G_N_ELEMENTS (sizes); s++) {
    g_autoptr (TestFile) file = test_file_new (sizes[s], 64 * KIB);
    g_autoptr (HangoutPieceWindow) w = window_new (-1, 64 * KIB, 512 * KIB);
    g_autoptr (GChecksum) sum = g_checksum_new (G_CHECKSUM_SHA256);
    gboolean short_last = sizes[s] % (64 * KIB) != 0;
    Tally t = { 0 };

    send_hashes (w, file, &t, 0, file->n_pieces, 0);
    for (guint64 piece = file->n_pieces; piece-- > 0;)
      send_piece (w, file, &t, piece % 2 ? "bob" : SHARER,
          piece % 2 ? HANGOUT_PIECE_WINDOW_ROLE_FORWARDED
          : HANGOUT_PIECE_WINDOW_ROLE_ASSIGNED, piece, 5000, FALSE, 0);
    fail_unless_equals_int (t.verified, file->n_pieces - short_last);
    fail_unless_equals_int (drain (w, sum), file->n_pieces - short_last);
    fail_unless_equals_int (hangout_piece_window_get_state (w, NULL),
        HANGOUT_PIECE_WINDOW_RECEIVING);
    end_file (w, file, &t, 0);
    fail_unless_equals_int (t.verified, file->n_pieces);
    fail_unless_equals_int (t.corrupt + t.dropped + t.failed, 0);
    fail_unless_equals_int (drain (w, sum), short_last);
    assert_complete (w, file, sum);
  }
}

GST_END_TEST;

/* An empty file has no piece: `end` completes it, with the root of no
 * bytes; whether its size was known or not. */
GST_START_TEST (test_empty)
{
  const gint64 sizes[] = { 0, -1 };

  for (guint s = 0; s < G_N_ELEMENTS (sizes); s++) {
    g_autoptr (TestFile) file = test_file_new (0, 64 * KIB);
    g_autoptr (HangoutPieceWindow) w = window_new (sizes[s], 64 * KIB,
        128 * KIB);
    g_autoptr (GChecksum) sum = g_checksum_new (G_CHECKSUM_SHA256);
    Tally t = { 0 };
    guint8 byte = 0;

    if (sizes[s] == 0) {
      tally (&t, file, hangout_piece_window_data (w, SHARER,
              HANGOUT_PIECE_WINDOW_ROLE_DIRECT, 0, &byte, 1, 0));
      fail_unless_equals_string (t.reason, "past the end of the file");
    }
    fail_unless (hangout_piece_window_pop (w) == NULL);
    end_file (w, file, &t, 0);
    fail_unless (hangout_piece_window_pop (w) == NULL);
    assert_complete (w, file, sum);
    fail_unless_equals_string (g_checksum_get_string (sum),
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  }
}

GST_END_TEST;

/* `end` with another root or size fails the file; with a piece missing
 * the file is not complete, whatever comes after it. */
GST_START_TEST (test_end)
{
  g_autoptr (TestFile) file = test_file_new (70000, 32 * KIB);
  guint8 other[HASH];
  GError *error = NULL;

  memcpy (other, file->root, HASH);
  other[31] ^= 1;
  {
    g_autoptr (HangoutPieceWindow) w = window_new (file->size, 32 * KIB,
        128 * KIB);
    g_autoptr (GChecksum) sum = g_checksum_new (G_CHECKSUM_SHA256);
    Tally t = { 0 };
    guint8 root[HASH];

    send_hashes (w, file, &t, 0, 3, 0);
    for (guint64 piece = 0; piece < 3; piece++)
      send_piece (w, file, &t, "bob", HANGOUT_PIECE_WINDOW_ROLE_FORWARDED,
          piece, CHUNK, FALSE, 0);
    tally (&t, file, hangout_piece_window_end (w, file->size, other, 0));
    fail_unless_equals_int (t.failed, 0);
    fail_unless_equals_int (drain (w, sum), 3);
    fail_unless_equals_int (hangout_piece_window_get_state (w, &error),
        HANGOUT_PIECE_WINDOW_FAILED);
    fail_unless_equals_string (error->message,
        "the root of the 70000 bytes output is not the one end gives");
    g_clear_error (&error);
    /* The root of what it has, for the `ack`. */
    fail_unless (hangout_piece_window_get_root (w, root));
    fail_unless (memcmp (root, file->root, HASH) == 0);
  }
  {
    g_autoptr (HangoutPieceWindow) w = window_new (file->size, 32 * KIB,
        128 * KIB);
    Tally t = { 0 };

    tally (&t, file, hangout_piece_window_end (w, 70001, file->root, 0));
    fail_unless_equals_string (t.error, "end gives 70001 bytes, the offer "
        "70000");
  }
  {
    g_autoptr (HangoutPieceWindow) w = window_new (file->size, 32 * KIB,
        128 * KIB);
    g_autoptr (GChecksum) sum = g_checksum_new (G_CHECKSUM_SHA256);
    Tally t = { 0 };
    guint8 root[HASH];

    send_hashes (w, file, &t, 0, 3, 0);
    send_piece (w, file, &t, "bob", HANGOUT_PIECE_WINDOW_ROLE_FORWARDED, 0,
        CHUNK, FALSE, 0);
    send_piece (w, file, &t, "bob", HANGOUT_PIECE_WINDOW_ROLE_FORWARDED, 2,
        CHUNK, FALSE, 0);
    end_file (w, file, &t, 0);
    fail_unless_equals_int (drain (w, sum), 1);
    fail_unless_equals_int (hangout_piece_window_get_state (w, NULL),
        HANGOUT_PIECE_WINDOW_RECEIVING);
    fail_if (hangout_piece_window_get_root (w, root));
    /* A second end changes nothing. */
    end_file (w, file, &t, 0);
    fail_unless_equals_string (t.reason, "end after the file ended");
    fail_unless_equals_int (hangout_piece_window_get_state (w, NULL),
        HANGOUT_PIECE_WINDOW_RECEIVING);
  }
}

GST_END_TEST;

/* A piece missing while a later one is held verified is requested after
 * 1 s, not again before the retry time; after `end` the last pieces are
 * requested 1 s after it, and what a forwarder had sent of one is
 * dropped so that the sharer's repair is taken. */
GST_START_TEST (test_repair_timing)
{
  g_autoptr (TestFile) file = test_file_new (64 * KIB, 16 * KIB);
  g_autoptr (HangoutPieceWindow) w = window_new (file->size, 16 * KIB,
      64 * KIB);
  g_autoptr (GChecksum) sum = g_checksum_new (G_CHECKSUM_SHA256);
  const gint64 t0 = 1000 * SECOND;
  gint64 t1;
  Tally t = { 0 };

  send_hashes (w, file, &t, 0, 4, t0);
  assert_ranges (hangout_piece_window_repair (w, t0 + 10 * SECOND), "");
  send_piece (w, file, &t, "bob", HANGOUT_PIECE_WINDOW_ROLE_FORWARDED, 1,
      CHUNK, FALSE, t0);
  assert_ranges (hangout_piece_window_repair (w, t0 + SECOND - 1), "");
  assert_ranges (hangout_piece_window_repair (w, t0 + SECOND), "[0,1]");
  assert_ranges (hangout_piece_window_repair (w, t0 + 2 * SECOND), "");
  assert_ranges (hangout_piece_window_repair (w,
          t0 + SECOND + HANGOUT_PIECE_WINDOW_RETRY_US), "[0,1]");
  send_piece (w, file, &t, SHARER, HANGOUT_PIECE_WINDOW_ROLE_REPAIR, 0,
      CHUNK, FALSE, t0 + 5 * SECOND);
  fail_unless_equals_int (drain (w, sum), 2);

  /* carol is sending piece 2, too slowly. */
  tally (&t, file, send_part (w, file, "carol",
          HANGOUT_PIECE_WINDOW_ROLE_FORWARDED, 2, 0, 1000, FALSE,
          t0 + 5 * SECOND));
  t1 = t0 + 6 * SECOND;
  end_file (w, file, &t, t1);
  assert_ranges (hangout_piece_window_repair (w, t1 + SECOND - 1), "");
  assert_ranges (hangout_piece_window_repair (w, t1 + SECOND), "[2,2]");
  fail_unless_equals_uint64 (hangout_piece_window_get_bytes_held (w), 0);
  tally (&t, file, send_part (w, file, "carol",
          HANGOUT_PIECE_WINDOW_ROLE_FORWARDED, 2, 1000, 16 * KIB, FALSE, t1));
  fail_unless_equals_string (t.reason,
      "does not start at the first byte of a piece");
  send_piece (w, file, &t, SHARER, HANGOUT_PIECE_WINDOW_ROLE_REPAIR, 2,
      CHUNK, FALSE, t1 + SECOND);
  send_piece (w, file, &t, SHARER, HANGOUT_PIECE_WINDOW_ROLE_REPAIR, 3,
      CHUNK, FALSE, t1 + SECOND);
  fail_unless_equals_int (drain (w, sum), 2);
  assert_complete (w, file, sum);
  fail_unless_equals_int (t.dropped, 1);
}

GST_END_TEST;

/* Forwarded pieces that come 3 s after their hash (a forwarder whose
 * upload queue is deep): the repair delay grows past that, so a piece
 * that is merely as late as the others is not fetched from the sharer
 * too; it stays within its bounds. */
GST_START_TEST (test_repair_delay_follows_lag)
{
  g_autoptr (TestFile) file = test_file_new (16 * 16 * KIB, 16 * KIB);
  g_autoptr (HangoutPieceWindow) w = window_new (file->size, 16 * KIB,
      16 * 16 * KIB);
  g_autoptr (GChecksum) sum = g_checksum_new (G_CHECKSUM_SHA256);
  const gint64 t0 = 1000 * SECOND, lag = 3 * SECOND;
  gint64 delay, held;
  Tally t = { 0 };

  fail_unless_equals_int64 (hangout_piece_window_get_repair_delay (w),
      HANGOUT_PIECE_WINDOW_REPAIR_DELAY_MIN_US);
  send_hashes (w, file, &t, 0, 10, t0);
  for (guint64 i = 0; i < 8; i++)
    send_piece (w, file, &t, "bob", HANGOUT_PIECE_WINDOW_ROLE_FORWARDED, i,
        CHUNK, FALSE, t0 + lag);
  delay = hangout_piece_window_get_repair_delay (w);
  fail_unless (delay > lag && delay <= HANGOUT_PIECE_WINDOW_REPAIR_DELAY_MAX_US,
      "repair delay %" G_GINT64_FORMAT " µs", delay);
  fail_unless_equals_int (drain (w, sum), 8);
  /* Piece 9 comes, 8 does not. */
  held = t0 + lag;
  send_piece (w, file, &t, "carol", HANGOUT_PIECE_WINDOW_ROLE_FORWARDED, 9,
      CHUNK, FALSE, held);
  /* As late as the others: the estimate only settles. */
  fail_unless (hangout_piece_window_get_repair_delay (w) <= delay);
  delay = hangout_piece_window_get_repair_delay (w);
  fail_unless (delay > lag);
  assert_ranges (hangout_piece_window_repair (w, held + lag), "");
  assert_ranges (hangout_piece_window_repair (w, held + delay - 1), "");
  assert_ranges (hangout_piece_window_repair (w, held + delay), "[8,1]");
}

GST_END_TEST;

/* A member that leaves: what it was sending is dropped, and every missing
 * piece the sharer has sent (its hash came, or a later piece is held) is
 * requested at once. The sharer leaving before `end` fails the file. */
GST_START_TEST (test_member_left)
{
  g_autoptr (TestFile) file = test_file_new (160 * KIB, 16 * KIB);
  const gint64 t0 = 10 * SECOND;
  GError *error = NULL;
  Tally t = { 0 };

  {
    g_autoptr (HangoutPieceWindow) w = window_new (file->size, 16 * KIB,
        128 * KIB);

    send_hashes (w, file, &t, 0, 6, t0);
    send_piece (w, file, &t, SHARER, HANGOUT_PIECE_WINDOW_ROLE_ASSIGNED, 0,
        CHUNK, FALSE, t0);
    send_piece (w, file, &t, "bob", HANGOUT_PIECE_WINDOW_ROLE_FORWARDED, 2,
        CHUNK, FALSE, t0);
    send_piece (w, file, &t, "carol", HANGOUT_PIECE_WINDOW_ROLE_FORWARDED, 7,
        CHUNK, FALSE, t0);
    send_hashes (w, file, &t, 7, 1, t0);
    tally (&t, file, send_part (w, file, "bob",
            HANGOUT_PIECE_WINDOW_ROLE_FORWARDED, 3, 0, 5000, FALSE, t0));
    fail_unless_equals_int (t.verified, 3);
    fail_unless_equals_uint64 (hangout_piece_window_get_bytes_held (w),
        4 * 16 * KIB);
    /* Piece 0 verified is not missing; 6 has no hash yet but lies before
     * piece 7, held. */
    assert_ranges (hangout_piece_window_member_left (w, "bob", t0),
        "[1,1][3,4]");
    fail_unless_equals_uint64 (hangout_piece_window_get_bytes_held (w),
        3 * 16 * KIB);
    /* Not again before the retry time; then by the usual rule. */
    assert_ranges (hangout_piece_window_repair (w, t0 + SECOND), "");
    assert_ranges (hangout_piece_window_repair (w,
            t0 + HANGOUT_PIECE_WINDOW_RETRY_US), "[1,1][3,4]");
    fail_unless_equals_int (hangout_piece_window_get_state (w, NULL),
        HANGOUT_PIECE_WINDOW_RECEIVING);
    assert_ranges (hangout_piece_window_member_left (w, SHARER, t0), "");
    fail_unless_equals_int (hangout_piece_window_get_state (w, &error),
        HANGOUT_PIECE_WINDOW_FAILED);
    fail_unless_equals_string (error->message,
        "the sharer alice left before the end of the file");
    g_clear_error (&error);
    fail_unless_equals_uint64 (hangout_piece_window_get_bytes_held (w), 0);
  }
}

GST_END_TEST;

/* `have`: `next` and the verified pieces from it on, at most 64 ranges,
 * due each quarter window and once the file is complete. */
GST_START_TEST (test_have)
{
  g_autoptr (TestFile) file = test_file_new (128 * KIB, 16 * KIB);
  g_autoptr (HangoutPieceWindow) w = window_new (file->size, 16 * KIB,
      128 * KIB);
  g_autoptr (GChecksum) sum = g_checksum_new (G_CHECKSUM_SHA256);
  guint64 next = 99;
  Tally t = { 0 };

  assert_ranges (hangout_piece_window_build_have (w, &next), "");
  fail_unless_equals_uint64 (next, 0);
  send_hashes (w, file, &t, 0, 8, 0);
  for (guint64 piece = 1; piece < 8; piece++) {
    if (piece != 3)
      send_piece (w, file, &t, "bob", HANGOUT_PIECE_WINDOW_ROLE_FORWARDED,
          piece, CHUNK, FALSE, 0);
  }
  tally (&t, file, send_part (w, file, "carol",
          HANGOUT_PIECE_WINDOW_ROLE_FORWARDED, 3, 0, 100, FALSE, 0));
  fail_if (hangout_piece_window_have_due (w));
  assert_ranges (hangout_piece_window_build_have (w, &next), "[1,2][4,4]");
  fail_unless_equals_uint64 (next, 0);
  /* A quarter of the 8-piece window: 2 pieces. */
  send_piece (w, file, &t, SHARER, HANGOUT_PIECE_WINDOW_ROLE_DIRECT, 0,
      CHUNK, FALSE, 0);
  fail_unless_equals_int (drain (w, sum), 3);
  fail_unless (hangout_piece_window_have_due (w));
  assert_ranges (hangout_piece_window_build_have (w, &next), "[4,4]");
  fail_unless_equals_uint64 (next, 3);
  fail_if (hangout_piece_window_have_due (w));
  tally (&t, file, send_part (w, file, "carol",
          HANGOUT_PIECE_WINDOW_ROLE_FORWARDED, 3, 100, 16 * KIB, FALSE, 0));
  fail_unless_equals_int (drain (w, sum), 5);
  fail_unless (hangout_piece_window_have_due (w));
  end_file (w, file, &t, 0);
  assert_complete (w, file, sum);
  fail_unless (hangout_piece_window_have_due (w));
  assert_ranges (hangout_piece_window_build_have (w, &next), "");
  fail_unless_equals_uint64 (next, 8);
  fail_if (hangout_piece_window_have_due (w));

  /* Every other piece of a wide window: 64 ranges, the nearest ones. */
  {
    g_autoptr (TestFile) wide = test_file_new (300 * 16 * KIB, 16 * KIB);
    g_autoptr (HangoutPieceWindow) ww = window_new (wide->size, 16 * KIB,
        256 * 16 * KIB);
    g_autofree gchar *expected = NULL;
    GString *text = g_string_new ("");

    send_hashes (ww, wide, &t, 0, 256, 0);
    for (guint64 piece = 1; piece < 256; piece += 2)
      send_piece (ww, wide, &t, "bob", HANGOUT_PIECE_WINDOW_ROLE_FORWARDED,
          piece, CHUNK, FALSE, 0);
    for (guint64 piece = 1; piece < 128; piece += 2)
      g_string_append_printf (text, "[%" G_GUINT64_FORMAT ",1]", piece);
    expected = g_string_free (text, FALSE);
    assert_ranges (hangout_piece_window_build_have (ww, &next), expected);
  }
}

GST_END_TEST;

/* Far more than the window, from several members at once (each sends
 * every piece, and pieces beyond the window), never holds more than the
 * window; the file still comes out whole. */
GST_START_TEST (test_memory_bound)
{
  const gsize window = 64 * KIB;
  g_autoptr (TestFile) file = test_file_new (2048 * KIB, 16 * KIB);
  g_autoptr (HangoutPieceWindow) w = window_new (file->size, 16 * KIB,
      window);
  g_autoptr (GChecksum) sum = g_checksum_new (G_CHECKSUM_SHA256);
  const gchar *members[] = { "bob", "carol", "dave" };
  guint64 fed = 0;
  gsize most = 0;
  Tally t = { 0 };

  while (hangout_piece_window_get_next (w) < file->n_pieces) {
    guint64 next = hangout_piece_window_get_next (w);
    guint64 span = MIN (8, file->n_pieces - next);

    /* Each member sends every piece from next on, as many again beyond
     * the window, one piece at a time, all three at once on different
     * pieces, their messages (5000 bytes) interleaved. The hashes come
     * after the data, so that the pieces wait for them. */
    for (guint64 k = 0; k < span; k++) {
      for (gsize from = 0; from < 16 * KIB; from += 5000) {
        for (guint m = 0; m < G_N_ELEMENTS (members); m++) {
          guint64 piece = next + (k + m) % span;
          gsize to = MIN (from + 5000, 16 * KIB);

          tally (&t, file, send_part (w, file, members[m],
                  HANGOUT_PIECE_WINDOW_ROLE_FORWARDED, piece, from, to,
                  FALSE, 0));
          fed += to - from;
          most = MAX (most, hangout_piece_window_get_bytes_held (w));
          fail_unless (hangout_piece_window_get_bytes_held (w) <= window);
        }
      }
    }
    send_hashes (w, file, &t, next, span, 0);
    fail_unless (drain (w, sum) > 0);
  }
  fail_unless (fed > 100 * window, "fed %" G_GUINT64_FORMAT, fed);
  fail_unless_equals_uint64 (most, window);
  fail_unless_equals_int (t.verified, file->n_pieces);
  fail_unless_equals_int (t.corrupt + t.failed, 0);
  end_file (w, file, &t, 0);
  assert_complete (w, file, sum);
}

GST_END_TEST;

/* An offer's piece size and window outside §4.9's limits are refused with
 * its reject reasons. */
GST_START_TEST (test_refused)
{
  const struct {
    gsize piece_size, window;
    const gchar *reason;
  } cases[] = {
    { 8 * KIB, 64 * KIB, "piece-size not supported" },
    { 48 * KIB, 96 * KIB, "piece-size not supported" },
    { 2048 * KIB, 4096 * KIB, "piece-size not supported" },
    { 64 * KIB, 64 * KIB, "window not supported" },
    { 64 * KIB, 100 * KIB, "window not supported" },
    { 64 * KIB, 128 * 1024 * KIB, "window not supported" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++) {
    GError *error = NULL;

    fail_unless (hangout_piece_window_new (-1, cases[i].piece_size,
            cases[i].window, SHARER, &error) == NULL);
    fail_unless_equals_string (error->message, cases[i].reason);
    g_clear_error (&error);
  }
}

GST_END_TEST;

static Suite *
piece_window_suite (void)
{
  Suite *s = suite_create ("piece-window");
  TCase *tc = tcase_create ("window");

  tcase_set_timeout (tc, 30);
  tcase_add_test (tc, test_shuffled_members);
  tcase_add_test (tc, test_corrupt_from_forwarder);
  tcase_add_test (tc, test_corrupt_from_sharer);
  tcase_add_test (tc, test_three_strikes);
  tcase_add_test (tc, test_duplicates);
  tcase_add_test (tc, test_beyond_window);
  tcase_add_test (tc, test_not_continuing);
  tcase_add_test (tc, test_roles);
  tcase_add_test (tc, test_hash_after_piece);
  tcase_add_test (tc, test_unknown_size);
  tcase_add_test (tc, test_empty);
  tcase_add_test (tc, test_end);
  tcase_add_test (tc, test_repair_timing);
  tcase_add_test (tc, test_repair_delay_follows_lag);
  tcase_add_test (tc, test_member_left);
  tcase_add_test (tc, test_have);
  tcase_add_test (tc, test_memory_bound);
  tcase_add_test (tc, test_refused);
  suite_add_tcase (s, tc);
  return s;
}

GST_CHECK_MAIN (piece_window);
