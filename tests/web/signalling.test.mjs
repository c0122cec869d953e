// The signalling messages (gst/web/signalling.js, docs/protocol.md §1):
// the names of §1.2, the example exchange of §1.7 and the ICE servers of
// §1.4, read from the document; the descriptions and candidates of
// tests/unit/test-sdp.c; then what a hostile server or member can send,
// each case on its own: whatever it is, the parsers return a message of
// the kinds the room relies on, or null, and never throw.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as sig from '../../gst/web/signalling.js';
import { cStrings } from './c-vectors.mjs';

const spec = readFileSync(new URL('../../docs/protocol.md', import.meta.url), 'utf8');
const section = (title) => spec.slice(spec.indexOf(title), spec.indexOf('\n### ', spec.indexOf(title) + 1));
const sdp = cStrings('test-sdp.c');
const ID = '0123456789abcdef0123456789abcdef';

test('room and member names (§1.2)', () => {
  for (const room of ['team', 'a', 'A.b_c-9', 'r'.repeat(64)]) assert.equal(sig.checkNames(room, 'alice'), null, room);
  for (const room of ['', 'r'.repeat(65), 'a b', 'ré', 'a/b', 'a\n'])
    assert.match(sig.checkNames(room, 'alice'), /room name/, JSON.stringify(room));
  // Characters, not bytes nor UTF-16 units.
  for (const name of ['a', 'n'.repeat(64), '😀'.repeat(64), 'Zoë van der Berg'])
    assert.equal(sig.checkNames('team', name), null, name);
  for (const name of ['', 'n'.repeat(65), '😀'.repeat(65), 'a\u0000', 'a\u001f', 'a\u007f', 'a\u009f', 'tab\there'])
    assert.match(sig.checkNames('team', name), /name is 1 to 64/, JSON.stringify(name));
});

test('the exchange of §1.7, both ways', () => {
  const lines = [...section('### 1.7 Example').matchAll(/^(→|←) (\{.*\})$/gm)];
  assert.ok(lines.length >= 6, `${lines.length} lines in §1.7`);
  const [join] = lines.filter(([, dir]) => dir === '→').map(([, , json]) => JSON.parse(json));
  // The page says which version it speaks (§1.3).
  assert.deepEqual(JSON.parse(sig.joinMessage(join.room, join.name)), { ...join, version: 1 });
  const received = lines.filter(([, dir]) => dir === '←').map(([, , json]) => sig.parseServerMessage(json));
  assert.deepEqual(received[0], { type: 'welcome', id: '9f0c…', members: [{ id: '41aa…', name: 'bob' }], iceServers: [] });
  assert.deepEqual(received[1], { type: 'signal', from: '41aa…', payload: { type: 'answer', sdp: 'v=0\r\n…' } });
  assert.deepEqual(received[2], { type: 'member-joined', id: '77b2…', name: 'carol' });
  assert.deepEqual(received[3], { type: 'member-left', id: '41aa…' });
  const signal = JSON.parse(sig.signalMessage('41aa…', sig.descriptionPayload('offer', 'v=0\r\n…', 'key')));
  assert.deepEqual(signal, { type: 'signal', to: '41aa…', payload: { type: 'offer', sdp: 'v=0\r\n…', instance: 'key' } });
});

test('the ICE servers of §1.4 are kept whole', () => {
  const m = /^"iceServers": (\[[\s\S]*?^\])$/m.exec(section('### 1.4'));
  assert.ok(m, 'the example of §1.4');
  const servers = JSON.parse(m[1]);
  assert.deepEqual(sig.iceServersOf(servers), servers);
  assert.deepEqual(sig.parseServerMessage(JSON.stringify({ type: 'welcome', id: ID, members: [], iceServers: servers })).iceServers,
    servers);
});

