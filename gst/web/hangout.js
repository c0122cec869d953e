// gst-hangout web client: joins a room through hangout-server and shares
// files with every other member over WebRTC data channels. It speaks the
// protocols of docs/protocol.md exactly as the C room (gst/libhangout/room.c)
// does: §1 signalling and the pair's channels, §2 file transfer (sending and
// receiving), §4 file transfer version 2 (receiving and forwarding: the wire
// format and the piece window are transfer2.js, where files go storage.js).
// SPDX-License-Identifier: LGPL-2.1-or-later

import { Sha256, toHex } from './sha256.js';
import * as v2 from './transfer2.js';
import { FileSink, openPrivateStorage, canChooseFolder, chooseFolder } from './storage.js';

export { Sha256 };

// ---- constants ----

const ROOM_RE = /^[A-Za-z0-9._-]{1,64}$/;
// §1.6: negotiated channels, created by both sides before the offer.
const APP_CHANNEL = { label: 'hangout', id: 0 };
const CONTROL_CHANNEL = { label: 'hangout-control', id: 1 };
// §1.6: a member the server says has left must answer a ping within 2 s.
const PONG_TIMEOUT_MS = 2000;
// With a room secret, a member must prove it within this (§3). Tests
// shorten it by setting globalThis.hangoutAuthTimeoutMs before this script
// runs (playwright's addInitScript), as they do hangoutStallMs below.
const AUTH_TIMEOUT_MS = Number.isFinite(globalThis.hangoutAuthTimeoutMs) ? globalThis.hangoutAuthTimeoutMs : 10000;
// §2.2: 65536 is safe with every browser and the default.
const CHUNK_SIZE = 65536;
const HEADER_SIZE = 25;
const TRANSFER_VERSION = 1;
// Flow control: stop sending to a member above HIGH_WATER buffered bytes and
// resume at LOW_WATER. Chromium fails a channel whose queue reaches 16 MiB.
const HIGH_WATER = 4 * 1024 * 1024;
const LOW_WATER = 1024 * 1024;
// Bytes read from the File at once, split into chunks: few reads, bounded memory.
const READ_BLOCK_CHUNKS = 16;
// §2.4: the sender waits, bounded, for the acks.
const ACK_TIMEOUT_MS = 60000;
const RECONNECT_MAX_MS = 10000;
const PROGRESS_INTERVAL_MS = 150;
// Receive-side limits per sending member, the C library's (docs/protocol.md
// §2): whatever a hostile member sends, what the page holds for it stays
// bounded. Longer names or types are declined; so is an offer beyond
// MAX_OUTSTANDING files offered and neither ended nor aborted (declined
// ones count: their data may still come, and must be told from data of a
// file never offered).
const MAX_NAME_BYTES = 1024;
const MAX_MIME_BYTES = 255;
const MAX_OUTSTANDING = 16;
// A file nothing arrives for (neither data nor end) for this long is failed
// and forgotten. Tests shorten it by setting globalThis.hangoutStallMs
// before this script runs (playwright's addInitScript).
const STALL_MS = Number.isFinite(globalThis.hangoutStallMs) ? globalThis.hangoutStallMs : 60000;
// Failed and declined rows kept in the list of files; older ones go, so that
// a member flooding bad offers cannot grow the page. Such rows hold nothing
// else: a received file gets its Blob and object URL only once verified,
// and a failed file's parts are dropped when it fails.
const MAX_FAILED_ROWS = 20;
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
// Lines of corrupt-piece warnings a file's row keeps.
const MAX_WARNINGS = 5;
// A declined file's row shows this much of its name.
const SHORT_NAME_CHARS = 64;
// The reasons of the `reject` and `abort` a user's choice sends (§2.2).
const DECLINED_REASON = 'declined by the receiver';
const CANCELLED_RECEIVING_REASON = 'cancelled by the receiver';
const CANCELLED_SENDING_REASON = 'cancelled by the sender';
// Settings this browser keeps (localStorage): the display name for every
// room, and whether to accept every file offered in a room.
const NAME_KEY = 'hangout.name';
const acceptAllKey = (room) => `hangout.accept-all.${room}`;

// ---- the room secret and the short authentication string (§3) ----
//
// On the page's own SHA-256, not WebCrypto: crypto.subtle exists only in
// secure contexts, and rooms are often served over plain http on a LAN.

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

// Six digits both members of a pair see, the same only without anyone in
// the middle.
export function shortAuthString(fpA, fpB) {
  const [lo, hi] = fpA < fpB ? [fpA, fpB] : [fpB, fpA];
  const d = sha256(utf8(`gst-hangout sas v1\n${lo}\n${hi}`));
  const n = new DataView(d.buffer).getUint32(0) % 1000000;
  return String(n).padStart(6, '0');
}

// ---- small helpers ----

const $ = (id) => document.getElementById(id);
const fromHex = (hex) => Uint8Array.from(hex.match(/../g), (h) => parseInt(h, 16));
const isHexId = (s) => typeof s === 'string' && /^[0-9a-f]{32}$/.test(s);
const isCount = (n) => Number.isSafeInteger(n) && n >= 0;

function randomHex(bytes) {
  return toHex(crypto.getRandomValues(new Uint8Array(bytes)));
}

// Storage may be refused (sandboxed frames, some private modes): the page
// then works, and only forgets.
function loadSetting(key) {
  try { return localStorage.getItem(key); } catch { return null; }
}

function saveSetting(key, value) {
  try {
    if (value === null) localStorage.removeItem(key);
    else localStorage.setItem(key, value);
  } catch (e) { log('cannot keep a setting:', e.message); }
}

// "about 40 s", "about 3 min": a guess, worded as one.
function formatDuration(seconds) {
  if (seconds < 60) return `about ${Math.max(1, Math.round(seconds))} s`;
  if (seconds < 3600) return `about ${Math.round(seconds / 60)} min`;
  return `about ${(seconds / 3600).toFixed(1)} h`;
}

function formatBytes(n) {
  const units = ['B', 'KB', 'MB', 'GB', 'TB'];
  let i = 0;
  while (n >= 1000 && i < units.length - 1) { n /= 1000; i++; }
  return `${i === 0 ? n : n.toFixed(1)} ${units[i]}`;
}

// The ICE ufrag of a description: candidates name it (§1.6).
function ufragOf(sdp) {
  const m = /^a=ice-ufrag:(\S+)/m.exec(sdp);
  return m ? m[1] : null;
}

// Control characters, bidi controls (embeddings, overrides, isolates, marks)
// and line separators: shown as [U+XXXX], so that a name reads as what it
// is. "rtl-K088\u202Egnp.exe" would otherwise show as "rtl-K088exe.png".
const INVISIBLE_RE = /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;

function visibleText(text) {
  return text.replace(INVISIBLE_RE,
    (c) => `[U+${c.codePointAt(0).toString(16).toUpperCase().padStart(4, '0')}]`);
}

// §2.2: a name is for people; never let it act as a path or hide what it is.
// The same text is shown and used as the download name.
function safeFileName(name) {
  const cleaned = visibleText(name).split(/[/\\]/).pop().replace(/^\.+/, '').trim();
  return cleaned || 'file';
}

