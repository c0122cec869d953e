/* gst-hangout — JSON from the network (include/hangout/json.h).
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#include <hangout/json.h>
#include <gio/gio.h>
#include <math.h>
#include <string.h>

/* A strict JSON (RFC 8259) syntax check, run before json-glib sees a
 * message, so that json-glib only ever parses well-formed text. Reasons:
 * - json-glib 1.6 leaks memory on its error paths (a GString per
 *   malformed string, found with LeakSanitizer): any client could grow the
 *   server with garbage;
 * - its parser is recursive: "[[[[…" 64 KiB deep overflows the stack
 *   (checked: it segfaults), so nesting is limited to HANGOUT_JSON_MAX_DEPTH;
 * - it silently truncates strings at \u0000, so a name or payload would
 *   change behind our back: refused (docs/protocol.md §1.1);
 * - it accepts "{}{}": trailing data is refused;
 * - it wraps integers beyond 64 bits and reads 1e999 as infinity:
 *   refused;
 * - lone UTF-16 surrogates (\ud800) cannot become UTF-8: refused;
 * - an empty text makes json-glib fail without setting its GError, which
 *   callers then read (an empty data-channel message crashed members). */
typedef struct {
  const char *p, *end;
  const char *why;
} JsonCheck;

static void
jc_ws (JsonCheck *j)
{
  while (j->p < j->end && (*j->p == ' ' || *j->p == '\t' || *j->p == '\n' || *j->p == '\r'))
    j->p++;
}

static gboolean
jc_fail (JsonCheck *j, const char *why)
{
  if (!j->why)
    j->why = why;
  return FALSE;
}

static gboolean
jc_hex4 (JsonCheck *j, guint *out)
{
  guint v = 0;

  if (j->end - j->p < 4)
    return jc_fail (j, "not valid JSON");
  for (int k = 0; k < 4; k++) {
    int d = g_ascii_xdigit_value (j->p[k]);
    if (d < 0)
      return jc_fail (j, "not valid JSON");
    v = v * 16 + (guint) d;
  }
  j->p += 4;
  *out = v;
  return TRUE;
}

static gboolean
jc_string (JsonCheck *j)
{
  j->p++; /* opening quote */
  while (j->p < j->end) {
    unsigned char c = (unsigned char) *j->p++;
    if (c == '"')
      return TRUE;
    if (c < 0x20)
      return jc_fail (j, "not valid JSON");
    if (c != '\\')
      continue;
    if (j->p >= j->end)
      break;
    c = (unsigned char) *j->p++;
    if (c == 'u') {
      guint u, lo;
      if (!jc_hex4 (j, &u))
        return FALSE;
      if (u == 0)
        return jc_fail (j, "strings must not contain U+0000");
      if (u >= 0xdc00 && u <= 0xdfff)
        return jc_fail (j, "not valid JSON (lone surrogate)");
      if (u >= 0xd800 && u <= 0xdbff) {
        if (j->end - j->p < 2 || j->p[0] != '\\' || j->p[1] != 'u')
          return jc_fail (j, "not valid JSON (lone surrogate)");
        j->p += 2;
        if (!jc_hex4 (j, &lo))
          return FALSE;
        if (lo < 0xdc00 || lo > 0xdfff)
          return jc_fail (j, "not valid JSON (lone surrogate)");
      }
    } else if (!strchr ("\"\\/bfnrt", c) || c == '\0') {
      return jc_fail (j, "not valid JSON");
    }
  }
  return jc_fail (j, "not valid JSON");
}

static gboolean
jc_digits (JsonCheck *j)
{
  const char *start = j->p;
  while (j->p < j->end && g_ascii_isdigit (*j->p))
    j->p++;
  return j->p > start || jc_fail (j, "not valid JSON");
}

/* json-glib reads an integer beyond 64 bits as another, without an error
 * (2^63 as -2^63, 2^64 - 2 as -2, anything from 2^64 on as -1), and a
 * number beyond the range of a double as infinity: like a string cut at
 * U+0000, a value that would change behind our back, so refused. */
static gboolean
jc_number_in_range (JsonCheck *j, const char *start, gboolean integer)
{
  gsize len = (gsize) (j->p - start);
  g_autofree char *text = NULL;

  if (integer) {
    const char *digits = *start == '-' ? start + 1 : start;
    const char *limit = *start == '-' ? "9223372036854775808" : "9223372036854775807";
    gsize n = len - (gsize) (digits - start);

    /* No leading zeros in JSON: more digits is larger. */
    if (n < strlen (limit) || (n == strlen (limit) && memcmp (digits, limit, n) <= 0))
      return TRUE;
    return jc_fail (j, "integer out of range");
  }
  text = g_strndup (start, len);
  if (isinf (g_ascii_strtod (text, NULL)))
    return jc_fail (j, "number out of range");
  return TRUE;
}

