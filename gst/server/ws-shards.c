/* gst-hangout — WebSockets run on shard threads (ws-shards.h).
 *
 * GLib's main loop prepares, polls and checks every source of its context
 * on each wake-up, so a context that holds every member's WebSocket pays
 * for all of them on every event: at 10,000 members most of the server's
 * time went there (docs/performance.md, "The signalling server under
 * 10,000 members"). Here each WebSocket lives on one of several threads,
 * each with its own context and a bounded number of them; the owner (the
 * server's thread, which keeps the rooms) talks to them through two
 * mailboxes: operations to a shard, events back. A wake-up thus costs what
 * one shard holds, whatever the server holds.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#include "ws-shards.h"

/* A queue between threads that wakes the context of its reader. */
typedef struct {
  GMutex lock;
  GQueue items;
  GSource *source;
  void (*handle) (gpointer item, gpointer data);
  gpointer data;
} Mailbox;

typedef struct {
  GSource source;
  Mailbox *box;
} MailboxSource;

typedef struct {
  WsShards *shards;
  GThread *thread;
  GMainContext *context;
  GMainLoop *loop;
  Mailbox ops;
  guint links;                  /* owner's count of links placed here */
} Shard;

struct _WsShards {
  GMainContext *owner;
  guint per_shard;
  GPtrArray *shards;            /* Shard* */
  char *too_big_reply;
  Mailbox events;               /* to the owner; unused without shards */
};

struct _WsLink {
  gatomicrefcount refs;
  WsShards *shards;
  Shard *shard;                 /* NULL: runs on the owner's context */
  /* On the connection's thread. */
  SoupWebsocketConnection *conn;
  GSocket *socket;              /* or NULL */
  /* On the owner's. */
  const WsLinkCallbacks *callbacks;
  gpointer user_data;
  gboolean open;
  gboolean released;
};

typedef enum { OP_ADOPT, OP_SEND, OP_CLOSE, OP_DROP, OP_RELEASE, OP_QUIT } OpKind;

typedef struct {
  OpKind kind;
  WsLink *link;                 /* a reference; NULL for OP_QUIT */
  char *text;                   /* OP_SEND; the reason of OP_CLOSE */
  gushort code;
  GIOStream *stream;            /* OP_ADOPT */
  GUri *uri;
  char *origin;
  guint64 max_payload;
  guint keepalive;
} Op;

typedef enum { EV_MESSAGE, EV_ERROR, EV_CLOSING, EV_CLOSED } EventKind;

typedef struct {
  EventKind kind;
  WsLink *link;                 /* a reference */
  gint type;
  GBytes *bytes;
  GError *error;
  gushort code;
} Event;

/* A connection's link, for the signal hooks (attach_connection). */
static GQuark link_quark;

/* ---- mailboxes ---- */

static gboolean
mailbox_dispatch (GSource *source, GSourceFunc callback, gpointer data)
{
  Mailbox *box = ((MailboxSource *) source)->box;
  GQueue items;
  gpointer item;

  /* Before taking the items: a push after this wakes us again. */
  g_source_set_ready_time (source, -1);
  g_mutex_lock (&box->lock);
  items = box->items;
  g_queue_init (&box->items);
  g_mutex_unlock (&box->lock);
  while ((item = g_queue_pop_head (&items)) != NULL)
    box->handle (item, box->data);
  return G_SOURCE_CONTINUE;
}

static GSourceFuncs mailbox_funcs = {
  .dispatch = mailbox_dispatch,
};

static void
mailbox_init (Mailbox *box, GMainContext *context,
    void (*handle) (gpointer item, gpointer data), gpointer data)
{
  g_mutex_init (&box->lock);
  g_queue_init (&box->items);
  box->handle = handle;
  box->data = data;
  box->source = g_source_new (&mailbox_funcs, sizeof (MailboxSource));
  ((MailboxSource *) box->source)->box = box;
  g_source_attach (box->source, context);
}

/* Any thread. */
static void
mailbox_push (Mailbox *box, gpointer item)
{
  gboolean was_empty;

  g_mutex_lock (&box->lock);
  was_empty = g_queue_is_empty (&box->items);
  g_queue_push_tail (&box->items, item);
  g_mutex_unlock (&box->lock);
  /* A queue that held items has its wake-up on the way already. */
  if (was_empty)
    g_source_set_ready_time (box->source, 0);
}

/* Once its reader is gone: the items left are handed to @drop. */
static void
mailbox_clear (Mailbox *box, void (*drop) (gpointer item))
{
  g_source_destroy (box->source);
  g_source_unref (box->source);
  g_queue_clear_full (&box->items, drop);
  g_mutex_clear (&box->lock);
}

