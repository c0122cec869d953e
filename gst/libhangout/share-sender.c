/* gst-hangout — HangoutShareSender (share.h): files shared with a room.
 *
 * Threads: the sending thread blocks in wait/write/finish; the room's
 * signals and the channels' "buffered-amount-low" arrive on the network
 * thread. Everything they share lives under `lock`; `cond` is broadcast on
 * every change (a member connected or left, an answer arrived, a channel
 * drained, a cancellable was cancelled). Nothing is sent while `lock` is
 * held: a send may take the channel's locks, and the network thread takes
 * `lock` from handlers it runs while holding those.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#include "debug-private.h"
#include <hangout/share.h>

#define GST_CAT_DEFAULT hangout_debug_share

#define LOW_THRESHOLD (HANGOUT_SHARE_WINDOW / 2)
/* How often the wait for acks looks whether data still drains. */
#define BACKLOG_POLL_US G_USEC_PER_SEC

typedef struct {
  HangoutDataChannel *channel;
  gulong handler;
} Recipient;

struct _HangoutShareSender {
  GObject parent;

  HangoutRoom *room;
  gchar *decline_reason;
  gulong room_handlers[3];

  GMutex lock;
  GCond cond;
  /* Properties, under the lock. */
  guint chunk_size;
  guint ack_timeout;
  guint min_acks;
  GHashTable *connected;        /* member ids with an open channel */
  HangoutTransferSender *file;  /* the current file, or NULL */
  GHashTable *recipients;       /* member id → Recipient */
  guint64 low_events;           /* "buffered-amount-low" count */
  guint answers_to_emit;        /* answers taken whose signal has not returned */
};

enum {
  PROP_0,
  PROP_ROOM,
  PROP_CHUNK_SIZE,
  PROP_ACK_TIMEOUT,
  PROP_MIN_ACKS,
  PROP_DECLINE_REASON,
  N_PROPS
};

enum {
  SIGNAL_ANSWER,
  SIGNAL_RECIPIENT_LEFT,
  N_SIGNALS
};

static GParamSpec *properties[N_PROPS];
static guint signals[N_SIGNALS];

G_DEFINE_FINAL_TYPE (HangoutShareSender, hangout_share_sender, G_TYPE_OBJECT)

static void
recipient_free (Recipient *recipient)
{
  g_signal_handler_disconnect (recipient->channel, recipient->handler);
  g_object_unref (recipient->channel);
  g_free (recipient);
}

/* ---- the room's signals (network thread) ---- */

static void
on_peer_connected (HangoutRoom *room, const gchar *member,
    HangoutShareSender *self)
{
  g_mutex_lock (&self->lock);
  g_hash_table_add (self->connected, g_strdup (member));
  g_cond_broadcast (&self->cond);
  g_mutex_unlock (&self->lock);
}

static void
on_member_left (HangoutRoom *room, const gchar *member, const gchar *failure,
    HangoutShareSender *self)
{
  gboolean mid_file;

  g_mutex_lock (&self->lock);
  g_hash_table_remove (self->connected, member);
  mid_file = self->file != NULL
      && hangout_transfer_sender_member_left (self->file, member);
  g_cond_broadcast (&self->cond);
  g_mutex_unlock (&self->lock);

  if (mid_file) {
    GST_INFO_OBJECT (self, "recipient %s left: %s", member,
        failure ? failure : "closed");
    g_signal_emit (self, signals[SIGNAL_RECIPIENT_LEFT], 0, member, failure);
  }
}

