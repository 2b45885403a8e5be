/**
 * How the launcher's metric records reach CloudWatch. The launcher's log is a file in
 * the microVM (its terminal is the protocol channel), and only the contract server's
 * stdout reaches the runtime's log group. So the launcher also drops each record that
 * carries metrics (a `_aws` member) into the spool directory, one file per record,
 * written whole and renamed into place; the contract server moves them to its stdout,
 * oldest first, and deletes them. It also names the runtime in them (`Runtime`): the
 * interactive shell the launcher runs in may not have the container's environment.
 *
 * Bounded: at most {@link MAX_SPOOLED} files wait (newer records are dropped beyond it)
 * and a record longer than {@link MAX_SPOOLED_BYTES} is not spooled.
 */
import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export const MAX_SPOOLED = 256;
export const MAX_SPOOLED_BYTES = 8 * 1024;
const SUFFIX = '.json';
let sequence = 0;

/** Spools `line` if it carries metrics; never throws (a record not spooled is a metric not counted). */
export function spoolMetricLine(dir: string, line: string, now: number = Date.now()): boolean {
  if (!line.includes('"_aws"') || Buffer.byteLength(line) > MAX_SPOOLED_BYTES) return false;
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    if (readdirSync(dir).length >= MAX_SPOOLED) return false;
    const name = `${String(now).padStart(15, '0')}-${process.pid}-${sequence++}`;
    writeFileSync(join(dir, `${name}.tmp`), line, { mode: 0o600 });
    renameSync(join(dir, `${name}.tmp`), join(dir, name + SUFFIX));
    return true;
  } catch {
    return false;
  }
}

/**
 * Hands every spooled record to `sink` (oldest first), with `fields` set in it, and deletes
 * it; a file that is not a JSON object is deleted unread. Returns how many were handed on.
 */
export function drainMetricSpool(dir: string, sink: (line: string) => void, fields: Record<string, unknown> = {}): number {
  let names: string[];
  try {
    names = readdirSync(dir).filter((n) => n.endsWith(SUFFIX)).sort();
  } catch {
    return 0;
  }
  let moved = 0;
  for (const name of names) {
    const file = join(dir, name);
    try {
      const text = readFileSync(file, 'utf8');
      rmSync(file, { force: true });
      const record = JSON.parse(text) as unknown;
      if (typeof record !== 'object' || record === null || Array.isArray(record)) continue;
      sink(`${JSON.stringify({ ...record, ...fields })}\n`);
      moved++;
    } catch {
      // Gone meanwhile (another drain), or not a record: nothing to move.
    }
  }
  return moved;
}
