/* gst-hangout — ICE layer on libnice.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#include <hangout/ice.h>

#include <agent.h>
#include <interfaces.h>
#include <gio/gio.h>
#include <string.h>
#include <sys/socket.h>
#include "debug-private.h"
#include "turn-tls-private.h"

#define GST_CAT_DEFAULT hangout_debug_ice

/* A data channel needs one component: BUNDLE and rtcp-mux are implied. */
#define COMPONENT_ID 1
#define DEFAULT_STUN_TURN_PORT 3478
/* Socket buffers for the selected pair. The defaults (~200 KiB) overflow at
 * a few hundred MB/s and libnice then drops datagrams silently, which SCTP
 * sees as loss. */
#define SOCKET_BUFFER_SIZE (4 * 1024 * 1024)

struct _HangoutIce {
  GMainContext *context;
  NiceAgent *agent;
  guint stream_id;
  HangoutIceCallbacks callbacks;
  gpointer user_data;
  GPtrArray *local_candidates;
  HangoutIceState state;
  GPtrArray *tunnels;           /* HangoutTurnTls, for turns: servers */
};

static gchar *
candidate_to_string (HangoutIce *ice, NiceCandidate *candidate)
{
  gchar *sdp = nice_agent_generate_local_candidate_sdp (ice->agent, candidate);
  gchar *out;

  if (sdp == NULL)
    return NULL;
  /* libnice writes the SDP attribute line; browsers trickle it without "a=". */
  out = g_strdup (g_str_has_prefix (sdp, "a=") ? sdp + 2 : sdp);
  g_free (sdp);
  return out;
}

static void
on_new_candidate (NiceAgent *agent, NiceCandidate *candidate, gpointer data)
{
  HangoutIce *ice = data;
  gchar *str;

  if (candidate->component_id != COMPONENT_ID)
    return;
  str = candidate_to_string (ice, candidate);
  if (str == NULL)
    return;
  g_ptr_array_add (ice->local_candidates, str);
  ice->callbacks.local_candidate (ice->user_data, str);
}

static void
on_gathering_done (NiceAgent *agent, guint stream_id, gpointer data)
{
  HangoutIce *ice = data;

  ice->callbacks.local_candidate (ice->user_data, NULL);
}

static void
set_state (HangoutIce *ice, HangoutIceState state)
{
  if (ice->state == state)
    return;
  ice->state = state;
  ice->callbacks.state_changed (ice->user_data, state);
}

static void
on_component_state_changed (NiceAgent *agent, guint stream_id,
    guint component_id, guint state, gpointer data)
{
  HangoutIce *ice = data;

  switch (state) {
    case NICE_COMPONENT_STATE_CONNECTING:
      set_state (ice, HANGOUT_ICE_STATE_CHECKING);
      break;
    case NICE_COMPONENT_STATE_CONNECTED:
    case NICE_COMPONENT_STATE_READY:
      set_state (ice, HANGOUT_ICE_STATE_CONNECTED);
      break;
    case NICE_COMPONENT_STATE_FAILED:
      set_state (ice, HANGOUT_ICE_STATE_FAILED);
      break;
    default:
      break;
  }
}

static void
grow_socket_buffer (GSocket *socket, int option, int force_option)
{
  int fd = g_socket_get_fd (socket);
  int size = SOCKET_BUFFER_SIZE;

  /* The FORCE variants pass net.core.[rw]mem_max when we may (CAP_NET_ADMIN);
   * otherwise the kernel caps the plain request at that limit. */
  if (setsockopt (fd, SOL_SOCKET, force_option, &size, sizeof size) != 0)
    setsockopt (fd, SOL_SOCKET, option, &size, sizeof size);
}

static gchar *
address_to_string (const NiceAddress *address)
{
  gchar str[NICE_ADDRESS_STRING_LEN];

  nice_address_to_string (address, str);
  return g_strdup_printf (nice_address_ip_version (address) == 6 ? "[%s]:%u"
      : "%s:%u", str, nice_address_get_port (address));
}

static const gchar *
candidate_type_name (NiceCandidateType type)
{
  switch (type) {
    case NICE_CANDIDATE_TYPE_HOST:
      return "host";
    case NICE_CANDIDATE_TYPE_SERVER_REFLEXIVE:
      return "srflx";
    case NICE_CANDIDATE_TYPE_PEER_REFLEXIVE:
      return "prflx";
    case NICE_CANDIDATE_TYPE_RELAYED:
      return "relay";
  }
  return "unknown";
}

