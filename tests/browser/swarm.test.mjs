// The page as a member of a version 2 swarm (docs/protocol.md §4): a C
// sharer (hangoutsink distribution=swarm) hands pieces to the page and to
// two hangoutsrc pipelines, and each of them forwards what it was handed
// to the others. Every copy is compared by SHA-256 computed outside the
// member that made it (node's crypto over what the pipelines wrote,
// WebCrypto over the page's file read back from the origin private file
// system). That the page forwarded is counted on the C side: the sharer's
// log says how many pieces it handed each member, and each receiver's
// piece window logs every piece it verified with the member it came from.
// Then: the page's upload shaped, so that its forwards wait; a version 1
// member beside the page gets the same file directly; the page as the
// sharer, in version 2 to a page and a pipeline and in version 1 to a
// member that speaks only that; a sharer and a
// forger played with raw messages (room-peer.c) against the
// page's limits, parser and corrupt-piece handling; and the page on plain
// http, where it has neither WebCrypto nor the origin private file system;
// a forwarder that leaves mid-piece.
import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { execFileSync } from 'node:child_process';
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
      maxWaiting: Number(row.dataset.maxWaiting),
      window: Number(row.dataset.window),
    };
  }, name);
}

// The page's local UDP ports of its connections to the members named
// gst…, as its selected candidate pairs say.
function portsToPipelines(page) {
  return page.evaluate(async () => {
    const ports = [];
    for (const p of window.hangout.peers.values()) {
      if (!p.name.startsWith('gst')) continue;
      const stats = await p.pc.getStats();
      for (const s of stats.values())
        if (s.type === 'transport' && s.selectedCandidatePairId)
          ports.push(stats.get(stats.get(s.selectedCandidatePairId).localCandidateId).port);
    }
    return ports;
  });
}

// Shapes what leaves those ports (everything on loopback inside run.sh's
// namespace) to `mbit` in all, with htb; returns the undo.
function shapeUpload(ports, mbit) {
  const tc = (...args) => execFileSync('tc', args, { stdio: 'pipe' });
  tc('qdisc', 'add', 'dev', 'lo', 'root', 'handle', '1:', 'htb');
  tc('class', 'add', 'dev', 'lo', 'parent', '1:', 'classid', '1:10', 'htb', 'rate', `${mbit}mbit`, 'ceil', `${mbit}mbit`);
  for (const port of ports)
    tc('filter', 'add', 'dev', 'lo', 'parent', '1:', 'protocol', 'ip', 'prio', '1', 'u32',
      'match', 'ip', 'sport', String(port), '0xffff', 'flowid', '1:10');
  return () => tc('qdisc', 'del', 'dev', 'lo', 'root');
}

