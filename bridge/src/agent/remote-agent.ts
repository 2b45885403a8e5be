/**
 * The ACP agent process running in a remote shell: starts it (or finds it still
 * running), probes how to talk to it, turns the shell's output into JSON-RPC
 * messages, answers the bridge's own requests to it, and hands every other message up.
 *
 * Phases (`phase`), with every transition in this file:
 *
 *   idle ──launch()──▶ launching ──ready marker──▶ relaying ──probe()──▶ probing ──answer or timeout──▶ relaying
 *   idle ──open() finds the agent still running──▶ relaying ──probe()──▶ probing ──▶ relaying
 *
 * While relaying, lines go through the channel: plain until the probe is answered by a
 * launcher's hello, framed from then on. Independently, `ended` says why the agent takes
 * no more requests (it exited, was stopped or left); what it still prints while its shell
 * closes is passed on.
 */
import type { CredentialSource } from '../credentials';
import { randomBytes } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { LineSplitter, OVERFLOW_HEAD_BYTES } from '../../../shared/line-splitter';
import { decodeLinkFrame, isLinkLine, LINK_FRAME_OVERHEAD_BYTES } from '../../../shared/link/link-frame';
import { LINK_PROBE_METHOD, LINK_VERSION, parseHello } from '../../../shared/link/link-probe';
import { DEFAULT_MAX_MESSAGE_BYTES } from '../../../shared/contract/bridge-cli';
import { refuseOversize } from '../../../shared/oversize';
import { metricFields } from '../../../shared/metrics';
import { isBlank, type Message, parseLine, requestLine } from '../jsonrpc';
import type { RemoteIds } from '../acp/session-id';
import { BridgeError } from '../errors';
import type { Logger } from '../logger';
import { type ExitEvent, RemoteShell } from '../shell/remote-shell';
import type { ShellTarget } from '../shell/sigv4';
import { Waiter, within } from '../wait';
import type { AgentChannel, ChannelContext, ChannelMode } from './agent-channel';
import { FramedChannel } from './framed-channel';
import { launchLine } from './launch-line';
import { PlainChannel } from './plain-channel';
import { PreambleScanner, readableTerminalText } from './preamble';
import { messageAfterTerminalControls } from './terminal-controls';

export interface RemoteAgentOptions {
  readonly endpointUrl: string;
  readonly region: string;
  readonly runtimeArn: string;
  readonly qualifier: string;
  readonly shellCommand: string;
  readonly ids: RemoteIds;
  readonly credentials: CredentialSource;
  readonly logger: Logger;
  readonly attachWindowMs?: number;
  readonly heartbeatMs?: number;
  /** The launcher's absolute path in the runtime image; none for plain mode only. */
  readonly launcher?: string;
  /** The largest message taken from the agent (see shared/oversize.ts). @default 16 MiB */
  readonly maxMessageBytes?: number;
}

export interface RpcError {
  readonly code: number;
  readonly message: string;
  readonly data?: unknown;
}

/** The agent answered one of the bridge's own requests with a JSON-RPC error. */
export class AgentRequestError extends Error {
  constructor(readonly error: RpcError) {
    super(error.message);
  }
}

/** Terminal width for the shell: wide enough that the launch line rarely wraps. */
const COLUMNS = 500;
const ROWS = 50;
const INTERNAL_ID_PREFIX = 'openab-bridge:';

type Phase =
  /** Nothing to read yet: the shell is not open, or open and empty. */
  | { readonly name: 'idle' }
  /** The launch line is typed; the output is the shell's until the ready marker. */
  | { readonly name: 'launching'; readonly scanner: PreambleScanner; readonly started: Waiter<BridgeError | undefined> }
  /** Lines go through the channel. */
  | { readonly name: 'relaying' }
  /** The probe is out; every line before its answer is old (a replay) or start-up chatter. */
  | { readonly name: 'probing'; readonly id: string; readonly line: Buffer; skipped: number; readonly answered: Waiter<void> };

type Outcome = { readonly ok: true; readonly result: unknown } | { readonly ok: false; readonly error: Error };

