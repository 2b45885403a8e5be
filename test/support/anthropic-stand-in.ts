/**
 * A stand-in for the Anthropic Messages API on loopback, for Claude Code (`ANTHROPIC_BASE_URL`).
 * `POST /v1/messages` is answered as the real API answers it: streamed (`stream: true`) as
 * server-sent events message_start, content_block_start / content_block_delta (text_delta,
 * input_json_delta) / content_block_stop per block, message_delta (stop_reason, usage) and
 * message_stop; or as one JSON message otherwise. What it answers is decided by a
 * {@link AnthropicReplier} from the request; every request is recorded.
 */
import type { ServerResponse } from 'node:http';
import { ModelApiServer, pieces, type RecordedRequest, startEventStream, writeEvent, writeJson } from './model-api-server';

export interface AnthropicMessage {
  readonly role: 'user' | 'assistant';
  readonly content: string | ReadonlyArray<{ readonly type: string; readonly text?: string; readonly [k: string]: unknown }>;
}

export interface AnthropicRequestBody {
  readonly model: string;
  readonly messages: readonly AnthropicMessage[];
  readonly tools?: ReadonlyArray<{ readonly name: string }>;
  readonly stream?: boolean;
  readonly system?: unknown;
}

/** What the model says: text, optionally followed by one tool use (then the turn stops for it). */
export interface ModelTurn {
  readonly text?: string;
  readonly toolUse?: { readonly name: string; readonly input: Record<string, unknown> };
  /** Milliseconds between streamed pieces (a slow answer, to cancel). */
  readonly pieceDelayMs?: number;
  /** How many deltas the text is streamed in. */
  readonly pieces?: number;
}

export type AnthropicReplier = (body: AnthropicRequestBody) => ModelTurn;

let nextId = 1;

export class AnthropicStandIn {
  private server!: ModelApiServer;

  private constructor(private reply: AnthropicReplier) {}

  static async start(reply: AnthropicReplier = echoReplier): Promise<AnthropicStandIn> {
    const standIn = new AnthropicStandIn(reply);
    standIn.server = await ModelApiServer.start((request, res) => standIn.handle(request, res));
    return standIn;
  }

  /** The base URL for `ANTHROPIC_BASE_URL`. */
  get url(): string {
    return this.server.url;
  }

  get requests(): readonly RecordedRequest[] {
    return this.server.requests;
  }

  /** The Messages requests of the agent's own turns (those that offer tools), in order. */
  turnRequests(): AnthropicRequestBody[] {
    return this.requests
      .filter((r) => r.method === 'POST' && r.path.startsWith('/v1/messages') && !r.path.includes('count_tokens'))
      .map((r) => r.body as AnthropicRequestBody)
      .filter((b) => (b.tools?.length ?? 0) > 0);
  }

  setReplier(reply: AnthropicReplier): void {
    this.reply = reply;
  }

  stop(): Promise<void> {
    return this.server.stop();
  }

  private async handle(request: RecordedRequest, res: ServerResponse): Promise<void> {
    if (request.method !== 'POST' || !request.path.startsWith('/v1/messages')) {
      return writeJson(res, 404, { type: 'error', error: { type: 'not_found_error', message: `no ${request.method} ${request.path} here` } });
    }
    const body = request.body as AnthropicRequestBody;
    if (request.path.startsWith('/v1/messages/count_tokens')) return writeJson(res, 200, { input_tokens: approxTokens(body) });
    const turn = this.reply(body);
    if (body.stream) await streamTurn(res, body, turn);
    else writeJson(res, 200, wholeMessage(body, turn));
  }
}

/**
 * The user's prompt: the last text block of the last user message that is not one the agent
 * adds itself (`<system-reminder>`, the output of a local command such as `/model`).
 */
export function lastUserText(body: AnthropicRequestBody): string {
  for (const m of [...body.messages].reverse()) {
    if (m.role !== 'user') continue;
    if (typeof m.content === 'string') return m.content;
    const texts = m.content.filter((b) => b.type === 'text' && typeof b.text === 'string' && !/^\s*<(system-reminder|local-command-|command-)/.test(b.text));
    if (texts.length > 0) return texts[texts.length - 1].text!;
  }
  return '';
}