test('ICE servers the browser would refuse are left out, the rest kept', () => {
  const turn = 'turn:198.18.0.1:3478?transport=udp';
  const cases = [
    [undefined, []], // older servers omit it
    [{}, []],
    ['stun:x', []],
    [[null, 7, 'stun:x', {}], []],
    [[{ urls: 'stun:198.18.0.1:3478' }], [{ urls: ['stun:198.18.0.1:3478'] }]],
    [[{ urls: [turn] }], []], // TURN without credentials
    [[{ urls: [turn], username: 'u' }], []],
    [[{ urls: [turn], username: 'u', credential: 7 }], []],
    [[{ urls: [turn, 'stun:s:1'], username: 'u', credential: 'c' }], [{ urls: [turn, 'stun:s:1'], username: 'u', credential: 'c' }]],
    [[{ urls: ['stuns:s:1', 'turn:t:1?transport=dtls', 'http://x', 7, null, 'stun:s:2'] }], [{ urls: ['stun:s:2'] }]],
    // Credentials on a STUN entry are passed on; nothing else of an entry is.
    [[{ urls: ['stun:s:1'], username: 'u', credential: 'c', extra: 1 }], [{ urls: ['stun:s:1'], username: 'u', credential: 'c' }]],
  ];
  for (const [input, want] of cases) assert.deepEqual(sig.iceServersOf(input), want, JSON.stringify(input));
});

test('what a hostile server sends is ignored, or taken only in the kinds the room relies on', () => {
  for (const text of ['', 'not json', '[]', 'null', '7', '"welcome"', '{}', '{"type":7}', '{"type":"nonsense"}',
    '{"type":"member-joined"}', '{"type":"member-joined","id":7}', '{"type":"member-left","id":null}',
    '{"type":"signal","payload":{}}', '{"type":"signal","from":"x"}', '{"type":"signal","from":"x","payload":"offer"}',
    '{"type":"signal","from":7,"payload":{}}', '{"type":"member-joined","id":"x"'])
    assert.equal(sig.parseServerMessage(text), null, text);
  assert.deepEqual(sig.parseServerMessage('{"type":"member-joined","id":"x","name":{"a":1}}'),
    { type: 'member-joined', id: 'x', name: '[object Object]' });
  assert.deepEqual(sig.parseServerMessage('{"type":"member-joined","id":"x"}'), { type: 'member-joined', id: 'x', name: '' });
  const welcome = sig.parseServerMessage(JSON.stringify({
    type: 'welcome', id: ID, members: [null, 7, { name: 'no id' }, { id: 7 }, { id: 'a', name: 'alice' }, { id: 'b' }],
    iceServers: 'stun:x',
  }));
  assert.deepEqual(welcome, { type: 'welcome', id: ID, members: [{ id: 'a', name: 'alice' }, { id: 'b', name: '' }], iceServers: [] });
  assert.deepEqual(sig.parseServerMessage('{"type":"welcome","id":"x","members":{"id":"a"}}').members, []);
  assert.deepEqual(sig.parseServerMessage('{"type":"error","code":"room-full","reason":"the room is full"}'),
    { type: 'error', code: 'room-full', reason: 'the room is full' });
});

test('descriptions and candidates of tests/unit/test-sdp.c', () => {
  assert.equal(sig.ufragOf(sdp.get('chrome_offer')), 'k3Zq');
  assert.equal(sig.ufragOf(sdp.get('chrome_answer')), 'W7uB');
  assert.equal(sig.ufragOf(sdp.get('firefox_offer')), '9a8b7c6d');
  assert.equal(sig.ufragOf('v=0\r\n'), null);
  const candidate = sdp.get('CHROME_CANDIDATE_1');
  // What the browser gathers, as it is signalled (§1.5, §1.6).
  assert.deepEqual(sig.candidatePayload({ candidate, usernameFragment: 'k3Zq' }, 'W7uB'),
    { candidate, sdpMid: '0', sdpMLineIndex: 0, usernameFragment: 'k3Zq' });
  assert.deepEqual(sig.candidatePayload({ candidate, usernameFragment: null }, 'k3Zq').usernameFragment, 'k3Zq');
  // The end of candidates: an empty one.
  assert.deepEqual(sig.candidatePayload(null, 'k3Zq'), { candidate: '', sdpMid: '0', sdpMLineIndex: 0, usernameFragment: 'k3Zq' });
  assert.deepEqual(sig.parsePayload(sig.candidatePayload({ candidate, usernameFragment: 'k3Zq' }, null)),
    { kind: 'candidate', candidate, usernameFragment: 'k3Zq' });
  assert.deepEqual(sig.parsePayload(sig.descriptionPayload('offer', sdp.get('chrome_offer'), 'key')),
    { kind: 'offer', sdp: sdp.get('chrome_offer'), instance: 'key' });
});

