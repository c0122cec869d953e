// The page as a member of a version 2 swarm (docs/protocol.md §4): a C
// sharer (hangoutsink distribution=swarm) hands pieces to the page and to
// two hangoutsrc pipelines, and each of them forwards what it was handed
// to the others. Every copy is compared by SHA-256 computed outside the
// member that made it (node's crypto over what the pipelines wrote,
// WebCrypto over the page's file read back from the origin private file
// system). That the page forwarded is counted on the C side: the sharer's
// log says how many pieces it handed each member, and each receiver's
// piece window logs every piece it verified with the member it came from.
import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startServer, startRoomPeer, launchBrowser, waitConnected, receivedFile, gstLaunch } from './lib.mjs';

let server, chrome, dir;
const children = new Set();
before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'hangout-swarm-'));
  server = await startServer();
  chrome = await launchBrowser();
});
after(async () => {
  for (const c of children) await (c.stop ? c.stop() : c.kill());
  await chrome?.close();
  await server?.stop();
  rmSync(dir, { recursive: true, force: true });
});

const sha256 = (buf) => createHash('sha256').update(buf).digest('hex');
// INFO of the share layer: the sharer's per-member counts; LOG of the
// piece window: each verified piece and its sender.
const DEBUG = { GST_DEBUG: 'hangout-share:4,hangout-pieces:6', GST_DEBUG_NO_COLOR: '1' };
const PIECE_SIZE = 65536; // the sink's default (§4.3)

function launch(args, timeoutMs) {
  const p = gstLaunch(args, timeoutMs, { env: DEBUG });
  children.add(p);
  p.done.finally(() => children.delete(p));
  return p;
}

function sharer(room, file, minPeers) {
  return launch(['filesrc', `location=${file}`, '!', 'hangoutsink', `room=${room}`,
    `server=${server.wsUrl}`, 'display-name=sharer', `min-peers=${minPeers}`, 'distribution=swarm'], 60000);
}

// The sharer's "swarm: ID was handed N pieces" lines, as ID → N.
function handed(output) {
  return Object.fromEntries([...output.matchAll(/swarm: ([0-9a-f]{32}) was handed (\d+) pieces/g)]
    .map((m) => [m[1], Number(m[2])]));
}

// Pieces a receiver verified that came from `member`: forwarded by it.
const verifiedFrom = (output, member) => output.match(new RegExp(`piece \\d+ from ${member} verified`, 'g'))?.length ?? 0;

// The page's received file, read back from where it wrote it (the origin
// private file system), not from its link.
async function savedCopy(page, name) {
  await receivedFile(page, name); // the row says done, with its link
  return page.evaluate(async (fileName) => {
    const link = document.querySelector(`#transfers a[download="${fileName}"]`);
    const root = await navigator.storage.getDirectory();
    const dir = await root.getDirectoryHandle(`received-${window.hangout.instance}`);
    const files = [];
    for await (const [, handle] of dir.entries()) files.push(await handle.getFile());
    const hex = async (blob) => [...new Uint8Array(await crypto.subtle.digest('SHA-256', await blob.arrayBuffer()))]
      .map((b) => b.toString(16).padStart(2, '0')).join('');
    const row = link.closest('li[data-direction="in"]');
    return {
      storage: link.dataset.storage,
      onDisk: await Promise.all(files.map(async (f) => ({ size: f.size, sha256: await hex(f) }))),
      forwarded: Number(row.dataset.forwarded),
      maxHeld: Number(row.dataset.maxHeld),
      window: Number(row.dataset.window),
    };
  }, name);
}

