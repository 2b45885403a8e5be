/**
 * A persistent shell in an AgentCore runtime session, across connections: it
 * attaches, keeps the connection alive with heartbeats, reattaches with the same
 * shellId after drops (backing off with jitter, re-signing every try), strips the
 * replay that follows a reattach, and paces everything it sends.
 *
 * States (`state`), with every transition in this file:
 *
 *   idle ──attach()──▶ attached ──drop──▶ reattaching ──same shell──▶ attached
 *                         │                   ├──new, empty shell──▶ attached (emits exit)
 *                         │                   └──window over / fatal──▶ ended (emits lost)
 *                         ├──exit status──▶ closing ──close──▶ ended
 *                         └──kill() / detach()──▶ closing ──close or timeout──▶ ended
 *
 * Reattach flows one way: the shell applies the {@link ResumePolicy} its user chose for
 * the input and the replay, then reports `resumed`; what to send again is its user's call.
 */
import type { CredentialSource } from '../credentials';
import { EventEmitter } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import { backoffDelay } from './backoff';
import { classifyClose } from './close-codes';
import { BridgeError } from '../errors';
import { ShellFrameSender } from './shell-frame-sender';
import { ShellChannel, shellChannelName, encodeResize, type ShellFrame } from './shell-frame';
import type { Logger } from '../logger';
import { ALIGN_SETTLE_MS, ReplayAligner } from './replay-aligner';
import { ShellSocket } from './shell-socket';
import { Waiter, within } from '../wait';
import { signShellUpgrade, type ShellTarget } from './sigv4';
import { parseStatus, type StatusEvent } from './shell-status';
import { metricFields } from '../../../shared/metrics';
import type { ReattachReason } from './close-codes';

export interface AttachInfo {
  /** The shell already existed (and so did whatever runs in it). */
  readonly reconnected: boolean;
}

/** What a reattach to the same shell does to the input in flight and to the replayed output. */
export interface ResumePolicy {
  /**
   * `resend-cut-line`: a line cut by the drop is ended with a newline and sent again,
   * whole (no acknowledgements: lines sent whole are not repeated). `discard`: queued
   * input is dropped, because the user resends everything unacknowledged itself.
   */
  readonly input: 'resend-cut-line' | 'discard';
  /** Strip the replayed output by byte alignment (else the user dedupes, e.g. by sequence number). */
  readonly alignReplay: boolean;
}

/** Until told otherwise: no acknowledgements above, so the shell does what it can itself. */
const UNACKNOWLEDGED: ResumePolicy = { input: 'resend-cut-line', alignReplay: true };

/** One WebSocket connection attempt and what is known about it. */
interface Connection {
  readonly confirmation: Waiter<StatusEvent | BridgeError>;
  /** The service confirmed the attach; frames that raced ahead wait in `early` until it does. */
  confirmed: boolean;
  early: ShellFrame[];
}

export interface RemoteShellOptions {
  readonly target: ShellTarget;
  readonly credentials: CredentialSource;
  readonly logger: Logger;
  readonly heartbeatMs?: number;
  readonly pongTimeoutMs?: number;
  /** How long reattaching may go on after a drop before the shell is declared lost. */
  readonly reconnectWindowMs?: number;
  /** How long the first attach may retry retryable refusals. */
  readonly attachWindowMs?: number;
  readonly confirmTimeoutMs?: number;
}

export type ExitEvent = Extract<StatusEvent, { type: 'exited' }>;

/**
 * Events: `output` (Buffer, new bytes only), `exit` (ExitEvent: the shell ended),
 * `resumed` (reattached to the same shell; emitted before any of its output),
 * `lost` (BridgeError: the shell can no longer be reached or was taken over),
 * `gap` (number of output bytes the service dropped while detached).
 */
