/* gst-hangout — the share layer's side shared by hangoutsink and
 * hangoutsrc (gsthangoutshareobject.h).
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "gsthangoutshareobject.h"

GST_DEBUG_CATEGORY_STATIC (gst_hangout_share_object_debug);
#define GST_CAT_DEFAULT gst_hangout_share_object_debug

#define DEFAULT_MIN_PEERS 1
#define DEFAULT_ACK_TIMEOUT HANGOUT_SHARE_DEFAULT_ACK_TIMEOUT
#define DEFAULT_MIN_ACKS HANGOUT_SHARE_DEFAULT_MIN_ACKS
#define DEFAULT_CHUNK_SIZE HANGOUT_TRANSFER_DEFAULT_CHUNK_SIZE
#define DEFAULT_LINGER HANGOUT_SHARE_DEFAULT_LINGER
#define DEFAULT_NUM_FILES 1
#define DEFAULT_STALL_TIMEOUT HANGOUT_TRANSFER_STALL_TIMEOUT_S

struct _GstHangoutShareObject {
  GstElement *element;          /* not a reference: it owns us */
  GstHangoutRoomObject *room_object;    /* the element's */

  /* Properties, under the element's object lock: the sender's ... */
  guint min_peers;
  guint ack_timeout;
  guint min_acks;
  guint chunk_size;
  HangoutShareDistribution distribution;
  guint linger;
  /* ... and the receiver's. */
  guint num_files;
  gchar *from;
  guint stall_timeout;
  gboolean skip_failed;

  /* From start() to stop(); the receiver under the element's object lock,
   * for current-level-bytes. */
  HangoutShareSender *sender;
  HangoutShareReceiver *receiver;
};

#define PARAM_FLAGS (G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS \
    | GST_PARAM_MUTABLE_READY)

/* From the elements' class_init, before any object is made; the second
 * element's finds the category the first one registered. */
static void
init_debug (void)
{
  GST_DEBUG_CATEGORY_INIT (gst_hangout_share_object_debug, "hangoutshare", 0,
      "hangout elements: the share layer's answers");
}

void
gst_hangout_share_object_install_sender_properties (GObjectClass *klass)
{
  init_debug ();
  g_object_class_install_property (klass, GST_HANGOUT_SHARE_PROP_MIN_PEERS,
      g_param_spec_uint ("min-peers", "Minimum peers",
          "Wait until this many members are connected before sending; "
          "members that connect later are not sent this file", 1, 1024,
          DEFAULT_MIN_PEERS, PARAM_FLAGS));
  g_object_class_install_property (klass, GST_HANGOUT_SHARE_PROP_ACK_TIMEOUT,
      g_param_spec_uint ("ack-timeout", "Acknowledgement timeout",
          "Seconds to wait for each member's acknowledgement at the end of "
          "the file, counted from when everything sent to it has arrived "
          "(while data still drains to a member, or pieces it asked for "
          "again are sent, the wait goes on; in a swarm it starts 1 s "
          "later, when receivers ask for what they miss); those that do "
          "not answer get a warning", 1, 24 * 3600,
          DEFAULT_ACK_TIMEOUT, PARAM_FLAGS));
  g_object_class_install_property (klass, GST_HANGOUT_SHARE_PROP_MIN_ACKS,
      g_param_spec_uint ("min-acks", "Minimum acknowledgements",
          "Members that must have the whole file (acknowledged, digest "
          "matching) for the file to succeed; fewer is an error at EOS, so "
          "a share that reached nobody does not look like a success (0: "
          "never an error)", 0, 1024, DEFAULT_MIN_ACKS, PARAM_FLAGS));
  g_object_class_install_property (klass, GST_HANGOUT_SHARE_PROP_CHUNK_SIZE,
      g_param_spec_uint ("chunk-size", "Chunk size",
          "Size in bytes of each data message, 25-byte header included; at "
          "most the members' max-message-size (65536 suits every browser)",
          HANGOUT_TRANSFER_MIN_CHUNK_SIZE, HANGOUT_TRANSFER_MAX_CHUNK_SIZE,
          DEFAULT_CHUNK_SIZE, PARAM_FLAGS));
  g_object_class_install_property (klass,
      GST_HANGOUT_SHARE_PROP_DISTRIBUTION,
      g_param_spec_enum ("distribution", "Distribution",
          "direct: every byte to every member from this sink (in transfer "
          "version 2 to the members that speak it, paced by each one's "
          "window); swarm: the members that speak version 2 forward what "
          "the sink hands each of them, piece by piece, verified against "
          "the hashes the sink sends (docs/protocol.md §4), and the others "
          "get the file directly", HANGOUT_TYPE_SHARE_DISTRIBUTION,
          HANGOUT_SHARE_DISTRIBUTION_DIRECT, PARAM_FLAGS));
  g_object_class_install_property (klass, GST_HANGOUT_SHARE_PROP_LINGER,
      g_param_spec_uint ("linger", "Linger",
          "Seconds to go on serving the file after EOS (EOS is posted "
          "after that, once every member offered the file has it or "
          "ack-timeout ran out for it): members that join meanwhile, or "
          "while the file is shared, get the whole file. Only with an "
          "upstream that the sink reads at any offset (pull mode: "
          "filesrc); members of transfer version 1 that "
          "join late are not sent the file", 0, 24 * 3600, DEFAULT_LINGER,
          PARAM_FLAGS));
}

