import { Duration, SecretValue } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import { AgentApiKey, CodingAgentRuntime, SHELL_ACCESS_ACTIONS } from '../../lib';
import {
  actionsOf,
  flattenCfn,
  logicalIdOf,
  newStack,
  resourcesOf,
  RUNTIME_ARN,
  secretNamed,
  statementsOfRole,
} from './support';

function newRuntime(props: ConstructorParameters<typeof CodingAgentRuntime>[2] = {}) {
  const stack = newStack();
  const runtime = new CodingAgentRuntime(stack, 'Runtime', { runtimeName: 'kiro_agent', ...props });
  return { stack, runtime };
}

function runtimeTemplate(props: ConstructorParameters<typeof CodingAgentRuntime>[2] = {}) {
  const { stack, runtime } = newRuntime(props);
  const template = Template.fromStack(stack);
  return { stack, runtime, template, roleId: logicalIdOf(template, 'AWS::IAM::Role', 'RuntimeExecutionRole') };
}

const LOG_GROUP = ':log-group:/aws/bedrock-agentcore/runtimes/kiro_agent-*';

describe('CodingAgentRuntime', () => {
  test('defaults: public network, 15 minute idle timeout, 8 hour lifetime, session storage at /mnt/agent, only its name in the environment', () => {
    const { template } = runtimeTemplate();
    template.resourceCountIs('AWS::BedrockAgentCore::Runtime', 1);
    template.hasResourceProperties('AWS::BedrockAgentCore::Runtime', {
      AgentRuntimeName: 'kiro_agent',
      NetworkConfiguration: { NetworkMode: 'PUBLIC' },
      LifecycleConfiguration: { IdleRuntimeSessionTimeout: 900, MaxLifetime: 28800 },
      FilesystemConfigurations: [{ SessionStorage: { MountPath: '/mnt/agent' } }],
      // The Runtime dimension of its programs' metrics.
      EnvironmentVariables: { OPENAB_RUNTIME_NAME: 'kiro_agent' },
    });
  });

  test('the runtime name gives way to 50 variables of the user\'s, with a warning that its metrics are unnamed', () => {
    const { stack } = newRuntime({ environmentVariables: Object.fromEntries(Array.from({ length: 50 }, (_, i) => [`VAR_${i}`, 'x'])) });
    const template = Template.fromStack(stack);
    const env = Object.values(template.findResources('AWS::BedrockAgentCore::Runtime'))[0].Properties.EnvironmentVariables as Record<string, string>;
    expect(Object.keys(env)).toHaveLength(50);
    expect(env.OPENAB_RUNTIME_NAME).toBeUndefined();
    Annotations.fromStack(stack).hasWarning('*', Match.stringLikeRegexp('no room for OPENAB_RUNTIME_NAME'));
    const { stack: roomy } = newRuntime({ environmentVariables: Object.fromEntries(Array.from({ length: 49 }, (_, i) => [`VAR_${i}`, 'x'])) });
    expect(Annotations.fromStack(roomy).findWarning('*', Match.stringLikeRegexp('OPENAB_RUNTIME_NAME'))).toEqual([]);
  });

  test('a generated runtime name satisfies AgentCore\'s pattern', () => {
    const stack = newStack();
    const runtime = new CodingAgentRuntime(stack, 'My-Runtime');
    expect(runtime.agentRuntimeName).toMatch(/^[a-zA-Z][a-zA-Z0-9_]{0,47}$/);
  });

  test('the execution role can be assumed only by AgentCore, for this runtime, in this account', () => {
    const { template, roleId } = runtimeTemplate();
    template.hasResourceProperties('AWS::IAM::Role', {
      AssumeRolePolicyDocument: {
        Statement: [{
          Action: 'sts:AssumeRole',
          Effect: 'Allow',
          Principal: { Service: 'bedrock-agentcore.amazonaws.com' },
          Condition: {
            StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } },
            ArnLike: { 'aws:SourceArn': Match.anyValue() },
          },
        }],
      },
    });
    const role = template.findResources('AWS::IAM::Role')[roleId];
    const sourceArn = flattenCfn(role.Properties.AssumeRolePolicyDocument.Statement[0].Condition.ArnLike['aws:SourceArn']);
    expect(sourceArn).toMatch(/:bedrock-agentcore:<Ref:AWS::Region>:<Ref:AWS::AccountId>:runtime\/kiro_agent-\*$/);
    // ArnLike's "*" as a regex: this runtime's id matches, a runtime whose name starts with this one's does not.
    const arnLike = new RegExp(`^${sourceArn.split('*').map((part) => part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('.*')}$`);
    const runtimeArn = (id: string) => `arn:<Ref:AWS::Partition>:bedrock-agentcore:<Ref:AWS::Region>:<Ref:AWS::AccountId>:runtime/${id}`;
    expect(runtimeArn('kiro_agent-AbCdEf1234')).toMatch(arnLike);
    expect(runtimeArn('kiro_agent_staging-AbCdEf1234')).not.toMatch(arnLike);
    expect(role.Properties.ManagedPolicyArns).toBeUndefined();
  });

  test('the execution role may pull its image and write its logs, and nothing else', () => {
    const { template, roleId } = runtimeTemplate();
    const statements = statementsOfRole(template, roleId);
    expect(actionsOf(statements)).toEqual([
      'ecr:BatchCheckLayerAvailability', 'ecr:BatchGetImage', 'ecr:GetAuthorizationToken', 'ecr:GetDownloadUrlForLayer',
      'logs:CreateLogGroup', 'logs:CreateLogStream', 'logs:DescribeLogGroups', 'logs:DescribeLogStreams', 'logs:PutLogEvents',
    ]);
    const byAction = (a: string) => statements.filter((s) => actionsOf([s]).includes(a)).flatMap(resourcesOf).map(flattenCfn);
    expect(byAction('logs:CreateLogGroup')).toEqual([expect.stringMatching(new RegExp(`${escape(LOG_GROUP)}$`))]);
    expect(byAction('logs:PutLogEvents')).toEqual([expect.stringMatching(new RegExp(`${escape(LOG_GROUP)}:log-stream:\\*$`))]);
    expect(byAction('logs:DescribeLogGroups')).toEqual([expect.stringMatching(/:log-group:\*$/)]);
    expect(byAction('ecr:BatchGetImage')).toEqual([expect.stringMatching(/:repository\/<Sub:cdk-hnb659fds-container-assets-/)]);
    // Resource "*" only where AWS requires it: ECR login has no resource-level permissions.
    expect(statements.filter((s) => resourcesOf(s).includes('*')).map((s) => s.Action)).toEqual(['ecr:GetAuthorizationToken']);
  });

  test('aws-cdk-lib\'s default runtime statements (X-Ray, metrics, every workload identity) are not granted', () => {
    const { template, roleId } = runtimeTemplate();
    const actions = actionsOf(statementsOfRole(template, roleId));
    for (const forbidden of [
      'xray:PutTraceSegments', 'cloudwatch:PutMetricData', 'bedrock-agentcore:GetWorkloadAccessToken',
      'bedrock-agentcore:GetWorkloadAccessTokenForJWT', 'bedrock-agentcore:GetWorkloadAccessTokenForUserId',
    ]) expect(actions).not.toContain(forbidden);
    const everyAction = Object.values(template.findResources('AWS::IAM::Policy'))
      .flatMap((p) => actionsOf(p.Properties.PolicyDocument.Statement));
    expect(everyAction.filter((a) => /^(xray|cloudwatch):/.test(a))).toEqual([]);
  });

  test.each([
    ['a role created in the stack', (stack: ReturnType<typeof newStack>) => new iam.Role(stack, 'Mine', { assumedBy: new iam.ServicePrincipal('bedrock-agentcore.amazonaws.com') })],
    ['an imported role', (stack: ReturnType<typeof newStack>) => iam.Role.fromRoleArn(stack, 'Mine', 'arn:aws:iam::123456789012:role/agentcore-runtime')],
  ])('executionRole: %s gets this construct\'s statements and none of aws-cdk-lib\'s defaults', (_name, make) => {
    const stack = newStack();
    const role = make(stack);
    const runtime = new CodingAgentRuntime(stack, 'Runtime', { runtimeName: 'kiro_agent', executionRole: role });
    expect(runtime.role).toBe(role);
    const template = Template.fromStack(stack);
    const everyAction = Object.values(template.findResources('AWS::IAM::Policy'))
      .flatMap((p) => actionsOf(p.Properties.PolicyDocument.Statement));
    expect(everyAction).toEqual(expect.arrayContaining(['logs:CreateLogGroup', 'logs:PutLogEvents', 'ecr:BatchGetImage', 'ecr:GetAuthorizationToken']));
    expect(everyAction.filter((a) => /^(xray|cloudwatch):/.test(a) || a.startsWith('bedrock-agentcore:GetWorkloadAccessToken'))).toEqual([]);
    // No role of its own besides the one given.
    expect(Object.keys(template.findResources('AWS::IAM::Role')).filter((id) => id.includes('ExecutionRole'))).toEqual([]);
  });

  test('AgentCore creates the runtime only after its role and policy exist', () => {
    const { template, roleId } = runtimeTemplate();
    const runtime = Object.values(template.findResources('AWS::BedrockAgentCore::Runtime'))[0];
    expect(runtime.DependsOn).toEqual(expect.arrayContaining([roleId, logicalIdOf(template, 'AWS::IAM::Policy', 'RuntimeExecutionRoleDefaultPolicy')]));
  });

  test('an API key sets the two name variables and grants exactly the reads that fetch it', () => {
    const stack = newStack();
    const apiKey = new AgentApiKey(stack, 'ApiKey', { secret: secretNamed(stack, 'kiro/api-key') });
    new CodingAgentRuntime(stack, 'Runtime', { runtimeName: 'kiro_agent', apiKey });
    const template = Template.fromStack(stack);
    const providerId = logicalIdOf(template, 'AWS::BedrockAgentCore::ApiKeyCredentialProvider');
    const identityId = logicalIdOf(template, 'AWS::BedrockAgentCore::WorkloadIdentity');

    template.hasResourceProperties('AWS::BedrockAgentCore::Runtime', {
      EnvironmentVariables: {
        AGENTCORE_WORKLOAD_NAME: template.findResources('AWS::BedrockAgentCore::WorkloadIdentity')[identityId].Properties.Name,
        AGENTCORE_CREDENTIAL_PROVIDER: template.findResources('AWS::BedrockAgentCore::ApiKeyCredentialProvider')[providerId].Properties.Name,
      },
    });
    const statements = statementsOfRole(template, logicalIdOf(template, 'AWS::IAM::Role', 'RuntimeExecutionRole'));
    const resources = (action: string) => statements.filter((s) => actionsOf([s]).includes(action)).flatMap(resourcesOf).map(flattenCfn).sort();
    expect(resources('bedrock-agentcore:GetWorkloadAccessToken')).toEqual([
      `<GetAtt:${identityId}.WorkloadIdentityArn>`,
      expect.stringMatching(/:workload-identity-directory\/default$/),
    ]);
    expect(resources('bedrock-agentcore:GetResourceApiKey')).toEqual([
      `<GetAtt:${providerId}.CredentialProviderArn>`,
      `<GetAtt:${identityId}.WorkloadIdentityArn>`,
      expect.stringMatching(/:token-vault\/default$/),
      expect.stringMatching(/:workload-identity-directory\/default$/),
    ]);
    expect(resources('secretsmanager:GetSecretValue')).toEqual([expect.stringMatching(/:secret:kiro\/api-key-\?{6}$/)]);
    expect(actionsOf(statements).filter((a) => a.startsWith('bedrock-agentcore:'))).toEqual([
      'bedrock-agentcore:GetResourceApiKey', 'bedrock-agentcore:GetWorkloadAccessToken',
    ]);
  });

  describe('grantShellAccess', () => {
    test('grants exactly InvokeAgentRuntimeCommandShell on the runtime and its DEFAULT endpoint', () => {
      const { stack, runtime } = newRuntime();
      const role = new iam.Role(stack, 'Client', { assumedBy: new iam.ServicePrincipal('ecs-tasks.amazonaws.com') });
      runtime.grantShellAccess(role);
      const template = Template.fromStack(stack);
      const runtimeId = logicalIdOf(template, 'AWS::BedrockAgentCore::Runtime');

      const statements = statementsOfRole(template, logicalIdOf(template, 'AWS::IAM::Role', 'Client'));
      expect(statements).toEqual([{
        Action: 'bedrock-agentcore:InvokeAgentRuntimeCommandShell',
        Effect: 'Allow',
        Resource: [
          { 'Fn::GetAtt': [runtimeId, 'AgentRuntimeArn'] },
          { 'Fn::Join': ['', [{ 'Fn::GetAtt': [runtimeId, 'AgentRuntimeArn'] }, '/runtime-endpoint/DEFAULT']] },
        ],
      }]);
      expect([...SHELL_ACCESS_ACTIONS]).toEqual(['bedrock-agentcore:InvokeAgentRuntimeCommandShell']);
    });

    test('grants nothing broader: no invoke, no stop, no wildcard', () => {
      const { stack, runtime } = newRuntime();
      const role = new iam.Role(stack, 'Client', { assumedBy: new iam.ServicePrincipal('ecs-tasks.amazonaws.com') });
      runtime.grantShellAccess(role);
      const template = Template.fromStack(stack);
      const statements = statementsOfRole(template, logicalIdOf(template, 'AWS::IAM::Role', 'Client'));
      for (const forbidden of [
        'bedrock-agentcore:InvokeAgentRuntime', 'bedrock-agentcore:InvokeAgentRuntimeForUser',
        'bedrock-agentcore:InvokeAgentRuntimeCommand', 'bedrock-agentcore:StopRuntimeSession', 'bedrock-agentcore:*',
      ]) expect(actionsOf(statements)).not.toContain(forbidden);
      expect(actionsOf(statements)).toHaveLength(1);
      expect(statements.flatMap(resourcesOf).map(flattenCfn).filter((r) => r.includes('*'))).toEqual([]);
    });

    test('names each endpoint given as a qualifier, once', () => {
      const stack = newStack();
      const runtime = CodingAgentRuntime.fromRuntimeArn(stack, 'Imported', RUNTIME_ARN);
      const role = new iam.Role(stack, 'Client', { assumedBy: new iam.ServicePrincipal('ecs-tasks.amazonaws.com') });
      runtime.grantShellAccess(role, { qualifiers: ['prod', 'canary', 'prod'] });
      const template = Template.fromStack(stack);
      expect(statementsOfRole(template, logicalIdOf(template, 'AWS::IAM::Role', 'Client'))[0].Resource).toEqual([
        RUNTIME_ARN, `${RUNTIME_ARN}/runtime-endpoint/prod`, `${RUNTIME_ARN}/runtime-endpoint/canary`,
      ]);
    });

    test('rejects an endpoint name AgentCore would not accept', () => {
      const stack = newStack();
      const runtime = CodingAgentRuntime.fromRuntimeArn(stack, 'Imported', RUNTIME_ARN);
      const role = new iam.Role(stack, 'Client', { assumedBy: new iam.ServicePrincipal('ecs-tasks.amazonaws.com') });
      expect(() => runtime.grantShellAccess(role, { qualifiers: ['my-endpoint'] })).toThrow('qualifiers[0] must be a runtime endpoint name');
    });
  });

  test('fromRuntimeArn keeps the ARN and shell command of a runtime deployed elsewhere', () => {
    const stack = newStack();
    const runtime = CodingAgentRuntime.fromRuntimeArn(stack, 'Imported', RUNTIME_ARN, { shellCommand: 'claude-code-acp' });
    expect(runtime.agentRuntimeArn).toBe(RUNTIME_ARN);
    expect(runtime.shellCommand).toBe('claude-code-acp');
    expect(CodingAgentRuntime.fromRuntimeArn(stack, 'Default', RUNTIME_ARN).shellCommand).toBe('kiro-cli acp --trust-all-tools');
  });

  test.each([
    ['not an ARN', 'runtimeArn must look like arn:aws:bedrock-agentcore:<region>:<account>:runtime/<runtime-id>, got "not an ARN"'],
    ['arn:aws:bedrock-agentcore:us-east-1:123456789012:runtime/my-agent', 'runtimeArn has an invalid runtime id "my-agent" (expected <name>-<10 characters>, as AgentCore assigns)'],
    ['arn:aws:bedrock:us-east-1:123456789012:runtime/my_agent-a1b2c3d4e5', 'runtimeArn must look like arn:aws:bedrock-agentcore:'],
  ])('fromRuntimeArn rejects %s', (arn, message) => {
    expect(() => CodingAgentRuntime.fromRuntimeArn(newStack(), 'Imported', arn)).toThrow(message);
  });

  test('in a VPC the runtime uses its subnets and a security group', () => {
    const stack = newStack();
    const vpc = new ec2.Vpc(stack, 'Vpc', { natGateways: 1, maxAzs: 2 });
    new CodingAgentRuntime(stack, 'Runtime', { vpc: { vpc } });
    Template.fromStack(stack).hasResourceProperties('AWS::BedrockAgentCore::Runtime', {
      NetworkConfiguration: {
        NetworkMode: 'VPC',
        NetworkModeConfig: { Subnets: Match.arrayWith([{ Ref: Match.stringLikeRegexp('^VpcPrivateSubnet') }]), SecurityGroups: [Match.anyValue()] },
      },
    });
  });

  test('lifecycle, session storage and environment follow the props', () => {
    const { template } = runtimeTemplate({
      idleSessionTimeout: Duration.hours(1),
      maxLifetime: Duration.hours(2),
      sessionStorageMountPath: '/mnt/work',
      environmentVariables: { KIRO_LOG_LEVEL: 'debug' },
    });
    template.hasResourceProperties('AWS::BedrockAgentCore::Runtime', {
      LifecycleConfiguration: { IdleRuntimeSessionTimeout: 3600, MaxLifetime: 7200 },
      FilesystemConfigurations: [{ SessionStorage: { MountPath: '/mnt/work' } }],
      // The launcher in the image is told where session storage is, since it is not /mnt/agent.
      EnvironmentVariables: { KIRO_LOG_LEVEL: 'debug', OPENAB_AGENT_HOME: '/mnt/work' },
    });
  });

  test('a busy ceiling other than the default reaches the contract server', () => {
    const { template } = runtimeTemplate({ maxBusyDuration: Duration.minutes(30) });
    template.hasResourceProperties('AWS::BedrockAgentCore::Runtime', { EnvironmentVariables: { OPENAB_MAX_BUSY_SECONDS: '1800' } });
    // The default is the image's own: nothing is set.
    runtimeTemplate().template.hasResourceProperties('AWS::BedrockAgentCore::Runtime', { EnvironmentVariables: { OPENAB_MAX_BUSY_SECONDS: Match.absent() } });
  });

  test('session storage can be turned off', () => {
    const { template } = runtimeTemplate({ sessionStorage: false });
    template.hasResourceProperties('AWS::BedrockAgentCore::Runtime', { FilesystemConfigurations: Match.absent() });
  });

  test('addEnvironment adds a variable after construction', () => {
    const { stack, runtime } = newRuntime();
    runtime.addEnvironment('GIT_AUTHOR_NAME', 'openab');
    Template.fromStack(stack).hasResourceProperties('AWS::BedrockAgentCore::Runtime', { EnvironmentVariables: { GIT_AUTHOR_NAME: 'openab' } });
  });

  describe('rejects at synth, naming the prop', () => {
    test.each<[string, ConstructorParameters<typeof CodingAgentRuntime>[2], string]>([
      ['a hyphenated name', { runtimeName: 'kiro-agent' }, 'runtimeName must match'],
      ['a name starting with a digit', { runtimeName: '1kiro' }, 'runtimeName must match'],
      ['a 49 character name', { runtimeName: `a${'b'.repeat(48)}` }, 'runtimeName must match'],
      ['an idle timeout under a minute', { idleSessionTimeout: Duration.seconds(30) }, 'idleSessionTimeout must be between 1 minute (60 s) and 8 hours (28800 s), got 30 s'],
      ['a busy ceiling over 8 hours', { maxBusyDuration: Duration.hours(9) }, 'maxBusyDuration must be between 1 minute (60 s) and 8 hours (28800 s), got 9 hours (32400 s)'],
      ['a lifetime over 8 hours', { maxLifetime: Duration.hours(9) }, 'maxLifetime must be between 1 minute (60 s) and 8 hours (28800 s), got 9 hours (32400 s)'],
      ['an idle timeout above the lifetime', { idleSessionTimeout: Duration.hours(2), maxLifetime: Duration.hours(1) }, 'idleSessionTimeout (7200 s) must not exceed maxLifetime (3600 s)'],
      ['a shell command with a newline', { shellCommand: 'kiro-cli acp\nrm -rf /' }, 'shellCommand must be a single line (it contains a newline)'],
      ['an empty shell command', { shellCommand: '  ' }, 'shellCommand must not be empty'],
      ['a mount path outside /mnt', { sessionStorageMountPath: '/home/agent' }, 'sessionStorageMountPath must be /mnt/<one directory>, got "/home/agent"'],
      ['a nested mount path', { sessionStorageMountPath: '/mnt/a/b' }, 'sessionStorageMountPath must be /mnt/<one directory>'],
      ['a bad variable name', { environmentVariables: { 'KIRO-MODE': 'x' } }, 'environmentVariables name "KIRO-MODE" must match'],
      ['a secret in a variable', { environmentVariables: { API_KEY: SecretValue.secretsManager('kiro').unsafeUnwrap() } }, 'environmentVariables.API_KEY is a secret reference; secrets never go in environment variables'],
    ])('%s', (_title, props, message) => {
      expect(() => new CodingAgentRuntime(newStack(), 'Runtime', props)).toThrow(message);
    });

    test('several problems at once', () => {
      expect(() => new CodingAgentRuntime(newStack(), 'Runtime', { runtimeName: 'a-b', maxLifetime: Duration.seconds(10), shellCommand: 'a\nb' }))
        .toThrow(/runtimeName must match[\s\S]*maxLifetime must be between[\s\S]*shellCommand must be a single line/);
    });

    test('a variable that the API key sets', () => {
      const stack = newStack();
      const apiKey = new AgentApiKey(stack, 'ApiKey', { secret: secretNamed(stack, 'kiro') });
      expect(() => new CodingAgentRuntime(stack, 'Runtime', { apiKey, environmentVariables: { AGENTCORE_WORKLOAD_NAME: 'x' } }))
        .toThrow('environmentVariables.AGENTCORE_WORKLOAD_NAME is set by apiKey');
    });
  });
});

function escape(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