static void
on_message (HangoutRoom *room, const gchar *member, gboolean is_string,
    GBytes *data, HangoutShareSender *self)
{
  HangoutTransferControl control;
  HangoutTransferRecipientState state = HANGOUT_TRANSFER_RECIPIENT_PENDING;
  g_autoptr (GError) error = NULL;
  gboolean handled = FALSE;
  const gchar *text;
  gsize len;

  if (!is_string) {
    GST_DEBUG_OBJECT (self, "ignoring a data message from %s", member);
    return;
  }
  text = g_bytes_get_data (data, &len);
  if (!hangout_transfer_parse_control (text, len, &control, &error)) {
    GST_WARNING_OBJECT (self, "bad message from %s: %s", member,
        error->message);
    return;
  }
  if (control.type == HANGOUT_TRANSFER_OFFER) {
    /* Say so at once, so that the offering member does not wait for an
     * acknowledgement from us until it times out. */
    g_autofree gchar *reject = hangout_transfer_build_reject (control.id,
        self->decline_reason);

    if (!hangout_room_send_reply (room, member, reject, &error))
      GST_DEBUG_OBJECT (self, "could not reject an offer from %s: %s",
          member, error->message);
    hangout_transfer_control_clear (&control);
    return;
  }
  if (control.type == HANGOUT_TRANSFER_ACK
      || control.type == HANGOUT_TRANSFER_REJECT) {
    g_mutex_lock (&self->lock);
    if (self->file != NULL)
      handled = hangout_transfer_sender_handle_answer (self->file, member,
          &control, &state, &error);
    /* finish() waits for what the handlers of this answer do, not only for
     * the answer. */
    if (handled)
      self->answers_to_emit++;
    g_mutex_unlock (&self->lock);
  }
  if (!handled) {
    GST_DEBUG_OBJECT (self, "ignoring a message from %s: %s", member,
        error ? error->message : "not an answer to our file");
    hangout_transfer_control_clear (&control);
    return;
  }

  GST_INFO_OBJECT (self, "%s answered: state %d", member, state);
  g_signal_emit (self, signals[SIGNAL_ANSWER], 0, member, (guint) state,
      control.sha256, control.reason);
  hangout_transfer_control_clear (&control);
  g_mutex_lock (&self->lock);
  self->answers_to_emit--;
  g_cond_broadcast (&self->cond);
  g_mutex_unlock (&self->lock);
}

static void
on_buffered_amount_low (HangoutDataChannel *channel, HangoutShareSender *self)
{
  g_mutex_lock (&self->lock);
  self->low_events++;
  g_cond_broadcast (&self->cond);
  g_mutex_unlock (&self->lock);
}

/* ---- waiting (sending thread) ---- */

static void
on_cancelled (GCancellable *cancellable, HangoutShareSender *self)
{
  g_mutex_lock (&self->lock);
  g_cond_broadcast (&self->cond);
  g_mutex_unlock (&self->lock);
}

/* Connects @cancellable to the condition before a blocking call takes the
 * lock (its handler takes the lock). */
static gulong
watch_cancellable (HangoutShareSender *self, GCancellable *cancellable)
{
  return cancellable ? g_cancellable_connect (cancellable,
      G_CALLBACK (on_cancelled), self, NULL) : 0;
}

/* After the lock is released: the handler may be running. */
static void
unwatch_cancellable (GCancellable *cancellable, gulong handler)
{
  if (handler != 0)
    g_cancellable_disconnect (cancellable, handler);
}

/* Waits until @count members are connected. Called with the lock. */
static gboolean
wait_for_members_locked (HangoutShareSender *self, guint count,
    guint timeout_s, GCancellable *cancellable, GError **error)
{
  gint64 deadline = g_get_monotonic_time () + timeout_s * G_USEC_PER_SEC;

  while (g_hash_table_size (self->connected) < count) {
    if (g_cancellable_set_error_if_cancelled (cancellable, error))
      return FALSE;
    if (!g_cond_wait_until (&self->cond, &self->lock, deadline)
        && g_get_monotonic_time () >= deadline
        && g_hash_table_size (self->connected) < count) {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT,
          "only %u of %u members connected within %u s",
          g_hash_table_size (self->connected), count, timeout_s);
      return FALSE;
    }
  }
  return TRUE;
}

/* Waits while any pending recipient's channel holds more than the window.
 * Called with the lock. */
