// Jest-side (CommonJS) driver for the remote-controlled ACP test client
// (test/support/acp-client.mts, bundled to dist/test/acp-client.mjs). It
// spawns `node dist/test/acp-client.mjs`, sends JSON-line commands, matches
// replies by `seq`, and re-emits the client's unsolicited events on `events`.
import { spawn, type ChildProcess } from 'node:child_process';
import { EventEmitter } from 'node:events';
import * as path from 'node:path';

/** Bundled files, relative to the repository root. */
export const REPO_ROOT = path.resolve(__dirname, '..', '..');
export const ACP_CLIENT_BUNDLE = path.join(REPO_ROOT, 'dist', 'test', 'acp-client.mjs');
export const ACP_AGENT_BUNDLE = path.join(REPO_ROOT, 'dist', 'test', 'acp-agent.mjs');

/** OpenAB's exact `initialize` params (openab src/acp/connection.rs). */
export const OPENAB_INITIALIZE_PARAMS = {
  protocolVersion: 1,
  clientCapabilities: {},
  clientInfo: { name: 'openab', version: '0.1.0' },
} as const;

export type ContentBlock = { type: string; [k: string]: unknown };

/** Error from the agent (JSON-RPC error) or from the client (code -1: timeout, connection closed, no agent…). */
export class AcpError extends Error {
  constructor(
    readonly code: number,
    message: string,
    readonly data?: unknown,
    /** For a failed prompt: what had streamed before the failure. */
    readonly partial?: { text: string; updates: number; kinds: Record<string, number>; collected?: unknown[] },
  ) {
    super(message);
    this.name = 'AcpError';
  }
}

export type SpawnOptions = {
  /** Extra env, merged over the client's env (which is this jest process's env) unless replaceEnv. */
  env?: Record<string, string>;
  /** Use `env` as the whole environment (OpenAB clears the env). */
  replaceEnv?: boolean;
  cwd?: string;
  /** Agent stderr: 'ignore' (default, like OpenAB), 'inherit' (client's stderr), 'pipe' (→ 'stderr' events), or a file path (appended). */
  stderr?: string;
  /** Do not emit an 'update' event per session/update (prompt replies still count them). */
  quietUpdates?: boolean;
  /** How to answer session/request_permission: OpenAB's rule (default), always cancel, or a fixed optionId. */
  permission?: 'openab' | 'cancel' | { optionId: string };
  /** 'none' (default): junk stdout lines reach the SDK (which answers -32700/-32600); 'openab': dropped silently like OpenAB. Both emit 'junk' events. */
  filter?: 'none' | 'openab';
  timeoutMs?: number;
};

export type PromptOptions = { collect?: boolean; timeoutMs?: number };
export type PromptReply = {
  result: { stopReason: string; [k: string]: unknown };
  /** Concatenated agent_message_chunk texts received during the prompt. */
  text: string;
  /** Number of session/update notifications for this session received during the prompt. */
  updates: number;
  /** Those notifications counted per `sessionUpdate` kind. */
  kinds: Record<string, number>;
  /** The updates themselves, when `collect: true`. */
  collected?: any[];
};
export type ExitReply = { code: number | null; signal: string | null; pid: number };

/** Waits for `p` to settle, at most `ms`; never rejects and leaves no timer behind. */
function settleWithin(p: Promise<unknown>, ms: number): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    const done = () => {
      clearTimeout(timer);
      resolve();
    };
    p.then(done, done);
  });
}

type Pending = { resolve: (v: any) => void; reject: (e: Error) => void };

export class AcpClientDriver {
  /** Events: 'update' {pid,sessionId,update}, 'exit' {pid,code,signal}, 'permission' {pid,params}, 'junk' {pid,reason,bytes,line}, 'request' {pid,method,params}, 'notification' {pid,method,params}, 'stderr' {pid,text}, 'client-exit' {code,signal}. */
  readonly events = new EventEmitter();
  /** Last ~64 KiB of the client's stderr (SDK diagnostics), for debugging failures. */
  stderrTail = '';
  /** Pids of every agent spawned through this driver. */
  readonly agentPids: number[] = [];
  /** Spawned agents whose exit the client has not reported yet (dispose kills these). */
  private readonly liveAgentPids = new Set<number>();
  private seq = 0;
  private readonly pending = new Map<number, Pending>();
  private exited = false;
  private readonly exitPromise: Promise<void>;

