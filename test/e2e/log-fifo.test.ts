/**
 * The deployed bridge logs into a named pipe that a shell loop in the OAB container copies
 * to stdout. Whatever happens to that reader, a bridge must not wait on its log.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { closeSync, constants, mkdtempSync, openSync, readSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { createInterface } from 'node:readline';
import { BRIDGE_BUNDLE } from '../support/bridge-harness';
import { TEST_RUNTIME_ARN } from '../support/emulator';

let dir: string;
let fifo: string;
let bridge: ChildProcess | undefined;
const fds: number[] = [];

beforeEach(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'log-fifo-'));
  fifo = path.join(dir, 'bridge-log.fifo');
  execFileSync('mkfifo', [fifo]);
});
afterEach(() => {
  bridge?.kill('SIGKILL');
  bridge = undefined;
  for (const fd of fds.splice(0)) closeSync(fd);
  rmSync(dir, { recursive: true, force: true });
});

/** The bridge with its log in the pipe; no AWS call is needed to answer `initialize`. */
function startBridge(level = 'info'): { answers: Map<number, unknown>; send: (line: string) => void; answered: (n: number, ms: number) => Promise<void> } {
  bridge = spawn(process.execPath, [BRIDGE_BUNDLE, '--runtime-arn', TEST_RUNTIME_ARN, '--endpoint-url', 'http://127.0.0.1:9', '--log-file', fifo, '--log-level', level], {
    stdio: ['pipe', 'pipe', 'pipe'],
    env: { PATH: '/usr/bin:/bin', HOME: dir },
  });
  const answers = new Map<number, unknown>();
  createInterface({ input: bridge.stdout! }).on('line', (l) => {
    const m = JSON.parse(l) as { id: number };
    answers.set(m.id, m);
  });
  return {
    answers,
    send: (line) => bridge!.stdin!.write(`${line}\n`),
    answered: async (n, ms) => {
      const deadline = Date.now() + ms;
      while (answers.size < n) {
        if (Date.now() > deadline) throw new Error(`${answers.size} of ${n} answers within ${ms} ms`);
        await new Promise((r) => setTimeout(r, 20));
      }
    },
  };
}

const initialize = (id: number, pad = '') => JSON.stringify({ jsonrpc: '2.0', id, method: 'initialize', params: { protocolVersion: 1, clientCapabilities: {}, pad } });

/** Everything in the pipe now, without blocking. */
function drain(fd: number): string {
  const chunks: Buffer[] = [];
  const buf = Buffer.alloc(65536);
  for (;;) {
    try {
      const n = readSync(fd, buf);
      if (n <= 0) break;
      chunks.push(Buffer.from(buf.subarray(0, n)));
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'EAGAIN') break;
      throw e;
    }
  }
  return Buffer.concat(chunks).toString('utf8');
}

test('with no reader behind the pipe the bridge starts and answers at once', async () => {
  const b = startBridge();
  b.send(initialize(1));
  await b.answered(1, 5_000);
  expect(b.answers.get(1)).toMatchObject({ id: 1, result: { protocolVersion: 1 } });
});

test('a reader that does not keep up costs lines, never an answer; what gets through is whole lines, then the count of what was dropped', async () => {
  const reader = openSync(fifo, constants.O_RDONLY | constants.O_NONBLOCK);
  fds.push(reader);
  const b = startBridge('debug');
  // Each request is logged whole at debug level: 300 of 3 KB overflow the pipe's 64 KiB many times.
  for (let id = 1; id <= 300; id++) b.send(initialize(id, 'x'.repeat(3_000)));
  await b.answered(300, 15_000);
  const first = drain(reader);
  // After the reader caught up, the next line brings the count of the lines it missed.
  b.send(initialize(301));
  await b.answered(301, 5_000);
  await new Promise((r) => setTimeout(r, 200));
  const lines = (first + drain(reader)).split('\n').filter(Boolean);
  const records = lines.map((l) => JSON.parse(l) as { event: string; count?: number });
  expect(records.length).toBeGreaterThan(0);
  const dropped = records.filter((r) => r.event === 'log-lines-dropped');
  expect(dropped.length).toBeGreaterThan(0);
  expect(dropped.reduce((n, r) => n + (r.count ?? 0), 0)).toBeGreaterThan(0);
});
