/* gst-hangout — file transfer, version 2: the wire format
 * (docs/protocol.md §4.1, §4.3, §4.4, §4.9). Pure logic; what it shares
 * with version 1 is in transfer-private.h.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#include <hangout/transfer2.h>
#include <hangout/json.h>
#include <string.h>
#include "debug-private.h"
#include "transfer-private.h"

#define GST_CAT_DEFAULT hangout_debug_transfer2

/* A signalling id (§1.2): 32 lower-case hex digits. */
#define MEMBER_ID_HEX 32

/* Version 1's data begin with its version byte. */
#define KIND_DATA HANGOUT_TRANSFER_VERSION
#define KIND_PIECE 0x02
#define KIND_HASHES 0x03

/* ---- ranges of pieces ---- */

GArray *
hangout_transfer2_ranges_new (void)
{
  return g_array_new (FALSE, FALSE, sizeof (HangoutTransfer2Range));
}

/* The index of the first range that ends at or after @piece (touching it
 * or past it), ranges->len when none does. */
static guint
first_ending_at_or_after (GArray *ranges, guint64 piece)
{
  guint low = 0, high = ranges->len;

  while (low < high) {
    guint mid = low + (high - low) / 2;
    const HangoutTransfer2Range *r = &g_array_index (ranges,
        HangoutTransfer2Range, mid);

    if (r->first + r->count < piece)
      low = mid + 1;
    else
      high = mid;
  }
  return low;
}

void
hangout_transfer2_ranges_add (GArray *ranges, guint64 first, guint64 count)
{
  guint64 end = first + count;
  HangoutTransfer2Range merged;
  guint i, j;

  g_return_if_fail (count >= 1 && first < HANGOUT_TRANSFER2_MAX_PIECES
      && count <= HANGOUT_TRANSFER2_MAX_PIECES - first);
  /* Ranges i … j − 1 overlap or touch the new one: they become one. */
  i = first_ending_at_or_after (ranges, first);
  for (j = i; j < ranges->len; j++) {
    const HangoutTransfer2Range *r = &g_array_index (ranges,
        HangoutTransfer2Range, j);

    if (r->first > end)
      break;
    first = MIN (first, r->first);
    end = MAX (end, r->first + r->count);
  }
  if (j > i)
    g_array_remove_range (ranges, i, j - i);
  merged.first = first;
  merged.count = end - first;
  g_array_insert_val (ranges, i, merged);
}

gboolean
hangout_transfer2_ranges_contains (GArray *ranges, guint64 piece)
{
  guint i = first_ending_at_or_after (ranges, piece + 1);
  const HangoutTransfer2Range *r;

  if (i == ranges->len)
    return FALSE;
  r = &g_array_index (ranges, HangoutTransfer2Range, i);
  return r->first <= piece && piece < r->first + r->count;
}

/* ---- control messages: parsing ---- */

void
hangout_transfer2_control_clear (HangoutTransfer2Control *control)
{
  g_clear_pointer (&control->id, g_free);
  g_clear_pointer (&control->name, g_free);
  g_clear_pointer (&control->mime, g_free);
  g_clear_pointer (&control->root, g_free);
  g_clear_pointer (&control->members, g_strfreev);
  g_clear_pointer (&control->pieces, g_array_unref);
  g_clear_pointer (&control->from, g_free);
  memset (control, 0, sizeof *control);
}

static gboolean
is_integer (JsonNode *node)
{
  return node != NULL && JSON_NODE_HOLDS_VALUE (node)
      && json_node_get_value_type (node) == G_TYPE_INT64;
}

/* An array member; NULL (with the error) when absent or not an array. */
static JsonArray *
get_array (JsonObject *object, const gchar *member, GError **error)
{
  JsonNode *node = json_object_get_member (object, member);

  if (node == NULL || !JSON_NODE_HOLDS_ARRAY (node)) {
    hangout_transfer_invalid (error, "\"%s\" is missing or not an array",
        member);
    return NULL;
  }
  return json_node_get_array (node);
}

