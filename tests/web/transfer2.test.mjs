// The page's hash tree (gst/web/transfer2.js) against the test vectors of
// docs/protocol.md §4.11, read from the document itself (computed there
// with Python's hashlib alone): the roots of the test files, built piece
// by piece from the leaves that verification computes, as the page builds
// the root of what it writes, and the piece hashes of the 70000-byte file.
// Then the malformed-input rules of §4.3 and §4.4, each on its own.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { MerkleRoot, hashPiece, pieceLevel, parsePiece, parseHashes, parseOffer, controlError } from '../../gst/web/transfer2.js';
import { toHex } from '../../gst/web/sha256.js';

const spec = readFileSync(new URL('../../docs/protocol.md', import.meta.url), 'utf8');
const vectors = spec.slice(spec.indexOf('### 4.11 Test vectors'));
// The test file of size s: the bytes i mod 251.
const testFile = (size) => Uint8Array.from({ length: size }, (_, i) => i % 251);

async function rootOf(data, pieceSize) {
  const root = new MerkleRoot();
  const level = pieceLevel(data.length, pieceSize);
  for (let at = 0; at < data.length; at += pieceSize)
    for (const leaf of (await hashPiece(level, data.subarray(at, at + pieceSize))).leaves) root.addLeaf(leaf);
  return toHex(root.finish());
}

test('the roots of §4.11, whatever the piece size', async () => {
  const rows = [...vectors.matchAll(/^(\d+) +\d+ +([0-9a-f]{64})$/gm)];
  assert.ok(rows.length >= 7, `${rows.length} roots in §4.11`);
  for (const [, size, want] of rows)
    for (const pieceSize of [16384, 32768, 1048576])
      assert.equal(await rootOf(testFile(Number(size)), pieceSize), want, `${size} bytes in pieces of ${pieceSize}`);
});

test('the piece hashes of the 70000-byte file in pieces of 32768 bytes', async () => {
  const hashes = [...vectors.matchAll(/^piece (\d) +([0-9a-f]{64})$/gm)];
  assert.equal(hashes.length, 3);
  const data = testFile(70000);
  for (const [, i, want] of hashes) {
    const piece = data.subarray(Number(i) * 32768, (Number(i) + 1) * 32768);
    assert.equal(toHex((await hashPiece(pieceLevel(70000, 32768), piece)).hash), want, `piece ${i}`);
  }
});

const ID = '00112233445566778899aabbccddeeff';

function piece(role, offset, n) {
  const m = new Uint8Array(26 + n);
  m[0] = 2;
  m.set(Uint8Array.from(ID.match(/../g), (h) => parseInt(h, 16)), 1);
  m[17] = role;
  new DataView(m.buffer).setBigUint64(18, offset);
  return m;
}

function hashes(first, count, extra = 0, declared = count) {
  const m = new Uint8Array(29 + 32 * count + extra);
  m[0] = 3;
  new DataView(m.buffer).setBigUint64(17, first);
  new DataView(m.buffer).setUint32(25, declared);
  return m;
}

test('piece data and hashes: every malformed form of §4.4 is an error, the rest parses', () => {
  assert.deepEqual({ ...parsePiece(piece(3, 65536n, 10)), payload: undefined },
    { id: ID, role: 3, offset: 65536, payload: undefined });
  assert.match(parsePiece(piece(0, 0n, 0)).error, /no payload/);
  assert.match(parsePiece(piece(4, 0n, 1)).error, /role 4/);
  assert.match(parsePiece(piece(0, 0n, 1048577)).error, /more than any piece/);
  assert.match(parsePiece(piece(0, 2n ** 63n - 1n, 1)).error, /2\^63/);
  assert.equal(parsePiece(piece(0, 2n ** 63n - 2n, 1)).error, undefined);
  assert.equal(parseHashes(hashes(5n, 2, 32 * 3)).proofLength, 3);
  assert.match(parseHashes(hashes(0n, 0).subarray(0, 28)).error, /shorter than the header/);
  assert.match(parseHashes(hashes(0n, 0)).error, /with none/);
  assert.match(parseHashes(hashes(0n, 1, 0, 2)).error, /2 piece hashes in 32 bytes/);
  assert.match(parseHashes(hashes(0n, 1, 31)).error, /not a multiple/);
  assert.match(parseHashes(hashes(0n, 1, 32 * 50)).error, /more than any tree/);
  assert.match(parseHashes(hashes(2n ** 49n - 1n, 2)).error, /beyond/);
  assert.equal(parseHashes(hashes(2n ** 49n - 2n, 2)).error, undefined);
});

test('offers and control messages: malformed ones are told from ones to reject', () => {
  const offer = { type: 'offer', version: 2, id: ID, name: 'f', size: 10, mime: 'x', 'chunk-size': 65536,
    'piece-size': 65536, window: 8388608, root: null };
  assert.equal(parseOffer(offer).unsupported, null);
  for (const bad of [{ root: undefined }, { root: 'AB'.repeat(32) }, { size: null, root: 'ab'.repeat(32) },
    { 'chunk-size': 60 }, { 'piece-size': -1 }, { window: 1.5 }, { id: ID.toUpperCase() }]) {
    const msg = { ...offer, ...bad };
    for (const [k, v] of Object.entries(bad)) if (v === undefined) delete msg[k];
    assert.equal(parseOffer(msg), null, JSON.stringify(bad));
  }
  assert.equal(parseOffer({ ...offer, 'piece-size': 16384 * 3 }).unsupported, 'piece-size not supported');
  assert.equal(parseOffer({ ...offer, 'piece-size': 2 * 1048576 }).unsupported, 'piece-size not supported');
  assert.equal(parseOffer({ ...offer, window: 65536 }).unsupported, 'window not supported');
  assert.equal(parseOffer({ ...offer, window: 65536 * 1025 }).unsupported, 'window not supported');
  const m = (o) => ({ id: ID, ...o });
  assert.equal(controlError(m({ type: 'have', next: 3, pieces: [[3, 1], [4, 2]] })), null);
  assert.match(controlError(m({ type: 'have', next: 3, pieces: [[2, 1]] })), /range 0/);
  assert.match(controlError(m({ type: 'request', pieces: [[0, 2], [1, 1]] })), /range 1/);
  assert.match(controlError(m({ type: 'request', pieces: [[0, 0]] })), /range 0/);
  assert.match(controlError(m({ type: 'request', pieces: Array.from({ length: 65 }, (_, i) => [2 * i, 1]) })), /65 ranges/);
  assert.match(controlError(m({ type: 'swarm', members: [ID, ID] })), /twice/);
  assert.match(controlError(m({ type: 'swarm', members: ['bob'] })), /not a signalling id/);
  assert.match(controlError(m({ type: 'end', size: 1, root: null })), /root/);
  assert.match(controlError(m({ type: 'corrupt', piece: 2 ** 49, from: ID })), /piece/);
});