const utf8Length = (s) => new TextEncoder().encode(s).length;

function log(...args) { console.log('[hangout]', ...args); }

// ---- state ----

const state = {
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
  shared: [], // SharedFiles of this page: offered to members that join later
  acceptAll: false, // every file offered in this room is accepted without asking
  undecided: new Set(), // received files the user has not accepted or declined
  outgoing: new Map(), // file id → Outgoing
  // "member/id" → Incoming or Declined, as the C receiver keys them: ids are
  // drawn by their senders, so only a member and an id together name a file.
  incoming: new Map(),
  swarmFiles: new Map(), // file id → SwarmIncoming: version 2 files are known by id alone (§4.3)
  failedRows: [], // the failed rows of #transfers, oldest first
  sendChain: Promise.resolve(), // files are sent one after the other
};

// ---- signalling (§1) ----

function setStatus(text) { $('status').textContent = text; }

function connect() {
  clearTimeout(state.reconnectTimer); // a rename may come first
  const scheme = location.protocol === 'https:' ? 'wss' : 'ws';
  const ws = new WebSocket(`${scheme}://${location.host}/ws`);
  state.ws = ws;
  setStatus('Connecting to the server…');
  ws.onopen = () => {
    state.reconnectDelay = 500;
    wsSend({ type: 'join', room: state.room, name: state.name, version: 1 });
  };
  ws.onmessage = (ev) => {
    let msg;
    try { msg = JSON.parse(ev.data); } catch { log('bad frame from server'); return; }
    if (msg && typeof msg === 'object') onServerMessage(msg);
  };
  ws.onclose = () => {
    if (state.ws !== ws) return;
    state.ws = null;
    if (state.stopped) return;
    // Peer connections do not need the server once up (§1.6): keep them,
    // rejoin with backoff; the server gives a new id.
    setStatus(`Lost the server; retrying in ${state.reconnectDelay / 1000} s…`);
    state.reconnectTimer = setTimeout(connect, state.reconnectDelay);
    state.reconnectDelay = Math.min(state.reconnectDelay * 2, RECONNECT_MAX_MS);
  };
}

function wsSend(msg) {
  if (state.ws && state.ws.readyState === WebSocket.OPEN) state.ws.send(JSON.stringify(msg));
}

function sendSignal(to, payload) { wsSend({ type: 'signal', to, payload }); }

function onServerMessage(msg) {
  switch (msg.type) {
    case 'welcome': onWelcome(msg); break;
    case 'member-joined':
      if (typeof msg.id === 'string') state.names.set(msg.id, String(msg.name ?? ''));
      break; // the newcomer offers (§1.5)
    case 'member-left': onMemberLeft(msg.id); break;
    case 'signal':
      if (typeof msg.from === 'string' && msg.payload && typeof msg.payload === 'object')
        onSignal(msg.from, msg.payload).catch((e) => log('signal from', msg.from, e));
      break;
    case 'error': onServerError(msg); break;
    default: break; // §1.1: unknown types are ignored
  }
}

function onServerError(msg) {
  log('server error', msg.code, msg.reason);
  if (state.joined) { setStatus(`Server: ${msg.reason}`); return; }
  // The join was refused: ask again rather than retry the same thing.
  state.stopped = true;
  state.ws?.close();
  showJoinForm(`Could not join: ${msg.reason}`);
}

// Keeps the well-formed RTCIceServer entries only: one the browser refuses
// would make every RTCPeerConnection throw. TURN needs both credentials
// (§1.4).
function iceServersOf(list) {
  const out = [];
  for (const s of Array.isArray(list) ? list : []) {
    const credentials = typeof s?.username === 'string' && typeof s?.credential === 'string';
    const isUrl = (u) => typeof u === 'string'
      && (/^stun:/i.test(u) || (credentials && /^turns?:/i.test(u)));
    const urls = (Array.isArray(s?.urls) ? s.urls : [s?.urls]).filter(isUrl);
    if (urls.length === 0) continue;
    out.push(credentials ? { urls, username: s.username, credential: s.credential } : { urls });
  }
  return out;
}

