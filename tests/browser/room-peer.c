/* gst-hangout — a C member for the browser tests: joins a room with
 * libhangout's HangoutRoom, sends a file to every member that connects
 * (docs/protocol.md §2, built by hand here so that the test checks the page
 * against the protocol text, not against another copy of the page's code),
 * verifies files sent to it, and reports on standard output, one event a
 * line:
 *
 *   joined ID | connected ID NAME SAS | left ID | refused ID REASON
 *   received NAME SIZE SHA256 ok|bad      (a file from a member)
 *   ack ID ok|bad                         (a member's answer to our file)
 *   reject ID FILE-ID REASON              (a member declined a file)
 *   accept ID FILE-ID | corrupt ID FILE-ID PIECE FROM-ID
 *   request ID FILE-ID PIECES-JSON        (version 2 answers to a sharer)
 *   send-failed ID MESSAGE | bad-command LINE
 *
 * Usage: room-peer SERVER-URL ROOM NAME [FILE]
 * With ROOM_PEER_WRONG_SHA256=1 in the environment, the "end" of the file
 * it sends names a wrong digest (the receiver must report the file failed).
 * ROOM_PEER_SECRET sets the room secret (docs/protocol.md §3).
 *
 * Commands on standard input, one a line, send raw messages on the
 * application channel to a connected member, so that a test can play a
 * member that breaks the protocol (one that re-offers another's file id,
 * floods offers, lies about a file's type) without the page's help:
 *
 *   send-text MEMBER-ID TEXT              (TEXT as one text message)
 *   send-data MEMBER-ID HEX               (the bytes as one binary message)
 *
 * It stops when its standard input closes, on SIGTERM/SIGINT, or after
 * LIFETIME_S seconds, whichever comes first.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#include <hangout/room.h>
#include <glib-unix.h>
#include <json-glib/json-glib.h>
#include <string.h>
#include <stdio.h>

#define LIFETIME_S 300
#define CHUNK_SIZE 65536
#define HEADER_SIZE 25

typedef struct {
  gchar *name;
  gint64 size;                  /* -1: not known */
  guint chunk_size;
  guint64 received;
  gboolean broken;
  GChecksum *sha;
} Incoming;

typedef struct {
  GMainLoop *loop;
  HangoutRoom *room;
  GMappedFile *file;
  gchar *file_name;
  GMutex lock;                  /* incoming: the room's thread, teardown */
  GHashTable *incoming;         /* file id (hex) → Incoming */
} Peer;

static void
incoming_free (gpointer data)
{
  Incoming *in = data;

  g_free (in->name);
  g_checksum_free (in->sha);
  g_free (in);
}

static void
say (const gchar *format, ...)
{
  va_list args;

  va_start (args, format);
  vprintf (format, args);
  va_end (args);
  putchar ('\n');
  fflush (stdout);
}

static gchar *
to_json (JsonBuilder *b)
{
  g_autoptr (JsonNode) root = json_builder_get_root (b);

  return json_to_string (root, FALSE);
}

/* The whole file to one member: offer, data messages, end. Small files only
 * (the test's): the channel's buffer takes it all at once. */
