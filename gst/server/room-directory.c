/* gst-hangout — rooms across servers through Redis (room-directory.h;
 * the design and why: docs/architecture.md, "Rooms across servers").
 *
 * Two connections: one for commands (Lua scripts, each atomic in Redis,
 * so that the room limit holds across servers and a join's member list,
 * its sequence number and its event are one step) and one subscribed to
 * the room events and to this server's own channel (a subscribed
 * connection can run nothing else). Every second the command connection
 * refreshes this server's heartbeat key and sweeps the servers whose key
 * has expired.
 *
 * Everything Redis hands us is checked (sizes, ids, names) before use:
 * Redis is shared with the other servers and whoever else reaches it.
 * hiredis 0.14 has no limit on the size of a reply it reads; the limits
 * here apply once a reply is whole.
 *
 * Log lines start with "redis:": connections and losses as messages,
 * what Redis sent that we drop at debug level.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#include "room-directory.h"
#include "names.h"

#include <stdlib.h>
#include <string.h>

#include <hiredis/hiredis.h>
#include <hiredis/async.h>

#define DEFAULT_PORT 6379
/* The heartbeat's lifetime and how often it is refreshed: a server that
 * stops is taken for dead 3 to 4 s later (expiry, then the next sweep). */
#define HEARTBEAT_TTL_MS 3000
#define TICK_MS 1000
/* How long room_directory_free() waits for its last script. */
#define RETIRE_WAIT_MS 1000
#define EVENTS_CHANNEL "hangout:events"
#define SERVER_CHANNEL_PREFIX "hangout:to:"
/* Largest event we take: room, sequence number, ids and a name of 64
 * characters of 4 bytes each, with room to spare. */
#define MAX_EVENT_LEN 512
/* Largest signal message: a member's frame of 64 KiB with our "from" in
 * front, plus room and target. */
#define MAX_SIGNAL_LEN (65536 + 512)
/* Members we read from one room's hash, whatever other servers allow. */
#define MAX_SNAPSHOT_MEMBERS 1024

/* ---------------------------------------------------------------------- */
/* Scripts. They name their keys themselves (no KEYS): fine for one Redis
 * or a replicated one, not for Redis Cluster.
 *   hangout:servers          set of server ids
 *   hangout:alive:SERVER     heartbeat, expires after HEARTBEAT_TTL_MS
 *   hangout:members:SERVER   hash member id → room, to sweep a dead server
 *   hangout:room:ROOM        hash member id → "SERVER SEQ TIME NAME"
 *   hangout:seq:ROOM         the room's sequence number
 * Events on hangout:events: "ROOM SEQ j ID SERVER NAME" or "ROOM SEQ l ID
 * SERVER". A room's sequence number outlives the room by a day, so that
 * it never goes back while a server may still hold events of it. */

#define LUA_DROP \
  "local function drop(room, id, sid)\n" \
  "  local rk = 'hangout:room:' .. room\n" \
  "  if redis.call('HDEL', rk, id) == 0 then return end\n" \
  "  local seq = redis.call('INCR', 'hangout:seq:' .. room)\n" \
  "  redis.call('PUBLISH', '" EVENTS_CHANNEL "', room .. ' ' .. seq .. ' l ' .. id .. ' ' .. sid)\n" \
  "  if redis.call('HLEN', rk) == 0 then redis.call('EXPIRE', 'hangout:seq:' .. room, 86400) end\n" \
  "end\n" \
  "local function drop_server(sid)\n" \
  "  local members = redis.call('HGETALL', 'hangout:members:' .. sid)\n" \
  "  for i = 1, #members, 2 do drop(members[i + 1], members[i], sid) end\n" \
  "  redis.call('DEL', 'hangout:members:' .. sid, 'hangout:alive:' .. sid)\n" \
  "  redis.call('SREM', 'hangout:servers', sid)\n" \
  "  return #members / 2\n" \
  "end\n"

