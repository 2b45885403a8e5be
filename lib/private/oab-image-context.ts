/**
 * Stages the OAB image's Docker build context: the Dockerfile and the bundled bridge,
 * nothing else (everything in a context is hashed into the asset). The directory name
 * is the content hash, so repeated synths reuse it and parallel ones cannot collide.
 * The name is predictable and the temp directory shared, so a directory already there is
 * reused only when it is ours to trust: owned by this user, closed to others, not a link,
 * and holding exactly these two files with exactly these bytes. Otherwise this build gets
 * a private copy of its own.
 */
import { createHash } from 'node:crypto';
import { lstatSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export function missingBridgeBundleMessage(bundlePath: string): string {
  return `bridgeBundlePath: the bundled bridge ${bundlePath} does not exist. Run \`npm run build\` first (it bundles the bridge into dist/bridge.js), or pass \`image\` to use a prebuilt OAB image`;
}

/** Where a context with this Dockerfile and bundle is staged when the path is free or already ours. */
export function oabImageContextPath(dockerfile: Buffer, bundle: Buffer): string {
  const hash = createHash('sha256').update(dockerfile).update('\0').update(bundle).digest('hex').slice(0, 20);
  return join(tmpdir(), `openab-agentcore-oab-image-${hash}`);
}

/** Returns the staged context directory; the bridge bundle must exist. */
export function stageOabImageContext(dockerfilePath: string, bundlePath: string): string {
  const files = { 'Dockerfile': readFileSync(dockerfilePath), 'bridge.js': readFileSync(bundlePath) };
  const dir = oabImageContextPath(files.Dockerfile, files['bridge.js']);
  if (holdsExactly(dir, files)) return dir;

  // mkdtemp creates the directory 0700: nobody else can add or change a file in it.
  const partial = mkdtempSync(join(tmpdir(), 'openab-agentcore-oab-image-partial-'));
  // Written from the bytes just hashed, in case the bundle is being rebuilt meanwhile.
  for (const [name, bytes] of Object.entries(files)) writeFileSync(join(partial, name), bytes);
  try {
    renameSync(partial, dir);
    return dir;
  } catch {
    // Something is at the path: another synth's identical context, or not ours.
  }
  if (holdsExactly(dir, files)) {
    rmSync(partial, { recursive: true, force: true });
    return dir;
  }
  return partial;
}

/** A directory of ours, closed to others, holding exactly `files` (no links). */
function holdsExactly(dir: string, files: Record<string, Buffer>): boolean {
  try {
    const stat = lstatSync(dir);
    if (!stat.isDirectory()) return false;
    if (process.platform !== 'win32') {
      if (stat.uid !== process.getuid?.()) return false;
      if ((stat.mode & 0o022) !== 0) return false;
    }
    const names = readdirSync(dir).sort();
    if (names.join('\0') !== Object.keys(files).sort().join('\0')) return false;
    return names.every((name) => {
      const path = join(dir, name);
      const file = lstatSync(path);
      return file.isFile() && (process.platform === 'win32' || (file.uid === stat.uid && (file.mode & 0o022) === 0)) && readFileSync(path).equals(files[name]);
    });
  } catch {
    return false;
  }
}
