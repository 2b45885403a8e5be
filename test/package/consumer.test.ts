/**
 * The package as a user gets it: `npm pack` (which builds what it ships), the tarball
 * installed next to aws-cdk-lib, constructs and cdk-nag in a fresh app, a strict TypeScript
 * app compiled against the installed typings and synthesized with cdk-nag registered, the
 * README's own snippets compiled the same way, and the installed bridge command run.
 * npm is asked to prefer its cache (filled by `npm ci`), so the install is quick and
 * normally needs no network.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const ROOT = join(__dirname, '..', '..');
const TIMEOUT_MS = 8 * 60_000;
const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'));
const devVersion = (name: string) => pkg.devDependencies[name] as string;

let work: string;
let app: string;
let tarball: string;
let packedFiles: string[];

function run(cmd: string, args: string[], cwd: string, env: NodeJS.ProcessEnv = {}): string {
  const r = spawnSync(cmd, args, { cwd, encoding: 'utf8', env: { ...process.env, ...env }, maxBuffer: 64 * 1024 * 1024 });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} exited ${r.status}:\n${r.stdout}\n${r.stderr}`);
  return r.stdout;
}

const TSCONFIG = {
  compilerOptions: {
    target: 'ES2022', module: 'commonjs', moduleResolution: 'node', lib: ['es2022', 'esnext.disposable'],  // aws-cdk-lib's typings use Disposable
    strict: true, noImplicitAny: true, noUnusedLocals: true, noImplicitReturns: true,
    // The installed typings are checked too: ours must compile in a strict app.
    skipLibCheck: false, types: [], outDir: 'out', rootDir: 'src',
    // The synth tests run the output: nothing is emitted from code that does not compile.
    noEmitOnError: true,
  },
  include: ['src'],
};

// Every construct, through the package root only, with the enums other CDK languages see.
const CONSUMER_APP = `
import { App, Duration, Stack, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { AwsSolutionsChecks } from 'cdk-nag';
import {
  AgentApiKey, AgentRuntimeImage, ApiKeyStorage, BedrockModel, type BedrockModelAccess, BridgeLogLevel, CancelStrategy, CodingAgent,
  CodingAgentRuntime, MessageProcessingMode, OabAgentCore, OabService,
} from 'openab-agentcore';

const app = new App();
Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
const env = { account: '123456789012', region: 'us-east-1' };

const one = new Stack(app, 'OneConstruct', { env });
new OabAgentCore(one, 'CodingAgent', {
  apiKeySecret: { secret: secretsmanager.Secret.fromSecretNameV2(one, 'Key', 'kiro/api-key') },
  discord: {
    botToken: { secret: secretsmanager.Secret.fromSecretNameV2(one, 'Discord', 'discord/bot'), field: 'botToken' },
    allowedChannels: ['123456789012345678'],
    messageProcessingMode: MessageProcessingMode.PER_THREAD,
  },
});

const parts = new Stack(app, 'Parts', { env });
const image = new AgentRuntimeImage(parts, 'Image');
const apiKey = new AgentApiKey(parts, 'ApiKey', {
  secret: secretsmanager.Secret.fromSecretNameV2(parts, 'KeySecret', 'kiro/plain-key'),
  storage: ApiKeyStorage.MANAGED,
  wholeSecretString: true,
});
const runtime = new CodingAgentRuntime(parts, 'Runtime', { image, apiKey, runtimeName: 'kiro_agent', idleSessionTimeout: Duration.minutes(30) });
runtime.grantShellAccess(new iam.Role(parts, 'Ci', { assumedBy: new iam.AccountRootPrincipal() }));
const slack = secretsmanager.Secret.fromSecretNameV2(parts, 'Slack', 'slack/bot');
new OabService(parts, 'Oab', {
  runtime,
  slack: { botToken: { secret: slack, field: 'botToken' }, appToken: { secret: slack, field: 'appToken' }, allowEveryone: true },
  bridge: { cancelStrategy: CancelStrategy.NOOP, logLevel: BridgeLogLevel.DEBUG },
});

// Each agent by one setting, and keyless Claude Code on Amazon Bedrock.
const agents = new Stack(app, 'Agents', { env });
const chat = (name: string) => ({
  botToken: { secret: secretsmanager.Secret.fromSecretNameV2(agents, name, 'discord/' + name), field: 'botToken' },
  allowedChannels: ['123456789012345678'],
});
const haiku: BedrockModel = BedrockModel.inferenceProfile('global.anthropic.claude-haiku-4-5-20251001-v1:0');
const bedrock: BedrockModelAccess = {
  models: [BedrockModel.inferenceProfile('us.anthropic.claude-sonnet-4-5-20250929-v1:0', ['us-east-1', 'us-west-2']), haiku],
  smallFastModel: haiku,
};
new OabAgentCore(agents, 'Claude', { agent: CodingAgent.CLAUDE_CODE, bedrock, discord: chat('claude') });
new OabAgentCore(agents, 'Codex', {
  runtimeImage: new AgentRuntimeImage(agents, 'CodexImage', { agent: CodingAgent.fromId('codex') }),
  apiKeySecret: { secret: secretsmanager.Secret.fromSecretNameV2(agents, 'OpenAiKey', 'codex/api-key') },
  discord: chat('codex'),
});
const shell: string = CodingAgent.KIRO.shellCommand;
void shell;
app.synth();
`;

/** The ```ts blocks of the README's "Using the constructs in your own app" section. */
function readmeSnippets(): string[] {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const start = readme.indexOf('### Using the constructs in your own app');
  const section = readme.slice(start, readme.indexOf('\n### ', start + 10));
  return [...section.matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1]);
}

beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), 'openab-agentcore-consumer-'));
  // Packed from a copy of the committed files, as from a fresh clone: nothing built beforehand,
  // and the build that prepack runs cannot touch the files other tests are running.
  const clone = join(work, 'clone');
  for (const file of run('git', ['ls-files', '-co', '--exclude-standard'], ROOT).split('\n').filter(Boolean)) {
    if (existsSync(join(ROOT, file))) cpSync(join(ROOT, file), join(clone, file));
  }
  symlinkSync(join(ROOT, 'node_modules'), join(clone, 'node_modules'));
  // `npm pack` runs prepack, which builds everything the tarball ships.
  const output = run('npm', ['pack', '--json', '--pack-destination', work], clone);
  // The build's own output comes first; npm's JSON report is the last thing printed.
  const packed = JSON.parse(output.slice(output.search(/^\[\s*$/m)))[0];
  tarball = join(work, packed.filename);
  packedFiles = packed.files.map((f: { path: string }) => f.path);

  app = join(work, 'app');
  mkdirSync(join(app, 'src'), { recursive: true });
  writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'consumer-app', version: '1.0.0', private: true }));
  run('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', tarball,
    `aws-cdk-lib@${devVersion('aws-cdk-lib')}`, `constructs@${devVersion('constructs')}`, `cdk-nag@${devVersion('cdk-nag')}`], app);
  writeFileSync(join(app, 'tsconfig.json'), JSON.stringify(TSCONFIG));
  writeFileSync(join(app, 'src', 'app.ts'), CONSUMER_APP);
  readmeSnippets().forEach((code, i) => writeFileSync(join(app, 'src', `readme-${i + 1}.ts`), code));
}, TIMEOUT_MS);

afterAll(() => {
  if (work) rmSync(work, { recursive: true, force: true });
});

