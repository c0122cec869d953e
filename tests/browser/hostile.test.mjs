// Hostile room members against the page (the issue "Hostile members"). The
// hostile member is room-peer.c sending raw §2 messages that a test writes
// (send-text / send-data), so every input reaches the page the way a
// member's would: on the pair's application channel.
//   - a member re-offering another member's file id, and sending data under
//     it, does not touch that member's file (files are keyed "member/id");
//   - a received text/html file is offered as an application/octet-stream
//     download, and its script never runs in the page's origin; names are
//     shown as text, with bidi and control characters made visible;
//   - a flood of offers with long names is declined by the per-member
//     limits (reject replies and their reasons), the page's JS heap and its
//     list of files stay bounded, and another member's file still arrives;
//   - an offer whose data stops is failed after the stall time (shortened
//     here through globalThis.hangoutStallMs) and nothing of it is kept.
import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  startServer, startRoomPeer, launchBrowser, waitConnected, receivedFile,
  sendControl, sendData, sendFile, CHUNK_SIZE, OUTPUT,
} from './lib.mjs';

const PAYLOAD = CHUNK_SIZE - 25;
const sha256 = (bytes) => createHash('sha256').update(bytes).digest('hex');
const newId = () => randomBytes(16).toString('hex');
const offer = (id, name, size, mime = 'application/octet-stream') =>
  ({ type: 'offer', version: 1, id, name, size, mime, 'chunk-size': CHUNK_SIZE });

let server, chrome, dir;
const peers = [];
before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'hangout-hostile-'));
  server = await startServer();
  chrome = await launchBrowser();
});
after(async () => {
  for (const p of peers) await p.stop();
  await chrome?.close();
  await server?.stop();
  rmSync(dir, { recursive: true, force: true });
});

function roomPeer(room, name, file = null) {
  const p = startRoomPeer(server.wsUrl, room, name, file);
  peers.push(p);
  return p;
}

