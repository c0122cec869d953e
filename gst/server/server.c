/* gst-hangout — the signalling server (include/hangout/server.h).
 *
 * Members of a room find each other here, then connect directly (WebRTC data
 * channels). This implements docs/protocol.md section 1 exactly: one
 * WebSocket per member at /ws carrying JSON text frames, plus a little HTTP on
 * the same port (web client, /healthz).
 *
 * Everything of a server runs on its own thread, on its own GMainContext
 * (pushed as the thread-default context, so that libsoup's sources land
 * there too); there is no locking because nothing else touches its state.
 * Before the thread exists, hangout_server_start() sets up on the caller's
 * thread with that context pushed; the thread takes over once created.
 * Any input a client sends is answered (or dropped) without blocking the
 * loop for long and without affecting other clients.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <hangout/server.h>
#include <hangout/json.h>
#include <hangout/iceserver.h>
#include "server-private.h"
#include "connection-limits.h"
#include "message-size-stream.h"
#include "server-log.h"
#include "room-directory.h"
#include "names.h"
#include "ws-shards.h"
#include "../libhangout/source-private.h"

#include <errno.h>
#include <fcntl.h>
#include <ifaddrs.h>
#include <netinet/in.h>
#include <net/if.h>
#include <linux/openat2.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <json-glib/json-glib.h>
#include <libsoup/soup.h>

#include "web-resources.h"

/* ---------------------------------------------------------------------- */
/* Protocol constants (docs/protocol.md §1)                                */

#define PROTOCOL_VERSION 1
/* A message of more than this many bytes is answered with too-big. */
#define MAX_MESSAGE_SIZE 65536
#define ID_HEX_LEN 32
/* Rate limit: a token bucket of RATE_BURST tokens refilled at RATE_PER_SEC;
 * each incoming frame costs one token. */
#define RATE_BURST 100.0
#define RATE_PER_SEC 20.0
/* While a client keeps sending over the limit it gets at most one
 * rate-limited error per this interval: answering every dropped message
 * would let a flooding client make us queue unbounded output for it. */
#define RATE_ERROR_INTERVAL_US G_USEC_PER_SEC
/* Ping idle connections so that dead peers are eventually noticed and
 * middleboxes keep the connection open. */
#define KEEPALIVE_SECONDS 30
/* WebSockets per shard thread (ws-shards.c): a wake-up of a shard costs
 * in proportion to what it holds, and each thread some 37 KiB
 * (docs/architecture.md, "The server's threads"). */
#define WEBSOCKETS_PER_SHARD 256
/* What may wait in our memory for one member, sent to it and not yet
 * taken by the kernel (whose own buffers come on top): 16 messages of the
 * largest size. A member with more is not reading; it is dropped, or one
 * such member would grow the server without limit. */
#define MAX_UNSENT_BYTES (1024 * 1024)
/* Largest static file we serve (they are read into memory). */
#define MAX_STATIC_FILE_SIZE (64 * 1024 * 1024)

#define LISTEN_BACKLOG 1024
/* How long hangout_server_start() waits for Redis (--redis). */
#define REDIS_CONNECT_TIMEOUT_MS 5000
/* How often closed HTTP connections' sockets are looked at (release_socket). */
#define SOCKET_SWEEP_SECONDS 10

/* Where gst/server/web.gresource.xml puts the files of gst/web. */
#define WEB_RESOURCE_PREFIX "/org/gst-hangout/web/"

/* ---------------------------------------------------------------------- */
/* State                                                                   */

typedef struct _Room Room;
typedef struct _Client Client;

struct _Room {
  char *name;
  /* Client*, in join order, so that welcome lists members oldest first.
   * With a room directory: this server's members only. */
  GPtrArray *members;
  /* With a room directory only: every member on every server as the
   * room's events have told us, id → RemoteMember, and the sequence
   * number of the last event applied (docs/architecture.md, "Rooms
   * across servers"). */
  GHashTable *known;
  guint64 applied;
};

typedef struct {
  char server[DIRECTORY_SERVER_ID_LEN + 1];
  char *name;
} RemoteMember;

/* A join waiting for the room directory; @client is NULL once the client
 * is gone. */
typedef struct {
  Client *client;
  char *room;
} PendingJoin;

struct _Client {
  HangoutServer *server;
  WsLink *link;                  /* owned; its WebSocket runs on a shard */
  GSocket *socket;               /* owned; see release_socket() */
  char *peer;                    /* remote address, for logs */
  char id[ID_HEX_LEN + 1];       /* "" until joined */
  char *name;                    /* NULL until joined */
  Room *room;                    /* NULL until joined */
  PendingJoin *joining;          /* while the room directory decides */
  /* With a room directory: the room's sequence number at our join; we
   * get the events after it. */
  guint64 since;
  GSource *join_deadline;        /* until joined */
  gboolean holds_place;          /* in server->limits */
  /* What connection_bytes_taken() will say once all we gave libsoup for
   * this member has reached the kernel. */
  guint64 bytes_given;
  /* What may wait for it unsent: what did when we last asked the kernel,
   * plus what we gave libsoup since (an upper bound). */
  guint64 unsent_at_most;
  double tokens;
  gint64 last_refill_us;
  gint64 last_rate_error_us;
  gboolean rate_error_sent;
};

struct _HangoutServer {
  /* Set by hangout_server_start() and read-only afterwards: the only part
   * other threads see. */
  GThread *thread;
  GMainContext *context;
  GMainLoop *loop;
  char *url;
  char *web_url;
  guint grace_ms;      /* written before the stop request is queued */

  /* The server's thread only. */
  SoupServer *soup;
  GSocket *listener;
  GTlsCertificate *certificate;
  GPtrArray *ice_servers; /* HangoutIceServer, for welcome */
  char *turn_secret;
  guint turn_lifetime;
  GHashTable *rooms;   /* name → Room* (owned) */
  GHashTable *members; /* id → Client* (joined clients only) */
  GHashTable *clients; /* Client* set (owned), every open WebSocket */
  GHashTable *sockets; /* GSocket* (ref) → state, see release_socket() */
  WsShards *shards;    /* where the WebSockets run */
  RoomDirectory *directory; /* NULL: rooms are this server's alone */
  ConnectionLimits *limits; /* NULL for a detached server */
  GSource *sweep_timer;
  GSource *sweep_idle;
  guint max_members;
  guint max_connections;
  guint join_timeout;
  guint max_per_address;
  guint request_timeout;
  ServerLog log;
  int web_root_fd;     /* O_PATH fd of the web root, or -1 */
  char *web_root_real; /* realpath of the web root, or NULL */
  gboolean shutting_down;
  GSource *shutdown_timer;
};

/* ---------------------------------------------------------------------- */
/* Small helpers                                                           */

/* Our own sources go to the server's context by name: g_timeout_add() and
 * g_idle_add() would attach them to the global default context, whatever
 * context is pushed. Returns @source (the caller's reference). */
static GSource *
server_attach (HangoutServer *s, GSource *source, GSourceFunc func)
{
  g_source_set_callback (source, func, s, NULL);
  g_source_attach (source, s->context);
  return source;
}

/* 128 random bits as 32 lower-case hex digits, from the kernel CSPRNG:
 * ids must be unguessable (knowing an id lets you signal that member), so
 * g_random_* (a Mersenne Twister) is not good enough. */
static gboolean
random_id (char out[ID_HEX_LEN + 1])
{
  guint8 buf[ID_HEX_LEN / 2];
  gsize got = 0;

  while (got < sizeof buf) {
    ssize_t n = getrandom (buf + got, sizeof buf - got, 0);
    if (n < 0) {
      if (errno == EINTR)
        continue;
      return FALSE;
    }
    got += (gsize) n;
  }
  for (gsize i = 0; i < sizeof buf; i++)
    g_snprintf (out + 2 * i, 3, "%02x", buf[i]);
  return TRUE;
}

static char *
node_to_text (JsonNode *node)
{
  JsonGenerator *gen = json_generator_new ();
  char *text;

  json_generator_set_root (gen, node);
  text = json_generator_to_data (gen, NULL);
  g_object_unref (gen);
  return text;
}

/* ---------------------------------------------------------------------- */
/* Sending                                                                 */

static const char *
client_label (Client *c)
{
  return c->id[0] ? c->id : "(not joined)";
}

/* Frame header and payload of a text frame from the server (unmasked). */
static gsize
frame_size (gsize payload)
{
  return payload + (payload < 126 ? 2 : payload < 65536 ? 4 : 10);
}

/* Our close frame (1008) would wait behind all the member has not read,
 * and libsoup would give it 5 s to answer, holding that memory: the TCP
 * connection ends now instead. libsoup reads the end of the stream and
 * emits "closed" in a moment, and the member leaves its room there
 * (on_ws_closed), not here: we may be in the middle of sending to its
 * room. Meanwhile nothing more is queued for it (it is closing). */
