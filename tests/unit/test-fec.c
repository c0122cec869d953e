/* gst-hangout — loss repair below DTLS (fec.h): two ends in one process,
 * with DTLS-shaped records and a link that drops what a test says.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#include <gst/check/gstcheck.h>
#include <hangout/fec.h>
#include <gnutls/crypto.h>
#include <string.h>

#define RECORD_HEADER 13
#define TAG_SIZE 8

/* The pair's key, as both ends would export it from their DTLS session. */
static const guint8 key[HANGOUT_FEC_KEY_SIZE] = { 1, 2, 3, 4, 5, 6, 7, 8 };
static const guint8 other_key[HANGOUT_FEC_KEY_SIZE] = { 8, 7, 6, 5 };

typedef struct {
  GMainContext *context;
  HangoutFec *sender, *receiver;
  GPtrArray *sent;              /* GBytes: the records as sent */
  GPtrArray *delivered;         /* GBytes: what the receiver gave DTLS */
  GPtrArray *parity;            /* GBytes: parity on its way, held by a test */
  gboolean hold_parity;
  gboolean drop_parity;
  guint reports;
} Link;

/* Iterates the context until @cond; fails after @ms. */
#define WAIT_UNTIL(link, cond, ms) G_STMT_START {                         \
    gint64 _end = g_get_monotonic_time () + (ms) * G_TIME_SPAN_MILLISECOND; \
    while (!(cond)) {                                                     \
      fail_if (g_get_monotonic_time () > _end,                            \
          "timed out after %d ms waiting for: %s", (ms), #cond);          \
      g_main_context_iteration ((link)->context, FALSE);                  \
      g_usleep (1000);                                                    \
    }                                                                     \
  } G_STMT_END

/* The sender's datagrams (parity) reach the receiver unless a test holds
 * or drops them; the receiver's (reports) reach the sender. */
static void
sender_send (gpointer data, const guint8 *datagram, gsize len)
{
  Link *link = data;

  if (link->drop_parity)
    return;
  if (link->hold_parity)
    g_ptr_array_add (link->parity, g_bytes_new (datagram, len));
  else
    hangout_fec_receive (link->receiver, datagram, len);
}

static void
receiver_send (gpointer data, const guint8 *datagram, gsize len)
{
  Link *link = data;

  link->reports++;
  hangout_fec_receive (link->sender, datagram, len);
}

static void
receiver_deliver (gpointer data, const guint8 *datagram, gsize len)
{
  Link *link = data;

  g_ptr_array_add (link->delivered, g_bytes_new (datagram, len));
}

static void
sender_deliver (gpointer data, const guint8 *datagram, gsize len)
{
  fail ("the sender got a DTLS datagram");
}

static const HangoutFecCallbacks sender_callbacks = { sender_send,
  sender_deliver
};
static const HangoutFecCallbacks receiver_callbacks = { receiver_send,
  receiver_deliver
};

/* Ends @len bytes at @data with their tag under @with, as §1.9 says:
 * the first bytes of their HMAC-SHA256. */
static void
sign (const guint8 *with, guint8 *data, gsize len)
{
  guint8 mac[32];

  gnutls_hmac_fast (GNUTLS_MAC_SHA256, with, HANGOUT_FEC_KEY_SIZE, data, len,
      mac);
  memcpy (data + len, mac, TAG_SIZE);
}

static void
send_report_full (HangoutFec *to, guint32 received, guint32 lost,
    guint32 rebuilt)
{
  guint8 report[13 + TAG_SIZE] = { HANGOUT_FEC_REPORT,
    received >> 24, received >> 16, received >> 8, received,
    lost >> 24, lost >> 16, lost >> 8, lost,
    rebuilt >> 24, rebuilt >> 16, rebuilt >> 8, rebuilt
  };

  sign (key, report, 13);
  hangout_fec_receive (to, report, sizeof report);
}

/* A report of random loss, which parity rebuilds (nine in ten). */
static void
send_report (HangoutFec *to, guint32 received, guint32 lost)
{
  send_report_full (to, received, lost, lost - lost / 10);
}

static guint
group_size (HangoutFec *fec)
{
  HangoutFecStats stats;

  hangout_fec_get_stats (fec, &stats);
  return stats.group_size;
}

static void send_record_of (Link *link, guint64 seq, guint body_len,
    gboolean drop);

