/* gst-hangout — the transfer layer (docs/protocol.md §2) without sockets:
 * wire format round trips, strict validation of hostile input, and a
 * sender talking to receivers through plain function calls.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#include <gst/check/gstcheck.h>
#include <hangout/transfer.h>
#include <string.h>

#define ID "00112233445566778899aabbccddeeff"

static GBytes *
text_bytes (const gchar *text)
{
  return g_bytes_new (text, strlen (text));
}

/* Feeds one message, expecting success; returns the event type. */
static HangoutTransferEventType
feed (HangoutTransferReceiver *receiver, const gchar *member,
    gboolean is_string, GBytes *message, HangoutTransferEvent *event)
{
  g_autoptr (GError) error = NULL;

  fail_unless (hangout_transfer_receiver_handle (receiver, member, is_string,
          message, event, &error), "refused: %s",
      error ? error->message : "");
  return event->type;
}

static void
feed_text (HangoutTransferReceiver *receiver, const gchar *member,
    const gchar *text, HangoutTransferEvent *event)
{
  g_autoptr (GBytes) bytes = text_bytes (text);

  feed (receiver, member, TRUE, bytes, event);
}

GST_START_TEST (test_control_round_trip)
{
  HangoutTransferControl c;
  g_autoptr (GError) error = NULL;
  g_autofree gchar *offer = hangout_transfer_build_offer (ID, "a b.iso",
      1234, "application/x-iso9660-image", 65536);
  g_autofree gchar *unknown_size = hangout_transfer_build_offer (ID, "x", -1,
      "text/plain", 100);
  g_autofree gchar *end = hangout_transfer_build_end (ID, 1234,
      "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  g_autofree gchar *ack = hangout_transfer_build_ack (ID, FALSE, NULL);
  g_autofree gchar *abort = hangout_transfer_build_abort (ID, "stopped");

  fail_unless (hangout_transfer_parse_control (offer, strlen (offer), &c,
          &error));
  fail_unless_equals_int (c.type, HANGOUT_TRANSFER_OFFER);
  fail_unless_equals_string (c.id, ID);
  fail_unless_equals_string (c.name, "a b.iso");
  fail_unless_equals_int64 (c.size, 1234);
  fail_unless_equals_string (c.mime, "application/x-iso9660-image");
  fail_unless_equals_int (c.chunk_size, 65536);
  hangout_transfer_control_clear (&c);

  fail_unless (hangout_transfer_parse_control (unknown_size,
          strlen (unknown_size), &c, &error));
  fail_unless_equals_int64 (c.size, -1);
  hangout_transfer_control_clear (&c);

  fail_unless (hangout_transfer_parse_control (end, strlen (end), &c, &error));
  fail_unless_equals_int (c.type, HANGOUT_TRANSFER_END);
  fail_unless_equals_int64 (c.size, 1234);
  hangout_transfer_control_clear (&c);

  fail_unless (hangout_transfer_parse_control (ack, strlen (ack), &c, &error));
  fail_unless_equals_int (c.type, HANGOUT_TRANSFER_ACK);
  fail_if (c.ok);
  fail_unless (c.sha256 == NULL);
  hangout_transfer_control_clear (&c);

  fail_unless (hangout_transfer_parse_control (abort, strlen (abort), &c,
          &error));
  fail_unless_equals_int (c.type, HANGOUT_TRANSFER_ABORT);
  fail_unless_equals_string (c.reason, "stopped");
  hangout_transfer_control_clear (&c);

  /* Later versions' types parse, to be ignored. */
  fail_unless (hangout_transfer_parse_control ("{\"type\":\"have\"}", 15, &c,
          &error));
  fail_unless_equals_int (c.type, HANGOUT_TRANSFER_UNKNOWN);
  hangout_transfer_control_clear (&c);
}

GST_END_TEST;

GST_START_TEST (test_control_invalid)
{
  const gchar *bad[] = {
    "", "not json", "[1,2]", "\"offer\"", "{}", "{\"type\":3}",
    "{\"type\":\"end\"}",
    "{\"type\":\"end\",\"id\":\"zz\",\"size\":1,\"sha256\":\"00\"}",
    /* upper-case id */
    "{\"type\":\"abort\",\"id\":\"00112233445566778899AABBCCDDEEFF\","
        "\"reason\":\"x\"}",
    "{\"type\":\"end\",\"id\":\"" ID "\",\"size\":\"1\",\"sha256\":\"00\"}",
    "{\"type\":\"end\",\"id\":\"" ID "\",\"size\":-1,\"sha256\":\"00\"}",
    "{\"type\":\"end\",\"id\":\"" ID "\",\"size\":1,\"sha256\":\"00\"}",
    "{\"type\":\"end\",\"id\":\"" ID "\",\"size\":1.5,\"sha256\":\"00\"}",
    "{\"type\":\"ack\",\"id\":\"" ID "\",\"ok\":1}",
    "{\"type\":\"ack\",\"id\":\"" ID "\",\"ok\":true,\"sha256\":7}",
    "{\"type\":\"reject\",\"id\":\"" ID "\"}",
    "{\"type\":\"offer\",\"version\":2,\"id\":\"" ID "\",\"name\":\"a\","
        "\"size\":1,\"mime\":\"x\",\"chunk-size\":100}",
    "{\"type\":\"offer\",\"version\":1,\"id\":\"" ID "\",\"name\":\"a\","
        "\"size\":1,\"mime\":\"x\",\"chunk-size\":25}",
    "{\"type\":\"offer\",\"version\":1,\"id\":\"" ID "\",\"name\":\"a\","
        "\"size\":1,\"mime\":\"x\",\"chunk-size\":999999999}",
    "{\"type\":\"offer\",\"version\":1,\"id\":\"" ID "\",\"name\":null,"
        "\"size\":1,\"mime\":\"x\",\"chunk-size\":100}",
    "{\"type\":\"offer\",\"version\":1,\"id\":\"" ID "\",\"name\":\"a\","
        "\"size\":1,\"mime\":\"x\"}",
    NULL
  };
  guint i;

  for (i = 0; bad[i] != NULL; i++) {
    HangoutTransferControl c;
    g_autoptr (GError) error = NULL;

    fail_if (hangout_transfer_parse_control (bad[i], strlen (bad[i]), &c,
            &error), "accepted: %s", bad[i]);
    fail_unless (g_error_matches (error, HANGOUT_ERROR,
            HANGOUT_ERROR_INVALID_MESSAGE), "%s", bad[i]);
    GST_DEBUG ("%s → %s", bad[i], error->message);
  }
  {
    /* Not UTF-8; and larger than any control message. */
    HangoutTransferControl c;
    g_autoptr (GError) error = NULL;
    gchar *big = g_malloc0 (70000);

    fail_if (hangout_transfer_parse_control ("{\"type\":\"\xff\"}", 12, &c,
            &error));
    g_clear_error (&error);
    memset (big, ' ', 69999);
    fail_if (hangout_transfer_parse_control (big, 69999, &c, &error));
    g_free (big);
  }
}

GST_END_TEST;

/* What any member can send on the application channel, to the receiver as
 * the room hands it over. Each of these crashed every C member once. */
GST_START_TEST (test_hostile_control)
{
  HangoutTransferReceiver *receiver = hangout_transfer_receiver_new ();
  HangoutTransferEvent event;
  g_autoptr (GError) error = NULL;
  /* An empty text message: GBytes without data (NULL). */
  g_autoptr (GBytes) empty = g_bytes_new (NULL, 0);
  /* 60,000 '[', under the size limit: json-glib's recursive parser
   * overflows the stack on it. */
  gsize deep_len = 60000;
  gchar *deep = g_malloc (deep_len);
  g_autoptr (GBytes) nested = NULL;
  /* A "type" that is an object: json-glib's string getter is critical. */
  g_autoptr (GBytes) object_type = text_bytes ("{\"type\":{\"a\":1},"
      "\"id\":\"" ID "\"}");

  memset (deep, '[', deep_len);
  nested = g_bytes_new_take (deep, deep_len);
  fail_if (hangout_transfer_receiver_handle (receiver, "m", TRUE, empty,
          &event, &error));
  fail_unless (g_error_matches (error, HANGOUT_ERROR,
          HANGOUT_ERROR_INVALID_MESSAGE));
  fail_unless (strstr (error->message, "empty") != NULL, "%s",
      error->message);
  fail_unless_equals_int (event.type, HANGOUT_TRANSFER_EVENT_NONE);
  g_clear_error (&error);
  fail_if (hangout_transfer_receiver_handle (receiver, "m", TRUE, nested,
          &event, &error));
  fail_unless (strstr (error->message, "nested too deeply") != NULL, "%s",
      error->message);
  g_clear_error (&error);
  fail_if (hangout_transfer_receiver_handle (receiver, "m", TRUE,
          object_type, &event, &error));
  fail_unless (strstr (error->message, "type") != NULL, "%s",
      error->message);
  g_clear_error (&error);
  /* An empty binary message is a data message too short to be one. */
  fail_if (hangout_transfer_receiver_handle (receiver, "m", FALSE, empty,
          &event, &error));
  fail_unless_equals_int (hangout_transfer_receiver_get_active (receiver), 0);
  hangout_transfer_receiver_free (receiver);
}

GST_END_TEST;

/* A file id from a number: "000…0N". */
static gchar *
numbered_id (guint n)
{
  return g_strdup_printf ("%032x", n);
}

static HangoutTransferEventType
offer_named (HangoutTransferReceiver *receiver, const gchar *member,
    const gchar *id, const gchar *name, const gchar *mime,
    HangoutTransferEvent *event)
{
  g_autofree gchar *offer = hangout_transfer_build_offer (id, name, 10, mime,
      HANGOUT_TRANSFER_DEFAULT_CHUNK_SIZE);

  feed_text (receiver, member, offer, event);
  return event->type;
}

/* Rejected with a reason that says which limit. */
static void
assert_rejected (HangoutTransferEvent *event, const gchar *reason)
{
  HangoutTransferControl reply;

  fail_unless_equals_int (event->type, HANGOUT_TRANSFER_EVENT_NONE);
  fail_unless (event->reply != NULL, "no reply");
  fail_unless (hangout_transfer_parse_control (event->reply,
          strlen (event->reply), &reply, NULL));
  fail_unless_equals_int (reply.type, HANGOUT_TRANSFER_REJECT);
  fail_unless (strstr (reply.reason, reason) != NULL, "reason '%s'",
      reply.reason);
  hangout_transfer_control_clear (&reply);
}

GST_START_TEST (test_receiver_limits)
{
  HangoutTransferReceiver *receiver = hangout_transfer_receiver_new ();
  HangoutTransferEvent event;
  g_autofree gchar *long_name = g_strnfill (1025, 'n');
  g_autofree gchar *long_mime = g_strnfill (256, 'm');
  g_autofree gchar *max_name = g_strnfill (1024, 'n');
  guint i;

  offer_named (receiver, "m", ID, long_name, "x", &event);
  assert_rejected (&event, "name longer than 1024 bytes");
  hangout_transfer_event_clear (&event);
  offer_named (receiver, "m", ID, "a", long_mime, &event);
  assert_rejected (&event, "mime longer than 255 bytes");
  hangout_transfer_event_clear (&event);
  fail_unless_equals_int (hangout_transfer_receiver_get_active (receiver), 0);

  /* 16 files outstanding per member, declined ones included. */
  for (i = 0; i < HANGOUT_TRANSFER_MAX_FILES_PER_MEMBER; i++) {
    g_autofree gchar *id = numbered_id (i);

    fail_unless_equals_int (offer_named (receiver, "m", id,
            i == 0 ? max_name : "f", "x", &event),
        HANGOUT_TRANSFER_EVENT_STARTED);
    hangout_transfer_event_clear (&event);
    if (i == 1)
      g_free (hangout_transfer_receiver_reject (receiver, "m", id, "no"));
  }
  {
    g_autofree gchar *id = numbered_id (99);

    offer_named (receiver, "m", id, "f", "x", &event);
    assert_rejected (&event, "too many files outstanding");
    hangout_transfer_event_clear (&event);
    /* Another member is not held to the first one's count. */
    fail_unless_equals_int (offer_named (receiver, "other", id, "f", "x",
            &event), HANGOUT_TRANSFER_EVENT_STARTED);
    hangout_transfer_event_clear (&event);
  }
  /* An ended file frees its place. */
  {
    g_autofree gchar *id = numbered_id (0);
    g_autofree gchar *abort = hangout_transfer_build_abort (id, "bye");
    g_autofree gchar *next = numbered_id (100);

    feed_text (receiver, "m", abort, &event);
    fail_unless_equals_int (event.type, HANGOUT_TRANSFER_EVENT_FAILED);
    hangout_transfer_event_clear (&event);
    fail_unless_equals_int (offer_named (receiver, "m", next, "f", "x",
            &event), HANGOUT_TRANSFER_EVENT_STARTED);
    hangout_transfer_event_clear (&event);
  }
  hangout_transfer_receiver_free (receiver);
}

GST_END_TEST;

/* Waits (bounded) for expire() to report something; returns its events. */
static GPtrArray *
expire_within (HangoutTransferReceiver *receiver, gint64 timeout_us,
    gint64 wait_us)
{
  gint64 end = g_get_monotonic_time () + wait_us;
  GPtrArray *events;

  while ((events = hangout_transfer_receiver_expire (receiver,
              timeout_us))->len == 0 && g_get_monotonic_time () < end) {
    g_ptr_array_unref (events);
    g_usleep (1000);
  }
  return events;
}

GST_START_TEST (test_receiver_stall)
{
  HangoutTransferReceiver *receiver = hangout_transfer_receiver_new ();
  HangoutTransferEvent event;
  g_autofree gchar *held_id = numbered_id (1);
  const gint64 timeout = 200 * 1000;
  GPtrArray *events;
  HangoutTransferEvent *failed;
  HangoutTransferControl reply;

  fail_unless_equals_int (offer_named (receiver, "m", ID, "a", "x", &event),
      HANGOUT_TRANSFER_EVENT_STARTED);
  hangout_transfer_event_clear (&event);
  fail_unless_equals_int (offer_named (receiver, "paused", held_id, "b", "x",
          &event), HANGOUT_TRANSFER_EVENT_STARTED);
  hangout_transfer_event_clear (&event);
  hangout_transfer_receiver_set_held (receiver, "paused", TRUE);

  /* The offer never followed by data fails; the held file does not. */
  events = expire_within (receiver, timeout, 5 * G_USEC_PER_SEC);
  fail_unless_equals_int (events->len, 1);
  failed = g_ptr_array_index (events, 0);
  fail_unless_equals_int (failed->type, HANGOUT_TRANSFER_EVENT_FAILED);
  fail_unless_equals_string (failed->id, ID);
  fail_unless (strstr (failed->error->message, "no data from the sender")
      != NULL, "%s", failed->error->message);
  fail_unless (hangout_transfer_parse_control (failed->reply,
          strlen (failed->reply), &reply, NULL));
  fail_unless_equals_int (reply.type, HANGOUT_TRANSFER_REJECT);
  hangout_transfer_control_clear (&reply);
  g_ptr_array_unref (events);
  fail_unless_equals_int (hangout_transfer_receiver_get_active (receiver), 1);

  /* Released, its clock starts again, then it stalls too. */
  hangout_transfer_receiver_set_held (receiver, "paused", FALSE);
  events = hangout_transfer_receiver_expire (receiver, timeout);
  fail_unless_equals_int (events->len, 0);
  g_ptr_array_unref (events);
  events = expire_within (receiver, timeout, 5 * G_USEC_PER_SEC);
  fail_unless_equals_int (events->len, 1);
  g_ptr_array_unref (events);
  fail_unless_equals_int (hangout_transfer_receiver_get_active (receiver), 0);
  hangout_transfer_receiver_free (receiver);
}

GST_END_TEST;

/* Names reach terminals and error messages escaped. */
GST_START_TEST (test_printable)
{
  const gchar *cases[][2] = {
    {"plain name.iso", "plain name.iso"},
    {"report — final.pdf", "report — final.pdf"},
    {"esc\x1b[31mred\a\r", "esc\\u001b[31mred\\u0007\\u000d"},
    {"rtl-K088\xe2\x80\xaegnp.exe", "rtl-K088\\u202egnp.exe"},
    {"csi\xc2\x9b", "csi\\u009b"},
    {"bad\xff", "bad\\xff"},
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++) {
    g_autofree gchar *out = hangout_transfer_printable (cases[i][0]);

    fail_unless_equals_string (out, cases[i][1]);
  }
}

GST_END_TEST;

GST_START_TEST (test_data_header)
{
  const guint8 payload[] = { 1, 2, 3 };
  g_autoptr (GBytes) message = hangout_transfer_build_data (ID,
      G_GUINT64_CONSTANT (0x0102030405060708), payload, sizeof payload);
  gsize len;
  const guint8 *data = g_bytes_get_data (message, &len);
  gchar id[33];
  guint64 offset;
  const guint8 *out;
  gsize out_len;
  g_autoptr (GError) error = NULL;
  guint8 copy[64];

  fail_unless_equals_int (len, HANGOUT_TRANSFER_HEADER_SIZE + 3);
  fail_unless_equals_int (data[0], 1);
  fail_unless_equals_int (data[1], 0x00);
  fail_unless_equals_int (data[16], 0xff);
  fail_unless_equals_int (data[17], 0x01);
  fail_unless_equals_int (data[24], 0x08);
  fail_unless (hangout_transfer_parse_data (data, len, id, &offset, &out,
          &out_len, &error));
  fail_unless_equals_string (id, ID);
  fail_unless_equals_uint64 (offset, G_GUINT64_CONSTANT (0x0102030405060708));
  fail_unless_equals_int (out_len, 3);
  fail_unless (memcmp (out, payload, 3) == 0);

  /* Header only, short, wrong version. */
  fail_if (hangout_transfer_parse_data (data, HANGOUT_TRANSFER_HEADER_SIZE, id,
          &offset, &out, &out_len, &error));
  g_clear_error (&error);
  fail_if (hangout_transfer_parse_data (data, 3, id, &offset, &out, &out_len,
          &error));
  g_clear_error (&error);
  fail_if (hangout_transfer_parse_data (data, 0, id, &offset, &out, &out_len,
          &error));
  g_clear_error (&error);
  memcpy (copy, data, len);
  copy[0] = 2;
  fail_if (hangout_transfer_parse_data (copy, len, id, &offset, &out,
          &out_len, &error));
  fail_unless (g_error_matches (error, HANGOUT_ERROR,
          HANGOUT_ERROR_INVALID_MESSAGE));
}

GST_END_TEST;

/* A sender and three receivers, by hand: chunking, digest, acks. */
GST_START_TEST (test_transfer)
{
  const gsize size = 100000;
  const guint chunk = 1000;
  const gchar *members[] = { "a", "b", "c" };
  HangoutTransferReceiver *receivers[3];
  HangoutTransferSender *sender;
  g_autoptr (GError) error = NULL;
  g_autofree gchar *offer = NULL, *end = NULL;
  g_autoptr (GBytes) last = NULL;
  GByteArray *got[3];
  guint8 *file = g_malloc (size);
  gsize written = 0;
  guint i, r, chunks = 0;

  for (i = 0; i < size; i++)
    file[i] = g_random_int ();
  sender = hangout_transfer_sender_new ("f.bin", size, NULL, chunk, &error);
  fail_unless (sender != NULL);
  for (r = 0; r < 3; r++) {
    HangoutTransferEvent event;

    receivers[r] = hangout_transfer_receiver_new ();
    got[r] = g_byte_array_new ();
    hangout_transfer_sender_add_recipient (sender, members[r]);
    offer = hangout_transfer_sender_build_offer (sender);
    feed_text (receivers[r], "S", offer, &event);
    fail_unless_equals_int (event.type, HANGOUT_TRANSFER_EVENT_STARTED);
    fail_unless_equals_string (event.name, "f.bin");
    fail_unless_equals_int64 (event.size, size);
    fail_unless_equals_string (event.mime, "application/octet-stream");
    hangout_transfer_event_clear (&event);
    g_clear_pointer (&offer, g_free);
  }

  /* Writes of odd sizes: messages are always whole chunks until the end. */
  while (written < size) {
    gsize step = 1 + g_random_int_range (0, 3000);   /* MIN evaluates twice */
    gsize n = MIN (size - written, step);
    GPtrArray *messages = hangout_transfer_sender_write (sender,
        file + written, n, &error);

    fail_unless (error == NULL, "%s", error ? error->message : "");
    written += n;
    for (i = 0; messages != NULL && i < messages->len; i++) {
      GBytes *m = g_ptr_array_index (messages, i);

      fail_unless_equals_int (g_bytes_get_size (m), chunk);
      chunks++;
      for (r = 0; r < 3; r++) {
        HangoutTransferEvent event;

        fail_unless_equals_int (feed (receivers[r], "S", FALSE, m, &event),
            HANGOUT_TRANSFER_EVENT_DATA);
        fail_unless_equals_uint64 (event.offset, got[r]->len);
        g_byte_array_append (got[r], g_bytes_get_data (event.payload, NULL),
            g_bytes_get_size (event.payload));
        hangout_transfer_event_clear (&event);
      }
    }
    g_clear_pointer (&messages, g_ptr_array_unref);
  }
  /* More than announced is refused. */
  fail_if (hangout_transfer_sender_write (sender, file, 1, &error));
  g_clear_error (&error);

  end = hangout_transfer_sender_finish (sender, &last, &error);
  fail_unless (end != NULL);
  fail_unless (last != NULL);
  fail_unless_equals_int (chunks, size / (chunk - 25));
  for (r = 0; r < 3; r++) {
    HangoutTransferEvent event;
    HangoutTransferControl answer;
    HangoutTransferRecipientState state;

    fail_unless_equals_int (feed (receivers[r], "S", FALSE, last, &event),
        HANGOUT_TRANSFER_EVENT_DATA);
    g_byte_array_append (got[r], g_bytes_get_data (event.payload, NULL),
        g_bytes_get_size (event.payload));
    hangout_transfer_event_clear (&event);
    fail_unless_equals_int (got[r]->len, size);
    fail_unless (memcmp (got[r]->data, file, size) == 0);

    /* Receiver b answers with a wrong digest (as a broken peer would). */
    if (r == 1) {
      g_autofree gchar *bad = hangout_transfer_build_ack
          (hangout_transfer_sender_get_id (sender), TRUE,
          "0000000000000000000000000000000000000000000000000000000000000000");

      fail_unless (hangout_transfer_parse_control (bad, strlen (bad),
              &answer, NULL));
      feed_text (receivers[r], "S", end, &event);
      hangout_transfer_event_clear (&event);
    } else {
      feed_text (receivers[r], "S", end, &event);
      fail_unless_equals_int (event.type, HANGOUT_TRANSFER_EVENT_COMPLETE);
      fail_unless_equals_string (event.sha256,
          hangout_transfer_sender_get_sha256 (sender));
      fail_unless (event.reply != NULL);
      fail_unless (hangout_transfer_parse_control (event.reply,
              strlen (event.reply), &answer, NULL));
      fail_unless (answer.ok);
      hangout_transfer_event_clear (&event);
    }
    fail_unless (hangout_transfer_sender_handle_answer (sender, members[r],
            &answer, &state, &error));
    fail_unless_equals_int (state, r == 1 ?
        HANGOUT_TRANSFER_RECIPIENT_FAILED : HANGOUT_TRANSFER_RECIPIENT_OK);
    /* A second answer is refused. */
    fail_if (hangout_transfer_sender_handle_answer (sender, members[r],
            &answer, &state, &error));
    g_clear_error (&error);
    hangout_transfer_control_clear (&answer);
    fail_unless_equals_int (hangout_transfer_receiver_get_active
        (receivers[r]), 0);
    hangout_transfer_receiver_free (receivers[r]);
    g_byte_array_unref (got[r]);
  }
  fail_unless_equals_int (hangout_transfer_sender_count (sender,
          HANGOUT_TRANSFER_RECIPIENT_OK), 2);
  fail_unless_equals_int (hangout_transfer_sender_count (sender,
          HANGOUT_TRANSFER_RECIPIENT_PENDING), 0);
  hangout_transfer_sender_free (sender);
  g_free (file);
}

GST_END_TEST;

/* Hostile or broken senders: every case is an error, nothing completes. */
GST_START_TEST (test_receiver_failures)
{
  HangoutTransferReceiver *receiver = hangout_transfer_receiver_new ();
  g_autofree gchar *offer = hangout_transfer_build_offer (ID, "f", 10, "x",
      100);
  g_autofree gchar *end = NULL;
  const guint8 payload[200] = { 0 };
  HangoutTransferEvent event;
  g_autoptr (GError) error = NULL;
  GBytes *m;
  GPtrArray *events;

  /* Data of a file never offered. */
  m = hangout_transfer_build_data (ID, 0, payload, 5);
  fail_if (hangout_transfer_receiver_handle (receiver, "S", FALSE, m, &event,
          &error));
  fail_unless_equals_int (event.type, HANGOUT_TRANSFER_EVENT_NONE);
  g_clear_error (&error);
  g_bytes_unref (m);

  /* Out of order: fails the file, later data is dropped quietly and the
   * end is answered ok=false without a second report. */
  feed_text (receiver, "S", offer, &event);
  hangout_transfer_event_clear (&event);
  m = hangout_transfer_build_data (ID, 3, payload, 5);
  fail_unless_equals_int (feed (receiver, "S", FALSE, m, &event),
      HANGOUT_TRANSFER_EVENT_FAILED);
  GST_DEBUG ("%s", event.error->message);
  hangout_transfer_event_clear (&event);
  fail_unless_equals_int (feed (receiver, "S", FALSE, m, &event),
      HANGOUT_TRANSFER_EVENT_NONE);
  g_bytes_unref (m);
  end = hangout_transfer_build_end (ID, 10,
      "0000000000000000000000000000000000000000000000000000000000000000");
  feed_text (receiver, "S", end, &event);
  fail_unless_equals_int (event.type, HANGOUT_TRANSFER_EVENT_NONE);
  fail_unless (event.reply != NULL && strstr (event.reply, "false"));
  hangout_transfer_event_clear (&event);
  fail_unless_equals_int (hangout_transfer_receiver_get_active (receiver), 0);

  /* Past the announced size. */
  feed_text (receiver, "S", offer, &event);
  hangout_transfer_event_clear (&event);
  m = hangout_transfer_build_data (ID, 0, payload, 11);
  fail_unless_equals_int (feed (receiver, "S", FALSE, m, &event),
      HANGOUT_TRANSFER_EVENT_FAILED);
  hangout_transfer_event_clear (&event);
  g_bytes_unref (m);
  feed_text (receiver, "S", end, &event);
  hangout_transfer_event_clear (&event);

  /* Larger than the chunk size. */
  g_free (offer);
  offer = hangout_transfer_build_offer (ID, "f", -1, "x", 100);
  feed_text (receiver, "S", offer, &event);
  hangout_transfer_event_clear (&event);
  m = hangout_transfer_build_data (ID, 0, payload, 100);
  fail_unless_equals_int (feed (receiver, "S", FALSE, m, &event),
      HANGOUT_TRANSFER_EVENT_FAILED);
  fail_unless (g_error_matches (event.error, HANGOUT_ERROR,
          HANGOUT_ERROR_MESSAGE_TOO_BIG));
  hangout_transfer_event_clear (&event);
  g_bytes_unref (m);
  feed_text (receiver, "S", end, &event);
  hangout_transfer_event_clear (&event);

  /* Wrong digest, and short. */
  feed_text (receiver, "S", offer, &event);
  hangout_transfer_event_clear (&event);
  m = hangout_transfer_build_data (ID, 0, payload, 10);
  feed (receiver, "S", FALSE, m, &event);
  hangout_transfer_event_clear (&event);
  g_bytes_unref (m);
  feed_text (receiver, "S", end, &event);
  fail_unless_equals_int (event.type, HANGOUT_TRANSFER_EVENT_FAILED);
  fail_unless (strstr (event.error->message, "SHA-256") != NULL);
  hangout_transfer_event_clear (&event);

  feed_text (receiver, "S", offer, &event);
  hangout_transfer_event_clear (&event);
  g_free (end);
  end = hangout_transfer_build_end (ID, 11,
      "0000000000000000000000000000000000000000000000000000000000000000");
  feed_text (receiver, "S", end, &event);
  fail_unless_equals_int (event.type, HANGOUT_TRANSFER_EVENT_FAILED);
  hangout_transfer_event_clear (&event);

  /* The sender leaves mid-file; another sender's file is not affected. */
  feed_text (receiver, "S", offer, &event);
  hangout_transfer_event_clear (&event);
  feed_text (receiver, "T", offer, &event);
  hangout_transfer_event_clear (&event);
  events = hangout_transfer_receiver_member_left (receiver, "S", NULL);
  fail_unless_equals_int (events->len, 1);
  fail_unless_equals_int (((HangoutTransferEvent *)
          g_ptr_array_index (events, 0))->type, HANGOUT_TRANSFER_EVENT_FAILED);
  g_ptr_array_unref (events);
  fail_unless_equals_int (hangout_transfer_receiver_get_active (receiver), 1);

  /* Aborted by its sender. */
  {
    g_autofree gchar *abort = hangout_transfer_build_abort (ID, "bye");

    feed_text (receiver, "T", abort, &event);
    fail_unless_equals_int (event.type, HANGOUT_TRANSFER_EVENT_FAILED);
    fail_unless (strstr (event.error->message, "bye") != NULL);
    hangout_transfer_event_clear (&event);
  }

  /* A rejected file: its data is dropped silently. */
  feed_text (receiver, "S", offer, &event);
  hangout_transfer_event_clear (&event);
  g_free (hangout_transfer_receiver_reject (receiver, "S", ID, "busy"));
  m = hangout_transfer_build_data (ID, 0, payload, 10);
  fail_unless_equals_int (feed (receiver, "S", FALSE, m, &event),
      HANGOUT_TRANSFER_EVENT_NONE);
  g_bytes_unref (m);
  feed_text (receiver, "S", end, &event);
  fail_unless_equals_int (event.type, HANGOUT_TRANSFER_EVENT_NONE);
  fail_unless_equals_int (hangout_transfer_receiver_get_active (receiver), 0);

  /* Malformed control text. */
  {
    g_autoptr (GBytes) junk = text_bytes ("{\"type\":\"offer\"");

    fail_if (hangout_transfer_receiver_handle (receiver, "S", TRUE, junk,
            &event, &error));
    g_clear_error (&error);
  }
  hangout_transfer_receiver_free (receiver);
}

GST_END_TEST;

GST_START_TEST (test_sender_rules)
{
  g_autoptr (GError) error = NULL;
  HangoutTransferSender *sender;
  HangoutTransferControl ack = { 0 };
  HangoutTransferRecipientState state;
  g_autoptr (GBytes) last = NULL;
  g_autofree gchar *end = NULL;

  fail_if (hangout_transfer_sender_new ("f", 1, NULL, 25, &error));
  g_clear_error (&error);
  fail_if (hangout_transfer_sender_new ("", 1, NULL, 100, &error));
  g_clear_error (&error);

  sender = hangout_transfer_sender_new ("f", 10, NULL, 100, &error);
  fail_unless_equals_int (strlen (hangout_transfer_sender_get_id (sender)), 32);
  hangout_transfer_sender_add_recipient (sender, "a");
  hangout_transfer_sender_add_recipient (sender, "b");
  /* Short of the announced size. */
  fail_if (hangout_transfer_sender_write (sender, (const guint8 *) "12345", 5,
          &error));
  fail_unless (error == NULL);
  fail_if (hangout_transfer_sender_finish (sender, &last, &error));
  g_clear_error (&error);
  fail_if (hangout_transfer_sender_write (sender, (const guint8 *) "67890", 5,
          &error));
  /* An ack before the end is refused. */
  ack.type = HANGOUT_TRANSFER_ACK;
  ack.id = (gchar *) hangout_transfer_sender_get_id (sender);
  ack.ok = TRUE;
  fail_if (hangout_transfer_sender_handle_answer (sender, "a", &ack, &state,
          &error));
  g_clear_error (&error);
  end = hangout_transfer_sender_finish (sender, &last, &error);
  fail_unless (end != NULL && last != NULL);
  fail_unless_equals_int (g_bytes_get_size (last), 25 + 10);
  /* SHA-256("1234567890") */
  fail_unless_equals_string (hangout_transfer_sender_get_sha256 (sender),
      "c775e7b757ede630cd0aa1113bd102661ab38829ca52a6422ab782862f268646");
  /* From a member never sent the file; then b leaves. */
  fail_if (hangout_transfer_sender_handle_answer (sender, "z", &ack, &state,
          &error));
  g_clear_error (&error);
  fail_unless (hangout_transfer_sender_member_left (sender, "b"));
  fail_if (hangout_transfer_sender_member_left (sender, "b"));
  fail_unless_equals_int (hangout_transfer_sender_count (sender,
          HANGOUT_TRANSFER_RECIPIENT_PENDING), 1);
  hangout_transfer_sender_free (sender);
}

GST_END_TEST;

static Suite *
transfer_suite (void)
{
  Suite *s = suite_create ("transfer");
  TCase *tc = tcase_create ("general");

  suite_add_tcase (s, tc);
  tcase_add_test (tc, test_control_round_trip);
  tcase_add_test (tc, test_control_invalid);
  tcase_add_test (tc, test_hostile_control);
  tcase_add_test (tc, test_receiver_limits);
  tcase_add_test (tc, test_receiver_stall);
  tcase_add_test (tc, test_printable);
  tcase_add_test (tc, test_data_header);
  tcase_add_test (tc, test_transfer);
  tcase_add_test (tc, test_receiver_failures);
  tcase_add_test (tc, test_sender_rules);
  return s;
}

GST_CHECK_MAIN (transfer);
