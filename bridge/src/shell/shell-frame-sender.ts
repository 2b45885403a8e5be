/**
 * Turns STDIN bytes into frames under the service's limits: at most 65,535 payload
 * bytes per frame, cut only between UTF-8 characters, and at most 220 frames in any
 * second (the service closes at 250; the margin covers frames still in flight).
 * Writes made in the same tick are coalesced into one frame, so a burst of small
 * messages costs few frames and a lone message still leaves at once.
 */
import { ShellChannel, encodeShellFrame, MAX_SHELL_FRAME_PAYLOAD_BYTES } from './shell-frame';
import { SlidingWindowLimiter } from './rate-limiter';
import { utf8CutPoint } from './utf8';

const NEWLINE = Buffer.from('\n');

export interface ShellFrameSink {
  /** Sends one whole frame; returns false when there is no open connection. */
  send(frame: Buffer, done: () => void): boolean;
}

export interface ShellFrameSenderOptions {
  readonly maxPayloadBytes?: number;
  /** Frames allowed in any one-second window. */
  readonly framesPerSecond?: number;
  /** Frames handed to the socket but not yet written out, before the sender waits. */
  readonly maxInFlightBytes?: number;
  readonly now?: () => number;
  /** Called once a burst has been paced (delayed by the rate limit). */
  readonly onPaced?: (info: { frames: number; bytes: number; waitedMs: number }) => void;
}

export class ShellFrameSender {
  private readonly queue: Buffer[] = [];
  private queued = 0;
  private readonly control: Buffer[] = [];
  private inFlight = 0;
  private timer: NodeJS.Timeout | undefined;
  private sink: ShellFrameSink | undefined;
  private readonly limiter: SlidingWindowLimiter;
  private batching = false;
  private readonly max: number;
  private readonly maxInFlight: number;
  private readonly now: () => number;
  private paced: { frames: number; bytes: number; since: number } | undefined;
  /** What was sent of the line (message) now being sent: its bytes are kept until its newline has gone. */
  private unfinished: Buffer[] = [];
  /** Callbacks waiting for the queue to fall below a size (input flow control, a detach). */
  private lowWater: Array<{ readonly below: number; readonly cb: () => void }> = [];

  constructor(private readonly options: ShellFrameSenderOptions = {}) {
    this.now = options.now ?? (() => performance.now());
    this.max = options.maxPayloadBytes ?? MAX_SHELL_FRAME_PAYLOAD_BYTES;
    this.maxInFlight = options.maxInFlightBytes ?? 1024 * 1024;
    this.limiter = new SlidingWindowLimiter(options.framesPerSecond ?? 220);
  }

  /** Bytes waiting to be framed. */
  get pendingBytes(): number {
    return this.queued;
  }

  /** Calls `cb` once fewer than `bytes` wait to be framed: at once if that is already so. */
  onceBelow(bytes: number, cb: () => void): void {
    if (this.queued < bytes) cb();
    else this.lowWater.push({ below: bytes, cb });
  }

  /** Starts (or resumes) sending through `sink`; undefined pauses, keeping the queue. */
  attach(sink: ShellFrameSink | undefined): void {
    this.sink = sink;
    this.inFlight = 0;
    if (sink) this.pump();
    else this.clearTimer();
  }

  write(data: Buffer): void {
    if (data.length === 0) return;
    this.queue.push(data);
    this.queued += data.length;
    // Everything written in this tick (one read of stdin holds many messages) goes out together.
    if (this.batching) return;
    this.batching = true;
    setImmediate(() => {
      this.batching = false;
      this.pump();
    });
  }

  /** Heartbeat, resize or close: sent before queued data, under the same rate limit. */
  sendControl(channel: number, payload?: Buffer): void {
    this.control.push(encodeShellFrame(channel, payload));
    this.pump();
  }

