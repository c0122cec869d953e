// File transfer version 1 (gst/web/transfer1.js, docs/protocol.md §2):
// the data message header of §2.3, the limits of §2.5 and the example of
// §2.6, read from the document itself; the cases of
// tests/unit/test-transfer.c (its file id, its header vector, its
// malformed control messages, its receiver's failures); then what a
// hostile member can send, each case on its own.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import * as v1 from '../../gst/web/transfer1.js';
import { cStrings } from './c-vectors.mjs';

const spec = readFileSync(new URL('../../docs/protocol.md', import.meta.url), 'utf8');
const section = (title) => spec.slice(spec.indexOf(title), spec.indexOf('\n### ', spec.indexOf(title) + 1));
const ID = cStrings('test-transfer.c').get('ID');
const sha256 = (bytes) => createHash('sha256').update(bytes).digest('hex');
const ZEROS = '0'.repeat(64);

test('the data message header of §2.3', () => {
  const rows = [...section('### 2.3').matchAll(/^(\d+) +(\d+|n) +(.+)$/gm)].map(([, at, size, what]) => ({ at: Number(at), size, what }));
  assert.deepEqual(rows.map((r) => [r.at, r.size]), [[0, '1'], [1, '16'], [17, '8'], [25, 'n']]);
  assert.equal(v1.HEADER_SIZE, rows[3].at);
  assert.match(rows[0].what, new RegExp(`0x0${v1.VERSION}`));
  // tests/unit/test-transfer.c's test_data_header.
  const m = v1.buildData(v1.fromHex(ID), 0x0102030405060708n, new Uint8Array([1, 2, 3]));
  assert.equal(m.length, v1.HEADER_SIZE + 3);
  assert.deepEqual([m[0], m[1], m[16], m[17], m[24]], [1, 0x00, 0xff, 0x01, 0x08]);
  const got = v1.parseData(m);
  assert.equal(got.id, ID);
  // Offsets are Numbers: one this large is rounded, and past any file's
  // size, which is a safe integer (FileReceiver drops it as out of bounds).
  assert.equal(got.offset, Number(0x0102030405060708n));
  assert.deepEqual([...got.payload], [1, 2, 3]);
  assert.equal(got.size, m.length);
  // Header only, short, empty, another version: no data message.
  const other = m.slice();
  other[0] = 2;
  for (const bad of [m.subarray(0, v1.HEADER_SIZE), m.subarray(0, 3), m.subarray(0, 0), other])
    assert.equal(v1.parseData(bad), null, `${bad.length} bytes, version ${bad[0]}`);
  // A message at an offset into a larger buffer, as channels may give.
  const buffer = new Uint8Array(7 + m.length);
  buffer.set(m, 7);
  assert.deepEqual(v1.parseData(buffer.subarray(7)).offset, got.offset);
});

test('the example of §2.6: chunks of 65536 bytes, header included', () => {
  const example = section('### 2.6 Example');
  const offsets = [...example.matchAll(/^→ \(binary\) 01 \S+ ([0-9a-f]{16}) <(\d+) bytes>$/gm)];
  assert.equal(offsets.length, 2);
  const offer = JSON.parse(/^→ (\{"type":"offer".*\})$/m.exec(example)[1]);
  assert.equal(offer['chunk-size'], v1.CHUNK_SIZE);
  for (const [i, [, hex, bytes]] of offsets.entries()) {
    assert.equal(Number(bytes), v1.CHUNK_SIZE - v1.HEADER_SIZE);
    assert.equal(parseInt(hex, 16), i * (v1.CHUNK_SIZE - v1.HEADER_SIZE));
  }
  const built = JSON.parse(v1.buildOffer({ ...offer, chunkSize: offer['chunk-size'] }));
  assert.deepEqual(built, offer);
  // Its id is shortened ("3f2a…"): with a whole one it is an offer the page takes.
  assert.equal(v1.parseOffer(offer), null);
  assert.deepEqual(v1.parseOffer({ ...offer, id: ID }), { id: ID, name: offer.name, size: offer.size, mime: offer.mime, chunkSize: v1.CHUNK_SIZE });
});