/* "version" of an offer (required), an end or an ack (absent: 1). */
static gboolean
get_version (JsonObject *object, gboolean required, gint64 *version,
    GError **error)
{
  if (!required && !json_object_has_member (object, "version")) {
    *version = HANGOUT_TRANSFER_VERSION;
    return TRUE;
  }
  if (!hangout_transfer_get_size (object, "version", FALSE, version, error))
    return FALSE;
  if (*version != HANGOUT_TRANSFER_VERSION
      && *version != HANGOUT_TRANSFER2_VERSION)
    return hangout_transfer_invalid (error,
        "unsupported transfer version %" G_GINT64_FORMAT, *version);
  return TRUE;
}

/* "root": present, a digest, or null when @nullable. */
static gboolean
get_root (JsonObject *object, gboolean nullable, gchar **root,
    GError **error)
{
  if (!json_object_has_member (object, "root"))
    return hangout_transfer_invalid (error, "\"root\" is missing");
  return hangout_transfer_get_digest (object, "root", nullable, root, error);
}

/* A piece index, below HANGOUT_TRANSFER2_MAX_PIECES, or up to it with
 * @inclusive (a have's next, which may be the end of the largest file). */
static gboolean
get_piece (JsonObject *object, const gchar *member, gboolean inclusive,
    guint64 *out, GError **error)
{
  gint64 value;

  if (!hangout_transfer_get_size (object, member, FALSE, &value, error))
    return FALSE;
  if ((guint64) value > HANGOUT_TRANSFER2_MAX_PIECES
      || (!inclusive && (guint64) value == HANGOUT_TRANSFER2_MAX_PIECES))
    return hangout_transfer_invalid (error,
        "\"%s\" %" G_GINT64_FORMAT " is beyond any file's pieces", member,
        value);
  *out = (guint64) value;
  return TRUE;
}

static gboolean
get_member_id (JsonObject *object, const gchar *member, gchar **out,
    GError **error)
{
  if (!hangout_transfer_get_string (object, member, out, error))
    return FALSE;
  if (!hangout_transfer_is_hex (*out, MEMBER_ID_HEX)) {
    g_clear_pointer (out, g_free);
    return hangout_transfer_invalid (error,
        "\"%s\" is not a signalling id", member);
  }
  return TRUE;
}

/* "pieces": at most HANGOUT_TRANSFER2_MAX_RANGES [first, count] pairs,
 * ascending from @from, not overlapping. */
static gboolean
get_ranges (JsonObject *object, guint64 from, GArray **out, GError **error)
{
  JsonArray *array = get_array (object, "pieces", error);
  guint i, n;

  if (array == NULL)
    return FALSE;
  n = json_array_get_length (array);
  if (n > HANGOUT_TRANSFER2_MAX_RANGES)
    return hangout_transfer_invalid (error,
        "%u ranges, more than %d", n, HANGOUT_TRANSFER2_MAX_RANGES);
  *out = hangout_transfer2_ranges_new ();
  for (i = 0; i < n; i++) {
    JsonNode *node = json_array_get_element (array, i);
    JsonArray *pair;
    HangoutTransfer2Range range;

    if (!JSON_NODE_HOLDS_ARRAY (node)
        || json_array_get_length (pair = json_node_get_array (node)) != 2
        || !is_integer (json_array_get_element (pair, 0))
        || !is_integer (json_array_get_element (pair, 1)))
      return hangout_transfer_invalid (error,
          "range %u is not [first, count]", i);
    range.first = (guint64) json_array_get_int_element (pair, 0);
    range.count = (guint64) json_array_get_int_element (pair, 1);
    /* Negative integers became huge ones: they fail the bounds too. */
    if (range.count < 1 || range.first < from
        || range.first >= HANGOUT_TRANSFER2_MAX_PIECES
        || range.count > HANGOUT_TRANSFER2_MAX_PIECES - range.first)
      return hangout_transfer_invalid (error, "range %u [%" G_GINT64_FORMAT
          ", %" G_GINT64_FORMAT "] is empty, out of order, overlapping or "
          "beyond any file's pieces", i, (gint64) range.first,
          (gint64) range.count);
    g_array_append_val (*out, range);
    from = range.first + range.count;
  }
  return TRUE;
}

