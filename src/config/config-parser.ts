/**
 * argv → one deep-frozen ProxyConfig, or every problem at once. Each problem names its flag; no message
 * contains a secret value (the flag table marks them, and a final pass proves it), only flag names,
 * file paths and non-secret values.
 */
import { type ParsedArgv, parseArgv } from './argv-parser.js';
import { ConfigContext, type ConfigEnvironment, NODE_CONFIG_ENVIRONMENT } from './config-context.js';
import { auditConfigFromFlags } from './audit-settings.js';
import { discoveryConfigFromFlags } from './discovery-settings.js';
import { FLAG_DEFINITIONS, type FlagDefinition, type FlagNameOfType } from './flag-definitions.js';
import { type GoParse, parseGoDuration } from './go-values.js';
import { oidcConfigFromFlags } from './oidc-settings.js';
import { legacyFlagsToSpec } from '../auth/jwt-authenticator-spec.js';
import { configHash, parseAuthenticationConfig } from './authentication-config.js';
import type { AuthenticationConfig, ImpersonationConfig, OidcConfig, OpsConfig, ProxyConfig, UpstreamFlags } from './proxy-config.js';
import { checkPort, servingConfigFromFlags } from './serving-settings.js';

export type { ConfigEnvironment } from './config-context.js';

export type ConfigAction = 'run' | 'help' | 'version';

export interface ConfigParseResult {
  readonly action: ConfigAction;
  /** Present only when `action` is 'run' and there are no errors. */
  readonly config?: ProxyConfig;
  readonly errors: readonly string[];
  readonly warnings: readonly string[];
}

const LOG_LEVELS: readonly OpsConfig['logLevel'][] = ['fatal', 'error', 'warn', 'info', 'debug', 'trace'];

const REQUEST_TIMEOUT_ERROR =
  'Invalid timeout value. Timeout must be a single integer in seconds, or an integer followed by a corresponding time unit (e.g. 1s | 2m | 3h)';

/** kubectl's --request-timeout (client-go clientcmd.ParseTimeout): whole seconds, or a Go duration. In ms. */
export function parseRequestTimeout(text: string): GoParse<number> {
  if (/^\+?\d+$/.test(text)) return { ok: true, value: Number(text.replace('+', '')) * 1000 };
  const duration = parseGoDuration(text);
  return duration.ok ? duration : { ok: false, error: REQUEST_TIMEOUT_ERROR };
}

/**
 * --service-account-issuer, with kube-apiserver's checks of its own flag (BuiltInAuthenticationOptions.Validate):
 * no empty value, no value twice. The values are not secret (they are published in discovery documents).
 */
function serviceAccountIssuersFromFlags(ctx: ConfigContext): string[] {
  const issuers: string[] = [];
  for (const issuer of ctx.flags.strings('service-account-issuer')) {
    if (issuer === '') ctx.error('--service-account-issuer should not be an empty string');
    else if (issuers.includes(issuer)) ctx.error(`--service-account-issuer ${JSON.stringify(issuer)} is already specified`);
    else issuers.push(issuer);
  }
  return issuers;
}

/**
 * Where identities come from: the --oidc-* flags, turned into one JwtAuthenticatorSpec, or an
 * --authentication-config file with one or more (kube-apiserver: "authentication-config file and oidc-*
 * flags are mutually exclusive"). Either way no issuer may be a --service-account-issuer (vector 105).
 */
