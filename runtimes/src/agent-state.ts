/**
 * Where each agent keeps its state inside the microVM, and how it survives a reap: what
 * lives on session storage directly, what is copied there (SQLite, whose locking does not
 * work on the mount, see state-sync.ts), and the files rendered for the agent before it
 * starts. Pure: paths and environment in, a layout out.
 *
 * | Agent | On session storage directly | Copied (SQLite) | Rendered |
 * |---|---|---|---|
 * | Kiro CLI | HOME | `data.sqlite3` (via `XDG_DATA_HOME`) | – |
 * | Claude Code | HOME: `.claude.json`, `.claude/projects/<cwd>/<session>.jsonl` (append-only) | – | – |
 * | Codex | `CODEX_HOME` = HOME/.codex: `sessions/YYYY/MM/DD/rollout-*.jsonl` (append-only), `config.toml` | every `*.sqlite` but logs (via `CODEX_SQLITE_HOME`) | `config.toml` |
 */
import { join } from 'node:path';
import type { AgentFacts } from '../../shared/contract/agents';
import type { RuntimePaths } from './paths';
import type { DatabaseSpec } from './state-sync-set';

/** The model Codex asks for (`model` in config.toml); unset leaves Codex's own default. */
export const ENV_CODEX_MODEL = 'OPENAB_CODEX_MODEL';
/** The Responses API base URL of Codex's model provider; the name Codex's own OpenAI provider reads. */
export const ENV_OPENAI_BASE_URL = 'OPENAI_BASE_URL';
export const DEFAULT_OPENAI_BASE_URL = 'https://api.openai.com/v1';

/** Codex's databases worth keeping: its thread state and the like, not its logs. */
const CODEX_DATABASES = /^(?!logs_)[^.][^/]*\.sqlite$/;

export interface AgentLayout {
  /** Set in the agent's environment (on top of the launcher's). */
  readonly env: Record<string, string>;
  /** SQLite databases the agent uses on local disk, kept in session storage by the state sync. */
  readonly databases: readonly DatabaseSpec[];
  /** Written (atomically, mode 0600) before the agent starts. */
  readonly files: ReadonlyArray<{ readonly path: string; readonly content: string }>;
  /**
   * How long after a turn the runtime stays busy for the agent to finish writing it (and
   * before its databases are snapshotted), so a microVM reaped right after an answer loses
   * nothing. @default TURN_SETTLE_MS
   */
  readonly turnSettleMs?: number;
}

/** How long after a turn the runtime stays busy by default: the agent may commit just after answering. */
export const TURN_SETTLE_MS = 200;

/**
 * Claude Code queues its transcript appends and writes them every 100 ms
 * (`FLUSH_INTERVAL_MS` in the CLI it bundles): the answer can reach the client before the
 * turn is on disk.
 */
export const CLAUDE_CODE_TURN_SETTLE_MS = 500;

export interface AgentLayoutInput {
  readonly agent: AgentFacts;
  readonly paths: RuntimePaths;
  readonly env: Record<string, string | undefined>;
  /**
   * Whether the agent home is session storage. Without it the agent keeps its own HOME and
   * nothing is copied anywhere (nothing would outlive the microVM).
   */
  readonly sessionStorage: boolean;
  /** The agent's HOME when there is no session storage (the user's own). */
  readonly ownHome: string;
  /** The variable the launcher puts the API key in (the agent's own unless overridden). */
  readonly keyEnv: string;
}

export function agentLayout(input: AgentLayoutInput): AgentLayout {
  const { agent, paths, env, sessionStorage } = input;
  const home = sessionStorage ? paths.agentHome : input.ownHome;
  const homeEnv: Record<string, string> = sessionStorage ? { HOME: home } : {};
  switch (agent.id) {
    case 'kiro':
      return sessionStorage
        ? { env: { ...homeEnv, XDG_DATA_HOME: paths.localDataHome }, databases: [{ kind: 'file', local: paths.localStateDb, persistent: paths.persistentStateDb }], files: [] }
        : { env: {}, databases: [], files: [] };
    case 'claude-code':
      return {
        // The install is read-only and pinned: no self-update; and nothing but the model API is called.
        env: { ...homeEnv, ...unlessSet(env, { DISABLE_AUTOUPDATER: '1', CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: '1' }) },
        databases: [],
        files: [],
        turnSettleMs: CLAUDE_CODE_TURN_SETTLE_MS,
      };
    case 'codex': {
      const codexHome = join(home, '.codex');
      const localSqlite = join(paths.localDataHome, 'codex');
      return {
        env: { ...homeEnv, CODEX_HOME: codexHome, ...(sessionStorage ? { CODEX_SQLITE_HOME: localSqlite } : {}) },
        databases: sessionStorage ? [{ kind: 'directory', local: localSqlite, persistent: join(codexHome, 'sqlite'), include: CODEX_DATABASES }] : [],
        files: [{ path: join(codexHome, 'config.toml'), content: codexConfig(env, input.keyEnv) }],
      };
    }
  }
}

/**
 * Codex's config.toml, rendered at every start: a model provider of its own on the Responses
 * API (`OPENAI_BASE_URL`, else OpenAI's), the key from `keyEnv` (where the launcher puts
 * it), every command asked for through ACP (`untrusted`: codex-acp turns approvals into
 * `session/request_permission`) and no sandbox of Codex's own (the microVM is the sandbox,
 * and Linux sandboxing needs privileges it may not give). `-c key=value` words in the shell
 * command override any of it.
 */
export function codexConfig(env: Record<string, string | undefined>, keyEnv: string): string {
  const baseUrl = env[ENV_OPENAI_BASE_URL]?.trim() || DEFAULT_OPENAI_BASE_URL;
  const problem = httpUrlProblem(baseUrl);
  if (problem) throw new Error(`${ENV_OPENAI_BASE_URL} ${problem}, got "${baseUrl}"`);
  const model = env[ENV_CODEX_MODEL]?.trim();
  const lines = [
    '# Rendered by openab-agentcore at every agent start: changes here are overwritten.',
    ...(model ? [`model = ${tomlString(model)}`] : []),
    'model_provider = "openab"',
    'approval_policy = "untrusted"',
    'sandbox_mode = "danger-full-access"',
    'check_for_update_on_startup = false',
    '',
    '[model_providers.openab]',
    'name = "OpenAI Responses API"',
    `base_url = ${tomlString(baseUrl)}`,
    'wire_api = "responses"',
    `env_key = ${tomlString(keyEnv)}`,
  ];
  return `${lines.join('\n')}\n`;
}

function httpUrlProblem(value: string): string | undefined {
  try {
    const url = new URL(value);
    return url.protocol === 'https:' || url.protocol === 'http:' ? undefined : 'must be an http(s) URL';
  } catch {
    return 'must be a URL';
  }
}

/** A TOML basic string: JSON's escapes are TOML's, except that TOML also forbids a raw DEL. */
function tomlString(value: string): string {
  return JSON.stringify(value).replace(/\u007f/g, '\\u007F');
}

function unlessSet(env: Record<string, string | undefined>, values: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(values).filter(([name]) => env[name] === undefined));
}