void
gst_hangout_share_object_install_receiver_properties (GObjectClass *klass)
{
  init_debug ();
  g_object_class_install_property (klass, GST_HANGOUT_SHARE_PROP_NUM_FILES,
      g_param_spec_uint ("num-files", "Number of files",
          "End the stream (EOS) after this many complete files (files still "
          "arriving are then declined); 0: keep receiving. Files that arrive "
          "at once (up to 16 with data, 4 per member) are held and output one "
          "after the other, "
          "in the order their data began: an offer alone never takes the "
          "place", 0, G_MAXUINT, DEFAULT_NUM_FILES, PARAM_FLAGS));
  g_object_class_install_property (klass,
      GST_HANGOUT_SHARE_PROP_STALL_TIMEOUT,
      g_param_spec_uint ("stall-timeout", "Stall timeout",
          "Seconds a file's data may stop (while we read from its sender) "
          "before the file fails, so that no member can hang the source",
          1, G_MAXUINT, DEFAULT_STALL_TIMEOUT, PARAM_FLAGS));
  g_object_class_install_property (klass, GST_HANGOUT_SHARE_PROP_SKIP_FAILED,
      g_param_spec_boolean ("skip-failed", "Skip failed files",
          "When the file being output fails (sender left or stalled, bad "
          "SHA-256), post a warning and hangout-file-failed and go on with "
          "the next file, whose bytes follow the failed one's: for "
          "applications that tell files apart by the messages. Without it "
          "such a failure is an error, unless no file has completed yet and "
          "another is waiting: then downstream is flushed (filesink "
          "truncates) and the next file is output", FALSE, PARAM_FLAGS));
  g_object_class_install_property (klass, GST_HANGOUT_SHARE_PROP_FROM,
      g_param_spec_string ("from", "From",
          "Accept files only from members with this display name (NULL: "
          "from anyone)", NULL, PARAM_FLAGS));

  g_object_class_install_property (klass,
      GST_HANGOUT_SHARE_PROP_CURRENT_LEVEL_BYTES,
      g_param_spec_uint64 ("current-level-bytes", "Current level (bytes)",
          "Bytes received and not yet output. Bounded: above 8 MiB for a "
          "file in transfer version 1, 1 MiB in version 2 (whose window, "
          "at most 8 MiB, waits below it), we stop reading from its "
          "sender until downstream catches up",
          0, G_MAXUINT64, 0, G_PARAM_READABLE | G_PARAM_STATIC_STRINGS));
}

