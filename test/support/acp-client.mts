// ACP test client: a real ACP client (SDK 2.4.0 `client()` app) that spawns an
// ACP agent command (the bridge, or the test agent) and drives it the way
// OpenAB does. It is remote-controlled: COMMANDS arrive as JSON lines on stdin,
// REPLIES and EVENTS leave as JSON lines on stdout (and nothing else goes to
// stdout; diagnostics go to stderr).
//
// Command:  {"seq":N,"op":"...", ...}     Reply: {"seq":N, ...result fields} or {"seq":N,"error":{code,message,data?}}
// Event:    {"event":"update"|"exit"|"permission"|"junk"|"request"|"notification"|"stderr", ...}
// See acp-client-driver.ts for the jest-side wrapper and the full op list.
import { client, ndJsonStream, RequestError } from '@agentclientprotocol/sdk';
import type { ClientConnection, ContentBlock, PermissionOption, RequestPermissionResponse, SessionUpdate } from '@agentclientprotocol/sdk';
import { spawn, type ChildProcess, type StdioOptions } from 'node:child_process';
import { Writable } from 'node:stream';
import * as fs from 'node:fs';
import { format } from 'node:util';

const MAX_MESSAGE_BYTES = 64 * 1024 * 1024;

// ---- stdout is ours: JSON lines only ----------------------------------------
const diag = (...args: unknown[]) => {
  try {
    process.stderr.write(`acp-client[${process.pid}] ${format(...args)}\n`);
  } catch {
    /* ignore */
  }
};
console.log = console.info = console.warn = console.error = console.debug = diag;
process.stdout.on('error', () => shutdown(1));
process.stderr.on('error', () => {});

function out(obj: unknown): void {
  process.stdout.write(JSON.stringify(obj) + '\n');
}

type ErrorBody = { code: number; message: string; data?: unknown };
function errorBody(e: unknown): ErrorBody {
  if (e instanceof RequestError) return { code: e.code, message: e.message, ...(e.data !== undefined ? { data: e.data } : {}) };
  if (e && typeof e === 'object' && 'code' in e && typeof (e).code === 'number' && 'message' in e) {
    const x = e as ErrorBody;
    return { code: x.code, message: String(x.message), ...(x.data !== undefined ? { data: x.data } : {}) };
  }
  return { code: -1, message: e instanceof Error ? e.message : String(e) };
}

class CommandError extends Error {
  constructor(
    readonly code: number,
    message: string,
  ) {
    super(message);
  }
}

function withTimeout<T>(p: Promise<T>, timeoutMs: number | undefined): Promise<T> {
  if (!timeoutMs || timeoutMs <= 0) return p;
  return new Promise<T>((resolve, reject) => {
    const t = setTimeout(() => reject(new CommandError(-1, 'timeout')), timeoutMs);
    p.then(
      (v) => {
        clearTimeout(t);
        resolve(v);
      },
      (e) => {
        clearTimeout(t);
        reject(e instanceof Error ? e : new Error(String(e)));
      },
    );
  });
}

// ---- agent process + ACP connection -----------------------------------------
type ExitInfo = { pid: number; code: number | null; signal: NodeJS.Signals | null };
type Collector = { text: string; count: number; kinds: Record<string, number>; collected?: SessionUpdate[] };
type PermissionPolicy = 'openab' | 'cancel' | { optionId: string };
type JunkFilter = 'none' | 'openab';

type Agent = {
  child: ChildProcess;
  pid: number;
  conn: ClientConnection;
  exit?: ExitInfo;
  exited: Promise<ExitInfo>;
  quietUpdates: boolean;
  collectors: Map<string, Set<Collector>>;
  permission: PermissionPolicy;
};

let current: Agent | undefined;

/** OpenAB's rule: first allow_always, else allow_once, else first non-reject option; none → cancelled. */
function choosePermission(options: PermissionOption[] | undefined, policy: PermissionPolicy): RequestPermissionResponse {
  if (policy === 'cancel') return { outcome: { outcome: 'cancelled' } };
  if (typeof policy === 'object') return { outcome: { outcome: 'selected', optionId: policy.optionId } };
  if (!options) return { outcome: { outcome: 'selected', optionId: 'allow_always' } };
  const pick =
    options.find((o) => o.kind === 'allow_always') ??
    options.find((o) => o.kind === 'allow_once') ??
    options.find((o) => !String(o.kind).startsWith('reject'));
  return pick ? { outcome: { outcome: 'selected', optionId: pick.optionId } } : { outcome: { outcome: 'cancelled' } };
}

