/**
 * The --oidc-* flags → OidcConfig, with kube-apiserver's legacy-flag semantics (not jetstack's: see the
 * username prefix below). This is one authentication source; --authentication-config will be another,
 * mutually exclusive with these flags, built into the same OidcConfig shape.
 */
import { X509Certificate } from 'node:crypto';
import type { ConfigContext } from './config-context.js';
import { formatGoStringSlice, goSortedSet } from './go-values.js';
import { ALLOWED_SIGNING_ALGS, type OidcConfig, type SigningAlg } from './proxy-config.js';

/**
 * kube-apiserver's legacy-flag username prefix (authentication vectors 50–53): unset (or empty) and claim
 * other than `email` → `<issuer-url>#`; unset and claim `email` → none; `-` → none; otherwise as given.
 * jetstack/kube-oidc-proxy never applied this rule ('' meant no prefix, '-' a literal '-').
 */
export function resolveUsernamePrefix(issuerUrl: string, usernameClaim: string, prefixFlag: string): string {
  if (prefixFlag === '-') return '';
  if (prefixFlag !== '') return prefixFlag;
  return usernameClaim === 'email' ? '' : `${issuerUrl}#`;
}

/**
 * kube-apiserver's URL checks (apis/apiserver/validation validateURL, vectors 103–104), the one list for
 * --oidc-issuer-url and for the file's `issuer.url` and `issuer.discoveryURL`; each caller prefixes its flag
 * or field path. A query or fragment counts only when non-empty, as Go's url.Parse sees it: kube-apiserver
 * accepts `https://issuer/#`. The URL is never part of a problem: it may carry a password.
 */
