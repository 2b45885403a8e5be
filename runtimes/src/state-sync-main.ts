/**
 * `/app/bin/state-sync copy-in | write-back | run`: the state sync by hand (after an
 * interactive `kiro-cli login`, before stopping a session) or as a sidecar process.
 * The databases are the image's agent's (`OPENAB_AGENT`, see agent-state.ts; Kiro's paths
 * come from paths.ts: `OPENAB_LOCAL_STATE_DB`, `OPENAB_PERSISTENT_STATE_DB`);
 * `run` writes back every `OPENAB_STATE_SYNC_INTERVAL_MS` (default 60 s) until
 * SIGTERM/SIGINT/SIGHUP, then once more. One JSON line per event on stdout.
 */
import { homedir } from 'node:os';
import { agentOf } from '../../shared/contract/agents';
import { agentLayout } from './agent-state';
import { createLogger } from './log';
import { resolvePaths } from './paths';
import { StateSyncSet } from './state-sync-set';
import { adoptRuntimeEnv } from './runtime-env';

const USAGE = 'usage: state-sync copy-in | write-back | run [--no-copy-in]\n';

export async function main(argv: string[]): Promise<number> {
  const [command, ...flags] = argv;
  const log = createLogger('state-sync');
  const interval = Number(process.env.OPENAB_STATE_SYNC_INTERVAL_MS || 60_000);
  adoptRuntimeEnv(process.env, resolvePaths(process.env).runtimeEnvFile);
  const paths = resolvePaths(process.env);
  // By hand, session storage is taken as there: this only copies between the two places.
  const layout = agentLayout({ agent: agentOf(process.env), paths, env: process.env, sessionStorage: true, ownHome: homedir(), keyEnv: '' });
  const sync = new StateSyncSet({ databases: layout.databases, intervalMs: interval, log, sqlite3: paths.sqlite3 });
  const failed = (results: Array<{ outcome: string }>) => (results.some((r) => r.outcome === 'failed') ? 1 : 0);
  switch (command) {
    case 'copy-in':
      return failed(await sync.copyIn());
    case 'write-back':
      return failed(await sync.writeBack());
    case 'run': {
      if (!flags.includes('--no-copy-in')) await sync.copyIn();
      sync.start();
      log.info('state-sync.running', { intervalMs: interval });
      // The sync's own timer does not hold a process open (a launcher has its own reasons to live); this does.
      const keepAlive = setInterval(() => undefined, 2 ** 30);
      const signal = await new Promise<NodeJS.Signals>((resolve) => {
        for (const s of ['SIGTERM', 'SIGINT', 'SIGHUP'] as const) process.once(s, () => resolve(s));
      });
      clearInterval(keepAlive);
      const results = await sync.stop();
      log.info('state-sync.stopped', { signal, lastWriteBack: results.map((r) => r.outcome) });
      return failed(results);
    }
    default:
      process.stderr.write(USAGE);
      return 2;
  }
}

if (require.main === module) {
  main(process.argv.slice(2)).then((code) => process.exit(code), (err: Error) => {
    process.stderr.write(`state-sync: ${err.message}\n`);
    process.exit(1);
  });
}
