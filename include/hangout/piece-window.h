/* gst-hangout — the receive state of one file in transfer version 2
 * (docs/protocol.md §4.4, §4.6, §4.7): a version 2 receiver's reorder
 * window of pieces, their verification against the sharer's piece hashes,
 * output in order with the file's root built on the way, `have`, and the
 * pieces to `request` for repair.
 *
 * Pure logic, like the version 1 receiver of transfer.h: no I/O, no
 * threads, no clock. The caller parses the messages (the wire format is
 * not this layer's), passes their fields and the time (monotonic µs), and
 * acts on what each call returns: it forwards the pieces it is told to,
 * sends `corrupt`, `request` and `have`, pushes the output downstream and
 * answers `ack`. Not thread-safe: used under its owner's lock.
 *
 * Memory bound. A window holds at most `window` bytes of piece data,
 * however large the file and however many members send to it:
 * - it holds only pieces of its window, the `window` / `piece-size`
 *   pieces from `next` on; data of any other piece is dropped unread;
 * - each piece of the window has one slot, which holds at most one buffer
 *   of at most `piece-size` bytes: the piece being assembled (from one
 *   member; data from any other member for it is a duplicate and dropped),
 *   then the whole piece until it is output;
 * - so the buffers add up to at most (`window` / `piece-size`) ·
 *   `piece-size` = `window` bytes (hangout_piece_window_get_bytes_held()).
 * Beside them it holds the hashes of the window's pieces (32 bytes each,
 * in the slots: hashes of pieces outside the window are dropped), a few
 * words per member that sent it data (until hangout_piece_window_member_left()),
 * and the root being built (O(log n), merkle.h). The pieces it gives the
 * caller (to output, to forward) are the caller's from then on.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <glib.h>
#include <hangout/error.h>
#include <hangout/merkle.h>

G_BEGIN_DECLS

/* Limits of the offer (docs/protocol.md §4.3, §4.9). */
#define HANGOUT_PIECE_WINDOW_MAX_PIECE_SIZE (1024 * 1024)
#define HANGOUT_PIECE_WINDOW_MAX_WINDOW (64 * 1024 * 1024)
/* Corrupt pieces from one member after which its data are dropped. */
#define HANGOUT_PIECE_WINDOW_MAX_CORRUPT 3
/* A piece missing while a later one is held verified for the repair
 * delay, or the least of it after `end`, is requested (§4.7). The delay follows
 * how late forwarded pieces come (their data after their hash), as
 * TCP's retransmission timeout follows the round trip (RFC 6298:
 * smoothed lag + 4 × its variation), within these bounds: a forwarder's
 * own upload queue can hold its forwards for seconds, and asking the
 * sharer for each such piece would send it twice. */
#define HANGOUT_PIECE_WINDOW_REPAIR_DELAY_MIN_US G_USEC_PER_SEC
#define HANGOUT_PIECE_WINDOW_REPAIR_DELAY_MAX_US (8 * G_USEC_PER_SEC)
/* A piece requested is not requested again before this: the answer queues
 * at the sharer behind what it is sending us already (up to its
 * assignment window of 2 pieces and the repairs others asked for), so
 * asking again sooner would mostly fetch the piece twice. */
#define HANGOUT_PIECE_WINDOW_RETRY_US (3 * G_USEC_PER_SEC)
/* Ranges in one `have` or `request` (§4.9). */
#define HANGOUT_PIECE_WINDOW_MAX_RANGES 64

/* A piece data message's role (§4.4), the values of the wire's byte. */
typedef enum {
  HANGOUT_PIECE_WINDOW_ROLE_DIRECT = 0,
  HANGOUT_PIECE_WINDOW_ROLE_ASSIGNED = 1,
  HANGOUT_PIECE_WINDOW_ROLE_FORWARDED = 2,
  HANGOUT_PIECE_WINDOW_ROLE_REPAIR = 3,
} HangoutPieceWindowRole;

typedef enum {
  HANGOUT_PIECE_WINDOW_RECEIVING,
  HANGOUT_PIECE_WINDOW_COMPLETE,        /* every piece output, root equal */
  HANGOUT_PIECE_WINDOW_FAILED,          /* for good: the file is lost */
} HangoutPieceWindowState;

