/**
 * The --authentication-config file: kube-apiserver's AuthenticationConfiguration
 * (apiserver.config.k8s.io/v1 or v1beta1), `jwt[]` only, validated with the API server's rules and
 * messages (apis/apiserver/validation; reference vectors 101–114) into JwtAuthenticatorSpecs. Every
 * problem is reported, each with its field path. Used at boot, on reload and by `check-token`.
 */
import { createHash } from 'node:crypto';
import { parseDocument } from 'yaml';
import { referencedClaims } from '../auth/cel-expressions.js';
import { compileSpec, type ExtraMapping, type JwtAuthenticatorSpec, type PrefixedClaimOrExpression } from '../auth/jwt-authenticator-spec.js';
import { countPemCertificates, disallowedIssuerProblem, issuerUrlProblems, shownUrl } from './oidc-settings.js';
import { ALLOWED_SIGNING_ALGS } from './proxy-config.js';

export const AUTHENTICATION_CONFIG_API_VERSIONS = ['apiserver.config.k8s.io/v1', 'apiserver.config.k8s.io/v1beta1'] as const;
/** validation.go: at most 64 JWT authenticators. */
export const MAX_JWT_AUTHENTICATORS = 64;
/** A configuration file larger than this is refused before parsing. */
export const MAX_CONFIG_BYTES = 1024 * 1024;

export interface LoadedAuthenticationConfig {
  readonly jwt: readonly JwtAuthenticatorSpec[];
  /** sha256 of the file's bytes (first 16 hex digits): which configuration is active, in logs and metrics. */
  readonly hash: string;
}

export type AuthenticationConfigResult =
  | { readonly ok: true; readonly config: LoadedAuthenticationConfig; readonly warnings: readonly string[] }
  | { readonly ok: false; readonly errors: readonly string[]; readonly warnings: readonly string[] };

type Obj = Record<string, unknown>;

export function configHash(text: string): string {
  return createHash('sha256').update(text).digest('hex').slice(0, 16);
}

class Problems {
  readonly errors: string[] = [];
  readonly warnings: string[] = [];
  required(path: string, detail?: string): void {
    this.errors.push(`${path}: Required value${detail ? `: ${detail}` : ''}`);
  }
  invalid(path: string, value: unknown, detail: string): void {
    this.errors.push(`${path}: Invalid value: ${JSON.stringify(value)}: ${detail}`);
  }
  duplicate(path: string, value: unknown): void {
    this.errors.push(`${path}: Duplicate value: ${JSON.stringify(value)}`);
  }
  type(path: string, expected: string): void {
    this.errors.push(`${path}: Invalid type: expected ${expected}`);
  }
}

const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Strict decoding, as kube-apiserver loads the file: an unknown field is an error, not a silent typo. */
function checkFields(p: Problems, path: string, value: Obj, known: readonly string[]): void {
  for (const key of Object.keys(value)) if (!known.includes(key)) p.errors.push(`${path ? `${path}.` : ''}${key}: unknown field`);
}

/**
 * An optional list of objects (absent or null: empty). A non-list, a non-object item and unknown fields
 * are reported; `each` sees every object item with its path.
 */
function eachListObject(p: Problems, path: string, raw: unknown, fields: readonly string[], each: (item: Obj, at: string) => void): void {
  if (raw === undefined || raw === null) return;
  if (!Array.isArray(raw)) return p.type(path, 'list');
  raw.forEach((item: unknown, i) => {
    const at = `${path}[${i}]`;
    if (!isObj(item)) return p.type(at, 'object');
    checkFields(p, at, item, fields);
    each(item, at);
  });
}

function str(p: Problems, path: string, v: unknown): string | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string') {
    p.type(path, 'string');
    return undefined;
  }
  return v;
}

function validateUrl(p: Problems, path: string, url: string): void {
  for (const problem of issuerUrlProblems(url)) p.invalid(path, shownUrl(url), problem);
}

/** What validating one authenticator needs to know about the others and about the cluster. */
interface IssuerContext {
  readonly urls: Set<string>;
  readonly discovery: Set<string>;
  /** --service-account-issuer: no issuer.url may equal one of these (vector 105). */
  readonly disallowed: readonly string[];
}

