/**
 * Exactly-once delivery over a channel that may drop, cut or repeat frames
 * (a shell connection that is reattached and replays its output). Each side keeps
 * what it sent until the other acknowledges it, resends all of it when asked, and
 * delivers incoming data frames strictly in order, once. Pure: frames in, frames
 * and payloads out; the caller does the I/O. Used by the bridge and the launcher.
 */
import { decodeLinkFrame, encodeLinkFrame, type LinkFrame } from './link-frame';

export type Received =
  | { type: 'deliver'; payload: Buffer; seq: number }
  | { type: 'duplicate'; seq: number }
  | { type: 'gap'; seq: number; expected: number }
  | { type: 'ack' }
  | { type: 'control'; frame: LinkFrame }
  | { type: 'invalid' };

export class ReliableLink {
  private nextSeq = 1;
  private readonly outbox = new Map<number, Buffer>();
  private outboxSize = 0;
  /** Highest data frame received in order from the peer. */
  delivered = 0;
  /** Highest of our frames the peer has acknowledged. */
  private peerAcked = 0;
  /** The peer has data we have not acknowledged yet. */
  ackOwed = false;

  /** Bytes sent but not yet acknowledged. */
  get unackedBytes(): number {
    return this.outboxSize;
  }

  get unackedCount(): number {
    return this.outbox.size;
  }

  /** The seq the next data frame will get. */
  get nextSequence(): number {
    return this.nextSeq;
  }

  /** Frames a payload (one message, no newline) and keeps it until acknowledged. */
  send(payload: Buffer): Buffer {
    const seq = this.nextSeq++;
    this.outbox.set(seq, payload);
    this.outboxSize += payload.length;
    this.ackOwed = false;
    return encodeLinkFrame('D', seq, this.delivered, payload);
  }

  /** An ack-only frame, if one is owed. */
  takeAck(): Buffer | undefined {
    if (!this.ackOwed) return undefined;
    this.ackOwed = false;
    return encodeLinkFrame('A', 0, this.delivered);
  }

  control(kind: 'H' | 'R', payload: Buffer): Buffer {
    return encodeLinkFrame(kind, 0, this.delivered, payload);
  }

  receive(line: Buffer): Received {
    const frame = decodeLinkFrame(line);
    if (!frame) return { type: 'invalid' };
    this.acknowledge(frame.ack);
    if (frame.kind === 'A') return { type: 'ack' };
    if (frame.kind !== 'D') return { type: 'control', frame };
    if (frame.seq <= this.delivered) {
      this.ackOwed = true; // the peer may have missed our ack
      return { type: 'duplicate', seq: frame.seq };
    }
    if (frame.seq !== this.delivered + 1) return { type: 'gap', seq: frame.seq, expected: this.delivered + 1 };
    this.delivered = frame.seq;
    this.ackOwed = true;
    return { type: 'deliver', payload: frame.payload, seq: frame.seq };
  }

  /** Drops what the peer says it has (from a resume request). */
  acknowledge(ack: number): void {
    if (ack <= this.peerAcked) return;
    // The outbox is in ascending seq order (insertion order).
    for (const [seq, payload] of this.outbox) {
      if (seq > ack) break;
      this.outboxSize -= payload.length;
      this.outbox.delete(seq);
    }
    this.peerAcked = Math.min(ack, this.nextSeq - 1);
  }

  /** Every unacknowledged frame again, in order, carrying the current ack. */
  unacked(): Buffer[] {
    return [...this.outbox].map(([seq, p]) => encodeLinkFrame('D', seq, this.delivered, p));
  }

  /** A new peer: forget what the old one was owed and expect its numbering from 1. */
  resetForNewPeer(): void {
    this.outbox.clear();
    this.outboxSize = 0;
    this.peerAcked = this.nextSeq - 1;
    this.delivered = 0;
    this.ackOwed = false;
  }

  /** Numbering announced by the peer's hello: its next frame is `nextSeq`. */
  expectFrom(nextSeq: number): void {
    this.delivered = Math.max(0, nextSeq - 1);
  }
}
