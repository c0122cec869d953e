/* gst-hangout — a file's Merkle hash tree (gst/libhangout/merkle.c) against
 * vectors computed apart from it: tests/unit/merkle-vectors.py, hashlib
 * alone (`python3 tests/unit/merkle-vectors.py --c` prints them; the same
 * ones are in docs/protocol.md §4.11). The test file's byte i is i mod 251.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#include <gst/check/gstcheck.h>
#include <hangout/merkle.h>
#include <string.h>

#define HASH HANGOUT_MERKLE_HASH_SIZE

static const struct {
  guint64 size;
  const gchar *root;
} roots[] = {
  { 0, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855" },
  { 1000, "4e4c294b331f7a2099a379bec34b9f9fc03dc46ab465d998f4d683da53487e6d" },
  { 16384, "4348e3b98e8a327b34ced39c1da9e67cdb4cd5e48e4d7960607a3ae403d35f0c" },
  { 49152, "c23d35ec942288a7d9b58d1d0446a76104660b7c72e5cf39f38bddb028ff8ca0" },
  { 65536, "2d6b546231225a7132a38ab354f03e9132e4b9141da89f1784b71ab2fb34fae3" },
  { 70000, "83deabd1fe1301daff7f0f151ac57676bb0de039ffc91faa63b02a3e0105bcd8" },
  { 1048576, "cedf940612ac628d0e1eb980ad20f8cc17ea41c89b5f50e0afec0e1cc5c2d997" },
};

/* 70000 bytes (five leaves, the last one of 4464 bytes) in 32 KiB pieces:
 * level 1, three pieces, the last one padded with a zero leaf. */
#define PIECE_FILE 70000
#define PIECE_SIZE 32768
#define PIECE_LEVEL 1
#define PIECE0_HASH "d9e13d0b676ad681164ef0b7b5910d1328ea83a047cad57e619d76bbe3a08525"
#define PIECE0_PROOF "e28097eaaa55956702cf8195d1a551dbabb63e3d679b294cf33d506a6b5ef479" \
    "3912333f9b459d117a9e76e40388ac61e0c62dfa126a82f48a672d066e42e472"
#define PIECE1_HASH "e28097eaaa55956702cf8195d1a551dbabb63e3d679b294cf33d506a6b5ef479"
#define PIECE1_PROOF "d9e13d0b676ad681164ef0b7b5910d1328ea83a047cad57e619d76bbe3a08525" \
    "3912333f9b459d117a9e76e40388ac61e0c62dfa126a82f48a672d066e42e472"
#define PIECE2_HASH "94cbfbca59afe74836d2e7c6f1e12f31e47ed0d068f78a4e78b4197c4709099f"
#define PIECE2_PROOF "f5a5fd42d16a20302798ef6ed309979b43003d2320d9f0e8ea9831a92759fb4b" \
    "2d6b546231225a7132a38ab354f03e9132e4b9141da89f1784b71ab2fb34fae3"

static const gchar *piece_hashes[] = { PIECE0_HASH, PIECE1_HASH, PIECE2_HASH };
static const gchar *piece_proofs[] = { PIECE0_PROOF, PIECE1_PROOF,
  PIECE2_PROOF
};

static guint8 *
test_file (gsize size)
{
  guint8 *data = g_malloc (MAX (size, 1));

  for (gsize i = 0; i < size; i++)
    data[i] = (guint8) (i % 251);
  return data;
}

static gchar *
to_hex (const guint8 *bytes, gsize len)
{
  gchar *hex = g_new (gchar, 2 * len + 1);

  for (gsize i = 0; i < len; i++)
    g_snprintf (hex + 2 * i, 3, "%02x", bytes[i]);
  return hex;
}

static guint8 *
from_hex (const gchar *hex, gsize *len)
{
  gsize n = strlen (hex) / 2;
  guint8 *bytes = g_malloc (MAX (n, 1));

  for (gsize i = 0; i < n; i++)
    bytes[i] = (guint8) (g_ascii_xdigit_value (hex[2 * i]) << 4
        | g_ascii_xdigit_value (hex[2 * i + 1]));
  *len = n;
  return bytes;
}

/* The root of @size bytes of the test file, given @step bytes at a time
 * (0: all at once). */
