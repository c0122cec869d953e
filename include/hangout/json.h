/* gst-hangout — JSON from the network: one strict, bounded parser for every
 * message a member or server sends (signalling, room control, transfer
 * control), used by the library and by hangout-server alike.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <json-glib/json-glib.h>

G_BEGIN_DECLS

/* No message of ours nests deeper than a few levels. */
#define HANGOUT_JSON_MAX_DEPTH 32

/* Parses @len bytes of @text (not necessarily NUL-terminated) as one JSON
 * object, refusing, before json-glib sees it, anything but well-formed
 * RFC 8259 text: more than @max_size bytes, invalid UTF-8, nesting deeper
 * than HANGOUT_JSON_MAX_DEPTH, U+0000 in a string, lone surrogates,
 * trailing data, the empty text; and numbers json-glib cannot hold (an
 * integer beyond 64 bits, a number beyond a double's range). Returns the object (transfer full), or
 * NULL with a G_IO_ERROR_INVALID_DATA error whose message says why, for
 * people. Safe on any input. */
JsonObject *hangout_json_parse_object (const gchar *text, gsize len,
    gsize max_size, GError **error);

/* TRUE when the @len bytes of @text are one JSON value that
 * hangout_json_parse_object's checks accept (no size limit). For checking
 * what json-glib writes before it is sent on: json-glib 1.6 writes a
 * double in exponent form with ".0" appended ("1e+20.0"), which no JSON
 * parser reads. */
gboolean hangout_json_is_valid (const gchar *text, gsize len);

/* The string member @member of @object; NULL when absent or not a string
 * (null, a number, an object...). */
const gchar *hangout_json_get_string (JsonObject *object, const gchar *member);

G_END_DECLS
