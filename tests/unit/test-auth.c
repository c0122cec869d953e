/* gst-hangout — the room secret's key, proofs and the short authentication
 * string (gst/libhangout/auth.c) against fixed vectors computed apart from
 * it (Python's hashlib and hmac; the same vector is in docs/protocol.md
 * §3.5, so the web page checks against it too).
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#include <gst/check/gstcheck.h>
#include <hangout/auth.h>
#include <string.h>

#define SECRET "correct horse battery staple"
#define ROOM "team"
#define KEY_HEX "2eebb3eec71d662bce1ebf60e8b955e9384a1d753b7fffef254b5ec22e8de1ad"
#define FP_A "sha-256 00:01:02:03:04:05:06:07:08:09:0A:0B:0C:0D:0E:0F:10:11:" \
  "12:13:14:15:16:17:18:19:1A:1B:1C:1D:1E:1F"
#define FP_B "sha-256 FF:FE:FD:FC:FB:FA:F9:F8:F7:F6:F5:F4:F3:F2:F1:F0:EF:EE:" \
  "ED:EC:EB:EA:E9:E8:E7:E6:E5:E4:E3:E2:E1:E0"
#define ID_A "0123456789abcdef0123456789abcdef"
#define ID_B "fedcba9876543210fedcba9876543210"
#define PROOF_AB "aabce64be315e629ea3a29f1a0ba445226ee129e54541bc845ea1144c54189b2"
#define PROOF_BA "b84a15a54a3d001f838e4c01e45635074c840c6fdef30997e0e5568f051429f9"
#define SAS_AB "796996"

GST_START_TEST (test_key)
{
  guint8 key[HANGOUT_AUTH_KEY_SIZE];
  gchar hex[2 * HANGOUT_AUTH_KEY_SIZE + 1];

  hangout_auth_derive_key (SECRET, ROOM, key);
  for (guint i = 0; i < sizeof key; i++)
    g_snprintf (hex + 2 * i, 3, "%02x", key[i]);
  fail_unless_equals_string (hex, KEY_HEX);
}

GST_END_TEST;

GST_START_TEST (test_proof)
{
  guint8 key[HANGOUT_AUTH_KEY_SIZE], other[HANGOUT_AUTH_KEY_SIZE];
  g_autofree gchar *ab = NULL, *ba = NULL, *lower = NULL, *upper = NULL;

  hangout_auth_derive_key (SECRET, ROOM, key);
  ab = hangout_auth_build_proof (key, FP_A, FP_B, ID_A, ID_B);
  ba = hangout_auth_build_proof (key, FP_B, FP_A, ID_B, ID_A);
  fail_unless_equals_string (ab, PROOF_AB);
  fail_unless_equals_string (ba, PROOF_BA);

  /* The receiver recomputes with the roles swapped. */
  fail_unless (hangout_auth_verify_proof (key, PROOF_AB, FP_A, FP_B, ID_A,
          ID_B));
  upper = g_ascii_strup (PROOF_AB, -1);
  fail_unless (hangout_auth_verify_proof (key, upper, FP_A, FP_B, ID_A,
          ID_B));
  /* Fingerprints are normalised before they are hashed. */
  lower = g_ascii_strdown (FP_A, -1);
  fail_unless (hangout_auth_verify_proof (key, PROOF_AB, lower, FP_B, ID_A,
          ID_B));

  /* Anything else bound into it changes it. */
  fail_if (hangout_auth_verify_proof (key, PROOF_AB, FP_B, FP_A, ID_A, ID_B));
  fail_if (hangout_auth_verify_proof (key, PROOF_AB, FP_A, FP_B, ID_B, ID_A));
  fail_if (hangout_auth_verify_proof (key, PROOF_BA, FP_A, FP_B, ID_A, ID_B));
  fail_if (hangout_auth_verify_proof (key, PROOF_AB, FP_A, FP_A, ID_A, ID_B));
  hangout_auth_derive_key (SECRET, "other-room", other);
  fail_if (hangout_auth_verify_proof (other, PROOF_AB, FP_A, FP_B, ID_A,
          ID_B));
  hangout_auth_derive_key ("another secret", ROOM, other);
  fail_if (hangout_auth_verify_proof (other, PROOF_AB, FP_A, FP_B, ID_A,
          ID_B));

  /* Malformed proofs are refused, not read past. */
  fail_if (hangout_auth_verify_proof (key, NULL, FP_A, FP_B, ID_A, ID_B));
  fail_if (hangout_auth_verify_proof (key, "", FP_A, FP_B, ID_A, ID_B));
  fail_if (hangout_auth_verify_proof (key, "aabce64b", FP_A, FP_B, ID_A,
          ID_B));
  fail_if (hangout_auth_verify_proof (key, PROOF_AB "00", FP_A, FP_B, ID_A,
          ID_B));
  {
    g_autofree gchar *bad = g_strdup (PROOF_AB);

    bad[10] = 'g';
    fail_if (hangout_auth_verify_proof (key, bad, FP_A, FP_B, ID_A, ID_B));
  }
  fail_unless (hangout_auth_build_proof (key, "sha-256", FP_B, ID_A,
          ID_B) == NULL);
}

GST_END_TEST;

GST_START_TEST (test_sas)
{
  g_autofree gchar *ab = hangout_auth_sas (FP_A, FP_B);
  g_autofree gchar *ba = hangout_auth_sas (FP_B, FP_A);
  g_autofree gchar *aa = hangout_auth_sas (FP_A, FP_A);

  fail_unless_equals_string (ab, SAS_AB);
  fail_unless_equals_string (ba, SAS_AB);
  fail_unless_equals_int (strlen (aa), 6);
  fail_if (g_strcmp0 (aa, ab) == 0);
  fail_unless (hangout_auth_sas ("nonsense", FP_B) == NULL);
}

GST_END_TEST;

GST_START_TEST (test_normalise)
{
  static const struct {
    const gchar *algorithm, *hex, *expected;
  } cases[] = {
    {"SHA-256 ab:01:ff", NULL, "sha-256 AB:01:FF"},
    {"  sha-256 \t AB:01 ", NULL, "sha-256 AB:01"},
    {"Sha-384", "0a:0b", "sha-384 0A:0B"},
    {"sha-256", NULL, NULL},
    {"sha-256 AB:0", NULL, NULL},
    {"sha-256 AB-01", NULL, NULL},
    {"sha-256 AB:01 CD", NULL, NULL},
    {"sha-256 XY:01", NULL, NULL},
    {"", NULL, NULL},
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++) {
    g_autofree gchar *got = hangout_auth_normalise_fingerprint
        (cases[i].algorithm, cases[i].hex);

    fail_unless (g_strcmp0 (got, cases[i].expected) == 0,
        "case %u: '%s' → '%s', expected '%s'", i, cases[i].algorithm,
        got ? got : "(null)", cases[i].expected ? cases[i].expected : "(null)");
  }
}

GST_END_TEST;

static Suite *
auth_suite (void)
{
  Suite *s = suite_create ("auth");
  TCase *tc = tcase_create ("vectors");

  tcase_add_test (tc, test_key);
  tcase_add_test (tc, test_proof);
  tcase_add_test (tc, test_sas);
  tcase_add_test (tc, test_normalise);
  suite_add_tcase (s, tc);
  return s;
}

GST_CHECK_MAIN (auth);
