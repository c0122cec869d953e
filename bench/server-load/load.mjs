// What a signalling server costs under many members, for hangout-server
// and, side by side in the same run, PeerJS's server and libsoup's own
// WebSocket server doing nothing (soup-floor.c; joins only, it relays
// nothing) (bench/server-load.sh
// runs this; docs/performance.md, "The signalling server under 10,000
// members", has the results and the method).
//
// For each server and repetition, in turn: start it, let N members in
// (each a WebSocket that joins: `join` answered by `welcome` for
// hangout-server, in rooms of two; the id in the URL answered by `OPEN`
// for PeerJS) with a bounded number of joins in flight, then with all N
// idle:
//   - memory: the server's resident set after the fill less before it, per
//     member;
//   - CPU per join: the server's user and system time over the fill, per
//     member let in;
//   - join latency at N: PROBES more members join one at a time; from
//     opening the WebSocket to the answer (p50, p99), and the server's CPU
//     per probe;
//   - signal relay at N: SIGNALS messages from one member of a pair to the
//     other through the server, paced, from the send to the arrival (both
//     ends are in this process, on one clock).
// Prints one line of JSON per run and a Markdown table of medians.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { WebSocket } from 'ws';

const args = Object.fromEntries(process.argv.slice(2).reduce((acc, arg, i, all) => {
  if (arg.startsWith('--')) acc.push([arg.slice(2), all[i + 1]]);
  return acc;
}, []));
const members = Number(args.members ?? 10000);
const probes = Number(args.probes ?? 200);
const signals = Number(args.signals ?? 1000);
const runs = Number(args.runs ?? 3);
const inFlight = Number(args['in-flight'] ?? 64);
const kinds = (args.servers ?? 'hangout peerjs').split(/\s+/).filter(Boolean);
const hangoutServer = args['hangout-server'];
const soupFloor = args['soup-floor'];
const here = new URL('.', import.meta.url).pathname;
// Every member is kept alive the way its server expects: hangout-server
// pings every 30 s (ws answers), PeerJS wants a HEARTBEAT within 90 s.
const HEARTBEAT_MS = 25000;
const TIMEOUT_MS = 30000;
const TICKS = 100; // /proc/PID/stat's clock ticks per second (USER_HZ)

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const hex = (bytes) => randomBytes(bytes).toString('hex');

function cpuSeconds(pid) {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / TICKS;
}

function rssKiB(pid) {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return Number(m[1]);
}

function percentile(values, p) {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

const median = (values) => percentile(values, 50);

// Starts a server; resolves with its PID and WebSocket base URL.
function startServer(kind) {
  const stdio = { stdio: ['ignore', 'pipe', 'inherit'] };
  const child = kind === 'hangout'
    ? spawn(hangoutServer, ['--port', '0', '--max-connections', String(members + probes + 1000),
      '--max-per-address', String(members + probes + 1000)], stdio)
    : kind === 'libsoup' ? spawn(soupFloor, [], stdio)
      : spawn(process.execPath, [`${here}/peerjs-server.mjs`], stdio);
  return new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`${kind}: no URL within 10 s`)), 10000);
    child.on('exit', (code) => reject(new Error(`${kind} exited with status ${code}`)));
    child.stdout.on('data', (chunk) => {
      out += chunk;
      const line = out.split('\n')[0];
      if (!out.includes('\n')) return;
      clearTimeout(timer);
      child.stdout.removeAllListeners('data');
      child.stdout.resume();
      const url = kind !== 'peerjs' ? line.trim() : `ws://127.0.0.1:${line.split(' ')[1]}/peerjs`;
      resolve({ child, pid: child.pid, url });
    });
  });
}

