import { ReplayAligner } from '../../bridge/src/shell/replay-aligner';

/** A stream of distinct JSON-RPC-like lines, like an agent's output. */
function stream(from: number, to: number): Buffer {
  let s = '';
  for (let i = from; i < to; i++) s += `{"jsonrpc":"2.0","method":"session/update","params":{"n":${i},"text":"chunk ${i} é"}}\n`;
  return Buffer.from(s);
}

/** Feeds `replay` in pieces of `piece` bytes and collects what is emitted (settling at the end). */
function feed(a: ReplayAligner, replay: Buffer, piece: number): Buffer {
  const out: Buffer[] = [];
  for (let i = 0; i < replay.length; i += piece) out.push(a.push(replay.subarray(i, i + piece)).emit);
  out.push(a.settle().emit);
  return Buffer.concat(out);
}

describe('ReplayAligner', () => {
  const seen = stream(0, 2000);
  const gap = stream(2000, 2300);
  const all = Buffer.concat([seen, gap]);

  test.each([13, 4096, 1 << 20])('a replay of the buffer tail yields exactly the gap (pieces of %i bytes)', (piece) => {
    const a = new ReplayAligner();
    a.push(seen);
    a.begin();
    const replay = all.subarray(all.length - 100_000);
    expect(feed(a, replay, piece).equals(gap)).toBe(true);
  });

  test('a replay that starts before anything this client saw (the shell\'s first prompt) still aligns', () => {
    const a = new ReplayAligner();
    const prompt = Buffer.from('\u001b[?2004hbash-5.2# ');
    a.push(seen);
    a.begin();
    expect(feed(a, Buffer.concat([prompt, all]), 1000).equals(gap)).toBe(true);
  });

  test('a replay that resumes exactly where the client left off is delivered whole', () => {
    const a = new ReplayAligner();
    a.push(seen);
    a.begin();
    expect(feed(a, gap, 333).equals(gap)).toBe(true);
  });

  test('a replay with nothing new delivers nothing', () => {
    const a = new ReplayAligner();
    a.push(seen);
    a.begin();
    expect(feed(a, seen.subarray(seen.length - 50_000), 999).length).toBe(0);
  });

  test('a cut in the middle of a line and of a UTF-8 character still aligns byte-exactly', () => {
    const a = new ReplayAligner();
    const cut = seen.indexOf('é', 5000) + 1; // between the two bytes of é
    a.push(seen.subarray(0, cut));
    a.begin();
    const out = feed(a, all.subarray(1000), 500);
    expect(Buffer.concat([seen.subarray(0, cut), out]).equals(all)).toBe(true);
  });

  test('after the replay, output passes through untouched and becomes history for the next reattach', () => {
    const a = new ReplayAligner();
    a.push(seen);
    a.begin();
    feed(a, all.subarray(all.length - 60_000), 4096);
    const more = stream(2300, 2400);
    expect(a.push(more).emit.equals(more)).toBe(true);
    a.begin();
    const third = stream(2400, 2410);
    expect(feed(a, Buffer.concat([all.subarray(all.length - 10_000), more, third]), 100).equals(third)).toBe(true);
  });

  test('with no history (a new process) everything is delivered', () => {
    const a = new ReplayAligner();
    a.begin();
    expect(a.isAligning).toBe(false);
    expect(a.push(gap).emit.equals(gap)).toBe(true);
  });

  test('waits while the replay is still inside old output', () => {
    const a = new ReplayAligner();
    a.push(seen);
    a.begin();
    expect(a.push(seen.subarray(1000, 20_000)).emit.length).toBe(0);
    expect(a.isAligning).toBe(true);
  });
});
