import { leadingTerminalControlBytes, messageAfterTerminalControls } from '../../bridge/src/agent/terminal-controls';

const MESSAGE = '{"jsonrpc":"2.0","id":"openab-bridge:2","result":{"protocolVersion":1}}';

function after(prefix: string, rest = MESSAGE): string | undefined {
  return messageAfterTerminalControls(Buffer.from(prefix + rest))?.toString('utf8');
}

describe('messageAfterTerminalControls', () => {
  test.each([
    ['gemini-cli\'s queries', '\x1b[8m\x1b[?u\x1b[c'],
    ['a CSI with intermediates', '\x1b[0 q'],
    ['an OSC ended by BEL', '\x1b]0;agent\x07'],
    ['an OSC ended by ST', '\x1b]11;?\x1b\\'],
    ['a DCS, an APC, a PM and an SOS', '\x1bP+q544e\x1b\\\x1b_Gi=1\x1b\\\x1b^pm\x1b\\\x1bXsos\x1b\\'],
    ['two-byte escapes', '\x1b=\x1b>\x1b7\x1b(B'],
    ['stray control characters', '\r\x00\x08\x7f'],
    ['spaces between sequences', '\x1b[8m \x1b[?u  \x1b[c '],
    ['everything at once', '\x1b[?2004l\r\x1b]0;t\x07 \x1b(B\x1b[38;2;1;2;3m'],
  ])('finds the message behind %s', (_what, prefix) => {
    expect(after(prefix)).toBe(MESSAGE);
  });

  test('a line with no controls in front is left as it is', () => {
    expect(after('')).toBeUndefined();
    expect(leadingTerminalControlBytes(Buffer.from(MESSAGE))).toBe(0);
  });

  test.each([
    ['text', '\x1b[1;31mANSI noise\x1b[0m'],
    ['an array', '\x1b[c[1,2,3]'],
    ['nothing', '\x1b[8m\x1b[?u'],
    ['text before the message', '\x1b[c hello {"jsonrpc":"2.0"}'],
  ])('controls followed by %s are noise', (_what, line) => {
    expect(after(line, '')).toBeUndefined();
  });

  test.each([
    ['a CSI cut off by a byte outside its ranges', '\x1b[12\x01'],
    ['an OSC with no end', '\x1b]0;title '],
    ['an OSC cut by an ESC that is not ST', '\x1b]0;title\x1b['],
    ['an ESC before a multi-byte character', '\x1b\u00e9'],
  ])('%s ends the run there, so the message behind it is noise', (_what, prefix) => {
    expect(after(prefix)).toBeUndefined();
  });

  test('an ESC right before the message takes its brace as the final byte of an escape, so the message is noise', () => {
    expect(leadingTerminalControlBytes(Buffer.from(`\x1b${MESSAGE}`))).toBe(2);
    expect(after('\x1b')).toBeUndefined();
  });

  test('counts exactly the leading run, and reads nothing of a message behind it', () => {
    expect(leadingTerminalControlBytes(Buffer.from('\x1b[8m\x1b[?u\x1b[c{"a":"\x1b[c"}'))).toBe(11);
    expect(leadingTerminalControlBytes(Buffer.from('\x1b]0;t\x07\x1b[2J\x1b]8;;'))).toBe(10);
    expect(leadingTerminalControlBytes(Buffer.alloc(0))).toBe(0);
  });

  test('the message behind is the same bytes, not a copy', () => {
    const line = Buffer.from(`\x1b[c${MESSAGE}`);
    const message = messageAfterTerminalControls(line)!;
    expect(message.buffer).toBe(line.buffer);
    expect(message.byteOffset - line.byteOffset).toBe(3);
  });
});
