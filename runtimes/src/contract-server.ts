/**
 * The AgentCore Runtime HTTP contract, the image's main process:
 *
 * - `GET /ping` → `{"status":"Healthy"|"HealthyBusy","time_of_last_update":<unix s>}`;
 *   busy while a launcher has a turn in flight (busy.ts), for at most
 *   `OPENAB_MAX_BUSY_SECONDS` (default an hour) per busy stretch. `time_of_last_update` moves
 *   only when the status changes: AgentCore's idle reaper ignores `HealthyBusy`
 *   without it (aws/bedrock-agentcore-sdk-python#471; the Python SDK always sends it).
 * - `POST /invocations` → this runtime's status as JSON. Prompts do not come this way:
 *   the bridge drives the agent through the interactive shell.
 * - anything else → a JSON 404 (405 for a known path with the wrong method).
 *
 * At start it fetches the agent's API key from the Token Vault in the background, so
 * /ping answers at once. One JSON line per event on stdout (the runtime's log group).
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ENV_MAX_BUSY_SECONDS } from '../../shared/contract/runtime-env';
import { busyLaunchers } from './busy';
import { ensurePrivateDir } from './fs-atomic';
import { createLogger, describeError, type Logger, runtimeName } from './log';
import { hasSessionStorage } from './mounts';
import { contractHost, contractPort, resolvePaths, type RuntimePaths } from './paths';
import { writeRuntimeEnv } from './runtime-env';
import { agentApiKeyEnvName, type ApiKeyStatus, fetchAgentApiKey, runtimeAgent } from './token-vault';
import { drainMetricSpool } from './metrics-spool';
import { metricFields, RUNTIME_DIMENSION } from '../../shared/metrics';

declare const __RUNTIME_VERSION__: string | undefined;
export const RUNTIME_VERSION = typeof __RUNTIME_VERSION__ === 'string' ? __RUNTIME_VERSION__ : 'dev';

/** Request bodies to /invocations are read and dropped; more than this is refused. */
export const MAX_BODY_BYTES = 1024 * 1024;
const SESSION_HEADER = 'x-amzn-bedrock-agentcore-runtime-session-id';
const ROUTES: Record<string, string> = { '/ping': 'GET, HEAD', '/invocations': 'POST' };
const HOW_TO_CONNECT =
  'This runtime is driven through the AgentCore interactive shell (InvokeAgentRuntimeCommandShell) by the ' +
  'openab-agentcore bridge, which starts the agent with /app/bin/acp-session; POST /invocations only reports status.';

export type PingStatus = 'Healthy' | 'HealthyBusy';

/** The /ping answer; its timestamp moves only when the status changes. */
export class PingState {
  private status: PingStatus = 'Healthy';
  private changedAtMs: number;

  constructor(now: number = Date.now()) {
    this.changedAtMs = now;
  }

  /** `busyMs`: when a busy stretch has just ended, how long it was (as seen by the pings). */
  observe(busy: boolean, now: number = Date.now()): { status: PingStatus; time_of_last_update: number; changed: boolean; busyMs?: number } {
    const status: PingStatus = busy ? 'HealthyBusy' : 'Healthy';
    const changed = status !== this.status;
    const busyMs = changed && !busy ? now - this.changedAtMs : undefined;
    if (changed) {
      this.status = status;
      this.changedAtMs = now;
    }
    return { status, time_of_last_update: Math.floor(this.changedAtMs / 1000), changed, busyMs };
  }
}

/** How often the launcher's spooled metric records are moved to stdout, besides on every /ping. */
const SPOOL_DRAIN_MS = 10_000;

export interface ContractServerOptions {
  /** @default CONTRACT_HOST ('0.0.0.0', `HOST`) */
  readonly host?: string;
  /** @default contractPort(env) (8080, `PORT`; 0 picks a free port) */
  readonly port?: number;
  /** @default - JSON lines on stdout */
  readonly log?: Logger;
  /** @default resolvePaths(env) */
  readonly paths?: RuntimePaths;
  /** @default process.env */
  readonly env?: Record<string, string | undefined>;
  /** @default true */
  readonly fetchApiKey?: boolean;
  /**
   * The longest one busy stretch may report `HealthyBusy`; after it the runtime reports
   * `Healthy`, so the idle timeout can reap a stuck turn's microVM.
   * @default maxBusySeconds(env): `OPENAB_MAX_BUSY_SECONDS`, else 3600
   */
  readonly maxBusySeconds?: number;
  /**
   * Where the launcher's spooled metric records go (lines, newline included).
   * @default - stdout, beside this server's own records
   */
  readonly metricSink?: (line: string) => void;
}

const stdoutLine = (line: string) => {
  try {
    process.stdout.write(line);
  } catch {
    // Never takes the server down.
  }
};