interface OwnRequest {
  readonly answer: Waiter<Outcome>;
  /** The request as sent, for a resend after a reattach in plain mode. */
  readonly line: Buffer;
  readonly onResult?: (result: unknown) => void;
}

/**
 * Events: `message` (line: Buffer, message: Message), `exit` (reason: string),
 * `lost` (BridgeError), `gap` (bytes: number).
 */
export class RemoteAgent extends EventEmitter {
  private readonly shell: RemoteShell;
  private phase: Phase = { name: 'idle' };
  private channel: AgentChannel;
  private readonly splitter: LineSplitter;
  private readonly maxMessageBytes: number;
  private readonly own = new Map<string, OwnRequest>();
  private nextOwnId = 1;
  /** Why the agent takes no more requests, once it does not. */
  private ended: string | undefined;
  /**
   * The last non-protocol lines the agent printed: the likeliest explanation if it dies,
   * and possibly what a user wrote, so they go to the debug log only.
   */
  private readonly recentNoise: string[] = [];
  /** The launch line's marker for "the agent command could not be run". */
  private failedMarker: string | undefined;
  /** What the shell printed after that marker: its own complaint (the agent never ran), fit for an error. */
  private startFailure: string[] | undefined;
  agentCapabilities: Record<string, unknown> = {};
  /** What the channels may do here: write to the shell, hand up a message, report noise. */
  private readonly channelContext: ChannelContext = {
    write: (bytes) => this.shell.write(bytes),
    deliver: (line) => (line.length > this.maxMessageBytes ? this.refuse(line.subarray(0, OVERFLOW_HEAD_BYTES), line.length) : this.onMessageLine(line)),
    noise: (line, reason, quiet) => this.noise(line, reason, quiet),
    dropPartialLine: () => this.splitter.reset(),
  };

  constructor(private readonly options: RemoteAgentOptions) {
    super();
    this.maxMessageBytes = options.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES;
    // Room for a whole message in a link frame; a larger line is never assembled.
    this.splitter = new LineSplitter(this.maxMessageBytes + LINK_FRAME_OVERHEAD_BYTES);
    const target: ShellTarget = {
      endpointUrl: options.endpointUrl,
      region: options.region,
      runtimeArn: options.runtimeArn,
      qualifier: options.qualifier,
      runtimeSessionId: options.ids.runtimeSessionId,
      shellId: options.ids.shellId,
    };
    this.shell = new RemoteShell({
      target,
      credentials: options.credentials,
      logger: options.logger,
      attachWindowMs: options.attachWindowMs,
      heartbeatMs: options.heartbeatMs,
    });
    this.channel = new PlainChannel(this.channelContext, this.log);
    this.shell.on('output', (b: Buffer) => this.onOutput(b));
    this.shell.on('exit', (e: ExitEvent) => this.onExit(e.reason));
    this.shell.on('lost', (e: BridgeError) => this.onLost(e));
    this.shell.on('resumed', () => this.channel.resume(this.ownRequestLines()));
    this.shell.on('gap', (bytes: number) => {
      if (this.channel.outputLost(bytes)) this.emit('gap', bytes);
    });
  }

  private get log(): Logger {
    return this.options.logger;
  }

  get hasExited(): boolean {
    return this.ended !== undefined;
  }

  /** How messages travel: plain until the probe finds a launcher. */
  get mode(): ChannelMode {
    return this.channel.mode;
  }

  /** Client input not yet sent to the shell (held while reattaching, or paced). */
  get inputBacklog(): number {
    return this.shell.pendingInput;
  }

  /** Calls `cb` once the input backlog is below `bytes` (at once if it is). */
  onceInputBelow(bytes: number, cb: () => void): void {
    this.shell.onceInputBelow(bytes, cb);
  }

  /** Opens the shell; true when the agent from an earlier bridge is still running in it. */
  async open(): Promise<boolean> {
    const info = await this.shell.attach();
    if (info.reconnected) this.phase = { name: 'relaying' };
    return info.reconnected;
  }

