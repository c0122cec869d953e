/* gst-hangout — data channels (RFC 8831) and their open protocol DCEP (RFC 8832).
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#include "channel-private.h"

#include <stdatomic.h>
#include <string.h>
#include "debug-private.h"

#define GST_CAT_DEFAULT hangout_debug_channel

#define DCEP_OPEN_HEADER_SIZE 12
#define CHANNEL_TYPE_UNORDERED 0x80
#define CHANNEL_TYPE_RELIABLE 0x00
#define CHANNEL_TYPE_PARTIAL_RELIABLE_REXMIT 0x01
#define CHANNEL_TYPE_PARTIAL_RELIABLE_TIMED 0x02

struct _HangoutDataChannel {
  GObject parent;

  gchar *label;
  gchar *protocol;
  gboolean ordered;
  gint max_retransmits;
  gint max_packet_lifetime;
  gboolean negotiated;
  guint16 priority;
  gboolean remote_opened;       /* the peer sent the DATA_CHANNEL_OPEN */

  /* Read from any thread, written on the network thread. */
  gint id;                      /* atomic */
  gint state;                   /* atomic HangoutDataChannelState */
  _Atomic gint64 buffered_amount;
  _Atomic guint64 accepted;     /* bytes accepted by send, ever */
  _Atomic guint64 low_threshold;
  gsize max_message_size;

  /* Senders hold it while they use @sctp, so that the network thread cannot
   * detach (and free) the association under them. */
  GMutex send_lock;
  HangoutSctp *sctp;
};

G_DEFINE_TYPE (HangoutDataChannel, hangout_data_channel, G_TYPE_OBJECT)

G_DEFINE_ENUM_TYPE (HangoutDataChannelState, hangout_data_channel_state,
    G_DEFINE_ENUM_VALUE (HANGOUT_DATA_CHANNEL_STATE_CONNECTING, "connecting"),
    G_DEFINE_ENUM_VALUE (HANGOUT_DATA_CHANNEL_STATE_OPEN, "open"),
    G_DEFINE_ENUM_VALUE (HANGOUT_DATA_CHANNEL_STATE_CLOSING, "closing"),
    G_DEFINE_ENUM_VALUE (HANGOUT_DATA_CHANNEL_STATE_CLOSED, "closed"))

