/* gst-hangout — a file's Merkle hash tree (merkle.h, docs/protocol.md
 * §4.2). SHA-256 is GnuTLS's; what is built here is only the tree's shape
 * of BEP 52: 16 KiB leaves, pairs hashed left then right, zero hashes past
 * the end of the file.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#include <hangout/merkle.h>

#include "debug-private.h"

#include <gnutls/gnutls.h>
#include <gnutls/crypto.h>
#include <string.h>

#define GST_CAT_DEFAULT hangout_debug_merkle

#define HASH HANGOUT_MERKLE_HASH_SIZE
/* 2^64 bytes are 2^50 leaves: 51 levels, the root's included. */
#define MAX_LEVELS 64

struct _HangoutMerkle {
  guint64 size;
  gboolean finished;
  /* The leaf being gathered, when the bytes given end inside one. */
  guint8 block[HANGOUT_MERKLE_BLOCK_SIZE];
  gsize block_fill;
  /* The left half waiting for its right sibling at each level: bit l of
   * pending_mask says pending[l] holds one (a binary counter of leaves). */
  guint8 pending[MAX_LEVELS][HASH];
  guint64 pending_mask;
  guint64 n_leaves;
  /* With the leaves kept: levels[0] the leaves; once finished, every level
   * up to the root. */
  GArray *levels[MAX_LEVELS];
  guint depth;
};

static void
sha256 (gconstpointer data, gsize len, guint8 out[HASH])
{
  /* Fails only when GnuTLS has no SHA-256: not something to go on
   * without. */
  if (gnutls_hash_fast (GNUTLS_DIG_SHA256, data, len, out) < 0)
    g_error ("GnuTLS has no SHA-256");
}

static void
hash_pair (const guint8 left[HASH], const guint8 right[HASH], guint8 out[HASH])
{
  guint8 pair[2 * HASH];

  memcpy (pair, left, HASH);
  memcpy (pair + HASH, right, HASH);
  sha256 (pair, sizeof pair, out);
}

/* The hash of a subtree of @level that lies wholly past the end of the
 * file. */
static const guint8 *
pad_hash (guint level)
{
  static guint8 pads[MAX_LEVELS][HASH];
  static gsize done = 0;

  if (g_once_init_enter (&done)) {
    memset (pads[0], 0, HASH);
    for (guint l = 1; l < MAX_LEVELS; l++)
      hash_pair (pads[l - 1], pads[l - 1], pads[l]);
    g_once_init_leave (&done, 1);
  }
  return pads[level];
}

static guint
ceil_log2 (guint64 n)
{
  guint bits = 0;

  while (bits < 64 && ((guint64) 1 << bits) < n)
    bits++;
  return bits;
}

static guint64
leaves_of (guint64 size)
{
  return size == 0 ? 1 : (size - 1) / HANGOUT_MERKLE_BLOCK_SIZE + 1;
}

/* Nodes of @level that cover some of the file's @n_leaves. */
static guint64
width_of (guint64 n_leaves, guint level)
{
  return ((n_leaves - 1) >> level) + 1;
}

guint
hangout_merkle_depth (guint64 size)
{
  return ceil_log2 (leaves_of (size));
}

guint
hangout_merkle_piece_level (guint64 size, gsize piece_size)
{
  guint level;

  g_return_val_if_fail (piece_size >= HANGOUT_MERKLE_BLOCK_SIZE
      && piece_size % HANGOUT_MERKLE_BLOCK_SIZE == 0, 0);
  g_return_val_if_fail ((piece_size & (piece_size - 1)) == 0, 0);
  level = ceil_log2 (piece_size / HANGOUT_MERKLE_BLOCK_SIZE);
  return MIN (level, hangout_merkle_depth (size));
}

HangoutMerkle *
hangout_merkle_new (gboolean keep_leaves)
{
  HangoutMerkle *merkle = g_new0 (HangoutMerkle, 1);

  hangout_debug_init ();
  if (keep_leaves)
    merkle->levels[0] = g_array_new (FALSE, FALSE, HASH);
  return merkle;
}

