// gst-hangout web client: the room's files, both ways: what comes on an
// admitted member's application channel (docs/protocol.md §2, §4), each
// file's state from its offer to its ack (both versions both ways:
// version 2 receiving, forwarding, and sharing without forwarders), the
// user's say on it, and this page's own files sent one after the other.
// The wire formats and the receiver's rules are transfer1.js's and
// transfer2.js's, where bytes go storage.js's, the members room.js's. No DOM: each file reports to a view that ui.js
// supplies (`views`), which renders it, and the user's answers come back
// as calls (accept(), decline(), cancel()).
// SPDX-License-Identifier: LGPL-2.1-or-later

import { Sha256, toHex } from './sha256.js';
import * as v1 from './transfer1.js';
import * as v2 from './transfer2.js';
import { FileSink } from './storage.js';
import { state as room, log, randomHex, LOW_WATER } from './room.js';

const { fromHex, visibleText } = v1;

// Flow control: stop sending to a member above HIGH_WATER buffered bytes and
// resume at LOW_WATER (room.js). Chromium fails a channel whose queue
// reaches 16 MiB.
const HIGH_WATER = 4 * 1024 * 1024;
// Bytes read from the File at once, split into pieces and chunks: few
// reads, bounded memory.
const READ_BLOCK = 1024 * 1024;
// Version 2 as a sharer (§4.3): the C sink's piece size and window.
const PIECE_SIZE = 65536;
const SWARM_WINDOW = 8 * 1024 * 1024;
const WINDOW_PIECES = SWARM_WINDOW / PIECE_SIZE;
// §4.3: an offer neither accepted nor rejected within this is rejected.
const ACCEPT_TIMEOUT_MS = 10000;
// §2.4: the sender waits, bounded, for the acks.
const ACK_TIMEOUT_MS = 60000;
// A file nothing arrives for (neither data nor end) for this long is failed
// and forgotten. Tests shorten it by setting globalThis.hangoutStallMs
// before the page's scripts run (playwright's addInitScript).
const STALL_MS = Number.isFinite(globalThis.hangoutStallMs) ? globalThis.hangoutStallMs : 60000;
// Version 2 (§4.9): at most 4 files at once from all members together, each
// with a window of at most 8 MiB, as the C receiver: a window's bytes are
// held however slowly the page writes them.
const MAX_SWARM_FILES = 4;
const MAX_SWARM_WINDOW = 8 * 1024 * 1024;
// Bytes of a version 2 file handed to its FileSink and not yet written:
// beyond this the page stops taking pieces out of the window, which then
// fills and, by its `have`, holds the sharer (§4.6).
const SINK_PENDING_MAX = 1024 * 1024;
// How often a version 2 file looks for pieces to request (§4.7).
const SWARM_TICK_MS = 100;
// The reasons of the `reject` and `abort` a user's choice sends (§2.2).
const DECLINED_REASON = 'declined by the receiver';
const CANCELLED_RECEIVING_REASON = 'cancelled by the receiver';
const CANCELLED_SENDING_REASON = 'cancelled by the sender';

// How files are shown; ui.js sets these (hangout.js wires them).
// file(direction, name, size, who, mime) returns a file's view (ui.js's
// TransferView: progress(), failed(), received(), …); declined() reports
// an offer declined at once, which has no state of its own.
export const views = {
  file(direction, name, size, who, mime) { return null; },
  declined(name, size, who, why) {},
};

export const files = {
  shared: [], // SharedFiles of this page: offered to members that join later
  acceptAll: false, // every file offered in this room is accepted without asking
  undecided: new Set(), // received files the user has not accepted or declined
  outgoing: new Map(), // file id → Outgoing
  // "member/id" → Incoming or Declined, as the C receiver keys them: ids are
  // drawn by their senders, so only a member and an id together name a file.
  incoming: new Map(),
  swarmFiles: new Map(), // file id → SwarmIncoming: version 2 files are known by id alone (§4.3)
  sendChain: Promise.resolve(), // files are sent one after the other
};
// Each member's version 2 pieces to forward to it, in assignment order.
const forwardQueues = new WeakMap();
const forwardsOf = (peer) => {
  if (!forwardQueues.has(peer)) forwardQueues.set(peer, []);
  return forwardQueues.get(peer);
};

// ---- what members send (§2, §4) ----

// A message on an admitted member's application channel (room.js).
export function onAppMessage(peer, data) {
  // Members may be hostile: whatever they send, nothing throws out of here.
  try {
    if (typeof data === 'string') {
      let msg;
      try { msg = JSON.parse(data); } catch { log('malformed message from', peer.id); return; }
      if (msg && typeof msg === 'object' && !Array.isArray(msg)) onTransferControl(peer, msg);
      else log('message from', peer.id, 'is not a JSON object');
      return;
    }
    const bytes = new Uint8Array(data);
    // §4.4: the first byte tells the kind.
    switch (bytes[0]) {
      case v2.KIND_DATA: onDataMessage(peer, bytes); break;
      case v2.KIND_PIECE: onPieceMessage(peer, bytes); break;
      case v2.KIND_HASHES: onHashesMessage(peer, bytes); break;
      default: log('binary message of unknown kind', bytes[0], 'from', peer.id); break;
    }
  } catch (e) {
    log('a message from', peer.id, 'could not be handled:', e);
  }
}