/* A link whose sender already protects groups of 8 records: the peer
 * reported 0.3% loss. When @data, the sender has sent data records before
 * (of another epoch, which the receiver never saw), as a data direction
 * has; otherwise it has sent nothing yet. */
static Link *
link_new_full (gboolean data, const guint8 *receiver_key)
{
  Link *link = g_new0 (Link, 1);

  link->context = g_main_context_new ();
  link->sender = hangout_fec_new (link->context, key, &sender_callbacks,
      link);
  link->receiver = hangout_fec_new (link->context, receiver_key,
      &receiver_callbacks, link);
  link->sent = g_ptr_array_new_with_free_func ((GDestroyNotify) g_bytes_unref);
  link->delivered =
      g_ptr_array_new_with_free_func ((GDestroyNotify) g_bytes_unref);
  link->parity =
      g_ptr_array_new_with_free_func ((GDestroyNotify) g_bytes_unref);
  if (data) {
    guint8 record[RECORD_HEADER + 600] = { 23, 0xfe, 0xfd, 0, 2 };

    record[11] = 600 >> 8;
    record[12] = 600 & 0xff;
    for (guint seq = 0; seq < 64; seq++) {
      record[10] = (guint8) seq;
      hangout_fec_sent (link->sender, record, sizeof record);
    }
  }
  send_report (link->sender, 997, 3);
  fail_unless_equals_int (group_size (link->sender), 8);
  return link;
}

static Link *
link_new (void)
{
  return link_new_full (TRUE, key);
}

static void
link_free (Link *link)
{
  hangout_fec_free (link->sender);
  hangout_fec_free (link->receiver);
  g_ptr_array_unref (link->sent);
  g_ptr_array_unref (link->delivered);
  g_ptr_array_unref (link->parity);
  while (g_main_context_iteration (link->context, FALSE));
  g_main_context_unref (link->context);
  g_free (link);
}

/* Record @seq of epoch 1, application data, a body of @body_len bytes
 * drawn from @seq, sent through the sender; the link drops it when @drop. */
static void
send_record_of (Link *link, guint64 seq, guint body_len, gboolean drop)
{
  guint8 *record = g_malloc (RECORD_HEADER + body_len);
  guint64 epoch_seq = (G_GUINT64_CONSTANT (1) << 48) | seq;
  GRand *rand = g_rand_new_with_seed ((guint32) seq);

  record[0] = 23;
  record[1] = 0xfe;
  record[2] = 0xfd;
  for (guint i = 0; i < 8; i++)
    record[3 + i] = (guint8) (epoch_seq >> (56 - 8 * i));
  record[11] = body_len >> 8;
  record[12] = body_len & 0xff;
  for (guint i = 0; i < body_len; i++)
    record[RECORD_HEADER + i] = (guint8) g_rand_int (rand);
  g_rand_free (rand);
  g_ptr_array_add (link->sent, g_bytes_new (record, RECORD_HEADER + body_len));
  /* On the wire before the parity it may complete, as peer.c sends. */
  if (!drop)
    hangout_fec_receive (link->receiver, record, RECORD_HEADER + body_len);
  hangout_fec_sent (link->sender, record, RECORD_HEADER + body_len);
  g_free (record);
}

/* A data record: a body of 512 to 1211 bytes. */
static void
send_record (Link *link, guint64 seq, gboolean drop)
{
  send_record_of (link, seq, 512 + (guint) ((seq * 7919) % 700), drop);
}

/* The receiver delivered exactly the records sent with the sequence
 * numbers in @seqs, in that order, byte for byte. */
static void
check_delivered (Link *link, const guint *seqs, guint n)
{
  fail_unless_equals_int (link->delivered->len, n);
  for (guint i = 0; i < n; i++) {
    fail_unless (g_bytes_equal (link->delivered->pdata[i],
            link->sent->pdata[seqs[i]]),
        "delivered record %u is not record %u as sent", i, seqs[i]);
  }
}

/* Forged datagrams may make the receiver give DTLS records that are none
 * of ours (DTLS refuses them: it authenticates every record); every record
 * sent must still reach it once, in order. */