static gchar *
root_of (gsize size, gsize step, gboolean keep_leaves)
{
  g_autofree guint8 *data = test_file (size);
  g_autoptr (HangoutMerkle) merkle = hangout_merkle_new (keep_leaves);
  guint8 root[HASH];

  for (gsize done = 0; done < size;) {
    gsize len = step == 0 ? size : MIN (step, size - done);

    hangout_merkle_update (merkle, data + done, len);
    done += len;
  }
  fail_unless_equals_uint64 (hangout_merkle_get_size (merkle), size);
  hangout_merkle_finish (merkle, root);
  return to_hex (root, sizeof root);
}

/* A finished tree of the test file with every level. */
static HangoutMerkle *
tree_of (gsize size, guint8 root[HASH])
{
  g_autofree guint8 *data = test_file (size);
  HangoutMerkle *merkle = hangout_merkle_new (TRUE);

  hangout_merkle_update (merkle, data, size);
  hangout_merkle_finish (merkle, root);
  return merkle;
}

GST_START_TEST (test_roots)
{
  /* However the bytes arrive: one at a time, across block boundaries, or
   * in blocks and a half. */
  static const gsize steps[] = { 0, 1, 1000, 16383, 16384, 16385, 24576 };

  for (guint i = 0; i < G_N_ELEMENTS (roots); i++) {
    for (guint s = 0; s < G_N_ELEMENTS (steps); s++) {
      g_autofree gchar *plain = NULL, *kept = NULL;

      if (steps[s] == 1 && roots[i].size > 70000)
        continue;
      plain = root_of (roots[i].size, steps[s], FALSE);
      kept = root_of (roots[i].size, steps[s], TRUE);
      fail_unless_equals_string (plain, roots[i].root);
      fail_unless_equals_string (kept, roots[i].root);
    }
  }
}

GST_END_TEST;

GST_START_TEST (test_depth)
{
  fail_unless_equals_int (hangout_merkle_depth (0), 0);
  fail_unless_equals_int (hangout_merkle_depth (16384), 0);
  fail_unless_equals_int (hangout_merkle_depth (16385), 1);
  fail_unless_equals_int (hangout_merkle_depth (49152), 2);
  fail_unless_equals_int (hangout_merkle_depth (70000), 3);
  fail_unless_equals_int (hangout_merkle_depth (1048576), 6);
  /* A file of 4 GiB: 2^18 leaves. */
  fail_unless_equals_int (hangout_merkle_depth (G_GUINT64_CONSTANT (1) << 32),
      18);
  fail_unless_equals_int (hangout_merkle_piece_level (70000, 32768), 1);
  fail_unless_equals_int (hangout_merkle_piece_level (1048576, 65536), 2);
  /* A file smaller than one piece is that piece: the root's level. */
  fail_unless_equals_int (hangout_merkle_piece_level (49152, 1048576), 2);
  fail_unless_equals_int (hangout_merkle_piece_level (1000, 65536), 0);
}

GST_END_TEST;

/* The empty file: one leaf, the hash of no bytes, and no piece to ask
 * for. */
GST_START_TEST (test_empty)
{
  guint8 root[HASH], node[HASH];
  g_autoptr (HangoutMerkle) merkle = tree_of (0, root);
  g_autofree gchar *hex = to_hex (root, sizeof root);
  guint n = 1;
  g_autofree guint8 *proof = hangout_merkle_get_proof (merkle, 0, 0, &n);

  fail_unless_equals_string (hex, roots[0].root);
  fail_unless (hangout_merkle_get_node (merkle, 0, 0, node));
  fail_unless (memcmp (node, root, HASH) == 0);
  fail_unless (proof != NULL);
  fail_unless_equals_int (n, 0);
  fail_if (hangout_merkle_verify_piece (root, 0, 16384, 0, "", 0, NULL, 0));
}

GST_END_TEST;

