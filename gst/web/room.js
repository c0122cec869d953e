// gst-hangout web client: the room (docs/protocol.md §1, §3): the
// WebSocket to hangout-server and its reconnection, one RTCPeerConnection
// and its two negotiated channels per member (the mesh), the id proofs
// that refile a member after it rejoined (§1.6), pings, and the room
// secret's proofs (§3) before a member is let in. It speaks as the C room
// (gst/libhangout/room.c) does; the messages are signalling.js's, the
// proofs auth.js's. No DOM: what a person should see goes out through
// `events` (ui.js renders it), and an admitted member's application
// channel through `events.appMessage` (transfers.js takes it).
// SPDX-License-Identifier: LGPL-2.1-or-later

import { toHex } from './sha256.js';
import * as sig from './signalling.js';
import { roomKey, fingerprintOf, authProof, verifyProof, shortAuthString } from './auth.js';

// With a room secret, a member must prove it within this (§3). Tests
// shorten it by setting globalThis.hangoutAuthTimeoutMs before the page's
// scripts run (playwright's addInitScript).
const AUTH_TIMEOUT_MS = Number.isFinite(globalThis.hangoutAuthTimeoutMs) ? globalThis.hangoutAuthTimeoutMs : 10000;
// What a member sends before its proof is held, up to this, and taken
// once the proof checks out: the application channel is another SCTP
// stream and may overtake the proof (§3.3).
const EARLY_MAX = 4 * 1024 * 1024;
// The application channel's bufferedamountlow fires at this (transfers.js
// paces its sends and forwards by it).
export const LOW_WATER = 1024 * 1024;
// §4.1: a member that sent no `capabilities` this long after both channels
// opened speaks version 1.
const CAPABILITIES_WAIT_MS = 500;
const RECONNECT_MAX_MS = 10000;

export function log(...args) { console.log('[hangout]', ...args); }

export const randomHex = (bytes) => toHex(crypto.getRandomValues(new Uint8Array(bytes)));

// What the room tells the layers above it; ui.js and transfers.js set
// these (hangout.js wires them), each has one listener.
export const events = {
  status(text) {}, // how the page stands with the server
  joinRefused(reason) {}, // the server refused the join: ask again
  member(peer, forced) {}, // a member's connection changed (forced: the state to show)
  memberRemoved(peer) {}, // gone: dropped, left, or refused
  memberRefused(peer, reason) {}, // it could not prove the room secret
  admitted(peer) {}, // connected and proven: files may go to it
  appMessage(peer, data) {}, // from an admitted member's application channel
  left(peer) {}, // an admitted or connecting member is gone
  channelLow(peer) {}, // its application channel's buffer fell to LOW_WATER
};

export const state = {
  room: null,
  name: null,
  instance: randomHex(16), // §1.6: kept across reconnections to the server
  ownId: null,
  ws: null,
  joined: false,
  stopped: false, // no reconnection (a refused join)
  reconnectDelay: 500,
  reconnectTimer: null, // the next try after the server was lost
  peers: new Map(), // public id (first signalling id) → Peer
  proofs: new Map(), // signalling id → the id token it signalled (§1.6)
  secret: null, // the room secret (§3), from the address's fragment
  // The STUN and TURN servers of the last welcome (§1.4), for every new
  // peer connection; TURN credentials expire, and each rejoin renews them.
  iceServers: [],
  relayOnly: false, // ?relay=1: through TURN only (iceTransportPolicy)
  key: null, // derived from it once joined
  bySignal: new Map(), // current signalling id → Peer
  names: new Map(), // signalling id → display name (from the server)
};

// ---- signalling (§1) ----

// The room to join, as whom, with which secret; connect() joins it.
export function enter(room, name, secret = null) {
  state.room = room;
  state.name = name;
  state.secret = secret || null;
  state.key = state.secret ? roomKey(state.secret, room) : null;
  state.stopped = false;
  state.joined = false;
}