static void
client_drop_non_reader (Client *c, guint64 unsent)
{
  server_log (&c->server->log, G_LOG_LEVEL_INFO, "%s %s: %" G_GUINT64_FORMAT " bytes not taken, not reading; closing", c->peer,
          client_label (c), unsent);
  ws_link_drop (c->link, SOUP_WEBSOCKET_CLOSE_POLICY_VIOLATION, "not reading");
}

static void
client_send_text (Client *c, const char *text)
{
  gsize size = frame_size (strlen (text));
  guint64 taken;

  /* libsoup ignores sends on a closing connection, but say so explicitly:
   * a client may be mid-close while others still talk about it. */
  if (!ws_link_is_open (c->link))
    return;
  /* The kernel is asked (two system calls) only when the upper bound could
   * pass the limit: about once a MiB for a member that reads, not once a
   * message. With TLS the kernel also takes the records' overhead, so that
   * what waits is counted a little short (some 30 bytes per message). */
  if (c->socket && c->unsent_at_most + size > MAX_UNSENT_BYTES &&
      connection_bytes_taken (c->socket, &taken)) {
    c->unsent_at_most = c->bytes_given > taken ? c->bytes_given - taken : 0;
    if (c->unsent_at_most + size > MAX_UNSENT_BYTES) {
      client_drop_non_reader (c, c->unsent_at_most);
      return;
    }
  }
  c->bytes_given += size;
  c->unsent_at_most += size;
  ws_link_send_text (c->link, text);
}

static void
client_send_node (Client *c, JsonNode *node)
{
  char *text = node_to_text (node);
  client_send_text (c, text);
  g_free (text);
}

/* Sends @text to every member of @r on this server. */
static void
room_send_all (Room *r, const char *text)
{
  for (guint i = 0; i < r->members->len; i++)
    client_send_text (g_ptr_array_index (r->members, i), text);
}

/* member-joined (with @name) or member-left (@name NULL) of @id. */
static char *
member_event_text (const char *id, const char *name)
{
  JsonBuilder *b = json_builder_new ();
  JsonNode *node;
  char *text;

  json_builder_begin_object (b);
  json_builder_set_member_name (b, "type");
  json_builder_add_string_value (b, name ? "member-joined" : "member-left");
  json_builder_set_member_name (b, "id");
  json_builder_add_string_value (b, id);
  if (name) {
    json_builder_set_member_name (b, "name");
    json_builder_add_string_value (b, name);
  }
  json_builder_end_object (b);
  node = json_builder_get_root (b);
  text = node_to_text (node);
  json_node_unref (node);
  g_object_unref (b);
  return text;
}

/* An `error` message's text. */
static char *
error_text (const char *code, const char *reason)
{
  JsonBuilder *b = json_builder_new ();
  JsonNode *node;
  char *text;

  json_builder_begin_object (b);
  json_builder_set_member_name (b, "type");
  json_builder_add_string_value (b, "error");
  json_builder_set_member_name (b, "code");
  json_builder_add_string_value (b, code);
  json_builder_set_member_name (b, "reason");
  json_builder_add_string_value (b, reason);
  json_builder_end_object (b);
  node = json_builder_get_root (b);
  text = node_to_text (node);
  json_node_unref (node);
  g_object_unref (b);
  return text;
}

static void
client_send_error (Client *c, const char *code, const char *reason)
{
  char *text = error_text (code, reason);

  client_send_text (c, text);
  g_free (text);
  /* info, not message: any client can trigger these at will, and a log
   * line per bad frame would let it flood the log. */
  server_log (&c->server->log, G_LOG_LEVEL_INFO, "%s %s: error %s: %s", c->peer, client_label (c), code, reason);
}

/* ---------------------------------------------------------------------- */
/* Rooms                                                                   */

static void
remote_member_free (RemoteMember *m)
{
  g_free (m->name);
  g_free (m);
}

static Room *
room_new (HangoutServer *s, const char *name)
{
  Room *r = g_new0 (Room, 1);

  r->name = g_strdup (name);
  r->members = g_ptr_array_new ();
  if (s->directory)
    r->known = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, (GDestroyNotify) remote_member_free);
  g_hash_table_insert (s->rooms, r->name, r);
  return r;
}

static void
room_know (Room *r, const char *id, const char *server, const char *name)
{
  RemoteMember *m = g_new0 (RemoteMember, 1);

  g_strlcpy (m->server, server, sizeof m->server);
  m->name = g_strdup (name);
  g_hash_table_replace (r->known, g_strdup (id), m);
}

static void
room_free (Room *r)
{
  g_ptr_array_unref (r->members);
  g_clear_pointer (&r->known, g_hash_table_unref);
  g_free (r->name);
  g_free (r);
}

static void
pending_join_free (PendingJoin *pj)
{
  g_free (pj->room);
  g_free (pj);
}

/* Removes a joined client from its room, tells the others, and drops the
 * room when it becomes empty. */
static void
client_leave (Client *c)
{
  HangoutServer *s = c->server;
  Room *r = c->room;

  if (!r)
    return;

  g_ptr_array_remove (r->members, c);
  g_hash_table_remove (s->members, c->id);
  c->room = NULL;

  server_log (&c->server->log, G_LOG_LEVEL_MESSAGE, "leave: %s left room '%s' (%u left)", c->id, r->name, r->members->len);

  if (r->known) {
    /* The others, on this server too, hear it from the room's event: in
     * the room's order with the joins of every server. */
    if (s->directory)
      room_directory_leave (s->directory, r->name, c->id);
  } else {
    char *text = member_event_text (c->id, NULL);
    room_send_all (r, text);
    g_free (text);
  }

  if (r->members->len == 0)
    g_hash_table_remove (s->rooms, r->name); /* frees r */
}

/* ---------------------------------------------------------------------- */
/* Message handlers                                                        */

/* One RTCIceServer of the URLs of the STUN (@turn FALSE) or TURN servers. */
static void
add_ice_server_entry (HangoutServer *s, JsonBuilder *b, gboolean turn)
{
  char tag[ID_HEX_LEN + 1];
  gboolean any = FALSE;

  for (guint i = 0; i < s->ice_servers->len; i++) {
    HangoutIceServer *server = g_ptr_array_index (s->ice_servers, i);
    g_autofree gchar *url = NULL;

    if (hangout_ice_server_is_turn (server) != turn)
      continue;
    if (!any) {
      json_builder_begin_object (b);
      json_builder_set_member_name (b, "urls");
      json_builder_begin_array (b);
      any = TRUE;
    }
    url = hangout_ice_server_to_url (server);
    json_builder_add_string_value (b, url);
  }
  if (!any)
    return;
  json_builder_end_array (b);
  /* The username's ID is random rather than the member's id, which the
   * TURN server and anyone on the way would see. */
  if (turn && random_id (tag)) {
    gint64 expiry = g_get_real_time () / G_USEC_PER_SEC + s->turn_lifetime;
    g_autofree gchar *username = hangout_turn_rest_username (expiry, tag);
    g_autofree gchar *credential = hangout_turn_rest_credential (s->turn_secret, username);

    json_builder_set_member_name (b, "username");
    json_builder_add_string_value (b, username);
    json_builder_set_member_name (b, "credential");
    json_builder_add_string_value (b, credential);
  }
  json_builder_end_object (b);
}

/* welcome's iceServers: the STUN servers, then the TURN servers with
 * credentials of their own for this member. */
static void
add_ice_servers (HangoutServer *s, JsonBuilder *b)
{
  json_builder_set_member_name (b, "iceServers");
  json_builder_begin_array (b);
  add_ice_server_entry (s, b, FALSE);
  add_ice_server_entry (s, b, TRUE);
  json_builder_end_array (b);
}

/* welcome up to its open "members" array. */
static JsonBuilder *
welcome_begin (Client *c, const char *room)
{
  JsonBuilder *b = json_builder_new ();

  json_builder_begin_object (b);
  json_builder_set_member_name (b, "type");
  json_builder_add_string_value (b, "welcome");
  json_builder_set_member_name (b, "id");
  json_builder_add_string_value (b, c->id);
  json_builder_set_member_name (b, "room");
  json_builder_add_string_value (b, room);
  json_builder_set_member_name (b, "version");
  json_builder_add_int_value (b, PROTOCOL_VERSION);
  json_builder_set_member_name (b, "members");
  json_builder_begin_array (b);
  return b;
}

static void
welcome_add_member (JsonBuilder *b, const char *id, const char *name)
{
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "id");
  json_builder_add_string_value (b, id);
  json_builder_set_member_name (b, "name");
  json_builder_add_string_value (b, name);
  json_builder_end_object (b);
}

