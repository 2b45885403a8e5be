import { Harness, useHarness, remoteOf } from '../support/bridge-harness';

describe('bridge round trip', () => {
  let h: Harness;
  useHarness((x) => (h = x));

  test('initialize, session/new and a prompt with streamed updates, as OAB drives it', async () => {
    await h.spawnBridge();
    const init = await h.client.initialize();
    expect(init.agentCapabilities.loadSession).toBe(true);
    const sessionId = await h.client.newSession('/tmp');
    expect(remoteOf(sessionId).runtimeSessionId.length).toBeGreaterThanOrEqual(33);

    const reply = await h.client.prompt(sessionId, 'hello from the thread');
    expect(reply.result).toEqual({ stopReason: 'end_turn' });
    expect(reply.text).toBe('echo: hello from the thread');
    expect(reply.updates).toBe(3);

    const events = h.logEvents().map((e) => e.event);
    expect(events).toEqual(expect.arrayContaining(['start', 'connect', 'agent-start', 'session-ready']));
  });
});