static void
send_file (Peer *p, const gchar *member)
{
  const guint8 *data = (const guint8 *) g_mapped_file_get_contents (p->file);
  gsize size = g_mapped_file_get_length (p->file);
  guint8 id[16];
  g_autofree gchar *id_hex = NULL;
  g_autofree gchar *text = NULL;
  g_autoptr (JsonBuilder) b = json_builder_new ();
  g_autoptr (GError) error = NULL;
  gsize payload = CHUNK_SIZE - HEADER_SIZE;

  for (guint i = 0; i < 16; i++)
    id[i] = g_random_int_range (0, 256);
  id_hex = g_malloc (33);
  for (guint i = 0; i < 16; i++)
    g_snprintf (id_hex + 2 * i, 3, "%02x", id[i]);

  json_builder_begin_object (b);
  json_builder_set_member_name (b, "type");
  json_builder_add_string_value (b, "offer");
  json_builder_set_member_name (b, "version");
  json_builder_add_int_value (b, 1);
  json_builder_set_member_name (b, "id");
  json_builder_add_string_value (b, id_hex);
  json_builder_set_member_name (b, "name");
  json_builder_add_string_value (b, p->file_name);
  json_builder_set_member_name (b, "size");
  json_builder_add_int_value (b, size);
  json_builder_set_member_name (b, "mime");
  json_builder_add_string_value (b, "application/octet-stream");
  json_builder_set_member_name (b, "chunk-size");
  json_builder_add_int_value (b, CHUNK_SIZE);
  json_builder_end_object (b);
  text = to_json (b);
  if (!hangout_room_send_string (p->room, member, text, &error))
    goto failed;

  for (gsize off = 0; off < size; off += payload) {
    gsize n = MIN (payload, size - off);
    guint8 *msg = g_malloc (HEADER_SIZE + n);
    g_autoptr (GBytes) bytes = NULL;

    msg[0] = 1;
    memcpy (msg + 1, id, 16);
    for (guint i = 0; i < 8; i++)
      msg[17 + i] = (guint8) ((guint64) off >> (56 - 8 * i));
    memcpy (msg + HEADER_SIZE, data + off, n);
    bytes = g_bytes_new_take (msg, HEADER_SIZE + n);
    if (!hangout_room_send (p->room, member, bytes, &error))
      goto failed;
  }

  json_builder_reset (b);
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "type");
  json_builder_add_string_value (b, "end");
  json_builder_set_member_name (b, "id");
  json_builder_add_string_value (b, id_hex);
  json_builder_set_member_name (b, "size");
  json_builder_add_int_value (b, size);
  json_builder_set_member_name (b, "sha256");
  {
    g_autofree gchar *sha = g_compute_checksum_for_data (G_CHECKSUM_SHA256,
        data, size);

    if (g_strcmp0 (g_getenv ("ROOM_PEER_WRONG_SHA256"), "1") == 0)
      sha[0] = sha[0] == '0' ? '1' : '0';
    json_builder_add_string_value (b, sha);
  }
  json_builder_end_object (b);
  g_free (text);
  text = to_json (b);
  if (hangout_room_send_string (p->room, member, text, &error))
    return;
failed:
  say ("send-failed %s %s", member, error->message);
}

static void
on_connected (HangoutRoom *room, const gchar *id, Peer *p)
{
  g_autofree gchar *name = hangout_room_dup_member_name (room, id);

  g_autofree gchar *sas = hangout_room_dup_member_sas (room, id);

  say ("connected %s %s %s", id, name ? name : "", sas ? sas : "-");
  if (p->file != NULL)
    send_file (p, id);
}

static void
on_refused (HangoutRoom *room, const gchar *id, const gchar *name,
    const gchar *reason, Peer *p)
{
  say ("refused %s %s", id, reason);
}

static void
on_left (HangoutRoom *room, const gchar *id, const gchar *failure, Peer *p)
{
  say ("left %s", id);
}

static void
on_id (HangoutRoom *room, GParamSpec *pspec, Peer *p)
{
  g_autofree gchar *id = hangout_room_dup_id (room);

  if (id != NULL)
    say ("joined %s", id);
}

static void
send_ack (Peer *p, const gchar *member, const gchar *id, gboolean ok,
    const gchar *sha)
{
  g_autoptr (JsonBuilder) b = json_builder_new ();
  g_autofree gchar *text = NULL;

  json_builder_begin_object (b);
  json_builder_set_member_name (b, "type");
  json_builder_add_string_value (b, "ack");
  json_builder_set_member_name (b, "id");
  json_builder_add_string_value (b, id);
  json_builder_set_member_name (b, "ok");
  json_builder_add_boolean_value (b, ok);
  json_builder_set_member_name (b, "sha256");
  if (sha != NULL)
    json_builder_add_string_value (b, sha);
  else
    json_builder_add_null_value (b);
  json_builder_end_object (b);
  text = to_json (b);
  hangout_room_send_string (p->room, member, text, NULL);
}

