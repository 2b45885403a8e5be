/**
 * The exact text of validation messages that users see, construct by construct: each
 * row gives bad props and the full list of problems the one error reports, in order,
 * so a reworded message, a missing prop name or offending value, or an extra problem
 * fails the row. Each construct also accepts its baseline props (and values at the
 * limits), so every rejection below is caused by the row's props alone.
 */
import { Duration, RemovalPolicy, type Stack } from 'aws-cdk-lib';
import * as ecr from 'aws-cdk-lib/aws-ecr';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import { Construct } from 'constructs';
import {
  AgentApiKey,
  AgentRuntimeImage,
  ApiKeyStorage,
  type AgentRuntimeImageProps,
  CodingAgentRuntime,
  type CodingAgentRuntimeProps,
  type ICodingAgentRuntime,
  MessageProcessingMode,
  OabAgentCore,
  type OabAgentCoreProps,
  OabService,
  type OabServiceProps,
  parseStages,
} from '../../lib';
import { PropsValidationError } from '../../lib/validation';
import { importedRuntime, newStack, RUNTIME_ARN, secretNamed } from './support';

/** The error `fn` throws; fails the test if it throws none. */
function errorThrownBy(fn: () => unknown): Error {
  try {
    fn();
  } catch (e) {
    return e as Error;
  }
  throw new Error('expected an error, but none was thrown');
}

/** The construct's one error, as the user reads it. */
function propsErrorMessage(constructPath: string, problems: string[]): string {
  return `Invalid configuration for ${constructPath}:\n${problems.map((p) => `  - ${p}`).join('\n')}`;
}

function expectPropsError(fn: () => unknown, constructPath: string, problems: string[]): void {
  const error = errorThrownBy(fn);
  expect(error).toBeInstanceOf(PropsValidationError);
  expect(error.message).toBe(propsErrorMessage(constructPath, problems));
  expect((error as PropsValidationError).problems).toEqual(problems);
}

const PREBUILT_OAB_IMAGE = 'public.ecr.aws/example/openab:0.10.0-agentcore';

function ecrImage(stack: Stack, id = 'Image'): AgentRuntimeImage {
  return AgentRuntimeImage.fromEcrImage(stack, id, ecr.Repository.fromRepositoryName(stack, `${id}Repo`, 'agents/kiro'), 'v1.2.3');
}

function manyVariables(n: number): Record<string, string> {
  return Object.fromEntries(Array.from({ length: n }, (_, i) => [`VAR_${i}`, 'x']));
}

/** An ICodingAgentRuntime implemented outside this package: nothing checks its shell command but OabService. */
class HandMadeRuntime extends Construct implements ICodingAgentRuntime {
  readonly agentRuntimeArn = RUNTIME_ARN;
  constructor(scope: Construct, id: string, readonly shellCommand: string) {
    super(scope, id);
  }
  grantShellAccess(grantee: iam.IGrantable): iam.Grant {
    return iam.Grant.addToPrincipal({ grantee, actions: ['bedrock-agentcore:InvokeAgentRuntimeCommandShell'], resourceArns: [RUNTIME_ARN] });
  }
}

describe('AgentRuntimeImage validation messages', () => {
  test('accepts build argument names made of letters, digits and underscores', () => {
    expect(() => new AgentRuntimeImage(newStack(), 'Image', { buildArgs: { KIRO_CLI_VERSION: '1.23.1', _x9: 'y' } })).not.toThrow();
  });

  test.each<[string, AgentRuntimeImageProps, string[]]>([
    ['a hyphenated build argument name', { buildArgs: { 'KIRO-CLI-VERSION': '1' } },
      ['buildArgs name "KIRO-CLI-VERSION" must be letters, digits and "_", not starting with a digit']],
    ['a build argument name starting with a digit', { buildArgs: { '1ST': '1' } },
      ['buildArgs name "1ST" must be letters, digits and "_", not starting with a digit']],
    ['an empty build argument name', { buildArgs: { '': '1' } },
      ['buildArgs name "" must be letters, digits and "_", not starting with a digit']],
    ['two problems: a bad name whose value has a newline', { buildArgs: { 'A B': '1\n2' } },
      ['buildArgs name "A B" must be letters, digits and "_", not starting with a digit', 'buildArgs.A B must be a single line']],
  ])('rejects %s', (_name, props, problems) => {
    expectPropsError(() => new AgentRuntimeImage(newStack(), 'Image', props), 'Test/Image', problems);
  });
});

