/* gst-hangout — hangoutsink: one stream is one file, shared with every
 * member of a room (docs/protocol.md §2).
 *
 * A GStreamer adapter over HangoutShareSender (include/hangout/share.h),
 * which decides who is offered the file, paces it and collects the acks,
 * and over GstHangoutUpstream (gsthangoutupstream.h), which knows the
 * stream: the files' names and sizes, the spool, the segments. Here are
 * the pad, the events, when a file begins and ends, and the bus messages
 * of its progress and summary; the properties are installed by the room,
 * share and upstream objects.
 * render() and event() run in the streaming thread and block in the share
 * layer; unlock() cancels that, unlock_stop() makes it usable again. The
 * share layer's signals arrive on the room's network thread.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "gsthangoutsink.h"
#include "gsthangoutroomobject.h"
#include "gsthangoutshareobject.h"
#include "gsthangoutupstream.h"
#include <hangout/transfer2.h>

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
 * no-answer; when members of transfer version 2 were offered the file
 * also how its pieces went). Fewer than #GstHangoutSink:min-acks members
 * in complete is an error.
 *
 * Members that speak transfer version 2 (hangoutsrc, hangout-receive, the
 * web page) get the file in pieces verified against the hashes the sink
 * sends (docs/protocol.md §4), and each holds the sink back to its own
 * pace (§4.6), so a slow member costs the sink no memory. With
 * #GstHangoutSink:distribution swarm they also forward the pieces the
 * sink hands each of them: the sink's upload carries about one copy of
 * the file instead of one per member. Members of version 1 get every
 * byte from the sink.
 *
 * An upstream that can be read at any offset (filesrc) drives the sink in
 * pull mode (64 KiB a buffer): the sink can then read the file again, so
 * a member of version 2 that joins while the file is shared
 * gets the whole file, the pieces before its time from the sink, and
 * #GstHangoutSink:linger keeps serving it after EOS for members that join
 * later (docs/protocol.md §4.8).
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
 * gst-launch-1.0 filesrc location=big.iso ! hangoutsink room=team min-peers=7 distribution=swarm
 * gst-launch-1.0 filesrc location=big.iso ! hangoutsink room=team distribution=swarm linger=600
 * gst-launch-1.0 videotestsrc num-buffers=300 ! x264enc ! mp4mux ! hangoutsink room=team filename=test.mp4
 * ]|
 */

GST_DEBUG_CATEGORY_STATIC (gst_hangout_sink_debug);
#define GST_CAT_DEFAULT gst_hangout_sink_debug

struct _GstHangoutSink {
  GstBaseSink parent;

  GstHangoutRoomObject *room_object;   /* room, server, … and joining */
  GstHangoutShareObject *share_object; /* the share's properties, messages */
  GstHangoutUpstream *upstream;        /* names, sizes, the spool */

  HangoutShareSender *share;    /* the share object's, start() to stop() */
  GCancellable *cancellable;    /* cancelled by unlock() */
};

G_DEFINE_TYPE (GstHangoutSink, gst_hangout_sink, GST_TYPE_BASE_SINK);
GST_ELEMENT_REGISTER_DEFINE_WITH_CODE (hangoutsink, "hangoutsink",
    GST_RANK_NONE, GST_TYPE_HANGOUT_SINK,
    GST_DEBUG_CATEGORY_INIT (gst_hangout_sink_debug, "hangoutsink", 0,
        "hangout room sink"));

static GstStaticPadTemplate sink_template = GST_STATIC_PAD_TEMPLATE ("sink",
    GST_PAD_SINK, GST_PAD_ALWAYS, GST_STATIC_CAPS_ANY);

/* ---- the streaming thread ---- */

static void
post_progress (GstHangoutSink *sink, GstProgressType type, gboolean force)
{
  gst_hangout_room_object_post_progress (sink->room_object, type,
      "hangout-send", force, "sent %" G_GUINT64_FORMAT " bytes",
      hangout_share_sender_get_offset (sink->share));
}

/* Reads the file again where a member that joined late needs it: an
 * upstream in pull mode answers any offset. Called on the room's network
 * thread; concurrent pulls are serialised by upstream's stream lock. */
static gboolean
read_upstream (guint64 offset, gsize size, guint8 *buffer,
    gpointer user_data, GError **error)
{
  GstHangoutSink *sink = user_data;
  GstBuffer *read = NULL;
  GstFlowReturn ret;
  gsize got;

  ret = gst_pad_pull_range (GST_BASE_SINK_PAD (sink), offset, size, &read);
  if (ret != GST_FLOW_OK) {
    g_set_error (error, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_READ,
        "upstream answered %s for %" G_GSIZE_FORMAT " bytes at offset %"
        G_GUINT64_FORMAT, gst_flow_get_name (ret), size, offset);
    return FALSE;
  }
  got = gst_buffer_extract (read, 0, buffer, size);
  gst_buffer_unref (read);
  if (got != size) {
    g_set_error (error, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_READ,
        "upstream gave %" G_GSIZE_FORMAT " of %" G_GSIZE_FORMAT " bytes at "
        "offset %" G_GUINT64_FORMAT, got, size, offset);
    return FALSE;
  }
  return TRUE;
}