export class RemoteShell extends EventEmitter {
  private state: 'idle' | 'attached' | 'reattaching' | 'closing' | 'ended' = 'idle';
  private socket: ShellSocket | undefined;
  /** The current connection attempt; events of older ones are ignored. */
  private connection: Connection | undefined;
  private readonly sender: ShellFrameSender;
  private readonly aligner = new ReplayAligner();
  private resumePolicy = UNACKNOWLEDGED;
  private settleTimer: NodeJS.Timeout | undefined;
  private heartbeat: NodeJS.Timeout | undefined;
  private lastPong = 0;
  /** A reattach found a new, empty shell: its output is not our agent's. */
  private discardOutput = false;
  private outputPaused = false;
  /** Settled when the socket closes while closing. */
  private closed: Waiter<void> | undefined;
  /** The service's clock minus ours, learnt from a refusal; every signature is dated by it. */
  private clockOffsetMs = 0;
  /** One fix of each kind per series of attempts: a refusal that persists after it is real. */
  private fixed = { clock: false, credentials: false };
  private refreshCredentials = false;
  private readonly opts: Required<Omit<RemoteShellOptions, 'target' | 'credentials' | 'logger'>>;

  constructor(private readonly options: RemoteShellOptions) {
    super();
    this.opts = {
      heartbeatMs: options.heartbeatMs ?? 30_000,
      pongTimeoutMs: options.pongTimeoutMs ?? 60_000,
      reconnectWindowMs: options.reconnectWindowMs ?? 120_000,
      attachWindowMs: options.attachWindowMs ?? 20_000,
      confirmTimeoutMs: options.confirmTimeoutMs ?? 10_000,
    };
    this.sender = new ShellFrameSender({
      onPaced: (info) => this.log.info('frames-paced', { ...info, ...metricFields({ FramesPaced: info.frames }) }),
    });
  }

  /** Chosen once by the user of the shell, when it knows how its messages travel. */
  setResumePolicy(policy: ResumePolicy): void {
    this.resumePolicy = policy;
    if (!policy.alignReplay) this.aligner.reset();
  }

  /** Input bytes waiting to be framed (held while reattaching, or paced). */
  get pendingInput(): number {
    return this.sender.pendingBytes;
  }

  /** Calls `cb` once less than `bytes` of input wait to be framed (input flow control). */
  onceInputBelow(bytes: number, cb: () => void): void {
    this.sender.onceBelow(bytes, cb);
  }

  get shellId(): string {
    return this.options.target.shellId;
  }

  private get log(): Logger {
    return this.options.logger;
  }

  /** First connection. Retries what is retryable within the attach window. */
  async attach(): Promise<AttachInfo> {
    if (this.state !== 'idle') throw new Error('attach() called twice');
    const started = Date.now();
    for (let attempt = 1; ; attempt++) {
      try {
        const info = await this.connectOnce();
        this.state = 'attached';
        this.fixed = { clock: false, credentials: false };
        this.sender.attach(this.sink());
        return info;
      } catch (e) {
        const err = toBridgeError(e);
        if (this.fixFor(err)) continue;
        const elapsed = Date.now() - started;
        const delay = backoffDelay(attempt);
        if (!err.retryable || elapsed + delay > this.opts.attachWindowMs) {
          this.state = 'ended';
          throw err;
        }
        this.log.warn('connect-retry', { attempt, delayMs: delay, error: err.message });
        await sleep(delay);
      }
    }
  }

  /** Sends bytes to the shell's input; held (in order) while reattaching. */
  write(data: Buffer): void {
    if (this.state === 'ended' || this.state === 'closing') return;
    this.sender.write(data);
  }

  resize(width: number, height: number): void {
    this.sender.sendControl(ShellChannel.RESIZE, encodeResize(width, height).subarray(1));
  }

  /** Stops delivering output until resumed (stdout is full); the service buffers meanwhile. */
  pauseOutput(): void {
    this.outputPaused = true;
    this.socket?.pause();
  }

  resumeOutput(): void {
    this.outputPaused = false;
    this.socket?.resume();
  }

  /** Ends the shell for good (CLOSE frame: the service kills it). Resolves when closed. */
  async kill(timeoutMs = 3_000): Promise<void> {
    if (this.state === 'ended') return;
    const wasAttached = this.state === 'attached' && this.socket;
    this.state = 'closing';
    this.stopTimers();
    this.sender.clear();
    if (!wasAttached) return this.end();
    this.closed = new Waiter();
    this.sender.attach(this.sink());
    this.sender.sendControl(ShellChannel.CLOSE);
    await within(this.closed.promise, timeoutMs, () => undefined);
    this.end();
  }

