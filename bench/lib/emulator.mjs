// The local AgentCore emulator as its own process, for the benchmarks: started on a free
// loopback port, its connection details read from the first line it prints, its HTTP
// controls at hand.
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';

/**
 * @param {{ node: string, emulator: string, stateDir: string, home: string, args?: string[], track: (c: import('node:child_process').ChildProcess) => unknown }} o
 */
export async function startEmulator(o) {
  const child = spawn(o.node, [o.emulator, '--port', '0', '--host', '127.0.0.1', '--state-dir', o.stateDir, ...(o.args ?? [])], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { PATH: process.env.PATH, HOME: o.home },
  });
  o.track(child);
  child.stderr.resume();
  const line = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('emulator did not start within 15 s')), 15_000);
    createInterface({ input: child.stdout }).once('line', (l) => {
      clearTimeout(timer);
      resolve(l);
    });
    child.once('exit', (code) => reject(new Error(`emulator exited with ${code}`)));
  });
  const info = JSON.parse(line);
  const control = async (path, body) => {
    const res = await fetch(`${info.url}${path}`, {
      method: body === undefined ? 'GET' : 'POST',
      headers: { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(10_000),
    });
    return res.json();
  };
  return {
    ...info,
    child,
    stats: () => control('/_emulator/stats'),
    killShell: (sessionId, shellId) => control('/_emulator/kill-shell', { sessionId, shellId }),
    async stop() {
      if (child.exitCode !== null) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 8_000);
      await new Promise((r) => child.once('exit', r));
      clearTimeout(timer);
    },
  };
}
