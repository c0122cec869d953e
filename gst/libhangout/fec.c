/* gst-hangout — loss repair below DTLS (fec.h; the format is
 * docs/protocol.md §1.9).
 *
 * Sender: the DTLS application records it sends (one record per datagram,
 * consecutive sequence numbers) are XORed into a group; after k of them, or
 * FLUSH_MS after the group's first, a parity datagram goes out. k follows
 * the loss the peer reports; no loss reported, no parity.
 * Receiver: counts what arrives and what is missing, and reports it every
 * REPORT_MS while records arrive. Once the peer sends parity it keeps the
 * last RING records: a record after a gap is held (not given to DTLS) until
 * the gap is rebuilt from its group's parity, or cannot be (the group's
 * parity came and more than one record of it is missing, or HOLD_MS
 * passed), so SCTP sees repaired loss as no loss at all.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#include "debug-private.h"
#include "timers-private.h"
#include <hangout/fec.h>
#include <hangout/dtls.h>
#include <gnutls/crypto.h>
#include <string.h>

#define GST_CAT_DEFAULT hangout_debug_fec

#define RECORD_HEADER 13
#define APPLICATION_DATA 23
#define DTLS_1_2_MAJOR 0xfe
#define DTLS_1_2_MINOR 0xfd
/* Every datagram of ours ends in the first bytes of its HMAC-SHA256. */
#define TAG_SIZE 8
/* Parity: its first byte, the first covered record's epoch and sequence
 * number (8), the number of records (1), the XOR of their length fields
 * (2); then the XOR of their bodies, then the tag. */
#define PARITY_HEADER 12
/* A report: its first byte, three counts (4 + 4 + 4), the tag. */
#define REPORT_SIZE (13 + TAG_SIZE)
/* A record of a 1188-byte SCTP packet has a 1212-byte body (AES-GCM's
 * nonce and tag): its parity is exactly 1232 bytes. */
#define MAX_BODY (HANGOUT_FEC_MAX_DATAGRAM - PARITY_HEADER - TAG_SIZE)
/* Larger groups would hold more records after a gap for less gain. */
#define MAX_GROUP 16
/* Records kept by a receiver: MAX_GROUP behind the next one to deliver
 * (what a repair may need), the rest ahead of it (held after a gap). */
#define RING 64
#define HOLD_AHEAD (RING - MAX_GROUP)
/* A record further ahead than this (or more than RING behind) is taken for
 * a forged one, or the stream after an outage: see receive_far(). Below
 * it, the gaps it skips are walked one by one. */
#define MAX_JUMP 1024
#define FLUSH_MS 15
/* Longer than a partial group's flush, plus the path's jitter. */
#define HOLD_MS 40
#define REPORT_MS 200
/* Parity stopped this long ago (the peer sends SACKs now, not data, or
 * sees no loss): hold nothing any more. */
#define PARITY_GONE_MS 1000
/* The sender weighs reports of about this many records: at 1% loss a
 * few hundred records hold too few losses to tell 1% from 0.3%. */
#define LOSS_MEMORY 4000.0
/* A direction whose records are mostly smaller than this carries SACKs
 * and other control, not data, and gets no parity: a lost SACK is made
 * good by the next, and protecting them would hold the SACKs after a lost
 * one. In a data direction the small ones (a message's tail, a heartbeat)
 * are protected with the rest. */
#define DATA_BODY 512
/* Parity that rebuilds less than this share of the losses the peer counts
 * while it is sent is not helping: the loss comes in bursts (a full queue
 * drops runs of packets), and parity only adds to the load of a link that
 * is full already. Judged once this many losses were counted... */
#define USEFUL_SHARE 0.25
#define USEFUL_EVIDENCE 20
/* ...and then parity pauses, for 5 s at first, twice as long after each
 * failed try, at most 80 s: random loss may come back. */
#define PAUSE_MIN_S 5
#define PAUSE_MAX_S 80

typedef enum { SLOT_EMPTY, SLOT_HELD, SLOT_DONE } SlotState;

