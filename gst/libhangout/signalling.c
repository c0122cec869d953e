/* gst-hangout — the signaller interface: what the room needs of any
 * signalling back-end. The WebSocket back-end is in signalling-ws.c.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#include <hangout/signalling.h>

G_DEFINE_ENUM_TYPE (HangoutSignallerState, hangout_signaller_state,
    G_DEFINE_ENUM_VALUE (HANGOUT_SIGNALLER_STATE_STOPPED, "stopped"),
    G_DEFINE_ENUM_VALUE (HANGOUT_SIGNALLER_STATE_CONNECTING, "connecting"),
    G_DEFINE_ENUM_VALUE (HANGOUT_SIGNALLER_STATE_JOINED, "joined"),
    G_DEFINE_ENUM_VALUE (HANGOUT_SIGNALLER_STATE_RECONNECTING, "reconnecting"),
    G_DEFINE_ENUM_VALUE (HANGOUT_SIGNALLER_STATE_FAILED, "failed"))

G_DEFINE_BOXED_TYPE (HangoutSignallerMember, hangout_signaller_member,
    hangout_signaller_member_copy, hangout_signaller_member_free)

HangoutSignallerMember *
hangout_signaller_member_new (const gchar *id, const gchar *name)
{
  HangoutSignallerMember *member = g_new0 (HangoutSignallerMember, 1);

  member->id = g_strdup (id);
  member->name = g_strdup (name);
  return member;
}

HangoutSignallerMember *
hangout_signaller_member_copy (const HangoutSignallerMember *member)
{
  return hangout_signaller_member_new (member->id, member->name);
}

void
hangout_signaller_member_free (HangoutSignallerMember *member)
{
  if (member == NULL)
    return;
  g_free (member->id);
  g_free (member->name);
  g_free (member);
}

enum {
  SIGNAL_WELCOME,
  SIGNAL_MEMBER_JOINED,
  SIGNAL_MEMBER_LEFT,
  SIGNAL_SIGNAL,
  SIGNAL_ERROR,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

G_DEFINE_INTERFACE (HangoutSignaller, hangout_signaller, G_TYPE_OBJECT)

static void
hangout_signaller_default_init (HangoutSignallerInterface *iface)
{
  /**
   * HangoutSignaller:state:
   *
   * Where the signaller is: stopped, connecting, joined, reconnecting or
   * failed. Notified on the signaller's context.
   */
  g_object_interface_install_property (iface, g_param_spec_enum ("state",
          "State", "stopped, connecting, joined, reconnecting or failed",
          HANGOUT_TYPE_SIGNALLER_STATE, HANGOUT_SIGNALLER_STATE_STOPPED,
          G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS));

  /**
   * HangoutSignaller::welcome:
   * @signaller: the signaller
   * @own_id: the id the server gave us
   * @members: (element-type HangoutSignallerMember): the others in the room
   * @ice_servers: (element-type HangoutIceServer): the STUN and TURN
   *   servers the signalling server hands out (maybe none)
   *
   * The join succeeded. Emitted again, with a new id, after each rejoin
   * that follows a lost connection.
   */
  signals[SIGNAL_WELCOME] = g_signal_new ("welcome", G_TYPE_FROM_INTERFACE
      (iface), G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL, G_TYPE_NONE, 3,
      G_TYPE_STRING, G_TYPE_PTR_ARRAY, G_TYPE_PTR_ARRAY);
  /**
   * HangoutSignaller::member-joined:
   * @signaller: the signaller
   * @id: the newcomer's id
   * @name: its display name
   */
  signals[SIGNAL_MEMBER_JOINED] = g_signal_new ("member-joined",
      G_TYPE_FROM_INTERFACE (iface), G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
      G_TYPE_NONE, 2, G_TYPE_STRING, G_TYPE_STRING);
  /**
   * HangoutSignaller::member-left:
   * @signaller: the signaller
   * @id: the id of the member that closed or lost its signalling connection
   */
  signals[SIGNAL_MEMBER_LEFT] = g_signal_new ("member-left",
      G_TYPE_FROM_INTERFACE (iface), G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
      G_TYPE_NONE, 1, G_TYPE_STRING);
  /**
   * HangoutSignaller::signal:
   * @signaller: the signaller
   * @from: the sender's id
   * @payload: what it sent (opaque to the signaller)
   */
  signals[SIGNAL_SIGNAL] = g_signal_new ("signal", G_TYPE_FROM_INTERFACE
      (iface), G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL, G_TYPE_NONE, 2,
      G_TYPE_STRING, JSON_TYPE_OBJECT);
  /**
   * HangoutSignaller::error:
   * @signaller: the signaller
   * @error: what went wrong
   *
   * A refused message or a lost connection. Fatal only when "state" turns
   * to failed.
   */
  signals[SIGNAL_ERROR] = g_signal_new ("error", G_TYPE_FROM_INTERFACE
      (iface), G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL, G_TYPE_NONE, 1,
      G_TYPE_ERROR);
}

gboolean
hangout_signaller_start (HangoutSignaller *signaller, const gchar *room,
    const gchar *name, GError **error)
{
  g_return_val_if_fail (HANGOUT_IS_SIGNALLER (signaller), FALSE);
  g_return_val_if_fail (room != NULL && name != NULL, FALSE);
  return HANGOUT_SIGNALLER_GET_IFACE (signaller)->start (signaller, room, name,
      error);
}

void
hangout_signaller_stop (HangoutSignaller *signaller)
{
  g_return_if_fail (HANGOUT_IS_SIGNALLER (signaller));
  HANGOUT_SIGNALLER_GET_IFACE (signaller)->stop (signaller);
}

gboolean
hangout_signaller_send (HangoutSignaller *signaller, const gchar *to,
    JsonObject *payload, GError **error)
{
  g_return_val_if_fail (HANGOUT_IS_SIGNALLER (signaller), FALSE);
  g_return_val_if_fail (to != NULL && payload != NULL, FALSE);
  return HANGOUT_SIGNALLER_GET_IFACE (signaller)->send (signaller, to, payload,
      error);
}

HangoutSignallerState
hangout_signaller_get_state (HangoutSignaller *signaller)
{
  HangoutSignallerState state = HANGOUT_SIGNALLER_STATE_STOPPED;

  g_return_val_if_fail (HANGOUT_IS_SIGNALLER (signaller), state);
  g_object_get (signaller, "state", &state, NULL);
  return state;
}

void
hangout_signaller_emit_welcome (HangoutSignaller *signaller,
    const gchar *own_id, GPtrArray *members, GPtrArray *ice_servers)
{
  g_signal_emit (signaller, signals[SIGNAL_WELCOME], 0, own_id, members,
      ice_servers);
}

void
hangout_signaller_emit_member_joined (HangoutSignaller *signaller,
    const gchar *id, const gchar *name)
{
  g_signal_emit (signaller, signals[SIGNAL_MEMBER_JOINED], 0, id, name);
}

void
hangout_signaller_emit_member_left (HangoutSignaller *signaller,
    const gchar *id)
{
  g_signal_emit (signaller, signals[SIGNAL_MEMBER_LEFT], 0, id);
}

void
hangout_signaller_emit_signal (HangoutSignaller *signaller, const gchar *from,
    JsonObject *payload)
{
  g_signal_emit (signaller, signals[SIGNAL_SIGNAL], 0, from, payload);
}

void
hangout_signaller_emit_error (HangoutSignaller *signaller, const GError *error)
{
  g_signal_emit (signaller, signals[SIGNAL_ERROR], 0, error);
}
