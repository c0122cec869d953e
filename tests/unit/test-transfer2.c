/* gst-hangout — the wire format of file transfer version 2
 * (docs/protocol.md §4) without sockets: round trips of every message,
 * the messages of the §4.10 example, each limit of §4.9 at and past its
 * bound, and hostile input.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#include <gst/check/gstcheck.h>
#include <hangout/signalling-local.h>
#include <hangout/transfer2.h>
#include <string.h>

#define ID "3f2a00112233445566778899aabbccdd"
#define BOB "b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0"
#define CAROL "ca201ca201ca201ca201ca201ca201ca"
#define DAVE "da7eda7eda7eda7eda7eda7eda7eda7e"
/* The 70000-byte file of §4.11 in pieces of 32768 bytes. */
#define ROOT "83deabd1fe1301daff7f0f151ac57676bb0de039ffc91faa63b02a3e0105bcd8"
#define PIECE0 "d9e13d0b676ad681164ef0b7b5910d1328ea83a047cad57e619d76bbe3a08525"
#define PIECE1 "e28097eaaa55956702cf8195d1a551dbabb63e3d679b294cf33d506a6b5ef479"
#define PIECE2 "94cbfbca59afe74836d2e7c6f1e12f31e47ed0d068f78a4e78b4197c4709099f"
#define PIECE2_UNCLE0 \
  "f5a5fd42d16a20302798ef6ed309979b43003d2320d9f0e8ea9831a92759fb4b"
#define PIECE2_UNCLE1 \
  "2d6b546231225a7132a38ab354f03e9132e4b9141da89f1784b71ab2fb34fae3"

#define MIB (1024 * 1024)

/* Parses @text, which must parse; the caller clears @c. */
static void
parse (const gchar *text, HangoutTransfer2Control *c)
{
  g_autoptr (GError) error = NULL;

  fail_unless (hangout_transfer2_parse_control (text, strlen (text), c,
          &error), "refused %s: %s", text, error ? error->message : "");
}

/* @text must be refused, with an error whose text holds @why. */
static void
refused (const gchar *text, const gchar *why)
{
  HangoutTransfer2Control c;
  g_autoptr (GError) error = NULL;

  fail_if (hangout_transfer2_parse_control (text, strlen (text), &c, &error),
      "accepted %s", text);
  fail_unless (g_error_matches (error, HANGOUT_ERROR,
          HANGOUT_ERROR_INVALID_MESSAGE));
  fail_unless (strstr (error->message, why) != NULL,
      "%s: \"%s\" does not say \"%s\"", text, error->message, why);
  /* A refused message leaves nothing to free. */
  fail_unless (c.id == NULL && c.pieces == NULL && c.members == NULL
      && c.root == NULL);
}

static void
hex_to_bytes (const gchar *hex, guint8 *out)
{
  for (gsize i = 0; hex[2 * i] != '\0'; i++)
    out[i] = (guint8) (g_ascii_xdigit_value (hex[2 * i]) << 4
        | g_ascii_xdigit_value (hex[2 * i + 1]));
}

static gchar *
bytes_to_hex (const guint8 *bytes, gsize len)
{
  gchar *hex = g_new (gchar, 2 * len + 1);

  for (gsize i = 0; i < len; i++)
    g_snprintf (hex + 2 * i, 3, "%02x", bytes[i]);
  return hex;
}

static GArray *
ranges_of (const guint64 (*pairs)[2], guint n)
{
  GArray *ranges = hangout_transfer2_ranges_new ();

  for (guint i = 0; i < n; i++)
    hangout_transfer2_ranges_add (ranges, pairs[i][0], pairs[i][1]);
  return ranges;
}

static void
assert_ranges (GArray *ranges, const guint64 (*pairs)[2], guint n)
{
  fail_unless_equals_int (ranges->len, n);
  for (guint i = 0; i < n; i++) {
    HangoutTransfer2Range *r = &g_array_index (ranges, HangoutTransfer2Range,
        i);

    fail_unless_equals_uint64 (r->first, pairs[i][0]);
    fail_unless_equals_uint64 (r->count, pairs[i][1]);
  }
}

/* An offer of the §4.10 file with @piece_size and @window. */
static gchar *
offer_with (gint64 piece_size, gint64 window)
{
  return g_strdup_printf ("{\"type\":\"offer\",\"version\":2,\"id\":\"" ID
      "\",\"name\":\"f.bin\",\"size\":70000,\"mime\":\"x/y\","
      "\"chunk-size\":65536,\"piece-size\":%" G_GINT64_FORMAT ",\"window\":%"
      G_GINT64_FORMAT ",\"root\":null}", piece_size, window);
}

/* ---- round trips ---- */

GST_START_TEST (test_round_trip)
{
  HangoutTransfer2Control c;
  const gchar *swarm[] = { BOB, CAROL, DAVE, NULL };
  const guint64 held[][2] = { {3, 2}, {9, 1}, {20, 100} };
  g_autoptr (GArray) pieces = ranges_of (held, G_N_ELEMENTS (held));
  g_autoptr (GArray) none = hangout_transfer2_ranges_new ();
  g_autofree gchar *caps = hangout_transfer2_build_capabilities (1 << 1 | 1 <<
      2);
  g_autofree gchar *offer = hangout_transfer2_build_offer (ID, "f.bin",
      70000, "application/octet-stream", 65536, 32768, 8 * MIB, ROOT);
  g_autofree gchar *stream = hangout_transfer2_build_offer (ID, "live", -1,
      "video/mp2t", 16384, 1048576, 64 * MIB, NULL);
  g_autofree gchar *accept = hangout_transfer2_build_accept (ID);
  g_autofree gchar *swarm_text = hangout_transfer2_build_swarm (ID, swarm);
  g_autofree gchar *have = hangout_transfer2_build_have (ID, 2, pieces);
  g_autofree gchar *have_none = hangout_transfer2_build_have (ID, 0, none);
  g_autofree gchar *request = hangout_transfer2_build_request (ID, pieces);
  g_autofree gchar *unavailable = hangout_transfer2_build_unavailable (ID,
      pieces);
  g_autofree gchar *corrupt = hangout_transfer2_build_corrupt (ID, 12, CAROL);
  g_autofree gchar *end = hangout_transfer2_build_end (ID, 70000, ROOT);
  g_autofree gchar *ack = hangout_transfer2_build_ack (ID, TRUE, ROOT);
  g_autofree gchar *nack = hangout_transfer2_build_ack (ID, FALSE, NULL);

  fail_unless_equals_string (caps,
      "{\"type\":\"capabilities\",\"transfer\":[1,2]}");
  parse (caps, &c);
  fail_unless_equals_int (c.type, HANGOUT_TRANSFER2_CAPABILITIES);
  fail_unless_equals_int (c.versions, 1 << 1 | 1 << 2);
  fail_unless (c.id == NULL);
  hangout_transfer2_control_clear (&c);

  parse (offer, &c);
  fail_unless_equals_int (c.type, HANGOUT_TRANSFER2_OFFER);
  fail_unless_equals_string (c.id, ID);
  fail_unless_equals_string (c.name, "f.bin");
  fail_unless_equals_int64 (c.size, 70000);
  fail_unless_equals_string (c.mime, "application/octet-stream");
  fail_unless_equals_int (c.chunk_size, 65536);
  fail_unless_equals_int (c.piece_size, 32768);
  fail_unless_equals_int (c.window, 8 * MIB);
  fail_unless_equals_string (c.root, ROOT);
  fail_unless (c.unsupported == NULL);
  hangout_transfer2_control_clear (&c);

  parse (stream, &c);
  fail_unless_equals_int (c.type, HANGOUT_TRANSFER2_OFFER);
  fail_unless_equals_int64 (c.size, -1);
  fail_unless (c.root == NULL);
  fail_unless_equals_int (c.chunk_size, 16384);
  fail_unless_equals_int (c.piece_size, 1048576);
  fail_unless_equals_int (c.window, 64 * MIB);
  hangout_transfer2_control_clear (&c);

  parse (accept, &c);
  fail_unless_equals_int (c.type, HANGOUT_TRANSFER2_ACCEPT);
  fail_unless_equals_string (c.id, ID);
  hangout_transfer2_control_clear (&c);

  parse (swarm_text, &c);
  fail_unless_equals_int (c.type, HANGOUT_TRANSFER2_SWARM);
  fail_unless_equals_string (c.id, ID);
  fail_unless_equals_int (g_strv_length (c.members), 3);
  fail_unless_equals_string (c.members[0], BOB);
  fail_unless_equals_string (c.members[1], CAROL);
  fail_unless_equals_string (c.members[2], DAVE);
  hangout_transfer2_control_clear (&c);

  parse (have, &c);
  fail_unless_equals_int (c.type, HANGOUT_TRANSFER2_HAVE);
  fail_unless_equals_uint64 (c.next, 2);
  assert_ranges (c.pieces, held, G_N_ELEMENTS (held));
  hangout_transfer2_control_clear (&c);

  fail_unless_equals_string (have_none,
      "{\"type\":\"have\",\"id\":\"" ID "\",\"next\":0,\"pieces\":[]}");
  parse (have_none, &c);
  fail_unless_equals_uint64 (c.next, 0);
  fail_unless_equals_int (c.pieces->len, 0);
  hangout_transfer2_control_clear (&c);

  parse (request, &c);
  fail_unless_equals_int (c.type, HANGOUT_TRANSFER2_REQUEST);
  assert_ranges (c.pieces, held, G_N_ELEMENTS (held));
  hangout_transfer2_control_clear (&c);

  parse (unavailable, &c);
  fail_unless_equals_int (c.type, HANGOUT_TRANSFER2_UNAVAILABLE);
  assert_ranges (c.pieces, held, G_N_ELEMENTS (held));
  hangout_transfer2_control_clear (&c);

  parse (corrupt, &c);
  fail_unless_equals_int (c.type, HANGOUT_TRANSFER2_CORRUPT);
  fail_unless_equals_uint64 (c.piece, 12);
  fail_unless_equals_string (c.from, CAROL);
  hangout_transfer2_control_clear (&c);

  parse (end, &c);
  fail_unless_equals_int (c.type, HANGOUT_TRANSFER2_END);
  fail_unless_equals_int64 (c.size, 70000);
  fail_unless_equals_string (c.root, ROOT);
  hangout_transfer2_control_clear (&c);

  parse (ack, &c);
  fail_unless_equals_int (c.type, HANGOUT_TRANSFER2_ACK);
  fail_unless (c.ok);
  fail_unless_equals_string (c.root, ROOT);
  hangout_transfer2_control_clear (&c);

  parse (nack, &c);
  fail_unless_equals_int (c.type, HANGOUT_TRANSFER2_ACK);
  fail_if (c.ok);
  fail_unless (c.root == NULL);
  hangout_transfer2_control_clear (&c);
}