test('a member\'s signal payloads (§1.5, §1.6), and malformed ones', () => {
  assert.deepEqual(sig.parsePayload({ type: 'answer', sdp: 'v=0' }), { kind: 'answer', sdp: 'v=0', instance: null });
  assert.deepEqual(sig.parsePayload(sig.connectedPayload('key')), { kind: 'connected', instance: 'key' });
  assert.deepEqual(sig.parsePayload({ type: 'connected', instance: 7 }), { kind: 'connected', instance: null });
  assert.deepEqual(sig.parsePayload(sig.closePayload()), { kind: 'close' });
  assert.deepEqual(sig.parsePayload(sig.idPayload('t'.repeat(64))), { kind: 'id', token: 't'.repeat(64) });
  assert.deepEqual(sig.parsePayload({ candidate: '', usernameFragment: 7 }), { kind: 'candidate', candidate: '', usernameFragment: null });
  for (const bad of [null, 7, 'offer', [], {}, { type: 'offer' }, { type: 'offer', sdp: 7 }, { type: 'answer', sdp: null },
    { candidate: 7 }, { candidate: null, type: 'offer', sdp: 'v=0' }, { type: 'id' }, { type: 'id', token: 7 },
    { type: 'id', token: 't'.repeat(65) }, { type: 'nonsense' }, { type: ['offer'], sdp: 'v=0' }])
    assert.equal(sig.parsePayload(bad), null, JSON.stringify(bad));
});

test('control channel messages (§1.6), and malformed ones', () => {
  assert.deepEqual(sig.parseControl('{"type":"ping"}'), { type: 'ping' });
  assert.deepEqual(sig.parseControl('{"type":"pong","extra":[1]}'), { type: 'pong' });
  assert.deepEqual(sig.parseControl('{"type":"auth","proof":"ab"}'), { type: 'auth', proof: 'ab' });
  assert.deepEqual(sig.parseControl(`{"type":"id","id":"${ID}","token":"t"}`), { type: 'id', id: ID, token: 't' });
  // §4.1: versions it does not know are the receiver's to skip.
  assert.deepEqual(sig.parseControl('{"type":"capabilities","transfer":[1,2,9]}'), { type: 'capabilities', transfer: [1, 2, 9] });
  assert.deepEqual(sig.parseControl('{"type":"capabilities","transfer":[]}'), { type: 'capabilities', transfer: [] });
  for (const bad of ['', 'not json', 'null', '[]', '7', '"ping"', '{}', '{"type":"auth"}', '{"type":"auth","proof":7}',
    '{"type":"id","id":"x"}', '{"type":"id","token":"t"}', '{"type":"id","id":7,"token":"t"}',
    '{"type":"capabilities"}', '{"type":"capabilities","transfer":2}', '{"type":"capabilities","transfer":[1,0]}',
    '{"type":"capabilities","transfer":[1,"2"]}', '{"type":"capabilities","transfer":[1.5]}',
    '{"type":"capabilities","transfer":[-1]}', '{"type":"ping"'])
    assert.equal(sig.parseControl(bad), null, bad);
});
