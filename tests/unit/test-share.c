/* gst-hangout — the share layer (include/hangout/share.h) without any
 * GStreamer element: a sender and receivers in one process, each a
 * HangoutRoom of its own, meeting through the in-process signaller
 * (signalling-local.h): no signalling server at all. For the
 * sender's cases, receivers speak the transfer protocol through
 * HangoutTransferReceiver directly, so each can behave as the case needs
 * (decline, leave, stay silent, read slowly); the receiver's cases take
 * files from a HangoutShareSender through HangoutShareReceiver. Run in a
 * private network namespace (tests/netns-run.sh).
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#include <gst/check/gstcheck.h>
#include <hangout/share.h>
#include <sys/resource.h>
#include <hangout/signalling-local.h>
#include <hangout/transfer2.h>
#include "rogue.h"

#define FILE_SIZE (3 * 1024 * 1024 + 12345)

/* Written by the rooms' network threads, read by the test under it.
 * Nothing fails while holding it: without a fork per test (CK_FORK=no),
 * a failed check leaves the test at once, and a lock it held would hang
 * every test after it instead of naming the failure. */
static GMutex lock;
static GCond changed;

typedef enum {
  BEHAVE_ACK,                   /* takes the file and acknowledges it */
  BEHAVE_DECLINE,               /* rejects the offer */
  BEHAVE_HOLD,                  /* stops reading after the first chunk */
  BEHAVE_SILENT,                /* takes the file, never answers */
  BEHAVE_SLOW,                  /* reads 64 KiB per 60 ms */
} Behaviour;

typedef struct {
  HangoutRoom *room;
  HangoutTransferReceiver *receiver;
  Behaviour behaviour;
  GChecksum *checksum;
  guint64 bytes;
  gchar *sha256;                /* of what arrived, once complete */
  gboolean failed;
} Receiver;

typedef struct {
  HangoutLocalHub *hub;
  gchar *room_name;
  HangoutRoom *room;
  HangoutShareSender *share;
  GBytes *file;
  guint left_signals;
  /* The sending thread's outcome. */
  GThread *thread;
  guint members;
  GCancellable *cancellable;
  gboolean done;
  gboolean ok;
  GError *error;
  GstStructure *summary;
  gint64 finish_began, finish_ended;
  /* The sending thread stops at pause_at bytes (0: never) until resumed. */
  guint64 pause_at;
  gboolean paused, resumed, finishing;
} Share;

/* A member of @room_name on @hub. */
static HangoutRoom *
room_new (HangoutLocalHub *hub, const gchar *room_name, const gchar *name)
{
  HangoutRoom *room = hangout_room_new (room_name, name, "local");

  hangout_room_set_signaller_factory (room, hangout_local_signaller_factory,
      hangout_local_hub_ref (hub), (GDestroyNotify) hangout_local_hub_unref);
  return room;
}

static void
on_receiver_message (HangoutRoom *room, const gchar *member,
    gboolean is_string, GBytes *data, Receiver *r)
{
  HangoutTransferEvent event = { 0 };
  g_autoptr (GError) error = NULL;
  g_autofree gchar *reply = NULL;

  if (r->behaviour == BEHAVE_SLOW)
    /* A receiver slower than the link: its network thread is busy. */
    g_usleep (60 * 1000);
  if (!hangout_transfer_receiver_handle (r->receiver, member, is_string,
          data, &event, &error))
    return;
  g_mutex_lock (&lock);
  switch (event.type) {
    case HANGOUT_TRANSFER_EVENT_STARTED:
      if (r->behaviour == BEHAVE_DECLINE)
        reply = hangout_transfer_receiver_reject (r->receiver, member,
            event.id, "not wanted");
      break;
    case HANGOUT_TRANSFER_EVENT_DATA:
      g_checksum_update (r->checksum, g_bytes_get_data (event.payload, NULL),
          g_bytes_get_size (event.payload));
      r->bytes += g_bytes_get_size (event.payload);
      if (r->behaviour == BEHAVE_HOLD)
        hangout_room_set_receiving (room, member, FALSE);
      break;
    case HANGOUT_TRANSFER_EVENT_COMPLETE:
      r->sha256 = g_strdup (g_checksum_get_string (r->checksum));
      if (r->behaviour == BEHAVE_SILENT)
        g_clear_pointer (&event.reply, g_free);
      break;
    case HANGOUT_TRANSFER_EVENT_FAILED:
      r->failed = TRUE;
      break;
    default:
      break;
  }
  g_cond_broadcast (&changed);
  g_mutex_unlock (&lock);
  if (reply == NULL)
    reply = g_steal_pointer (&event.reply);
  if (reply != NULL)
    hangout_room_send_reply (room, member, reply, NULL);
  hangout_transfer_event_clear (&event);
}

static Receiver *
receiver_start (Share *s, const gchar *name, Behaviour behaviour)
{
  Receiver *r = g_new0 (Receiver, 1);
  g_autoptr (GError) error = NULL;

  r->behaviour = behaviour;
  r->receiver = hangout_transfer_receiver_new ();
  r->checksum = g_checksum_new (G_CHECKSUM_SHA256);
  r->room = room_new (s->hub, s->room_name, name);
  g_signal_connect (r->room, "message", G_CALLBACK (on_receiver_message), r);
  fail_unless (hangout_room_start (r->room, &error), "start: %s",
      error ? error->message : "");
  return r;
}

static void
receiver_free (Receiver *r)
{
  hangout_room_stop (r->room);
  g_object_unref (r->room);
  hangout_transfer_receiver_free (r->receiver);
  g_checksum_free (r->checksum);
  g_free (r->sha256);
  g_free (r);
}

static void
on_recipient_left (HangoutShareSender *share, const gchar *member,
    const gchar *failure, Share *s)
{
  g_mutex_lock (&lock);
  s->left_signals++;
  g_cond_broadcast (&changed);
  g_mutex_unlock (&lock);
}

/* A hub, and a sender's room with its share layer, joined. */
static Share *
share_new (void)
{
  static guint rooms;
  Share *s = g_new0 (Share, 1);
  g_autoptr (GError) error = NULL;
  guint8 *data = g_malloc (FILE_SIZE);

  s->hub = hangout_local_hub_new ();
  s->room_name = g_strdup_printf ("share-%u", rooms++);
  s->room = room_new (s->hub, s->room_name, "sender");
  s->share = hangout_share_sender_new (s->room, NULL);
  g_signal_connect (s->share, "recipient-left",
      G_CALLBACK (on_recipient_left), s);
  fail_unless (hangout_room_start (s->room, &error), "start: %s",
      error ? error->message : "");
  for (gsize i = 0; i < FILE_SIZE; i++)
    data[i] = g_random_int () & 0xff;
  s->file = g_bytes_new_take (data, FILE_SIZE);
  s->cancellable = g_cancellable_new ();
  return s;
}

static void
share_free (Share *s)
{
  if (s->thread != NULL)
    g_thread_join (s->thread);
  hangout_room_stop (s->room);
  g_object_unref (s->share);
  g_object_unref (s->room);
  hangout_local_hub_unref (s->hub);
  g_bytes_unref (s->file);
  g_object_unref (s->cancellable);
  g_clear_error (&s->error);
  g_clear_pointer (&s->summary, gst_structure_free);
  g_free (s->room_name);
  g_free (s);
}

/* The sending thread: wait for the members, the file in 100 000-byte
 * writes, finish. */
