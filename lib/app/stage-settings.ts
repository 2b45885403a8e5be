/**
 * Per-environment settings for the example app, read from cdk.json context
 * (`openab-agentcore:stages`). Pure: JSON in, typed settings or a list of problems out,
 * each naming the stage and key, so a typo in cdk.json fails the synth instead of
 * silently deploying a default.
 */
import { RetentionDays } from 'aws-cdk-lib/aws-logs';
import { RUNTIME_IMAGE_TARGETS, isAgentId } from '../../shared/contract/agents';
import { BEDROCK_NO_KEY_REASON } from '../bedrock-model-access';

export const STAGES_CONTEXT_KEY = 'openab-agentcore:stages';
export const STAGE_CONTEXT_KEY = 'stage';

/** A model Claude Code may call on Amazon Bedrock (stage setting `bedrock.models`). */
export interface BedrockModelSetting {
  /**
   * A foundation model id or ARN (`anthropic.claude-…`) or a cross-Region inference profile id
   * or ARN (`us.anthropic.claude-…`, `global.anthropic.claude-…`). In cdk.json a plain string
   * stands for `{ "id": … }`.
   */
  readonly id: string;
  /** The Regions a geographic inference profile routes to. @default - none (a global profile or a foundation model) */
  readonly destinationRegions?: string[];
}

/** Keyless Claude Code on Amazon Bedrock (stage setting `bedrock`, with `"agent": "claude-code"`). */
export interface BedrockSettings {
  /** The models Claude Code may call; the first is its main model. */
  readonly models: BedrockModelSetting[];
  /** One of `models`, by id, for background tasks. @default - the main model */
  readonly smallFastModel?: string;
}

/**
 * What one bot is: its agent, its chat platform, its runtime and its service's size. A stage
 * sets these for its one bot, or as defaults for its `bots`, each of which may set them again.
 */
export interface BotSettings {
  /** The coding agent: "kiro", "claude-code" or "codex". @default "kiro" */
  readonly agent?: string;
  /**
   * Keyless Claude Code on Amazon Bedrock (`"agent": "claude-code"`, no `apiKeySecret`).
   * @default - none
   */
  readonly bedrock?: BedrockSettings;
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
  /** Use a runtime deployed elsewhere instead of creating one. @default - a new runtime */
  readonly runtimeArn?: string;
  /** @default - derived from the stack and construct path */
  readonly runtimeName?: string;
  /** @default - the agent's ('kiro-cli acp --trust-all-tools', 'claude-agent-acp', 'codex-acp') */
  readonly shellCommand?: string;
  /**
   * Build arguments of the runtime image, e.g. `{ "KIRO_CLI_VERSION": "…", "KIRO_CLI_SHA256": "…" }`
   * (the Dockerfile's kiro target pins the two together). @default - the Dockerfile's defaults
   */
  readonly runtimeBuildArgs?: Record<string, string>;
  /** @default 15 */
  readonly idleSessionTimeoutMinutes?: number;
  /** @default 8 */
  readonly maxLifetimeHours?: number;
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
}

export interface StageSettings extends BotSettings {
  /** @default - CDK_DEFAULT_ACCOUNT (the CLI's credentials), else an environment-agnostic stack */
  readonly account?: string;
  /** @default - CDK_DEFAULT_REGION, else an environment-agnostic stack */
  readonly region?: string;
  /**
   * Several bots side by side in the stage's stack, by name: each gets its own runtime,
   * service and chat token. A bot's settings override the stage's, which they all share.
   * @default - one bot, configured by the stage's own settings
   */
  readonly bots?: Record<string, BotSettings>;
  /**
   * ARN of the customer managed KMS key that encrypts the stage's secrets: the roles that read
   * them get kms:Decrypt on this key only. @default - the AWS managed key (aws/secretsmanager)
   */
  readonly secretsKmsKeyArn?: string;
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
  /** @default DEFAULT_OPENAB_VERSION */
  readonly openabVersion?: string;
  /** Tags on every resource of the stage's stack. @default - only `openab-agentcore:stage` */
  readonly tags?: Record<string, string>;
}

