import { utf8CutPoint } from '../../bridge/src/shell/utf8';

/** Cuts `buf` as the frame sender does: pieces of at most `max` bytes at utf8CutPoint. */
function splitUtf8(buf: Buffer, max: number): Buffer[] {
  const out: Buffer[] = [];
  for (let offset = 0; offset < buf.length; ) {
    const cut = utf8CutPoint(buf.subarray(offset), max);
    out.push(buf.subarray(offset, offset + cut));
    offset += cut;
  }
  return out;
}

describe('UTF-8 cutting', () => {
  const text = 'aé€😀'.repeat(1000);
  const bytes = Buffer.from(text);

  test.each([4, 5, 7, 64, 1000, 65535])('pieces of at most %i bytes reassemble exactly and each decodes on its own', (max) => {
    const pieces = splitUtf8(bytes, max);
    expect(Buffer.concat(pieces).equals(bytes)).toBe(true);
    for (const p of pieces) {
      expect(p.length).toBeLessThanOrEqual(max);
      expect(p.length).toBeGreaterThan(0);
      expect(Buffer.from(p.toString('utf8')).equals(p)).toBe(true);
    }
  });

  test('never cuts inside a four-byte character', () => {
    const emoji = Buffer.from('😀😀');
    expect(utf8CutPoint(emoji, 5)).toBe(4);
    expect(utf8CutPoint(emoji, 6)).toBe(4);
    expect(utf8CutPoint(emoji, 4)).toBe(4);
  });

  test('invalid UTF-8 still makes progress', () => {
    const junk = Buffer.alloc(100, 0x80);
    const pieces = splitUtf8(junk, 10);
    expect(Buffer.concat(pieces).equals(junk)).toBe(true);
    expect(pieces.every((p) => p.length === 10)).toBe(true);
  });
});
