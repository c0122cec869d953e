// What a user of the page sees and does, on every screen: the invite
// address (no name in it), its Copy link button and its QR code (read back
// by zbarimg), a display name kept by the browser and changed in the room,
// a notification of a file that arrives while the tab is in the
// background, accepting and declining offered files, cancelling a receipt
// from a C sender (hangoutsink), declining a file of a swarm sharer
// (transfer version 2) and cancelling a send to a C receiver
// (hangoutsrc), with the C side's outcome checked; and axe-core on each
// screen (join form, empty room, QR code on a desktop and a phone,
// members, sending, receiving, done, failed) in both colour schemes, on a
// desktop and a phone, with a screenshot of each.
import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { startServer, startRoomPeer, launchBrowser, waitConnected, receivedFile, gstLaunch, OUTPUT }
  from './lib.mjs';

const AXE_SOURCE = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

let server, chrome, dir;
const children = new Set();
before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'hangout-ui-'));
  server = await startServer();
  chrome = await launchBrowser();
});
after(async () => {
  for (const c of children) await (c.stop?.() ?? c.kill());
  await chrome?.close();
  await server?.stop();
  rmSync(dir, { recursive: true, force: true });
});

const sha256 = (buf) => createHash('sha256').update(buf).digest('hex');
const askingPage = (url) => chrome.newPage(url, { acceptAll: false });

// The screens a person sees the page on: playwright's default desktop
// window and a phone's.
const DESKTOP = { width: 1280, height: 720 };
const PHONE = { width: 390, height: 844 };

// axe-core on the page as it is, in each colour scheme, on a desktop and
// on a phone: no serious or critical violation, nothing wider than the
// screen (no sideways scrolling), and a screenshot of each, named after
// the screen (`ui-SCREEN-SCHEME.png`, `ui-SCREEN-SCHEME-phone.png`).
// `inScheme(colorScheme, device)`: more checks, on each of them.
async function checkScreen(page, screen, inScheme = async () => {}) {
  if (!await page.evaluate(() => 'axe' in window)) await page.evaluate(AXE_SOURCE);
  for (const colorScheme of ['light', 'dark']) {
    await page.emulateMedia({ colorScheme });
    for (const [device, viewport, suffix] of [['desktop', DESKTOP, ''], ['phone', PHONE, '-phone']]) {
      await page.setViewportSize(viewport);
      const where = `${screen} screen, ${colorScheme} scheme, ${device}`;
      const violations = await page.evaluate(async () => {
        const result = await window.axe.run(document);
        return result.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical')
          .map((v) => `${v.id} (${v.impact}): ${v.nodes.map((n) => `${n.target.join(' ')}: ${n.failureSummary}`).join('; ')}`);
      });
      assert.deepEqual(violations, [], where);
      // What overflows the window's width, its scroll bar aside.
      const overflow = await page.evaluate(() => document.documentElement.scrollWidth
        - document.documentElement.clientWidth);
      assert.equal(overflow, 0, `${where}: wider than the screen`);
      // A short file name reads on one line, not cut into letters.
      const broken = await page.evaluate(() => [...document.querySelectorAll('#transfers .name')]
        .filter((name) => name.textContent.length <= 20).filter((name) => {
          const range = document.createRange();
          range.selectNodeContents(name);
          return range.getClientRects().length > 1;
        }).map((name) => name.textContent));
      assert.deepEqual(broken, [], `${where}: file names broken over lines`);
      await page.screenshot({ path: join(OUTPUT, `ui-${screen}-${colorScheme}${suffix}.png`), fullPage: true });
      await inScheme(colorScheme, device);
    }
  }
  await page.setViewportSize(DESKTOP);
  await page.emulateMedia({ colorScheme: 'light' });
}

// The line of the sharer's row for the member named `name`.
function recipientState(page, name) {
  return page.evaluate((who) => {
    const line = [...document.querySelectorAll('#transfers li[data-direction="out"] .recipients li')]
      .find((l) => l.querySelector('.who').textContent === who);
    return line ? `${line.dataset.state}: ${line.querySelector('.what').textContent}` : null;
  }, name);
}