export function connect() {
  clearTimeout(state.reconnectTimer); // a rename may come first
  const scheme = location.protocol === 'https:' ? 'wss' : 'ws';
  const ws = new WebSocket(`${scheme}://${location.host}/ws`);
  state.ws = ws;
  events.status('Connecting to the server…');
  ws.onopen = () => {
    state.reconnectDelay = 500;
    wsSend(sig.joinMessage(state.room, state.name));
  };
  ws.onmessage = (ev) => {
    const msg = sig.parseServerMessage(ev.data);
    if (msg) onServerMessage(msg);
  };
  ws.onclose = () => {
    if (state.ws !== ws) return;
    state.ws = null;
    if (state.stopped) return;
    // Peer connections do not need the server once up (§1.6): keep them,
    // rejoin with backoff; the server gives a new id.
    events.status(`Lost the server; retrying in ${state.reconnectDelay / 1000} s…`);
    state.reconnectTimer = setTimeout(connect, state.reconnectDelay);
    state.reconnectDelay = Math.min(state.reconnectDelay * 2, RECONNECT_MAX_MS);
  };
}

// A new name takes a new join (the server tells the others members' names,
// §1.4): the peer connections stay, and the members refile us under the
// new id we prove to them (§1.6), with the new name.
export function rename(name) {
  state.name = name;
  const old = state.ws;
  state.ws = null; // its close is not a lost server
  old?.close();
  connect();
}

function wsSend(text) {
  if (state.ws && state.ws.readyState === WebSocket.OPEN) state.ws.send(text);
}

function sendSignal(to, payload) { wsSend(sig.signalMessage(to, payload)); }

function onServerMessage(msg) {
  switch (msg.type) {
    case 'welcome': onWelcome(msg); break;
    case 'member-joined': state.names.set(msg.id, msg.name); break; // the newcomer offers (§1.5)
    case 'member-left': onMemberLeft(msg.id); break;
    case 'signal': onSignal(msg.from, msg.payload).catch((e) => log('signal from', msg.from, e)); break;
    case 'error': onServerError(msg); break;
    default: break;
  }
}

function onServerError(msg) {
  log('server error', msg.code, msg.reason);
  if (state.joined) { events.status(`Server: ${msg.reason}`); return; }
  // The join was refused: ask again rather than retry the same thing.
  state.stopped = true;
  state.ws?.close();
  events.joinRefused(msg.reason);
}

function onWelcome(msg) {
  state.joined = true;
  state.ownId = msg.id;
  state.iceServers = msg.iceServers;
  events.status('Connected to the server.');
  // After a rejoin: prove our new id to the peers we still have (§1.6): the
  // token on their control channel and through the server.
  for (const peer of state.peers.values()) {
    if (!peer.connected) continue;
    peer.token = randomHex(16);
    sendControl(peer, { type: 'id', id: state.ownId, token: peer.token });
    sendIdProof(peer);
  }
  for (const m of msg.members) {
    state.names.set(m.id, m.name);
    if (!state.bySignal.has(m.id)) offerTo(m.id).catch((e) => log('offer to', m.id, e));
  }
}

function onMemberLeft(id) {
  state.names.delete(id);
  state.proofs.delete(id);
  const peer = state.bySignal.get(id);
  if (!peer) return;
  if (!peer.connected) { removePeer(peer); return; }
  // Left, or only lost its WebSocket? Ask it on the control channel.
  checkAlive(peer);
}

// Pings a connected peer on its own channel; without a pong it is dropped.
function checkAlive(peer) {
  if (peer.pingTimer) return;
  peer.pingTimer = setTimeout(() => { peer.pingTimer = null; removePeer(peer); }, sig.PONG_TIMEOUT_MS);
  events.member(peer, 'checking');
  sendControl(peer, { type: 'ping' });
}

async function onSignal(from, raw) {
  const payload = sig.parsePayload(raw);
  switch (payload?.kind) {
    case 'candidate': return onCandidate(from, payload);
    case 'offer': return onOffer(from, payload);
    case 'answer': return onAnswer(from, payload);
    case 'connected': return onConnected(from, payload);
    case 'id': return onIdProof(from, payload);
    case 'close': {
      const peer = state.bySignal.get(from);
      if (peer) removePeer(peer);
      return undefined;
    }
    default: log('unknown or malformed payload from', from); return undefined;
  }
}

// ---- peers ----

// With the welcome's servers; should the browser refuse them (a URL it
// cannot parse), without: host candidates still connect on a LAN.
function newPeerConnection() {
  const iceTransportPolicy = state.relayOnly ? 'relay' : 'all';
  try {
    return new RTCPeerConnection({ iceServers: state.iceServers, iceTransportPolicy });
  } catch (e) {
    log('ICE servers refused:', e);
    return new RTCPeerConnection({ iceTransportPolicy });
  }
}

