import { createServer, type AddressInfo } from 'node:net';
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ENV_CREDENTIAL_PROVIDER as CDK_ENV_CREDENTIAL_PROVIDER, ENV_WORKLOAD_NAME as CDK_ENV_WORKLOAD_NAME } from '../../lib/agent-api-key';
import {
  agentApiKeyEnvironment,
  agentApiKeyEnvName,
  ENV_CREDENTIAL_PROVIDER,
  ENV_WORKLOAD_NAME,
  readAgentApiKey,
  readApiKeyStatus,
  waitForAgentApiKey,
} from '../../runtimes/src/token-vault';
import { cleanEnv, type RunningProgram, runProgram, scratchDir, stageBundles } from '../support/runtime/programs';
import { startTokenVaultStub, STUB_CREDENTIALS, STUB_REGION, type StubBehaviour, type TokenVaultStub } from '../support/runtime/token-vault-stub';

const API_KEY = 'ksk_runtime-test-0123456789abcdef';
const TOKEN = 'wat-runtime-test-fedcba9876543210';
const WORKLOAD = 'openab-runtime-test-workload';
const PROVIDER = 'openab-runtime-test-provider';

describe('Token Vault key fetch at boot (contract server against a local stub)', () => {
  jest.setTimeout(20_000);
  let staged: ReturnType<typeof stageBundles>;
  let scratch: ReturnType<typeof scratchDir>;
  let stub: TokenVaultStub | undefined;
  let server: RunningProgram | undefined;

  const stateDir = () => join(scratch.dir, 'state');
  const keyFile = () => join(stateDir(), 'api-key');

  const boot = async (behaviour: StubBehaviour, env: Record<string, string | undefined> = {}) => {
    stub = await startTokenVaultStub({ workloadAccessToken: TOKEN, apiKey: API_KEY, ...behaviour });
    server = runProgram(join(staged.dir, 'contract-server.js'), [], cleanEnv(scratch.dir, {
      PORT: '0',
      HOST: '127.0.0.1',
      OPENAB_STATE_DIR: stateDir(),
      OPENAB_AGENT_HOME: join(scratch.dir, 'agent-home'),
      AWS_REGION: STUB_REGION,
      AWS_ACCESS_KEY_ID: STUB_CREDENTIALS.accessKeyId,
      AWS_SECRET_ACCESS_KEY: STUB_CREDENTIALS.secretAccessKey,
      AWS_ENDPOINT_URL_BEDROCK_AGENTCORE: stub.endpoint,
      [ENV_WORKLOAD_NAME]: WORKLOAD,
      [ENV_CREDENTIAL_PROVIDER]: PROVIDER,
      ...env,
    }));
    const listening = await server.waitForLine((l) => l.event === 'listening');
    const outcome = await server.waitForLine((l) => typeof l.event === 'string' && l.event.startsWith('api-key.') && l.event !== 'api-key.status-not-written');
    return { base: `http://127.0.0.1:${listening.port as number}`, outcome };
  };
  const ping = async (base: string) => (await (await fetch(`${base}/ping`)).json() as { status: string }).status;

  beforeAll(() => {
    staged = stageBundles(['contract-server.js']);
  });
  afterAll(() => staged.remove());
  beforeEach(() => {
    scratch = scratchDir('token-vault');
  });
  afterEach(async () => {
    await server?.stop('SIGKILL');
    await stub?.close();
    server = undefined;
    stub = undefined;
    scratch.remove();
  });

  it('is on record as pending before the runtime answers, and /ping is Healthy while the Token Vault does not answer', async () => {
    // A data plane that accepts connections and never answers: the fetch stays pending.
    const silent = createServer(() => undefined);
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', () => r()));
    try {
      server = runProgram(join(staged.dir, 'contract-server.js'), [], cleanEnv(scratch.dir, {
        PORT: '0',
        HOST: '127.0.0.1',
        OPENAB_STATE_DIR: stateDir(),
        AWS_REGION: STUB_REGION,
        AWS_ACCESS_KEY_ID: STUB_CREDENTIALS.accessKeyId,
        AWS_SECRET_ACCESS_KEY: STUB_CREDENTIALS.secretAccessKey,
        AWS_ENDPOINT_URL_BEDROCK_AGENTCORE: `http://127.0.0.1:${(silent.address() as AddressInfo).port}`,
        [ENV_WORKLOAD_NAME]: WORKLOAD,
        [ENV_CREDENTIAL_PROVIDER]: PROVIDER,
      }));
      const listening = await server.waitForLine((l) => l.event === 'listening');
      // A launcher started by a shell opened now must see the fetch under way and wait for the key.
      expect(readApiKeyStatus(join(stateDir(), 'api-key.status.json'))?.state).toBe('pending');
      expect(await ping(`http://127.0.0.1:${listening.port as number}`)).toBe('Healthy');
    } finally {
      silent.close();
    }
  });

  it('stores exactly the key in a 0600 file in a 0700 directory and never logs it', async () => {
    const { base, outcome } = await boot({});
    expect(outcome).toMatchObject({ level: 'info', event: 'api-key.fetched', envName: 'KIRO_API_KEY', workloadName: WORKLOAD, credentialProvider: PROVIDER });

    expect(readFileSync(keyFile(), 'utf8')).toBe(API_KEY);
    expect(statSync(keyFile()).mode & 0o777).toBe(0o600);
    expect(statSync(stateDir()).mode & 0o777).toBe(0o700);

    // The two calls, in order, each signed with the execution role's (here: the test's) credentials.
    expect(stub!.requests.map((r) => [r.operation, r.signatureProblem])).toEqual([
      ['GetWorkloadAccessToken', undefined],
      ['GetResourceApiKey', undefined],
    ]);
    expect(stub!.requests[0].body).toEqual({ workloadName: WORKLOAD });
    expect(stub!.requests[1].body).toEqual({ workloadIdentityToken: TOKEN, resourceCredentialProviderName: PROVIDER });
    expect(String(stub!.requests[0].headers.authorization)).toMatch(/^AWS4-HMAC-SHA256 Credential=AKIDRUNTIMETEST\/\d{8}\/us-west-2\/bedrock-agentcore\/aws4_request/);

    const status = await (await fetch(`${base}/invocations`, { method: 'POST' })).json() as { apiKey: unknown };
    expect(status.apiKey).toEqual({ state: 'fetched', fetched: true, envName: 'KIRO_API_KEY' });
    await server!.stop('SIGTERM');
    // Neither secret reaches the logs, the status file or the /invocations answer.
    for (const text of [server!.output, readFileSync(join(stateDir(), 'api-key.status.json'), 'utf8'), JSON.stringify(status)]) {
      expect(text).not.toContain(API_KEY);
      expect(text).not.toContain(TOKEN);
    }
  });

  it('gives the key to the agent under OPENAB_AGENT_API_KEY_ENV when set', async () => {
    const { outcome } = await boot({}, { OPENAB_AGENT_API_KEY_ENV: 'ANTHROPIC_API_KEY' });
    expect(outcome).toMatchObject({ event: 'api-key.fetched', envName: 'ANTHROPIC_API_KEY' });
  });

  it('says which variables are missing, points at the interactive login, and stays healthy', async () => {
    const { base, outcome } = await boot({}, { [ENV_WORKLOAD_NAME]: undefined, [ENV_CREDENTIAL_PROVIDER]: undefined });
    expect(outcome).toMatchObject({ level: 'warn', event: 'api-key.not-configured', missing: [ENV_WORKLOAD_NAME, ENV_CREDENTIAL_PROVIDER] });
    expect(outcome.message).toMatch(/AGENTCORE_WORKLOAD_NAME and AGENTCORE_CREDENTIAL_PROVIDER are not set/);
    expect(outcome.message).toContain('kiro-cli login --use-device-flow');
    expect(await ping(base)).toBe('Healthy');
    expect(stub!.requests).toHaveLength(0);
    expect(readAgentApiKey(keyFile())).toBeUndefined();
  });

  it('names only the variable that is missing', async () => {
    const { outcome } = await boot({}, { [ENV_CREDENTIAL_PROVIDER]: '' });
    expect(outcome).toMatchObject({ event: 'api-key.not-configured', missing: [ENV_CREDENTIAL_PROVIDER] });
    expect(outcome.message).toMatch(/^AGENTCORE_CREDENTIAL_PROVIDER is not set/);
  });

  it('reports a 403 on GetWorkloadAccessToken with the step and the fix, and stays healthy', async () => {
    const { base, outcome } = await boot({ denyOperation: 'GetWorkloadAccessToken', denyMessage: 'not authorized to perform bedrock-agentcore:GetWorkloadAccessToken' });
    expect(outcome).toMatchObject({ level: 'error', event: 'api-key.fetch-failed', step: 'GetWorkloadAccessToken', error: 'AccessDeniedException', httpStatus: 403 });
    expect(outcome.message).toMatch(/GetWorkloadAccessToken failed \(AccessDeniedException, HTTP 403\): not authorized/);
    expect(outcome.message).toMatch(/execution role may call bedrock-agentcore:GetWorkloadAccessToken/);
    expect(outcome.message).toContain('kiro-cli login --use-device-flow');
    expect(await ping(base)).toBe('Healthy');
    expect(stub!.requests.map((r) => r.operation)).toEqual(['GetWorkloadAccessToken']);
    expect(readAgentApiKey(keyFile())).toBeUndefined();
    const status = await (await fetch(`${base}/invocations`, { method: 'POST' })).json() as { apiKey: unknown };
    expect(status.apiKey).toEqual({ state: 'failed', fetched: false, envName: 'KIRO_API_KEY', step: 'GetWorkloadAccessToken', error: 'AccessDeniedException', httpStatus: 403 });
  });

  it('reports a 403 on GetResourceApiKey without repeating the workload token the service echoed', async () => {
    const { base, outcome } = await boot({ denyOperation: 'GetResourceApiKey', denyMessage: `token ${TOKEN} may not read provider ${PROVIDER}` });
    expect(outcome).toMatchObject({ event: 'api-key.fetch-failed', step: 'GetResourceApiKey', error: 'AccessDeniedException', httpStatus: 403 });
    expect(outcome.message).toContain('[workload token]');
    expect(server!.output).not.toContain(TOKEN);
    expect(await ping(base)).toBe('Healthy');
    expect(readAgentApiKey(keyFile())).toBeUndefined();
  });
  it('fetches nothing for Claude Code on Amazon Bedrock, even with a credential provider configured, and /ping stays Healthy', async () => {
    const { base, outcome } = await boot({}, { OPENAB_AGENT: 'claude-code', CLAUDE_CODE_USE_BEDROCK: '1', ANTHROPIC_MODEL: 'us.anthropic.claude-sonnet-4-5-20250929-v1:0' });
    expect(outcome).toMatchObject({ event: 'api-key.not-needed', agent: 'claude-code', keylessSwitch: 'CLAUDE_CODE_USE_BEDROCK' });
    expect(await ping(base)).toBe('Healthy');
    const status = await (await fetch(`${base}/invocations`, { method: 'POST' })).json() as { apiKey: unknown; agent: unknown };
    expect(status.apiKey).toEqual({ state: 'not-needed', fetched: false, envName: 'ANTHROPIC_API_KEY', keylessSwitch: 'CLAUDE_CODE_USE_BEDROCK' });
    expect(status.agent).toMatchObject({ id: 'claude-code', name: 'claude-agent-acp' });
    expect(stub!.requests).toEqual([]);
    expect(existsSync(keyFile())).toBe(false);
  });

  it('fetches the key for Claude Code with an Anthropic key (the switch off) and names ANTHROPIC_API_KEY as its variable', async () => {
    const { outcome } = await boot({}, { OPENAB_AGENT: 'claude-code', CLAUDE_CODE_USE_BEDROCK: '0' });
    expect(outcome).toMatchObject({ event: 'api-key.fetched', envName: 'ANTHROPIC_API_KEY' });
    expect(stub!.requests.map((r) => r.operation)).toEqual(['GetWorkloadAccessToken', 'GetResourceApiKey']);
  });
});

