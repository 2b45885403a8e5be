import { parseBridgeArgs } from '../../bridge/src/args';
import { DEFAULT_SHELL_COMMAND } from '../../shared/contract/bridge-cli';

const ARN = 'arn:aws:bedrock-agentcore:us-west-2:123456789012:runtime/kiro_agent-AbCdE12345';

function run(argv: string[], env: NodeJS.ProcessEnv = {}) {
  return parseBridgeArgs(argv, env);
}

function config(argv: string[], env: NodeJS.ProcessEnv = {}) {
  const r = run(argv, env);
  if (r.kind !== 'run') throw new Error(`expected a config, got ${JSON.stringify(r)}`);
  return r.config;
}

function errorOf(argv: string[], env: NodeJS.ProcessEnv = {}): string {
  const r = run(argv, env);
  if (r.kind !== 'error') throw new Error(`expected an error, got ${r.kind}`);
  return r.message;
}

describe('bridge arguments', () => {
  test('defaults come from the ARN and the documented values', () => {
    const c = config(['--runtime-arn', ARN]);
    expect(c.region).toBe('us-west-2');
    expect(c.qualifier).toBe('DEFAULT');
    expect(c.shellCommand).toBe(DEFAULT_SHELL_COMMAND);
    expect(c.cancelStrategy).toBe('stop');
    expect(c.logLevel).toBe('info');
    expect(c.idleDetachSeconds).toBe(120);
    expect(c.maxMessageBytes).toBe(16 * 1024 * 1024);
    expect(c.endpointUrl).toBe('https://bedrock-agentcore.us-west-2.amazonaws.com');
    expect(c.runtime.accountId).toBe('123456789012');
  });

  test('every option is taken as given', () => {
    const c = config([
      '--runtime-arn', ARN, '--region', 'us-west-2', '--qualifier', 'prod', '--shell-command', '/opt/bin/agent acp',
      '--cancel-strategy', 'noop', '--endpoint-url', 'http://127.0.0.1:9000', '--log-level', 'debug', '--log-file', '/tmp/b.log',
      '--idle-detach', '0', '--max-message-bytes', '65536',
    ]);
    expect(c).toMatchObject({
      qualifier: 'prod', shellCommand: '/opt/bin/agent acp', cancelStrategy: 'noop',
      endpointUrl: 'http://127.0.0.1:9000', logLevel: 'debug', logFile: '/tmp/b.log', idleDetachSeconds: 0, maxMessageBytes: 65536,
    });
  });

  test('http:// is taken for loopback addresses only, from the flag or the environment', () => {
    for (const url of ['http://127.0.0.1:9000', 'http://localhost:8123', 'http://[::1]:8000', 'http://127.1.2.3']) {
      expect(config(['--runtime-arn', ARN, '--endpoint-url', url]).endpointUrl).toBe(url);
    }
    expect(errorOf(['--runtime-arn', ARN], { AWS_ENDPOINT_URL_BEDROCK_AGENTCORE: 'http://agentcore.internal' })).toContain('only for a loopback address');
  });

  test('the endpoint can come from AWS_ENDPOINT_URL_BEDROCK_AGENTCORE, and the flag wins over it', () => {
    expect(config(['--runtime-arn', ARN], { AWS_ENDPOINT_URL_BEDROCK_AGENTCORE: 'http://localhost:8123' }).endpointUrl).toBe('http://localhost:8123');
    expect(
      config(['--runtime-arn', ARN, '--endpoint-url', 'https://example.test'], { AWS_ENDPOINT_URL_BEDROCK_AGENTCORE: 'http://localhost:8123' }).endpointUrl,
    ).toBe('https://example.test');
  });

  test.each([
    [[], '--runtime-arn is required'],
    [['--runtime-arn', 'arn:aws:s3:::bucket'], '--runtime-arn must look like'],
    [['--runtime-arn', 'arn:aws:bedrock-agentcore:us-west-2:1234:runtime/kiro_agent-AbCdE12345'], 'invalid account id'],
    [['--runtime-arn', 'arn:aws:bedrock-agentcore:moon:123456789012:runtime/kiro_agent-AbCdE12345'], 'invalid region'],
    [['--runtime-arn', 'arn:aws:bedrock-agentcore:us-west-2:123456789012:runtime/bad/id'], 'invalid runtime id'],
    [['--runtime-arn', ARN, '--region', 'eu-west-1'], 'does not match the runtime ARN'],
    [['--runtime-arn', ARN, '--region', 'nowhere'], '--region must be an AWS Region'],
    [['--runtime-arn', ARN, '--qualifier', 'has-hyphen'], '--qualifier must be an endpoint name'],
    [['--runtime-arn', ARN, '--cancel-strategy', 'kill'], '--cancel-strategy must be "stop" or "noop", got "kill"'],
    [['--runtime-arn', ARN, '--shell-command', 'kiro-cli acp\nrm -rf /'], '--shell-command must be a single line'],
    [['--runtime-arn', ARN, '--shell-command', '   '], '--shell-command must not be empty'],
    [['--runtime-arn', ARN, '--log-level', 'loud'], '--log-level must be one of error|warn|info|debug'],
    [['--runtime-arn', ARN, '--endpoint-url', 'ftp://x'], '--endpoint-url must be an http:// or https:// URL'],
    [['--runtime-arn', ARN, '--endpoint-url', 'http://x/path'], 'base URL with no path'],
    [['--runtime-arn', ARN, '--idle-detach', '1.5'], '--idle-detach must be a whole number of seconds from 0 to 28800, got "1.5"'],
    [['--runtime-arn', ARN, '--idle-detach=-1'], '--idle-detach must be a whole number of seconds'],
    [['--runtime-arn', ARN, '--idle-detach', '28801'], '--idle-detach must be a whole number of seconds from 0 to 28800, got "28801"'],
    [['--runtime-arn', ARN, '--max-message-bytes', '16MiB'], '--max-message-bytes must be a whole number of bytes from 65536 (64 KiB) to 67108864 (64 MiB), got "16MiB"'],
    [['--runtime-arn', ARN, '--max-message-bytes', '65535'], '--max-message-bytes must be a whole number of bytes from 65536 (64 KiB) to 67108864 (64 MiB), got "65535"'],
    [['--runtime-arn', ARN, '--max-message-bytes', '67108865'], 'got "67108865"'],
    [['--runtime-arn', ARN, '--endpoint-url', 'http://bedrock-agentcore.us-west-2.amazonaws.com'], '--endpoint-url may be http:// only for a loopback address (a local emulator), got "http://bedrock-agentcore.us-west-2.amazonaws.com"; use https://'],
    [['--runtime-arn', ARN, '--endpoint-url', 'http://10.0.0.5:8080'], 'only for a loopback address'],
    [['--runtime-arn', ARN, '--runtime-arn', 'arn:aws:bedrock-agentcore:us-west-2:123456789012:runtime/other-AbCdE12345'], '--runtime-arn is given twice; give each option once'],
    [['--runtime-arn', ARN, '--qualifier', 'a', '--qualifier=b'], '--qualifier is given twice'],
    [['--runtime-arn', ARN, '--bogus'], "Unknown option '--bogus'"],
    [['--runtime-arn'], "Option '--runtime-arn <value>' argument missing"],
  ])('%j is refused with a message naming the problem', (argv, message) => {
    const text = errorOf(argv);
    expect(text).toContain(message);
    expect(text).not.toContain('\n');
  });

  test('--help and --version win over everything else', () => {
    expect(run(['--help']).kind).toBe('help');
    expect(run(['--version', '--runtime-arn', 'nonsense']).kind).toBe('version');
  });
});
