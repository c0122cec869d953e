// gst-hangout web client: file transfer version 2 (docs/protocol.md §4) as
// a receiver sees it: the wire format (§4.3, §4.4, §4.9), the hash tree
// (§4.2) and the piece window (§4.4, §4.6, §4.7). Pure logic, no DOM: the
// page's files (transfers.js) pass messages in and act on what comes out. It
// follows the C library's gst/libhangout/transfer2.c, merkle.c and
// piece-window.c, whose unit tests pin the same rules; tests/web/transfer2.test.mjs
// checks it against the vectors of §4.11 under Node.
// SPDX-License-Identifier: LGPL-2.1-or-later

import { Sha256, toHex } from './sha256.js';

export const VERSION = 2;
export const KIND_DATA = 0x01; // version 1's data (§2.3)
export const KIND_PIECE = 0x02;
export const KIND_HASHES = 0x03;
export const PIECE_HEADER = 26;
export const HASHES_HEADER = 29;
export const HASH = 32;
export const BLOCK = 16384;
export const ROLE = { DIRECT: 0, ASSIGNED: 1, FORWARDED: 2, REPAIR: 3 };
const ROLE_NAMES = ['direct', 'assigned', 'forwarded', 'repair'];
const MAX_PIECE_SIZE = 1024 * 1024;
const MAX_WINDOW = 64 * 1024 * 1024;
// A hashes message of one hash must fit in a chunk (§4.3).
const MIN_CHUNK_SIZE = HASHES_HEADER + HASH;
// No file has more pieces (2^63 − 1 bytes in pieces of 16 KiB), no tree
// more levels.
const MAX_PIECES = 2 ** 49;
const MAX_PROOF = 49;
const MAX_BYTE = 2n ** 63n - 1n;
export const MAX_RANGES = 64;
const MAX_SWARM = 1024;
export const MAX_CORRUPT = 3;
// §4.7: a missing piece is requested 1 s after a later one verified (or
// after `end`), and not again before 3 s.
export const REPAIR_DELAY_MS = 1000;
export const RETRY_MS = 3000;
export const REASON_PIECE_SIZE = 'piece-size not supported';
export const REASON_WINDOW = 'window not supported';

const isCount = (n) => Number.isSafeInteger(n) && n >= 0;
const isFileId = (s) => typeof s === 'string' && /^[0-9a-f]{32}$/.test(s);
const isMemberId = isFileId; // §1.2: also 32 lower-case hex digits
const isDigest = (s) => typeof s === 'string' && /^[0-9a-f]{64}$/.test(s);

// ---- control messages (§4.3): parsing ----

// Why `msg` is malformed, or null. Each check is the C parser's
// (transfer2.c), so that both ignore the same messages.
function rangesError(pieces, from) {
  if (!Array.isArray(pieces)) return '"pieces" is missing or not an array';
  if (pieces.length > MAX_RANGES) return `${pieces.length} ranges, more than ${MAX_RANGES}`;
  for (const [i, r] of pieces.entries()) {
    if (!Array.isArray(r) || r.length !== 2 || !Number.isInteger(r[0]) || !Number.isInteger(r[1]))
      return `range ${i} is not [first, count]`;
    const [first, count] = r;
    if (count < 1 || first < from || first >= MAX_PIECES || count > MAX_PIECES - first)
      return `range ${i} is empty, out of order, overlapping or beyond any file's pieces`;
    from = first + count;
  }
  return null;
}

function membersError(members) {
  if (!Array.isArray(members)) return '"members" is missing or not an array';
  if (members.length > MAX_SWARM) return `a swarm of ${members.length}, more than ${MAX_SWARM}`;
  const seen = new Set();
  for (const [i, id] of members.entries()) {
    if (!isMemberId(id)) return `swarm member ${i} is not a signalling id`;
    if (seen.has(id)) return `swarm member ${id} is listed twice`;
    seen.add(id);
  }
  return null;
}

// The transfer version of an offer (required), an end or an ack (absent:
// 1); null when it is neither 1 nor 2.
export function versionOf(msg) {
  if (!('version' in msg)) return msg.type === 'offer' ? null : 1;
  return msg.version === 1 || msg.version === 2 ? msg.version : null;
}

