import { App } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as s3 from 'aws-cdk-lib/aws-s3';
import type { CloudAssembly } from 'aws-cdk-lib/cx-api';
import { AwsSolutionsChecks } from 'cdk-nag';
import { buildApp, stageStackName } from '../../lib/app/build-app';
import { parseStages, selectStages } from '../../lib/app/stage-settings';
import { cdkJsonContext, logicalIdOf, statementsOfRole } from './support';

/** The example app exactly as `cdk synth` builds it from cdk.json, optionally for one stage. */
function exampleApp(stage?: string) {
  const app = new App({ context: { ...cdkJsonContext(), ...(stage ? { stage } : {}) } });
  const stacks = buildApp(app);
  return { app, stacks };
}

function acknowledgments(app: App): { path: string; id: string; reason: string }[] {
  return app.node.findAll().flatMap((c) => c.node.metadata
    .filter((m) => m.type === 'aws:cdk:acknowledged-rules')
    .flatMap((m) => Object.entries(m.data as Record<string, string>).map(([id, reason]) => ({ path: c.node.path, id, reason }))));
}

describe('the example app (bin/app.ts, cdk.json)', () => {
  // One synthesis of all three stages, shared by the read-only assertions below.
  let app: App;
  let assembly: CloudAssembly;
  const template = (stage: string) => Template.fromJSON(assembly.getStackByName(stageStackName(stage)).template);

  beforeAll(() => {
    ({ app } = exampleApp());
    // Under jest, any unacknowledged cdk-nag or CloudFormation Validate finding (error or warning) throws here.
    assembly = app.synth();
  });

  test('without -c stage, every stage in cdk.json gets its own stack', () => {
    expect(assembly.stacks.map((s) => s.stackName).sort()).toEqual(['OpenabAgentCore-dev', 'OpenabAgentCore-prod', 'OpenabAgentCore-staging']);
  });

  test('-c stage=prod builds the prod stack only', () => {
    expect(exampleApp('prod').stacks.map((s) => s.stackName)).toEqual(['OpenabAgentCore-prod']);
    expect(() => exampleApp('qa')).toThrow('-c stage=qa is not a stage in cdk.json; choose one of: dev, staging, prod');
  });

  test('stages differ as configured: capacity, ECS Exec, sizes, retention, state removal, runtime idle timeout', () => {
    const dev = template('dev');
    const prod = template('prod');
    dev.hasResourceProperties('AWS::ECS::Service', { CapacityProviderStrategy: [{ CapacityProvider: 'FARGATE_SPOT', Weight: 1 }, { CapacityProvider: 'FARGATE', Weight: 0 }], EnableExecuteCommand: true });
    prod.hasResourceProperties('AWS::ECS::Service', { CapacityProviderStrategy: [{ CapacityProvider: 'FARGATE', Weight: 1 }], EnableExecuteCommand: false });
    dev.hasResourceProperties('AWS::ECS::TaskDefinition', { Cpu: '512', Memory: '1024' });
    prod.hasResourceProperties('AWS::ECS::TaskDefinition', { Cpu: '1024', Memory: '2048' });
    dev.allResourcesProperties('AWS::Logs::LogGroup', { RetentionInDays: 7 });
    prod.allResourcesProperties('AWS::Logs::LogGroup', { RetentionInDays: 90 });
    dev.hasResource('AWS::EFS::FileSystem', { DeletionPolicy: 'Delete' });
    prod.hasResource('AWS::EFS::FileSystem', { DeletionPolicy: 'Retain' });
    dev.hasResourceProperties('AWS::BedrockAgentCore::Runtime', { LifecycleConfiguration: { IdleRuntimeSessionTimeout: 900, MaxLifetime: 28800 } });
    prod.hasResourceProperties('AWS::BedrockAgentCore::Runtime', { LifecycleConfiguration: { IdleRuntimeSessionTimeout: 1800, MaxLifetime: 28800 } });
  });

  test('every stage has a dashboard; only prod has alarms, notifying its own topic', () => {
    for (const stage of ['dev', 'staging', 'prod']) {
      const t = template(stage);
      t.resourceCountIs('AWS::CloudWatch::Dashboard', 1);
      t.resourceCountIs('AWS::CloudWatch::Alarm', stage === 'prod' ? 6 : 0);
      t.resourceCountIs('AWS::SNS::Topic', stage === 'prod' ? 1 : 0);
    }
    const prod = template('prod');
    prod.hasResourceProperties('AWS::CloudWatch::Alarm', { MetricName: 'ApiKeyFetches', Namespace: 'OpenabAgentCore', Threshold: 1 });
    const topic = logicalIdOf(prod, 'AWS::SNS::Topic');
    prod.allResourcesProperties('AWS::CloudWatch::Alarm', { AlarmActions: [{ Ref: topic }] });
  });

  test('each stage reads its own secrets and has its own runtime name', () => {
    for (const stage of ['dev', 'staging', 'prod']) {
      const t = template(stage);
      t.hasResourceProperties('AWS::BedrockAgentCore::ApiKeyCredentialProvider', { ApiKeySecretConfig: { SecretId: `openab/${stage}/kiro-api-key`, JsonKey: 'apiKey' } });
      expect(JSON.stringify(t.toJSON())).toContain(`:secret:openab/${stage}/discord:botToken::`);
    }
    const names = ['dev', 'staging', 'prod'].map((stage) => Object.values(template(stage).findResources('AWS::BedrockAgentCore::Runtime'))[0].Properties.AgentRuntimeName);
    expect(new Set(names).size).toBe(3);
  });

  test('every resource is tagged with its stage', () => {
    template('staging').hasResourceProperties('AWS::ECS::Cluster', { Tags: [{ Key: 'openab-agentcore:stage', Value: 'staging' }] });
    template('prod').hasResourceProperties('AWS::ECS::Cluster', { Tags: [{ Key: 'cost-center', Value: 'platform' }, { Key: 'openab-agentcore:stage', Value: 'prod' }] });
  });

  test('the task role in every stage has the shell permission on its own runtime and no other AgentCore action', () => {
    for (const stage of ['dev', 'staging', 'prod']) {
      const t = template(stage);
      const runtimeId = logicalIdOf(t, 'AWS::BedrockAgentCore::Runtime');
      const statements = statementsOfRole(t, logicalIdOf(t, 'AWS::IAM::Role', 'OabAgentCoreOabTaskDefinitionTaskRole'));
      const agentcore = statements.filter((s) => String(s.Action).startsWith('bedrock-agentcore:'));
      expect(agentcore).toEqual([expect.objectContaining({
        Action: 'bedrock-agentcore:InvokeAgentRuntimeCommandShell',
        Resource: [{ 'Fn::GetAtt': [runtimeId, 'AgentRuntimeArn'] }, expect.anything()],
      })]);
    }
  });

  test('cdk-nag AwsSolutions finds nothing unacknowledged in any stage', () => {
    for (const stack of assembly.stacks) {
      const construct = app.node.findChild(stack.stackName);
      expect(new AwsSolutionsChecks().validateScope(construct).violations).toEqual([]);
    }
  });

  test('every acknowledgment names a specific finding and gives its reason', () => {
    const acks = acknowledgments(app);
    expect(acks.length).toBeGreaterThan(0);
    for (const ack of acks) {
      // A bare rule id would silence every finding of that rule; each acknowledgment names one.
      expect(ack.id).not.toMatch(/^(Annotation::)?AwsSolutions-[A-Z]+\d+$/);
      expect(ack.reason.length).toBeGreaterThan(40);
    }
    // Ours, each on the policy that holds its wildcard: the runtime's ECR login and logs, the
    // OAB image's ECR login, ECS Exec (dev only) and the config placeholders; aws-cdk-lib's
    // own: the flow log's camelCase options. None sits on a role.
    const dev = acks
      .filter((a) => a.path.startsWith('OpenabAgentCore-dev/'))
      .map((a) => `${a.path.replace('OpenabAgentCore-dev/OabAgentCore/', '')} ${a.id.replace(/\/runtimes\/OpenabAgentCoredev_\w+-\*/, '/runtimes/<runtime name>-*')}`)
      .sort();
    const logs = 'arn:<AWS::Partition>:logs:<AWS::Region>:<AWS::AccountId>:log-group:';
    expect(dev).toEqual([
      'Oab/EcrLoginPolicy Annotation::AwsSolutions-IAM5[Resource::*]',
      'Oab/TaskDefinition CloudFormation-Validate::E1029',
      'Oab/TaskDefinition/EcsExecPolicy Annotation::AwsSolutions-IAM5[Resource::*]',
      'Oab/Vpc/all CloudFormation-Validate::F3002',
      'Oab/Vpc/all CloudFormation-Validate::F3003',
      expect.stringMatching(/^Runtime\/Image\/EcrLogin-\w+ExecutionRole\w+ Annotation::AwsSolutions-IAM5\[Resource::\*\]$/),
      `Runtime/LogsPolicy Annotation::AwsSolutions-IAM5[Resource::${logs}*]`,
      `Runtime/LogsPolicy Annotation::AwsSolutions-IAM5[Resource::${logs}/aws/bedrock-agentcore/runtimes/<runtime name>-*:log-stream:*]`,
      `Runtime/LogsPolicy Annotation::AwsSolutions-IAM5[Resource::${logs}/aws/bedrock-agentcore/runtimes/<runtime name>-*]`,
    ]);
    expect(acks.filter((a) => /Role$/.test(a.path))).toEqual([]);
    // Without ECS Exec (prod), there is no ECS Exec policy to acknowledge.
    expect(acks.filter((a) => a.path.startsWith('OpenabAgentCore-prod/') && a.path.includes('EcsExec'))).toEqual([]);
  });

  test('cdk-nag really runs on the app: an unencrypted, unlogged bucket fails the synth', () => {
    const { app: unsafe, stacks } = exampleApp('dev');
    new s3.Bucket(stacks[0], 'Unsafe');
    expect(() => unsafe.synth()).toThrow(/AwsSolutions-S1[\s\S]*Unsafe|Unsafe[\s\S]*AwsSolutions-S1/);
  });
});