static gpointer
share_thread (gpointer data)
{
  Share *s = data;
  gsize size;
  const guint8 *bytes = g_bytes_get_data (s->file, &size);
  GError *error = NULL;
  GstStructure *summary = NULL;
  gint64 began = 0;
  gboolean ok;

  ok = hangout_share_sender_wait_for_members (s->share, s->members, 20,
      s->cancellable, &error)
      && hangout_share_sender_begin (s->share, "file.bin", size, NULL,
      &error);
  for (gsize offset = 0; ok && offset < size; offset += 100000) {
    if (s->pause_at > 0 && offset >= s->pause_at && !s->paused) {
      g_mutex_lock (&lock);
      s->paused = TRUE;
      g_cond_broadcast (&changed);
      while (!s->resumed)
        g_cond_wait (&changed, &lock);
      g_mutex_unlock (&lock);
    }
    ok = hangout_share_sender_write (s->share, bytes + offset,
        MIN (100000, size - offset), s->cancellable, &error);
  }
  if (ok) {
    g_mutex_lock (&lock);
    s->finishing = TRUE;
    g_cond_broadcast (&changed);
    g_mutex_unlock (&lock);
    began = g_get_monotonic_time ();
    ok = hangout_share_sender_finish (s->share, s->cancellable, &summary,
        &error);
  }
  g_mutex_lock (&lock);
  s->ok = ok;
  s->error = error;
  s->summary = summary;
  s->finish_began = began;
  s->finish_ended = g_get_monotonic_time ();
  s->done = TRUE;
  g_cond_broadcast (&changed);
  g_mutex_unlock (&lock);
  return NULL;
}

static void
share_run (Share *s, guint members)
{
  s->members = members;
  s->thread = g_thread_new ("sender", share_thread, s);
}

/* The sending thread goes on past pause_at. */
static void
share_resume (Share *s)
{
  g_mutex_lock (&lock);
  s->resumed = TRUE;
  g_cond_broadcast (&changed);
  g_mutex_unlock (&lock);
}

static void
wait_done (Share *s)
{
  gint64 end = g_get_monotonic_time () + 90 * G_USEC_PER_SEC;
  gboolean done;

  g_mutex_lock (&lock);
  while (!s->done && g_cond_wait_until (&changed, &lock, end));
  done = s->done;
  g_mutex_unlock (&lock);
  fail_unless (done, "the sender has not finished after 90 s");
}

/* The members of the summary's @field, as "a,b". */
static gchar *
summary_list (Share *s, const gchar *field, HangoutRoom **rooms, guint n)
{
  const GValue *array;
  GString *names = g_string_new (NULL);

  fail_unless (s->summary != NULL, "no summary: %s",
      s->error ? s->error->message : "");
  array = gst_structure_get_value (s->summary, field);
  fail_unless (array != NULL, "no %s in the summary", field);
  for (guint i = 0; i < gst_value_array_get_size (array); i++) {
    const gchar *id =
        g_value_get_string (gst_value_array_get_value (array, i));
    const gchar *name = "?";

    for (guint j = 0; j < n; j++) {
      g_autofree gchar *rid = hangout_room_dup_id (rooms[j]);

      if (g_strcmp0 (rid, id) == 0)
        name = g_object_get_data (G_OBJECT (rooms[j]), "test-name");
    }
    g_string_append_printf (names, "%s%s", i ? "," : "", name);
  }
  return g_string_free (names, FALSE);
}

/* hangout_share_summary_count() of the summary is @complete, @lost,
 * @silent. */
static void
assert_counts (Share *s, guint complete, guint lost, guint silent)
{
  HangoutShareCounts counts;

  fail_unless (s->summary != NULL, "no summary: %s",
      s->error ? s->error->message : "");
  hangout_share_summary_count (s->summary, &counts);
  assert_equals_uint64 (counts.complete, complete);
  assert_equals_uint64 (counts.lost, lost);
  assert_equals_uint64 (counts.silent, silent);
}

static void
name_room (Receiver *r, const gchar *name)
{
  g_object_set_data (G_OBJECT (r->room), "test-name", (gpointer) name);
}

static gchar *
file_sha256 (Share *s)
{
  return g_compute_checksum_for_bytes (G_CHECKSUM_SHA256, s->file);
}

GST_START_TEST (test_two_receivers)
{
  Share *s = share_new ();
  Receiver *a = receiver_start (s, "a", BEHAVE_ACK);
  Receiver *b = receiver_start (s, "b", BEHAVE_ACK);
  HangoutRoom *rooms[] = { a->room, b->room };
  g_autofree gchar *sha256 = file_sha256 (s);
  g_autofree gchar *complete = NULL;

  name_room (a, "a");
  name_room (b, "b");
  share_run (s, 2);
  wait_done (s);
  fail_unless (s->ok, "finish: %s", s->error ? s->error->message : "");
  assert_equals_string (a->sha256, sha256);
  assert_equals_string (b->sha256, sha256);
  assert_equals_uint64 (a->bytes, FILE_SIZE);
  complete = summary_list (s, "complete", rooms, 2);
  fail_unless (g_str_equal (complete, "a,b") || g_str_equal (complete, "b,a"),
      "complete: %s", complete);
  assert_counts (s, 2, 0, 0);
  assert_equals_uint64 (g_value_get_uint64 (gst_structure_get_value
          (s->summary, "size")), FILE_SIZE);
  receiver_free (a);
  receiver_free (b);
  share_free (s);
}
GST_END_TEST;

GST_START_TEST (test_decline)
{
  Share *s = share_new ();
  Receiver *a = receiver_start (s, "a", BEHAVE_ACK);
  Receiver *b = receiver_start (s, "b", BEHAVE_DECLINE);
  HangoutRoom *rooms[] = { a->room, b->room };
  g_autofree gchar *sha256 = file_sha256 (s);
  g_autofree gchar *complete = NULL, *rejected = NULL;

  name_room (a, "a");
  name_room (b, "b");
  share_run (s, 2);
  wait_done (s);
  fail_unless (s->ok, "finish: %s", s->error ? s->error->message : "");
  assert_equals_string (a->sha256, sha256);
  assert_equals_uint64 (b->bytes, 0);
  complete = summary_list (s, "complete", rooms, 2);
  rejected = summary_list (s, "rejected", rooms, 2);
  assert_equals_string (complete, "a");
  assert_equals_string (rejected, "b");
  /* A member that declined has neither failed nor gone silent. */
  assert_counts (s, 1, 0, 0);
  receiver_free (a);
  receiver_free (b);
  share_free (s);
}
GST_END_TEST;

GST_START_TEST (test_leave_mid_file)
{
  Share *s = share_new ();
  Receiver *a = receiver_start (s, "a", BEHAVE_ACK);
  Receiver *b = receiver_start (s, "b", BEHAVE_HOLD);
  HangoutRoom *rooms[] = { a->room };
  g_autofree gchar *sha256 = file_sha256 (s);
  g_autofree gchar *complete = NULL;
  g_autofree gchar *b_id = NULL;
  const GValue *left;

  name_room (a, "a");
  g_object_set (s->share, "min-acks", 2, NULL);
  share_run (s, 2);
  /* b has part of the file and holds the sender back: it leaves. */
  g_mutex_lock (&lock);
  while (b->bytes == 0)
    g_cond_wait (&changed, &lock);
  g_mutex_unlock (&lock);
  b_id = hangout_room_dup_id (b->room);
  hangout_room_stop (b->room);
  wait_done (s);
  fail_if (s->ok, "finishes although b left");
  fail_unless (g_error_matches (s->error, HANGOUT_ERROR,
          HANGOUT_ERROR_INCOMPLETE), "error: %s",
      s->error ? s->error->message : "none");
  fail_unless (strstr (s->error->message, "min-acks") != NULL, "%s",
      s->error->message);
  assert_equals_string (a->sha256, sha256);
  complete = summary_list (s, "complete", rooms, 1);
  assert_equals_string (complete, "a");
  left = gst_structure_get_value (s->summary, "left");
  assert_equals_int (gst_value_array_get_size (left), 1);
  assert_equals_string (g_value_get_string (gst_value_array_get_value (left,
              0)), b_id);
  assert_counts (s, 1, 1, 0);
  assert_equals_int (s->left_signals, 1);
  fail_unless (b->bytes < FILE_SIZE);
  receiver_free (a);
  receiver_free (b);
  share_free (s);
}
GST_END_TEST;

