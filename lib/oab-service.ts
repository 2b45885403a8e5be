import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Duration, RemovalPolicy, type Size, SizeRoundingBehavior, Stack, Token, Validations } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import { DockerImageAsset, Platform } from 'aws-cdk-lib/aws-ecr-assets';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as efs from 'aws-cdk-lib/aws-efs';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import { DEFAULT_QUALIFIER, type ICodingAgentRuntime } from './coding-agent-runtime';
import { runtimeNameFromArn } from './private/runtime-arn';
import { ECR_PULL_ACTIONS, ECR_TOKEN_ACTIONS, ECS_EXEC_ACTIONS, EFS_CLIENT_ACTIONS } from './perms';
import { acknowledgeWildcardResources } from './private/nag';
import { grantSecretKeyDecrypt } from './private/secret-key';
import { grantOnWildcardPolicy } from './private/wildcard-policy';
import { missingBridgeBundleMessage, stageOabImageContext } from './private/oab-image-context';
import { defaultBridgeBundle, oabDockerDirectory } from './private/package-paths';
import {
  BRIDGE_ENV,
  BRIDGE_INHERIT_ENV,
  BRIDGE_LOG_FIFO,
  bridgeCommand,
  OAB_HEALTH_CHECK,
  oabContainerCommand,
  RENDERED_BRIDGE_OPTIONS,
} from './render/oab-command';
import {
  type ChatAccessOptions,
  type OabConfig,
  renderOabConfig,
  validateOabConfig,
} from './render/oab-config';
import { BridgeLogLevel, type BridgeOptions, CancelStrategy } from './bridge-options';
import { DEFAULT_IDLE_DETACH_SECONDS, DEFAULT_MAX_MESSAGE_BYTES, MAX_IDLE_DETACH_SECONDS, maxMessageBytesProblem } from '../shared/contract/bridge-cli';
import { bridgePeakMiB, OAB_DEFAULT_MAX_SESSIONS, requiredTaskMemoryMiB } from './render/task-memory';
import { type MonitoringOptions, OabMonitoring, taskStartRecordPrefix, validateMonitoringOptions } from './oab-monitoring';
import {
  CANCEL_STRATEGIES,
  LOG_LEVELS,
  isSecretReference,
  throwIfInvalid,
  validateNoExpansion,
  validateOneOf,
  validateQualifier,
  validateShellCommand,
} from './validation';

/**
 * The OAB release whose `-agentcore` image supplies the OAB binary. Pin your own with
 * `openabVersion`; the tag must exist as `ghcr.io/openabdev/openab:<version>-agentcore`.
 */
export const DEFAULT_OPENAB_VERSION = '0.10.0';
/** The Node.js major version added to the OAB image for the bridge. */
export const DEFAULT_NODE_VERSION = '22';
/** OAB's state directory in its image ($HOME/.openab): thread_map.json lives here. */
export const DEFAULT_STATE_DIRECTORY = '/home/agent/.openab';
/** OAB's user in its image. */
const OAB_UID = '1000';

/** One value of a Secrets Manager secret: the whole string, or one JSON field. */
export interface SecretField {
  /**
   * Best imported by its full ARN (`Secret.fromSecretCompleteArn`): the read grant is then
   * that one secret. Imported by name, the grant is `<name>-??????` (any secret of that name
   * plus Secrets Manager's 6-character suffix).
   */
  readonly secret: secretsmanager.ISecret;
  /**
   * @default - the whole secret string
   */
  readonly field?: string;
  /**
   * The customer managed KMS key that encrypts the secret; whatever reads the secret gets
   * `kms:Decrypt` on this key only, through Secrets Manager. An imported secret does not
   * know its key, so without this a secret under a customer managed key cannot be read.
   * @default - the secret's own `encryptionKey` (none for an imported secret: the AWS managed key `aws/secretsmanager`)
   */
  readonly encryptionKey?: kms.IKey;
}

export interface DiscordOptions extends ChatAccessOptions {
  /** The bot token; reaches the container as `DISCORD_BOT_TOKEN` through ECS secrets. */
  readonly botToken: SecretField;
  /**
   * Role ids whose mention triggers the bot.
   * @default - none
   */
  readonly allowedRoleIds?: string[];
  /**
   * Answer direct messages.
   * @default - OAB's default
   */
  readonly allowDm?: boolean;
  /**
   * Let every member of every server the bot is in prompt the agent, which runs its tools
   * without asking (`--trust-all-tools`) as the runtime's execution role. Required when no
   * `allowedChannels` or `allowedUsers` is given (role ids trigger the bot, they keep no one
   * out), and only then.
   * @default false - an allowlist is required
   */
  readonly allowEveryone?: boolean;
}