  /** Leaves the shell running (a later bridge can reattach) and closes the connection. */
  async detach(timeoutMs = 1_000): Promise<void> {
    if (this.state === 'ended') return;
    this.state = 'closing';
    this.stopTimers();
    if (!this.socket) return this.end();
    // Give queued input a moment to reach the shell before the socket closes.
    await within(new Promise<void>((resolve) => this.sender.onceBelow(1, resolve)), timeoutMs, () => undefined);
    this.closed = new Waiter();
    this.socket?.close(1000, 'detach');
    await within(this.closed.promise, timeoutMs, () => undefined);
    this.end();
  }

  /** Drops the current connection as if the network had (for reattach after a dead peer). */
  private dropConnection(reason: string): void {
    this.log.warn('connection-dead', { reason });
    this.socket?.terminate();
  }

  private end(): void {
    this.state = 'ended';
    this.stopTimers();
    this.sender.clear();
    this.sender.attach(undefined);
    this.socket?.terminate();
    this.socket = undefined;
  }

  private async connectOnce(): Promise<AttachInfo> {
    const forceRefresh = this.refreshCredentials;
    this.refreshCredentials = false;
    const credentials = await this.options.credentials(forceRefresh ? { forceRefresh } : undefined).catch((e: Error) => {
      // Retried only on a reattach: a start without credentials is a setup problem.
      throw new BridgeError('BRIDGE_NO_CREDENTIALS', `no usable AWS credentials: ${e.message}`, this.state === 'reattaching');
    });
    const upgrade = await signShellUpgrade(this.options.target, credentials, new Date(Date.now() + this.clockOffsetMs));
    this.log.debug('upgrade', { url: upgrade.url });
    // Frames can arrive in the same tick as the upgrade completes: route by connection, not by socket.
    const connection: Connection = { confirmation: new Waiter(), confirmed: false, early: [] };
    this.connection = connection;
    const socket = await ShellSocket.open(upgrade, this.options.target.runtimeArn, {
      onFrame: (f) => this.connection === connection && this.onFrame(connection, f),
      onClose: (code, reason) => this.connection === connection && this.onClose(connection, code, reason),
      onPong: () => (this.lastPong = Date.now()),
    });
    this.socket = socket;
    this.log.debug('upgraded', { headers: socket.responseHeaders });
    if (this.outputPaused) socket.pause();
    const status = await within(
      connection.confirmation.promise,
      this.opts.confirmTimeoutMs,
      () => new BridgeError('BRIDGE_UNREACHABLE', 'no confirmation from the shell service', true),
    );
    if (status instanceof BridgeError) {
      socket.terminate();
      throw status;
    }
    if (status.type !== 'attached') {
      socket.terminate();
      throw new BridgeError('BRIDGE_UNREACHABLE', `unexpected first status from the shell service: ${status.type}`, true);
    }
    this.lastPong = Date.now();
    this.startHeartbeat();
    this.log.info('connect', {
      shellId: status.shellId,
      reconnected: status.reconnected,
      bytesDropped: status.bytesDropped || undefined,
      ...(status.bytesDropped ? metricFields({ OutputBytesDropped: status.bytesDropped }) : {}),
    });
    return { reconnected: status.reconnected };
  }

  private onFrame(connection: Connection, frame: ShellFrame): void {
    if (!connection.confirmed) {
      if (frame.channel === ShellChannel.STATUS) {
        const status = parseStatus(frame.payload);
        if (status.type === 'attached') {
          // Decided here, synchronously: the replay may follow in the same tick.
          connection.confirmed = true;
          this.prepareOutput(status);
          connection.confirmation.settle(status);
          const early = connection.early;
          connection.early = [];
          early.forEach((f) => this.onFrame(connection, f));
          return;
        }
      }
      // The service confirms first; anything that raced ahead is held until it does.
      if (connection.early.length < 1024) connection.early.push(frame);
      return;
    }
    switch (frame.channel) {
      case ShellChannel.STDOUT:
        this.onOutput(frame.payload);
        return;
      case ShellChannel.STATUS: {
        const status = parseStatus(frame.payload);
        if (status.type === 'exited') {
          this.log.info('shell-exit', { reason: status.reason });
          this.state = 'closing';
          this.flushAlignment();
          this.emit('exit', status);
        } else if (status.type === 'transient') {
          this.dropConnection(`service reported a transient failure: ${status.reason}`);
        } else {
          this.log.debug('status', { status });
        }
        return;
      }
      case ShellChannel.STDERR:
        this.log.warn('service-diagnostic', { message: frame.payload.toString('utf8').slice(0, 500) });
        return;
      case ShellChannel.HEARTBEAT:
        return;
      case ShellChannel.CLOSE:
        this.log.info('service-close-frame');
        return;
      default:
        this.log.debug('unknown-frame', { channel: shellChannelName(frame.channel), bytes: frame.payload.length });
    }
  }

