// The hostile-member suite: one test per batch of the catalogue
// (catalogue.mjs), each against fresh victims (harness.mjs): hangoutsrc
// with num-files=1 and num-files=0 into filesinks, examples/hangout-receive,
// and the hangoutsink that shares the legitimate file afterwards.
// Every assertion is about what a user sees: bytes, digests, exit statuses,
// the files in a directory.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import WebSocket from 'ws';
import { runBatch, SLOW } from './harness.mjs';
import {
  sha256, newId, offer, data, EMPTY, DEEP, malformedText, wrongTypes, hostileNames, badData,
} from './catalogue.mjs';

const RECEIVERS = ['src1', 'src0', 'recv'];
const BATCH_MS = 120000 * SLOW;

// To one victim after the other, a few hundred messages at a time: with
// tens of thousands queued for several peers at once, libdatachannel
// (0.33) stops sending to some of them, and the batch would not arrive.
// Whether a stall that remains is the victim's or our stack's cannot be
// told from here (the victim's answers stop reaching us after about 1 MiB
// of them, which an ad-hoc client with the same load does not see), so
// it is noted, and the victim is judged by what users see: the share
// that follows, its memory, its exit.
async function sendAll(ctx, names, messages, channel = 'app') {
  for (const n of names) {
    const p = ctx.peer(n);
    try {
      for (let i = 0; i < messages.length; i++) {
        if (channel === 'app') p.sendApp(messages[i]); else p.sendControl(messages[i]);
        if (i % 500 === 499) await p.flush(10000 * SLOW);
      }
      await p.flush(10000 * SLOW);
    } catch (e) {
      console.log(`# note: ${n} did not take the whole batch: ${e.message}`);
    }
  }
}

async function batch(spec) {
  const failures = await runBatch(spec);
  assert.equal(failures.length, 0, `\n${failures.join('\n')}`);
}

// A whole, valid file as a sender sends it (offer, data, end).
function wholeFile(name, bytes, chunk = 65536) {
  const id = newId();
  const out = [offer({ id, name, size: bytes.length, 'chunk-size': chunk })];
  const step = chunk - 25;
  for (let o = 0; o < bytes.length; o += step) out.push(data(id, o, bytes.subarray(o, o + step)));
  out.push(JSON.stringify({ type: 'end', id, size: bytes.length, sha256: sha256(bytes) }));
  return out;
}

// Files that go wrong before any of their bytes could be passed on, one
// per way of going wrong (§2.3, §2.4); named for the way.
function brokenFiles() {
  const out = [];
  const file = (kind, fields, ...rest) => {
    const id = newId();
    out.push(offer({ id, name: `broken-${kind}`, ...fields }), ...rest.map((r) => (typeof r === 'function' ? r(id) : r)));
  };
  file('past-size', { size: 10 }, (id) => data(id, 0, randomBytes(20)));
  file('wrong-offset', { size: 100 }, (id) => data(id, 1, randomBytes(10)));
  file('huge-offset', { size: 100 }, (id) => data(id, 2n ** 63n, randomBytes(10)));
  file('over-chunk-size', { size: 1000, 'chunk-size': 100 }, (id) => data(id, 0, randomBytes(200)));
  file('end-short', { size: 100 }, (id) => JSON.stringify({ type: 'end', id, size: 100, sha256: sha256(Buffer.alloc(0)) }));
  file('end-wrong-digest', { size: 0 }, (id) => JSON.stringify({ type: 'end', id, size: 0, sha256: sha256(Buffer.from('x')) }));
  file('end-other-size', { size: 0 }, (id) => JSON.stringify({ type: 'end', id, size: 5, sha256: sha256(Buffer.alloc(0)) }));
  file('offered-twice', { size: 100 }, (id) => offer({ id, name: 'broken-offered-twice-again', size: 100 }));
  file('aborted', { size: 100 }, (id) => JSON.stringify({ type: 'abort', id, reason: 'x'.repeat(10000) }));
  // Larger than the receiver's max-message-size (our stack was told the
  // victim takes anything).
  file('oversized-data', { size: 2 << 20 }, (id) => data(id, 0, randomBytes(1 << 20)));
  file('unknown-size-wrong-offset', { size: null }, (id) => data(id, 7, randomBytes(10)));
  for (const type of ['end', 'abort', 'ack', 'reject']) {
    out.push(JSON.stringify({ type, id: newId(), size: 0, sha256: sha256(Buffer.alloc(0)), ok: true, reason: 'x' }));
  }
  return out;
}

for (const [what, messages] of [['the empty text message', EMPTY], ['deep JSON (250,000 [)', DEEP],
  ['non-JSON, non-objects, NUL, lone surrogates, over 64 KiB, 1 MiB', malformedText()]]) {
  test(`transfer control: ${what}`, { timeout: BATCH_MS }, () => batch({
    sharerFirst: true,
    async attack(ctx) {
      await sendAll(ctx, [...RECEIVERS, 'sharer'], messages);
    },
  }));
}

