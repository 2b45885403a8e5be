// The npm packages esbuild put into a bundle, with their installed versions, read from the
// build's metafile. jsii lets these be devDependencies only because they are bundled, so
// they are not in the package's dependency tree: this manifest is where an audit finds them.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * @param {{ inputs: Record<string, unknown> }} metafile esbuild's metafile (paths relative to `root`)
 * @param {string} root the directory esbuild ran in
 * @returns {{ name: string, version: string, path: string }[]} sorted by path
 */
export function bundledPackages(metafile, root) {
  const found = new Map();
  for (const input of Object.keys(metafile.inputs)) {
    // The innermost node_modules/<name> or node_modules/@scope/<name> is the package's own folder.
    const m = /^(.*node_modules\/((?:@[^/]+\/)?[^/]+))\//.exec(input.replace(/\\/g, '/'));
    if (!m || found.has(m[1])) continue;
    const { name, version } = JSON.parse(readFileSync(join(root, m[1], 'package.json'), 'utf8'));
    found.set(m[1], { name: name ?? m[2], version, path: m[1] });
  }
  return [...found.values()].sort((a, b) => a.path.localeCompare(b.path));
}

/** The manifest's file name: `dist/bridge.js` → `dist/bridge.packages.json`. */
export function manifestPath(outfile) {
  return outfile.replace(/\.m?js$/, '') + '.packages.json';
}
