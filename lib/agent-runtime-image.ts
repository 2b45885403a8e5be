import { Names, Token } from 'aws-cdk-lib';
import type * as ecr from 'aws-cdk-lib/aws-ecr';
import { DockerImageAsset, Platform } from 'aws-cdk-lib/aws-ecr-assets';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import { CodingAgent } from './coding-agent';
import { ECR_PULL_ACTIONS, ECR_TOKEN_ACTIONS } from './perms';
import { grantOnWildcardPolicy, roleOf } from './private/wildcard-policy';
import { defaultRuntimeDirectory } from './private/package-paths';
import { throwIfInvalid } from './validation';

/** A container image an AgentCore Runtime can run: where it is, and how to let a role pull it. */
export interface IAgentRuntimeImage {
  /** The ECR image URI (repository URI plus `:tag` or `@sha256:…`). */
  readonly imageUri: string;
  /**
   * The coding agent the image carries, when known: a runtime that runs the image takes
   * its agent (shell command, key variable, grants) from here unless told otherwise.
   */
  readonly agent?: CodingAgent;
  /** Grants `grantee` exactly what pulling this image needs. */
  grantPull(grantee: iam.IGrantable): iam.Grant;
}

export interface AgentRuntimeImageProps {
  /**
   * The coding agent the image carries. Built from this package's runtimes, it selects the
   * Dockerfile's build target (`kiro`, `claude-code`, `codex`); for a directory or an ECR
   * image of yours it only tells the runtime which agent it runs.
   * @default - CodingAgent.KIRO for this package's runtimes; not known for an image of yours
   */
  readonly agent?: CodingAgent;
  /**
   * The Docker build context to build the image from. Everything in it is hashed into
   * the asset, so keep it to the image's own files.
   * @default - this package's runtimes, at the agent's build target
   */
  readonly directory?: string;
  /**
   * The Dockerfile's build target (stage) for a `directory` of yours.
   * @default - the last stage of your Dockerfile; the agent's target for this package's runtimes
   */
  readonly target?: string;
  /**
   * Docker build arguments, e.g. `{ KIRO_CLI_VERSION: '1.2.3' }`. Visible in the cloud
   * assembly and the image history: never put a secret here.
   * @default - none
   */
  readonly buildArgs?: Record<string, string>;
  /**
   * The Dockerfile, relative to `directory`.
   * @default 'Dockerfile'
   */
  readonly file?: string;
  /**
   * Use this existing ECR repository instead of building an image. Requires
   * `existingTagOrDigest`; conflicts with `directory`, `buildArgs` and `file`.
   * @default - the image is built from `directory` and pushed to the CDK assets repository
   */
  readonly existingRepository?: ecr.IRepository;
  /**
   * The tag (`v1.2.3`) or digest (`sha256:…`) of the image in `existingRepository`.
   * There is no `latest` default: pin what you deploy.
   * @default - required with `existingRepository`
   */
  readonly existingTagOrDigest?: string;
}

const TAG = /^[a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}$/;
const DIGEST = /^sha256:[a-f0-9]{64}$/;

/**
 * The coding agent's container image for AgentCore Runtime, always `linux/arm64` (the only
 * architecture AgentCore runs). By default it is built from this package's runtimes, at the
 * chosen agent's build target (Kiro unless told otherwise), as a CDK Docker image asset: `cdk synth` only stages the directory; `cdk deploy` builds
 * it (Docker with Buildx) and pushes it to the bootstrap ECR repository.
 */
export class AgentRuntimeImage extends Construct implements IAgentRuntimeImage {
  /** An image that already exists in ECR, pinned by tag or digest. */
  static fromEcrImage(scope: Construct, id: string, repository: ecr.IRepository, tagOrDigest: string, agent?: CodingAgent): AgentRuntimeImage {
    return new AgentRuntimeImage(scope, id, { existingRepository: repository, existingTagOrDigest: tagOrDigest, agent });
  }

  readonly imageUri: string;
  readonly agent?: CodingAgent;
  /** The repository the image is pulled from. */
  readonly repository: ecr.IRepository;
  /** The asset, when the image is built by CDK. */
  readonly asset?: DockerImageAsset;