/* "members": distinct signalling ids, at most HANGOUT_TRANSFER2_MAX_SWARM. */
static gboolean
get_members (JsonObject *object, GStrv *out, GError **error)
{
  JsonArray *array = get_array (object, "members", error);
  g_autoptr (GHashTable) seen = NULL;
  guint i, n;

  if (array == NULL)
    return FALSE;
  n = json_array_get_length (array);
  if (n > HANGOUT_TRANSFER2_MAX_SWARM)
    return hangout_transfer_invalid (error, "a swarm of %u, more than %d", n,
        HANGOUT_TRANSFER2_MAX_SWARM);
  seen = g_hash_table_new (g_str_hash, g_str_equal);
  *out = g_new0 (gchar *, n + 1);
  for (i = 0; i < n; i++) {
    JsonNode *node = json_array_get_element (array, i);
    const gchar *id = JSON_NODE_HOLDS_VALUE (node)
        && json_node_get_value_type (node) == G_TYPE_STRING
        ? json_node_get_string (node) : NULL;

    if (!hangout_transfer_is_hex (id, MEMBER_ID_HEX))
      return hangout_transfer_invalid (error,
          "swarm member %u is not a signalling id", i);
    if (!g_hash_table_add (seen, (gpointer) id))
      return hangout_transfer_invalid (error, "swarm member %s is listed twice",
          id);
    (*out)[i] = g_strdup (id);
  }
  return TRUE;
}

/* "transfer": the versions a member speaks, integers ≥ 1. */
static gboolean
get_versions (JsonObject *object, guint32 *versions, GError **error)
{
  JsonArray *array = get_array (object, "transfer", error);
  guint i, n;

  if (array == NULL)
    return FALSE;
  n = json_array_get_length (array);
  *versions = 0;
  for (i = 0; i < n; i++) {
    JsonNode *node = json_array_get_element (array, i);
    gint64 version;

    if (!is_integer (node) || (version = json_node_get_int (node)) < 1)
      return hangout_transfer_invalid (error,
          "\"transfer\" element %u is not a version", i);
    if (version < 32)
      *versions |= 1u << version;
  }
  return TRUE;
}

/* The limits of §4.9 that a receiver answers with reject, not silence:
 * NULL when both hold, else the reason. */
static const gchar *
check_pieces (gint64 piece_size, gint64 window)
{
  if (piece_size < HANGOUT_TRANSFER2_MIN_PIECE_SIZE
      || piece_size > HANGOUT_TRANSFER2_MAX_PIECE_SIZE
      || (piece_size & (piece_size - 1)) != 0)
    return HANGOUT_TRANSFER2_REASON_PIECE_SIZE;
  if (window % piece_size != 0
      || window < HANGOUT_TRANSFER2_MIN_WINDOW_PIECES * piece_size
      || window > HANGOUT_TRANSFER2_MAX_WINDOW)
    return HANGOUT_TRANSFER2_REASON_WINDOW;
  return NULL;
}

static gboolean
parse_offer (JsonObject *object, HangoutTransfer2Control *control,
    GError **error)
{
  gint64 piece_size, window;

  if (!hangout_transfer_get_file_members (object,
          HANGOUT_TRANSFER2_MIN_CHUNK_SIZE, &control->name, &control->size,
          &control->mime, &control->chunk_size, error)
      || !hangout_transfer_get_size (object, "piece-size", FALSE,
          &piece_size, error)
      || !hangout_transfer_get_size (object, "window", FALSE, &window, error)
      || !get_root (object, TRUE, &control->root, error))
    return FALSE;
  /* Only a sharer that has read the whole file knows its root. */
  if (control->size < 0 && control->root != NULL)
    return hangout_transfer_invalid (error,
        "\"root\" of a file of unknown size");
  control->unsupported = check_pieces (piece_size, window);
  if (control->unsupported == NULL) {
    control->piece_size = (guint) piece_size;
    control->window = (guint) window;
  }
  return TRUE;
}

