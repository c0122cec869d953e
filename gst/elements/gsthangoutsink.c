/* gst-hangout — hangoutsink: one stream is one file, shared with every
 * member of a room (docs/protocol.md §2).
 *
 * Threads: render() and event() run in the streaming thread; the room's
 * signals arrive on its network thread. Everything they share lives under
 * `lock`; `cond` is broadcast on every change (a member connected or left,
 * an answer arrived, a channel drained, unlock()). Nothing is sent while
 * `lock` is held: a send may take the channel's locks, and the network
 * thread takes `lock` from handlers it runs while holding those.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "gsthangoutsink.h"
#include "gsthangoutroomobject.h"
#include <hangout/transfer.h>
#include <string.h>

/**
 * SECTION:element-hangoutsink
 * @title: hangoutsink
 *
 * Shares the stream it receives, as one file, with every member of a
 * hangout room.
 *
 * Element messages: `hangout-member-joined` (id, name, sas: the pair's
 * short authentication string, docs/protocol.md §3.4; transport: a
 * #GstStructure with the selected ICE pair's local-type, local-address,
 * remote-type, remote-address and transport, sctp-packet-size and dtls)
 * when a member is connected, `hangout-member-left` (id, name, and
 * failure, a string, when its connection failed rather than closed:
 * "ICE consent expired: …", "SCTP: the association was lost: …"),
 * `hangout-member-refused`
 * (id, name, reason, with a warning) for a member that did not prove
 * #GstHangoutSink:secret, `hangout-ack` (id, name, ok, sha256) per member
 * and file, and at the end of the file, before EOS, `hangout-summary` (id,
 * size, and arrays of member ids: complete, failed, rejected, left,
 * no-answer). Fewer than #GstHangoutSink:min-acks members in complete is
 * an error.
 *
 * docs/messages.md lists every message with its fields.
 *
 * ## Example launch line
 * |[
 * gst-launch-1.0 filesrc location=big.iso ! hangoutsink room=team server=ws://HOST:8080/ws
 * ]|
 */

GST_DEBUG_CATEGORY_STATIC (gst_hangout_sink_debug);
#define GST_CAT_DEFAULT gst_hangout_sink_debug

#define DEFAULT_MIN_PEERS 1
#define DEFAULT_ACK_TIMEOUT 30
#define DEFAULT_MIN_ACKS 1
#define DEFAULT_CHUNK_SIZE HANGOUT_TRANSFER_DEFAULT_CHUNK_SIZE

/* At most this much may wait in a member's channel above SCTP (whose own
 * send buffer adds 1 MiB): memory per member stays bounded whatever the
 * file size, and the slowest member paces the sender. */
#define WINDOW (1024 * 1024)
#define LOW_THRESHOLD (WINDOW / 2)
/* Between progress messages. */
#define PROGRESS_INTERVAL (G_USEC_PER_SEC / 2)
/* How often the wait for acks looks whether data still drains. */
#define BACKLOG_POLL_US G_USEC_PER_SEC

enum {
  PROP_MIN_PEERS = GST_HANGOUT_ROOM_PROP_LAST,
  PROP_ACK_TIMEOUT,
  PROP_MIN_ACKS,
  PROP_CHUNK_SIZE,
  PROP_FILENAME,
  PROP_NEXT_FILE,
};

G_DEFINE_ENUM_TYPE (GstHangoutSinkNextFile, gst_hangout_sink_next_file,
    G_DEFINE_ENUM_VALUE (GST_HANGOUT_SINK_NEXT_FILE_STREAM, "stream"),
    G_DEFINE_ENUM_VALUE (GST_HANGOUT_SINK_NEXT_FILE_BUFFER, "buffer"))

typedef struct {
  HangoutDataChannel *channel;
  gulong handler;
} Recipient;

struct _GstHangoutSink {
  GstBaseSink parent;

  GstHangoutRoomObject *room_object;   /* room, server, … and joining */

  /* Properties, under the object lock. */
  guint min_peers;
  guint ack_timeout;
  guint min_acks;
  guint chunk_size;
  gchar *filename;
  GstHangoutSinkNextFile next_file;

  GMutex lock;
  GCond cond;
  HangoutRoom *room;
  GHashTable *connected;        /* member ids with an open channel */
  gchar *room_error;            /* the room's last "error", for messages */
  gboolean flushing;
  HangoutTransferSender *sender;        /* the file, from its first buffer */
  GHashTable *recipients;       /* member id → Recipient */
  guint64 low_events;           /* "buffered-amount-low" count */
  guint answers_to_post;        /* answers taken whose messages are not out */
  guint files;                  /* files ended since start (streaming thread) */
  gint64 last_progress;
};

G_DEFINE_TYPE (GstHangoutSink, gst_hangout_sink, GST_TYPE_BASE_SINK);
GST_ELEMENT_REGISTER_DEFINE_WITH_CODE (hangoutsink, "hangoutsink",
    GST_RANK_NONE, GST_TYPE_HANGOUT_SINK,
    GST_DEBUG_CATEGORY_INIT (gst_hangout_sink_debug, "hangoutsink", 0,
        "hangout room sink"));

static GstStaticPadTemplate sink_template = GST_STATIC_PAD_TEMPLATE ("sink",
    GST_PAD_SINK, GST_PAD_ALWAYS, GST_STATIC_CAPS_ANY);

