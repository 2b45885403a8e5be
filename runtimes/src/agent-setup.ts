/**
 * What the launcher does around the agent: mark the runtime busy while a turn is in
 * flight, run the agent at home in the session storage (`/mnt/agent`, workspace under it)
 * with its state laid out as agent-state.ts says for this image's agent (`OPENAB_AGENT`),
 * keep its SQLite databases on local disk and written back safely, render its config, and
 * give it the API key fetched at boot, in its own environment only (none when it runs
 * keyless: Claude Code on Amazon Bedrock uses the runtime's AWS credentials).
 */
import { mkdirSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname } from 'node:path';
import { agentOf, isKeyless } from '../../shared/contract/agents';
import type { LauncherHooks } from './acp-session';
import { agentLayout, TURN_SETTLE_MS } from './agent-state';
import { markBusy } from './busy';
import { ensurePrivateDir, writeFileAtomic } from './fs-atomic';
import { hasSessionStorage } from './mounts';
import type { Logger } from './log';
import { resolvePaths } from './paths';
import { StateSyncSet } from './state-sync-set';
import { agentApiKeyEnvironment, agentApiKeyEnvName, waitForAgentApiKey } from './token-vault';

/** How long a start waits for a key fetch that is still running at boot. */
const KEY_WAIT_MS = 10_000;

export function agentSetupHooks(log: Logger, env: Record<string, string | undefined> = process.env): LauncherHooks {
  const paths = resolvePaths(env);
  let sync: StateSyncSet | undefined;
  let turnSettleMs = TURN_SETTLE_MS;
  let clearBusy: (() => void) | undefined;
  return {
    async beforeStart() {
      // A bad OPENAB_AGENT stops the start here, with its reason, instead of running the wrong layout.
      const agent = agentOf(env);
      const sessionStorage = hasSessionStorage(paths.agentHome, env);
      const keyEnvName = agentApiKeyEnvName(env);
      const layout = agentLayout({ agent, paths, env, sessionStorage, ownHome: env.HOME || homedir(), keyEnv: keyEnvName });
      const agentEnv: Record<string, string> = { ...layout.env };
      turnSettleMs = layout.turnSettleMs ?? TURN_SETTLE_MS;
      let cwd: string | undefined;
      if (sessionStorage) {
        mkdirSync(paths.workspaceDir, { recursive: true });
        cwd = paths.workspaceDir;
      } else {
        log.warn('no-session-storage', { path: paths.agentHome, effect: 'the agent state and workspace are not kept across sessions' });
      }
      for (const file of layout.files) {
        await ensurePrivateDir(dirname(file.path));
        await writeFileAtomic(file.path, file.content, { mode: 0o600 });
      }
      if (layout.databases.length > 0) {
        sync = new StateSyncSet({ databases: layout.databases, sqlite3: paths.sqlite3, log });
        await sync.copyIn();
        sync.start();
      }
      log.info('agent-layout', { agent: agent.id, sessionStorage, env: Object.keys(layout.env), files: layout.files.map((f) => f.path), databases: layout.databases.length });

      if (isKeyless(agent, env)) {
        log.info('agent-credentials', { apiKey: `none needed: ${agent.keylessSwitch} is set, the runtime's AWS credentials are used` });
        return { env: agentEnv, cwd };
      }
      const key = await waitForAgentApiKey({ timeoutMs: KEY_WAIT_MS, keyFile: paths.apiKeyFile, statusFile: paths.apiKeyStatusFile });
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
      // The runtime stays busy while the agent finishes writing the turn, databases or not;
      // the databases are listed after that, so one the agent created meanwhile is saved too.
      await new Promise((resolve) => setTimeout(resolve, turnSettleMs));
      await sync?.writeBackAfterTurn();
    },
    async afterExit() {
      await sync?.stop();
      clearBusy?.();
    },
  };
}