export interface SlackOptions extends ChatAccessOptions {
  /** The bot token (xoxb-…); reaches the container as `SLACK_BOT_TOKEN`. */
  readonly botToken: SecretField;
  /** The app-level token (xapp-…) for Socket Mode; reaches the container as `SLACK_APP_TOKEN`. */
  readonly appToken: SecretField;
  /**
   * Let every member of the workspace prompt the agent, which runs its tools without asking
   * (`--trust-all-tools`) as the runtime's execution role. Required when no `allowedChannels`
   * or `allowedUsers` is given, and only then.
   * @default false - an allowlist is required
   */
  readonly allowEveryone?: boolean;
}

export interface PoolOptions {
  /**
   * Concurrent threads (one bridge process each); the least recently used idle one is suspended beyond this.
   * @default - OAB's default (10)
   */
  readonly maxSessions?: number;
  /**
   * Hours of inactivity after which a thread's bridge is suspended (its remote session survives).
   * @default - OAB's default (4)
   */
  readonly sessionTtlHours?: number;
}

/** Everything about OAB's service but the runtime it drives (shared with {@link OabAgentCoreProps}). */
export interface OabServiceOptions {
  /**
   * @default - no Discord (then `slack` is required)
   */
  readonly discord?: DiscordOptions;
  /**
   * @default - no Slack (then `discord` is required)
   */
  readonly slack?: SlackOptions;
  /**
   * @default - OAB's pool defaults
   */
  readonly pool?: PoolOptions;
  /**
   * @default - cancel strategy 'stop', log level 'info', endpoint 'DEFAULT'
   */
  readonly bridge?: BridgeOptions;
  /**
   * More config.toml tables (`reactions`, `markdown`, `stt`, `cron`…), rendered as given.
   * Not for secrets: the file is stored in the task definition.
   * @default - none
   */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- jsii has no `unknown`: free-form tables are `any` in every language
  readonly additionalConfig?: Record<string, Record<string, any>>;
  /**
   * @default - a new VPC: 2 AZs, public subnets only, no NAT gateway, flow logs on
   */
  readonly vpc?: ec2.IVpc;
  /**
   * @default - public subnets of the VPC created here; for a VPC you bring, its private subnets with egress if any
   */
  readonly vpcSubnets?: ec2.SubnetSelection;
  /**
   * Give the task a public IP (needed to reach Discord, Slack, ECR and AgentCore without NAT).
   * @default - true when the selected subnets are public
   */
  readonly assignPublicIp?: boolean;
  /**
   * Must have the FARGATE and FARGATE_SPOT capacity providers.
   * @default - a new cluster with Container Insights in the VPC
   */
  readonly cluster?: ecs.ICluster;
  /**
   * A prebuilt OAB image with Node.js at `node` and the bridge at /app/bridge.js.
   * @default - built by CDK from this package's oab/Dockerfile and dist/bridge.js
   */
  readonly image?: ecs.ContainerImage;
  /**
   * The OAB release whose `ghcr.io/openabdev/openab:<version>-agentcore` image supplies the OAB binary.
   * @default DEFAULT_OPENAB_VERSION
   */
  readonly openabVersion?: string;
  /**
   * Node.js major (or exact) version added for the bridge; at least 20.
   * @default '22'
   */
  readonly nodeVersion?: string;
  /**
   * The bundled bridge copied into the image.
   * @default - this package's dist/bridge.js (`npm run build`)
   */
  readonly bridgeBundlePath?: string;
  /**
   * @default 512
   */
  readonly cpu?: number;
  /**
   * The task's memory. It must hold OAB and `pool.maxSessions` bridges at their peak (each
   * holding a message of `bridge.maxMessageSize`): a smaller value is refused at synth.
   * @default - the smallest Fargate size for `cpu` that holds them (2048 with the defaults)
   */
  readonly memoryLimitMiB?: number;
  /**
   * Run on Fargate Spot (about 70% cheaper; the task is replaced after an interruption
   * and threads resume from the persisted thread map).
   * @default false
   */
  readonly fargateSpot?: boolean;
  /**
   * Allow `aws ecs execute-command` into the task (adds ssmmessages permissions).
   * @default false
   */
  readonly enableExecuteCommand?: boolean;
  /**
   * Keep OAB's thread map (`thread_map.json`) on an encrypted EFS access point so
   * threads resume their remote sessions after the task is replaced.
   * @default true
   */
  readonly persistThreadMap?: boolean;
  /**
   * OAB's state directory, where the EFS access point is mounted.
   * @default '/home/agent/.openab'
   */
  readonly stateDirectory?: string;
  /**
   * What happens to the thread map file system when it leaves the stack.
   * @default RemovalPolicy.RETAIN
   */
  readonly stateRemovalPolicy?: RemovalPolicy;
  /**
   * @default logs.RetentionDays.ONE_MONTH
   */
  readonly logRetention?: logs.RetentionDays;
  /**
   * The dashboard and alarms over the bridge's and the runtime's metrics and the OAB task.
   * @default - a dashboard, no alarms
   */
  readonly monitoring?: MonitoringOptions;
}

