/**
 * kms:Decrypt for a secret's customer managed key. An imported secret (by name or ARN) does
 * not know its key, so `secret.grantRead` grants none and reading the secret fails at run
 * time; the key is given beside the secret instead.
 */
import { Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type { IConstruct } from 'constructs';
import { SECRET_KEY_DECRYPT_ACTIONS } from '../perms';

/**
 * Grants `kms:Decrypt` on exactly these keys (each once), only when Secrets Manager in this
 * stack's Region makes the call (`kms:ViaService`), to the principal that reads the secrets.
 */
export function grantSecretKeyDecrypt(scope: IConstruct, grantee: iam.IGrantable, keys: readonly (kms.IKey | undefined)[]): void {
  const arns = [...new Set(keys.filter((k): k is kms.IKey => k !== undefined).map((k) => k.keyArn))];
  if (arns.length === 0) return;
  iam.Grant.addToPrincipal({
    grantee,
    actions: [...SECRET_KEY_DECRYPT_ACTIONS],
    resourceArns: arns,
    conditions: { StringEquals: { 'kms:ViaService': `secretsmanager.${Stack.of(scope).region}.amazonaws.com` } },
  });
}
