import { Annotations, ArnFormat, Duration, Lazy, Names, Resource, Stack, Token } from 'aws-cdk-lib';
import {
  AgentRuntimeArtifact,
  type CfnRuntime,
  Runtime,
  RuntimeNetworkConfiguration,
} from 'aws-cdk-lib/aws-bedrockagentcore';
import type * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import { type Construct, type IConstruct } from 'constructs';
import { DEFAULT_QUALIFIER, DEFAULT_SHELL_COMMAND } from '../shared/contract/bridge-cli';
import { DEFAULT_AGENT_HOME, ENV_AGENT_API_KEY_ENV, ENV_AGENT_HOME, ENV_MAX_BUSY_SECONDS, ENV_RUNTIME_NAME } from '../shared/contract/runtime-env';
import type { IAgentApiKey } from './agent-api-key';
import { AgentRuntimeImage, type IAgentRuntimeImage } from './agent-runtime-image';
import { BEDROCK_ENVIRONMENT_NAMES, BEDROCK_NO_KEY_REASON, bedrockEnvironment, bedrockInvokeStatements, type BedrockModelAccess, type RuntimePlace, validateBedrockModelAccess } from './bedrock-model-access';
import { CodingAgent } from './coding-agent';
import {
  BEDROCK_LIST_ACTIONS,
  RUNTIME_LOG_DESCRIBE_ACTIONS,
  RUNTIME_LOG_GROUP_ACTIONS,
  RUNTIME_LOG_STREAM_ACTIONS,
  SHELL_ACCESS_ACTIONS,
} from './perms';
import { acknowledgeWildcardResources } from './private/nag';
import { grantOnWildcardPolicy } from './private/wildcard-policy';
import {
  throwIfInvalid,
  validateDuration,
  MAX_RUNTIME_ENVIRONMENT_VARIABLES,
  validateEnvironment,
  validateQualifier,
  validateRuntimeArn,
  validateRuntimeName,
  validateShellCommand,
} from './validation';

/** The agent command the bridge runs in the runtime's shell unless told otherwise. */
export { DEFAULT_SHELL_COMMAND };
/** The image's default agent home, so session storage lands where the launcher looks for it. */
export const DEFAULT_SESSION_STORAGE_MOUNT_PATH = DEFAULT_AGENT_HOME;
/** The endpoint every runtime has. */
export { DEFAULT_QUALIFIER };

const LIFECYCLE_MIN_SECONDS = 60;
const LIFECYCLE_MAX_SECONDS = 8 * 3600;
const DEFAULT_IDLE_SESSION_TIMEOUT = Duration.minutes(15);
const DEFAULT_MAX_LIFETIME = Duration.hours(8);
const MOUNT_PATH = /^\/mnt\/[A-Za-z0-9._-]{1,200}$/;

/** Options for {@link ICodingAgentRuntime.grantShellAccess}. */
export interface ShellAccessOptions {
  /**
   * The runtime endpoints (the bridge's `--qualifier`) the grantee may open shells on.
   * @default ['DEFAULT']
   */
  readonly qualifiers?: string[];
}

/** An AgentCore Runtime whose interactive shell the bridge can drive. */
export interface ICodingAgentRuntime extends IConstruct {
  readonly agentRuntimeArn: string;
  /** The agent command the bridge types into the shell (`--shell-command`). */
  readonly shellCommand: string;
  /**
   * How long an idle runtime session lives; the bridge lets go of an idle shell well
   * before it (see {@link BridgeOptions.idleDetach}). Undefined when not known.
   */
  readonly idleSessionTimeout?: Duration;
  /**
   * Grants exactly `bedrock-agentcore:InvokeAgentRuntimeCommandShell` on this runtime's
   * ARN and on the ARNs of the given endpoints: what the bridge needs, with either cancel
   * strategy.
   */
  grantShellAccess(grantee: iam.IGrantable, options?: ShellAccessOptions): iam.Grant;
}