GstHangoutShareObject *
gst_hangout_share_object_new (GstElement *element,
    GstHangoutRoomObject *room_object)
{
  GstHangoutShareObject *object = g_new0 (GstHangoutShareObject, 1);

  object->element = element;
  object->room_object = room_object;
  object->min_peers = DEFAULT_MIN_PEERS;
  object->ack_timeout = DEFAULT_ACK_TIMEOUT;
  object->min_acks = DEFAULT_MIN_ACKS;
  object->chunk_size = DEFAULT_CHUNK_SIZE;
  object->linger = DEFAULT_LINGER;
  object->num_files = DEFAULT_NUM_FILES;
  object->stall_timeout = DEFAULT_STALL_TIMEOUT;
  return object;
}

void
gst_hangout_share_object_free (GstHangoutShareObject *object)
{
  g_warn_if_fail (object->sender == NULL && object->receiver == NULL);
  g_free (object->from);
  g_free (object);
}

static guint *
uint_field (GstHangoutShareObject *object, guint prop_id)
{
  switch (prop_id) {
    case GST_HANGOUT_SHARE_PROP_MIN_PEERS:
      return &object->min_peers;
    case GST_HANGOUT_SHARE_PROP_ACK_TIMEOUT:
      return &object->ack_timeout;
    case GST_HANGOUT_SHARE_PROP_MIN_ACKS:
      return &object->min_acks;
    case GST_HANGOUT_SHARE_PROP_CHUNK_SIZE:
      return &object->chunk_size;
    case GST_HANGOUT_SHARE_PROP_LINGER:
      return &object->linger;
    case GST_HANGOUT_SHARE_PROP_NUM_FILES:
      return &object->num_files;
    case GST_HANGOUT_SHARE_PROP_STALL_TIMEOUT:
      return &object->stall_timeout;
    default:
      return NULL;
  }
}

gboolean
gst_hangout_share_object_set_property (GstHangoutShareObject *object,
    guint prop_id, const GValue *value)
{
  guint *field = uint_field (object, prop_id);
  gboolean known = TRUE;

  GST_OBJECT_LOCK (object->element);
  if (field != NULL)
    *field = g_value_get_uint (value);
  else if (prop_id == GST_HANGOUT_SHARE_PROP_DISTRIBUTION)
    object->distribution = g_value_get_enum (value);
  else if (prop_id == GST_HANGOUT_SHARE_PROP_FROM) {
    g_free (object->from);
    object->from = g_value_dup_string (value);
  } else if (prop_id == GST_HANGOUT_SHARE_PROP_SKIP_FAILED)
    object->skip_failed = g_value_get_boolean (value);
  else
    known = FALSE;
  GST_OBJECT_UNLOCK (object->element);
  return known;
}

gboolean
gst_hangout_share_object_get_property (GstHangoutShareObject *object,
    guint prop_id, GValue *value)
{
  guint *field = uint_field (object, prop_id);
  HangoutShareReceiver *receiver = NULL;
  gboolean known = TRUE;

  GST_OBJECT_LOCK (object->element);
  if (field != NULL)
    g_value_set_uint (value, *field);
  else if (prop_id == GST_HANGOUT_SHARE_PROP_DISTRIBUTION)
    g_value_set_enum (value, object->distribution);
  else if (prop_id == GST_HANGOUT_SHARE_PROP_FROM)
    g_value_set_string (value, object->from);
  else if (prop_id == GST_HANGOUT_SHARE_PROP_SKIP_FAILED)
    g_value_set_boolean (value, object->skip_failed);
  else if (prop_id == GST_HANGOUT_SHARE_PROP_CURRENT_LEVEL_BYTES
      && object->receiver != NULL)
    receiver = g_object_ref (object->receiver);
  else if (prop_id == GST_HANGOUT_SHARE_PROP_CURRENT_LEVEL_BYTES)
    g_value_set_uint64 (value, 0);
  else
    known = FALSE;
  GST_OBJECT_UNLOCK (object->element);
  /* Its level takes the receiver's lock: not under the element's. */
  if (receiver != NULL)
    g_value_set_uint64 (value, hangout_share_receiver_get_level (receiver));
  g_clear_object (&receiver);
  return known;
}

/* ---- the share layer's signals (network thread) ---- */

