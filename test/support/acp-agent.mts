// ACP test agent: a real ACP agent built on @agentclientprotocol/sdk 2.4.0 that
// stands in for Kiro/Claude/Codex. It runs on plain pipes or inside a PTY that
// the caller put in raw mode (`stty raw -echo`), speaking newline-delimited
// JSON-RPC on stdin/stdout. Prompt texts are commands (see README in the
// report / handlePrompt below) so tests can provoke bursts, huge messages,
// crashes, junk output, permission requests and cancellation.
//
// stdout carries JSON-RPC lines only (unless a prompt asks for `noise`, or
// ACP_TEST_AGENT_BANNER is set); SDK diagnostics (console.*) go to
// <state>/agent.log, because inside a PTY stderr and stdout are the same stream.
import { createHash } from 'node:crypto';
import { agent, ndJsonStream, RequestError, PROTOCOL_VERSION } from '@agentclientprotocol/sdk';
import type { AgentContext, AnyMessage, ContentBlock, SessionUpdate, StopReason } from '@agentclientprotocol/sdk';
import { Readable, Writable } from 'node:stream';
import { randomUUID } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as os from 'node:os';
import { format } from 'node:util';
import { execFileSync } from 'node:child_process';
import { bigText, burstChunks, commandText, digestReply, echoReply, splitText } from './patterns.js';

const MAX_MESSAGE_BYTES = 64 * 1024 * 1024;
/** Conceal, keyboard protocol query, background colour query (OSC ended by ST), device attributes, a stray CR. */
const TERMINAL_QUERIES = '\x1b[8m\x1b[?u\x1b]11;?\x1b\\\x1b[c\r';

const stateDir = process.env.ACP_TEST_AGENT_STATE || path.join(process.env.HOME || os.homedir(), '.acp-test-agent');
const sessionsDir = path.join(stateDir, 'sessions');
fs.mkdirSync(sessionsDir, { recursive: true });
const receivedLog = path.join(stateDir, 'received.log');

// ---- diagnostics: never on stdout, and not on stderr unless asked ----------
const logTarget = process.env.ACP_TEST_AGENT_LOG || path.join(stateDir, 'agent.log');
function log(...args: unknown[]): void {
  const line = `${new Date().toISOString()} [${process.pid}] ${format(...args)}\n`;
  try {
    if (logTarget === 'stderr') process.stderr.write(line);
    else if (logTarget !== 'none') fs.appendFileSync(logTarget, line);
  } catch {
    /* logging must never break the agent */
  }
}
console.log = console.info = console.warn = console.error = console.debug = log;

// A dead reader (EPIPE / closed PTY) ends the agent quietly.
process.stdout.on('error', () => process.exit(0));
process.stderr.on('error', () => {});

// ---- sessions ---------------------------------------------------------------
type Turn = { role: 'user' | 'agent'; text: string };
type Session = { sessionId: string; cwd: string; createdAt: string; history: Turn[]; inflight: Set<AbortController> };

const sessions = new Map<string, Session>();

function sessionFile(id: string): string {
  // Session ids are used in file names: keep them to a safe alphabet.
  if (!/^[A-Za-z0-9._-]{1,200}$/.test(id) || id.startsWith('.')) throw RequestError.sessionNotFound(id);
  return path.join(sessionsDir, `${id}.json`);
}

function persist(s: Session): void {
  const file = sessionFile(s.sessionId);
  const tmp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, JSON.stringify({ sessionId: s.sessionId, cwd: s.cwd, createdAt: s.createdAt, history: s.history }));
  fs.renameSync(tmp, file);
}

function readPersisted(id: string): Session | undefined {
  let raw: string;
  try {
    raw = fs.readFileSync(sessionFile(id), 'utf8');
  } catch {
    return undefined;
  }
  const data = JSON.parse(raw) as Omit<Session, 'inflight'>;
  return { ...data, history: data.history ?? [], inflight: new Set() };
}