// peer.id, not the current signalling id: it stays the same across the
// member's reconnections to the server (remap()).
const fileKey = (peer, id) => `${peer.id}/${id}`;

function onTransferControl(peer, msg) {
  switch (msg.type) {
    // offer, end and ack exist in both versions: `version` tells them apart.
    case 'offer':
    case 'end':
    case 'ack': {
      const version = v2.versionOf(msg);
      if (version === null) { log(`${msg.type} of no known version from`, peer.id); return undefined; }
      if (version === v2.VERSION) return onSwarmControl(peer, msg);
      if (msg.type === 'offer') return onFileOffer(peer, msg);
      if (msg.type === 'ack') return files.outgoing.get(msg.id)?.answer(peer, msg);
      const held = files.incoming.get(fileKey(peer, msg.id));
      return held instanceof SwarmIncoming ? undefined : held?.end(msg);
    }
    // abort serves both versions; the file is the sender's own.
    case 'abort': return files.incoming.get(fileKey(peer, msg.id))?.abort(msg);
    case 'reject': return files.outgoing.get(msg.id)?.answer(peer, msg);
    case 'accept':
    case 'swarm':
    case 'have':
    case 'request':
    case 'unavailable':
    case 'corrupt': return onSwarmControl(peer, msg);
    default: return undefined; // unknown types are ignored (§2.2)
  }
}

// ---- file transfer version 2 (§4): receiving and forwarding ----

// The outstanding files (§2.5) of a member: offered, neither ended nor
// aborted, in either version.
function outstandingFiles(peer) {
  let n = 0;
  for (const held of files.incoming.values()) if (held.peer === peer) n++;
  return n;
}

// Why the page does not take a version 2 offer (§4.9, worded as the C
// receiver words it), or null.
function swarmOfferRefusal(peer, offer) {
  if (offer.unsupported) return offer.unsupported;
  if (offer.window > MAX_SWARM_WINDOW) return v2.REASON_WINDOW;
  if (files.swarmFiles.size >= MAX_SWARM_FILES) return `already receives ${MAX_SWARM_FILES} files of version 2`;
  if (files.swarmFiles.has(offer.id) || files.incoming.has(fileKey(peer, offer.id))) return 'file id in use';
  return v1.namesRefusal(offer.name, offer.mime)
    ?? (outstandingFiles(peer) >= v1.MAX_OUTSTANDING ? v1.REASON_OUTSTANDING : null);
}

function onSwarmControl(peer, msg) {
  if (msg.type === 'offer') {
    const offer = v2.parseOffer(msg);
    if (!offer) { log('malformed version 2 offer from', peer.id, msg); return; }
    const why = swarmOfferRefusal(peer, offer);
    if (why) {
      log('declining', offer.id, 'from', peer.id + ':', why);
      sendReject(peer, offer.id, why);
      views.declined(offer.name, offer.size, peer.name, why);
      return;
    }
    const held = new SwarmIncoming(peer, offer);
    files.incoming.set(held.key, held);
    return;
  }
  const error = v2.controlError(msg);
  if (error) { log(`malformed ${msg.type} from`, peer.id + ':', error); return; }
  // What members say to a sharer (accept, have, request, corrupt, ack),
  // of a file the page shares.
  const out = files.outgoing.get(msg.id);
  if (out) {
    if (msg.type === 'ack') out.answer(peer, msg);
    else out.onSwarmControl(peer, msg);
    return;
  }
  const file = files.swarmFiles.get(msg.id);
  // Only the sharer speaks for its file (§4.3).
  if (!file || file.peer !== peer) return;
  switch (msg.type) {
    case 'swarm': file.setSwarm(msg.members); break;
    case 'end': file.end(msg.size, fromHex(msg.root)); break;
    // Only the sharer can vouch for the pieces (§4.7).
    case 'unavailable': file.fail('the sharer no longer has pieces we lack'); break;
    default: break;
  }
}

// §4.4's malformed-input rules are transfer2.js's; what passes them goes to
// the file's window, which drops what does not fit it.
function onPieceMessage(peer, bytes) {
  const piece = v2.parsePiece(bytes);
  if (piece.error) { log('piece data from', peer.id, 'dropped:', piece.error); return; }
  const file = files.swarmFiles.get(piece.id);
  if (!file) { log('piece data from', peer.id, 'for', piece.id, 'dropped: not a file the page takes'); return; }
  if (bytes.length > file.chunkSize) { log('piece data from', peer.id, 'dropped: over chunk-size'); return; }
  file.touch();
  file.window.data(peer, piece.role, piece.offset, piece.payload);
}

function onHashesMessage(peer, bytes) {
  const run = v2.parseHashes(bytes);
  if (run.error) { log('piece hashes from', peer.id, 'dropped:', run.error); return; }
  const file = files.swarmFiles.get(run.id);
  if (!file) { log('piece hashes from', peer.id, 'for', run.id, 'dropped: not a file the page takes'); return; }
  if (bytes.length > file.chunkSize) { log('piece hashes from', peer.id, 'dropped: over chunk-size'); return; }
  file.touch();
  file.window.hashes(peer, run.first, run.count, run.hashes);
}