static gboolean
parse_object (JsonObject *object, HangoutTransfer2Control *control,
    GError **error)
{
  const gchar *type = hangout_json_get_string (object, "type");
  gint64 version = HANGOUT_TRANSFER2_VERSION;

  if (type == NULL)
    return hangout_transfer_invalid (error, "no string \"type\"");

  if (g_str_equal (type, "capabilities")) {
    control->type = HANGOUT_TRANSFER2_CAPABILITIES;
    return get_versions (object, &control->versions, error);
  }
  if (g_str_equal (type, "reject") || g_str_equal (type, "abort")) {
    control->type = HANGOUT_TRANSFER2_VERSION1;
    return TRUE;
  }
  if (g_str_equal (type, "offer"))
    control->type = HANGOUT_TRANSFER2_OFFER;
  else if (g_str_equal (type, "end"))
    control->type = HANGOUT_TRANSFER2_END;
  else if (g_str_equal (type, "ack"))
    control->type = HANGOUT_TRANSFER2_ACK;
  else if (g_str_equal (type, "accept"))
    control->type = HANGOUT_TRANSFER2_ACCEPT;
  else if (g_str_equal (type, "swarm"))
    control->type = HANGOUT_TRANSFER2_SWARM;
  else if (g_str_equal (type, "have"))
    control->type = HANGOUT_TRANSFER2_HAVE;
  else if (g_str_equal (type, "request"))
    control->type = HANGOUT_TRANSFER2_REQUEST;
  else if (g_str_equal (type, "unavailable"))
    control->type = HANGOUT_TRANSFER2_UNAVAILABLE;
  else if (g_str_equal (type, "corrupt"))
    control->type = HANGOUT_TRANSFER2_CORRUPT;
  else {
    control->type = HANGOUT_TRANSFER2_UNKNOWN;
    return TRUE;
  }

  /* offer, end and ack exist in both versions: "version" tells them
   * apart (version 1's end and ack have none). */
  if ((control->type == HANGOUT_TRANSFER2_OFFER
          || control->type == HANGOUT_TRANSFER2_END
          || control->type == HANGOUT_TRANSFER2_ACK)
      && !get_version (object, control->type == HANGOUT_TRANSFER2_OFFER,
          &version, error))
    return FALSE;
  if (version == HANGOUT_TRANSFER_VERSION) {
    control->type = HANGOUT_TRANSFER2_VERSION1;
    return TRUE;
  }

  if (!hangout_transfer_get_file_id (object, &control->id, error))
    return FALSE;
  switch (control->type) {
    case HANGOUT_TRANSFER2_OFFER:
      return parse_offer (object, control, error);
    case HANGOUT_TRANSFER2_SWARM:
      return get_members (object, &control->members, error);
    case HANGOUT_TRANSFER2_HAVE:
      return get_piece (object, "next", TRUE, &control->next, error)
          && get_ranges (object, control->next, &control->pieces, error);
    case HANGOUT_TRANSFER2_REQUEST:
    case HANGOUT_TRANSFER2_UNAVAILABLE:
      return get_ranges (object, 0, &control->pieces, error);
    case HANGOUT_TRANSFER2_CORRUPT:
      return get_piece (object, "piece", FALSE, &control->piece, error)
          && get_member_id (object, "from", &control->from, error);
    case HANGOUT_TRANSFER2_END:
      return hangout_transfer_get_size (object, "size", FALSE,
          &control->size, error)
          && get_root (object, FALSE, &control->root, error);
    case HANGOUT_TRANSFER2_ACK:
      return hangout_transfer_get_boolean (object, "ok", &control->ok, error)
          && get_root (object, TRUE, &control->root, error);
    default:                   /* accept: the id is all it says */
      return TRUE;
  }
}

gboolean
hangout_transfer2_parse_control (const gchar *text, gsize len,
    HangoutTransfer2Control *control, GError **error)
{
  g_autoptr (JsonObject) object = NULL;
  g_autoptr (GError) local = NULL;

  hangout_debug_init ();
  memset (control, 0, sizeof *control);
  object = hangout_transfer_parse_json (text, len, &local);
  if (object != NULL && parse_object (object, control, &local)) {
    if (control->type == HANGOUT_TRANSFER2_UNKNOWN)
      GST_LOG ("control message of unknown type \"%s\"",
          hangout_json_get_string (object, "type"));
    return TRUE;
  }
  GST_DEBUG ("control message ignored: %s", local->message);
  hangout_transfer2_control_clear (control);
  g_propagate_error (error, g_steal_pointer (&local));
  return FALSE;
}

/* ---- control messages: building ---- */

/* Version 2's forms of offer, end and ack. */
static JsonBuilder *
begin_version2 (const gchar *type, const gchar *id)
{
  JsonBuilder *builder = hangout_transfer_builder_begin (type, id);

  json_builder_set_member_name (builder, "version");
  json_builder_add_int_value (builder, HANGOUT_TRANSFER2_VERSION);
  return builder;
}

