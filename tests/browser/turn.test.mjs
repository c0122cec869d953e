// Pages behind "NATs" of their own making: with ?relay=1 (iceTransportPolicy
// relay) a page may only use relayed candidates, so it connects only through
// the TURN server the signalling server hands out in its welcome
// (hangout-server --turn-server, with TURN REST credentials from
// --turn-secret). coturn runs on the namespace's veth address (run.sh).
// Two pages connect through it, and a relay-only hangoutsink shares a file
// with a page through it. Skipped without coturn's turnserver.
import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { createHash, createHmac, randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync, readFileSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startServer, launchBrowser, waitConnected, receivedFile, gstLaunch } from './lib.mjs';

const ADDRESS = '198.18.0.1'; // hw0, run.sh
const SECRET = 'browser suite secret';
const haveTurn = spawnSync('sh', ['-c', 'command -v turnserver']).status === 0;

let server, chrome, dir, turn;
const turnLog = () => (existsSync(join(dir, 'turn.log')) ? readFileSync(join(dir, 'turn.log'), 'utf8') : '');

async function until(cond, timeoutMs, what) {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`${what} within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 100)); // coturn's log file: nothing to wait on
  }
}

before(async () => {
  if (!haveTurn) return;
  dir = mkdtempSync(join(tmpdir(), 'hangout-turn-'));
  writeFileSync(join(dir, 'secret'), `${SECRET}\n`);
  turn = spawn('turnserver', ['-n', `--listening-ip=${ADDRESS}`, `--relay-ip=${ADDRESS}`,
    '--listening-port=3478', '--min-port=49152', '--max-port=49999', '--use-auth-secret',
    `--static-auth-secret=${SECRET}`, '--realm=hangout.test', '--no-tls', '--no-dtls', '--no-cli',
    '--verbose', '--simple-log', `--log-file=${join(dir, 'turn.log')}`,
    `--userdb=${join(dir, 'turndb')}`, `--pidfile=${join(dir, 'turn.pid')}`], { stdio: 'ignore' });
  await until(() => turnLog().includes(`UDP listener opened on: ${ADDRESS}:3478`), 10000,
    'coturn listening');
  server = await startServer(['--turn-server', `turn:${ADDRESS}:3478?transport=udp`,
    '--turn-secret', join(dir, 'secret')]);
  chrome = await launchBrowser();
});
after(async () => {
  await chrome?.close();
  await server?.stop();
  turn?.kill('SIGTERM');
  if (dir) rmSync(dir, { recursive: true, force: true });
});

// The types of the selected pair's candidates of the page's first peer.
function selectedPair(page) {
  return page.evaluate(async () => {
    const peer = [...window.hangout.peers.values()][0];
    const stats = await peer.pc.getStats();
    for (const report of stats.values()) {
      if (report.type !== 'transport' || !report.selectedCandidatePairId) continue;
      const pair = stats.get(report.selectedCandidatePairId);
      return [stats.get(pair.localCandidateId).candidateType,
        stats.get(pair.remoteCandidateId).candidateType];
    }
    return null;
  });
}

test('two relay-only pages connect through the welcome\'s TURN server', { skip: !haveTurn, timeout: 60000 },
  async () => {
    const alice = await chrome.newPage(`${server.http}/?room=turn&name=alice&relay=1`);
    await alice.waitForFunction(() => window.hangout?.ownId, null, { timeout: 10000 });
    const servers = await alice.evaluate(() => window.hangout.iceServers);
    assert.equal(servers.length, 1);
    assert.deepEqual(servers[0].urls, [`turn:${ADDRESS}:3478?transport=udp`]);
    assert.match(servers[0].username, /^\d{10}:[0-9a-f]{32}$/);
    // base64 (HMAC-SHA1 (secret, username)): the TURN REST scheme.
    assert.equal(servers[0].credential,
      createHmac('sha1', SECRET).update(servers[0].username).digest('base64'));
    const bob = await chrome.newPage(`${server.http}/?room=turn&name=bob&relay=1`);
    await waitConnected(alice, 1);
    await waitConnected(bob, 1);
    assert.deepEqual(await selectedPair(alice), ['relay', 'relay']);
    assert.deepEqual(await selectedPair(bob), ['relay', 'relay']);
    // Each page allocated with credentials of its own.
    const users = new Set([...turnLog().matchAll(/new, realm=<hangout\.test>, username=<(\d+:[0-9a-f]+)>/g)]
      .map((m) => m[1]));
    assert.ok(users.size >= 2, `coturn saw ${users.size} users:\n${turnLog()}`);
    await alice.context().close();
    await bob.context().close();
  });

test('a relay-only pipeline shares a file with a relay-only page through TURN', { skip: !haveTurn, timeout: 90000 },
  async () => {
    const data = randomBytes(4 * 1024 * 1024 + 3);
    writeFileSync(join(dir, 'relayed.bin'), data);
    const page = await chrome.newPage(`${server.http}/?room=turn-gst&name=web&relay=1`);
    await page.waitForFunction(() => window.hangout?.ownId, null, { timeout: 10000 });
    const sender = gstLaunch(['filesrc', `location=${join(dir, 'relayed.bin')}`, '!', 'hangoutsink',
      'room=turn-gst', `server=${server.wsUrl}`, 'display-name=gst', 'relay-only=true', 'min-peers=1'],
    80000);
    await waitConnected(page, 1);
    assert.deepEqual(await selectedPair(page), ['relay', 'relay']);
    const result = await sender.done;
    assert.equal(result.code, 0, `the sender failed:\n${result.output}`);
    const want = createHash('sha256').update(data).digest('hex');
    assert.deepEqual(await receivedFile(page, 'relayed.bin'), { size: data.length, sha256: want, linkSha256: want });
    await page.context().close();
  });
