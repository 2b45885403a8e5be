/**
 * The ACP agent process running in a remote shell: starts it (or finds it still
 * running), finds out whether it runs under the runtime's launcher (framed mode:
 * numbered, checksummed, acknowledged messages) or directly on the terminal (plain
 * mode), turns the shell's output into JSON-RPC messages, answers the bridge's own
 * requests to it, and hands every other message up.
 */
import { randomBytes } from 'node:crypto';
import { EventEmitter } from 'node:events';
import type { AwsCredentialIdentity } from '@smithy/types';
import { BridgeError } from './errors';
import { isBlank, Message, parseLine, requestLine } from './jsonrpc';
import { ACK_DELAY_MS, FRAMED_VERSION, MAX_MESSAGE_BYTES, parseHello, SYNC_METHOD } from './framed';
import { launchLine } from './launch';
import { decodeLinkFrame, isLinkLine } from './link-frame';
import { ReliableLink } from './reliable-link';
import { LineSplitter } from './line-splitter';
import type { Logger } from './logger';
import { PreambleScanner, readableTerminalText } from './preamble';
import { ExitEvent, RemoteShell } from './remote-shell';
import type { RemoteIds } from './session-id';
import type { ShellTarget } from './sigv4';

export interface RemoteAgentOptions {
  readonly endpointUrl: string;
  readonly region: string;
  readonly runtimeArn: string;
  readonly qualifier: string;
  readonly shellCommand: string;
  readonly ids: RemoteIds;
  readonly credentials: () => Promise<AwsCredentialIdentity>;
  readonly logger: Logger;
  readonly attachWindowMs?: number;
  readonly heartbeatMs?: number;
  /** The launcher's absolute path in the runtime image; none for plain mode only. */
  readonly launcher?: string;
}

export type Channel = 'unknown' | 'plain' | 'framed';

export interface RpcError {
  readonly code: number;
  readonly message: string;
  readonly data?: unknown;
}

export class AgentRequestError extends Error {
  constructor(readonly error: RpcError) {
    super(error.message);
  }
}

/** The agent's output lines may be this long (a multi-megabyte ACP message fits easily). */
export const MAX_LINE_BYTES = MAX_MESSAGE_BYTES;
/** Terminal width for the shell: wide enough that the launch line rarely wraps. */
const COLUMNS = 500;
const ROWS = 50;
const INTERNAL_ID_PREFIX = 'openab-bridge:';

interface Internal {
  resolve(result: unknown): void;
  reject(e: Error): void;
  timer: NodeJS.Timeout;
  /** The request as sent, for a resend after a reattach in plain mode. */
  line: Buffer;
}

/**
 * Events: `message` (line: Buffer, message: Message), `exit` (reason: string),
 * `lost` (BridgeError), `gap` (bytes: number).
 */
export class RemoteAgent extends EventEmitter {
  readonly shell: RemoteShell;
  private mode: 'idle' | 'preamble' | 'lines' = 'idle';
  private scanner: PreambleScanner | undefined;
  private readonly splitter = new LineSplitter(MAX_LINE_BYTES);
  private readonly internal = new Map<string, Internal>();
  private nextInternal = 1;
  private syncId: string | undefined;
  private probeLine: Buffer | undefined;
  private skippedLines = 0;
  /** How messages travel: decided by the probe after start or attach. */
  channel: Channel = 'unknown';
  private link: ReliableLink | undefined;
  private ackTimer: NodeJS.Timeout | undefined;
  private exited: string | undefined;
  private launchWaiter: ((r: { ok: true } | { ok: false; error: BridgeError }) => void) | undefined;
  private syncWaiter: (() => void) | undefined;
  /** The last non-protocol lines the agent printed: the likeliest explanation if it dies. */
  private readonly recentNoise: string[] = [];
  agentCapabilities: Record<string, unknown> = {};

  constructor(private readonly options: RemoteAgentOptions) {
    super();
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
    this.shell.on('output', (b: Buffer) => this.onOutput(b));
    this.shell.on('exit', (e: ExitEvent) => this.onExit(e.reason));
    this.shell.on('lost', (e: BridgeError) => this.onLost(e));
    this.shell.on('resumed', () => this.onResumed());
    this.shell.on('gap', (bytes: number) => {
      if (this.link) {
        // Framed mode: the launcher resends whatever the gap swallowed.
        this.options.logger.info('output-gap-recovered', { bytes });
        return;
      }
      const dropped = this.splitter.reset();
      this.options.logger.error('output-lost', { bytes, partialLineBytes: dropped });
      this.emit('gap', bytes);
    });
  }