function validateIssuer(p: Problems, path: string, raw: unknown, seen: IssuerContext): JwtAuthenticatorSpec['issuer'] | undefined {
  if (!isObj(raw)) {
    p.required(path);
    return undefined;
  }
  checkFields(p, path, raw, ['url', 'discoveryURL', 'audiences', 'audienceMatchPolicy', 'certificateAuthority', 'egressSelectorType']);
  const url = str(p, `${path}.url`, raw.url) ?? '';
  if (url === '') p.required(`${path}.url`);
  else {
    // kube-apiserver checks the overlap first (validateURL), the discovery URL never.
    const overlap = disallowedIssuerProblem(url, seen.disallowed);
    if (overlap) p.invalid(`${path}.url`, shownUrl(url), overlap);
    validateUrl(p, `${path}.url`, url);
    if (seen.urls.has(url)) p.duplicate(`${path}.url`, shownUrl(url));
    seen.urls.add(url);
  }
  const discoveryURL = str(p, `${path}.discoveryURL`, raw.discoveryURL);
  if (discoveryURL !== undefined && discoveryURL !== '') {
    validateUrl(p, `${path}.discoveryURL`, discoveryURL);
    if (url !== '' && url.replace(/\/+$/, '') === discoveryURL.replace(/\/+$/, '')) p.invalid(`${path}.discoveryURL`, shownUrl(discoveryURL), 'discoveryURL must be different from URL');
    if (seen.discovery.has(discoveryURL)) p.duplicate(`${path}.discoveryURL`, shownUrl(discoveryURL));
    seen.discovery.add(discoveryURL);
  }

  const audiences: string[] = [];
  if (raw.audiences !== undefined && !Array.isArray(raw.audiences)) p.type(`${path}.audiences`, 'list of strings');
  const rawAudiences = Array.isArray(raw.audiences) ? raw.audiences : [];
  if (rawAudiences.length === 0) p.required(`${path}.audiences`, 'at least one issuer.audiences is required');
  rawAudiences.forEach((a, i) => {
    const aud = str(p, `${path}.audiences[${i}]`, a) ?? '';
    if (aud === '') p.required(`${path}.audiences[${i}]`);
    else if (audiences.includes(aud)) p.duplicate(`${path}.audiences[${i}]`, aud);
    else audiences.push(aud);
  });
  const policy = str(p, `${path}.audienceMatchPolicy`, raw.audienceMatchPolicy) ?? '';
  if (rawAudiences.length > 1 && policy !== 'MatchAny') p.invalid(`${path}.audienceMatchPolicy`, policy, 'audienceMatchPolicy must be MatchAny for multiple audiences');
  if (rawAudiences.length === 1 && policy !== '' && policy !== 'MatchAny') p.invalid(`${path}.audienceMatchPolicy`, policy, 'audienceMatchPolicy must be empty or MatchAny for single audience');

  const ca = str(p, `${path}.certificateAuthority`, raw.certificateAuthority);
  if (ca !== undefined && ca !== '' && countPemCertificates(ca) === 0) {
    p.invalid(`${path}.certificateAuthority`, '<omitted>', 'data does not contain any valid RSA or ECDSA certificates');
  }
  const egress = str(p, `${path}.egressSelectorType`, raw.egressSelectorType);
  if (egress !== undefined && egress !== '') {
    if (egress !== 'controlplane' && egress !== 'cluster') p.invalid(`${path}.egressSelectorType`, egress, 'egress selector must be either controlplane or cluster');
    else p.warnings.push(`${path}.egressSelectorType is ignored: kube-oidc-proxy reaches issuers directly`);
  }
  return {
    url,
    ...(discoveryURL ? { discoveryURL } : {}),
    audiences,
    ...(policy === 'MatchAny' ? { audienceMatchPolicy: 'MatchAny' as const } : {}),
    ...(ca ? { certificateAuthority: ca } : {}),
  };
}