test('the invite has no name; the name is asked, kept and changed in the room',
  { timeout: 60000 }, async () => {
    const alice = await askingPage(`${server.http}/?room=invite`);
    await alice.waitForSelector('#join:not([hidden])');
    assert.equal(await alice.inputValue('#join-room'), 'invite');
    assert.equal(await alice.inputValue('#join-name'), '');
    await checkScreen(alice, 'join-form');
    await alice.fill('#join-name', 'alice');
    await alice.press('#join-name', 'Enter');
    await alice.waitForFunction(() => window.hangout?.ownId, null, { timeout: 10000 });
    // The address bar and the invite: the room, not alice.
    const invite = `${server.http}/?room=invite`;
    assert.equal(alice.url(), invite);
    assert.equal(await alice.inputValue('#invite-link'), invite);
    await alice.context().grantPermissions(['clipboard-read', 'clipboard-write'], { origin: server.http });
    await alice.click('#copy-link');
    await alice.waitForFunction(() => document.getElementById('copy-status').textContent === 'Link copied.');
    assert.equal(await alice.evaluate(() => navigator.clipboard.readText()), invite);
    await checkScreen(alice, 'empty-room');

    // Bob opens the invite: asked for his name, not made a second alice.
    const bob = await askingPage(invite);
    await bob.waitForSelector('#join:not([hidden])');
    assert.equal(await bob.inputValue('#join-name'), '');
    await bob.fill('#join-name', 'bob');
    await bob.press('#join-name', 'Enter');
    await waitConnected(alice, 1);
    await waitConnected(bob, 1);
    assert.equal(await alice.textContent('#members li .name'), 'bob');
    await checkScreen(alice, 'members');

    // He changes it in the room: alice sees the new name on the same connection.
    await bob.fill('#my-name', 'robert');
    await bob.click('#rename button[type="submit"]');
    await alice.waitForFunction(() => document.querySelector('#members li .name')?.textContent === 'robert',
      null, { timeout: 15000 });
    await waitConnected(alice, 1);
    // This browser keeps it: reopening the invite joins as robert at once.
    await bob.goto(invite);
    await bob.waitForFunction(() => window.hangout?.ownId, null, { timeout: 10000 });
    assert.equal(await bob.isVisible('#join'), false);
    assert.equal(await bob.inputValue('#my-name'), 'robert');
    await alice.waitForFunction(() => {
      const items = [...document.querySelectorAll('#members li')];
      return items.length === 1 && items[0].dataset.state === 'connected'
        && items[0].querySelector('.name').textContent === 'robert';
    }, null, { timeout: 15000 });
  });

// On plain http from another host the Clipboard API does not exist: the
// button copies through document.execCommand, read back here by a page of
// the same browser over a secure origin.
test('on plain http the Copy link button still copies the invite', { timeout: 30000 }, async () => {
  const lan = await startServer(['--host', '198.18.0.1']);
  children.add(lan);
  const amy = await askingPage(`${lan.http}/?room=lan&name=amy`);
  await amy.waitForFunction(() => window.hangout?.ownId, null, { timeout: 10000 });
  assert.equal(await amy.evaluate(() => window.isSecureContext || 'clipboard' in navigator), false);
  await amy.click('#copy-link');
  await amy.waitForFunction(() => document.getElementById('copy-status').textContent === 'Link copied.');
  const reader = await amy.context().newPage();
  await amy.context().grantPermissions(['clipboard-read'], { origin: server.http });
  await reader.goto(server.http);
  assert.equal(await reader.evaluate(() => navigator.clipboard.readText()), `${lan.http}/?room=lan`);
});

