/**
 * The npm-published ACP agents (devDependencies) as the bridge starts them in the
 * emulator's PTY shell: their ACP commands, with the environment that points them at a
 * model API stand-in on loopback, and one interface over the two stand-ins so the same
 * cases run against each agent (real-agent-suite.ts).
 */
import { existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { AGENTS } from '../../shared/contract/agents';
import { codexConfig, ENV_CODEX_MODEL, ENV_OPENAI_BASE_URL } from '../../runtimes/src/agent-state';
import { REPO_ROOT } from './acp-client-driver';
import * as anthropic from './anthropic-stand-in';
import type { Harness } from './bridge-harness';
import type { ModelApiStandIn } from './model-api-server';
import * as openai from './openai-stand-in';
import { bigText } from './patterns';

/** What the model does for one prompt: text, optionally a file written through the agent's own tool. */
export interface ScriptedTurn {
  readonly text: string;
  readonly writeFile?: { readonly path: string; readonly content: string };
  /** Streamed in this many pieces, this far apart (a slow answer, to cancel). */
  readonly pieces?: number;
  readonly pieceDelayMs?: number;
}

/** A model API stand-in as the cases see it, whatever API it speaks. */
export interface ModelStandIn {
  /** What the model answers: per prompt, and `afterTool` once a tool has run. */
  script(answer: (prompt: string) => ScriptedTurn, afterTool: string): void;
  /** The user's prompt in the latest turn request. */
  lastPrompt(): string;
  /** Everything the latest turn request carries (all messages), to find an earlier turn in it. */
  lastConversation(): string;
  stop(): Promise<void>;
}

export interface RealAgent {
  readonly name: string;
  /** Starts the stand-in and says how the bridge starts the agent against it. */
  start(h: Harness): Promise<{ readonly model: ModelStandIn; readonly shellCommand: string }>;
  /** Whether the agent has written a conversation to disk, where it keeps them. */
  hasSavedConversation(h: Harness, runtimeSessionId: string): boolean;
  /** Deletes the conversations it saved (as a lost volume would). */
  forgetConversations(h: Harness, runtimeSessionId: string): void;
  /** A large prompt it takes intact. */
  readonly largePrompt: { readonly what: string; readonly text: string };
}

/** `claude-agent-acp` 0.23.1: the Claude Agent SDK, which runs the Claude Code CLI it bundles. */
export const CLAUDE_AGENT_ACP = path.join(REPO_ROOT, 'node_modules', '@zed-industries', 'claude-agent-acp', 'dist', 'index.js');

/**
 * Claude Code reads its key from ANTHROPIC_API_KEY and its endpoint from ANTHROPIC_BASE_URL, and
 * keeps its settings and conversations under $HOME (`.claude.json`, `.claude/projects/<cwd with
 * dashes>/<session id>.jsonl`): in the emulator HOME is the runtime session's persistent directory.
 */
export const claudeCode: RealAgent = {
  name: 'Claude Code (claude-agent-acp)',
  async start() {
    const model = await anthropic.AnthropicStandIn.start();
    const shellCommand = [
      `ANTHROPIC_BASE_URL=${model.url}`,
      'ANTHROPIC_API_KEY=sk-ant-stand-in',
      // Offline: no telemetry, update checks or other calls beyond the model API.
      'CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC=1',
      'DISABLE_AUTOUPDATER=1',
      'DISABLE_TELEMETRY=1',
      process.execPath,
      CLAUDE_AGENT_ACP,
    ].join(' ');
    return { model: anthropicModel(model), shellCommand };
  },
  hasSavedConversation: (h, runtimeSessionId) => filesEndingIn(claudeProjects(h, runtimeSessionId), '.jsonl').length > 0,
  forgetConversations: (h, runtimeSessionId) => rmSync(claudeProjects(h, runtimeSessionId), { recursive: true, force: true }),
  largePrompt: {
    // ASCII: the Claude Code CLI has been seen to corrupt a multi-byte character split across its
    // 64 KiB stdin reads. About 100k tokens: Claude Code compacts a prompt over its 200k-token
    // context window before the model sees it.
    what: '400 KB',
    text: Array.from({ length: 6_500 }, (_, i) => `line ${String(i).padStart(6, '0')} of the big prompt, ${'abcdefghij'.repeat(3)}`).join('\n'),
  },
};

function claudeProjects(h: Harness, runtimeSessionId: string): string {
  return path.join(h.emulator.sessionDir(runtimeSessionId), '.claude', 'projects');
}

export function anthropicModel(standIn: anthropic.AnthropicStandIn): ModelStandIn {
  return modelStandIn(standIn, {
    name: 'Anthropic',
    isAfterTool: anthropic.isToolResult,
    lastUserText: anthropic.lastUserText,
    conversationText: anthropic.conversationText,
    turn: ({ text, writeFile: file, pieces, pieceDelayMs }) => ({
      text,
      toolUse: file && { name: 'Write', input: { file_path: file.path, content: file.content } },
      pieces,
      pieceDelayMs,
    }),
  });
}

/** `codex-acp` 0.16.0's native binary for this platform (one optional dependency per platform). */
export function codexAcpBinary(): string {
  const file = path.join(REPO_ROOT, 'node_modules', '@zed-industries', `codex-acp-${process.platform}-${process.arch}`, 'bin', 'codex-acp');
  if (!existsSync(file)) throw new Error(`codex-acp has no binary installed for ${process.platform}-${process.arch} (${file})`);
  return file;
}

/** The key's variable, named by the provider's `env_key`; Codex sends it as a bearer token. */
const CODEX_KEY_VARIABLE = AGENTS.codex.apiKeyEnv;

/**
 * Codex reads its config and keeps its state in CODEX_HOME: config.toml, each conversation as a
 * rollout file under `sessions/YYYY/MM/DD/`, and SQLite state beside them.
 */
export const codex: RealAgent = {
  name: 'Codex (codex-acp)',
  async start(h) {
    const model = await openai.OpenAiStandIn.start();
    const codexHome = writeCodexHome(path.join(h.dir, 'codex-home'), model.baseUrl);
    return { model: responsesModel(model), shellCommand: `CODEX_HOME=${codexHome} ${CODEX_KEY_VARIABLE}=sk-stand-in RUST_LOG=warn ${codexAcpBinary()}` };
  },
  hasSavedConversation: (h) => filesEndingIn(path.join(h.dir, 'codex-home', 'sessions'), '.jsonl').length > 0,
  forgetConversations: (h) => rmSync(path.join(h.dir, 'codex-home', 'sessions'), { recursive: true, force: true }),
  largePrompt: { what: '1 MB of 1- to 4-byte characters', text: bigText(1024 * 1024) },
};

/**
 * The config.toml the image renders (agent-state.ts: its own model provider on the Responses
 * API, commands asked for through ACP, no sandbox), pointed at the Responses API stand-in, with
 * no retries so a failing request fails the test at once.
 */
export function writeCodexHome(dir: string, baseUrl: string): string {
  mkdirSync(dir, { recursive: true });
  // A model Codex has metadata for: with an unknown one it warns inside the conversation itself.
  const config = codexConfig({ [ENV_OPENAI_BASE_URL]: baseUrl, [ENV_CODEX_MODEL]: 'gpt-5.4-mini' }, CODEX_KEY_VARIABLE);
  // The rendered config ends with its provider's table, so these keys belong to that provider.
  writeFileSync(path.join(dir, 'config.toml'), `${config}request_max_retries = 0\nstream_max_retries = 0\n`);
  return dir;
}

export function responsesModel(standIn: openai.OpenAiStandIn): ModelStandIn {
  return modelStandIn(standIn, {
    name: 'Responses',
    isAfterTool: openai.isToolOutput,
    lastUserText: openai.lastUserText,
    conversationText: openai.conversationText,
    turn: ({ text, writeFile: file, pieces, pieceDelayMs }) => ({
      text,
      toolCall: file && {
        kind: 'function' as const,
        name: 'exec_command',
        arguments: { cmd: `printf '%s' ${shellQuote(file.content)} > ${shellQuote(file.path)}` },
      },
      pieces,
      pieceDelayMs,
    }),
  });
}

/** How one API's stand-in reads its requests and says a scripted turn. */
interface ApiShape<Body, Turn> {
  readonly name: string;
  /** The request answers a tool the agent ran. */
  isAfterTool(body: Body): boolean;
  lastUserText(body: Body): string;
  conversationText(body: Body): string;
  /** The turn in the API's terms, a file written through the agent's own tool. */
  turn(scripted: ScriptedTurn): Turn;
}

function modelStandIn<Body, Turn>(standIn: ModelApiStandIn<Body, Turn>, api: ApiShape<Body, Turn>): ModelStandIn {
  const latest = () => lastOf(standIn.turnRequests(), `the ${api.name} stand-in has had no turn request`);
  return {
    script(answer, afterTool) {
      standIn.setReplier((body) => api.turn(api.isAfterTool(body) ? { text: afterTool } : answer(api.lastUserText(body))));
    },
    lastPrompt: () => api.lastUserText(latest()),
    lastConversation: () => api.conversationText(latest()),
    stop: () => standIn.stop(),
  };
}

/** The thread's working directory (OAB's `working_dir`), inside the harness's directory. */
export function workspace(h: Harness): string {
  const dir = path.join(h.dir, 'workspace');
  mkdirSync(dir, { recursive: true });
  return dir;
}

/** A new thread: spawn the bridge, initialize, open a session in `cwd`. */
export async function openThread(h: Harness, shellCommand: string, cwd: string): Promise<string> {
  await h.spawnBridge({ shellCommand });
  await h.client.initialize({ timeoutMs: 30_000 });
  return h.client.newSession(cwd, { timeoutMs: 30_000 });
}

/** What OAB does for a thread it saved: a fresh bridge that loads the session. */
export async function resumeThread(h: Harness, shellCommand: string, sessionId: string, cwd: string): Promise<unknown> {
  await h.spawnBridge({ shellCommand });
  await h.client.initialize({ timeoutMs: 30_000 });
  return h.client.loadSession(sessionId, cwd, { timeoutMs: 30_000 });
}

/** The bridge's log events named `event`. */
export function logged(h: Harness, event: string): Array<Record<string, unknown>> {
  return h.logEvents().filter((e) => e.event === event);
}

function lastOf<T>(items: readonly T[], whenNone: string): T {
  if (items.length === 0) throw new Error(whenNone);
  return items[items.length - 1];
}

/** Files under `dir` (recursively) whose name ends in `suffix`. */
export function filesEndingIn(dir: string, suffix: string): string[] {
  return existsSync(dir) ? readdirSync(dir, { recursive: true }).map(String).filter((f) => f.endsWith(suffix)) : [];
}

function shellQuote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}
