/**
 * Which launchers have a turn in flight, as the contract server sees it: a launcher
 * drops a file named by its pid into the busy directory when a turn starts (see
 * turn-tracker.ts) and removes it when the last one ends or the launcher exits. The
 * file's modification time is when the busy stretch began. A file whose process is gone
 * (the launcher was SIGKILLed) does not count and is swept.
 */
import { mkdirSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { isProcessAlive } from './fs-atomic';
import { resolvePaths } from './paths';

/**
 * Marks `pid` busy until the returned function is called (also called on normal
 * process exit). Synchronous, so the launcher can call it from a data handler.
 */
export function markBusy(pid: number = process.pid, dir: string = resolvePaths().busyDir, info: Record<string, unknown> = {}): () => void {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const file = join(dir, String(pid));
  writeFileSync(file, `${JSON.stringify({ pid, since: new Date().toISOString(), ...info })}\n`, { mode: 0o600 });
  let cleared = false;
  const clear = () => {
    if (cleared) return;
    cleared = true;
    process.removeListener('exit', clear);
    rmSync(file, { force: true });
  };
  process.once('exit', clear);
  return clear;
}

/** The pids with a marker whose process is alive; markers of dead processes are removed. */
export function busyPids(dir: string = resolvePaths().busyDir): number[] {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return [];
  }
  const alive: number[] = [];
  for (const name of names) {
    if (!/^[1-9][0-9]*$/.test(name)) continue;
    const pid = Number(name);
    if (isProcessAlive(pid)) alive.push(pid);
    else rmSync(join(dir, name), { force: true });
  }
  return alive.sort((a, b) => a - b);
}

/**
 * The live markers split by the ceiling on one busy stretch: `busy` began less than
 * `maxBusyMs` ago, `overCeiling` longer (a stuck turn must not pin the microVM for its
 * whole 8-hour lifetime).
 */
export function busyLaunchers(dir: string, maxBusyMs: number, now: number = Date.now()): { busy: number[]; overCeiling: number[] } {
  const busy: number[] = [];
  const overCeiling: number[] = [];
  for (const pid of busyPids(dir)) {
    let since: number;
    try {
      since = statSync(join(dir, String(pid))).mtimeMs;
    } catch {
      continue; // cleared meanwhile
    }
    (now - since < maxBusyMs ? busy : overCeiling).push(pid);
  }
  return { busy, overCeiling };
}
