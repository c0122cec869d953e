// The page as a sharer (docs/protocol.md §4.5, directly; §2.4), under Node:
// transfers.js with members played by objects that record what the page
// sends them, and answer as a test says. A member that speaks version 2
// is offered the file in version 2 and gets no piece beyond its window
// (§4.6) until its `have` moves it; one that does not gets version 1 from
// the same read. Every byte, piece hash and the root of `end` are checked
// against node's own SHA-256 over the file (§4.2's tree, built here).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import * as transfers from '../../gst/web/transfers.js';
import { state as room } from '../../gst/web/room.js';

const MIB = 1024 * 1024;
const PIECE = 65536;
const BLOCK = 16384;
const WINDOW_PIECES = 8 * MIB / PIECE;

// ---- what a member is sent ----

// A member as room.js makes one once its channels are open and its
// capabilities known (§4.1).
function member(name, versions) {
  const peer = {
    id: `${name}`.padEnd(32, '0'), signalId: `${name}`.padEnd(32, '1'), name, instance: name,
    connected: true, closed: false, transfer: new Set(versions), versions: Promise.resolve(new Set(versions)),
    pc: { sctp: { maxMessageSize: 65536 } },
    app: { readyState: 'open', bufferedAmount: 0, send(data) { peer.got.push(data); } },
    got: [],
  };
  room.peers.set(peer.id, peer);
  room.bySignal.set(peer.signalId, peer);
  return peer;
}

function leave(peer) {
  room.peers.delete(peer.id);
  room.bySignal.delete(peer.signalId);
  peer.closed = true;
  transfers.memberLeft(peer);
}

const texts = (peer) => peer.got.filter((d) => typeof d === 'string').map((t) => JSON.parse(t));
const binaries = (peer, kind) => peer.got.filter((d) => typeof d !== 'string' && d[0] === kind);
const say = (peer, msg) => transfers.onAppMessage(peer, JSON.stringify(msg));

// The pieces a member was sent, as index → { role, bytes } (§4.4).
function piecesOf(peer) {
  const pieces = new Map();
  for (const m of binaries(peer, 2)) {
    const offset = Number(Buffer.from(m.buffer, m.byteOffset + 18, 8).readBigUInt64BE());
    const index = Math.floor(offset / PIECE);
    const piece = pieces.get(index) ?? { role: m[17], parts: [] };
    piece.parts.push(Buffer.from(m.subarray(26)));
    pieces.set(index, piece);
  }
  return pieces;
}

// The version 1 data a member was sent, in order (§2.3).
const dataOf = (peer) => Buffer.concat(binaries(peer, 1).map((m) => Buffer.from(m.subarray(25))));

// ---- the hash tree, independently (§4.2) ----

const sha = (...parts) => { const h = createHash('sha256'); for (const p of parts) h.update(p); return h.digest(); };

function treeLevel(nodes, pad) {
  const up = [];
  for (let i = 0; i < nodes.length; i += 2) up.push(sha(nodes[i], nodes[i + 1] ?? pad));
  return up;
}

// The hash of each piece of `bytes` and the file's root.
function tree(bytes) {
  let row = [];
  for (let at = 0; at < bytes.length; at += BLOCK) row.push(sha(bytes.subarray(at, at + BLOCK)));
  let leaves = 1;
  while (leaves < row.length) leaves *= 2;
  let pad = Buffer.alloc(32);
  while (row.length < leaves) row.push(pad);
  const levels = [row];
  while (row.length > 1) {
    row = treeLevel(row, pad);
    pad = sha(pad, pad);
    levels.push(row);
  }
  return { pieces: levels[Math.min(2, levels.length - 1)], root: row[0].toString('hex') };
}

// ---- the page's side ----

// Waits for `cond`, checked at each turn of the event loop.
async function until(cond, what, ms = 10000) {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setImmediate(r));
  }
}

// What the page's UI was told of its file: each recipient's last state.
function share(bytes, name) {
  const states = new Map();
  const calls = [];
  transfers.views.file = () => new Proxy({}, {
    get: (_, method) => (...args) => {
      calls.push(method);
      if (method === 'recipient') states.set(args[0].name, args[1]);
    },
  });
  transfers.shareFiles([new File([bytes], name)]);
  return { states, calls };
}

