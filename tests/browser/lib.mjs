// Shared helpers of the browser suite: a hangout-server serving its built-in
// web client (what users get: gst/web compiled in, no --web-root), the C
// member (room-peer), gst-launch-1.0, and headless Chromium launched with
// exactly the suite's flags. Everything started here is stopped by the
// returned close() / stop() / kill().
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { chromium } from 'playwright-core';

export const OUTPUT = process.env.HANGOUT_TEST_OUTPUT ?? new URL('output', import.meta.url).pathname;
mkdirSync(OUTPUT, { recursive: true });

// The flags of the issue, and nothing that changes networking or media.
const FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
  '--allow-loopback-in-peer-connection'];

function env(name) {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is not set (run the suite through run.sh / meson test)`);
  return v;
}

// A child process whose stdout lines can be awaited.
function spawnWithLines(cmd, args, options = {}) {
  const child = spawn(cmd, args, { stdio: ['pipe', 'pipe', 'inherit'], ...options });
  const lines = [];
  const waiters = new Set();
  createInterface({ input: child.stdout }).on('line', (line) => {
    lines.push(line);
    for (const w of [...waiters]) w.check();
  });
  const exited = new Promise((resolve) => child.on('exit', resolve));
  // Resolves with the lines (seen so far or later) that `test` accepts, once
  // there are `count` of them.
  function waitForLines(test, count, timeoutMs = 30000, what = String(test)) {
    const accepts = (l) => (typeof test === 'function' ? test(l) : test.test(l));
    return new Promise((resolve, reject) => {
      const w = {
        check() {
          const found = lines.filter(accepts);
          if (found.length < count) return;
          waiters.delete(w); clearTimeout(timer); resolve(found);
        },
      };
      const timer = setTimeout(() => {
        waiters.delete(w);
        const found = lines.filter(accepts).length;
        // The last lines only: a flood test's output is long.
        reject(new Error(`${cmd}: ${found} of ${count} lines matching ${what} within ${timeoutMs} ms; `
          + `last lines:\n${lines.slice(-40).join('\n')}`));
      }, timeoutMs);
      waiters.add(w);
      w.check();
    });
  }
  // Resolves with the first line (seen so far or later) that `test` accepts.
  async function waitForLine(test, timeoutMs = 30000, what = String(test)) {
    return (await waitForLines(test, 1, timeoutMs, what))[0];
  }
  // One line to the process's standard input.
  function send(line) { child.stdin.write(`${line}\n`); }
  async function stop() {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.stdin.end();
    child.kill('SIGTERM');
    const t = setTimeout(() => child.kill('SIGKILL'), 5000);
    await exited;
    clearTimeout(t);
  }
  return { child, lines, waitForLine, waitForLines, send, stop };
}

// The page comes from the server's built-in resource: the suite tests the
// page users get, and meson rebuilds the server when gst/web changes.
// `args`: more options (--turn-server, say).
export async function startServer(args = []) {
  const proc = spawnWithLines(env('HANGOUT_SERVER'), ['--port', '0', ...args]);
  const wsUrl = await proc.waitForLine(/^wss?:\/\//, 10000, 'the server URL');
  const http = wsUrl.replace(/^ws/, 'http').replace(/\/ws$/, '');
  return { wsUrl, http, stop: proc.stop };
}

// room-peer.c: a C member. Its send-text / send-data commands (send())
// make it a member that sends whatever a test wants; see the helpers below.
export function startRoomPeer(wsUrl, room, name, file = null, { wrongSha256 = false, secret = null } = {}) {
  return spawnWithLines(env('HANGOUT_ROOM_PEER'), [wsUrl, room, name, ...(file ? [file] : [])],
    { env: { ...process.env, ROOM_PEER_WRONG_SHA256: wrongSha256 ? '1' : '0',
      ...(secret ? { ROOM_PEER_SECRET: secret } : {}) } });
}

// gst-launch-1.0 with a bound on its life (SIGKILL after `timeoutMs`).
// `done` resolves with its exit code, signal and output (stdout and stderr
// together) once its pipes are closed; waitForOutput() resolves with the
// match of `re` in the output so far or to come, and rejects when the
// process ends or `waitMs` passes first. `env` adds to the environment
// (GST_DEBUG, for one).
export function gstLaunch(args, timeoutMs, { env = {} } = {}) {
  const child = spawn('gst-launch-1.0', args,
    { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
  let output = '';
  let ended = false;
  const waiters = new Set();
  const onData = (d) => {
    output += d;
    for (const w of [...waiters]) w();
  };
  child.stdout.on('data', onData);
  child.stderr.on('data', onData);
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  const done = new Promise((resolve) => child.on('close', (code, signal) => {
    clearTimeout(timer);
    ended = true;
    for (const w of [...waiters]) w();
    resolve({ code, signal, output });
  }));
  function waitForOutput(re, waitMs = 30000, what = String(re)) {
    return new Promise((resolve, reject) => {
      const w = () => {
        const m = output.match(re);
        if (!m && !ended) return;
        waiters.delete(w);
        clearTimeout(t);
        if (m) resolve(m);
        else reject(new Error(`gst-launch-1.0 ended without printing ${what}:\n${output}`));
      };
      const t = setTimeout(() => {
        waiters.delete(w);
        reject(new Error(`gst-launch-1.0 printed no ${what} within ${waitMs} ms:\n${output}`));
      }, waitMs);
      waiters.add(w);
      w();
    });
  }
  return { child, done, waitForOutput, kill: () => child.kill('SIGKILL') };
}

// One browser (its own fresh profile). Each page gets a context of its
// own, off the record: pages share nothing, and what a page writes to its
// site's private storage is kept in memory. `persistent: true` instead
// gives every page the profile's one context, on disk, as a person's
// browser is (what a test of memory must measure).
export async function launchBrowser({ persistent = false } = {}) {
  const profile = mkdtempSync(join(tmpdir(), 'hangout-chromium-'));
  const options = {
    executablePath: process.env.HANGOUT_CHROMIUM ?? '/usr/bin/chromium',
    // Exactly the suite's flags: playwright's defaults are left out; it only
    // needs its protocol pipe.
    ignoreDefaultArgs: true,
    timeout: 30000,
  };
  let browser, shared = null;
  if (persistent) {
    shared = await chromium.launchPersistentContext(profile, { ...options, acceptDownloads: false,
      args: [...FLAGS, `--user-data-dir=${profile}`, '--remote-debugging-pipe', 'about:blank'] });
    browser = shared.browser();
  } else {
    browser = await chromium.launch({ ...options,
      args: [...FLAGS, `--user-data-dir=${profile}`, '--remote-debugging-pipe'] });
  }
  return {
    browser,
    // The suite's pages accept every file offered in their room, as a user
    // who ticked that box does; `acceptAll: false` leaves the page asking
    // (ui.test.mjs).
    // `initScript`: a function run in the page before its own scripts.
    async newPage(url, { acceptAll = true, initScript = null } = {}) {
      const context = shared ?? await browser.newContext({ acceptDownloads: false });
      if (initScript) await context.addInitScript(initScript);
      if (acceptAll) {
        await context.addInitScript(() => {
          const room = new URLSearchParams(location.search).get('room');
          if (room) localStorage.setItem(`hangout.accept-all.${room}`, '1');
        });
      }
      const page = await context.newPage();
      page.on('console', (m) => { if (m.type() === 'error') console.log(`[page] ${m.text()}`); });
      page.on('pageerror', (e) => console.log(`[page error] ${e.message}`));
      if (url) await page.goto(url);
      return page;
    },
    async close() {
      await (shared ?? browser).close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

// Waits until the page lists `n` members, all connected.
export async function waitConnected(page, n, timeout = 30000) {
  await page.waitForFunction((count) => {
    const items = document.querySelectorAll('#members li');
    return items.length === count && [...items].every((li) => li.dataset.state === 'connected');
  }, n, { timeout, polling: 100 });
}

// The bytes behind a received file's link, as a hex SHA-256 and a length.
export async function receivedFile(page, name, timeout = 60000) {
  const sel = `#transfers li[data-direction="in"][data-state="done"] a[download="${name}"]`;
  await page.waitForSelector(sel, { timeout });
  return page.evaluate(async (s) => {
    const a = document.querySelector(s);
    const buf = await (await fetch(a.href)).arrayBuffer();
    const digest = await crypto.subtle.digest('SHA-256', buf);
    return {
      size: buf.byteLength,
      sha256: [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, '0')).join(''),
      linkSha256: a.dataset.sha256,
    };
  }, sel);
}

