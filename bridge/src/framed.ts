/** Names shared by the bridge and the in-runtime launcher for framed mode. */

/** The probe the bridge sends after starting or reattaching; a launcher answers with a hello frame. */
export const SYNC_METHOD = '_openab/sync';
export const FRAMED_VERSION = 1;
/** Largest message either side of the framed channel accepts (the bridge's limit too). */
export const MAX_MESSAGE_BYTES = 64 * 1024 * 1024;
/** How long a side waits for outgoing data to carry its ack before sending an ack-only frame. */
export const ACK_DELAY_MS = 20;

/** Where the runtime image installs the launcher. */
export const DEFAULT_LAUNCHER = '/app/bin/acp-session';

export interface Hello {
  readonly version: number;
  /** The seq of the launcher's next data frame. */
  readonly nextSeq: number;
}

export function parseHello(payload: Buffer): Hello | undefined {
  try {
    const h = JSON.parse(payload.toString('utf8')) as Partial<Hello>;
    if (typeof h.version === 'number' && typeof h.nextSeq === 'number' && Number.isSafeInteger(h.nextSeq) && h.nextSeq >= 1) {
      return { version: h.version, nextSeq: h.nextSeq };
    }
  } catch {
    // not a hello
  }
  return undefined;
}