  private constructor(private readonly proc: ChildProcess) {
    this.events.setMaxListeners(100);
    this.exitPromise = new Promise((resolve) => {
      proc.once('exit', (code, signal) => {
        this.exited = true;
        const err = new AcpError(-1, `acp-client exited (code ${code}, signal ${signal}) ${this.stderrTail.slice(-2000)}`);
        for (const p of this.pending.values()) p.reject(err);
        this.pending.clear();
        this.events.emit('client-exit', { code, signal });
        resolve();
      });
    });
    let chunks: Buffer[] = [];
    proc.stdout!.on('data', (chunk: Buffer) => {
      let start = 0;
      for (;;) {
        const nl = chunk.indexOf(10, start);
        if (nl === -1) break;
        const piece = chunk.subarray(start, nl);
        const line = chunks.length ? Buffer.concat([...chunks, piece]) : piece;
        chunks = [];
        this.onLine(line.toString('utf8'));
        start = nl + 1;
      }
      if (start < chunk.length) chunks.push(chunk.subarray(start));
    });
    proc.stderr!.on('data', (d: Buffer) => {
      this.stderrTail = (this.stderrTail + d.toString('utf8')).slice(-65536);
    });
    proc.stdin!.on('error', () => {});
  }

  /** Starts `node dist/test/acp-client.mjs` (or `clientPath`). */
  static async start(opts: { clientPath?: string } = {}): Promise<AcpClientDriver> {
    const proc = spawn(process.execPath, [opts.clientPath ?? ACP_CLIENT_BUNDLE], { stdio: ['pipe', 'pipe', 'pipe'] });
    await new Promise<void>((resolve, reject) => {
      proc.once('spawn', resolve);
      proc.once('error', reject);
    });
    return new AcpClientDriver(proc);
  }

  private onLine(line: string): void {
    if (!line.trim()) return;
    let msg: any;
    try {
      msg = JSON.parse(line);
    } catch {
      this.stderrTail += `\n[driver] unparsable client line: ${line.slice(0, 200)}\n`;
      return;
    }
    if (typeof msg.seq === 'number') {
      const p = this.pending.get(msg.seq);
      if (p) {
        this.pending.delete(msg.seq);
        p.resolve(msg);
      }
    } else if (typeof msg.event === 'string') {
      if (msg.event === 'exit') this.liveAgentPids.delete(msg.pid);
      this.events.emit(msg.event, msg);
    }
  }

  /** Sends a raw command and resolves with the raw reply ({seq, ...} possibly with `error`). */
  command(op: string, fields: Record<string, unknown> = {}): Promise<any> {
    if (this.exited) return Promise.reject(new AcpError(-1, 'acp-client is not running'));
    const seq = ++this.seq;
    return new Promise((resolve, reject) => {
      this.pending.set(seq, { resolve, reject });
      this.proc.stdin!.write(JSON.stringify({ ...fields, seq, op }) + '\n');
    });
  }

  private async call(op: string, fields: Record<string, unknown> = {}): Promise<any> {
    const reply = await this.command(op, fields);
    if (reply.error) throw new AcpError(reply.error.code, reply.error.message, reply.error.data);
    return reply;
  }

  /** Spawns the ACP agent process (the bridge, or any ACP agent) and connects the SDK client to its stdio. */
  async spawn(command: string, args: string[] = [], opts: SpawnOptions = {}): Promise<{ pid: number }> {
    const reply = await this.call('spawn', { command, args, ...opts });
    this.agentPids.push(reply.pid);
    this.liveAgentPids.add(reply.pid);
    return { pid: reply.pid };
  }

  /** Sends a JSON-RPC request to the agent; resolves with its result, rejects with AcpError. */
  async request(method: string, params?: unknown, opts: { timeoutMs?: number } = {}): Promise<any> {
    return (await this.call('request', { method, params, timeoutMs: opts.timeoutMs })).result;
  }

  /** Sends a notification to the agent. */
  async notify(method: string, params?: unknown): Promise<void> {
    await this.call('notify', { method, params });
  }

