/**
 * One WebSocket connection to a shell: open it (classifying a refused upgrade),
 * then pass decoded frames and the close code up. No retry logic lives here.
 */
import type { IncomingMessage } from 'node:http';
import WebSocket from 'ws';
import { classifyUpgradeFailure } from './close-codes';
import { BridgeError } from '../errors';
import { decodeShellFrame, type ShellFrame } from './shell-frame';
import type { SignedUpgrade } from './sigv4';
import { within } from '../wait';

export interface ShellSocketHandlers {
  onFrame(frame: ShellFrame): void;
  onClose(code: number, reason: string): void;
  onPong(): void;
}

const OPEN_TIMEOUT_MS = 15_000;
const MAX_ERROR_BODY = 8 * 1024;

export class ShellSocket {
  private closed = false;

  private constructor(
    private readonly ws: WebSocket,
    readonly responseHeaders: Record<string, string | string[] | undefined>,
  ) {}

  /** Opens the connection; rejects with a BridgeError saying whether a retry may help. */
  static open(upgrade: SignedUpgrade, runtimeArn: string, handlers: ShellSocketHandlers): Promise<ShellSocket> {
    return new Promise((resolve, reject) => {
      // No permessage-deflate: whether the service accepts it is unknown, and frames are sized before compression.
      const ws = new WebSocket(upgrade.url, {
        headers: upgrade.headers,
        perMessageDeflate: false,
        handshakeTimeout: OPEN_TIMEOUT_MS,
        maxPayload: 16 * 1024 * 1024,
      });
      let settled = false;
      const fail = (err: BridgeError) => {
        if (settled) return;
        settled = true;
        ws.removeAllListeners();
        ws.on('error', () => undefined);
        ws.terminate();
        reject(err);
      };
      ws.once('unexpected-response', (_req, res: IncomingMessage) => {
        // readBody never rejects: it gives up on the body after 2 s.
        void readBody(res).then((body) => {
          const { errorType, message } = describeErrorBody(res, body);
          const date = res.headers.date ? Date.parse(res.headers.date) : NaN;
          const serverTime = Number.isFinite(date) ? date : undefined;
          fail(classifyUpgradeFailure({ status: res.statusCode ?? 0, errorType, message, serverTime }, runtimeArn));
        });
      });
      ws.once('error', (e: Error & { code?: string }) => {
        fail(new BridgeError('BRIDGE_UNREACHABLE', `cannot reach AgentCore at ${new URL(upgrade.url).host}: ${e.code ?? e.message}`, true));
      });
      ws.once('upgrade', (res: IncomingMessage) => {
        ws.once('open', () => {
          if (settled) return;
          settled = true;
          ws.removeAllListeners('error');
          const socket = new ShellSocket(ws, res.headers);
          socket.wire(handlers);
          resolve(socket);
        });
      });
    });
  }

  send(frame: Buffer, done: (err?: Error) => void): boolean {
    if (this.closed || this.ws.readyState !== WebSocket.OPEN) return false;
    this.ws.send(frame, { binary: true }, done);
    return true;
  }

  ping(): void {
    if (!this.closed && this.ws.readyState === WebSocket.OPEN) this.ws.ping();
  }

  pause(): void {
    this.ws.pause();
  }

  resume(): void {
    this.ws.resume();
  }

  /** A clean close handshake without the CLOSE channel frame: the shell stays alive. */
  close(code = 1000, reason = ''): void {
    if (this.ws.readyState === WebSocket.OPEN || this.ws.readyState === WebSocket.CONNECTING) this.ws.close(code, reason);
  }

  /** Drops the connection at once (dead peer). */
  terminate(): void {
    this.ws.terminate();
  }

  private wire(h: ShellSocketHandlers): void {
    this.ws.on('message', (data: Buffer, isBinary: boolean) => {
      // The service sends binary frames only; empty messages carry no channel.
      if (!isBinary) return;
      const frame = decodeShellFrame(Buffer.isBuffer(data) ? data : Buffer.from(data));
      if (frame) h.onFrame(frame);
    });
    this.ws.on('pong', () => h.onPong());
    this.ws.on('error', () => undefined); // 'close' follows with the code
    this.ws.once('close', (code: number, reason: Buffer) => {
      this.closed = true;
      h.onClose(code, reason.toString('utf8'));
    });
  }
}

/** The first {@link MAX_ERROR_BODY} bytes of a refused upgrade's body, within 2 s. */
async function readBody(res: IncomingMessage): Promise<string> {
  const parts: Buffer[] = [];
  let size = 0;
  res.on('data', (d: Buffer) => {
    if (size < MAX_ERROR_BODY) parts.push(d.subarray(0, MAX_ERROR_BODY - size));
    size += d.length;
  });
  const ended = new Promise<void>((resolve) => {
    res.on('end', resolve);
    res.on('error', () => resolve());
  });
  await within(ended, 2_000, () => undefined);
  return Buffer.concat(parts).toString('utf8');
}

function describeErrorBody(res: IncomingMessage, body: string): { errorType?: string; message?: string } {
  const header = res.headers['x-amzn-errortype'];
  let errorType = Array.isArray(header) ? header[0] : header;
  let message: string | undefined;
  try {
    const json = JSON.parse(body) as Record<string, unknown>;
    message = [json.message, json.Message, json.error].find((v): v is string => typeof v === 'string');
    if (!errorType && typeof json.__type === 'string') errorType = json.__type.split('#').pop();
  } catch {
    message = body.trim().slice(0, 300) || undefined;
  }
  return { errorType, message };
}