export interface OabServiceProps extends OabServiceOptions {
  /** The AgentCore Runtime the bridge drives; the task role gets `grantShellAccess` on it and nothing else for AgentCore. */
  readonly runtime: ICodingAgentRuntime;
}

/** Fargate's CPU units and the memory (MiB) each allows. */
const FARGATE_SIZES: Record<number, readonly number[]> = {
  256: [512, 1024, 2048],
  512: steps(1024, 4096, 1024),
  1024: steps(2048, 8192, 1024),
  2048: steps(4096, 16384, 1024),
  4096: steps(8192, 30720, 1024),
};

function steps(from: number, to: number, step: number): number[] {
  return Array.from({ length: (to - from) / step + 1 }, (_, i) => from + i * step);
}

/**
 * OAB on ECS Fargate (linux/arm64) with the bundled bridge as its agent: one task (OAB
 * holds the chat gateway connection, so two would answer twice), no inbound ports, logs
 * to CloudWatch, config.toml rendered from these props with no secret in it, and the
 * thread map on EFS so threads survive task replacement.
 */
export class OabService extends Construct {
  readonly service: ecs.FargateService;
  readonly taskDefinition: ecs.FargateTaskDefinition;
  readonly container: ecs.ContainerDefinition;
  readonly cluster: ecs.ICluster;
  readonly vpc: ec2.IVpc;
  readonly securityGroup: ec2.SecurityGroup;
  readonly logGroup: logs.LogGroup;
  /** The rendered config.toml (CloudFormation tokens where values are deploy-time). */
  readonly configToml: string;
  readonly fileSystem?: efs.FileSystem;
  readonly accessPoint?: efs.AccessPoint;
  /** The dashboard and alarms (see {@link OabServiceOptions.monitoring}). */
  readonly monitoring: OabMonitoring;

