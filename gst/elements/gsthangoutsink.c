/* gst-hangout — hangoutsink: one stream is one file, shared with every
 * member of a room (docs/protocol.md §2).
 *
 * A GStreamer adapter over HangoutShareSender (include/hangout/share.h),
 * which decides who is offered the file, paces it and collects the acks:
 * here are the properties, the pad, the events and the bus messages.
 * render() and event() run in the streaming thread and block in the share
 * layer; unlock() cancels that, unlock_stop() makes it usable again. The
 * share layer's signals arrive on the room's network thread.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "gsthangoutsink.h"
#include "gsthangoutroomobject.h"
#include "gsthangoutspool.h"
#include <hangout/share.h>
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
 * What members receive is what a filesink would have written: a muxer
 * seeks back to rewrite its header (wavenc, mp4mux, matroskamux, …), so a
 * stream whose size upstream cannot tell and that is not live is held in a
 * temporary file (#GstHangoutSink:spool, in g_get_tmp_dir(): $TMPDIR or
 * /tmp) and offered at its end, with its size. A file (filesrc) and a live
 * stream are shared as they arrive.
 *
 * ## Example launch lines
 * |[
 * gst-launch-1.0 filesrc location=big.iso ! hangoutsink room=team server=ws://HOST:8080/ws
 * gst-launch-1.0 videotestsrc num-buffers=300 ! x264enc ! mp4mux ! hangoutsink room=team filename=test.mp4
 * ]|
 */

GST_DEBUG_CATEGORY_STATIC (gst_hangout_sink_debug);
#define GST_CAT_DEFAULT gst_hangout_sink_debug

#define DEFAULT_MIN_PEERS 1
#define DEFAULT_ACK_TIMEOUT HANGOUT_SHARE_DEFAULT_ACK_TIMEOUT
#define DEFAULT_MIN_ACKS HANGOUT_SHARE_DEFAULT_MIN_ACKS
#define DEFAULT_CHUNK_SIZE HANGOUT_TRANSFER_DEFAULT_CHUNK_SIZE

/* What a spooled file is read back in. */
#define SPOOL_READ_SIZE (256 * 1024)

enum {
  PROP_MIN_PEERS = GST_HANGOUT_ROOM_PROP_LAST,
  PROP_ACK_TIMEOUT,
  PROP_MIN_ACKS,
  PROP_CHUNK_SIZE,
  PROP_FILENAME,
  PROP_NEXT_FILE,
  PROP_SPOOL,
};

G_DEFINE_ENUM_TYPE (GstHangoutSinkNextFile, gst_hangout_sink_next_file,
    G_DEFINE_ENUM_VALUE (GST_HANGOUT_SINK_NEXT_FILE_STREAM, "stream"),
    G_DEFINE_ENUM_VALUE (GST_HANGOUT_SINK_NEXT_FILE_BUFFER, "buffer"))

G_DEFINE_ENUM_TYPE (GstHangoutSinkSpool, gst_hangout_sink_spool,
    G_DEFINE_ENUM_VALUE (GST_HANGOUT_SINK_SPOOL_AUTO, "auto"),
    G_DEFINE_ENUM_VALUE (GST_HANGOUT_SINK_SPOOL_NEVER, "never"))

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
  GstHangoutSinkSpool spool_mode;

  HangoutShareSender *share;    /* from start() to stop() */
  GCancellable *cancellable;    /* cancelled by unlock() */
  guint files;                  /* files ended since start (streaming thread) */
  /* The current file (streaming thread): where it began in upstream's
   * bytes (concat counts on from the stream before), and the spool that
   * holds it when it is offered at its end. */
  guint64 start;
  GstHangoutSpool *spool;
  /* This stream rewrote bytes already sent: its file was dropped, and the
   * rest of the stream is refused rather than shared as a file. */
  gboolean damaged;
};