// The member's channel fell to LOW_WATER: its forwards go on, and the
// page's own sends look again.
export function channelLow(peer) {
  pumpForwards(peer);
  for (const out of files.outgoing.values()) out.wake();
}

// Forwards go out in the order they were queued, a piece's messages one
// after the other (§4.4), while the channel holds at most LOW_WATER bytes
// it has not handed to SCTP; bufferedamountlow sends the next ones.
function pumpForwards(peer) {
  const forwards = forwardsOf(peer);
  while (forwards.length > 0 && peer.app.readyState === 'open'
      && peer.app.bufferedAmount <= LOW_WATER) {
    const item = forwards.shift();
    item.file.sendForward(peer, item);
  }
}

// A member left: what was queued for it is given up.
function dropForwards(peer) {
  const items = forwardsOf(peer);
  forwardQueues.delete(peer);
  for (const item of items) item.file.forwardTaken(item);
}

function onFileOffer(peer, msg) {
  const offer = v1.parseOffer(msg);
  if (!offer) { log('malformed offer from', peer.id, msg); return; }
  const known = files.incoming.get(fileKey(peer, offer.id));
  if (known) { known.fail('offered twice'); return; }
  if (outstandingFiles(peer) >= v1.MAX_OUTSTANDING) {
    // Not held at all: its data is dropped as data of a file never offered.
    sendReject(peer, offer.id, v1.REASON_OUTSTANDING);
    views.declined(offer.name, offer.size, peer.name, v1.REASON_OUTSTANDING);
    return;
  }
  const why = v1.namesRefusal(offer.name, offer.mime);
  if (why) views.declined(offer.name, offer.size, peer.name, why);
  const held = why ? new Declined(peer, offer, why) : new Incoming(peer, offer);
  files.incoming.set(held.key, held);
}

function sendReject(peer, id, reason) {
  try {
    peer.app.send(v1.buildReject(id, reason));
  } catch (e) { log('cannot reject a file of', peer.id, e.message); }
}

function onDataMessage(peer, bytes) {
  const data = v1.parseData(bytes);
  if (!data) { log('bad data message from', peer.id); return; }
  const held = files.incoming.get(fileKey(peer, data.id));
  if (!held) { log('data for an unknown file from', peer.id); return; }
  held.data(data);
}

// What the page holds for a file a member offered, from the offer until its
// end or abort, the member leaving, or STALL_MS with nothing for it. One
// timer per file, moved on only when it fires: data messages just note the
// time.
class Held {
  constructor(peer, offer) {
    this.peer = peer;
    this.id = offer.id;
    this.key = fileKey(peer, offer.id);
    this.last = performance.now();
    this.timer = setTimeout(() => this.checkStall(), STALL_MS);
  }

  touch() { this.last = performance.now(); }

  checkStall() {
    const idle = performance.now() - this.last;
    if (idle >= STALL_MS) this.stalled();
    else this.timer = setTimeout(() => this.checkStall(), STALL_MS - idle);
  }

  forget() {
    clearTimeout(this.timer);
    files.incoming.delete(this.key);
  }
}

// A file this page declined (reject sent), by a limit or by the user: kept
// only to count against its member's outstanding files and to drop its
// data quietly.
class Declined extends Held {
  constructor(peer, offer, why) {
    super(peer, offer);
    sendReject(peer, offer.id, why);
  }

  data() { this.touch(); }

  end() { this.forget(); }

  abort() { this.forget(); }

  fail() { this.forget(); }

  stalled() { this.forget(); }
}

// A file the page takes, in either version, and the user's say on it:
// asked unless they accept everything from this room. Its bytes come while
// the user decides (the sender streams at once: version 1 has no accept,
// and a version 2 sharer takes 10 s of silence for a reject), so a file
// accepted late is there at once. A verified file is offered to save, and
// acknowledged (`ack`), only once accepted: the sender's "verified" means
// the member took it. A declined or cancelled one is dropped, and its
// sender told (`reject`) unless it was told the file failed.
class Received extends Held {
  constructor(peer, offer, mime) {
    super(peer, offer);
    this.name = v1.safeFileName(offer.name);
    this.accepted = false;
    this.declined = false;
    this.declineReason = null; // what decline() was given
    this.kept = null; // a verified file's link, until the user accepts it
    this.pendingAck = null; // sends a verified file's ack, once accepted
    // The sender's type is shown, never used: see TransferView.received() (ui.js).
    this.ui = views.file('in', this.name, offer.size, peer.name, mime);
    if (files.acceptAll) {
      this.accepted = true;
      this.ui.receiving(() => this.decline(CANCELLED_RECEIVING_REASON));
      return;
    }
    files.undecided.add(this);
    this.ui.ask({ accept: () => this.accept(), decline: () => this.decline(DECLINED_REASON) });
  }