/** True when the request answers a tool use (the last user message holds a tool_result). */
export function isToolResult(body: AnthropicRequestBody): boolean {
  const last = body.messages[body.messages.length - 1];
  return last?.role === 'user' && typeof last.content !== 'string' && last.content.some((b) => b.type === 'tool_result');
}

/** Every text of every message, for checking that a request carries an earlier turn. */
export function conversationText(body: AnthropicRequestBody): string {
  return body.messages
    .map((m) => (typeof m.content === 'string' ? m.content : m.content.map((b) => (typeof b.text === 'string' ? b.text : JSON.stringify(b))).join('\n')))
    .join('\n');
}

/** Answers "echo: <the user's text>", and "done" after a tool result. */
export const echoReplier: AnthropicReplier = (body) => (isToolResult(body) ? { text: 'done' } : { text: `echo: ${lastUserText(body)}` });

async function streamTurn(res: ServerResponse, body: AnthropicRequestBody, turn: ModelTurn): Promise<void> {
  const id = `msg_standin_${nextId++}`;
  startEventStream(res);
  writeEvent(res, 'message_start', {
    type: 'message_start',
    message: {
      id,
      type: 'message',
      role: 'assistant',
      model: body.model,
      content: [],
      stop_reason: null,
      stop_sequence: null,
      usage: { input_tokens: approxTokens(body), output_tokens: 1, cache_creation_input_tokens: 0, cache_read_input_tokens: 0 },
    },
  });
  let index = 0;
  if (turn.text !== undefined) {
    writeEvent(res, 'content_block_start', { type: 'content_block_start', index, content_block: { type: 'text', text: '' } });
    writeEvent(res, 'ping', { type: 'ping' });
    for (const piece of pieces(turn.text, turn.pieces ?? 3)) {
      if (res.destroyed) return;
      writeEvent(res, 'content_block_delta', { type: 'content_block_delta', index, delta: { type: 'text_delta', text: piece } });
      if (turn.pieceDelayMs) await new Promise((r) => setTimeout(r, turn.pieceDelayMs));
    }
    writeEvent(res, 'content_block_stop', { type: 'content_block_stop', index });
    index++;
  }
  if (turn.toolUse) {
    const block = { type: 'tool_use', id: `toolu_standin_${nextId++}`, name: turn.toolUse.name, input: {} };
    writeEvent(res, 'content_block_start', { type: 'content_block_start', index, content_block: block });
    for (const piece of pieces(JSON.stringify(turn.toolUse.input), 2)) {
      writeEvent(res, 'content_block_delta', { type: 'content_block_delta', index, delta: { type: 'input_json_delta', partial_json: piece } });
    }
    writeEvent(res, 'content_block_stop', { type: 'content_block_stop', index });
  }
  writeEvent(res, 'message_delta', {
    type: 'message_delta',
    delta: { stop_reason: turn.toolUse ? 'tool_use' : 'end_turn', stop_sequence: null },
    usage: { output_tokens: Math.ceil((turn.text?.length ?? 0) / 4) + 1 },
  });
  writeEvent(res, 'message_stop', { type: 'message_stop' });
  res.end();
}

function wholeMessage(body: AnthropicRequestBody, turn: ModelTurn): Record<string, unknown> {
  const content: unknown[] = [];
  if (turn.text !== undefined) content.push({ type: 'text', text: turn.text });
  if (turn.toolUse) content.push({ type: 'tool_use', id: `toolu_standin_${nextId++}`, name: turn.toolUse.name, input: turn.toolUse.input });
  return {
    id: `msg_standin_${nextId++}`,
    type: 'message',
    role: 'assistant',
    model: body.model,
    content,
    stop_reason: turn.toolUse ? 'tool_use' : 'end_turn',
    stop_sequence: null,
    usage: { input_tokens: approxTokens(body), output_tokens: Math.ceil((turn.text?.length ?? 0) / 4) + 1 },
  };
}

function approxTokens(body: unknown): number {
  return Math.ceil(JSON.stringify(body ?? '').length / 4);
}
