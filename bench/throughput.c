/* gst-hangout — loopback throughput benchmark.
 *
 * One data channel, --size MiB sent as --message-size binary messages under
 * buffered-amount flow control (send while the channel's buffered amount is
 * below --window, then wait for the buffered-amount-low signal, threshold
 * window / 2), sender and receiver in separate processes. It runs
 * libhangout ↔ libhangout and, as the reference, webrtcbin ↔ webrtcbin the
 * same way, and prints MB/s (10^6 B/s), CPU seconds and peak RSS of each
 * process, and the ratio of the two.
 *
 * Process layout: the binary re-executes itself twice (sender, receiver).
 * The parent only relays signalling lines between the children's stdout and
 * stdin and collects their reports, so each child's getrusage() covers one
 * peer and nothing else. Candidates are trickled over the same pipes.
 *
 * Line protocol (child → parent; lines starting with '@' are reports, the
 * rest are relayed verbatim to the other child):
 *   sdp offer|answer <g_strescape'd SDP>     cand <candidate>     cand-end
 *   @start <monotonic µs>        sender: the channel is open, first send
 *   @sent <bytes> <sha256|->     sender: everything was handed to the stack
 *   @done <monotonic µs> <bytes> <sha256|->   receiver: last byte arrived
 *   @stats <cpu s> <max rss KiB> @error <text>
 * parent → child: the relayed lines, and "finish" once the receiver is done.
 *
 * Timing: from the sender's first send to the receiver's last byte, both
 * read on CLOCK_MONOTONIC (g_get_monotonic_time), which is shared by all
 * processes of the machine.
 *
 * Packet size: on a loopback pair libhangout sends SCTP packets as large as
 * a DTLS record (~16 KiB); webrtcbin always sends ~1.2 KB ones. Run under
 * bench/netns-veth.sh with --ice-address=198.18.0.1 (ninja target
 * bench-throughput-veth) to compare both at Internet packet sizes.
 *
 * Integrity: every message carries its sequence number in its first 8 bytes
 * and a slice of a fixed pseudo-random pattern after it; the receiver checks
 * order, length and content with memcmp (cheap next to the transport). With
 * --sha256 both sides also hash the stream and the parent compares.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later */

#include <gio/gio.h>
#include <gio/gunixinputstream.h>
#include <gst/gst.h>
#include <gst/sdp/sdp.h>
#include <gst/webrtc/webrtc.h>
#include <hangout/peer.h>
#include "stats.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

GST_DEBUG_CATEGORY_STATIC (bench_debug);
#define GST_CAT_DEFAULT bench_debug

#define SEQ_LEN 8
/* Pattern slices start at seq % PATTERN_SHIFTS, so consecutive messages
 * differ beyond their header too (a duplicated or stale buffer shows). */
#define PATTERN_SHIFTS 251

typedef enum {
  STACK_HANGOUT,
  STACK_WEBRTCBIN,
} Stack;

static const gchar *const stack_names[] = { "hangout", "webrtcbin" };

typedef struct {
  guint64 size;                 /* bytes to transfer */
  gsize message_size;
  guint64 window;
  guint timeout_s;              /* per run, from spawn to the last byte */
  gboolean sha256;
  const gchar *ice_address;     /* the one address webrtcbin's agent uses */
} Config;

/* ------------------------------------------------------------------------ */
/* Messages                                                                 */

static guint8 *pattern;

static void
pattern_init (gsize message_size)
{
  GRand *rand = g_rand_new_with_seed (0x6e61676e);
  gsize len = message_size + PATTERN_SHIFTS;

  pattern = g_malloc (len);
  for (gsize i = 0; i < len; i++)
    pattern[i] = g_rand_int (rand) & 0xff;
  g_rand_free (rand);
}

static GBytes *
message_new (guint64 seq, gsize len)
{
  guint8 *data = g_malloc (len);
  guint64 be = GUINT64_TO_BE (seq);

  /* len >= SEQ_LEN is enforced on the command line. */
  memcpy (data, &be, SEQ_LEN);
  memcpy (data + SEQ_LEN, pattern + seq % PATTERN_SHIFTS, len - SEQ_LEN);
  return g_bytes_new_take (data, len);
}

/* ------------------------------------------------------------------------ */
/* Child process: one peer                                                  */

typedef struct {
  Config cfg;
  Stack stack;
  gboolean sender;
  GMainContext *ctx;
  GMainLoop *loop;
  GDataInputStream *in;
  gboolean failed;
  gboolean finished;

  /* Local candidates wait until our description went out, so the peer never
   * gets a candidate before the description it belongs to. */
  GMutex signal_lock;
  gboolean description_sent;
  GPtrArray *pending_candidates;        /* NULL entry: end of candidates */

  /* Sender; touched on ctx's thread only. */
  gboolean started;
  gboolean all_sent;
  guint64 sent;
  guint64 seq;
  GChecksum *tx_sum;

  /* Receiver; touched only by the thread that delivers messages (the stack
   * delivers one channel's messages on one thread) until done is set. */
  guint64 received;
  guint64 rx_seq;
  GChecksum *rx_sum;
  gboolean rx_done;

  /* libhangout */
  HangoutPeerConnection *pc;
  HangoutDataChannel *hch;

  /* webrtcbin */
  GstElement *pipeline;
  GstElement *webrtc;
  GstWebRTCDataChannel *wch;
} Child;

/* The protocol goes to the parent through what was our stdout; fd 1 itself
 * is pointed at stderr so that nothing else (GLib's default log writer puts
 * debug messages on stdout) can corrupt it. */
static FILE *protocol_out;
static GMutex protocol_lock;

static void child_write_line (const gchar * format, ...) G_GNUC_PRINTF (1, 2);

/* Called from any thread: the stacks signal from their own threads. */
static void
child_write_line (const gchar * format, ...)
{
  va_list args;
  gchar *line;

  va_start (args, format);
  line = g_strdup_vprintf (format, args);
  va_end (args);

  g_mutex_lock (&protocol_lock);
  fputs (line, protocol_out);
  fputc ('\n', protocol_out);
  fflush (protocol_out);
  g_mutex_unlock (&protocol_lock);
  g_free (line);
}

