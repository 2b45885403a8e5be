/**
 * `npx cdk synth` of the example app, through the real CLI (aws-cdk 2.1148.1 from
 * devDependencies) and cdk.json's app command: offline, no AWS account, no Docker.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT } from './support';

const CLI = join(ROOT, 'node_modules', 'aws-cdk', 'bin', 'cdk');
const TIMEOUT_MS = 90_000;

interface Run { code: number | null; stdout: string; stderr: string }

function cdk(args: string[], outdir: string): Promise<Run> {
  return new Promise((resolve, reject) => {
    const env: NodeJS.ProcessEnv = {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      // Offline and quiet: no version check, telemetry, notices, instance metadata or credentials.
      CDK_DISABLE_VERSION_CHECK: 'true',
      CDK_DISABLE_CLI_TELEMETRY: 'true',
      AWS_EC2_METADATA_DISABLED: 'true',
      AWS_CONFIG_FILE: '/dev/null',
      AWS_SHARED_CREDENTIALS_FILE: '/dev/null',
    };
    const child = spawn(process.execPath, [CLI, ...args, '--no-notices', '--output', outdir], { cwd: ROOT, env });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => { stdout += d; });
    child.stderr.on('data', (d) => { stderr += d; });
    const timer = setTimeout(() => child.kill('SIGKILL'), TIMEOUT_MS - 5_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

describe('npx cdk synth', () => {
  let outdir: string;
  beforeEach(() => { outdir = mkdtempSync(join(tmpdir(), 'openab-agentcore-cdk-out-')); });
  afterEach(() => rmSync(outdir, { recursive: true, force: true }));

  test('-c stage=dev synthesizes one stack, cdk-nag clean, without an account or Docker', async () => {
    const run = await cdk(['synth', '-c', 'stage=dev', '--quiet'], outdir);
    expect(run.stderr).not.toMatch(/AwsSolutions-|Error/);
    expect(run.code).toBe(0);

    const manifest = JSON.parse(readFileSync(join(outdir, 'manifest.json'), 'utf8')) as { artifacts: Record<string, { type: string }> };
    const stacks = Object.entries(manifest.artifacts).filter(([, a]) => a.type === 'aws:cloudformation:stack').map(([id]) => id);
    expect(stacks).toEqual(['OpenabAgentCore-dev']);

    const template = JSON.parse(readFileSync(join(outdir, 'OpenabAgentCore-dev.template.json'), 'utf8')) as { Resources: Record<string, { Type: string }> };
    const types = Object.values(template.Resources).map((r) => r.Type);
    expect(types).toEqual(expect.arrayContaining([
      'AWS::BedrockAgentCore::Runtime', 'AWS::BedrockAgentCore::ApiKeyCredentialProvider', 'AWS::BedrockAgentCore::WorkloadIdentity',
      'AWS::ECS::Service', 'AWS::EFS::FileSystem',
    ]));

    // Both images are staged for a later build (linux/arm64), not built: synth needs no Docker.
    const assets = JSON.parse(readFileSync(join(outdir, 'OpenabAgentCore-dev.assets.json'), 'utf8')) as { dockerImages: Record<string, { source: { platform: string; directory: string } }> };
    const images = Object.values(assets.dockerImages);
    expect(images.map((i) => i.source.platform)).toEqual(['linux/arm64', 'linux/arm64']);
    for (const image of images) expect(existsSync(join(outdir, image.source.directory, 'Dockerfile'))).toBe(true);

    const report = JSON.parse(readFileSync(join(outdir, 'validation-report.json'), 'utf8')) as { pluginReports: { violations: unknown[] }[] };
    expect(report.pluginReports.flatMap((p) => p.violations)).toEqual([]);
  }, TIMEOUT_MS);

  test('without -c stage, all stages are listed for the pipeline to pick', async () => {
    const run = await cdk(['list'], outdir);
    expect(run.code).toBe(0);
    expect(run.stdout.trim().split('\n')).toEqual(['OpenabAgentCore-dev', 'OpenabAgentCore-staging', 'OpenabAgentCore-prod']);
  }, TIMEOUT_MS);

  test('an unknown stage fails with the list of stages', async () => {
    const run = await cdk(['synth', '-c', 'stage=qa', '--quiet'], outdir);
    expect(run.code).not.toBe(0);
    expect(run.stderr).toContain('-c stage=qa is not a stage in cdk.json; choose one of: dev, staging, prod');
  }, TIMEOUT_MS);
});