GST_END_TEST;

/* Builders write at most HANGOUT_TRANSFER2_MAX_RANGES ranges: the
 * earliest, which a receiver takes. */
GST_START_TEST (test_builders_bound_ranges)
{
  HangoutTransfer2Control c;
  g_autoptr (GArray) many = hangout_transfer2_ranges_new ();
  g_autofree gchar *request = NULL;

  for (guint i = 0; i < 100; i++)
    hangout_transfer2_ranges_add (many, 2 * i, 1);
  fail_unless_equals_int (many->len, 100);
  request = hangout_transfer2_build_request (ID, many);
  parse (request, &c);
  fail_unless_equals_int (c.pieces->len, HANGOUT_TRANSFER2_MAX_RANGES);
  for (guint i = 0; i < c.pieces->len; i++)
    fail_unless_equals_uint64 (g_array_index (c.pieces,
            HangoutTransfer2Range, i).first, 2 * i);
  hangout_transfer2_control_clear (&c);
}

GST_END_TEST;

/* ---- the §4.10 example ---- */

/* The test file of §4.11: byte i is i mod 251. */
static guint8 *
test_file (gsize size)
{
  guint8 *data = g_malloc (size);

  for (gsize i = 0; i < size; i++)
    data[i] = (guint8) (i % 251);
  return data;
}

GST_START_TEST (test_example_control)
{
  HangoutTransfer2Control c;
  HangoutTransferControl v1;
  g_autoptr (GError) error = NULL;
  const gchar *to_erin = "{\"type\":\"offer\",\"version\":1,\"id\":\"" ID
      "\",\"name\":\"f.bin\",\"size\":70000,\"mime\":"
      "\"application/octet-stream\",\"chunk-size\":65536}";
  const gchar *erin_ack = "{\"type\":\"ack\",\"id\":\"" ID
      "\",\"ok\":true,\"sha256\":"
      "\"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\"}";
  const gchar *messages[] = {
    "{\"type\":\"offer\",\"version\":2,\"id\":\"" ID "\",\"name\":\"f.bin\","
        "\"size\":70000,\"mime\":\"application/octet-stream\","
        "\"chunk-size\":65536,\"piece-size\":32768,\"window\":8388608,"
        "\"root\":\"" ROOT "\"}",
    "{\"type\":\"accept\",\"id\":\"" ID "\"}",
    "{\"type\":\"swarm\",\"id\":\"" ID "\",\"members\":[\"" BOB "\",\"" CAROL
        "\",\"" DAVE "\"]}",
    "{\"type\":\"have\",\"id\":\"" ID "\",\"next\":0,\"pieces\":[]}",
    "{\"type\":\"end\",\"version\":2,\"id\":\"" ID "\",\"size\":70000,"
        "\"root\":\"" ROOT "\"}",
    "{\"type\":\"ack\",\"version\":2,\"id\":\"" ID "\",\"ok\":true,"
        "\"root\":\"" ROOT "\"}",
    "{\"type\":\"corrupt\",\"id\":\"" ID "\",\"piece\":1,\"from\":\"" CAROL
        "\"}",
    "{\"type\":\"request\",\"id\":\"" ID "\",\"pieces\":[[1,1]]}",
  };
  const HangoutTransfer2Type types[] = {
    HANGOUT_TRANSFER2_OFFER, HANGOUT_TRANSFER2_ACCEPT, HANGOUT_TRANSFER2_SWARM,
    HANGOUT_TRANSFER2_HAVE, HANGOUT_TRANSFER2_END, HANGOUT_TRANSFER2_ACK,
    HANGOUT_TRANSFER2_CORRUPT, HANGOUT_TRANSFER2_REQUEST,
  };
  const guint64 piece1[][2] = { {1, 1} };

  for (guint i = 0; i < G_N_ELEMENTS (messages); i++) {
    parse (messages[i], &c);
    fail_unless_equals_int (c.type, types[i]);
    fail_unless_equals_string (c.id, ID);
    switch (c.type) {
      case HANGOUT_TRANSFER2_OFFER:
        fail_unless_equals_string (c.name, "f.bin");
        fail_unless_equals_int64 (c.size, 70000);
        fail_unless_equals_int (c.piece_size, 32768);
        fail_unless_equals_int (c.window, 8388608);
        fail_unless_equals_string (c.root, ROOT);
        /* Three pieces, the last 4464 bytes (§4.10). */
        fail_unless_equals_int64 ((c.size + c.piece_size - 1) / c.piece_size,
            3);
        fail_unless_equals_int64 (c.size - 2 * c.piece_size, 4464);
        break;
      case HANGOUT_TRANSFER2_SWARM:
        fail_unless_equals_int (g_strv_length (c.members), 3);
        fail_unless_equals_string (c.members[1], CAROL);
        break;
      case HANGOUT_TRANSFER2_HAVE:
        fail_unless_equals_uint64 (c.next, 0);
        fail_unless_equals_int (c.pieces->len, 0);
        break;
      case HANGOUT_TRANSFER2_END:
        fail_unless_equals_int64 (c.size, 70000);
        fail_unless_equals_string (c.root, ROOT);
        break;
      case HANGOUT_TRANSFER2_ACK:
        fail_unless (c.ok);
        fail_unless_equals_string (c.root, ROOT);
        break;
      case HANGOUT_TRANSFER2_CORRUPT:
        fail_unless_equals_uint64 (c.piece, 1);
        fail_unless_equals_string (c.from, CAROL);
        break;
      case HANGOUT_TRANSFER2_REQUEST:
        assert_ranges (c.pieces, piece1, 1);
        break;
      default:
        break;
    }
    hangout_transfer2_control_clear (&c);
  }

  /* What erin gets and sends is version 1: routed to transfer.h, which
   * reads it as it always did. */
  parse (to_erin, &c);
  fail_unless_equals_int (c.type, HANGOUT_TRANSFER2_VERSION1);
  fail_unless (c.id == NULL);
  hangout_transfer2_control_clear (&c);
  fail_unless (hangout_transfer_parse_control (to_erin, strlen (to_erin), &v1,
          &error));
  fail_unless_equals_int (v1.type, HANGOUT_TRANSFER_OFFER);
  fail_unless_equals_int64 (v1.size, 70000);
  hangout_transfer_control_clear (&v1);
  parse (erin_ack, &c);
  fail_unless_equals_int (c.type, HANGOUT_TRANSFER2_VERSION1);
  hangout_transfer2_control_clear (&c);
  fail_unless (hangout_transfer_parse_control (erin_ack, strlen (erin_ack),
          &v1, &error));
  fail_unless_equals_int (v1.type, HANGOUT_TRANSFER_ACK);
  fail_unless (v1.ok);
  hangout_transfer_control_clear (&v1);

  /* A version 1 receiver ignores the version 2 offer (§4.1). */
  fail_if (hangout_transfer_parse_control (messages[0], strlen (messages[0]),
          &v1, &error));
  fail_unless (strstr (error->message, "unsupported transfer version 2"));
}

