/**
 * Finds where the agent's output begins in a fresh shell's byte stream. Before the
 * marker come the prompt, the echoed launch line and terminal control sequences
 * (bash 5.2 prints the marker on the same line as `ESC[?2004l` and a CR), so the
 * marker is matched as a substring, never as a whole line.
 */

export type PreambleResult =
  | { kind: 'pending' }
  | { kind: 'ready'; rest: Buffer; discarded: Buffer }
  | { kind: 'failed'; status: string; discarded: Buffer };

/** Preamble bytes kept for diagnostics and matching; older bytes are dropped. */
const MAX_PREAMBLE_BYTES = 256 * 1024;

export class PreambleScanner {
  private seen = Buffer.alloc(0);
  private readonly ready: Buffer;
  private readonly failed: Buffer;

  constructor(readyMarker: string, failedMarker: string) {
    this.ready = Buffer.from(readyMarker);
    this.failed = Buffer.from(failedMarker);
  }

  push(chunk: Buffer): PreambleResult {
    this.seen = Buffer.concat([this.seen, chunk]);
    const r = this.seen.indexOf(this.ready);
    if (r >= 0) {
      const nl = this.seen.indexOf(0x0a, r + this.ready.length);
      if (nl < 0) return { kind: 'pending' };
      return { kind: 'ready', rest: this.seen.subarray(nl + 1), discarded: this.seen.subarray(0, r) };
    }
    const f = this.seen.indexOf(this.failed);
    if (f >= 0) {
      const nl = this.seen.indexOf(0x0a, f + this.failed.length);
      if (nl < 0) return { kind: 'pending' };
      const status = this.seen.subarray(f + this.failed.length, nl).toString('utf8').trim();
      return { kind: 'failed', status, discarded: this.seen.subarray(0, f) };
    }
    if (this.seen.length > MAX_PREAMBLE_BYTES) {
      // Keep enough of the tail to still match a marker split across chunks.
      this.seen = this.seen.subarray(this.seen.length - MAX_PREAMBLE_BYTES);
    }
    return { kind: 'pending' };
  }

  /** What the shell printed so far, as readable text for an error message. */
  text(): string {
    return readableTerminalText(this.seen);
  }
}

/** Strips terminal control sequences and keeps the last few lines, for logs and errors. */
export function readableTerminalText(buf: Buffer, maxLines = 5): string {
  /* eslint-disable no-control-regex -- matching terminal control sequences is the point */
  const text = buf
    .toString('utf8')
    // CSI and OSC sequences, then any other control characters but newline.
    .replace(/\x1b\[[0-?]*[ -/]*[@-~]/g, '')
    .replace(/\x1b\][^\x07\x1b]*(\x07|\x1b\\)/g, '')
    .replace(/\x1b./g, '')
    .replace(/\r/g, '\n')
    .replace(/[\x00-\x09\x0b-\x1f\x7f]/g, '');
  /* eslint-enable no-control-regex */
  return text
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '')
    .slice(-maxLines)
    .join(' | ');
}
