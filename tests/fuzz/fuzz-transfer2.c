/* gst-hangout — fuzz target: the wire format of file transfer version 2
 * (docs/protocol.md §4.3, §4.4): each input is given to the control
 * message parser as text and to the binary message parsers as bytes.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#include "fuzz-common.h"

#include <hangout/transfer2.h>
#include <string.h>

static gboolean
is_hex (const gchar *text, gsize digits)
{
  if (text == NULL || strlen (text) != digits)
    return FALSE;
  for (const gchar *p = text; *p != '\0'; p++)
    if (!g_ascii_isdigit (*p) && !(*p >= 'a' && *p <= 'f'))
      return FALSE;
  return TRUE;
}

/* Ranges as the parser promises them: at most 64, non-empty, ascending
 * from @from, not overlapping, within the largest file's pieces. */
static void
check_ranges (GArray *pieces, guint64 from)
{
  FUZZ_CHECK (pieces != NULL && pieces->len <= HANGOUT_TRANSFER2_MAX_RANGES);
  for (guint i = 0; i < pieces->len; i++) {
    const HangoutTransfer2Range *r = &g_array_index (pieces,
        HangoutTransfer2Range, i);

    FUZZ_CHECK (r->count >= 1 && r->first >= from);
    FUZZ_CHECK (r->first + r->count <= HANGOUT_TRANSFER2_MAX_PIECES);
    from = r->first + r->count;
  }
}

static gboolean
same_ranges (GArray *a, GArray *b)
{
  return a->len == b->len && (a->len == 0 || memcmp (a->data, b->data,
          a->len * sizeof (HangoutTransfer2Range)) == 0);
}

/* What a parsed message's builder writes parses back to the same. */
static void
check_rebuilt (const HangoutTransfer2Control *c)
{
  g_autofree gchar *text = NULL;
  HangoutTransfer2Control again;
  g_autoptr (GError) error = NULL;

  switch (c->type) {
    case HANGOUT_TRANSFER2_CAPABILITIES:
      text = hangout_transfer2_build_capabilities (c->versions);
      break;
    case HANGOUT_TRANSFER2_OFFER:
      if (c->unsupported != NULL)
        return;
      text = hangout_transfer2_build_offer (c->id, c->name, c->size, c->mime,
          c->chunk_size, c->piece_size, c->window, c->root);
      break;
    case HANGOUT_TRANSFER2_ACCEPT:
      text = hangout_transfer2_build_accept (c->id);
      break;
    case HANGOUT_TRANSFER2_SWARM:
      text = hangout_transfer2_build_swarm (c->id,
          (const gchar * const *) c->members);
      break;
    case HANGOUT_TRANSFER2_HAVE:
      text = hangout_transfer2_build_have (c->id, c->next, c->pieces);
      break;
    case HANGOUT_TRANSFER2_REQUEST:
      text = hangout_transfer2_build_request (c->id, c->pieces);
      break;
    case HANGOUT_TRANSFER2_UNAVAILABLE:
      text = hangout_transfer2_build_unavailable (c->id, c->pieces);
      break;
    case HANGOUT_TRANSFER2_CORRUPT:
      text = hangout_transfer2_build_corrupt (c->id, c->piece, c->from);
      break;
    case HANGOUT_TRANSFER2_END:
      text = hangout_transfer2_build_end (c->id, (guint64) c->size, c->root);
      break;
    case HANGOUT_TRANSFER2_ACK:
      text = hangout_transfer2_build_ack (c->id, c->ok, c->root);
      break;
    case HANGOUT_TRANSFER2_UNKNOWN:
    case HANGOUT_TRANSFER2_VERSION1:
      return;
  }
  FUZZ_CHECK (hangout_transfer2_parse_control (text, strlen (text), &again,
          &error));
  FUZZ_CHECK (again.type == c->type && again.versions == c->versions);
  FUZZ_CHECK (g_strcmp0 (again.id, c->id) == 0
      && g_strcmp0 (again.name, c->name) == 0
      && g_strcmp0 (again.mime, c->mime) == 0
      && g_strcmp0 (again.root, c->root) == 0
      && g_strcmp0 (again.from, c->from) == 0);
  FUZZ_CHECK (again.size == c->size && again.chunk_size == c->chunk_size
      && again.piece_size == c->piece_size && again.window == c->window
      && again.next == c->next && again.piece == c->piece
      && again.ok == c->ok);
  FUZZ_CHECK ((again.members == NULL) == (c->members == NULL));
  if (c->members != NULL)
    FUZZ_CHECK (g_strv_equal ((const gchar * const *) again.members,
            (const gchar * const *) c->members));
  FUZZ_CHECK ((again.pieces == NULL) == (c->pieces == NULL));
  if (c->pieces != NULL)
    FUZZ_CHECK (same_ranges (again.pieces, c->pieces));
  hangout_transfer2_control_clear (&again);
}