// One member's peer connection and its two channels.
function createPeer(signalId, offerer) {
  const pc = newPeerConnection();
  const { APP_CHANNEL, CONTROL_CHANNEL } = sig;
  const peer = {
    id: signalId, signalId, offerer, pc,
    name: state.names.get(signalId) ?? '',
    app: pc.createDataChannel(APP_CHANNEL.label, { negotiated: true, id: APP_CHANNEL.id }),
    control: pc.createDataChannel(CONTROL_CHANNEL.label, { negotiated: true, id: CONTROL_CHANNEL.id }),
    connected: false, answered: false, closed: false,
    instance: null, localUfrag: null, remoteUfrag: null,
    token: null, claimId: null, claimToken: null, // §1.6 id proofs
    // §3: the ids the pair's proofs bind, as they are now
    authIds: [state.ownId, signalId], authed: false, authTimer: null, sas: null,
    remoteSet: false, pendingCandidates: [], // from the peer, before its description is set
    described: false, outCandidates: [], // ours, held until our description is sent
    pingTimer: null,
    // §4.1: the transfer versions it speaks, once its `capabilities` came
    // (or it is taken for version 1), and a promise of them
    transfer: null, versionsTimer: null,
  };
  peer.versions = new Promise((resolve) => { peer.settleVersions = resolve; });
  peer.app.binaryType = 'arraybuffer';
  peer.app.bufferedAmountLowThreshold = LOW_WATER;
  peer.app.addEventListener('bufferedamountlow', () => events.channelLow(peer));
  peer.app.onopen = () => onPeerOpen(peer);
  peer.app.onclose = () => removePeer(peer);
  peer.app.onmessage = (ev) => onAppMessage(peer, ev.data);
  peer.control.onmessage = (ev) => onControlMessage(peer, ev.data);
  peer.control.onopen = () => onPeerOpen(peer);
  pc.onicecandidate = (ev) => onLocalCandidate(peer, ev.candidate);
  pc.onconnectionstatechange = () => {
    if (pc.connectionState === 'failed' || pc.connectionState === 'closed') removePeer(peer);
    else events.member(peer);
  };
  state.peers.set(peer.id, peer);
  state.bySignal.set(signalId, peer);
  events.member(peer);
  return peer;
}

function onLocalCandidate(peer, c) {
  const payload = sig.candidatePayload(c, peer.localUfrag);
  if (peer.described) sendSignal(peer.signalId, payload);
  else peer.outCandidates.push(payload);
}

// Sends our offer or answer, then the candidates gathered meanwhile, so
// that the receiver never sees a candidate before its description.
function sendDescription(peer) {
  const desc = peer.pc.localDescription;
  peer.localUfrag = sig.ufragOf(desc.sdp);
  sendSignal(peer.signalId, sig.descriptionPayload(desc.type, desc.sdp, state.instance));
  peer.described = true;
  for (const c of peer.outCandidates) {
    c.usernameFragment ??= peer.localUfrag;
    sendSignal(peer.signalId, c);
  }
  peer.outCandidates = [];
}

async function setRemote(peer, type, sdp) {
  peer.remoteUfrag = sig.ufragOf(sdp);
  await peer.pc.setRemoteDescription({ type, sdp });
  peer.remoteSet = true;
  for (const c of peer.pendingCandidates) await addCandidate(peer, c);
  peer.pendingCandidates = [];
}

async function addCandidate(peer, c) {
  try {
    await peer.pc.addIceCandidate({ candidate: c.candidate, sdpMid: '0', sdpMLineIndex: 0 });
  } catch (e) { log('candidate refused', e.message); }
}

async function offerTo(signalId) {
  const peer = createPeer(signalId, true);
  await peer.pc.setLocalDescription();
  if (!peer.closed) sendDescription(peer);
}

function findConnectedInstance(instance) {
  if (instance === null) return null;
  for (const peer of state.peers.values())
    if (peer.connected && peer.instance === instance) return peer;
  return null;
}

// Our half of an id proof, to every id that may be the peer's.
function sendIdProof(peer) {
  const payload = sig.idPayload(peer.token);
  sendSignal(peer.signalId, payload);
  if (peer.claimId && peer.claimId !== peer.signalId) sendSignal(peer.claimId, payload);
}

