// Files between pages (docs/protocol.md §2): a page shares a file with two
// others, which get identical bytes; a page that joins afterwards is offered
// the file too; a screenshot mid-transfer shows the progress UI; a file
// dropped on the page; files saved in a folder the person chose.
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

// A folder the person chose (storage.js, showDirectoryPicker): the
// browser's picker needs a person, so the page is given one that answers
// with a folder of the site's private storage, which the page writes as
// it would write one on the person's disk. Two files of one name: the
// second is saved beside the first, not over it.
test('received files go to the folder the person chose, none over another', { timeout: 60000 }, async () => {
  const url = (name) => `${server.http}/?room=folder&name=${name}`;
  const gina = await chrome.newPage(url('gina'));
  const hal = await chrome.newPage(url('hal'), {
    initScript: () => {
      window.showDirectoryPicker = async () => (await navigator.storage.getDirectory())
        .getDirectoryHandle('Downloads', { create: true });
    },
  });
  await waitConnected(gina, 1);
  await waitConnected(hal, 1);
  await hal.click('#choose-folder');
  await hal.waitForFunction(() => document.getElementById('save-where').textContent
    === 'Received files are saved in Downloads.', null, { timeout: 10000 });

  const copies = [randomBytes(300 * 1024 + 1), randomBytes(200 * 1024 + 7)];
  const sha = (b) => createHash('sha256').update(b).digest('hex');
  for (const [i, bytes] of copies.entries()) {
    writeFileSync(join(dir, 'same.bin'), bytes);
    await gina.setInputFiles('#files', join(dir, 'same.bin'));
    await hal.waitForFunction((n) => document.querySelectorAll(
      '#transfers li[data-direction="in"][data-state="done"]').length === n, i + 1, { timeout: 30000 });
  }
  const saved = await hal.evaluate(async () => {
    const folder = await (await navigator.storage.getDirectory()).getDirectoryHandle('Downloads');
    const hex = async (f) => [...new Uint8Array(await crypto.subtle.digest('SHA-256', await f.arrayBuffer()))]
      .map((b) => b.toString(16).padStart(2, '0')).join('');
    const files = {};
    for await (const [name, handle] of folder.entries()) files[name] = await hex(await handle.getFile());
    const rows = [...document.querySelectorAll('#transfers li[data-direction="in"]')];
    return {
      files,
      storage: rows.map((r) => r.querySelector('a')?.dataset.storage),
      info: rows.map((r) => r.querySelector('.info').textContent),
    };
  });
  assert.deepEqual(saved.files, { 'same.bin': sha(copies[0]), 'same (1).bin': sha(copies[1]) });
  assert.deepEqual(saved.storage, ['folder', 'folder']);
  for (const text of saved.info) assert.match(text, /SHA-256 verified, saved in the folder you chose/);
});
