/* gst-hangout — file transfer, version 1: wire format, sender, receiver
 * (docs/protocol.md §2). Pure logic on top of the room's messages, but
 * for a thread per file that hashes it (sha256-thread.c).
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#include <hangout/transfer.h>
#include <hangout/json.h>
#include <string.h>
#include "debug-private.h"
#include "sha256-thread-private.h"
#include "transfer-private.h"

#define GST_CAT_DEFAULT hangout_debug_transfer

/* ---- what both versions' wire formats share (transfer-private.h) ---- */

gboolean
hangout_transfer_invalid (GError **error, const gchar *format, ...)
{
  va_list args;
  gchar *text;

  va_start (args, format);
  text = g_strdup_vprintf (format, args);
  va_end (args);
  g_set_error_literal (error, HANGOUT_ERROR, HANGOUT_ERROR_INVALID_MESSAGE,
      text);
  g_free (text);
  return FALSE;
}

gboolean
hangout_transfer_is_hex (const gchar *text, gsize digits)
{
  gsize i;

  if (text == NULL || strlen (text) != digits)
    return FALSE;
  for (i = 0; i < digits; i++)
    if (!g_ascii_isdigit (text[i]) && !(text[i] >= 'a' && text[i] <= 'f'))
      return FALSE;
  return TRUE;
}

/* ---- names ---- */

gboolean
hangout_transfer_is_unsafe_char (gunichar c)
{
  return c < 0x20 || (c >= 0x7f && c <= 0x9f) || c == 0x061c || c == 0x200e
      || c == 0x200f || (c >= 0x202a && c <= 0x202e)
      || (c >= 0x2066 && c <= 0x2069);
}

gchar *
hangout_transfer_printable (const gchar *text)
{
  GString *out = g_string_new (NULL);
  const gchar *p;

  for (p = text; *p != '\0';) {
    gunichar c = g_utf8_get_char_validated (p, -1);

    if (c == (gunichar) - 1 || c == (gunichar) - 2) {
      g_string_append_printf (out, "\\x%02x", (guchar) * p);
      p++;
      continue;
    }
    if (hangout_transfer_is_unsafe_char (c))
      g_string_append_printf (out, "\\u%04x", c);
    else
      g_string_append_unichar (out, c);
    p = g_utf8_next_char (p);
  }
  return g_string_free (out, FALSE);
}

/* ---- control messages ---- */

void
hangout_transfer_control_clear (HangoutTransferControl *control)
{
  g_clear_pointer (&control->id, g_free);
  g_clear_pointer (&control->name, g_free);
  g_clear_pointer (&control->mime, g_free);
  g_clear_pointer (&control->sha256, g_free);
  g_clear_pointer (&control->reason, g_free);
  memset (control, 0, sizeof *control);
}

gboolean
hangout_transfer_get_string (JsonObject *object, const gchar *member,
    gchar **out, GError **error)
{
  const gchar *value = hangout_json_get_string (object, member);

  if (value == NULL)
    return hangout_transfer_invalid (error,
        "\"%s\" is missing or not a string", member);
  *out = g_strdup (value);
  return TRUE;
}

gboolean
hangout_transfer_get_size (JsonObject *object, const gchar *member,
    gboolean nullable, gint64 *out, GError **error)
{
  JsonNode *node = json_object_get_member (object, member);

  if (node != NULL && nullable && JSON_NODE_HOLDS_NULL (node)) {
    *out = -1;
    return TRUE;
  }
  if (node == NULL || !JSON_NODE_HOLDS_VALUE (node)
      || json_node_get_value_type (node) != G_TYPE_INT64
      || json_node_get_int (node) < 0)
    return hangout_transfer_invalid (error,
        "\"%s\" is missing or not a non-negative integer%s", member,
        nullable ? " or null" : "");
  *out = json_node_get_int (node);
  return TRUE;
}

gboolean
hangout_transfer_get_file_id (JsonObject *object, gchar **out, GError **error)
{
  if (!hangout_transfer_get_string (object, "id", out, error))
    return FALSE;
  if (!hangout_transfer_is_hex (*out, HANGOUT_TRANSFER_ID_HEX)) {
    g_clear_pointer (out, g_free);
    return hangout_transfer_invalid (error,
        "\"id\" is not %d lower-case hex digits", HANGOUT_TRANSFER_ID_HEX);
  }
  return TRUE;
}

gboolean
hangout_transfer_get_digest (JsonObject *object, const gchar *member,
    gboolean nullable, gchar **out, GError **error)
{
  JsonNode *node = json_object_get_member (object, member);

  if (nullable && (node == NULL || JSON_NODE_HOLDS_NULL (node))) {
    *out = NULL;
    return TRUE;
  }
  if (!hangout_transfer_get_string (object, member, out, error))
    return FALSE;
  if (!hangout_transfer_is_hex (*out, 64)) {
    g_clear_pointer (out, g_free);
    return hangout_transfer_invalid (error,
        "\"%s\" is not 64 lower-case hex digits", member);
  }
  return TRUE;
}

gboolean
hangout_transfer_get_boolean (JsonObject *object, const gchar *member,
    gboolean *out, GError **error)
{
  JsonNode *node = json_object_get_member (object, member);

  if (node == NULL || !JSON_NODE_HOLDS_VALUE (node)
      || json_node_get_value_type (node) != G_TYPE_BOOLEAN)
    return hangout_transfer_invalid (error,
        "\"%s\" is missing or not a boolean", member);
  *out = json_node_get_boolean (node);
  return TRUE;
}