static void child_fail (Child * c, const gchar * format, ...) G_GNUC_PRINTF (2,
    3);

/* Thread-safe: g_main_loop_quit may be called from any thread. */
static void
child_fail (Child * c, const gchar * format, ...)
{
  va_list args;
  gchar *msg;

  va_start (args, format);
  msg = g_strdup_vprintf (format, args);
  va_end (args);

  GST_ERROR ("%s %s: %s", stack_names[c->stack],
      c->sender ? "sender" : "receiver", msg);
  child_write_line ("@error %s %s: %s", stack_names[c->stack],
      c->sender ? "sender" : "receiver", msg);
  g_free (msg);
  c->failed = TRUE;
  g_main_loop_quit (c->loop);
}

static void
child_send_description (Child * c, const gchar * type, const gchar * sdp)
{
  gchar *escaped = g_strescape (sdp, NULL);

  g_mutex_lock (&c->signal_lock);
  child_write_line ("sdp %s %s", type, escaped);
  c->description_sent = TRUE;
  for (guint i = 0; i < c->pending_candidates->len; i++) {
    const gchar *cand = g_ptr_array_index (c->pending_candidates, i);
    if (cand)
      child_write_line ("cand %s", cand);
    else
      child_write_line ("cand-end");
  }
  g_ptr_array_set_size (c->pending_candidates, 0);
  g_mutex_unlock (&c->signal_lock);
  g_free (escaped);
}

/* @candidate NULL: end of candidates. Any thread. */
static void
child_send_candidate (Child * c, const gchar * candidate)
{
  g_mutex_lock (&c->signal_lock);
  if (!c->description_sent)
    g_ptr_array_add (c->pending_candidates, g_strdup (candidate));
  else if (candidate)
    child_write_line ("cand %s", candidate);
  else
    child_write_line ("cand-end");
  g_mutex_unlock (&c->signal_lock);
}

static void
child_report_done (Child * c)
{
  gint64 now = g_get_monotonic_time ();

  child_write_line ("@done %" G_GINT64_FORMAT " %" G_GUINT64_FORMAT " %s",
      now, c->received, c->rx_sum ? g_checksum_get_string (c->rx_sum) : "-");
}

/* Receiver: one message arrived. Called on the stack's delivery thread. */
static void
child_on_payload (Child * c, const guint8 * data, gsize len)
{
  gsize expected_len;
  guint64 be;

  if (c->rx_done) {
    child_fail (c, "%" G_GSIZE_FORMAT " bytes after the end", len);
    return;
  }
  expected_len = MIN (c->cfg.message_size, c->cfg.size - c->received);
  if (len != expected_len) {
    child_fail (c, "message %" G_GUINT64_FORMAT " has %" G_GSIZE_FORMAT
        " bytes, expected %" G_GSIZE_FORMAT, c->rx_seq, len, expected_len);
    return;
  }
  memcpy (&be, data, SEQ_LEN);
  if (GUINT64_FROM_BE (be) != c->rx_seq) {
    child_fail (c, "message %" G_GUINT64_FORMAT " arrived as number %"
        G_GUINT64_FORMAT, c->rx_seq, GUINT64_FROM_BE (be));
    return;
  }
  if (memcmp (data + SEQ_LEN, pattern + c->rx_seq % PATTERN_SHIFTS,
          len - SEQ_LEN) != 0) {
    child_fail (c, "message %" G_GUINT64_FORMAT " is corrupt", c->rx_seq);
    return;
  }
  if (c->rx_sum)
    g_checksum_update (c->rx_sum, data, len);
  c->received += len;
  c->rx_seq++;
  if (c->received == c->cfg.size) {
    c->rx_done = TRUE;
    /* The timestamp is taken here, on the delivery thread, not after a
     * hop to the main context. */
    child_report_done (c);
  }
}

/* ---- the sender's pump, shared by both stacks (ctx's thread) ---- */

static guint64
child_buffered_amount (Child * c)
{
  guint64 amount = 0;

  if (c->stack == STACK_HANGOUT)
    return hangout_data_channel_get_buffered_amount (c->hch);
  g_object_get (c->wch, "buffered-amount", &amount, NULL);
  return amount;
}

static gboolean
child_send_message (Child * c, GBytes * msg, GError ** error)
{
  if (c->stack == STACK_HANGOUT)
    return hangout_data_channel_send_bytes (c->hch, msg, error);
  return gst_webrtc_data_channel_send_data_full (c->wch, msg, error);
}

/* Sends while the buffered amount is below the window. When it stops early,
 * the amount is at or above the window, hence above the low threshold
 * (window / 2), so a later fall to the threshold is guaranteed to signal
 * and call us again: no wake-up can be lost. */
static void
child_pump (Child * c)
{
  if (c->failed || !c->started)
    return;

  while (c->sent < c->cfg.size && child_buffered_amount (c) < c->cfg.window) {
    gsize len = MIN (c->cfg.message_size, c->cfg.size - c->sent);
    GBytes *msg = message_new (c->seq, len);
    GError *error = NULL;

    if (c->tx_sum)
      g_checksum_update (c->tx_sum, g_bytes_get_data (msg, NULL), len);
    if (!child_send_message (c, msg, &error)) {
      child_fail (c, "send failed after %" G_GUINT64_FORMAT " bytes: %s",
          c->sent, error ? error->message : "(no error)");
      g_clear_error (&error);
      g_bytes_unref (msg);
      return;
    }
    g_bytes_unref (msg);
    c->sent += len;
    c->seq++;
  }
  if (c->sent == c->cfg.size && !c->all_sent) {
    c->all_sent = TRUE;
    child_write_line ("@sent %" G_GUINT64_FORMAT " %s", c->sent,
        c->tx_sum ? g_checksum_get_string (c->tx_sum) : "-");
  }
}

static gboolean
child_pump_cb (gpointer user_data)
{
  child_pump (user_data);
  return G_SOURCE_REMOVE;
}

static gboolean
child_start_cb (gpointer user_data)
{
  Child *c = user_data;

  if (c->started)
    return G_SOURCE_REMOVE;
  c->started = TRUE;
  child_write_line ("@start %" G_GINT64_FORMAT, g_get_monotonic_time ());
  child_pump (c);
  return G_SOURCE_REMOVE;
}

