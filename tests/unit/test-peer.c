/* gst-hangout — two libhangout peer connections in one process, over real
 * ICE (loopback), DTLS and SCTP.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#include <gst/check/gstcheck.h>
#include <hangout/peer.h>
#include <hangout/sctp.h>
#include <string.h>

/* ---- harness ---- */

typedef struct {
  GMainContext *context;
  GSource *ticker;
  HangoutPeerConnection *offerer, *answerer;
  GPtrArray *incoming_offerer, *incoming_answerer;      /* "data-channel" */
  gboolean trickle;
} Pair;

/* Iterates the context; a ticker source guarantees a wake-up so that the
 * deadline in WAIT_UNTIL is checked even when nothing happens. */
#define WAIT_UNTIL(pair, cond, seconds) G_STMT_START {                    \
    gint64 _end = g_get_monotonic_time () + (seconds) * G_USEC_PER_SEC;   \
    while (!(cond)) {                                                     \
      fail_if (g_get_monotonic_time () > _end,                            \
          "timed out after %d s waiting for: %s", (seconds), #cond);      \
      g_main_context_iteration ((pair)->context, TRUE);                   \
    }                                                                     \
  } G_STMT_END

static gboolean
tick (gpointer data)
{
  return G_SOURCE_CONTINUE;
}

static void
on_candidate (HangoutPeerConnection *from, const gchar *candidate,
    HangoutPeerConnection *to)
{
  GError *error = NULL;

  fail_unless (hangout_peer_connection_add_ice_candidate (to, candidate,
          &error), "candidate refused: %s", error ? error->message : "");
}

static void
on_data_channel (HangoutPeerConnection *pc, HangoutDataChannel *channel,
    GPtrArray *incoming)
{
  g_ptr_array_add (incoming, g_object_ref (channel));
}

static Pair *
pair_new (void)
{
  Pair *pair = g_new0 (Pair, 1);

  pair->context = g_main_context_new ();
  pair->ticker = g_timeout_source_new (50);
  g_source_set_callback (pair->ticker, tick, NULL, NULL);
  g_source_attach (pair->ticker, pair->context);
  pair->offerer = hangout_peer_connection_new (pair->context);
  pair->answerer = hangout_peer_connection_new (pair->context);
  pair->incoming_offerer = g_ptr_array_new_with_free_func (g_object_unref);
  pair->incoming_answerer = g_ptr_array_new_with_free_func (g_object_unref);
  g_signal_connect (pair->offerer, "data-channel",
      G_CALLBACK (on_data_channel), pair->incoming_offerer);
  g_signal_connect (pair->answerer, "data-channel",
      G_CALLBACK (on_data_channel), pair->incoming_answerer);
  return pair;
}

static void
pair_free (Pair *pair)
{
  hangout_peer_connection_close (pair->offerer);
  hangout_peer_connection_close (pair->answerer);
  g_ptr_array_unref (pair->incoming_offerer);
  g_ptr_array_unref (pair->incoming_answerer);
  g_object_unref (pair->offerer);
  g_object_unref (pair->answerer);
  /* Let deferred frees run before the context goes. */
  while (g_main_context_iteration (pair->context, FALSE));
  g_source_destroy (pair->ticker);
  g_source_unref (pair->ticker);
  g_main_context_unref (pair->context);
  g_free (pair);
}

/* Offer/answer with trickled candidates; @edit_answer, if any, rewrites the
 * answer on its way to the offerer (another stack's answer). */
static void
pair_negotiate_edited (Pair *pair, gchar *(*edit_answer) (gchar *answer))
{
  GError *error = NULL;
  gchar *offer, *answer;

  g_signal_connect (pair->offerer, "ice-candidate", G_CALLBACK (on_candidate),
      pair->answerer);
  g_signal_connect (pair->answerer, "ice-candidate", G_CALLBACK (on_candidate),
      pair->offerer);
  offer = hangout_peer_connection_create_offer (pair->offerer, &error);
  fail_unless (offer != NULL, "%s", error ? error->message : "");
  fail_unless (hangout_peer_connection_set_remote_description (pair->answerer,
          HANGOUT_SDP_OFFER, offer, &error), "%s", error ? error->message : "");
  answer = hangout_peer_connection_create_answer (pair->answerer, &error);
  fail_unless (answer != NULL, "%s", error ? error->message : "");
  if (edit_answer != NULL)
    answer = edit_answer (answer);
  fail_unless (hangout_peer_connection_set_remote_description (pair->offerer,
          HANGOUT_SDP_ANSWER, answer, &error), "%s", error ? error->message : "");
  g_free (offer);
  g_free (answer);
}

static void
pair_negotiate (Pair *pair)
{
  pair_negotiate_edited (pair, NULL);
}

static gboolean
both_connected (Pair *pair)
{
  return hangout_peer_connection_get_state (pair->offerer) ==
      HANGOUT_PEER_CONNECTION_STATE_CONNECTED
      && hangout_peer_connection_get_state (pair->answerer) ==
      HANGOUT_PEER_CONNECTION_STATE_CONNECTED;
}

static gboolean
is_state (HangoutPeerConnection *pc, HangoutPeerConnectionState state)
{
  return hangout_peer_connection_get_state (pc) == state;
}

static gboolean
is_open (HangoutDataChannel *channel)
{
  return hangout_data_channel_get_ready_state (channel) ==
      HANGOUT_DATA_CHANNEL_STATE_OPEN;
}

/* A connected pair with one channel "test" from the offerer, open on both
 * sides; *@remote is the answerer's end. */
static HangoutDataChannel *
pair_connect_with_channel (Pair *pair, const HangoutDataChannelOptions *options,
    HangoutDataChannel **remote)
{
  GError *error = NULL;
  HangoutDataChannel *local;

  local = hangout_peer_connection_create_data_channel (pair->offerer, "test",
      options, &error);
  fail_unless (local != NULL, "%s", error ? error->message : "");
  pair_negotiate (pair);
  WAIT_UNTIL (pair, both_connected (pair), 10);
  WAIT_UNTIL (pair, pair->incoming_answerer->len == 1, 10);
  *remote = pair->incoming_answerer->pdata[0];
  WAIT_UNTIL (pair, is_open (local) && is_open (*remote), 10);
  return local;
}

