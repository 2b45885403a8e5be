/**
 * The ACP side of the bridge: answers `initialize` itself, maps the client's one
 * session onto a remote runtime session and shell, starts, reattaches or restarts
 * the remote agent as needed, relays every other message both ways, and makes
 * sure each request from the client gets exactly one answer.
 */
import type { CredentialSource } from '../credentials';
import type { BridgeConfig } from '../args';
import { BridgeError, type BridgeErrorCode, isBridgeError } from '../errors';
import {
  errorResponse,
  INTERNAL_ERROR,
  INVALID_PARAMS,
  METHOD_NOT_FOUND,
  isBlank,
  type JsonRpcId,
  type Message,
  parseLine,
  jsonStringReplacer,
  resultResponse,
  SESSION_NOT_FOUND,
} from '../jsonrpc';
import type { Logger } from '../logger';
import { collectAfterLargeMessage } from '../release-memory';
import { AgentRequestError, RemoteAgent } from '../agent/remote-agent';
import { type ClientSessionId, decodeClientSessionId, encodeClientSessionId, newToken, type RemoteIds, remoteIds } from './session-id';
import { Deadline, Waiter, within } from '../wait';
import { metricFields } from '../../../shared/metrics';
import { turnOutcome, turnRecord, type TurnOutcome } from './turns';

declare const __BRIDGE_VERSION__: string;
export const BRIDGE_VERSION = typeof __BRIDGE_VERSION__ === 'string' ? __BRIDGE_VERSION__ : '0.0.0-dev';

/** OAB gives `session/load` 30 s; answer well inside it. */
const LOAD_BUDGET_MS = 27_000;
/** How long a cancelled prompt may take to finish by itself before the agent is stopped. */
const CANCEL_GRACE_MS = 1_000;
const SESSION_NEW_TIMEOUT_MS = 110_000;
/** Client input waiting for the shell above which stdin is no longer read (every buffer has a limit). */
export const MAX_INPUT_BACKLOG = 32 * 1024 * 1024;

export interface BridgeIo {
  /** Writes one JSON-RPC line (with newline) to the client; false when the pipe is full. */
  write(line: Buffer): boolean;
  /** Called once the client's pipe has room again. */
  onDrain(cb: () => void): void;
  /** Stops reading the client's input until {@link resumeInput}. */
  pauseInput(): void;
  resumeInput(): void;
  /** Ends the process after the pending output is flushed. */
  exit(code: number): void;
}

export interface BridgeDeps {
  readonly config: BridgeConfig;
  readonly credentials: CredentialSource;
  readonly logger: Logger;
  readonly io: BridgeIo;
  /** Heartbeat interval override (tests compress hours into seconds). */
  readonly heartbeatMs?: number;
}

interface Session {
  readonly client: ClientSessionId;
  /** The remote agent's current session id (changes only if its conversation could not be restored). */
  agentSessionId: string;
  agent: RemoteAgent | undefined;
  /** The agent was found still running in its shell (not started by this process). */
  reattached?: boolean;
  /** Why the agent is not running, when it is not. */
  stoppedBecause?: string;
}

interface IdSwap {
  readonly client: string;
  readonly agent: string;
  readonly toAgent: (line: Buffer) => Buffer[];
  readonly toClient: (line: Buffer) => Buffer[];
}

interface Pending {
  readonly id: number | string;
  readonly method: string;
  cancelled?: boolean;
  /** When it reached the bridge, and when the agent first streamed an update for it (prompts: the `turn` record). */
  readonly startedAt: number;
  firstUpdateAt?: number;
}

type LoadOutcome =
  | { readonly kind: 'loaded'; readonly result: Record<string, unknown> }
  /** The agent answered with an error: it is fine, the conversation is not there. */
  | { readonly kind: 'refused' }
  /** It hung or exited on the load. */
  | { readonly kind: 'broken' };