/* ARGV: room, id, server, name, max. nil: the room is full. */
static const char join_script[] =
  "local rk = 'hangout:room:' .. ARGV[1]\n"
  "if redis.call('HLEN', rk) >= tonumber(ARGV[5]) then return false end\n"
  /* A server taken for dead must not add members nobody would sweep. */
  "if redis.call('SISMEMBER', 'hangout:servers', ARGV[3]) == 0 then\n"
  "  return redis.error_reply('unknown server')\n"
  "end\n"
  "local members = redis.call('HGETALL', rk)\n"
  "local seq = redis.call('INCR', 'hangout:seq:' .. ARGV[1])\n"
  "redis.call('PERSIST', 'hangout:seq:' .. ARGV[1])\n"
  "local t = redis.call('TIME')\n"
  "redis.call('HSET', rk, ARGV[2], ARGV[3] .. ' ' .. seq .. ' ' .. t[1] .. ' ' .. ARGV[4])\n"
  "redis.call('HSET', 'hangout:members:' .. ARGV[3], ARGV[2], ARGV[1])\n"
  "redis.call('PUBLISH', '" EVENTS_CHANNEL "', ARGV[1] .. ' ' .. seq .. ' j ' .. ARGV[2] .. ' ' .. ARGV[3] .. ' ' .. ARGV[4])\n"
  "return {seq, members}\n";

/* ARGV: room, id, server. */
static const char leave_script[] =
  LUA_DROP
  "if redis.call('HDEL', 'hangout:members:' .. ARGV[3], ARGV[2]) == 1 then\n"
  "  drop(ARGV[1], ARGV[2], ARGV[3])\n"
  "end\n"
  "return 1\n";

/* ARGV: server, ttl, first ("1" or "0"). 0: this server was swept. */
static const char heartbeat_script[] =
  "if ARGV[3] == '0' and redis.call('SISMEMBER', 'hangout:servers', ARGV[1]) == 0 then\n"
  "  return 0\n"
  "end\n"
  "redis.call('SET', 'hangout:alive:' .. ARGV[1], '1', 'PX', ARGV[2])\n"
  "redis.call('SADD', 'hangout:servers', ARGV[1])\n"
  "return 1\n";

/* ARGV: this server. The members of every other server whose heartbeat
 * expired leave; several servers sweeping at once find nothing twice. */
static const char sweep_script[] =
  LUA_DROP
  "local n = 0\n"
  "for _, sid in ipairs(redis.call('SMEMBERS', 'hangout:servers')) do\n"
  "  if sid ~= ARGV[1] and redis.call('EXISTS', 'hangout:alive:' .. sid) == 0 then\n"
  "    n = n + drop_server(sid)\n"
  "  end\n"
  "end\n"
  "return n\n";

/* ARGV: this server, stopping. */
static const char retire_script[] =
  LUA_DROP
  "return drop_server(ARGV[1])\n";

/* ---------------------------------------------------------------------- */
/* hiredis on a GMainContext. Not hiredis/adapters/glib.h: its dispatch
 * reads after a write whose error has freed the context (a use after
 * free when Redis goes away with a command unsent), and it ignores
 * G_IO_HUP and G_IO_ERR, which poll reports whatever was asked. Here the
 * source belongs to its redisAsyncContext: hiredis's cleanup, called as
 * it frees the context, destroys it. */

typedef struct {
  GSource source;
  redisAsyncContext *ac;        /* NULL once hiredis has freed it */
  gpointer tag;
  GIOCondition events;
} RedisSource;

static void
redis_source_set (RedisSource *rs, GIOCondition add, GIOCondition remove)
{
  rs->events = (rs->events | add) & ~remove;
  g_source_modify_unix_fd (&rs->source, rs->tag, rs->events);
}

static void redis_source_add_read (void *data) { redis_source_set (data, G_IO_IN, 0); }
static void redis_source_del_read (void *data) { redis_source_set (data, 0, G_IO_IN); }
static void redis_source_add_write (void *data) { redis_source_set (data, G_IO_OUT, 0); }
static void redis_source_del_write (void *data) { redis_source_set (data, 0, G_IO_OUT); }

