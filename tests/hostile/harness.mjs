// One batch: a fresh server and fresh victims in a room, the hostile
// member connected to every victim, the batch sent and read, then a
// legitimate member shares a random file and every victim must have it,
// byte-identical, with nothing else to show for the batch: no crash, no
// hang, no sanitizer report, bounded memory, no hostile file reported
// complete, nothing written outside hangout-receive's directory.
import { mkdtempSync, mkdirSync, readdirSync, readFileSync, writeFileSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { randomBytes } from 'node:crypto';
import { startServer, startProcess, Hostile, tail } from './lib.mjs';
import { sha256 } from './catalogue.mjs';

// How much a victim's resident memory may grow while it reads one batch.
// The largest batch sends 20 MiB of offers never followed by data; a
// victim that keeps them (or what it refused) grows past this, one that
// bounds what a member may leave pending stays within a few MiB. Sanitizer builds keep
// freed memory in quarantine (capped at 32 MiB by the ASAN_OPTIONS of meson.build)
// and shadow memory beside the heap.
export const RSS_BOUND_KIB = (process.env.HANGOUT_SANITIZED === '1' ? 96 : 32) * 1024;
// Instrumented victims run a few times slower: every bound on time grows.
export const SLOW = process.env.HANGOUT_SANITIZED === '1' ? 3 : 1;

// gst-launch-1.0 without its fault handler (-f), which spins waiting for a
// debugger: a crash must end the process for everyone to see. -m prints
// the elements' messages (hangout-file-complete, hangout-ack, …).
const GST = 'gst-launch-1.0';
const GST_OPTIONS = ['-f', '-m'];
const LIFE_MS = 150000;
// The legitimate file (at most 1.6 MiB) takes a second or two to arrive;
// the sharer's ack-timeout is below this.
const SHARE_MS = 20000 * SLOW;

function fileOf(path) {
  try { return readFileSync(path); } catch { return Buffer.alloc(0); }
}

async function membersOnServer(server) {
  const http = server.url.replace(/^ws/, 'http').replace(/\/ws$/, '/healthz');
  const res = await fetch(http);
  return (await res.json()).members;
}

// The server's member count reaching `n` (polled: it has no event for it).
async function waitMembers(server, n, ms = 15000) {
  const deadline = Date.now() + ms;
  for (;;) {
    const got = await membersOnServer(server);
    if (got === n) return;
    if (Date.now() > deadline) throw new Error(`the server has ${got} members, not ${n}, after ${ms} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

// "hangout-file-complete" messages a gst-launch -m printed: name and digest.
function completes(output) {
  return [...output.matchAll(/hangout-file-complete, name=\(string\)(.*?), size=.*?sha256=\(string\)([0-9a-f]{64})/g)]
    .map((m) => ({ name: m[1], sha256: m[2] }));
}

function sanitizerReport(output) {
  const m = /(ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:)[^\n]*/.exec(output);
  return m ? m[0] : null;
}

function describeExit(r) {
  if (r === null) return 'still running';
  return r.signal ? `killed by ${r.signal}` : `exit ${r.code}`;
}

// A gst-launch element name as gst-launch prints strings: escaped.
const gstString = (s) => s.replace(/([ ,;()\\"])/g, '\\$1');

/**
 * spec:
 *   sharerFirst  the sharer joins before the hostile member and the
 *                hostile member can aim at its connections; else it joins
 *                after the batch. Either way it reads the file from its
 *                stdin (fdsrc), which gets the file once every victim is
 *                connected to it.
 *   sharerPeers  min-peers of the sharer (3: the victims; 4: and the hostile)
 *   attack(ctx)  sends the batch (none: the batch is in the share's hooks); ctx has
 *                hostile, peer(name), id(name), top, victims, fail(who, what)
 *   onShare(ctx, offer)  the hostile member's reply to the sharer's offer
 *   drainMs      how long the victims may take to read the batch
 *   also         { src0: [Buffer...], recv: [{name, bytes}] }: hostile
 *                files that are valid and must arrive (before the legit one)
 */
export async function runBatch(spec) {
  const failures = [];
  const fail = (who, what) => failures.push(`${who}: ${what}`);
  const top = mkdtempSync(join(tmpdir(), 'hangout-hostile-'));
  const out = join(top, 'out');
  const dir = join(top, 'a', 'b', 'dir');
  mkdirSync(out);
  mkdirSync(dir, { recursive: true });
  const room = `hostile-${randomBytes(4).toString('hex')}`;
  const legitName = `legit-${randomBytes(3).toString('hex')}.bin`;
  const legit = randomBytes(100 * 1024 + Math.floor(Math.random() * 1.5 * 1024 * 1024));
  writeFileSync(join(top, 'legit.bin'), legit);
  const procs = [];
  let hostile;
  const server = await startServer();
  try {
    const common = [`room=${room}`, `server=${server.url}`, `join-timeout=${15 * SLOW}`];
    const src = (name, extra) => startProcess(name, GST, [...GST_OPTIONS, 'hangoutsrc', ...common, `display-name=${name}`,
      ...extra, '!', 'filesink', 'buffer-mode=2', `location=${join(out, name)}`], { timeoutMs: LIFE_MS });
    const victims = {
      src1: src('src1', []),
      src0: src('src0', ['num-files=0']),
      recv: startProcess('recv', process.env.HANGOUT_RECEIVE, ['--room', room, '--server', server.url,
        '--name', 'recv', '--dir', dir], { timeoutMs: LIFE_MS, cwd: dirname(dir) }),
    };
    procs.push(...Object.values(victims));
    const sharerArgs = (source) => [...GST_OPTIONS, ...source, '!', 'hangoutsink', ...common, 'display-name=sharer',
      `min-peers=${spec.sharerPeers ?? 3}`, `filename=${legitName}`, `ack-timeout=${8 * SLOW}`];
    let sharer = null;
    // A victim that cannot even join (it died at start) says why.
    const joined = (n) => waitMembers(server, n).catch((e) => {
      const gone = procs.filter((p) => !p.alive()).map((p) => `${p.name}: ${describeExit(p.result)}:\n${tail(p.output, 15)}`);
      throw new Error([e.message, ...gone].join('\n'));
    });
    await joined(3);
    if (spec.sharerFirst) {
      sharer = startProcess('sharer', GST, sharerArgs(['fdsrc', 'fd=0']), { timeoutMs: LIFE_MS, stdin: 'pipe' });
      procs.push(sharer);
      await joined(4);
    }

    hostile = new Hostile(server.url, room, spec.hostileName ?? 'hostile');
    await hostile.join();
    const id = (name) => hostile.memberNamed(name);
    const peer = (name) => hostile.peers.get(id(name));
    await Promise.all([...hostile.peers.values()].map((p) => p.waitOpen()));
    if (sharer) {
      // The sharer connected to every victim: its connections are there to aim at.
      for (const v of ['src1', 'src0', 'recv', 'hostile']) {
        const vid = v === 'hostile' ? hostile.id : id(v);
        await sharer.waitForOutput(new RegExp(`hangout-member-joined, id=\\(string\\)${vid}`), 20000, `${v} connected`);
      }
    }
    const ctx = { hostile, peer, id, top, dir, victims, sharer: () => sharer, server, fail };

    const before = Object.fromEntries(Object.entries(victims).map(([n, p]) => [n, p.rssKiB()]));
    if (sharer) before.sharer = sharer.rssKiB();
    await spec.attack?.(ctx);
    // A victim may rightly stop answering pings it is flooded with; then
    // the share below is what tells whether it is still well.
    for (const p of hostile.peers.values()) {
      try { await p.drain((spec.drainMs ?? 10000) * SLOW); } catch (e) { console.log(`# note: ${e.message}`); }
    }
    const all = { ...victims, ...(sharer ? { sharer } : {}) };
    for (const [n, p] of Object.entries(all)) {
      const after = p.rssKiB();
      if (after === null || before[n] === null) continue;
      if (after - before[n] > RSS_BOUND_KIB) {
        fail(n, `VmRSS grew by ${after - before[n]} KiB reading the batch (${before[n]} → ${after} KiB; bound ${RSS_BOUND_KIB} KiB)`);
      }
    }

    // The legitimate member shares its file.
    if (spec.onShare) {
      hostile.onAppMessage = (p, msg) => {
        if (typeof msg !== 'string' || !msg.includes('"offer"')) return;
        let o;
        try { o = JSON.parse(msg); } catch { return; }
        if (o.type === 'offer' && o.name === legitName) {
          spec.onShare(ctx, o, p).catch((e) => fail('hostile', `could not send its reply to the share: ${e.message}`));
        }
      };
    } else {
      // A polite receiver otherwise: acknowledge what the sharer sends.
      hostile.onAppMessage = (p, msg) => {
        if (typeof msg !== 'string') return;
        let o;
        try { o = JSON.parse(msg); } catch { return; }
        if (o.type === 'end') p.sendApp(JSON.stringify({ type: 'reject', id: o.id, reason: 'not listening' }));
        if (o.type === 'offer') p.sendApp(JSON.stringify({ type: 'reject', id: o.id, reason: 'not listening' }));
      };
    }
    if (spec.beforeShare) await spec.beforeShare(ctx);
    if (!sharer) {
      // It offers the file to the members connected once min-peers are;
      // the hostile member connects as fast as the victims, so the file
      // is written only once every victim is connected to the sharer.
      sharer = startProcess('sharer', GST, sharerArgs(['fdsrc', 'fd=0']), { timeoutMs: LIFE_MS, stdin: 'pipe' });
      procs.push(sharer);
      all.sharer = sharer;
      for (const v of ['src1', 'src0', 'recv']) {
        await sharer.waitForOutput(new RegExp(`hangout-member-joined, id=\\(string\\)${id(v)}`), 20000 * SLOW,
          `${v} connected to the sharer`);
      }
    }
    // A sharer that died meanwhile is reported below, not as EPIPE here.
    sharer.child.stdin.on('error', () => {});
    sharer.child.stdin.end(legit);
    if (spec.afterShareStarted) await spec.afterShareStarted(ctx);

    const want = sha256(legit);
    const check = (who, f) => f().catch((e) => fail(who, e.message));
    const checks = [];
    checks.push(check('sharer', async () => {
      const r = await sharer.waitExit(SHARE_MS);
      if (r.code !== 0) fail('sharer', `${describeExit(r)}:\n${tail(sharer.output, 15)}`);
    }));
    checks.push(check('src1', async () => {
      const r = await victims.src1.waitExit(SHARE_MS);
      if (r.code !== 0) { fail('src1', `${describeExit(r)}:\n${tail(victims.src1.output, 15)}`); return; }
      const got = fileOf(join(out, 'src1'));
      if (sha256(got) !== want) fail('src1', `its filesink has ${got.length} bytes (SHA-256 ${sha256(got)}), not the ${legit.length} shared (${want})`);
    }));
    checks.push(check('src0', async () => {
      await victims.src0.waitForOutput(new RegExp(`hangout-file-complete, name=\\(string\\)${gstString(legitName)}, size=\\(gint64\\)${legit.length}, sha256=\\(string\\)${want}`), SHARE_MS, `${legitName} complete`);
      const expected = Buffer.concat([...(spec.also?.src0 ?? []), legit]);
      const got = fileOf(join(out, 'src0'));
      if (!got.equals(expected)) fail('src0', `its filesink has ${got.length} bytes (SHA-256 ${sha256(got)}), not the ${expected.length} expected (${sha256(expected)})`);
    }));
    checks.push(check('recv', async () => {
      await victims.recv.waitForOutput(new RegExp(`saved '${legitName}' from sharer as `), SHARE_MS, `saved '${legitName}'`);
    }));
    await Promise.all(checks);

    // Alive: the victims that were not told to stop.
    for (const n of ['src0', 'recv']) {
      if (!victims[n].alive()) fail(n, `${describeExit(victims[n].result)} before the end:\n${tail(victims[n].output, 15)}`);
    }

    // Nothing hostile reported complete.
    const allowedComplete = new Set([legitName, ...(spec.also?.recv ?? []).map((f) => f.name)]);
    for (const n of ['src1', 'src0']) {
      for (const c of completes(victims[n].output)) {
        if (c.name !== gstString(legitName) && !(n === 'src0' && spec.also?.src0)) {
          fail(n, `reported a hostile file complete: '${c.name}' (${c.sha256})`);
        }
      }
    }
    checkDirectories(top, dir, [{ name: legitName, bytes: legit }, ...(spec.also?.recv ?? [])], fail);

    if (!server.alive()) fail('hangout-server', `${describeExit(server.result)}:\n${tail(server.output, 15)}`);
    for (const n of ['src1', 'src0']) {
      const started = [...victims[n].output.matchAll(/hangout-file-started, name=\(string\)(.{0,80})/g)].map((m) => m[1]);
      if (failures.some((f) => f.startsWith(n)) && started.length) {
        fail(n, `(files it started: ${started.slice(0, 10).join(' | ')}${started.length > 10 ? ` … ${started.length} in all` : ''})`);
      }
    }
    for (const [n, p] of Object.entries(all)) {
      const report = sanitizerReport(p.output);
      if (report) fail(n, `sanitizer: ${report}\n${tail(p.output.slice(p.output.indexOf(report)), 25)}`);
    }
    if (spec.check) await spec.check(ctx, fail);
  } finally {
    hostile?.close();
    await Promise.all(procs.map((p) => p.stop()));
    await server.stop();
    if (failures.length === 0) rmSync(top, { recursive: true, force: true });
  }
  return failures;
}

// hangout-receive's directory holds what it must have saved, each once
// (told apart by content: it prints names in the C locale, '?' for every
// non-ASCII character), and at most its hidden partial files; nothing
// beside or above it changed. The names it chose are safe: no control or
// bidirectional-override characters, no leading dot, no separator, short.
function checkDirectories(top, dir, expected, fail) {
  const expectTop = ['a', 'legit.bin', 'out'].sort();
  const gotTop = readdirSync(top).sort();
  if (JSON.stringify(gotTop) !== JSON.stringify(expectTop)) fail('recv', `wrote beside its directory's parents: ${top} has ${JSON.stringify(gotTop)}`);
  for (const [d, want] of [[join(top, 'a'), ['b']], [join(top, 'a', 'b'), ['dir']]]) {
    const got = readdirSync(d);
    if (JSON.stringify(got) !== JSON.stringify(want)) fail('recv', `wrote outside --dir: ${d} has ${JSON.stringify(got)}`);
  }
  const outFiles = readdirSync(join(top, 'out')).sort();
  if (outFiles.some((f) => !['src0', 'src1'].includes(f))) fail('victims', `${top}/out has ${JSON.stringify(outFiles)}`);
  const missing = new Map(expected.map((f) => [sha256(f.bytes), f.name]));
  for (const e of readdirSync(dir)) {
    if (/^\.hangout-.{6}\.part$/.test(e)) continue;
    const digest = sha256(fileOf(join(dir, e)));
    if (!missing.has(digest)) {
      fail('recv', `saved a file that is no complete file shared: ${JSON.stringify(e)}`);
      continue;
    }
    missing.delete(digest);
    // eslint-disable-next-line no-control-regex
    if (/[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069/\\]/.test(e) || e.startsWith('.') || Buffer.byteLength(e) > 255) {
      fail('recv', `unsafe name in --dir: ${JSON.stringify(e)}`);
    }
  }
  for (const name of missing.values()) fail('recv', `did not save ${JSON.stringify(name)}`);
  if (existsSync(join(top, 'abs-escape.bin')) || existsSync(join(top, 'a', 'etc'))) fail('recv', 'a hostile path was written');
}