static void
check_genuine_in_order (Link *link)
{
  guint next = 0;

  for (guint i = 0; i < link->delivered->len; i++) {
    gboolean genuine = FALSE;

    for (guint k = 0; k < link->sent->len && !genuine; k++)
      genuine = g_bytes_equal (link->delivered->pdata[i], link->sent->pdata[k]);
    if (!genuine)
      continue;
    fail_unless (next < link->sent->len && g_bytes_equal (link->delivered->pdata[i],
            link->sent->pdata[next]), "delivered record %u is out of order", i);
    next++;
  }
  fail_unless_equals_int (next, link->sent->len);
}

static guint64
stat_repaired (HangoutFec *fec)
{
  HangoutFecStats stats;

  hangout_fec_get_stats (fec, &stats);
  return stats.repaired;
}

/* One record lost in each of several groups: each is rebuilt, and DTLS
 * gets every record in order. The first group is whole: the receiver
 * holds nothing before the peer's first parity. */
GST_START_TEST (test_one_loss_per_group_repaired)
{
  Link *link = link_new ();
  guint all[40];

  /* 16 is small, as a message's tail is: in a data direction it is
   * protected with the rest. */
  for (guint seq = 0; seq < 40; seq++) {
    if (seq == 16)
      send_record_of (link, seq, 90, TRUE);
    else
      send_record (link, seq, seq == 11 || seq == 31);
    all[seq] = seq;
  }
  check_delivered (link, all, 40);
  fail_unless_equals_int (stat_repaired (link->receiver), 3);
  link_free (link);
}

GST_END_TEST;

/* Two records lost in one group cannot be rebuilt: the others go to DTLS
 * as soon as the group's parity shows it, without waiting for a timer. */
GST_START_TEST (test_two_losses_released_at_parity)
{
  Link *link = link_new ();
  guint expected[14], n = 0;

  for (guint seq = 0; seq < 16; seq++) {
    send_record (link, seq, seq == 9 || seq == 12);
    if (seq != 9 && seq != 12)
      expected[n++] = seq;
  }
  check_delivered (link, expected, n);
  fail_unless_equals_int (stat_repaired (link->receiver), 0);
  link_free (link);
}

GST_END_TEST;

/* Records after a gap whose parity never comes are held for a moment
 * only, then delivered. */
GST_START_TEST (test_gap_released_after_hold)
{
  Link *link = link_new ();
  guint expected[15], n = 0;
  gint64 sent;

  for (guint seq = 0; seq < 8; seq++)
    send_record (link, seq, FALSE);
  link->drop_parity = TRUE;
  for (guint seq = 8; seq < 16; seq++)
    send_record (link, seq, seq == 10);
  sent = g_get_monotonic_time ();
  fail_unless_equals_int (link->delivered->len, 10);
  for (guint seq = 0; seq < 16; seq++) {
    if (seq != 10)
      expected[n++] = seq;
  }
  WAIT_UNTIL (link, link->delivered->len == n, 2000);
  fail_unless (g_get_monotonic_time () - sent >= 30 * G_TIME_SPAN_MILLISECOND,
      "held records were released before the gap could be repaired");
  check_delivered (link, expected, n);
  link_free (link);
}

GST_END_TEST;

/* Once the peer has stopped sending parity (it sends SACKs now, not
 * data), a gap holds nothing back. */
GST_START_TEST (test_no_hold_without_parity)
{
  Link *link = link_new ();
  gint64 later;

  for (guint seq = 0; seq < 8; seq++)
    send_record (link, seq, FALSE);
  link->drop_parity = TRUE;
  later = g_get_monotonic_time () + 1100 * G_TIME_SPAN_MILLISECOND;
  WAIT_UNTIL (link, g_get_monotonic_time () > later, 2000);
  for (guint seq = 8; seq < 16; seq++)
    send_record (link, seq, seq == 10);
  fail_unless_equals_int (link->delivered->len, 15);
  link_free (link);
}

GST_END_TEST;

/* A group the sender stops sending in goes out on a timer: the loss at the
 * end of a burst is repaired too. */
GST_START_TEST (test_partial_group_flushed)
{
  Link *link = link_new ();
  guint all[11];

  for (guint seq = 0; seq < 11; seq++) {
    send_record (link, seq, seq == 9);
    all[seq] = seq;
  }
  fail_unless_equals_int (link->delivered->len, 9);
  WAIT_UNTIL (link, link->delivered->len == 11, 2000);
  check_delivered (link, all, 11);
  fail_unless_equals_int (stat_repaired (link->receiver), 1);
  link_free (link);
}

GST_END_TEST;