  /** Types the launch line into a fresh shell, waits until the agent's output begins, then probes. */
  async launch(timeoutMs = 20_000): Promise<void> {
    const nonce = randomBytes(8).toString('hex');
    const line = launchLine(this.options.shellCommand, nonce, this.options.ids.shellId, this.options.launcher);
    const scanner = new PreambleScanner(line.readyMarker, line.failedMarker);
    this.failedMarker = line.failedMarker;
    const started = new Waiter<BridgeError | undefined>();
    this.phase = { name: 'launching', scanner, started };
    this.shell.resize(COLUMNS, ROWS);
    this.shell.write(Buffer.from(line.text));
    this.log.info('agent-start', { command: this.options.shellCommand, ...metricFields({ AgentStarts: 1 }) });
    const failure = await within(started.promise, timeoutMs, () => new BridgeError(
      'BRIDGE_AGENT_START_FAILED',
      `the shell did not start the agent within ${timeoutMs / 1000} s; it printed: ${scanner.text() || '(nothing)'}`,
    ));
    if (failure) throw failure;
    await this.probe();
  }

  /**
   * Finds out how to talk to the agent, and (after reattaching from a new bridge
   * process) drops everything the shell replays: all output before the probe's answer
   * is old. A launcher answers with a hello frame (framed); an agent on the terminal
   * answers the unknown `_`-method with an error (plain); silence means plain.
   */
  async probe(timeoutMs = 5_000): Promise<ChannelMode> {
    const id = this.newOwnId();
    // A launcher keeps to the bridge's limit for what it sends (refusing larger messages whole).
    const line = requestLine(id, LINK_PROBE_METHOD, { framedVersion: LINK_VERSION, maxMessageBytes: this.maxMessageBytes });
    const phase: Extract<Phase, { name: 'probing' }> = { name: 'probing', id, line, skipped: 0, answered: new Waiter() };
    this.phase = phase;
    this.shell.write(phase.line);
    await within(phase.answered.promise, timeoutMs, () => {
      this.log.warn('probe-timeout', { afterMs: timeoutMs, skippedLines: phase.skipped });
      this.endProbe(phase);
    });
    this.log.info('channel', { mode: this.channel.mode, skippedLines: phase.skipped });
    return this.channel.mode;
  }

  async initialize(params: unknown, timeoutMs = 30_000): Promise<Record<string, unknown>> {
    const result = (await this.request('initialize', params ?? { protocolVersion: 1, clientCapabilities: {} }, timeoutMs)) as
      | Record<string, unknown>
      | null;
    this.agentCapabilities = ((result ?? {}).agentCapabilities as Record<string, unknown>) ?? {};
    return result ?? {};
  }

  /**
   * A request of the bridge's own; its answer never reaches the ACP client. `onResult` runs
   * as the answer is read, before any later line of the agent is handed up (the awaiting code
   * runs only after the rest of that read): what must be in place for the agent's next
   * message is set there. If it throws, the request fails with that error.
   */
  async request(method: string, params: unknown, timeoutMs: number, onResult?: (result: unknown) => void): Promise<unknown> {
    if (this.ended !== undefined) throw new BridgeError('BRIDGE_AGENT_EXITED', `the agent is not running (${this.ended})`);
    const id = this.newOwnId();
    const request: OwnRequest = { answer: new Waiter(), line: requestLine(id, method, params), onResult };
    this.own.set(id, request);
    this.send(request.line);
    const outcome = await within(request.answer.promise, timeoutMs, (): Outcome => ({
      ok: false,
      error: new BridgeError('BRIDGE_AGENT_TIMEOUT', `the agent did not answer ${method} within ${Math.round(timeoutMs / 1000)} s`),
    }));
    // A late answer finds no entry and is dropped.
    this.own.delete(id);
    if (!outcome.ok) throw outcome.error;
    return outcome.result;
  }

  /** Sends one message (a line with its newline, whole or in pieces) to the agent. */
  send(message: Buffer | readonly Buffer[]): void {
    this.channel.send(Buffer.isBuffer(message) ? [message] : message);
  }