GST_START_TEST (test_min_acks_not_met)
{
  Share *s = share_new ();
  Receiver *a = receiver_start (s, "a", BEHAVE_SILENT);
  HangoutRoom *rooms[] = { a->room };
  g_autofree gchar *sha256 = file_sha256 (s);
  g_autofree gchar *silent = NULL;

  name_room (a, "a");
  g_object_set (s->share, "ack-timeout", 1, NULL);
  share_run (s, 1);
  wait_done (s);
  fail_if (s->ok, "finishes although nobody acknowledged");
  fail_unless (g_error_matches (s->error, HANGOUT_ERROR,
          HANGOUT_ERROR_INCOMPLETE), "error: %s",
      s->error ? s->error->message : "none");
  assert_equals_string (s->error->message,
      "only 0 members have the whole file, 1 needed (min-acks)");
  assert_equals_string (a->sha256, sha256);
  silent = summary_list (s, "no-answer", rooms, 1);
  assert_equals_string (silent, "a");
  assert_counts (s, 0, 0, 1);
  receiver_free (a);
  share_free (s);
}
GST_END_TEST;

/* The data still on its way to a slow receiver when the end is queued
 * takes longer than ack-timeout to arrive; the wait goes on while it
 * drains, so the receiver's ack is not lost. */
GST_START_TEST (test_ack_timeout_from_progress)
{
  Share *s = share_new ();
  Receiver *a = receiver_start (s, "a", BEHAVE_SLOW);
  HangoutRoom *rooms[] = { a->room };
  g_autofree gchar *sha256 = file_sha256 (s);
  g_autofree gchar *complete = NULL;

  name_room (a, "a");
  g_object_set (s->share, "ack-timeout", 1, NULL);
  share_run (s, 1);
  wait_done (s);
  fail_unless (s->ok, "finish: %s", s->error ? s->error->message : "");
  assert_equals_string (a->sha256, sha256);
  complete = summary_list (s, "complete", rooms, 1);
  assert_equals_string (complete, "a");
  fail_unless (s->finish_ended - s->finish_began > 3 * G_USEC_PER_SEC / 2,
      "finish took %" G_GINT64_FORMAT " µs: the backlog drained within "
      "ack-timeout, so this test proves nothing",
      s->finish_ended - s->finish_began);
  receiver_free (a);
  share_free (s);
}
GST_END_TEST;

/* A write blocked on a receiver that stopped reading, and a wait for
 * members that never come, return G_IO_ERROR_CANCELLED as soon as their
 * cancellable is cancelled. */
GST_START_TEST (test_cancel)
{
  Share *s = share_new ();
  Receiver *a = receiver_start (s, "a", BEHAVE_HOLD);
  g_autoptr (GError) error = NULL;
  g_autoptr (GCancellable) cancelled = g_cancellable_new ();
  gint64 cancelled_at;

  share_run (s, 1);
  /* Whatever it has sent, the writer cannot get the whole file past a
   * receiver that stopped reading: it is blocked, or will be. */
  g_mutex_lock (&lock);
  while (a->bytes == 0)
    g_cond_wait (&changed, &lock);
  g_mutex_unlock (&lock);
  cancelled_at = g_get_monotonic_time ();
  g_cancellable_cancel (s->cancellable);
  wait_done (s);
  fail_unless (g_error_matches (s->error, G_IO_ERROR, G_IO_ERROR_CANCELLED),
      "error: %s", s->error ? s->error->message : "none");
  fail_unless (s->finish_ended - cancelled_at < G_USEC_PER_SEC / 2,
      "returned %" G_GINT64_FORMAT " µs after the cancel",
      s->finish_ended - cancelled_at);

  /* Already cancelled: at once, not after the 60 s. */
  g_cancellable_cancel (cancelled);
  cancelled_at = g_get_monotonic_time ();
  fail_if (hangout_share_sender_wait_for_members (s->share, 5, 60, cancelled,
          &error));
  fail_unless (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED));
  fail_unless (g_get_monotonic_time () - cancelled_at < G_USEC_PER_SEC / 2);
  receiver_free (a);
  share_free (s);
}
GST_END_TEST;

/* ---- the receiving side: HangoutShareReceiver ---- */

typedef struct {
  HangoutRoom *room;
  HangoutShareReceiver *share;
  gchar *decline;               /* the reason "offered" answers, or NULL */
  guint offered;
  guint corrupt;                /* "corrupt" signals (lock) */
  gchar *corrupt_from;          /* the member the last one named (lock) */
} Taker;

static gchar *
on_offered (HangoutShareReceiver *share, const gchar *member,
    const gchar *name, gint64 size, const gchar *mime, Taker *t)
{
  g_mutex_lock (&lock);
  t->offered++;
  g_mutex_unlock (&lock);
  return g_strdup (t->decline);
}

static void
on_corrupt (HangoutShareReceiver *share, const gchar *member,
    const gchar *name, guint64 piece, gboolean excluded, Taker *t)
{
  g_mutex_lock (&lock);
  t->corrupt++;
  g_free (t->corrupt_from);
  t->corrupt_from = g_strdup (member);
  g_mutex_unlock (&lock);
}

static Taker *
taker_start (Share *s, const gchar *name, const gchar *decline)
{
  Taker *t = g_new0 (Taker, 1);
  g_autoptr (GError) error = NULL;

  t->decline = g_strdup (decline);
  t->room = room_new (s->hub, s->room_name, name);
  t->share = hangout_share_receiver_new (t->room, 10);
  g_signal_connect (t->share, "offered", G_CALLBACK (on_offered), t);
  g_signal_connect (t->share, "corrupt", G_CALLBACK (on_corrupt), t);
  fail_unless (hangout_room_start (t->room, &error), "start: %s",
      error ? error->message : "");
  return t;
}

static void
taker_free (Taker *t)
{
  hangout_room_stop (t->room);
  g_object_unref (t->share);
  g_object_unref (t->room);
  g_free (t->decline);
  g_free (t->corrupt_from);
  g_free (t);
}

/* Takes the next event, which must be of @type. (transfer full) */
static HangoutTransferEvent *
take (Taker *t, HangoutTransferEventType type)
{
  g_autoptr (GError) error = NULL;
  HangoutTransferEvent *event = hangout_share_receiver_next (t->share, NULL,
      NULL, &error);

  fail_unless (event != NULL, "next: %s", error ? error->message : "");
  fail_unless_equals_int (event->type, type);
  return event;
}

/* A whole file through the share layer on both sides: started, the bytes
 * in order, complete with the sender's SHA-256; mid-file in between. */