static void
fuzz_control (const uint8_t *data, size_t size)
{
  HangoutTransfer2Control c;
  g_autoptr (GError) error = NULL;

  if (!hangout_transfer2_parse_control ((const gchar *) data, size, &c,
          &error)) {
    FUZZ_CHECK (error != NULL);
    return;
  }
  /* What the share layer relies on once a message parsed. */
  switch (c.type) {
    case HANGOUT_TRANSFER2_CAPABILITIES:
      FUZZ_CHECK ((c.versions & 1) == 0);
      break;
    case HANGOUT_TRANSFER2_OFFER:
      FUZZ_CHECK (is_hex (c.id, 32) && c.name != NULL && c.mime != NULL
          && c.size >= -1);
      FUZZ_CHECK (c.chunk_size >= HANGOUT_TRANSFER2_MIN_CHUNK_SIZE
          && c.chunk_size <= HANGOUT_TRANSFER_MAX_CHUNK_SIZE);
      FUZZ_CHECK (c.root == NULL || (is_hex (c.root, 64) && c.size >= 0));
      if (c.unsupported == NULL)
        FUZZ_CHECK (c.piece_size >= HANGOUT_TRANSFER2_MIN_PIECE_SIZE
            && c.piece_size <= HANGOUT_TRANSFER2_MAX_PIECE_SIZE
            && (c.piece_size & (c.piece_size - 1)) == 0
            && c.window % c.piece_size == 0
            && c.window >= 2 * c.piece_size
            && c.window <= HANGOUT_TRANSFER2_MAX_WINDOW);
      else
        FUZZ_CHECK (g_str_equal (c.unsupported,
                HANGOUT_TRANSFER2_REASON_PIECE_SIZE)
            || g_str_equal (c.unsupported, HANGOUT_TRANSFER2_REASON_WINDOW));
      break;
    case HANGOUT_TRANSFER2_SWARM:
      FUZZ_CHECK (is_hex (c.id, 32) && c.members != NULL
          && g_strv_length (c.members) <= HANGOUT_TRANSFER2_MAX_SWARM);
      for (guint i = 0; c.members[i] != NULL; i++) {
        FUZZ_CHECK (is_hex (c.members[i], 32));
        for (guint j = 0; j < i; j++)
          FUZZ_CHECK (!g_str_equal (c.members[i], c.members[j]));
      }
      break;
    case HANGOUT_TRANSFER2_HAVE:
      FUZZ_CHECK (is_hex (c.id, 32)
          && c.next <= HANGOUT_TRANSFER2_MAX_PIECES);
      check_ranges (c.pieces, c.next);
      break;
    case HANGOUT_TRANSFER2_REQUEST:
    case HANGOUT_TRANSFER2_UNAVAILABLE:
      FUZZ_CHECK (is_hex (c.id, 32));
      check_ranges (c.pieces, 0);
      break;
    case HANGOUT_TRANSFER2_CORRUPT:
      FUZZ_CHECK (is_hex (c.id, 32) && is_hex (c.from, 32)
          && c.piece < HANGOUT_TRANSFER2_MAX_PIECES);
      break;
    case HANGOUT_TRANSFER2_END:
      FUZZ_CHECK (is_hex (c.id, 32) && c.size >= 0 && is_hex (c.root, 64));
      break;
    case HANGOUT_TRANSFER2_ACK:
      FUZZ_CHECK (is_hex (c.id, 32) && (c.root == NULL
              || is_hex (c.root, 64)));
      break;
    case HANGOUT_TRANSFER2_ACCEPT:
      FUZZ_CHECK (is_hex (c.id, 32));
      break;
    case HANGOUT_TRANSFER2_UNKNOWN:
    case HANGOUT_TRANSFER2_VERSION1:
      FUZZ_CHECK (c.id == NULL);
      break;
  }
  check_rebuilt (&c);
  hangout_transfer2_control_clear (&c);
}