describe('CodingAgentRuntime validation messages', () => {
  function newRuntime(extra: (stack: Stack) => CodingAgentRuntimeProps = () => ({})): CodingAgentRuntime {
    const stack = newStack();
    return new CodingAgentRuntime(stack, 'Runtime', { runtimeName: 'kiro_agent', image: ecrImage(stack), ...extra(stack) });
  }

  test('accepts values at the limits', () => {
    expect(() => newRuntime((stack) => ({
      description: 'd'.repeat(1200),
      environmentVariables: { ...manyVariables(46), LONG: 'v'.repeat(2048) }, // 47 + the API key's 2 + OPENAB_AGENT_HOME (the mount is not /mnt/agent) = 50
      shellCommand: 'kiro-cli acp\t--trust-all-tools',
      sessionStorage: true,
      sessionStorageMountPath: '/mnt/work',
      apiKey: new AgentApiKey(stack, 'ApiKey', { secret: secretNamed(stack, 'openab/kiro') }),
    }))).not.toThrow();
    expect(() => newRuntime(() => ({ description: 'd', environmentVariables: manyVariables(50) }))).not.toThrow();
  });

  test.each<[string, (stack: Stack) => CodingAgentRuntimeProps, string[]]>([
    ['a mount path with session storage off', () => ({ sessionStorage: false, sessionStorageMountPath: '/mnt/work' }),
      ['sessionStorageMountPath has no effect when sessionStorage is false']],
    ['an invalid mount path with session storage off (only the mount path being ignored is reported)', () => ({ sessionStorage: false, sessionStorageMountPath: '/home/agent' }),
      ['sessionStorageMountPath has no effect when sessionStorage is false']],
    ['51 environment variables', () => ({ environmentVariables: manyVariables(51) }),
      ['environmentVariables has 51 variables; AgentCore allows at most 50']],
    ['49 environment variables and the API key\'s 2, in the one error', (stack) => ({
      environmentVariables: manyVariables(49),
      apiKey: new AgentApiKey(stack, 'ApiKey', { secret: secretNamed(stack, 'openab/kiro') }),
    }), ['environmentVariables has 51 variables; AgentCore allows at most 50']],
    ['a 2049 character environment variable', () => ({ environmentVariables: { LONG: 'v'.repeat(2049) } }),
      ['environmentVariables.LONG is 2049 characters long; AgentCore allows at most 2048']],
    ['a shell command with an escape character', () => ({ shellCommand: 'kiro-cli acp \x1b[0m' }),
      ['shellCommand must not contain control characters']],
    ['a shell command with a NUL', () => ({ shellCommand: 'kiro-cli\x00acp' }),
      ['shellCommand must not contain control characters']],
    ['an empty description', () => ({ description: '' }),
      ['description must be 1-1200 characters, got 0']],
    ['a 1201 character description', () => ({ description: 'd'.repeat(1201) }),
      ['description must be 1-1200 characters, got 1201']],
    ['a variable that the API key sets', (stack) => ({
      apiKey: new AgentApiKey(stack, 'ApiKey', { secret: secretNamed(stack, 'openab/kiro') }),
      environmentVariables: { AGENTCORE_CREDENTIAL_PROVIDER: 'mine', GIT_AUTHOR_NAME: 'openab' },
    }), ['environmentVariables.AGENTCORE_CREDENTIAL_PROVIDER is set by apiKey; remove it from environmentVariables']],
    ['both variables that the API key sets', (stack) => ({
      apiKey: new AgentApiKey(stack, 'ApiKey', { secret: secretNamed(stack, 'openab/kiro') }),
      environmentVariables: { AGENTCORE_WORKLOAD_NAME: 'w', AGENTCORE_CREDENTIAL_PROVIDER: 'p' },
    }), [
      'environmentVariables.AGENTCORE_WORKLOAD_NAME is set by apiKey; remove it from environmentVariables',
      'environmentVariables.AGENTCORE_CREDENTIAL_PROVIDER is set by apiKey; remove it from environmentVariables',
    ]],
    ['two problems: too many variables, one too long, a control character, a mount path ignored and a long description', () => ({
      environmentVariables: { ...manyVariables(50), LONG: 'v'.repeat(3000) },
      shellCommand: 'kiro\x07',
      sessionStorage: false,
      sessionStorageMountPath: '/mnt/work',
      description: 'd'.repeat(1300),
    }), [
      'shellCommand must not contain control characters',
      'environmentVariables has 51 variables; AgentCore allows at most 50',
      'environmentVariables.LONG is 3000 characters long; AgentCore allows at most 2048',
      'sessionStorageMountPath has no effect when sessionStorage is false',
      'description must be 1-1200 characters, got 1300',
    ]],
  ])('rejects %s', (_name, extra, problems) => {
    expectPropsError(() => newRuntime(extra), 'Test/Runtime', problems);
  });

  test.each<[string, (stack: Stack) => unknown, string, string[]]>([
    ['shell access on no endpoint', (stack) => importedRuntime(stack).grantShellAccess(new iam.AccountRootPrincipal(), { qualifiers: [] }),
      'Test/ImportedRuntime', ['qualifiers must name at least one endpoint']],
    ['shell access on no endpoint of a runtime created here', (stack) =>
      new CodingAgentRuntime(stack, 'Runtime', { image: ecrImage(stack) }).grantShellAccess(new iam.AccountRootPrincipal(), { qualifiers: [] }),
    'Test/Runtime', ['qualifiers must name at least one endpoint']],
    ['an imported runtime whose shell command has a control character', (stack) => importedRuntime(stack, 'kiro-cli\x7facp'),
      'Test/ImportedRuntime', ['shellCommand must not contain control characters']],
    ['two problems: two bad endpoint names', (stack) => importedRuntime(stack).grantShellAccess(new iam.AccountRootPrincipal(), { qualifiers: ['my-endpoint', 'DEFAULT', '1st'] }),
      'Test/ImportedRuntime', [
        'qualifiers[0] must be a runtime endpoint name matching /^[a-zA-Z][a-zA-Z0-9_]{0,47}$/, got "my-endpoint"',
        'qualifiers[2] must be a runtime endpoint name matching /^[a-zA-Z][a-zA-Z0-9_]{0,47}$/, got "1st"',
      ]],
  ])('rejects %s', (_name, build, constructPath, problems) => {
    expectPropsError(() => build(newStack()), constructPath, problems);
  });

  test('an imported runtime grants shell access on the default endpoint and accepts a shell command with a tab', () => {
    expect(() => importedRuntime(newStack(), 'kiro-cli\tacp').grantShellAccess(new iam.AccountRootPrincipal())).not.toThrow();
  });
});

