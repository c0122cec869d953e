/* gst-hangout — a room: one peer connection to every other member (a full
 * mesh), formed through a signaller.
 *
 * Threads. A started room owns one network thread running a GMainLoop on
 * its own GMainContext. The signaller, every peer connection and all their
 * signals live there, and so do the room's own signals. Public functions
 * called from other threads hop onto it with g_main_context_invoke() and
 * wait for the result; sending does not hop: data channel sends are
 * thread-safe, so send/broadcast only look the channel up under the room's
 * lock. The lock guards what other threads read: the member table, each
 * member's channel and connected flag, our id and the properties.
 *
 * Forming the mesh (docs/protocol.md §1.5). On "welcome" we offer to every
 * listed member we have no connection to; an existing member never offers
 * to a newcomer, it answers the newcomer's offer (no glare). Candidates
 * trickle as RTCIceCandidateInit payloads carrying "usernameFragment"; a
 * candidate whose ufrag is not the one of the description we hold is
 * dropped. Each pair has two negotiated data channels created on both sides
 * before the offer (no DCEP, so nothing can race with the first message):
 * id 0 "hangout" for the application, id 1 "hangout-control" for the room.
 * A member is "peer-connected" when its application channel is open.
 *
 * Losing the signalling server. A peer connection does not need the server
 * once it is up, so a lost WebSocket changes nothing for connected members.
 * The signaller reconnects with backoff and rejoins; the server gives us a
 * new id. What we do about that:
 *
 * - Who may change what. A message changes only its sender's own state:
 *   what arrives on a member's control channel (DTLS-authenticated, so
 *   from that member) concerns that member's connection; a signal concerns
 *   the signalling id the server stamped on it. Nothing is decided on a
 *   value other members have seen (ids, instance keys, fingerprints).
 * - A new id is proven with both. Right after a rejoin we draw a random
 *   token per connected peer and send it twice: on the peer's control
 *   channel with our new id ({"type":"id","id":NEW,"token":T}), and through
 *   the server ({"type":"id","token":T}, which the server stamps "from
 *   NEW"). The peer files its connection to us under NEW only when both
 *   agree: the channel proves it is us, the server's stamp that NEW is
 *   ours, and T (seen by nobody else) ties the two. A member claiming
 *   another member's id over its own channel gets nowhere, because no
 *   signal from that id carries its token. When a peer's claim reaches us
 *   before we know its new id, we send our own proof to the id it claims,
 *   so two members that both rejoined (a server restart) still meet.
 * - Every started room has a random instance key, carried in offers and
 *   answers ("instance", ignored by browsers) as a hint only. A rejoined
 *   member offers, as any newcomer, to the welcome's members it does not
 *   know by id. The receiver looks the instance up: if it has a
 *   *connected* peer with that key it does not answer but replies
 *   {"type":"connected","instance":K}, and the offerer drops its attempt;
 *   neither changes its existing connection, which the id proof above
 *   refiles. Forging someone's instance only costs the forger its own
 *   attempt.
 * - If the receiver claims a connection that we no longer have (its side has
 *   not noticed the failure yet), we send {"type":"close"} and offer again;
 *   the receiver drops the connection it holds for the sender's id, and
 *   answers. An answer whose instance matches another connected peer of
 *   ours only makes us check that peer with a ping (below).
 * - A member-left from the server means a member closed *or lost* its
 *   WebSocket. For a connected member we ping it on the control channel and
 *   drop it only without a pong within HANGOUT_ROOM_LIVENESS_TIMEOUT_MS; a
 *   member that stops closes its peer connections anyway (the SCTP ABORT
 *   reaches us at once), so this wait matters only for crashed members.
 *   Members still connecting are dropped at once.
 *
 * So a member's public id is the first signalling id we knew it by, and
 * stays while its connection lives; the room's own "id" property is the
 * current one.
 *
 * The room secret (docs/protocol.md §3). Everything above trusts the
 * server with the fingerprints in the descriptions it relays: one that
 * swaps them sits in the middle of every pair. With a secret, each side
 * sends, as soon as both channels are open, an HMAC under the room key of
 * both fingerprints (its own, and the one DTLS verified) and both ids as
 * they were when the connection was set up (auth.c). A member in the
 * middle has other fingerprints on each leg and cannot make the proof
 * without the secret. Until the proof checks out the member is not
 * "connected": it is not "peer-connected", sends to it fail, and what it
 * sends is held, not handed out, so nothing from an unproven member
 * reaches the application; a wrong proof, or none within
 * HANGOUT_AUTH_TIMEOUT_MS, closes the connection with "member-refused".
 * Every pair also gets a short authentication string from its two
 * fingerprints, for people without a secret to compare.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#include <hangout/room.h>
#include <hangout/signalling.h>
#include <hangout/peer.h>
#include <hangout/sdp.h>
#include <hangout/auth.h>

#include <gnutls/crypto.h>
#include <hangout/json.h>
#include <hangout/transfer2.h>
#include <string.h>
#include "debug-private.h"
#include "source-private.h"

#define GST_CAT_DEFAULT hangout_debug_room

/* How long stop waits for cancelled operations and closing connections. */
#define DRAIN_TIMEOUT_MS 3000
/* How long a stopping room waits for each peer to acknowledge its SHUTDOWN
 * before it aborts the connection (within DRAIN_TIMEOUT_MS): what is
 * queued then is a receiver's last ack, a few round trips at most. */
#define CLOSE_TIMEOUT_MS 1000

/* What an unproven member may send before its proof is checked: an honest
 * one sends nothing on its channel before it has checked ours, and then
 * at most what a sink keeps in flight (1 MiB above SCTP's 1 MiB) may
 * overtake its proof, which travels on another stream. */
#define HELD_MAX_BYTES (4 * 1024 * 1024)

typedef struct _Member Member;

struct _HangoutRoom {
  GObject parent;

  GMutex lock;
  gchar *room_name;
  gchar *name;
  gchar *server;
  gchar *stun_server;
  gchar *turn_server;
  gboolean relay_only;
  gchar *secret;
  GTlsDatabase *tls_database;
  gboolean ssl_strict;
  gchar *own_id;
  GHashTable *members;          /* public id → Member (owned) */

  /* start/stop and the cross-thread calls */
  GMutex control_lock;
  GMutex call_lock;
  GCond call_cond;
  GThread *thread;
  GMainContext *context;
  GMainLoop *loop;
  gint *alive;                  /* objects the drain waits for (rc box) */

  /* How the signaller is made (set before start), or NULL: WebSocket. */
  HangoutSignallerFactory signaller_factory;
  gpointer signaller_data;
  GDestroyNotify signaller_destroy;

  /* network thread only */
  HangoutSignaller *signaller;
  GError *signaller_error;      /* its last "error", network thread */
  gchar *instance;
  GHashTable *by_signal;        /* signalling id → Member (not owned) */
  GHashTable *names;            /* signalling id → name */
  GHashTable *proofs;           /* signalling id → id token it signalled */
  gchar *start_room, *start_name, *start_server, *start_stun, *start_turn;
  gboolean start_relay_only;
  GTlsDatabase *start_tls_database;
  gboolean start_ssl_strict;
  GPtrArray *ice_servers;       /* HangoutIceServer: the last welcome's */
  gboolean has_secret;
  guint8 key[HANGOUT_AUTH_KEY_SIZE];    /* the room key, with a secret */
  guint transfer_versions;      /* ours, HANGOUT_ROOM_TRANSFER_V (lock) */
};

struct _Member {
  HangoutRoom *room;
  gchar *id;                    /* public: the first signalling id */
  gchar *signal_id;             /* current signalling id */
  gchar *name;
  gchar *instance;              /* the peer's instance key, if known */
  gchar *local_ufrag;
  gchar *remote_ufrag;
  gboolean offerer;
  gboolean answered;            /* offerer: the answer was set */
  gboolean announced;           /* "member-joined" was emitted */
  gboolean connected;           /* the application channel is open */
  HangoutPeerConnection *pc;
  HangoutDataChannel *channel;
  HangoutDataChannel *control;
  GSource *ping_timeout;
  gboolean paused;              /* the application stopped reading from it */
  gchar *token;                 /* ours for it, since our last rejoin */
  gchar *claim_id;              /* the new id it claimed on its channel */
  gchar *claim_token;           /* ... and the token that proves it */
  gchar *own_id;                /* our signalling id when it was set up */
  gchar *fp_self, *fp_peer;     /* both fingerprints, once DTLS checked */
  gchar *sas;                   /* from both fingerprints (lock) */
  gchar *failure;               /* why its connection failed, for member-left */
  gboolean auth_started;        /* both channels open: proofs exchanged */
  gboolean verified;            /* its room secret proof checked out */
  const gchar *refusal;         /* why it is being refused, or NULL */
  GSource *auth_timeout;        /* its proof's deadline, or the refusal */
  GQueue held;                  /* HeldMessage, until it is verified */
  gsize held_bytes;
  GQueue replies;               /* Reply, still in the channel's buffer */
  gsize reply_bytes;
  guint transfer_versions;      /* its capabilities; 0 until known (lock) */
  GSource *capabilities_wait;   /* how long we wait for them */
};

typedef struct {
  gboolean is_string;
  GBytes *data;
} HeldMessage;

G_DEFINE_FINAL_TYPE (HangoutRoom, hangout_room, G_TYPE_OBJECT)