test('control messages round trip (test_control_round_trip)', () => {
  const offer = JSON.parse(v1.buildOffer({ id: ID, name: 'a b.iso', size: 1234, mime: 'application/x-iso9660-image', chunkSize: 65536 }));
  assert.deepEqual(v1.parseOffer(offer), { id: ID, name: 'a b.iso', size: 1234, mime: 'application/x-iso9660-image', chunkSize: 65536 });
  // A size not known in advance.
  assert.equal(v1.parseOffer(JSON.parse(v1.buildOffer({ id: ID, name: 'x', size: null, mime: 'text/plain', chunkSize: 100 }))).size, null);
  const empty = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';
  assert.deepEqual(JSON.parse(v1.buildEnd(ID, 0, empty)), { type: 'end', id: ID, size: 0, sha256: empty });
  assert.deepEqual(JSON.parse(v1.buildAck(ID, false, null)), { type: 'ack', id: ID, ok: false, sha256: null });
  assert.deepEqual(JSON.parse(v1.buildReject(ID, 'no')), { type: 'reject', id: ID, reason: 'no' });
  assert.deepEqual(JSON.parse(v1.buildAbort(ID, 'stopped')), { type: 'abort', id: ID, reason: 'stopped' });
});

test('malformed offers are refused (test_control_invalid)', () => {
  const good = { type: 'offer', version: 1, id: ID, name: 'a', size: 1, mime: 'x', 'chunk-size': 100 };
  assert.ok(v1.parseOffer(good));
  const { 'chunk-size': _, ...noChunk } = good;
  for (const bad of [
    { ...good, version: 2 }, { ...good, version: '1' }, noChunk,
    { ...good, 'chunk-size': v1.HEADER_SIZE }, { ...good, 'chunk-size': 100.5 }, { ...good, 'chunk-size': '100' },
    { ...good, 'chunk-size': 2 ** 53 },
    { ...good, name: null }, { ...good, name: 7 }, { ...good, mime: null },
    { ...good, size: -1 }, { ...good, size: 1.5 }, { ...good, size: '1' }, { ...good, size: 2 ** 53 },
    { ...good, id: 'zz' }, { ...good, id: ID.toUpperCase() }, { ...good, id: `${ID}00` }, { ...good, id: 7 },
  ])
    assert.equal(v1.parseOffer(bad), null, JSON.stringify(bad));
});

test('the receive-side limits of §2.5 (test_receiver_limits)', () => {
  const table = section('### 2.5 Limits');
  const limit = (name) => {
    const m = new RegExp(`^\\| ${name}[^|]* \\| [^|]*?(\\d+)[^|]*\\| \`([^\`]+)\``, 'm').exec(table);
    assert.ok(m, `${name} in §2.5`);
    return { value: Number(m[1]), reason: m[2] };
  };
  const name = limit('`name`');
  const mime = limit('`mime`');
  const outstanding = limit('files outstanding');
  assert.equal(v1.MAX_NAME_BYTES, name.value);
  assert.equal(v1.MAX_MIME_BYTES, mime.value);
  assert.equal(v1.MAX_OUTSTANDING, outstanding.value);
  assert.equal(v1.REASON_OUTSTANDING, outstanding.reason);
  // Bytes of UTF-8, not characters.
  assert.equal(v1.namesRefusal('n'.repeat(name.value), 'm'.repeat(mime.value)), null);
  assert.equal(v1.namesRefusal('é'.repeat(name.value / 2), 'x'), null);
  assert.equal(v1.namesRefusal('n'.repeat(name.value + 1), 'x'), name.reason);
  assert.equal(v1.namesRefusal('é'.repeat(name.value / 2 + 1), 'x'), name.reason);
  assert.equal(v1.namesRefusal('😀'.repeat(name.value / 4 + 1), 'x'), name.reason);
  assert.equal(v1.namesRefusal('a', 'm'.repeat(mime.value + 1)), mime.reason);
  // A name over its limit is said first.
  assert.equal(v1.namesRefusal('n'.repeat(10 * name.value), 'm'.repeat(10 * mime.value)), name.reason);
});

