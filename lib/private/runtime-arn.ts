/**
 * What a runtime's ARN names, for the constructs that watch a runtime they may not have
 * created: its id, its name (the metrics' `Runtime` dimension) and its log group. A token
 * ARN is taken apart with CloudFormation functions.
 */
import { Fn, Token } from 'aws-cdk-lib';
import { runtimeDimension } from '../../shared/metrics';

/** The runtime id in a runtime ARN (`…:runtime/<id>`), also when the ARN is a token. */
function runtimeIdFromArn(arn: string): string {
  return Token.isUnresolved(arn) ? Fn.select(1, Fn.split('runtime/', arn)) : arn.slice(arn.lastIndexOf('/') + 1);
}

/** The runtime name in a runtime ARN (`…:runtime/<name>-<10 characters>`), also when the ARN is a token. */
export function runtimeNameFromArn(arn: string): string {
  const id = runtimeIdFromArn(arn);
  return Token.isUnresolved(arn) ? Fn.select(0, Fn.split('-', id)) : runtimeDimension(id);
}

/** The log group AgentCore writes a runtime endpoint's application log to: `/aws/bedrock-agentcore/runtimes/<runtime id>-<endpoint>`. */
export function runtimeLogGroupName(runtimeArn: string, qualifier: string): string {
  return `/aws/bedrock-agentcore/runtimes/${runtimeIdFromArn(runtimeArn)}-${qualifier}`;
}
