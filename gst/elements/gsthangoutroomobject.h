/* gst-hangout — what hangoutsink and hangoutsrc share: the properties that
 * say which room to join and how, joining it (and, with run-server,
 * hosting its signalling server and web client), and the names of the
 * members met there. A plain object each element owns, as GStreamer's srt plugin
 * shares GstSRTObject between srtsrc and srtsink.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <gst/gst.h>
#include <hangout/room.h>

G_BEGIN_DECLS

/* The shared properties' ids; an element numbers its own from
 * GST_HANGOUT_ROOM_PROP_LAST. */
enum {
  GST_HANGOUT_ROOM_PROP_ROOM = 1,
  GST_HANGOUT_ROOM_PROP_SERVER,
  GST_HANGOUT_ROOM_PROP_DISPLAY_NAME,
  GST_HANGOUT_ROOM_PROP_STUN_SERVER,
  GST_HANGOUT_ROOM_PROP_TURN_SERVER,
  GST_HANGOUT_ROOM_PROP_JOIN_TIMEOUT,
  GST_HANGOUT_ROOM_PROP_RUN_SERVER,
  GST_HANGOUT_ROOM_PROP_SECRET,
  GST_HANGOUT_ROOM_PROP_RELAY_ONLY,
  GST_HANGOUT_ROOM_PROP_SSL_CA_FILE,
  GST_HANGOUT_ROOM_PROP_SSL_STRICT,
  GST_HANGOUT_ROOM_PROP_TLS_DATABASE,
  GST_HANGOUT_ROOM_PROP_LAST
};

#define GST_HANGOUT_ROOM_DEFAULT_SERVER "ws://127.0.0.1:8080/ws"
#define GST_HANGOUT_ROOM_DEFAULT_JOIN_TIMEOUT 30

typedef struct _GstHangoutRoomObject GstHangoutRoomObject;

/* Installs the shared properties on an element class. @join_timeout_blurb
 * says what the element waits for within join-timeout. */
void gst_hangout_room_object_install_properties (GObjectClass *klass,
    const gchar *join_timeout_blurb);

/* For @element, which owns it; properties are kept under its object lock. */
GstHangoutRoomObject *gst_hangout_room_object_new (GstElement *element);
void gst_hangout_room_object_free (GstHangoutRoomObject *object);

/* FALSE when @prop_id is not a shared property. */
gboolean gst_hangout_room_object_set_property (GstHangoutRoomObject *object,
    guint prop_id, const GValue *value);
gboolean gst_hangout_room_object_get_property (GstHangoutRoomObject *object,
    guint prop_id, GValue *value);

/* Checks the properties (a bad stun-server or turn-server is a
 * RESOURCE/SETTINGS error naming it; an ssl-ca-file that cannot be read is
 * RESOURCE/OPEN_READ, one without a certificate RESOURCE/SETTINGS, both
 * naming the file), starts the signalling server when run-server is
 * set, and joins the room; the caller connects to the
 * room's signals before hangout_room_start() through @prepare. On failure
 * posts an error (resource domain, @open_error: OPEN_READ or OPEN_WRITE)
 * and returns NULL. For the element, after its own handlers, it posts the
 * element messages "hangout-member-joined" (id, name, sas: when the member
 * is connected), "hangout-member-left" (id, name) and
 * "hangout-member-refused" (id, name, reason; with a warning naming the
 * member: it did not prove the room secret), and a warning for a server
 * certificate accepted with ssl-strict=false. (transfer none: the object keeps the room until
 * gst_hangout_room_object_stop()) */
HangoutRoom *gst_hangout_room_object_start (GstHangoutRoomObject *object,
    GstResourceError open_error,
    void (*prepare) (HangoutRoom *room, gpointer user_data),
    gpointer user_data);
/* Leaves the room, then stops the server we run, if any; afterwards no
 * handler of the room runs. Idempotent.
 * Handlers connected with @user_data are disconnected. */
void gst_hangout_room_object_stop (GstHangoutRoomObject *object,
    gpointer user_data);

/* The join-timeout property's value. */
guint gst_hangout_room_object_get_join_timeout (GstHangoutRoomObject *object);
/* Posts the error for a room not joined within join-timeout (resource
 * domain, @open_error): the server did not let us in. */
void gst_hangout_room_object_post_join_error (GstHangoutRoomObject *object,
    GstResourceError open_error);

/* A member's display name, also once it has left (the room forgets it), or
 * NULL for a member never met. Any thread. */
gchar *gst_hangout_room_object_dup_member_name (GstHangoutRoomObject *object,
    const gchar *member);
/* For messages: "name (id)". */
gchar *gst_hangout_room_object_describe_member (GstHangoutRoomObject *object,
    const gchar *member);

/* Posts @structure (transfer full) as an element message of the element. */
void gst_hangout_room_object_post_message (GstHangoutRoomObject *object,
    GstStructure *structure);

/* Posts a progress message (@code, the text from @format) unless the last
 * one was less than half a second ago; @force posts it anyway (start,
 * complete, error). From the streaming thread. */
void gst_hangout_room_object_post_progress (GstHangoutRoomObject *object,
    GstProgressType type, const gchar *code, gboolean force,
    const gchar *format, ...) G_GNUC_PRINTF (5, 6);

G_END_DECLS