/** Put the runtime in your VPC instead of the public network. */
export interface RuntimeVpcOptions {
  readonly vpc: ec2.IVpc;
  /**
   * @default - the VPC's private subnets with egress
   */
  readonly vpcSubnets?: ec2.SubnetSelection;
  /**
   * @default - a new security group that allows all outbound traffic
   */
  readonly securityGroups?: ec2.ISecurityGroup[];
}

/** The runtime's settings, apart from its image and API key (shared with {@link OabAgentCoreProps.runtimeOptions}). */
export interface CodingAgentRuntimeOptions {
  /**
   * The runtime name (`^[a-zA-Z][a-zA-Z0-9_]{0,47}$`, unique per account and Region).
   * @default - a name derived from this construct's path
   */
  readonly runtimeName?: string;
  /**
   * @default - no description
   */
  readonly description?: string;
  /**
   * @default - public network
   */
  readonly vpc?: RuntimeVpcOptions;
  /**
   * How long an idle session (and its microVM) lives: 1 minute to 8 hours. A session is
   * idle while the runtime reports `Healthy`, which it does between turns: this is how
   * long a thread's microVM outlives its last answer.
   * @default Duration.minutes(15)
   */
  readonly idleSessionTimeout?: Duration;
  /**
   * The longest a session lives, busy or not: 1 minute to 8 hours, at least `idleSessionTimeout`.
   * @default Duration.hours(8)
   */
  readonly maxLifetime?: Duration;
  /**
   * The longest one busy stretch (turns back to back) keeps the session from idling: after
   * it the runtime reports `Healthy`, so a stuck turn cannot pin its microVM until
   * `maxLifetime`. 1 minute to 8 hours.
   * @default Duration.hours(1)
   */
  readonly maxBusyDuration?: Duration;
  /**
   * Mount service-managed persistent session storage, where the agent keeps its home
   * state and workspace across stop and resume (deleted after 14 idle days or when a new
   * runtime version is deployed).
   * @default true
   */
  readonly sessionStorage?: boolean;
  /**
   * Where session storage is mounted: `/mnt/<one directory>`.
   * @default '/mnt/agent'
   */
  readonly sessionStorageMountPath?: string;
  /**
   * Environment variables for the agent. Never secrets: a Secrets Manager or SSM
   * SecureString reference is rejected (use `apiKey`).
   * @default - none besides the API key's two names
   */
  readonly environmentVariables?: Record<string, string>;
  /**
   * The agent command the bridge types into the runtime's shell, one line.
   * @default - the agent's: 'kiro-cli acp --trust-all-tools', 'claude-agent-acp' or 'codex-acp'
   */
  readonly shellCommand?: string;
  /**
   * The execution role. Whatever role is used receives only this construct's statements;
   * aws-cdk-lib's defaults (X-Ray, CloudWatch metrics, every workload identity) are not added.
   * @default - a new role that only bedrock-agentcore.amazonaws.com, for this runtime, can assume
   */
  readonly executionRole?: iam.IRole;
  /**
   * @default - none
   */
  readonly tags?: Record<string, string>;
}