enum {
  PROP_0,
  PROP_LABEL,
  PROP_PROTOCOL,
  PROP_ID,
  PROP_ORDERED,
  PROP_MAX_RETRANSMITS,
  PROP_MAX_PACKET_LIFETIME,
  PROP_NEGOTIATED,
  PROP_PRIORITY,
  PROP_READY_STATE,
  PROP_BUFFERED_AMOUNT,
  PROP_BUFFERED_AMOUNT_LOW_THRESHOLD,
  PROP_MAX_MESSAGE_SIZE,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

enum {
  SIGNAL_OPEN,
  SIGNAL_CLOSE,
  SIGNAL_ERROR,
  SIGNAL_MESSAGE_STRING,
  SIGNAL_MESSAGE_DATA,
  SIGNAL_BUFFERED_AMOUNT_LOW,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

/* ---- DCEP wire format ---- */

void
hangout_dcep_open_clear (HangoutDcepOpen *open)
{
  g_clear_pointer (&open->label, g_free);
  g_clear_pointer (&open->protocol, g_free);
}

static gboolean
dcep_error (GError **error, const gchar *what)
{
  g_set_error (error, HANGOUT_ERROR, HANGOUT_ERROR_INVALID_MESSAGE,
      "DATA_CHANNEL_OPEN: %s", what);
  return FALSE;
}

/* Byte by byte: a message may start at any address, and loading a
 * guint16 from an odd one is undefined (GST_READ_UINT16_BE does exactly
 * that on x86). */
static guint16
read_be16 (const guint8 *p)
{
  return (guint16) (p[0] << 8 | p[1]);
}

static guint32
read_be32 (const guint8 *p)
{
  return (guint32) p[0] << 24 | (guint32) p[1] << 16 | (guint32) p[2] << 8 | p[3];
}

gboolean
hangout_dcep_parse_open (const guint8 *data, gsize len, HangoutDcepOpen *open,
    GError **error)
{
  guint16 label_len, protocol_len;
  guint8 type;

  memset (open, 0, sizeof *open);
  if (data == NULL || len < DCEP_OPEN_HEADER_SIZE)
    return dcep_error (error, "shorter than its 12-byte header");
  if (data[0] != HANGOUT_DCEP_MESSAGE_OPEN)
    return dcep_error (error, "not an OPEN message");
  type = data[1] & ~CHANNEL_TYPE_UNORDERED;
  if (type != CHANNEL_TYPE_RELIABLE
      && type != CHANNEL_TYPE_PARTIAL_RELIABLE_REXMIT
      && type != CHANNEL_TYPE_PARTIAL_RELIABLE_TIMED)
    return dcep_error (error, "unknown channel type");
  label_len = read_be16 (data + 8);
  protocol_len = read_be16 (data + 10);
  if ((gsize) DCEP_OPEN_HEADER_SIZE + label_len + protocol_len != len)
    return dcep_error (error, "label and protocol lengths do not match the message");
  if (!g_utf8_validate_len ((const gchar *) data + 12, label_len, NULL)
      || !g_utf8_validate_len ((const gchar *) data + 12 + label_len,
          protocol_len, NULL))
    return dcep_error (error, "label or protocol is not UTF-8");
  if (memchr (data + 12, '\0', label_len + protocol_len) != NULL)
    return dcep_error (error, "label or protocol contains a NUL byte");

  open->channel_type = data[1];
  open->priority = read_be16 (data + 2);
  open->reliability = read_be32 (data + 4);
  open->label = g_strndup ((const gchar *) data + 12, label_len);
  open->protocol = g_strndup ((const gchar *) data + 12 + label_len,
      protocol_len);
  return TRUE;
}

GBytes *
hangout_dcep_build_open (const HangoutDcepOpen *open)
{
  gsize label_len = open->label ? strlen (open->label) : 0;
  gsize protocol_len = open->protocol ? strlen (open->protocol) : 0;
  gsize len;
  guint8 *msg;
  guint16 u16;
  guint32 u32;

  label_len = MIN (label_len, G_MAXUINT16);
  protocol_len = MIN (protocol_len, G_MAXUINT16);
  len = DCEP_OPEN_HEADER_SIZE + label_len + protocol_len;
  msg = g_malloc (len);
  msg[0] = HANGOUT_DCEP_MESSAGE_OPEN;
  msg[1] = open->channel_type;
  u16 = GUINT16_TO_BE (open->priority);
  memcpy (msg + 2, &u16, 2);
  u32 = GUINT32_TO_BE (open->reliability);
  memcpy (msg + 4, &u32, 4);
  u16 = GUINT16_TO_BE ((guint16) label_len);
  memcpy (msg + 8, &u16, 2);
  u16 = GUINT16_TO_BE ((guint16) protocol_len);
  memcpy (msg + 10, &u16, 2);
  if (label_len)
    memcpy (msg + 12, open->label, label_len);
  if (protocol_len)
    memcpy (msg + 12 + label_len, open->protocol, protocol_len);
  return g_bytes_new_take (msg, len);
}

/* ---- the channel ---- */

static void
set_state (HangoutDataChannel *self, HangoutDataChannelState state)
{
  g_atomic_int_set (&self->state, state);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_READY_STATE]);
}

HangoutDataChannel *
hangout_data_channel_new (const gchar *label,
    const HangoutDataChannelOptions *options)
{
  HangoutDataChannel *self = g_object_new (HANGOUT_TYPE_DATA_CHANNEL, NULL);

  self->label = g_strdup (label ? label : "");
  self->protocol = g_strdup (options->protocol ? options->protocol : "");
  self->ordered = options->ordered;
  self->max_retransmits = options->max_retransmits;
  self->max_packet_lifetime = options->max_packet_lifetime;
  self->negotiated = options->negotiated;
  self->priority = options->priority;
  self->id = options->id;
  return self;
}