  /**
   * After a lost connection: frames handed to it may not have arrived, so a line cut by
   * the loss could reach the shell as its head spliced onto a later line. This ends
   * whatever partial line the shell holds with a newline and queues the cut line again,
   * whole, ahead of the rest. Returns the bytes queued again (0 when no line was cut).
   * Lines sent whole before the loss are not repeated: whether they arrived is unknown.
   */
  restartCutLine(): number {
    const again = this.unfinished;
    this.unfinished = [];
    const pieces = [NEWLINE, ...again];
    const bytes = again.reduce((n, b) => n + b.length, 0);
    this.queue.unshift(...pieces);
    this.queued += bytes + 1;
    return bytes;
  }

  /** Drops everything queued (the connection it was meant for is gone for good). */
  clear(): void {
    this.queue.length = 0;
    this.queued = 0;
    this.unfinished = [];
    this.control.length = 0;
    this.clearTimer();
    this.notifyLowWater();
  }

  private notifyLowWater(): void {
    if (this.lowWater.length === 0) return;
    const due = this.lowWater.filter((w) => this.queued < w.below);
    if (due.length === 0) return;
    this.lowWater = this.lowWater.filter((w) => this.queued >= w.below);
    due.forEach((w) => w.cb());
  }

  private pump(): void {
    if (this.timer) return;
    while (this.sink && (this.control.length > 0 || this.queued > 0)) {
      if (this.inFlight >= this.maxInFlight) return; // resumed by a send callback
      const now = this.now();
      if (!this.limiter.tryTake(now)) {
        if (!this.paced) this.paced = { frames: 0, bytes: 0, since: now };
        this.timer = setTimeout(() => {
          this.timer = undefined;
          this.pump();
        }, Math.max(1, this.limiter.waitMs(now)));
        return;
      }
      const isData = this.control.length === 0;
      const parts: Buffer[] = [];
      const frame = isData ? this.nextDataFrame(parts) : this.control.shift()!;
      this.inFlight += frame.length;
      if (this.paced) {
        this.paced.frames++;
        this.paced.bytes += frame.length;
      }
      const ok = this.sink.send(frame, () => {
        this.inFlight = Math.max(0, this.inFlight - frame.length);
        if (this.inFlight < this.maxInFlight && !this.timer) this.pump();
      });
      if (ok && isData) this.track(parts);
      if (!ok) {
        // Lost with the connection; put data back so a reattach can send it.
        this.inFlight = Math.max(0, this.inFlight - frame.length);
        if (frame[0] === ShellChannel.STDIN) {
          const payload = frame.subarray(1);
          this.queue.unshift(payload);
          this.queued += payload.length;
        }
        return;
      }
    }
    if (this.paced && this.queued === 0 && this.control.length === 0) {
      this.options.onPaced?.({ frames: this.paced.frames, bytes: this.paced.bytes, waitedMs: Math.round(this.now() - this.paced.since) });
      this.paced = undefined;
    }
  }

  /** Keeps the sent pieces of the line in progress; a newline completes it. */
  private track(parts: readonly Buffer[]): void {
    for (const p of parts) {
      const at = p.lastIndexOf(0x0a);
      if (at < 0) {
        this.unfinished.push(p);
      } else {
        this.unfinished = at === p.length - 1 ? [] : [p.subarray(at + 1)];
      }
    }
  }

  private nextDataFrame(parts: Buffer[]): Buffer {
    let size = 0;
    while (this.queue.length > 0 && size < this.max) {
      const head = this.queue[0];
      const room = this.max - size;
      if (head.length <= room) {
        parts.push(head);
        size += head.length;
        this.queue.shift();
        continue;
      }
      // Cut inside this buffer, between characters (a cut point is never 0 when room > 0).
      const take = utf8CutPoint(head, room);
      parts.push(head.subarray(0, take));
      this.queue[0] = head.subarray(take);
      size += take;
      break;
    }
    this.queued -= size;
    this.notifyLowWater();
    const frame = Buffer.allocUnsafe(1 + size);
    frame[0] = ShellChannel.STDIN;
    let at = 1;
    for (const p of parts) {
      p.copy(frame, at);
      at += p.length;
    }
    return frame;
  }

  private clearTimer(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }
}