function validateClaimRules(p: Problems, path: string, raw: unknown): JwtAuthenticatorSpec['claimValidationRules'] {
  const rules: Array<JwtAuthenticatorSpec['claimValidationRules'][number]> = [];
  const claims = new Set<string>();
  const expressions = new Set<string>();
  eachListObject(p, path, raw, ['claim', 'requiredValue', 'expression', 'message'], (r, at) => {
    const claim = str(p, `${at}.claim`, r.claim) ?? '';
    const requiredValue = str(p, `${at}.requiredValue`, r.requiredValue) ?? '';
    const expression = str(p, `${at}.expression`, r.expression) ?? '';
    const message = str(p, `${at}.message`, r.message) ?? '';
    if (claim === '' && expression === '') return p.required(at, 'claim or expression is required');
    if (claim !== '' && expression !== '') return p.invalid(at, claim, "claim and expression can't both be set");
    if (claim !== '') {
      if (message !== '') p.invalid(`${at}.message`, message, 'may not be specified when claim is set');
      if (claims.has(claim)) p.duplicate(`${at}.claim`, claim);
      claims.add(claim);
      rules.push({ claim, requiredValue });
    } else {
      if (requiredValue !== '') p.invalid(`${at}.requiredValue`, requiredValue, 'may not be specified when expression is set');
      if (expressions.has(expression)) p.duplicate(`${at}.expression`, expression);
      expressions.add(expression);
      rules.push({ expression, ...(message !== '' ? { message } : {}) });
    }
  });
  return rules;
}

function validatePrefixed(p: Problems, path: string, raw: unknown, required: boolean): PrefixedClaimOrExpression | undefined {
  if (raw === undefined || raw === null) {
    if (required) p.required(path, 'claim or expression is required');
    return undefined;
  }
  if (!isObj(raw)) {
    p.type(path, 'object');
    return undefined;
  }
  checkFields(p, path, raw, ['claim', 'prefix', 'expression']);
  const claim = str(p, `${path}.claim`, raw.claim) ?? '';
  const expression = str(p, `${path}.expression`, raw.expression) ?? '';
  const prefix = str(p, `${path}.prefix`, raw.prefix);
  if (claim === '' && expression === '') {
    if (required) p.required(path, 'claim or expression is required');
    else if (prefix !== undefined) p.invalid(`${path}.prefix`, prefix, 'may not be specified when claim is not set');
    return undefined;
  }
  if (claim !== '' && expression !== '') {
    p.invalid(path, claim, "claim and expression can't both be set");
    return undefined;
  }
  if (expression !== '') {
    if (prefix !== undefined) p.invalid(`${path}.prefix`, 'prefix', 'may not be specified when expression is set');
    return { expression };
  }
  if (prefix === undefined) {
    p.required(`${path}.prefix`, 'prefix is required when claim is set. It can be set to an empty string to disable prefixing');
    return undefined;
  }
  return { claim, prefix };
}

const RESERVED_EXTRA_DOMAINS = ['k8s.io', 'kubernetes.io'];

function validateExtra(p: Problems, path: string, raw: unknown): ExtraMapping[] {
  const keys = new Set<string>();
  const out: ExtraMapping[] = [];
  eachListObject(p, path, raw, ['key', 'valueExpression'], (e, at) => {
    const key = str(p, `${at}.key`, e.key) ?? '';
    const valueExpression = str(p, `${at}.valueExpression`, e.valueExpression) ?? '';
    if (key === '') p.required(`${at}.key`);
    else {
      const slash = key.indexOf('/');
      const domain = slash > 0 ? key.slice(0, slash) : '';
      if (slash <= 0 || slash === key.length - 1 || !/^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/i.test(domain)) {
        p.invalid(`${at}.key`, key, 'must be a domain-prefixed path (such as "acme.io/foo")');
      }
      if (key !== key.toLowerCase()) p.invalid(`${at}.key`, key, 'key must be lowercase');
      const lower = domain.toLowerCase();
      if (RESERVED_EXTRA_DOMAINS.some((d) => lower === d || lower.endsWith(`.${d}`))) p.invalid(`${at}.key`, key, 'k8s.io, kubernetes.io and their subdomains are reserved for Kubernetes use');
      if (keys.has(key)) p.duplicate(`${at}.key`, key);
      keys.add(key);
    }
    if (valueExpression === '') p.required(`${at}.valueExpression`, 'valueExpression is required');
    if (key !== '' && valueExpression !== '') out.push({ key, valueExpression });
  });
  return out;
}