HangoutDataChannel *
hangout_data_channel_new_from_dcep (const HangoutDcepOpen *open,
    guint16 stream_id)
{
  HangoutDataChannelOptions options = HANGOUT_DATA_CHANNEL_OPTIONS_INIT;
  HangoutDataChannel *self;
  guint8 type = open->channel_type & ~CHANNEL_TYPE_UNORDERED;

  options.ordered = !(open->channel_type & CHANNEL_TYPE_UNORDERED);
  if (type == CHANNEL_TYPE_PARTIAL_RELIABLE_REXMIT)
    options.max_retransmits = MIN (open->reliability, G_MAXINT);
  else if (type == CHANNEL_TYPE_PARTIAL_RELIABLE_TIMED)
    options.max_packet_lifetime = MIN (open->reliability, G_MAXINT);
  options.protocol = open->protocol;
  options.priority = open->priority;
  options.id = stream_id;
  self = hangout_data_channel_new (open->label, &options);
  self->remote_opened = TRUE;
  return self;
}

gboolean
hangout_data_channel_is_negotiated (HangoutDataChannel *self)
{
  return self->negotiated;
}

void
hangout_data_channel_set_id (HangoutDataChannel *self, guint16 id)
{
  g_atomic_int_set (&self->id, id);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_ID]);
}

static HangoutSctpSendParams
send_params (HangoutDataChannel *self, guint32 ppid)
{
  HangoutSctpSendParams params = {
    .stream_id = g_atomic_int_get (&self->id),
    .ppid = ppid,
    .unordered = !self->ordered,
    .max_retransmits = self->max_retransmits,
    .max_lifetime_ms = self->max_packet_lifetime,
  };

  /* RFC 8832 §6: DCEP messages go ordered and reliable. */
  if (ppid == HANGOUT_SCTP_PPID_DCEP) {
    params.unordered = FALSE;
    params.max_retransmits = params.max_lifetime_ms = -1;
  }
  return params;
}

/* Sends one message with @send_lock held; accounts it in buffered-amount. */
static gboolean
send_locked (HangoutDataChannel *self, guint32 ppid, const guint8 *data,
    gsize len, GError **error)
{
  HangoutSctpSendParams params = send_params (self, ppid);
  gboolean queued = FALSE;

  if (self->sctp == NULL) {
    g_set_error (error, HANGOUT_ERROR, HANGOUT_ERROR_INVALID_STATE,
        "data channel '%s' has no transport", self->label);
    return FALSE;
  }
  /* Counted before the send: the network thread may report it sent (and
   * subtract) before hangout_sctp_send() returns. */
  atomic_fetch_add (&self->buffered_amount, (gint64) len);
  if (!hangout_sctp_send (self->sctp, &params, data, len, &queued, error)) {
    atomic_fetch_sub (&self->buffered_amount, (gint64) len);
    return FALSE;
  }
  if (!queued)
    atomic_fetch_sub (&self->buffered_amount, (gint64) len);
  atomic_fetch_add (&self->accepted, len);
  return TRUE;
}

static gboolean
send_message (HangoutDataChannel *self, gboolean is_string,
    const guint8 *data, gsize len, GError **error)
{
  static const guint8 empty_payload = 0;
  guint32 ppid;
  gboolean ok;

  if (g_atomic_int_get (&self->state) != HANGOUT_DATA_CHANNEL_STATE_OPEN) {
    g_set_error (error, HANGOUT_ERROR, HANGOUT_ERROR_INVALID_STATE,
        "data channel '%s' is not open", self->label);
    return FALSE;
  }
  if (len > self->max_message_size) {
    g_set_error (error, HANGOUT_ERROR, HANGOUT_ERROR_MESSAGE_TOO_BIG,
        "message of %" G_GSIZE_FORMAT " bytes is larger than the %"
        G_GSIZE_FORMAT " bytes the peer accepts (max-message-size)", len,
        self->max_message_size);
    return FALSE;
  }
  if (len == 0) {
    /* RFC 8831 §6.6: SCTP cannot carry an empty message; one zero byte goes
     * with the "empty" PPID instead. */
    ppid = is_string ? HANGOUT_SCTP_PPID_STRING_EMPTY
        : HANGOUT_SCTP_PPID_BINARY_EMPTY;
    data = &empty_payload;
    len = 1;
  } else {
    ppid = is_string ? HANGOUT_SCTP_PPID_STRING : HANGOUT_SCTP_PPID_BINARY;
  }
  g_mutex_lock (&self->send_lock);
  ok = send_locked (self, ppid, data, len, error);
  g_mutex_unlock (&self->send_lock);
  return ok;
}

