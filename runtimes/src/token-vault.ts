/**
 * The agent's API key from the AgentCore Token Vault, fetched once at boot with the
 * runtime's execution role (the AWS SDK's default credential chain):
 *
 * 1. `GetWorkloadAccessToken({ workloadName: $AGENTCORE_WORKLOAD_NAME })`
 * 2. `GetResourceApiKey({ workloadIdentityToken, resourceCredentialProviderName: $AGENTCORE_CREDENTIAL_PROVIDER })`
 *
 * The key goes to one 0600 file in the private state directory, written atomically.
 * It never reaches a log line or the environment of the shell at large: the launcher
 * reads the file and hands the key to the agent process alone, under
 * the variable {@link agentApiKeyEnvName} names (the agent's own, from shared/contract/agents.ts).
 * Without the two variables, or when a call fails, the runtime stays healthy and says once why;
 * an interactive login still works. An agent that runs keyless (Claude Code on Amazon Bedrock,
 * with the execution role's credentials) needs no key: nothing is fetched, whatever is set.
 *
 * `AWS_ENDPOINT_URL_BEDROCK_AGENTCORE` (read by the SDK itself) points the calls
 * elsewhere, e.g. at a local stub in tests.
 */
import {
  BedrockAgentCoreClient,
  GetResourceApiKeyCommand,
  GetWorkloadAccessTokenCommand,
} from '@aws-sdk/client-bedrock-agentcore';
import { readFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { type AgentFacts, AGENTS, agentOf, DEFAULT_AGENT, isKeyless } from '../../shared/contract/agents';
import { ENV_AGENT_API_KEY_ENV, ENV_CREDENTIAL_PROVIDER, ENV_WORKLOAD_NAME } from '../../shared/contract/runtime-env';
import { ensurePrivateDir, writeFileAtomic } from './fs-atomic';
import { describeError, type Logger, silentLogger } from './log';
import { resolvePaths } from './paths';
import { metricFields } from '../../shared/metrics';

export { ENV_AGENT_API_KEY_ENV, ENV_CREDENTIAL_PROVIDER, ENV_WORKLOAD_NAME };
/** Overrides the login command named in the fallback message. */
export const ENV_AGENT_LOGIN_COMMAND = 'OPENAB_AGENT_LOGIN_COMMAND';

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/**
 * The agent the environment names (`OPENAB_AGENT`); an unknown name counts as the default
 * agent here, so a bad setting cannot take the key fetch or /ping down (the launcher refuses it).
 */
export function runtimeAgent(env: Record<string, string | undefined>): AgentFacts {
  try {
    return agentOf(env);
  } catch {
    return AGENTS[DEFAULT_AGENT];
  }
}

export function agentApiKeyEnvName(env: Record<string, string | undefined>): string {
  const v = env[ENV_AGENT_API_KEY_ENV];
  return v && ENV_NAME.test(v) ? v : runtimeAgent(env).apiKeyEnv;
}

export function loginHint(env: Record<string, string | undefined> = process.env): string {
  const command = env[ENV_AGENT_LOGIN_COMMAND] || runtimeAgent(env).loginCommand;
  return command
    ? `the agent can still be signed in interactively: open a shell on the runtime and run \`${command}\``
    : `the agent has no key: give the runtime one in the Token Vault (${runtimeAgent(env).apiKeyEnv})`;
}

export type FetchStep = 'GetWorkloadAccessToken' | 'GetResourceApiKey' | 'write-key-file';

/** The outcome of the boot-time fetch. Holds names and reasons, never the key or the token. */
export type ApiKeyStatus =
  | { readonly state: 'pending'; readonly at: string }
  | { readonly state: 'fetched'; readonly at: string; readonly envName: string; readonly workloadName: string; readonly credentialProvider: string }
  | { readonly state: 'not-configured'; readonly at: string; readonly missing: string[] }
  /** The agent reaches its models with the runtime's own AWS credentials (its keyless switch is on). */
  | { readonly state: 'not-needed'; readonly at: string; readonly keylessSwitch: string }
  | {
    readonly state: 'failed';
    readonly at: string;
    readonly step: FetchStep;
    readonly error: string;
    readonly message: string;
    readonly httpStatus?: number;
  };

export interface FetchApiKeyOptions {
  /** @default process.env */
  readonly env?: Record<string, string | undefined>;
  /** @default API_KEY_FILE */
  readonly keyFile?: string;
  /** @default API_KEY_STATUS_FILE */
  readonly statusFile?: string;
  /** @default - a client from the default credential chain and region */
  readonly client?: BedrockAgentCoreClient;
  /** @default - no logging */
  readonly log?: Logger;
  /** Called with each status as soon as it is known (before it is written to `statusFile`). */
  readonly onStatus?: (status: ApiKeyStatus) => void;
  /** Each status once it is on disk, where a launcher looks for it. */
  readonly onRecorded?: (status: ApiKeyStatus) => void;
  /** Aborts both calls (the server's shutdown). */
  readonly signal?: AbortSignal;
  /**
   * The longest the two calls may take together.
   * @default 60_000
   */
  readonly timeoutMs?: number;
}

/** Fetches the key and stores it; never throws. Returns (and records) what happened. */
export async function fetchAgentApiKey(options: FetchApiKeyOptions = {}): Promise<ApiKeyStatus> {
  const env = options.env ?? process.env;
  const keyFile = options.keyFile ?? resolvePaths(env).apiKeyFile;
  const statusFile = options.statusFile ?? resolvePaths(env).apiKeyStatusFile;
  const log = options.log ?? silentLogger;
  const record = async (status: ApiKeyStatus): Promise<ApiKeyStatus> => {
    options.onStatus?.(status);
    try {
      await ensurePrivateDir(dirname(statusFile));
      await writeFileAtomic(statusFile, `${JSON.stringify(status)}\n`, { mode: 0o600 });
    } catch (err) {
      log.warn('api-key.status-not-written', { file: statusFile, ...describeError(err) });
    }
    options.onRecorded?.(status);
    return status;
  };
  const now = () => new Date().toISOString();

  const agent = runtimeAgent(env);
  if (isKeyless(agent, env)) {
    log.info('api-key.not-needed', {
      agent: agent.id,
      keylessSwitch: agent.keylessSwitch,
      message: `${agent.keylessSwitch} is set: ${agent.displayName} uses the runtime's AWS credentials, so no API key is fetched from the AgentCore Token Vault`,
    });
    return record({ state: 'not-needed', at: now(), keylessSwitch: agent.keylessSwitch! });
  }

  const workloadName = env[ENV_WORKLOAD_NAME]?.trim();
  const credentialProvider = env[ENV_CREDENTIAL_PROVIDER]?.trim();
  const missing = [
    ...(workloadName ? [] : [ENV_WORKLOAD_NAME]),
    ...(credentialProvider ? [] : [ENV_CREDENTIAL_PROVIDER]),
  ];
  if (!workloadName || !credentialProvider) {
    log.warn('api-key.not-configured', {
      ...metricFields({ ApiKeyFetches: 1 }, { Outcome: 'not_configured' }),
      missing,
      message: `${missing.join(' and ')} ${missing.length > 1 ? 'are' : 'is'} not set, so no API key is fetched from the AgentCore Token Vault; ${loginHint(env)}`,
    });
    return record({ state: 'not-configured', at: now(), missing });
  }

  await record({ state: 'pending', at: now() });
  const timeout = new AbortController();
  const timer = setTimeout(() => timeout.abort(), options.timeoutMs ?? 60_000);
  const onAbort = () => timeout.abort();
  options.signal?.addEventListener('abort', onAbort);
  const client = options.client ?? new BedrockAgentCoreClient({
    maxAttempts: 3,
    requestHandler: { connectionTimeout: 5_000, requestTimeout: 20_000 },
  });

  let step: FetchStep = 'GetWorkloadAccessToken';
  let token: string | undefined;
  try {
    const tokenOut = await client.send(new GetWorkloadAccessTokenCommand({ workloadName }), { abortSignal: timeout.signal });
    token = tokenOut.workloadAccessToken;
    if (!token) throw namedError('EmptyResponse', 'the response has no workloadAccessToken');

    step = 'GetResourceApiKey';
    const keyOut = await client.send(
      new GetResourceApiKeyCommand({ workloadIdentityToken: token, resourceCredentialProviderName: credentialProvider }),
      { abortSignal: timeout.signal },
    );
    const apiKey = keyOut.apiKey;
    if (!apiKey) throw namedError('EmptyResponse', 'the response has no apiKey');

    step = 'write-key-file';
    await ensurePrivateDir(dirname(keyFile));
    await writeFileAtomic(keyFile, apiKey, { mode: 0o600 });
  } catch (err) {
    const described = describeError(err);
    // Whatever the service or SDK said, the token must not travel on in it.
    const scrub = (s: unknown) => (typeof s === 'string' && token ? s.split(token).join('[workload token]') : s);
    const error = typeof described.error === 'string' ? described.error : 'Error';
    const httpStatus = typeof described.httpStatus === 'number' ? described.httpStatus : undefined;
    const message = String(scrub(described.message ?? ''));
    log.error('api-key.fetch-failed', {
      ...metricFields({ ApiKeyFetches: 1 }, { Outcome: 'failed' }),
      step,
      workloadName,
      credentialProvider,
      error,
      httpStatus,
      message: `${step} failed (${error}${httpStatus ? `, HTTP ${httpStatus}` : ''}): ${message.replace(/[.\s]+$/, '')}. ${stepAdvice(step)}; ${loginHint(env)}`,
    });
    return await record({ state: 'failed', at: now(), step, error, message, httpStatus });
  } finally {
    clearTimeout(timer);
    options.signal?.removeEventListener('abort', onAbort);
    if (!options.client) client.destroy();
  }

  const envName = agentApiKeyEnvName(env);
  log.info('api-key.fetched', { file: keyFile, envName, workloadName, credentialProvider, ...metricFields({ ApiKeyFetches: 1 }, { Outcome: 'fetched' }) });
  return record({ state: 'fetched', at: now(), envName, workloadName, credentialProvider });
}

function stepAdvice(step: FetchStep): string {
  switch (step) {
    case 'GetWorkloadAccessToken':
      return `Check that the workload identity named by ${ENV_WORKLOAD_NAME} exists and that the execution role may call bedrock-agentcore:GetWorkloadAccessToken on it`;
    case 'GetResourceApiKey':
      return `Check that the credential provider named by ${ENV_CREDENTIAL_PROVIDER} exists and that the execution role may call bedrock-agentcore:GetResourceApiKey on it and read its secret`;
    case 'write-key-file':
      return 'Check that the state directory is writable by this user';
  }
}

function namedError(name: string, message: string): Error {
  const e = new Error(message);
  e.name = name;
  return e;
}

/** The key the boot-time fetch stored, or undefined when there is none (yet). */
export function readAgentApiKey(keyFile: string = resolvePaths().apiKeyFile): string | undefined {
  try {
    const key = readFileSync(keyFile, 'utf8');
    return key.length > 0 ? key : undefined;
  } catch {
    return undefined;
  }
}

/** What the boot-time fetch recorded, or undefined before it has started. */
export function readApiKeyStatus(statusFile: string = resolvePaths().apiKeyStatusFile): ApiKeyStatus | undefined {
  try {
    const parsed = JSON.parse(readFileSync(statusFile, 'utf8')) as ApiKeyStatus;
    return typeof parsed?.state === 'string' ? parsed : undefined;
  } catch {
    return undefined;
  }
}

export interface WaitForApiKeyOptions {
  /** @default 30_000 */
  readonly timeoutMs?: number;
  /** @default 200 */
  readonly pollMs?: number;
  readonly keyFile?: string;
  readonly statusFile?: string;
}

/**
 * For the launcher: the key, waiting while the boot-time fetch is still running (a
 * shell can be opened the moment the runtime answers /ping). Waits only while a fetch
 * is on record as pending: with no fetch on record (no contract server, a local run) or
 * one that has ended, it answers at once. Resolves undefined after `timeoutMs`.
 */
export async function waitForAgentApiKey(options: WaitForApiKeyOptions = {}): Promise<string | undefined> {
  const deadline = Date.now() + (options.timeoutMs ?? 30_000);
  for (;;) {
    const key = readAgentApiKey(options.keyFile);
    if (key !== undefined) return key;
    if (readApiKeyStatus(options.statusFile)?.state !== 'pending') return readAgentApiKey(options.keyFile);
    if (Date.now() >= deadline) return undefined;
    await new Promise((r) => setTimeout(r, options.pollMs ?? 200));
  }
}

/** The environment entries to give the agent process: `{ KIRO_API_KEY: key }`, or none. */
export function agentApiKeyEnvironment(key: string | undefined, envName: string = agentApiKeyEnvName(process.env)): Record<string, string> {
  return key === undefined ? {} : { [envName]: key };
}