export function authenticationFromFlags(ctx: ConfigContext): { oidc?: OidcConfig; authentication: AuthenticationConfig } {
  const { flags } = ctx;
  const file = flags.string('authentication-config');
  const reloadIntervalMs = flags.duration('authentication-config-reload-interval');
  if (reloadIntervalMs < 0) ctx.error('--authentication-config-reload-interval must not be negative');
  const requireAllIssuers = flags.bool('readiness-require-all-issuers');
  const serviceAccountIssuers = serviceAccountIssuersFromFlags(ctx);
  if (file === '') {
    if (flags.isSet('authentication-config-reload-interval')) ctx.warn('--authentication-config-reload-interval has no effect without --authentication-config');
    const oidc = oidcConfigFromFlags(ctx, serviceAccountIssuers);
    const spec = legacyFlagsToSpec(oidc);
    return { oidc, authentication: { source: 'flags', jwt: [spec], hash: configHash(JSON.stringify(spec)), reloadIntervalMs: 0, requireAllIssuers, serviceAccountIssuers } };
  }
  const oidcFlags = [...flags.changed].filter((name) => name.startsWith('oidc-') && !name.startsWith('oidc-discovery-'));
  if (oidcFlags.length > 0) ctx.error(`authentication-config file and oidc-* flags are mutually exclusive (also given: ${oidcFlags.map((f) => `--${f}`).join(', ')})`);
  const text = ctx.readFile('authentication-config', file);
  const empty: AuthenticationConfig = { source: 'file', file, jwt: [], hash: '', reloadIntervalMs, requireAllIssuers, serviceAccountIssuers };
  if (text === undefined) return { authentication: empty };
  const result = parseAuthenticationConfig(text, serviceAccountIssuers);
  for (const warning of result.warnings) ctx.warn(`--authentication-config: ${file}: ${warning}`);
  if (!result.ok) {
    for (const error of result.errors) ctx.error(`--authentication-config: ${file}: ${error}`);
    return { authentication: empty };
  }
  return { authentication: { ...empty, jwt: result.config.jwt, hash: result.config.hash } };
}

const CLIENT_STRING_FLAGS = [
  ['kubeconfig', 'kubeconfig'],
  ['context', 'context'],
  ['cluster', 'cluster'],
  ['user', 'user'],
  ['server', 'server'],
  ['token', 'token'],
  ['certificateAuthority', 'certificate-authority'],
  ['clientCertificate', 'client-certificate'],
  ['clientKey', 'client-key'],
  ['tlsServerName', 'tls-server-name'],
] as const satisfies ReadonlyArray<readonly [keyof UpstreamFlags, FlagNameOfType<'string'>]>;

const CLIENT_FILE_FLAGS = ['kubeconfig', 'certificate-authority', 'client-certificate', 'client-key'] as const;

/** Raw client flags; which of kubeconfig and in-cluster applies is the Upstream module's decision. */
function upstreamFromFlags(ctx: ConfigContext): UpstreamFlags {
  const { flags } = ctx;
  for (const flag of CLIENT_FILE_FLAGS) {
    const path = flags.string(flag);
    if (path !== '') ctx.readFile(flag, path);
  }
  const timeout = parseRequestTimeout(flags.string('request-timeout'));
  if (!timeout.ok) ctx.error(`--request-timeout: ${timeout.error}`);
  else if (timeout.value < 0) ctx.error('--request-timeout must not be negative');
  const given = CLIENT_STRING_FLAGS.filter(([, flag]) => flags.string(flag) !== '').map(([key, flag]) => [key, flags.string(flag)]);
  return {
    ...(Object.fromEntries(given) as Partial<UpstreamFlags>),
    insecureSkipTlsVerify: flags.bool('insecure-skip-tls-verify'),
    requestTimeoutMs: timeout.ok ? timeout.value : 0,
    http2: flags.bool('upstream-http2'),
    http2Watches: flags.bool('upstream-http2-watches'),
  };
}

function impersonationFromFlags(ctx: ConfigContext): ImpersonationConfig {
  const { flags } = ctx;
  const config: ImpersonationConfig = {
    disableImpersonation: flags.bool('disable-impersonation'),
    tokenPassthrough: flags.bool('token-passthrough'),
    tokenPassthroughAudiences: flags.strings('token-passthrough-audiences'),
    extraUserHeaderClientIp: flags.bool('extra-user-header-client-ip'),
    extraUserHeaders: flags.pairs('extra-user-headers'),
    disableEndUserImpersonation: flags.bool('disable-end-user-impersonation'),
    allowReservedIdentities: flags.bool('allow-reserved-identities'),
  };
  if (config.extraUserHeaders.some(([key]) => key === '')) ctx.error('--extra-user-headers: the key of a key=value pair must not be empty');
  if (config.disableImpersonation && (config.extraUserHeaderClientIp || config.extraUserHeaders.length > 0)) {
    ctx.error('cannot add extra user headers when impersonation disabled');
  }
  if (config.tokenPassthroughAudiences.length > 0 && !config.tokenPassthrough) {
    ctx.warn('--token-passthrough-audiences has no effect without --token-passthrough');
  }
  return config;
}

