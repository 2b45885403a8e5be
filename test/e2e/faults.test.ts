import { createHash } from 'node:crypto';
import { burstText, bigText } from '../support/patterns';
import { type Harness, hwmMiB, remoteOf, useHarness } from '../support/bridge-harness';
import type { DropHow } from '../support/emulator';
import { AcpClientDriver } from '../support/acp-client-driver';
import * as path from 'node:path';

async function until(condition: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not reached in time');
    await new Promise((r) => setTimeout(r, 5));
  }
}

const exitOf = (h: Harness) => h.client.waitForEvent<{ code: number | null }>('exit', undefined, 15_000);

describe('faults: every close code of the protocol', () => {
  let h: Harness;
  useHarness((x) => (h = x));

  test.each<[number, DropHow]>([
    [1001, { mode: 'close', code: 1001, reason: 'going away' }],
    // 1006 is never sent: it is what the client reports when the connection ends with no close frame.
    [1006, { mode: 'destroy' }],
    [1008, { mode: 'close', code: 1008, reason: 'connection lifetime exceeded' }],
    [1009, { mode: 'close', code: 1009, reason: 'message too big' }],
    [1011, { mode: 'close', code: 1011, reason: 'internal error' }],
    [1012, { mode: 'close', code: 1012, reason: 'service restart' }],
  ])('%i mid-stream is reattached and the answer arrives whole, once', async (code, how) => {
    const sessionId = await h.newThread({ quietUpdates: true });
    const turn = h.client.prompt(sessionId, 'slow 30 15', { timeoutMs: 30_000 });
    await h.untilAgentReceived(sessionId, 'session/prompt');
    await new Promise((r) => setTimeout(r, 50));
    h.emulator.dropConnections({ sessionId: remoteOf(sessionId).runtimeSessionId }, how);
    const reply = await turn;
    expect(reply.text).toBe(burstText(30));
    expect(h.logEvents().find((e) => e.event === 'reattach')?.reason).toContain(String(code));
  });

  test.each([
    ['a close with 1008 (over the frame limit)', { mode: 'close', code: 1008, reason: 'frame rate limit exceeded' } as const],
    ['a cut with no close frame', { mode: 'destroy' } as const],
  ])('%s in the middle of client input: no message reaches the agent spliced (plain mode)', async (_, how) => {
    const sessionId = await h.newThread();
    const { runtimeSessionId } = remoteOf(sessionId);
    // The service takes 1.5 MB, then the connection ends; what was sent after it is gone.
    expect(h.emulator.dropAfterInput({ sessionId: runtimeSessionId }, 1_500_000, how)).toBe(1);
    const data = 'x'.repeat(1_000_000); // a spliced line of these would still be valid JSON
    for (let i = 0; i < 8; i++) void h.client.notify('_test/ping', { sessionId, n: i, data });
    const deadline = Date.now() + 20_000;
    while (!h.logEvents().some((e) => e.event === 'reattached') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    const reply = await h.client.prompt(sessionId, 'after the drop', { timeoutMs: 30_000 });
    expect(reply.text).toBe('echo: after the drop');
    const sha = createHash('sha256').update(data).digest('hex');
    const pings = h.agentReceived(runtimeSessionId).filter((r) => r.method === '_test/ping');
    // Plain mode cannot resend what the dead connection swallowed; what does arrive is whole, and once.
    expect(pings.filter((p) => p.sha256 !== sha).map((p) => ({ n: p.n, bytes: p.bytes }))).toEqual([]);
    expect(new Set(pings.map((p) => p.n)).size).toBe(pings.length);
    expect(pings.length).toBeGreaterThanOrEqual(1);
    // (Whether a line was cut, and so sent again whole, depends on how far the bridge had got: see shell-frame-sender.test.ts.)
    expect(h.logEvents().filter((e) => e.event === 'reattached')).toHaveLength(1);
  });

  test.each([
    [4000, 'replaced', 'BRIDGE_SHELL_REPLACED', 'another client attached to this shell'],
    [1003, 'unsupported data', 'BRIDGE_CONNECTION_CLOSED', 'refused the connection'],
    [1000, 'bye', 'BRIDGE_CONNECTION_CLOSED', 'ended the connection without an exit status'],
  ])('%i is final: the pending prompt gets an error that says so and the bridge exits 1', async (code, reason, errorCode, message) => {
    const sessionId = await h.newThread();
    const turn = h.client.prompt(sessionId, 'slow 100 20').catch((e) => e);
    await h.untilAgentReceived(sessionId, 'session/prompt');
    await new Promise((r) => setTimeout(r, 50));
    const exited = exitOf(h);
    h.emulator.dropConnections({ sessionId: remoteOf(sessionId).runtimeSessionId }, { mode: 'close', code, reason });
    const err = await turn;
    expect(err.code).toBe(-32603);
    expect(err.data.code).toBe(errorCode);
    expect(err.message).toContain(message);
    expect((await exited).code).toBe(1);
  });

  test('a second bridge taking the shell (a real 4000): the first ends its prompt with the reason and exits 1, the second serves', async () => {
    const sessionId = await h.newThread();
    const turn = h.client.prompt(sessionId, 'slow 100 20').catch((e) => e);
    await h.untilAgentReceived(sessionId, 'session/prompt');
    const exited = exitOf(h);
    // OAB's thread moved to another bridge (a second task, a restart): it loads the same session.
    const other = await AcpClientDriver.start();
    try {
      await other.spawn(process.execPath, h.bridgeArgs(['--log-file', path.join(h.dir, 'bridge-2.log')]), { env: h.bridgeEnv(), replaceEnv: true });
      await other.initialize({ timeoutMs: 30_000 });
      expect(await other.loadSession(sessionId, '/tmp', { timeoutMs: 30_000 })).toEqual({});
      const err = await turn;
      expect(err.code).toBe(-32603);
      expect(err.data.code).toBe('BRIDGE_SHELL_REPLACED');
      expect(err.message).toContain('another client attached');
      expect((await exited).code).toBe(1);
      const closes = h.emulator.stats().connections.filter((c) => c.sessionId === remoteOf(sessionId).runtimeSessionId).map((c) => c.closeCode);
      expect(closes[0]).toBe(4000);
      // The agent may still be streaming the first bridge's turn, and ACP updates carry no turn id:
      // the rest of that stream can reach the new client around this answer.
      expect((await other.prompt(sessionId, 'after the takeover')).text).toContain('echo: after the takeover');
    } finally {
      await other.dispose();
    }
  });

  test('a refused reattach (404: the runtime is gone) fails the prompt at once, with the reason', async () => {
    const sessionId = await h.newThread();
    const turn = h.client.prompt(sessionId, 'slow 100 20').catch((e) => e);
    await h.untilAgentReceived(sessionId, 'session/prompt');
    await new Promise((r) => setTimeout(r, 50));
    h.emulator.failNextUpgrades(1, 404, 'ResourceNotFoundException', 'runtime deleted');
    h.emulator.dropConnections({ sessionId: remoteOf(sessionId).runtimeSessionId }, { mode: 'destroy' });
    const err = await turn;
    expect(err.data.code).toBe('BRIDGE_RUNTIME_NOT_FOUND');
    expect(err.message).toContain('runtime not found');
  });

  test('throttling on reattach (429, then 409) is retried with backoff and the answer arrives whole', async () => {
    const sessionId = await h.newThread({ quietUpdates: true });
    const turn = h.client.prompt(sessionId, 'slow 40 20', { timeoutMs: 30_000 });
    await h.untilAgentReceived(sessionId, 'session/prompt');
    await new Promise((r) => setTimeout(r, 50));
    h.emulator.failNextUpgrades(1, 429, 'ThrottlingException');
    h.emulator.failNextUpgrades(1, 409, 'RetryableConflictException', 'Session operation in progress, please retry');
    h.emulator.dropConnections({ sessionId: remoteOf(sessionId).runtimeSessionId }, { mode: 'destroy' });
    expect((await turn).text).toBe(burstText(40));
    expect(h.logEvents().filter((e) => e.event === 'reattach-failed')).toHaveLength(2);
  });
});

describe('faults: limits of the service', () => {
  describe('the one-hour connection limit, compressed to 300 ms, in framed mode', () => {
    let h: Harness;
    useHarness((x) => (h = x), { framed: true, emulator: { connectionTtlMs: 300 } });

    test('routine 1008 closes, even during start-up, are reattached transparently, nothing lost or repeated', async () => {
      const sessionId = await h.newThread({ quietUpdates: true });
      const reply = await h.client.prompt(sessionId, 'slow 60 25', { timeoutMs: 30_000 });
      expect(reply.text).toBe(burstText(60));
      const closes = h.emulator.stats().connections.filter((c) => c.closeCode === 1008).length;
      expect(closes).toBeGreaterThanOrEqual(3);
      expect((await h.client.prompt(sessionId, 'after')).text).toBe('echo: after');
    });
  });

  describe('the one-hour connection limit, compressed to 1.5 s, in plain mode', () => {
    let h: Harness;
    useHarness((x) => (h = x), { emulator: { connectionTtlMs: 1_500 } });

    test('a routine 1008 close during a streamed answer is reattached, nothing lost or repeated', async () => {
      const sessionId = await h.newThread({ quietUpdates: true });
      const reply = await h.client.prompt(sessionId, 'slow 80 50', { timeoutMs: 30_000 });
      expect(reply.text).toBe(burstText(80));
      expect(h.emulator.stats().connections.filter((c) => c.closeCode === 1008).length).toBeGreaterThanOrEqual(1);
    });
  });

  describe('a slow reader (the server\'s write buffer fills up) in framed mode', () => {
    let h: Harness;
    useHarness((x) => (h = x), { framed: true, emulator: { maxBufferedBytes: 1024 } });

    const closedForBuffer = () =>
      h.emulator.stats().connections.filter((c) => c.closeCode === 1008 && /buffer/.test(c.closeReason ?? '')).length;

    test('the 1008 that follows is recovered with nothing lost, and the bridge\'s memory stays bounded', async () => {
      const sessionId = await h.newThread({ quietUpdates: true });
      const pid = h.client.agentPids[h.client.agentPids.length - 1];
      const { runtimeSessionId } = remoteOf(sessionId);
      const prompts = () => h.agentReceived(runtimeSessionId).filter((r) => r.method === 'session/prompt').length;
      for (let i = 0; i < 2; i++) {
        const before = prompts();
        const turn = h.client.prompt(sessionId, 'big 12000000', { timeoutMs: 90_000 });
        // A stalled reader (CPU starvation, a long GC pause): once the agent is answering, the bridge
        // stops reading its socket until the service gives up on it (more than the kernel buffers hold).
        await until(() => prompts() > before);
        const closesBefore = closedForBuffer();
        process.kill(pid, 'SIGSTOP');
        await until(() => closedForBuffer() > closesBefore);
        process.kill(pid, 'SIGCONT');
        const reply = await turn;
        expect(reply.text === bigText(12_000_000)).toBe(true);
      }
      expect(closedForBuffer()).toBeGreaterThanOrEqual(2);
      // The peak, not a sample after the fact: two 12 MB answers and two reattaches never took it past 200 MiB.
      expect(hwmMiB(pid)).toBeLessThan(200);
    }, 120_000);
  });
});
