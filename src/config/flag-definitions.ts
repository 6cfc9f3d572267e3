/**
 * The one table of flags. It drives parsing (argv-parser.ts), `--help` and docs/flags.md (help-text.ts),
 * so names, types, defaults and help text cannot drift apart. Names, shorthands, types and defaults follow
 * jetstack/kube-oidc-proxy v0.3.0 (cmd/app/options) and kubectl's client flags (genericclioptions);
 * `default` is written the way pflag would parse it from the command line.
 */

/** pflag value types, named as pflag's `Type()` reports them (`ip` is net.IP, as for kube-apiserver's --bind-address). */
export type FlagType = 'bool' | 'string' | 'int' | 'float32' | 'ip' | 'duration' | 'stringSlice' | 'stringArray' | 'stringToStringSlice' | 'mapStringString';

export type FlagSection = 'Kube-OIDC-Proxy' | 'OIDC' | 'Secure Serving' | 'Audit' | 'Client' | 'OIDC Discovery' | 'Misc';

/** jetstack's section order (Audit between Secure Serving and Client); OIDC Discovery is ours. */
export const FLAG_SECTIONS: readonly FlagSection[] = ['Kube-OIDC-Proxy', 'OIDC', 'Secure Serving', 'Audit', 'Client', 'OIDC Discovery', 'Misc'];

export interface FlagDefinition {
  readonly name: string;
  readonly shorthand?: string;
  readonly type: FlagType;
  /** The default as command-line text ('' = none); parsed with the flag's own type at startup. */
  readonly default: string;
  readonly help: string;
  readonly section: FlagSection;
  /** The value is a credential: no message may ever contain it. */
  readonly secret?: boolean;
  /** A jetstack/klog flag a drop-in user may pass: accepted, type-checked, then ignored with a warning. */
  readonly ignored?: boolean;
}