export class Bridge {
  private clientInit: unknown;
  private session: Session | undefined;
  /** Requests from the client that the remote agent has yet to answer. */
  private readonly pending = new Map<string, Pending>();
  /** Serializes session setup and forwarding so messages keep their order. */
  private chain: Promise<void> = Promise.resolve();
  private closing = false;
  private outputBlocked = false;
  private inputPaused = false;
  /** A cancel is ending the agent; a restart waits for it. */
  private stopping: Promise<void> | undefined;
  /** The prompts a cancel is waiting on, settled once the agent has answered them all. */
  private cancelled: { readonly prompts: readonly Pending[]; readonly answered: Waiter<void> } | undefined;
  /** The client's working directory, reused when the agent is started again for a prompt. */
  private lastCwd: string | undefined;
  /** The session id replacements, made once per pair of ids rather than for every message. */
  private swap: IdSwap | undefined;
  /** Requests of the agent that the client has yet to answer (a permission question): not idle. */
  private readonly awaitingClient = new Set<string>();
  /** When the last message went either way; the idle detach counts from it. */
  private lastTraffic = Date.now();
  private idleTimer: NodeJS.Timeout | undefined;
  constructor(private readonly deps: BridgeDeps) {
    deps.io.onDrain(() => {
      this.outputBlocked = false;
      this.session?.agent?.resumeOutput();
    });
  }

  private get log(): Logger {
    return this.deps.logger;
  }

  /** One line from the client (without its newline). */
  onClientLine(line: Buffer): void {
    if (this.closing || isBlank(line)) return;
    collectAfterLargeMessage(line.length);
    const parsed = parseLine(line);
    if (!parsed.ok) {
      this.log.warn('client-bad-message', { code: parsed.code, reason: parsed.message, bytes: line.length });
      this.reply(errorResponse(parsed.id, parsed.code, parsed.message));
      return;
    }
    const msg = parsed.message;
    this.log.debug('client-message', () => ({ message: line.subarray(0, 4000).toString('utf8') }));
    this.noteTraffic();
    if (msg.kind === 'response' && msg.id !== null) this.awaitingClient.delete(idKey(msg.id));
    if (msg.kind === 'request') {
      switch (msg.method) {
        case 'initialize':
          return this.onInitialize(msg.id, msg.params);
        case 'session/new':
          return this.serialize(() => this.onNewSession(msg.id, msg.params));
        case 'session/load':
          return this.serialize(() => this.onLoadSession(msg.id, msg.params));
        default:
          return this.serialize(() => this.forwardRequest(msg, line));
      }
    }
    if (msg.kind === 'notification') {
      if (msg.method === 'session/cancel') return void this.onCancel(msg.sessionId, line);
      return this.serialize(() => this.forwardOther(line, 'notification'));
    }
    // A response to a request the agent sent the client (e.g. a permission answer).
    return this.serialize(() => this.forwardOther(line, 'response'));
  }

  /** The client closed stdin: leave the remote agent running and exit cleanly. */
  async onClientEnd(reason: string): Promise<void> {
    if (this.closing) return;
    this.closing = true;
    clearTimeout(this.idleTimer);
    this.log.info('shutdown', { reason });
    const agent = this.session?.agent;
    if (agent) await agent.detach();
    this.deps.io.exit(0);
  }

  private serialize(task: () => Promise<void> | void): void {
    this.chain = this.chain.then(task).catch((e: Error) => this.log.error('internal-error', { error: e.stack ?? e.message }));
  }

  private onInitialize(id: number | string, params: unknown): void {
    this.clientInit = params;
    // Answered here: the remote agent is started only once the session (new or load) is known.
    // ACP has one stable version, which this bridge speaks whatever the client asks for.
    this.reply(
      resultResponse(id, {
        protocolVersion: 1,
        agentCapabilities: { loadSession: true, promptCapabilities: { image: false, audio: false, embeddedContext: false } },
        authMethods: [],
        agentInfo: { name: 'openab-agentcore-bridge', title: 'OpenAB AgentCore bridge', version: BRIDGE_VERSION },
      }),
    );
  }

