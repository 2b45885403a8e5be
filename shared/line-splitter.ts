/**
 * Newline-delimited framing over an arbitrary byte stream. Lines are returned as
 * bytes (never decoded here, so content passes byte-exact), without the `\n` and
 * without a trailing `\r` that a terminal's output processing may have added.
 * A line longer than `maxLineBytes` is skipped to its newline and reported once, with
 * its first {@link OVERFLOW_HEAD_BYTES} bytes so the reader can tell whose message it was.
 *
 * An unfinished line is copied out of the chunks it arrived in, never kept by
 * reference: a stream's read buffers are small heap blocks (64 KiB), and keeping a
 * large message's hundreds of them alive at once leaves the C heap fragmented, so
 * its memory stays with the process after the message is gone. The copies go into
 * blocks that grow to {@link MAX_BLOCK_BYTES}, large enough to be mapped and unmapped
 * on their own.
 */

export type SplitResult =
  | { kind: 'line'; line: Buffer }
  | { kind: 'overflow'; bytes: number; head: Buffer };

/** How much of an over-long line is kept to say what it was (a JSON-RPC envelope comes first). */
export const OVERFLOW_HEAD_BYTES = 1024;

/** The first block of an unfinished line; each next one is twice as large, up to the most. */
const FIRST_BLOCK_BYTES = 4 * 1024;
const MAX_BLOCK_BYTES = 1024 * 1024;

export class LineSplitter {
  /** Filled blocks of the unfinished line, then the one being filled. */
  private blocks: Buffer[] = [];
  /** Bytes used in the last block. */
  private used = 0;
  private partBytes = 0;
  /** Bytes discarded from the current over-long line, or -1 when not skipping. */
  private skipped = -1;
  /** The start of the over-long line being skipped. */
  private head = EMPTY;

  constructor(readonly maxLineBytes: number) {}

  /** Feeds a chunk; returns the complete lines (and overflows) it finished, in order. */
  push(chunk: Buffer): SplitResult[] {
    const out: SplitResult[] = [];
    let start = 0;
    for (let nl = chunk.indexOf(0x0a); nl >= 0; nl = chunk.indexOf(0x0a, start)) {
      out.push(this.finishLine(chunk.subarray(start, nl)));
      start = nl + 1;
    }
    if (start < chunk.length) this.keep(chunk.subarray(start));
    return out;
  }

  /** Bytes of the unfinished line held in memory. */
  get pending(): number {
    return this.partBytes;
  }

  /** Drops any unfinished line (e.g. output cut off when a shell is replaced). */
  reset(): number {
    const dropped = this.partBytes + Math.max(0, this.skipped);
    this.clear();
    this.skipped = -1;
    this.head = EMPTY;
    return dropped;
  }

  private clear(): void {
    this.blocks = [];
    this.used = 0;
    this.partBytes = 0;
  }

  /** Whether `piece` would make the line too long; if so, starts skipping it. */
  private overflows(piece: Buffer): boolean {
    if (this.skipped >= 0) {
      this.skipped += piece.length;
      return true;
    }
    if (this.partBytes + piece.length <= this.maxLineBytes) return false;
    this.skipped = this.partBytes + piece.length;
    // The first block holds the line's first bytes (it is larger than the head).
    const first = this.blocks.length === 0 ? EMPTY : this.blocks[0].subarray(0, this.blocks.length === 1 ? this.used : undefined);
    this.head = Buffer.concat([first, piece].map((b) => b.subarray(0, OVERFLOW_HEAD_BYTES))).subarray(0, OVERFLOW_HEAD_BYTES);
    this.clear();
    return true;
  }

  /** Copies the start of a line that continues in a later chunk. */
  private keep(piece: Buffer): void {
    if (this.overflows(piece)) return;
    let from = 0;
    while (from < piece.length) {
      let block = this.blocks[this.blocks.length - 1];
      if (!block || this.used === block.length) {
        const size = block ? Math.min(block.length * 2, MAX_BLOCK_BYTES) : FIRST_BLOCK_BYTES;
        block = Buffer.allocUnsafeSlow(Math.min(size, this.maxLineBytes - this.partBytes));
        this.blocks.push(block);
        this.used = 0;
      }
      const n = piece.copy(block, this.used, from);
      this.used += n;
      this.partBytes += n;
      from += n;
    }
  }

  private finishLine(tail: Buffer): SplitResult {
    if (this.overflows(tail)) {
      const result: SplitResult = { kind: 'overflow', bytes: this.skipped, head: this.head };
      this.skipped = -1;
      this.head = EMPTY;
      return result;
    }
    // Always a copy (or a new join), so the caller may keep the line while the stream reuses its buffers.
    let line: Buffer;
    if (this.blocks.length === 0) {
      line = Buffer.from(tail);
    } else {
      line = this.joined(tail);
      this.clear();
    }
    if (line.length > 0 && line[line.length - 1] === 0x0d) line = line.subarray(0, line.length - 1);
    return { kind: 'line', line };
  }

  /** The unfinished line's bytes followed by `tail`, in a new buffer. */
  private joined(tail: Buffer): Buffer {
    const last = this.blocks.length - 1;
    const pieces = this.blocks.map((b, i) => (i === last ? b.subarray(0, this.used) : b));
    pieces.push(tail);
    return Buffer.concat(pieces, this.partBytes + tail.length);
  }
}

const EMPTY = Buffer.alloc(0);