static gboolean
wait_for_window_locked (HangoutShareSender *self, GCancellable *cancellable,
    GError **error)
{
  for (;;) {
    GHashTableIter iter;
    gpointer key, value;
    gboolean full = FALSE;
    guint64 seen;

    if (g_cancellable_set_error_if_cancelled (cancellable, error))
      return FALSE;
    /* Read the counter before the amounts: a drain after this point bumps
     * it (under the lock, so only once we wait) and the wait returns. */
    seen = self->low_events;
    g_hash_table_iter_init (&iter, self->recipients);
    while (!full && g_hash_table_iter_next (&iter, &key, &value)) {
      Recipient *recipient = value;

      full = hangout_transfer_sender_get_state (self->file, key)
          == HANGOUT_TRANSFER_RECIPIENT_PENDING
          && hangout_data_channel_get_buffered_amount (recipient->channel)
          > HANGOUT_SHARE_WINDOW;
    }
    if (!full)
      return TRUE;
    while (seen == self->low_events
        && !g_cancellable_is_cancelled (cancellable))
      /* The bound only guards against a channel that closes without a
       * last "buffered-amount-low"; member-left wakes us too. */
      if (!g_cond_wait_until (&self->cond, &self->lock,
              g_get_monotonic_time () + G_USEC_PER_SEC))
        break;
  }
}

/* Bytes still on their way to the recipients that have not answered yet:
 * queued above SCTP or not acknowledged by the member's SCTP. Called with
 * the lock. */
static guint64
pending_backlog (HangoutShareSender *self)
{
  GHashTableIter iter;
  gpointer key, value;
  guint64 bytes = 0;

  g_hash_table_iter_init (&iter, self->recipients);
  while (g_hash_table_iter_next (&iter, &key, &value)) {
    Recipient *recipient = value;

    if (hangout_transfer_sender_get_state (self->file, key)
        == HANGOUT_TRANSFER_RECIPIENT_PENDING)
      bytes += hangout_data_channel_get_buffered_amount (recipient->channel)
          + hangout_data_channel_get_unacknowledged (recipient->channel);
  }
  return bytes;
}

/* Sends @text or @data to every recipient still expecting the file. Called
 * without the lock. */
static void
send_to_recipients (HangoutShareSender *self, const gchar *text, GBytes *data)
{
  g_auto (GStrv) members = NULL;

  g_mutex_lock (&self->lock);
  members = hangout_transfer_sender_list (self->file,
      HANGOUT_TRANSFER_RECIPIENT_PENDING);
  g_mutex_unlock (&self->lock);

  for (guint i = 0; members[i] != NULL; i++) {
    g_autoptr (GError) error = NULL;
    gboolean sent = text ? hangout_room_send_string (self->room, members[i],
        text, &error) : hangout_room_send (self->room, members[i], data,
        &error);

    /* A member that is going away fails here before "member-left" says
     * so. */
    if (!sent)
      GST_DEBUG_OBJECT (self, "could not send to %s: %s", members[i],
          error->message);
  }
}

/* Sends one data message once every recipient has room for it; the
 * caller watches @cancellable. */
static gboolean
send_data (HangoutShareSender *self, GBytes *message,
    GCancellable *cancellable, GError **error)
{
  gboolean ok;

  g_mutex_lock (&self->lock);
  ok = wait_for_window_locked (self, cancellable, error);
  g_mutex_unlock (&self->lock);
  if (ok)
    send_to_recipients (self, NULL, message);
  return ok;
}

/* ---- public ---- */

HangoutShareSender *
hangout_share_sender_new (HangoutRoom *room, const gchar *decline_reason)
{
  g_return_val_if_fail (HANGOUT_IS_ROOM (room), NULL);
  /* A NULL reason leaves the default. */
  return g_object_new (HANGOUT_TYPE_SHARE_SENDER, "room", room,
      decline_reason ? "decline-reason" : NULL, decline_reason, NULL);
}

HangoutRoom *
hangout_share_sender_get_room (HangoutShareSender *self)
{
  return self->room;
}

guint
hangout_share_sender_count_connected (HangoutShareSender *self)
{
  guint count;

  g_mutex_lock (&self->lock);
  count = g_hash_table_size (self->connected);
  g_mutex_unlock (&self->lock);
  return count;
}

