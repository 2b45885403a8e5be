/** Runtime ARNs as the official AgentCore SDK accepts them. */

export interface RuntimeArn {
  readonly arn: string;
  readonly partition: string;
  readonly region: string;
  readonly accountId: string;
  readonly runtimeId: string;
}

const RUNTIME_ARN = /^arn:(aws[a-z0-9-]*):bedrock-agentcore:([^:]+):([^:]+):runtime\/(.+)$/;
const REGION = /^[a-z]{2}(-[a-z]+)+-\d{1,2}$/;
const ACCOUNT = /^\d{12}$/;
const RUNTIME_ID = /^[a-zA-Z][a-zA-Z0-9_]{0,47}-[a-zA-Z0-9]{10}$/;

/**
 * Returns the parsed ARN, or a sentence saying what is wrong with it, naming it as
 * `name` (the bridge's option, or the CDK prop that will become that option).
 */
export function parseRuntimeArn(arn: string, name = '--runtime-arn'): RuntimeArn | string {
  const m = RUNTIME_ARN.exec(arn);
  if (!m) {
    return `${name} must look like arn:aws:bedrock-agentcore:<region>:<account>:runtime/<runtime-id>, got "${arn}"`;
  }
  const [, partition, region, accountId, runtimeId] = m;
  if (!REGION.test(region)) return `${name} has an invalid region "${region}"`;
  if (!ACCOUNT.test(accountId)) return `${name} has an invalid account id "${accountId}" (12 digits expected)`;
  if (!RUNTIME_ID.test(runtimeId)) {
    return `${name} has an invalid runtime id "${runtimeId}" (expected <name>-<10 characters>, as AgentCore assigns)`;
  }
  return { arn, partition, region, accountId, runtimeId };
}

export function isValidRegion(region: string): boolean {
  return REGION.test(region);
}
