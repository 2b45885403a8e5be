/**
 * Stages the OAB image's Docker build context: the Dockerfile and the bundled bridge,
 * nothing else (everything in a context is hashed into the asset). The directory name
 * is the content hash, so repeated synths reuse it and parallel ones cannot collide.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export function missingBridgeBundleMessage(bundlePath: string): string {
  return `bridgeBundlePath: the bundled bridge ${bundlePath} does not exist. Run \`npm run build\` first (it bundles the bridge into dist/bridge.js), or pass \`image\` to use a prebuilt OAB image`;
}

/** Returns the staged context directory; the bridge bundle must exist. */
export function stageOabImageContext(dockerfilePath: string, bundlePath: string): string {
  const dockerfile = readFileSync(dockerfilePath);
  const bundle = readFileSync(bundlePath);
  const hash = createHash('sha256').update(dockerfile).update('\0').update(bundle).digest('hex').slice(0, 20);
  const dir = join(tmpdir(), `openab-agentcore-oab-image-${hash}`);
  if (existsSync(join(dir, 'bridge.js'))) return dir;

  const partial = mkdtempSync(join(tmpdir(), 'openab-agentcore-oab-image-partial-'));
  // Written from the bytes just hashed, in case the bundle is being rebuilt meanwhile.
  writeFileSync(join(partial, 'Dockerfile'), dockerfile);
  writeFileSync(join(partial, 'bridge.js'), bundle);
  try {
    renameSync(partial, dir);
  } catch {
    // Another synth staged the same content first.
    rmSync(partial, { recursive: true, force: true });
    if (!existsSync(join(dir, 'bridge.js'))) {
      mkdirSync(dir, { recursive: true });
      writeFileSync(join(dir, 'Dockerfile'), dockerfile);
      writeFileSync(join(dir, 'bridge.js'), bundle);
    }
  }
  return dir;
}
