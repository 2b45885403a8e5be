/**
 * Every SQLite database an agent keeps, each synced by its own {@link StateSync}: named
 * files (Kiro CLI's `data.sqlite3`), or whatever databases appear in a directory (Codex's
 * `CODEX_SQLITE_HOME`, whose file names carry schema versions: `state_5.sqlite`, …). A
 * directory is listed on both sides at copy-in, and the local side again at every
 * write-back, so a database the agent creates while it runs is saved too. Each database
 * keeps the single-file guarantees of state-sync.ts; the set adds no state of its own but
 * the list.
 */
import { promises as fs } from 'node:fs';
import { join } from 'node:path';
import { type CopyInResult, StateSync, type WriteBackResult } from './state-sync';
import { describeError, type Logger, silentLogger } from './log';

/** Where a database lives while the agent uses it (local disk) and where it is kept (session storage). */
export type DatabaseSpec =
  | { readonly kind: 'file'; readonly local: string; readonly persistent: string }
  /** Every file in `local` (and in `persistent`) whose name matches `include`, under the same name. */
  | { readonly kind: 'directory'; readonly local: string; readonly persistent: string; readonly include: RegExp };

export interface StateSyncSetProps {
  readonly databases: readonly DatabaseSpec[];
  /** @default 60_000 */
  readonly intervalMs?: number;
  /** @default - no logging */
  readonly log?: Logger;
  /** @default - StateSync's default */
  readonly sqlite3?: string;
}

export class StateSyncSet {
  readonly intervalMs: number;
  private readonly log: Logger;
  /** By persistent path. */
  private readonly syncs = new Map<string, StateSync>();
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;

  constructor(private readonly props: StateSyncSetProps) {
    this.intervalMs = props.intervalMs ?? 60_000;
    if (!(this.intervalMs > 0)) throw new Error(`intervalMs must be positive, got ${props.intervalMs}`);
    this.log = props.log ?? silentLogger;
  }

  /** Persistent → local for every database saved or in use, before the agent starts. */
  async copyIn(): Promise<CopyInResult[]> {
    const found = await this.discover(true);
    const results: CopyInResult[] = [];
    for (const sync of found) results.push(await sync.copyIn());
    return results;
  }

  /** Write back every `intervalMs` until {@link stop}. */
  start(): void {
    if (this.timer || this.stopped) return;
    const tick = () => {
      this.timer = setTimeout(() => {
        void this.writeBack()
          .catch((err: unknown) => this.log.error('state-sync.write-back-crashed', describeError(err)))
          .then(() => {
            if (!this.stopped) tick();
          });
      }, this.intervalMs);
      this.timer.unref();
    };
    tick();
  }

  /** Every database saved now, new ones included. Never throws. */
  async writeBack(): Promise<WriteBackResult[]> {
    return Promise.all((await this.discover(false)).map((s) => s.writeBack()));
  }

  /** After a turn, behind any write-back already running (see StateSync.writeBackAfterTurn). Never throws. */
  async writeBackAfterTurn(): Promise<void> {
    await Promise.all((await this.discover(false)).map((s) => s.writeBackAfterTurn()));
  }

  /** Stops the periodic write-back and does a last one for every database. */
  async stop(): Promise<WriteBackResult[]> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    return Promise.all((await this.discover(false)).map((s) => s.stop()));
  }

  /** The syncs of every database now known: named ones, and those listed in the directories. */
  private async discover(includePersistent: boolean): Promise<StateSync[]> {
    for (const spec of this.props.databases) {
      if (spec.kind === 'file') {
        this.syncFor(spec.local, spec.persistent);
        continue;
      }
      const names = new Set(await this.list(spec.local, spec.include));
      if (includePersistent) for (const n of await this.list(spec.persistent, spec.include)) names.add(n);
      for (const name of names) this.syncFor(join(spec.local, name), join(spec.persistent, name));
    }
    return [...this.syncs.values()];
  }

  private syncFor(local: string, persistent: string): StateSync {
    let sync = this.syncs.get(persistent);
    if (!sync) {
      sync = new StateSync({ localPath: local, persistentPath: persistent, log: this.log, sqlite3: this.props.sqlite3 });
      this.syncs.set(persistent, sync);
    }
    return sync;
  }

  private async list(dir: string, include: RegExp): Promise<string[]> {
    try {
      return (await fs.readdir(dir, { withFileTypes: true })).filter((e) => e.isFile() && include.test(e.name)).map((e) => e.name).sort();
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') this.log.warn('state-sync.list-failed', { dir, ...describeError(err) });
      return [];
    }
  }
}