/* The sender sends parity only while the receiver reports loss, as much as
 * the loss calls for. */
GST_START_TEST (test_reports_set_protection)
{
  Link *link = link_new ();
  HangoutFecStats stats;

  /* What the receiver reports: 2 of 100 records missing (it never sees
   * parity here, so it only counts). */
  link->hold_parity = TRUE;
  for (guint seq = 0; seq < 100; seq++)
    send_record (link, seq, seq == 40 || seq == 70);
  WAIT_UNTIL (link, link->reports > 0, 2000);
  hangout_fec_get_stats (link->receiver, &stats);
  fail_unless_equals_int (stats.received, 98);
  fail_unless_equals_int (stats.lost, 2);

  /* Heavy loss: smaller groups; no loss for a while: none. */
  send_report (link->sender, 900, 100);
  fail_unless_equals_int (group_size (link->sender), 4);
  for (guint i = 0; i < 40 && group_size (link->sender) != 0; i++)
    send_report (link->sender, 1000, 0);
  fail_unless_equals_int (group_size (link->sender), 0);
  g_ptr_array_set_size (link->parity, 0);
  send_record (link, 100, FALSE);
  fail_unless_equals_int (link->parity->len, 0);
  link_free (link);
}

GST_END_TEST;

/* Parity and reports that lie or are cut short rebuild nothing and cost
 * no record. */
GST_START_TEST (test_malformed_input)
{
  Link *link = link_new ();
  guint8 bad[HANGOUT_FEC_MAX_DATAGRAM + 8];
  GRand *rand = g_rand_new_with_seed (7);

  for (guint seq = 0; seq < 8; seq++)
    send_record (link, seq, FALSE);
  /* Parity and reports of every size and of random content, most without
   * the pair's tag, a quarter with it (the peer itself lying), those
   * claiming groups over the records still to come, with counts of 0 to
   * 19 and any lengths. */
  for (guint i = 0; i < 2000; i++) {
    gsize len = g_rand_int_range (rand, 1, HANGOUT_FEC_MAX_DATAGRAM + 1);
    guint size;

    for (gsize b = 0; b < len; b++)
      bad[b] = (guint8) g_rand_int (rand);
    bad[0] = i % 2 ? HANGOUT_FEC_PARITY : HANGOUT_FEC_REPORT;
    if (len > 12 + TAG_SIZE && i % 4 == 1) {
      memset (bad + 1, 0, 8);
      bad[2] = 1;
      bad[8] = 8 + i % 16;
      bad[9] = (guint8) (i % 20);
      sign (key, bad, len - TAG_SIZE);
    }
    hangout_fec_receive (link->receiver, bad, len);
    if (i % 4 == 2 && len >= 13 + TAG_SIZE) {
      sign (key, bad, 13);
      hangout_fec_receive (link->sender, bad, 13 + TAG_SIZE);
      size = group_size (link->sender);
      fail_unless (size == 0 || size == 4 || size == 8 || size == 16,
          "a report made the group size %u", size);
    }
  }
  g_rand_free (rand);
  send_report (link->sender, 997, 3);
  for (guint seq = 8; seq < 24; seq++)
    send_record (link, seq, FALSE);
  /* Whatever was held is out within the hold time. */
  WAIT_UNTIL (link, g_main_context_pending (link->context) == FALSE
      && link->delivered->len >= 24, 2000);
  check_genuine_in_order (link);
  link_free (link);
}

GST_END_TEST;

/* A direction of small records (SACKs) gets no parity: a lost one is made
 * good by the next, and the peer then holds nothing after it. */
GST_START_TEST (test_small_records_unprotected)
{
  Link *link = link_new_full (FALSE, key);

  link->hold_parity = TRUE;
  for (guint seq = 0; seq < 40; seq++)
    send_record_of (link, seq, 40 + seq % 400, seq == 20);
  WAIT_UNTIL (link, g_main_context_pending (link->context) == FALSE, 1000);
  fail_unless_equals_int (link->parity->len, 0);
  fail_unless_equals_int (link->delivered->len, 39);
  link_free (link);
}

GST_END_TEST;

/* A record far ahead (forged: DTLS would refuse it) costs one delivery,
 * not a walk to it nor the repair of what follows; after a real outage
 * longer than the receiver's window, it follows the stream again. */
