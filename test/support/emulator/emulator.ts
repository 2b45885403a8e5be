/**
 * A local stand-in for AgentCore Runtime's interactive-shell WebSocket API
 * (`InvokeAgentRuntimeCommandShell`), faithful to /work/shared/docs/agentcore-shell-protocol.md:
 * SigV4-checked upgrades, the binary channel frames, STATUS confirmation and exit messages,
 * replay on reattach, the service's limits and close codes. Shells are real bash processes
 * in real PTYs, one persistent directory per runtime session (the microVM's `/mnt/agent`).
 *
 * Tests in the same process drive failures through the control methods; a separate
 * process is driven through the `/_emulator/*` HTTP endpoints.
 */
import { EventEmitter, once } from 'node:events';
import { createServer, STATUS_CODES, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createHash, randomUUID } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Duplex } from 'node:stream';
import { WebSocketServer, WebSocket } from 'ws';
import { ShellChannel, MAX_SHELL_FRAME_BYTES, MAX_SHELL_FRAME_PAYLOAD_BYTES, MAX_SHELL_FRAMES_PER_SECOND, shellChannelName, decodeShellFrame, encodeShellFrame } from '../../../bridge/src/shell/shell-frame';
import { attachedStatus, exitStatus, type StatusMessage } from '../../../bridge/src/shell/shell-status';
import { verifySigV4, SESSION_ID_HEADER, type SigV4Credentials } from './sigv4-verify';
import { DEFAULT_REPLAY_BYTES, type ReplayMode } from './replay-buffer';
import { PtyShell, KILL_GRACE_MS, type ShellExit } from './shell';

export const TEST_REGION = 'us-east-1';
export const TEST_RUNTIME_ARN = 'arn:aws:bedrock-agentcore:us-east-1:123456789012:runtime/openab_kiro-AbCdEf1234';
export const TEST_CREDENTIALS: SigV4Credentials = {
  accessKeyId: 'AKIAEMULATOREXAMPLE',
  secretAccessKey: 'emulatorSecretKeyEXAMPLE/K7MDENG/bPxRfiCY',
  sessionToken: undefined,
};
/** Temporary (STS-style) credentials: requests must carry and sign the matching session token. */
export const TEST_TEMPORARY_CREDENTIALS: SigV4Credentials = {
  accessKeyId: 'ASIAEMULATORTEMPORARY',
  secretAccessKey: 'emulatorTemporarySecretEXAMPLE/9xQ2LmN4pR',
  sessionToken: 'IQoJb3JpZ2luX2VjEMULATOR//////////wEaCXVzLWVhc3QtMSJHMEUCIQDtemporary',
};

export const SHELL_ID_HEADER = 'x-amzn-bedrock-agentcore-shell-id';
/** The SDK's shellId rule (the doc's choice among the three published ones). */
export const SHELL_ID_PATTERN = /^[a-zA-Z0-9][a-zA-Z0-9_-]{0,127}$/;
export const MIN_SESSION_ID_LENGTH = 33;
export const MAX_SESSION_ID_LENGTH = 256;
/** Consecutive text frames that end the connection with 1003. */
export const MAX_CONSECUTIVE_TEXT_FRAMES = 5;
/** Bound on remembered closed connections and exited shells, so stats stay small. */
const MAX_HISTORY = 500;
/** STDIN not yet taken by the PTY above which the socket stops being read (TCP backpressure). */
const MAX_INPUT_BACKLOG = 1024 * 1024;
const MAX_CONTROL_BODY = 64 * 1024;

export interface EmulatorOptions {
  port?: number;
  host?: string;
  region?: string;
  runtimeArns?: string[];
  credentials?: SigV4Credentials[];
  /** Parent of one persistent directory per runtime session; default a temp dir removed on stop(). */
  stateDir?: string;
  shellEnv?: Record<string, string>;
  replayBytes?: number;
  /** 'tail' (default) replays the whole ring on reattach; 'since-detach' only what was missed. */
  replayMode?: ReplayMode;
  maxFramesPerSecond?: number;
  maxMessageBytes?: number;
  maxShellsPerSession?: number;
  connectionTtlMs?: number;
  maxBufferedBytes?: number;
  verbose?: boolean;
  /**
   * A runtime session idle this long is reaped, as AgentCore's `idleRuntimeSessionTimeout`
   * reaps its microVM. Idle means no open connection (whether the service counts an
   * attached shell as activity is not documented; this takes the costly reading) and not
   * busy. Default: never.
   */
  idleTimeoutMs?: number;
  /** A runtime session is reaped this long after it started, busy or not (`maxLifetime`). Default: never. */
  maxLifetimeMs?: number;
  /** How far the service's clock is ahead of this machine's (negative: behind); for clock-skew tests. Default 0. */
  clockOffsetMs?: number;
  /** The runtime's /ping as a test stands it in: true means `HealthyBusy`. Default: never busy. */
  isBusy?: (session: { sessionId: string; vmDir: string }) => boolean;
  /**
   * More shell environment for one session, given its microVM's local disk (`vmDir`,
   * removed when the session is reaped) and its session storage (`storageDir`, kept).
   */
  vmEnv?: (dirs: { vmDir: string; storageDir: string }) => Record<string, string>;
}

/** One microVM's life: a runtime session from its first connection until it is reaped. */
export interface LifetimeStats {
  sessionId: string;
  startedAt: number;
  /** When it was reaped; null while it lives. */
  endedAt: number | null;
  reason: 'idle-timeout' | 'max-lifetime' | null;
}

export type DropHow = { mode: 'destroy' } | { mode: 'close'; code: number; reason?: string };
export interface DropFilter {
  sessionId?: string;
  shellId?: string;
}