static void
recipient_free (Recipient *recipient)
{
  g_signal_handler_disconnect (recipient->channel, recipient->handler);
  g_object_unref (recipient->channel);
  g_free (recipient);
}

static gchar *
dup_member_name (GstHangoutSink *sink, const gchar *member)
{
  return gst_hangout_room_object_dup_member_name (sink->room_object, member);
}

static gchar *
describe_member (GstHangoutSink *sink, const gchar *member)
{
  return gst_hangout_room_object_describe_member (sink->room_object, member);
}

/* ---- the room's signals (network thread) ---- */

static void
on_peer_connected (HangoutRoom *room, const gchar *member,
    GstHangoutSink *sink)
{
  g_autofree gchar *who = describe_member (sink, member);

  GST_INFO_OBJECT (sink, "member %s connected", who);
  g_mutex_lock (&sink->lock);
  g_hash_table_add (sink->connected, g_strdup (member));
  g_cond_broadcast (&sink->cond);
  g_mutex_unlock (&sink->lock);
}

static void
on_member_left (HangoutRoom *room, const gchar *member, const gchar *failure,
    GstHangoutSink *sink)
{
  gboolean mid_file;

  g_mutex_lock (&sink->lock);
  g_hash_table_remove (sink->connected, member);
  mid_file = sink->sender != NULL
      && hangout_transfer_sender_member_left (sink->sender, member);
  g_cond_broadcast (&sink->cond);
  g_mutex_unlock (&sink->lock);

  if (mid_file) {
    g_autofree gchar *who = describe_member (sink, member);

    if (failure != NULL)
      GST_ELEMENT_WARNING (sink, RESOURCE, WRITE,
          ("The connection to member %s failed before it had the whole "
              "file: %s", who, failure), ("the others go on"));
    else
      GST_ELEMENT_WARNING (sink, RESOURCE, WRITE,
          ("Member %s left before it had the whole file", who),
          ("the others go on"));
  }
}

static void
on_message (HangoutRoom *room, const gchar *member, gboolean is_string,
    GBytes *data, GstHangoutSink *sink)
{
  HangoutTransferControl control;
  HangoutTransferRecipientState state = HANGOUT_TRANSFER_RECIPIENT_PENDING;
  g_autoptr (GError) error = NULL;
  g_autofree gchar *who = NULL;
  gboolean handled = FALSE;
  const gchar *text;
  gsize len;

  if (!is_string) {
    GST_DEBUG_OBJECT (sink, "ignoring a data message from %s", member);
    return;
  }
  text = g_bytes_get_data (data, &len);
  if (!hangout_transfer_parse_control (text, len, &control, &error)) {
    GST_WARNING_OBJECT (sink, "bad message from %s: %s", member,
        error->message);
    return;
  }
  if (control.type == HANGOUT_TRANSFER_OFFER) {
    /* A sink only sends: say so at once, so that the offering member does
     * not wait for an acknowledgement from us until it times out. */
    g_autofree gchar *reject = hangout_transfer_build_reject (control.id,
        "this member only shares files (hangoutsink)");

    if (!hangout_room_send_reply (room, member, reject, &error))
      GST_DEBUG_OBJECT (sink, "could not reject an offer from %s: %s",
          member, error->message);
    hangout_transfer_control_clear (&control);
    return;
  }
  if (control.type == HANGOUT_TRANSFER_ACK
      || control.type == HANGOUT_TRANSFER_REJECT) {
    g_mutex_lock (&sink->lock);
    if (sink->sender != NULL)
      handled = hangout_transfer_sender_handle_answer (sink->sender, member,
          &control, &state, &error);
    /* EOS waits for what this answer posts, not only for the answer. */
    if (handled)
      sink->answers_to_post++;
    g_mutex_unlock (&sink->lock);
  }
  if (!handled) {
    GST_DEBUG_OBJECT (sink, "ignoring a message from %s: %s", member,
        error ? error->message : "not an answer to our file");
    hangout_transfer_control_clear (&control);
    return;
  }

  who = describe_member (sink, member);
  if (control.type == HANGOUT_TRANSFER_ACK) {
    g_autofree gchar *name = dup_member_name (sink, member);

    gst_element_post_message (GST_ELEMENT (sink),
        gst_message_new_element (GST_OBJECT (sink),
            gst_structure_new ("hangout-ack", "id", G_TYPE_STRING, member,
                "name", G_TYPE_STRING, name,
                "ok", G_TYPE_BOOLEAN,
                state == HANGOUT_TRANSFER_RECIPIENT_OK,
                "sha256", G_TYPE_STRING, control.sha256, NULL)));
    if (state == HANGOUT_TRANSFER_RECIPIENT_OK)
      GST_INFO_OBJECT (sink, "%s has the file", who);
    else
      GST_ELEMENT_WARNING (sink, RESOURCE, WRITE,
          ("Member %s did not receive the file intact", who),
          ("its SHA-256 is %s", control.sha256 ? control.sha256 : "unknown"));
  } else {
    GST_INFO_OBJECT (sink, "%s declined the file: %s", who, control.reason);
  }
  hangout_transfer_control_clear (&control);
  g_mutex_lock (&sink->lock);
  sink->answers_to_post--;
  g_cond_broadcast (&sink->cond);
  g_mutex_unlock (&sink->lock);
}