/* ------------------------------------------------------------------------ */
/* libhangout peer                                                          */

static void
ho_on_ice_candidate (HangoutPeerConnection * pc, const gchar * candidate,
    gpointer user_data)
{
  child_send_candidate (user_data, candidate);
}

static void
ho_on_state_changed (HangoutPeerConnection * pc,
    HangoutPeerConnectionState state, gpointer user_data)
{
  Child *c = user_data;

  GST_INFO ("peer connection state %d", state);
  /* The sender is told to finish first and closes, so the receiver may see
   * the close before its own "finish": fine once everything arrived. */
  if (state == HANGOUT_PEER_CONNECTION_STATE_FAILED
      || (state == HANGOUT_PEER_CONNECTION_STATE_CLOSED && !c->finished
          && !c->rx_done)) {
    const GError *error = hangout_peer_connection_get_error (pc);
    child_fail (c, "peer connection %s: %s",
        state == HANGOUT_PEER_CONNECTION_STATE_FAILED ? "failed" : "closed",
        error ? error->message : "(no error)");
  }
}

static void
ho_on_channel_error (HangoutDataChannel * ch, GError * error,
    gpointer user_data)
{
  Child *c = user_data;

  /* Our own close at the end makes the channel report "closed locally";
   * the receiver may also see the sender's close before its "finish". */
  if (c->finished || c->rx_done)
    return;
  child_fail (c, "channel error: %s", error ? error->message : "(none)");
}

static void
ho_on_message_data (HangoutDataChannel * ch, GBytes * data,
    gpointer user_data)
{
  gsize len;
  const guint8 *bytes = g_bytes_get_data (data, &len);

  child_on_payload (user_data, bytes, len);
}

static void
ho_on_message_string (HangoutDataChannel * ch, const gchar * text,
    gpointer user_data)
{
  child_fail (user_data, "unexpected text message");
}

static void
ho_on_open (HangoutDataChannel * ch, gpointer user_data)
{
  child_start_cb (user_data);
}

static void
ho_on_buffered_amount_low (HangoutDataChannel * ch, gpointer user_data)
{
  child_pump (user_data);
}

static void
ho_on_data_channel (HangoutPeerConnection * pc, HangoutDataChannel * ch,
    gpointer user_data)
{
  Child *c = user_data;

  if (c->hch) {
    child_fail (c, "a second data channel");
    return;
  }
  c->hch = g_object_ref (ch);
  g_signal_connect (ch, "message-data", G_CALLBACK (ho_on_message_data), c);
  g_signal_connect (ch, "message-string", G_CALLBACK (ho_on_message_string),
      c);
  g_signal_connect (ch, "error", G_CALLBACK (ho_on_channel_error), c);
}

static gboolean
ho_setup (Child * c)
{
  GError *error = NULL;

  c->pc = hangout_peer_connection_new (c->ctx);
  g_signal_connect (c->pc, "ice-candidate", G_CALLBACK (ho_on_ice_candidate),
      c);
  g_signal_connect (c->pc, "state-changed", G_CALLBACK (ho_on_state_changed),
      c);

  if (!c->sender) {
    g_signal_connect (c->pc, "data-channel", G_CALLBACK (ho_on_data_channel),
        c);
    return TRUE;
  }

  c->hch = hangout_peer_connection_create_data_channel (c->pc, "bench", NULL,
      &error);
  if (!c->hch) {
    child_fail (c, "create_data_channel: %s", error->message);
    g_error_free (error);
    return FALSE;
  }
  hangout_data_channel_set_buffered_amount_low_threshold (c->hch,
      c->cfg.window / 2);
  g_signal_connect (c->hch, "open", G_CALLBACK (ho_on_open), c);
  g_signal_connect (c->hch, "buffered-amount-low",
      G_CALLBACK (ho_on_buffered_amount_low), c);
  g_signal_connect (c->hch, "error", G_CALLBACK (ho_on_channel_error), c);

  {
    gchar *offer = hangout_peer_connection_create_offer (c->pc, &error);
    if (!offer) {
      child_fail (c, "create_offer: %s", error->message);
      g_error_free (error);
      return FALSE;
    }
    child_send_description (c, "offer", offer);
    g_free (offer);
  }
  return TRUE;
}

static void
ho_set_remote (Child * c, HangoutSdpType type, const gchar * sdp)
{
  GError *error = NULL;
  gchar *answer;

  if (!hangout_peer_connection_set_remote_description (c->pc, type, sdp,
          &error)) {
    child_fail (c, "set_remote_description: %s", error->message);
    g_error_free (error);
    return;
  }
  if (type == HANGOUT_SDP_ANSWER)
    return;

  answer = hangout_peer_connection_create_answer (c->pc, &error);
  if (!answer) {
    child_fail (c, "create_answer: %s", error->message);
    g_error_free (error);
    return;
  }
  child_send_description (c, "answer", answer);
  g_free (answer);
}

static void
ho_add_candidate (Child * c, const gchar * candidate)
{
  GError *error = NULL;

  if (!hangout_peer_connection_add_ice_candidate (c->pc, candidate, &error)) {
    child_fail (c, "add_ice_candidate (%s): %s", candidate ? candidate : "end",
        error->message);
    g_error_free (error);
  }
}

static void
ho_teardown (Child * c)
{
  if (c->pc)
    hangout_peer_connection_close (c->pc);
  g_clear_object (&c->hch);
  g_clear_object (&c->pc);
}

/* ------------------------------------------------------------------------ */
/* webrtcbin peer                                                           */

static void
wb_on_ice_candidate (GstElement * webrtc, guint mline, const gchar * candidate,
    gpointer user_data)
{
  /* max-bundle: everything is on m-line 0, which is also all we relay. */
  child_send_candidate (user_data, candidate);
}

static void
wb_on_gathering_state (GObject * webrtc, GParamSpec * pspec,
    gpointer user_data)
{
  GstWebRTCICEGatheringState state;

  g_object_get (webrtc, "ice-gathering-state", &state, NULL);
  if (state == GST_WEBRTC_ICE_GATHERING_STATE_COMPLETE)
    child_send_candidate (user_data, NULL);
}

