/* gst-hangout — the in-process signaller (signalling-local.h).
 *
 * The hub holds, under its lock, every room's joined members. A
 * signaller's events for another member are never emitted by the caller:
 * each becomes an idle source on the receiver's context, which emits it
 * there if the receiver is still joined (checked on its own thread, so
 * nothing is emitted after its stop() returns). Idle sources of one
 * priority run in the order they were attached, so a member's payloads
 * arrive in the order they were sent. Payloads cross threads as text
 * (JsonObject is not thread-safe), parsed again by the receiver.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#include <hangout/signalling-local.h>
#include <hangout/iceserver.h>
#include "debug-private.h"

#define GST_CAT_DEFAULT hangout_debug_signalling

struct _HangoutLocalHub {
  gint refs;                    /* atomic */
  GMutex lock;
  GHashTable *rooms;            /* room name → GPtrArray of signallers */
};

struct _HangoutLocalSignaller {
  GObject parent;

  HangoutLocalHub *hub;
  GMainContext *context;
  HangoutSignallerState state;  /* its own thread only */
  /* Set by start(), read by other members under the hub's lock. */
  gchar *id;
  gchar *name;
  gchar *room;
};

static void hangout_local_signaller_iface_init (HangoutSignallerInterface *
    iface);

G_DEFINE_FINAL_TYPE_WITH_CODE (HangoutLocalSignaller, hangout_local_signaller,
    G_TYPE_OBJECT, G_IMPLEMENT_INTERFACE (HANGOUT_TYPE_SIGNALLER,
        hangout_local_signaller_iface_init))

/* ---- the hub ---- */

HangoutLocalHub *
hangout_local_hub_new (void)
{
  HangoutLocalHub *hub = g_new0 (HangoutLocalHub, 1);

  hub->refs = 1;
  g_mutex_init (&hub->lock);
  hub->rooms = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
      (GDestroyNotify) g_ptr_array_unref);
  return hub;
}

HangoutLocalHub *
hangout_local_hub_ref (HangoutLocalHub *hub)
{
  g_atomic_int_inc (&hub->refs);
  return hub;
}

void
hangout_local_hub_unref (HangoutLocalHub *hub)
{
  if (!g_atomic_int_dec_and_test (&hub->refs))
    return;
  g_hash_table_unref (hub->rooms);
  g_mutex_clear (&hub->lock);
  g_free (hub);
}

/* The other joined members of @self's room, referenced. Called with the
 * hub's lock. */
static GPtrArray *
others_locked (HangoutLocalSignaller *self)
{
  GPtrArray *members = g_hash_table_lookup (self->hub->rooms, self->room);
  GPtrArray *others = g_ptr_array_new_with_free_func (g_object_unref);

  for (guint i = 0; members != NULL && i < members->len; i++)
    if (members->pdata[i] != self)
      g_ptr_array_add (others, g_object_ref (members->pdata[i]));
  return others;
}

/* ---- events, emitted on the receiver's context ---- */

typedef enum {
  EVENT_WELCOME,
  EVENT_JOINED,
  EVENT_LEFT,
  EVENT_SIGNAL,
} EventType;

typedef struct {
  HangoutLocalSignaller *to;    /* referenced */
  EventType type;
  gchar *id;                    /* the member it is about */
  gchar *name;
  gchar *payload;               /* EVENT_SIGNAL */
  GPtrArray *members;           /* EVENT_WELCOME */
} Event;

static void
event_free (Event *event)
{
  g_object_unref (event->to);
  g_free (event->id);
  g_free (event->name);
  g_free (event->payload);
  g_clear_pointer (&event->members, g_ptr_array_unref);
  g_free (event);
}

static gboolean
emit_event (gpointer data)
{
  Event *event = data;
  HangoutSignaller *to = HANGOUT_SIGNALLER (event->to);
  g_autoptr (GPtrArray) ice_servers = NULL;
  g_autoptr (JsonNode) node = NULL;

  if (event->to->state != HANGOUT_SIGNALLER_STATE_JOINED)
    return G_SOURCE_REMOVE;
  switch (event->type) {
    case EVENT_WELCOME:
      ice_servers = g_ptr_array_new ();
      hangout_signaller_emit_welcome (to, event->id, event->members,
          ice_servers);
      break;
    case EVENT_JOINED:
      hangout_signaller_emit_member_joined (to, event->id, event->name);
      break;
    case EVENT_LEFT:
      hangout_signaller_emit_member_left (to, event->id);
      break;
    case EVENT_SIGNAL:
      node = json_from_string (event->payload, NULL);
      if (node != NULL && JSON_NODE_HOLDS_OBJECT (node))
        hangout_signaller_emit_signal (to, event->id,
            json_node_get_object (node));
      break;
  }
  return G_SOURCE_REMOVE;
}