static void
on_control (Peer *p, const gchar *member, JsonObject *o)
{
  const gchar *type = json_object_get_string_member_with_default (o, "type",
      "");
  const gchar *id = json_object_get_string_member_with_default (o, "id", "");

  if (g_str_equal (type, "offer")) {
    Incoming *in = g_new0 (Incoming, 1);
    JsonNode *size = json_object_get_member (o, "size");

    in->name = g_strdup (json_object_get_string_member_with_default (o,
            "name", ""));
    in->size = size && !JSON_NODE_HOLDS_NULL (size) ?
        json_node_get_int (size) : -1;
    in->chunk_size = json_object_get_int_member_with_default (o,
        "chunk-size", 0);
    in->sha = g_checksum_new (G_CHECKSUM_SHA256);
    g_hash_table_replace (p->incoming, g_strdup (id), in);
  } else if (g_str_equal (type, "end")) {
    Incoming *in = g_hash_table_lookup (p->incoming, id);
    const gchar *sha;
    gboolean ok;

    if (in == NULL)
      return;
    sha = g_checksum_get_string (in->sha);
    ok = !in->broken
        && json_object_get_int_member_with_default (o, "size", -1) ==
        (gint64) in->received
        && (in->size < 0 || in->size == (gint64) in->received)
        && g_strcmp0 (json_object_get_string_member_with_default (o,
                "sha256", ""), sha) == 0;
    say ("received %s %" G_GUINT64_FORMAT " %s %s", in->name, in->received,
        sha, ok ? "ok" : "bad");
    send_ack (p, member, id, ok, in->broken ? NULL : sha);
    g_hash_table_remove (p->incoming, id);
  } else if (g_str_equal (type, "ack")) {
    say ("ack %s %s", member, json_object_get_boolean_member_with_default (o,
            "ok", FALSE) ? "ok" : "bad");
  } else if (g_str_equal (type, "reject")) {
    say ("reject %s %s %s", member, id,
        json_object_get_string_member_with_default (o, "reason", ""));
  } else if (g_str_equal (type, "accept")) {
    /* Version 2 (docs/protocol.md §4.3): what a receiver tells its sharer,
     * for tests that play the sharer with raw messages. */
    say ("accept %s %s", member, id);
  } else if (g_str_equal (type, "corrupt")) {
    say ("corrupt %s %s %" G_GINT64_FORMAT " %s", member, id,
        json_object_get_int_member_with_default (o, "piece", -1),
        json_object_get_string_member_with_default (o, "from", ""));
  } else if (g_str_equal (type, "request")
      && json_object_has_member (o, "pieces")) {
    g_autofree gchar *pieces = json_to_string (json_object_get_member (o,
            "pieces"), FALSE);

    say ("request %s %s %s", member, id, pieces);
  }
}

static void
on_data (Peer *p, const guint8 *d, gsize len)
{
  gchar id[33];
  guint64 offset = 0;
  Incoming *in;

  if (len <= HEADER_SIZE || d[0] != 1)
    return;
  for (guint i = 0; i < 16; i++)
    g_snprintf (id + 2 * i, 3, "%02x", d[1 + i]);
  for (guint i = 0; i < 8; i++)
    offset = (offset << 8) | d[17 + i];
  in = g_hash_table_lookup (p->incoming, id);
  if (in == NULL || len > in->chunk_size)
    return;
  if (offset != in->received) {
    in->broken = TRUE;
    return;
  }
  g_checksum_update (in->sha, d + HEADER_SIZE, len - HEADER_SIZE);
  in->received += len - HEADER_SIZE;
}

static void
on_message (HangoutRoom *room, const gchar *member, gboolean is_string,
    GBytes *data, Peer *p)
{
  gsize len;
  const guint8 *d = g_bytes_get_data (data, &len);

  g_mutex_lock (&p->lock);
  if (is_string) {
    g_autoptr (JsonParser) parser = json_parser_new ();
    JsonNode *root;

    if (json_parser_load_from_data (parser, (const gchar *) d, len, NULL)
        && (root = json_parser_get_root (parser)) != NULL
        && JSON_NODE_HOLDS_OBJECT (root))
      on_control (p, member, json_node_get_object (root));
  } else {
    on_data (p, d, len);
  }
  g_mutex_unlock (&p->lock);
}

static gboolean
quit (gpointer data)
{
  g_main_loop_quit (data);
  return G_SOURCE_REMOVE;
}

/* HEX as bytes, or NULL when it is not an even number of hex digits. */
static GBytes *
decode_hex (const gchar *hex)
{
  gsize len = strlen (hex);
  guint8 *bytes;

  if (len % 2 != 0)
    return NULL;
  bytes = g_malloc (len / 2);
  for (gsize i = 0; i < len / 2; i++) {
    gint hi = g_ascii_xdigit_value (hex[2 * i]);
    gint lo = g_ascii_xdigit_value (hex[2 * i + 1]);

    if (hi < 0 || lo < 0) {
      g_free (bytes);
      return NULL;
    }
    bytes[i] = hi << 4 | lo;
  }
  return g_bytes_new_take (bytes, len / 2);
}