// One member: joined, with its id; `onSignal(seq)` for what it is sent.
class Member {
  constructor(kind, url, room) {
    this.kind = kind;
    this.started = process.hrtime.bigint();
    if (kind !== 'peerjs') {
      this.ws = new WebSocket(url, { perMessageDeflate: false });
      this.ws.on('open', () => this.ws.send(JSON.stringify({ type: 'join', room, name: 'load' })));
    } else {
      this.id = hex(8);
      this.ws = new WebSocket(`${url}?key=peerjs&id=${this.id}&token=${hex(4)}`, { perMessageDeflate: false });
    }
    this.onSignal = null;
    this.joined = new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${kind}: no answer to a join within ${TIMEOUT_MS} ms`)), TIMEOUT_MS);
      this.ws.on('error', (error) => { clearTimeout(timer); reject(error); });
      this.ws.on('close', (code, reason) => {
        clearTimeout(timer);
        reject(new Error(`${kind}: closed (${code} ${reason})`));
      });
      this.ws.on('message', (data) => {
        const message = JSON.parse(data);
        if (message.type === 'welcome' || message.type === 'OPEN') {
          clearTimeout(timer);
          if (message.type === 'welcome') this.id = message.id;
          this.latency = Number(process.hrtime.bigint() - this.started) / 1e6;
          resolve(this);
        } else if ((message.type === 'signal' || message.type === 'OFFER') && this.onSignal) {
          this.onSignal(message.payload.seq);
        } else if (message.type === 'error') {
          reject(new Error(`${kind}: ${message.code}: ${message.reason}`));
        }
      });
    });
  }

  signal(to, seq) {
    this.ws.send(JSON.stringify(this.kind !== 'peerjs'
      ? { type: 'signal', to: to.id, payload: { seq } }
      : { type: 'OFFER', dst: to.id, payload: { seq } }));
  }

  heartbeat() {
    if (this.kind === 'peerjs' && this.ws.readyState === WebSocket.OPEN)
      this.ws.send('{"type":"HEARTBEAT"}');
  }
}

async function run(kind) {
  const server = await startServer(kind);
  const all = [];
  const heartbeats = setInterval(() => all.forEach((m) => m.heartbeat()), HEARTBEAT_MS);
  try {
    await sleep(500);
    const rssBefore = rssKiB(server.pid);
    const cpuBefore = cpuSeconds(server.pid);
    const fillStart = process.hrtime.bigint();
    let next = 0;
    const worker = async () => {
      while (next < members) {
        const i = next++;
        const member = new Member(kind, server.url, `room-${i >> 1}`);
        all.push(member);
        await member.joined;
      }
    };
    await Promise.all(Array.from({ length: inFlight }, worker));
    const fillSeconds = Number(process.hrtime.bigint() - fillStart) / 1e9;
    const fillCpu = cpuSeconds(server.pid) - cpuBefore;
    await sleep(2000);
    const rssIdle = rssKiB(server.pid);

    const probeCpuBefore = cpuSeconds(server.pid);
    const probeLatency = [];
    for (let i = 0; i < probes; i++) {
      const member = new Member(kind, server.url, `probe-${i}`);
      all.push(member);
      probeLatency.push((await member.joined).latency);
    }
    const probeCpu = cpuSeconds(server.pid) - probeCpuBefore;

    // Pairs of the fill (rooms of two), each used once: no member comes near
    // hangout-server's rate limit.
    const relay = [];
    const pairs = kind === 'libsoup' ? 0 : Math.min(signals, Math.floor(members / 2));
    if (pairs > 0) await new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${kind}: ${pairs - relay.length} signals not relayed within ${TIMEOUT_MS} ms`)), TIMEOUT_MS + pairs * 2);
      let sent = 0;
      const sentAt = new Map();
      const pace = setInterval(() => {
        // 500 signals a second, in bursts of 5 every 10 ms.
        for (let k = 0; k < 5 && sent < pairs; k++, sent++) {
          const from = all[2 * sent];
          const to = all[2 * sent + 1];
          const seq = sent;
          to.onSignal = (got) => {
            if (got !== seq) return;
            relay.push(Number(process.hrtime.bigint() - sentAt.get(seq)) / 1e6);
            if (relay.length === pairs) { clearTimeout(timer); resolve(); }
          };
          sentAt.set(seq, process.hrtime.bigint());
          from.signal(to, seq);
        }
        if (sent === pairs) clearInterval(pace);
      }, 10);
    });
    return {
      server: kind,
      members,
      fill_s: fillSeconds,
      kib_per_member: (rssIdle - rssBefore) / members,
      cpu_ms_per_join: (fillCpu * 1000) / members,
      join_p50_ms: median(probeLatency),
      join_p99_ms: percentile(probeLatency, 99),
      probe_cpu_ms_per_join: (probeCpu * 1000) / probes,
      relay_p50_ms: pairs ? median(relay) : null,
      relay_p99_ms: pairs ? percentile(relay, 99) : null,
    };
  } finally {
    clearInterval(heartbeats);
    for (const member of all) member.ws.terminate();
    server.child.removeAllListeners('exit');
    const exited = new Promise((resolve) => server.child.once('exit', resolve));
    server.child.kill('SIGTERM');
    await Promise.race([exited, sleep(5000)]);
    server.child.kill('SIGKILL');
  }
}

const results = [];
for (let r = 0; r < runs; r++) {
  for (const kind of kinds) {
    const result = await run(kind);
    console.log(JSON.stringify(result));
    results.push(result);
  }
}

const columns = [
  ['fill_s', 'time to let them in, s', 2],
  ['kib_per_member', 'KiB per member', 2],
  ['cpu_ms_per_join', 'CPU per join, ms', 3],
  ['join_p50_ms', 'join p50 at N, ms', 2],
  ['join_p99_ms', 'join p99 at N, ms', 2],
  ['probe_cpu_ms_per_join', 'CPU per join at N, ms', 3],
  ['relay_p50_ms', 'relay p50, ms', 2],
  ['relay_p99_ms', 'relay p99, ms', 2],
];
console.log(`\n${members} members, medians of ${runs}\n`);
console.log(`| server | ${columns.map((c) => c[1]).join(' | ')} |`);
console.log(`|---|${columns.map(() => '---').join('|')}|`);
const medians = {};
for (const kind of kinds) {
  const mine = results.filter((r) => r.server === kind);
  medians[kind] = Object.fromEntries(columns.map(([key]) => [key, median(mine.map((r) => r[key]))]));
  const cell = (key, digits) => (medians[kind][key] == null ? '–' : medians[kind][key].toFixed(digits));
  console.log(`| ${kind} | ${columns.map(([key, , digits]) => cell(key, digits)).join(' | ')} |`);
}
if (medians.hangout && medians.peerjs) {
  console.log(`| hangout / peerjs | ${columns.map(([key]) => `${(medians.hangout[key] / medians.peerjs[key]).toFixed(2)} ×`).join(' | ')} |`);
}
process.exit(0);