test('a page in a swarm with two pipelines receives, verifies and forwards', { timeout: 60000 }, async () => {
  const data = randomBytes(6 * 1024 * 1024 + 12345);
  const source = join(dir, 'swarm.bin');
  writeFileSync(source, data);
  const receivers = [1, 2].map((i) => launch(['hangoutsrc', 'room=swarm', `server=${server.wsUrl}`,
    `display-name=gst${i}`, '!', 'filesink', `location=${join(dir, `copy-${i}.bin`)}`], 50000));
  const page = await chrome.newPage(`${server.http}/?room=swarm&name=web`);
  await waitConnected(page, 2);
  const pageId = await page.evaluate(() => window.hangout.ownId);
  const share = sharer('swarm', source, 3);

  const sent = await share.done;
  assert.equal(sent.code, 0, `the sharer failed:\n${sent.output.slice(-4000)}`);
  const want = sha256(data);
  const outputs = [];
  for (const [i, r] of receivers.entries()) {
    const { code, output } = await r.done;
    assert.equal(code, 0, `receiver ${i + 1} failed:\n${output.slice(-4000)}`);
    assert.equal(sha256(readFileSync(join(dir, `copy-${i + 1}.bin`))), want, `receiver ${i + 1}'s copy`);
    outputs.push(output);
  }
  const saved = await savedCopy(page, 'swarm.bin');
  assert.equal(saved.storage, 'private');
  assert.deepEqual(saved.onDisk, [{ size: data.length, sha256: want }]);

  // The sharer handed the page some of the pieces, and the page sent each
  // of them on to both pipelines, which verified them as from the page.
  const counts = handed(sent.output);
  const toPage = counts[pageId];
  const pieces = Math.ceil(data.length / PIECE_SIZE);
  console.log(`pieces ${pieces}, handed ${JSON.stringify(counts)}, page forwarded ${saved.forwarded}, `
    + `receivers verified from the page ${outputs.map((o) => verifiedFrom(o, pageId))}, `
    + `page held at most ${saved.maxHeld} bytes`);
  assert.ok(toPage >= 1, `the sharer handed the page ${toPage} pieces`);
  assert.equal(saved.forwarded, 2 * toPage, 'each handed piece forwarded to both pipelines');
  for (const [i, output] of outputs.entries()) {
    const got = verifiedFrom(output, pageId);
    // A receiver that asked the sharer for a piece first drops the page's
    // copy as a duplicate; on loopback that is rare.
    assert.ok(got >= toPage / 2 && got <= toPage, `receiver ${i + 1} verified ${got} of the page's ${toPage} pieces`);
  }
  // Bounded memory: the window, plus what the disk has yet to take.
  assert.ok(saved.maxHeld <= saved.window + 1024 * 1024, `held ${saved.maxHeld} bytes, window ${saved.window}`);
});

test('a page takes version 2 while a version 1 member gets the same file directly', { timeout: 45000 }, async () => {
  const data = randomBytes(3 * 1024 * 1024 + 7);
  const source = join(dir, 'mixed.bin');
  writeFileSync(source, data);
  const old = startRoomPeer(server.wsUrl, 'mixed', 'v1-member');
  children.add(old);
  await old.waitForLine(/^joined /, 10000);
  const page = await chrome.newPage(`${server.http}/?room=mixed&name=web`);
  await waitConnected(page, 1);
  const pageId = await page.evaluate(() => window.hangout.ownId);
  const share = sharer('mixed', source, 2);

  const sent = await share.done;
  assert.equal(sent.code, 0, `the sharer failed:\n${sent.output.slice(-4000)}`);
  const want = sha256(data);
  assert.equal(await old.waitForLine(/^received mixed\.bin /, 10000), `received mixed.bin ${data.length} ${want} ok`);
  const saved = await savedCopy(page, 'mixed.bin');
  assert.deepEqual(saved.onDisk, [{ size: data.length, sha256: want }]);
  // The page alone was the swarm: every piece was handed to it or sent to
  // it directly, in version 2.
  const m = sent.output.match(/swarm: (\d+) pieces, (\d+) sent directly/);
  assert.ok(m, 'the sharer reports its swarm');
  assert.equal(Number(m[1]), Math.ceil(data.length / PIECE_SIZE));
  assert.equal((handed(sent.output)[pageId] ?? 0) + Number(m[2]), Number(m[1]));
  assert.equal(saved.forwarded, 0, 'no one to forward to');
});
