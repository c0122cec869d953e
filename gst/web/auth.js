// gst-hangout web client: the room secret and the short authentication
// string (docs/protocol.md §3): the room key, the fingerprints as they are
// hashed, the proof a member sends and its check, the six digits. Pure
// functions, no DOM and no timers: room.js decides when to prove and whom
// to refuse. They follow gst/libhangout/auth.c, and
// tests/web/auth.test.mjs checks them against §3.5's vector, which
// tests/unit/test-auth.c checks the C against.
//
// On the page's own SHA-256, not WebCrypto: crypto.subtle exists only in
// secure contexts, and rooms are often served over plain http on a LAN.
// SPDX-License-Identifier: LGPL-2.1-or-later

import { Sha256, toHex } from './sha256.js';

const utf8 = (text) => new TextEncoder().encode(text);

function sha256(...parts) {
  const sha = new Sha256();
  for (const p of parts) sha.update(p);
  return sha.digest();
}

export function hmacSha256(key, data) {
  const block = new Uint8Array(64);
  block.set(key.length > 64 ? sha256(key) : key);
  const inner = block.map((b) => b ^ 0x36);
  const outer = block.map((b) => b ^ 0x5c);
  return sha256(outer, sha256(inner, data));
}

// HKDF-SHA256 (RFC 5869) for one 32-byte block: all the key we need.
export function roomKey(secret, room) {
  const prk = hmacSha256(utf8('gst-hangout room secret v1'), utf8(secret));
  return hmacSha256(prk, new Uint8Array([...utf8(room), 1]));
}

// "sha-256 AB:CD:…" from a description's a=fingerprint line.
export function fingerprintOf(sdp) {
  const m = /^a=fingerprint:(\S+) ([0-9A-Fa-f:]+)\s*$/m.exec(sdp ?? '');
  return m ? `${m[1].toLowerCase()} ${m[2].toUpperCase()}` : null;
}

// What member X sends member Y to prove it knows the room's key.
export function authProof(key, fpX, fpY, idX, idY) {
  return toHex(hmacSha256(key, utf8(['gst-hangout auth v1', fpX, fpY, idX, idY].join('\n'))));
}

// Whether `proof`, from the member whose fingerprint is fpPeer and id
// idPeer, is what its key would give: the proof recomputed with the roles
// swapped (§3.3), compared in constant time. `proof` is the member's: any
// string.
export function verifyProof(key, proof, fpSelf, fpPeer, idSelf, idPeer) {
  const expected = authProof(key, fpPeer, fpSelf, idPeer, idSelf);
  let diff = expected.length ^ proof.length;
  for (let i = 0; i < expected.length; i++) diff |= expected.charCodeAt(i) ^ (proof.charCodeAt(i) | 0);
  return diff === 0;
}

// Six digits both members of a pair see, the same only without anyone in
// the middle.
export function shortAuthString(fpA, fpB) {
  const [lo, hi] = fpA < fpB ? [fpA, fpB] : [fpB, fpA];
  const d = sha256(utf8(`gst-hangout sas v1\n${lo}\n${hi}`));
  const n = new DataView(d.buffer).getUint32(0) % 1000000;
  return String(n).padStart(6, '0');
}
