/**
 * Keeps the agent's SQLite database (Kiro CLI's `data.sqlite3`: logins, settings,
 * conversations) in session storage while the agent works on a local copy, because
 * SQLite's locking does not work on the session storage mount.
 *
 * - `copyIn()` before the agent starts: persistent → local.
 * - `writeBack()` while it runs (every minute and after each turn, driven by state-sync-set.ts);
 *   `stop()`: a last one after the agent ends.
 * - A write-back never puts a bad or older database in place of a good one:
 *   1. snapshot: SQLite's online backup of the live database in one read transaction
 *      (consistent even while the agent writes), to a temp file beside the local one;
 *   2. verify: header and size, then `PRAGMA integrity_check`;
 *   3. skip if its SHA-256 equals what is already saved;
 *   4. under a lock (local disk, shared by every writer in this microVM), refuse it if
 *      the recorded generation is not older than this snapshot's;
 *   5. copy it beside the persistent file, fsync, re-check the copy's hash and header;
 *   6. record the new generation and hash (plus the previous hash) in a sidecar, then
 *      rename over the persistent file and fsync the directory.
 *   A kill at any point leaves the old file or the new one, never a mixture; the
 *   leftover temp files of a killed run are removed by the next one.
 *
 * Only the main database file is ever saved: a snapshot is self-contained (everything
 * committed is in it), so no `-wal`, `-shm` or `-journal` belongs beside the saved copy.
 * Any found there was left by a program that opened the saved file directly; it is
 * removed before a new copy is renamed in (it would not match the new file) and, on
 * copy-in, merged only if SQLite accepts it and the result passes the integrity check.
 */
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, promises as fs } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { copyFileAtomic, ensurePrivateDir, isProcessAlive, tempOwnerPid, tempPathFor, TEMP_MARKER, writeFileAtomic } from './fs-atomic';
import { describeError, type Logger, silentLogger } from './log';
import { resolvePaths } from './paths';
import { Sqlite3Cli } from './sqlite-cli';
import { metricFields } from '../../shared/metrics';
import { checkSqliteFile, SQLITE_HEADER_BYTES } from './sqlite-file';

export interface StateSyncProps {
  /** The database in session storage, e.g. `/mnt/agent/.local/share/kiro-cli/data.sqlite3`. */
  readonly persistentPath: string;
  /** The database the agent uses, on local disk. */
  readonly localPath: string;
  /** @default - no logging */
  readonly log?: Logger;
  /** @default SQLITE3_BIN ('/usr/bin/sqlite3', `OPENAB_SQLITE3`) */
  readonly sqlite3?: string;
  /** How long a write-back waits for another writer's lock. @default 30_000 */
  readonly lockTimeoutMs?: number;
}

/** A verified, consistent copy of the live database, not yet saved. */
export interface Snapshot {
  readonly file: string;
  readonly generation: number;
  readonly sha256: string;
  readonly bytes: number;
}

export type WriteBackResult =
  | { readonly outcome: 'written'; readonly generation: number; readonly bytes: number; readonly sha256: string }
  | { readonly outcome: 'unchanged' }
  | { readonly outcome: 'no-local-database' }
  /** A snapshot at least as new is already saved (another writer got there first). */
  | { readonly outcome: 'stale'; readonly generation: number; readonly savedGeneration: number }
  | { readonly outcome: 'failed'; readonly reason: string };

export type CopyInResult =
  | { readonly outcome: 'copied'; readonly bytes: number; readonly mergedWal: boolean }
  | { readonly outcome: 'kept-local'; readonly reason: string }
  | { readonly outcome: 'empty'; readonly reason: string }
  /** Session storage could not be read: nothing is saved until a copy-in succeeds. */
  | { readonly outcome: 'failed'; readonly reason: string };

