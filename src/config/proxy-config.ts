/**
 * The one typed, frozen configuration object. Every flag is parsed and validated once at boot
 * (config-parser.ts) into this shape; nothing else in the app reads argv or env.
 */

import type { WebhookBatchSettings, WebhookMode } from '../audit/audit-webhook-backend.js';
import type { AuditPolicy } from '../audit/audit-policy.js';
import type { WebhookTarget } from '../audit/webhook-target.js';

/** kube-apiserver's allowlist: asymmetric algorithms only (RFC 7518). HMAC and `none` can never be allowed. */
export const ALLOWED_SIGNING_ALGS = [
  'RS256', 'RS384', 'RS512', 'ES256', 'ES384', 'ES512', 'PS256', 'PS384', 'PS512',
] as const;
export type SigningAlg = (typeof ALLOWED_SIGNING_ALGS)[number];

export interface OidcConfig {
  /** Exact issuer string; compared byte for byte with the token's `iss`. */
  readonly issuerUrl: string;
  readonly clientId: string;
  /** --oidc-ca-file: the PATH as given (undefined = system roots). */
  readonly caFile?: string;
  /** The CONTENTS of caFile, read once at boot and checked to hold at least one certificate (not reloaded). */
  readonly caPem?: string;
  readonly usernameClaim: string;
  /**
   * The prefix exactly as kube-apiserver resolves legacy flags: unset and claim != email → `<issuer>#`,
   * unset and claim == email → '', `-` → ''. Resolved by the parser, so the authenticator just concatenates.
   */
  readonly usernamePrefix: string;
  readonly groupsClaim?: string;
  readonly groupsPrefix: string;
  readonly signingAlgs: readonly SigningAlg[];
  /** --oidc-required-claim key=value pairs, enforced (string values only, like the API server). */
  readonly requiredClaims: ReadonlyArray<{ readonly claim: string; readonly value: string }>;
}

import type { JwtAuthenticatorSpec } from '../auth/jwt-authenticator-spec.js';

export type TlsVersion = 'TLSv1.2' | 'TLSv1.3';

export interface ServingConfig {
  readonly bindAddress: string;
  readonly securePort: number;
  readonly tlsCertFile: string;
  readonly tlsKeyFile: string;
  readonly tlsMinVersion: TlsVersion;
  /**
   * OpenSSL list of the TLS 1.2 suites named by --tls-cipher-suites (Go names mapped); undefined = Node's
   * defaults. It never names TLS 1.3 suites, so Node keeps all of them enabled, as Go does.
   */
  readonly tlsCiphers?: string;
  /**
   * --trusted-proxies: CIDRs (or bare IPs) of load balancers whose X-Forwarded-For is believed. Empty: the
   * socket peer is always the client. Validated at boot; matched by proxy/client-address.ts.
   */
  readonly trustedProxies: readonly string[];
  /** --request-read-timeout: time to receive a whole request (head and body); 0 = no limit. */
  readonly requestReadTimeoutMs: number;
  /** --serve-http2: offer HTTP/2 in ALPN beside HTTP/1.1. */
  readonly http2: boolean;
  /** --http2-max-streams-per-connection, with 0 resolved to the default (250, as Go's and kube-apiserver's). */
  readonly http2MaxStreamsPerConnection: number;
}

/** Raw upstream-client flags. Resolution into a concrete target (kubeconfig, in-cluster) is the Upstream module's job. */
export interface UpstreamFlags {
  readonly kubeconfig?: string;
  readonly context?: string;
  readonly cluster?: string;
  readonly user?: string;
  readonly server?: string;
  readonly token?: string;
  readonly certificateAuthority?: string;
  readonly clientCertificate?: string;
  readonly clientKey?: string;
  readonly tlsServerName?: string;
  readonly insecureSkipTlsVerify: boolean;
  /** Milliseconds; 0 = no timeout (watches and exec are unbounded). */
  readonly requestTimeoutMs: number;
  /** --upstream-http2: requests other than watches and upgrades go to the API server as HTTP/2 streams. */
  readonly http2: boolean;
  /** --upstream-http2-watches: watches go to the API server as HTTP/2 streams on shared connections. */
  readonly http2Watches: boolean;
}

