/** Byte-level UTF-8 helpers for cutting streams into frames. */

/**
 * The largest cut point ≤ `limit` that does not split a UTF-8 character in `buf`
 * (bytes before it stay together). Falls back to `limit` when the bytes around it
 * are not valid UTF-8, so a cut is always made and progress never stalls.
 */
export function utf8CutPoint(buf: Uint8Array, limit: number): number {
  if (limit >= buf.length) return buf.length;
  if (limit <= 0) return 0;
  // Walk back over at most 3 continuation bytes (10xxxxxx) to the character's lead byte.
  let i = limit;
  while (i > limit - 4 && i > 0 && (buf[i] & 0xc0) === 0x80) i--;
  if ((buf[i] & 0xc0) === 0x80) return limit; // not UTF-8 here: cut where asked
  return i === 0 ? limit : i;
}