// The QR code as a phone's camera would see it: a screenshot of the image
// as shown, read by zbarimg. A room secret is part of the invite (in its
// fragment), so the page opens none of the server's addresses to draw it.
test('the QR code of the invite reads as the invite, on a desktop and a phone, in both schemes',
  { timeout: 30000 }, async () => {
    const quinn = await askingPage(`${server.http}/?room=qr&name=quinn#secret=open-sesame`);
    await quinn.waitForFunction(() => window.hangout?.ownId, null, { timeout: 10000 });
    const invite = `${server.http}/?room=qr#secret=open-sesame`;
    assert.equal(await quinn.inputValue('#invite-link'), invite);
    const requests = [];
    quinn.on('request', (r) => requests.push(r.url()));
    await quinn.click('#show-qr', { timeout: 5000 });
    const image = quinn.locator('#qr-dialog[open] #qr-image');
    await image.waitFor({ timeout: 5000 });
    assert.equal(await image.getAttribute('alt'), `QR code of the invite address ${invite}`);
    await checkScreen(quinn, 'qr', async (colorScheme, device) => {
      const png = join(OUTPUT, `ui-qr-${device}-${colorScheme}-code.png`);
      await image.screenshot({ path: png });
      const { stdout } = await promisify(execFile)('zbarimg', ['--raw', '-q', png], { timeout: 5000 });
      assert.equal(stdout.trim(), invite, `${device}, ${colorScheme} scheme`);
    });
    assert.deepEqual(requests, []);
    // Escape closes it, and the keyboard is back on its button.
    await quinn.keyboard.press('Escape');
    await quinn.waitForFunction(() => !document.getElementById('qr-dialog').open, null, { timeout: 5000 });
    assert.equal(await quinn.evaluate(() => document.activeElement.id), 'show-qr');

    // A secret too long for any QR code: the page says so.
    const lena = await askingPage(`${server.http}/?room=qr-long&name=lena#secret=${'s'.repeat(2400)}`);
    await lena.click('#show-qr', { timeout: 5000 });
    assert.equal(await lena.textContent('#qr-dialog[open] #qr-note'),
      'The invite address is too long for a QR code; copy the link instead.');
    assert.equal(await lena.isVisible('#qr-image'), false);
  });

// In the page, before hangout.js: notifications recorded instead of shown,
// under the browser's own permission, and a switch that puts the tab in
// the background as far as the page can tell.
function fakeNotificationsAndVisibility() {
  const Real = window.Notification;
  window.notified = [];
  window.Notification = class extends EventTarget {
    static get permission() { return Real.permission; }
    static requestPermission() { return Real.requestPermission(); }
    constructor(title, options = {}) {
      super();
      window.notified.push({ title, body: options.body });
    }
    close() {}
  };
  let hidden = false;
  Object.defineProperty(document, 'visibilityState', { configurable: true, get: () => (hidden ? 'hidden' : 'visible') });
  Object.defineProperty(document, 'hidden', { configurable: true, get: () => hidden });
  window.setHidden = (h) => {
    hidden = h;
    document.dispatchEvent(new Event('visibilitychange'));
  };
}

test('a file that arrives while the tab is in the background is notified, once; one in view is not',
  { timeout: 30000 }, async () => {
    const url = (name) => `${server.http}/?room=notify&name=${name}`;
    const nia = await chrome.newPage();
    await nia.context().addInitScript(fakeNotificationsAndVisibility);
    await nia.goto(url('nia'));
    await nia.waitForFunction(() => window.hangout?.ownId, null, { timeout: 10000 });
    // Asked on her press only; the browser's answer (granted here) is said.
    assert.equal(await nia.evaluate(() => Notification.permission), 'default');
    await nia.context().grantPermissions(['notifications'], { origin: server.http });
    await nia.click('#notify', { timeout: 5000 });
    await nia.waitForSelector('#notify', { state: 'hidden', timeout: 5000 });
    assert.equal(await nia.textContent('#notify-status'),
      'You will be notified when a file arrives while this tab is in the background.');

    const sid = await chrome.newPage(url('sid'));
    await waitConnected(nia, 1);
    await waitConnected(sid, 1);
    for (const name of ['seen.bin', 'unseen.bin']) writeFileSync(join(dir, name), randomBytes(1500));
    await sid.setInputFiles('#files', join(dir, 'seen.bin'));
    await receivedFile(nia, 'seen.bin', 15000);
    await nia.evaluate(() => window.setHidden(true));
    await sid.setInputFiles('#files', join(dir, 'unseen.bin'));
    await receivedFile(nia, 'unseen.bin', 15000);
    // Made as the row turns done, so any second one would be here already.
    assert.deepEqual(await nia.evaluate(() => window.notified),
      [{ title: 'Received unseen.bin', body: '1.5 KB from sid' }]);
  });