export interface ImpersonationConfig {
  readonly disableImpersonation: boolean;
  readonly tokenPassthrough: boolean;
  readonly tokenPassthroughAudiences: readonly string[];
  readonly extraUserHeaderClientIp: boolean;
  /** --extra-user-headers key=value pairs, in command-line order; keys may repeat. */
  readonly extraUserHeaders: ReadonlyArray<readonly [string, string]>;
  /** --disable-end-user-impersonation: refuse client Impersonate-* headers (403) instead of SubjectAccessReviews. */
  readonly disableEndUserImpersonation: boolean;
  /** --allow-reserved-identities: let `system:` users and groups from the identity provider through. */
  readonly allowReservedIdentities: boolean;
}

export interface OpsConfig {
  readonly readinessProbePort: number;
  /** Accepted for compatibility; streaming is always flushed immediately. */
  readonly flushIntervalMs: number;
  /** How long in-flight requests and streams may drain after SIGTERM. */
  readonly shutdownGracePeriodMs: number;
  /** --max-requests-inflight / --max-mutating-requests-inflight; 0 = unlimited (inflight-limiter.ts). */
  readonly maxRequestsInflight: number;
  readonly maxMutatingRequestsInflight: number;
  /** --stream-buffer-gc-mib: Buffer growth that triggers a young-generation GC; 0 = off (buffer-reclaimer.service.ts). */
  readonly streamBufferGcMiB: number;
  readonly logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace';
  /** klog-style -v, accepted for compatibility; without --log-level, >= 4 selects debug and >= 8 trace. */
  readonly verbosity: number;
}

/** The optional OIDC discovery listener (src/discovery); present only with --oidc-discovery-bind-address. */
export interface DiscoveryConfig {
  readonly host: string;
  readonly port: number;
  /** Both or neither: HTTPS with this pair (re-read as it rotates), else plain HTTP. */
  readonly tlsCertFile?: string;
  readonly tlsKeyFile?: string;
  /** Without a trailing slash; jwks_uri becomes `${publicUrl}/openid/v1/jwks`. */
  readonly publicUrl?: string;
  readonly cacheTtlMs: number;
  readonly clientCacheTtlSeconds: number;
  readonly upstreamTimeoutMs: number;
  readonly pretty: boolean;
}

/** Audit events (src/audit); present only with --audit-policy-file. */
export interface AuditConfig {
  /** The policy file's path, for the startup log line. */
  readonly policyFile: string;
  readonly policy: AuditPolicy;
  /** The log backend: a file path, or '-' for standard out; absent: no log backend. */
  readonly log?: {
    readonly path: string;
    readonly maxAgeDays: number;
    readonly maxBackups: number;
    readonly maxSizeMegabytes: number;
  };
  /** The webhook backend (--audit-webhook-config-file); absent: none. */
  readonly webhook?: {
    readonly configFile: string;
    readonly target: WebhookTarget;
    readonly mode: WebhookMode;
    readonly initialBackoffMs: number;
    readonly batch: WebhookBatchSettings;
  };
}

/** Where identities come from: the --oidc-* flags (one authenticator) or an --authentication-config file. */
export interface AuthenticationConfig {
  readonly source: 'flags' | 'file';
  /** The --authentication-config path (source 'file'). */
  readonly file?: string;
  /** The authenticators in force at boot; with a file, later versions replace them (AuthenticatorRegistry). */
  readonly jwt: readonly JwtAuthenticatorSpec[];
  /** sha256 prefix of the file (source 'file'), or of the flag-derived spec. */
  readonly hash: string;
  /** 0 = never re-read. */
  readonly reloadIntervalMs: number;
  readonly requireAllIssuers: boolean;
  /**
   * --service-account-issuer: no OIDC issuer may equal one of these (vector 105), at boot and in every
   * reloaded version of the file, so OIDC claim rules never map a ServiceAccount token.
   */
  readonly serviceAccountIssuers: readonly string[];
}

export interface ProxyConfig {
  /** The --oidc-* flags as given; absent with --authentication-config. */
  readonly oidc?: OidcConfig;
  readonly authentication: AuthenticationConfig;
  readonly serving: ServingConfig;
  readonly upstream: UpstreamFlags;
  readonly impersonation: ImpersonationConfig;
  readonly ops: OpsConfig;
  readonly discovery?: DiscoveryConfig;
  readonly audit?: AuditConfig;
}

/** DI token for the frozen ProxyConfig. */
export const PROXY_CONFIG = Symbol('PROXY_CONFIG');
