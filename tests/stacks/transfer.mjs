// docs/protocol.md §2, file transfer version 1, on one pair's application
// channel, whatever WebRTC stack carries it. A channel is what the stack
// adapters (datachannel.mjs, wrtc.mjs) give: send(string | Buffer),
// bufferedAmount() and waitBufferedBelow(bytes).
import { createHash, randomBytes } from 'node:crypto';
import { EventEmitter } from 'node:events';

export const HEADER_SIZE = 25;              // §2.3: version, file id, offset
export const DEFAULT_CHUNK_SIZE = 65536;    // §2.2: "safe with every browser"
const DATA_VERSION = 1;
// §2.5: what a receiver takes from one sending member.
const MAX_NAME_BYTES = 1024;
const MAX_MIME_BYTES = 255;
const MAX_OUTSTANDING = 16;
const STALL_MS = 60000;
// §2.4: a window of our choosing above the stack's own buffers.
const SEND_WINDOW = 1024 * 1024;
const ACK_TIMEOUT_MS = 30000;

const FILE_ID = /^[0-9a-f]{32}$/;
const SHA256 = /^[0-9a-f]{64}$/;

export const sha256 = (bytes) => createHash('sha256').update(bytes).digest('hex');
export const newFileId = () => randomBytes(16).toString('hex');

const isSize = (v) => Number.isSafeInteger(v) && v >= 0;

// One data message: the header of §2.3 and the payload.
function dataMessage(idBytes, offset, payload) {
  const msg = Buffer.allocUnsafe(HEADER_SIZE + payload.length);
  msg[0] = DATA_VERSION;
  idBytes.copy(msg, 1);
  msg.writeBigUInt64BE(BigInt(offset), 17);
  payload.copy(msg, HEADER_SIZE);
  return msg;
}

/**
 * Both directions of §2 on one pair's application channel: files the peer
 * sends us (events "offer", "complete" and "failed", with the file) and
 * files we send it (send(), which resolves with the peer's answer).
 * `log(text)` records what we ignored and why (§2.2: "SHOULD be logged").
 */
export class FileChannel extends EventEmitter {
  constructor(channel, { maxMessageSize, log }) {
    super();
    this.channel = channel;
    this.maxMessageSize = maxMessageSize;
    this.log = log;
    this.incoming = new Map();  // file id -> file being received
    this.declined = new Set();  // ids we rejected, outstanding until their end (§2.5)
    this.outgoing = new Map();  // file id -> { answer(result) } of our sends
    this.closed = false;
  }

  // Everything that arrives on the application channel.
  onMessage(data) {
    if (this.closed) return;
    if (typeof data !== 'string') {
      this.onData(data);
      return;
    }
    let msg;
    try { msg = JSON.parse(data); } catch { msg = null; }
    if (msg === null || typeof msg !== 'object' || Array.isArray(msg) || typeof msg.type !== 'string') {
      this.log(`transfer: not a control message, ignored: ${data.slice(0, 80)}`);
      return;
    }
    switch (msg.type) {
      case 'offer': this.onOffer(msg); break;
      case 'end': this.onEnd(msg); break;
      case 'abort': this.onAbort(msg); break;
      case 'ack': case 'reject': this.onAnswer(msg); break;
      default: this.log(`transfer: unknown type ${msg.type}, ignored`);
    }
  }

  reject(id, reason) {
    this.channel.send(JSON.stringify({ type: 'reject', id, reason }));
  }

  outstanding() { return this.incoming.size + this.declined.size; }

  onOffer(msg) {
    const { id, name, size, mime } = msg;
    const chunkSize = msg['chunk-size'];
    if (msg.version !== 1 || typeof id !== 'string' || !FILE_ID.test(id) || typeof name !== 'string'
        || !(size === null || isSize(size)) || typeof mime !== 'string'
        || !Number.isSafeInteger(chunkSize) || chunkSize <= HEADER_SIZE) {
      this.log(`transfer: malformed offer ignored: ${JSON.stringify(msg).slice(0, 200)}`);
      return;
    }
    if (this.incoming.has(id) || this.declined.has(id)) {
      this.log(`transfer: second offer of ${id} ignored`);
      return;
    }
    let refusal = null;
    if (Buffer.byteLength(name) > MAX_NAME_BYTES) refusal = `name longer than ${MAX_NAME_BYTES} bytes`;
    else if (Buffer.byteLength(mime) > MAX_MIME_BYTES) refusal = `mime longer than ${MAX_MIME_BYTES} bytes`;
    else if (this.outstanding() >= MAX_OUTSTANDING) refusal = 'too many files outstanding';
    if (refusal) {
      this.declined.add(id);
      this.reject(id, refusal);
      return;
    }
    const file = {
      id, name, size, mime, chunkSize,
      hash: createHash('sha256'), chunks: [], received: 0, failure: null, timer: null,
    };
    this.incoming.set(id, file);
    this.stallTimer(file);
    this.emit('offer', file);
  }

  // §2.5: a file nothing arrives for in 60 s is failed and rejected.
  stallTimer(file) {
    clearTimeout(file.timer);
    file.timer = setTimeout(() => {
      this.reject(file.id, 'no data from the sender for 60 s');
      this.fail(file, 'no data from the sender for 60 s');
    }, STALL_MS);
    file.timer.unref();
  }

  fail(file, reason) {
    clearTimeout(file.timer);
    this.incoming.delete(file.id);
    file.chunks = [];
    file.failure = reason;
    this.emit('failed', file);
  }

