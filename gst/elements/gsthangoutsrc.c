/* gst-hangout — hangoutsrc: outputs, in order, the bytes of the files the
 * members of a room share (docs/protocol.md §2).
 *
 * Threads: the room's network thread turns messages into items on a queue
 * (it never blocks: it also carries every other member's traffic);
 * create() runs in the streaming thread and takes them off. `lock` guards
 * the queue and the receiver; `cond` wakes create().
 *
 * Several files may arrive at once (one per sender, or more): the queue is
 * kept per file (PendingFile) and create() outputs one file at a time, so
 * the output stays one byte stream; the others wait in their queues until
 * it is complete. Which file goes first is decided by its data, not by its
 * offer: files are ordered by the arrival of their first data message (an
 * offer alone never takes the place, so a member cannot hold the source
 * with offers it never follows), and create() commits to a file (posts
 * hangout-file-started) only once it has data. A waiting file that fails
 * (its sender left or stalled, a bad digest) is dropped with a warning.
 * The file being output failing is an error, except (docs/architecture.md
 * "Which files a receiver takes"): before any file completed, the source
 * flushes downstream (filesink truncates) and outputs the next file, if
 * another is waiting; with skip-failed it always goes on to the next.
 *
 * Memory: each file's queue is bounded. The network thread cannot wait for
 * downstream (it carries every member's traffic), so when a file's queue
 * holds QUEUE_HIGH bytes we stop reading from its sender
 * (hangout_room_set_receiving()): SCTP's window closes, the sender's
 * buffered amount grows and its hangoutsink (or page) waits. create()
 * reads again below QUEUE_LOW. A file waiting for its turn is held the
 * same way at QUEUE_WAITING, so other senders pause instead of filling
 * memory.
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
/* Files whose data began, held at once (being output or waiting), in all
 * and per member; a file whose data begins beyond either is declined.
 * Offers alone hold no data and are bounded by the transfer receiver (16
 * per member, stalled after 60 s), so they are not counted: one member's
 * offers must not keep another member's file out. The file being output
 * holds at most QUEUE_HIGH, each waiting one QUEUE_WAITING: 8 + 15 × 2 MiB
 * at most, whoever sends them. */
#define MAX_FLOWING_FILES 16
#define MAX_FLOWING_PER_MEMBER 4
#define PROGRESS_INTERVAL (G_USEC_PER_SEC / 2)
/* A file's queue: stop reading from its sender above QUEUE_HIGH bytes,
 * read again at QUEUE_LOW. The gap lets the sender refill while we drain. */
#define QUEUE_HIGH (8 * 1024 * 1024)
#define QUEUE_LOW (QUEUE_HIGH / 2)
#define QUEUE_WAITING (2 * 1024 * 1024)
/* create() waiting for data is woken once this much has gathered (or
 * anything but data arrives), not for every message; it also looks by
 * itself every WAKE_INTERVAL, so that a slow sender's bytes do not wait
 * for a batch. */
#define WAKE_BATCH (256 * 1024)
#define WAKE_INTERVAL (G_USEC_PER_SEC / 10)

enum {
  PROP_NUM_FILES = GST_HANGOUT_ROOM_PROP_LAST,
  PROP_FROM,
  PROP_STALL_TIMEOUT,
  PROP_SKIP_FAILED,
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
  gboolean flowing;             /* its data began: it may be output */
} PendingFile;

struct _GstHangoutSrc {
  GstPushSrc parent;

  GstHangoutRoomObject *room_object;   /* room, server, … and joining */

  /* Properties, under the object lock. */
  guint num_files;
  gchar *from;
  guint stall_timeout;
  gboolean skip_failed;

  GMutex lock;
  GCond cond;
  HangoutRoom *room;
  HangoutTransferReceiver *receiver;
  GQueue files;                 /* PendingFile: those flowing first, in the
                                 * order their data began, then the others */
  PendingFile *current;         /* being output (committed), or NULL */
  GHashTable *by_key;           /* "member/id" -> PendingFile (owned) */
  GSource *stall_check;         /* on the room's context */
  gboolean waiting;             /* create() waits for items */
  gboolean flushing;
  guint completed;              /* files output complete */
  gboolean partial_told;        /* "the output is partial" was posted */
  gboolean joined;              /* the room has an id on the server */
  gint64 join_deadline;         /* monotonic; fail when not joined by then */

