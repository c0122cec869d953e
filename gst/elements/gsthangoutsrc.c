/* gst-hangout — hangoutsrc: outputs, in order, the bytes of the files the
 * members of a room share (docs/protocol.md §2).
 *
 * A GStreamer adapter over HangoutShareReceiver (include/hangout/share.h),
 * which queues the files arriving at once, holds back their senders and
 * hands them out one at a time, in the order their data began: here are
 * the pad, buffers, tags and the bus messages of the files; the
 * properties are installed by the room and share objects. create()
 * runs in the streaming thread and blocks in the share layer; unlock()
 * cancels that, unlock_stop() makes it usable again.
 *
 * The file being output failing is an error, except (docs/architecture.md
 * "Which files a receiver takes"): before any file completed, the source
 * flushes downstream (filesink truncates) and outputs the next file, if
 * another is waiting; with skip-failed it always goes on to the next.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "gsthangoutsrc.h"
#include "gsthangoutroomobject.h"
#include "gsthangoutshareobject.h"

/**
 * SECTION:element-hangoutsrc
 * @title: hangoutsrc
 *
 * Joins a hangout room and outputs the files its members share, one after
 * the other; each file starts with a DISCONT buffer and a tag event whose
 * title is the file's name.
 *
 * Which files it takes: files that arrive at the same time (from several
 * members; up to 16 with data, 4 per member) are all held, each queue
 * bounded, and output in the
 * order their data began; an offer alone never takes the place, and a file
 * whose data stops for #GstHangoutSrc:stall-timeout seconds fails. A
 * waiting file that fails is dropped with a warning. The file being output
 * failing is an error, unless no file has completed yet and another one is
 * waiting: then the source flushes downstream (filesink truncates its
 * file), warns and outputs that one, so a broken file from one member
 * does not end the pipeline while another member shares a good one. With
 * #GstHangoutSrc:skip-failed it always goes on. #GstHangoutSrc:from takes
 * files from one display name only (names are not authenticated).
 *
 * Element messages: `hangout-file-started` (name, size, mime, sender,
 * sender-name) before a file's first buffer, `hangout-file-complete`
 * (name, size, sha256, sender, sender-name) once its SHA-256 is verified,
 * `hangout-file-failed` (name, error, sender, sender-name) when the file
 * being output fails.
 * Like hangoutsink: `hangout-member-joined` (id, name, sas, transport)
 * when a member is connected, `hangout-member-left` (id, name, failure),
 * and
 * `hangout-member-refused` (id, name, reason, with a warning) for a member
 * that did not prove #GstHangoutSrc:secret. A piece of a swarm file
 * (docs/protocol.md §4) that a forwarding member sent corrupt is a warning
 * naming the member: the piece is taken from the sharer again.
 *
 * docs/messages.md lists every message with its fields.
 *
 * ## Example launch line
 * |[
 * gst-launch-1.0 hangoutsrc room=team server=ws://HOST:8080/ws ! filesink location=big.iso
 * ]|
 */

GST_DEBUG_CATEGORY_STATIC (gst_hangout_src_debug);
#define GST_CAT_DEFAULT gst_hangout_src_debug

struct _GstHangoutSrc {
  GstPushSrc parent;

  GstHangoutRoomObject *room_object;   /* room, server, … and joining */
  GstHangoutShareObject *share_object; /* the share's properties, messages */

  HangoutShareReceiver *share;  /* the share object's, start() to stop() */
  GCancellable *cancellable;    /* cancelled by unlock() */
  gint partial_told;            /* atomic: "the output is partial" posted */

  /* Streaming thread only. */
  gboolean discont;
  gchar *file_name;
  gint64 file_size;
  guint64 file_received;
};

G_DEFINE_TYPE (GstHangoutSrc, gst_hangout_src, GST_TYPE_PUSH_SRC);
GST_ELEMENT_REGISTER_DEFINE_WITH_CODE (hangoutsrc, "hangoutsrc",
    GST_RANK_NONE, GST_TYPE_HANGOUT_SRC,
    GST_DEBUG_CATEGORY_INIT (gst_hangout_src_debug, "hangoutsrc", 0,
        "hangout room source"));

static GstStaticPadTemplate src_template = GST_STATIC_PAD_TEMPLATE ("src",
    GST_PAD_SRC, GST_PAD_ALWAYS, GST_STATIC_CAPS_ANY);

/* @text for a message or log line: control and bidi characters escaped
 * (names are chosen by remote members). */
static gchar *
printable (const gchar *text)
{
  return hangout_transfer_printable (text != NULL ? text : "");
}