function getSession(id: string): Session {
  let s = sessions.get(id);
  if (!s && process.env.ACP_TEST_AGENT_AUTOLOAD === '1') {
    s = readPersisted(id);
    if (s) sessions.set(id, s);
  }
  if (!s) throw RequestError.sessionNotFound(id);
  return s;
}

// ---- helpers ----------------------------------------------------------------
function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const t = setTimeout(done, ms);
    function done() {
      clearTimeout(t);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}

function promptText(blocks: ContentBlock[]): string {
  let text = '';
  for (const b of blocks) if (b.type === 'text') text += b.text;
  return text;
}

function int(word: string | undefined, fallback: number): number {
  const n = Number(word);
  return word !== undefined && Number.isFinite(n) ? Math.trunc(n) : fallback;
}

function recordReceived(msg: AnyMessage): void {
  try {
    const m = msg as { method?: string; id?: unknown; params?: { sessionId?: unknown; n?: unknown; data?: unknown } };
    const entry: Record<string, unknown> = {
      pid: process.pid,
      t: Date.now(),
      method: m.method ?? null,
      id: m.id ?? null,
      sessionId: (m.params && typeof m.params === 'object' && m.params.sessionId) || null,
      bytes: Buffer.byteLength(JSON.stringify(msg)),
    };
    // Test notifications carry a sequence number and a payload: record both so tests can check order and content.
    if (m.method?.startsWith('_test/') && m.params && typeof m.params === 'object') {
      entry.n = m.params.n ?? null;
      entry.sha256 = createHash('sha256').update(typeof m.params.data === 'string' ? m.params.data : '').digest('hex');
    }
    fs.appendFileSync(receivedLog, JSON.stringify(entry) + '\n');
  } catch (e) {
    log('received.log write failed', e);
  }
}

// ---- the ACP app --------------------------------------------------------------
const app = agent({ name: 'acp-test-agent' })
  .onRequest('initialize', async () => {
    const delay = int(process.env.ACP_TEST_AGENT_INIT_DELAY_MS, 0);
    if (delay > 0) await sleep(delay);
    // What gemini-cli does on a terminal: queries and modes with no newline, so the answer follows on the same line.
    if (process.env.ACP_TEST_AGENT_TERMINAL_QUERIES === 'initialize') process.stdout.write(TERMINAL_QUERIES);
    return {
      protocolVersion: PROTOCOL_VERSION,
      agentCapabilities: { loadSession: true, promptCapabilities: { image: true, embeddedContext: true } },
      agentInfo: { name: 'acp-test-agent', version: '1.0.0' },
      authMethods: [],
    };
  })
  .onRequest('session/new', ({ params }) => {
    const s: Session = { sessionId: randomUUID(), cwd: params.cwd, createdAt: new Date().toISOString(), history: [], inflight: new Set() };
    sessions.set(s.sessionId, s);
    persist(s);
    return { sessionId: s.sessionId };
  })
  .onRequest('session/load', async ({ params, client }) => {
    const mode = process.env.ACP_TEST_AGENT_LOAD;
    if (mode === 'exit') process.exit(0); // what kiro-cli 2.4 does on an unknown id
    if (mode === 'hang') return new Promise<never>(() => {});
    if (mode === 'error') throw RequestError.internalError({ sessionId: params.sessionId }, 'session/load refused (ACP_TEST_AGENT_LOAD=error)');
    const s = sessions.get(params.sessionId) ?? readPersisted(params.sessionId);
    if (!s) throw RequestError.sessionNotFound(params.sessionId);
    sessions.set(s.sessionId, s);
    for (const turn of s.history) {
      await client.notify('session/update', {
        sessionId: s.sessionId,
        update: { sessionUpdate: turn.role === 'user' ? 'user_message_chunk' : 'agent_message_chunk', content: { type: 'text', text: turn.text } },
      });
    }
    return {};
  })
  .onRequest('session/prompt', async ({ params, client, signal }) => {
    const s = getSession(params.sessionId);
    const text = promptText(params.prompt);
    const priorUserTexts = s.history.filter((t) => t.role === 'user').map((t) => t.text);
    s.history.push({ role: 'user', text });
    persist(s);

    const ac = new AbortController();
    const onAbort = () => ac.abort();
    signal.addEventListener('abort', onAbort, { once: true });
    s.inflight.add(ac);
    let reply = '';
    const update = (u: SessionUpdate) => client.notify('session/update', { sessionId: s.sessionId, update: u });
    const say = (t: string) => {
      reply += t;
      return update({ sessionUpdate: 'agent_message_chunk', content: { type: 'text', text: t } });
    };
    try {
      const stopReason = await runCommand({ text, sessionId: s.sessionId, priorUserTexts, say, update, cancel: ac.signal, client });
      // `big-answer N`: the answer itself carries N bytes (in `_meta`), to make it as large as wanted.
      const padding = /^big-answer (\d+)$/.exec(commandText(text).trim());
      return padding ? { stopReason, _meta: { padding: 'p'.repeat(Number(padding[1])) } } : { stopReason };
    } finally {
      signal.removeEventListener('abort', onAbort);
      s.inflight.delete(ac);
      if (reply) {
        s.history.push({ role: 'agent', text: reply });
        persist(s);
      }
    }
  })
  // Registered after session/prompt on purpose: the SDK walks handlers in
  // registration order with an await per step, so a cancel that arrives right
  // behind its prompt still finds the prompt in flight.
  .onNotification('session/cancel', ({ params }) => {
    const s = sessions.get(params.sessionId);
    if (s) for (const ac of s.inflight) ac.abort();
  });

