/**
 * OAB's config.toml, rendered from typed values. Pure: values in, TOML text out.
 *
 * Chat tokens are never values here: the file names environment variables
 * (`bot_token = "${DISCORD_BOT_TOKEN}"`) that OAB expands when it reads the file, and
 * ECS fills those variables from Secrets Manager. OAB expands every `${…}` in the file,
 * so no other value may contain one.
 */
import { Token } from 'aws-cdk-lib';
import { validateNoExpansion, validateOneOf } from '../validation';

// smol-toml ships CommonJS (its "require" export) with ES module typings only, which this
// CommonJS library cannot import by name; it is loaded as CommonJS, typed from those typings.
// typescript-eslint cannot resolve a `resolution-mode` type import (tsc and jsii do), so it sees an error type.
// eslint-disable-next-line @typescript-eslint/no-require-imports, @typescript-eslint/no-unsafe-assignment
const { stringify } = require('smol-toml') as typeof import('smol-toml', { with: { 'resolution-mode': 'import' } });

/** Whether OAB processes messages from other bots (`allow_bot_messages`). */
export enum BotMessagePolicy {
  /** Never. */
  OFF = 'off',
  /** Only when they mention this bot. */
  MENTIONS = 'mentions',
  /** Always. */
  ALL = 'all',
}

/** How OAB batches arriving messages into prompts (`message_processing_mode`). */
export enum MessageProcessingMode {
  /** One prompt per message. */
  PER_MESSAGE = 'per-message',
  /** Messages that arrive during a turn are batched per thread. */
  PER_THREAD = 'per-thread',
  /** Messages that arrive during a turn are batched per lane. */
  PER_LANE = 'per-lane',
}

/** Who may talk to the bot, shared by Discord and Slack. */
export interface ChatAccessOptions {
  /**
   * Channel ids the bot answers in.
   * @default - every channel the bot is in (OAB's default)
   */
  readonly allowedChannels?: string[];
  /**
   * User ids the bot answers.
   * @default - every user (OAB's default)
   */
  readonly allowedUsers?: string[];
  /**
   * Whether messages from other bots are processed.
   * @default - OAB's default ('off')
   */
  readonly allowBotMessages?: BotMessagePolicy;
  /**
   * Bot ids whose messages are processed even when `allowBotMessages` is 'off'.
   * @default - none
   */
  readonly trustedBotIds?: string[];
  /**
   * How arriving messages are batched into prompts.
   * @default - OAB's default
   */
  readonly messageProcessingMode?: MessageProcessingMode;
}

export interface DiscordSection extends ChatAccessOptions {
  /** The environment variable that holds the bot token. */
  readonly botTokenVariable: string;
  /** @default - none */
  readonly allowedRoleIds?: string[];
  /** @default - OAB's default */
  readonly allowDm?: boolean;
}

export interface SlackSection extends ChatAccessOptions {
  /** The environment variable that holds the bot token (xoxb-…). */
  readonly botTokenVariable: string;
  /** The environment variable that holds the app-level token (xapp-…). */
  readonly appTokenVariable: string;
}

export interface AgentSection {
  readonly command: string;
  readonly args: string[];
  /** Names of OAB's environment variables passed through its environment clearing. */
  readonly inheritEnv: string[];
  /** Variables set for the agent command. @default - none */
  readonly env?: Readonly<Record<string, string>>;
  /** @default - OAB's default (/tmp) */
  readonly workingDir?: string;
}

export interface PoolSection {
  /** @default - OAB's default (10) */
  readonly maxSessions?: number;
  /** @default - OAB's default (4) */
  readonly sessionTtlHours?: number;
}

export interface OabConfig {
  /** @default - no [discord] table */
  readonly discord?: DiscordSection;
  /** @default - no [slack] table */
  readonly slack?: SlackSection;
  readonly agent: AgentSection;
  /** @default - no [pool] table: OAB's defaults */
  readonly pool?: PoolSection;
  /**
   * More top-level tables (`reactions`, `markdown`, `stt`, `cron`…), rendered as given.
   * @default - none
   */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- jsii has no `unknown`: free-form tables are `any` in every language
  readonly additionalSections?: Record<string, Record<string, any>>;
}

/** Sections rendered from typed values, which `additionalSections` may not replace. */
export const TYPED_SECTIONS = ['discord', 'slack', 'gateway', 'agent', 'pool'] as const;

export function renderOabConfig(config: OabConfig): string {
  const doc: Record<string, unknown> = {};
  if (config.discord) {
    const d = config.discord;
    doc.discord = compact({
      bot_token: placeholder(d.botTokenVariable),
      ...chatAccess(d),
      allowed_role_ids: d.allowedRoleIds,
      allow_dm: d.allowDm,
    });
  }
  if (config.slack) {
    const s = config.slack;
    doc.slack = compact({
      bot_token: placeholder(s.botTokenVariable),
      app_token: placeholder(s.appTokenVariable),
      ...chatAccess(s),
    });
  }
  doc.agent = compact({
    command: config.agent.command,
    args: config.agent.args,
    working_dir: config.agent.workingDir,
    env: config.agent.env && { ...config.agent.env },
    inherit_env: config.agent.inheritEnv,
  });
  if (config.pool && (config.pool.maxSessions !== undefined || config.pool.sessionTtlHours !== undefined)) {
    doc.pool = compact({ max_sessions: config.pool.maxSessions, session_ttl_hours: config.pool.sessionTtlHours });
  }
  for (const [name, section] of Object.entries(config.additionalSections ?? {})) doc[name] = section;
  return `# Rendered by openab-agentcore (OabService). Holds no secret: OAB fills the token variables from its environment.\n${stringify(doc)}`;
}