test('transfer control: every member of offer, end and abort with every wrong kind of value', { timeout: BATCH_MS }, () => batch({
  async attack(ctx) {
    const msgs = wrongTypes();
    // A name with U+0000, which a C string cuts short, then withdrawn.
    const id = newId();
    msgs.push(offer({ id, name: 'nul\u0000after.bin' }), JSON.stringify({ type: 'abort', id, reason: 'x' }));
    await sendAll(ctx, RECEIVERS, msgs);
  },
}));

// The victim's answer (ack or reject) to file `id`.
function answer(peer, id, ms = 10000) {
  return peer.wait(() => peer.appMessages.map((m) => {
    try { return typeof m === 'string' ? JSON.parse(m) : null; } catch { return null; }
  }).find((m) => m && m.id === id && (m.type === 'ack' || m.type === 'reject')), ms, `an answer to ${id}`);
}

test('transfer: whole files with hostile names (control chars, ESC/BEL/CR, U+202E, ../, absolute, 4 KB)', { timeout: BATCH_MS }, () => {
  const files = [];
  return batch({
    // Not to src1: hangoutsrc num-files=1 would rightly take the first of them.
    get also() {
      return { src0: files.map((f) => f.bytes), recv: files };
    },
    async attack(ctx) {
      const targets = ['src0', 'recv'];
      // One file at a time, as a sender does: each answered, and output,
      // before the next (a receiver holds at most 16 files at once, §2.5).
      for (const name of hostileNames(ctx.top)) {
        const bytes = randomBytes(1 + Math.floor(Math.random() * 3000));
        const msgs = wholeFile(name, bytes);
        const id = JSON.parse(msgs[0]).id;
        await sendAll(ctx, targets, msgs);
        // Names over 1024 bytes are refused with the reason §2.5 gives.
        const tooLong = Buffer.byteLength(name) > 1024;
        for (const v of targets) {
          const a = await answer(ctx.peer(v), id);
          const want = tooLong ? { type: 'reject', reason: 'name longer than 1024 bytes' } : { type: 'ack', ok: true };
          const got = tooLong ? { type: a.type, reason: a.reason?.slice(0, 27) } : { type: a.type, ok: a.ok };
          assert.deepEqual(got, want, `${v}'s answer to ${JSON.stringify(name.slice(0, 40))}`);
        }
        if (tooLong) continue;
        files.push({ name, bytes });
        const n = files.length;
        await ctx.victims.src0.waitForOutput((o) => o.split('hangout-file-complete').length > n, 10000, `${n} files complete`);
        await ctx.victims.recv.waitForOutput((o) => o.split('\nsaved \'').length > n, 10000, `${n} files saved`);
      }
      const id = newId();
      ctx.peer('recv').sendApp(offer({ id, name: 'long-mime', mime: 'm'.repeat(256) }));
      const a = await answer(ctx.peer('recv'), id);
      assert.deepEqual([a.type, a.reason?.slice(0, 26)], ['reject', 'mime longer than 255 bytes']);
    },
  });
});

test('transfer: 20,000 offers of 1 KB names never followed by data', { timeout: BATCH_MS }, () => batch({
  drainMs: 20000,
  async attack(ctx) {
    const msgs = [];
    for (let i = 0; i < 20000; i++) msgs.push(offer({ name: `stalled-${i}-${'s'.repeat(1000)}`, size: 1 << 20 }));
    await sendAll(ctx, RECEIVERS, msgs);
  },
}));

test('transfer: broken files (past the size, wrong offsets, end with wrong size/digest, oversized), binary garbage, ack/reject to a receiver', { timeout: BATCH_MS }, () => {
  const partial = [];
  return batch({
    sharerFirst: true,
    async attack(ctx) {
      await sendAll(ctx, [...RECEIVERS, 'sharer'], [...badData(), ...brokenFiles()]);
      // Bytes then a wrong digest, and bytes then an abort: only to
      // hangout-receive, which must throw them away (a filesink cannot
      // take bytes back).
      const bytes = randomBytes(5000);
      const id = newId();
      partial.push(offer({ id, name: 'partial-bad-digest', size: bytes.length }), data(id, 0, bytes),
        JSON.stringify({ type: 'end', id, size: bytes.length, sha256: sha256(Buffer.from('other')) }));
      const id2 = newId();
      partial.push(offer({ id: id2, name: 'partial-aborted', size: null }), data(id2, 0, bytes),
        JSON.stringify({ type: 'abort', id: id2, reason: 'gone' }));
      await sendAll(ctx, ['recv'], partial);
    },
  });
});