export interface CodingAgentRuntimeProps extends CodingAgentRuntimeOptions {
  /**
   * The coding agent the runtime runs: picks the image built here, the default shell
   * command, the variable the agent gets its API key in, and the grants it needs.
   * @default - the image's agent, else CodingAgent.KIRO
   */
  readonly agent?: CodingAgent;
  /**
   * The agent's container image.
   * @default - `new AgentRuntimeImage({ agent })`: this package's runtimes at the agent's build target, for linux/arm64
   */
  readonly image?: IAgentRuntimeImage;
  /**
   * The Token Vault API key the agent fetches at boot. Sets `AGENTCORE_WORKLOAD_NAME` and
   * `AGENTCORE_CREDENTIAL_PROVIDER` on the runtime and grants the execution role exactly
   * what reading that key needs.
   * @default - no API key: the agent signs in some other way
   */
  readonly apiKey?: IAgentApiKey;
  /**
   * Keyless Claude Code on Amazon Bedrock (agent `CLAUDE_CODE` only, no `apiKey`): Claude
   * Code calls these models with the runtime's execution role, which is granted
   * `bedrock:InvokeModel` and `bedrock:InvokeModelWithResponseStream` on exactly their ARNs
   * (and `bedrock:ListInferenceProfiles`, which has no resource); sets
   * `CLAUDE_CODE_USE_BEDROCK`, `AWS_REGION`, `ANTHROPIC_MODEL` and `ANTHROPIC_SMALL_FAST_MODEL`.
   * Enable the models in the account's Amazon Bedrock console first: the role cannot subscribe to them.
   * @default - no Amazon Bedrock access
   */
  readonly bedrock?: BedrockModelAccess;
}

/** Attributes for {@link CodingAgentRuntime.fromRuntimeArn}. */
export interface CodingAgentRuntimeAttributes {
  /**
   * The coding agent that runtime runs, for its default shell command.
   * @default CodingAgent.KIRO
   */
  readonly agent?: CodingAgent;
  /**
   * The agent command the bridge runs in that runtime's shell.
   * @default - the agent's shell command ('kiro-cli acp --trust-all-tools' for Kiro)
   */
  readonly shellCommand?: string;
  /**
   * That runtime's idle session timeout, so the bridge lets go of idle shells before it.
   * @default - not known: the bridge's own default applies
   */
  readonly idleSessionTimeout?: Duration;
}

abstract class CodingAgentRuntimeBase extends Resource implements ICodingAgentRuntime {
  abstract readonly agentRuntimeArn: string;
  abstract readonly shellCommand: string;

  grantShellAccess(grantee: iam.IGrantable, options: ShellAccessOptions = {}): iam.Grant {
    const qualifiers = options.qualifiers ?? [DEFAULT_QUALIFIER];
    throwIfInvalid(this, [
      ...(qualifiers.length === 0 ? ['qualifiers must name at least one endpoint'] : []),
      ...qualifiers.flatMap((q, i) => validateQualifier(`qualifiers[${i}]`, q)),
    ]);
    return iam.Grant.addToPrincipal({
      grantee,
      actions: [...SHELL_ACCESS_ACTIONS],
      // Exact ARNs: IAM may check the runtime or the endpoint for a shell, and no wildcard is needed for either.
      resourceArns: [this.agentRuntimeArn, ...[...new Set(qualifiers)].map((q) => `${this.agentRuntimeArn}/runtime-endpoint/${q}`)],
    });
  }
}

/**
 * An Amazon Bedrock AgentCore Runtime for a coding agent driven through its interactive
 * shell by the openab-agentcore bridge. Built on aws-cdk-lib's `Runtime` L2, with escape
 * hatches for what it lacks (session storage) or does more broadly than wanted (the
 * execution role's default statements).
 */
export class CodingAgentRuntime extends CodingAgentRuntimeBase implements iam.IGrantable {
  /** A runtime deployed elsewhere: just give OAB its ARN. */
  static fromRuntimeArn(scope: Construct, id: string, runtimeArn: string, attrs: CodingAgentRuntimeAttributes = {}): ICodingAgentRuntime {
    class Imported extends CodingAgentRuntimeBase {
      readonly agentRuntimeArn = runtimeArn;
      readonly shellCommand = attrs.shellCommand ?? (attrs.agent ?? CodingAgent.KIRO).shellCommand;
      readonly idleSessionTimeout = attrs.idleSessionTimeout;
    }
    const imported = new Imported(scope, id);
    throwIfInvalid(imported, [
      ...validateRuntimeArn('runtimeArn', runtimeArn),
      ...validateShellCommand('shellCommand', attrs.shellCommand),
    ]);
    return imported;
  }