function onWelcome(msg) {
  state.joined = true;
  state.ownId = msg.id;
  state.iceServers = iceServersOf(msg.iceServers);
  setStatus('Connected to the server.');
  // After a rejoin: prove our new id to the peers we still have (§1.6): the
  // token on their control channel and through the server.
  for (const peer of state.peers.values()) {
    if (!peer.connected) continue;
    peer.token = randomHex(16);
    sendControl(peer, { type: 'id', id: state.ownId, token: peer.token });
    sendIdProof(peer);
  }
  for (const m of Array.isArray(msg.members) ? msg.members : []) {
    if (typeof m?.id !== 'string') continue;
    state.names.set(m.id, String(m.name ?? ''));
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
  peer.pingTimer = setTimeout(() => { peer.pingTimer = null; removePeer(peer); }, PONG_TIMEOUT_MS);
  renderMember(peer, 'checking');
  sendControl(peer, { type: 'ping' });
}

async function onSignal(from, payload) {
  if ('candidate' in payload) return onCandidate(from, payload);
  switch (payload.type) {
    case 'offer': return onOffer(from, payload);
    case 'answer': return onAnswer(from, payload);
    case 'connected': return onConnected(from, payload);
    case 'id': return onIdProof(from, payload);
    case 'close': {
      const peer = state.bySignal.get(from);
      if (peer) removePeer(peer);
      return undefined;
    }
    default: log('unknown payload from', from); return undefined;
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
    forwards: [], // version 2 pieces to forward to it, in assignment order
  };
  peer.app.binaryType = 'arraybuffer';
  peer.app.bufferedAmountLowThreshold = LOW_WATER;
  peer.app.addEventListener('bufferedamountlow', () => pumpForwards(peer));
  peer.app.onopen = () => onPeerOpen(peer);
  peer.app.onclose = () => removePeer(peer);
  peer.app.onmessage = (ev) => onAppMessage(peer, ev.data);
  peer.control.onmessage = (ev) => onControlMessage(peer, ev.data);
  peer.control.onopen = () => onPeerOpen(peer);
  pc.onicecandidate = (ev) => onLocalCandidate(peer, ev.candidate);
  pc.onconnectionstatechange = () => {
    if (pc.connectionState === 'failed' || pc.connectionState === 'closed') removePeer(peer);
    else renderMember(peer);
  };
  state.peers.set(peer.id, peer);
  state.bySignal.set(signalId, peer);
  renderMember(peer);
  return peer;
}

function onLocalCandidate(peer, c) {
  // null: end of our candidates, sent as an empty candidate (§1.5).
  const payload = {
    candidate: c ? c.candidate : '', sdpMid: '0', sdpMLineIndex: 0,
    usernameFragment: c?.usernameFragment ?? peer.localUfrag,
  };
  if (peer.described) sendSignal(peer.signalId, payload);
  else peer.outCandidates.push(payload);
}

// Sends our offer or answer, then the candidates gathered meanwhile, so
// that the receiver never sees a candidate before its description.
function sendDescription(peer) {
  const desc = peer.pc.localDescription;
  peer.localUfrag = ufragOf(desc.sdp);
  sendSignal(peer.signalId, { type: desc.type, sdp: desc.sdp, instance: state.instance });
  peer.described = true;
  for (const c of peer.outCandidates) {
    c.usernameFragment ??= peer.localUfrag;
    sendSignal(peer.signalId, c);
  }
  peer.outCandidates = [];
}

async function setRemote(peer, type, sdp) {
  peer.remoteUfrag = ufragOf(sdp);
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
  if (typeof instance !== 'string') return null;
  for (const peer of state.peers.values())
    if (peer.connected && peer.instance === instance) return peer;
  return null;
}

// Our half of an id proof, to every id that may be the peer's.
function sendIdProof(peer) {
  const payload = { type: 'id', token: peer.token };
  sendSignal(peer.signalId, payload);
  if (peer.claimId && peer.claimId !== peer.signalId) sendSignal(peer.claimId, payload);
}

// The server's half: the token that `from` signalled (one per id).
function onIdProof(from, payload) {
  if (typeof payload.token !== 'string' || payload.token.length > 64) return;
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
  renderMember(peer);
}

async function onOffer(from, payload) {
  if (typeof payload.sdp !== 'string') { log('offer without sdp from', from); return; }
  const same = findConnectedInstance(payload.instance);
  if (same) {
    // It rejoined under a new id (or someone repeats its key): keep the
    // connection we have; its id proof refiles it, not this hint.
    sendSignal(from, { type: 'connected', instance: state.instance });
    return;
  }
  const existing = state.bySignal.get(from);
  if (existing) {
    // No glare by the protocol; if it happens anyway the lower id's offer wins.
    if (existing.offerer && !existing.answered && state.ownId < from) return;
    removePeer(existing);
  }
  const peer = createPeer(from, false);
  peer.instance = typeof payload.instance === 'string' ? payload.instance : null;
  await setRemote(peer, 'offer', payload.sdp);
  await peer.pc.setLocalDescription();
  if (!peer.closed) sendDescription(peer);
}

async function onAnswer(from, payload) {
  const peer = state.bySignal.get(from);
  if (!peer || !peer.offerer || peer.answered || typeof payload.sdp !== 'string') return;
  peer.answered = true;
  peer.instance = typeof payload.instance === 'string' ? payload.instance : null;
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
  sendSignal(from, { type: 'close' });
  offerTo(from).catch((e) => log('offer to', from, e));
}

async function onCandidate(from, payload) {
  const peer = state.bySignal.get(from);
  if (!peer || typeof payload.candidate !== 'string') return;
  // For another description than the one we hold (a superseded offer).
  if (typeof payload.usernameFragment === 'string' && peer.remoteUfrag
      && payload.usernameFragment !== peer.remoteUfrag) return;
  if (!peer.remoteSet) { peer.pendingCandidates.push(payload); return; }
  await addCandidate(peer, payload);
}

function sendControl(peer, msg) {
  if (peer.control.readyState === 'open') peer.control.send(JSON.stringify(msg));
}

function onControlMessage(peer, data) {
  let msg;
  try { msg = JSON.parse(data); } catch { log('malformed control message from', peer.id); return; }
  if (msg?.type === 'ping') sendControl(peer, { type: 'pong' });
  else if (msg?.type === 'pong' && peer.pingTimer) {
    clearTimeout(peer.pingTimer);
    peer.pingTimer = null;
    renderMember(peer);
  } else if (msg?.type === 'auth' && typeof msg.proof === 'string') {
    onAuth(peer, msg.proof);
  } else if (msg?.type === 'id' && typeof msg.id === 'string' && typeof msg.token === 'string') {
    // Its claim to a new id, proven once the server relays the token.
    peer.claimId = msg.id;
    peer.claimToken = msg.token;
    if (peer.token) sendIdProof(peer);
    tryConfirm(peer);
  }
}

// Both channels open: the pair is up. With a room secret it is used only
// once the member proved it knows the secret.
function onPeerOpen(peer) {
  if (peer.app.readyState !== 'open' || peer.control.readyState !== 'open'
      || peer.sas !== null || peer.closed) return;
  const fpSelf = fingerprintOf(peer.pc.localDescription?.sdp);
  const fpPeer = fingerprintOf(peer.pc.remoteDescription?.sdp);
  peer.sas = fpSelf && fpPeer ? shortAuthString(fpSelf, fpPeer) : '';
  // The transfer versions this page reads (docs/protocol.md §4.1); it
  // shares its own files in version 1, which every member takes.
  sendControl(peer, { type: 'capabilities', transfer: [1, 2] });
  if (!state.key) { admit(peer); return; }
  const [idSelf, idPeer] = peer.authIds;
  sendControl(peer, { type: 'auth', proof: authProof(state.key, fpSelf, fpPeer, idSelf, idPeer) });
  peer.authTimer = setTimeout(() => refuse(peer, `no room secret proof within ${AUTH_TIMEOUT_MS / 1000} s`), AUTH_TIMEOUT_MS);
  if (peer.earlyProof) onAuth(peer, peer.earlyProof);
  renderMember(peer);
}

function admit(peer) {
  peer.authed = true;
  peer.connected = true;
  renderMember(peer);
  for (const data of peer.early?.messages ?? []) onAppMessage(peer, data);
  peer.early = null;
  // A member that joins later is offered what we shared before it came.
  for (const shared of state.shared) queueSend(shared, [peer]);
}

// The member's proof (§3), compared with what its key would give.
function onAuth(peer, proof) {
  if (!state.key || peer.authed) return; // without a secret: ignored
  if (peer.sas === null) { peer.earlyProof = proof; return; } // before our channels opened
  const [idSelf, idPeer] = peer.authIds;
  const fpSelf = fingerprintOf(peer.pc.localDescription?.sdp);
  const fpPeer = fingerprintOf(peer.pc.remoteDescription?.sdp);
  const expected = authProof(state.key, fpPeer, fpSelf, idPeer, idSelf);
  let diff = expected.length ^ proof.length;
  for (let i = 0; i < expected.length; i++) diff |= expected.charCodeAt(i) ^ (proof.charCodeAt(i) | 0);
  clearTimeout(peer.authTimer);
  if (diff !== 0) refuse(peer, 'wrong room secret proof: another secret, or someone in the middle');
  else admit(peer);
}

// Drops a member that could not prove the secret, and says so.
function refuse(peer, reason) {
  if (peer.closed) return;
  log('refused', peer.id, reason);
  removePeer(peer);
  const li = document.createElement('li');
  li.dataset.id = peer.id;
  li.dataset.state = 'refused';
  li.append(Object.assign(document.createElement('span'), { className: 'name', textContent: visibleText(peer.name) || '(no name)' }),
    Object.assign(document.createElement('span'), { className: 'state', textContent: `refused: ${reason}` }));
  $('members').append(li);
  updateEmptyHint();
}

function removePeer(peer) {
  if (peer.closed) return;
  peer.closed = true;
  peer.connected = false;
  if (peer.pingTimer) clearTimeout(peer.pingTimer);
  if (peer.authTimer) clearTimeout(peer.authTimer);
  if (state.peers.get(peer.id) === peer) state.peers.delete(peer.id);
  if (state.bySignal.get(peer.signalId) === peer) state.bySignal.delete(peer.signalId);
  peer.pc.close();
  for (const out of state.outgoing.values()) out.memberLeft(peer);
  dropForwards(peer);
  for (const held of [...state.incoming.values()]) {
    if (held.peer === peer) held.fail('the sender left');
    else held.memberLeft?.(peer);
  }
  document.querySelector(`#members li[data-id="${peer.id}"]`)?.remove();
  updateEmptyHint();
}

// ---- file transfer (§2) ----

// What a member sends before its proof is held, up to this, and taken
// once the proof checks out: the application channel is another SCTP
// stream and may overtake the proof (§3.3).
const EARLY_MAX = 4 * 1024 * 1024;

function onAppMessage(peer, data) {
  if (!peer.authed) {
    const size = typeof data === 'string' ? data.length : data.byteLength;
    peer.early ??= { messages: [], bytes: 0 };
    if (peer.early.bytes + size > EARLY_MAX) { refuse(peer, 'sent too much before its room secret proof'); return; }
    peer.early.messages.push(data);
    peer.early.bytes += size;
    return;
  }
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
      if (msg.type === 'ack') return state.outgoing.get(msg.id)?.answer(peer, msg);
      const held = state.incoming.get(fileKey(peer, msg.id));
      return held instanceof SwarmIncoming ? undefined : held?.end(msg);
    }
    // abort serves both versions; the file is the sender's own.
    case 'abort': return state.incoming.get(fileKey(peer, msg.id))?.abort(msg);
    case 'reject': return state.outgoing.get(msg.id)?.answer(peer, msg);
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
  for (const held of state.incoming.values()) if (held.peer === peer) n++;
  return n;
}