gboolean
hangout_transfer_get_file_members (JsonObject *object, guint min_chunk_size,
    gchar **name, gint64 *size, gchar **mime, guint *chunk_size,
    GError **error)
{
  gint64 value;

  if (!hangout_transfer_get_string (object, "name", name, error)
      || !hangout_transfer_get_string (object, "mime", mime, error)
      || !hangout_transfer_get_size (object, "size", TRUE, size, error)
      || !hangout_transfer_get_size (object, "chunk-size", FALSE, &value,
          error))
    return FALSE;
  if (value < min_chunk_size || value > HANGOUT_TRANSFER_MAX_CHUNK_SIZE)
    return hangout_transfer_invalid (error, "\"chunk-size\" %" G_GINT64_FORMAT
        " is out of range", value);
  *chunk_size = (guint) value;
  return TRUE;
}

static gboolean
parse_object (JsonObject *object, HangoutTransferControl *control,
    GError **error)
{
  const gchar *type = hangout_json_get_string (object, "type");

  if (type == NULL)
    return hangout_transfer_invalid (error, "no string \"type\"");
  if (g_str_equal (type, "offer"))
    control->type = HANGOUT_TRANSFER_OFFER;
  else if (g_str_equal (type, "end"))
    control->type = HANGOUT_TRANSFER_END;
  else if (g_str_equal (type, "ack"))
    control->type = HANGOUT_TRANSFER_ACK;
  else if (g_str_equal (type, "reject"))
    control->type = HANGOUT_TRANSFER_REJECT;
  else if (g_str_equal (type, "abort"))
    control->type = HANGOUT_TRANSFER_ABORT;
  else {
    control->type = HANGOUT_TRANSFER_UNKNOWN;
    return TRUE;
  }

  if (!hangout_transfer_get_file_id (object, &control->id, error))
    return FALSE;

  switch (control->type) {
    case HANGOUT_TRANSFER_OFFER:{
      gint64 version;

      if (!hangout_transfer_get_size (object, "version", FALSE, &version,
              error))
        return FALSE;
      if (version != HANGOUT_TRANSFER_VERSION)
        return hangout_transfer_invalid (error,
            "unsupported transfer version %" G_GINT64_FORMAT, version);
      return hangout_transfer_get_file_members (object,
          HANGOUT_TRANSFER_MIN_CHUNK_SIZE, &control->name, &control->size,
          &control->mime, &control->chunk_size, error);
    }
    case HANGOUT_TRANSFER_END:
      return hangout_transfer_get_size (object, "size", FALSE, &control->size,
          error)
          && hangout_transfer_get_digest (object, "sha256", FALSE,
          &control->sha256, error);
    case HANGOUT_TRANSFER_ACK:
      return hangout_transfer_get_boolean (object, "ok", &control->ok, error)
          && hangout_transfer_get_digest (object, "sha256", TRUE,
          &control->sha256, error);
    case HANGOUT_TRANSFER_REJECT:
    case HANGOUT_TRANSFER_ABORT:
      return hangout_transfer_get_string (object, "reason", &control->reason,
          error);
    case HANGOUT_TRANSFER_UNKNOWN:
      break;
  }
  return TRUE;
}

gboolean
hangout_transfer_parse_control (const gchar *text, gsize len,
    HangoutTransferControl *control, GError **error)
{
  g_autoptr (JsonObject) object = NULL;

  memset (control, 0, sizeof *control);
  object = hangout_transfer_parse_json (text, len, error);
  if (object == NULL)
    return FALSE;
  if (!parse_object (object, control, error)) {
    hangout_transfer_control_clear (control);
    return FALSE;
  }
  return TRUE;
}

JsonObject *
hangout_transfer_parse_json (const gchar *text, gsize len, GError **error)
{
  g_autoptr (GError) local = NULL;
  JsonObject *object = hangout_json_parse_object (text, len,
      HANGOUT_TRANSFER_MAX_CONTROL_SIZE, &local);

  if (object == NULL)
    hangout_transfer_invalid (error, "control message refused: %s",
        local->message);
  return object;
}

gchar *
hangout_transfer_builder_end (JsonBuilder *builder)
{
  g_autoptr (JsonGenerator) generator = json_generator_new ();
  g_autoptr (JsonNode) root = NULL;

  json_builder_end_object (builder);
  root = json_builder_get_root (builder);
  json_generator_set_root (generator, root);
  g_object_unref (builder);
  return json_generator_to_data (generator, NULL);
}

JsonBuilder *
hangout_transfer_builder_begin (const gchar *type, const gchar *id)
{
  JsonBuilder *builder = json_builder_new ();

  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "type");
  json_builder_add_string_value (builder, type);
  json_builder_set_member_name (builder, "id");
  json_builder_add_string_value (builder, id);
  return builder;
}

