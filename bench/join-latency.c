/* gst-hangout — join-latency benchmark.
 *
 * How long does joining a room take? The benchmark starts hangout-server
 * (--port 0 --max-members 64) and, for each room size N (--sizes, default
 * 8,16,32,64), forms
 * fresh rooms of HangoutRoom objects in this process, each room with its
 * own network thread as in an application:
 *
 * - one after another: members join a fresh room one at a time, each only
 *   once the previous join is complete. For every joiner but the first we
 *   take, from its hangout_room_start(),
 *     join: until it has a "peer-connected" for every member already there;
 *     seen: until every member already there has a "peer-connected" for it;
 *   and report the median and the maximum over the room's N - 1 joiners.
 * - all at once: N members are started back to back; the time from the
 *   first start until all N (N - 1) / 2 pairs are connected on both ends.
 *
 * The reference, measured in the same run, interleaved with the rooms: one
 * bare pair of HangoutPeerConnection objects in this process, each on its
 * own thread and context like two room members, the offer, the answer and
 * the candidates handed across directly (no server), with the same two
 * negotiated data channels a room opens per pair; the time from creating
 * the first connection until the application channel is open on both
 * sides. Every join pays that at least once, so join / bare-pair says what
 * the signalling server and the room add on top of the transport.
 *
 * Each measurement runs --repeat times; the table shows medians over the
 * runs (of the per-room median and maximum for the joins). Times are read
 * on CLOCK_MONOTONIC (g_get_monotonic_time) in the signal handlers, on the
 * network threads, not after the wake-up of the waiting thread.
 *
 * Run it in a private network namespace with only loopback up
 * (tests/netns-run.sh; ninja target bench-join), so that every candidate
 * is a loopback one and nothing leaves the machine.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later */

#include <gio/gio.h>
#include <hangout/peer.h>
#include <hangout/room.h>
#include "stats.h"

#include <signal.h>
#include <stdio.h>
#include <string.h>

/* meson passes the build tree's server; the fallback looks it up in PATH. */
#ifndef HANGOUT_SERVER_PATH
#define HANGOUT_SERVER_PATH "hangout-server"
#endif

/* The largest room measured: twice hangout-server's default limit, which
 * the benchmark's server lifts to it, so that the figures say where the
 * default could go. */
#define MAX_ROOM_SIZE 64
/* The server has a 2 s grace period on SIGTERM; a little more, then KILL. */
#define SERVER_STOP_TIMEOUT_MS 5000
#define SERVER_START_TIMEOUT_MS 5000
/* As the room's own drain after stop (room.c, DRAIN_TIMEOUT_MS). */
#define PAIR_DRAIN_TIMEOUT_MS 3000

typedef struct {
  const gchar *server_path;
  guint timeout_ms;             /* one join, one all-at-once mesh, one pair */
} Config;

/* Everything the network threads record for the main thread is guarded by
 * this lock, and every change wakes the waiter. */
static GMutex lock;
static GCond changed;
/* Members that left while a measurement ran: its rooms failed. */
static guint members_lost;

static gdouble
us_to_ms (gint64 us)
{
  return us / 1000.0;
}

/* ------------------------------------------------------------------------ */
/* Waiting on the default context, bounded                                  */

/* One async operation on the default main context (the server's pipe and
 * exit), cancelled when it outlasts its timeout. */
typedef struct {
  GCancellable *cancellable;
  gboolean done;
  gboolean timed_out;
  gchar *line;                  /* read_line */
  GError *error;
} AsyncOp;

static gboolean
async_op_timeout_cb (gpointer user_data)
{
  AsyncOp *op = user_data;

  op->timed_out = TRUE;
  g_cancellable_cancel (op->cancellable);
  return G_SOURCE_REMOVE;
}

/* Iterates the default context until @op is done; a cancelled operation
 * still completes (with G_IO_ERROR_CANCELLED), so this is bounded. */
static void
async_op_run (AsyncOp *op, guint timeout_ms)
{
  GSource *timeout = g_timeout_source_new (timeout_ms);

  g_source_set_callback (timeout, async_op_timeout_cb, op, NULL);
  g_source_attach (timeout, NULL);
  while (!op->done)
    g_main_context_iteration (NULL, TRUE);
  g_source_destroy (timeout);
  g_source_unref (timeout);
}

/* ------------------------------------------------------------------------ */
/* The signalling server                                                    */

typedef struct {
  GSubprocess *process;
  GDataInputStream *out;
  gchar *url;
} Server;

static void
server_on_line (GObject *source, GAsyncResult *res, gpointer user_data)
{
  AsyncOp *op = user_data;

  op->line = g_data_input_stream_read_line_finish (G_DATA_INPUT_STREAM
      (source), res, NULL, &op->error);
  op->done = TRUE;
}

static void
server_on_exit (GObject *source, GAsyncResult *res, gpointer user_data)
{
  AsyncOp *op = user_data;

  g_subprocess_wait_finish (G_SUBPROCESS (source), res, &op->error);
  op->done = TRUE;
}

