/**
 * Shared helpers for the construct tests: one way to make a fresh stack, and small
 * readers for what a synthesized template says (policies, joined strings, assets).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { App, Stack } from 'aws-cdk-lib';
import { type Template } from 'aws-cdk-lib/assertions';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import type { CloudAssembly } from 'aws-cdk-lib/cx-api';
import { CodingAgentRuntime, type ICodingAgentRuntime } from '../../lib';

export const ROOT = join(__dirname, '..', '..');
export const RUNTIME_ARN = 'arn:aws:bedrock-agentcore:us-east-1:123456789012:runtime/my_agent-a1b2c3d4e5';

/** A fresh App and Stack per test; `context` as a cdk.json would give it. */
export function newStack(options: { context?: Record<string, unknown>; env?: { account?: string; region?: string } } = {}): Stack {
  const app = new App({ context: options.context });
  return new Stack(app, 'Test', { env: options.env });
}

/** Synthesizes the stack's whole app. */
export function synth(stack: Stack): CloudAssembly {
  return (stack.node.root as App).synth();
}

/** The cdk.json context (stages and feature flags), as the CLI would pass it. */
export function cdkJsonContext(): Record<string, unknown> {
  return (JSON.parse(readFileSync(join(ROOT, 'cdk.json'), 'utf8')) as { context: Record<string, unknown> }).context;
}

export function secretNamed(stack: Stack, name: string): secretsmanager.ISecret {
  return secretsmanager.Secret.fromSecretNameV2(stack, `Secret-${name.replace(/[^A-Za-z0-9]/g, '-')}`, name);
}

export function importedRuntime(stack: Stack, shellCommand?: string): ICodingAgentRuntime {
  return CodingAgentRuntime.fromRuntimeArn(stack, 'ImportedRuntime', RUNTIME_ARN, { shellCommand });
}

export interface Statement {
  Sid?: string;
  Effect: string;
  Action: string | string[];
  Resource: unknown;
  Condition?: Record<string, unknown>;
}

/** Every statement of every AWS::IAM::Policy attached to the role with this logical id. */
export function statementsOfRole(template: Template, roleLogicalId: string): Statement[] {
  const policies = template.findResources('AWS::IAM::Policy');
  return Object.values(policies)
    .filter((p) => (p.Properties.Roles as { Ref: string }[]).some((r) => r.Ref === roleLogicalId))
    .flatMap((p) => p.Properties.PolicyDocument.Statement as Statement[]);
}

export function actionsOf(statements: Statement[]): string[] {
  return statements.flatMap((s) => (Array.isArray(s.Action) ? s.Action : [s.Action])).sort();
}

export function resourcesOf(s: Statement): unknown[] {
  return Array.isArray(s.Resource) ? s.Resource : [s.Resource];
}

/** The one logical id of a resource type whose id starts with `prefix` (or the only one). */
export function logicalIdOf(template: Template, type: string, prefix = ''): string {
  const ids = Object.keys(template.findResources(type)).filter((id) => id.startsWith(prefix));
  if (ids.length !== 1) throw new Error(`expected one ${type} starting with "${prefix}", found ${ids.join(', ') || 'none'}`);
  return ids[0];
}

/**
 * A CloudFormation value as text: Fn::Join is joined, Ref and Fn::GetAtt become
 * `<Ref:Id>` / `<GetAtt:Id.Attr>`, so deploy-time values stay visible but parseable.
 */
export function flattenCfn(value: unknown): string {
  if (typeof value === 'string') return value;
  const v = value as Record<string, unknown>;
  if (v['Fn::Join']) {
    const [sep, parts] = v['Fn::Join'] as [string, unknown[]];
    return parts.map(flattenCfn).join(sep);
  }
  if (v.Ref) return `<Ref:${v.Ref as string}>`;
  if (v['Fn::GetAtt']) return `<GetAtt:${(v['Fn::GetAtt'] as string[]).join('.')}>`;
  if (v['Fn::Sub']) return `<Sub:${v['Fn::Sub'] as string}>`;
  throw new Error(`cannot flatten ${JSON.stringify(value)}`);
}

/** The Docker image assets of a synthesized stack, from its asset manifest. */
export function dockerAssets(assembly: CloudAssembly, stackName: string): { hash: string; source: Record<string, unknown>; directory: string }[] {
  const stack = assembly.getStackByName(stackName);
  const manifestArtifact = stack.dependencies.find((d) => d.id.endsWith('.assets'));
  if (!manifestArtifact) throw new Error('no asset manifest');
  const file = join(assembly.directory, `${manifestArtifact.id}.json`);
  const manifest = JSON.parse(readFileSync(file, 'utf8')) as { dockerImages?: Record<string, { source: Record<string, unknown> }> };
  // The key is the source hash, prefixed with "<assetName>-" when the asset has a name.
  return Object.entries(manifest.dockerImages ?? {}).map(([key, image]) => ({
    hash: key.slice(-64),
    source: image.source,
    directory: join(assembly.directory, image.source.directory as string),
  }));
}