// A sharer, the page and two hangoutsrc pipelines in `room`; `shapeMbit`
// limits the page's upload to the pipelines. Checks every copy and the
// page's forwards and memory; returns the figures.
async function swarmOfFour(room, size, { shapeMbit = null } = {}) {
  const data = randomBytes(size);
  const source = join(dir, `${room}.bin`);
  writeFileSync(source, data);
  const receivers = [1, 2].map((i) => launch(['hangoutsrc', `room=${room}`, `server=${server.wsUrl}`,
    `display-name=gst${i}`, '!', 'filesink', `location=${join(dir, `${room}-${i}.bin`)}`], 50000));
  const page = await chrome.newPage(`${server.http}/?room=${room}&name=web`);
  await waitConnected(page, 2);
  const pageId = await page.evaluate(() => window.hangout.ownId);
  const unshape = shapeMbit ? shapeUpload(await portsToPipelines(page), shapeMbit) : () => {};
  const began = performance.now();
  let sent;
  try {
    sent = await sharer(room, source, 3).done;
  } finally { unshape(); }
  const seconds = (performance.now() - began) / 1000;
  assert.equal(sent.code, 0, `the sharer failed:\n${sent.output.slice(-4000)}`);
  const want = sha256(data);
  const outputs = [];
  for (const [i, r] of receivers.entries()) {
    const { code, output } = await r.done;
    assert.equal(code, 0, `receiver ${i + 1} failed:\n${output.slice(-4000)}`);
    assert.equal(sha256(readFileSync(join(dir, `${room}-${i + 1}.bin`))), want, `receiver ${i + 1}'s copy`);
    outputs.push(output);
  }
  const saved = await savedCopy(page, `${room}.bin`);
  assert.equal(saved.storage, 'private');
  assert.deepEqual(saved.onDisk, [{ size: data.length, sha256: want }]);

  // The sharer handed the page some of the pieces, and the page sent each
  // of them on to both pipelines, which verified them as from the page.
  const counts = handed(sent.output);
  const toPage = counts[pageId];
  const pieces = Math.ceil(data.length / PIECE_SIZE);
  console.log(`${room}: ${pieces} pieces in ${seconds.toFixed(1)} s, handed ${JSON.stringify(counts)} `
    + `(the page ${pageId}), page forwarded ${saved.forwarded}, `
    + `receivers verified from the page ${outputs.map((o) => verifiedFrom(o, pageId))}, `
    + `page held at most ${saved.maxHeld} bytes, at most ${saved.maxWaiting} pieces waiting to be forwarded`);
  assert.ok(toPage >= 1, `the sharer handed the page ${toPage} pieces`);
  const fromPage = outputs.map((o) => verifiedFrom(o, pageId));
  for (const [i, got] of fromPage.entries()) {
    // A receiver that asked the sharer for a piece first (1 s after a later
    // one, §4.7) drops the page's copy as a duplicate: unshaped on loopback
    // that is rare; with the page's upload shaped it is the rule.
    const least = shapeMbit ? 1 : toPage / 2;
    assert.ok(got >= least && got <= toPage, `receiver ${i + 1} verified ${got} of the page's ${toPage} pieces`);
  }
  // Each of those was a forward; a pipeline that has the whole file leaves,
  // and what was still queued for it is not sent.
  assert.ok(saved.forwarded >= fromPage[0] + fromPage[1] && saved.forwarded <= 2 * toPage,
    `the page forwarded ${saved.forwarded} pieces, ${toPage} handed to it`);
  // Bounded memory: the window, plus what the disk has yet to take.
  assert.ok(saved.maxHeld <= saved.window + 1024 * 1024, `held ${saved.maxHeld} bytes, window ${saved.window}`);
  return { seconds, toPage, maxWaiting: saved.maxWaiting };
}

test('a page in a swarm with two pipelines receives, verifies and forwards', { timeout: 60000 }, async () => {
  await swarmOfFour('swarm', Number(process.env.SWARM_TEST_MIB ?? 6) * 1024 * 1024 + 12345);
});

