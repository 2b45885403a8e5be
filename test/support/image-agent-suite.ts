/**
 * A real agent run the way its runtime image runs it: the bridge types the agent's default
 * shell command (shared/contract/agents.ts) into the emulator's PTY shell, under the
 * launcher with its in-VM setup (runtimes/src/agent-setup.ts), where each runtime session
 * has a microVM disk (`OPENAB_STATE_DIR`, gone when the session is reaped) and session
 * storage (`OPENAB_AGENT_HOME`, kept). As in the image, the shell knows only the paths: the
 * agent's id and model settings come from the container's environment, handed over in the
 * file the contract server writes (runtime-env.ts), and the key from the file its Token
 * Vault fetch writes; the agent command is found on the shell's PATH, as `/usr/local/bin`
 * holds it in the image. One test file per agent calls {@link imageAgentSuite}.
 */
import { existsSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { AGENTS } from '../../shared/contract/agents';
import { busyPids } from '../../runtimes/src/busy';
import { writeRuntimeEnv } from '../../runtimes/src/runtime-env';
import { type Harness, remoteOf, useHarness } from './bridge-harness';
import { logged, type ModelStandIn, openThread, resumeThread, workspace } from './real-agents';
import { requireSqlite3 } from './runtime/sqlite';

/** What the Token Vault fetch would have stored as the agent's key. */
export const VAULT_KEY = 'sk-from-the-token-vault';

export interface ImageAgent {
  readonly id: 'claude-code' | 'codex';
  /** How this variant reaches its model, for the test names. */
  readonly via: string;
  /** The agent runs keyless: a key stored by the Token Vault fetch must not reach it or the model. */
  readonly keyless?: boolean;
  /** The file the agent's command (its first word) runs, as the image installs it. */
  readonly executable: string;
  /** Starts the model stand-in; returns it with the container's model settings pointing at it. */
  startModel(): Promise<{ readonly model: ModelStandIn; readonly containerEnv: Record<string, string>; readonly keySent: () => string | undefined }>;
  /** Checks, after a turn, what the agent keeps on session storage (`storage`) and the microVM's disk (`vm`). */
  checkState(dirs: { storage: string; vm: string }, stand: { baseUrl: string }): void;
  /** Shell environment beyond the paths (a quieter log, say). */
  readonly shellEnv?: Record<string, string>;
}

export function imageAgentSuite(agent: ImageAgent): void {
  describe(`${AGENTS[agent.id].displayName} as its runtime image runs it (${AGENTS[agent.id].shellCommand} under the launcher), ${agent.via}`, () => {
    let h: Harness;
    let model: ModelStandIn;
    let keySent: () => string | undefined;
    let modelEnv: Record<string, string>;
    const command = AGENTS[agent.id].shellCommand;
    /** The shell's environment beyond the microVM's two places, set once the test's directory exists. */
    let shellEnv: Record<string, string> = {};
    useHarness((x) => (h = x), {
      framed: true,
      // The shell's own HOME is the image user's, on the microVM's disk: only the launcher's setup puts the agent on session storage.
      emulator: { vmEnv: ({ vmDir, storageDir }) => ({ ...shellEnv, HOME: homeOn(vmDir), OPENAB_STATE_DIR: vmDir, OPENAB_AGENT_HOME: storageDir }) },
    });
    beforeEach(async () => {
      ({ model, containerEnv: modelEnv, keySent } = await agent.startModel());
      model.script((prompt) => ({ text: `echo: ${prompt}` }), 'done');
      const bin = path.join(h.dir, 'bin');
      mkdirSync(bin);
      symlinkSync(agent.executable, path.join(bin, command.split(' ')[0]));
      writeFileSync(path.join(h.dir, 'api-key'), VAULT_KEY, { mode: 0o600 });
      await writeRuntimeEnv(path.join(h.dir, 'runtime-env.json'), { OPENAB_AGENT: agent.id, ...modelEnv });
      shellEnv = {
        PATH: `${bin}:/usr/bin:/bin`,
        OPENAB_API_KEY_FILE: path.join(h.dir, 'api-key'),
        OPENAB_RUNTIME_ENV_FILE: path.join(h.dir, 'runtime-env.json'),
        OPENAB_SQLITE3: requireSqlite3(),
        ...agent.shellEnv,
      };
    });
    afterEach(() => model.stop());

    const dirsOf = (sessionId: string) => {
      const storage = h.emulator.sessionDir(remoteOf(sessionId).runtimeSessionId);
      return { storage, vm: `${storage}.vm` };
    };
    /** The launcher reports busy until the turn's state is saved; AgentCore reaps only after that. */
    const untilIdle = async (vm: string) => {
      const deadline = Date.now() + 10_000;
      while (busyPids(path.join(vm, 'busy')).length > 0) {
        if (Date.now() > deadline) throw new Error('the runtime stayed busy after the turn');
        await new Promise((r) => setTimeout(r, 50));
      }
    };

    test(`a turn runs with ${agent.keyless ? 'no key' : 'the key from the Token Vault file'}, the model settings from the container, and its state on session storage`, async () => {
      const cwd = workspace(h);
      const sessionId = await openThread(h, command, cwd);
      expect((await h.client.prompt(sessionId, 'hello from the image')).text).toBe('echo: hello from the image');
      expect(model.lastPrompt()).toBe('hello from the image');
      expect(keySent()).toBe(agent.keyless ? undefined : VAULT_KEY);
      const credentials = readFileSync(path.join(h.dir, 'agent.log'), 'utf8').split('\n').filter((l) => l.includes('"agent-credentials"'));
      expect(credentials).toEqual([expect.stringContaining(agent.keyless ? 'none needed' : `in ${AGENTS[agent.id].apiKeyEnv}`)]);
      const dirs = dirsOf(sessionId);
      await untilIdle(dirs.vm);
      agent.checkState(dirs, { baseUrl: modelEnv.OPENAI_BASE_URL ?? modelEnv.ANTHROPIC_BASE_URL });
    });

    test('after the microVM is reaped (agent killed, its disk gone), a new bridge\'s session/load restores the conversation from session storage', async () => {
      const cwd = workspace(h);
      const sessionId = await openThread(h, command, cwd);
      expect((await h.client.prompt(sessionId, 'remember the number 8472')).text).toBe('echo: remember the number 8472');
      const { runtimeSessionId } = remoteOf(sessionId);
      await untilIdle(dirsOf(sessionId).vm);
      await h.client.kill('SIGKILL', { group: true });
      expect(h.emulator.reapSession(runtimeSessionId, 'idle-timeout')).toBe(true);
      expect(existsSync(dirsOf(sessionId).vm)).toBe(false);

      await resumeThread(h, command, sessionId, cwd);
      expect(logged(h, 'session-loaded')).toMatchObject([{ restored: true }]);
      expect((await h.client.prompt(sessionId, 'which number?')).text).toBe('echo: which number?');
      expect(model.lastConversation()).toContain('remember the number 8472');
    });
  });
}

function homeOn(vmDir: string): string {
  const home = path.join(vmDir, 'home', 'agent');
  mkdirSync(home, { recursive: true });
  return home;
}
