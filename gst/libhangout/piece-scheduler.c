/* gst-hangout — HangoutPieceScheduler (piece-scheduler.h): whom a sharer
 * hands each piece of a version 2 file.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#include "debug-private.h"
#include <hangout/piece-scheduler.h>

#define GST_CAT_DEFAULT hangout_debug_swarm

typedef struct {
  gchar *id;
  guint64 next;                 /* where its window begins, by its `have` */
  guint64 corrupt[HANGOUT_PIECE_SCHEDULER_MAX_CORRUPT];
  guint n_corrupt;              /* different pieces named corrupt */
  guint64 assigned;             /* pieces assigned to it, in all */
  guint64 missed;               /* of those, requested from the sharer */
  gboolean excluded;            /* handed no more */
  guint64 last_turn;            /* when it was last assigned one (0: never) */
} Member;

typedef struct {
  guint64 piece;
  Member *member;
  guint64 requested_by;         /* the members that requested it from the
                                 * sharer, by their index (the first 64) */
  guint n_requesters;
  gboolean missed;              /* every other member did */
} Assignment;

struct _HangoutPieceScheduler {
  gsize piece_size;
  guint64 window_pieces;
  GPtrArray *members;           /* Member, in the order they joined */
  /* Assignments some member may still lack, by ascending piece: those at
   * or after the lowest window start, so at most one window of them. */
  GArray *assignments;
  guint64 direct;
  guint64 turns;
  gboolean no_forwarding;       /* every piece direct (distribution direct) */
};

static void
member_free (Member *member)
{
  g_free (member->id);
  g_free (member);
}

HangoutPieceScheduler *
hangout_piece_scheduler_new (gsize piece_size, gsize window)
{
  HangoutPieceScheduler *scheduler;

  g_return_val_if_fail (piece_size > 0, NULL);
  g_return_val_if_fail (window >= 2 * piece_size && window % piece_size == 0,
      NULL);
  hangout_debug_init ();
  scheduler = g_new0 (HangoutPieceScheduler, 1);
  scheduler->piece_size = piece_size;
  scheduler->window_pieces = window / piece_size;
  scheduler->members = g_ptr_array_new_with_free_func ((GDestroyNotify)
      member_free);
  scheduler->assignments = g_array_new (FALSE, FALSE, sizeof (Assignment));
  return scheduler;
}

void
hangout_piece_scheduler_set_forwarding (HangoutPieceScheduler *scheduler,
    gboolean forwarding)
{
  scheduler->no_forwarding = !forwarding;
}

void
hangout_piece_scheduler_free (HangoutPieceScheduler *scheduler)
{
  if (scheduler == NULL)
    return;
  g_array_unref (scheduler->assignments);
  g_ptr_array_unref (scheduler->members);
  g_free (scheduler);
}

static Member *
find (HangoutPieceScheduler *scheduler, const gchar *id, guint *index)
{
  for (guint i = 0; i < scheduler->members->len; i++) {
    Member *member = g_ptr_array_index (scheduler->members, i);

    if (g_strcmp0 (member->id, id) == 0) {
      if (index != NULL)
        *index = i;
      return member;
    }
  }
  return NULL;
}

/* The lowest window start of the swarm but @except; G_MAXUINT64 when no
 * other member is left. */
static guint64
lowest_next (HangoutPieceScheduler *scheduler, const Member *except)
{
  guint64 lowest = G_MAXUINT64;

  for (guint i = 0; i < scheduler->members->len; i++) {
    Member *member = g_ptr_array_index (scheduler->members, i);

    if (member != except)
      lowest = MIN (lowest, member->next);
  }
  return lowest;
}

/* Forgets the assignments before every window: everyone has them. */
static void
prune (HangoutPieceScheduler *scheduler)
{
  guint64 lowest = lowest_next (scheduler, NULL);
  guint drop = 0;

  while (drop < scheduler->assignments->len
      && g_array_index (scheduler->assignments, Assignment, drop).piece
      < lowest)
    drop++;
  if (drop > 0)
    g_array_remove_range (scheduler->assignments, 0, drop);
}

