// The room secret and the short authentication string (docs/protocol.md
// §3) in the page: the construction against fixed vectors (also computed
// with Python's hmac/hashlib), two pages with one secret connect and show
// the same code, and pages with another secret, or none, are refused with
// the reason.
import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startServer, startRoomPeer, launchBrowser, waitConnected, receivedFile } from './lib.mjs';
import { roomKey, authProof, shortAuthString, fingerprintOf } from '../../gst/web/auth.js';

let server, chrome, dir;
const cpeers = [];
before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'hangout-secret-'));
  server = await startServer();
  chrome = await launchBrowser();
});
after(async () => {
  for (const p of cpeers) await p.stop();
  await chrome?.close();
  await server?.stop();
  rmSync(dir, { recursive: true, force: true });
});

const hex = (bytes) => Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');

test('the construction gives the protocol\'s test vectors', () => {
  const key = roomKey('correct horse', 'team');
  assert.equal(hex(key), 'a4ad6277687bb76c5416439d7e2c2ff8c916e276f598bb800e0811cd5d35711b');
  const fpA = `sha-256 ${Array(32).fill('AB').join(':')}`;
  const fpB = `sha-256 ${Array(32).fill('01').join(':')}`;
  assert.equal(authProof(key, fpA, fpB, '0'.repeat(32), 'f'.repeat(32)),
    '7a58de78640755bedbc9cbfd2a4aace37938ae4a8284447c34be01788500050c');
  assert.equal(shortAuthString(fpA, fpB), '395874');
  assert.equal(shortAuthString(fpB, fpA), '395874');
  assert.equal(fingerprintOf('v=0\r\na=fingerprint:SHA-256 ab:0c\r\n'), 'sha-256 AB:0C');
});

test('the page agrees with docs/protocol.md §3.5', () => {
  const key = roomKey('correct horse battery staple', 'team');
  assert.equal(hex(key), '2eebb3eec71d662bce1ebf60e8b955e9384a1d753b7fffef254b5ec22e8de1ad');
  const bytes = (f) => Array.from({ length: 32 }, (_, i) => f(i).toString(16).toUpperCase().padStart(2, '0')).join(':');
  const fpA = `sha-256 ${bytes((i) => i)}`;
  const fpB = `sha-256 ${bytes((i) => 255 - i)}`;
  const idA = '0123456789abcdef0123456789abcdef', idB = 'fedcba9876543210fedcba9876543210';
  assert.equal(authProof(key, fpA, fpB, idA, idB), 'aabce64be315e629ea3a29f1a0ba445226ee129e54541bc845ea1144c54189b2');
  assert.equal(authProof(key, fpB, fpA, idB, idA), 'b84a15a54a3d001f838e4c01e45635074c840c6fdef30997e0e5568f051429f9');
  assert.equal(shortAuthString(fpA, fpB), '796996');
});

// The member row's state and the code it shows.
async function memberRow(page) {
  return page.evaluate(() => {
    const li = document.querySelector('#members li');
    return li && { state: li.dataset.state, sas: li.dataset.sas, text: li.querySelector('.state').textContent };
  });
}

async function waitRefused(page, timeout) {
  await page.waitForFunction(() => document.querySelector('#members li')?.dataset.state === 'refused',
    null, { timeout, polling: 100 });
  return memberRow(page);
}

test('two pages with the same secret connect and show the same code', { timeout: 60000 }, async () => {
  const alice = await chrome.newPage(`${server.http}/?room=s1&name=alice#secret=correct+horse`);
  await alice.waitForFunction(() => window.hangout?.ownId, null, { timeout: 10000 });
  const bob = await chrome.newPage(`${server.http}/?room=s1&name=bob#secret=correct+horse`);
  await waitConnected(alice, 1);
  await waitConnected(bob, 1);
  const [a, b] = [await memberRow(alice), await memberRow(bob)];
  assert.match(a.sas, /^\d{6}$/);
  assert.equal(a.sas, b.sas);
  assert.match(a.text, new RegExp(`code ${a.sas}`));
  assert.match(await alice.textContent('#where'), /with a room secret/);
  await alice.context().close();
  await bob.context().close();
});

test('another secret is refused on both sides, with the reason', { timeout: 60000 }, async () => {
  const alice = await chrome.newPage(`${server.http}/?room=s2&name=alice#secret=one`);
  await alice.waitForFunction(() => window.hangout?.ownId, null, { timeout: 10000 });
  const bob = await chrome.newPage(`${server.http}/?room=s2&name=bob#secret=two`);
  for (const page of [alice, bob]) {
    const row = await waitRefused(page, 30000);
    assert.match(row.text, /wrong room secret proof: another secret, or someone in the middle/);
    // Nothing of it is kept as a member to send to.
    assert.equal(await page.evaluate(() => window.hangout.peers.size), 0);
  }
  await alice.context().close();
  await bob.context().close();
});

// The proof's time is 10 s; here 1.5 s (globalThis.hangoutAuthTimeoutMs),
// so that the suite does not wait out the real one.
test('a page with a secret refuses one without after the proof time', { timeout: 60000 }, async () => {
  const alice = await chrome.newPage();
  await alice.addInitScript(() => { globalThis.hangoutAuthTimeoutMs = 1500; });
  await alice.goto(`${server.http}/?room=s3&name=alice#secret=one`);
  await alice.waitForFunction(() => window.hangout?.ownId, null, { timeout: 10000 });
  const bob = await chrome.newPage(`${server.http}/?room=s3&name=bob`);
  // Bob, who has no secret, never proves one.
  const row = await waitRefused(alice, 25000);
  assert.match(row.text, /no room secret proof within 1\.5 s/);
  await alice.context().close();
  await bob.context().close();
});

// The page and the C library (room-peer.c on HangoutRoom) follow one
// construction: with one secret they show the same code and share a file;
// with another both refuse.
test('a page and a C member with the same secret share a file and one code', { timeout: 60000 }, async () => {
  const bytes = randomBytes(150 * 1024 + 1);
  writeFileSync(join(dir, 'secret.bin'), bytes);
  const cpeer = startRoomPeer(server.wsUrl, 's4', 'gst', join(dir, 'secret.bin'), { secret: 'correct horse' });
  cpeers.push(cpeer);
  await cpeer.waitForLine(/^joined /, 10000);
  const page = await chrome.newPage(`${server.http}/?room=s4&name=web#secret=correct+horse`);
  await waitConnected(page, 1);
  const line = await cpeer.waitForLine(/^connected \S+ web \d{6}$/, 15000);
  assert.equal((await memberRow(page)).sas, line.split(' ')[3]);
  const want = createHash('sha256').update(bytes).digest('hex');
  assert.deepEqual(await receivedFile(page, 'secret.bin'), { size: bytes.length, sha256: want, linkSha256: want });
  await page.context().close();
});

test('a page and a C member with other secrets refuse each other', { timeout: 60000 }, async () => {
  const cpeer = startRoomPeer(server.wsUrl, 's5', 'gst', null, { secret: 'one' });
  cpeers.push(cpeer);
  await cpeer.waitForLine(/^joined /, 10000);
  const page = await chrome.newPage(`${server.http}/?room=s5&name=web#secret=two`);
  const row = await waitRefused(page, 30000);
  assert.match(row.text, /wrong room secret proof/);
  await cpeer.waitForLine(/^refused \S+ wrong room secret proof: another secret, or someone in the middle$/, 15000);
  await page.context().close();
});