void
hangout_merkle_free (HangoutMerkle *merkle)
{
  if (merkle == NULL)
    return;
  for (guint l = 0; l < MAX_LEVELS; l++) {
    if (merkle->levels[l] != NULL)
      g_array_unref (merkle->levels[l]);
  }
  g_free (merkle);
}

/* @node of @level, the next of the file: carried up while the level
 * already holds a left half. The bound only tells the compiler what sizes
 * already do: 2^64 bytes stop at level 50. */
static void
add_node (HangoutMerkle *merkle, guint level, const guint8 hash[HASH])
{
  guint8 node[HASH];

  memcpy (node, hash, HASH);
  while (level + 1 < MAX_LEVELS
      && (merkle->pending_mask & ((guint64) 1 << level))) {
    hash_pair (merkle->pending[level], node, node);
    merkle->pending_mask &= ~((guint64) 1 << level);
    level++;
  }
  memcpy (merkle->pending[level], node, HASH);
  merkle->pending_mask |= (guint64) 1 << level;
}

static void
add_leaf (HangoutMerkle *merkle, gconstpointer data, gsize len)
{
  guint8 node[HASH];

  sha256 (data, len, node);
  if (merkle->levels[0] != NULL)
    g_array_append_vals (merkle->levels[0], node, 1);
  add_node (merkle, 0, node);
  merkle->n_leaves++;
}

void
hangout_merkle_update (HangoutMerkle *merkle, gconstpointer data, gsize len)
{
  const guint8 *bytes = data;

  g_return_if_fail (merkle != NULL && !merkle->finished);
  g_return_if_fail (data != NULL || len == 0);
  if (len == 0)
    return;
  merkle->size += len;
  if (merkle->block_fill > 0) {
    gsize take = MIN (len, sizeof merkle->block - merkle->block_fill);

    memcpy (merkle->block + merkle->block_fill, bytes, take);
    merkle->block_fill += take;
    bytes += take;
    len -= take;
    if (merkle->block_fill < sizeof merkle->block)
      return;
    add_leaf (merkle, merkle->block, sizeof merkle->block);
    merkle->block_fill = 0;
  }
  /* Whole blocks straight from the caller's bytes, without a copy. */
  while (len >= HANGOUT_MERKLE_BLOCK_SIZE) {
    add_leaf (merkle, bytes, HANGOUT_MERKLE_BLOCK_SIZE);
    bytes += HANGOUT_MERKLE_BLOCK_SIZE;
    len -= HANGOUT_MERKLE_BLOCK_SIZE;
  }
  memcpy (merkle->block, bytes, len);
  merkle->block_fill = len;
}

void
hangout_merkle_update_node (HangoutMerkle *merkle, guint level,
    const guint8 hash[HASH], gsize len)
{
  guint64 whole;

  g_return_if_fail (merkle != NULL && !merkle->finished);
  g_return_if_fail (merkle->levels[0] == NULL && merkle->block_fill == 0);
  g_return_if_fail (level < MAX_LEVELS - 1 && len > 0);
  whole = (guint64) HANGOUT_MERKLE_BLOCK_SIZE << level;
  /* Aligned: only whole nodes of this level came before. */
  g_return_if_fail (len <= whole && merkle->size % whole == 0);
  merkle->size += len;
  merkle->n_leaves += (len - 1) / HANGOUT_MERKLE_BLOCK_SIZE + 1;
  add_node (merkle, level, hash);
}

/* Every level above the leaves, once the last leaf is in. */
static void
build_levels (HangoutMerkle *merkle)
{
  for (guint l = 0; l < merkle->depth; l++) {
    GArray *below = merkle->levels[l];
    guint64 width = width_of (merkle->n_leaves, l + 1);
    GArray *above = g_array_sized_new (FALSE, FALSE, HASH, (guint) width);

    for (guint64 i = 0; i < width; i++) {
      const guint8 *left = &g_array_index (below, guint8, 2 * i * HASH);
      const guint8 *right = 2 * i + 1 < below->len
          ? &g_array_index (below, guint8, (2 * i + 1) * HASH) : pad_hash (l);
      guint8 node[HASH];

      hash_pair (left, right, node);
      g_array_append_vals (above, node, 1);
    }
    merkle->levels[l + 1] = above;
  }
}

