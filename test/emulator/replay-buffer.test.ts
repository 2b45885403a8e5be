import { ReplayBuffer } from '../support/emulator/replay-buffer';

const b = (s: string): Buffer => Buffer.from(s, 'utf8');

describe('ReplayBuffer', () => {
  it('keeps only the last `capacity` bytes across wrap-around', () => {
    const ring = new ReplayBuffer(8);
    ring.append(b('abcde'));
    ring.append(b('fghij'));
    expect(ring.contents().toString()).toBe('cdefghij');
    ring.append(b('kl'));
    expect(ring.contents().toString()).toBe('efghijkl');
    expect(ring.size).toBe(8);
    expect(ring.totalBytes).toBe(12);
  });

  it('keeps the tail of a chunk larger than the ring', () => {
    const ring = new ReplayBuffer(4);
    ring.append(b('xy'));
    ring.append(b('0123456789'));
    expect(ring.contents().toString()).toBe('6789');
    ring.append(b('a'));
    expect(ring.contents().toString()).toBe('789a');
  });

  it("replays the whole ring in 'tail' mode, even what the client already saw", () => {
    const ring = new ReplayBuffer(64);
    ring.markAttached('tail');
    ring.append(b('seen '));
    ring.markDetached();
    ring.append(b('missed'));
    expect(ring.markAttached('tail')).toEqual({ replay: b('seen missed'), bytesDropped: 0 });
  });

  it("replays only output made while detached in 'since-detach' mode", () => {
    const ring = new ReplayBuffer(64);
    ring.markAttached('since-detach');
    ring.append(b('seen '));
    ring.markDetached();
    ring.append(b('missed'));
    const { replay, bytesDropped } = ring.markAttached('since-detach');
    expect(replay.toString()).toBe('missed');
    expect(bytesDropped).toBe(0);
    // Attached again: nothing is pending for a later reattach until the next detach.
    expect(ring.bytesSinceDetach).toBe(0);
  });

  it('reports bytesDropped for output of this disconnect that no longer fits', () => {
    const ring = new ReplayBuffer(10);
    ring.markAttached('tail');
    ring.append(b('old'));
    ring.markDetached();
    ring.append(b('0123456789ABCD')); // 14 bytes while detached, ring holds 10
    expect(ring.bytesSinceDetach).toBe(14);
    const tail = ring.markAttached('tail');
    expect(tail.replay.toString()).toBe('456789ABCD');
    expect(tail.bytesDropped).toBe(4);
    // The next disconnect counts afresh.
    ring.markDetached();
    ring.append(b('z'));
    expect(ring.markAttached('since-detach')).toEqual({ replay: b('z'), bytesDropped: 0 });
  });

  it('keeps the first detach mark when marked twice and returns an empty replay when nothing happened', () => {
    const ring = new ReplayBuffer(16);
    ring.markDetached();
    ring.append(b('ab'));
    ring.markDetached();
    ring.append(b('cd'));
    expect(ring.markAttached('since-detach').replay.toString()).toBe('abcd');
    ring.markDetached();
    expect(ring.markAttached('since-detach').replay.length).toBe(0);
  });

  it('rejects a non-positive capacity', () => {
    expect(() => new ReplayBuffer(0)).toThrow(RangeError);
  });
});
