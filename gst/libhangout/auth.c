/* gst-hangout — the room secret and the short authentication string
 * (docs/protocol.md §3). The web page implements the same construction
 * with WebCrypto, so every byte hashed here is spelled out there; the
 * primitives are GnuTLS's (HKDF, HMAC, SHA-256), none written by hand.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#include <hangout/auth.h>

#include <gnutls/gnutls.h>
#include <gnutls/crypto.h>
#include <string.h>

#define KEY_SALT "gst-hangout room secret v1"
#define PROOF_LABEL "gst-hangout auth v1"
#define SAS_LABEL "gst-hangout sas v1\n"
#define SHA256_SIZE 32

gchar *
hangout_auth_normalise_fingerprint (const gchar *algorithm, const gchar *hex)
{
  g_autofree gchar *value = NULL;
  g_auto (GStrv) parts = NULL;
  g_autofree gchar *name = NULL, *pairs = NULL;
  gsize len;

  g_return_val_if_fail (algorithm != NULL, NULL);
  value = hex != NULL ? g_strconcat (algorithm, " ", hex, NULL)
      : g_strdup (algorithm);
  parts = g_strsplit_set (g_strstrip (value), " \t", -1);
  /* "<name>", then any run of blanks, then the hex pairs. */
  for (guint i = 0; parts[i] != NULL; i++) {
    if (*parts[i] == '\0')
      continue;
    if (name == NULL)
      name = g_ascii_strdown (parts[i], -1);
    else if (pairs == NULL)
      pairs = g_ascii_strup (parts[i], -1);
    else
      return NULL;
  }
  if (name == NULL || pairs == NULL)
    return NULL;
  len = strlen (pairs);
  if (len % 3 != 2)
    return NULL;
  for (gsize i = 0; i < len; i++) {
    if (i % 3 == 2 ? pairs[i] != ':' : !g_ascii_isxdigit (pairs[i]))
      return NULL;
  }
  return g_strconcat (name, " ", pairs, NULL);
}

void
hangout_auth_derive_key (const gchar *secret, const gchar *room,
    guint8 key[HANGOUT_AUTH_KEY_SIZE])
{
  guint8 prk[SHA256_SIZE];
  gnutls_datum_t ikm = { (guchar *) secret, (guint) strlen (secret) };
  gnutls_datum_t salt = { (guchar *) KEY_SALT, sizeof KEY_SALT - 1 };
  gnutls_datum_t info = { (guchar *) room, (guint) strlen (room) };
  gnutls_datum_t prk_datum = { prk, sizeof prk };

  /* Fails only for a MAC GnuTLS does not have: not something to go on
   * without. */
  if (gnutls_hkdf_extract (GNUTLS_MAC_SHA256, &ikm, &salt, prk) < 0
      || gnutls_hkdf_expand (GNUTLS_MAC_SHA256, &prk_datum, &info, key,
          HANGOUT_AUTH_KEY_SIZE) < 0)
    g_error ("GnuTLS has no HKDF-SHA256");
  gnutls_memset (prk, 0, sizeof prk);
}

/* HMAC-SHA256 (K, the five lines): FALSE when a fingerprint is malformed. */
static gboolean
proof_mac (const guint8 key[HANGOUT_AUTH_KEY_SIZE], const gchar *fp_from,
    const gchar *fp_to, const gchar *id_from, const gchar *id_to,
    guint8 mac[SHA256_SIZE])
{
  g_autofree gchar *from = hangout_auth_normalise_fingerprint (fp_from, NULL);
  g_autofree gchar *to = hangout_auth_normalise_fingerprint (fp_to, NULL);
  g_autofree gchar *text = NULL;

  if (from == NULL || to == NULL)
    return FALSE;
  text = g_strjoin ("\n", PROOF_LABEL, from, to, id_from, id_to, NULL);
  if (gnutls_hmac_fast (GNUTLS_MAC_SHA256, key, HANGOUT_AUTH_KEY_SIZE, text,
          strlen (text), mac) < 0)
    g_error ("GnuTLS has no HMAC-SHA256");
  return TRUE;
}

gchar *
hangout_auth_build_proof (const guint8 key[HANGOUT_AUTH_KEY_SIZE],
    const gchar *fp_from, const gchar *fp_to, const gchar *id_from,
    const gchar *id_to)
{
  guint8 mac[SHA256_SIZE];
  gchar *hex;

  g_return_val_if_fail (id_from != NULL && id_to != NULL, NULL);
  if (!proof_mac (key, fp_from, fp_to, id_from, id_to, mac))
    return NULL;
  hex = g_new (gchar, 2 * sizeof mac + 1);
  for (gsize i = 0; i < sizeof mac; i++)
    g_snprintf (hex + 2 * i, 3, "%02x", mac[i]);
  return hex;
}

gboolean
hangout_auth_verify_proof (const guint8 key[HANGOUT_AUTH_KEY_SIZE],
    const gchar *proof, const gchar *fp_from, const gchar *fp_to,
    const gchar *id_from, const gchar *id_to)
{
  guint8 expected[SHA256_SIZE], got[SHA256_SIZE];

  g_return_val_if_fail (id_from != NULL && id_to != NULL, FALSE);
  if (proof == NULL || strlen (proof) != 2 * sizeof got)
    return FALSE;
  for (gsize i = 0; i < sizeof got; i++) {
    gint high = g_ascii_xdigit_value (proof[2 * i]);
    gint low = g_ascii_xdigit_value (proof[2 * i + 1]);

    if (high < 0 || low < 0)
      return FALSE;
    got[i] = (guint8) (high << 4 | low);
  }
  if (!proof_mac (key, fp_from, fp_to, id_from, id_to, expected))
    return FALSE;
  /* Constant time: the proof must not leak through timing. */
  return gnutls_memcmp (expected, got, sizeof got) == 0;
}

gchar *
hangout_auth_sas (const gchar *fp_a, const gchar *fp_b)
{
  g_autofree gchar *a = hangout_auth_normalise_fingerprint (fp_a, NULL);
  g_autofree gchar *b = hangout_auth_normalise_fingerprint (fp_b, NULL);
  g_autofree gchar *text = NULL;
  guint8 digest[SHA256_SIZE];
  guint32 value;

  if (a == NULL || b == NULL)
    return NULL;
  /* Byte-wise order (strcmp compares as unsigned char), so both sides
   * hash the same text. */
  text = strcmp (a, b) <= 0 ? g_strconcat (SAS_LABEL, a, "\n", b, NULL)
      : g_strconcat (SAS_LABEL, b, "\n", a, NULL);
  if (gnutls_hash_fast (GNUTLS_DIG_SHA256, text, strlen (text), digest) < 0)
    g_error ("GnuTLS has no SHA-256");
  value = (guint32) digest[0] << 24 | (guint32) digest[1] << 16
      | (guint32) digest[2] << 8 | digest[3];
  return g_strdup_printf ("%06u", value % 1000000);
}
