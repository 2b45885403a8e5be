/**
 * A stand-in for the OpenAI Responses API on loopback, for Codex (a model provider with
 * `base_url` = this URL + `/v1` and `wire_api = "responses"` in `CODEX_HOME/config.toml`).
 * `POST /v1/responses` is answered as a stream of server-sent events in the real API's shape:
 * response.created, then per output item response.output_item.added, its deltas
 * (response.output_text.delta for a message) and response.output_item.done, then
 * response.completed with usage. A turn may end with a tool call (a `function_call` item, or a
 * `custom_tool_call` for a free-form tool such as apply_patch). What it answers is decided by
 * a {@link ResponsesReplier}; every request is recorded.
 */
import type { ServerResponse } from 'node:http';
import { ModelApiStandIn, pieces, type RecordedRequest, startEventStream, writeEvent, writeJson } from './model-api-server';

export interface ResponsesInputItem {
  readonly type?: string;
  readonly role?: string;
  readonly content?: string | ReadonlyArray<{ readonly type: string; readonly text?: string }>;
  readonly [k: string]: unknown;
}

export interface ResponsesRequestBody {
  readonly model: string;
  readonly instructions?: string;
  readonly input: readonly ResponsesInputItem[];
  readonly tools?: ReadonlyArray<{ readonly type: string; readonly name?: string }>;
  readonly stream?: boolean;
}

/** What the model says: text, optionally followed by one tool call (then the turn stops for it). */
export interface ResponsesTurn {
  readonly text?: string;
  readonly toolCall?:
    | { readonly kind: 'function'; readonly name: string; readonly arguments: Record<string, unknown> }
    | { readonly kind: 'custom'; readonly name: string; readonly input: string };
  /** Milliseconds between streamed pieces (a slow answer, to cancel). */
  readonly pieceDelayMs?: number;
  readonly pieces?: number;
}

export type ResponsesReplier = (body: ResponsesRequestBody) => ResponsesTurn;

let nextId = 1;

export class OpenAiStandIn extends ModelApiStandIn<ResponsesRequestBody, ResponsesTurn> {
  static start(reply: ResponsesReplier = echoResponsesReplier): Promise<OpenAiStandIn> {
    return new OpenAiStandIn(reply).listen();
  }

  /** The provider's `base_url`. */
  get baseUrl(): string {
    return `${this.serverUrl}/v1`;
  }

  /** The Responses requests, in order. */
  turnRequests(): ResponsesRequestBody[] {
    return this.requests.filter((r) => r.method === 'POST' && r.path.startsWith('/v1/responses')).map((r) => r.body as ResponsesRequestBody);
  }

  protected async handle(request: RecordedRequest, res: ServerResponse): Promise<void> {
    if (request.method === 'GET' && request.path.startsWith('/v1/models')) return writeJson(res, 200, { object: 'list', data: [] });
    if (request.method !== 'POST' || !request.path.startsWith('/v1/responses')) {
      return writeJson(res, 404, { error: { type: 'invalid_request_error', message: `no ${request.method} ${request.path} here` } });
    }
    const body = request.body as ResponsesRequestBody;
    await streamResponse(res, body, this.reply(body));
  }
}

/** The text of the last user message (its input_text parts). */
export function lastUserText(body: ResponsesRequestBody): string {
  const last = [...body.input].reverse().find((i) => i.role === 'user' && (i.type === undefined || i.type === 'message'));
  if (!last?.content) return '';
  if (typeof last.content === 'string') return last.content;
  return last.content.map((c) => c.text ?? '').join('');
}

/**
 * True when the request answers a tool call: its last input item, past what Codex adds for
 * itself (developer messages, such as "Approved command prefix saved"), is a tool call's output.
 */
export function isToolOutput(body: ResponsesRequestBody): boolean {
  const last = [...body.input].reverse().find((i) => i.role !== 'developer' && i.role !== 'system');
  return last?.type === 'function_call_output' || last?.type === 'custom_tool_call_output';
}