GST_END_TEST;

GST_START_TEST (test_example_binary)
{
  g_autofree guint8 *file = test_file (70000);
  const gchar *expected[] = { PIECE0, PIECE1, PIECE2 };
  guint8 hashes[3 * HANGOUT_MERKLE_HASH_SIZE];
  guint8 root[HANGOUT_MERKLE_HASH_SIZE];
  guint8 proof[2 * HANGOUT_MERKLE_HASH_SIZE];
  g_autoptr (GBytes) run = NULL;
  g_autoptr (GBytes) late = NULL;
  g_autoptr (GError) error = NULL;
  HangoutTransfer2Hashes h;
  const gsize piece_size = 32768;
  const guint level = hangout_merkle_piece_level (70000, piece_size);

  /* alice → b,c,d: the three piece hashes, no proof. */
  for (guint i = 0; i < 3; i++)
    hangout_merkle_hash_piece (level, file + i * piece_size,
        MIN (piece_size, 70000 - i * piece_size),
        hashes + i * HANGOUT_MERKLE_HASH_SIZE);
  run = hangout_transfer2_build_hashes (ID, 0, hashes, 3, NULL, 0);
  fail_unless_equals_int (g_bytes_get_size (run),
      HANGOUT_TRANSFER2_HASHES_HEADER_SIZE + 3 * 32);
  {
    const guint8 *data = g_bytes_get_data (run, NULL);
    g_autofree gchar *prefix = bytes_to_hex (data, 29);

    fail_unless_equals_string (prefix, "03" ID "0000000000000000" "00000003");
    fail_unless_equals_int (hangout_transfer2_binary_kind (data, 29 + 96),
        HANGOUT_TRANSFER2_BINARY_HASHES);
    fail_unless (hangout_transfer2_parse_hashes (data, g_bytes_get_size (run),
            &h, &error));
    fail_unless_equals_string (h.id, ID);
    fail_unless_equals_uint64 (h.first, 0);
    fail_unless_equals_int (h.count, 3);
    fail_unless_equals_int (h.proof_len, 0);
    fail_unless (h.hashes == data + 29);
    for (guint i = 0; i < 3; i++) {
      g_autofree gchar *hex = bytes_to_hex (h.hashes + 32 * i, 32);

      fail_unless_equals_string (hex, expected[i]);
    }
  }

  /* alice → bob, carol, dave: one piece each, assigned; the forwarded
   * copies differ in their role alone. Each payload hashes to its piece's
   * hash in the run. */
  for (guint i = 0; i < 3; i++) {
    gsize len = MIN (piece_size, 70000 - i * piece_size);

    for (HangoutTransfer2Role role = HANGOUT_TRANSFER2_ROLE_ASSIGNED;
        role <= HANGOUT_TRANSFER2_ROLE_FORWARDED; role++) {
      g_autoptr (GBytes) msg = hangout_transfer2_build_piece (ID, role,
          i * piece_size, file + i * piece_size, len);
      const guint8 *data = g_bytes_get_data (msg, NULL);
      HangoutTransfer2Piece p;
      guint8 hash[HANGOUT_MERKLE_HASH_SIZE];

      fail_unless_equals_int (g_bytes_get_size (msg), 26 + len);
      fail_unless_equals_int (data[0], 0x02);
      fail_unless_equals_int (data[17], role);
      fail_unless (hangout_transfer2_parse_piece (data, g_bytes_get_size (msg),
              &p, &error));
      fail_unless_equals_string (p.id, ID);
      fail_unless_equals_int (p.role, role);
      fail_unless_equals_uint64 (p.offset, i * piece_size);
      fail_unless_equals_int (p.payload_len, len);
      fail_unless (p.payload == data + 26);
      hangout_merkle_hash_piece (level, p.payload, p.payload_len, hash);
      fail_unless (memcmp (hash, h.hashes + 32 * i, 32) == 0);
    }
  }

  /* A run with a proof, as a swarm member sends a late member (§4.8):
   * piece 2 with its uncles of §4.11, which lead to the offer's root. */
  hex_to_bytes (PIECE2_UNCLE0, proof);
  hex_to_bytes (PIECE2_UNCLE1, proof + 32);
  late = hangout_transfer2_build_hashes (ID, 2, hashes + 64, 1, proof, 2);
  fail_unless (hangout_transfer2_parse_hashes (g_bytes_get_data (late, NULL),
          g_bytes_get_size (late), &h, &error));
  fail_unless_equals_uint64 (h.first, 2);
  fail_unless_equals_int (h.count, 1);
  fail_unless_equals_int (h.proof_len, 2);
  hex_to_bytes (ROOT, root);
  fail_unless (hangout_merkle_verify (root, 70000, level, h.first, h.hashes,
          h.proof, h.proof_len));
}

GST_END_TEST;

/* ---- limits of §4.9 ---- */

