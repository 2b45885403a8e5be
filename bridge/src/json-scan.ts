/**
 * A validating JSON scanner for large messages: it checks a whole line's syntax
 * byte by byte, as JSON.parse would, without decoding it into a string or
 * building its values, and returns where the top-level members (and the members
 * of `params`) are. The bridge needs only a message's envelope (jsonrpc, id,
 * method, params.sessionId); decoding a 10 MB prompt just to read those costs
 * more than relaying it. UTF-8 validity is checked by the caller. Pure.
 */

export type JsonType = 'object' | 'array' | 'string' | 'number' | 'boolean' | 'null';

export interface Member {
  /** Byte offsets of the member's value in the line. */
  readonly start: number;
  readonly end: number;
  readonly type: JsonType;
}

export interface Scanned {
  /** The top-level object's members (the last of duplicate names, as JSON.parse keeps). */
  readonly members: Map<string, Member>;
  /** The members of `params` when it is an object. */
  readonly params: Map<string, Member>;
}

const OBJ = 1;
const ARR = 2;

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COMMA = 0x2c;
const COLON = 0x3a;
const LBRACE = 0x7b;
const RBRACE = 0x7d;
const LBRACKET = 0x5b;
const RBRACKET = 0x5d;
const MINUS = 0x2d;

/** Thrown inside the scan; never escapes it. */
const INVALID = new Error('invalid JSON');

/**
 * Scans `b` as one JSON text whose top level is an object. Returns undefined when
 * it is not valid JSON, is not an object, or nests deeper than `maxDepth`: the
 * caller then parses it for real to say exactly what is wrong.
 */
export function scanJsonObject(b: Uint8Array, maxDepth: number): Scanned | undefined {
  try {
    return scan(b, maxDepth);
  } catch (e) {
    if (e === INVALID) return undefined;
    throw e;
  }
}

function scan(b: Uint8Array, maxDepth: number): Scanned {
  const n = b.length;
  const members = new Map<string, Member>();
  const params = new Map<string, Member>();
  const stack = new Uint8Array(maxDepth + 1);
  // The line as 32-bit words from its first 4-byte-aligned byte `a0`, for the string scan.
  const a0 = Math.min(n, (4 - (b.byteOffset & 3)) & 3);
  const words = new Int32Array(b.buffer, b.byteOffset + a0, (n - a0) >> 2);
  let depth = 0;
  // The member whose value is being read at depth 1 (top level) and at depth 2 inside params.
  let topKey: string | undefined;
  let topStart = 0;
  let topType: JsonType = 'null';
  let inParams = false;
  let paramKey: string | undefined;
  let paramStart = 0;
  let paramType: JsonType = 'null';

  let i = ws(b, 0);
  if (b[i] !== LBRACE) throw INVALID;
  for (;;) {
    // ---- a value starts at i
    const c = b[i];
    if (c === LBRACE || c === LBRACKET) {
      // A container: its member record is made when it closes (see close()).
      if (depth >= maxDepth) throw INVALID;
      if (depth === 1) startTop();
      else if (depth === 2 && inParams) startParam();
      stack[depth++] = c === LBRACE ? OBJ : ARR;
      if (depth === 2 && topKey === 'params' && c === LBRACE) inParams = true;
      i = ws(b, i + 1);
      if (c === LBRACE) {
        if (b[i] === RBRACE) {
          i = close(i);
        } else {
          i = key(i);
          continue;
        }
      } else if (b[i] === RBRACKET) {
        i = close(i);
      } else {
        continue;
      }
    } else {
      const start = i;
      let type: JsonType;
      if (c === QUOTE) {
        i = string(b, i, words, a0);
        type = 'string';
      } else if (c === MINUS || (c >= 0x30 && c <= 0x39)) {
        i = number(b, i);
        type = 'number';
      } else if (c === 0x74) {
        i = literal(b, i, TRUE);
        type = 'boolean';
      } else if (c === 0x66) {
        i = literal(b, i, FALSE);
        type = 'boolean';
      } else if (c === 0x6e) {
        i = literal(b, i, NULL);
        type = 'null';
      } else {
        throw INVALID;
      }
      if (depth === 1) record(members, topKey, start, i, type);
      else if (depth === 2 && inParams) record(params, paramKey, start, i, type);
    }
    // ---- after a value: a separator, or the end of containers (possibly several)
    for (;;) {
      i = ws(b, i);
      if (depth === 0) {
        if (i !== n) throw INVALID;
        return { members, params };
      }
      const d = b[i];
      if (d === COMMA) {
        i = ws(b, i + 1);
        if (stack[depth - 1] === OBJ) i = key(i);
        break;
      }
      if (d === (stack[depth - 1] === OBJ ? RBRACE : RBRACKET)) {
        i = close(i);
        continue;
      }
      throw INVALID;
    }
  }

  /** Reads `"name" :` at i (the opening quote) and returns where the value starts. */
  function key(at: number): number {
    if (b[at] !== QUOTE) throw INVALID;
    const end = string(b, at, words, a0);
    if (depth === 1) {
      topKey = keyName(b, at, end);
      if (topKey === 'params') params.clear(); // a later duplicate replaces the whole value
    } else if (depth === 2 && inParams) {
      paramKey = keyName(b, at, end);
    }
    const colon = ws(b, end);
    if (b[colon] !== COLON) throw INVALID;
    return ws(b, colon + 1);
  }

  /** Closes the container whose closing bracket is at `at`; returns the index after it. */
  function close(at: number): number {
    depth--;
    const end = at + 1;
    if (depth === 1) {
      if (inParams) inParams = false;
      record(members, topKey, topStart, end, topType);
    } else if (depth === 2 && inParams) {
      record(params, paramKey, paramStart, end, paramType);
    }
    return end;
  }

  function startTop(): void {
    topStart = i;
    topType = b[i] === LBRACE ? 'object' : 'array';
  }

  function startParam(): void {
    paramStart = i;
    paramType = b[i] === LBRACE ? 'object' : 'array';
  }
}