gboolean
hangout_share_sender_wait_for_members (HangoutShareSender *self, guint count,
    guint timeout_s, GCancellable *cancellable, GError **error)
{
  gulong watch = watch_cancellable (self, cancellable);
  gboolean ok;

  g_mutex_lock (&self->lock);
  ok = wait_for_members_locked (self, count, timeout_s, cancellable, error);
  g_mutex_unlock (&self->lock);
  unwatch_cancellable (cancellable, watch);
  return ok;
}

gboolean
hangout_share_sender_begin (HangoutShareSender *self, const gchar *name,
    gint64 size, const gchar *mime, GError **error)
{
  g_autofree gchar *offer = NULL;
  HangoutTransferSender *file;
  GHashTableIter iter;
  gpointer key;
  guint chunk_size;

  g_mutex_lock (&self->lock);
  chunk_size = self->chunk_size;
  if (self->file != NULL) {
    g_mutex_unlock (&self->lock);
    g_set_error (error, HANGOUT_ERROR, HANGOUT_ERROR_INVALID_STATE,
        "a file is being shared already");
    return FALSE;
  }
  g_mutex_unlock (&self->lock);
  file = hangout_transfer_sender_new (name, size, mime, chunk_size, error);
  if (file == NULL)
    return FALSE;

  g_mutex_lock (&self->lock);
  g_hash_table_iter_init (&iter, self->connected);
  while (g_hash_table_iter_next (&iter, &key, NULL)) {
    HangoutDataChannel *channel = hangout_room_get_channel (self->room, key);
    Recipient *recipient;

    if (channel == NULL)
      continue;
    if (hangout_data_channel_get_max_message_size (channel) < chunk_size) {
      GST_WARNING_OBJECT (self, "member %s accepts messages of at most %"
          G_GSIZE_FORMAT " bytes, less than chunk-size %u: not sent the file",
          (const gchar *) key,
          hangout_data_channel_get_max_message_size (channel), chunk_size);
      g_object_unref (channel);
      continue;
    }
    hangout_data_channel_set_buffered_amount_low_threshold (channel,
        LOW_THRESHOLD);
    recipient = g_new0 (Recipient, 1);
    recipient->channel = channel;
    recipient->handler = g_signal_connect (channel, "buffered-amount-low",
        G_CALLBACK (on_buffered_amount_low), self);
    g_hash_table_insert (self->recipients, g_strdup (key), recipient);
    hangout_transfer_sender_add_recipient (file, key);
  }
  self->file = file;
  offer = hangout_transfer_sender_build_offer (file);
  GST_INFO_OBJECT (self, "offering %s (%" G_GINT64_FORMAT " bytes) to %u "
      "members", name, size, g_hash_table_size (self->recipients));
  g_mutex_unlock (&self->lock);

  send_to_recipients (self, offer, NULL);
  return TRUE;
}

gboolean
hangout_share_sender_has_file (HangoutShareSender *self)
{
  gboolean has;

  g_mutex_lock (&self->lock);
  has = self->file != NULL;
  g_mutex_unlock (&self->lock);
  return has;
}

guint64
hangout_share_sender_get_offset (HangoutShareSender *self)
{
  guint64 offset;

  g_mutex_lock (&self->lock);
  offset = self->file ? hangout_transfer_sender_get_offset (self->file) : 0;
  g_mutex_unlock (&self->lock);
  return offset;
}

gboolean
hangout_share_sender_write (HangoutShareSender *self, const guint8 *data,
    gsize len, GCancellable *cancellable, GError **error)
{
  g_autoptr (GPtrArray) messages = NULL;
  g_autoptr (GError) local = NULL;
  gboolean ok = TRUE;
  gulong watch;

  g_return_val_if_fail (self->file != NULL, FALSE);
  /* The file is only replaced by this thread; its recipient table is what
   * the network thread touches, under the lock. */
  g_mutex_lock (&self->lock);
  messages = hangout_transfer_sender_write (self->file, data, len, &local);
  g_mutex_unlock (&self->lock);
  if (local != NULL) {
    g_propagate_error (error, g_steal_pointer (&local));
    return FALSE;
  }
  if (messages == NULL)
    return TRUE;
  /* Once per write, not per chunk: connecting takes GCancellable's lock. */
  watch = watch_cancellable (self, cancellable);
  for (guint i = 0; ok && i < messages->len; i++)
    ok = send_data (self, g_ptr_array_index (messages, i), cancellable,
        error);
  unwatch_cancellable (cancellable, watch);
  return ok;
}