  /** What the output after this confirmation means: new bytes, a replay to strip, or a stranger's shell. */
  private prepareOutput(status: Extract<StatusEvent, { type: 'attached' }>): void {
    this.discardOutput = false;
    if (this.state !== 'reattaching') return;
    if (!status.reconnected) {
      this.discardOutput = true; // a new, empty shell: not the one our agent ran in
      this.aligner.reset();
      return;
    }
    if (status.bytesDropped > 0) {
      // Output was lost while detached: nothing to align with, and the partial line before the gap is junk.
      this.aligner.reset();
    } else if (this.resumePolicy.alignReplay) {
      this.aligner.begin();
    }
    this.resumeInput();
    this.emit('resumed');
    if (status.bytesDropped > 0) this.emit('gap', status.bytesDropped);
  }

  /** The input side of a resume, as the policy says (see {@link ResumePolicy}). */
  private resumeInput(): void {
    if (this.resumePolicy.input === 'discard') {
      this.sender.clear();
      return;
    }
    // A message cut by the drop must not reach the agent spliced onto another: a newline ends
    // what the agent holds of it (a broken line it skips), and the message goes again, whole.
    const resent = this.sender.restartCutLine();
    if (resent > 0) this.log.warn('input-line-resent', { bytes: resent, reason: 'cut by the connection drop' });
  }

  private onOutput(bytes: Buffer): void {
    if (this.discardOutput) return;
    if (!this.resumePolicy.alignReplay) {
      this.emit('output', bytes);
      return;
    }
    const result = this.aligner.push(bytes);
    if (result.skipped !== undefined) this.onAligned(result.skipped);
    if (this.aligner.isAligning) this.armSettle();
    if (result.emit.length > 0) this.emit('output', result.emit);
  }

  private armSettle(): void {
    if (this.settleTimer) clearTimeout(this.settleTimer);
    this.settleTimer = setTimeout(() => {
      this.settleTimer = undefined;
      this.flushAlignment();
    }, ALIGN_SETTLE_MS);
  }

  private flushAlignment(): void {
    if (this.settleTimer) clearTimeout(this.settleTimer);
    this.settleTimer = undefined;
    if (!this.aligner.isAligning) return;
    const result = this.aligner.settle();
    if (result.skipped !== undefined) this.onAligned(result.skipped);
    if (result.emit.length > 0) this.emit('output', result.emit);
  }

  private onAligned(skipped: number): void {
    this.log.info('replay-skipped', { bytes: skipped });
  }

  private onClose(connection: Connection, code: number, reason: string): void {
    this.connection = undefined;
    this.socket = undefined;
    this.sender.attach(undefined);
    this.stopTimers();
    if (!connection.confirmed) {
      connection.confirmation.settle(
        new BridgeError('BRIDGE_UNREACHABLE', `the shell connection closed before it was confirmed (${code} ${reason})`, code !== 4000),
      );
      return;
    }
    if (this.state === 'closing') {
      this.closed?.settle();
      return;
    }
    if (this.state === 'ended') return;
    const decision = classifyClose(code, reason);
    if (decision.action === 'reattach') {
      this.state = 'reattaching';
      void this.reattach(decision.reason, decision.minDelayMs, decision.metricReason);
      return;
    }
    this.end();
    if (decision.action === 'fatal') {
      this.emit('lost', decision.error);
    } else {
      this.emit(
        'lost',
        new BridgeError('BRIDGE_CONNECTION_CLOSED', `the shell service ended the connection without an exit status (${decision.reason})`),
      );
    }
  }

