#!/usr/bin/env node
// cdk.json's app command. Transpiles bin/app.ts (and the lib/ files it imports) with
// esbuild, already a devDependency for the bridge bundle, then runs it: about 0.1 s
// instead of a tsc or ts-node type check on every synth. Type checking is
// `npm run typecheck`'s job. Packages stay external, so aws-cdk-lib and cdk-nag load
// from node_modules as single copies (cdk-nag's instanceof checks depend on that).
'use strict';
const path = require('node:path');
const { buildSync } = require('esbuild');

const root = path.join(__dirname, '..');
const outfile = path.join(root, 'node_modules', '.cache', 'openab-agentcore', `cdk-app-${process.pid}.js`);
buildSync({
  entryPoints: [path.join(__dirname, 'app.ts')],
  outfile,
  bundle: true,
  packages: 'external',
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  sourcemap: 'inline',
  logLevel: 'warning',
});
try {
  require(outfile);
} finally {
  require('node:fs').rmSync(outfile, { force: true });
}
