import { SlidingWindowLimiter } from '../../bridge/src/shell/rate-limiter';
import { backoffDelay } from '../../bridge/src/shell/backoff';

/** The most sends found in any window of `windowMs` (inclusive of its start, exclusive of its end). */
function worstWindow(sent: number[], windowMs: number): number {
  let worst = 0;
  for (let i = 0, j = 0; i < sent.length; i++) {
    while (sent[i] - sent[j] >= windowMs) j++;
    worst = Math.max(worst, i - j + 1);
  }
  return worst;
}

describe('SlidingWindowLimiter', () => {
  test('never lets more than the limit through in any one-second window, and does not starve', () => {
    const limiter = new SlidingWindowLimiter(220);
    const sent: number[] = [];
    for (let t = 0; t <= 5000; t += 0.25) if (limiter.tryTake(t)) sent.push(t);
    expect(worstWindow(sent, 1000)).toBe(220);
    expect(sent.length).toBeGreaterThanOrEqual(5 * 220);
  });

  test('a burst up to the limit goes at once; then it says how long to wait', () => {
    const limiter = new SlidingWindowLimiter(3, 1000);
    expect([limiter.tryTake(0), limiter.tryTake(1), limiter.tryTake(2)]).toEqual([true, true, true]);
    expect(limiter.tryTake(3)).toBe(false);
    expect(limiter.waitMs(3)).toBe(997);
    expect(limiter.tryTake(1000)).toBe(true);
    expect(limiter.tryTake(1000)).toBe(false);
    expect(limiter.waitMs(1000)).toBe(1);
  });
});

describe('backoffDelay', () => {
  test('doubles from 250 ms with ±25% jitter and caps at 15 s', () => {
    expect(backoffDelay(1, undefined, () => 0.5)).toBe(250);
    expect(backoffDelay(2, undefined, () => 0.5)).toBe(500);
    expect(backoffDelay(3, undefined, () => 0)).toBe(750);
    expect(backoffDelay(3, undefined, () => 1)).toBe(1250);
    expect(backoffDelay(20, undefined, () => 0.5)).toBe(15_000);
  });
});