  private async onNewSession(id: number | string, params: unknown): Promise<void> {
    if (this.session) return this.replyOneSessionOnly(id);
    this.rememberCwd(params);
    const token = newToken();
    const ids = remoteIds(token);
    this.log.info('session-new', { runtimeSessionId: ids.runtimeSessionId, shellId: ids.shellId });
    let agent: RemoteAgent | undefined;
    try {
      const started = (agent = this.newAgent(ids));
      await agent.open();
      await agent.launch();
      await agent.initialize(this.clientInit);
      // The client gets its session id before anything the agent says next (it may follow the answer in the same read).
      await newAgentSession(agent, params, SESSION_NEW_TIMEOUT_MS, ({ agentSessionId, rest }) => {
        const client = encodeClientSessionId(token, agentSessionId);
        this.session = { client, agentSessionId, agent: started };
        this.watch(started);
        this.log.info('session-ready', { sessionId: client.id });
        this.reply(resultResponse(id, { ...rest, sessionId: client.id }));
      });
    } catch (e) {
      await agent?.stop().catch(() => undefined);
      this.replyError(id, e, 'session/new');
    }
  }

  private async onLoadSession(id: number | string, params: unknown): Promise<void> {
    const started = Date.now();
    const deadline = new Deadline(LOAD_BUDGET_MS);
    const sessionId = (params as { sessionId?: unknown } | undefined)?.sessionId;
    if (this.session?.client.id === sessionId && sessionId !== undefined) {
      this.reply(resultResponse(id, {}));
      return;
    }
    if (this.session) return this.replyOneSessionOnly(id);
    const client = decodeClientSessionId(sessionId);
    if (!client) {
      this.reply(errorResponse(id, SESSION_NOT_FOUND, `Session not found: ${JSON.stringify(sessionId)} was not issued by this bridge`));
      return;
    }
    this.rememberCwd(params);
    this.log.info('session-load', { sessionId: client.id, runtimeSessionId: client.runtimeSessionId, shellId: client.shellId });
    const session: Session = { client, agentSessionId: client.agentSessionId, agent: undefined };
    // Set before the load so the conversation history a restarted agent replays reaches the client.
    this.session = session;
    try {
      const { reattached, restored, loadResult } = await this.bringUp(session, params, deadline, true);
      this.log.info(reattached ? 'session-reattached' : 'session-loaded', { sessionId: client.id, afterMs: Date.now() - started, restored });
      this.reply(resultResponse(id, loadResult ?? {}));
    } catch (e) {
      this.session = undefined;
      if (session.agent) {
        this.unwatch(session.agent);
        // A reattached agent belongs to the thread: leave it running. One started here is stopped.
        await (session.reattached ? session.agent.detach() : session.agent.stop()).catch(() => undefined);
      }
      this.replyError(id, e, 'session/load');
    }
  }

  /**
   * Gets the session's agent running: reattaches to it if its shell is still there
   * (dropping what the shell replays), else starts it again in the same runtime session.
   */
  private async bringUp(
    session: Session,
    loadParams: unknown,
    deadline: Deadline,
    /** The client asked for the load and expects the history; a restart for a prompt must not replay it into the turn. */
    forwardHistory: boolean,
  ): Promise<{ reattached: boolean; restored: boolean; loadResult?: Record<string, unknown> }> {
    const agent = this.newAgent(session.client, deadline.step(15_000));
    session.agent = agent;
    session.reattached = await agent.open();
    if (session.reattached) {
      await agent.probe();
      this.watch(agent);
      session.stoppedBecause = undefined;
      return { reattached: true, restored: true };
    }
    return { reattached: false, ...(await this.startAgentFor(session, agent, loadParams, deadline, forwardHistory)) };
  }

  /**
   * Starts the agent in a fresh shell of the session's runtime session and asks it
   * to load its conversation; if it cannot, opens a new agent session in the same
   * place (same workspace) so the client's session id stays valid.
   */
  private async startAgentFor(
    session: Session,
    agent: RemoteAgent,
    loadParams: unknown,
    deadline: Deadline,
    forwardHistory: boolean,
  ): Promise<{ restored: boolean; loadResult?: Record<string, unknown> }> {
    const base = (loadParams ?? {}) as Record<string, unknown>;
    const sessionParams = { cwd: base.cwd ?? '/', mcpServers: base.mcpServers ?? [] };
    await this.startIn(session, agent, deadline, forwardHistory);
    if (agent.agentCapabilities.loadSession === true) {
      const loaded = await this.loadConversation(session, agent, sessionParams, deadline);
      if (loaded.kind === 'loaded') return { restored: true, loadResult: loaded.result };
      if (loaded.kind === 'broken') agent = await this.replaceAgent(session, agent, deadline, forwardHistory);
    }
    return { restored: false, loadResult: await this.newConversation(session, agent, sessionParams, deadline) };
  }

