import { ArnFormat, SecretValue, Stack, Token } from 'aws-cdk-lib';
import { ApiKeyCredentialProvider, type CfnApiKeyCredentialProvider, WorkloadIdentity } from 'aws-cdk-lib/aws-bedrockagentcore';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import { API_KEY_READ_ACTIONS, API_KEY_SECRET_ACTIONS, WORKLOAD_TOKEN_ACTIONS } from './perms';
import { acknowledgeWildcardResources } from './private/nag';
import { grantSecretKeyDecrypt } from './private/secret-key';
import { throwIfInvalid, validateOneOf } from './validation';

import { ENV_CREDENTIAL_PROVIDER, ENV_WORKLOAD_NAME } from '../shared/contract/runtime-env';

// The runtime environment variables that name the workload identity and the credential provider.
export { ENV_CREDENTIAL_PROVIDER, ENV_WORKLOAD_NAME };

/** Where the Token Vault keeps the key. */
export enum ApiKeyStorage {
  /**
   * CloudFormation resolves a dynamic reference to your secret at deploy and the Token
   * Vault keeps its own copy (`bedrock-agentcore-identity!…`).
   */
  MANAGED = 'managed',
  /** The Token Vault reads your secret whenever the key is requested; nothing is copied. */
  EXTERNAL = 'external',
}

/** An API key in the AgentCore Token Vault, and the workload identity that may read it. */
export interface IAgentApiKey {
  readonly credentialProviderName: string;
  readonly credentialProviderArn: string;
  readonly workloadIdentityName: string;
  readonly workloadIdentityArn: string;
  /**
   * The variables a runtime needs to fetch the key at boot: names only, never the key.
   * `AGENTCORE_WORKLOAD_NAME` and `AGENTCORE_CREDENTIAL_PROVIDER`.
   */
  readonly runtimeEnvironment: Record<string, string>;
  /**
   * Grants `grantee` (a runtime's execution role) what fetching this key needs:
   * a workload access token for this workload identity, `GetResourceApiKey` on this
   * credential provider, and read access to the one secret that holds the key.
   */
  grantUse(grantee: iam.IGrantable): iam.Grant;
}

export interface AgentApiKeyProps {
  /**
   * The existing Secrets Manager secret that holds the API key (same account and Region).
   * Best imported by its full ARN (`Secret.fromSecretCompleteArn`): the Token Vault is given
   * that ARN and the read grant is that one secret; imported by name, the grant is `<name>-??????`.
   */
  readonly secret: secretsmanager.ISecret;
  /**
   * The customer managed KMS key that encrypts the secret (`storage: EXTERNAL` only): the
   * runtime role gets `kms:Decrypt` on this key only, through Secrets Manager. An imported
   * secret does not know its key, so without this the Token Vault cannot read it.
   * @default - the secret's own `encryptionKey` (none for an imported secret: the AWS managed key `aws/secretsmanager`)
   */
  readonly encryptionKey?: kms.IKey;
  /**
   * The JSON field of the secret that holds the key, for a secret like `{"apiKey":"…"}`.
   * @default 'apiKey'
   */
  readonly jsonField?: string;
  /**
   * The whole secret string is the key, not a JSON field of it (`storage: MANAGED` only:
   * the Token Vault reads an external secret's JSON field). Conflicts with `jsonField`.
   * @default false
   */
  readonly wholeSecretString?: boolean;
  /**
   * `EXTERNAL`: the Token Vault reads your secret whenever the key is requested; there
   * is no copy, rotation takes effect at once, and the runtime role is granted read on
   * that one secret (plus kms:Decrypt if it has a customer managed key).
   * `MANAGED`: CloudFormation resolves a dynamic reference to your secret at deploy and
   * the Token Vault keeps its own copy (`bedrock-agentcore-identity!…`); a new secret
   * value reaches it only when the template changes (see `secretVersionId`), and because
   * that copy's ARN is not a usable CloudFormation attribute, the runtime role can read
   * `bedrock-agentcore-identity!*` (all Token Vault copies in the account and Region).
   * Either way the template holds a reference, never the key.
   * @default ApiKeyStorage.EXTERNAL
   */
  readonly storage?: ApiKeyStorage;
  /**
   * Pin a secret version (`storage: MANAGED` only): the copy is refreshed when this changes.
   * @default - the current version when the stack is deployed
   */
  readonly secretVersionId?: string;
  /**
   * @default - a name unique to this construct's path
   */
  readonly credentialProviderName?: string;
  /**
   * @default - a name unique to this construct's path
   */
  readonly workloadIdentityName?: string;
}