static void
on_answer (HangoutShareSender *sender, const gchar *member, guint state,
    const gchar *sha256, const gchar *reason, GstHangoutShareObject *object)
{
  GstElement *element = object->element;
  g_autofree gchar *who =
      gst_hangout_room_object_describe_member (object->room_object, member);
  g_autofree gchar *name = NULL;

  if (state == HANGOUT_TRANSFER_RECIPIENT_REJECTED) {
    GST_INFO_OBJECT (element, "%s declined the file: %s", who, reason);
    return;
  }
  name = gst_hangout_room_object_dup_member_name (object->room_object,
      member);
  gst_hangout_room_object_post_message (object->room_object,
      gst_structure_new ("hangout-ack", "id", G_TYPE_STRING, member,
          "name", G_TYPE_STRING, name,
          "ok", G_TYPE_BOOLEAN, state == HANGOUT_TRANSFER_RECIPIENT_OK,
          "sha256", G_TYPE_STRING, sha256, NULL));
  if (state == HANGOUT_TRANSFER_RECIPIENT_OK)
    GST_INFO_OBJECT (element, "%s has the file", who);
  else
    GST_ELEMENT_WARNING (element, RESOURCE, WRITE,
        ("Member %s did not receive the file intact", who),
        ("its SHA-256 is %s", sha256 ? sha256 : "unknown"));
}

static void
on_recipient_left (HangoutShareSender *sender, const gchar *member,
    const gchar *failure, GstHangoutShareObject *object)
{
  g_autofree gchar *who =
      gst_hangout_room_object_describe_member (object->room_object, member);

  if (failure != NULL)
    GST_ELEMENT_WARNING (object->element, RESOURCE, WRITE,
        ("The connection to member %s failed before it had the whole "
            "file: %s", who, failure), ("the others go on"));
  else
    GST_ELEMENT_WARNING (object->element, RESOURCE, WRITE,
        ("Member %s left before it had the whole file", who),
        ("the others go on"));
}

static void
on_dropped (HangoutShareReceiver *receiver, const gchar *member,
    const gchar *name, const gchar *error, GstHangoutShareObject *object)
{
  g_autofree gchar *sender =
      gst_hangout_room_object_describe_member (object->room_object, member);
  /* Names are chosen by remote members. */
  g_autofree gchar *shown =
      hangout_transfer_printable (name != NULL ? name : "");

  GST_ELEMENT_WARNING (object->element, RESOURCE, READ,
      ("Dropped '%s' from %s, waiting for its turn: %s", shown, sender,
          error), ("the file is incomplete; the file being output goes on"));
}

/* A forwarder's piece failed verification: the share layer takes it from
 * the sharer again, but the user learns who sent it. */
static void
on_corrupt (HangoutShareReceiver *receiver, const gchar *member,
    const gchar *name, guint64 piece, gboolean excluded,
    GstHangoutShareObject *object)
{
  g_autofree gchar *sender =
      gst_hangout_room_object_describe_member (object->room_object, member);
  /* Names are chosen by remote members. */
  g_autofree gchar *shown =
      hangout_transfer_printable (name != NULL ? name : "");

  GST_ELEMENT_WARNING (object->element, RESOURCE, READ,
      ("Piece %" G_GUINT64_FORMAT " of '%s' from %s failed verification",
          piece, shown, sender),
      ("taken from the sharer again%s", excluded ? "; that member's data "
          "for the file are dropped from now on" : ""));
}

/* ---- from start() to stop() ---- */

void
gst_hangout_share_object_prepare_sender (HangoutRoom *room, gpointer data)
{
  GstHangoutShareObject *object = data;

  object->sender = hangout_share_sender_new (room,
      "this member only shares files (hangoutsink)");
  g_signal_connect (object->sender, "answer", G_CALLBACK (on_answer), object);
  g_signal_connect (object->sender, "recipient-left",
      G_CALLBACK (on_recipient_left), object);
}

void
gst_hangout_share_object_prepare_receiver (HangoutRoom *room, gpointer data)
{
  GstHangoutShareObject *object = data;
  guint join_timeout =
      gst_hangout_room_object_get_join_timeout (object->room_object);
  HangoutShareReceiver *receiver = hangout_share_receiver_new (room,
      join_timeout);

  GST_OBJECT_LOCK (object->element);
  g_object_set (receiver, "stall-timeout", object->stall_timeout, "from",
      object->from, "max-files", object->num_files, NULL);
  object->receiver = receiver;
  GST_OBJECT_UNLOCK (object->element);
  g_signal_connect (receiver, "dropped", G_CALLBACK (on_dropped), object);
  g_signal_connect (receiver, "corrupt", G_CALLBACK (on_corrupt), object);
}

