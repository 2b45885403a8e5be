import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Duration, RemovalPolicy, SecretValue, Size } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as iam from 'aws-cdk-lib/aws-iam';
import { AwsSolutionsChecks } from 'cdk-nag';
import { parse } from 'smol-toml';
import { parseBridgeArgs } from '../../bridge/src/args';
import { RENDERED_BRIDGE_OPTIONS } from '../../lib/render/oab-command';
import { BridgeLogLevel, CancelStrategy, CodingAgentRuntime, DEFAULT_NODE_VERSION, DEFAULT_OPENAB_VERSION, OabService, type OabServiceProps } from '../../lib';
import {
  actionsOf,
  dockerAssets,
  flattenCfn,
  importedRuntime,
  logicalIdOf,
  newStack,
  resourcesOf,
  ROOT,
  RUNTIME_ARN,
  secretNamed,
  statementsOfRole,
  synth,
} from './support';

type Extra = Partial<OabServiceProps> & { shellCommand?: string; allowedChannels?: string[] };

function oab(extra: Extra = {}) {
  const stack = newStack();
  const { shellCommand, allowedChannels = ['123456789012345678'], ...props } = extra;
  const service = new OabService(stack, 'Oab', {
    runtime: importedRuntime(stack, shellCommand),
    discord: { botToken: { secret: secretNamed(stack, 'openab/discord'), field: 'botToken' }, allowedChannels },
    ...props,
  });
  return { stack, service };
}

function oabTemplate(extra: Extra = {}) {
  const { stack, service } = oab(extra);
  return { stack, service, template: Template.fromStack(stack) };
}

function containerDefinition(template: Template): Record<string, unknown> & { Command: unknown[] } {
  const [taskDefinition] = Object.values(template.findResources('AWS::ECS::TaskDefinition'));
  return taskDefinition.Properties.ContainerDefinitions[0];
}

/** config.toml as the container receives it: the command's argument, deploy-time values as <GetAtt:…>. */
function renderedConfig(template: Template): Record<string, any> {
  return parse(flattenCfn(containerDefinition(template).Command[4]));
}

