import { Stack } from 'aws-cdk-lib';
import { Construct } from 'constructs';
import { AgentApiKey, ApiKeyStorage, type IAgentApiKey } from './agent-api-key';
import type { IAgentRuntimeImage } from './agent-runtime-image';
import { BEDROCK_NO_KEY_REASON, type BedrockModelAccess } from './bedrock-model-access';
import { CodingAgent } from './coding-agent';
import {
  CodingAgentRuntime,
  type CodingAgentRuntimeOptions,
  type ICodingAgentRuntime,
  validateAgentChoice,
  validateCodingAgentRuntimeProps,
} from './coding-agent-runtime';
import { OabService, type OabServiceOptions, type SecretField } from './oab-service';
import { throwIfInvalid } from './validation';

export interface OabAgentCoreProps extends OabServiceOptions {
  /**
   * The coding agent: the image built here, the shell command the bridge runs, the variable
   * the agent gets its key in, and the grants its runtime needs. With `runtimeArn`, it picks
   * the default shell command only.
   * @default - the image's agent, else CodingAgent.KIRO
   */
  readonly agent?: CodingAgent;
  /**
   * Keyless Claude Code on Amazon Bedrock (`agent: CodingAgent.CLAUDE_CODE`, no API key): the
   * models it may call with the runtime's execution role. See {@link CodingAgentRuntimeProps.bedrock}.
   * @default - no Amazon Bedrock access
   */
  readonly bedrock?: BedrockModelAccess;
  /**
   * Use this runtime instead of creating one (no image, API key or runtime is created).
   * @default - a new CodingAgentRuntime
   */
  readonly runtime?: ICodingAgentRuntime;
  /**
   * The ARN of a runtime deployed elsewhere; shorthand for `runtime: CodingAgentRuntime.fromRuntimeArn(…)`.
   * `runtimeOptions.shellCommand` still applies.
   * @default - a new CodingAgentRuntime
   */
  readonly runtimeArn?: string;
  /**
   * Settings for the runtime created here (name, VPC, lifecycle, session storage, environment, shell command).
   * @default - CodingAgentRuntime's defaults
   */
  readonly runtimeOptions?: CodingAgentRuntimeOptions;
  /**
   * The coding agent's image.
   * @default - `new AgentRuntimeImage({ agent })`: this package's runtimes at the agent's build target, linux/arm64
   */
  readonly runtimeImage?: IAgentRuntimeImage;
  /**
   * The secret holding the coding agent's API key (field `apiKey` unless told otherwise);
   * creates an AgentApiKey (Token Vault credential provider and workload identity) for the
   * runtime, which gives the key to the agent in its variable (`KIRO_API_KEY`,
   * `ANTHROPIC_API_KEY` or `OPENAI_API_KEY`).
   * @default - no API key, unless `apiKey` is given
   */
  readonly apiKeySecret?: SecretField;
  /**
   * How the Token Vault keeps the key from `apiKeySecret`.
   * @default ApiKeyStorage.EXTERNAL - the Token Vault reads your secret; nothing is copied
   */
  readonly apiKeyStorage?: ApiKeyStorage;
  /**
   * An API key set up elsewhere.
   * @default - created from `apiKeySecret`, if given
   */
  readonly apiKey?: IAgentApiKey;
}

/**
 * The common case in one construct: the coding agent image, its AgentCore Runtime, its
 * API key in the Token Vault, and OAB on Fargate driving it through the bridge. Every part
 * can be replaced: bring a runtime (or just its ARN), an image, an API key, a VPC or
 * cluster, chat secrets, an OAB image.
 */
export class OabAgentCore extends Construct {
  /** The runtime OAB talks to (created here or brought). */
  readonly runtime: ICodingAgentRuntime;
  /** The runtime created here, if any. */
  readonly codingAgentRuntime?: CodingAgentRuntime;
  readonly apiKey?: IAgentApiKey;
  readonly oab: OabService;

