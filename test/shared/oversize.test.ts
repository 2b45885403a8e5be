import { headEnvelope, refuseOversize } from '../../shared/oversize';

const head = (s: string) => headEnvelope(Buffer.from(s));

describe('headEnvelope', () => {
  test('reads id and method before the params, whatever follows', () => {
    expect(head('{"jsonrpc":"2.0","id":7,"method":"session/prompt","params":{"sessionId":"s","prompt":[{"type":"image","data":"iVBOR')).toEqual({ id: 7, method: 'session/prompt' });
    expect(head(' { "jsonrpc" : "2.0" , "id" : "a\\"b" , "result" : {"content": "…')).toEqual({ id: 'a"b' });
    expect(head('{"method":"session/update","params":{"update":')).toEqual({ method: 'session/update' });
  });

  test('never takes an id from inside params or from a value it cannot see the end of', () => {
    expect(head('{"jsonrpc":"2.0","method":"session/update","params":{"id":5,"x":"')).toEqual({ method: 'session/update' });
    expect(head('{"jsonrpc":"2.0","id":12')).toEqual({});
    expect(head('{"jsonrpc":"2.0","id":"abc')).toEqual({});
    expect(head('{"jsonrpc":"2.0","params":{},"id":3,"method":"m"')).toEqual({});
  });

  test('anything that is not the start of a JSON object yields nothing', () => {
    expect(head('')).toEqual({});
    expect(head('[{"id":1}]')).toEqual({});
    expect(head('@@OAB1|D|3|0|abcd|{"id":1')).toEqual({});
    expect(head('{"id":{"nested":1},"method":"x"}')).toEqual({});
  });
});

describe('refuseOversize', () => {
  const json = (b: Buffer | undefined) => (b ? (JSON.parse(b.toString()) as unknown) : undefined);

  test('a request is answered to its sender with the sizes and the option to raise', () => {
    const r = refuseOversize(Buffer.from('{"jsonrpc":"2.0","id":4,"method":"session/prompt","params":{"prompt":[{"type":"image","data":"AAAA'), 20_000_000, 16_777_216);
    expect(r.inPlace).toBeUndefined();
    expect(r.method).toBe('session/prompt');
    expect(json(r.toSender)).toEqual({
      jsonrpc: '2.0', id: 4,
      error: { code: -32600, message: 'Invalid Request: the message is 20000000 bytes, more than the 16777216 bytes the bridge accepts (--max-message-bytes)' },
    });
    expect(r.toSender!.toString().endsWith('}\n')).toBe(true);
  });

  test('an answer becomes an error in its place, for whoever waits for it', () => {
    const r = refuseOversize(Buffer.from('{"jsonrpc":"2.0","id":"x1","result":{"content":"AAAA'), 70_000, 65_536);
    expect(r.toSender).toBeUndefined();
    expect(json(r.inPlace)).toEqual({
      jsonrpc: '2.0', id: 'x1',
      error: { code: -32603, message: 'Internal error: the answer is 70000 bytes, more than the 65536 bytes the bridge accepts (--max-message-bytes)' },
    });
  });

  test('a notification, or a message whose id cannot be seen, is only dropped', () => {
    expect(refuseOversize(Buffer.from('{"jsonrpc":"2.0","method":"session/update","params":{"x":"'), 1e8, 65_536)).toEqual({ method: 'session/update' });
    expect(refuseOversize(Buffer.from('{"params":{"id":3},"id":3,"method":"m"'), 1e8, 65_536)).toEqual({});
  });
});
