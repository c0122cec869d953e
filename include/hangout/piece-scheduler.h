/* gst-hangout — whom a sharer hands each piece of a version 2 file
 * (docs/protocol.md §4.5, §4.7): Mutualcast by back-pressure.
 *
 * Pure logic, like transfer.h: nothing here sends. The caller (the share
 * layer) tells the scheduler who is in the file's swarm, what each
 * member's `have` said (where its window begins), which pieces came back
 * corrupt and from whom; for each piece, in order, it asks what to do,
 * giving each member's queue (what the sharer sent the member that the
 * member has not acknowledged yet) and whether its own upload has room
 * for a piece to everyone. The answer is one of:
 *
 * - assign the piece to the member with the shortest queue among those
 *   below HANGOUT_PIECE_SCHEDULER_ASSIGN_WINDOW pieces (it forwards the
 *   piece to the others): a forwarder whose upload is slow stops reading
 *   from the sharer, its queue stays long, and it is handed fewer pieces,
 *   with nothing to configure;
 * - send it to every member directly, when every queue is at that window
 *   but the sharer's upload has room (its links are held by slow
 *   forwarders, not by its own upload);
 * - wait: the piece lies beyond some member's window (§4.6), or nothing
 *   can take it now.
 *
 * It remembers the pieces it assigned that some member may still lack
 * (those at or after the lowest window start), so that when a forwarder
 * leaves the caller can send them again directly: at most one window of
 * pieces, whatever the file size. Not thread-safe: used under its
 * owner's lock.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Pieces a member may have queued from the sharer and still be handed
 * one more (docs/protocol.md §4.5: gst-hangout's assignment window).
 * Measured with bench/swarm.sh (64 MiB, 1 + 3): 2 held receivers of 20 to
 * 100 Mbit/s at 1.5-1.7 × T_min, their acknowledgements waiting behind
 * their own forwards in their upload queues; 4 gave 1.46 ×; 8 gave
 * 1.96 × (a slow forwarder handed too much ahead); equal uploads were
 * 1.12-1.14 × with each. */
#define HANGOUT_PIECE_SCHEDULER_ASSIGN_WINDOW 4
/* Different pieces named corrupt from one forwarder before it is handed
 * no more pieces of the file (§4.7). */
#define HANGOUT_PIECE_SCHEDULER_MAX_CORRUPT 3
/* A forwarder that takes pieces and does not forward them: once at least
 * this many of the pieces handed to it, and at least half of them, were
 * requested from the sharer by every other member (§4.7), it is handed no
 * more. An honest forwarder behind a slow upload loses a few to the
 * repair delay, and those reach some members in time; counting a piece
 * that any member requested excluded honest ones at the start of a file
 * of 1 + 7 members, before the repair delay had learnt their lag. */
#define HANGOUT_PIECE_SCHEDULER_MIN_MISSED 8

typedef enum {
  HANGOUT_PIECE_WAIT,
  HANGOUT_PIECE_ASSIGN,
  HANGOUT_PIECE_DIRECT,
} HangoutPieceDecision;

typedef struct _HangoutPieceScheduler HangoutPieceScheduler;

/* The queue of @member, in bytes. */
typedef guint64 (*HangoutPieceQueueFunc) (const gchar *member, gpointer data);

/* For a file cut in @piece_size pieces, each member holding at most
 * @window bytes of them (a multiple of @piece_size, at least 2 pieces). */
HangoutPieceScheduler *hangout_piece_scheduler_new (gsize piece_size,
    gsize window);
void hangout_piece_scheduler_free (HangoutPieceScheduler *scheduler);
/* With @forwarding FALSE no piece is assigned: every piece goes to every
 * member directly once it lies within every member's window and the
 * sharer's upload has room for it (decide's @upload_spare), so the
 * window rule (§4.6) alone paces the sharer. Default TRUE. */
void hangout_piece_scheduler_set_forwarding (HangoutPieceScheduler
    *scheduler, gboolean forwarding);

