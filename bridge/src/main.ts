/**
 * Entry point: `node dist/bridge.js --runtime-arn <arn> [options]` (see --help).
 */
import { BRIDGE_VERSION, Bridge } from './acp/bridge';
import { parseBridgeArgs, USAGE } from './args';
import { createLogger, type Logger } from './logger';
import { errorResponse, INVALID_REQUEST } from './jsonrpc';
import { readClientLines, StdoutWriter } from './acp/stdio';
import { refuseOversize, tooLarge } from '../../shared/oversize';
import { credentialChain } from './credentials';
import { RUNTIME_DIMENSION, runtimeDimension } from '../../shared/metrics';

function fail(message: string): never {
  process.stderr.write(`openab-agentcore-bridge: ${message} (see --help)\n`);
  process.exit(2);
}

function main(): void {
  const parsed = parseBridgeArgs(process.argv.slice(2), process.env);
  if (parsed.kind === 'help') {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  if (parsed.kind === 'version') {
    process.stdout.write(`${BRIDGE_VERSION}\n`);
    return;
  }
  if (parsed.kind === 'error') fail(parsed.message);
  const { config } = parsed;

  let logger: Logger;
  try {
    // `Runtime` on every record: the dimension of the metrics some records carry (shared/metrics.ts).
    logger = createLogger(config.logLevel, config.logFile, { pid: process.pid, [RUNTIME_DIMENSION]: runtimeDimension(config.runtime.runtimeId) });
  } catch (e) {
    fail(`--log-file cannot be opened: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }

  // OAB never sees our stderr: a crash must at least reach the log, then end the process non-zero.
  process.on('uncaughtException', (e) => {
    logger.error('crash', { error: e.stack ?? String(e) });
    process.exit(70);
  });
  process.on('unhandledRejection', (e) => {
    logger.error('crash', { error: (e as Error)?.stack ?? String(e) });
    process.exit(70);
  });

  const out = new StdoutWriter(process.stdout);
  let exiting = false;
  const heartbeat = Number(process.env.OPENAB_BRIDGE_HEARTBEAT_MS);
  const bridge = new Bridge({
    config,
    logger,
    credentials: credentialChain(),
    heartbeatMs: Number.isFinite(heartbeat) && heartbeat > 0 ? heartbeat : undefined,
    io: {
      write: (line) => out.write(line),
      onDrain: (cb) => out.onDrain(cb),
      pauseInput: () => process.stdin.pause(),
      resumeInput: () => process.stdin.resume(),
      exit: (code) => {
        if (exiting) return;
        exiting = true;
        logger.info('exit', { code });
        void out.flush().then(() => process.exit(code));
      },
    },
  });

  logger.info('start', {
    version: BRIDGE_VERSION,
    runtimeArn: config.runtime.arn,
    region: config.region,
    qualifier: config.qualifier,
    endpoint: config.endpointUrl,
    cancelStrategy: config.cancelStrategy,
  });

  const limit = config.maxMessageBytes;
  readClientLines(process.stdin, limit, {
    onLine: (line) => bridge.onClientLine(line),
    onOverflow: (bytes, head) => {
      // Whoever waits for the refused message hears so now: the client for its request, the agent for its answer.
      const r = refuseOversize(head, bytes, limit);
      logger.warn('client-message-too-large', { bytes, limit, method: r.method, answered: r.inPlace ? 'agent' : r.toSender ? 'client' : 'nobody' });
      if (r.toSender) out.write(r.toSender);
      else if (r.inPlace) bridge.onClientLine(r.inPlace.subarray(0, r.inPlace.length - 1));
      else if (r.method === undefined) out.write(errorResponse(null, INVALID_REQUEST, `Invalid Request: the message is ${tooLarge(bytes, limit)}`));
    },
    onEnd: () => void bridge.onClientEnd('stdin closed'),
  });
  for (const signal of ['SIGTERM', 'SIGINT', 'SIGHUP'] as const) {
    process.on(signal, () => void bridge.onClientEnd(signal));
  }
  // A write to a closed stdout must not crash the process before the remote shell is detached.
  process.stdout.on('error', () => void bridge.onClientEnd('stdout closed'));
}

main();