static void
wb_on_connection_state (GObject * webrtc, GParamSpec * pspec,
    gpointer user_data)
{
  GstWebRTCPeerConnectionState state;

  g_object_get (webrtc, "connection-state", &state, NULL);
  GST_INFO ("webrtcbin connection state %d", state);
  if (state == GST_WEBRTC_PEER_CONNECTION_STATE_FAILED)
    child_fail (user_data, "webrtcbin connection failed");
}

static void
wb_on_channel_state (GObject * channel, GParamSpec * pspec,
    gpointer user_data)
{
  Child *c = user_data;
  GstWebRTCDataChannelState state;

  g_object_get (channel, "ready-state", &state, NULL);
  GST_INFO ("data channel state %d", state);
  if (state == GST_WEBRTC_DATA_CHANNEL_STATE_OPEN && c->sender)
    g_main_context_invoke (c->ctx, child_start_cb, c);
  else if (state == GST_WEBRTC_DATA_CHANNEL_STATE_CLOSED && !c->finished)
    child_fail (c, "data channel closed");
}

static void
wb_on_buffered_amount_low (GstWebRTCDataChannel * channel, gpointer user_data)
{
  Child *c = user_data;

  /* webrtcbin's thread: the pump runs on ours. */
  g_main_context_invoke (c->ctx, child_pump_cb, c);
}

static void
wb_on_message_data (GstWebRTCDataChannel * channel, GBytes * data,
    gpointer user_data)
{
  gsize len = 0;
  const guint8 *bytes = data ? g_bytes_get_data (data, &len) : NULL;

  child_on_payload (user_data, bytes, len);
}

static void
wb_on_message_string (GstWebRTCDataChannel * channel, const gchar * text,
    gpointer user_data)
{
  child_fail (user_data, "unexpected text message");
}

static void
wb_on_data_channel (GstElement * webrtc, GstWebRTCDataChannel * channel,
    gpointer user_data)
{
  Child *c = user_data;

  if (c->wch) {
    child_fail (c, "a second data channel");
    return;
  }
  c->wch = g_object_ref (channel);
  g_signal_connect (channel, "on-message-data",
      G_CALLBACK (wb_on_message_data), c);
  g_signal_connect (channel, "on-message-string",
      G_CALLBACK (wb_on_message_string), c);
}

static void
wb_on_description_created (GstPromise * promise, gpointer user_data)
{
  Child *c = user_data;
  const gchar *type = c->sender ? "offer" : "answer";
  const GstStructure *reply;
  GstWebRTCSessionDescription *desc = NULL;
  gchar *text;

  if (gst_promise_wait (promise) == GST_PROMISE_RESULT_REPLIED
      && (reply = gst_promise_get_reply (promise)))
    gst_structure_get (reply, type, GST_TYPE_WEBRTC_SESSION_DESCRIPTION,
        &desc, NULL);
  gst_promise_unref (promise);
  if (!desc) {
    child_fail (c, "webrtcbin could not create an %s", type);
    return;
  }

  /* Out before set-local-description starts gathering, so no candidate can
   * overtake it. */
  text = gst_sdp_message_as_text (desc->sdp);
  child_send_description (c, type, text);
  g_free (text);
  g_signal_emit_by_name (c->webrtc, "set-local-description", desc, NULL);
  gst_webrtc_session_description_free (desc);
}

static gboolean
wb_on_bus_message (GstBus * bus, GstMessage * msg, gpointer user_data)
{
  if (GST_MESSAGE_TYPE (msg) == GST_MESSAGE_ERROR) {
    GError *error = NULL;
    gchar *debug = NULL;

    gst_message_parse_error (msg, &error, &debug);
    child_fail (user_data, "pipeline error: %s (%s)", error->message,
        debug ? debug : "");
    g_clear_error (&error);
    g_free (debug);
  }
  return G_SOURCE_CONTINUE;
}

/* webrtcbin's agent skips loopback unless told about it, and loopback is
 * all a private network namespace has. Naming an address also stops its
 * own discovery, so it uses exactly this one. */
static gboolean
wb_set_address (GstElement * webrtc, const gchar * address)
{
  GObject *ice = NULL;
  gboolean added = FALSE;

  g_object_get (webrtc, "ice-agent", &ice, NULL);
  if (!ice)
    return FALSE;
  g_signal_emit_by_name (ice, "add-local-ip-address", address, &added);
  g_object_unref (ice);
  return added;
}

static gboolean
wb_setup (Child * c)
{
  GstBus *bus;

  c->pipeline = gst_pipeline_new (NULL);
  c->webrtc = gst_element_factory_make ("webrtcbin", NULL);
  if (!c->webrtc) {
    child_fail (c, "no webrtcbin element (gst-plugins-bad)");
    return FALSE;
  }
  g_object_set (c->webrtc, "bundle-policy",
      GST_WEBRTC_BUNDLE_POLICY_MAX_BUNDLE, NULL);
  gst_bin_add (GST_BIN (c->pipeline), c->webrtc);
  if (!wb_set_address (c->webrtc, c->cfg.ice_address)) {
    child_fail (c, "cannot add %s to webrtcbin's ICE agent",
        c->cfg.ice_address);
    return FALSE;
  }
  g_signal_connect (c->webrtc, "on-ice-candidate",
      G_CALLBACK (wb_on_ice_candidate), c);
  g_signal_connect (c->webrtc, "notify::ice-gathering-state",
      G_CALLBACK (wb_on_gathering_state), c);
  g_signal_connect (c->webrtc, "notify::connection-state",
      G_CALLBACK (wb_on_connection_state), c);
  g_signal_connect (c->webrtc, "on-data-channel",
      G_CALLBACK (wb_on_data_channel), c);

  /* The bus watch goes to the thread-default context, ours. */
  bus = gst_pipeline_get_bus (GST_PIPELINE (c->pipeline));
  gst_bus_add_watch (bus, wb_on_bus_message, c);
  gst_object_unref (bus);

  if (gst_element_set_state (c->pipeline,
          GST_STATE_PLAYING) == GST_STATE_CHANGE_FAILURE) {
    child_fail (c, "webrtcbin does not start");
    return FALSE;
  }
  if (!c->sender)
    return TRUE;

  g_signal_emit_by_name (c->webrtc, "create-data-channel", "bench", NULL,
      &c->wch);
  if (!c->wch) {
    child_fail (c, "create-data-channel failed");
    return FALSE;
  }
  g_object_set (c->wch, "buffered-amount-low-threshold", c->cfg.window / 2,
      NULL);
  g_signal_connect (c->wch, "notify::ready-state",
      G_CALLBACK (wb_on_channel_state), c);
  g_signal_connect (c->wch, "on-buffered-amount-low",
      G_CALLBACK (wb_on_buffered_amount_low), c);

  /* After create-data-channel, so the offer has its m=application section;
   * on-negotiation-needed is not used (webrtcbin fires it early). */
  g_signal_emit_by_name (c->webrtc, "create-offer", NULL,
      gst_promise_new_with_change_func (wb_on_description_created, c, NULL));
  return TRUE;
}