/** The JSON field read from the secret unless told otherwise. */
export const DEFAULT_API_KEY_JSON_FIELD = 'apiKey';

const PROVIDER_NAME = /^[a-zA-Z0-9_-]{1,128}$/;
const WORKLOAD_NAME = /^[A-Za-z0-9_.-]{3,255}$/;
const JSON_FIELD = /^[^:]{1,256}$/;

/**
 * The coding agent's API key in the AgentCore Token Vault: an API key credential provider
 * fed from an existing Secrets Manager secret, and the workload identity the runtime uses
 * to read it. The key never appears in the template, in an environment variable or in a
 * config file; the runtime fetches it itself at boot:
 *
 * 1. `GetWorkloadAccessToken({ workloadName: $AGENTCORE_WORKLOAD_NAME })`
 * 2. `GetResourceApiKey({ workloadIdentityToken, resourceCredentialProviderName: $AGENTCORE_CREDENTIAL_PROVIDER })`
 */
export class AgentApiKey extends Construct implements IAgentApiKey {
  readonly credentialProviderName: string;
  readonly credentialProviderArn: string;
  readonly workloadIdentityName: string;
  readonly workloadIdentityArn: string;
  readonly storage: ApiKeyStorage;
  readonly provider: ApiKeyCredentialProvider;
  readonly workloadIdentity: WorkloadIdentity;
  private readonly secret: secretsmanager.ISecret;
  private readonly encryptionKey?: kms.IKey;

  constructor(scope: Construct, id: string, props: AgentApiKeyProps) {
    super(scope, id);
    throwIfInvalid(this, validateAgentApiKeyProps(props));
    this.storage = props.storage ?? ApiKeyStorage.EXTERNAL;
    const jsonField = props.wholeSecretString ? undefined : (props.jsonField ?? DEFAULT_API_KEY_JSON_FIELD);
    this.secret = props.secret;
    this.encryptionKey = props.encryptionKey;
    // A full ARN when we have one, else the name: a partial ARN is not a valid secret id.
    const secretId = props.secret.secretFullArn ?? props.secret.secretName;

    this.workloadIdentity = new WorkloadIdentity(this, 'WorkloadIdentity', {
      workloadIdentityName: props.workloadIdentityName,
    });
    this.provider = new ApiKeyCredentialProvider(this, 'Provider', {
      apiKeyCredentialProviderName: props.credentialProviderName,
      // A dynamic reference ({{resolve:secretsmanager:…}}); CloudFormation resolves it at deploy.
      apiKey: this.storage === ApiKeyStorage.MANAGED
        ? SecretValue.secretsManager(secretId, { jsonField, versionId: props.secretVersionId })
        : undefined,
    });
    if (this.storage === ApiKeyStorage.EXTERNAL) {
      const cfn = this.provider.node.defaultChild as CfnApiKeyCredentialProvider;
      cfn.apiKeySecretSource = 'EXTERNAL';
      cfn.apiKeySecretConfig = { secretId, jsonKey: jsonField! };
    }

    this.credentialProviderName = this.provider.apiKeyCredentialProviderName;
    this.credentialProviderArn = this.provider.credentialProviderArn;
    this.workloadIdentityName = this.workloadIdentity.workloadIdentityName;
    this.workloadIdentityArn = this.workloadIdentity.workloadIdentityArn;
  }

  get runtimeEnvironment(): Record<string, string> {
    return {
      [ENV_WORKLOAD_NAME]: this.workloadIdentityName,
      [ENV_CREDENTIAL_PROVIDER]: this.credentialProviderName,
    };
  }