static void
redis_source_cleanup (void *data)
{
  RedisSource *rs = data;

  rs->ac = NULL;
  g_source_destroy (&rs->source);
  g_source_unref (&rs->source);
}

static gboolean
redis_source_dispatch (GSource *source, GSourceFunc callback, gpointer user_data)
{
  RedisSource *rs = (RedisSource *) source;
  GIOCondition got = g_source_query_unix_fd (source, rs->tag);

  /* Each call may free the context (and so clear rs->ac). */
  if (rs->ac && (got & (G_IO_OUT | G_IO_ERR | G_IO_HUP)) && (rs->events & G_IO_OUT))
    redisAsyncHandleWrite (rs->ac);
  if (rs->ac && (got & (G_IO_IN | G_IO_ERR | G_IO_HUP)))
    redisAsyncHandleRead (rs->ac);
  return G_SOURCE_CONTINUE;
}

static void
redis_source_attach (redisAsyncContext *ac, GMainContext *context)
{
  static GSourceFuncs funcs = { .dispatch = redis_source_dispatch };
  RedisSource *rs = (RedisSource *) g_source_new (&funcs, sizeof *rs);

  rs->ac = ac;
  rs->tag = g_source_add_unix_fd (&rs->source, ac->c.fd, 0);
  ac->ev.data = rs;
  ac->ev.addRead = redis_source_add_read;
  ac->ev.delRead = redis_source_del_read;
  ac->ev.addWrite = redis_source_add_write;
  ac->ev.delWrite = redis_source_del_write;
  ac->ev.cleanup = redis_source_cleanup;
  g_source_attach (&rs->source, context);
}

/* ---------------------------------------------------------------------- */
/* State                                                                   */

struct _RoomDirectory {
  GMainContext *context;
  RoomDirectoryHandlers handlers;
  gpointer data;
  const ServerLog *log;
  char *url;                    /* for logs: without the password */
  char *host;                   /* or */
  char *path;                   /* a Unix socket */
  int port;
  char *user;                   /* AUTH, when the URL has a password */
  char *password;

  char id[DIRECTORY_SERVER_ID_LEN + 1];
  char *server_channel;
  redisAsyncContext *cmd;
  redisAsyncContext *sub;
  guint subscribed;             /* of our two channels */
  gboolean registered;          /* the first heartbeat went through */
  gboolean available;
  gboolean lost_logged;         /* one line per loss, not one per retry */
  char *why;                    /* what went wrong last */
  gboolean freeing;
  GSource *tick;
};

typedef struct {
  RoomDirectory *directory;
  RoomDirectoryJoinFunc func;
  gpointer data;
} JoinRequest;

/* ---------------------------------------------------------------------- */
/* Checks of what Redis sent                                               */

static gboolean
is_hex_id (const char *s, gsize len)
{
  if (len != DIRECTORY_MEMBER_ID_LEN)
    return FALSE;
  for (gsize i = 0; i < len; i++)
    if (!g_ascii_isxdigit (s[i]) || g_ascii_isupper (s[i]))
      return FALSE;
  return TRUE;
}

static gboolean
is_server_id (const char *s, gsize len)
{
  return len == DIRECTORY_SERVER_ID_LEN && g_uuid_string_is_valid (s);
}

/* Splits @text in place at its first @n spaces into @fields (n + 1 of
 * them, the last being the rest). */
static gboolean
split_fields (char *text, char **fields, guint n)
{
  fields[0] = text;
  for (guint i = 1; i <= n; i++) {
    char *space = strchr (fields[i - 1], ' ');
    if (!space)
      return FALSE;
    *space = '\0';
    fields[i] = space + 1;
  }
  return TRUE;
}

static gboolean
parse_seq (const char *s, guint64 *seq)
{
  return g_ascii_string_to_unsigned (s, 10, 1, G_MAXUINT64, seq, NULL);
}

/* ---------------------------------------------------------------------- */
/* Connections                                                             */