static void
wb_set_remote (Child * c, GstWebRTCSDPType type, const gchar * text)
{
  GstSDPMessage *sdp = NULL;
  GstWebRTCSessionDescription *desc;

  if (gst_sdp_message_new_from_text (text, &sdp) != GST_SDP_OK) {
    child_fail (c, "unparsable remote SDP");
    return;
  }
  desc = gst_webrtc_session_description_new (type, sdp);
  g_signal_emit_by_name (c->webrtc, "set-remote-description", desc, NULL);
  gst_webrtc_session_description_free (desc);

  /* webrtcbin runs its operations in order on its own thread, so the answer
   * is created after the offer was applied. */
  if (type == GST_WEBRTC_SDP_TYPE_OFFER)
    g_signal_emit_by_name (c->webrtc, "create-answer", NULL,
        gst_promise_new_with_change_func (wb_on_description_created, c, NULL));
}

static void
wb_teardown (Child * c)
{
  if (c->pipeline)
    gst_element_set_state (c->pipeline, GST_STATE_NULL);
  g_clear_object (&c->wch);
  g_clear_object (&c->pipeline);
}

/* ------------------------------------------------------------------------ */
/* Child main loop                                                          */

static void
child_report_stats (void)
{
  struct rusage ru;
  gdouble cpu;

  getrusage (RUSAGE_SELF, &ru);
  cpu = ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6
      + ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
  child_write_line ("@stats %.3f %ld", cpu, ru.ru_maxrss);
}

static void
child_handle_line (Child * c, const gchar * line)
{
  GST_DEBUG ("from the parent: %.60s", line);
  if (g_str_has_prefix (line, "sdp ")) {
    const gchar *rest = line + 4;
    gboolean offer = g_str_has_prefix (rest, "offer ");
    gchar *sdp;

    if (!offer && !g_str_has_prefix (rest, "answer ")) {
      child_fail (c, "bad line: %s", line);
      return;
    }
    sdp = g_strcompress (strchr (rest, ' ') + 1);
    if (c->stack == STACK_HANGOUT)
      ho_set_remote (c, offer ? HANGOUT_SDP_OFFER : HANGOUT_SDP_ANSWER, sdp);
    else
      wb_set_remote (c, offer ? GST_WEBRTC_SDP_TYPE_OFFER :
          GST_WEBRTC_SDP_TYPE_ANSWER, sdp);
    g_free (sdp);
  } else if (g_str_has_prefix (line, "cand ")) {
    if (c->stack == STACK_HANGOUT)
      ho_add_candidate (c, line + 5);
    else
      g_signal_emit_by_name (c->webrtc, "add-ice-candidate", 0, line + 5);
  } else if (g_str_equal (line, "cand-end")) {
    /* webrtcbin 1.22 has no way to be told; it does not need it. */
    if (c->stack == STACK_HANGOUT)
      ho_add_candidate (c, NULL);
  } else if (g_str_equal (line, "finish")) {
    c->finished = TRUE;
    child_report_stats ();
    g_main_loop_quit (c->loop);
  } else {
    child_fail (c, "bad line: %s", line);
  }
}

static void child_read_next (Child * c);

static void
child_on_line (GObject * source, GAsyncResult * res, gpointer user_data)
{
  Child *c = user_data;
  GError *error = NULL;
  gchar *line;

  line = g_data_input_stream_read_line_finish (G_DATA_INPUT_STREAM (source),
      res, NULL, &error);
  if (!line) {
    /* The parent went away: nobody is left to report to. */
    child_fail (c, "stdin closed%s%s", error ? ": " : "",
        error ? error->message : "");
    g_clear_error (&error);
    return;
  }
  child_handle_line (c, line);
  g_free (line);
  if (!c->finished && !c->failed)
    child_read_next (c);
}

static void
child_read_next (Child * c)
{
  g_data_input_stream_read_line_async (c->in, G_PRIORITY_DEFAULT, NULL,
      child_on_line, c);
}

static gboolean
child_timeout_cb (gpointer user_data)
{
  child_fail (user_data, "timed out");
  return G_SOURCE_REMOVE;
}

