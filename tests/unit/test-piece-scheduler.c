/* gst-hangout — whom a sharer hands each piece (piece-scheduler.h): the
 * shortest queue below the assignment window, directly to all when every
 * queue is full and the upload has room, never beyond a member's window,
 * no more to a member named corrupt for three pieces, every piece direct
 * with forwarding off, and what a leaving forwarder may have left
 * missing.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#include <gst/check/gstcheck.h>
#include <hangout/piece-scheduler.h>

#define PIECE 65536
#define WINDOW (8 * PIECE)
/* A queue at the assignment window: that member is handed nothing. */
#define FULL (HANGOUT_PIECE_SCHEDULER_ASSIGN_WINDOW * PIECE)

/* Each member's queue, by id: what the test says it is. */
static guint64
queue_of (const gchar *member, gpointer data)
{
  return GPOINTER_TO_SIZE (g_hash_table_lookup (data, member));
}

static void
set_queue (GHashTable *queues, const gchar *member, guint64 bytes)
{
  g_hash_table_insert (queues, (gpointer) member, GSIZE_TO_POINTER (bytes));
}

static HangoutPieceScheduler *
swarm_of (const gchar *const *members)
{
  HangoutPieceScheduler *s = hangout_piece_scheduler_new (PIECE, WINDOW);

  for (guint i = 0; members[i] != NULL; i++)
    fail_unless (hangout_piece_scheduler_add_member (s, members[i], 0));
  return s;
}

static const gchar *const three[] = { "bob", "carol", "dave", NULL };

/* Idle queues: pieces go round the swarm in turn, each once. */
GST_START_TEST (test_round_robin_when_idle)
{
  g_autoptr (HangoutPieceScheduler) s = swarm_of (three);
  g_autoptr (GHashTable) queues = g_hash_table_new (g_str_hash, g_str_equal);
  const gchar *order[6];

  for (guint64 i = 0; i < 6; i++)
    fail_unless_equals_int (hangout_piece_scheduler_decide (s, i, queue_of,
            queues, FALSE, &order[i]), HANGOUT_PIECE_ASSIGN);
  for (guint i = 0; i < 3; i++) {
    fail_unless_equals_string (order[i], three[i]);
    fail_unless_equals_string (order[i + 3], three[i]);
    fail_unless_equals_int (hangout_piece_scheduler_count_assigned (s,
            three[i]), 2);
  }
  fail_unless_equals_int (hangout_piece_scheduler_count_direct (s), 0);
}

GST_END_TEST;

/* A slow forwarder keeps its queue: the others get the pieces; a full
 * swarm waits, or gets the piece directly when the upload has room. */
GST_START_TEST (test_back_pressure)
{
  g_autoptr (HangoutPieceScheduler) s = swarm_of (three);
  g_autoptr (GHashTable) queues = g_hash_table_new (g_str_hash, g_str_equal);
  const gchar *forwarder = NULL;

  set_queue (queues, "bob", FULL);
  set_queue (queues, "carol", PIECE + 1);
  set_queue (queues, "dave", PIECE);
  fail_unless_equals_int (hangout_piece_scheduler_decide (s, 0, queue_of,
          queues, TRUE, &forwarder), HANGOUT_PIECE_ASSIGN);
  fail_unless_equals_string (forwarder, "dave");
  set_queue (queues, "dave", FULL + 10);
  fail_unless_equals_int (hangout_piece_scheduler_decide (s, 1, queue_of,
          queues, TRUE, &forwarder), HANGOUT_PIECE_ASSIGN);
  fail_unless_equals_string (forwarder, "carol");
  set_queue (queues, "carol", FULL + PIECE);
  forwarder = NULL;
  fail_unless_equals_int (hangout_piece_scheduler_decide (s, 2, queue_of,
          queues, FALSE, &forwarder), HANGOUT_PIECE_WAIT);
  fail_unless (forwarder == NULL);
  fail_unless_equals_int (hangout_piece_scheduler_decide (s, 2, queue_of,
          queues, TRUE, &forwarder), HANGOUT_PIECE_DIRECT);
  fail_unless_equals_int (hangout_piece_scheduler_count_direct (s), 1);
  fail_unless_equals_int (hangout_piece_scheduler_count_assigned (s, "bob"),
      0);
}