static void
add_members (HangoutShareSender *self, GstStructure *summary,
    const gchar *field, HangoutTransferRecipientState state)
{
  g_auto (GStrv) members = hangout_transfer_sender_list (self->file, state);
  GValue array = G_VALUE_INIT;

  gst_value_array_init (&array, g_strv_length (members));
  for (guint i = 0; members[i] != NULL; i++) {
    GValue id = G_VALUE_INIT;

    g_value_init (&id, G_TYPE_STRING);
    g_value_set_string (&id, members[i]);
    gst_value_array_append_and_take_value (&array, &id);
  }
  gst_structure_take_value (summary, field, &array);
}

/* Who has the file and who does not, by member id. Called with the lock. */
static GstStructure *
build_summary (HangoutShareSender *self)
{
  GstStructure *summary = gst_structure_new ("hangout-summary",
      "id", G_TYPE_STRING, hangout_transfer_sender_get_id (self->file),
      "size", G_TYPE_UINT64, hangout_transfer_sender_get_offset (self->file),
      NULL);

  add_members (self, summary, "complete", HANGOUT_TRANSFER_RECIPIENT_OK);
  add_members (self, summary, "failed", HANGOUT_TRANSFER_RECIPIENT_FAILED);
  add_members (self, summary, "rejected", HANGOUT_TRANSFER_RECIPIENT_REJECTED);
  add_members (self, summary, "left", HANGOUT_TRANSFER_RECIPIENT_LEFT);
  add_members (self, summary, "no-answer", HANGOUT_TRANSFER_RECIPIENT_PENDING);
  return summary;
}

/* Waits for every pending recipient's answer, the clock restarting
 * whenever the data still on its way to them drains: on a slow link (or
 * to a slow receiver) the end leaves long after it was queued. Called
 * with the lock. */
static gboolean
wait_for_answers_locked (HangoutShareSender *self, guint timeout_s,
    GCancellable *cancellable, GError **error)
{
  guint64 backlog = pending_backlog (self);
  gint64 deadline = g_get_monotonic_time () + timeout_s * G_USEC_PER_SEC;

  while (hangout_transfer_sender_count (self->file,
          HANGOUT_TRANSFER_RECIPIENT_PENDING) > 0
      || self->answers_to_emit > 0) {
    gint64 now = g_get_monotonic_time ();
    guint64 current;

    if (g_cancellable_set_error_if_cancelled (cancellable, error))
      return FALSE;
    if (now >= deadline)
      break;
    g_cond_wait_until (&self->cond, &self->lock,
        MIN (deadline, now + BACKLOG_POLL_US));
    current = pending_backlog (self);
    if (current < backlog)
      deadline = g_get_monotonic_time () + timeout_s * G_USEC_PER_SEC;
    backlog = current;
  }
  return !g_cancellable_set_error_if_cancelled (cancellable, error);
}