static int
child_main (const Config * cfg, Stack stack, gboolean sender)
{
  Child c = { 0 };
  GInputStream *stdin_stream;
  GSource *timeout;
  gboolean ok;

  GST_DEBUG_CATEGORY_INIT (bench_debug, "hangout-bench", 0,
      "hangout throughput benchmark");

  fflush (stdout);
  protocol_out = fdopen (dup (STDOUT_FILENO), "w");
  if (!protocol_out || dup2 (STDERR_FILENO, STDOUT_FILENO) < 0) {
    g_printerr ("cannot set up the protocol channel: %s\n",
        g_strerror (errno));
    return 1;
  }

  c.cfg = *cfg;
  c.stack = stack;
  c.sender = sender;
  c.ctx = g_main_context_new ();
  g_main_context_push_thread_default (c.ctx);
  c.loop = g_main_loop_new (c.ctx, FALSE);
  g_mutex_init (&c.signal_lock);
  c.pending_candidates = g_ptr_array_new_with_free_func (g_free);
  if (cfg->sha256) {
    c.tx_sum = g_checksum_new (G_CHECKSUM_SHA256);
    c.rx_sum = g_checksum_new (G_CHECKSUM_SHA256);
  }

  stdin_stream = g_unix_input_stream_new (0, FALSE);
  c.in = g_data_input_stream_new (stdin_stream);
  g_object_unref (stdin_stream);

  /* The parent kills us too, but a child must end by itself as well. */
  timeout = g_timeout_source_new_seconds (cfg->timeout_s);
  g_source_set_callback (timeout, child_timeout_cb, &c, NULL);
  g_source_attach (timeout, c.ctx);

  ok = stack == STACK_HANGOUT ? ho_setup (&c) : wb_setup (&c);
  if (ok) {
    child_read_next (&c);
    g_main_loop_run (c.loop);
  }

  g_source_destroy (timeout);
  g_source_unref (timeout);
  if (stack == STACK_HANGOUT)
    ho_teardown (&c);
  else
    wb_teardown (&c);

  /* Let pending callbacks (the stdin read, idle invocations) run out before
   * the context goes; they hold pointers into c. */
  g_object_unref (c.in);
  while (g_main_context_iteration (c.ctx, FALSE));

  g_main_loop_unref (c.loop);
  g_main_context_pop_thread_default (c.ctx);
  g_main_context_unref (c.ctx);
  g_ptr_array_unref (c.pending_candidates);
  g_mutex_clear (&c.signal_lock);
  if (c.tx_sum)
    g_checksum_free (c.tx_sum);
  if (c.rx_sum)
    g_checksum_free (c.rx_sum);
  fclose (protocol_out);
  return c.failed ? 1 : 0;
}

/* ------------------------------------------------------------------------ */
/* Parent: spawn, relay, collect                                            */

enum { SENDER, RECEIVER };
static const gchar *const role_names[] = { "send", "recv" };

typedef struct {
  Stack stack;
  const Config *cfg;
  GMainLoop *loop;
  GSubprocess *proc[2];
  GDataInputStream *out[2];
  GOutputStream *in[2];
  gboolean exited[2];
  gboolean done;
  gchar *error;

  gint64 t_start;
  gint64 t_done;
  guint64 rx_bytes;
  gchar *rx_sha;
  gchar *tx_sha;
  gdouble cpu[2];
  glong rss_kib[2];
  gboolean have_stats[2];
} Run;

typedef struct {
  Run *run;
  gint who;
} RunStream;

static void run_fail (Run * run, const gchar * format, ...) G_GNUC_PRINTF (2,
    3);

static void
run_fail (Run * run, const gchar * format, ...)
{
  va_list args;

  if (!run->error) {
    va_start (args, format);
    run->error = g_strdup_vprintf (format, args);
    va_end (args);
  }
  for (gint i = 0; i < 2; i++)
    if (run->proc[i] && !run->exited[i])
      g_subprocess_force_exit (run->proc[i]);
}

static void
run_write (Run * run, gint who, const gchar * line)
{
  GError *error = NULL;

  if (run->exited[who])
    return;
  if (!g_output_stream_write_all (run->in[who], line, strlen (line), NULL,
          NULL, &error)
      || !g_output_stream_write_all (run->in[who], "\n", 1, NULL, NULL,
          &error)) {
    run_fail (run, "writing to the %s child: %s", role_names[who],
        error->message);
    g_error_free (error);
  }
}

static void
run_handle_report (Run * run, gint who, const gchar * line)
{
  gchar **f = g_strsplit (line, " ", 4);
  guint n = g_strv_length (f);

  if (g_str_equal (f[0], "@start") && n == 2) {
    run->t_start = g_ascii_strtoll (f[1], NULL, 10);
  } else if (g_str_equal (f[0], "@sent") && n == 3) {
    g_free (run->tx_sha);
    run->tx_sha = g_strdup (f[2]);
  } else if (g_str_equal (f[0], "@done") && n == 4) {
    run->t_done = g_ascii_strtoll (f[1], NULL, 10);
    run->rx_bytes = g_ascii_strtoull (f[2], NULL, 10);
    g_free (run->rx_sha);
    run->rx_sha = g_strdup (f[3]);
    run->done = TRUE;
    /* The receiver is told once the sender is gone (run_on_exit): it must
     * not mistake the sender's close for a failure, and it is idle anyway. */
    run_write (run, SENDER, "finish");
  } else if (g_str_equal (f[0], "@stats") && n == 3) {
    run->cpu[who] = g_ascii_strtod (f[1], NULL);
    run->rss_kib[who] = g_ascii_strtoll (f[2], NULL, 10);
    run->have_stats[who] = TRUE;
  } else if (g_str_equal (f[0], "@error")) {
    run_fail (run, "%s", line + strlen ("@error "));
  } else {
    run_fail (run, "bad report from the %s child: %s", role_names[who], line);
  }
  g_strfreev (f);
}

static void run_read_next (RunStream * rs);

static void
run_on_line (GObject * source, GAsyncResult * res, gpointer user_data)
{
  RunStream *rs = user_data;
  gchar *line;

  line = g_data_input_stream_read_line_finish (G_DATA_INPUT_STREAM (source),
      res, NULL, NULL);
  if (!line) {
    g_free (rs);
    return;                     /* EOF: the exit is handled by the wait */
  }
  if (line[0] == '@')
    run_handle_report (rs->run, rs->who, line);
  else
    run_write (rs->run, 1 - rs->who, line);
  g_free (line);
  run_read_next (rs);
}

static void
run_read_next (RunStream * rs)
{
  g_data_input_stream_read_line_async (rs->run->out[rs->who],
      G_PRIORITY_DEFAULT, NULL, run_on_line, rs);
}

static void
run_on_exit (GObject * source, GAsyncResult * res, gpointer user_data)
{
  RunStream *rs = user_data;
  Run *run = rs->run;
  GSubprocess *proc = G_SUBPROCESS (source);

  g_subprocess_wait_finish (proc, res, NULL);
  run->exited[rs->who] = TRUE;
  if (run->done && g_subprocess_get_if_exited (proc)
      && g_subprocess_get_exit_status (proc) == 0) {
    if (rs->who == SENDER)
      run_write (run, RECEIVER, "finish");
  } else {
    run_fail (run, "the %s child ended early or badly (%s %d)",
        role_names[rs->who],
        g_subprocess_get_if_exited (proc) ? "exit status" : "signal",
        g_subprocess_get_if_exited (proc) ?
        g_subprocess_get_exit_status (proc) :
        g_subprocess_get_term_sig (proc));
  }
  if (run->exited[SENDER] && run->exited[RECEIVER])
    g_main_loop_quit (run->loop);
  g_free (rs);
}