// Why the page does not take a version 2 offer (§4.9, worded as the C
// receiver words it), or null.
function swarmOfferRefusal(peer, offer) {
  if (offer.unsupported) return offer.unsupported;
  if (offer.window > MAX_SWARM_WINDOW) return v2.REASON_WINDOW;
  if (state.swarmFiles.size >= MAX_SWARM_FILES) return `already receives ${MAX_SWARM_FILES} files of version 2`;
  if (state.swarmFiles.has(offer.id) || state.incoming.has(fileKey(peer, offer.id))) return 'file id in use';
  if (utf8Length(offer.name) > MAX_NAME_BYTES) return `name longer than ${MAX_NAME_BYTES} bytes`;
  if (utf8Length(offer.mime) > MAX_MIME_BYTES) return `mime longer than ${MAX_MIME_BYTES} bytes`;
  if (outstandingFiles(peer) >= MAX_OUTSTANDING) return 'too many files outstanding';
  return null;
}

function onSwarmControl(peer, msg) {
  if (msg.type === 'offer') {
    const offer = v2.parseOffer(msg);
    if (!offer) { log('malformed version 2 offer from', peer.id, msg); return; }
    const why = swarmOfferRefusal(peer, offer);
    if (why) {
      log('declining', offer.id, 'from', peer.id + ':', why);
      sendReject(peer, offer.id, why);
      new TransferView('in', shortName(offer.name), offer.size, peer.name).declined(why);
      return;
    }
    const held = new SwarmIncoming(peer, offer);
    state.incoming.set(held.key, held);
    return;
  }
  const error = v2.controlError(msg);
  if (error) { log(`malformed ${msg.type} from`, peer.id + ':', error); return; }
  const file = state.swarmFiles.get(msg.id);
  // Only the sharer speaks for its file (§4.3); the page shares nothing in
  // version 2, so what members say to a sharer (accept, have, request,
  // corrupt, ack) is not for it.
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
  const file = state.swarmFiles.get(piece.id);
  if (!file) { log('piece data from', peer.id, 'for', piece.id, 'dropped: not a file the page takes'); return; }
  if (bytes.length > file.chunkSize) { log('piece data from', peer.id, 'dropped: over chunk-size'); return; }
  file.touch();
  file.window.data(peer, piece.role, piece.offset, piece.payload);
}

function onHashesMessage(peer, bytes) {
  const run = v2.parseHashes(bytes);
  if (run.error) { log('piece hashes from', peer.id, 'dropped:', run.error); return; }
  const file = state.swarmFiles.get(run.id);
  if (!file) { log('piece hashes from', peer.id, 'for', run.id, 'dropped: not a file the page takes'); return; }
  if (bytes.length > file.chunkSize) { log('piece hashes from', peer.id, 'dropped: over chunk-size'); return; }
  file.touch();
  file.window.hashes(peer, run.first, run.count, run.hashes);
}

// Forwards go out in the order they were queued, a piece's messages one
// after the other (§4.4), while the channel holds at most LOW_WATER bytes
// it has not handed to SCTP; bufferedamountlow sends the next ones.
function pumpForwards(peer) {
  while (peer.forwards.length > 0 && peer.app.readyState === 'open'
      && peer.app.bufferedAmount <= LOW_WATER) {
    const item = peer.forwards.shift();
    item.file.sendForward(peer, item);
  }
}

// A member left: what was queued for it is given up.
function dropForwards(peer) {
  const items = peer.forwards;
  peer.forwards = [];
  for (const item of items) item.file.forwardTaken(item);
}

function onFileOffer(peer, msg) {
  const chunk = msg['chunk-size'];
  if (msg.version !== TRANSFER_VERSION || !isHexId(msg.id) || typeof msg.name !== 'string'
      || !(msg.size === null || isCount(msg.size)) || typeof msg.mime !== 'string'
      || !Number.isSafeInteger(chunk) || chunk <= HEADER_SIZE) {
    log('malformed offer from', peer.id, msg);
    return;
  }
  const known = state.incoming.get(fileKey(peer, msg.id));
  if (known) { known.fail('offered twice'); return; }
  let outstanding = 0;
  for (const held of state.incoming.values()) if (held.peer === peer) outstanding++;
  if (outstanding >= MAX_OUTSTANDING) {
    // Not held at all: its data is dropped as data of a file never offered.
    sendReject(peer, msg.id, 'too many files outstanding');
    new TransferView('in', shortName(msg.name), msg.size, peer.name).declined('too many files outstanding');
    return;
  }
  let why = null;
  if (utf8Length(msg.name) > MAX_NAME_BYTES) why = `name longer than ${MAX_NAME_BYTES} bytes`;
  else if (utf8Length(msg.mime) > MAX_MIME_BYTES) why = `mime longer than ${MAX_MIME_BYTES} bytes`;
  if (why) new TransferView('in', shortName(msg.name), msg.size, peer.name).declined(why);
  const held = why ? new Declined(peer, msg, why) : new Incoming(peer, msg);
  state.incoming.set(held.key, held);
}

function sendReject(peer, id, reason) {
  try {
    peer.app.send(JSON.stringify({ type: 'reject', id, reason }));
  } catch (e) { log('cannot reject a file of', peer.id, e.message); }
}

// The start of a name too long to show whole.
function shortName(name) {
  const chars = Array.from(name.slice(0, 4 * SHORT_NAME_CHARS));
  return chars.length > SHORT_NAME_CHARS ? `${chars.slice(0, SHORT_NAME_CHARS).join('')}…` : name;
}