static void connect_both (RoomDirectory *d);

static void
check_available (RoomDirectory *d)
{
  if (d->available || d->subscribed < 2 || !d->registered)
    return;
  d->available = TRUE;
  d->lost_logged = FALSE;
  server_log (d->log, G_LOG_LEVEL_MESSAGE, "redis: %s: rooms shared as server %s", d->url, d->id);
  d->handlers.available (TRUE, d->data);
}

/* Drops both connections; the tick connects anew, as another server. */
static void
lose (RoomDirectory *d, const char *why)
{
  gboolean was = d->available;
  redisAsyncContext *ac;

  d->available = FALSE;
  d->subscribed = 0;
  d->registered = FALSE;
  /* Cleared first: freeing one calls back on_disconnect. */
  if ((ac = d->cmd)) {
    d->cmd = NULL;
    redisAsyncFree (ac);
  }
  if ((ac = d->sub)) {
    d->sub = NULL;
    redisAsyncFree (ac);
  }
  if (d->freeing)
    return;
  g_free (d->why);
  d->why = g_strdup (why);
  if (was || !d->lost_logged) {
    server_log (d->log, G_LOG_LEVEL_MESSAGE, "redis: %s: %s; refusing joins until it is back", d->url, why);
    d->lost_logged = TRUE;
  }
  if (was)
    d->handlers.available (FALSE, d->data);
}

/* Forgets @ac, which hiredis is about to free: FALSE if it is not one of
 * ours any more. */
static gboolean
forget_context (RoomDirectory *d, const redisAsyncContext *ac)
{
  if (ac == d->cmd)
    d->cmd = NULL;
  else if (ac == d->sub)
    d->sub = NULL;
  else
    return FALSE;
  return TRUE;
}

static void
on_disconnect (const redisAsyncContext *ac, int status)
{
  RoomDirectory *d = ac->data;
  char *why;

  if (!forget_context (d, ac))
    return;
  why = g_strdup_printf ("connection lost (%s)", ac->errstr[0] ? ac->errstr : "closed");
  lose (d, why);
  g_free (why);
}

static void
on_connect (const redisAsyncContext *ac, int status)
{
  RoomDirectory *d = ac->data;
  char *why;

  if (status == REDIS_OK)
    return;
  /* hiredis frees it after this, without on_disconnect. */
  if (!forget_context (d, ac))
    return;
  why = g_strdup_printf ("cannot connect (%s)", ac->errstr);
  lose (d, why);
  g_free (why);
}

static void
on_auth (redisAsyncContext *ac, void *r, void *privdata)
{
  RoomDirectory *d = privdata;
  redisReply *reply = r;
  char *why;

  if (!reply || reply->type != REDIS_REPLY_ERROR || d->freeing)
    return;
  why = g_strdup_printf ("authentication refused (%s)", reply->str);
  lose (d, why);
  g_free (why);
}

static redisAsyncContext *
connect_one (RoomDirectory *d)
{
  redisAsyncContext *ac = d->path ? redisAsyncConnectUnix (d->path) : redisAsyncConnect (d->host, d->port);

  if (!ac)
    return NULL;
  if (ac->err) {
    char *why = g_strdup_printf ("cannot connect (%s)", ac->errstr);

    redisAsyncFree (ac);
    lose (d, why);
    g_free (why);
    return NULL;
  }
  ac->data = d;
  redis_source_attach (ac, d->context);
  redisAsyncSetConnectCallback (ac, on_connect);
  redisAsyncSetDisconnectCallback (ac, on_disconnect);
  /* Ahead of everything else on the connection. */
  if (d->user)
    redisAsyncCommand (ac, on_auth, d, "AUTH %s %s", d->user, d->password);
  else if (d->password)
    redisAsyncCommand (ac, on_auth, d, "AUTH %s", d->password);
  return ac;
}

