import { LineSplitter } from '../../shared/line-splitter';

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

  test('reset drops the unfinished line and says how much', () => {
    const s = new LineSplitter(100);
    s.push(Buffer.from('{"cut off'));
    expect(s.reset()).toBe(9);
    expect(lines(s.push(Buffer.from('{"next":1}\n')))).toEqual(['{"next":1}']);
  });
});
