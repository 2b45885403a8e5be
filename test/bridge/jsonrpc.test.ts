import { depthExceeds, jsonStringReplacer, parseLine } from '../../bridge/src/jsonrpc';

const replaceJsonString = (line: Buffer, from: string, to: string) => Buffer.concat(jsonStringReplacer(from, to)(line));

const parse = (s: string | Buffer) => parseLine(Buffer.isBuffer(s) ? s : Buffer.from(s));

describe('parseLine', () => {
  test('classifies requests, notifications and responses', () => {
    expect(parse('{"jsonrpc":"2.0","id":1,"method":"session/prompt","params":{}}')).toMatchObject({ ok: true, message: { kind: 'request', id: 1 } });
    expect(parse('{"jsonrpc":"2.0","id":"a","method":"m"}')).toMatchObject({ ok: true, message: { kind: 'request', id: 'a' } });
    expect(parse('{"jsonrpc":"2.0","method":"session/cancel","params":{"sessionId":"s"}}')).toMatchObject({ ok: true, message: { kind: 'notification' } });
    expect(parse('{"jsonrpc":"2.0","id":3,"result":null}')).toMatchObject({ ok: true, message: { kind: 'response', id: 3 } });
    expect(parse('{"jsonrpc":"2.0","id":null,"error":{"code":-1,"message":"x"}}')).toMatchObject({ ok: true, message: { kind: 'response', id: null } });
  });

  test.each([
    ['not json', -32700, 'Parse error'],
    ['{"jsonrpc":"2.0","id":1,', -32700, 'Parse error'],
    ['[]', -32600, 'an array'],
    ['42', -32600, 'a number'],
    ['"text"', -32600, 'a string'],
    ['null', -32600, 'a null'],
    ['{"id":1,"method":"m"}', -32600, '"jsonrpc" must be "2.0"'],
    ['{"jsonrpc":"1.0","id":1,"method":"m"}', -32600, '"jsonrpc" must be "2.0"'],
    ['{"jsonrpc":"2.0","id":{},"method":"m"}', -32600, '"id" must be'],
    ['{"jsonrpc":"2.0","id":[1],"method":"m"}', -32600, '"id" must be'],
    ['{"jsonrpc":"2.0","id":true,"method":"m"}', -32600, '"id" must be'],
    ['{"jsonrpc":"2.0","id":1,"method":5}', -32600, '"method" must be'],
    ['{"jsonrpc":"2.0","id":1,"method":"m","params":3}', -32600, '"params" must be'],
    ['{"jsonrpc":"2.0","id":1,"result":1,"error":{}}', -32600, 'either "result" or "error"'],
    ['{"jsonrpc":"2.0","id":1}', -32600, 'neither a request'],
    ['{"jsonrpc":"2.0","id":null,"method":"m"}', -32600, 'must not be null'],
  ])('%s → %i', (line, code, message) => {
    const r = parse(line);
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.code).toBe(code);
      expect(r.message).toContain(message);
    }
  });

  test.each([
    ['{"prompt":"my password is hunter2" oops}', 'not valid JSON (at character'],
    ['my password is hunter2', 'not valid JSON'],
    ['{"prompt":"my password is hunter2', 'not valid JSON'],
  ])('a parse error says what is wrong without quoting the line: %s', (line, message) => {
    const r = parse(line);
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.message).toContain(message);
      expect(r.message).not.toContain('hunter2');
      expect(r.message).not.toContain('password');
    }
  });

  test('invalid UTF-8 is a parse error', () => {
    const r = parse(Buffer.from([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x7d]));
    expect(r).toMatchObject({ ok: false, code: -32700 });
  });

  test('deep nesting is refused, without exhausting the stack', () => {
    const deep = `{"jsonrpc":"2.0","id":1,"method":"m","params":{"a":${'['.repeat(100_000)}${']'.repeat(100_000)}}}`;
    expect(parse(deep)).toMatchObject({ ok: false, code: -32700 });
    expect(depthExceeds(JSON.parse('{"s":"[[[[[[[[[[[[[[[["}'), 3)).toBe(false);
    expect(depthExceeds(JSON.parse('[[[[]]]]'), 3)).toBe(true);
    expect(depthExceeds(JSON.parse('{"a":[{"b":1}],"c":{"d":[1,2]}}'), 3)).toBe(false);
  });

  test('the id of an invalid request is echoed when it is usable', () => {
    expect(parse('{"jsonrpc":"1.0","id":7,"method":"m"}')).toMatchObject({ ok: false, id: 7 });
  });
});

describe('jsonStringReplacer', () => {
  test('replaces the quoted id everywhere and leaves every other byte alone', () => {
    const line = Buffer.from('{"params":{"sessionId":"C1","text":"C1 \\"C1\\" é"},"x":["C1"]}');
    const out = replaceJsonString(line, 'C1', 'agent-9').toString();
    expect(out).toBe('{"params":{"sessionId":"agent-9","text":"C1 \\"C1\\" é"},"x":["agent-9"]}\n');
  });

  test('ends the line with exactly one newline, and copies none of it: the pieces are the line\'s own bytes', () => {
    const line = Buffer.from('{"a":"zz"}');
    for (const input of [line, Buffer.concat([line, Buffer.from('\n')])]) {
      const out = replaceJsonString(input, 'zz', 'y');
      expect(out.toString()).toBe('{"a":"y"}\n');
      expect(replaceJsonString(input, 'none', 'y').toString()).toBe('{"a":"zz"}\n');
    }
    const pieces = jsonStringReplacer('none', 'y')(line);
    line[0] = 0x20;
    expect(pieces[0][0]).toBe(0x20);
    expect(pieces[0].buffer).toBe(line.buffer);
  });
});
