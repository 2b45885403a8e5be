/**
 * Which agents are running, as the contract server sees it: each launcher drops a
 * file named by its pid into the busy directory and removes it when it ends. A file
 * whose process is gone (the launcher was SIGKILLed) does not count and is swept.
 */
import { mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { isProcessAlive } from './fs-atomic';
import { resolvePaths } from './paths';

/**
 * Marks `pid` as running an agent until the returned function is called (also called
 * on normal process exit). Synchronous, so a launcher can call it before anything else.
 */
export function markAgentRunning(pid: number = process.pid, dir: string = resolvePaths().busyDir, info: Record<string, unknown> = {}): () => void {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const file = join(dir, String(pid));
  writeFileSync(file, `${JSON.stringify({ pid, startedAt: new Date().toISOString(), ...info })}\n`, { mode: 0o600 });
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
export function runningAgents(dir: string = resolvePaths().busyDir): number[] {
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
