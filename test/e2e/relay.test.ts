import { bigText, burstText, digestPrompt, digestReply } from '../support/patterns';
import { type Harness, useHarness, remoteOf } from '../support/bridge-harness';

describe('relay', () => {
  let h: Harness;
  useHarness((x) => (h = x));

  function maxFrameRate(runtimeSessionId: string): number {
    return Math.max(0, ...h.emulator.stats().connections.filter((c) => c.sessionId === runtimeSessionId).map((c) => c.maxFramesPerSecond));
  }

  test('a 5 MB prompt reaches the agent intact, split into frames under 64 KiB', async () => {
    const sessionId = await h.newThread();
    const prompt = digestPrompt(5_000_000);
    const reply = await h.client.prompt(sessionId, prompt, { timeoutMs: 60_000 });
    expect(reply.text).toBe(digestReply(prompt));
    const conns = h.emulator.stats().connections.filter((c) => c.sessionId === remoteOf(sessionId).runtimeSessionId);
    // The emulator closes with 1009 on an oversized frame and 1008 on a rate violation; neither happened.
    expect(conns.map((c) => c.closeCode).filter((c) => c === 1009 || c === 1008)).toEqual([]);
    expect(maxFrameRate(remoteOf(sessionId).runtimeSessionId)).toBeLessThan(250);
  });

  test('a 5 MB response reaches the client intact', async () => {
    const sessionId = await h.newThread({ quietUpdates: true });
    const reply = await h.client.prompt(sessionId, 'big 5000000', { timeoutMs: 60_000 });
    expect(reply.result.stopReason).toBe('end_turn');
    expect(Buffer.byteLength(reply.text)).toBe(5_000_000);
    expect(reply.text === bigText(5_000_000)).toBe(true);
  });

  test('5,000 streamed notifications from the agent arrive complete and in order', async () => {
    const sessionId = await h.newThread({ quietUpdates: true });
    const reply = await h.client.prompt(sessionId, 'burst 5000', { timeoutMs: 60_000 });
    expect(reply.updates).toBe(5000);
    expect(reply.text === burstText(5000)).toBe(true);
  });

  test('5,000 notifications from the client in a burst reach the agent in order, coalesced under 250 frames/s', async () => {
    const sessionId = await h.newThread();
    const { runtimeSessionId } = remoteOf(sessionId);
    for (let i = 0; i < 5000; i++) void h.client.notify('_test/ping', { sessionId, n: i });
    // A prompt after the burst is answered only once everything before it went through.
    const reply = await h.client.prompt(sessionId, 'after the burst', { timeoutMs: 60_000 });
    expect(reply.text).toBe('echo: after the burst');
    // One connection throughout, under the frame limit (checked first: a drop would explain any loss below).
    const connections = h.emulator.stats().connections.filter((c) => c.sessionId === runtimeSessionId);
    expect(connections.map((c) => c.closeCode)).toEqual([null]);
    expect(maxFrameRate(runtimeSessionId)).toBeLessThan(250);
    await h.untilAgentReceived(sessionId, '_test/ping', 5000);
    const pings = h.agentReceived(runtimeSessionId).filter((r) => r.method === '_test/ping');
    expect(pings).toHaveLength(5000);
    expect(pings.map((p) => p.n)).toEqual(Array.from({ length: 5000 }, (_, i) => i));
    const stdinFrames = h.emulator.stats().connections.filter((c) => c.sessionId === runtimeSessionId)
      .reduce((n, c) => n + (c.framesReceived.STDIN ?? 0), 0);
    // Coalesced: far fewer frames than messages.
    expect(stdinFrames).toBeLessThan(2500);
  });

  test.each([
    ['dropped without a close frame', { mode: 'destroy' as const }],
    ['closed for a service deploy (1001)', { mode: 'close' as const, code: 1001, reason: 'going away' }],
    ['closed at the connection time limit (1008)', { mode: 'close' as const, code: 1008, reason: 'connection lifetime exceeded' }],
  ])('a connection %s mid-stream is reattached with nothing lost and nothing repeated', async (_what, how) => {
    const sessionId = await h.newThread({ quietUpdates: true });
    const { runtimeSessionId } = remoteOf(sessionId);
    const prompt = h.client.prompt(sessionId, 'slow 60 15', { timeoutMs: 30_000 });
    for (const at of [150, 450]) {
      await new Promise((r) => setTimeout(r, at === 150 ? 150 : 300));
      expect(h.emulator.dropConnections({ sessionId: runtimeSessionId }, how)).toBe(1);
    }
    const reply = await prompt;
    expect(reply.result.stopReason).toBe('end_turn');
    expect(reply.text).toBe(burstText(60));
    const events = h.logEvents();
    expect(events.filter((e) => e.event === 'reattached').length).toBeGreaterThanOrEqual(2);
    expect(events.some((e) => e.event === 'replay-skipped' && (e.bytes as number) > 0)).toBe(true);
    // And the connection keeps working afterwards.
    expect((await h.client.prompt(sessionId, 'after')).text).toBe('echo: after');
  });
});