void
hangout_transfer_builder_add_file_members (JsonBuilder *builder,
    guint version, const gchar *name, gint64 size, const gchar *mime,
    guint chunk_size)
{
  json_builder_set_member_name (builder, "version");
  json_builder_add_int_value (builder, version);
  json_builder_set_member_name (builder, "name");
  json_builder_add_string_value (builder, name);
  json_builder_set_member_name (builder, "size");
  if (size < 0)
    json_builder_add_null_value (builder);
  else
    json_builder_add_int_value (builder, size);
  json_builder_set_member_name (builder, "mime");
  json_builder_add_string_value (builder, mime);
  json_builder_set_member_name (builder, "chunk-size");
  json_builder_add_int_value (builder, chunk_size);
}

gchar *
hangout_transfer_build_offer (const gchar *id, const gchar *name, gint64 size,
    const gchar *mime, guint chunk_size)
{
  JsonBuilder *builder = hangout_transfer_builder_begin ("offer", id);

  hangout_transfer_builder_add_file_members (builder,
      HANGOUT_TRANSFER_VERSION, name, size, mime, chunk_size);
  return hangout_transfer_builder_end (builder);
}

gchar *
hangout_transfer_build_end (const gchar *id, guint64 size,
    const gchar *sha256)
{
  JsonBuilder *builder = hangout_transfer_builder_begin ("end", id);

  json_builder_set_member_name (builder, "size");
  json_builder_add_int_value (builder, (gint64) size);
  json_builder_set_member_name (builder, "sha256");
  json_builder_add_string_value (builder, sha256);
  return hangout_transfer_builder_end (builder);
}

gchar *
hangout_transfer_build_ack (const gchar *id, gboolean ok, const gchar *sha256)
{
  JsonBuilder *builder = hangout_transfer_builder_begin ("ack", id);

  json_builder_set_member_name (builder, "ok");
  json_builder_add_boolean_value (builder, ok);
  json_builder_set_member_name (builder, "sha256");
  if (sha256 != NULL)
    json_builder_add_string_value (builder, sha256);
  else
    json_builder_add_null_value (builder);
  return hangout_transfer_builder_end (builder);
}

static gchar *
build_reason (const gchar *type, const gchar *id, const gchar *reason)
{
  JsonBuilder *builder = hangout_transfer_builder_begin (type, id);

  json_builder_set_member_name (builder, "reason");
  json_builder_add_string_value (builder, reason);
  return hangout_transfer_builder_end (builder);
}

gchar *
hangout_transfer_build_reject (const gchar *id, const gchar *reason)
{
  return build_reason ("reject", id, reason);
}

gchar *
hangout_transfer_build_abort (const gchar *id, const gchar *reason)
{
  return build_reason ("abort", id, reason);
}

/* ---- data messages ---- */

void
hangout_transfer_id_to_hex (const guint8 *bytes,
    gchar hex[HANGOUT_TRANSFER_ID_HEX + 1])
{
  gsize i;

  for (i = 0; i < HANGOUT_TRANSFER_FILE_ID_SIZE; i++)
    g_snprintf (hex + 2 * i, 3, "%02x", bytes[i]);
}

void
hangout_transfer_id_to_bytes (const gchar *hex, guint8 *bytes)
{
  gsize i;

  for (i = 0; i < HANGOUT_TRANSFER_FILE_ID_SIZE; i++)
    bytes[i] = (guint8) (g_ascii_xdigit_value (hex[2 * i]) << 4
        | g_ascii_xdigit_value (hex[2 * i + 1]));
}

gboolean
hangout_transfer_parse_data (const guint8 *data, gsize len,
    gchar id[HANGOUT_TRANSFER_ID_HEX + 1], guint64 *offset,
    const guint8 **payload, gsize *payload_len, GError **error)
{
  guint64 be;

  if (len <= HANGOUT_TRANSFER_HEADER_SIZE)
    return hangout_transfer_invalid (error, "data message of %" G_GSIZE_FORMAT
        " bytes has no payload (header is %d bytes)", len,
        HANGOUT_TRANSFER_HEADER_SIZE);
  if (data[0] != HANGOUT_TRANSFER_VERSION)
    return hangout_transfer_invalid (error,
        "data message has version %u, not %u", data[0],
        HANGOUT_TRANSFER_VERSION);
  hangout_transfer_id_to_hex (data + 1, id);
  memcpy (&be, data + 1 + HANGOUT_TRANSFER_FILE_ID_SIZE, sizeof be);
  *offset = GUINT64_FROM_BE (be);
  *payload = data + HANGOUT_TRANSFER_HEADER_SIZE;
  *payload_len = len - HANGOUT_TRANSFER_HEADER_SIZE;
  return TRUE;
}

static void
write_header (guint8 *out, const gchar *id, guint64 offset)
{
  guint64 be = GUINT64_TO_BE (offset);

  out[0] = HANGOUT_TRANSFER_VERSION;
  hangout_transfer_id_to_bytes (id, out + 1);
  memcpy (out + 1 + HANGOUT_TRANSFER_FILE_ID_SIZE, &be, sizeof be);
}

GBytes *
hangout_transfer_build_data (const gchar *id, guint64 offset,
    const guint8 *payload, gsize len)
{
  guint8 *out;

  g_return_val_if_fail (hangout_transfer_is_hex (id, HANGOUT_TRANSFER_ID_HEX),
      NULL);
  out = g_malloc (HANGOUT_TRANSFER_HEADER_SIZE + len);
  write_header (out, id, offset);
  memcpy (out + HANGOUT_TRANSFER_HEADER_SIZE, payload, len);
  return g_bytes_new_take (out, HANGOUT_TRANSFER_HEADER_SIZE + len);
}

