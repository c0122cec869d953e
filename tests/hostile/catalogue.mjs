// The catalogue of bad input, by layer. Every generator returns the
// messages to send (strings are text messages, Buffers binary ones), built
// from docs/protocol.md: what a member may legitimately send, bent one
// member or one byte at a time, and what no member should send at all.
import { createHash, randomBytes } from 'node:crypto';

export const sha256 = (b) => createHash('sha256').update(b).digest('hex');
export const newId = () => randomBytes(16).toString('hex');

export function offer(fields = {}) {
  return JSON.stringify({
    type: 'offer', version: 1, id: newId(), name: 'x.bin', size: 1,
    mime: 'application/octet-stream', 'chunk-size': 65536, ...fields,
  });
}

// A data message (§2.3): version, 16-byte id, 64-bit big-endian offset, payload.
export function data(idHex, offset, payload, version = 1) {
  const head = Buffer.alloc(25);
  head[0] = version;
  Buffer.from(idHex, 'hex').copy(head, 1);
  head.writeBigUInt64BE(BigInt(offset), 17);
  return Buffer.concat([head, payload]);
}

// Values of every JSON kind, and numbers at the edges of what a C parser
// turns into gint64, guint or double.
const WRONG_VALUES = [null, true, false, 0, -1, 1.5, -0.5, 1e308, -1e308, 2 ** 63, -(2 ** 63),
  18446744073709551615, '', 'x', '1', [], [1], {}, { a: 1 }];

// Text that is no control message at all, in three groups: the empty
// message; deep nesting, which a recursive parser without a depth limit
// overflows its stack on; the rest.
export const EMPTY = [''];
export const DEEP = ['['.repeat(250000), '{"a":'.repeat(50000), '['.repeat(60000),
  '{"type":"offer","x":' + '['.repeat(30000)];
export function malformedText() {
  return [
    ' ', 'garbage', '{', '}', '{"type"', '{"type":}', 'null', 'true', '42', '"offer"', '[]',
    '[{"type":"offer"}]', '{"type":null}', '{"type":1}', '{"type":{}}', '{"type":[]}',
    '{"type":"offer"}', '{"type":"end"}', '{"type":"abort"}', '{"type":"ack"}', '{"type":"reject"}',
    '{"type":"offer","type":"end"}', '{"type":"\\u0000offer"}', '{"type":"offer\\u0000"}',
    '{"\\u0000":1,"type":"x"}', '{"type":"\\ud800"}', '{"type":"x"}'.repeat(100),
    // Over 64 KiB: larger than any control message (§2.2 keeps them small).
    JSON.stringify({ type: 'offer', version: 1, id: newId(), name: 'n'.repeat(300000), size: 1, mime: 'a/b', 'chunk-size': 65536 }),
    '{"type":"x","pad":"' + 'p'.repeat(1 << 20) + '"}',
    ' '.repeat(100000),
  ];
}

// Each member of each sender → receiver message, with every wrong kind of
// value, one at a time, the others right. Names say which, so that a
// victim that takes one for a real file shows it in its messages.
export function wrongTypes() {
  const out = [];
  const members = {
    offer: ['version', 'id', 'name', 'size', 'mime', 'chunk-size'],
    end: ['id', 'size', 'sha256'],
    abort: ['id', 'reason'],
  };
  for (const [type, names] of Object.entries(members)) {
    for (const member of names) {
      for (const v of WRONG_VALUES) {
        const id = newId();
        let msg;
        if (type === 'offer') {
          msg = JSON.parse(offer({ id, name: `wrongtype-${member}-${JSON.stringify(v)}` }));
        } else if (type === 'end') {
          msg = { type, id, size: 0, sha256: sha256(Buffer.alloc(0)) };
        } else {
          msg = { type, id, reason: 'x' };
        }
        // Values that are right for the member make a legitimate offer: left out.
        if (type === 'offer' && member === 'size' && (v === null || v === 0)) continue;
        if (type !== 'end' && ['name', 'mime', 'reason'].includes(member) && typeof v === 'string') continue;
        msg[member] = v;
        out.push(JSON.stringify(msg));
      }
      const without = JSON.parse(type === 'offer' ? offer({ name: `wrongtype-no-${member}` })
        : JSON.stringify({ type, id: newId(), size: 0, sha256: sha256(Buffer.alloc(0)), reason: 'x' }));
      delete without[member];
      out.push(JSON.stringify(without));
    }
  }
  // Ids that are not 32 lower-case hex digits.
  for (const id of ['', 'A'.repeat(32), 'g'.repeat(32), '0'.repeat(31), '0'.repeat(33), '0'.repeat(64), ' '.repeat(32)]) {
    out.push(offer({ id, name: `badid-${id.length}` }));
  }
  // A chunk size that cannot hold the 25-byte header plus one byte, or is
  // larger than any channel carries.
  for (const c of [0, 1, 25, 2 ** 31, 2 ** 32 + 100, 2 ** 53]) out.push(offer({ 'chunk-size': c, name: `chunk-${c}` }));
  for (const v of [0, 2, 99, -1]) out.push(offer({ version: v, name: `version-${v}` }));
  return out;
}

// File names for people (§2.2) that a receiver storing files must make safe.
export function hostileNames(top) {
  return [
    '../../etc/passwd', '../escape.bin', '..', '.', '/etc/passwd', `${top}/abs-escape.bin`,
    'a/b/c.bin', 'a\\b\\..\\c.bin', '.hidden', '.hangout-AAAAAA.part', '~/x', 'x'.repeat(4096),
    'ctl\x01\x02\x03\x1f\x7f.bin', 'esc\x1b[31mred\x1b[0m\x1b]0;title\x07.bin', 'bell\x07\x07.bin',
    'cr\rlf\nname.bin', 'tab\tname.bin', 'bidi-\u202Egnp.exe', 'zero\u200Bwidth.bin', 'c1\u0085\u009b.bin',
    'é'.repeat(2000), '\uFEFFbom.bin', 'CON', 'spaces   ', ' ',
  ];
}

// Data messages that no file can take: too short, wrong version, no offer.
export function badData() {
  const out = [];
  for (let n = 0; n <= 26; n++) out.push(randomBytes(n));
  for (let i = 0; i < 50; i++) out.push(randomBytes(1 + Math.floor(Math.random() * 4000)));
  out.push(data(newId(), 0, randomBytes(1000)));                  // never offered
  out.push(data(newId(), 2n ** 64n - 1n, randomBytes(10)));        // never offered, last offset
  out.push(data(newId(), 0, randomBytes(10), 0));
  out.push(data(newId(), 0, randomBytes(10), 2));
  out.push(data(newId(), 0, randomBytes(10), 255));
  return out;
}
