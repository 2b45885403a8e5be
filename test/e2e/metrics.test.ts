import { readFileSync } from 'node:fs';
import { type Harness, remoteOf, useHarness } from '../support/bridge-harness';
import { emfProblems } from '../support/emf-spec';
import { PIPE_BUF } from '../../bridge/src/logger';

/** Every record of the bridge's log that carries metrics, each checked against the EMF specification. */
function metricRecords(h: Harness): Array<Record<string, unknown>> {
  const lines = readFileSync(h.logFile, 'utf8').split('\n').filter((l) => l.includes('"_aws"'));
  for (const line of lines) {
    expect({ line, problems: emfProblems(line) }).toEqual({ line, problems: [] });
    // Whole through the deployed log pipe, where a longer record would be replaced by a notice.
    expect(Buffer.byteLength(line) + 1).toBeLessThanOrEqual(PIPE_BUF);
  }
  return lines.map((l) => JSON.parse(l) as Record<string, unknown>);
}

async function until(condition: () => boolean, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not reached in time');
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe.each([['plain', false], ['framed', true]] as const)('metrics in the bridge log (%s mode)', (_mode, framed) => {
  let h: Harness;
  useHarness((x) => (h = x), { framed });

  test('a turn through the emulator leaves a turn record, valid EMF, with its outcome, duration and time to the first update', async () => {
    const sessionId = await h.newThread({ quietUpdates: true });
    const started = Date.now();
    const reply = await h.client.prompt(sessionId, 'slow 5 40', { timeoutMs: 30_000 });
    const elapsed = Date.now() - started;
    expect(reply.result.stopReason).toBe('end_turn');
    await until(() => h.logEvents().some((e) => e.event === 'turn'));
    const records = metricRecords(h);
    const turn = records.find((r) => r.event === 'turn')!;
    expect(turn).toMatchObject({ Runtime: 'openab_kiro', Outcome: 'end_turn', stopReason: 'end_turn', Turns: 1 });
    // Five updates 40 ms apart: the first comes well before the answer.
    expect(turn.TurnDuration).toBeGreaterThanOrEqual(150);
    expect(turn.TurnDuration).toBeLessThanOrEqual(elapsed);
    expect(turn.TurnTimeToFirstUpdate).toBeLessThan(turn.TurnDuration as number);
    expect(records.filter((r) => r.event === 'agent-start')).toEqual([expect.objectContaining({ AgentStarts: 1 })]);
    // Nothing else counts as an error or a reattach in a clean turn.
    expect(records.filter((r) => 'Errors' in r || 'Reattaches' in r)).toEqual([]);
  });

  test('an injected drop produces a reattach record with its reason, and one with the delay', async () => {
    const sessionId = await h.newThread({ quietUpdates: true });
    const turn = h.client.prompt(sessionId, 'slow 20 15', { timeoutMs: 30_000 });
    await h.untilAgentReceived(sessionId, 'session/prompt');
    h.emulator.dropConnections({ sessionId: remoteOf(sessionId).runtimeSessionId }, { mode: 'destroy' });
    expect((await turn).result.stopReason).toBe('end_turn');
    await until(() => h.logEvents().some((e) => e.event === 'turn'));
    const records = metricRecords(h);
    expect(records.filter((r) => 'Reattaches' in r)).toEqual([expect.objectContaining({ event: 'reattach', Reattaches: 1, Reason: 'dropped' })]);
    const reattached = records.find((r) => r.event === 'reattached')!;
    expect(reattached.ReattachDelay).toEqual(reattached.afterMs);
    expect(records.find((r) => r.event === 'turn')).toMatchObject({ Outcome: 'end_turn' });
  });
});

describe('metrics in the bridge log when the shell is lost', () => {
  let h: Harness;
  useHarness((x) => (h = x));

  test('a final close counts an error by its code and ends the pending turn as an error', async () => {
    const sessionId = await h.newThread();
    const turn = h.client.prompt(sessionId, 'slow 100 20').catch((e: unknown) => e);
    await h.untilAgentReceived(sessionId, 'session/prompt');
    h.emulator.dropConnections({ sessionId: remoteOf(sessionId).runtimeSessionId }, { mode: 'close', code: 4000, reason: 'replaced' });
    expect(await turn).toMatchObject({ data: { code: 'BRIDGE_SHELL_REPLACED' } });
    await until(() => h.logEvents().some((e) => e.event === 'turn'));
    const records = metricRecords(h);
    expect(records.filter((r) => 'Errors' in r)).toEqual([expect.objectContaining({ event: 'agent-gone', Errors: 1, Code: 'BRIDGE_SHELL_REPLACED' })]);
    expect(records.find((r) => r.event === 'turn')).toMatchObject({ Outcome: 'error', Turns: 1 });
  });

  test('a cancelled prompt is a cancelled turn', async () => {
    const sessionId = await h.newThread({ quietUpdates: true });
    const turn = h.client.prompt(sessionId, 'slow 100 20', { timeoutMs: 30_000 });
    await h.untilAgentReceived(sessionId, 'session/prompt');
    h.client.cancel(sessionId);
    expect((await turn).result.stopReason).toBe('cancelled');
    await until(() => h.logEvents().some((e) => e.event === 'turn'));
    expect(metricRecords(h).find((r) => r.event === 'turn')).toMatchObject({ Outcome: 'cancelled', stopReason: 'cancelled' });
  });
});