GST_END_TEST;

/* Nothing goes beyond the window of the member furthest behind, by its
 * latest have; an older have does not move it back. */
GST_START_TEST (test_window_limit)
{
  g_autoptr (HangoutPieceScheduler) s = swarm_of (three);
  g_autoptr (GHashTable) queues = g_hash_table_new (g_str_hash, g_str_equal);

  fail_unless_equals_int (hangout_piece_scheduler_get_limit (s), 8);
  fail_unless_equals_int (hangout_piece_scheduler_decide (s, 7, queue_of,
          queues, TRUE, NULL), HANGOUT_PIECE_ASSIGN);
  fail_unless_equals_int (hangout_piece_scheduler_decide (s, 8, queue_of,
          queues, TRUE, NULL), HANGOUT_PIECE_WAIT);
  fail_unless (hangout_piece_scheduler_set_next (s, "bob", 4));
  fail_unless (hangout_piece_scheduler_set_next (s, "carol", 6));
  fail_unless_equals_int (hangout_piece_scheduler_get_limit (s), 8);
  fail_unless (hangout_piece_scheduler_set_next (s, "dave", 2));
  fail_unless_equals_int (hangout_piece_scheduler_get_limit (s), 10);
  fail_unless (hangout_piece_scheduler_set_next (s, "dave", 1));
  fail_unless_equals_int (hangout_piece_scheduler_get_limit (s), 10);
  fail_unless_equals_int (hangout_piece_scheduler_decide (s, 9, queue_of,
          queues, TRUE, NULL), HANGOUT_PIECE_ASSIGN);
  fail_if (hangout_piece_scheduler_set_next (s, "erin", 3));
  /* A member that leaves no longer holds the others back. */
  g_array_unref (hangout_piece_scheduler_remove_member (s, "dave"));
  fail_unless_equals_int (hangout_piece_scheduler_get_limit (s), 12);
}

GST_END_TEST;

/* Forwarding off (distribution direct): idle queues assign nothing;
 * every piece goes directly once the upload has room, and never beyond
 * the window of the member furthest behind. */
GST_START_TEST (test_no_forwarding)
{
  g_autoptr (HangoutPieceScheduler) s = swarm_of (three);
  g_autoptr (GHashTable) queues = g_hash_table_new (g_str_hash, g_str_equal);
  const gchar *forwarder = NULL;

  hangout_piece_scheduler_set_forwarding (s, FALSE);
  fail_unless_equals_int (hangout_piece_scheduler_decide (s, 0, queue_of,
          queues, FALSE, &forwarder), HANGOUT_PIECE_WAIT);
  for (guint64 i = 0; i < 8; i++)
    fail_unless_equals_int (hangout_piece_scheduler_decide (s, i, queue_of,
            queues, TRUE, &forwarder), HANGOUT_PIECE_DIRECT);
  fail_unless (forwarder == NULL);
  fail_unless_equals_int (hangout_piece_scheduler_decide (s, 8, queue_of,
          queues, TRUE, &forwarder), HANGOUT_PIECE_WAIT);
  fail_unless (hangout_piece_scheduler_set_next (s, "bob", 1));
  fail_unless (hangout_piece_scheduler_set_next (s, "carol", 1));
  fail_unless (hangout_piece_scheduler_set_next (s, "dave", 1));
  fail_unless_equals_int (hangout_piece_scheduler_decide (s, 8, queue_of,
          queues, TRUE, &forwarder), HANGOUT_PIECE_DIRECT);
  fail_unless_equals_int (hangout_piece_scheduler_count_direct (s), 9);
  for (guint i = 0; i < 3; i++)
    fail_unless_equals_int (hangout_piece_scheduler_count_assigned (s,
            three[i]), 0);
  fail_unless_equals_int (hangout_piece_scheduler_count_outstanding (s), 0);
}