/* One command line (without its newline): see the top of the file. */
static void
run_command (Peer *p, const gchar *line)
{
  g_auto (GStrv) words = g_strsplit (line, " ", 3);
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) data = NULL;
  gboolean sent;

  if (g_strv_length (words) != 3)
    goto bad;
  if (g_str_equal (words[0], "send-text")) {
    sent = hangout_room_send_string (p->room, words[1], words[2], &error);
  } else if (g_str_equal (words[0], "send-data")
      && (data = decode_hex (words[2])) != NULL) {
    sent = hangout_room_send (p->room, words[1], data, &error);
  } else {
    goto bad;
  }
  if (!sent)
    say ("send-failed %s %s", words[1], error->message);
  return;
bad:
  say ("bad-command %s", line);
}

static gboolean
on_stdin (GIOChannel *channel, GIOCondition cond, gpointer data)
{
  Peer *p = data;

  /* Every whole line buffered; then wait for more, or stop at the end. */
  for (;;) {
    gchar *line = NULL;
    gsize end;
    GIOStatus status = g_io_channel_read_line (channel, &line, NULL, &end,
        NULL);

    if (status == G_IO_STATUS_AGAIN)
      return G_SOURCE_CONTINUE;
    if (status != G_IO_STATUS_NORMAL) {
      g_main_loop_quit (p->loop);
      return G_SOURCE_REMOVE;
    }
    line[end] = '\0';
    run_command (p, line);
    g_free (line);
  }
}

int
main (int argc, char **argv)
{
  Peer p = { 0 };
  g_autoptr (GError) error = NULL;
  g_autoptr (GIOChannel) input = NULL;

  if (argc < 4 || argc > 5) {
    g_printerr ("usage: %s SERVER-URL ROOM NAME [FILE]\n", argv[0]);
    return 2;
  }
  if (argc == 5) {
    p.file = g_mapped_file_new (argv[4], FALSE, &error);
    if (p.file == NULL) {
      g_printerr ("%s\n", error->message);
      return 1;
    }
    p.file_name = g_path_get_basename (argv[4]);
  }
  g_mutex_init (&p.lock);
  p.incoming = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
      incoming_free);
  p.loop = g_main_loop_new (NULL, FALSE);
  p.room = hangout_room_new (argv[2], argv[3], argv[1]);
  g_signal_connect (p.room, "peer-connected", G_CALLBACK (on_connected), &p);
  g_signal_connect (p.room, "member-left", G_CALLBACK (on_left), &p);
  g_signal_connect (p.room, "member-refused", G_CALLBACK (on_refused), &p);
  if (g_getenv ("ROOM_PEER_SECRET") != NULL)
    g_object_set (p.room, "secret", g_getenv ("ROOM_PEER_SECRET"), NULL);
  g_signal_connect (p.room, "message", G_CALLBACK (on_message), &p);
  g_signal_connect (p.room, "notify::id", G_CALLBACK (on_id), &p);
  if (!hangout_room_start (p.room, &error)) {
    g_printerr ("cannot start: %s\n", error->message);
    return 1;
  }
  g_unix_signal_add (SIGTERM, quit, p.loop);
  g_unix_signal_add (SIGINT, quit, p.loop);
  /* Binary and non-blocking: a command may carry any bytes but newline,
   * and a partial line waits for its end without blocking the loop. */
  input = g_io_channel_unix_new (0);
  g_io_channel_set_encoding (input, NULL, NULL);
  g_io_channel_set_flags (input, G_IO_FLAG_NONBLOCK, NULL);
  g_io_add_watch (input, G_IO_IN | G_IO_HUP | G_IO_ERR, on_stdin, &p);
  g_timeout_add_seconds (LIFETIME_S, quit, p.loop);
  g_main_loop_run (p.loop);

  hangout_room_stop (p.room);
  g_object_unref (p.room);
  g_hash_table_unref (p.incoming);
  g_main_loop_unref (p.loop);
  g_clear_pointer (&p.file, g_mapped_file_unref);
  g_free (p.file_name);
  return 0;
}
