/* gst-hangout — room and member names as docs/protocol.md §1.2 has them:
 * what a join must carry, and what the room directory takes from Redis.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* 1 to 64 characters from A-Z a-z 0-9 . _ - */
G_GNUC_INTERNAL
gboolean server_valid_room_name (const char *s);
/* 1 to 64 characters of UTF-8 without control characters. */
G_GNUC_INTERNAL
gboolean server_valid_member_name (const char *s);

G_END_DECLS