/* Closes welcome's members, adds the ICE servers and sends it; consumes @b. */
static void
welcome_send (Client *c, JsonBuilder *b)
{
  JsonNode *node;

  json_builder_end_array (b);
  add_ice_servers (c->server, b);
  json_builder_end_object (b);
  node = json_builder_get_root (b);
  client_send_node (c, node);
  json_node_unref (node);
  g_object_unref (b);
}

/* The client is in @r from now on. */
static void
client_enter (Client *c, Room *r)
{
  HangoutServer *s = c->server;

  c->room = r;
  g_ptr_array_add (r->members, c);
  g_hash_table_insert (s->members, c->id, c);
  hangout_clear_source (&c->join_deadline);

  server_log (&c->server->log, G_LOG_LEVEL_MESSAGE, "join: %s %s joined room '%s' (%u members%s)", c->peer, c->id,
              r->name, r->members->len, r->known ? " here" : "");
}

/* Events of the room after @members (a join's list) were applied before
 * our join's answer came: tell @c what they changed. */
static void
client_catch_up (Client *c, Room *r, GPtrArray *members)
{
  GHashTable *listed = g_hash_table_new (g_str_hash, g_str_equal);
  GHashTableIter it;
  gpointer id, value;

  for (guint i = 0; i < members->len; i++) {
    DirectoryMember *m = g_ptr_array_index (members, i);
    g_hash_table_add (listed, m->id);
    if (!g_hash_table_contains (r->known, m->id)) {
      char *text = member_event_text (m->id, NULL);
      client_send_text (c, text);
      g_free (text);
    }
  }
  g_hash_table_iter_init (&it, r->known);
  while (g_hash_table_iter_next (&it, &id, &value)) {
    if (!g_hash_table_contains (listed, id) && !g_str_equal (id, c->id)) {
      char *text = member_event_text (id, ((RemoteMember *) value)->name);
      client_send_text (c, text);
      g_free (text);
    }
  }
  g_hash_table_unref (listed);
}

/* The room directory's answer to a join (room_directory_join()). */
static void
on_directory_joined (DirectoryJoinResult result, guint64 seq, GPtrArray *members, gpointer data)
{
  PendingJoin *pj = data;
  Client *c = pj->client;
  HangoutServer *s;
  Room *r;
  JsonBuilder *b;

  if (!c) {
    pending_join_free (pj);
    return;
  }
  s = c->server;
  c->joining = NULL;
  if (result == DIRECTORY_JOINED && !s->directory)
    result = DIRECTORY_UNAVAILABLE;     /* the server is stopping */
  if (result != DIRECTORY_JOINED) {
    c->id[0] = '\0';
    g_clear_pointer (&c->name, g_free);
    if (result == DIRECTORY_FULL)
      client_send_error (c, "room-full", "the room has the maximum number of members");
    else
      client_send_error (c, "unavailable", "the server has lost its room directory; try again later");
    pending_join_free (pj);
    return;
  }

  b = welcome_begin (c, pj->room);
  for (guint i = 0; i < members->len; i++) {
    DirectoryMember *m = g_ptr_array_index (members, i);
    welcome_add_member (b, m->id, m->name);
  }
  welcome_send (c, b);

  r = g_hash_table_lookup (s->rooms, pj->room);
  if (!r) {
    r = room_new (s, pj->room);
    for (guint i = 0; i < members->len; i++) {
      DirectoryMember *m = g_ptr_array_index (members, i);
      room_know (r, m->id, m->server, m->name);
    }
    room_know (r, c->id, room_directory_server_id (s->directory), c->name);
    r->applied = seq;
  } else {
    if (r->applied > seq)
      client_catch_up (c, r, members);
    /* The members here hear of the newcomer now, not when its event comes
     * round through Redis: its first signals to them are on their way
     * already, and a member hears of another before any signal from it.
     * (On other servers the event comes first: Redis delivers what one
     * connection publishes in order, and the join's event is published
     * before the newcomer has its welcome.) */
    if (!g_hash_table_contains (r->known, c->id)) {
      char *text = member_event_text (c->id, c->name);

      room_know (r, c->id, room_directory_server_id (s->directory), c->name);
      room_send_all (r, text);
      g_free (text);
    }
  }
  /* Later events are the ones after our join. */
  c->since = seq;
  client_enter (c, r);
  pending_join_free (pj);
}

/* A member joined or left, on any server: the members here that joined
 * before it hear of it. */
static void
on_directory_event (const DirectoryEvent *e, gpointer data)
{
  HangoutServer *s = data;
  Room *r = g_hash_table_lookup (s->rooms, e->room);
  char *text;

  if (!r || !r->known || e->seq <= r->applied)
    return;
  r->applied = e->seq;
  /* Nothing new: a join or leave the room's list already had. */
  if (e->joined == g_hash_table_contains (r->known, e->id))
    return;
  if (e->joined)
    room_know (r, e->id, e->server, e->name);
  else
    g_hash_table_remove (r->known, e->id);
  text = member_event_text (e->id, e->name);
  for (guint i = 0; i < r->members->len; i++) {
    Client *m = g_ptr_array_index (r->members, i);
    if (m->since < e->seq && !g_str_equal (m->id, e->id))
      client_send_text (m, text);
  }
  g_free (text);
}

/* A signal frame from a member on another server for @to, ours. */
static void
on_directory_signal (const char *room, const char *to, const char *frame, gpointer data)
{
  HangoutServer *s = data;
  Client *target = g_hash_table_lookup (s->members, to);

  if (!target || !g_str_equal (target->room->name, room) || !hangout_json_is_valid (frame, strlen (frame))) {
    server_log (&s->log, G_LOG_LEVEL_DEBUG, "redis: dropped a signal for %s in '%s'", to, room);
    return;
  }
  client_send_text (target, frame);
}

/* Without the directory no other server hears of our members, nor we of
 * theirs: the members here would see a room that has silently split.
 * They are closed instead, and join again (through another server, when
 * a load balancer has one). */
static void
on_directory_available (gboolean available, gpointer data)
{
  HangoutServer *s = data;
  GHashTableIter it;
  gpointer key;

  if (available)
    return;
  g_hash_table_iter_init (&it, s->clients);
  while (g_hash_table_iter_next (&it, &key, NULL)) {
    Client *c = key;
    if (c->room)
      ws_link_close (c->link, SOUP_WEBSOCKET_CLOSE_SERVER_ERROR, "room directory lost");
  }
}

static const RoomDirectoryHandlers directory_handlers = {
  .event = on_directory_event,
  .signal = on_directory_signal,
  .available = on_directory_available,
};

static void
handle_join (Client *c, JsonObject *msg)
{
  HangoutServer *s = c->server;
  JsonNode *room_node, *name_node, *version_node;
  const char *room_name, *name;
  Room *r;
  JsonBuilder *b;
  char *text;

  if (c->room || c->joining) {
    client_send_error (c, "already-joined", "this connection has already joined a room");
    return;
  }

  room_node = json_object_get_member (msg, "room");
  name_node = json_object_get_member (msg, "name");
  version_node = json_object_get_member (msg, "version");

  if (!room_node || !JSON_NODE_HOLDS_VALUE (room_node) ||
      json_node_get_value_type (room_node) != G_TYPE_STRING) {
    client_send_error (c, "bad-message", "join needs a string member 'room'");
    return;
  }
  if (!name_node || !JSON_NODE_HOLDS_VALUE (name_node) ||
      json_node_get_value_type (name_node) != G_TYPE_STRING) {
    client_send_error (c, "bad-message", "join needs a string member 'name'");
    return;
  }
  if (version_node) {
    if (!JSON_NODE_HOLDS_VALUE (version_node) ||
        json_node_get_value_type (version_node) != G_TYPE_INT64) {
      client_send_error (c, "bad-message", "'version' must be an integer");
      return;
    }
    if (json_node_get_int (version_node) != PROTOCOL_VERSION) {
      client_send_error (c, "bad-message", "unsupported protocol version (this server speaks 1)");
      return;
    }
  }

  room_name = json_node_get_string (room_node);
  name = json_node_get_string (name_node);
  if (!server_valid_room_name (room_name)) {
    client_send_error (c, "bad-room", "a room name is 1 to 64 characters from A-Z a-z 0-9 . _ -");
    return;
  }
  if (!server_valid_member_name (name)) {
    client_send_error (c, "bad-name", "a name is 1 to 64 characters of UTF-8 without control characters");
    return;
  }

  r = g_hash_table_lookup (s->rooms, room_name);
  if (r && r->members->len >= s->max_members) {
    client_send_error (c, "room-full", "the room has the maximum number of members");
    return;
  }
  if (s->directory && !room_directory_is_available (s->directory)) {
    client_send_error (c, "unavailable", "the server has lost its room directory; try again later");
    return;
  }

  /* A collision of 128 random bits will not happen, but checking is free
   * and keeps ids unique by construction rather than by probability. */
  do {
    if (!random_id (c->id)) {
      c->id[0] = '\0';
      g_warning ("getrandom failed: %s", g_strerror (errno));
      client_send_error (c, "internal", "the server could not make an id");
      return;
    }
  } while (g_hash_table_contains (s->members, c->id));
  c->name = g_strdup (name);

  if (s->directory) {
    /* The room limit and the member list are the directory's, over every
     * server: the welcome waits for its answer. */
    c->joining = g_new0 (PendingJoin, 1);
    c->joining->client = c;
    c->joining->room = g_strdup (room_name);
    room_directory_join (s->directory, room_name, c->id, name, s->max_members, on_directory_joined, c->joining);
    return;
  }

  if (!r)
    r = room_new (s, room_name);

  /* welcome: the members already there, not the newcomer. */
  b = welcome_begin (c, r->name);
  for (guint i = 0; i < r->members->len; i++) {
    Client *m = g_ptr_array_index (r->members, i);
    welcome_add_member (b, m->id, m->name);
  }
  welcome_send (c, b);

  /* member-joined to everyone already there. */
  text = member_event_text (c->id, name);
  room_send_all (r, text);
  g_free (text);

  client_enter (c, r);
}

