/**
 * Runs the AgentCore shell emulator as its own process (demo, benchmarks, manual use):
 *   node dist/test/emulator.js [--port N] [--host H] [--state-dir D] [--replay-mode tail|since-detach] [--verbose]
 *                              [--idle-timeout-ms N] [--max-lifetime-ms N] [--busy never|turns|shells]
 * With --busy turns or shells, each session's shells get the runtime image's layout
 * (OPENAB_STATE_DIR on the microVM's disk, OPENAB_AGENT_HOME on session storage); a session is
 * busy while a launcher there has a turn in flight (turns), or while any of its shells lives
 * (shells: how the runtime reported busy before it counted turns).
 * Prints one JSON line with what a client needs to stdout, a human hint to stderr, and
 * stops cleanly on SIGINT/SIGTERM. Failures are injected over HTTP at /_emulator/*.
 */
import { parseArgs } from 'node:util';
import { join } from 'node:path';
import { busyPids } from '../../../runtimes/src/busy';
import { AgentCoreEmulator, type EmulatorOptions, TEST_CREDENTIALS, TEST_RUNTIME_ARN } from './emulator';

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      port: { type: 'string', default: '0' },
      host: { type: 'string', default: '127.0.0.1' },
      'state-dir': { type: 'string' },
      'replay-mode': { type: 'string', default: 'tail' },
      verbose: { type: 'boolean', default: false },
      'idle-timeout-ms': { type: 'string' },
      'max-lifetime-ms': { type: 'string' },
      busy: { type: 'string', default: 'never' },
      help: { type: 'boolean', short: 'h', default: false },
    },
    strict: true,
  });
  if (values.help) {
    process.stdout.write('usage: emulator [--port N] [--host H] [--state-dir D] [--replay-mode tail|since-detach] [--verbose]\n' +
      '                [--idle-timeout-ms N] [--max-lifetime-ms N] [--busy never|turns|shells]\n');
    return;
  }
  const port = Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`--port must be 0..65535, got ${values.port}`);
  const replayMode = values['replay-mode'];
  if (replayMode !== 'tail' && replayMode !== 'since-detach') throw new Error(`--replay-mode must be tail or since-detach, got ${replayMode}`);

  const ms = (name: 'idle-timeout-ms' | 'max-lifetime-ms'): number | undefined => {
    const v = values[name];
    if (v === undefined) return undefined;
    const n = Number(v);
    if (!Number.isInteger(n) || n <= 0) throw new Error(`--${name} must be a positive integer, got ${v}`);
    return n;
  };
  const busy = values.busy;
  if (busy !== 'never' && busy !== 'turns' && busy !== 'shells') throw new Error(`--busy must be never, turns or shells, got ${busy}`);
  // The busy check reads the emulator's own stats: it runs only once the emulator has started.
  const started: { emulator?: AgentCoreEmulator } = {};
  const lifecycle: EmulatorOptions = {
    idleTimeoutMs: ms('idle-timeout-ms'),
    maxLifetimeMs: ms('max-lifetime-ms'),
    ...(busy !== 'never' && {
      vmEnv: ({ vmDir, storageDir }) => ({ OPENAB_STATE_DIR: vmDir, OPENAB_AGENT_HOME: storageDir }),
    }),
    ...(busy === 'turns' && {
      isBusy: ({ vmDir }) => busyPids(join(vmDir, 'busy')).length > 0,
    }),
    ...(busy === 'shells' && {
      isBusy: ({ sessionId }) => (started.emulator?.stats().sessions.find((s) => s.sessionId === sessionId)?.liveShells ?? 0) > 0,
    }),
  };
  const emulator = await AgentCoreEmulator.start({
    port,
    host: values.host,
    stateDir: values['state-dir'],
    replayMode,
    verbose: values.verbose,
    ...lifecycle,
  });
  started.emulator = emulator;
  process.stdout.write(
    JSON.stringify({
      url: emulator.url,
      region: emulator.region,
      runtimeArn: TEST_RUNTIME_ARN,
      accessKeyId: TEST_CREDENTIALS.accessKeyId,
      secretAccessKey: TEST_CREDENTIALS.secretAccessKey,
    }) + '\n',
  );
  process.stderr.write(
    `AgentCore shell emulator listening on ${emulator.url} (state in ${emulator.stateDir})\n` +
      `Point the bridge at it with:\n` +
      `  AWS_ACCESS_KEY_ID=${TEST_CREDENTIALS.accessKeyId} AWS_SECRET_ACCESS_KEY='${TEST_CREDENTIALS.secretAccessKey}' AWS_REGION=${emulator.region} \\\n` +
      `    openab-agentcore-bridge --endpoint-url ${emulator.url} --runtime-arn ${TEST_RUNTIME_ARN} ...\n` +
      `Controls: GET ${emulator.url}/_emulator/stats, POST /_emulator/{drop,fail-upgrades,idle-out,kill-shell}\n`,
  );

  let stopping = false;
  const stop = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    process.stderr.write(`emulator: ${signal}, stopping\n`);
    emulator.stop().then(
      () => process.exit(0),
      (err: unknown) => {
        process.stderr.write(`emulator: stop failed: ${String(err)}\n`);
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
}

main().catch((err: unknown) => {
  process.stderr.write(`emulator: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
