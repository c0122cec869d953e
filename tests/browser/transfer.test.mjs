// Files between pages (docs/protocol.md §2): a page shares a file with two
// others, which get identical bytes; a page that joins afterwards is offered
// the file too; a screenshot mid-transfer shows the progress UI.
import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startServer, launchBrowser, waitConnected, receivedFile, OUTPUT } from './lib.mjs';

let server, chrome, dir;
before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'hangout-files-'));
  server = await startServer();
  chrome = await launchBrowser();
});
after(async () => {
  await chrome?.close();
  await server?.stop();
  rmSync(dir, { recursive: true, force: true });
});

test('a page shares a file; the others, also one joining later, get identical bytes',
  { timeout: 150000 }, async () => {
    const bytes = randomBytes(24 * 1024 * 1024 + 12345);
    const sha = createHash('sha256').update(bytes).digest('hex');
    writeFileSync(join(dir, 'big.bin'), bytes);
    const url = (name) => `${server.http}/?room=files&name=${name}`;

    const alice = await chrome.newPage(url('alice'));
    await alice.waitForFunction(() => window.hangout?.ownId, null, { timeout: 10000 });
    const bob = await chrome.newPage(url('bob'));
    const carol = await chrome.newPage(url('carol'));
    await waitConnected(alice, 2);
    await waitConnected(bob, 2);
    await waitConnected(carol, 2);

    await alice.setInputFiles('#files', join(dir, 'big.bin'));
    // Mid-transfer: some bytes in, not all.
    await bob.waitForFunction((size) => {
      const li = document.querySelector('#transfers li[data-direction="in"]');
      return li && Number(li.dataset.bytes) > size / 4;
    }, bytes.length, { timeout: 60000, polling: 50 });
    await bob.screenshot({ path: join(OUTPUT, 'transfer-mid.png'), fullPage: true });

    for (const page of [bob, carol])
      assert.deepEqual(await receivedFile(page, 'big.bin', 120000),
        { size: bytes.length, sha256: sha, linkSha256: sha });
    await alice.waitForSelector('#transfers li[data-direction="out"][data-state="done"]', { timeout: 20000 });
    assert.match(await alice.textContent('#transfers li[data-direction="out"] .info'), /2 verified/);
    await bob.screenshot({ path: join(OUTPUT, 'transfer-done.png'), fullPage: true });

    // Dave comes later: Alice offers him what she shared.
    const dave = await chrome.newPage(url('dave'));
    await waitConnected(dave, 3);
    assert.deepEqual(await receivedFile(dave, 'big.bin', 120000),
      { size: bytes.length, sha256: sha, linkSha256: sha });
    // Still one row for the file, with a line per recipient, Dave's too.
    const lines = '#transfers li[data-direction="out"] .recipients li';
    await alice.waitForFunction((sel) => [...document.querySelectorAll(sel)]
      .filter((l) => l.dataset.state === 'ok').length === 3, lines, { timeout: 20000 });
    assert.equal(await alice.locator('#transfers li[data-direction="out"]').count(), 1);
    assert.deepEqual((await alice.locator(`${lines} .who`).allTextContents()).sort(), ['bob', 'carol', 'dave']);
  });

test('a file dropped on the page is shared', { timeout: 60000 }, async () => {
  const url = (name) => `${server.http}/?room=drop&name=${name}`;
  const erin = await chrome.newPage(url('erin'));
  await erin.waitForFunction(() => window.hangout?.ownId, null, { timeout: 10000 });
  const frank = await chrome.newPage(url('frank'));
  await waitConnected(erin, 1);
  await waitConnected(frank, 1);
  // What a real drag delivers: a drop event whose DataTransfer holds Files.
  const sha = await erin.evaluate(async () => {
    const bytes = new Uint8Array(65536 * 3 + 1);
    for (let i = 0; i < bytes.length; i += 65536) crypto.getRandomValues(bytes.subarray(i, i + 65536));
    const dt = new DataTransfer();
    dt.items.add(new File([bytes], 'dropped.txt', { type: 'text/plain' }));
    const zone = document.getElementById('drop');
    zone.dispatchEvent(new DragEvent('dragover', { dataTransfer: dt, bubbles: true, cancelable: true }));
    zone.dispatchEvent(new DragEvent('drop', { dataTransfer: dt, bubbles: true, cancelable: true }));
    const digest = await crypto.subtle.digest('SHA-256', bytes);
    return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, '0')).join('');
  });
  const got = await receivedFile(frank, 'dropped.txt', 30000);
  assert.deepEqual(got, { size: 65536 * 3 + 1, sha256: sha, linkSha256: sha });
});