/* EVAL @script with no keys and @argc arguments. */
static void
eval (RoomDirectory *d, const char *script, redisCallbackFn *fn, void *privdata, int argc,
      const char *const *args)
{
  const char *argv[8] = { "EVAL", script, "0" };
  size_t lens[8];

  g_assert (argc + 3 <= (int) G_N_ELEMENTS (argv));
  for (int i = 0; i < argc; i++)
    argv[3 + i] = args[i];
  for (int i = 0; i < argc + 3; i++)
    lens[i] = strlen (argv[i]);
  if (!d->cmd || redisAsyncCommandArgv (d->cmd, fn, privdata, argc + 3, argv, lens) != REDIS_OK) {
    /* hiredis calls nobody for a command it refused. */
    if (fn)
      fn (NULL, NULL, privdata);
  }
}

static void
on_heartbeat (redisAsyncContext *ac, void *r, void *privdata)
{
  RoomDirectory *d = privdata;
  redisReply *reply = r;

  if (!reply || d->freeing)
    return;
  if (reply->type != REDIS_REPLY_INTEGER) {
    server_log (d->log, G_LOG_LEVEL_MESSAGE, "redis: %s: heartbeat: %s", d->url,
                reply->type == REDIS_REPLY_ERROR ? reply->str : "unexpected reply");
    return;
  }
  if (reply->integer == 0) {
    /* Our heartbeat lapsed (this process stalled, or Redis did) and the
     * others have taken our members out: we can no longer speak for them. */
    lose (d, "this server was taken for dead");
    return;
  }
  d->registered = TRUE;
  check_available (d);
}

static void
on_sweep (redisAsyncContext *ac, void *r, void *privdata)
{
  RoomDirectory *d = privdata;
  redisReply *reply = r;

  if (reply && reply->type == REDIS_REPLY_INTEGER && reply->integer > 0)
    server_log (d->log, G_LOG_LEVEL_MESSAGE, "redis: %lld members of servers that stopped answering left",
                reply->integer);
  else if (reply && reply->type == REDIS_REPLY_ERROR)
    server_log (d->log, G_LOG_LEVEL_MESSAGE, "redis: sweep: %s", reply->str);
}

static void
heartbeat (RoomDirectory *d, gboolean first)
{
  const char *args[] = { d->id, G_STRINGIFY (HEARTBEAT_TTL_MS), first ? "1" : "0" };

  eval (d, heartbeat_script, on_heartbeat, d, 3, args);
}

static gboolean
on_tick (gpointer data)
{
  RoomDirectory *d = data;
  const char *args[] = { d->id };

  if (!d->cmd && !d->sub) {
    connect_both (d);
    return G_SOURCE_CONTINUE;
  }
  if (!d->cmd || !d->sub)
    return G_SOURCE_CONTINUE;
  heartbeat (d, !d->registered);
  if (d->registered)
    eval (d, sweep_script, on_sweep, d, 1, args);
  return G_SOURCE_CONTINUE;
}

static void
on_event_message (RoomDirectory *d, const char *text, gsize len)
{
  char buf[MAX_EVENT_LEN + 1];
  char *f[6];
  DirectoryEvent e = { 0 };
  gboolean ok;

  if (len > MAX_EVENT_LEN || memchr (text, '\0', len))
    goto bad;
  memcpy (buf, text, len);
  buf[len] = '\0';
  ok = split_fields (buf, f, 4);
  if (ok && g_str_equal (f[2], "j")) {
    ok = split_fields (f[4], f + 4, 1) && server_valid_member_name (f[5]);
    e.joined = TRUE;
    e.name = ok ? f[5] : NULL;
  } else {
    ok = ok && g_str_equal (f[2], "l");
  }
  if (!ok || !server_valid_room_name (f[0]) || !parse_seq (f[1], &e.seq) ||
      !is_hex_id (f[3], strlen (f[3])) || !is_server_id (f[4], strlen (f[4])))
    goto bad;
  e.room = f[0];
  e.id = f[3];
  e.server = f[4];
  d->handlers.event (&e, d->data);
  return;

bad:
  server_log (d->log, G_LOG_LEVEL_DEBUG, "redis: dropped a malformed event of %" G_GSIZE_FORMAT " bytes", len);
}