test("transfer: another member's file id (offer, data, end, abort) and lies to the sharer (ack, reject)", { timeout: BATCH_MS }, () => batch({
  sharerPeers: 4,
  async onShare(ctx, o, sharerPeer) {
    // Its data and abort before our offer of the same id are for a file we
    // never offered; after it, our impostor fails at its first byte (wrong
    // offset), so that no receiver can have passed any of it on.
    const fake = randomBytes(Math.min(o.size ?? 1000, 1000));
    await sendAll(ctx, RECEIVERS, [
      data(o.id, 0, fake),
      JSON.stringify({ type: 'abort', id: o.id, reason: 'hijacked' }),
      JSON.stringify({ type: 'end', id: o.id, size: o.size, sha256: sha256(fake) }),
      offer({ id: o.id, name: o.name, size: o.size }),
      data(o.id, 1, fake),
      JSON.stringify({ type: 'end', id: o.id, size: o.size, sha256: sha256(fake) }),
    ]);
    for (const m of [
      'garbage',
      JSON.stringify({ type: 'ack', id: o.id, ok: false, sha256: sha256(fake) }),
      JSON.stringify({ type: 'ack', id: o.id, ok: true, sha256: 'f'.repeat(64) }),
      JSON.stringify({ type: 'reject', id: o.id, reason: 'r'.repeat(60000) }),
      JSON.stringify({ type: 'ack', id: newId(), ok: true, sha256: null }),
      JSON.stringify({ type: 'ack', id: o.id, ok: 'yes', sha256: 1 }),
      JSON.stringify({ type: 'abort', id: o.id, reason: 'receiver aborting' }),
      JSON.stringify({ type: 'end', id: o.id, size: 0, sha256: sha256(Buffer.alloc(0)) }),
      offer({ name: 'to-the-sharer' }), data(o.id, 0, fake), randomBytes(3),
    ]) sharerPeer.sendApp(m);
  },
  async check(ctx, fail) {
    // The sharer counted the victims' acknowledgements, not our lies: it
    // names no victim as failed and waited for none in vain.
    for (const line of ctx.sharer().output.split('\n')) {
      if (/did not acknowledge/.test(line)) fail('sharer', line);
      if (/did not receive the file intact/.test(line) && !line.includes(`(${ctx.hostile.id})`)) fail('sharer', line);
    }
  },
}));

const CONTROL_WRONG = ['{"type":"id"}', '{"type":"id","id":null}', '{"type":"id","id":1}', '{"type":"id","id":{}}',
  '{"type":"id","id":""}', `{"type":"id","id":"${'x'.repeat(60000)}"}`, ...Array(100).fill('{"type":"pong"}')];
for (const [what, messages] of [['the empty message', EMPTY], ['deep JSON (250,000 [)', DEEP],
  ['non-JSON, wrong types, unsolicited pongs, binary', [...malformedText(), ...CONTROL_WRONG, randomBytes(0), randomBytes(100)]],
  ['5,000 pings', Array(5000).fill('{"type":"ping"}')]]) {
  test(`control channel: ${what}`, { timeout: BATCH_MS }, () => batch({
    sharerFirst: true,
    async attack(ctx) {
      await sendAll(ctx, [...RECEIVERS, 'sharer'], messages, 'control');
    },
  }));
}

test("control channel: {\"type\":\"id\"} with another member's id does not evict that member", { timeout: BATCH_MS }, () => batch({
  sharerFirst: true,
  async attack(ctx) {
    const { hostile } = ctx;
    // A claim without a token, one with a token whose signal half comes
    // from our own id (the server stamps `from`: §1.6's proof cannot
    // come from the claimed id), and the signal half sent first.
    const claim = (victim, target) => {
      const token = newId();
      hostile.signal(ctx.id(victim), { type: 'id', token });
      ctx.peer(victim).sendControl(JSON.stringify({ type: 'id', id: ctx.id(target) }));
      ctx.peer(victim).sendControl(JSON.stringify({ type: 'id', id: ctx.id(target), token }));
      hostile.signal(ctx.id(victim), { type: 'id', token });
    };
    for (const v of RECEIVERS) claim(v, 'sharer');
    claim('sharer', 'src1');
    claim('sharer', 'recv');
    claim('src0', 'src1');
  },
}));

