/**
 * How much memory the OAB task needs. OAB runs one bridge process per thread, up to its
 * pool's `max_sessions`; each bridge's private memory peaks while it holds its largest
 * message (the message, its copy on the other side, and read buffers awaiting
 * collection), so the task must hold every bridge at that peak at once, plus what is
 * shared and OAB itself. Pure. The figures are `npm run bench`'s, with a margin.
 */

const MiB = 1024 * 1024;

/**
 * A bridge's private memory at work, before its largest message: idle (12–13 MiB), plus a
 * burst of 10,000 small updates and the read buffers awaiting collection (bench: a peak of
 * 65–80 MiB with a 10 MB message, 65–80 MiB with 16 MB: the burst, not the message, sets
 * most of it).
 */
export const BRIDGE_WORKING_MIB = 40;
/** Private memory a bridge adds per MiB of its largest message at the peak (bench: 4.2–4.4 for 16 MB each way). */
export const BRIDGE_PEAK_MIB_PER_MESSAGE_MIB = 5;
/** Node's executable and libraries, mapped once and shared by every bridge (bench: about 41 MiB). */
export const NODE_SHARED_MIB = 48;
/** OAB itself, the container command and what the kernel keeps for the task's files. */
export const OAB_RESERVE_MIB = 128;
/** OAB's own `max_sessions` when the pool does not say. */
export const OAB_DEFAULT_MAX_SESSIONS = 10;

/** One bridge at its peak, in MiB. */
export function bridgePeakMiB(maxMessageBytes: number): number {
  return Math.ceil(BRIDGE_WORKING_MIB + (BRIDGE_PEAK_MIB_PER_MESSAGE_MIB * maxMessageBytes) / MiB);
}

/** The task memory that holds `maxSessions` bridges at their peak, plus OAB, in MiB. */
export function requiredTaskMemoryMiB(maxSessions: number, maxMessageBytes: number): number {
  return OAB_RESERVE_MIB + NODE_SHARED_MIB + maxSessions * bridgePeakMiB(maxMessageBytes);
}