type Kind = 'string' | 'boolean' | 'number' | 'string[]' | 'record' | 'object';

const KEYS: Record<keyof StageSettings, Kind> = {
  account: 'string',
  region: 'string',
  bots: 'object',
  agent: 'string',
  bedrock: 'object',
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
/** Bot names become construct ids and the runtime names derived from them. */
const BOT_NAME = /^[a-z][a-z0-9]{0,19}$/;
/** What a bot may set for itself; the rest (its stack's place, tags and shared service settings) only the stage sets. */
const BOT_KEYS: readonly (keyof StageSettings)[] = [
  'agent', 'bedrock', 'apiKeySecret', 'apiKeyJsonField', 'discordSecret', 'discordAllowedChannels', 'discordAllowedUsers',
  'slackSecret', 'slackAllowedChannels', 'slackAllowedUsers', 'allowEveryone', 'runtimeArn', 'runtimeName', 'shellCommand',
  'runtimeBuildArgs', 'idleSessionTimeoutMinutes', 'maxLifetimeHours', 'cpu', 'memoryLimitMiB', 'maxMessageMiB', 'maxSessions', 'sessionTtlHours',
];

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
    stages[stage] = normalizeStage(settings);
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
  const problems = validateKeys(stage, settings, Object.keys(KEYS) as (keyof StageSettings)[]);
  const bots = settings.bots;
  if (!isRecord(bots)) return [...problems, ...validateBot(stage, settings)];
  if (Object.keys(bots).length === 0) problems.push(`${stage}.bots must name at least one bot, e.g. { "kiro": { … }, "claude": { … } }`);
  // Each bot is the stage's settings with its own on top; what the stage says for all of them is checked in each.
  const merged: Record<string, Record<string, unknown>> = {};
  for (const [name, bot] of Object.entries(bots)) {
    const prefix = `${stage}.bots.${name}`;
    if (!BOT_NAME.test(name)) problems.push(`${stage}.bots: bot name "${name}" must match ${BOT_NAME}`);
    if (!isRecord(bot)) {
      problems.push(`${prefix} must be an object of settings`);
      continue;
    }
    problems.push(...validateKeys(prefix, bot, BOT_KEYS, ' (a bot sets only its own agent, chat and runtime; the stage sets the rest)'));
    const { bots: _bots, ...shared } = settings;
    merged[name] = { ...shared, ...bot };
    problems.push(...validateBot(prefix, merged[name]));
  }
  problems.push(...validateBotConflicts(stage, merged));
  return problems;
}