GST_START_TEST (test_receiver_takes_file)
{
  Share *s = share_new ();
  Taker *t = taker_start (s, "t", NULL);
  g_autofree gchar *sha256 = file_sha256 (s);
  GChecksum *checksum = g_checksum_new (G_CHECKSUM_SHA256);
  HangoutTransferEvent *event;
  guint64 offset = 0;

  share_run (s, 1);
  event = take (t, HANGOUT_TRANSFER_EVENT_STARTED);
  assert_equals_string (event->name, "file.bin");
  assert_equals_int64 (event->size, FILE_SIZE);
  hangout_transfer_event_free (event);
  fail_unless (hangout_share_receiver_is_mid_file (t->share));
  while (offset < FILE_SIZE) {
    event = take (t, HANGOUT_TRANSFER_EVENT_DATA);
    assert_equals_uint64 (event->offset, offset);
    g_checksum_update (checksum, g_bytes_get_data (event->payload, NULL),
        g_bytes_get_size (event->payload));
    offset += g_bytes_get_size (event->payload);
    hangout_transfer_event_free (event);
  }
  event = take (t, HANGOUT_TRANSFER_EVENT_COMPLETE);
  assert_equals_string (event->sha256, sha256);
  assert_equals_string (g_checksum_get_string (checksum), sha256);
  hangout_transfer_event_free (event);
  fail_if (hangout_share_receiver_is_mid_file (t->share));
  assert_equals_int (hangout_share_receiver_get_completed (t->share), 1);
  wait_done (s);
  fail_unless (s->ok, "finish: %s", s->error ? s->error->message : "");
  g_checksum_free (checksum);
  taker_free (t);
  share_free (s);
}
GST_END_TEST;

/* "offered" declines: the sender's summary has the member as rejected,
 * with nobody complete, so min-acks fails. */
GST_START_TEST (test_receiver_declines)
{
  Share *s = share_new ();
  Taker *t = taker_start (s, "t", "not today");
  g_autofree gchar *t_id = NULL;
  const GValue *rejected;

  share_run (s, 1);
  wait_done (s);
  fail_if (s->ok, "finishes although the only member declined");
  fail_unless (g_error_matches (s->error, HANGOUT_ERROR,
          HANGOUT_ERROR_INCOMPLETE));
  t_id = hangout_room_dup_id (t->room);
  rejected = gst_structure_get_value (s->summary, "rejected");
  assert_equals_int (gst_value_array_get_size (rejected), 1);
  assert_equals_string (g_value_get_string (gst_value_array_get_value
          (rejected, 0)), t_id);
  assert_equals_int (t->offered, 1);
  assert_equals_uint64 (hangout_share_receiver_get_level (t->share), 0);
  taker_free (t);
  share_free (s);
}
GST_END_TEST;

/* "from" names another member: the offer is declined before "offered"
 * is asked, and the sender's summary says so. */
GST_START_TEST (test_receiver_from)
{
  Share *s = share_new ();
  Taker *t = taker_start (s, "t", NULL);
  const GValue *rejected;

  g_object_set (t->share, "from", "someone else", NULL);
  share_run (s, 1);
  wait_done (s);
  fail_if (s->ok, "finishes although the only member declined");
  rejected = gst_structure_get_value (s->summary, "rejected");
  assert_equals_int (gst_value_array_get_size (rejected), 1);
  assert_equals_int (t->offered, 0);
  taker_free (t);
  share_free (s);
}
GST_END_TEST;

/* The sender leaves mid-file: the file being handed out fails, after the
 * bytes that came, and the receiver says it was mid-file until then. */
GST_START_TEST (test_receiver_sender_leaves)
{
  Share *s = share_new ();
  Taker *t = taker_start (s, "t", NULL);
  HangoutTransferEvent *event;
  gsize size;
  const guint8 *bytes = g_bytes_get_data (s->file, &size);
  g_autoptr (GError) error = NULL;

  fail_unless (hangout_share_sender_wait_for_members (s->share, 1, 20, NULL,
          &error), "%s", error ? error->message : "");
  fail_unless (hangout_share_sender_begin (s->share, "part.bin", size, NULL,
          &error), "%s", error ? error->message : "");
  fail_unless (hangout_share_sender_write (s->share, bytes, 100000, NULL,
          &error), "%s", error ? error->message : "");
  hangout_transfer_event_free (take (t, HANGOUT_TRANSFER_EVENT_STARTED));
  hangout_transfer_event_free (take (t, HANGOUT_TRANSFER_EVENT_DATA));
  fail_unless (hangout_share_receiver_is_mid_file (t->share));
  hangout_room_stop (s->room);
  for (;;) {
    event = hangout_share_receiver_next (t->share, NULL, NULL, &error);
    fail_unless (event != NULL, "next: %s", error ? error->message : "");
    if (event->type != HANGOUT_TRANSFER_EVENT_DATA)
      break;
    hangout_transfer_event_free (event);
  }
  fail_unless_equals_int (event->type, HANGOUT_TRANSFER_EVENT_FAILED);
  assert_equals_string (event->name, "part.bin");
  fail_unless (event->offset > 0 && event->offset < size);
  hangout_transfer_event_free (event);
  fail_if (hangout_share_receiver_is_mid_file (t->share));
  taker_free (t);
  share_free (s);
}
GST_END_TEST;

static gpointer
cancel_soon (gpointer data)
{
  /* The stimulus, not a wait for a condition: next() is blocked (or about
   * to be) on a room where nothing is shared. */
  g_usleep (G_USEC_PER_SEC);
  g_cancellable_cancel (data);
  return GINT_TO_POINTER (1);
}

/* How often the calling thread has gone to sleep and woken. */
static glong
wake_ups (void)
{
  struct rusage usage;

  fail_unless (getrusage (RUSAGE_THREAD, &usage) == 0);
  return usage.ru_nvcsw;
}

/* next() returns G_IO_ERROR_CANCELLED as soon as it is cancelled, and
 * G_IO_ERROR_TIMED_OUT when the room cannot join within join-timeout.
 * Waiting in a room where nothing is offered, it sleeps until something
 * happens (an idle hangoutsrc costs nothing). */
GST_START_TEST (test_receiver_cancel_and_join_timeout)
{
  Share *s = share_new ();
  Taker *t = taker_start (s, "t", NULL);
  g_autoptr (GCancellable) cancellable = g_cancellable_new ();
  g_autoptr (GError) error = NULL;
  HangoutRoom *nowhere;
  HangoutShareReceiver *lonely;
  GThread *thread;
  gint64 began;
  glong woken;

  /* Joined and connected first: those wake it, legitimately. */
  fail_unless (hangout_share_sender_wait_for_members (s->share, 1, 20, NULL,
          &error), "%s", error ? error->message : "");
  thread = g_thread_new ("cancel", cancel_soon, cancellable);
  began = g_get_monotonic_time ();
  woken = wake_ups ();
  fail_if (hangout_share_receiver_next (t->share, cancellable, NULL,
          &error));
  woken = wake_ups () - woken;
  fail_unless (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED),
      "%s", error ? error->message : "none");
  fail_unless (g_get_monotonic_time () - began < 2 * G_USEC_PER_SEC);
  GST_INFO ("next() woke %ld times", woken);
  /* The cancel, and the locks of the room's thread at most; waking every
   * WAKE_INTERVAL (100 ms) would be 10 or more. */
  fail_unless (woken <= 4, "next() woke %ld times in 1 s of nothing",
      woken);
  g_thread_join (thread);
  g_clear_error (&error);

  /* A WebSocket signaller to a port nobody listens on. */
  nowhere = hangout_room_new ("nowhere", "n", "ws://127.0.0.1:9/ws");
  lonely = hangout_share_receiver_new (nowhere, 1);
  fail_unless (hangout_room_start (nowhere, NULL));
  began = g_get_monotonic_time ();
  fail_if (hangout_share_receiver_next (lonely, NULL, NULL, &error));
  fail_unless (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT),
      "%s", error ? error->message : "none");
  fail_unless (g_get_monotonic_time () - began < 3 * G_USEC_PER_SEC);
  hangout_room_stop (nowhere);
  g_object_unref (lonely);
  g_object_unref (nowhere);
  taker_free (t);
  share_free (s);
}
GST_END_TEST;