/* ---- sender ---- */

struct _HangoutTransferSender {
  gchar id[HANGOUT_TRANSFER_ID_HEX + 1];
  gchar *name;
  gchar *mime;
  gint64 size;
  guint chunk_size;
  HangoutSha256Thread *checksum;
  guint64 offset;               /* bytes written so far */
  /* The chunk being filled: header already written at its file offset. */
  guint8 *chunk;
  gsize chunk_fill;             /* payload bytes in it */
  gchar *sha256;                /* once finished */
  GHashTable *recipients;       /* member id → HangoutTransferRecipientState */
};

HangoutTransferSender *
hangout_transfer_sender_new (const gchar *name, gint64 size,
    const gchar *mime, guint chunk_size, GError **error)
{
  HangoutTransferSender *sender;
  gsize i;

  hangout_debug_init ();
  if (chunk_size < HANGOUT_TRANSFER_MIN_CHUNK_SIZE
      || chunk_size > HANGOUT_TRANSFER_MAX_CHUNK_SIZE) {
    g_set_error (error, HANGOUT_ERROR, HANGOUT_ERROR_INVALID_STATE,
        "chunk size %u is outside [%d, %d]", chunk_size,
        HANGOUT_TRANSFER_MIN_CHUNK_SIZE, HANGOUT_TRANSFER_MAX_CHUNK_SIZE);
    return NULL;
  }
  if (name == NULL || *name == '\0' || !g_utf8_validate (name, -1, NULL)) {
    g_set_error (error, HANGOUT_ERROR, HANGOUT_ERROR_INVALID_STATE,
        "a file needs a non-empty UTF-8 name");
    return NULL;
  }
  sender = g_new0 (HangoutTransferSender, 1);
  /* 128 random bits: unique without coordination (protocol §2.1). */
  for (i = 0; i < HANGOUT_TRANSFER_FILE_ID_SIZE; i += 4)
    g_snprintf (sender->id + 2 * i, 9, "%08x", g_random_int ());
  sender->name = g_strdup (name);
  sender->mime = g_strdup (mime ? mime : "application/octet-stream");
  sender->size = size < 0 ? -1 : size;
  sender->chunk_size = chunk_size;
  sender->checksum = hangout_sha256_thread_new ();
  sender->chunk = g_malloc (chunk_size);
  write_header (sender->chunk, sender->id, 0);
  sender->recipients = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
      NULL);
  return sender;
}

void
hangout_transfer_sender_free (HangoutTransferSender *sender)
{
  if (sender == NULL)
    return;
  g_free (sender->name);
  g_free (sender->mime);
  hangout_sha256_thread_free (sender->checksum);
  g_free (sender->chunk);
  g_free (sender->sha256);
  g_hash_table_unref (sender->recipients);
  g_free (sender);
}

const gchar *
hangout_transfer_sender_get_id (HangoutTransferSender *sender)
{
  return sender->id;
}

guint64
hangout_transfer_sender_get_offset (HangoutTransferSender *sender)
{
  return sender->offset;
}

const gchar *
hangout_transfer_sender_get_sha256 (HangoutTransferSender *sender)
{
  return sender->sha256;
}

gchar *
hangout_transfer_sender_build_offer (HangoutTransferSender *sender)
{
  return hangout_transfer_build_offer (sender->id, sender->name, sender->size,
      sender->mime, sender->chunk_size);
}

void
hangout_transfer_sender_add_recipient (HangoutTransferSender *sender,
    const gchar *member)
{
  g_hash_table_insert (sender->recipients, g_strdup (member),
      GINT_TO_POINTER (HANGOUT_TRANSFER_RECIPIENT_PENDING));
}

GStrv
hangout_transfer_sender_list (HangoutTransferSender *sender,
    HangoutTransferRecipientState state)
{
  GStrvBuilder *builder = g_strv_builder_new ();
  GHashTableIter iter;
  gpointer key, value;
  GStrv result;

  g_hash_table_iter_init (&iter, sender->recipients);
  while (g_hash_table_iter_next (&iter, &key, &value))
    if (GPOINTER_TO_INT (value) == (gint) state)
      g_strv_builder_add (builder, key);
  result = g_strv_builder_end (builder);
  g_strv_builder_unref (builder);
  return result;
}

HangoutTransferRecipientState
hangout_transfer_sender_get_state (HangoutTransferSender *sender,
    const gchar *member)
{
  gpointer value;

  if (!g_hash_table_lookup_extended (sender->recipients, member, NULL, &value))
    return HANGOUT_TRANSFER_RECIPIENT_LEFT;
  return GPOINTER_TO_INT (value);
}

guint
hangout_transfer_sender_count (HangoutTransferSender *sender,
    HangoutTransferRecipientState state)
{
  GHashTableIter iter;
  gpointer value;
  guint n = 0;

  g_hash_table_iter_init (&iter, sender->recipients);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    if (GPOINTER_TO_INT (value) == (gint) state)
      n++;
  return n;
}

/* The filled chunk as a message, without a copy: the message takes the
 * buffer and a new one is started at sender->offset. */
