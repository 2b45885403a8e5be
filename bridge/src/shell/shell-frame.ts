/**
 * The binary frame layout of AgentCore's interactive shell WebSocket: one channel
 * byte followed by the payload (the Kubernetes `v5.channel.k8s.io` layout).
 */

export const ShellChannel = {
  STDIN: 0x00,
  STDOUT: 0x01,
  STDERR: 0x02,
  STATUS: 0x03,
  RESIZE: 0x04,
  HEARTBEAT: 0x05,
  CLOSE: 0xff,
} as const;

export type ShellChannelName = keyof typeof ShellChannel;

/** Largest whole WebSocket message the service accepts (channel byte included); larger closes 1009. */
export const MAX_SHELL_FRAME_BYTES = 65_536;
/** Largest payload that fits in one message beside its channel byte. */
export const MAX_SHELL_FRAME_PAYLOAD_BYTES = MAX_SHELL_FRAME_BYTES - 1;
/** Frames per second per connection before the service closes with 1008. */
export const MAX_SHELL_FRAMES_PER_SECOND = 250;

export interface ShellFrame {
  /** The channel byte as received; unknown channels are kept, not dropped. */
  readonly channel: number;
  readonly payload: Buffer;
}

export function encodeShellFrame(channel: number, payload: Uint8Array = EMPTY): Buffer {
  const out = Buffer.allocUnsafe(1 + payload.length);
  out[0] = channel;
  out.set(payload, 1);
  return out;
}

/** Decodes one binary message; `undefined` for an empty one, which carries no channel. */
export function decodeShellFrame(message: Buffer): ShellFrame | undefined {
  if (message.length === 0) return undefined;
  return { channel: message[0], payload: message.subarray(1) };
}

export function shellChannelName(channel: number): string {
  for (const [name, value] of Object.entries(ShellChannel)) if (value === channel) return name;
  return `UNKNOWN(0x${channel.toString(16).padStart(2, '0')})`;
}

/** `{"width":cols,"height":rows}` as the RESIZE channel expects it. */
export function encodeResize(width: number, height: number): Buffer {
  return encodeShellFrame(ShellChannel.RESIZE, Buffer.from(JSON.stringify({ width, height })));
}

const EMPTY = new Uint8Array(0);