  /** Launches the agent in its fresh shell and initializes it. */
  private async startIn(session: Session, agent: RemoteAgent, deadline: Deadline, forwardHistory: boolean): Promise<void> {
    session.agent = agent;
    await agent.launch(deadline.step(20_000));
    await agent.initialize(this.clientInit, deadline.step(20_000));
    // Messages only: if the agent dies on the load, that is handled here, not as the end of the bridge.
    if (forwardHistory) agent.on('message', this.onAgentMessage);
  }

  private async loadConversation(
    session: Session,
    agent: RemoteAgent,
    sessionParams: Record<string, unknown>,
    deadline: Deadline,
  ): Promise<LoadOutcome> {
    try {
      // Leave time for a new conversation if the agent cannot load (or hangs on it).
      const params = { ...sessionParams, sessionId: session.agentSessionId };
      // Watched from the answer on, so nothing the agent says right behind it is lost.
      const result = (await agent.request('session/load', params, deadline.step(15_000, 8_000, 1_000), () => this.watch(agent))) as
        | Record<string, unknown>
        | null;
      session.stoppedBecause = undefined;
      return { kind: 'loaded', result: result ?? {} };
    } catch (e) {
      this.log.warn('conversation-load-failed', { error: describe(e) });
      return { kind: e instanceof AgentRequestError ? 'refused' : 'broken' };
    }
  }

  /** The agent hung or exited on the load: a clean one in the same runtime session. */
  private async replaceAgent(session: Session, broken: RemoteAgent, deadline: Deadline, forwardHistory: boolean): Promise<RemoteAgent> {
    this.unwatch(broken);
    await broken.stop().catch(() => undefined);
    const agent = await this.freshAgent(session.client, deadline.step(Infinity, 5_000, 1_000));
    await this.startIn(session, agent, deadline, forwardHistory);
    return agent;
  }

  /** The conversation could not be restored: a new one in the same place, under the same client session id. */
  private async newConversation(
    session: Session,
    agent: RemoteAgent,
    sessionParams: Record<string, unknown>,
    deadline: Deadline,
  ): Promise<Record<string, unknown>> {
    const previousAgentSessionId = session.agentSessionId;
    // The new id is mapped as its answer is read: the agent may send an update for the new
    // session right behind it, in the same read, which must reach the client under the client's id.
    const { agentSessionId, rest } = await newAgentSession(agent, sessionParams, deadline.step(Infinity, 0, 1_000), (opened) => {
      session.agentSessionId = opened.agentSessionId;
      this.watch(agent);
    });
    this.log.warn('conversation-not-restored', {
      sessionId: session.client.id,
      previousAgentSessionId,
      agentSessionId,
      ...metricFields({ ConversationsNotRestored: 1 }),
    });
    session.stoppedBecause = undefined;
    return rest;
  }

  private async forwardRequest(msg: Extract<Message, { kind: 'request' }>, line: Buffer): Promise<void> {
    const session = this.session;
    if (!session) {
      this.reply(errorResponse(msg.id, SESSION_NOT_FOUND, `No session: call session/new or session/load before ${msg.method}`));
      return;
    }
    const target = msg.sessionId;
    if (target !== undefined && target !== session.client.id) {
      this.reply(errorResponse(msg.id, SESSION_NOT_FOUND, `Session not found: ${JSON.stringify(target)}`));
      return;
    }
    const key = idKey(msg.id);
    if (this.pending.has(key)) {
      this.reply(errorResponse(msg.id, INVALID_PARAMS, `Request id ${JSON.stringify(msg.id)} is already in use by a pending request`));
      return;
    }
    this.pending.set(key, { id: msg.id, method: msg.method, startedAt: Date.now() });
    try {
      const agent = await this.runningAgent(session);
      if (!this.pending.has(key)) return; // answered meanwhile (cancelled)
      this.sendToAgent(agent, this.toAgent(line, session));
    } catch (e) {
      const p = this.forget(key);
      if (p) {
        this.replyError(msg.id, e, msg.method);
        this.endTurn(p, 'error');
      }
    }
  }