test('signalling: garbage offers, answers and candidates; bad frames to the server; names with control characters', { timeout: BATCH_MS }, () => batch({
  hostileName: '\u202Eevil\u200B hostile',
  async attack(ctx) {
    const { hostile } = ctx;
    const payloads = [
      { type: 'offer', sdp: 'garbage', instance: 'i' },
      { type: 'offer', sdp: '' }, { type: 'offer', sdp: 1 }, { type: 'offer', sdp: null }, { type: 'offer' },
      { type: 'offer', sdp: 'v=0\r\n' + 'a=x\r\n'.repeat(5000) },
      { type: 'offer', sdp: 'v=0\r\no=- 0 0 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\nm=application 9 UDP/DTLS/SCTP webrtc-datachannel\r\n' },
      { type: 'answer', sdp: 'garbage' }, { type: 'answer', sdp: 7 },
      { candidate: 'garbage', sdpMid: '0', sdpMLineIndex: 0 },
      { candidate: 'candidate:1 1 UDP 2122260223 127.0.0.1 1 typ host', sdpMid: '0', sdpMLineIndex: 0 },
      { candidate: 'candidate:' + 'f'.repeat(50000) + ' 1 UDP 1 127.0.0.1 9 typ host', sdpMid: '0' },
      { candidate: 'candidate:1 1 UDP 1 999.1.1.1 70000 typ host', sdpMid: '0' },
      { candidate: 7, sdpMid: 0, usernameFragment: 5 }, { candidate: null }, { candidate: {} },
      { candidate: 'candidate:1 1 UDP 1 127.0.0.1 9 typ host', usernameFragment: 'x'.repeat(1000) },
      { type: 'connected', instance: 'nobody' }, { type: 'connected', instance: 5 }, { type: 'connected' },
      { type: 'close' }, { type: 'close', instance: 'x' }, { type: 'x'.repeat(1000) }, { type: 7 }, {},
    ];
    for (const v of RECEIVERS) await hostile.signalPaced(ctx.id(v), payloads);
    // Frames the server must refuse, not pass on.
    for (const f of ['garbage', '[]', 'null', '{"type":"signal","to":5,"payload":{}}',
      `{"type":"signal","to":"${ctx.id('src1')}","payload":"not an object"}`,
      `{"type":"signal","to":"${ctx.id('src1')}"}`, '{"type":"join","room":"x","name":"y"}',
      '{"type":"signal","to":"' + '0'.repeat(32) + '","payload":{}}', '['.repeat(30000)]) hostile.raw(f);
    hostile.ws.send(randomBytes(100));
    // Display names with control characters are refused (§1.2).
    for (const name of ['esc\x1b[2J', 'bell\x07', 'cr\rlf\n', 'c1\u009b', 'del\x7f']) {
      const ws = new WebSocket(ctx.server.url);
      const reply = await new Promise((resolve, reject) => {
        const t = setTimeout(() => reject(new Error(`no answer to a join named ${JSON.stringify(name)}`)), 5000);
        ws.on('open', () => ws.send(JSON.stringify({ type: 'join', room: hostile.room, name })));
        ws.on('message', (d) => { clearTimeout(t); resolve(JSON.parse(String(d))); });
        ws.on('error', reject);
      });
      ws.close();
      assert.deepEqual([reply.type, reply.code], ['error', 'bad-name'], `join named ${JSON.stringify(name)}`);
    }
  },
}));

test("signalling: an offer with another member's instance key, then close, takes nothing over", { timeout: BATCH_MS }, () => batch({
  sharerFirst: true,
  async attack(ctx) {
    const { hostile } = ctx;
    const sharerKey = ctx.peer('sharer').remoteInstance;
    const src1Key = ctx.peer('src1').remoteInstance;
    assert.ok(sharerKey && src1Key, 'the victims answered with their instance keys');
    for (const v of RECEIVERS) {
      hostile.signal(ctx.id(v), { type: 'offer', sdp: 'v=0\r\n', instance: sharerKey });
      hostile.signal(ctx.id(v), { type: 'close' });
    }
    hostile.signal(ctx.id('sharer'), { type: 'offer', sdp: 'v=0\r\n', instance: src1Key });
    hostile.signal(ctx.id('sharer'), { type: 'close' });
  },
}));

test("signalling: `connected` answers with other members' instance keys, then close, take nothing over", { timeout: BATCH_MS }, () => batch({
  beforeShare(ctx) {
    // The sharer's offer to us waits until it is connected to every victim.
    ctx.hostile.holdOffers = true;
  },
  async afterShareStarted(ctx) {
    const { hostile } = ctx;
    const sharer = ctx.sharer();
    for (const v of RECEIVERS) {
      await sharer.waitForOutput(new RegExp(`hangout-member-joined, id=\\(string\\)${ctx.id(v)}`), 20000, `${v} connected`);
    }
    await hostile.wait(() => hostile.heldOffers?.length, 10000, "the sharer's offer");
    const sharerId = hostile.heldOffers[0].from;
    for (const v of RECEIVERS) {
      hostile.signal(sharerId, { type: 'connected', instance: ctx.peer(v).remoteInstance });
      hostile.signal(sharerId, { type: 'close' });
    }
  },
}));
