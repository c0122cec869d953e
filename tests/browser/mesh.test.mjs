// Two pages join one room through the page's own address parameters and
// see each other connected (docs/protocol.md §1 between two browsers).
import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { startServer, launchBrowser, waitConnected, OUTPUT } from './lib.mjs';

let server, chrome;
before(async () => { server = await startServer(); chrome = await launchBrowser(); });
after(async () => { await chrome?.close(); await server?.stop(); });

test('the page without parameters asks for a room and a name', { timeout: 30000 }, async () => {
  const page = await chrome.newPage(`${server.http}/`);
  await page.waitForSelector('#join:not([hidden])');
  await page.fill('#join-room', 'form-room');
  await page.fill('#join-name', 'zoe');
  await page.press('#join-name', 'Enter'); // keyboard only
  await page.waitForSelector('#room:not([hidden])');
  await page.waitForFunction(() => window.hangout?.ownId, null, { timeout: 10000 });
  assert.match(page.url(), /room=form-room/);
  await page.context().close();
});

test('two pages in one room connect to each other', { timeout: 60000 }, async () => {
  const alice = await chrome.newPage(`${server.http}/?room=mesh&name=alice`);
  await alice.waitForFunction(() => window.hangout?.ownId, null, { timeout: 10000 });
  const bob = await chrome.newPage(`${server.http}/?room=mesh&name=bob`);
  await waitConnected(alice, 1);
  await waitConnected(bob, 1);
  assert.equal(await alice.textContent('#members li .name'), 'bob');
  assert.equal(await bob.textContent('#members li .name'), 'alice');
  await alice.screenshot({ path: join(OUTPUT, 'mesh-alice.png'), fullPage: true });

  // Bob leaves: Alice's list empties (the SCTP association closes).
  await bob.context().close();
  await alice.waitForFunction(() => document.querySelectorAll('#members li').length === 0,
    null, { timeout: 15000 });
});