/* Records every message a channel receives, in order. */
typedef struct {
  GPtrArray *messages;          /* GBytes */
  GArray *is_string;            /* gboolean */
  GChecksum *checksum;          /* when hashing instead of keeping */
  guint64 bytes;
} Sink;

static void
on_message_string (HangoutDataChannel *channel, const gchar *text, Sink *sink)
{
  gboolean yes = TRUE;

  g_ptr_array_add (sink->messages, g_bytes_new (text, strlen (text)));
  g_array_append_val (sink->is_string, yes);
}

static void
on_message_data (HangoutDataChannel *channel, GBytes *data, Sink *sink)
{
  gboolean no = FALSE;

  sink->bytes += g_bytes_get_size (data);
  if (sink->checksum != NULL) {
    g_checksum_update (sink->checksum, g_bytes_get_data (data, NULL),
        g_bytes_get_size (data));
    return;
  }
  g_ptr_array_add (sink->messages, g_bytes_ref (data));
  g_array_append_val (sink->is_string, no);
}

static Sink *
sink_attach (HangoutDataChannel *channel)
{
  Sink *sink = g_new0 (Sink, 1);

  sink->messages = g_ptr_array_new_with_free_func ((GDestroyNotify) g_bytes_unref);
  sink->is_string = g_array_new (FALSE, FALSE, sizeof (gboolean));
  g_signal_connect (channel, "message-string", G_CALLBACK (on_message_string),
      sink);
  g_signal_connect (channel, "message-data", G_CALLBACK (on_message_data),
      sink);
  return sink;
}

static void
sink_free (Sink *sink)
{
  g_ptr_array_unref (sink->messages);
  g_array_unref (sink->is_string);
  if (sink->checksum)
    g_checksum_free (sink->checksum);
  g_free (sink);
}

static GBytes *
pattern (gsize len, guint seed)
{
  guint8 *data = g_malloc (len ? len : 1);

  for (gsize i = 0; i < len; i++)
    data[i] = (guint8) (i * 31 + seed + (i >> 8));
  return g_bytes_new_take (data, len);
}

/* ---- tests ---- */

GST_START_TEST (test_connect_and_roles)
{
  Pair *pair = pair_new ();
  HangoutDataChannel *local, *remote;
  gint local_id;

  local = pair_connect_with_channel (pair, NULL, &remote);
  /* The answerer said a=setup:active: it is the DTLS client and uses even
   * ids; the offerer (server) odd ones. */
  local_id = hangout_data_channel_get_id (local);
  fail_unless (local_id % 2 == 1, "offerer's channel has id %d", local_id);
  fail_unless_equals_int (hangout_data_channel_get_id (remote), local_id);
  fail_unless_equals_string (hangout_data_channel_get_label (remote), "test");
  /* Both advertise 256 KiB. */
  fail_unless_equals_int (hangout_data_channel_get_max_message_size (local),
      262144);
  g_object_unref (local);
  pair_free (pair);
}

GST_END_TEST;

static void
exchange_messages (Pair *pair, HangoutDataChannel *from, HangoutDataChannel *to)
{
  const gsize sizes[] = { 0, 1, 65536, 262144 };
  Sink *sink = sink_attach (to);
  GError *error = NULL;
  guint n = 0;

  for (guint i = 0; i < G_N_ELEMENTS (sizes); i++) {
    g_autoptr (GBytes) data = pattern (sizes[i], i);
    g_autofree gchar *text = g_strnfill (sizes[i], 'a' + i);

    fail_unless (hangout_data_channel_send_string (from, text, &error), "%s",
        error ? error->message : "");
    fail_unless (hangout_data_channel_send_bytes (from, data, &error), "%s",
        error ? error->message : "");
  }
  WAIT_UNTIL (pair, sink->messages->len == 2 * G_N_ELEMENTS (sizes), 20);
  for (guint i = 0; i < G_N_ELEMENTS (sizes); i++) {
    g_autoptr (GBytes) data = pattern (sizes[i], i);
    g_autofree gchar *text = g_strnfill (sizes[i], 'a' + i);
    g_autoptr (GBytes) text_bytes = g_bytes_new (text, sizes[i]);

    fail_unless (g_array_index (sink->is_string, gboolean, n));
    fail_unless (g_bytes_equal (sink->messages->pdata[n++], text_bytes),
        "text message of %" G_GSIZE_FORMAT " bytes differs", sizes[i]);
    fail_if (g_array_index (sink->is_string, gboolean, n));
    fail_unless (g_bytes_equal (sink->messages->pdata[n++], data),
        "binary message of %" G_GSIZE_FORMAT " bytes differs", sizes[i]);
  }
  g_signal_handlers_disconnect_by_data (to, sink);
  sink_free (sink);
}

GST_START_TEST (test_messages_both_ways)
{
  Pair *pair = pair_new ();
  HangoutDataChannel *local, *remote;

  local = pair_connect_with_channel (pair, NULL, &remote);
  exchange_messages (pair, local, remote);
  exchange_messages (pair, remote, local);
  g_object_unref (local);
  pair_free (pair);
}

GST_END_TEST;