/** Every text of every input item, for checking that a request carries an earlier turn. */
export function conversationText(body: ResponsesRequestBody): string {
  return body.input.map((i) => JSON.stringify(i)).join('\n');
}

/** Answers "echo: <the user's text>", and "done" after a tool's output. */
export const echoResponsesReplier: ResponsesReplier = (body) => (isToolOutput(body) ? { text: 'done' } : { text: `echo: ${lastUserText(body)}` });

async function streamResponse(res: ServerResponse, body: ResponsesRequestBody, turn: ResponsesTurn): Promise<void> {
  const id = `resp_standin_${nextId++}`;
  const response = { id, object: 'response', created_at: Math.floor(Date.now() / 1000), model: body.model, status: 'in_progress', output: [] as unknown[] };
  startEventStream(res);
  writeEvent(res, 'response.created', { type: 'response.created', response });
  const output: unknown[] = [];
  if (turn.text !== undefined) {
    const itemId = `msg_standin_${nextId++}`;
    const outputIndex = output.length;
    writeEvent(res, 'response.output_item.added', {
      type: 'response.output_item.added',
      output_index: outputIndex,
      item: { id: itemId, type: 'message', role: 'assistant', status: 'in_progress', content: [] },
    });
    writeEvent(res, 'response.content_part.added', {
      type: 'response.content_part.added', item_id: itemId, output_index: outputIndex, content_index: 0, part: { type: 'output_text', text: '', annotations: [] },
    });
    for (const piece of pieces(turn.text, turn.pieces ?? 3)) {
      if (res.destroyed) return;
      writeEvent(res, 'response.output_text.delta', { type: 'response.output_text.delta', item_id: itemId, output_index: outputIndex, content_index: 0, delta: piece });
      if (turn.pieceDelayMs) await new Promise((r) => setTimeout(r, turn.pieceDelayMs));
    }
    const part = { type: 'output_text', text: turn.text, annotations: [] };
    writeEvent(res, 'response.output_text.done', { type: 'response.output_text.done', item_id: itemId, output_index: outputIndex, content_index: 0, text: turn.text });
    writeEvent(res, 'response.content_part.done', { type: 'response.content_part.done', item_id: itemId, output_index: outputIndex, content_index: 0, part });
    const item = { id: itemId, type: 'message', role: 'assistant', status: 'completed', content: [part] };
    writeEvent(res, 'response.output_item.done', { type: 'response.output_item.done', output_index: outputIndex, item });
    output.push(item);
  }
  if (turn.toolCall) {
    const callId = `call_standin_${nextId++}`;
    const itemId = `fc_standin_${nextId++}`;
    const item =
      turn.toolCall.kind === 'function'
        ? { id: itemId, type: 'function_call', status: 'completed', call_id: callId, name: turn.toolCall.name, arguments: JSON.stringify(turn.toolCall.arguments) }
        : { id: itemId, type: 'custom_tool_call', status: 'completed', call_id: callId, name: turn.toolCall.name, input: turn.toolCall.input };
    writeEvent(res, 'response.output_item.added', { type: 'response.output_item.added', output_index: output.length, item: { ...item, status: 'in_progress' } });
    writeEvent(res, 'response.output_item.done', { type: 'response.output_item.done', output_index: output.length, item });
    output.push(item);
  }
  const inputTokens = Math.ceil(JSON.stringify(body).length / 4);
  const outputTokens = Math.ceil((turn.text?.length ?? 0) / 4) + 1;
  writeEvent(res, 'response.completed', {
    type: 'response.completed',
    response: {
      ...response,
      status: 'completed',
      output,
      usage: {
        input_tokens: inputTokens,
        input_tokens_details: { cached_tokens: 0 },
        output_tokens: outputTokens,
        output_tokens_details: { reasoning_tokens: 0 },
        total_tokens: inputTokens + outputTokens,
      },
    },
  });
  res.end();
}
