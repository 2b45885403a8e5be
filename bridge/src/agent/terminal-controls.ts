/**
 * An agent on a terminal may write terminal queries and modes with no newline before its
 * first message (gemini-cli writes `ESC[8m`, `ESC[?u`, `ESC[c` …), so that message arrives
 * on the same line behind them. This finds such a message; anything else stays noise.
 *
 * Recognised at the start of a line, in any number and order (ECMA-48):
 *   CSI      ESC [ parameters (0x30–0x3F) intermediates (0x20–0x2F) final (0x40–0x7E)
 *   strings  ESC ] (OSC), ESC P (DCS), ESC X (SOS), ESC ^ (PM), ESC _ (APC), up to BEL or ESC \
 *   escapes  ESC intermediates (0x20–0x2F) final (0x30–0x7E), e.g. ESC ( B, ESC =, ESC 7
 *   single   any other C0 control character, DEL, and spaces between them
 * A sequence cut off by the end of the line ends the run: the rest is not a message.
 * Pure; only the leading run is read, never the message behind it.
 */

const ESC = 0x1b;
const BEL = 0x07;
const SPACE = 0x20;
const DEL = 0x7f;
const OPEN_BRACE = 0x7b;
/** The introducers of ESC sequences that carry a string up to a terminator. */
const STRING_INTRODUCERS = new Set([0x5d /* ] OSC */, 0x50 /* P DCS */, 0x58 /* X SOS */, 0x5e /* ^ PM */, 0x5f /* _ APC */]);

/** How many bytes at the start of `line` are terminal control sequences, control characters or spaces. */
export function leadingTerminalControlBytes(line: Uint8Array): number {
  let at = 0;
  while (at < line.length) {
    const next = controlEnd(line, at);
    if (next === undefined) break;
    at = next;
  }
  return at;
}

/**
 * The JSON-RPC message behind a leading run of terminal controls: the rest of the line when
 * that run is not empty and the rest is a JSON object; otherwise undefined (the line is
 * whatever it is, as written). Whether the rest is valid JSON-RPC is for its parser to say.
 */
export function messageAfterTerminalControls(line: Buffer): Buffer | undefined {
  const skip = leadingTerminalControlBytes(line);
  if (skip === 0 || line[skip] !== OPEN_BRACE) return undefined;
  return line.subarray(skip);
}

/** Where the control item starting at `at` ends, or undefined if none starts there (or it is cut off). */
function controlEnd(line: Uint8Array, at: number): number | undefined {
  const b = line[at];
  if (b !== ESC) return b < SPACE || b === SPACE || b === DEL ? at + 1 : undefined;
  const kind = line[at + 1];
  if (kind === undefined) return undefined;
  if (kind === 0x5b /* [ */) return csiEnd(line, at + 2);
  if (STRING_INTRODUCERS.has(kind)) return stringEnd(line, at + 2);
  return escapeEnd(line, at + 1);
}

function csiEnd(line: Uint8Array, from: number): number | undefined {
  let i = from;
  while (i < line.length && line[i] >= 0x30 && line[i] <= 0x3f) i++;
  while (i < line.length && line[i] >= 0x20 && line[i] <= 0x2f) i++;
  return i < line.length && line[i] >= 0x40 && line[i] <= 0x7e ? i + 1 : undefined;
}

function stringEnd(line: Uint8Array, from: number): number | undefined {
  for (let i = from; i < line.length; i++) {
    if (line[i] === BEL) return i + 1;
    if (line[i] === ESC) return line[i + 1] === 0x5c /* \ */ ? i + 2 : undefined;
  }
  return undefined;
}

function escapeEnd(line: Uint8Array, from: number): number | undefined {
  let i = from;
  while (i < line.length && line[i] >= 0x20 && line[i] <= 0x2f) i++;
  return i < line.length && line[i] >= 0x30 && line[i] <= 0x7e ? i + 1 : undefined;
}
