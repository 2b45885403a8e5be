/**
 * Synth-time checks. Each validator is pure: it takes the prop's name and value and
 * returns the problems it found as sentences that start with the prop's name, so a
 * construct can collect every problem and report them together. Unresolved tokens are
 * skipped: their values are only known at deploy time.
 */
import { type Duration, Token } from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';
import { parseRuntimeArn } from '../shared/contract/runtime-arn';
import { QUALIFIER_PATTERN, shellCommandProblem } from '../shared/contract/bridge-cli';

/** AgentCore's runtime name pattern (no hyphens). */
export const RUNTIME_NAME_PATTERN = /^[a-zA-Z][a-zA-Z0-9_]{0,47}$/;
/** Environment variable names AgentCore accepts. */
export const ENV_NAME_PATTERN = /^[a-zA-Z_][a-zA-Z0-9_]{0,99}$/;

// What the bridge's command line accepts, from the bridge itself.
export { CANCEL_STRATEGIES, LOG_LEVELS, QUALIFIER_PATTERN } from '../shared/contract/bridge-cli';

/** Thrown by a construct whose props fail validation; lists every problem found. */
export class PropsValidationError extends Error {
  constructor(
    readonly constructPath: string,
    readonly problems: readonly string[],
  ) {
    super(`Invalid configuration for ${constructPath}:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'PropsValidationError';
  }
}

/** Throws one error naming every problem, if there is any. */
export function throwIfInvalid(scope: IConstruct, problems: readonly string[]): void {
  if (problems.length > 0) throw new PropsValidationError(scope.node.path || '<root>', problems);
}

export function validateRuntimeName(prop: string, value: string | undefined): string[] {
  if (value === undefined || Token.isUnresolved(value)) return [];
  return RUNTIME_NAME_PATTERN.test(value)
    ? []
    : [`${prop} must match ${RUNTIME_NAME_PATTERN} (a letter, then up to 47 letters, digits or underscores; no hyphens), got "${value}"`];
}

export function validateRuntimeArn(prop: string, value: string | undefined): string[] {
  if (value === undefined || Token.isUnresolved(value)) return [];
  // Exactly what the bridge will accept when OAB starts it with this ARN.
  const parsed = parseRuntimeArn(value, prop);
  return typeof parsed === 'string' ? [parsed] : [];
}

export function validateQualifier(prop: string, value: string | undefined): string[] {
  if (value === undefined || Token.isUnresolved(value)) return [];
  return QUALIFIER_PATTERN.test(value)
    ? []
    : [`${prop} must be a runtime endpoint name matching ${QUALIFIER_PATTERN}, got "${value}"`];
}

/** A duration that must lie in [min, max]; both bounds in seconds. */
export function validateDuration(prop: string, value: Duration | undefined, minSeconds: number, maxSeconds: number): string[] {
  if (value === undefined || value.isUnresolved()) return [];
  const s = value.toSeconds();
  return s >= minSeconds && s <= maxSeconds
    ? []
    : [`${prop} must be between ${describeSeconds(minSeconds)} and ${describeSeconds(maxSeconds)}, got ${describeSeconds(s)}`];
}

/** The agent command typed into the runtime's shell: one line, printable. */
export function validateShellCommand(prop: string, value: string | undefined): string[] {
  if (value === undefined || Token.isUnresolved(value)) return [];
  const problem = shellCommandProblem(value, prop);
  return problem ? [problem] : [];
}

export function validateOneOf(prop: string, value: string | undefined, allowed: readonly string[]): string[] {
  if (value === undefined || Token.isUnresolved(value)) return [];
  if (allowed.includes(value)) return [];
  const quoted = allowed.map((a) => `"${a}"`);
  return [`${prop} must be ${quoted.length > 1 ? `${quoted.slice(0, -1).join(', ')} or ${quoted[quoted.length - 1]}` : quoted[0]}, got "${value}"`];
}

/** OAB expands every `${…}` in its config file: a value that ends up there must not hold one. */
export function validateNoExpansion(prop: string, value: string | undefined): string[] {
  if (value === undefined || Token.isUnresolved(value) || !value.includes('${')) return [];
  return [`${prop} must not contain "\${" (OAB expands \${VAR} in its config file), got "${value}"`];
}

/** AgentCore's limit on a runtime's environment variables. */
export const MAX_RUNTIME_ENVIRONMENT_VARIABLES = 50;

/**
 * Runtime environment variables: AgentCore's limits, and never a secret. A dynamic
 * reference would be resolved by CloudFormation into the runtime's plain configuration.
 */
export function validateEnvironment(
  prop: string,
  vars: Record<string, string>,
  resolve: (value: string) => unknown,
): string[] {
  const problems: string[] = [];
  const keys = Object.keys(vars);
  if (keys.length > MAX_RUNTIME_ENVIRONMENT_VARIABLES) problems.push(`${prop} has ${keys.length} variables; AgentCore allows at most ${MAX_RUNTIME_ENVIRONMENT_VARIABLES}`);
  for (const key of keys) {
    if (!ENV_NAME_PATTERN.test(key)) {
      problems.push(`${prop} name "${key}" must match ${ENV_NAME_PATTERN}`);
    }
    const value = vars[key];
    if (Token.isUnresolved(value)) {
      if (isSecretReference(resolve(value))) {
        problems.push(`${prop}.${key} is a secret reference; secrets never go in environment variables (use AgentApiKey)`);
      }
    } else if (value.length > 2048) {
      problems.push(`${prop}.${key} is ${value.length} characters long; AgentCore allows at most 2048`);
    }
  }
  return problems;
}

/** True if a resolved CloudFormation value contains a Secrets Manager or SSM SecureString dynamic reference. */
export function isSecretReference(resolved: unknown): boolean {
  return /\{\{resolve:(secretsmanager|ssm-secure):/.test(JSON.stringify(resolved ?? null));
}

function describeSeconds(s: number): string {
  if (s % 3600 === 0) return `${s / 3600} hour${s === 3600 ? '' : 's'} (${s} s)`;
  if (s % 60 === 0) return `${s / 60} minute${s === 60 ? '' : 's'} (${s} s)`;
  return `${s} s`;
}
