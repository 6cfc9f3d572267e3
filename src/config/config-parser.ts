/**
 * argv → one frozen ProxyConfig. Every problem is collected (not just the first), each names its flag,
 * and no secret value is ever echoed (only flag names, file paths and non-secret values appear).
 */
import { readFileSync } from 'node:fs';
import { parseArgv, parseGoBool, parseGoDuration } from './argv-parser.js';
import { FLAG_DEFINITIONS, FLAGS_BY_NAME } from './flag-definitions.js';
import { ALLOWED_SIGNING_ALGS, type ProxyConfig, type SigningAlg, type TlsVersion } from './proxy-config.js';

export type ConfigAction = 'run' | 'help' | 'version';

export interface ParseResult {
  readonly action: ConfigAction;
  readonly config?: ProxyConfig;
  readonly errors: readonly string[];
  readonly warnings: readonly string[];
}

/** Go/IANA cipher suite names → OpenSSL names (what Node's `ciphers` option takes). */
export const CIPHER_SUITES: Readonly<Record<string, string>> = {
  TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256: 'ECDHE-ECDSA-AES128-GCM-SHA256',
  TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256: 'ECDHE-RSA-AES128-GCM-SHA256',
  TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384: 'ECDHE-ECDSA-AES256-GCM-SHA384',
  TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384: 'ECDHE-RSA-AES256-GCM-SHA384',
  TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305: 'ECDHE-ECDSA-CHACHA20-POLY1305',
  TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256: 'ECDHE-ECDSA-CHACHA20-POLY1305',
  TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305: 'ECDHE-RSA-CHACHA20-POLY1305',
  TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256: 'ECDHE-RSA-CHACHA20-POLY1305',
  TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA: 'ECDHE-ECDSA-AES128-SHA',
  TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA: 'ECDHE-RSA-AES128-SHA',
  TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA: 'ECDHE-ECDSA-AES256-SHA',
  TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA: 'ECDHE-RSA-AES256-SHA',
  TLS_RSA_WITH_AES_128_GCM_SHA256: 'AES128-GCM-SHA256',
  TLS_RSA_WITH_AES_256_GCM_SHA384: 'AES256-GCM-SHA384',
  TLS_RSA_WITH_AES_128_CBC_SHA: 'AES128-SHA',
  TLS_RSA_WITH_AES_256_CBC_SHA: 'AES256-SHA',
  TLS_AES_128_GCM_SHA256: 'TLS_AES_128_GCM_SHA256',
  TLS_AES_256_GCM_SHA384: 'TLS_AES_256_GCM_SHA384',
  TLS_CHACHA20_POLY1305_SHA256: 'TLS_CHACHA20_POLY1305_SHA256',
};
/** Go always keeps the TLS 1.3 suites; Node would drop TLS 1.3 if the list named none. */
const TLS13_SUITES = ['TLS_AES_256_GCM_SHA384', 'TLS_CHACHA20_POLY1305_SHA256', 'TLS_AES_128_GCM_SHA256'];

const TLS_VERSIONS: Readonly<Record<string, TlsVersion>> = { VersionTLS12: 'TLSv1.2', VersionTLS13: 'TLSv1.3' };
const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace'] as const;

/** The kube-apiserver legacy-flag username prefix rule (vectors 50–53). */
export function resolveUsernamePrefix(issuerUrl: string, claim: string, prefix: string | undefined): string {
  if (prefix === '-') return '';
  if (prefix !== undefined && prefix !== '') return prefix;
  return claim === 'email' ? '' : `${issuerUrl}#`;
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object') {
    for (const v of Object.values(value)) deepFreeze(v);
    Object.freeze(value);
  }
  return value;
}

/** `k=v` split at the first `=`; jetstack's message for a pair without one. */
function keyValue(pair: string, errors: string[], flag: string): [string, string] | undefined {
  const eq = pair.indexOf('=');
  if (eq <= 0) {
    errors.push(`--${flag}: ${pair} must be formatted as key=value`);
    return undefined;
  }
  return [pair.slice(0, eq), pair.slice(eq + 1)];
}