G_DEFINE_TYPE (GstHangoutSink, gst_hangout_sink, GST_TYPE_BASE_SINK);
GST_ELEMENT_REGISTER_DEFINE_WITH_CODE (hangoutsink, "hangoutsink",
    GST_RANK_NONE, GST_TYPE_HANGOUT_SINK,
    GST_DEBUG_CATEGORY_INIT (gst_hangout_sink_debug, "hangoutsink", 0,
        "hangout room sink"));

static GstStaticPadTemplate sink_template = GST_STATIC_PAD_TEMPLATE ("sink",
    GST_PAD_SINK, GST_PAD_ALWAYS, GST_STATIC_CAPS_ANY);

/* ---- the share layer's signals (network thread) ---- */

static void
on_answer (HangoutShareSender *share, const gchar *member, guint state,
    const gchar *sha256, const gchar *reason, GstHangoutSink *sink)
{
  g_autofree gchar *who =
      gst_hangout_room_object_describe_member (sink->room_object, member);
  g_autofree gchar *name = NULL;

  if (state == HANGOUT_TRANSFER_RECIPIENT_REJECTED) {
    GST_INFO_OBJECT (sink, "%s declined the file: %s", who, reason);
    return;
  }
  name = gst_hangout_room_object_dup_member_name (sink->room_object, member);
  gst_element_post_message (GST_ELEMENT (sink),
      gst_message_new_element (GST_OBJECT (sink),
          gst_structure_new ("hangout-ack", "id", G_TYPE_STRING, member,
              "name", G_TYPE_STRING, name,
              "ok", G_TYPE_BOOLEAN, state == HANGOUT_TRANSFER_RECIPIENT_OK,
              "sha256", G_TYPE_STRING, sha256, NULL)));
  if (state == HANGOUT_TRANSFER_RECIPIENT_OK)
    GST_INFO_OBJECT (sink, "%s has the file", who);
  else
    GST_ELEMENT_WARNING (sink, RESOURCE, WRITE,
        ("Member %s did not receive the file intact", who),
        ("its SHA-256 is %s", sha256 ? sha256 : "unknown"));
}

static void
on_recipient_left (HangoutShareSender *share, const gchar *member,
    const gchar *failure, GstHangoutSink *sink)
{
  g_autofree gchar *who =
      gst_hangout_room_object_describe_member (sink->room_object, member);

  if (failure != NULL)
    GST_ELEMENT_WARNING (sink, RESOURCE, WRITE,
        ("The connection to member %s failed before it had the whole "
            "file: %s", who, failure), ("the others go on"));
  else
    GST_ELEMENT_WARNING (sink, RESOURCE, WRITE,
        ("Member %s left before it had the whole file", who),
        ("the others go on"));
}

/* ---- the streaming thread ---- */

/* A failed blocking call: cancelled by unlock() is FLUSHING, anything else
 * an error saying @what could not be done. */
static GstFlowReturn
flow_from_error (GstHangoutSink *sink, const GError *error, const gchar *what)
{
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return GST_FLOW_FLUSHING;
  GST_ELEMENT_ERROR (sink, STREAM, FAILED, ("%s", what), ("%s",
          error->message));
  return GST_FLOW_ERROR;
}

static void
post_progress (GstHangoutSink *sink, GstProgressType type, gboolean force)
{
  gst_hangout_room_object_post_progress (sink->room_object, type,
      "hangout-send", force, "sent %" G_GUINT64_FORMAT " bytes",
      hangout_share_sender_get_offset (sink->share));
}

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
  GstQuery *query;
  gboolean seekable = FALSE;
  gint64 size = -1;

  /* Queries answer for the whole stream: only its first file's size is
   * known (concat answers the first input's duration for the next). */
  if (sink->files > 0)
    return -1;
  query = gst_query_new_seeking (GST_FORMAT_BYTES);
  if (gst_pad_peer_query (pad, query))
    gst_query_parse_seeking (query, NULL, &seekable, NULL, NULL);
  gst_query_unref (query);
  if (!seekable || !gst_pad_peer_query_duration (pad, GST_FORMAT_BYTES, &size)
      || size < 0)
    return -1;
  return size;
}