/* Queues @event on its receiver's context (takes @event). */
static void
post_event (Event *event)
{
  GSource *source = g_idle_source_new ();

  g_source_set_priority (source, G_PRIORITY_DEFAULT);
  g_source_set_callback (source, emit_event, event,
      (GDestroyNotify) event_free);
  g_source_attach (source, event->to->context);
  g_source_unref (source);
}

static Event *
event_new (HangoutLocalSignaller *to, EventType type, const gchar *id,
    const gchar *name)
{
  Event *event = g_new0 (Event, 1);

  event->to = g_object_ref (to);
  event->type = type;
  event->id = g_strdup (id);
  event->name = g_strdup (name);
  return event;
}

/* ---- the signaller ---- */

static void
set_state (HangoutLocalSignaller *self, HangoutSignallerState state)
{
  if (self->state == state)
    return;
  self->state = state;
  g_object_notify (G_OBJECT (self), "state");
}

/* An id of the form hangout-server hands out (docs/protocol.md §1.2: 32
 * lower-case hex digits), which the transfer layers check: a random
 * UUID's digits. */
static gchar *
member_id_new (void)
{
  g_autofree gchar *uuid = g_uuid_string_random ();
  GString *id = g_string_sized_new (32);

  for (const gchar *p = uuid; *p != '\0'; p++)
    if (*p != '-')
      g_string_append_c (id, *p);
  return g_string_free (id, FALSE);
}

static gboolean
local_start (HangoutSignaller *signaller, const gchar *room,
    const gchar *name, GError **error)
{
  HangoutLocalSignaller *self = HANGOUT_LOCAL_SIGNALLER (signaller);
  g_autoptr (GPtrArray) others = NULL;
  GPtrArray *members;
  Event *welcome;

  if (self->state != HANGOUT_SIGNALLER_STATE_STOPPED) {
    g_set_error (error, HANGOUT_ERROR, HANGOUT_ERROR_INVALID_STATE,
        "the signaller is started already");
    return FALSE;
  }
  g_free (self->id);
  self->id = member_id_new ();
  g_free (self->name);
  self->name = g_strdup (name);
  g_free (self->room);
  self->room = g_strdup (room);
  set_state (self, HANGOUT_SIGNALLER_STATE_JOINED);

  welcome = event_new (self, EVENT_WELCOME, self->id, NULL);
  welcome->members = g_ptr_array_new_with_free_func ((GDestroyNotify)
      hangout_signaller_member_free);
  g_mutex_lock (&self->hub->lock);
  others = others_locked (self);
  for (guint i = 0; i < others->len; i++) {
    HangoutLocalSignaller *other = others->pdata[i];

    g_ptr_array_add (welcome->members,
        hangout_signaller_member_new (other->id, other->name));
  }
  members = g_hash_table_lookup (self->hub->rooms, room);
  if (members == NULL) {
    members = g_ptr_array_new ();
    g_hash_table_insert (self->hub->rooms, g_strdup (room), members);
  }
  g_ptr_array_add (members, self);
  g_mutex_unlock (&self->hub->lock);

  GST_DEBUG_OBJECT (self, "%s joined %s as %s (%u others)", name, room,
      self->id, others->len);
  post_event (welcome);
  for (guint i = 0; i < others->len; i++)
    post_event (event_new (others->pdata[i], EVENT_JOINED, self->id, name));
  return TRUE;
}

static void
local_stop (HangoutSignaller *signaller)
{
  HangoutLocalSignaller *self = HANGOUT_LOCAL_SIGNALLER (signaller);
  g_autoptr (GPtrArray) others = NULL;
  GPtrArray *members;

  if (self->state == HANGOUT_SIGNALLER_STATE_STOPPED)
    return;
  g_mutex_lock (&self->hub->lock);
  members = g_hash_table_lookup (self->hub->rooms, self->room);
  if (members != NULL) {
    g_ptr_array_remove (members, self);
    if (members->len == 0)
      g_hash_table_remove (self->hub->rooms, self->room);
  }
  others = others_locked (self);
  g_mutex_unlock (&self->hub->lock);
  for (guint i = 0; i < others->len; i++)
    post_event (event_new (others->pdata[i], EVENT_LEFT, self->id, NULL));
  set_state (self, HANGOUT_SIGNALLER_STATE_STOPPED);
}