describe('OabService validation messages', () => {
  /** A prebuilt OAB image, so no bridge bundle is needed and none is reported missing. */
  function newService(extra: (stack: Stack) => Partial<OabServiceProps> = () => ({})): OabService {
    const stack = newStack();
    return new OabService(stack, 'Oab', {
      runtime: importedRuntime(stack),
      discord: { botToken: { secret: secretNamed(stack, 'openab/discord'), field: 'botToken' }, allowedChannels: ['123456789012345678'] },
      image: ecs.ContainerImage.fromRegistry(PREBUILT_OAB_IMAGE),
      ...extra(stack),
    });
  }
  const slackOnly = (stack: Stack, mode: string) => ({
    discord: undefined,
    slack: {
      botToken: { secret: secretNamed(stack, 'openab/slack-bot') },
      appToken: { secret: secretNamed(stack, 'openab/slack-app') },
      allowedUsers: ['U0123ABCD'],
      messageProcessingMode: mode as never,
    },
  });

  test('accepts its baseline and values at the limits', () => {
    expect(() => newService()).not.toThrow();
    expect(() => newService((stack) => ({
      stateDirectory: '/data/openab',
      stateRemovalPolicy: RemovalPolicy.DESTROY,
      cpu: 4096,
      memoryLimitMiB: 8192,
      bridge: { extraArgs: ['--launcher', 'none', '$HOME', '--endpoint-url=https://agentcore.example.com/', '--region', 'us-east-1'] },
      discord: { botToken: { secret: secretNamed(stack, 'd') }, allowedChannels: ['123456789012345678'], allowedRoleIds: ['1'], messageProcessingMode: MessageProcessingMode.PER_LANE },
      additionalConfig: { markdown: { footer: 'costs $5 {each}' } },
    }))).not.toThrow();
    expect(() => newService((stack) => slackOnly(stack, 'per-thread'))).not.toThrow();
    expect(() => newService(() => ({ persistThreadMap: false }))).not.toThrow();
    expect(() => newService((stack) => ({ discord: { botToken: { secret: secretNamed(stack, 'd') }, allowEveryone: true } }))).not.toThrow();
    expect(() => newService((stack) => ({ discord: { botToken: { secret: secretNamed(stack, 'd') }, allowedUsers: ['1'], allowEveryone: false } }))).not.toThrow();
  });

  test.each<[string, (stack: Stack) => Partial<OabServiceProps>, string[]]>([
    ['a Discord bot with no allowlist', (stack) => ({ discord: { botToken: { secret: secretNamed(stack, 'd') }, allowDm: true } }),
      ['discord: set discord.allowedChannels or discord.allowedUsers, or discord.allowEveryone: true to let every member of every server the bot is in prompt the agent, which runs its tools without asking as the runtime\'s execution role']],
    ['a Discord bot with role ids only (a mention trigger, not an allowlist)', (stack) => ({ discord: { botToken: { secret: secretNamed(stack, 'd') }, allowedRoleIds: ['1'] } }),
      ['discord: set discord.allowedChannels or discord.allowedUsers, or discord.allowEveryone: true to let every member of every server the bot is in prompt the agent, which runs its tools without asking as the runtime\'s execution role']],
    ['a Discord bot whose allowlists are empty, allowEveryone false', (stack) => ({ discord: { botToken: { secret: secretNamed(stack, 'd') }, allowedChannels: [], allowedRoleIds: [], allowEveryone: false } }),
      ['discord: set discord.allowedChannels or discord.allowedUsers, or discord.allowEveryone: true to let every member of every server the bot is in prompt the agent, which runs its tools without asking as the runtime\'s execution role']],
    ['a Slack bot with no allowlist, beside a Discord bot with one', (stack) => ({
      slack: { botToken: { secret: secretNamed(stack, 'sb') }, appToken: { secret: secretNamed(stack, 'sa') } },
    }), ['slack: set slack.allowedChannels or slack.allowedUsers, or slack.allowEveryone: true to let every member of the workspace prompt the agent, which runs its tools without asking as the runtime\'s execution role']],
    ['allowEveryone beside an allowlist', (stack) => ({ discord: { botToken: { secret: secretNamed(stack, 'd') }, allowedUsers: ['1'], allowedRoleIds: ['2'], allowEveryone: true } }),
      ['discord.allowEveryone cannot be combined with discord.allowedUsers (the allowlist already decides who may prompt the agent)']],
    ['a state directory without state', () => ({ persistThreadMap: false, stateDirectory: '/data/openab' }),
      ['stateDirectory has no effect when persistThreadMap is false']],
    ['a relative state directory', () => ({ stateDirectory: 'state/openab' }),
      ['stateDirectory must be an absolute path below / of letters, digits, ".", "_", "-" and "/", got "state/openab"']],
    ['a CPU Fargate does not offer', () => ({ cpu: 300 }),
      ['cpu must be one of 256, 512, 1024, 2048, 4096 (Fargate CPU units), got 300']],
    ['a CPU Fargate does not offer, whatever the memory', () => ({ cpu: 3, memoryLimitMiB: 1 }),
      ['cpu must be one of 256, 512, 1024, 2048, 4096 (Fargate CPU units), got 3']],
    ['a bridge option OAB would expand', () => ({ bridge: { extraArgs: ['--endpoint-url', 'https://${HOST}/'] } }),
      ['bridge.extraArgs[1] must not contain "${" (OAB expands ${VAR} in its config file), got "https://${HOST}/"']],
    ['a bridge option with a newline', () => ({ bridge: { extraArgs: ['--launcher', 'none\n--log-level'] } }),
      ['bridge.extraArgs[1] must not contain newlines or control characters, got "none\\n--log-level"']],
    ['a bridge option with a tab', () => ({ bridge: { extraArgs: ['--launcher\tnone'] } }),
      ['bridge.extraArgs[0] must not contain newlines or control characters, got "--launcher\\tnone"']],
    ['a bridge option with a newline and a ${', () => ({ bridge: { extraArgs: ['a\n${B}'] } }),
      ['bridge.extraArgs[0] must not contain newlines or control characters, got "a\\n${B}"', 'bridge.extraArgs[0] must not contain "${" (OAB expands ${VAR} in its config file), got "a\n${B}"']],
    ['a bridge option OabService renders, in either form', () => ({ bridge: { extraArgs: ['--launcher', 'none', '--qualifier', 'prod', '--log-level=debug'] } }), [
      'bridge.extraArgs[2] sets --qualifier, which OabService renders from bridge.qualifier; set bridge.qualifier instead, got "--qualifier"',
      'bridge.extraArgs[4] sets --log-level, which OabService renders from bridge.logLevel; set bridge.logLevel instead, got "--log-level=debug"',
    ]],
    ['the runtime ARN, shell command, idle detach, log file and cancel strategy as bridge options', () => ({
      bridge: { extraArgs: ['--runtime-arn=arn:x', '--shell-command', 'sh', '--idle-detach', '0', '--log-file=/tmp/b.log', '--cancel-strategy', 'noop'] },
    }), [
      'bridge.extraArgs[0] sets --runtime-arn, which OabService renders from runtime; set runtime instead, got "--runtime-arn=arn:x"',
      'bridge.extraArgs[1] sets --shell-command, which OabService renders from runtime.shellCommand; set runtime.shellCommand instead, got "--shell-command"',
      'bridge.extraArgs[3] sets --idle-detach, which OabService renders from bridge.idleDetach; set bridge.idleDetach instead, got "--idle-detach"',
      'bridge.extraArgs[5] sets --log-file, which OabService renders from bridge.logFile; set bridge.logFile instead, got "--log-file=/tmp/b.log"',
      'bridge.extraArgs[6] sets --cancel-strategy, which OabService renders from bridge.cancelStrategy; set bridge.cancelStrategy instead, got "--cancel-strategy"',
    ]],
    ['a runtime of your own whose shell command has a control character', (stack) => ({ runtime: new HandMadeRuntime(stack, 'HandMade', 'kiro-cli\x1bacp') }),
      ['runtime.shellCommand must not contain control characters']],
    ['an unknown Discord message processing mode', (stack) => ({ discord: { botToken: { secret: secretNamed(stack, 'd') }, allowedUsers: ['1'], messageProcessingMode: 'batch' as never } }),
      ['discord.messageProcessingMode must be "per-message", "per-thread" or "per-lane", got "batch"']],
    ['an unknown Slack message processing mode', (stack) => slackOnly(stack, 'per-user'),
      ['slack.messageProcessingMode must be "per-message", "per-thread" or "per-lane", got "per-user"']],
    ['a ${VAR} in an additional config key', () => ({ additionalConfig: { markdown: { '${USER}': 'x' } } }),
      ['a key of additionalConfig.markdown must not contain "${" (OAB expands ${VAR} in its config file), got "${USER}"']],
    ['a ${VAR} in an additional config value', () => ({ additionalConfig: { markdown: { footer: 'by ${USER}' } } }),
      ['additionalConfig.markdown.footer must not contain "${" (OAB expands ${VAR} in its config file), got "by ${USER}"']],
    ['a ${VAR} deep in an additional config array', () => ({ additionalConfig: { cron: { jobs: [{ schedule: '0 9 * * *' }, { prompt: 'hi ${NAME}' }] } } }),
      ['additionalConfig.cron.jobs[1].prompt must not contain "${" (OAB expands ${VAR} in its config file), got "hi ${NAME}"']],
    ['two problems: a ${VAR} as a Discord user id', (stack) => ({ discord: { botToken: { secret: secretNamed(stack, 'd') }, allowedUsers: ['${ME}'] } }), [
      'discord.allowedUsers[0] must be an id matching /^\\d{1,20}$/, got "${ME}"',
      'discord.allowedUsers[0] must not contain "${" (OAB expands ${VAR} in its config file), got "${ME}"',
    ]],
    ['two problems: a ${VAR} as a Slack message processing mode', (stack) => slackOnly(stack, '${MODE}'), [
      'slack.messageProcessingMode must be "per-message", "per-thread" or "per-lane", got "${MODE}"',
      'slack.messageProcessingMode must not contain "${" (OAB expands ${VAR} in its config file), got "${MODE}"',
    ]],
    ['two problems: a relative state directory without state', () => ({ persistThreadMap: false, stateDirectory: 'state' }), [
      'stateDirectory has no effect when persistThreadMap is false',
      'stateDirectory must be an absolute path below / of letters, digits, ".", "_", "-" and "/", got "state"',
    ]],
    ['problems of the props and of the config together', () => ({
      cpu: 100,
      bridge: { extraArgs: ['x\ty'] },
      additionalConfig: { stt: { model: '${MODEL}' } },
    }), [
      'bridge.extraArgs[0] must not contain newlines or control characters, got "x\\ty"',
      'cpu must be one of 256, 512, 1024, 2048, 4096 (Fargate CPU units), got 100',
      'additionalConfig.stt.model must not contain "${" (OAB expands ${VAR} in its config file), got "${MODEL}"',
    ]],
  ])('rejects %s', (_name, extra, problems) => {
    expectPropsError(() => newService(extra), 'Test/Oab', problems);
  });
});