  private forwardOther(line: Buffer, kind: string): void {
    const session = this.session;
    const agent = session?.agent;
    if (!session || !agent || agent.hasExited) {
      this.log.warn('client-message-dropped', { kind, reason: 'no running agent' });
      return;
    }
    this.sendToAgent(agent, this.toAgent(line, session));
  }

  /** Sends a client message on; stops reading the client while the shell is not taking input fast enough. */
  private sendToAgent(agent: RemoteAgent, message: readonly Buffer[]): void {
    agent.send(message);
    if (this.inputPaused || agent.inputBacklog <= MAX_INPUT_BACKLOG) return;
    this.inputPaused = true;
    this.deps.io.pauseInput();
    // Also called when the agent's shell goes away: its queue is dropped then.
    agent.onceInputBelow(MAX_INPUT_BACKLOG / 4, () => {
      this.inputPaused = false;
      this.deps.io.resumeInput();
    });
  }

  private async onCancel(target: unknown, line: Buffer): Promise<void> {
    const session = this.session;
    if (!session || target !== session.client.id) {
      this.log.warn('cancel-ignored', { reason: 'unknown session' });
      return;
    }
    if (this.deps.config.cancelStrategy === 'noop') {
      // The client's request to the agent, passed on in order: the agent ends the prompt
      // itself (answering `cancelled`); the bridge adds nothing of its own.
      this.log.info('cancel', { strategy: 'noop' });
      return this.serialize(() => this.forwardOther(line, 'notification'));
    }
    // Only what is pending now is cancelled; requests that arrive meanwhile wait for the restart.
    const victims = [...this.pending.values()];
    const prompts = victims.filter((p) => p.method === 'session/prompt' && !p.cancelled);
    if (prompts.length === 0) {
      this.log.info('cancel-ignored', { reason: 'no prompt in progress' });
      return;
    }
    prompts.forEach((p) => (p.cancelled = true));
    const agent = session.agent;
    this.log.info('cancel', { strategy: 'stop', prompts: prompts.length });
    if (agent && !agent.hasExited) {
      // From now on new requests wait for a restarted agent; this one only finishes what is cancelled.
      session.agent = undefined;
      session.stoppedBecause = 'stopped by session/cancel';
      this.stopping = this.stopAfterCancel(agent, this.toAgent(line, session), prompts).finally(() => (this.stopping = undefined));
      await this.stopping;
    }
    for (const p of victims) {
      if (!this.pending.delete(idKey(p.id))) continue;
      if (prompts.includes(p)) {
        this.reply(resultResponse(p.id, { stopReason: 'cancelled' }));
        this.endTurn(p, 'cancelled', 'cancelled');
      } else {
        this.reply(errorResponse(p.id, INTERNAL_ERROR, `${p.method} was interrupted: the agent was stopped by session/cancel`));
        this.endTurn(p, 'error');
      }
    }
  }

  /** Lets the agent wind down by itself first (it may save its state), then stops it regardless. */
  private async stopAfterCancel(agent: RemoteAgent, cancel: readonly Buffer[], prompts: readonly Pending[]): Promise<void> {
    const answered = new Waiter<void>();
    this.cancelled = { prompts, answered };
    try {
      agent.send(cancel);
      this.checkCancelAnswered();
      await within(answered.promise, CANCEL_GRACE_MS, () => undefined);
    } finally {
      this.cancelled = undefined;
    }
    this.unwatch(agent);
    await agent.stop();
    // What the stopped agent asked the client is void: the restarted one asks again.
    this.awaitingClient.clear();
    this.log.info('agent-stopped', { reason: 'session/cancel' });
  }

  /** Settles the cancel's wait once none of its prompts is pending any more. */
  private checkCancelAnswered(): void {
    const c = this.cancelled;
    if (c && !c.prompts.some((p) => this.pending.has(idKey(p.id)))) c.answered.settle();
  }