  readonly agentRuntimeArn: string;
  readonly agentRuntimeId: string;
  readonly agentRuntimeName: string;
  /** The coding agent this runtime runs. */
  readonly agent: CodingAgent;
  readonly shellCommand: string;
  readonly idleSessionTimeout?: Duration;
  /** The execution role, with exactly the statements the README's IAM section lists. */
  readonly role: iam.IRole;
  readonly grantPrincipal: iam.IPrincipal;
  readonly image: IAgentRuntimeImage;
  /** The underlying aws-cdk-lib L2. Do not use its grant methods on its role: they are discarded. */
  readonly runtime: Runtime;
  /** Where session storage is mounted, if it is. */
  readonly sessionStorageMountPath?: string;
  private readonly environment: Record<string, string> = {};

  constructor(scope: Construct, id: string, props: CodingAgentRuntimeProps = {}) {
    super(scope, id);
    const stack = Stack.of(this);
    const resolve = (v: string): unknown => stack.resolve(v);
    throwIfInvalid(this, validateCodingAgentRuntimeProps(props, resolve, { region: stack.region, account: stack.account }));

    this.agentRuntimeName = props.runtimeName ?? generatedRuntimeName(this);
    this.agent = agentOf(props);
    this.shellCommand = props.shellCommand ?? this.agent.shellCommand;
    this.idleSessionTimeout = props.idleSessionTimeout ?? DEFAULT_IDLE_SESSION_TIMEOUT;
    this.image = props.image ?? new AgentRuntimeImage(this, 'Image', { agent: this.agent });

    const role = props.executionRole ?? new iam.Role(this, 'ExecutionRole', {
      description: 'Execution role for a coding agent AgentCore Runtime',
      maxSessionDuration: Duration.hours(8),
      assumedBy: new iam.ServicePrincipal('bedrock-agentcore.amazonaws.com', {
        conditions: {
          StringEquals: { 'aws:SourceAccount': stack.account },
          // AgentCore appends "-<10 characters>" to the name to make the runtime id; names have
          // no hyphen, so "<name>-*" matches this runtime and not one whose name starts with ours.
          ArnLike: { 'aws:SourceArn': stack.formatArn({ service: 'bedrock-agentcore', resource: 'runtime', resourceName: `${this.agentRuntimeName}-*` }) },
        },
      }),
    });
    this.role = role;
    this.grantPrincipal = role;
    const logsPolicy = this.addExecutionRoleStatements(role);
    const pull = this.image.grantPull(role);

    this.runtime = new Runtime(this, 'Runtime', {
      runtimeName: this.agentRuntimeName,
      description: props.description,
      agentRuntimeArtifact: AgentRuntimeArtifact.fromImageUri(this.image.imageUri),
      // The L2 adds its default statements to whatever role it is given; an immutable view
      // of ours discards them, so the role holds exactly the statements added above.
      executionRole: role instanceof iam.Role ? role.withoutPolicyUpdates() : iam.Role.fromRoleArn(this, 'ImmutableRole', role.roleArn, { mutable: false }),
      networkConfiguration: props.vpc
        ? RuntimeNetworkConfiguration.usingVpc(this, { vpc: props.vpc.vpc, vpcSubnets: props.vpc.vpcSubnets, securityGroups: props.vpc.securityGroups })
        : RuntimeNetworkConfiguration.usingPublicNetwork(),
      lifecycleConfiguration: {
        idleRuntimeSessionTimeout: this.idleSessionTimeout,
        maxLifetime: props.maxLifetime ?? DEFAULT_MAX_LIFETIME,
      },
      tags: props.tags,
    });
    // The asset's URI is a deploy-time token; the L2 notes that it cannot check its format.
    Annotations.of(this.runtime).acknowledgeInfo('aws-cdk-lib.aws-bedrockagentcore:containerUriValidationSkipped',
      'The image URI is an ECR URI built from tokens (asset or repository), known only at deploy time.');
    const cfn = this.runtime.node.defaultChild as CfnRuntime;
    // The image must be pullable and the log statements in place before AgentCore creates the runtime.
    cfn.node.addDependency(role);
    cfn.node.addDependency(logsPolicy);
    pull.applyBefore(cfn);

    if (props.sessionStorage ?? true) {
      this.sessionStorageMountPath = props.sessionStorageMountPath ?? DEFAULT_SESSION_STORAGE_MOUNT_PATH;
      // Not in the L2 yet; the typed L1 property keeps it visible to cdk-nag and the tests.
      cfn.filesystemConfigurations = [{ sessionStorage: { mountPath: this.sessionStorageMountPath } }];
    }
    // Our own rendering, so variables can be added after construction (addEnvironment).
    cfn.environmentVariables = Lazy.any({ produce: () => this.renderedEnvironment() });
    Object.assign(this.environment, contractEnvironment(props, stack.region), props.environmentVariables);
    this.node.addValidation({
      validate: () => {
        if (!this.runtimeNameFits()) {
          Annotations.of(this).addWarningV2('openab-agentcore:runtimeNameNotPassed',
            `${MAX_RUNTIME_ENVIRONMENT_VARIABLES} environment variables leave no room for ${ENV_RUNTIME_NAME}: the metrics of this runtime's programs are published with Runtime=unnamed`);
        }
        return [];
      },
    });

    this.agentRuntimeArn = this.runtime.agentRuntimeArn;
    this.agentRuntimeId = this.runtime.agentRuntimeId;

    if (props.apiKey) {
      props.apiKey.grantUse(role);
      for (const [k, v] of Object.entries(props.apiKey.runtimeEnvironment)) this.addEnvironment(k, v);
    }
    if (props.bedrock) this.grantBedrock(role, props.bedrock);
  }