/* ---- transfer version 2: the swarm ---- */

/* A taker reading one file to its end in a thread of its own: what a
 * hangoutsrc pipeline checks (offsets in order, the SHA-256). */
typedef struct {
  Taker *taker;
  GThread *thread;
  gchar *sha256;                /* of the bytes, once complete */
  gchar *reported;              /* what COMPLETE said */
  gchar *failure;
  gboolean in_order;
  guint64 output;               /* bytes output so far (lock) */
  gboolean finished;            /* the thread is about to return (lock) */
} Reader;

static gpointer
reader_thread (gpointer data)
{
  Reader *r = data;
  GChecksum *checksum = g_checksum_new (G_CHECKSUM_SHA256);
  guint64 offset = 0;

  r->in_order = TRUE;
  for (;;) {
    g_autoptr (GError) error = NULL;
    HangoutTransferEvent *event = hangout_share_receiver_next
        (r->taker->share, NULL, NULL, &error);

    if (event == NULL) {
      r->failure = g_strdup (error->message);
      break;
    }
    if (event->type == HANGOUT_TRANSFER_EVENT_DATA) {
      r->in_order &= event->offset == offset;
      g_checksum_update (checksum, g_bytes_get_data (event->payload, NULL),
          g_bytes_get_size (event->payload));
      offset += g_bytes_get_size (event->payload);
      g_mutex_lock (&lock);
      r->output = offset;
      g_cond_broadcast (&changed);
      g_mutex_unlock (&lock);
    } else if (event->type == HANGOUT_TRANSFER_EVENT_COMPLETE) {
      r->reported = g_strdup (event->sha256);
      r->sha256 = g_strdup (g_checksum_get_string (checksum));
    } else if (event->type == HANGOUT_TRANSFER_EVENT_FAILED) {
      r->failure = g_strdup (event->error->message);
    }
    if (event->type == HANGOUT_TRANSFER_EVENT_COMPLETE
        || event->type == HANGOUT_TRANSFER_EVENT_FAILED) {
      hangout_transfer_event_free (event);
      break;
    }
    hangout_transfer_event_free (event);
  }
  g_checksum_free (checksum);
  g_mutex_lock (&lock);
  r->finished = TRUE;
  g_cond_broadcast (&changed);
  g_mutex_unlock (&lock);
  return NULL;
}

static Reader *
reader_start (Share *s, const gchar *name)
{
  Reader *r = g_new0 (Reader, 1);

  r->taker = taker_start (s, name, NULL);
  r->thread = g_thread_new (name, reader_thread, r);
  return r;
}

static void
reader_free (Reader *r)
{
  taker_free (r->taker);
  g_free (r->sha256);
  g_free (r->reported);
  g_free (r->failure);
  g_free (r);
}

static guint64
summary_uint64 (Share *s, const gchar *field)
{
  guint64 value = G_MAXUINT64;

  fail_unless (gst_structure_get_uint64 (s->summary, field, &value),
      "no %s in the summary", field);
  return value;
}

static void
assert_readers_complete (Reader **readers, guint n, const gchar *sha256)
{
  for (guint i = 0; i < n; i++) {
    gint64 end = g_get_monotonic_time () + 60 * G_USEC_PER_SEC;
    gboolean finished;
    guint64 output;

    /* A reader that never completes is named, not a suite timeout. */
    g_mutex_lock (&lock);
    while (!readers[i]->finished
        && g_cond_wait_until (&changed, &lock, end));
    finished = readers[i]->finished;
    output = readers[i]->output;
    g_mutex_unlock (&lock);
    fail_unless (finished, "reader %u has %" G_GUINT64_FORMAT
        " bytes after 60 s and is still reading", i, output);
    g_thread_join (readers[i]->thread);
    fail_unless (readers[i]->failure == NULL, "reader %u: %s", i,
        readers[i]->failure);
    fail_unless (readers[i]->in_order, "reader %u: bytes out of order", i);
    assert_equals_string (readers[i]->sha256, sha256);
    assert_equals_string (readers[i]->reported, sha256);
  }
}

/* The sharer set to distribution=swarm, and @n readers of version 2,
 * "r0", "r1", ... */
static void
start_swarm (Share *s, Reader **readers, guint n)
{
  static const gchar *names[] = { "r0", "r1", "r2", "r3" };

  g_assert (n <= G_N_ELEMENTS (names));
  g_object_set (s->share, "distribution", HANGOUT_SHARE_DISTRIBUTION_SWARM,
      NULL);
  for (guint i = 0; i < n; i++)
    readers[i] = reader_start (s, names[i]);
}

static void
free_readers (Reader **readers, guint n)
{
  for (guint i = 0; i < n; i++)
    reader_free (readers[i]);
}

/* distribution=swarm with three receivers of version 2: each gets the
 * whole file in order, verified, and the sharer handed each piece to one
 * forwarder: its upload carries about one copy of the file, not three. */
GST_START_TEST (test_swarm_forwards)
{
  Share *s = share_new ();
  g_autofree gchar *sha256 = file_sha256 (s);
  Reader *readers[3];
  guint64 pieces, direct, resent;

  start_swarm (s, readers, G_N_ELEMENTS (readers));
  share_run (s, G_N_ELEMENTS (readers));
  assert_readers_complete (readers, G_N_ELEMENTS (readers), sha256);
  wait_done (s);
  fail_unless (s->ok, "finish: %s", s->error ? s->error->message : "");
  assert_counts (s, 3, 0, 0);
  pieces = summary_uint64 (s, "swarm-pieces");
  direct = summary_uint64 (s, "swarm-direct");
  resent = summary_uint64 (s, "swarm-resent");
  assert_equals_uint64 (pieces, (FILE_SIZE + 65535) / 65536);
  /* Each piece went to one forwarder, or to all three directly. */
  g_print ("swarm: %" G_GUINT64_FORMAT " pieces, %" G_GUINT64_FORMAT
      " direct, %" G_GUINT64_FORMAT " resent: the sharer sent %.2f copies\n",
      pieces, direct, resent, (pieces + 2.0 * direct + resent) / pieces);
  fail_unless ((pieces + 2 * direct + resent) * 10 < pieces * 15,
      "the sharer sent %.2f copies of the file",
      (pieces + 2.0 * direct + resent) / pieces);
  free_readers (readers, G_N_ELEMENTS (readers));
  share_free (s);
}
GST_END_TEST;

/* The rogues' pieces wake the test's waits. */
static void
on_rogue_assigned (gpointer data)
{
  g_mutex_lock (&lock);
  g_cond_broadcast (&changed);
  g_mutex_unlock (&lock);
}

/* A member of @kind (tests/helpers/rogue.h) in the share's room. */
static Rogue *
rogue_start (Share *s, const gchar *name, RogueKind kind)
{
  g_autoptr (HangoutRoom) room = room_new (s->hub, s->room_name, name);
  Rogue *r = rogue_new (room, kind, on_rogue_assigned, NULL);
  g_autoptr (GError) error = NULL;

  fail_unless (hangout_room_start (room, &error), "start: %s",
      error ? error->message : "");
  return r;
}

static void
rogue_stop (Rogue *r)
{
  hangout_room_stop (rogue_get_room (r));
  rogue_free (r);
}

/* Waits until @cond (read under the lock), or fails after @ms. */
#define WAIT_FOR(cond, ms) G_STMT_START {                                   \
    gint64 _end = g_get_monotonic_time () + (gint64) (ms) * 1000;          \
    gboolean _met;                                                          \
    g_mutex_lock (&lock);                                                   \
    while (!(cond) && g_cond_wait_until (&changed, &lock, _end));           \
    _met = (cond);                                                          \
    g_mutex_unlock (&lock);                                                 \
    fail_unless (_met, "timed out after %d ms waiting for: %s", (int) (ms), \
        #cond);                                                             \
  } G_STMT_END