  constructor(scope: Construct, id: string, props: OabServiceProps) {
    super(scope, id);
    const bridge = {
      cancelStrategy: props.bridge?.cancelStrategy ?? CancelStrategy.STOP,
      logLevel: props.bridge?.logLevel ?? BridgeLogLevel.INFO,
      logFile: props.bridge?.logFile ?? BRIDGE_LOG_FIFO,
      qualifier: props.bridge?.qualifier ?? DEFAULT_QUALIFIER,
      idleDetachSeconds: idleDetachSeconds(props.bridge?.idleDetach, props.runtime.idleSessionTimeout),
      maxMessageBytes: maxMessageBytes(props.bridge?.maxMessageSize),
      extraArgs: props.bridge?.extraArgs,
    };
    // The chat settings pass as given; the tokens become the names of the variables ECS fills.
    const { botToken: _discordToken, allowEveryone: _discordEveryone, ...discord } = props.discord ?? ({} as DiscordOptions);
    const { botToken: _slackToken, appToken: _slackAppToken, allowEveryone: _slackEveryone, ...slack } = props.slack ?? ({} as SlackOptions);
    const config: OabConfig = {
      discord: props.discord && { ...discord, botTokenVariable: 'DISCORD_BOT_TOKEN' },
      slack: props.slack && { ...slack, botTokenVariable: 'SLACK_BOT_TOKEN', appTokenVariable: 'SLACK_APP_TOKEN' },
      agent: {
        ...bridgeCommand({ runtimeArn: props.runtime.agentRuntimeArn, shellCommand: props.runtime.shellCommand, ...bridge }),
        inheritEnv: [...BRIDGE_INHERIT_ENV],
        env: BRIDGE_ENV,
      },
      pool: props.pool,
      additionalSections: props.additionalConfig,
    };
    const bundlePath = props.bridgeBundlePath ?? defaultBridgeBundle();
    throwIfInvalid(this, [...validateOabServiceProps(props, bundlePath), ...validateOabConfig(config), ...validateMonitoringOptions(props.monitoring)]);

    this.configToml = renderOabConfig(config);
    // The config ends up in the task definition: a dynamic reference would be resolved into it in plain text.
    throwIfInvalid(this, isSecretReference(Stack.of(this).resolve(this.configToml))
      ? ['additionalConfig must not contain secret references: config.toml is stored in the task definition; chat tokens come from discord/slack secrets']
      : []);

    this.vpc = props.cluster?.vpc ?? props.vpc ?? this.createVpc(props.logRetention ?? logs.RetentionDays.ONE_MONTH);
    const vpcSubnets = props.vpcSubnets ?? (props.vpc || props.cluster ? undefined : { subnetType: ec2.SubnetType.PUBLIC });
    const assignPublicIp = props.assignPublicIp ?? this.vpc.selectSubnets(vpcSubnets).hasPublic;

    this.cluster = props.cluster ?? new ecs.Cluster(this, 'Cluster', {
      vpc: this.vpc,
      containerInsightsV2: ecs.ContainerInsights.ENABLED,
      enableFargateCapacityProviders: true,
      // ECS Exec sessions are recorded by CloudTrail (ExecuteCommand); not logging their
      // output spares the task role CloudWatch Logs permissions on "*".
      executeCommandConfiguration: { logging: ecs.ExecuteCommandLogging.NONE },
    });

    this.logGroup = new logs.LogGroup(this, 'LogGroup', { retention: props.logRetention ?? logs.RetentionDays.ONE_MONTH });
    // The Runtime dimension of the metrics: a CodingAgentRuntime knows its name; any other runtime is named by its ARN.
    const metricsRuntime = runtimeNameOf(props.runtime) ?? runtimeNameFromArn(props.runtime.agentRuntimeArn);

    this.taskDefinition = new ecs.FargateTaskDefinition(this, 'TaskDefinition', {
      cpu: props.cpu ?? 512,
      memoryLimitMiB: props.memoryLimitMiB ?? defaultMemoryMiB(props),
      runtimePlatform: { cpuArchitecture: ecs.CpuArchitecture.ARM64, operatingSystemFamily: ecs.OperatingSystemFamily.LINUX },
    });

    const secrets: Record<string, ecs.Secret> = {};
    if (props.discord) secrets.DISCORD_BOT_TOKEN = ecsSecret(props.discord.botToken);
    if (props.slack) {
      secrets.SLACK_BOT_TOKEN = ecsSecret(props.slack.botToken);
      secrets.SLACK_APP_TOKEN = ecsSecret(props.slack.appToken);
    }

    const image = props.image ?? this.buildImage(props, bundlePath);
    this.container = this.taskDefinition.addContainer('oab', {
      containerName: 'oab',
      image,
      // config.toml travels as an argument of the container command: no `environment` entry
      // (cdk-nag ECS2), no image rebuild per config change, readable in the task definition.
      // It also prints the record that counts a task start (OabTaskStarts).
      command: oabContainerCommand(this.configToml, taskStartRecordPrefix(metricsRuntime)),
      secrets,
      logging: ecs.LogDrivers.awsLogs({ streamPrefix: 'oab', logGroup: this.logGroup }),
      healthCheck: {
        // /proc instead of pgrep: needs nothing but grep, which every Debian image has.
        command: ['CMD-SHELL', OAB_HEALTH_CHECK],
        interval: Duration.seconds(30),
        timeout: Duration.seconds(5),
        retries: 3,
        startPeriod: Duration.seconds(30),
      },
      // OAB saves thread_map.json on SIGTERM; give it time.
      stopTimeout: Duration.seconds(30),
    });

    // ECS reads the chat secrets with the execution role when it starts the task.
    grantSecretKeyDecrypt(this, this.taskDefinition.obtainExecutionRole(),
      [props.discord?.botToken, props.slack?.botToken, props.slack?.appToken].map((f) => f?.encryptionKey));
    props.runtime.grantShellAccess(this.taskDefinition.taskRole, { qualifiers: [bridge.qualifier] });

    this.securityGroup = new ec2.SecurityGroup(this, 'SecurityGroup', {
      vpc: this.vpc,
      description: 'OAB: no inbound; outbound HTTPS to Discord/Slack, ECR, Secrets Manager and AgentCore',
      allowAllOutbound: false,
    });
    this.securityGroup.addEgressRule(ec2.Peer.anyIpv4(), ec2.Port.tcp(443), 'HTTPS to chat platforms and AWS APIs');

    this.service = new ecs.FargateService(this, 'Service', {
      cluster: this.cluster,
      taskDefinition: this.taskDefinition,
      // One OAB per bot token: a second task would hold a second gateway connection and answer twice.
      desiredCount: 1,
      minHealthyPercent: 0,
      maxHealthyPercent: 100,
      circuitBreaker: { enable: true, rollback: true },
      vpcSubnets,
      assignPublicIp,
      securityGroups: [this.securityGroup],
      platformVersion: ecs.FargatePlatformVersion.VERSION1_4,
      // Always a strategy (never a launch type), so turning Spot on or off updates the service in place.
      capacityProviderStrategies: props.fargateSpot
        ? [{ capacityProvider: 'FARGATE_SPOT', weight: 1 }, { capacityProvider: 'FARGATE', weight: 0 }]
        : [{ capacityProvider: 'FARGATE', weight: 1 }],
      // aws-cdk-lib would add the ssmmessages statements to the task role's default policy;
      // with our own cluster (exec logging off) they go in a policy of their own instead.
      enableExecuteCommand: props.enableExecuteCommand === true && props.cluster !== undefined,
      propagateTags: ecs.PropagatedTagSource.SERVICE,
      enableECSManagedTags: true,
    });

    if (props.enableExecuteCommand && !props.cluster) {
      (this.service.node.defaultChild as ecs.CfnService).enableExecuteCommand = true;
      grantOnWildcardPolicy(this.taskDefinition, 'EcsExecPolicy', this.taskDefinition.taskRole, ECS_EXEC_ACTIONS,
        'ECS Exec: ssmmessages:CreateControlChannel/CreateDataChannel/OpenControlChannel/OpenDataChannel support no resource-level permissions.')
        .applyBefore(this.service);
    }
    // The tasks must be able to log in to ECR before the service starts them.
    if (image instanceof OwnLoginPolicyAssetImage) image.login?.applyBefore(this.service);

    if (props.persistThreadMap ?? true) {
      const { fileSystem, accessPoint } = this.persistState(props, vpcSubnets);
      this.fileSystem = fileSystem;
      this.accessPoint = accessPoint;
    }
    this.monitoring = new OabMonitoring(this, 'Monitoring', {
      ...props.monitoring,
      service: this.service,
      logGroup: this.logGroup,
      qualifier: bridge.qualifier,
      runtimeArn: props.runtime.agentRuntimeArn,
      runtimeName: metricsRuntime,
    });
    this.acknowledgeFindings(props);
  }

