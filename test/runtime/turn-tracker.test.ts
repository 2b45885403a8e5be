import { answerId, MAX_ANSWER_BYTES, promptId, TurnTracker } from '../../runtimes/src/turn-tracker';

const line = (o: unknown) => Buffer.from(JSON.stringify(o));
const prompt = (id: number | string, text = 'hi') => line({ jsonrpc: '2.0', id, method: 'session/prompt', params: { sessionId: 's', prompt: [{ type: 'text', text }] } });
const answer = (id: number | string, stopReason = 'end_turn') => line({ jsonrpc: '2.0', id, result: { stopReason } });

describe('TurnTracker', () => {
  test('busy from a prompt reaching the agent until its answer, across overlapping turns', () => {
    const t = new TurnTracker();
    expect(t.toAgent(prompt(1))).toBe('busy');
    expect(t.toAgent(prompt('two'))).toBeUndefined();
    expect(t.fromAgent(line({ jsonrpc: '2.0', method: 'session/update', params: { sessionId: 's' } }))).toBeUndefined();
    expect(t.fromAgent(answer(1))).toBeUndefined();
    expect(t.busy).toBe(true);
    expect(t.fromAgent(answer('two', 'cancelled'))).toBe('idle');
    expect(t.busy).toBe(false);
  });

  test('an error answer ends the turn; an answer to another request, a request of the agent with the same id, or a repeat do not', () => {
    const t = new TurnTracker();
    t.toAgent(prompt(7));
    expect(t.fromAgent(answer(8))).toBeUndefined();
    expect(t.fromAgent(line({ jsonrpc: '2.0', id: 7, method: 'session/request_permission', params: {} }))).toBeUndefined();
    expect(t.fromAgent(line({ jsonrpc: '2.0', id: '7', result: {} }))).toBeUndefined();
    expect(t.fromAgent(line({ jsonrpc: '2.0', id: 7, error: { code: -32603, message: 'boom' } }))).toBe('idle');
    expect(t.fromAgent(answer(7))).toBeUndefined();
  });

  test('other requests to the agent do not make it busy; clear() ends every turn', () => {
    const t = new TurnTracker();
    expect(t.toAgent(line({ jsonrpc: '2.0', id: 1, method: 'session/load', params: {} }))).toBeUndefined();
    expect(t.toAgent(line({ jsonrpc: '2.0', method: 'session/cancel', params: { sessionId: 's' } }))).toBeUndefined();
    expect(t.busy).toBe(false);
    t.toAgent(prompt(2));
    expect(t.clear()).toBe(true);
    expect(t.busy).toBe(false);
    expect(t.clear()).toBe(false);
  });
});

describe('reading the envelope', () => {
  test('a large prompt is recognized from its first bytes; a prompt whose text names the method is not mistaken for one', () => {
    expect(promptId(prompt(3, 'x'.repeat(5_000_000)))).toBe('number:3');
    expect(promptId(line({ jsonrpc: '2.0', method: 'session/update', params: { text: '"method":"session/prompt"' } }))).toBeUndefined();
    expect(promptId(line({ jsonrpc: '2.0', id: 4, method: '_x', params: { t: 'session/prompt' } }))).toBeUndefined();
  });

  test('a prompt with its id or method after a large params object is still found', () => {
    const late = Buffer.from(`{"jsonrpc":"2.0","params":{"sessionId":"s","prompt":[{"type":"text","text":"${'y'.repeat(10_000)}"}]},"method":"session/prompt","id":"late"}`);
    expect(promptId(late)).toBe('string:late');
    const idLate = Buffer.from(`{"method":"session/prompt","params":{"t":"${'z'.repeat(10_000)}"},"id":9}`);
    expect(promptId(idLate)).toBe('number:9');
  });

  test('answers are responses only, and not read at or above the size bound', () => {
    expect(answerId(answer(5))).toBe('number:5');
    // What a turn streams names its method first: skipped without a parse.
    expect(answerId(line({ jsonrpc: '2.0', method: 'session/update', params: { sessionId: 's', update: { id: 5, result: 1 } } }))).toBeUndefined();
    // A method named inside an answer's result does not hide the answer.
    expect(answerId(line({ jsonrpc: '2.0', id: 6, result: { stopReason: 'end_turn', _meta: { method: 'x' } } }))).toBe('number:6');
    expect(answerId(Buffer.from('not json'))).toBeUndefined();
    expect(answerId(line({ jsonrpc: '2.0', id: 5, result: { text: 'a'.repeat(MAX_ANSWER_BYTES) } }))).toBeUndefined();
  });
});