function onDataMessage(peer, bytes) {
  if (bytes.length <= HEADER_SIZE || bytes[0] !== TRANSFER_VERSION) {
    log('bad data message from', peer.id);
    return;
  }
  const held = state.incoming.get(fileKey(peer, toHex(bytes.subarray(1, 17))));
  if (!held) { log('data for an unknown file from', peer.id); return; }
  const offset = Number(new DataView(bytes.buffer, bytes.byteOffset).getBigUint64(17));
  held.data(offset, bytes);
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
    state.incoming.delete(this.key);
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
    this.name = safeFileName(offer.name);
    this.accepted = false;
    this.declined = false;
    this.declineReason = null; // what decline() was given
    this.kept = null; // a verified file's link, until the user accepts it
    this.pendingAck = null; // sends a verified file's ack, once accepted
    // The sender's type is shown, never used: see TransferView.received().
    this.ui = new TransferView('in', this.name, offer.size, peer.name, mime);
    if (state.acceptAll) {
      this.accepted = true;
      this.ui.receiving(() => this.decline(CANCELLED_RECEIVING_REASON));
      return;
    }
    state.undecided.add(this);
    this.ui.ask({ accept: () => this.accept(), decline: () => this.decline(DECLINED_REASON) });
  }

  accept() {
    if (this.declined) return;
    state.undecided.delete(this);
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
    state.undecided.delete(this);
    if (this.receiving()) this.stop(reason);
    else if (this.pendingAck) sendReject(this.peer, this.id, reason);
    this.pendingAck = null;
    this.kept = null;
    this.sink?.discard();
    this.ui.cancelled(this.accepted ? 'Cancelled.' : 'Declined.');
  }

  // Failed before the user decided: nothing left to decide.
  failed(why) {
    state.undecided.delete(this);
    this.ui.failed(why);
  }
}

// A file arriving from one member.
class Incoming extends Received {
  constructor(peer, offer) {
    super(peer, offer, offer.mime);
    this.size = offer.size; // null: not known in advance
    this.chunkSize = offer['chunk-size'];
    this.received = 0;
    this.sha = new Sha256();
    this.sink = new FileSink(this.id, this.name);
    this.broken = null; // why the data went wrong; reported at end
  }

  receiving() { return state.incoming.get(this.key) === this; }

  // The user's `reject`: what the member still sends of it is dropped
  // quietly until its end, as for a file declined at its offer.
  stop(reason) {
    this.forget();
    state.incoming.set(this.key, new Declined(this.peer, { id: this.id }, reason));
    this.discard();
    this.sha = null;
  }

  data(offset, bytes) {
    this.touch();
    if (this.broken) return;
    const payload = bytes.subarray(HEADER_SIZE);
    if (bytes.length > this.chunkSize
        || (this.size !== null && offset + payload.length > this.size)) {
      log('data message out of bounds for', this.name); // dropped (§2.3)
      return;
    }
    if (offset !== this.received) {
      // §2.3: in version 1 data comes in order; anything else fails the file.
      this.broken = `data at offset ${offset}, expected ${this.received}`;
      this.discard();
      this.ui.progress(this.received, 'receiving failed, waiting for the end');
      return;
    }
    this.sha.update(payload);
    this.sink.write(payload);
    this.received += payload.length;
    this.ui.progress(this.received);
  }

