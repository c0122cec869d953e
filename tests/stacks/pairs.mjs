// One member on each stack we did not write, alone in a room with one
// pipeline: it receives a file from hangoutsink and shares one with
// hangoutsrc, in both join orders (whoever joins later offers, §1.5), on
// this pass's network (harness.mjs). What is checked is what users see:
// the bytes and SHA-256 each side got, the acks, the pipelines' exits.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import {
  NETWORK, CONNECT_MS, TRANSFER_MS, TEST_MS, openRoom, assertExitsCleanly, sinkResult, srcCompletes,
} from './harness.mjs';
import { sha256 } from './transfer.mjs';

const SIZE = 4 * 1024 * 1024 + 12345;   // not a multiple of any chunk

// Joins the stack's member and the pipeline in the given order; returns
// the member and its pair with the pipeline, checked against the order.
async function meet(room, stack, stackFirst, startPipeline, pipelineName) {
  let member;
  let pipeline;
  if (stackFirst) {
    member = await room.join(stack, stack.name);
    pipeline = startPipeline();
  } else {
    pipeline = startPipeline();
    await room.waitMembers(1);
    member = await room.join(stack, stack.name);
  }
  const [pair] = await member.waitConnected([pipelineName], CONNECT_MS);
  assert.equal(pair.offerer, !stackFirst, 'the member that joins later offers');
  if (stackFirst) {
    // The member answers: its DTLS ClientHello reaches the pipeline before
    // the answer does, and must be kept, not dropped and retransmitted by
    // the member's DTLS one second later.
    assert.ok(pair.openMs < 600, `connected ${Math.round(pair.openMs)} ms after the offer`);
  }
  await room.checkPath(pair);
  return { member, pipeline, pair };
}

// The pairs' tests for one stack (each stack's test file calls it: one
// native WebRTC stack per node process).
export function pairTests(stack) {
  for (const stackFirst of [true, false]) {
    const order = stackFirst ? `${stack.name} joins first` : 'the pipeline joins first';

    test(`${NETWORK}: ${stack.name} receives from hangoutsink (${order})`, { timeout: TEST_MS }, async (t) => {
      const room = await openRoom(t);
      const original = randomBytes(SIZE);
      const { member, pipeline: sink } = await meet(room, stack, stackFirst, () => room.sink(original), 'sink');
      const file = await member.waitFile('sink', TRANSFER_MS);
      assert.equal(file.name, 'sink.bin');
      assert.equal(file.bytes.length, SIZE);
      assert.equal(sha256(file.bytes), sha256(original));
      await assertExitsCleanly(sink);
      assert.deepEqual(sinkResult(sink.output), { result: 'complete', bytes: SIZE }, 'hangoutsink: every member has the file');
      assert.deepEqual(member.serverErrors, []);
    });

    test(`${NETWORK}: ${stack.name} shares with hangoutsrc (${order})`, { timeout: TEST_MS }, async (t) => {
      const room = await openRoom(t);
      const original = randomBytes(SIZE);
      const { member, pipeline: src } = await meet(room, stack, stackFirst, () => room.src(), 'src');
      const answers = await member.share('from-stack.bin', original);
      assert.deepEqual(answers.get('src'), { ack: true, ok: true, sha256: sha256(original) },
        `hangoutsrc's answer; ${stack.name}'s log:\n${member.logs.slice(-10).join('\n')}`);
      await assertExitsCleanly(src);
      assert.deepEqual(srcCompletes(src.output), [{ name: 'from-stack.bin', sha256: sha256(original) }]);
      assert.equal(sha256(readFileSync(src.out)), sha256(original));
      assert.deepEqual(member.serverErrors, []);
    });
  }
}

// §1.8: a member that reads no datagram over 1232 bytes and never says
// otherwise must get none, even when its stack's answer repeats the
// offer's attributes (hangoutsink offers here: it joins later).
export function autoAnswerTest(autoAnswerStack) {
test(`${NETWORK}: ${autoAnswerStack.name} answers as it does by default and receives from hangoutsink`, { timeout: TEST_MS }, async (t) => {
  const room = await openRoom(t);
  const original = randomBytes(SIZE);
  const { member, pipeline: sink } = await meet(room, autoAnswerStack, true, () => room.sink(original), 'sink');
  const file = await member.waitFile('sink', TRANSFER_MS);
  assert.equal(sha256(file.bytes), sha256(original));
  await assertExitsCleanly(sink);
  assert.deepEqual(sinkResult(sink.output), { result: 'complete', bytes: SIZE }, 'hangoutsink: every member has the file');
});
}
