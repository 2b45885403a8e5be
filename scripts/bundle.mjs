// Bundles the bridge into one file that runs with plain `node`, plus the local
// stand-ins (emulator, ACP test agent and client) that the tests and demo run.
import { build } from 'esbuild';
import { readFileSync, existsSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { bundledPackages, manifestPath } from './bundled-packages.mjs';

const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
const common = {
  bundle: true,
  platform: 'node',
  target: 'node20',
  sourcemap: false,
  legalComments: 'none',
  logLevel: 'warning',
  define: { __BRIDGE_VERSION__: JSON.stringify(pkg.version) },
  metafile: true,
};
const root = fileURLToPath(new URL('..', import.meta.url));

const entries = [
  // The product: no dependency may stay external, it runs with no node_modules beside it.
  // Minified: OAB runs one bridge per thread, and the source text is resident in each.
  { entryPoints: ['bridge/src/main.ts'], outfile: 'dist/bridge.js', format: 'cjs', banner: { js: '#!/usr/bin/env node' }, minify: true, keepNames: true },
  // In-runtime programs, into the runtime image's build context.
  { entryPoints: ['runtimes/src/acp-session.ts'], outfile: 'runtimes/app/acp-session.js', format: 'cjs' },
  // The image's main process (AgentCore HTTP contract, boot-time key fetch) and the state sync CLI.
  { entryPoints: ['runtimes/src/contract-server.ts'], outfile: 'runtimes/app/contract-server.js', format: 'cjs', define: { __RUNTIME_VERSION__: JSON.stringify(pkg.version) } },
  { entryPoints: ['runtimes/src/state-sync-main.ts'], outfile: 'runtimes/app/state-sync.js', format: 'cjs' },
  // Test and demo support; node-pty is a native addon and stays in node_modules.
  { entryPoints: ['test/support/emulator/main.ts'], outfile: 'dist/test/emulator.js', format: 'cjs', external: ['node-pty'] },
  { entryPoints: ['test/support/acp-agent.mts'], outfile: 'dist/test/acp-agent.mjs', format: 'esm' },
  { entryPoints: ['test/support/acp-client.mts'], outfile: 'dist/test/acp-client.mjs', format: 'esm' },
  // The npm-published agents and their model API stand-ins, for the demo.
  { entryPoints: ['test/support/real-agents.ts'], outfile: 'dist/test/real-agents.js', format: 'cjs' },
];

await Promise.all(
  entries
    .filter((e) => existsSync(new URL(`../${e.entryPoints[0]}`, import.meta.url)))
    .map(async (e) => {
      const result = await build({ ...common, absWorkingDir: root, ...e });
      // Beside each bundle: the packages inside it and their versions, for an audit.
      const manifest = { bundle: e.outfile.split('/').pop(), packages: bundledPackages(result.metafile, root) };
      writeFileSync(new URL(`../${manifestPath(e.outfile)}`, import.meta.url), `${JSON.stringify(manifest, null, 2)}\n`);
    }),
);
