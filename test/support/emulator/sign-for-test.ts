/**
 * Signs a shell WebSocket upgrade exactly as the official SDK's `connectShellSigV4` does
 * (RuntimeClient._buildShellUrl + _sigV4SignWsUrl), so tests can connect a plain `ws`
 * client to the emulator, or tamper with one piece and expect a 403.
 */
import { SignatureV4 } from '@smithy/signature-v4';
import { Sha256 } from '@aws-crypto/sha256-js';
import type { SigV4Credentials } from './sigv4-verify';
import { TEST_CREDENTIALS, TEST_REGION, TEST_RUNTIME_ARN } from './emulator';

export interface SignShellOptions {
  /** Service base URL, e.g. the emulator's `http://127.0.0.1:PORT` (https/wss also accepted). */
  endpoint: string;
  runtimeArn?: string;
  shellId: string;
  /** Runtime session id sent (and signed) as a header; omit to send none. */
  sessionId?: string;
  /** Endpoint name; the SDK omits `qualifier` unless one is given. */
  qualifier?: string;
  region?: string;
  credentials?: SigV4Credentials;
  /** Signing time (default now); for testing clock skew. */
  signingDate?: Date;
}

export interface SignedShellRequest {
  /** `ws://` (or `wss://`) URL to open. */
  url: string;
  /** Headers to pass to `new WebSocket(url, { headers })`, including `host` without the port. */
  headers: Record<string, string>;
}

export function buildShellUrl(endpoint: string, runtimeArn: string, shellId: string, qualifier?: string): URL {
  const url = new URL(`${endpoint.replace(/\/+$/, '')}/runtimes/${encodeURIComponent(runtimeArn)}/ws/shells`);
  url.searchParams.set('shellId', shellId);
  if (qualifier) url.searchParams.set('qualifier', qualifier);
  return url;
}

export async function signShellRequest(opts: SignShellOptions): Promise<SignedShellRequest> {
  const url = buildShellUrl(opts.endpoint, opts.runtimeArn ?? TEST_RUNTIME_ARN, opts.shellId, opts.qualifier);
  const credentials = opts.credentials ?? TEST_CREDENTIALS;
  const signer = new SignatureV4({
    credentials: credentials.sessionToken
      ? credentials
      : { accessKeyId: credentials.accessKeyId, secretAccessKey: credentials.secretAccessKey },
    region: opts.region ?? TEST_REGION,
    service: 'bedrock-agentcore',
    sha256: Sha256,
  });
  const headers: Record<string, string> = { host: url.hostname };
  if (opts.sessionId !== undefined) headers['X-Amzn-Bedrock-AgentCore-Runtime-Session-Id'] = opts.sessionId;
  const signed = await signer.sign(
    {
      method: 'GET',
      protocol: 'https:',
      hostname: url.hostname,
      path: url.pathname,
      query: Object.fromEntries(url.searchParams.entries()),
      headers,
    },
    opts.signingDate ? { signingDate: opts.signingDate } : {},
  );
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(signed.headers)) if (v !== undefined) out[k] = String(v);
  return { url: url.toString().replace(/^http(s?):\/\//, 'ws$1://'), headers: out };
}