// The page cannot stop reading from the sharer as a C forwarder does
// (docs/architecture.md, "Forwarding without a hold"): with its upload
// slower than its share, its forwards wait in its window, which must stay
// the bound on what it holds.
test('a page whose upload is slow holds no more than its window', { timeout: 60000 }, async () => {
  const { maxWaiting } = await swarmOfFour('slow', 16 * 1024 * 1024, { shapeMbit: 40 });
  assert.ok(maxWaiting >= 1, 'the shaped upload made forwards wait');
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

// The page as the sharer (§4.5, directly): version 2 to the page and the
// pipeline, which speak it, version 1 to room-peer.c, which does not.
test('a page shares in version 2 with the members that speak it, in version 1 with one that does not',
  { timeout: 60000 }, async () => {
    const data = randomBytes(5 * 1024 * 1024 + 4321);
    const source = join(dir, 'from-page.bin');
    writeFileSync(source, data);
    const want = sha256(data);
    const old = startRoomPeer(server.wsUrl, 'from-page', 'v1-member');
    children.add(old);
    await old.waitForLine(/^joined /, 10000);
    const copy = join(dir, 'from-page-gst.bin');
    const pipeline = launch(['hangoutsrc', 'room=from-page', `server=${server.wsUrl}`, 'display-name=gst',
      'num-files=1', '!', 'filesink', `location=${copy}`], 50000);
    const sharerPage = await chrome.newPage(`${server.http}/?room=from-page&name=alice`);
    const receiverPage = await chrome.newPage(`${server.http}/?room=from-page&name=bob`);
    await waitConnected(sharerPage, 3);
    await waitConnected(receiverPage, 3);
    const sharerId = await sharerPage.evaluate(() => window.hangout.ownId);
    await sharerPage.setInputFiles('#files', source);

    const saved = await savedCopy(receiverPage, 'from-page.bin');
    assert.deepEqual(saved.onDisk, [{ size: data.length, sha256: want }]);
    assert.equal(saved.window, 8 * 1024 * 1024, 'the page took it in version 2, with the sharer\'s window');
    const { code, output } = await pipeline.done;
    assert.equal(code, 0, `the pipeline failed:\n${output.slice(-4000)}`);
    assert.equal(sha256(readFileSync(copy)), want, 'the pipeline\'s copy');
    // Every piece verified by the pipeline's window, from the page.
    assert.equal(verifiedFrom(output, sharerId), Math.ceil(data.length / PIECE_SIZE), 'pieces from the page');
    assert.equal(await old.waitForLine(/^received from-page\.bin /, 10000), `received from-page.bin ${data.length} ${want} ok`);
    await sharerPage.waitForSelector('#transfers li[data-direction="out"][data-state="done"]', { timeout: 20000 });
    assert.match(await sharerPage.textContent('#transfers li[data-direction="out"] .info'), /3 verified/);
  });

// ---- a sharer and a forger played with raw messages (room-peer.c) ----

const BLOCK = 16384;
const digest = (...parts) => { const h = createHash('sha256'); for (const p of parts) h.update(p); return h.digest(); };

function pieceMessage(id, role, offset, payload) {
  const header = Buffer.alloc(26);
  header[0] = 2;
  Buffer.from(id, 'hex').copy(header, 1);
  header[17] = role;
  header.writeBigUInt64BE(BigInt(offset), 18);
  return Buffer.concat([header, payload]).toString('hex');
}

function hashesMessage(id, first, hashes) {
  const header = Buffer.alloc(29);
  header[0] = 3;
  Buffer.from(id, 'hex').copy(header, 1);
  header.writeBigUInt64BE(BigInt(first), 17);
  header.writeUInt32BE(hashes.length, 25);
  return Buffer.concat([header, ...hashes]).toString('hex');
}

// A file of four pieces of one block each (piece-size 16384), the last
// short: each piece's hash is its leaf, the root the tree of four (§4.2).
// And a room of a played sharer, a played forwarder and the page.
async function rawSwarm(room) {
  const data = randomBytes(3 * BLOCK + 1000);
  const pieces = [0, 1, 2, 3].map((i) => data.subarray(i * BLOCK, (i + 1) * BLOCK));
  const leaves = pieces.map((p) => digest(p));
  const root = digest(digest(leaves[0], leaves[1]), digest(leaves[2], leaves[3])).toString('hex');
  const id = randomBytes(16).toString('hex');
  const offer = { type: 'offer', version: 2, id, name: 'f.bin', size: data.length, mime: 'application/octet-stream',
    'chunk-size': 65536, 'piece-size': BLOCK, window: 4 * BLOCK, root };
  const sharerPeer = startRoomPeer(server.wsUrl, room, 'sharer');
  const forger = startRoomPeer(server.wsUrl, room, 'forger');
  children.add(sharerPeer);
  children.add(forger);
  await Promise.all([sharerPeer, forger].map((p) => p.waitForLine(/^joined /, 10000)));
  const page = await chrome.newPage(`${server.http}/?room=${room}&name=web`);
  const errors = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await waitConnected(page, 2);
  const toPage = async (p) => (await p.waitForLine(/^connected \S+ web /, 10000)).split(' ')[1];
  const pageAtSharer = await toPage(sharerPeer);
  const pageAtForger = await toPage(forger);
  const forgerId = (await sharerPeer.waitForLine(/^connected \S+ forger /, 10000)).split(' ')[1];
  const text = (p, to, msg) => p.send(`send-text ${to} ${JSON.stringify(msg)}`);
  const binary = (p, to, hex) => p.send(`send-data ${to} ${hex}`);
  return { data, pieces, leaves, root, id, offer, sharerPeer, forger, page, errors, pageAtSharer, pageAtForger,
    forgerId, text, binary };
}

test('a forwarder\'s corrupt pieces are reported, excluded after 3, and repaired from the sharer',
  { timeout: 40000 }, async () => {
    const { data, pieces, leaves, root, id, offer, sharerPeer, forger, page, errors, pageAtSharer, pageAtForger,
      forgerId, text, binary } = await rawSwarm('forgery');

    // Offers outside §4.9 are rejected with the C receiver's reasons, and
    // malformed ones are ignored.
    const refused = [['piece-size not supported', { 'piece-size': 10000 }],
      ['window not supported', { window: 3 * BLOCK + 1 }],
      ['window not supported', { 'piece-size': 65536, window: 16 * 1024 * 1024 }]];
    for (const [, change] of refused) text(sharerPeer, pageAtSharer, { ...offer, id: randomBytes(16).toString('hex'), ...change });
    text(sharerPeer, pageAtSharer, { ...offer, id: randomBytes(16).toString('hex'), root: undefined }); // no root: malformed
    text(sharerPeer, pageAtSharer, offer);
    await sharerPeer.waitForLine(new RegExp(`^accept \\S+ ${id}$`), 10000);
    const rejects = await sharerPeer.waitForLines(/^reject /, 3, 10000);
    assert.deepEqual(rejects.map((l) => l.split(' ').slice(3).join(' ')), refused.map(([why]) => why));
    // The same id from another member is in use (§4.3).
    text(forger, pageAtForger, offer);
    assert.match(await forger.waitForLine(/^reject /, 10000), /file id in use$/);

    text(sharerPeer, pageAtSharer, { type: 'swarm', id, members: [pageAtSharer, forgerId] });
    binary(sharerPeer, pageAtSharer, hashesMessage(id, 0, leaves));
    // Malformed binary messages are dropped, never thrown: a role above 3,
    // hashes with none, a message of one byte, an unknown kind.
    binary(forger, pageAtForger, pieceMessage(id, 7, 0, pieces[0]));
    binary(forger, pageAtForger, hashesMessage(id, 0, []));
    binary(forger, pageAtForger, '02');
    binary(forger, pageAtForger, '09');
    // Assigned data from a member other than the sharer is dropped.
    binary(forger, pageAtForger, pieceMessage(id, 1, 3 * BLOCK, pieces[3]));
    // Three forged pieces: each reported to the sharer and to the user.
    for (const i of [0, 1, 2]) {
      const forged = Buffer.from(pieces[i]);
      forged[i] ^= 1;
      binary(forger, pageAtForger, pieceMessage(id, 2, i * BLOCK, forged));
    }
    const reports = await sharerPeer.waitForLines(/^corrupt /, 3, 10000);
    assert.deepEqual(reports.map((l) => l.split(' ').slice(2).join(' ')),
      [0, 1, 2].map((i) => `${id} ${i} ${forgerId}`));
    // Excluded now: its genuine copy of piece 3 is dropped unread.
    binary(forger, pageAtForger, pieceMessage(id, 2, 3 * BLOCK, pieces[3]));
    // The page asked the sharer for each forged piece at once.
    const asked = (await sharerPeer.waitForLines(/^request /, 3, 10000)).map((l) => JSON.parse(l.split(' ')[3]));
    assert.deepEqual(asked.flat().sort(), [[0, 1], [1, 1], [2, 1]]);
    for (const i of [0, 1, 2]) binary(sharerPeer, pageAtSharer, pieceMessage(id, 3, i * BLOCK, pieces[i]));
    text(sharerPeer, pageAtSharer, { type: 'end', version: 2, id, size: data.length, root });
    // Piece 3 never came from anyone but the excluded forger: 1 s after
    // end the page asks the sharer for it.
    assert.equal(JSON.parse((await sharerPeer.waitForLines(/^request /, 4, 10000))[3].split(' ')[3])[0][0], 3);
    binary(sharerPeer, pageAtSharer, pieceMessage(id, 3, 3 * BLOCK, pieces[3]));
    await sharerPeer.waitForLine(/^ack \S+ ok$/, 10000);

    const saved = await savedCopy(page, 'f.bin');
    assert.deepEqual(saved.onDisk, [{ size: data.length, sha256: sha256(data) }]);
    const warnings = await page.locator('#transfers .warnings li').allTextContents();
    assert.deepEqual(warnings, [0, 1, 2].map((i) => `piece ${i} of 'f.bin' from forger failed verification`
      + (i === 2 ? '; its data for the file are dropped from now on' : '')));
    assert.deepEqual(errors, []);
  });

test('on plain http from another host (no WebCrypto, no private file system) the page verifies and keeps the file in memory',
  { timeout: 40000 }, async () => {
    // run.sh's veth address: not localhost, so the page is not a secure context.
    const lan = await startServer(['--host', '198.18.0.1']);
    children.add(lan);
    const data = randomBytes(1024 * 1024 + 99);
    const source = join(dir, 'lan.bin');
    writeFileSync(source, data);
    const page = await chrome.newPage(`${lan.http}/?room=lan&name=web`);
    assert.equal(await page.evaluate(() => window.isSecureContext || !!crypto.subtle || !!navigator.storage), false);
    const sent = await launch(['filesrc', `location=${source}`, '!', 'hangoutsink', 'room=lan',
      `server=${lan.wsUrl}`, 'display-name=sharer', 'min-peers=1', 'distribution=swarm'], 30000).done;
    assert.equal(sent.code, 0, `the sharer failed:\n${sent.output.slice(-4000)}`);
    assert.match(sent.output, /swarm: 17 pieces/);
    const sel = '#transfers li[data-state="done"] a[download="lan.bin"]';
    await page.waitForSelector(sel, { timeout: 10000 });
    const got = await page.evaluate(async (s) => {
      const a = document.querySelector(s);
      return { storage: a.dataset.storage, sha256: a.dataset.sha256,
        bytes: Array.from(new Uint8Array(await (await fetch(a.href)).arrayBuffer())) };
    }, sel);
    assert.equal(got.storage, 'memory');
    assert.equal(sha256(Buffer.from(got.bytes)), sha256(data));
    assert.equal(got.sha256, sha256(data));
  });

test('a forwarder that leaves mid-piece: the page drops its part and asks the sharer at once', { timeout: 30000 }, async () => {
  const { pieces, leaves, root, id, offer, sharerPeer, forger, page, errors, pageAtSharer, pageAtForger,
    forgerId, text, binary } = await rawSwarm('departure');
  text(sharerPeer, pageAtSharer, offer);
  await sharerPeer.waitForLine(new RegExp(`^accept \\S+ ${id}$`), 10000);
  text(sharerPeer, pageAtSharer, { type: 'swarm', id, members: [pageAtSharer, forgerId] });
  binary(sharerPeer, pageAtSharer, hashesMessage(id, 0, leaves));
  // Half of piece 0, forwarded; then the forwarder is gone. No later piece
  // is held, so only its leaving (§4.7) makes the page ask: every piece
  // whose hash came.
  binary(forger, pageAtForger, pieceMessage(id, 2, 0, pieces[0].subarray(0, BLOCK / 2)));
  await page.waitForFunction(() => [...window.hangout.swarmFiles.values()].some((f) => f.window.bytesHeld > 0),
    null, { timeout: 10000, polling: 50 });
  await forger.stop();
  const asked = JSON.parse((await sharerPeer.waitForLine(/^request /, 10000)).split(' ')[3]);
  assert.deepEqual(asked, [[0, 4]]);
  assert.equal(await page.evaluate(() => [...window.hangout.swarmFiles.values()][0].window.bytesHeld), 0);
  for (const i of [0, 1, 2, 3]) binary(sharerPeer, pageAtSharer, pieceMessage(id, 3, i * BLOCK, pieces[i]));
  text(sharerPeer, pageAtSharer, { type: 'end', version: 2, id, size: 3 * BLOCK + 1000, root });
  await sharerPeer.waitForLine(/^ack \S+ ok$/, 10000);
  assert.deepEqual(errors, []);
});
