/**
 * The bridge's one way to wait: a {@link Waiter} is settled once from wherever the
 * awaited thing happens, {@link within} bounds any wait by a timer that is always
 * cleared, and a {@link Deadline} shares one time budget between several steps.
 */

/** A result that arrives from elsewhere (an event handler); the first settle wins. */
export class Waiter<T> {
  readonly promise: Promise<T>;
  private resolve!: (value: T) => void;
  private done = false;

  constructor() {
    this.promise = new Promise<T>((resolve) => (this.resolve = resolve));
  }

  get settled(): boolean {
    return this.done;
  }

  settle(value: T): void {
    if (this.done) return;
    this.done = true;
    this.resolve(value);
  }
}

/**
 * Resolves as `promise` does, or with `onTimeout()` after `ms` (rejects if it throws).
 * The timer is cleared either way.
 */
export function within<T>(promise: Promise<T>, ms: number, onTimeout: () => T): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<T>((resolve, reject) => {
    timer = setTimeout(() => {
      try {
        resolve(onTimeout());
      } catch (e) {
        reject(e instanceof Error ? e : new Error(String(e)));
      }
    }, ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** One time budget for a sequence of steps: each step takes at most what is left. */
export class Deadline {
  private readonly at: number;

  constructor(budgetMs: number) {
    this.at = Date.now() + budgetMs;
  }

  /** Milliseconds left, never negative. */
  remaining(): number {
    return Math.max(0, this.at - Date.now());
  }

  /**
   * A step's timeout: what is left after keeping `reserveMs` for the steps after it,
   * capped at `maxMs` and at least `minMs` (a step always gets a chance).
   */
  step(maxMs: number, reserveMs = 0, minMs = 0): number {
    return Math.max(minMs, Math.min(maxMs, this.remaining() - reserveMs));
  }
}
