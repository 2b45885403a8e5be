/**
 * Real SQLite for the state sync tests, through the same sqlite3 command-line shell the
 * image uses (Debian package `sqlite3` here, AL2023 package `sqlite` in the image).
 */
import { type ChildProcessWithoutNullStreams, execFileSync, spawn } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const SQLITE3 = ['/usr/bin/sqlite3', '/usr/local/bin/sqlite3'].find((p) => existsSync(p));

export function requireSqlite3(): string {
  if (!SQLITE3) throw new Error('the sqlite3 command-line shell is required: apt-get install -y sqlite3 (CI installs it in .ci/run)');
  return SQLITE3;
}

/** Runs statements against `db` and returns the output, trimmed. */
export function sql(db: string, ...statements: string[]): string {
  return execFileSync(requireSqlite3(), ['-batch', '-bail', '-init', '/dev/null', db, '.timeout 5000', ...statements], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();
}

export type JournalMode = 'wal' | 'delete';

/** A database with table `t(id INTEGER PRIMARY KEY AUTOINCREMENT, payload BLOB)` and `rows` rows. */
export function createDb(path: string, rows: number, mode: JournalMode, payloadBytes = 512): void {
  sql(path,
    `PRAGMA journal_mode=${mode}`,
    'CREATE TABLE IF NOT EXISTS t(id INTEGER PRIMARY KEY AUTOINCREMENT, payload BLOB NOT NULL)',
    `WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ${rows}) INSERT INTO t(payload) SELECT randomblob(${payloadBytes}) FROM n WHERE ${rows} > 0`);
}

export interface DbFacts {
  readonly integrity: string;
  readonly rows: number;
  readonly maxId: number;
}

/**
 * Integrity, row count and highest id of a database, read from a private copy so that
 * nothing (no -wal, no -shm) is ever created beside the file under test.
 */
export function inspectCopy(db: string): DbFacts {
  const dir = mkdtempSync(join(tmpdir(), 'inspect-'));
  try {
    const copy = join(dir, 'copy.db');
    copyFileSync(db, copy);
    const [integrity, rows, maxId] = sql(copy, 'PRAGMA integrity_check', 'SELECT count(*) FROM t', 'SELECT coalesce(max(id), 0) FROM t').split('\n');
    return { integrity: integrity, rows: Number(rows), maxId: Number(maxId) };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * A process that keeps committing to a database through one long-lived sqlite3 shell
 * (like an agent holding its database open), a few rows per transaction.
 */
export class SqliteWriter {
  private readonly proc: ChildProcessWithoutNullStreams;
  private readonly timer: NodeJS.Timeout;
  readonly exited: Promise<void>;

  constructor(db: string, mode: JournalMode, everyMs = 3) {
    this.proc = spawn(requireSqlite3(), ['-batch', '-init', '/dev/null', db], { stdio: ['pipe', 'pipe', 'pipe'] });
    this.proc.stdout.resume();
    this.proc.stderr.resume();
    this.proc.stdin.on('error', () => undefined);
    this.exited = new Promise((r) => this.proc.once('exit', () => r()));
    this.proc.stdin.write(`.timeout 10000\nPRAGMA journal_mode=${mode};\n`);
    this.timer = setInterval(() => {
      const n = 1 + Math.floor(Math.random() * 4);
      const size = 256 + Math.floor(Math.random() * 1024);
      this.proc.stdin.write(`BEGIN IMMEDIATE; ${`INSERT INTO t(payload) VALUES (randomblob(${size})); `.repeat(n)}COMMIT;\n`);
    }, everyMs);
  }

  get pid(): number {
    return this.proc.pid!;
  }

  /** SIGKILL, as an agent killed mid-write. */
  async kill(): Promise<void> {
    clearInterval(this.timer);
    this.proc.kill('SIGKILL');
    await this.exited;
  }

  /** Finishes what was sent and exits cleanly. */
  async close(): Promise<void> {
    clearInterval(this.timer);
    this.proc.stdin.end('.quit\n');
    await this.exited;
  }
}

/** Leaves `db-wal` holding committed rows that are not yet in `db`, as a writer killed in WAL mode does. */
export async function leaveUncheckpointedWal(db: string, rows: number): Promise<void> {
  const proc = spawn(requireSqlite3(), ['-batch', '-init', '/dev/null', db], { stdio: ['pipe', 'pipe', 'pipe'] });
  proc.stderr.resume();
  const exited = new Promise((r) => proc.once('exit', r));
  proc.stdin.write('PRAGMA journal_mode=wal;\nPRAGMA wal_autocheckpoint=0;\n');
  proc.stdin.write(`WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ${rows}) INSERT INTO t(payload) SELECT randomblob(100) FROM n;\n`);
  proc.stdin.write("SELECT 'done';\n");
  await new Promise<void>((resolve) => proc.stdout.on('data', (d: Buffer) => {
    if (d.toString().includes('done')) resolve();
  }));
  proc.kill('SIGKILL');
  await exited;
}