static void
handle_signal (Client *c, JsonObject *msg)
{
  HangoutServer *s = c->server;
  JsonNode *to_node, *payload_node;
  Client *target;
  RemoteMember *remote = NULL;
  JsonObject *out;
  JsonNode *node;
  char *text;

  if (!c->room) {
    client_send_error (c, "not-joined", "join a room before sending signals");
    return;
  }
  to_node = json_object_get_member (msg, "to");
  payload_node = json_object_get_member (msg, "payload");
  if (!to_node || !JSON_NODE_HOLDS_VALUE (to_node) ||
      json_node_get_value_type (to_node) != G_TYPE_STRING) {
    client_send_error (c, "bad-message", "signal needs a string member 'to'");
    return;
  }
  if (!payload_node || !JSON_NODE_HOLDS_OBJECT (payload_node)) {
    client_send_error (c, "bad-message", "signal needs an object member 'payload'");
    return;
  }
  target = g_hash_table_lookup (s->members, json_node_get_string (to_node));
  if (target && target->room != c->room)
    target = NULL;
  /* A member of the room on another server (not one of ours that has
   * left while its leave's event is on the way). */
  if (!target && c->room->known && s->directory) {
    remote = g_hash_table_lookup (c->room->known, json_node_get_string (to_node));
    if (remote && g_str_equal (remote->server, room_directory_server_id (s->directory)))
      remote = NULL;
  }
  /* A member of another room gets the same answer as an unknown id: a
   * client must not learn anything about rooms it is not in. */
  if (!target && !remote) {
    client_send_error (c, "no-such-member", "'to' is not a member of your room");
    return;
  }

  out = json_object_new ();
  json_object_set_string_member (out, "type", "signal");
  json_object_set_string_member (out, "from", c->id);
  json_object_set_member (out, "payload", json_node_ref (payload_node));
  node = json_node_init_object (json_node_alloc (), out);
  text = node_to_text (node);
  json_node_unref (node);
  json_object_unref (out);

  /* The payload passed our checks as parsed JSON, but json-glib does not
   * write every number back as JSON (1e20 comes out as "1e+20.0"): the
   * target would get a frame it cannot parse, so the sender learns that
   * its message did not go. Otherwise the regenerated text is the payload,
   * untouched, and UTF-8 because the frame was. */
  if (!hangout_json_is_valid (text, strlen (text)))
    client_send_error (c, "bad-message", "'payload' has a number this server cannot relay exactly");
  else if (target)
    client_send_text (target, text);
  else
    room_directory_signal (s->directory, remote->server, c->room->name, json_node_get_string (to_node), text);
  g_free (text);
}

/* Token bucket; returns TRUE when the message may be processed. */
static gboolean
client_take_token (Client *c)
{
  gint64 now = g_get_monotonic_time ();

  c->tokens += (double) (now - c->last_refill_us) * RATE_PER_SEC / G_USEC_PER_SEC;
  if (c->tokens > RATE_BURST)
    c->tokens = RATE_BURST;
  c->last_refill_us = now;
  if (c->tokens >= 1.0) {
    c->tokens -= 1.0;
    return TRUE;
  }
  if (!c->rate_error_sent || now - c->last_rate_error_us >= RATE_ERROR_INTERVAL_US) {
    c->rate_error_sent = TRUE;
    c->last_rate_error_us = now;
    client_send_error (c, "rate-limited",
                       "more than 100 messages at once or 20 per second sustained; message dropped");
  }
  return FALSE;
}

#define TOO_BIG_REASON "a message is at most 65536 bytes; closing"

static void
on_too_big (Client *c)
{
  if (!ws_link_is_open (c->link))
    return;
  client_send_error (c, "too-big", TOO_BIG_REASON);
  ws_link_close (c->link, SOUP_WEBSOCKET_CLOSE_TOO_BIG, "message too big");
}

static void
on_ws_message (WsLink *link, gint type, GBytes *bytes, gpointer user_data)
{
  Client *c = user_data;
  gsize len;
  const char *data = g_bytes_get_data (bytes, &len);
  g_autoptr (JsonObject) msg = NULL;
  g_autoptr (GError) error = NULL;
  const char *mtype;

  /* Only reachable for connections that hangout_server_add_client()'s
   * callers make: ours have a MessageSizeStream under them, which refuses
   * such a message as it arrives (see on_ws_error). */
  if (len > MAX_MESSAGE_SIZE) {
    on_too_big (c);
    return;
  }
  /* Before any parsing, so that a flood costs us as little as possible. */
  if (!client_take_token (c))
    return;

  if (type != SOUP_WEBSOCKET_DATA_TEXT) {
    client_send_error (c, "bad-message", "binary frames are not allowed; send JSON text frames");
    return;
  }
  msg = hangout_json_parse_object (data, len, MAX_MESSAGE_SIZE, &error);
  if (msg == NULL) {
    client_send_error (c, "bad-json", error->message);
    return;
  }
  mtype = hangout_json_get_string (msg, "type");
  if (mtype == NULL) {
    client_send_error (c, "bad-type", "a message needs a string member 'type'");
    return;
  }
  if (g_str_equal (mtype, "join"))
    handle_join (c, msg);
  else if (g_str_equal (mtype, "signal"))
    handle_signal (c, msg);
  else
    client_send_error (c, "bad-type", "unknown message type");
}

static void
on_ws_error (WsLink *link, const GError *error, gpointer user_data)
{
  Client *c = user_data;

  /* libsoup refuses a frame larger than max-incoming-payload-size, and
   * our MessageSizeStream a message larger than MAX_MESSAGE_SIZE, by
   * emitting this and then dropping the TCP connection at once: the link
   * answered it with the error and close code 1009 there and then
   * (ws_shards_new's too_big_reply). */
  if (error->domain == SOUP_WEBSOCKET_ERROR && error->code == SOUP_WEBSOCKET_CLOSE_TOO_BIG) {
    server_log (&c->server->log, G_LOG_LEVEL_INFO, "%s %s: error too-big: %s", c->peer, client_label (c),
                TOO_BIG_REASON);
    return;
  }
  server_log (&c->server->log, G_LOG_LEVEL_INFO, "%s %s: websocket error: %s", c->peer, client_label (c), error->message);
}

/* libsoup 3.2 leaks one reference to the GSocket of every connection it
 * accepts (found with LeakSanitizer and heaptrack: one GSocket, ~350 bytes,
 * per connection, so the server grew with every member that ever joined
 * and every HTTP request; the file descriptor itself is closed). We take our
 * own reference to each connection's socket when its first request starts
 * (on_request_started) and give the orphan back once libsoup is done with
 * the connection: at that point a count of exactly two means ours plus the
 * orphan; with a libsoup that does not leak it is one and we drop only
 * ours. "Done" is: for a WebSocket, an idle after our connection object
 * was finalized; for plain HTTP (no signal tells us when libsoup lets go),
 * the socket has been closed for a whole sweep interval; and when the server
 * stops, after its SoupServer is gone. Each server keeps its own sockets, so
 * servers started and stopped one after another, or side by side, in one
 * process never release each other's. */
static void
release_socket (GSocket *sock)
{
  if (G_OBJECT (sock)->ref_count == 2)
    g_object_unref (sock);
  g_object_unref (sock);
}