GST_END_TEST;

/* Three different pieces named corrupt: no more pieces for that member;
 * the same piece named twice counts once, and so does an unknown one. */
GST_START_TEST (test_corrupt_excludes)
{
  g_autoptr (HangoutPieceScheduler) s = swarm_of (three);
  g_autoptr (GHashTable) queues = g_hash_table_new (g_str_hash, g_str_equal);
  const gchar *forwarder;

  set_queue (queues, "carol", PIECE);
  set_queue (queues, "dave", PIECE);
  fail_if (hangout_piece_scheduler_report_corrupt (s, "bob", 1));
  fail_if (hangout_piece_scheduler_report_corrupt (s, "bob", 1));
  fail_if (hangout_piece_scheduler_report_corrupt (s, "bob", 4));
  fail_if (hangout_piece_scheduler_is_excluded (s, "bob"));
  fail_if (hangout_piece_scheduler_report_corrupt (s, "erin", 4));
  fail_unless (hangout_piece_scheduler_report_corrupt (s, "bob", 7));
  fail_unless (hangout_piece_scheduler_is_excluded (s, "bob"));
  fail_if (hangout_piece_scheduler_report_corrupt (s, "bob", 9));
  /* bob's queue is empty, the others' are not: bob still gets nothing. */
  for (guint64 i = 0; i < 4; i++) {
    fail_unless_equals_int (hangout_piece_scheduler_decide (s, i, queue_of,
            queues, FALSE, &forwarder), HANGOUT_PIECE_ASSIGN);
    fail_if (g_strcmp0 (forwarder, "bob") == 0);
  }
  fail_unless_equals_int (hangout_piece_scheduler_count_assigned (s, "bob"),
      0);
}

GST_END_TEST;

/* A forwarder whose pieces every other member requests from the sharer
 * takes and does not forward: once 8 of them, and half of what it was
 * handed, are missed it gets no more. A piece only some members ask for
 * reached the others (a slow forwarder, not a mute one) and does not
 * count; a piece counts once however often it is asked for; one that
 * misses a few of many is kept. */
