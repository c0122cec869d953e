/* gst-hangout — file transfer, version 2 (docs/protocol.md §4): the wire
 * format.
 *
 * Pure logic, like the wire format of version 1 (transfer.h): parsers and
 * builders of the control messages (§4.1, §4.3) and of the binary
 * messages (§4.4), with every limit of §4.9 that a message shows by
 * itself. What needs a file's state (is this id offered, is the piece in
 * the window, does the sender belong to the swarm) is the caller's to
 * check. Control messages go through the strict JSON parser of json.h.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <glib.h>
#include <hangout/error.h>
#include <hangout/merkle.h>
#include <hangout/transfer.h>

G_BEGIN_DECLS

#define HANGOUT_TRANSFER2_VERSION 2

/* `piece-size`: HANGOUT_MERKLE_BLOCK_SIZE times a power of two, up to 1
 * MiB; `window`: a multiple of it, 2 pieces to 64 MiB (§4.9). The
 * defaults are gst-hangout's (§4.3). */
#define HANGOUT_TRANSFER2_MIN_PIECE_SIZE HANGOUT_MERKLE_BLOCK_SIZE
#define HANGOUT_TRANSFER2_MAX_PIECE_SIZE (1024 * 1024)
#define HANGOUT_TRANSFER2_DEFAULT_PIECE_SIZE 65536
#define HANGOUT_TRANSFER2_MIN_WINDOW_PIECES 2
#define HANGOUT_TRANSFER2_MAX_WINDOW (64 * 1024 * 1024)
#define HANGOUT_TRANSFER2_DEFAULT_WINDOW (8 * 1024 * 1024)
/* The reasons of the `reject` that answers an offer beyond those. */
#define HANGOUT_TRANSFER2_REASON_PIECE_SIZE "piece-size not supported"
#define HANGOUT_TRANSFER2_REASON_WINDOW "window not supported"

/* Ranges in one have, request or unavailable; a message with more is
 * ignored (§4.9). */
#define HANGOUT_TRANSFER2_MAX_RANGES 64
/* Members in one swarm: a room's largest size, not its current one, so
 * that no swarm is ignored because the receiver has not heard yet of a
 * member that just joined (hangout-server holds 32 members a room and 512
 * connections by default); a swarm with more is ignored. */
#define HANGOUT_TRANSFER2_MAX_SWARM 1024

/* A piece index, or the end of a range, is at most this: the pieces of
 * the largest file (2^63 − 1 bytes) in the smallest pieces. So a parsed
 * first + count never overflows. */
#define HANGOUT_TRANSFER2_MAX_PIECES (G_GUINT64_CONSTANT (1) << 49)
/* A proof has at most this many uncles: the depth of that file's tree
 * (hangout_merkle_depth (G_MAXINT64)). */
#define HANGOUT_TRANSFER2_MAX_PROOF 49

/* Binary messages (§4.4): the piece data header (kind, file id, role,
 * u64 offset) and the piece hashes header (kind, file id, u64 first,
 * u32 count). */
#define HANGOUT_TRANSFER2_PIECE_HEADER_SIZE 26
#define HANGOUT_TRANSFER2_HASHES_HEADER_SIZE 29
/* The smallest `chunk-size` of a version 2 offer: one hash fits, so the
 * sharer can send its hashes whatever the chunk size. */
#define HANGOUT_TRANSFER2_MIN_CHUNK_SIZE \
  (HANGOUT_TRANSFER2_HASHES_HEADER_SIZE + HANGOUT_MERKLE_HASH_SIZE)

/* ---- ranges of pieces ---- */

/* `[first, count]`: pieces first … first + count − 1, count ≥ 1. */
typedef struct {
  guint64 first;
  guint64 count;
} HangoutTransfer2Range;

/* A set of pieces as a GArray of HangoutTransfer2Range, ascending, not
 * overlapping: what have, request and unavailable carry. One a
 * receiver builds with _add is also merged (no two ranges touch). */
GArray *hangout_transfer2_ranges_new (void);
/* Adds pieces @first … @first + @count − 1 (@count ≥ 1, the end at most
 * HANGOUT_TRANSFER2_MAX_PIECES), merging them with the ranges they
 * overlap or touch. */
