import { type Harness, useHarness, remoteOf } from '../support/bridge-harness';

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

describe('what the bridge logs and how it finds the launcher', () => {
  let h: Harness;
  useHarness((x) => (h = x));

  test('message contents are logged only at debug', async () => {
    const secretish = 'prompt-text-that-must-stay-out-of-info-logs';
    const atInfo = await h.newThread({ args: ['--log-level', 'info'] });
    await h.client.prompt(atInfo, secretish);
    const infoLog = JSON.stringify(h.logEvents());
    expect(infoLog).not.toContain(secretish);
    expect(h.logEvents().some((e) => e.event === 'session-ready')).toBe(true);

    await h.client.close();
    const atDebug = await h.newThread({ args: ['--log-level', 'debug'] });
    await h.client.prompt(atDebug, secretish);
    expect(JSON.stringify(h.logEvents())).toContain(secretish);
  });

  test('with a launcher path that the image does not have, the agent runs in plain mode', async () => {
    const sessionId = await h.newThread({ args: ['--launcher', '/app/bin/no-such-launcher'] });
    expect((await h.client.prompt(sessionId, 'plain')).text).toBe('echo: plain');
    expect(h.logEvents().find((e) => e.event === 'channel')).toMatchObject({ mode: 'plain' });
  });
});