static void
fuzz_binary (const uint8_t *data, size_t size)
{
  HangoutTransfer2BinaryKind kind = hangout_transfer2_binary_kind (data, size);
  HangoutTransfer2Piece piece;
  HangoutTransfer2Hashes hashes;
  g_autoptr (GError) piece_error = NULL;
  g_autoptr (GError) hashes_error = NULL;
  gboolean is_piece = hangout_transfer2_parse_piece (data, size, &piece,
      &piece_error);
  gboolean is_hashes = hangout_transfer2_parse_hashes (data, size, &hashes,
      &hashes_error);

  FUZZ_CHECK (is_piece || piece_error != NULL);
  FUZZ_CHECK (is_hashes || hashes_error != NULL);
  FUZZ_CHECK (!is_piece || kind == HANGOUT_TRANSFER2_BINARY_PIECE);
  FUZZ_CHECK (!is_hashes || kind == HANGOUT_TRANSFER2_BINARY_HASHES);
  if (is_piece) {
    g_autoptr (GBytes) built = NULL;

    FUZZ_CHECK (piece.role <= HANGOUT_TRANSFER2_ROLE_REPAIR);
    FUZZ_CHECK (piece.payload_len >= 1
        && piece.payload_len <= HANGOUT_TRANSFER2_MAX_PIECE_SIZE
        && piece.payload == data + HANGOUT_TRANSFER2_PIECE_HEADER_SIZE
        && piece.payload + piece.payload_len == data + size);
    FUZZ_CHECK (piece.offset + piece.payload_len <= G_MAXINT64);
    built = hangout_transfer2_build_piece (piece.id, piece.role, piece.offset,
        piece.payload, piece.payload_len);
    FUZZ_CHECK (g_bytes_get_size (built) == size
        && memcmp (g_bytes_get_data (built, NULL), data, size) == 0);
  }
  if (is_hashes) {
    g_autoptr (GBytes) built = NULL;

    FUZZ_CHECK (hashes.count >= 1
        && hashes.proof_len <= HANGOUT_TRANSFER2_MAX_PROOF);
    FUZZ_CHECK (hashes.first + hashes.count <= HANGOUT_TRANSFER2_MAX_PIECES);
    FUZZ_CHECK (hashes.hashes == data + HANGOUT_TRANSFER2_HASHES_HEADER_SIZE
        && hashes.proof == hashes.hashes
        + (gsize) hashes.count * HANGOUT_MERKLE_HASH_SIZE
        && hashes.proof + (gsize) hashes.proof_len * HANGOUT_MERKLE_HASH_SIZE
        == data + size);
    built = hangout_transfer2_build_hashes (hashes.id, hashes.first,
        hashes.hashes, hashes.count, hashes.proof, hashes.proof_len);
    FUZZ_CHECK (g_bytes_get_size (built) == size
        && memcmp (g_bytes_get_data (built, NULL), data, size) == 0);
  }
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  fuzz_control (data, size);
  fuzz_binary (data, size);
  return 0;
}
