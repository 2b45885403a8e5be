/**
 * How OabService starts the bridge: the options it renders onto the bridge's command line.
 * The accepted values are the bridge's own (shared/contract/bridge-cli.ts); these enums name them
 * for every CDK language, and a test keeps the two lists equal.
 */

import type { Duration, Size } from 'aws-cdk-lib';

/** What the bridge does on `session/cancel` (`--cancel-strategy`). */
export enum CancelStrategy {
  /** End the remote agent process; the next prompt starts it again and reloads the conversation. */
  STOP = 'stop',
  /** Pass the cancel to the agent and nothing more: the agent ends the prompt itself and keeps running. */
  NOOP = 'noop',
}

/** The least severe bridge log events written (`--log-level`). */
export enum BridgeLogLevel {
  ERROR = 'error',
  WARN = 'warn',
  INFO = 'info',
  /** Also message sizes and protocol detail; never message contents at any other level. */
  DEBUG = 'debug',
}

/** Bridge settings for {@link OabServiceOptions.bridge}. */
export interface BridgeOptions {
  /**
   * What `session/cancel` does: `STOP` ends the remote agent process, `NOOP` passes it to the agent and nothing more.
   * Both need only the shell permission.
   * @default CancelStrategy.STOP
   */
  readonly cancelStrategy?: CancelStrategy;
  /**
   * @default BridgeLogLevel.INFO
   */
  readonly logLevel?: BridgeLogLevel;
  /**
   * Where the bridge writes its log. The default is a named pipe that the container
   * command copies to the container's stdout, so bridge logs land in the OAB log stream.
   * @default '/tmp/openab/bridge-log.fifo'
   */
  readonly logFile?: string;
  /**
   * The runtime endpoint to open shells on (`--qualifier`); the task role is granted it.
   * @default 'DEFAULT'
   */
  readonly qualifier?: string;
  /**
   * How long a thread may be quiet before its bridge lets go of the shell (`--idle-detach`):
   * the agent keeps running, the runtime session may idle out, and the thread's next message
   * reattaches, or restarts the agent and reloads its conversation. Must be shorter than the
   * runtime's idle session timeout; `Duration.seconds(0)` never lets go.
   * @default - half the runtime's idle session timeout, at most 2 minutes
   */
  readonly idleDetach?: Duration;
  /**
   * The largest JSON-RPC message a bridge accepts either way (`--max-message-bytes`), from
   * 64 KiB to 64 MiB. A larger prompt is answered with an error naming this limit, and a
   * larger answer from the agent becomes one. It bounds each bridge's memory: the task must
   * hold `pool.maxSessions` bridges at their peak, about 5 MiB per MiB of this limit each
   * (see `memoryLimitMiB`). ACP carries images inline as base64, so a prompt with one 5 MB
   * image is about 7 MB.
   * @default Size.mebibytes(16)
   */
  readonly maxMessageSize?: Size;
  /**
   * More bridge options, appended to its command line as given (see `node dist/bridge.js --help`),
   * e.g. `['--launcher', 'none']`. Not the options OabService renders itself (`--runtime-arn`,
   * `--qualifier`, `--shell-command`, `--cancel-strategy`, `--log-level`, `--log-file`,
   * `--idle-detach`, `--max-message-bytes`): set their props instead.
   * @default - none
   */
  readonly extraArgs?: string[];
}
