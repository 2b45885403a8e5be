/**
 * Where this package's own files live. The constructs run from `lib/*.ts` (ts-node,
 * jest), from `dist/lib/*.js` (compiled) or from node_modules, so paths are found by
 * walking up to our package.json rather than by a fixed number of `..`.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

const PACKAGE_NAME = 'openab-agentcore';

let cached: string | undefined;

export function packageRoot(): string {
  if (cached) return cached;
  let dir = __dirname;
  for (;;) {
    const manifest = join(dir, 'package.json');
    if (existsSync(manifest) && readName(manifest) === PACKAGE_NAME) {
      cached = dir;
      return dir;
    }
    const parent = dirname(dir);
    if (parent === dir) {
      throw new Error(`cannot find the ${PACKAGE_NAME} package root above ${__dirname}`);
    }
    dir = parent;
  }
}

/** The Docker build context of the default coding agent runtime image. */
export function defaultRuntimeDirectory(): string {
  return join(packageRoot(), 'runtimes');
}

/** The directory holding the OAB image's Dockerfile. */
export function oabDockerDirectory(): string {
  return join(packageRoot(), 'oab');
}

/** The bundled bridge produced by `npm run build`. */
export function defaultBridgeBundle(): string {
  return join(packageRoot(), 'dist', 'bridge.js');
}

function readName(manifest: string): string | undefined {
  try {
    return (JSON.parse(readFileSync(manifest, 'utf8')) as { name?: string }).name;
  } catch {
    return undefined;
  }
}