// A version 2 offer: null when it is malformed (ignored, §2.2); else
// `unsupported` is the reject reason of §4.9 for its piece-size or window,
// or null.
export function parseOffer(msg) {
  const chunk = msg['chunk-size'];
  const ok = isFileId(msg.id) && typeof msg.name === 'string'
    && (msg.size === null || isCount(msg.size)) && typeof msg.mime === 'string'
    && Number.isSafeInteger(chunk) && chunk >= MIN_CHUNK_SIZE
    && isCount(msg['piece-size']) && isCount(msg.window)
    && 'root' in msg && (msg.root === null || isDigest(msg.root))
    && !(msg.size === null && msg.root !== null);
  if (!ok) return null;
  const pieceSize = msg['piece-size'];
  const window = msg.window;
  let unsupported = null;
  if (pieceSize < BLOCK || pieceSize > MAX_PIECE_SIZE || (pieceSize & (pieceSize - 1)) !== 0)
    unsupported = REASON_PIECE_SIZE;
  else if (window % pieceSize !== 0 || window < 2 * pieceSize || window > MAX_WINDOW)
    unsupported = REASON_WINDOW;
  return {
    id: msg.id, name: msg.name, size: msg.size, mime: msg.mime, chunkSize: chunk,
    pieceSize, window, root: msg.root, unsupported,
  };
}

// Why a version 2 control message other than an offer is malformed, or
// null. Types the page does not act on are checked too, so that the
// console says what a member sent wrong.
export function controlError(msg) {
  if (!isFileId(msg.id)) return '"id" is not a file id';
  switch (msg.type) {
    case 'swarm': return membersError(msg.members);
    case 'have':
      if (!isCount(msg.next) || msg.next > MAX_PIECES) return '"next" is not a piece index';
      return rangesError(msg.pieces, msg.next);
    case 'request':
    case 'unavailable': return rangesError(msg.pieces, 0);
    case 'corrupt':
      if (!isCount(msg.piece) || msg.piece >= MAX_PIECES) return '"piece" is not a piece index';
      return isMemberId(msg.from) ? null : '"from" is not a signalling id';
    case 'end':
      if (!isCount(msg.size)) return '"size" is not a size';
      return isDigest(msg.root) ? null : '"root" is not a digest';
    case 'ack':
      if (typeof msg.ok !== 'boolean') return '"ok" is not a boolean';
      return 'root' in msg && (msg.root === null || isDigest(msg.root)) ? null : '"root" is not a digest or null';
    default: return null; // accept: the id is all it says
  }
}

// ---- control messages: building ----

const rangesOf = (ranges) => ranges.slice(0, MAX_RANGES).map((r) => [r.first, r.count]);

export const buildOffer = ({ id, name, size, mime, chunkSize, pieceSize, window, root }) => JSON.stringify({
  type: 'offer', version: VERSION, id, name, size, mime, 'chunk-size': chunkSize, 'piece-size': pieceSize, window, root,
});
export const buildSwarm = (id, members) => JSON.stringify({ type: 'swarm', id, members });
export const buildEnd = (id, size, root) => JSON.stringify({ type: 'end', version: VERSION, id, size, root });
export const buildUnavailable = (id, ranges) => JSON.stringify({ type: 'unavailable', id, pieces: rangesOf(ranges) });
export const buildAccept = (id) => JSON.stringify({ type: 'accept', id });
export const buildHave = (id, next, ranges) => JSON.stringify({ type: 'have', id, next, pieces: rangesOf(ranges) });
export const buildRequest = (id, ranges) => JSON.stringify({ type: 'request', id, pieces: rangesOf(ranges) });
export const buildCorrupt = (id, piece, from) => JSON.stringify({ type: 'corrupt', id, piece, from });
export const buildAck = (id, ok, root) => JSON.stringify({ type: 'ack', version: VERSION, id, ok, root });

// ---- binary messages (§4.4) ----

const fileIdOf = (bytes) => toHex(bytes.subarray(1, 17));