describe('OabAgentCore validation messages', () => {
  function newOabAgentCore(extra: (stack: Stack) => Partial<OabAgentCoreProps>): OabAgentCore {
    const stack = newStack();
    return new OabAgentCore(stack, 'OabAgentCore', {
      discord: { botToken: { secret: secretNamed(stack, 'openab/discord'), field: 'botToken' }, allowedChannels: ['123456789012345678'] },
      image: ecs.ContainerImage.fromRegistry(PREBUILT_OAB_IMAGE),
      ...extra(stack),
    });
  }
  const brought = (stack: Stack) => CodingAgentRuntime.fromRuntimeArn(stack, 'Elsewhere', RUNTIME_ARN);
  const apiKey = (stack: Stack) => new AgentApiKey(stack, 'ApiKey', { secret: secretNamed(stack, 'openab/kiro') });

  test('accepts a brought runtime or a runtime ARN (with its shell command) and nothing else for the runtime', () => {
    expect(() => newOabAgentCore((s) => ({ runtime: brought(s) }))).not.toThrow();
    expect(() => newOabAgentCore(() => ({ runtimeArn: RUNTIME_ARN, runtimeOptions: { shellCommand: 'codex-acp' } }))).not.toThrow();
    // An option left undefined (as spreading optional settings does) is not an option given.
    expect(() => newOabAgentCore((s) => ({ runtime: brought(s), runtimeOptions: { runtimeName: undefined, sessionStorage: undefined } }))).not.toThrow();
  });

  test.each<[string, (stack: Stack) => Partial<OabAgentCoreProps>, string[]]>([
    ['a runtime image with a brought runtime', (s) => ({ runtime: brought(s), runtimeImage: ecrImage(s) }),
      ['runtimeImage cannot be combined with runtime (no runtime is created here)']],
    ['an API key with a runtime ARN', (s) => ({ runtimeArn: RUNTIME_ARN, apiKey: apiKey(s) }),
      ['apiKey cannot be combined with runtimeArn (no runtime is created here)']],
    ['an API key secret with a brought runtime', (s) => ({ runtime: brought(s), apiKeySecret: { secret: secretNamed(s, 'openab/kiro') } }),
      ['apiKeySecret cannot be combined with runtime (no runtime is created here)']],
    ['a key storage with a runtime ARN (not reported as missing its secret)', () => ({ runtimeArn: RUNTIME_ARN, apiKeyStorage: ApiKeyStorage.MANAGED }),
      ['apiKeyStorage cannot be combined with runtimeArn (no runtime is created here)']],
    ['a key for the API key secret with storage "managed"', (s) => ({
      apiKeySecret: { secret: secretNamed(s, 'openab/kiro'), encryptionKey: kms.Key.fromKeyArn(s, 'Key', 'arn:aws:kms:us-east-1:123456789012:key/k') },
      apiKeyStorage: ApiKeyStorage.MANAGED,
    }), ['apiKeySecret.encryptionKey applies only to apiKeyStorage "external" (with "managed", CloudFormation reads the secret at deploy with the deploying role)']],
    ['a shell command option with a brought runtime', (s) => ({ runtime: brought(s), runtimeOptions: { shellCommand: 'codex-acp' } }),
      ['runtimeOptions.shellCommand cannot be combined with runtime (no runtime is created here)']],
    ['runtime options besides the shell command with a runtime ARN', () => ({
      runtimeArn: RUNTIME_ARN,
      runtimeOptions: { shellCommand: 'codex-acp', sessionStorage: false, maxLifetime: Duration.hours(1) },
    }), [
      'runtimeOptions.sessionStorage cannot be combined with runtimeArn (no runtime is created here)',
      'runtimeOptions.maxLifetime cannot be combined with runtimeArn (no runtime is created here)',
    ]],
    ['two problems: a runtime image and a runtime name with a brought runtime', (s) => ({ runtime: brought(s), runtimeImage: ecrImage(s), runtimeOptions: { runtimeName: 'team_agent' } }), [
      'runtimeImage cannot be combined with runtime (no runtime is created here)',
      'runtimeOptions.runtimeName cannot be combined with runtime (no runtime is created here)',
    ]],
    ['a runtime and a runtime ARN, with an API key (reported against the runtime)', (s) => ({ runtime: brought(s), runtimeArn: RUNTIME_ARN, apiKey: apiKey(s) }), [
      'runtime and runtimeArn cannot both be given',
      'apiKey cannot be combined with runtime (no runtime is created here)',
    ]],
    ['its own problem and the created runtime\'s, together, named as given here', (s) => ({
      apiKeySecret: { secret: secretNamed(s, 'openab/other-key') },
      apiKey: apiKey(s),
      runtimeOptions: { runtimeName: 'team-agent', maxLifetime: Duration.seconds(10) },
    }), [
      'apiKeySecret and apiKey cannot both be given',
      'runtimeOptions.runtimeName must match /^[a-zA-Z][a-zA-Z0-9_]{0,47}$/ (a letter, then up to 47 letters, digits or underscores; no hyphens), got "team-agent"',
      'runtimeOptions.maxLifetime must be between 1 minute (60 s) and 8 hours (28800 s), got 10 s',
      'runtimeOptions.idleSessionTimeout (900 s) must not exceed maxLifetime (10 s)',
    ]],
  ])('rejects %s', (_name, extra, problems) => {
    expectPropsError(() => newOabAgentCore(extra), 'Test/OabAgentCore', problems);
  });
});