/* The sharer's file read again at any offset, as hangoutsink reads its
 * upstream in pull mode. */
static gboolean
read_shared_file (guint64 offset, gsize size, guint8 *buffer,
    gpointer user_data, GError **error)
{
  Share *s = user_data;
  gsize len;
  const guint8 *bytes = g_bytes_get_data (s->file, &len);

  if (offset > len || size > len - offset) {
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
        "%" G_GSIZE_FORMAT " bytes at %" G_GUINT64_FORMAT " lie past the end",
        size, offset);
    return FALSE;
  }
  memcpy (buffer, bytes + offset, size);
  return TRUE;
}

/* Members that join late (§4.8): one while half the file is sent, which
 * is sent the first half by the sharer and then joins the swarm, and one
 * after the end, while the sharer lingers, which is sent it all. Both
 * get the whole file in order, verified, and so do the two that were
 * there from the start. */
GST_START_TEST (test_swarm_late_joiners)
{
  Share *s = share_new ();
  g_autofree gchar *sha256 = file_sha256 (s);
  Reader *readers[4];
  const guint linger = 3;
  guint64 made;

  g_object_set (s->share, "linger", linger, NULL);
  hangout_share_sender_set_reader (s->share, read_shared_file, s);
  start_swarm (s, readers, 2);
  s->pause_at = FILE_SIZE / 2;
  share_run (s, 2);
  WAIT_FOR (s->paused, 20000);
  /* The pieces made before the pause: writes of 100000 bytes. */
  made = (s->pause_at + 99999) / 100000 * 100000
      / HANGOUT_TRANSFER2_DEFAULT_PIECE_SIZE;
  readers[2] = reader_start (s, "mid-file");
  /* Connected to the sharer before the rest of the file is sent (nothing
   * signals it to the test: looked at every 10 ms). */
  for (gint64 end = g_get_monotonic_time () + 20 * G_USEC_PER_SEC;
      hangout_share_sender_count_connected (s->share) < 3;
      g_usleep (10 * 1000))
    fail_unless (g_get_monotonic_time () < end, "the late member did not "
        "connect within 20 s");
  /* Once it has them all it is in the swarm: the rest reaches it as it
   * reaches the others. */
  WAIT_FOR (readers[2]->output
      >= made * HANGOUT_TRANSFER2_DEFAULT_PIECE_SIZE, 20000);
  share_resume (s);
  WAIT_FOR (s->finishing, 20000);
  readers[3] = reader_start (s, "after-the-end");
  assert_readers_complete (readers, 4, sha256);
  wait_done (s);
  fail_unless (s->ok, "finish: %s", s->error ? s->error->message : "");
  assert_counts (s, 4, 0, 0);
  fail_unless (s->finish_ended - s->finish_began >= linger * G_USEC_PER_SEC,
      "finish returned %" G_GINT64_FORMAT " ms after the end, before "
      "linger", (s->finish_ended - s->finish_began) / 1000);
  /* The sharer sent the late ones the pieces before their time: the
   * first half to the first, which took the rest from the swarm, and the
   * whole file to the second. */
  assert_equals_uint64 (summary_uint64 (s, "swarm-caught-up"),
      made + summary_uint64 (s, "swarm-pieces"));
  free_readers (readers, G_N_ELEMENTS (readers));
  share_free (s);
}
GST_END_TEST;

/* A member of version 1 in a room sharing in version 2 gets the file
 * directly, by version 1, and the others through the swarm. */
GST_START_TEST (test_swarm_with_version1_member)
{
  Share *s = share_new ();
  g_autofree gchar *sha256 = file_sha256 (s);
  Receiver *old = receiver_start (s, "old", BEHAVE_ACK);
  Reader *readers[2];

  start_swarm (s, readers, G_N_ELEMENTS (readers));
  share_run (s, 3);
  assert_readers_complete (readers, 2, sha256);
  wait_done (s);
  fail_unless (s->ok, "finish: %s", s->error ? s->error->message : "");
  assert_counts (s, 3, 0, 0);
  assert_equals_string (old->sha256, sha256);
  assert_equals_uint64 (old->bytes, FILE_SIZE);
  assert_equals_uint64 (summary_uint64 (s, "swarm-pieces"),
      (FILE_SIZE + 65535) / 65536);
  free_readers (readers, G_N_ELEMENTS (readers));
  receiver_free (old);
  share_free (s);
}
GST_END_TEST;

/* A forwarder that forwards nothing and then leaves mid-file costs only
 * its pieces: the others get them again (requested, or sent again once it
 * left) and end with the whole file. */
GST_START_TEST (test_swarm_forwarder_leaves)
{
  Share *s = share_new ();
  g_autofree gchar *sha256 = file_sha256 (s);
  Rogue *quitter = rogue_start (s, "quitter", ROGUE_SILENT);
  Reader *readers[2];

  start_swarm (s, readers, G_N_ELEMENTS (readers));
  share_run (s, 3);
  WAIT_FOR (rogue_get_assigned (quitter) >= 4, 20000);
  hangout_room_stop (rogue_get_room (quitter));
  assert_readers_complete (readers, 2, sha256);
  wait_done (s);
  fail_unless (s->ok, "finish: %s", s->error ? s->error->message : "");
  assert_counts (s, 2, 1, 0);
  fail_unless (summary_uint64 (s, "swarm-resent") >= 1);
  free_readers (readers, G_N_ELEMENTS (readers));
  rogue_stop (quitter);
  share_free (s);
}
GST_END_TEST;

/* The summary's swarm-excluded names @rogue and no one else; returns its
 * id (transfer full). */
static gchar *
assert_only_excluded (Share *s, Rogue *rogue)
{
  gchar *id = hangout_room_dup_id (rogue_get_room (rogue));
  const GValue *excluded = gst_structure_get_value (s->summary,
      "swarm-excluded");

  fail_unless (excluded != NULL);
  assert_equals_int (gst_value_array_get_size (excluded), 1);
  assert_equals_string (g_value_get_string (gst_value_array_get_value
          (excluded, 0)), id);
  return id;
}

/* A forwarder that takes its pieces and forwards none (it stays, and
 * says it holds everything): the receivers fetch them from the sharer
 * after their repair delay and end with the right file, and the sharer,
 * asked for at least half of what it handed the forwarder, hands it no
 * more (swarm-excluded names it). */
GST_START_TEST (test_swarm_silent_forwarder)
{
  Share *s = share_new ();
  g_autofree gchar *sha256 = file_sha256 (s);
  Rogue *mute = rogue_start (s, "mute", ROGUE_SILENT);
  Reader *readers[2];
  guint64 pieces, made;

  g_object_set (s->share, "ack-timeout", 2, NULL);
  start_swarm (s, readers, G_N_ELEMENTS (readers));
  /* Requests count before the end only: the sharer waits at three
   * quarters of the file until the readers output the pieces made so
   * far, which they can only once the ones the mute forwarder was handed
   * (a third) came from the sharer, asked for; all but the last few,
   * which no later piece shows missing before the sharer goes on. */
  s->pause_at = FILE_SIZE / 4 * 3;
  share_run (s, 3);
  WAIT_FOR (s->paused, 20000);
  made = (s->pause_at + 99999) / 100000 * 100000
      / HANGOUT_TRANSFER2_DEFAULT_PIECE_SIZE - 4;
  WAIT_FOR (readers[0]->output >= made * HANGOUT_TRANSFER2_DEFAULT_PIECE_SIZE
      && readers[1]->output >= made * HANGOUT_TRANSFER2_DEFAULT_PIECE_SIZE,
      30000);
  share_resume (s);
  assert_readers_complete (readers, 2, sha256);
  wait_done (s);
  fail_unless (s->ok, "finish: %s", s->error ? s->error->message : "");
  assert_counts (s, 2, 0, 1);
  g_free (assert_only_excluded (s, mute));
  pieces = summary_uint64 (s, "swarm-pieces");
  g_print ("the mute forwarder was handed %u piece messages of %"
      G_GUINT64_FORMAT " pieces\n", rogue_get_assigned (mute), pieces);
  free_readers (readers, G_N_ELEMENTS (readers));
  rogue_stop (mute);
  share_free (s);
}
GST_END_TEST;