/* SIGTERM, and wait for the exit; KILL after SERVER_STOP_TIMEOUT_MS. */
static void
server_free (Server *server)
{
  AsyncOp op = { 0 };

  op.cancellable = g_cancellable_new ();
  g_subprocess_send_signal (server->process, SIGTERM);
  g_subprocess_wait_async (server->process, op.cancellable, server_on_exit,
      &op);
  async_op_run (&op, SERVER_STOP_TIMEOUT_MS);
  if (op.timed_out) {
    g_printerr ("hangout-server ignored SIGTERM for %d ms: killed\n",
        SERVER_STOP_TIMEOUT_MS);
    g_subprocess_force_exit (server->process);
    g_subprocess_wait (server->process, NULL, NULL);
  } else if (!g_subprocess_get_if_exited (server->process)
      || g_subprocess_get_exit_status (server->process) != 0) {
    g_printerr ("hangout-server did not exit cleanly on SIGTERM\n");
  }
  g_clear_error (&op.error);
  g_object_unref (op.cancellable);
  g_object_unref (server->out);
  g_object_unref (server->process);
  g_free (server->url);
  g_free (server);
}

/* Starts the server on a free port and reads the URL it prints first. */
static Server *
server_start (const gchar *path, gboolean log, GError **error)
{
  const gchar *argv[] = { path, "--port", "0", "--max-members",
    G_STRINGIFY (MAX_ROOM_SIZE), NULL
  };
  Server *server = g_new0 (Server, 1);
  AsyncOp op = { 0 };

  /* It logs every join and leave: hundreds of lines per run, which would
   * bury the table, so its stderr is off unless asked for. */
  server->process = g_subprocess_newv (argv, G_SUBPROCESS_FLAGS_STDOUT_PIPE
      | (log ? G_SUBPROCESS_FLAGS_NONE : G_SUBPROCESS_FLAGS_STDERR_SILENCE),
      error);
  if (server->process == NULL) {
    g_free (server);
    return NULL;
  }
  server->out = g_data_input_stream_new (g_subprocess_get_stdout_pipe
      (server->process));
  op.cancellable = g_cancellable_new ();
  g_data_input_stream_read_line_async (server->out, G_PRIORITY_DEFAULT,
      op.cancellable, server_on_line, &op);
  async_op_run (&op, SERVER_START_TIMEOUT_MS);
  g_object_unref (op.cancellable);
  if (op.line == NULL || !g_str_has_prefix (op.line, "ws://")) {
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED,
        "%s printed no ws:// URL%s%s%s", path,
        op.timed_out ? " within 5 s" : "", op.line ? ": " : "",
        op.line ? op.line : "");
    g_clear_error (&op.error);
    g_free (op.line);
    server_free (server);
    return NULL;
  }
  server->url = op.line;
  return server;
}

/* ------------------------------------------------------------------------ */
/* Room members                                                             */

typedef struct {
  HangoutRoom *room;
  /* Under the lock: */
  gchar *id;                    /* ours on the server, once joined */
  GHashTable *connected;        /* member id → gint64 µs of "peer-connected" */
  guint errors;                 /* "error" signals (rate-limited, ...) */
} Node;

/* The handlers run on the room's network thread. */
static void
node_on_peer_connected (HangoutRoom *room, const gchar *id, Node *node)
{
  gint64 now = g_get_monotonic_time ();

  g_mutex_lock (&lock);
  g_hash_table_insert (node->connected, g_strdup (id), g_memdup2 (&now,
          sizeof now));
  g_cond_broadcast (&changed);
  g_mutex_unlock (&lock);
}

static void
node_on_member_left (HangoutRoom *room, const gchar *id,
    const gchar *failure, Node *node)
{
  g_mutex_lock (&lock);
  members_lost++;
  g_cond_broadcast (&changed);
  g_mutex_unlock (&lock);
}

static void
node_on_error (HangoutRoom *room, GError *error, Node *node)
{
  /* Informational for the room, but a refused signal (the server's rate
   * limit) delays a join until its timeout: worth a note in the results. */
  g_mutex_lock (&lock);
  node->errors++;
  g_mutex_unlock (&lock);
  g_printerr ("room error: %s\n", error->message);
}

static void
node_on_id (HangoutRoom *room, GParamSpec *pspec, Node *node)
{
  gchar *id = hangout_room_dup_id (room);

  g_mutex_lock (&lock);
  /* The first id is the one the others know us by (a rejoin would give a
   * new one, but the members keep using the first). */
  if (node->id == NULL) {
    node->id = id;
    id = NULL;
  }
  g_cond_broadcast (&changed);
  g_mutex_unlock (&lock);
  g_free (id);
}