// The server's half: the token that `from` signalled (one per id).
function onIdProof(from, payload) {
  state.proofs.set(from, payload.token);
  for (const peer of state.peers.values())
    if (peer.claimId === from) { tryConfirm(peer); return; }
}

// Refiles a peer under the id it claimed on its channel once the server
// relayed the matching token from that id.
function tryConfirm(peer) {
  if (!peer.claimId || state.proofs.get(peer.claimId) !== peer.claimToken) return;
  const id = peer.claimId;
  peer.claimId = peer.claimToken = null;
  state.proofs.delete(id);
  remap(peer, id);
}

// A member we are connected to proved another signalling id. An attempt
// of ours still connecting under it is an attempt to that member; a
// connected one would mean one id for two members: nothing changes.
function remap(peer, signalId) {
  if (peer.signalId === signalId) return;
  const other = state.bySignal.get(signalId);
  if (other && other !== peer) {
    if (other.connected) { log('id', signalId, 'proved twice: ignored'); return; }
    removePeer(other);
  }
  if (state.bySignal.get(peer.signalId) === peer) state.bySignal.delete(peer.signalId);
  peer.signalId = signalId;
  state.bySignal.set(signalId, peer);
  // A member that changed its name rejoined the server under it.
  peer.name = state.names.get(signalId) ?? peer.name;
  if (peer.pingTimer) { clearTimeout(peer.pingTimer); peer.pingTimer = null; }
  events.member(peer);
}

async function onOffer(from, payload) {
  const same = findConnectedInstance(payload.instance);
  if (same) {
    // It rejoined under a new id (or someone repeats its key): keep the
    // connection we have; its id proof refiles it, not this hint.
    sendSignal(from, sig.connectedPayload(state.instance));
    return;
  }
  const existing = state.bySignal.get(from);
  if (existing) {
    // No glare by the protocol; if it happens anyway the lower id's offer wins.
    if (existing.offerer && !existing.answered && state.ownId < from) return;
    removePeer(existing);
  }
  const peer = createPeer(from, false);
  peer.instance = payload.instance;
  await setRemote(peer, 'offer', payload.sdp);
  await peer.pc.setLocalDescription();
  if (!peer.closed) sendDescription(peer);
}

async function onAnswer(from, payload) {
  const peer = state.bySignal.get(from);
  if (!peer || !peer.offerer || peer.answered) return;
  peer.answered = true;
  peer.instance = payload.instance;
  // It answered, so it holds no other connection to us: one we have may be
  // stale. The key is only a hint anyone can repeat: ask that peer.
  const stale = findConnectedInstance(peer.instance);
  if (stale && stale !== peer) checkAlive(stale);
  try {
    await setRemote(peer, 'answer', payload.sdp);
  } catch (e) { log('bad answer from', from, e.message); removePeer(peer); }
}

function onConnected(from, payload) {
  const peer = state.bySignal.get(from);
  if (!peer || !peer.offerer || peer.answered) return;
  removePeer(peer);
  // Our connection to it is refiled by its id proof, not by this key.
  if (findConnectedInstance(payload.instance)) return;
  // It holds a connection to us that we no longer have: make it drop that
  // one, then offer again (the server keeps the order).
  sendSignal(from, sig.closePayload());
  offerTo(from).catch((e) => log('offer to', from, e));
}

async function onCandidate(from, payload) {
  const peer = state.bySignal.get(from);
  if (!peer) return;
  // For another description than the one we hold (a superseded offer).
  if (payload.usernameFragment !== null && peer.remoteUfrag
      && payload.usernameFragment !== peer.remoteUfrag) return;
  if (!peer.remoteSet) { peer.pendingCandidates.push(payload); return; }
  await addCandidate(peer, payload);
}

function sendControl(peer, msg) {
  if (peer.control.readyState === 'open') peer.control.send(JSON.stringify(msg));
}

function onControlMessage(peer, data) {
  const msg = sig.parseControl(data);
  if (msg?.type === 'ping') sendControl(peer, { type: 'pong' });
  else if (msg?.type === 'pong' && peer.pingTimer) {
    clearTimeout(peer.pingTimer);
    peer.pingTimer = null;
    events.member(peer);
  } else if (msg?.type === 'capabilities') {
    setVersions(peer, msg.transfer);
  } else if (msg?.type === 'auth') {
    onAuth(peer, msg.proof);
  } else if (msg?.type === 'id') {
    // Its claim to a new id, proven once the server relays the token.
    peer.claimId = msg.id;
    peer.claimToken = msg.token;
    if (peer.token) sendIdProof(peer);
    tryConfirm(peer);
  }
}