void
hangout_merkle_finish (HangoutMerkle *merkle, guint8 root[HASH])
{
  guint8 carry[HASH];
  gboolean have_carry = FALSE;

  g_return_if_fail (merkle != NULL && !merkle->finished);
  /* The short last leaf, or the empty file's one leaf. */
  if (merkle->block_fill > 0 || merkle->n_leaves == 0)
    add_leaf (merkle, merkle->block, merkle->block_fill);
  merkle->finished = TRUE;
  merkle->depth = ceil_log2 (merkle->n_leaves);
  /* Fold the pending left halves from the bottom: a level without one
   * takes the pad hash as the right sibling of what comes up. */
  for (guint l = 0; l < merkle->depth; l++) {
    gboolean present = (merkle->pending_mask >> l) & 1;

    if (present && have_carry)
      hash_pair (merkle->pending[l], carry, carry);
    else if (present)
      hash_pair (merkle->pending[l], pad_hash (l), carry);
    else if (have_carry)
      hash_pair (carry, pad_hash (l), carry);
    have_carry = have_carry || present;
  }
  /* A power of two of leaves ends as one pending node at the root. */
  memcpy (root, have_carry ? carry : merkle->pending[merkle->depth], HASH);
  if (merkle->levels[0] != NULL)
    build_levels (merkle);
}

guint64
hangout_merkle_get_size (HangoutMerkle *merkle)
{
  g_return_val_if_fail (merkle != NULL, 0);
  return merkle->size;
}

gboolean
hangout_merkle_get_node (HangoutMerkle *merkle, guint level, guint64 index,
    guint8 hash[HASH])
{
  GArray *nodes;

  g_return_val_if_fail (merkle != NULL && merkle->finished, FALSE);
  g_return_val_if_fail (merkle->levels[0] != NULL, FALSE);
  if (level > merkle->depth
      || index >= (guint64) 1 << (merkle->depth - level))
    return FALSE;
  nodes = merkle->levels[level];
  memcpy (hash, index < nodes->len
      ? &g_array_index (nodes, guint8, index * HASH) : pad_hash (level), HASH);
  return TRUE;
}

guint8 *
hangout_merkle_get_proof (HangoutMerkle *merkle, guint level, guint64 index,
    guint *n_hashes)
{
  guint8 *proof;

  g_return_val_if_fail (merkle != NULL && merkle->finished, NULL);
  g_return_val_if_fail (merkle->levels[0] != NULL, NULL);
  g_return_val_if_fail (n_hashes != NULL, NULL);
  if (level > merkle->depth || index >= merkle->levels[level]->len)
    return NULL;
  *n_hashes = merkle->depth - level;
  proof = g_malloc (MAX (*n_hashes, 1) * HASH);
  for (guint l = level; l < merkle->depth; l++, index >>= 1)
    hangout_merkle_get_node (merkle, l, index ^ 1, proof + (l - level) * HASH);
  return proof;
}

void
hangout_merkle_hash_nodes (guint level, const guint8 *hashes, guint64 count,
    guint height, guint8 hash[HASH])
{
  g_autofree guint8 *row = NULL;

  g_return_if_fail (level + height < MAX_LEVELS);
  g_return_if_fail (count >= 1 && count <= (guint64) 1 << height);
  row = g_memdup2 (hashes, count * HASH);
  /* Pair in place, one level at a time. */
  for (guint l = level; l < level + height; l++) {
    guint64 above = (count + 1) / 2;

    for (guint64 i = 0; i < above; i++)
      hash_pair (row + 2 * i * HASH,
          2 * i + 1 < count ? row + (2 * i + 1) * HASH : pad_hash (l),
          row + i * HASH);
    count = above;
  }
  memcpy (hash, row, HASH);
}

