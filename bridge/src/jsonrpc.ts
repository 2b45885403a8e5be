/**
 * JSON-RPC 2.0 message classification and error responses. Pure.
 */
import { isUtf8 } from 'node:buffer';
import { type JsonType, type Member, scanJsonObject, type Scanned } from './json-scan';

export type JsonRpcId = number | string | null;

export type Message =
  | { kind: 'request'; id: number | string; method: string; params: unknown; sessionId: unknown }
  | { kind: 'notification'; method: string; params: unknown; sessionId: unknown }
  | { kind: 'response'; id: JsonRpcId; result?: unknown; error?: unknown };

export type ParsedLine =
  | { ok: true; message: Message }
  | { ok: false; code: number; message: string; id: JsonRpcId };

export const PARSE_ERROR = -32700;
export const INVALID_REQUEST = -32600;
export const METHOD_NOT_FOUND = -32601;
export const INVALID_PARAMS = -32602;
export const INTERNAL_ERROR = -32603;
export const SESSION_NOT_FOUND = -32002;

/** Nesting deeper than this is refused before JSON.parse could exhaust the stack. */
const MAX_DEPTH = 512;
/**
 * Lines this long are validated by the scanner and only their envelope is decoded
 * (`params`, `result` and `error` are parsed if and when they are read): a relayed
 * 10 MB message is never turned into a string.
 */
export const ENVELOPE_ONLY_FROM = 64 * 1024;

export function parseLine(line: Buffer): ParsedLine {
  if (!isUtf8(line)) return { ok: false, code: PARSE_ERROR, message: 'Parse error: the line is not valid UTF-8', id: null };
  if (line.length >= ENVELOPE_ONLY_FROM) {
    const scanned = scanJsonObject(line, MAX_DEPTH);
    // Anything the scanner refuses is parsed for real below, which says exactly what is wrong.
    if (scanned) return classify(scannedEnvelope(line, scanned));
  }
  let value: unknown;
  try {
    value = JSON.parse(line.toString('utf8'));
  } catch (e) {
    return { ok: false, code: PARSE_ERROR, message: describeJsonError(e as Error), id: null };
  }
  // V8 parses any depth without recursing; what is refused is a message too deep for its readers
  // (which takes two bytes a level, so most lines are too short to be).
  if (line.length > 2 * MAX_DEPTH && depthExceeds(value, MAX_DEPTH)) {
    return { ok: false, code: PARSE_ERROR, message: `Parse error: nesting deeper than ${MAX_DEPTH} levels`, id: null };
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    const what = Array.isArray(value) ? 'an array (batches are not supported by ACP)' : `a ${value === null ? 'null' : typeof value}`;
    return { ok: false, code: INVALID_REQUEST, message: `Invalid Request: expected a JSON-RPC object, got ${what}`, id: null };
  }
  return classify(parsedEnvelope(value as Record<string, unknown>));
}

/** The top-level members of a message, however it was read. */
interface Envelope {
  has(name: string): boolean;
  get(name: string): unknown;
  typeOf(name: string): JsonType | undefined;
  /** `params.sessionId`, without reading the rest of `params`. */
  sessionId(): unknown;
}

function parsedEnvelope(obj: Record<string, unknown>): Envelope {
  return {
    has: (name) => name in obj,
    get: (name) => obj[name],
    typeOf: (name) => (name in obj ? typeOfValue(obj[name]) : undefined),
    sessionId: () => {
      const p = obj.params;
      return p !== null && typeof p === 'object' && !Array.isArray(p) ? (p as Record<string, unknown>).sessionId : undefined;
    },
  };
}

function scannedEnvelope(line: Buffer, scanned: Scanned): Envelope {
  const cache = new Map<string, unknown>();
  const decode = (m: Member) => JSON.parse(line.toString('utf8', m.start, m.end)) as unknown;
  return {
    has: (name) => scanned.members.has(name),
    get: (name) => {
      const m = scanned.members.get(name);
      if (!m) return undefined;
      if (!cache.has(name)) cache.set(name, decode(m));
      return cache.get(name);
    },
    typeOf: (name) => scanned.members.get(name)?.type,
    sessionId: () => {
      const m = scanned.params.get('sessionId');
      return m && scanned.members.get('params')?.type === 'object' ? decode(m) : undefined;
    },
  };
}

function typeOfValue(v: unknown): JsonType {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  return typeof v as JsonType;
}