/* HangoutServer.sockets maps each socket to 0 (open) or 1 (closed at the last sweep). */
static gboolean
on_sweep_sockets (gpointer user_data)
{
  HangoutServer *s = user_data;
  GHashTableIter it;
  gpointer key, value;
  GPtrArray *done = g_ptr_array_new ();

  /* Not g_hash_table_foreach_remove: sweep_socket also updates values. */
  g_hash_table_iter_init (&it, s->sockets);
  while (g_hash_table_iter_next (&it, &key, &value)) {
    GSocket *sock = key;
    if (!g_socket_is_closed (sock))
      continue;
    if (GPOINTER_TO_INT (value) == 0)
      g_hash_table_iter_replace (&it, GINT_TO_POINTER (1));
    else if (G_OBJECT (sock)->ref_count <= 2)
      g_ptr_array_add (done, sock);
  }
  for (guint i = 0; i < done->len; i++) {
    g_hash_table_remove (s->sockets, done->pdata[i]);
    release_socket (done->pdata[i]);
  }
  g_ptr_array_unref (done);
  return G_SOURCE_CONTINUE;
}

static void
on_request_started (SoupServer *soup, SoupServerMessage *msg, gpointer user_data)
{
  HangoutServer *s = user_data;
  GSocket *sock = soup_server_message_get_socket (msg);

  /* No handler of ours reads a request body (GET and HEAD only; anything
   * else is answered 405). libsoup would otherwise read any body into
   * memory whole before a handler runs: a 256 MiB POST cost 260 MiB. Now
   * it is dropped as it arrives, within the request timeout. */
  soup_message_body_set_accumulate (soup_server_message_get_request_body (msg), FALSE);
  if (sock && !g_hash_table_contains (s->sockets, sock))
    g_hash_table_insert (s->sockets, g_object_ref (sock), GINT_TO_POINTER (0));
}

static gboolean
sweep_sockets_idle (gpointer user_data)
{
  HangoutServer *s = user_data;

  g_clear_pointer (&s->sweep_idle, g_source_unref);
  on_sweep_sockets (s);
  return G_SOURCE_REMOVE;
}

static void
client_free (Client *c)
{
  hangout_clear_source (&c->join_deadline);
  if (c->joining)
    c->joining->client = NULL;
  if (c->holds_place)
    connection_limits_release (c->server->limits, c->peer);
  ws_link_release (c->link);
  /* Back to the sweep, marked as seen closed, and sweep at the next idle:
   * the connection is finalized only after its "closed" emission. (With
   * TLS, libsoup may hold the socket a little longer; then a later sweep,
   * or the one at stop, releases it.) */
  if (c->socket) {
    g_hash_table_insert (c->server->sockets, c->socket, GINT_TO_POINTER (1));
    if (!c->server->sweep_idle)
      c->server->sweep_idle = server_attach (c->server, g_idle_source_new (), sweep_sockets_idle);
  }
  g_free (c->name);
  g_free (c->peer);
  g_free (c);
}

static void
on_ws_closed (WsLink *link, gushort code, gpointer user_data)
{
  Client *c = user_data;
  HangoutServer *s = c->server;

  server_log (&c->server->log, G_LOG_LEVEL_INFO, "%s %s: closed (code %u)", c->peer, client_label (c), code);
  client_leave (c);
  g_hash_table_remove (s->clients, c); /* frees c */
  if (s->shutting_down && g_hash_table_size (s->clients) == 0)
    g_main_loop_quit (s->loop);
}

/* A connection that holds a socket without joining: a client that broke
 * down before its join, or one that only takes up room. */
static gboolean
on_join_deadline (gpointer data)
{
  Client *c = data;
  char *reason = g_strdup_printf ("no join within %u s", c->server->join_timeout);

  server_log (&c->server->log, G_LOG_LEVEL_INFO, "%s: %s, closing", c->peer, reason);
  g_clear_pointer (&c->join_deadline, g_source_unref);
  ws_link_close (c->link, SOUP_WEBSOCKET_CLOSE_POLICY_VIOLATION, reason);
  g_free (reason);
  return G_SOURCE_REMOVE;
}

static const WsLinkCallbacks link_callbacks = {
  .message = on_ws_message,
  .error = on_ws_error,
  .closed = on_ws_closed,
};

/* A new member's connection: @stream, whose handshake was answered, on a
 * shard, or @conn, already open on our context. */
static Client *
add_client (HangoutServer *s, GIOStream *stream, SoupServerMessage *msg, SoupWebsocketConnection *conn,
            GSocket *socket, const char *peer)
{
  Client *c = g_new0 (Client, 1);

  c->server = s;
  /* One byte over the protocol limit: a frame of exactly 65536 bytes is
   * fine (libsoup refuses payload_len >= this value). */
  if (conn)
    c->link = ws_shards_adopt_connection (s->shards, conn, socket, MAX_MESSAGE_SIZE + 1, KEEPALIVE_SECONDS,
                                          &link_callbacks, c);
  else
    c->link = ws_shards_adopt (s->shards, stream, socket, soup_server_message_get_uri (msg),
                               soup_message_headers_get_one (soup_server_message_get_request_headers (msg),
                                                             "Origin"),
                               MAX_MESSAGE_SIZE + 1, KEEPALIVE_SECONDS, &link_callbacks, c);
  c->socket = socket;
  c->peer = g_strdup (peer ? peer : "?");
  c->tokens = RATE_BURST;
  c->last_refill_us = g_get_monotonic_time ();
  /* The handshake's answer is already written. */
  if (!socket || !connection_bytes_taken (socket, &c->bytes_given))
    c->bytes_given = 0;

  /* Not _seconds(): that one may fire up to a second early. */
  c->join_deadline = g_timeout_source_new (s->join_timeout * 1000);
  g_source_set_callback (c->join_deadline, on_join_deadline, c, NULL);
  g_source_attach (c->join_deadline, s->context);
  g_hash_table_add (s->clients, c);
  server_log (&s->log, G_LOG_LEVEL_INFO, "%s: websocket connected", c->peer);
  return c;
}

void
hangout_server_add_client (HangoutServer *s, SoupWebsocketConnection *conn, GSocket *socket,
                           const char *peer)
{
  add_client (s, NULL, NULL, conn, socket, peer);
}

/* A WebSocket on @stream, on our context, only to be closed at once. */
static void
refuse (SoupServerMessage *msg, GIOStream *stream, gushort code, const char *reason)
{
  SoupWebsocketConnection *conn = soup_websocket_connection_new (stream, soup_server_message_get_uri (msg),
                                                                 SOUP_WEBSOCKET_CONNECTION_SERVER,
                                                                 soup_message_headers_get_one (soup_server_message_get_request_headers (msg),
                                                                                               "Origin"),
                                                                 NULL, NULL);

  soup_websocket_connection_close (conn, code, reason);
  g_object_unref (conn);
}

static void
on_websocket (HangoutServer *s, SoupServerMessage *msg, GIOStream *stream)
{
  GSocket *socket;
  Client *c;

  if (s->shutting_down) {
    refuse (msg, stream, SOUP_WEBSOCKET_CLOSE_GOING_AWAY, "server shutting down");
    return;
  }
  /* Each connection is a file descriptor: beyond the cap, a flood of
   * connections would make accept() fail for everyone. */
  if (g_hash_table_size (s->clients) >= s->max_connections) {
    server_log (&s->log, G_LOG_LEVEL_INFO, "%s: refused, %u connections already", soup_server_message_get_remote_host (msg),
            g_hash_table_size (s->clients));
    /* 1008: 1013 ("try again later") would fit better, but libsoup 3.2
     * clients, ours among them, take it for a protocol error (1002). */
    refuse (msg, stream, SOUP_WEBSOCKET_CLOSE_POLICY_VIOLATION, "server full");
    return;
  }

  /* Take over the reference on_request_started took for the upgrade
   * request, so that the socket is released as soon as we are done. */
  socket = soup_server_message_get_socket (msg);
  if (socket && !g_hash_table_steal (s->sockets, socket))
    socket = NULL;
  c = add_client (s, stream, msg, NULL, socket, soup_server_message_get_remote_host (msg));
  /* The place its HTTP connection had (which ended as the WebSocket took
   * the stream over): a WebSocket counts as a connection of its address. */
  connection_limits_hold (s->limits, c->peer);
  c->holds_place = TRUE;
}

/* The handshake is answered (101): the stream is ours now. As libsoup's
 * own WebSocket handler does it (soup-server.c, complete_websocket_upgrade)
 * but with a MessageSizeStream under the connection, which then runs on a
 * shard. */
static void
on_ws_upgraded (SoupServerMessage *msg, gpointer user_data)
{
  HangoutServer *s = user_data;
  GIOStream *stream, *capped;

  g_object_ref (msg);
  stream = soup_server_message_steal_connection (msg);
  capped = message_size_stream_new (stream, MAX_MESSAGE_SIZE);
  on_websocket (s, msg, capped);
  g_object_unref (capped);
  g_object_unref (stream);
  g_object_unref (msg);
}

/* GET /ws: the WebSocket handshake (RFC 6455 §4.2), no subprotocol and no
 * extension (permessage-deflate is of no use for small signalling
 * messages, and libsoup would apply the size limit to the compressed
 * frame: a 64 KiB frame could inflate to megabytes). A bad one is answered
 * 400 by libsoup. */