// Piece data: { id, role, offset, payload } or { error }.
export function parsePiece(bytes) {
  if (bytes.length <= PIECE_HEADER)
    return { error: `piece data of ${bytes.length} bytes has no payload` };
  const role = bytes[17];
  if (role > ROLE.REPAIR) return { error: `piece data of role ${role}` };
  const n = bytes.length - PIECE_HEADER;
  if (n > MAX_PIECE_SIZE) return { error: `piece data of ${n} bytes, more than any piece` };
  const offset = new DataView(bytes.buffer, bytes.byteOffset).getBigUint64(18);
  if (offset > MAX_BYTE - BigInt(n)) return { error: 'piece data past 2^63 - 1 bytes' };
  // Offsets past 2^53 are beyond any window the page can hold: they stay
  // exact enough to be dropped as such.
  return { id: fileIdOf(bytes), role, offset: Number(offset), payload: bytes.subarray(PIECE_HEADER) };
}

// Piece hashes: { id, first, count, hashes, proofLength } or { error }.
export function parseHashes(bytes) {
  if (bytes.length < HASHES_HEADER)
    return { error: `piece hashes of ${bytes.length} bytes, shorter than the header` };
  const view = new DataView(bytes.buffer, bytes.byteOffset);
  const first = view.getBigUint64(17);
  const count = view.getUint32(25);
  if (count === 0) return { error: 'piece hashes with none' };
  const room = bytes.length - HASHES_HEADER;
  if (count * HASH > room) return { error: `${count} piece hashes in ${room} bytes` };
  const proof = room - count * HASH;
  if (proof % HASH !== 0) return { error: `a proof of ${proof} bytes, not a multiple of ${HASH}` };
  if (proof / HASH > MAX_PROOF) return { error: `a proof of ${proof / HASH} hashes, more than any tree has levels` };
  if (first > BigInt(MAX_PIECES - count)) return { error: 'piece hashes beyond any file\'s pieces' };
  return {
    id: fileIdOf(bytes), first: Number(first), count,
    hashes: bytes.subarray(HASHES_HEADER, HASHES_HEADER + count * HASH), proofLength: proof / HASH,
  };
}

// The messages of one piece as `role`, each at most `chunkSize` bytes.
export function pieceMessages(idBytes, role, offset, data, chunkSize) {
  const step = chunkSize - PIECE_HEADER;
  const out = [];
  for (let at = 0; at < data.length; at += step) {
    const payload = data.subarray(at, at + step);
    const msg = new Uint8Array(PIECE_HEADER + payload.length);
    msg[0] = KIND_PIECE;
    msg.set(idBytes, 1);
    msg[17] = role;
    new DataView(msg.buffer).setBigUint64(18, BigInt(offset + at));
    msg.set(payload, PIECE_HEADER);
    out.push(msg);
  }
  return out;
}

// A run of piece hashes from the sharer (no proof): `hashes` is their
// 32·count bytes.
export function buildHashes(idBytes, first, hashes) {
  const msg = new Uint8Array(HASHES_HEADER + hashes.length);
  const view = new DataView(msg.buffer);
  msg[0] = KIND_HASHES;
  msg.set(idBytes, 1);
  view.setBigUint64(17, BigInt(first));
  view.setUint32(25, hashes.length / HASH);
  msg.set(hashes, HASHES_HEADER);
  return msg;
}

// ---- the hash tree (§4.2) ----

function sha256(...parts) {
  const sha = new Sha256();
  for (const p of parts) sha.update(p);
  return sha.digest();
}

// Nodes above the leaves are 64 bytes of input: the page's own SHA-256,
// synchronous, costs less than a WebCrypto round trip for each.
const hashPair = (left, right) => sha256(left, right);

const pads = [new Uint8Array(HASH)];
function padHash(level) {
  while (pads.length <= level) pads.push(hashPair(pads[pads.length - 1], pads[pads.length - 1]));
  return pads[level];
}

function ceilLog2(n) {
  let bits = 0;
  while (2 ** bits < n) bits++;
  return bits;
}

const leavesOf = (size) => (size === 0 ? 1 : Math.ceil(size / BLOCK));

// The piece level p of §4.2.
export function pieceLevel(size, pieceSize) {
  return Math.min(ceilLog2(pieceSize / BLOCK), ceilLog2(leavesOf(size)));
}

const subtle = globalThis.crypto?.subtle;

