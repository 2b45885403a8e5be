/**
 * Where the in-VM programs (contract server, Token Vault fetch, state sync, launcher)
 * keep and find things. Every path can be moved by an environment variable so the
 * programs also run as plain local processes (tests, a laptop); in the image the
 * defaults apply.
 *
 * Two places matter:
 * - `/tmp/openab-agent` (`OPENAB_STATE_DIR`): this microVM's private scratch, mode 0700:
 *   the API key, the container's environment for the launcher, the busy markers, the agent
 *   log, the live copy of the agent's SQLite data. Gone when the session's microVM goes.
 * - `/mnt/agent` (`OPENAB_AGENT_HOME`): AgentCore session storage, the agent's HOME,
 *   kept across stop and resume of the session. SQLite locking does not work there, so
 *   databases live in the scratch directory and are copied (see state-sync.ts).
 */
import { join } from 'node:path';
import { DEFAULT_AGENT_HOME, ENV_AGENT_HOME } from '../../shared/contract/runtime-env';

export interface RuntimePaths {
  /** Private scratch directory (created 0700). */
  readonly stateDir: string;
  /** The agent's API key from the Token Vault, mode 0600, exactly the key's bytes. */
  readonly apiKeyFile: string;
  /** Outcome of the boot-time key fetch (JSON, no secret), for the launcher and /invocations. */
  readonly apiKeyStatusFile: string;
  /** The container's environment as the contract server saw it, for the launcher (see runtime-env.ts). */
  readonly runtimeEnvFile: string;
  /**
   * One file per running agent, named by the launcher's pid (see busy.ts). /ping reports
   * `HealthyBusy` while any of them belongs to a live process.
   */
  readonly busyDir: string;
  /** The launcher's and agent's log (stderr never reaches the terminal: it is the protocol channel). */
  readonly agentLog: string;
  /**
   * Metric records of the launcher, one file each (see metrics-spool.ts): the contract
   * server moves them to its stdout, the runtime's log group, where they become metrics.
   */
  readonly metricsDir: string;
  /** The agent's HOME: AgentCore session storage. */
  readonly agentHome: string;
  /** The agent's working directory. */
  readonly workspaceDir: string;
  /** `XDG_DATA_HOME` for the agent: local disk, where SQLite locking works. */
  readonly localDataHome: string;
  /** Kiro CLI's database as the agent uses it (under `localDataHome`; other agents' are in agent-state.ts). */
  readonly localStateDb: string;
  /** Kiro CLI's database as kept in session storage (where Kiro would put it with HOME=agentHome). */
  readonly persistentStateDb: string;
  /** The sqlite3 command-line shell the state sync snapshots and checks with. */
  readonly sqlite3: string;
  /** The agent CLI. */
  readonly agentBin: string;
}


/** Resolves every path from `env` (pure: pass a plain object in tests). */
export function resolvePaths(env: Record<string, string | undefined> = process.env): RuntimePaths {
  const pick = (name: string, fallback: string) => {
    const v = env[name];
    return v !== undefined && v !== '' ? v : fallback;
  };
  const stateDir = pick('OPENAB_STATE_DIR', '/tmp/openab-agent');
  const agentHome = pick(ENV_AGENT_HOME, DEFAULT_AGENT_HOME);
  const localDataHome = pick('OPENAB_LOCAL_DATA_HOME', join(stateDir, 'data'));
  return {
    stateDir,
    apiKeyFile: pick('OPENAB_API_KEY_FILE', join(stateDir, 'api-key')),
    apiKeyStatusFile: pick('OPENAB_API_KEY_STATUS_FILE', join(stateDir, 'api-key.status.json')),
    runtimeEnvFile: pick('OPENAB_RUNTIME_ENV_FILE', join(stateDir, 'runtime-env.json')),
    busyDir: pick('OPENAB_BUSY_DIR', join(stateDir, 'busy')),
    agentLog: pick('OPENAB_AGENT_LOG', join(stateDir, 'agent.log')),
    metricsDir: pick('OPENAB_METRICS_DIR', join(stateDir, 'metrics')),
    agentHome,
    workspaceDir: pick('OPENAB_AGENT_CWD', join(agentHome, 'workspace')),
    localDataHome,
    localStateDb: pick('OPENAB_LOCAL_STATE_DB', join(localDataHome, 'kiro-cli', 'data.sqlite3')),
    persistentStateDb: pick('OPENAB_PERSISTENT_STATE_DB', join(agentHome, '.local', 'share', 'kiro-cli', 'data.sqlite3')),
    sqlite3: pick('OPENAB_SQLITE3', '/usr/bin/sqlite3'),
    agentBin: pick('OPENAB_AGENT_BIN', '/usr/local/bin/kiro-cli'),
  };
}

/** AgentCore's HTTP contract: 0.0.0.0:8080. `HOST` and `PORT` move it (tests use port 0: any free port). */
export function contractHost(env: Record<string, string | undefined> = process.env): string {
  return env.HOST || '0.0.0.0';
}
const DEFAULT_CONTRACT_PORT = 8080;

/** The port from `PORT`; throws a readable error for anything but an integer 0-65535. */
export function contractPort(env: Record<string, string | undefined> = process.env): number {
  const value = env.PORT;
  if (value === undefined || value === '') return DEFAULT_CONTRACT_PORT;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new Error(`PORT must be an integer 0-65535, got "${value}"`);
  return n;
}