// C members named `names` join `room`, then the page "web"; resolves once
// all are connected, with the page and, per name, the member and the page's
// id as that member knows it (the `to` of its commands).
async function joinRoom(room, names, { stallMs = null } = {}) {
  const members = {};
  for (const name of names) {
    members[name] = { proc: roomPeer(room, name) };
    await members[name].proc.waitForLine(/^joined /, 10000);
  }
  const page = await chrome.newPage();
  if (stallMs !== null) await page.addInitScript((ms) => { globalThis.hangoutStallMs = ms; }, stallMs);
  await page.goto(`${server.http}/?room=${room}&name=web`);
  await waitConnected(page, names.length);
  for (const m of Object.values(members))
    m.pageId = (await m.proc.waitForLine(/^connected \S+ web \S+$/, 10000)).split(' ')[1];
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

test('a received text/html file is only a download; names show what they are', { timeout: 90000 }, async () => {
  const { page, members: { mallory } } = await joinRoom('html', ['mallory']);
  // The script would mark the page's origin if it ever ran there.
  const html = Buffer.from('<!doctype html><script>localStorage.setItem("pwned", "the script ran");'
    + 'parent.postMessage("pwned", "*");</script><p>hello</p>');
  sendFile(mallory.proc, mallory.pageId, { id: newId(), name: 'page.html', bytes: html, mime: 'text/html' });
  const got = await receivedFile(page, 'page.html', 20000);
  assert.equal(got.sha256, sha256(html));

  // The link's bytes are typed application/octet-stream, whatever the sender said.
  const link = page.locator('#transfers a[download="page.html"]');
  const href = await link.getAttribute('href');
  assert.match(href, /^blob:/);
  assert.equal(await page.evaluate(async (h) => (await fetch(h)).headers.get('content-type'), href),
    'application/octet-stream');

  // Opened in the page (as a frame, or a tab from the link, would), it is a
  // download and not a document of this origin: of the download and a mark
  // of the script, whichever comes first must be the download.
  await page.evaluate(() => window.addEventListener('message', (e) => { window.gotMessage = e.data; }));
  const outcome = Promise.race([
    page.waitForEvent('download', { timeout: 10000 }).then((d) => ({ download: d.url() })),
    page.waitForFunction(() => localStorage.getItem('pwned') ?? window.gotMessage, null, { timeout: 10000 })
      .then(async (mark) => ({ scriptRan: await mark.jsonValue() })),
  ].map((p) => p.catch(() => null)));
  await page.evaluate((h) => {
    const frame = document.createElement('iframe');
    frame.src = h;
    document.body.append(frame);
  }, href);
  assert.deepEqual(await outcome, { download: href });
  await page.evaluate(() => document.querySelector('iframe').remove());
  // Saving it from its link: a download under the name shown.
  const [saved] = await Promise.all([page.waitForEvent('download', { timeout: 10000 }), link.click()]);
  assert.equal(saved.suggestedFilename(), 'page.html');
  assert.deepEqual(await page.evaluate(() => [localStorage.getItem('pwned'), window.gotMessage ?? null]),
    [null, null]);
  // The sender's type is shown, as text.
  assert.equal((await rowOf(page, 'page.html')).dir, 'from mallory · text/html');

  // Names as text: markup stays text, a right-to-left override is shown
  // (it would make "rtl-K088\u202Egnp.exe" read "rtl-K088exe.png"), and so
  // are other controls.
  const names = [
    ['<img src=x onerror="localStorage.setItem(\'pwned\', \'name\')">.txt',
      '<img src=x onerror="localStorage.setItem(\'pwned\', \'name\')">.txt'],
    ['rtl-K088\u202Egnp.exe', 'rtl-K088[U+202E]gnp.exe'],
    ['a\u2066b\u2069c\u200Fd\u061Ce\u0007f\u009Bg.txt', 'a[U+2066]b[U+2069]c[U+200F]d[U+061C]e[U+0007]f[U+009B]g.txt'],
  ];
  for (const [name] of names)
    sendFile(mallory.proc, mallory.pageId, { id: newId(), name, bytes: Buffer.from(name) });
  await page.waitForFunction((n) => document.querySelectorAll('#transfers li[data-state="done"] a[download]').length === n,
    names.length + 1, { timeout: 20000, polling: 100 });
  const rows = await page.evaluate(() => [...document.querySelectorAll('#transfers li[data-state="done"]')]
    .map((li) => ({ name: li.querySelector('.name').textContent, link: li.querySelector('a').textContent,
      download: li.querySelector('a').download, elements: li.querySelectorAll('img, script').length })));
  for (const [, shown] of names)
    assert.deepEqual(rows.find((r) => r.download === shown),
      { name: shown, link: `Save ${shown}`, download: shown, elements: 0 }, `a row for ${shown}`);
  assert.equal(await page.evaluate(() => localStorage.getItem('pwned')), null);
  await page.screenshot({ path: join(OUTPUT, 'hostile-names.png'), fullPage: true });
  await page.close();
});

test('a flood of offers is declined by the per-member limits; the page stays bounded', { timeout: 150000 }, async (t) => {
  const { page, members: { mallory } } = await joinRoom('flood', ['mallory']);
  const cdp = await page.context().newCDPSession(page);
  const heap = async () => {
    await cdp.send('HeapProfiler.collectGarbage');
    return (await cdp.send('Runtime.getHeapUsage')).usedSize;
  };
  const heapBefore = await heap();

  // The limits' edges (UTF-8 bytes, not characters), then 2,000 offers with
  // 4 KB names that are never followed by data: 16 files may be
  // outstanding, declined ones included, and every later offer is declined.
  const NAME = 'name longer than 1024 bytes';
  const MIME = 'mime longer than 255 bytes';
  const TOO_MANY = 'too many files outstanding';
  const plan = [
    { name: `${'a'.repeat(1020)}.bin`, mime: `x/${'y'.repeat(253)}`, reason: null },
    { name: 'é'.repeat(513), mime: 'application/octet-stream', reason: NAME },
    { name: 'b.bin', mime: `x/${'y'.repeat(254)}`, reason: MIME },
  ];
  for (let i = 0; i < 2000; i++)
    plan.push({ name: `${i}-${'n'.repeat(4090)}`, mime: 'application/octet-stream', reason: i < 13 ? NAME : TOO_MANY });
  for (const p of plan) {
    p.id = newId();
    sendControl(mallory.proc, mallory.pageId, offer(p.id, p.name, 1 << 20, p.mime));
  }
  const declined = plan.filter((p) => p.reason);
  // The edges first, so that a page without limits fails here, soon.
  await mallory.proc.waitForLines(/^reject /, 2, 20000, 'reject');
  const replies = await mallory.proc.waitForLines(/^reject /, declined.length, 60000, 'reject');
  const reasons = new Map(replies.map((l) => {
    const [, , id, ...why] = l.split(' ');
    return [id, why.join(' ')];
  }));
  assert.equal(reasons.size, declined.length, 'one reject per declined offer');
  for (const p of plan) assert.equal(reasons.get(p.id) ?? null, p.reason, `offer of ${p.name.slice(0, 20)}…`);

  // Bounded: what the page holds for the member, its list of files (the one
  // accepted file and the latest declined ones) and its JS heap.
  const shown = await page.evaluate(() => ({
    held: window.hangout.incoming.size,
    rows: document.querySelectorAll('#transfers li').length,
    active: [...document.querySelectorAll('#transfers li[data-state="active"] .name')].map((e) => e.textContent),
    lastDeclined: document.querySelector('#transfers li[data-state="failed"] .info').textContent,
  }));
  assert.deepEqual(shown, { held: 16, rows: 21, active: [plan[0].name], lastDeclined: `Declined: ${TOO_MANY}` });
  const growth = (await heap()) - heapBefore;
  t.diagnostic(`JS heap grew by ${(growth / 1024).toFixed(0)} KiB over ${plan.length} offers`);
  // Measured: some 100 KiB with the limits, 10 MiB without them.
  assert.ok(growth < 2 * 1024 * 1024, `the JS heap grew by ${growth} bytes`);
  await page.screenshot({ path: join(OUTPUT, 'hostile-flood.png') });

  // Another member's file still arrives meanwhile.
  const bytes = randomBytes(3 * PAYLOAD + 17);
  writeFileSync(join(dir, 'after.bin'), bytes);
  const alice = roomPeer('flood', 'alice', join(dir, 'after.bin'));
  await alice.waitForLine(/^joined /, 10000);
  assert.deepEqual(await receivedFile(page, 'after.bin', 30000),
    { size: bytes.length, sha256: sha256(bytes), linkSha256: sha256(bytes) });
  await alice.waitForLine(/^ack \S+ ok$/, 10000);
  await page.close();
});

test('a file whose data stops is failed after the stall time, and forgotten', { timeout: 60000 }, async () => {
  const STALL_MS = 1500;
  const { page, members: { mallory } } = await joinRoom('stall', ['mallory'], { stallMs: STALL_MS });
  const silent = newId();
  const slow = newId();
  const slowBytes = randomBytes(8 * PAYLOAD);
  sendControl(mallory.proc, mallory.pageId, offer(silent, 'silent.bin', 1000));
  sendControl(mallory.proc, mallory.pageId, offer(slow, 'slow.bin', slowBytes.length));
  // slow.bin: a chunk every third of the stall time, for twice the stall
  // time: it must outlive silent.bin, then fail once its data stops.
  let sent = 0;
  const pacer = setInterval(() => {
    sendData(mallory.proc, mallory.pageId, slow, sent * PAYLOAD, slowBytes.subarray(sent * PAYLOAD, (sent + 1) * PAYLOAD));
    if (++sent === 6) clearInterval(pacer);
  }, STALL_MS / 3);
  await page.waitForFunction(() => [...document.querySelectorAll('#transfers li[data-state="failed"] .name')]
    .some((e) => e.textContent === 'silent.bin'), null, { timeout: 10000, polling: 50 });
  const atSilent = await rowOf(page, 'slow.bin');
  assert.equal((await rowOf(page, 'silent.bin')).info, 'Failed: nothing arrived for 1.5 s');
  assert.equal(atSilent.state, 'active', 'a file whose data comes is not failed');
  await page.waitForFunction(() => document.querySelectorAll('#transfers li[data-state="failed"]').length === 2,
    null, { timeout: 10000, polling: 50 });
  clearInterval(pacer);
  const slowRow = await rowOf(page, 'slow.bin');
  assert.deepEqual([slowRow.bytes, slowRow.info], [6 * PAYLOAD, 'Failed: nothing arrived for 1.5 s']);
  assert.equal(await page.evaluate(() => window.hangout.incoming.size), 0);

  // The member can send again, and its file arrives.
  const bytes = randomBytes(2 * PAYLOAD);
  sendFile(mallory.proc, mallory.pageId, { id: newId(), name: 'later.bin', bytes });
  assert.deepEqual(await receivedFile(page, 'later.bin', 20000),
    { size: bytes.length, sha256: sha256(bytes), linkSha256: sha256(bytes) });
  await page.close();
});