// SHA-256 of one block: WebCrypto where the page is a secure context (it
// runs off the main thread), the page's own otherwise.
async function hashBlock(block) {
  if (subtle) return new Uint8Array(await subtle.digest('SHA-256', block));
  return sha256(block);
}

// The hash of a piece at `level` (its leaves padded with zero hashes to
// 2^level), and its leaves, which the root of the output is built from.
export async function hashPiece(level, data) {
  const n = leavesOf(data.length);
  const blocks = [];
  for (let i = 0; i < n; i++) blocks.push(data.subarray(i * BLOCK, (i + 1) * BLOCK));
  const leaves = await Promise.all(blocks.map(hashBlock));
  let row = leaves;
  for (let l = 0; l < level; l++) {
    const above = [];
    for (let i = 0; i < row.length; i += 2) above.push(hashPair(row[i], row[i + 1] ?? padHash(l)));
    row = above;
  }
  return { hash: row[0], leaves };
}

// The root of a file built from its leaves in order, with one pending
// node per level: O(log n) memory, as merkle.c's hangout_merkle_update().
export class MerkleRoot {
  constructor() {
    this.pending = [];
    this.leaves = 0;
  }

  addLeaf(node) {
    let level = 0;
    while (this.pending[level]) {
      node = hashPair(this.pending[level], node);
      this.pending[level] = null;
      level++;
    }
    this.pending[level] = node;
    this.leaves++;
  }

  finish() {
    if (this.leaves === 0) this.addLeaf(sha256()); // the empty file's one leaf
    const depth = ceilLog2(this.leaves);
    let carry = null;
    for (let l = 0; l < depth; l++) {
      const present = this.pending[l];
      if (present && carry) carry = hashPair(present, carry);
      else if (present) carry = hashPair(present, padHash(l));
      else if (carry) carry = hashPair(carry, padHash(l));
    }
    return carry ?? this.pending[depth];
  }
}

// ---- the piece window (§4.4, §4.6, §4.7) ----

const EMPTY = 'empty';
const ASSEMBLING = 'assembling'; // data from one member, not whole yet
const WHOLE = 'whole'; // whole, waiting for its hash (or `end`)
const VERIFYING = 'verifying'; // its hash is being computed
const VERIFIED = 'verified';

function equalBytes(a, b) {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a[i] ^ b[i];
  return diff === 0;
}

// Adds `piece` to ascending `ranges`, extending the last one when it
// follows it; false when that would take more than MAX_RANGES.
function rangesAdd(ranges, piece) {
  const last = ranges[ranges.length - 1];
  if (last && last.first + last.count === piece) { last.count++; return true; }
  if (ranges.length === MAX_RANGES) return false;
  ranges.push({ first: piece, count: 1 });
  return true;
}

// One file's window of pieces, from `next` (the first piece not output)
// on. Members are the page's peer objects; `sharer` is the file's.
// Piece hashes are computed asynchronously (WebCrypto), but their results
// are taken in the order the pieces became verifiable, so that assigned
// pieces are forwarded, and every piece output, in order.
//
// What happens is reported through `events`:
//   verified(piece, slot)       a piece checked out (slot.role, slot.data)
//   corrupt(piece, member, excluded)  one failed its hash
//   dropped(member, piece, why) a message was dropped (not a failure)
//   failed(why)                 the file failed
//   changed()                   something may be ready to pop, announce or request
export class PieceWindow {
  constructor({ size, pieceSize, window, sharer, events, now = () => performance.now() }) {
    this.size = size; // null until `end` for a stream
    this.pieceSize = pieceSize;
    this.fullLevel = ceilLog2(pieceSize / BLOCK);
    this.sharer = sharer;
    this.events = events;
    this.now = now;
    this.nSlots = window / pieceSize;
    this.slots = Array.from({ length: this.nSlots }, () => this.emptySlot());
    this.next = 0;
    this.members = new Map(); // peer → { assembling, piece, expected, corrupt }
    this.root = new MerkleRoot();
    this.bytesHeld = 0;
    this.ended = false;
    this.endedAt = 0;
    this.endRoot = null;
    this.state = 'receiving'; // 'complete', 'failed'
    this.finalRoot = null; // hex, once every piece was output after `end`
    this.haveNext = 0;
    this.haveSent = false;
    this.results = Promise.resolve(); // verification results, in order
  }