static void
on_ws_request (SoupServer *soup, SoupServerMessage *msg, const char *path, GHashTable *query,
               gpointer user_data)
{
  if (soup_websocket_server_process_handshake (msg, NULL, NULL, NULL, NULL))
    g_signal_connect (msg, "wrote-informational", G_CALLBACK (on_ws_upgraded), user_data);
}

/* ---------------------------------------------------------------------- */
/* HTTP: /healthz and static files                                         */

static void
on_healthz (SoupServer *soup, SoupServerMessage *msg, const char *path,
            GHashTable *query, gpointer user_data)
{
  HangoutServer *s = user_data;
  const char *method = soup_server_message_get_method (msg);
  char *body;

  if (!g_str_equal (path, "/healthz")) {
    soup_server_message_set_status (msg, SOUP_STATUS_NOT_FOUND, NULL);
    return;
  }
  if (method != SOUP_METHOD_GET && method != SOUP_METHOD_HEAD) {
    soup_server_message_set_status (msg, SOUP_STATUS_METHOD_NOT_ALLOWED, NULL);
    soup_message_headers_replace (soup_server_message_get_response_headers (msg), "Allow", "GET, HEAD");
    return;
  }
  body = g_strdup_printf ("{\"rooms\":%u,\"members\":%u}\n", g_hash_table_size (s->rooms),
                          g_hash_table_size (s->members));
  soup_message_headers_replace (soup_server_message_get_response_headers (msg), "Cache-Control", "no-store");
  soup_server_message_set_status (msg, SOUP_STATUS_OK, NULL);
  soup_server_message_set_response (msg, "application/json", SOUP_MEMORY_TAKE, body, strlen (body));
}

static const char *
mime_for (const char *file)
{
  /* Explicit for what the web client uses: browsers refuse module scripts
   * with a wrong MIME type, and shared-mime-info may not be installed. */
  static const struct { const char *ext, *mime; } table[] = {
    { ".html", "text/html; charset=utf-8" }, { ".htm", "text/html; charset=utf-8" },
    { ".js", "text/javascript; charset=utf-8" }, { ".mjs", "text/javascript; charset=utf-8" },
    { ".css", "text/css; charset=utf-8" }, { ".json", "application/json" },
    { ".svg", "image/svg+xml" }, { ".png", "image/png" }, { ".ico", "image/x-icon" },
    { ".wasm", "application/wasm" }, { ".txt", "text/plain; charset=utf-8" },
  };
  for (gsize i = 0; i < G_N_ELEMENTS (table); i++)
    if (g_str_has_suffix (file, table[i].ext))
      return table[i].mime;
  return "application/octet-stream";
}

/* Opens REL (a relative path without "." or ".." components) below the
 * web root, never leaving it: openat2(RESOLVE_BENEATH) refuses symlinks
 * and ".." that would escape, atomically. Where openat2 is unavailable
 * (old kernel, seccomp), fall back to comparing realpath() with the root. */
static int
open_beneath (HangoutServer *s, const char *rel)
{
  struct open_how how = {
    .flags = O_RDONLY | O_CLOEXEC | O_NOCTTY,
    .resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS,
  };
  long fd = syscall (SYS_openat2, s->web_root_fd, rel, &how, sizeof how);
  char *joined, *real;
  gsize rootlen;

  if (fd >= 0 || (errno != ENOSYS && errno != EPERM))
    return (int) fd;

  joined = g_build_filename (s->web_root_real, rel, NULL);
  real = realpath (joined, NULL);
  g_free (joined);
  if (!real)
    return -1;
  rootlen = strlen (s->web_root_real);
  if (strncmp (real, s->web_root_real, rootlen) != 0 ||
      (real[rootlen] != '/' && real[rootlen] != '\0' && !g_str_equal (s->web_root_real, "/"))) {
    free (real);
    errno = EXDEV;
    return -1;
  }
  fd = open (real, O_RDONLY | O_CLOEXEC | O_NOCTTY);
  free (real);
  return (int) fd;
}

/* Reads a regular file completely; FALSE for anything else. */
static gboolean
read_regular_file (int fd, guint8 **out, gsize *out_len, gboolean *is_dir)
{
  struct stat st;
  guint8 *buf;
  gsize got = 0;

  *is_dir = FALSE;
  if (fstat (fd, &st) < 0)
    return FALSE;
  if (S_ISDIR (st.st_mode)) {
    *is_dir = TRUE;
    return FALSE;
  }
  if (!S_ISREG (st.st_mode) || st.st_size > MAX_STATIC_FILE_SIZE)
    return FALSE;
  buf = g_malloc ((gsize) st.st_size + 1);
  while (got < (gsize) st.st_size) {
    ssize_t n = read (fd, buf + got, (gsize) st.st_size - got);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      break; /* error, or the file shrank: serve what is there */
    got += (gsize) n;
  }
  *out = buf;
  *out_len = got;
  return TRUE;
}

/* The built-in web client: the files of gst/web, compiled in. Only names
 * at the top level exist there; "/" is index.html. The path is still
 * percent-encoded, so anything encoded (or with "..") fails the name check
 * and is not found. */
static void
serve_builtin (SoupServerMessage *msg, const char *path)
{
  const char *name = g_str_equal (path, "/") ? "index.html" : path + 1;
  gboolean ok = name[0] != '\0' && name[0] != '.';
  GBytes *data = NULL;

  for (const char *p = name; ok && *p; p++)
    ok = g_ascii_isalnum (*p) || *p == '.' || *p == '_' || *p == '-';
  if (ok) {
    char *resource_path = g_strconcat (WEB_RESOURCE_PREFIX, name, NULL);
    data = g_resource_lookup_data (hangout_web_get_resource (), resource_path,
                                   G_RESOURCE_LOOKUP_FLAGS_NONE, NULL);
    g_free (resource_path);
  }
  if (!data) {
    soup_server_message_set_status (msg, SOUP_STATUS_NOT_FOUND, NULL);
    return;
  }
  soup_server_message_set_status (msg, SOUP_STATUS_OK, NULL);
  soup_message_headers_replace (soup_server_message_get_response_headers (msg), "Content-Type",
                                mime_for (name));
  soup_message_body_append_bytes (soup_server_message_get_response_body (msg), data);
  g_bytes_unref (data);
}

/* Turns the request path into a relative path below the root, or NULL if
 * it is not acceptable. The path from libsoup is still percent-encoded, so
 * "%2e%2e" arrives as such and is decoded (and refused) here; "%2f" and
 * "%00" are refused outright by g_uri_unescape_string. */
static char *
safe_relative_path (const char *path)
{
  char *decoded, **parts;
  GString *rel;

  if (!path || path[0] != '/')
    return NULL;
  decoded = g_uri_unescape_string (path, "/");
  if (!decoded)
    return NULL;
  parts = g_strsplit (decoded, "/", -1);
  g_free (decoded);
  rel = g_string_new (NULL);
  for (char **p = parts; *p; p++) {
    if (**p == '\0' || g_str_equal (*p, "."))
      continue;
    if (g_str_equal (*p, "..") || strchr (*p, '\\')) {
      g_strfreev (parts);
      g_string_free (rel, TRUE);
      return NULL;
    }
    if (rel->len)
      g_string_append_c (rel, '/');
    g_string_append (rel, *p);
  }
  g_strfreev (parts);
  if (rel->len == 0)
    g_string_assign (rel, ".");
  return g_string_free (rel, FALSE);
}

static void
on_http (SoupServer *soup, SoupServerMessage *msg, const char *path,
         GHashTable *query, gpointer user_data)
{
  HangoutServer *s = user_data;
  const char *method = soup_server_message_get_method (msg);
  SoupMessageHeaders *hdrs = soup_server_message_get_response_headers (msg);
  char *rel, *index_rel;
  int fd;
  guint8 *data = NULL;
  gsize len = 0;
  gboolean is_dir = FALSE, ok;
  const char *served;

  if (method != SOUP_METHOD_GET && method != SOUP_METHOD_HEAD) {
    soup_server_message_set_status (msg, SOUP_STATUS_METHOD_NOT_ALLOWED, NULL);
    soup_message_headers_replace (hdrs, "Allow", "GET, HEAD");
    return;
  }
  soup_message_headers_replace (hdrs, "X-Content-Type-Options", "nosniff");

  if (s->web_root_fd < 0) {
    serve_builtin (msg, path);
    return;
  }

  rel = safe_relative_path (path);
  if (!rel) {
    server_log (&s->log, G_LOG_LEVEL_INFO, "http: refused path %s", path);
    soup_server_message_set_status (msg, SOUP_STATUS_NOT_FOUND, NULL);
    return;
  }
  served = rel;
  index_rel = NULL;
  fd = open_beneath (s, rel);
  ok = fd >= 0 && read_regular_file (fd, &data, &len, &is_dir);
  if (fd >= 0)
    close (fd);
  if (!ok && is_dir) {
    index_rel = g_strconcat (rel, "/index.html", NULL);
    served = index_rel;
    fd = open_beneath (s, index_rel);
    ok = fd >= 0 && read_regular_file (fd, &data, &len, &is_dir);
    if (fd >= 0)
      close (fd);
  }
  if (!ok) {
    soup_server_message_set_status (msg, SOUP_STATUS_NOT_FOUND, NULL);
  } else {
    soup_server_message_set_status (msg, SOUP_STATUS_OK, NULL);
    soup_server_message_set_response (msg, mime_for (served), SOUP_MEMORY_TAKE,
                                      (const char *) data, len);
  }
  g_free (index_rel);
  g_free (rel);
}