export function issuerUrlProblems(issuerUrl: string): string[] {
  if (!URL.canParse(issuerUrl)) return ['not a valid URL'];
  const url = new URL(issuerUrl);
  const problems: string[] = [];
  if (url.protocol !== 'https:') problems.push('URL scheme must be https');
  // Go sets User for any `@` in the authority, even an empty one (`https://@issuer`); WHATWG URL then has ''.
  const authority = /^[^:/?#]+:\/\/([^/?#]*)/.exec(issuerUrl)?.[1] ?? '';
  if (url.username !== '' || url.password !== '' || authority.includes('@')) problems.push('URL must not contain a username or password');
  if (url.search !== '') problems.push('URL must not contain a query');
  if (url.hash !== '') problems.push('URL must not contain a fragment');
  return problems;
}

/** The value to show for a URL in a message: never one carrying a password. */
export function shownUrl(url: string): string {
  return URL.canParse(url) && (new URL(url).username || new URL(url).password) ? '<omitted>' : url;
}

/**
 * Vector 105: an OIDC issuer must not be one of the cluster's service-account issuers, or OIDC claim rules
 * would map ServiceAccount tokens (validateURL's disallowedIssuers). Exact string comparison, kube-apiserver's
 * wording and list format (sorted, `[a b]`); undefined when there is no overlap.
 */
export function disallowedIssuerProblem(issuerUrl: string, disallowedIssuers: readonly string[]): string | undefined {
  if (!disallowedIssuers.includes(issuerUrl)) return undefined;
  return `URL must not overlap with disallowed issuers: ${formatGoStringSlice(goSortedSet(disallowedIssuers).map(shownUrl))}`;
}

/** The number of parseable certificates in a PEM bundle. */
export function countPemCertificates(pem: string): number {
  const blocks = pem.match(/-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g) ?? [];
  return blocks.filter((block) => {
    try {
      new X509Certificate(block);
      return true;
    } catch {
      return false;
    }
  }).length;
}

function signingAlgsFromFlags(ctx: ConfigContext): SigningAlg[] {
  const given = ctx.flags.strings('oidc-signing-algs');
  if (given.length === 0) {
    // go-oidc, which jetstack and kube-apiserver use, falls back to RS256 for an empty list.
    ctx.warn('--oidc-signing-algs is empty: using RS256');
    return ['RS256'];
  }
  const algs: SigningAlg[] = [];
  for (const alg of given) {
    if (!(ALLOWED_SIGNING_ALGS as readonly string[]).includes(alg)) {
      ctx.error(`--oidc-signing-algs: oidc: unsupported signing alg: ${JSON.stringify(alg)} (allowed: ${ALLOWED_SIGNING_ALGS.join(', ')})`);
    } else if (!algs.includes(alg as SigningAlg)) algs.push(alg as SigningAlg);
  }
  return algs;
}

function caFromFlags(ctx: ConfigContext): Pick<OidcConfig, 'caFile' | 'caPem'> {
  const caFile = ctx.flags.string('oidc-ca-file');
  if (caFile === '') return {};
  const caPem = ctx.readFile('oidc-ca-file', caFile);
  if (caPem === undefined) return { caFile };
  if (countPemCertificates(caPem) === 0) {
    // kube-apiserver's wording for the same mistake.
    ctx.error(`--oidc-ca-file: ${caFile}: data does not contain any valid RSA or ECDSA certificates`);
    return { caFile };
  }
  return { caFile, caPem };
}

/** `serviceAccountIssuers`: the --service-account-issuer values, which --oidc-issuer-url must not equal. */
export function oidcConfigFromFlags(ctx: ConfigContext, serviceAccountIssuers: readonly string[]): OidcConfig {
  const { flags } = ctx;
  const issuerUrl = flags.string('oidc-issuer-url');
  const clientId = flags.string('oidc-client-id');
  if ((issuerUrl === '') !== (clientId === '')) ctx.error('oidc-issuer-url and oidc-client-id should be specified together');
  else if (issuerUrl === '') {
    ctx.error('--oidc-issuer-url and --oidc-client-id are required: kube-oidc-proxy cannot authenticate anyone without an issuer');
  }
  const overlap = issuerUrl === '' ? undefined : disallowedIssuerProblem(issuerUrl, serviceAccountIssuers);
  if (overlap) ctx.error(`--oidc-issuer-url: ${overlap} (--service-account-issuer)`);
  const issuerProblems = issuerUrl === '' ? [] : issuerUrlProblems(issuerUrl);
  for (const problem of issuerProblems) ctx.error(`--oidc-issuer-url: ${problem}`);

  const usernameClaim = flags.string('oidc-username-claim');
  if (usernameClaim === '') ctx.error('--oidc-username-claim must not be empty');
  const prefixFlag = flags.string('oidc-username-prefix');
  const usernamePrefix = resolveUsernamePrefix(issuerUrl, usernameClaim, prefixFlag);
  if (prefixFlag === '' && usernamePrefix !== '' && issuerUrl !== '' && issuerProblems.length === 0) {
    ctx.warn(
      `--oidc-username-prefix is not set, so user names from the ${JSON.stringify(usernameClaim)} claim are prefixed with ` +
        `${JSON.stringify(usernamePrefix)}, as kube-apiserver does (jetstack/kube-oidc-proxy added no prefix). ` +
        'Set --oidc-username-prefix=- for bare claim values, or pass the prefix explicitly to silence this warning',
    );
  }

  const requiredClaims = flags.pairs('oidc-required-claim').map(([claim, value]) => ({ claim, value }));
  if (requiredClaims.some(({ claim }) => claim === '')) ctx.error('--oidc-required-claim: the claim name must not be empty');
  const groupsClaim = flags.string('oidc-groups-claim');

  return {
    issuerUrl,
    clientId,
    ...caFromFlags(ctx),
    usernameClaim,
    usernamePrefix,
    ...(groupsClaim !== '' ? { groupsClaim } : {}),
    groupsPrefix: flags.string('oidc-groups-prefix'),
    signingAlgs: signingAlgsFromFlags(ctx),
    requiredClaims,
  };
}
