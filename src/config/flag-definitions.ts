/**
 * The one table of flags. It drives parsing (argv-parser.ts), `--help` and docs/flags.md, so names,
 * defaults and help text cannot drift apart. Names and defaults follow jetstack/kube-oidc-proxy
 * (cmd/app/options) and kubectl's client flags.
 */
export type FlagType = 'bool' | 'string' | 'int' | 'duration' | 'stringSlice' | 'stringToStringSlice' | 'mapStringString';

export type FlagSection = 'Kube-OIDC-Proxy' | 'OIDC' | 'Secure Serving' | 'Client' | 'Misc';

export interface FlagDefinition {
  readonly name: string;
  readonly shorthand?: string;
  readonly type: FlagType;
  /** As printed in --help (`(default X)`); '' means no default shown. */
  readonly default: string;
  readonly help: string;
  readonly section: FlagSection;
  /** Never echo the value (tokens). */
  readonly secret?: boolean;
  /** Accepted for compatibility and ignored, with a warning. */
  readonly ignored?: boolean;
}

export const FLAG_DEFINITIONS: readonly FlagDefinition[] = [
  // Kube-OIDC-Proxy
  { section: 'Kube-OIDC-Proxy', name: 'disable-impersonation', type: 'bool', default: 'false', help: 'Authenticate the OIDC token, then forward the request with the user\'s own bearer token and no impersonation headers (for API servers that accept the OIDC token themselves).' },
  { section: 'Kube-OIDC-Proxy', name: 'readiness-probe-port', shorthand: 'P', type: 'int', default: '8080', help: 'Port of the plain-HTTP ops listener serving /ready, /live and /metrics.' },
  { section: 'Kube-OIDC-Proxy', name: 'flush-interval', type: 'duration', default: '50ms', help: 'Accepted for compatibility with jetstack/kube-oidc-proxy. Streaming responses (watch, logs -f) are always flushed immediately.' },
  { section: 'Kube-OIDC-Proxy', name: 'token-passthrough', type: 'bool', default: 'false', help: 'If the bearer token is not a valid OIDC token, check it with a TokenReview and forward it unchanged when the API server accepts it.' },
  { section: 'Kube-OIDC-Proxy', name: 'token-passthrough-audiences', type: 'stringSlice', default: '', help: 'Audiences sent in passthrough TokenReviews (comma-separated). Empty means the API server\'s default audiences.' },
  { section: 'Kube-OIDC-Proxy', name: 'extra-user-header-client-ip', type: 'bool', default: 'false', help: 'Add the extra Remote-Client-IP (the resolved client address) to every impersonated identity.' },
  { section: 'Kube-OIDC-Proxy', name: 'extra-user-headers', type: 'stringToStringSlice', default: '', help: 'Extra key=value pairs added to every impersonated identity, comma-separated; a key may repeat (key1=foo,key2=bar,key1=baz).' },
  { section: 'Kube-OIDC-Proxy', name: 'disable-end-user-impersonation', type: 'bool', default: 'false', help: 'Refuse every client Impersonate-* header (kubectl --as, --as-group, --as-uid, --as-user-extra) with 403 instead of checking it with SubjectAccessReviews.' },
  { section: 'Kube-OIDC-Proxy', name: 'allow-reserved-identities', type: 'bool', default: 'false', help: 'Let OIDC identities into the API server\'s reserved space: user names starting with "system:" and "system:" groups other than system:authenticated (e.g. system:masters). Refused by default: an identity provider admin or a misconfigured claim would otherwise become cluster-admin.' },
  { section: 'Kube-OIDC-Proxy', name: 'shutdown-grace-period', type: 'duration', default: '60s', help: 'After SIGTERM, how long in-flight requests, watches and exec sessions may run before their connections are closed.' },

  // OIDC
  { section: 'OIDC', name: 'oidc-issuer-url', type: 'string', default: '', help: 'The URL of the OpenID issuer, https only. Compared byte for byte with the token\'s iss claim.' },
  { section: 'OIDC', name: 'oidc-client-id', type: 'string', default: '', help: 'The client ID for the OpenID Connect client; the token\'s aud must contain it.' },
  { section: 'OIDC', name: 'oidc-ca-file', type: 'string', default: '', help: 'PEM CA bundle for the issuer\'s TLS certificate. Default: the system roots.' },
  { section: 'OIDC', name: 'oidc-username-claim', type: 'string', default: 'sub', help: 'The OpenID claim to use as the user name. Claims other than sub and email are not guaranteed unique and immutable.' },
  { section: 'OIDC', name: 'oidc-username-prefix', type: 'string', default: '', help: 'Prefix for user names. If not provided, usernames from claims other than email are prefixed by the issuer URL and "#". The value "-" disables all prefixing.' },
  { section: 'OIDC', name: 'oidc-groups-claim', type: 'string', default: '', help: 'The claim holding the user\'s groups: a string or an array of strings. Empty means no groups from the token.' },
  { section: 'OIDC', name: 'oidc-groups-prefix', type: 'string', default: '', help: 'Prefix added to every group name, e.g. "oidc:".' },
  { section: 'OIDC', name: 'oidc-signing-algs', type: 'stringSlice', default: 'RS256', help: 'Allowed JOSE signing algorithms (RFC 7518), asymmetric only: RS256, RS384, RS512, ES256, ES384, ES512, PS256, PS384, PS512.' },
  { section: 'OIDC', name: 'oidc-required-claim', type: 'mapStringString', default: '', help: 'A key=value pair the ID token must contain (string claims). Repeat the flag for several claims. Enforced.' },

  // Secure serving
  { section: 'Secure Serving', name: 'bind-address', type: 'string', default: '0.0.0.0', help: 'The IP address to listen on for the secure port (and the ops listener).' },
  { section: 'Secure Serving', name: 'secure-port', type: 'int', default: '6443', help: 'The port for HTTPS with authentication. It cannot be turned off.' },
  { section: 'Secure Serving', name: 'tls-cert-file', type: 'string', default: '', help: 'File containing the serving certificate (PEM, with intermediates). Required. Re-read when it changes.' },
  { section: 'Secure Serving', name: 'tls-private-key-file', type: 'string', default: '', help: 'File containing the private key matching --tls-cert-file. Required. Re-read when it changes.' },
  { section: 'Secure Serving', name: 'tls-min-version', type: 'string', default: 'VersionTLS12', help: 'Minimum TLS version: VersionTLS12 or VersionTLS13.' },
  { section: 'Secure Serving', name: 'tls-cipher-suites', type: 'stringSlice', default: '', help: 'Comma-separated TLS 1.2 cipher suites by their Go/IANA names (e.g. TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256). Default: Node\'s secure defaults.' },
  { section: 'Secure Serving', name: 'cert-dir', type: 'string', default: '', help: 'Accepted for compatibility and ignored: the proxy never generates certificates; use --tls-cert-file.', ignored: true },

  // Client (upstream), kubectl's names
  { section: 'Client', name: 'kubeconfig', type: 'string', default: '', help: 'Path to the kubeconfig file used to reach the API server. Without any client flag the in-cluster service account is used.' },
  { section: 'Client', name: 'context', type: 'string', default: '', help: 'The kubeconfig context to use.' },
  { section: 'Client', name: 'cluster', type: 'string', default: '', help: 'The kubeconfig cluster to use.' },
  { section: 'Client', name: 'user', type: 'string', default: '', help: 'The kubeconfig user to use.' },
  { section: 'Client', name: 'server', shorthand: 's', type: 'string', default: '', help: 'The address and port of the Kubernetes API server.' },
  { section: 'Client', name: 'token', type: 'string', default: '', help: 'Bearer token for authentication to the API server.', secret: true },
  { section: 'Client', name: 'certificate-authority', type: 'string', default: '', help: 'Path to a cert file for the certificate authority of the API server.' },
  { section: 'Client', name: 'client-certificate', type: 'string', default: '', help: 'Path to a client certificate file for TLS to the API server.' },
  { section: 'Client', name: 'client-key', type: 'string', default: '', help: 'Path to a client key file for TLS to the API server.' },
  { section: 'Client', name: 'tls-server-name', type: 'string', default: '', help: 'Server name for the API server\'s certificate check. Default: the server\'s hostname.' },
  { section: 'Client', name: 'insecure-skip-tls-verify', type: 'bool', default: 'false', help: 'Do not verify the API server\'s certificate. Insecure: for tests only.' },
  { section: 'Client', name: 'request-timeout', type: 'duration', default: '0', help: 'Timeout for a request to the API server to answer with headers; 0 means no timeout (watch and exec are never cut).' },

  // Misc
  { section: 'Misc', name: 'v', shorthand: 'v', type: 'int', default: '0', help: 'klog-style verbosity, accepted for compatibility: 4 or more selects debug logs.' },
  { section: 'Misc', name: 'log-level', type: 'string', default: 'info', help: 'Log level: fatal, error, warn, info, debug or trace.' },
  { section: 'Misc', name: 'vmodule', type: 'string', default: '', help: 'Accepted for compatibility and ignored.', ignored: true },
  { section: 'Misc', name: 'log-flush-frequency', type: 'duration', default: '5s', help: 'Accepted for compatibility and ignored: logs are written immediately.', ignored: true },
  { section: 'Misc', name: 'version', type: 'bool', default: 'false', help: 'Print the version and exit.' },
  { section: 'Misc', name: 'help', shorthand: 'h', type: 'bool', default: 'false', help: 'Print this help and exit.' },
];

export const FLAGS_BY_NAME: ReadonlyMap<string, FlagDefinition> = new Map(FLAG_DEFINITIONS.map((f) => [f.name, f]));
export const FLAGS_BY_SHORTHAND: ReadonlyMap<string, FlagDefinition> = new Map(
  FLAG_DEFINITIONS.filter((f) => f.shorthand).map((f) => [f.shorthand!, f]),
);
