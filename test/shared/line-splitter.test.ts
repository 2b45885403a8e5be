import { LineSplitter, OVERFLOW_HEAD_BYTES } from '../../shared/line-splitter';

const lines = (results: ReturnType<LineSplitter['push']>) =>
  results.map((r) => (r.kind === 'line' ? r.line.toString('utf8') : `<overflow ${r.bytes}>`));

describe('LineSplitter', () => {
  test('splits at newlines and keeps lines byte-exact across arbitrary chunk edges', () => {
    const input = Buffer.from('{"a":"é€"}\n{"b":"😀"}\n{"c":1}\n');
    for (let cut = 1; cut < input.length; cut++) {
      const s = new LineSplitter(1024);
      const out = [...lines(s.push(input.subarray(0, cut))), ...lines(s.push(input.subarray(cut)))];
      expect(out).toEqual(['{"a":"é€"}', '{"b":"😀"}', '{"c":1}']);
    }
  });

  test('strips the carriage return a terminal adds, and nothing else', () => {
    const s = new LineSplitter(100);
    expect(lines(s.push(Buffer.from('{"x":1}\r\n {"y":2} \n')))).toEqual(['{"x":1}', ' {"y":2} ']);
  });

  test('holds an unfinished line until its newline arrives', () => {
    const s = new LineSplitter(100);
    expect(s.push(Buffer.from('{"partial":'))).toEqual([]);
    expect(s.pending).toBe(11);
    expect(lines(s.push(Buffer.from('true}\n')))).toEqual(['{"partial":true}']);
  });

  test('an over-long line is skipped to its newline, reported once, and the next line is intact', () => {
    const s = new LineSplitter(10);
    const out = [
      ...lines(s.push(Buffer.from('0123456789'))),
      ...lines(s.push(Buffer.from('ABCDEF'))),
      ...lines(s.push(Buffer.from('GH\nok\n'))),
    ];
    expect(out).toEqual(['<overflow 18>', 'ok']);
    expect(s.pending).toBe(0);
  });

  test('an unfinished line is copied, not kept by reference to the chunks it came in', () => {
    const s = new LineSplitter(1024);
    const first = Buffer.from('{"a":');
    expect(s.push(first)).toEqual([]);
    first.fill(0x78); // the stream reuses its read buffer
    expect(lines(s.push(Buffer.from('1}\n')))).toEqual(['{"a":1}']);
  });

  test('a line of many megabytes arriving in 64 KiB reads comes out byte-exact, and the next one too', () => {
    const s = new LineSplitter(8 * 1024 * 1024);
    const big = Buffer.alloc(5 * 1024 * 1024 + 123);
    for (let i = 0; i < big.length; i++) big[i] = 0x30 + (i % 43);
    const input = Buffer.concat([big, Buffer.from('\n{"next":1}\n')]);
    const out: Buffer[] = [];
    for (let at = 0; at < input.length; at += 65536) {
      const chunk = Buffer.from(input.subarray(at, at + 65536));
      for (const r of s.push(chunk)) if (r.kind === 'line') out.push(r.line);
      chunk.fill(0); // reused by the next read
    }
    expect(out).toHaveLength(2);
    expect(out[0].equals(big)).toBe(true);
    expect(out[1].toString()).toBe('{"next":1}');
    expect(s.pending).toBe(0);
  });

  test('the limit counts a line cut across chunks as a whole', () => {
    const s = new LineSplitter(10);
    expect(s.push(Buffer.from('01234'))).toEqual([]);
    expect(lines(s.push(Buffer.from('56789\n')))).toEqual(['0123456789']);
    expect(s.push(Buffer.from('01234'))).toEqual([]);
    expect(lines(s.push(Buffer.from('567890\nok\n')))).toEqual(['<overflow 11>', 'ok']);
  });

  test('an over-long line is reported with its first bytes, however it arrived', () => {
    const message = Buffer.from(`{"jsonrpc":"2.0","id":7,"method":"session/prompt","params":{"text":"${'x'.repeat(5000)}"}}`);
    for (const cut of [0, 10, 2000]) {
      const s = new LineSplitter(3000);
      const out = cut > 0 ? s.push(message.subarray(0, cut)) : [];
      out.push(...s.push(Buffer.concat([message.subarray(cut), Buffer.from('\n')])));
      expect(out).toHaveLength(1);
      const r = out[0];
      if (r.kind !== 'overflow') throw new Error('expected an overflow');
      expect(r.bytes).toBe(message.length);
      expect(r.head.equals(message.subarray(0, OVERFLOW_HEAD_BYTES))).toBe(true);
    }
  });

  test('reset drops the unfinished line and says how much', () => {
    const s = new LineSplitter(100);
    s.push(Buffer.from('{"cut off'));
    expect(s.reset()).toBe(9);
    expect(lines(s.push(Buffer.from('{"next":1}\n')))).toEqual(['{"next":1}']);
  });
});
