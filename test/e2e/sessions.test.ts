import { AGENT_COMMAND, type Harness, remoteOf, useHarness, pidOf } from '../support/bridge-harness';

/** What a fresh bridge process does when OAB resumes a saved thread. */
async function resume(h: Harness, sessionId: string, shellCommand?: string) {
  await h.spawnBridge({ shellCommand });
  await h.client.initialize();
  const started = Date.now();
  const result = await h.client.loadSession(sessionId, '/tmp');
  return { result, ms: Date.now() - started };
}

interface UpdateEvent {
  readonly sessionId: string;
  readonly update: { readonly sessionUpdate: string };
}

/** Every `session/update` the client receives from now on, whatever its session id. */
function collectUpdates(h: Harness): UpdateEvent[] {
  const updates: UpdateEvent[] = [];
  h.client.events.on('update', (u: UpdateEvent) => updates.push(u));
  return updates;
}

describe('one thread, one remote session', () => {
  let h: Harness;
  useHarness((x) => (h = x));

  test('a killed bridge is replaced by a new one that reattaches to the same running agent, with no replayed duplicates', async () => {
    const sessionId = await h.newThread();
    await h.client.prompt(sessionId, 'first message');
    const before = pidOf((await h.client.prompt(sessionId, 'pid')).text);

    // OAB evicts the thread: SIGTERM to the process group, SIGKILL 1.5 s later.
    await h.client.kill('SIGKILL', { group: true });
    const { result } = await resume(h, sessionId);
    expect(result).toEqual({});

    const updates: unknown[] = [];
    h.client.events.on('update', (u) => updates.push(u));
    const after = await h.client.prompt(sessionId, 'pid');
    expect(pidOf(after.text)).toBe(before);
    // The shell replayed its old output on reattach; none of it may reach the client.
    expect(after.updates).toBe(1);
    expect(updates).toHaveLength(1);
    const history = JSON.parse((await h.client.prompt(sessionId, 'history')).text);
    expect(history).toEqual(['first message', 'pid', 'pid']);
    expect(h.logEvents().some((e) => e.event === 'replay-skipped')).toBe(true);
    // Only one agent process ever started in that runtime session.
    const inits = h.agentReceived(remoteOf(sessionId).runtimeSessionId).filter((r) => r.method === 'initialize');
    expect(inits).toHaveLength(1);
  });

  test('session/load after the microVM idled out starts the agent again in the same workspace and restores the conversation', async () => {
    const sessionId = await h.newThread();
    await h.client.prompt(sessionId, 'remember the deploy plan');
    const before = pidOf((await h.client.prompt(sessionId, 'pid')).text);
    await h.client.close();

    expect(h.emulator.idleOutSession(remoteOf(sessionId).runtimeSessionId)).toBeGreaterThan(0);
    const { result, ms } = await resume(h, sessionId);
    expect(result).toEqual({});
    expect(ms).toBeLessThan(30_000);

    const now = pidOf((await h.client.prompt(sessionId, 'pid')).text);
    expect(now).not.toBe(before);
    const history = JSON.parse((await h.client.prompt(sessionId, 'history')).text);
    expect(history).toEqual(['remember the deploy plan', 'pid', 'pid']);
    expect(h.logEvents().find((e) => e.event === 'session-loaded')).toMatchObject({ restored: true });
  });

  test.each([
    ['exits on load', 'exit'],
    ['fails the load', 'error'],
  ])('an agent that %s still gets a working session in the same runtime session', async (_what, behaviour) => {
    const sessionId = await h.newThread();
    await h.client.prompt(sessionId, 'old conversation');
    await h.client.close();
    h.emulator.idleOutSession(remoteOf(sessionId).runtimeSessionId);

    const { result } = await resume(h, sessionId, `ACP_TEST_AGENT_LOAD=${behaviour} ${AGENT_COMMAND}`);
    expect(result).toEqual({});
    const reply = await h.client.prompt(sessionId, 'are you there');
    expect(reply.text).toBe('echo: are you there');
    expect(h.logEvents().some((e) => e.event === 'conversation-not-restored')).toBe(true);
    // Same runtime session, so the same persistent directory the old conversation lives in.
    const received = h.agentReceived(remoteOf(sessionId).runtimeSessionId);
    expect(received.filter((r) => r.method === 'session/load')).toHaveLength(1);
  });

  test('an update the agent sends right behind its new session\'s answer, when the conversation could not be loaded, carries the client\'s session id', async () => {
    const sessionId = await h.newThread();
    await h.client.prompt(sessionId, 'old conversation');
    await h.client.close();
    h.emulator.idleOutSession(remoteOf(sessionId).runtimeSessionId);

    const updates = collectUpdates(h);
    const commands = h.client.waitForEvent('update', (e: UpdateEvent) => e.update.sessionUpdate === 'available_commands_update', 10_000);
    await resume(h, sessionId, `ACP_TEST_AGENT_LOAD=error ACP_TEST_AGENT_NEW_ANSWER=update-after ${AGENT_COMMAND}`);
    await commands;
    expect((await h.client.prompt(sessionId, 'are you there')).text).toBe('echo: are you there');
    expect(h.logEvents().some((e) => e.event === 'conversation-not-restored')).toBe(true);
    expect(updates.map((u) => u.update.sessionUpdate)).toContain('available_commands_update');
    expect(new Set(updates.map((u) => u.sessionId))).toEqual(new Set([sessionId]));
  });

  test('an update the agent sends right behind its answer to session/new reaches the client under the new session\'s id', async () => {
    const updates = collectUpdates(h);
    const commands = h.client.waitForEvent('update', (e: UpdateEvent) => e.update.sessionUpdate === 'available_commands_update', 10_000);
    const sessionId = await h.newThread({ shellCommand: `ACP_TEST_AGENT_NEW_ANSWER=update-after ${AGENT_COMMAND}` });
    await commands;
    expect((await h.client.prompt(sessionId, 'hello')).text).toBe('echo: hello');
    expect(new Set(updates.map((u) => u.sessionId))).toEqual(new Set([sessionId]));
  });

  test('an agent that answers session/new without a session id fails session/new with a code, and its shell is ended', async () => {
    await h.spawnBridge({ shellCommand: `ACP_TEST_AGENT_NEW_ANSWER=no-session-id ${AGENT_COMMAND}` });
    await h.client.initialize();
    const err = await h.client.newSession('/tmp', { timeoutMs: 30_000 }).catch((e) => e);
    expect(err.data.code).toBe('BRIDGE_AGENT_START_FAILED');
    expect(err.message).toContain('without a sessionId');
    const alive = () => h.emulator.stats().shells.filter((s) => s.alive).length;
    for (const until = Date.now() + 5_000; alive() > 0 && Date.now() < until; ) await new Promise((r) => setTimeout(r, 50));
    expect(alive()).toBe(0);
  });

  test('an agent that hangs on load is replaced in time for OAB\'s 30 s limit', async () => {
    const sessionId = await h.newThread();
    await h.client.close();
    h.emulator.idleOutSession(remoteOf(sessionId).runtimeSessionId);
    const { result, ms } = await resume(h, sessionId, `ACP_TEST_AGENT_LOAD=hang ${AGENT_COMMAND}`);
    expect(result).toEqual({});
    expect(ms).toBeLessThan(30_000);
    expect((await h.client.prompt(sessionId, 'still here')).text).toBe('echo: still here');
  }, 45_000);

  test('an id the bridge never issued is "session not found", and OAB\'s fallback to session/new then works', async () => {
    await h.spawnBridge();
    await h.client.initialize();
    await expect(h.client.loadSession('agentcore-1700000000', '/tmp')).rejects.toMatchObject({ code: -32002 });
    const sessionId = await h.client.newSession('/tmp');
    expect((await h.client.prompt(sessionId, 'fresh')).text).toBe('echo: fresh');
  });

  test('session/load of an unreachable runtime session is an error OAB can fall back from', async () => {
    const sessionId = await h.newThread();
    await h.client.close();
    h.emulator.failNextUpgrades(1, 404, 'ResourceNotFoundException', 'No runtime session');
    await h.spawnBridge();
    await h.client.initialize();
    const err = await h.client.loadSession(sessionId, '/tmp').catch((e) => e);
    expect(err.code).toBe(-32002);
    expect(err.data.code).toBe('BRIDGE_RUNTIME_NOT_FOUND');
    expect(err.message).toContain('runtime not found');
    const fresh = await h.client.newSession('/tmp');
    expect(fresh).not.toBe(sessionId);
  });
});
