/**
 * Newline-delimited framing over an arbitrary byte stream. Lines are returned as
 * bytes (never decoded here, so content passes byte-exact), without the `\n` and
 * without a trailing `\r` that a terminal's output processing may have added.
 * A line longer than `maxLineBytes` is skipped to its newline and reported once.
 */

export type SplitResult =
  | { kind: 'line'; line: Buffer }
  | { kind: 'overflow'; bytes: number };

export class LineSplitter {
  private parts: Buffer[] = [];
  private partBytes = 0;
  /** Bytes discarded from the current over-long line, or -1 when not skipping. */
  private skipped = -1;

  constructor(readonly maxLineBytes: number) {}

  /** Feeds a chunk; returns the complete lines (and overflows) it finished, in order. */
  push(chunk: Buffer): SplitResult[] {
    const out: SplitResult[] = [];
    let start = 0;
    while (start < chunk.length) {
      const nl = chunk.indexOf(0x0a, start);
      const end = nl < 0 ? chunk.length : nl;
      this.append(chunk.subarray(start, end));
      if (nl < 0) break;
      out.push(this.finishLine());
      start = nl + 1;
    }
    return out;
  }

  /** Bytes of the unfinished line held in memory. */
  get pending(): number {
    return this.partBytes;
  }

  /** Drops any unfinished line (e.g. output cut off when a shell is replaced). */
  reset(): number {
    const dropped = this.partBytes + Math.max(0, this.skipped);
    this.parts = [];
    this.partBytes = 0;
    this.skipped = -1;
    return dropped;
  }

  private append(piece: Buffer): void {
    if (piece.length === 0) return;
    if (this.skipped >= 0) {
      this.skipped += piece.length;
      return;
    }
    if (this.partBytes + piece.length > this.maxLineBytes) {
      this.skipped = this.partBytes + piece.length;
      this.parts = [];
      this.partBytes = 0;
      return;
    }
    this.parts.push(piece);
    this.partBytes += piece.length;
  }

  private finishLine(): SplitResult {
    if (this.skipped >= 0) {
      const bytes = this.skipped;
      this.skipped = -1;
      return { kind: 'overflow', bytes };
    }
    // One piece is copied so the caller may keep the line while the socket reuses its buffers;
    // several are joined into a new buffer anyway.
    let line = this.parts.length === 1 ? Buffer.from(this.parts[0]) : Buffer.concat(this.parts, this.partBytes);
    this.parts = [];
    this.partBytes = 0;
    if (line.length > 0 && line[line.length - 1] === 0x0d) line = line.subarray(0, line.length - 1);
    return { kind: 'line', line };
  }
}