/** What the sidecar beside the persistent file records about our last write-back. */
interface SyncRecord {
  readonly generation: number;
  readonly sha256: string;
  /** The hash of the file this one replaced: a kill between sidecar and rename leaves that one. */
  readonly previousSha256?: string;
  readonly bytes: number;
  readonly writtenAt: string;
}

const SIDE_FILES = ['-wal', '-shm', '-journal'];

export class StateSync {
  readonly persistentPath: string;
  readonly localPath: string;
  private readonly log: Logger;
  private readonly sqlite: Sqlite3Cli;
  private readonly lockTimeoutMs: number;
  private readonly recordPath: string;
  private readonly lockPath: string;
  private lastGeneration = 0;
  private lastSavedSha: string | undefined;
  /** Why the last copy-in failed; write-back refuses while set. */
  private copyInFailure: string | undefined;
  private inFlight: Promise<WriteBackResult> | undefined;
  private stopped = false;

  constructor(props: StateSyncProps) {
    this.persistentPath = props.persistentPath;
    this.localPath = props.localPath;
    this.log = props.log ?? silentLogger;
    this.sqlite = new Sqlite3Cli({ bin: props.sqlite3 ?? resolvePaths().sqlite3 });
    this.lockTimeoutMs = props.lockTimeoutMs ?? 30_000;
    this.recordPath = `${this.persistentPath}.openab-sync.json`;
    // Every writer to this persistent file in this microVM takes the same lock, on local disk.
    const id = createHash('sha256').update(this.persistentPath).digest('hex').slice(0, 16);
    this.lockPath = join(tmpdir(), `openab-state-sync-${id}.lock`);
  }

  /** Persistent → local, before the agent starts (never while it runs). */
  async copyIn(): Promise<CopyInResult> {
    const result = await this.copyInUnlogged().catch((err): CopyInResult => ({ outcome: 'failed', reason: (err as Error).message }));
    // The agent may still run, but what it starts from is not what was saved: saving it could
    // replace the user's state with an empty one, so write-back waits for a copy-in that works.
    this.copyInFailure = result.outcome === 'failed' ? result.reason : undefined;
    this.log[result.outcome === 'failed' ? 'error' : 'info']('state-sync.copy-in', { persistent: this.persistentPath, local: this.localPath, ...result });
    return result;
  }

  /**
   * The write-back after a turn (once it has settled, see agent-setup.ts): behind any
   * write-back already running, whose snapshot may predate the turn's last writes. Never throws.
   */
  async writeBackAfterTurn(): Promise<WriteBackResult | undefined> {
    await this.inFlight;
    return this.stopped ? undefined : this.writeBack();
  }

  /** The last write-back, behind any already running; none after turns from now on. */
  async stop(): Promise<WriteBackResult> {
    this.stopped = true;
    await this.inFlight;
    return this.writeBack();
  }

  /** Snapshot the live database and save it, unless nothing changed. Never throws. */
  writeBack(): Promise<WriteBackResult> {
    if (this.inFlight) return this.inFlight;
    const started = Date.now();
    if (this.copyInFailure !== undefined) {
      const reason = `not saved: the copy-in failed (${this.copyInFailure}), so the local database may not hold the saved state`;
      this.log.error('state-sync.write-back-failed', { persistent: this.persistentPath, reason });
      return Promise.resolve(this.measured({ outcome: 'failed', reason }, started));
    }
    this.inFlight = (async () => {
      let snap: Snapshot | undefined;
      try {
        snap = await this.snapshot();
        if (!snap) return { outcome: 'no-local-database' } as const;
        return await this.publish(snap);
      } catch (err) {
        const result: WriteBackResult = { outcome: 'failed', reason: (err as Error).message };
        this.log.error('state-sync.write-back-failed', { persistent: this.persistentPath, reason: result.reason });
        return result;
      } finally {
        if (snap) await removeWithSideFiles(snap.file);
      }
    })().then((result) => this.measured(result, started)).finally(() => {
      this.inFlight = undefined;
    });
    return this.inFlight;
  }