/* ---- links ---- */

static WsLink *
link_ref (WsLink *link)
{
  g_atomic_ref_count_inc (&link->refs);
  return link;
}

static void
link_unref (WsLink *link)
{
  if (g_atomic_ref_count_dec (&link->refs)) {
    g_clear_object (&link->socket);
    g_free (link);
  }
}

static void
event_free (Event *ev)
{
  g_clear_pointer (&ev->bytes, g_bytes_unref);
  g_clear_error (&ev->error);
  link_unref (ev->link);
  g_free (ev);
}

/* The owner's context. */
static void
deliver (WsLink *link, const Event *ev)
{
  if (link->released)
    return;
  switch (ev->kind) {
    case EV_MESSAGE:
      link->callbacks->message (link, ev->type, ev->bytes, link->user_data);
      break;
    case EV_ERROR:
      link->callbacks->error (link, ev->error, link->user_data);
      break;
    case EV_CLOSING:
      link->open = FALSE;
      break;
    case EV_CLOSED:
      link->open = FALSE;
      link->callbacks->closed (link, ev->code, link->user_data);
      break;
  }
}

static void
handle_event (gpointer item, gpointer data)
{
  Event *ev = item;

  deliver (ev->link, ev);
  event_free (ev);
}

/* The connection's thread: to the owner, at once when that is this one. */
static void
emit (WsLink *link, Event *ev)
{
  ev->link = link_ref (link);
  if (link->shard == NULL) {
    handle_event (ev, NULL);
    return;
  }
  mailbox_push (&link->shards->events, ev);
}

static gboolean
connection_open (WsLink *link)
{
  return link->conn != NULL && soup_websocket_connection_get_state (link->conn)
      == SOUP_WEBSOCKET_STATE_OPEN;
}

static void
on_message (WsLink *link, gint type, GBytes *bytes)
{
  Event *ev = g_new0 (Event, 1);

  ev->kind = EV_MESSAGE;
  ev->type = type;
  ev->bytes = g_bytes_ref (bytes);
  emit (link, ev);
}

static void
on_error (WsLink *link, const GError *error)
{
  SoupWebsocketConnection *conn = link->conn;
  Event *ev = g_new0 (Event, 1);

  /* libsoup writes queued frames at once when the socket takes them, so
   * before it closes the stream. */
  if (g_error_matches (error, SOUP_WEBSOCKET_ERROR, SOUP_WEBSOCKET_CLOSE_TOO_BIG)
      && connection_open (link)) {
    soup_websocket_connection_send_text (conn, link->shards->too_big_reply);
    soup_websocket_connection_close (conn, SOUP_WEBSOCKET_CLOSE_TOO_BIG, "message too big");
  }
  ev->kind = EV_ERROR;
  ev->error = g_error_copy (error);
  emit (link, ev);
}

static void
on_closing (WsLink *link)
{
  Event *ev = g_new0 (Event, 1);

  ev->kind = EV_CLOSING;
  emit (link, ev);
}

/* The connection's thread: its signals and our reference on it end. */
static void
drop_connection (WsLink *link)
{
  SoupWebsocketConnection *conn = link->conn;

  if (conn == NULL)
    return;
  link->conn = NULL;
  g_object_set_qdata (G_OBJECT (conn), link_quark, NULL);
  g_object_unref (conn);
  link_unref (link);            /* the hooks' */
}

static void
on_closed (WsLink *link)
{
  Event *ev = g_new0 (Event, 1);

  link_ref (link);
  ev->kind = EV_CLOSED;
  ev->code = soup_websocket_connection_get_close_code (link->conn);
  emit (link, ev);
  drop_connection (link);
  link_unref (link);
}

/* Every connection's signals reach its link through one emission hook per
 * signal, for all connections, rather than four handlers per connection:
 * a handler costs about 170 bytes (its closure, its record, the
 * connection's list of them), so four were about 680 bytes of the ~6 KiB
 * a member costs the server (docs/performance.md, "The signalling server
 * under 10,000 members"). The hooks see every SoupWebsocketConnection of
 * the process; those without a link (a refused one, a client's) are not
 * ours. @data is the signal's EventKind. The connection's thread. */
static gboolean
on_emission (GSignalInvocationHint *hint, guint n_params, const GValue *params, gpointer data)
{
  WsLink *link = g_object_get_qdata (g_value_get_object (&params[0]), link_quark);

  if (link == NULL)
    return TRUE;
  switch ((EventKind) GPOINTER_TO_INT (data)) {
    case EV_MESSAGE:
      on_message (link, g_value_get_int (&params[1]), g_value_get_boxed (&params[2]));
      break;
    case EV_ERROR:
      on_error (link, g_value_get_boxed (&params[1]));
      break;
    case EV_CLOSING:
      on_closing (link);
      break;
    case EV_CLOSED:
      on_closed (link);
      break;
  }
  return TRUE;
}