static GBytes *
take_chunk (HangoutTransferSender *sender)
{
  GBytes *message = g_bytes_new_take (sender->chunk,
      HANGOUT_TRANSFER_HEADER_SIZE + sender->chunk_fill);

  /* The message is immutable from here on: hashed as it is sent. */
  hangout_sha256_thread_update (sender->checksum, message,
      HANGOUT_TRANSFER_HEADER_SIZE, sender->chunk_fill);
  sender->chunk = g_malloc (sender->chunk_size);
  sender->chunk_fill = 0;
  write_header (sender->chunk, sender->id, sender->offset);
  return message;
}

GPtrArray *
hangout_transfer_sender_write (HangoutTransferSender *sender,
    const guint8 *data, gsize len, GError **error)
{
  gsize payload_max = sender->chunk_size - HANGOUT_TRANSFER_HEADER_SIZE;
  GPtrArray *messages = NULL;

  if (sender->sha256 != NULL) {
    g_set_error (error, HANGOUT_ERROR, HANGOUT_ERROR_INVALID_STATE,
        "file %s is already finished", sender->name);
    return NULL;
  }
  if (sender->size >= 0 && len > (guint64) sender->size - sender->offset) {
    g_set_error (error, HANGOUT_ERROR, HANGOUT_ERROR_INVALID_STATE,
        "file %s is larger than its announced %" G_GINT64_FORMAT " bytes",
        sender->name, sender->size);
    return NULL;
  }
  while (len > 0) {
    gsize n = MIN (len, payload_max - sender->chunk_fill);

    memcpy (sender->chunk + HANGOUT_TRANSFER_HEADER_SIZE + sender->chunk_fill,
        data, n);
    sender->chunk_fill += n;
    sender->offset += n;
    data += n;
    len -= n;
    if (sender->chunk_fill == payload_max) {
      if (messages == NULL)
        messages = g_ptr_array_new_with_free_func ((GDestroyNotify)
            g_bytes_unref);
      g_ptr_array_add (messages, take_chunk (sender));
    }
  }
  return messages;
}

gchar *
hangout_transfer_sender_finish (HangoutTransferSender *sender, GBytes **last,
    GError **error)
{
  *last = NULL;
  if (sender->sha256 != NULL) {
    g_set_error (error, HANGOUT_ERROR, HANGOUT_ERROR_INVALID_STATE,
        "file %s is already finished", sender->name);
    return NULL;
  }
  if (sender->size >= 0 && sender->offset != (guint64) sender->size) {
    g_set_error (error, HANGOUT_ERROR, HANGOUT_ERROR_INVALID_STATE,
        "file %s ended after %" G_GUINT64_FORMAT " of its announced %"
        G_GINT64_FORMAT " bytes", sender->name, sender->offset, sender->size);
    return NULL;
  }
  if (sender->chunk_fill > 0)
    *last = take_chunk (sender);
  sender->sha256 =
      g_strdup (hangout_sha256_thread_get_string (sender->checksum));
  return hangout_transfer_build_end (sender->id, sender->offset,
      sender->sha256);
}

gboolean
hangout_transfer_sender_handle_answer (HangoutTransferSender *sender,
    const gchar *member, const HangoutTransferControl *control,
    HangoutTransferRecipientState *state, GError **error)
{
  HangoutTransferRecipientState now;

  if (control->type != HANGOUT_TRANSFER_ACK
      && control->type != HANGOUT_TRANSFER_REJECT)
    return hangout_transfer_invalid (error, "not an answer");
  if (g_strcmp0 (control->id, sender->id) != 0)
    return hangout_transfer_invalid (error, "answer for unknown file %s",
        control->id);
  if (!g_hash_table_contains (sender->recipients, member))
    return hangout_transfer_invalid (error,
        "answer from %s, which was not sent file %s", member, sender->id);
  now = hangout_transfer_sender_get_state (sender, member);
  if (now != HANGOUT_TRANSFER_RECIPIENT_PENDING)
    return hangout_transfer_invalid (error,
        "second answer from %s for file %s", member, sender->id);
  if (control->type == HANGOUT_TRANSFER_REJECT)
    now = HANGOUT_TRANSFER_RECIPIENT_REJECTED;
  else if (sender->sha256 == NULL)
    return hangout_transfer_invalid (error,
        "ack from %s before the end of file %s", member, sender->id);
  else if (control->ok && g_strcmp0 (control->sha256, sender->sha256) == 0)
    now = HANGOUT_TRANSFER_RECIPIENT_OK;
  else
    now = HANGOUT_TRANSFER_RECIPIENT_FAILED;
  g_hash_table_insert (sender->recipients, g_strdup (member),
      GINT_TO_POINTER (now));
  *state = now;
  return TRUE;
}

gboolean
hangout_transfer_sender_set_answer (HangoutTransferSender *sender,
    const gchar *member, HangoutTransferRecipientState state)
{
  g_return_val_if_fail (state == HANGOUT_TRANSFER_RECIPIENT_OK
      || state == HANGOUT_TRANSFER_RECIPIENT_FAILED
      || state == HANGOUT_TRANSFER_RECIPIENT_REJECTED, FALSE);
  if (!g_hash_table_contains (sender->recipients, member)
      || hangout_transfer_sender_get_state (sender, member)
      != HANGOUT_TRANSFER_RECIPIENT_PENDING)
    return FALSE;
  g_hash_table_insert (sender->recipients, g_strdup (member),
      GINT_TO_POINTER (state));
  return TRUE;
}