void hangout_transfer2_ranges_add (GArray *ranges, guint64 first,
    guint64 count);
gboolean hangout_transfer2_ranges_contains (GArray *ranges, guint64 piece);

/* ---- control messages ---- */

typedef enum {
  HANGOUT_TRANSFER2_UNKNOWN,    /* a type this version does not know: ignore */
  /* A message of version 1's form (§2.2): an offer of version 1, an end or
   * an ack without version 2, a reject, an abort. Parse it with
   * hangout_transfer_parse_control(); reject and abort serve files of
   * both versions, told apart by their id. */
  HANGOUT_TRANSFER2_VERSION1,
  HANGOUT_TRANSFER2_CAPABILITIES,
  HANGOUT_TRANSFER2_OFFER,
  HANGOUT_TRANSFER2_ACCEPT,
  HANGOUT_TRANSFER2_SWARM,
  HANGOUT_TRANSFER2_HAVE,
  HANGOUT_TRANSFER2_REQUEST,
  HANGOUT_TRANSFER2_UNAVAILABLE,
  HANGOUT_TRANSFER2_CORRUPT,
  HANGOUT_TRANSFER2_END,
  HANGOUT_TRANSFER2_ACK,
} HangoutTransfer2Type;

/* One control message. Strings and arrays are owned; which members are
 * set depends on the type (docs/protocol.md §4.3). */
typedef struct {
  HangoutTransfer2Type type;
  gchar *id;                    /* every type but capabilities: a file id */
  /* capabilities: bit v set for each version v listed (1 ≤ v ≤ 31; later
   * ones are left out: no one here speaks them) */
  guint32 versions;
  gchar *name;                  /* offer */
  gint64 size;                  /* offer (-1: null), end */
  gchar *mime;                  /* offer */
  guint chunk_size;             /* offer */
  guint piece_size;             /* offer, when supported */
  guint window;                 /* offer, when supported */
  /* offer: NULL, or the reason of the reject that answers it when its
   * piece-size or window is beyond §4.9's limits (everything else about it
   * is well-formed) */
  const gchar *unsupported;
  gchar *root;                  /* offer, ack (NULL: null); end */
  GStrv members;                /* swarm: signalling ids, no duplicate */
  guint64 next;                 /* have */
  GArray *pieces;               /* have (all at or after next), request,
                                 * unavailable: HangoutTransfer2Range */
  guint64 piece;                /* corrupt */
  gchar *from;                  /* corrupt: a signalling id */
  gboolean ok;                  /* ack */
} HangoutTransfer2Control;

void hangout_transfer2_control_clear (HangoutTransfer2Control *control);

/* Parses a control message of either version. Fails with
 * HANGOUT_ERROR_INVALID_MESSAGE (the message is to be ignored, §2.2) for
 * what is not a JSON object, has no string "type", misses a required
 * member or has one of the wrong kind or beyond a syntactic limit: an id,
 * root or signalling id not of its form, ranges not ascending, empty or
 * more than HANGOUT_TRANSFER2_MAX_RANGES, a swarm of more than
 * HANGOUT_TRANSFER2_MAX_SWARM, a version other than 1 or 2. An offer
 * whose piece-size or window alone is not supported parses, with
 * @control->unsupported set. Unknown types (HANGOUT_TRANSFER2_UNKNOWN)
 * and unknown members parse, so that the caller ignores them. */
gboolean hangout_transfer2_parse_control (const gchar *text, gsize len,
    HangoutTransfer2Control *control, GError **error);

/* @versions as in HangoutTransfer2Control. */
gchar *hangout_transfer2_build_capabilities (guint32 versions);
/* @size -1: not known (then @root must be NULL); @root NULL: null. */
gchar *hangout_transfer2_build_offer (const gchar *id, const gchar *name,
    gint64 size, const gchar *mime, guint chunk_size, guint piece_size,
    guint window, const gchar *root);
gchar *hangout_transfer2_build_accept (const gchar *id);
/* @members: NULL-terminated signalling ids. */
gchar *hangout_transfer2_build_swarm (const gchar *id,
    const gchar *const *members);
/* @pieces: a range set (at or after @next for have). Only its first
 * HANGOUT_TRANSFER2_MAX_RANGES ranges are written: a receiver ignores a
 * message with more, while announcing or asking for fewer pieces is safe
 * (the rest are asked for, or announced, later). */