  accept() {
    if (this.declined) return;
    files.undecided.delete(this);
    this.accepted = true;
    this.pendingAck?.();
    this.pendingAck = null;
    if (this.kept) this.ui.received(...this.kept);
    else if (this.receiving()) this.ui.receiving(() => this.decline(CANCELLED_RECEIVING_REASON));
    this.kept = null;
  }

  // Whole and verified: `sendAck` now, or once the user accepts it.
  answer(sendAck) {
    if (this.accepted) sendAck();
    else this.pendingAck = sendAck;
  }

  // Verified and written: offered to save, now or once accepted.
  keep(file, digest, where) {
    if (this.declined) return;
    if (this.accepted) this.ui.received(file, this.name, digest, where);
    else { this.kept = [file, this.name, digest, where]; this.ui.verified(); }
  }

  decline(reason) {
    if (this.declined) return;
    this.declined = true;
    this.declineReason = reason;
    files.undecided.delete(this);
    if (this.receiving()) this.stop(reason);
    else if (this.pendingAck) sendReject(this.peer, this.id, reason);
    this.pendingAck = null;
    this.kept = null;
    this.sink?.discard();
    this.ui.cancelled(this.accepted ? 'Cancelled.' : 'Declined.');
  }

  // Failed before the user decided: nothing left to decide.
  failed(why) {
    files.undecided.delete(this);
    this.ui.failed(why);
  }
}

// A file arriving from one member.
class Incoming extends Received {
  constructor(peer, offer) {
    super(peer, offer, offer.mime);
    this.receiver = new v1.FileReceiver(offer); // §2.3's rules, and the digest
    this.sink = new FileSink(this.id, this.name);
  }

  receiving() { return files.incoming.get(this.key) === this; }

  // The user's `reject`: what the member still sends of it is dropped
  // quietly until its end, as for a file declined at its offer.
  stop(reason) {
    this.forget();
    files.incoming.set(this.key, new Declined(this.peer, { id: this.id }, reason));
    this.discard();
  }

  data(message) {
    this.touch();
    const got = this.receiver.data(message);
    if (got.dropped) log(got.dropped, 'for', this.name); // dropped alone (§2.3)
    else if (got.broken) {
      this.discard();
      this.ui.progress(this.receiver.received, 'receiving failed, waiting for the end');
    } else if (got.payload) {
      this.sink.write(got.payload);
      this.ui.progress(this.receiver.received);
    }
  }

  end(msg) {
    this.forget();
    const { digest, why } = this.receiver.end(msg);
    const sendAck = () => {
      try {
        this.peer.app.send(v1.buildAck(this.id, !why, digest));
      } catch (e) { log('cannot ack', this.name, e.message); }
    };
    if (why) { sendAck(); this.fail(why); return; }
    this.answer(sendAck);
    const sink = this.sink;
    sink.close().then((file) => this.keep(file, digest, sink.where),
      (e) => this.failed(`could not be saved: ${e.message}`));
  }

  discard() {
    this.sink?.discard();
    this.sink = null;
  }

  abort(msg) {
    this.fail(`the sender gave up${typeof msg.reason === 'string' ? `: ${visibleText(msg.reason)}` : ''}`);
  }

  stalled() { this.fail(`nothing arrived for ${STALL_MS / 1000} s`); }

  // Never reported complete; nothing of it is kept.
  fail(why) {
    this.forget();
    this.discard();
    this.failed(why);
  }
}

// A file offered in version 2 (§4) and accepted: its piece window, the
// swarm it forwards to, where its bytes go. Its pieces come from the
// sharer and from the other members; each is verified against the hash
// the sharer sent before it is written, forwarded or announced (§4.6).
//
// Forwarding (§4.5 step 4): a verified `assigned` piece goes as
// `forwarded` to every other member of the swarm, through each member's
// queue (pumpForwards()). The C receiver stops reading from the sharer
// while more than 2 of its pieces wait for its channels to the swarm; a
// page cannot stop reading (the browser takes every message off SCTP
// whatever the script does), so it holds the window instead: a piece stays
// in its place until every channel to the swarm took it, is written only
// then, and `next` (and the `have` that reports it) waits for it. The
// sharer sends nothing beyond a member's window (§4.6), so what the page
// holds stays within its window however slow its upload; the cost is that
// the whole file then waits for the page's forwards, where the C sharer
// would have handed the pieces to someone else (docs/architecture.md).
class SwarmIncoming extends Received {
  constructor(peer, offer) {
    super(peer, offer, offer.mime);
    this.size = offer.size;
    this.chunkSize = offer.chunkSize;
    this.idBytes = fromHex(offer.id);
    this.swarm = []; // the signalling ids of the sharer's latest `swarm`
    this.sha = new Sha256(); // shown with the link, for people to compare
    this.output = 0;
    this.done = false;
    // For tests and the curious: what was forwarded, and the most held.
    this.forwarded = 0; // pieces taken by a channel, counted per member
    this.maxHeld = 0; // bytes in the window plus bytes not yet written
    this.maxWaiting = 0; // assigned pieces not yet taken by every channel
    this.sink = new FileSink(offer.id, this.name);
    this.sink.onWritten = () => this.pump();
    this.window = new v2.PieceWindow({
      size: offer.size, pieceSize: offer.pieceSize, window: offer.window, sharer: peer,
      events: {
        verified: (piece, slot) => { if (slot.role === v2.ROLE.ASSIGNED) this.forward(piece, slot); },
        corrupt: (piece, from, excluded) => this.corrupt(piece, from, excluded),
        dropped: (from, piece, why) => console.debug('[hangout]', this.id, 'piece', piece, 'from', from.id, 'dropped:', why),
        failed: (why) => this.fail(why),
        changed: () => this.pump(),
      },
    });
    this.ticker = setInterval(() => this.tick(), SWARM_TICK_MS);
    files.swarmFiles.set(this.id, this);
    log('taking', this.name, 'from', peer.id, `in version 2 (pieces of ${offer.pieceSize} bytes, window ${offer.window})`);
    this.sendTo(peer, v2.buildAccept(this.id));
    this.announce(true);
  }