GST_START_TEST (test_message_too_big)
{
  Pair *pair = pair_new ();
  HangoutDataChannel *local, *remote;
  GError *error = NULL;
  g_autoptr (GBytes) big = pattern (262145, 1);
  g_autoptr (GBytes) medium = pattern (65537, 2);

  /* The answerer accepts only 64 KiB: the offerer must not send more. */
  g_object_set (pair->answerer, "max-message-size", (guint64) 65536, NULL);
  local = pair_connect_with_channel (pair, NULL, &remote);
  fail_unless_equals_int (hangout_data_channel_get_max_message_size (local),
      65536);
  fail_if (hangout_data_channel_send_bytes (local, medium, &error));
  fail_unless (g_error_matches (error, HANGOUT_ERROR,
          HANGOUT_ERROR_MESSAGE_TOO_BIG));
  fail_unless (strstr (error->message, "max-message-size") != NULL, "%s",
      error->message);
  g_clear_error (&error);
  /* The other way the limit is the offerer's 256 KiB. */
  fail_if (hangout_data_channel_send_bytes (remote, big, &error));
  fail_unless (g_error_matches (error, HANGOUT_ERROR,
          HANGOUT_ERROR_MESSAGE_TOO_BIG));
  g_clear_error (&error);
  /* min(ours, theirs) applies both ways (RFC 8841 §6.1 and the W3C): the
   * answerer, which accepts only 64 KiB, does not send more either. */
  fail_unless_equals_int (hangout_data_channel_get_max_message_size (remote),
      65536);
  /* The limit itself passes, and the channel still works. */
  {
    g_autoptr (GBytes) limit = pattern (65536, 3);
    Sink *sink = sink_attach (local);

    fail_unless (hangout_data_channel_send_bytes (remote, limit, &error));
    WAIT_UNTIL (pair, sink->messages->len == 1, 10);
    fail_unless (g_bytes_equal (sink->messages->pdata[0], limit));
    g_signal_handlers_disconnect_by_data (local, sink);
    sink_free (sink);
  }
  g_object_unref (local);
  pair_free (pair);
}

GST_END_TEST;

typedef struct {
  gboolean low;
} Flow;

static void
on_low (HangoutDataChannel *channel, Flow *flow)
{
  flow->low = TRUE;
}

/* Sends @total bytes in @message_size messages with buffered-amount flow
 * control and checks the SHA-256 on the other side. */
static void
bulk_transfer (Pair *pair, HangoutDataChannel *from, HangoutDataChannel *to,
    gsize total, gsize message_size)
{
  const guint64 window = 4 * 1024 * 1024;
  Sink *sink = sink_attach (to);
  GChecksum *sent = g_checksum_new (G_CHECKSUM_SHA256);
  Flow flow = { FALSE };
  guint8 *buf = g_malloc (message_size);
  GRand *rand = g_rand_new_with_seed (42);
  gsize offset = 0;
  gulong handler;

  sink->checksum = g_checksum_new (G_CHECKSUM_SHA256);
  hangout_data_channel_set_buffered_amount_low_threshold (from, window / 2);
  handler = g_signal_connect (from, "buffered-amount-low", G_CALLBACK (on_low),
      &flow);
  while (offset < total) {
    GError *error = NULL;
    gsize len = MIN (message_size, total - offset);

    if (hangout_data_channel_get_buffered_amount (from) >= window) {
      flow.low = FALSE;
      WAIT_UNTIL (pair, flow.low
          || hangout_data_channel_get_buffered_amount (from) < window / 2, 60);
      continue;
    }
    for (gsize i = 0; i < len; i += 4) {
      guint32 r = g_rand_int (rand);
      memcpy (buf + i, &r, MIN (4, len - i));
    }
    fail_unless (hangout_data_channel_send_data (from, buf, len, &error),
        "%s", error ? error->message : "");
    g_checksum_update (sent, buf, len);
    offset += len;
    /* Let the network run between sends, as a streaming thread would. */
    g_main_context_iteration (pair->context, FALSE);
  }
  WAIT_UNTIL (pair, sink->bytes == total, 120);
  fail_unless_equals_string (g_checksum_get_string (sink->checksum),
      g_checksum_get_string (sent));
  fail_unless_equals_uint64 (hangout_data_channel_get_buffered_amount (from),
      0);
  g_signal_handler_disconnect (from, handler);
  g_signal_handlers_disconnect_by_data (to, sink);
  sink_free (sink);
  g_checksum_free (sent);
  g_rand_free (rand);
  g_free (buf);
}

GST_START_TEST (test_bulk_64mib)
{
  Pair *pair = pair_new ();
  HangoutDataChannel *local, *remote;

  local = pair_connect_with_channel (pair, NULL, &remote);
  bulk_transfer (pair, local, remote, 64 * 1024 * 1024, 65536);
  g_object_unref (local);
  pair_free (pair);
}

GST_END_TEST;

static gchar *
drop_max_datagram (gchar *answer)
{
  gchar **lines = g_strsplit (answer, "\r\n", -1);
  GString *out = g_string_new (NULL);

  for (guint i = 0; lines[i] != NULL; i++) {
    if (g_str_has_prefix (lines[i], "a=x-hangout-max-datagram:"))
      continue;
    g_string_append (out, lines[i]);
    if (lines[i + 1] != NULL)
      g_string_append (out, "\r\n");
  }
  fail_unless (out->len < strlen (answer), "no a=x-hangout-max-datagram:");
  g_strfreev (lines);
  g_free (answer);
  return g_string_free (out, FALSE);
}

static guint
sctp_packet_size (HangoutPeerConnection *pc)
{
  GstStructure *transport = hangout_peer_connection_dup_transport (pc);
  guint size = 0;

  fail_unless (transport != NULL);
  fail_unless (gst_structure_get_uint (transport, "sctp-packet-size", &size));
  fail_unless_equals_string (gst_structure_get_string (transport,
          "local-type"), "host");
  fail_unless (g_str_has_prefix (gst_structure_get_string (transport,
              "remote-address"), "127.0.0.1:"));
  gst_structure_free (transport);
  return size;
}

/* Loopback takes 64 KiB datagrams, but other stacks read at most 4096
 * (libjuice) or 2048 bytes (libwebrtc): large ones only go to a peer that
 * says it reads them (a=x-hangout-max-datagram). */