/* Upstream is live: its stream is made as it goes, and is shared so. */
static gboolean
upstream_live (GstHangoutSink *sink)
{
  GstQuery *query = gst_query_new_latency ();
  gboolean live = FALSE;

  if (gst_pad_peer_query (GST_BASE_SINK_PAD (sink), query))
    gst_query_parse_latency (query, &live, NULL, NULL);
  gst_query_unref (query);
  return live;
}

/* Whether the next file, of @size (upstream_size()), is held in a spool
 * until its end: upstream may rewrite it (its size is unknown, it is not
 * live), and each buffer is not a file of its own. */
static gboolean
wants_spool (GstHangoutSink *sink, gint64 size)
{
  gboolean spool;

  GST_OBJECT_LOCK (sink);
  spool = sink->spool_mode == GST_HANGOUT_SINK_SPOOL_AUTO
      && sink->next_file == GST_HANGOUT_SINK_NEXT_FILE_STREAM;
  GST_OBJECT_UNLOCK (sink);
  return spool && size < 0 && !upstream_live (sink);
}

/* Waits until min-peers members are connected. */
static GstFlowReturn
wait_for_members (GstHangoutSink *sink)
{
  g_autoptr (GError) error = NULL;
  guint join_timeout =
      gst_hangout_room_object_get_join_timeout (sink->room_object);
  guint min_peers, chunk_size, ack_timeout, min_acks;
  g_autofree gchar *id = NULL;

  GST_OBJECT_LOCK (sink);
  min_peers = sink->min_peers;
  chunk_size = sink->chunk_size;
  ack_timeout = sink->ack_timeout;
  min_acks = sink->min_acks;
  GST_OBJECT_UNLOCK (sink);
  g_object_set (sink->share, "chunk-size", chunk_size, "ack-timeout",
      ack_timeout, "min-acks", min_acks, NULL);

  if (hangout_share_sender_wait_for_members (sink->share, min_peers,
          join_timeout, sink->cancellable, &error))
    return GST_FLOW_OK;
  if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT))
    return flow_from_error (sink, error, "Cannot send this file");
  id = hangout_room_dup_id (hangout_share_sender_get_room (sink->share));
  if (id == NULL)
    gst_hangout_room_object_post_join_error (sink->room_object,
        GST_RESOURCE_ERROR_OPEN_WRITE);
  else
    GST_ELEMENT_ERROR (sink, RESOURCE, OPEN_WRITE,
        ("Only %u of the %u members asked for (min-peers) connected "
            "within %u s (join-timeout)",
            hangout_share_sender_count_connected (sink->share), min_peers,
            join_timeout), ("joined as %s", id));
  return GST_FLOW_ERROR;
}

/* Offers the file, of @size bytes (-1: unknown), to the members connected. */
static GstFlowReturn
offer_file (GstHangoutSink *sink, gint64 size)
{
  g_autoptr (GError) error = NULL;
  g_autofree gchar *name = choose_filename (sink);

  if (!hangout_share_sender_begin (sink->share, name, size, NULL, &error)) {
    GST_ELEMENT_ERROR (sink, RESOURCE, SETTINGS, ("Cannot send this file"),
        ("%s", error->message));
    return GST_FLOW_ERROR;
  }
  post_progress (sink, GST_PROGRESS_TYPE_START, TRUE);
  return GST_FLOW_OK;
}

/* The first byte of a file: once the members are there, it is offered at
 * once, or held in a spool until its end. */
static GstFlowReturn
begin_file (GstHangoutSink *sink)
{
  g_autoptr (GError) error = NULL;
  GstFlowReturn ret;
  gint64 size;

  if ((ret = wait_for_members (sink)) != GST_FLOW_OK)
    return ret;
  size = upstream_size (sink);
  if (!wants_spool (sink, size))
    return offer_file (sink, size);
  sink->spool = gst_hangout_spool_new (sink->start, &error);
  if (sink->spool == NULL) {
    GST_ELEMENT_ERROR (sink, RESOURCE, OPEN_WRITE,
        ("Cannot hold this file until its end (spool)"), ("%s",
            error->message));
    return GST_FLOW_ERROR;
  }
  GST_INFO_OBJECT (sink, "upstream may rewrite this file: holding it until "
      "its end");
  return GST_FLOW_OK;
}

