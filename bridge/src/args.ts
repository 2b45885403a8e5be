/**
 * The bridge's command line. Pure: argv and environment in, a validated config or a
 * one-line error out, so every check runs before any network call.
 */
import { parseArgs } from 'node:util';
import { isValidRegion, parseRuntimeArn, type RuntimeArn } from '../../shared/contract/runtime-arn';
import { DEFAULT_LAUNCHER } from '../../shared/contract/runtime-env';
import { CANCEL_STRATEGIES, type CancelStrategy, DEFAULT_IDLE_DETACH_SECONDS, DEFAULT_MAX_MESSAGE_BYTES, DEFAULT_QUALIFIER, DEFAULT_SHELL_COMMAND, LOG_LEVELS, MAX_IDLE_DETACH_SECONDS, type LogLevel, maxMessageBytesProblem, QUALIFIER_PATTERN, shellCommandProblem } from '../../shared/contract/bridge-cli';

export interface BridgeConfig {
  readonly runtime: RuntimeArn;
  readonly region: string;
  readonly qualifier: string;
  readonly shellCommand: string;
  readonly cancelStrategy: CancelStrategy;
  /** http(s) base URL of the AgentCore data plane. */
  readonly endpointUrl: string;
  readonly logLevel: LogLevel;
  readonly logFile?: string;
  /** The runtime image's launcher; when present the agent runs under it in framed mode. */
  readonly launcher?: string;
  /** Seconds without traffic before the bridge detaches from the shell; 0: never. */
  readonly idleDetachSeconds: number;
  /** The largest message accepted either way; a larger one is refused and answered for. */
  readonly maxMessageBytes: number;
}

export type ParsedArgs =
  | { kind: 'run'; config: BridgeConfig }
  | { kind: 'help' }
  | { kind: 'version' }
  | { kind: 'error'; message: string };

export const USAGE = `Usage: node dist/bridge.js --runtime-arn <arn> [options]

Relays ACP (newline-delimited JSON-RPC on stdin/stdout) to an agent running in an
Amazon Bedrock AgentCore Runtime interactive shell.

Options:
  --runtime-arn <arn>         AgentCore runtime ARN (required)
  --region <region>           AWS Region (default: the Region in the ARN)
  --qualifier <name>          runtime endpoint name (default: DEFAULT)
  --shell-command "<cmd>"     agent command run in the shell
                              (default: "${DEFAULT_SHELL_COMMAND}")
  --cancel-strategy stop|noop stop: session/cancel reaches the agent, which gets a second to end
                              the prompt; then the bridge ends the remote agent process and the
                              prompt answers "cancelled". noop: session/cancel reaches the agent,
                              which ends the prompt itself; the bridge stops nothing (default: stop)
  --endpoint-url <url>        data plane endpoint (default: $AWS_ENDPOINT_URL_BEDROCK_AGENTCORE,
                              else https://bedrock-agentcore.<region>.amazonaws.com);
                              http:// means an unencrypted ws:// connection (local emulator)
  --log-level <level>         error|warn|info|debug (default: info); message contents only at debug
  --log-file <path>           append logs to this file instead of stderr
  --launcher <path>|none      the runtime image's launcher; when it exists in the shell the agent
                              runs under it and messages are numbered, checksummed and
                              acknowledged both ways (default: ${DEFAULT_LAUNCHER})
  --idle-detach <seconds>     after this long with no message either way and nothing pending, let
                              go of the shell (the agent keeps running) so the runtime session can
                              idle out; the next message reattaches or restarts the agent and
                              reloads its conversation. 0: never (default: ${DEFAULT_IDLE_DETACH_SECONDS})
  --max-message-bytes <n>     the largest JSON-RPC message accepted either way, in bytes; a larger
                              request is answered with an error, a larger answer from the agent
                              becomes one (default: ${DEFAULT_MAX_MESSAGE_BYTES}, 16 MiB; 65536 to 67108864)
  --help                      show this help
  --version                   show the version

Credentials come from the standard AWS provider chain (environment, ECS task role,
web identity, SSO and shared profiles) and are refreshed before they expire.`;