GST_START_TEST (test_silent_forwarder_excluded)
{
  g_autoptr (HangoutPieceScheduler) s = hangout_piece_scheduler_new (PIECE,
      64 * PIECE);
  g_autoptr (GHashTable) queues = g_hash_table_new (g_str_hash, g_str_equal);
  g_autoptr (GArray) bobs = g_array_new (FALSE, FALSE, sizeof (guint64));
  g_autoptr (GArray) carols = g_array_new (FALSE, FALSE, sizeof (guint64));
  const gchar *forwarder, *silent = NULL;

  for (guint i = 0; three[i] != NULL; i++)
    fail_unless (hangout_piece_scheduler_add_member (s, three[i], 0));
  /* Idle queues: the three take turns, 20 pieces each. */
  for (guint64 i = 0; i < 60; i++) {
    fail_unless_equals_int (hangout_piece_scheduler_decide (s, i, queue_of,
            queues, FALSE, &forwarder), HANGOUT_PIECE_ASSIGN);
    if (g_str_equal (forwarder, "bob"))
      g_array_append_val (bobs, i);
    else if (g_str_equal (forwarder, "carol"))
      g_array_append_val (carols, i);
  }
  fail_unless_equals_int (bobs->len, 20);
  /* carol misses 3 of her 20 (bob and dave both ask): kept. */
  for (guint i = 0; i < 3; i++) {
    fail_if (hangout_piece_scheduler_report_missed (s,
            g_array_index (carols, guint64, i), "bob", NULL));
    fail_if (hangout_piece_scheduler_report_missed (s,
            g_array_index (carols, guint64, i), "dave", NULL));
  }
  /* bob's pieces that only carol asks for reached dave: not missed; nor
   * does bob asking for his own count. */
  for (guint i = 0; i < bobs->len; i++) {
    fail_if (hangout_piece_scheduler_report_missed (s,
            g_array_index (bobs, guint64, i), "carol", NULL));
    fail_if (hangout_piece_scheduler_report_missed (s,
            g_array_index (bobs, guint64, i), "carol", NULL));
    fail_if (hangout_piece_scheduler_report_missed (s,
            g_array_index (bobs, guint64, i), "bob", NULL));
  }
  fail_if (hangout_piece_scheduler_is_excluded (s, "bob"));
  /* dave asks for 10 of them too: the tenth makes half. */
  for (guint i = 0; i < 9; i++)
    fail_if (hangout_piece_scheduler_report_missed (s,
            g_array_index (bobs, guint64, i), "dave", &silent));
  fail_if (hangout_piece_scheduler_is_excluded (s, "bob"));
  fail_unless (hangout_piece_scheduler_report_missed (s,
          g_array_index (bobs, guint64, 9), "dave", &silent));
  fail_unless_equals_string (silent, "bob");
  fail_unless (hangout_piece_scheduler_is_excluded (s, "bob"));
  fail_if (hangout_piece_scheduler_is_excluded (s, "carol"));
  /* Said once. */
  fail_if (hangout_piece_scheduler_report_missed (s,
          g_array_index (bobs, guint64, 10), "dave", NULL));
  for (guint64 i = 60; i < 64; i++) {
    fail_unless_equals_int (hangout_piece_scheduler_decide (s, i, queue_of,
            queues, FALSE, &forwarder), HANGOUT_PIECE_ASSIGN);
    fail_if (g_str_equal (forwarder, "bob"));
  }
}

GST_END_TEST;

/* A swarm whose only member is excluded: the sharer sends every piece
 * itself rather than wait for a forwarder that will never come. */
GST_START_TEST (test_all_excluded_go_direct)
{
  const gchar *one[] = { "bob", NULL };
  g_autoptr (HangoutPieceScheduler) s = swarm_of (one);
  g_autoptr (GHashTable) queues = g_hash_table_new (g_str_hash, g_str_equal);

  for (guint64 i = 0; i < HANGOUT_PIECE_SCHEDULER_MAX_CORRUPT; i++)
    hangout_piece_scheduler_report_corrupt (s, "bob", i);
  fail_unless (hangout_piece_scheduler_is_excluded (s, "bob"));
  fail_unless_equals_int (hangout_piece_scheduler_decide (s, 0, queue_of,
          queues, FALSE, NULL), HANGOUT_PIECE_DIRECT);
  fail_unless_equals_int (hangout_piece_scheduler_count_direct (s), 1);
}

GST_END_TEST;

/* A forwarder that leaves: the caller gets the pieces assigned to it that
 * another member's window still holds, in order, and those only. */
GST_START_TEST (test_forwarder_leaves)
{
  g_autoptr (HangoutPieceScheduler) s = swarm_of (three);
  g_autoptr (GHashTable) queues = g_hash_table_new (g_str_hash, g_str_equal);
  g_autoptr (GArray) lost = NULL;
  g_auto (GStrv) left = NULL;

  /* Round robin: bob gets 0, 3, 6. */
  for (guint64 i = 0; i < 8; i++)
    fail_unless_equals_int (hangout_piece_scheduler_decide (s, i, queue_of,
            queues, FALSE, NULL), HANGOUT_PIECE_ASSIGN);
  fail_unless (hangout_piece_scheduler_set_next (s, "carol", 5));
  fail_unless (hangout_piece_scheduler_set_next (s, "dave", 4));
  lost = hangout_piece_scheduler_remove_member (s, "bob");
  fail_unless_equals_int (lost->len, 1);
  fail_unless_equals_int (g_array_index (lost, guint64, 0), 6);
  left = hangout_piece_scheduler_list_members (s);
  fail_unless_equals_int (g_strv_length (left), 2);
  fail_unless_equals_string (left[0], "carol");
  fail_unless_equals_string (left[1], "dave");
  g_clear_pointer (&lost, g_array_unref);
  lost = hangout_piece_scheduler_remove_member (s, "bob");
  fail_unless_equals_int (lost->len, 0);
}

