/**
 * Which turns are in flight, read from the messages the launcher relays: a turn starts
 * when a `session/prompt` request reaches the agent and ends with the agent's answer to
 * it (`end_turn`, `cancelled`, an error: any response with that id). The runtime reports
 * `HealthyBusy` only while one is in flight, so an idle thread's microVM can be reaped.
 * Pure: messages in, transitions out.
 *
 * Only the envelope is read. A prompt's method and id are found in the first bytes
 * (every client writes `jsonrpc`, `id`, `method` before `params`), with a whole parse
 * as the fallback for an unusual order. An answer to a prompt is small and has no method,
 * so only lines under {@link MAX_ANSWER_BYTES} with no method in their first bytes are
 * parsed as candidate answers: the notifications a turn streams are not.
 */

/** How far into a message the envelope is looked for. */
const HEAD_BYTES = 4096;
/** Lines from the agent at least this long are not read as answers (a prompt's answer is tiny). */
export const MAX_ANSWER_BYTES = 64 * 1024;

const PROMPT_METHOD = /"method"\s*:\s*"session\/prompt"/;
const ANY_METHOD = /"method"\s*:/;
const ID = /"id"\s*:\s*("(?:[^"\\]|\\.)*"|-?\d+)/;

export class TurnTracker {
  private readonly inFlight = new Set<string>();

  get busy(): boolean {
    return this.inFlight.size > 0;
  }

  /** A message on its way to the agent; 'busy' when it starts the first turn in flight. */
  toAgent(message: Buffer): 'busy' | undefined {
    const id = promptId(message);
    if (id === undefined) return undefined;
    const wasBusy = this.busy;
    this.inFlight.add(id);
    return wasBusy ? undefined : 'busy';
  }

  /** A message from the agent; 'idle' when it answers the last turn in flight. */
  fromAgent(message: Buffer): 'idle' | undefined {
    if (!this.busy) return undefined;
    const id = answerId(message);
    if (id === undefined || !this.inFlight.delete(id)) return undefined;
    return this.busy ? undefined : 'idle';
  }

  /** The agent is gone: no turn is in flight any more. True if one was. */
  clear(): boolean {
    const was = this.busy;
    this.inFlight.clear();
    return was;
  }
}

/** The id of a `session/prompt` request, as a key; undefined for anything else. */
export function promptId(message: Buffer): string | undefined {
  const head = message.toString('latin1', 0, Math.min(message.length, HEAD_BYTES));
  if (PROMPT_METHOD.test(head)) {
    const id = ID.exec(head);
    if (id) return keyOf(JSON.parse(id[1]) as unknown);
  } else if (ANY_METHOD.test(head) || !message.includes('"session/prompt"')) {
    return undefined;
  }
  // The method or the id lies beyond the head: read the whole message.
  const parsed = parseObject(message);
  return parsed?.method === 'session/prompt' ? keyOf(parsed.id) : undefined;
}

/** The id of a response (no method, a result or an error), as a key; undefined for anything else. */
export function answerId(message: Buffer): string | undefined {
  if (message.length >= MAX_ANSWER_BYTES) return undefined;
  // A turn streams notifications, each naming its method before anything else: not parsed
  // here. (A method nested in an answer's result comes after "result", so answers still are.)
  if (methodFirst(message.toString('latin1', 0, Math.min(message.length, HEAD_BYTES)))) return undefined;
  const parsed = parseObject(message);
  if (!parsed || 'method' in parsed || !('result' in parsed || 'error' in parsed)) return undefined;
  return keyOf(parsed.id);
}

function methodFirst(head: string): boolean {
  const method = head.search(ANY_METHOD);
  if (method < 0) return false;
  const outcome = head.search(/"(result|error)"\s*:/);
  return outcome < 0 || method < outcome;
}

function parseObject(message: Buffer): Record<string, unknown> | undefined {
  try {
    const v = JSON.parse(message.toString('utf8')) as unknown;
    return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

function keyOf(id: unknown): string | undefined {
  return typeof id === 'string' || typeof id === 'number' ? `${typeof id}:${id}` : undefined;
}