function validateUserRules(p: Problems, path: string, raw: unknown): NonNullable<JwtAuthenticatorSpec['userValidationRules']> {
  const seen = new Set<string>();
  const out: Array<{ expression: string; message?: string }> = [];
  eachListObject(p, path, raw, ['expression', 'message'], (r, at) => {
    const expression = str(p, `${at}.expression`, r.expression) ?? '';
    const message = str(p, `${at}.message`, r.message) ?? '';
    if (expression === '') return p.required(`${at}.expression`, 'expression is required');
    if (seen.has(expression)) return p.duplicate(`${at}.expression`, expression);
    seen.add(expression);
    out.push({ expression, ...(message !== '' ? { message } : {}) });
  });
  return out;
}

/**
 * Vector 111: a username taken from `claims.email` by expression must be paired with a reference to
 * `claims.email_verified` somewhere in the username, extra or claim-validation expressions (syntactic).
 */
function checkEmailVerified(p: Problems, path: string, spec: JwtAuthenticatorSpec): void {
  const username = spec.claimMappings.username;
  if (!('expression' in username) || !referencedClaims(username.expression).has('email')) return;
  const sources = [
    username.expression,
    ...(spec.claimMappings.extra ?? []).map((e) => e.valueExpression),
    ...spec.claimValidationRules.flatMap((r) => ('expression' in r ? [r.expression] : [])),
  ];
  if (sources.some((s) => referencedClaims(s).has('email_verified'))) return;
  p.invalid(`${path}.claimMappings.username.expression`, username.expression, 'claims.email_verified must be used in claimMappings.username.expression or claimMappings.extra[*].valueExpression or claimValidationRules[*].expression when claims.email is used in claimMappings.username.expression');
}

function validateJwt(p: Problems, path: string, raw: unknown, seen: IssuerContext): JwtAuthenticatorSpec | undefined {
  if (!isObj(raw)) {
    p.type(path, 'object');
    return undefined;
  }
  const before = p.errors.length;
  checkFields(p, path, raw, ['issuer', 'claimValidationRules', 'claimMappings', 'userValidationRules']);
  const issuer = validateIssuer(p, `${path}.issuer`, raw.issuer, seen);
  const claimValidationRules = validateClaimRules(p, `${path}.claimValidationRules`, raw.claimValidationRules);
  const mappings = isObj(raw.claimMappings) ? raw.claimMappings : undefined;
  if (!mappings) p.required(`${path}.claimMappings.username`, 'claim or expression is required');
  else checkFields(p, `${path}.claimMappings`, mappings, ['username', 'groups', 'uid', 'extra']);
  const username = mappings ? validatePrefixed(p, `${path}.claimMappings.username`, mappings.username, true) : undefined;
  const groups = mappings ? validatePrefixed(p, `${path}.claimMappings.groups`, mappings.groups, false) : undefined;
  let uid: JwtAuthenticatorSpec['claimMappings']['uid'];
  if (mappings && isObj(mappings.uid)) {
    checkFields(p, `${path}.claimMappings.uid`, mappings.uid, ['claim', 'expression']);
    const claim = str(p, `${path}.claimMappings.uid.claim`, mappings.uid.claim) ?? '';
    const expression = str(p, `${path}.claimMappings.uid.expression`, mappings.uid.expression) ?? '';
    if (claim !== '' && expression !== '') p.invalid(`${path}.claimMappings.uid`, claim, "claim and expression can't both be set");
    else if (claim !== '') uid = { claim };
    else if (expression !== '') uid = { expression };
  }
  const extra = mappings ? validateExtra(p, `${path}.claimMappings.extra`, mappings.extra) : [];
  const userValidationRules = validateUserRules(p, `${path}.userValidationRules`, raw.userValidationRules);
  if (!issuer || !username || p.errors.length > before) {
    // Still compile what there is, so CEL problems are listed together with the structural ones.
    if (username || claimValidationRules.length > 0 || extra.length > 0 || userValidationRules.length > 0) {
      const partial: JwtAuthenticatorSpec = {
        issuer: issuer ?? { url: '', audiences: [] },
        claimValidationRules,
        claimMappings: { username: username ?? { claim: 'sub', prefix: '' }, ...(groups ? { groups } : {}), ...(uid ? { uid } : {}), extra },
        userValidationRules,
        signingAlgs: [...ALLOWED_SIGNING_ALGS],
      };
      for (const problem of compileSpec(partial).problems) p.invalid(`${path}.${problem.path}`, problem.expression, problem.message);
    }
    return undefined;
  }
  const spec: JwtAuthenticatorSpec = {
    issuer,
    claimValidationRules,
    claimMappings: { username, ...(groups ? { groups } : {}), ...(uid ? { uid } : {}), ...(extra.length > 0 ? { extra } : {}) },
    ...(userValidationRules.length > 0 ? { userValidationRules } : {}),
    // kube-apiserver with --authentication-config allows every asymmetric algorithm (vector 33).
    signingAlgs: [...ALLOWED_SIGNING_ALGS],
  };
  for (const problem of compileSpec(spec).problems) p.invalid(`${path}.${problem.path}`, problem.expression, problem.message);
  checkEmailVerified(p, path, spec);
  return p.errors.length > before ? undefined : spec;
}