static const gchar *
transport_name (const NiceCandidate *candidate)
{
  return candidate->transport == NICE_CANDIDATE_TRANSPORT_UDP ? "udp" : "tcp";
}

static void
on_new_selected_pair (NiceAgent *agent, guint stream_id, guint component_id,
    NiceCandidate *local, NiceCandidate *remote, gpointer data)
{
  HangoutIce *ice = data;
  GSocket *socket = nice_agent_get_selected_socket (agent, stream_id,
      component_id);

  if (socket != NULL) {
    grow_socket_buffer (socket, SO_SNDBUF, SO_SNDBUFFORCE);
    grow_socket_buffer (socket, SO_RCVBUF, SO_RCVBUFFORCE);
    g_object_unref (socket);
  }
  if (gst_debug_category_get_threshold (GST_CAT_DEFAULT) >= GST_LEVEL_INFO) {
    g_autofree gchar *from = address_to_string (&local->addr);
    g_autofree gchar *to = address_to_string (&remote->addr);

    GST_INFO ("ICE %p: selected pair %s %s -> %s %s (%s)", ice,
        candidate_type_name (local->type), from,
        candidate_type_name (remote->type), to, transport_name (local));
  }
}

static void
on_receive (NiceAgent *agent, guint stream_id, guint component_id, guint len,
    gchar *buf, gpointer data)
{
  HangoutIce *ice = data;
  GSource *socket_source = g_main_current_source ();

  /* libnice calls us from the dispatch of its socket's source. GLib
   * dispatches a source that cannot recurse with its descriptor taken out
   * of the context's poll set and put back after, and GLib 2.74 wakes the
   * context for both: every packet cost a second, empty iteration of the
   * loop over every source and socket of the member's connections
   * (docs/performance.md, "What an idle mesh costs"). Nothing here runs
   * the context recursively, so the source may as well be allowed to. */
  if (socket_source != NULL && !g_source_get_can_recurse (socket_source))
    g_source_set_can_recurse (socket_source, TRUE);
  ice->callbacks.received (ice->user_data, (const guint8 *) buf, len);
}

/* libnice takes only literal addresses for its servers. */
static gchar *
resolve_host (const gchar *host, GError **error)
{
  GResolver *resolver;
  GList *addresses;
  gchar *out;

  if (g_hostname_is_ip_address (host))
    return g_strdup (host);
  resolver = g_resolver_get_default ();
  addresses = g_resolver_lookup_by_name (resolver, host, NULL, error);
  g_object_unref (resolver);
  if (addresses == NULL)
    return NULL;
  out = g_inet_address_to_string (addresses->data);
  g_resolver_free_addresses (addresses);
  return out;
}

/* The servers to use: first the properties' (@n_own of them), each of
 * which overrides the servers of its kind that came with @config->servers. */
static GPtrArray *
collect_servers (const HangoutIceConfig *config, guint *n_own, GError **error)
{
  g_autoptr (GPtrArray) servers = g_ptr_array_new_with_free_func
      ((GDestroyNotify) hangout_ice_server_free);
  gboolean stun_set = config->stun_server && *config->stun_server;
  gboolean turn_set = config->turn_server && *config->turn_server;

  if (stun_set) {
    HangoutIceServer *server = hangout_ice_server_parse_setting
        (config->stun_server, FALSE, error);

    if (server == NULL)
      return NULL;
    g_ptr_array_add (servers, server);
  }
  if (turn_set) {
    HangoutIceServer *server = hangout_ice_server_parse_setting
        (config->turn_server, TRUE, error);

    if (server == NULL)
      return NULL;
    g_ptr_array_add (servers, server);
  }
  *n_own = servers->len;
  for (guint i = 0; config->servers && i < config->servers->len; i++) {
    HangoutIceServer *server = config->servers->pdata[i];

    if (hangout_ice_server_is_turn (server) ? turn_set : stun_set)
      continue;
    if (hangout_ice_server_is_turn (server) && (server->username == NULL
            || server->credential == NULL)) {
      GST_INFO ("ICE: TURN server %s without credentials: skipped",
          server->host);
      continue;
    }
    g_ptr_array_add (servers, hangout_ice_server_copy (server));
  }
  return g_steal_pointer (&servers);
}