static GstFlowReturn
write_file (GstHangoutSink *sink, const guint8 *data, gsize len)
{
  g_autoptr (GError) error = NULL;

  if (sink->spool == NULL) {
    if (!hangout_share_sender_write (sink->share, data, len,
            sink->cancellable, &error))
      return flow_from_error (sink, error, "Cannot send this file");
    post_progress (sink, GST_PROGRESS_TYPE_CONTINUE, FALSE);
  } else if (!gst_hangout_spool_write (sink->spool, data, len, &error)) {
    GST_ELEMENT_ERROR (sink, RESOURCE, WRITE,
        ("Cannot hold this file until its end (spool)"), ("%s",
            error->message));
    return GST_FLOW_ERROR;
  }
  return GST_FLOW_OK;
}

/* The spooled file is complete: offered with its size, and sent. */
static GstFlowReturn
send_spool (GstHangoutSink *sink)
{
  g_autoptr (GstHangoutSpool) spool = g_steal_pointer (&sink->spool);
  g_autofree guint8 *data = g_malloc (SPOOL_READ_SIZE);
  guint64 size = gst_hangout_spool_get_size (spool);
  GstFlowReturn ret;

  GST_INFO_OBJECT (sink, "the file is complete (%" G_GUINT64_FORMAT
      " bytes): offering it", size);
  if ((ret = wait_for_members (sink)) != GST_FLOW_OK
      || (ret = offer_file (sink, size)) != GST_FLOW_OK)
    return ret;
  for (guint64 offset = 0; offset < size;) {
    g_autoptr (GError) error = NULL;
    g_autoptr (GError) send_error = NULL;
    gssize n = gst_hangout_spool_read (spool, offset, data, SPOOL_READ_SIZE,
        &error);

    if (n <= 0) {
      GST_ELEMENT_ERROR (sink, RESOURCE, READ,
          ("Cannot read back the file held until its end (spool)"), ("%s",
              error ? error->message : "it is shorter than written"));
      return GST_FLOW_ERROR;
    }
    if (!hangout_share_sender_write (sink->share, data, n, sink->cancellable,
            &send_error))
      return flow_from_error (sink, send_error, "Cannot send this file");
    post_progress (sink, GST_PROGRESS_TYPE_CONTINUE, FALSE);
    offset += n;
  }
  return GST_FLOW_OK;
}

/* A byte segment moves where upstream writes next (filesink seeks there):
 * into a spool that is fine; bytes already sent cannot be taken back. */
static gboolean
follow_segment (GstHangoutSink *sink, const GstSegment *segment)
{
  guint64 sent;

  if (segment->format != GST_FORMAT_BYTES)
    return TRUE;
  if (sink->spool != NULL)
    return gst_hangout_spool_seek (sink->spool, segment->start);
  if (!hangout_share_sender_has_file (sink->share)) {
    sink->start = segment->start;
    return TRUE;
  }
  sent = hangout_share_sender_get_offset (sink->share);
  if (segment->start == sink->start + sent)
    return TRUE;
  GST_ELEMENT_ERROR (sink, STREAM, FAILED,
      ("Upstream moves to byte %" G_GINT64_FORMAT " of this file after "
          "%" G_GUINT64_FORMAT " bytes were sent, which members cannot "
          "follow", (gint64) (segment->start - sink->start), sent),
      ("a stream of a known size or live is shared as it arrives; "
          "spool=auto holds other streams until their end"));
  /* Never an end for it: no member may take it for complete. */
  hangout_share_sender_end (sink->share);
  sink->damaged = TRUE;
  return FALSE;
}

/* The file has been shared: the next buffer begins another. */
static void
end_file (GstHangoutSink *sink)
{
  hangout_share_sender_end (sink->share);
  sink->files++;
  sink->start = 0;
}

static guint
count_members (const GstStructure *summary, const gchar *field)
{
  return gst_value_array_get_size (gst_structure_get_value (summary, field));
}