export function parseConfig(argv: readonly string[]): ParseResult {
  const parsed = parseArgv(argv);
  const errors = [...parsed.errors];
  const warnings: string[] = [];
  const raw = (name: string): readonly string[] | undefined => parsed.values.get(name);
  const isSet = (name: string): boolean => (raw(name)?.length ?? 0) > 0;
  const str = (name: string): string => raw(name)?.at(-1) ?? FLAGS_BY_NAME.get(name)!.default;
  const optional = (name: string): string | undefined => (isSet(name) && str(name) !== '' ? str(name) : undefined);
  const bool = (name: string): boolean => {
    const v = parseGoBool(str(name));
    if (v === undefined) errors.push(`--${name}: invalid boolean "${str(name)}"`);
    return v ?? false;
  };
  const int = (name: string): number => {
    const text = str(name);
    if (!/^-?\d+$/.test(text)) {
      errors.push(`--${name}: invalid integer "${text}"`);
      return 0;
    }
    return Number(text);
  };
  const duration = (name: string): number => {
    const ms = parseGoDuration(str(name));
    if (ms === undefined) errors.push(`--${name}: invalid duration "${str(name)}" (use Go syntax such as 50ms, 10s, 1m30s)`);
    return ms ?? 0;
  };
  const slice = (name: string): string[] =>
    isSet(name) ? raw(name)!.flatMap((v) => v.split(',')).map((v) => v.trim()).filter(Boolean) : FLAGS_BY_NAME.get(name)!.default.split(',').filter(Boolean);
  const readable = (name: string, path: string): string | undefined => {
    try {
      return readFileSync(path, 'utf8');
    } catch (err) {
      errors.push(`--${name}: cannot read ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
      return undefined;
    }
  };

  if (isSet('help') && parseGoBool(str('help'))) return { action: 'help', errors: [], warnings: [] };
  if (isSet('version') && parseGoBool(str('version'))) return { action: 'version', errors: [], warnings: [] };

  for (const flag of FLAG_DEFINITIONS) {
    if (flag.ignored && isSet(flag.name)) warnings.push(`--${flag.name} is accepted for compatibility and ignored`);
  }

  // OIDC
  const issuerUrl = str('oidc-issuer-url');
  const clientId = str('oidc-client-id');
  if ((issuerUrl === '') !== (clientId === '')) errors.push('oidc-issuer-url and oidc-client-id should be specified together');
  else if (issuerUrl === '') errors.push('--oidc-issuer-url and --oidc-client-id are required: the proxy cannot authenticate anyone without an issuer');
  if (issuerUrl !== '') {
    let url: URL | undefined;
    try {
      url = new URL(issuerUrl);
    } catch {
      errors.push(`--oidc-issuer-url: "${issuerUrl}" is not a valid URL`);
    }
    if (url) {
      if (url.protocol !== 'https:') errors.push(`--oidc-issuer-url: URL scheme must be https, got "${url.protocol.replace(':', '')}"`);
      if (url.username || url.password) errors.push('--oidc-issuer-url: URL must not contain a username or password');
      if (url.search) errors.push('--oidc-issuer-url: URL must not contain a query');
      if (url.hash) errors.push('--oidc-issuer-url: URL must not contain a fragment');
    }
  }
  const caFile = optional('oidc-ca-file');
  let caPem: string | undefined;
  if (caFile) {
    caPem = readable('oidc-ca-file', caFile);
    if (caPem !== undefined && !caPem.includes('-----BEGIN CERTIFICATE-----')) {
      errors.push(`--oidc-ca-file: ${caFile} does not contain any PEM certificate`);
      caPem = undefined;
    }
  }
  const signingAlgs: SigningAlg[] = [];
  for (const alg of slice('oidc-signing-algs')) {
    if ((ALLOWED_SIGNING_ALGS as readonly string[]).includes(alg)) signingAlgs.push(alg as SigningAlg);
    else errors.push(`--oidc-signing-algs: oidc: unsupported signing alg: "${alg}" (allowed: ${ALLOWED_SIGNING_ALGS.join(', ')})`);
  }
  if (signingAlgs.length === 0 && !errors.some((e) => e.startsWith('--oidc-signing-algs'))) errors.push('--oidc-signing-algs: at least one algorithm is required');
  const requiredClaims: { claim: string; value: string }[] = [];
  for (const pair of raw('oidc-required-claim') ?? []) {
    const kv = keyValue(pair, errors, 'oidc-required-claim');
    if (kv) requiredClaims.push({ claim: kv[0], value: kv[1] });
  }
  const usernameClaim = str('oidc-username-claim');
  if (usernameClaim === '') errors.push('--oidc-username-claim: must not be empty');
  const groupsClaim = optional('oidc-groups-claim');

  // Serving
  const securePort = int('secure-port');
  const readinessProbePort = int('readiness-probe-port');
  if (securePort < 1 || securePort > 65535) errors.push(`--secure-port ${securePort} must be between 1 and 65535, inclusive. It cannot be turned off with 0`);
  if (readinessProbePort < 1 || readinessProbePort > 65535) errors.push(`--readiness-probe-port ${readinessProbePort} must be between 1 and 65535, inclusive`);
  if (securePort === readinessProbePort) errors.push(`unable to securely serve on port ${securePort} (used by readiness probe)`);
  const tlsCertFile = str('tls-cert-file');
  const tlsKeyFile = str('tls-private-key-file');
  if (tlsCertFile === '') errors.push('--tls-cert-file is required: kube-oidc-proxy only serves TLS');
  else readable('tls-cert-file', tlsCertFile);
  if (tlsKeyFile === '') errors.push('--tls-private-key-file is required: kube-oidc-proxy only serves TLS');
  else readable('tls-private-key-file', tlsKeyFile);
  const tlsMinVersion = TLS_VERSIONS[str('tls-min-version')];
  if (!tlsMinVersion) errors.push(`--tls-min-version: "${str('tls-min-version')}" is not one of ${Object.keys(TLS_VERSIONS).join(', ')}`);
  const cipherNames = slice('tls-cipher-suites');
  const ciphers: string[] = [];
  for (const name of cipherNames) {
    const openssl = CIPHER_SUITES[name];
    if (openssl) ciphers.push(openssl);
    else errors.push(`--tls-cipher-suites: unknown or insecure cipher suite "${name}"`);
  }
  if (ciphers.length > 0 && !ciphers.some((c) => c.startsWith('TLS_'))) ciphers.push(...TLS13_SUITES);

  // Client (upstream)
  for (const fileFlag of ['kubeconfig', 'certificate-authority', 'client-certificate', 'client-key']) {
    const path = optional(fileFlag);
    if (path) readable(fileFlag, path);
  }
  const requestTimeoutMs = duration('request-timeout');

  // Impersonation
  const disableImpersonation = bool('disable-impersonation');
  const tokenPassthrough = bool('token-passthrough');
  const extraUserHeaderClientIp = bool('extra-user-header-client-ip');
  const extraUserHeaders: [string, string][] = [];
  for (const pair of (raw('extra-user-headers') ?? []).flatMap((v) => v.split(',')).filter((p) => p !== '')) {
    const kv = keyValue(pair, errors, 'extra-user-headers');
    if (kv) extraUserHeaders.push(kv);
  }
  // Never accept a security-relevant flag and then ignore it (Tremolo's --oidc-required-claim lesson).
  if (tokenPassthrough) errors.push('--token-passthrough is not supported by this version of kube-oidc-proxy yet');
  if (disableImpersonation && !(extraUserHeaderClientIp || extraUserHeaders.length > 0)) {
    errors.push('--disable-impersonation is not supported by this version of kube-oidc-proxy yet');
  }
  if (disableImpersonation && (extraUserHeaderClientIp || extraUserHeaders.length > 0)) errors.push('cannot add extra user headers when impersonation disabled');
  const tokenPassthroughAudiences = slice('token-passthrough-audiences');
  if (tokenPassthroughAudiences.length > 0 && !tokenPassthrough) warnings.push('--token-passthrough-audiences has no effect without --token-passthrough');

  // Ops
  const flushIntervalMs = duration('flush-interval');
  const shutdownGracePeriodMs = duration('shutdown-grace-period');
  if (shutdownGracePeriodMs < 0) errors.push('--shutdown-grace-period must not be negative');
  const verbosity = int('v');
  let logLevel = str('log-level') as (typeof LOG_LEVELS)[number];
  if (!LOG_LEVELS.includes(logLevel)) errors.push(`--log-level: "${logLevel}" is not one of ${LOG_LEVELS.join(', ')}`);
  if (!isSet('log-level') && verbosity >= 4) logLevel = verbosity >= 8 ? 'trace' : 'debug';

  if (errors.length > 0) return { action: 'run', errors, warnings };

  const config: ProxyConfig = {
    oidc: {
      issuerUrl,
      clientId,
      ...(caFile ? { caFile } : {}),
      ...(caPem ? { caPem } : {}),
      usernameClaim,
      usernamePrefix: resolveUsernamePrefix(issuerUrl, usernameClaim, raw('oidc-username-prefix')?.at(-1)),
      ...(groupsClaim ? { groupsClaim } : {}),
      groupsPrefix: str('oidc-groups-prefix'),
      signingAlgs,
      requiredClaims,
    },
    serving: {
      bindAddress: str('bind-address'),
      securePort,
      tlsCertFile,
      tlsKeyFile,
      tlsMinVersion: tlsMinVersion!,
      ...(ciphers.length > 0 ? { tlsCiphers: ciphers.join(':') } : {}),
    },
    upstream: {
      ...Object.fromEntries(
        (
          [
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
          ] as const
        )
          .map(([key, flag]) => [key, optional(flag)] as const)
          .filter(([, v]) => v !== undefined),
      ),
      insecureSkipTlsVerify: bool('insecure-skip-tls-verify'),
      requestTimeoutMs,
    },
    impersonation: { disableImpersonation, tokenPassthrough, tokenPassthroughAudiences, extraUserHeaderClientIp, extraUserHeaders, disableEndUserImpersonation: bool('disable-end-user-impersonation'), allowReservedIdentities: bool('allow-reserved-identities') },
    ops: { readinessProbePort, flushIntervalMs, shutdownGracePeriodMs, logLevel, verbosity },
  };
  return { action: 'run', config: deepFreeze(config), errors: [], warnings };
}