  grantUse(grantee: iam.IGrantable): iam.Grant {
    const stack = Stack.of(this);
    const identityArn = (resource: string) =>
      stack.formatArn({ service: 'bedrock-agentcore', resource, arnFormat: ArnFormat.NO_RESOURCE_NAME });
    const directory = identityArn('workload-identity-directory/default');

    const token = iam.Grant.addToPrincipal({
      grantee,
      actions: [...WORKLOAD_TOKEN_ACTIONS],
      resourceArns: [directory, this.workloadIdentityArn],
    });
    const key = iam.Grant.addToPrincipal({
      grantee,
      actions: [...API_KEY_READ_ACTIONS],
      resourceArns: [identityArn('token-vault/default'), this.credentialProviderArn, directory, this.workloadIdentityArn],
    });
    return token.combine(key).combine(this.grantSecretRead(grantee));
  }

  /** Read access to the secret behind the key: yours, or the Token Vault's copies. */
  private grantSecretRead(grantee: iam.IGrantable): iam.Grant {
    if (this.storage === ApiKeyStorage.EXTERNAL) {
      // GetSecretValue and DescribeSecret on this one secret, and kms:Decrypt when it has a customer managed key.
      const read = this.secret.grantRead(grantee);
      grantSecretKeyDecrypt(this, grantee, [this.encryptionKey]);
      return read;
    }
    // The copy's ARN is only exposed as an object attribute (ApiKeySecretArn), which IAM
    // cannot use, so the grant names the service's prefix for its copies.
    const copies = Stack.of(this).formatArn({
      service: 'secretsmanager',
      resource: 'secret',
      resourceName: 'bedrock-agentcore-identity!*',
      arnFormat: ArnFormat.COLON_RESOURCE_NAME,
    });
    const grant = iam.Grant.addToPrincipal({ grantee, actions: [...API_KEY_SECRET_ACTIONS], resourceArns: [copies] });
    if (grantee instanceof Construct) {
      acknowledgeWildcardResources(grantee, [copies],
        'storage "managed": the Token Vault names its copy of the key bedrock-agentcore-identity!<suffix> and exposes the ARN only as an object attribute IAM cannot use; choose storage "external" for a grant on your one secret.');
    }
    return grant;
  }
}

export function validateAgentApiKeyProps(props: AgentApiKeyProps): string[] {
  const problems = validateOneOf('storage', props.storage, Object.values(ApiKeyStorage));
  const isToken = (v: string) => Token.isUnresolved(v);
  if (props.wholeSecretString && props.jsonField !== undefined) problems.push('jsonField cannot be combined with wholeSecretString (the key is either one JSON field or the whole string)');
  if ((props.storage ?? ApiKeyStorage.EXTERNAL) === ApiKeyStorage.EXTERNAL) {
    if (props.wholeSecretString) problems.push('wholeSecretString requires storage "managed" (the Token Vault reads one JSON field of an external secret)');
    if (props.secretVersionId !== undefined) problems.push('secretVersionId applies only to storage "managed" (an external secret is always read at its current version)');
  } else if (props.encryptionKey !== undefined) {
    problems.push('encryptionKey applies only to storage "external" (with "managed", CloudFormation reads the secret at deploy with the deploying role, and the runtime reads the Token Vault\'s copy)');
  }
  if (props.jsonField !== undefined && !isToken(props.jsonField) && !JSON_FIELD.test(props.jsonField)) {
    problems.push(`jsonField must be 1-256 characters without ":", got "${props.jsonField}"`);
  }
  const p = props.credentialProviderName;
  if (p !== undefined && !isToken(p) && !PROVIDER_NAME.test(p)) {
    problems.push(`credentialProviderName must match ${PROVIDER_NAME}, got "${p}"`);
  }
  const w = props.workloadIdentityName;
  if (w !== undefined && !isToken(w) && !WORKLOAD_NAME.test(w)) {
    problems.push(`workloadIdentityName must match ${WORKLOAD_NAME}, got "${w}"`);
  }
  return problems;
}