static void
on_signal_message (RoomDirectory *d, const char *text, gsize len)
{
  char *buf, *f[3];

  if (len > MAX_SIGNAL_LEN || memchr (text, '\0', len)) {
    server_log (d->log, G_LOG_LEVEL_DEBUG, "redis: dropped a signal of %" G_GSIZE_FORMAT " bytes", len);
    return;
  }
  buf = g_strndup (text, len);
  if (split_fields (buf, f, 2) && server_valid_room_name (f[0]) && is_hex_id (f[1], strlen (f[1])) &&
      g_utf8_validate (f[2], -1, NULL))
    d->handlers.signal (f[0], f[1], f[2], d->data);
  else
    server_log (d->log, G_LOG_LEVEL_DEBUG, "redis: dropped a malformed signal");
  g_free (buf);
}

/* Every reply of the subscribed connection: each subscription's
 * confirmation, then the messages. */
static void
on_subscribed (redisAsyncContext *ac, void *r, void *privdata)
{
  RoomDirectory *d = privdata;
  redisReply *reply = r;
  redisReply *kind, *channel, *payload;

  if (!reply || d->freeing)
    return;
  if (reply->type != REDIS_REPLY_ARRAY || reply->elements != 3 ||
      reply->element[0]->type != REDIS_REPLY_STRING || reply->element[1]->type != REDIS_REPLY_STRING) {
    server_log (d->log, G_LOG_LEVEL_DEBUG, "redis: unexpected reply on the subscription");
    return;
  }
  kind = reply->element[0];
  channel = reply->element[1];
  payload = reply->element[2];
  if (g_str_equal (kind->str, "subscribe")) {
    d->subscribed++;
    check_available (d);
  } else if (g_str_equal (kind->str, "message") && payload->type == REDIS_REPLY_STRING) {
    if (g_str_equal (channel->str, EVENTS_CHANNEL))
      on_event_message (d, payload->str, payload->len);
    else if (g_str_equal (channel->str, d->server_channel))
      on_signal_message (d, payload->str, payload->len);
  }
}

/* Both connections, as a new server: whatever Redis knew of our members
 * under the previous id is swept like any dead server's. */
static void
connect_both (RoomDirectory *d)
{
  char *uuid = g_uuid_string_random ();

  g_strlcpy (d->id, uuid, sizeof d->id);
  g_free (uuid);
  g_free (d->server_channel);
  d->server_channel = g_strconcat (SERVER_CHANNEL_PREFIX, d->id, NULL);
  /* connect_one() says why it fails, and drops the other connection. */
  d->cmd = connect_one (d);
  d->sub = d->cmd ? connect_one (d) : NULL;
  if (!d->sub)
    return;
  redisAsyncCommand (d->sub, on_subscribed, d, "SUBSCRIBE %s %s", EVENTS_CHANNEL, d->server_channel);
  heartbeat (d, TRUE);
}

/* ---------------------------------------------------------------------- */
/* API                                                                     */

static gboolean
parse_url (RoomDirectory *d, const char *url, GError **error)
{
  g_autoptr (GUri) uri = NULL;

  if (g_str_has_prefix (url, "unix:") || url[0] == '/') {
    d->path = g_strdup (url[0] == '/' ? url : url + strlen ("unix:"));
    d->url = g_strdup (url);
    if (d->path[0] != '\0')
      return TRUE;
  } else if ((uri = g_uri_parse (url, G_URI_FLAGS_HAS_PASSWORD, NULL)) &&
             g_str_equal (g_uri_get_scheme (uri), "redis") && g_uri_get_host (uri) &&
             *g_uri_get_host (uri) && (*g_uri_get_path (uri) == '\0' || g_str_equal (g_uri_get_path (uri), "/"))) {
    d->host = g_strdup (g_uri_get_host (uri));
    d->port = g_uri_get_port (uri) > 0 ? g_uri_get_port (uri) : DEFAULT_PORT;
    /* redis://:PASSWORD@HOST (requirepass) or redis://USER:PASSWORD@HOST
     * (an ACL user of Redis 6 and later). */
    if (g_uri_get_password (uri)) {
      d->password = g_strdup (g_uri_get_password (uri));
      if (g_uri_get_user (uri) && *g_uri_get_user (uri))
        d->user = g_strdup (g_uri_get_user (uri));
    }
    d->url = g_uri_to_string_partial (uri, G_URI_HIDE_PASSWORD);
    return TRUE;
  }
  g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
               "redis URL: expected redis://[[USER]:PASSWORD@]HOST[:PORT], unix:PATH or /PATH");
  return FALSE;
}

