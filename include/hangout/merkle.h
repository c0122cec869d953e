/* gst-hangout — a file's Merkle hash tree (docs/protocol.md §4.2, the
 * construction of BitTorrent v2, BEP 52): SHA-256 over 16 KiB leaves,
 * padded to a power of two with zero hashes. It lets a member verify a
 * piece that another member forwarded against the hashes its sharer sent,
 * before it outputs or forwards that piece.
 *
 * Levels count from the leaves (level 0, one hash per 16 KiB block) up to
 * the root (level hangout_merkle_depth()). Node i of level l covers blocks
 * i·2^l to (i+1)·2^l − 1; nodes past the end of the file are pad hashes
 * (level 0: 32 zero bytes; level l+1: SHA-256 of two pad hashes of level
 * l). A proof (the uncle hashes) for a node lists its sibling's hash at
 * its own level, then its parent's sibling's, up to the level below the
 * root. The hashes are GnuTLS's.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define HANGOUT_MERKLE_BLOCK_SIZE 16384
#define HANGOUT_MERKLE_HASH_SIZE 32

/* A tree built as a file's bytes arrive. Without its leaves it holds one
 * pending hash per level, O(log n) for any size; with them, 32 bytes per
 * 16 KiB block, and as much again once finished, when it builds every
 * level (what answers hangout_merkle_get_node() and _get_proof()). */
typedef struct _HangoutMerkle HangoutMerkle;

HangoutMerkle *hangout_merkle_new (gboolean keep_leaves);
void hangout_merkle_free (HangoutMerkle *merkle);

/* The next @len bytes of the file, in order, any length. */
void hangout_merkle_update (HangoutMerkle *merkle, gconstpointer data,
    gsize len);

/* The next @len bytes of the file as their node of level @level
 * (hangout_merkle_hash_piece()'s @hash): for whoever hashes each piece
 * anyway, the root without hashing the bytes a second time. Every call
 * of a tree gives one whole node of the same level (16 KiB · 2^@level
 * bytes), but the last, which may be shorter; @level is
 * hangout_merkle_piece_level() of the file's size, so a file smaller than
 * one piece is one node at the root's level. Not with
 * hangout_merkle_update() nor with the leaves kept. */
void hangout_merkle_update_node (HangoutMerkle *merkle, guint level,
    const guint8 hash[HANGOUT_MERKLE_HASH_SIZE], gsize len);

/* Ends the file: its last leaf may be short (hashed as it is, not padded
 * with zeros), and an empty file has one leaf, the hash of no bytes.
 * Writes the root; no update after it. */
void hangout_merkle_finish (HangoutMerkle *merkle,
    guint8 root[HANGOUT_MERKLE_HASH_SIZE]);

/* The bytes given so far. */
guint64 hangout_merkle_get_size (HangoutMerkle *merkle);

/* After finish, with the leaves kept: node @index of @level, a pad hash
 * past the end of the file. FALSE (and nothing written) when @level is
 * above the root or @index beyond the level's width. */
gboolean hangout_merkle_get_node (HangoutMerkle *merkle, guint level,
    guint64 index, guint8 hash[HANGOUT_MERKLE_HASH_SIZE]);

/* After finish, with the leaves kept: the uncle hashes of node @index of
 * @level, bottom up, depth − @level of them (@n_hashes), concatenated;
 * NULL when there is no such node in the file (a pad node included). */
guint8 *hangout_merkle_get_proof (HangoutMerkle *merkle, guint level,
    guint64 index, guint *n_hashes);

/* Levels above the leaves of a file of @size bytes: ⌈log2 (leaves)⌉, 0 for
 * a file of at most one block. */
guint hangout_merkle_depth (guint64 size);

/* The level whose nodes are pieces of @piece_size bytes (16 KiB times a
 * power of two): log2 (@piece_size / 16 KiB), or the root's level when
 * the whole file is smaller than one piece. */
guint hangout_merkle_piece_level (guint64 size, gsize piece_size);

/* The node of level @level that @len bytes (at most 16 KiB · 2^@level)
 * hash to: their leaves, padded with zero hashes to 2^@level. */
void hangout_merkle_hash_piece (guint level, gconstpointer data, gsize len,
    guint8 hash[HANGOUT_MERKLE_HASH_SIZE]);

/* The node of level @level + @height over @count consecutive nodes of
 * @level (1 ≤ @count ≤ 2^@height, an aligned run), padded with pad hashes
 * of @level: what a run of piece hashes is checked against the root by. */
void hangout_merkle_hash_nodes (guint level, const guint8 *hashes,
    guint64 count, guint height, guint8 hash[HANGOUT_MERKLE_HASH_SIZE]);

/* TRUE when node @index of @level, @hash, and the @n_proof uncle hashes of
 * @proof lead to @root in the tree of a file of @size bytes; FALSE when
 * they do not, when @n_proof is not depth − @level, or when the node is
 * not in the file (beyond its last block). */
gboolean hangout_merkle_verify (const guint8 root[HANGOUT_MERKLE_HASH_SIZE],
    guint64 size, guint level, guint64 index,
    const guint8 hash[HANGOUT_MERKLE_HASH_SIZE], const guint8 *proof,
    guint n_proof);

/* TRUE when @data is piece @index of a file of @size bytes cut in pieces
 * of @piece_size: @len is that piece's length (@piece_size, less for the
 * last piece) and its hash leads to @root with @proof. */
gboolean hangout_merkle_verify_piece (
    const guint8 root[HANGOUT_MERKLE_HASH_SIZE], guint64 size,
    gsize piece_size, guint64 index, gconstpointer data, gsize len,
    const guint8 *proof, guint n_proof);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (HangoutMerkle, hangout_merkle_free)

G_END_DECLS
