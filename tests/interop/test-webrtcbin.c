/* gst-hangout — interoperability with GStreamer's webrtcbin (gst-plugins-bad).
 *
 * One process, two peers on loopback: our HangoutPeerConnection and a
 * webrtcbin. Both offer/answer directions; in each, a channel opened by each
 * side, text and binary messages both ways on both channels, and 16 MiB each
 * way under buffered-amount flow control with SHA-256 compared.
 *
 * Threading: the test thread owns our peer's GMainContext and iterates it
 * while it waits, so every call into libhangout and all test state live on
 * that one thread. webrtcbin signals from its own threads; those handlers
 * only record what happened under a lock and wake the context, and the
 * waiting loop (fixture_service) acts on it. Every wait has a deadline.
 *
 * Known webrtcbin 1.22 traits this test works around:
 * - its ICE agent skips loopback until told about 127.0.0.1 through the
 *   agent's "add-local-ip-address" (a test network namespace has only lo);
 * - it advertises no a=max-message-size, so 65536 applies on our side;
 * - create-offer is called after create-data-channel, not from
 *   on-negotiation-needed;
 * - it swaps the PPIDs of empty messages (56/57) against RFC 8831, which we
 *   follow, so an empty string from one side arrives as an empty binary
 *   message at the other: empty messages are not exchanged here.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later */

#include <gst/check/gstcheck.h>
#include <gst/sdp/sdp.h>
#include <gst/webrtc/webrtc.h>
#include <hangout/peer.h>

#include <string.h>

GST_DEBUG_CATEGORY_STATIC (interop_debug);
#undef GST_CAT_DEFAULT          /* gstcheck.h's */
#define GST_CAT_DEFAULT interop_debug

#define CONNECT_TIMEOUT_MS 20000
#define MESSAGE_TIMEOUT_MS 10000
#define BULK_TIMEOUT_MS 30000

#define BULK_SIZE (16 * 1024 * 1024)
#define BULK_MESSAGE_SIZE 65536
/* Small next to BULK_SIZE so that flow control really has to wait for
 * buffered-amount-low many times. */
#define BULK_WINDOW (256 * 1024)
#define BULK_THRESHOLD (BULK_WINDOW / 2)

/* webrtcbin advertises no a=max-message-size: RFC 8841 says 64 KiB then. */
#define WEBRTCBIN_MAX_MESSAGE_SIZE 65536

#define LABEL_OURS "from-hangout"
#define LABEL_THEIRS "from-webrtcbin"
#define PROTOCOL_OURS "hangout-interop"
#define PROTOCOL_THEIRS "webrtcbin-interop"

typedef struct _Fixture Fixture;

/* The four ends of the two channels. Channel A is opened by us (OUR_OUT,
 * seen by webrtcbin as WB_IN), channel B by webrtcbin (WB_OUT, seen by us
 * as OUR_IN). */
enum {
  OUR_OUT,
  WB_IN,
  WB_OUT,
  OUR_IN,
  N_ENDS
};

typedef struct {
  gboolean text;
  GBytes *data;                 /* text without its NUL */
} Message;

typedef struct {
  Fixture *f;
  const gchar *name;
  gboolean ours;
  /* HangoutDataChannel or GstWebRTCDataChannel, a reference. Set on the
   * test thread, or under the lock by webrtcbin's on-data-channel. */
  gpointer channel;

  /* Filled from webrtcbin's threads for its ends, hence the lock. */
  GMutex lock;
  GQueue inbox;                 /* Message*, unless bulk */
  gboolean bulk;                /* hash what arrives instead of queueing it */
  GChecksum *rx_sum;
  guint64 rx_bytes;
  guint rx_unexpected;          /* text messages during bulk */
  gboolean wake;                /* buffered-amount-low fired, pump again */
  guint low_count;
  gchar *error;                 /* a channel "error" signal */
} End;

typedef struct {
  End *end;
  guint64 sent;
  GChecksum *sum;
  GRand *rand;
} BulkSender;

struct _Fixture {
  GMainContext *ctx;
  HangoutPeerConnection *pc;
  GstElement *pipeline;
  GstElement *webrtc;
  End ends[N_ENDS];

  /* Signalling. Candidates wait until the side they are for has its remote
   * description; browsers' addIceCandidate refuses them before that too. */
  GMutex lock;
  gboolean pc_remote_set;       /* test thread only */
  gboolean wb_remote_set;       /* test thread only */
  GPtrArray *wb_candidates;     /* webrtcbin's, for us; under lock */
  gboolean wb_gathering_done;   /* under lock */
  gboolean wb_end_sent;         /* test thread only */
  GPtrArray *our_candidates;    /* ours, for webrtcbin; test thread only */
  gint promise_done;            /* atomic */
  gchar *wb_error;              /* first ERROR on webrtcbin's bus; lock */

  BulkSender *tx;               /* the active bulk sender, if any */
};

/* ------------------------------------------------------------------------ */
/* Waiting                                                                  */

static void fixture_service (Fixture * f);

static gboolean
deadline_reached (gpointer user_data)
{
  /* Only there to make a blocking iteration return; the caller checks the
   * clock. */
  return G_SOURCE_REMOVE;
}

/* One blocking iteration that returns at the deadline at the latest. */
static void
fixture_iterate (Fixture * f, gint64 deadline)
{
  gint64 left_ms = (deadline - g_get_monotonic_time ()) / 1000;
  GSource *timer = g_timeout_source_new (MAX (left_ms, 0) + 1);

  g_source_set_callback (timer, deadline_reached, NULL, NULL);
  g_source_attach (timer, f->ctx);
  g_main_context_iteration (f->ctx, TRUE);
  g_source_destroy (timer);
  g_source_unref (timer);
}

