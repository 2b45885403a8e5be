import { scanJsonObject } from '../../bridge/src/json-scan';
import { ENVELOPE_ONLY_FROM, parseLine } from '../../bridge/src/jsonrpc';

const scan = (s: string, depth = 512) => scanJsonObject(Buffer.from(s), depth);

/** Whether JSON.parse accepts the text as an object. */
function parsesAsObject(s: string): boolean {
  try {
    const v = JSON.parse(s);
    return v !== null && typeof v === 'object' && !Array.isArray(v);
  } catch {
    return false;
  }
}

/** A deterministic generator of JSON-ish texts: valid ones, then mutated. */
function rng(seed: number): () => number {
  let x = seed;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 2 ** 32;
  };
}

function randomValue(r: () => number, depth: number): unknown {
  const k = Math.floor(r() * (depth > 4 ? 5 : 7));
  switch (k) {
    case 0:
      return Math.floor(r() * 1e6) * (r() < 0.5 ? -1 : 1) / (r() < 0.5 ? 1 : 1000);
    case 1:
      return ['', 'a', 'é€😀', 'quote " back \\ slash / tab \t nl \n', '\u0000\u001f', 'x'.repeat(50)][Math.floor(r() * 6)];
    case 2:
      return r() < 0.5;
    case 3:
      return null;
    case 4:
      return r() * 1e21;
    case 5:
      return Array.from({ length: Math.floor(r() * 4) }, () => randomValue(r, depth + 1));
    default:
      return Object.fromEntries(Array.from({ length: Math.floor(r() * 4) }, (_, i) => [`k${i}${r() < 0.2 ? 'é' : ''}`, randomValue(r, depth + 1)]));
  }
}

const MUTATIONS = ['', ',', ':', '"', '\\', '{', '}', '[', ']', '\u0001', 'e', '-', '.', '0', 'tru', 'nul', ' ', '\\u12', '01'];

describe('scanJsonObject', () => {
  test('agrees with JSON.parse on 4,000 generated texts, valid and mutated', () => {
    const r = rng(7);
    let invalid = 0;
    for (let n = 0; n < 2000; n++) {
      const obj = { jsonrpc: '2.0', id: n, method: 'm', params: randomValue(r, 0) };
      const text = JSON.stringify(obj, null, r() < 0.3 ? 1 : undefined);
      expect(scan(text) !== undefined).toBe(true);
      // One random edit: insert, delete or replace at a random place.
      const at = Math.floor(r() * text.length);
      const m = MUTATIONS[Math.floor(r() * MUTATIONS.length)];
      const mutated = r() < 0.5 ? text.slice(0, at) + m + text.slice(at) : text.slice(0, at) + m + text.slice(at + 1 + Math.floor(r() * 3));
      const expected = parsesAsObject(mutated);
      if (!expected) invalid++;
      expect([mutated, scan(mutated) !== undefined]).toEqual([mutated, expected]);
    }
    // The mutations must mostly break the text, or the agreement above would prove little.
    expect(invalid).toBeGreaterThan(1000);
  });

  test.each([
    ['{}', true],
    [' \t\r\n{ "a" : [ 1 , -0.5e+3 , true , false , null , "x" , { } , [ ] ] } \n', true],
    ['{"a":"\\u00e9\\ud83d\\ude00\\/\\b\\f\\n\\r\\t\\"\\\\"}', true],
    ['{"a":1,}', false],
    ['{"a" 1}', false],
    ['{a:1}', false],
    ['{"a":01}', false],
    ['{"a":1.}', false],
    ['{"a":.5}', false],
    ['{"a":1e}', false],
    ['{"a":+1}', false],
    ['{"a":"\\x"}', false],
    ['{"a":"\\u12g4"}', false],
    ['{"a":"tab\there"}', false],
    ['{"a":[1,]}', false],
    ['{"a":[1 2]}', false],
    ['{"a":1} x', false],
    ['{"a":1}{}', false],
    ['{"a":"unterminated}', false],
    ['{"a":tru}', false],
    ['[]', false],
    ['"text"', false],
    ['\ufeff{}', false],
    ['', false],
  ])('%s → %s', (text, ok) => {
    expect(scan(text) !== undefined).toBe(ok);
    expect(parsesAsObject(text)).toBe(ok);
  });

  test('a quote, backslash or control byte is found at every position and alignment', () => {
    // The string scan reads four bytes at a time from 4-byte-aligned addresses.
    for (let offset = 0; offset < 4; offset++) {
      for (let at = 0; at < 24; at++) {
        for (const special of ['"', '\\', '\u0001', '\t', '\\n', 'é']) {
          const text = `{"a":"${'x'.repeat(at)}${special}${'y'.repeat(23 - at)}"}`;
          const bytes = Buffer.from(text);
          const placed = Buffer.alloc(bytes.length + offset).subarray(offset);
          bytes.copy(placed);
          expect([text, offset, scanJsonObject(placed, 512) !== undefined]).toEqual([text, offset, parsesAsObject(text)]);
        }
      }
    }
  });

  test('finds the top-level members and those of params, the last duplicate winning', () => {
    const text = '{"id":"first","jsonrpc":"2.0","params":{"prompt":[{"text":"{\\"sessionId\\":1}"}],"sessionId":"s-1","x":{"sessionId":2}},"id":7,"method":"session/prompt"}';
    const s = scan(text)!;
    const slice = (m?: { start: number; end: number }) => (m ? text.slice(m.start, m.end) : undefined);
    expect(slice(s.members.get('id'))).toBe('7');
    expect(s.members.get('id')!.type).toBe('number');
    expect(slice(s.members.get('method'))).toBe('"session/prompt"');
    expect(s.members.get('params')!.type).toBe('object');
    expect(JSON.parse(slice(s.members.get('params'))!)).toEqual(JSON.parse(text).params);
    expect(slice(s.params.get('sessionId'))).toBe('"s-1"');
    expect([...s.params.keys()]).toEqual(['prompt', 'sessionId', 'x']);
  });

  test('a member name written with escapes is the name JSON.parse sees', () => {
    const s = scan('{"\\u006dethod":"m","par\\u0061ms":{"session\\u0049d":"s"}}')!;
    expect(s.members.has('method')).toBe(true);
    expect(s.params.has('sessionId')).toBe(true);
  });

  test('a later params that is not an object leaves no sessionId behind', () => {
    const s = scan('{"params":{"sessionId":"s"},"params":null}')!;
    expect(s.members.get('params')!.type).toBe('null');
    expect(s.params.size).toBe(0);
  });

  test('nesting deeper than the limit is refused', () => {
    expect(scan(`{"a":${'['.repeat(9)}${']'.repeat(9)}}`, 10)).toBeDefined();
    expect(scan(`{"a":${'['.repeat(10)}${']'.repeat(10)}}`, 10)).toBeUndefined();
    expect(scan(`{"a":${'['.repeat(100_000)}${']'.repeat(100_000)}}`)).toBeUndefined();
  });
});