/**
 * Splits the agent's stdout into lines, reports every line that is not a
 * JSON-RPC 2.0 object (or whose id is neither absent, null nor a non-negative
 * integer — OpenAB drops those) as a `junk` event, and forwards the bytes to
 * the SDK's ndJsonStream. With filter 'openab' junk lines are dropped like
 * OpenAB does; with 'none' the SDK sees them (and answers -32700 / -32600).
 */
function lineTap(source: NodeJS.ReadableStream, filter: JunkFilter, pid: number): ReadableStream<Uint8Array> {
  let pending: Buffer[] = [];
  return new ReadableStream<Uint8Array>({
    start(controller) {
      const handleLine = (line: Buffer) => {
        const reason = classify(line);
        if (reason) {
          const text = line.toString('utf8');
          out({ event: 'junk', pid, reason, bytes: line.length, line: text.length > 500 ? text.slice(0, 500) + '…' : text });
          if (filter === 'openab') return;
        }
        controller.enqueue(new Uint8Array(line.buffer, line.byteOffset, line.length));
      };
      source.on('data', (chunk: Buffer) => {
        let start = 0;
        for (;;) {
          const nl = chunk.indexOf(10, start);
          if (nl === -1) break;
          const piece = chunk.subarray(start, nl + 1);
          const line = pending.length ? Buffer.concat([...pending, piece]) : piece;
          pending = [];
          handleLine(line);
          start = nl + 1;
        }
        if (start < chunk.length) pending.push(chunk.subarray(start));
      });
      source.on('end', () => {
        if (pending.length) handleLine(Buffer.concat(pending));
        pending = [];
        controller.close();
      });
      source.on('error', (e) => controller.error(e));
    },
  });
}

function classify(line: Buffer): string | undefined {
  const text = line.toString('utf8').trim();
  if (!text) return undefined;
  let msg: unknown;
  try {
    msg = JSON.parse(text);
  } catch {
    return 'not-json';
  }
  if (!msg || typeof msg !== 'object' || Array.isArray(msg)) return 'not-jsonrpc';
  const m = msg as Record<string, unknown>;
  if (m.jsonrpc !== '2.0') return 'not-jsonrpc';
  if ('id' in m && m.id !== null && !(typeof m.id === 'number' && Number.isInteger(m.id) && m.id >= 0)) return 'bad-id';
  if (!('method' in m) && !('result' in m) && !('error' in m)) return 'not-jsonrpc';
  return undefined;
}

type SpawnCmd = {
  command: string;
  args?: string[];
  env?: Record<string, string>;
  replaceEnv?: boolean;
  cwd?: string;
  /** 'ignore', 'inherit', 'pipe', or a file path. */
  stderr?: string;
  quietUpdates?: boolean;
  permission?: PermissionPolicy;
  filter?: JunkFilter;
};