static gboolean
jc_number (JsonCheck *j)
{
  const char *start = j->p;
  gboolean integer = TRUE;

  if (*j->p == '-')
    j->p++;
  if (j->p < j->end && *j->p == '0')
    j->p++;
  else if (!jc_digits (j))
    return FALSE;
  if (j->p < j->end && *j->p == '.') {
    j->p++;
    integer = FALSE;
    if (!jc_digits (j))
      return FALSE;
  }
  if (j->p < j->end && (*j->p == 'e' || *j->p == 'E')) {
    j->p++;
    integer = FALSE;
    if (j->p < j->end && (*j->p == '+' || *j->p == '-'))
      j->p++;
    if (!jc_digits (j))
      return FALSE;
  }
  return jc_number_in_range (j, start, integer);
}

static gboolean
jc_literal (JsonCheck *j, const char *word)
{
  gsize n = strlen (word);
  if ((gsize) (j->end - j->p) < n || memcmp (j->p, word, n) != 0)
    return jc_fail (j, "not valid JSON");
  j->p += n;
  return TRUE;
}

static gboolean jc_value (JsonCheck *j, int depth);

static gboolean
jc_container (JsonCheck *j, int depth)
{
  char close = *j->p == '{' ? '}' : ']';
  gboolean object = close == '}';

  if (depth >= HANGOUT_JSON_MAX_DEPTH)
    return jc_fail (j, "JSON nested too deeply");
  j->p++;
  jc_ws (j);
  if (j->p < j->end && *j->p == close) {
    j->p++;
    return TRUE;
  }
  for (;;) {
    if (object) {
      jc_ws (j);
      if (j->p >= j->end || *j->p != '"' || !jc_string (j))
        return jc_fail (j, "not valid JSON");
      jc_ws (j);
      if (j->p >= j->end || *j->p++ != ':')
        return jc_fail (j, "not valid JSON");
    }
    if (!jc_value (j, depth + 1))
      return FALSE;
    jc_ws (j);
    if (j->p >= j->end)
      return jc_fail (j, "not valid JSON");
    if (*j->p == close) {
      j->p++;
      return TRUE;
    }
    if (*j->p++ != ',')
      return jc_fail (j, "not valid JSON");
  }
}

static gboolean
jc_value (JsonCheck *j, int depth)
{
  jc_ws (j);
  if (j->p >= j->end)
    return jc_fail (j, "not valid JSON");
  switch (*j->p) {
  case '{':
  case '[':
    return jc_container (j, depth);
  case '"':
    return jc_string (j);
  case 't':
    return jc_literal (j, "true");
  case 'f':
    return jc_literal (j, "false");
  case 'n':
    return jc_literal (j, "null");
  default:
    if (*j->p == '-' || g_ascii_isdigit (*j->p))
      return jc_number (j);
    return jc_fail (j, "not valid JSON");
  }
}


static gboolean
refuse (GError **error, const gchar *why)
{
  g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, why);
  return FALSE;
}

static gboolean
acceptable (const gchar *text, gsize len, gsize max_size, GError **error)
{
  JsonCheck j;

  /* Before any pointer arithmetic: an empty message may come as NULL
   * (an empty GBytes), and NULL + 0 is undefined. */
  if (len == 0)
    return refuse (error, "empty message");
  if (len > max_size)
    return refuse (error, "message too large");
  if (!g_utf8_validate_len (text, len, NULL))
    return refuse (error, "not valid UTF-8");
  j = (JsonCheck) { text, text + len, NULL };
  if (jc_value (&j, 0)) {
    jc_ws (&j);
    if (j.p == j.end)
      return TRUE;
    jc_fail (&j, "trailing data after the JSON value");
  }
  return refuse (error, j.why ? j.why : "not valid JSON");
}

JsonObject *
hangout_json_parse_object (const gchar *text, gsize len, gsize max_size,
    GError **error)
{
  g_autoptr (JsonParser) parser = NULL;
  JsonNode *root;

  if (!acceptable (text, len, max_size, error))
    return NULL;
  parser = json_parser_new_immutable ();
  /* Cannot fail on text that passed the check; refuse anyway if it does. */
  if (!json_parser_load_from_data (parser, text, (gssize) len, NULL)
      || (root = json_parser_get_root (parser)) == NULL) {
    refuse (error, "not valid JSON");
    return NULL;
  }
  if (!JSON_NODE_HOLDS_OBJECT (root)) {
    refuse (error, "not a JSON object");
    return NULL;
  }
  return json_object_ref (json_node_get_object (root));
}

gboolean
hangout_json_is_valid (const gchar *text, gsize len)
{
  return acceptable (text, len, G_MAXSIZE, NULL);
}

const gchar *
hangout_json_get_string (JsonObject *object, const gchar *member)
{
  JsonNode *node = json_object_get_member (object, member);

  if (node == NULL || !JSON_NODE_HOLDS_VALUE (node)
      || json_node_get_value_type (node) != G_TYPE_STRING)
    return NULL;
  return json_node_get_string (node);
}
