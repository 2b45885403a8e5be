import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { agentSetupHooks } from '../../runtimes/src/agent-setup';
import { TURN_SETTLE_MS } from '../../runtimes/src/agent-state';
import { createLogger } from '../../runtimes/src/log';
import { adoptRuntimeEnv, writeRuntimeEnv } from '../../runtimes/src/runtime-env';
import { createDb, inspectCopy, requireSqlite3 } from '../support/runtime/sqlite';

describe('the launcher\'s agent setup', () => {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(path.join(tmpdir(), 'agent-setup-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  function hooks(env: Record<string, string>) {
    const lines: string[] = [];
    const h = agentSetupHooks(createLogger('test', (l) => lines.push(l)), { OPENAB_STATE_DIR: path.join(dir, 'state'), ...env });
    return { h, events: () => lines.map((l) => JSON.parse(l).event as string), lines: () => lines.map((l) => JSON.parse(l) as Record<string, unknown>) };
  }

  test('with no session storage mounted, the agent keeps its own HOME and working directory, and the log says state is not kept', async () => {
    const { h, events } = hooks({});
    const setup = await h.beforeStart!();
    await h.afterExit!();
    expect(setup.env.HOME).toBeUndefined();
    expect(setup.cwd).toBeUndefined();
    expect(events()).toContain('no-session-storage');
  });

  test('an explicit agent home is used as session storage: HOME, workspace, local SQLite', async () => {
    const home = path.join(dir, 'home');
    mkdirSync(home);
    const { h, events } = hooks({ OPENAB_AGENT_HOME: home });
    const setup = await h.beforeStart!();
    await h.afterExit!();
    expect(setup.env.HOME).toBe(home);
    expect(setup.cwd).toBe(path.join(home, 'workspace'));
    expect(setup.env.XDG_DATA_HOME).toBe(path.join(dir, 'state', 'data'));
    expect(events()).not.toContain('no-session-storage');
  });

  /** A home taken as session storage, and the key the boot-time fetch stored. */
  function storageAndKey(): { home: string; env: Record<string, string> } {
    const home = path.join(dir, 'home');
    mkdirSync(home);
    mkdirSync(path.join(dir, 'state'), { mode: 0o700 });
    writeFileSync(path.join(dir, 'state', 'api-key'), 'sk-from-the-vault', { mode: 0o600 });
    return { home, env: { OPENAB_AGENT_HOME: home } };
  }

  test('Claude Code gets the fetched key in ANTHROPIC_API_KEY and its HOME on session storage', async () => {
    const { home, env } = storageAndKey();
    const { h } = hooks({ ...env, OPENAB_AGENT: 'claude-code' });
    const setup = await h.beforeStart!();
    await h.afterExit!();
    expect(setup.env).toMatchObject({ HOME: home, ANTHROPIC_API_KEY: 'sk-from-the-vault' });
    expect(setup.env.KIRO_API_KEY).toBeUndefined();
  });

  test('Claude Code on Amazon Bedrock gets no key, even one that was fetched, and the log says why', async () => {
    const { env } = storageAndKey();
    const { h, lines } = hooks({ ...env, OPENAB_AGENT: 'claude-code', CLAUDE_CODE_USE_BEDROCK: '1' });
    const setup = await h.beforeStart!();
    await h.afterExit!();
    expect(Object.keys(setup.env)).not.toContain('ANTHROPIC_API_KEY');
    expect(lines().find((l) => l.event === 'agent-credentials')).toMatchObject({ apiKey: expect.stringContaining('CLAUDE_CODE_USE_BEDROCK') });
  });

  test("Codex gets its config.toml rendered on session storage, and its saved SQLite databases copied to local disk and back", async () => {
    const sqlite3 = requireSqlite3();
    const { home, env } = storageAndKey();
    const saved = path.join(home, '.codex', 'sqlite', 'state_5.sqlite');
    mkdirSync(path.dirname(saved), { recursive: true });
    createDb(saved, 10, 'delete');
    const { h } = hooks({ ...env, OPENAB_AGENT: 'codex', OPENAB_SQLITE3: sqlite3, OPENAI_BASE_URL: 'http://127.0.0.1:9/v1' });
    const setup = await h.beforeStart!();
    const local = path.join(dir, 'state', 'data', 'codex');
    expect(setup.env).toMatchObject({ HOME: home, CODEX_HOME: path.join(home, '.codex'), CODEX_SQLITE_HOME: local, OPENAI_API_KEY: 'sk-from-the-vault' });
    expect(readFileSync(path.join(home, '.codex', 'config.toml'), 'utf8')).toContain('base_url = "http://127.0.0.1:9/v1"');
    expect(inspectCopy(path.join(local, 'state_5.sqlite'))).toEqual(inspectCopy(saved));
    // A database the agent creates while it runs is saved when it stops; its logs are not.
    createDb(path.join(local, 'goals_1.sqlite'), 3, 'wal');
    createDb(path.join(local, 'logs_2.sqlite'), 3, 'wal');
    await h.afterExit!();
    expect(inspectCopy(path.join(home, '.codex', 'sqlite', 'goals_1.sqlite'))).toEqual(inspectCopy(path.join(local, 'goals_1.sqlite')));
    expect(existsSync(path.join(home, '.codex', 'sqlite', 'logs_2.sqlite'))).toBe(false);
  });

  test('after a turn the runtime stays busy for the settle time, then saves every database, one the agent created meanwhile too', async () => {
    const sqlite3 = requireSqlite3();
    const { home, env } = storageAndKey();
    const { h } = hooks({ ...env, OPENAB_AGENT: 'codex', OPENAB_SQLITE3: sqlite3 });
    await h.beforeStart!();
    const local = path.join(dir, 'state', 'data', 'codex');
    const started = Date.now();
    const afterTurn = h.afterTurn!();
    // Written just after the answer, while the turn settles.
    await new Promise((resolve) => setTimeout(resolve, 50));
    mkdirSync(local, { recursive: true });
    createDb(path.join(local, 'state_5.sqlite'), 4, 'wal');
    await afterTurn;
    expect(Date.now() - started).toBeGreaterThanOrEqual(TURN_SETTLE_MS - 5);
    expect(inspectCopy(path.join(home, '.codex', 'sqlite', 'state_5.sqlite'))).toEqual(inspectCopy(path.join(local, 'state_5.sqlite')));
    await h.afterExit!();
  });

  test('an unknown agent stops the start with its name', async () => {
    const { h } = hooks({ OPENAB_AGENT: 'gemini' });
    await expect(h.beforeStart!()).rejects.toThrow('unknown agent "gemini"');
  });

  test("the launcher adopts the container's variables its shell lacks, and keeps its own", async () => {
    const file = path.join(dir, 'state', 'runtime-env.json');
    await writeRuntimeEnv(file, { OPENAB_AGENT: 'codex', OPENAI_BASE_URL: 'http://container', AWS_REGION: 'us-west-2', PATH: '/container/bin' });
    const shell: Record<string, string | undefined> = { OPENAI_BASE_URL: 'http://shell', PATH: '/usr/bin' };
    expect(adoptRuntimeEnv(shell, file).sort()).toEqual(['AWS_REGION', 'OPENAB_AGENT']);
    expect(shell).toEqual({ OPENAI_BASE_URL: 'http://shell', PATH: '/usr/bin', OPENAB_AGENT: 'codex', AWS_REGION: 'us-west-2' });
    expect(adoptRuntimeEnv(shell, path.join(dir, 'none.json'))).toEqual([]);
  });
});