gboolean
hangout_share_sender_finish (HangoutShareSender *self,
    GCancellable *cancellable, GstStructure **summary, GError **error)
{
  g_autoptr (GBytes) last = NULL;
  g_autofree gchar *end = NULL;
  GstStructure *result;
  gulong watch;
  guint ok, min_acks, timeout_s;
  gboolean answered;

  g_return_val_if_fail (self->file != NULL, FALSE);
  g_mutex_lock (&self->lock);
  end = hangout_transfer_sender_finish (self->file, &last, error);
  g_mutex_unlock (&self->lock);
  if (end == NULL)
    return FALSE;
  watch = watch_cancellable (self, cancellable);
  if (last != NULL && !send_data (self, last, cancellable, error)) {
    unwatch_cancellable (cancellable, watch);
    return FALSE;
  }
  send_to_recipients (self, end, NULL);

  g_mutex_lock (&self->lock);
  timeout_s = self->ack_timeout;
  min_acks = self->min_acks;
  answered = wait_for_answers_locked (self, timeout_s, cancellable, error);
  result = answered ? build_summary (self) : NULL;
  ok = hangout_transfer_sender_count (self->file,
      HANGOUT_TRANSFER_RECIPIENT_OK);
  g_mutex_unlock (&self->lock);
  unwatch_cancellable (cancellable, watch);
  if (!answered)
    return FALSE;

  GST_INFO_OBJECT (self, "file sent: %u members have it", ok);
  if (summary != NULL)
    *summary = result;
  else
    gst_structure_free (result);
  if (ok < min_acks) {
    g_set_error (error, HANGOUT_ERROR, HANGOUT_ERROR_INCOMPLETE,
        "only %u members have the whole file, %u needed (min-acks)", ok,
        min_acks);
    return FALSE;
  }
  return TRUE;
}

void
hangout_share_sender_end (HangoutShareSender *self)
{
  g_mutex_lock (&self->lock);
  g_hash_table_remove_all (self->recipients);
  g_clear_pointer (&self->file, hangout_transfer_sender_free);
  g_mutex_unlock (&self->lock);
}

static guint
count_members (const GstStructure *summary, const gchar *field)
{
  return gst_value_array_get_size (gst_structure_get_value (summary, field));
}

void
hangout_share_summary_count (const GstStructure *summary,
    HangoutShareCounts *counts)
{
  counts->complete = count_members (summary, "complete");
  counts->lost = count_members (summary, "failed")
      + count_members (summary, "left");
  counts->silent = count_members (summary, "no-answer");
}

/* ---- GObject ---- */

static void
hangout_share_sender_constructed (GObject *object)
{
  HangoutShareSender *self = HANGOUT_SHARE_SENDER (object);

  G_OBJECT_CLASS (hangout_share_sender_parent_class)->constructed (object);
  g_return_if_fail (self->room != NULL);
  self->room_handlers[0] = g_signal_connect (self->room, "peer-connected",
      G_CALLBACK (on_peer_connected), self);
  self->room_handlers[1] = g_signal_connect (self->room, "member-left",
      G_CALLBACK (on_member_left), self);
  self->room_handlers[2] = g_signal_connect (self->room, "message",
      G_CALLBACK (on_message), self);
}

static void
hangout_share_sender_dispose (GObject *object)
{
  HangoutShareSender *self = HANGOUT_SHARE_SENDER (object);

  if (self->room != NULL) {
    for (guint i = 0; i < G_N_ELEMENTS (self->room_handlers); i++)
      g_clear_signal_handler (&self->room_handlers[i], self->room);
    g_clear_object (&self->room);
  }
  hangout_share_sender_end (self);
  G_OBJECT_CLASS (hangout_share_sender_parent_class)->dispose (object);
}

static void
hangout_share_sender_finalize (GObject *object)
{
  HangoutShareSender *self = HANGOUT_SHARE_SENDER (object);

  g_hash_table_unref (self->recipients);
  g_hash_table_unref (self->connected);
  g_free (self->decline_reason);
  g_mutex_clear (&self->lock);
  g_cond_clear (&self->cond);
  G_OBJECT_CLASS (hangout_share_sender_parent_class)->finalize (object);
}

