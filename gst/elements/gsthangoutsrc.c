/* gst-hangout — hangoutsrc: outputs, in order, the bytes of the files the
 * members of a room share (docs/protocol.md §2).
 *
 * Threads: the room's network thread turns messages into items on a queue
 * (it never blocks: it also carries every other member's traffic);
 * create() runs in the streaming thread and takes them off. `lock` guards
 * the queue and the receiver; `cond` wakes create().
 *
 * Several files may arrive at once (one per sender, or more): the queue is
 * kept per file (PendingFile, in offer order) and create() outputs one file
 * at a time, the first in offer order, so the output stays one byte stream;
 * the others wait in their queues until it is complete. A waiting file that
 * fails (its sender left, a bad digest) is dropped with a warning; the file
 * being output failing is an error, as before.
 *
 * Memory: each file's queue is bounded. The network thread cannot wait for
 * downstream (it carries every member's traffic), so when a file's queue
 * holds QUEUE_HIGH bytes we stop reading from its sender
 * (hangout_room_set_receiving()): SCTP's window closes, the sender's
 * buffered amount grows and its hangoutsink (or page) waits. create()
 * reads again below QUEUE_LOW. A file waiting for its turn is held the
 * same way, so a second sender pauses instead of filling memory.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "gsthangoutsrc.h"
#include "gsthangoutroomobject.h"
#include <hangout/transfer.h>
#include <string.h>

/**
 * SECTION:element-hangoutsrc
 * @title: hangoutsrc
 *
 * Joins a hangout room and outputs the files its members share, one after
 * the other; each file starts with a DISCONT buffer and a tag event whose
 * title is the file's name. Files that arrive at the same time (from
 * several senders) are all accepted and output in offer order: the others
 * wait until the current one is complete. A waiting file that fails is
 * dropped with a warning; the file being output failing is an error.
 *
 * ## Example launch line
 * |[
 * gst-launch-1.0 hangoutsrc room=team server=ws://HOST:8080/ws ! filesink location=big.iso
 * ]|
 */

GST_DEBUG_CATEGORY_STATIC (gst_hangout_src_debug);
#define GST_CAT_DEFAULT gst_hangout_src_debug

#define DEFAULT_NUM_FILES 1
#define PROGRESS_INTERVAL (G_USEC_PER_SEC / 2)
/* A file's queue: stop reading from its sender above QUEUE_HIGH bytes,
 * read again at QUEUE_LOW. The gap lets the sender refill while we drain. */
#define QUEUE_HIGH (8 * 1024 * 1024)
#define QUEUE_LOW (QUEUE_HIGH / 2)
/* create() waiting for data is woken once this much has gathered (or
 * anything but data arrives), not for every message; it also looks by
 * itself every WAKE_INTERVAL, so that a slow sender's bytes do not wait
 * for a batch. */
#define WAKE_BATCH (256 * 1024)
#define WAKE_INTERVAL (G_USEC_PER_SEC / 10)

enum {
  PROP_NUM_FILES = GST_HANGOUT_ROOM_PROP_LAST,
  PROP_FROM,
  PROP_CURRENT_LEVEL_BYTES,
};

typedef enum {
  ITEM_STARTED,
  ITEM_DATA,
  ITEM_COMPLETE,
  ITEM_FAILED,
} ItemType;

typedef struct {
  ItemType type;
  HangoutTransferEvent event;
  gchar *sender_name;           /* for messages; not on data items */
} Item;

/* An accepted file: its items, not yet output. */
typedef struct {
  gchar *key;                   /* "member/id" */
  gchar *member;                /* its sender */
  GQueue items;                 /* Item */
  guint64 bytes;                /* of data in items */
  gboolean paused;              /* not reading from the sender meanwhile */
} PendingFile;

struct _GstHangoutSrc {
  GstPushSrc parent;

  GstHangoutRoomObject *room_object;   /* room, server, … and joining */

  /* Properties, under the object lock. */
  guint num_files;
  gchar *from;

