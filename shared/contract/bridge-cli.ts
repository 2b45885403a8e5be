/**
 * The values the bridge's command line accepts, shared with the CDK constructs that
 * write that command line (lib/), so a deployment is checked at synth time against
 * exactly what the bridge will accept when OAB starts it. Pure.
 */
import { MAX_LINK_MESSAGE_BYTES } from '../link/link-probe';
import { AGENTS, DEFAULT_AGENT } from './agents';

/** `--shell-command`: what the shell runs, the default agent's ACP command (Kiro CLI) unless told otherwise. */
export const DEFAULT_SHELL_COMMAND = AGENTS[DEFAULT_AGENT].shellCommand;

/** Runtime endpoint names (`--qualifier`). */
export const QUALIFIER_PATTERN = /^[a-zA-Z][a-zA-Z0-9_]{0,47}$/;
export const DEFAULT_QUALIFIER = 'DEFAULT';

/** `--cancel-strategy`: stop ends the remote agent on session/cancel; noop ignores cancels. */
export const CANCEL_STRATEGIES = ['stop', 'noop'] as const;
export type CancelStrategy = (typeof CANCEL_STRATEGIES)[number];

/**
 * `--idle-detach`: seconds without traffic after which the bridge lets go of the shell (the
 * agent keeps running) so the runtime session can idle out; 0 never lets go. Shorter than
 * AgentCore's shortest idle timeout (60 s) would make it pointless to reattach, so the
 * default, 120 s, sits well under the runtime's default idle timeout of 15 minutes.
 */
export const DEFAULT_IDLE_DETACH_SECONDS = 120;
/** The longest `--idle-detach`: a runtime session lives at most 8 hours. */
export const MAX_IDLE_DETACH_SECONDS = 8 * 3600;

/**
 * `--max-message-bytes`: the largest JSON-RPC message the bridge accepts either way. A
 * bridge's memory peaks at a few times its largest message, and OAB runs one bridge per
 * thread, so the limit is what bounds a task's memory. 16 MiB holds a prompt with two
 * images at the model APIs' 5 MB per image (base64 adds a third) and a large pasted log;
 * the most is what the runtime's launcher accepts.
 */
export const DEFAULT_MAX_MESSAGE_BYTES = 16 * 1024 * 1024;
export const MIN_MAX_MESSAGE_BYTES = 64 * 1024;
export const MAX_MAX_MESSAGE_BYTES = MAX_LINK_MESSAGE_BYTES;

/** What is wrong with a `--max-message-bytes` value, named as `name`, or undefined. */
export function maxMessageBytesProblem(value: number, name = '--max-message-bytes'): string | undefined {
  if (!Number.isInteger(value) || value < MIN_MAX_MESSAGE_BYTES || value > MAX_MAX_MESSAGE_BYTES) {
    return `${name} must be a whole number of bytes from ${MIN_MAX_MESSAGE_BYTES} (64 KiB) to ${MAX_MAX_MESSAGE_BYTES} (64 MiB), got ${String(value)}`;
  }
  return undefined;
}

/** `--log-level`. */
export const LOG_LEVELS = ['error', 'warn', 'info', 'debug'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/**
 * What is wrong with a `--shell-command` value, named as `name` (the bridge's option or
 * the CDK prop that becomes it), or undefined when the bridge will accept it. The bridge
 * types it into a terminal as one line, so it must be one line of printable text.
 */
export function shellCommandProblem(value: string, name = '--shell-command'): string | undefined {
  if (/[\r\n]/.test(value)) return `${name} must be a single line (it contains a newline)`;
  if (value.trim() === '') return `${name} must not be empty`;
  // eslint-disable-next-line no-control-regex
  if (/[\x00-\x08\x0b-\x1f\x7f]/.test(value)) return `${name} must not contain control characters`;
  return undefined;
}
