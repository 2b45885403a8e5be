import { Duration, RemovalPolicy, Size, Stack, type StackProps, Tags } from 'aws-cdk-lib';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as sns from 'aws-cdk-lib/aws-sns';
import type { Construct } from 'constructs';
import { AgentRuntimeImage } from '../agent-runtime-image';
import { OabAgentCore } from '../oab-agent-core';
import { hasAllowlist, type StageSettings } from './stage-settings';

export interface OabAgentCoreStackProps extends StackProps {
  /** The environment's name (dev, staging, prod…); tagged on every resource. */
  readonly stage: string;
  readonly settings: StageSettings;
}

/** One environment of the example app: OabAgentCore configured from a cdk.json stage. */
export class OabAgentCoreStack extends Stack {
  readonly oabAgentCore: OabAgentCore;

  constructor(scope: Construct, id: string, props: OabAgentCoreStackProps) {
    super(scope, id, props);
    const s = props.settings;
    // A full ARN is used exactly (parseStages refused a partial one); a name is granted as <name>-??????.
    const secret = (name: string, ref: string) =>
      ref.startsWith('arn:')
        ? secretsmanager.Secret.fromSecretCompleteArn(this, name, ref)
        : secretsmanager.Secret.fromSecretNameV2(this, name, ref);
    const encryptionKey = s.secretsKmsKeyArn ? kms.Key.fromKeyArn(this, 'SecretsKey', s.secretsKmsKeyArn) : undefined;

    // The stage's allowEveryone opens only a platform without an allowlist (parseStages checked it).
    const allowEveryone = (platform: 'discordSecret' | 'slackSecret') =>
      s.allowEveryone === true && !hasAllowlist({ ...s }, platform) ? true : undefined;
    const slackSecret = s.slackSecret ? secret('SlackSecret', s.slackSecret) : undefined;
    // Settings pass as given: one that does not fit (a runtime option beside runtimeArn, say) is
    // reported by the constructs, naming it, rather than dropped here.
    this.oabAgentCore = new OabAgentCore(this, 'OabAgentCore', {
      runtimeArn: s.runtimeArn,
      runtimeImage: s.runtimeBuildArgs ? new AgentRuntimeImage(this, 'RuntimeImage', { buildArgs: s.runtimeBuildArgs }) : undefined,
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
      monitoring: {
        dashboard: s.dashboard,
        alarms: s.alarms,
        alarmTopic: s.alarmTopicArn ? sns.Topic.fromTopicArn(this, 'AlarmTopic', s.alarmTopicArn) : undefined,
      },
      cpu: s.cpu,
      memoryLimitMiB: s.memoryLimitMiB,
      bridge: s.maxMessageMiB === undefined ? undefined : { maxMessageSize: Size.mebibytes(s.maxMessageMiB) },
      openabVersion: s.openabVersion,
    });

    Tags.of(this).add('openab-agentcore:stage', props.stage);
    for (const [k, v] of Object.entries(s.tags ?? {})) Tags.of(this).add(k, v);
  }
}