static Node *
node_new (const gchar *url, const gchar *room_name, guint index)
{
  Node *node = g_new0 (Node, 1);
  gchar *name = g_strdup_printf ("member-%u", index);

  node->connected = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
      g_free);
  node->room = hangout_room_new (room_name, name, url);
  g_free (name);
  g_signal_connect (node->room, "peer-connected",
      G_CALLBACK (node_on_peer_connected), node);
  g_signal_connect (node->room, "member-left",
      G_CALLBACK (node_on_member_left), node);
  g_signal_connect (node->room, "error", G_CALLBACK (node_on_error), node);
  g_signal_connect (node->room, "notify::id", G_CALLBACK (node_on_id), node);
  return node;
}

/* Stops every room, then frees the members. The handlers go first: once
 * one room stops, the others see it leave, which is no failure here. */
static void
nodes_free (GPtrArray *nodes)
{
  for (guint i = 0; i < nodes->len; i++) {
    Node *node = nodes->pdata[i];

    g_signal_handlers_disconnect_by_data (node->room, node);
  }
  for (guint i = 0; i < nodes->len; i++)
    hangout_room_stop (((Node *) nodes->pdata[i])->room);
  /* Stopped rooms have joined their threads: no handler still runs. */
  for (guint i = 0; i < nodes->len; i++) {
    Node *node = nodes->pdata[i];

    g_object_unref (node->room);
    g_hash_table_unref (node->connected);
    g_free (node->id);
    g_free (node);
  }
  g_ptr_array_unref (nodes);
}

/* The predicates are called under the lock. @k: an index into @nodes. */
typedef gboolean (*Predicate) (GPtrArray *nodes, guint k);

static gboolean
node_joined (GPtrArray *nodes, guint k)
{
  return ((Node *) nodes->pdata[k])->id != NULL;
}

/* Member @k, who joined after members 0 to k-1, is connected to all of
 * them, and all of them to it. */
static gboolean
join_complete (GPtrArray *nodes, guint k)
{
  Node *joiner = nodes->pdata[k];

  if (joiner->id == NULL || g_hash_table_size (joiner->connected) != k)
    return FALSE;
  for (guint i = 0; i < k; i++) {
    if (!g_hash_table_contains (((Node *) nodes->pdata[i])->connected,
            joiner->id))
      return FALSE;
  }
  return TRUE;
}

/* Every member is connected to all the others. */
static gboolean
mesh_complete (GPtrArray *nodes, guint unused)
{
  for (guint i = 0; i < nodes->len; i++) {
    if (g_hash_table_size (((Node *) nodes->pdata[i])->connected)
        != nodes->len - 1)
      return FALSE;
  }
  return TRUE;
}

/* Waits until @done holds, a member was lost, or @deadline (monotonic µs)
 * passed. */
static gboolean
wait_for (Predicate done, GPtrArray *nodes, guint k, gint64 deadline)
{
  gboolean ok;

  g_mutex_lock (&lock);
  while (!(ok = done (nodes, k)) && members_lost == 0) {
    if (!g_cond_wait_until (&changed, &lock, deadline)) {
      ok = done (nodes, k);
      break;
    }
  }
  g_mutex_unlock (&lock);
  return ok;
}

/* Why a wait failed, for the report. */
static gchar *
describe_stall (GPtrArray *nodes, guint timeout_ms)
{
  guint pairs_seen = 0, errors = 0;
  gchar *text;

  g_mutex_lock (&lock);
  for (guint i = 0; i < nodes->len; i++) {
    Node *node = nodes->pdata[i];

    pairs_seen += g_hash_table_size (node->connected);
    errors += node->errors;
  }
  if (members_lost)
    text = g_strdup_printf ("a member left: %u of %u member-to-member "
        "connections up, %u room errors", pairs_seen,
        nodes->len * (nodes->len - 1), errors);
  else
    text = g_strdup_printf ("timed out after %u ms: %u of %u "
        "member-to-member connections up, %u room errors", timeout_ms,
        pairs_seen, nodes->len * (nodes->len - 1), errors);
  g_mutex_unlock (&lock);
  return text;
}

static gdouble
maximum (GArray *values)
{
  gdouble max = 0;

  for (guint i = 0; i < values->len; i++)
    max = MAX (max, g_array_index (values, gdouble, i));
  return max;
}

/* ---- one after another ---- */

typedef struct {
  gdouble join_med, join_max;   /* ms: the joiner sees everybody */
  gdouble seen_med, seen_max;   /* ms: everybody sees the joiner */
} JoinResult;