/* ---- GstBaseSrc ---- */

static gboolean
gst_hangout_src_start (GstBaseSrc *bsrc)
{
  GstHangoutSrc *src = GST_HANGOUT_SRC (bsrc);

  g_atomic_int_set (&src->partial_told, FALSE);
  g_cancellable_reset (src->cancellable);
  /* A join that cannot work (no server there, refused) is posted at once
   * by the room object; create() gives up on a server that never answers
   * after join-timeout. */
  if (gst_hangout_room_object_start (src->room_object,
          GST_RESOURCE_ERROR_OPEN_READ,
          gst_hangout_share_object_prepare_receiver, src->share_object)
      != NULL) {
    src->share = gst_hangout_share_object_get_receiver (src->share_object);
    return TRUE;
  }
  gst_hangout_share_object_stop (src->share_object);
  return FALSE;
}

/* Stopped (or sent EOS) in the middle of a file: downstream has a part of
 * it, which nothing else would tell. Once. */
static void
warn_partial (GstHangoutSrc *src, const gchar *how)
{
  if (src->share != NULL && hangout_share_receiver_is_mid_file (src->share)
      && g_atomic_int_compare_and_exchange (&src->partial_told, FALSE, TRUE))
    GST_ELEMENT_WARNING (src, RESOURCE, READ, ("The output is partial: a "
            "file was still arriving when the source %s", how),
        ("downstream has only the beginning of the file being output"));
}

static gboolean
gst_hangout_src_send_event (GstElement *element, GstEvent *event)
{
  /* An application ending the stream (gst-launch-1.0 -e on Ctrl-C). */
  if (GST_EVENT_TYPE (event) == GST_EVENT_EOS)
    warn_partial (GST_HANGOUT_SRC (element), "was sent EOS");
  return GST_ELEMENT_CLASS (gst_hangout_src_parent_class)->send_event
      (element, event);
}

static gboolean
gst_hangout_src_stop (GstBaseSrc *bsrc)
{
  GstHangoutSrc *src = GST_HANGOUT_SRC (bsrc);

  warn_partial (src, "stopped");
  /* After this no handler runs: the network thread is joined. */
  gst_hangout_room_object_stop (src->room_object, src->share_object);
  src->share = NULL;
  gst_hangout_share_object_stop (src->share_object);
  g_clear_pointer (&src->file_name, g_free);
  return TRUE;
}

static gboolean
gst_hangout_src_unlock (GstBaseSrc *bsrc)
{
  g_cancellable_cancel (GST_HANGOUT_SRC (bsrc)->cancellable);
  return TRUE;
}

static gboolean
gst_hangout_src_unlock_stop (GstBaseSrc *bsrc)
{
  g_cancellable_reset (GST_HANGOUT_SRC (bsrc)->cancellable);
  return TRUE;
}

static void
post_progress (GstHangoutSrc *src, GstProgressType type, gboolean force)
{
  gboolean playing;

  /* gst-launch-1.0 waits for a started progress to complete before it sets
   * the pipeline to PLAYING; posted while prerolling, it never would. */
  GST_OBJECT_LOCK (src);
  playing = GST_STATE (src) == GST_STATE_PLAYING;
  GST_OBJECT_UNLOCK (src);
  if (!playing && type != GST_PROGRESS_TYPE_COMPLETE
      && type != GST_PROGRESS_TYPE_ERROR)
    return;
  if (src->file_size >= 0)
    gst_hangout_room_object_post_progress (src->room_object, type,
        "hangout-receive", force, "%s: received %" G_GUINT64_FORMAT " of %"
        G_GINT64_FORMAT " bytes", src->file_name, src->file_received,
        src->file_size);
  else
    gst_hangout_room_object_post_progress (src->room_object, type,
        "hangout-receive", force, "%s: received %" G_GUINT64_FORMAT
        " bytes", src->file_name, src->file_received);
}

/* Discards what downstream has of the file being output, before anything
 * else was: a flush (filesink truncates on flush-stop) and a new segment. */
static void
flush_downstream (GstHangoutSrc *src)
{
  GstPad *pad = GST_BASE_SRC_PAD (src);
  GstSegment segment;

  gst_pad_push_event (pad, gst_event_new_flush_start ());
  gst_pad_push_event (pad, gst_event_new_flush_stop (TRUE));
  gst_segment_init (&segment, GST_FORMAT_BYTES);
  gst_pad_push_event (pad, gst_event_new_segment (&segment));
}