typedef struct {
  guint64 key;                  /* epoch << 48 | sequence number */
  SlotState state;
  guint16 len;
  guint8 data[HANGOUT_FEC_MAX_DATAGRAM];
} Slot;

typedef struct {
  guint8 type;
  guint8 version[2];
  guint64 key;
  guint16 body_len;
} Record;

struct _HangoutFec {
  HangoutFecCallbacks callbacks;
  gpointer user_data;
  guint8 key[HANGOUT_FEC_KEY_SIZE];
  GMutex lock;                  /* the sender's group and every counter */

  /* Sender. */
  guint group_size;
  guint count;                  /* records in the open group */
  Record first;                 /* the open group's first record */
  guint64 last_key;
  guint16 len_xor;
  gsize body_max;
  gdouble data_share;           /* of recent records, those of DATA_BODY */
  guint8 parity[HANGOUT_FEC_MAX_DATAGRAM];      /* the open group's */
  HangoutTimer *flush;
  gdouble reported_received, reported_lost;
  /* Since parity was turned on, or last judged: what the peer received,
   * lost and rebuilt. */
  guint64 trial_received, trial_lost, trial_rebuilt, trial_parity;
  gint64 paused_until;          /* monotonic µs; no parity before */
  guint pause_s;

  /* Receiver (owner thread, counters under @lock). */
  gboolean have_highest;
  guint64 highest;              /* highest record key seen */
  Slot *ring;                   /* NULL until the peer sends parity */
  guint64 next;                 /* with @ring: the next key to deliver */
  gboolean have_far;
  guint64 far;                  /* the last record far from @next */
  gint64 last_parity;           /* monotonic µs */
  HangoutTimer *hold;           /* fires when a gap has waited HOLD_MS */
  HangoutTimer *report;
  guint64 report_received, report_lost, report_rebuilt;

  HangoutFecStats stats;
};

static gboolean
parse_record (const guint8 *data, gsize len, Record *record)
{
  if (len < RECORD_HEADER || !hangout_dtls_is_dtls_packet (data, len))
    return FALSE;
  record->type = data[0];
  memcpy (record->version, data + 1, 2);
  record->key = 0;
  for (guint i = 0; i < 8; i++)
    record->key = record->key << 8 | data[3 + i];
  record->body_len = (guint16) (data[11] << 8 | data[12]);
  return TRUE;
}

static guint16
epoch_of (guint64 key)
{
  return (guint16) (key >> 48);
}

/* What parity covers: DTLS 1.2 application data after the handshake, one
 * record per datagram. */
static gboolean
is_protected (const Record *record, gsize len)
{
  return record->type == APPLICATION_DATA && epoch_of (record->key) != 0
      && record->version[0] == DTLS_1_2_MAJOR
      && record->version[1] == DTLS_1_2_MINOR
      && len == RECORD_HEADER + (gsize) record->body_len
      && len <= RECORD_HEADER + MAX_BODY;
}

static void
put_u32 (guint8 *p, guint32 v)
{
  p[0] = v >> 24;
  p[1] = v >> 16;
  p[2] = v >> 8;
  p[3] = v;
}

static guint32
get_u32 (const guint8 *p)
{
  return (guint32) p[0] << 24 | (guint32) p[1] << 16 | (guint32) p[2] << 8
      | p[3];
}

/* Writes the tag of the @len bytes at @data right after them. */
static void
sign (HangoutFec *fec, guint8 *data, gsize len)
{
  guint8 mac[32];

  gnutls_hmac_fast (GNUTLS_MAC_SHA256, fec->key, sizeof fec->key, data, len,
      mac);
  memcpy (data + len, mac, TAG_SIZE);
}

/* Whether the last TAG_SIZE of the @len bytes at @data are their tag. */
static gboolean
is_signed (HangoutFec *fec, const guint8 *data, gsize len)
{
  guint8 mac[32];
  guint8 diff = 0;

  if (len < TAG_SIZE)
    return FALSE;
  gnutls_hmac_fast (GNUTLS_MAC_SHA256, fec->key, sizeof fec->key, data,
      len - TAG_SIZE, mac);
  for (guint i = 0; i < TAG_SIZE; i++)
    diff |= mac[i] ^ data[len - TAG_SIZE + i];
  return diff == 0;
}