/* The end of a file: the share layer sends the end and waits for the
 * answers; the summary is posted before the EOS that follows. */
static GstFlowReturn
finish_file (GstHangoutSink *sink)
{
  g_autoptr (GError) error = NULL;
  GstStructure *summary = NULL;
  GstFlowReturn ret = GST_FLOW_OK;
  guint ok, lost, silent, ack_timeout, min_acks;
  gboolean enough;

  /* An empty stream is an empty file. */
  if (!hangout_share_sender_has_file (sink->share) && sink->spool == NULL
      && (ret = begin_file (sink)) != GST_FLOW_OK)
    return ret;
  if (sink->spool != NULL && (ret = send_spool (sink)) != GST_FLOW_OK)
    return ret;
  enough = hangout_share_sender_finish (sink->share, sink->cancellable,
      &summary, &error);
  if (summary == NULL)
    return flow_from_error (sink, error, "Cannot finish this file");

  GST_OBJECT_LOCK (sink);
  ack_timeout = sink->ack_timeout;
  min_acks = sink->min_acks;
  GST_OBJECT_UNLOCK (sink);
  ok = count_members (summary, "complete");
  lost = count_members (summary, "failed") + count_members (summary, "left");
  silent = count_members (summary, "no-answer");
  gst_element_post_message (GST_ELEMENT (sink),
      gst_message_new_element (GST_OBJECT (sink), summary));
  if (silent > 0)
    GST_ELEMENT_WARNING (sink, RESOURCE, WRITE,
        ("%u members did not acknowledge the file within %u s of receiving "
            "it (ack-timeout)", silent, ack_timeout), (NULL));
  GST_INFO_OBJECT (sink, "file sent: %u members have it, %u failed or left, "
      "%u did not answer", ok, lost, silent);
  if (!enough) {
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

/* ---- GstBaseSink ---- */

static void
connect_room (HangoutRoom *room, gpointer data)
{
  GstHangoutSink *sink = data;

  sink->share = hangout_share_sender_new (room,
      "this member only shares files (hangoutsink)");
  g_signal_connect (sink->share, "answer", G_CALLBACK (on_answer), sink);
  g_signal_connect (sink->share, "recipient-left",
      G_CALLBACK (on_recipient_left), sink);
}

static gboolean
gst_hangout_sink_start (GstBaseSink *bsink)
{
  GstHangoutSink *sink = GST_HANGOUT_SINK (bsink);

  sink->files = 0;
  sink->damaged = FALSE;
  g_cancellable_reset (sink->cancellable);
  if (gst_hangout_room_object_start (sink->room_object,
          GST_RESOURCE_ERROR_OPEN_WRITE, connect_room, sink) != NULL)
    return TRUE;
  g_clear_object (&sink->share);
  return FALSE;
}

static gboolean
gst_hangout_sink_stop (GstBaseSink *bsink)
{
  GstHangoutSink *sink = GST_HANGOUT_SINK (bsink);

  /* After this no handler runs: the network thread is joined. */
  gst_hangout_room_object_stop (sink->room_object, sink);
  g_clear_object (&sink->share);
  g_clear_pointer (&sink->spool, gst_hangout_spool_free);
  sink->start = 0;
  return TRUE;
}

static gboolean
gst_hangout_sink_unlock (GstBaseSink *bsink)
{
  g_cancellable_cancel (GST_HANGOUT_SINK (bsink)->cancellable);
  return TRUE;
}

static gboolean
gst_hangout_sink_unlock_stop (GstBaseSink *bsink)
{
  g_cancellable_reset (GST_HANGOUT_SINK (bsink)->cancellable);
  return TRUE;
}

static GstFlowReturn
gst_hangout_sink_render (GstBaseSink *bsink, GstBuffer *buffer)
{
  GstHangoutSink *sink = GST_HANGOUT_SINK (bsink);
  GstHangoutSinkNextFile next_file;
  GstFlowReturn ret;
  GstMapInfo map;

  if (sink->damaged)
    return GST_FLOW_ERROR;
  if (!hangout_share_sender_has_file (sink->share) && sink->spool == NULL
      && (ret = begin_file (sink)) != GST_FLOW_OK)
    return ret;
  if (!gst_buffer_map (buffer, &map, GST_MAP_READ)) {
    GST_ELEMENT_ERROR (sink, RESOURCE, READ, ("Cannot read a buffer"), (NULL));
    return GST_FLOW_ERROR;
  }
  ret = write_file (sink, map.data, map.size);
  gst_buffer_unmap (buffer, &map);
  if (ret != GST_FLOW_OK)
    return ret;
  GST_OBJECT_LOCK (sink);
  next_file = sink->next_file;
  GST_OBJECT_UNLOCK (sink);
  if (next_file == GST_HANGOUT_SINK_NEXT_FILE_BUFFER
      && (ret = finish_file (sink)) != GST_FLOW_OK)
    return ret;
  if (next_file == GST_HANGOUT_SINK_NEXT_FILE_BUFFER)
    end_file (sink);
  return GST_FLOW_OK;
}

static gboolean
gst_hangout_sink_event (GstBaseSink *bsink, GstEvent *event)
{
  GstHangoutSink *sink = GST_HANGOUT_SINK (bsink);
  gboolean has_file = hangout_share_sender_has_file (sink->share)
      || sink->spool != NULL;
  const GstSegment *segment;
  gboolean ok = TRUE;

  switch (GST_EVENT_TYPE (event)) {
    case GST_EVENT_SEGMENT:
      gst_event_parse_segment (event, &segment);
      ok = follow_segment (sink, segment);
      break;
    case GST_EVENT_STREAM_START:
      /* Another stream: the one before was a file of its own. */
      if (has_file && (ok = finish_file (sink) == GST_FLOW_OK))
        end_file (sink);
      sink->damaged = FALSE;
      break;
    case GST_EVENT_EOS:
      /* A stream without a byte is an empty file, unless it ended one. */
      if (sink->damaged)
        ok = FALSE;
      else if (has_file || sink->files == 0)
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

/* A muxer asks whether it may seek back to rewrite what it wrote: it may
 * when the file is held until its end. Answering keeps the question from
 * reaching a filesink beside us (behind a tee), whose yes would be ours. */
static gboolean
gst_hangout_sink_query (GstBaseSink *bsink, GstQuery *query)
{
  GstHangoutSink *sink = GST_HANGOUT_SINK (bsink);
  GstFormat format;

  if (GST_QUERY_TYPE (query) != GST_QUERY_SEEKING)
    return GST_BASE_SINK_CLASS (gst_hangout_sink_parent_class)->query (bsink,
        query);
  gst_query_parse_seeking (query, &format, NULL, NULL, NULL);
  gst_query_set_seeking (query, format, format == GST_FORMAT_BYTES
      && (sink->spool != NULL || (!hangout_share_sender_has_file (sink->share)
              && wants_spool (sink, upstream_size (sink)))), 0, -1);
  return TRUE;
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
    case PROP_SPOOL:
      sink->spool_mode = g_value_get_enum (value);
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
    case PROP_SPOOL:
      g_value_set_enum (value, sink->spool_mode);
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
  g_object_unref (sink->cancellable);
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
  sink->cancellable = g_cancellable_new ();
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
  g_object_class_install_property (gobject_class, PROP_SPOOL,
      g_param_spec_enum ("spool", "Spool",
          "auto: a stream whose size upstream cannot tell and that is not "
          "live (a muxer's, which may seek back to rewrite its header) is "
          "held in a temporary file in $TMPDIR until its end, then offered "
          "with its size, so that members get exactly what a filesink "
          "would have written; never: share every byte as it arrives "
          "(upstream rewriting bytes already sent fails the file)",
          GST_TYPE_HANGOUT_SINK_SPOOL, GST_HANGOUT_SINK_SPOOL_AUTO,
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
  basesink_class->query = GST_DEBUG_FUNCPTR (gst_hangout_sink_query);
}