  /* Streaming thread only. */
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
  hangout_transfer_receiver_set_held (src->receiver, file->member, FALSE);
  GST_DEBUG_OBJECT (src, "reading from %s again (%" G_GUINT64_FORMAT
      " bytes queued)", file->member, file->bytes);
  hangout_room_set_receiving (src->room, file->member, TRUE);
}

/* Forgets @file, which is off src->files. Called with the lock. */
static void
remove_file (GstHangoutSrc *src, PendingFile *file)
{
  if (src->current == file)
    src->current = NULL;
  resume_sender (src, file);
  g_hash_table_remove (src->by_key, file->key);
}

/* The file create() outputs next: the one being output, else the first
 * whose data began. Called with the lock. */
static PendingFile *
next_file (GstHangoutSrc *src)
{
  PendingFile *head = g_queue_peek_head (&src->files);

  if (src->current != NULL)
    return src->current;
  return head != NULL && head->flowing ? head : NULL;
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
    if (!file->paused && file->bytes >= (file == src->current ? QUEUE_HIGH
            : QUEUE_WAITING)) {
      /* We are on the network thread: this takes effect before the next
       * message is read. */
      file->paused = TRUE;
      hangout_transfer_receiver_set_held (src->receiver, file->member, TRUE);
      GST_DEBUG_OBJECT (src, "%" G_GUINT64_FORMAT " bytes of %s queued: "
          "not reading from %s for now", file->bytes, file->key,
          file->member);
      hangout_room_set_receiving (src->room, file->member, FALSE);
    }
  }
  g_queue_push_tail (&file->items, item);
  if (type != ITEM_STARTED && !file->flowing) {
    /* Its data began: behind the files whose data began earlier, ahead of
     * those that have only been offered. */
    GList *l;

    file->flowing = TRUE;
    g_queue_remove (&src->files, file);
    l = src->files.head;
    while (l != NULL && ((PendingFile *) l->data)->flowing)
      l = l->next;
    if (l != NULL)
      g_queue_insert_before (&src->files, l, file);
    else
      g_queue_push_tail (&src->files, file);
  }
  if (src->waiting && file == next_file (src)
      && (type != ITEM_DATA || file->bytes >= WAKE_BATCH))
    g_cond_broadcast (&src->cond);
}

/* @text for a message or log line: control and bidi characters escaped
 * (names are chosen by remote members). */
static gchar *
printable (const gchar *text)
{
  return hangout_transfer_printable (text != NULL ? text : "");
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
  g_autofree gchar *name = NULL;
  gchar *warning;

  if (file == NULL) {
    hangout_transfer_event_clear (event);
    return NULL;
  }
  if (file == src->current) {
    push_item (src, file, ITEM_FAILED, event);
    return NULL;
  }
  sender = gst_hangout_room_object_describe_member (src->room_object,
      event->member);
  name = printable (event->name);
  warning = g_strdup_printf ("Dropped '%s' from %s, waiting for its turn: %s",
      name, sender, event->error ?
      event->error->message : "failed");
  g_queue_remove (&src->files, file);
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

/* Why @file, whose data begins now, cannot be held (transfer full), or
 * NULL. Called with the lock. */
static gchar *
over_flowing_limit (GstHangoutSrc *src, PendingFile *file)
{
  guint flowing = 0, from_member = 0;

  for (GList *l = src->files.head; l != NULL; l = l->next) {
    PendingFile *other = l->data;

    if (!other->flowing)
      continue;
    flowing++;
    if (g_str_equal (other->member, file->member))
      from_member++;
  }
  if (flowing >= MAX_FLOWING_FILES)
    return g_strdup ("already receives 16 files");
  if (from_member >= MAX_FLOWING_PER_MEMBER)
    return g_strdup ("already receives 4 files from this member");
  return NULL;
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
  g_autofree gchar *over = NULL;
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
      else if (num_files > 0 && src->completed >= num_files)
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
      push_item (src, file, ITEM_STARTED, &event);
      break;
    }
    case HANGOUT_TRANSFER_EVENT_DATA:
    case HANGOUT_TRANSFER_EVENT_COMPLETE:
      file = key ? g_hash_table_lookup (src->by_key, key) : NULL;
      if (file != NULL && !file->flowing
          && (over = over_flowing_limit (src, file)) != NULL) {
        GST_INFO_OBJECT (src, "declining %s from %s: %s", key, member, over);
        reply = hangout_transfer_receiver_reject (src->receiver, member,
            event.id, over);
        g_queue_remove (&src->files, file);
        remove_file (src, file);
        file = NULL;
      }
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
  if (reply != NULL && !hangout_room_send_reply (room, member, reply,
          &error))
    GST_WARNING_OBJECT (src, "could not answer %s: %s", member,
        error->message);
}