gboolean
hangout_transfer_sender_member_left (HangoutTransferSender *sender,
    const gchar *member)
{
  if (hangout_transfer_sender_get_state (sender, member)
      != HANGOUT_TRANSFER_RECIPIENT_PENDING)
    return FALSE;
  g_hash_table_insert (sender->recipients, g_strdup (member),
      GINT_TO_POINTER (HANGOUT_TRANSFER_RECIPIENT_LEFT));
  return TRUE;
}

/* ---- receiver ---- */

typedef struct {
  gchar *member;
  gchar *id;
  gchar *name;
  gchar *mime;
  gint64 size;
  guint chunk_size;
  guint64 received;
  HangoutSha256Thread *checksum;
  gboolean rejected;            /* drop its data silently */
  GError *failure;              /* set once it went wrong; awaits end/abort */
  gint64 last_heard;            /* monotonic µs of its last message */
  gboolean held;                /* we are not reading from its sender */
} Incoming;

struct _HangoutTransferReceiver {
  GHashTable *files;            /* "member/id" → Incoming */
};

static void
incoming_free (Incoming *in)
{
  g_free (in->member);
  g_free (in->id);
  g_free (in->name);
  g_free (in->mime);
  hangout_sha256_thread_free (in->checksum);
  g_clear_error (&in->failure);
  g_free (in);
}

gchar *
hangout_transfer_file_key (const gchar *member, const gchar *id)
{
  return g_strconcat (member, "/", id, NULL);
}

void
hangout_transfer_event_clear (HangoutTransferEvent *event)
{
  g_free (event->member);
  g_free (event->id);
  g_free (event->name);
  g_free (event->mime);
  g_clear_pointer (&event->payload, g_bytes_unref);
  g_free (event->sha256);
  g_free (event->reply);
  g_clear_error (&event->error);
  memset (event, 0, sizeof *event);
}

void
hangout_transfer_event_free (HangoutTransferEvent *event)
{
  hangout_transfer_event_clear (event);
  g_free (event);
}

HangoutTransferReceiver *
hangout_transfer_receiver_new (void)
{
  HangoutTransferReceiver *receiver = g_new0 (HangoutTransferReceiver, 1);

  hangout_debug_init ();
  receiver->files = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
      (GDestroyNotify) incoming_free);
  return receiver;
}

void
hangout_transfer_receiver_free (HangoutTransferReceiver *receiver)
{
  if (receiver == NULL)
    return;
  g_hash_table_unref (receiver->files);
  g_free (receiver);
}

guint
hangout_transfer_receiver_get_active (HangoutTransferReceiver *receiver)
{
  return g_hash_table_size (receiver->files);
}

static void
event_for (HangoutTransferEvent *event, HangoutTransferEventType type,
    Incoming *in)
{
  event->type = type;
  event->member = g_strdup (in->member);
  event->id = g_strdup (in->id);
  event->name = g_strdup (in->name);
  event->mime = g_strdup (in->mime);
  event->size = in->size;
  event->offset = in->received;
}

/* Reports @in failed and forgets it. */
static void
fail_file (HangoutTransferReceiver *receiver, Incoming *in,
    HangoutTransferEvent *event, GError *error)
{
  g_autofree gchar *key = hangout_transfer_file_key (in->member, in->id);

  event_for (event, HANGOUT_TRANSFER_EVENT_FAILED, in);
  event->error = error;
  g_hash_table_remove (receiver->files, key);
}

static gboolean
handle_data (HangoutTransferReceiver *receiver, const gchar *member,
    GBytes *message, HangoutTransferEvent *event, GError **error)
{
  gchar id[HANGOUT_TRANSFER_ID_HEX + 1];
  g_autofree gchar *key = NULL;
  const guint8 *payload;
  gsize len, payload_len;
  const guint8 *data = g_bytes_get_data (message, &len);
  guint64 offset;
  Incoming *in;

  if (!hangout_transfer_parse_data (data, len, id, &offset, &payload,
          &payload_len, error))
    return FALSE;
  key = hangout_transfer_file_key (member, id);
  in = g_hash_table_lookup (receiver->files, key);
  if (in == NULL)
    return hangout_transfer_invalid (error,
        "data for file %s, which %s never offered", id, member);
  in->last_heard = g_get_monotonic_time ();
  if (in->rejected || in->failure != NULL)
    return TRUE;                /* declined, or already failed: drop */
  if (len > in->chunk_size)
    in->failure = g_error_new (HANGOUT_ERROR, HANGOUT_ERROR_MESSAGE_TOO_BIG,
        "data message of %" G_GSIZE_FORMAT " bytes is larger than the "
        "offered chunk size %u", len, in->chunk_size);
  else if (offset != in->received)
    /* Version 1: one sender, ordered channel (protocol §2.3). */
    in->failure = g_error_new (HANGOUT_ERROR, HANGOUT_ERROR_INVALID_MESSAGE,
        "data at offset %" G_GUINT64_FORMAT ", expected %" G_GUINT64_FORMAT,
        offset, in->received);
  else if (in->size >= 0 && payload_len > (guint64) in->size - offset)
    in->failure = g_error_new (HANGOUT_ERROR, HANGOUT_ERROR_INVALID_MESSAGE,
        "data past the announced size of %" G_GINT64_FORMAT " bytes",
        in->size);
  if (in->failure != NULL) {
    /* Tell the caller now, so no partial file is passed on as good; keep
     * the file (failed) so that its further data is dropped quietly and
     * its end is answered with ok false. */
    event_for (event, HANGOUT_TRANSFER_EVENT_FAILED, in);
    event->error = g_error_copy (in->failure);
    return TRUE;
  }
  hangout_sha256_thread_update (in->checksum, message, payload - data,
      payload_len);
  event_for (event, HANGOUT_TRANSFER_EVENT_DATA, in);
  event->offset = offset;
  event->payload = g_bytes_new_from_bytes (message,
      HANGOUT_TRANSFER_HEADER_SIZE, payload_len);
  in->received += payload_len;
  return TRUE;
}

