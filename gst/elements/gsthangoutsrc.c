/* gst-hangout — hangoutsrc: outputs, in order, the bytes of the files the
 * members of a room share (docs/protocol.md §2).
 *
 * A GStreamer adapter over HangoutShareReceiver (include/hangout/share.h),
 * which queues the files arriving at once, holds back their senders and
 * hands them out one at a time, in the order their data began: here are
 * the properties, the pad, buffers, tags and the bus messages. create()
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
#include <hangout/share.h>

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
 * that did not prove #GstHangoutSrc:secret.
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

#define DEFAULT_NUM_FILES 1
#define DEFAULT_STALL_TIMEOUT HANGOUT_TRANSFER_STALL_TIMEOUT_S

enum {
  PROP_NUM_FILES = GST_HANGOUT_ROOM_PROP_LAST,
  PROP_FROM,
  PROP_STALL_TIMEOUT,
  PROP_SKIP_FAILED,
  PROP_CURRENT_LEVEL_BYTES,
};

struct _GstHangoutSrc {
  GstPushSrc parent;

  GstHangoutRoomObject *room_object;   /* room, server, … and joining */

  /* Properties, under the object lock. */
  guint num_files;
  gchar *from;
  guint stall_timeout;
  gboolean skip_failed;

  /* From start() to stop(), under the object lock for
   * current-level-bytes. */
  HangoutShareReceiver *share;
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

/* ---- the share layer's signals (network thread) ---- */

static void
on_dropped (HangoutShareReceiver *share, const gchar *member,
    const gchar *name, const gchar *error, GstHangoutSrc *src)
{
  g_autofree gchar *sender =
      gst_hangout_room_object_describe_member (src->room_object, member);
  g_autofree gchar *shown = printable (name);

  GST_ELEMENT_WARNING (src, RESOURCE, READ,
      ("Dropped '%s' from %s, waiting for its turn: %s", shown, sender,
          error), ("the file is incomplete; the file being output goes on"));
}

/* ---- GstBaseSrc ---- */

