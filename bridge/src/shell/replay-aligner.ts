/**
 * Removes the replay that AgentCore sends after a reattach from the output stream.
 *
 * The service replays up to 256 KiB of recent output after the confirmation; the
 * sources say neither whether it resumes where the client left off or repeats the
 * buffer's tail, and it may even start before the first byte this client saw.
 * Either way the replay runs up to the shell's current output, so the bridge finds
 * where the bytes it already delivered end inside it (the tail of its history,
 * matched as far back as both go), drops everything up to there and delivers the
 * rest: nothing twice, and nothing produced during the gap lost.
 */

export interface AlignmentResult {
  /** Bytes to deliver (new output). */
  readonly emit: Buffer;
  /** Set once the replay has been matched: how many replayed bytes were dropped. */
  readonly skipped?: number;
}

/** How long a replay may pause without the history's end found before it counts as all new. */
export const ALIGN_SETTLE_MS = 300;
/** Bytes of history searched for first; every hit is then checked as far back as possible. */
const ANCHOR_BYTES = 64;

export class ReplayAligner {
  private chunks: Buffer[] = [];
  private total = 0;
  private aligning = false;
  private hist: Buffer = Buffer.alloc(0);
  private pending: Buffer = Buffer.alloc(0);
  private searchFrom = 0;

  /** `keepBytes` must exceed the service's replay size (256 KiB). */
  constructor(readonly keepBytes = 512 * 1024) {}

  get isAligning(): boolean {
    return this.aligning;
  }

  /** Call when a reattach is confirmed; the following bytes start with the replay. */
  begin(): void {
    this.hist = this.total === 0 ? Buffer.alloc(0) : Buffer.concat(this.chunks, this.total);
    this.aligning = this.hist.length > 0;
    this.pending = Buffer.alloc(0);
    this.searchFrom = 0;
  }

  /** Forgets history: after a gap, old bytes can no longer be matched. */
  reset(): void {
    this.chunks = [];
    this.total = 0;
    this.aligning = false;
    this.hist = Buffer.alloc(0);
    this.pending = Buffer.alloc(0);
  }

  push(chunk: Buffer): AlignmentResult {
    if (!this.aligning) {
      this.record(chunk);
      return { emit: chunk };
    }
    this.pending = this.pending.length === 0 ? chunk : Buffer.concat([this.pending, chunk]);
    const end = this.findHistoryEnd();
    if (end >= 0) return this.decide(end);
    // More than any replay holds and still no match: it is all new.
    if (this.pending.length > this.keepBytes + this.hist.length) return this.decide(0);
    return { emit: Buffer.alloc(0) };
  }

  /** The replay paused without containing what was already delivered: treat it as new. */
  settle(): AlignmentResult {
    if (!this.aligning) return { emit: Buffer.alloc(0) };
    return this.decide(0);
  }

  /** Offset in `pending` just after the end of the history, or -1 if not (yet) found. */
  private findHistoryEnd(): number {
    const H = this.hist;
    const P = this.pending;
    const anchor = H.subarray(H.length - Math.min(H.length, ANCHOR_BYTES));
    for (let at = P.indexOf(anchor, this.searchFrom); at >= 0; at = P.indexOf(anchor, at + 1)) {
      const end = at + anchor.length;
      const span = Math.min(end, H.length);
      if (P.compare(H, H.length - span, H.length, end - span, end) === 0) return end;
    }
    this.searchFrom = Math.max(0, P.length - anchor.length + 1);
    return -1;
  }

  private decide(skip: number): AlignmentResult {
    const emit = this.pending.subarray(skip);
    this.aligning = false;
    this.hist = Buffer.alloc(0);
    this.pending = Buffer.alloc(0);
    this.record(emit);
    return { emit, skipped: skip };
  }

  private record(chunk: Buffer): void {
    if (chunk.length === 0) return;
    this.chunks.push(chunk);
    this.total += chunk.length;
    while (this.chunks.length > 1 && this.total - this.chunks[0].length >= this.keepBytes) {
      this.total -= this.chunks.shift()!.length;
    }
  }
}