gboolean
hangout_piece_scheduler_add_member (HangoutPieceScheduler *scheduler,
    const gchar *id, guint64 next)
{
  Member *member;

  g_return_val_if_fail (id != NULL, FALSE);
  if (find (scheduler, id, NULL) != NULL)
    return FALSE;
  member = g_new0 (Member, 1);
  member->id = g_strdup (id);
  member->next = next;
  g_ptr_array_add (scheduler->members, member);
  return TRUE;
}

GArray *
hangout_piece_scheduler_remove_member (HangoutPieceScheduler *scheduler,
    const gchar *id)
{
  GArray *lost = g_array_new (FALSE, FALSE, sizeof (guint64));
  guint index;
  Member *member = find (scheduler, id, &index);
  guint64 lowest;

  if (member == NULL)
    return lost;
  lowest = lowest_next (scheduler, member);
  for (guint i = 0; i < scheduler->assignments->len;) {
    Assignment *a = &g_array_index (scheduler->assignments, Assignment, i);

    if (a->member == member) {
      if (a->piece >= lowest)
        g_array_append_val (lost, a->piece);
      g_array_remove_index (scheduler->assignments, i);
    } else {
      i++;
    }
  }
  GST_DEBUG ("%s left the swarm; %u of the pieces assigned to it may be "
      "missing", id, lost->len);
  g_ptr_array_remove_index (scheduler->members, index);
  prune (scheduler);
  return lost;
}

GStrv
hangout_piece_scheduler_list_members (HangoutPieceScheduler *scheduler)
{
  GStrvBuilder *builder = g_strv_builder_new ();
  GStrv list;

  for (guint i = 0; i < scheduler->members->len; i++)
    g_strv_builder_add (builder,
        ((Member *) g_ptr_array_index (scheduler->members, i))->id);
  list = g_strv_builder_end (builder);
  g_strv_builder_unref (builder);
  return list;
}

gboolean
hangout_piece_scheduler_set_next (HangoutPieceScheduler *scheduler,
    const gchar *id, guint64 next)
{
  Member *member = find (scheduler, id, NULL);

  if (member == NULL)
    return FALSE;
  if (next > member->next) {
    member->next = next;
    prune (scheduler);
  }
  return TRUE;
}

guint64
hangout_piece_scheduler_get_limit (HangoutPieceScheduler *scheduler)
{
  guint64 lowest = lowest_next (scheduler, NULL);

  return lowest > G_MAXUINT64 - scheduler->window_pieces ? G_MAXUINT64
      : lowest + scheduler->window_pieces;
}

gboolean
hangout_piece_scheduler_report_corrupt (HangoutPieceScheduler *scheduler,
    const gchar *from, guint64 piece)
{
  Member *member = find (scheduler, from, NULL);

  if (member == NULL
      || member->n_corrupt == HANGOUT_PIECE_SCHEDULER_MAX_CORRUPT)
    return FALSE;
  for (guint i = 0; i < member->n_corrupt; i++)
    if (member->corrupt[i] == piece)
      return FALSE;
  member->corrupt[member->n_corrupt++] = piece;
  GST_DEBUG ("piece %" G_GUINT64_FORMAT " from %s reported corrupt (%u of "
      "%d)", piece, from, member->n_corrupt,
      HANGOUT_PIECE_SCHEDULER_MAX_CORRUPT);
  if (member->n_corrupt < HANGOUT_PIECE_SCHEDULER_MAX_CORRUPT
      || member->excluded)
    return FALSE;
  member->excluded = TRUE;
  return TRUE;
}