describe('parseStages validation messages', () => {
  const KNOWN = 'account, region, bots, agent, bedrock, apiKeySecret, apiKeyJsonField, discordSecret, discordAllowedChannels, discordAllowedUsers, '
    + 'slackSecret, slackAllowedChannels, slackAllowedUsers, allowEveryone, secretsKmsKeyArn, runtimeArn, runtimeName, shellCommand, runtimeBuildArgs, idleSessionTimeoutMinutes, '
    + 'maxLifetimeHours, fargateSpot, enableExecuteCommand, persistThreadMap, retainState, logRetentionDays, dashboard, alarms, alarmTopicArn, cpu, memoryLimitMiB, maxMessageMiB, '
    + 'maxSessions, sessionTtlHours, openabVersion, tags';
  const stagesError = (problems: string[]) => `Invalid openab-agentcore:stages in cdk.json:\n${problems.map((p) => `  - ${p}`).join('\n')}`;

  test('accepts every setting with its kind', () => {
    expect(() => parseStages({
      dev: {
        slackSecret: 'arn:aws:secretsmanager:us-east-1:123456789012:secret:openab/slack-AbCdEf',
        secretsKmsKeyArn: 'arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab',
        slackAllowedUsers: ['U1'], fargateSpot: true, cpu: 512, discordAllowedChannels: ['1'], tags: { team: 'a' }, runtimeBuildArgs: {},
      },
    })).not.toThrow();
  });

  test('accepts a chat platform open to everyone only when the stage says so, and "//" comments', () => {
    expect(() => parseStages({ dev: { discordSecret: 'd', allowEveryone: true } })).not.toThrow();
    // allowEveryone opens the platform without an allowlist; Discord keeps its channels.
    expect(() => parseStages({ dev: { discordSecret: 'd', discordAllowedChannels: ['1'], slackSecret: 's', allowEveryone: true } })).not.toThrow();
    expect(() => parseStages({ dev: { slackSecret: 's', slackAllowedUsers: ['U1'], '//slackAllowedUsers': 'replace before deploying' } })).not.toThrow();
  });

  test.each<[string, unknown, string[]]>([
    ['a Discord bot with no allowlist', { dev: { discordSecret: 'd' } },
      ['dev: discordSecret is set without discordAllowedChannels or discordAllowedUsers, so every member of every server the bot is in could prompt the agent, which runs its tools without asking as the runtime\'s execution role; set an allowlist, or "allowEveryone": true to accept that']],
    ['a Slack bot whose allowlist is empty', { qa: { slackSecret: 's', slackAllowedChannels: [], slackAllowedUsers: [] } },
      ['qa: slackSecret is set without slackAllowedChannels or slackAllowedUsers, so every member of the workspace could prompt the agent, which runs its tools without asking as the runtime\'s execution role; set an allowlist, or "allowEveryone": true to accept that']],
    ['two open platforms, each reported', { dev: { discordSecret: 'd', slackSecret: 's', allowEveryone: false } },
      ['dev: discordSecret is set without discordAllowedChannels or discordAllowedUsers, so every member of every server the bot is in could prompt the agent, which runs its tools without asking as the runtime\'s execution role; set an allowlist, or "allowEveryone": true to accept that', 'dev: slackSecret is set without slackAllowedChannels or slackAllowedUsers, so every member of the workspace could prompt the agent, which runs its tools without asking as the runtime\'s execution role; set an allowlist, or "allowEveryone": true to accept that']],
    ['allowEveryone where every platform has an allowlist', { dev: { discordSecret: 'd', discordAllowedUsers: ['1'], allowEveryone: true } },
      ['dev.allowEveryone has no effect: every chat platform of the stage has an allowlist']],
    ['a partial secret ARN and a key alias', {
      dev: {
        discordSecret: 'arn:aws:secretsmanager:us-east-1:123456789012:secret:openab/discord', discordAllowedUsers: ['1'],
        secretsKmsKeyArn: 'arn:aws:kms:us-east-1:123456789012:alias/openab',
      },
    }, [
      'dev.discordSecret must be a secret name or a full secret ARN (ending in "-" and the 6 characters Secrets Manager adds), got "arn:aws:secretsmanager:us-east-1:123456789012:secret:openab/discord"',
      'dev.secretsKmsKeyArn must be a KMS key ARN (arn:…:kms:<region>:<account>:key/<key id>; not an alias, which IAM cannot grant on), got "arn:aws:kms:us-east-1:123456789012:alias/openab"',
    ]],
    ['an alarm topic that is not an SNS topic ARN, without alarms', { dev: { slackSecret: 's', allowEveryone: true, alarmTopicArn: 'arn:aws:sqs:us-east-1:123456789012:ops' } }, [
      'dev.alarmTopicArn must be an SNS topic ARN (arn:…:sns:<region>:<account>:<name>), got "arn:aws:sqs:us-east-1:123456789012:ops"',
      'dev.alarmTopicArn needs "alarms": true',
    ]],
    ['an unknown setting', { dev: { slackSecret: 's', allowEveryone: true, vpcId: 'vpc-1' } },
      [`dev.vpcId is not a known setting (known: ${KNOWN})`]],
    ['a misspelt setting', { prod: { discordSecret: 'd', discordAllowedUsers: ['1'], fargatespot: true } },
      [`prod.fargatespot is not a known setting (known: ${KNOWN})`]],
    ['an empty string', { dev: { slackSecret: '', allowEveryone: true } },
      ['dev.slackSecret must be a non-empty string, got ""']],
    ['a boolean as a string', { dev: { slackSecret: 's', allowEveryone: true, fargateSpot: 'yes' } },
      ['dev.fargateSpot must be true or false, got "yes"']],
    ['a number as a string', { dev: { slackSecret: 's', allowEveryone: true, cpu: '512' } },
      ['dev.cpu must be a finite number, got "512"']],
    ['a string for a list', { dev: { slackSecret: 's', allowEveryone: true, discordAllowedChannels: '123' } },
      ['dev.discordAllowedChannels must be a list of strings, got "123"']],
    ['numbers in a list', { dev: { slackSecret: 's', allowEveryone: true, discordAllowedUsers: [123] } },
      ['dev.discordAllowedUsers must be a list of strings, got [123]']],
    ['a number in a record', { dev: { slackSecret: 's', allowEveryone: true, tags: { team: 1 } } },
      ['dev.tags must be an object of string values, got {"team":1}']],
    ['a list for a record', { dev: { slackSecret: 's', allowEveryone: true, runtimeBuildArgs: ['A=1'] } },
      ['dev.runtimeBuildArgs must be an object of string values, got ["A=1"]']],
    ['settings that are a string', { dev: 'slack' },
      ['dev: settings must be an object']],
    ['settings that are a list', { dev: [{ slackSecret: 's', allowEveryone: true }] },
      ['dev: settings must be an object']],
    ['settings that are null, in JSON', '{"dev": null}',
      ['dev: settings must be an object']],
    ['two problems: settings that are not an object, and a setting of the wrong kind in another stage', { dev: 5, staging: { slackSecret: 's', allowEveryone: true, cpu: true } }, [
      'dev: settings must be an object',
      'staging.cpu must be a finite number, got true',
    ]],
    ['two problems in one stage: an unknown setting and a wrong kind', { dev: { discordSecret: 'd', discordAllowedUsers: ['1'], vpc: 'x', retainState: 'no' } }, [
      `dev.vpc is not a known setting (known: ${KNOWN})`,
      'dev.retainState must be true or false, got "no"',
    ]],
  ])('rejects %s', (_name, raw, problems) => {
    const error = errorThrownBy(() => parseStages(raw));
    expect(error.message).toBe(stagesError(problems));
  });
});
