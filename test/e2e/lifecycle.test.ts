/**
 * An idle thread costs nothing: the runtime is busy only during turns, the bridge lets go
 * of an idle shell, the emulator reaps an idle runtime session as AgentCore does, and the
 * next prompt brings the agent and its conversation back. Time is compressed: the bridge
 * detaches after 1 s, the emulator reaps after 1.5 s idle.
 */
import * as path from 'node:path';
import { busyPids } from '../../runtimes/src/busy';
import { type Harness, remoteOf, useHarness } from '../support/bridge-harness';
import { requireSqlite3 } from '../support/runtime/sqlite';

const IDLE_TIMEOUT_MS = 1_500;

/** The runtime's busy signal as the contract server reads it: a live launcher's marker. */
const isBusy = (s: { vmDir: string }) => busyPids(path.join(s.vmDir, 'busy')).length > 0;

async function until(check: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('an idle thread frees its microVM and keeps its conversation', () => {
  jest.setTimeout(60_000);
  let h: Harness;
  useHarness((x) => (h = x), {
    framed: true,
    emulator: {
      idleTimeoutMs: IDLE_TIMEOUT_MS,
      isBusy,
      // The launcher's scratch (busy markers, the live SQLite copy) on the microVM's disk,
      // the agent's home on session storage: as in the Kiro image.
      vmEnv: ({ vmDir, storageDir }) => ({ OPENAB_STATE_DIR: vmDir, OPENAB_AGENT_HOME: storageDir, OPENAB_SQLITE3: requireSqlite3() }),
    },
  });

  const lifetimes = (sessionId: string) => h.emulator.stats().lifetimes.filter((l) => l.sessionId === remoteOf(sessionId).runtimeSessionId);
  const vmOf = (sessionId: string) => h.emulator.stats().sessions.find((s) => s.sessionId === remoteOf(sessionId).runtimeSessionId);

  test('prompts spaced beyond the idle window: the bridge detaches, the microVM is reaped, the next prompt restores the conversation', async () => {
    const sessionId = await h.newThread({ args: ['--idle-detach', '1'] });
    expect((await h.client.prompt(sessionId, 'remember apple')).text).toBe('remembered apple');
    await until(() => lifetimes(sessionId)[0]?.endedAt != null, 15_000, 'the idle microVM to be reaped');
    expect(lifetimes(sessionId)[0].reason).toBe('idle-timeout');
    expect(h.logEvents().some((e) => e.event === 'idle-detach')).toBe(true);

    // No error, a slower answer: the agent starts again in the same runtime session.
    expect((await h.client.prompt(sessionId, 'recall', { timeoutMs: 30_000 })).text).toBe('recalled [apple]');
    expect((await h.client.prompt(sessionId, 'history')).text).toBe(JSON.stringify(['remember apple', 'recall']));
    expect(lifetimes(sessionId)).toHaveLength(2);
    const events = h.logEvents();
    expect(events.find((e) => e.event === 'agent-restart')?.reason).toBe('detached while idle');
    expect(events.find((e) => e.event === 'agent-restarted')).toMatchObject({ restored: true });
  });

  test('an idle thread whose microVM lives on is reattached, with nothing replayed', async () => {
    const sessionId = await h.newThread({ args: ['--idle-detach', '1'] });
    const first = (await h.client.prompt(sessionId, 'pid')).text;
    await until(() => h.logEvents().some((e) => e.event === 'idle-detach'), 10_000, 'the idle detach');
    // Within the idle timeout the microVM is still there, and so is the agent.
    expect((await h.client.prompt(sessionId, 'pid')).text).toBe(first);
    expect(h.logEvents().some((e) => e.event === 'agent-reattached')).toBe(true);
    expect(lifetimes(sessionId)).toHaveLength(1);
  });

  test('the write-back after a turn survives a reap the moment the runtime reports Healthy', async () => {
    const sessionId = await h.newThread({ args: ['--idle-detach', '0'] });
    const answered = h.client.prompt(sessionId, 'remember pear');
    await until(() => vmOf(sessionId) !== undefined && isBusy(vmOf(sessionId)!), 10_000, 'the turn to make the runtime busy');
    expect((await answered).text).toBe('remembered pear');
    await until(() => !isBusy(vmOf(sessionId)!), 10_000, 'the runtime to report Healthy');
    // Reaped at once: SIGKILL, no exit hook, no periodic write-back (it runs once a minute).
    const exited = h.client.waitForEvent<{ code: number | null }>('exit', undefined, 15_000);
    h.emulator.reapSession(remoteOf(sessionId).runtimeSessionId, 'idle-timeout');
    expect((await exited).code).toBe(1);
    // OAB starts a bridge for the thread's next message and loads the session.
    await h.spawnBridge();
    await h.client.initialize({ timeoutMs: 30_000 });
    expect(await h.client.loadSession(sessionId, '/tmp', { timeoutMs: 30_000 })).toEqual({});
    expect((await h.client.prompt(sessionId, 'recall')).text).toBe('recalled [pear]');
  });

  test('a turn outlasting the idle timeout is never reaped, even with no bridge attached; the microVM goes once it ends', async () => {
    const sessionId = await h.newThread({ args: ['--idle-detach', '0'] });
    void h.client.prompt(sessionId, 'sleep 4000', { timeoutMs: 20_000 }).catch(() => undefined);
    await until(() => vmOf(sessionId) !== undefined && isBusy(vmOf(sessionId)!), 10_000, 'the turn to start');
    const turnStarted = Date.now();
    // OAB ends the bridge mid-turn: the shell is detached and the agent works on.
    await h.client.close();
    await new Promise((r) => setTimeout(r, IDLE_TIMEOUT_MS * 2));
    expect(lifetimes(sessionId)[0].endedAt).toBeNull();
    await until(() => lifetimes(sessionId)[0].endedAt != null, 15_000, 'the reap after the turn');
    expect(lifetimes(sessionId)[0].endedAt! - turnStarted).toBeGreaterThanOrEqual(4_000 + IDLE_TIMEOUT_MS - 200);
  });
});