  /**
   * The `state-sync.write-back` record of a save that did something (written, stale or
   * failed), with its metrics; one that found nothing to save is not recorded.
   */
  private measured(result: WriteBackResult, started: number): WriteBackResult {
    if (result.outcome === 'unchanged' || result.outcome === 'no-local-database') return result;
    const durationMs = Date.now() - started;
    const outcome = result.outcome;
    this.log[outcome === 'failed' ? 'error' : 'info']('state-sync.write-back', {
      outcome,
      durationMs,
      ...metricFields({ StateWriteBacks: 1, StateWriteBackDuration: durationMs }, { Outcome: outcome }),
    });
    return result;
  }

  /**
   * A consistent, verified copy of the live local database (steps 1 and 2), or
   * undefined when there is no local database. The caller owns (and removes) `file`.
   */
  async snapshot(): Promise<Snapshot | undefined> {
    if (!(await exists(this.localPath))) return undefined;
    await this.removeStaleTemps(dirname(this.localPath), basename(this.localPath));
    const generation = Math.max(Date.now(), this.lastGeneration + 1, ((await this.readRecord())?.generation ?? 0) + 1);
    this.lastGeneration = generation;
    const file = tempPathFor(this.localPath);
    try {
      await this.sqlite.snapshot(this.localPath, file);
      const { sha256, bytes } = await verifyFile(file);
      const problem = await this.sqlite.integrityProblem(file);
      if (problem) throw new Error(`snapshot failed the integrity check: ${problem}`);
      return { file, generation, sha256, bytes };
    } catch (err) {
      await removeWithSideFiles(file);
      throw err;
    }
  }

  /** Saves a snapshot (steps 3 to 6). Throws on I/O errors; the saved file is then unchanged. */
  async publish(snap: Snapshot): Promise<WriteBackResult> {
    if (snap.sha256 === this.lastSavedSha) return { outcome: 'unchanged' };
    const release = await acquireLock(this.lockPath, this.lockTimeoutMs);
    try {
      const record = await this.readRecord();
      if (record?.sha256 === snap.sha256 && (await sha256IfExists(this.persistentPath)) === snap.sha256) {
        this.lastSavedSha = snap.sha256;
        return { outcome: 'unchanged' };
      }
      if (record && record.generation >= snap.generation) {
        this.log.warn('state-sync.stale-snapshot', { persistent: this.persistentPath, generation: snap.generation, savedGeneration: record.generation });
        return { outcome: 'stale', generation: snap.generation, savedGeneration: record.generation };
      }

      const dir = dirname(this.persistentPath);
      await fs.mkdir(dir, { recursive: true, mode: 0o700 });
      await this.removeStaleTemps(dir, basename(this.persistentPath), basename(this.recordPath));
      await copyFileAtomic(snap.file, this.persistentPath, {
        mode: 0o600,
        beforeRename: async (tmp) => {
          // Read the copy back: what lands in session storage must be exactly the verified snapshot.
          const copy = await verifyFile(tmp);
          if (copy.sha256 !== snap.sha256 || copy.bytes !== snap.bytes) throw new Error('the copy in session storage differs from the snapshot');
          const next: SyncRecord = {
            generation: snap.generation,
            sha256: snap.sha256,
            previousSha256: record?.sha256,
            bytes: snap.bytes,
            writtenAt: new Date().toISOString(),
          };
          await writeFileAtomic(this.recordPath, `${JSON.stringify(next)}\n`, { mode: 0o600 });
          for (const suffix of SIDE_FILES) await fs.rm(this.persistentPath + suffix, { force: true });
        },
      });
      this.lastSavedSha = snap.sha256;
      this.log.info('state-sync.written', { persistent: this.persistentPath, generation: snap.generation, bytes: snap.bytes });
      return { outcome: 'written', generation: snap.generation, bytes: snap.bytes, sha256: snap.sha256 };
    } finally {
      await release();
    }
  }