test('version 2 to a member that speaks it, within its window; version 1 to one that does not', async () => {
  const bytes = randomBytes(20 * MIB + 12345);
  const total = Math.ceil(bytes.length / PIECE);
  const { pieces: hashes, root } = tree(bytes);
  const v2 = member('v2', [1, 2]);
  const v1 = member('v1', [1]);
  const { states } = share(bytes, 'f.bin');

  await until(() => texts(v2).length > 0 && texts(v1).length > 0, 'the offers');
  const [offer] = texts(v2);
  assert.deepEqual(offer, { type: 'offer', version: 2, id: offer.id, name: 'f.bin', size: bytes.length,
    mime: 'application/octet-stream', 'chunk-size': 65536, 'piece-size': PIECE, window: 8 * MIB, root: null });
  assert.deepEqual(texts(v1)[0], { type: 'offer', version: 1, id: offer.id, name: 'f.bin', size: bytes.length,
    mime: 'application/octet-stream', 'chunk-size': 65536 });

  say(v2, { type: 'accept', id: offer.id });
  await until(() => texts(v2).some((m) => m.type === 'swarm'), 'the swarm');
  assert.deepEqual(texts(v2)[1], { type: 'swarm', id: offer.id, members: [v2.signalId] });
  // Its window is full, and the page sends on to the version 1 member
  // only up to the block it reads next: a time for a page that broke
  // the rule to send more.
  await until(() => piecesOf(v2).size === WINDOW_PIECES, 'a window of pieces');
  await until(() => dataOf(v1).length >= 9 * MIB, 'version 1 data up to the same point');
  await new Promise((r) => setTimeout(r, 200));
  assert.equal(piecesOf(v2).size, WINDOW_PIECES, 'no piece beyond the window of the latest have');

  // Each `have` opens the window by what it says was output.
  while (piecesOf(v2).size < total) {
    const had = piecesOf(v2).size;
    say(v2, { type: 'have', id: offer.id, next: had - WINDOW_PIECES / 4, pieces: [] });
    await until(() => piecesOf(v2).size > had || texts(v2).some((m) => m.type === 'end'), 'more pieces');
  }
  await until(() => texts(v2).some((m) => m.type === 'end'), 'the end');
  await until(() => texts(v1).some((m) => m.type === 'end'), 'the version 1 end');

  // Every hash before its piece, every piece whole, direct, in order.
  const pieces = piecesOf(v2);
  assert.deepEqual([...pieces.keys()], [...Array(total).keys()]);
  for (const [i, p] of pieces) {
    assert.equal(p.role, 0, `piece ${i} is direct`);
    assert.ok(Buffer.concat(p.parts).equals(bytes.subarray(i * PIECE, (i + 1) * PIECE)), `piece ${i}'s bytes`);
  }
  const runs = binaries(v2, 3).map((m) => ({
    first: Number(Buffer.from(m.buffer, m.byteOffset + 17, 8).readBigUInt64BE()),
    hashes: Buffer.from(m.subarray(29)),
  }));
  assert.deepEqual(runs.map((r) => r.first), [...Array(total).keys()]);
  for (const r of runs) assert.ok(r.hashes.equals(hashes[r.first]), `the hash of piece ${r.first}`);
  const kinds = v2.got.filter((d) => typeof d !== 'string').map((d) => d[0]);
  assert.equal(kinds[0], 3, 'a hash first');
  assert.deepEqual(texts(v2).at(-1), { type: 'end', version: 2, id: offer.id, size: bytes.length, root });
  assert.ok(dataOf(v1).equals(bytes), 'the version 1 bytes');
  assert.deepEqual(texts(v1).at(-1), { type: 'end', id: offer.id, size: bytes.length,
    sha256: createHash('sha256').update(bytes).digest('hex') });

  // A request (§4.7): what was sent comes again as `repair`; what lies
  // outside the member's window is `unavailable`.
  v2.got.length = 0;
  say(v2, { type: 'have', id: offer.id, next: total - 4, pieces: [] });
  say(v2, { type: 'request', id: offer.id, pieces: [[total - 3, 2], [total + 5, 1]] });
  await until(() => texts(v2).some((m) => m.type === 'unavailable'), 'the answer to the request');
  const repaired = piecesOf(v2);
  assert.deepEqual([...repaired.keys()], [total - 3, total - 2]);
  for (const [i, p] of repaired) {
    assert.equal(p.role, 3, `piece ${i} is a repair`);
    assert.ok(Buffer.concat(p.parts).equals(bytes.subarray(i * PIECE, (i + 1) * PIECE)), `repaired piece ${i}`);
  }
  assert.deepEqual(texts(v2).at(-1), { type: 'unavailable', id: offer.id, pieces: [[total + 5, 1]] });
  // A request for 2^40 pieces costs what its window holds, not a step
  // per piece asked for.
  v2.got.length = 0;
  say(v2, { type: 'request', id: offer.id, pieces: [[0, 2 ** 40]] });
  await until(() => texts(v2).some((m) => m.type === 'unavailable'), 'the answer to the huge request');
  assert.deepEqual([...piecesOf(v2).keys()], [...Array(4).keys()].map((k) => total - 4 + k));
  assert.deepEqual(texts(v2).at(-1), { type: 'unavailable', id: offer.id,
    pieces: [[0, total - 4], [total, 2 ** 40 - total]] });

  // The answers: only the root of `end` is a verified copy.
  say(v1, { type: 'ack', id: offer.id, ok: true, sha256: createHash('sha256').update(bytes).digest('hex') });
  say(v2, { type: 'ack', version: 2, id: offer.id, ok: true, root: '0'.repeat(64) });
  await until(() => states.get('v1') === 'ok' && states.get('v2') === 'failed', 'the answers');
  leave(v1);
  leave(v2);
});

test('a member that rejects gets nothing more; one that leaves is dropped; the others go on', async () => {
  const bytes = randomBytes(3 * MIB + 5);
  const { root } = tree(bytes);
  const [a, b, c] = ['a', 'b', 'c'].map((n) => member(n, [1, 2]));
  const { states } = share(bytes, 'g.bin');
  await until(() => [a, b, c].every((p) => texts(p).length > 0), 'the offers');
  const { id } = texts(a)[0];
  say(a, { type: 'accept', id });
  say(b, { type: 'reject', id, reason: 'declined by the receiver' });
  say(c, { type: 'accept', id });
  await until(() => texts(a).some((m) => m.type === 'swarm'), 'the swarm');
  assert.deepEqual(texts(a).find((m) => m.type === 'swarm').members, [a.signalId, c.signalId]);
  leave(c);
  await until(() => texts(a).some((m) => m.type === 'end'), 'the end');
  assert.deepEqual(texts(a).at(-1), { type: 'end', version: 2, id, size: bytes.length, root });
  assert.equal(piecesOf(b).size, 0, 'nothing to the member that rejected');
  say(a, { type: 'ack', version: 2, id, ok: true, root });
  await until(() => states.get('a') === 'ok', 'the ack');
  assert.equal(states.get('b'), 'rejected');
  assert.equal(states.get('c'), 'left');
  leave(a);
  leave(b);
});
