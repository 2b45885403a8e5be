/**
 * The framed mode spoken between the bridge and the launcher inside the runtime
 * (`/app/bin/acp-session`): one frame per line, so a frame cut off by a dropped
 * connection is just a bad line, and every frame carries a checksum.
 *
 *   @@OAB1|<kind>|<seq>|<ack>|<crc32 hex>|<payload>\n
 *
 * kind: D data (payload: one JSON-RPC message), A ack only, H hello (launcher →
 * bridge, JSON payload), R resume (bridge → launcher, JSON payload). `seq` numbers
 * data frames from 1 in each direction; `ack` is the highest data frame the sender
 * has received in order. The CRC covers everything between the prefix and the
 * newline except the CRC itself. Pure.
 */

import * as zlib from 'node:zlib';

export const LINK_PREFIX = '@@OAB1|';
export type LinkKind = 'D' | 'A' | 'H' | 'R';

export interface LinkFrame {
  readonly kind: LinkKind;
  readonly seq: number;
  readonly ack: number;
  readonly payload: Buffer;
}

const PREFIX = Buffer.from(LINK_PREFIX);
/** The most a frame adds to its payload: the prefix, the header (searched this far) and the newline. */
export const LINK_FRAME_OVERHEAD_BYTES = LINK_PREFIX.length + 64 + 1;
const KINDS = new Set(['D', 'A', 'H', 'R']);

export function encodeLinkFrame(kind: LinkKind, seq: number, ack: number, payload: Buffer = EMPTY): Buffer {
  if (payload.includes(0x0a)) throw new Error('a frame payload must not contain a newline');
  const head = Buffer.from(`${kind}|${seq}|${ack}|`);
  const crc = crc32(payload, crc32(head)).toString(16).padStart(8, '0');
  return Buffer.concat([PREFIX, head, Buffer.from(`${crc}|`), payload, NEWLINE]);
}

export function isLinkLine(line: Buffer): boolean {
  return line.length >= PREFIX.length && line.compare(PREFIX, 0, PREFIX.length, 0, PREFIX.length) === 0;
}

/** Decodes one line (without its newline); `undefined` for anything damaged or foreign. */
export function decodeLinkFrame(line: Buffer): LinkFrame | undefined {
  if (!isLinkLine(line)) return undefined;
  // Header: kind|seq|ack|crc| — find the four separators after the prefix.
  const seps: number[] = [];
  for (let i = PREFIX.length; i < line.length && seps.length < 4 && i < LINK_FRAME_OVERHEAD_BYTES - 1; i++) {
    if (line[i] === 0x7c) seps.push(i);
  }
  if (seps.length < 4) return undefined;
  const kind = line.toString('latin1', PREFIX.length, seps[0]);
  const seq = Number(line.toString('latin1', seps[0] + 1, seps[1]));
  const ack = Number(line.toString('latin1', seps[1] + 1, seps[2]));
  const crcText = line.toString('latin1', seps[2] + 1, seps[3]);
  if (!KINDS.has(kind) || !Number.isSafeInteger(seq) || seq < 0 || !Number.isSafeInteger(ack) || ack < 0) return undefined;
  if (!/^[0-9a-f]{8}$/.test(crcText)) return undefined;
  const head = line.subarray(PREFIX.length, seps[2] + 1);
  const payload = line.subarray(seps[3] + 1);
  if (crc32(payload, crc32(head)) !== Number.parseInt(crcText, 16)) return undefined;
  return { kind: kind as LinkKind, seq, ack, payload };
}

const nativeCrc32 = (zlib as { crc32?: (data: Uint8Array, value?: number) => number }).crc32;

const TABLE = (() => {
  const t = new Int32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c;
  }
  return t;
})();

/** CRC-32 (IEEE), continuable: pass the previous result as `seed`. Native where Node has it (≥ 20.15). */
export function crc32(buf: Uint8Array, seed = 0): number {
  if (nativeCrc32) return nativeCrc32(buf, seed);
  let c = ~seed;
  for (let i = 0; i < buf.length; i++) c = TABLE[(c ^ buf[i]) & 0xff] ^ (c >>> 8);
  return ~c >>> 0;
}

const EMPTY = Buffer.alloc(0);
const NEWLINE = Buffer.from('\n');