GST_START_TEST (test_piece_size_and_window)
{
  const struct {
    gint64 piece_size, window;
    const gchar *unsupported;
  } cases[] = {
    {16384, 32768, NULL},
    {16384, 64 * MIB, NULL},
    {1048576, 2 * MIB, NULL},
    {65536, 8 * MIB, NULL},
    /* piece-size: 16384 times a power of two, at most 1 MiB */
    {8192, 8 * MIB, HANGOUT_TRANSFER2_REASON_PIECE_SIZE},
    {0, 8 * MIB, HANGOUT_TRANSFER2_REASON_PIECE_SIZE},
    {3 * 16384, 3 * 16384 * 4, HANGOUT_TRANSFER2_REASON_PIECE_SIZE},
    {16385, 8 * MIB, HANGOUT_TRANSFER2_REASON_PIECE_SIZE},
    {2 * MIB, 8 * MIB, HANGOUT_TRANSFER2_REASON_PIECE_SIZE},
    {G_MAXINT64, 8 * MIB, HANGOUT_TRANSFER2_REASON_PIECE_SIZE},
    /* window: a multiple of piece-size, 2 pieces to 64 MiB */
    {65536, 65536, HANGOUT_TRANSFER2_REASON_WINDOW},
    {65536, 2 * 65536 + 1, HANGOUT_TRANSFER2_REASON_WINDOW},
    {65536, 64 * MIB + 65536, HANGOUT_TRANSFER2_REASON_WINDOW},
    {65536, 0, HANGOUT_TRANSFER2_REASON_WINDOW},
    {1048576, 1048576, HANGOUT_TRANSFER2_REASON_WINDOW},
    {16384, G_MAXINT64, HANGOUT_TRANSFER2_REASON_WINDOW},
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++) {
    g_autofree gchar *text = offer_with (cases[i].piece_size,
        cases[i].window);
    HangoutTransfer2Control c;

    parse (text, &c);
    fail_unless_equals_int (c.type, HANGOUT_TRANSFER2_OFFER);
    fail_unless_equals_string (c.id, ID);
    if (cases[i].unsupported == NULL) {
      fail_unless (c.unsupported == NULL, "%s: %s", text, c.unsupported);
      fail_unless_equals_int64 (c.piece_size, cases[i].piece_size);
      fail_unless_equals_int64 (c.window, cases[i].window);
    } else {
      fail_unless_equals_string (c.unsupported, cases[i].unsupported);
    }
    hangout_transfer2_control_clear (&c);
  }

  /* Not integers at all: the offer is malformed, not unsupported. */
  refused ("{\"type\":\"offer\",\"version\":2,\"id\":\"" ID "\",\"name\":\"f\","
      "\"size\":1,\"mime\":\"x/y\",\"chunk-size\":65536,\"piece-size\":-16384,"
      "\"window\":8388608,\"root\":null}", "\"piece-size\"");
  refused ("{\"type\":\"offer\",\"version\":2,\"id\":\"" ID "\",\"name\":\"f\","
      "\"size\":1,\"mime\":\"x/y\",\"chunk-size\":65536,\"piece-size\":65536,"
      "\"window\":8388608.0,\"root\":null}", "\"window\"");
  refused ("{\"type\":\"offer\",\"version\":2,\"id\":\"" ID "\",\"name\":\"f\","
      "\"size\":1,\"mime\":\"x/y\",\"chunk-size\":65536,"
      "\"piece-size\":\"65536\","
      "\"window\":8388608,\"root\":null}", "\"piece-size\"");
}

GST_END_TEST;

GST_START_TEST (test_offer_limits)
{
  HangoutTransfer2Control c;
  g_autofree gchar *min_chunk = hangout_transfer2_build_offer (ID, "f", 1,
      "x/y", HANGOUT_TRANSFER2_MIN_CHUNK_SIZE, 16384, 32768, NULL);
  g_autofree gchar *small_chunk = hangout_transfer2_build_offer (ID, "f", 1,
      "x/y", HANGOUT_TRANSFER2_MIN_CHUNK_SIZE - 1, 16384, 32768, NULL);
  g_autofree gchar *max_chunk = hangout_transfer2_build_offer (ID, "f", 1,
      "x/y", HANGOUT_TRANSFER_MAX_CHUNK_SIZE, 16384, 32768, NULL);
  g_autofree gchar *big_chunk = hangout_transfer2_build_offer (ID, "f", 1,
      "x/y", HANGOUT_TRANSFER_MAX_CHUNK_SIZE + 1, 16384, 32768, NULL);
  const gchar *bad_roots[] = {
    "\"83deabd1fe1301daff7f0f151ac57676bb0de039ffc91faa63b02a3e0105bcd\"",
    "\"83deabd1fe1301daff7f0f151ac57676bb0de039ffc91faa63b02a3e0105bcd80\"",
    "\"83DEABD1FE1301DAFF7F0F151AC57676BB0DE039FFC91FAA63B02A3E0105BCD8\"",
    "\"83deabd1fe1301daff7f0f151ac57676bb0de039ffc91faa63b02a3e0105bcdg\"",
    "\"\"", "0", "true", "[\"" ROOT "\"]", "{\"root\":\"" ROOT "\"}",
  };

  /* One hash must fit in a message: chunk-size at least 29 + 32. */
  fail_unless_equals_int (HANGOUT_TRANSFER2_MIN_CHUNK_SIZE, 61);
  parse (min_chunk, &c);
  fail_unless_equals_int (c.chunk_size, 61);
  hangout_transfer2_control_clear (&c);
  refused (small_chunk, "\"chunk-size\" 60 is out of range");
  parse (max_chunk, &c);
  fail_unless_equals_int (c.chunk_size, HANGOUT_TRANSFER_MAX_CHUNK_SIZE);
  hangout_transfer2_control_clear (&c);
  refused (big_chunk, "is out of range");

  /* root: 64 lower-case hex digits or null; else the offer is ignored. */
  for (guint i = 0; i < G_N_ELEMENTS (bad_roots); i++) {
    g_autofree gchar *text = g_strdup_printf ("{\"type\":\"offer\","
        "\"version\":2,\"id\":\"" ID "\",\"name\":\"f\",\"size\":1,"
        "\"mime\":\"x/y\",\"chunk-size\":65536,\"piece-size\":65536,"
        "\"window\":8388608,\"root\":%s}", bad_roots[i]);

    refused (text, "\"root\"");
  }
  refused ("{\"type\":\"offer\",\"version\":2,\"id\":\"" ID "\",\"name\":\"f\","
      "\"size\":1,\"mime\":\"x/y\",\"chunk-size\":65536,\"piece-size\":65536,"
      "\"window\":8388608}", "\"root\" is missing");
  /* size null implies root null (§4.3). */
  refused ("{\"type\":\"offer\",\"version\":2,\"id\":\"" ID "\",\"name\":\"f\","
      "\"size\":null,\"mime\":\"x/y\",\"chunk-size\":65536,"
      "\"piece-size\":65536,\"window\":8388608,\"root\":\"" ROOT "\"}",
      "\"root\" of a file of unknown size");
  /* Malformed beats unsupported: nothing is answered. */
  refused ("{\"type\":\"offer\",\"version\":2,\"id\":\"" ID "\",\"name\":\"f\","
      "\"size\":1,\"mime\":\"x/y\",\"chunk-size\":65536,\"piece-size\":1,"
      "\"window\":1,\"root\":\"nope\"}", "\"root\"");
}

GST_END_TEST;

/* A have, request or unavailable with @pieces (JSON text). */
static gchar *
ranges_message (const gchar *type, const gchar *pieces)
{
  if (g_str_equal (type, "have"))
    return g_strdup_printf ("{\"type\":\"have\",\"id\":\"" ID "\","
        "\"next\":0,\"pieces\":%s}", pieces);
  return g_strdup_printf ("{\"type\":\"%s\",\"id\":\"" ID "\","
      "\"pieces\":%s}", type, pieces);
}

GST_START_TEST (test_range_limits)
{
  const gchar *types[] = { "have", "request", "unavailable" };
  const gchar *bad[] = {
    "[[0,0]]",                  /* count ≥ 1 */
    "[[5,1],[2,1]]",            /* ascending */
    "[[0,3],[2,1]]",            /* not overlapping */
    "[[4,1],[4,1]]",
    "[[-1,2]]",
    "[[0,-1]]",
    "[[562949953421312,1]]",    /* 2^49: past every file's last piece */
    "[[562949953421311,2]]",
    "[[0,9223372036854775807]]",
  };
  GString *ranges = g_string_new ("[");
  g_autofree gchar *max_ranges = NULL;
  g_autofree gchar *too_many = NULL;

  /* [0,1],[2,1],…,[126,1]: 64 ranges; then one more. */
  for (guint i = 0; i < HANGOUT_TRANSFER2_MAX_RANGES; i++)
    g_string_append_printf (ranges, "%s[%u,1]", i ? "," : "", 2 * i);
  max_ranges = g_strconcat (ranges->str, "]", NULL);
  too_many = g_strconcat (ranges->str, ",[1000,1]]", NULL);
  g_string_free (ranges, TRUE);

  for (guint t = 0; t < G_N_ELEMENTS (types); t++) {
    HangoutTransfer2Control c;
    g_autofree gchar *at_bound = ranges_message (types[t], max_ranges);
    g_autofree gchar *past_bound = ranges_message (types[t], too_many);
    g_autofree gchar *adjacent = ranges_message (types[t], "[[0,2],[2,1]]");
    g_autofree gchar *last = ranges_message (types[t],
        "[[562949953421311,1]]");

    parse (at_bound, &c);
    fail_unless_equals_int (c.pieces->len, HANGOUT_TRANSFER2_MAX_RANGES);
    fail_unless_equals_uint64 (g_array_index (c.pieces, HangoutTransfer2Range,
            63).first, 126);
    hangout_transfer2_control_clear (&c);
    refused (past_bound, "65 ranges, more than 64");

    /* Touching ranges do not overlap. */
    parse (adjacent, &c);
    fail_unless_equals_int (c.pieces->len, 2);
    hangout_transfer2_control_clear (&c);
    parse (last, &c);
    fail_unless_equals_uint64 (g_array_index (c.pieces, HangoutTransfer2Range,
            0).first, HANGOUT_TRANSFER2_MAX_PIECES - 1);
    hangout_transfer2_control_clear (&c);

    for (guint i = 0; i < G_N_ELEMENTS (bad); i++) {
      g_autofree gchar *text = ranges_message (types[t], bad[i]);

      refused (text, "range");
    }
  }

  /* A have announces pieces from its next on. */
  {
    HangoutTransfer2Control c;

    parse ("{\"type\":\"have\",\"id\":\"" ID "\",\"next\":7,"
        "\"pieces\":[[7,1],[9,2]]}", &c);
    fail_unless_equals_uint64 (c.next, 7);
    fail_unless_equals_int (c.pieces->len, 2);
    hangout_transfer2_control_clear (&c);
    refused ("{\"type\":\"have\",\"id\":\"" ID "\",\"next\":7,"
        "\"pieces\":[[6,1]]}", "out of order");
    /* next may be the end of the largest file, not past it. */
    parse ("{\"type\":\"have\",\"id\":\"" ID "\",\"next\":562949953421312,"
        "\"pieces\":[]}", &c);
    fail_unless_equals_uint64 (c.next, HANGOUT_TRANSFER2_MAX_PIECES);
    hangout_transfer2_control_clear (&c);
    refused ("{\"type\":\"have\",\"id\":\"" ID "\",\"next\":562949953421313,"
        "\"pieces\":[]}", "\"next\"");
  }
}