static gboolean
add_turn_server (HangoutIce *ice, const HangoutIceServer *server,
    const gchar *address, GError **error)
{
  static const NiceRelayType relay_types[] = {
    [HANGOUT_ICE_SERVER_TURN_UDP] = NICE_RELAY_TYPE_TURN_UDP,
    [HANGOUT_ICE_SERVER_TURN_TCP] = NICE_RELAY_TYPE_TURN_TCP,
    /* Through our tunnel: libnice's own "TLS" is plain TCP. */
    [HANGOUT_ICE_SERVER_TURN_TLS] = NICE_RELAY_TYPE_TURN_TCP,
  };
  guint port = server->port;

  if (server->kind == HANGOUT_ICE_SERVER_TURN_TLS) {
    HangoutTurnTls *tunnel = hangout_turn_tls_new (ice->context, server->host,
        server->port, error);

    if (tunnel == NULL)
      return FALSE;
    g_ptr_array_add (ice->tunnels, tunnel);
    address = "127.0.0.1";
    port = hangout_turn_tls_get_port (tunnel);
  }
  if (!nice_agent_set_relay_info (ice->agent, ice->stream_id, COMPONENT_ID,
          address, port, server->username, server->credential,
          relay_types[server->kind])) {
    g_set_error (error, HANGOUT_ERROR, HANGOUT_ERROR_INVALID_STATE,
        "TURN server %s:%u was refused", server->host, server->port);
    return FALSE;
  }
  return TRUE;
}

static gboolean
configure_servers (HangoutIce *ice, const HangoutIceConfig *config,
    GError **error)
{
  g_autoptr (GPtrArray) servers = NULL;
  gboolean have_stun = FALSE;
  guint n_own;

  if (config == NULL)
    return TRUE;
  g_object_set (ice->agent, "force-relay", config->relay_only, NULL);
  servers = collect_servers (config, &n_own, error);
  if (servers == NULL)
    return FALSE;
  for (guint i = 0; i < servers->len; i++) {
    HangoutIceServer *server = servers->pdata[i];
    g_autoptr (GError) lookup_error = NULL;
    g_autofree gchar *address = NULL;

    if (server->kind == HANGOUT_ICE_SERVER_STUN && have_stun) {
      GST_DEBUG ("ICE: libnice takes one STUN server: %s skipped",
          server->host);
      continue;
    }
    /* A TLS server is reached by name, for its certificate. */
    if (server->kind != HANGOUT_ICE_SERVER_TURN_TLS) {
      address = resolve_host (server->host, &lookup_error);
      if (address == NULL) {
        /* The properties' servers are the user's own: insist on them. */
        if (i < n_own) {
          g_propagate_error (error, g_steal_pointer (&lookup_error));
          return FALSE;
        }
        GST_INFO ("ICE: server %s skipped: %s", server->host,
            lookup_error->message);
        continue;
      }
    }
    if (server->kind == HANGOUT_ICE_SERVER_STUN) {
      g_object_set (ice->agent, "stun-server", address, "stun-server-port",
          (guint) server->port, NULL);
      have_stun = TRUE;
    } else if (!add_turn_server (ice, server, address, error)) {
      return FALSE;
    }
    GST_DEBUG ("ICE: %s server %s:%u", server->kind == HANGOUT_ICE_SERVER_STUN
        ? "STUN" : "TURN", server->host, server->port);
  }
  return TRUE;
}