GST_START_TEST (test_far_records)
{
  Link *link = link_new ();
  guint8 forged[RECORD_HEADER + 600] = { 23, 0xfe, 0xfd, 0, 1, 0, 0x40 };
  gint64 start = g_get_monotonic_time ();
  guint64 repaired;

  for (guint seq = 0; seq < 8; seq++)
    send_record (link, seq, FALSE);
  forged[11] = 600 >> 8;
  forged[12] = 600 & 0xff;
  hangout_fec_receive (link->receiver, forged, sizeof forged);
  fail_unless_equals_int (link->delivered->len, 9);
  for (guint seq = 8; seq < 24; seq++)
    send_record (link, seq, seq == 12 || seq == 21);
  fail_unless_equals_int (stat_repaired (link->receiver), 2);
  fail_unless (g_get_monotonic_time () - start < G_USEC_PER_SEC);

  /* 3000 records and their parity lost, then the link is back. */
  link->drop_parity = TRUE;
  for (guint seq = 24; seq < 3024; seq++)
    send_record (link, seq, TRUE);
  link->drop_parity = FALSE;
  for (guint seq = 3024; seq < 3064; seq++)
    send_record (link, seq, seq == 3050);
  repaired = stat_repaired (link->receiver);
  fail_unless_equals_int (repaired, 3);
  fail_unless (g_bytes_equal (g_ptr_array_index (link->delivered,
              link->delivered->len - 1), link->sent->pdata[3063]));
  link_free (link);
}

GST_END_TEST;

/* Parity that rebuilds little of the loss (bursts from a full queue) is
 * paused: it would only add to the load of a full link. */
GST_START_TEST (test_useless_parity_paused)
{
  Link *link = link_new ();

  /* 60 losses counted while parity ran, 5 rebuilt. */
  for (guint seq = 0; seq < 16; seq++)
    send_record (link, seq, FALSE);
  send_report_full (link->sender, 940, 60, 5);
  fail_unless_equals_int (group_size (link->sender), 0);
  /* Paused: the same loss again does not bring it back. */
  send_report_full (link->sender, 940, 60, 0);
  fail_unless_equals_int (group_size (link->sender), 0);
  link_free (link);

  /* Parity that rebuilds most of it goes on... */
  link = link_new ();
  for (guint seq = 0; seq < 16; seq++)
    send_record (link, seq, FALSE);
  send_report_full (link->sender, 940, 60, 50);
  fail_unless_equals_int (group_size (link->sender), 4);
  for (guint seq = 16; seq < 32; seq++)
    send_record (link, seq, FALSE);
  /* ...until what came since (4000 records, no loss) says the loss that
   * began it is past, however large it was. */
  for (guint i = 0; i < 4; i++)
    send_report_full (link->sender, 1000, 0, 0);
  fail_unless_equals_int (group_size (link->sender), 0);
  link_free (link);
}

GST_END_TEST;

/* Parity and reports under another key (forged: the pair's key comes from
 * its DTLS session) are dropped. */
GST_START_TEST (test_other_key_ignored)
{
  Link *link = link_new_full (TRUE, other_key);

  for (guint seq = 0; seq < 16; seq++)
    send_record (link, seq, seq == 11);
  fail_unless_equals_int (stat_repaired (link->receiver), 0);
  /* Nor does its report count at the sender. */
  WAIT_UNTIL (link, link->reports > 0, 2000);
  fail_unless_equals_int (group_size (link->sender), 8);
  link_free (link);
}

GST_END_TEST;

static Suite *
fec_suite (void)
{
  Suite *s = suite_create ("fec");
  TCase *tc = tcase_create ("general");

  tcase_set_timeout (tc, 30);
  suite_add_tcase (s, tc);
  tcase_add_test (tc, test_one_loss_per_group_repaired);
  tcase_add_test (tc, test_two_losses_released_at_parity);
  tcase_add_test (tc, test_gap_released_after_hold);
  tcase_add_test (tc, test_partial_group_flushed);
  tcase_add_test (tc, test_no_hold_without_parity);
  tcase_add_test (tc, test_reports_set_protection);
  tcase_add_test (tc, test_small_records_unprotected);
  tcase_add_test (tc, test_far_records);
  tcase_add_test (tc, test_malformed_input);
  tcase_add_test (tc, test_other_key_ignored);
  tcase_add_test (tc, test_useless_parity_paused);
  return s;
}

GST_CHECK_MAIN (fec);