  /** Removes a pending request; true if it was there. */
  /** Removes a pending request, if it still is; returns it. */
  private forget(key: string): Pending | undefined {
    const p = this.pending.get(key);
    if (p) {
      this.pending.delete(key);
      this.checkCancelAnswered();
    }
    return p;
  }

  /** A message went one way or the other: the idle detach counts from now. */
  private noteTraffic(): void {
    this.lastTraffic = Date.now();
    const seconds = this.deps.config.idleDetachSeconds;
    if (seconds <= 0 || this.closing) return;
    if (this.idleTimer) {
      this.idleTimer.refresh();
      return;
    }
    this.idleTimer = setTimeout(() => this.serialize(() => this.detachIfIdle()), seconds * 1000);
    this.idleTimer.unref();
  }

  /**
   * Nothing moved for `--idle-detach` seconds and nothing is pending either way: let go of
   * the shell (the agent keeps running) so the runtime session can idle out. The next
   * message reattaches, or restarts the agent and reloads its conversation if the
   * microVM was reaped meanwhile (see {@link runningAgent}).
   */
  private async detachIfIdle(): Promise<void> {
    const session = this.session;
    const agent = session?.agent;
    if (!session || !agent || agent.hasExited || this.closing || this.stopping) return;
    if (this.pending.size > 0 || this.awaitingClient.size > 0) return;
    const idleMs = Date.now() - this.lastTraffic;
    // A message arrived since the timer was armed: the refreshed timer comes back later.
    if (idleMs < this.deps.config.idleDetachSeconds * 1000 - 50) return;
    session.agent = undefined;
    session.stoppedBecause = 'detached while idle';
    this.unwatch(agent);
    this.log.info('idle-detach', { afterSeconds: Math.round(idleMs / 1000) });
    await agent.detach();
  }

  /** The session's agent, started again in the same runtime session if it was stopped. */
  private async runningAgent(session: Session): Promise<RemoteAgent> {
    if (this.stopping) await this.stopping;
    if (session.agent && !session.agent.hasExited) return session.agent;
    this.log.info('agent-restart', { reason: session.stoppedBecause ?? 'not running' });
    const started = Date.now();
    try {
      const up = await this.bringUp(session, { cwd: this.lastCwd ?? '/', mcpServers: [] }, new Deadline(LOAD_BUDGET_MS), false);
      const result = up.reattached ? 'reattached' : 'restarted';
      this.log.info(`agent-${result}`, { restored: up.restored, afterMs: Date.now() - started, ...metricFields({ AgentRestarts: 1 }, { Result: result }) });
    } catch (e) {
      // Leave no half-started agent behind: the next request tries again from scratch.
      const failed = session.agent;
      session.agent = undefined;
      session.stoppedBecause = `restart failed: ${describe(e)}`;
      if (failed) {
        this.unwatch(failed);
        await failed.stop().catch(() => undefined);
      }
      throw e;
    }
    return session.agent!;
  }

  private rememberCwd(params: unknown): void {
    const cwd = (params as { cwd?: unknown } | undefined)?.cwd;
    if (typeof cwd === 'string') this.lastCwd = cwd;
  }

  /** A new, empty shell in the runtime session: one still found running there (a dying agent) is ended first. */
  private async freshAgent(ids: RemoteIds, attachWindowMs?: number): Promise<RemoteAgent> {
    for (let attempt = 1; ; attempt++) {
      const agent = this.newAgent(ids, attachWindowMs);
      if (!(await agent.open())) return agent;
      if (attempt >= 3) throw new BridgeError('BRIDGE_AGENT_START_FAILED', 'the old agent shell would not go away');
      this.log.warn('stale-shell', { shellId: ids.shellId, attempt });
      await agent.stop();
    }
  }

  private newAgent(ids: RemoteIds, attachWindowMs?: number): RemoteAgent {
    const c = this.deps.config;
    return new RemoteAgent({
      endpointUrl: c.endpointUrl,
      region: c.region,
      runtimeArn: c.runtime.arn,
      qualifier: c.qualifier,
      shellCommand: c.shellCommand,
      ids,
      credentials: this.deps.credentials,
      logger: this.log,
      attachWindowMs,
      heartbeatMs: this.deps.heartbeatMs,
      launcher: c.launcher,
      maxMessageBytes: c.maxMessageBytes,
    });
  }