static gboolean
run_timeout_cb (gpointer user_data)
{
  Run *run = user_data;

  run_fail (run, run->done ? "the children did not exit after the transfer"
      : "timed out after %u s", run->cfg->timeout_s + 5);
  return G_SOURCE_REMOVE;
}

static gboolean
run_pair (Run * run)
{
  gchar size[32], message_size[32], window[32], timeout[32], address[80];
  GError *error = NULL;
  guint timeout_id;

  g_snprintf (size, sizeof size, "--size-bytes=%" G_GUINT64_FORMAT,
      run->cfg->size);
  g_snprintf (message_size, sizeof message_size, "--message-size=%"
      G_GSIZE_FORMAT, run->cfg->message_size);
  g_snprintf (window, sizeof window, "--window=%" G_GUINT64_FORMAT,
      run->cfg->window);
  g_snprintf (timeout, sizeof timeout, "--timeout=%u", run->cfg->timeout_s);
  g_snprintf (address, sizeof address, "--ice-address=%s",
      run->cfg->ice_address);

  run->loop = g_main_loop_new (NULL, FALSE);
  for (gint who = 0; who < 2; who++) {
    const gchar *argv[] = { "/proc/self/exe", "--role", role_names[who],
      "--stack", stack_names[run->stack], size, message_size, window, timeout,
      address, run->cfg->sha256 ? "--sha256" : NULL, NULL
    };
    RunStream *rs;

    run->proc[who] = g_subprocess_newv (argv, G_SUBPROCESS_FLAGS_STDIN_PIPE
        | G_SUBPROCESS_FLAGS_STDOUT_PIPE, &error);
    if (!run->proc[who]) {
      /* Counts as exited; a sender already spawned is killed and waited for
       * below. */
      run->exited[who] = run->exited[RECEIVER] = TRUE;
      run_fail (run, "spawning the %s child: %s", role_names[who],
          error->message);
      g_error_free (error);
      break;
    }
    run->in[who] = g_subprocess_get_stdin_pipe (run->proc[who]);
    run->out[who] = g_data_input_stream_new
        (g_subprocess_get_stdout_pipe (run->proc[who]));

    rs = g_new0 (RunStream, 1);
    rs->run = run;
    rs->who = who;
    run_read_next (rs);
    rs = g_memdup2 (rs, sizeof *rs);
    g_subprocess_wait_async (run->proc[who], NULL, run_on_exit, rs);
  }

  /* The children time themselves out; this catches one that hangs anyway. */
  timeout_id = g_timeout_add_seconds (run->cfg->timeout_s + 5, run_timeout_cb,
      run);
  if (!(run->exited[SENDER] && run->exited[RECEIVER]))
    g_main_loop_run (run->loop);
  g_source_remove (timeout_id);

  /* The line readers finish on EOF, which follows the exits. */
  while (g_main_context_iteration (NULL, FALSE));
  for (gint who = 0; who < 2; who++) {
    g_clear_object (&run->out[who]);
    g_clear_object (&run->proc[who]);
  }
  g_main_loop_unref (run->loop);

  if (!run->error && run->rx_bytes != run->cfg->size)
    run_fail (run, "received %" G_GUINT64_FORMAT " of %" G_GUINT64_FORMAT
        " bytes", run->rx_bytes, run->cfg->size);
  if (!run->error && run->cfg->sha256
      && g_strcmp0 (run->rx_sha, run->tx_sha) != 0)
    run_fail (run, "SHA-256 differs: sent %s, received %s", run->tx_sha,
        run->rx_sha);
  if (!run->error && (!run->have_stats[SENDER] || !run->have_stats[RECEIVER]))
    run_fail (run, "a child did not report its resource use");
  return run->error == NULL;
}

static gdouble
run_mbps (const Run * run)
{
  gdouble secs = (run->t_done - run->t_start) / 1e6;

  return secs > 0 ? run->cfg->size / secs / 1e6 : 0;
}

static void
run_print (const Run * run)
{
  g_print ("%-10s %8.1f %8.2f %8.2f %8.2f %8.2f %9.1f %9.1f%s%s\n",
      stack_names[run->stack], run_mbps (run),
      (run->t_done - run->t_start) / 1e6, run->cpu[SENDER], run->cpu[RECEIVER],
      run->cpu[SENDER] + run->cpu[RECEIVER], run->rss_kib[SENDER] / 1024.0,
      run->rss_kib[RECEIVER] / 1024.0, run->cfg->sha256 ? "  sha256 " : "",
      run->cfg->sha256 ? run->rx_sha : "");
}

static void
run_clear (Run * run)
{
  g_free (run->error);
  g_free (run->rx_sha);
  g_free (run->tx_sha);
}

/* Over the successful runs of @stack; FALSE if there were none. */
static gboolean
median_of (GArray * runs, Stack stack, gdouble * mbps, gdouble * cpu)
{
  GArray *m = g_array_new (FALSE, FALSE, sizeof (gdouble));
  GArray *c = g_array_new (FALSE, FALSE, sizeof (gdouble));
  gboolean any;

  for (guint i = 0; i < runs->len; i++) {
    const Run *run = &g_array_index (runs, Run, i);
    gdouble v;

    if (run->stack != stack || run->error)
      continue;
    v = run_mbps (run);
    g_array_append_val (m, v);
    v = run->cpu[SENDER] + run->cpu[RECEIVER];
    g_array_append_val (c, v);
  }
  any = m->len > 0;
  if (any) {
    *mbps = bench_median_array (m);
    *cpu = bench_median_array (c);
  }
  g_array_unref (m);
  g_array_unref (c);
  return any;
}

/* ------------------------------------------------------------------------ */