static void
on_room_error (HangoutRoom *room, GError *error, GstHangoutSink *sink)
{
  GST_WARNING_OBJECT (sink, "room: %s", error->message);
  g_mutex_lock (&sink->lock);
  g_free (sink->room_error);
  sink->room_error = g_strdup (error->message);
  g_cond_broadcast (&sink->cond);
  g_mutex_unlock (&sink->lock);
}

static void
on_buffered_amount_low (HangoutDataChannel *channel, GstHangoutSink *sink)
{
  g_mutex_lock (&sink->lock);
  sink->low_events++;
  g_cond_broadcast (&sink->cond);
  g_mutex_unlock (&sink->lock);
}

/* ---- helpers for the streaming thread ---- */

/* Waits until min-peers members are connected. Called with the lock. */
static GstFlowReturn
wait_for_peers (GstHangoutSink *sink, guint min_peers, guint timeout)
{
  gint64 deadline = g_get_monotonic_time () + timeout * G_USEC_PER_SEC;

  while (g_hash_table_size (sink->connected) < min_peers) {
    if (sink->flushing)
      return GST_FLOW_FLUSHING;
    if (!g_cond_wait_until (&sink->cond, &sink->lock, deadline)
        && g_get_monotonic_time () >= deadline
        && g_hash_table_size (sink->connected) < min_peers) {
      g_autofree gchar *id = hangout_room_dup_id (sink->room);
      guint connected = g_hash_table_size (sink->connected);

      g_mutex_unlock (&sink->lock);
      if (id == NULL)
        gst_hangout_room_object_post_join_error (sink->room_object,
            GST_RESOURCE_ERROR_OPEN_WRITE);
      else
        GST_ELEMENT_ERROR (sink, RESOURCE, OPEN_WRITE,
            ("Only %u of the %u members asked for (min-peers) connected "
                "within %u s (join-timeout)", connected, min_peers, timeout),
            ("joined as %s", id));
      g_mutex_lock (&sink->lock);
      return GST_FLOW_ERROR;
    }
  }
  return GST_FLOW_OK;
}

/* Waits while any recipient's channel holds more than WINDOW. Called with
 * the lock. */
static GstFlowReturn
wait_for_window (GstHangoutSink *sink)
{
  for (;;) {
    GHashTableIter iter;
    gpointer key, value;
    gboolean full = FALSE;
    guint64 seen;

    if (sink->flushing)
      return GST_FLOW_FLUSHING;
    /* Read the counter before the amounts: a drain after this point bumps
     * it (under the lock, so only once we wait) and the wait returns. */
    seen = sink->low_events;
    g_hash_table_iter_init (&iter, sink->recipients);
    while (!full && g_hash_table_iter_next (&iter, &key, &value)) {
      Recipient *recipient = value;

      full = hangout_transfer_sender_get_state (sink->sender, key)
          == HANGOUT_TRANSFER_RECIPIENT_PENDING
          && hangout_data_channel_get_buffered_amount (recipient->channel)
          > WINDOW;
    }
    if (!full)
      return GST_FLOW_OK;
    while (seen == sink->low_events && !sink->flushing)
      /* The bound only guards against a channel that closes without a
       * last "buffered-amount-low"; member-left wakes us too. */
      if (!g_cond_wait_until (&sink->cond, &sink->lock,
              g_get_monotonic_time () + G_USEC_PER_SEC))
        break;
  }
}

/* Bytes still on their way to the recipients that have not answered yet:
 * queued above SCTP or not acknowledged by the member's SCTP. Called with
 * the lock. */
static guint64
pending_backlog (GstHangoutSink *sink)
{
  GHashTableIter iter;
  gpointer key, value;
  guint64 bytes = 0;

  g_hash_table_iter_init (&iter, sink->recipients);
  while (g_hash_table_iter_next (&iter, &key, &value)) {
    Recipient *recipient = value;

    if (hangout_transfer_sender_get_state (sink->sender, key)
        == HANGOUT_TRANSFER_RECIPIENT_PENDING)
      bytes += hangout_data_channel_get_buffered_amount (recipient->channel)
          + hangout_data_channel_get_unacknowledged (recipient->channel);
  }
  return bytes;
}

/* Sends @text or @data to every recipient still expecting the file. Called
 * without the lock. */
static void
send_to_recipients (GstHangoutSink *sink, const gchar *text, GBytes *data)
{
  GStrv members;
  guint i;

  g_mutex_lock (&sink->lock);
  members = hangout_transfer_sender_list (sink->sender,
      HANGOUT_TRANSFER_RECIPIENT_PENDING);
  g_mutex_unlock (&sink->lock);

  for (i = 0; members[i] != NULL; i++) {
    g_autoptr (GError) error = NULL;
    gboolean sent = text ? hangout_room_send_string (sink->room, members[i],
        text, &error) : hangout_room_send (sink->room, members[i], data,
        &error);

    /* A member that is going away fails here before "member-left" says so;
     * that handler names it. */
    if (!sent)
      GST_DEBUG_OBJECT (sink, "could not send to %s: %s", members[i],
          error->message);
  }
  g_strfreev (members);
}

