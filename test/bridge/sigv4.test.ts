import { signShellUpgrade, shellPath } from '../../bridge/src/shell/sigv4';
import { TEST_CREDENTIALS, TEST_TEMPORARY_CREDENTIALS, verifySigV4 } from '../support/emulator';

const ARN = 'arn:aws:bedrock-agentcore:us-east-1:123456789012:runtime/openab_kiro-AbCdEf1234';
const target = {
  endpointUrl: 'http://127.0.0.1:8123',
  region: 'us-east-1',
  runtimeArn: ARN,
  runtimeSessionId: 'openab-agentcore-0123456789abcdef0123456789abcdef',
  shellId: 'acp-0123456789abcdef0123456789abcdef',
};

function lowerHeaders(h: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(h).map(([k, v]) => [k.toLowerCase(), v]));
}

describe('signShellUpgrade', () => {
  test('produces the SDK\'s URL and headers, which an independent SigV4 verifier accepts', async () => {
    const now = new Date();
    const { url, headers } = await signShellUpgrade(target, TEST_TEMPORARY_CREDENTIALS, now);
    expect(url).toBe(`ws://127.0.0.1:8123${shellPath(ARN)}?shellId=${target.shellId}`);
    expect(shellPath(ARN)).toBe('/runtimes/arn%3Aaws%3Abedrock-agentcore%3Aus-east-1%3A123456789012%3Aruntime%2Fopenab_kiro-AbCdEf1234/ws/shells');
    const h = lowerHeaders(headers);
    expect(h.host).toBe('127.0.0.1');
    expect(h.authorization).toContain('SignedHeaders=host;x-amz-content-sha256;x-amz-date;x-amz-security-token;x-amzn-bedrock-agentcore-runtime-session-id');
    expect(h.authorization).toContain('/us-east-1/bedrock-agentcore/aws4_request');
    const verdict = await verifySigV4({
      method: 'GET',
      rawPath: url.slice('ws://127.0.0.1:8123'.length),
      headers: h,
      region: 'us-east-1',
      lookupCredentials: (id) => (id === TEST_TEMPORARY_CREDENTIALS.accessKeyId ? TEST_TEMPORARY_CREDENTIALS : undefined),
      now: now.getTime(),
    });
    expect(verdict).toEqual({ ok: true, accessKeyId: TEST_TEMPORARY_CREDENTIALS.accessKeyId });
  });

  test('a non-default qualifier is sent and signed; the default is left out as the SDK does', async () => {
    const withQ = await signShellUpgrade({ ...target, qualifier: 'prod' }, TEST_CREDENTIALS);
    expect(new URL(withQ.url).searchParams.get('qualifier')).toBe('prod');
    const plain = await signShellUpgrade({ ...target, qualifier: 'DEFAULT' }, TEST_CREDENTIALS);
    expect(new URL(plain.url).searchParams.has('qualifier')).toBe(false);
  });

  test('https endpoints become wss', async () => {
    const { url } = await signShellUpgrade({ ...target, endpointUrl: 'https://bedrock-agentcore.us-east-1.amazonaws.com' }, TEST_CREDENTIALS);
    expect(url.startsWith('wss://bedrock-agentcore.us-east-1.amazonaws.com/runtimes/')).toBe(true);
  });

  test('a signature made with another secret is rejected by the verifier', async () => {
    const now = new Date();
    const { url, headers } = await signShellUpgrade(target, { ...TEST_CREDENTIALS, secretAccessKey: 'wrong' }, now);
    const verdict = await verifySigV4({
      method: 'GET',
      rawPath: url.slice('ws://127.0.0.1:8123'.length),
      headers: lowerHeaders(headers),
      region: 'us-east-1',
      lookupCredentials: () => TEST_CREDENTIALS,
      now: now.getTime(),
    });
    expect(verdict.ok).toBe(false);
  });
});
