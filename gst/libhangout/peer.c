/* gst-hangout — a peer connection: ICE, then DTLS over the selected pair,
 * then SCTP over DTLS, then data channels on SCTP streams.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#include <hangout/peer.h>
#include <hangout/ice.h>
#include <hangout/dtls.h>
#include <hangout/fec.h>
#include <gnutls/gnutls.h>
#include <hangout/sctp.h>
#include <hangout/auth.h>
#include "channel-private.h"

#include <string.h>
#include "debug-private.h"
#include "source-private.h"
#include "timers-private.h"

#define GST_CAT_DEFAULT hangout_debug_peer

#define DEFAULT_CONNECT_TIMEOUT_MS 30000
/* RFC 7675 §5.1: consent expires 30 s after the last proof of it. */
#define DEFAULT_CONSENT_TIMEOUT_MS 30000
/* SCTP heartbeats keep an idle connection proving consent: at least three
 * round trips fit in one consent period, so one lost packet never ends it. */
#define HEARTBEATS_PER_CONSENT 4
/* DTLS datagrams that arrive before we can read them (below): enough for a
 * ClientHello in several fragments (post-quantum key shares) and a
 * retransmission of it. */
#define EARLY_DTLS_MAX_BYTES (16 * 1024)
#define MID "0"

struct _HangoutPeerConnection {
  GObject parent;

  GMainContext *context;
  gchar *stun_server;
  gchar *turn_server;
  GPtrArray *ice_servers;       /* HangoutIceServer, or NULL */
  gboolean relay_only;
  gboolean disposing;
  gsize max_message_size;       /* ours, advertised */
  gsize remote_max_message_size;        /* theirs; 0: no limit */
  guint connect_timeout_ms;
  guint consent_timeout_ms;

  HangoutPeerConnectionState state;
  GError *error;

  HangoutSdpDescription *local;
  HangoutSdpDescription *remote;
  gboolean local_gathering_done;
  GPtrArray *pending_candidates;        /* remote ones before the remote SDP */
  gboolean pending_end_of_candidates;
  gboolean dtls_client;
  gboolean dtls_verified;       /* the peer's certificate matched @remote */

  HangoutIce *ice;
  gboolean ice_connected;
  HangoutDtls *dtls;
  gboolean dtls_started;
  GQueue early_dtls;            /* GBytes received before DTLS started */
  gsize early_dtls_bytes;
  /* Loss repair (fec.h) when both ends read it and the path is not
   * loopback; set once, read by the threads that send. */
  HangoutFec *fec;
  HangoutSctp *sctp;
  gboolean sctp_connected;
  guint sctp_packet_size;       /* chosen when DTLS is up */
  gboolean paused;              /* set_receiving (FALSE) */
  gboolean shutting_down;       /* hangout_peer_connection_shutdown() */

  GHashTable *channels;         /* stream id → HangoutDataChannel */
  GPtrArray *unassigned;        /* channels waiting for the DTLS role */

  GSource *timeout;
  GSource *gather;
  HangoutTimer *consent;        /* fires when consent would expire */
  gint64 last_heard;            /* monotonic µs of the last DTLS record */
  /* >0 while one of the transports is calling us: it must not be freed
   * under its own feet, so teardown waits for an idle. */
  guint dispatching;
  GSource *teardown;
};

G_DEFINE_TYPE (HangoutPeerConnection, hangout_peer_connection, G_TYPE_OBJECT)

G_DEFINE_ENUM_TYPE (HangoutPeerConnectionState, hangout_peer_connection_state,
    G_DEFINE_ENUM_VALUE (HANGOUT_PEER_CONNECTION_STATE_NEW, "new"),
    G_DEFINE_ENUM_VALUE (HANGOUT_PEER_CONNECTION_STATE_CONNECTING, "connecting"),
    G_DEFINE_ENUM_VALUE (HANGOUT_PEER_CONNECTION_STATE_CONNECTED, "connected"),
    G_DEFINE_ENUM_VALUE (HANGOUT_PEER_CONNECTION_STATE_CLOSED, "closed"),
    G_DEFINE_ENUM_VALUE (HANGOUT_PEER_CONNECTION_STATE_FAILED, "failed"))