static void
connect_room (HangoutRoom *room, gpointer data)
{
  GstHangoutSrc *src = data;
  guint join_timeout =
      gst_hangout_room_object_get_join_timeout (src->room_object);
  HangoutShareReceiver *share = hangout_share_receiver_new (room,
      join_timeout);

  GST_OBJECT_LOCK (src);
  g_object_set (share, "stall-timeout", src->stall_timeout, "from",
      src->from, "max-files", src->num_files, NULL);
  src->share = share;
  GST_OBJECT_UNLOCK (src);
  g_signal_connect (share, "dropped", G_CALLBACK (on_dropped), src);
}

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
          GST_RESOURCE_ERROR_OPEN_READ, connect_room, src) != NULL)
    return TRUE;
  GST_OBJECT_LOCK (src);
  g_clear_object (&src->share);
  GST_OBJECT_UNLOCK (src);
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
  HangoutShareReceiver *share;

  warn_partial (src, "stopped");
  /* After this no handler runs: the network thread is joined. */
  gst_hangout_room_object_stop (src->room_object, src);
  GST_OBJECT_LOCK (src);
  share = g_steal_pointer (&src->share);
  GST_OBJECT_UNLOCK (src);
  g_clear_object (&share);
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
        gst_element_post_message (GST_ELEMENT (src),
            gst_message_new_element (GST_OBJECT (src),
                gst_structure_new ("hangout-file-started",
                    "name", G_TYPE_STRING, event->name,
                    "size", G_TYPE_INT64, event->size,
                    "mime", G_TYPE_STRING, event->mime,
                    "sender", G_TYPE_STRING, event->member,
                    "sender-name", G_TYPE_STRING, sender_name, NULL)));
        post_progress (src, GST_PROGRESS_TYPE_START, TRUE);
        /* basesrc queues a serialized event sent to the element and pushes
         * it after the segment, before the next buffer. */
        tags = gst_tag_list_new (GST_TAG_TITLE, event->name, NULL);
        gst_element_send_event (GST_ELEMENT (src), gst_event_new_tag (tags));
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
        gst_element_post_message (GST_ELEMENT (src),
            gst_message_new_element (GST_OBJECT (src),
                gst_structure_new ("hangout-file-complete",
                    "name", G_TYPE_STRING, event->name,
                    "size", G_TYPE_INT64, event->size,
                    "sha256", G_TYPE_STRING, event->sha256,
                    "sender", G_TYPE_STRING, event->member,
                    "sender-name", G_TYPE_STRING, sender_name, NULL)));
        post_progress (src, GST_PROGRESS_TYPE_COMPLETE, TRUE);
        hangout_transfer_event_free (event);
        GST_OBJECT_LOCK (src);
        num_files = src->num_files;
        GST_OBJECT_UNLOCK (src);
        /* The share layer declined the files it still held. */
        if (num_files > 0 && completed >= num_files)
          return GST_FLOW_EOS;
        continue;
      default:{
        g_autofree gchar *name = printable (event->name);
        g_autofree gchar *sender = printable (sender_name ?
            sender_name : event->member);

        post_progress (src, GST_PROGRESS_TYPE_ERROR, TRUE);
        gst_element_post_message (GST_ELEMENT (src),
            gst_message_new_element (GST_OBJECT (src),
                gst_structure_new ("hangout-file-failed",
                    "name", G_TYPE_STRING, event->name,
                    "error", G_TYPE_STRING, event->error->message,
                    "sender", G_TYPE_STRING, event->member,
                    "sender-name", G_TYPE_STRING, sender_name, NULL)));
        GST_OBJECT_LOCK (src);
        skip_failed = src->skip_failed;
        GST_OBJECT_UNLOCK (src);
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

  if (gst_hangout_room_object_set_property (src->room_object, prop_id,
          value))
    return;
  GST_OBJECT_LOCK (src);
  switch (prop_id) {
    case PROP_NUM_FILES:
      src->num_files = g_value_get_uint (value);
      break;
    case PROP_FROM:
      g_free (src->from);
      src->from = g_value_dup_string (value);
      break;
    case PROP_STALL_TIMEOUT:
      src->stall_timeout = g_value_get_uint (value);
      break;
    case PROP_SKIP_FAILED:
      src->skip_failed = g_value_get_boolean (value);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
  GST_OBJECT_UNLOCK (src);
}

static void
gst_hangout_src_get_property (GObject *object, guint prop_id, GValue *value,
    GParamSpec *pspec)
{
  GstHangoutSrc *src = GST_HANGOUT_SRC (object);

  if (gst_hangout_room_object_get_property (src->room_object, prop_id,
          value))
    return;
  if (prop_id == PROP_CURRENT_LEVEL_BYTES) {
    HangoutShareReceiver *share = NULL;

    GST_OBJECT_LOCK (src);
    if (src->share != NULL)
      share = g_object_ref (src->share);
    GST_OBJECT_UNLOCK (src);
    g_value_set_uint64 (value, share ?
        hangout_share_receiver_get_level (share) : 0);
    g_clear_object (&share);
    return;
  }
  GST_OBJECT_LOCK (src);
  switch (prop_id) {
    case PROP_NUM_FILES:
      g_value_set_uint (value, src->num_files);
      break;
    case PROP_FROM:
      g_value_set_string (value, src->from);
      break;
    case PROP_STALL_TIMEOUT:
      g_value_set_uint (value, src->stall_timeout);
      break;
    case PROP_SKIP_FAILED:
      g_value_set_boolean (value, src->skip_failed);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
  GST_OBJECT_UNLOCK (src);
}

static void
gst_hangout_src_finalize (GObject *object)
{
  GstHangoutSrc *src = GST_HANGOUT_SRC (object);

  gst_hangout_room_object_free (src->room_object);
  g_free (src->from);
  g_object_unref (src->cancellable);
  G_OBJECT_CLASS (gst_hangout_src_parent_class)->finalize (object);
}

static void
gst_hangout_src_init (GstHangoutSrc *src)
{
  src->room_object = gst_hangout_room_object_new (GST_ELEMENT (src));
  src->num_files = DEFAULT_NUM_FILES;
  src->stall_timeout = DEFAULT_STALL_TIMEOUT;
  src->cancellable = g_cancellable_new ();
  gst_base_src_set_format (GST_BASE_SRC (src), GST_FORMAT_BYTES);
  gst_base_src_set_live (GST_BASE_SRC (src), FALSE);
}

#define PARAM_FLAGS (G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS \
    | GST_PARAM_MUTABLE_READY)

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
  g_object_class_install_property (gobject_class, PROP_NUM_FILES,
      g_param_spec_uint ("num-files", "Number of files",
          "End the stream (EOS) after this many complete files (files still "
          "arriving are then declined); 0: keep receiving. Files that arrive "
          "at once (up to 16 with data, 4 per member) are held and output one "
          "after the other, "
          "in the order their data began: an offer alone never takes the "
          "place", 0, G_MAXUINT, DEFAULT_NUM_FILES, PARAM_FLAGS));
  g_object_class_install_property (gobject_class, PROP_STALL_TIMEOUT,
      g_param_spec_uint ("stall-timeout", "Stall timeout",
          "Seconds a file's data may stop (while we read from its sender) "
          "before the file fails, so that no member can hang the source",
          1, G_MAXUINT, DEFAULT_STALL_TIMEOUT, PARAM_FLAGS));
  g_object_class_install_property (gobject_class, PROP_SKIP_FAILED,
      g_param_spec_boolean ("skip-failed", "Skip failed files",
          "When the file being output fails (sender left or stalled, bad "
          "SHA-256), post a warning and hangout-file-failed and go on with "
          "the next file, whose bytes follow the failed one's: for "
          "applications that tell files apart by the messages. Without it "
          "such a failure is an error, unless no file has completed yet and "
          "another is waiting: then downstream is flushed (filesink "
          "truncates) and the next file is output", FALSE, PARAM_FLAGS));
  g_object_class_install_property (gobject_class, PROP_FROM,
      g_param_spec_string ("from", "From",
          "Accept files only from members with this display name (NULL: "
          "from anyone)", NULL, PARAM_FLAGS));

  g_object_class_install_property (gobject_class, PROP_CURRENT_LEVEL_BYTES,
      g_param_spec_uint64 ("current-level-bytes", "Current level (bytes)",
          "Bytes received and not yet output. Bounded: above 8 MiB for a "
          "file we stop reading from its sender until downstream catches up",
          0, G_MAXUINT64, 0, G_PARAM_READABLE | G_PARAM_STATIC_STRINGS));

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