  end(msg) {
    this.forget();
    const digest = this.broken ? null : this.sha.hex();
    let why = this.broken;
    if (!why && (msg.size !== this.received || (this.size !== null && this.size !== msg.size)))
      why = `size ${this.received} bytes, the sender says ${msg.size}`;
    if (!why && msg.sha256 !== digest) why = 'SHA-256 does not match';
    const sendAck = () => {
      try {
        this.peer.app.send(JSON.stringify({ type: 'ack', id: this.id, ok: !why, sha256: digest }));
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
    this.sha = null;
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
    state.swarmFiles.set(this.id, this);
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
      const p = state.bySignal.get(id);
      if (id !== state.ownId && p && p !== this.peer && p.connected && p.app.readyState === 'open') peers.add(p);
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
      p.forwards.push({ file: this, slot, generation: slot.generation, piece });
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
    Object.assign(this.ui.li.dataset, {
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
    if (state.swarmFiles.get(this.id) === this) state.swarmFiles.delete(this.id);
  }
}

// A file shared from this page: one row, whoever it goes to and however
// many sends that takes (a member that joins later gets a send of its own).
class SharedFile {
  constructor(file) {
    this.file = file;
    this.sentTo = new Set(); // peers it was sent to, or is being sent to
    this.current = null; // the Outgoing running now
    this.ui = new TransferView('out', file.name, file.size, '');
    this.ui.sharing(() => this.cancel());
  }

  // Stops the send under way (`abort` to whoever still receives it) and
  // offers the file to nobody else.
  cancel() {
    state.shared = state.shared.filter((s) => s !== this);
    this.current?.cancel();
    this.ui.stopped(this.current !== null);
  }
}

// One send of a file to some members.
class Outgoing {
  constructor(shared, peers) {
    this.file = shared.file;
    this.id = randomHex(16);
    this.idBytes = Uint8Array.from(this.id.match(/../g), (h) => parseInt(h, 16));
    // Each recipient: 'pending' until its ack or reject, or it leaves.
    this.recipients = new Map(peers.map((p) => [p, 'pending']));
    this.sha256 = null;
    this.settled = null; // resolves once nobody is pending
    this.cancelled = false;
    this.ui = shared.ui;
    this.ui.sending();
    for (const p of peers) this.ui.recipient(p, 'pending');
  }

  active() {
    return [...this.recipients].filter(([p, s]) => s === 'pending' && !p.closed && p.app.readyState === 'open')
      .map(([p]) => p);
  }

  send(peer, data) {
    try { peer.app.send(data); } catch (e) {
      log('send to', peer.id, 'failed:', e.message);
      this.setState(peer, 'failed');
    }
  }

  broadcast(data) { for (const p of this.active()) this.send(p, data); }

  setState(peer, s) {
    if (this.recipients.get(peer) !== 'pending') return;
    this.recipients.set(peer, s);
    this.ui.recipient(peer, s);
    if (![...this.recipients.values()].includes('pending')) this.settled?.();
  }

  memberLeft(peer) { this.setState(peer, 'left'); }

  answer(peer, msg) {
    if (msg.type === 'reject') this.setState(peer, 'rejected');
    else if (this.sha256 !== null) this.setState(peer, msg.ok === true && msg.sha256 === this.sha256 ? 'ok' : 'failed');
  }

  // §2.2's abort to everyone still receiving; run() stops at its next step.
  cancel() {
    this.cancelled = true;
    const abort = JSON.stringify({ type: 'abort', id: this.id, reason: CANCELLED_SENDING_REASON });
    for (const p of this.active()) {
      this.send(p, abort);
      this.setState(p, 'cancelled');
    }
  }

  async run() {
    const chunkSize = Math.min(CHUNK_SIZE, ...this.active().map((p) => p.pc.sctp?.maxMessageSize || CHUNK_SIZE));
    const room = chunkSize - HEADER_SIZE;
    this.broadcast(JSON.stringify({
      type: 'offer', version: TRANSFER_VERSION, id: this.id, name: this.file.name,
      size: this.file.size, mime: this.file.type || 'application/octet-stream', 'chunk-size': chunkSize,
    }));
    const sha = new Sha256();
    let offset = 0;
    while (offset < this.file.size && this.active().length > 0) {
      // Read from the File as we send: a big file is never held in memory.
      const block = new Uint8Array(await this.file.slice(offset, offset + room * READ_BLOCK_CHUNKS).arrayBuffer());
      if (block.length === 0) break; // the file shrank under us
      sha.update(block);
      for (let i = 0; i < block.length; i += room) {
        const payload = block.subarray(i, i + room);
        const msg = new Uint8Array(HEADER_SIZE + payload.length);
        msg[0] = TRANSFER_VERSION;
        msg.set(this.idBytes, 1);
        new DataView(msg.buffer).setBigUint64(17, BigInt(offset + i));
        msg.set(payload, HEADER_SIZE);
        await Promise.all(this.active().map(drained));
        if (this.active().length === 0) break; // cancelled, or everyone left meanwhile
        this.broadcast(msg);
        this.ui.progress(offset + i + payload.length);
      }
      offset += block.length;
    }
    if (this.cancelled) return;
    if (this.active().length === 0) {
      this.ui.sent(); // everyone left or declined
      return;
    }
    if (offset !== this.file.size) {
      this.broadcast(JSON.stringify({ type: 'abort', id: this.id, reason: 'the file could not be read' }));
      this.ui.failed('the file could not be read whole');
      return;
    }
    this.sha256 = sha.hex();
    const answered = new Promise((resolve) => { this.settled = resolve; });
    if (![...this.recipients.values()].includes('pending')) this.settled();
    this.broadcast(JSON.stringify({ type: 'end', id: this.id, size: offset, sha256: this.sha256 }));
    await Promise.race([answered, new Promise((r) => setTimeout(r, ACK_TIMEOUT_MS))]);
    if (this.cancelled) return;
    for (const p of this.recipients.keys()) this.setState(p, 'silent');
    this.ui.sent();
  }
}

// Resolves once the member's channel can take more (or has closed).
function drained(peer) {
  const ch = peer.app;
  if (ch.bufferedAmount <= HIGH_WATER || ch.readyState !== 'open') return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      ch.removeEventListener('bufferedamountlow', done);
      ch.removeEventListener('close', done);
      resolve();
    };
    ch.addEventListener('bufferedamountlow', done);
    ch.addEventListener('close', done);
  });
}

// Sends to the given members, or everyone connected now; one file at a time.
function queueSend(shared, peers = null) {
  state.sendChain = state.sendChain.then(async () => {
    if (!state.shared.includes(shared)) return; // cancelled meanwhile
    const to = (peers ?? [...state.peers.values()])
      .filter((p) => p.connected && !p.closed && !shared.sentTo.has(p));
    if (peers && to.length === 0) return; // a newcomer that already has it
    for (const p of to) shared.sentTo.add(p);
    if (to.length === 0) {
      shared.ui.waiting();
      return;
    }
    const out = new Outgoing(shared, to);
    state.outgoing.set(out.id, out);
    shared.current = out;
    try { await out.run(); } catch (e) { out.ui.failed(e.message); } finally {
      state.outgoing.delete(out.id);
      shared.current = null;
    }
  });
}

function shareFiles(files) {
  for (const file of files) {
    const shared = new SharedFile(file);
    state.shared.push(shared);
    queueSend(shared);
  }
}

// ---- views ----

function renderMember(peer, forced = null) {
  let li = document.querySelector(`#members li[data-id="${peer.id}"]`);
  if (!li) {
    li = document.createElement('li');
    li.dataset.id = peer.id;
    li.append(Object.assign(document.createElement('span'), { className: 'name' }),
      Object.assign(document.createElement('span'), { className: 'state' }));
    $('members').append(li);
  }
  let s = forced ?? (peer.pingTimer ? 'checking' : peer.connected ? 'connected' : 'connecting');
  if (peer.pc.connectionState === 'failed') s = 'failed';
  li.dataset.state = s;
  li.querySelector('.name').textContent = visibleText(peer.name) || '(no name)';
  li.querySelector('.state').textContent = s === 'checking' ? 'not answering…'
    : s === 'connected' && peer.sas ? `connected · code ${peer.sas}`
    : s === 'connecting' && peer.sas ? `proving the room secret… · code ${peer.sas}` : s;
  li.dataset.sas = peer.sas ?? '';
  updateEmptyHint();
}

function updateEmptyHint() { $('no-members').hidden = state.peers.size > 0; }

// One file's row: name, direction (and the sender's type, as text only),
// progress bar with speed and time left, the user's buttons, outcome; a
// shared file's row lists its recipients, each with its own state.
// Everything a member chose is set as text, never as markup, with its
// invisible characters shown.
class TransferView {
  constructor(direction, name, size, who, mime = null) {
    this.size = size;
    this.start = performance.now();
    this.lastPaint = 0;
    this.li = document.createElement('li');
    this.li.dataset.direction = direction;
    this.li.dataset.state = 'active';
    name = visibleText(name);
    who = visibleText(who);
    this.name = name;
    this.who = who;
    this.li.dataset.name = name;
    const title = Object.assign(document.createElement('span'), { className: 'name', textContent: name });
    const dir = Object.assign(document.createElement('span'), {
      className: 'dir',
      textContent: (direction === 'in' ? `from ${who || '(no name)'}` : who ? `to ${who}` : '')
        + (mime ? ` · ${visibleText(mime)}` : ''),
    });
    this.bar = document.createElement('progress');
    // A size not known in advance: an indeterminate bar.
    if (size !== null) { this.bar.max = size || 1; this.bar.value = 0; }
    this.bar.setAttribute('aria-label', `${name} progress`);
    this.info = Object.assign(document.createElement('span'), { className: 'info' });
    this.actions = Object.assign(document.createElement('span'), { className: 'actions' });
    this.li.append(title, dir, this.bar, this.info, this.actions);
    // A shared file's: its recipients' states by key, their list, its Cancel.
    this.recipients = null;
    this.recipientList = null;
    this.onCancel = null;
    $('transfers').prepend(this.li);
  }

  // Buttons, each [action, label, handler]; the label names the file for
  // screen readers, where "Accept" alone would not say which.
  setActions(buttons) {
    this.actions.replaceChildren(...buttons.map(([action, label, handler]) => {
      const b = Object.assign(document.createElement('button'), { type: 'button', textContent: label });
      b.dataset.action = action;
      b.setAttribute('aria-label', `${label} ${this.name}`);
      b.addEventListener('click', handler);
      return b;
    }));
  }

  progress(done, note = '') {
    const now = performance.now();
    this.li.dataset.bytes = done;
    if (now - this.lastPaint < PROGRESS_INTERVAL_MS && done !== this.size) return;
    this.lastPaint = now;
    if (this.size !== null) this.bar.value = done;
    const speed = done / Math.max((now - this.start) / 1000, 0.001);
    const total = this.size === null ? '' : ` of ${formatBytes(this.size)}`;
    const left = this.size === null || done === 0 || done >= this.size ? ''
      : ` · ${formatDuration((this.size - done) / speed)} left`;
    this.info.textContent = note || `${formatBytes(done)}${total} · ${formatBytes(speed)}/s${left}`;
  }