  /** Invoke on exactly the chosen models, in a policy of its own; the profile listing in another. */
  private grantBedrock(role: iam.IRole, access: BedrockModelAccess): void {
    const cfn = this.runtime.node.defaultChild as CfnRuntime;
    // In place before the runtime exists, so no session starts without its model access.
    cfn.node.addDependency(new iam.Policy(this, 'BedrockPolicy', { roles: [role], statements: bedrockInvokeStatements(this, access) }));
    grantOnWildcardPolicy(this, 'BedrockListPolicy', role, BEDROCK_LIST_ACTIONS,
      'bedrock:ListInferenceProfiles, which Claude Code calls on Amazon Bedrock, is a list action with no resource type and must use Resource "*"; it reveals profile names, not model access.')
      .applyBefore(cfn);
  }

  /**
   * The variables as deployed: with the runtime's name for its programs' metrics (the
   * `Runtime` dimension) when AgentCore's limit leaves room for it.
   */
  private renderedEnvironment(): Record<string, string> | undefined {
    const env = this.runtimeNameFits() ? { [ENV_RUNTIME_NAME]: this.agentRuntimeName, ...this.environment } : { ...this.environment };
    return Object.keys(env).length ? env : undefined;
  }

  private runtimeNameFits(): boolean {
    return ENV_RUNTIME_NAME in this.environment || Object.keys(this.environment).length < MAX_RUNTIME_ENVIRONMENT_VARIABLES;
  }

  /** Adds an environment variable for the agent (never a secret). */
  addEnvironment(name: string, value: string): void {
    const problems = validateEnvironment('environmentVariables', { ...this.environment, [name]: value }, (v) => Stack.of(this).resolve(v));
    throwIfInvalid(this, problems);
    this.environment[name] = value;
  }

