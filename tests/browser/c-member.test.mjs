// A page and a C member (room-peer.c, libhangout's HangoutRoom) in one room:
// they connect through Chromium's .local candidate (the C side skips it and
// learns a peer-reflexive one) and exchange files both ways by §2, checked
// on both sides against independent SHA-256 implementations (GChecksum,
// WebCrypto over the received blob).
import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startServer, startRoomPeer, launchBrowser, waitConnected, receivedFile, OUTPUT } from './lib.mjs';

let server, chrome, cpeer, liar, dir;
before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'hangout-files-'));
  server = await startServer();
  chrome = await launchBrowser();
});
after(async () => {
  await cpeer?.stop();
  await liar?.stop();
  await chrome?.close();
  await server?.stop();
  rmSync(dir, { recursive: true, force: true });
});

test('a page and a C member connect and exchange files', { timeout: 90000 }, async () => {
  const fromC = randomBytes(300 * 1024 + 7); // several chunks, a short last one
  writeFileSync(join(dir, 'from-c.bin'), fromC);
  cpeer = startRoomPeer(server.wsUrl, 'mixed', 'gst', join(dir, 'from-c.bin'));
  await cpeer.waitForLine(/^joined /, 10000);

  const page = await chrome.newPage(`${server.http}/?room=mixed&name=web`);
  await waitConnected(page, 1);
  assert.equal(await page.textContent('#members li .name'), 'gst');
  await cpeer.waitForLine(/^connected \S+ web \S+$/, 10000);

  // C → page: verified, offered as a link, acknowledged with ok.
  const got = await receivedFile(page, 'from-c.bin');
  const want = createHash('sha256').update(fromC).digest('hex');
  assert.deepEqual(got, { size: fromC.length, sha256: want, linkSha256: want });
  await cpeer.waitForLine(/^ack \S+ ok$/, 10000);

  // page → C: shared through the file input.
  const toC = randomBytes(200 * 1024 + 3);
  writeFileSync(join(dir, 'to-c.bin'), toC);
  await page.setInputFiles('#files', join(dir, 'to-c.bin'));
  const line = await cpeer.waitForLine(/^received to-c\.bin /, 30000);
  assert.equal(line, `received to-c.bin ${toC.length} ${createHash('sha256').update(toC).digest('hex')} ok`);
  await page.waitForSelector('#transfers li[data-direction="out"][data-state="done"]', { timeout: 10000 });
  assert.match(await page.textContent('#transfers li[data-direction="out"] .info'), /1 verified/);
  await page.screenshot({ path: join(OUTPUT, 'c-member.png'), fullPage: true });
});

test('a file whose SHA-256 does not match is shown as failed, not offered', { timeout: 60000 }, async () => {
  writeFileSync(join(dir, 'lie.bin'), randomBytes(100 * 1024));
  liar = startRoomPeer(server.wsUrl, 'lies', 'liar', join(dir, 'lie.bin'), { wrongSha256: true });
  await liar.waitForLine(/^joined /, 10000);
  const page = await chrome.newPage(`${server.http}/?room=lies&name=web`);
  await waitConnected(page, 1);
  await page.waitForSelector('#transfers li[data-direction="in"][data-state="failed"]', { timeout: 20000 });
  assert.equal(await page.locator('#transfers a[download]').count(), 0);
  assert.match(await page.textContent('#transfers li .info'), /SHA-256 does not match/);
  await liar.waitForLine(/^ack \S+ bad$/, 10000);
});