  private get log(): Logger {
    return this.options.logger;
  }

  get hasExited(): boolean {
    return this.exited !== undefined;
  }

  /** Opens the shell; true when the agent from an earlier bridge is still running in it. */
  async open(): Promise<boolean> {
    const info = await this.shell.attach();
    if (info.reconnected) {
      this.mode = 'lines';
      return true;
    }
    return false;
  }

  /** Types the launch line into a fresh shell and waits until the agent's output begins. */
  async launch(timeoutMs = 20_000): Promise<void> {
    const nonce = randomBytes(8).toString('hex');
    const line = launchLine(this.options.shellCommand, nonce, this.options.ids.shellId, this.options.launcher);
    this.scanner = new PreambleScanner(line.readyMarker, line.failedMarker);
    this.mode = 'preamble';
    const result = new Promise<{ ok: true } | { ok: false; error: BridgeError }>((resolve) => (this.launchWaiter = resolve));
    const timer = setTimeout(() => {
      this.launchWaiter?.({
        ok: false,
        error: new BridgeError(
          'BRIDGE_AGENT_START_FAILED',
          `the shell did not start the agent within ${timeoutMs / 1000} s; it printed: ${this.scanner?.text() || '(nothing)'}`,
        ),
      });
    }, timeoutMs);
    this.shell.resize(COLUMNS, ROWS);
    this.shell.write(Buffer.from(line.text));
    this.log.info('agent-start', { command: this.options.shellCommand });
    const r = await result;
    clearTimeout(timer);
    this.launchWaiter = undefined;
    if (!r.ok) throw r.error;
    await this.negotiate();
  }

  /**
   * Finds out how to talk to the agent, and (after reattaching from a new bridge
   * process) drops everything the shell replays: all output before the answer to
   * the probe is old. A launcher answers with a hello frame (framed mode); an agent
   * on the terminal answers the unknown `_`-method with an error (plain mode).
   */
  async negotiate(timeoutMs = 5_000): Promise<Channel> {
    const id = this.newInternalId();
    this.syncId = id;
    this.skippedLines = 0;
    const done = new Promise<void>((resolve) => (this.syncWaiter = resolve));
    this.probeLine = requestLine(id, SYNC_METHOD, { framedVersion: FRAMED_VERSION });
    this.shell.write(this.probeLine);
    const timer = setTimeout(() => {
      this.log.warn('probe-timeout', { afterMs: timeoutMs, skippedLines: this.skippedLines });
      this.channel = 'plain';
      this.finishSync();
    }, timeoutMs);
    await done;
    clearTimeout(timer);
    this.log.info('channel', { mode: this.channel, skippedLines: this.skippedLines });
    return this.channel;
  }

  async initialize(params: unknown, timeoutMs = 30_000): Promise<Record<string, unknown>> {
    const result = (await this.request('initialize', params ?? { protocolVersion: 1, clientCapabilities: {} }, timeoutMs)) as
      | Record<string, unknown>
      | null;
    this.agentCapabilities = ((result ?? {}).agentCapabilities as Record<string, unknown>) ?? {};
    return result ?? {};
  }

