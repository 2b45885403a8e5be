/**
 * Server-side check of the SigV4 header signature that AgentCore's shell API requires.
 * It re-signs the request as received with @smithy/signature-v4 (the signer the
 * official SDK uses) and compares, so anything the SDK would sign differently from
 * what went on the wire (path, query, host, session header, date, secret) is caught.
 * Pure: no I/O; the clock and the credential store are passed in.
 */
import { SignatureV4 } from '@smithy/signature-v4';
import { Sha256 } from '@aws-crypto/sha256-js';
import { timingSafeEqual } from 'node:crypto';

export const SIGNING_SERVICE = 'bedrock-agentcore';
export const SESSION_ID_HEADER = 'x-amzn-bedrock-agentcore-runtime-session-id';
/** SHA-256 of an empty body: a WebSocket upgrade is a GET without one. */
export const EMPTY_BODY_SHA256 = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';
/** AWS rejects a signature whose x-amz-date is further than this from its clock. */
export const MAX_CLOCK_SKEW_MS = 5 * 60 * 1000;

export interface SigV4Credentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
}

export interface VerifyRequest {
  method: string;
  /** Path and query exactly as on the request line (`req.url`), still percent-encoded. */
  rawPath: string;
  /** Request headers with lower-case names, as Node's `IncomingMessage.headers` gives them. */
  headers: Record<string, string | string[] | undefined>;
  /** Region the service runs in; the credential scope must name it. */
  region: string;
  lookupCredentials: (accessKeyId: string) => SigV4Credentials | undefined;
  service?: string;
  /** Current time in ms (injected to keep this pure and testable). */
  now?: number;
  maxSkewMs?: number;
}

/** The exception names AWS puts in `x-amzn-errortype` for each kind of failure (all HTTP 403). */
export type SigV4ErrorType =
  | 'MissingAuthenticationTokenException'
  | 'IncompleteSignatureException'
  | 'UnrecognizedClientException'
  | 'InvalidSignatureException';

export type VerifyResult =
  | { ok: true; accessKeyId: string }
  | { ok: false; errorType: SigV4ErrorType; reason: string };

interface ParsedAuthorization {
  accessKeyId: string;
  date: string;
  region: string;
  service: string;
  terminator: string;
  signedHeaders: string[];
  signature: string;
}

const ALGORITHM = 'AWS4-HMAC-SHA256';
const AMZ_DATE_RE = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/;

export async function verifySigV4(req: VerifyRequest): Promise<VerifyResult> {
  const fail = (errorType: SigV4ErrorType, reason: string): VerifyResult => ({ ok: false, errorType, reason });
  const service = req.service ?? SIGNING_SERVICE;
  const header = (name: string): string | undefined => {
    const v = req.headers[name];
    return Array.isArray(v) ? v.join(',') : v;
  };

  const authorization = header('authorization');
  if (!authorization) return fail('MissingAuthenticationTokenException', 'Missing Authentication Token');
  const auth = parseAuthorization(authorization);
  if (typeof auth === 'string') return fail('IncompleteSignatureException', auth);

  const amzDate = header('x-amz-date');
  if (!amzDate) return fail('IncompleteSignatureException', 'x-amz-date header is missing');
  const signingDate = parseAmzDate(amzDate);
  if (!signingDate) return fail('IncompleteSignatureException', `x-amz-date '${amzDate}' is not in YYYYMMDDTHHMMSSZ form`);
  const now = req.now ?? Date.now();
  const skew = signingDate.getTime() - now;
  if (Math.abs(skew) > (req.maxSkewMs ?? MAX_CLOCK_SKEW_MS)) {
    return fail('InvalidSignatureException', skew < 0
      ? `Signature expired: ${amzDate} is more than 5 minutes before the server time`
      : `Signature not yet current: ${amzDate} is more than 5 minutes after the server time`);
  }

  if (auth.date !== amzDate.slice(0, 8)) {
    return fail('InvalidSignatureException', `credential scope date ${auth.date} does not match x-amz-date ${amzDate}`);
  }
  if (auth.region !== req.region) {
    return fail('InvalidSignatureException', `credential should be scoped to a valid region: got '${auth.region}', expecting '${req.region}'`);
  }
  if (auth.service !== service) {
    return fail('InvalidSignatureException', `credential should be scoped to correct service: got '${auth.service}', expecting '${service}'`);
  }
  if (auth.terminator !== 'aws4_request') {
    return fail('InvalidSignatureException', `credential scope must end in aws4_request, got '${auth.terminator}'`);
  }

  const credentials = req.lookupCredentials(auth.accessKeyId);
  if (!credentials) return fail('UnrecognizedClientException', 'The security token included in the request is invalid (unknown access key id)');
  const token = header('x-amz-security-token');
  if (credentials.sessionToken !== undefined) {
    if (token === undefined || !constantTimeEqual(token, credentials.sessionToken)) {
      return fail('UnrecognizedClientException', 'The security token included in the request is invalid');
    }
  } else if (token !== undefined) {
    return fail('UnrecognizedClientException', 'a security token was sent with long-term credentials');
  }

  // Headers the service insists on having under the signature: the SDK signs all of these.
  const signed = new Set(auth.signedHeaders);
  for (const required of ['host', 'x-amz-date']) {
    if (!signed.has(required)) return fail('InvalidSignatureException', `header '${required}' must be signed`);
  }
  for (const mustSign of ['x-amz-security-token', SESSION_ID_HEADER]) {
    if (header(mustSign) !== undefined && !signed.has(mustSign)) {
      return fail('InvalidSignatureException', `header '${mustSign}' is present but not signed`);
    }
  }
  const contentSha = header('x-amz-content-sha256');
  if (contentSha !== undefined && contentSha !== EMPTY_BODY_SHA256) {
    return fail('InvalidSignatureException', 'x-amz-content-sha256 does not match the (empty) request body');
  }

  const headersToSign: Record<string, string> = {};
  for (const name of auth.signedHeaders) {
    const value = header(name);
    if (value === undefined) return fail('InvalidSignatureException', `signed header '${name}' is missing from the request`);
    headersToSign[name] = value;
  }

  const { path, query } = splitRawPath(req.rawPath);
  const signer = new SignatureV4({
    credentials,
    region: req.region,
    service,
    sha256: Sha256,
    // The SDK's default: each path segment is escaped once more, so the canonical URI of
    // `/runtimes/arn%3Aaws…` is `/runtimes/arn%253Aaws…`. Feeding the raw path reproduces that.
    uriEscapePath: true,
    // The signer adds x-amz-content-sha256 itself unless told not to; mirror what the client did.
    applyChecksum: signed.has('x-amz-content-sha256'),
  });
  let expected: ParsedAuthorization | string;
  try {
    const resigned = await signer.sign(
      { method: req.method.toUpperCase(), protocol: 'https:', hostname: headersToSign.host ?? '', path, query, headers: headersToSign },
      { signingDate, signingRegion: req.region, signingService: service },
    );
    expected = parseAuthorization(String(resigned.headers.authorization ?? ''));
  } catch (err) {
    return fail('InvalidSignatureException', `could not recompute the signature: ${String(err)}`);
  }
  if (typeof expected === 'string') return fail('InvalidSignatureException', expected);
  if (expected.signedHeaders.join(';') !== auth.signedHeaders.join(';')) {
    return fail('InvalidSignatureException', `SignedHeaders '${auth.signedHeaders.join(';')}' is not canonical (expected '${expected.signedHeaders.join(';')}')`);
  }
  if (!constantTimeEqual(expected.signature, auth.signature)) {
    return fail('InvalidSignatureException',
      'The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method.');
  }
  return { ok: true, accessKeyId: auth.accessKeyId };
}

