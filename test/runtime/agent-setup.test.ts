import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { agentSetupHooks } from '../../runtimes/src/agent-setup';
import { createLogger } from '../../runtimes/src/log';

describe('the launcher\'s agent setup', () => {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(path.join(tmpdir(), 'agent-setup-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  function hooks(env: Record<string, string>) {
    const lines: string[] = [];
    const h = agentSetupHooks(createLogger('test', (l) => lines.push(l)), { OPENAB_STATE_DIR: path.join(dir, 'state'), ...env });
    return { h, events: () => lines.map((l) => JSON.parse(l).event as string) };
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
});
