/* gst-hangout — the room secret and the short authentication string
 * (docs/protocol.md §3): what binds a pair's DTLS fingerprints and member
 * ids to a secret the signalling server never sees. Pure functions, no
 * state; the hashes are GnuTLS's.
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* K = HKDF-SHA256 (secret, salt "gst-hangout room secret v1", info room). */
#define HANGOUT_AUTH_KEY_SIZE 32

/* How long a member has, from the moment its channels open, to prove that
 * it knows the room secret. */
#define HANGOUT_AUTH_TIMEOUT_MS 10000

/* The form every construction hashes: "<hash function in lower case>
 * <hex pairs in upper case joined by ':'>", from an a=fingerprint value
 * ("SHA-256 ab:01:…" → "sha-256 AB:01:…"), or from @algorithm and @hex
 * given apart (@hex NULL: @algorithm is the whole value). NULL when it is
 * not "<name> <hex pairs>". */
gchar *hangout_auth_normalise_fingerprint (const gchar *algorithm,
    const gchar *hex);

/* Derives the room key from @secret (UTF-8, not empty) for @room. */
void hangout_auth_derive_key (const gchar *secret, const gchar *room,
    guint8 key[HANGOUT_AUTH_KEY_SIZE]);

/* The proof member @id_from (certificate @fp_from) sends to member @id_to
 * (certificate @fp_to): 64 lower-case hex digits. Fingerprints are
 * normalised. */
gchar *hangout_auth_build_proof (const guint8 key[HANGOUT_AUTH_KEY_SIZE],
    const gchar *fp_from, const gchar *fp_to, const gchar *id_from,
    const gchar *id_to);

/* TRUE when @proof (hex, either case) is the one @id_from must send to
 * @id_to; compared in constant time. */
gboolean hangout_auth_verify_proof (const guint8 key[HANGOUT_AUTH_KEY_SIZE],
    const gchar *proof, const gchar *fp_from, const gchar *fp_to,
    const gchar *id_from, const gchar *id_to);

/* The pair's short authentication string, six decimal digits, the same on
 * both sides: people read it to each other to know that no one sits in
 * the middle. Fingerprints are normalised, in either order. */
gchar *hangout_auth_sas (const gchar *fp_a, const gchar *fp_b);

G_END_DECLS