/* Every second on the room's thread: files whose data stopped. */
static gboolean
check_stalls (gpointer data)
{
  GstHangoutSrc *src = data;
  g_autoptr (GPtrArray) warnings = g_ptr_array_new ();
  g_autoptr (GPtrArray) replies = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (GPtrArray) members = g_ptr_array_new_with_free_func (g_free);
  GPtrArray *events;
  gint64 timeout;

  GST_OBJECT_LOCK (src);
  timeout = (gint64) src->stall_timeout * G_USEC_PER_SEC;
  GST_OBJECT_UNLOCK (src);
  g_mutex_lock (&src->lock);
  events = hangout_transfer_receiver_expire (src->receiver, timeout);
  for (guint i = 0; i < events->len; i++) {
    HangoutTransferEvent *event = g_ptr_array_index (events, i);
    g_autofree gchar *key = file_key (event->member, event->id);
    gchar *warning;

    GST_INFO_OBJECT (src, "%s stalled: %s", key, event->error->message);
    g_ptr_array_add (members, g_strdup (event->member));
    g_ptr_array_add (replies, g_steal_pointer (&event->reply));
    warning = file_failed (src, key, event);
    if (warning != NULL)
      g_ptr_array_add (warnings, warning);
  }
  g_mutex_unlock (&src->lock);
  g_ptr_array_unref (events);
  for (guint i = 0; i < replies->len; i++)
    hangout_room_send_reply (src->room, members->pdata[i],
        replies->pdata[i], NULL);
  for (guint i = 0; i < warnings->len; i++)
    post_drop_warning (src, g_ptr_array_index (warnings, i));
  return G_SOURCE_CONTINUE;
}

static void
on_member_left (HangoutRoom *room, const gchar *member, const gchar *failure,
    GstHangoutSrc *src)
{
  GPtrArray *events;
  GPtrArray *warnings = g_ptr_array_new ();
  guint i;

  g_mutex_lock (&src->lock);
  events = hangout_transfer_receiver_member_left (src->receiver, member,
      failure);
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
  /* Joining happens on the room's thread. A join that cannot work (no
   * server there, refused) is posted at once by the room object; create()
   * gives up on a server that never answers after join-timeout. */
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
  src->last_progress = 0;
  g_mutex_lock (&src->lock);
  src->joined = FALSE;
  src->partial_told = FALSE;
  src->join_deadline = g_get_monotonic_time ()
      + (gint64) join_timeout * G_TIME_SPAN_SECOND;
  g_mutex_unlock (&src->lock);
  src->room = gst_hangout_room_object_start (src->room_object,
      GST_RESOURCE_ERROR_OPEN_READ, connect_room, src);
  if (src->room == NULL) {
    g_clear_pointer (&src->receiver, hangout_transfer_receiver_free);
    return FALSE;
  }
  src->stall_check = g_timeout_source_new_seconds (1);
  g_source_set_callback (src->stall_check, check_stalls, src, NULL);
  g_source_attach (src->stall_check, hangout_room_get_context (src->room));
  return TRUE;
}

/* Stopped (or sent EOS) in the middle of a file: downstream has a part of
 * it, which nothing else would tell. Once. */