/** Unknown keys, wrong kinds and out-of-range values, named `<prefix>.<key>`. */
function validateKeys(prefix: string, settings: Record<string, unknown>, allowed: readonly (keyof StageSettings)[], why = ''): string[] {
  const problems: string[] = [];
  for (const [key, v] of Object.entries(settings)) {
    if (key.startsWith(COMMENT_PREFIX)) continue;
    const kind = allowed.includes(key as keyof StageSettings) ? KEYS[key as keyof StageSettings] : undefined;
    if (!kind) {
      problems.push(`${prefix}.${key} is not a known setting${why} (known: ${allowed.join(', ')})`);
    } else if (!hasKind(v, kind)) {
      problems.push(`${prefix}.${key} must be ${KIND_WORDS[kind]}, got ${JSON.stringify(v) ?? String(v)}`);
    }
  }
  const retention = settings.logRetentionDays;
  if (typeof retention === 'number' && !(Object.values(RetentionDays) as unknown[]).includes(retention)) {
    problems.push(`${prefix}.logRetentionDays must be a CloudWatch Logs retention (1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, …), got ${retention}`);
  }
  const maxMessage = settings.maxMessageMiB;
  if (typeof maxMessage === 'number' && !(Number.isInteger(maxMessage) && maxMessage >= 1 && maxMessage <= 64)) {
    problems.push(`${prefix}.maxMessageMiB must be a whole number of MiB from 1 to 64, got ${maxMessage}`);
  }
  const agent = settings.agent;
  if (typeof agent === 'string' && !isAgentId(agent)) {
    problems.push(`${prefix}.agent must be ${RUNTIME_IMAGE_TARGETS.map((a) => `"${a}"`).join(', ')}, got "${agent}"`);
  }
  if (isRecord(settings.bedrock)) problems.push(...validateBedrockShape(`${prefix}.bedrock`, settings.bedrock));
  for (const key of ['apiKeySecret', 'discordSecret', 'slackSecret'] as const) {
    const ref = settings[key];
    if (typeof ref === 'string' && ref.startsWith('arn:') && !SECRET_FULL_ARN.test(ref)) {
      problems.push(`${prefix}.${key} must be a secret name or a full secret ARN (ending in "-" and the 6 characters Secrets Manager adds), got "${ref}"`);
    }
  }
  const key = settings.secretsKmsKeyArn;
  if (typeof key === 'string' && !KMS_KEY_ARN.test(key)) {
    problems.push(`${prefix}.secretsKmsKeyArn must be a KMS key ARN (arn:…:kms:<region>:<account>:key/<key id>; not an alias, which IAM cannot grant on), got "${key}"`);
  }
  const topic = settings.alarmTopicArn;
  if (typeof topic === 'string') {
    if (!/^arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:[A-Za-z0-9_-]{1,256}(\.fifo)?$/.test(topic)) problems.push(`${prefix}.alarmTopicArn must be an SNS topic ARN (arn:…:sns:<region>:<account>:<name>), got "${topic}"`);
    if (settings.alarms !== true) problems.push(`${prefix}.alarmTopicArn needs "alarms": true`);
  }
  return problems;
}

/** What one bot needs as a whole (its settings and the stage's): a chat platform, allowlists, a fitting agent. */
function validateBot(prefix: string, settings: Record<string, unknown>): string[] {
  const problems: string[] = [];
  if (settings.discordSecret === undefined && settings.slackSecret === undefined) {
    problems.push(`${prefix}: set discordSecret or slackSecret (OAB needs a chat platform)`);
  }
  problems.push(...validateAllowlists(prefix, settings));
  if (settings.bedrock !== undefined) {
    if (settings.agent !== 'claude-code') problems.push(`${prefix}.bedrock requires "agent": "claude-code" (only Claude Code runs keyless on Amazon Bedrock), got agent ${JSON.stringify(settings.agent ?? 'kiro')}`);
    if (settings.apiKeySecret !== undefined) problems.push(`${prefix}.bedrock cannot be combined with apiKeySecret (${BEDROCK_NO_KEY_REASON})`);
  }
  return problems;
}

/** The shape of a `bedrock` setting: models as ids or { id, destinationRegions }. */
function validateBedrockShape(prefix: string, bedrock: Record<string, unknown>): string[] {
  const problems: string[] = [];
  for (const key of Object.keys(bedrock)) {
    if (key !== 'models' && key !== 'smallFastModel' && !key.startsWith(COMMENT_PREFIX)) problems.push(`${prefix}.${key} is not a known setting (known: models, smallFastModel)`);
  }
  const models = bedrock.models;
  if (!Array.isArray(models) || models.length === 0) {
    problems.push(`${prefix}.models must be a non-empty list of model or inference profile ids, got ${JSON.stringify(models) ?? 'nothing'}`);
  } else {
    models.forEach((m, i) => {
      const ok = (typeof m === 'string' && m.length > 0)
        || (isRecord(m) && typeof m.id === 'string' && m.id.length > 0 && Object.keys(m).every((k) => k === 'id' || k === 'destinationRegions')
          && (m.destinationRegions === undefined || hasKind(m.destinationRegions, 'string[]')));
      if (!ok) problems.push(`${prefix}.models[${i}] must be an id or { "id": …, "destinationRegions": [ … ] }, got ${JSON.stringify(m)}`);
      // A geographic profile is routed to other Regions, each of whose model is granted: they must be named.
      const id: unknown = isRecord(m) ? m.id : m;
      if (ok && typeof id === 'string' && isGeographicProfileId(id) && !(isRecord(m) && Array.isArray(m.destinationRegions) && m.destinationRegions.length > 0)) {
        problems.push(`${prefix}.models[${i}] is a geographic inference profile: write { "id": "${id}", "destinationRegions": [ … ] } with the Regions it routes to`);
      }
    });
  }
  const small = bedrock.smallFastModel;
  if (small !== undefined) {
    const ids: unknown[] = Array.isArray(models) ? (models as unknown[]).map((m) => (isRecord(m) ? m.id : m)) : [];
    if (!hasKind(small, 'string') || !ids.includes(small)) problems.push(`${prefix}.smallFastModel must be the id of one of ${prefix}.models, got ${JSON.stringify(small)}`);
  }
  return problems;
}

