import { ShellFrameSender } from '../../bridge/src/shell/shell-frame-sender';
import { ShellChannel, MAX_SHELL_FRAME_BYTES } from '../../bridge/src/shell/shell-frame';

/** A sink that records frames with the (fake) time they were sent. */
function recordingSink(now: () => number) {
  const frames: Array<{ at: number; frame: Buffer }> = [];
  return {
    frames,
    sink: {
      send: (frame: Buffer, done: () => void) => {
        frames.push({ at: now(), frame });
        setImmediate(done);
        return true;
      },
    },
  };
}

describe('ShellFrameSender', () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());
  const now = () => Date.now();

  test('a 5 MB message leaves in frames of at most 64 KiB, cut between characters, and reassembles exactly', async () => {
    const { frames, sink } = recordingSink(now);
    const s = new ShellFrameSender({ now, maxInFlightBytes: Number.MAX_SAFE_INTEGER });
    s.attach(sink);
    const message = Buffer.from(`${'aé€😀'.repeat(500_000)}\n`);
    s.write(message);
    await jest.advanceTimersByTimeAsync(2_000);
    expect(frames.every((f) => f.frame.length <= MAX_SHELL_FRAME_BYTES && f.frame[0] === ShellChannel.STDIN)).toBe(true);
    for (const f of frames) {
      const payload = f.frame.subarray(1);
      expect(Buffer.from(payload.toString('utf8')).equals(payload)).toBe(true);
    }
    expect(Buffer.concat(frames.map((f) => f.frame.subarray(1))).equals(message)).toBe(true);
  });

  test('a lone message leaves within the tick; writes in one tick share a frame', async () => {
    const { frames, sink } = recordingSink(now);
    const s = new ShellFrameSender({ now });
    s.attach(sink);
    s.write(Buffer.from('{"lone":1}\n'));
    await jest.advanceTimersByTimeAsync(1);
    expect(frames).toHaveLength(1);
    for (let i = 0; i < 100; i++) s.write(Buffer.from(`{"n":${i}}\n`));
    await jest.advanceTimersByTimeAsync(1);
    expect(frames).toHaveLength(2);
    expect(frames[1].frame.subarray(1).toString().split('\n').filter(Boolean)).toHaveLength(100);
  });

  test('a burst spread over many ticks never exceeds 220 frames in any second and arrives whole and in order', async () => {
    const { frames, sink } = recordingSink(now);
    const s = new ShellFrameSender({ now });
    s.attach(sink);
    for (let i = 0; i < 5000; i++) {
      s.write(Buffer.from(`{"n":${i}}\n`));
      await jest.advanceTimersByTimeAsync(0.2);
    }
    await jest.advanceTimersByTimeAsync(5_000);
    const all = Buffer.concat(frames.map((f) => f.frame.subarray(1))).toString().split('\n').filter(Boolean);
    expect(all).toEqual(Array.from({ length: 5000 }, (_, i) => `{"n":${i}}`));
    for (let i = 0, j = 0; i < frames.length; i++) {
      while (frames[i].at - frames[j].at >= 1000) j++;
      expect(i - j + 1).toBeLessThanOrEqual(220);
    }
    expect(frames.length).toBeLessThan(1000);
  });

  test('a burst held back by the frame limit is reported once, with its frames and wait', async () => {
    const { frames, sink } = recordingSink(now);
    const paced: Array<{ frames: number; bytes: number; waitedMs: number }> = [];
    const s = new ShellFrameSender({ now, framesPerSecond: 10, onPaced: (p) => paced.push(p) });
    s.attach(sink);
    s.write(Buffer.alloc(30 * 65_535, 0x61)); // 30 full frames: 10 now, the rest over the next two seconds
    await jest.advanceTimersByTimeAsync(3_000);
    expect(frames).toHaveLength(30);
    expect(paced).toHaveLength(1);
    expect(paced[0].frames).toBe(20);
    expect(paced[0].waitedMs).toBeGreaterThanOrEqual(1_000);
  });

  test('without a connection data waits, in order, and flows when one is attached', async () => {
    const { frames, sink } = recordingSink(now);
    const s = new ShellFrameSender({ now });
    s.write(Buffer.from('first\n'));
    s.write(Buffer.from('second\n'));
    expect(s.pendingBytes).toBe(13);
    s.attach(sink);
    await jest.advanceTimersByTimeAsync(10);
    expect(Buffer.concat(frames.map((f) => f.frame.subarray(1))).toString()).toBe('first\nsecond\n');
  });

  test('control frames go before queued data', async () => {
    const { frames, sink } = recordingSink(now);
    const s = new ShellFrameSender({ now, framesPerSecond: 1 });
    s.attach(sink);
    s.write(Buffer.from('a\n'));
    await jest.advanceTimersByTimeAsync(1); // takes the only slot of this second
    s.write(Buffer.from('b\n'));
    s.sendControl(ShellChannel.HEARTBEAT);
    await jest.advanceTimersByTimeAsync(2_500);
    expect(frames.map((f) => f.frame[0])).toEqual([ShellChannel.STDIN, ShellChannel.HEARTBEAT, ShellChannel.STDIN]);
  });

  test('after a lost connection, a line cut by it is sent again whole behind a newline, and lines sent whole are not', async () => {
    const { frames, sink } = recordingSink(now);
    // Frames of 8 bytes; the connection takes two, then is gone: "done\n" went whole, the long line was cut.
    const t = new ShellFrameSender({ now, maxPayloadBytes: 8 });
    let accepted = 0;
    const handed: string[] = [];
    t.attach({ send: (frame, done) => (accepted++ < 2 ? (handed.push(frame.subarray(1).toString()), setImmediate(done), true) : false) });
    t.write(Buffer.from('done\n'));
    t.write(Buffer.from('{"long":"line"}\n'));
    t.write(Buffer.from('next\n'));
    await jest.advanceTimersByTimeAsync(1);
    expect(handed).toEqual(['done\n{"l', 'ong":"li']);
    // Reattached: whatever the shell holds of the cut line is ended, and the line goes again, whole.
    t.attach(undefined);
    expect(t.restartCutLine()).toBe('{"long":"li'.length);
    t.attach(sink);
    await jest.advanceTimersByTimeAsync(10);
    expect(Buffer.concat(frames.map((f) => f.frame.subarray(1))).toString()).toBe('\n{"long":"line"}\nnext\n');
  });

  test('with no line cut, a reattach only ends any partial line the shell may hold', async () => {
    const { frames, sink } = recordingSink(now);
    const s = new ShellFrameSender({ now });
    s.attach(sink);
    s.write(Buffer.from('whole\n'));
    await jest.advanceTimersByTimeAsync(1);
    s.attach(undefined);
    expect(s.restartCutLine()).toBe(0);
    s.write(Buffer.from('after\n'));
    s.attach(sink);
    await jest.advanceTimersByTimeAsync(10);
    expect(Buffer.concat(frames.map((f) => f.frame.subarray(1))).toString()).toBe('whole\n\nafter\n');
  });
});

