/**
 * `/app/bin/state-sync copy-in | write-back | run`: the state sync by hand (after an
 * interactive `kiro-cli login`, before stopping a session) or as a sidecar process.
 * Paths come from paths.ts (`OPENAB_LOCAL_STATE_DB`, `OPENAB_PERSISTENT_STATE_DB`);
 * `run` writes back every `OPENAB_STATE_SYNC_INTERVAL_MS` (default 60 s) until
 * SIGTERM/SIGINT/SIGHUP, then once more. One JSON line per event on stdout.
 */
import { createLogger } from './log';
import { resolvePaths } from './paths';
import { StateSync } from './state-sync';

const USAGE = 'usage: state-sync copy-in | write-back | run [--no-copy-in]\n';

export async function main(argv: string[]): Promise<number> {
  const [command, ...flags] = argv;
  const log = createLogger('state-sync');
  const interval = Number(process.env.OPENAB_STATE_SYNC_INTERVAL_MS || 60_000);
  const paths = resolvePaths(process.env);
  const sync = new StateSync({ persistentPath: paths.persistentStateDb, localPath: paths.localStateDb, intervalMs: interval, log });
  switch (command) {
    case 'copy-in':
      return (await sync.copyIn()).outcome === 'failed' ? 1 : 0;
    case 'write-back': {
      const r = await sync.writeBack();
      return r.outcome === 'failed' ? 1 : 0;
    }
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
      const r = await sync.stop();
      log.info('state-sync.stopped', { signal, lastWriteBack: r.outcome });
      return r.outcome === 'failed' ? 1 : 0;
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