static gboolean
measure_joins (const Config *cfg, const gchar *url, guint n, guint run,
    JoinResult *result, gchar **why)
{
  gchar *room_name = g_strdup_printf ("joins-%u-%u", n, run);
  GPtrArray *nodes = g_ptr_array_new ();
  GArray *join = g_array_new (FALSE, FALSE, sizeof (gdouble));
  GArray *seen = g_array_new (FALSE, FALSE, sizeof (gdouble));
  gboolean ok = TRUE;

  g_mutex_lock (&lock);
  members_lost = 0;
  g_mutex_unlock (&lock);

  for (guint k = 0; k < n && ok; k++) {
    Node *joiner = node_new (url, room_name, k);
    GError *error = NULL;
    gint64 start, deadline;

    g_ptr_array_add (nodes, joiner);
    start = g_get_monotonic_time ();
    deadline = start + (gint64) cfg->timeout_ms * 1000;
    if (!hangout_room_start (joiner->room, &error)) {
      *why = g_strdup_printf ("start: %s", error->message);
      g_error_free (error);
      ok = FALSE;
      break;
    }
    /* The first member has nobody to connect to: it only has to be in the
     * room before the second one asks who is there. */
    if (!wait_for (k == 0 ? node_joined : join_complete, nodes, k,
            deadline)) {
      gchar *stall = describe_stall (nodes, cfg->timeout_ms);

      *why = g_strdup_printf ("member %u of %u: %s", k + 1, n, stall);
      g_free (stall);
      ok = FALSE;
      break;
    }
    if (k == 0)
      continue;

    g_mutex_lock (&lock);
    {
      GHashTableIter iter;
      gpointer value;
      gint64 joined_at = 0, seen_at = 0;
      gdouble ms;

      g_hash_table_iter_init (&iter, joiner->connected);
      while (g_hash_table_iter_next (&iter, NULL, &value))
        joined_at = MAX (joined_at, *(gint64 *) value);
      for (guint i = 0; i < k; i++) {
        Node *node = nodes->pdata[i];

        seen_at = MAX (seen_at, *(gint64 *) g_hash_table_lookup
            (node->connected, joiner->id));
      }
      ms = us_to_ms (joined_at - start);
      g_array_append_val (join, ms);
      ms = us_to_ms (seen_at - start);
      g_array_append_val (seen, ms);
    }
    g_mutex_unlock (&lock);
  }

  if (ok) {
    result->join_max = maximum (join);
    result->join_med = bench_median_array (join);
    result->seen_max = maximum (seen);
    result->seen_med = bench_median_array (seen);
  }
  nodes_free (nodes);
  g_array_unref (join);
  g_array_unref (seen);
  g_free (room_name);
  return ok;
}

/* ---- all at once ---- */

static gboolean
measure_mesh (const Config *cfg, const gchar *url, guint n, guint run,
    gdouble *mesh_ms, gchar **why)
{
  gchar *room_name = g_strdup_printf ("mesh-%u-%u", n, run);
  GPtrArray *nodes = g_ptr_array_new ();
  gboolean ok = TRUE;
  gint64 start;

  g_mutex_lock (&lock);
  members_lost = 0;
  g_mutex_unlock (&lock);

  /* Created beforehand so that the starts follow each other closely. */
  for (guint i = 0; i < n; i++)
    g_ptr_array_add (nodes, node_new (url, room_name, i));
  start = g_get_monotonic_time ();
  for (guint i = 0; i < n && ok; i++) {
    GError *error = NULL;

    if (!hangout_room_start (((Node *) nodes->pdata[i])->room, &error)) {
      *why = g_strdup_printf ("start: %s", error->message);
      g_error_free (error);
      ok = FALSE;
    }
  }
  if (ok && !wait_for (mesh_complete, nodes, 0,
          start + (gint64) cfg->timeout_ms * 1000)) {
    *why = describe_stall (nodes, cfg->timeout_ms);
    ok = FALSE;
  }
  if (ok) {
    gint64 done_at = 0;

    g_mutex_lock (&lock);
    for (guint i = 0; i < nodes->len; i++) {
      GHashTableIter iter;
      gpointer value;

      g_hash_table_iter_init (&iter, ((Node *) nodes->pdata[i])->connected);
      while (g_hash_table_iter_next (&iter, NULL, &value))
        done_at = MAX (done_at, *(gint64 *) value);
    }
    g_mutex_unlock (&lock);
    *mesh_ms = us_to_ms (done_at - start);
  }
  nodes_free (nodes);
  g_free (room_name);
  return ok;
}

/* ------------------------------------------------------------------------ */
/* The reference: a bare pair, no server                                    */

typedef struct _Pair Pair;

typedef struct {
  Pair *pair;
  guint which;                  /* 0: the offerer, 1: the answerer */
  GMainContext *context;
  GMainLoop *loop;
  GThread *thread;
  gint alive;                   /* atomic: 1 until the connection is gone */
  /* The side's own thread only: */
  HangoutPeerConnection *pc;
  HangoutDataChannel *channel, *control;
  gboolean closing;
  gboolean description_sent;
  GPtrArray *pending;           /* candidates; a NULL entry ends them */
} PairSide;

struct _Pair {
  PairSide side[2];
  /* Under the lock: */
  gint64 open_at[2];            /* µs; 0 until the channel is open */
  gchar *error;
};

typedef enum {
  JOB_START,                    /* offerer: create the connection, offer */
  JOB_OFFER,                    /* answerer: create the connection, answer */
  JOB_ANSWER,
  JOB_CANDIDATE,
  JOB_CLOSE,
} JobKind;

typedef struct {
  PairSide *side;               /* runs on its thread */
  JobKind kind;
  gchar *text;                  /* SDP or candidate; NULL: end of candidates */
} Job;