/* Why @control (an offer from @member) is over a limit, or NULL. */
static const gchar *
over_limit (HangoutTransferReceiver *receiver, const gchar *member,
    const HangoutTransferControl *control)
{
  GHashTableIter iter;
  Incoming *in;
  guint files = 0;

  if (strlen (control->name) > HANGOUT_TRANSFER_MAX_NAME_BYTES)
    return "name longer than 1024 bytes";
  if (strlen (control->mime) > HANGOUT_TRANSFER_MAX_MIME_BYTES)
    return "mime longer than 255 bytes";
  g_hash_table_iter_init (&iter, receiver->files);
  while (g_hash_table_iter_next (&iter, NULL, (gpointer *) & in))
    if (g_str_equal (in->member, member))
      files++;
  if (files >= HANGOUT_TRANSFER_MAX_FILES_PER_MEMBER)
    return "too many files outstanding (16 per member)";
  return NULL;
}

static gboolean
handle_control (HangoutTransferReceiver *receiver, const gchar *member,
    GBytes *message, HangoutTransferEvent *event, GError **error)
{
  HangoutTransferControl control;
  gsize len;
  const gchar *text = g_bytes_get_data (message, &len);
  g_autofree gchar *key = NULL;
  gboolean ok = TRUE;
  Incoming *in;

  if (!hangout_transfer_parse_control (text, len, &control, error))
    return FALSE;
  if (control.type == HANGOUT_TRANSFER_UNKNOWN)
    goto done;                  /* later versions: ignore */
  key = hangout_transfer_file_key (member, control.id);
  in = g_hash_table_lookup (receiver->files, key);
  if (in != NULL)
    in->last_heard = g_get_monotonic_time ();

  switch (control.type) {
    case HANGOUT_TRANSFER_OFFER:{
      const gchar *over;

      if (in != NULL) {
        fail_file (receiver, in, event, g_error_new (HANGOUT_ERROR,
                HANGOUT_ERROR_INVALID_MESSAGE, "file %s offered twice",
                control.id));
        break;
      }
      over = over_limit (receiver, member, &control);
      if (over != NULL) {
        /* Not kept: its data, if any follows, is dropped as never offered. */
        GST_INFO ("offer of %s from %s rejected: %s", control.id, member,
            over);
        event->reply = hangout_transfer_build_reject (control.id, over);
        break;
      }
      in = g_new0 (Incoming, 1);
      in->member = g_strdup (member);
      in->id = g_strdup (control.id);
      in->name = g_strdup (control.name);
      in->mime = g_strdup (control.mime);
      in->size = control.size;
      in->chunk_size = control.chunk_size;
      in->checksum = hangout_sha256_thread_new ();
      in->last_heard = g_get_monotonic_time ();
      g_hash_table_insert (receiver->files, g_steal_pointer (&key), in);
      event_for (event, HANGOUT_TRANSFER_EVENT_STARTED, in);
      break;
    }
    case HANGOUT_TRANSFER_END:{
      const gchar *digest;

      if (in == NULL) {
        ok = hangout_transfer_invalid (error,
            "end of file %s, which %s never offered", control.id, member);
        break;
      }
      digest = hangout_sha256_thread_get_string (in->checksum);
      if (in->rejected || in->failure != NULL) {
        /* Already reported to the caller. */
        if (in->failure != NULL)
          event->reply = hangout_transfer_build_ack (control.id, FALSE, digest);
        g_hash_table_remove (receiver->files, key);
        break;
      }
      if (in->received != (guint64) control.size
          || (in->size >= 0 && in->size != control.size)) {
        event->reply = hangout_transfer_build_ack (control.id, FALSE, digest);
        fail_file (receiver, in, event, g_error_new (HANGOUT_ERROR,
                HANGOUT_ERROR_INVALID_MESSAGE, "received %" G_GUINT64_FORMAT
                " bytes, the sender says it sent %" G_GINT64_FORMAT,
                in->received, control.size));
      } else if (g_strcmp0 (digest, control.sha256) != 0) {
        event->reply = hangout_transfer_build_ack (control.id, FALSE, digest);
        fail_file (receiver, in, event, g_error_new (HANGOUT_ERROR,
                HANGOUT_ERROR_INVALID_MESSAGE, "SHA-256 mismatch: received "
                "%s, the sender says %s", digest, control.sha256));
      } else {
        event->reply = hangout_transfer_build_ack (control.id, TRUE, digest);
        event_for (event, HANGOUT_TRANSFER_EVENT_COMPLETE, in);
        event->size = control.size;
        event->sha256 = g_strdup (digest);
        g_hash_table_remove (receiver->files, key);
      }
      break;
    }
    case HANGOUT_TRANSFER_ABORT:
      if (in == NULL) {
        ok = hangout_transfer_invalid (error,
            "abort of file %s, which %s never offered", control.id, member);
        break;
      }
      if (in->rejected || in->failure != NULL) {
        g_hash_table_remove (receiver->files, key);
        break;
      }
      fail_file (receiver, in, event, g_error_new (HANGOUT_ERROR,
              HANGOUT_ERROR_CLOSED, "the sender aborted: %s", control.reason));
      break;
    case HANGOUT_TRANSFER_ACK:
    case HANGOUT_TRANSFER_REJECT:
      ok = hangout_transfer_invalid (error,
          "%s for file %s: this is a receiver",
          control.type == HANGOUT_TRANSFER_ACK ? "ack" : "reject", control.id);
      break;
    case HANGOUT_TRANSFER_UNKNOWN:
      break;
  }
done:
  hangout_transfer_control_clear (&control);
  return ok;
}