static void
add_hook (const char *signal, EventKind kind)
{
  g_signal_add_emission_hook (g_signal_lookup (signal, SOUP_TYPE_WEBSOCKET_CONNECTION), 0, on_emission,
      GINT_TO_POINTER (kind), NULL);
}

/* Once per process: the hooks stay (they cost nothing per connection). */
static void
install_hooks (void)
{
  static gsize done = 0;

  if (!g_once_init_enter (&done))
    return;
  /* The signals exist once the class does; it is kept for the hooks. */
  g_type_class_ref (SOUP_TYPE_WEBSOCKET_CONNECTION);
  link_quark = g_quark_from_static_string ("hangout-ws-link");
  add_hook ("message", EV_MESSAGE);
  add_hook ("error", EV_ERROR);
  add_hook ("closing", EV_CLOSING);
  add_hook ("closed", EV_CLOSED);
  g_once_init_leave (&done, 1);
}

/* The connection's thread. */
static void
attach_connection (WsLink *link, SoupWebsocketConnection *conn,
    guint64 max_payload, guint keepalive)
{
  link->conn = conn;
  soup_websocket_connection_set_max_incoming_payload_size (conn, max_payload);
  soup_websocket_connection_set_keepalive_interval (conn, keepalive);
  g_object_set_qdata (G_OBJECT (conn), link_quark, link_ref (link));    /* the hooks' */
}

/* ---- shards ---- */

static void
op_free (Op *op)
{
  g_free (op->text);
  g_clear_object (&op->stream);
  g_clear_pointer (&op->uri, g_uri_unref);
  g_free (op->origin);
  if (op->link != NULL)
    link_unref (op->link);
  g_free (op);
}

/* A shard's thread, or the owner's for a link without one. */
static void
run_op (Op *op)
{
  WsLink *link = op->link;

  switch (op->kind) {
    case OP_ADOPT:
      attach_connection (link, soup_websocket_connection_new (op->stream,
              op->uri, SOUP_WEBSOCKET_CONNECTION_SERVER, op->origin, NULL,
              NULL), op->max_payload, op->keepalive);
      break;
    case OP_SEND:
      if (connection_open (link))
        soup_websocket_connection_send_text (link->conn, op->text);
      break;
    case OP_CLOSE:
    case OP_DROP:
      if (connection_open (link))
        soup_websocket_connection_close (link->conn, op->code, op->text);
      if (op->kind == OP_DROP && link->socket != NULL)
        g_socket_shutdown (link->socket, TRUE, TRUE, NULL);
      break;
    case OP_RELEASE:
      drop_connection (link);
      break;
    case OP_QUIT:
      break;
  }
}

static void
handle_op (gpointer item, gpointer data)
{
  Op *op = item;
  Shard *shard = data;

  run_op (op);
  if (op->kind == OP_QUIT)
    g_main_loop_quit (shard->loop);
  op_free (op);
}

static gpointer
shard_thread (gpointer data)
{
  Shard *shard = data;

  g_main_context_push_thread_default (shard->context);
  g_main_loop_run (shard->loop);
  /* Let closes that were under way finish. */
  while (g_main_context_iteration (shard->context, FALSE))
    ;
  g_main_context_pop_thread_default (shard->context);
  return NULL;
}

static Shard *
shard_new (WsShards *shards)
{
  Shard *shard = g_new0 (Shard, 1);
  g_autofree char *name = g_strdup_printf ("ws-shard-%u", shards->shards->len);

  shard->shards = shards;
  shard->context = g_main_context_new ();
  shard->loop = g_main_loop_new (shard->context, FALSE);
  mailbox_init (&shard->ops, shard->context, handle_op, shard);
  shard->thread = g_thread_new (name, shard_thread, shard);
  g_ptr_array_add (shards->shards, shard);
  return shard;
}

static void
shard_free (Shard *shard)
{
  Op *quit = g_new0 (Op, 1);

  quit->kind = OP_QUIT;
  mailbox_push (&shard->ops, quit);
  g_thread_join (shard->thread);
  mailbox_clear (&shard->ops, (GDestroyNotify) op_free);
  g_main_loop_unref (shard->loop);
  g_main_context_unref (shard->context);
  g_free (shard);
}

