import { SignatureV4 } from '@smithy/signature-v4';
import { Sha256 } from '@aws-crypto/sha256-js';
import { verifySigV4, type VerifyRequest } from '../support/emulator/sigv4-verify';
import { signShellRequest, type SignShellOptions } from '../support/emulator/sign-for-test';
import { TEST_CREDENTIALS, TEST_REGION, TEST_RUNTIME_ARN, TEST_TEMPORARY_CREDENTIALS } from '../support/emulator/emulator';

const ENDPOINT = 'http://127.0.0.1:8080';
const SESSION = 'sigv4-test-session-0123456789abcdef0123';
const NOW = Date.UTC(2026, 5, 10, 12, 0, 0);

/** Turns a signed request into what the server sees: request line path and lower-cased headers. */
async function received(opts: Partial<SignShellOptions> = {}): Promise<VerifyRequest> {
  const { url, headers } = await signShellRequest({
    endpoint: ENDPOINT, shellId: 'main', sessionId: SESSION, signingDate: new Date(NOW), ...opts,
  });
  const u = new URL(url);
  const lower: Record<string, string> = {};
  for (const [k, v] of Object.entries(headers)) lower[k.toLowerCase()] = v;
  return {
    method: 'GET',
    rawPath: `${u.pathname}${u.search}`,
    headers: lower,
    region: TEST_REGION,
    now: NOW,
    lookupCredentials: (id) => [TEST_CREDENTIALS, TEST_TEMPORARY_CREDENTIALS].find((c) => c.accessKeyId === id),
  };
}

async function expectRejected(req: VerifyRequest, reason: RegExp, errorType = 'InvalidSignatureException'): Promise<void> {
  const result = await verifySigV4(req);
  expect(result).toEqual({ ok: false, errorType, reason: expect.stringMatching(reason) });
}

describe('verifySigV4', () => {
  it('accepts a request signed the way the SDK signs it', async () => {
    const req = await received();
    // The request line carries the ARN escaped once; the SDK's canonical URI escapes it again.
    expect(req.rawPath).toContain(encodeURIComponent(TEST_RUNTIME_ARN));
    expect(String(req.headers.authorization)).toContain(
      'SignedHeaders=host;x-amz-content-sha256;x-amz-date;x-amzn-bedrock-agentcore-runtime-session-id,',
    );
    await expect(verifySigV4(req)).resolves.toEqual({ ok: true, accessKeyId: TEST_CREDENTIALS.accessKeyId });
  });

  it('accepts temporary credentials whose session token is sent and signed', async () => {
    const req = await received({ credentials: TEST_TEMPORARY_CREDENTIALS });
    expect(String(req.headers.authorization)).toContain('x-amz-security-token');
    await expect(verifySigV4(req)).resolves.toMatchObject({ ok: true });
  });

  it('rejects temporary credentials without their session token', async () => {
    const req = await received({ credentials: { ...TEST_TEMPORARY_CREDENTIALS, sessionToken: undefined } });
    await expectRejected(req, /security token/, 'UnrecognizedClientException');
  });

  it('rejects a tampered path', async () => {
    const req = await received();
    req.rawPath = req.rawPath.replace('AbCdEf1234', 'AbCdEf9999');
    await expectRejected(req, /signature we calculated does not match/);
  });

  it('rejects a path signed with single escaping (the canonical URI must be double-escaped)', async () => {
    const req = await received();
    const url = new URL(`https://127.0.0.1${req.rawPath}`);
    const signer = new SignatureV4({ credentials: TEST_CREDENTIALS, region: TEST_REGION, service: 'bedrock-agentcore', sha256: Sha256, uriEscapePath: false });
    const signed = await signer.sign(
      {
        method: 'GET', protocol: 'https:', hostname: '127.0.0.1', path: url.pathname,
        query: Object.fromEntries(url.searchParams), headers: { host: '127.0.0.1', 'x-amzn-bedrock-agentcore-runtime-session-id': SESSION },
      },
      { signingDate: new Date(NOW) },
    );
    req.headers = Object.fromEntries(Object.entries(signed.headers).map(([k, v]) => [k.toLowerCase(), String(v)]));
    await expectRejected(req, /does not match/);
  });

  it('rejects a tampered query', async () => {
    const req = await received();
    req.rawPath = req.rawPath.replace('shellId=main', 'shellId=other');
    await expectRejected(req, /does not match/);
  });

  it('rejects a tampered session header', async () => {
    const req = await received();
    req.headers['x-amzn-bedrock-agentcore-runtime-session-id'] = `${SESSION}x`;
    await expectRejected(req, /does not match/);
  });

  it('rejects a session header that is sent but not signed', async () => {
    const req = await received({ sessionId: undefined });
    req.headers['x-amzn-bedrock-agentcore-runtime-session-id'] = SESSION;
    await expectRejected(req, /present but not signed/);
  });

  it('rejects a Host header with the port when the signature covered the bare host', async () => {
    const req = await received();
    req.headers.host = '127.0.0.1:8080';
    await expectRejected(req, /does not match/);
  });

  it('rejects a wrong secret', async () => {
    const req = await received({ credentials: { ...TEST_CREDENTIALS, secretAccessKey: 'not-the-secret' } });
    await expectRejected(req, /does not match/);
  });

  it('rejects an unknown access key id', async () => {
    const req = await received({ credentials: { accessKeyId: 'AKIAUNKNOWN', secretAccessKey: 'x' } });
    await expectRejected(req, /unknown access key/, 'UnrecognizedClientException');
  });

  it('rejects a date more than 5 minutes from the server clock, either way', async () => {
    await expectRejected(await received({ signingDate: new Date(NOW - 6 * 60_000) }), /Signature expired/);
    await expectRejected(await received({ signingDate: new Date(NOW + 6 * 60_000) }), /not yet current/);
    // Within the window is fine.
    await expect(verifySigV4(await received({ signingDate: new Date(NOW - 4 * 60_000) }))).resolves.toMatchObject({ ok: true });
  });

  it('rejects a credential scope for the wrong region', async () => {
    await expectRejected(await received({ region: 'us-west-2' }), /region.*us-west-2.*us-east-1/);
  });

  it('rejects a request with no Authorization header', async () => {
    const req = await received();
    delete req.headers.authorization;
    await expectRejected(req, /Missing Authentication Token/, 'MissingAuthenticationTokenException');
  });

  it('rejects a changed x-amz-date even inside the skew window', async () => {
    const req = await received();
    req.headers['x-amz-date'] = '20260610T120001Z';
    await expectRejected(req, /does not match/);
  });
});
