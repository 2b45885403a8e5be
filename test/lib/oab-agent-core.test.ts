import { Template } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import { AgentApiKey, ApiKeyStorage, CodingAgentRuntime, OabAgentCore, type OabAgentCoreProps } from '../../lib';
import { flattenCfn, logicalIdOf, newStack, RUNTIME_ARN, secretNamed, statementsOfRole } from './support';

function oabAgentCore(extra: (stack: ReturnType<typeof newStack>) => Partial<OabAgentCoreProps> = () => ({})) {
  const stack = newStack();
  const construct = new OabAgentCore(stack, 'OabAgentCore', {
    discord: { botToken: { secret: secretNamed(stack, 'openab/discord'), field: 'botToken' }, allowedChannels: ['123456789012345678'] },
    ...extra(stack),
  });
  return { stack, construct };
}

describe('OabAgentCore', () => {
  test('composes image, runtime, API key and service, and OAB drives that runtime', () => {
    const { stack, construct } = oabAgentCore((s) => ({ apiKeySecret: { secret: secretNamed(s, 'openab/kiro') } }));
    const template = Template.fromStack(stack);
    template.resourceCountIs('AWS::BedrockAgentCore::Runtime', 1);
    template.resourceCountIs('AWS::BedrockAgentCore::ApiKeyCredentialProvider', 1);
    template.resourceCountIs('AWS::BedrockAgentCore::WorkloadIdentity', 1);
    template.resourceCountIs('AWS::ECS::Service', 1);
    expect(construct.codingAgentRuntime).toBeInstanceOf(CodingAgentRuntime);
    expect(construct.apiKey).toBeInstanceOf(AgentApiKey);

    const runtimeId = logicalIdOf(template, 'AWS::BedrockAgentCore::Runtime');
    const taskRole = statementsOfRole(template, logicalIdOf(template, 'AWS::IAM::Role', 'OabAgentCoreOabTaskDefinitionTaskRole'));
    expect(taskRole.find((s) => s.Action === 'bedrock-agentcore:InvokeAgentRuntimeCommandShell')!.Resource)
      .toEqual([{ 'Fn::GetAtt': [runtimeId, 'AgentRuntimeArn'] }, { 'Fn::Join': ['', [{ 'Fn::GetAtt': [runtimeId, 'AgentRuntimeArn'] }, '/runtime-endpoint/DEFAULT']] }]);
    template.hasResourceProperties('AWS::BedrockAgentCore::ApiKeyCredentialProvider', { ApiKeySecretConfig: { SecretId: 'openab/kiro', JsonKey: 'apiKey' } });
  });

  test('by default the Token Vault reads the key from your secret; "managed" has it copied through a dynamic reference, never the key', () => {
    const { stack } = oabAgentCore((s) => ({ apiKeySecret: { secret: secretNamed(s, 'openab/kiro') }, apiKeyStorage: ApiKeyStorage.MANAGED }));
    const providers = Template.fromStack(stack).findResources('AWS::BedrockAgentCore::ApiKeyCredentialProvider');
    const apiKey = flattenCfn(Object.values(providers)[0].Properties.ApiKey);
    expect(apiKey).toMatch(/^\{\{resolve:secretsmanager:.*openab\/kiro.*:SecretString:apiKey::\}\}$/);
    expect(Object.values(providers)[0].Properties.ApiKeySecretConfig).toBeUndefined();
  });

  test('with a runtime ARN, only OAB is deployed and it drives that runtime', () => {
    const { stack } = oabAgentCore(() => ({ runtimeArn: RUNTIME_ARN, runtimeOptions: { shellCommand: 'codex-acp' } }));
    const template = Template.fromStack(stack);
    template.resourceCountIs('AWS::BedrockAgentCore::Runtime', 0);
    template.resourceCountIs('AWS::BedrockAgentCore::ApiKeyCredentialProvider', 0);
    const [taskDefinition] = Object.values(template.findResources('AWS::ECS::TaskDefinition'));
    const config = flattenCfn(taskDefinition.Properties.ContainerDefinitions[0].Command[4]);
    expect(config).toContain(`"--runtime-arn", "${RUNTIME_ARN}"`);
    expect(config).toContain('"--shell-command", "codex-acp"');
  });

  test('every part can be brought: runtime, VPC', () => {
    const { stack } = oabAgentCore((s) => ({
      runtime: CodingAgentRuntime.fromRuntimeArn(s, 'Elsewhere', RUNTIME_ARN),
      vpc: new ec2.Vpc(s, 'Vpc', { maxAzs: 2, natGateways: 1 }),
    }));
    const template = Template.fromStack(stack);
    template.resourceCountIs('AWS::EC2::VPC', 1);
    template.resourceCountIs('AWS::BedrockAgentCore::Runtime', 0);
  });

  test('runtime options reach the runtime created', () => {
    const { stack } = oabAgentCore(() => ({ runtimeOptions: { runtimeName: 'team_agent', sessionStorage: false } }));
    Template.fromStack(stack).hasResourceProperties('AWS::BedrockAgentCore::Runtime', { AgentRuntimeName: 'team_agent' });
  });

  describe('rejects conflicting props, naming them', () => {
    test.each<[string, (s: ReturnType<typeof newStack>) => Partial<OabAgentCoreProps>, string]>([
      ['a runtime and a runtime ARN', (s) => ({ runtime: CodingAgentRuntime.fromRuntimeArn(s, 'R', RUNTIME_ARN), runtimeArn: RUNTIME_ARN }), 'runtime and runtimeArn cannot both be given'],
      ['an API key secret with a runtime ARN', (s) => ({ runtimeArn: RUNTIME_ARN, apiKeySecret: { secret: secretNamed(s, 'k') } }), 'apiKeySecret cannot be combined with runtimeArn'],
      ['runtime options with a brought runtime', (s) => ({ runtime: CodingAgentRuntime.fromRuntimeArn(s, 'R', RUNTIME_ARN), runtimeOptions: { runtimeName: 'x' } }), 'runtimeOptions.runtimeName cannot be combined with runtime'],
      ['an API key and an API key secret', (s) => ({ apiKeySecret: { secret: secretNamed(s, 'k') }, apiKey: new AgentApiKey(s, 'K', { secret: secretNamed(s, 'k2') }) }), 'apiKeySecret and apiKey cannot both be given'],
      ['a bad runtime ARN', () => ({ runtimeArn: 'arn:aws:bedrock-agentcore:us-east-1:123:runtime/x' }), 'runtimeArn has an invalid account id "123" (12 digits expected)'],
      ['a bad runtime name', () => ({ runtimeOptions: { runtimeName: 'team-agent' } }), 'runtimeOptions.runtimeName must match'],
      ['a key storage with no key secret', () => ({ apiKeyStorage: ApiKeyStorage.MANAGED }), 'apiKeyStorage requires apiKeySecret'],
    ])('%s', (_title, extra, message) => {
      expect(() => oabAgentCore(extra)).toThrow(message);
    });
  });
});