GST_END_TEST;

/* The fixed bounds are what they claim to be. */
GST_START_TEST (test_bounds)
{
  fail_unless_equals_uint64 (HANGOUT_TRANSFER2_MAX_PIECES,
      ((guint64) G_MAXINT64 + HANGOUT_MERKLE_BLOCK_SIZE - 1)
      / HANGOUT_MERKLE_BLOCK_SIZE);
  fail_unless_equals_int (HANGOUT_TRANSFER2_MAX_PROOF,
      hangout_merkle_depth (G_MAXINT64));
}

GST_END_TEST;

static gchar *
swarm_of (guint n, const gchar *extra)
{
  GString *text = g_string_new ("{\"type\":\"swarm\",\"id\":\"" ID
      "\",\"members\":[");

  for (guint i = 0; i < n; i++)
    g_string_append_printf (text, "%s\"%032x\"", i ? "," : "", i);
  if (extra != NULL)
    g_string_append_printf (text, "%s%s", n ? "," : "", extra);
  g_string_append (text, "]}");
  return g_string_free (text, FALSE);
}

GST_START_TEST (test_swarm_limits)
{
  HangoutTransfer2Control c;
  g_autofree gchar *full = swarm_of (HANGOUT_TRANSFER2_MAX_SWARM, NULL);
  g_autofree gchar *over = swarm_of (HANGOUT_TRANSFER2_MAX_SWARM + 1, NULL);
  g_autofree gchar *empty = swarm_of (0, NULL);
  const gchar *bad[] = {
    "\"B0B0B0B0B0B0B0B0B0B0B0B0B0B0B0B0\"",     /* lower case only */
    "\"b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b\"",      /* 31 digits */
    "\"b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b\"",    /* 33 */
    "\"c9a4e2a0-4f3b-4f6e-9d55-3c1e2b7a9f10\"", /* a UUID */
    "\"\"", "null", "7", "[\"" BOB "\"]",
  };

  parse (full, &c);
  fail_unless_equals_int (g_strv_length (c.members),
      HANGOUT_TRANSFER2_MAX_SWARM);
  fail_unless_equals_string (c.members[1023],
      "000000000000000000000000000003ff");
  hangout_transfer2_control_clear (&c);
  refused (over, "a swarm of 1025, more than 1024");
  parse (empty, &c);
  fail_unless_equals_int (g_strv_length (c.members), 0);
  hangout_transfer2_control_clear (&c);

  for (guint i = 0; i < G_N_ELEMENTS (bad); i++) {
    g_autofree gchar *text = swarm_of (2, bad[i]);

    refused (text, "swarm member 2 is not a signalling id");
  }
  {
    g_autofree gchar *twice = swarm_of (3,
        "\"00000000000000000000000000000001\"");

    refused (twice, "listed twice");
  }
  refused ("{\"type\":\"corrupt\",\"id\":\"" ID "\",\"piece\":1,"
      "\"from\":\"carol\"}", "\"from\" is not a signalling id");
}

GST_END_TEST;

static void
on_welcome (HangoutSignaller *signaller, const gchar *own_id,
    GPtrArray *members, GPtrArray *ice_servers, GPtrArray *ids)
{
  g_ptr_array_add (ids, g_strdup (own_id));
}

/* The in-process signaller, which the share layer's tests meet through,
 * hands out ids a swarm may carry. */
GST_START_TEST (test_swarm_of_in_process_ids)
{
  g_autoptr (GMainContext) context = g_main_context_new ();
  g_autoptr (HangoutLocalHub) hub = hangout_local_hub_new ();
  g_autoptr (GPtrArray) ids = g_ptr_array_new_with_free_func (g_free);
  HangoutSignaller *members[2];
  g_autofree gchar *swarm = NULL;
  HangoutTransfer2Control c;
  g_autoptr (GError) error = NULL;

  g_main_context_push_thread_default (context);
  for (guint i = 0; i < 2; i++) {
    members[i] = hangout_local_signaller_new (hub, context);
    g_signal_connect (members[i], "welcome", G_CALLBACK (on_welcome), ids);
    fail_unless (hangout_signaller_start (members[i], "room", "m", &error));
  }
  while (ids->len < 2)
    g_main_context_iteration (context, TRUE);
  g_ptr_array_add (ids, NULL);
  swarm = hangout_transfer2_build_swarm (ID, (const gchar * const *)
      ids->pdata);
  parse (swarm, &c);
  fail_unless_equals_int (g_strv_length (c.members), 2);
  fail_unless_equals_string (c.members[0], ids->pdata[0]);
  fail_unless_equals_string (c.members[1], ids->pdata[1]);
  hangout_transfer2_control_clear (&c);
  for (guint i = 0; i < 2; i++) {
    hangout_signaller_stop (members[i]);
    g_object_unref (members[i]);
  }
  g_main_context_pop_thread_default (context);
}

GST_END_TEST;

/* ---- malformed and unknown messages ---- */