function parseAuthorization(value: string): ParsedAuthorization | string {
  const space = value.indexOf(' ');
  if (space < 0 || value.slice(0, space) !== ALGORITHM) return `Authorization must use ${ALGORITHM}`;
  const fields = new Map<string, string>();
  for (const part of value.slice(space + 1).split(',')) {
    const eq = part.indexOf('=');
    if (eq > 0) fields.set(part.slice(0, eq).trim(), part.slice(eq + 1).trim());
  }
  const credential = fields.get('Credential');
  const signedHeaders = fields.get('SignedHeaders');
  const signature = fields.get('Signature');
  if (!credential || !signedHeaders || !signature) {
    return 'Authorization header requires Credential, SignedHeaders and Signature';
  }
  const scope = credential.split('/');
  if (scope.length !== 5 || scope.some((s) => s.length === 0)) {
    return `Credential '${credential}' is not <key>/<date>/<region>/<service>/aws4_request`;
  }
  if (!/^[0-9a-f]{64}$/.test(signature)) return 'Signature must be 64 lower-case hex digits';
  const [accessKeyId, date, region, service, terminator] = scope as [string, string, string, string, string];
  return { accessKeyId, date, region, service, terminator, signedHeaders: signedHeaders.split(';'), signature };
}

function parseAmzDate(value: string): Date | undefined {
  const m = AMZ_DATE_RE.exec(value);
  if (!m) return undefined;
  const [, y, mo, d, h, mi, s] = m.map(Number);
  const date = new Date(Date.UTC(y, mo - 1, d, h, mi, s));
  return Number.isNaN(date.getTime()) ? undefined : date;
}

/**
 * The path stays percent-encoded (the signer escapes it once more, as the SDK's does);
 * the query is decoded the way the SDK reads it (`URLSearchParams`) and re-escaped by the signer.
 */
function splitRawPath(rawPath: string): { path: string; query: Record<string, string | string[]> } {
  const q = rawPath.indexOf('?');
  const path = q < 0 ? rawPath : rawPath.slice(0, q);
  const query: Record<string, string | string[]> = {};
  if (q >= 0) {
    for (const [k, v] of new URLSearchParams(rawPath.slice(q + 1))) {
      const prev = query[k];
      query[k] = prev === undefined ? v : Array.isArray(prev) ? [...prev, v] : [prev, v];
    }
  }
  return { path, query };
}

/** Equal-time comparison so a forger learns nothing from how fast a guess is rejected. */
export function constantTimeEqual(a: string, b: string): boolean {
  const ab = Buffer.from(a, 'utf8');
  const bb = Buffer.from(b, 'utf8');
  // Compare against itself on a length mismatch so the work done does not depend on where they differ.
  if (ab.length !== bb.length) {
    timingSafeEqual(ab, ab);
    return false;
  }
  return timingSafeEqual(ab, bb);
}
