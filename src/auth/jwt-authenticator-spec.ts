/**
 * One JWT authenticator, in the shape of kube-apiserver's AuthenticationConfiguration `jwt[]` entry
 * (apiserver.config.k8s.io/v1). The legacy --oidc-* flags are turned into one of these, so flags and a
 * future --authentication-config file share one code path.
 */
import type { OidcConfig, SigningAlg } from '../config/proxy-config.js';

export interface JwtAuthenticatorSpec {
  readonly issuer: {
    readonly url: string;
    readonly discoveryURL?: string;
    readonly audiences: readonly string[];
    readonly audienceMatchPolicy?: 'MatchAny';
    /** PEM. */
    readonly certificateAuthority?: string;
  };
  readonly claimValidationRules: ReadonlyArray<{ readonly claim: string; readonly requiredValue: string }>;
  readonly claimMappings: {
    readonly username: { readonly claim: string; readonly prefix: string };
    readonly groups?: { readonly claim: string; readonly prefix: string };
    readonly uid?: { readonly claim: string };
  };
  readonly signingAlgs: readonly SigningAlg[];
}

/** kube-apiserver's ToAuthenticationConfig for the legacy flags (the prefix rule was resolved at parse time). */
export function legacyFlagsToSpec(oidc: OidcConfig): JwtAuthenticatorSpec {
  return {
    issuer: { url: oidc.issuerUrl, audiences: [oidc.clientId], ...(oidc.caPem ? { certificateAuthority: oidc.caPem } : {}) },
    claimValidationRules: oidc.requiredClaims.map((r) => ({ claim: r.claim, requiredValue: r.value })),
    claimMappings: {
      username: { claim: oidc.usernameClaim, prefix: oidc.usernamePrefix },
      ...(oidc.groupsClaim ? { groups: { claim: oidc.groupsClaim, prefix: oidc.groupsPrefix } } : {}),
    },
    signingAlgs: oidc.signingAlgs,
  };
}