GST_START_TEST (test_datagram_size)
{
  Pair *pair = pair_new ();
  HangoutDataChannel *local, *remote;
  GError *error = NULL;
  GBytes *message = pattern (200000, 7);
  Sink *sink;

  local = hangout_peer_connection_create_data_channel (pair->offerer, "test",
      NULL, &error);
  pair_negotiate_edited (pair, drop_max_datagram);
  WAIT_UNTIL (pair, both_connected (pair), 10);
  WAIT_UNTIL (pair, pair->incoming_answerer->len == 1, 10);
  remote = pair->incoming_answerer->pdata[0];
  WAIT_UNTIL (pair, is_open (local) && is_open (remote), 10);

  /* The offerer's answer said nothing: the IPv6 minimum path. The offer
   * said 16384, so the answerer may send large datagrams. */
  fail_unless_equals_int (sctp_packet_size (pair->offerer),
      HANGOUT_SCTP_DEFAULT_MTU);
  fail_unless (sctp_packet_size (pair->answerer) > 16000);

  sink = sink_attach (remote);
  fail_unless (hangout_data_channel_send_data (local,
          g_bytes_get_data (message, NULL), g_bytes_get_size (message),
          &error), "%s", error ? error->message : "");
  WAIT_UNTIL (pair, sink->messages->len == 1, 10);
  fail_unless (g_bytes_equal (sink->messages->pdata[0], message));
  sink_free (sink);
  g_bytes_unref (message);
  g_object_unref (local);
  pair_free (pair);
}

GST_END_TEST;

/* The test runs in a network namespace of its own (tests/netns-run.sh):
 * drop, or let through again, every UDP datagram in it. */
static void
drop_udp (gboolean drop)
{
  g_autofree gchar *command = g_strdup_printf ("iptables -%s INPUT -p udp "
      "-j DROP", drop ? "I" : "D");
  GError *error = NULL;
  gint status;

  fail_unless (g_spawn_command_line_sync (command, NULL, NULL, &status,
          &error), "%s", error ? error->message : "");
  fail_unless (g_spawn_check_wait_status (status, &error), "%s: %s", command,
      error->message);
}

/* Consent (RFC 7675): an idle connection stays up on SCTP heartbeats; when
 * nothing arrives from the peer any more (it hung, its host or the path
 * vanished) the connection fails once the consent period has passed. */
GST_START_TEST (test_consent)
{
  Pair *pair = pair_new ();
  HangoutDataChannel *local, *remote;
  const GError *error;
  gint64 idle_end, cut_at, failed_at;

  g_object_set (pair->offerer, "consent-timeout", 1500, NULL);
  g_object_set (pair->answerer, "consent-timeout", 1500, NULL);
  local = pair_connect_with_channel (pair, NULL, &remote);

  /* Three consent periods without a message. */
  idle_end = g_get_monotonic_time () + 4500 * G_TIME_SPAN_MILLISECOND;
  WAIT_UNTIL (pair, g_get_monotonic_time () >= idle_end
      || !both_connected (pair), 10);
  fail_unless (both_connected (pair), "an idle connection lost consent");

  drop_udp (TRUE);
  cut_at = g_get_monotonic_time ();
  WAIT_UNTIL (pair, is_state (pair->offerer,
          HANGOUT_PEER_CONNECTION_STATE_FAILED)
      && is_state (pair->answerer, HANGOUT_PEER_CONNECTION_STATE_FAILED), 5);
  failed_at = g_get_monotonic_time ();
  drop_udp (FALSE);
  /* Consent runs from the last record heard, which on an idle link came
   * up to one heartbeat before the cut: usrsctp waits the interval (375
   * ms, a quarter of the period) plus the RTO (200 ms) ±50%, up to 675 ms;
   * one run failed 985 ms after the cut. */
  fail_unless (failed_at - cut_at >= 600 * G_TIME_SPAN_MILLISECOND,
      "failed %" G_GINT64_FORMAT " µs after the cut, before the consent "
      "period", failed_at - cut_at);
  error = hangout_peer_connection_get_error (pair->offerer);
  fail_unless (g_error_matches (error, HANGOUT_ERROR, HANGOUT_ERROR_ICE));
  fail_unless (strstr (error->message, "consent expired") != NULL, "%s",
      error->message);
  g_object_unref (local);
  pair_free (pair);
}

GST_END_TEST;

GST_START_TEST (test_sixteen_channels_both_sides)
{
  Pair *pair = pair_new ();
  HangoutDataChannel *opener, *opener_remote;
  HangoutDataChannel *mine[2][16];
  GHashTable *ids = g_hash_table_new (NULL, NULL);
  GError *error = NULL;

  opener = pair_connect_with_channel (pair, NULL, &opener_remote);
  g_hash_table_add (ids, GINT_TO_POINTER (hangout_data_channel_get_id (opener)));
  /* Both sides at once, before either has seen the other's OPENs. */
  for (guint i = 0; i < 16; i++) {
    g_autofree gchar *a = g_strdup_printf ("offerer-%u", i);
    g_autofree gchar *b = g_strdup_printf ("answerer-%u", i);

    mine[0][i] = hangout_peer_connection_create_data_channel (pair->offerer,
        a, NULL, &error);
    fail_unless (mine[0][i] != NULL);
    mine[1][i] = hangout_peer_connection_create_data_channel (pair->answerer,
        b, NULL, &error);
    fail_unless (mine[1][i] != NULL);
  }
  WAIT_UNTIL (pair, pair->incoming_answerer->len == 17
      && pair->incoming_offerer->len == 16, 10);
  for (guint side = 0; side < 2; side++) {
    for (guint i = 0; i < 16; i++) {
      gint id = hangout_data_channel_get_id (mine[side][i]);

      WAIT_UNTIL (pair, is_open (mine[side][i]), 10);
      /* Offerer = DTLS server = odd; answerer = client = even. */
      fail_unless_equals_int (id % 2, side == 0 ? 1 : 0);
      fail_if (g_hash_table_contains (ids, GINT_TO_POINTER (id)),
          "stream id %d used twice", id);
      g_hash_table_add (ids, GINT_TO_POINTER (id));
    }
  }
  fail_unless_equals_int (g_hash_table_size (ids), 33);
  /* Each incoming channel is the peer of the one with the same id and label,
   * and carries its messages. */
  for (guint i = 0; i < pair->incoming_offerer->len; i++) {
    HangoutDataChannel *in = pair->incoming_offerer->pdata[i];
    gint id = hangout_data_channel_get_id (in);
    HangoutDataChannel *out = NULL;
    Sink *sink = sink_attach (in);

    for (guint j = 0; j < 16; j++)
      if (hangout_data_channel_get_id (mine[1][j]) == id)
        out = mine[1][j];
    fail_unless (out != NULL, "no local channel with id %d", id);
    fail_unless_equals_string (hangout_data_channel_get_label (in),
        hangout_data_channel_get_label (out));
    fail_unless (hangout_data_channel_send_string (out,
            hangout_data_channel_get_label (out), &error));
    WAIT_UNTIL (pair, sink->messages->len == 1, 10);
    fail_unless (g_bytes_get_size (sink->messages->pdata[0]) ==
        strlen (hangout_data_channel_get_label (out)));
    g_signal_handlers_disconnect_by_data (in, sink);
    sink_free (sink);
  }
  for (guint side = 0; side < 2; side++)
    for (guint i = 0; i < 16; i++)
      g_object_unref (mine[side][i]);
  g_hash_table_unref (ids);
  g_object_unref (opener);
  pair_free (pair);
}