  finish(stateName, text, buttons = []) {
    if (stateName === 'failed' && this.li.dataset.state !== 'failed') {
      state.failedRows.push(this.li);
      if (state.failedRows.length > MAX_FAILED_ROWS) state.failedRows.shift().remove();
    }
    this.li.dataset.state = stateName;
    this.bar.hidden = stateName !== 'done';
    this.info.textContent = text;
    this.setActions(buttons);
  }

  // A file offered to this page: receiving, the user not asked yet.
  ask({ accept, decline }) {
    this.li.dataset.state = 'offered';
    this.setActions([['accept', 'Accept', accept], ['decline', 'Decline', decline]]);
  }

  receiving(cancel) {
    this.li.dataset.state = 'active';
    this.setActions([['cancel', 'Cancel', cancel]]);
  }

  // Whole and verified, waiting for the user's accept.
  verified() {
    this.li.dataset.state = 'verified';
    this.bar.value = this.bar.max;
    this.info.textContent = 'SHA-256 verified · accept it to save it';
  }

  cancelled(text) { this.finish('cancelled', text); }

  // `file`: a Blob, or a File on disk. Its link never has the sender's
  // type: a text/html file opened from it would run the sender's script in
  // this page's origin. As octet-stream it can only be downloaded (a Blob
  // around a File on disk is a reference to it, not a copy).
  received(file, name, digest, where) {
    this.bar.max = 1;
    this.bar.value = 1;
    const secs = (performance.now() - this.start) / 1000;
    const kept = { folder: ', saved in the folder you chose', private: ', on disk' }[where] ?? '';
    this.finish('done', `${formatBytes(file.size)} in ${secs.toFixed(1)} s, SHA-256 verified${kept} · `);
    const blob = new Blob([file], { type: 'application/octet-stream' });
    const a = Object.assign(document.createElement('a'), {
      href: URL.createObjectURL(blob), download: name, textContent: `Save ${name}`,
    });
    a.dataset.sha256 = digest;
    a.dataset.storage = where;
    this.info.append(a);
    notifyReceived(this.name, file.size, this.who);
  }

  // A warning that does not end the transfer (a member's corrupt piece).
  warning(text) {
    let list = this.li.querySelector('.warnings');
    if (!list) {
      list = Object.assign(document.createElement('ul'), { className: 'warnings' });
      list.setAttribute('role', 'alert');
      this.li.append(list);
    }
    list.append(Object.assign(document.createElement('li'), { textContent: text }));
    while (list.children.length > MAX_WARNINGS) list.firstElementChild.remove();
  }

  failed(why) { this.finish('failed', `Failed: ${why}`); }

  declined(why) { this.finish('failed', `Declined: ${why}`); }

  // ---- a shared file's row ----

  sharing(cancel) {
    this.onCancel = cancel;
    this.recipients = new Map();
    this.recipientList = Object.assign(document.createElement('ul'), { className: 'recipients' });
    this.recipientList.setAttribute('aria-label', `Recipients of ${this.name}`);
    this.li.append(this.recipientList);
  }

  // A send begins: the bar, speed and time left are its own.
  sending() {
    this.start = performance.now();
    this.lastPaint = 0;
    this.bar.hidden = false;
    this.bar.value = 0;
    this.li.dataset.state = 'active';
    this.setActions([['cancel', 'Cancel', this.onCancel]]);
  }

  // One line per member, by its instance (§1.6): a member that reconnects
  // keeps its line.
  recipient(peer, s) {
    const key = peer.instance ?? peer.id;
    this.recipients.set(key, s);
    let line = [...this.recipientList.children].find((l) => l.dataset.member === key);
    if (!line) {
      line = document.createElement('li');
      line.dataset.member = key;
      line.append(Object.assign(document.createElement('span'), { className: 'who' }),
        Object.assign(document.createElement('span'), { className: 'what' }));
      this.recipientList.append(line);
    }
    line.dataset.state = s;
    line.querySelector('.who').textContent = visibleText(peer.name) || '(no name)';
    line.querySelector('.what').textContent = RECIPIENT_WORDS[s];
  }

  waiting() {
    this.finish('done', 'Shared: offered to members who join.', [['stop', 'Stop sharing', this.onCancel]]);
  }

  // Every send so far answered: a recipient's decline, or its leaving, is
  // its choice, not a failure of the file.
  sent() {
    const counts = {};
    for (const s of this.recipients.values()) counts[s] = (counts[s] ?? 0) + 1;
    const text = Object.keys(RECIPIENT_WORDS).filter((s) => counts[s])
      .map((s) => `${counts[s]} ${RECIPIENT_WORDS[s]}`).join(', ');
    this.bar.max = 1;
    this.bar.value = 1;
    this.finish(counts.failed || counts.silent ? 'failed' : 'done', `Sent: ${text}.`,
      [['stop', 'Stop sharing', this.onCancel]]);
  }

