/**
 * The manifests `npm run bundle` writes beside each bundle: the npm packages esbuild put
 * inside it, with the versions installed, so an audit of the bridge or the runtime image
 * sees code that is in no dependency tree (it is bundled from devDependencies).
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const ROOT = join(__dirname, '..', '..');

interface Manifest { bundle: string; packages: { name: string; version: string; path: string }[] }

function manifest(path: string): Manifest {
  return JSON.parse(readFileSync(join(ROOT, path), 'utf8')) as Manifest;
}

function installedVersion(name: string): string {
  return (JSON.parse(readFileSync(join(ROOT, 'node_modules', name, 'package.json'), 'utf8')) as { version: string }).version;
}

describe('bundled package manifests', () => {
  test('the bridge bundle lists ws and @smithy/signature-v4 at their installed versions', () => {
    const { bundle, packages } = manifest('dist/bridge.packages.json');
    expect(bundle).toBe('bridge.js');
    for (const name of ['ws', '@smithy/signature-v4']) {
      expect(packages).toContainEqual({ name, version: installedVersion(name), path: `node_modules/${name}` });
    }
    expect(packages.map((p) => p.path)).toEqual([...new Set(packages.map((p) => p.path))].sort((a, b) => a.localeCompare(b)));
  });

  test('each runtime image program has its manifest beside it in the build context', () => {
    for (const program of ['acp-session', 'contract-server', 'state-sync']) {
      const path = `runtimes/app/${program}.packages.json`;
      expect({ path, exists: existsSync(join(ROOT, path)) }).toEqual({ path, exists: true });
      expect(manifest(path).bundle).toBe(`${program}.js`);
    }
    expect(manifest('runtimes/app/contract-server.packages.json').packages.map((p) => p.name)).toContain('@aws-sdk/client-bedrock-agentcore');
  });
});
