/* gst-hangout — room and member names as docs/protocol.md §1.2 has them
 * (names.h).
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#include "names.h"

#include <string.h>

#define MAX_ROOM_LEN 64
#define MAX_NAME_CHARS 64

gboolean
server_valid_room_name (const char *s)
{
  gsize len = strlen (s);

  if (len < 1 || len > MAX_ROOM_LEN)
    return FALSE;
  for (gsize i = 0; i < len; i++) {
    char c = s[i];
    if (!(g_ascii_isalnum (c) || c == '.' || c == '_' || c == '-'))
      return FALSE;
  }
  return TRUE;
}

gboolean
server_valid_member_name (const char *s)
{
  glong n = 0;

  if (!g_utf8_validate (s, -1, NULL))
    return FALSE;
  for (const char *p = s; *p; p = g_utf8_next_char (p)) {
    gunichar c = g_utf8_get_char (p);
    if (c <= 0x1f || (c >= 0x7f && c <= 0x9f))
      return FALSE;
    n++;
  }
  return n >= 1 && n <= MAX_NAME_CHARS;
}