enum {
  PROP_0,
  PROP_ROOM,
  PROP_NAME,
  PROP_SERVER,
  PROP_STUN_SERVER,
  PROP_TURN_SERVER,
  PROP_RELAY_ONLY,
  PROP_SECRET,
  PROP_TLS_DATABASE,
  PROP_SSL_STRICT,
  PROP_ID,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

enum {
  SIGNAL_MEMBER_JOINED,
  SIGNAL_MEMBER_LEFT,
  SIGNAL_MEMBER_REFUSED,
  SIGNAL_PEER_CONNECTED,
  SIGNAL_MESSAGE,
  SIGNAL_ERROR,
  SIGNAL_FAILED,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

/* ---- small helpers ---- */

static gchar *
ufrag_of (const gchar *sdp, HangoutSdpType type)
{
  g_autoptr (HangoutSdpDescription) desc = hangout_sdp_description_parse (sdp,
      type, NULL);

  return desc != NULL ? g_strdup (desc->ice_ufrag) : NULL;
}

/* Objects whose end the drain in the network thread waits for. The counter
 * is a refcounted box: a weak-ref callback may outlive the room. */
static void
untrack (gpointer data, GObject *gone)
{
  gint *alive = data;

  g_atomic_int_dec_and_test (alive);
  g_atomic_rc_box_release (alive);
}

static void
track (HangoutRoom *room, gpointer object)
{
  g_atomic_int_inc (room->alive);
  g_object_weak_ref (object, untrack, g_atomic_rc_box_acquire (room->alive));
}

/* ---- members ---- */

static void
held_message_free (HeldMessage *held)
{
  g_bytes_unref (held->data);
  g_free (held);
}

/* A reply (hangout_room_send_reply()) not known to have left the
 * channel's buffer: it has once the channel's drained bytes reach @end. */
typedef struct {
  guint64 end;
  gsize len;
} Reply;

static void
member_free (Member *m)
{
  hangout_clear_source (&m->ping_timeout);
  hangout_clear_source (&m->auth_timeout);
  hangout_clear_source (&m->capabilities_wait);
  g_queue_clear_full (&m->held, (GDestroyNotify) held_message_free);
  g_queue_clear_full (&m->replies, g_free);
  if (m->channel != NULL)
    g_signal_handlers_disconnect_by_data (m->channel, m);
  if (m->control != NULL)
    g_signal_handlers_disconnect_by_data (m->control, m);
  if (m->pc != NULL) {
    g_signal_handlers_disconnect_by_data (m->pc, m);
    hangout_peer_connection_close (m->pc);
  }
  g_clear_object (&m->channel);
  g_clear_object (&m->control);
  g_clear_object (&m->pc);
  g_free (m->id);
  g_free (m->signal_id);
  g_free (m->name);
  g_free (m->instance);
  g_free (m->local_ufrag);
  g_free (m->remote_ufrag);
  g_free (m->token);
  g_free (m->claim_id);
  g_free (m->claim_token);
  g_free (m->own_id);
  g_free (m->fp_self);
  g_free (m->fp_peer);
  g_free (m->sas);
  g_free (m->failure);
  g_free (m);
}

/* Forgets @m; "member-left" if it was announced and @emit. */
static void
remove_member (HangoutRoom *room, Member *m, gboolean emit)
{
  if (g_hash_table_lookup (room->by_signal, m->signal_id) == m)
    g_hash_table_remove (room->by_signal, m->signal_id);
  g_mutex_lock (&room->lock);
  g_hash_table_steal (room->members, m->id);
  m->connected = FALSE;
  g_mutex_unlock (&room->lock);
  GST_DEBUG ("room %s: member %s (%s) removed", room->start_room, m->id,
      m->name);
  if (emit && m->announced)
    g_signal_emit (room, signals[SIGNAL_MEMBER_LEFT], 0, m->id, m->failure);
  member_free (m);
}

/* Reads from @m unless the application asked not to; but always while a
 * ping waits for its answer, which would otherwise stay unread. */
static void
apply_receiving (Member *m)
{
  if (m->pc != NULL)
    hangout_peer_connection_set_receiving (m->pc, !m->paused
        || m->ping_timeout != NULL);
}

static void
announce (HangoutRoom *room, Member *m)
{
  if (m->announced)
    return;
  m->announced = TRUE;
  g_signal_emit (room, signals[SIGNAL_MEMBER_JOINED], 0, m->id, m->name);
}

/* Files @m under the signalling id @signal_id, proven to be its (see the
 * top of the file). An attempt of ours still connecting under that id is
 * an attempt to @m itself, and goes; a connected member under it would
 * mean the server stamps one id on two members: then nothing changes. */
static void
remap (HangoutRoom *room, Member *m, const gchar *signal_id)
{
  Member *other;

  if (g_strcmp0 (m->signal_id, signal_id) == 0)
    return;
  other = g_hash_table_lookup (room->by_signal, signal_id);
  if (other != NULL && other->connected) {
    GST_WARNING ("room %s: %s proved the id %s, which connected member %s "
        "holds: ignored", room->start_room, m->id, signal_id, other->id);
    return;
  }
  if (other != NULL)
    remove_member (room, other, TRUE);
  if (g_hash_table_lookup (room->by_signal, m->signal_id) == m)
    g_hash_table_remove (room->by_signal, m->signal_id);
  GST_DEBUG ("room %s: member %s is now known as %s", room->start_room, m->id,
      signal_id);
  g_free (m->signal_id);
  m->signal_id = g_strdup (signal_id);
  g_hash_table_insert (room->by_signal, m->signal_id, m);
}

/* Both channels opened: the pair is up, although the application may not
 * use it yet (a room secret's proof, the capabilities still to come); it
 * is kept across rejoins and asked whether it is alive like a connected
 * one. */
static gboolean
is_up (Member *m)
{
  return m->auth_started;
}

static Member *
find_instance_pair (HangoutRoom *room, const gchar *instance)
{
  GHashTableIter iter;
  Member *m;

  if (instance == NULL)
    return NULL;
  g_hash_table_iter_init (&iter, room->members);
  while (g_hash_table_iter_next (&iter, NULL, (gpointer *) & m)) {
    if (is_up (m) && g_strcmp0 (m->instance, instance) == 0)
      return m;
  }
  return NULL;
}

static void
send_payload (HangoutRoom *room, const gchar *to, JsonObject *payload)
{
  g_autoptr (GError) error = NULL;

  if (room->signaller == NULL
      || !hangout_signaller_send (room->signaller, to, payload, &error))
    GST_DEBUG ("room %s: cannot signal %s: %s", room->start_room, to,
        error ? error->message : "stopped");
}

static void
send_description (HangoutRoom *room, Member *m, const gchar *type,
    const gchar *sdp)
{
  g_autoptr (JsonObject) payload = json_object_new ();

  json_object_set_string_member (payload, "type", type);
  json_object_set_string_member (payload, "sdp", sdp);
  json_object_set_string_member (payload, "instance", room->instance);
  send_payload (room, m->signal_id, payload);
}

/* Sends {"type":TYPE, KEY:VALUE...} (string members, NULL-terminated
 * pairs) on @m's control channel. */
static void
send_control (Member *m, const gchar *type, ...) G_GNUC_NULL_TERMINATED;

static void
send_control (Member *m, const gchar *type, ...)
{
  g_autoptr (JsonObject) msg = json_object_new ();
  g_autoptr (JsonNode) node = json_node_new (JSON_NODE_OBJECT);
  g_autofree gchar *text = NULL;
  g_autoptr (GError) error = NULL;
  const gchar *key;
  va_list args;

  json_object_set_string_member (msg, "type", type);
  va_start (args, type);
  while ((key = va_arg (args, const gchar *)) != NULL)
    json_object_set_string_member (msg, key, va_arg (args, const gchar *));
  va_end (args);
  json_node_set_object (node, msg);
  text = json_to_string (node, FALSE);
  if (!hangout_data_channel_send_string (m->control, text, &error))
    GST_DEBUG ("control message to %s: %s", m->id, error->message);
}

/* 128 random bits as 32 hex digits, unguessable (GnuTLS's generator). */
static gchar *
random_token (void)
{
  guint8 bytes[16];
  gchar *hex = g_new (gchar, 2 * sizeof bytes + 1);

  if (gnutls_rnd (GNUTLS_RND_NONCE, bytes, sizeof bytes) < 0)
    g_error ("GnuTLS has no random numbers");
  for (gsize i = 0; i < sizeof bytes; i++)
    g_snprintf (hex + 2 * i, 3, "%02x", bytes[i]);
  return hex;
}

/* Our half of an id proof: {"type":"id","token":T} through the server, to
 * every id that may be @m's. */
static void
send_id_proof (HangoutRoom *room, Member *m)
{
  g_autoptr (JsonObject) payload = json_object_new ();

  json_object_set_string_member (payload, "type", "id");
  json_object_set_string_member (payload, "token", m->token);
  send_payload (room, m->signal_id, payload);
  if (m->claim_id != NULL && g_strcmp0 (m->claim_id, m->signal_id) != 0)
    send_payload (room, m->claim_id, payload);
}

/* Refiles @m under the id it claimed once the server relayed the matching
 * token from that id. */
static void
try_confirm (HangoutRoom *room, Member *m)
{
  const gchar *proof;
  g_autofree gchar *id = NULL;

  if (m->claim_id == NULL)
    return;
  proof = g_hash_table_lookup (room->proofs, m->claim_id);
  if (proof == NULL || g_strcmp0 (proof, m->claim_token) != 0)
    return;
  id = g_steal_pointer (&m->claim_id);
  g_clear_pointer (&m->claim_token, g_free);
  g_hash_table_remove (room->proofs, id);
  remap (room, m, id);
}

/* -- peer connection and channel callbacks (network thread) -- */

static void
on_ice_candidate (HangoutPeerConnection *pc, const gchar *candidate,
    Member *m)
{
  g_autoptr (JsonObject) payload = json_object_new ();

  json_object_set_string_member (payload, "candidate",
      candidate != NULL ? candidate : "");
  json_object_set_string_member (payload, "sdpMid", "0");
  json_object_set_int_member (payload, "sdpMLineIndex", 0);
  if (m->local_ufrag != NULL)
    json_object_set_string_member (payload, "usernameFragment",
        m->local_ufrag);
  send_payload (m->room, m->signal_id, payload);
}

static void
emit_refused (HangoutRoom *room, Member *m)
{
  GST_INFO ("room %s: member %s (%s) refused: %s", room->start_room, m->id,
      m->name, m->refusal);
  g_signal_emit (room, signals[SIGNAL_MEMBER_REFUSED], 0, m->id, m->name,
      m->refusal);
}

static void
on_pc_state (HangoutPeerConnection *pc, HangoutPeerConnectionState state,
    Member *m)
{
  const GError *error;

  if (state != HANGOUT_PEER_CONNECTION_STATE_FAILED
      && state != HANGOUT_PEER_CONNECTION_STATE_CLOSED)
    return;
  error = hangout_peer_connection_get_error (pc);
  GST_DEBUG ("room %s: connection to %s %s: %s", m->room->start_room, m->id,
      state == HANGOUT_PEER_CONNECTION_STATE_FAILED ? "failed" : "closed",
      error ? error->message : "");
  /* Two members with different secrets refuse each other at once: the
   * other's close may come before our refusal's idle. */
  if (m->refusal != NULL)
    emit_refused (m->room, m);
  if (state == HANGOUT_PEER_CONNECTION_STATE_FAILED && error != NULL)
    m->failure = g_strdup (error->message);
  remove_member (m->room, m, TRUE);
}

static gboolean
is_open (HangoutDataChannel *channel)
{
  return hangout_data_channel_get_ready_state (channel)
      == HANGOUT_DATA_CHANNEL_STATE_OPEN;
}

/* The member is "connected" once its application channel is open and,
 * with a secret, its proof checked out; then what it sent meanwhile is
 * handed out, in order. */
static void
try_connect (HangoutRoom *room, Member *m)
{
  HeldMessage *held;

  if (m->connected || !is_open (m->channel)
      || (room->has_secret && !m->verified) || m->transfer_versions == 0)
    return;
  g_mutex_lock (&room->lock);
  m->connected = TRUE;
  g_mutex_unlock (&room->lock);
  announce (room, m);
  g_signal_emit (room, signals[SIGNAL_PEER_CONNECTED], 0, m->id);
  while ((held = g_queue_pop_head (&m->held)) != NULL) {
    g_signal_emit (room, signals[SIGNAL_MESSAGE], 0, m->id, held->is_string,
        held->data);
    held_message_free (held);
  }
  m->held_bytes = 0;
}

static gboolean
on_refusal (gpointer data)
{
  Member *m = data;

  g_clear_pointer (&m->auth_timeout, g_source_unref);
  if (m->refusal == NULL)
    m->refusal = HANGOUT_ROOM_REFUSED_NO_PROOF;
  emit_refused (m->room, m);
  remove_member (m->room, m, TRUE);
  return G_SOURCE_REMOVE;
}

/* Refuses @m from an idle: we are inside one of its channels' signals,
 * and refusing closes its connection. */
static void
refuse (HangoutRoom *room, Member *m, const gchar *reason)
{
  if (m->refusal != NULL)
    return;
  m->refusal = reason;
  hangout_clear_source (&m->auth_timeout);
  m->auth_timeout = g_idle_source_new ();
  g_source_set_callback (m->auth_timeout, on_refusal, m, NULL);
  g_source_attach (m->auth_timeout, room->context);
}

/* Both fingerprints, from the moment DTLS has checked the peer's; the
 * pair's short authentication string with them. FALSE before. */
static gboolean
get_fingerprints (HangoutRoom *room, Member *m)
{
  if (m->fp_peer != NULL)
    return TRUE;
  m->fp_peer = hangout_peer_connection_dup_remote_fingerprint (m->pc);
  if (m->fp_peer == NULL)
    return FALSE;
  m->fp_self = hangout_peer_connection_dup_local_fingerprint (m->pc);
  g_mutex_lock (&room->lock);
  m->sas = hangout_auth_sas (m->fp_self, m->fp_peer);
  g_mutex_unlock (&room->lock);
  return TRUE;
}

/* {"type":"capabilities","transfer":[1,...]}: the transfer versions we
 * read and send (docs/protocol.md §4.1), none when we send none. */
static void
send_capabilities (HangoutRoom *room, Member *m)
{
  g_autofree gchar *text = NULL;
  g_autoptr (GError) error = NULL;
  guint ours;

  g_mutex_lock (&room->lock);
  ours = room->transfer_versions;
  g_mutex_unlock (&room->lock);
  if (ours == 0)
    return;
  text = hangout_transfer2_build_capabilities (ours);
  if (!hangout_data_channel_send_string (m->control, text, &error))
    GST_DEBUG ("capabilities to %s: %s", m->id, error->message);
}

/* What @m reads and sends of the transfer protocol, from now on. */
static void
set_transfer_versions (Member *m, guint versions)
{
  g_mutex_lock (&m->room->lock);
  m->transfer_versions = versions;
  g_mutex_unlock (&m->room->lock);
  hangout_clear_source (&m->capabilities_wait);
}

/* No capabilities in time: a version 1 member, which sends none. */
static gboolean
on_capabilities_wait (gpointer data)
{
  Member *m = data;

  g_clear_pointer (&m->capabilities_wait, g_source_unref);
  GST_DEBUG ("room %s: no capabilities from %s within %d ms: version 1",
      m->room->start_room, m->id, HANGOUT_ROOM_CAPABILITIES_WAIT_MS);
  set_transfer_versions (m, HANGOUT_ROOM_TRANSFER_V (1));
  try_connect (m->room, m);
  return G_SOURCE_REMOVE;
}

/* {"type":"capabilities","transfer":[...]} (@text): positive integers,
 * those we do not know skipped; a malformed one is ignored (§2.2), and so
 * is one that lists no version we know. */
static void
handle_capabilities (HangoutRoom *room, Member *m, const gchar *text)
{
  HangoutTransfer2Control control;
  g_autoptr (GError) error = NULL;
  guint versions;

  if (!hangout_transfer2_parse_control (text, strlen (text), &control,
          &error)) {
    GST_INFO ("room %s: capabilities from %s ignored: %s", room->start_room,
        m->id, error->message);
    return;
  }
  versions = control.versions;
  hangout_transfer2_control_clear (&control);
  if (versions == 0) {
    GST_INFO ("room %s: capabilities from %s list no version we know: "
        "ignored", room->start_room, m->id);
    return;
  }
  GST_DEBUG ("room %s: %s speaks transfer versions 0x%x", room->start_room,
      m->id, versions);
  set_transfer_versions (m, versions);
  try_connect (room, m);
}

/* Once both channels are open: our proof, and the deadline for the
 * member's. */
static void
on_channel_open (HangoutDataChannel *channel, Member *m)
{
  HangoutRoom *room = m->room;
  g_autofree gchar *proof = NULL;

  if (m->auth_started || !is_open (m->channel) || !is_open (m->control))
    return;
  m->auth_started = TRUE;
  send_capabilities (room, m);
  if (m->transfer_versions == 0 && m->capabilities_wait == NULL) {
    m->capabilities_wait =
        g_timeout_source_new (HANGOUT_ROOM_CAPABILITIES_WAIT_MS);
    g_source_set_callback (m->capabilities_wait, on_capabilities_wait, m,
        NULL);
    g_source_attach (m->capabilities_wait, room->context);
  }
  if (!get_fingerprints (room, m)) {
    /* Cannot happen (SCTP runs over the checked DTLS); without them there
     * is no proof to send, and the deadline below refuses the member. */
    GST_WARNING ("room %s: channels to %s open before DTLS checked its "
        "certificate", room->start_room, m->id);
  } else if (room->has_secret) {
    proof = hangout_auth_build_proof (room->key, m->fp_self, m->fp_peer,
        m->own_id, m->id);
    send_control (m, "auth", "proof", proof, NULL);
  }
  if (room->has_secret && !m->verified && m->refusal == NULL) {
    m->auth_timeout = g_timeout_source_new (HANGOUT_AUTH_TIMEOUT_MS);
    g_source_set_callback (m->auth_timeout, on_refusal, m, NULL);
    g_source_attach (m->auth_timeout, room->context);
  }
  try_connect (room, m);
}

/* Its proof, {"type":"auth","proof":P}: checked with the roles swapped. */
static void
handle_auth (HangoutRoom *room, Member *m, JsonObject *msg)
{
  const gchar *proof = hangout_json_get_string (msg, "proof");

  if (!room->has_secret || m->verified || m->refusal != NULL) {
    GST_DEBUG ("room %s: room secret proof from %s ignored (%s)",
        room->start_room, m->id, !room->has_secret ? "we have no secret"
        : m->verified ? "already verified" : "being refused");
    return;
  }
  if (!get_fingerprints (room, m)
      || !hangout_auth_verify_proof (room->key, proof, m->fp_peer, m->fp_self,
          m->id, m->own_id)) {
    refuse (room, m, HANGOUT_ROOM_REFUSED_WRONG_PROOF);
    return;
  }
  GST_DEBUG ("room %s: %s proved the room secret", room->start_room, m->id);
  m->verified = TRUE;
  hangout_clear_source (&m->auth_timeout);
  try_connect (room, m);
}

static void
deliver (Member *m, gboolean is_string, GBytes *data)
{
  HeldMessage *held;

  /* Application data before capabilities: a version 1 member, which
   * sends none (a version 2 one sends them before anything else). */
  if (m->transfer_versions == 0) {
    GST_DEBUG ("room %s: data from %s before its capabilities: version 1",
        m->room->start_room, m->id);
    set_transfer_versions (m, HANGOUT_ROOM_TRANSFER_V (1));
    try_connect (m->room, m);
  }
  if (m->connected) {
    g_signal_emit (m->room, signals[SIGNAL_MESSAGE], 0, m->id, is_string,
        data);
    return;
  }
  if (m->refusal != NULL)
    return;
  /* More than an honest member can have sent: dropping some would break
   * its files, so it goes (the page does the same). */
  if (m->held_bytes + g_bytes_get_size (data) > HELD_MAX_BYTES) {
    refuse (m->room, m, HANGOUT_ROOM_REFUSED_TOO_MUCH);
    return;
  }
  held = g_new (HeldMessage, 1);
  held->is_string = is_string;
  held->data = g_bytes_ref (data);
  g_queue_push_tail (&m->held, held);
  m->held_bytes += g_bytes_get_size (data);
}

static void
on_message_string (HangoutDataChannel *channel, const gchar *text, Member *m)
{
  g_autoptr (GBytes) bytes = g_bytes_new (text, strlen (text));

  deliver (m, TRUE, bytes);
}

static void
on_message_data (HangoutDataChannel *channel, GBytes *data, Member *m)
{
  deliver (m, FALSE, data);
}

static gboolean
on_ping_timeout (gpointer data)
{
  Member *m = data;

  g_clear_pointer (&m->ping_timeout, g_source_unref);
  GST_DEBUG ("room %s: %s left the server and does not answer: dropped",
      m->room->start_room, m->id);
  m->failure = g_strdup_printf ("it left the signalling server and did not "
      "answer a ping within %d ms", HANGOUT_ROOM_LIVENESS_TIMEOUT_MS);
  remove_member (m->room, m, TRUE);
  return G_SOURCE_REMOVE;
}

/* Control messages are a few dozen bytes; this leaves room for later ones. */
#define MAX_CONTROL_MESSAGE 4096

static void
on_control_message (HangoutDataChannel *channel, const gchar *text, Member *m)
{
  HangoutRoom *room = m->room;
  g_autoptr (JsonObject) msg = NULL;
  g_autoptr (GError) error = NULL;
  const gchar *type;

  msg = hangout_json_parse_object (text, strlen (text), MAX_CONTROL_MESSAGE,
      &error);
  if (msg == NULL) {
    GST_INFO ("room %s: control message from %s ignored: %s",
        room->start_room, m->id, error->message);
    return;
  }
  type = hangout_json_get_string (msg, "type");
  if (g_strcmp0 (type, "auth") == 0) {
    handle_auth (room, m, msg);
  } else if (g_strcmp0 (type, "capabilities") == 0) {
    handle_capabilities (room, m, text);
  } else if (g_strcmp0 (type, "ping") == 0) {
    send_control (m, "pong", NULL);
  } else if (g_strcmp0 (type, "pong") == 0) {
    hangout_clear_source (&m->ping_timeout);
    apply_receiving (m);
  } else if (g_strcmp0 (type, "id") == 0) {
    const gchar *id = hangout_json_get_string (msg, "id");
    const gchar *token = hangout_json_get_string (msg, "token");

    /* Its claim to a new id, to be proven through the server. */
    if (id == NULL || token == NULL) {
      GST_INFO ("room %s: id claim from %s without id or token: ignored",
          room->start_room, m->id);
      return;
    }
    g_free (m->claim_id);
    g_free (m->claim_token);
    m->claim_id = g_strdup (id);
    m->claim_token = g_strdup (token);
    if (m->token != NULL)
      send_id_proof (room, m);
    try_confirm (room, m);
  }
}

static Member *
member_new (HangoutRoom *room, const gchar *signal_id, gboolean offerer,
    GError **error)
{
  HangoutDataChannelOptions options = HANGOUT_DATA_CHANNEL_OPTIONS_INIT;
  Member *m = g_new0 (Member, 1);
  const gchar *name = g_hash_table_lookup (room->names, signal_id);

  m->room = room;
  m->id = g_strdup (signal_id);
  m->signal_id = g_strdup (signal_id);
  m->name = g_strdup (name != NULL ? name : "");
  m->offerer = offerer;
  m->own_id = g_strdup (room->own_id != NULL ? room->own_id : "");
  m->pc = hangout_peer_connection_new (room->context);
  track (room, m->pc);
  g_object_set (m->pc, "stun-server", room->start_stun, "turn-server",
      room->start_turn, "ice-servers", room->ice_servers, "relay-only",
      room->start_relay_only, NULL);
  options.negotiated = TRUE;
  options.id = HANGOUT_ROOM_CHANNEL_ID;
  m->channel = hangout_peer_connection_create_data_channel (m->pc,
      HANGOUT_ROOM_CHANNEL_LABEL, &options, error);
  options.id = HANGOUT_ROOM_CONTROL_ID;
  if (m->channel != NULL)
    m->control = hangout_peer_connection_create_data_channel (m->pc,
        HANGOUT_ROOM_CONTROL_LABEL, &options, error);
  if (m->control == NULL) {
    member_free (m);
    return NULL;
  }
  g_signal_connect (m->pc, "ice-candidate", G_CALLBACK (on_ice_candidate), m);
  g_signal_connect (m->pc, "state-changed", G_CALLBACK (on_pc_state), m);
  g_signal_connect (m->channel, "open", G_CALLBACK (on_channel_open), m);
  g_signal_connect (m->control, "open", G_CALLBACK (on_channel_open), m);
  g_signal_connect (m->channel, "message-string",
      G_CALLBACK (on_message_string), m);
  g_signal_connect (m->channel, "message-data", G_CALLBACK (on_message_data),
      m);
  g_signal_connect (m->control, "message-string",
      G_CALLBACK (on_control_message), m);

  g_mutex_lock (&room->lock);
  g_hash_table_insert (room->members, m->id, m);
  g_mutex_unlock (&room->lock);
  g_hash_table_insert (room->by_signal, m->signal_id, m);
  return m;
}

/* -- signaller callbacks (network thread) -- */

static void
offer_to (HangoutRoom *room, const gchar *signal_id)
{
  g_autoptr (GError) error = NULL;
  g_autofree gchar *offer = NULL;
  Member *m = member_new (room, signal_id, TRUE, &error);

  if (m != NULL)
    offer = hangout_peer_connection_create_offer (m->pc, &error);
  if (offer == NULL) {
    GST_WARNING ("room %s: cannot offer to %s: %s", room->start_room, signal_id,
        error->message);
    if (m != NULL)
      remove_member (room, m, FALSE);
    return;
  }
  m->local_ufrag = ufrag_of (offer, HANGOUT_SDP_OFFER);
  send_description (room, m, "offer", offer);
}

static void
on_welcome (HangoutSignaller *signaller, const gchar *own_id,
    GPtrArray *members, GPtrArray *ice_servers, HangoutRoom *room)
{
  GHashTableIter iter;
  Member *m;

  /* For the connections from now on; those that exist keep theirs. A
   * welcome's TURN credentials expire: each rejoin brings fresh ones. */
  g_clear_pointer (&room->ice_servers, g_ptr_array_unref);
  room->ice_servers = g_ptr_array_ref (ice_servers);

  g_mutex_lock (&room->lock);
  g_free (room->own_id);
  room->own_id = g_strdup (own_id);
  g_mutex_unlock (&room->lock);
  g_object_notify_by_pspec (G_OBJECT (room), properties[PROP_ID]);
  GST_DEBUG ("room %s: joined as %s (%s), %u others", room->start_room, own_id,
      room->start_name, members->len);

  /* After a rejoin: prove our new id to the peers we still have. */
  g_hash_table_iter_init (&iter, room->members);
  while (g_hash_table_iter_next (&iter, NULL, (gpointer *) & m)) {
    if (!is_up (m))
      continue;
    g_free (m->token);
    m->token = random_token ();
    send_control (m, "id", "id", own_id, "token", m->token, NULL);
    send_id_proof (room, m);
  }
  for (guint i = 0; i < members->len; i++) {
    HangoutSignallerMember *member = members->pdata[i];

    g_hash_table_insert (room->names, g_strdup (member->id),
        g_strdup (member->name));
    if (!g_hash_table_contains (room->by_signal, member->id))
      offer_to (room, member->id);
  }
}

static void
on_member_joined (HangoutSignaller *signaller, const gchar *id,
    const gchar *name, HangoutRoom *room)
{
  /* The newcomer offers; we only remember its name. */
  g_hash_table_insert (room->names, g_strdup (id), g_strdup (name));
}

/* Pings connected @m on its control channel; without a pong in time it is
 * dropped. */
static void
check_alive (HangoutRoom *room, Member *m)
{
  if (m->ping_timeout != NULL)
    return;
  m->ping_timeout = g_timeout_source_new (HANGOUT_ROOM_LIVENESS_TIMEOUT_MS);
  g_source_set_callback (m->ping_timeout, on_ping_timeout, m, NULL);
  g_source_attach (m->ping_timeout, room->context);
  apply_receiving (m);
  send_control (m, "ping", NULL);
}

static void
on_member_left (HangoutSignaller *signaller, const gchar *id,
    HangoutRoom *room)
{
  Member *m = g_hash_table_lookup (room->by_signal, id);

  g_hash_table_remove (room->names, id);
  g_hash_table_remove (room->proofs, id);
  if (m == NULL)
    return;
  if (!is_up (m)) {
    remove_member (room, m, TRUE);
    return;
  }
  /* Left the server, or only lost its WebSocket? Ask it. */
  check_alive (room, m);
}

static void
handle_offer (HangoutRoom *room, const gchar *from, JsonObject *payload)
{
  const gchar *sdp = hangout_json_get_string (payload, "sdp");
  const gchar *instance = hangout_json_get_string (payload, "instance");
  g_autoptr (GError) error = NULL;
  g_autofree gchar *answer = NULL;
  Member *existing, *m;

  if (sdp == NULL) {
    GST_WARNING ("room %s: offer from %s without sdp: ignored",
        room->start_room, from);
    return;
  }
  existing = find_instance_pair (room, instance);
  if (existing != NULL) {
    g_autoptr (JsonObject) reply = json_object_new ();

    /* A peer we are connected to, rejoined under a new id (or someone
     * using its key): no answer. Its id proof refiles the connection. */
    GST_DEBUG ("room %s: offer from %s with the instance of connected %s: "
        "not answered", room->start_room, from, existing->id);
    json_object_set_string_member (reply, "type", "connected");
    json_object_set_string_member (reply, "instance", room->instance);
    send_payload (room, from, reply);
    return;
  }
  existing = g_hash_table_lookup (room->by_signal, from);
  if (existing != NULL) {
    g_autofree gchar *own_id = hangout_room_dup_id (room);

    /* Glare cannot happen by the protocol; if it does anyway, the offer
     * from the lower id wins. */
    if (existing->offerer && !existing->answered
        && g_strcmp0 (own_id, from) < 0) {
      GST_WARNING ("room %s: %s offered to us while we offered to it: "
          "ignored", room->start_room, from);
      return;
    }
    remove_member (room, existing, TRUE);
  }

  m = member_new (room, from, FALSE, &error);
  if (m == NULL
      || !hangout_peer_connection_set_remote_description (m->pc,
          HANGOUT_SDP_OFFER, sdp, &error)
      || (answer = hangout_peer_connection_create_answer (m->pc,
              &error)) == NULL) {
    GST_WARNING ("room %s: cannot answer %s: %s", room->start_room, from,
        error->message);
    if (m != NULL)
      remove_member (room, m, FALSE);
    return;
  }
  m->instance = g_strdup (instance);
  m->remote_ufrag = ufrag_of (sdp, HANGOUT_SDP_OFFER);
  m->local_ufrag = ufrag_of (answer, HANGOUT_SDP_ANSWER);
  send_description (room, m, "answer", answer);
  announce (room, m);
}

static void
handle_answer (HangoutRoom *room, const gchar *from, JsonObject *payload)
{
  const gchar *sdp = hangout_json_get_string (payload, "sdp");
  const gchar *instance = hangout_json_get_string (payload, "instance");
  Member *m = g_hash_table_lookup (room->by_signal, from);
  Member *stale;
  g_autoptr (GError) error = NULL;

  if (m == NULL || !m->offerer || m->answered || sdp == NULL) {
    GST_DEBUG ("room %s: unexpected answer from %s: ignored", room->start_room,
        from);
    return;
  }
  if (!hangout_peer_connection_set_remote_description (m->pc,
          HANGOUT_SDP_ANSWER, sdp, &error)) {
    GST_WARNING ("room %s: bad answer from %s: %s", room->start_room, from,
        error->message);
    remove_member (room, m, FALSE);
    return;
  }
  m->answered = TRUE;
  m->instance = g_strdup (instance);
  m->remote_ufrag = ufrag_of (sdp, HANGOUT_SDP_ANSWER);
  /* It answered, so it holds no connection to us: one we think we have
   * with it may be stale. The key is only a hint (anyone can repeat it):
   * ask that peer, on its own channel, whether it is still there. */
  stale = find_instance_pair (room, instance);
  if (stale != NULL && stale != m)
    check_alive (room, stale);
  announce (room, m);
}

static void
handle_connected (HangoutRoom *room, const gchar *from, JsonObject *payload)
{
  Member *m = g_hash_table_lookup (room->by_signal, from);
  Member *existing = find_instance_pair (room,
      hangout_json_get_string (payload, "instance"));
  g_autoptr (JsonObject) close = NULL;

  if (m == NULL || !m->offerer || m->answered)
    return;
  remove_member (room, m, FALSE);
  /* Our connection to it is refiled by its id proof, not by this key. */
  if (existing != NULL)
    return;
  /* It has a connection to us that we no longer have: make it drop that
   * one, then offer again (the server keeps the order). */
  GST_DEBUG ("room %s: %s holds a stale connection to us: renegotiating",
      room->start_room, from);
  close = json_object_new ();
  json_object_set_string_member (close, "type", "close");
  send_payload (room, from, close);
  offer_to (room, from);
}

/* The server's half of an id proof: the token that @from signalled. One
 * per id, so a member can store no more than its own. */
static void
handle_id_proof (HangoutRoom *room, const gchar *from, JsonObject *payload)
{
  const gchar *token = hangout_json_get_string (payload, "token");
  GHashTableIter iter;
  Member *m;

  if (token == NULL || strlen (token) > 64)
    return;
  g_hash_table_insert (room->proofs, g_strdup (from), g_strdup (token));
  g_hash_table_iter_init (&iter, room->members);
  while (g_hash_table_iter_next (&iter, NULL, (gpointer *) & m)) {
    if (g_strcmp0 (m->claim_id, from) == 0) {
      try_confirm (room, m);
      return;
    }
  }
}

static void
handle_candidate (HangoutRoom *room, const gchar *from, JsonObject *payload)
{
  const gchar *candidate = hangout_json_get_string (payload, "candidate");
  const gchar *ufrag = hangout_json_get_string (payload, "usernameFragment");
  Member *m = g_hash_table_lookup (room->by_signal, from);
  g_autoptr (GError) error = NULL;

  if (m == NULL || candidate == NULL) {
    GST_DEBUG ("room %s: candidate from %s dropped", room->start_room, from);
    return;
  }
  /* For another session than ours (a superseded offer). */
  if (ufrag != NULL && m->remote_ufrag != NULL
      && g_strcmp0 (ufrag, m->remote_ufrag) != 0)
    return;
  if (!hangout_peer_connection_add_ice_candidate (m->pc, candidate, &error))
    GST_DEBUG ("room %s: candidate from %s refused: %s", room->start_room,
        from, error->message);
}

static void
on_signal (HangoutSignaller *signaller, const gchar *from,
    JsonObject *payload, HangoutRoom *room)
{
  const gchar *type = hangout_json_get_string (payload, "type");

  if (json_object_has_member (payload, "candidate"))
    handle_candidate (room, from, payload);
  else if (g_strcmp0 (type, "offer") == 0)
    handle_offer (room, from, payload);
  else if (g_strcmp0 (type, "answer") == 0)
    handle_answer (room, from, payload);
  else if (g_strcmp0 (type, "connected") == 0)
    handle_connected (room, from, payload);
  else if (g_strcmp0 (type, "id") == 0)
    handle_id_proof (room, from, payload);
  else if (g_strcmp0 (type, "close") == 0) {
    Member *m = g_hash_table_lookup (room->by_signal, from);

    if (m != NULL)
      remove_member (room, m, TRUE);
  } else
    GST_DEBUG ("room %s: unknown payload from %s: ignored", room->start_room,
        from);
}

static void
on_signaller_error (HangoutSignaller *signaller, GError *error,
    HangoutRoom *room)
{
  g_clear_error (&room->signaller_error);
  room->signaller_error = g_error_copy (error);
  g_signal_emit (room, signals[SIGNAL_ERROR], 0, error);
}

static void
on_signaller_state (HangoutSignaller *signaller, GParamSpec *pspec,
    HangoutRoom *room)
{
  HangoutSignallerState state;

  g_object_get (signaller, "state", &state, NULL);
  if (state != HANGOUT_SIGNALLER_STATE_FAILED)
    return;
  /* The signaller said why in its last "error". */
  g_signal_emit (room, signals[SIGNAL_FAILED], 0, room->signaller_error);
}

/* ---- the network thread ---- */

static gboolean
tick (gpointer data)
{
  return G_SOURCE_CONTINUE;
}

static gpointer
network_thread (gpointer data)
{
  HangoutRoom *room = data;
  gint64 deadline;
  GSource *ticker;

  g_main_context_push_thread_default (room->context);
  g_main_loop_run (room->loop);

  /* Stopped. Let cancelled operations, closing WebSockets and deferred
   * teardowns of peer connections finish on this context before it goes. */
  deadline = g_get_monotonic_time () + DRAIN_TIMEOUT_MS * 1000;
  ticker = g_timeout_source_new (10);
  g_source_set_callback (ticker, tick, NULL, NULL);
  g_source_attach (ticker, room->context);
  while (g_atomic_int_get (room->alive) > 0
      && g_get_monotonic_time () < deadline)
    g_main_context_iteration (room->context, TRUE);
  g_source_destroy (ticker);
  g_source_unref (ticker);
  while (g_main_context_iteration (room->context, FALSE));
  if (g_atomic_int_get (room->alive) > 0)
    GST_WARNING ("room %s: %d objects still busy %d ms after stop",
        room->start_room, g_atomic_int_get (room->alive), DRAIN_TIMEOUT_MS);
  g_main_context_pop_thread_default (room->context);
  return NULL;
}

typedef struct {
  HangoutRoom *room;
  gboolean (*func) (HangoutRoom *room, gpointer data);
  gpointer data;
  gboolean result;
  gboolean done;
} Call;

static gboolean
call_in_thread (gpointer data)
{
  Call *call = data;
  gboolean result = call->func (call->room, call->data);

  g_mutex_lock (&call->room->call_lock);
  call->result = result;
  call->done = TRUE;
  g_cond_broadcast (&call->room->call_cond);
  g_mutex_unlock (&call->room->call_lock);
  return G_SOURCE_REMOVE;
}

/* Runs @func on the network thread and waits for its result. */
static gboolean
run_sync (HangoutRoom *room, gboolean (*func) (HangoutRoom *, gpointer),
    gpointer data)
{
  Call call = { room, func, data, FALSE, FALSE };

  g_main_context_invoke (room->context, call_in_thread, &call);
  g_mutex_lock (&room->call_lock);
  while (!call.done)
    g_cond_wait (&room->call_cond, &room->call_lock);
  g_mutex_unlock (&room->call_lock);
  return call.result;
}

static gboolean
start_in_thread (HangoutRoom *room, gpointer data)
{
  GError **error = data;

  room->instance = g_uuid_string_random ();
  if (room->signaller_factory != NULL) {
    room->signaller = room->signaller_factory (room->context,
        room->signaller_data);
  } else {
    room->signaller = hangout_websocket_signaller_new (room->start_server,
        room->context);
    g_object_set (room->signaller, "tls-database", room->start_tls_database,
        "ssl-strict", room->start_ssl_strict, NULL);
  }
  track (room, room->signaller);
  g_signal_connect (room->signaller, "welcome", G_CALLBACK (on_welcome), room);
  g_signal_connect (room->signaller, "member-joined",
      G_CALLBACK (on_member_joined), room);
  g_signal_connect (room->signaller, "member-left",
      G_CALLBACK (on_member_left), room);
  g_signal_connect (room->signaller, "signal", G_CALLBACK (on_signal), room);
  g_signal_connect (room->signaller, "error", G_CALLBACK (on_signaller_error),
      room);
  g_signal_connect (room->signaller, "notify::state",
      G_CALLBACK (on_signaller_state), room);
  return hangout_signaller_start (room->signaller, room->start_room,
      room->start_name, error);
}

/* A connection of a stopping room, closing gracefully (SCTP SHUTDOWN): what
 * we sent last, such as a receiver's ack, reaches the peer before the
 * connection ends. The connection is tracked, so the network thread's drain
 * waits for it; one whose peer does not answer is aborted. */
typedef struct {
  HangoutPeerConnection *pc;
  GSource *timeout;
} Retiring;

static gboolean
release_retiring (gpointer data)
{
  Retiring *r = data;

  hangout_clear_source (&r->timeout);
  g_signal_handlers_disconnect_by_data (r->pc, r);
  g_object_unref (r->pc);
  g_free (r);
  return G_SOURCE_REMOVE;
}

static void
on_retiring_state (HangoutPeerConnection *pc, HangoutPeerConnectionState state,
    Retiring *r)
{
  GSource *idle;

  if (state != HANGOUT_PEER_CONNECTION_STATE_CLOSED
      && state != HANGOUT_PEER_CONNECTION_STATE_FAILED)
    return;
  /* Not inside the connection's own signal. */
  g_signal_handlers_disconnect_by_data (pc, r);
  idle = g_idle_source_new ();
  g_source_set_callback (idle, release_retiring, r, NULL);
  g_source_attach (idle, g_main_context_get_thread_default ());
  g_source_unref (idle);
}

static gboolean
on_retiring_timeout (gpointer data)
{
  Retiring *r = data;

  g_clear_pointer (&r->timeout, g_source_unref);
  GST_DEBUG ("connection %p: no answer to SHUTDOWN within %d ms, aborted",
      r->pc, CLOSE_TIMEOUT_MS);
  hangout_peer_connection_close (r->pc);
  return G_SOURCE_REMOVE;
}

static void
retire_connection (HangoutPeerConnection *pc)
{
  HangoutPeerConnectionState state = hangout_peer_connection_get_state (pc);
  Retiring *r;

  if (state == HANGOUT_PEER_CONNECTION_STATE_CLOSED
      || state == HANGOUT_PEER_CONNECTION_STATE_FAILED) {
    g_object_unref (pc);
    return;
  }
  r = g_new0 (Retiring, 1);
  r->pc = pc;
  g_signal_connect (pc, "state-changed", G_CALLBACK (on_retiring_state), r);
  r->timeout = g_timeout_source_new (CLOSE_TIMEOUT_MS);
  g_source_set_callback (r->timeout, on_retiring_timeout, r, NULL);
  g_source_attach (r->timeout, g_main_context_get_thread_default ());
  /* Closes at once (and "state-changed" releases @r) when SCTP is not up. */
  hangout_peer_connection_shutdown (pc);
}

static gboolean
stop_in_thread (HangoutRoom *room, gpointer data)
{
  GList *list;

  if (room->signaller != NULL) {
    hangout_signaller_stop (room->signaller);
    g_signal_handlers_disconnect_by_data (room->signaller, room);
    g_clear_object (&room->signaller);
    g_clear_error (&room->signaller_error);
  }
  list = g_hash_table_get_values (room->members);
  for (GList * l = list; l != NULL; l = l->next) {
    Member *m = l->data;

    if (m->pc != NULL) {
      g_signal_handlers_disconnect_by_data (m->pc, m);
      retire_connection (g_steal_pointer (&m->pc));
    }
    remove_member (room, m, FALSE);
  }
  g_list_free (list);
  g_hash_table_remove_all (room->names);
  g_mutex_lock (&room->lock);
  g_clear_pointer (&room->own_id, g_free);
  g_mutex_unlock (&room->lock);
  g_main_loop_quit (room->loop);
  return TRUE;
}

/* After the thread has ended (or never started). */
static void
release_thread (HangoutRoom *room)
{
  GMainContext *context;

  g_mutex_lock (&room->lock);
  context = g_steal_pointer (&room->context);
  g_mutex_unlock (&room->lock);
  g_clear_pointer (&room->loop, g_main_loop_unref);
  /* Drops the calls still queued for the thread (their data is freed). */
  g_clear_pointer (&context, g_main_context_unref);
  g_clear_pointer (&room->instance, g_free);
  g_clear_pointer (&room->start_room, g_free);
  g_clear_pointer (&room->start_name, g_free);
  g_clear_pointer (&room->start_server, g_free);
  g_clear_pointer (&room->start_stun, g_free);
  g_clear_pointer (&room->start_turn, g_free);
  g_clear_object (&room->start_tls_database);
  g_clear_pointer (&room->ice_servers, g_ptr_array_unref);
  room->has_secret = FALSE;
  gnutls_memset (room->key, 0, sizeof room->key);
}

/* A bad value would otherwise fail every peer connection, silently. */
static gboolean
ice_setting_is_valid (const gchar *property, const gchar *value,
    gboolean turn, GError **error)
{
  g_autoptr (GError) parse_error = NULL;
  g_autoptr (HangoutIceServer) server = NULL;

  if (value == NULL || *value == '\0')
    return TRUE;
  server = hangout_ice_server_parse_setting (value, turn, &parse_error);
  if (server == NULL) {
    g_set_error (error, HANGOUT_ERROR, HANGOUT_ERROR_INVALID_STATE,
        "%s: %s", property, parse_error->message);
    return FALSE;
  }
  return TRUE;
}

void
hangout_room_set_signaller_factory (HangoutRoom *room,
    HangoutSignallerFactory factory, gpointer data, GDestroyNotify destroy)
{
  g_return_if_fail (room->thread == NULL);
  if (room->signaller_destroy != NULL)
    room->signaller_destroy (room->signaller_data);
  room->signaller_factory = factory;
  room->signaller_data = data;
  room->signaller_destroy = destroy;
}

gboolean
hangout_room_start (HangoutRoom *room, GError **error)
{
  g_return_val_if_fail (HANGOUT_IS_ROOM (room), FALSE);

  g_mutex_lock (&room->control_lock);
  if (room->thread != NULL) {
    g_mutex_unlock (&room->control_lock);
    g_set_error (error, HANGOUT_ERROR, HANGOUT_ERROR_INVALID_STATE,
        "the room is already started");
    return FALSE;
  }
  g_mutex_lock (&room->lock);
  if (room->room_name == NULL || room->name == NULL || room->server == NULL) {
    g_mutex_unlock (&room->lock);
    g_mutex_unlock (&room->control_lock);
    g_set_error (error, HANGOUT_ERROR, HANGOUT_ERROR_INVALID_STATE,
        "a room needs the properties room, name and server");
    return FALSE;
  }
  if (!ice_setting_is_valid ("stun-server", room->stun_server, FALSE, error)
      || !ice_setting_is_valid ("turn-server", room->turn_server, TRUE,
          error)) {
    g_mutex_unlock (&room->lock);
    g_mutex_unlock (&room->control_lock);
    return FALSE;
  }
  room->start_room = g_strdup (room->room_name);
  room->start_name = g_strdup (room->name);
  room->start_server = g_strdup (room->server);
  room->start_stun = g_strdup (room->stun_server);
  room->start_turn = g_strdup (room->turn_server);
  room->start_relay_only = room->relay_only;
  g_set_object (&room->start_tls_database, room->tls_database);
  room->start_ssl_strict = room->ssl_strict;
  room->has_secret = room->secret != NULL && *room->secret != '\0';
  if (room->has_secret)
    hangout_auth_derive_key (room->secret, room->start_room, room->key);
  g_mutex_unlock (&room->lock);

  g_mutex_lock (&room->lock);
  room->context = g_main_context_new ();
  g_mutex_unlock (&room->lock);
  room->loop = g_main_loop_new (room->context, FALSE);
  room->thread = g_thread_try_new ("hangout-room", network_thread, room,
      error);
  if (room->thread == NULL) {
    release_thread (room);
    g_mutex_unlock (&room->control_lock);
    return FALSE;
  }
  if (!run_sync (room, start_in_thread, error)) {
    run_sync (room, stop_in_thread, NULL);
    g_thread_join (g_steal_pointer (&room->thread));
    release_thread (room);
    g_mutex_unlock (&room->control_lock);
    return FALSE;
  }
  g_mutex_unlock (&room->control_lock);
  return TRUE;
}

void
hangout_room_stop (HangoutRoom *room)
{
  g_return_if_fail (HANGOUT_IS_ROOM (room));

  g_mutex_lock (&room->control_lock);
  if (room->thread == NULL) {
    g_mutex_unlock (&room->control_lock);
    return;
  }
  if (room->thread == g_thread_self ()) {
    g_mutex_unlock (&room->control_lock);
    g_critical ("hangout_room_stop() called on the room's own thread");
    return;
  }
  run_sync (room, stop_in_thread, NULL);
  g_thread_join (g_steal_pointer (&room->thread));
  release_thread (room);
  g_mutex_unlock (&room->control_lock);
  g_object_notify_by_pspec (G_OBJECT (room), properties[PROP_ID]);
}

gchar *
hangout_room_dup_id (HangoutRoom *room)
{
  gchar *id;

  g_return_val_if_fail (HANGOUT_IS_ROOM (room), NULL);
  g_mutex_lock (&room->lock);
  id = g_strdup (room->own_id);
  g_mutex_unlock (&room->lock);
  return id;
}

GMainContext *
hangout_room_get_context (HangoutRoom *room)
{
  g_return_val_if_fail (HANGOUT_IS_ROOM (room), NULL);
  return room->context;
}

typedef struct {
  HangoutRoom *room;
  gchar *member;
  gboolean receiving;
} ReceivingCall;

static void
receiving_call_free (ReceivingCall *call)
{
  g_free (call->member);
  g_free (call);
}

static gboolean
set_receiving_in_thread (gpointer data)
{
  ReceivingCall *call = data;
  Member *m = g_hash_table_lookup (call->room->members, call->member);

  if (m != NULL && m->paused == call->receiving) {
    m->paused = !call->receiving;
    apply_receiving (m);
  }
  return G_SOURCE_REMOVE;
}

void
hangout_room_set_receiving (HangoutRoom *room, const gchar *member,
    gboolean receiving)
{
  GMainContext *context = NULL;
  ReceivingCall *call;

  g_return_if_fail (HANGOUT_IS_ROOM (room));
  g_return_if_fail (member != NULL);
  g_mutex_lock (&room->lock);
  if (room->context != NULL)
    context = g_main_context_ref (room->context);
  g_mutex_unlock (&room->lock);
  if (context == NULL)
    return;
  call = g_new0 (ReceivingCall, 1);
  call->room = room;
  call->member = g_strdup (member);
  call->receiving = receiving;
  /* At once when called on the network thread (from "message"). */
  g_main_context_invoke_full (context, G_PRIORITY_HIGH,
      set_receiving_in_thread, call, (GDestroyNotify) receiving_call_free);
  g_main_context_unref (context);
}

/* ---- sending ---- */

HangoutDataChannel *
hangout_room_get_channel (HangoutRoom *room, const gchar *member)
{
  HangoutDataChannel *channel = NULL;
  Member *m;

  g_return_val_if_fail (HANGOUT_IS_ROOM (room), NULL);
  g_return_val_if_fail (member != NULL, NULL);
  g_mutex_lock (&room->lock);
  m = g_hash_table_lookup (room->members, member);
  if (m != NULL && m->connected)
    channel = g_object_ref (m->channel);
  g_mutex_unlock (&room->lock);
  return channel;
}

static gboolean
send_one (HangoutRoom *room, const gchar *member, GBytes *data,
    const gchar *text, GError **error)
{
  g_autoptr (HangoutDataChannel) channel = hangout_room_get_channel (room,
      member);

  if (channel == NULL) {
    g_set_error (error, HANGOUT_ERROR, HANGOUT_ERROR_NO_SUCH_MEMBER,
        "no connected member '%s'", member);
    return FALSE;
  }
  if (text != NULL)
    return hangout_data_channel_send_string (channel, text, error);
  return hangout_data_channel_send_bytes (channel, data, error);
}

gboolean
hangout_room_send (HangoutRoom *room, const gchar *member, GBytes *data,
    GError **error)
{
  g_return_val_if_fail (HANGOUT_IS_ROOM (room), FALSE);
  g_return_val_if_fail (member != NULL && data != NULL, FALSE);
  return send_one (room, member, data, NULL, error);
}

/* Takes the replies to @m that left its channel's buffer off its count.
 * Called with the room's lock. */
static void
prune_replies (Member *m)
{
  guint64 accepted = hangout_data_channel_get_bytes_accepted (m->channel);
  guint64 drained = accepted
      - hangout_data_channel_get_buffered_amount (m->channel);
  Reply *reply;

  while ((reply = g_queue_peek_head (&m->replies)) != NULL
      && reply->end <= drained) {
    m->reply_bytes -= reply->len;
    g_free (g_queue_pop_head (&m->replies));
  }
}

gboolean
hangout_room_send_reply (HangoutRoom *room, const gchar *member,
    const gchar *text, GError **error)
{
  g_autoptr (HangoutDataChannel) channel = NULL;
  gsize len = strlen (text);
  Member *m;
  gboolean sent;

  g_return_val_if_fail (HANGOUT_IS_ROOM (room), FALSE);
  g_return_val_if_fail (member != NULL && text != NULL, FALSE);
  /* What else waits for the member (our own file, a sink's data) is the
   * application's to bound; a reply counts against the replies only, so
   * that a reject still reaches a member our file keeps busy. */
  g_mutex_lock (&room->lock);
  m = g_hash_table_lookup (room->members, member);
  if (m == NULL || !m->connected) {
    g_mutex_unlock (&room->lock);
    g_set_error (error, HANGOUT_ERROR, HANGOUT_ERROR_NO_SUCH_MEMBER,
        "no connected member '%s'", member);
    return FALSE;
  }
  prune_replies (m);
  if (m->reply_bytes + len > HANGOUT_ROOM_REPLY_BACKLOG) {
    g_mutex_unlock (&room->lock);
    g_set_error (error, HANGOUT_ERROR, HANGOUT_ERROR_INVALID_STATE,
        "%s does not read what we send: reply dropped", member);
    return FALSE;
  }
  m->reply_bytes += len;
  channel = g_object_ref (m->channel);
  g_mutex_unlock (&room->lock);

  sent = hangout_data_channel_send_string (channel, text, error);

  g_mutex_lock (&room->lock);
  m = g_hash_table_lookup (room->members, member);
  if (m != NULL && m->channel == channel) {
    if (sent) {
      /* Read after the send: another sender's message may lie before
       * ours, which only keeps ours counted a little longer. */
      Reply *reply = g_new (Reply, 1);

      reply->end = hangout_data_channel_get_bytes_accepted (channel);
      reply->len = len;
      g_queue_push_tail (&m->replies, reply);
    } else {
      m->reply_bytes -= len;
    }
  }
  g_mutex_unlock (&room->lock);
  return sent;
}

gboolean
hangout_room_send_string (HangoutRoom *room, const gchar *member,
    const gchar *text, GError **error)
{
  g_return_val_if_fail (HANGOUT_IS_ROOM (room), FALSE);
  g_return_val_if_fail (member != NULL && text != NULL, FALSE);
  return send_one (room, member, NULL, text, error);
}

static gboolean
broadcast (HangoutRoom *room, GBytes *data, const gchar *text, GError **error)
{
  g_autoptr (GPtrArray) channels = g_ptr_array_new_with_free_func
      (g_object_unref);
  GError *first = NULL;
  guint failed = 0;
  GHashTableIter iter;
  Member *m;

  g_mutex_lock (&room->lock);
  g_hash_table_iter_init (&iter, room->members);
  while (g_hash_table_iter_next (&iter, NULL, (gpointer *) & m)) {
    if (m->connected)
      g_ptr_array_add (channels, g_object_ref (m->channel));
  }
  g_mutex_unlock (&room->lock);

  for (guint i = 0; i < channels->len; i++) {
    GError *err = NULL;
    gboolean ok = text != NULL
        ? hangout_data_channel_send_string (channels->pdata[i], text, &err)
        : hangout_data_channel_send_bytes (channels->pdata[i], data, &err);

    if (!ok) {
      failed++;
      if (first == NULL)
        first = err;
      else
        g_error_free (err);
    }
  }
  if (first != NULL) {
    g_prefix_error (&first, "%u of %u members refused the message: ", failed,
        channels->len);
    g_propagate_error (error, first);
    return FALSE;
  }
  return TRUE;
}

gboolean
hangout_room_broadcast (HangoutRoom *room, GBytes *data, GError **error)
{
  g_return_val_if_fail (HANGOUT_IS_ROOM (room), FALSE);
  g_return_val_if_fail (data != NULL, FALSE);
  return broadcast (room, data, NULL, error);
}

gboolean
hangout_room_broadcast_string (HangoutRoom *room, const gchar *text,
    GError **error)
{
  g_return_val_if_fail (HANGOUT_IS_ROOM (room), FALSE);
  g_return_val_if_fail (text != NULL, FALSE);
  return broadcast (room, NULL, text, error);
}

GStrv
hangout_room_list_connected (HangoutRoom *room)
{
  g_autoptr (GStrvBuilder) builder = g_strv_builder_new ();
  GHashTableIter iter;
  Member *m;

  g_return_val_if_fail (HANGOUT_IS_ROOM (room), NULL);
  g_mutex_lock (&room->lock);
  g_hash_table_iter_init (&iter, room->members);
  while (g_hash_table_iter_next (&iter, NULL, (gpointer *) & m)) {
    if (m->connected)
      g_strv_builder_add (builder, m->id);
  }
  g_mutex_unlock (&room->lock);
  return g_strv_builder_end (builder);
}

/* A copy of the string at @offset in @member's Member, under the lock. */
static gchar *
dup_member_string (HangoutRoom *room, const gchar *member, gsize offset)
{
  gchar *value = NULL;
  Member *m;

  g_mutex_lock (&room->lock);
  m = g_hash_table_lookup (room->members, member);
  if (m != NULL)
    value = g_strdup (G_STRUCT_MEMBER (gchar *, m, offset));
  g_mutex_unlock (&room->lock);
  return value;
}

GstStructure *
hangout_room_dup_member_transport (HangoutRoom *room, const gchar *member)
{
  Member *m;
  GstStructure *transport = NULL;

  g_return_val_if_fail (HANGOUT_IS_ROOM (room), NULL);
  g_return_val_if_fail (g_main_context_is_owner (room->context), NULL);
  g_mutex_lock (&room->lock);
  m = g_hash_table_lookup (room->members, member);
  if (m != NULL && m->pc != NULL)
    transport = hangout_peer_connection_dup_transport (m->pc);
  g_mutex_unlock (&room->lock);
  return transport;
}

gchar *
hangout_room_dup_member_name (HangoutRoom *room, const gchar *member)
{
  g_return_val_if_fail (HANGOUT_IS_ROOM (room), NULL);
  g_return_val_if_fail (member != NULL, NULL);
  return dup_member_string (room, member, G_STRUCT_OFFSET (Member, name));
}

void
hangout_room_set_transfer_versions (HangoutRoom *room, guint versions)
{
  g_return_if_fail (HANGOUT_IS_ROOM (room));
  g_mutex_lock (&room->lock);
  room->transfer_versions = versions;
  g_mutex_unlock (&room->lock);
}

guint
hangout_room_get_member_transfer_versions (HangoutRoom *room,
    const gchar *member)
{
  Member *m;
  guint versions = 0;

  g_return_val_if_fail (HANGOUT_IS_ROOM (room), 0);
  g_return_val_if_fail (member != NULL, 0);
  g_mutex_lock (&room->lock);
  m = g_hash_table_lookup (room->members, member);
  if (m != NULL && m->connected)
    versions = m->transfer_versions;
  g_mutex_unlock (&room->lock);
  return versions;
}

gchar *
hangout_room_dup_member_sas (HangoutRoom *room, const gchar *member)
{
  g_return_val_if_fail (HANGOUT_IS_ROOM (room), NULL);
  g_return_val_if_fail (member != NULL, NULL);
  return dup_member_string (room, member, G_STRUCT_OFFSET (Member, sas));
}

HangoutRoom *
hangout_room_new (const gchar *room, const gchar *name, const gchar *server)
{
  return g_object_new (HANGOUT_TYPE_ROOM, "room", room, "name", name,
      "server", server, NULL);
}

/* ---- GObject ---- */

static void
set_string (HangoutRoom *room, gchar **field, const GValue *value)
{
  g_mutex_lock (&room->lock);
  g_free (*field);
  *field = g_value_dup_string (value);
  g_mutex_unlock (&room->lock);
}

static void
hangout_room_set_property (GObject *object, guint prop_id,
    const GValue *value, GParamSpec *pspec)
{
  HangoutRoom *room = HANGOUT_ROOM (object);

  switch (prop_id) {
    case PROP_ROOM:
      set_string (room, &room->room_name, value);
      break;
    case PROP_NAME:
      set_string (room, &room->name, value);
      break;
    case PROP_SERVER:
      set_string (room, &room->server, value);
      break;
    case PROP_STUN_SERVER:
      set_string (room, &room->stun_server, value);
      break;
    case PROP_TURN_SERVER:
      set_string (room, &room->turn_server, value);
      break;
    case PROP_RELAY_ONLY:
      g_mutex_lock (&room->lock);
      room->relay_only = g_value_get_boolean (value);
      g_mutex_unlock (&room->lock);
      break;
    case PROP_SECRET:
      set_string (room, &room->secret, value);
      break;
    case PROP_TLS_DATABASE:
      g_mutex_lock (&room->lock);
      g_set_object (&room->tls_database, g_value_get_object (value));
      g_mutex_unlock (&room->lock);
      break;
    case PROP_SSL_STRICT:
      g_mutex_lock (&room->lock);
      room->ssl_strict = g_value_get_boolean (value);
      g_mutex_unlock (&room->lock);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
  }
}

static void
hangout_room_get_property (GObject *object, guint prop_id, GValue *value,
    GParamSpec *pspec)
{
  HangoutRoom *room = HANGOUT_ROOM (object);

  g_mutex_lock (&room->lock);
  switch (prop_id) {
    case PROP_ROOM:
      g_value_set_string (value, room->room_name);
      break;
    case PROP_NAME:
      g_value_set_string (value, room->name);
      break;
    case PROP_SERVER:
      g_value_set_string (value, room->server);
      break;
    case PROP_STUN_SERVER:
      g_value_set_string (value, room->stun_server);
      break;
    case PROP_TURN_SERVER:
      g_value_set_string (value, room->turn_server);
      break;
    case PROP_RELAY_ONLY:
      g_value_set_boolean (value, room->relay_only);
      break;
    case PROP_SECRET:
      g_value_set_string (value, room->secret);
      break;
    case PROP_TLS_DATABASE:
      g_value_set_object (value, room->tls_database);
      break;
    case PROP_SSL_STRICT:
      g_value_set_boolean (value, room->ssl_strict);
      break;
    case PROP_ID:
      g_value_set_string (value, room->own_id);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
  }
  g_mutex_unlock (&room->lock);
}

static void
hangout_room_dispose (GObject *object)
{
  hangout_room_stop (HANGOUT_ROOM (object));
  G_OBJECT_CLASS (hangout_room_parent_class)->dispose (object);
}

static void
hangout_room_finalize (GObject *object)
{
  HangoutRoom *room = HANGOUT_ROOM (object);

  g_hash_table_unref (room->members);
  g_hash_table_unref (room->by_signal);
  g_hash_table_unref (room->names);
  g_hash_table_unref (room->proofs);
  g_atomic_rc_box_release (room->alive);
  g_free (room->room_name);
  g_free (room->name);
  if (room->signaller_destroy != NULL)
    room->signaller_destroy (room->signaller_data);
  g_free (room->server);
  g_free (room->stun_server);
  g_free (room->turn_server);
  g_free (room->secret);
  g_clear_object (&room->tls_database);
  g_free (room->own_id);
  g_mutex_clear (&room->lock);
  g_mutex_clear (&room->control_lock);
  g_mutex_clear (&room->call_lock);
  g_cond_clear (&room->call_cond);
  G_OBJECT_CLASS (hangout_room_parent_class)->finalize (object);
}

static void
hangout_room_init (HangoutRoom *room)
{
  g_mutex_init (&room->lock);
  g_mutex_init (&room->control_lock);
  g_mutex_init (&room->call_lock);
  g_cond_init (&room->call_cond);
  room->members = g_hash_table_new (g_str_hash, g_str_equal);
  room->by_signal = g_hash_table_new (g_str_hash, g_str_equal);
  room->names = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
      g_free);
  room->proofs = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
      g_free);
  room->alive = g_atomic_rc_box_new0 (gint);
  room->ssl_strict = TRUE;
  room->transfer_versions = HANGOUT_ROOM_TRANSFER_V (1);
}