  private createVpc(retention: logs.RetentionDays): ec2.Vpc {
    const flowLogGroup = new logs.LogGroup(this, 'FlowLogGroup', { retention });
    return new ec2.Vpc(this, 'Vpc', {
      maxAzs: 2,
      natGateways: 0,
      subnetConfiguration: [{ name: 'public', subnetType: ec2.SubnetType.PUBLIC, cidrMask: 24 }],
      flowLogs: { all: { destination: ec2.FlowLogDestination.toCloudWatchLogs(flowLogGroup), trafficType: ec2.FlowLogTrafficType.ALL } },
      restrictDefaultSecurityGroup: true,
    });
  }

  private buildImage(props: OabServiceProps, bundlePath: string): OwnLoginPolicyAssetImage {
    const context = stageOabImageContext(join(oabDockerDirectory(), 'Dockerfile'), bundlePath);
    const asset = new DockerImageAsset(this, 'Image', {
      directory: context,
      platform: Platform.LINUX_ARM64,
      buildArgs: {
        OPENAB_VERSION: props.openabVersion ?? DEFAULT_OPENAB_VERSION,
        NODE_VERSION: props.nodeVersion ?? DEFAULT_NODE_VERSION,
      },
      displayName: 'OAB with the openab-agentcore bridge (linux/arm64)',
    });
    return new OwnLoginPolicyAssetImage(asset, this);
  }

  /** An encrypted EFS access point at OAB's state directory, IAM-authorized, reachable only from this service. */
  private persistState(props: OabServiceProps, vpcSubnets: ec2.SubnetSelection | undefined) {
    const fsSecurityGroup = new ec2.SecurityGroup(this, 'StateSecurityGroup', {
      vpc: this.vpc,
      description: 'OAB thread map file system: NFS from the OAB service only',
      allowAllOutbound: false,
    });
    const fileSystem = new efs.FileSystem(this, 'StateFileSystem', {
      vpc: this.vpc,
      vpcSubnets,
      securityGroup: fsSecurityGroup,
      encrypted: true,
      removalPolicy: props.stateRemovalPolicy ?? RemovalPolicy.RETAIN,
      // Exactly this policy. (With allowAnonymousAccess false, aws-cdk-lib would append an
      // Allow for any principal that mounts through a mount target.) A file system policy
      // that allows nothing leaves access to the task role's identity policy; anonymous,
      // non-TLS and non-access-point mounts are refused.
      allowAnonymousAccess: true,
      fileSystemPolicy: new iam.PolicyDocument({
        statements: [
          new iam.PolicyStatement({
            sid: 'DenyWithoutTls',
            effect: iam.Effect.DENY,
            principals: [new iam.AnyPrincipal()],
            actions: ['*'],
            conditions: { Bool: { 'aws:SecureTransport': 'false' } },
          }),
          new iam.PolicyStatement({
            sid: 'DenyWithoutAccessPoint',
            effect: iam.Effect.DENY,
            principals: [new iam.AnyPrincipal()],
            actions: ['*'],
            conditions: { Null: { 'elasticfilesystem:AccessPointArn': 'true' } },
          }),
        ],
      }),
    });
    const accessPoint = fileSystem.addAccessPoint('StateAccessPoint', {
      path: '/openab',
      posixUser: { uid: OAB_UID, gid: OAB_UID },
      createAcl: { ownerUid: OAB_UID, ownerGid: OAB_UID, permissions: '750' },
    });
    fileSystem.connections.allowDefaultPortFrom(this.service, 'NFS from the OAB service');

    this.taskDefinition.taskRole.addToPrincipalPolicy(new iam.PolicyStatement({
      sid: 'ThreadMapFileSystem',
      actions: [...EFS_CLIENT_ACTIONS],
      resources: [fileSystem.fileSystemArn],
      conditions: { StringEquals: { 'elasticfilesystem:AccessPointArn': accessPoint.accessPointArn } },
    }));
    this.taskDefinition.addVolume({
      name: 'openab-state',
      efsVolumeConfiguration: {
        fileSystemId: fileSystem.fileSystemId,
        transitEncryption: 'ENABLED',
        authorizationConfig: { accessPointId: accessPoint.accessPointId, iam: 'ENABLED' },
      },
    });
    this.container.addMountPoints({ sourceVolume: 'openab-state', containerPath: props.stateDirectory ?? DEFAULT_STATE_DIRECTORY, readOnly: false });
    this.service.node.addDependency(fileSystem.mountTargetsAvailable);
    return { fileSystem, accessPoint };
  }

