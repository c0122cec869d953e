// gst-hangout web client: file transfer version 1 (docs/protocol.md §2):
// the control and data messages, the receive-side limits (§2.5) and the
// receiver's rules for one file (§2.3: data in order, within the offer;
// size and digest checked at the end), and how a member's names are shown
// (§2.2, §2.5). Pure logic, no DOM, no channels and no timers: the page's
// files (transfers.js) pass messages in and act on what comes out. It
// follows the C library's gst/libhangout/transfer.c;
// tests/web/transfer1.test.mjs checks the same cases as
// tests/unit/test-transfer.c, with the header and limits read from §2.
// SPDX-License-Identifier: LGPL-2.1-or-later

import { Sha256, toHex } from './sha256.js';

export const VERSION = 1;
// §2.2: 65536 is safe with every browser and the default.
export const CHUNK_SIZE = 65536;
// §2.3: version, file id, offset.
export const HEADER_SIZE = 25;
// Receive-side limits per sending member, the C library's (§2.5): whatever
// a hostile member sends, what the page holds for it stays bounded. Longer
// names or types are declined; so is an offer beyond MAX_OUTSTANDING
// files offered and neither ended nor aborted (declined ones count: their
// data may still come, and must be told from data of a file never
// offered).
export const MAX_NAME_BYTES = 1024;
export const MAX_MIME_BYTES = 255;
export const MAX_OUTSTANDING = 16;
export const REASON_OUTSTANDING = 'too many files outstanding';

const isHexId = (s) => typeof s === 'string' && /^[0-9a-f]{32}$/.test(s);
const isCount = (n) => Number.isSafeInteger(n) && n >= 0;
const utf8Length = (s) => new TextEncoder().encode(s).length;
export const fromHex = (hex) => Uint8Array.from(hex.match(/../g), (h) => parseInt(h, 16));

// ---- names (§2.2, §2.5) ----

// Control characters, bidi controls (embeddings, overrides, isolates, marks)
// and line separators: shown as [U+XXXX], so that a name reads as what it
// is. "rtl-K088\u202Egnp.exe" would otherwise show as "rtl-K088exe.png".
const INVISIBLE_RE = /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;

export function visibleText(text) {
  return text.replace(INVISIBLE_RE,
    (c) => `[U+${c.codePointAt(0).toString(16).toUpperCase().padStart(4, '0')}]`);
}

// §2.2: a name is for people; never let it act as a path or hide what it is.
// The same text is shown and used as the download name.
export function safeFileName(name) {
  const cleaned = visibleText(name).split(/[/\\]/).pop().replace(/^\.+/, '').trim();
  return cleaned || 'file';
}

// §2.5's limits on what an offer names, worded as the `reject` says them
// (version 2 has the same, §4.9), or null.
export function namesRefusal(name, mime) {
  if (utf8Length(name) > MAX_NAME_BYTES) return `name longer than ${MAX_NAME_BYTES} bytes`;
  if (utf8Length(mime) > MAX_MIME_BYTES) return `mime longer than ${MAX_MIME_BYTES} bytes`;
  return null;
}

// ---- control messages (§2.2) ----

// A version 1 offer, checked: { id, name, size (null: not known), mime,
// chunkSize }, or null. Its names are not limited here: an offer over a
// limit is well-formed, and declined (namesRefusal()).
export function parseOffer(msg) {
  const chunk = msg['chunk-size'];
  if (msg.version !== VERSION || !isHexId(msg.id) || typeof msg.name !== 'string'
      || !(msg.size === null || isCount(msg.size)) || typeof msg.mime !== 'string'
      || !Number.isSafeInteger(chunk) || chunk <= HEADER_SIZE) return null;
  return { id: msg.id, name: msg.name, size: msg.size, mime: msg.mime, chunkSize: chunk };
}

export const buildOffer = ({ id, name, size, mime, chunkSize }) => JSON.stringify({
  type: 'offer', version: VERSION, id, name, size, mime, 'chunk-size': chunkSize,
});
export const buildEnd = (id, size, sha256) => JSON.stringify({ type: 'end', id, size, sha256 });
export const buildAck = (id, ok, sha256) => JSON.stringify({ type: 'ack', id, ok, sha256 });
export const buildReject = (id, reason) => JSON.stringify({ type: 'reject', id, reason });
export const buildAbort = (id, reason) => JSON.stringify({ type: 'abort', id, reason });

// What a recipient's answer says of a file this page sent: 'rejected',
// 'ok' (an ack whose digest is ours), 'failed' (any other ack), or null:
// an ack before our `end` is no answer (we have no digest to compare yet).
export function answerOf(msg, sha256) {
  if (msg.type === 'reject') return 'rejected';
  if (sha256 === null) return null;
  return msg.ok === true && msg.sha256 === sha256 ? 'ok' : 'failed';
}

// ---- data messages (§2.3) ----

export function buildData(idBytes, offset, payload) {
  const msg = new Uint8Array(HEADER_SIZE + payload.length);
  msg[0] = VERSION;
  msg.set(idBytes, 1);
  new DataView(msg.buffer).setBigUint64(17, BigInt(offset));
  msg.set(payload, HEADER_SIZE);
  return msg;
}

// A data message's header and payload: { id, offset, payload, size (of the
// whole message) }, or null when it is no version 1 data message (wrong
// version, no payload).
export function parseData(bytes) {
  if (bytes.length <= HEADER_SIZE || bytes[0] !== VERSION) return null;
  return {
    id: toHex(bytes.subarray(1, 17)),
    offset: Number(new DataView(bytes.buffer, bytes.byteOffset).getBigUint64(17)),
    payload: bytes.subarray(HEADER_SIZE),
    size: bytes.length,
  };
}

// ---- one file, as its receiver checks it ----

// What the receiver holds of one offered file: how much came, in order,
// and its digest so far. data() says what to do with a data message; the
// first out of order breaks the file, which then fails at its end.
export class FileReceiver {
  constructor(offer) {
    this.size = offer.size; // null: not known in advance
    this.chunkSize = offer.chunkSize;
    this.received = 0;
    this.sha = new Sha256();
    this.broken = null; // why the data went wrong; reported at end
  }

  // { payload } to keep (hashed already), { dropped } for a message out of
  // bounds, dropped alone (§2.3), { broken } when this one broke the file,
  // or {} for data of a broken file.
  data({ offset, payload, size }) {
    if (this.broken) return {};
    if (size > this.chunkSize || (this.size !== null && offset + payload.length > this.size))
      return { dropped: 'data message out of bounds' };
    if (offset !== this.received) {
      // §2.3: in version 1 data comes in order; anything else fails the file.
      this.broken = `data at offset ${offset}, expected ${this.received}`;
      this.sha = null;
      return { broken: this.broken };
    }
    this.sha.update(payload);
    this.received += payload.length;
    return { payload };
  }

  // The sender's `end`: { digest (ours, or null), why (null: whole and
  // verified) }; its `ack` says both.
  end(msg) {
    const digest = this.broken ? null : this.sha.hex();
    let why = this.broken;
    if (!why && (msg.size !== this.received || (this.size !== null && this.size !== msg.size)))
      why = `size ${this.received} bytes, the sender says ${msg.size}`;
    if (!why && msg.sha256 !== digest) why = 'SHA-256 does not match';
    this.sha = null;
    return { digest, why };
  }
}