gchar *hangout_transfer2_build_have (const gchar *id, guint64 next,
    GArray *pieces);
gchar *hangout_transfer2_build_request (const gchar *id, GArray *pieces);
gchar *hangout_transfer2_build_unavailable (const gchar *id, GArray *pieces);
gchar *hangout_transfer2_build_corrupt (const gchar *id, guint64 piece,
    const gchar *from);
gchar *hangout_transfer2_build_end (const gchar *id, guint64 size,
    const gchar *root);
/* @root NULL: null. */
gchar *hangout_transfer2_build_ack (const gchar *id, gboolean ok,
    const gchar *root);

/* ---- binary messages ---- */

typedef enum {
  HANGOUT_TRANSFER2_BINARY_DROP,        /* empty, or an unknown first byte */
  HANGOUT_TRANSFER2_BINARY_DATA,        /* 0x01: version 1 data, §2.3 */
  HANGOUT_TRANSFER2_BINARY_PIECE,       /* 0x02: piece data */
  HANGOUT_TRANSFER2_BINARY_HASHES,      /* 0x03: piece hashes */
} HangoutTransfer2BinaryKind;

/* The kind of a binary message, by its first byte. */
HangoutTransfer2BinaryKind hangout_transfer2_binary_kind (const guint8 *data,
    gsize len);

typedef enum {
  HANGOUT_TRANSFER2_ROLE_DIRECT,        /* from the sharer, to every member */
  HANGOUT_TRANSFER2_ROLE_ASSIGNED,      /* from the sharer: forward it */
  HANGOUT_TRANSFER2_ROLE_FORWARDED,     /* from a forwarder */
  HANGOUT_TRANSFER2_ROLE_REPAIR,        /* an answer to request */
} HangoutTransfer2Role;

/* Piece data, parsed: @payload points into the message. */
typedef struct {
  gchar id[2 * HANGOUT_TRANSFER_FILE_ID_SIZE + 1];
  HangoutTransfer2Role role;
  guint64 offset;
  const guint8 *payload;
  gsize payload_len;
} HangoutTransfer2Piece;

/* Fails with HANGOUT_ERROR_INVALID_MESSAGE for another first byte, a
 * message with no payload, a role beyond 3, a payload larger than a piece
 * can be (HANGOUT_TRANSFER2_MAX_PIECE_SIZE) or ending past 2^63 − 1. Its
 * length against the file's chunk-size is the caller's to check. */
gboolean hangout_transfer2_parse_piece (const guint8 *data, gsize len,
    HangoutTransfer2Piece *piece, GError **error);
GBytes *hangout_transfer2_build_piece (const gchar *id,
    HangoutTransfer2Role role, guint64 offset, const guint8 *payload,
    gsize len);

/* Piece hashes, parsed: @hashes (HANGOUT_MERKLE_HASH_SIZE · @count bytes)
 * and @proof (HANGOUT_MERKLE_HASH_SIZE · @proof_len bytes, bottom up;
 * @proof_len 0 when none) point into the message. */
typedef struct {
  gchar id[2 * HANGOUT_TRANSFER_FILE_ID_SIZE + 1];
  guint64 first;
  guint32 count;
  const guint8 *hashes;
  const guint8 *proof;
  guint proof_len;
} HangoutTransfer2Hashes;

/* Fails with HANGOUT_ERROR_INVALID_MESSAGE for another first byte, a
 * count of 0, fewer bytes than the count says, a proof whose length is
 * not a multiple of HANGOUT_MERKLE_HASH_SIZE or longer than
 * HANGOUT_TRANSFER2_MAX_PROOF hashes, or a run ending past
 * HANGOUT_TRANSFER2_MAX_PIECES. */
gboolean hangout_transfer2_parse_hashes (const guint8 *data, gsize len,
    HangoutTransfer2Hashes *hashes, GError **error);
/* @proof NULL when @proof_len is 0. */
GBytes *hangout_transfer2_build_hashes (const gchar *id, guint64 first,
    const guint8 *hashes, guint32 count, const guint8 *proof,
    guint proof_len);

G_END_DECLS