describe('stage settings in cdk.json', () => {
  test('a typo or a wrong type fails the synth, naming stage and key', () => {
    expect(() => parseStages({ dev: { discordSecret: 'd', fargateSpott: true, cpu: '512' } }))
      .toThrow(/dev\.fargateSpott is not a known setting[\s\S]*dev\.cpu must be a finite number, got "512"/);
  });

  test('the message limit is a stage setting, in whole MiB, and sizes the task with it', () => {
    expect(() => parseStages({ dev: { discordSecret: 'd', discordAllowedChannels: ['1'], maxMessageMiB: 0.5 } }))
      .toThrow('dev.maxMessageMiB must be a whole number of MiB from 1 to 64, got 0.5');
    const app = new App({ context: { ...cdkJsonContext(), stage: 'qa', 'openab-agentcore:stages': { qa: { discordSecret: 'd', discordAllowedChannels: ['1'], apiKeySecret: 'k', maxMessageMiB: 4, maxSessions: 10 } } } });
    const [stack] = buildApp(app);
    const template = Template.fromStack(stack);
    template.hasResourceProperties('AWS::ECS::TaskDefinition', { Memory: '1024' });
    expect(JSON.stringify(template.toJSON())).toContain('--max-message-bytes\\", \\"4194304');
  });

  test('a stage without a chat platform, an invalid retention or name is rejected', () => {
    expect(() => parseStages({ Dev: { logRetentionDays: 10 } }))
      .toThrow(/stage name "Dev" must match[\s\S]*Dev\.logRetentionDays must be a CloudWatch Logs retention[\s\S]*Dev: set discordSecret or slackSecret/);
  });

  test('a setting that does not fit the others fails the synth naming it, instead of being dropped', () => {
    const RUNTIME = 'arn:aws:bedrock-agentcore:us-east-1:123456789012:runtime/kiro_agent-AbCdEf1234';
    const synthWith = (settings: Record<string, unknown>) => () =>
      buildApp(new App({ context: { ...cdkJsonContext(), stage: 'qa', 'openab-agentcore:stages': { qa: { discordSecret: 'd', discordAllowedChannels: ['1'], ...settings } } } }));
    // A runtime that exists already takes neither a name, nor a key, nor a build of the image.
    expect(synthWith({ runtimeArn: RUNTIME, runtimeName: 'kiro_agent', apiKeySecret: 'k', runtimeBuildArgs: { A: '1' } }))
      .toThrow(/runtimeImage cannot be combined with runtimeArn[\s\S]*apiKeySecret cannot be combined with runtimeArn[\s\S]*runtimeOptions\.runtimeName cannot be combined with runtimeArn/);
    expect(synthWith({ persistThreadMap: false, retainState: true })).toThrow(/stateRemovalPolicy has no effect when persistThreadMap is false/);
    expect(synthWith({ runtimeArn: RUNTIME, shellCommand: 'codex-acp' })).not.toThrow();
  });

  test('a stage that lets everyone prompt the agent must say so: without an allowlist the synth fails naming stage and setting', () => {
    const synthStage = (qa: Record<string, unknown>) =>
      buildApp(new App({ context: { ...cdkJsonContext(), stage: 'qa', 'openab-agentcore:stages': { qa } } }));
    expect(() => synthStage({ discordSecret: 'd' }))
      .toThrow(/qa: discordSecret is set without discordAllowedChannels or discordAllowedUsers[\s\S]*"allowEveryone": true/);
    const [open] = synthStage({ discordSecret: 'd', slackSecret: 's', slackAllowedChannels: ['C0123ABCD'], allowEveryone: true });
    const config = Template.fromStack(open).toJSON();
    // Discord answers everyone, as the stage says; Slack keeps its allowlist.
    const command = JSON.stringify(config);
    expect(command).toContain('[discord]');
    expect(command).not.toMatch(/\[discord\][^[]*allowed_/);
    expect(command).toMatch(/\[slack\][^[]*allowed_channels = \[ \\"C0123ABCD\\" \]/);
  });

  test('a stage\'s secrets given by full ARN are granted exactly, and secretsKmsKeyArn lets each reader decrypt with that key only', () => {
    const discordArn = 'arn:aws:secretsmanager:us-east-1:123456789012:secret:openab/qa/discord-AbCdEf';
    const apiKeyArn = 'arn:aws:secretsmanager:us-east-1:123456789012:secret:openab/qa/kiro-GhIjKl';
    const keyArn = 'arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab';
    const grantsOf = (extra: Record<string, unknown>) => {
      const qa = { discordSecret: discordArn, apiKeySecret: apiKeyArn, discordAllowedUsers: ['1'], ...extra };
      const [stack] = buildApp(new App({ context: { ...cdkJsonContext(), stage: 'qa', 'openab-agentcore:stages': { qa } } }));
      const t = Template.fromStack(stack);
      const role = (prefix: string) => statementsOfRole(t, logicalIdOf(t, 'AWS::IAM::Role', prefix));
      return { oab: role('OabAgentCoreOabTaskDefinitionExecutionRole'), runtime: role('OabAgentCoreRuntimeExecutionRole') };
    };
    const ofAction = (statements: ReturnType<typeof statementsOfRole>, action: string) =>
      statements.filter((st) => (Array.isArray(st.Action) ? st.Action : [st.Action]).includes(action)).flatMap((st) => (Array.isArray(st.Resource) ? st.Resource : [st.Resource]));
    const withKey = grantsOf({ secretsKmsKeyArn: keyArn });
    expect(ofAction(withKey.oab, 'secretsmanager:GetSecretValue')).toEqual([discordArn]);
    expect(ofAction(withKey.runtime, 'secretsmanager:GetSecretValue')).toEqual([apiKeyArn]);
    expect(ofAction(withKey.oab, 'kms:Decrypt')).toEqual([keyArn]);
    expect(ofAction(withKey.runtime, 'kms:Decrypt')).toEqual([keyArn]);
    const withoutKey = grantsOf({});
    expect([...ofAction(withoutKey.oab, 'kms:Decrypt'), ...ofAction(withoutKey.runtime, 'kms:Decrypt')]).toEqual([]);
    // A name still works, granted with Secrets Manager's suffix wildcard.
    const byName = grantsOf({ discordSecret: 'openab/qa/discord' });
    expect(ofAction(byName.oab, 'secretsmanager:GetSecretValue').map((r) => JSON.stringify(r))).toEqual([expect.stringMatching(/secret:openab\/qa\/discord-\?{6}"/)]);
  });

  test('stages may arrive as a JSON string (-c on the command line)', () => {
    expect(parseStages('{"qa":{"slackSecret":"s","slackAllowedUsers":["U1"]}}')).toEqual({ qa: { slackSecret: 's', slackAllowedUsers: ['U1'] } });
    expect(() => parseStages(undefined)).toThrow('must be an object of stages');
  });

  test('without -c stage all stages are selected', () => {
    expect(selectStages({ a: {}, b: {} }, undefined)).toEqual(['a', 'b']);
    expect(selectStages({ a: {}, b: {} }, 'b')).toEqual(['b']);
  });
});

describe('choosing the agent and deploying several bots from cdk.json', () => {
  const SONNET = 'anthropic.claude-sonnet-4-5-20250929-v1:0';
  const synthStage = (qa: Record<string, unknown>) => {
    const app = new App({ context: { ...cdkJsonContext(), stage: 'qa', 'openab-agentcore:stages': { qa: { account: '123456789012', region: 'us-east-1', ...qa } } } });
    const [stack] = buildApp(app);
    return { stack, template: Template.fromStack(stack) };
  };
  const commands = (template: Template) => Object.values(template.findResources('AWS::ECS::TaskDefinition'))
    .map((t) => /"--shell-command", "([^"]+)"/.exec(JSON.stringify(t.Properties.ContainerDefinitions[0].Command[4]).replace(/\\"/g, '"'))![1]);

  test('"agent" picks the shell command; an unknown agent fails naming stage and key', () => {
    const { template } = synthStage({ agent: 'codex', apiKeySecret: 'openab/qa/openai', discordSecret: 'd', discordAllowedChannels: ['1'] });
    expect(commands(template)).toEqual(['codex-acp']);
    template.hasResourceProperties('AWS::BedrockAgentCore::Runtime', { EnvironmentVariables: Match.objectLike({ OPENAB_AGENT_API_KEY_ENV: 'OPENAI_API_KEY' }) });
    expect(() => parseStages({ qa: { agent: 'gemini', discordSecret: 'd', discordAllowedChannels: ['1'] } }))
      .toThrow('qa.agent must be "kiro", "claude-code", "codex", got "gemini"');
  });

  test('"bedrock" runs Claude Code keyless; with another agent, a key, or no models it fails naming stage and key', () => {
    const { template } = synthStage({ agent: 'claude-code', bedrock: { models: [`global.${SONNET}`] }, discordSecret: 'd', discordAllowedChannels: ['1'] });
    template.resourceCountIs('AWS::BedrockAgentCore::ApiKeyCredentialProvider', 0);
    template.hasResourceProperties('AWS::BedrockAgentCore::Runtime', { EnvironmentVariables: Match.objectLike({ CLAUDE_CODE_USE_BEDROCK: '1', ANTHROPIC_MODEL: `global.${SONNET}` }) });
    const chat = { discordSecret: 'd', discordAllowedChannels: ['1'] };
    expect(() => parseStages({ qa: { ...chat, bedrock: { models: [SONNET] } } })).toThrow('qa.bedrock requires "agent": "claude-code"');
    expect(() => parseStages({ qa: { ...chat, agent: 'claude-code', apiKeySecret: 'k', bedrock: { models: [SONNET] } } })).toThrow('qa.bedrock cannot be combined with apiKeySecret (on Amazon Bedrock, Claude Code signs its calls with the runtime\'s execution role: there is no key)');
    expect(() => parseStages({ qa: { ...chat, agent: 'claude-code', bedrock: { models: [] } } })).toThrow('qa.bedrock.models must be a non-empty list');
    expect(() => parseStages({ qa: { ...chat, agent: 'claude-code', bedrock: { models: [SONNET], smallFastModel: 'x' } } })).toThrow('qa.bedrock.smallFastModel must be the id of one of qa.bedrock.models');
    expect(() => parseStages({ qa: { ...chat, agent: 'claude-code', bedrock: { models: [`us.${SONNET}`] } } }))
      .toThrow(`qa.bedrock.models[0] is a geographic inference profile: write { "id": "us.${SONNET}", "destinationRegions": [ … ] }`);
    // What only the constructs check (a model that is not Claude) is reported by them, naming the prop.
    expect(() => synthStage({ ...chat, agent: 'claude-code', bedrock: { models: ['amazon.nova-pro-v1:0'] } })).toThrow('bedrock.models[0] must be a cross-Region inference profile of a Claude model');
    const geographic = synthStage({ ...chat, agent: 'claude-code', bedrock: { models: [{ id: `us.${SONNET}`, destinationRegions: ['us-east-1', 'us-west-2'] }] } });
    expect(JSON.stringify(geographic.template.toJSON())).toContain(':bedrock:us-west-2::foundation-model/');
  });

  test('a stage with bots deploys each with its own runtime, service, chat token and grants', () => {
    const { stack, template } = synthStage({
      fargateSpot: true,
      discordAllowedChannels: ['1'],
      bots: {
        kiro: { apiKeySecret: 'openab/qa/kiro', discordSecret: 'openab/qa/discord-kiro' },
        claude: { agent: 'claude-code', bedrock: { models: [`global.${SONNET}`] }, discordSecret: 'openab/qa/discord-claude' },
      },
    });
    template.resourceCountIs('AWS::BedrockAgentCore::Runtime', 2);
    template.resourceCountIs('AWS::ECS::Service', 2);
    template.resourceCountIs('AWS::BedrockAgentCore::ApiKeyCredentialProvider', 1);
    expect(commands(template).sort()).toEqual(['claude-agent-acp', 'kiro-cli acp --trust-all-tools']);
    // Both share the stage's settings.
    template.allResourcesProperties('AWS::ECS::Service', { CapacityProviderStrategy: [{ CapacityProvider: 'FARGATE_SPOT', Weight: 1 }, { CapacityProvider: 'FARGATE', Weight: 0 }] });

    const role = (prefix: string) => statementsOfRole(template, logicalIdOf(template, 'AWS::IAM::Role', prefix));
    const text = (prefix: string) => JSON.stringify(role(prefix));
    expect(text('BotKiroOabTaskDefinitionExecutionRole')).toContain('openab/qa/discord-kiro-');
    expect(text('BotKiroOabTaskDefinitionExecutionRole')).not.toContain('discord-claude');
    expect(text('BotClaudeOabTaskDefinitionExecutionRole')).toContain('openab/qa/discord-claude-');
    expect(text('BotKiroRuntimeExecutionRole')).toContain('openab/qa/kiro-');
    expect(text('BotKiroRuntimeExecutionRole')).not.toContain('bedrock:InvokeModel');
    expect(text('BotClaudeRuntimeExecutionRole')).toContain('bedrock:InvokeModel');
    expect(text('BotClaudeRuntimeExecutionRole')).not.toContain('secretsmanager:');
    // Each task role opens shells on its own runtime only.
    const runtimes = Object.keys(template.findResources('AWS::BedrockAgentCore::Runtime'));
    for (const bot of ['BotKiro', 'BotClaude']) {
      const shell = role(`${bot}OabTaskDefinitionTaskRole`).filter((st) => st.Action === 'bedrock-agentcore:InvokeAgentRuntimeCommandShell');
      const own = runtimes.filter((r) => r.startsWith(bot));
      expect(JSON.stringify(shell)).toContain(own[0]);
      expect(JSON.stringify(shell)).not.toContain(runtimes.find((r) => !r.startsWith(bot))!);
    }
    expect(Object.keys((stack as unknown as { bots: object }).bots)).toEqual(['kiro', 'claude']);
    expect(new AwsSolutionsChecks().validateScope(stack).violations).toEqual([]);
  });

  test('bots are checked one by one and against each other, naming stage, bot and key', () => {
    expect(() => parseStages({ qa: { discordSecret: 'd', discordAllowedChannels: ['1'], bots: { a: { apiKeySecret: 'k' }, b: { agent: 'codex' } } } }))
      .toThrow('qa.bots a and b share discordSecret "d": one chat token must be held by one bot, or each message is answered twice');
    expect(() => parseStages({ qa: { bots: { Kiro: { discordSecret: 'a', discordAllowedChannels: ['1'], region: 'eu-west-1' }, b: { slackSecret: 's' } } } }))
      .toThrow(/bot name "Kiro" must match[\s\S]*qa\.bots\.Kiro\.region is not a known setting \(a bot sets only its own agent, chat and runtime[\s\S]*qa\.bots\.b: slackSecret is set without slackAllowedChannels/);
    expect(() => parseStages({ qa: { bots: {} } })).toThrow('qa.bots must name at least one bot');
    expect(() => parseStages({ qa: { runtimeName: 'same', bots: { a: { discordSecret: 'x', discordAllowedUsers: ['1'] }, b: { discordSecret: 'y', discordAllowedUsers: ['1'] } } } }))
      .toThrow('qa.bots a and b share runtimeName "same"');
  });
});