gboolean
hangout_piece_scheduler_report_missed (HangoutPieceScheduler *scheduler,
    guint64 piece, const gchar *requester, const gchar **forwarder)
{
  Assignment *a = NULL;
  Member *member;
  guint index;

  for (guint i = 0; i < scheduler->assignments->len && a == NULL; i++)
    if (g_array_index (scheduler->assignments, Assignment, i).piece == piece)
      a = &g_array_index (scheduler->assignments, Assignment, i);
  if (a == NULL || a->missed || find (scheduler, requester, &index) == NULL
      || g_ptr_array_index (scheduler->members, index) == a->member)
    return FALSE;
  if (index < 64 && !(a->requested_by & (G_GUINT64_CONSTANT (1) << index))) {
    a->requested_by |= G_GUINT64_CONSTANT (1) << index;
    a->n_requesters++;
  }
  /* A slow forwarder's piece reaches some members in time; a mute one's
   * reaches none. */
  if (a->n_requesters < MIN (scheduler->members->len - 1, 64))
    return FALSE;
  a->missed = TRUE;
  member = a->member;
  member->missed++;
  GST_DEBUG ("piece %" G_GUINT64_FORMAT " of %s's requested from the sharer "
      "(%" G_GUINT64_FORMAT " of the %" G_GUINT64_FORMAT " handed to it)",
      piece, member->id, member->missed, member->assigned);
  if (member->excluded || member->missed < HANGOUT_PIECE_SCHEDULER_MIN_MISSED
      || 2 * member->missed < member->assigned)
    return FALSE;
  member->excluded = TRUE;
  if (forwarder != NULL)
    *forwarder = member->id;
  return TRUE;
}

gboolean
hangout_piece_scheduler_is_excluded (HangoutPieceScheduler *scheduler,
    const gchar *id)
{
  Member *member = find (scheduler, id, NULL);

  return member != NULL && member->excluded;
}

/* TRUE while some member may still be handed pieces. */
static gboolean
has_eligible (HangoutPieceScheduler *scheduler)
{
  for (guint i = 0; i < scheduler->members->len; i++) {
    Member *member = g_ptr_array_index (scheduler->members, i);

    if (!member->excluded)
      return TRUE;
  }
  return FALSE;
}

HangoutPieceDecision
hangout_piece_scheduler_decide (HangoutPieceScheduler *scheduler,
    guint64 index, HangoutPieceQueueFunc queue_func, gpointer data,
    gboolean upload_spare, const gchar **forwarder)
{
  const guint64 full = HANGOUT_PIECE_SCHEDULER_ASSIGN_WINDOW
      * (guint64) scheduler->piece_size;
  Member *best = NULL;
  guint64 best_queue = 0;
  Assignment assignment;

  if (scheduler->members->len == 0) {
    scheduler->direct++;
    return HANGOUT_PIECE_DIRECT;
  }
  if (index >= hangout_piece_scheduler_get_limit (scheduler))
    return HANGOUT_PIECE_WAIT;
  if (scheduler->no_forwarding) {
    if (!upload_spare)
      return HANGOUT_PIECE_WAIT;
    scheduler->direct++;
    return HANGOUT_PIECE_DIRECT;
  }
  for (guint i = 0; i < scheduler->members->len; i++) {
    Member *member = g_ptr_array_index (scheduler->members, i);
    guint64 queue;

    if (member->excluded)
      continue;
    queue = queue_func (member->id, data);
    if (queue >= full)
      continue;
    /* Equal queues (an idle start): the one served longest ago. */
    if (best == NULL || queue < best_queue
        || (queue == best_queue && member->last_turn < best->last_turn)) {
      best = member;
      best_queue = queue;
    }
  }
  /* Every member excluded: nobody else will ever take it. */
  if (best == NULL && !upload_spare && !has_eligible (scheduler))
    upload_spare = TRUE;
  if (best == NULL) {
    if (!upload_spare)
      return HANGOUT_PIECE_WAIT;
    scheduler->direct++;
    return HANGOUT_PIECE_DIRECT;
  }
  best->assigned++;
  best->last_turn = ++scheduler->turns;
  assignment.piece = index;
  assignment.member = best;
  assignment.requested_by = 0;
  assignment.n_requesters = 0;
  assignment.missed = FALSE;
  g_array_append_val (scheduler->assignments, assignment);
  if (forwarder != NULL)
    *forwarder = best->id;
  return HANGOUT_PIECE_ASSIGN;
}

guint64
hangout_piece_scheduler_count_assigned (HangoutPieceScheduler *scheduler,
    const gchar *id)
{
  Member *member = find (scheduler, id, NULL);

  return member != NULL ? member->assigned : 0;
}

guint64
hangout_piece_scheduler_count_direct (HangoutPieceScheduler *scheduler)
{
  return scheduler->direct;
}

guint
hangout_piece_scheduler_count_outstanding (HangoutPieceScheduler *scheduler)
{
  return scheduler->assignments->len;
}