/* Offers the file, of @size bytes (-1: unknown), to the members connected. */
static GstFlowReturn
offer_file (GstHangoutSink *sink, gint64 size)
{
  g_autoptr (GError) error = NULL;
  g_autofree gchar *name =
      gst_hangout_upstream_choose_filename (sink->upstream);
  gboolean pulled =
      GST_PAD_MODE (GST_BASE_SINK_PAD (sink)) == GST_PAD_MODE_PULL;

  hangout_share_sender_set_reader (sink->share, pulled ? read_upstream : NULL,
      sink);
  if (!hangout_share_sender_begin (sink->share, name, size, NULL, &error)) {
    GST_ELEMENT_ERROR (sink, RESOURCE, SETTINGS, ("Cannot send this file"),
        ("%s", error->message));
    return GST_FLOW_ERROR;
  }
  post_progress (sink, GST_PROGRESS_TYPE_START, TRUE);
  return GST_FLOW_OK;
}

/* A file is under way: shared as it arrives, or held in the spool. */
static gboolean
has_file (GstHangoutSink *sink)
{
  return hangout_share_sender_has_file (sink->share)
      || gst_hangout_upstream_is_spooling (sink->upstream);
}

/* The first byte of a file: once the members are there, it is offered at
 * once, or held in a spool until its end. */
static GstFlowReturn
begin_file (GstHangoutSink *sink)
{
  GstFlowReturn ret;
  gint64 size;

  if ((ret = gst_hangout_share_object_wait_for_members (sink->share_object,
              sink->cancellable)) != GST_FLOW_OK)
    return ret;
  size = gst_hangout_upstream_query_size (sink->upstream);
  if (!gst_hangout_upstream_wants_spool (sink->upstream, size))
    return offer_file (sink, size);
  return gst_hangout_upstream_begin_spool (sink->upstream) ? GST_FLOW_OK :
      GST_FLOW_ERROR;
}

/* Bytes of the file offered, to the members. */
static GstFlowReturn
send_bytes (const guint8 *data, gsize len, gpointer user_data)
{
  GstHangoutSink *sink = user_data;
  g_autoptr (GError) error = NULL;

  if (!hangout_share_sender_write (sink->share, data, len, sink->cancellable,
          &error))
    return gst_hangout_share_object_flow_from_error (sink->share_object,
        error, "Cannot send this file");
  post_progress (sink, GST_PROGRESS_TYPE_CONTINUE, FALSE);
  return GST_FLOW_OK;
}

/* The spooled file is complete: offered with its size, and sent. */
static GstFlowReturn
send_spool (GstHangoutSink *sink)
{
  g_autoptr (GstHangoutSpool) spool =
      gst_hangout_upstream_take_spool (sink->upstream);
  guint64 size = gst_hangout_spool_get_size (spool);
  GstFlowReturn ret;

  GST_INFO_OBJECT (sink, "the file is complete (%" G_GUINT64_FORMAT
      " bytes): offering it", size);
  if ((ret = gst_hangout_share_object_wait_for_members (sink->share_object,
              sink->cancellable)) != GST_FLOW_OK
      || (ret = offer_file (sink, size)) != GST_FLOW_OK)
    return ret;
  return gst_hangout_upstream_drain_spool (sink->upstream, spool, send_bytes,
      sink);
}

/* The file has been shared: the next buffer begins another. */
static void
end_file (GstHangoutSink *sink)
{
  hangout_share_sender_end (sink->share);
  gst_hangout_upstream_end_file (sink->upstream);
}

/* The end of a file: the share layer sends the end and waits for the
 * answers; the summary is posted before the EOS that follows. */