// Raw messages of docs/protocol.md §2, as room-peer commands to `member`:
// a test can break any rule with them.
export const CHUNK_SIZE = 65536;
const HEADER_SIZE = 25;

export function sendControl(peer, member, msg) {
  peer.send(`send-text ${member} ${JSON.stringify(msg)}`);
}

export function sendData(peer, member, idHex, offset, payload) {
  const header = Buffer.alloc(HEADER_SIZE);
  header[0] = 1;
  Buffer.from(idHex, 'hex').copy(header, 1);
  header.writeBigUInt64BE(BigInt(offset), 17);
  peer.send(`send-data ${member} ${Buffer.concat([header, payload]).toString('hex')}`);
}

// A whole file by the rules: offer, data messages, end.
export function sendFile(peer, member, { id, name, bytes, mime = 'application/octet-stream' }) {
  sendControl(peer, member, { type: 'offer', version: 1, id, name, size: bytes.length, mime, 'chunk-size': CHUNK_SIZE });
  for (let off = 0; off < bytes.length; off += CHUNK_SIZE - HEADER_SIZE)
    sendData(peer, member, id, off, bytes.subarray(off, off + CHUNK_SIZE - HEADER_SIZE));
  sendControl(peer, member, { type: 'end', id, size: bytes.length, sha256: createHash('sha256').update(bytes).digest('hex') });
}