static void
hangout_room_class_init (HangoutRoomClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  const GParamFlags rw = G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS;

  hangout_debug_init ();
  object_class->set_property = hangout_room_set_property;
  object_class->get_property = hangout_room_get_property;
  object_class->dispose = hangout_room_dispose;
  object_class->finalize = hangout_room_finalize;

  /**
   * HangoutRoom:room:
   *
   * The room to join: 1 to 64 characters from `A-Z a-z 0-9 . _ -`.
   */
  properties[PROP_ROOM] = g_param_spec_string ("room", "Room",
      "Name of the room to join", NULL, rw);
  /**
   * HangoutRoom:name:
   *
   * Our display name in the room (need not be unique).
   */
  properties[PROP_NAME] = g_param_spec_string ("name", "Name",
      "Our display name in the room", NULL, rw);
  /**
   * HangoutRoom:server:
   *
   * The signalling server's WebSocket URL, `ws://HOST:PORT/ws`.
   */
  properties[PROP_SERVER] = g_param_spec_string ("server", "Server",
      "WebSocket URL of the signalling server", NULL, rw);
  /**
   * HangoutRoom:stun-server:
   *
   * STUN server for every peer connection, `[stun:]HOST[:PORT]`; read at
   * start.
   */
  properties[PROP_STUN_SERVER] = g_param_spec_string ("stun-server",
      "STUN server", "STUN server as [stun:]HOST[:PORT]", NULL, rw);
  /**
   * HangoutRoom:turn-server:
   *
   * TURN server for every peer connection,
   * `turn://USER:PASSWORD@HOST[:PORT][?transport=udp|tcp]` or
   * `turns://USER:PASSWORD@HOST[:PORT]`; read at start.
   *
   * Without stun-server or turn-server, the STUN or TURN servers that the
   * signalling server hands out in its welcome are used (a property
   * overrides the welcome's servers of its kind).
   */
  properties[PROP_TURN_SERVER] = g_param_spec_string ("turn-server",
      "TURN server", "TURN server as turn://USER:PASSWORD@HOST[:PORT]"
      "[?transport=udp|tcp] or turns://USER:PASSWORD@HOST[:PORT]", NULL, rw);
  /**
   * HangoutRoom:relay-only:
   *
   * Connect through TURN servers only, like iceTransportPolicy "relay":
   * no host or server-reflexive candidate is offered or used. Read at
   * start.
   */
  properties[PROP_RELAY_ONLY] = g_param_spec_boolean ("relay-only",
      "Relay only", "Use relayed (TURN) candidates only", FALSE, rw);
  /**
   * HangoutRoom:secret:
   *
   * The room secret, shared by the members and never sent to the server:
   * each pair proves with it that no one sits between them
   * (docs/protocol.md §3). %NULL or empty: none, and the server is
   * trusted. Read at start.
   */
  properties[PROP_SECRET] = g_param_spec_string ("secret", "Secret",
      "Room secret shared by the members, never sent to the server "
      "(NULL: none)", NULL, rw);
  /**
   * HangoutRoom:tls-database:
   *
   * What a wss:// server's certificate is verified against, by GIO: a
   * #GTlsDatabase such as g_tls_file_database_new() makes from a PEM file
   * of authorities or of the server's own certificate. %NULL: GIO's
   * default database, the system's authorities. Read at start.
   */
  properties[PROP_TLS_DATABASE] = g_param_spec_object ("tls-database",
      "TLS database", "The certificates a wss:// server's is verified "
      "against (NULL: the system's authorities)", G_TYPE_TLS_DATABASE, rw);
  /**
   * HangoutRoom:ssl-strict:
   *
   * Refuse a wss:// server whose certificate fails verification (the
   * default): the room fails with %HANGOUT_ERROR_TLS_CERTIFICATE. %FALSE
   * accepts any certificate; "error" (the same code) says what was wrong
   * with it. Read at start.
   */
  properties[PROP_SSL_STRICT] = g_param_spec_boolean ("ssl-strict",
      "Strict TLS", "Refuse a server certificate that fails verification "
      "(FALSE: accept any, with a warning)", TRUE, rw);
  /**
   * HangoutRoom:id:
   *
   * Our id on the signalling server: %NULL until joined; a new one after
   * each rejoin. Notified on the network thread (and on the caller's
   * thread by hangout_room_stop(), which resets it).
   */
  properties[PROP_ID] = g_param_spec_string ("id", "Id",
      "Our id on the signalling server", NULL,
      G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);

  /**
   * HangoutRoom::member-joined:
   * @room: the room
   * @id: the member's id
   * @name: its display name
   *
   * A member began connecting to us. Emitted on the network thread.
   */
  signals[SIGNAL_MEMBER_JOINED] = g_signal_new ("member-joined",
      G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
      G_TYPE_NONE, 2, G_TYPE_STRING, G_TYPE_STRING);
  /**
   * HangoutRoom::member-left:
   * @room: the room
   * @id: the member's id
   * @failure: (nullable): what failed, or %NULL when it left
   *
   * The member is gone. Emitted on the network thread.
   */
  signals[SIGNAL_MEMBER_LEFT] = g_signal_new ("member-left",
      G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
      G_TYPE_NONE, 2, G_TYPE_STRING, G_TYPE_STRING);
  /**
   * HangoutRoom::member-refused:
   * @room: the room
   * @id: the member's id
   * @name: its display name
   * @reason: why, for people
   *
   * The room has a secret and the member did not prove it (a wrong proof,
   * or none in time): its connection is closed ("member-left" follows).
   * Emitted on the network thread.
   */
  signals[SIGNAL_MEMBER_REFUSED] = g_signal_new ("member-refused",
      G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
      G_TYPE_NONE, 3, G_TYPE_STRING, G_TYPE_STRING, G_TYPE_STRING);
  /**
   * HangoutRoom::peer-connected:
   * @room: the room
   * @id: the member's id
   *
   * The channel to the member is open. Emitted on the network thread.
   */
  signals[SIGNAL_PEER_CONNECTED] = g_signal_new ("peer-connected",
      G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
      G_TYPE_NONE, 1, G_TYPE_STRING);
  /**
   * HangoutRoom::message:
   * @room: the room
   * @id: the sender
   * @is_string: it was sent as a string
   * @data: the message
   *
   * A message from a member. Emitted on the network thread.
   */
  signals[SIGNAL_MESSAGE] = g_signal_new ("message", G_TYPE_FROM_CLASS (klass),
      G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL, G_TYPE_NONE, 3, G_TYPE_STRING,
      G_TYPE_BOOLEAN, G_TYPE_BYTES | G_SIGNAL_TYPE_STATIC_SCOPE);
  /**
   * HangoutRoom::error:
   * @room: the room
   * @error: what happened
   *
   * Informational: the signalling connection dropped (the room reconnects),
   * the server refused a message, or, with "ssl-strict" off, the server's
   * certificate was accepted although it failed verification
   * (%HANGOUT_ERROR_TLS_CERTIFICATE). Emitted on the network thread.
   */
  signals[SIGNAL_ERROR] = g_signal_new ("error", G_TYPE_FROM_CLASS (klass),
      G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL, G_TYPE_NONE, 1, G_TYPE_ERROR);
  /**
   * HangoutRoom::failed:
   * @room: the room
   * @error: why
   *
   * The room cannot join: the server refused the join (bad room or name,
   * room full: %HANGOUT_ERROR_JOIN_REFUSED) or could not be reached when
   * the room started (%HANGOUT_ERROR_SIGNALLING; a certificate that failed
   * verification: %HANGOUT_ERROR_TLS_CERTIFICATE; another TLS failure:
   * %HANGOUT_ERROR_TLS). Nothing
   * more happens until hangout_room_stop(). Emitted on the network
   * thread.
   */
  signals[SIGNAL_FAILED] = g_signal_new ("failed", G_TYPE_FROM_CLASS (klass),
      G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL, G_TYPE_NONE, 1, G_TYPE_ERROR);
}