  private addExecutionRoleStatements(role: iam.IRole): iam.Policy {
    const stack = Stack.of(this);
    // The runtime's log groups are /aws/bedrock-agentcore/runtimes/<runtime id>-<endpoint>,
    // and its id is "<name>-<10 characters>"; names have no hyphen, so this prefix is this runtime's alone.
    const logGroup = stack.formatArn({
      service: 'logs',
      resource: 'log-group',
      resourceName: `/aws/bedrock-agentcore/runtimes/${this.agentRuntimeName}-*`,
      arnFormat: ArnFormat.COLON_RESOURCE_NAME,
    });
    const anyLogGroup = stack.formatArn({ service: 'logs', resource: 'log-group', resourceName: '*', arnFormat: ArnFormat.COLON_RESOURCE_NAME });
    const logStream = `${logGroup}:log-stream:*`;
    // In a policy of their own, so the acknowledgments below cover these wildcards and not
    // one added to the role later.
    const policy = new iam.Policy(this, 'LogsPolicy', {
      roles: [role],
      statements: [
        new iam.PolicyStatement({ sid: 'RuntimeLogGroup', actions: [...RUNTIME_LOG_GROUP_ACTIONS], resources: [logGroup] }),
        new iam.PolicyStatement({ sid: 'DescribeLogGroups', actions: [...RUNTIME_LOG_DESCRIBE_ACTIONS], resources: [anyLogGroup] }),
        new iam.PolicyStatement({ sid: 'RuntimeLogStreams', actions: [...RUNTIME_LOG_STREAM_ACTIONS], resources: [logStream] }),
      ],
    });
    acknowledgeWildcardResources(policy, [logGroup, logStream],
      'The runtime id is "<runtimeName>-<suffix chosen by AgentCore>", so its log group can only be named by that prefix; the name has no hyphen, so the prefix matches this runtime alone.');
    acknowledgeWildcardResources(policy, [anyLogGroup],
      'logs:DescribeLogGroups is a list action that AWS authorizes only on log-group:*; AgentCore calls it before creating the runtime log group.');
    return policy;
  }
}

export function validateCodingAgentRuntimeProps(props: CodingAgentRuntimeProps, resolve: (v: string) => unknown, place: RuntimePlace): string[] {
  const problems = [
    ...validateRuntimeName('runtimeName', props.runtimeName),
    ...validateDuration('idleSessionTimeout', props.idleSessionTimeout, LIFECYCLE_MIN_SECONDS, LIFECYCLE_MAX_SECONDS),
    ...validateDuration('maxBusyDuration', props.maxBusyDuration, LIFECYCLE_MIN_SECONDS, LIFECYCLE_MAX_SECONDS),
    ...validateDuration('maxLifetime', props.maxLifetime, LIFECYCLE_MIN_SECONDS, LIFECYCLE_MAX_SECONDS),
    ...validateShellCommand('shellCommand', props.shellCommand),
    // The API key's variables count towards AgentCore's limit of 50 too.
    ...validateEnvironment('environmentVariables', { ...contractEnvironment(props, place.region), ...props.environmentVariables, ...props.apiKey?.runtimeEnvironment }, resolve),
  ];
  problems.push(...validateAgentChoice(props, place));
  const idle = props.idleSessionTimeout ?? DEFAULT_IDLE_SESSION_TIMEOUT;
  const max = props.maxLifetime ?? DEFAULT_MAX_LIFETIME;
  if (!idle.isUnresolved() && !max.isUnresolved() && idle.toSeconds() > max.toSeconds()) {
    problems.push(`idleSessionTimeout (${idle.toSeconds()} s) must not exceed maxLifetime (${max.toSeconds()} s)`);
  }
  const mount = props.sessionStorageMountPath;
  if (mount !== undefined) {
    if (props.sessionStorage === false) problems.push('sessionStorageMountPath has no effect when sessionStorage is false');
    else if (!Token.isUnresolved(mount) && !MOUNT_PATH.test(mount)) problems.push(`sessionStorageMountPath must be /mnt/<one directory>, got "${mount}"`);
  }
  if (props.description !== undefined && !Token.isUnresolved(props.description) && (props.description.length < 1 || props.description.length > 1200)) {
    problems.push(`description must be 1-1200 characters, got ${props.description.length}`);
  }
  if (props.apiKey) {
    for (const name of Object.keys(props.apiKey.runtimeEnvironment)) {
      if (props.environmentVariables && name in props.environmentVariables) {
        problems.push(`environmentVariables.${name} is set by apiKey; remove it from environmentVariables`);
      }
    }
  }
  return problems;
}

