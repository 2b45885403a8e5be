/**
 * The sqlite3 command-line shell as the state sync's only SQLite engine: Node 20 has no
 * built-in SQLite and the image carries no native addon. It is installed in the image
 * (AL2023 package `sqlite`) and reached by absolute path.
 */
import { execFile } from 'node:child_process';

export interface Sqlite3CliOptions {
  /** @default '/usr/bin/sqlite3' */
  readonly bin?: string;
  /** How long to wait for a lock the agent holds (`.timeout`). @default 10_000 */
  readonly busyTimeoutMs?: number;
  /** How long one sqlite3 run may take before it is killed. @default 120_000 */
  readonly runTimeoutMs?: number;
}

export class Sqlite3Cli {
  readonly bin: string;
  private readonly busyTimeoutMs: number;
  private readonly runTimeoutMs: number;

  constructor(options: Sqlite3CliOptions = {}) {
    this.bin = options.bin ?? '/usr/bin/sqlite3';
    this.busyTimeoutMs = options.busyTimeoutMs ?? 10_000;
    this.runTimeoutMs = options.runTimeoutMs ?? 120_000;
  }

  /**
   * Copies the live database `source` to the new file `dest` as of one instant, with
   * SQLite's online backup inside a single read transaction: pages committed by the
   * agent meanwhile (WAL or rollback journal) are either all in or all out, and the
   * copy never restarts however busy the writer is. A hot journal left by a killed
   * writer is rolled back first, as any reader would.
   */
  async snapshot(source: string, dest: string): Promise<void> {
    await this.run([source, `.timeout ${this.busyTimeoutMs}`, 'BEGIN', 'SELECT count(*) FROM sqlite_master', `.backup main ${quote(dest)}`, 'COMMIT']);
  }

  /** Undefined when `PRAGMA integrity_check` says ok; otherwise its first complaints. */
  async integrityProblem(file: string): Promise<string | undefined> {
    let out: string;
    try {
      out = await this.run([file, `.timeout ${this.busyTimeoutMs}`, 'PRAGMA integrity_check']);
    } catch (err) {
      return (err as Error).message;
    }
    const lines = out.split('\n').map((l) => l.trim()).filter(Boolean);
    return lines.length === 1 && lines[0] === 'ok' ? undefined : lines.slice(0, 5).join('; ') || 'no answer from integrity_check';
  }

  /** `-bail`: the first error ends the run with a non-zero status; `-init /dev/null`: no ~/.sqliterc. */
  private run(args: string[]): Promise<string> {
    return new Promise((resolve, reject) => {
      execFile(this.bin, ['-batch', '-bail', '-init', '/dev/null', ...args], {
        timeout: this.runTimeoutMs,
        killSignal: 'SIGKILL',
        maxBuffer: 1024 * 1024,
        env: { PATH: '/usr/bin:/bin', LC_ALL: 'C' },
      }, (err, stdout, stderr) => {
        if (err) {
          const code = (err as NodeJS.ErrnoException).code;
          if (code === 'ENOENT') return reject(new Error(`the sqlite3 shell ${this.bin} is not installed (AL2023 package "sqlite")`));
          const detail = String(stderr).trim() || code || err.message;
          reject(new Error(`sqlite3 failed: ${detail}`));
        } else {
          resolve(String(stdout));
        }
      });
    });
  }
}

/** A path as one argument of a sqlite3 dot-command. */
function quote(path: string): string {
  if (/['\n\r\0]/.test(path)) throw new Error(`path ${JSON.stringify(path)} cannot be passed to sqlite3 (quote or line break)`);
  return `'${path}'`;
}