static void
timer_arm (HangoutTimer *timer, guint ms)
{
  hangout_timer_set (timer, g_get_monotonic_time ()
      + (gint64) ms * G_TIME_SPAN_MILLISECOND);
}

/* ---- sender ---- */

/* Under @lock. */
static void
send_parity (HangoutFec *fec)
{
  guint8 *p = fec->parity;

  if (fec->count == 0)
    return;
  p[0] = HANGOUT_FEC_PARITY;
  for (guint i = 0; i < 8; i++)
    p[1 + i] = (guint8) (fec->first.key >> (56 - 8 * i));
  p[9] = (guint8) fec->count;
  p[10] = fec->len_xor >> 8;
  p[11] = fec->len_xor & 0xff;
  sign (fec, p, PARITY_HEADER + fec->body_max);
  fec->callbacks.send (fec->user_data, p, PARITY_HEADER + fec->body_max
      + TAG_SIZE);
  fec->stats.parity_sent++;
  fec->trial_parity++;
  fec->count = 0;
}

static void
on_flush (gpointer data)
{
  HangoutFec *fec = data;

  g_mutex_lock (&fec->lock);
  send_parity (fec);
  g_mutex_unlock (&fec->lock);
}

void
hangout_fec_sent (HangoutFec *fec, const guint8 *datagram, gsize len)
{
  Record record;
  const guint8 *body = datagram + RECORD_HEADER;

  g_mutex_lock (&fec->lock);
  if (!parse_record (datagram, len, &record) || !is_protected (&record, len)) {
    g_mutex_unlock (&fec->lock);
    return;
  }
  /* About the last 50 records count. */
  fec->data_share = fec->data_share * 0.98
      + (record.body_len >= DATA_BODY ? 0.02 : 0);
  if (fec->group_size == 0 || fec->data_share < 0.5) {
    g_mutex_unlock (&fec->lock);
    return;
  }
  if (fec->count > 0 && record.key != fec->last_key + 1)
    send_parity (fec);
  if (fec->count == 0) {
    fec->first = record;
    fec->len_xor = 0;
    fec->body_max = 0;
    timer_arm (fec->flush, FLUSH_MS);
  }
  /* Bytes past the longest body so far are still zero from the reset. */
  if (record.body_len > fec->body_max) {
    memset (fec->parity + PARITY_HEADER + fec->body_max, 0,
        record.body_len - fec->body_max);
    fec->body_max = record.body_len;
  }
  for (gsize i = 0; i < record.body_len; i++)
    fec->parity[PARITY_HEADER + i] ^= body[i];
  fec->len_xor ^= record.body_len;
  fec->last_key = record.key;
  if (++fec->count >= fec->group_size)
    send_parity (fec);
  g_mutex_unlock (&fec->lock);
}

/* The peer's report: choose k from the loss it has seen lately. The
 * residual loss with one parity per k records is about p·(1-(1-p)^k): at
 * 1% and k = 4, 0.04%, which by Mathis et al. is worth 5× the rate. Parity
 * is not in SCTP's window, so on a link whose loss, not its capacity,
 * limits the rate its 25% more bytes cost no speed. */