/**
 * The agent, its image, its key and Amazon Bedrock fit together. `names` says what the caller
 * calls the key and the environment (OabAgentCore: `apiKeySecret`, `runtimeOptions.environmentVariables`).
 */
export function validateAgentChoice(
  props: CodingAgentRuntimeProps,
  place: RuntimePlace,
  names: { readonly apiKey: string; readonly environmentVariables: string } = { apiKey: 'apiKey', environmentVariables: 'environmentVariables' },
): string[] {
  const problems: string[] = [];
  const imageAgent = props.image?.agent;
  if (props.agent && imageAgent && props.agent.id !== imageAgent.id) {
    problems.push(`agent ("${props.agent.id}") differs from image.agent ("${imageAgent.id}"): the runtime would run one agent with the other's command and key variable`);
  }
  if (props.bedrock) {
    const agent = agentOf(props);
    if (agent.id !== CodingAgent.CLAUDE_CODE.id) problems.push(`bedrock requires agent CodingAgent.CLAUDE_CODE (only Claude Code runs keyless on Amazon Bedrock here), got "${agent.id}"`);
    if (props.apiKey) problems.push(`bedrock cannot be combined with ${names.apiKey} (${BEDROCK_NO_KEY_REASON})`);
    problems.push(...validateBedrockModelAccess('bedrock', props.bedrock, place));
    for (const name of BEDROCK_ENVIRONMENT_NAMES) {
      if (props.environmentVariables && name in props.environmentVariables) problems.push(`${names.environmentVariables}.${name} is set by bedrock; remove it`);
    }
  }
  return problems;
}

/**
 * What the programs in the image are told: where session storage is, when it is mounted
 * elsewhere than the image's default, and the busy ceiling, when it is not the default.
 */
function contractEnvironment(props: CodingAgentRuntimeProps, region: string): Record<string, string> {
  const env: Record<string, string> = {};
  const mount = props.sessionStorageMountPath;
  if ((props.sessionStorage ?? true) && mount !== undefined && mount !== DEFAULT_AGENT_HOME) env[ENV_AGENT_HOME] = mount;
  const busy = props.maxBusyDuration;
  if (busy !== undefined && !busy.isUnresolved()) env[ENV_MAX_BUSY_SECONDS] = String(busy.toSeconds());
  // The variable the agent gets its Token Vault key in, when the agent is known (an image of
  // yours without an agent keeps its own default).
  if (props.apiKey && (props.agent || props.image === undefined || props.image.agent)) env[ENV_AGENT_API_KEY_ENV] = agentOf(props).apiKeyEnvironmentVariable;
  if (props.bedrock && props.bedrock.models.length > 0) Object.assign(env, bedrockEnvironment(props.bedrock, region));
  return env;
}

/** The runtime's agent: as given, else the image's, else Kiro. */
function agentOf(props: CodingAgentRuntimeProps): CodingAgent {
  return props.agent ?? props.image?.agent ?? CodingAgent.KIRO;
}

/** Like the L2's default, but known at construction so the trust policy and log ARNs can use it. */
function generatedRuntimeName(scope: Construct): string {
  const name = Names.uniqueResourceName(scope, { maxLength: 48, separator: '_' });
  return /^[a-zA-Z]/.test(name) ? name : `R${name.slice(0, 47)}`;
}
