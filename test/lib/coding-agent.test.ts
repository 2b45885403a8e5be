import type { Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as iam from 'aws-cdk-lib/aws-iam';
import { AwsSolutionsChecks } from 'cdk-nag';
import {
  AgentApiKey, AgentRuntimeImage, BedrockModel, type BedrockModelAccess, CodingAgent, CodingAgentRuntime, OabAgentCore, type OabAgentCoreProps,
} from '../../lib';
import { RUNTIME_IMAGE_TARGETS, AGENTS } from '../../shared/contract/agents';
import { actionsOf, dockerAssets, flattenCfn, newStack, RUNTIME_ARN, secretNamed, type Statement, statementsOfRole, synth } from './support';

const ENV = { account: '123456789012', region: 'us-east-1' };
const SONNET = 'anthropic.claude-sonnet-4-5-20250929-v1:0';
const HAIKU = 'anthropic.claude-haiku-4-5-20251001-v1:0';

function agentCore(stack: Stack, props: Partial<OabAgentCoreProps>): OabAgentCore {
  return new OabAgentCore(stack, 'Bot', {
    discord: { botToken: { secret: secretNamed(stack, 'openab/discord'), field: 'botToken' }, allowedChannels: ['123456789012345678'] },
    ...props,
  });
}

function oabConfig(template: Template): string {
  const [taskDefinition] = Object.values(template.findResources('AWS::ECS::TaskDefinition'));
  return flattenCfn(taskDefinition.Properties.ContainerDefinitions[0].Command[4]);
}

function runtimeEnvironment(template: Template): Record<string, unknown> {
  const [runtime] = Object.values(template.findResources('AWS::BedrockAgentCore::Runtime'));
  return runtime.Properties.EnvironmentVariables as Record<string, unknown>;
}

function roleStatements(stack: Stack, runtime: CodingAgentRuntime): Statement[] {
  return statementsOfRole(Template.fromStack(stack), stack.getLogicalId(runtime.role.node.defaultChild as iam.CfnRole));
}

describe('CodingAgent', () => {
  test.each([
    ['kiro', CodingAgent.KIRO, 'kiro-cli acp --trust-all-tools', 'KIRO_API_KEY'],
    ['claude-code', CodingAgent.CLAUDE_CODE, 'claude-agent-acp', 'ANTHROPIC_API_KEY'],
    ['codex', CodingAgent.CODEX, 'codex-acp', 'OPENAI_API_KEY'],
  ])('%s: one choice picks the image target, the shell command OAB runs and the key variable', (target, agent, command, keyVariable) => {
    const stack = newStack({ env: ENV });
    agentCore(stack, { agent, apiKeySecret: { secret: secretNamed(stack, 'openab/key') } });
    const assembly = synth(stack);
    const template = Template.fromJSON(assembly.getStackByName('Test').template);

    const runtimeImages = dockerAssets(assembly, 'Test').filter((a) => a.source.dockerBuildTarget !== undefined);
    expect(runtimeImages.map((a) => a.source.dockerBuildTarget)).toEqual([target]);
    expect(runtimeImages[0].source.platform).toBe('linux/arm64');
    expect(oabConfig(template)).toContain(`"--shell-command", "${command}"`);
    expect(runtimeEnvironment(template)).toEqual(expect.objectContaining({ OPENAB_AGENT_API_KEY_ENV: keyVariable }));
    expect(new AwsSolutionsChecks().validateScope(stack).violations).toEqual([]);
  });

  test('the agents are exactly the shared contract\'s, with its facts', () => {
    expect(CodingAgent.all().map((a) => [a.id, a.imageTarget, a.shellCommand, a.apiKeyEnvironmentVariable, a.apiKeyJsonField]))
      .toEqual(RUNTIME_IMAGE_TARGETS.map((id) => [id, AGENTS[id].imageTarget, AGENTS[id].shellCommand, AGENTS[id].apiKeyEnv, AGENTS[id].apiKeyJsonField]));
  });

  test('defaults to Kiro, and an agent from its id is the same object', () => {
    const stack = newStack();
    const runtime = new CodingAgentRuntime(stack, 'Runtime');
    expect(runtime.agent).toBe(CodingAgent.KIRO);
    expect(runtime.shellCommand).toBe('kiro-cli acp --trust-all-tools');
    expect(CodingAgent.fromId('codex')).toBe(CodingAgent.CODEX);
    expect(() => CodingAgent.fromId('gemini')).toThrow('agent must be "kiro", "claude-code", "codex", got "gemini"');
  });

  test('isId says which ids fromId takes, without throwing', () => {
    expect(CodingAgent.all().map((a) => CodingAgent.isId(a.id))).toEqual([true, true, true]);
    expect(CodingAgent.isId('gemini')).toBe(false);
    expect(CodingAgent.isId('Kiro')).toBe(false);
  });

  test('a runtime takes its agent from the image, and an explicit shell command still wins', () => {
    const stack = newStack();
    const image = new AgentRuntimeImage(stack, 'Image', { agent: CodingAgent.CODEX });
    const runtime = new CodingAgentRuntime(stack, 'Runtime', { image, shellCommand: '/usr/local/bin/codex-acp --flag' });
    expect(runtime.agent).toBe(CodingAgent.CODEX);
    expect(runtime.shellCommand).toBe('/usr/local/bin/codex-acp --flag');
  });

  test('a runtime deployed elsewhere gets its agent\'s shell command', () => {
    const stack = newStack();
    agentCore(stack, { runtimeArn: RUNTIME_ARN, agent: CodingAgent.CLAUDE_CODE });
    expect(oabConfig(Template.fromStack(stack))).toContain('"--shell-command", "claude-agent-acp"');
  });

  test('an image of your own builds its own target and leaves the key variable to the image unless the agent is named', () => {
    const stack = newStack();
    const key = new AgentApiKey(stack, 'Key', { secret: secretNamed(stack, 'k') });
    const image = new AgentRuntimeImage(stack, 'Image', { directory: `${__dirname}/../../oab`, target: 'final' });
    new CodingAgentRuntime(stack, 'Runtime', { image, apiKey: key });
    const assembly = synth(stack);
    expect(dockerAssets(assembly, 'Test').map((a) => a.source.dockerBuildTarget)).toEqual(['final']);
    expect(runtimeEnvironment(Template.fromJSON(assembly.getStackByName('Test').template))).not.toHaveProperty('OPENAB_AGENT_API_KEY_ENV');
  });

  test.each<[string, (s: Stack) => void, string]>([
    ['an agent that differs from the image\'s', (s) => new CodingAgentRuntime(s, 'R', { agent: CodingAgent.KIRO, image: new AgentRuntimeImage(s, 'I', { agent: CodingAgent.CODEX }) }),
      'agent ("kiro") differs from image.agent ("codex")'],
    ['a target for this package\'s runtimes', (s) => new AgentRuntimeImage(s, 'I', { target: 'kiro' }), 'target requires directory'],
    ['an agent beside a brought runtime', (s) => agentCore(s, { runtime: CodingAgentRuntime.fromRuntimeArn(s, 'R', RUNTIME_ARN), agent: CodingAgent.CODEX }),
      'agent cannot be combined with runtime'],
  ])('refuses %s, naming the props', (_title, build, message) => {
    expect(() => build(newStack())).toThrow(message);
  });
});

describe('keyless Claude Code on Amazon Bedrock', () => {
  function bedrockRuntime(bedrock: BedrockModelAccess, env: { account?: string; region?: string } = ENV) {
    const stack = newStack({ env });
    const runtime = new CodingAgentRuntime(stack, 'Runtime', { agent: CodingAgent.CLAUDE_CODE, bedrock });
    return { stack, runtime };
  }
  const bedrockStatements = (statements: Statement[]) => statements.filter((s) => actionsOf([s]).some((a) => a.startsWith('bedrock:')));

  test('a foundation model: invoke on that model in the runtime\'s Region, nothing else of Bedrock but the profile listing', () => {
    const { stack, runtime } = bedrockRuntime({ models: [BedrockModel.foundationModel(SONNET)] });
    const statements = bedrockStatements(roleStatements(stack, runtime));
    expect(statements).toEqual([
      { Effect: 'Allow', Action: ['bedrock:InvokeModel', 'bedrock:InvokeModelWithResponseStream'], Resource: { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, `:bedrock:us-east-1::foundation-model/${SONNET}`]] } },
      { Effect: 'Allow', Action: 'bedrock:ListInferenceProfiles', Resource: '*' },
    ]);
    const template = Template.fromStack(stack);
    expect(runtimeEnvironment(template)).toEqual(expect.objectContaining({
      CLAUDE_CODE_USE_BEDROCK: '1', AWS_REGION: 'us-east-1', ANTHROPIC_MODEL: SONNET, ANTHROPIC_SMALL_FAST_MODEL: SONNET,
    }));
    expect(new AwsSolutionsChecks().validateScope(stack).violations).toEqual([]);
    // Both policies exist before the runtime does.
    const [runtimeResource] = Object.values(template.findResources('AWS::BedrockAgentCore::Runtime'));
    const policies = Object.entries(template.findResources('AWS::IAM::Policy')).filter(([, p]) => JSON.stringify(p).includes('bedrock:')).map(([id]) => id);
    expect(policies).toHaveLength(2);
    expect(runtimeResource.DependsOn).toEqual(expect.arrayContaining(policies));
  });

  test('a geographic inference profile: the profile, and its model in this and each destination Region only through that profile', () => {
    const profile = `us.${SONNET}`;
    const { stack, runtime } = bedrockRuntime({ models: [BedrockModel.inferenceProfile(profile, ['us-east-1', 'us-east-2', 'us-west-2'])] });
    const profileArn = { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, `:bedrock:us-east-1:123456789012:inference-profile/${profile}`]] };
    const model = (r: string) => ({ 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, `:bedrock:${r}::foundation-model/${SONNET}`]] });
    expect(bedrockStatements(roleStatements(stack, runtime)).filter((s) => s.Action !== 'bedrock:ListInferenceProfiles')).toEqual([
      { Effect: 'Allow', Action: ['bedrock:InvokeModel', 'bedrock:InvokeModelWithResponseStream'], Resource: profileArn },
      {
        Effect: 'Allow', Action: ['bedrock:InvokeModel', 'bedrock:InvokeModelWithResponseStream'],
        Resource: [model('us-east-1'), model('us-east-2'), model('us-west-2')],
        Condition: { StringEquals: { 'bedrock:InferenceProfileArn': profileArn } },
      },
    ]);
    expect(runtimeEnvironment(Template.fromStack(stack))).toEqual(expect.objectContaining({ ANTHROPIC_MODEL: profile }));
  });

  test('a global inference profile: the profile in this Region, and its model here and Region-less, only through that profile', () => {
    const profile = `global.${SONNET}`;
    const { stack, runtime } = bedrockRuntime({ models: [BedrockModel.inferenceProfile(profile)] });
    const profileArn = { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, `:bedrock:us-east-1:123456789012:inference-profile/${profile}`]] };
    const model = (r: string) => ({ 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, `:bedrock:${r}::foundation-model/${SONNET}`]] });
    const actions = ['bedrock:InvokeModel', 'bedrock:InvokeModelWithResponseStream'];
    expect(bedrockStatements(roleStatements(stack, runtime)).filter((s) => s.Action !== 'bedrock:ListInferenceProfiles')).toEqual([
      { Effect: 'Allow', Action: actions, Resource: profileArn, Condition: { StringEquals: { 'aws:RequestedRegion': 'us-east-1' } } },
      { Effect: 'Allow', Action: actions, Resource: model('us-east-1'), Condition: { StringEquals: { 'aws:RequestedRegion': 'us-east-1', 'bedrock:InferenceProfileArn': profileArn } } },
      { Effect: 'Allow', Action: actions, Resource: model(''), Condition: { StringEquals: { 'aws:RequestedRegion': 'unspecified', 'bedrock:InferenceProfileArn': profileArn } } },
    ]);
  });

  test('no API key, no Token Vault and no secret: the runtime signs with its role; the small fast model is granted too', () => {
    const stack = newStack({ env: ENV });
    const core = agentCore(stack, {
      agent: CodingAgent.CLAUDE_CODE,
      bedrock: { models: [BedrockModel.inferenceProfile(`global.${SONNET}`), BedrockModel.foundationModel(HAIKU)], smallFastModel: BedrockModel.foundationModel(HAIKU) },
    });
    const template = Template.fromStack(stack);
    template.resourceCountIs('AWS::BedrockAgentCore::ApiKeyCredentialProvider', 0);
    template.resourceCountIs('AWS::BedrockAgentCore::WorkloadIdentity', 0);
    const actions = actionsOf(roleStatements(stack, core.codingAgentRuntime!));
    expect(actions.filter((a) => a.startsWith('secretsmanager:') || a.startsWith('kms:') || a.includes('WorkloadAccessToken') || a.includes('ResourceApiKey'))).toEqual([]);
    const env = runtimeEnvironment(template);
    expect(env).toEqual(expect.objectContaining({ ANTHROPIC_MODEL: `global.${SONNET}`, ANTHROPIC_SMALL_FAST_MODEL: HAIKU }));
    expect(Object.keys(env)).not.toEqual(expect.arrayContaining(['AGENTCORE_WORKLOAD_NAME']));
    expect(JSON.stringify(roleStatements(stack, core.codingAgentRuntime!))).toContain(`foundation-model/${HAIKU}`);
    template.hasResourceProperties('AWS::IAM::Policy', { PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({ Resource: Match.not(Match.exact('*')), Action: Match.arrayWith(['bedrock:InvokeModel']) })]) } });
    expect(new AwsSolutionsChecks().validateScope(stack).violations).toEqual([]);
  });

  test('a wildcard added to the role later is still reported: the listing\'s acknowledgment covers its own policy only', () => {
    const { stack, runtime } = bedrockRuntime({ models: [BedrockModel.foundationModel(SONNET)] });
    runtime.role.addToPrincipalPolicy(new iam.PolicyStatement({ actions: ['bedrock:InvokeModel'], resources: ['*'] }));
    expect(new AwsSolutionsChecks().validateScope(stack).violations.map((v) => v.ruleName)).toEqual([expect.stringContaining('AwsSolutions-IAM5')]);
  });

  test.each<[string, Partial<OabAgentCoreProps>, string]>([
    ['Bedrock with Kiro', { bedrock: { models: [BedrockModel.foundationModel(SONNET)] } }, 'bedrock requires agent CodingAgent.CLAUDE_CODE (only Claude Code runs keyless on Amazon Bedrock here), got "kiro"'],
    ['Bedrock with Codex', { agent: CodingAgent.CODEX, bedrock: { models: [BedrockModel.foundationModel(SONNET)] } }, 'got "codex"'],
    ['an empty model list', { agent: CodingAgent.CLAUDE_CODE, bedrock: { models: [] } }, 'bedrock.models must name at least one model or inference profile'],
    ['a geographic profile without its Regions', { agent: CodingAgent.CLAUDE_CODE, bedrock: { models: [BedrockModel.inferenceProfile(`eu.${SONNET}`)] } },
      'bedrock.models[0] is a geographic inference profile: name the Regions it routes to'],
    ['a model that is not Claude', { agent: CodingAgent.CLAUDE_CODE, bedrock: { models: [BedrockModel.foundationModel('amazon.nova-pro-v1:0')] } }, 'bedrock.models[0] must be a Claude model'],
    ['a profile in another Region', { agent: CodingAgent.CLAUDE_CODE, bedrock: { models: [BedrockModel.inferenceProfile(`arn:aws:bedrock:eu-west-1:123456789012:inference-profile/global.${SONNET}`)] } },
      'bedrock.models[0] is in eu-west-1, but the runtime is in us-east-1'],
    ['a small fast model not granted', { agent: CodingAgent.CLAUDE_CODE, bedrock: { models: [BedrockModel.foundationModel(SONNET)], smallFastModel: BedrockModel.foundationModel(HAIKU) } },
      'bedrock.smallFastModel must be one of bedrock.models'],
    ['a model variable set by hand', { agent: CodingAgent.CLAUDE_CODE, bedrock: { models: [BedrockModel.foundationModel(SONNET)] }, runtimeOptions: { environmentVariables: { ANTHROPIC_MODEL: 'x' } } },
      'runtimeOptions.environmentVariables.ANTHROPIC_MODEL is set by bedrock; remove it'],
    ['Bedrock with a runtime ARN', { runtimeArn: RUNTIME_ARN, bedrock: { models: [BedrockModel.foundationModel(SONNET)] } }, 'bedrock cannot be combined with runtimeArn'],
  ])('refuses %s, naming the prop', (_title, props, message) => {
    expect(() => agentCore(newStack({ env: ENV }), props)).toThrow(message);
  });

  test('refuses an API key with Bedrock, from a secret or brought', () => {
    const bedrock = { models: [BedrockModel.foundationModel(SONNET)] };
    expect(() => {
      const s = newStack({ env: ENV });
      agentCore(s, { agent: CodingAgent.CLAUDE_CODE, bedrock, apiKeySecret: { secret: secretNamed(s, 'k') } });
    }).toThrow('bedrock cannot be combined with apiKeySecret (on Amazon Bedrock, Claude Code signs its calls with the runtime\'s execution role: there is no key)');
    expect(() => {
      const s = newStack({ env: ENV });
      new CodingAgentRuntime(s, 'R', { agent: CodingAgent.CLAUDE_CODE, bedrock, apiKey: new AgentApiKey(s, 'K', { secret: secretNamed(s, 'k') }) });
    }).toThrow('bedrock cannot be combined with apiKey (on Amazon Bedrock, Claude Code signs its calls with the runtime\'s execution role: there is no key)');
  });
});
