// A room member written from docs/protocol.md §1 (signalling, the mesh, the
// pair's two channels) on top of §2 (transfer.mjs), for any WebRTC stack:
// the stack is an adapter (datachannel.mjs, wrtc.mjs) whose connect()
// returns a connection, an EventEmitter with:
//   events   "description" (type, sdp), "candidate" (text, mid; text ''
//            ends the candidates), "open" (both channels), "app" (string |
//            Buffer), "control" (string), "closed"
//   methods  setRemoteDescription(type, sdp), addRemoteCandidate(text,
//            mid) (both may return promises), app (a channel for
//            transfer.mjs), sendControl(text), selectedAddresses(), close()
// A connection creates the two negotiated channels (§1.6) at once; an
// offering one then offers, an answering one answers when the offer is set.
import { randomBytes } from 'node:crypto';
import WebSocket from 'ws';
import { FileChannel, newFileId } from './transfer.mjs';

// §1.4: the server drops what goes over a burst of 100 and 20 per second,
// and members must stay below that: a bucket of our own.
const SIGNAL_BURST = 50;
const SIGNALS_PER_SECOND = 18;
// §1.6: a member the server reports gone is dropped without a pong in 2 s.
const PONG_TIMEOUT_MS = 2000;
const MAX_CONTROL_BYTES = 4096;
// An absent a=max-message-size (RFC 8841 §6; protocol §1.8); 0 is no limit.
const DEFAULT_MAX_MESSAGE_SIZE = 65536;

const ufragOf = (sdp) => /^a=ice-ufrag:(\S+)/m.exec(sdp)?.[1] ?? null;

function maxMessageSizeOf(sdp) {
  const m = /^a=max-message-size:(\d+)/m.exec(sdp);
  if (!m) return DEFAULT_MAX_MESSAGE_SIZE;
  const v = Number(m[1]);
  return v === 0 ? Infinity : v;
}

const parseObject = (text) => {
  try {
    const v = JSON.parse(text);
    return v !== null && typeof v === 'object' && !Array.isArray(v) ? v : null;
  } catch { return null; }
};

// One pair: our connection to one member, filed under its signalling id.
class Pair {
  constructor(member, id, offerer) {
    this.member = member;
    this.id = id;
    this.offerer = offerer;
    this.answered = false;
    this.open = false;
    this.closed = false;
    this.remoteInstance = null;
    this.localSdp = null;
    this.remoteSdp = null;
    this.pendingCandidates = [];
    this.claim = null;          // { id, token } it claimed on its control channel
    this.token = null;          // our id proof's token for it, after a rejoin
    this.pongs = 0;
    this.createdAt = performance.now();
    this.openMs = null;         // from this pair's start to both channels open
    // Remote descriptions and candidates are applied in arrival order.
    this.ops = Promise.resolve();
    this.conn = member.stack.connect({ offerer, bindAddress: member.bindAddress, label: `${member.name}-${id.slice(0, 6)}` });
    this.conn.on('description', (type, sdp) => this.onDescription(type, sdp));
    this.conn.on('candidate', (candidate, mid) => this.onCandidate(candidate, mid));
    this.conn.on('open', () => this.onOpen());
    // The peer may send as soon as the application channel is open, before
    // ours reports the control channel open too.
    this.conn.on('app', (data) => this.fileChannel().onMessage(data));
    this.conn.on('control', (text) => this.onControl(text));
    this.conn.on('closed', (why) => member.drop(this, why));
  }

  get name() { return this.member.names.get(this.id) ?? null; }

  queue(what, fn) {
    this.ops = this.ops.then(fn).catch((e) => this.member.log(`${this.id}: ${what}: ${e.message ?? e}`));
  }

  onDescription(type, sdp) {
    this.localSdp = sdp;
    this.member.signal(this.id, { type, sdp, instance: this.member.instance });
    for (const [c, mid] of this.pendingCandidates) this.onCandidate(c, mid);
    this.pendingCandidates = [];
  }

  // §1.6: candidates carry the ufrag of the description they belong to.
  onCandidate(candidate, mid) {
    if (this.localSdp === null) {
      this.pendingCandidates.push([candidate, mid]);
      return;
    }
    this.member.signal(this.id, {
      candidate, sdpMid: mid || '0', sdpMLineIndex: 0, usernameFragment: ufragOf(this.localSdp),
    });
  }

