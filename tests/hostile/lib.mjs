// The hostile member: a room member on libdatachannel (node-datachannel),
// written from docs/protocol.md alone, that can send anything at every layer
// it reaches (signalling payloads, both data channels, raw signalling
// frames). The processes around it come from tests/processes.mjs.
import { randomBytes } from 'node:crypto';
import nodeDataChannel from 'node-datachannel';
import WebSocket from 'ws';

export { startProcess, startServer, tail } from '../processes.mjs';

const { PeerConnection } = nodeDataChannel;

// The ICE ufrag of a description (session or media level).
function ufragOf(sdp) {
  const m = /^a=ice-ufrag:(\S+)/m.exec(sdp ?? '');
  return m ? m[1] : null;
}

// Our own stack sends only what the other side says it takes; the hostile
// member lies to it about the victim's limit so that oversized messages
// leave. (RFC 8841: 0 means no limit.)
function unlimited(sdp) {
  return /^a=max-message-size:/m.test(sdp)
    ? sdp.replace(/^a=max-message-size:\d+/m, 'a=max-message-size:0')
    : sdp.replace(/^(a=sctp-port:\d+)\r?$/m, '$1\r\na=max-message-size:0\r');
}

// One peer connection of the hostile member, with the two negotiated
// channels of §1.6 and every message the victim sent on them.
class Peer {
  constructor(hostile, signalId, offerer) {
    this.hostile = hostile;
    this.signalId = signalId;
    this.remoteInstance = null;
    this.appMessages = [];
    this.controlMessages = [];
    this.state = 'new';
    this.localUfrag = null;
    this.remoteUfrag = null;
    this.waiters = new Set();
    this.pc = new PeerConnection(`hostile-${signalId.slice(0, 6)}`, {
      iceServers: [],
      // libdatachannel leaves loopback out of its candidates unless bound.
      bindAddress: '127.0.0.1',
      maxMessageSize: 16 * 1024 * 1024,
    });
    this.pc.onLocalDescription((sdp, type) => {
      this.localUfrag = ufragOf(sdp);
      this.hostile.signal(signalId, { type: type.toLowerCase(), sdp, instance: this.hostile.instance });
    });
    this.pc.onLocalCandidate((candidate, mid) => {
      this.hostile.signal(signalId, {
        candidate: candidate.replace(/^a=/, ''), sdpMid: mid || '0', sdpMLineIndex: 0,
        usernameFragment: this.localUfrag,
      });
    });
    this.pc.onStateChange((s) => { this.state = s; this.poke(); });
    if (offerer) this.openChannels();
  }

  poke() { for (const w of [...this.waiters]) w(); }

  // Creating the first channel makes libdatachannel offer; an answerer
  // creates them once the offer is set (both sides, same ids: negotiated).
  openChannels() {
    this.app = this.pc.createDataChannel('hangout', { negotiated: true, id: 0 });
    this.control = this.pc.createDataChannel('hangout-control', { negotiated: true, id: 1 });
    this.appOpen = false;
    this.controlOpen = false;
    this.app.onOpen(() => { this.appOpen = true; this.poke(); });
    this.control.onOpen(() => { this.controlOpen = true; this.poke(); });
    this.app.onClosed(() => { this.appOpen = false; this.closed = true; this.poke(); });
    this.control.onClosed(() => { this.controlOpen = false; this.closed = true; this.poke(); });
    this.app.onMessage((msg) => {
      this.appMessages.push(msg);
      this.hostile.onAppMessage?.(this, msg);
      this.poke();
    });
    this.control.onMessage((msg) => {
      this.controlMessages.push(msg);
      if (typeof msg === 'string' && msg.includes('"pong"')) this.pongs = (this.pongs ?? 0) + 1;
      this.poke();
    });
  }

  setRemote(type, sdp) {
    this.remoteUfrag = ufragOf(sdp);
    this.pc.setRemoteDescription(unlimited(sdp), type === 'offer' ? 'offer' : 'answer');
    if (type === 'offer') this.openChannels();
    for (const c of this.pendingCandidates ?? []) this.pc.addRemoteCandidate(c.candidate, c.mid);
    this.pendingCandidates = null;
  }

  addCandidate(candidate, mid) {
    if (!candidate) return;
    if (this.remoteUfrag === null) {
      (this.pendingCandidates ??= []).push({ candidate, mid });
      return;
    }
    this.pc.addRemoteCandidate(candidate, mid);
  }

  wait(check, ms, what) {
    return new Promise((resolve, reject) => {
      const w = () => {
        let v;
        try { v = check(); } catch (e) { finish(); reject(e); return; }
        if (v) { finish(); resolve(v); }
      };
      const t = setTimeout(() => {
        finish();
        reject(new Error(`hostile ↔ ${this.signalId}: ${what} not within ${ms} ms (state ${this.state})`));
      }, ms);
      const finish = () => { clearTimeout(t); this.waiters.delete(w); };
      this.waiters.add(w);
      w();
    });
  }

  waitOpen(ms = 20000) { return this.wait(() => this.appOpen && this.controlOpen, ms, 'both channels open'); }