typedef enum {
  /* @piece is whole and verified: it may be output and announced; when
   * @forward is set (role assigned) the caller sends it as `forwarded` to
   * every member of the swarm but itself. */
  HANGOUT_PIECE_EVENT_VERIFIED,
  /* @piece from @member failed its hash and was dropped: send `corrupt`
   * naming both; the next hangout_piece_window_repair() requests it.
   * @excluded: that was @member's HANGOUT_PIECE_WINDOW_MAX_CORRUPT-th, its
   * data for the file are dropped from now on. */
  HANGOUT_PIECE_EVENT_CORRUPT,
  /* A message dropped (not a failure of the file): @reason says why, for
   * the debug log; @piece is the piece it was for, when it names one. */
  HANGOUT_PIECE_EVENT_DROPPED,
  /* The file failed (@error says why): every later call drops what it is
   * given; the caller answers `ack` with ok false. */
  HANGOUT_PIECE_EVENT_FAILED,
} HangoutPieceEventType;

typedef struct {
  HangoutPieceEventType type;
  guint64 piece;
  gchar *member;                /* VERIFIED, CORRUPT, DROPPED: who sent it */
  GBytes *forward;              /* VERIFIED: the piece to forward, or NULL */
  gboolean excluded;            /* CORRUPT */
  const gchar *reason;          /* DROPPED: static text */
  GError *error;                /* FAILED */
} HangoutPieceEvent;

/* A range of pieces of `have`, `request` and `unavailable`. */
typedef struct {
  guint64 first;
  guint64 count;
} HangoutPieceRange;

typedef struct _HangoutPieceWindow HangoutPieceWindow;

/* The receive state of a file of @size bytes (-1: not known until `end`)
 * in pieces of @piece_size bytes with a window of @window bytes, offered
 * by @sharer. Fails (NULL, HANGOUT_ERROR_INVALID_MESSAGE, the reject
 * reason of §4.9 as its message) for a piece size that is not 16384 times
 * a power of two up to 1 MiB, or a window that is not a multiple of it,
 * from 2 pieces to 64 MiB. */
HangoutPieceWindow *hangout_piece_window_new (gint64 size, gsize piece_size,
    gsize window, const gchar *sharer, GError **error);
void hangout_piece_window_free (HangoutPieceWindow *window);

/* ---- what arrives: each call returns what happened, a
 * HangoutPieceEvent per outcome, in order (transfer full, possibly
 * empty; freeing the array clears them). ---- */

/* A piece data message from @member: its @role, the byte @offset of its
 * @len bytes of @payload in the file, at time @now_us. §4.4's rules: the
 * bytes lie within one piece; a member's messages assemble one piece at a
 * time from its first byte, and one that does not continue it drops it
 * (in a file of unknown size, the start of a new piece ends it instead:
 * it may be the last); direct and assigned only from the sharer, no other
 * role; duplicates (a piece output, held or being assembled from another
 * member) and pieces beyond the window are dropped, as is everything from
 * a member after its HANGOUT_PIECE_WINDOW_MAX_CORRUPT-th corrupt piece. A
 * piece made whole is verified once its hash is known (at once, or by the
 * hashes call that brings it); in a file of unknown size a piece shorter
 * than a whole one waits for `end`, which says whether it is the last. A
 * corrupt piece from the sharer fails the file: the authority contradicts
 * itself. */
GArray *hangout_piece_window_data (HangoutPieceWindow *window,
    const gchar *member, HangoutPieceWindowRole role, guint64 offset,
    const guint8 *payload, gsize len, gint64 now_us);

/* A run of piece hashes from @member: pieces @first to @first + @count − 1,
 * @hashes 32 bytes each. Only the sharer's are taken (runs with a proof,
 * from other members, serve late joiners and are not read here); hashes
 * of pieces outside the window are dropped, and a piece's hash is kept as
 * it first came. Verifies the whole pieces that waited for them. */
GArray *hangout_piece_window_hashes (HangoutPieceWindow *window,
    const gchar *member, guint64 first, guint64 count, const guint8 *hashes,
    gint64 now_us);