  private readonly onAgentMessage = (line: Buffer, msg: Message) => {
    const session = this.session;
    if (!session) return;
    if (this.stopping && ![...this.pending.values()].some((p) => p.cancelled)) {
      // The agent being stopped has answered every cancelled prompt: what it says now belongs to
      // no turn, and OAB would append it to the next one.
      this.log.debug('agent-message-after-cancel', { bytes: line.length });
      return;
    }
    if (msg.kind === 'response') {
      const p = msg.id === null ? undefined : this.forget(idKey(msg.id));
      if (!p) {
        this.log.warn('agent-stale-response', { id: msg.id });
        return;
      }
      const { outcome, stopReason } = turnOutcome(msg);
      this.endTurn(p, outcome, stopReason);
    } else if (msg.kind === 'notification' && msg.method === 'session/update') {
      const now = Date.now();
      for (const p of this.pending.values()) if (p.method === 'session/prompt') p.firstUpdateAt ??= now;
    }
    this.log.debug('agent-message', () => ({ message: line.subarray(0, 4000).toString('utf8') }));
    this.noteTraffic();
    if (msg.kind === 'request') {
      const missing = missingClientCapability(msg.method, this.clientInit);
      if (missing) {
        // OAB never answers what it did not advertise: the agent would wait for the turn's timeout.
        this.log.info('agent-request-refused', { method: msg.method, missing });
        session.agent?.send(errorResponse(msg.id, METHOD_NOT_FOUND, `Method not found: the client does not support ${msg.method} (it did not advertise ${missing})`));
        return;
      }
      this.awaitingClient.add(idKey(msg.id));
    }
    this.reply(this.toClient(line, session));
    collectAfterLargeMessage(line.length);
  };

  private readonly onAgentGone = (reason: string, code: BridgeErrorCode) => {
    if (this.closing) return;
    this.closing = true;
    this.log.error('agent-gone', { code, reason, ...metricFields({ Errors: 1 }, { Code: code }) });
    this.failPending(code, () => `The remote agent is gone: ${reason}`);
    // OAB respawns a bridge for the thread on its next message and loads the session again.
    this.deps.io.exit(1);
  };

  private readonly onAgentExit = (reason: string) => this.onAgentGone(`the agent exited (${reason})`, 'BRIDGE_AGENT_EXITED');
  private readonly onAgentLost = (e: BridgeError) => this.onAgentGone(e.message, e.code);
  private readonly onAgentGap = (bytes: number) =>
    this.failPending('BRIDGE_OUTPUT_LOST', (p) => `${bytes} bytes of the agent's output were lost while reconnecting; ${p.method} may have been answered in them`);

  /** Answers every pending request with an error that says why, and ends its turn. */
  private failPending(code: BridgeErrorCode, message: (p: Pending) => string): void {
    for (const p of this.pending.values()) {
      this.reply(errorResponse(p.id, INTERNAL_ERROR, message(p), { code }));
      this.endTurn(p, 'error');
    }
    this.pending.clear();
    this.checkCancelAnswered();
  }

  private watch(agent: RemoteAgent): void {
    this.unwatch(agent);
    agent.on('message', this.onAgentMessage);
    agent.on('exit', this.onAgentExit);
    agent.on('lost', this.onAgentLost);
    agent.on('gap', this.onAgentGap);
  }

  private unwatch(agent: RemoteAgent): void {
    agent.off('message', this.onAgentMessage);
    agent.off('exit', this.onAgentExit);
    agent.off('lost', this.onAgentLost);
    agent.off('gap', this.onAgentGap);
  }

  private toAgent(line: Buffer, session: Session): Buffer[] {
    return this.idSwap(session).toAgent(line);
  }

  private toClient(line: Buffer, session: Session): Buffer[] {
    return this.idSwap(session).toClient(line);
  }