describe('the npm package', () => {
  test('holds the built library, its typings, the jsii assembly, the bridge and the runtime build context, and nothing else', () => {
    for (const file of ['package.json', 'LICENSE', 'README.md', '.jsii', 'dist/lib/index.js', 'dist/lib/index.d.ts', 'dist/bridge.js', 'dist/bridge.packages.json',
      'runtimes/Dockerfile', 'runtimes/bin/entrypoint', 'runtimes/app/acp-session.js', 'runtimes/README.md',
      'runtimes/app/contract-server.js', 'runtimes/app/state-sync.js', 'oab/Dockerfile',
      'node_modules/smol-toml/package.json']) {
      expect(packedFiles).toContain(file);
    }
    const strays = packedFiles.filter((f) => /^(test|bench|scripts|bin|\.ci|lib|bridge|shared|runtimes\/src)\//.test(f)
      || f.startsWith('dist/test/') || f.endsWith('.map') || (f.endsWith('.ts') && !f.endsWith('.d.ts')));
    expect(strays).toEqual([]);
  });

  test('main, types and every exports target exist in the installed package', () => {
    const installed = join(app, 'node_modules', 'openab-agentcore');
    const manifest = JSON.parse(readFileSync(join(installed, 'package.json'), 'utf8'));
    const targets = [manifest.main, manifest.types, ...Object.values(manifest.bin as Record<string, string>),
      ...Object.values(manifest.exports as Record<string, string | Record<string, string>>).flatMap((t) => (typeof t === 'string' ? [t] : Object.values(t)))];
    expect(targets.length).toBeGreaterThan(4);
    for (const t of targets) expect(existsSync(join(installed, t))).toBe(true);
    const assembly = JSON.parse(readFileSync(join(installed, '.jsii'), 'utf8'));
    expect(assembly.name).toBe('openab-agentcore');
    expect(Object.keys(assembly.types)).toEqual(expect.arrayContaining(['openab-agentcore.OabAgentCore', 'openab-agentcore.CancelStrategy']));
  });

  test('a strict TypeScript app and the README snippets compile against the installed typings', () => {
    expect(readmeSnippets().length).toBeGreaterThanOrEqual(2);
    const tsc = join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
    run(process.execPath, [tsc, '-p', 'tsconfig.json'], app);
    expect(existsSync(join(app, 'out', 'app.js'))).toBe(true);
  }, TIMEOUT_MS);

  test('the app synthesizes with cdk-nag clean: a runtime, a task definition and a service, and a complete Kiro build context', () => {
    const outdir = join(work, 'cdk.out');
    // NODE_ENV=test (set by jest) makes any cdk-nag finding throw at synth.
    run(process.execPath, [join(app, 'out', 'app.js')], app, { CDK_OUTDIR: outdir, NODE_ENV: 'test' });
    for (const stack of ['OneConstruct', 'Parts']) {
      const template = JSON.parse(readFileSync(join(outdir, `${stack}.template.json`), 'utf8'));
      const types = Object.values(template.Resources as Record<string, { Type: string }>).map((r) => r.Type);
      expect(types).toEqual(expect.arrayContaining(['AWS::BedrockAgentCore::Runtime', 'AWS::ECS::TaskDefinition', 'AWS::ECS::Service']));
      expect(JSON.stringify(template)).not.toMatch(/sk-|xoxb-|xapp-/);
    }
    const assets = JSON.parse(readFileSync(join(outdir, 'OneConstruct.assets.json'), 'utf8'));
    const images = Object.values(assets.dockerImages as Record<string, { source: { directory: string } }>).map((a) => join(outdir, a.source.directory));
    const kiro = images.find((dir) => existsSync(join(dir, 'bin', 'entrypoint')));
    expect(kiro).toBeDefined();
    expect(readdirSync(join(kiro!, 'app')).sort()).toEqual(['acp-session.js', 'acp-session.packages.json', 'contract-server.js',
      'contract-server.packages.json', 'state-sync.js', 'state-sync.packages.json']);
    const oab = images.find((dir) => existsSync(join(dir, 'bridge.js')));
    expect(oab && readFileSync(join(oab, 'bridge.js'))).toEqual(readFileSync(join(app, 'node_modules', 'openab-agentcore', 'dist', 'bridge.js')));
  }, TIMEOUT_MS);

  test('one setting picks each agent\'s image target, command and key variable; Claude Code runs keyless on Amazon Bedrock', () => {
    const outdir = join(work, 'cdk.out');
    const template = JSON.parse(readFileSync(join(outdir, 'Agents.template.json'), 'utf8'));
    const resources = Object.values(template.Resources as Record<string, { Type: string; Properties: Record<string, unknown> }>);
    const runtimes = resources.filter((r) => r.Type === 'AWS::BedrockAgentCore::Runtime').map((r) => r.Properties.EnvironmentVariables as Record<string, unknown>);
    expect(runtimes).toEqual(expect.arrayContaining([
      expect.objectContaining({ CLAUDE_CODE_USE_BEDROCK: '1', ANTHROPIC_MODEL: 'us.anthropic.claude-sonnet-4-5-20250929-v1:0' }),
      expect.objectContaining({ OPENAB_AGENT_API_KEY_ENV: 'OPENAI_API_KEY' }),
    ]));
    expect(resources.filter((r) => r.Type === 'AWS::BedrockAgentCore::ApiKeyCredentialProvider')).toHaveLength(1);
    const text = JSON.stringify(template);
    expect(text).toContain('claude-agent-acp');
    expect(text).toContain('codex-acp');
    expect(text).toContain(':bedrock:us-west-2::foundation-model/anthropic.claude-sonnet-4-5-20250929-v1:0');
    const assets = JSON.parse(readFileSync(join(outdir, 'Agents.assets.json'), 'utf8'));
    const targets = Object.values(assets.dockerImages as Record<string, { source: { dockerBuildTarget?: string } }>).map((a) => a.source.dockerBuildTarget).filter(Boolean);
    expect(targets.sort()).toEqual(['claude-code', 'codex']);
  });

  test('the README\'s first snippet is a whole app that synthesizes with cdk-nag clean', () => {
    const outdir = join(work, 'readme.out');
    run(process.execPath, [join(app, 'out', 'readme-1.js')], app, { CDK_OUTDIR: outdir, NODE_ENV: 'test' });
    const templates = readdirSync(outdir).filter((f) => f.endsWith('.template.json'));
    expect(templates.length).toBeGreaterThan(0);
    const template = readFileSync(join(outdir, templates[0]), 'utf8');
    expect(template).toContain('AWS::BedrockAgentCore::Runtime');
  }, TIMEOUT_MS);

  test('asset paths resolve from a nested node_modules too', () => {
    const nested = join(app, 'node_modules', 'some-wrapper', 'node_modules', 'openab-agentcore');
    cpSync(join(app, 'node_modules', 'openab-agentcore'), nested, { recursive: true });
    // A file only the nested copy has, to tell which copy the asset was staged from.
    writeFileSync(join(nested, 'runtimes', 'nested-copy'), '');
    const out = execFileSync(process.execPath, ['-e', `
      const { App, Stack } = require('aws-cdk-lib');
      const { AgentRuntimeImage } = require(${JSON.stringify(nested)});
      const app = new App({ outdir: ${JSON.stringify(join(work, 'nested.out'))} });
      const stack = new Stack(app, 'S');
      new AgentRuntimeImage(stack, 'Image');
      const asm = app.synth();
      const assets = JSON.parse(require('fs').readFileSync(require('path').join(asm.directory, 'S.assets.json'), 'utf8'));
      console.log(Object.keys(assets.dockerImages).length);
    `], { cwd: app, encoding: 'utf8' });
    expect(out.trim()).toBe('1');
    // The staged context is a copy of the nested install's runtimes/, programs included.
    const staged = readdirSync(join(work, 'nested.out')).filter((d) => d.startsWith('asset.'));
    expect(staged).toHaveLength(1);
    expect(readdirSync(join(work, 'nested.out', staged[0]))).toContain('nested-copy');
    expect(readdirSync(join(work, 'nested.out', staged[0], 'app'))).toContain('contract-server.js');
  }, TIMEOUT_MS);

  test('the installed bridge command runs', () => {
    const help = run(join(app, 'node_modules', '.bin', 'openab-agentcore-bridge'), ['--help'], app);
    expect(help).toContain('--runtime-arn');
  });
});