gboolean
hangout_data_channel_send_data (HangoutDataChannel *self, const guint8 *data,
    gsize len, GError **error)
{
  g_return_val_if_fail (HANGOUT_IS_DATA_CHANNEL (self), FALSE);
  g_return_val_if_fail (data != NULL || len == 0, FALSE);
  return send_message (self, FALSE, data, len, error);
}

gboolean
hangout_data_channel_send_bytes (HangoutDataChannel *self, GBytes *bytes,
    GError **error)
{
  gsize len;
  const guint8 *data = g_bytes_get_data (bytes, &len);

  return hangout_data_channel_send_data (self, data, len, error);
}

gboolean
hangout_data_channel_send_string (HangoutDataChannel *self, const gchar *text,
    GError **error)
{
  g_return_val_if_fail (HANGOUT_IS_DATA_CHANNEL (self), FALSE);
  g_return_val_if_fail (text != NULL, FALSE);
  return send_message (self, TRUE, (const guint8 *) text, strlen (text), error);
}

static void
open_channel (HangoutDataChannel *self)
{
  set_state (self, HANGOUT_DATA_CHANNEL_STATE_OPEN);
  g_signal_emit (self, signals[SIGNAL_OPEN], 0);
}

static guint8
dcep_channel_type (HangoutDataChannel *self, guint32 *reliability)
{
  guint8 type = CHANNEL_TYPE_RELIABLE;

  *reliability = 0;
  if (self->max_retransmits >= 0) {
    type = CHANNEL_TYPE_PARTIAL_RELIABLE_REXMIT;
    *reliability = self->max_retransmits;
  } else if (self->max_packet_lifetime >= 0) {
    type = CHANNEL_TYPE_PARTIAL_RELIABLE_TIMED;
    *reliability = self->max_packet_lifetime;
  }
  return type | (self->ordered ? 0 : CHANNEL_TYPE_UNORDERED);
}

void
hangout_data_channel_attach (HangoutDataChannel *self, HangoutSctp *sctp,
    gsize max_message_size)
{
  GError *error = NULL;
  gboolean ok = TRUE;

  g_mutex_lock (&self->send_lock);
  self->sctp = sctp;
  self->max_message_size = max_message_size;
  if (self->remote_opened) {
    static const guint8 ack = HANGOUT_DCEP_MESSAGE_ACK;

    ok = send_locked (self, HANGOUT_SCTP_PPID_DCEP, &ack, 1, &error);
  } else if (!self->negotiated) {
    HangoutDcepOpen open = { 0 };
    GBytes *msg;

    open.channel_type = dcep_channel_type (self, &open.reliability);
    open.priority = self->priority;
    open.label = self->label;
    open.protocol = self->protocol;
    msg = hangout_dcep_build_open (&open);
    ok = send_locked (self, HANGOUT_SCTP_PPID_DCEP, g_bytes_get_data (msg,
            NULL), g_bytes_get_size (msg), &error);
    g_bytes_unref (msg);
  }
  g_mutex_unlock (&self->send_lock);

  if (!ok) {
    g_signal_emit (self, signals[SIGNAL_ERROR], 0, error);
    g_error_free (error);
    return;
  }
  /* A channel we announced opens when the peer acknowledges it. */
  if (self->remote_opened || self->negotiated)
    open_channel (self);
}

void
hangout_data_channel_detach (HangoutDataChannel *self, const GError *error)
{
  HangoutDataChannelState state;

  g_mutex_lock (&self->send_lock);
  self->sctp = NULL;
  g_mutex_unlock (&self->send_lock);
  state = g_atomic_int_get (&self->state);
  if (state == HANGOUT_DATA_CHANNEL_STATE_CLOSED)
    return;
  if (error != NULL && state != HANGOUT_DATA_CHANNEL_STATE_CLOSING)
    g_signal_emit (self, signals[SIGNAL_ERROR], 0, error);
  set_state (self, HANGOUT_DATA_CHANNEL_STATE_CLOSED);
  g_signal_emit (self, signals[SIGNAL_CLOSE], 0);
}