GST_END_TEST;

/* What it remembers is bounded by the window however long the file: 100 000
 * pieces (6.1 GiB of 64 KiB pieces) through a swarm whose windows keep
 * moving. */
GST_START_TEST (test_memory_bounded)
{
  g_autoptr (HangoutPieceScheduler) s = swarm_of (three);
  g_autoptr (GHashTable) queues = g_hash_table_new (g_str_hash, g_str_equal);
  g_autoptr (GArray) lost = NULL;

  for (guint64 i = 0; i < 100000; i++) {
    if (i % 4 == 0)
      for (guint m = 0; three[m] != NULL; m++)
        fail_unless (hangout_piece_scheduler_set_next (s, three[m], i));
    fail_unless_equals_int (hangout_piece_scheduler_decide (s, i, queue_of,
            queues, FALSE, NULL), HANGOUT_PIECE_ASSIGN);
    fail_unless (hangout_piece_scheduler_count_outstanding (s)
        <= WINDOW / PIECE);
  }
  fail_unless_equals_int (hangout_piece_scheduler_count_outstanding (s), 4);
  lost = hangout_piece_scheduler_remove_member (s, "bob");
  /* Pieces at or after the last window start, 99996 to 99999: bob had
   * one or two of them. */
  fail_unless (lost->len >= 1 && lost->len <= 2);
  for (guint i = 0; i < lost->len; i++)
    fail_unless (g_array_index (lost, guint64, i) >= 99996);
}

GST_END_TEST;

GST_START_TEST (test_empty_swarm)
{
  g_autoptr (HangoutPieceScheduler) s = hangout_piece_scheduler_new (PIECE,
      WINDOW);
  g_autoptr (GHashTable) queues = g_hash_table_new (g_str_hash, g_str_equal);

  fail_unless_equals_uint64 (hangout_piece_scheduler_get_limit (s),
      G_MAXUINT64);
  fail_unless_equals_int (hangout_piece_scheduler_decide (s, 0, queue_of,
          queues, FALSE, NULL), HANGOUT_PIECE_DIRECT);
  fail_unless (hangout_piece_scheduler_add_member (s, "bob", 3));
  fail_if (hangout_piece_scheduler_add_member (s, "bob", 0));
  fail_unless_equals_int (hangout_piece_scheduler_get_limit (s), 11);
}

GST_END_TEST;

static Suite *
piece_scheduler_suite (void)
{
  Suite *s = suite_create ("piece-scheduler");
  TCase *tc = tcase_create ("general");

  tcase_set_timeout (tc, 20);
  suite_add_tcase (s, tc);
  tcase_add_test (tc, test_round_robin_when_idle);
  tcase_add_test (tc, test_back_pressure);
  tcase_add_test (tc, test_window_limit);
  tcase_add_test (tc, test_no_forwarding);
  tcase_add_test (tc, test_corrupt_excludes);
  tcase_add_test (tc, test_all_excluded_go_direct);
  tcase_add_test (tc, test_silent_forwarder_excluded);
  tcase_add_test (tc, test_forwarder_leaves);
  tcase_add_test (tc, test_memory_bounded);
  tcase_add_test (tc, test_empty_swarm);
  return s;
}

GST_CHECK_MAIN (piece_scheduler);
