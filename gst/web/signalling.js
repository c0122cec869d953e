// gst-hangout web client: the signalling protocol (docs/protocol.md §1) as
// data: what the page sends the server and its members' signals, and what
// it takes from them, checked. Whatever the server relays comes from
// members, who may be hostile: each parser returns a message whose members
// have the kinds the page relies on, or null for what it ignores (§1.1:
// unknown types are ignored; so is anything malformed). Pure functions, no
// DOM, no WebSocket: room.js holds the connection and the peers, and
// tests/web/signalling.test.mjs checks these under Node.
// SPDX-License-Identifier: LGPL-2.1-or-later

// §1.2
const ROOM_RE = /^[A-Za-z0-9._-]{1,64}$/;
// §1.6: negotiated channels, created by both sides before the offer.
export const APP_CHANNEL = { label: 'hangout', id: 0 };
export const CONTROL_CHANNEL = { label: 'hangout-control', id: 1 };
// §1.6: a member the server says has left must answer a ping within 2 s.
export const PONG_TIMEOUT_MS = 2000;
// §1.6: the most of an id token the page keeps per signalling id.
const MAX_TOKEN = 64;

// §1.2: what the server would refuse, said before asking it.
export function checkNames(room, name) {
  if (!ROOM_RE.test(room)) return 'A room name is 1 to 64 letters, digits, dots, dashes or underscores.';
  if ([...name].length < 1 || [...name].length > 64 || /[\u0000-\u001f\u007f-\u009f]/.test(name))
    return 'A name is 1 to 64 characters, without control characters.';
  return null;
}

// ---- to the server (§1.3) ----

export const joinMessage = (room, name) => JSON.stringify({ type: 'join', room, name, version: 1 });
export const signalMessage = (to, payload) => JSON.stringify({ type: 'signal', to, payload });

// ---- from the server (§1.4) ----

// Keeps the well-formed RTCIceServer entries only: one the browser refuses
// would make every RTCPeerConnection throw. TURN needs both credentials
// (§1.4).
export function iceServersOf(list) {
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

// A text frame from the server as the page acts on it, or null: `welcome`
// with its well-formed members and ICE servers only, `member-joined` and
// `member-left` with a string id, `signal` with a string `from` and an
// object payload, `error`.
export function parseServerMessage(text) {
  let msg;
  try { msg = JSON.parse(text); } catch { return null; }
  if (!msg || typeof msg !== 'object') return null;
  switch (msg.type) {
    case 'welcome': return {
      type: 'welcome', id: msg.id,
      members: (Array.isArray(msg.members) ? msg.members : []).filter((m) => typeof m?.id === 'string')
        .map((m) => ({ id: m.id, name: String(m.name ?? '') })),
      iceServers: iceServersOf(msg.iceServers),
    };
    case 'member-joined':
      return typeof msg.id === 'string' ? { type: msg.type, id: msg.id, name: String(msg.name ?? '') } : null;
    case 'member-left': return typeof msg.id === 'string' ? { type: msg.type, id: msg.id } : null;
    case 'signal':
      return typeof msg.from === 'string' && msg.payload && typeof msg.payload === 'object'
        ? { type: msg.type, from: msg.from, payload: msg.payload } : null;
    case 'error': return { type: 'error', code: msg.code, reason: msg.reason };
    default: return null; // §1.1: unknown types are ignored
  }
}

// ---- between members, through the server (§1.5, §1.6) ----

// The ICE ufrag of a description: candidates name it (§1.6).
export function ufragOf(sdp) {
  const m = /^a=ice-ufrag:(\S+)/m.exec(sdp);
  return m ? m[1] : null;
}

export const descriptionPayload = (type, sdp, instance) => ({ type, sdp, instance });
// A gathered candidate, or the end of them (`candidate` null: sent as an
// empty candidate, §1.5).
export const candidatePayload = (candidate, ufrag) => ({
  candidate: candidate ? candidate.candidate : '', sdpMid: '0', sdpMLineIndex: 0,
  usernameFragment: candidate?.usernameFragment ?? ufrag,
});
export const connectedPayload = (instance) => ({ type: 'connected', instance });
export const closePayload = () => ({ type: 'close' });
export const idPayload = (token) => ({ type: 'id', token });

const instanceOf = (payload) => (typeof payload.instance === 'string' ? payload.instance : null);

// A member's signal payload as the page acts on it, or null: `kind` says
// which; descriptions have their sdp, `instance` is a string or null,
// candidates have a string `candidate` and `usernameFragment` a string or
// null, id proofs a token of at most 64 characters.
export function parsePayload(payload) {
  if (!payload || typeof payload !== 'object') return null;
  if ('candidate' in payload) {
    if (typeof payload.candidate !== 'string') return null;
    return {
      kind: 'candidate', candidate: payload.candidate,
      usernameFragment: typeof payload.usernameFragment === 'string' ? payload.usernameFragment : null,
    };
  }
  switch (payload.type) {
    case 'offer':
    case 'answer':
      return typeof payload.sdp === 'string' ? { kind: payload.type, sdp: payload.sdp, instance: instanceOf(payload) } : null;
    case 'connected': return { kind: 'connected', instance: instanceOf(payload) };
    case 'id':
      return typeof payload.token === 'string' && payload.token.length <= MAX_TOKEN ? { kind: 'id', token: payload.token } : null;
    case 'close': return { kind: 'close' };
    default: return null;
  }
}

// ---- on the pair's control channel (§1.6, §3.3) ----

// A control message as the page acts on it, or null: `ping`, `pong`,
// `auth` with a string proof, `id` with a string id and token.
export function parseControl(text) {
  let msg;
  try { msg = JSON.parse(text); } catch { return null; }
  switch (msg?.type) {
    case 'ping':
    case 'pong': return { type: msg.type };
    case 'auth': return typeof msg.proof === 'string' ? { type: 'auth', proof: msg.proof } : null;
    case 'id':
      return typeof msg.id === 'string' && typeof msg.token === 'string' ? { type: 'id', id: msg.id, token: msg.token } : null;
    // §4.1: the transfer versions the member speaks; not an array of
    // positive integers, the message is malformed.
    case 'capabilities':
      return Array.isArray(msg.transfer) && msg.transfer.every((v) => Number.isSafeInteger(v) && v > 0)
        ? { type: 'capabilities', transfer: msg.transfer } : null;
    default: return null;
  }
}