void
hangout_data_channel_handle_message (HangoutDataChannel *self, guint32 ppid,
    const guint8 *data, gsize len)
{
  HangoutDataChannelState state = g_atomic_int_get (&self->state);

  if (state == HANGOUT_DATA_CHANNEL_STATE_CLOSED)
    return;
  switch (ppid) {
    case HANGOUT_SCTP_PPID_DCEP:
      if (len == 1 && data[0] == HANGOUT_DCEP_MESSAGE_ACK
          && state == HANGOUT_DATA_CHANNEL_STATE_CONNECTING
          && !self->remote_opened && !self->negotiated)
        open_channel (self);
      else
        GST_DEBUG ("data channel '%s': ignoring an unexpected DCEP message",
            self->label);
      return;
    case HANGOUT_SCTP_PPID_STRING:
    case HANGOUT_SCTP_PPID_STRING_PARTIAL:
    case HANGOUT_SCTP_PPID_STRING_EMPTY:{
      g_autofree gchar *text = NULL;

      if (ppid == HANGOUT_SCTP_PPID_STRING_EMPTY)
        len = 0;
      if (!g_utf8_validate_len ((const gchar *) data, len, NULL)) {
        GST_WARNING ("data channel '%s': dropping a text message that is not "
            "UTF-8", self->label);
        return;
      }
      text = g_strndup ((const gchar *) data, len);
      g_signal_emit (self, signals[SIGNAL_MESSAGE_STRING], 0, text);
      return;
    }
    case HANGOUT_SCTP_PPID_BINARY:
    case HANGOUT_SCTP_PPID_BINARY_PARTIAL:
    case HANGOUT_SCTP_PPID_BINARY_EMPTY:{
      GBytes *bytes;

      if (ppid == HANGOUT_SCTP_PPID_BINARY_EMPTY)
        len = 0;
      /* A copy: handlers may keep it, and our read buffer is reused. */
      bytes = g_bytes_new (data, len);
      g_signal_emit (self, signals[SIGNAL_MESSAGE_DATA], 0, bytes);
      g_bytes_unref (bytes);
      return;
    }
    default:
      GST_DEBUG ("data channel '%s': ignoring a message with PPID %u",
          self->label, ppid);
      return;
  }
}

void
hangout_data_channel_handle_sent (HangoutDataChannel *self, gsize len)
{
  guint64 threshold = atomic_load (&self->low_threshold);
  gint64 before = atomic_fetch_sub (&self->buffered_amount, (gint64) len);
  gint64 after = before - (gint64) len;

  if (before > (gint64) threshold && after <= (gint64) threshold)
    g_signal_emit (self, signals[SIGNAL_BUFFERED_AMOUNT_LOW], 0);
}

gboolean
hangout_data_channel_handle_reset (HangoutDataChannel *self)
{
  HangoutDataChannelState state = g_atomic_int_get (&self->state);

  if (state == HANGOUT_DATA_CHANNEL_STATE_CLOSED)
    return TRUE;
  /* RFC 8831 §6.7: the peer closed its half; close ours in answer. */
  if (state != HANGOUT_DATA_CHANNEL_STATE_CLOSING) {
    g_mutex_lock (&self->send_lock);
    if (self->sctp != NULL)
      hangout_sctp_reset_stream (self->sctp, g_atomic_int_get (&self->id));
    g_mutex_unlock (&self->send_lock);
  }
  hangout_data_channel_detach (self, NULL);
  return TRUE;
}

void
hangout_data_channel_close (HangoutDataChannel *self)
{
  HangoutDataChannelState state;

  g_return_if_fail (HANGOUT_IS_DATA_CHANNEL (self));
  state = g_atomic_int_get (&self->state);
  if (state == HANGOUT_DATA_CHANNEL_STATE_CLOSING
      || state == HANGOUT_DATA_CHANNEL_STATE_CLOSED)
    return;
  g_mutex_lock (&self->send_lock);
  if (self->sctp != NULL && g_atomic_int_get (&self->id) >= 0) {
    /* Queued behind the channel's messages, so they still go out. */
    hangout_sctp_reset_stream (self->sctp, g_atomic_int_get (&self->id));
    g_mutex_unlock (&self->send_lock);
    set_state (self, HANGOUT_DATA_CHANNEL_STATE_CLOSING);
    return;
  }
  g_mutex_unlock (&self->send_lock);
  /* Never connected: nothing to tell the peer. */
  hangout_data_channel_detach (self, NULL);
}