/** `OPENAB_MAX_BUSY_SECONDS`, or the default of an hour when unset or not a positive integer. */
export function maxBusySeconds(env: Record<string, string | undefined>): number {
  const n = Number(env[ENV_MAX_BUSY_SECONDS]);
  return Number.isInteger(n) && n > 0 ? n : DEFAULT_MAX_BUSY_SECONDS;
}

export const DEFAULT_MAX_BUSY_SECONDS = 3600;

export interface ContractServer {
  readonly server: Server;
  readonly port: number;
  /** Settles when the boot-time key fetch has ended (never rejects). */
  readonly apiKeyFetch: Promise<ApiKeyStatus | undefined>;
  close(): Promise<void>;
}

export async function startContractServer(options: ContractServerOptions = {}): Promise<ContractServer> {
  const env = options.env ?? process.env;
  const paths = options.paths ?? resolvePaths(env);
  const log = options.log ?? createLogger('contract-server');
  const agent = runtimeAgent(env);
  const startedAt = Date.now();
  const ping = new PingState(startedAt);
  let apiKey: ApiKeyStatus | undefined = options.fetchApiKey === false ? undefined : { state: 'pending', at: new Date().toISOString() };

  try {
    await ensurePrivateDir(paths.stateDir);
  } catch (err) {
    log.error('state-dir.unusable', { dir: paths.stateDir, ...describeError(err) });
  }
  // Before the runtime reports healthy, so any shell opened on it finds the environment.
  await writeRuntimeEnv(paths.runtimeEnvFile, env).catch((err: unknown) => {
    log.error('runtime-env.not-written', { file: paths.runtimeEnvFile, effect: 'the launcher has only the shell\'s environment', ...describeError(err) });
  });

  const maxBusyMs = (options.maxBusySeconds ?? maxBusySeconds(env)) * 1000;
  const overCeilingLogged = new Set<number>();
  const busyNow = (): number[] => {
    try {
      const { busy, overCeiling } = busyLaunchers(paths.busyDir, maxBusyMs);
      for (const pid of overCeiling) {
        if (overCeilingLogged.has(pid)) continue;
        overCeilingLogged.add(pid);
        log.warn('ping.busy-ceiling', { launcherPid: pid, maxBusySeconds: maxBusyMs / 1000, effect: 'reported Healthy: the idle timeout may reap this microVM' });
      }
      return busy;
    } catch {
      return [];
    }
  };
  const pingNow = () => {
    const p = ping.observe(busyNow().length > 0);
    if (p.changed) {
      log.info('ping.status-changed', {
        status: p.status,
        busySeconds: p.busyMs === undefined ? undefined : p.busyMs / 1000,
        ...(p.busyMs === undefined ? {} : metricFields({ BusyTime: p.busyMs / 1000 })),
      });
    }
    drainSpool();
    return p;
  };
  const drainSpool = () => drainMetricSpool(paths.metricsDir, options.metricSink ?? stdoutLine, { [RUNTIME_DIMENSION]: runtimeName(env) });
  const spoolTimer = setInterval(drainSpool, SPOOL_DRAIN_MS);
  spoolTimer.unref();

  const describe = (req: IncomingMessage) => {
    const pids = busyNow();
    const p = ping.observe(pids.length > 0);
    return {
      runtime: 'openab-agentcore',
      version: RUNTIME_VERSION,
      status: p.status,
      uptimeSeconds: Math.floor((Date.now() - startedAt) / 1000),
      sessionId: headerValue(req, SESSION_HEADER),
      agent: {
        id: agent.id,
        name: env.OPENAB_AGENT_NAME || agent.shellCommand.split(' ')[0],
        version: env.OPENAB_AGENT_CLI_VERSION || null,
        /** A turn is in flight. */
        busy: pids.length > 0,
        launcherPids: pids,
      },
      apiKey: apiKeySummary(apiKey, env),
      sessionStorage: { path: paths.agentHome, mounted: hasSessionStorage(paths.agentHome, env) },
      howToConnect: HOW_TO_CONNECT,
    };
  };

  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    const method = req.method ?? 'GET';
    if (path === '/ping' && (method === 'GET' || method === 'HEAD')) {
      const p = pingNow();
      return sendJson(res, 200, { status: p.status, time_of_last_update: p.time_of_last_update });
    }
    const done = (status: number) => log.info('http.request', { method, path, status });
    if (path === '/invocations' && method === 'POST') {
      void drain(req, MAX_BODY_BYTES).then((ok) => {
        if (!ok) {
          done(413);
          return sendJson(res, 413, { error: 'PayloadTooLarge', message: `request bodies are limited to ${MAX_BODY_BYTES} bytes` }, { connection: 'close' });
        }
        done(200);
        return sendJson(res, 200, describe(req));
      }).catch((err: unknown) => {
        // The runtime must keep answering /ping whatever one request did.
        log.error('http.request-failed', { method, path, ...describeError(err) });
        res.destroy();
      });
      return;
    }
    req.resume();
    const allow = ROUTES[path];
    if (allow) {
      done(405);
      return sendJson(res, 405, { error: 'MethodNotAllowed', message: `${method} ${path} is not supported; use ${allow}` }, { allow });
    }
    done(404);
    return sendJson(res, 404, { error: 'NotFound', message: `no route for ${method} ${path}`, routes: ['GET /ping', 'POST /invocations'] });
  });

  // A bad setting fails the start before anything else begins.
  const listenPort = options.port ?? contractPort(env);
  // The key fetch records that it is under way before the runtime reports healthy, so a shell
  // opened right away finds the launcher waiting for the key instead of starting the agent without it.
  let firstStatus: () => void = () => undefined;
  const recorded = new Promise<void>((resolve) => (firstStatus = resolve));
  const abort = new AbortController();
  const apiKeyFetch: Promise<ApiKeyStatus | undefined> = options.fetchApiKey === false
    ? Promise.resolve(undefined)
    : fetchAgentApiKey({
      env,
      keyFile: paths.apiKeyFile,
      statusFile: paths.apiKeyStatusFile,
      log,
      signal: abort.signal,
      onStatus: (s) => {
        apiKey = s;
      },
      onRecorded: () => firstStatus(),
    })
      .catch((err) => {
        // fetchAgentApiKey does not throw; this is a last guard so a bug cannot take /ping down.
        log.error('api-key.fetch-crashed', describeError(err));
        apiKey = { state: 'failed', at: new Date().toISOString(), step: 'GetWorkloadAccessToken', error: 'InternalError', message: String(err) };
        return apiKey;
      });

  if (options.fetchApiKey !== false) await Promise.race([recorded, new Promise((r) => setTimeout(r, 2_000).unref())]);

  const port = await new Promise<number>((resolve, reject) => {
    server.once('error', reject);
    server.listen(listenPort, options.host ?? contractHost(env), () => {
      server.off('error', reject);
      resolve((server.address() as AddressInfo).port);
    });
  });
  log.info('listening', { host: options.host ?? contractHost(env), port, version: RUNTIME_VERSION, agent: agent.id });

  const close = async () => {
    abort.abort();
    clearInterval(spoolTimer);
    drainSpool();
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeIdleConnections();
    });
    await apiKeyFetch;
  };
  return { server, port, apiKeyFetch, close };
}