  private acknowledgeFindings(props: OabServiceProps): void {
    Validations.of(this.taskDefinition).acknowledge({
      id: 'CloudFormation-Validate::E1029',
      reason: 'The ${DISCORD_BOT_TOKEN}-style placeholders in the container command are OAB\'s own config expansion, filled from ECS secrets at run time, not CloudFormation substitutions.',
    });
    // An image you bring from ECR gets aws-cdk-lib's pull grant, ECR login included, in the
    // execution role's default policy; the image built here has its login in a policy of its own.
    const executionRole = this.taskDefinition.executionRole;
    if (executionRole && (props.image instanceof ecs.EcrImage || props.image instanceof ecs.AssetImage)) {
      acknowledgeWildcardResources(executionRole, ['*'],
        'ecr:GetAuthorizationToken (ECR login, to pull the OAB image) supports no resource-level permissions and must use Resource "*".');
    }
    if (props.enableExecuteCommand && props.cluster) {
      acknowledgeWildcardResources(this.taskDefinition.taskRole, ['*'],
        'ECS Exec on a cluster you bring: aws-cdk-lib adds ssmmessages:CreateControlChannel/CreateDataChannel/OpenControlChannel/OpenDataChannel (no resource-level permissions) and the cluster\'s exec logging statements to the task role.');
    }
  }
}

/**
 * The OAB image built here, pulled by the task's execution role: pull on the asset's
 * repository, and the ECR login in an inline policy of its own (see grantOnWildcardPolicy).
 */
class OwnLoginPolicyAssetImage extends ecs.ContainerImage {
  /** The ECR login, once the image is bound to the task definition. */
  login?: iam.Grant;

  constructor(private readonly asset: DockerImageAsset, private readonly owner: Construct) {
    super();
  }

  bind(_scope: Construct, containerDefinition: ecs.ContainerDefinition): ecs.ContainerImageConfig {
    const role = containerDefinition.taskDefinition.obtainExecutionRole();
    role.addToPrincipalPolicy(new iam.PolicyStatement({ actions: [...ECR_PULL_ACTIONS], resources: [this.asset.repository.repositoryArn] }));
    this.login = grantOnWildcardPolicy(this.owner, 'EcrLoginPolicy', role, ECR_TOKEN_ACTIONS,
      'ecr:GetAuthorizationToken (ECR login, to pull the OAB image) supports no resource-level permissions and must use Resource "*"; the pull itself is limited to the image\'s repository.');
    return { imageName: this.asset.imageUri };
  }
}

/** The access settings only: the secrets stay out of the rendered file. */
function ecsSecret(s: SecretField): ecs.Secret {
  return ecs.Secret.fromSecretsManager(s.secret, s.field);
}