/* A forwarder that changes what it forwards: every receiver drops those
 * pieces, says so ("corrupt", naming the forwarder), fetches them from the
 * sharer and ends with the right file; the sharer hands the forwarder no
 * more once three were named corrupt. */
GST_START_TEST (test_swarm_corrupt_forwarder)
{
  Share *s = share_new ();
  g_autofree gchar *sha256 = file_sha256 (s);
  Rogue *liar = rogue_start (s, "liar", ROGUE_CORRUPT);
  g_autofree gchar *liar_id = NULL;
  Reader *readers[2];

  g_object_set (s->share, "ack-timeout", 2, NULL);
  start_swarm (s, readers, G_N_ELEMENTS (readers));
  share_run (s, 3);
  assert_readers_complete (readers, 2, sha256);
  wait_done (s);
  fail_unless (s->ok, "finish: %s", s->error ? s->error->message : "");
  /* It never answered. */
  assert_counts (s, 2, 0, 1);
  liar_id = assert_only_excluded (s, liar);
  g_print ("the liar was handed %u piece messages of %" G_GUINT64_FORMAT
      " pieces\n", rogue_get_assigned (liar),
      summary_uint64 (s, "swarm-pieces"));
  for (guint i = 0; i < G_N_ELEMENTS (readers); i++) {
    Taker *t = readers[i]->taker;
    g_autofree gchar *from = NULL;
    guint corrupt;

    g_mutex_lock (&lock);
    corrupt = t->corrupt;
    from = g_strdup (t->corrupt_from);
    g_mutex_unlock (&lock);
    fail_unless (corrupt >= 1, "reader %u was told of no corrupt piece", i);
    assert_equals_string (from, liar_id);
  }
  /* Each receiver fetched at least the three it named again. */
  fail_unless (summary_uint64 (s, "swarm-resent") >= 6);
  free_readers (readers, G_N_ELEMENTS (readers));
  rogue_stop (liar);
  share_free (s);
}
GST_END_TEST;

/* A receiver of version 2 that takes its time at the end (the room and
 * the CPU of a busy member): it says it holds the whole file, and asks
 * for piece 0 only a while after `end`, and answers only a while after
 * its repair came. */
typedef struct {
  HangoutRoom *room;
  gchar *sharer;                /* lock */
  gchar *id;                    /* lock */
  gchar *root;                  /* of `end` (lock) */
  gboolean repaired;            /* piece 0 came as repair (lock) */
  gboolean rejected;            /* an offer of its was rejected (lock) */
} Laggard;

static void
on_laggard_message (HangoutRoom *room, const gchar *member,
    gboolean is_string, GBytes *data, Laggard *l)
{
  gsize len;
  const guint8 *bytes = g_bytes_get_data (data, &len);
  HangoutTransfer2Control control;
  HangoutTransfer2Piece piece;

  if (!is_string) {
    if (hangout_transfer2_binary_kind (bytes, len)
        == HANGOUT_TRANSFER2_BINARY_PIECE
        && hangout_transfer2_parse_piece (bytes, len, &piece, NULL)
        && piece.role == HANGOUT_TRANSFER2_ROLE_REPAIR) {
      g_mutex_lock (&lock);
      l->repaired = TRUE;
      g_cond_broadcast (&changed);
      g_mutex_unlock (&lock);
    }
    return;
  }
  if (g_strstr_len ((const gchar *) bytes, len, "\"type\":\"reject\"")) {
    g_mutex_lock (&lock);
    l->rejected = TRUE;
    g_cond_broadcast (&changed);
    g_mutex_unlock (&lock);
    return;
  }
  if (!hangout_transfer2_parse_control ((const gchar *) bytes, len, &control,
          NULL))
    return;
  if (control.type == HANGOUT_TRANSFER2_OFFER) {
    g_autofree gchar *accept = hangout_transfer2_build_accept (control.id);

    g_mutex_lock (&lock);
    l->sharer = g_strdup (member);
    l->id = g_strdup (control.id);
    g_mutex_unlock (&lock);
    hangout_room_send_string (room, member, accept, NULL);
  } else if (control.type == HANGOUT_TRANSFER2_SWARM) {
    g_autoptr (GArray) none = g_array_new (FALSE, FALSE,
        sizeof (HangoutTransfer2Range));
    g_autofree gchar *have = hangout_transfer2_build_have (control.id,
        (FILE_SIZE + HANGOUT_TRANSFER2_DEFAULT_PIECE_SIZE - 1)
        / HANGOUT_TRANSFER2_DEFAULT_PIECE_SIZE, none);

    hangout_room_send_string (room, member, have, NULL);
  } else if (control.type == HANGOUT_TRANSFER2_END) {
    g_mutex_lock (&lock);
    l->root = g_strdup (control.root);
    g_cond_broadcast (&changed);
    g_mutex_unlock (&lock);
  }
  hangout_transfer2_control_clear (&control);
}

static gint criticals;

/* A critical or a warning of libhangout's, counted. */
static void
count_critical (const gchar *domain, GLogLevelFlags level,
    const gchar *message, gpointer data)
{
  g_printerr ("%s (%s): %s\n", domain, level & G_LOG_LEVEL_CRITICAL
      ? "critical" : "warning", message);
  g_atomic_int_inc (&criticals);
}

/* A receiver may ask for what it misses only once `end` is a second old
 * (protocol §4.7), and a busy one later still: ack-timeout counts from
 * the pieces the sharer sends it again, and starts after that second.
 * Here the receiver asks 1.5 s after `end`, with ack-timeout 1, and
 * answers 1.5 s after its repair came: it is in the summary's complete,
 * not no-answer. */