/* ---------------------------------------------------------------------- */
/* Startup and shutdown                                                    */

static gboolean
on_shutdown_timeout (gpointer user_data)
{
  HangoutServer *s = user_data;

  g_main_loop_quit (s->loop);
  return G_SOURCE_REMOVE;
}

/* hangout_server_stop()'s request, on the server's thread. */
static gboolean
shut_down (gpointer user_data)
{
  HangoutServer *s = user_data;
  GHashTableIter it;
  gpointer key;

  server_log (&s->log, G_LOG_LEVEL_MESSAGE, "shutting down (%u connections)", g_hash_table_size (s->clients));
  s->shutting_down = TRUE;
  /* No new connections while we close the existing ones. */
  connection_limits_stop_listening (s->limits);
  soup_server_disconnect (s->soup);
  if (g_hash_table_size (s->clients) == 0) {
    g_main_loop_quit (s->loop);
    return G_SOURCE_REMOVE;
  }
  /* Give clients a moment to answer our close; then drop the rest. */
  s->shutdown_timer = server_attach (s, g_timeout_source_new (s->grace_ms), on_shutdown_timeout);
  g_hash_table_iter_init (&it, s->clients);
  while (g_hash_table_iter_next (&it, &key, NULL)) {
    Client *c = key;
    ws_link_close (c->link, SOUP_WEBSOCKET_CLOSE_GOING_AWAY, "server shutting down");
  }
  return G_SOURCE_REMOVE;
}

/* Drops every connection and the SoupServer. Runs on the thread that has
 * the server's context pushed: the server's own once it has run, the
 * starting thread when hangout_server_start() fails. */
static void
server_teardown (HangoutServer *s)
{
  GHashTableIter it;
  gpointer key;

  /* shut_down sent close(1001) to everyone and the loop ran until all had
   * answered or the grace time passed; drop whoever is left. First our
   * members leave the directory, so that the other servers tell theirs
   * at once. */
  hangout_clear_source (&s->shutdown_timer);
  if (s->directory) {
    RoomDirectory *directory = s->directory;

    s->directory = NULL;
    room_directory_free (directory);
  }
  g_hash_table_iter_init (&it, s->clients);
  while (g_hash_table_iter_next (&it, &key, NULL)) {
    Client *c = key;
    c->room = NULL;
    g_hash_table_iter_remove (&it); /* client_free: drops our ref */
  }
  g_hash_table_remove_all (s->members);
  g_hash_table_remove_all (s->rooms);
  /* Their connections are dropped on the shards before these end. */
  g_clear_pointer (&s->shards, ws_shards_free);

  hangout_clear_source (&s->sweep_timer);
  hangout_clear_source (&s->sweep_idle);
  g_clear_object (&s->soup);
  /* Let libsoup finish closing streams it still owns (async closes). */
  while (g_main_context_iteration (s->context, FALSE))
    ;
  /* Its connections have ended: it drops its references to their sockets
   * (before the count release_socket() looks at). */
  g_clear_pointer (&s->limits, connection_limits_free);
  /* libsoup owns nothing any more: return every orphaned socket. */
  g_hash_table_iter_init (&it, s->sockets);
  while (g_hash_table_iter_next (&it, &key, NULL)) {
    g_hash_table_iter_remove (&it);
    release_socket (key);
  }
}

/* After server_teardown(), with no thread left on the context. */
static void
server_free (HangoutServer *s)
{
  g_clear_object (&s->listener);
  g_clear_object (&s->certificate);
  g_ptr_array_unref (s->ice_servers);
  if (s->turn_secret)
    memset (s->turn_secret, 0, strlen (s->turn_secret));
  g_free (s->turn_secret);
  g_hash_table_unref (s->clients);
  g_hash_table_unref (s->members);
  g_hash_table_unref (s->rooms);
  g_hash_table_unref (s->sockets);
  if (s->web_root_fd >= 0)
    close (s->web_root_fd);
  free (s->web_root_real);
  g_main_loop_unref (s->loop);
  g_main_context_unref (s->context);
  g_free (s->url);
  g_free (s->web_url);
  g_free (s);
}

static gpointer
server_thread (gpointer data)
{
  HangoutServer *s = data;

  g_main_context_push_thread_default (s->context);
  g_main_loop_run (s->loop);
  server_teardown (s);
  g_main_context_pop_thread_default (s->context);
  return NULL;
}

static gboolean
open_web_root (HangoutServer *s, const char *web_root, GError **error)
{
  s->web_root_real = realpath (web_root, NULL);
  if (s->web_root_real)
    s->web_root_fd = open (s->web_root_real, O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (s->web_root_fd < 0) {
    int errsv = errno;
    g_set_error (error, G_IO_ERROR, g_io_error_from_errno (errsv), "web root %s: %s", web_root,
                 g_strerror (errsv));
    return FALSE;
  }
  return TRUE;
}

static GInetAddress *
resolve_host (const char *host, GError **error)
{
  GInetAddress *addr = g_inet_address_new_from_string (host);
  GResolver *resolver;
  GList *list;

  if (addr)
    return addr;
  resolver = g_resolver_get_default ();
  list = g_resolver_lookup_by_name (resolver, host, NULL, error);
  g_object_unref (resolver);
  if (!list) {
    g_prefix_error (error, "host %s: ", host);
    return NULL;
  }
  addr = g_object_ref (list->data);
  g_resolver_free_addresses (list);
  return addr;
}

/* For a server listening on every address (@any, 0.0.0.0 or ::), the
 * address to name in its URLs: one of this machine's, of @any's family,
 * not loopback, on an interface that is up (the first getifaddrs() lists),
 * which other machines may reach; the loopback address when there is none.
 * (transfer full) */
static GInetAddress *
reachable_address (GInetAddress *any)
{
  GSocketFamily family = g_inet_address_get_family (any);
  struct ifaddrs *list = NULL;
  GInetAddress *found = NULL;

  if (getifaddrs (&list) == 0) {
    for (struct ifaddrs *i = list; i != NULL && found == NULL; i = i->ifa_next) {
      GSocketAddress *address;

      if (i->ifa_addr == NULL || !(i->ifa_flags & IFF_UP) || (i->ifa_flags & IFF_LOOPBACK)
          || i->ifa_addr->sa_family != (family == G_SOCKET_FAMILY_IPV6 ? AF_INET6 : AF_INET))
        continue;
      address = g_socket_address_new_from_native (i->ifa_addr, family == G_SOCKET_FAMILY_IPV6
                                                  ? sizeof (struct sockaddr_in6)
                                                  : sizeof (struct sockaddr_in));
      /* Not a link-local IPv6 address: a URL cannot name its interface. */
      if (address != NULL
          && !g_inet_address_get_is_link_local (g_inet_socket_address_get_address (G_INET_SOCKET_ADDRESS (address))))
        found = g_object_ref (g_inet_socket_address_get_address (G_INET_SOCKET_ADDRESS (address)));
      g_clear_object (&address);
    }
    freeifaddrs (list);
  }
  return found != NULL ? found : g_inet_address_new_loopback (family);
}

/* Listens on HOST:PORT and sets the URLs from the address we got. */
static gboolean
server_listen (HangoutServer *s, const char *host, guint16 port, GError **error)
{
  GInetAddress *addr = resolve_host (host, error);
  GSocketAddress *saddr, *local;
  gboolean ok, tls = s->certificate != NULL;

  if (!addr)
    return FALSE;
  saddr = g_inet_socket_address_new (addr, port);
  /* Our own socket rather than soup_server_listen(): that one listens with
   * GLib's default backlog of 10, so a burst of members joining at once
   * (a class opening a page) overflows the accept queue and their SYNs
   * wait for TCP retransmission, seconds each. */
  s->listener = g_socket_new (g_inet_address_get_family (addr), G_SOCKET_TYPE_STREAM,
                              G_SOCKET_PROTOCOL_TCP, error);
  ok = s->listener != NULL;
  if (ok) {
    g_socket_set_listen_backlog (s->listener, LISTEN_BACKLOG);
    ok = g_socket_bind (s->listener, saddr, TRUE, error) && g_socket_listen (s->listener, error) &&
         connection_limits_listen (s->limits, s->listener, tls ? SOUP_SERVER_LISTEN_HTTPS : 0, error);
  }
  g_object_unref (saddr);
  g_object_unref (addr);
  if (!ok) {
    g_prefix_error (error, "cannot listen on %s port %u: ", host, port);
    return FALSE;
  }

  /* The URL from our own socket: it knows the port that port 0 got. (Also,
   * soup_server_get_uris() in libsoup 3.2 leaks an address per call.) */
  local = g_socket_get_local_address (s->listener, error);
  if (!local)
    return FALSE;
  {
    GInetAddress *listened = g_inet_socket_address_get_address (G_INET_SOCKET_ADDRESS (local));
    /* On every address: 0.0.0.0 in a URL means nothing to a browser. */
    GInetAddress *named = g_inet_address_get_is_any (listened) ? reachable_address (listened)
                                                                : g_object_ref (listened);
    char *ip = g_inet_address_to_string (named);
    gboolean v6 = strchr (ip, ':') != NULL;
    char *hostport = g_strdup_printf ("%s%s%s:%u", v6 ? "[" : "", ip, v6 ? "]" : "",
                                      g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (local)));

    s->url = g_strdup_printf ("%s://%s/ws", tls ? "wss" : "ws", hostport);
    s->web_url = g_strdup_printf ("%s://%s/", tls ? "https" : "http", hostport);
    g_free (hostport);
    g_free (ip);
    g_object_unref (named);
  }
  g_object_unref (local);
  server_log (&s->log, G_LOG_LEVEL_MESSAGE, "listening on %s (max %u members per room, %u connections, %u from one address)",
             s->web_url, s->max_members, connection_limits_get_max_total (s->limits), s->max_per_address);
  return TRUE;
}