export function validateOabServiceProps(props: OabServiceProps, bundlePath: string): string[] {
  const problems: string[] = [];
  const b = props.bridge ?? {};
  problems.push(...validateOneOf('bridge.cancelStrategy', b.cancelStrategy, CANCEL_STRATEGIES));
  problems.push(...validateOneOf('bridge.logLevel', b.logLevel, LOG_LEVELS));
  problems.push(...validateQualifier('bridge.qualifier', b.qualifier));
  if (b.logFile !== undefined && !Token.isUnresolved(b.logFile) && !/^\/[^\s$]*$/.test(b.logFile)) {
    problems.push(`bridge.logFile must be an absolute path without spaces or "$", got "${b.logFile}"`);
  }
  problems.push(...validateIdleDetach(b.idleDetach, props.runtime.idleSessionTimeout));
  if (b.maxMessageSize !== undefined && !b.maxMessageSize.isUnresolved()) {
    const bytes = b.maxMessageSize.toBytes({ rounding: SizeRoundingBehavior.NONE });
    const problem = maxMessageBytesProblem(bytes, 'bridge.maxMessageSize');
    if (problem) problems.push(problem.replace(/got .*$/, `got ${bytes} bytes`));
  }
  (b.extraArgs ?? []).forEach((arg, i) => {
    if (Token.isUnresolved(arg)) return;
    // eslint-disable-next-line no-control-regex
    if (/[\x00-\x1f\x7f]/.test(arg)) problems.push(`bridge.extraArgs[${i}] must not contain newlines or control characters, got ${JSON.stringify(arg)}`);
    problems.push(...validateNoExpansion(`bridge.extraArgs[${i}]`, arg));
    const option = arg.split('=', 1)[0];
    const prop = option.startsWith('--') ? (RENDERED_BRIDGE_OPTIONS[option] as string | undefined) : undefined;
    if (prop) {
      problems.push(`bridge.extraArgs[${i}] sets ${option}, which OabService renders from ${prop}; set ${prop} instead, got "${arg}"`);
    }
  });
  if (props.discord) {
    // Role ids are not an allowlist: they make a role's mention trigger the bot, they do not keep anyone out.
    problems.push(...validateAllowlist('discord', props.discord, ['allowedChannels', 'allowedUsers'],
      'every member of every server the bot is in'));
  }
  if (props.slack) {
    problems.push(...validateAllowlist('slack', props.slack, ['allowedChannels', 'allowedUsers'], 'every member of the workspace'));
  }
  const shell = props.runtime.shellCommand;
  problems.push(...validateShellCommand('runtime.shellCommand', shell));
  problems.push(...validateNoExpansion('runtime.shellCommand', shell));

  if (props.vpc && props.cluster) problems.push('vpc cannot be combined with cluster (the cluster\'s VPC is used)');
  if (props.image) {
    for (const k of ['openabVersion', 'nodeVersion', 'bridgeBundlePath'] as const) {
      if (props[k] !== undefined) problems.push(`${k} cannot be combined with image (it only applies to the image built here)`);
    }
  } else if (!existsSync(bundlePath)) {
    problems.push(missingBridgeBundleMessage(bundlePath));
  }
  if (props.openabVersion !== undefined && !/^\d+\.\d+\.\d+(-[0-9A-Za-z.]+)?$/.test(props.openabVersion)) {
    problems.push(`openabVersion must be an OAB release such as "0.10.0" (the image tag is <version>-agentcore), got "${props.openabVersion}"`);
  }
  if (props.nodeVersion !== undefined) {
    const m = /^(\d+)(\.\d+){0,2}$/.exec(props.nodeVersion);
    if (!m || Number(m[1]) < 20) problems.push(`nodeVersion must be a Node.js version of at least 20, such as "22", got "${props.nodeVersion}"`);
  }

  const cpu = props.cpu ?? 512;
  const size = FARGATE_SIZES[cpu];
  const needed = neededMemoryMiB(props);
  if (!size) {
    problems.push(`cpu must be one of ${Object.keys(FARGATE_SIZES).join(', ')} (Fargate CPU units), got ${cpu}`);
  } else if (props.memoryLimitMiB === undefined) {
    if (needed > size[size.length - 1]) {
      problems.push(`cpu ${cpu} allows at most ${size[size.length - 1]} MiB, and the task needs ${needed} MiB (${memoryBreakdown(props)}): choose a larger cpu, fewer pool.maxSessions or a smaller bridge.maxMessageSize`);
    }
  } else if (!size.includes(props.memoryLimitMiB)) {
    const allowed = size.length <= 4 ? `one of ${size.join(', ')}` : `from ${size[0]} to ${size[size.length - 1]} in steps of ${size[1] - size[0]}`;
    problems.push(`memoryLimitMiB must be ${allowed} for cpu ${cpu} (Fargate), got ${props.memoryLimitMiB}`);
  } else if (props.memoryLimitMiB < needed) {
    problems.push(`memoryLimitMiB (${props.memoryLimitMiB}) cannot hold ${memoryBreakdown(props)}: ${needed} MiB at least; raise it, or lower pool.maxSessions or bridge.maxMessageSize`);
  }

  if (props.persistThreadMap === false) {
    if (props.stateDirectory !== undefined) problems.push('stateDirectory has no effect when persistThreadMap is false');
    if (props.stateRemovalPolicy !== undefined) problems.push('stateRemovalPolicy has no effect when persistThreadMap is false');
  }
  if (props.stateDirectory !== undefined && !/^\/[A-Za-z0-9._/-]+$/.test(props.stateDirectory)) {
    problems.push(`stateDirectory must be an absolute path below / of letters, digits, ".", "_", "-" and "/", got "${props.stateDirectory}"`);
  }
  return problems;
}

