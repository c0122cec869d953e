/* gst-hangout — the SCTP layer on its own: two associations in one
 * process, their packets handed across by the test, which may lose some.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#include <gst/check/gstcheck.h>
#include <hangout/sctp.h>

#define PORT 5000
#define CHUNK_DATA 0
#define MESSAGES 8
#define MESSAGE_SIZE 4000

typedef struct _Side Side;

struct _Side {
  HangoutSctp *sctp;
  Side *peer;
  GMainContext *context;
  gboolean connected;
  guint received;
  /* Packets holding a DATA chunk are lost on their way out (atomic). */
  gint drop_data;
};

typedef struct {
  Side *to;
  GBytes *packet;
} Delivery;

static gboolean
holds_data (const guint8 *packet, gsize len)
{
  for (gsize offset = 12; offset + 4 <= len;) {
    gsize chunk_len = (packet[offset + 2] << 8) | packet[offset + 3];

    if (packet[offset] == CHUNK_DATA)
      return TRUE;
    if (chunk_len < 4)
      return FALSE;
    offset += (chunk_len + 3) & ~(gsize) 3;
  }
  return FALSE;
}

static gboolean
deliver (gpointer data)
{
  Delivery *d = data;
  gsize len;
  const guint8 *bytes = g_bytes_get_data (d->packet, &len);

  if (d->to->sctp != NULL)
    hangout_sctp_receive_packet (d->to->sctp, bytes, len);
  return G_SOURCE_REMOVE;
}

static void
delivery_free (gpointer data)
{
  Delivery *d = data;

  g_bytes_unref (d->packet);
  g_free (d);
}

/* Any thread (usrsctp's timers send from the clock's): delivered on the
 * test's context, as a network thread would. */
static void
on_send_packet (gpointer user_data, const guint8 *data, gsize len)
{
  Side *side = user_data;
  Delivery *d;
  GSource *source;

  if (g_atomic_int_get (&side->drop_data) && holds_data (data, len))
    return;
  d = g_new (Delivery, 1);
  d->to = side->peer;
  d->packet = g_bytes_new (data, len);
  source = g_idle_source_new ();
  g_source_set_callback (source, deliver, d, delivery_free);
  g_source_attach (source, side->context);
  g_source_unref (source);
}

static void
on_connected (gpointer user_data)
{
  ((Side *) user_data)->connected = TRUE;
}

static void
on_closed (gpointer user_data, const GError *error)
{
  fail ("association closed: %s", error ? error->message : "");
}

static void
on_message (gpointer user_data, guint16 stream_id, guint32 ppid,
    const guint8 *data, gsize len)
{
  ((Side *) user_data)->received++;
}

static void
on_stream_reset (gpointer user_data, guint16 stream_id)
{
}

static void
on_message_sent (gpointer user_data, guint16 stream_id, gsize len)
{
}

static const HangoutSctpCallbacks callbacks = {
  on_send_packet, on_connected, on_closed, on_message, on_stream_reset,
  on_message_sent,
};

static void
send_message (Side *side, gsize len)
{
  HangoutSctpSendParams params = { 1, HANGOUT_SCTP_PPID_BINARY, FALSE, -1,
    -1
  };
  g_autofree guint8 *data = g_malloc0 (len);
  GError *error = NULL;
  gboolean queued;

  fail_unless (hangout_sctp_send (side->sctp, &params, data, len, &queued,
          &error), "%s", error ? error->message : "");
}

/* Runs the context for a while, or until @until() (NULL: never) holds;
 * @pinger sends a small message every 500 ms meanwhile. FALSE when the
 * time ran out. */
static gboolean
run (GMainContext *context, gint64 duration_us, Side *pinger,
    gboolean (*until) (Side *), Side *side)
{
  gint64 end = g_get_monotonic_time () + duration_us;
  gint64 next_ping = 0;

  while (g_get_monotonic_time () < end) {
    if (until != NULL && until (side))
      return TRUE;
    if (pinger != NULL && g_get_monotonic_time () >= next_ping) {
      send_message (pinger, 10);
      next_ping = g_get_monotonic_time () + 500 * G_TIME_SPAN_MILLISECOND;
    }
    g_main_context_iteration (context, FALSE);
    g_usleep (1000);
  }
  return FALSE;
}

static gboolean
both_connected (Side *side)
{
  return side->connected && side->peer->connected;
}

static gboolean
all_received (Side *side)
{
  return side->received == MESSAGES;
}

/* usrsctp can lose the retransmission timer of chunks it sent (sctp.c,
 * WEDGE_AFTER_US); the association then recovers once packets from the
 * peer show nothing acknowledged for a while. Modelled here by losing
 * every packet with data for 7 s, so that the timer has backed off
 * (RTO 200 ms, doubling: due again 12.6 s after the first loss, 5.6 s
 * after the cut), while the peer sends a message every 500 ms: nudged
 * 3 s after the loss, the association has the data through within 4.5 s
 * of the cut's end (0.04 to 2.9 s in five runs). */
GST_START_TEST (test_resend_while_the_peer_sends)
{
  GMainContext *context = g_main_context_new ();
  Side a = { .context = context }, b = { .context = context };
  GError *error = NULL;
  gint64 restored, took;

  a.peer = &b;
  b.peer = &a;
  a.sctp = hangout_sctp_new (context, PORT, PORT, HANGOUT_SCTP_DEFAULT_MTU,
      65536, 0, &callbacks, &a, &error);
  fail_unless (a.sctp != NULL, "%s", error ? error->message : "");
  b.sctp = hangout_sctp_new (context, PORT, PORT, HANGOUT_SCTP_DEFAULT_MTU,
      65536, 0, &callbacks, &b, &error);
  fail_unless (b.sctp != NULL, "%s", error ? error->message : "");
  fail_unless (hangout_sctp_connect (a.sctp, &error), "%s", error->message);
  fail_unless (hangout_sctp_connect (b.sctp, &error), "%s", error->message);
  fail_unless (run (context, 10 * G_USEC_PER_SEC, NULL, both_connected, &a),
      "no association within 10 s");

  g_atomic_int_set (&a.drop_data, TRUE);
  for (guint i = 0; i < MESSAGES; i++)
    send_message (&a, MESSAGE_SIZE);
  run (context, 7 * G_USEC_PER_SEC, &b, NULL, NULL);
  fail_unless (b.received == 0, "data went through the cut");
  g_atomic_int_set (&a.drop_data, FALSE);
  restored = g_get_monotonic_time ();
  fail_unless (run (context, 10 * G_USEC_PER_SEC, &b, all_received, &b),
      "only %u messages in 10 s", b.received);
  took = g_get_monotonic_time () - restored;
  g_print ("the data came %" G_GINT64_FORMAT " ms after the cut ended\n",
      took / 1000);
  fail_unless (took < 4500 * G_TIME_SPAN_MILLISECOND, "the data came %" G_GINT64_FORMAT
      " ms after the cut ended", took / 1000);
  g_clear_pointer (&a.sctp, hangout_sctp_free);
  g_clear_pointer (&b.sctp, hangout_sctp_free);
  /* What was still on its way goes nowhere. */
  while (g_main_context_iteration (context, FALSE));
  g_main_context_unref (context);
}

GST_END_TEST;

static Suite *
sctp_suite (void)
{
  Suite *s = suite_create ("sctp");
  TCase *tc = tcase_create ("association");

  tcase_set_timeout (tc, 60);
  suite_add_tcase (s, tc);
  tcase_add_test (tc, test_resend_while_the_peer_sends);
  return s;
}

GST_CHECK_MAIN (sctp);