static void
add_root (JsonBuilder *builder, const gchar *root)
{
  json_builder_set_member_name (builder, "root");
  if (root != NULL)
    json_builder_add_string_value (builder, root);
  else
    json_builder_add_null_value (builder);
}

gchar *
hangout_transfer2_build_capabilities (guint32 versions)
{
  JsonBuilder *builder = json_builder_new ();
  guint version;

  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "type");
  json_builder_add_string_value (builder, "capabilities");
  json_builder_set_member_name (builder, "transfer");
  json_builder_begin_array (builder);
  for (version = 1; version < 32; version++)
    if (versions & (1u << version))
      json_builder_add_int_value (builder, version);
  json_builder_end_array (builder);
  return hangout_transfer_builder_end (builder);
}

gchar *
hangout_transfer2_build_offer (const gchar *id, const gchar *name,
    gint64 size, const gchar *mime, guint chunk_size, guint piece_size,
    guint window, const gchar *root)
{
  JsonBuilder *builder;

  g_return_val_if_fail (size >= 0 || root == NULL, NULL);
  builder = hangout_transfer_builder_begin ("offer", id);
  hangout_transfer_builder_add_file_members (builder,
      HANGOUT_TRANSFER2_VERSION, name, size, mime, chunk_size);
  json_builder_set_member_name (builder, "piece-size");
  json_builder_add_int_value (builder, piece_size);
  json_builder_set_member_name (builder, "window");
  json_builder_add_int_value (builder, window);
  add_root (builder, root);
  return hangout_transfer_builder_end (builder);
}

gchar *
hangout_transfer2_build_accept (const gchar *id)
{
  return hangout_transfer_builder_end (hangout_transfer_builder_begin
      ("accept", id));
}

gchar *
hangout_transfer2_build_swarm (const gchar *id, const gchar *const *members)
{
  JsonBuilder *builder = hangout_transfer_builder_begin ("swarm", id);

  json_builder_set_member_name (builder, "members");
  json_builder_begin_array (builder);
  for (; *members != NULL; members++)
    json_builder_add_string_value (builder, *members);
  json_builder_end_array (builder);
  return hangout_transfer_builder_end (builder);
}

static gchar *
build_ranges (JsonBuilder *builder, GArray *pieces)
{
  guint i;

  json_builder_set_member_name (builder, "pieces");
  json_builder_begin_array (builder);
  for (i = 0; i < MIN (pieces->len, HANGOUT_TRANSFER2_MAX_RANGES); i++) {
    const HangoutTransfer2Range *r = &g_array_index (pieces,
        HangoutTransfer2Range, i);

    json_builder_begin_array (builder);
    json_builder_add_int_value (builder, (gint64) r->first);
    json_builder_add_int_value (builder, (gint64) r->count);
    json_builder_end_array (builder);
  }
  json_builder_end_array (builder);
  return hangout_transfer_builder_end (builder);
}

gchar *
hangout_transfer2_build_have (const gchar *id, guint64 next, GArray *pieces)
{
  JsonBuilder *builder;

  g_return_val_if_fail (pieces->len == 0
      || g_array_index (pieces, HangoutTransfer2Range, 0).first >= next, NULL);
  builder = hangout_transfer_builder_begin ("have", id);
  json_builder_set_member_name (builder, "next");
  json_builder_add_int_value (builder, (gint64) next);
  return build_ranges (builder, pieces);
}

gchar *
hangout_transfer2_build_request (const gchar *id, GArray *pieces)
{
  return build_ranges (hangout_transfer_builder_begin ("request", id),
      pieces);
}

gchar *
hangout_transfer2_build_unavailable (const gchar *id, GArray *pieces)
{
  return build_ranges (hangout_transfer_builder_begin ("unavailable", id),
      pieces);
}

gchar *
hangout_transfer2_build_corrupt (const gchar *id, guint64 piece,
    const gchar *from)
{
  JsonBuilder *builder = hangout_transfer_builder_begin ("corrupt", id);

  json_builder_set_member_name (builder, "piece");
  json_builder_add_int_value (builder, (gint64) piece);
  json_builder_set_member_name (builder, "from");
  json_builder_add_string_value (builder, from);
  return hangout_transfer_builder_end (builder);
}