/* A file of one leaf is its own root: its piece needs no proof. */
GST_START_TEST (test_one_leaf)
{
  g_autofree guint8 *data = test_file (1000);
  guint8 root[HASH], digest[HASH];
  g_autoptr (HangoutMerkle) merkle = tree_of (1000, root);
  guint n = 1;
  g_autofree guint8 *proof = hangout_merkle_get_proof (merkle, 0, 0, &n);

  /* The root is the plain SHA-256 of the bytes. */
  hangout_merkle_hash_piece (0, data, 1000, digest);
  fail_unless (memcmp (digest, root, HASH) == 0);
  fail_unless_equals_int (n, 0);
  fail_unless (hangout_merkle_verify_piece (root, 1000, 16384, 0, data, 1000,
          proof, 0));
  /* Whatever the piece size, there is one piece: the file. */
  fail_unless (hangout_merkle_verify_piece (root, 1000, 1048576, 0, data,
          1000, proof, 0));
  fail_if (hangout_merkle_verify_piece (root, 1000, 16384, 0, data, 999,
          proof, 0));
  fail_if (hangout_merkle_verify_piece (root, 1000, 16384, 1, data, 1000,
          proof, 0));
  /* Nothing past the one leaf. */
  fail_if (hangout_merkle_get_node (merkle, 0, 1, digest));
  fail_if (hangout_merkle_get_node (merkle, 1, 0, digest));
}

GST_END_TEST;

/* 70000 bytes: five leaves, the last one short, padded to eight; the
 * pieces and proofs of the vectors, from the tree and checked back. */
GST_START_TEST (test_pieces)
{
  g_autofree guint8 *data = test_file (PIECE_FILE);
  guint8 root[HASH];
  g_autoptr (HangoutMerkle) merkle = tree_of (PIECE_FILE, root);
  guint level = hangout_merkle_piece_level (PIECE_FILE, PIECE_SIZE);

  fail_unless_equals_int (level, PIECE_LEVEL);
  for (guint i = 0; i < G_N_ELEMENTS (piece_hashes); i++) {
    gsize offset = i * PIECE_SIZE, len = MIN (PIECE_SIZE, PIECE_FILE - offset);
    guint8 node[HASH], hashed[HASH];
    g_autofree gchar *node_hex = NULL, *proof_hex = NULL;
    g_autofree guint8 *proof = NULL;
    guint n = 0;

    fail_unless (hangout_merkle_get_node (merkle, level, i, node));
    node_hex = to_hex (node, sizeof node);
    fail_unless_equals_string (node_hex, piece_hashes[i]);
    hangout_merkle_hash_piece (level, data + offset, len, hashed);
    fail_unless (memcmp (hashed, node, HASH) == 0);

    proof = hangout_merkle_get_proof (merkle, level, i, &n);
    fail_unless_equals_int (n, 2);
    proof_hex = to_hex (proof, n * HASH);
    fail_unless_equals_string (proof_hex, piece_proofs[i]);
    fail_unless (hangout_merkle_verify_piece (root, PIECE_FILE, PIECE_SIZE, i,
            data + offset, len, proof, n));
  }
  /* The fourth node of the level is a pad, not a piece. */
  {
    guint8 pad[HASH];
    guint n;

    fail_unless (hangout_merkle_get_node (merkle, level, 3, pad));
    fail_unless (hangout_merkle_get_proof (merkle, level, 3, &n) == NULL);
  }
}

GST_END_TEST;

/* The root from the hashes of the pieces, as a sharer that hashes each
 * piece anyway builds it: the vectors' roots, for pieces of one block, of
 * 32 KiB and of 1 MiB (files smaller than one piece included), and for
 * the empty file, which has no piece. */
GST_START_TEST (test_root_from_pieces)
{
  static const gsize piece_sizes[] = { 16384, 32768, 1048576 };

  for (guint i = 0; i < G_N_ELEMENTS (roots); i++) {
    g_autofree guint8 *data = test_file (roots[i].size);

    for (guint p = 0; p < G_N_ELEMENTS (piece_sizes); p++) {
      g_autoptr (HangoutMerkle) merkle = hangout_merkle_new (FALSE);
      guint level = hangout_merkle_piece_level (roots[i].size,
          piece_sizes[p]);
      g_autofree gchar *hex = NULL;
      guint8 root[HASH];

      for (gsize offset = 0; offset < roots[i].size;
          offset += piece_sizes[p]) {
        gsize len = MIN (piece_sizes[p], roots[i].size - offset);
        guint8 hash[HASH];

        hangout_merkle_hash_piece (level, data + offset, len, hash);
        hangout_merkle_update_node (merkle, level, hash, len);
      }
      fail_unless_equals_uint64 (hangout_merkle_get_size (merkle),
          roots[i].size);
      hangout_merkle_finish (merkle, root);
      hex = to_hex (root, sizeof root);
      fail_unless (g_str_equal (hex, roots[i].root), "%" G_GUINT64_FORMAT
          " bytes in pieces of %" G_GSIZE_FORMAT ": root %s, not %s",
          roots[i].size, piece_sizes[p], hex, roots[i].root);
    }
  }
}

