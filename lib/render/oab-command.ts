/**
 * The OAB container's command and the bridge's command line. Pure: values in, argv out.
 */

/** Where the container command writes config.toml (writable by OAB's uid 1000 user). */
export const OAB_CONFIG_PATH = '/tmp/openab/config.toml';
/**
 * The named pipe the bridge logs to. OAB discards its agent's stderr, and the container
 * user cannot reopen `/proc/1/fd/1` (the container runtime creates the stdout pipe as
 * root, mode 0600), so the container command creates this FIFO as the container user and
 * copies whatever arrives on it to its own stdout, the awslogs stream.
 */
export const BRIDGE_LOG_FIFO = '/tmp/openab/bridge-log.fifo';
/** The container's health check: OAB is running (found by its process name; the image has no curl). */
export const OAB_HEALTH_CHECK = 'grep -qsx openab /proc/[0-9]*/comm || exit 1';

/** Where the OAB image puts the bundled bridge. */
export const BRIDGE_PATH = '/app/bridge.js';
/**
 * What the bridge needs from OAB's environment, which OAB clears before spawning it:
 * the ECS task role credentials endpoint and the Region. Nothing else passes.
 */
export const BRIDGE_INHERIT_ENV = ['AWS_CONTAINER_CREDENTIALS_RELATIVE_URI', 'AWS_REGION', 'AWS_DEFAULT_REGION'] as const;
/**
 * Set for every bridge process (OAB's `[agent] env`). glibc raises its mmap threshold
 * each time a large block is freed, after which freed memory stays in the process; OAB
 * runs a bridge per thread, and the fixed threshold keeps about 6 MiB less resident in
 * each when idle (measured by `npm run bench`, which runs the bridge with these too).
 */
export const BRIDGE_ENV: Readonly<Record<string, string>> = { MALLOC_MMAP_THRESHOLD_: '65536' };
/**
 * Node options for every bridge process, before the bridge's path (measured by `npm run
 * bench`, which runs the bridge with these too):
 * - `--expose-gc` gives the bridge V8's collector, which it runs once after a large message
 *   so the buffers it leaves are returned at once rather than whenever V8 next collects,
 *   which an idle bridge may not do for minutes (bridge/src/release-memory.ts);
 * - `--max-semi-space-size=1` (MiB) keeps V8's young generation from growing to 16 MiB
 *   during a large transfer and staying that size afterwards.
 */
export const BRIDGE_NODE_OPTIONS: readonly string[] = ['--expose-gc', '--max-semi-space-size=1'];

export interface BridgeCommandOptions {
  readonly runtimeArn: string;
  readonly shellCommand: string;
  readonly qualifier: string;
  readonly cancelStrategy: string;
  readonly logLevel: string;
  readonly logFile: string;
  /** `--idle-detach`, in seconds. */
  readonly idleDetachSeconds: number;
  /** `--max-message-bytes`. */
  readonly maxMessageBytes: number;
  /** @default '/app/bridge.js' */
  readonly bridgePath?: string;
  /** More bridge options, appended as given. @default - none */
  readonly extraArgs?: string[];
}

/**
 * The bridge options {@link bridgeCommand} renders, each with the OabService prop it comes
 * from. The bridge takes the last of a repeated option, so one of these in `extraArgs`
 * would silently replace the rendered value (and `--qualifier` would leave the grant on
 * another endpoint).
 */
export const RENDERED_BRIDGE_OPTIONS: Readonly<Record<string, string>> = {
  '--runtime-arn': 'runtime',
  '--qualifier': 'bridge.qualifier',
  '--shell-command': 'runtime.shellCommand',
  '--cancel-strategy': 'bridge.cancelStrategy',
  '--log-level': 'bridge.logLevel',
  '--log-file': 'bridge.logFile',
  '--idle-detach': 'bridge.idleDetach',
  '--max-message-bytes': 'bridge.maxMessageSize',
};

/** `[agent] command` and `args` for OAB: plain node running the bundled bridge. */
export function bridgeCommand(o: BridgeCommandOptions): { command: string; args: string[] } {
  return {
    command: 'node',
    args: [
      ...BRIDGE_NODE_OPTIONS,
      o.bridgePath ?? BRIDGE_PATH,
      '--runtime-arn', o.runtimeArn,
      '--qualifier', o.qualifier,
      '--shell-command', o.shellCommand,
      '--cancel-strategy', o.cancelStrategy,
      '--log-level', o.logLevel,
      '--log-file', o.logFile,
      '--idle-detach', String(o.idleDetachSeconds),
      '--max-message-bytes', String(o.maxMessageBytes),
      ...(o.extraArgs ?? []),
    ],
  };
}

/**
 * The container command: write config.toml from the text passed as `$1` (an argument,
 * so the config is data the shell never parses, and the script never changes), start the
 * bridge log copier, then become OAB (tini stays PID 1 and forwards SIGTERM, so OAB saves
 * thread_map.json on shutdown). With `startRecord`, first print that log record (`$2`, a
 * JSON object cut just before the value of its last member) with the time in milliseconds.
 */
export function oabContainerCommand(configToml: string, startRecord?: string): string[] {
  const script = [
    'set -eu',
    ...(startRecord === undefined ? [] : [`printf '%s%s}}\n' "$2" "$(date +%s%3N)"`]),
    'umask 077',
    `mkdir -p ${[...new Set([dirOf(OAB_CONFIG_PATH), dirOf(BRIDGE_LOG_FIFO)])].join(' ')}`,
    `printf '%s' "$1" > ${OAB_CONFIG_PATH}`,
    `rm -f ${BRIDGE_LOG_FIFO}`,
    `mkfifo ${BRIDGE_LOG_FIFO}`,
    // A reader is always waiting: cat ends when the last bridge closes the pipe, and the
    // loop reopens it, which blocks until the next bridge starts.
    `(while :; do cat ${BRIDGE_LOG_FIFO} || sleep 1; done) &`,
    `exec openab run -c ${OAB_CONFIG_PATH}`,
  ].join('\n');
  return ['/bin/sh', '-c', script, 'oab-start', configToml, ...(startRecord === undefined ? [] : [startRecord])];
}

function dirOf(path: string): string {
  return path.slice(0, path.lastIndexOf('/'));
}