GST_END_TEST;

static void
check_partial_channel (const HangoutDataChannelOptions *options,
    const gchar *property, gint expected)
{
  Pair *pair = pair_new ();
  HangoutDataChannel *local, *remote;
  gboolean ordered;
  gint value;

  local = pair_connect_with_channel (pair, options, &remote);
  g_object_get (remote, "ordered", &ordered, property, &value, NULL);
  fail_unless_equals_int (ordered, options->ordered);
  fail_unless_equals_int (value, expected);
  exchange_messages (pair, local, remote);
  exchange_messages (pair, remote, local);
  g_object_unref (local);
  pair_free (pair);
}

GST_START_TEST (test_unordered_and_partial)
{
  HangoutDataChannelOptions unordered = HANGOUT_DATA_CHANNEL_OPTIONS_INIT;
  HangoutDataChannelOptions rexmit = HANGOUT_DATA_CHANNEL_OPTIONS_INIT;
  HangoutDataChannelOptions timed = HANGOUT_DATA_CHANNEL_OPTIONS_INIT;

  unordered.ordered = FALSE;
  check_partial_channel (&unordered, "max-retransmits", -1);
  rexmit.ordered = FALSE;
  rexmit.max_retransmits = 0;
  check_partial_channel (&rexmit, "max-retransmits", 0);
  timed.max_packet_lifetime = 500;
  check_partial_channel (&timed, "max-packet-lifetime", 500);
}

GST_END_TEST;

GST_START_TEST (test_negotiated_channel)
{
  Pair *pair = pair_new ();
  HangoutDataChannelOptions options = HANGOUT_DATA_CHANNEL_OPTIONS_INIT;
  HangoutDataChannel *a, *b;
  GError *error = NULL;

  options.negotiated = TRUE;
  options.id = 7;
  a = hangout_peer_connection_create_data_channel (pair->offerer, "files",
      &options, &error);
  b = hangout_peer_connection_create_data_channel (pair->answerer, "files",
      &options, &error);
  fail_unless (a != NULL && b != NULL);
  /* The same id twice on one side is refused. */
  fail_if (hangout_peer_connection_create_data_channel (pair->offerer, "x",
          &options, &error));
  g_clear_error (&error);
  pair_negotiate (pair);
  WAIT_UNTIL (pair, is_open (a) && is_open (b), 10);
  exchange_messages (pair, a, b);
  exchange_messages (pair, b, a);
  /* No DCEP: nothing was announced. */
  fail_unless_equals_int (pair->incoming_answerer->len, 0);
  fail_unless_equals_int (pair->incoming_offerer->len, 0);
  g_object_unref (a);
  g_object_unref (b);
  pair_free (pair);
}

GST_END_TEST;

/* Flips one hex digit of the fingerprint in @sdp. */
static gchar *
tamper_fingerprint (const gchar *sdp)
{
  gchar *out = g_strdup (sdp);
  gchar *fp = strstr (out, "a=fingerprint:sha-256 ");

  fail_unless (fp != NULL);
  fp += strlen ("a=fingerprint:sha-256 ");
  fp[0] = fp[0] == 'A' ? 'B' : 'A';
  return out;
}

static void
check_fingerprint_failure (gboolean tamper_offer)
{
  Pair *pair = pair_new ();
  GError *error = NULL;
  HangoutDataChannel *channel;
  gchar *offer, *answer, *bad;
  HangoutPeerConnection *victim = tamper_offer ? pair->answerer : pair->offerer;
  const GError *reason;

  channel = hangout_peer_connection_create_data_channel (pair->offerer, "x",
      NULL, &error);
  g_signal_connect (pair->offerer, "ice-candidate", G_CALLBACK (on_candidate),
      pair->answerer);
  g_signal_connect (pair->answerer, "ice-candidate", G_CALLBACK (on_candidate),
      pair->offerer);
  offer = hangout_peer_connection_create_offer (pair->offerer, &error);
  bad = tamper_offer ? tamper_fingerprint (offer) : g_strdup (offer);
  fail_unless (hangout_peer_connection_set_remote_description (pair->answerer,
          HANGOUT_SDP_OFFER, bad, &error));
  g_free (bad);
  answer = hangout_peer_connection_create_answer (pair->answerer, &error);
  bad = tamper_offer ? g_strdup (answer) : tamper_fingerprint (answer);
  fail_unless (hangout_peer_connection_set_remote_description (pair->offerer,
          HANGOUT_SDP_ANSWER, bad, &error));
  g_free (bad);

  /* The side that holds the wrong fingerprint refuses the peer's
   * certificate; the other side learns of it through the DTLS alert. */
  WAIT_UNTIL (pair, hangout_peer_connection_get_state (victim) ==
      HANGOUT_PEER_CONNECTION_STATE_FAILED, 40);
  reason = hangout_peer_connection_get_error (victim);
  fail_unless (g_error_matches (reason, HANGOUT_ERROR,
          HANGOUT_ERROR_FINGERPRINT), "%s", reason->message);
  fail_unless (strstr (reason->message, "fingerprint") != NULL);
  WAIT_UNTIL (pair, hangout_peer_connection_get_state (tamper_offer
          ? pair->offerer : pair->answerer) !=
      HANGOUT_PEER_CONNECTION_STATE_CONNECTING, 40);
  fail_if (hangout_peer_connection_get_state (pair->offerer) ==
      HANGOUT_PEER_CONNECTION_STATE_CONNECTED);
  fail_if (hangout_peer_connection_get_state (pair->answerer) ==
      HANGOUT_PEER_CONNECTION_STATE_CONNECTED);
  /* No application data: the channel never opened, nothing came in. */
  fail_if (is_open (channel));
  fail_unless_equals_int (pair->incoming_answerer->len, 0);
  g_free (offer);
  g_free (answer);
  g_object_unref (channel);
  pair_free (pair);
}