  /** A request of the bridge's own; its answer never reaches the ACP client. */
  request(method: string, params: unknown, timeoutMs: number): Promise<unknown> {
    if (this.exited !== undefined) {
      return Promise.reject(new BridgeError('BRIDGE_AGENT_EXITED', `the agent is not running (${this.exited})`));
    }
    const id = this.newInternalId();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.internal.delete(id);
        reject(new BridgeError('BRIDGE_AGENT_TIMEOUT', `the agent did not answer ${method} within ${Math.round(timeoutMs / 1000)} s`));
      }, timeoutMs);
      const line = requestLine(id, method, params);
      this.internal.set(id, { resolve, reject, timer, line });
      this.send(line);
    });
  }

  /** Sends one message (a line with its newline, whole or in pieces) to the agent. */
  send(message: Buffer | readonly Buffer[]): void {
    const pieces = Buffer.isBuffer(message) ? [message] : message;
    if (this.link) {
      const line = pieces.length === 1 ? pieces[0] : Buffer.concat(pieces);
      const payload = line[line.length - 1] === 0x0a ? line.subarray(0, line.length - 1) : line;
      this.shell.write(this.link.send(payload));
    } else {
      for (const piece of pieces) this.shell.write(piece);
    }
  }

  /** Framed mode, after a reattach: say what we have, and send again what the launcher has not acknowledged. */
  private onResumed(): void {
    if (!this.link) {
      // A message cut by the drop must not reach the agent spliced onto another: a newline ends
      // what the agent holds of it (a broken line it skips), and the message goes again, whole.
      const resent = this.shell.restartCutLine();
      if (resent > 0) this.log.warn('input-line-resent', { bytes: resent, reason: 'cut by the connection drop' });
      // Plain mode has no acknowledgements: the bridge's own requests (start-up, probe, load)
      // may have been lost with the connection, and asking again is harmless (a second answer is
      // dropped). The client's requests are not repeated: a prompt must not run twice.
      const again = [...this.internal.values()];
      if (again.length > 0) this.log.info('internal-resend', { requests: again.length });
      for (const r of again) this.shell.write(r.line);
      if (this.syncId !== undefined && this.probeLine) this.shell.write(this.probeLine);
      return;
    }
    // A frame cut off by the drop continues nowhere: both sides start clean at the next line
    // (the newline ends whatever partial line the launcher holds, so the resume is read whole).
    this.splitter.reset();
    this.shell.clearInput();
    const again = this.link.unacked();
    this.log.info('framed-resume', { delivered: this.link.delivered, resending: again.length });
    this.shell.write(Buffer.concat([NEWLINE_BYTE, this.link.control('R', Buffer.from('{}'))]));
    again.forEach((f) => this.shell.write(f));
  }

  private scheduleAck(): void {
    if (this.ackTimer) return;
    this.ackTimer = setTimeout(() => {
      this.ackTimer = undefined;
      const ack = this.link?.takeAck();
      if (ack) this.shell.write(ack);
    }, ACK_DELAY_MS);
  }

  pauseOutput(): void {
    this.shell.pauseOutput();
  }

  resumeOutput(): void {
    this.shell.resumeOutput();
  }

  /** Ends the agent process for good. */
  async stop(): Promise<void> {
    this.markExited('stopped by the bridge');
    await this.shell.kill();
  }

  /** Leaves the agent running for a later bridge. */
  async detach(): Promise<void> {
    this.markExited('detached');
    await this.shell.detach();
  }

  private newInternalId(): string {
    return `${INTERNAL_ID_PREFIX}${this.nextInternal++}`;
  }

  private onOutput(bytes: Buffer): void {
    if (this.mode === 'preamble') {
      const r = this.scanner!.push(bytes);
      if (r.kind === 'pending') return;
      this.log.debug('preamble', { text: readableTerminalText(r.discarded, 20) });
      if (r.kind === 'failed') {
        this.launchWaiter?.({
          ok: false,
          error: new BridgeError(
            'BRIDGE_AGENT_START_FAILED',
            `the agent command could not be started (exit status ${r.status}): ${readableTerminalText(r.discarded, 3) || this.options.shellCommand}`,
          ),
        });
        return;
      }
      this.mode = 'lines';
      this.scanner = undefined;
      this.launchWaiter?.({ ok: true });
      if (r.rest.length > 0) this.onLines(r.rest);
      return;
    }
    if (this.mode === 'lines') this.onLines(bytes);
  }

  private onLines(bytes: Buffer): void {
    for (const item of this.splitter.push(bytes)) {
      if (item.kind === 'overflow') {
        this.log.error('agent-line-too-long', { bytes: item.bytes, limit: MAX_LINE_BYTES });
        continue;
      }
      this.onLine(item.line);
    }
  }

  private onLine(line: Buffer): void {
    if (line.length === 0 || isBlank(line)) return;
    if (isLinkLine(line)) return this.onLinkLine(line);
    if (this.link) {
      // Framed mode: anything unframed is the start of a replay cut mid-line, or terminal chatter.
      this.noise(line, 'unframed output in framed mode', true);
      return;
    }
    this.onMessageLine(line);
  }

  private onLinkLine(line: Buffer): void {
    if (this.syncId !== undefined) {
      const frame = decodeLinkFrame(line);
      const hello = frame?.kind === 'H' ? parseHello(frame.payload) : undefined;
      if (!hello) {
        this.skippedLines++;
        return;
      }
      this.link = new ReliableLink();
      this.link.expectFrom(hello.nextSeq);
      this.channel = 'framed';
      this.shell.setReplayAlignment(false);
      this.log.info('replay-skipped', { lines: this.skippedLines, reason: 'probe answered' });
      this.finishSync();
      return;
    }
    if (!this.link) {
      this.noise(line, 'framed output in plain mode');
      return;
    }
    const r = this.link.receive(line);
    if (r.type === 'deliver') {
      this.scheduleAck();
      this.onMessageLine(r.payload);
    } else if (r.type === 'duplicate') {
      this.scheduleAck();
    } else if (r.type === 'invalid') {
      this.log.debug('frame-damaged', { bytes: line.length });
    } else if (r.type === 'gap') {
      this.log.debug('frame-gap', { seq: r.seq, expected: r.expected });
    }
  }

  private onMessageLine(line: Buffer): void {
    const parsed = parseLine(line);
    if (this.syncId !== undefined) {
      if (parsed.ok && parsed.message.kind === 'response' && parsed.message.id === this.syncId) {
        this.channel = 'plain';
        this.log.info('replay-skipped', { lines: this.skippedLines, reason: 'probe answered' });
        this.finishSync();
      } else {
        this.skippedLines++;
        // Old output, or what the shell said before the agent died: kept only as a possible explanation.
        if (!parsed.ok) this.noise(line, parsed.message, true);
      }
      return;
    }
    if (!parsed.ok) {
      this.noise(line, parsed.message);
      return;
    }
    const msg: Message = parsed.message;
    if (msg.kind === 'response' && typeof msg.id === 'string' && msg.id.startsWith(INTERNAL_ID_PREFIX)) {
      const waiter = this.internal.get(msg.id);
      if (!waiter) return; // answered after its timeout
      this.internal.delete(msg.id);
      clearTimeout(waiter.timer);
      if (msg.error !== undefined) waiter.reject(new AgentRequestError(toRpcError(msg.error)));
      else waiter.resolve(msg.result);
      return;
    }
    this.emit('message', line, msg);
  }

  /** A terminal program may print banners, colour or progress: only JSON-RPC goes to the client. */
  private noise(line: Buffer, reason: string, quiet = false): void {
    const text = readableTerminalText(line.subarray(0, 2000), 3);
    if (!quiet) this.log.warn('agent-noise', { bytes: line.length, reason });
    this.log.debug('agent-noise-text', { text });
    if (text) {
      this.recentNoise.push(text.slice(0, 300));
      if (this.recentNoise.length > 4) this.recentNoise.shift();
    }
  }

  private finishSync(): void {
    this.syncId = undefined;
    this.syncWaiter?.();
    this.syncWaiter = undefined;
  }

  private onExit(reason: string): void {
    const flushed = this.splitter.reset();
    if (flushed > 0) this.log.warn('agent-partial-line', { bytes: flushed });
    const preamble = this.mode === 'preamble' ? this.scanner?.text() : undefined;
    this.launchWaiter?.({
      ok: false,
      error: new BridgeError('BRIDGE_AGENT_START_FAILED', `the shell ended before the agent started (${reason})${preamble ? `: ${preamble}` : ''}`),
    });
    if (this.exited !== undefined) return; // we stopped it
    const said = this.recentNoise.length > 0 ? `; it printed: ${this.recentNoise.join(' | ')}` : '';
    this.markExited(`${reason}${said}`);
    this.emit('exit', `${reason}${said}`);
  }

  private onLost(error: BridgeError): void {
    this.launchWaiter?.({ ok: false, error });
    if (this.exited !== undefined) return;
    this.markExited(error.message);
    this.emit('lost', error);
  }

  private markExited(reason: string): void {
    if (this.exited !== undefined) return;
    this.exited = reason;
    if (this.ackTimer) clearTimeout(this.ackTimer);
    this.finishSync();
    for (const [id, w] of this.internal) {
      clearTimeout(w.timer);
      w.reject(new BridgeError('BRIDGE_AGENT_EXITED', `the agent ended before answering (${reason})`));
      this.internal.delete(id);
    }
  }
}

const NEWLINE_BYTE = Buffer.from('\n');

function toRpcError(e: unknown): RpcError {
  if (e && typeof e === 'object') {
    const o = e as Record<string, unknown>;
    return { code: typeof o.code === 'number' ? o.code : -32603, message: typeof o.message === 'string' ? o.message : 'error', data: o.data };
  }
  return { code: -32603, message: String(e) };
}