function classify(env: Envelope): ParsedLine {
  const id = env.get('id');
  const idOk = id === undefined || id === null || typeof id === 'string' || (typeof id === 'number' && Number.isFinite(id));
  const echoId: JsonRpcId = idOk && id !== undefined ? (id) : null;
  if (env.get('jsonrpc') !== '2.0') {
    return { ok: false, code: INVALID_REQUEST, message: 'Invalid Request: "jsonrpc" must be "2.0"', id: echoId };
  }
  if (!idOk) return { ok: false, code: INVALID_REQUEST, message: 'Invalid Request: "id" must be a number, a string or null', id: null };
  if (env.has('method')) {
    const method = env.get('method');
    if (typeof method !== 'string' || method === '') {
      return { ok: false, code: INVALID_REQUEST, message: 'Invalid Request: "method" must be a non-empty string', id: echoId };
    }
    const paramsType = env.typeOf('params');
    if (paramsType !== undefined && paramsType !== 'object' && paramsType !== 'array') {
      return { ok: false, code: INVALID_REQUEST, message: 'Invalid Request: "params" must be an object or an array', id: echoId };
    }
    const sessionId = env.sessionId();
    if (id === undefined) {
      return { ok: true, message: { kind: 'notification', method, sessionId, get params() { return env.get('params'); } } };
    }
    if (id === null) {
      return { ok: false, code: INVALID_REQUEST, message: 'Invalid Request: a request id must not be null', id: null };
    }
    return { ok: true, message: { kind: 'request', id: id, method, sessionId, get params() { return env.get('params'); } } };
  }
  if (env.has('result') || env.has('error')) {
    if (env.has('result') && env.has('error')) {
      return { ok: false, code: INVALID_REQUEST, message: 'Invalid Request: a response has either "result" or "error"', id: echoId };
    }
    if (id === undefined) return { ok: false, code: INVALID_REQUEST, message: 'Invalid Request: a response needs an "id"', id: null };
    return {
      ok: true,
      message: {
        kind: 'response',
        id: id,
        get result() { return env.get('result'); },
        get error() { return env.get('error'); },
      },
    };
  }
  return { ok: false, code: INVALID_REQUEST, message: 'Invalid Request: neither a request, a notification nor a response', id: echoId };
}

export function errorResponse(id: JsonRpcId, code: number, message: string, data?: unknown): Buffer {
  const error: Record<string, unknown> = { code, message };
  if (data !== undefined) error.data = data;
  return Buffer.from(`${JSON.stringify({ jsonrpc: '2.0', id, error })}\n`);
}

export function resultResponse(id: JsonRpcId, result: unknown): Buffer {
  return Buffer.from(`${JSON.stringify({ jsonrpc: '2.0', id, result })}\n`);
}

export function requestLine(id: number | string, method: string, params: unknown): Buffer {
  return Buffer.from(`${JSON.stringify({ jsonrpc: '2.0', id, method, params })}\n`);
}

/**
 * What is wrong with a line JSON.parse refused, without quoting it: V8's own message
 * repeats part of the input, which may be what a user wrote, and this one reaches logs
 * and the client.
 */
function describeJsonError(e: Error): string {
  const at = /at position (\d+)/.exec(e.message);
  if (/Unexpected end of JSON input/.test(e.message)) return 'Parse error: not valid JSON (it ends too early)';
  return `Parse error: not valid JSON${at ? ` (at character ${at[1]})` : ''}`;
}

/** Blank lines between messages carry nothing; they are skipped, not answered. */
export function isBlank(line: Buffer): boolean {
  for (const b of line) if (b !== 0x20 && b !== 0x09 && b !== 0x0d) return false;
  return true;
}

/** Whether a parsed value nests deeper than `max` (iterative: deep input must not exhaust the stack). */
export function depthExceeds(value: unknown, max: number): boolean {
  let level: unknown[] = [value];
  for (let depth = 0; level.length > 0; depth++) {
    if (depth >= max) return true; // this level holds containers nested depth + 1 deep
    const next: unknown[] = [];
    for (const v of level) {
      if (v !== null && typeof v === 'object') for (const child of Object.values(v)) if (child !== null && typeof child === 'object') next.push(child);
    }
    level = next;
  }
  return false;
}

/**
 * Replaces every occurrence of the JSON string literal `from` with `to` in a raw
 * line, leaving all other bytes as they were (session ids differ between the
 * client's and the remote agent's side), and ends it with one newline. The two
 * literals are encoded once, for use on many lines; the result is pieces of the
 * line and the replacements, copying nothing (a relayed 10 MB message is written
 * out as it is).
 */
export function jsonStringReplacer(from: string, to: string): (line: Buffer) => Buffer[] {
  const needle = Buffer.from(JSON.stringify(from));
  const replacement = Buffer.from(JSON.stringify(to));
  return (line) => {
    const body = line[line.length - 1] === 0x0a ? line.subarray(0, line.length - 1) : line;
    const parts: Buffer[] = [];
    let start = 0;
    for (let at = body.indexOf(needle); at >= 0; at = body.indexOf(needle, start)) {
      parts.push(body.subarray(start, at), replacement);
      start = at + needle.length;
    }
    parts.push(body.subarray(start), NEWLINE);
    return parts;
  };
}

const NEWLINE = Buffer.from('\n');