GST_START_TEST (test_wrong_fingerprint_in_answer)
{
  check_fingerprint_failure (FALSE);
}

GST_END_TEST;

GST_START_TEST (test_wrong_fingerprint_in_offer)
{
  check_fingerprint_failure (TRUE);
}

GST_END_TEST;

static void
on_close (HangoutDataChannel *channel, gboolean *closed)
{
  *closed = TRUE;
}

static void
on_channel_error (HangoutDataChannel *channel, GError *error, guint *count)
{
  (*count)++;
}

GST_START_TEST (test_close_seen_by_peer)
{
  Pair *pair = pair_new ();
  HangoutDataChannel *local, *remote;
  gboolean remote_closed = FALSE;
  GError *error = NULL;
  guint errors = 0;
  gint64 start;

  local = pair_connect_with_channel (pair, NULL, &remote);
  g_signal_connect (remote, "close", G_CALLBACK (on_close), &remote_closed);
  g_signal_connect (local, "error", G_CALLBACK (on_channel_error), &errors);
  g_signal_connect (remote, "error", G_CALLBACK (on_channel_error), &errors);
  start = g_get_monotonic_time ();
  hangout_peer_connection_close (pair->offerer);
  fail_unless_equals_int (hangout_peer_connection_get_state (pair->offerer),
      HANGOUT_PEER_CONNECTION_STATE_CLOSED);
  WAIT_UNTIL (pair, hangout_peer_connection_get_state (pair->answerer) ==
      HANGOUT_PEER_CONNECTION_STATE_CLOSED, 5);
  fail_unless (g_get_monotonic_time () - start < 5 * G_USEC_PER_SEC);
  fail_unless (remote_closed);
  /* A close, ours or the peer's, is not an error for the channels. */
  fail_unless_equals_int (errors, 0);
  fail_unless_equals_int (hangout_data_channel_get_ready_state (local),
      HANGOUT_DATA_CHANNEL_STATE_CLOSED);
  /* Sending on a closed channel is refused with a clear error. */
  fail_if (hangout_data_channel_send_string (local, "late", &error));
  fail_unless (g_error_matches (error, HANGOUT_ERROR,
          HANGOUT_ERROR_INVALID_STATE));
  g_clear_error (&error);
  g_object_unref (local);
  pair_free (pair);
}

GST_END_TEST;

static void
close_on_message (HangoutDataChannel *channel, const gchar *text,
    HangoutPeerConnection *pc)
{
  hangout_peer_connection_close (pc);
}

/* Closing from inside a handler: the transports that are calling us must
 * outlive the call, and nothing may revive the connection afterwards. */
/* A member that leaves right after its last message (a receiver's ack):
 * shutdown() delivers what is queued before the connection ends, where
 * close() would abort it. */
GST_START_TEST (test_shutdown_delivers)
{
  Pair *pair = pair_new ();
  HangoutDataChannel *local, *remote;
  GBytes *message = pattern (200000, 3);
  GError *error = NULL;
  const GError *reason;
  Sink *sink;

  local = pair_connect_with_channel (pair, NULL, &remote);
  sink = sink_attach (remote);
  fail_unless (hangout_data_channel_send_data (local,
          g_bytes_get_data (message, NULL), g_bytes_get_size (message),
          &error), "%s", error ? error->message : "");
  fail_unless (hangout_data_channel_send_string (local, "ack", &error));
  hangout_peer_connection_shutdown (pair->offerer);
  WAIT_UNTIL (pair, is_state (pair->offerer,
          HANGOUT_PEER_CONNECTION_STATE_CLOSED)
      && is_state (pair->answerer, HANGOUT_PEER_CONNECTION_STATE_CLOSED), 10);
  fail_unless_equals_int (sink->messages->len, 2);
  fail_unless (g_bytes_equal (sink->messages->pdata[0], message));
  fail_unless_equals_int (g_bytes_get_size (sink->messages->pdata[1]), 3);
  reason = hangout_peer_connection_get_error (pair->answerer);
  fail_unless (strstr (reason->message, "SCTP shutdown") != NULL, "%s",
      reason->message);
  reason = hangout_peer_connection_get_error (pair->offerer);
  fail_unless (strstr (reason->message, "closed locally") != NULL, "%s",
      reason->message);
  sink_free (sink);
  g_bytes_unref (message);
  g_object_unref (local);
  pair_free (pair);
}

GST_END_TEST;

static guint64
backlog (HangoutDataChannel *channel)
{
  return hangout_data_channel_get_buffered_amount (channel)
      + hangout_data_channel_get_unacknowledged (channel);
}

/* What still has to reach the peer: queued above SCTP, or sent and not
 * acknowledged. A paused receiver holds it at the sender. */
GST_START_TEST (test_unacknowledged)
{
  Pair *pair = pair_new ();
  HangoutDataChannel *local, *remote;
  GBytes *message = pattern (200000, 5);
  GError *error = NULL;
  Sink *sink;
  gint64 settled;

  local = pair_connect_with_channel (pair, NULL, &remote);
  sink = sink_attach (remote);
  hangout_peer_connection_set_receiving (pair->answerer, FALSE);
  for (guint i = 0; i < 20; i++)
    fail_unless (hangout_data_channel_send_data (local,
            g_bytes_get_data (message, NULL), g_bytes_get_size (message),
            &error), "%s", error ? error->message : "");
  settled = g_get_monotonic_time () + G_USEC_PER_SEC;
  WAIT_UNTIL (pair, g_get_monotonic_time () >= settled, 5);
  /* The receiver's buffer (1 MiB) took what its window allowed. */
  fail_unless (backlog (local) >= 2 * 1000 * 1000, "%" G_GUINT64_FORMAT
      " bytes outstanding", backlog (local));
  fail_unless (hangout_data_channel_get_unacknowledged (local) > 0);
  hangout_peer_connection_set_receiving (pair->answerer, TRUE);
  WAIT_UNTIL (pair, sink->messages->len == 20 && backlog (local) == 0, 10);
  sink_free (sink);
  g_bytes_unref (message);
  g_object_unref (local);
  pair_free (pair);
}