export interface ConnectionStats {
  id: number;
  sessionId: string;
  shellId: string;
  open: boolean;
  reconnected: boolean;
  openedAt: number;
  closedAt: number | null;
  /** Client messages per channel name ('STDIN', 'RESIZE', …, 'UNKNOWN(0x07)', 'EMPTY'). */
  framesReceived: Record<string, number>;
  textFrames: number;
  /** Most client messages seen in any sliding 1-second window. */
  maxFramesPerSecond: number;
  bytesReceived: number;
  /** Times reading this socket was paused because the PTY had not taken the input yet. */
  inputPauses: number;
  framesSent: number;
  bytesSent: number;
  closeCode: number | null;
  closeReason: string | null;
  /** Who ended it: the emulator (a limit, a control, shell exit), the client, or nobody (1006). */
  closedBy: 'server' | 'client' | 'network' | null;
}

export interface ShellStats {
  sessionId: string;
  shellId: string;
  pid: number;
  alive: boolean;
  attached: boolean;
  startedAt: number;
  exitCode: number | null;
  signal: string | null;
}

export interface SessionStats {
  sessionId: string;
  runtimeArn: string;
  /** Session storage: kept when the session is reaped. */
  dir: string;
  /** The microVM's local disk: removed when the session is reaped. */
  vmDir: string;
  startedAt: number;
  liveShells: number;
}

export interface EmulatorStats {
  url: string;
  upgrades: { accepted: number; rejected: number };
  sessions: SessionStats[];
  /** Every microVM this emulator ran, live or reaped, oldest first. */
  lifetimes: LifetimeStats[];
  shells: ShellStats[];
  connections: ConnectionStats[];
}

export interface UpgradeEvent {
  status: number;
  errorType?: string;
  message?: string;
  runtimeArn?: string;
  sessionId?: string;
  shellId?: string;
}
export interface AttachEvent {
  connectionId: number;
  sessionId: string;
  shellId: string;
  reconnected: boolean;
  bytesDropped: number;
  replayBytes: number;
}
export interface DetachEvent {
  connectionId: number;
  sessionId: string;
  shellId: string;
  code: number | null;
  reason: string | null;
}
export interface ShellExitEvent extends ShellExit {
  sessionId: string;
  shellId: string;
  pid: number;
  /** Whether a client was attached to receive the exit STATUS. */
  reported: boolean;
}
export interface EmulatorEvents {
  upgrade: UpgradeEvent;
  attach: AttachEvent;
  detach: DetachEvent;
  'shell-exit': ShellExitEvent;
  reap: LifetimeStats;
}

interface InjectedFailure {
  remaining: number;
  status: number;
  errorType: string;
  message: string;
}

interface Session {
  id: string;
  runtimeArn: string;
  dir: string;
  vmDir: string;
  shells: Map<string, ShellEntry>;
  lifetime: LifetimeStats;
  lastActiveAt: number;
}

interface ShellEntry {
  sessionId: string;
  shellId: string;
  shell: PtyShell;
  startedAt: number;
  conn: Connection | undefined;
  exit: ShellExit | undefined;
}

interface Connection {
  id: number;
  ws: WebSocket;
  entry: ShellEntry;
  stats: ConnectionStats;
  closing: boolean;
  frameTimes: number[];
  consecutiveText: number;
  ttlTimer: NodeJS.Timeout | undefined;
  inputPoll: NodeJS.Timeout | undefined;
  /** Armed by dropAfterInput: STDIN bytes still taken in before the connection ends. */
  inputDrop?: { left: number; how: DropHow };
}

interface UpgradeContext {
  runtimeArn: string;
  sessionId: string;
  shellId: string;
}

type Rejection = { status: number; errorType: string; message: string; error?: string };

export class AgentCoreEmulator extends EventEmitter {
  readonly region: string;
  readonly runtimeArns: readonly string[];
  readonly stateDir: string;
  private readonly opts: Required<Omit<EmulatorOptions, 'stateDir' | 'port' | 'host' | 'runtimeArns' | 'region' | 'credentials' | 'idleTimeoutMs' | 'maxLifetimeMs' | 'isBusy' | 'vmEnv' | 'clockOffsetMs'>>;
  private readonly clockOffsetMs: number;
  private readonly lifecycle: Pick<EmulatorOptions, 'idleTimeoutMs' | 'maxLifetimeMs' | 'isBusy' | 'vmEnv'>;
  private readonly lifetimes: LifetimeStats[] = [];
  private sweepTimer: NodeJS.Timeout | undefined;
  private readonly credentials: Map<string, SigV4Credentials>;
  private readonly ownsStateDir: boolean;
  private readonly server: Server;
  private readonly wss: WebSocketServer;
  private readonly sessions = new Map<string, Session>();
  private readonly shellHistory: ShellEntry[] = [];
  private readonly connections = new Map<number, Connection>();
  private readonly closedConnections: ConnectionStats[] = [];
  private readonly upgradeContexts = new WeakMap<IncomingMessage, UpgradeContext>();
  private readonly rawSockets = new Set<Duplex>();
  private readonly failures: InjectedFailure[] = [];
  private readonly upgradeCounts = { accepted: 0, rejected: 0 };
  private nextConnectionId = 1;
  private stopping: Promise<void> | undefined;
  private address = { host: '127.0.0.1', port: 0 };

  static async start(options: EmulatorOptions = {}): Promise<AgentCoreEmulator> {
    const emulator = new AgentCoreEmulator(options);
    await emulator.listen(options.port ?? 0, options.host ?? '127.0.0.1');
    return emulator;
  }