type Ctx = {
  text: string;
  sessionId: string;
  priorUserTexts: string[];
  say: (t: string) => Promise<void>;
  update: (u: SessionUpdate) => Promise<void>;
  cancel: AbortSignal;
  client: AgentContext;
};

async function runCommand(c: Ctx): Promise<StopReason> {
  const cmd = commandText(c.text).trim();
  const words = cmd.split(/\s+/);
  const cancelled = (): StopReason => 'cancelled';
  switch (words[0]) {
    case 'burst': {
      const n = int(words[1], 10);
      // Queue everything at once: the SDK serialises writes in call order.
      const writes = burstChunks(n).map((t) => c.say(t));
      await Promise.all(writes);
      return 'end_turn';
    }
    case 'big': {
      await c.say(bigText(int(words[1], 1024)));
      return 'end_turn';
    }
    case 'digest': {
      await c.say(digestReply(c.text));
      return 'end_turn';
    }
    case 'slow': {
      const n = int(words[1], 10);
      const ms = int(words[2], 100);
      for (const chunk of burstChunks(n)) {
        if (c.cancel.aborted) return cancelled();
        await c.say(chunk);
        await sleep(ms, c.cancel);
      }
      return c.cancel.aborted ? cancelled() : 'end_turn';
    }
    case 'sleep': {
      const ms = int(words[1], 1000);
      await sleep(ms, c.cancel);
      if (c.cancel.aborted) return cancelled();
      await c.say(`slept ${ms}`);
      return 'end_turn';
    }
    case 'history': {
      await c.say(JSON.stringify(c.priorUserTexts));
      return 'end_turn';
    }
    case 'pid': {
      await c.say(`pid:${process.pid}`);
      return 'end_turn';
    }
    case 'exit': {
      process.exit(int(words[1], 1));
    }
    case 'noise': {
      process.stdout.write('this line is not JSON at all\n');
      process.stdout.write('\x1b[1;31mANSI noise\x1b[0m\x1b[K\n');
      process.stdout.write('{"hello":1}\n');
      await c.say('noise done');
      return 'end_turn';
    }
    case 'env': {
      // Whether a variable reached this process, and a hash of it: never the value itself.
      const name = words[1] ?? '';
      const value = process.env[name];
      await c.say(value === undefined ? `env:${name}:unset` : `env:${name}:${createHash('sha256').update(value).digest('hex').slice(0, 16)}`);
      return 'end_turn';
    }
    case 'cwd': {
      await c.say(`cwd:${process.cwd()} home:${process.env.HOME ?? ''}`);
      return 'end_turn';
    }
    case 'remember': {
      // Kept the way Kiro CLI keeps its conversations: a SQLite database under XDG_DATA_HOME.
      const note = words.slice(1).join(' ').replace(/'/g, "''");
      sqlite(`CREATE TABLE IF NOT EXISTS notes(t TEXT); INSERT INTO notes VALUES('${note}');`);
      await c.say(`remembered ${words.slice(1).join(' ')}`);
      return 'end_turn';
    }
    case 'recall': {
      await c.say(`recalled [${sqlite("CREATE TABLE IF NOT EXISTS notes(t TEXT); SELECT group_concat(t, ',') FROM notes;").trim()}]`);
      return 'end_turn';
    }
    case 'partial': {
      // Half a message and no newline, then gone: what a crash mid-write looks like.
      process.stdout.write('{"jsonrpc":"2.0","method":"session/update","params":{"sessionId":', () => process.exit(0));
      return new Promise<never>(() => undefined);
    }
    case 'hostile': {
      // Valid JSON-RPC the client must not see as its own: a response to nothing, and a string-id response.
      process.stdout.write('{"jsonrpc":"2.0","id":987654,"result":{"stopReason":"end_turn"}}\n');
      process.stdout.write('{"jsonrpc":"2.0","id":"not-yours","result":null}\n');
      process.stdout.write('\x1b]0;title\x07\x1b[?1049h\x1b[2J{"jsonrpc":"2.0","method":"session/update"\n');
      process.stdout.write('[1,2,3]\n\n   \n');
      await c.say('hostile done');
      return 'end_turn';
    }
    case 'stderr': {
      process.stderr.write(`acp-test-agent[${process.pid}]: a line on stderr\n`);
      await c.say('stderr done');
      return 'end_turn';
    }
    case 'tool': {
      const toolCallId = `call-${randomUUID()}`;
      await c.update({ sessionUpdate: 'agent_thought_chunk', content: { type: 'text', text: 'thinking about a tool' } });
      await c.update({ sessionUpdate: 'tool_call', toolCallId, title: 'Run a test tool', kind: 'execute', status: 'pending' });
      await c.update({ sessionUpdate: 'tool_call_update', toolCallId, status: 'completed' });
      await c.say('tool done');
      return 'end_turn';
    }
    case 'permission': {
      // `permission N`: a tool title of N bytes, to make the request as large as wanted.
      const title = words[1] ? 'T'.repeat(int(words[1], 1)) : 'Write a file';
      const request = c.client.request('session/request_permission', {
        sessionId: c.sessionId,
        toolCall: { toolCallId: `perm-${randomUUID()}`, title, kind: 'edit', status: 'pending' },
        options: [
          { optionId: 'allow_once', name: 'Allow once', kind: 'allow_once' },
          { optionId: 'allow_always', name: 'Always allow', kind: 'allow_always' },
          { optionId: 'reject_once', name: 'Reject', kind: 'reject_once' },
        ],
      });
      const aborted = new Promise<'aborted'>((resolve) => {
        if (c.cancel.aborted) resolve('aborted');
        c.cancel.addEventListener('abort', () => resolve('aborted'), { once: true });
      });
      const res = await Promise.race([request, aborted]).catch((e: { code?: number }) => ({ failed: e.code ?? 'unknown' }));
      if (res === 'aborted') return cancelled();
      if ('failed' in res) {
        await c.say(`permission:error:${res.failed}`);
        return 'end_turn';
      }
      const outcome = res.outcome;
      await c.say(`permission:${outcome.outcome === 'selected' ? outcome.optionId : 'cancelled'}`);
      return 'end_turn';
    }
    case 'fs': {
      // An agent->client request that OpenAB never answers; for bridge tests.
      try {
        const r = await c.client.request('fs/read_text_file', { sessionId: c.sessionId, path: words[1] || '/etc/hostname' });
        await c.say(`fs:ok:${r.content.length}`);
      } catch (e) {
        await c.say(`fs:error:${(e as { code?: number }).code ?? 'unknown'}`);
      }
      return 'end_turn';
    }
    default: {
      for (const part of splitText(echoReply(cmd), 3)) await c.say(part);
      return 'end_turn';
    }
  }
}

// ---- wire it to stdio ---------------------------------------------------------
const wire = ndJsonStream(
  Writable.toWeb(process.stdout) as WritableStream<Uint8Array>,
  Readable.toWeb(process.stdin) as ReadableStream<Uint8Array>,
  { maxMessageBytes: MAX_MESSAGE_BYTES },
);
/** Ids of the `session/new` requests received, for the answer's variants below. */
const newSessionRequests = new Set<unknown>();
const newSessionVariant = process.env.ACP_TEST_AGENT_NEW_ANSWER;
const tapped = {
  writable: newSessionVariant ? tapNewSessionAnswer(wire.writable, newSessionVariant) : wire.writable,
  readable: wire.readable.pipeThrough(
    new TransformStream<AnyMessage, AnyMessage>({
      transform(msg, controller) {
        recordReceived(msg);
        if ('method' in msg && msg.method === 'session/new' && 'id' in msg) newSessionRequests.add(msg.id);
        controller.enqueue(msg);
      },
    }),
  ),
};

/**
 * ACP_TEST_AGENT_NEW_ANSWER changes the answer to `session/new`:
 * - `update-after`: what gemini-cli does, a `session/update` for the new session right behind
 *   the answer; both go out in one write, so a reader gets them in the same chunk;
 * - `no-session-id`: the answer without its sessionId.
 */
function tapNewSessionAnswer(writable: WritableStream<AnyMessage>, variant: string): WritableStream<AnyMessage> {
  const tap = new TransformStream<AnyMessage, AnyMessage>({
    transform(msg, controller) {
      const answer = msg as { id?: unknown; result?: { sessionId?: unknown } };
      if (!newSessionRequests.delete(answer.id) || typeof answer.result?.sessionId !== 'string') return controller.enqueue(msg);
      if (variant === 'no-session-id') return controller.enqueue({ ...msg, result: { ...answer.result, sessionId: undefined } });
      const update = {
        jsonrpc: '2.0',
        method: 'session/update',
        params: {
          sessionId: answer.result.sessionId,
          update: { sessionUpdate: 'available_commands_update', availableCommands: [{ name: 'history', description: 'earlier prompts' }] },
        },
      };
      process.stdout.write(`${JSON.stringify(msg)}\n${JSON.stringify(update)}\n`);
    },
  });
  void tap.readable.pipeTo(writable);
  return tap.writable;
}

if (process.env.ACP_TEST_AGENT_BANNER) process.stdout.write(process.env.ACP_TEST_AGENT_BANNER + '\n');
// The same queries at start-up, so they stand in front of whatever the agent answers first.
if (process.env.ACP_TEST_AGENT_TERMINAL_QUERIES === 'start') process.stdout.write(TERMINAL_QUERIES);
log('started', { stateDir, argv: process.argv, stdinTTY: process.stdin.isTTY, stdoutTTY: process.stdout.isTTY });

const connection = app.connect(tapped);
void connection.closed.then(() => {
  log('connection closed', connection.signal.reason);
  process.exit(0);
});

/** Runs SQL on the agent's database, as Kiro CLI's `data.sqlite3` would be placed. */
function sqlite(sql: string): string {
  const dataHome = process.env.XDG_DATA_HOME || path.join(process.env.HOME || os.homedir(), '.local', 'share');
  const db = path.join(dataHome, 'kiro-cli', 'data.sqlite3');
  fs.mkdirSync(path.dirname(db), { recursive: true });
  return execFileSync(process.env.OPENAB_SQLITE3 || 'sqlite3', [db, sql], { encoding: 'utf8' });
}