static void
post_progress (GstHangoutSink *sink, GstProgressType type, gboolean force)
{
  gint64 now = g_get_monotonic_time ();
  guint64 offset;
  gchar *text;

  if (!force && now - sink->last_progress < PROGRESS_INTERVAL)
    return;
  sink->last_progress = now;
  g_mutex_lock (&sink->lock);
  offset = hangout_transfer_sender_get_offset (sink->sender);
  g_mutex_unlock (&sink->lock);
  text = g_strdup_printf ("sent %" G_GUINT64_FORMAT " bytes", offset);
  gst_element_post_message (GST_ELEMENT (sink),
      gst_message_new_progress (GST_OBJECT (sink), type, "hangout-send",
          text));
  g_free (text);
}

/* The file's name: the property, else the basename of upstream's URI. */
/* The name of the file numbered @index of this stream (takes @name): a
 * "%d" (or "%05d") in it, as multifilesrc's and multifilesink's locations
 * have, becomes the number; otherwise files after the first get "-N"
 * before the extension. */
static gchar *
number_filename (gchar *name, guint index)
{
  const gchar *percent = strchr (name, '%');
  const gchar *end = percent;
  const gchar *dot;
  gchar *numbered;

  if (percent != NULL) {
    guint width = 0;

    for (end = percent + 1; g_ascii_isdigit (*end); end++)
      width = MIN (width * 10 + (guint) (*end - '0'), 20);
    if (*end == 'd' && strchr (end + 1, '%') == NULL) {
      numbered = g_strdup_printf ("%.*s%0*u%s", (int) (percent - name), name,
          (int) width, index, end + 1);
      g_free (name);
      return numbered;
    }
  }
  if (index == 0)
    return name;
  dot = strrchr (name, '.');
  if (dot == NULL || dot == name)
    dot = name + strlen (name);
  numbered = g_strdup_printf ("%.*s-%u%s", (int) (dot - name), name, index,
      dot);
  g_free (name);
  return numbered;
}

static gchar *
choose_filename (GstHangoutSink *sink)
{
  gchar *name = NULL;
  GstQuery *query;

  GST_OBJECT_LOCK (sink);
  name = g_strdup (sink->filename);
  GST_OBJECT_UNLOCK (sink);
  if (name != NULL && *name != '\0')
    return number_filename (name, sink->files);
  g_free (name);
  name = NULL;

  query = gst_query_new_uri ();
  if (gst_pad_peer_query (GST_BASE_SINK_PAD (sink), query)) {
    g_autofree gchar *uri = NULL;
    g_autoptr (GUri) parsed = NULL;

    gst_query_parse_uri (query, &uri);
    parsed = uri ? g_uri_parse (uri, G_URI_FLAGS_ENCODED, NULL) : NULL;
    if (parsed != NULL) {
      g_autofree gchar *path = g_uri_unescape_string (g_uri_get_path (parsed),
          NULL);

      if (path != NULL) {
        name = g_path_get_basename (path);
        if (g_str_equal (name, "/") || g_str_equal (name, ".")) {
          g_free (name);
          name = NULL;
        }
      }
    }
  }
  gst_query_unref (query);
  if (name == NULL) {
    g_autoptr (GDateTime) now = g_date_time_new_now_utc ();

    name = g_date_time_format (now, "hangout-%Y%m%d-%H%M%S.bin");
  }
  return number_filename (name, sink->files);
}

/* The file's size when upstream knows it for sure: a byte source that can
 * seek (a file). Others answer a duration too, an estimate from upstream's
 * bitrate (matroskamux: 3,456,000 bytes for 30 frames it writes in a few
 * KB), and announcing it would make every receiver fail the file; -1 then,
 * the protocol's null. */
static gint64
upstream_size (GstHangoutSink *sink)
{
  GstPad *pad = GST_BASE_SINK_PAD (sink);
  GstQuery *query = gst_query_new_seeking (GST_FORMAT_BYTES);
  gboolean seekable = FALSE;
  gint64 size = -1;

  if (gst_pad_peer_query (pad, query))
    gst_query_parse_seeking (query, NULL, &seekable, NULL, NULL);
  gst_query_unref (query);
  if (!seekable || !gst_pad_peer_query_duration (pad, GST_FORMAT_BYTES, &size)
      || size < 0)
    return -1;
  return size;
}

