/**
 * A minimal shell client for tests: a plain `ws` socket signed like the SDK signs, which
 * records every frame from the first byte (so nothing sent before a test starts waiting
 * is lost) and offers bounded waits on output, STATUS messages and the close.
 */
import WebSocket from 'ws';
import { StringDecoder } from 'node:string_decoder';
import { ShellChannel, decodeShellFrame, encodeShellFrame, encodeResize, type ShellFrame } from '../../../bridge/src/shell/shell-frame';
import { parseStatus, type StatusEvent } from '../../../bridge/src/shell/shell-status';
import { signShellRequest, type SignShellOptions } from './sign-for-test';

export interface UpgradeFailure {
  status: number;
  errorType: string | undefined;
  body: string;
}

export type ConnectResult =
  | { ok: true; client: TestShellClient }
  | { ok: false; failure: UpgradeFailure };

export interface CloseInfo {
  code: number;
  reason: string;
}

/** Everything the test client keeps is bounded: output beyond this keeps only the tail. */
const MAX_KEPT_OUTPUT = 4 * 1024 * 1024;

export class TestShellClient {
  readonly frames: ShellFrame[] = [];
  readonly statuses: StatusEvent[] = [];
  /** Headers of the 101 response. */
  upgradeHeaders: Record<string, string | string[] | undefined> = {};
  closed: CloseInfo | undefined;
  /** STDOUT decoded incrementally (UTF-8 may split across frames). */
  private text = '';
  private readonly decoder = new StringDecoder('utf8');
  private readonly waiters = new Set<() => void>();

  private constructor(readonly ws: WebSocket) {
    ws.on('upgrade', (res) => {
      this.upgradeHeaders = res.headers;
    });
    ws.on('message', (data: Buffer, isBinary: boolean) => {
      if (!isBinary) return;
      const frame = decodeShellFrame(data);
      if (!frame) return;
      if (this.frames.length < 10_000) this.frames.push(frame);
      if (frame.channel === ShellChannel.STDOUT) this.appendOutput(frame.payload);
      if (frame.channel === ShellChannel.STATUS) this.statuses.push(parseStatus(frame.payload));
      this.notify();
    });
    ws.on('close', (code: number, reason: Buffer) => {
      this.closed = { code, reason: reason.toString('utf8') };
      this.notify();
    });
    ws.on('error', () => {
      // The close event follows and carries what tests look at.
    });
  }

  /** Signs and opens a connection; resolves once it is open, or with the HTTP failure. */
  static async tryConnect(opts: SignShellOptions, extraHeaders: Record<string, string> = {}): Promise<ConnectResult> {
    const { url, headers } = await signShellRequest(opts);
    return TestShellClient.open(url, { ...headers, ...extraHeaders });
  }

  static async connect(opts: SignShellOptions): Promise<TestShellClient> {
    const result = await TestShellClient.tryConnect(opts);
    if (!result.ok) throw new Error(`upgrade failed: HTTP ${result.failure.status} ${result.failure.errorType ?? ''} ${result.failure.body}`);
    return result.client;
  }

  /** Opens an already-signed URL with the given headers. */
  static open(url: string, headers: Record<string, string>): Promise<ConnectResult> {
    const ws = new WebSocket(url, { headers });
    const client = new TestShellClient(ws);
    return new Promise((resolve, reject) => {
      ws.once('open', () => resolve({ ok: true, client }));
      ws.once('unexpected-response', (_req, res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const errorType = res.headers['x-amzn-errortype'];
          resolve({
            ok: false,
            failure: { status: res.statusCode ?? 0, errorType: Array.isArray(errorType) ? errorType[0] : errorType, body: Buffer.concat(chunks).toString('utf8') },
          });
          ws.terminate();
        });
      });
      ws.once('error', (err) => reject(err));
    });
  }

  /** STDOUT received so far, as text. */
  output(): string {
    return this.text;
  }

  send(channel: number, payload: Uint8Array | string = new Uint8Array(0)): void {
    this.ws.send(encodeShellFrame(channel, typeof payload === 'string' ? Buffer.from(payload, 'utf8') : payload));
  }

  /** Types a line as a terminal would: the line ends in CR. */
  sendLine(line: string): void {
    this.send(ShellChannel.STDIN, `${line}\r`);
  }

  resize(width: number, height: number): void {
    this.ws.send(encodeResize(width, height));
  }

  /** Resolves with the first STATUS (the attach confirmation). */
  async confirmation(timeoutMs = 5000): Promise<Extract<StatusEvent, { type: 'attached' }>> {
    await this.waitUntil(() => this.statuses.length > 0 || this.closed !== undefined, timeoutMs, 'the confirmation STATUS');
    const first = this.statuses[0];
    if (!first || first.type !== 'attached') throw new Error(`first STATUS was not a confirmation: ${JSON.stringify(first)}`);
    return first;
  }

  /** Resolves with the output so far once it matches `pattern`. */
  async waitForOutput(pattern: string | RegExp, timeoutMs = 5000): Promise<string> {
    const matches = (): boolean => (typeof pattern === 'string' ? this.output().includes(pattern) : pattern.test(this.output()));
    await this.waitUntil(matches, timeoutMs, `output matching ${String(pattern)}`);
    return this.output();
  }

  async waitForClose(timeoutMs = 5000): Promise<CloseInfo> {
    await this.waitUntil(() => this.closed !== undefined, timeoutMs, 'the connection to close');
    return this.closed!;
  }

  /** Resolves once `predicate` holds, re-checked on every frame and on close. */
  waitUntil(predicate: () => boolean, timeoutMs: number, what: string): Promise<void> {
    if (predicate()) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const check = (): void => {
        if (!predicate()) return;
        clearTimeout(timer);
        this.waiters.delete(check);
        resolve();
      };
      const timer = setTimeout(() => {
        this.waiters.delete(check);
        reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}; output so far: ${JSON.stringify(this.output().slice(-500))}`));
      }, timeoutMs);
      this.waiters.add(check);
    });
  }

  /** Closes politely (detaching, not killing, the shell) and waits for the close. */
  async close(code = 1000): Promise<void> {
    if (!this.closed) {
      this.ws.close(code);
      await this.waitForClose().catch(() => this.ws.terminate());
    }
  }

  terminate(): void {
    this.ws.terminate();
  }

  private appendOutput(chunk: Buffer): void {
    this.text += this.decoder.write(chunk);
    if (this.text.length > MAX_KEPT_OUTPUT) this.text = this.text.slice(-MAX_KEPT_OUTPUT);
  }

  private notify(): void {
    for (const waiter of [...this.waiters]) waiter();
  }
}
