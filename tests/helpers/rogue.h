/* gst-hangout test helper — a member of transfer version 2 that does not
 * play fair (docs/protocol.md §4.7): it accepts every version 2 offer,
 * says it holds the whole file (a `have`, so that it never holds the
 * sharer back), and then forwards nothing (ROGUE_SILENT) or forwards every
 * piece it is handed with a byte changed (ROGUE_CORRUPT). It never answers
 * an end.
 * The share layer's tests run it in-process (tests/unit/test-share.c), the
 * network lab as a program of its own (tests/lab/swarm-member.c).
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <hangout/room.h>

G_BEGIN_DECLS

typedef enum {
  ROGUE_SILENT,
  ROGUE_CORRUPT,
} RogueKind;

typedef struct _Rogue Rogue;

/* Called on the room's network thread each time a piece message is handed
 * to the rogue. */
typedef void (*RogueNotify) (gpointer data);

/* Makes @room (not started yet: its transfer versions are set here) behave
 * as a rogue of @kind; @notify (optional) is told of every piece message
 * it is handed. Takes a reference on @room. */
Rogue *rogue_new (HangoutRoom *room, RogueKind kind, RogueNotify notify,
    gpointer notify_data);
/* (transfer none) */
HangoutRoom *rogue_get_room (Rogue *rogue);
/* Piece messages handed to it so far. Any thread. */
guint rogue_get_assigned (Rogue *rogue);
/* After hangout_room_stop(): its handler runs until then. */
void rogue_free (Rogue *rogue);

G_END_DECLS