  sendTo(peer, data) {
    try { peer.app.send(data); } catch (e) { log('cannot send to', peer.id, e.message); }
  }

  // The members a forwarder sends to: the swarm but the page and the
  // sharer, skipping those the page has no open channel to (§4.9).
  swarmPeers() {
    const peers = new Set();
    for (const id of this.swarm) {
      const p = room.bySignal.get(id);
      if (id !== room.ownId && p && p !== this.peer && p.connected && p.app.readyState === 'open') peers.add(p);
    }
    return [...peers];
  }

  setSwarm(members) {
    if (this.done) return;
    this.swarm = members;
    this.announce(true);
  }

  // `have` to the sharer and the swarm, when one is due (or `force`).
  announce(force) {
    if (!force && !this.window.haveDue()) return;
    const ranges = this.window.have();
    const have = v2.buildHave(this.id, this.window.next, ranges);
    for (const p of [this.peer, ...this.swarmPeers()]) this.sendTo(p, have);
  }

  request(ranges) {
    if (ranges.length > 0) this.sendTo(this.peer, v2.buildRequest(this.id, ranges));
  }

  forward(piece, slot) {
    const peers = this.swarmPeers();
    slot.forwardsLeft = peers.length;
    for (const p of peers) {
      forwardsOf(p).push({ file: this, slot, generation: slot.generation, piece });
      pumpForwards(p);
    }
    this.maxWaiting = Math.max(this.maxWaiting, this.forwardsWaiting());
  }

  // One queued forward, now that `peer`'s channel can take it.
  sendForward(peer, item) {
    if (this.done || item.slot.generation !== item.generation) return;
    const messages = v2.pieceMessages(this.idBytes, v2.ROLE.FORWARDED, item.piece * this.window.pieceSize,
      item.slot.data, this.chunkSize);
    try {
      for (const m of messages) peer.app.send(m);
      this.forwarded++;
    } catch (e) { log('cannot forward to', peer.id, e.message); }
    this.forwardTaken(item);
  }

  forwardTaken(item) {
    if (this.done || item.slot.generation !== item.generation) return;
    if (--item.slot.forwardsLeft === 0) this.pump();
  }

  // Pieces assigned to the page that some channel to the swarm has yet to take.
  forwardsWaiting() {
    return this.window.slots.filter((s) => s.forwardsLeft > 0).length;
  }

  corrupt(piece, from, excluded) {
    const who = visibleText(from.name) || from.signalId;
    const text = `piece ${piece} of '${this.name}' from ${who} failed verification`
      + (excluded ? '; its data for the file are dropped from now on' : '');
    console.warn('[hangout]', text);
    this.ui.warning(text);
    this.sendTo(this.peer, v2.buildCorrupt(this.id, piece, from.signalId));
    this.request(this.window.requests()); // a corrupt piece is requested at once
  }

  memberLeft(peer) {
    if (this.done) return;
    this.request(this.window.memberLeft(peer));
  }

  // Writes the verified pieces in order (those forwarded by every channel),
  // while the sink has room; then announces, or ends the file.
  pump() {
    if (this.done) return;
    let slot;
    while (this.sink.pending < SINK_PENDING_MAX && (slot = this.window.peek()) && slot.forwardsLeft === 0) {
      const data = this.window.pop();
      this.sha.update(data);
      this.sink.write(data);
      this.output += data.length;
    }
    if (this.done) return; // pop() found the root wrong
    this.maxHeld = Math.max(this.maxHeld, this.window.bytesHeld + this.sink.pending);
    this.ui.progress(this.output);
    if (this.window.state === 'receiving') this.announce(false);
    else if (this.window.state === 'complete') this.complete();
  }

  tick() {
    if (this.done) return;
    this.request(this.window.requests());
    // Time the file waits for the page's own upload or disk is not the
    // sharer's fault (§2.5).
    if (this.forwardsWaiting() > 0 || this.sink.pending > 0) this.touch();
  }

  end(size, root) {
    if (this.done) return;
    this.touch();
    this.window.end(size, root);
  }