  constructor(scope: Construct, id: string, props: AgentRuntimeImageProps = {}) {
    super(scope, id);
    throwIfInvalid(this, validateAgentRuntimeImageProps(props));
    const ours = !props.existingRepository && props.directory === undefined;
    this.agent = props.agent ?? (ours ? CodingAgent.KIRO : undefined);

    if (props.existingRepository) {
      this.repository = props.existingRepository;
      this.imageUri = props.existingRepository.repositoryUriForTagOrDigest(props.existingTagOrDigest);
    } else {
      this.asset = new DockerImageAsset(this, 'Asset', {
        directory: props.directory ?? defaultRuntimeDirectory(),
        // This package's runtimes are one Dockerfile with a final stage per agent.
        target: ours ? this.agent!.imageTarget : props.target,
        file: props.file,
        buildArgs: props.buildArgs,
        platform: Platform.LINUX_ARM64,
        displayName: `${this.agent ? `${this.agent.id} ` : ''}coding agent runtime image (linux/arm64)`,
        // A synthesizer that gives each image asset a repository of its own (such as the
        // app staging synthesizer) names it after this; the default one ignores it.
        assetName: Names.uniqueResourceName(this, { maxLength: 64, separator: '-' }).toLowerCase(),
      });
      this.repository = this.asset.repository;
      this.imageUri = this.asset.imageUri;
    }
  }

  /**
   * Pull access to this image's repository only, plus `ecr:GetAuthorizationToken`, which
   * AWS accepts only on `Resource: "*"`. For a role the login goes in an inline policy of
   * its own, the only place cdk-nag's finding for it is acknowledged.
   */
  grantPull(grantee: iam.IGrantable): iam.Grant {
    const pull = iam.Grant.addToPrincipal({ grantee, actions: [...ECR_PULL_ACTIONS], resourceArns: [this.repository.repositoryArn] });
    const role = roleOf(grantee);
    if (role) {
      return pull.combine(grantOnWildcardPolicy(this, `EcrLogin-${Names.nodeUniqueId(role.node)}`, role, ECR_TOKEN_ACTIONS, ECR_LOGIN_REASON));
    }
    // Not a role (a user, a group, a composite): the login joins its default policy and its
    // cdk-nag finding stays visible, since acknowledging it there would cover the whole principal.
    return pull.combine(iam.Grant.addToPrincipal({ grantee, actions: [...ECR_TOKEN_ACTIONS], resourceArns: ['*'] }));
  }
}

const ECR_LOGIN_REASON = 'ecr:GetAuthorizationToken (ECR login) supports no resource-level permissions and must use Resource "*"; image pulls themselves are limited to the one repository.';

export function validateAgentRuntimeImageProps(props: AgentRuntimeImageProps): string[] {
  const problems: string[] = [];
  if (props.existingRepository) {
    const building = (['directory', 'buildArgs', 'file', 'target'] as const).filter((k) => props[k] !== undefined);
    for (const k of building) problems.push(`${k} cannot be combined with existingRepository (the image is not built)`);
    const ref = props.existingTagOrDigest;
    if (ref === undefined) {
      problems.push('existingTagOrDigest is required with existingRepository (a tag such as "v1.2.3" or a digest "sha256:…")');
    } else if (!Token.isUnresolved(ref) && !TAG.test(ref) && !DIGEST.test(ref)) {
      problems.push(`existingTagOrDigest must be an image tag or a sha256 digest, got "${ref}"`);
    }
  } else if (props.existingTagOrDigest !== undefined) {
    problems.push('existingTagOrDigest requires existingRepository');
  }
  if (props.target !== undefined && props.directory === undefined && !props.existingRepository) {
    problems.push(`target requires directory (this package's runtimes are built at the agent's target${props.agent ? `, "${props.agent.imageTarget}"` : ''}; choose it with agent)`);
  }
  if (props.target !== undefined && !Token.isUnresolved(props.target) && !/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(props.target)) {
    problems.push(`target must be a Dockerfile stage name, got "${props.target}"`);
  }
  for (const [k, v] of Object.entries(props.buildArgs ?? {})) {
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(k)) problems.push(`buildArgs name "${k}" must be letters, digits and "_", not starting with a digit`);
    if (/[\r\n]/.test(v)) problems.push(`buildArgs.${k} must be a single line`);
  }
  return problems;
}
