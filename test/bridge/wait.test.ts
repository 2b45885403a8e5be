import { Deadline, Waiter, within } from '../../bridge/src/wait';

describe('Waiter', () => {
  test('the first settle wins', async () => {
    const w = new Waiter<string>();
    expect(w.settled).toBe(false);
    w.settle('first');
    w.settle('second');
    expect(w.settled).toBe(true);
    await expect(w.promise).resolves.toBe('first');
  });
});

describe('within', () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  test('resolves as the promise does and leaves no timer behind', async () => {
    const w = new Waiter<number>();
    const result = within(w.promise, 1_000, () => -1);
    w.settle(7);
    await expect(result).resolves.toBe(7);
    expect(jest.getTimerCount()).toBe(0);
  });

  test('after the time, resolves with what onTimeout returns', async () => {
    const result = within(new Waiter<number>().promise, 1_000, () => -1);
    await jest.advanceTimersByTimeAsync(999);
    let done = false;
    void result.then(() => (done = true));
    await Promise.resolve();
    expect(done).toBe(false);
    await jest.advanceTimersByTimeAsync(1);
    await expect(result).resolves.toBe(-1);
  });

  test('rejects with what onTimeout throws', async () => {
    const result = within(new Waiter<number>().promise, 10, () => {
      throw new Error('too slow');
    });
    const caught = result.catch((e: Error) => e.message);
    await jest.advanceTimersByTimeAsync(10);
    await expect(caught).resolves.toBe('too slow');
  });
});

describe('Deadline', () => {
  beforeEach(() => jest.useFakeTimers({ now: 0 }));
  afterEach(() => jest.useRealTimers());

  test('each step takes at most what is left, keeps a reserve for later steps, and gets its minimum', () => {
    const d = new Deadline(27_000);
    expect(d.step(20_000)).toBe(20_000);
    jest.setSystemTime(15_000);
    expect(d.remaining()).toBe(12_000);
    expect(d.step(20_000)).toBe(12_000);
    expect(d.step(15_000, 8_000, 1_000)).toBe(4_000);
    jest.setSystemTime(26_000);
    expect(d.step(15_000, 8_000, 1_000)).toBe(1_000);
    jest.setSystemTime(30_000);
    expect(d.remaining()).toBe(0);
    expect(d.step(20_000)).toBe(0);
  });
});