  pauseOutput(): void {
    this.shell.pauseOutput();
  }

  resumeOutput(): void {
    this.shell.resumeOutput();
  }

  /** Ends the agent process for good. */
  async stop(): Promise<void> {
    this.markEnded('stopped by the bridge');
    await this.shell.kill();
  }

  /** Leaves the agent running for a later bridge. */
  async detach(): Promise<void> {
    this.markEnded('detached');
    await this.shell.detach();
  }

  private newOwnId(): string {
    return `${INTERNAL_ID_PREFIX}${this.nextOwnId++}`;
  }

  /** What a channel without acknowledgements asks again after a reattach: the bridge's own open questions. */
  private ownRequestLines(): Buffer[] {
    const lines = [...this.own.values()].map((r) => r.line);
    if (this.phase.name === 'probing') lines.push(this.phase.line);
    return lines;
  }

  private onOutput(bytes: Buffer): void {
    switch (this.phase.name) {
      case 'idle':
        return;
      case 'launching':
        return this.onPreamble(this.phase, bytes);
      case 'relaying':
      case 'probing':
        return this.onLines(bytes);
    }
  }

  private onPreamble(phase: Extract<Phase, { name: 'launching' }>, bytes: Buffer): void {
    const r = phase.scanner.push(bytes);
    if (r.kind === 'pending') return;
    this.log.debug('preamble', { text: readableTerminalText(r.discarded, 20) });
    if (r.kind === 'failed') {
      phase.started.settle(new BridgeError(
        'BRIDGE_AGENT_START_FAILED',
        `the agent command could not be started (exit status ${r.status}): ${readableTerminalText(r.discarded, 3) || this.options.shellCommand}`,
      ));
      return;
    }
    this.phase = { name: 'relaying' };
    phase.started.settle(undefined);
    if (r.rest.length > 0) this.onLines(r.rest);
  }

  private onLines(bytes: Buffer): void {
    for (const item of this.splitter.push(bytes)) {
      if (item.kind === 'overflow') {
        // The launcher refuses such messages itself, whole, so a frame this long is damaged.
        if (this.channel.mode === 'framed') this.log.error('agent-frame-too-long', { bytes: item.bytes, limit: this.maxMessageBytes });
        else this.refuse(item.head, item.bytes);
        continue;
      }
      if (item.line.length === 0 || isBlank(item.line)) continue;
      if (this.phase.name === 'probing') this.onProbeLine(this.phase, item.line);
      else this.channel.receive(item.line);
    }
  }

  private onProbeLine(phase: Extract<Phase, { name: 'probing' }>, line: Buffer): void {
    if (isLinkLine(line)) {
      const frame = decodeLinkFrame(line);
      const hello = frame?.kind === 'H' ? parseHello(frame.payload) : undefined;
      if (!hello) {
        phase.skipped++;
        return;
      }
      this.channel = new FramedChannel(this.channelContext, this.log, hello);
      this.shell.setResumePolicy(this.channel.resumePolicy);
      this.log.info('replay-skipped', { lines: phase.skipped, reason: 'probe answered' });
      this.endProbe(phase);
      return;
    }
    // An agent on the terminal may answer behind the terminal queries it wrote first.
    const parsed = parseLine(messageAfterTerminalControls(line) ?? line);
    if (parsed.ok && parsed.message.kind === 'response' && parsed.message.id === phase.id) {
      this.log.info('replay-skipped', { lines: phase.skipped, reason: 'probe answered' });
      this.endProbe(phase);
      return;
    }
    phase.skipped++;
    // Old output, or what the shell said before the agent died: kept only as a possible explanation.
    if (!parsed.ok) this.noise(line, parsed.message, true);
  }

  private endProbe(phase: Extract<Phase, { name: 'probing' }>): void {
    if (this.phase === phase) this.phase = { name: 'relaying' };
    phase.answered.settle();
  }

