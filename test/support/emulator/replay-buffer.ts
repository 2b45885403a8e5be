/**
 * The last N bytes of one shell's output, kept so a reattaching client can be shown
 * what it missed (AgentCore keeps 256 KiB). Offsets are absolute byte counts since the
 * shell started, which makes "what was produced while detached" and "how much of that
 * fell out of the ring" plain subtractions. Pure: no I/O.
 */

export const DEFAULT_REPLAY_BYTES = 256 * 1024;

export type ReplayMode = 'tail' | 'since-detach';

export interface ReplayResult {
  /** Bytes to send after the confirmation STATUS (empty when nothing qualifies). */
  replay: Buffer;
  /** Output produced during this disconnect that no longer fits in the ring. */
  bytesDropped: number;
}

export class ReplayBuffer {
  private readonly ring: Buffer;
  /** Total bytes ever appended; the ring holds [total - length, total). */
  private total = 0;
  private length = 0;
  /** Absolute offset at which the current detached period began; undefined while attached. */
  private detachedAt: number | undefined;

  constructor(readonly capacity: number = DEFAULT_REPLAY_BYTES) {
    if (!Number.isInteger(capacity) || capacity <= 0) throw new RangeError(`replay capacity must be a positive integer, got ${capacity}`);
    this.ring = Buffer.alloc(capacity);
  }

  /** Bytes currently held. */
  get size(): number {
    return this.length;
  }

  /** Bytes ever appended. */
  get totalBytes(): number {
    return this.total;
  }

  get detached(): boolean {
    return this.detachedAt !== undefined;
  }

  /** Bytes produced since the current detached period began (0 while attached). */
  get bytesSinceDetach(): number {
    return this.detachedAt === undefined ? 0 : this.total - this.detachedAt;
  }

  append(chunk: Uint8Array): void {
    if (chunk.length === 0) return;
    // Only the tail that can fit matters; earlier bytes would be overwritten anyway.
    const data = chunk.length > this.capacity ? chunk.subarray(chunk.length - this.capacity) : chunk;
    const writeAt = (this.total + chunk.length - data.length) % this.capacity;
    const first = Math.min(data.length, this.capacity - writeAt);
    this.ring.set(data.subarray(0, first), writeAt);
    if (first < data.length) this.ring.set(data.subarray(first), 0);
    this.total += chunk.length;
    this.length = Math.min(this.capacity, this.length + chunk.length);
  }

  /** Marks the start of a period with no client attached. Repeated calls keep the first mark. */
  markDetached(): void {
    if (this.detachedAt === undefined) this.detachedAt = this.total;
  }

  /**
   * Ends the detached period and returns what to replay: the whole ring in 'tail' mode
   * (the client may see output again), or only what was produced while detached.
   */
  markAttached(mode: ReplayMode): ReplayResult {
    const since = this.detachedAt ?? this.total;
    this.detachedAt = undefined;
    const oldest = this.total - this.length;
    const bytesDropped = Math.max(0, oldest - since);
    const from = mode === 'tail' ? oldest : Math.max(since, oldest);
    return { replay: this.readFrom(from), bytesDropped };
  }

  /** A copy of the held bytes from absolute offset `from` to the end. */
  readFrom(from: number): Buffer {
    const oldest = this.total - this.length;
    const start = Math.max(from, oldest);
    const n = this.total - start;
    if (n <= 0) return Buffer.alloc(0);
    const out = Buffer.allocUnsafe(n);
    const readAt = start % this.capacity;
    const first = Math.min(n, this.capacity - readAt);
    this.ring.copy(out, 0, readAt, readAt + first);
    if (first < n) this.ring.copy(out, first, 0, n - first);
    return out;
  }

  /** A copy of everything held, oldest first. */
  contents(): Buffer {
    return this.readFrom(0);
  }
}
