/**
 * The client side of the process: newline-delimited JSON-RPC on stdin and stdout.
 * stdout carries protocol lines only.
 */
import { LineSplitter } from '../../../shared/line-splitter';
import { within } from '../wait';

export interface StdinHandlers {
  onLine(line: Buffer): void;
  /** A line longer than the limit was skipped (not buffered); `head` is its start. */
  onOverflow(bytes: number, head: Buffer): void;
  onEnd(): void;
}

export function readClientLines(input: NodeJS.ReadableStream, maxLineBytes: number, h: StdinHandlers): void {
  const splitter = new LineSplitter(maxLineBytes);
  input.on('data', (chunk: Buffer) => {
    for (const item of splitter.push(chunk)) {
      if (item.kind === 'line') h.onLine(item.line);
      else h.onOverflow(item.bytes, item.head);
    }
  });
  input.on('end', () => {
    // A last message without its newline still counts.
    const rest = splitter.push(Buffer.from('\n'));
    for (const item of rest) if (item.kind === 'line' && item.line.length > 0) h.onLine(item.line);
    h.onEnd();
  });
  input.on('error', () => h.onEnd());
}

export class StdoutWriter {
  private drainCallbacks: Array<() => void> = [];
  private corked = false;

  constructor(private readonly out: NodeJS.WritableStream & { cork(): void; uncork(): void }) {
    out.on('drain', () => this.drainCallbacks.forEach((cb) => cb()));
    out.on('error', () => undefined); // a closed pipe is noticed through stdin's end
  }

  write(line: Buffer): boolean {
    // Messages written in one tick (a burst of notifications) leave in one system call.
    if (!this.corked) {
      this.corked = true;
      this.out.cork();
      process.nextTick(() => {
        this.corked = false;
        this.out.uncork();
      });
    }
    return this.out.write(line);
  }

  onDrain(cb: () => void): void {
    this.drainCallbacks.push(cb);
  }

  /** Resolves once everything written so far has been handed to the OS (or after 2 s). */
  flush(): Promise<void> {
    return within(new Promise<void>((resolve) => this.out.write('', () => resolve())), 2_000, () => undefined);
  }
}