/** `us.anthropic.claude-…` and the like (an id or ARN), not a foundation model nor a global profile. */
function isGeographicProfileId(id: string): boolean {
  const profile = /^(?:arn:[^/]*:inference-profile\/)?([a-z]{2,10})\.anthropic\./.exec(id);
  return profile !== null && profile[1] !== 'global';
}

/**
 * Bots side by side must not share what one holds alone: a chat token (two services on one
 * token would answer every message twice) or a runtime name (unique per account and Region).
 */
function validateBotConflicts(stage: string, bots: Record<string, Record<string, unknown>>): string[] {
  const problems: string[] = [];
  for (const key of ['discordSecret', 'slackSecret', 'runtimeName'] as const) {
    const holders = new Map<string, string[]>();
    for (const [name, bot] of Object.entries(bots)) {
      const v = bot[key];
      if (typeof v === 'string') holders.set(v, [...(holders.get(v) ?? []), name]);
    }
    for (const [v, names] of holders) {
      if (names.length > 1) {
        problems.push(`${stage}.bots ${names.join(' and ')} share ${key} "${v}"${key === 'runtimeName' ? ' (runtime names are unique per account and Region)' : ': one chat token must be held by one bot, or each message is answered twice'}`);
      }
    }
  }
  return problems;
}

/** The bots a stage deploys: its own `bots`, each over the stage's settings, or the stage itself as one unnamed bot. */
export function botsOf(settings: StageSettings): { readonly name?: string; readonly settings: StageSettings }[] {
  const { bots, ...shared } = settings;
  if (!bots) return [{ settings: shared }];
  return Object.entries(bots).map(([name, bot]) => ({ name, settings: { ...shared, ...bot } }));
}

/** The stage as typed settings: `bedrock.models` strings become `{ id }`. */
function normalizeStage(settings: Record<string, unknown>): StageSettings {
  const normalize = (s: Record<string, unknown>): Record<string, unknown> => {
    const bedrock = s.bedrock;
    if (!isRecord(bedrock) || !Array.isArray(bedrock.models)) return s;
    return { ...s, bedrock: { ...bedrock, models: (bedrock.models as unknown[]).map((m) => (typeof m === 'string' ? { id: m } : m)) } };
  };
  const bots = settings.bots;
  const top = normalize(settings);
  if (!isRecord(bots)) return top;
  const normalized: Record<string, unknown> = { ...top, bots: Object.fromEntries(Object.entries(bots).map(([k, b]) => [k, isRecord(b) ? normalize(b) : b])) };
  return normalized;
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
  object: 'an object',
};

function hasKind(v: unknown, kind: Kind): boolean {
  switch (kind) {
    case 'string': return typeof v === 'string' && v.length > 0;
    case 'boolean': return typeof v === 'boolean';
    case 'number': return typeof v === 'number' && Number.isFinite(v);
    case 'string[]': return Array.isArray(v) && v.every((x) => typeof x === 'string');
    case 'record': return isRecord(v) && Object.values(v).every((x) => typeof x === 'string');
    case 'object': return isRecord(v);
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
