// One pipeline opens a room by itself: hangoutsink with run-server=true runs
// the signalling server and the built-in web client, and gst-launch-1.0
// prints where browsers join. No hangout-server process: two pages open the
// printed URL and both receive the pipeline's file, compared by SHA-256
// (node's crypto for the file, WebCrypto over the received blob).
import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { launchBrowser, receivedFile, gstLaunch, OUTPUT } from './lib.mjs';

let chrome, dir, pipeline;
before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'hangout-run-server-'));
  chrome = await launchBrowser();
});
after(async () => {
  pipeline?.kill();
  await chrome?.close();
  rmSync(dir, { recursive: true, force: true });
});

const sha256 = (buf) => createHash('sha256').update(buf).digest('hex');

test('a run-server pipeline serves the page; two pages join at its printed URL and get the file',
  { timeout: 150000 }, async () => {
    const data = randomBytes(16 * 1024 * 1024 + 7);
    writeFileSync(join(dir, 'served.bin'), data);
    // The server listens on 127.0.0.1, as the suite's hangout-server does,
    // and the pages load the printed URL as it is. 127.0.0.1 rather than the
    // veth address (198.18.0.1): http://127.0.0.1 is a secure context for
    // Chromium, so receivedFile()'s WebCrypto exists there; measured in
    // run.sh's namespace, a page from http://198.18.0.1 has neither
    // isSecureContext nor crypto.subtle. The address only carries the page
    // and its WebSocket (the page connects to its own host's /ws): the peer
    // connections use the .local host candidate of the veth end (run.sh)
    // whatever the page's address.
    pipeline = gstLaunch(['filesrc', `location=${join(dir, 'served.bin')}`, '!',
      'hangoutsink', 'room=served', 'run-server=true', 'server=ws://127.0.0.1:0/ws',
      'display-name=gst', 'min-peers=2'], 120000);
    const [, joinUrl] = await pipeline.waitForOutput(/browsers join at (http:\/\/\S+)/, 15000,
      '"browsers join at URL"');
    // Port 0 became a real one; the room is in the URL.
    assert.match(joinUrl, /^http:\/\/127\.0\.0\.1:[1-9]\d*\/\?room=served$/);

    const pages = [];
    for (const name of ['web1', 'web2'])
      pages.push(await chrome.newPage(`${joinUrl}&name=${name}`));
    // No waitConnected(): once both pages are in, the pipeline sends, and
    // it leaves (its server with it) when both have the file; the pages'
    // member lists may already be empty by then.
    const r = await pipeline.done;
    assert.equal(r.code, 0, `the pipeline failed:\n${r.output}`);
    const want = sha256(data);
    for (const page of pages) {
      const got = await receivedFile(page, 'served.bin');
      assert.deepEqual(got, { size: data.length, sha256: want, linkSha256: want });
    }
    // The pages after the pipeline (and its server) ended: the file is kept.
    await pages[0].screenshot({ path: join(OUTPUT, 'run-server-web1.png'), fullPage: true });
  });