GST_END_TEST;

/* What a receiver must refuse: a changed byte of the piece or of the
 * proof, a proof for another index, a piece of the wrong length, the
 * wrong number of uncles, an index past the end. */
GST_START_TEST (test_refused)
{
  g_autofree guint8 *data = test_file (PIECE_FILE);
  guint8 root[HASH];
  gsize n_bytes;
  g_autofree guint8 *proof0 = from_hex (PIECE0_PROOF, &n_bytes);
  g_autofree guint8 *proof2 = from_hex (PIECE2_PROOF, &n_bytes);
  g_autofree guint8 *piece = NULL;
  guint n = (guint) (n_bytes / HASH);
  gsize last = PIECE_FILE - 2 * PIECE_SIZE;

  g_autoptr (HangoutMerkle) merkle = tree_of (PIECE_FILE, root);

  /* The vectors as they are verify. */
  fail_unless (hangout_merkle_verify_piece (root, PIECE_FILE, PIECE_SIZE, 0,
          data, PIECE_SIZE, proof0, n));
  fail_unless (hangout_merkle_verify_piece (root, PIECE_FILE, PIECE_SIZE, 2,
          data + 2 * PIECE_SIZE, last, proof2, n));

  /* One bit of the piece, in its first and in its last leaf. */
  piece = g_memdup2 (data, PIECE_SIZE);
  piece[0] ^= 1;
  fail_if (hangout_merkle_verify_piece (root, PIECE_FILE, PIECE_SIZE, 0,
          piece, PIECE_SIZE, proof0, n));
  piece[0] ^= 1;
  piece[PIECE_SIZE - 1] ^= 0x80;
  fail_if (hangout_merkle_verify_piece (root, PIECE_FILE, PIECE_SIZE, 0,
          piece, PIECE_SIZE, proof0, n));
  piece[PIECE_SIZE - 1] ^= 0x80;

  /* One bit of each uncle. */
  for (guint i = 0; i < n; i++) {
    proof0[i * HASH + 7] ^= 4;
    fail_if (hangout_merkle_verify_piece (root, PIECE_FILE, PIECE_SIZE, 0,
            data, PIECE_SIZE, proof0, n));
    proof0[i * HASH + 7] ^= 4;
  }

  /* Pieces 0 and 1 are siblings: each one's proof is the other's hash, so
   * only the index tells left from right, and the wrong one is refused. */
  fail_if (hangout_merkle_verify_piece (root, PIECE_FILE, PIECE_SIZE, 1,
          data, PIECE_SIZE, proof0, n));
  fail_if (hangout_merkle_verify_piece (root, PIECE_FILE, PIECE_SIZE, 0,
          data + PIECE_SIZE, PIECE_SIZE, proof0, n));
  /* The last piece's proof at another index. */
  fail_if (hangout_merkle_verify_piece (root, PIECE_FILE, PIECE_SIZE, 0,
          data + 2 * PIECE_SIZE, last, proof2, n));

  /* The last piece cut short. */
  fail_if (hangout_merkle_verify_piece (root, PIECE_FILE, PIECE_SIZE, 2,
          data + 2 * PIECE_SIZE, last - 1, proof2, n));
  /* Too few or too many uncles (the root appended). */
  fail_if (hangout_merkle_verify_piece (root, PIECE_FILE, PIECE_SIZE, 2,
          data + 2 * PIECE_SIZE, last, proof2, n - 1));
  {
    g_autofree guint8 *longer = g_malloc ((n + 1) * HASH);

    memcpy (longer, proof2, n * HASH);
    memcpy (longer + n * HASH, root, HASH);
    fail_if (hangout_merkle_verify_piece (root, PIECE_FILE, PIECE_SIZE, 2,
            data + 2 * PIECE_SIZE, last, longer, n + 1));
  }
  /* A piece past the end (the pad's place) and a piece size that is not
   * 16 KiB times a power of two. */
  fail_if (hangout_merkle_verify_piece (root, PIECE_FILE, PIECE_SIZE, 3,
          data, 16, proof2, n));
  fail_if (hangout_merkle_verify_piece (root, PIECE_FILE, 49152, 0, data,
          49152, proof0, n));
  fail_if (hangout_merkle_verify_piece (root, PIECE_FILE, 8192, 0, data,
          8192, proof0, n));
  /* Another file's root. */
  {
    guint8 other[HASH];

    memcpy (other, root, HASH);
    other[31] ^= 1;
    fail_if (hangout_merkle_verify_piece (other, PIECE_FILE, PIECE_SIZE, 0,
            data, PIECE_SIZE, proof0, n));
  }
}

