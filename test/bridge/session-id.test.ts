import { decodeClientSessionId, encodeClientSessionId, newToken, remoteIds, SHELL_ID } from '../../bridge/src/acp/session-id';

describe('session ids', () => {
  test('runtime session and shell ids are derived from the client id alone, and are valid for AgentCore', () => {
    const token = newToken();
    const issued = encodeClientSessionId(token, 'agent-session-42');
    const decoded = decodeClientSessionId(issued.id)!;
    expect(decoded.runtimeSessionId).toBe(issued.runtimeSessionId);
    expect(decoded.shellId).toBe(issued.shellId);
    expect(decoded.agentSessionId).toBe('agent-session-42');
    expect(decoded.runtimeSessionId.length).toBeGreaterThanOrEqual(33);
    expect(decoded.runtimeSessionId.length).toBeLessThanOrEqual(256);
    expect(decoded.shellId).toMatch(SHELL_ID);
  });

  test('different threads get different remote sessions', () => {
    const a = remoteIds(newToken());
    const b = remoteIds(newToken());
    expect(a.runtimeSessionId).not.toBe(b.runtimeSessionId);
    expect(a.shellId).not.toBe(b.shellId);
  });

  test('an agent session id with dots and unicode survives the round trip', () => {
    const token = newToken();
    const id = encodeClientSessionId(token, 'a.b.c/é').id;
    expect(decodeClientSessionId(id)?.agentSessionId).toBe('a.b.c/é');
  });

  test.each([
    ['agentcore-1700000000'],
    ['oab1.nothex.abc'],
    ['oab1.0123456789abcdef0123456789abcdef.'],
    ['oab2.0123456789abcdef0123456789abcdef.x'],
    [42],
    [null],
  ])('%j is not an id this bridge issued', (id) => {
    expect(decodeClientSessionId(id)).toBeUndefined();
  });
});
