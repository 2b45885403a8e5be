/**
 * Per-environment settings for the example app, read from cdk.json context
 * (`openab-agentcore:stages`). Pure: JSON in, typed settings or a list of problems out,
 * each naming the stage and key, so a typo in cdk.json fails the synth instead of
 * silently deploying a default.
 */
import { RetentionDays } from 'aws-cdk-lib/aws-logs';

export const STAGES_CONTEXT_KEY = 'openab-agentcore:stages';
export const STAGE_CONTEXT_KEY = 'stage';

export interface StageSettings {
  /** @default - CDK_DEFAULT_ACCOUNT (the CLI's credentials), else an environment-agnostic stack */
  readonly account?: string;
  /** @default - CDK_DEFAULT_REGION, else an environment-agnostic stack */
  readonly region?: string;
  /**
   * Full ARN (best: the grant is that one secret) or name of the secret holding `{"apiKey":"…"}`
   * for the coding agent. @default - no API key
   */
  readonly apiKeySecret?: string;
  /** @default 'apiKey' */
  readonly apiKeyJsonField?: string;
  /** Full ARN or name of the secret holding `{"botToken":"…"}`. @default - no Discord */
  readonly discordSecret?: string;
  /** Discord channel ids the bot answers in. @default - none: set this, discordAllowedUsers or allowEveryone */
  readonly discordAllowedChannels?: string[];
  /** Discord user ids the bot answers. @default - none: set this, discordAllowedChannels or allowEveryone */
  readonly discordAllowedUsers?: string[];
  /** Full ARN or name of the secret holding `{"botToken":"xoxb-…","appToken":"xapp-…"}`. @default - no Slack */
  readonly slackSecret?: string;
  /** Slack channel ids the bot answers in. @default - none: set this, slackAllowedUsers or allowEveryone */
  readonly slackAllowedChannels?: string[];
  /** Slack user ids the bot answers. @default - none: set this, slackAllowedChannels or allowEveryone */
  readonly slackAllowedUsers?: string[];
  /**
   * Let everyone the bot can hear prompt the agent on a platform with no allowlist: they can
   * use its tools, read its API key and act as the runtime's execution role.
   * @default false - every chat platform needs an allowlist
   */
  readonly allowEveryone?: boolean;
  /**
   * ARN of the customer managed KMS key that encrypts the stage's secrets: the roles that read
   * them get kms:Decrypt on this key only. @default - the AWS managed key (aws/secretsmanager)
   */
  readonly secretsKmsKeyArn?: string;
  /** Use a runtime deployed elsewhere instead of creating one. @default - a new runtime */
  readonly runtimeArn?: string;
  /** @default - derived from the stack and construct path */
  readonly runtimeName?: string;
  /** @default 'kiro-cli acp --trust-all-tools' */
  readonly shellCommand?: string;
  /**
   * Build arguments of the runtime image, e.g. `{ "KIRO_CLI_VERSION": "…", "KIRO_CLI_SHA256": "…" }`
   * (runtimes/kiro pins the two together). @default - the Dockerfile's defaults
   */
  readonly runtimeBuildArgs?: Record<string, string>;
  /** @default 15 */
  readonly idleSessionTimeoutMinutes?: number;
  /** @default 8 */
  readonly maxLifetimeHours?: number;
  /** @default false */
  readonly fargateSpot?: boolean;
  /** @default false */
  readonly enableExecuteCommand?: boolean;
  /** @default true */
  readonly persistThreadMap?: boolean;
  /** Keep the thread map file system when the stack is deleted. @default true */
  readonly retainState?: boolean;
  /** @default 30 */
  readonly logRetentionDays?: number;
  /** The CloudWatch dashboard. @default true */
  readonly dashboard?: boolean;
  /** The alarms, notifying a new SNS topic (or `alarmTopicArn`). @default false */
  readonly alarms?: boolean;
  /** An SNS topic for the alarms instead of a new one (its full ARN). @default - a new topic */
  readonly alarmTopicArn?: string;
  /** @default 512 */
  readonly cpu?: number;
  /** @default - the smallest Fargate size for `cpu` that holds `maxSessions` bridges at their peak and OAB */
  readonly memoryLimitMiB?: number;
  /** The largest message a bridge accepts either way, in MiB (1 to 64). @default 16 */
  readonly maxMessageMiB?: number;
  /** @default - OAB's default (10) */
  readonly maxSessions?: number;
  /** @default - OAB's default (4) */
  readonly sessionTtlHours?: number;
  /** @default DEFAULT_OPENAB_VERSION */
  readonly openabVersion?: string;
  /** Tags on every resource of the stage's stack. @default - only `openab-agentcore:stage` */
  readonly tags?: Record<string, string>;
}

