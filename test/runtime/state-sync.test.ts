import { type ChildProcess, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, openSync, readdirSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync, closeSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { StateSync, type WriteBackResult } from '../../runtimes/src/state-sync';
import { StateSyncSet } from '../../runtimes/src/state-sync-set';
import { cleanEnv, deadPid, runProgram, scratchDir, stageBundles } from '../support/runtime/programs';
import { createDb, inspectCopy, type JournalMode, leaveUncheckpointedWal, requireSqlite3, sql, SqliteWriter } from '../support/runtime/sqlite';

const sha = (file: string) => createHash('sha256').update(readFileSync(file)).digest('hex');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('StateSync', () => {
  jest.setTimeout(20_000);
  let scratch: ReturnType<typeof scratchDir>;
  let persistent: string;
  let local: string;
  const sqlite3 = requireSqlite3();
  const make = (props: Partial<ConstructorParameters<typeof StateSync>[0]> = {}) =>
    new StateSync({ persistentPath: persistent, localPath: local, sqlite3, ...props });

  beforeEach(() => {
    scratch = scratchDir('state-sync');
    persistent = join(scratch.dir, 'mnt', '.local', 'share', 'kiro-cli', 'data.sqlite3');
    local = join(scratch.dir, 'tmp', 'data', 'kiro-cli', 'data.sqlite3');
  });
  afterEach(() => scratch.remove());

  describe('copyIn', () => {
    it('starts empty when nothing is saved, with a private local directory', async () => {
      await expect(make().copyIn()).resolves.toMatchObject({ outcome: 'empty' });
      expect(existsSync(local)).toBe(false);
      expect(statSync(dirname(local)).mode & 0o777).toBe(0o700);
    });

    it('when session storage cannot be read, says so and saves nothing until a copy-in works', async () => {
      // The saved database's directory is a file: stat fails with ENOTDIR, as an I/O error would.
      mkdirSync(dirname(dirname(persistent)), { recursive: true });
      writeFileSync(dirname(persistent), 'not a directory');
      mkdirSync(dirname(local), { recursive: true });
      createDb(local, 5, 'wal');
      const sync = make();
      await expect(sync.copyIn()).resolves.toMatchObject({ outcome: 'failed', reason: expect.stringMatching(/ENOTDIR/) });
      // Saving now could put an empty or unrelated database over the user's saved state.
      await expect(sync.writeBack()).resolves.toMatchObject({ outcome: 'failed', reason: expect.stringMatching(/^not saved: the copy-in failed/) });
      expect(readFileSync(dirname(persistent), 'utf8')).toBe('not a directory');
      // Once session storage reads again, the sync works again.
      rmSync(dirname(persistent));
      await expect(sync.copyIn()).resolves.toMatchObject({ outcome: 'kept-local' });
      await expect(sync.writeBack()).resolves.toMatchObject({ outcome: 'written' });
    });

    it('brings the saved database to local disk and drops a stale -wal and -shm left there', async () => {
      mkdirSync(dirname(persistent), { recursive: true });
      createDb(persistent, 25, 'wal');
      mkdirSync(dirname(local), { recursive: true });
      writeFileSync(`${local}-wal`, Buffer.alloc(4096, 7));
      writeFileSync(`${local}-shm`, Buffer.alloc(4096, 7));

      await expect(make().copyIn()).resolves.toMatchObject({ outcome: 'copied', mergedWal: false });
      expect(existsSync(`${local}-wal`)).toBe(false);
      expect(existsSync(`${local}-shm`)).toBe(false);
      expect(inspectCopy(local)).toEqual({ integrity: 'ok', rows: 25, maxId: 25 });
      expect(statSync(local).mode & 0o777).toBe(0o600);
    });

    it('merges committed rows from a -wal a direct writer left beside the saved database', async () => {
      mkdirSync(dirname(persistent), { recursive: true });
      createDb(persistent, 10, 'wal');
      await leaveUncheckpointedWal(persistent, 7);
      expect(existsSync(`${persistent}-wal`)).toBe(true);

      await expect(make().copyIn()).resolves.toMatchObject({ outcome: 'copied', mergedWal: true });
      expect(inspectCopy(local)).toEqual({ integrity: 'ok', rows: 17, maxId: 17 });
    });

    it('keeps the local working copy when the saved database was taken from it', async () => {
      mkdirSync(dirname(local), { recursive: true });
      createDb(local, 5, 'wal');
      const sync = make();
      await expect(sync.writeBack()).resolves.toMatchObject({ outcome: 'written' });
      sql(local, 'INSERT INTO t(payload) VALUES (randomblob(10))');
      // Even a saved file newer than the local one: it is ours, so the local one is at least as new.
      const later = new Date(Date.now() + 60_000);
      utimesSync(persistent, later, later);

      await expect(make().copyIn()).resolves.toMatchObject({ outcome: 'kept-local' });
      expect(inspectCopy(local).rows).toBe(6);
    });

    it('takes a saved database another program wrote after the local copy changed', async () => {
      mkdirSync(dirname(local), { recursive: true });
      createDb(local, 5, 'wal');
      mkdirSync(dirname(persistent), { recursive: true });
      createDb(persistent, 40, 'delete');
      const later = new Date(Date.now() + 60_000);
      utimesSync(persistent, later, later);

      await expect(make().copyIn()).resolves.toMatchObject({ outcome: 'copied' });
      expect(inspectCopy(local).rows).toBe(40);
    });

    it('leaves a saved file that is not SQLite alone and starts empty', async () => {
      mkdirSync(dirname(persistent), { recursive: true });
      writeFileSync(persistent, 'not a database; '.repeat(256));
      const before = sha(persistent);
      const result = await make().copyIn();
      expect(result).toMatchObject({ outcome: 'empty' });
      expect((result as { reason: string }).reason).toMatch(/unusable \(.*bad magic/);
      expect(sha(persistent)).toBe(before);
      expect(existsSync(local)).toBe(false);
    });

    it('refuses a saved database that is truncated', async () => {
      mkdirSync(dirname(persistent), { recursive: true });
      createDb(persistent, 200, 'delete');
      const size = statSync(persistent).size;
      writeFileSync(persistent, readFileSync(persistent).subarray(0, size - 4096));
      await expect(make().copyIn()).resolves.toMatchObject({ outcome: 'empty', reason: expect.stringMatching(/does not match the header/) });
    });
  });

  describe('writeBack', () => {
    beforeEach(() => mkdirSync(dirname(local), { recursive: true }));

    it('saves a consistent copy (0600, with its generation recorded) and skips when nothing changed', async () => {
      createDb(local, 30, 'wal');
      const sync = make();
      const first = await sync.writeBack();
      expect(first).toMatchObject({ outcome: 'written' });
      expect(inspectCopy(persistent)).toEqual({ integrity: 'ok', rows: 30, maxId: 30 });
      expect(statSync(persistent).mode & 0o777).toBe(0o600);
      const record = JSON.parse(readFileSync(`${persistent}.openab-sync.json`, 'utf8')) as { generation: number; sha256: string };
      expect(record).toMatchObject({ generation: (first as { generation: number }).generation, sha256: sha(persistent) });

      await expect(sync.writeBack()).resolves.toEqual({ outcome: 'unchanged' });
      // A fresh instance (a new launcher) also sees that nothing changed.
      await expect(make().writeBack()).resolves.toEqual({ outcome: 'unchanged' });

      sql(local, 'INSERT INTO t(payload) VALUES (randomblob(10))');
      await expect(sync.writeBack()).resolves.toMatchObject({ outcome: 'written' });
      expect(inspectCopy(persistent).rows).toBe(31);
      // Nothing but the database and its record lives beside it.
      expect(readdirSync(dirname(persistent)).sort()).toEqual(['data.sqlite3', 'data.sqlite3.openab-sync.json']);
    });

    it('reports that there is no local database and writes nothing', async () => {
      await expect(make().writeBack()).resolves.toEqual({ outcome: 'no-local-database' });
      expect(existsSync(persistent)).toBe(false);
    });

    it('never replaces a good saved database with a corrupt local one', async () => {
      createDb(local, 200, 'delete');
      await expect(make().writeBack()).resolves.toMatchObject({ outcome: 'written' });
      const good = sha(persistent);
      // Smash a b-tree page header, as a disk or a bug might.
      const fd = openSync(local, 'r+');
      writeSync(fd, Buffer.alloc(12, 0xff), 0, 12, 4096 * 5);
      closeSync(fd);

      const result = await make().writeBack();
      expect(result).toMatchObject({ outcome: 'failed', reason: expect.stringMatching(/integrity check|malformed/) });
      expect(sha(persistent)).toBe(good);
      expect(readdirSync(dirname(local)).filter((n) => n.includes('openab-tmp'))).toEqual([]);
    });

    it('never replaces a newer saved snapshot with an older one', async () => {
      createDb(local, 5, 'wal');
      const a = make();
      const b = make();
      const older = (await a.snapshot())!;
      sql(local, 'INSERT INTO t(payload) VALUES (randomblob(10))', 'INSERT INTO t(payload) VALUES (randomblob(10))');
      await sleep(5);
      const newer = (await b.snapshot())!;
      expect(newer.generation).toBeGreaterThan(older.generation);

      await expect(b.publish(newer)).resolves.toMatchObject({ outcome: 'written' });
      await expect(a.publish(older)).resolves.toEqual({ outcome: 'stale', generation: older.generation, savedGeneration: newer.generation });
      expect(inspectCopy(persistent).rows).toBe(7);

      // The loser's next snapshot is newer again and goes through.
      sql(local, 'INSERT INTO t(payload) VALUES (randomblob(10))');
      await expect(a.writeBack()).resolves.toMatchObject({ outcome: 'written' });
      expect(inspectCopy(persistent).rows).toBe(8);
    });

    it('removes temp files a killed run left, but not those of a live one, and takes over its dead lock', async () => {
      createDb(local, 3, 'wal');
      const dead = await deadPid();
      const live = spawn('sleep', ['30'], { stdio: 'ignore' });
      try {
        mkdirSync(dirname(persistent), { recursive: true });
        const deadTemp = join(dirname(persistent), `.data.sqlite3.openab-tmp-${dead}-0badc0de`);
        const liveTemp = join(dirname(persistent), `.data.sqlite3.openab-tmp-${live.pid}-0badc0de`);
        const deadLocalTemp = join(dirname(local), `.data.sqlite3.openab-tmp-${dead}-0badc0de-wal`);
        for (const f of [deadTemp, liveTemp, deadLocalTemp]) writeFileSync(f, 'half a database');
        const lock = join(tmpdir(), `openab-state-sync-${createHash('sha256').update(persistent).digest('hex').slice(0, 16)}.lock`);
        writeFileSync(lock, `${dead} feedface`);

        await expect(make({ lockTimeoutMs: 2_000 }).writeBack()).resolves.toMatchObject({ outcome: 'written' });
        expect(existsSync(deadTemp)).toBe(false);
        expect(existsSync(deadLocalTemp)).toBe(false);
        expect(existsSync(liveTemp)).toBe(true);
        expect(existsSync(lock)).toBe(false);
      } finally {
        live.kill('SIGKILL');
      }
    });

    it('writes back periodically after start() and once more on stop()', async () => {
      createDb(local, 2, 'wal');
      const sync = new StateSyncSet({ databases: [{ kind: 'file', local, persistent }], sqlite3, intervalMs: 40 });
      sync.start();
      const deadline = Date.now() + 5_000;
      while (!existsSync(persistent) && Date.now() < deadline) await sleep(20);
      expect(inspectCopy(persistent).rows).toBe(2);

      sql(local, 'INSERT INTO t(payload) VALUES (randomblob(10))');
      const [last]: WriteBackResult[] = await sync.stop();
      expect(['written', 'unchanged']).toContain(last.outcome);
      expect(inspectCopy(persistent).rows).toBe(3);
    });
  });
});

/**
 * The state sync process is SIGKILLed at random moments while an agent-like writer
 * keeps committing (and is itself killed now and then); after every kill the saved
 * file must be a sound database no older than the last one seen.
 */
describe.each<[JournalMode]>([['wal'], ['delete']])('state sync under SIGKILL (%s journal)', (mode) => {
  jest.setTimeout(30_000);
  const ITERATIONS = 30;
  let staged: ReturnType<typeof stageBundles>;
  let scratch: ReturnType<typeof scratchDir>;
  const live = new Set<{ kill: () => unknown }>();

  beforeAll(() => {
    requireSqlite3();
    staged = stageBundles(['state-sync.js']);
  });
  afterAll(() => staged.remove());
  beforeEach(() => {
    scratch = scratchDir(`state-sync-kill-${mode}`);
  });
  afterEach(() => {
    for (const p of live) p.kill();
    live.clear();
    scratch.remove();
  });

  /** Waits until the saved copy holds rows beyond `beyond` (a write-back landed), or `ms` passes. */
  async function landed(persistent: string, beyond: number, ms: number): Promise<void> {
    const until = Date.now() + ms;
    while (Date.now() < until) {
      if (existsSync(persistent) && inspectCopy(persistent).maxId > beyond) return;
      await sleep(50);
    }
  }

  it(`keeps the saved database sound and never older across ${ITERATIONS} kills`, async () => {
    const persistent = join(scratch.dir, 'mnt', '.local', 'share', 'kiro-cli', 'data.sqlite3');
    const local = join(scratch.dir, 'tmp', 'data', 'kiro-cli', 'data.sqlite3');
    mkdirSync(dirname(local), { recursive: true });
    createDb(local, 1000, mode, 1024); // ~1.3 MB, so a copy takes long enough to be interrupted
    const env = cleanEnv(scratch.dir, {
      OPENAB_LOCAL_STATE_DB: local,
      OPENAB_PERSISTENT_STATE_DB: persistent,
      OPENAB_SQLITE3: requireSqlite3(),
      OPENAB_STATE_SYNC_INTERVAL_MS: '5',
    });

    let writer = new SqliteWriter(local, mode);
    live.add(writer);
    let lastMaxId = 0;
    let advanced = 0;
    for (let i = 0; i < ITERATIONS; i++) {
      // Now and then two syncs overlap (two launchers): the lock and the generations must hold.
      const syncs = Array.from({ length: i % 5 === 4 ? 2 : 1 }, () => runProgram(join(staged.dir, 'state-sync.js'), ['run'], env));
      syncs.forEach((s) => live.add(s.proc));
      // A run starts in ~0.1 s and then writes back continuously: kills land before, during and between write-backs.
      // Every sixth run is killed only once a write-back has landed, however slow the machine.
      if (i % 6 === 5) await landed(persistent, lastMaxId, 15_000);
      else await sleep(60 + Math.floor(Math.random() * 500));
      for (const s of syncs) {
        s.proc.kill('SIGKILL');
        await s.exited;
        live.delete(s.proc);
      }
      if (Math.random() < 0.25) {
        await writer.kill();
        live.delete(writer);
        writer = new SqliteWriter(local, mode);
        live.add(writer);
      }

      if (!existsSync(persistent)) continue;
      const facts = inspectCopy(persistent);
      expect({ iteration: i, integrity: facts.integrity }).toEqual({ iteration: i, integrity: 'ok' });
      expect(facts.maxId).toBeGreaterThanOrEqual(lastMaxId);
      if (facts.maxId > lastMaxId) advanced++;
      lastMaxId = facts.maxId;
    }
    // The kills must not have kept every write-back from landing.
    expect(advanced).toBeGreaterThanOrEqual(3);

    // A clean write-back after the writer stops saves exactly the local state and leaves no debris.
    await writer.close();
    live.delete(writer);
    const final = runProgram(join(staged.dir, 'state-sync.js'), ['write-back'], env);
    live.add(final.proc);
    expect((await final.exited).code).toBe(0);
    expect(inspectCopy(persistent)).toEqual(inspectCopy(local));
    expect(readdirSync(dirname(persistent)).sort()).toEqual(['data.sqlite3', 'data.sqlite3.openab-sync.json']);
  });
});

describe('state-sync command', () => {
  jest.setTimeout(20_000);
  let staged: ReturnType<typeof stageBundles>;
  let scratch: ReturnType<typeof scratchDir>;
  let proc: ChildProcess | undefined;
  beforeAll(() => {
    staged = stageBundles(['state-sync.js']);
  });
  afterAll(() => staged.remove());
  beforeEach(() => {
    scratch = scratchDir('state-sync-cli');
  });
  afterEach(() => {
    proc?.kill('SIGKILL');
    scratch.remove();
  });

  it('run: copies in, then writes back on SIGTERM and exits 0', async () => {
    const persistent = join(scratch.dir, 'mnt', 'data.sqlite3');
    const local = join(scratch.dir, 'tmp', 'data.sqlite3');
    mkdirSync(dirname(persistent), { recursive: true });
    createDb(persistent, 4, 'wal');
    const env = cleanEnv(scratch.dir, { OPENAB_LOCAL_STATE_DB: local, OPENAB_PERSISTENT_STATE_DB: persistent, OPENAB_SQLITE3: requireSqlite3() });
    const run = runProgram(join(staged.dir, 'state-sync.js'), ['run'], env);
    proc = run.proc;
    await run.waitForLine((l) => l.event === 'state-sync.running');
    expect(run.lines.find((l) => l.event === 'state-sync.copy-in')).toMatchObject({ outcome: 'copied' });
    sql(local, 'INSERT INTO t(payload) VALUES (randomblob(10))');
    const { code } = await run.stop('SIGTERM');
    expect(code).toBe(0);
    expect(run.lines.find((l) => l.event === 'state-sync.stopped')).toMatchObject({ signal: 'SIGTERM', lastWriteBack: ['written'] });
    expect(inspectCopy(persistent).rows).toBe(5);
  });

  it('exits 2 with usage for an unknown command', async () => {
    const run = runProgram(join(staged.dir, 'state-sync.js'), ['sideways'], cleanEnv(scratch.dir));
    proc = run.proc;
    expect((await run.exited).code).toBe(2);
    expect(run.output).toMatch(/^usage: state-sync copy-in \| write-back \| run/);
  });
});

describe('StateSync without the sqlite3 shell', () => {
  it('says the shell is missing and writes nothing', async () => {
    const scratch = scratchDir('state-sync-nosqlite');
    try {
      const local = join(scratch.dir, 'local.db');
      const persistent = join(scratch.dir, 'saved', 'data.sqlite3');
      createDb(local, 1, 'wal');
      const sync = new StateSync({ persistentPath: persistent, localPath: local, sqlite3: join(scratch.dir, 'no-such-sqlite3') });
      await expect(sync.writeBack()).resolves.toEqual({ outcome: 'failed', reason: expect.stringContaining('is not installed') });
      expect(existsSync(persistent)).toBe(false);
    } finally {
      scratch.remove();
    }
  });
});