/* `end` from the sharer: the file's @size and @root. A file of unknown
 * size now knows its last piece (verified here if whole and its hash
 * known); a size other than the offer's fails the file. Once every piece
 * is output, the file is complete if its root is @root and failed if not
 * (here when they all were output already, else by the pop that outputs
 * the last). */
GArray *hangout_piece_window_end (HangoutPieceWindow *window, guint64 size,
    const guint8 root[HANGOUT_MERKLE_HASH_SIZE], gint64 now_us);

/* ---- output in order ---- */

/* The next piece, once verified (transfer full), advancing `next` and the
 * root; NULL when it is not there yet (or the file is over). The pop that
 * outputs the last piece after `end` completes or fails the file
 * (hangout_piece_window_get_state()). */
GBytes *hangout_piece_window_pop (HangoutPieceWindow *window);

/* RECEIVING, COMPLETE or FAILED, with @error (if not NULL) set to why it
 * failed. Never COMPLETE with a piece missing or unverified: every piece
 * has passed its hash and been output, and the root of the bytes output
 * equals `end`'s. */
HangoutPieceWindowState hangout_piece_window_get_state
    (HangoutPieceWindow *window, GError **error);

/* The root of the bytes output, once every piece was output after `end`
 * (for `ack`, whether ok or not); FALSE (nothing written) before. */
gboolean hangout_piece_window_get_root (HangoutPieceWindow *window,
    guint8 root[HANGOUT_MERKLE_HASH_SIZE]);

/* The first piece not output. */
guint64 hangout_piece_window_get_next (HangoutPieceWindow *window);

/* Bytes of piece data held (buffers of pieces being assembled, whole or
 * verified): at most the window (see the top of this file). */
gsize hangout_piece_window_get_bytes_held (HangoutPieceWindow *window);

/* ---- have ---- */

/* TRUE when a `have` is due: `next` has moved by a quarter of the window
 * since the last hangout_piece_window_build_have(), or the file is
 * complete and the last `have` did not say so. */
gboolean hangout_piece_window_have_due (HangoutPieceWindow *window);

/* A `have`: writes @next and returns the ranges of verified pieces held
 * from @next on (HangoutPieceRange, at most HANGOUT_PIECE_WINDOW_MAX_RANGES,
 * the nearest ones; transfer full), and remembers @next for
 * hangout_piece_window_have_due(). */
GArray *hangout_piece_window_build_have (HangoutPieceWindow *window,
    guint64 *next);

/* ---- repair ---- */

/* The pieces to `request` from the sharer at @now_us (HangoutPieceRange,
 * at most HANGOUT_PIECE_WINDOW_MAX_RANGES, possibly empty; transfer full):
 * those of the window that are missing while a later piece has been held
 * verified for the repair delay (hangout_piece_window_get_repair_delay ()),
 * those reported corrupt, and after `end` every missing piece from
 * HANGOUT_PIECE_WINDOW_REPAIR_DELAY_MIN_US after it.
 * A piece is missing when it is not whole and the sharer itself is not
 * sending it; what another member had sent of it is dropped, so that the
 * sharer's `repair` is not a duplicate. No piece is returned again before
 * HANGOUT_PIECE_WINDOW_RETRY_US. The caller calls it from a timer (a few
 * times a second) and after a CORRUPT event. */
GArray *hangout_piece_window_repair (HangoutPieceWindow *window,
    gint64 now_us);
/* The repair delay now, in µs: HANGOUT_PIECE_WINDOW_REPAIR_DELAY_MIN_US
 * until forwarded pieces were seen to come later than that. */
gint64 hangout_piece_window_get_repair_delay (HangoutPieceWindow *window);

/* @member left at @now_us: what it had sent of a piece is dropped, and the
 * pieces to request at once are returned as by
 * hangout_piece_window_repair(), every missing piece of the window that
 * the sharer has sent the hash of, or that lies before a piece held (the
 * pieces assigned to @member may never come). The sharer leaving before
 * `end` fails the file: no one else can vouch for the pieces (an empty
 * array then). */
GArray *hangout_piece_window_member_left (HangoutPieceWindow *window,
    const gchar *member, gint64 now_us);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (HangoutPieceWindow, hangout_piece_window_free)

G_END_DECLS
