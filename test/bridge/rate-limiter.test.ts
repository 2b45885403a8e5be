import { TokenBucket } from '../../bridge/src/rate-limiter';
import { backoffDelay } from '../../bridge/src/backoff';

describe('TokenBucket', () => {
  test('no one-second window ever holds more than capacity + rate frames', () => {
    const bucket = new TokenBucket(200, 20, 0);
    const sent: number[] = [];
    // Try to send every 0.1 ms for 5 simulated seconds.
    for (let t = 0; t <= 5000; t += 0.1) if (bucket.tryTake(t)) sent.push(t);
    let worst = 0;
    for (let i = 0, j = 0; i < sent.length; i++) {
      while (sent[i] - sent[j] >= 1000) j++;
      worst = Math.max(worst, i - j + 1);
    }
    expect(worst).toBeLessThanOrEqual(220);
    expect(worst).toBeLessThan(250);
    expect(sent.length).toBeGreaterThan(1000); // and it does not starve
  });

  test('says how long to wait for the next token', () => {
    const bucket = new TokenBucket(200, 1, 0);
    expect(bucket.tryTake(0)).toBe(true);
    expect(bucket.tryTake(0)).toBe(false);
    expect(bucket.waitMs(0)).toBe(5);
    expect(bucket.tryTake(5)).toBe(true);
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