static GstFlowReturn
finish_file (GstHangoutSink *sink)
{
  g_autoptr (GError) error = NULL;
  GstStructure *summary = NULL;
  GstFlowReturn ret = GST_FLOW_OK;
  HangoutShareCounts counts;
  gboolean enough;

  /* An empty stream is an empty file. */
  if (!has_file (sink) && (ret = begin_file (sink)) != GST_FLOW_OK)
    return ret;
  if (gst_hangout_upstream_is_spooling (sink->upstream)
      && (ret = send_spool (sink)) != GST_FLOW_OK)
    return ret;
  enough = hangout_share_sender_finish (sink->share, sink->cancellable,
      &summary, &error);
  if (summary == NULL)
    return gst_hangout_share_object_flow_from_error (sink->share_object,
        error, "Cannot finish this file");

  hangout_share_summary_count (summary, &counts);
  gst_hangout_room_object_post_message (sink->room_object, summary);
  if (counts.silent > 0)
    GST_ELEMENT_WARNING (sink, RESOURCE, WRITE,
        ("%u members did not acknowledge the file within %u s of receiving "
            "it (ack-timeout)", counts.silent,
            gst_hangout_share_object_get_ack_timeout (sink->share_object)),
        (NULL));
  GST_INFO_OBJECT (sink, "file sent: %u members have it, %u failed or left, "
      "%u did not answer", counts.complete, counts.lost, counts.silent);
  if (!enough) {
    post_progress (sink, GST_PROGRESS_TYPE_ERROR, TRUE);
    GST_ELEMENT_ERROR (sink, RESOURCE, WRITE,
        ("Only %u members have the whole file, %u needed (min-acks)",
            counts.complete,
            gst_hangout_share_object_get_min_acks (sink->share_object)),
        ("%u failed or left, %u did not answer", counts.lost, counts.silent));
    return GST_FLOW_ERROR;
  }
  post_progress (sink, counts.lost == 0 && counts.silent == 0 ?
      GST_PROGRESS_TYPE_COMPLETE : GST_PROGRESS_TYPE_ERROR, TRUE);
  return GST_FLOW_OK;
}

/* ---- GstBaseSink ---- */

static gboolean
gst_hangout_sink_start (GstBaseSink *bsink)
{
  GstHangoutSink *sink = GST_HANGOUT_SINK (bsink);

  gst_hangout_upstream_reset (sink->upstream);
  g_cancellable_reset (sink->cancellable);
  if (gst_hangout_room_object_start (sink->room_object,
          GST_RESOURCE_ERROR_OPEN_WRITE,
          gst_hangout_share_object_prepare_sender, sink->share_object)
      != NULL) {
    sink->share = gst_hangout_share_object_get_sender (sink->share_object);
    return TRUE;
  }
  gst_hangout_share_object_stop (sink->share_object);
  return FALSE;
}

static gboolean
gst_hangout_sink_stop (GstBaseSink *bsink)
{
  GstHangoutSink *sink = GST_HANGOUT_SINK (bsink);

  /* After this no handler runs: the network thread is joined. */
  gst_hangout_room_object_stop (sink->room_object, sink->share_object);
  sink->share = NULL;
  gst_hangout_share_object_stop (sink->share_object);
  gst_hangout_upstream_reset (sink->upstream);
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
  GstFlowReturn ret;
  GstMapInfo map;

  if (gst_hangout_upstream_is_damaged (sink->upstream))
    return GST_FLOW_ERROR;
  if (!has_file (sink) && (ret = begin_file (sink)) != GST_FLOW_OK)
    return ret;
  if (!gst_buffer_map (buffer, &map, GST_MAP_READ)) {
    GST_ELEMENT_ERROR (sink, RESOURCE, READ, ("Cannot read a buffer"), (NULL));
    return GST_FLOW_ERROR;
  }
  if (gst_hangout_upstream_is_spooling (sink->upstream))
    ret = gst_hangout_upstream_spool_write (sink->upstream, map.data,
        map.size) ? GST_FLOW_OK : GST_FLOW_ERROR;
  else
    ret = send_bytes (map.data, map.size, sink);
  gst_buffer_unmap (buffer, &map);
  if (ret != GST_FLOW_OK
      || !gst_hangout_upstream_buffer_is_file (sink->upstream))
    return ret;
  if ((ret = finish_file (sink)) == GST_FLOW_OK)
    end_file (sink);
  return ret;
}

/* In pull mode, the bytes a buffer covers: GstBaseSink sets the position
 * it pulls from next to the end given here (without one it pulls offset 0
 * again, GStreamer 1.22). Its loop has already moved the position past
 * the buffer. A sink that does not sync has no other use for times. */
static void
gst_hangout_sink_get_times (GstBaseSink *bsink, GstBuffer *buffer,
    GstClockTime *start, GstClockTime *end)
{
  if (bsink->pad_mode != GST_PAD_MODE_PULL)
    return;
  *end = bsink->segment.position;
  *start = *end - gst_buffer_get_size (buffer);
}