static gboolean
local_send (HangoutSignaller *signaller, const gchar *to, JsonObject *payload,
    GError **error)
{
  HangoutLocalSignaller *self = HANGOUT_LOCAL_SIGNALLER (signaller);
  g_autoptr (GPtrArray) others = NULL;
  g_autoptr (JsonNode) node = NULL;
  HangoutLocalSignaller *target = NULL;
  Event *event;

  if (self->state != HANGOUT_SIGNALLER_STATE_JOINED) {
    g_set_error (error, HANGOUT_ERROR, HANGOUT_ERROR_SIGNALLING,
        "not joined");
    return FALSE;
  }
  g_mutex_lock (&self->hub->lock);
  others = others_locked (self);
  g_mutex_unlock (&self->hub->lock);
  for (guint i = 0; target == NULL && i < others->len; i++)
    if (g_strcmp0 (((HangoutLocalSignaller *) others->pdata[i])->id, to) == 0)
      target = others->pdata[i];
  if (target == NULL) {
    /* As the server does: a member that left meanwhile is not an error
     * of ours, the room learns of it from "member-left". */
    GST_DEBUG_OBJECT (self, "no member %s to relay to", to);
    return TRUE;
  }
  node = json_node_init_object (json_node_alloc (), payload);
  event = event_new (target, EVENT_SIGNAL, self->id, NULL);
  event->payload = json_to_string (node, FALSE);
  post_event (event);
  return TRUE;
}

static void
hangout_local_signaller_iface_init (HangoutSignallerInterface *iface)
{
  iface->start = local_start;
  iface->stop = local_stop;
  iface->send = local_send;
}

HangoutSignaller *
hangout_local_signaller_new (HangoutLocalHub *hub, GMainContext *context)
{
  HangoutLocalSignaller *self =
      g_object_new (HANGOUT_TYPE_LOCAL_SIGNALLER, NULL);

  self->hub = hangout_local_hub_ref (hub);
  self->context = context ? g_main_context_ref (context)
      : g_main_context_ref_thread_default ();
  return HANGOUT_SIGNALLER (self);
}

HangoutSignaller *
hangout_local_signaller_factory (GMainContext *context, gpointer data)
{
  return hangout_local_signaller_new (data, context);
}

static void
hangout_local_signaller_get_property (GObject *object, guint prop_id,
    GValue *value, GParamSpec *pspec)
{
  HangoutLocalSignaller *self = HANGOUT_LOCAL_SIGNALLER (object);

  if (prop_id == 1)
    g_value_set_enum (value, self->state);
  else
    G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
}

static void
hangout_local_signaller_dispose (GObject *object)
{
  HangoutLocalSignaller *self = HANGOUT_LOCAL_SIGNALLER (object);

  /* Members hold no reference to each other outside the hub, whose entry
   * stop() removes; a joined signaller is referenced by its room. */
  if (self->hub != NULL)
    local_stop (HANGOUT_SIGNALLER (self));
  G_OBJECT_CLASS (hangout_local_signaller_parent_class)->dispose (object);
}

static void
hangout_local_signaller_finalize (GObject *object)
{
  HangoutLocalSignaller *self = HANGOUT_LOCAL_SIGNALLER (object);

  g_clear_pointer (&self->hub, hangout_local_hub_unref);
  g_main_context_unref (self->context);
  g_free (self->id);
  g_free (self->name);
  g_free (self->room);
  G_OBJECT_CLASS (hangout_local_signaller_parent_class)->finalize (object);
}

static void
hangout_local_signaller_init (HangoutLocalSignaller *self)
{
}

static void
hangout_local_signaller_class_init (HangoutLocalSignallerClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  hangout_debug_init ();
  object_class->get_property = hangout_local_signaller_get_property;
  object_class->dispose = hangout_local_signaller_dispose;
  object_class->finalize = hangout_local_signaller_finalize;
  g_object_class_override_property (object_class, 1, "state");
}