/**
 * Parse and validate the file's text. Pure: the caller reads the file (boot, reload, check-token).
 * `disallowedIssuers` are the --service-account-issuer values: required, so no caller can forget them.
 * `hash` is `configHash(text)` from a caller that already has it: reload hashes first to skip an unchanged file.
 */
export function parseAuthenticationConfig(text: string, disallowedIssuers: readonly string[], hash?: string): AuthenticationConfigResult {
  const p = new Problems();
  if (Buffer.byteLength(text) > MAX_CONFIG_BYTES) return { ok: false, errors: [`the file is larger than ${MAX_CONFIG_BYTES} bytes`], warnings: [] };
  const doc = parseDocument(text, { prettyErrors: false, uniqueKeys: true });
  if (doc.errors.length > 0) return { ok: false, errors: doc.errors.map((e) => `not valid YAML or JSON: ${e.message.split('\n')[0]}`), warnings: [] };
  const root: unknown = doc.toJS({ maxAliasCount: 100 });
  if (!isObj(root)) return { ok: false, errors: ['the file must hold one AuthenticationConfiguration object'], warnings: [] };
  checkFields(p, '', root, ['apiVersion', 'kind', 'jwt', 'anonymous']);
  if (!(AUTHENTICATION_CONFIG_API_VERSIONS as readonly unknown[]).includes(root.apiVersion)) {
    p.invalid('apiVersion', root.apiVersion ?? '', `must be one of ${AUTHENTICATION_CONFIG_API_VERSIONS.join(', ')}`);
  }
  if (root.kind !== 'AuthenticationConfiguration') p.invalid('kind', root.kind ?? '', 'must be AuthenticationConfiguration');
  if (root.anonymous !== undefined) p.invalid('anonymous', '<omitted>', 'not supported by kube-oidc-proxy: it never admits anonymous requests');
  const rawJwt = root.jwt;
  const jwt: JwtAuthenticatorSpec[] = [];
  if (rawJwt !== undefined && !Array.isArray(rawJwt)) p.type('jwt', 'list');
  else if (!Array.isArray(rawJwt) || rawJwt.length === 0) p.required('jwt', 'kube-oidc-proxy needs at least one JWT authenticator');
  else if (rawJwt.length > MAX_JWT_AUTHENTICATORS) p.errors.push(`jwt: Too many: ${rawJwt.length}: must have at most ${MAX_JWT_AUTHENTICATORS} items`);
  else {
    const seen: IssuerContext = { urls: new Set<string>(), discovery: new Set<string>(), disallowed: disallowedIssuers };
    rawJwt.forEach((entry, i) => {
      const spec = validateJwt(p, `jwt[${i}]`, entry, seen);
      if (spec) jwt.push(spec);
    });
  }
  if (p.errors.length > 0) return { ok: false, errors: p.errors, warnings: p.warnings };
  return { ok: true, config: { jwt, hash: hash ?? configHash(text) }, warnings: p.warnings };
}
