/**
 * An agent on the bare terminal: each message is one line, as written. Nothing is
 * acknowledged, so a reattach can only repair the line cut by the drop (the shell does,
 * see its {@link ResumePolicy}) and ask the bridge's own questions again; output the
 * service dropped while detached is lost for good.
 */
import { isLinkLine } from '../../../shared/link/link-frame';
import { metricFields } from '../../../shared/metrics';
import type { Logger } from '../logger';
import type { ResumePolicy } from '../shell/remote-shell';
import type { AgentChannel, ChannelContext } from './agent-channel';
import { messageAfterTerminalControls } from './terminal-controls';

export class PlainChannel implements AgentChannel {
  readonly mode = 'plain';
  readonly resumePolicy: ResumePolicy = { input: 'resend-cut-line', alignReplay: true };

  constructor(
    private readonly ctx: ChannelContext,
    private readonly log: Logger,
  ) {}

  send(message: readonly Buffer[]): void {
    for (const piece of message) this.ctx.write(piece);
  }

  receive(line: Buffer): void {
    if (isLinkLine(line)) return this.ctx.noise(line, 'framed output in plain mode');
    const message = messageAfterTerminalControls(line);
    if (message) this.log.debug('terminal-controls-skipped', { bytes: line.length - message.length });
    this.ctx.deliver(message ?? line);
  }

  resume(ownRequests: readonly Buffer[]): void {
    // The bridge's own requests (start-up, probe, load) may have been lost with the
    // connection, and asking again is harmless (a second answer is dropped). The client's
    // requests are not repeated: a prompt must not run twice.
    if (ownRequests.length > 0) this.log.info('internal-resend', { requests: ownRequests.length });
    ownRequests.forEach((line) => this.ctx.write(line));
  }

  outputLost(bytes: number): boolean {
    const dropped = this.ctx.dropPartialLine();
    this.log.error('output-lost', { bytes, partialLineBytes: dropped, ...metricFields({ OutputBytesLost: bytes + dropped }) });
    return true;
  }

  close(): void {
    // Nothing held.
  }
}