describe('parseLine on large lines reads only the envelope, and answers as on small ones', () => {
  const pad = 'p'.repeat(ENVELOPE_ONLY_FROM);
  /** The same message made large by a padding member (first or last). */
  const large = (line: string, first: boolean) =>
    first ? line.replace(/^\s*\{/, `{"pad":"${pad}",`) : line.replace(/\}\s*$/, `,"pad":"${pad}"}`);

  test.each([
    '{"jsonrpc":"2.0","id":1,"method":"session/prompt","params":{"sessionId":"s","prompt":[]}}',
    '{"jsonrpc":"2.0","method":"session/update","params":{"update":{},"sessionId":"s"}}',
    '{"jsonrpc":"2.0","id":"x","result":{"stopReason":"end_turn"}}',
    '{"jsonrpc":"2.0","id":null,"error":{"code":-32700,"message":"bad"}}',
    '{"jsonrpc":"2.0","id":1,"method":"m","params":[1,2]}',
    '{"id":1,"method":"m"}',
    '{"jsonrpc":"1.0","id":1,"method":"m"}',
    '{"jsonrpc":"2.0","id":{},"method":"m"}',
    '{"jsonrpc":"2.0","id":1,"method":5}',
    '{"jsonrpc":"2.0","id":1,"method":""}',
    '{"jsonrpc":"2.0","id":1,"method":"m","params":3}',
    '{"jsonrpc":"2.0","id":1,"method":"m","params":null}',
    '{"jsonrpc":"2.0","id":1,"result":1,"error":{}}',
    '{"jsonrpc":"2.0","result":1}',
    '{"jsonrpc":"2.0","id":1}',
    '{"jsonrpc":"2.0","id":null,"method":"m"}',
    '{"jsonrpc":"2.0","id":1,"method":"m","params":{"sessionId":"s"},"params":{"other":1}}',
    '{"jsonrpc":"2.0","id":1,"method":"m",}',
  ])('%s', (small) => {
    for (const first of [true, false]) {
      const big = large(small, first);
      const expected = parseLine(Buffer.from(small));
      const got = parseLine(Buffer.from(big));
      expect(got.ok).toBe(expected.ok);
      if (got.ok && expected.ok) {
        const { params: _p, ...envelope } = got.message as Record<string, unknown>;
        const { params: _q, ...expectedEnvelope } = expected.message as Record<string, unknown>;
        expect(envelope).toEqual(expectedEnvelope);
        // params, result and error are decoded when read, and are the real values.
        const full = JSON.parse(big);
        if ('params' in got.message) expect(got.message.params).toEqual(full.params);
        if (got.message.kind === 'response') {
          expect(got.message.result).toEqual(full.result);
          expect(got.message.error).toEqual(full.error);
        }
      } else if (!got.ok && !expected.ok) {
        expect({ code: got.code, id: got.id }).toEqual({ code: expected.code, id: expected.id });
        if (expected.code !== -32700) expect(got.message).toBe(expected.message);
      }
    }
  });

  test('a large invalid line still gets the parser’s own explanation', () => {
    const r = parseLine(Buffer.from(`{"jsonrpc":"2.0","method":"m","params":{"text":"${pad}"}`));
    expect(r).toMatchObject({ ok: false, code: -32700 });
    if (!r.ok) expect(r.message).toMatch(/^Parse error: .*JSON/);
  });
});