  emptySlot() {
    return {
      state: EMPTY, piece: 0, data: null, fill: 0, member: null, role: 0, verifiedAt: 0,
      hash: null, leaves: null, requested: false, requestedAt: 0, corrupt: false, generation: 0,
      forwardsLeft: 0, // channels that have yet to take this assigned piece (transfers.js)
    };
  }

  slotOf(piece) { return this.slots[piece % this.nSlots]; }

  nPieces() { return this.size === null ? Infinity : Math.ceil(this.size / this.pieceSize); }

  windowEnd() { return Math.min(this.next + this.nSlots, this.nPieces()); }

  pieceLength(piece) {
    if (this.size === null) return this.pieceSize;
    return Math.min(this.pieceSize, this.size - piece * this.pieceSize);
  }

  level() { return this.size === null ? this.fullLevel : pieceLevel(this.size, this.pieceSize); }

  member(peer) {
    let m = this.members.get(peer);
    if (!m) { m = { assembling: false, piece: 0, expected: 0, corrupt: 0 }; this.members.set(peer, m); }
    return m;
  }

  // The member still sending `slot`'s piece, or null.
  sender(slot) {
    if (slot.state !== ASSEMBLING) return null;
    const m = this.members.get(slot.member);
    return m && m.assembling && m.piece === slot.piece ? m : null;
  }

  // Empties `slot`, keeping its hash; whoever was sending it stops.
  dropData(slot) {
    const sender = this.sender(slot);
    if (sender) sender.assembling = false;
    if (slot.data) this.bytesHeld -= slot.data.length;
    Object.assign(slot, { state: EMPTY, data: null, fill: 0, member: null, leaves: null });
    slot.generation++;
  }

  // Empties `slot` for the piece that takes it next.
  reset(slot) {
    this.dropData(slot);
    const generation = slot.generation;
    Object.assign(slot, this.emptySlot(), { generation });
  }

  fail(why) {
    if (this.state !== 'receiving') return;
    this.state = 'failed';
    for (const slot of this.slots) this.reset(slot);
    this.events.failed(why);
  }

  dropped(peer, piece, why) { this.events.dropped(peer, piece, why); }

  // Piece data (role, byte offset, payload) from `peer`.
  data(peer, role, offset, payload) {
    const piece = Math.floor(offset / this.pieceSize);
    const within = offset % this.pieceSize;
    const len = payload.length;
    if (this.state !== 'receiving') return this.dropped(peer, piece, 'the file is over');
    if (len === 0 || len > this.pieceSize - within) return this.dropped(peer, piece, 'not within one piece');
    if (this.size !== null && (offset >= this.size || len > this.size - offset))
      return this.dropped(peer, piece, 'past the end of the file');
    if ((role === ROLE.DIRECT || role === ROLE.ASSIGNED) && peer !== this.sharer)
      return this.dropped(peer, piece, 'direct or assigned from a member other than the sharer');
    const m = this.member(peer);
    if (m.corrupt >= MAX_CORRUPT) return this.dropped(peer, piece, 'the member sent too many corrupt pieces');

    let slot;
    if (m.assembling && offset !== m.expected) {
      slot = this.slotOf(m.piece);
      if (this.size !== null || within !== 0) {
        this.dropped(peer, m.piece, 'does not continue the piece its sender was sending');
        this.dropData(slot);
        return undefined;
      }
      // In a stream, a piece its sender ended short may be the file's
      // last: it waits for `end` (or its repair), and this message starts
      // the sender's next piece.
      m.assembling = false;
    }
    if (m.assembling) {
      slot = this.slotOf(m.piece);
    } else {
      if (within !== 0) return this.dropped(peer, piece, 'does not start at the first byte of a piece');
      if (piece < this.next) return this.dropped(peer, piece, 'a duplicate: already output');
      if (piece - this.next >= this.nSlots) return this.dropped(peer, piece, 'beyond the window');
      slot = this.slotOf(piece);
      if (slot.state !== EMPTY)
        return this.dropped(peer, piece, 'a duplicate: held or being assembled from another member');
      Object.assign(slot, { state: ASSEMBLING, piece, data: new Uint8Array(this.pieceLength(piece)), fill: 0, member: peer, role });
      this.bytesHeld += slot.data.length;
      m.assembling = true;
      m.piece = piece;
    }
    slot.data.set(payload, slot.fill);
    slot.fill += len;
    m.expected = offset + len;
    if (slot.fill === this.pieceLength(slot.piece)) this.whole(slot);
    return undefined;
  }

