/**
 * An agent under the runtime's launcher: each message travels as a numbered,
 * checksummed, acknowledged frame of the launcher link (shared/link/), so a reattach
 * resends exactly what the other end lacks and nothing the service dropped is lost.
 */
import { isLinkLine } from '../../../shared/link/link-frame';
import { LinkEndpoint } from '../../../shared/link/link-endpoint';
import type { Hello } from '../../../shared/link/link-probe';
import type { Logger } from '../logger';
import type { ResumePolicy } from '../shell/remote-shell';
import type { AgentChannel, ChannelContext } from './agent-channel';

export class FramedChannel implements AgentChannel {
  readonly mode = 'framed';
  /** The link dedupes by sequence number and resends everything unacknowledged itself. */
  readonly resumePolicy: ResumePolicy = { input: 'discard', alignReplay: false };
  private readonly link: LinkEndpoint;

  constructor(
    private readonly ctx: ChannelContext,
    private readonly log: Logger,
    hello: Hello,
  ) {
    this.link = new LinkEndpoint({ write: (bytes) => ctx.write(bytes), deliver: (payload) => ctx.deliver(payload) });
    this.link.expectFrom(hello.nextSeq);
  }

  send(message: readonly Buffer[]): void {
    const line = message.length === 1 ? message[0] : Buffer.concat(message);
    this.link.send(line[line.length - 1] === 0x0a ? line.subarray(0, line.length - 1) : line);
  }

  receive(line: Buffer): void {
    if (!isLinkLine(line)) {
      // The start of a replay cut mid-line, or terminal chatter.
      this.ctx.noise(line, 'unframed output in framed mode', true);
      return;
    }
    const r = this.link.receive(line);
    if (r.type === 'invalid') this.log.debug('frame-damaged', { bytes: line.length });
    else if (r.type === 'gap') this.log.debug('frame-gap', { seq: r.seq, expected: r.expected });
  }

  resume(): void {
    // A frame cut off by the drop continues nowhere: both ends start clean at the next line.
    this.ctx.dropPartialLine();
    const delivered = this.link.delivered;
    const resending = this.link.requestResume();
    this.log.info('framed-resume', { delivered, resending });
  }

  outputLost(bytes: number): boolean {
    // The launcher resends whatever the gap swallowed.
    this.log.info('output-gap-recovered', { bytes });
    return false;
  }

  close(): void {
    this.link.close();
  }
}