HangoutShareSender *
gst_hangout_share_object_get_sender (GstHangoutShareObject *object)
{
  return object->sender;
}

HangoutShareReceiver *
gst_hangout_share_object_get_receiver (GstHangoutShareObject *object)
{
  return object->receiver;
}

void
gst_hangout_share_object_stop (GstHangoutShareObject *object)
{
  HangoutShareReceiver *receiver;

  g_clear_object (&object->sender);
  GST_OBJECT_LOCK (object->element);
  receiver = g_steal_pointer (&object->receiver);
  GST_OBJECT_UNLOCK (object->element);
  g_clear_object (&receiver);
}

GstFlowReturn
gst_hangout_share_object_flow_from_error (GstHangoutShareObject *object,
    const GError *error, const gchar *what)
{
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return GST_FLOW_FLUSHING;
  GST_ELEMENT_ERROR (object->element, STREAM, FAILED, ("%s", what), ("%s",
          error->message));
  return GST_FLOW_ERROR;
}

GstFlowReturn
gst_hangout_share_object_wait_for_members (GstHangoutShareObject *object,
    GCancellable *cancellable)
{
  g_autoptr (GError) error = NULL;
  guint join_timeout =
      gst_hangout_room_object_get_join_timeout (object->room_object);
  guint min_peers, chunk_size, ack_timeout, min_acks, linger;
  HangoutShareDistribution distribution;
  g_autofree gchar *id = NULL;

  GST_OBJECT_LOCK (object->element);
  min_peers = object->min_peers;
  chunk_size = object->chunk_size;
  ack_timeout = object->ack_timeout;
  min_acks = object->min_acks;
  distribution = object->distribution;
  linger = object->linger;
  GST_OBJECT_UNLOCK (object->element);
  g_object_set (object->sender, "chunk-size", chunk_size, "ack-timeout",
      ack_timeout, "min-acks", min_acks, "distribution", distribution,
      "linger", linger, NULL);

  if (hangout_share_sender_wait_for_members (object->sender, min_peers,
          join_timeout, cancellable, &error))
    return GST_FLOW_OK;
  if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT))
    return gst_hangout_share_object_flow_from_error (object, error,
        "Cannot send this file");
  id = hangout_room_dup_id (hangout_share_sender_get_room (object->sender));
  if (id == NULL)
    gst_hangout_room_object_post_join_error (object->room_object,
        GST_RESOURCE_ERROR_OPEN_WRITE);
  else
    GST_ELEMENT_ERROR (object->element, RESOURCE, OPEN_WRITE,
        ("Only %u of the %u members asked for (min-peers) connected "
            "within %u s (join-timeout)",
            hangout_share_sender_count_connected (object->sender), min_peers,
            join_timeout), ("joined as %s", id));
  return GST_FLOW_ERROR;
}

static guint
get_uint (GstHangoutShareObject *object, const guint *field)
{
  guint value;

  GST_OBJECT_LOCK (object->element);
  value = *field;
  GST_OBJECT_UNLOCK (object->element);
  return value;
}

guint
gst_hangout_share_object_get_ack_timeout (GstHangoutShareObject *object)
{
  return get_uint (object, &object->ack_timeout);
}

guint
gst_hangout_share_object_get_min_acks (GstHangoutShareObject *object)
{
  return get_uint (object, &object->min_acks);
}

guint
gst_hangout_share_object_get_num_files (GstHangoutShareObject *object)
{
  return get_uint (object, &object->num_files);
}

gboolean
gst_hangout_share_object_get_skip_failed (GstHangoutShareObject *object)
{
  gboolean skip_failed;

  GST_OBJECT_LOCK (object->element);
  skip_failed = object->skip_failed;
  GST_OBJECT_UNLOCK (object->element);
  return skip_failed;
}
