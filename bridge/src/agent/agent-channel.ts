/**
 * How JSON-RPC messages travel between the bridge and the agent in the shell. The probe
 * chooses once (see shared/link/link-probe.ts): {@link PlainChannel} when the agent is on
 * the bare terminal, {@link FramedChannel} when it runs under the runtime's launcher.
 */
import type { ResumePolicy } from '../shell/remote-shell';

export type ChannelMode = 'plain' | 'framed';

/** What a channel may do to its surroundings; given by the agent that owns it. */
export interface ChannelContext {
  /** Bytes to the shell's input. */
  write(bytes: Buffer): void;
  /** One JSON-RPC message line from the agent (without its newline). */
  deliver(line: Buffer): void;
  /** A line that is not for the client: `quiet` keeps it out of the warn-level log. */
  noise(line: Buffer, reason: string, quiet?: boolean): void;
  /** Forgets the partial output line being assembled (it continues nowhere). */
  dropPartialLine(): number;
}

export interface AgentChannel {
  readonly mode: ChannelMode;
  /** What the shell does with input and replay when it reattaches to the same shell. */
  readonly resumePolicy: ResumePolicy;
  /** Sends one message: a JSON-RPC line with its newline, whole or in pieces. */
  send(message: readonly Buffer[]): void;
  /** One line of the agent's output (without its newline). */
  receive(line: Buffer): void;
  /**
   * The shell reattached to the same shell and applied the resume policy. `ownRequests`
   * are the bridge's own unanswered requests, for a channel that cannot tell what arrived.
   */
  resume(ownRequests: readonly Buffer[]): void;
  /** The service dropped `bytes` of output while detached; true when the loss is final. */
  outputLost(bytes: number): boolean;
  /** No more sending (the agent is gone or left). */
  close(): void;
}