static void
hangout_share_sender_set_property (GObject *object, guint prop_id,
    const GValue *value, GParamSpec *pspec)
{
  HangoutShareSender *self = HANGOUT_SHARE_SENDER (object);

  g_mutex_lock (&self->lock);
  switch (prop_id) {
    case PROP_ROOM:
      self->room = g_value_dup_object (value);
      break;
    case PROP_CHUNK_SIZE:
      self->chunk_size = g_value_get_uint (value);
      break;
    case PROP_ACK_TIMEOUT:
      self->ack_timeout = g_value_get_uint (value);
      break;
    case PROP_MIN_ACKS:
      self->min_acks = g_value_get_uint (value);
      break;
    case PROP_DECLINE_REASON:
      g_free (self->decline_reason);
      self->decline_reason = g_value_dup_string (value);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
  g_mutex_unlock (&self->lock);
}

static void
hangout_share_sender_get_property (GObject *object, guint prop_id,
    GValue *value, GParamSpec *pspec)
{
  HangoutShareSender *self = HANGOUT_SHARE_SENDER (object);

  g_mutex_lock (&self->lock);
  switch (prop_id) {
    case PROP_ROOM:
      g_value_set_object (value, self->room);
      break;
    case PROP_CHUNK_SIZE:
      g_value_set_uint (value, self->chunk_size);
      break;
    case PROP_ACK_TIMEOUT:
      g_value_set_uint (value, self->ack_timeout);
      break;
    case PROP_MIN_ACKS:
      g_value_set_uint (value, self->min_acks);
      break;
    case PROP_DECLINE_REASON:
      g_value_set_string (value, self->decline_reason);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
  g_mutex_unlock (&self->lock);
}

static void
hangout_share_sender_init (HangoutShareSender *self)
{
  g_mutex_init (&self->lock);
  g_cond_init (&self->cond);
  self->chunk_size = HANGOUT_TRANSFER_DEFAULT_CHUNK_SIZE;
  self->ack_timeout = HANGOUT_SHARE_DEFAULT_ACK_TIMEOUT;
  self->min_acks = HANGOUT_SHARE_DEFAULT_MIN_ACKS;
  self->connected = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
      NULL);
  self->recipients = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
      (GDestroyNotify) recipient_free);
}

static void
hangout_share_sender_class_init (HangoutShareSenderClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  hangout_debug_init ();
  object_class->constructed = hangout_share_sender_constructed;
  object_class->dispose = hangout_share_sender_dispose;
  object_class->finalize = hangout_share_sender_finalize;
  object_class->set_property = hangout_share_sender_set_property;
  object_class->get_property = hangout_share_sender_get_property;

  properties[PROP_ROOM] = g_param_spec_object ("room", "Room",
      "The room whose members the files are shared with", HANGOUT_TYPE_ROOM,
      G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS);
  properties[PROP_CHUNK_SIZE] = g_param_spec_uint ("chunk-size",
      "Chunk size", "Bytes per data message, header included (read when a "
      "file begins)", HANGOUT_TRANSFER_MIN_CHUNK_SIZE,
      HANGOUT_TRANSFER_MAX_CHUNK_SIZE, HANGOUT_TRANSFER_DEFAULT_CHUNK_SIZE,
      G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS);
  properties[PROP_ACK_TIMEOUT] = g_param_spec_uint ("ack-timeout",
      "Acknowledgement timeout", "Seconds to wait for the answers at the "
      "end of a file, counted from the last progress of the data still on "
      "its way", 1, 24 * 3600, HANGOUT_SHARE_DEFAULT_ACK_TIMEOUT,
      G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS);
  properties[PROP_MIN_ACKS] = g_param_spec_uint ("min-acks",
      "Minimum acknowledgements", "Members that must have the whole file "
      "for it to succeed (0: never an error)", 0, G_MAXUINT,
      HANGOUT_SHARE_DEFAULT_MIN_ACKS,
      G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS);
  properties[PROP_DECLINE_REASON] = g_param_spec_string ("decline-reason",
      "Decline reason", "The reason of the reject that answers offers made "
      "to us", "this member only shares files",
      G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);

  signals[SIGNAL_ANSWER] = g_signal_new ("answer", G_TYPE_FROM_CLASS (klass),
      G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL, G_TYPE_NONE, 4, G_TYPE_STRING,
      G_TYPE_UINT, G_TYPE_STRING, G_TYPE_STRING);
  signals[SIGNAL_RECIPIENT_LEFT] = g_signal_new ("recipient-left",
      G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
      G_TYPE_NONE, 2, G_TYPE_STRING, G_TYPE_STRING);
}