HangoutIce *
hangout_ice_new (GMainContext *context, gboolean controlling,
    const HangoutIceConfig *config, const HangoutIceCallbacks *callbacks,
    gpointer user_data, GError **error)
{
  HangoutIce *ice = g_new0 (HangoutIce, 1);

  hangout_debug_init ();
  ice->context = g_main_context_ref (context);
  ice->callbacks = *callbacks;
  ice->user_data = user_data;
  ice->local_candidates = g_ptr_array_new_with_free_func (g_free);
  ice->tunnels = g_ptr_array_new_with_free_func ((GDestroyNotify)
      hangout_turn_tls_free);
  ice->state = HANGOUT_ICE_STATE_NEW;
  /* Trickle: the agent must not conclude failure before the peer says it has
   * sent its last candidate. Regular nomination is what browsers do.
   * libnice's consent freshness (and its keepalive checks, which time out
   * after 50 s) send one unretransmitted check per period, so a lost packet
   * or two fail the pair: the peer connection proves consent with DTLS
   * records instead (peer.c). Keepalives stay binding indications every
   * 25 s, which keep NAT mappings open; libnice still answers the peer's
   * own consent checks (browsers send them). */
  ice->agent = nice_agent_new_full (context, NICE_COMPATIBILITY_RFC5245,
      NICE_AGENT_OPTION_REGULAR_NOMINATION | NICE_AGENT_OPTION_ICE_TRICKLE);
  g_object_set (ice->agent, "controlling-mode", controlling, "ice-tcp", FALSE,
      "upnp", FALSE, "keepalive-conncheck", FALSE, NULL);
  ice->stream_id = nice_agent_add_stream (ice->agent, 1);
  nice_agent_set_stream_name (ice->agent, ice->stream_id, "application");

  g_signal_connect (ice->agent, "new-candidate-full",
      G_CALLBACK (on_new_candidate), ice);
  g_signal_connect (ice->agent, "candidate-gathering-done",
      G_CALLBACK (on_gathering_done), ice);
  g_signal_connect (ice->agent, "component-state-changed",
      G_CALLBACK (on_component_state_changed), ice);
  g_signal_connect (ice->agent, "new-selected-pair-full",
      G_CALLBACK (on_new_selected_pair), ice);
  nice_agent_attach_recv (ice->agent, ice->stream_id, COMPONENT_ID, context,
      on_receive, ice);

  if (!configure_servers (ice, config, error)) {
    hangout_ice_free (ice);
    return NULL;
  }
  return ice;
}

/* Deallocation requests wait this long for an answer, doubling for each
 * of libnice's 3 tries except the last: 800 ms in all for a TURN server
 * that does not answer, instead of the 2 s of libnice's 500 ms. */
#define CLOSE_STUN_TIMEOUT_MS 200

/* The agent on its way out, releasing its TURN allocations. */
typedef struct {
  NiceAgent *agent;
  GMainContext *context;
  GPtrArray *tunnels;           /* until the deallocations went through them */
  GDestroyNotify closed;
  gpointer closed_data;
  gboolean started;             /* nice_agent_close_async() was called */
} Closing;

static void
closing_free (Closing *closing)
{
  g_object_unref (closing->agent);
  g_ptr_array_unref (closing->tunnels);
  if (closing->closed != NULL)
    closing->closed (closing->closed_data);
  g_main_context_unref (closing->context);
  g_free (closing);
}

static void
on_agent_closed (GObject *agent, GAsyncResult *result, gpointer data)
{
  GST_DEBUG ("ICE: agent closed, TURN allocations released");
  closing_free (data);
}

static gboolean
close_agent (gpointer data)
{
  Closing *closing = data;

  closing->started = TRUE;
  g_object_set (closing->agent, "stun-initial-timeout", CLOSE_STUN_TIMEOUT_MS,
      NULL);
  /* The result comes back on the thread-default context. */
  g_main_context_push_thread_default (closing->context);
  nice_agent_close_async (closing->agent, on_agent_closed, closing);
  g_main_context_pop_thread_default (closing->context);
  return G_SOURCE_REMOVE;
}

static void
discard_received (NiceAgent *agent, guint stream_id, guint component_id,
    guint len, gchar *buf, gpointer data)
{
}

/* The context went away before the idle ran: nothing to release with. */
static void
closing_abandon (gpointer data)
{
  Closing *closing = data;

  if (!closing->started)
    closing_free (closing);
}

