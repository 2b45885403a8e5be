/**
 * What happens to a JSON-RPC message larger than the bridge accepts (its
 * `--max-message-bytes`), wherever it is found too large (the bridge's stdin, the
 * agent's output in plain mode, the launcher in framed mode): it is not relayed, and
 * whoever waits for it gets an error at once instead of waiting for ever. Its envelope
 * is read from its first bytes only: `id` and `method`, when they come before anything
 * nested (as every ACP peer writes them). Pure; nothing else of the message is read.
 */

type JsonRpcId = number | string | null;

/** What to send instead of a message that is too large. */
export interface Refusal {
  /** The message was an answer: this error goes to the receiver in its place. */
  readonly inPlace?: Buffer;
  /** The message was a request: this error answers it, back to its sender. */
  readonly toSender?: Buffer;
  /** The message's method, when it had one (for the log). */
  readonly method?: string;
}

export function refuseOversize(head: Buffer, bytes: number, limit: number): Refusal {
  const { id, method } = headEnvelope(head);
  if (id === undefined || id === null) return { method };
  if (method !== undefined) return { method, toSender: errorLine(id, -32600, `Invalid Request: the message is ${tooLarge(bytes, limit)}`) };
  return { inPlace: errorLine(id, -32603, `Internal error: the answer is ${tooLarge(bytes, limit)}`) };
}

/** How much too large a message is, for an error. */
export function tooLarge(bytes: number, limit: number): string {
  return `${bytes} bytes, more than the ${limit} bytes the bridge accepts (--max-message-bytes)`;
}

function errorLine(id: number | string, code: number, message: string): Buffer {
  return Buffer.from(`${JSON.stringify({ jsonrpc: '2.0', id, error: { code, message } })}\n`);
}

export interface HeadEnvelope {
  /** The message's id, when one was seen at the top level. */
  readonly id?: JsonRpcId;
  readonly method?: string;
}

/** Scans the top level of a truncated JSON object; stops at the first nested value or the end. */
export function headEnvelope(head: Buffer): HeadEnvelope {
  const text = head.toString('utf8');
  const found: { id?: JsonRpcId; method?: string } = {};
  let i = skipSpace(text, 0);
  if (text[i] !== '{') return found;
  i++;
  for (;;) {
    i = skipSpace(text, i);
    const key = readString(text, i);
    if (!key) return found;
    i = skipSpace(text, key.end);
    if (text[i] !== ':') return found;
    i = skipSpace(text, i + 1);
    const value = readScalar(text, i);
    if (!value) return found; // nested, or cut off
    if (key.value === 'id' && (typeof value.value === 'number' || typeof value.value === 'string' || value.value === null)) found.id = value.value;
    if (key.value === 'method' && typeof value.value === 'string') found.method = value.value;
    i = skipSpace(text, value.end);
    if (text[i] !== ',') return found;
    i++;
  }
}

function skipSpace(text: string, i: number): number {
  while (i < text.length && (text[i] === ' ' || text[i] === '\t' || text[i] === '\r' || text[i] === '\n')) i++;
  return i;
}

function readString(text: string, i: number): { value: string; end: number } | undefined {
  if (text[i] !== '"') return undefined;
  for (let j = i + 1; j < text.length; j++) {
    if (text[j] === '\\') j++;
    else if (text[j] === '"') {
      try {
        return { value: JSON.parse(text.slice(i, j + 1)) as string, end: j + 1 };
      } catch {
        return undefined;
      }
    }
  }
  return undefined;
}

const SCALAR = /^(?:-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?|true|false|null)/;

function readScalar(text: string, i: number): { value: unknown; end: number } | undefined {
  if (text[i] === '"') {
    const s = readString(text, i);
    return s && { value: s.value, end: s.end };
  }
  const m = SCALAR.exec(text.slice(i, i + 40));
  // A number at the very end of the head may continue beyond it.
  if (!m || i + m[0].length >= text.length) return undefined;
  return { value: JSON.parse(m[0]) as unknown, end: i + m[0].length };
}