  onData(buf) {
    if (buf.length < HEADER_SIZE + 1 || buf[0] !== DATA_VERSION) {
      this.log(`transfer: data message of ${buf.length} bytes, version ${buf[0]}: dropped`);
      return;
    }
    const id = buf.subarray(1, 17).toString('hex');
    const file = this.incoming.get(id);
    if (!file) {
      if (!this.declined.has(id)) this.log(`transfer: data for ${id}, which was not offered: dropped`);
      return;
    }
    const offset = buf.readBigUInt64BE(17);
    const payload = buf.subarray(HEADER_SIZE);
    if (buf.length > file.chunkSize
        || (file.size !== null && offset + BigInt(payload.length) > BigInt(file.size))) {
      this.log(`transfer: data message for ${id} over its chunk-size or size: dropped`);
      return;
    }
    this.stallTimer(file);
    if (file.failure !== null) return;
    // §2.3: version 1 data comes in order; anything else fails the file
    // (answered at its end).
    if (offset !== BigInt(file.received)) {
      file.failure = `data at offset ${offset}, expected ${file.received}`;
      file.chunks = [];
      return;
    }
    file.hash.update(payload);
    // Our own copy: the stack may reuse the message's memory.
    file.chunks.push(Buffer.from(payload));
    file.received += payload.length;
  }

  onEnd(msg) {
    const { id, size, sha256: digest } = msg;
    if (typeof id !== 'string' || !isSize(size) || typeof digest !== 'string' || !SHA256.test(digest)) {
      this.log(`transfer: malformed end ignored: ${JSON.stringify(msg).slice(0, 200)}`);
      return;
    }
    if (this.declined.delete(id)) return;
    const file = this.incoming.get(id);
    if (!file) {
      this.log(`transfer: end of ${id}, which was not offered: ignored`);
      return;
    }
    clearTimeout(file.timer);
    this.incoming.delete(id);
    const own = file.failure === null ? file.hash.digest('hex') : null;
    if (own !== null && (size !== file.received || (file.size !== null && size !== file.size))) {
      file.failure = `end says ${size} bytes, ${file.received} arrived`;
    } else if (own !== null && own !== digest) {
      file.failure = `SHA-256 ${own}, end says ${digest}`;
    }
    const ok = file.failure === null;
    this.channel.send(JSON.stringify({ type: 'ack', id, ok, sha256: own }));
    if (!ok) {
      this.fail(file, file.failure);
      return;
    }
    file.bytes = Buffer.concat(file.chunks);
    file.chunks = [];
    file.sha256 = own;
    this.emit('complete', file);
  }

  onAbort(msg) {
    if (typeof msg.id !== 'string' || typeof msg.reason !== 'string') {
      this.log('transfer: malformed abort ignored');
      return;
    }
    if (this.declined.delete(msg.id)) return;
    const file = this.incoming.get(msg.id);
    if (file) this.fail(file, `aborted by the sender: ${msg.reason}`);
  }

  // The peer's ack or reject of a file we send.
  onAnswer(msg) {
    const out = typeof msg.id === 'string' ? this.outgoing.get(msg.id) : undefined;
    if (!out) {
      this.log(`transfer: ${msg.type} for a file we are not sending: ignored`);
      return;
    }
    if (msg.type === 'ack' && typeof msg.ok === 'boolean'
        && (msg.sha256 === null || typeof msg.sha256 === 'string')) {
      out.answer({ ack: true, ok: msg.ok, sha256: msg.sha256 });
    } else if (msg.type === 'reject' && typeof msg.reason === 'string') {
      out.answer({ rejected: msg.reason });
    } else {
      this.log(`transfer: malformed ${msg.type} ignored`);
    }
  }

  /**
   * Sends one file (§2.4): offer, data within our window, end, then waits
   * (bounded) for the peer's ack. Resolves with { ack, ok, sha256 },
   * { rejected: reason }, { gone: true } (the peer left) or
   * { timeout: true }.
   */
  async send({ id, name, bytes, mime = 'application/octet-stream' }) {
    const chunkSize = Math.min(DEFAULT_CHUNK_SIZE, this.maxMessageSize);
    const idBytes = Buffer.from(id, 'hex');
    let result = null;
    const answered = new Promise((resolve) => {
      this.outgoing.set(id, { answer: (r) => { result ??= r; resolve(result); } });
    });
    const done = () => result !== null || this.closed;
    this.channel.send(JSON.stringify({
      type: 'offer', version: 1, id, name, size: bytes.length, mime, 'chunk-size': chunkSize,
    }));
    const step = chunkSize - HEADER_SIZE;
    for (let offset = 0; offset < bytes.length && !done(); offset += step) {
      // Never let bufferedAmount grow without bound (§2.4); resume at half.
      while (this.channel.bufferedAmount() >= SEND_WINDOW && !done()) {
        await this.channel.waitBufferedBelow(SEND_WINDOW / 2);
      }
      if (done()) break;
      this.channel.send(dataMessage(idBytes, offset, bytes.subarray(offset, offset + step)));
    }
    if (this.closed) return { gone: true };
    // A reject means: stop sending, and do not wait for an ack (§2.2).
    if (result?.rejected !== undefined) return result;
    this.channel.send(JSON.stringify({ type: 'end', id, size: bytes.length, sha256: sha256(bytes) }));
    let timer;
    const timeout = new Promise((resolve) => {
      timer = setTimeout(() => resolve({ timeout: true }), ACK_TIMEOUT_MS);
    });
    try {
      return await Promise.race([answered, timeout]);
    } finally {
      clearTimeout(timer);
      this.outgoing.delete(id);
    }
  }

  // The peer is gone: its files are discarded (§2.4), our sends end.
  close() {
    if (this.closed) return;
    this.closed = true;
    for (const file of [...this.incoming.values()]) this.fail(file, 'the sender left');
    for (const out of this.outgoing.values()) out.answer({ gone: true });
  }
}