  /** `initialize` with OpenAB's exact params. */
  initialize(opts: { timeoutMs?: number } = {}): Promise<any> {
    return this.request('initialize', OPENAB_INITIALIZE_PARAMS, opts);
  }

  /** `session/new` like OpenAB ({cwd, mcpServers: []}); resolves with the sessionId. */
  async newSession(cwd: string, opts: { timeoutMs?: number } = {}): Promise<string> {
    return (await this.request('session/new', { cwd, mcpServers: [] }, opts)).sessionId;
  }

  /** `session/load` like OpenAB ({sessionId, cwd, mcpServers: []}). */
  loadSession(sessionId: string, cwd: string, opts: { timeoutMs?: number } = {}): Promise<any> {
    return this.request('session/load', { sessionId, cwd, mcpServers: [] }, opts);
  }

  /** `session/prompt` with one text block (or the given blocks). */
  async prompt(sessionId: string, textOrBlocks: string | ContentBlock[], opts: PromptOptions = {}): Promise<PromptReply> {
    const body = typeof textOrBlocks === 'string' ? { text: textOrBlocks } : { prompt: textOrBlocks };
    const reply = await this.command('prompt', { sessionId, ...body, collect: opts.collect, timeoutMs: opts.timeoutMs });
    if (reply.error) {
      throw new AcpError(reply.error.code, reply.error.message, reply.error.data, {
        text: reply.text,
        updates: reply.updates,
        kinds: reply.kinds,
        collected: reply.collected,
      });
    }
    return { result: reply.result, text: reply.text, updates: reply.updates, kinds: reply.kinds, collected: reply.collected };
  }

  /** `session/cancel` notification (fire and forget). */
  cancel(sessionId: string): void {
    this.command('cancel', { sessionId }).catch(() => {});
  }

  /** Writes raw bytes to the agent's stdin, bypassing the SDK. */
  async write(data: string): Promise<void> {
    await this.call('write', { data });
  }

  /** Signals the agent (default SIGTERM; `group` → its process group; `escalateMs` → SIGKILL after that, as OpenAB does with 1500) and resolves once it exited. */
  async kill(signal: NodeJS.Signals = 'SIGTERM', opts: { group?: boolean; escalateMs?: number; timeoutMs?: number } = {}): Promise<ExitReply> {
    const r = await this.call('kill', { signal, ...opts });
    return { code: r.code, signal: r.signal, pid: r.pid };
  }

  /** Ends the agent's stdin and resolves once it exited. */
  async close(opts: { timeoutMs?: number } = {}): Promise<ExitReply> {
    const r = await this.call('close', opts);
    return { code: r.code, signal: r.signal, pid: r.pid };
  }

  /** {pid, running, exit} of the current agent. */
  async status(): Promise<{ pid: number | null; running: boolean; exit: { pid: number; code: number | null; signal: string | null } | null }> {
    const r = await this.call('status');
    return { pid: r.pid, running: r.running, exit: r.exit };
  }

  /** Resolves with the first `event` whose payload satisfies `predicate`; rejects after timeoutMs. */
  waitForEvent<T = any>(event: string, predicate: (ev: T) => boolean = () => true, timeoutMs = 10_000): Promise<T> {
    return new Promise((resolve, reject) => {
      const onEvent = (ev: T) => {
        if (!predicate(ev)) return;
        cleanup();
        resolve(ev);
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(new Error(`timed out after ${timeoutMs} ms waiting for event '${event}'`));
      }, timeoutMs);
      const cleanup = () => {
        clearTimeout(timer);
        this.events.off(event, onEvent);
      };
      this.events.on(event, onEvent);
    });
  }

  /** Kills the agent (its process group) and the client; never throws. */
  async dispose(): Promise<void> {
    if (!this.exited) {
      await settleWithin(this.command('quit'), 2000);
      await settleWithin(this.exitPromise, 2000);
      if (!this.exited) {
        this.proc.kill('SIGKILL');
        await settleWithin(this.exitPromise, 2000);
      }
    }
    // The client kills its agent's group on quit; this covers a client that died first.
    for (const pid of this.liveAgentPids) {
      for (const target of [-pid, pid]) {
        try {
          process.kill(target, 'SIGKILL');
        } catch {
          /* gone */
        }
      }
    }
    this.events.removeAllListeners();
  }
}