/* Waits for the members, then offers the file to those connected. */
static GstFlowReturn
begin_file (GstHangoutSink *sink)
{
  g_autoptr (GError) error = NULL;
  g_autofree gchar *name = choose_filename (sink);
  g_autofree gchar *offer = NULL;
  HangoutTransferSender *sender;
  gint64 size;
  guint min_peers, chunk_size;
  guint join_timeout =
      gst_hangout_room_object_get_join_timeout (sink->room_object);
  GHashTableIter iter;
  gpointer key;
  GstFlowReturn ret;

  GST_OBJECT_LOCK (sink);
  min_peers = sink->min_peers;
  chunk_size = sink->chunk_size;
  GST_OBJECT_UNLOCK (sink);

  /* Queries answer for the whole stream: only its first file's size is
   * known (concat answers the first input's duration for the next). */
  size = sink->files == 0 ? upstream_size (sink) : -1;
  sender = hangout_transfer_sender_new (name, size, NULL, chunk_size, &error);
  if (sender == NULL) {
    GST_ELEMENT_ERROR (sink, RESOURCE, SETTINGS, ("Cannot send this file"),
        ("%s", error->message));
    return GST_FLOW_ERROR;
  }

  g_mutex_lock (&sink->lock);
  ret = wait_for_peers (sink, min_peers, join_timeout);
  if (ret != GST_FLOW_OK) {
    g_mutex_unlock (&sink->lock);
    hangout_transfer_sender_free (sender);
    return ret;
  }
  /* Members that connect from now on are not sent this file (protocol
   * §2.4). */
  g_hash_table_iter_init (&iter, sink->connected);
  while (g_hash_table_iter_next (&iter, &key, NULL)) {
    HangoutDataChannel *channel = hangout_room_get_channel (sink->room, key);
    Recipient *recipient;

    if (channel == NULL)
      continue;
    if (hangout_data_channel_get_max_message_size (channel) < chunk_size) {
      GST_WARNING_OBJECT (sink, "member %s accepts messages of at most %"
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
        G_CALLBACK (on_buffered_amount_low), sink);
    g_hash_table_insert (sink->recipients, g_strdup (key), recipient);
    hangout_transfer_sender_add_recipient (sender, key);
  }
  sink->sender = sender;
  offer = hangout_transfer_sender_build_offer (sender);
  GST_INFO_OBJECT (sink, "offering %s (%" G_GINT64_FORMAT " bytes) to %u "
      "members", name, size, g_hash_table_size (sink->recipients));
  g_mutex_unlock (&sink->lock);

  send_to_recipients (sink, offer, NULL);
  post_progress (sink, GST_PROGRESS_TYPE_START, TRUE);
  return GST_FLOW_OK;
}

/* The file has been shared: the next buffer begins another. Streaming
 * thread. */
static void
end_file (GstHangoutSink *sink)
{
  g_mutex_lock (&sink->lock);
  g_hash_table_remove_all (sink->recipients);
  g_clear_pointer (&sink->sender, hangout_transfer_sender_free);
  g_mutex_unlock (&sink->lock);
  sink->files++;
}

/* Sends one data message once every recipient has room for it. */
static GstFlowReturn
send_data (GstHangoutSink *sink, GBytes *message)
{
  GstFlowReturn ret;

  g_mutex_lock (&sink->lock);
  ret = wait_for_window (sink);
  g_mutex_unlock (&sink->lock);
  if (ret == GST_FLOW_OK)
    send_to_recipients (sink, NULL, message);
  return ret;
}

/* ---- GstBaseSink ---- */

static void
connect_room (HangoutRoom *room, gpointer data)
{
  g_signal_connect (room, "peer-connected", G_CALLBACK (on_peer_connected),
      data);
  g_signal_connect (room, "member-left", G_CALLBACK (on_member_left), data);
  g_signal_connect (room, "message", G_CALLBACK (on_message), data);
  g_signal_connect (room, "error", G_CALLBACK (on_room_error), data);
}

static gboolean
gst_hangout_sink_start (GstBaseSink *bsink)
{
  GstHangoutSink *sink = GST_HANGOUT_SINK (bsink);

  sink->last_progress = 0;
  sink->files = 0;
  sink->room = gst_hangout_room_object_start (sink->room_object,
      GST_RESOURCE_ERROR_OPEN_WRITE, connect_room, sink);
  return sink->room != NULL;
}

static gboolean
gst_hangout_sink_stop (GstBaseSink *bsink)
{
  GstHangoutSink *sink = GST_HANGOUT_SINK (bsink);

  /* After this no handler runs: the network thread is joined. */
  gst_hangout_room_object_stop (sink->room_object, sink);
  sink->room = NULL;
  g_mutex_lock (&sink->lock);
  g_hash_table_remove_all (sink->recipients);
  g_hash_table_remove_all (sink->connected);
  g_clear_pointer (&sink->sender, hangout_transfer_sender_free);
  g_clear_pointer (&sink->room_error, g_free);
  g_mutex_unlock (&sink->lock);
  return TRUE;
}

/* unlock() and unlock_stop(): a waiting render/create returns FLUSHING. */
static void
set_flushing (GstHangoutSink *sink, gboolean flushing)
{
  g_mutex_lock (&sink->lock);
  sink->flushing = flushing;
  g_cond_broadcast (&sink->cond);
  g_mutex_unlock (&sink->lock);
}

static gboolean
gst_hangout_sink_unlock (GstBaseSink *bsink)
{
  set_flushing (GST_HANGOUT_SINK (bsink), TRUE);
  return TRUE;
}

static gboolean
gst_hangout_sink_unlock_stop (GstBaseSink *bsink)
{
  set_flushing (GST_HANGOUT_SINK (bsink), FALSE);
  return TRUE;
}

static GstFlowReturn finish_file (GstHangoutSink * sink);

static GstFlowReturn
gst_hangout_sink_render (GstBaseSink *bsink, GstBuffer *buffer)
{
  GstHangoutSink *sink = GST_HANGOUT_SINK (bsink);
  g_autoptr (GError) error = NULL;
  GPtrArray *messages;
  GstFlowReturn ret = GST_FLOW_OK;
  GstHangoutSinkNextFile next_file;
  GstMapInfo map;
  guint i;

  if (sink->sender == NULL && (ret = begin_file (sink)) != GST_FLOW_OK)
    return ret;

  if (!gst_buffer_map (buffer, &map, GST_MAP_READ)) {
    GST_ELEMENT_ERROR (sink, RESOURCE, READ, ("Cannot read a buffer"), (NULL));
    return GST_FLOW_ERROR;
  }
  /* The sender is only replaced in stop(), not concurrently with us; its
   * recipient table is what the network thread touches, under the lock. */
  g_mutex_lock (&sink->lock);
  messages = hangout_transfer_sender_write (sink->sender, map.data, map.size,
      &error);
  g_mutex_unlock (&sink->lock);
  gst_buffer_unmap (buffer, &map);
  if (error != NULL) {
    GST_ELEMENT_ERROR (sink, STREAM, FAILED, ("Cannot send this file"),
        ("%s", error->message));
    return GST_FLOW_ERROR;
  }
  for (i = 0; messages != NULL && i < messages->len && ret == GST_FLOW_OK; i++)
    ret = send_data (sink, g_ptr_array_index (messages, i));
  g_clear_pointer (&messages, g_ptr_array_unref);
  if (ret == GST_FLOW_OK)
    post_progress (sink, GST_PROGRESS_TYPE_CONTINUE, FALSE);
  GST_OBJECT_LOCK (sink);
  next_file = sink->next_file;
  GST_OBJECT_UNLOCK (sink);
  if (ret == GST_FLOW_OK && next_file == GST_HANGOUT_SINK_NEXT_FILE_BUFFER
      && (ret = finish_file (sink)) == GST_FLOW_OK)
    end_file (sink);
  return ret;
}

static void
add_members (GstHangoutSink *sink, GstStructure *summary, const gchar *field,
    HangoutTransferRecipientState state)
{
  g_auto (GStrv) members = hangout_transfer_sender_list (sink->sender, state);
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

/* "hangout-summary": who has the file and who does not, by member id.
 * Called with the lock. */
static GstStructure *
build_summary (GstHangoutSink *sink)
{
  GstStructure *summary = gst_structure_new ("hangout-summary",
      "id", G_TYPE_STRING, hangout_transfer_sender_get_id (sink->sender),
      "size", G_TYPE_UINT64, hangout_transfer_sender_get_offset (sink->sender),
      NULL);

  add_members (sink, summary, "complete", HANGOUT_TRANSFER_RECIPIENT_OK);
  add_members (sink, summary, "failed", HANGOUT_TRANSFER_RECIPIENT_FAILED);
  add_members (sink, summary, "rejected", HANGOUT_TRANSFER_RECIPIENT_REJECTED);
  add_members (sink, summary, "left", HANGOUT_TRANSFER_RECIPIENT_LEFT);
  add_members (sink, summary, "no-answer", HANGOUT_TRANSFER_RECIPIENT_PENDING);
  return summary;
}

/* EOS: the last chunk, the end with the digest, then wait for the acks. */
static GstFlowReturn
finish_file (GstHangoutSink *sink)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) last = NULL;
  g_autofree gchar *end = NULL;
  GstFlowReturn ret = GST_FLOW_OK;
  gint64 deadline;
  guint64 backlog;
  GstStructure *summary;
  guint timeout, ok, lost, silent, min_acks;

  if (sink->sender == NULL && (ret = begin_file (sink)) != GST_FLOW_OK)
    return ret;
  g_mutex_lock (&sink->lock);
  end = hangout_transfer_sender_finish (sink->sender, &last, &error);
  g_mutex_unlock (&sink->lock);
  if (end == NULL) {
    GST_ELEMENT_ERROR (sink, STREAM, FAILED, ("Cannot finish this file"),
        ("%s", error->message));
    return GST_FLOW_ERROR;
  }
  if (last != NULL && (ret = send_data (sink, last)) != GST_FLOW_OK)
    return ret;
  send_to_recipients (sink, end, NULL);

  GST_OBJECT_LOCK (sink);
  timeout = sink->ack_timeout;
  GST_OBJECT_UNLOCK (sink);
  /* The clock starts once what was sent has reached the members: on a slow
   * link (or to a slow receiver) `end` leaves long after it was queued, so
   * while the data still drains to them, the wait goes on. */
  g_mutex_lock (&sink->lock);
  backlog = pending_backlog (sink);
  deadline = g_get_monotonic_time () + timeout * G_USEC_PER_SEC;
  while ((hangout_transfer_sender_count (sink->sender,
              HANGOUT_TRANSFER_RECIPIENT_PENDING) > 0
          || sink->answers_to_post > 0) && !sink->flushing) {
    gint64 now = g_get_monotonic_time ();
    guint64 current;

    if (now >= deadline)
      break;
    g_cond_wait_until (&sink->cond, &sink->lock,
        MIN (deadline, now + BACKLOG_POLL_US));
    current = pending_backlog (sink);
    if (current < backlog)
      deadline = g_get_monotonic_time () + timeout * G_USEC_PER_SEC;
    backlog = current;
  }
  summary = build_summary (sink);
  ok = hangout_transfer_sender_count (sink->sender,
      HANGOUT_TRANSFER_RECIPIENT_OK);
  lost = hangout_transfer_sender_count (sink->sender,
      HANGOUT_TRANSFER_RECIPIENT_FAILED)
      + hangout_transfer_sender_count (sink->sender,
      HANGOUT_TRANSFER_RECIPIENT_LEFT);
  silent = hangout_transfer_sender_count (sink->sender,
      HANGOUT_TRANSFER_RECIPIENT_PENDING);
  if (sink->flushing)
    ret = GST_FLOW_FLUSHING;
  g_mutex_unlock (&sink->lock);
  if (ret != GST_FLOW_OK) {
    gst_structure_free (summary);
    return ret;
  }

  gst_element_post_message (GST_ELEMENT (sink),
      gst_message_new_element (GST_OBJECT (sink), summary));
  if (silent > 0)
    GST_ELEMENT_WARNING (sink, RESOURCE, WRITE,
        ("%u members did not acknowledge the file within %u s of receiving "
            "it (ack-timeout)", silent, timeout), (NULL));
  GST_OBJECT_LOCK (sink);
  min_acks = sink->min_acks;
  GST_OBJECT_UNLOCK (sink);
  GST_INFO_OBJECT (sink, "file sent: %u members have it, %u failed or left, "
      "%u did not answer", ok, lost, silent);
  if (ok < min_acks) {
    post_progress (sink, GST_PROGRESS_TYPE_ERROR, TRUE);
    GST_ELEMENT_ERROR (sink, RESOURCE, WRITE,
        ("Only %u members have the whole file, %u needed (min-acks)", ok,
            min_acks), ("%u failed or left, %u did not answer", lost,
            silent));
    return GST_FLOW_ERROR;
  }
  post_progress (sink, lost == 0 && silent == 0 ?
      GST_PROGRESS_TYPE_COMPLETE : GST_PROGRESS_TYPE_ERROR, TRUE);
  return GST_FLOW_OK;
}

