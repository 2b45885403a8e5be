/**
 * How the bridge finds out whether the agent runs under the runtime's launcher: after
 * starting or reattaching it writes one JSON-RPC request for {@link LINK_PROBE_METHOD}.
 * A launcher answers with a hello frame (the launcher link, see link-frame.ts); an agent
 * on the bare terminal answers the unknown `_`-method with an error (plain mode). Pure.
 */

export const LINK_PROBE_METHOD = '_openab/sync';
/** The launcher link's version, carried in the probe and the hello. */
export const LINK_VERSION = 1;
/** Largest message either end of the launcher link accepts (the bridge's agent-side limit too). */
export const MAX_LINK_MESSAGE_BYTES = 64 * 1024 * 1024;
/** How long an end waits for outgoing data to carry its ack before sending an ack-only frame. */
export const LINK_ACK_DELAY_MS = 20;

/** The launcher's answer to the probe. */
export interface Hello {
  readonly version: number;
  /** The seq of the launcher's next data frame. */
  readonly nextSeq: number;
}

export function encodeHello(hello: Hello): Buffer {
  return Buffer.from(JSON.stringify(hello));
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

/**
 * The largest message the probing bridge accepts (`params.maxMessageBytes` of its probe),
 * or undefined when the probe does not say (an older bridge) or says something unusable.
 */
export function probeLimit(probe: Buffer): number | undefined {
  try {
    const m = JSON.parse(probe.toString('utf8')) as { params?: { maxMessageBytes?: unknown } };
    const v = m.params?.maxMessageBytes;
    return typeof v === 'number' && Number.isSafeInteger(v) && v > 0 && v <= MAX_LINK_MESSAGE_BYTES ? v : undefined;
  } catch {
    return undefined;
  }
}