  constructor(scope: Construct, id: string, props: OabAgentCoreProps) {
    super(scope, id);
    const creating = !props.runtime && !props.runtimeArn;
    const stack = Stack.of(this);
    const place = { region: stack.region, account: stack.account };
    throwIfInvalid(this, [
      ...validateOabAgentCoreProps(props),
      // The runtime's own checks, named as the props given here, in the same error.
      ...(creating
        ? [
          ...validateCodingAgentRuntimeProps({ ...props.runtimeOptions, image: props.runtimeImage, apiKey: props.apiKey }, (v) => stack.resolve(v), place)
            .map((problem) => `runtimeOptions.${problem}`),
          ...validateAgentChoice(
            { agent: props.agent, bedrock: props.bedrock, image: props.runtimeImage, apiKey: props.apiKey, environmentVariables: props.runtimeOptions?.environmentVariables },
            place,
            { apiKey: 'apiKey', environmentVariables: 'runtimeOptions.environmentVariables' },
          ),
        ]
        : []),
    ]);
    const { agent, bedrock, runtime, runtimeArn, runtimeOptions, runtimeImage, apiKeySecret, apiKeyStorage, apiKey, ...serviceProps } = props;

    if (runtime) {
      this.runtime = runtime;
    } else if (runtimeArn) {
      this.runtime = CodingAgentRuntime.fromRuntimeArn(this, 'Runtime', runtimeArn, { agent, shellCommand: runtimeOptions?.shellCommand });
    } else {
      const keyField = (agent ?? runtimeImage?.agent ?? CodingAgent.KIRO).apiKeyJsonField;
      this.apiKey = apiKey ?? (apiKeySecret
        ? new AgentApiKey(this, 'ApiKey', {
          secret: apiKeySecret.secret,
          jsonField: apiKeySecret.field ?? keyField,
          encryptionKey: apiKeySecret.encryptionKey,
          storage: apiKeyStorage,
        })
        : undefined);
      this.codingAgentRuntime = new CodingAgentRuntime(this, 'Runtime', { ...runtimeOptions, agent, bedrock, image: runtimeImage, apiKey: this.apiKey });
      this.runtime = this.codingAgentRuntime;
    }
    this.oab = new OabService(this, 'Oab', { ...serviceProps, runtime: this.runtime });
  }
}

export function validateOabAgentCoreProps(props: OabAgentCoreProps): string[] {
  const problems: string[] = [];
  if (props.runtime && props.runtimeArn) problems.push('runtime and runtimeArn cannot both be given');
  const brought = props.runtime ? 'runtime' : props.runtimeArn ? 'runtimeArn' : undefined;
  if (props.runtime && props.agent) problems.push('agent cannot be combined with runtime (the runtime you bring has its own agent and shell command)');
  if (brought) {
    for (const k of ['runtimeImage', 'apiKeySecret', 'apiKeyStorage', 'apiKey', 'bedrock'] as const) {
      if (props[k] !== undefined) problems.push(`${k} cannot be combined with ${brought} (no runtime is created here)`);
    }
    const options = Object.entries(props.runtimeOptions ?? {})
      .filter(([k, v]) => v !== undefined && !(brought === 'runtimeArn' && k === 'shellCommand'))
      .map(([k]) => k);
    for (const k of options) problems.push(`runtimeOptions.${k} cannot be combined with ${brought} (no runtime is created here)`);
  }
  if (props.apiKeySecret && props.apiKey) problems.push('apiKeySecret and apiKey cannot both be given');
  if (props.bedrock && props.apiKeySecret && !brought) problems.push(`bedrock cannot be combined with apiKeySecret (${BEDROCK_NO_KEY_REASON})`);
  if (props.apiKeyStorage !== undefined && !props.apiKeySecret && !brought) problems.push('apiKeyStorage requires apiKeySecret');
  if (props.apiKeySecret?.encryptionKey && props.apiKeyStorage === ApiKeyStorage.MANAGED && !brought) {
    problems.push('apiKeySecret.encryptionKey applies only to apiKeyStorage "external" (with "managed", CloudFormation reads the secret at deploy with the deploying role)');
  }
  return problems;
}
