// The room secret's key, proofs and short authentication string
// (gst/web/auth.js) against the test vector of docs/protocol.md §3.5, read
// from the document itself, which tests/unit/test-auth.c checks the C
// against (the first test makes sure both hold the same numbers); then the
// same wrong proofs the C refuses, and the fingerprints of the descriptions
// tests/unit/test-sdp.c parses.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { roomKey, authProof, verifyProof, shortAuthString, fingerprintOf, hmacSha256 } from '../../gst/web/auth.js';
import { toHex } from '../../gst/web/sha256.js';
import { cStrings } from './c-vectors.mjs';

const spec = readFileSync(new URL('../../docs/protocol.md', import.meta.url), 'utf8');
const section = spec.slice(spec.indexOf('### 3.5 Test vector'), spec.indexOf('## 4.'));
const field = (name) => {
  const m = new RegExp(`^${name.replace(/[()]/g, '\\$&')} +(.+)$`, 'm').exec(section);
  assert.ok(m, `${name} in §3.5`);
  return m[1].replace(/^"(.*)"$/, '$1');
};
const V = {
  secret: field('secret'), room: field('room'), key: field('K'),
  fpA: field('fp_A'), fpB: field('fp_B'), idA: field('id_A'), idB: field('id_B'),
  proofAB: field('P (A→B)'), proofBA: field('P (B→A)'), sas: field('SAS'),
};
const key = roomKey(V.secret, V.room);

test('§3.5 is the vector tests/unit/test-auth.c checks', () => {
  const c = cStrings('test-auth.c');
  assert.deepEqual(
    [c.get('SECRET'), c.get('ROOM'), c.get('KEY_HEX'), c.get('FP_A'), c.get('FP_B'), c.get('ID_A'), c.get('ID_B'),
      c.get('PROOF_AB'), c.get('PROOF_BA'), c.get('SAS_AB')],
    [V.secret, V.room, V.key, V.fpA, V.fpB, V.idA, V.idB, V.proofAB, V.proofBA, V.sas]);
});

test('HMAC-SHA256 against RFC 4231 test case 2', () => {
  const utf8 = (s) => new TextEncoder().encode(s);
  assert.equal(toHex(hmacSha256(utf8('Jefe'), utf8('what do ya want for nothing?'))),
    '5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843');
  // A key longer than the block is hashed first (test case 6).
  assert.equal(toHex(hmacSha256(new Uint8Array(131).fill(0xaa), utf8('Test Using Larger Than Block-Size Key - Hash Key First'))),
    '60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54');
});

test('the room key (§3.1)', () => {
  assert.equal(toHex(key), V.key);
  assert.notEqual(toHex(roomKey(V.secret, 'other-room')), V.key);
  assert.notEqual(toHex(roomKey('another secret', V.room)), V.key);
});

test('the proofs both ways (§3.3)', () => {
  assert.equal(authProof(key, V.fpA, V.fpB, V.idA, V.idB), V.proofAB);
  assert.equal(authProof(key, V.fpB, V.fpA, V.idB, V.idA), V.proofBA);
});

test('a proof is checked with the roles swapped, and anything else bound into it refuses it', () => {
  // B checks A's proof: B's own fingerprint and id first.
  const byB = (k, proof, fpSelf = V.fpB, fpPeer = V.fpA, idSelf = V.idB, idPeer = V.idA) =>
    verifyProof(k, proof, fpSelf, fpPeer, idSelf, idPeer);
  assert.equal(byB(key, V.proofAB), true);
  assert.equal(verifyProof(key, V.proofBA, V.fpA, V.fpB, V.idA, V.idB), true);
  assert.equal(byB(key, V.proofAB, V.fpA, V.fpB), false, 'fingerprints swapped');
  assert.equal(byB(key, V.proofAB, V.fpB, V.fpA, V.idA, V.idB), false, 'ids swapped');
  assert.equal(byB(key, V.proofBA), false, 'the other direction');
  assert.equal(byB(key, V.proofAB, V.fpB, V.fpB), false, 'one fingerprint twice');
  assert.equal(byB(roomKey(V.secret, 'other-room'), V.proofAB), false, 'another room');
  assert.equal(byB(roomKey('another secret', V.room), V.proofAB), false, 'another secret');
});

test('malformed proofs from a member are refused, not read past', () => {
  const byB = (proof) => verifyProof(key, proof, V.fpB, V.fpA, V.idB, V.idA);
  for (const bad of ['', 'aabce64b', `${V.proofAB}00`, `${V.proofAB.slice(0, 10)}g${V.proofAB.slice(11)}`,
    V.proofAB.slice(0, -1), 'x'.repeat(100000), '\u0000'.repeat(64)])
    assert.equal(byB(bad), false, JSON.stringify(bad.slice(0, 80)));
});

test('the short authentication string (§3.4)', () => {
  assert.equal(shortAuthString(V.fpA, V.fpB), V.sas);
  assert.equal(shortAuthString(V.fpB, V.fpA), V.sas);
  const same = shortAuthString(V.fpA, V.fpA);
  assert.match(same, /^[0-9]{6}$/);
  assert.notEqual(same, V.sas);
});

test('fingerprints of the descriptions tests/unit/test-sdp.c parses, normalised (§3.2)', () => {
  const c = cStrings('test-sdp.c');
  assert.equal(fingerprintOf(c.get('chrome_offer')), `sha-256 ${c.get('FP_SHA256_A')}`);
  assert.equal(fingerprintOf(c.get('chrome_answer')), `sha-256 ${c.get('FP_SHA256_B')}`);
  // Firefox's is at session level.
  assert.equal(fingerprintOf(c.get('firefox_offer')), `sha-256 ${c.get('FP_SHA256_C')}`);
  // test-auth.c's normalisations that a description can carry.
  assert.equal(fingerprintOf('a=fingerprint:SHA-256 ab:01:ff\r\n'), 'sha-256 AB:01:FF');
  assert.equal(fingerprintOf(`a=fingerprint:Sha-384 ${c.get('FP_SHA384').toLowerCase()}`), `sha-384 ${c.get('FP_SHA384')}`);
  for (const bad of ['a=fingerprint:sha-256', 'a=fingerprint:sha-256 AB-01', 'a=fingerprint:sha-256 AB:01 CD',
    'a=fingerprint:sha-256 XY:01', '', 'v=0\r\n'])
    assert.equal(fingerprintOf(bad), null, bad);
  assert.equal(fingerprintOf(undefined), null, 'no description yet');
});
