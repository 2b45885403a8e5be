import { Match, Template } from 'aws-cdk-lib/assertions';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { AgentApiKey, ApiKeyStorage, ENV_CREDENTIAL_PROVIDER, ENV_WORKLOAD_NAME } from '../../lib';
import { actionsOf, flattenCfn, logicalIdOf, newStack, resourcesOf, secretNamed, statementsOfRole } from './support';

const SECRET_ARN = 'arn:aws:secretsmanager:us-east-1:123456789012:secret:openab/kiro-AbCdEf';

function withGrantee(props: Partial<ConstructorParameters<typeof AgentApiKey>[2]> = {}) {
  const stack = newStack();
  const role = new iam.Role(stack, 'RuntimeRole', { assumedBy: new iam.ServicePrincipal('bedrock-agentcore.amazonaws.com') });
  const apiKey = new AgentApiKey(stack, 'ApiKey', { secret: secretNamed(stack, 'openab/kiro'), ...props });
  apiKey.grantUse(role);
  const template = Template.fromStack(stack);
  return { stack, apiKey, template, statements: statementsOfRole(template, logicalIdOf(template, 'AWS::IAM::Role', 'RuntimeRole')) };
}

describe('AgentApiKey', () => {
  test('by default the Token Vault reads the apiKey field of your secret: the template names the secret, never the key', () => {
    const { template } = withGrantee();
    template.hasResourceProperties('AWS::BedrockAgentCore::ApiKeyCredentialProvider', {
      ApiKeySecretSource: 'EXTERNAL',
      ApiKeySecretConfig: { SecretId: 'openab/kiro', JsonKey: 'apiKey' },
      ApiKey: Match.absent(),
    });
    template.resourceCountIs('AWS::BedrockAgentCore::WorkloadIdentity', 1);
  });

  test('a complete secret ARN is passed as the secret id', () => {
    const stack = newStack();
    new AgentApiKey(stack, 'ApiKey', { secret: secretsmanager.Secret.fromSecretCompleteArn(stack, 'S', SECRET_ARN), jsonField: 'key' });
    Template.fromStack(stack).hasResourceProperties('AWS::BedrockAgentCore::ApiKeyCredentialProvider', {
      ApiKeySecretConfig: { SecretId: SECRET_ARN, JsonKey: 'key' },
    });
  });

  test('storage "managed" copies the key through a dynamic reference, never the value', () => {
    const { template } = withGrantee({ storage: ApiKeyStorage.MANAGED });
    template.hasResourceProperties('AWS::BedrockAgentCore::ApiKeyCredentialProvider', {
      ApiKey: '{{resolve:secretsmanager:openab/kiro:SecretString:apiKey::}}',
      ApiKeySecretSource: Match.absent(),
    });
  });

  test('storage "managed" can pin a version and read the whole secret string', () => {
    const stack = newStack();
    new AgentApiKey(stack, 'ApiKey', { secret: secretNamed(stack, 'openab/kiro'), storage: ApiKeyStorage.MANAGED, wholeSecretString: true, secretVersionId: 'v-123' });
    Template.fromStack(stack).hasResourceProperties('AWS::BedrockAgentCore::ApiKeyCredentialProvider', {
      ApiKey: '{{resolve:secretsmanager:openab/kiro:SecretString:::v-123}}',
    });
  });

  test('grantUse grants a token for this workload identity, this key, and read of your one secret', () => {
    const { template, statements } = withGrantee();
    const providerId = logicalIdOf(template, 'AWS::BedrockAgentCore::ApiKeyCredentialProvider');
    const identityId = logicalIdOf(template, 'AWS::BedrockAgentCore::WorkloadIdentity');
    expect(actionsOf(statements)).toEqual([
      'bedrock-agentcore:GetResourceApiKey', 'bedrock-agentcore:GetWorkloadAccessToken',
      'secretsmanager:DescribeSecret', 'secretsmanager:GetSecretValue',
    ]);
    const resources = statements.flatMap(resourcesOf).map(flattenCfn);
    expect(resources).toEqual(expect.arrayContaining([
      `<GetAtt:${providerId}.CredentialProviderArn>`,
      `<GetAtt:${identityId}.WorkloadIdentityArn>`,
      expect.stringMatching(/:secret:openab\/kiro-\?{6}$/),
    ]));
    expect(resources.filter((r) => r.includes('*'))).toEqual([]);
    for (const forbidden of [
      'bedrock-agentcore:GetWorkloadAccessTokenForUserId', 'bedrock-agentcore:GetWorkloadAccessTokenForJWT', 'secretsmanager:PutSecretValue',
    ]) expect(actionsOf(statements)).not.toContain(forbidden);
  });

  test('grantUse lets the runtime decrypt a secret with a customer managed key, through Secrets Manager only', () => {
    const stack = newStack();
    const key = new kms.Key(stack, 'Key');
    const secret = secretsmanager.Secret.fromSecretAttributes(stack, 'S', { secretCompleteArn: SECRET_ARN, encryptionKey: key });
    const role = new iam.Role(stack, 'RuntimeRole', { assumedBy: new iam.ServicePrincipal('bedrock-agentcore.amazonaws.com') });
    new AgentApiKey(stack, 'ApiKey', { secret }).grantUse(role);
    const template = Template.fromStack(stack);
    template.hasResourceProperties('AWS::KMS::Key', {
      KeyPolicy: {
        Statement: Match.arrayWith([Match.objectLike({
          Action: 'kms:Decrypt',
          Principal: { AWS: { 'Fn::GetAtt': [logicalIdOf(template, 'AWS::IAM::Role', 'RuntimeRole'), 'Arn'] } },
          Condition: { StringEquals: { 'kms:ViaService': Match.anyValue() } },
        })]),
      },
    });
  });

  test('a secret imported by full ARN is granted exactly; an imported key (encryptionKey) is decrypted only through Secrets Manager, only when given', () => {
    const KEY_ARN = 'arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab';
    const grants = (withKey: boolean) => {
      const stack = newStack();
      const role = new iam.Role(stack, 'RuntimeRole', { assumedBy: new iam.ServicePrincipal('bedrock-agentcore.amazonaws.com') });
      new AgentApiKey(stack, 'ApiKey', {
        secret: secretsmanager.Secret.fromSecretCompleteArn(stack, 'S', SECRET_ARN),
        encryptionKey: withKey ? kms.Key.fromKeyArn(stack, 'Key', KEY_ARN) : undefined,
      }).grantUse(role);
      const template = Template.fromStack(stack);
      return statementsOfRole(template, logicalIdOf(template, 'AWS::IAM::Role', 'RuntimeRole'));
    };
    const withKey = grants(true);
    const read = withKey.filter((st) => actionsOf([st]).includes('secretsmanager:GetSecretValue'));
    expect(read.flatMap(resourcesOf)).toEqual([SECRET_ARN]);
    expect(withKey.filter((st) => actionsOf([st]).includes('kms:Decrypt'))).toEqual([expect.objectContaining({
      Action: 'kms:Decrypt',
      Resource: KEY_ARN,
      Condition: { StringEquals: { 'kms:ViaService': { 'Fn::Join': ['', ['secretsmanager.', { Ref: 'AWS::Region' }, '.amazonaws.com']] } } },
    })]);
    expect(actionsOf(grants(false)).filter((a) => a.startsWith('kms:'))).toEqual([]);
  });

  test('storage "managed" grants read of the Token Vault copies, and says why', () => {
    const { stack, statements } = withGrantee({ storage: ApiKeyStorage.MANAGED });
    const secretResources = statements.filter((s) => actionsOf([s]).includes('secretsmanager:GetSecretValue')).flatMap(resourcesOf).map(flattenCfn);
    expect(secretResources).toEqual([expect.stringMatching(/:secret:bedrock-agentcore-identity!\*$/)]);
    const role = stack.node.findChild('RuntimeRole');
    const acknowledged = role.node.metadata.filter((m) => m.type === 'aws:cdk:acknowledged-rules').map((m) => m.data as Record<string, string>);
    expect(acknowledged).toEqual(expect.arrayContaining([
      { 'Annotation::AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:secretsmanager:<AWS::Region>:<AWS::AccountId>:secret:bedrock-agentcore-identity!*]': expect.stringContaining('storage "managed"') },
    ]));
  });

  test('tells the runtime the two names, not the key', () => {
    const stack = newStack();
    const apiKey = new AgentApiKey(stack, 'ApiKey', { secret: secretNamed(stack, 'openab/kiro'), credentialProviderName: 'kiro-key', workloadIdentityName: 'kiro-agent' });
    expect(apiKey.runtimeEnvironment).toEqual({ [ENV_WORKLOAD_NAME]: 'kiro-agent', [ENV_CREDENTIAL_PROVIDER]: 'kiro-key' });
    expect([ENV_WORKLOAD_NAME, ENV_CREDENTIAL_PROVIDER]).toEqual(['AGENTCORE_WORKLOAD_NAME', 'AGENTCORE_CREDENTIAL_PROVIDER']);
  });

  describe('rejects at synth, naming the prop', () => {
    test.each<[string, Partial<ConstructorParameters<typeof AgentApiKey>[2]>, string]>([
      ['a provider name with a space', { credentialProviderName: 'kiro key' }, 'credentialProviderName must match'],
      ['a two character workload name', { workloadIdentityName: 'ab' }, 'workloadIdentityName must match'],
      ['an unknown storage', { storage: 'vault' as never }, 'storage must be "managed" or "external", got "vault"'],
      ['a whole-string secret with external storage', { wholeSecretString: true }, 'wholeSecretString requires storage "managed"'],
      ['a whole-string secret and a JSON field', { storage: ApiKeyStorage.MANAGED, wholeSecretString: true, jsonField: 'key' }, 'jsonField cannot be combined with wholeSecretString'],
      ['a version pin with external storage', { secretVersionId: 'v1' }, 'secretVersionId applies only to storage "managed"'],
      ['a JSON field with a colon', { jsonField: 'a:b' }, 'jsonField must be 1-256 characters without ":"'],
      ['a key with storage "managed", which only the deploying role reads', { storage: ApiKeyStorage.MANAGED, encryptionKey: 'key' as never },
        'encryptionKey applies only to storage "external"'],
    ])('%s', (_title, props, message) => {
      const stack = newStack();
      const encryptionKey = props.encryptionKey && kms.Key.fromKeyArn(stack, 'Key', 'arn:aws:kms:us-east-1:123456789012:key/k');
      expect(() => new AgentApiKey(stack, 'ApiKey', { secret: secretNamed(stack, 'openab/kiro'), ...props, encryptionKey })).toThrow(message);
    });
  });
});