  private onMessageLine(line: Buffer): void {
    const parsed = parseLine(line);
    if (!parsed.ok) {
      this.noise(line, parsed.message);
      return;
    }
    const msg: Message = parsed.message;
    if (msg.kind === 'response' && typeof msg.id === 'string' && msg.id.startsWith(INTERNAL_ID_PREFIX)) {
      const request = this.own.get(msg.id);
      if (request && !request.answer.settled) request.answer.settle(answerOutcome(request, msg.result, msg.error));
      return;
    }
    this.emit('message', line, msg);
  }

  /**
   * A message from the agent larger than the bridge accepts is not relayed; whoever
   * waits for it (the client, or the agent for its request) gets an error instead.
   */
  private refuse(head: Buffer, bytes: number): void {
    const r = refuseOversize(head, bytes, this.maxMessageBytes);
    this.log.warn('agent-message-too-large', { bytes, limit: this.maxMessageBytes, method: r.method, answered: r.inPlace ? 'client' : r.toSender ? 'agent' : 'nobody' });
    if (r.inPlace) this.onMessageLine(r.inPlace.subarray(0, r.inPlace.length - 1));
    if (r.toSender) this.channel.send([r.toSender]);
  }

  /** A terminal program may print banners, colour or progress: only JSON-RPC goes to the client. */
  private noise(line: Buffer, reason: string, quiet = false): void {
    const text = readableTerminalText(line.subarray(0, 2000), 3);
    if (!quiet) this.log.warn('agent-noise', { bytes: line.length, reason });
    this.log.debug('agent-noise-text', { text });
    if (!text) return;
    if (this.failedMarker !== undefined && text.includes(this.failedMarker)) {
      this.startFailure = [];
    } else if (this.startFailure && this.startFailure.length < 3) {
      this.startFailure.push(text.slice(0, 300));
    }
    this.recentNoise.push(text.slice(0, 300));
    if (this.recentNoise.length > 4) this.recentNoise.shift();
  }

  private onExit(reason: string): void {
    const flushed = this.splitter.reset();
    if (flushed > 0) this.log.warn('agent-partial-line', { bytes: flushed });
    if (this.phase.name === 'launching') {
      const preamble = this.phase.scanner.text();
      this.phase.started.settle(
        new BridgeError('BRIDGE_AGENT_START_FAILED', `the shell ended before the agent started (${reason})${preamble ? `: ${preamble}` : ''}`),
      );
    }
    if (this.ended !== undefined) return; // we stopped it
    if (this.recentNoise.length > 0) this.log.debug('agent-last-output', { text: this.recentNoise.join(' | ') });
    // Only the shell's own words reach the error: what the agent printed may be what a user wrote.
    const said = this.startFailure?.length ? `; the agent command could not be run: ${this.startFailure.join(' | ')}` : '';
    this.markEnded(`${reason}${said}`);
    this.emit('exit', `${reason}${said}`);
  }

  private onLost(error: BridgeError): void {
    if (this.phase.name === 'launching') this.phase.started.settle(error);
    if (this.ended !== undefined) return;
    this.markEnded(error.message);
    this.emit('lost', error);
  }

  private markEnded(reason: string): void {
    if (this.ended !== undefined) return;
    this.ended = reason;
    this.channel.close();
    if (this.phase.name === 'probing') this.endProbe(this.phase);
    for (const r of this.own.values()) {
      r.answer.settle({ ok: false, error: new BridgeError('BRIDGE_AGENT_EXITED', `the agent ended before answering (${reason})`) });
    }
    this.own.clear();
  }
}

function answerOutcome(request: OwnRequest, result: unknown, error: unknown): Outcome {
  if (error !== undefined) return { ok: false, error: new AgentRequestError(toRpcError(error)) };
  try {
    request.onResult?.(result);
  } catch (e) {
    return { ok: false, error: e instanceof Error ? e : new Error(String(e)) };
  }
  return { ok: true, result };
}

function toRpcError(e: unknown): RpcError {
  if (e && typeof e === 'object') {
    const o = e as Record<string, unknown>;
    return { code: typeof o.code === 'number' ? o.code : -32603, message: typeof o.message === 'string' ? o.message : 'error', data: o.data };
  }
  return { code: -32603, message: String(e) };
}