  private constructor(options: EmulatorOptions) {
    super();
    this.region = options.region ?? TEST_REGION;
    this.runtimeArns = [...(options.runtimeArns ?? [TEST_RUNTIME_ARN])];
    this.credentials = new Map(
      (options.credentials ?? [TEST_CREDENTIALS, TEST_TEMPORARY_CREDENTIALS]).map((c) => [c.accessKeyId, c]),
    );
    this.opts = {
      shellEnv: options.shellEnv ?? {},
      replayBytes: options.replayBytes ?? DEFAULT_REPLAY_BYTES,
      replayMode: options.replayMode ?? 'tail',
      maxFramesPerSecond: options.maxFramesPerSecond ?? MAX_SHELL_FRAMES_PER_SECOND,
      maxMessageBytes: options.maxMessageBytes ?? MAX_SHELL_FRAME_BYTES,
      maxShellsPerSession: options.maxShellsPerSession ?? 10,
      connectionTtlMs: options.connectionTtlMs ?? 3_600_000,
      maxBufferedBytes: options.maxBufferedBytes ?? 8 * 1024 * 1024,
      verbose: options.verbose ?? false,
    };
    this.clockOffsetMs = options.clockOffsetMs ?? 0;
    this.lifecycle = { idleTimeoutMs: options.idleTimeoutMs, maxLifetimeMs: options.maxLifetimeMs, isBusy: options.isBusy, vmEnv: options.vmEnv };
    const limits = [options.idleTimeoutMs, options.maxLifetimeMs].filter((v): v is number => v !== undefined && v > 0);
    if (limits.length > 0) {
      // Checked often enough that a reap comes within 5% of its time.
      this.sweepTimer = setInterval(() => this.sweep(), Math.max(10, Math.min(1_000, Math.min(...limits) / 20)));
      this.sweepTimer.unref();
    }
    this.ownsStateDir = options.stateDir === undefined;
    this.stateDir = options.stateDir ?? mkdtempSync(join(tmpdir(), 'agentcore-emulator-'));
    mkdirSync(this.stateDir, { recursive: true });
    this.server = createServer((req, res) => this.onHttpRequest(req, res));
    this.server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => void this.onUpgrade(req, socket, head));
    this.server.on('clientError', (_err, socket) => socket.destroy());
    this.wss = new WebSocketServer({
      noServer: true,
      // Larger messages close 1009, as the service does; ws enforces it while reading.
      maxPayload: this.opts.maxMessageBytes,
      // Whether the service negotiates permessage-deflate is unknown; declining is the safe reading.
      perMessageDeflate: false,
      clientTracking: false,
    });
    this.wss.on('headers', (headers: string[], req: IncomingMessage) => {
      const ctx = this.upgradeContexts.get(req);
      if (!ctx) return;
      headers.push(`${SESSION_ID_HEADER}: ${ctx.sessionId}`, `${SHELL_ID_HEADER}: ${ctx.shellId}`);
    });
  }

  /** `http://host:port`: what a client passes as its endpoint URL (swapping to ws:// itself). */
  get url(): string {
    return `http://${this.address.host}:${this.address.port}`;
  }

  get port(): number {
    return this.address.port;
  }

  override on<K extends keyof EmulatorEvents>(event: K, listener: (e: EmulatorEvents[K]) => void): this;
  override on(event: string | symbol, listener: (...args: any[]) => void): this;
  override on(event: string | symbol, listener: (...args: any[]) => void): this {
    return super.on(event, listener);
  }

  /** Resolves with the next `event` whose payload satisfies `predicate`, or rejects after `timeoutMs`. */
  waitFor<K extends keyof EmulatorEvents>(
    event: K,
    predicate: (e: EmulatorEvents[K]) => boolean = () => true,
    timeoutMs = 10_000,
  ): Promise<EmulatorEvents[K]> {
    return new Promise((resolve, reject) => {
      const onEvent = (e: EmulatorEvents[K]): void => {
        if (!predicate(e)) return;
        cleanup();
        resolve(e);
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(new Error(`timed out after ${timeoutMs} ms waiting for emulator event '${event}'`));
      }, timeoutMs);
      const cleanup = (): void => {
        clearTimeout(timer);
        this.off(event, onEvent);
      };
      this.on(event, onEvent);
    });
  }

  // ---------------------------------------------------------------- controls

  /** Ends matching open connections: 'destroy' cuts TCP with no close frame (client sees 1006). */
  dropConnections(filter: DropFilter = {}, how: DropHow = { mode: 'destroy' }): number {
    let n = 0;
    for (const conn of [...this.connections.values()]) {
      if (conn.closing) continue;
      if (filter.sessionId !== undefined && conn.stats.sessionId !== filter.sessionId) continue;
      if (filter.shellId !== undefined && conn.stats.shellId !== filter.shellId) continue;
      if (how.mode === 'destroy') this.destroyConnection(conn);
      else this.closeConnection(conn, how.code, how.reason ?? 'closed by emulator control');
      n++;
    }
    this.log('drop', { mode: how.mode, count: n, ...filter });
    return n;
  }

  /**
   * Ends matching open connections once `bytes` more STDIN bytes have come in: the frame
   * that goes past it, and anything after it, is never written to the shell (as when the
   * service closes a connection over a limit while the client is still sending).
   */
  dropAfterInput(filter: DropFilter, bytes: number, how: DropHow = { mode: 'destroy' }): number {
    let n = 0;
    for (const conn of this.connections.values()) {
      if (conn.closing) continue;
      if (filter.sessionId !== undefined && conn.stats.sessionId !== filter.sessionId) continue;
      if (filter.shellId !== undefined && conn.stats.shellId !== filter.shellId) continue;
      conn.inputDrop = { left: bytes, how };
      n++;
    }
    return n;
  }

  /** The next `count` upgrade requests fail with this status, before any other check. */
  failNextUpgrades(count: number, status: number, errorType: string, message?: string): void {
    if (!Number.isInteger(count) || count <= 0) return;
    if (!Number.isInteger(status) || status < 400 || status > 599) throw new RangeError(`failure status must be 4xx/5xx, got ${status}`);
    this.failures.push({ remaining: count, status, errorType, message: message ?? `${errorType} (injected by emulator)` });
  }

  /** Sends a signal to a live shell (default SIGKILL); an attached client then gets the exit STATUS. */
  killShell(sessionId: string, shellId: string, signal: NodeJS.Signals = 'SIGKILL'): boolean {
    const entry = this.sessions.get(sessionId)?.shells.get(shellId);
    if (!entry || !entry.shell.alive) return false;
    this.log('kill-shell', { sessionId, shellId, signal });
    entry.shell.signal(signal);
    return true;
  }

  /**
   * The microVM idled out: every process of the session dies at once and its connections
   * drop without a close frame; the session's persistent directory stays. Returns shells killed.
   */
  idleOutSession(sessionId: string): number {
    const session = this.sessions.get(sessionId);
    if (!session) return 0;
    let n = 0;
    for (const entry of [...session.shells.values()]) {
      if (entry.conn) this.destroyConnection(entry.conn);
      session.shells.delete(entry.shellId);
      if (entry.shell.alive) {
        entry.shell.killSession('SIGKILL');
        n++;
      }
    }
    this.log('idle-out', { sessionId, killed: n });
    return n;
  }

  /**
   * Ends a runtime session's microVM: its shells die at once, its connections drop, its
   * local disk is removed; its session storage stays for the next microVM of the same id.
   */
  reapSession(sessionId: string, reason: 'idle-timeout' | 'max-lifetime'): boolean {
    const session = this.sessions.get(sessionId);
    if (!session) return false;
    this.idleOutSession(sessionId);
    this.sessions.delete(sessionId);
    rmSync(session.vmDir, { recursive: true, force: true });
    session.lifetime.endedAt = Date.now();
    session.lifetime.reason = reason;
    this.log('reap', { sessionId, reason, livedMs: session.lifetime.endedAt - session.lifetime.startedAt });
    this.emit('reap', { ...session.lifetime });
    return true;
  }

  private sweep(): void {
    const now = Date.now();
    const { idleTimeoutMs, maxLifetimeMs, isBusy } = this.lifecycle;
    for (const s of [...this.sessions.values()]) {
      const connected = [...s.shells.values()].some((e) => e.conn !== undefined && !e.conn.closing);
      if (connected || isBusy?.({ sessionId: s.id, vmDir: s.vmDir })) s.lastActiveAt = now;
      if (maxLifetimeMs && now - s.lifetime.startedAt >= maxLifetimeMs) this.reapSession(s.id, 'max-lifetime');
      else if (idleTimeoutMs && now - s.lastActiveAt >= idleTimeoutMs) this.reapSession(s.id, 'idle-timeout');
    }
  }

  /** The persistent directory of a runtime session (whether or not it exists yet). */
  sessionDir(sessionId: string): string {
    return this.sessions.get(sessionId)?.dir ?? join(this.stateDir, safeDirName(sessionId));
  }

  stats(): EmulatorStats {
    const live = [...this.sessions.values()].flatMap((s) => [...s.shells.values()]);
    const shells = [...new Set([...this.shellHistory, ...live])].map((e) => ({
      sessionId: e.sessionId,
      shellId: e.shellId,
      pid: e.shell.pid,
      alive: e.shell.alive,
      attached: e.conn !== undefined,
      startedAt: e.startedAt,
      exitCode: e.exit?.exitCode ?? null,
      signal: e.exit?.signal ?? null,
    }));
    const connections = [...this.closedConnections, ...[...this.connections.values()].map((c) => c.stats)].map(
      (s) => ({ ...s, framesReceived: { ...s.framesReceived } }),
    );
    connections.sort((a, b) => a.id - b.id);
    const sessions = [...this.sessions.values()].map((s) => ({
      sessionId: s.id,
      runtimeArn: s.runtimeArn,
      dir: s.dir,
      vmDir: s.vmDir,
      startedAt: s.lifetime.startedAt,
      liveShells: [...s.shells.values()].filter((e) => e.shell.alive).length,
    }));
    const lifetimes = this.lifetimes.map((l) => ({ ...l }));
    return { url: this.url, upgrades: { ...this.upgradeCounts }, sessions, lifetimes, shells, connections };
  }

  /** Closes every connection (1001), kills every shell, closes the server; idempotent. */
  stop(): Promise<void> {
    this.stopping ??= this.shutdown();
    return this.stopping;
  }

  // ---------------------------------------------------------------- lifecycle

  private async listen(port: number, host: string): Promise<void> {
    this.server.listen(port, host);
    await once(this.server, 'listening');
    const addr = this.server.address();
    if (addr && typeof addr === 'object') this.address = { host, port: addr.port };
    this.log('listening', { url: this.url, stateDir: this.stateDir });
  }

  private async shutdown(): Promise<void> {
    this.log('stopping', {});
    if (this.sweepTimer) clearInterval(this.sweepTimer);
    for (const conn of [...this.connections.values()]) {
      if (!conn.closing) this.closeConnection(conn, 1001, 'server shutting down');
    }
    const entries = [...this.sessions.values()].flatMap((s) => [...s.shells.values()]);
    const exits = entries.map((e) => e.shell.kill(KILL_GRACE_MS));
    // A close handshake gets a moment; then sockets are cut so nothing outlives stop().
    await Promise.race([
      Promise.all([...this.connections.values()].map((c) => once(c.ws, 'close').catch(() => undefined))),
      delay(500),
    ]);
    for (const conn of [...this.connections.values()]) conn.ws.terminate();
    for (const socket of this.rawSockets) socket.destroy();
    await Promise.race([Promise.all(exits), delay(KILL_GRACE_MS + 1000)]);
    // Jobs that ignored SIGHUP would outlive their shell: sweep each terminal session.
    for (const e of entries) e.shell.killSession('SIGKILL');
    this.sessions.clear();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
    this.wss.close();
    if (this.ownsStateDir) rmSync(this.stateDir, { recursive: true, force: true });
    this.log('stopped', {});
  }

  // ---------------------------------------------------------------- upgrade

  private async onUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    socket.on('error', () => socket.destroy());
    this.rawSockets.add(socket);
    socket.once('close', () => this.rawSockets.delete(socket));
    let ctx: UpgradeContext | undefined;
    try {
      const checked = await this.checkUpgrade(req);
      if ('status' in checked) {
        this.reject(socket, checked, req);
        return;
      }
      ctx = checked;
      if (socket.destroyed) return;
      this.upgradeContexts.set(req, ctx);
      const context = ctx;
      this.wss.handleUpgrade(req, socket, head, (ws) => {
        this.rawSockets.delete(socket);
        this.upgradeCounts.accepted++;
        this.emit('upgrade', { status: 101, runtimeArn: context.runtimeArn, sessionId: context.sessionId, shellId: context.shellId });
        this.onConnection(ws, context);
      });
    } catch (err) {
      this.reject(socket, { status: 500, errorType: 'InternalServerException', message: `emulator error: ${String(err)}` }, req, ctx);
    }
  }

  /** The service's checks, in its order; returns what to attach to, or why not. */
  private async checkUpgrade(req: IncomingMessage): Promise<UpgradeContext | Rejection> {
    if (this.stopping) return { status: 503, errorType: 'ServiceUnavailableException', message: 'emulator is shutting down' };
    const injected = this.failures[0];
    if (injected) {
      if (--injected.remaining <= 0) this.failures.shift();
      return { status: injected.status, errorType: injected.errorType, message: injected.message };
    }
    const rawUrl = req.url ?? '/';
    const q = rawUrl.indexOf('?');
    const rawPathname = q < 0 ? rawUrl : rawUrl.slice(0, q);
    const query = new URLSearchParams(q < 0 ? '' : rawUrl.slice(q + 1));
    const m = /^\/runtimes\/([^/]+)\/ws\/shells$/.exec(rawPathname);
    if (!m) return { status: 404, errorType: 'UnknownOperationException', message: `no such operation: ${rawPathname}` };
    let runtimeArn: string;
    try {
      runtimeArn = decodeURIComponent(m[1]);
    } catch {
      return { status: 400, errorType: 'ValidationException', message: 'runtime ARN is not valid percent-encoding' };
    }
    if (!this.runtimeArns.includes(runtimeArn)) {
      return { status: 404, errorType: 'ResourceNotFoundException', message: `No agent runtime found for ${runtimeArn}` };
    }
    const qualifier = query.get('qualifier');
    if (qualifier !== null && qualifier !== 'DEFAULT') {
      return { status: 404, errorType: 'ResourceNotFoundException', message: `No endpoint named '${qualifier}' for runtime ${runtimeArn}` };
    }
    if (req.method !== 'GET') return { status: 405, errorType: 'ValidationException', message: 'WebSocket upgrade must be a GET' };

    const verdict = await verifySigV4({
      method: req.method,
      rawPath: rawUrl,
      headers: req.headers,
      region: this.region,
      lookupCredentials: (id) => this.credentials.get(id),
      now: Date.now() + this.clockOffsetMs,
    });
    if (!verdict.ok) return { status: 403, errorType: verdict.errorType, message: verdict.reason };

    const sessionHeader = req.headers[SESSION_ID_HEADER];
    // Without a session id the service starts a new runtime session for this connection (Guide).
    const sessionId = (Array.isArray(sessionHeader) ? sessionHeader.join(',') : sessionHeader) ?? randomUUID();
    if (sessionId.length < MIN_SESSION_ID_LENGTH || sessionId.length > MAX_SESSION_ID_LENGTH) {
      return {
        status: 400, errorType: 'ValidationException',
        message: `runtimeSessionId must be between ${MIN_SESSION_ID_LENGTH} and ${MAX_SESSION_ID_LENGTH} characters, got ${sessionId.length}`,
      };
    }
    const shellId = query.get('shellId') ?? '';
    if (!SHELL_ID_PATTERN.test(shellId)) {
      return {
        status: 424, errorType: 'RuntimeClientError', error: 'InvalidShellId',
        message: `shellId must match ${SHELL_ID_PATTERN.source}`,
      };
    }
    const session = this.sessions.get(sessionId);
    const existing = session?.shells.get(shellId);
    const live = session ? [...session.shells.values()].filter((e) => e.shell.alive).length : 0;
    if (!(existing && existing.shell.alive) && live >= this.opts.maxShellsPerSession) {
      return {
        status: 424, errorType: 'RuntimeClientError', error: 'ShellLimitExceeded',
        message: `runtime session already has ${live} open shells (limit ${this.opts.maxShellsPerSession}); close one with 0xFF`,
      };
    }
    return { runtimeArn, sessionId, shellId };
  }

  private reject(socket: Duplex, r: Rejection, req: IncomingMessage, ctx?: UpgradeContext): void {
    this.upgradeCounts.rejected++;
    const shellId = new URLSearchParams((req.url ?? '').split('?')[1] ?? '').get('shellId') ?? undefined;
    const header = req.headers[SESSION_ID_HEADER];
    const event: UpgradeEvent = {
      status: r.status, errorType: r.errorType, message: r.message,
      runtimeArn: ctx?.runtimeArn, sessionId: ctx?.sessionId ?? (typeof header === 'string' ? header : undefined), shellId,
    };
    this.log('upgrade-rejected', { ...event });
    this.emit('upgrade', event);
    if (socket.destroyed) return;
    const body = JSON.stringify(r.error ? { error: r.error, message: r.message } : { message: r.message });
    socket.once('finish', () => socket.destroy());
    socket.end(
      `HTTP/1.1 ${r.status} ${STATUS_CODES[r.status] ?? 'Error'}\r\n` +
        'Content-Type: application/json\r\n' +
        `Content-Length: ${Buffer.byteLength(body)}\r\n` +
        `x-amzn-errortype: ${r.errorType}\r\n` +
        `x-amzn-requestid: ${randomUUID()}\r\n` +
        `Date: ${new Date(Date.now() + this.clockOffsetMs).toUTCString()}\r\n` +
        'Connection: close\r\n\r\n' +
        body,
    );
  }

  // ---------------------------------------------------------------- connections

  private session(sessionId: string, runtimeArn: string): Session {
    let session = this.sessions.get(sessionId);
    if (!session) {
      const dir = join(this.stateDir, safeDirName(sessionId));
      const vmDir = `${dir}.vm`;
      mkdirSync(dir, { recursive: true });
      mkdirSync(vmDir, { recursive: true });
      const now = Date.now();
      const lifetime: LifetimeStats = { sessionId, startedAt: now, endedAt: null, reason: null };
      this.lifetimes.push(lifetime);
      session = { id: sessionId, runtimeArn, dir, vmDir, shells: new Map(), lifetime, lastActiveAt: now };
      this.sessions.set(sessionId, session);
    }
    return session;
  }

  private spawnShell(session: Session, shellId: string): ShellEntry {
    const env = { ...this.opts.shellEnv, ...this.lifecycle.vmEnv?.({ vmDir: session.vmDir, storageDir: session.dir }) };
    const shell = new PtyShell({ cwd: session.dir, env, replayBytes: this.opts.replayBytes });
    const entry: ShellEntry = { sessionId: session.id, shellId, shell, startedAt: Date.now(), conn: undefined, exit: undefined };
    session.shells.set(shellId, entry);
    this.remember(this.shellHistory, entry, (e) => !e.shell.alive);
    this.log('shell-start', { sessionId: session.id, shellId, pid: shell.pid });
    shell.once('exit', (exit: ShellExit) => this.onShellExit(session, entry, exit));
    return entry;
  }

  private onShellExit(session: Session, entry: ShellEntry, exit: ShellExit): void {
    entry.exit = exit;
    if (session.shells.get(entry.shellId) === entry) session.shells.delete(entry.shellId);
    const conn = entry.conn;
    entry.conn = undefined;
    const reported = conn !== undefined && !conn.closing;
    if (conn && reported) {
      // All output was forwarded before node-pty reports the exit; the STATUS comes last.
      this.sendStatus(conn, exitStatus(exit.exitCode, exit.signal ?? undefined));
      this.closeConnection(conn, 1000, 'shell exited');
    }
    this.log('shell-exit', { sessionId: entry.sessionId, shellId: entry.shellId, pid: entry.shell.pid, ...exit, reported });
    this.emit('shell-exit', { sessionId: entry.sessionId, shellId: entry.shellId, pid: entry.shell.pid, ...exit, reported });
  }

  private onConnection(ws: WebSocket, ctx: UpgradeContext): void {
    const session = this.session(ctx.sessionId, ctx.runtimeArn);
    let entry = session.shells.get(ctx.shellId);
    const reconnected = entry !== undefined && entry.shell.alive;
    if (!entry || !entry.shell.alive) {
      try {
        entry = this.spawnShell(session, ctx.shellId);
      } catch (err) {
        this.log('shell-spawn-failed', { error: String(err) });
        ws.close(1011, 'could not start shell');
        return;
      }
    }
    const stats: ConnectionStats = {
      id: this.nextConnectionId++, sessionId: ctx.sessionId, shellId: ctx.shellId, open: true, reconnected,
      openedAt: Date.now(), closedAt: null, framesReceived: {}, textFrames: 0, maxFramesPerSecond: 0,
      bytesReceived: 0, inputPauses: 0, framesSent: 0, bytesSent: 0, closeCode: null, closeReason: null, closedBy: null,
    };
    const conn: Connection = {
      id: stats.id, ws, entry, stats, closing: false, frameTimes: [], consecutiveText: 0, ttlTimer: undefined, inputPoll: undefined,
    };
    this.connections.set(conn.id, conn);

    // A second client on the same shell takes it over; the first is told with 4000.
    const previous = entry.conn;
    if (previous) this.closeConnection(previous, 4000, 'another client attached to this shell');

    ws.on('message', (data: Buffer, isBinary: boolean) => this.onMessage(conn, data, isBinary));
    ws.on('error', (err: Error & { code?: string }) => {
      // ws closes the socket itself after a protocol error; record the code it used.
      if (conn.stats.closeCode === null) {
        conn.stats.closeCode = WS_ERROR_CLOSE_CODES[err.code ?? ''] ?? 1002;
        conn.stats.closeReason = err.message;
        conn.stats.closedBy = 'server';
      }
      this.log('ws-error', { connectionId: conn.id, error: err.message });
    });
    ws.on('close', (code: number, reason: Buffer) => this.onClose(conn, code, reason.toString('utf8')));
    conn.ttlTimer = setTimeout(() => this.closeConnection(conn, 1008, 'connection lifetime exceeded'), this.opts.connectionTtlMs);
    conn.ttlTimer.unref();

    const { replay, bytesDropped } = entry.shell.attach((chunk) => this.sendOutput(conn, chunk), this.opts.replayMode);
    entry.conn = conn;
    // The confirmation always comes first, then (on reattach only) the replay, then live output.
    this.sendStatus(conn, attachedStatus(ctx.shellId, reconnected, reconnected ? bytesDropped : 0));
    if (reconnected) this.sendOutput(conn, replay);
    const event: AttachEvent = {
      connectionId: conn.id, sessionId: ctx.sessionId, shellId: ctx.shellId, reconnected,
      bytesDropped: reconnected ? bytesDropped : 0, replayBytes: reconnected ? replay.length : 0,
    };
    this.log('attach', { ...event, pid: entry.shell.pid });
    this.emit('attach', event);
  }

  private onMessage(conn: Connection, data: Buffer, isBinary: boolean): void {
    if (conn.closing) return;
    const stats = conn.stats;
    stats.bytesReceived += data.length;
    // Sliding 1-second window over every client message; the deque never exceeds limit + 1.
    const now = Date.now();
    const times = conn.frameTimes;
    times.push(now);
    while (times.length > 0 && times[0] <= now - 1000) times.shift();
    stats.maxFramesPerSecond = Math.max(stats.maxFramesPerSecond, times.length);
    if (times.length > this.opts.maxFramesPerSecond) {
      this.closeConnection(conn, 1008, 'frame rate limit exceeded');
      return;
    }
    if (!isBinary) {
      stats.textFrames++;
      if (++conn.consecutiveText >= MAX_CONSECUTIVE_TEXT_FRAMES) this.closeConnection(conn, 1003, 'text frames are not supported');
      return;
    }
    conn.consecutiveText = 0;
    const frame = decodeShellFrame(data);
    const name = frame ? shellChannelName(frame.channel) : 'EMPTY';
    stats.framesReceived[name] = (stats.framesReceived[name] ?? 0) + 1;
    if (!frame) return;
    const shell = conn.entry.shell;
    switch (frame.channel) {
      case ShellChannel.STDIN:
        if (conn.inputDrop && (conn.inputDrop.left -= frame.payload.length) < 0) {
          const how = conn.inputDrop.how;
          this.log('drop-after-input', { connection: conn.id, mode: how.mode });
          if (how.mode === 'destroy') this.destroyConnection(conn);
          else this.closeConnection(conn, how.code, how.reason ?? 'closed by emulator control');
          return;
        }
        shell.write(frame.payload);
        this.applyInputBackpressure(conn);
        return;
      case ShellChannel.RESIZE: {
        const size = parseResize(frame.payload);
        if (size) shell.resize(size.width, size.height);
        return;
      }
      case ShellChannel.HEARTBEAT:
        this.send(conn, encodeShellFrame(ShellChannel.HEARTBEAT));
        return;
      case ShellChannel.CLOSE:
        this.closeShellForGood(conn);
        return;
      default:
        // Unknown channels (and server-only channels sent by a client) are ignored.
        return;
    }
  }

  /** 0xFF from the client: the shell dies (SIGHUP, then SIGKILL), the server echoes 0xFF and closes 1000. */
  private closeShellForGood(conn: Connection): void {
    const entry = conn.entry;
    // Out of the session at once: the next attach with this shellId gets a new shell.
    const session = this.sessions.get(entry.sessionId);
    if (session?.shells.get(entry.shellId) === entry) session.shells.delete(entry.shellId);
    this.send(conn, encodeShellFrame(ShellChannel.CLOSE));
    // Detaches first, so the exit that follows sends no STATUS.
    this.closeConnection(conn, 1000, 'shell closed');
    void entry.shell.kill();
  }

  private onClose(conn: Connection, code: number, reason: string): void {
    clearTimeout(conn.ttlTimer);
    clearInterval(conn.inputPoll);
    const stats = conn.stats;
    if (stats.closeCode === null) {
      stats.closeCode = code;
      stats.closeReason = reason;
      stats.closedBy = code === 1006 ? 'network' : 'client';
    }
    stats.open = false;
    stats.closedAt = Date.now();
    conn.closing = true;
    this.detach(conn);
    this.connections.delete(conn.id);
    this.remember(this.closedConnections, stats, () => true);
    this.log('close', { connectionId: conn.id, code: stats.closeCode, reason: stats.closeReason, by: stats.closedBy });
  }

  /** Stops the shell's output going to this connection; the shell runs on, detached. */
  private detach(conn: Connection): void {
    const entry = conn.entry;
    if (entry.conn !== conn) return;
    entry.conn = undefined;
    entry.shell.detach();
    const stats = conn.stats;
    const event: DetachEvent = { connectionId: conn.id, sessionId: stats.sessionId, shellId: stats.shellId, code: stats.closeCode, reason: stats.closeReason };
    this.log('detach', { ...event });
    this.emit('detach', event);
  }

  private closeConnection(conn: Connection, code: number, reason: string): void {
    if (conn.closing) return;
    conn.closing = true;
    conn.stats.closeCode = code;
    conn.stats.closeReason = reason;
    conn.stats.closedBy = 'server';
    this.detach(conn);
    try {
      conn.ws.close(code, reason);
    } catch (err) {
      this.log('close-failed', { connectionId: conn.id, error: String(err) });
      conn.ws.terminate();
    }
  }

  /** Cuts the TCP connection with no close frame: the client sees 1006. */
  private destroyConnection(conn: Connection): void {
    if (conn.closing) return;
    conn.closing = true;
    conn.stats.closeCode = 1006;
    conn.stats.closeReason = 'connection destroyed by emulator';
    conn.stats.closedBy = 'network';
    this.detach(conn);
    conn.ws.terminate();
  }

  private sendStatus(conn: Connection, status: StatusMessage): void {
    this.send(conn, encodeShellFrame(ShellChannel.STATUS, Buffer.from(JSON.stringify(status), 'utf8')));
  }

  /** STDOUT frames of at most 65535 payload bytes; a reader that falls 8 MiB behind is closed 1008. */
  private sendOutput(conn: Connection, chunk: Buffer): void {
    for (let off = 0; off < chunk.length && !conn.closing; off += MAX_SHELL_FRAME_PAYLOAD_BYTES) {
      this.send(conn, encodeShellFrame(ShellChannel.STDOUT, chunk.subarray(off, off + MAX_SHELL_FRAME_PAYLOAD_BYTES)));
    }
    if (!conn.closing && conn.ws.bufferedAmount > this.opts.maxBufferedBytes) {
      this.closeConnection(conn, 1008, 'write buffer full');
    }
  }

  private send(conn: Connection, frame: Buffer): void {
    if (frame.length === 0 || conn.ws.readyState !== WebSocket.OPEN) return;
    conn.stats.framesSent++;
    conn.stats.bytesSent += frame.length;
    conn.ws.send(frame, { binary: true });
  }

  /** While the PTY has not taken 1 MiB of input, stop reading the socket (TCP pushes back on the client). */
  private applyInputBackpressure(conn: Connection): void {
    if (conn.inputPoll || conn.entry.shell.inputBacklog() <= MAX_INPUT_BACKLOG) return;
    conn.ws.pause();
    conn.stats.inputPauses++;
    conn.inputPoll = setInterval(() => {
      if (conn.closing || !conn.entry.shell.alive || conn.entry.shell.inputBacklog() <= MAX_INPUT_BACKLOG / 2) {
        clearInterval(conn.inputPoll);
        conn.inputPoll = undefined;
        conn.ws.resume();
      }
    }, 20);
    conn.inputPoll.unref();
  }

  // ---------------------------------------------------------------- HTTP control

  private onHttpRequest(req: IncomingMessage, res: ServerResponse): void {
    const path = (req.url ?? '/').split('?')[0];
    const reply = (status: number, body: unknown, errorType?: string): void => {
      const text = JSON.stringify(body);
      res.writeHead(status, {
        'content-type': 'application/json',
        'content-length': Buffer.byteLength(text),
        ...(errorType ? { 'x-amzn-errortype': errorType } : {}),
      });
      res.end(text);
    };
    if (!path.startsWith('/_emulator/')) {
      if (path.startsWith('/runtimes/')) reply(400, { message: 'this operation needs a WebSocket upgrade' }, 'ValidationException');
      else reply(404, { message: `no such operation: ${path}` }, 'UnknownOperationException');
      return;
    }
    if (req.method === 'GET' && path === '/_emulator/stats') {
      reply(200, this.stats());
      return;
    }
    if (req.method !== 'POST') {
      reply(405, { message: 'use POST' });
      return;
    }
    readJsonBody(req)
      .then((body) => {
        switch (path) {
          case '/_emulator/drop': {
            const how: DropHow = body.mode === 'close'
              ? { mode: 'close', code: Number(body.code ?? 1001), reason: optString(body.reason) }
              : { mode: 'destroy' };
            reply(200, { dropped: this.dropConnections({ sessionId: optString(body.sessionId), shellId: optString(body.shellId) }, how) });
            return;
          }
          case '/_emulator/fail-upgrades':
            this.failNextUpgrades(Number(body.count ?? 1), Number(body.status), optString(body.errorType) ?? 'ThrottlingException', optString(body.message));
            reply(200, { ok: true });
            return;
          case '/_emulator/idle-out':
            reply(200, { killed: this.idleOutSession(optString(body.sessionId) ?? '') });
            return;
          case '/_emulator/kill-shell':
            reply(200, { killed: this.killShell(optString(body.sessionId) ?? '', optString(body.shellId) ?? '', (optString(body.signal) ?? 'SIGKILL') as NodeJS.Signals) });
            return;
          default:
            reply(404, { message: `no such control: ${path}` });
        }
      })
      .catch((err: unknown) => reply(400, { message: String(err instanceof Error ? err.message : err) }));
  }

  // ---------------------------------------------------------------- helpers

  /** Appends to a bounded history, evicting the oldest entries that `evictable` allows. */
  private remember<T>(list: T[], item: T, evictable: (t: T) => boolean): void {
    list.push(item);
    for (let i = 0; list.length > MAX_HISTORY && i < list.length; ) {
      if (evictable(list[i])) list.splice(i, 1);
      else i++;
    }
  }

  private log(event: string, fields: Record<string, unknown>): void {
    if (!this.opts.verbose) return;
    const parts = Object.entries(fields)
      .filter(([, v]) => v !== undefined)
      .map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`);
    process.stderr.write(`[emulator] ${new Date().toISOString()} ${event} ${parts.join(' ')}\n`);
  }
}

/** The close code ws uses for each protocol error it detects while reading. */
const WS_ERROR_CLOSE_CODES: Record<string, number> = {
  WS_ERR_UNSUPPORTED_MESSAGE_LENGTH: 1009,
  WS_ERR_UNSUPPORTED_DATA_PAYLOAD_LENGTH: 1009,
  WS_ERR_INVALID_UTF8: 1007,
};

function parseResize(payload: Buffer): { width: number; height: number } | undefined {
  try {
    const v = JSON.parse(payload.toString('utf8')) as { width?: unknown; height?: unknown };
    const ok = (n: unknown): n is number => Number.isInteger(n) && (n as number) > 0 && (n as number) <= 0xffff;
    return v && ok(v.width) && ok(v.height) ? { width: v.width, height: v.height } : undefined;
  } catch {
    return undefined;
  }
}

/** A directory name for any session id: kept as is when already safe, else sanitised plus a hash. */
export function safeDirName(sessionId: string): string {
  if (/^[A-Za-z0-9_-]{1,128}$/.test(sessionId)) return sessionId;
  const hash = createHash('sha256').update(sessionId).digest('hex').slice(0, 16);
  return `${sessionId.replace(/[^A-Za-z0-9_-]/g, '_').slice(0, 64)}-${hash}`;
}

async function readJsonBody(req: IncomingMessage): Promise<Record<string, unknown>> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_CONTROL_BODY) throw new Error('control body too large');
    chunks.push(chunk);
  }
  const text = Buffer.concat(chunks).toString('utf8').trim();
  if (!text) return {};
  const value: unknown = JSON.parse(text);
  if (!value || typeof value !== 'object' || Array.isArray(value)) throw new Error('control body must be a JSON object');
  return value as Record<string, unknown>;
}

function optString(v: unknown): string | undefined {
  return typeof v === 'string' ? v : undefined;
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}
