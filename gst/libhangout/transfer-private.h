/* gst-hangout — what the wire formats of file transfer versions 1 and 2
 * (transfer.c, transfer2.c; docs/protocol.md §2, §4) share: the reading of
 * a control message's members, the building of one, file ids (private).
 *
 * The readers fail with HANGOUT_ERROR_INVALID_MESSAGE and a message that
 * names the member; a string they return is owned by the caller.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <hangout/transfer.h>
#include <json-glib/json-glib.h>

G_BEGIN_DECLS

/* A file id in JSON: 32 lower-case hex digits. */
#define HANGOUT_TRANSFER_ID_HEX (2 * HANGOUT_TRANSFER_FILE_ID_SIZE)
/* Control messages are small; anything this large is not one of ours. */
#define HANGOUT_TRANSFER_MAX_CONTROL_SIZE 65536

/* Sets a HANGOUT_ERROR_INVALID_MESSAGE error; returns FALSE. */
G_GNUC_INTERNAL gboolean hangout_transfer_invalid (GError **error,
    const gchar *format, ...) G_GNUC_PRINTF (2, 3);
/* TRUE when @text is exactly @digits lower-case hex digits. */
G_GNUC_INTERNAL gboolean hangout_transfer_is_hex (const gchar *text,
    gsize digits);

/* A control message (at most HANGOUT_TRANSFER_MAX_CONTROL_SIZE bytes) as
 * an object, or NULL with the reason (transfer full). */
G_GNUC_INTERNAL JsonObject *hangout_transfer_parse_json (const gchar *text,
    gsize len, GError **error);
/* A string member. Its length is bounded by the message's; the limits of
 * names are the receiver's to apply (it rejects the offer, with a reason,
 * rather than ignoring it). */
G_GNUC_INTERNAL gboolean hangout_transfer_get_string (JsonObject *object,
    const gchar *member, gchar **out, GError **error);
/* An integer member in [0, G_MAXINT64]; @nullable allows null (-1). */
G_GNUC_INTERNAL gboolean hangout_transfer_get_size (JsonObject *object,
    const gchar *member, gboolean nullable, gint64 *out, GError **error);
G_GNUC_INTERNAL gboolean hangout_transfer_get_boolean (JsonObject *object,
    const gchar *member, gboolean *out, GError **error);
/* "id": a file id. */
G_GNUC_INTERNAL gboolean hangout_transfer_get_file_id (JsonObject *object,
    gchar **out, GError **error);
/* A digest (SHA-256, a root): 64 lower-case hex digits; with @nullable,
 * null or absent gives NULL. */
G_GNUC_INTERNAL gboolean hangout_transfer_get_digest (JsonObject *object,
    const gchar *member, gboolean nullable, gchar **out, GError **error);
/* What every offer says of its file (docs/protocol.md §2.2): "name",
 * "size" (-1 for null), "mime", "chunk-size" in [@min_chunk_size,
 * HANGOUT_TRANSFER_MAX_CHUNK_SIZE]. */
G_GNUC_INTERNAL gboolean hangout_transfer_get_file_members (JsonObject
    *object, guint min_chunk_size, gchar **name, gint64 *size, gchar **mime,
    guint *chunk_size, GError **error);

/* A message of @type for file @id; add members, then end it: the text
 * (transfer full; the builder is consumed). */
G_GNUC_INTERNAL JsonBuilder *hangout_transfer_builder_begin (const gchar
    *type, const gchar *id);
G_GNUC_INTERNAL gchar *hangout_transfer_builder_end (JsonBuilder *builder);
/* An offer's "version", "name", "size" (null when < 0), "mime",
 * "chunk-size", in this order. */
G_GNUC_INTERNAL void hangout_transfer_builder_add_file_members (JsonBuilder
    *builder, guint version, const gchar *name, gint64 size,
    const gchar *mime, guint chunk_size);

/* File ids in binary messages: 16 raw bytes. */
G_GNUC_INTERNAL void hangout_transfer_id_to_hex (const guint8 *bytes,
    gchar hex[HANGOUT_TRANSFER_ID_HEX + 1]);
/* @hex: HANGOUT_TRANSFER_ID_HEX hex digits (checked by the caller). */
G_GNUC_INTERNAL void hangout_transfer_id_to_bytes (const gchar *hex,
    guint8 *bytes);

G_END_DECLS