static void pair_fail (Pair *pair, const gchar *format, ...) G_GNUC_PRINTF (2,
    3);

/* Any thread. The first failure is kept. */
static void
pair_fail (Pair *pair, const gchar *format, ...)
{
  va_list args;

  g_mutex_lock (&lock);
  if (pair->error == NULL) {
    va_start (args, format);
    pair->error = g_strdup_vprintf (format, args);
    va_end (args);
  }
  g_cond_broadcast (&changed);
  g_mutex_unlock (&lock);
}

static void
job_free (gpointer data)
{
  Job *job = data;

  g_free (job->text);
  g_free (job);
}

static gboolean job_run (gpointer data);

/* Hands @text to the side @to, as a server would relay it, but directly:
 * an idle source on its context. Sources of one priority run in the order
 * they were added, so the description always precedes its candidates. */
static void
pair_post (PairSide *to, JobKind kind, const gchar *text)
{
  Job *job = g_new0 (Job, 1);

  job->side = to;
  job->kind = kind;
  job->text = g_strdup (text);
  g_main_context_invoke_full (to->context, G_PRIORITY_DEFAULT, job_run, job,
      job_free);
}

static PairSide *
side_other (PairSide *s)
{
  return &s->pair->side[1 - s->which];
}

static void
side_on_candidate (HangoutPeerConnection *pc, const gchar *candidate,
    PairSide *s)
{
  /* Candidates may come out before create_offer returns: they wait for the
   * description, which the peer must have first. */
  if (!s->description_sent)
    g_ptr_array_add (s->pending, g_strdup (candidate));
  else
    pair_post (side_other (s), JOB_CANDIDATE, candidate);
}

static void
side_send_description (PairSide *s, JobKind kind, const gchar *sdp)
{
  pair_post (side_other (s), kind, sdp);
  s->description_sent = TRUE;
  for (guint i = 0; i < s->pending->len; i++)
    pair_post (side_other (s), JOB_CANDIDATE, s->pending->pdata[i]);
  g_ptr_array_set_size (s->pending, 0);
}

static void
side_on_state (HangoutPeerConnection *pc, HangoutPeerConnectionState state,
    PairSide *s)
{
  const GError *error;

  if (s->closing || (state != HANGOUT_PEER_CONNECTION_STATE_FAILED
          && state != HANGOUT_PEER_CONNECTION_STATE_CLOSED))
    return;
  error = hangout_peer_connection_get_error (pc);
  pair_fail (s->pair, "%s: connection %s: %s", s->which ? "answerer" :
      "offerer", state == HANGOUT_PEER_CONNECTION_STATE_FAILED ? "failed" :
      "closed", error ? error->message : "(no error)");
}

static void
side_on_open (HangoutDataChannel *channel, PairSide *s)
{
  gint64 now = g_get_monotonic_time ();

  g_mutex_lock (&lock);
  s->pair->open_at[s->which] = now;
  g_cond_broadcast (&changed);
  g_mutex_unlock (&lock);
}

static void
side_on_finalized (gpointer data, GObject *gone)
{
  PairSide *s = data;

  g_atomic_int_set (&s->alive, 0);
}

/* As a room member does (room.c, member_new): both negotiated channels, so
 * that the pair's SCTP does the same work as a room's. */
static gboolean
side_setup (PairSide *s)
{
  HangoutDataChannelOptions options = HANGOUT_DATA_CHANNEL_OPTIONS_INIT;
  GError *error = NULL;

  s->pc = hangout_peer_connection_new (s->context);
  g_atomic_int_set (&s->alive, 1);
  g_object_weak_ref (G_OBJECT (s->pc), side_on_finalized, s);
  options.negotiated = TRUE;
  options.id = HANGOUT_ROOM_CHANNEL_ID;
  s->channel = hangout_peer_connection_create_data_channel (s->pc,
      HANGOUT_ROOM_CHANNEL_LABEL, &options, &error);
  options.id = HANGOUT_ROOM_CONTROL_ID;
  if (s->channel != NULL)
    s->control = hangout_peer_connection_create_data_channel (s->pc,
        HANGOUT_ROOM_CONTROL_LABEL, &options, &error);
  if (s->control == NULL) {
    pair_fail (s->pair, "create_data_channel: %s", error->message);
    g_error_free (error);
    return FALSE;
  }
  g_signal_connect (s->pc, "ice-candidate", G_CALLBACK (side_on_candidate),
      s);
  g_signal_connect (s->pc, "state-changed", G_CALLBACK (side_on_state), s);
  g_signal_connect (s->channel, "open", G_CALLBACK (side_on_open), s);
  return TRUE;
}

static void
side_close (PairSide *s)
{
  s->closing = TRUE;
  if (s->channel != NULL)
    g_signal_handlers_disconnect_by_data (s->channel, s);
  if (s->pc != NULL) {
    g_signal_handlers_disconnect_by_data (s->pc, s);
    hangout_peer_connection_close (s->pc);
  }
  g_clear_object (&s->channel);
  g_clear_object (&s->control);
  g_clear_object (&s->pc);
  g_main_loop_quit (s->loop);
}

