/**
 * AWS credentials from the standard provider chain (environment, SSO, shared
 * profiles, web identity, ECS task role, EC2 instance role). The chain is
 * memoized and refreshes credentials before they expire, so every (re)connect
 * signs with valid ones.
 */
import type { AwsCredentialIdentity } from '@smithy/types';

/** Credentials for signing; `forceRefresh` fetches them anew (the service said they had expired). */
export type CredentialSource = (options?: { forceRefresh?: boolean }) => Promise<AwsCredentialIdentity>;

export function credentialChain(): CredentialSource {
  let provider: ReturnType<typeof import('@aws-sdk/credential-provider-node').defaultProvider> | undefined;
  return async (options) => {
    if (!provider) {
      // Loaded on first use: it is large, and --help or a bad argument never needs it.
      const { defaultProvider } = await import('@aws-sdk/credential-provider-node');
      provider = defaultProvider();
    }
    return provider(options);
  };
}