  setRemote(type, sdp) {
    this.remoteSdp = sdp;
    this.queue(`remote ${type}`, () => this.conn.setRemoteDescription(type, sdp));
  }

  addCandidate(payload) {
    const ufrag = payload.usernameFragment;
    if (typeof ufrag === 'string' && ufrag !== ufragOf(this.remoteSdp ?? '')) {
      this.member.log(`${this.id}: candidate for another description (${ufrag}): dropped`);
      return;
    }
    if (payload.candidate === '') return;
    this.queue('candidate', () => this.conn.addRemoteCandidate(payload.candidate,
      typeof payload.sdpMid === 'string' ? payload.sdpMid : '0'));
  }

  // §2 on the application channel; both descriptions are known by the
  // time it carries anything.
  fileChannel() {
    if (!this.files) {
      // §2.2: chunk-size within the smaller of both sides' max-message-size.
      const maxMessageSize = Math.min(maxMessageSizeOf(this.localSdp), maxMessageSizeOf(this.remoteSdp));
      this.files = new FileChannel(this.conn.app, {
        maxMessageSize, log: (t) => this.member.log(`${this.id}: ${t}`),
      });
      this.files.on('complete', (file) => this.member.onFile(this, file));
      this.files.on('failed', (file) => this.member.onFile(this, file));
    }
    return this.files;
  }

  onOpen() {
    // §4.1: this member reads and sends version 1 alone.
    this.conn.sendControl('{"type":"capabilities","transfer":[1]}');
    this.fileChannel();
    this.openMs ??= performance.now() - this.createdAt;
    this.open = true;
    this.member.poke();
  }

  onControl(text) {
    if (text.length > MAX_CONTROL_BYTES) return;
    const msg = parseObject(text);
    if (msg === null) return;
    if (msg.type === 'ping') this.conn.sendControl('{"type":"pong"}');
    else if (msg.type === 'pong') { this.pongs++; this.member.poke(); }
    else if (msg.type === 'id' && typeof msg.id === 'string' && typeof msg.token === 'string') {
      this.member.onClaim(this, { id: msg.id, token: msg.token });
    }
  }

  close() {
    this.closed = true;
    this.open = false;
    this.files?.close();
    this.conn.close();
  }
}

/**
 * A member of one room. Its pairs are filed by the signalling id the server
 * gave the other member (§1.6's id proof refiles them); files it received
 * (complete or failed) are in `files`; every error the server sent it is
 * in `serverErrors`; `logs` says what it ignored and why.
 */
export class Member {
  constructor({ url, room, name, stack, bindAddress }) {
    Object.assign(this, { url, room, name, stack, bindAddress });
    this.instance = randomBytes(16).toString('hex');
    this.pairs = new Map();
    this.names = new Map();       // signalling id -> display name
    this.proofs = new Map();      // signalling id -> the id token it signalled
    this.files = [];
    this.serverErrors = [];
    this.logs = [];
    this.waiters = new Set();
    this.outbox = [];
    this.tokens = SIGNAL_BURST;
    this.refill = null;
  }

  log(text) { this.logs.push(`${new Date().toISOString()} ${text}`); }

  poke() { for (const w of [...this.waiters]) w(); }

  // `check()`'s first truthy value, or an error after `ms`.
  wait(check, ms, what) {
    return new Promise((resolve, reject) => {
      const w = () => {
        const v = check();
        if (v) { finish(); resolve(v); }
      };
      const t = setTimeout(() => {
        finish();
        reject(new Error(`${this.name} (${this.stack.name}): ${what} not within ${ms} ms; `
          + `last log lines:\n${this.logs.slice(-15).join('\n')}`));
      }, ms);
      const finish = () => { clearTimeout(t); this.waiters.delete(w); };
      this.waiters.add(w);
      w();
    });
  }

  async join(ms = 10000) {
    this.connect();
    await this.wait(() => this.id, ms, 'welcome');
  }