// One file through a FileReceiver, as the page takes it: what it keeps,
// and what its `ack` says.
function receive(offer, messages, end) {
  const receiver = new v1.FileReceiver(v1.parseOffer({ type: 'offer', version: 1, id: ID, name: 'f', mime: 'x', ...offer }));
  const kept = [];
  const results = messages.map((m) => {
    const got = receiver.data(v1.parseData(m));
    if (got.payload) kept.push(...got.payload);
    return got;
  });
  return { results, kept, ...receiver.end(end) };
}

const dataAt = (offset, payload) => v1.buildData(v1.fromHex(ID), offset, payload);

test('a file whole, in chunks, to several receivers (test_transfer)', () => {
  const file = Uint8Array.from({ length: 1000 }, (_, i) => i % 251);
  const chunk = 100;
  const messages = [];
  for (let at = 0; at < file.length; at += chunk - v1.HEADER_SIZE)
    messages.push(dataAt(at, file.subarray(at, at + chunk - v1.HEADER_SIZE)));
  assert.ok(messages.every((m) => m.length <= chunk));
  for (const size of [file.length, null]) {
    const got = receive({ size, 'chunk-size': chunk }, messages, { size: file.length, sha256: sha256(file) });
    assert.deepEqual(new Uint8Array(got.kept), file);
    assert.deepEqual({ why: got.why, digest: got.digest }, { why: null, digest: sha256(file) });
  }
  // An empty file: no data message, the digest of nothing.
  assert.equal(receive({ size: 0, 'chunk-size': chunk }, [], { size: 0, sha256: sha256(new Uint8Array()) }).why, null);
});

test('the receiver\'s failures (test_receiver_failures)', () => {
  const payload = new Uint8Array(200);
  const end = { size: 10, sha256: ZEROS };
  // Out of order: fails the file, later data is dropped quietly and the
  // end is answered ok=false, without a digest.
  let got = receive({ size: 10, 'chunk-size': 100 }, [dataAt(3, payload.subarray(0, 5)), dataAt(3, payload.subarray(0, 5)),
    dataAt(0, payload.subarray(0, 5))], end);
  assert.deepEqual(got.results, [{ broken: 'data at offset 3, expected 0' }, {}, {}]);
  assert.deepEqual({ why: got.why, digest: got.digest, kept: got.kept }, { why: 'data at offset 3, expected 0', digest: null, kept: [] });
  // Past the announced size (§2.3: dropped), then short at the end.
  got = receive({ size: 10, 'chunk-size': 100 }, [dataAt(0, payload.subarray(0, 11))], end);
  assert.deepEqual(got.results, [{ dropped: 'data message out of bounds' }]);
  assert.equal(got.why, 'size 0 bytes, the sender says 10');
  // Past it from a later offset.
  got = receive({ size: 10, 'chunk-size': 100 }, [dataAt(0, payload.subarray(0, 5)), dataAt(5, payload.subarray(0, 6))], end);
  assert.deepEqual(got.results.map((r) => Object.keys(r)), [['payload'], ['dropped']]);
  // Larger than the chunk size, header included: dropped.
  got = receive({ size: null, 'chunk-size': 100 }, [dataAt(0, payload.subarray(0, 100 - v1.HEADER_SIZE + 1))], end);
  assert.deepEqual(got.results, [{ dropped: 'data message out of bounds' }]);
  got = receive({ size: null, 'chunk-size': 100 }, [dataAt(0, payload.subarray(0, 100 - v1.HEADER_SIZE))], end);
  assert.deepEqual(got.results.map((r) => Object.keys(r)), [['payload']]);
  // Wrong digest.
  got = receive({ size: 10, 'chunk-size': 100 }, [dataAt(0, payload.subarray(0, 10))], end);
  assert.equal(got.why, 'SHA-256 does not match');
  assert.equal(got.digest, sha256(payload.subarray(0, 10)));
  // The end says another size than the offer, or than what came.
  got = receive({ size: 10, 'chunk-size': 100 }, [dataAt(0, payload.subarray(0, 10))], { size: 11, sha256: ZEROS });
  assert.equal(got.why, 'size 10 bytes, the sender says 11');
  got = receive({ size: null, 'chunk-size': 100 }, [dataAt(0, payload.subarray(0, 10))], { size: 9, sha256: sha256(payload.subarray(0, 10)) });
  assert.equal(got.why, 'size 10 bytes, the sender says 9');
  // A malformed end fails the file, it is not taken for a good one.
  for (const bad of [{}, { size: '10', sha256: sha256(payload.subarray(0, 10)) }, { size: 10 }, { size: 10, sha256: 7 }])
    assert.notEqual(receive({ size: 10, 'chunk-size': 100 }, [dataAt(0, payload.subarray(0, 10))], bad).why, null, JSON.stringify(bad));
});

