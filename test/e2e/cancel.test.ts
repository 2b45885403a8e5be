import { type Harness, useHarness, remoteOf, pidOf } from '../support/bridge-harness';


describe('cancel', () => {
  let h: Harness;
  useHarness((x) => (h = x));

  test('stop: the remote agent is ended, the prompt answers "cancelled", and the next prompt restarts it with its history', async () => {
    const sessionId = await h.newThread({ quietUpdates: true });
    const { runtimeSessionId, shellId } = remoteOf(sessionId);
    await h.client.prompt(sessionId, 'before the long task');
    const before = pidOf((await h.client.prompt(sessionId, 'pid')).text);

    const turn = h.client.prompt(sessionId, 'slow 1000 20');
    await new Promise((r) => setTimeout(r, 300));
    const exited = h.emulator.waitFor('shell-exit', (e) => e.shellId === shellId);
    h.client.cancel(sessionId);
    const reply = await turn;
    expect(reply.result.stopReason).toBe('cancelled');
    expect(reply.text.length).toBeGreaterThan(0);
    await exited;
    expect(h.emulator.stats().shells.filter((s) => s.sessionId === runtimeSessionId && s.alive)).toHaveLength(0);

    const restarted = await h.client.prompt(sessionId, 'pid');
    // The restarted agent reloads its conversation; that history must not leak into this turn.
    expect(restarted.updates).toBe(1);
    expect(pidOf(restarted.text)).not.toBe(before);
    const history = JSON.parse((await h.client.prompt(sessionId, 'history')).text);
    expect(history.slice(0, 2)).toEqual(['before the long task', 'pid']);
    expect(h.logEvents().some((e) => e.event === 'agent-stopped')).toBe(true);
  });

  test('stop: a prompt sent right behind the cancel waits for the restart instead of being cancelled too', async () => {
    const sessionId = await h.newThread({ quietUpdates: true });
    const before = pidOf((await h.client.prompt(sessionId, 'pid')).text);
    const turn = h.client.prompt(sessionId, 'slow 1000 20');
    await new Promise((r) => setTimeout(r, 200));
    h.client.cancel(sessionId);
    const next = h.client.prompt(sessionId, 'pid');
    expect((await turn).result.stopReason).toBe('cancelled');
    const reply = await next;
    expect(reply.result.stopReason).toBe('end_turn');
    // Two turns overlap here (OAB never does that), so the client may count the cancelled turn's
    // last chunks as this one's: the answer is what ends the text.
    const pid = /pid:(\d+)$/.exec(reply.text);
    expect(pid).not.toBeNull();
    expect(Number(pid![1])).not.toBe(before);
  });

  test('noop: the cancel reaches the agent, which ends the prompt itself; the same agent serves on', async () => {
    const sessionId = await h.newThread({ args: ['--cancel-strategy', 'noop'], quietUpdates: true });
    const before = pidOf((await h.client.prompt(sessionId, 'pid')).text);
    const turn = h.client.prompt(sessionId, 'slow 40 50');
    await h.untilAgentReceived(sessionId, 'session/prompt');
    await new Promise((r) => setTimeout(r, 150));
    h.client.cancel(sessionId);
    const reply = await turn;
    expect(reply.result.stopReason).toBe('cancelled');
    expect(reply.updates).toBeLessThan(40);
    expect(pidOf((await h.client.prompt(sessionId, 'pid')).text)).toBe(before);
    expect(h.agentReceived(remoteOf(sessionId).runtimeSessionId).filter((r) => r.method === 'session/cancel')).toHaveLength(1);
    expect(h.logEvents().find((e) => e.event === 'cancel')).toMatchObject({ strategy: 'noop' });
  });

  test('stop with no prompt running changes nothing', async () => {
    const sessionId = await h.newThread();
    const before = pidOf((await h.client.prompt(sessionId, 'pid')).text);
    h.client.cancel(sessionId);
    expect(pidOf((await h.client.prompt(sessionId, 'pid')).text)).toBe(before);
  });
});