static GstFlowReturn
gst_hangout_src_create (GstPushSrc *psrc, GstBuffer **outbuf)
{
  GstHangoutSrc *src = GST_HANGOUT_SRC (psrc);

  for (;;) {
    g_autoptr (GError) error = NULL;
    g_autofree gchar *sender_name = NULL;
    HangoutTransferEvent *event;
    guint num_files, completed, others;
    gboolean skip_failed;

    event = hangout_share_receiver_next (src->share, src->cancellable,
        &others, &error);
    if (event == NULL) {
      if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        return GST_FLOW_FLUSHING;
      gst_hangout_room_object_post_join_error (src->room_object,
          GST_RESOURCE_ERROR_OPEN_READ);
      return GST_FLOW_ERROR;
    }
    completed = hangout_share_receiver_get_completed (src->share);
    if (event->type != HANGOUT_TRANSFER_EVENT_DATA)
      sender_name = gst_hangout_room_object_dup_member_name
          (src->room_object, event->member);

    switch (event->type) {
      case HANGOUT_TRANSFER_EVENT_STARTED:{
        GstTagList *tags;

        g_free (src->file_name);
        src->file_name = g_strdup (event->name);
        src->file_size = event->size;
        src->file_received = 0;
        src->discont = TRUE;
        GST_INFO_OBJECT (src, "receiving %s from %s", src->file_name,
            event->member);
        gst_hangout_room_object_post_message (src->room_object,
            gst_structure_new ("hangout-file-started",
                "name", G_TYPE_STRING, event->name,
                "size", G_TYPE_INT64, event->size,
                "mime", G_TYPE_STRING, event->mime,
                "sender", G_TYPE_STRING, event->member,
                "sender-name", G_TYPE_STRING, sender_name, NULL));
        post_progress (src, GST_PROGRESS_TYPE_START, TRUE);
        /* basesrc queues a serialized event sent to the element and pushes
         * it after the segment, before the next buffer. Handed to basesrc
         * directly: gst_element_send_event() takes the state lock, which a
         * state change holds while it waits for this thread to stop. */
        tags = gst_tag_list_new (GST_TAG_TITLE, event->name, NULL);
        GST_ELEMENT_CLASS (gst_hangout_src_parent_class)->send_event
            (GST_ELEMENT (src), gst_event_new_tag (tags));
        hangout_transfer_event_free (event);
        continue;
      }
      case HANGOUT_TRANSFER_EVENT_DATA:{
        GstBuffer *buffer = gst_buffer_new_wrapped_bytes (event->payload);

        GST_BUFFER_OFFSET (buffer) = event->offset;
        GST_BUFFER_OFFSET_END (buffer) = event->offset
            + gst_buffer_get_size (buffer);
        if (src->discont) {
          GST_BUFFER_FLAG_SET (buffer, GST_BUFFER_FLAG_DISCONT);
          src->discont = FALSE;
        }
        src->file_received = GST_BUFFER_OFFSET_END (buffer);
        hangout_transfer_event_free (event);
        post_progress (src, GST_PROGRESS_TYPE_CONTINUE, FALSE);
        *outbuf = buffer;
        return GST_FLOW_OK;
      }
      case HANGOUT_TRANSFER_EVENT_COMPLETE:
        GST_INFO_OBJECT (src, "received %s intact (%" G_GINT64_FORMAT
            " bytes, SHA-256 %s)", event->name, event->size, event->sha256);
        gst_hangout_room_object_post_message (src->room_object,
            gst_structure_new ("hangout-file-complete",
                "name", G_TYPE_STRING, event->name,
                "size", G_TYPE_INT64, event->size,
                "sha256", G_TYPE_STRING, event->sha256,
                "sender", G_TYPE_STRING, event->member,
                "sender-name", G_TYPE_STRING, sender_name, NULL));
        post_progress (src, GST_PROGRESS_TYPE_COMPLETE, TRUE);
        hangout_transfer_event_free (event);
        num_files =
            gst_hangout_share_object_get_num_files (src->share_object);
        /* The share layer declined the files it still held. */
        if (num_files > 0 && completed >= num_files)
          return GST_FLOW_EOS;
        continue;
      default:{
        g_autofree gchar *name = printable (event->name);
        g_autofree gchar *sender = printable (sender_name ?
            sender_name : event->member);

        post_progress (src, GST_PROGRESS_TYPE_ERROR, TRUE);
        gst_hangout_room_object_post_message (src->room_object,
            gst_structure_new ("hangout-file-failed",
                "name", G_TYPE_STRING, event->name,
                "error", G_TYPE_STRING, event->error->message,
                "sender", G_TYPE_STRING, event->member,
                "sender-name", G_TYPE_STRING, sender_name, NULL));
        skip_failed =
            gst_hangout_share_object_get_skip_failed (src->share_object);
        if (skip_failed || (completed == 0 && others > 0)) {
          /* Nothing else was output yet: flush it away (filesink truncates
           * its file) and take the next file. */
          if (!skip_failed)
            flush_downstream (src);
          GST_ELEMENT_WARNING (src, RESOURCE, READ,
              ("Receiving '%s' from %s failed: %s; going on with the next "
                  "file", name, sender, event->error->message),
              ("after %" G_GUINT64_FORMAT " bytes%s", event->offset,
                  skip_failed ? "; its bytes were output" :
                  "; flushed downstream"));
          hangout_transfer_event_free (event);
          continue;
        }
        GST_ELEMENT_ERROR (src, RESOURCE, READ,
            ("Receiving '%s' from %s failed: %s", name, sender,
                event->error->message),
            ("after %" G_GUINT64_FORMAT " bytes; the file is incomplete",
                event->offset));
        hangout_transfer_event_free (event);
        return GST_FLOW_ERROR;
      }
    }
  }
}