test('what a recipient answers the sender (§2.2, §2.4), a lying or malformed ack included', () => {
  const digest = sha256(new Uint8Array(10));
  assert.equal(v1.answerOf(JSON.parse(v1.buildReject(ID, 'no')), digest), 'rejected');
  assert.equal(v1.answerOf(JSON.parse(v1.buildReject(ID, 'no')), null), 'rejected', 'a reject before the end');
  assert.equal(v1.answerOf(JSON.parse(v1.buildAck(ID, true, digest)), digest), 'ok');
  assert.equal(v1.answerOf(JSON.parse(v1.buildAck(ID, true, digest)), null), null, 'an ack before the end');
  for (const ack of [{ ok: false, sha256: digest }, { ok: true, sha256: ZEROS }, { ok: true, sha256: null }, { ok: true },
    { ok: 'true', sha256: digest }, { ok: 1, sha256: digest }, { ok: true, sha256: digest.toUpperCase() }])
    assert.equal(v1.answerOf({ type: 'ack', id: ID, ...ack }, digest), 'failed', JSON.stringify(ack));
});

test('names are shown as what they are (test_printable), and never act as paths (§2.2)', () => {
  for (const [name, shown] of [
    ['plain name.iso', 'plain name.iso'],
    ['report — final.pdf', 'report — final.pdf'],
    ['esc\x1b[31mred\x07\r', 'esc[U+001B][31mred[U+0007][U+000D]'],
    ['rtl-K088\u202egnp.exe', 'rtl-K088[U+202E]gnp.exe'],
    ['csi\u009b', 'csi[U+009B]'],
    ['a\u2028b\u2066c\u061cd\u200fe', 'a[U+2028]b[U+2066]c[U+061C]d[U+200F]e'],
  ]) assert.equal(v1.visibleText(name), shown, JSON.stringify(name));
  for (const [name, safe] of [
    ['report.pdf', 'report.pdf'], ['../../etc/passwd', 'passwd'], ['C:\\Windows\\evil.exe', 'evil.exe'],
    ['/abs/path', 'path'], ['..', 'file'], ['...hidden', 'hidden'], ['', 'file'], ['  ', 'file'], ['dir/', 'file'],
    ['a\u0000b', 'a[U+0000]b'], ['rtl-K088\u202egnp.exe', 'rtl-K088[U+202E]gnp.exe'],
  ]) assert.equal(v1.safeFileName(name), safe, JSON.stringify(name));
});