  open() { return this.appOpen && this.controlOpen && !this.closed; }

  sendApp(msg) { return this.send(this.app, msg); }

  sendControl(msg) { return this.send(this.control, msg); }

  // A message that our stack refuses (it may be over its own limits) is
  // reported, not thrown: the batch goes on with the next one.
  send(channel, msg) {
    if (!this.open()) return false;
    try {
      return typeof msg === 'string' ? channel.sendMessage(msg) : channel.sendMessageBinary(msg);
    } catch {
      return false;
    }
  }

  // Everything sent has left our buffers and the victim has read it:
  // a ping on the control channel after it is answered (SCTP delivers the
  // association's messages in order here: loopback loses nothing). A
  // victim that closed the connection has nothing more to read either.
  // Our own stack's queues empty (or the victim gone).
  flush(ms = 10000) {
    return this.wait(() => this.closed || (this.app.bufferedAmount() === 0
      && this.control.bufferedAmount() === 0), ms, 'our send buffers empty');
  }

  async drain(ms = 10000) {
    await this.flush(ms);
    if (this.closed) return;
    const before = this.pongs ?? 0;
    // Pongs are only counted from here on: earlier pings may be answered late.
    this.sendControl('{"type":"ping"}');
    await this.wait(() => this.closed || (this.pongs ?? 0) > before, ms, 'a pong after the batch');
  }

  close() {
    try { this.pc.close(); } catch { /* already gone */ }
  }
}

// The hostile member: a WebSocket to the server, a Peer per victim.
export class Hostile {
  constructor(url, room, name = 'hostile') {
    this.url = url;
    this.room = room;
    this.name = name;
    this.instance = randomBytes(16).toString('hex');
    this.peers = new Map();
    this.members = new Map(); // id -> name, from welcome and member-joined
    this.frames = [];         // everything the server sent, parsed
    this.waiters = new Set();
  }

  poke() { for (const w of [...this.waiters]) w(); }

  wait(check, ms, what) {
    return new Promise((resolve, reject) => {
      const w = () => {
        const v = check();
        if (v) { finish(); resolve(v); }
      };
      const t = setTimeout(() => { finish(); reject(new Error(`hostile: ${what} not within ${ms} ms`)); }, ms);
      const finish = () => { clearTimeout(t); this.waiters.delete(w); };
      this.waiters.add(w);
      w();
    });
  }

  async join({ offer = true } = {}) {
    this.ws = new WebSocket(this.url);
    this.ws.on('message', (data, isBinary) => {
      if (isBinary) return;
      let msg;
      try { msg = JSON.parse(String(data)); } catch { return; }
      this.frames.push(msg);
      this.onFrame(msg);
      this.poke();
    });
    this.ws.on('close', () => { this.wsClosed = true; this.poke(); });
    await new Promise((resolve, reject) => { this.ws.once('open', resolve); this.ws.once('error', reject); });
    this.raw(JSON.stringify({ type: 'join', room: this.room, name: this.name }));
    const welcome = await this.wait(() => this.frames.find((f) => f.type === 'welcome'), 10000, 'welcome');
    this.id = welcome.id;
    for (const m of welcome.members) {
      this.members.set(m.id, m.name);
      if (offer) this.peers.set(m.id, new Peer(this, m.id, true));
    }
    return welcome;
  }

  onFrame(msg) {
    if (msg.type === 'member-joined') this.members.set(msg.id, msg.name);
    if (msg.type !== 'signal' || typeof msg.payload !== 'object') return;
    const { from, payload } = msg;
    let peer = this.peers.get(from);
    if (payload.type === 'offer') {
      if (this.holdOffers) { (this.heldOffers ??= []).push(msg); return; }
      peer?.close();
      peer = new Peer(this, from, false);
      this.peers.set(from, peer);
      peer.remoteInstance = payload.instance ?? null;
      peer.setRemote('offer', payload.sdp);
    } else if (payload.type === 'answer' && peer) {
      peer.remoteInstance = payload.instance ?? null;
      peer.setRemote('answer', payload.sdp);
    } else if ('candidate' in payload && peer) {
      if (payload.usernameFragment && peer.remoteUfrag && payload.usernameFragment !== peer.remoteUfrag) return;
      peer.addCandidate(payload.candidate, payload.sdpMid ?? '0');
    }
  }

  raw(text) { this.ws.send(text); }

  signal(to, payload) {
    if (this.ws.readyState !== WebSocket.OPEN) return;
    this.ws.send(JSON.stringify({ type: 'signal', to, payload }));
  }

  // The server's rate limit (§1.4: a burst of 100, 20 per second) would
  // drop signals sent faster; a batch of signals keeps under it.
  async signalPaced(to, payloads) {
    for (let i = 0; i < payloads.length; i++) {
      if (i > 0 && i % 15 === 0) await new Promise((r) => setTimeout(r, 1000));
      this.signal(to, payloads[i]);
    }
  }

  memberNamed(name) {
    for (const [id, n] of this.members) if (n === name) return id;
    return null;
  }

  close() {
    for (const p of this.peers.values()) p.close();
    this.ws?.close();
  }
}