static gboolean
gst_hangout_sink_event (GstBaseSink *bsink, GstEvent *event)
{
  GstHangoutSink *sink = GST_HANGOUT_SINK (bsink);
  gboolean sharing = hangout_share_sender_has_file (sink->share);
  gboolean had_file = has_file (sink);
  const GstSegment *segment;
  gboolean ok = TRUE;

  switch (GST_EVENT_TYPE (event)) {
    case GST_EVENT_SEGMENT:
      gst_event_parse_segment (event, &segment);
      ok = gst_hangout_upstream_follow_segment (sink->upstream, segment,
          sharing, hangout_share_sender_get_offset (sink->share));
      /* Never an end for a damaged file: no member may take it for
       * complete. */
      if (!ok && gst_hangout_upstream_is_damaged (sink->upstream))
        hangout_share_sender_end (sink->share);
      break;
    case GST_EVENT_STREAM_START:
      /* Another stream: the one before was a file of its own. */
      if (had_file && (ok = finish_file (sink) == GST_FLOW_OK))
        end_file (sink);
      gst_hangout_upstream_new_stream (sink->upstream);
      break;
    case GST_EVENT_EOS:
      /* A stream without a byte is an empty file, unless it ended one. */
      if (gst_hangout_upstream_is_damaged (sink->upstream))
        ok = FALSE;
      else if (had_file
          || gst_hangout_upstream_count_files (sink->upstream) == 0)
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

/* Answering a muxer's seeking query keeps the question from reaching a
 * filesink beside us (behind a tee), whose yes would be ours. */
static gboolean
gst_hangout_sink_query (GstBaseSink *bsink, GstQuery *query)
{
  GstHangoutSink *sink = GST_HANGOUT_SINK (bsink);

  if (GST_QUERY_TYPE (query) != GST_QUERY_SEEKING)
    return GST_BASE_SINK_CLASS (gst_hangout_sink_parent_class)->query (bsink,
        query);
  gst_hangout_upstream_answer_seeking (sink->upstream, query,
      hangout_share_sender_has_file (sink->share));
  return TRUE;
}

/* ---- GObject ---- */

static void
gst_hangout_sink_set_property (GObject *object, guint prop_id,
    const GValue *value, GParamSpec *pspec)
{
  GstHangoutSink *sink = GST_HANGOUT_SINK (object);

  if (!gst_hangout_room_object_set_property (sink->room_object, prop_id,
          value)
      && !gst_hangout_share_object_set_property (sink->share_object, prop_id,
          value)
      && !gst_hangout_upstream_set_property (sink->upstream, prop_id, value))
    G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
  /* In pull mode, every buffer would be a file of its own. */
  if (prop_id == GST_HANGOUT_UPSTREAM_PROP_NEXT_FILE)
    GST_BASE_SINK (sink)->can_activate_pull =
        g_value_get_enum (value) == GST_HANGOUT_SINK_NEXT_FILE_STREAM;
}

static void
gst_hangout_sink_get_property (GObject *object, guint prop_id, GValue *value,
    GParamSpec *pspec)
{
  GstHangoutSink *sink = GST_HANGOUT_SINK (object);

  if (!gst_hangout_room_object_get_property (sink->room_object, prop_id,
          value)
      && !gst_hangout_share_object_get_property (sink->share_object, prop_id,
          value)
      && !gst_hangout_upstream_get_property (sink->upstream, prop_id, value))
    G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
}

static void
gst_hangout_sink_finalize (GObject *object)
{
  GstHangoutSink *sink = GST_HANGOUT_SINK (object);

  gst_hangout_upstream_free (sink->upstream);
  gst_hangout_share_object_free (sink->share_object);
  gst_hangout_room_object_free (sink->room_object);
  g_object_unref (sink->cancellable);
  G_OBJECT_CLASS (gst_hangout_sink_parent_class)->finalize (object);
}

static void
gst_hangout_sink_init (GstHangoutSink *sink)
{
  sink->room_object = gst_hangout_room_object_new (GST_ELEMENT (sink));
  sink->share_object = gst_hangout_share_object_new (GST_ELEMENT (sink),
      sink->room_object);
  sink->upstream = gst_hangout_upstream_new (GST_BASE_SINK (sink));
  sink->cancellable = g_cancellable_new ();
  /* Files are not timed: render as soon as data arrives. */
  gst_base_sink_set_sync (GST_BASE_SINK (sink), FALSE);
  /* An upstream that can be read at any offset is: the file can then be
   * read again for members that join late. A piece a buffer. */
  GST_BASE_SINK (sink)->can_activate_pull = TRUE;
  gst_base_sink_set_blocksize (GST_BASE_SINK (sink),
      HANGOUT_TRANSFER2_DEFAULT_PIECE_SIZE);
}

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
  gst_hangout_share_object_install_sender_properties (gobject_class);
  gst_hangout_upstream_install_properties (gobject_class);

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
  basesink_class->get_times = GST_DEBUG_FUNCPTR (gst_hangout_sink_get_times);
  basesink_class->event = GST_DEBUG_FUNCPTR (gst_hangout_sink_event);
  basesink_class->query = GST_DEBUG_FUNCPTR (gst_hangout_sink_query);
}