static void
on_report (HangoutFec *fec, const guint8 *datagram, gsize len)
{
  guint32 received, lost, rebuilt;
  gdouble loss, keep;
  guint group_size;
  gint64 now = g_get_monotonic_time ();

  if (len != REPORT_SIZE || !is_signed (fec, datagram, len))
    return;
  received = get_u32 (datagram + 1);
  lost = get_u32 (datagram + 5);
  rebuilt = MIN (get_u32 (datagram + 9), lost);
  g_mutex_lock (&fec->lock);
  keep = LOSS_MEMORY / (LOSS_MEMORY + received + lost);
  fec->reported_received = fec->reported_received * keep + received;
  fec->reported_lost = fec->reported_lost * keep + lost;
  if (fec->group_size > 0) {
    fec->trial_received += received;
    fec->trial_lost += lost;
    fec->trial_rebuilt += rebuilt;
    if (fec->trial_parity == 0) {
      /* A direction of SACKs: nothing was tried. */
      fec->trial_received = fec->trial_lost = fec->trial_rebuilt =
          fec->trial_parity = 0;
    } else if (fec->trial_lost >= USEFUL_EVIDENCE) {
      if (fec->trial_rebuilt < USEFUL_SHARE * fec->trial_lost) {
        fec->pause_s = CLAMP (fec->pause_s * 2, PAUSE_MIN_S, PAUSE_MAX_S);
        fec->paused_until = now + fec->pause_s * G_USEC_PER_SEC;
        GST_DEBUG ("FEC %p: parity rebuilt %" G_GUINT64_FORMAT " of %"
            G_GUINT64_FORMAT " losses: none for %u s", fec,
            fec->trial_rebuilt, fec->trial_lost, fec->pause_s);
      } else
        fec->pause_s = 0;
      fec->trial_received = fec->trial_lost = fec->trial_rebuilt =
          fec->trial_parity = 0;
    } else if (fec->trial_received >= LOSS_MEMORY) {
      /* Little loss since parity began: what began it (a burst as a
       * transfer starts) is past, and only what came since counts. */
      fec->reported_received = fec->trial_received;
      fec->reported_lost = fec->trial_lost;
      fec->trial_received = fec->trial_lost = fec->trial_rebuilt =
          fec->trial_parity = 0;
    }
  }
  loss = fec->reported_lost / MAX (1.0, fec->reported_received
      + fec->reported_lost);
  if (loss >= 0.005)
    group_size = 4;
  else if (loss >= 0.001)
    group_size = 8;
  else if (loss >= 0.0002)
    group_size = MAX_GROUP;
  else
    group_size = 0;
  if (now < fec->paused_until)
    group_size = 0;
  if (group_size != fec->group_size) {
    GST_DEBUG ("FEC %p: peer reports %.2f%% loss: parity per %u records",
        fec, 100 * loss, group_size);
    send_parity (fec);
    if (fec->group_size == 0)
      fec->trial_received = fec->trial_lost = fec->trial_rebuilt =
          fec->trial_parity = 0;
    fec->group_size = group_size;
    fec->stats.group_size = group_size;
  }
  g_mutex_unlock (&fec->lock);
}

/* ---- receiver ---- */

static Slot *
slot_of (HangoutFec *fec, guint64 key)
{
  return &fec->ring[key % RING];
}

static gboolean
is_present (HangoutFec *fec, guint64 key)
{
  Slot *slot = slot_of (fec, key);

  return slot->key == key && slot->state != SLOT_EMPTY;
}

static void
count (HangoutFec *fec, guint64 *stat, guint64 *report, guint64 n)
{
  g_mutex_lock (&fec->lock);
  *stat += n;
  if (report != NULL)
    *report += n;
  g_mutex_unlock (&fec->lock);
}

static void
deliver (HangoutFec *fec, const guint8 *datagram, gsize len)
{
  fec->callbacks.deliver (fec->user_data, datagram, len);
}

/* Delivers what is held from @next on, up to the first gap. */
static void
drain (HangoutFec *fec)
{
  Slot *slot;

  while ((slot = slot_of (fec, fec->next))->key == fec->next
      && slot->state != SLOT_EMPTY) {
    if (slot->state == SLOT_HELD) {
      slot->state = SLOT_DONE;
      deliver (fec, slot->data, slot->len);
    }
    fec->next++;
  }
}

/* Gives up the gaps before @key: what is held there goes to DTLS, and
 * SCTP learns of the loss as it would without us. */