  private async copyInUnlogged(): Promise<CopyInResult> {
    const localDir = dirname(this.localPath);
    await ensurePrivateDir(localDir);
    await this.removeStaleTemps(localDir, basename(this.localPath));

    const persistent = await statIfExists(this.persistentPath);
    const localExists = await exists(this.localPath);
    if (!persistent) {
      return localExists
        ? { outcome: 'kept-local', reason: 'nothing saved in session storage yet' }
        : { outcome: 'empty', reason: 'nothing saved in session storage yet: the agent starts with empty state' };
    }
    const headerProblem = await checkFileHeader(this.persistentPath, persistent.size);
    if (headerProblem) {
      return localExists
        ? { outcome: 'kept-local', reason: `the saved database is unusable (${headerProblem})` }
        : { outcome: 'empty', reason: `the saved database is unusable (${headerProblem}); it is left in place and replaced at the next write-back` };
    }

    const persistentSha = await sha256File(this.persistentPath);
    const record = await this.readRecord();
    const ours = record !== undefined && (record.sha256 === persistentSha || record.previousSha256 === persistentSha);
    if (localExists) {
      // The local copy is this microVM's working copy: whatever we saved came from it.
      if (ours) {
        this.lastSavedSha = record.sha256 === persistentSha ? persistentSha : undefined;
        return { outcome: 'kept-local', reason: 'the local database is the working copy the saved one was taken from' };
      }
      const localNewest = await newestMtime(this.localPath);
      if (localNewest >= persistent.mtimeMs) {
        return { outcome: 'kept-local', reason: 'the saved database was written by another program, but the local one is newer' };
      }
    }

    // Bring the saved file (and a -wal left beside it, if SQLite accepts it) to local disk.
    const work = await fs.mkdtemp(join(localDir, `.copy-in${TEMP_MARKER}${process.pid}-`));
    try {
      const staged = join(work, 'db');
      await fs.copyFile(this.persistentPath, staged);
      let source = staged;
      let mergedWal = false;
      if (await exists(`${this.persistentPath}-wal`)) {
        await fs.copyFile(`${this.persistentPath}-wal`, `${staged}-wal`);
        const merged = join(work, 'merged');
        try {
          await this.sqlite.snapshot(staged, merged);
          source = merged;
          mergedWal = true;
        } catch (err) {
          // The -wal does not belong to this file: take the saved file alone.
          this.log.warn('state-sync.wal-ignored', { persistent: this.persistentPath, ...describeError(err) });
        }
        await removeWithSideFiles(staged === source ? `${staged}-wal` : staged);
      }
      const problem = await this.sqlite.integrityProblem(source);
      if (problem) {
        return localExists
          ? { outcome: 'kept-local', reason: `the saved database failed the integrity check (${problem})` }
          : { outcome: 'empty', reason: `the saved database failed the integrity check (${problem}); it is left in place and replaced at the next write-back` };
      }
      // A stale -wal beside the new file would be applied to it: remove those first.
      for (const suffix of SIDE_FILES) await fs.rm(this.localPath + suffix, { force: true });
      await copyFileAtomic(source, this.localPath, { mode: 0o600 });
      const { size } = await fs.stat(this.localPath);
      // A snapshot of an unchanged copy hashes the same as the saved file (the backup is idempotent).
      this.lastSavedSha = ours && !mergedWal ? persistentSha : undefined;
      return { outcome: 'copied', bytes: size, mergedWal };
    } finally {
      await fs.rm(work, { recursive: true, force: true });
    }
  }

  private async readRecord(): Promise<SyncRecord | undefined> {
    try {
      const r = JSON.parse(await fs.readFile(this.recordPath, 'utf8')) as SyncRecord;
      return Number.isFinite(r.generation) && typeof r.sha256 === 'string' ? r : undefined;
    } catch {
      return undefined;
    }
  }

