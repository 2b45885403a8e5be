/**
 * What the model API stand-ins share: an HTTP server on loopback (port 0) that records every
 * request it receives, JSON bodies parsed, and writes server-sent events. The API shapes live
 * in anthropic-stand-in.ts and openai-stand-in.ts.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface RecordedRequest {
  readonly method: string;
  /** Path and query, as sent. */
  readonly path: string;
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  /** The body parsed as JSON, or its text when it is not JSON. */
  readonly body: unknown;
  readonly at: number;
}

export type RequestHandler = (request: RecordedRequest, res: ServerResponse) => void | Promise<void>;

/** Bodies larger than this are refused (a model request holds a whole conversation, not more). */
const MAX_BODY_BYTES = 64 * 1024 * 1024;

export class ModelApiServer {
  private constructor(
    private readonly server: Server,
    readonly url: string,
    /** Every request received, in order. */
    readonly requests: readonly RecordedRequest[],
  ) {}

  static async start(handle: RequestHandler): Promise<ModelApiServer> {
    const requests: RecordedRequest[] = [];
    const server = createServer((req, res) => {
      readBody(req)
        .then(async (text) => {
          const request: RecordedRequest = {
            method: req.method ?? 'GET',
            path: req.url ?? '/',
            headers: req.headers,
            body: parseJson(text),
            at: Date.now(),
          };
          requests.push(request);
          await handle(request, res);
        })
        .catch((e: Error) => {
          if (!res.headersSent) res.writeHead(500, { 'content-type': 'application/json' });
          res.end(JSON.stringify({ error: { message: e.message } }));
        });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    return new ModelApiServer(server, `http://127.0.0.1:${port}`, requests);
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

/**
 * A model API stand-in: the server, the requests it recorded, and the replier that decides
 * each answer from the request body. A subclass speaks one API: it answers in {@link handle}
 * and says which requests are the agent's turns.
 */
export abstract class ModelApiStandIn<Body, Turn> {
  private server!: ModelApiServer;

  protected constructor(protected reply: (body: Body) => Turn) {}

  /** Starts the server; a subclass's `start` returns this. */
  protected async listen(): Promise<this> {
    this.server = await ModelApiServer.start((request, res) => this.handle(request, res));
    return this;
  }

  protected get serverUrl(): string {
    return this.server.url;
  }

  get requests(): readonly RecordedRequest[] {
    return this.server.requests;
  }

  /** The requests of the agent's own turns, in order. */
  abstract turnRequests(): Body[];

  setReplier(reply: (body: Body) => Turn): void {
    this.reply = reply;
  }

  stop(): Promise<void> {
    return this.server.stop();
  }

  protected abstract handle(request: RecordedRequest, res: ServerResponse): Promise<void>;
}

/** Starts an event stream: the response headers of a streamed answer. */
export function startEventStream(res: ServerResponse): void {
  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive' });
}

/** One server-sent event, named as the real API names it. */
export function writeEvent(res: ServerResponse, event: string, data: unknown): void {
  res.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
}

export function writeJson(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}

/** `text` in `parts` pieces of about equal length (at least one), so an answer streams as several deltas. */
export function pieces(text: string, parts: number): string[] {
  const size = Math.max(1, Math.ceil(text.length / parts));
  const out: string[] = [];
  for (let i = 0; i < text.length; i += size) out.push(text.slice(i, i + size));
  return out.length > 0 ? out : [''];
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY_BYTES) {
        req.destroy();
        reject(new Error(`request body over ${MAX_BODY_BYTES} bytes`));
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function parseJson(text: string): unknown {
  if (text === '') return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}