async function opSpawn(cmd: SpawnCmd): Promise<object> {
  if (current && !current.exit) throw new CommandError(-1, `agent already running (pid ${current.pid})`);
  if (!cmd.command) throw new CommandError(-32602, 'spawn: command missing');
  const stderrOpt = cmd.stderr ?? 'ignore';
  let stderrFd: number | undefined;
  let stderrSpec: 'inherit' | 'ignore' | 'pipe' | number;
  if (stderrOpt === 'inherit' || stderrOpt === 'ignore' || stderrOpt === 'pipe') stderrSpec = stderrOpt;
  else stderrSpec = stderrFd = fs.openSync(stderrOpt, 'a');
  const env = cmd.replaceEnv ? { ...(cmd.env ?? {}) } : { ...process.env, ...(cmd.env ?? {}) };
  const stdio: StdioOptions = ['pipe', 'pipe', stderrSpec];
  // Own process group, like OpenAB, so a group kill takes the agent's children too.
  const child = spawn(cmd.command, cmd.args ?? [], { cwd: cmd.cwd, env, stdio, detached: true });
  if (stderrFd !== undefined) fs.closeSync(stderrFd);
  await new Promise<void>((resolve, reject) => {
    child.once('spawn', resolve);
    child.once('error', reject);
  }).catch((e: Error) => {
    throw new CommandError(-1, `spawn failed: ${e.message}`);
  });
  const pid = child.pid!;
  child.stdin!.on('error', (e) => diag('agent stdin error', e.message));
  if (stderrSpec === 'pipe') child.stderr!.on('data', (d: Buffer) => out({ event: 'stderr', pid, text: d.toString('utf8') }));

  const collectors = new Map<string, Set<Collector>>();
  const quietUpdates = Boolean(cmd.quietUpdates);
  const permission = cmd.permission ?? 'openab';

  const app = client({ name: 'acp-test-client' })
    .onNotification('session/update', ({ params }) => {
      const { sessionId, update } = params;
      const set = collectors.get(sessionId);
      if (set) {
        for (const c of set) {
          c.count++;
          c.kinds[update.sessionUpdate] = (c.kinds[update.sessionUpdate] ?? 0) + 1;
          if (update.sessionUpdate === 'agent_message_chunk' && update.content.type === 'text') c.text += update.content.text;
          c.collected?.push(update);
        }
      }
      if (!quietUpdates) out({ event: 'update', pid, sessionId, update });
    })
    .onRequest('session/request_permission', ({ params }) => {
      out({ event: 'permission', pid, params });
      return choosePermission(params.options, permission);
    })
    .onRequest('*', ({ method, params }) => {
      out({ event: 'request', pid, method, params });
      throw RequestError.methodNotFound(method);
    })
    .onNotification('*', ({ method, params }) => {
      out({ event: 'notification', pid, method, params });
    });

  const stream = ndJsonStream(Writable.toWeb(child.stdin!) as WritableStream<Uint8Array>, lineTap(child.stdout!, cmd.filter ?? 'none', pid), {
    maxMessageBytes: MAX_MESSAGE_BYTES,
  });
  const conn = app.connect(stream);

  const agent: Agent = {
    child,
    pid,
    conn,
    quietUpdates,
    collectors,
    permission,
    exited: new Promise<ExitInfo>((resolve) => {
      child.once('exit', (code, signal) => {
        const info: ExitInfo = { pid, code, signal };
        agent.exit = info;
        out({ event: 'exit', ...info });
        resolve(info);
        // Normally stdout EOF closes the connection (rejecting pending requests);
        // if a grandchild keeps stdout open, close it ourselves.
        setTimeout(() => conn.close(new Error('agent process exited')), 3000).unref();
      });
    }),
  };
  void conn.closed.then(() => diag('connection closed', pid, String(conn.signal.reason)));
  current = agent;
  return { pid };
}

function need(): Agent {
  if (!current) throw new CommandError(-1, 'no agent spawned');
  return current;
}

type PromptCmd = { sessionId: string; text?: string; prompt?: ContentBlock[]; collect?: boolean; timeoutMs?: number };

async function opPrompt(cmd: PromptCmd): Promise<object> {
  const a = need();
  const prompt: ContentBlock[] = cmd.prompt ?? [{ type: 'text', text: cmd.text ?? '' }];
  const col: Collector = { text: '', count: 0, kinds: {}, ...(cmd.collect ? { collected: [] } : {}) };
  let set = a.collectors.get(cmd.sessionId);
  if (!set) a.collectors.set(cmd.sessionId, (set = new Set()));
  set.add(col);
  const partial = () => ({ text: col.text, updates: col.count, kinds: col.kinds, ...(col.collected ? { collected: col.collected } : {}) });
  try {
    const result = await withTimeout(a.conn.agent.request('session/prompt', { sessionId: cmd.sessionId, prompt }), cmd.timeoutMs);
    // Notifications are dispatched through a few microtasks; the response
    // resolves at once. Let every earlier update land before reporting.
    await new Promise((r) => setImmediate(r));
    return { result, ...partial() };
  } catch (e) {
    await new Promise((r) => setImmediate(r));
    return { error: errorBody(e), ...partial() };
  } finally {
    set.delete(col);
    if (set.size === 0 && a.collectors.get(cmd.sessionId) === set) a.collectors.delete(cmd.sessionId);
  }
}

async function waitExit(a: Agent, timeoutMs?: number): Promise<object> {
  const info = await withTimeout(a.exited, timeoutMs);
  return { code: info.code, signal: info.signal, pid: info.pid };
}

function signalAgent(a: Agent, signal: NodeJS.Signals, group: boolean): void {
  try {
    process.kill(group ? -a.pid : a.pid, signal);
  } catch (e) {
    if (group) {
      try {
        process.kill(a.pid, signal);
      } catch {
        /* already gone */
      }
    } else diag('kill failed', (e as Error).message);
  }
}