GST_START_TEST (test_swarm_repair_after_end)
{
  Share *s = share_new ();
  Laggard l = { .room = room_new (s->hub, s->room_name, "laggard") };
  g_autoptr (GError) error = NULL;
  g_autoptr (GArray) pieces = g_array_new (FALSE, FALSE,
      sizeof (HangoutTransfer2Range));
  HangoutTransfer2Range piece0 = { .first = 0, .count = 1 };
  g_autofree gchar *request = NULL;
  g_autofree gchar *ack = NULL;
  g_autofree gchar *complete = NULL;
  g_autofree gchar *offer = NULL;
  guint handler;

  g_object_set_data (G_OBJECT (l.room), "test-name", (gpointer) "laggard");
  hangout_room_set_transfer_versions (l.room,
      HANGOUT_SHARE_TRANSFER_VERSIONS);
  g_signal_connect (l.room, "message", G_CALLBACK (on_laggard_message), &l);
  fail_unless (hangout_room_start (l.room, &error), "start: %s",
      error ? error->message : "");
  g_object_set (s->share, "ack-timeout", 1, NULL);
  start_swarm (s, NULL, 0);
  share_run (s, 1);
  WAIT_FOR (l.root != NULL, 20000);
  g_usleep (1500 * 1000);
  g_array_append_val (pieces, piece0);
  request = hangout_transfer2_build_request (l.id, pieces);
  fail_unless (hangout_room_send_string (l.room, l.sharer, request, NULL));
  WAIT_FOR (l.repaired, 5000);
  g_usleep (1500 * 1000);
  ack = hangout_transfer2_build_ack (l.id, TRUE, l.root);
  fail_unless (hangout_room_send_string (l.room, l.sharer, ack, NULL));
  wait_done (s);
  fail_unless (s->ok, "finish: %s", s->error ? s->error->message : "");
  complete = summary_list (s, "complete", &l.room, 1);
  assert_equals_string (complete, "laggard");
  assert_counts (s, 1, 0, 0);

  /* Once the file ended, a member's version 2 messages find no swarm:
   * they are dropped, with no critical from reading nothing again. The
   * answer to an offer sent after the request says it was handled. */
  hangout_share_sender_end (s->share);
  handler = g_log_set_handler ("hangout", G_LOG_LEVEL_CRITICAL
      | G_LOG_LEVEL_WARNING, count_critical, NULL);
  offer = hangout_transfer2_build_offer (l.id, "f.bin", 1048576,
      "application/octet-stream", 65536, 65536, 8388608, NULL);
  fail_unless (hangout_room_send_string (l.room, l.sharer, request, NULL));
  fail_unless (hangout_room_send_string (l.room, l.sharer, offer, NULL));
  WAIT_FOR (l.rejected, 5000);
  g_log_remove_handler ("hangout", handler);
  fail_unless_equals_int (g_atomic_int_get (&criticals), 0);
  hangout_room_stop (l.room);
  g_object_unref (l.room);
  g_free (l.sharer);
  g_free (l.id);
  g_free (l.root);
  share_free (s);
}
GST_END_TEST;

/* A member that sends version 2 offers and keeps the answers. */
typedef struct {
  HangoutRoom *room;
  gchar *peer;                  /* the member it is connected to (lock) */
  GPtrArray *answers;           /* texts (lock) */
} Offerer;

/* Only the receiver "t" is offered anything. */
static void
on_offerer_connected (HangoutRoom *room, const gchar *member, Offerer *o)
{
  g_autofree gchar *name = hangout_room_dup_member_name (room, member);

  if (g_strcmp0 (name, "t") != 0)
    return;
  g_mutex_lock (&lock);
  o->peer = g_strdup (member);
  g_cond_broadcast (&changed);
  g_mutex_unlock (&lock);
}

/* Its answers: accept or reject (not its have). */
static void
on_offerer_message (HangoutRoom *room, const gchar *member,
    gboolean is_string, GBytes *data, Offerer *o)
{
  HangoutTransfer2Control control;
  gsize len;
  const gchar *text = g_bytes_get_data (data, &len);

  if (!is_string
      || !hangout_transfer2_parse_control (text, len, &control, NULL))
    return;
  if (control.type == HANGOUT_TRANSFER2_ACCEPT
      || control.type == HANGOUT_TRANSFER2_VERSION1) {
    g_mutex_lock (&lock);
    g_ptr_array_add (o->answers, g_strndup (text, len));
    g_cond_broadcast (&changed);
    g_mutex_unlock (&lock);
  }
  hangout_transfer2_control_clear (&control);
}

/* Offers file @n (id 0…0n) with @window, and returns the answer. */
static gchar *
offer_and_wait (Offerer *o, guint n, guint window)
{
  g_autofree gchar *id = g_strdup_printf ("%032x", n);
  g_autofree gchar *offer = hangout_transfer2_build_offer (id, "f.bin",
      1048576, "application/octet-stream", 65536, 65536, window, NULL);
  gchar *peer, *answer;
  guint had;

  g_mutex_lock (&lock);
  peer = g_strdup (o->peer);
  had = o->answers->len;
  g_mutex_unlock (&lock);
  fail_unless (hangout_room_send_string (o->room, peer, offer, NULL));
  g_free (peer);
  WAIT_FOR (o->answers->len > had, 10000);
  g_mutex_lock (&lock);
  answer = g_strdup (o->answers->pdata[had]);
  g_mutex_unlock (&lock);
  return answer;
}

/* A receiver takes 4 files of version 2 at once and windows up to 8 MiB:
 * each costs its window however slowly it is output, so a member cannot
 * make it hold more by offering more (docs/protocol.md §4.9). */
GST_START_TEST (test_swarm_receiver_limits)
{
  Share *s = share_new ();
  Taker *t = taker_start (s, "t", NULL);
  Offerer o = { 0 };
  g_autoptr (GError) error = NULL;

  o.answers = g_ptr_array_new_with_free_func (g_free);
  o.room = room_new (s->hub, s->room_name, "offerer");
  hangout_room_set_transfer_versions (o.room,
      HANGOUT_SHARE_TRANSFER_VERSIONS);
  g_signal_connect (o.room, "peer-connected",
      G_CALLBACK (on_offerer_connected), &o);
  g_signal_connect (o.room, "message", G_CALLBACK (on_offerer_message), &o);
  fail_unless (hangout_room_start (o.room, &error), "start: %s",
      error ? error->message : "");
  WAIT_FOR (o.peer != NULL, 10000);
  {
    g_autofree gchar *big = offer_and_wait (&o, 1, 16 * 1024 * 1024);

    fail_unless (strstr (big, "\"reject\"") != NULL
        && strstr (big, "window not supported") != NULL, "%s", big);
  }
  for (guint n = 2; n < 6; n++) {
    g_autofree gchar *answer = offer_and_wait (&o, n, 8 * 1024 * 1024);

    fail_unless (strstr (answer, "\"accept\"") != NULL, "file %u: %s", n,
        answer);
  }
  {
    g_autofree gchar *fifth = offer_and_wait (&o, 6, 8 * 1024 * 1024);

    fail_unless (strstr (fifth, "already receives 4 files of version 2")
        != NULL, "%s", fifth);
  }
  hangout_room_stop (o.room);
  g_object_unref (o.room);
  g_ptr_array_unref (o.answers);
  g_free (o.peer);
  taker_free (t);
  share_free (s);
}
GST_END_TEST;

static Suite *
share_suite (void)
{
  Suite *s = suite_create ("share");
  TCase *tc = tcase_create ("sender");

  tcase_set_timeout (tc, 30);
  suite_add_tcase (s, tc);
  tcase_add_test (tc, test_two_receivers);
  tcase_add_test (tc, test_decline);
  tcase_add_test (tc, test_leave_mid_file);
  tcase_add_test (tc, test_min_acks_not_met);
  tcase_add_test (tc, test_ack_timeout_from_progress);
  tcase_add_test (tc, test_cancel);

  tc = tcase_create ("receiver");
  tcase_set_timeout (tc, 30);
  suite_add_tcase (s, tc);
  tcase_add_test (tc, test_receiver_takes_file);
  tcase_add_test (tc, test_receiver_declines);
  tcase_add_test (tc, test_receiver_from);
  tcase_add_test (tc, test_receiver_sender_leaves);
  tcase_add_test (tc, test_receiver_cancel_and_join_timeout);
  tcase_add_test (tc, test_swarm_forwards);
  tcase_add_test (tc, test_swarm_with_version1_member);
  tcase_add_test (tc, test_swarm_forwarder_leaves);
  tcase_add_test (tc, test_swarm_corrupt_forwarder);
  tcase_add_test (tc, test_swarm_silent_forwarder);
  tcase_add_test (tc, test_swarm_receiver_limits);
  tcase_add_test (tc, test_swarm_late_joiners);
  tcase_add_test (tc, test_swarm_repair_after_end);
  return s;
}

GST_CHECK_MAIN (share);