RoomDirectory *
room_directory_new (const char *url, GMainContext *context, const RoomDirectoryHandlers *handlers,
                    gpointer data, const ServerLog *log, GError **error)
{
  RoomDirectory *d = g_new0 (RoomDirectory, 1);

  if (!parse_url (d, url, error)) {
    g_free (d->url);
    g_free (d->path);
    g_free (d);
    return NULL;
  }
  d->context = g_main_context_ref (context);
  d->handlers = *handlers;
  d->data = data;
  d->log = log;
  connect_both (d);
  d->tick = g_timeout_source_new (TICK_MS);
  g_source_set_callback (d->tick, on_tick, d, NULL);
  g_source_attach (d->tick, context);
  return d;
}

static gboolean
on_wait_deadline (gpointer data)
{
  *(gboolean *) data = TRUE;
  return G_SOURCE_REMOVE;
}

gboolean
room_directory_wait_available (RoomDirectory *d, guint timeout_ms, GError **error)
{
  gboolean expired = FALSE;
  GSource *deadline = g_timeout_source_new (timeout_ms);

  g_source_set_callback (deadline, on_wait_deadline, &expired, NULL);
  g_source_attach (deadline, d->context);
  while (!d->available && !expired)
    g_main_context_iteration (d->context, TRUE);
  g_source_destroy (deadline);
  g_source_unref (deadline);
  if (!d->available)
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT, "redis %s: not reachable within %u ms (%s)", d->url,
                 timeout_ms, d->why ? d->why : "no answer");
  return d->available;
}

static void
on_retired (redisAsyncContext *ac, void *r, void *privdata)
{
  *(gboolean *) privdata = TRUE;
}

void
room_directory_free (RoomDirectory *d)
{
  gboolean retired = FALSE, expired = FALSE;

  g_source_destroy (d->tick);
  g_source_unref (d->tick);
  d->freeing = TRUE;
  if (d->available) {
    /* Our members leave now rather than when our heartbeat expires. */
    const char *args[] = { d->id };
    GSource *deadline = g_timeout_source_new (RETIRE_WAIT_MS);

    g_source_set_callback (deadline, on_wait_deadline, &expired, NULL);
    g_source_attach (deadline, d->context);
    eval (d, retire_script, on_retired, &retired, 1, args);
    while (!retired && !expired && d->cmd)
      g_main_context_iteration (d->context, TRUE);
    g_source_destroy (deadline);
    g_source_unref (deadline);
  }
  lose (d, "stopping");
  g_main_context_unref (d->context);
  g_free (d->server_channel);
  g_free (d->why);
  g_free (d->url);
  g_free (d->host);
  g_free (d->path);
  g_free (d->user);
  if (d->password)
    memset (d->password, 0, strlen (d->password));
  g_free (d->password);
  g_free (d);
}

gboolean
room_directory_is_available (RoomDirectory *d)
{
  return d->available;
}

const char *
room_directory_server_id (RoomDirectory *d)
{
  return d->id;
}

static void
member_free (DirectoryMember *m)
{
  g_free (m->name);
  g_free (m);
}