/* The one with the fewest links, or a new one when all are full. */
static Shard *
place (WsShards *shards)
{
  Shard *best = NULL;

  for (guint i = 0; i < shards->shards->len; i++) {
    Shard *shard = g_ptr_array_index (shards->shards, i);

    if (shard->links < shards->per_shard
        && (best == NULL || shard->links < best->links))
      best = shard;
  }
  if (best == NULL)
    best = shard_new (shards);
  best->links++;
  return best;
}

WsShards *
ws_shards_new (GMainContext *owner, guint per_shard, const char *too_big_reply)
{
  WsShards *shards = g_new0 (WsShards, 1);

  install_hooks ();
  shards->too_big_reply = g_strdup (too_big_reply);
  shards->owner = g_main_context_ref (owner);
  shards->per_shard = per_shard;
  shards->shards = g_ptr_array_new ();
  if (per_shard > 0)
    mailbox_init (&shards->events, owner, handle_event, NULL);
  return shards;
}

void
ws_shards_free (WsShards *shards)
{
  if (shards == NULL)
    return;
  for (guint i = 0; i < shards->shards->len; i++)
    shard_free (g_ptr_array_index (shards->shards, i));
  g_ptr_array_unref (shards->shards);
  if (shards->per_shard > 0)
    mailbox_clear (&shards->events, (GDestroyNotify) event_free);
  g_main_context_unref (shards->owner);
  g_free (shards->too_big_reply);
  g_free (shards);
}

static WsLink *
link_new (WsShards *shards, const WsLinkCallbacks *callbacks,
    gpointer user_data)
{
  WsLink *link = g_new0 (WsLink, 1);

  g_atomic_ref_count_init (&link->refs);
  link->shards = shards;
  link->callbacks = callbacks;
  link->user_data = user_data;
  link->open = TRUE;
  return link;
}

/* To the link's shard, or done here without one. */
static void
submit (WsLink *link, Op *op)
{
  op->link = link_ref (link);
  if (link->shard == NULL) {
    run_op (op);
    op_free (op);
    return;
  }
  mailbox_push (&link->shard->ops, op);
}

WsLink *
ws_shards_adopt (WsShards *shards, GIOStream *stream, GSocket *socket, GUri *uri,
    const char *origin, guint64 max_payload, guint keepalive,
    const WsLinkCallbacks *callbacks, gpointer user_data)
{
  WsLink *link = link_new (shards, callbacks, user_data);
  Op *op = g_new0 (Op, 1);

  if (shards->per_shard > 0)
    link->shard = place (shards);
  link->socket = socket != NULL ? g_object_ref (socket) : NULL;
  op->kind = OP_ADOPT;
  op->stream = g_object_ref (stream);
  op->uri = uri != NULL ? g_uri_ref (uri) : NULL;
  op->origin = g_strdup (origin);
  op->max_payload = max_payload;
  op->keepalive = keepalive;
  submit (link, op);
  return link;
}

WsLink *
ws_shards_adopt_connection (WsShards *shards, SoupWebsocketConnection *conn,
    GSocket *socket, guint64 max_payload, guint keepalive,
    const WsLinkCallbacks *callbacks, gpointer user_data)
{
  WsLink *link = link_new (shards, callbacks, user_data);

  link->socket = socket != NULL ? g_object_ref (socket) : NULL;
  attach_connection (link, g_object_ref (conn), max_payload, keepalive);
  return link;
}

void
ws_link_send_text (WsLink *link, const char *text)
{
  Op *op;

  if (!ws_link_is_open (link))
    return;
  op = g_new0 (Op, 1);
  op->kind = OP_SEND;
  op->text = g_strdup (text);
  submit (link, op);
}

static void
close_with (WsLink *link, OpKind kind, gushort code, const char *reason)
{
  Op *op;

  if (!ws_link_is_open (link))
    return;
  link->open = FALSE;
  op = g_new0 (Op, 1);
  op->kind = kind;
  op->code = code;
  op->text = g_strdup (reason);
  submit (link, op);
}

void
ws_link_close (WsLink *link, gushort code, const char *reason)
{
  close_with (link, OP_CLOSE, code, reason);
}

void
ws_link_drop (WsLink *link, gushort code, const char *reason)
{
  close_with (link, OP_DROP, code, reason);
}

gboolean
ws_link_is_open (WsLink *link)
{
  /* Without a shard the connection itself says (it is on this thread). */
  if (link->shard == NULL)
    return connection_open (link);
  return link->open;
}

void
ws_link_release (WsLink *link)
{
  Op *op = g_new0 (Op, 1);

  link->released = TRUE;
  if (link->shard != NULL)
    link->shard->links--;
  op->kind = OP_RELEASE;
  submit (link, op);
  link_unref (link);            /* the owner's */
}