static gboolean
gst_hangout_sink_event (GstBaseSink *bsink, GstEvent *event)
{
  GstHangoutSink *sink = GST_HANGOUT_SINK (bsink);

  gboolean ok = TRUE;

  switch (GST_EVENT_TYPE (event)) {
    case GST_EVENT_STREAM_START:
      /* Another stream: the one before was a file of its own. */
      if (sink->sender != NULL && (ok = finish_file (sink) == GST_FLOW_OK))
        end_file (sink);
      break;
    case GST_EVENT_EOS:
      /* A stream without a byte is an empty file, unless it ended one. */
      if (sink->sender != NULL || sink->files == 0)
        ok = finish_file (sink) == GST_FLOW_OK;
      break;
    default:
      break;
  }
  if (!ok) {
    gst_event_unref (event);
    return FALSE;
  }
  return GST_BASE_SINK_CLASS (gst_hangout_sink_parent_class)->event (bsink,
      event);
}

/* ---- GObject ---- */

static void
gst_hangout_sink_set_property (GObject *object, guint prop_id,
    const GValue *value, GParamSpec *pspec)
{
  GstHangoutSink *sink = GST_HANGOUT_SINK (object);

  if (gst_hangout_room_object_set_property (sink->room_object, prop_id,
          value))
    return;
  GST_OBJECT_LOCK (sink);
  switch (prop_id) {
    case PROP_MIN_PEERS:
      sink->min_peers = g_value_get_uint (value);
      break;
    case PROP_ACK_TIMEOUT:
      sink->ack_timeout = g_value_get_uint (value);
      break;
    case PROP_MIN_ACKS:
      sink->min_acks = g_value_get_uint (value);
      break;
    case PROP_CHUNK_SIZE:
      sink->chunk_size = g_value_get_uint (value);
      break;
    case PROP_FILENAME:
      g_free (sink->filename);
      sink->filename = g_value_dup_string (value);
      break;
    case PROP_NEXT_FILE:
      sink->next_file = g_value_get_enum (value);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
  GST_OBJECT_UNLOCK (sink);
}

static void
gst_hangout_sink_get_property (GObject *object, guint prop_id, GValue *value,
    GParamSpec *pspec)
{
  GstHangoutSink *sink = GST_HANGOUT_SINK (object);

  if (gst_hangout_room_object_get_property (sink->room_object, prop_id,
          value))
    return;
  GST_OBJECT_LOCK (sink);
  switch (prop_id) {
    case PROP_MIN_PEERS:
      g_value_set_uint (value, sink->min_peers);
      break;
    case PROP_ACK_TIMEOUT:
      g_value_set_uint (value, sink->ack_timeout);
      break;
    case PROP_MIN_ACKS:
      g_value_set_uint (value, sink->min_acks);
      break;
    case PROP_CHUNK_SIZE:
      g_value_set_uint (value, sink->chunk_size);
      break;
    case PROP_FILENAME:
      g_value_set_string (value, sink->filename);
      break;
    case PROP_NEXT_FILE:
      g_value_set_enum (value, sink->next_file);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
  GST_OBJECT_UNLOCK (sink);
}

static void
gst_hangout_sink_finalize (GObject *object)
{
  GstHangoutSink *sink = GST_HANGOUT_SINK (object);

  gst_hangout_room_object_free (sink->room_object);
  g_free (sink->filename);
  g_hash_table_unref (sink->recipients);
  g_hash_table_unref (sink->connected);
  g_mutex_clear (&sink->lock);
  g_cond_clear (&sink->cond);
  G_OBJECT_CLASS (gst_hangout_sink_parent_class)->finalize (object);
}

static void
gst_hangout_sink_init (GstHangoutSink *sink)
{
  sink->room_object = gst_hangout_room_object_new (GST_ELEMENT (sink));
  sink->min_peers = DEFAULT_MIN_PEERS;
  sink->ack_timeout = DEFAULT_ACK_TIMEOUT;
  sink->min_acks = DEFAULT_MIN_ACKS;
  sink->chunk_size = DEFAULT_CHUNK_SIZE;
  g_mutex_init (&sink->lock);
  g_cond_init (&sink->cond);
  sink->connected = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
      NULL);
  sink->recipients = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
      (GDestroyNotify) recipient_free);
  /* Files are not timed: render as soon as data arrives. */
  gst_base_sink_set_sync (GST_BASE_SINK (sink), FALSE);
}