  // The user cancelled the send under way, or stopped offering the file.
  stopped(wasSending) {
    if (wasSending) this.finish('cancelled', 'Cancelled.');
    else {
      this.info.append(' No longer offered to members who join.');
      this.setActions([]);
    }
  }
}

// A recipient's state, as its line and the summary say it, in the order
// the summary lists them.
const RECIPIENT_WORDS = {
  ok: 'verified', failed: 'failed', silent: 'no answer', rejected: 'declined',
  left: 'left', cancelled: 'cancelled', pending: 'receiving…',
};

// ---- notifications ----
//
// A file that arrives while the tab is in the background is notified, once,
// where the user allowed it. Permission is asked only when the user presses
// "Notify me", never on load: browsers ignore or hold against a site a
// request without a gesture, and a prompt nobody asked for is dismissed.
// Only a file whole, verified and accepted is notified, as the row says
// "done": its name, its size and its sender.

function setUpNotifications() {
  // Once the user has answered there is nothing to ask. Browsers allow
  // notifications in secure contexts only: on plain http from another
  // machine the answer is 'denied' already, or there is no API at all.
  if (!('Notification' in globalThis) || Notification.permission !== 'default') return;
  $('notify-line').hidden = false;
  $('notify').addEventListener('click', async () => {
    const answer = await Notification.requestPermission();
    if (answer === 'default') return; // the prompt was dismissed: it may be asked again
    $('notify').hidden = true;
    $('notify-status').textContent = answer === 'granted'
      ? 'You will be notified when a file arrives while this tab is in the background.'
      : 'Notifications are blocked for this site; its settings in the browser can allow them.';
  });
}

function notifyReceived(name, size, who) {
  if (document.visibilityState !== 'hidden' || globalThis.Notification?.permission !== 'granted') return;
  const n = new Notification(`Received ${name}`, { body: `${formatBytes(size)} from ${who || '(no name)'}` });
  n.addEventListener('click', () => { window.focus(); n.close(); });
}

// ---- page setup ----

function showJoinForm(error = '') {
  $('room').hidden = true;
  $('join').hidden = false;
  $('join-error').textContent = error;
  $('join-room').value = state.room ?? '';
  $('join-name').value = state.name ?? '';
  (state.room ? $('join-name') : $('join-room')).focus();
}

// The address that invites others: the room (with the relay choice, and
// the secret in the fragment, which browsers never send), never our own
// name, so that whoever opens it joins under theirs.
function inviteAddress() {
  const query = new URLSearchParams({ room: state.room });
  if (state.relayOnly) query.set('relay', '1');
  const fragment = state.secret ? `#${new URLSearchParams({ secret: state.secret })}` : '';
  return `${location.origin}${location.pathname}?${query}${fragment}`;
}

function showWhere() {
  $('where').hidden = false;
  $('where').textContent = `Room ${state.room}${state.key ? ' · with a room secret' : ''}`;
  $('my-name').value = state.name;
}

function join(room, name, secret = null) {
  state.room = room;
  state.name = name;
  state.secret = secret || null;
  state.key = state.secret ? roomKey(state.secret, room) : null;
  state.stopped = false;
  state.joined = false;
  state.acceptAll = loadSetting(acceptAllKey(room)) === '1';
  saveSetting(NAME_KEY, name);
  $('join').hidden = true;
  $('room').hidden = false;
  showWhere();
  $('accept-all').checked = state.acceptAll;
  // The address bar holds the invite too: reloading keeps the room, and
  // copying the address never hands out our name.
  history.replaceState(null, '', inviteAddress());
  $('invite-link').value = location.href;
  document.title = `${room} · Hangout`;
  connect();
}

// A new name takes a new join (the server tells the others members' names,
// §1.4): the peer connections stay, and the members refile us under the
// new id we prove to them (§1.6), with the new name.
function rename(name) {
  state.name = name;
  saveSetting(NAME_KEY, name);
  showWhere();
  const old = state.ws;
  state.ws = null; // its close is not a lost server
  old?.close();
  connect();
}

// §1.2: what the server would refuse, said before asking it.
function checkNames(room, name) {
  if (!ROOM_RE.test(room)) return 'A room name is 1 to 64 letters, digits, dots, dashes or underscores.';
  if ([...name].length < 1 || [...name].length > 64 || /[\u0000-\u001f\u007f-\u009f]/.test(name))
    return 'A name is 1 to 64 characters, without control characters.';
  return null;
}

function setUpRoomControls() {
  $('rename').addEventListener('submit', (ev) => {
    ev.preventDefault();
    const name = $('my-name').value.trim();
    const error = checkNames(state.room, name);
    $('rename-error').textContent = error ?? '';
    if (!error && name !== state.name) rename(name);
  });
  $('copy-link').addEventListener('click', async () => {
    const input = $('invite-link');
    let copied = false;
    // The Clipboard API exists only in secure contexts; a room on a LAN
    // over plain http has the older command.
    try {
      await navigator.clipboard.writeText(input.value);
      copied = true;
    } catch {
      input.select();
      copied = document.execCommand('copy');
    }
    $('copy-status').textContent = copied ? 'Link copied.' : 'Select the address and copy it.';
  });
  setUpQrCode();
  $('accept-all').addEventListener('change', (ev) => {
    state.acceptAll = ev.target.checked;
    saveSetting(acceptAllKey(state.room), state.acceptAll ? '1' : null);
    if (state.acceptAll) for (const held of [...state.undecided]) held.accept();
  });
}

// The invite as a QR code, for a phone across the room: drawn by
// qrcode-generator (qrcode.js, the global qrcode) in the page, not asked of
// the server, which must never see the room secret in the invite's
// fragment. The address is ASCII (URLSearchParams and location
// percent-encode the rest), so the library's default encoding of a string,
// a byte per character, is right.
function setUpQrCode() {
  // Absent where the page is served from gst/web itself (--web-root).
  if (typeof globalThis.qrcode !== 'function') return;
  const button = $('show-qr');
  button.hidden = false;
  button.addEventListener('click', () => {
    const address = $('invite-link').value;
    const image = $('qr-image');
    try {
      // Type 0: the smallest version that holds the address; level M: a
      // code with 15% of it lost (a glare, a crease) still reads.
      const qr = globalThis.qrcode(0, 'M');
      qr.addData(address);
      qr.make();
      // Four modules of white around it, the quiet zone scanners need,
      // white in the dark scheme too.
      const svg = qr.createSvgTag({ cellSize: 1, margin: 4, scalable: true });
      image.src = `data:image/svg+xml,${encodeURIComponent(svg)}`;
      image.alt = `QR code of the invite address ${address}`;
      image.hidden = false;
      $('qr-note').textContent = `Point a phone's camera at it to open room ${state.room}.`;
    } catch (e) {
      // Too long for any QR code: a room secret has no length limit.
      log('no QR code:', e);
      image.hidden = true;
      $('qr-note').textContent = 'The invite address is too long for a QR code; copy the link instead.';
    }
    $('qr-dialog').showModal();
  });
}

function setUpSharing() {
  const input = $('files');
  input.addEventListener('change', () => {
    shareFiles([...input.files]);
    input.value = ''; // choosing the same file again shares it again
  });
  const drop = $('drop');
  // The whole page takes drops, so a near miss does not open the file.
  document.addEventListener('dragover', (ev) => {
    if (!ev.dataTransfer?.types.includes('Files')) return;
    ev.preventDefault();
    drop.classList.add('over');
  });
  document.addEventListener('dragleave', (ev) => {
    if (ev.relatedTarget === null) drop.classList.remove('over');
  });
  document.addEventListener('drop', (ev) => {
    drop.classList.remove('over');
    if (!ev.dataTransfer?.files.length) return;
    ev.preventDefault();
    if (state.joined || state.ws) shareFiles([...ev.dataTransfer.files]);
  });
}

// Where received files go (storage.js): a folder the user picks, where the
// browser lets a page write one; else this browser's own storage.
function setUpSaving() {
  openPrivateStorage(state.instance);
  if (!canChooseFolder()) return;
  const button = $('choose-folder');
  button.hidden = false;
  button.addEventListener('click', async () => {
    try {
      $('save-where').textContent = `Received files are saved in ${visibleText(await chooseFolder())}.`;
    } catch (e) { log('no folder chosen:', e.message); }
  });
}

function main() {
  setUpSharing();
  setUpSaving();
  setUpRoomControls();
  setUpNotifications();
  $('join').addEventListener('submit', (ev) => {
    ev.preventDefault();
    const room = $('join-room').value.trim();
    const name = $('join-name').value.trim();
    const error = checkNames(room, name);
    if (error) { $('join-error').textContent = error; return; }
    join(room, name, $('join-secret').value);
  });
  const params = new URLSearchParams(location.search);
  const room = params.get('room') ?? '';
  // A name in the address (an older invite, a script) is taken once; the
  // address then loses it (join()).
  const name = params.get('name') ?? loadSetting(NAME_KEY) ?? '';
  const secret = new URLSearchParams(location.hash.slice(1)).get('secret');
  state.relayOnly = params.get('relay') === '1';
  state.room = room || null;
  state.name = name || null;
  const error = room && name ? checkNames(room, name) : null;
  if (room && name && !error) join(room, name, secret);
  else showJoinForm(error ?? '');
  // For tests and the curious: the live state, read-only by convention.
  window.hangout = state;
}

if (typeof document !== 'undefined') main();