  async complete() {
    this.done = true;
    this.forget();
    const root = this.window.finalRoot;
    const digest = this.sha.hex();
    this.announce(true);
    log(this.name, 'from', this.peer.id, `complete: ${this.output} bytes, root ${root}`);
    const sink = this.sink;
    this.ui.stats({
      forwarded: this.forwarded, maxHeld: this.maxHeld, maxWaiting: this.maxWaiting, window: this.window.nSlots * this.window.pieceSize,
    });
    let file = null;
    let error = null;
    try { file = await sink.close(); } catch (e) { error = e; }
    // Declined while it was being saved: no longer receiving, and no ack
    // waiting yet, so decline() told the sharer nothing (and dropped what
    // was saved, which failed the close): it is a reject, not a failure.
    if (this.declined) sendReject(this.peer, this.id, this.declineReason);
    else if (error) {
      this.sendTo(this.peer, v2.buildAck(this.id, false, root));
      this.failed(`could not be saved: ${error.message}`);
    } else {
      this.answer(() => this.sendTo(this.peer, v2.buildAck(this.id, true, root)));
      this.keep(file, digest, sink.where);
    }
  }

  abort(msg) {
    this.fail(`the sender gave up${typeof msg.reason === 'string' ? `: ${visibleText(msg.reason)}` : ''}`);
  }

  stalled() { this.fail(`nothing arrived for ${STALL_MS / 1000} s`); }

  // Never reported complete; nothing of it is kept. The sharer is told.
  fail(why) {
    if (this.done) return;
    this.done = true;
    this.forget();
    log(this.name, 'from', this.peer.id, 'failed:', why);
    if (!this.peer.closed) this.sendTo(this.peer, v2.buildAck(this.id, false, this.window.finalRoot));
    this.window.fail(why);
    this.sink.discard();
    this.failed(why);
  }

  receiving() { return !this.done; }

  // The user's `reject` (§4.3: the sharer takes the member out of the
  // swarm); what the swarm still sends for the file is dropped unread.
  stop(reason) {
    this.done = true;
    this.forget();
    sendReject(this.peer, this.id, reason);
    this.window.fail(reason);
  }

  forget() {
    super.forget();
    clearInterval(this.ticker);
    if (files.swarmFiles.get(this.id) === this) files.swarmFiles.delete(this.id);
  }
}

// A file shared from this page: one row, whoever it goes to and however
// many sends that takes (a member that joins later gets a send of its own).
class SharedFile {
  constructor(file) {
    this.file = file;
    this.sentTo = new Set(); // peers it was sent to, or is being sent to
    this.current = null; // the Outgoing running now
    this.ui = views.file('out', file.name, file.size, '');
    this.ui.sharing(() => this.cancel());
  }

  // Stops the send under way (`abort` to whoever still receives it) and
  // offers the file to nobody else.
  cancel() {
    files.shared = files.shared.filter((s) => s !== this);
    this.current?.cancel();
    this.ui.stopped(this.current !== null);
  }
}

// One send of a file to some members: version 2 (§4.5) to those that speak
// it, version 1 (§2.4) to the others, from one read of the File. The page
// does not forward through others (the C sink's distribution=direct):
// every piece goes `direct` to each member that accepted, once it lies in
// that member's window (§4.6): a receiver slower than the page holds the
// page back (docs/architecture.md, "The page as a sharer").
class Outgoing {
  constructor(shared, peers) {
    this.file = shared.file;
    this.id = randomHex(16);
    this.idBytes = fromHex(this.id);
    // Each recipient: 'pending' until its ack or reject, or it leaves.
    this.recipients = new Map(peers.map((p) => [p, 'pending']));
    // Version 2 recipients: whether they accepted, and where their window
    // begins (the `next` of their latest `have`).
    this.swarm = new Map(peers.filter((p) => p.transfer?.has(v2.VERSION))
      .map((p) => [p, { accepted: false, next: 0, repairs: Promise.resolve() }]));
    this.pieces = 0; // version 2: the pieces sent so far
    this.sha256 = null;
    this.root = null;
    this.settled = null; // resolves once nobody is pending
    this.waiters = new Set(); // until()s waiting for a window, an answer
    this.cancelled = false;
    this.ui = shared.ui;
    this.ui.sending();
    for (const p of peers) this.ui.recipient(p, 'pending');
  }

  active() {
    return [...this.recipients].filter(([p, s]) => s === 'pending' && !p.closed && p.app.readyState === 'open')
      .map(([p]) => p);
  }

  activeV1() { return this.active().filter((p) => !this.swarm.has(p)); }

  activeV2() { return this.active().filter((p) => this.swarm.get(p)?.accepted); }

  send(peer, data) {
    try { peer.app.send(data); } catch (e) {
      log('send to', peer.id, 'failed:', e.message);
      this.setState(peer, 'failed');
    }
  }

  sendAll(peers, data) { for (const p of peers) this.send(p, data); }

  setState(peer, s) {
    if (this.recipients.get(peer) !== 'pending') return;
    this.recipients.set(peer, s);
    this.ui.recipient(peer, s);
    if (![...this.recipients.values()].includes('pending')) this.settled?.();
    this.wake();
  }