void
hangout_ice_free_full (HangoutIce *ice, GDestroyNotify closed,
    gpointer closed_data)
{
  GSource *source;
  Closing *closing;

  if (ice == NULL) {
    if (closed != NULL)
      closed (closed_data);
    return;
  }
  g_signal_handlers_disconnect_by_data (ice->agent, ice);
  /* Still reading: the TURN servers' answers to the deallocations come on
   * these sockets. */
  nice_agent_attach_recv (ice->agent, ice->stream_id, COMPONENT_ID,
      ice->context, discard_received, NULL);
  closing = g_new0 (Closing, 1);
  closing->agent = ice->agent;
  closing->context = g_main_context_ref (ice->context);
  closing->tunnels = g_steal_pointer (&ice->tunnels);
  closing->closed = closed;
  closing->closed_data = closed_data;
  /* We may be inside one of the agent's callbacks: close it from an idle
   * source. Above the agent's sockets, which stay readable (and would
   * starve an idle-priority source) until the agent closes them. */
  source = g_idle_source_new ();
  g_source_set_priority (source, G_PRIORITY_HIGH);
  g_source_set_callback (source, close_agent, closing, closing_abandon);
  g_source_attach (source, ice->context);
  g_source_unref (source);
  g_ptr_array_unref (ice->local_candidates);
  g_main_context_unref (ice->context);
  g_free (ice);
}

void
hangout_ice_free (HangoutIce *ice)
{
  hangout_ice_free_full (ice, NULL, NULL);
}

void
hangout_ice_get_local_credentials (HangoutIce *ice, gchar **ufrag, gchar **pwd)
{
  nice_agent_get_local_credentials (ice->agent, ice->stream_id, ufrag, pwd);
}

gboolean
hangout_ice_gather (HangoutIce *ice, GError **error)
{
  GList *ips = nice_interfaces_get_local_ips (FALSE);

  /* libnice gathers on every non-loopback address on its own. A host with
   * none (a private network namespace) can still talk over loopback. */
  if (ips == NULL) {
    NiceAddress addr;

    nice_address_init (&addr);
    nice_address_set_from_string (&addr, "127.0.0.1");
    nice_agent_add_local_address (ice->agent, &addr);
  }
  g_list_free_full (ips, g_free);

  if (!nice_agent_gather_candidates (ice->agent, ice->stream_id)) {
    g_set_error (error, HANGOUT_ERROR, HANGOUT_ERROR_ICE,
        "ICE: could not gather candidates");
    return FALSE;
  }
  return TRUE;
}

GPtrArray *
hangout_ice_get_local_candidates (HangoutIce *ice)
{
  GPtrArray *out = g_ptr_array_new_with_free_func (g_free);

  for (guint i = 0; i < ice->local_candidates->len; i++)
    g_ptr_array_add (out, g_strdup (ice->local_candidates->pdata[i]));
  return out;
}

gboolean
hangout_ice_set_remote_credentials (HangoutIce *ice, const gchar *ufrag,
    const gchar *pwd, GError **error)
{
  if (!nice_agent_set_remote_credentials (ice->agent, ice->stream_id, ufrag,
          pwd)) {
    g_set_error (error, HANGOUT_ERROR, HANGOUT_ERROR_INVALID_SDP,
        "ICE: remote credentials were refused");
    return FALSE;
  }
  return TRUE;
}