  // One WebSocket to the server, joining on open. A lost one does not touch
  // the pairs (§1.6): we connect again, 100 ms doubling to 5 s, and rejoin.
  connect() {
    const ws = new WebSocket(this.url);
    this.ws = ws;
    ws.on('open', () => {
      this.backoffMs = 100;
      ws.send(JSON.stringify({ type: 'join', room: this.room, name: this.name, version: 1 }));
    });
    ws.on('message', (data, isBinary) => {
      const msg = isBinary ? null : parseObject(String(data));
      if (msg === null) this.log('server: not a JSON object, ignored');
      else this.onServer(msg);
      this.poke();
    });
    ws.on('error', (e) => this.log(`WebSocket: ${e.message}`));
    ws.on('close', (code, reason) => {
      this.log(`WebSocket closed: ${code} ${reason}`);
      if (this.leaving) return;
      this.reconnect = setTimeout(() => this.connect(), this.backoffMs);
      this.backoffMs = Math.min(2 * (this.backoffMs ?? 100), 5000);
      this.poke();
    });
  }

  onServer(msg) {
    switch (msg.type) {
      case 'welcome': {
        const rejoined = this.id !== undefined;
        this.id = msg.id;
        if (rejoined) this.proveId();
        // §1.5: the newcomer offers to everyone already there (that it does
        // not know by id: those that rejoined answer "connected").
        for (const m of msg.members) {
          this.names.set(m.id, m.name);
          if (!this.pairs.has(m.id)) this.addPair(m.id, true);
        }
        break;
      }
      case 'member-joined':
        this.names.set(msg.id, msg.name);
        break;
      case 'member-left': this.onMemberLeft(msg.id); break;
      case 'signal':
        if (typeof msg.from === 'string' && msg.payload !== null && typeof msg.payload === 'object'
            && !Array.isArray(msg.payload)) this.onSignal(msg.from, msg.payload);
        break;
      case 'error':
        this.serverErrors.push(msg);
        this.log(`server error ${msg.code}: ${msg.reason}`);
        break;
      default: this.log(`server: unknown type ${msg.type}, ignored`);
    }
  }

  addPair(id, offerer) {
    const pair = new Pair(this, id, offerer);
    this.pairs.set(id, pair);
    return pair;
  }

  drop(pair, why) {
    if (pair.closed) return;
    this.log(`${pair.id}: dropped (${why})`);
    pair.close();
    if (this.pairs.get(pair.id) === pair) this.pairs.delete(pair.id);
    this.poke();
  }

  connectedPair(instance, except) {
    for (const p of this.pairs.values()) {
      if (p !== except && p.open && instance !== null && p.remoteInstance === instance) return p;
    }
    return null;
  }

  onSignal(from, payload) {
    const pair = this.pairs.get(from);
    if ('candidate' in payload) {
      if (pair && typeof payload.candidate === 'string') pair.addCandidate(payload);
      return;
    }
    const instance = typeof payload.instance === 'string' ? payload.instance : null;
    switch (payload.type) {
      case 'offer': {
        if (typeof payload.sdp !== 'string') return;
        // §1.6: the offerer rejoined under a new id while we hold a working
        // connection to it: say so, and answer nothing.
        if (this.connectedPair(instance, pair)) {
          this.signal(from, { type: 'connected', instance: this.instance });
          return;
        }
        if (pair) this.drop(pair, 'a new offer from its id');
        const fresh = this.addPair(from, false);
        fresh.remoteInstance = instance;
        fresh.setRemote('offer', payload.sdp);
        break;
      }
      case 'answer': {
        if (!pair || !pair.offerer || pair.answered || typeof payload.sdp !== 'string') return;
        pair.answered = true;
        pair.remoteInstance = instance;
        pair.setRemote('answer', payload.sdp);
        // It answered, so a connection we hold under its key elsewhere may be stale.
        const stale = this.connectedPair(instance, pair);
        if (stale) this.checkAlive(stale);
        break;
      }
      case 'connected':
        if (pair && pair.offerer && !pair.answered) this.drop(pair, 'it is connected to us already');
        break;
      case 'close':
        if (pair) this.drop(pair, 'it sent close');
        break;
      case 'id':
        if (typeof payload.token !== 'string') return;
        this.proofs.set(from, payload.token);
        this.confirmClaims();
        break;
      default: this.log(`${from}: unknown payload ${payload.type}, ignored`);
    }
  }