GST_START_TEST (test_malformed)
{
  const struct {
    const gchar *text, *why;
  } cases[] = {
    {"", "control message refused"},
    {"[]", "control message refused"},
    {"{\"type\":\"accept\",\"id\":\"" ID "\"} x", "control message refused"},
    {"{\"id\":\"" ID "\"}", "no string \"type\""},
    {"{\"type\":2}", "no string \"type\""},
    /* missing members */
    {"{\"type\":\"accept\"}", "\"id\" is missing"},
    {"{\"type\":\"swarm\",\"id\":\"" ID "\"}", "\"members\" is missing"},
    {"{\"type\":\"have\",\"id\":\"" ID "\",\"pieces\":[]}", "\"next\""},
    {"{\"type\":\"have\",\"id\":\"" ID "\",\"next\":0}", "\"pieces\""},
    {"{\"type\":\"request\",\"id\":\"" ID "\"}", "\"pieces\" is missing"},
    {"{\"type\":\"corrupt\",\"id\":\"" ID "\",\"from\":\"" BOB "\"}",
        "\"piece\""},
    {"{\"type\":\"corrupt\",\"id\":\"" ID "\",\"piece\":1}", "\"from\""},
    {"{\"type\":\"end\",\"version\":2,\"id\":\"" ID "\",\"root\":\"" ROOT
          "\"}", "\"size\""},
    {"{\"type\":\"end\",\"version\":2,\"id\":\"" ID "\",\"size\":1}",
        "\"root\" is missing"},
    {"{\"type\":\"end\",\"version\":2,\"id\":\"" ID "\",\"size\":1,"
          "\"root\":null}", "\"root\""},
    {"{\"type\":\"ack\",\"version\":2,\"id\":\"" ID "\",\"root\":null}",
        "\"ok\""},
    {"{\"type\":\"ack\",\"version\":2,\"id\":\"" ID "\",\"ok\":true}",
        "\"root\" is missing"},
    {"{\"type\":\"offer\",\"id\":\"" ID "\"}", "\"version\""},
    {"{\"type\":\"capabilities\"}", "\"transfer\" is missing"},
    /* wrong types */
    {"{\"type\":\"accept\",\"id\":7}", "\"id\""},
    {"{\"type\":\"accept\",\"id\":\"3F2A00112233445566778899AABBCCDD\"}",
        "\"id\" is not 32 lower-case hex digits"},
    {"{\"type\":\"swarm\",\"id\":\"" ID "\",\"members\":\"" BOB "\"}",
        "\"members\" is missing or not an array"},
    {"{\"type\":\"request\",\"id\":\"" ID "\",\"pieces\":{\"0\":1}}",
        "not an array"},
    {"{\"type\":\"request\",\"id\":\"" ID "\",\"pieces\":[[1,\"2\"]]}",
        "range 0 is not [first, count]"},
    {"{\"type\":\"request\",\"id\":\"" ID "\",\"pieces\":[[1.0,2]]}",
        "range 0 is not [first, count]"},
    {"{\"type\":\"request\",\"id\":\"" ID "\",\"pieces\":[[1]]}",
        "range 0 is not [first, count]"},
    {"{\"type\":\"request\",\"id\":\"" ID "\",\"pieces\":[[1,2,3]]}",
        "range 0 is not [first, count]"},
    {"{\"type\":\"request\",\"id\":\"" ID "\",\"pieces\":[1,2]}",
        "range 0 is not [first, count]"},
    {"{\"type\":\"request\",\"id\":\"" ID "\",\"pieces\":[[0,1],null]}",
        "range 1 is not [first, count]"},
    {"{\"type\":\"have\",\"id\":\"" ID "\",\"next\":\"0\",\"pieces\":[]}",
        "\"next\""},
    {"{\"type\":\"corrupt\",\"id\":\"" ID "\",\"piece\":-1,\"from\":\"" BOB
          "\"}", "\"piece\""},
    {"{\"type\":\"corrupt\",\"id\":\"" ID "\",\"piece\":562949953421312,"
          "\"from\":\"" BOB "\"}", "beyond any file's pieces"},
    {"{\"type\":\"ack\",\"version\":2,\"id\":\"" ID "\",\"ok\":\"true\","
          "\"root\":null}", "\"ok\" is missing or not a boolean"},
    {"{\"type\":\"ack\",\"version\":2,\"id\":\"" ID "\",\"ok\":1,"
          "\"root\":null}", "\"ok\""},
    {"{\"type\":\"capabilities\",\"transfer\":2}", "not an array"},
    {"{\"type\":\"capabilities\",\"transfer\":[1,\"2\"]}",
        "\"transfer\" element 1 is not a version"},
    {"{\"type\":\"capabilities\",\"transfer\":[0]}", "element 0"},
    {"{\"type\":\"capabilities\",\"transfer\":[-2]}", "element 0"},
    {"{\"type\":\"capabilities\",\"transfer\":[[2]]}", "element 0"},
    /* versions */
    {"{\"type\":\"offer\",\"version\":3,\"id\":\"" ID "\"}",
        "unsupported transfer version 3"},
    {"{\"type\":\"offer\",\"version\":\"2\",\"id\":\"" ID "\"}",
        "\"version\""},
    {"{\"type\":\"end\",\"version\":null,\"id\":\"" ID "\"}", "\"version\""},
    {"{\"type\":\"ack\",\"version\":0,\"id\":\"" ID "\"}",
        "unsupported transfer version 0"},
    {"{\"type\":\"ack\",\"version\":[2],\"id\":\"" ID "\"}", "\"version\""},
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    refused (cases[i].text, cases[i].why);
  /* Nesting deeper than the JSON parser's bound, inside a known type. */
  {
    GString *deep = g_string_new ("{\"type\":\"request\",\"id\":\"" ID
        "\",\"pieces\":");

    for (guint i = 0; i < 40; i++)
      g_string_append_c (deep, '[');
    for (guint i = 0; i < 40; i++)
      g_string_append_c (deep, ']');
    g_string_append_c (deep, '}');
    refused (deep->str, "control message refused");
    g_string_free (deep, TRUE);
  }
}

GST_END_TEST;

/* §2.2: unknown types and members are ignored, so later versions can add
 * some; reject and abort, and version 1's offer, end and ack, go to the
 * version 1 parser. */
GST_START_TEST (test_unknown_and_version1)
{
  HangoutTransfer2Control c;
  const gchar *unknown[] = {
    "{\"type\":\"piece-map\",\"id\":\"" ID "\",\"bits\":[[[1]]]}",
    "{\"type\":\"\"}",
    "{\"type\":\"Offer\",\"version\":2}",
  };
  const gchar *version1[] = {
    "{\"type\":\"offer\",\"version\":1,\"id\":\"" ID "\"}",
    "{\"type\":\"end\",\"id\":\"" ID "\",\"size\":1,\"sha256\":\"" ROOT "\"}",
    "{\"type\":\"end\",\"version\":1,\"id\":\"" ID "\",\"size\":1,"
        "\"sha256\":\"" ROOT "\"}",
    "{\"type\":\"ack\",\"id\":\"" ID "\",\"ok\":false,\"sha256\":null}",
    "{\"type\":\"reject\",\"id\":\"" ID "\",\"reason\":\"file id in use\"}",
    "{\"type\":\"abort\",\"id\":\"" ID "\",\"reason\":\"stopped\"}",
  };

  for (guint i = 0; i < G_N_ELEMENTS (unknown); i++) {
    parse (unknown[i], &c);
    fail_unless_equals_int (c.type, HANGOUT_TRANSFER2_UNKNOWN);
    hangout_transfer2_control_clear (&c);
  }
  for (guint i = 0; i < G_N_ELEMENTS (version1); i++) {
    parse (version1[i], &c);
    fail_unless_equals_int (c.type, HANGOUT_TRANSFER2_VERSION1);
    hangout_transfer2_control_clear (&c);
  }

  /* Unknown members, of any kind, beside the known ones. */
  parse ("{\"type\":\"have\",\"id\":\"" ID "\",\"next\":3,\"pieces\":[[4,2]],"
      "\"extra\":{\"deeper\":[1,[2,{}]]},\"pieces2\":\"x\"}", &c);
  fail_unless_equals_int (c.type, HANGOUT_TRANSFER2_HAVE);
  fail_unless_equals_uint64 (c.next, 3);
  fail_unless_equals_int (c.pieces->len, 1);
  hangout_transfer2_control_clear (&c);
  parse ("{\"type\":\"swarm\",\"id\":\"" ID "\",\"members\":[\"" BOB "\"],"
      "\"epoch\":4}", &c);
  fail_unless_equals_string (c.members[0], BOB);
  hangout_transfer2_control_clear (&c);
  parse ("{\"type\":\"offer\",\"version\":2,\"id\":\"" ID "\",\"name\":\"f\","
      "\"size\":1,\"mime\":\"x/y\",\"chunk-size\":65536,\"piece-size\":65536,"
      "\"window\":8388608,\"root\":null,\"hash\":\"blake3\"}", &c);
  fail_unless_equals_int (c.type, HANGOUT_TRANSFER2_OFFER);
  fail_unless_equals_int (c.piece_size, 65536);
  hangout_transfer2_control_clear (&c);

  /* Versions a later member speaks are left out, not refused. */
  parse ("{\"type\":\"capabilities\",\"transfer\":[1,2,3,40,2],\"x\":1}", &c);
  fail_unless_equals_int (c.versions, 1 << 1 | 1 << 2 | 1 << 3);
  hangout_transfer2_control_clear (&c);
  parse ("{\"type\":\"capabilities\",\"transfer\":[1]}", &c);
  fail_unless_equals_int (c.versions, 1 << 1);
  fail_if (c.versions & 1 << HANGOUT_TRANSFER2_VERSION);
  hangout_transfer2_control_clear (&c);
}

GST_END_TEST;

/* ---- binary messages ---- */

GST_START_TEST (test_binary_kind)
{
  const guint8 bytes[] = { 0x00, 0x01, 0x02, 0x03, 0x04, 0x7b, 0xff };
  const HangoutTransfer2BinaryKind kinds[] = {
    HANGOUT_TRANSFER2_BINARY_DROP, HANGOUT_TRANSFER2_BINARY_DATA,
    HANGOUT_TRANSFER2_BINARY_PIECE, HANGOUT_TRANSFER2_BINARY_HASHES,
    HANGOUT_TRANSFER2_BINARY_DROP, HANGOUT_TRANSFER2_BINARY_DROP,
    HANGOUT_TRANSFER2_BINARY_DROP,
  };

  for (guint i = 0; i < G_N_ELEMENTS (bytes); i++)
    fail_unless_equals_int (hangout_transfer2_binary_kind (bytes + i, 1),
        kinds[i]);
  fail_unless_equals_int (hangout_transfer2_binary_kind (NULL, 0),
      HANGOUT_TRANSFER2_BINARY_DROP);
  /* Version 1's builder writes what the kind calls version 1 data. */
  {
    const guint8 payload[] = { 42 };
    g_autoptr (GBytes) data = hangout_transfer_build_data (ID, 0, payload, 1);

    fail_unless_equals_int (hangout_transfer2_binary_kind (g_bytes_get_data
            (data, NULL), g_bytes_get_size (data)),
        HANGOUT_TRANSFER2_BINARY_DATA);
  }
}

GST_END_TEST;

/* A piece message of @len bytes (header included), role @role, @offset. */
static guint8 *
piece_message (gsize len, guint8 role, guint64 offset)
{
  guint8 *data = g_malloc0 (len);

  data[0] = 0x02;
  hex_to_bytes (ID, data + 1);
  data[17] = role;
  for (guint i = 0; i < 8; i++)
    data[18 + i] = (guint8) (offset >> (56 - 8 * i));
  return data;
}

static void
piece_refused (const guint8 *data, gsize len, const gchar *why)
{
  HangoutTransfer2Piece p;
  g_autoptr (GError) error = NULL;

  fail_if (hangout_transfer2_parse_piece (data, len, &p, &error));
  fail_unless (g_error_matches (error, HANGOUT_ERROR,
          HANGOUT_ERROR_INVALID_MESSAGE));
  fail_unless (strstr (error->message, why) != NULL, "\"%s\" lacks \"%s\"",
      error->message, why);
}

GST_START_TEST (test_piece_messages)
{
  const gsize max = HANGOUT_TRANSFER2_PIECE_HEADER_SIZE
      + HANGOUT_TRANSFER2_MAX_PIECE_SIZE;
  g_autofree guint8 *big = piece_message (max + 1, 3, 0);
  g_autofree guint8 *one = piece_message (27, 0, 0);
  g_autoptr (GError) error = NULL;
  HangoutTransfer2Piece p;

  /* Every role round trips, at offsets up to the largest. */
  for (guint role = 0; role <= 3; role++) {
    const guint64 offsets[] = { 0, 65536, (guint64) G_MAXINT64 - 3 };
    const guint8 payload[] = { 'a', 'b', 'c' };

    for (guint i = 0; i < G_N_ELEMENTS (offsets); i++) {
      g_autoptr (GBytes) msg = hangout_transfer2_build_piece (ID, role,
          offsets[i], payload, sizeof payload);
      const guint8 *data = g_bytes_get_data (msg, NULL);

      fail_unless (hangout_transfer2_parse_piece (data,
              g_bytes_get_size (msg), &p, &error));
      fail_unless_equals_string (p.id, ID);
      fail_unless_equals_int (p.role, role);
      fail_unless_equals_uint64 (p.offset, offsets[i]);
      fail_unless_equals_int (p.payload_len, 3);
      fail_unless (p.payload == data + 26);
      fail_unless (memcmp (p.payload, "abc", 3) == 0);
    }
  }

  /* Sizes: 1 payload byte to a whole piece of the largest size. */
  fail_unless (hangout_transfer2_parse_piece (one, 27, &p, &error));
  fail_unless_equals_int (p.payload_len, 1);
  piece_refused (one, 26, "has no payload");
  piece_refused (one, 17, "has no payload");
  piece_refused (one, 1, "has no payload");
  piece_refused (one, 0, "not piece data");
  fail_unless (hangout_transfer2_parse_piece (big, max, &p, &error));
  fail_unless_equals_int (p.payload_len, HANGOUT_TRANSFER2_MAX_PIECE_SIZE);
  piece_refused (big, max + 1, "more than any piece");

  /* Role 4 and up; the wrong kind; an end past 2^63 - 1. */
  for (guint role = 4; role < 256; role += 50) {
    g_autofree guint8 *bad = piece_message (30, (guint8) role, 0);

    piece_refused (bad, 30, "role");
  }
  {
    g_autofree guint8 *hashes = piece_message (30, 0, 0);
    g_autofree guint8 *last = piece_message (30, 0, G_MAXINT64 - 4);
    g_autofree guint8 *past = piece_message (30, 0, G_MAXINT64 - 3);
    g_autofree guint8 *wrapped = piece_message (30, 0, G_MAXUINT64);

    hashes[0] = 0x03;
    piece_refused (hashes, 30, "not piece data");
    hashes[0] = 0x01;
    piece_refused (hashes, 30, "not piece data");
    fail_unless (hangout_transfer2_parse_piece (last, 30, &p, &error));
    fail_unless_equals_uint64 (p.offset + p.payload_len, G_MAXINT64);
    piece_refused (past, 30, "past 2^63 - 1");
    piece_refused (wrapped, 30, "past 2^63 - 1");
  }
}

GST_END_TEST;

/* A hashes message: @count in its header, @body bytes after it. */
static guint8 *
hashes_message (guint64 first, guint32 count, gsize body)
{
  guint8 *data = g_malloc0 (29 + body);

  data[0] = 0x03;
  hex_to_bytes (ID, data + 1);
  for (guint i = 0; i < 8; i++)
    data[17 + i] = (guint8) (first >> (56 - 8 * i));
  for (guint i = 0; i < 4; i++)
    data[25 + i] = (guint8) (count >> (24 - 8 * i));
  for (gsize i = 0; i < body; i++)
    data[29 + i] = (guint8) i;
  return data;
}

static void
hashes_refused (const guint8 *data, gsize len, const gchar *why)
{
  HangoutTransfer2Hashes h;
  g_autoptr (GError) error = NULL;

  fail_if (hangout_transfer2_parse_hashes (data, len, &h, &error));
  fail_unless (g_error_matches (error, HANGOUT_ERROR,
          HANGOUT_ERROR_INVALID_MESSAGE));
  fail_unless (strstr (error->message, why) != NULL, "\"%s\" lacks \"%s\"",
      error->message, why);
}

GST_START_TEST (test_hashes_messages)
{
  g_autoptr (GError) error = NULL;
  HangoutTransfer2Hashes h;
  guint8 run[1024 * 32];

  /* Round trips: 1 to 1024 hashes (what fits in 65536), with and without
   * proofs. */
  for (gsize i = 0; i < sizeof run; i++)
    run[i] = (guint8) (i * 7);
  for (guint count = 1; count <= 1024; count *= 4) {
    for (guint proof_len = 0; proof_len <= HANGOUT_TRANSFER2_MAX_PROOF;
        proof_len += 7) {
      g_autoptr (GBytes) msg = hangout_transfer2_build_hashes (ID, 4 * count,
          run, count, proof_len ? run + 32 : NULL, proof_len);
      const guint8 *data = g_bytes_get_data (msg, NULL);

      fail_unless_equals_int (g_bytes_get_size (msg),
          29 + 32 * (count + proof_len));
      fail_unless (hangout_transfer2_parse_hashes (data,
              g_bytes_get_size (msg), &h, &error));
      fail_unless_equals_string (h.id, ID);
      fail_unless_equals_uint64 (h.first, 4 * count);
      fail_unless_equals_int (h.count, count);
      fail_unless_equals_int (h.proof_len, proof_len);
      fail_unless (h.hashes == data + 29);
      fail_unless (h.proof == data + 29 + 32 * count);
      fail_unless (memcmp (h.hashes, run, 32 * count) == 0);
      fail_unless (proof_len == 0 || memcmp (h.proof, run + 32,
              32 * proof_len) == 0);
    }
  }
  {
    g_autoptr (GBytes) full = hangout_transfer2_build_hashes (ID, 0, run,
        1024, NULL, 0);

    fail_unless (29 + 1024 * 32 <= 65536 + 29);
    fail_unless_equals_int (g_bytes_get_size (full), 29 + 1024 * 32);
  }

  {
    g_autofree guint8 *none = hashes_message (0, 0, 64);
    g_autofree guint8 *three = hashes_message (0, 3, 96 + 32 * 50);
    g_autofree guint8 *huge = hashes_message (0, G_MAXUINT32, 64);
    g_autofree guint8 *last = hashes_message (HANGOUT_TRANSFER2_MAX_PIECES - 1,
        1, 32);
    g_autofree guint8 *past = hashes_message (HANGOUT_TRANSFER2_MAX_PIECES, 1,
        32);
    g_autofree guint8 *wrapped = hashes_message (G_MAXUINT64, 2, 64);

    hashes_refused (none, 29 + 64, "piece hashes with none");
    /* Truncated: the header, then fewer hashes than counted. */
    hashes_refused (three, 0, "not piece hashes");
    hashes_refused (three, 28, "shorter than the header");
    hashes_refused (three, 29, "3 piece hashes in 0 bytes");
    hashes_refused (three, 29 + 95, "3 piece hashes in 95 bytes");
    hashes_refused (huge, 29 + 64, "4294967295 piece hashes in 64 bytes");
    /* The proof: a multiple of 32 bytes, at most one hash per level. */
    fail_unless (hangout_transfer2_parse_hashes (three, 29 + 96, &h, &error));
    fail_unless_equals_int (h.proof_len, 0);
    hashes_refused (three, 29 + 96 + 1, "a proof of 1 bytes, not a multiple");
    hashes_refused (three, 29 + 96 + 31, "a proof of 31 bytes");
    hashes_refused (three, 29 + 96 + 33, "a proof of 33 bytes");
    fail_unless (hangout_transfer2_parse_hashes (three, 29 + 96 + 32 * 49, &h,
            &error));
    fail_unless_equals_int (h.proof_len, 49);
    hashes_refused (three, 29 + 96 + 32 * 50,
        "a proof of 50 hashes, more than any tree has levels");
    /* The run's end: within the pieces of the largest file. */
    fail_unless (hangout_transfer2_parse_hashes (last, 29 + 32, &h, &error));
    hashes_refused (past, 29 + 32, "beyond any file's pieces");
    hashes_refused (wrapped, 29 + 64, "beyond any file's pieces");
    last[0] = 0x02;
    hashes_refused (last, 29 + 32, "not piece hashes");
  }
}

GST_END_TEST;

/* ---- the range set ---- */

GST_START_TEST (test_ranges)
{
  g_autoptr (GArray) r = hangout_transfer2_ranges_new ();
  const guint64 merged[][2] = { {0, 3}, {5, 1}, {10, 11} };

  hangout_transfer2_ranges_add (r, 10, 1);
  hangout_transfer2_ranges_add (r, 0, 1);
  hangout_transfer2_ranges_add (r, 20, 1);
  hangout_transfer2_ranges_add (r, 2, 1);
  hangout_transfer2_ranges_add (r, 1, 1);       /* joins [0,1] and [2,1] */
  hangout_transfer2_ranges_add (r, 5, 1);
  hangout_transfer2_ranges_add (r, 11, 9);      /* joins 10 and 20 */
  hangout_transfer2_ranges_add (r, 12, 3);      /* already held */
  assert_ranges (r, merged, G_N_ELEMENTS (merged));
  fail_unless (hangout_transfer2_ranges_contains (r, 0));
  fail_unless (hangout_transfer2_ranges_contains (r, 2));
  fail_if (hangout_transfer2_ranges_contains (r, 3));
  fail_if (hangout_transfer2_ranges_contains (r, 4));
  fail_unless (hangout_transfer2_ranges_contains (r, 5));
  fail_if (hangout_transfer2_ranges_contains (r, 6));
  fail_unless (hangout_transfer2_ranges_contains (r, 20));
  fail_if (hangout_transfer2_ranges_contains (r, 21));
  fail_if (hangout_transfer2_ranges_contains (r, G_MAXUINT64));
  /* One range over all of them. */
  hangout_transfer2_ranges_add (r, 0, 30);
  fail_unless_equals_int (r->len, 1);
  fail_unless_equals_uint64 (g_array_index (r, HangoutTransfer2Range,
          0).count, 30);
}

GST_END_TEST;

/* Against a plain array of flags, over many random additions: the set
 * holds exactly the pieces added, merged, and writes a have that parses
 * back to itself. */
GST_START_TEST (test_ranges_random)
{
  GRand *rand = g_rand_new_with_seed (20261201);

  for (guint round = 0; round < 200; round++) {
    g_autoptr (GArray) r = hangout_transfer2_ranges_new ();
    gboolean held[256] = { FALSE };
    guint adds = g_rand_int_range (rand, 1, 40);

    for (guint a = 0; a < adds; a++) {
      guint first = g_rand_int_range (rand, 0, 250);
      guint count = g_rand_int_range (rand, 1, 7);

      hangout_transfer2_ranges_add (r, first, count);
      for (guint i = first; i < first + count; i++)
        held[i] = TRUE;
    }
    for (guint i = 0; i < 256; i++)
      fail_unless_equals_int (hangout_transfer2_ranges_contains (r, i),
          held[i]);
    for (guint i = 0; i < r->len; i++) {
      HangoutTransfer2Range *x = &g_array_index (r, HangoutTransfer2Range, i);

      fail_unless (x->count >= 1);
      if (i > 0) {
        HangoutTransfer2Range *prev = x - 1;

        /* Merged: a gap between any two. */
        fail_unless (prev->first + prev->count < x->first);
      }
    }
    if (r->len <= HANGOUT_TRANSFER2_MAX_RANGES) {
      g_autofree gchar *have = hangout_transfer2_build_have (ID, 0, r);
      HangoutTransfer2Control c;

      parse (have, &c);
      fail_unless_equals_int (c.pieces->len, r->len);
      fail_unless (memcmp (c.pieces->data, r->data,
              r->len * sizeof (HangoutTransfer2Range)) == 0);
      hangout_transfer2_control_clear (&c);
    }
  }
  g_rand_free (rand);
}

GST_END_TEST;

static Suite *
transfer2_suite (void)
{
  Suite *s = suite_create ("transfer2");
  TCase *tc = tcase_create ("wire");

  suite_add_tcase (s, tc);
  tcase_add_test (tc, test_round_trip);
  tcase_add_test (tc, test_builders_bound_ranges);
  tcase_add_test (tc, test_example_control);
  tcase_add_test (tc, test_example_binary);
  tcase_add_test (tc, test_piece_size_and_window);
  tcase_add_test (tc, test_offer_limits);
  tcase_add_test (tc, test_range_limits);
  tcase_add_test (tc, test_bounds);
  tcase_add_test (tc, test_swarm_limits);
  tcase_add_test (tc, test_swarm_of_in_process_ids);
  tcase_add_test (tc, test_malformed);
  tcase_add_test (tc, test_unknown_and_version1);
  tcase_add_test (tc, test_binary_kind);
  tcase_add_test (tc, test_piece_messages);
  tcase_add_test (tc, test_hashes_messages);
  tcase_add_test (tc, test_ranges);
  tcase_add_test (tc, test_ranges_random);
  return s;
}

GST_CHECK_MAIN (transfer2);