  GMutex lock;
  GCond cond;
  HangoutRoom *room;
  HangoutTransferReceiver *receiver;
  GQueue files;                 /* PendingFile, in offer order; the head is
                                 * the file being output */
  GHashTable *by_key;           /* "member/id" -> PendingFile (owned) */
  gboolean waiting;             /* create() waits for items */
  gboolean flushing;
  guint accepted;               /* files accepted and not dropped */
  gboolean joined;              /* the room has an id on the server */
  gint64 join_deadline;         /* monotonic; fail when not joined by then */

  /* Streaming thread only. */
  guint completed;
  gboolean discont;
  gint64 last_progress;
  gchar *file_name;
  gchar *file_sender;
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

static void
item_free (Item *item)
{
  hangout_transfer_event_clear (&item->event);
  g_free (item->sender_name);
  g_free (item);
}

static void
pending_file_free (PendingFile *file)
{
  g_queue_clear_full (&file->items, (GDestroyNotify) item_free);
  g_free (file->key);
  g_free (file->member);
  g_free (file);
}

/* Reads from @file's sender again if we stopped. Called with the lock. */
static void
resume_sender (GstHangoutSrc *src, PendingFile *file)
{
  if (!file->paused)
    return;
  file->paused = FALSE;
  GST_DEBUG_OBJECT (src, "reading from %s again (%" G_GUINT64_FORMAT
      " bytes queued)", file->member, file->bytes);
  hangout_room_set_receiving (src->room, file->member, TRUE);
}

/* Forgets @file, which is off src->files. Called with the lock. */
static void
remove_file (GstHangoutSrc *src, PendingFile *file)
{
  resume_sender (src, file);
  g_hash_table_remove (src->by_key, file->key);
}

/* Moves @event onto @file's queue. Called with the lock. */
static void
push_item (GstHangoutSrc *src, PendingFile *file, ItemType type,
    HangoutTransferEvent *event)
{
  Item *item = g_new0 (Item, 1);

  item->type = type;
  item->event = *event;
  memset (event, 0, sizeof *event);
  if (type != ITEM_DATA)
    item->sender_name =
        gst_hangout_room_object_dup_member_name (src->room_object,
        item->event.member);
  if (item->event.payload != NULL) {
    file->bytes += g_bytes_get_size (item->event.payload);
    if (!file->paused && file->bytes >= QUEUE_HIGH) {
      /* We are on the network thread: this takes effect before the next
       * message is read. */
      file->paused = TRUE;
      GST_DEBUG_OBJECT (src, "%" G_GUINT64_FORMAT " bytes of %s queued: "
          "not reading from %s for now", file->bytes, file->key,
          file->member);
      hangout_room_set_receiving (src->room, file->member, FALSE);
    }
  }
  g_queue_push_tail (&file->items, item);
  if (src->waiting && file == g_queue_peek_head (&src->files)
      && (type != ITEM_DATA || file->bytes >= WAKE_BATCH))
    g_cond_broadcast (&src->cond);
}

static gchar *
file_key (const gchar *member, const gchar *id)
{
  return g_strconcat (member, "/", id, NULL);
}

/* The file named @key failed (@event FAILED, consumed). The file being
 * output gets the failure queued (create() posts the error); a waiting one
 * is dropped: returns a warning to post once the lock is released, else
 * NULL. Called with the lock. */
static gchar *
file_failed (GstHangoutSrc *src, const gchar *key, HangoutTransferEvent *event)
{
  PendingFile *file = key ? g_hash_table_lookup (src->by_key, key) : NULL;
  g_autofree gchar *sender = NULL;
  gchar *warning;

  if (file == NULL) {
    hangout_transfer_event_clear (event);
    return NULL;
  }
  if (file == g_queue_peek_head (&src->files)) {
    push_item (src, file, ITEM_FAILED, event);
    return NULL;
  }
  sender = gst_hangout_room_object_describe_member (src->room_object,
      event->member);
  warning = g_strdup_printf ("Dropped '%s' from %s, waiting for its turn: %s",
      event->name, sender, event->error ?
      event->error->message : "failed");
  g_queue_remove (&src->files, file);
  src->accepted--;
  hangout_transfer_event_clear (event);
  remove_file (src, file);
  return warning;
}

static void
post_drop_warning (GstHangoutSrc *src, gchar *warning)
{
  if (warning == NULL)
    return;
  GST_ELEMENT_WARNING (src, RESOURCE, READ, ("%s", warning),
      ("the file is incomplete; the file being output goes on"));
  g_free (warning);
}

/* ---- the room's signals (network thread) ---- */

static void
on_message (HangoutRoom *room, const gchar *member, gboolean is_string,
    GBytes *data, GstHangoutSrc *src)
{
  HangoutTransferEvent event;
  g_autoptr (GError) error = NULL;
  g_autofree gchar *reply = NULL;
  g_autofree gchar *key = NULL;
  g_autofree gchar *from = NULL;
  gchar *warning = NULL;
  PendingFile *file;
  guint num_files;

  GST_OBJECT_LOCK (src);
  from = g_strdup (src->from);
  num_files = src->num_files;
  GST_OBJECT_UNLOCK (src);

  g_mutex_lock (&src->lock);
  if (!hangout_transfer_receiver_handle (src->receiver, member, is_string,
          data, &event, &error)) {
    g_mutex_unlock (&src->lock);
    GST_WARNING_OBJECT (src, "ignoring a message from %s: %s", member,
        error->message);
    return;
  }
  reply = g_steal_pointer (&event.reply);
  key = event.id ? file_key (event.member, event.id) : NULL;

  switch (event.type) {
    case HANGOUT_TRANSFER_EVENT_STARTED:{
      g_autofree gchar *name = hangout_room_dup_member_name (room, member);
      const gchar *why = NULL;

      /* Files arriving at once each get a queue; create() outputs them
       * one after the other. */
      if (from != NULL && g_strcmp0 (name, from) != 0)
        why = "not from the member this receiver listens to";
      else if (num_files > 0 && src->accepted >= num_files)
        why = "has all the files it wanted";
      if (why != NULL) {
        GST_INFO_OBJECT (src, "declining %s from %s: %s", event.name, member,
            why);
        reply = hangout_transfer_receiver_reject (src->receiver, member,
            event.id, why);
        hangout_transfer_event_clear (&event);
        break;
      }
      if (!g_queue_is_empty (&src->files))
        GST_INFO_OBJECT (src, "%s from %s waits for %u other files",
            event.name, member, g_queue_get_length (&src->files));
      file = g_new0 (PendingFile, 1);
      file->key = g_steal_pointer (&key);
      file->member = g_strdup (member);
      g_queue_init (&file->items);
      g_hash_table_insert (src->by_key, file->key, file);
      g_queue_push_tail (&src->files, file);
      src->accepted++;
      push_item (src, file, ITEM_STARTED, &event);
      break;
    }
    case HANGOUT_TRANSFER_EVENT_DATA:
    case HANGOUT_TRANSFER_EVENT_COMPLETE:
      file = key ? g_hash_table_lookup (src->by_key, key) : NULL;
      if (file != NULL)
        push_item (src, file, event.type == HANGOUT_TRANSFER_EVENT_DATA ?
            ITEM_DATA : ITEM_COMPLETE, &event);
      hangout_transfer_event_clear (&event);
      break;
    case HANGOUT_TRANSFER_EVENT_FAILED:
      warning = file_failed (src, key, &event);
      break;
    case HANGOUT_TRANSFER_EVENT_NONE:
      hangout_transfer_event_clear (&event);
      break;
  }
  g_mutex_unlock (&src->lock);

  post_drop_warning (src, warning);
  if (reply != NULL && !hangout_room_send_string (room, member, reply,
          &error))
    GST_WARNING_OBJECT (src, "could not answer %s: %s", member,
        error->message);
}

static void
on_member_left (HangoutRoom *room, const gchar *member, GstHangoutSrc *src)
{
  GPtrArray *events;
  GPtrArray *warnings = g_ptr_array_new ();
  guint i;

  g_mutex_lock (&src->lock);
  events = hangout_transfer_receiver_member_left (src->receiver, member);
  for (i = 0; i < events->len; i++) {
    HangoutTransferEvent *event = g_ptr_array_index (events, i);
    g_autofree gchar *key = file_key (event->member, event->id);
    gchar *warning = file_failed (src, key, event);

    if (warning != NULL)
      g_ptr_array_add (warnings, warning);
  }
  g_mutex_unlock (&src->lock);
  g_ptr_array_unref (events);
  for (i = 0; i < warnings->len; i++)
    post_drop_warning (src, g_ptr_array_index (warnings, i));
  g_ptr_array_unref (warnings);
}

/* ---- GstBaseSrc ---- */

static void
on_room_id (HangoutRoom *room, GParamSpec *pspec, GstHangoutSrc *src)
{
  g_autofree gchar *id = hangout_room_dup_id (room);

  g_mutex_lock (&src->lock);
  src->joined = id != NULL;
  g_cond_broadcast (&src->cond);
  g_mutex_unlock (&src->lock);
}

static void
connect_room (HangoutRoom *room, gpointer data)
{
  /* Joining happens on the room's thread; create() gives up on a server
   * that never lets us in (unreachable, refusing) after join-timeout. */
  g_signal_connect (room, "notify::id", G_CALLBACK (on_room_id), data);
  g_signal_connect (room, "member-left", G_CALLBACK (on_member_left), data);
  g_signal_connect (room, "message", G_CALLBACK (on_message), data);
}

static gboolean
gst_hangout_src_start (GstBaseSrc *bsrc)
{
  GstHangoutSrc *src = GST_HANGOUT_SRC (bsrc);
  guint join_timeout =
      gst_hangout_room_object_get_join_timeout (src->room_object);

  src->receiver = hangout_transfer_receiver_new ();
  src->completed = 0;
  src->accepted = 0;
  src->last_progress = 0;
  g_mutex_lock (&src->lock);
  src->joined = FALSE;
  src->join_deadline = g_get_monotonic_time ()
      + (gint64) join_timeout * G_TIME_SPAN_SECOND;
  g_mutex_unlock (&src->lock);
  src->room = gst_hangout_room_object_start (src->room_object,
      GST_RESOURCE_ERROR_OPEN_READ, connect_room, src);
  if (src->room == NULL) {
    g_clear_pointer (&src->receiver, hangout_transfer_receiver_free);
    return FALSE;
  }
  return TRUE;
}

static gboolean
gst_hangout_src_stop (GstBaseSrc *bsrc)
{
  GstHangoutSrc *src = GST_HANGOUT_SRC (bsrc);

  gst_hangout_room_object_stop (src->room_object, src);
  g_mutex_lock (&src->lock);
  src->room = NULL;
  g_queue_clear (&src->files);
  g_hash_table_remove_all (src->by_key);
  g_clear_pointer (&src->receiver, hangout_transfer_receiver_free);
  g_mutex_unlock (&src->lock);
  g_clear_pointer (&src->file_name, g_free);
  g_clear_pointer (&src->file_sender, g_free);
  return TRUE;
}

/* unlock() and unlock_stop(): a waiting render/create returns FLUSHING. */
static void
set_flushing (GstHangoutSrc *src, gboolean flushing)
{
  g_mutex_lock (&src->lock);
  src->flushing = flushing;
  g_cond_broadcast (&src->cond);
  g_mutex_unlock (&src->lock);
}

static gboolean
gst_hangout_src_unlock (GstBaseSrc *bsrc)
{
  set_flushing (GST_HANGOUT_SRC (bsrc), TRUE);
  return TRUE;
}

static gboolean
gst_hangout_src_unlock_stop (GstBaseSrc *bsrc)
{
  set_flushing (GST_HANGOUT_SRC (bsrc), FALSE);
  return TRUE;
}

static void
post_progress (GstHangoutSrc *src, GstProgressType type, gboolean force)
{
  gint64 now = g_get_monotonic_time ();
  gchar *text;

  gboolean playing;

  /* gst-launch-1.0 waits for a started progress to complete before it sets
   * the pipeline to PLAYING; posted while prerolling, it never would. */
  GST_OBJECT_LOCK (src);
  playing = GST_STATE (src) == GST_STATE_PLAYING;
  GST_OBJECT_UNLOCK (src);
  if (!playing && type != GST_PROGRESS_TYPE_COMPLETE
      && type != GST_PROGRESS_TYPE_ERROR)
    return;
  if (!force && now - src->last_progress < PROGRESS_INTERVAL)
    return;
  src->last_progress = now;
  if (src->file_size >= 0)
    text = g_strdup_printf ("%s: received %" G_GUINT64_FORMAT " of %"
        G_GINT64_FORMAT " bytes", src->file_name, src->file_received,
        src->file_size);
  else
    text = g_strdup_printf ("%s: received %" G_GUINT64_FORMAT " bytes",
        src->file_name, src->file_received);
  gst_element_post_message (GST_ELEMENT (src),
      gst_message_new_progress (GST_OBJECT (src), type, "hangout-receive",
          text));
  g_free (text);
}

static GstFlowReturn
gst_hangout_src_create (GstPushSrc *psrc, GstBuffer **outbuf)
{
  GstHangoutSrc *src = GST_HANGOUT_SRC (psrc);

  for (;;) {
    PendingFile *file;
    Item *item;
    guint num_files;

    g_mutex_lock (&src->lock);
    while (((file = g_queue_peek_head (&src->files)) == NULL
            || g_queue_is_empty (&file->items)) && !src->flushing) {
      if (src->joined) {
        src->waiting = TRUE;
        g_cond_wait_until (&src->cond, &src->lock,
            g_get_monotonic_time () + WAKE_INTERVAL);
        src->waiting = FALSE;
      } else if (!g_cond_wait_until (&src->cond, &src->lock,
              src->join_deadline) && !src->joined && !src->flushing) {
        g_mutex_unlock (&src->lock);
        gst_hangout_room_object_post_join_error (src->room_object,
            GST_RESOURCE_ERROR_OPEN_READ);
        return GST_FLOW_ERROR;
      }
    }
    if (src->flushing) {
      g_mutex_unlock (&src->lock);
      return GST_FLOW_FLUSHING;
    }
    item = g_queue_pop_head (&file->items);
    if (item->event.payload != NULL) {
      file->bytes -= g_bytes_get_size (item->event.payload);
      if (file->bytes <= QUEUE_LOW)
        resume_sender (src, file);
    }
    /* Its last item: the next file in offer order is output next. */
    if (item->type == ITEM_COMPLETE || item->type == ITEM_FAILED) {
      g_queue_pop_head (&src->files);
      remove_file (src, file);
    }
    g_mutex_unlock (&src->lock);

    switch (item->type) {
      case ITEM_STARTED:{
        GstTagList *tags;

        g_free (src->file_name);
        src->file_name = g_strdup (item->event.name);
        g_free (src->file_sender);
        src->file_sender = g_strdup (item->sender_name);
        src->file_size = item->event.size;
        src->file_received = 0;
        src->discont = TRUE;
        GST_INFO_OBJECT (src, "receiving %s from %s", src->file_name,
            item->event.member);
        gst_element_post_message (GST_ELEMENT (src),
            gst_message_new_element (GST_OBJECT (src),
                gst_structure_new ("hangout-file-started",
                    "name", G_TYPE_STRING, item->event.name,
                    "size", G_TYPE_INT64, item->event.size,
                    "mime", G_TYPE_STRING, item->event.mime,
                    "sender", G_TYPE_STRING, item->event.member,
                    "sender-name", G_TYPE_STRING, item->sender_name, NULL)));
        post_progress (src, GST_PROGRESS_TYPE_START, TRUE);
        /* basesrc queues a serialized event sent to the element and pushes
         * it after the segment, before the next buffer. */
        tags = gst_tag_list_new (GST_TAG_TITLE, item->event.name, NULL);
        gst_element_send_event (GST_ELEMENT (src), gst_event_new_tag (tags));
        item_free (item);
        continue;
      }
      case ITEM_DATA:{
        GstBuffer *buffer =
            gst_buffer_new_wrapped_bytes (item->event.payload);

        GST_BUFFER_OFFSET (buffer) = item->event.offset;
        GST_BUFFER_OFFSET_END (buffer) = item->event.offset
            + gst_buffer_get_size (buffer);
        if (src->discont) {
          GST_BUFFER_FLAG_SET (buffer, GST_BUFFER_FLAG_DISCONT);
          src->discont = FALSE;
        }
        src->file_received = GST_BUFFER_OFFSET_END (buffer);
        item_free (item);
        post_progress (src, GST_PROGRESS_TYPE_CONTINUE, FALSE);
        *outbuf = buffer;
        return GST_FLOW_OK;
      }
      case ITEM_COMPLETE:
        GST_INFO_OBJECT (src, "received %s intact (%" G_GINT64_FORMAT
            " bytes, SHA-256 %s)", item->event.name, item->event.size,
            item->event.sha256);
        gst_element_post_message (GST_ELEMENT (src),
            gst_message_new_element (GST_OBJECT (src),
                gst_structure_new ("hangout-file-complete",
                    "name", G_TYPE_STRING, item->event.name,
                    "size", G_TYPE_INT64, item->event.size,
                    "sha256", G_TYPE_STRING, item->event.sha256,
                    "sender", G_TYPE_STRING, item->event.member,
                    "sender-name", G_TYPE_STRING, item->sender_name, NULL)));
        post_progress (src, GST_PROGRESS_TYPE_COMPLETE, TRUE);
        item_free (item);
        src->completed++;
        GST_OBJECT_LOCK (src);
        num_files = src->num_files;
        GST_OBJECT_UNLOCK (src);
        if (num_files > 0 && src->completed >= num_files)
          return GST_FLOW_EOS;
        continue;
      case ITEM_FAILED:
        post_progress (src, GST_PROGRESS_TYPE_ERROR, TRUE);
        GST_ELEMENT_ERROR (src, RESOURCE, READ,
            ("Receiving '%s' from %s failed: %s", item->event.name,
                item->sender_name ? item->sender_name : item->event.member,
                item->event.error->message),
            ("after %" G_GUINT64_FORMAT " bytes; the file is incomplete",
                item->event.offset));
        item_free (item);
        return GST_FLOW_ERROR;
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
    guint64 level = 0;
    GList *l;

    g_mutex_lock (&src->lock);
    for (l = src->files.head; l != NULL; l = l->next)
      level += ((PendingFile *) l->data)->bytes;
    g_mutex_unlock (&src->lock);
    g_value_set_uint64 (value, level);
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
  g_hash_table_unref (src->by_key);
  g_mutex_clear (&src->lock);
  g_cond_clear (&src->cond);
  G_OBJECT_CLASS (gst_hangout_src_parent_class)->finalize (object);
}

static void
gst_hangout_src_init (GstHangoutSrc *src)
{
  src->room_object = gst_hangout_room_object_new (GST_ELEMENT (src));
  src->num_files = DEFAULT_NUM_FILES;
  g_mutex_init (&src->lock);
  g_cond_init (&src->cond);
  g_queue_init (&src->files);
  src->by_key = g_hash_table_new_full (g_str_hash, g_str_equal, NULL,
      (GDestroyNotify) pending_file_free);
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
      "Seconds to wait to join the room on the signalling server before "
      "failing with an error (waiting for files afterwards has no limit)");
  g_object_class_install_property (gobject_class, PROP_NUM_FILES,
      g_param_spec_uint ("num-files", "Number of files",
          "End the stream (EOS) after this many complete files; 0: keep "
          "receiving. Files that arrive at once are all accepted and output "
          "one after the other, in offer order", 0, G_MAXUINT,
          DEFAULT_NUM_FILES, PARAM_FLAGS));
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

  basesrc_class->start = GST_DEBUG_FUNCPTR (gst_hangout_src_start);
  basesrc_class->stop = GST_DEBUG_FUNCPTR (gst_hangout_src_stop);
  basesrc_class->unlock = GST_DEBUG_FUNCPTR (gst_hangout_src_unlock);
  basesrc_class->unlock_stop = GST_DEBUG_FUNCPTR (gst_hangout_src_unlock_stop);
  pushsrc_class->create = GST_DEBUG_FUNCPTR (gst_hangout_src_create);
}