function record(into: Map<string, Member>, name: string | undefined, start: number, end: number, type: JsonType): void {
  if (name === undefined) return;
  // A later duplicate wins, as with JSON.parse; delete first so iteration order follows it too.
  into.delete(name);
  into.set(name, { start, end, type });
}

/** The name of a member key; only short ones can be of interest, longer ones are not decoded. */
function keyName(b: Uint8Array, start: number, end: number): string {
  if (end - start > 66) return '';
  let plain = true;
  for (let j = start + 1; j < end - 1; j++) if (b[j] === BACKSLASH || b[j] >= 0x80) plain = false;
  const text = Buffer.from(b.buffer, b.byteOffset + start, end - start);
  return plain ? text.toString('latin1', 1, end - start - 1) : (JSON.parse(text.toString('utf8')) as string);
}

function ws(b: Uint8Array, i: number): number {
  for (;;) {
    const c = b[i];
    if (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) i++;
    else return i;
  }
}

/** Reads a string starting at its opening quote; returns the index after the closing quote. */
function string(b: Uint8Array, i: number, words: Int32Array, a0: number): number {
  const n = b.length;
  const nWords = words.length;
  i++;
  for (;;) {
    // The hot loop: most of a large message is string content.
    let c = b[i];
    while (c !== QUOTE && c !== BACKSLASH && c >= 0x20) {
      if (((i - a0) & 3) === 0 && i >= a0) {
        // At a word boundary: skip four bytes at a time while none is a quote, a backslash
        // or a control character (bit tricks that find a byte equal to, or below, a value).
        let w = (i - a0) >> 2;
        while (w < nWords) {
          const x = words[w];
          const q = x ^ 0x22222222;
          const s = x ^ 0x5c5c5c5c;
          if (((q - 0x01010101) & ~q & 0x80808080) | ((s - 0x01010101) & ~s & 0x80808080) | ((x - 0x20202020) & ~x & 0x80808080)) break;
          w++;
        }
        const j = a0 + w * 4;
        if (j > i) {
          i = j;
          c = b[i];
          continue;
        }
      }
      c = b[++i];
    }
    if (i >= n) throw INVALID;
    if (c === QUOTE) return i + 1;
    if (c !== BACKSLASH) throw INVALID; // a raw control character
    const e = b[i + 1];
    if (e === 0x75) {
      for (let k = i + 2; k < i + 6; k++) if (!isHex(b[k])) throw INVALID;
      i += 6;
    } else if (e === QUOTE || e === BACKSLASH || e === 0x2f || e === 0x62 || e === 0x66 || e === 0x6e || e === 0x72 || e === 0x74) {
      i += 2;
    } else {
      throw INVALID;
    }
  }
}

function isHex(c: number | undefined): boolean {
  return c !== undefined && ((c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x46) || (c >= 0x61 && c <= 0x66));
}

function isDigit(c: number | undefined): boolean {
  return c !== undefined && c >= 0x30 && c <= 0x39;
}

/** `-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?` */
function number(b: Uint8Array, i: number): number {
  if (b[i] === MINUS) i++;
  if (b[i] === 0x30) i++;
  else if (isDigit(b[i])) while (isDigit(b[i])) i++;
  else throw INVALID;
  if (b[i] === 0x2e) {
    i++;
    if (!isDigit(b[i])) throw INVALID;
    while (isDigit(b[i])) i++;
  }
  if (b[i] === 0x65 || b[i] === 0x45) {
    i++;
    if (b[i] === 0x2b || b[i] === MINUS) i++;
    if (!isDigit(b[i])) throw INVALID;
    while (isDigit(b[i])) i++;
  }
  return i;
}

const TRUE = Buffer.from('true');
const FALSE = Buffer.from('false');
const NULL = Buffer.from('null');

function literal(b: Uint8Array, i: number, word: Uint8Array): number {
  for (let k = 0; k < word.length; k++) if (b[i + k] !== word[k]) throw INVALID;
  return i + word.length;
}