int
main (int argc, char **argv)
{
  gint size_mib = 256;
  gint64 size_bytes = 0;
  gint message_size = 65536;
  gint64 window = 1024 * 1024;
  gint timeout_s = 0;
  gboolean sha256 = FALSE;
  gint repeat = 1;
  gchar *only = NULL, *role = NULL, *stack = NULL;
  gchar *ice_address = NULL;
  GOptionEntry entries[] = {
    {"size", 's', 0, G_OPTION_ARG_INT, &size_mib,
        "MiB to transfer (default 256)", "MIB"},
    {"message-size", 'm', 0, G_OPTION_ARG_INT, &message_size,
        "Bytes per message (default 65536)", "BYTES"},
    {"window", 'w', 0, G_OPTION_ARG_INT64, &window,
          "Flow-control window: send while the buffered amount is below it, "
          "resume at half of it (default 1048576)", "BYTES"},
    {"only", 'o', 0, G_OPTION_ARG_STRING, &only,
        "Run one stack only", "hangout|webrtcbin"},
    {"timeout", 't', 0, G_OPTION_ARG_INT, &timeout_s,
        "Seconds one run may take (default: 60 + 1 per MiB)", "S"},
    {"repeat", 'r', 0, G_OPTION_ARG_INT, &repeat,
        "Runs per stack, alternating; medians are reported (default 1)", "N"},
    {"sha256", 0, 0, G_OPTION_ARG_NONE, &sha256,
        "Also hash the stream on both sides and compare", NULL},
    {"ice-address", 0, 0, G_OPTION_ARG_STRING, &ice_address,
          "Local address for webrtcbin's ICE agent (default 127.0.0.1; "
          "libhangout gathers by itself). 198.18.0.1 under "
          "bench/netns-veth.sh", "ADDR"},
    /* Internal: how the parent starts its children. */
    {"role", 0, G_OPTION_FLAG_HIDDEN, G_OPTION_ARG_STRING, &role, NULL, NULL},
    {"stack", 0, G_OPTION_FLAG_HIDDEN, G_OPTION_ARG_STRING, &stack, NULL, NULL},
    {"size-bytes", 0, G_OPTION_FLAG_HIDDEN, G_OPTION_ARG_INT64, &size_bytes,
        NULL, NULL},
    G_OPTION_ENTRY_NULL
  };
  GOptionContext *octx;
  GError *error = NULL;
  Config cfg = { 0 };
  GArray *runs;
  gboolean ok = TRUE;

  octx = g_option_context_new ("- loopback data-channel throughput, "
      "libhangout against webrtcbin");
  g_option_context_add_main_entries (octx, entries, NULL);
  g_option_context_add_group (octx, gst_init_get_option_group ());
  if (!g_option_context_parse (octx, &argc, &argv, &error)) {
    g_printerr ("%s\n", error->message);
    return 2;
  }
  g_option_context_free (octx);

  if (size_mib <= 0 || message_size < SEQ_LEN || window <= 0
      || timeout_s < 0 || repeat <= 0) {
    g_printerr ("--size, --window, --repeat must be positive, --message-size "
        "at least %d\n", SEQ_LEN);
    return 2;
  }
  cfg.size = size_bytes > 0 ? (guint64) size_bytes : (guint64) size_mib << 20;
  cfg.message_size = message_size;
  cfg.window = window;
  cfg.timeout_s = timeout_s ? (guint) timeout_s : 60 + (cfg.size >> 20);
  cfg.sha256 = sha256;
  cfg.ice_address = ice_address ? ice_address : "127.0.0.1";

  if (role) {
    Stack s = g_strcmp0 (stack, "webrtcbin") == 0 ? STACK_WEBRTCBIN :
        STACK_HANGOUT;
    int ret;

    pattern_init (cfg.message_size);
    ret = child_main (&cfg, s, g_str_equal (role, "send"));
    g_free (pattern);
    return ret;
  }

  if (only && !g_str_equal (only, "hangout") && !g_str_equal (only,
          "webrtcbin")) {
    g_printerr ("--only takes hangout or webrtcbin\n");
    return 2;
  }

  runs = g_array_new (FALSE, TRUE, sizeof (Run));
  g_print ("%" G_GUINT64_FORMAT " MiB in %d-byte messages, window %"
      G_GINT64_FORMAT " bytes (resume at %" G_GINT64_FORMAT "), loopback, "
      "one process per peer\n", cfg.size >> 20, message_size, window,
      window / 2);
  g_print ("%-10s %8s %8s %8s %8s %8s %9s %9s\n", "stack", "MB/s", "secs",
      "CPU-snd", "CPU-rcv", "CPU-sum", "RSSsndMiB", "RSSrcvMiB");
  /* Alternating the stacks spreads slow phases of a shared machine over
   * both. */
  for (gint r = 0; r < repeat; r++) {
    for (gint st = STACK_HANGOUT; st <= STACK_WEBRTCBIN; st++) {
      Run *run;

      if (only && !g_str_equal (only, stack_names[st]))
        continue;
      g_array_set_size (runs, runs->len + 1);
      run = &g_array_index (runs, Run, runs->len - 1);
      run->stack = st;
      run->cfg = &cfg;
      if (run_pair (run)) {
        run_print (run);
      } else {
        g_print ("%-10s FAILED: %s\n", stack_names[st], run->error);
        ok = FALSE;
      }
    }
  }
  {
    gdouble mbps[2], cpu[2];
    gboolean have[2];

    for (gint st = STACK_HANGOUT; st <= STACK_WEBRTCBIN; st++) {
      have[st] = median_of (runs, st, &mbps[st], &cpu[st]);
      if (have[st] && repeat > 1)
        g_print ("%-10s %8.1f MB/s median, %.2f CPU-s median (%d runs)\n",
            stack_names[st], mbps[st], cpu[st], repeat);
    }
    if (have[STACK_HANGOUT] && have[STACK_WEBRTCBIN])
      g_print ("hangout/webrtcbin: throughput %.2f, CPU %.2f%s\n",
          mbps[STACK_HANGOUT] / mbps[STACK_WEBRTCBIN],
          cpu[STACK_HANGOUT] / cpu[STACK_WEBRTCBIN],
          repeat > 1 ? " (medians)" : "");
  }
  for (guint i = 0; i < runs->len; i++)
    run_clear (&g_array_index (runs, Run, i));
  g_array_unref (runs);
  g_free (ice_address);
  g_free (only);
  g_free (role);
  g_free (stack);
  return ok ? 0 : 1;
}
