/* gst-hangout — the share layer as hangoutsink and hangoutsrc see it: the
 * properties of HangoutShareSender and HangoutShareReceiver
 * (include/hangout/share.h) with their documentation, the share object
 * they configure, held from start() to stop(), and the messages its
 * signals post. A plain object each element owns, beside
 * GstHangoutRoomObject, as GStreamer's srt plugin keeps the parameters of
 * srtsrc and srtsink in GstSRTObject.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "gsthangoutroomobject.h"
#include <hangout/share.h>

G_BEGIN_DECLS

/* The share properties' ids, after the room object's: the sender's, then
 * the receiver's (an element installs one set). */
enum {
  GST_HANGOUT_SHARE_PROP_MIN_PEERS = GST_HANGOUT_ROOM_PROP_LAST,
  GST_HANGOUT_SHARE_PROP_ACK_TIMEOUT,
  GST_HANGOUT_SHARE_PROP_MIN_ACKS,
  GST_HANGOUT_SHARE_PROP_CHUNK_SIZE,
  GST_HANGOUT_SHARE_PROP_DISTRIBUTION,
  GST_HANGOUT_SHARE_PROP_LINGER,
  GST_HANGOUT_SHARE_PROP_NUM_FILES,
  GST_HANGOUT_SHARE_PROP_FROM,
  GST_HANGOUT_SHARE_PROP_STALL_TIMEOUT,
  GST_HANGOUT_SHARE_PROP_SKIP_FAILED,
  GST_HANGOUT_SHARE_PROP_CURRENT_LEVEL_BYTES,
  GST_HANGOUT_SHARE_PROP_LAST
};

typedef struct _GstHangoutShareObject GstHangoutShareObject;

/* hangoutsink's: min-peers, ack-timeout, min-acks, chunk-size. */
void gst_hangout_share_object_install_sender_properties (GObjectClass *klass);
/* hangoutsrc's: num-files, stall-timeout, skip-failed, from,
 * current-level-bytes. */
void gst_hangout_share_object_install_receiver_properties
    (GObjectClass *klass);

/* For @element, which owns it and @room_object (whose names of members
 * its messages use); properties are kept under the element's object
 * lock. */
GstHangoutShareObject *gst_hangout_share_object_new (GstElement *element,
    GstHangoutRoomObject *room_object);
void gst_hangout_share_object_free (GstHangoutShareObject *object);

/* FALSE when @prop_id is not a share property. */
gboolean gst_hangout_share_object_set_property (GstHangoutShareObject *object,
    guint prop_id, const GValue *value);
gboolean gst_hangout_share_object_get_property (GstHangoutShareObject *object,
    guint prop_id, GValue *value);

/* The prepare callbacks of gst_hangout_room_object_start() (user data:
 * the share object): create the sender or the receiver over the room,
 * before it starts. The sender posts "hangout-ack" (id, name, ok, sha256)
 * for each answer, with a warning for a member whose copy is not intact,
 * and warns of a recipient that left; the receiver warns of a waiting
 * file it dropped. */
void gst_hangout_share_object_prepare_sender (HangoutRoom *room,
    gpointer object);
void gst_hangout_share_object_prepare_receiver (HangoutRoom *room,
    gpointer object);
/* (transfer none) From start() to stop(): NULL outside. */
HangoutShareSender *gst_hangout_share_object_get_sender
    (GstHangoutShareObject *object);
HangoutShareReceiver *gst_hangout_share_object_get_receiver
    (GstHangoutShareObject *object);
/* Drops the sender or receiver: after gst_hangout_room_object_stop(),
 * when its handlers no longer run. */
void gst_hangout_share_object_stop (GstHangoutShareObject *object);

/* A failed blocking call of the share layer: cancelled is FLUSHING,
 * anything else a STREAM/FAILED error saying @what could not be done. */
GstFlowReturn gst_hangout_share_object_flow_from_error
    (GstHangoutShareObject *object, const GError *error, const gchar *what);
/* Sets the sender's chunk-size, ack-timeout and min-acks from the
 * properties (they may change between files) and waits until min-peers
 * members are connected; posts the error when they are not within
 * join-timeout (RESOURCE/OPEN_WRITE). */
GstFlowReturn gst_hangout_share_object_wait_for_members
    (GstHangoutShareObject *object, GCancellable *cancellable);
/* The properties' values, for the element's decisions and messages. */
guint gst_hangout_share_object_get_ack_timeout (GstHangoutShareObject *object);
guint gst_hangout_share_object_get_min_acks (GstHangoutShareObject *object);
guint gst_hangout_share_object_get_num_files (GstHangoutShareObject *object);
gboolean gst_hangout_share_object_get_skip_failed
    (GstHangoutShareObject *object);

G_END_DECLS
