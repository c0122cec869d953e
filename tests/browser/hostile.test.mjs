// Hostile room members against the page (the issue "Hostile members"). The
// hostile member is room-peer.c sending raw §2 messages that a test writes
// (send-text / send-data), so every input reaches the page the way a
// member's would: on the pair's application channel.
//   - a member re-offering another member's file id, and sending data under
//     it, does not touch that member's file (files are keyed "member/id").
import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import {
  startServer, startRoomPeer, launchBrowser, waitConnected, receivedFile,
  sendControl, sendData, sendFile, CHUNK_SIZE,
} from './lib.mjs';

const PAYLOAD = CHUNK_SIZE - 25;
const sha256 = (bytes) => createHash('sha256').update(bytes).digest('hex');
const newId = () => randomBytes(16).toString('hex');
const offer = (id, name, size, mime = 'application/octet-stream') =>
  ({ type: 'offer', version: 1, id, name, size, mime, 'chunk-size': CHUNK_SIZE });

let server, chrome;
const peers = [];
before(async () => {
  server = await startServer();
  chrome = await launchBrowser();
});
after(async () => {
  for (const p of peers) await p.stop();
  await chrome?.close();
  await server?.stop();
});

function roomPeer(room, name, file = null) {
  const p = startRoomPeer(server.wsUrl, room, name, file);
  peers.push(p);
  return p;
}

// C members named `names` join `room`, then the page "web"; resolves once
// all are connected, with the page and, per name, the member and the page's
// id as that member knows it (the `to` of its commands).
async function joinRoom(room, names) {
  const members = {};
  for (const name of names) {
    members[name] = { proc: roomPeer(room, name) };
    await members[name].proc.waitForLine(/^joined /, 10000);
  }
  const page = await chrome.newPage();
  await page.goto(`${server.http}/?room=${room}&name=web`);
  await waitConnected(page, names.length);
  for (const m of Object.values(members))
    m.pageId = (await m.proc.waitForLine(/^connected \S+ web$/, 10000)).split(' ')[1];
  return { page, members };
}

// The incoming row of the file shown as `name`: its state, bytes and text.
function rowOf(page, name) {
  return page.evaluate((n) => {
    const li = [...document.querySelectorAll('#transfers li[data-direction="in"]')]
      .find((l) => l.querySelector('.name').textContent === n);
    return li && { state: li.dataset.state, bytes: Number(li.dataset.bytes ?? 0),
      dir: li.querySelector('.dir').textContent, info: li.querySelector('.info').textContent };
  }, name);
}

test('a member re-offering another member\'s file id does not touch that file', { timeout: 90000 }, async () => {
  const { page, members: { alice, mallory } } = await joinRoom('reoffer', ['alice', 'mallory']);
  const bytes = randomBytes(16 * PAYLOAD + 1234);
  const id = newId();

  // Alice's file, half sent: the page shows it in progress.
  sendControl(alice.proc, alice.pageId, offer(id, 'legit.bin', bytes.length));
  const half = 8 * PAYLOAD;
  for (let off = 0; off < half; off += PAYLOAD)
    sendData(alice.proc, alice.pageId, id, off, bytes.subarray(off, off + PAYLOAD));
  await page.waitForFunction((h) => [...document.querySelectorAll('#transfers li[data-direction="in"]')]
    .some((li) => li.querySelector('.name').textContent === 'legit.bin' && Number(li.dataset.bytes) === h),
  half, { timeout: 20000, polling: 50 });

  // Mallory: data under Alice's id where hers goes on, then a file of her
  // own under the same id.
  sendData(mallory.proc, mallory.pageId, id, half, randomBytes(PAYLOAD));
  const evil = randomBytes(5000);
  sendFile(mallory.proc, mallory.pageId, { id, name: 'evil.bin', bytes: evil });
  assert.deepEqual(await receivedFile(page, 'evil.bin', 20000),
    { size: evil.length, sha256: sha256(evil), linkSha256: sha256(evil) });
  await mallory.proc.waitForLine(/^ack \S+ ok$/, 10000);
  const during = await rowOf(page, 'legit.bin');
  assert.deepEqual([during.state, during.bytes], ['active', half]);
  assert.match(during.dir, /^from alice\b/);

  // Alice's file goes on and arrives whole.
  for (let off = half; off < bytes.length; off += PAYLOAD)
    sendData(alice.proc, alice.pageId, id, off, bytes.subarray(off, off + PAYLOAD));
  sendControl(alice.proc, alice.pageId, { type: 'end', id, size: bytes.length, sha256: sha256(bytes) });
  assert.deepEqual(await receivedFile(page, 'legit.bin', 20000),
    { size: bytes.length, sha256: sha256(bytes), linkSha256: sha256(bytes) });
  await alice.proc.waitForLine(/^ack \S+ ok$/, 10000);
  assert.match((await rowOf(page, 'evil.bin')).dir, /^from mallory\b/);
  await page.close();
});
