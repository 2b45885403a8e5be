/**
 * Runs the bundled in-VM programs (runtimes/app/*.js) as plain local processes,
 * from a copy in a directory with no node_modules anywhere above it, so a dependency
 * left outside the bundle fails the test instead of being found in the repository.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

export const APP_DIR = resolve(__dirname, '../../../runtimes/app');

export type LogLine = Record<string, unknown> & { event?: string; level?: string };

/** A scratch directory removed by the returned function. */
export function scratchDir(prefix: string): { dir: string; remove: () => void } {
  const dir = mkdtempSync(join(tmpdir(), `${prefix}-`));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Copies the named bundles out of the repository; fails clearly when `npm run build` has not run. */
export function stageBundles(names: string[]): { dir: string; remove: () => void } {
  const staged = scratchDir('openab-app');
  for (const name of names) {
    const src = join(APP_DIR, name);
    if (!existsSync(src)) throw new Error(`${src} is missing: run \`npm run build\` (or \`node scripts/bundle.mjs\`) first`);
    copyFileSync(src, join(staged.dir, name));
  }
  return staged;
}

/** An environment with nothing of the host's AWS setup in it. */
export function cleanEnv(home: string, extra: Record<string, string | undefined> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: home,
    // Lock files a SIGKILLed program leaves behind (os.tmpdir()) stay in the scratch directory.
    TMPDIR: home,
    AWS_CONFIG_FILE: join(home, 'no-aws-config'),
    AWS_SHARED_CREDENTIALS_FILE: join(home, 'no-aws-credentials'),
    AWS_EC2_METADATA_DISABLED: 'true',
  };
  for (const [k, v] of Object.entries(extra)) if (v !== undefined) env[k] = v;
  return env;
}

export class RunningProgram {
  readonly lines: LogLine[] = [];
  /** Everything the program wrote, stdout and stderr, as text. */
  output = '';
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  private partial = '';
  private waiters: Array<() => void> = [];

  constructor(readonly proc: ChildProcess) {
    const onData = (chunk: Buffer, parse: boolean) => {
      const text = chunk.toString('utf8');
      this.output += text;
      if (!parse) return this.notify();
      this.partial += text;
      let nl: number;
      while ((nl = this.partial.indexOf('\n')) >= 0) {
        const line = this.partial.slice(0, nl);
        this.partial = this.partial.slice(nl + 1);
        try {
          this.lines.push(JSON.parse(line) as LogLine);
        } catch {
          this.lines.push({ event: '<not json>', raw: line });
        }
      }
      this.notify();
    };
    proc.stdout?.on('data', (c: Buffer) => onData(c, true));
    proc.stderr?.on('data', (c: Buffer) => onData(c, false));
    this.exited = new Promise((res) => proc.once('exit', (code, signal) => {
      this.notify();
      res({ code, signal });
    }));
  }

  get pid(): number {
    return this.proc.pid!;
  }

  /** The first log line matching `pred`, waiting up to `timeoutMs`. */
  async waitForLine(pred: (l: LogLine) => boolean, timeoutMs = 10_000): Promise<LogLine> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const hit = this.lines.find(pred);
      if (hit) return hit;
      if (this.proc.exitCode !== null || this.proc.signalCode !== null) {
        throw new Error(`program exited before the expected log line; output:\n${this.output}`);
      }
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out waiting for a log line; output:\n${this.output}`);
      await new Promise<void>((r) => {
        const t = setTimeout(r, Math.min(left, 200));
        this.waiters.push(() => {
          clearTimeout(t);
          r();
        });
      });
    }
  }

  async stop(signal: NodeJS.Signals = 'SIGTERM', timeoutMs = 5_000) {
    if (this.proc.exitCode === null && this.proc.signalCode === null) this.proc.kill(signal);
    const timer = setTimeout(() => this.proc.kill('SIGKILL'), timeoutMs);
    try {
      return await this.exited;
    } finally {
      clearTimeout(timer);
    }
  }

  private notify() {
    const w = this.waiters;
    this.waiters = [];
    w.forEach((f) => f());
  }
}

export function runProgram(file: string, args: string[], env: NodeJS.ProcessEnv, cwd?: string): RunningProgram {
  return new RunningProgram(spawn(process.execPath, [file, ...args], { env, cwd, stdio: ['ignore', 'pipe', 'pipe'] }));
}

/** A pid that certainly belongs to no process: one that has just exited. */
export async function deadPid(): Promise<number> {
  const p = spawn(process.execPath, ['-e', ''], { stdio: 'ignore' });
  await new Promise((r) => p.once('exit', r));
  return p.pid!;
}
