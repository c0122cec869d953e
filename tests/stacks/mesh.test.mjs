// One room with both stacks and two pipelines: hangoutsrc (num-files=3)
// joins first, then the libdatachannel and libwebrtc members, then
// hangoutsink (min-peers=3), which offers to all three. Once the mesh is
// complete the sink and both stack members share a file each, at once:
// every member gets every other member's file, SHA-256 checked, and the
// sink declines the stacks' files (§2.2 reject) instead of acking them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import {
  NETWORK, CONNECT_MS, TRANSFER_MS, TEST_MS, openRoom, assertExitsCleanly, sinkResult, srcCompletes,
} from './harness.mjs';
import { sha256 } from './transfer.mjs';

const SIZE = 3 * 1024 * 1024 + 777;

// Both native stacks in one node process crash it now and then (SIGSEGV,
// on loopback and on veth: each bundles its own WebRTC libraries), so this
// room waits for members that run in processes of their own; the stacks
// are loaded only when it runs.
const skip = 'both native stacks in one node process crash it intermittently';

test(`${NETWORK}: both stacks and two pipelines in one room`, { timeout: TEST_MS, skip }, async (t) => {
  const { stack: datachannel } = await import('./datachannel.mjs');
  const { stack: wrtc } = await import('./wrtc.mjs');
  const room = await openRoom(t);
  const src = room.src({ numFiles: 3 });
  await room.waitMembers(1);
  const members = [];
  for (const stack of [datachannel, wrtc]) {
    members.push(await room.join(stack, stack.name));
    await room.waitMembers(members.length + 1);
  }
  const sinkFile = randomBytes(SIZE);
  const sink = room.sink(null, { minPeers: 3 });
  const [dc, webrtc] = members;
  const shared = new Map([['sink', sinkFile]]);
  for (const m of members) {
    const others = ['src', 'sink', ...members.filter((o) => o !== m).map((o) => o.name)];
    const pairs = await m.waitConnected(others, CONNECT_MS);
    // Offers went to those who were there: the later member offered.
    assert.deepEqual(pairs.map((p) => p.offerer), others.map((o) => o === webrtc.name && m === dc ? false
      : o === 'src' || (o === dc.name && m === webrtc)),
    `${m.name}: who offered to whom`);
    for (const p of pairs.slice(0, 2)) await room.checkPath(p);
    shared.set(m.name, randomBytes(SIZE));
  }

  const answers = await Promise.all(members.map((m) => m.share(`${m.name}.bin`, shared.get(m.name))));
  for (const [i, m] of members.entries()) {
    const digest = sha256(shared.get(m.name));
    const other = members[1 - i].name;
    assert.deepEqual(answers[i].get('src'), { ack: true, ok: true, sha256: digest }, `${m.name} → src`);
    assert.deepEqual(answers[i].get(other), { ack: true, ok: true, sha256: digest }, `${m.name} → ${other}`);
    assert.deepEqual(answers[i].get('sink'), { rejected: 'this member only shares files (hangoutsink)' },
      `${m.name} → sink`);
  }
  sink.child.stdin.end(sinkFile);
  for (const [i, m] of members.entries()) {
    for (const from of ['sink', members[1 - i].name]) {
      const file = await m.waitFile(from, TRANSFER_MS);
      assert.equal(sha256(file.bytes), sha256(shared.get(from)), `${from} → ${m.name}`);
    }
  }

  await assertExitsCleanly(sink);
  assert.deepEqual(sinkResult(sink.output), { result: 'complete', bytes: SIZE }, 'hangoutsink: every member has the file');
  await assertExitsCleanly(src);
  // One byte stream, the files one after the other in the order they completed.
  const completes = srcCompletes(src.output);
  const byName = new Map([['sink.bin', 'sink'], [`${dc.name}.bin`, dc.name], [`${webrtc.name}.bin`, webrtc.name]]);
  assert.deepEqual(completes.map((c) => c.name).sort(), [...byName.keys()].sort());
  for (const c of completes) assert.equal(c.sha256, sha256(shared.get(byName.get(c.name))), `${c.name} → src`);
  assert.equal(sha256(readFileSync(src.out)),
    sha256(Buffer.concat(completes.map((c) => shared.get(byName.get(c.name))))), 'hangoutsrc\'s output');
  for (const m of members) assert.deepEqual(m.serverErrors, [], `${m.name}: errors from the server`);
});