test('offered files are accepted or declined; the sharer sees each recipient\'s answer',
  { timeout: 60000 }, async () => {
    const url = (name) => `${server.http}/?room=offers&name=${name}`;
    const sam = await askingPage(url('sam'));
    await sam.waitForFunction(() => window.hangout?.ownId, null, { timeout: 10000 });
    const ria = await askingPage(url('ria'));
    const dan = await askingPage(url('dan'));
    await waitConnected(sam, 2);
    await waitConnected(ria, 2);
    await waitConnected(dan, 2);

    const bytes = randomBytes(2 * 1024 * 1024 + 3);
    writeFileSync(join(dir, 'offered.bin'), bytes);
    await sam.setInputFiles('#files', join(dir, 'offered.bin'));
    const row = '#transfers li[data-direction="in"][data-name="offered.bin"]';
    await ria.waitForSelector(`${row} button[data-action="accept"]`, { timeout: 20000 });
    await checkScreen(ria, 'receiving');
    // Offered, never saved: no link until she accepts, whether or not it is all here;
    // nor acknowledged: the sharer waits for both answers.
    assert.equal(await ria.locator('#transfers a[download]').count(), 0);
    assert.equal(await recipientState(sam, 'ria'), 'pending: receiving…');
    await dan.click(`${row} button[data-action="decline"]`, { timeout: 20000 });
    await ria.click(`${row} button[data-action="accept"]`);
    const got = await receivedFile(ria, 'offered.bin');
    assert.deepEqual(got, { size: bytes.length, sha256: sha256(bytes), linkSha256: sha256(bytes) });
    assert.equal(await dan.getAttribute(row, 'data-state'), 'cancelled');
    assert.equal(await dan.textContent(`${row} .info`), 'Declined.');
    assert.equal(await dan.locator('#transfers a[download]').count(), 0);

    // One row, one line per recipient; a decline is not a failure.
    await sam.waitForSelector('#transfers li[data-direction="out"][data-state="done"]', { timeout: 20000 });
    assert.equal(await sam.locator('#transfers li[data-direction="out"]').count(), 1);
    assert.equal(await sam.locator('#transfers li[data-direction="out"] .recipients li').count(), 2);
    assert.equal(await recipientState(sam, 'ria'), 'ok: verified');
    assert.equal(await recipientState(sam, 'dan'), 'rejected: declined');
    assert.equal(await sam.textContent('#transfers li[data-direction="out"] .info'), 'Sent: 1 verified, 1 declined.');
    await checkScreen(ria, 'done');

    // Dan accepts everything from this room from now on: not asked again.
    await dan.check('#accept-all');
    const more = randomBytes(100 * 1024);
    writeFileSync(join(dir, 'more.bin'), more);
    await sam.setInputFiles('#files', join(dir, 'more.bin'));
    assert.equal((await receivedFile(dan, 'more.bin')).sha256, sha256(more));
    assert.equal(await dan.evaluate(() => localStorage.getItem('hangout.accept-all.offers')), '1');
  });

// The summary's member ids of `field`, from gst-launch -m's print of it.
function summaryIds(summary, field) {
  const m = summary.match(new RegExp(` ${field}=\\([a-z]+\\)<([^>]*)>`));
  assert.ok(m, `no ${field} in ${summary}`);
  return m[1].split(',').map((id) => id.trim()).filter(Boolean);
}