/* @member joins the swarm, its window at piece @next (0 for a member
 * that accepted at the offer). FALSE when it is in the swarm already. */
gboolean hangout_piece_scheduler_add_member (HangoutPieceScheduler *scheduler,
    const gchar *member, guint64 next);
/* @member left the swarm. Returns, in order, the pieces assigned to it
 * that another member may still lack (at or after the lowest window start
 * of the others): the caller may send them directly (§4.7). (transfer
 * full; empty when none, or when @member was not in the swarm) */
GArray *hangout_piece_scheduler_remove_member (HangoutPieceScheduler
    *scheduler, const gchar *member);
/* Members in the swarm, in the order they joined (transfer full). */
GStrv hangout_piece_scheduler_list_members (HangoutPieceScheduler *scheduler);

/* @member's `have`: its window begins at @next. A window start only moves
 * forward; an older one (messages cross) changes nothing. FALSE for a
 * member not in the swarm. */
gboolean hangout_piece_scheduler_set_next (HangoutPieceScheduler *scheduler,
    const gchar *member, guint64 next);
/* The first piece that lies beyond some member's window: pieces before it
 * may be sent; G_MAXUINT64 with an empty swarm. */
guint64 hangout_piece_scheduler_get_limit (HangoutPieceScheduler *scheduler);

/* A member said piece @piece from @from failed verification. Returns TRUE
 * when that makes HANGOUT_PIECE_SCHEDULER_MAX_CORRUPT different pieces
 * from @from: it is handed no more pieces of the file (it stays in the
 * swarm, as a receiver), and the caller says so once. */
gboolean hangout_piece_scheduler_report_corrupt (HangoutPieceScheduler
    *scheduler, const gchar *from, guint64 piece);
/* Member @requester requested piece @piece from the sharer (§4.7). If it
 * was assigned to a forwarder still in the swarm and every other member
 * of the swarm requested it too, the forwarder did not deliver it
 * (counted once per piece). Returns TRUE when that makes it one that does
 * not forward (HANGOUT_PIECE_SCHEDULER_MIN_MISSED): it is
 * handed no more pieces of the file, and the caller says so once, naming
 * *@forwarder (owned by the scheduler, valid until it is removed). */
gboolean hangout_piece_scheduler_report_missed (HangoutPieceScheduler
    *scheduler, guint64 piece, const gchar *requester,
    const gchar **forwarder);
/* TRUE once @member is handed no more pieces, for corrupting them or for
 * not forwarding them. */
gboolean hangout_piece_scheduler_is_excluded (HangoutPieceScheduler
    *scheduler, const gchar *member);

/* What to do with piece @index (pieces are decided in order, each once it
 * is decided ASSIGN or DIRECT): @queue_func gives each member's queue,
 * @upload_spare says whether the sharer's upload can take the piece once
 * for every member. On ASSIGN, *@forwarder is the member (owned by the
 * scheduler, valid until it is removed) and the assignment is recorded.
 * With an empty swarm, or one whose every member is excluded: DIRECT
 * (there is no one to wait for). */
HangoutPieceDecision hangout_piece_scheduler_decide (HangoutPieceScheduler
    *scheduler, guint64 index, HangoutPieceQueueFunc queue_func,
    gpointer data, gboolean upload_spare, const gchar **forwarder);

/* Pieces assigned to @member so far, and sent directly, in all. */
guint64 hangout_piece_scheduler_count_assigned (HangoutPieceScheduler
    *scheduler, const gchar *member);
guint64 hangout_piece_scheduler_count_direct (HangoutPieceScheduler
    *scheduler);
/* Assignments it remembers: those some member's window may still lack
 * (at most one window of pieces). */
guint hangout_piece_scheduler_count_outstanding (HangoutPieceScheduler
    *scheduler);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (HangoutPieceScheduler,
    hangout_piece_scheduler_free)

G_END_DECLS