gchar *
hangout_transfer2_build_end (const gchar *id, guint64 size, const gchar *root)
{
  JsonBuilder *builder;

  g_return_val_if_fail (root != NULL, NULL);
  builder = begin_version2 ("end", id);
  json_builder_set_member_name (builder, "size");
  json_builder_add_int_value (builder, (gint64) size);
  add_root (builder, root);
  return hangout_transfer_builder_end (builder);
}

gchar *
hangout_transfer2_build_ack (const gchar *id, gboolean ok, const gchar *root)
{
  JsonBuilder *builder = begin_version2 ("ack", id);

  json_builder_set_member_name (builder, "ok");
  json_builder_add_boolean_value (builder, ok);
  add_root (builder, root);
  return hangout_transfer_builder_end (builder);
}

/* ---- binary messages ---- */

HangoutTransfer2BinaryKind
hangout_transfer2_binary_kind (const guint8 *data, gsize len)
{
  if (len == 0)
    return HANGOUT_TRANSFER2_BINARY_DROP;
  switch (data[0]) {
    case KIND_DATA:
      return HANGOUT_TRANSFER2_BINARY_DATA;
    case KIND_PIECE:
      return HANGOUT_TRANSFER2_BINARY_PIECE;
    case KIND_HASHES:
      return HANGOUT_TRANSFER2_BINARY_HASHES;
    default:
      return HANGOUT_TRANSFER2_BINARY_DROP;
  }
}

/* Big-endian fields, byte by byte: a message may sit at any address. */
static guint64
read_be (const guint8 *p, guint bytes)
{
  guint64 value = 0;
  guint i;

  for (i = 0; i < bytes; i++)
    value = value << 8 | p[i];
  return value;
}

static void
write_be (guint8 *p, guint64 value, guint bytes)
{
  while (bytes-- > 0) {
    p[bytes] = (guint8) value;
    value >>= 8;
  }
}

/* The first byte and the file id of a message of @kind. */
static guint8 *
begin_binary (guint8 kind, const gchar *id, gsize len)
{
  guint8 *out = g_malloc (len);

  out[0] = kind;
  hangout_transfer_id_to_bytes (id, out + 1);
  return out;
}

static gboolean
check_piece (const guint8 *data, gsize len, GError **error)
{
  const gsize header = HANGOUT_TRANSFER2_PIECE_HEADER_SIZE;

  if (len == 0 || data[0] != KIND_PIECE)
    return hangout_transfer_invalid (error, "not piece data");
  if (len <= header)
    return hangout_transfer_invalid (error, "piece data of %" G_GSIZE_FORMAT
        " bytes has no payload (header is %" G_GSIZE_FORMAT " bytes)", len,
        header);
  if (data[17] > HANGOUT_TRANSFER2_ROLE_REPAIR)
    return hangout_transfer_invalid (error, "piece data of role %u",
        data[17]);
  if (len - header > HANGOUT_TRANSFER2_MAX_PIECE_SIZE)
    return hangout_transfer_invalid (error, "piece data of %" G_GSIZE_FORMAT
        " bytes, more than any piece", len - header);
  if (read_be (data + 18, 8) > (guint64) G_MAXINT64 - (len - header))
    return hangout_transfer_invalid (error,
        "piece data past 2^63 - 1 bytes");
  return TRUE;
}

gboolean
hangout_transfer2_parse_piece (const guint8 *data, gsize len,
    HangoutTransfer2Piece *piece, GError **error)
{
  GError *local = NULL;

  hangout_debug_init ();
  if (!check_piece (data, len, &local)) {
    GST_DEBUG ("binary message dropped: %s", local->message);
    g_propagate_error (error, local);
    return FALSE;
  }
  hangout_transfer_id_to_hex (data + 1, piece->id);
  piece->role = data[17];
  piece->offset = read_be (data + 18, 8);
  piece->payload = data + HANGOUT_TRANSFER2_PIECE_HEADER_SIZE;
  piece->payload_len = len - HANGOUT_TRANSFER2_PIECE_HEADER_SIZE;
  return TRUE;
}

