/**
 * What the launcher does around the agent in the Kiro image: mark the runtime busy
 * while a turn is in flight, run the agent at home in the session storage (`/mnt/agent`, workspace under it),
 * keep its SQLite state on local disk and written back safely, and give it the API
 * key fetched at boot, in its own environment only.
 */
import { mkdirSync } from 'node:fs';
import type { LauncherHooks } from './acp-session';
import { markBusy } from './busy';
import { hasSessionStorage } from './mounts';
import type { Logger } from './log';
import { resolvePaths } from './paths';
import { StateSync } from './state-sync';
import { agentApiKeyEnvironment, agentApiKeyEnvName, waitForAgentApiKey } from './token-vault';

/** How long a start waits for a key fetch that is still running at boot. */
const KEY_WAIT_MS = 10_000;

export function agentSetupHooks(log: Logger, env: Record<string, string | undefined> = process.env): LauncherHooks {
  const paths = resolvePaths(env);
  let sync: StateSync | undefined;
  let clearBusy: (() => void) | undefined;
  return {
    async beforeStart() {
      const agentEnv: Record<string, string> = {};
      let cwd: string | undefined;
      if (hasSessionStorage(paths.agentHome, env)) {
        agentEnv.HOME = paths.agentHome;
        mkdirSync(paths.workspaceDir, { recursive: true });
        cwd = paths.workspaceDir;
        // SQLite locking does not work on session storage: the agent uses a local copy.
        agentEnv.XDG_DATA_HOME = paths.localDataHome;
        sync = new StateSync({ persistentPath: paths.persistentStateDb, localPath: paths.localStateDb, sqlite3: paths.sqlite3, log });
        await sync.copyIn();
        sync.start();
      } else {
        log.warn('no-session-storage', { path: paths.agentHome, effect: 'the agent state and workspace are not kept across sessions' });
      }
      const key = await waitForAgentApiKey({ timeoutMs: KEY_WAIT_MS, keyFile: paths.apiKeyFile, statusFile: paths.apiKeyStatusFile });
      const keyEnvName = agentApiKeyEnvName(env);
      log.info('agent-credentials', { apiKey: key === undefined ? 'none (interactive login may be used)' : `in ${keyEnvName}` });
      Object.assign(agentEnv, agentApiKeyEnvironment(key, keyEnvName));
      return { env: agentEnv, cwd };
    },
    busyChanged(busy) {
      if (busy) {
        clearBusy ??= markBusy(process.pid, paths.busyDir, { command: 'acp-session' });
      } else {
        clearBusy?.();
        clearBusy = undefined;
      }
    },
    async afterTurn() {
      await sync?.writeBackAfterTurn();
    },
    async afterExit() {
      await sync?.stop();
      clearBusy?.();
    },
  };
}