static gint
member_order (gconstpointer a, gconstpointer b)
{
  const DirectoryMember *x = *(DirectoryMember *const *) a, *y = *(DirectoryMember *const *) b;

  return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* A hash entry "SERVER SEQ TIME NAME" of member @id; NULL if malformed. */
static DirectoryMember *
parse_member (const redisReply *id, const redisReply *value)
{
  char buf[MAX_EVENT_LEN + 1];
  char *f[4];
  guint64 seq;
  DirectoryMember *m;

  if (id->type != REDIS_REPLY_STRING || value->type != REDIS_REPLY_STRING || value->len > MAX_EVENT_LEN ||
      !is_hex_id (id->str, id->len) || memchr (value->str, '\0', value->len))
    return NULL;
  memcpy (buf, value->str, value->len);
  buf[value->len] = '\0';
  if (!split_fields (buf, f, 3) || !is_server_id (f[0], strlen (f[0])) || !parse_seq (f[1], &seq) ||
      !server_valid_member_name (f[3]))
    return NULL;
  m = g_new0 (DirectoryMember, 1);
  memcpy (m->id, id->str, DIRECTORY_MEMBER_ID_LEN);
  g_strlcpy (m->server, f[0], sizeof m->server);
  m->seq = seq;
  m->name = g_strdup (f[3]);
  return m;
}

static void
on_joined (redisAsyncContext *ac, void *r, void *privdata)
{
  JoinRequest *req = privdata;
  RoomDirectory *d = req->directory;
  redisReply *reply = r, *list;
  GPtrArray *members;

  if (reply && reply->type == REDIS_REPLY_NIL) {
    req->func (DIRECTORY_FULL, 0, NULL, req->data);
  } else if (!reply || reply->type != REDIS_REPLY_ARRAY || reply->elements != 2 ||
             reply->element[0]->type != REDIS_REPLY_INTEGER || reply->element[0]->integer < 1 ||
             reply->element[1]->type != REDIS_REPLY_ARRAY) {
    if (reply)
      server_log (d->log, G_LOG_LEVEL_MESSAGE, "redis: join: %s",
                  reply->type == REDIS_REPLY_ERROR ? reply->str : "unexpected reply");
    req->func (DIRECTORY_UNAVAILABLE, 0, NULL, req->data);
  } else {
    list = reply->element[1];
    members = g_ptr_array_new_with_free_func ((GDestroyNotify) member_free);
    for (size_t i = 0; i + 1 < list->elements && i < 2 * MAX_SNAPSHOT_MEMBERS; i += 2) {
      DirectoryMember *m = parse_member (list->element[i], list->element[i + 1]);
      if (m)
        g_ptr_array_add (members, m);
      else
        server_log (d->log, G_LOG_LEVEL_DEBUG, "redis: join: dropped a malformed member entry");
    }
    g_ptr_array_sort (members, member_order);
    req->func (DIRECTORY_JOINED, (guint64) reply->element[0]->integer, members, req->data);
    g_ptr_array_unref (members);
  }
  g_free (req);
}

void
room_directory_join (RoomDirectory *d, const char *room, const char *id, const char *name,
                     guint max_members, RoomDirectoryJoinFunc func, gpointer data)
{
  JoinRequest *req = g_new0 (JoinRequest, 1);
  char max[16];
  const char *args[] = { room, id, d->id, name, max };

  g_snprintf (max, sizeof max, "%u", max_members);
  req->directory = d;
  req->func = func;
  req->data = data;
  eval (d, join_script, on_joined, req, 5, args);
}

void
room_directory_leave (RoomDirectory *d, const char *room, const char *id)
{
  const char *args[] = { room, id, d->id };

  eval (d, leave_script, NULL, NULL, 3, args);
}

void
room_directory_signal (RoomDirectory *d, const char *server, const char *room, const char *to,
                       const char *frame)
{
  char *channel, *message;

  if (!d->cmd)
    return;
  channel = g_strconcat (SERVER_CHANNEL_PREFIX, server, NULL);
  message = g_strconcat (room, " ", to, " ", frame, NULL);
  redisAsyncCommand (d->cmd, NULL, NULL, "PUBLISH %s %s", channel, message);
  g_free (message);
  g_free (channel);
}