enum {
  PROP_0,
  PROP_CONTEXT,
  PROP_STUN_SERVER,
  PROP_TURN_SERVER,
  PROP_ICE_SERVERS,
  PROP_RELAY_ONLY,
  PROP_MAX_MESSAGE_SIZE,
  PROP_REMOTE_MAX_MESSAGE_SIZE,
  PROP_CONNECT_TIMEOUT,
  PROP_CONSENT_TIMEOUT,
  PROP_STATE,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

enum {
  SIGNAL_ICE_CANDIDATE,
  SIGNAL_STATE_CHANGED,
  SIGNAL_DATA_CHANNEL,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

/* ---- state ---- */

static gboolean
is_finished (HangoutPeerConnection *pc)
{
  return pc->state == HANGOUT_PEER_CONNECTION_STATE_CLOSED
      || pc->state == HANGOUT_PEER_CONNECTION_STATE_FAILED;
}

static void
set_state (HangoutPeerConnection *pc, HangoutPeerConnectionState state)
{
  if (pc->state == state)
    return;
  pc->state = state;
  g_object_notify_by_pspec (G_OBJECT (pc), properties[PROP_STATE]);
  g_signal_emit (pc, signals[SIGNAL_STATE_CHANGED], 0, state);
}

static void
clear_early_dtls (HangoutPeerConnection *pc)
{
  g_queue_clear_full (&pc->early_dtls, (GDestroyNotify) g_bytes_unref);
  pc->early_dtls_bytes = 0;
}

/* Frees the transports, top down: SCTP's ABORT still goes out through DTLS
 * and ICE; DTLS then says close_notify. */
static void
free_transports (HangoutPeerConnection *pc)
{
  hangout_clear_source (&pc->teardown);
  clear_early_dtls (pc);
  g_clear_pointer (&pc->sctp, hangout_sctp_free);
  if (pc->dtls != NULL)
    hangout_dtls_close (pc->dtls);
  g_clear_pointer (&pc->dtls, hangout_dtls_free);
  /* Nothing sends any more. */
  hangout_fec_free (g_atomic_pointer_exchange (&pc->fec, NULL));
  /* The connection lives on until its agent has released its TURN
   * allocations (a second at most), so that a room's drain waits for them;
   * from dispose it cannot. */
  if (pc->ice != NULL && pc->disposing)
    hangout_ice_free (g_steal_pointer (&pc->ice));
  else if (pc->ice != NULL)
    hangout_ice_free_full (g_steal_pointer (&pc->ice), g_object_unref,
        g_object_ref (pc));
}

static gboolean
on_teardown (gpointer data)
{
  HangoutPeerConnection *pc = data;

  g_clear_pointer (&pc->teardown, g_source_unref);
  free_transports (pc);
  return G_SOURCE_REMOVE;
}

/* The channels with a stream id, each with a reference: handlers of the
 * channels' signals may change the table while we walk the list. */
static GList *
ref_channels (HangoutPeerConnection *pc)
{
  GList *list = g_hash_table_get_values (pc->channels);

  for (GList * l = list; l != NULL; l = l->next)
    g_object_ref (l->data);
  return list;
}

static void
detach_channels (HangoutPeerConnection *pc, const GError *error)
{
  GList *list = ref_channels (pc);

  g_hash_table_remove_all (pc->channels);
  for (GList * l = list; l != NULL; l = l->next)
    hangout_data_channel_detach (l->data, error);
  g_list_free_full (list, g_object_unref);
  while (pc->unassigned->len > 0) {
    HangoutDataChannel *channel = g_object_ref (pc->unassigned->pdata[0]);

    g_ptr_array_remove_index (pc->unassigned, 0);
    hangout_data_channel_detach (channel, error);
    g_object_unref (channel);
  }
}

/* Ends the connection: CLOSED when @error is NULL or @failed is FALSE. */
static void
finish (HangoutPeerConnection *pc, gboolean failed, GError *error)
{
  if (is_finished (pc)) {
    g_clear_error (&error);
    return;
  }
  if (error != NULL)
    GST_DEBUG ("peer connection %s: %s", failed ? "failed" : "closed",
        error->message);
  g_clear_error (&pc->error);
  pc->error = error;
  hangout_clear_source (&pc->timeout);
  hangout_clear_source (&pc->gather);
  hangout_clear_timer (&pc->consent);
  /* Channels first (they stop using SCTP), then the transports. As with
   * RTCDataChannel, a close (ours or the peer's) is no error for them. */
  detach_channels (pc, failed ? error : NULL);
  if (pc->dispatching > 0) {
    if (pc->teardown == NULL) {
      pc->teardown = g_idle_source_new ();
      g_source_set_priority (pc->teardown, G_PRIORITY_HIGH);
      g_source_set_callback (pc->teardown, on_teardown, g_object_ref (pc),
          g_object_unref);
      g_source_attach (pc->teardown, pc->context);
    }
  } else {
    free_transports (pc);
  }
  set_state (pc, failed ? HANGOUT_PEER_CONNECTION_STATE_FAILED
      : HANGOUT_PEER_CONNECTION_STATE_CLOSED);
}

static void
fail (HangoutPeerConnection *pc, HangoutError code, const gchar *format, ...)
    G_GNUC_PRINTF (3, 4);

static void
fail (HangoutPeerConnection *pc, HangoutError code, const gchar *format, ...)
{
  va_list args;
  GError *error;

  va_start (args, format);
  error = g_error_new_valist (HANGOUT_ERROR, code, format, args);
  va_end (args);
  finish (pc, TRUE, error);
}

/* Brackets every callback from a transport: keeps @pc alive and defers
 * freeing the transports until the callback has returned. */
static HangoutPeerConnection *
enter (gpointer data)
{
  HangoutPeerConnection *pc = g_object_ref (data);

  pc->dispatching++;
  return pc;
}

static void
leave (HangoutPeerConnection *pc)
{
  pc->dispatching--;
  g_object_unref (pc);
}

/* ---- data channels ---- */

static gint
allocate_stream_id (HangoutPeerConnection *pc)
{
  /* RFC 8832 §6: the DTLS client uses even ids, the server odd ones. */
  for (guint id = pc->dtls_client ? 0 : 1; id < HANGOUT_SCTP_MAX_STREAMS;
      id += 2) {
    if (!g_hash_table_contains (pc->channels, GUINT_TO_POINTER (id)))
      return id;
  }
  return -1;
}

/* What we may send: the peer's limit, but never more than ours. */
static gsize
send_max_message_size (HangoutPeerConnection *pc)
{
  if (pc->remote_max_message_size == 0)
    return pc->max_message_size;
  return MIN (pc->max_message_size, pc->remote_max_message_size);
}

static void
assign_stream_ids (HangoutPeerConnection *pc)
{
  while (pc->unassigned->len > 0) {
    HangoutDataChannel *channel = pc->unassigned->pdata[0];
    gint id = allocate_stream_id (pc);

    if (id < 0) {
      GError *error = g_error_new (HANGOUT_ERROR, HANGOUT_ERROR_INVALID_STATE,
          "no free SCTP stream for data channel '%s'",
          hangout_data_channel_get_label (channel));

      g_object_ref (channel);
      g_ptr_array_remove_index (pc->unassigned, 0);
      hangout_data_channel_detach (channel, error);
      g_object_unref (channel);
      g_error_free (error);
      continue;
    }
    hangout_data_channel_set_id (channel, id);
    g_hash_table_insert (pc->channels, GUINT_TO_POINTER (id),
        g_object_ref (channel));
    g_ptr_array_remove_index (pc->unassigned, 0);
  }
}

static void
attach_all_channels (HangoutPeerConnection *pc)
{
  GList *list = ref_channels (pc);

  for (GList * l = list; l != NULL && pc->sctp != NULL; l = l->next)
    hangout_data_channel_attach (l->data, pc->sctp,
        send_max_message_size (pc));
  g_list_free_full (list, g_object_unref);
}

HangoutDataChannel *
hangout_peer_connection_create_data_channel (HangoutPeerConnection *pc,
    const gchar *label, const HangoutDataChannelOptions *options,
    GError **error)
{
  HangoutDataChannelOptions defaults = HANGOUT_DATA_CHANNEL_OPTIONS_INIT;
  HangoutDataChannel *channel;

  g_return_val_if_fail (HANGOUT_IS_PEER_CONNECTION (pc), NULL);
  if (options == NULL)
    options = &defaults;
  if (is_finished (pc)) {
    g_set_error (error, HANGOUT_ERROR, HANGOUT_ERROR_INVALID_STATE,
        "the peer connection is closed");
    return NULL;
  }
  if (label == NULL || strlen (label) > G_MAXUINT16
      || (options->protocol != NULL && strlen (options->protocol) > G_MAXUINT16)) {
    g_set_error (error, HANGOUT_ERROR, HANGOUT_ERROR_INVALID_STATE,
        "a data channel needs a label, and label and protocol must be "
        "shorter than 65536 bytes");
    return NULL;
  }
  if (options->max_retransmits >= 0 && options->max_packet_lifetime >= 0) {
    g_set_error (error, HANGOUT_ERROR, HANGOUT_ERROR_INVALID_STATE,
        "max-retransmits and max-packet-lifetime cannot both be set");
    return NULL;
  }
  if (options->negotiated && (options->id < 0
          || options->id >= HANGOUT_SCTP_MAX_STREAMS)) {
    g_set_error (error, HANGOUT_ERROR, HANGOUT_ERROR_INVALID_STATE,
        "a negotiated data channel needs an id between 0 and %d",
        HANGOUT_SCTP_MAX_STREAMS - 1);
    return NULL;
  }
  if (options->negotiated && g_hash_table_contains (pc->channels,
          GINT_TO_POINTER (options->id))) {
    g_set_error (error, HANGOUT_ERROR, HANGOUT_ERROR_INVALID_STATE,
        "stream id %d is already in use", options->id);
    return NULL;
  }

  channel = hangout_data_channel_new (label, options);
  if (options->negotiated) {
    g_hash_table_insert (pc->channels, GINT_TO_POINTER (options->id),
        g_object_ref (channel));
  } else {
    g_ptr_array_add (pc->unassigned, g_object_ref (channel));
    if (pc->dtls != NULL)
      assign_stream_ids (pc);
  }
  if (pc->sctp_connected && hangout_data_channel_get_id (channel) >= 0)
    hangout_data_channel_attach (channel, pc->sctp,
        send_max_message_size (pc));
  return channel;
}

static void
handle_dcep_open (HangoutPeerConnection *pc, guint16 stream_id,
    const guint8 *data, gsize len)
{
  g_autoptr (GError) error = NULL;
  HangoutDcepOpen open;
  HangoutDataChannel *channel;

  if ((stream_id % 2 == 0) == pc->dtls_client) {
    GST_WARNING ("peer opened a data channel on stream %u, which is ours to "
        "use (RFC 8832 §6): ignored", stream_id);
    return;
  }
  if (!hangout_dcep_parse_open (data, len, &open, &error)) {
    GST_WARNING ("peer sent a malformed %s on stream %u", error->message,
        stream_id);
    return;
  }
  channel = hangout_data_channel_new_from_dcep (&open, stream_id);
  hangout_dcep_open_clear (&open);
  g_hash_table_insert (pc->channels, GUINT_TO_POINTER (stream_id), channel);
  g_signal_emit (pc, signals[SIGNAL_DATA_CHANNEL], 0, channel);
  if (pc->sctp != NULL)
    hangout_data_channel_attach (channel, pc->sctp,
        send_max_message_size (pc));
}

/* ---- SCTP callbacks ---- */

static void
sctp_send_packet (gpointer data, const guint8 *packet, gsize len)
{
  HangoutPeerConnection *pc = data;

  /* Any thread. pc->dtls outlives pc->sctp (free_transports' order). */
  hangout_dtls_send (pc->dtls, packet, len, NULL);
}

static void
sctp_connected (gpointer data)
{
  HangoutPeerConnection *pc = enter (data);

  /* A close inside a callback leaves the transports running until the
   * deferred teardown: nothing may come back to life meanwhile. */
  if (!is_finished (pc)) {
    pc->sctp_connected = TRUE;
    hangout_clear_source (&pc->timeout);
    set_state (pc, HANGOUT_PEER_CONNECTION_STATE_CONNECTED);
    attach_all_channels (pc);
  }
  leave (pc);
}

static void
sctp_closed (gpointer data, const GError *error)
{
  HangoutPeerConnection *pc = enter (data);

  /* An ABORT or SHUTDOWN from the peer is how a peer says goodbye; an
   * association that gave up on the peer failed. */
  if (error == NULL && pc->shutting_down)
    finish (pc, FALSE, g_error_new (HANGOUT_ERROR, HANGOUT_ERROR_CLOSED,
            "the connection was closed locally (SCTP shutdown)"));
  else if (error != NULL && error->code == HANGOUT_ERROR_SCTP)
    finish (pc, TRUE, g_error_copy (error));
  else
    finish (pc, FALSE, g_error_new (HANGOUT_ERROR, HANGOUT_ERROR_CLOSED,
            "the peer closed the connection (%s)",
            error ? error->message : "SCTP shutdown"));
  leave (pc);
}

static void
sctp_message (gpointer data, guint16 stream_id, guint32 ppid,
    const guint8 *message, gsize len)
{
  HangoutPeerConnection *pc = enter (data);
  HangoutDataChannel *channel = g_hash_table_lookup (pc->channels,
      GUINT_TO_POINTER (stream_id));

  if (ppid == HANGOUT_SCTP_PPID_DCEP && len > 0
      && message[0] == HANGOUT_DCEP_MESSAGE_OPEN) {
    if (channel == NULL)
      handle_dcep_open (pc, stream_id, message, len);
    else
      GST_WARNING ("peer opened stream %u, which is in use: ignored", stream_id);
  } else if (channel != NULL) {
    g_object_ref (channel);
    hangout_data_channel_handle_message (channel, ppid, message, len);
    g_object_unref (channel);
  } else {
    GST_DEBUG ("message on stream %u, which has no channel: dropped", stream_id);
  }
  leave (pc);
}

static void
sctp_stream_reset (gpointer data, guint16 stream_id)
{
  HangoutPeerConnection *pc = enter (data);
  HangoutDataChannel *channel = g_hash_table_lookup (pc->channels,
      GUINT_TO_POINTER (stream_id));

  if (channel != NULL) {
    g_object_ref (channel);
    if (hangout_data_channel_handle_reset (channel))
      g_hash_table_remove (pc->channels, GUINT_TO_POINTER (stream_id));
    g_object_unref (channel);
  }
  leave (pc);
}

static void
sctp_message_sent (gpointer data, guint16 stream_id, gsize len)
{
  HangoutPeerConnection *pc = enter (data);
  HangoutDataChannel *channel = g_hash_table_lookup (pc->channels,
      GUINT_TO_POINTER (stream_id));

  if (channel != NULL)
    hangout_data_channel_handle_sent (channel, len);
  leave (pc);
}

static const HangoutSctpCallbacks sctp_callbacks = {
  sctp_send_packet, sctp_connected, sctp_closed, sctp_message,
  sctp_stream_reset, sctp_message_sent,
};

/* ---- DTLS callbacks ---- */

/* ---- consent freshness ----
 *
 * RFC 7675 asks a sender to stop when the peer no longer shows that it wants
 * the traffic. libnice 0.1.21 checks that with one STUN request every 4–6 s,
 * never retransmitted, and fails the pair 10 s after the last answer: one
 * or two lost packets end a connection on any lossy link. We prove consent
 * with what the peer sends anyway instead: every DTLS record that decrypts
 * came from the peer that holds this session's keys, and SCTP answers what
 * we send (SACKs, heartbeat acks), so a record means the peer still reads
 * us. Idle connections exchange SCTP heartbeats; consent expires 30 s after
 * the last record, as RFC 7675 says. */

static void
on_consent_check (gpointer data)
{
  HangoutPeerConnection *pc = enter (data);
  gint64 expires = pc->last_heard
      + (gint64) pc->consent_timeout_ms * G_TIME_SPAN_MILLISECOND;

  if (g_get_monotonic_time () >= expires)
    fail (pc, HANGOUT_ERROR_ICE, "ICE consent expired: nothing arrived from "
        "the peer for %u ms (RFC 7675)", pc->consent_timeout_ms);
  else
    hangout_timer_set (pc->consent, expires);
  leave (pc);
}

static void
start_consent (HangoutPeerConnection *pc)
{
  pc->last_heard = g_get_monotonic_time ();
  if (pc->consent_timeout_ms == 0)
    return;
  pc->consent = hangout_timer_new (pc->context, on_consent_check, pc);
  hangout_timer_set (pc->consent, pc->last_heard
      + (gint64) pc->consent_timeout_ms * G_TIME_SPAN_MILLISECOND);
}

static void
dtls_send_datagram (gpointer data, const guint8 *datagram, gsize len)
{
  HangoutPeerConnection *pc = data;

  HangoutFec *fec = g_atomic_pointer_get (&pc->fec);

  /* Any thread; the ICE layer outlives DTLS. */
  hangout_ice_send (pc->ice, datagram, len);
  if (fec != NULL)
    hangout_fec_sent (fec, datagram, len);
}

static void
fec_send (gpointer data, const guint8 *datagram, gsize len)
{
  HangoutPeerConnection *pc = data;

  hangout_ice_send (pc->ice, datagram, len);
}

static void
fec_deliver (gpointer data, const guint8 *datagram, gsize len)
{
  HangoutPeerConnection *pc = enter (data);

  if (pc->dtls != NULL)
    hangout_dtls_receive (pc->dtls, datagram, len);
  leave (pc);
}

static const HangoutFecCallbacks fec_callbacks = { fec_send, fec_deliver };

static void
dtls_connected (gpointer data)
{
  HangoutPeerConnection *pc = enter (data);
  GError *error = NULL;
  guint mtu = HANGOUT_SCTP_DEFAULT_MTU;

  if (is_finished (pc)) {
    leave (pc);
    return;
  }
  pc->dtls_verified = TRUE;
  /* Loopback carries 64 KiB datagrams: the path MTU is known without
   * discovery, and one DTLS record per SCTP packet is the only bound. Per
   * packet costs (system calls, SCTP, DTLS) dominate, so this is most of
   * the speed between two processes on one host. Only for a peer that says
   * it reads such datagrams: libjuice reads 4096 bytes, libwebrtc 2048. */
  if (hangout_ice_selected_pair_is_loopback (pc->ice)
      && pc->remote->max_datagram_size >= HANGOUT_DTLS_MAX_DATAGRAM)
    mtu = hangout_dtls_get_max_payload (pc->dtls);
  pc->sctp_packet_size = mtu;
  GST_INFO ("peer %p: SCTP packets of up to %u bytes", pc, mtu);
  /* Loopback loses nothing; its large records are not protected anyway. */
  if (pc->remote->fec && mtu == HANGOUT_SCTP_DEFAULT_MTU) {
    guint8 key[HANGOUT_FEC_KEY_SIZE];

    if (hangout_dtls_export_key (pc->dtls, HANGOUT_FEC_EXPORTER_LABEL, key,
            sizeof key))
      g_atomic_pointer_set (&pc->fec, hangout_fec_new (pc->context, key,
              &fec_callbacks, pc));
    else
      GST_WARNING ("peer %p: no key for loss repair: none", pc);
    gnutls_memset (key, 0, sizeof key);
  }
  start_consent (pc);
  pc->sctp = hangout_sctp_new (pc->context, HANGOUT_SDP_DEFAULT_SCTP_PORT,
      pc->remote->sctp_port, mtu, pc->max_message_size,
      pc->consent_timeout_ms > 0 ? pc->consent_timeout_ms
      / HEARTBEATS_PER_CONSENT : 0, &sctp_callbacks, pc, &error);
  if (pc->sctp != NULL)
    hangout_sctp_set_receiving (pc->sctp, !pc->paused);
  if (pc->sctp == NULL || !hangout_sctp_connect (pc->sctp, &error))
    finish (pc, TRUE, error);
  leave (pc);
}

static void
dtls_received (gpointer data, const guint8 *packet, gsize len)
{
  HangoutPeerConnection *pc = enter (data);

  pc->last_heard = g_get_monotonic_time ();
  if (pc->sctp != NULL)
    hangout_sctp_receive_packet (pc->sctp, packet, len);
  leave (pc);
}

static void
dtls_closed (gpointer data, const GError *error)
{
  HangoutPeerConnection *pc = enter (data);

  if (error != NULL)
    finish (pc, TRUE, g_error_copy (error));
  else
    finish (pc, FALSE, g_error_new (HANGOUT_ERROR, HANGOUT_ERROR_CLOSED,
            "the peer closed the connection (DTLS close_notify)"));
  leave (pc);
}

static const HangoutDtlsCallbacks dtls_callbacks = {
  dtls_send_datagram, dtls_connected, dtls_received, dtls_closed,
};

/* ---- ICE callbacks ---- */

/* The peer's DTLS client may start as soon as its ICE checks succeed, which
 * is before its answer, relayed by the server, reaches us: a ClientHello
 * dropped then costs a one-second retransmission. Such datagrams wait in
 * @early_dtls until both ICE and our description of the peer are there. */
static void
start_dtls (HangoutPeerConnection *pc)
{
  GBytes *datagram;

  if (pc->dtls == NULL || !pc->ice_connected || pc->dtls_started)
    return;
  pc->dtls_started = TRUE;
  hangout_dtls_start (pc->dtls);
  while (pc->dtls != NULL
      && (datagram = g_queue_pop_head (&pc->early_dtls)) != NULL) {
    hangout_dtls_receive (pc->dtls, g_bytes_get_data (datagram, NULL),
        g_bytes_get_size (datagram));
    g_bytes_unref (datagram);
  }
  clear_early_dtls (pc);
}

static void
ice_local_candidate (gpointer data, const gchar *candidate)
{
  HangoutPeerConnection *pc = enter (data);

  if (candidate == NULL)
    pc->local_gathering_done = TRUE;
  g_signal_emit (pc, signals[SIGNAL_ICE_CANDIDATE], 0, candidate);
  leave (pc);
}

static void
ice_state_changed (gpointer data, HangoutIceState state)
{
  HangoutPeerConnection *pc = enter (data);

  if (state == HANGOUT_ICE_STATE_CONNECTED) {
    pc->ice_connected = TRUE;
    start_dtls (pc);
  } else if (state == HANGOUT_ICE_STATE_FAILED)
    fail (pc, HANGOUT_ERROR_ICE, "ICE failed: no candidate pair works, or "
        "the peer revoked consent");
  leave (pc);
}

static void
ice_received (gpointer data, const guint8 *datagram, gsize len)
{
  HangoutPeerConnection *pc = enter (data);

  if (pc->fec != NULL && (hangout_dtls_is_dtls_packet (datagram, len)
          || hangout_fec_is_fec_packet (datagram, len))) {
    hangout_fec_receive (pc->fec, datagram, len);
    leave (pc);
    return;
  }
  if (!hangout_dtls_is_dtls_packet (datagram, len)) {
    leave (pc);
    return;
  }
  if (pc->dtls_started)
    hangout_dtls_receive (pc->dtls, datagram, len);
  else if (pc->early_dtls_bytes + len <= EARLY_DTLS_MAX_BYTES) {
    g_queue_push_tail (&pc->early_dtls, g_bytes_new (datagram, len));
    pc->early_dtls_bytes += len;
  }
  leave (pc);
}

static const HangoutIceCallbacks ice_callbacks = {
  ice_local_candidate, ice_state_changed, ice_received,
};

/* ---- offer / answer ---- */


static gboolean
on_gather (gpointer data)
{
  HangoutPeerConnection *pc = enter (data);
  GError *error = NULL;

  g_clear_pointer (&pc->gather, g_source_unref);
  if (pc->ice != NULL && !hangout_ice_gather (pc->ice, &error))
    finish (pc, TRUE, error);
  leave (pc);
  return G_SOURCE_REMOVE;
}

static gboolean
create_ice (HangoutPeerConnection *pc, gboolean controlling, GError **error)
{
  HangoutIceConfig config = {
    .stun_server = pc->stun_server,
    .turn_server = pc->turn_server,
    .servers = pc->ice_servers,
    .relay_only = pc->relay_only,
  };

  pc->ice = hangout_ice_new (pc->context, controlling, &config, &ice_callbacks,
      pc, error);
  if (pc->ice == NULL)
    return FALSE;
  /* Candidates are announced only after the description that they belong
   * to was returned (as browsers do after setLocalDescription). */
  pc->gather = g_idle_source_new ();
  g_source_set_priority (pc->gather, G_PRIORITY_DEFAULT);
  g_source_set_callback (pc->gather, on_gather, pc, NULL);
  g_source_attach (pc->gather, pc->context);
  return TRUE;
}

static gboolean
on_connect_timeout (gpointer data)
{
  HangoutPeerConnection *pc = enter (data);

  g_clear_pointer (&pc->timeout, g_source_unref);
  fail (pc, HANGOUT_ERROR_ICE, "connection timed out after %u ms (%s)",
      pc->connect_timeout_ms, pc->dtls != NULL
      && hangout_dtls_is_connected (pc->dtls) ? "SCTP did not come up"
      : "ICE or DTLS did not complete");
  leave (pc);
  return G_SOURCE_REMOVE;
}

/* Both descriptions are known: start the clock. */
static void
start_connecting (HangoutPeerConnection *pc)
{
  set_state (pc, HANGOUT_PEER_CONNECTION_STATE_CONNECTING);
  if (pc->connect_timeout_ms > 0) {
    pc->timeout = g_timeout_source_new (pc->connect_timeout_ms);
    g_source_set_callback (pc->timeout, on_connect_timeout, pc, NULL);
    g_source_attach (pc->timeout, pc->context);
  }
}

static HangoutSdpDescription *
new_local_description (HangoutPeerConnection *pc, HangoutSdpType type,
    HangoutSdpSetup setup)
{
  HangoutSdpDescription *desc = hangout_sdp_description_new (type);
  HangoutCertificate *cert = hangout_certificate_get_default ();

  hangout_ice_get_local_credentials (pc->ice, &desc->ice_ufrag, &desc->ice_pwd);
  desc->fingerprint_algorithm = g_strdup ("sha-256");
  desc->fingerprint = g_strdup (hangout_certificate_get_fingerprint (cert));
  desc->setup = setup;
  g_free (desc->mid);
  desc->mid = g_strdup (pc->remote != NULL && pc->remote->mid != NULL
      ? pc->remote->mid : MID);
  desc->sctp_port = HANGOUT_SDP_DEFAULT_SCTP_PORT;
  desc->max_message_size = pc->max_message_size;
  desc->max_datagram_size = HANGOUT_DTLS_MAX_DATAGRAM;
  desc->fec = TRUE;
  return desc;
}

gchar *
hangout_peer_connection_create_offer (HangoutPeerConnection *pc,
    GError **error)
{
  g_return_val_if_fail (HANGOUT_IS_PEER_CONNECTION (pc), NULL);
  if (pc->state != HANGOUT_PEER_CONNECTION_STATE_NEW || pc->local != NULL
      || pc->remote != NULL) {
    g_set_error (error, HANGOUT_ERROR, HANGOUT_ERROR_INVALID_STATE,
        "an offer can only be made by a new peer connection");
    return NULL;
  }
  if (!create_ice (pc, TRUE, error))
    return NULL;
  /* RFC 8842 §5.2: the offerer lets the answerer pick the DTLS role. */
  pc->local = new_local_description (pc, HANGOUT_SDP_OFFER,
      HANGOUT_SDP_SETUP_ACTPASS);
  return hangout_sdp_description_to_string (pc->local);
}

gchar *
hangout_peer_connection_create_answer (HangoutPeerConnection *pc,
    GError **error)
{
  g_return_val_if_fail (HANGOUT_IS_PEER_CONNECTION (pc), NULL);
  if (pc->remote == NULL || pc->remote->type != HANGOUT_SDP_OFFER
      || pc->local != NULL || is_finished (pc)) {
    g_set_error (error, HANGOUT_ERROR, HANGOUT_ERROR_INVALID_STATE,
        "an answer needs a remote offer and no local description");
    return NULL;
  }
  pc->local = new_local_description (pc, HANGOUT_SDP_ANSWER, pc->dtls_client
      ? HANGOUT_SDP_SETUP_ACTIVE : HANGOUT_SDP_SETUP_PASSIVE);
  start_connecting (pc);
  return hangout_sdp_description_to_string (pc->local);
}

static gboolean
add_candidate (HangoutPeerConnection *pc, const gchar *candidate,
    GError **error)
{
  if (candidate == NULL || *candidate == '\0') {
    hangout_ice_remote_gathering_done (pc->ice);
    return TRUE;
  }
  return hangout_ice_add_remote_candidate (pc->ice, candidate, error);
}

gboolean
hangout_peer_connection_set_remote_description (HangoutPeerConnection *pc,
    HangoutSdpType type, const gchar *sdp, GError **error)
{
  g_autoptr (HangoutSdpDescription) desc = NULL;
  HangoutCertificate *cert;

  g_return_val_if_fail (HANGOUT_IS_PEER_CONNECTION (pc), FALSE);
  if (is_finished (pc) || pc->remote != NULL
      || (type == HANGOUT_SDP_OFFER && pc->local != NULL)
      || (type == HANGOUT_SDP_ANSWER && pc->local == NULL)) {
    g_set_error (error, HANGOUT_ERROR, HANGOUT_ERROR_INVALID_STATE,
        "a remote %s does not fit now (local description %s, remote %s, "
        "connection %s)", hangout_sdp_type_to_string (type),
        pc->local ? "set" : "not set", pc->remote ? "set" : "not set",
        is_finished (pc) ? "closed" : "open");
    return FALSE;
  }
  desc = hangout_sdp_description_parse (sdp, type, error);
  if (desc == NULL)
    return FALSE;

  if (type == HANGOUT_SDP_OFFER) {
    if (!create_ice (pc, FALSE, error))
      return FALSE;
    /* We answer "active" (the client) unless the offerer insists on it. */
    pc->dtls_client = desc->setup != HANGOUT_SDP_SETUP_ACTIVE;
  } else {
    pc->dtls_client = desc->setup == HANGOUT_SDP_SETUP_PASSIVE;
  }
  if (!hangout_ice_set_remote_credentials (pc->ice, desc->ice_ufrag,
          desc->ice_pwd, error))
    return FALSE;

  cert = hangout_certificate_get_default ();
  pc->dtls = hangout_dtls_new (pc->context, pc->dtls_client, cert,
      &dtls_callbacks, pc);
  if (!hangout_dtls_set_remote_fingerprint (pc->dtls,
          desc->fingerprint_algorithm, desc->fingerprint, error)) {
    g_clear_pointer (&pc->dtls, hangout_dtls_free);
    return FALSE;
  }
  pc->remote_max_message_size = desc->max_message_size;
  pc->remote = g_steal_pointer (&desc);
  g_object_notify_by_pspec (G_OBJECT (pc),
      properties[PROP_REMOTE_MAX_MESSAGE_SIZE]);

  /* Candidates in the SDP and those that arrived before it. */
  for (guint i = 0; i < pc->remote->candidates->len; i++) {
    g_autoptr (GError) err = NULL;

    if (!add_candidate (pc, pc->remote->candidates->pdata[i], &err))
      GST_WARNING ("remote description: %s", err->message);
  }
  for (guint i = 0; i < pc->pending_candidates->len; i++) {
    g_autoptr (GError) err = NULL;

    if (!add_candidate (pc, pc->pending_candidates->pdata[i], &err))
      GST_WARNING ("early candidate: %s", err->message);
  }
  g_ptr_array_set_size (pc->pending_candidates, 0);
  if (pc->remote->end_of_candidates || pc->pending_end_of_candidates)
    hangout_ice_remote_gathering_done (pc->ice);

  assign_stream_ids (pc);
  if (type == HANGOUT_SDP_ANSWER)
    start_connecting (pc);
  /* ICE may be up already, with the peer's ClientHello waiting. */
  enter (pc);
  start_dtls (pc);
  leave (pc);
  return TRUE;
}

gchar *
hangout_peer_connection_get_local_description (HangoutPeerConnection *pc)
{
  g_autoptr (GPtrArray) candidates = NULL;
  GPtrArray *saved;
  gchar *text;

  g_return_val_if_fail (HANGOUT_IS_PEER_CONNECTION (pc), NULL);
  if (pc->local == NULL)
    return NULL;
  candidates = hangout_ice_get_local_candidates (pc->ice);
  saved = pc->local->candidates;
  pc->local->candidates = candidates;
  pc->local->end_of_candidates = pc->local_gathering_done;
  text = hangout_sdp_description_to_string (pc->local);
  pc->local->candidates = saved;
  pc->local->end_of_candidates = FALSE;
  return text;
}

gboolean
hangout_peer_connection_add_ice_candidate (HangoutPeerConnection *pc,
    const gchar *candidate, GError **error)
{
  g_return_val_if_fail (HANGOUT_IS_PEER_CONNECTION (pc), FALSE);
  if (is_finished (pc)) {
    g_set_error (error, HANGOUT_ERROR, HANGOUT_ERROR_INVALID_STATE,
        "the peer connection is closed");
    return FALSE;
  }
  if (pc->remote == NULL) {
    /* Signalling may overtake: keep them for the remote description. */
    if (candidate == NULL || *candidate == '\0')
      pc->pending_end_of_candidates = TRUE;
    else
      g_ptr_array_add (pc->pending_candidates, g_strdup (candidate));
    return TRUE;
  }
  return add_candidate (pc, candidate, error);
}

static gboolean
copy_field (GQuark field, const GValue *value, gpointer into)
{
  gst_structure_id_set_value (into, field, value);
  return TRUE;
}

GstStructure *
hangout_peer_connection_dup_transport (HangoutPeerConnection *pc)
{
  GstStructure *info, *pair;
  g_autofree gchar *dtls = NULL;

  g_return_val_if_fail (HANGOUT_IS_PEER_CONNECTION (pc), NULL);
  if (pc->sctp_packet_size == 0 || pc->ice == NULL
      || (pair = hangout_ice_dup_selected_pair (pc->ice)) == NULL)
    return NULL;
  dtls = hangout_dtls_describe_session (pc->dtls);
  info = gst_structure_new ("hangout-transport",
      "sctp-packet-size", G_TYPE_UINT, pc->sctp_packet_size,
      "dtls", G_TYPE_STRING, dtls, NULL);
  if (pc->fec != NULL) {
    HangoutFecStats stats;

    hangout_fec_get_stats (pc->fec, &stats);
    gst_structure_set (info,
        "fec-received", G_TYPE_UINT64, stats.received,
        "fec-lost", G_TYPE_UINT64, stats.lost,
        "fec-repaired", G_TYPE_UINT64, stats.repaired,
        "fec-parity-sent", G_TYPE_UINT64, stats.parity_sent,
        "fec-group-size", G_TYPE_UINT, stats.group_size, NULL);
  }
  gst_structure_foreach (pair, copy_field, info);
  gst_structure_free (pair);
  return info;
}

gchar *
hangout_peer_connection_dup_local_fingerprint (HangoutPeerConnection *pc)
{
  g_return_val_if_fail (HANGOUT_IS_PEER_CONNECTION (pc), NULL);
  return hangout_auth_normalise_fingerprint ("sha-256",
      hangout_certificate_get_fingerprint (hangout_certificate_get_default ()));
}

gchar *
hangout_peer_connection_dup_remote_fingerprint (HangoutPeerConnection *pc)
{
  g_return_val_if_fail (HANGOUT_IS_PEER_CONNECTION (pc), NULL);
  if (!pc->dtls_verified)
    return NULL;
  return hangout_auth_normalise_fingerprint (pc->remote->fingerprint_algorithm,
      pc->remote->fingerprint);
}

HangoutPeerConnectionState
hangout_peer_connection_get_state (HangoutPeerConnection *pc)
{
  return pc->state;
}

const GError *
hangout_peer_connection_get_error (HangoutPeerConnection *pc)
{
  return pc->error;
}

void
hangout_peer_connection_set_receiving (HangoutPeerConnection *pc,
    gboolean receiving)
{
  g_return_if_fail (HANGOUT_IS_PEER_CONNECTION (pc));
  pc->paused = !receiving;
  if (pc->sctp != NULL)
    hangout_sctp_set_receiving (pc->sctp, receiving);
}

void
hangout_peer_connection_shutdown (HangoutPeerConnection *pc)
{
  g_return_if_fail (HANGOUT_IS_PEER_CONNECTION (pc));
  if (is_finished (pc) || pc->shutting_down)
    return;
  if (!pc->sctp_connected) {
    hangout_peer_connection_close (pc);
    return;
  }
  pc->shutting_down = TRUE;
  /* The SHUTDOWN handshake is read with the data, which a paused receiver
   * leaves in SCTP's buffer. */
  hangout_sctp_set_receiving (pc->sctp, TRUE);
  enter (pc);
  hangout_sctp_shutdown (pc->sctp);
  leave (pc);
}

void
hangout_peer_connection_close (HangoutPeerConnection *pc)
{
  g_return_if_fail (HANGOUT_IS_PEER_CONNECTION (pc));
  finish (pc, FALSE, g_error_new (HANGOUT_ERROR, HANGOUT_ERROR_CLOSED,
          "the connection was closed locally"));
}

HangoutPeerConnection *
hangout_peer_connection_new (GMainContext *context)
{
  return g_object_new (HANGOUT_TYPE_PEER_CONNECTION, "context", context, NULL);
}

/* ---- GObject ---- */

static void
hangout_peer_connection_set_property (GObject *object, guint prop_id,
    const GValue *value, GParamSpec *pspec)
{
  HangoutPeerConnection *pc = HANGOUT_PEER_CONNECTION (object);

  switch (prop_id) {
    case PROP_CONTEXT:
      pc->context = g_value_get_boxed (value);
      pc->context = pc->context ? g_main_context_ref (pc->context)
          : g_main_context_ref_thread_default ();
      break;
    case PROP_STUN_SERVER:
      g_free (pc->stun_server);
      pc->stun_server = g_value_dup_string (value);
      break;
    case PROP_TURN_SERVER:
      g_free (pc->turn_server);
      pc->turn_server = g_value_dup_string (value);
      break;
    case PROP_ICE_SERVERS:
      g_clear_pointer (&pc->ice_servers, g_ptr_array_unref);
      pc->ice_servers = g_value_dup_boxed (value);
      break;
    case PROP_RELAY_ONLY:
      pc->relay_only = g_value_get_boolean (value);
      break;
    case PROP_MAX_MESSAGE_SIZE:
      pc->max_message_size = g_value_get_uint64 (value);
      break;
    case PROP_CONNECT_TIMEOUT:
      pc->connect_timeout_ms = g_value_get_uint (value);
      break;
    case PROP_CONSENT_TIMEOUT:
      pc->consent_timeout_ms = g_value_get_uint (value);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
  }
}

static void
hangout_peer_connection_get_property (GObject *object, guint prop_id,
    GValue *value, GParamSpec *pspec)
{
  HangoutPeerConnection *pc = HANGOUT_PEER_CONNECTION (object);

  switch (prop_id) {
    case PROP_CONTEXT:
      g_value_set_boxed (value, pc->context);
      break;
    case PROP_STUN_SERVER:
      g_value_set_string (value, pc->stun_server);
      break;
    case PROP_TURN_SERVER:
      g_value_set_string (value, pc->turn_server);
      break;
    case PROP_ICE_SERVERS:
      g_value_set_boxed (value, pc->ice_servers);
      break;
    case PROP_RELAY_ONLY:
      g_value_set_boolean (value, pc->relay_only);
      break;
    case PROP_MAX_MESSAGE_SIZE:
      g_value_set_uint64 (value, pc->max_message_size);
      break;
    case PROP_REMOTE_MAX_MESSAGE_SIZE:
      g_value_set_uint64 (value, pc->remote_max_message_size);
      break;
    case PROP_CONNECT_TIMEOUT:
      g_value_set_uint (value, pc->connect_timeout_ms);
      break;
    case PROP_CONSENT_TIMEOUT:
      g_value_set_uint (value, pc->consent_timeout_ms);
      break;
    case PROP_STATE:
      g_value_set_enum (value, pc->state);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
  }
}

static void
hangout_peer_connection_dispose (GObject *object)
{
  HangoutPeerConnection *pc = HANGOUT_PEER_CONNECTION (object);

  pc->disposing = TRUE;
  /* Only reached outside our callbacks (they hold a reference). */
  if (!is_finished (pc))
    hangout_peer_connection_close (pc);
  hangout_clear_source (&pc->timeout);
  hangout_clear_source (&pc->gather);
  hangout_clear_timer (&pc->consent);
  free_transports (pc);
  G_OBJECT_CLASS (hangout_peer_connection_parent_class)->dispose (object);
}

static void
hangout_peer_connection_finalize (GObject *object)
{
  HangoutPeerConnection *pc = HANGOUT_PEER_CONNECTION (object);

  g_hash_table_unref (pc->channels);
  g_ptr_array_unref (pc->unassigned);
  g_ptr_array_unref (pc->pending_candidates);
  g_clear_pointer (&pc->local, hangout_sdp_description_free);
  g_clear_pointer (&pc->remote, hangout_sdp_description_free);
  g_clear_error (&pc->error);
  g_free (pc->stun_server);
  g_free (pc->turn_server);
  g_clear_pointer (&pc->ice_servers, g_ptr_array_unref);
  g_main_context_unref (pc->context);
  G_OBJECT_CLASS (hangout_peer_connection_parent_class)->finalize (object);
}

static void
hangout_peer_connection_init (HangoutPeerConnection *pc)
{
  pc->state = HANGOUT_PEER_CONNECTION_STATE_NEW;
  pc->max_message_size = HANGOUT_PEER_DEFAULT_MAX_MESSAGE_SIZE;
  pc->remote_max_message_size = HANGOUT_SDP_DEFAULT_MAX_MESSAGE_SIZE;
  pc->connect_timeout_ms = DEFAULT_CONNECT_TIMEOUT_MS;
  pc->consent_timeout_ms = DEFAULT_CONSENT_TIMEOUT_MS;
  pc->channels = g_hash_table_new_full (NULL, NULL, NULL, g_object_unref);
  pc->unassigned = g_ptr_array_new_with_free_func (g_object_unref);
  pc->pending_candidates = g_ptr_array_new_with_free_func (g_free);
}

static void
hangout_peer_connection_class_init (HangoutPeerConnectionClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  const GParamFlags rw = G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS;

  hangout_debug_init ();
  object_class->set_property = hangout_peer_connection_set_property;
  object_class->get_property = hangout_peer_connection_get_property;
  object_class->dispose = hangout_peer_connection_dispose;
  object_class->finalize = hangout_peer_connection_finalize;

  properties[PROP_CONTEXT] = g_param_spec_boxed ("context", "Context",
      "The GMainContext that runs the connection (NULL: the thread default)",
      G_TYPE_MAIN_CONTEXT, G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY
      | G_PARAM_STATIC_STRINGS);
  properties[PROP_STUN_SERVER] = g_param_spec_string ("stun-server",
      "STUN server", "STUN server as [stun:]HOST[:PORT]", NULL, rw);
  properties[PROP_TURN_SERVER] = g_param_spec_string ("turn-server",
      "TURN server", "TURN server as turn:USER:PASSWORD@HOST[:PORT]"
      "[?transport=udp|tcp] or turns:USER:PASSWORD@HOST[:PORT]", NULL, rw);
  properties[PROP_ICE_SERVERS] = g_param_spec_boxed ("ice-servers",
      "ICE servers", "More STUN and TURN servers (GPtrArray of "
      "HangoutIceServer), used for the kinds stun-server and turn-server "
      "leave unset", G_TYPE_PTR_ARRAY, rw);
  properties[PROP_RELAY_ONLY] = g_param_spec_boolean ("relay-only",
      "Relay only", "Use relayed (TURN) candidates only, like "
      "iceTransportPolicy \"relay\"", FALSE, rw);
  properties[PROP_MAX_MESSAGE_SIZE] = g_param_spec_uint64 ("max-message-size",
      "Max message size", "Largest message we accept (a=max-message-size)",
      1024, G_MAXINT32, HANGOUT_PEER_DEFAULT_MAX_MESSAGE_SIZE, rw);
  properties[PROP_REMOTE_MAX_MESSAGE_SIZE] = g_param_spec_uint64
      ("remote-max-message-size", "Remote max message size",
      "Largest message the peer accepts; 0 means no limit", 0, G_MAXUINT64,
      HANGOUT_SDP_DEFAULT_MAX_MESSAGE_SIZE,
      G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
  properties[PROP_CONNECT_TIMEOUT] = g_param_spec_uint ("connect-timeout",
      "Connect timeout", "Milliseconds from offer/answer to a connection "
      "before it fails; 0 waits forever", 0, G_MAXUINT,
      DEFAULT_CONNECT_TIMEOUT_MS, rw);
  properties[PROP_CONSENT_TIMEOUT] = g_param_spec_uint ("consent-timeout",
      "Consent timeout", "Milliseconds without a DTLS record from the peer "
      "after which the connection fails (RFC 7675 consent freshness); set "
      "before the remote description; 0 never fails", 0, G_MAXUINT,
      DEFAULT_CONSENT_TIMEOUT_MS, rw);
  properties[PROP_STATE] = g_param_spec_enum ("state", "State",
      "new, connecting, connected, closed or failed",
      HANGOUT_TYPE_PEER_CONNECTION_STATE, HANGOUT_PEER_CONNECTION_STATE_NEW,
      G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);

  signals[SIGNAL_ICE_CANDIDATE] = g_signal_new ("ice-candidate",
      G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
      G_TYPE_NONE, 1, G_TYPE_STRING);
  signals[SIGNAL_STATE_CHANGED] = g_signal_new ("state-changed",
      G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
      G_TYPE_NONE, 1, HANGOUT_TYPE_PEER_CONNECTION_STATE);
  signals[SIGNAL_DATA_CHANNEL] = g_signal_new ("data-channel",
      G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
      G_TYPE_NONE, 1, HANGOUT_TYPE_DATA_CHANNEL);
}