/* Iterates our context (which also takes what webrtcbin's threads recorded,
 * see fixture_service) until @cond holds; fails the test at the deadline. */
#define WAIT_UNTIL(f, cond, timeout_ms)                                     \
  G_STMT_START {                                                            \
    gint64 deadline_ = g_get_monotonic_time ()                              \
        + (gint64) (timeout_ms) * G_TIME_SPAN_MILLISECOND;                  \
    fixture_service (f);                                                    \
    while (!(cond)) {                                                       \
      fail_if (g_get_monotonic_time () >= deadline_,                        \
          "timed out after %d ms waiting for: %s", (timeout_ms), #cond);    \
      fixture_iterate (f, deadline_);                                       \
      fixture_service (f);                                                  \
    }                                                                       \
  } G_STMT_END

/* ------------------------------------------------------------------------ */
/* Channel ends                                                             */

static void
message_free (gpointer data)
{
  Message *m = data;

  g_bytes_unref (m->data);
  g_free (m);
}

/* Any thread. */
static void
end_deliver (End * e, gboolean text, const guint8 * data, gsize len)
{
  g_mutex_lock (&e->lock);
  if (e->bulk) {
    if (text)
      e->rx_unexpected++;
    else
      g_checksum_update (e->rx_sum, data, len);
    e->rx_bytes += len;
  } else {
    Message *m = g_new0 (Message, 1);
    m->text = text;
    m->data = g_bytes_new (data, len);
    g_queue_push_tail (&e->inbox, m);
  }
  g_mutex_unlock (&e->lock);
  g_main_context_wakeup (e->f->ctx);
}

static guint
end_inbox_length (End * e)
{
  guint n;

  g_mutex_lock (&e->lock);
  n = e->inbox.length;
  g_mutex_unlock (&e->lock);
  return n;
}

static guint64
end_rx_bytes (End * e)
{
  guint64 n;

  g_mutex_lock (&e->lock);
  n = e->rx_bytes;
  g_mutex_unlock (&e->lock);
  return n;
}

static void
end_on_low (End * e)
{
  g_mutex_lock (&e->lock);
  e->wake = TRUE;
  e->low_count++;
  g_mutex_unlock (&e->lock);
  g_main_context_wakeup (e->f->ctx);
}

/* ---- channel signals, the same for both stacks (the instance is a
 * HangoutDataChannel or a GstWebRTCDataChannel). Ours come on the test
 * thread, webrtcbin's on its own threads: the end's state is locked and the
 * test's context woken up, which is harmless for ours. ---- */

static void
on_message_data (gpointer channel, GBytes * data, gpointer user_data)
{
  gsize len = 0;
  const guint8 *bytes = data ? g_bytes_get_data (data, &len) : NULL;

  end_deliver (user_data, FALSE, bytes, len);
}

static void
on_message_string (gpointer channel, const gchar * text, gpointer user_data)
{
  end_deliver (user_data, TRUE, (const guint8 *) text, text ? strlen (text) : 0);
}

static void
on_low (gpointer channel, gpointer user_data)
{
  end_on_low (user_data);
}

static void
on_error (gpointer channel, GError * error, gpointer user_data)
{
  End *e = user_data;

  GST_WARNING ("%s: channel error: %s", e->name, error->message);
  g_mutex_lock (&e->lock);
  g_free (e->error);
  e->error = g_strdup (error->message);
  g_mutex_unlock (&e->lock);
  g_main_context_wakeup (e->f->ctx);
}

static void
wb_on_wakeup (GObject * object, GParamSpec * pspec, gpointer user_data)
{
  End *e = user_data;

  g_main_context_wakeup (e->f->ctx);
}

/* Takes a reference to @channel. Call with e->lock held for webrtcbin's
 * ends, whose fields the test thread reads under it. */
static void
end_attach (End * e, gpointer channel)
{
  e->channel = g_object_ref (channel);
  if (e->ours) {
    g_signal_connect (channel, "message-data",
        G_CALLBACK (on_message_data), e);
    g_signal_connect (channel, "message-string",
        G_CALLBACK (on_message_string), e);
    g_signal_connect (channel, "buffered-amount-low", G_CALLBACK (on_low),
        e);
    g_signal_connect (channel, "error", G_CALLBACK (on_error), e);
  } else {
    g_signal_connect (channel, "on-message-data",
        G_CALLBACK (on_message_data), e);
    g_signal_connect (channel, "on-message-string",
        G_CALLBACK (on_message_string), e);
    g_signal_connect (channel, "on-buffered-amount-low",
        G_CALLBACK (on_low), e);
    g_signal_connect (channel, "on-error", G_CALLBACK (on_error), e);
    g_signal_connect (channel, "notify::ready-state",
        G_CALLBACK (wb_on_wakeup), e);
  }
}

static gpointer
end_channel (End * e)
{
  gpointer channel;

  g_mutex_lock (&e->lock);
  channel = e->channel;
  g_mutex_unlock (&e->lock);
  return channel;
}

static gboolean
end_is_open (End * e)
{
  gpointer channel = end_channel (e);
  GstWebRTCDataChannelState state;

  if (!channel)
    return FALSE;
  if (e->ours)
    return hangout_data_channel_get_ready_state (channel) ==
        HANGOUT_DATA_CHANNEL_STATE_OPEN;
  g_object_get (channel, "ready-state", &state, NULL);
  return state == GST_WEBRTC_DATA_CHANNEL_STATE_OPEN;
}

static gint
end_id (End * e)
{
  gint id;

  if (e->ours)
    return hangout_data_channel_get_id (e->channel);
  g_object_get (e->channel, "id", &id, NULL);
  return id;
}

static gchar *
end_string_property (End * e, const gchar * name)
{
  gchar *value = NULL;

  g_object_get (e->channel, name, &value, NULL);
  return value;
}

static guint64
end_buffered_amount (End * e)
{
  guint64 amount = 0;

  if (e->ours)
    return hangout_data_channel_get_buffered_amount (e->channel);
  g_object_get (e->channel, "buffered-amount", &amount, NULL);
  return amount;
}

static void
end_set_threshold (End * e, guint64 threshold)
{
  if (e->ours)
    hangout_data_channel_set_buffered_amount_low_threshold (e->channel,
        threshold);
  else
    g_object_set (e->channel, "buffered-amount-low-threshold", threshold,
        NULL);
}

static gboolean
end_send (End * e, const Message * m, GError ** error)
{
  gsize len;
  const guint8 *data = g_bytes_get_data (m->data, &len);

  if (m->text) {
    gchar *text = g_strndup ((const gchar *) data, len);
    gboolean ok = e->ours ?
        hangout_data_channel_send_string (e->channel, text, error) :
        gst_webrtc_data_channel_send_string_full (e->channel, text, error);
    g_free (text);
    return ok;
  }
  if (e->ours)
    return hangout_data_channel_send_bytes (e->channel, m->data, error);
  return gst_webrtc_data_channel_send_data_full (e->channel, m->data, error);
}

static void
end_init (End * e, Fixture * f, const gchar * name, gboolean ours)
{
  e->f = f;
  e->name = name;
  e->ours = ours;
  g_mutex_init (&e->lock);
  g_queue_init (&e->inbox);
}

static void
end_clear (End * e)
{
  if (e->channel) {
    g_signal_handlers_disconnect_by_data (e->channel, e);
    g_object_unref (e->channel);
  }
  g_queue_clear_full (&e->inbox, message_free);
  if (e->rx_sum)
    g_checksum_free (e->rx_sum);
  g_free (e->error);
  g_mutex_clear (&e->lock);
}

/* ------------------------------------------------------------------------ */
/* Signalling                                                               */

/* webrtcbin's thread. */
static void
wb_on_ice_candidate (GstElement * webrtc, guint mline, const gchar * candidate,
    gpointer user_data)
{
  Fixture *f = user_data;

  /* max-bundle: one transport, and our SDP has m-line 0 only. */
  GST_DEBUG ("webrtcbin candidate (m-line %u): %s", mline, candidate);
  g_mutex_lock (&f->lock);
  g_ptr_array_add (f->wb_candidates, g_strdup (candidate));
  g_mutex_unlock (&f->lock);
  g_main_context_wakeup (f->ctx);
}

/* webrtcbin's thread. */
static void
wb_on_gathering_state (GObject * webrtc, GParamSpec * pspec,
    gpointer user_data)
{
  Fixture *f = user_data;
  GstWebRTCICEGatheringState state;

  g_object_get (webrtc, "ice-gathering-state", &state, NULL);
  if (state != GST_WEBRTC_ICE_GATHERING_STATE_COMPLETE)
    return;
  g_mutex_lock (&f->lock);
  f->wb_gathering_done = TRUE;
  g_mutex_unlock (&f->lock);
  g_main_context_wakeup (f->ctx);
}

/* webrtcbin's thread: the channel the other side (we) opened. */
static void
wb_on_data_channel (GstElement * webrtc, GstWebRTCDataChannel * channel,
    gpointer user_data)
{
  Fixture *f = user_data;
  End *e = &f->ends[WB_IN];
  gchar *label = NULL;

  g_object_get (channel, "label", &label, NULL);
  GST_INFO ("webrtcbin got channel '%s'", label);
  g_mutex_lock (&e->lock);
  /* A second or unknown channel would leave WB_IN unset and the wait for it
   * fails with a message naming it. */
  if (!e->channel && g_strcmp0 (label, LABEL_OURS) == 0)
    end_attach (e, channel);
  g_mutex_unlock (&e->lock);
  g_free (label);
  g_main_context_wakeup (f->ctx);
}

/* Test thread. */
static void
our_on_ice_candidate (HangoutPeerConnection * pc, const gchar * candidate,
    gpointer user_data)
{
  Fixture *f = user_data;

  GST_DEBUG ("our candidate: %s", candidate ? candidate : "(end)");
  /* webrtcbin 1.22 has no end-of-candidates input and does not need one. */
  if (candidate)
    g_ptr_array_add (f->our_candidates, g_strdup (candidate));
}

/* Test thread: the channel webrtcbin opened. */
static void
our_on_data_channel (HangoutPeerConnection * pc, HangoutDataChannel * channel,
    gpointer user_data)
{
  Fixture *f = user_data;
  End *e = &f->ends[OUR_IN];

  GST_INFO ("we got channel '%s'", hangout_data_channel_get_label (channel));
  if (!e->channel && g_strcmp0 (hangout_data_channel_get_label (channel),
          LABEL_THEIRS) == 0)
    end_attach (e, channel);
}

/* Any thread: webrtcbin's elements post their errors from their own. The
 * waiting loop fails the test with it at once, rather than at a deadline
 * with a symptom seen from our side. */
static GstBusSyncReply
wb_on_bus_message (GstBus * bus, GstMessage * msg, gpointer user_data)
{
  Fixture *f = user_data;
  GError *error = NULL;
  gchar *debug = NULL;

  if (GST_MESSAGE_TYPE (msg) != GST_MESSAGE_ERROR)
    return GST_BUS_DROP;
  gst_message_parse_error (msg, &error, &debug);
  /* One line: check's report would end at the first newline. */
  if (debug)
    g_strdelimit (debug, "\r\n", ' ');
  g_mutex_lock (&f->lock);
  if (!f->wb_error)
    f->wb_error = g_strdup_printf ("%s: %s (%s)", GST_MESSAGE_SRC_NAME (msg),
        error->message, debug ? debug : "");
  g_mutex_unlock (&f->lock);
  g_main_context_wakeup (f->ctx);
  g_clear_error (&error);
  g_free (debug);
  return GST_BUS_DROP;
}

static void bulk_pump (BulkSender * tx);

/* Test thread, before every check of a waited-for condition: hands
 * candidates over once their receiver can take them, and keeps a bulk
 * transfer going. */
static void
fixture_service (Fixture * f)
{
  GPtrArray *wb_cands = NULL;
  gboolean wb_done;
  gchar *wb_error;

  if (f->wb_remote_set) {
    for (guint i = 0; i < f->our_candidates->len; i++)
      g_signal_emit_by_name (f->webrtc, "add-ice-candidate", 0,
          g_ptr_array_index (f->our_candidates, i));
    g_ptr_array_set_size (f->our_candidates, 0);
  }

  g_mutex_lock (&f->lock);
  if (f->pc_remote_set && f->wb_candidates->len > 0) {
    wb_cands = f->wb_candidates;
    f->wb_candidates = g_ptr_array_new_with_free_func (g_free);
  }
  wb_done = f->wb_gathering_done;
  wb_error = g_strdup (f->wb_error);
  g_mutex_unlock (&f->lock);

  fail_if (wb_error != NULL, "webrtcbin posted an error: %s", wb_error);

  if (wb_cands) {
    for (guint i = 0; i < wb_cands->len; i++) {
      const gchar *cand = g_ptr_array_index (wb_cands, i);
      GError *error = NULL;

      fail_unless (hangout_peer_connection_add_ice_candidate (f->pc, cand,
              &error), "add_ice_candidate (%s): %s", cand,
          error ? error->message : "(no error)");
    }
    g_ptr_array_unref (wb_cands);
  }
  /* All of webrtcbin's candidates were added above: tell us the end. */
  if (f->pc_remote_set && wb_done && !f->wb_end_sent) {
    GError *error = NULL;

    f->wb_end_sent = TRUE;
    fail_unless (hangout_peer_connection_add_ice_candidate (f->pc, NULL,
            &error), "end of candidates: %s",
        error ? error->message : "(no error)");
  }

  if (f->tx)
    bulk_pump (f->tx);
}

static void
promise_wakeup (GstPromise * promise, gpointer user_data)
{
  Fixture *f = user_data;

  g_atomic_int_set (&f->promise_done, TRUE);
  g_main_context_wakeup (f->ctx);
}

static GstPromise *
fixture_promise_new (Fixture * f)
{
  g_atomic_int_set (&f->promise_done, FALSE);
  return gst_promise_new_with_change_func (promise_wakeup, f, NULL);
}

/* Waits for @promise (made by fixture_promise_new, one at a time) and
 * returns a copy of its reply, failing on an "error" in it. */
static GstStructure *
fixture_promise_wait (Fixture * f, GstPromise * promise, const gchar * what)
{
  const GstStructure *reply;
  GstStructure *copy = NULL;
  GError *error = NULL;

  WAIT_UNTIL (f, g_atomic_int_get (&f->promise_done), MESSAGE_TIMEOUT_MS);
  fail_unless_equals_int (gst_promise_wait (promise),
      GST_PROMISE_RESULT_REPLIED);
  reply = gst_promise_get_reply (promise);
  if (reply) {
    if (gst_structure_has_field (reply, "error"))
      gst_structure_get (reply, "error", G_TYPE_ERROR, &error, NULL);
    fail_if (error, "webrtcbin %s: %s", what,
        error ? error->message : "(no error)");
    copy = gst_structure_copy (reply);
  }
  gst_promise_unref (promise);
  return copy;
}

static void
wb_set_description (Fixture * f, const gchar * action, GstWebRTCSDPType type,
    const gchar * text)
{
  GstSDPMessage *sdp = NULL;
  GstWebRTCSessionDescription *desc;
  GstPromise *promise = fixture_promise_new (f);
  GstStructure *reply;

  fail_unless_equals_int (gst_sdp_message_new_from_text (text, &sdp),
      GST_SDP_OK);
  desc = gst_webrtc_session_description_new (type, sdp);
  g_signal_emit_by_name (f->webrtc, action, desc, promise);
  gst_webrtc_session_description_free (desc);
  reply = fixture_promise_wait (f, promise, action);
  if (reply)
    gst_structure_free (reply);
}

/* create-offer or create-answer; returns the SDP text. */
static gchar *
wb_create_description (Fixture * f, GstWebRTCSDPType type)
{
  const gchar *name = type == GST_WEBRTC_SDP_TYPE_OFFER ? "offer" : "answer";
  GstPromise *promise = fixture_promise_new (f);
  GstWebRTCSessionDescription *desc = NULL;
  GstStructure *reply;
  gchar *text;

  g_signal_emit_by_name (f->webrtc, type == GST_WEBRTC_SDP_TYPE_OFFER ?
      "create-offer" : "create-answer", NULL, promise);
  reply = fixture_promise_wait (f, promise, name);
  fail_unless (reply != NULL, "webrtcbin created no %s", name);
  gst_structure_get (reply, name, GST_TYPE_WEBRTC_SESSION_DESCRIPTION, &desc,
      NULL);
  gst_structure_free (reply);
  fail_unless (desc != NULL, "webrtcbin created no %s", name);

  text = gst_sdp_message_as_text (desc->sdp);
  gst_webrtc_session_description_free (desc);
  GST_INFO ("webrtcbin's %s:\n%s", name, text);
  wb_set_description (f, "set-local-description", type, text);
  return text;
}

static void
our_set_remote (Fixture * f, HangoutSdpType type, const gchar * sdp)
{
  GError *error = NULL;

  fail_unless (hangout_peer_connection_set_remote_description (f->pc, type,
          sdp, &error), "set_remote_description: %s",
      error ? error->message : "(no error)");
  f->pc_remote_set = TRUE;
}

/* ------------------------------------------------------------------------ */
/* Fixture                                                                  */

/* Whatever fails in here, @f stays fit for fixture_free. */
static void
fixture_init (Fixture * f)
{
  GstBus *bus;
  GObject *ice = NULL;
  gboolean added = FALSE;

  f->ctx = g_main_context_new ();
  /* As on a room's network thread: the context is ours and thread-default. */
  g_main_context_push_thread_default (f->ctx);
  g_mutex_init (&f->lock);
  f->wb_candidates = g_ptr_array_new_with_free_func (g_free);
  f->our_candidates = g_ptr_array_new_with_free_func (g_free);
  end_init (&f->ends[OUR_OUT], f, "our end of " LABEL_OURS, TRUE);
  end_init (&f->ends[WB_IN], f, "webrtcbin's end of " LABEL_OURS, FALSE);
  end_init (&f->ends[WB_OUT], f, "webrtcbin's end of " LABEL_THEIRS, FALSE);
  end_init (&f->ends[OUR_IN], f, "our end of " LABEL_THEIRS, TRUE);

  f->pc = hangout_peer_connection_new (f->ctx);
  fail_unless (f->pc != NULL);
  g_signal_connect (f->pc, "ice-candidate", G_CALLBACK (our_on_ice_candidate),
      f);
  g_signal_connect (f->pc, "data-channel", G_CALLBACK (our_on_data_channel),
      f);

  f->pipeline = gst_pipeline_new (NULL);
  f->webrtc = gst_element_factory_make ("webrtcbin", NULL);
  fail_unless (f->webrtc != NULL, "no webrtcbin (gst-plugins-bad)");
  gst_bin_add (GST_BIN (f->pipeline), f->webrtc);
  g_object_set (f->webrtc, "bundle-policy",
      GST_WEBRTC_BUNDLE_POLICY_MAX_BUNDLE, NULL);

  g_object_get (f->webrtc, "ice-agent", &ice, NULL);
  fail_unless (ice != NULL);
  g_signal_emit_by_name (ice, "add-local-ip-address", "127.0.0.1", &added);
  g_object_unref (ice);
  fail_unless (added, "webrtcbin's agent refused 127.0.0.1");

  g_signal_connect (f->webrtc, "on-ice-candidate",
      G_CALLBACK (wb_on_ice_candidate), f);
  g_signal_connect (f->webrtc, "notify::ice-gathering-state",
      G_CALLBACK (wb_on_gathering_state), f);
  g_signal_connect (f->webrtc, "on-data-channel",
      G_CALLBACK (wb_on_data_channel), f);
  bus = gst_pipeline_get_bus (GST_PIPELINE (f->pipeline));
  gst_bus_set_sync_handler (bus, wb_on_bus_message, f, NULL);
  gst_object_unref (bus);
  fail_if (gst_element_set_state (f->pipeline, GST_STATE_PLAYING) ==
      GST_STATE_CHANGE_FAILURE);
}

static void
fixture_free (Fixture * f)
{
  /* webrtcbin first: once it is NULL its threads call us no more. Also runs
   * after a failed test, so anything may be missing. */
  if (f->pipeline) {
    GstBus *bus = gst_pipeline_get_bus (GST_PIPELINE (f->pipeline));

    gst_element_set_state (f->pipeline, GST_STATE_NULL);
    gst_bus_set_sync_handler (bus, NULL, NULL, NULL);
    gst_object_unref (bus);
    if (f->webrtc)
      g_signal_handlers_disconnect_by_data (f->webrtc, f);
  }
  if (f->pc)
    hangout_peer_connection_close (f->pc);
  for (gint i = 0; i < N_ENDS; i++)
    end_clear (&f->ends[i]);
  if (f->pc) {
    g_signal_handlers_disconnect_by_data (f->pc, f);
    g_object_unref (f->pc);
  }
  if (f->pipeline)
    gst_object_unref (f->pipeline);
  /* Whatever the peer left on the context (timers, idle callbacks) runs or
   * is dropped with it. */
  while (g_main_context_iteration (f->ctx, FALSE));
  g_main_context_pop_thread_default (f->ctx);
  g_main_context_unref (f->ctx);
  g_ptr_array_unref (f->wb_candidates);
  g_ptr_array_unref (f->our_candidates);
  g_free (f->wb_error);
  g_mutex_clear (&f->lock);
  g_free (f);
}

/* check runs the teardown also after a failed test (CK_FORK=no longjmps out
 * of it), so the next test starts clean. A passing test frees the fixture
 * itself (by calling teardown): GST_END_TEST joins every GstTask thread, so
 * webrtcbin must be stopped before it. */
static Fixture *fixture;

static void
setup (void)
{
  fixture = g_new0 (Fixture, 1);
  fixture_init (fixture);
}

static void
teardown (void)
{
  g_clear_pointer (&fixture, fixture_free);
}

/* Each side creates its channel before the offer is made. */
static void
fixture_create_channels (Fixture * f)
{
  HangoutDataChannelOptions options = HANGOUT_DATA_CHANNEL_OPTIONS_INIT;
  HangoutDataChannel *ours;
  GstWebRTCDataChannel *theirs = NULL;
  GstStructure *init;
  GError *error = NULL;

  options.protocol = PROTOCOL_OURS;
  ours = hangout_peer_connection_create_data_channel (f->pc, LABEL_OURS,
      &options, &error);
  fail_unless (ours != NULL, "create_data_channel: %s",
      error ? error->message : "(no error)");
  end_attach (&f->ends[OUR_OUT], ours);
  g_object_unref (ours);

  init = gst_structure_new ("options", "ordered", G_TYPE_BOOLEAN, TRUE,
      "protocol", G_TYPE_STRING, PROTOCOL_THEIRS, NULL);
  g_signal_emit_by_name (f->webrtc, "create-data-channel", LABEL_THEIRS, init,
      &theirs);
  gst_structure_free (init);
  fail_unless (theirs != NULL, "webrtcbin's create-data-channel failed");
  g_mutex_lock (&f->ends[WB_OUT].lock);
  end_attach (&f->ends[WB_OUT], theirs);
  g_mutex_unlock (&f->ends[WB_OUT].lock);
  g_object_unref (theirs);
}

static gboolean
fixture_connected (Fixture * f)
{
  HangoutPeerConnectionState state = hangout_peer_connection_get_state (f->pc);

  if (state == HANGOUT_PEER_CONNECTION_STATE_FAILED
      || state == HANGOUT_PEER_CONNECTION_STATE_CLOSED) {
    const GError *error = hangout_peer_connection_get_error (f->pc);
    fail ("our peer connection %s: %s",
        state == HANGOUT_PEER_CONNECTION_STATE_FAILED ? "failed" : "closed",
        error ? error->message : "(no error)");
  }
  if (state != HANGOUT_PEER_CONNECTION_STATE_CONNECTED)
    return FALSE;
  for (gint i = 0; i < N_ENDS; i++)
    if (!end_is_open (&f->ends[i]))
      return FALSE;
  return TRUE;
}

/* Both channels are open at both ends and agree on what they are. */
static void
fixture_check_channels (Fixture * f)
{
  gint id_a = end_id (&f->ends[OUR_OUT]);
  gint id_b = end_id (&f->ends[WB_OUT]);
  gchar *s;

  fail_unless_equals_int (end_id (&f->ends[WB_IN]), id_a);
  fail_unless_equals_int (end_id (&f->ends[OUR_IN]), id_b);
  fail_unless (id_a >= 0 && id_b >= 0);
  /* RFC 8832 §6: the DTLS client takes even ids, the server odd ones. */
  fail_unless ((id_a & 1) != (id_b & 1),
      "both channels got ids of the same parity: %d and %d", id_a, id_b);

  s = end_string_property (&f->ends[WB_IN], "protocol");
  fail_unless_equals_string (s, PROTOCOL_OURS);
  g_free (s);
  s = end_string_property (&f->ends[OUR_IN], "protocol");
  fail_unless_equals_string (s, PROTOCOL_THEIRS);
  g_free (s);

  /* webrtcbin advertises no a=max-message-size. */
  fail_unless_equals_uint64 (hangout_data_channel_get_max_message_size
      (f->ends[OUR_OUT].channel), WEBRTCBIN_MAX_MESSAGE_SIZE);
  fail_unless_equals_uint64 (hangout_data_channel_get_max_message_size
      (f->ends[OUR_IN].channel), WEBRTCBIN_MAX_MESSAGE_SIZE);
}

/* ---- the two negotiations ---- */

static void
negotiate_our_offer (Fixture * f)
{
  GError *error = NULL;
  gchar *offer, *answer;

  fixture_create_channels (f);
  offer = hangout_peer_connection_create_offer (f->pc, &error);
  fail_unless (offer != NULL, "create_offer: %s",
      error ? error->message : "(no error)");
  GST_INFO ("our offer:\n%s", offer);

  wb_set_description (f, "set-remote-description", GST_WEBRTC_SDP_TYPE_OFFER,
      offer);
  f->wb_remote_set = TRUE;
  answer = wb_create_description (f, GST_WEBRTC_SDP_TYPE_ANSWER);
  our_set_remote (f, HANGOUT_SDP_ANSWER, answer);

  WAIT_UNTIL (f, fixture_connected (f), CONNECT_TIMEOUT_MS);
  fixture_check_channels (f);
  g_free (offer);
  g_free (answer);
}

static void
negotiate_their_offer (Fixture * f)
{
  GError *error = NULL;
  gchar *offer, *answer;

  fixture_create_channels (f);
  offer = wb_create_description (f, GST_WEBRTC_SDP_TYPE_OFFER);
  our_set_remote (f, HANGOUT_SDP_OFFER, offer);
  answer = hangout_peer_connection_create_answer (f->pc, &error);
  fail_unless (answer != NULL, "create_answer: %s",
      error ? error->message : "(no error)");
  GST_INFO ("our answer:\n%s", answer);

  wb_set_description (f, "set-remote-description",
      GST_WEBRTC_SDP_TYPE_ANSWER, answer);
  f->wb_remote_set = TRUE;

  WAIT_UNTIL (f, fixture_connected (f), CONNECT_TIMEOUT_MS);
  fixture_check_channels (f);
  g_free (offer);
  g_free (answer);
}

/* ------------------------------------------------------------------------ */
/* Messages                                                                 */

/* @len bytes of valid UTF-8 with multi-byte characters in it. */
static gchar *
make_text (gsize len, guint seed)
{
  static const gchar unit[] = "hangout-\xc3\xbc\xe2\x82\xac-";  /* ü € */
  GString *s = g_string_sized_new (len + 1);

  g_string_append_printf (s, "%u:", seed);
  while (s->len + sizeof unit - 1 <= len)
    g_string_append (s, unit);
  while (s->len < len)
    g_string_append_c (s, 'a' + s->len % 26);
  g_string_truncate (s, len);
  fail_unless (g_utf8_validate (s->str, s->len, NULL));
  return g_string_free (s, FALSE);
}

static GBytes *
make_binary (gsize len, GRand * rand)
{
  guint8 *data = g_malloc (len);

  for (gsize i = 0; i < len; i += 4) {
    guint32 r = g_rand_int (rand);
    memcpy (data + i, &r, MIN (4, len - i));
  }
  return g_bytes_new_take (data, len);
}

/* Sizes around the SCTP fragment size (one DTLS record per packet of about
 * 1200 bytes) and up to webrtcbin's maximum. */
static const gsize text_sizes[] = { 1, 100, 1187, 1200, 16384, 65536 };
static const gsize binary_sizes[] = { 1, 2, 1199, 1200, 1201, 16384, 65535,
  65536
};

/* Sends text and binary messages, interleaved, from @from and checks that
 * @to receives them in order and intact. */
static void
exchange (Fixture * f, End * from, End * to, guint seed)
{
  GRand *rand = g_rand_new_with_seed (seed);
  GPtrArray *sent = g_ptr_array_new_with_free_func (message_free);
  GQueue received;
  guint n_text = G_N_ELEMENTS (text_sizes);
  guint n_binary = G_N_ELEMENTS (binary_sizes);

  GST_INFO ("%s -> %s", from->name, to->name);
  for (guint i = 0; i < MAX (n_text, n_binary); i++) {
    for (gint text = 1; text >= 0; text--) {
      Message *m;
      GError *error = NULL;

      if ((text && i >= n_text) || (!text && i >= n_binary))
        continue;
      m = g_new0 (Message, 1);
      m->text = text;
      if (text) {
        gchar *s = make_text (text_sizes[i], seed + i);
        m->data = g_bytes_new_take (s, text_sizes[i]);
      } else {
        m->data = make_binary (binary_sizes[i], rand);
      }
      fail_unless (end_send (from, m, &error), "%s: send of %s %"
          G_GSIZE_FORMAT " bytes: %s", from->name, text ? "text" : "binary",
          g_bytes_get_size (m->data), error ? error->message : "(no error)");
      g_ptr_array_add (sent, m);
    }
  }

  WAIT_UNTIL (f, end_inbox_length (to) >= sent->len, MESSAGE_TIMEOUT_MS);

  /* Assertions leave by longjmp: never make them holding a lock that
   * webrtcbin's threads take. */
  g_mutex_lock (&to->lock);
  received = to->inbox;
  g_queue_init (&to->inbox);
  g_mutex_unlock (&to->lock);

  fail_unless_equals_int (received.length, sent->len);
  for (guint i = 0; i < sent->len; i++) {
    const Message *want = g_ptr_array_index (sent, i);
    const Message *got = g_queue_peek_nth (&received, i);

    fail_unless (got->text == want->text, "%s: message %u is %s, sent as %s",
        to->name, i, got->text ? "text" : "binary",
        want->text ? "text" : "binary");
    fail_unless (g_bytes_equal (got->data, want->data),
        "%s: message %u (%" G_GSIZE_FORMAT " bytes sent) arrived as %"
        G_GSIZE_FORMAT " different bytes", to->name, i,
        g_bytes_get_size (want->data), g_bytes_get_size (got->data));
  }
  g_queue_clear_full (&received, message_free);

  g_ptr_array_unref (sent);
  g_rand_free (rand);
}

static void
check_messages (Fixture * f)
{
  GBytes *big = g_bytes_new_take (g_malloc0 (WEBRTCBIN_MAX_MESSAGE_SIZE + 1),
      WEBRTCBIN_MAX_MESSAGE_SIZE + 1);
  GError *error = NULL;

  exchange (f, &f->ends[OUR_OUT], &f->ends[WB_IN], 1);
  exchange (f, &f->ends[WB_IN], &f->ends[OUR_OUT], 2);
  exchange (f, &f->ends[WB_OUT], &f->ends[OUR_IN], 3);
  exchange (f, &f->ends[OUR_IN], &f->ends[WB_OUT], 4);

  /* Beyond what webrtcbin accepts: refused at once, like
   * RTCDataChannel.send() throws, and the channel stays usable. */
  fail_if (hangout_data_channel_send_bytes (f->ends[OUR_OUT].channel, big,
          &error));
  fail_unless (g_error_matches (error, HANGOUT_ERROR,
          HANGOUT_ERROR_MESSAGE_TOO_BIG), "oversize send: %s",
      error ? error->message : "no error");
  g_clear_error (&error);
  g_bytes_unref (big);
  exchange (f, &f->ends[OUR_OUT], &f->ends[WB_IN], 5);

  for (gint i = 0; i < N_ENDS; i++) {
    End *e = &f->ends[i];
    gchar *msg;

    g_mutex_lock (&e->lock);
    msg = g_strdup (e->error);
    g_mutex_unlock (&e->lock);
    fail_if (msg != NULL, "%s: %s", e->name, msg);
  }
}

/* ------------------------------------------------------------------------ */
/* Bulk                                                                     */

/* Test thread, from fixture_service. Sends while the sender's buffered
 * amount is below the window and then only after "buffered-amount-low":
 * when it stops the amount is at or above BULK_WINDOW, above the threshold,
 * so a correct stack must signal again. */
static void
bulk_pump (BulkSender * tx)
{
  End *e = tx->end;
  gboolean wake;

  g_mutex_lock (&e->lock);
  wake = e->wake;
  e->wake = FALSE;
  g_mutex_unlock (&e->lock);
  if (!wake)
    return;

  while (tx->sent < BULK_SIZE && end_buffered_amount (e) < BULK_WINDOW) {
    gsize len = MIN (BULK_MESSAGE_SIZE, BULK_SIZE - tx->sent);
    Message m = { FALSE, make_binary (len, tx->rand) };
    GError *error = NULL;

    g_checksum_update (tx->sum, g_bytes_get_data (m.data, NULL), len);
    fail_unless (end_send (e, &m, &error), "%s: bulk send at %"
        G_GUINT64_FORMAT ": %s", e->name, tx->sent,
        error ? error->message : "(no error)");
    g_bytes_unref (m.data);
    tx->sent += len;
  }
}

static void
check_bulk (Fixture * f, End * from, End * to)
{
  BulkSender tx = { from, 0, g_checksum_new (G_CHECKSUM_SHA256),
    g_rand_new_with_seed (BULK_SIZE)
  };
  gint64 start = g_get_monotonic_time ();
  gdouble secs;
  guint64 rx_bytes;
  guint rx_unexpected, low_count;
  gchar *rx_sum;

  GST_INFO ("bulk %s -> %s", from->name, to->name);
  g_mutex_lock (&to->lock);
  to->bulk = TRUE;
  to->rx_sum = g_checksum_new (G_CHECKSUM_SHA256);
  to->rx_bytes = 0;
  g_mutex_unlock (&to->lock);

  end_set_threshold (from, BULK_THRESHOLD);
  g_mutex_lock (&from->lock);
  from->wake = TRUE;
  from->low_count = 0;
  g_mutex_unlock (&from->lock);

  f->tx = &tx;
  WAIT_UNTIL (f, end_rx_bytes (to) >= BULK_SIZE, BULK_TIMEOUT_MS);
  f->tx = NULL;
  secs = (g_get_monotonic_time () - start) / 1e6;
  GST_INFO ("bulk %s -> %s: %.2f s, %.1f MB/s", from->name, to->name, secs,
      BULK_SIZE / secs / 1e6);

  /* Copied under the locks, asserted outside them (see exchange). */
  g_mutex_lock (&to->lock);
  to->bulk = FALSE;
  rx_bytes = to->rx_bytes;
  rx_unexpected = to->rx_unexpected;
  rx_sum = g_strdup (g_checksum_get_string (to->rx_sum));
  g_checksum_free (to->rx_sum);
  to->rx_sum = NULL;
  g_mutex_unlock (&to->lock);
  g_mutex_lock (&from->lock);
  low_count = from->low_count;
  g_mutex_unlock (&from->lock);
  GST_INFO ("%u buffered-amount-low signals", low_count);

  fail_unless_equals_uint64 (tx.sent, BULK_SIZE);
  fail_unless_equals_uint64 (rx_bytes, BULK_SIZE);
  fail_unless_equals_int (rx_unexpected, 0);
  fail_unless_equals_string (rx_sum, g_checksum_get_string (tx.sum));
  /* Flow control was exercised, not bypassed. */
  fail_unless (low_count > 0, "%s: no buffered-amount-low in %d bytes",
      from->name, BULK_SIZE);
  /* Everything arrived, so nothing can still be waiting in our queue. */
  if (from->ours)
    fail_unless_equals_uint64 (end_buffered_amount (from), 0);

  g_free (rx_sum);
  g_checksum_free (tx.sum);
  g_rand_free (tx.rand);
}

static void
check_close (Fixture * f)
{
  hangout_peer_connection_close (f->pc);
  fail_unless_equals_int (hangout_peer_connection_get_state (f->pc),
      HANGOUT_PEER_CONNECTION_STATE_CLOSED);
  /* Idempotent. */
  hangout_peer_connection_close (f->pc);
}

/* ------------------------------------------------------------------------ */

GST_START_TEST (test_our_offer)
{
  Fixture *f = fixture;

  negotiate_our_offer (f);
  check_messages (f);
  check_bulk (f, &f->ends[OUR_OUT], &f->ends[WB_IN]);
  check_bulk (f, &f->ends[WB_OUT], &f->ends[OUR_IN]);
  check_close (f);
  teardown ();
}

GST_END_TEST;

GST_START_TEST (test_their_offer)
{
  Fixture *f = fixture;

  negotiate_their_offer (f);
  check_messages (f);
  check_bulk (f, &f->ends[OUR_OUT], &f->ends[WB_IN]);
  check_bulk (f, &f->ends[WB_OUT], &f->ends[OUR_IN]);
  check_close (f);
  teardown ();
}

GST_END_TEST;

static Suite *
webrtcbin_interop_suite (void)
{
  Suite *s = suite_create ("webrtcbin-interop");
  TCase *tc = tcase_create ("general");

  GST_DEBUG_CATEGORY_INIT (interop_debug, "hangout-interop", 0,
      "libhangout against webrtcbin");

  /* Each test: connect (< 1 s on loopback), four message exchanges, and
   * 2 × 16 MiB, which take a few seconds on a loaded 2-core machine. */
  tcase_set_timeout (tc, 60);
  tcase_add_checked_fixture (tc, setup, teardown);
  suite_add_tcase (s, tc);
  tcase_add_test (tc, test_our_offer);
  tcase_add_test (tc, test_their_offer);
  return s;
}

GST_CHECK_MAIN (webrtcbin_interop);