  private async reattach(reason: string, minDelayMs: number, metricReason: ReattachReason): Promise<void> {
    const started = Date.now();
    this.flushAlignment();
    for (let attempt = 1; this.state === 'reattaching'; attempt++) {
      const delay = attempt === 1 ? minDelayMs : Math.max(minDelayMs, backoffDelay(attempt - 1));
      if (Date.now() - started + delay > this.opts.reconnectWindowMs) break;
      // One drop is one reattach, however many attempts it takes.
      this.log.info('reattach', { reason, attempt, delayMs: delay, ...(attempt === 1 ? metricFields({ Reattaches: 1 }, { Reason: metricReason }) : {}) });
      if (delay > 0) await sleep(delay);
      if (this.state !== 'reattaching') return;
      try {
        const info = await this.connectOnce();
        if ((this.state as string) !== 'reattaching') return;
        this.state = 'attached';
        this.fixed = { clock: false, credentials: false };
        const afterMs = Date.now() - started;
        this.log.info('reattached', { reason, attempt, afterMs, reconnected: info.reconnected, ...metricFields({ ReattachDelay: afterMs }) });
        if (!info.reconnected) {
          // A new, empty shell: whatever ran in ours is gone (the microVM was reaped or
          // restarted). End this one too, so the next bridge for the thread starts the agent
          // afresh instead of finding a bare shell where it expects the agent.
          await this.kill();
          this.emit('exit', {
            type: 'exited',
            exitCode: null,
            signal: null,
            reason: 'the shell ended while the connection was down (the session idled out or was restarted)',
          } satisfies ExitEvent);
          return;
        }
        this.sender.attach(this.sink());
        return;
      } catch (e) {
        const err = toBridgeError(e);
        if (this.fixFor(err)) {
          attempt--; // the fix is tried at once, not counted as a backoff step
          continue;
        }
        if (!err.retryable) {
          this.end();
          this.emit('lost', err);
          return;
        }
        this.log.warn('reattach-failed', { attempt, error: err.message });
      }
    }
    if (this.state !== 'reattaching') return;
    this.end();
    this.emit(
      'lost',
      new BridgeError(
        'BRIDGE_UNREACHABLE',
        `could not reattach to the shell within ${Math.round(this.opts.reconnectWindowMs / 1000)} s after: ${reason}`,
      ),
    );
  }

  /**
   * A refusal one adjustment can cure, made at most once per series of attempts: a clock
   * that disagrees with the service's (signatures are dated from its clock from then on),
   * or credentials the service says have expired (fetched anew). True when retrying now may help.
   */
  private fixFor(err: BridgeError): boolean {
    if (err.detail.clockSkewMs !== undefined && !this.fixed.clock) {
      this.fixed.clock = true;
      this.clockOffsetMs += err.detail.clockSkewMs;
      this.log.warn('clock-skew-corrected', { offsetMs: this.clockOffsetMs });
      return true;
    }
    if (err.detail.credentialsExpired && !this.fixed.credentials) {
      this.fixed.credentials = true;
      this.refreshCredentials = true;
      this.log.warn('credentials-refreshed', { reason: 'the service refused them as expired' });
      return true;
    }
    return false;
  }

  private sink() {
    return {
      send: (frame: Buffer, done: () => void) => {
        const socket = this.socket;
        if (!socket) return false;
        return socket.send(frame, () => done());
      },
    };
  }

  private startHeartbeat(): void {
    this.stopHeartbeat();
    this.heartbeat = setInterval(() => {
      if (Date.now() - this.lastPong > this.opts.pongTimeoutMs) {
        this.dropConnection(`no pong for ${Math.round((Date.now() - this.lastPong) / 1000)} s`);
        return;
      }
      // Both: the service's idle timer may count HEARTBEAT frames, proxies count pings.
      this.sender.sendControl(ShellChannel.HEARTBEAT);
      this.socket?.ping();
    }, this.opts.heartbeatMs);
    this.heartbeat.unref();
  }

  private stopHeartbeat(): void {
    if (this.heartbeat) clearInterval(this.heartbeat);
    this.heartbeat = undefined;
  }

  private stopTimers(): void {
    this.stopHeartbeat();
    if (this.settleTimer) clearTimeout(this.settleTimer);
    this.settleTimer = undefined;
  }
}

function toBridgeError(e: unknown): BridgeError {
  if (e instanceof BridgeError) return e;
  return new BridgeError('BRIDGE_UNREACHABLE', (e as Error)?.message ?? String(e), true);
}