  whole(slot) {
    const sender = this.sender(slot);
    if (sender) sender.assembling = false;
    slot.state = WHOLE;
    if (slot.hash) this.verify(slot);
  }

  // Hashes `slot`'s piece now; its result is taken after those of the
  // pieces before it, and only if the slot still holds what was hashed.
  verify(slot) {
    slot.state = VERIFYING;
    const { generation, piece } = slot;
    const data = slot.data.subarray(0, slot.fill);
    const computed = hashPiece(this.level(), data);
    this.results = this.results.then(() => computed).then((result) => {
      if (this.state !== 'receiving' || slot.generation !== generation || slot.state !== VERIFYING) return;
      this.checked(slot, piece, result);
    }).catch((e) => this.fail(`could not hash piece ${piece}: ${e.message}`));
  }

  checked(slot, piece, { hash, leaves }) {
    if (equalBytes(hash, slot.hash)) {
      Object.assign(slot, { state: VERIFIED, verifiedAt: this.now(), requested: false, corrupt: false, leaves });
      this.events.verified(piece, slot);
      this.events.changed();
      return;
    }
    if (slot.member === this.sharer) {
      this.fail(`piece ${piece} from the sharer failed its own hash`);
      return;
    }
    const m = this.member(slot.member);
    m.corrupt++;
    const from = slot.member;
    this.dropData(slot);
    slot.corrupt = true;
    this.events.corrupt(piece, from, m.corrupt === MAX_CORRUPT);
    this.events.changed();
  }

  // A run of piece hashes from `peer`.
  hashes(peer, first, count, hashes) {
    if (this.state !== 'receiving') return this.dropped(peer, first, 'the file is over');
    if (peer !== this.sharer) return this.dropped(peer, first, 'piece hashes from a member other than the sharer');
    const from = Math.max(first, this.next);
    const to = Math.min(this.windowEnd(), first + count);
    if (from > first || to < first + count) this.dropped(peer, first, 'hashes outside the window');
    for (let piece = from; piece < to; piece++) {
      const slot = this.slotOf(piece);
      if (slot.hash) continue;
      slot.hash = hashes.slice((piece - first) * HASH, (piece - first + 1) * HASH);
      if (slot.state === WHOLE) this.verify(slot);
    }
    return undefined;
  }

  // The sharer's `end`: the file's size and root (32 bytes).
  end(size, root) {
    if (this.state !== 'receiving' || this.ended) return this.dropped(this.sharer, 0, 'end after the file ended');
    if (this.size !== null && size !== this.size)
      return this.fail(`end gives ${size} bytes, the offer ${this.size}`);
    if (this.next > Math.ceil(size / this.pieceSize))
      return this.fail(`end gives ${size} bytes, fewer than the pieces already output`);
    this.ended = true;
    this.endedAt = this.now();
    this.endRoot = root;
    if (this.size === null) {
      this.size = size;
      // Now the last piece has a length, and the pieces a level: a piece
      // verified at another length, or past the end, means the sharer's
      // hashes and its end disagree.
      for (let piece = this.next; piece < this.next + this.nSlots; piece++) {
        const slot = this.slotOf(piece);
        const inside = piece < this.nPieces();
        const held = slot.state !== EMPTY;
        if (held && (slot.state === VERIFIED || slot.state === VERIFYING)
            && (!inside || slot.fill !== this.pieceLength(piece)))
          return this.fail(`piece ${piece} was verified, but end gives a file of ${size} bytes`);
        if (!inside) this.reset(slot);
        else if (held && slot.fill > this.pieceLength(piece)) {
          this.dropped(slot.member, piece, 'past the end of the file');
          this.dropData(slot);
        } else if (held && slot.state === ASSEMBLING && slot.fill === this.pieceLength(piece)) {
          this.whole(slot);
        }
      }
    }
    if (this.next === this.nPieces()) this.finish();
    this.events.changed();
    return undefined;
  }

