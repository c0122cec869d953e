// Pages and GStreamer pipelines in one room: hangoutsink shares a file with
// two pages, and a page shares a file with two hangoutsrc pipelines. The
// bytes are compared by SHA-256 computed outside the page (node's crypto for
// what pipelines wrote, WebCrypto over the received blob for pages).
import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startServer, launchBrowser, waitConnected, receivedFile, gstLaunch as launchPipeline }
  from './lib.mjs';

let server, chrome, dir;
const children = new Set();
before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'hangout-pipelines-'));
  server = await startServer();
  chrome = await launchBrowser();
});
after(async () => {
  for (const c of children) c.kill();
  await chrome?.close();
  await server?.stop();
  rmSync(dir, { recursive: true, force: true });
});

// gst-launch-1.0 (lib.mjs) with a bound on its life, killed by after() if
// a test gives up on it; resolves with its exit code and output.
function gstLaunch(args, timeoutMs) {
  const p = launchPipeline(args, timeoutMs);
  children.add(p);
  return p.done.finally(() => children.delete(p));
}

const sha256 = (buf) => createHash('sha256').update(buf).digest('hex');

test('a pipeline shares 50 MiB with two pages', { timeout: 180000 }, async () => {
  const data = randomBytes(50 * 1024 * 1024);
  writeFileSync(join(dir, 'from-gst.bin'), data);
  const pages = [];
  for (const name of ['web1', 'web2'])
    pages.push(await chrome.newPage(`${server.http}/?room=pipe&name=${name}`));
  await Promise.all(pages.map((p) => waitConnected(p, 1)));

  const sender = await gstLaunch(['filesrc', `location=${join(dir, 'from-gst.bin')}`, '!',
    'hangoutsink', 'room=pipe', `server=${server.wsUrl}`, 'display-name=gst', 'min-peers=2'],
  150000);
  assert.equal(sender.code, 0, `the sender failed:\n${sender.output}`);
  const want = sha256(data);
  for (const page of pages) {
    const got = await receivedFile(page, 'from-gst.bin');
    assert.deepEqual(got, { size: data.length, sha256: want, linkSha256: want });
  }
});

test('a page shares a file with two hangoutsrc pipelines', { timeout: 120000 }, async () => {
  const data = randomBytes(8 * 1024 * 1024 + 5);
  writeFileSync(join(dir, 'from-web.bin'), data);
  const receivers = [1, 2].map((i) => gstLaunch(['hangoutsrc', 'room=web2gst',
    `server=${server.wsUrl}`, `display-name=gst${i}`, '!', 'filesink',
    `location=${join(dir, `copy-${i}.bin`)}`], 100000));
  const page = await chrome.newPage(`${server.http}/?room=web2gst&name=web`);
  await waitConnected(page, 2);
  await page.setInputFiles('#files', join(dir, 'from-web.bin'));
  for (const [i, done] of receivers.entries()) {
    const r = await done;
    assert.equal(r.code, 0, `receiver ${i + 1} failed:\n${r.output}`);
    assert.equal(sha256(readFileSync(join(dir, `copy-${i + 1}.bin`))), sha256(data));
  }
  await page.waitForSelector('#transfers li[data-direction="out"][data-state="done"]', { timeout: 20000 });
  assert.match(await page.textContent('#transfers li[data-direction="out"] .info'), /2 verified/);
});

test('three pages and one pipeline each share a file; everyone gets every file',
  { timeout: 180000 }, async () => {
    const files = {};
    for (const name of ['a', 'b', 'c', 'gst'])
      files[name] = randomBytes(3 * 1024 * 1024 + name.length);
    for (const [name, data] of Object.entries(files))
      writeFileSync(join(dir, `${name}.bin`), data);
    // One gst-launch pipeline with a sharing and a receiving branch: to the
    // pages it is two members, "gst" and "gst-in" (which also receives what
    // its sharing branch shares).
    const pipeline = gstLaunch(['filesrc', `location=${join(dir, 'gst.bin')}`, '!',
      'hangoutsink', 'room=all', `server=${server.wsUrl}`, 'display-name=gst', 'min-peers=4',
      'hangoutsrc', 'room=all', `server=${server.wsUrl}`, 'display-name=gst-in',
      'num-files=4', '!', 'multifilesink', `location=${join(dir, 'in-%d.bin')}`,
      'next-file=discont'], 150000);
    const pages = {};
    for (const name of ['a', 'b', 'c'])
      pages[name] = await chrome.newPage(`${server.http}/?room=all&name=${name}`);
    await Promise.all(Object.values(pages).map((p) => waitConnected(p, 4)));
    for (const [name, page] of Object.entries(pages))
      await page.setInputFiles('#files', join(dir, `${name}.bin`));

    const r = await pipeline;
    assert.equal(r.code, 0, `the pipeline failed:\n${r.output}`);
    // The pipeline wrote every file, in whatever order they came.
    const got = [0, 1, 2, 3].map((i) => sha256(readFileSync(join(dir, `in-${i}.bin`)))).sort();
    assert.deepEqual(got, Object.values(files).map(sha256).sort());
    // One row per page's file, not red: the members verified it, and
    // hangoutsink, which takes no files, declined it (its reject is not
    // held back by the file it sends meanwhile).
    for (const [name, page] of Object.entries(pages)) {
      const row = '#transfers li[data-direction="out"]';
      await page.waitForSelector(`${row}[data-state="done"]`, { timeout: 20000 });
      const { gst, ...members } = Object.fromEntries(await page.$$eval(`${row} .recipients li`,
        (items) => items.map((l) => [l.querySelector('.who').textContent, l.dataset.state])));
      const others = Object.fromEntries(['a', 'b', 'c'].filter((n) => n !== name).map((n) => [n, 'ok']));
      assert.deepEqual(members, { ...others, 'gst-in': 'ok' }, `page ${name}`);
      assert.equal(gst, 'rejected', `page ${name}`);
    }
    // Every page has every other member's file.
    for (const [name, page] of Object.entries(pages)) {
      for (const other of ['a', 'b', 'c', 'gst'].filter((n) => n !== name)) {
        const want = sha256(files[other]);
        const f = await receivedFile(page, `${other}.bin`);
        assert.deepEqual(f, { size: files[other].length, sha256: want, linkSha256: want },
          `page ${name}, file ${other}.bin`);
      }
    }
  });