// ---- the room secret (§3) ----

// Both channels open: the pair is up. With a room secret it is used only
// once the member proved it knows the secret.
function onPeerOpen(peer) {
  if (peer.app.readyState !== 'open' || peer.control.readyState !== 'open'
      || peer.sas !== null || peer.closed) return;
  const fpSelf = fingerprintOf(peer.pc.localDescription?.sdp);
  const fpPeer = fingerprintOf(peer.pc.remoteDescription?.sdp);
  peer.sas = fpSelf && fpPeer ? shortAuthString(fpSelf, fpPeer) : '';
  // The transfer versions this page reads and sends (docs/protocol.md §4.1).
  sendControl(peer, { type: 'capabilities', transfer: [1, 2] });
  if (!peer.transfer) peer.versionsTimer = setTimeout(() => setVersions(peer, [1]), CAPABILITIES_WAIT_MS);
  if (!state.key) { admit(peer); return; }
  const [idSelf, idPeer] = peer.authIds;
  sendControl(peer, { type: 'auth', proof: authProof(state.key, fpSelf, fpPeer, idSelf, idPeer) });
  peer.authTimer = setTimeout(() => refuse(peer, `no room secret proof within ${AUTH_TIMEOUT_MS / 1000} s`), AUTH_TIMEOUT_MS);
  if (peer.earlyProof) onAuth(peer, peer.earlyProof);
  events.member(peer);
}

function admit(peer) {
  peer.authed = true;
  peer.connected = true;
  events.member(peer);
  for (const data of peer.early?.messages ?? []) events.appMessage(peer, data);
  peer.early = null;
  events.admitted(peer);
}

// The member's proof (§3), compared with what its key would give.
function onAuth(peer, proof) {
  if (!state.key || peer.authed) return; // without a secret: ignored
  if (peer.sas === null) { peer.earlyProof = proof; return; } // before our channels opened
  const [idSelf, idPeer] = peer.authIds;
  const fpSelf = fingerprintOf(peer.pc.localDescription?.sdp);
  const fpPeer = fingerprintOf(peer.pc.remoteDescription?.sdp);
  clearTimeout(peer.authTimer);
  if (!verifyProof(state.key, proof, fpSelf, fpPeer, idSelf, idPeer))
    refuse(peer, 'wrong room secret proof: another secret, or someone in the middle');
  else admit(peer);
}

// Drops a member that could not prove the secret, and says so.
function refuse(peer, reason) {
  if (peer.closed) return;
  log('refused', peer.id, reason);
  removePeer(peer);
  events.memberRefused(peer, reason);
}

// A member's transfer versions (§4.1): its `capabilities` (a later one
// replaces an earlier one), or version 1 when none came in time or
// application data came first.
function setVersions(peer, list) {
  clearTimeout(peer.versionsTimer);
  peer.transfer = new Set(list);
  peer.settleVersions(peer.transfer);
}

// Until its proof checks out, what a member sends is held (§3.3).
function onAppMessage(peer, data) {
  if (!peer.transfer) setVersions(peer, [1]);
  if (peer.authed) { events.appMessage(peer, data); return; }
  const size = typeof data === 'string' ? data.length : data.byteLength;
  peer.early ??= { messages: [], bytes: 0 };
  if (peer.early.bytes + size > EARLY_MAX) { refuse(peer, 'sent too much before its room secret proof'); return; }
  peer.early.messages.push(data);
  peer.early.bytes += size;
}

function removePeer(peer) {
  if (peer.closed) return;
  peer.closed = true;
  peer.connected = false;
  if (peer.pingTimer) clearTimeout(peer.pingTimer);
  if (peer.authTimer) clearTimeout(peer.authTimer);
  if (!peer.transfer) setVersions(peer, [1]); // nobody waits for them in vain
  if (state.peers.get(peer.id) === peer) state.peers.delete(peer.id);
  if (state.bySignal.get(peer.signalId) === peer) state.bySignal.delete(peer.signalId);
  peer.pc.close();
  events.left(peer);
  events.memberRemoved(peer);
}