  private idSwap(session: Session): IdSwap {
    const cached = this.swap;
    if (cached && cached.client === session.client.id && cached.agent === session.agentSessionId) return cached;
    this.swap = {
      client: session.client.id,
      agent: session.agentSessionId,
      toAgent: jsonStringReplacer(session.client.id, session.agentSessionId),
      toClient: jsonStringReplacer(session.agentSessionId, session.client.id),
    };
    return this.swap;
  }


  /** A prompt was answered: its `turn` record (other requests have none). */
  private endTurn(p: Pending, outcome: TurnOutcome, stopReason?: string): void {
    if (p.method === 'session/prompt') this.log.info('turn', turnRecord(p, outcome, stopReason));
  }

  /** Writes one message to the client: a line, or a line in pieces (written together). */
  private reply(line: Buffer | readonly Buffer[]): void {
    let ok = true;
    for (const piece of Buffer.isBuffer(line) ? [line] : line) ok = this.deps.io.write(piece);
    if (!ok && !this.outputBlocked) {
      this.outputBlocked = true;
      this.session?.agent?.pauseOutput();
    }
  }

  private replyOneSessionOnly(id: JsonRpcId): void {
    this.reply(
      errorResponse(id, INTERNAL_ERROR, `This bridge already serves session ${this.session!.client.id}; start another bridge process for another session`),
    );
  }

  private replyError(id: JsonRpcId, e: unknown, method: string): void {
    if (e instanceof AgentRequestError) {
      this.reply(errorResponse(id, e.error.code, e.error.message, e.error.data));
      return;
    }
    const code: BridgeErrorCode = isBridgeError(e) ? e.code : 'BRIDGE_INTERNAL';
    const message = e instanceof Error ? e.message : String(e);
    this.log.error('request-failed', { method, code, error: message, ...metricFields({ Errors: 1 }, { Code: code }) });
    const rpcCode = isBridgeError(e, 'BRIDGE_RUNTIME_NOT_FOUND') || isBridgeError(e, 'BRIDGE_INVALID_REQUEST') ? SESSION_NOT_FOUND : INTERNAL_ERROR;
    this.reply(errorResponse(id, rpcCode, `${method} failed: ${message}`, { code }));
  }
}


interface OpenedSession {
  readonly agentSessionId: string;
  readonly rest: Record<string, unknown>;
}

/**
 * Opens a session in the agent; its id must be a string (it is carried in the client's id).
 * `onOpened` runs as the answer is read, before any later message of the agent is handed up.
 */
async function newAgentSession(
  agent: RemoteAgent,
  params: unknown,
  timeoutMs: number,
  onOpened: (opened: OpenedSession) => void = () => undefined,
): Promise<OpenedSession> {
  let opened: OpenedSession | undefined;
  await agent.request('session/new', params, timeoutMs, (result) => {
    const { sessionId, ...rest } = (result ?? {}) as Record<string, unknown>;
    if (typeof sessionId !== 'string') throw new BridgeError('BRIDGE_AGENT_START_FAILED', 'the agent answered session/new without a sessionId');
    opened = { agentSessionId: sessionId, rest };
    onOpened(opened);
  });
  return opened!;
}

/**
 * The client capability an agent's request needs and the client did not advertise in its
 * `initialize` (ACP: `clientCapabilities.fs.readTextFile`, `.fs.writeTextFile`, `.terminal`),
 * or undefined when the client can take it.
 */
export function missingClientCapability(method: string, clientInit: unknown): string | undefined {
  const caps = (clientInit as { clientCapabilities?: { fs?: Record<string, unknown>; terminal?: unknown } } | undefined)?.clientCapabilities;
  if (method === 'fs/read_text_file') return caps?.fs?.readTextFile === true ? undefined : 'clientCapabilities.fs.readTextFile';
  if (method === 'fs/write_text_file') return caps?.fs?.writeTextFile === true ? undefined : 'clientCapabilities.fs.writeTextFile';
  if (method.startsWith('terminal/')) return caps?.terminal === true ? undefined : 'clientCapabilities.terminal';
  return undefined;
}

function idKey(id: number | string): string {
  return `${typeof id}:${id}`;
}

function describe(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
