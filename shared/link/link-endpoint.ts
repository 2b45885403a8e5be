/**
 * One end of the launcher link, as both the bridge and the launcher run it: frames what
 * it sends and keeps it until acknowledged, delivers what it receives in order and once,
 * acknowledges (riding on outgoing data, or alone after {@link LINK_ACK_DELAY_MS}), and
 * resends what the other end lacks after a reattach. The caller does the I/O.
 *
 * The two ends differ only in who starts a resume: the bridge, after it reattached,
 * sends a resume request (`R`) and its own unacknowledged frames; the launcher answers
 * with its unacknowledged frames. A new bridge probes, and the launcher greets it
 * with a hello (`H`) that announces its numbering.
 */
import { LINK_ACK_DELAY_MS, encodeHello } from './link-probe';
import { ReliableLink, type Received } from './reliable-link';

export interface LinkEndpointIo {
  /** Writes frames (or a newline and a frame) to the other end. */
  write(bytes: Buffer): void;
  /** A data payload from the other end: in order, exactly once. */
  deliver(payload: Buffer): void;
}

export class LinkEndpoint {
  private readonly link = new ReliableLink();
  private ackTimer: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(
    private readonly io: LinkEndpointIo,
    private readonly ackDelayMs = LINK_ACK_DELAY_MS,
  ) {}

  /** Bytes sent and not yet acknowledged. */
  get unackedBytes(): number {
    return this.link.unackedBytes;
  }

  get unackedCount(): number {
    return this.link.unackedCount;
  }

  /** Highest data frame received in order. */
  get delivered(): number {
    return this.link.delivered;
  }

  /** The seq the next data frame will get. */
  get nextSequence(): number {
    return this.link.nextSequence;
  }

  /** Sends one message (without its newline). */
  send(payload: Buffer): void {
    this.io.write(this.link.send(payload));
  }

  /** One line from the other end that carries the link prefix; says what it was. */
  receive(line: Buffer): Received {
    const r = this.link.receive(line);
    if (r.type === 'deliver') {
      this.scheduleAck();
      this.io.deliver(r.payload);
    } else if (r.type === 'duplicate') {
      // The other end may have missed our ack.
      this.scheduleAck();
    }
    return r;
  }

  /** Bridge end: the other end's hello says its next data frame is `nextSeq`. */
  expectFrom(nextSeq: number): void {
    this.link.expectFrom(nextSeq);
  }

  /**
   * Bridge end, after a reattach: a frame cut off by the drop continues nowhere, so a
   * newline first ends whatever partial line the launcher holds; then the resume request
   * (carrying our ack) and every frame of ours the launcher has not acknowledged.
   * Returns how many frames were sent again.
   */
  requestResume(): number {
    const again = this.link.unacked();
    this.io.write(Buffer.concat([NEWLINE, this.link.control('R', EMPTY_OBJECT)]));
    again.forEach((f) => this.io.write(f));
    return again.length;
  }

  /** Launcher end: the bridge asked to resume; send what it lacks and acknowledge now. */
  answerResume(): number {
    const again = this.link.unacked();
    again.forEach((f) => this.io.write(f));
    this.flushAck();
    return again.length;
  }

  /** Launcher end: a new bridge probed. What the old one was owed is dropped; the numbering is announced. */
  greetNewPeer(version: number): void {
    this.link.resetForNewPeer();
    this.io.write(this.link.control('H', encodeHello({ version, nextSeq: this.link.nextSequence })));
  }

  /** Stops the ack timer; nothing is sent after this. */
  close(): void {
    this.closed = true;
    if (this.ackTimer) clearTimeout(this.ackTimer);
    this.ackTimer = undefined;
  }

  private scheduleAck(): void {
    if (this.ackTimer || this.closed) return;
    this.ackTimer = setTimeout(() => {
      this.ackTimer = undefined;
      this.flushAck();
    }, this.ackDelayMs);
  }

  private flushAck(): void {
    const ack = this.link.takeAck();
    if (ack) this.io.write(ack);
  }
}

const NEWLINE = Buffer.from('\n');
const EMPTY_OBJECT = Buffer.from('{}');
