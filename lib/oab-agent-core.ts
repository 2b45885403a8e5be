import { Stack } from 'aws-cdk-lib';
import { Construct } from 'constructs';
import { AgentApiKey, ApiKeyStorage, type IAgentApiKey } from './agent-api-key';
import type { IAgentRuntimeImage } from './agent-runtime-image';
import { CodingAgentRuntime, type CodingAgentRuntimeOptions, type ICodingAgentRuntime, validateCodingAgentRuntimeProps } from './coding-agent-runtime';
import { OabService, type OabServiceOptions, type SecretField } from './oab-service';
import { throwIfInvalid } from './validation';

export interface OabAgentCoreProps extends OabServiceOptions {
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
   * @default - `new AgentRuntimeImage()` (runtimes/kiro, linux/arm64)
   */
  readonly runtimeImage?: IAgentRuntimeImage;
  /**
   * The secret holding the coding agent's API key; creates an AgentApiKey (Token Vault
   * credential provider and workload identity) for the runtime.
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
    throwIfInvalid(this, [
      ...validateOabAgentCoreProps(props),
      // The runtime's own checks, named as the props given here, in the same error.
      ...(creating
        ? validateCodingAgentRuntimeProps({ ...props.runtimeOptions, image: props.runtimeImage, apiKey: props.apiKey }, (v) => Stack.of(this).resolve(v))
          .map((problem) => `runtimeOptions.${problem}`)
        : []),
    ]);
    const { runtime, runtimeArn, runtimeOptions, runtimeImage, apiKeySecret, apiKeyStorage, apiKey, ...serviceProps } = props;

    if (runtime) {
      this.runtime = runtime;
    } else if (runtimeArn) {
      this.runtime = CodingAgentRuntime.fromRuntimeArn(this, 'Runtime', runtimeArn, { shellCommand: runtimeOptions?.shellCommand });
    } else {
      this.apiKey = apiKey ?? (apiKeySecret
        ? new AgentApiKey(this, 'ApiKey', {
          secret: apiKeySecret.secret,
          jsonField: apiKeySecret.field,
          encryptionKey: apiKeySecret.encryptionKey,
          storage: apiKeyStorage,
        })
        : undefined);
      this.codingAgentRuntime = new CodingAgentRuntime(this, 'Runtime', { ...runtimeOptions, image: runtimeImage, apiKey: this.apiKey });
      this.runtime = this.codingAgentRuntime;
    }
    this.oab = new OabService(this, 'Oab', { ...serviceProps, runtime: this.runtime });
  }
}

export function validateOabAgentCoreProps(props: OabAgentCoreProps): string[] {
  const problems: string[] = [];
  if (props.runtime && props.runtimeArn) problems.push('runtime and runtimeArn cannot both be given');
  const brought = props.runtime ? 'runtime' : props.runtimeArn ? 'runtimeArn' : undefined;
  if (brought) {
    for (const k of ['runtimeImage', 'apiKeySecret', 'apiKeyStorage', 'apiKey'] as const) {
      if (props[k] !== undefined) problems.push(`${k} cannot be combined with ${brought} (no runtime is created here)`);
    }
    const options = Object.entries(props.runtimeOptions ?? {})
      .filter(([k, v]) => v !== undefined && !(brought === 'runtimeArn' && k === 'shellCommand'))
      .map(([k]) => k);
    for (const k of options) problems.push(`runtimeOptions.${k} cannot be combined with ${brought} (no runtime is created here)`);
  }
  if (props.apiKeySecret && props.apiKey) problems.push('apiKeySecret and apiKey cannot both be given');
  if (props.apiKeyStorage !== undefined && !props.apiKeySecret && !brought) problems.push('apiKeyStorage requires apiKeySecret');
  if (props.apiKeySecret?.encryptionKey && props.apiKeyStorage === ApiKeyStorage.MANAGED && !brought) {
    problems.push('apiKeySecret.encryptionKey applies only to apiKeyStorage "external" (with "managed", CloudFormation reads the secret at deploy with the deploying role)');
  }
  return problems;
}