static void
warn_partial (GstHangoutSrc *src, const gchar *how)
{
  gboolean partial;

  g_mutex_lock (&src->lock);
  partial = src->current != NULL && !src->partial_told;
  src->partial_told |= partial;
  g_mutex_unlock (&src->lock);
  if (partial)
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

  /* Destroyed before the room's thread is joined: a check still running
   * finishes before the room stops. */
  if (src->stall_check != NULL) {
    g_source_destroy (src->stall_check);
    g_clear_pointer (&src->stall_check, g_source_unref);
  }
  gst_hangout_room_object_stop (src->room_object, src);
  g_mutex_lock (&src->lock);
  src->room = NULL;
  g_queue_clear (&src->files);
  src->current = NULL;
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

/* Declines every file still held (at EOS): their senders stop waiting for
 * us. */
static void
decline_held (GstHangoutSrc *src, const gchar *why)
{
  g_autoptr (GPtrArray) replies = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (GPtrArray) members = g_ptr_array_new_with_free_func (g_free);
  PendingFile *file;

  g_mutex_lock (&src->lock);
  while ((file = g_queue_pop_head (&src->files)) != NULL) {
    const gchar *id = strchr (file->key, '/') + 1;

    g_ptr_array_add (members, g_strdup (file->member));
    g_ptr_array_add (replies, hangout_transfer_receiver_reject (src->receiver,
            file->member, id, why));
    remove_file (src, file);
  }
  g_mutex_unlock (&src->lock);
  for (guint i = 0; i < replies->len; i++)
    hangout_room_send_reply (src->room, members->pdata[i],
        replies->pdata[i], NULL);
}

static GstFlowReturn
gst_hangout_src_create (GstPushSrc *psrc, GstBuffer **outbuf)
{
  GstHangoutSrc *src = GST_HANGOUT_SRC (psrc);

  for (;;) {
    PendingFile *file;
    Item *item;
    guint num_files, completed, others;
    gboolean skip_failed;

    g_mutex_lock (&src->lock);
    while (((file = next_file (src)) == NULL
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
    if (item->type == ITEM_STARTED)
      src->current = file;
    /* Its last item: the next file whose data began is output next. */
    if (item->type == ITEM_COMPLETE || item->type == ITEM_FAILED) {
      g_queue_remove (&src->files, file);
      remove_file (src, file);
    }
    if (item->type == ITEM_COMPLETE)
      src->completed++;
    completed = src->completed;
    others = g_queue_get_length (&src->files);
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
        GST_OBJECT_LOCK (src);
        num_files = src->num_files;
        GST_OBJECT_UNLOCK (src);
        if (num_files > 0 && completed >= num_files) {
          decline_held (src, "has all the files it wanted");
          return GST_FLOW_EOS;
        }
        continue;
      case ITEM_FAILED:{
        g_autofree gchar *name = printable (item->event.name);
        g_autofree gchar *sender = printable (item->sender_name ?
            item->sender_name : item->event.member);

        post_progress (src, GST_PROGRESS_TYPE_ERROR, TRUE);
        gst_element_post_message (GST_ELEMENT (src),
            gst_message_new_element (GST_OBJECT (src),
                gst_structure_new ("hangout-file-failed",
                    "name", G_TYPE_STRING, item->event.name,
                    "error", G_TYPE_STRING, item->event.error->message,
                    "sender", G_TYPE_STRING, item->event.member,
                    "sender-name", G_TYPE_STRING, item->sender_name, NULL)));
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
                  "file", name, sender, item->event.error->message),
              ("after %" G_GUINT64_FORMAT " bytes%s", item->event.offset,
                  skip_failed ? "; its bytes were output" :
                  "; flushed downstream"));
          item_free (item);
          continue;
        }
        GST_ELEMENT_ERROR (src, RESOURCE, READ,
            ("Receiving '%s' from %s failed: %s", name, sender,
                item->event.error->message),
            ("after %" G_GUINT64_FORMAT " bytes; the file is incomplete",
                item->event.offset));
        item_free (item);
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
  src->stall_timeout = DEFAULT_STALL_TIMEOUT;
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