export const FLAG_DEFINITIONS = [
  // Kube-OIDC-Proxy (cmd/app/options/app.go)
  { section: 'Kube-OIDC-Proxy', name: 'disable-impersonation', type: 'bool', default: 'false', help: '(Alpha) Forward authenticated requests without impersonation headers.' },
  { section: 'Kube-OIDC-Proxy', name: 'readiness-probe-port', shorthand: 'P', type: 'int', default: '8080', help: 'Port of the plain-HTTP ops listener serving /ready, /live and /metrics.' },
  { section: 'Kube-OIDC-Proxy', name: 'flush-interval', type: 'duration', default: '50ms', help: 'Accepted for compatibility with jetstack/kube-oidc-proxy: responses, watches and streams are always flushed immediately.' },
  { section: 'Kube-OIDC-Proxy', name: 'token-passthrough', type: 'bool', default: 'false', help: '(Alpha) Requests whose bearer token fails OIDC validation are checked with a TokenReview against the API server and, if accepted, forwarded unchanged without impersonation.' },
  { section: 'Kube-OIDC-Proxy', name: 'token-passthrough-audiences', type: 'stringSlice', default: '', help: '(Alpha) Comma-separated audiences sent in passthrough TokenReviews; empty means the API server\'s own audiences. Only used with --token-passthrough.' },
  { section: 'Kube-OIDC-Proxy', name: 'extra-user-header-client-ip', type: 'bool', default: 'false', help: '(Alpha) Add the extra Remote-Client-IP (the client\'s address) to every impersonated identity.' },
  { section: 'Kube-OIDC-Proxy', name: 'extra-user-headers', type: 'stringToStringSlice', default: '', help: '(Alpha) Comma-separated key=value extras added to every impersonated identity; a key may repeat (key1=foo,key2=bar,key1=baz). Repeatable.' },
  { section: 'Kube-OIDC-Proxy', name: 'disable-end-user-impersonation', type: 'bool', default: 'false', help: 'Refuse every client Impersonate-* header (kubectl --as, --as-group, --as-uid, --as-user-extra) with 403 instead of checking it with SubjectAccessReviews.' },
  { section: 'Kube-OIDC-Proxy', name: 'allow-reserved-identities', type: 'bool', default: 'false', help: 'Let OIDC identities into the API server\'s reserved space: user names starting with "system:" and "system:" groups other than system:authenticated (e.g. system:masters). Refused by default: an identity provider admin or a misconfigured claim would otherwise become cluster-admin.' },
  { section: 'Kube-OIDC-Proxy', name: 'readiness-require-all-issuers', type: 'bool', default: 'false', help: 'Report ready only when every configured issuer has its signing keys loaded. By default one ready issuer is enough; /ready lists each issuer\'s state either way.' },
  { section: 'Kube-OIDC-Proxy', name: 'shutdown-grace-period', type: 'duration', default: '60s', help: 'After SIGTERM or SIGINT, how long in-flight requests, watches and exec sessions may run before their connections are closed.' },
  { section: 'Kube-OIDC-Proxy', name: 'max-requests-inflight', type: 'int', default: '400', help: 'As kube-apiserver\'s flag: the most non-mutating requests (get, list) the proxy handles at once, over all users; more are answered 429 with Retry-After: 1. Watches, exec, attach, port-forward, logs and proxy requests are not counted. 0 means no limit.' },
  { section: 'Kube-OIDC-Proxy', name: 'max-mutating-requests-inflight', type: 'int', default: '200', help: 'As kube-apiserver\'s flag: the most mutating requests (create, update, patch, delete) the proxy handles at once, over all users; more are answered 429 with Retry-After: 1. 0 means no limit.' },
  { section: 'Kube-OIDC-Proxy', name: 'stream-buffer-gc-mib', type: 'int', default: '16', help: 'When the memory held by Buffers (the chunks of bodies streaming through) has grown by this many MiB since the last garbage collection, run a young-generation collection (about 1 ms). Without it Node frees a long download\'s chunks only with full collections of the whole heap; with it the proxy spends about a quarter less CPU per GiB streamed. Small requests never reach the threshold. 0 turns it off.' },
  { section: 'Kube-OIDC-Proxy', name: 'upstream-http2', type: 'bool', default: 'true', help: 'Send requests to the API server as HTTP/2 streams sharing a few connections, as client-go and Go proxies do, instead of HTTP/1.1 connections: less proxy CPU per request, faster large responses. exec, attach and port-forward always use HTTP/1.1. An API server that does not offer HTTP/2 is detected and gets HTTP/1.1. Watches follow --upstream-http2-watches.' },
  { section: 'Kube-OIDC-Proxy', name: 'upstream-http2-watches', type: 'bool', default: 'true', help: 'Send watches to the API server as HTTP/2 streams (whatever --upstream-http2 says), instead of one HTTP/1.1 connection per watch: halves the proxy\'s memory per open watch. Set both flags to false to keep everything on HTTP/1.1.' },

  // OIDC (cmd/app/options/oidc.go), with kube-apiserver's legacy-flag semantics
  { section: 'OIDC', name: 'authentication-config', type: 'string', default: '', help: 'Path to a kube-apiserver AuthenticationConfiguration file (apiserver.config.k8s.io/v1 or v1beta1) with one or more jwt authenticators: issuers, audiences, claim mappings and validation rules in CEL. Mutually exclusive with the --oidc-* flags. Re-read while running: a valid new version replaces the old one, an invalid one is logged and ignored. See docs/authentication-config.md.' },
  { section: 'OIDC', name: 'authentication-config-reload-interval', type: 'duration', default: '1m', help: 'How often the --authentication-config file is checked for changes (kube-apiserver checks every minute). 0 turns reloading off.' },
  { section: 'OIDC', name: 'oidc-issuer-url', type: 'string', default: '', help: 'The URL of the OpenID issuer; https only. Compared byte for byte with the token\'s iss claim. Required.' },
  { section: 'OIDC', name: 'oidc-client-id', type: 'string', default: '', help: 'The client ID for the OpenID Connect client: the token\'s aud claim must contain it. Required.' },
  { section: 'OIDC', name: 'oidc-ca-file', type: 'string', default: '', help: 'PEM file of the certificate authorities that sign the issuer\'s TLS certificate; otherwise the host\'s root CAs are used.' },
  { section: 'OIDC', name: 'oidc-username-claim', type: 'string', default: 'sub', help: 'The OpenID claim to use as the user name. Claims other than the default (sub) are not guaranteed to be unique and immutable.' },
  { section: 'OIDC', name: 'oidc-username-prefix', type: 'string', default: '', help: 'Prefix for every user name. If not provided, user names from claims other than email are prefixed by the issuer URL and "#" to avoid clashes. The value "-" disables prefixing.' },
  { section: 'OIDC', name: 'oidc-groups-claim', type: 'string', default: '', help: 'The claim holding the user\'s groups: a string or an array of strings. Empty means no groups from the token.' },
  { section: 'OIDC', name: 'oidc-groups-prefix', type: 'string', default: '', help: 'Prefix added to every group name to avoid clashes with other authenticators, e.g. "oidc:".' },
  { section: 'OIDC', name: 'oidc-signing-algs', type: 'stringSlice', default: 'RS256', help: 'Comma-separated allowed JOSE asymmetric signing algorithms (RFC 7518): RS256, RS384, RS512, ES256, ES384, ES512, PS256, PS384, PS512. Tokens signed otherwise are rejected.' },
  { section: 'OIDC', name: 'oidc-required-claim', type: 'mapStringString', default: '', help: 'A key=value pair the ID token must carry as a string claim with exactly that value. Repeat the flag for several claims.' },
  { section: 'OIDC', name: 'service-account-issuer', type: 'stringArray', default: '', help: 'The cluster\'s service-account token issuer (kube-apiserver\'s --service-account-issuer). Repeatable. An OIDC issuer (from --oidc-issuer-url or --authentication-config, also when the file is reloaded) equal to one of these is refused, as kube-apiserver refuses it, so ServiceAccount tokens are never mapped by OIDC claim rules.' },

  // Secure Serving (k8s SecureServingOptions, with kube-oidc-proxy's defaults)
  { section: 'Secure Serving', name: 'bind-address', type: 'ip', default: '0.0.0.0', help: 'The IP address on which to serve the secure port and the ops listener.' },
  { section: 'Secure Serving', name: 'secure-port', type: 'int', default: '6443', help: 'The port on which to serve HTTPS with authentication. It cannot be turned off.' },
  { section: 'Secure Serving', name: 'tls-cert-file', type: 'string', default: '', help: 'PEM file with the serving certificate, followed by any intermediates. Required: the proxy serves only TLS. Re-read when it changes.' },
  { section: 'Secure Serving', name: 'tls-private-key-file', type: 'string', default: '', help: 'PEM file with the private key matching --tls-cert-file. Required. Re-read when it changes.' },
  { section: 'Secure Serving', name: 'tls-min-version', type: 'string', default: 'VersionTLS12', help: 'Minimum TLS version supported: VersionTLS12 or VersionTLS13.' },
  { section: 'Secure Serving', name: 'tls-cipher-suites', type: 'stringSlice', default: '', help: 'Comma-separated TLS 1.2 cipher suites by their Go (IANA) names, e.g. TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256. Empty means secure defaults. TLS 1.3 suites are always enabled.' },
  { section: 'Secure Serving', name: 'trusted-proxies', type: 'stringSlice', default: '', help: 'Comma-separated CIDRs (or IPs) of load balancers in front of the proxy. Only when the connecting peer is one of them is X-Forwarded-For believed, walked right to left to the first untrusted address. Empty: the connecting peer is the client.' },
  { section: 'Secure Serving', name: 'request-read-timeout', type: 'duration', default: '60s', help: 'Longest a client may take to send a complete request, head and body; a slower one is answered 408 and disconnected, so a client trickling a body cannot hold an in-flight slot. Responses are not limited: watches, logs -f and exec sessions run as long as they need. 0 means no limit.' },
  { section: 'Secure Serving', name: 'http2-max-streams-per-connection', type: 'int', default: '0', help: 'The most concurrent streams (requests, watches) a client may open on one HTTP/2 connection. 0 means the default, 250, as in jetstack/kube-oidc-proxy and Go servers.' },
  { section: 'Secure Serving', name: 'serve-http2', type: 'bool', default: 'true', help: 'Offer HTTP/2 to clients (ALPN), as kube-apiserver does: kubectl then sends its requests and watches as streams over one connection. exec, attach and port-forward use HTTP/1.1 either way. false serves HTTP/1.1 only.' },
  { section: 'Secure Serving', name: 'cert-dir', type: 'string', default: '', help: 'Accepted for compatibility and ignored: no certificate is ever generated; use --tls-cert-file and --tls-private-key-file.', ignored: true },

  // Audit (kube-apiserver's AuditOptions, same names and defaults; the log backend is always synchronous)
  { section: 'Audit', name: 'audit-policy-file', type: 'string', default: '', help: 'Path to an audit.k8s.io/v1 Policy file (YAML or JSON) deciding which requests are audited and at which level. Without it no audit events are recorded, whatever backend is set.' },
  { section: 'Audit', name: 'audit-log-path', type: 'string', default: '', help: 'If set, audit events are appended to this file, one JSON Event per line; "-" means standard out. Empty: no log backend.' },
  { section: 'Audit', name: 'audit-log-maxage', type: 'int', default: '0', help: 'The maximum number of days to retain rotated audit log files, by the timestamp in their name. 0 keeps them.' },
  { section: 'Audit', name: 'audit-log-maxbackup', type: 'int', default: '0', help: 'The maximum number of rotated audit log files to retain. 0 keeps them all (subject to --audit-log-maxage).' },
  { section: 'Audit', name: 'audit-log-maxsize', type: 'int', default: '0', help: 'The maximum size in megabytes of the audit log file before it is rotated; 0 means 100, as in kube-apiserver.' },
  { section: 'Audit', name: 'audit-webhook-config-file', type: 'string', default: '', help: 'Path to a kubeconfig-format file naming the audit webhook: the cluster\'s server URL (https) and CA, and the user\'s client certificate and key or token. Events are POSTed as audit.k8s.io/v1 EventList JSON. Empty: no webhook backend.' },
  { section: 'Audit', name: 'audit-webhook-initial-backoff', type: 'duration', default: '10s', help: 'The wait before retrying a failed webhook request; each further retry waits 1.5 times longer (5 attempts in all).' },
  { section: 'Audit', name: 'audit-webhook-mode', type: 'string', default: 'batch', help: 'Strategy for sending audit events. "batch" buffers events and sends them asynchronously, dropping them when the buffer is full; "blocking" sends each event before the request goes on.' },
  { section: 'Audit', name: 'audit-webhook-batch-buffer-size', type: 'int', default: '10000', help: 'The number of events held (buffered or being sent) before new events are dropped. Only used in batch mode.' },
  { section: 'Audit', name: 'audit-webhook-batch-max-size', type: 'int', default: '400', help: 'The maximum number of events in one webhook request. Only used in batch mode.' },
  { section: 'Audit', name: 'audit-webhook-batch-max-wait', type: 'duration', default: '30s', help: 'The longest a buffered event waits before a batch that is not full is sent. Only used in batch mode.' },
  { section: 'Audit', name: 'audit-webhook-batch-throttle-enable', type: 'bool', default: 'true', help: 'Whether batching throttling is enabled. Only used in batch mode.' },
  { section: 'Audit', name: 'audit-webhook-batch-throttle-qps', type: 'float32', default: '10', help: 'The maximum average number of batches sent per second. Only used in batch mode.' },
  { section: 'Audit', name: 'audit-webhook-batch-throttle-burst', type: 'int', default: '15', help: 'The maximum number of batches sent at once when throttling has had spare capacity. Only used in batch mode.' },
  { section: 'Audit', name: 'audit-log-format', type: 'string', default: 'json', help: 'Format of saved audits. Only "json" (one audit.k8s.io/v1 Event per line) is supported; kube-apiserver\'s "legacy" is refused.' },

  // Client: how the proxy reaches the API server (kubectl's names and semantics)
  { section: 'Client', name: 'kubeconfig', type: 'string', default: '', help: 'Path to the kubeconfig file used to reach the API server. If no client flag is set, the in-cluster service account is used.' },
  { section: 'Client', name: 'context', type: 'string', default: '', help: 'The name of the kubeconfig context to use.' },
  { section: 'Client', name: 'cluster', type: 'string', default: '', help: 'The name of the kubeconfig cluster to use.' },
  { section: 'Client', name: 'user', type: 'string', default: '', help: 'The name of the kubeconfig user to use.' },
  { section: 'Client', name: 'server', shorthand: 's', type: 'string', default: '', help: 'The address and port of the Kubernetes API server.' },
  { section: 'Client', name: 'token', type: 'string', default: '', help: 'Bearer token for authentication to the API server.', secret: true },
  { section: 'Client', name: 'certificate-authority', type: 'string', default: '', help: 'Path to a cert file for the certificate authority of the API server.' },
  { section: 'Client', name: 'client-certificate', type: 'string', default: '', help: 'Path to a client certificate file for TLS to the API server.' },
  { section: 'Client', name: 'client-key', type: 'string', default: '', help: 'Path to a client key file for TLS to the API server.' },
  { section: 'Client', name: 'tls-server-name', type: 'string', default: '', help: 'Server name to use for the API server\'s certificate validation. If empty, the hostname of the server is used.' },
  { section: 'Client', name: 'insecure-skip-tls-verify', type: 'bool', default: 'false', help: 'Do not check the API server\'s certificate. This makes the connection insecure: for tests only.' },
  { section: 'Client', name: 'request-timeout', type: 'string', default: '0', help: 'How long to wait for the API server to answer a request with headers: an integer in seconds, or with a unit (1s, 2m, 3h). 0 means no timeout; watch and exec streams are never cut.' },

  // OIDC Discovery: re-serving the API server's service-account issuer documents (kube-oidc-gateway's job)
  { section: 'OIDC Discovery', name: 'oidc-discovery-bind-address', type: 'string', default: '', help: 'host:port of a separate listener that publicly serves the API server\'s service-account issuer documents, GET/HEAD /.well-known/openid-configuration and /openid/v1/jwks, without authentication (for IRSA, GCP/Azure workload identity, Vault). Empty (the default) turns the feature off.' },
  { section: 'OIDC Discovery', name: 'oidc-discovery-tls-cert-file', type: 'string', default: '', help: 'PEM certificate for the discovery listener; with --oidc-discovery-tls-private-key-file it serves HTTPS instead of plain HTTP. Re-read when it changes.' },
  { section: 'OIDC Discovery', name: 'oidc-discovery-tls-private-key-file', type: 'string', default: '', help: 'PEM private key matching --oidc-discovery-tls-cert-file. Re-read when it changes.' },
  { section: 'OIDC Discovery', name: 'oidc-discovery-public-url', type: 'string', default: '', help: 'The public base URL of the discovery listener (http or https, no query). When set, jwks_uri in the discovery document is rewritten to <url>/openid/v1/jwks; the issuer is served as the API server states it.' },
  { section: 'OIDC Discovery', name: 'oidc-discovery-cache-ttl', type: 'duration', default: '60s', help: 'How long a document fetched from the API server is served before it is fetched again. When the API server fails, the last good copy keeps being served.' },
  { section: 'OIDC Discovery', name: 'oidc-discovery-client-cache-ttl', type: 'duration', default: '1h', help: 'max-age of the Cache-Control header sent to clients (whole seconds).' },
  { section: 'OIDC Discovery', name: 'oidc-discovery-upstream-timeout', type: 'duration', default: '5s', help: 'How long the API server may take to answer a discovery document fetch.' },
  { section: 'OIDC Discovery', name: 'oidc-discovery-pretty', type: 'bool', default: 'false', help: 'Pretty-print the served JSON (2-space indentation).' },

  // Misc (component-base global flags)
  { section: 'Misc', name: 'v', shorthand: 'v', type: 'int', default: '0', help: 'klog-style verbosity, accepted for compatibility: 4 or more selects debug logs, 8 or more trace logs (unless --log-level is set).' },
  { section: 'Misc', name: 'log-level', type: 'string', default: 'info', help: 'Log level of the JSON logs on stdout: fatal, error, warn, info, debug or trace.' },
  { section: 'Misc', name: 'vmodule', type: 'string', default: '', help: 'Accepted for compatibility (klog) and ignored.', ignored: true },
  { section: 'Misc', name: 'log-flush-frequency', type: 'duration', default: '5s', help: 'Accepted for compatibility (klog) and ignored: logs are written immediately.', ignored: true },
  { section: 'Misc', name: 'logtostderr', type: 'bool', default: 'true', help: 'Accepted for compatibility (klog) and ignored: logs go to stdout.', ignored: true },
  { section: 'Misc', name: 'alsologtostderr', type: 'bool', default: 'false', help: 'Accepted for compatibility (klog) and ignored.', ignored: true },
  { section: 'Misc', name: 'skip-headers', type: 'bool', default: 'false', help: 'Accepted for compatibility (klog) and ignored.', ignored: true },
  { section: 'Misc', name: 'stderrthreshold', type: 'string', default: '2', help: 'Accepted for compatibility (klog) and ignored.', ignored: true },
  { section: 'Misc', name: 'version', type: 'bool', default: 'false', help: 'Print version information and quit.' },
  { section: 'Misc', name: 'help', shorthand: 'h', type: 'bool', default: 'false', help: 'Help for kube-oidc-proxy.' },
] as const satisfies readonly FlagDefinition[];

export type FlagName = (typeof FLAG_DEFINITIONS)[number]['name'];
/** The names of the flags of the given type(s), so typed accessors cannot read a flag as the wrong type. */
export type FlagNameOfType<T extends FlagType> = Extract<(typeof FLAG_DEFINITIONS)[number], { readonly type: T }>['name'];

export const FLAGS_BY_NAME: ReadonlyMap<string, FlagDefinition> = new Map(FLAG_DEFINITIONS.map((f: FlagDefinition) => [f.name, f]));

/** How pflag names a flag in its messages: `-P, --readiness-probe-port` or `--bind-address`. */
export function flagDisplayName(flag: FlagDefinition): string {
  return flag.shorthand ? `-${flag.shorthand}, --${flag.name}` : `--${flag.name}`;
}