  // Something a waiting until() may be waiting for: an answer, a `have`,
  // a channel that drained (channelLow()), a member gone.
  wake() {
    const waiters = [...this.waiters];
    this.waiters.clear();
    for (const resolve of waiters) resolve();
  }

  // Resolves to true once `ready()` holds; to false if the send is
  // cancelled or nobody is left first.
  async until(ready) {
    while (!ready()) {
      if (this.cancelled || this.active().length === 0) return false;
      await new Promise((resolve) => this.waiters.add(resolve));
    }
    return !this.cancelled;
  }

  memberLeft(peer) { this.setState(peer, 'left'); }

  // A recipient's `reject`, or its `ack` in either version.
  answer(peer, msg) {
    if (msg.type === 'reject' || !this.swarm.has(peer)) {
      const answer = v1.answerOf(msg, this.sha256);
      if (answer) this.setState(peer, answer);
      return;
    }
    if (v2.versionOf(msg) !== v2.VERSION) return;
    // A failure counts at once; success only against the root of `end`.
    if (msg.ok !== true) this.setState(peer, 'failed');
    else if (this.root !== null) this.setState(peer, msg.root === this.root ? 'ok' : 'failed');
  }

  // What a version 2 recipient says of the file (§4.3).
  onSwarmControl(peer, msg) {
    const member = this.swarm.get(peer);
    if (!member || this.recipients.get(peer) !== 'pending') return;
    switch (msg.type) {
      case 'accept': member.accepted = true; break;
      case 'have': member.next = Math.max(member.next, msg.next); break;
      case 'request':
        member.repairs = member.repairs.then(() => this.repair(peer, msg.pieces)).catch((e) => log('repair for', peer.id, 'failed:', e.message));
        break;
      case 'corrupt': log(peer.id, 'says piece', msg.piece, 'of', this.id, 'was corrupt'); break;
      default: break;
    }
    this.wake();
  }

  // §2.2's abort to everyone still receiving; run() stops at its next step.
  cancel() {
    this.cancelled = true;
    const abort = v1.buildAbort(this.id, CANCELLED_SENDING_REASON);
    for (const p of this.active()) {
      this.send(p, abort);
      this.setState(p, 'cancelled');
    }
  }

  async run() {
    const chunkSize = Math.min(v1.CHUNK_SIZE, ...this.active().map((p) => p.pc.sctp?.maxMessageSize || v1.CHUNK_SIZE));
    const { name, size } = this.file;
    const mime = this.file.type || 'application/octet-stream';
    this.chunkSize = chunkSize;
    this.sendAll(this.activeV1(), v1.buildOffer({ id: this.id, name, size, mime, chunkSize }));
    this.sendAll(this.active().filter((p) => this.swarm.has(p)), v2.buildOffer({
      id: this.id, name, size, mime, chunkSize, pieceSize: PIECE_SIZE, window: SWARM_WINDOW, root: null,
    }));
    await this.startSwarm();
    const level = v2.pieceLevel(size, PIECE_SIZE);
    const merkle = new v2.MerkleRoot();
    const sha = this.activeV1().length > 0 ? new Sha256() : null;
    let offset = 0;
    while (offset < size && this.active().length > 0 && !this.cancelled) {
      // Read from the File as we send: a big file is never held in memory.
      const block = new Uint8Array(await this.file.slice(offset, offset + READ_BLOCK).arrayBuffer());
      if (block.length === 0) break; // the file shrank under us
      sha?.update(block);
      if (!await this.sendV1(block, offset, chunkSize)) break;
      for (let at = 0; at < block.length && this.activeV2().length > 0; at += PIECE_SIZE) {
        const piece = block.subarray(at, at + PIECE_SIZE);
        const { hash, leaves } = await v2.hashPiece(level, piece);
        for (const leaf of leaves) merkle.addLeaf(leaf);
        if (!await this.sendPiece(piece, hash, chunkSize)) break;
      }
      offset += block.length;
      this.ui.progress(offset);
    }
    if (this.cancelled) return;
    if (this.active().length === 0) {
      this.ui.sent(); // everyone left or declined
      return;
    }
    if (offset !== size) {
      this.sendAll(this.active(), v1.buildAbort(this.id, 'the file could not be read'));
      this.ui.failed('the file could not be read whole');
      return;
    }
    const answered = new Promise((resolve) => { this.settled = resolve; });
    if (![...this.recipients.values()].includes('pending')) this.settled();
    if (sha) {
      this.sha256 = sha.hex();
      this.sendAll(this.activeV1(), v1.buildEnd(this.id, offset, this.sha256));
    }
    this.root = toHex(merkle.finish());
    this.sendAll(this.activeV2(), v2.buildEnd(this.id, offset, this.root));
    let timer;
    await Promise.race([answered, new Promise((r) => { timer = setTimeout(r, ACK_TIMEOUT_MS); })]);
    clearTimeout(timer);
    if (this.cancelled) return;
    for (const p of this.recipients.keys()) this.setState(p, 'silent');
    this.ui.sent();
  }