const gchar *
hangout_data_channel_get_label (HangoutDataChannel *self)
{
  return self->label;
}

gint
hangout_data_channel_get_id (HangoutDataChannel *self)
{
  return g_atomic_int_get (&self->id);
}

HangoutDataChannelState
hangout_data_channel_get_ready_state (HangoutDataChannel *self)
{
  return g_atomic_int_get (&self->state);
}

guint64
hangout_data_channel_get_buffered_amount (HangoutDataChannel *self)
{
  gint64 amount = atomic_load (&self->buffered_amount);

  return MAX (amount, 0);
}

guint64
hangout_data_channel_get_bytes_accepted (HangoutDataChannel *self)
{
  return atomic_load (&self->accepted);
}

guint64
hangout_data_channel_get_unacknowledged (HangoutDataChannel *self)
{
  guint64 bytes = 0;

  g_mutex_lock (&self->send_lock);
  if (self->sctp != NULL)
    bytes = hangout_sctp_get_unacknowledged (self->sctp);
  g_mutex_unlock (&self->send_lock);
  return bytes;
}

void
hangout_data_channel_set_buffered_amount_low_threshold (HangoutDataChannel *self,
    guint64 threshold)
{
  atomic_store (&self->low_threshold, threshold);
  g_object_notify_by_pspec (G_OBJECT (self),
      properties[PROP_BUFFERED_AMOUNT_LOW_THRESHOLD]);
}

gsize
hangout_data_channel_get_max_message_size (HangoutDataChannel *self)
{
  return self->max_message_size;
}

static void
hangout_data_channel_get_property (GObject *object, guint prop_id,
    GValue *value, GParamSpec *pspec)
{
  HangoutDataChannel *self = HANGOUT_DATA_CHANNEL (object);

  switch (prop_id) {
    case PROP_LABEL:
      g_value_set_string (value, self->label);
      break;
    case PROP_PROTOCOL:
      g_value_set_string (value, self->protocol);
      break;
    case PROP_ID:
      g_value_set_int (value, hangout_data_channel_get_id (self));
      break;
    case PROP_ORDERED:
      g_value_set_boolean (value, self->ordered);
      break;
    case PROP_MAX_RETRANSMITS:
      g_value_set_int (value, self->max_retransmits);
      break;
    case PROP_MAX_PACKET_LIFETIME:
      g_value_set_int (value, self->max_packet_lifetime);
      break;
    case PROP_NEGOTIATED:
      g_value_set_boolean (value, self->negotiated);
      break;
    case PROP_PRIORITY:
      g_value_set_uint (value, self->priority);
      break;
    case PROP_READY_STATE:
      g_value_set_enum (value, hangout_data_channel_get_ready_state (self));
      break;
    case PROP_BUFFERED_AMOUNT:
      g_value_set_uint64 (value, hangout_data_channel_get_buffered_amount (self));
      break;
    case PROP_BUFFERED_AMOUNT_LOW_THRESHOLD:
      g_value_set_uint64 (value, atomic_load (&self->low_threshold));
      break;
    case PROP_MAX_MESSAGE_SIZE:
      g_value_set_uint64 (value, self->max_message_size);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
  }
}

static void
hangout_data_channel_set_property (GObject *object, guint prop_id,
    const GValue *value, GParamSpec *pspec)
{
  HangoutDataChannel *self = HANGOUT_DATA_CHANNEL (object);

  switch (prop_id) {
    case PROP_BUFFERED_AMOUNT_LOW_THRESHOLD:
      hangout_data_channel_set_buffered_amount_low_threshold (self,
          g_value_get_uint64 (value));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
  }
}

static void
hangout_data_channel_finalize (GObject *object)
{
  HangoutDataChannel *self = HANGOUT_DATA_CHANNEL (object);

  g_free (self->label);
  g_free (self->protocol);
  g_mutex_clear (&self->send_lock);
  G_OBJECT_CLASS (hangout_data_channel_parent_class)->finalize (object);
}

static void
hangout_data_channel_init (HangoutDataChannel *self)
{
  g_mutex_init (&self->send_lock);
  self->id = -1;
  self->state = HANGOUT_DATA_CHANNEL_STATE_CONNECTING;
  self->max_message_size = 65536;
}

