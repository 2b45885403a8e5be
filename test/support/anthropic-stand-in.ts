/**
 * A stand-in for the Anthropic Messages API on loopback, for Claude Code (`ANTHROPIC_BASE_URL`).
 * `POST /v1/messages` is answered as the real API answers it: streamed (`stream: true`) as
 * server-sent events message_start, content_block_start / content_block_delta (text_delta,
 * input_json_delta) / content_block_stop per block, message_delta (stop_reason, usage) and
 * message_stop; or as one JSON message otherwise. Amazon Bedrock's runtime API for the same
 * models (`ANTHROPIC_BEDROCK_BASE_URL`, `POST /model/<id>/invoke-with-response-stream`) gets
 * the same events in the AWS event stream encoding. What it answers is decided by a
 * {@link AnthropicReplier} from the request; every request is recorded.
 */
import type { ServerResponse } from 'node:http';
import { crc32 } from 'node:zlib';
import { ModelApiStandIn, pieces, type RecordedRequest, startEventStream, writeEvent, writeJson } from './model-api-server';

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

export class AnthropicStandIn extends ModelApiStandIn<AnthropicRequestBody, ModelTurn> {
  static start(reply: AnthropicReplier = echoReplier): Promise<AnthropicStandIn> {
    return new AnthropicStandIn(reply).listen();
  }

  /** The base URL for `ANTHROPIC_BASE_URL`. */
  get url(): string {
    return this.serverUrl;
  }

  /** The Messages requests of the agent's own turns (those that offer tools), in order, from either API. */
  turnRequests(): AnthropicRequestBody[] {
    return this.requests
      .filter((r) => r.method === 'POST' && (isMessagesPath(r.path) || bedrockModelOf(r.path) !== undefined) && !r.path.includes('count_tokens'))
      .map((r) => r.body as AnthropicRequestBody)
      .filter((b) => (b.tools?.length ?? 0) > 0);
  }

  protected async handle(request: RecordedRequest, res: ServerResponse): Promise<void> {
    const bedrock = request.method === 'POST' ? bedrockModelOf(request.path) : undefined;
    if (bedrock) return this.handleBedrock(request, res, bedrock);
    if (request.method !== 'POST' || !isMessagesPath(request.path)) {
      return writeJson(res, 404, { type: 'error', error: { type: 'not_found_error', message: `no ${request.method} ${request.path} here` } });
    }
    const body = request.body as AnthropicRequestBody;
    if (request.path.startsWith('/v1/messages/count_tokens')) return writeJson(res, 200, { input_tokens: approxTokens(body) });
    const turn = this.reply(body);
    if (body.stream) {
      startEventStream(res);
      await streamTurn(res, body, turn, (event, data) => writeEvent(res, event, data));
    } else writeJson(res, 200, wholeMessage(body, turn));
  }

  /**
   * Amazon Bedrock's runtime API for Anthropic models (`ANTHROPIC_BEDROCK_BASE_URL`): the same
   * request body less `model` (it is in the path) and `stream` (the path says it), and the
   * same events, each as a `chunk` of the AWS event stream encoding holding it in base64.
   */
  private async handleBedrock(request: RecordedRequest, res: ServerResponse, call: { model: string; stream: boolean }): Promise<void> {
    const body = { ...(request.body as AnthropicRequestBody), model: call.model };
    if (!call.stream) return writeJson(res, 200, wholeMessage(body, this.reply(body)));
    const turn = this.reply(body);
    res.writeHead(200, { 'content-type': 'application/vnd.amazon.eventstream', 'x-amzn-bedrock-content-type': 'application/json' });
    await streamTurn(res, body, turn, (_event, data) => {
      const bytes = Buffer.from(JSON.stringify(data)).toString('base64');
      res.write(eventStreamMessage({ ':event-type': 'chunk', ':content-type': 'application/json', ':message-type': 'event' }, Buffer.from(JSON.stringify({ bytes }))));
    });
  }
}

function isMessagesPath(path: string): boolean {
  return path.startsWith('/v1/messages');
}

/** `/model/<id>/invoke` or `/model/<id>/invoke-with-response-stream`: the model and whether it streams. */
export function bedrockModelOf(path: string): { model: string; stream: boolean } | undefined {
  const m = /^\/model\/([^/?]+)\/(invoke|invoke-with-response-stream)(\?|$)/.exec(path);
  return m ? { model: decodeURIComponent(m[1]), stream: m[2] === 'invoke-with-response-stream' } : undefined;
}

/**
 * One message of the AWS event stream encoding: total length, headers length and a CRC32 of
 * those two (the prelude), the headers (name length, name, type 7 = string, value length,
 * value), the payload, and a CRC32 of everything before it. Big-endian throughout.
 */
export function eventStreamMessage(headers: Record<string, string>, payload: Buffer): Buffer {
  const encoded = Buffer.concat(Object.entries(headers).map(([name, value]) => {
    const n = Buffer.from(name);
    const v = Buffer.from(value);
    const h = Buffer.alloc(1 + n.length + 1 + 2 + v.length);
    h.writeUInt8(n.length, 0);
    n.copy(h, 1);
    h.writeUInt8(7, 1 + n.length);
    h.writeUInt16BE(v.length, 2 + n.length);
    v.copy(h, 4 + n.length);
    return h;
  }));
  const prelude = Buffer.alloc(12);
  prelude.writeUInt32BE(12 + encoded.length + payload.length + 4, 0);
  prelude.writeUInt32BE(encoded.length, 4);
  prelude.writeUInt32BE(crc32(prelude.subarray(0, 8)), 8);
  const message = Buffer.concat([prelude, encoded, payload]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(message), 0);
  return Buffer.concat([message, crc]);
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

/** The events of a streamed turn, each handed to `writeEvent` in the API's own framing. */
async function streamTurn(res: ServerResponse, body: AnthropicRequestBody, turn: ModelTurn, writeEvent: (event: string, data: unknown) => void): Promise<void> {
  const id = `msg_standin_${nextId++}`;
  writeEvent('message_start', {
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
    writeEvent('content_block_start', { type: 'content_block_start', index, content_block: { type: 'text', text: '' } });
    writeEvent('ping', { type: 'ping' });
    for (const piece of pieces(turn.text, turn.pieces ?? 3)) {
      if (res.destroyed) return;
      writeEvent('content_block_delta', { type: 'content_block_delta', index, delta: { type: 'text_delta', text: piece } });
      if (turn.pieceDelayMs) await new Promise((r) => setTimeout(r, turn.pieceDelayMs));
    }
    writeEvent('content_block_stop', { type: 'content_block_stop', index });
    index++;
  }
  if (turn.toolUse) {
    const block = { type: 'tool_use', id: `toolu_standin_${nextId++}`, name: turn.toolUse.name, input: {} };
    writeEvent('content_block_start', { type: 'content_block_start', index, content_block: block });
    for (const piece of pieces(JSON.stringify(turn.toolUse.input), 2)) {
      writeEvent('content_block_delta', { type: 'content_block_delta', index, delta: { type: 'input_json_delta', partial_json: piece } });
    }
    writeEvent('content_block_stop', { type: 'content_block_stop', index });
  }
  writeEvent('message_delta', {
    type: 'message_delta',
    delta: { stop_reason: turn.toolUse ? 'tool_use' : 'end_turn', stop_sequence: null },
    usage: { output_tokens: Math.ceil((turn.text?.length ?? 0) / 4) + 1 },
  });
  writeEvent('message_stop', { type: 'message_stop' });
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