static gboolean
job_run (gpointer data)
{
  Job *job = data;
  PairSide *s = job->side;
  GError *error = NULL;
  gchar *sdp = NULL;

  /* After a failure the other side may still send; nothing to do then. */
  if (s->closing)
    return G_SOURCE_REMOVE;
  switch (job->kind) {
    case JOB_START:
      if (!side_setup (s))
        break;
      sdp = hangout_peer_connection_create_offer (s->pc, &error);
      if (sdp == NULL)
        pair_fail (s->pair, "create_offer: %s", error->message);
      else
        side_send_description (s, JOB_OFFER, sdp);
      break;
    case JOB_OFFER:
      if (!side_setup (s))
        break;
      if (!hangout_peer_connection_set_remote_description (s->pc,
              HANGOUT_SDP_OFFER, job->text, &error)) {
        pair_fail (s->pair, "set offer: %s", error->message);
        break;
      }
      sdp = hangout_peer_connection_create_answer (s->pc, &error);
      if (sdp == NULL)
        pair_fail (s->pair, "create_answer: %s", error->message);
      else
        side_send_description (s, JOB_ANSWER, sdp);
      break;
    case JOB_ANSWER:
      if (!hangout_peer_connection_set_remote_description (s->pc,
              HANGOUT_SDP_ANSWER, job->text, &error))
        pair_fail (s->pair, "set answer: %s", error->message);
      break;
    case JOB_CANDIDATE:
      if (s->pc != NULL
          && !hangout_peer_connection_add_ice_candidate (s->pc, job->text,
              &error))
        pair_fail (s->pair, "add candidate: %s", error->message);
      break;
    case JOB_CLOSE:
      side_close (s);
      break;
  }
  g_clear_error (&error);
  g_free (sdp);
  return G_SOURCE_REMOVE;
}

static gboolean
drain_tick_cb (gpointer data)
{
  return G_SOURCE_CONTINUE;
}

static gpointer
side_thread (gpointer data)
{
  PairSide *s = data;
  gint64 deadline;
  GSource *ticker;

  g_main_context_push_thread_default (s->context);
  g_main_loop_run (s->loop);
  /* Closed: as the room's network thread, let the connection's deferred
   * teardown finish on this context before it goes. The ticker bounds each
   * iteration, hence the drain. */
  deadline = g_get_monotonic_time () + PAIR_DRAIN_TIMEOUT_MS * 1000;
  ticker = g_timeout_source_new (10);
  g_source_set_callback (ticker, drain_tick_cb, NULL, NULL);
  g_source_attach (ticker, s->context);
  while (g_atomic_int_get (&s->alive) && g_get_monotonic_time () < deadline)
    g_main_context_iteration (s->context, TRUE);
  g_source_destroy (ticker);
  g_source_unref (ticker);
  while (g_main_context_iteration (s->context, FALSE));
  g_main_context_pop_thread_default (s->context);
  return NULL;
}

static gboolean
measure_pair (const Config *cfg, gdouble *pair_ms, gchar **why)
{
  Pair *pair = g_new0 (Pair, 1);
  gboolean ok, leak = FALSE;
  gint64 start;

  /* The threads exist before the clock starts: a room's thread start is
   * part of its join, but it is tens of µs, and the pair's hand-over is
   * what we want. */
  for (guint i = 0; i < 2; i++) {
    PairSide *s = &pair->side[i];

    s->pair = pair;
    s->which = i;
    s->context = g_main_context_new ();
    s->loop = g_main_loop_new (s->context, FALSE);
    s->pending = g_ptr_array_new_with_free_func (g_free);
    s->thread = g_thread_new (i ? "pair-answerer" : "pair-offerer",
        side_thread, s);
  }

  start = g_get_monotonic_time ();
  pair_post (&pair->side[0], JOB_START, NULL);
  g_mutex_lock (&lock);
  while (pair->error == NULL && (!pair->open_at[0] || !pair->open_at[1])) {
    if (!g_cond_wait_until (&changed, &lock,
            start + (gint64) cfg->timeout_ms * 1000))
      break;
  }
  ok = pair->error == NULL && pair->open_at[0] && pair->open_at[1];
  if (ok)
    *pair_ms = us_to_ms (MAX (pair->open_at[0], pair->open_at[1]) - start);
  else
    *why = pair->error ? g_strdup (pair->error) :
        g_strdup_printf ("timed out after %u ms", cfg->timeout_ms);
  g_mutex_unlock (&lock);

  for (guint i = 0; i < 2; i++)
    pair_post (&pair->side[i], JOB_CLOSE, NULL);
  for (guint i = 0; i < 2; i++) {
    PairSide *s = &pair->side[i];

    g_thread_join (s->thread);
    if (g_atomic_int_get (&s->alive)) {
      g_printerr ("bare pair: connection still busy %d ms after close\n",
          PAIR_DRAIN_TIMEOUT_MS);
      /* Its weak ref still points into the pair. */
      leak = TRUE;
    }
  }
  if (!leak) {
    for (guint i = 0; i < 2; i++) {
      PairSide *s = &pair->side[i];

      g_ptr_array_unref (s->pending);
      g_main_loop_unref (s->loop);
      g_main_context_unref (s->context);
    }
    g_free (pair->error);
    g_free (pair);
  }
  return ok;
}

