/**
 * Wildcard grants in a policy of their own. cdk-nag acknowledgments cover a construct and
 * its children, so one on a role would also hide any wildcard added to that role later;
 * one on this policy covers only the statements put here.
 */
import * as iam from 'aws-cdk-lib/aws-iam';
import type { Construct } from 'constructs';
import { acknowledgeWildcardResources } from './nag';

/**
 * Grants `actions` on `Resource: "*"` to `role` through the inline policy `id` under `scope`
 * (created on first use, attached to `role`), and acknowledges IAM5 `Resource::*` on that
 * policy only. The returned grant depends on the policy, so `grant.applyBefore(x)` orders it.
 */
export function grantOnWildcardPolicy(scope: Construct, id: string, role: iam.IRole, actions: readonly string[], reason: string): iam.Grant {
  let policy = scope.node.tryFindChild(id) as iam.Policy | undefined;
  if (!policy) {
    policy = new iam.Policy(scope, id, { roles: [role] });
    acknowledgeWildcardResources(policy, ['*'], reason);
  }
  return iam.Grant.addToPrincipal({ grantee: new PolicyPrincipal(role, policy), actions: [...actions], resourceArns: ['*'] });
}

/** The role as `iam.Grant` sees it, except that statements land in `policy`. */
class PolicyPrincipal implements iam.IPrincipal {
  readonly grantPrincipal: iam.IPrincipal = this;
  readonly assumeRoleAction: string;
  readonly policyFragment: iam.PrincipalPolicyFragment;
  readonly principalAccount?: string;

  constructor(role: iam.IRole, private readonly policy: iam.Policy) {
    this.assumeRoleAction = role.assumeRoleAction;
    this.policyFragment = role.policyFragment;
    this.principalAccount = role.principalAccount;
  }

  addToPolicy(statement: iam.PolicyStatement): boolean {
    return this.addToPrincipalPolicy(statement).statementAdded;
  }

  addToPrincipalPolicy(statement: iam.PolicyStatement): iam.AddToPrincipalPolicyResult {
    this.policy.addStatements(statement);
    return { statementAdded: true, policyDependable: this.policy };
  }
}

/** The role behind a grantee, when it is one (a role you bring, imported or not). */
export function roleOf(grantee: iam.IGrantable): iam.IRole | undefined {
  const p = grantee.grantPrincipal as Partial<iam.IRole>;
  return typeof p.roleArn === 'string' && typeof p.attachInlinePolicy === 'function' ? (p as iam.IRole) : undefined;
}
