// Deterministic text generators shared by the ACP test agent (bundled into
// dist/test/acp-agent.mjs) and the jest tests (CommonJS), so a test can compute
// exactly what the agent sends or should have received. Pure functions only;
// node:crypto is used for the digest reply.
import { createHash } from 'node:crypto';

/** One unit of the big-text pattern: 'a' (1 byte) 'é' (2) '€' (3) '😀' (4, a surrogate pair) = 10 UTF-8 bytes. */
export const BIG_UNIT = 'aé€😀';
export const BIG_UNIT_BYTES = 10;

/**
 * Exactly `bytes` UTF-8 bytes: BIG_UNIT repeated, padded with 'a' (1 byte each)
 * to hit the exact count. Mixes 1-, 2-, 3- and 4-byte characters so any
 * splitting of a multi-byte character on a frame/chunk boundary shows up.
 */
export function bigText(bytes: number): string {
  if (!Number.isSafeInteger(bytes) || bytes < 0) throw new RangeError(`bigText: bad byte count ${bytes}`);
  return BIG_UNIT.repeat(Math.floor(bytes / BIG_UNIT_BYTES)) + 'a'.repeat(bytes % BIG_UNIT_BYTES);
}

/** The N chunk texts of `burst N` / `slow N MS`: '0\n', '1\n', ... */
export function burstChunks(n: number): string[] {
  const out: string[] = [];
  for (let i = 0; i < n; i++) out.push(`${i}\n`);
  return out;
}

/** The concatenated reply text of `burst N` (and of an uninterrupted `slow N MS`). */
export function burstText(n: number): string {
  return burstChunks(n).join('');
}

/** UTF-8 byte length of a string. */
export function utf8Bytes(text: string): number {
  return Buffer.byteLength(text, 'utf8');
}

/** Reply of the agent's `digest` command for a prompt whose concatenated text is `text`. */
export function digestReply(text: string): string {
  const buf = Buffer.from(text, 'utf8');
  return `sha256:${createHash('sha256').update(buf).digest('hex')} bytes:${buf.length}`;
}

/** A `digest` prompt of exactly `totalBytes` UTF-8 bytes (>= 7): 'digest ' + bigText(totalBytes - 7). */
export function digestPrompt(totalBytes: number): string {
  if (totalBytes < 7) throw new RangeError('digestPrompt: need at least 7 bytes');
  return 'digest ' + bigText(totalBytes - 7);
}

/** Reply of the agent's default (echo) behaviour for a command text. */
export function echoReply(text: string): string {
  return `echo: ${text}`;
}

/**
 * Splits `text` into `parts` pieces (some possibly empty for very short
 * texts) without splitting a surrogate pair; joining them gives `text` back.
 */
export function splitText(text: string, parts: number): string[] {
  const cps = Array.from(text);
  const out: string[] = [];
  const size = Math.ceil(cps.length / parts);
  for (let i = 0; i < parts; i++) out.push(cps.slice(i * size, (i + 1) * size).join(''));
  return out;
}

const SENDER_CONTEXT = /^\s*<sender_context>[\s\S]*?<\/sender_context>\s*/;

/**
 * The command part of a prompt text: the text with a leading OpenAB
 * `<sender_context>…</sender_context>` block (and surrounding blanks) removed.
 */
export function commandText(text: string): string {
  return text.replace(SENDER_CONTEXT, '');
}
