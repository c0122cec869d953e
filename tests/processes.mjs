// Processes of the node suites (tests/hostile, tests/stacks): our programs
// (hangout-server, gst-launch-1.0 pipelines, examples) whose output and exit
// can be awaited and whose memory can be sampled. No npm dependency, so any
// suite can import it whatever it installed.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';

export function env(name) {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is not set (run the suite through run.sh / meson test)`);
  return v;
}

// A process of ours: stdout and stderr gathered into `output`, an exit
// promise with code and signal, a hard bound on its life (SIGKILL), and
// its resident memory from /proc.
export function startProcess(name, cmd, args, { timeoutMs, env: extra = {}, cwd, stdin = 'ignore' } = {}) {
  // Sanitizer builds: the runtimes for our programs, not for node (meson.build).
  const preload = process.env.HANGOUT_VICTIM_PRELOAD ? { LD_PRELOAD: process.env.HANGOUT_VICTIM_PRELOAD } : {};
  // UTF-8 output: GLib prints names in the locale's charset, '?' for the rest in C.
  // G_DEBUG=fatal-warnings: what a member sends must never reach g_warning
  // or g_critical, so any that does ends the victim and fails its batch.
  const child = spawn(cmd, args, {
    stdio: [stdin, 'pipe', 'pipe'], cwd,
    env: { ...process.env, LC_ALL: 'C.UTF-8', G_DEBUG: 'fatal-warnings', ...preload, ...extra },
  });
  let output = '';
  const waiters = new Set();
  const poke = () => { for (const w of [...waiters]) w(); };
  child.stdout.on('data', (d) => { output += d; poke(); });
  child.stderr.on('data', (d) => { output += d; poke(); });
  let result = null;
  const killer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  const exited = new Promise((resolve) => child.on('close', (code, signal) => {
    clearTimeout(killer);
    result = { code, signal };
    poke();
    resolve(result);
  }));
  const proc = {
    name, child, exited,
    get output() { return output; },
    get result() { return result; },
    alive() { return result === null; },
    // The match of `re` (or what the function `re` returns for the
    // output) in the output so far or to come; fails when the process
    // ends first or `ms` pass.
    waitForOutput(re, ms, what = String(re)) {
      return new Promise((resolve, reject) => {
        const w = () => {
          const m = typeof re === 'function' ? re(output) : output.match(re);
          if (m) { finish(); resolve(m); return; }
          if (result !== null) {
            finish();
            reject(new Error(`${name} ended (${JSON.stringify(result)}) without printing ${what}:\n${tail(output)}`));
          }
        };
        const t = setTimeout(() => {
          finish();
          reject(new Error(`${name} printed no ${what} within ${ms} ms:\n${tail(output)}`));
        }, ms);
        const finish = () => { clearTimeout(t); waiters.delete(w); };
        waiters.add(w);
        w();
      });
    },
    // The exit status within `ms`, or an error naming the process.
    async waitExit(ms) {
      let t;
      const timeout = new Promise((_, reject) => {
        t = setTimeout(() => reject(new Error(`${name} did not exit within ${ms} ms:\n${tail(output)}`)), ms);
      });
      try { return await Promise.race([exited, timeout]); } finally { clearTimeout(t); }
    },
    // VmRSS in KiB; null once gone.
    rssKiB() {
      try {
        const m = readFileSync(`/proc/${child.pid}/status`, 'utf8').match(/^VmRSS:\s+(\d+) kB/m);
        return m ? Number(m[1]) : null;
      } catch { return null; }
    },
    async stop() {
      if (result !== null) return result;
      child.kill('SIGTERM');
      const t = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(t);
      return result;
    },
  };
  return proc;
}

export function tail(text, n = 60) {
  const lines = text.split('\n');
  return lines.slice(-n).join('\n');
}

export async function startServer(args = []) {
  const server = startProcess('hangout-server', env('HANGOUT_SERVER'), ['--port', '0', ...args], { timeoutMs: 600000 });
  const m = await server.waitForOutput(/^(ws:\/\/\S+)$/m, 10000, 'the server URL');
  server.url = m[1];
  return server;
}
