/**
 * Files that are either wholly old or wholly new: write a temporary file in the same
 * directory (created exclusively, so a planted symlink is never followed), fsync it,
 * rename it over the target, fsync the directory.
 */
import { randomBytes } from 'node:crypto';
import { promises as fs, constants as fsc } from 'node:fs';
import { basename, dirname, join } from 'node:path';

/** Prefix of every temporary file we create next to a target, so leftovers can be recognised. */
export const TEMP_MARKER = '.openab-tmp-';

/** A temporary path next to `target`: hidden, tagged with our pid so a later run can tell if it is stale. */
export function tempPathFor(target: string, pid = process.pid): string {
  return join(dirname(target), `.${basename(target)}${TEMP_MARKER}${pid}-${randomBytes(4).toString('hex')}`);
}

/** The pid encoded in a name from {@link tempPathFor}, if it is one. */
export function tempOwnerPid(name: string): number | undefined {
  const i = name.indexOf(TEMP_MARKER);
  if (i < 0) return undefined;
  const pid = Number(name.slice(i + TEMP_MARKER.length).split('-')[0]);
  return Number.isInteger(pid) && pid > 0 ? pid : undefined;
}

/**
 * Creates `dir` (and parents) and makes sure it is a real directory owned by us with
 * no access for group or others, tightening the mode if we own it. Throws otherwise:
 * a key must not land in a directory someone else controls.
 */
export async function ensurePrivateDir(dir: string): Promise<void> {
  await fs.mkdir(dir, { recursive: true, mode: 0o700 });
  const st = await fs.lstat(dir);
  if (!st.isDirectory()) throw new Error(`${dir} is not a directory`);
  const uid = process.getuid?.();
  if (uid !== undefined && st.uid !== uid) throw new Error(`${dir} belongs to uid ${st.uid}, not to this process (uid ${uid})`);
  if ((st.mode & 0o077) !== 0) await fs.chmod(dir, 0o700);
}

export async function fsyncDir(dir: string): Promise<void> {
  let handle: fs.FileHandle | undefined;
  try {
    handle = await fs.open(dir, fsc.O_RDONLY);
    await handle.sync();
  } catch {
    // Some filesystems refuse fsync on a directory; the rename itself is still atomic.
  } finally {
    await handle?.close().catch(() => undefined);
  }
}

export interface AtomicWriteOptions {
  /** File mode of the result. @default 0o600 */
  readonly mode?: number;
}

/** Replaces `target` with `data` atomically; on failure the old file (if any) is untouched. */
export async function writeFileAtomic(target: string, data: string | Uint8Array, options: AtomicWriteOptions = {}): Promise<void> {
  const tmp = tempPathFor(target);
  const mode = options.mode ?? 0o600;
  let handle: fs.FileHandle | undefined;
  try {
    handle = await fs.open(tmp, fsc.O_WRONLY | fsc.O_CREAT | fsc.O_EXCL, mode);
    await handle.writeFile(data);
    // The umask may have narrowed the mode; never widened it. Set it exactly.
    await handle.chmod(mode);
    await handle.sync();
    await handle.close();
    handle = undefined;
    await fs.rename(tmp, target);
  } catch (err) {
    await handle?.close().catch(() => undefined);
    await fs.rm(tmp, { force: true }).catch(() => undefined);
    throw err;
  }
  await fsyncDir(dirname(target));
}

export interface AtomicCopyOptions extends AtomicWriteOptions {
  /**
   * Runs on the synced temporary copy just before it replaces the target (to check it,
   * or to record what is about to land); throwing abandons the copy.
   * @default - nothing
   */
  readonly beforeRename?: (tmp: string) => Promise<void>;
}

/** Copies `source` to `target` atomically (temp next to the target, fsync, rename). */
export async function copyFileAtomic(source: string, target: string, options: AtomicCopyOptions = {}): Promise<void> {
  const tmp = tempPathFor(target);
  try {
    await fs.copyFile(source, tmp, fsc.COPYFILE_EXCL);
    const handle = await fs.open(tmp, fsc.O_RDWR);
    try {
      await handle.chmod(options.mode ?? 0o600);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await options.beforeRename?.(tmp);
    await fs.rename(tmp, target);
  } catch (err) {
    await fs.rm(tmp, { force: true }).catch(() => undefined);
    throw err;
  }
  await fsyncDir(dirname(target));
}

/** Whether `pid` is a live process (one we may not signal still counts). */
export function isProcessAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
