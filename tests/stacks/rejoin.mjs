// §1.6 across stacks: the server restarts while a stack's member and
// hangoutsrc are connected. Both lose their WebSocket, keep their peer
// connection, rejoin under new ids and prove them to each other (a token on
// the control channel and through the server); whoever rejoins later offers
// and is answered "connected". The pair must survive as the one connection
// it was, filed under the pipeline's new id, and still carry a file.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import {
  NETWORK, CONNECT_MS, TRANSFER_MS, TEST_MS, openRoom, assertExitsCleanly, srcCompletes,
} from './harness.mjs';
import { sha256 } from './transfer.mjs';

const SIZE = 1024 * 1024 + 99;

export function rejoinTest(stack) {
  test(`${NETWORK}: ${stack.name} and hangoutsrc keep their connection across a server restart`, { timeout: TEST_MS }, async (t) => {
    const room = await openRoom(t);
    const src = room.src();
    await room.waitMembers(1);
    const member = await room.join(stack, stack.name);
    const [pair] = await member.waitConnected(['src'], CONNECT_MS);
    const oldIds = { member: member.id, src: pair.id };

    await room.restartServer();
    await room.waitMembers(2, CONNECT_MS);
    await member.wait(() => member.id !== oldIds.member && pair.id !== oldIds.src
      && member.names.get(pair.id) === 'src', CONNECT_MS, 'the pipeline\'s new id proven');
    assert.deepEqual([...member.pairs.values()], [pair], 'one connection, the one from before');
    assert.equal(pair.open, true);

    const original = randomBytes(SIZE);
    const answers = await member.share('after-restart.bin', original);
    assert.deepEqual(answers.get('src'), { ack: true, ok: true, sha256: sha256(original) });
    await assertExitsCleanly(src);
    assert.deepEqual(srcCompletes(src.output), [{ name: 'after-restart.bin', sha256: sha256(original) }]);
    assert.equal(sha256(readFileSync(src.out)), sha256(original));
    assert.deepEqual(member.serverErrors.filter((e) => e.code !== 'no-such-member'), [],
      'errors from the server (a proof sent to an id that rejoined is refused)');
  });
}