GST_END_TEST;

/* How often the process's SCTP timer thread has gone to sleep and woken
 * (its voluntary context switches), or -1 when it has none. */
static gint64
sctp_timer_wake_ups (void)
{
  g_autoptr (GDir) dir = g_dir_open ("/proc/self/task", 0, NULL);
  const gchar *tid;

  while (dir != NULL && (tid = g_dir_read_name (dir)) != NULL) {
    g_autofree gchar *comm_path = g_build_filename ("/proc/self/task", tid,
        "comm", NULL);
    g_autofree gchar *status_path = g_build_filename ("/proc/self/task", tid,
        "status", NULL);
    g_autofree gchar *comm = NULL, *status = NULL;
    const gchar *line;

    if (!g_file_get_contents (comm_path, &comm, NULL, NULL)
        || g_strcmp0 (g_strstrip (comm), "SCTP timer") != 0
        || !g_file_get_contents (status_path, &status, NULL, NULL)
        || (line = strstr (status, "voluntary_ctxt_switches:")) == NULL)
      continue;
    return g_ascii_strtoll (line + strlen ("voluntary_ctxt_switches:"), NULL,
        10);
  }
  return -1;
}

/* An idle association costs no wake-ups of its own: SCTP's timers tick
 * every 10 ms only for a while after data moved (at most twice a second
 * after that), and data moves again at once. */
GST_START_TEST (test_idle_association_sleeps)
{
  Pair *pair = pair_new ();
  HangoutDataChannel *local, *remote;
  gint64 idle_from, before, after;

  local = pair_connect_with_channel (pair, NULL, &remote);
  exchange_messages (pair, local, remote);
  /* The clock stays quick 3 s after the last data. */
  idle_from = g_get_monotonic_time () + 3500 * G_TIME_SPAN_MILLISECOND;
  WAIT_UNTIL (pair, g_get_monotonic_time () >= idle_from, 5);
  before = sctp_timer_wake_ups ();
  fail_unless (before >= 0, "no SCTP timer thread");
  idle_from = g_get_monotonic_time () + 2 * G_USEC_PER_SEC;
  WAIT_UNTIL (pair, g_get_monotonic_time () >= idle_from, 4);
  after = sctp_timer_wake_ups ();
  /* 10 ms ticks would be 200 in 2 s; half-second ones 4. */
  fail_unless (after - before <= 20, "the SCTP timer thread woke %"
      G_GINT64_FORMAT " times in 2 s of an idle association", after - before);
  exchange_messages (pair, remote, local);
  exchange_messages (pair, local, remote);
  g_object_unref (local);
  pair_free (pair);
}

GST_END_TEST;

GST_START_TEST (test_close_from_handler)
{
  Pair *pair = pair_new ();
  HangoutDataChannel *local, *remote;
  GError *error = NULL;

  local = pair_connect_with_channel (pair, NULL, &remote);
  g_signal_connect (remote, "message-string", G_CALLBACK (close_on_message),
      pair->answerer);
  fail_unless (hangout_data_channel_send_string (local, "bye", &error));
  WAIT_UNTIL (pair, hangout_peer_connection_get_state (pair->answerer) ==
      HANGOUT_PEER_CONNECTION_STATE_CLOSED, 5);
  WAIT_UNTIL (pair, hangout_peer_connection_get_state (pair->offerer) ==
      HANGOUT_PEER_CONNECTION_STATE_CLOSED, 5);
  /* Let the deferred teardown run, then check that nothing came back. */
  for (guint i = 0; i < 20; i++)
    g_main_context_iteration (pair->context, FALSE);
  fail_unless_equals_int (hangout_peer_connection_get_state (pair->answerer),
      HANGOUT_PEER_CONNECTION_STATE_CLOSED);
  fail_unless_equals_int (hangout_data_channel_get_ready_state (remote),
      HANGOUT_DATA_CHANNEL_STATE_CLOSED);
  g_object_unref (local);
  pair_free (pair);
}

GST_END_TEST;

GST_START_TEST (test_channel_close)
{
  Pair *pair = pair_new ();
  HangoutDataChannel *local, *remote, *other;
  gboolean local_closed = FALSE, remote_closed = FALSE;
  GError *error = NULL;

  local = pair_connect_with_channel (pair, NULL, &remote);
  other = hangout_peer_connection_create_data_channel (pair->offerer, "other",
      NULL, &error);
  WAIT_UNTIL (pair, is_open (other) && pair->incoming_answerer->len == 2, 10);
  g_signal_connect (local, "close", G_CALLBACK (on_close), &local_closed);
  g_signal_connect (remote, "close", G_CALLBACK (on_close), &remote_closed);
  /* Closed by the side that did not open it. */
  hangout_data_channel_close (remote);
  WAIT_UNTIL (pair, local_closed && remote_closed, 5);
  fail_unless_equals_int (hangout_data_channel_get_ready_state (local),
      HANGOUT_DATA_CHANNEL_STATE_CLOSED);
  /* The connection and the other channel carry on. */
  fail_unless (both_connected (pair));
  exchange_messages (pair, other, pair->incoming_answerer->pdata[1]);
  g_object_unref (local);
  g_object_unref (other);
  pair_free (pair);
}

GST_END_TEST;

