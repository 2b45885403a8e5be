import { parse } from 'smol-toml';
import { AGENTS } from '../../shared/contract/agents';
import { agentLayout, codexConfig } from '../../runtimes/src/agent-state';
import { resolvePaths } from '../../runtimes/src/paths';
import { handedOn } from '../../runtimes/src/runtime-env';

const paths = resolvePaths({});
const layout = (id: keyof typeof AGENTS, sessionStorage: boolean, env: Record<string, string> = {}) =>
  agentLayout({ agent: AGENTS[id], paths, env, sessionStorage, ownHome: '/home/agent', keyEnv: AGENTS[id].apiKeyEnv });

describe('where each agent keeps its state', () => {
  test('Kiro: HOME on session storage, its SQLite database on local disk and copied to session storage', () => {
    expect(layout('kiro', true)).toEqual({
      env: { HOME: '/mnt/agent', XDG_DATA_HOME: '/tmp/openab-agent/data' },
      databases: [{ kind: 'file', local: '/tmp/openab-agent/data/kiro-cli/data.sqlite3', persistent: '/mnt/agent/.local/share/kiro-cli/data.sqlite3' }],
      files: [],
    });
    expect(layout('kiro', false)).toEqual({ env: {}, databases: [], files: [] });
  });

  test('Claude Code: HOME on session storage (its JSONL conversations are append-only), nothing copied, no self-update', () => {
    expect(layout('claude-code', true)).toEqual({
      env: { HOME: '/mnt/agent', DISABLE_AUTOUPDATER: '1', CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: '1' },
      databases: [],
      files: [],
      // Its transcript appends are flushed every 100 ms: the runtime stays busy past that after a turn.
      turnSettleMs: 500,
    });
    // A deployment's own setting wins.
    expect(layout('claude-code', false, { CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: '0' }).env).toEqual({ DISABLE_AUTOUPDATER: '1' });
  });

  test('Codex: CODEX_HOME on session storage, its SQLite databases local and copied (not its logs), config.toml rendered there', () => {
    const l = layout('codex', true);
    expect(l.env).toEqual({ HOME: '/mnt/agent', CODEX_HOME: '/mnt/agent/.codex', CODEX_SQLITE_HOME: '/tmp/openab-agent/data/codex' });
    expect(l.databases).toHaveLength(1);
    const [db] = l.databases;
    expect(db).toMatchObject({ kind: 'directory', local: '/tmp/openab-agent/data/codex', persistent: '/mnt/agent/.codex/sqlite' });
    const include = (db as { include: RegExp }).include;
    expect(['state_5.sqlite', 'goals_1.sqlite', 'memories_1.sqlite'].filter((n) => include.test(n))).toHaveLength(3);
    expect(['logs_2.sqlite', 'state_5.sqlite-wal', 'state_5.sqlite-shm', '.state_5.sqlite.openab-tmp-12-ab', 'notes.txt'].filter((n) => include.test(n))).toEqual([]);
    expect(l.files.map((f) => f.path)).toEqual(['/mnt/agent/.codex/config.toml']);
    // Without session storage: its own HOME, nothing copied, the config still rendered.
    expect(layout('codex', false)).toMatchObject({ env: { CODEX_HOME: '/home/agent/.codex' }, databases: [], files: [{ path: '/home/agent/.codex/config.toml' }] });
  });
});

describe("Codex's config.toml", () => {
  test('points a provider of its own at OPENAI_BASE_URL with the key variable, asks for every command through ACP, and names the model', () => {
    const config = parse(codexConfig({ OPENAI_BASE_URL: 'http://127.0.0.1:4000/v1', OPENAB_CODEX_MODEL: 'gpt-5.4-mini' }, 'OPENAI_API_KEY'));
    expect(config).toEqual({
      model: 'gpt-5.4-mini',
      model_provider: 'openab',
      approval_policy: 'untrusted',
      sandbox_mode: 'danger-full-access',
      check_for_update_on_startup: false,
      model_providers: { openab: { name: 'OpenAI Responses API', base_url: 'http://127.0.0.1:4000/v1', wire_api: 'responses', env_key: 'OPENAI_API_KEY' } },
    });
  });

  test("defaults to OpenAI's API and Codex's own model, and keeps odd values intact as TOML strings", () => {
    const plain = parse(codexConfig({}, 'OPENAI_API_KEY')) as Record<string, unknown>;
    expect(plain.model).toBeUndefined();
    expect(plain.model_providers).toEqual({ openab: expect.objectContaining({ base_url: 'https://api.openai.com/v1' }) });
    const odd = 'm"o\\d\u007fel\n#';
    expect(parse(codexConfig({ OPENAB_CODEX_MODEL: odd }, 'K')).model).toBe(odd);
  });

  test('refuses a base URL that is not http(s), naming the variable', () => {
    expect(() => codexConfig({ OPENAI_BASE_URL: 'file:///etc/passwd' }, 'K')).toThrow('OPENAI_BASE_URL must be an http(s) URL, got "file:///etc/passwd"');
    expect(() => codexConfig({ OPENAI_BASE_URL: 'not a url' }, 'K')).toThrow('OPENAI_BASE_URL must be a URL, got "not a url"');
  });
});

describe("the container's environment for the launcher", () => {
  test('hands on the programs\', the agents\' and the AWS SDK\'s variables, and nothing else', () => {
    expect(handedOn({
      OPENAB_AGENT: 'claude-code', CLAUDE_CODE_USE_BEDROCK: '1', ANTHROPIC_MODEL: 'm', AWS_REGION: 'us-west-2',
      AWS_CONTAINER_CREDENTIALS_FULL_URI: 'http://169.254.170.23/v1/credentials', OPENAI_BASE_URL: 'u', HTTPS_PROXY: 'p',
      PATH: '/usr/bin', HOME: '/root', HOSTNAME: 'vm', SHELL: '/bin/bash', UNSET: undefined,
    })).toEqual({
      ANTHROPIC_MODEL: 'm', AWS_CONTAINER_CREDENTIALS_FULL_URI: 'http://169.254.170.23/v1/credentials', AWS_REGION: 'us-west-2',
      CLAUDE_CODE_USE_BEDROCK: '1', HTTPS_PROXY: 'p', OPENAB_AGENT: 'claude-code', OPENAI_BASE_URL: 'u',
    });
  });
});