  // Piece `next` if it is verified: output it (the caller writes its
  // bytes) and move on; null otherwise.
  peek() {
    if (this.state !== 'receiving' || this.next >= this.nPieces()) return null;
    const slot = this.slotOf(this.next);
    return slot.state === VERIFIED ? slot : null;
  }

  pop() {
    const slot = this.peek();
    if (!slot) return null;
    const data = slot.data;
    for (const leaf of slot.leaves) this.root.addLeaf(leaf);
    this.bytesHeld -= data.length;
    slot.data = null;
    this.reset(slot);
    this.next++;
    if (this.ended && this.next === this.nPieces()) this.finish();
    return data;
  }

  finish() {
    const root = this.root.finish();
    this.finalRoot = toHex(root);
    if (equalBytes(root, this.endRoot)) this.state = 'complete';
    else this.fail(`the root of the ${this.size} bytes output is not the one end gives`);
  }

  haveDue() {
    if (this.state === 'complete') return !this.haveSent || this.haveNext !== this.next;
    return this.state === 'receiving' && this.next - this.haveNext >= Math.max(this.nSlots / 4, 1);
  }

  // `next` and the verified pieces from it, for a `have`.
  have() {
    this.haveNext = this.next;
    this.haveSent = true;
    const ranges = [];
    for (let piece = this.next; piece < this.windowEnd(); piece++) {
      const slot = this.slotOf(piece);
      if (slot.state === VERIFIED && !rangesAdd(ranges, piece)) break;
    }
    return ranges;
  }

  // Missing: not whole, and not on its way from the sharer (its channel
  // is ordered: what it is sending it finishes).
  missing(slot) {
    if (slot.state === EMPTY) return true;
    return slot.state === ASSEMBLING && (this.sender(slot) === null || slot.member !== this.sharer);
  }

  // The pieces to request from the sharer now (§4.7). `memberLeft`: every
  // missing piece the sharer has sent (its hash came, or a later piece is
  // verified), at once; otherwise those past which a piece verified
  // REPAIR_DELAY_MS ago, corrupt ones, and all of them that long after
  // `end`.
  requests(memberLeft = false) {
    const ranges = [];
    const end = this.windowEnd();
    if (this.state !== 'receiving' || end <= this.next) return ranges;
    const now = this.now();
    const afterEnd = this.ended && now - this.endedAt >= REPAIR_DELAY_MS;
    // oldestLater[k]: when the earliest-verified piece after next + k was verified.
    const oldestLater = new Array(end - this.next);
    let oldest = Infinity;
    for (let piece = end - 1; piece >= this.next; piece--) {
      const slot = this.slotOf(piece);
      oldestLater[piece - this.next] = oldest;
      if (slot.state === VERIFIED) oldest = Math.min(oldest, slot.verifiedAt);
    }
    for (let piece = this.next; piece < end; piece++) {
      const slot = this.slotOf(piece);
      const later = oldestLater[piece - this.next];
      if (!this.missing(slot)) continue;
      if (slot.requested && now - slot.requestedAt < RETRY_MS && !slot.corrupt) continue;
      const due = memberLeft ? slot.hash !== null || later !== Infinity
        : slot.corrupt || afterEnd || (later !== Infinity && now - later >= REPAIR_DELAY_MS);
      if (!due) continue;
      if (!rangesAdd(ranges, piece)) break;
      // The sharer's repair must not be a duplicate of this.
      if (slot.state === ASSEMBLING) this.dropData(slot);
      Object.assign(slot, { requested: true, requestedAt: now, corrupt: false });
    }
    return ranges;
  }

  // `peer` left: what it was sending is dropped; returns the requests due.
  memberLeft(peer) {
    if (this.state !== 'receiving') return [];
    const m = this.members.get(peer);
    if (m?.assembling) this.dropData(this.slotOf(m.piece));
    this.members.delete(peer);
    return this.requests(true);
  }
}

export const roleName = (role) => ROLE_NAMES[role] ?? String(role);