GST_START_TEST (test_malformed_input)
{
  static const gchar *bad_sdps[] = {
    "", "v=0", "hello world", "v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n",
    "v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n"
        "m=audio 9 UDP/TLS/RTP/SAVPF 111\r\nc=IN IP4 0.0.0.0\r\n",
  };
  static const gchar *bad_candidates[] = {
    "garbage", "candidate:", "candidate:1 1 udp",
    "candidate:1 1 udp 2122260223 127.0.0.1 99999 typ host",
    "candidate:1 x udp 2122260223 127.0.0.1 5000 typ host",
    "candidate:1 1 udp 2122260223 not-an-ip 5000 typ host",
    "candidate:1 1 udp 2122260223 127.0.0.1 5000 type host",
  };
  static const guint8 bad_dcep[][16] = {
    {0x03},                                     /* short */
    {0x03, 0x00, 0, 0, 0, 0, 0, 0, 0, 5, 0, 0}, /* label overruns */
    {0x03, 0x7f, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}, /* unknown type */
    {0x04, 0x00, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}, /* not an OPEN */
    {0x03, 0x00, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0xff},   /* label not UTF-8 */
  };
  static const gsize bad_dcep_len[] = { 1, 12, 12, 12, 13 };
  Pair *pair = pair_new ();
  HangoutDataChannel *local, *remote;
  GError *error = NULL;
  HangoutDcepOpen open;

  for (guint i = 0; i < G_N_ELEMENTS (bad_sdps); i++) {
    fail_if (hangout_peer_connection_set_remote_description (pair->answerer,
            HANGOUT_SDP_OFFER, bad_sdps[i], &error), "accepted: %s",
        bad_sdps[i]);
    fail_unless (g_error_matches (error, HANGOUT_ERROR,
            HANGOUT_ERROR_INVALID_SDP), "%s", error->message);
    g_clear_error (&error);
  }
  /* An answer where an offer is expected, and the reverse. */
  fail_if (hangout_peer_connection_create_answer (pair->answerer, &error));
  g_clear_error (&error);

  for (guint i = 0; i < G_N_ELEMENTS (bad_dcep); i++) {
    fail_if (hangout_dcep_parse_open (bad_dcep[i], bad_dcep_len[i], &open,
            &error), "DCEP case %u accepted", i);
    fail_unless (g_error_matches (error, HANGOUT_ERROR,
            HANGOUT_ERROR_INVALID_MESSAGE));
    g_clear_error (&error);
  }

  /* After all that, the same objects still connect. */
  local = pair_connect_with_channel (pair, NULL, &remote);
  for (guint i = 0; i < G_N_ELEMENTS (bad_candidates); i++) {
    fail_if (hangout_peer_connection_add_ice_candidate (pair->offerer,
            bad_candidates[i], &error), "accepted: %s", bad_candidates[i]);
    fail_unless (g_error_matches (error, HANGOUT_ERROR,
            HANGOUT_ERROR_INVALID_CANDIDATE), "%s", error->message);
    g_clear_error (&error);
  }
  /* mDNS host candidates (Chromium) are skipped, not refused. */
  fail_unless (hangout_peer_connection_add_ice_candidate (pair->offerer,
          "candidate:1 1 udp 2122260223 4f6c1e3a-8c9f-4a51-9b0e-3c1d2e6f7a8b."
          "local 54321 typ host generation 0 ufrag abcd network-cost 999",
          &error));
  exchange_messages (pair, local, remote);
  g_object_unref (local);
  pair_free (pair);
}

GST_END_TEST;

GST_START_TEST (test_stun_turn_configuration)
{
  static const gchar *bad[][2] = {
    {"stun-server", "stun:"},
    {"stun-server", "stun:127.0.0.1:99999"},
    {"turn-server", "turn:127.0.0.1:3478"},   /* no credentials */
    {"turn-server", "turn://user@127.0.0.1"}, /* no password */
  };
  Pair *pair;
  HangoutDataChannel *local, *remote;

  for (guint i = 0; i < G_N_ELEMENTS (bad); i++) {
    HangoutPeerConnection *pc = hangout_peer_connection_new (NULL);
    GError *error = NULL;

    g_object_set (pc, bad[i][0], bad[i][1], NULL);
    fail_if (hangout_peer_connection_create_offer (pc, &error),
        "%s=%s accepted", bad[i][0], bad[i][1]);
    fail_unless (error != NULL && strstr (error->message, "server") != NULL);
    g_clear_error (&error);
    g_object_unref (pc);
  }

  /* Servers that do not answer (nothing listens there) cost candidates,
   * not the connection: host candidates still connect. */
  pair = pair_new ();
  g_object_set (pair->offerer, "stun-server", "stun:127.0.0.1:3478",
      "turn-server", "turn://user:pass@127.0.0.1:3479", NULL);
  g_object_set (pair->answerer, "stun-server", "127.0.0.1", NULL);
  local = pair_connect_with_channel (pair, NULL, &remote);
  exchange_messages (pair, local, remote);
  g_object_unref (local);
  pair_free (pair);
}

GST_END_TEST;

static Suite *
peer_suite (void)
{
  Suite *s = suite_create ("peer");
  TCase *tc = tcase_create ("general");

  tcase_set_timeout (tc, 120);
  suite_add_tcase (s, tc);
  tcase_add_test (tc, test_connect_and_roles);
  tcase_add_test (tc, test_messages_both_ways);
  tcase_add_test (tc, test_message_too_big);
  tcase_add_test (tc, test_bulk_64mib);
  tcase_add_test (tc, test_datagram_size);
  tcase_add_test (tc, test_consent);
  tcase_add_test (tc, test_sixteen_channels_both_sides);
  tcase_add_test (tc, test_unordered_and_partial);
  tcase_add_test (tc, test_negotiated_channel);
  tcase_add_test (tc, test_wrong_fingerprint_in_answer);
  tcase_add_test (tc, test_wrong_fingerprint_in_offer);
  tcase_add_test (tc, test_close_seen_by_peer);
  tcase_add_test (tc, test_channel_close);
  tcase_add_test (tc, test_close_from_handler);
  tcase_add_test (tc, test_idle_association_sleeps);
  tcase_add_test (tc, test_shutdown_delivers);
  tcase_add_test (tc, test_unacknowledged);
  tcase_add_test (tc, test_malformed_input);
  tcase_add_test (tc, test_stun_turn_configuration);
  return s;
}

GST_CHECK_MAIN (peer);