gboolean
hangout_transfer_receiver_handle (HangoutTransferReceiver *receiver,
    const gchar *member, gboolean is_string, GBytes *message,
    HangoutTransferEvent *event, GError **error)
{
  memset (event, 0, sizeof *event);
  if (is_string)
    return handle_control (receiver, member, message, event, error);
  return handle_data (receiver, member, message, event, error);
}

gchar *
hangout_transfer_receiver_reject (HangoutTransferReceiver *receiver,
    const gchar *member, const gchar *id, const gchar *reason)
{
  g_autofree gchar *key = hangout_transfer_file_key (member, id);
  Incoming *in = g_hash_table_lookup (receiver->files, key);

  /* Kept (marked) rather than removed, so that its data is not taken for
   * data of a file never offered. */
  if (in != NULL)
    in->rejected = TRUE;
  return hangout_transfer_build_reject (id, reason);
}

/* Forgets the files @gone (Incoming*, taken off nothing yet), reporting
 * those in progress as FAILED with @why; @reply adds a reject for their
 * senders. */
static GPtrArray *
drop_files (HangoutTransferReceiver *receiver, GPtrArray *gone,
    gboolean reply, const gchar *why)
{
  GPtrArray *events = g_ptr_array_new_with_free_func ((GDestroyNotify)
      hangout_transfer_event_free);

  for (guint i = 0; i < gone->len; i++) {
    Incoming *in = g_ptr_array_index (gone, i);
    HangoutTransferEvent *event;

    if (in->rejected || in->failure != NULL) {
      g_autofree gchar *key = hangout_transfer_file_key (in->member, in->id);
      g_hash_table_remove (receiver->files, key);
      continue;
    }
    event = g_new0 (HangoutTransferEvent, 1);
    if (reply)
      event->reply = hangout_transfer_build_reject (in->id, why);
    fail_file (receiver, in, event, g_error_new (HANGOUT_ERROR,
            HANGOUT_ERROR_CLOSED, "%s (after %" G_GUINT64_FORMAT " bytes)",
            why, in->received));
    g_ptr_array_add (events, event);
  }
  return events;
}

void
hangout_transfer_receiver_set_held (HangoutTransferReceiver *receiver,
    const gchar *member, gboolean held)
{
  GHashTableIter iter;
  Incoming *in;

  g_hash_table_iter_init (&iter, receiver->files);
  while (g_hash_table_iter_next (&iter, NULL, (gpointer *) & in)) {
    if (!g_str_equal (in->member, member) || in->held == held)
      continue;
    in->held = held;
    in->last_heard = g_get_monotonic_time ();
  }
}

GPtrArray *
hangout_transfer_receiver_expire (HangoutTransferReceiver *receiver,
    gint64 timeout_us)
{
  g_autoptr (GPtrArray) gone = g_ptr_array_new ();
  gint64 now = g_get_monotonic_time ();
  g_autofree gchar *why = g_strdup_printf ("no data from the sender for %g s",
      timeout_us / (gdouble) G_USEC_PER_SEC);
  GHashTableIter iter;
  Incoming *in;

  g_hash_table_iter_init (&iter, receiver->files);
  while (g_hash_table_iter_next (&iter, NULL, (gpointer *) & in))
    if (!in->held && now - in->last_heard >= timeout_us)
      g_ptr_array_add (gone, in);
  return drop_files (receiver, gone, TRUE, why);
}

GPtrArray *
hangout_transfer_receiver_member_left (HangoutTransferReceiver *receiver,
    const gchar *member, const gchar *failure)
{
  g_autoptr (GPtrArray) gone = g_ptr_array_new ();
  g_autofree gchar *why = failure != NULL ? g_strdup_printf ("the connection "
      "to the sender failed before the end of the file (%s)", failure)
      : g_strdup ("the sender left before the end of the file");
  GHashTableIter iter;
  Incoming *in;

  g_hash_table_iter_init (&iter, receiver->files);
  while (g_hash_table_iter_next (&iter, NULL, (gpointer *) & in))
    if (g_str_equal (in->member, member))
      g_ptr_array_add (gone, in);
  return drop_files (receiver, gone, FALSE, why);
}
