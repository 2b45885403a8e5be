/**
 * JSON-RPC 2.0 message classification and error responses. Pure.
 */
import { isUtf8 } from 'node:buffer';

export type JsonRpcId = number | string | null;

export type Message =
  | { kind: 'request'; id: number | string; method: string; params: unknown }
  | { kind: 'notification'; method: string; params: unknown }
  | { kind: 'response'; id: JsonRpcId; result?: unknown; error?: unknown };

export type ParsedLine =
  | { ok: true; message: Message; value: Record<string, unknown> }
  | { ok: false; code: number; message: string; id: JsonRpcId };

export const PARSE_ERROR = -32700;
export const INVALID_REQUEST = -32600;
export const METHOD_NOT_FOUND = -32601;
export const INVALID_PARAMS = -32602;
export const INTERNAL_ERROR = -32603;
export const SESSION_NOT_FOUND = -32002;

/** Nesting deeper than this is refused before JSON.parse could exhaust the stack. */
const MAX_DEPTH = 512;

export function parseLine(line: Buffer): ParsedLine {
  if (!isUtf8(line)) return { ok: false, code: PARSE_ERROR, message: 'Parse error: the line is not valid UTF-8', id: null };
  let value: unknown;
  try {
    value = JSON.parse(line.toString('utf8'));
  } catch (e) {
    return { ok: false, code: PARSE_ERROR, message: `Parse error: ${(e as Error).message}`, id: null };
  }
  // V8 parses any depth without recursing; what is refused is a message too deep for its readers.
  if (depthExceeds(value, MAX_DEPTH)) {
    return { ok: false, code: PARSE_ERROR, message: `Parse error: nesting deeper than ${MAX_DEPTH} levels`, id: null };
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    const what = Array.isArray(value) ? 'an array (batches are not supported by ACP)' : `a ${value === null ? 'null' : typeof value}`;
    return { ok: false, code: INVALID_REQUEST, message: `Invalid Request: expected a JSON-RPC object, got ${what}`, id: null };
  }
  const obj = value as Record<string, unknown>;
  const id = obj.id;
  const idOk = id === undefined || id === null || typeof id === 'string' || (typeof id === 'number' && Number.isFinite(id));
  const echoId: JsonRpcId = idOk && id !== undefined ? (id as JsonRpcId) : null;
  if (obj.jsonrpc !== '2.0') {
    return { ok: false, code: INVALID_REQUEST, message: 'Invalid Request: "jsonrpc" must be "2.0"', id: echoId };
  }
  if (!idOk) return { ok: false, code: INVALID_REQUEST, message: 'Invalid Request: "id" must be a number, a string or null', id: null };
  if ('method' in obj) {
    if (typeof obj.method !== 'string' || obj.method === '') {
      return { ok: false, code: INVALID_REQUEST, message: 'Invalid Request: "method" must be a non-empty string', id: echoId };
    }
    if (obj.params !== undefined && (obj.params === null || typeof obj.params !== 'object')) {
      return { ok: false, code: INVALID_REQUEST, message: 'Invalid Request: "params" must be an object or an array', id: echoId };
    }
    if (id === undefined) return { ok: true, value: obj, message: { kind: 'notification', method: obj.method, params: obj.params } };
    if (id === null) {
      return { ok: false, code: INVALID_REQUEST, message: 'Invalid Request: a request id must not be null', id: null };
    }
    return { ok: true, value: obj, message: { kind: 'request', id: id as number | string, method: obj.method, params: obj.params } };
  }
  if ('result' in obj || 'error' in obj) {
    if ('result' in obj && 'error' in obj) {
      return { ok: false, code: INVALID_REQUEST, message: 'Invalid Request: a response has either "result" or "error"', id: echoId };
    }
    if (id === undefined) return { ok: false, code: INVALID_REQUEST, message: 'Invalid Request: a response needs an "id"', id: null };
    return { ok: true, value: obj, message: { kind: 'response', id: id as JsonRpcId, result: obj.result, error: obj.error } };
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

export function notificationLine(method: string, params: unknown): Buffer {
  return Buffer.from(`${JSON.stringify({ jsonrpc: '2.0', method, params })}\n`);
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
      if (v !== null && typeof v === 'object') for (const child of Object.values(v as object)) if (child !== null && typeof child === 'object') next.push(child);
    }
    level = next;
  }
  return false;
}

/**
 * Replaces every occurrence of the JSON string literal `from` with `to` in a raw
 * line, leaving all other bytes as they were (session ids differ between the
 * client's and the remote agent's side).
 */
export function replaceJsonString(line: Buffer, from: string, to: string): Buffer {
  const needle = Buffer.from(JSON.stringify(from));
  let at = line.indexOf(needle);
  if (at < 0) return line;
  const replacement = Buffer.from(JSON.stringify(to));
  const parts: Buffer[] = [];
  let start = 0;
  while (at >= 0) {
    parts.push(line.subarray(start, at), replacement);
    start = at + needle.length;
    at = line.indexOf(needle, start);
  }
  parts.push(line.subarray(start));
  return Buffer.concat(parts);
}