/* On the starting thread, with the server's context pushed. */
/* The STUN and TURN servers of every welcome, checked now rather than by
 * each member. */
static gboolean
parse_ice_servers (HangoutServer *s, const gchar *const *urls, GError **error)
{
  for (guint i = 0; urls && urls[i]; i++) {
    HangoutIceServer *server = hangout_ice_server_parse (urls[i], NULL, NULL, error);

    if (!server)
      return FALSE;
    g_ptr_array_add (s->ice_servers, server);
    if (server->username) {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                   "server '%s': no credentials in the URL: each member gets its own, "
                   "made from the TURN secret", urls[i]);
      return FALSE;
    }
    if (hangout_ice_server_is_turn (server) && !(s->turn_secret && *s->turn_secret)) {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                   "server '%s': a TURN server needs the TURN secret for its credentials",
                   urls[i]);
      return FALSE;
    }
  }
  return TRUE;
}

static gboolean
server_setup (HangoutServer *s, const HangoutServerOptions *options, GError **error)
{
  if (!parse_ice_servers (s, options->ice_servers, error))
    return FALSE;
  if (options->web_root && !open_web_root (s, options->web_root, error))
    return FALSE;

  s->soup = soup_server_new ("server-header", "hangout-server/" HANGOUT_VERSION " ",
                             "tls-certificate", s->certificate, NULL);
  s->limits = connection_limits_new (s->soup, s->context, s->max_per_address, s->request_timeout,
                                     &s->log);
  soup_server_add_handler (s->soup, "/ws", on_ws_request, s, NULL);
  soup_server_add_handler (s->soup, "/healthz", on_healthz, s, NULL);
  soup_server_add_handler (s->soup, NULL, on_http, s, NULL);
  g_signal_connect (s->soup, "request-started", G_CALLBACK (on_request_started), s);
  s->sweep_timer = server_attach (s, g_timeout_source_new_seconds (SOCKET_SWEEP_SECONDS), on_sweep_sockets);
  /* Joined to the other servers before anyone can join here. */
  if (options->redis) {
    s->directory = room_directory_new (options->redis, s->context, &directory_handlers, s, &s->log, error);
    if (!s->directory || !room_directory_wait_available (s->directory, REDIS_CONNECT_TIMEOUT_MS, error))
      return FALSE;
  }

  return server_listen (s, options->host ? options->host : HANGOUT_SERVER_DEFAULT_HOST, options->port,
                        error);
}

/* Runs server_teardown() where no thread runs the context. */
static void
server_teardown_here (HangoutServer *s)
{
  g_main_context_push_thread_default (s->context);
  server_teardown (s);
  g_main_context_pop_thread_default (s->context);
}

/* What a NULL HangoutServerOptions means: every default. */
static const HangoutServerOptions default_options = { 0 };

/* A server not yet listening; its WebSockets run on shards of
 * @per_shard, or on its own context with 0. */
static HangoutServer *
server_new (const HangoutServerOptions *options, guint per_shard)
{
  HangoutServer *s = g_new0 (HangoutServer, 1);
  char *too_big;

  if (!options)
    options = &default_options;
  s->max_members = options->max_members ? options->max_members : HANGOUT_SERVER_DEFAULT_MAX_MEMBERS;
  s->max_connections = options->max_connections ? options->max_connections
                                                : HANGOUT_SERVER_DEFAULT_MAX_CONNECTIONS;
  s->join_timeout = options->join_timeout ? options->join_timeout : HANGOUT_SERVER_DEFAULT_JOIN_TIMEOUT;
  s->max_per_address = options->max_per_address ? options->max_per_address
                                                : HANGOUT_SERVER_DEFAULT_MAX_PER_ADDRESS;
  s->request_timeout = options->request_timeout ? options->request_timeout
                                                : HANGOUT_SERVER_DEFAULT_REQUEST_TIMEOUT;
  s->log.func = options->log_func;
  s->log.data = options->log_data;
  s->web_root_fd = -1;
  s->certificate = options->certificate ? g_object_ref (options->certificate) : NULL;
  s->ice_servers = g_ptr_array_new_with_free_func ((GDestroyNotify) hangout_ice_server_free);
  s->turn_secret = g_strdup (options->turn_secret);
  s->turn_lifetime = options->turn_credential_lifetime ? options->turn_credential_lifetime
                                                       : HANGOUT_SERVER_DEFAULT_TURN_CREDENTIAL_LIFETIME;
  s->rooms = g_hash_table_new_full (g_str_hash, g_str_equal, NULL, (GDestroyNotify) room_free);
  s->members = g_hash_table_new (g_str_hash, g_str_equal);
  s->clients = g_hash_table_new_full (NULL, NULL, (GDestroyNotify) client_free, NULL);
  s->sockets = g_hash_table_new (NULL, NULL);
  s->context = g_main_context_new ();
  s->loop = g_main_loop_new (s->context, FALSE);
  too_big = error_text ("too-big", TOO_BIG_REASON);
  s->shards = ws_shards_new (s->context, per_shard, too_big);
  g_free (too_big);
  return s;
}

/* Its connections run on its context, where whoever drives it runs
 * them. */
HangoutServer *
hangout_server_new_detached (const HangoutServerOptions *options)
{
  return server_new (options, 0);
}

void
hangout_server_free_detached (HangoutServer *s)
{
  server_teardown_here (s);
  server_free (s);
}

HangoutServer *
hangout_server_start (const HangoutServerOptions *options, GError **error)
{
  HangoutServer *s;
  gboolean ok;

  g_return_val_if_fail (error == NULL || *error == NULL, NULL);
  if (!options)
    options = &default_options;
  s = server_new (options, WEBSOCKETS_PER_SHARD);

  /* Popped before the thread starts: pushing acquires the context, and the
   * thread must acquire it next. */
  g_main_context_push_thread_default (s->context);
  ok = server_setup (s, options, error);
  g_main_context_pop_thread_default (s->context);
  if (ok) {
    s->thread = g_thread_try_new ("hangout-server", server_thread, s, error);
    ok = s->thread != NULL;
  }
  if (!ok) {
    hangout_server_free_detached (s);
    return NULL;
  }
  return s;
}

const gchar *
hangout_server_get_url (HangoutServer *server)
{
  g_return_val_if_fail (server != NULL, NULL);
  return server->url;
}

const gchar *
hangout_server_get_web_url (HangoutServer *server)
{
  g_return_val_if_fail (server != NULL, NULL);
  return server->web_url;
}

void
hangout_server_stop (HangoutServer *server, guint grace_ms)
{
  GSource *request;
  ServerLog log;

  g_return_if_fail (server != NULL);

  server->grace_ms = grace_ms;
  /* A source of the context rather than g_main_context_invoke(): that
   * would run shut_down right here if the server's thread has not yet
   * acquired its context, and its loop would then never quit. */
  request = g_idle_source_new ();
  server_attach (server, request, shut_down);
  g_source_unref (request);
  g_thread_join (server->thread);
  log = server->log;
  server_free (server);
  server_log (&log, G_LOG_LEVEL_MESSAGE, "stopped");
}