describe('OabService', () => {
  test('runs one ARM64 Fargate task with no inbound port, never two at once', () => {
    const { template } = oabTemplate();
    template.hasResourceProperties('AWS::ECS::TaskDefinition', {
      RuntimePlatform: { CpuArchitecture: 'ARM64', OperatingSystemFamily: 'LINUX' },
      RequiresCompatibilities: ['FARGATE'],
      Cpu: '512',
      // Ten bridges (OAB's default pool) at their peak with 16 MiB messages, and OAB: more than 1 GiB.
      Memory: '2048',
    });
    template.hasResourceProperties('AWS::ECS::Service', {
      DesiredCount: 1,
      DeploymentConfiguration: Match.objectLike({ MinimumHealthyPercent: 0, MaximumPercent: 100 }),
      LoadBalancers: Match.absent(),
      CapacityProviderStrategy: [{ CapacityProvider: 'FARGATE', Weight: 1 }],
      NetworkConfiguration: { AwsvpcConfiguration: Match.objectLike({ AssignPublicIp: 'ENABLED' }) },
    });
    template.resourceCountIs('AWS::ElasticLoadBalancingV2::LoadBalancer', 0);
    const securityGroupId = logicalIdOf(template, 'AWS::EC2::SecurityGroup', 'OabSecurityGroup');
    template.resourcePropertiesCountIs('AWS::EC2::SecurityGroupIngress', { GroupId: { 'Fn::GetAtt': [securityGroupId, 'GroupId'] } }, 0);
    template.hasResourceProperties('AWS::EC2::SecurityGroup', {
      SecurityGroupIngress: Match.absent(),
      SecurityGroupEgress: [{ CidrIp: '0.0.0.0/0', IpProtocol: 'tcp', FromPort: 443, ToPort: 443, Description: Match.anyValue() }],
    });
  });

  test('the container command writes config.toml and runs OAB, whose agent is the bundled bridge for this runtime', () => {
    const { template } = oabTemplate();
    const command = containerDefinition(template).Command;
    expect(command.slice(0, 2)).toEqual(['/bin/sh', '-c']);
    expect(command[2]).toMatch(/exec openab run -c \/tmp\/openab\/config\.toml$/);
    const config = renderedConfig(template);
    expect(config.agent.command).toBe('node');
    expect(config.agent.args).toEqual([
      '--expose-gc', '--max-semi-space-size=1',
      '/app/bridge.js', '--runtime-arn', RUNTIME_ARN, '--qualifier', 'DEFAULT',
      '--shell-command', 'kiro-cli acp --trust-all-tools', '--cancel-strategy', 'stop',
      '--log-level', 'info', '--log-file', '/tmp/openab/bridge-log.fifo', '--idle-detach', '120',
      '--max-message-bytes', '16777216',
    ]);
    expect(config.agent.inherit_env).toEqual(['AWS_CONTAINER_CREDENTIALS_RELATIVE_URI', 'AWS_REGION', 'AWS_DEFAULT_REGION']);
    expect(config.agent.env).toEqual({ MALLOC_MMAP_THRESHOLD_: '65536' });
    expect(config.discord).toEqual({ bot_token: '${DISCORD_BOT_TOKEN}', allowed_channels: ['123456789012345678'] });
  });

  test('a runtime created in the same stack reaches the config as its deploy-time ARN', () => {
    const stack = newStack();
    const runtime = new CodingAgentRuntime(stack, 'Runtime', { shellCommand: 'claude-code-acp' });
    new OabService(stack, 'Oab', { runtime, slack: { botToken: { secret: secretNamed(stack, 's'), field: 'bot' }, appToken: { secret: secretNamed(stack, 's2'), field: 'app' }, allowEveryone: true } });
    const template = Template.fromStack(stack);
    const config = renderedConfig(template);
    const runtimeId = logicalIdOf(template, 'AWS::BedrockAgentCore::Runtime');
    expect(config.agent.args.slice(3, 5)).toEqual(['--runtime-arn', `<GetAtt:${runtimeId}.AgentRuntimeArn>`]);
    expect(config.agent.args).toContain('claude-code-acp');
    // allowEveryone is a synth-time decision, not an OAB setting.
    expect(config.slack).toEqual({ bot_token: '${SLACK_BOT_TOKEN}', app_token: '${SLACK_APP_TOKEN}' });
  });

  test('chat tokens arrive as ECS secrets; the container has no plain environment and the template no secret value', () => {
    const { template } = oabTemplate();
    const container = containerDefinition(template);
    expect(container.Environment).toBeUndefined();
    expect(container.Secrets).toEqual([expect.objectContaining({ Name: 'DISCORD_BOT_TOKEN' })]);
    expect(flattenCfn((container.Secrets as { ValueFrom: unknown }[])[0].ValueFrom)).toMatch(/:secret:openab\/discord:botToken::$/);
    expect(JSON.stringify(template.toJSON())).not.toMatch(/\{\{resolve:(secretsmanager|ssm-secure)/);
  });

  test('the execution role reads only the chat secret, its image and its log group', () => {
    const { template } = oabTemplate();
    const statements = statementsOfRole(template, logicalIdOf(template, 'AWS::IAM::Role', 'OabTaskDefinitionExecutionRole'));
    expect(actionsOf(statements)).toEqual([
      'ecr:BatchCheckLayerAvailability', 'ecr:BatchGetImage', 'ecr:GetAuthorizationToken', 'ecr:GetDownloadUrlForLayer',
      'logs:CreateLogStream', 'logs:PutLogEvents', 'secretsmanager:DescribeSecret', 'secretsmanager:GetSecretValue',
    ]);
    const secretResources = statements.filter((s) => actionsOf([s]).includes('secretsmanager:GetSecretValue')).flatMap(resourcesOf).map(flattenCfn);
    expect(secretResources).toEqual([expect.stringMatching(/:secret:openab\/discord-\?{6}$/)]);
    expect(statements.filter((s) => resourcesOf(s).includes('*')).map((s) => s.Action)).toEqual(['ecr:GetAuthorizationToken']);
  });

  test('chat secrets imported by full ARN are granted exactly; a key given beside them is decrypted through Secrets Manager, and no key without one', () => {
    const stack = newStack();
    const botArn = 'arn:aws:secretsmanager:us-east-1:123456789012:secret:openab/slack-bot-AbCdEf';
    const appArn = 'arn:aws:secretsmanager:us-east-1:123456789012:secret:openab/slack-app-GhIjKl';
    const keyArn = 'arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab';
    const encryptionKey = kms.Key.fromKeyArn(stack, 'Key', keyArn);
    new OabService(stack, 'Oab', {
      runtime: importedRuntime(stack),
      slack: {
        botToken: { secret: secretsmanager.Secret.fromSecretCompleteArn(stack, 'Bot', botArn), encryptionKey },
        appToken: { secret: secretsmanager.Secret.fromSecretCompleteArn(stack, 'App', appArn), encryptionKey },
        allowedChannels: ['C0123ABCD'],
      },
    });
    const template = Template.fromStack(stack);
    const statements = statementsOfRole(template, logicalIdOf(template, 'AWS::IAM::Role', 'OabTaskDefinitionExecutionRole'));
    const read = statements.filter((st) => actionsOf([st]).includes('secretsmanager:GetSecretValue')).flatMap(resourcesOf);
    expect(read.sort()).toEqual([appArn, botArn]);
    // One statement for the one key both tokens share.
    expect(statements.filter((st) => actionsOf([st]).includes('kms:Decrypt'))).toEqual([expect.objectContaining({
      Action: 'kms:Decrypt',
      Resource: keyArn,
      Condition: { StringEquals: { 'kms:ViaService': { 'Fn::Join': ['', ['secretsmanager.', { Ref: 'AWS::Region' }, '.amazonaws.com']] } } },
    })]);
    const taskRole = statementsOfRole(template, logicalIdOf(template, 'AWS::IAM::Role', 'OabTaskDefinitionTaskRole'));
    expect(actionsOf(taskRole).filter((a) => a.startsWith('kms:'))).toEqual([]);
  });

  test('the task role gets grantShellAccess and the thread map mount, nothing else', () => {
    const { template } = oabTemplate();
    const statements = statementsOfRole(template, logicalIdOf(template, 'AWS::IAM::Role', 'OabTaskDefinitionTaskRole'));
    expect(actionsOf(statements)).toEqual([
      'bedrock-agentcore:InvokeAgentRuntimeCommandShell', 'elasticfilesystem:ClientMount', 'elasticfilesystem:ClientWrite',
    ]);
    const shell = statements.find((s) => s.Action === 'bedrock-agentcore:InvokeAgentRuntimeCommandShell')!;
    expect(shell.Resource).toEqual([RUNTIME_ARN, `${RUNTIME_ARN}/runtime-endpoint/DEFAULT`]);
    const efs = statements.find((s) => s.Sid === 'ThreadMapFileSystem')!;
    expect(efs.Resource).toEqual({ 'Fn::GetAtt': [logicalIdOf(template, 'AWS::EFS::FileSystem'), 'Arn'] });
    expect(Object.keys(efs.Condition!)).toEqual(['StringEquals']);
    expect(flattenCfn((efs.Condition!.StringEquals as Record<string, unknown>)['elasticfilesystem:AccessPointArn']))
      .toMatch(new RegExp(`:access-point/<Ref:${logicalIdOf(template, 'AWS::EFS::AccessPoint')}>$`));
    expect(statements.flatMap(resourcesOf)).not.toContain('*');
  });

  test('the bridge endpoint chosen is the endpoint granted', () => {
    const { template } = oabTemplate({ bridge: { qualifier: 'canary', cancelStrategy: CancelStrategy.NOOP, logLevel: BridgeLogLevel.DEBUG, extraArgs: ['--launcher', 'none'] } });
    const statements = statementsOfRole(template, logicalIdOf(template, 'AWS::IAM::Role', 'OabTaskDefinitionTaskRole'));
    expect(statements[0].Resource).toEqual([RUNTIME_ARN, `${RUNTIME_ARN}/runtime-endpoint/canary`]);
    const args: string[] = renderedConfig(template).agent.args;
    expect(args).toEqual(expect.arrayContaining(['--qualifier', 'canary', '--cancel-strategy', 'noop', '--log-level', 'debug']));
    expect(args.slice(-2)).toEqual(['--launcher', 'none']);
  });

  test.each([CancelStrategy.STOP, CancelStrategy.NOOP])('with the %s cancel strategy the task role gets the shell action and no other AgentCore action', (cancelStrategy) => {
    const { template } = oabTemplate({ bridge: { cancelStrategy } });
    const statements = statementsOfRole(template, logicalIdOf(template, 'AWS::IAM::Role', 'OabTaskDefinitionTaskRole'));
    expect(actionsOf(statements).filter((a) => a.startsWith('bedrock-agentcore:'))).toEqual(['bedrock-agentcore:InvokeAgentRuntimeCommandShell']);
  });

  test('the rendered agent command is one the bundled bridge accepts', () => {
    const { template } = oabTemplate({ bridge: { qualifier: 'canary', cancelStrategy: CancelStrategy.NOOP, logLevel: BridgeLogLevel.DEBUG } });
    const { command, args } = renderedConfig(template).agent;
    expect(command).toBe('node');
    // Node's options first (they are not the bridge's), then the bridge and its own.
    expect(args.slice(0, 3)).toEqual(['--expose-gc', '--max-semi-space-size=1', '/app/bridge.js']);
    const parsed = parseBridgeArgs(args.slice(3), {});
    expect(parsed.kind).toBe('run');
    expect(parsed.kind === 'run' && parsed.config).toMatchObject({ qualifier: 'canary', cancelStrategy: 'noop', logLevel: 'debug' });
  });

  describe('the task holds every session\'s bridge at its peak, as bounded by the message limit', () => {
    const memoryOf = (extra: Extra) => {
      const [td] = Object.values(oabTemplate(extra).template.findResources('AWS::ECS::TaskDefinition'));
      return Number(td.Properties.Memory);
    };

    test('the default memory is the smallest Fargate size for the cpu that holds them', () => {
      expect(memoryOf({ pool: { maxSessions: 3 } })).toBe(1024);
      expect(memoryOf({ pool: { maxSessions: 10 }, bridge: { maxMessageSize: Size.mebibytes(4) } })).toBe(1024);
      expect(memoryOf({ pool: { maxSessions: 30 } })).toBe(4096);
      expect(memoryOf({ cpu: 1024, pool: { maxSessions: 30 } })).toBe(4096);
    });

    test('the message limit is rendered for the bridge', () => {
      const { template } = oabTemplate({ bridge: { maxMessageSize: Size.mebibytes(4) } });
      const args = renderedConfig(template).agent.args as string[];
      expect(args[args.indexOf('--max-message-bytes') + 1]).toBe(String(4 * 1024 * 1024));
    });

    test('a memory that cannot hold them is refused, naming the props that decide it', () => {
      expect(() => oab({ memoryLimitMiB: 1024 })).toThrow(
        'memoryLimitMiB (1024) cannot hold OAB and 10 bridges (pool.maxSessions) at 120 MiB each with bridge.maxMessageSize 16777216 bytes: 1376 MiB at least; raise it, or lower pool.maxSessions or bridge.maxMessageSize',
      );
      expect(() => oab({ memoryLimitMiB: 1024, pool: { maxSessions: 6 } })).not.toThrow();
      expect(() => oab({ cpu: 256, pool: { maxSessions: 40 } })).toThrow('cpu 256 allows at most 2048 MiB, and the task needs 4976 MiB');
    });

    test('a message limit outside what the bridge accepts is refused, naming the prop', () => {
      expect(() => oab({ bridge: { maxMessageSize: Size.kibibytes(32) } })).toThrow(
        'bridge.maxMessageSize must be a whole number of bytes from 65536 (64 KiB) to 67108864 (64 MiB), got 32768 bytes',
      );
      expect(() => oab({ bridge: { maxMessageSize: Size.mebibytes(65) } })).toThrow('got 68157440 bytes');
    });
  });

  test('extraArgs cannot replace an option OabService renders: each rendered option is refused, naming its prop', () => {
    const { template } = oabTemplate({ bridge: { extraArgs: ['--launcher', 'none'] } });
    const args = renderedConfig(template).agent.args as string[];
    const rendered = args.slice(args.indexOf('/app/bridge.js')).filter((a) => a.startsWith('--') && !['--launcher'].includes(a));
    // What is refused is exactly what is rendered, so a newly rendered option cannot be overridden unnoticed.
    expect(rendered.sort()).toEqual(Object.keys(RENDERED_BRIDGE_OPTIONS).sort());
    for (const option of rendered) {
      expect(() => oab({ bridge: { extraArgs: [`${option}=x`] } })).toThrow(`bridge.extraArgs[0] sets ${option}, which OabService renders from ${RENDERED_BRIDGE_OPTIONS[option]}`);
    }
  });

  test('logs go to CloudWatch with a retention, in the stream the bridge log FIFO is copied to', () => {
    const { template } = oabTemplate();
    const logGroupId = logicalIdOf(template, 'AWS::Logs::LogGroup', 'OabLogGroup');
    template.hasResourceProperties('AWS::Logs::LogGroup', { RetentionInDays: 30 });
    expect(containerDefinition(template).LogConfiguration).toEqual({
      LogDriver: 'awslogs',
      Options: { 'awslogs-group': { Ref: logGroupId }, 'awslogs-stream-prefix': 'oab', 'awslogs-region': { Ref: 'AWS::Region' } },
    });
    expect(containerDefinition(template).Command[2]).toContain('cat /tmp/openab/bridge-log.fifo');
  });

  test('the health check looks for the openab process; OAB gets 30 s to save its thread map on stop', () => {
    const { template } = oabTemplate();
    expect(containerDefinition(template).HealthCheck).toEqual({
      Command: ['CMD-SHELL', 'grep -qsx openab /proc/[0-9]*/comm || exit 1'],
      Interval: 30, Timeout: 5, Retries: 3, StartPeriod: 30,
    });
    expect(containerDefinition(template).StopTimeout).toBe(30);
  });

  test('the image is built for linux/arm64 from oab/Dockerfile and the bundled bridge, pinned to an OAB release', () => {
    const { stack } = oab({ openabVersion: '0.9.1' });
    const assembly = synth(stack);
    const [asset] = dockerAssets(assembly, 'Test');
    expect(asset.source).toEqual(expect.objectContaining({
      platform: 'linux/arm64',
      dockerBuildArgs: { OPENAB_VERSION: '0.9.1', NODE_VERSION: DEFAULT_NODE_VERSION },
    }));
    expect(readFileSync(join(asset.directory, 'Dockerfile'), 'utf8')).toBe(readFileSync(join(ROOT, 'oab', 'Dockerfile'), 'utf8'));
    expect(readFileSync(join(asset.directory, 'bridge.js'))).toEqual(readFileSync(join(ROOT, 'dist', 'bridge.js')));
    const dockerfile = readFileSync(join(ROOT, 'oab', 'Dockerfile'), 'utf8');
    expect(dockerfile).toMatch(/^ARG OPENAB_IMAGE=ghcr\.io\/openabdev\/openab:\$\{OPENAB_VERSION\}-agentcore$/m);
    expect(dockerfile).toMatch(/^FROM \$\{OPENAB_IMAGE\}$/m);
    expect(dockerfile).toMatch(/^COPY bridge\.js \/app\/bridge\.js$/m);
    expect(DEFAULT_OPENAB_VERSION).toMatch(/^\d+\.\d+\.\d+$/);
  });

  test('a missing bridge bundle fails the synth and names npm run build', () => {
    expect(() => oab({ bridgeBundlePath: join(ROOT, 'dist', 'no-such-bridge.js') }))
      .toThrow(/bridgeBundlePath: the bundled bridge .*no-such-bridge\.js does not exist\. Run `npm run build` first/);
  });

  test('a prebuilt image is used as given', () => {
    const { template } = oabTemplate({ image: ecs.ContainerImage.fromRegistry('123456789012.dkr.ecr.us-east-1.amazonaws.com/oab:1') });
    expect(containerDefinition(template).Image).toBe('123456789012.dkr.ecr.us-east-1.amazonaws.com/oab:1');
  });

  describe('thread map persistence', () => {
    test('mounts an encrypted, IAM-authorized EFS access point at OAB\'s state directory', () => {
      const { template } = oabTemplate();
      const fileSystemId = logicalIdOf(template, 'AWS::EFS::FileSystem');
      const accessPointId = logicalIdOf(template, 'AWS::EFS::AccessPoint');
      template.hasResourceProperties('AWS::EFS::FileSystem', { Encrypted: true });
      template.hasResource('AWS::EFS::FileSystem', { DeletionPolicy: 'Retain' });
      template.hasResourceProperties('AWS::EFS::AccessPoint', {
        FileSystemId: { Ref: fileSystemId },
        PosixUser: { Uid: '1000', Gid: '1000' },
        RootDirectory: { Path: '/openab', CreationInfo: { OwnerUid: '1000', OwnerGid: '1000', Permissions: '750' } },
      });
      template.hasResourceProperties('AWS::ECS::TaskDefinition', {
        Volumes: [{
          Name: 'openab-state',
          EFSVolumeConfiguration: {
            FilesystemId: { Ref: fileSystemId },
            TransitEncryption: 'ENABLED',
            AuthorizationConfig: { AccessPointId: { Ref: accessPointId }, IAM: 'ENABLED' },
          },
        }],
      });
      expect(containerDefinition(template).MountPoints).toEqual([{ ContainerPath: '/home/agent/.openab', ReadOnly: false, SourceVolume: 'openab-state' }]);
    });

    test('the file system policy allows nobody by itself and refuses non-TLS and non-access-point mounts', () => {
      const { template } = oabTemplate();
      const [fileSystem] = Object.values(template.findResources('AWS::EFS::FileSystem'));
      const statements = fileSystem.Properties.FileSystemPolicy.Statement as { Effect: string; Condition: unknown }[];
      expect(statements.map((s) => s.Effect)).toEqual(['Deny', 'Deny']);
      expect(statements.map((s) => s.Condition)).toEqual([
        { Bool: { 'aws:SecureTransport': 'false' } },
        { Null: { 'elasticfilesystem:AccessPointArn': 'true' } },
      ]);
    });

    test('NFS is reachable only from the service', () => {
      const { template } = oabTemplate();
      const serviceGroup = logicalIdOf(template, 'AWS::EC2::SecurityGroup', 'OabSecurityGroup');
      const stateGroup = logicalIdOf(template, 'AWS::EC2::SecurityGroup', 'OabStateSecurityGroup');
      template.resourceCountIs('AWS::EC2::SecurityGroupIngress', 1);
      template.hasResourceProperties('AWS::EC2::SecurityGroupIngress', {
        GroupId: { 'Fn::GetAtt': [stateGroup, 'GroupId'] },
        SourceSecurityGroupId: { 'Fn::GetAtt': [serviceGroup, 'GroupId'] },
        FromPort: 2049,
        ToPort: 2049,
      });
      template.hasResourceProperties('AWS::EC2::SecurityGroup', { GroupDescription: Match.stringLikeRegexp('thread map'), SecurityGroupIngress: Match.absent() });
    });

    test('the service starts after the mount targets exist', () => {
      const { template } = oabTemplate();
      const [service] = Object.values(template.findResources('AWS::ECS::Service'));
      const mountTargets = Object.keys(template.findResources('AWS::EFS::MountTarget'));
      expect(mountTargets).toHaveLength(2);
      expect(service.DependsOn).toEqual(expect.arrayContaining(mountTargets));
    });

    test('can be turned off: no file system, no volume, no EFS permission', () => {
      const { template } = oabTemplate({ persistThreadMap: false });
      template.resourceCountIs('AWS::EFS::FileSystem', 0);
      template.resourceCountIs('AWS::EFS::AccessPoint', 0);
      expect(containerDefinition(template).MountPoints).toBeUndefined();
      const statements = statementsOfRole(template, logicalIdOf(template, 'AWS::IAM::Role', 'OabTaskDefinitionTaskRole'));
      expect(actionsOf(statements)).toEqual(['bedrock-agentcore:InvokeAgentRuntimeCommandShell']);
    });

    test('the removal policy is configurable', () => {
      const { template } = oabTemplate({ stateRemovalPolicy: RemovalPolicy.DESTROY });
      template.hasResource('AWS::EFS::FileSystem', { DeletionPolicy: 'Delete' });
    });
  });

  test('Fargate Spot, ECS Exec and sizes are options', () => {
    const { template } = oabTemplate({ fargateSpot: true, enableExecuteCommand: true, cpu: 1024, memoryLimitMiB: 4096 });
    template.hasResourceProperties('AWS::ECS::Service', {
      CapacityProviderStrategy: [{ CapacityProvider: 'FARGATE_SPOT', Weight: 1 }, { CapacityProvider: 'FARGATE', Weight: 0 }],
      EnableExecuteCommand: true,
    });
    template.hasResourceProperties('AWS::ECS::TaskDefinition', { Cpu: '1024', Memory: '4096' });
    const statements = statementsOfRole(template, logicalIdOf(template, 'AWS::IAM::Role', 'OabTaskDefinitionTaskRole'));
    expect(actionsOf(statements)).toEqual([
      'bedrock-agentcore:InvokeAgentRuntimeCommandShell', 'elasticfilesystem:ClientMount', 'elasticfilesystem:ClientWrite',
      'ssmmessages:CreateControlChannel', 'ssmmessages:CreateDataChannel', 'ssmmessages:OpenControlChannel', 'ssmmessages:OpenDataChannel',
    ]);
    template.hasResourceProperties('AWS::ECS::Cluster', { Configuration: { ExecuteCommandConfiguration: { Logging: 'NONE' } } });
  });

  test('the wildcards ECS Exec and the ECR login need are acknowledged on their own policies, so one added to a role later is reported', () => {
    const { stack, service } = oab({ enableExecuteCommand: true });
    const findings = (): unknown[][] => new AwsSolutionsChecks().validateScope(stack).violations
      .map((v) => [v.ruleName, ...v.violatingResources.map((r) => r.constructPath)]);
    expect(findings()).toEqual([]);

    service.taskDefinition.taskRole.addToPrincipalPolicy(new iam.PolicyStatement({ actions: ['s3:GetObject'], resources: ['*'] }));
    service.taskDefinition.obtainExecutionRole().addToPrincipalPolicy(new iam.PolicyStatement({ actions: ['s3:ListBucket'], resources: ['*'] }));
    expect(findings()).toEqual([
      [expect.stringContaining('AwsSolutions-IAM5'), expect.stringContaining('Oab/TaskDefinition/TaskRole/DefaultPolicy'), expect.stringContaining('Oab/TaskDefinition/ExecutionRole/DefaultPolicy')],
    ]);
    // The service starts only once its tasks may log in to ECR and open ECS Exec channels.
    const template = Template.fromStack(stack);
    const dependsOn = Object.values(template.findResources('AWS::ECS::Service'))[0].DependsOn as string[];
    expect(dependsOn).toEqual(expect.arrayContaining([expect.stringMatching(/^OabEcrLoginPolicy/), expect.stringMatching(/^OabTaskDefinitionEcsExecPolicy/)]));
  });

  test('a VPC you bring is used with its private subnets and no public IP', () => {
    const stack = newStack();
    const vpc = new ec2.Vpc(stack, 'MyVpc', { maxAzs: 2, natGateways: 1 });
    new OabService(stack, 'Oab', { runtime: importedRuntime(stack), vpc, discord: { botToken: { secret: secretNamed(stack, 'd') }, allowedChannels: ['1'] } });
    const template = Template.fromStack(stack);
    template.resourceCountIs('AWS::EC2::VPC', 1);
    template.hasResourceProperties('AWS::ECS::Service', {
      NetworkConfiguration: { AwsvpcConfiguration: Match.objectLike({ AssignPublicIp: 'DISABLED', Subnets: Match.arrayWith([{ Ref: Match.stringLikeRegexp('^MyVpcPrivateSubnet') }]) }) },
    });
  });

  describe('the bridge lets go of an idle thread before its runtime session idles out', () => {
    const idleDetachOf = (runtime: ConstructorParameters<typeof OabService>[2]['runtime'], stack: ReturnType<typeof newStack>, idleDetach?: Duration) => {
      new OabService(stack, 'Oab', { runtime, bridge: { idleDetach }, discord: { botToken: { secret: secretNamed(stack, 'd') }, allowedChannels: ['1'] } });
      const args = renderedConfig(Template.fromStack(stack)).agent.args as string[];
      return args[args.indexOf('--idle-detach') + 1];
    };

    test('half the runtime\'s idle session timeout, at most 2 minutes; as given when set', () => {
      const short = newStack();
      expect(idleDetachOf(new CodingAgentRuntime(short, 'Runtime', { idleSessionTimeout: Duration.minutes(3) }), short)).toBe('90');
      const long = newStack();
      expect(idleDetachOf(new CodingAgentRuntime(long, 'Runtime'), long)).toBe('120');
      const given = newStack();
      expect(idleDetachOf(importedRuntime(given), given, Duration.seconds(0))).toBe('0');
    });

    test('an imported runtime tells its idle timeout through its attributes', () => {
      const stack = newStack();
      const runtime = CodingAgentRuntime.fromRuntimeArn(stack, 'R', RUNTIME_ARN, { idleSessionTimeout: Duration.minutes(1) });
      expect(idleDetachOf(runtime, stack)).toBe('30');
    });

    test('a detach no shorter than the idle timeout is refused, naming both', () => {
      const stack = newStack();
      const runtime = new CodingAgentRuntime(stack, 'Runtime', { idleSessionTimeout: Duration.minutes(2) });
      expect(() => idleDetachOf(runtime, stack, Duration.minutes(2)))
        .toThrow("bridge.idleDetach (120 s) must be shorter than the runtime's idleSessionTimeout (120 s)");
    });

    test('what is rendered is what the bridge accepts', () => {
      const stack = newStack();
      const args = (() => {
        new OabService(stack, 'Oab', { runtime: importedRuntime(stack), discord: { botToken: { secret: secretNamed(stack, 'd') }, allowedChannels: ['1'] } });
        return renderedConfig(Template.fromStack(stack)).agent.args as string[];
      })();
      const parsed = parseBridgeArgs(args.slice(args.indexOf('/app/bridge.js') + 1), {});
      expect(parsed.kind === 'run' && parsed.config.idleDetachSeconds).toBe(120);
    });
  });

  test('the VPC created by default has flow logs and no NAT gateway', () => {
    const { template } = oabTemplate();
    template.resourceCountIs('AWS::EC2::NatGateway', 0);
    template.resourceCountIs('AWS::EC2::FlowLog', 1);
    template.hasResourceProperties('AWS::ECS::Cluster', { ClusterSettings: [{ Name: 'containerInsights', Value: 'enabled' }] });
  });

  describe('rejects at synth, naming the prop', () => {
    test.each<[string, Extra, string]>([
      ['neither Discord nor Slack', { discord: undefined }, 'at least one of discord or slack must be configured'],
      ['a cancel strategy other than stop or noop', { bridge: { cancelStrategy: 'kill' as never } }, 'bridge.cancelStrategy must be "stop" or "noop", got "kill"'],
      ['an unknown log level', { bridge: { logLevel: 'trace' as never } }, 'bridge.logLevel must be "error", "warn", "info" or "debug", got "trace"'],
      ['a relative log file', { bridge: { logFile: 'bridge.log' } }, 'bridge.logFile must be an absolute path'],
      ['a bridge option OAB would expand', { bridge: { extraArgs: ['--endpoint-url', '${URL}'] } }, 'bridge.extraArgs[1] must not contain "${"'],
      ['a hyphenated endpoint', { bridge: { qualifier: 'my-endpoint' } }, 'bridge.qualifier must be a runtime endpoint name'],
      ['a shell command OAB would expand', { shellCommand: 'kiro-cli acp --model ${MODEL}' }, 'runtime.shellCommand must not contain "${"'],
      ['a CPU Fargate does not offer', { cpu: 384 }, 'cpu must be one of 256, 512, 1024, 2048, 4096 (Fargate CPU units), got 384'],
      ['memory that does not fit the CPU', { cpu: 256, memoryLimitMiB: 4096 }, 'memoryLimitMiB must be one of 512, 1024, 2048 for cpu 256 (Fargate), got 4096'],
      ['1536 MiB with 256 CPU units, which Fargate does not offer', { cpu: 256, memoryLimitMiB: 1536 }, 'memoryLimitMiB must be one of 512, 1024, 2048 for cpu 256 (Fargate), got 1536'],
      ['memory off the 1 GiB steps', { cpu: 1024, memoryLimitMiB: 2500 }, 'memoryLimitMiB must be from 2048 to 8192 in steps of 1024 for cpu 1024 (Fargate), got 2500'],
      ['an OAB version that is not a release', { openabVersion: 'latest' }, 'openabVersion must be an OAB release such as "0.10.0"'],
      ['a Node.js older than 20', { nodeVersion: '18' }, 'nodeVersion must be a Node.js version of at least 20'],
      ['an image with an OAB version', { image: ecs.ContainerImage.fromRegistry('oab:1'), openabVersion: '0.9.0' }, 'openabVersion cannot be combined with image'],
      ['a secret in additionalConfig', { additionalConfig: { stt: { api_key: SecretValue.secretsManager('stt').unsafeUnwrap() } } }, 'additionalConfig must not contain secret references'],
      ['state settings without state', { persistThreadMap: false, stateRemovalPolicy: RemovalPolicy.DESTROY }, 'stateRemovalPolicy has no effect when persistThreadMap is false'],
      ['a Discord channel name', { allowedChannels: ['general'] }, 'discord.allowedChannels[0] must be an id'],
      ['a fractional idle detach', { bridge: { idleDetach: Duration.millis(1500) } }, 'bridge.idleDetach must be whole seconds from 0 to 28800, got 1.5 s'],
    ])('%s', (_title, extra, message) => {
      expect(() => oab(extra)).toThrow(message);
    });

    test('a VPC and a cluster together', () => {
      const stack = newStack();
      const vpc = new ec2.Vpc(stack, 'Vpc');
      const cluster = new ecs.Cluster(stack, 'Cluster', { vpc });
      expect(() => new OabService(stack, 'Oab', { runtime: importedRuntime(stack), vpc, cluster, discord: { botToken: { secret: secretNamed(stack, 'd') }, allowedChannels: ['1'] } }))
        .toThrow('vpc cannot be combined with cluster');
    });

    test('several problems in one error', () => {
      expect(() => oab({ discord: undefined, cpu: 100, bridge: { cancelStrategy: 'kill' as never } }))
        .toThrow(/bridge\.cancelStrategy must be[\s\S]*cpu must be one of[\s\S]*at least one of discord or slack/);
    });
  });
});
