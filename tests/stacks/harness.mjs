// A room for one test: hangout-server, gst-launch-1.0 pipelines
// (hangoutsink, hangoutsrc) and members on the other stacks, on the network
// run.sh set up for this pass: HANGOUT_STACKS_NETWORK=loopback (one
// namespace holding only lo) or veth (the pipelines in a second namespace,
// HANGOUT_STACKS_PEER_NETNS, across a veth pair). Everything started is
// stopped when the test ends.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import assert from 'node:assert/strict';
import { startServer, startProcess, tail } from '../processes.mjs';
import { Member } from './member.mjs';

const VETH_LOCAL = '198.18.0.1';    // run.sh: our end of the veth pair
const VETH_PEER = '198.18.0.2';     // the pipelines' end

export const NETWORK = process.env.HANGOUT_STACKS_NETWORK ?? 'loopback';
const veth = NETWORK === 'veth';
if (veth && !process.env.HANGOUT_STACKS_PEER_NETNS) {
  throw new Error('HANGOUT_STACKS_PEER_NETNS is not set (run the suite through run.sh / meson test)');
}

// Bounds: a pair connects in well under a second, a few MiB cross in one.
export const CONNECT_MS = 15000;
export const TRANSFER_MS = 20000;
export const TEST_MS = 60000;
const LIFE_MS = 90000;

// -f: no fault handler that waits for a debugger; -m: the elements'
// messages (hangout-ack, hangout-file-complete) on stdout.
const GST_OPTIONS = ['-f', '-m'];

async function members(server) {
  const res = await fetch(server.url.replace(/^ws/, 'http').replace(/\/ws$/, '/healthz'));
  return (await res.json()).members;
}

/**
 * Opens a room for test `t`; returns its helpers:
 *   join(stack, name)      a Member on that stack, joined
 *   sink(bytes, options)   gst-launch-1.0 filesrc ! hangoutsink sharing bytes
 *   src(options)           gst-launch-1.0 hangoutsrc ! filesink (its file: .out)
 *   waitMembers(n)         until the server counts n members
 *   restartServer()        a new server where the old one was (its members rejoin)
 *   checkPath(pair)        the pair's ICE path is this pass's network
 */
export async function openRoom(t) {
  const dir = mkdtempSync(join(tmpdir(), 'hangout-stacks-'));
  const room = `stacks-${randomBytes(4).toString('hex')}`;
  const host = veth ? ['--host', VETH_LOCAL] : [];
  let server = await startServer(host);
  const procs = [server];
  const joined = [];
  t.after(async () => {
    for (const m of joined) m.close();
    await Promise.all(procs.map((p) => p.stop()));
    rmSync(dir, { recursive: true, force: true });
  });

  const pipeline = (name, args, stdin = 'ignore') => {
    const gst = ['gst-launch-1.0', ...GST_OPTIONS, ...args];
    const options = { timeoutMs: LIFE_MS, stdin };
    const proc = veth
      ? startProcess(name, 'nsenter', [`--net=${process.env.HANGOUT_STACKS_PEER_NETNS}`, ...gst], options)
      : startProcess(name, gst[0], gst.slice(1), options);
    procs.push(proc);
    return proc;
  };
  const common = (name) => [`room=${room}`, `server=${server.url}`, `display-name=${name}`];

  return {
    async join(stack, name) {
      const member = new Member({
        url: server.url, room, name, stack,
        // libdatachannel gathers on this address only (lo is left out otherwise).
        bindAddress: veth ? VETH_LOCAL : '127.0.0.1',
      });
      joined.push(member);
      await member.join();
      return member;
    },

    // With `bytes` null the sink reads its file from its stdin (fdsrc), so
    // the test decides when the file begins: proc.child.stdin.end(bytes).
    sink(bytes, { name = 'sink', file = `${name}.bin`, minPeers = 1 } = {}) {
      let source;
      if (bytes === null) {
        source = ['fdsrc', 'fd=0'];
      } else {
        const path = join(dir, file);
        writeFileSync(path, bytes);
        source = ['filesrc', `location=${path}`];
      }
      return pipeline(name, [...source, '!', 'hangoutsink', ...common(name), `filename=${file}`,
        `min-peers=${minPeers}`, 'join-timeout=20', 'ack-timeout=20'], bytes === null ? 'pipe' : 'ignore');
    },

    src({ name = 'src', numFiles = 1 } = {}) {
      const out = join(dir, `${name}.out`);
      const proc = pipeline(name, ['hangoutsrc', ...common(name), `num-files=${numFiles}`,
        '!', 'filesink', `location=${out}`]);
      proc.out = out;
      return proc;
    },

    async restartServer() {
      await server.stop();
      const port = new URL(server.url).port;
      server = await startServer([...host, '--port', port]);
      procs.push(server);
    },

    async waitMembers(n, ms = 10000) {
      const deadline = Date.now() + ms;
      for (;;) {
        const got = await members(server);
        if (got === n) return;
        if (Date.now() > deadline) throw new Error(`the server has ${got} members, not ${n}, after ${ms} ms`);
        await new Promise((r) => setTimeout(r, 50));
      }
    },

    // What a user of this network expects the pair to run over.
    async checkPath(pair) {
      const path = await pair.conn.selectedAddresses();
      const expected = veth ? { local: VETH_LOCAL, remote: VETH_PEER } : { local: '127.0.0.1', remote: '127.0.0.1' };
      assert.deepEqual(path, expected, `${pair.member.name} ↔ ${pair.name}: the selected ICE pair`);
    },
  };
}

// A pipeline's exit with its output's end when it is not a success.
export async function assertExitsCleanly(proc, ms = TRANSFER_MS) {
  const r = await proc.waitExit(ms);
  assert.deepEqual(r, { code: 0, signal: null }, `${proc.name} failed:\n${tail(proc.output, 40)}`);
}

// How hangoutsink's send ended (its last "hangout-send" progress message):
// "complete" once every member it offered the file to acknowledged it
// intact, with the bytes it sent. (Its "hangout-ack" element messages are
// posted after the ack wakes the streaming thread, so gst-launch may end
// before it prints the last one.)
export function sinkResult(output) {
  const ends = [...output.matchAll(/GstMessageProgress, type=\(GstProgressType\)(complete|error), code=\(string\)hangout-send, text=\(string\)"sent\\ (\d+)\\ bytes"/g)];
  const last = ends.at(-1);
  return last ? { result: last[1], bytes: Number(last[2]) } : null;
}

// hangoutsrc's "hangout-file-complete" messages: name and SHA-256, in order.
export function srcCompletes(output) {
  return [...output.matchAll(/hangout-file-complete, name=\(string\)(.*?), size=.*?sha256=\(string\)([0-9a-f]{64})/g)]
    .map((m) => ({ name: m[1], sha256: m[2] }));
}
