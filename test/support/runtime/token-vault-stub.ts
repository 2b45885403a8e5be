/**
 * A local stand-in for the two AgentCore Identity data-plane operations the runtime
 * calls at boot, as the AWS SDK serializes them (restJson1, see
 * @aws-sdk/client-bedrock-agentcore's schema: `POST /identities/GetWorkloadAccessToken`
 * and `POST /identities/api-key`). Every request must carry a SigV4 signature that
 * re-signing with the test credentials reproduces, body included.
 */
import { Sha256 } from '@aws-crypto/sha256-js';
import { SignatureV4 } from '@smithy/signature-v4';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export const STUB_CREDENTIALS = { accessKeyId: 'AKIDRUNTIMETEST', secretAccessKey: 'runtime-test-secret-key' };
export const STUB_REGION = 'us-west-2';
export const STUB_SERVICE = 'bedrock-agentcore';

export interface StubRequest {
  readonly operation: 'GetWorkloadAccessToken' | 'GetResourceApiKey' | 'unknown';
  readonly method: string;
  readonly path: string;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly body: Record<string, unknown>;
  /** Undefined when the signature checked out; else why not. */
  readonly signatureProblem?: string;
}

export interface StubBehaviour {
  readonly workloadAccessToken?: string;
  readonly apiKey?: string;
  /** Answer this operation with 403 AccessDeniedException and this message. */
  readonly denyOperation?: 'GetWorkloadAccessToken' | 'GetResourceApiKey';
  readonly denyMessage?: string;
}

export interface TokenVaultStub {
  readonly endpoint: string;
  readonly requests: StubRequest[];
  close(): Promise<void>;
}

const OPERATIONS: Record<string, StubRequest['operation']> = {
  '/identities/GetWorkloadAccessToken': 'GetWorkloadAccessToken',
  '/identities/api-key': 'GetResourceApiKey',
};

export async function startTokenVaultStub(behaviour: StubBehaviour): Promise<TokenVaultStub> {
  const requests: StubRequest[] = [];
  const server: Server = createServer((req, res) => {
    void handle(req, res);
  });
  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const raw = Buffer.concat(chunks).toString('utf8');
    const path = (req.url ?? '/').split('?')[0];
    const operation = OPERATIONS[path] ?? 'unknown';
    let body: Record<string, unknown>;
    try {
      body = raw ? (JSON.parse(raw) as Record<string, unknown>) : {};
    } catch {
      body = { unparsable: raw };
    }
    const signatureProblem = await checkSignature(req, raw);
    requests.push({ operation, method: req.method ?? '', path, headers: req.headers, body, signatureProblem });

    const send = (status: number, payload: unknown, errorType?: string) => {
      const text = JSON.stringify(payload);
      res.writeHead(status, {
        'content-type': 'application/json',
        ...(errorType ? { 'x-amzn-errortype': errorType } : {}),
        'x-amzn-requestid': `stub-${requests.length}`,
      });
      res.end(text);
    };
    if (req.method !== 'POST' || operation === 'unknown') return send(404, { message: `no operation at ${req.method} ${path}` }, 'ResourceNotFoundException');
    if (signatureProblem) return send(403, { message: signatureProblem }, 'InvalidSignatureException');
    if (behaviour.denyOperation === operation) {
      return send(403, { message: behaviour.denyMessage ?? 'User is not authorized to perform this action' }, 'AccessDeniedException');
    }
    if (operation === 'GetWorkloadAccessToken') return send(200, { workloadAccessToken: behaviour.workloadAccessToken ?? 'stub-workload-token' });
    return send(200, { apiKey: behaviour.apiKey ?? 'stub-api-key' });
  };
  const port = await new Promise<number>((resolve) => server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port)));
  return {
    endpoint: `http://127.0.0.1:${port}`,
    requests,
    close: () => new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    }),
  };
}

/** Re-signs the request as received (signed headers, path, body) and compares signatures. */
async function checkSignature(req: IncomingMessage, body: string): Promise<string | undefined> {
  const auth = req.headers.authorization;
  if (!auth) return 'no Authorization header';
  const m = /^AWS4-HMAC-SHA256 Credential=([^/]+)\/(\d{8})\/([^/]+)\/([^/]+)\/aws4_request, ?SignedHeaders=([^,]+), ?Signature=([0-9a-f]{64})$/.exec(auth);
  if (!m) return `Authorization is not a SigV4 header: ${auth}`;
  const [, keyId, , region, service, signedHeaders, signature] = m as unknown as string[];
  if (keyId !== STUB_CREDENTIALS.accessKeyId) return `unknown access key ${keyId}`;
  if (region !== STUB_REGION || service !== STUB_SERVICE) return `credential scope ${region}/${service} is not ${STUB_REGION}/${STUB_SERVICE}`;
  const amzDate = String(req.headers['x-amz-date'] ?? '');
  const d = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(amzDate);
  if (!d) return 'x-amz-date missing or malformed';
  const signingDate = new Date(Date.UTC(+d[1], +d[2] - 1, +d[3], +d[4], +d[5], +d[6]));
  const headers: Record<string, string> = {};
  for (const name of signedHeaders.split(';')) {
    const v = req.headers[name];
    if (v === undefined) return `signed header ${name} missing`;
    headers[name] = Array.isArray(v) ? v.join(',') : v;
  }
  const [path, query = ''] = (req.url ?? '/').split('?');
  const signer = new SignatureV4({ credentials: STUB_CREDENTIALS, region: STUB_REGION, service: STUB_SERVICE, sha256: Sha256 });
  const signed = await signer.sign(
    {
      method: req.method ?? 'POST',
      protocol: 'http:',
      hostname: headers.host ?? '127.0.0.1',
      path: path,
      query: Object.fromEntries(new URLSearchParams(query)),
      headers,
      body,
    },
    { signingDate },
  );
  const expected = /Signature=([0-9a-f]{64})/.exec(String(signed.headers.authorization))?.[1];
  return expected === signature ? undefined : 'signature does not match a re-signing of the request';
}