type Kind = 'string' | 'boolean' | 'number' | 'string[]' | 'record';

const KEYS: Record<keyof StageSettings, Kind> = {
  account: 'string',
  region: 'string',
  apiKeySecret: 'string',
  apiKeyJsonField: 'string',
  discordSecret: 'string',
  discordAllowedChannels: 'string[]',
  discordAllowedUsers: 'string[]',
  slackSecret: 'string',
  slackAllowedChannels: 'string[]',
  slackAllowedUsers: 'string[]',
  allowEveryone: 'boolean',
  secretsKmsKeyArn: 'string',
  runtimeArn: 'string',
  runtimeName: 'string',
  shellCommand: 'string',
  runtimeBuildArgs: 'record',
  idleSessionTimeoutMinutes: 'number',
  maxLifetimeHours: 'number',
  fargateSpot: 'boolean',
  enableExecuteCommand: 'boolean',
  persistThreadMap: 'boolean',
  retainState: 'boolean',
  logRetentionDays: 'number',
  dashboard: 'boolean',
  alarms: 'boolean',
  alarmTopicArn: 'string',
  cpu: 'number',
  memoryLimitMiB: 'number',
  maxMessageMiB: 'number',
  maxSessions: 'number',
  sessionTtlHours: 'number',
  openabVersion: 'string',
  tags: 'record',
};

/** A complete secret ARN: a partial one would be granted as given and match no secret. */
const SECRET_FULL_ARN = /^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:\d{12}:secret:.+-[A-Za-z0-9]{6}$/;
const KMS_KEY_ARN = /^arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:key\/[A-Za-z0-9-]+$/;

/** A key starting with "//" is a comment in a stage (JSON has no other), ignored by the app. */
const COMMENT_PREFIX = '//';

const STAGE_NAME = /^[a-z][a-z0-9-]{0,19}$/;

