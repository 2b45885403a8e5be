/**
 * Acknowledging cdk-nag findings from inside the constructs, one finding id at a time,
 * so an app that imports a construct gets the same reasoned acknowledgments as ours.
 * Uses aws-cdk-lib's `Validations` only: cdk-nag itself is not a runtime dependency.
 */
import { Stack, Validations } from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';

/**
 * The id cdk-nag 3 gives an IAM5 finding for one wildcard resource, e.g.
 * `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:logs:<AWS::Region>:<AWS::AccountId>:log-group:*]`.
 */
export function iam5ResourceFinding(scope: IConstruct, resource: string): string {
  return `AwsSolutions-IAM5[Resource::${flatten(Stack.of(scope).resolve(resource))}]`;
}

/** Acknowledge IAM5 for exactly these wildcard resources on `scope` (and its children). */
export function acknowledgeWildcardResources(scope: IConstruct, resources: readonly string[], reason: string): void {
  Validations.of(scope).acknowledge(...resources.map((r) => ({ id: iam5ResourceFinding(scope, r), reason })));
}

/** Mirrors cdk-nag's flattenCfnReference: intrinsics become `<LogicalId.Attr>` / `<Ref>`. */
function flatten(node: unknown): string {
  if (node === undefined) return '';
  if (typeof node === 'string') return node.replace(/\$\{/g, '<').replace(/}/g, '>');
  if (node && typeof node === 'object') {
    const o = node as Record<string, unknown>;
    if (Array.isArray(o['Fn::Join'])) {
      const [delimiter, items] = o['Fn::Join'] as [string, unknown[]];
      return items.map(flatten).join(delimiter);
    }
    if (o['Fn::Sub'] !== undefined) return flatten(o['Fn::Sub']);
    if (Array.isArray(o['Fn::GetAtt'])) {
      const [resource, attribute] = o['Fn::GetAtt'] as [unknown, unknown];
      return `<${flatten(resource)}.${flatten(attribute)}>`;
    }
    if (o['Fn::ImportValue'] !== undefined) return flatten(o['Fn::ImportValue']);
    if (o.Ref !== undefined) return `<${flatten(o.Ref)}>`;
  }
  return JSON.stringify(node);
}