static void
advance_to (HangoutFec *fec, guint64 key)
{
  guint64 lost = 0;

  while (fec->next < key) {
    Slot *slot = slot_of (fec, fec->next);

    if (slot->key == fec->next && slot->state == SLOT_HELD) {
      slot->state = SLOT_DONE;
      deliver (fec, slot->data, slot->len);
    } else if (slot->key != fec->next || slot->state == SLOT_EMPTY)
      lost++;
    fec->next++;
  }
  if (lost > 0) {
    GST_LOG ("FEC %p: %" G_GUINT64_FORMAT " records not repaired", fec, lost);
    count (fec, &fec->stats.lost, &fec->report_lost, lost);
  }
  drain (fec);
}

/* After a gap: wait for its repair, unless the peer stopped sending
 * parity; then what is held goes, and nothing is held any more. */
static void
update_hold (HangoutFec *fec)
{
  if (fec->highest < fec->next)
    hangout_timer_set (fec->hold, -1);
  else if (g_get_monotonic_time () - fec->last_parity
      > PARITY_GONE_MS * G_TIME_SPAN_MILLISECOND) {
    GST_DEBUG ("FEC %p: no parity for %d ms: holding nothing", fec,
        PARITY_GONE_MS);
    advance_to (fec, fec->highest + 1);
    g_clear_pointer (&fec->ring, g_free);
    fec->have_far = FALSE;
    hangout_timer_set (fec->hold, -1);
  } else if (!hangout_timer_is_armed (fec->hold))
    timer_arm (fec->hold, HOLD_MS);
}

static void
on_hold_expired (gpointer data)
{
  HangoutFec *fec = data;

  advance_to (fec, fec->highest + 1);
}

static void
store (HangoutFec *fec, guint64 key, SlotState state, const guint8 *datagram,
    gsize len)
{
  Slot *slot = slot_of (fec, key);

  slot->key = key;
  slot->state = state;
  slot->len = (guint16) len;
  memcpy (slot->data, datagram, len);
}

static void
on_report_due (gpointer data)
{
  HangoutFec *fec = data;
  guint8 report[REPORT_SIZE] = { HANGOUT_FEC_REPORT };

  g_mutex_lock (&fec->lock);
  put_u32 (report + 1, (guint32) MIN (fec->report_received, G_MAXUINT32));
  put_u32 (report + 5, (guint32) MIN (fec->report_lost, G_MAXUINT32));
  put_u32 (report + 9, (guint32) MIN (fec->report_rebuilt, G_MAXUINT32));
  fec->report_received = fec->report_lost = fec->report_rebuilt = 0;
  g_mutex_unlock (&fec->lock);
  sign (fec, report, REPORT_SIZE - TAG_SIZE);
  fec->callbacks.send (fec->user_data, report, sizeof report);
}

/* Before the peer sends parity: only count, for the reports. */
static void
receive_counting (HangoutFec *fec, const Record *record, gboolean protected,
    const guint8 *datagram, gsize len)
{
  guint64 lost = 0;

  if (!fec->have_highest || record->key > fec->highest) {
    /* A jump of more than a ring is a new epoch or a lie, not loss. */
    if (fec->have_highest && record->key - fec->highest <= RING)
      lost = record->key - fec->highest - 1;
    fec->highest = record->key;
    fec->have_highest = TRUE;
  }
  if (protected || lost > 0) {
    g_mutex_lock (&fec->lock);
    fec->stats.received += protected;
    fec->report_received += protected;
    fec->stats.lost += lost;
    fec->report_lost += lost;
    g_mutex_unlock (&fec->lock);
  }
  deliver (fec, datagram, len);
}

/* A record far from @next goes to DTLS as it is (which refuses a forged
 * one). Two in a row close to each other mean the stream really is there
 * now (after an outage, a new epoch, or a forged record that moved us):
 * we follow it, giving DTLS what was held. */