describe('ShellFrameSender flow control', () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  test('onceBelow fires once the queue falls below the mark, not before, and at once when it already is', async () => {
    const frames: Buffer[] = [];
    const s = new ShellFrameSender({ now: () => Date.now(), maxInFlightBytes: Number.MAX_SAFE_INTEGER });
    const fired: string[] = [];
    s.onceBelow(1, () => fired.push('empty-at-once'));
    expect(fired).toEqual(['empty-at-once']);
    s.write(Buffer.alloc(1_000_000, 0x61));
    s.onceBelow(100_000, () => fired.push('below-100k'));
    await jest.advanceTimersByTimeAsync(5);
    expect(fired).toEqual(['empty-at-once']);
    s.attach({ send: (f: Buffer, done: () => void) => (frames.push(f), setImmediate(done), true) });
    await jest.advanceTimersByTimeAsync(1_000);
    expect(fired).toEqual(['empty-at-once', 'below-100k']);
    expect(s.pendingBytes).toBe(0);
  });

  test('clear() releases every waiter: a queue that is dropped holds no one back', () => {
    const s = new ShellFrameSender();
    let released = false;
    s.write(Buffer.alloc(10_000, 0x61));
    s.onceBelow(1, () => (released = true));
    expect(released).toBe(false);
    s.clear();
    expect(released).toBe(true);
  });
});