static void
hangout_data_channel_class_init (HangoutDataChannelClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  const GParamFlags ro = G_PARAM_READABLE | G_PARAM_STATIC_STRINGS;

  hangout_debug_init ();
  object_class->get_property = hangout_data_channel_get_property;
  object_class->set_property = hangout_data_channel_set_property;
  object_class->finalize = hangout_data_channel_finalize;

  properties[PROP_LABEL] = g_param_spec_string ("label", "Label",
      "The channel's label", NULL, ro);
  properties[PROP_PROTOCOL] = g_param_spec_string ("protocol", "Protocol",
      "The channel's sub-protocol", NULL, ro);
  properties[PROP_ID] = g_param_spec_int ("id", "Id",
      "SCTP stream id, -1 until the DTLS role is known", -1, 65534, -1, ro);
  properties[PROP_ORDERED] = g_param_spec_boolean ("ordered", "Ordered",
      "Messages are delivered in order", TRUE, ro);
  properties[PROP_MAX_RETRANSMITS] = g_param_spec_int ("max-retransmits",
      "Max retransmits", "Retransmissions before a message is given up, "
      "-1 for no limit", -1, G_MAXINT, -1, ro);
  properties[PROP_MAX_PACKET_LIFETIME] = g_param_spec_int
      ("max-packet-lifetime", "Max packet lifetime",
      "Milliseconds before a message is given up, -1 for no limit",
      -1, G_MAXINT, -1, ro);
  properties[PROP_NEGOTIATED] = g_param_spec_boolean ("negotiated",
      "Negotiated", "The id was agreed out of band; no DCEP", FALSE, ro);
  properties[PROP_PRIORITY] = g_param_spec_uint ("priority", "Priority",
      "DCEP priority", 0, G_MAXUINT16, 256, ro);
  properties[PROP_READY_STATE] = g_param_spec_enum ("ready-state",
      "Ready state", "connecting, open, closing or closed",
      HANGOUT_TYPE_DATA_CHANNEL_STATE, HANGOUT_DATA_CHANNEL_STATE_CONNECTING,
      ro);
  properties[PROP_BUFFERED_AMOUNT] = g_param_spec_uint64 ("buffered-amount",
      "Buffered amount", "Bytes accepted by send but not yet handed to SCTP",
      0, G_MAXUINT64, 0, ro);
  properties[PROP_BUFFERED_AMOUNT_LOW_THRESHOLD] = g_param_spec_uint64
      ("buffered-amount-low-threshold", "Buffered amount low threshold",
      "\"buffered-amount-low\" is emitted when buffered-amount falls to this",
      0, G_MAXUINT64, 0, G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS);
  properties[PROP_MAX_MESSAGE_SIZE] = g_param_spec_uint64 ("max-message-size",
      "Max message size", "Largest message the peer accepts",
      0, G_MAXUINT64, 65536, ro);
  g_object_class_install_properties (object_class, N_PROPS, properties);

  signals[SIGNAL_OPEN] = g_signal_new ("open", G_TYPE_FROM_CLASS (klass),
      G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL, G_TYPE_NONE, 0);
  signals[SIGNAL_CLOSE] = g_signal_new ("close", G_TYPE_FROM_CLASS (klass),
      G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL, G_TYPE_NONE, 0);
  signals[SIGNAL_ERROR] = g_signal_new ("error", G_TYPE_FROM_CLASS (klass),
      G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL, G_TYPE_NONE, 1, G_TYPE_ERROR);
  signals[SIGNAL_MESSAGE_STRING] = g_signal_new ("message-string",
      G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
      G_TYPE_NONE, 1, G_TYPE_STRING | G_SIGNAL_TYPE_STATIC_SCOPE);
  signals[SIGNAL_MESSAGE_DATA] = g_signal_new ("message-data",
      G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
      G_TYPE_NONE, 1, G_TYPE_BYTES | G_SIGNAL_TYPE_STATIC_SCOPE);
  signals[SIGNAL_BUFFERED_AMOUNT_LOW] = g_signal_new ("buffered-amount-low",
      G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
      G_TYPE_NONE, 0);
}