gboolean
hangout_ice_add_remote_candidate (HangoutIce *ice, const gchar *candidate,
    GError **error)
{
  g_autofree gchar *line = NULL;
  g_auto (GStrv) tokens = NULL;
  NiceCandidate *cand;
  GSList *list;
  gchar *end;
  guint64 component, port;
  gint n;

  if (candidate == NULL)
    goto malformed;
  if (g_str_has_prefix (candidate, "a="))
    candidate += 2;
  line = g_strstrip (g_strdup (candidate));
  if (!g_str_has_prefix (line, "candidate:"))
    goto malformed;

  /* RFC 8839 §5.1: foundation component transport priority address port
   * "typ" type [extensions]. Checked here so that the error can say what is
   * wrong; libnice's own parser only answers yes or no. */
  tokens = g_strsplit_set (line + strlen ("candidate:"), " ", -1);
  n = g_strv_length (tokens);
  if (n < 8 || strcmp (tokens[6], "typ") != 0)
    goto malformed;
  component = g_ascii_strtoull (tokens[1], &end, 10);
  if (*end != '\0' || component == 0 || component > 256)
    goto malformed;
  port = g_ascii_strtoull (tokens[5], &end, 10);
  if (*end != '\0' || port > 65535)
    goto malformed;
  if (component != COMPONENT_ID) {
    GST_DEBUG ("ICE: skipping candidate of component %" G_GUINT64_FORMAT,
        component);
    return TRUE;
  }
  if (g_ascii_strcasecmp (tokens[2], "udp") != 0) {
    /* We gather UDP only; a TCP candidate cannot pair with ours. */
    GST_DEBUG ("ICE: skipping %s candidate", tokens[2]);
    return TRUE;
  }
  if (!g_hostname_is_ip_address (tokens[4])) {
    if (g_str_has_suffix (tokens[4], ".local")) {
      /* Browsers hide host addresses behind mDNS names. We do not resolve
       * them: the browser's checks reach us and teach libnice a
       * peer-reflexive candidate for the same address. */
      GST_DEBUG ("ICE: skipping mDNS candidate %s", tokens[4]);
      return TRUE;
    }
    g_set_error (error, HANGOUT_ERROR, HANGOUT_ERROR_INVALID_CANDIDATE,
        "ICE candidate address '%s' is not an IP address", tokens[4]);
    return FALSE;
  }

  {
    g_autofree gchar *attr = g_strconcat ("a=", line, NULL);
    cand = nice_agent_parse_remote_candidate_sdp (ice->agent, ice->stream_id,
        attr);
  }
  if (cand == NULL)
    goto malformed;
  list = g_slist_prepend (NULL, cand);
  n = nice_agent_set_remote_candidates (ice->agent, ice->stream_id,
      COMPONENT_ID, list);
  g_slist_free_full (list, (GDestroyNotify) nice_candidate_free);
  if (n < 0) {
    g_set_error (error, HANGOUT_ERROR, HANGOUT_ERROR_INVALID_CANDIDATE,
        "ICE candidate was refused: %s", line);
    return FALSE;
  }
  return TRUE;

malformed:
  g_set_error (error, HANGOUT_ERROR, HANGOUT_ERROR_INVALID_CANDIDATE,
      "malformed ICE candidate: '%s'", candidate ? candidate : "(null)");
  return FALSE;
}

void
hangout_ice_remote_gathering_done (HangoutIce *ice)
{
  nice_agent_peer_candidate_gathering_done (ice->agent, ice->stream_id);
}

gboolean
hangout_ice_send (HangoutIce *ice, const guint8 *data, gsize len)
{
  return nice_agent_send (ice->agent, ice->stream_id, COMPONENT_ID, len,
      (const gchar *) data) == (gint) len;
}

static gboolean
address_is_loopback (const NiceAddress *address)
{
  gchar str[NICE_ADDRESS_STRING_LEN];
  g_autoptr (GInetAddress) inet = NULL;

  nice_address_to_string (address, str);
  inet = g_inet_address_new_from_string (str);
  return inet != NULL && g_inet_address_get_is_loopback (inet);
}

gboolean
hangout_ice_selected_pair_is_loopback (HangoutIce *ice)
{
  NiceCandidate *local = NULL, *remote = NULL;

  if (!nice_agent_get_selected_pair (ice->agent, ice->stream_id, COMPONENT_ID,
          &local, &remote))
    return FALSE;
  /* A relayed candidate's address is the TURN server's: packets between
   * two relays on one host still cross the server, with its limits. */
  if (local->type == NICE_CANDIDATE_TYPE_RELAYED
      || remote->type == NICE_CANDIDATE_TYPE_RELAYED)
    return FALSE;
  return address_is_loopback (&local->addr) && address_is_loopback (&remote->addr);
}

GstStructure *
hangout_ice_dup_selected_pair (HangoutIce *ice)
{
  NiceCandidate *local = NULL, *remote = NULL;
  g_autofree gchar *local_address = NULL;
  g_autofree gchar *remote_address = NULL;

  if (!nice_agent_get_selected_pair (ice->agent, ice->stream_id, COMPONENT_ID,
          &local, &remote))
    return NULL;
  local_address = address_to_string (&local->addr);
  remote_address = address_to_string (&remote->addr);
  return gst_structure_new ("hangout-ice-pair",
      "local-type", G_TYPE_STRING, candidate_type_name (local->type),
      "local-address", G_TYPE_STRING, local_address,
      "remote-type", G_TYPE_STRING, candidate_type_name (remote->type),
      "remote-address", G_TYPE_STRING, remote_address,
      "transport", G_TYPE_STRING, transport_name (local), NULL);
}