function opsFromFlags(ctx: ConfigContext, securePort: number): OpsConfig {
  const { flags } = ctx;
  const readinessProbePort = flags.int('readiness-probe-port');
  checkPort(ctx, 'readiness-probe-port', readinessProbePort);
  // jetstack's text says "port 8080" whatever the port; the real number is more useful.
  if (securePort === readinessProbePort) ctx.error(`unable to securely serve on port ${securePort} (used by readiness probe)`);
  const shutdownGracePeriodMs = flags.duration('shutdown-grace-period');
  if (shutdownGracePeriodMs < 0) ctx.error('--shutdown-grace-period must not be negative');
  const maxRequestsInflight = flags.int('max-requests-inflight');
  if (maxRequestsInflight < 0) ctx.error('--max-requests-inflight must not be negative (0 means no limit)');
  const maxMutatingRequestsInflight = flags.int('max-mutating-requests-inflight');
  if (maxMutatingRequestsInflight < 0) ctx.error('--max-mutating-requests-inflight must not be negative (0 means no limit)');
  const streamBufferGcMiB = flags.int('stream-buffer-gc-mib');
  if (streamBufferGcMiB < 0) ctx.error('--stream-buffer-gc-mib must not be negative (0 turns it off)');
  const verbosity = flags.int('v');
  const levelFlag = flags.string('log-level');
  let logLevel: OpsConfig['logLevel'] = 'info';
  if ((LOG_LEVELS as readonly string[]).includes(levelFlag)) logLevel = levelFlag as OpsConfig['logLevel'];
  else ctx.error(`--log-level: unknown level ${JSON.stringify(levelFlag)}; use one of ${LOG_LEVELS.join(', ')}`);
  if (!flags.isSet('log-level') && verbosity >= 4) logLevel = verbosity >= 8 ? 'trace' : 'debug';
  return { readinessProbePort, flushIntervalMs: flags.duration('flush-interval'), shutdownGracePeriodMs, maxRequestsInflight, maxMutatingRequestsInflight, streamBufferGcMiB, logLevel, verbosity };
}

function warnIgnored(ctx: ConfigContext): void {
  for (const flag of FLAG_DEFINITIONS as readonly FlagDefinition[]) {
    if (flag.ignored && ctx.flags.changed.has(flag.name)) ctx.warn(`--${flag.name} is accepted for compatibility and ignored`);
  }
}

/**
 * A second line of defence behind the messages themselves: no secret value (of 4+ characters) survives,
 * neither a secret flag's nor one of `extra` (e.g. a token read from a file).
 */
export function redactSecrets(messages: readonly string[], flags: ParsedArgv, extra: readonly string[] = []): string[] {
  const secrets = [...flags.secretValues, ...extra].filter((value) => value.length >= 4);
  return messages.map((message) => secrets.reduce((text, secret) => text.replaceAll(secret, '[redacted]'), message));
}

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    for (const child of Object.values(value)) deepFreeze(child);
    Object.freeze(value);
  }
  return value;
}

/**
 * Parses and validates the command line. `--help` and `--version` win over everything else (like
 * cobra, without running validation). `env` supplies file access (tests inject unreadable files).
 */
export function parseConfig(argv: readonly string[], env: ConfigEnvironment = NODE_CONFIG_ENVIRONMENT): ConfigParseResult {
  const flags = parseArgv(argv);
  if (flags.bool('help')) return { action: 'help', errors: [], warnings: [] };
  if (flags.bool('version')) return { action: 'version', errors: [], warnings: [] };

  const ctx = new ConfigContext(flags, env);
  for (const error of flags.errors) ctx.error(error);
  warnIgnored(ctx);
  const { oidc, authentication } = authenticationFromFlags(ctx);
  const serving = servingConfigFromFlags(ctx);
  const upstream = upstreamFromFlags(ctx);
  const impersonation = impersonationFromFlags(ctx);
  const ops = opsFromFlags(ctx, serving.securePort);
  const discovery = discoveryConfigFromFlags(ctx, [serving.securePort, ops.readinessProbePort]);
  const audit = auditConfigFromFlags(ctx);

  const errors = redactSecrets(ctx.errors, flags);
  const warnings = redactSecrets(ctx.warnings, flags);
  if (errors.length > 0) return { action: 'run', errors, warnings };
  return { action: 'run', config: deepFreeze({ ...(oidc ? { oidc } : {}), authentication, serving, upstream, impersonation, ops, ...(discovery ? { discovery } : {}), ...(audit ? { audit } : {}) }), errors, warnings };
}