type KillCmd = { signal?: NodeJS.Signals; group?: boolean; escalateMs?: number; timeoutMs?: number };

async function opKill(cmd: KillCmd): Promise<object> {
  const a = need();
  if (!a.exit) {
    signalAgent(a, cmd.signal ?? 'SIGTERM', cmd.group ?? false);
    if (cmd.escalateMs !== undefined) {
      const t = setTimeout(() => {
        if (!a.exit) signalAgent(a, 'SIGKILL', cmd.group ?? false);
      }, cmd.escalateMs);
      void a.exited.then(() => clearTimeout(t));
    }
  }
  return waitExit(a, cmd.timeoutMs);
}

async function opClose(cmd: { timeoutMs?: number }): Promise<object> {
  const a = need();
  if (!a.exit) a.child.stdin!.end();
  return waitExit(a, cmd.timeoutMs);
}

async function opWrite(cmd: { data: string }): Promise<object> {
  const a = need();
  await new Promise<void>((resolve, reject) => a.child.stdin!.write(cmd.data, (e) => (e ? reject(e) : resolve())));
  return {};
}

let shuttingDown = false;
function shutdown(code: number): void {
  if (shuttingDown) return;
  shuttingDown = true;
  if (current && !current.exit) signalAgent(current, 'SIGKILL', true);
  // Let stdout drain before leaving.
  process.stdout.write('', () => process.exit(code));
  setTimeout(() => process.exit(code), 1000).unref();
}

type Command = { seq: number; op: string; timeoutMs?: number; [k: string]: unknown };

// Commands run concurrently (a prompt may be in flight while a cancel comes),
// except that every command waits for a spawn issued before it.
let spawning: Promise<unknown> = Promise.resolve();

async function dispatch(cmd: Command): Promise<object> {
  if (cmd.op === 'spawn') {
    const p = spawning.then(() => opSpawn(cmd as unknown as SpawnCmd));
    spawning = p.catch(() => {});
    return p;
  }
  await spawning;
  switch (cmd.op) {
    case 'request': {
      const a = need();
      const result = await withTimeout(a.conn.agent.request(cmd.method as string, cmd.params), cmd.timeoutMs);
      return { result: result === undefined ? null : result };
    }
    case 'prompt':
      return opPrompt(cmd as unknown as PromptCmd);
    case 'notify': {
      const a = need();
      await withTimeout(a.conn.agent.notify(cmd.method as string, cmd.params), cmd.timeoutMs);
      return {};
    }
    case 'cancel': {
      const a = need();
      await withTimeout(a.conn.agent.notify('session/cancel', { sessionId: cmd.sessionId as string }), cmd.timeoutMs);
      return {};
    }
    case 'kill':
      return opKill(cmd);
    case 'close':
      return opClose(cmd);
    case 'write':
      return opWrite(cmd as unknown as { data: string });
    case 'status': {
      const a = current;
      return a ? { pid: a.pid, running: !a.exit, exit: a.exit ?? null } : { pid: null, running: false, exit: null };
    }
    case 'quit':
      setImmediate(() => shutdown(0));
      return {};
    default:
      throw new CommandError(-32601, `unknown op ${JSON.stringify(cmd.op)}`);
  }
}

function handleCommandLine(line: string): void {
  if (!line.trim()) return;
  let cmd: Command;
  try {
    cmd = JSON.parse(line);
  } catch {
    out({ event: 'bad-command', line: line.slice(0, 200) });
    return;
  }
  const seq = cmd.seq;
  dispatch(cmd).then(
    (reply) => out({ seq, ...reply }),
    (e) => out({ seq, error: errorBody(e) }),
  );
}

// ---- command channel ----------------------------------------------------------
{
  let pending: Buffer[] = [];
  process.stdin.on('data', (chunk: Buffer) => {
    let start = 0;
    for (;;) {
      const nl = chunk.indexOf(10, start);
      if (nl === -1) break;
      const piece = chunk.subarray(start, nl);
      const line = pending.length ? Buffer.concat([...pending, piece]) : piece;
      pending = [];
      handleCommandLine(line.toString('utf8'));
      start = nl + 1;
    }
    if (start < chunk.length) pending.push(chunk.subarray(start));
  });
  process.stdin.on('end', () => {
    if (pending.length) handleCommandLine(Buffer.concat(pending).toString('utf8'));
    shutdown(0);
  });
  process.on('SIGTERM', () => shutdown(0));
  process.on('SIGINT', () => shutdown(0));
}