/**
 * Whoever can prompt the agent can use its tools, so answering everyone must be said, not
 * defaulted to. An empty list does not count as an allowlist (OAB may read it as "no
 * restriction"); an unresolved token does.
 */
function validateAllowlist<K extends string>(
  platform: string,
  options: Partial<Record<K, string[]>> & { readonly allowEveryone?: boolean },
  lists: readonly K[],
  everyone: string,
): string[] {
  const given = lists.filter((k) => {
    const list = options[k];
    return list !== undefined && (Token.isUnresolved(list) || list.length > 0);
  });
  const named = lists.map((k) => `${platform}.${k}`);
  const listed = `${named.slice(0, -1).join(', ')} or ${named[named.length - 1]}`;
  if (options.allowEveryone === true && given.length > 0) {
    return [`${platform}.allowEveryone cannot be combined with ${given.map((k) => `${platform}.${k}`).join(', ')} (the allowlist already decides who may prompt the agent)`];
  }
  if (options.allowEveryone !== true && given.length === 0) {
    return [
      `${platform}: set ${listed}, or ${platform}.allowEveryone: true to let ${everyone} prompt the agent, ` +
        'which runs its tools without asking as the runtime\'s execution role',
    ];
  }
  return [];
}

/** The bridge's `--max-message-bytes`: as given, or the bridge's own default. */
function maxMessageBytes(given: Size | undefined): number {
  return given === undefined || given.isUnresolved() ? DEFAULT_MAX_MESSAGE_BYTES : given.toBytes({ rounding: SizeRoundingBehavior.NONE });
}

function maxSessionsOf(props: OabServiceProps): number {
  const n = props.pool?.maxSessions;
  return n === undefined || Token.isUnresolved(n) ? OAB_DEFAULT_MAX_SESSIONS : n;
}

/** What the task must hold at once: OAB and every session's bridge at its peak. */
function neededMemoryMiB(props: OabServiceProps): number {
  return requiredTaskMemoryMiB(maxSessionsOf(props), maxMessageBytes(props.bridge?.maxMessageSize));
}

function memoryBreakdown(props: OabServiceProps): string {
  const bytes = maxMessageBytes(props.bridge?.maxMessageSize);
  return `OAB and ${maxSessionsOf(props)} bridges (pool.maxSessions) at ${bridgePeakMiB(bytes)} MiB each with bridge.maxMessageSize ${bytes} bytes`;
}

/** The smallest Fargate memory for the task's cpu that holds what it needs. */
function defaultMemoryMiB(props: OabServiceProps): number {
  const sizes = FARGATE_SIZES[props.cpu ?? 512] ?? [];
  const needed = neededMemoryMiB(props);
  return sizes.find((m) => m >= needed) ?? sizes[sizes.length - 1];
}

/**
 * The bridge's `--idle-detach`: as given, or half the runtime's idle session timeout, at
 * most {@link DEFAULT_IDLE_DETACH_SECONDS} (the bridge's own default for a runtime that does
 * not say). Letting go early costs a reattach of a few hundred milliseconds on the next
 * message; letting go late keeps an idle microVM alive longer.
 */
function idleDetachSeconds(given: Duration | undefined, idleTimeout: Duration | undefined): number {
  if (given !== undefined && !given.isUnresolved()) return Math.round(given.toSeconds({ integral: false }));
  if (idleTimeout === undefined || idleTimeout.isUnresolved()) return DEFAULT_IDLE_DETACH_SECONDS;
  return Math.min(DEFAULT_IDLE_DETACH_SECONDS, Math.floor(idleTimeout.toSeconds() / 2));
}

function validateIdleDetach(given: Duration | undefined, idleTimeout: Duration | undefined): string[] {
  if (given === undefined || given.isUnresolved()) return [];
  const seconds = given.toSeconds({ integral: false });
  if (!Number.isInteger(seconds) || seconds < 0 || seconds > MAX_IDLE_DETACH_SECONDS) {
    return [`bridge.idleDetach must be whole seconds from 0 to ${MAX_IDLE_DETACH_SECONDS}, got ${seconds} s`];
  }
  if (seconds > 0 && idleTimeout !== undefined && !idleTimeout.isUnresolved() && seconds >= idleTimeout.toSeconds()) {
    return [
      `bridge.idleDetach (${seconds} s) must be shorter than the runtime's idleSessionTimeout (${idleTimeout.toSeconds()} s): ` +
        'a bridge still attached when the session idles out ends the thread\'s agent with an error',
    ];
  }
  return [];
}

function runtimeNameOf(runtime: ICodingAgentRuntime): string | undefined {
  const name = (runtime as { agentRuntimeName?: unknown }).agentRuntimeName;
  return typeof name === 'string' ? name : undefined;
}