#define PARAM_FLAGS (G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS \
    | GST_PARAM_MUTABLE_READY)

static void
gst_hangout_sink_class_init (GstHangoutSinkClass *klass)
{
  GObjectClass *gobject_class = G_OBJECT_CLASS (klass);
  GstElementClass *element_class = GST_ELEMENT_CLASS (klass);
  GstBaseSinkClass *basesink_class = GST_BASE_SINK_CLASS (klass);

  gobject_class->set_property = gst_hangout_sink_set_property;
  gobject_class->get_property = gst_hangout_sink_get_property;
  gobject_class->finalize = gst_hangout_sink_finalize;

  gst_hangout_room_object_install_properties (gobject_class,
      "Seconds to wait for min-peers members to connect before failing "
      "with an error (a signalling server that cannot be reached or "
      "refuses the join fails at once)");
  g_object_class_install_property (gobject_class, PROP_MIN_PEERS,
      g_param_spec_uint ("min-peers", "Minimum peers",
          "Wait until this many members are connected before sending; "
          "members that connect later are not sent this file", 1, 1024,
          DEFAULT_MIN_PEERS, PARAM_FLAGS));
  g_object_class_install_property (gobject_class, PROP_ACK_TIMEOUT,
      g_param_spec_uint ("ack-timeout", "Acknowledgement timeout",
          "Seconds to wait for each member's acknowledgement at the end of "
          "the file, counted from when everything sent to it has arrived "
          "(while data still drains to a member, the wait goes on); those "
          "that do not answer get a warning", 1, 24 * 3600,
          DEFAULT_ACK_TIMEOUT, PARAM_FLAGS));
  g_object_class_install_property (gobject_class, PROP_MIN_ACKS,
      g_param_spec_uint ("min-acks", "Minimum acknowledgements",
          "Members that must have the whole file (acknowledged, digest "
          "matching) for the file to succeed; fewer is an error at EOS, so "
          "a share that reached nobody does not look like a success (0: "
          "never an error)", 0, 1024, DEFAULT_MIN_ACKS, PARAM_FLAGS));
  g_object_class_install_property (gobject_class, PROP_CHUNK_SIZE,
      g_param_spec_uint ("chunk-size", "Chunk size",
          "Size in bytes of each data message, 25-byte header included; at "
          "most the members' max-message-size (65536 suits every browser)",
          HANGOUT_TRANSFER_MIN_CHUNK_SIZE, HANGOUT_TRANSFER_MAX_CHUNK_SIZE,
          DEFAULT_CHUNK_SIZE, PARAM_FLAGS));
  g_object_class_install_property (gobject_class, PROP_FILENAME,
      g_param_spec_string ("filename", "File name",
          "Name the file is announced with (NULL: the base name of the "
          "upstream URI, e.g. filesrc's location, else hangout-DATE.bin); "
          "with several files, a %d in it becomes the file's number (from "
          "0, as in multifilesrc's location), else the second and later get "
          "-N before the extension", NULL, PARAM_FLAGS));
  g_object_class_install_property (gobject_class, PROP_NEXT_FILE,
      g_param_spec_enum ("next-file", "Next file",
          "When to begin sharing another file: at each new stream (a "
          "stream-start event after the first) or at each buffer (a whole "
          "file each, as multifilesrc makes them)",
          GST_TYPE_HANGOUT_SINK_NEXT_FILE, GST_HANGOUT_SINK_NEXT_FILE_STREAM,
          PARAM_FLAGS));

  gst_element_class_add_static_pad_template (element_class, &sink_template);
  gst_element_class_set_static_metadata (element_class, "Hangout sink",
      "Sink/Network", "Shares a file with every member of a hangout room "
      "over WebRTC data channels", "gst-hangout developers");

  basesink_class->start = GST_DEBUG_FUNCPTR (gst_hangout_sink_start);
  basesink_class->stop = GST_DEBUG_FUNCPTR (gst_hangout_sink_stop);
  basesink_class->unlock = GST_DEBUG_FUNCPTR (gst_hangout_sink_unlock);
  basesink_class->unlock_stop =
      GST_DEBUG_FUNCPTR (gst_hangout_sink_unlock_stop);
  basesink_class->render = GST_DEBUG_FUNCPTR (gst_hangout_sink_render);
  basesink_class->event = GST_DEBUG_FUNCPTR (gst_hangout_sink_event);
}