GBytes *
hangout_transfer2_build_piece (const gchar *id, HangoutTransfer2Role role,
    guint64 offset, const guint8 *payload, gsize len)
{
  const gsize header = HANGOUT_TRANSFER2_PIECE_HEADER_SIZE;
  guint8 *out;

  g_return_val_if_fail (hangout_transfer_is_hex (id, HANGOUT_TRANSFER_ID_HEX),
      NULL);
  g_return_val_if_fail (role <= HANGOUT_TRANSFER2_ROLE_REPAIR, NULL);
  out = begin_binary (KIND_PIECE, id, header + len);
  out[17] = (guint8) role;
  write_be (out + 18, offset, 8);
  memcpy (out + header, payload, len);
  return g_bytes_new_take (out, header + len);
}

/* @proof_len: the proof's length in hashes. */
static gboolean
check_hashes (const guint8 *data, gsize len, guint *proof_len,
    GError **error)
{
  const gsize header = HANGOUT_TRANSFER2_HASHES_HEADER_SIZE;
  const guint64 hash = HANGOUT_MERKLE_HASH_SIZE;
  guint64 first, count, proof_bytes;

  if (len == 0 || data[0] != KIND_HASHES)
    return hangout_transfer_invalid (error, "not piece hashes");
  if (len < header)
    return hangout_transfer_invalid (error, "piece hashes of %"
        G_GSIZE_FORMAT " bytes, shorter than the header", len);
  first = read_be (data + 17, 8);
  count = read_be (data + 25, 4);
  if (count == 0)
    return hangout_transfer_invalid (error, "piece hashes with none");
  if (count * hash > len - header)
    return hangout_transfer_invalid (error, "%" G_GUINT64_FORMAT
        " piece hashes in %" G_GSIZE_FORMAT " bytes", count,
        len - header);
  proof_bytes = len - header - count * hash;
  if (proof_bytes % hash != 0)
    return hangout_transfer_invalid (error, "a proof of %" G_GUINT64_FORMAT
        " bytes, not a multiple of %" G_GUINT64_FORMAT, proof_bytes,
        hash);
  if (proof_bytes / hash > HANGOUT_TRANSFER2_MAX_PROOF)
    return hangout_transfer_invalid (error, "a proof of %" G_GUINT64_FORMAT
        " hashes, more than any tree has levels", proof_bytes / hash);
  if (first > HANGOUT_TRANSFER2_MAX_PIECES - count)
    return hangout_transfer_invalid (error,
        "piece hashes beyond any file's pieces");
  *proof_len = (guint) (proof_bytes / hash);
  return TRUE;
}

gboolean
hangout_transfer2_parse_hashes (const guint8 *data, gsize len,
    HangoutTransfer2Hashes *hashes, GError **error)
{
  GError *local = NULL;
  guint proof_len = 0;

  hangout_debug_init ();
  if (!check_hashes (data, len, &proof_len, &local)) {
    GST_DEBUG ("binary message dropped: %s", local->message);
    g_propagate_error (error, local);
    return FALSE;
  }
  hangout_transfer_id_to_hex (data + 1, hashes->id);
  hashes->first = read_be (data + 17, 8);
  hashes->count = (guint32) read_be (data + 25, 4);
  hashes->hashes = data + HANGOUT_TRANSFER2_HASHES_HEADER_SIZE;
  hashes->proof = hashes->hashes
      + (gsize) hashes->count * HANGOUT_MERKLE_HASH_SIZE;
  hashes->proof_len = proof_len;
  return TRUE;
}

GBytes *
hangout_transfer2_build_hashes (const gchar *id, guint64 first,
    const guint8 *hashes, guint32 count, const guint8 *proof,
    guint proof_len)
{
  const gsize header = HANGOUT_TRANSFER2_HASHES_HEADER_SIZE;
  gsize hashes_len = (gsize) count * HANGOUT_MERKLE_HASH_SIZE;
  gsize proof_bytes = (gsize) proof_len * HANGOUT_MERKLE_HASH_SIZE;
  guint8 *out;

  g_return_val_if_fail (hangout_transfer_is_hex (id, HANGOUT_TRANSFER_ID_HEX),
      NULL);
  g_return_val_if_fail (count >= 1, NULL);
  out = begin_binary (KIND_HASHES, id, header + hashes_len + proof_bytes);
  write_be (out + 17, first, 8);
  write_be (out + 25, count, 4);
  memcpy (out + header, hashes, hashes_len);
  if (proof_bytes > 0)
    memcpy (out + header + hashes_len, proof, proof_bytes);
  return g_bytes_new_take (out, header + hashes_len + proof_bytes);
}