static void
receive_far (HangoutFec *fec, guint64 key, const guint8 *datagram, gsize len)
{
  deliver (fec, datagram, len);
  if (!fec->have_far || key <= fec->far || key - fec->far > RING) {
    fec->have_far = TRUE;
    fec->far = key;
    return;
  }
  GST_DEBUG ("FEC %p: records moved from %" G_GUINT64_FORMAT " to %"
      G_GUINT64_FORMAT ": following them", fec, fec->next, key);
  for (guint i = 0; i < RING; i++) {
    Slot *slot = slot_of (fec, fec->next + i);

    if (slot->key == fec->next + i && slot->state == SLOT_HELD)
      deliver (fec, slot->data, slot->len);
    slot->key = G_MAXUINT64;
    slot->state = SLOT_EMPTY;
  }
  fec->next = key + 1;
  fec->highest = key;
  fec->have_far = FALSE;
}

static void
receive_repairing (HangoutFec *fec, const Record *record, gboolean protected,
    const guint8 *datagram, gsize len)
{
  guint64 key = record->key;

  if (protected)
    count (fec, &fec->stats.received, &fec->report_received, 1);
  if (key + RING < fec->next || key >= fec->next + MAX_JUMP) {
    receive_far (fec, key, datagram, len);
    return;
  }
  fec->have_far = FALSE;
  if (key < fec->next) {
    /* Late: given up already. DTLS decides. */
    deliver (fec, datagram, len);
    return;
  }
  if (key >= fec->next + HOLD_AHEAD)
    advance_to (fec, key - HOLD_AHEAD + 1);
  if (protected)
    store (fec, key, SLOT_HELD, datagram, len);
  else {
    /* Not covered by parity (an alert): it only fills its place. */
    deliver (fec, datagram, len);
    store (fec, key, SLOT_DONE, datagram, 0);
  }
  fec->highest = MAX (fec->highest, key);
  drain (fec);
}

/* One missing record of the group @parity covers is rebuilt. */
static void
repair (HangoutFec *fec, const guint8 *parity, gsize len)
{
  guint64 first = 0, missing = 0;
  guint n = parity[9], absent = 0;
  guint16 body_len = (guint16) (parity[10] << 8 | parity[11]);
  gsize parity_body = len - PARITY_HEADER - TAG_SIZE;
  guint8 rebuilt[RECORD_HEADER + MAX_BODY];

  for (guint i = 0; i < 8; i++)
    first = first << 8 | parity[1 + i];
  if (n == 0 || n > MAX_GROUP || first > G_MAXUINT64 - n)
    return;
  for (guint i = 0; i < n; i++) {
    if (!is_present (fec, first + i)) {
      missing = first + i;
      absent++;
    }
  }
  if (absent == 1 && missing >= fec->next && missing < fec->next + HOLD_AHEAD) {
    memcpy (rebuilt + RECORD_HEADER, parity + PARITY_HEADER, parity_body);
    for (guint i = 0; i < n; i++) {
      Slot *slot = slot_of (fec, first + i);
      gsize other = slot->len - RECORD_HEADER;

      if (first + i == missing)
        continue;
      if (slot->len < RECORD_HEADER || other > parity_body)
        return;                 /* not the group the parity says */
      body_len ^= (guint16) other;
      for (gsize b = 0; b < other; b++)
        rebuilt[RECORD_HEADER + b] ^= slot->data[RECORD_HEADER + b];
    }
    if (body_len == 0 || body_len > parity_body)
      return;
    rebuilt[0] = APPLICATION_DATA;
    rebuilt[1] = DTLS_1_2_MAJOR;
    rebuilt[2] = DTLS_1_2_MINOR;
    for (guint i = 0; i < 8; i++)
      rebuilt[3 + i] = (guint8) (missing >> (56 - 8 * i));
    rebuilt[11] = body_len >> 8;
    rebuilt[12] = body_len & 0xff;
    store (fec, missing, SLOT_HELD, rebuilt, RECORD_HEADER + body_len);
    GST_LOG ("FEC %p: record %" G_GUINT64_FORMAT " repaired", fec, missing);
    g_mutex_lock (&fec->lock);
    fec->stats.repaired++;
    fec->stats.lost++;
    fec->report_lost++;
    fec->report_rebuilt++;
    g_mutex_unlock (&fec->lock);
    fec->highest = MAX (fec->highest, missing);
  }
  /* Everything of the group was sent before its parity: what is still
   * missing up to its end is lost. */
  if (first + n > fec->next && first < fec->next + HOLD_AHEAD
      && epoch_of (first) == epoch_of (fec->next))
    advance_to (fec, MIN (first + n, fec->next + HOLD_AHEAD));
}

