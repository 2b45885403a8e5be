/**
 * Removes the replay that AgentCore sends after a reattach from the output stream.
 *
 * The service replays up to 256 KiB of recent output after the confirmation, and
 * the sources do not say whether it resumes where the client left off or repeats
 * the buffer's tail. Either way the replay ends at the shell's current output, so
 * the bridge finds the longest prefix of the replay that equals the end of what
 * it already delivered, drops that prefix and delivers the rest: nothing twice,
 * and nothing produced during the gap is lost.
 */

export interface AlignmentResult {
  /** Bytes to deliver (new output). */
  readonly emit: Buffer;
  /** Set once the replay has been matched: how many replayed bytes were dropped. */
  readonly skipped?: number;
}

/** How long to wait for a replay that still matches already-delivered bytes before deciding. */
export const ALIGN_SETTLE_MS = 300;

export class ReplayAligner {
  private chunks: Buffer[] = [];
  private total = 0;
  private aligning = false;
  private hist = Buffer.alloc(0);
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  /** Start offsets in `hist` where the replay may begin; confirmed or still matching. */
  private candidates: number[] = [];

  /** `keepBytes` must exceed the service's replay size (256 KiB). */
  constructor(readonly keepBytes = 512 * 1024) {}

  get isAligning(): boolean {
    return this.aligning;
  }

  /** Call when a reattach is confirmed; the following bytes start with the replay. */
  begin(): void {
    this.hist = this.total === 0 ? Buffer.alloc(0) : Buffer.concat(this.chunks, this.total);
    this.aligning = true;
    this.pending = [];
    this.pendingBytes = 0;
    this.candidates = [];
  }

  /** Forgets history: after a gap, old bytes can no longer be matched. */
  reset(): void {
    this.chunks = [];
    this.total = 0;
    this.aligning = false;
    this.pending = [];
    this.pendingBytes = 0;
    this.candidates = [];
  }

  push(chunk: Buffer): AlignmentResult {
    if (!this.aligning) {
      this.record(chunk);
      return { emit: chunk };
    }
    const before = this.pendingBytes;
    this.pending.push(chunk);
    this.pendingBytes += chunk.length;
    const P = this.pending.length === 1 ? this.pending[0] : Buffer.concat(this.pending, this.pendingBytes);
    this.pending = [P];
    if (before === 0) this.seed(P);
    else this.filter(P, before);
    if (this.hasOpenCandidate(P.length) && P.length < this.keepBytes) return { emit: Buffer.alloc(0) };
    return this.decide(P);
  }

  /** Decides with what has arrived (the replay stalled while still matching old bytes). */
  settle(): AlignmentResult {
    if (!this.aligning) return { emit: Buffer.alloc(0) };
    const P = this.pendingBytes === 0 ? Buffer.alloc(0) : Buffer.concat(this.pending, this.pendingBytes);
    return this.decide(P);
  }

  private decide(P: Buffer): AlignmentResult {
    const T = this.hist.length;
    let best = T; // start offset of the longest confirmed overlap; T means none
    for (const p of this.candidates) if (P.length >= T - p && p < best) best = p;
    const skipped = T - best;
    this.aligning = false;
    this.hist = Buffer.alloc(0);
    this.pending = [];
    this.pendingBytes = 0;
    this.candidates = [];
    const emit = P.subarray(skipped);
    this.record(emit);
    return { emit, skipped };
  }

  private seed(P: Buffer): void {
    const H = this.hist;
    const T = H.length;
    if (T === 0 || P.length === 0) return;
    const needle = P.subarray(0, Math.min(P.length, 64));
    const found = new Set<number>();
    for (let at = H.indexOf(needle); at >= 0; at = H.indexOf(needle, at + 1)) found.add(at);
    // Starts so near the end that the needle runs past the history.
    for (let p = Math.max(0, T - needle.length + 1); p < T; p++) found.add(p);
    this.candidates = [...found].filter((p) => matches(H, p, P, 0, P.length));
  }

  private filter(P: Buffer, from: number): void {
    this.candidates = this.candidates.filter((p) => matches(this.hist, p, P, from, P.length));
  }

  private hasOpenCandidate(pendingLength: number): boolean {
    const T = this.hist.length;
    return this.candidates.some((p) => pendingLength < T - p);
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

/** Whether P[from:to] equals H[p+from : p+to], compared only where H has bytes. */
function matches(H: Buffer, p: number, P: Buffer, from: number, to: number): boolean {
  const hEnd = Math.min(H.length, p + to);
  const hStart = p + from;
  if (hStart >= hEnd) return true;
  return H.compare(P, from, from + (hEnd - hStart), hStart, hEnd) === 0;
}