/** Parses the stages map; throws one error listing every problem. */
export function parseStages(raw: unknown): Record<string, StageSettings> {
  const value = typeof raw === 'string' ? safeJson(raw) : raw;
  if (!isRecord(value) || Object.keys(value).length === 0) {
    throw new Error(`cdk.json context "${STAGES_CONTEXT_KEY}" must be an object of stages, e.g. { "dev": { … } }`);
  }
  const problems: string[] = [];
  const stages: Record<string, StageSettings> = {};
  for (const [stage, settings] of Object.entries(value)) {
    if (!STAGE_NAME.test(stage)) problems.push(`stage name "${stage}" must match ${STAGE_NAME}`);
    if (!isRecord(settings)) {
      problems.push(`${stage}: settings must be an object`);
      continue;
    }
    problems.push(...validateStageSettings(stage, settings));
    stages[stage] = settings;
  }
  if (problems.length) throw new Error(`Invalid ${STAGES_CONTEXT_KEY} in cdk.json:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
  return stages;
}

/** The stages to synthesize: the one named by `-c stage=…`, or all of them. */
export function selectStages(stages: Record<string, StageSettings>, selected: unknown): string[] {
  if (selected === undefined) return Object.keys(stages);
  if (typeof selected !== 'string' || !(selected in stages)) {
    throw new Error(`-c ${STAGE_CONTEXT_KEY}=${typeof selected === 'string' ? selected : JSON.stringify(selected)} is not a stage in cdk.json; choose one of: ${Object.keys(stages).join(', ')}`);
  }
  return [selected];
}

export function validateStageSettings(stage: string, settings: Record<string, unknown>): string[] {
  const problems: string[] = [];
  for (const [key, v] of Object.entries(settings)) {
    const kind = KEYS[key as keyof StageSettings];
    if (key.startsWith(COMMENT_PREFIX)) continue;
    if (!kind) {
      problems.push(`${stage}.${key} is not a known setting (known: ${Object.keys(KEYS).join(', ')})`);
    } else if (!hasKind(v, kind)) {
      problems.push(`${stage}.${key} must be ${KIND_WORDS[kind]}, got ${JSON.stringify(v) ?? String(v)}`);
    }
  }
  const retention = settings.logRetentionDays;
  if (typeof retention === 'number' && !(Object.values(RetentionDays) as unknown[]).includes(retention)) {
    problems.push(`${stage}.logRetentionDays must be a CloudWatch Logs retention (1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, …), got ${retention}`);
  }
  const maxMessage = settings.maxMessageMiB;
  if (typeof maxMessage === 'number' && !(Number.isInteger(maxMessage) && maxMessage >= 1 && maxMessage <= 64)) {
    problems.push(`${stage}.maxMessageMiB must be a whole number of MiB from 1 to 64, got ${maxMessage}`);
  }
  if (settings.discordSecret === undefined && settings.slackSecret === undefined) {
    problems.push(`${stage}: set discordSecret or slackSecret (OAB needs a chat platform)`);
  }
  problems.push(...validateAllowlists(stage, settings));
  for (const key of ['apiKeySecret', 'discordSecret', 'slackSecret'] as const) {
    const ref = settings[key];
    if (typeof ref === 'string' && ref.startsWith('arn:') && !SECRET_FULL_ARN.test(ref)) {
      problems.push(`${stage}.${key} must be a secret name or a full secret ARN (ending in "-" and the 6 characters Secrets Manager adds), got "${ref}"`);
    }
  }
  const key = settings.secretsKmsKeyArn;
  if (typeof key === 'string' && !KMS_KEY_ARN.test(key)) {
    problems.push(`${stage}.secretsKmsKeyArn must be a KMS key ARN (arn:…:kms:<region>:<account>:key/<key id>; not an alias, which IAM cannot grant on), got "${key}"`);
  }
  const topic = settings.alarmTopicArn;
  if (typeof topic === 'string') {
    if (!/^arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:[A-Za-z0-9_-]{1,256}(\.fifo)?$/.test(topic)) problems.push(`${stage}.alarmTopicArn must be an SNS topic ARN (arn:…:sns:<region>:<account>:<name>), got "${topic}"`);
    if (settings.alarms !== true) problems.push(`${stage}.alarmTopicArn needs "alarms": true`);
  }
  return problems;
}

/** The chat platforms a stage configures, and the settings that list who may use each. */
const ALLOWLISTS = [
  { secret: 'discordSecret', lists: ['discordAllowedChannels', 'discordAllowedUsers'], everyone: 'every member of every server the bot is in' },
  { secret: 'slackSecret', lists: ['slackAllowedChannels', 'slackAllowedUsers'], everyone: 'every member of the workspace' },
] as const;

/** True when the platform has a non-empty allowlist. */
export function hasAllowlist(settings: Record<string, unknown>, platform: 'discordSecret' | 'slackSecret'): boolean {
  const { lists } = ALLOWLISTS.find((a) => a.secret === platform)!;
  return lists.some((k) => Array.isArray(settings[k]) && (settings[k] as unknown[]).length > 0);
}

/**
 * Whoever can prompt the agent can use its tools (`--trust-all-tools`), so a stage that
 * answers everyone must say so: an open stage is never what a missing setting gives.
 */
function validateAllowlists(stage: string, settings: Record<string, unknown>): string[] {
  const problems: string[] = [];
  const open = ALLOWLISTS.filter((a) => settings[a.secret] !== undefined && !hasAllowlist(settings, a.secret));
  if (settings.allowEveryone !== true) {
    for (const a of open) {
      problems.push(`${stage}: ${a.secret} is set without ${a.lists.join(' or ')}, so ${a.everyone} could prompt the agent, ` +
        `which runs its tools without asking as the runtime's execution role; set an allowlist, or "allowEveryone": true to accept that`);
    }
  } else if (open.length === 0 && (settings.discordSecret !== undefined || settings.slackSecret !== undefined)) {
    problems.push(`${stage}.allowEveryone has no effect: every chat platform of the stage has an allowlist`);
  }
  return problems;
}

const KIND_WORDS: Record<Kind, string> = {
  string: 'a non-empty string',
  boolean: 'true or false',
  number: 'a finite number',
  'string[]': 'a list of strings',
  record: 'an object of string values',
};

function hasKind(v: unknown, kind: Kind): boolean {
  switch (kind) {
    case 'string': return typeof v === 'string' && v.length > 0;
    case 'boolean': return typeof v === 'boolean';
    case 'number': return typeof v === 'number' && Number.isFinite(v);
    case 'string[]': return Array.isArray(v) && v.every((x) => typeof x === 'string');
    case 'record': return isRecord(v) && Object.values(v).every((x) => typeof x === 'string');
  }
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
