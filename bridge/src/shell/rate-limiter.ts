/**
 * Keeps the bridge under AgentCore's 250 frames/s per connection: at most `limit`
 * frames in any window of `windowMs`. A sliding window rather than a token bucket,
 * so a lone multi-megabyte message (150 frames for 10 MB) leaves at full speed
 * instead of trickling out at the average rate. Pure: the caller passes the clock.
 */
export class SlidingWindowLimiter {
  /** Send times of the last `limit` frames, oldest first (a ring). */
  private readonly times: number[];
  private head = 0;
  private count = 0;

  constructor(
    readonly limit: number,
    readonly windowMs = 1000,
  ) {
    this.times = new Array<number>(limit).fill(0);
  }

  /** Takes a slot if the window has one. */
  tryTake(now: number): boolean {
    if (this.waitMs(now) > 0) return false;
    if (this.count < this.limit) {
      this.times[(this.head + this.count) % this.limit] = now;
      this.count++;
    } else {
      // Full ring: the oldest send has left the window; reuse its slot.
      this.times[this.head] = now;
      this.head = (this.head + 1) % this.limit;
    }
    return true;
  }

  /** Milliseconds until a slot is free (0 if one is now). */
  waitMs(now: number): number {
    if (this.count < this.limit) return 0;
    const oldest = this.times[this.head];
    return Math.max(0, Math.ceil(oldest + this.windowMs - now));
  }
}