  /** Temp files (ours or a killed run's) beside the named files whose process is gone. */
  private async removeStaleTemps(dir: string, ...names: string[]): Promise<void> {
    let entries: string[];
    try {
      entries = await fs.readdir(dir);
    } catch {
      return;
    }
    const prefixes = [...names, 'copy-in'].map((n) => `.${n}${TEMP_MARKER}`);
    for (const entry of entries) {
      if (!prefixes.some((p) => entry.startsWith(p))) continue;
      const pid = tempOwnerPid(entry);
      if (pid === undefined || pid === process.pid || isProcessAlive(pid)) continue;
      await fs.rm(join(dir, entry), { recursive: true, force: true }).catch(() => undefined);
    }
  }
}

async function exists(path: string): Promise<boolean> {
  return (await statIfExists(path)) !== undefined;
}

async function statIfExists(path: string) {
  try {
    return await fs.stat(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

async function newestMtime(db: string): Promise<number> {
  let newest = 0;
  for (const p of [db, `${db}-wal`]) newest = Math.max(newest, (await statIfExists(p))?.mtimeMs ?? 0);
  return newest;
}

async function checkFileHeader(path: string, size: number): Promise<string | undefined> {
  const handle = await fs.open(path, 'r');
  try {
    const head = Buffer.alloc(SQLITE_HEADER_BYTES);
    const { bytesRead } = await handle.read(head, 0, SQLITE_HEADER_BYTES, 0);
    return checkSqliteFile(head.subarray(0, bytesRead), size);
  } finally {
    await handle.close();
  }
}

function sha256File(path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const hash = createHash('sha256');
    createReadStream(path).on('error', reject).on('data', (c) => hash.update(c)).on('end', () => resolve(hash.digest('hex')));
  });
}

async function sha256IfExists(path: string): Promise<string | undefined> {
  return (await exists(path)) ? sha256File(path) : undefined;
}

/** Header and size agree, and the file is not empty; returns its hash and size. */
async function verifyFile(path: string): Promise<{ sha256: string; bytes: number }> {
  const { size } = await fs.stat(path);
  if (size === 0) throw new Error(`${path} is empty`);
  const problem = await checkFileHeader(path, size);
  if (problem) throw new Error(`${path}: ${problem}`);
  return { sha256: await sha256File(path), bytes: size };
}

async function removeWithSideFiles(path: string): Promise<void> {
  for (const suffix of ['', ...SIDE_FILES]) await fs.rm(path + suffix, { force: true }).catch(() => undefined);
}

/**
 * An exclusive lock file holding our pid. A lock whose process is gone is taken over;
 * the takeover renames the old file aside first and puts it back if it turns out to be
 * a live holder's (two takers racing on one stale lock).
 */
async function acquireLock(path: string, timeoutMs: number): Promise<() => Promise<void>> {
  const deadline = Date.now() + timeoutMs;
  const token = `${process.pid} ${randomBytes(8).toString('hex')}`;
  for (;;) {
    try {
      await fs.writeFile(path, token, { flag: 'wx', mode: 0o600 });
      return async () => {
        const current = await fs.readFile(path, 'utf8').catch(() => undefined);
        if (current === token) await fs.rm(path, { force: true });
      };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    const holder = await fs.readFile(path, 'utf8').catch(() => undefined);
    const holderPid = holder === undefined ? undefined : Number(holder.split(' ')[0]);
    if (holderPid !== undefined && !isProcessAlive(holderPid)) {
      const aside = `${path}.stale-${process.pid}-${randomBytes(4).toString('hex')}`;
      try {
        await fs.rename(path, aside);
        const moved = await fs.readFile(aside, 'utf8');
        if (moved === holder) await fs.rm(aside, { force: true });
        else await fs.rename(aside, path); // someone took the lock in between: give it back
      } catch {
        // Another taker moved it first; try again.
      }
      continue;
    }
    if (Date.now() >= deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for the state sync lock ${path} (held by ${holder ?? 'unknown'})`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