// Receiving from hangoutsink: accepted, then cancelled once bytes came.
// The sink reads its file slowly (64 KiB every 30 ms), so it is still
// sending then; its summary lists the page as rejected, not complete.
async function cancelReceipt() {
  writeFileSync(join(dir, 'from-gst.bin'), randomBytes(8 * 1024 * 1024));
  const sender = gstLaunch(['-m', 'filesrc', `location=${join(dir, 'from-gst.bin')}`, 'blocksize=65536', '!',
    'identity', 'sleep-time=30000', '!', 'hangoutsink', 'room=cancel-in', `server=${server.wsUrl}`,
    'display-name=gst-sender', 'min-peers=1', 'min-acks=0', 'spool=never'], 60000);
  children.add(sender);
  const taker = await askingPage(`${server.http}/?room=cancel-in&name=taker`);
  await waitConnected(taker, 1);
  const row = '#transfers li[data-direction="in"][data-name="from-gst.bin"]';
  await taker.click(`${row} button[data-action="accept"]`, { timeout: 20000 });
  await taker.waitForFunction((sel) => Number(document.querySelector(sel)?.dataset.bytes) > 0,
    row, { timeout: 20000, polling: 50 });
  await taker.click(`${row} button[data-action="cancel"]`);
  const takerId = await taker.evaluate(() => window.hangout.ownId);
  const [summary] = await sender.waitForOutput(/hangout-summary.*/, 30000, 'a hangout-summary');
  assert.deepEqual(summaryIds(summary, 'rejected'), [takerId]);
  assert.deepEqual(summaryIds(summary, 'complete'), []);
  assert.equal(await taker.textContent(`${row} .info`), 'Cancelled.');
  assert.equal(await taker.locator('#transfers a[download]').count(), 0);
  assert.equal((await sender.done).code, 0);
}

// A file of transfer version 2 (§4): the page accepts its offer at once
// (the protocol's accept), the user declines it; the sharer counts the page
// as rejected, not as one that has it.
async function declineSwarmFile() {
  writeFileSync(join(dir, 'swarm.bin'), randomBytes(4 * 1024 * 1024));
  const sharer = gstLaunch(['-m', 'filesrc', `location=${join(dir, 'swarm.bin')}`, '!', 'hangoutsink',
    'room=cancel-v2', `server=${server.wsUrl}`, 'display-name=gst-sharer', 'min-peers=1', 'min-acks=0',
    'distribution=swarm'], 60000);
  children.add(sharer);
  const decliner = await askingPage(`${server.http}/?room=cancel-v2&name=decliner`);
  await waitConnected(decliner, 1);
  const row = '#transfers li[data-direction="in"][data-name="swarm.bin"]';
  await decliner.click(`${row} button[data-action="decline"]`, { timeout: 20000 });
  const declinerId = await decliner.evaluate(() => window.hangout.ownId);
  const [summary] = await sharer.waitForOutput(/hangout-summary.*/, 30000, 'a hangout-summary');
  assert.deepEqual(summaryIds(summary, 'rejected'), [declinerId], summary);
  assert.deepEqual(summaryIds(summary, 'complete'), [], summary);
  assert.equal(await decliner.textContent(`${row} .info`), 'Declined.');
  assert.equal((await sharer.done).code, 0);
}