static void
receive_parity (HangoutFec *fec, const guint8 *datagram, gsize len)
{
  if (len <= PARITY_HEADER + TAG_SIZE || len > HANGOUT_FEC_MAX_DATAGRAM
      || !is_signed (fec, datagram, len))
    return;
  if (fec->ring == NULL) {
    /* Parity before any record: everything before it was lost, and the
     * next one starts where we can follow. */
    if (!fec->have_highest)
      return;
    GST_DEBUG ("FEC %p: the peer sends parity: holding records after gaps",
        fec);
    fec->ring = g_new0 (Slot, RING);
    fec->next = fec->highest + 1;
    /* Keys below @next never match a slot. */
    for (guint i = 0; i < RING; i++)
      fec->ring[i].key = G_MAXUINT64;
  }
  fec->last_parity = g_get_monotonic_time ();
  repair (fec, datagram, len);
  drain (fec);
}

void
hangout_fec_receive (HangoutFec *fec, const guint8 *datagram, gsize len)
{
  Record record;
  gboolean protected;

  if (len > 0 && datagram[0] == HANGOUT_FEC_REPORT) {
    on_report (fec, datagram, len);
    return;
  }
  if (len > 0 && datagram[0] == HANGOUT_FEC_PARITY)
    receive_parity (fec, datagram, len);
  else if (!parse_record (datagram, len, &record))
    return;
  else if (epoch_of (record.key) == 0)
    deliver (fec, datagram, len);       /* the handshake: DTLS retransmits */
  else {
    protected = is_protected (&record, len);
    if (fec->ring == NULL)
      receive_counting (fec, &record, protected, datagram, len);
    else
      receive_repairing (fec, &record, protected, datagram, len);
    if (protected && !hangout_timer_is_armed (fec->report))
      timer_arm (fec->report, REPORT_MS);
  }
  if (fec->ring != NULL)
    update_hold (fec);
}

gboolean
hangout_fec_is_fec_packet (const guint8 *data, gsize len)
{
  return len > 0 && (data[0] == HANGOUT_FEC_PARITY
      || data[0] == HANGOUT_FEC_REPORT);
}

void
hangout_fec_get_stats (HangoutFec *fec, HangoutFecStats *stats)
{
  g_mutex_lock (&fec->lock);
  *stats = fec->stats;
  g_mutex_unlock (&fec->lock);
}

HangoutFec *
hangout_fec_new (GMainContext *context, const guint8 *key,
    const HangoutFecCallbacks *callbacks, gpointer user_data)
{
  HangoutFec *fec = g_new0 (HangoutFec, 1);

  memcpy (fec->key, key, sizeof fec->key);
  fec->callbacks = *callbacks;
  fec->user_data = user_data;
  g_mutex_init (&fec->lock);
  fec->flush = hangout_timer_new (context, on_flush, fec);
  fec->hold = hangout_timer_new (context, on_hold_expired, fec);
  fec->report = hangout_timer_new (context, on_report_due, fec);
  return fec;
}

void
hangout_fec_free (HangoutFec *fec)
{
  if (fec == NULL)
    return;
  GST_INFO ("FEC %p: %" G_GUINT64_FORMAT " records received, %"
      G_GUINT64_FORMAT " lost, %" G_GUINT64_FORMAT " of them repaired; %"
      G_GUINT64_FORMAT " parity datagrams sent", fec, fec->stats.received,
      fec->stats.lost, fec->stats.repaired, fec->stats.parity_sent);
  hangout_clear_timer (&fec->flush);
  hangout_clear_timer (&fec->hold);
  hangout_clear_timer (&fec->report);
  g_free (fec->ring);
  gnutls_memset (fec->key, 0, sizeof fec->key);
  g_mutex_clear (&fec->lock);
  g_free (fec);
}