export function parseBridgeArgs(argv: readonly string[], env: NodeJS.ProcessEnv): ParsedArgs {
  let values: Record<string, string | boolean | undefined>;
  let tokens: ReadonlyArray<{ kind: string; name?: string; rawName?: string }>;
  try {
    ({ values, tokens } = parseArgs({
      args: [...argv],
      strict: true,
      allowPositionals: false,
      tokens: true,
      options: {
        'runtime-arn': { type: 'string' },
        region: { type: 'string' },
        qualifier: { type: 'string' },
        'shell-command': { type: 'string' },
        'cancel-strategy': { type: 'string' },
        'endpoint-url': { type: 'string' },
        'log-level': { type: 'string' },
        'log-file': { type: 'string' },
        launcher: { type: 'string' },
        'idle-detach': { type: 'string' },
        'max-message-bytes': { type: 'string' },
        help: { type: 'boolean' },
        version: { type: 'boolean' },
      },
    }));
  } catch (e) {
    return { kind: 'error', message: firstLine((e as Error).message) };
  }
  // A second value would silently win over the first: a deployment's own options (the
  // runtime, its endpoint) must not be overridable by one appended after them.
  const seen = new Set<string>();
  for (const t of tokens) {
    if (t.kind !== 'option' || t.name === undefined) continue;
    if (seen.has(t.name)) return { kind: 'error', message: `--${t.name} is given twice; give each option once` };
    seen.add(t.name);
  }
  if (values.help) return { kind: 'help' };
  if (values.version) return { kind: 'version' };

  const arnText = values['runtime-arn'] as string | undefined;
  if (!arnText) return { kind: 'error', message: '--runtime-arn is required' };
  const runtime = parseRuntimeArn(arnText);
  if (typeof runtime === 'string') return { kind: 'error', message: runtime };

  const region = (values.region as string | undefined) ?? runtime.region;
  if (!isValidRegion(region)) return { kind: 'error', message: `--region must be an AWS Region such as us-east-1, got "${region}"` };
  if (region !== runtime.region) {
    return { kind: 'error', message: `--region ${region} does not match the runtime ARN's Region ${runtime.region}` };
  }

  const qualifier = (values.qualifier as string | undefined) ?? DEFAULT_QUALIFIER;
  if (!QUALIFIER_PATTERN.test(qualifier)) {
    return { kind: 'error', message: `--qualifier must be an endpoint name (letters, digits, _; up to 48), got "${qualifier}"` };
  }

  const shellCommand = (values['shell-command'] as string | undefined) ?? DEFAULT_SHELL_COMMAND;
  const shellProblem = shellCommandProblem(shellCommand);
  if (shellProblem) return { kind: 'error', message: shellProblem };

  const cancelStrategy = (values['cancel-strategy'] as string | undefined) ?? 'stop';
  if (!(CANCEL_STRATEGIES as readonly string[]).includes(cancelStrategy)) {
    return { kind: 'error', message: `--cancel-strategy must be "stop" or "noop", got "${cancelStrategy}"` };
  }

  const logLevel = (values['log-level'] as string | undefined) ?? 'info';
  if (!(LOG_LEVELS as readonly string[]).includes(logLevel)) {
    return { kind: 'error', message: `--log-level must be one of ${LOG_LEVELS.join('|')}, got "${logLevel}"` };
  }

  const logFile = values['log-file'] as string | undefined;
  if (logFile !== undefined && logFile.trim() === '') return { kind: 'error', message: '--log-file must not be empty' };

  const launcherText = (values.launcher as string | undefined) ?? DEFAULT_LAUNCHER;
  if (launcherText !== 'none' && !/^\/[A-Za-z0-9._/-]+$/.test(launcherText)) {
    return { kind: 'error', message: `--launcher must be an absolute path (letters, digits, . _ - /) or "none", got "${launcherText}"` };
  }

  const idleText = (values['idle-detach'] as string | undefined) ?? String(DEFAULT_IDLE_DETACH_SECONDS);
  const idleDetachSeconds = Number(idleText);
  if (!/^\d+$/.test(idleText) || idleDetachSeconds > MAX_IDLE_DETACH_SECONDS) {
    return { kind: 'error', message: `--idle-detach must be a whole number of seconds from 0 to ${MAX_IDLE_DETACH_SECONDS}, got "${idleText}"` };
  }

  const maxText = (values['max-message-bytes'] as string | undefined) ?? String(DEFAULT_MAX_MESSAGE_BYTES);
  const maxMessageBytes = /^\d+$/.test(maxText) ? Number(maxText) : NaN;
  const maxProblem = maxMessageBytesProblem(maxMessageBytes);
  if (maxProblem) return { kind: 'error', message: maxProblem.replace(/got .*$/, `got "${maxText}"`) };

  const endpointText = (values['endpoint-url'] as string | undefined)
    ?? nonEmpty(env.AWS_ENDPOINT_URL_BEDROCK_AGENTCORE)
    ?? `https://bedrock-agentcore.${region}.amazonaws.com`;
  const endpoint = parseEndpoint(endpointText);
  if (typeof endpoint !== 'string' || !endpoint.startsWith('http')) {
    return { kind: 'error', message: (endpoint as { error: string }).error };
  }

  return {
    kind: 'run',
    config: {
      runtime,
      region,
      qualifier,
      shellCommand,
      cancelStrategy: cancelStrategy as CancelStrategy,
      endpointUrl: endpoint,
      logLevel: logLevel as LogLevel,
      logFile,
      launcher: launcherText === 'none' ? undefined : launcherText,
      idleDetachSeconds,
      maxMessageBytes,
    },
  };
}

function parseEndpoint(text: string): string | { error: string } {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return { error: `--endpoint-url must be an http:// or https:// URL, got "${text}"` };
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    return { error: `--endpoint-url must be an http:// or https:// URL, got "${text}"` };
  }
  if (url.pathname !== '/' || url.search || url.hash || url.username) {
    return { error: `--endpoint-url must be a base URL with no path, query or credentials, got "${text}"` };
  }
  // Plain ws:// carries the signed upgrade and every message in the clear: only to this machine.
  if (url.protocol === 'http:' && !isLoopback(url.hostname)) {
    return { error: `--endpoint-url may be http:// only for a loopback address (a local emulator), got "${text}"; use https://` };
  }
  return `${url.protocol}//${url.host}`;
}

function isLoopback(hostname: string): boolean {
  return hostname === 'localhost' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(hostname) || hostname === '[::1]';
}

function nonEmpty(v: string | undefined): string | undefined {
  return v && v.trim() !== '' ? v.trim() : undefined;
}

function firstLine(s: string): string {
  return s.split('\n')[0];
}