/* ------------------------------------------------------------------------ */

/* Per room size, one value per successful run (ms). */
typedef struct {
  guint n;
  GArray *join_med, *join_max, *seen_med, *seen_max, *mesh;
  guint failures;
} SizeResults;

static void
append (GArray *values, gdouble value)
{
  g_array_append_val (values, value);
}

static gboolean
parse_sizes (const gchar *text, GArray *sizes)
{
  gchar **parts = g_strsplit (text, ",", -1);
  gboolean ok = parts[0] != NULL;

  for (guint i = 0; ok && parts[i] != NULL; i++) {
    guint64 n;

    ok = g_ascii_string_to_unsigned (g_strstrip (parts[i]), 10, 2,
        MAX_ROOM_SIZE, &n, NULL);
    if (ok) {
      guint size = n;

      g_array_append_val (sizes, size);
    }
  }
  g_strfreev (parts);
  return ok;
}

/* "-" for a size whose runs all failed. */
static void
print_ms (GArray *values)
{
  if (values->len)
    g_print (" %9.1f", bench_median_array (values));
  else
    g_print (" %9s", "-");
}

static void
print_ratio (GArray *values, gdouble reference)
{
  if (values->len && reference > 0)
    g_print (" %8.2fx", bench_median_array (values) / reference);
  else
    g_print (" %9s", "-");
}