GST_END_TEST;

/* 1 MiB: 64 leaves, a power of two, no padding; every 64 KiB piece
 * verifies with its proof from the tree, and every other piece's proof is
 * refused for it. */
GST_START_TEST (test_power_of_two)
{
  const gsize size = 1048576, piece_size = 65536;
  g_autofree guint8 *data = test_file (size);
  guint8 root[HASH];
  g_autoptr (HangoutMerkle) merkle = tree_of (size, root);
  guint level = hangout_merkle_piece_level (size, piece_size);
  guint64 pieces = size / piece_size;

  for (guint64 i = 0; i < pieces; i++) {
    guint n;
    g_autofree guint8 *proof = hangout_merkle_get_proof (merkle, level, i, &n);

    fail_unless_equals_int (n, 4);
    fail_unless (hangout_merkle_verify_piece (root, size, piece_size, i,
            data + i * piece_size, piece_size, proof, n));
    for (guint64 j = 0; j < pieces; j++) {
      if (j != i)
        fail_if (hangout_merkle_verify_piece (root, size, piece_size, j,
                data + i * piece_size, piece_size, proof, n));
    }
  }
}

GST_END_TEST;

/* A run of piece hashes, checked against the root at once (the `hashes`
 * message, §4.4): 1 MiB in 64 KiB pieces, the second half of the level;
 * and 70000 bytes in 16 KiB pieces, a run that ends with the file and is
 * padded to its power of two. */
GST_START_TEST (test_runs)
{
  struct {
    gsize size, piece_size;
    guint64 first, count;
    guint height;
  } runs[] = {
    { 1048576, 65536, 8, 8, 3 },
    { 1048576, 65536, 0, 16, 4 },
    { PIECE_FILE, 16384, 4, 1, 2 },
    { PIECE_FILE, 16384, 0, 5, 3 },
  };

  for (guint r = 0; r < G_N_ELEMENTS (runs); r++) {
    guint8 root[HASH], node[HASH];
    g_autoptr (HangoutMerkle) merkle = tree_of (runs[r].size, root);
    guint level = hangout_merkle_piece_level (runs[r].size,
        runs[r].piece_size);
    guint64 index = runs[r].first >> runs[r].height;
    g_autofree guint8 *hashes = g_malloc (runs[r].count * HASH);
    g_autofree guint8 *proof = NULL;
    guint n;

    for (guint64 i = 0; i < runs[r].count; i++)
      fail_unless (hangout_merkle_get_node (merkle, level, runs[r].first + i,
              hashes + i * HASH));
    proof = hangout_merkle_get_proof (merkle, level + runs[r].height, index,
        &n);
    fail_unless (proof != NULL);
    hangout_merkle_hash_nodes (level, hashes, runs[r].count, runs[r].height,
        node);
    fail_unless (hangout_merkle_verify (root, runs[r].size,
            level + runs[r].height, index, node, proof, n));
    /* One hash of the run changed. */
    hashes[(runs[r].count - 1) * HASH] ^= 1;
    hangout_merkle_hash_nodes (level, hashes, runs[r].count, runs[r].height,
        node);
    fail_if (hangout_merkle_verify (root, runs[r].size,
            level + runs[r].height, index, node, proof, n));
  }
}

GST_END_TEST;

static Suite *
merkle_suite (void)
{
  Suite *s = suite_create ("merkle");
  TCase *tc = tcase_create ("vectors");

  tcase_add_test (tc, test_roots);
  tcase_add_test (tc, test_depth);
  tcase_add_test (tc, test_empty);
  tcase_add_test (tc, test_one_leaf);
  tcase_add_test (tc, test_pieces);
  tcase_add_test (tc, test_root_from_pieces);
  tcase_add_test (tc, test_refused);
  tcase_add_test (tc, test_power_of_two);
  tcase_add_test (tc, test_runs);
  suite_add_tcase (s, tc);
  return s;
}

GST_CHECK_MAIN (merkle);