  // §4.5 step 1: every version 2 recipient's accept or reject, for
  // ACCEPT_TIMEOUT_MS at most (silence counts as a reject), then `swarm`
  // to those that accepted.
  async startSwarm() {
    const answered = () => [...this.swarm].every(([p, m]) => m.accepted || this.recipients.get(p) !== 'pending');
    const timer = setTimeout(() => {
      for (const [p, m] of this.swarm) if (!m.accepted) this.setState(p, 'rejected');
    }, ACCEPT_TIMEOUT_MS);
    await this.until(answered);
    clearTimeout(timer);
    const swarm = v2.buildSwarm(this.id, this.activeV2().map((p) => p.signalId));
    this.sendAll(this.activeV2(), swarm);
  }

  // One block to the version 1 recipients (§2.3), in chunks.
  async sendV1(block, offset, chunkSize) {
    const capacity = chunkSize - v1.HEADER_SIZE; // payload bytes per message
    for (let i = 0; i < block.length && this.activeV1().length > 0; i += capacity) {
      if (!await this.until(() => this.activeV1().every(isDrained))) return false;
      this.sendAll(this.activeV1(), v1.buildData(this.idBytes, offset + i, block.subarray(i, i + capacity)));
    }
    return true;
  }

  // The next piece to the version 2 recipients: its hash, then its data
  // (§4.5 steps 2 and 3), once it lies in every window and every channel
  // can take it.
  async sendPiece(piece, hash, chunkSize) {
    const index = this.pieces;
    if (!await this.until(() => this.activeV2().every((p) => isDrained(p) && index < this.swarm.get(p).next + WINDOW_PIECES)))
      return false;
    const to = this.activeV2();
    this.sendAll(to, v2.buildHashes(this.idBytes, index, hash));
    for (const msg of v2.pieceMessages(this.idBytes, v2.ROLE.DIRECT, index * PIECE_SIZE, piece, chunkSize))
      this.sendAll(to, msg);
    this.pieces++;
    return true;
  }

  // A recipient's `request` (§4.7): the pieces sent already that lie in
  // its window, read again and sent as `repair`; the rest of each range
  // `unavailable`. A range costs what it overlaps the window, however
  // many pieces it names.
  async repair(peer, ranges) {
    const member = this.swarm.get(peer);
    const refused = [];
    const refuse = (first, end) => { if (end > first) refused.push({ first, count: end - first }); };
    for (const [first, count] of ranges) {
      const end = first + count;
      const from = Math.max(first, member.next);
      const to = Math.max(from, Math.min(end, this.pieces, member.next + WINDOW_PIECES));
      refuse(first, Math.min(end, from));
      for (let i = from; i < to; i++) {
        if (!await this.until(() => isDrained(peer))) return;
        if (this.recipients.get(peer) !== 'pending') return;
        const piece = new Uint8Array(await this.file.slice(i * PIECE_SIZE, (i + 1) * PIECE_SIZE).arrayBuffer());
        for (const msg of v2.pieceMessages(this.idBytes, v2.ROLE.REPAIR, i * PIECE_SIZE, piece, this.chunkSize))
          this.send(peer, msg);
      }
      refuse(to, end);
    }
    if (refused.length > 0) this.send(peer, v2.buildUnavailable(this.id, refused));
  }
}

// Whether the member's channel can take more now (or has closed).
const isDrained = (peer) => peer.app.bufferedAmount <= HIGH_WATER || peer.app.readyState !== 'open';

// Sends to the given members, or everyone connected now; one file at a time.
function queueSend(shared, peers = null) {
  files.sendChain = files.sendChain.then(async () => {
    if (!files.shared.includes(shared)) return; // cancelled meanwhile
    const to = (peers ?? [...room.peers.values()])
      .filter((p) => p.connected && !p.closed && !shared.sentTo.has(p));
    if (peers && to.length === 0) return; // a newcomer that already has it
    for (const p of to) shared.sentTo.add(p);
    if (to.length === 0) {
      shared.ui.waiting();
      return;
    }
    // Each one's version (§4.1) is known within 500 ms of its channels.
    await Promise.all(to.map((p) => p.versions));
    const out = new Outgoing(shared, to);
    files.outgoing.set(out.id, out);
    shared.current = out;
    try { await out.run(); } catch (e) { out.ui.failed(e.message); } finally {
      files.outgoing.delete(out.id);
      shared.current = null;
    }
  });
}

// The user's files, shared with everyone connected now and whoever joins.
export function shareFiles(list) {
  for (const file of list) {
    const shared = new SharedFile(file);
    files.shared.push(shared);
    queueSend(shared);
  }
}

// The user's "accept every file": those not decided yet are accepted now.
export function setAcceptAll(on) {
  files.acceptAll = on;
  if (on) for (const held of [...files.undecided]) held.accept();
}

// A member is in: it is offered what this page shared before it came.
export function memberAdmitted(peer) {
  for (const shared of files.shared) queueSend(shared, [peer]);
}

// A member is gone: its sends, its forwards and its files.
export function memberLeft(peer) {
  for (const out of files.outgoing.values()) out.memberLeft(peer);
  dropForwards(peer);
  for (const held of [...files.incoming.values()]) {
    if (held.peer === peer) held.fail('the sender left');
    else held.memberLeft?.(peer);
  }
}