function apiKeySummary(status: ApiKeyStatus | undefined, env: Record<string, string | undefined>) {
  if (!status) return { state: 'disabled', fetched: false };
  const base = { state: status.state, fetched: status.state === 'fetched', envName: agentApiKeyEnvName(env) };
  switch (status.state) {
    case 'not-configured':
      return { ...base, missing: status.missing };
    case 'not-needed':
      return { ...base, keylessSwitch: status.keylessSwitch };
    case 'failed':
      return { ...base, step: status.step, error: status.error, httpStatus: status.httpStatus };
    default:
      return base;
  }
}

function headerValue(req: IncomingMessage, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v[0] : v;
}

function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), ...headers });
  res.end(res.req.method === 'HEAD' ? undefined : text);
}

/** Reads and discards the body; false once it passes `limit` bytes. */
function drain(req: IncomingMessage, limit: number): Promise<boolean> {
  return new Promise((resolve) => {
    let bytes = 0;
    let over = false;
    req.on('data', (chunk: Buffer) => {
      bytes += chunk.length;
      if (bytes > limit && !over) {
        over = true;
        resolve(false);
      }
    });
    req.on('end', () => resolve(!over));
    req.on('error', () => resolve(false));
  });
}

async function main(): Promise<void> {
  const log = createLogger('contract-server');
  process.on('uncaughtException', (err) => {
    log.error('fatal', describeError(err));
    process.exit(1);
  });
  const running = await startContractServer({ log });
  const shutdown = (signal: NodeJS.Signals) => {
    log.info('shutdown', { signal });
    // AgentCore stops a session's microVM within seconds; do not outlive a stuck connection.
    setTimeout(() => {
      log.warn('shutdown.forced', { afterMs: 5_000 });
      process.exit(0);
    }, 5_000).unref();
    void running.close().then(() => {
      log.info('stopped', {});
      process.exit(0);
    });
  };
  process.once('SIGTERM', shutdown);
  process.once('SIGINT', shutdown);
}

if (require.main === module) {
  main().catch((err: Error) => {
    process.stdout.write(`${JSON.stringify({ time: new Date().toISOString(), level: 'error', component: 'contract-server', event: 'start-failed', message: err.message })}\n`);
    process.exit(1);
  });
}