  // §1.6's id proof, our side after a rejoin: a fresh token per connected
  // peer, on its control channel with our new id and through the server.
  proveId() {
    for (const pair of this.pairs.values()) {
      if (!pair.open) continue;
      pair.token = randomBytes(16).toString('hex');
      pair.conn.sendControl(JSON.stringify({ type: 'id', id: this.id, token: pair.token }));
      this.signal(pair.id, { type: 'id', token: pair.token });
      if (pair.claim && pair.claim.id !== pair.id) this.signal(pair.claim.id, { type: 'id', token: pair.token });
    }
  }

  // Its side: a claim on a control channel and the signal from the claimed
  // id carrying the same token refile that connection.
  onClaim(pair, claim) {
    pair.claim = claim;
    // Both rejoined: our signal half may have gone to its old id.
    if (pair.token) this.signal(claim.id, { type: 'id', token: pair.token });
    this.confirmClaims();
  }

  confirmClaims() {
    for (const pair of [...this.pairs.values()]) {
      const claim = pair.claim;
      if (!claim || this.proofs.get(claim.id) !== claim.token) continue;
      pair.claim = null;
      this.proofs.delete(claim.id);
      const there = this.pairs.get(claim.id);
      if (there?.open) continue;
      if (there) this.drop(there, 'an attempt to a member we are connected to');
      this.pairs.delete(pair.id);
      this.names.set(claim.id, this.names.get(pair.id));
      pair.id = claim.id;
      this.pairs.set(claim.id, pair);
      this.poke();
    }
  }

  onMemberLeft(id) {
    const pair = this.pairs.get(id);
    if (!pair) return;
    if (!pair.open) this.drop(pair, 'it left before connecting');
    else this.checkAlive(pair);
  }

  // Left the server or only lost its WebSocket? A ping tells (§1.6).
  checkAlive(pair) {
    const before = pair.pongs;
    pair.conn.sendControl('{"type":"ping"}');
    this.wait(() => pair.pongs > before || pair.closed, PONG_TIMEOUT_MS, 'pong')
      .catch(() => this.drop(pair, 'no pong within 2 s'));
  }

  // Signals leave through a token bucket (the server's rate limit, §1.4).
  signal(to, payload) {
    this.outbox.push(JSON.stringify({ type: 'signal', to, payload }));
    this.flushSignals();
  }

  flushSignals() {
    while (this.outbox.length > 0 && this.tokens >= 1) {
      this.tokens--;
      if (this.ws.readyState === WebSocket.OPEN) this.ws.send(this.outbox.shift());
      else this.outbox.shift();
    }
    if (this.refill === null && (this.outbox.length > 0 || this.tokens < SIGNAL_BURST)) {
      this.refill = setTimeout(() => {
        this.refill = null;
        this.tokens = Math.min(SIGNAL_BURST, this.tokens + 1);
        this.flushSignals();
      }, 1000 / SIGNALS_PER_SECOND);
      this.refill.unref();
    }
  }

  // The open pair of the member named `name` (display names are unique in
  // the tests' rooms).
  pairNamed(name) {
    for (const p of this.pairs.values()) if (p.open && p.name === name) return p;
    return null;
  }

  waitConnected(names, ms = 20000) {
    return this.wait(() => names.every((n) => this.pairNamed(n)) && names.map((n) => this.pairNamed(n)),
      ms, `connected to ${names.join(', ')}`);
  }

  onFile(pair, file) {
    file.from = pair.name;
    this.files.push(file);
    this.poke();
  }

  // A file received complete from the member named `from`, or its failure.
  async waitFile(from, ms) {
    const file = await this.wait(() => this.files.find((f) => f.from === from), ms, `a file from ${from}`);
    if (file.failure !== null) throw new Error(`${this.name}: the file from ${from} failed: ${file.failure}`);
    return file;
  }

  /**
   * Shares a file with every member whose channel is open now (§2.4) and
   * resolves with each one's answer, by display name.
   */
  async share(name, bytes) {
    const id = newFileId();
    const open = [...this.pairs.values()].filter((p) => p.open);
    const answers = await Promise.all(open.map((p) => p.files.send({ id, name, bytes })));
    return new Map(open.map((p, i) => [p.name, answers[i]]));
  }

  close() {
    this.leaving = true;
    for (const p of [...this.pairs.values()]) p.close();
    this.pairs.clear();
    clearTimeout(this.refill);
    clearTimeout(this.reconnect);
    this.ws?.close();
  }
}