/* ---- GObject ---- */

static void
gst_hangout_src_set_property (GObject *object, guint prop_id,
    const GValue *value, GParamSpec *pspec)
{
  GstHangoutSrc *src = GST_HANGOUT_SRC (object);

  if (!gst_hangout_room_object_set_property (src->room_object, prop_id,
          value)
      && !gst_hangout_share_object_set_property (src->share_object, prop_id,
          value))
    G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
}

static void
gst_hangout_src_get_property (GObject *object, guint prop_id, GValue *value,
    GParamSpec *pspec)
{
  GstHangoutSrc *src = GST_HANGOUT_SRC (object);

  if (!gst_hangout_room_object_get_property (src->room_object, prop_id,
          value)
      && !gst_hangout_share_object_get_property (src->share_object, prop_id,
          value))
    G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
}

static void
gst_hangout_src_finalize (GObject *object)
{
  GstHangoutSrc *src = GST_HANGOUT_SRC (object);

  gst_hangout_share_object_free (src->share_object);
  gst_hangout_room_object_free (src->room_object);
  g_object_unref (src->cancellable);
  G_OBJECT_CLASS (gst_hangout_src_parent_class)->finalize (object);
}

static void
gst_hangout_src_init (GstHangoutSrc *src)
{
  src->room_object = gst_hangout_room_object_new (GST_ELEMENT (src));
  src->share_object = gst_hangout_share_object_new (GST_ELEMENT (src),
      src->room_object);
  src->cancellable = g_cancellable_new ();
  gst_base_src_set_format (GST_BASE_SRC (src), GST_FORMAT_BYTES);
  gst_base_src_set_live (GST_BASE_SRC (src), FALSE);
}

static void
gst_hangout_src_class_init (GstHangoutSrcClass *klass)
{
  GObjectClass *gobject_class = G_OBJECT_CLASS (klass);
  GstElementClass *element_class = GST_ELEMENT_CLASS (klass);
  GstBaseSrcClass *basesrc_class = GST_BASE_SRC_CLASS (klass);
  GstPushSrcClass *pushsrc_class = GST_PUSH_SRC_CLASS (klass);

  gobject_class->set_property = gst_hangout_src_set_property;
  gobject_class->get_property = gst_hangout_src_get_property;
  gobject_class->finalize = gst_hangout_src_finalize;

  gst_hangout_room_object_install_properties (gobject_class,
      "Seconds to wait to join the room on a signalling server that does "
      "not answer before failing with an error (one that cannot be reached "
      "or refuses the join fails at once; waiting for files afterwards has "
      "no limit)");
  gst_hangout_share_object_install_receiver_properties (gobject_class);

  gst_element_class_add_static_pad_template (element_class, &src_template);
  gst_element_class_set_static_metadata (element_class, "Hangout source",
      "Source/Network", "Receives the files the members of a hangout room "
      "share over WebRTC data channels", "gst-hangout developers");

  element_class->send_event = GST_DEBUG_FUNCPTR (gst_hangout_src_send_event);
  basesrc_class->start = GST_DEBUG_FUNCPTR (gst_hangout_src_start);
  basesrc_class->stop = GST_DEBUG_FUNCPTR (gst_hangout_src_stop);
  basesrc_class->unlock = GST_DEBUG_FUNCPTR (gst_hangout_src_unlock);
  basesrc_class->unlock_stop = GST_DEBUG_FUNCPTR (gst_hangout_src_unlock_stop);
  pushsrc_class->create = GST_DEBUG_FUNCPTR (gst_hangout_src_create);
}
