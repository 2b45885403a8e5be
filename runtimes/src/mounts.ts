/**
 * Whether a path is a mount point, to tell session storage from the image's own empty
 * directory (third parties report it is mounted only once the session is invoked).
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';

/** Mount points listed in /proc/self/mountinfo text (field 5, octal escapes decoded). Pure. */
export function parseMountPoints(mountinfo: string): string[] {
  const points: string[] = [];
  for (const line of mountinfo.split('\n')) {
    const fields = line.split(' ');
    if (fields.length < 5 || !fields[4]) continue;
    points.push(fields[4].replace(/\\([0-7]{3})/g, (_, oct: string) => String.fromCharCode(parseInt(oct, 8))));
  }
  return points;
}

export function isMountPoint(path: string, mountinfoFile = '/proc/self/mountinfo'): boolean {
  const target = resolve(path);
  try {
    return parseMountPoints(readFileSync(mountinfoFile, 'utf8')).includes(target);
  } catch {
    // No /proc: a different device than the parent is the classic test (misses bind mounts).
    try {
      return statSync(target).dev !== statSync(dirname(target)).dev;
    } catch {
      return false;
    }
  }
}

/**
 * Whether the agent home is AgentCore session storage. The image creates /mnt/agent, so
 * its existence proves nothing: session storage is a mount. A home set explicitly
 * (`OPENAB_AGENT_HOME`: another layout, a local run) is taken as it is when it exists.
 * One answer for the launcher and for /invocations.
 */
export function hasSessionStorage(
  agentHome: string,
  env: Record<string, string | undefined>,
  isMount: (path: string) => boolean = isMountPoint,
): boolean {
  return env.OPENAB_AGENT_HOME ? existsSync(agentHome) : isMount(agentHome);
}
