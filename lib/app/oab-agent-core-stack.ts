import { Duration, RemovalPolicy, Size, Stack, type StackProps, Tags } from 'aws-cdk-lib';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as sns from 'aws-cdk-lib/aws-sns';
import type { Construct } from 'constructs';
import { AgentRuntimeImage } from '../agent-runtime-image';
import { BedrockModel, type BedrockModelAccess } from '../bedrock-model-access';
import { CodingAgent } from '../coding-agent';
import { OabAgentCore } from '../oab-agent-core';
import { type BedrockModelSetting, type BedrockSettings, botsOf, hasAllowlist, type StageSettings } from './stage-settings';

export interface OabAgentCoreStackProps extends StackProps {
  /** The environment's name (dev, staging, prod…); tagged on every resource. */
  readonly stage: string;
  readonly settings: StageSettings;
}

/**
 * One environment of the example app: OabAgentCore configured from a cdk.json stage, or one
 * per bot when the stage lists `bots` (each with its own runtime, service and chat token).
 */
export class OabAgentCoreStack extends Stack {
  /** The stage's one bot, when the stage lists no `bots`. */
  readonly oabAgentCore?: OabAgentCore;
  /** Every bot of the stage, by name (`default` for a stage without `bots`). */
  readonly bots: Record<string, OabAgentCore> = {};

  constructor(scope: Construct, id: string, props: OabAgentCoreStackProps) {
    super(scope, id, props);
    const s = props.settings;
    const encryptionKey = s.secretsKmsKeyArn ? kms.Key.fromKeyArn(this, 'SecretsKey', s.secretsKmsKeyArn) : undefined;
    const alarmTopic = s.alarmTopicArn ? sns.Topic.fromTopicArn(this, 'AlarmTopic', s.alarmTopicArn) : undefined;
    for (const bot of botsOf(s)) {
      // A stage without bots keeps the ids it always had; a bot's constructs are named after it.
      const core = this.bot(bot.name ? `Bot${pascal(bot.name)}` : '', bot.settings, encryptionKey, alarmTopic);
      this.bots[bot.name ?? 'default'] = core;
      if (!bot.name) this.oabAgentCore = core;
    }

    Tags.of(this).add('openab-agentcore:stage', props.stage);
    for (const [k, v] of Object.entries(s.tags ?? {})) Tags.of(this).add(k, v);
  }

  private bot(prefix: string, s: StageSettings, encryptionKey: kms.IKey | undefined, alarmTopic: sns.ITopic | undefined): OabAgentCore {
    // A full ARN is used exactly (parseStages refused a partial one); a name is granted as <name>-??????.
    const secret = (name: string, ref: string) =>
      ref.startsWith('arn:')
        ? secretsmanager.Secret.fromSecretCompleteArn(this, `${prefix}${name}`, ref)
        : secretsmanager.Secret.fromSecretNameV2(this, `${prefix}${name}`, ref);

    // The stage's allowEveryone opens only a platform without an allowlist (parseStages checked it).
    const allowEveryone = (platform: 'discordSecret' | 'slackSecret') =>
      s.allowEveryone === true && !hasAllowlist({ ...s }, platform) ? true : undefined;
    const slackSecret = s.slackSecret ? secret('SlackSecret', s.slackSecret) : undefined;
    const agent = s.agent ? CodingAgent.fromId(s.agent) : undefined;
    // Settings pass as given: one that does not fit (a runtime option beside runtimeArn, say) is
    // reported by the constructs, naming it, rather than dropped here.
    return new OabAgentCore(this, prefix || 'OabAgentCore', {
      agent,
      bedrock: s.bedrock ? bedrockAccess(s.bedrock) : undefined,
      runtimeArn: s.runtimeArn,
      runtimeImage: s.runtimeBuildArgs ? new AgentRuntimeImage(this, `${prefix}RuntimeImage`, { agent, buildArgs: s.runtimeBuildArgs }) : undefined,
      runtimeOptions: {
        runtimeName: s.runtimeName,
        shellCommand: s.shellCommand,
        idleSessionTimeout: s.idleSessionTimeoutMinutes !== undefined ? Duration.minutes(s.idleSessionTimeoutMinutes) : undefined,
        maxLifetime: s.maxLifetimeHours !== undefined ? Duration.hours(s.maxLifetimeHours) : undefined,
      },
      apiKeySecret: s.apiKeySecret ? { secret: secret('ApiKeySecret', s.apiKeySecret), field: s.apiKeyJsonField, encryptionKey } : undefined,
      discord: s.discordSecret
        ? {
          botToken: { secret: secret('DiscordSecret', s.discordSecret), field: 'botToken', encryptionKey },
          allowedChannels: s.discordAllowedChannels,
          allowedUsers: s.discordAllowedUsers,
          allowEveryone: allowEveryone('discordSecret'),
        }
        : undefined,
      slack: slackSecret
        ? {
          botToken: { secret: slackSecret, field: 'botToken', encryptionKey },
          appToken: { secret: slackSecret, field: 'appToken', encryptionKey },
          allowedChannels: s.slackAllowedChannels,
          allowedUsers: s.slackAllowedUsers,
          allowEveryone: allowEveryone('slackSecret'),
        }
        : undefined,
      pool: { maxSessions: s.maxSessions, sessionTtlHours: s.sessionTtlHours },
      fargateSpot: s.fargateSpot,
      enableExecuteCommand: s.enableExecuteCommand,
      persistThreadMap: s.persistThreadMap,
      stateRemovalPolicy: s.retainState === undefined ? undefined : s.retainState ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY,
      logRetention: s.logRetentionDays,
      monitoring: { dashboard: s.dashboard, alarms: s.alarms, alarmTopic },
      cpu: s.cpu,
      memoryLimitMiB: s.memoryLimitMiB,
      bridge: s.maxMessageMiB === undefined ? undefined : { maxMessageSize: Size.mebibytes(s.maxMessageMiB) },
      openabVersion: s.openabVersion,
    });
  }
}

/** A stage's `bedrock` setting as the constructs take it: a string id is a foundation model when it names one. */
function bedrockAccess(b: BedrockSettings): BedrockModelAccess {
  const model = (m: BedrockModelSetting) =>
    /^anthropic\.|:foundation-model\//.test(m.id) ? BedrockModel.foundationModel(m.id) : BedrockModel.inferenceProfile(m.id, m.destinationRegions);
  const models = b.models.map(model);
  return { models, smallFastModel: b.smallFastModel === undefined ? undefined : models.find((m) => m.modelId === b.smallFastModel) ?? BedrockModel.foundationModel(b.smallFastModel) };
}

function pascal(name: string): string {
  return name.charAt(0).toUpperCase() + name.slice(1);
}