void
hangout_merkle_hash_piece (guint level, gconstpointer data, gsize len,
    guint8 hash[HASH])
{
  const guint8 *bytes = data;
  guint64 n_leaves = leaves_of (len);
  g_autofree guint8 *leaves = NULL;

  g_return_if_fail (level < MAX_LEVELS);
  g_return_if_fail (n_leaves <= (guint64) 1 << level);
  leaves = g_malloc (n_leaves * HASH);
  for (guint64 i = 0; i < n_leaves; i++) {
    gsize offset = i * HANGOUT_MERKLE_BLOCK_SIZE;

    sha256 (bytes + offset, MIN (len - offset, HANGOUT_MERKLE_BLOCK_SIZE),
        leaves + i * HASH);
  }
  hangout_merkle_hash_nodes (0, leaves, n_leaves, level, hash);
}

gboolean
hangout_merkle_verify (const guint8 root[HASH], guint64 size, guint level,
    guint64 index, const guint8 hash[HASH], const guint8 *proof,
    guint n_proof)
{
  guint depth = hangout_merkle_depth (size);
  guint64 position = index;
  guint8 node[HASH];

  hangout_debug_init ();
  if (level > depth || n_proof != depth - level) {
    GST_DEBUG ("a proof for level %u of a tree of depth %u needs %u "
        "hashes, not %u", level, depth, level > depth ? 0 : depth - level,
        n_proof);
    return FALSE;
  }
  if (index >= width_of (leaves_of (size), level)) {
    GST_DEBUG ("node %" G_GUINT64_FORMAT " of level %u is past the end of "
        "a %" G_GUINT64_FORMAT "-byte file", index, level, size);
    return FALSE;
  }
  memcpy (node, hash, HASH);
  /* The index's bits say, level by level, on which side the node is. */
  for (guint i = 0; i < n_proof; i++, position >>= 1) {
    const guint8 *uncle = proof + i * HASH;

    if (position & 1)
      hash_pair (uncle, node, node);
    else
      hash_pair (node, uncle, node);
  }
  if (memcmp (node, root, HASH) != 0) {
    GST_DEBUG ("node %" G_GUINT64_FORMAT " of level %u does not lead to "
        "the root", index, level);
    return FALSE;
  }
  return TRUE;
}

gboolean
hangout_merkle_verify_piece (const guint8 root[HASH], guint64 size,
    gsize piece_size, guint64 index, gconstpointer data, gsize len,
    const guint8 *proof, guint n_proof)
{
  guint level;
  guint64 span, offset;
  guint8 hash[HASH];

  hangout_debug_init ();
  if (piece_size < HANGOUT_MERKLE_BLOCK_SIZE
      || piece_size % HANGOUT_MERKLE_BLOCK_SIZE != 0
      || (piece_size & (piece_size - 1)) != 0) {
    GST_DEBUG ("%" G_GSIZE_FORMAT " bytes is no piece size", piece_size);
    return FALSE;
  }
  /* When the file is smaller than one piece, its one piece is the file. */
  level = hangout_merkle_piece_level (size, piece_size);
  span = (guint64) HANGOUT_MERKLE_BLOCK_SIZE << level;
  if (size == 0 || index >= (size - 1) / span + 1) {
    GST_DEBUG ("a %" G_GUINT64_FORMAT "-byte file has no piece %"
        G_GUINT64_FORMAT, size, index);
    return FALSE;
  }
  offset = index * span;
  if (len != MIN (span, size - offset)) {
    GST_DEBUG ("piece %" G_GUINT64_FORMAT " has %" G_GUINT64_FORMAT
        " bytes, not %" G_GSIZE_FORMAT, index, MIN (span, size - offset), len);
    return FALSE;
  }
  hangout_merkle_hash_piece (level, data, len, hash);
  return hangout_merkle_verify (root, size, level, index, hash, proof,
      n_proof);
}