int
main (int argc, char **argv)
{
  gchar *sizes_text = NULL, *server_path = NULL;
  gint repeat = 3, timeout_s = 20;
  gboolean server_log = FALSE;
  GOptionEntry entries[] = {
    {"sizes", 'n', 0, G_OPTION_ARG_STRING, &sizes_text,
        "Room sizes, comma-separated, each 2 to 64 (default 8,16,32,64)", "N,..."},
    {"repeat", 'r', 0, G_OPTION_ARG_INT, &repeat,
        "Runs of every measurement; medians are reported (default 3)", "R"},
    {"timeout", 't', 0, G_OPTION_ARG_INT, &timeout_s,
          "Seconds one join, one all-at-once mesh or one bare pair may take "
          "(default 20)", "S"},
    {"server", 's', 0, G_OPTION_ARG_FILENAME, &server_path,
        "The hangout-server binary (default " HANGOUT_SERVER_PATH ")", "PATH"},
    {"server-log", 0, 0, G_OPTION_ARG_NONE, &server_log,
        "Pass the server's log (a line per join and leave) to stderr", NULL},
    G_OPTION_ENTRY_NULL
  };
  GOptionContext *octx;
  GError *error = NULL;
  Config cfg = { 0 };
  GArray *sizes = g_array_new (FALSE, FALSE, sizeof (guint));
  GArray *bare = g_array_new (FALSE, FALSE, sizeof (gdouble));
  SizeResults *results;
  Server *server;
  gboolean ok = TRUE;
  gdouble reference = 0;

  octx = g_option_context_new ("- how long joining a room takes, against a "
      "bare pair of peer connections");
  g_option_context_add_main_entries (octx, entries, NULL);
  if (!g_option_context_parse (octx, &argc, &argv, &error)) {
    g_printerr ("%s\n", error->message);
    return 2;
  }
  g_option_context_free (octx);
  if (!parse_sizes (sizes_text ? sizes_text : "8,16,32,64", sizes)
      || repeat <= 0 || timeout_s <= 0) {
    g_printerr ("--sizes takes numbers from 2 to %d, --repeat and --timeout "
        "must be positive\n", MAX_ROOM_SIZE);
    return 2;
  }
  cfg.server_path = server_path ? server_path : HANGOUT_SERVER_PATH;
  cfg.timeout_ms = timeout_s * 1000;

  server = server_start (cfg.server_path, server_log, &error);
  if (server == NULL) {
    g_printerr ("cannot start the server: %s\n", error->message);
    return 1;
  }

  results = g_new0 (SizeResults, sizes->len);
  for (guint i = 0; i < sizes->len; i++) {
    results[i].n = g_array_index (sizes, guint, i);
    results[i].join_med = g_array_new (FALSE, FALSE, sizeof (gdouble));
    results[i].join_max = g_array_new (FALSE, FALSE, sizeof (gdouble));
    results[i].seen_med = g_array_new (FALSE, FALSE, sizeof (gdouble));
    results[i].seen_max = g_array_new (FALSE, FALSE, sizeof (gdouble));
    results[i].mesh = g_array_new (FALSE, FALSE, sizeof (gdouble));
  }

  g_print ("join latency: HangoutRoom members in one process (a network "
      "thread each), hangout-server at %s; reference: a bare pair of peer "
      "connections, no server\n", server->url);
  g_print ("join: joiner's start until connected to all present; seen: "
      "until all present are connected to it; all-at-once: N started back "
      "to back until all pairs are up. ms\n\n");
  g_print ("%3s %3s %9s %9s %9s %9s %9s %11s\n", "run", "N", "bare-pair",
      "join-med", "join-max", "seen-med", "seen-max", "all-at-once");
  /* Sizes inside runs, and a bare pair next to every room: slow phases of a
   * shared machine spread over everything instead of one column. */
  for (gint r = 0; r < repeat; r++) {
    for (guint i = 0; i < sizes->len; i++) {
      SizeResults *res = &results[i];
      JoinResult joins;
      gdouble pair_ms = 0, mesh_ms = 0;
      gchar *why = NULL;
      gboolean have_pair, have_joins, have_mesh;

      have_pair = measure_pair (&cfg, &pair_ms, &why);
      if (!have_pair) {
        g_printerr ("run %d: bare pair failed: %s\n", r + 1, why);
        g_clear_pointer (&why, g_free);
      }
      have_joins = measure_joins (&cfg, server->url, res->n, r, &joins, &why);
      if (!have_joins) {
        g_printerr ("run %d, N=%u: joins failed: %s\n", r + 1, res->n, why);
        g_clear_pointer (&why, g_free);
      }
      have_mesh = measure_mesh (&cfg, server->url, res->n, r, &mesh_ms, &why);
      if (!have_mesh) {
        g_printerr ("run %d, N=%u: all at once failed: %s\n", r + 1, res->n,
            why);
        g_clear_pointer (&why, g_free);
      }

      g_print ("%3d %3u", r + 1, res->n);
      if (have_pair) {
        append (bare, pair_ms);
        g_print (" %9.1f", pair_ms);
      } else {
        g_print (" %9s", "FAILED");
      }
      if (have_joins) {
        append (res->join_med, joins.join_med);
        append (res->join_max, joins.join_max);
        append (res->seen_med, joins.seen_med);
        append (res->seen_max, joins.seen_max);
        g_print (" %9.1f %9.1f %9.1f %9.1f", joins.join_med, joins.join_max,
            joins.seen_med, joins.seen_max);
      } else {
        g_print (" %9s %9s %9s %9s", "FAILED", "", "", "");
      }
      if (have_mesh) {
        append (res->mesh, mesh_ms);
        g_print (" %11.1f\n", mesh_ms);
      } else {
        g_print (" %11s\n", "FAILED");
      }
      if (!have_pair || !have_joins || !have_mesh) {
        res->failures++;
        ok = FALSE;
      }
    }
  }

  g_print ("\n");
  if (bare->len) {
    g_array_sort (bare, bench_compare_doubles);
    g_print ("reference, bare pair: %.1f ms (median of %u, range %.1f to %.1f)"
        "\n", bench_median_array (bare), bare->len,
        g_array_index (bare, gdouble, 0),
        g_array_index (bare, gdouble, bare->len - 1));
    reference = bench_median_array (bare);
  } else {
    g_print ("reference, bare pair: every run failed; no ratios\n");
  }
  g_print ("medians over %d runs, ms; ratios to the bare pair\n", repeat);
  g_print ("%3s %9s %9s %9s %9s %11s %9s %9s %9s\n", "N", "join-med",
      "join-max", "seen-med", "seen-max", "all-at-once", "join/bare",
      "jmax/bare", "all/bare");
  for (guint i = 0; i < sizes->len; i++) {
    SizeResults *res = &results[i];

    g_print ("%3u", res->n);
    print_ms (res->join_med);
    print_ms (res->join_max);
    print_ms (res->seen_med);
    print_ms (res->seen_max);
    if (res->mesh->len)
      g_print (" %11.1f", bench_median_array (res->mesh));
    else
      g_print (" %11s", "-");
    print_ratio (res->join_med, reference);
    print_ratio (res->join_max, reference);
    print_ratio (res->mesh, reference);
    if (res->failures)
      g_print ("  (%u of %d runs failed)", res->failures, repeat);
    g_print ("\n");
    /* The issue's target. */
    if (res->n == 8 && res->mesh->len)
      g_print ("    8 members all at once: %.0f ms, target <= 1000 ms: %s\n",
          bench_median_array (res->mesh),
          bench_median_array (res->mesh) <= 1000 ? "met" : "MISSED");
  }

  server_free (server);
  for (guint i = 0; i < sizes->len; i++) {
    g_array_unref (results[i].join_med);
    g_array_unref (results[i].join_max);
    g_array_unref (results[i].seen_med);
    g_array_unref (results[i].seen_max);
    g_array_unref (results[i].mesh);
  }
  g_free (results);
  g_array_unref (sizes);
  g_array_unref (bare);
  g_free (sizes_text);
  g_free (server_path);
  return ok ? 0 : 1;
}
