/**
 * Signs the shell WebSocket upgrade the way the official AgentCore SDK does:
 * SigV4 headers, service `bedrock-agentcore`, GET, the runtime session id header
 * signed, the ARN `encodeURIComponent`-ed into the path (and escaped once more by
 * the signer's default path escaping), `Host` without a port.
 */
import { Sha256 } from '@aws-crypto/sha256-js';
import { HttpRequest } from '@smithy/protocol-http';
import { SignatureV4 } from '@smithy/signature-v4';
import type { AwsCredentialIdentity } from '@smithy/types';

export const SESSION_HEADER = 'X-Amzn-Bedrock-AgentCore-Runtime-Session-Id';
export const SERVICE = 'bedrock-agentcore';

export interface ShellTarget {
  /** http(s) base URL of the data plane; http means ws://. */
  readonly endpointUrl: string;
  readonly region: string;
  readonly runtimeArn: string;
  /** Sent only when it is not the service default, as the SDK does. */
  readonly qualifier?: string;
  readonly runtimeSessionId: string;
  readonly shellId: string;
}

export interface SignedUpgrade {
  readonly url: string;
  readonly headers: Record<string, string>;
}

export function shellPath(runtimeArn: string): string {
  return `/runtimes/${encodeURIComponent(runtimeArn)}/ws/shells`;
}

export async function signShellUpgrade(
  target: ShellTarget,
  credentials: AwsCredentialIdentity,
  now: Date = new Date(),
): Promise<SignedUpgrade> {
  const base = new URL(target.endpointUrl);
  const query: Record<string, string> = { shellId: target.shellId };
  if (target.qualifier && target.qualifier !== 'DEFAULT') query.qualifier = target.qualifier;
  const path = shellPath(target.runtimeArn);
  const signer = new SignatureV4({ credentials, region: target.region, service: SERVICE, sha256: Sha256 });
  const signed = await signer.sign(
    new HttpRequest({
      method: 'GET',
      protocol: 'https:',
      hostname: base.hostname,
      path,
      query,
      headers: { host: base.hostname, [SESSION_HEADER]: target.runtimeSessionId },
    }),
    { signingDate: now },
  );
  const scheme = base.protocol === 'http:' ? 'ws:' : 'wss:';
  const search = new URLSearchParams(query).toString();
  return { url: `${scheme}//${base.host}${path}?${search}`, headers: { ...(signed.headers as Record<string, string>) } };
}