/** What is wrong with a config, each problem named by the OabService prop it came from. */
export function validateOabConfig(config: OabConfig): string[] {
  const problems: string[] = [];
  if (!config.discord && !config.slack) {
    problems.push('at least one of discord or slack must be configured (OAB needs a chat platform)');
  }
  if (config.discord) {
    const d = config.discord;
    problems.push(...validateIds('discord.allowedChannels', d.allowedChannels, DISCORD_ID));
    problems.push(...validateIds('discord.allowedUsers', d.allowedUsers, DISCORD_ID));
    problems.push(...validateIds('discord.trustedBotIds', d.trustedBotIds, DISCORD_ID));
    problems.push(...validateIds('discord.allowedRoleIds', d.allowedRoleIds, DISCORD_ID));
    problems.push(...validateAccessEnums('discord', d));
  }
  if (config.slack) {
    const s = config.slack;
    problems.push(...validateIds('slack.allowedChannels', s.allowedChannels, SLACK_ID));
    problems.push(...validateIds('slack.allowedUsers', s.allowedUsers, SLACK_ID));
    problems.push(...validateIds('slack.trustedBotIds', s.trustedBotIds, SLACK_ID));
    problems.push(...validateAccessEnums('slack', s));
  }
  const pool = config.pool ?? {};
  if (pool.maxSessions !== undefined && !Token.isUnresolved(pool.maxSessions) && !(Number.isInteger(pool.maxSessions) && pool.maxSessions >= 1 && pool.maxSessions <= 100)) {
    problems.push(`pool.maxSessions must be an integer from 1 to 100, got ${pool.maxSessions}`);
  }
  if (pool.sessionTtlHours !== undefined && !Token.isUnresolved(pool.sessionTtlHours) && !(Number.isInteger(pool.sessionTtlHours) && pool.sessionTtlHours >= 1 && pool.sessionTtlHours <= 720)) {
    problems.push(`pool.sessionTtlHours must be an integer from 1 to 720, got ${pool.sessionTtlHours}`);
  }
  for (const name of Object.keys(config.additionalSections ?? {})) {
    if ((TYPED_SECTIONS as readonly string[]).includes(name)) {
      problems.push(`additionalConfig.${name} is rendered from typed props and cannot be given in additionalConfig`);
    }
  }
  // OAB expands ${VAR} anywhere in the file: only our own placeholders may contain one.
  for (const [path, value] of strings(withoutPlaceholders(config))) problems.push(...validateNoExpansion(path, value));
  return problems;
}

const DISCORD_ID = /^\d{1,20}$/;
const SLACK_ID = /^[A-Z0-9]{1,32}$/;
const BOT_POLICIES: readonly string[] = Object.values(BotMessagePolicy);
const MODES: readonly string[] = Object.values(MessageProcessingMode);

function chatAccess(a: ChatAccessOptions): Record<string, unknown> {
  return {
    allowed_channels: a.allowedChannels,
    allowed_users: a.allowedUsers,
    allow_bot_messages: a.allowBotMessages,
    trusted_bot_ids: a.trustedBotIds,
    message_processing_mode: a.messageProcessingMode,
  };
}

function validateAccessEnums(prefix: string, a: ChatAccessOptions): string[] {
  return [
    ...validateOneOf(`${prefix}.allowBotMessages`, a.allowBotMessages, BOT_POLICIES),
    ...validateOneOf(`${prefix}.messageProcessingMode`, a.messageProcessingMode, MODES),
  ];
}

function validateIds(prop: string, ids: string[] | undefined, pattern: RegExp): string[] {
  return (ids ?? [])
    .map((id, i) => [id, i] as const)
    .filter(([id]) => !Token.isUnresolved(id) && !pattern.test(id))
    .map(([id, i]) => `${prop}[${i}] must be an id matching ${pattern}, got "${id}"`);
}

function placeholder(variable: string): string {
  return `\${${variable}}`;
}

/**
 * The user-given values: without the token-variable fields, whose rendering is the one
 * intended `${…}`, and without [agent], whose values OabService checks by prop name.
 */
function withoutPlaceholders(config: OabConfig): Record<string, unknown> {
  const strip = (o: object | undefined, keys: string[]) =>
    o ? Object.fromEntries(Object.entries(o).filter(([k]) => !keys.includes(k))) : undefined;
  return {
    discord: strip(config.discord, ['botTokenVariable']),
    slack: strip(config.slack, ['botTokenVariable', 'appTokenVariable']),
    pool: config.pool,
    additionalConfig: config.additionalSections,
  };
}

function* strings(value: unknown, path = ''): Generator<[string, string]> {
  if (typeof value === 'string') {
    yield [path, value];
  } else if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) yield* strings(value[i], `${path}[${i}]`);
  } else if (isPlainObject(value)) {
    for (const [k, v] of Object.entries(value)) {
      yield [`a key of ${path || 'the config'}`, k]; // TOML keys are in the file too
      yield* strings(v, path ? `${path}.${k}` : k);
    }
  }
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (value === null || typeof value !== 'object') return false;
  const proto: unknown = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

function compact(o: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined));
}