describe('the key for the launcher', () => {
  let scratch: ReturnType<typeof scratchDir>;
  beforeEach(() => {
    scratch = scratchDir('token-vault-unit');
  });
  afterEach(() => scratch.remove());

  it('readAgentApiKey returns the stored key, and undefined for a missing or empty file', () => {
    const file = join(scratch.dir, 'api-key');
    expect(readAgentApiKey(file)).toBeUndefined();
    writeFileSync(file, '');
    expect(readAgentApiKey(file)).toBeUndefined();
    writeFileSync(file, API_KEY);
    expect(readAgentApiKey(file)).toBe(API_KEY);
  });

  it('waitForAgentApiKey waits while the fetch is pending and returns at once when it has failed', async () => {
    const keyFile = join(scratch.dir, 'api-key');
    const statusFile = join(scratch.dir, 'status.json');
    mkdirSync(scratch.dir, { recursive: true });
    writeFileSync(statusFile, JSON.stringify({ state: 'pending', at: '' }));
    setTimeout(() => writeFileSync(keyFile, API_KEY), 150);
    await expect(waitForAgentApiKey({ keyFile, statusFile, timeoutMs: 5_000, pollMs: 20 })).resolves.toBe(API_KEY);

    const noKey = join(scratch.dir, 'absent');
    writeFileSync(statusFile, JSON.stringify({ state: 'failed', at: '' }));
    const started = Date.now();
    await expect(waitForAgentApiKey({ keyFile: noKey, statusFile, timeoutMs: 5_000, pollMs: 20 })).resolves.toBeUndefined();
    expect(Date.now() - started).toBeLessThan(1_000);

    writeFileSync(statusFile, JSON.stringify({ state: 'pending', at: '' }));
    await expect(waitForAgentApiKey({ keyFile: noKey, statusFile, timeoutMs: 100, pollMs: 20 })).resolves.toBeUndefined();

    // No fetch on record (no contract server ran): nothing to wait for.
    const fromNowhere = Date.now();
    await expect(waitForAgentApiKey({ keyFile: noKey, statusFile: join(scratch.dir, 'no-status'), timeoutMs: 5_000, pollMs: 20 })).resolves.toBeUndefined();
    expect(Date.now() - fromNowhere).toBeLessThan(1_000);
    await expect(waitForAgentApiKey({ keyFile, statusFile: join(scratch.dir, 'no-status'), timeoutMs: 5_000 })).resolves.toBe(API_KEY);
  });

  it('builds the agent environment entry under the configured name only', () => {
    expect(agentApiKeyEnvironment(API_KEY, 'KIRO_API_KEY')).toEqual({ KIRO_API_KEY: API_KEY });
    expect(agentApiKeyEnvironment(undefined, 'KIRO_API_KEY')).toEqual({});
    expect(agentApiKeyEnvName({})).toBe('KIRO_API_KEY');
    expect(agentApiKeyEnvName({ OPENAB_AGENT: 'claude-code' })).toBe('ANTHROPIC_API_KEY');
    expect(agentApiKeyEnvName({ OPENAB_AGENT: 'codex' })).toBe('OPENAI_API_KEY');
    expect(agentApiKeyEnvName({ OPENAB_AGENT: 'codex', OPENAB_AGENT_API_KEY_ENV: 'CODEX_KEY' })).toBe('CODEX_KEY');
    // An unknown agent cannot take the fetch down: it counts as the default one.
    expect(agentApiKeyEnvName({ OPENAB_AGENT: 'nope' })).toBe('KIRO_API_KEY');
    expect(agentApiKeyEnvName({ OPENAB_AGENT_API_KEY_ENV: 'OPENAI_API_KEY' })).toBe('OPENAI_API_KEY');
    expect(agentApiKeyEnvName({ OPENAB_AGENT_API_KEY_ENV: 'not a name; rm -rf' })).toBe('KIRO_API_KEY');
  });

  it('reads the same variable names the CDK construct sets on the runtime', () => {
    expect([ENV_WORKLOAD_NAME, ENV_CREDENTIAL_PROVIDER]).toEqual([CDK_ENV_WORKLOAD_NAME, CDK_ENV_CREDENTIAL_PROVIDER]);
  });
});