// Declined in the moment between its last piece and its file's save: the
// page no longer receives it and has no ack waiting yet, and the sharer
// must still hear a reject (not a failure). The save (the private file
// system's close) is held until the user has declined.
async function declineWhileSaving() {
  writeFileSync(join(dir, 'saving.bin'), randomBytes(1024 * 1024));
  const sharer = gstLaunch(['-m', 'filesrc', `location=${join(dir, 'saving.bin')}`, '!', 'hangoutsink',
    'room=decline-saving', `server=${server.wsUrl}`, 'display-name=gst-sharer', 'min-peers=1', 'min-acks=0',
    'distribution=swarm'], 60000);
  children.add(sharer);
  const decliner = await chrome.newPage(`${server.http}/?room=decline-saving&name=decliner`, {
    acceptAll: false,
    initScript: () => {
      const close = FileSystemWritableFileStream.prototype.close;
      window.closesHeld = 0;
      const held = new Promise((resolve) => { window.releaseCloses = resolve; });
      FileSystemWritableFileStream.prototype.close = async function () {
        window.closesHeld++;
        await held;
        return close.call(this);
      };
    },
  });
  await waitConnected(decliner, 1);
  const row = '#transfers li[data-direction="in"][data-name="saving.bin"]';
  await decliner.waitForFunction(() => window.closesHeld > 0, null, { timeout: 20000, polling: 50 });
  await decliner.click(`${row} button[data-action="decline"]`);
  await decliner.evaluate(() => window.releaseCloses());
  const declinerId = await decliner.evaluate(() => window.hangout.ownId);
  const [summary] = await sharer.waitForOutput(/hangout-summary.*/, 30000, 'a hangout-summary');
  assert.deepEqual(summaryIds(summary, 'rejected'), [declinerId], summary);
  assert.deepEqual(summaryIds(summary, 'failed'), [], summary);
  assert.equal(await decliner.textContent(`${row} .info`), 'Declined.');
  assert.equal((await sharer.done).code, 0);
}

// Sending to hangoutsrc: cancelled while held back; the source fails the
// file with the page's reason. Its downstream takes a buffer of 64 KiB
// every 10 ms (at most 6.5 MB/s), so the page's 32 MiB take 5 s at least,
// and the abort waits behind at most the source's 8 MiB queue. Then a
// member whose file does not verify: the failed screen.
async function cancelSend() {
  const receiver = gstLaunch(['-m', 'hangoutsrc', 'room=cancel-out', `server=${server.wsUrl}`,
    'display-name=gst-receiver', '!', 'identity', 'sleep-time=10000', '!', 'fakesink'], 60000);
  children.add(receiver);
  const giver = await askingPage(`${server.http}/?room=cancel-out&name=giver`);
  await waitConnected(giver, 1);
  writeFileSync(join(dir, 'to-gst.bin'), randomBytes(32 * 1024 * 1024));
  await giver.setInputFiles('#files', join(dir, 'to-gst.bin'));
  const row = '#transfers li[data-direction="out"]';
  await giver.waitForFunction((sel) => Number(document.querySelector(sel)?.dataset.bytes) > 1024 * 1024,
    row, { timeout: 20000, polling: 50 });
  await checkScreen(giver, 'sending');
  await giver.click(`${row} button[data-action="cancel"]`);
  await receiver.waitForOutput(
    /ERROR: .*Receiving 'to-gst\.bin' from giver failed: the sender aborted: cancelled by the sender/,
    30000, 'the failed file');
  assert.notEqual((await receiver.done).code, 0);
  assert.equal(await giver.getAttribute(row, 'data-state'), 'cancelled');
  assert.equal(await recipientState(giver, 'gst-receiver'), 'cancelled: cancelled');

  writeFileSync(join(dir, 'lie.bin'), randomBytes(100 * 1024));
  const liar = startRoomPeer(server.wsUrl, 'cancel-out', 'liar', join(dir, 'lie.bin'), { wrongSha256: true });
  children.add(liar);
  await giver.waitForSelector('#transfers li[data-direction="in"][data-state="failed"]', { timeout: 20000 });
  assert.match(await giver.textContent('#transfers li[data-direction="in"] .info'), /SHA-256 does not match/);
  await checkScreen(giver, 'failed');
}

// Three rooms at once: each waits mostly on its C member.
test('a page cancels receipts from hangoutsink (direct and swarm, also while saving) and a send to hangoutsrc',
  { timeout: 90000 }, async () => {
    await Promise.all([cancelReceipt(), declineSwarmFile(), declineWhileSaving(), cancelSend()]);
  });
