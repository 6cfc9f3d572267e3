/**
 * Pure token checks, in kube-apiserver's order and with its error texts (oidc.go, go-oidc v2 verify.go):
 * claims are checked before the signature, on purpose, so cheap checks run before any key work.
 * Every message is a log detail; the client only ever sees 401 Unauthorized.
 */
import type { UserInfo } from './user-info.js';
import { celErrorText, claimsActivation, type CompiledExpression } from './cel-expressions.js';
import type { CompiledJwtSpec, JwtAuthenticatorSpec } from './jwt-authenticator-spec.js';

/**
 * Tokens larger than this are refused before any parsing. It matches the secure listener's 64 KiB header
 * limit (secure-server.service.ts), which exists for groups-heavy ID tokens: a lower bound here refused
 * valid tokens of 16–64 KiB that the listener had accepted for exactly that reason.
 */
export const MAX_TOKEN_BYTES = 64 * 1024;
/** go-oidc's clock skew allowance, applied to `nbf` only (`exp` has none). */
export const NBF_LEEWAY_MS = 60_000;
export const CREDENTIAL_ID_EXTRA = 'authentication.kubernetes.io/credential-id';

export class TokenError extends Error {}

export interface DecodedToken {
  readonly header: Record<string, unknown>;
  readonly claims: Record<string, unknown>;
}

function decodeSegment(segment: string, what: string): Record<string, unknown> {
  if (!/^[A-Za-z0-9_-]*$/.test(segment)) throw new TokenError(`oidc: malformed jwt ${what}: not base64url`);
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(segment, 'base64url').toString('utf8'));
  } catch {
    throw new TokenError(`oidc: malformed jwt ${what}: not JSON`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new TokenError(`oidc: malformed jwt ${what}: not a JSON object`);
  return parsed as Record<string, unknown>;
}

/**
 * Decode a compact JWS without verifying it. Returns undefined for anything that is not a compact JWT
 * (JSON serialisation, wrong number of parts, oversized): kube-apiserver skips such tokens.
 */
export function decodeCompact(token: string): DecodedToken | undefined {
  if (token.length > MAX_TOKEN_BYTES || token.startsWith('{')) return undefined;
  const parts = token.split('.');
  if (parts.length !== 3) return undefined;
  try {
    return { header: decodeSegment(parts[0]!, 'header'), claims: decodeSegment(parts[1]!, 'payload') };
  } catch {
    return undefined;
  }
}

/** The token's unverified issuer, for selecting an authenticator. `accounts.google.com` is coalesced (vector 2). */
export function unverifiedIssuer(decoded: DecodedToken): string | undefined {
  const iss = decoded.claims.iss;
  if (typeof iss !== 'string') return undefined;
  return iss === 'accounts.google.com' ? 'https://accounts.google.com' : iss;
}

/** Go's time.Time String() for UTC, as it appears in kube's messages. */
export function goTime(ms: number): string {
  if (ms <= 0) return '0001-01-01 00:00:00 +0000 UTC';
  return `${new Date(ms).toISOString().slice(0, 19).replace('T', ' ')} +0000 UTC`;
}

function audiences(aud: unknown): string[] {
  if (typeof aud === 'string') return [aud];
  if (Array.isArray(aud) && aud.every((a) => typeof a === 'string')) return aud as string[];
  if (aud === undefined || aud === null) return [];
  throw new TokenError('oidc: verify token: oidc: failed to unmarshal claims: aud is not a string or a list of strings');
}

function numericClaim(claims: Record<string, unknown>, name: string): number | undefined {
  const v = claims[name];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'number' || !Number.isFinite(v)) throw new TokenError(`oidc: verify token: oidc: failed to unmarshal claims: ${name} is not a number`);
  return v;
}

/** What the standard claim checks need of an authenticator: its issuer and audiences. */
export type IssuerClaims = { readonly issuer: Pick<JwtAuthenticatorSpec['issuer'], 'url' | 'audiences'> };

/**
 * go-oidc's distributed-claims consistency check, part of unmarshalling the claims: `_claim_names` maps
 * claim names to source names, `_claim_sources` maps source names to `{endpoint, access_token}` or
 * `{JWT}`, and every named source must exist (vectors 70, 71).
 */
function claimSourceProblem(claims: Record<string, unknown>): string | undefined {
  const names = claims._claim_names;
  const sources = claims._claim_sources;
  const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
  if (names !== undefined && names !== null && !(isObject(names) && Object.values(names).every((v) => typeof v === 'string'))) {
    return 'oidc: verify token: oidc: failed to unmarshal claims: _claim_names is not an object of strings';
  }
  if (sources !== undefined && sources !== null) {
    const fieldsOk = (src: unknown): boolean => isObject(src) && ['endpoint', 'access_token', 'JWT'].every((f) => src[f] === undefined || typeof src[f] === 'string');
    if (!isObject(sources) || !Object.values(sources).every(fieldsOk)) return 'oidc: verify token: oidc: failed to unmarshal claims: _claim_sources is not an object of claim sources';
  }
  for (const source of Object.values((names ?? {}) as Record<string, string>)) {
    if (source === '') return 'oidc: verify token: oidc: failed to obtain source from claim name';
    if (!isObject(sources) || !Object.hasOwn(sources, source)) return 'oidc: verify token: oidc: source does not exist';
  }
  return undefined;
}

/** go-oidc's algorithm allowlist: the problem with a header's `alg` (without the `oidc: verify token: ` wrapper), if any. */
export function algorithmProblem(alg: unknown, allowed: readonly string[]): string | undefined {
  if (typeof alg === 'string' && allowed.includes(alg)) return undefined;
  return `oidc: id token signed with unsupported algorithm, expected [${allowed.map((a) => `"${a}"`).join(' ')}] got "${String(alg)}"`;
}

/** go-oidc's claim checks: issuer, audience, exp (no leeway), nbf (60 s leeway); `iat` is parsed, never compared. */
export function checkStandardClaims(decoded: DecodedToken, spec: IssuerClaims, nowMs: number): void {
  const [first] = standardClaimProblems(decoded, spec, nowMs);
  if (first !== undefined) throw new TokenError(first);
}

/** Every standard-claim problem, in go-oidc's order (the server reports the first; check-token all). */
export function standardClaimProblems(decoded: DecodedToken, spec: IssuerClaims, nowMs: number): string[] {
  const { claims } = decoded;
  const problems: string[] = [];
  const attempt = <T>(fn: () => T): T | undefined => {
    try {
      return fn();
    } catch (err) {
      problems.push((err as Error).message);
      return undefined;
    }
  };
  const exp = attempt(() => numericClaim(claims, 'exp'));
  const nbf = attempt(() => numericClaim(claims, 'nbf'));
  attempt(() => numericClaim(claims, 'iat'));
  if (problems.length > 0) return problems; // unparseable claims: go-oidc stops here
  const sourceProblem = claimSourceProblem(claims);
  if (sourceProblem !== undefined) return [sourceProblem]; // go-oidc stops here too
  if (unverifiedIssuer(decoded) !== spec.issuer.url) {
    problems.push(`oidc: verify token: oidc: id token issued by a different provider, expected "${spec.issuer.url}" got "${String(claims.iss)}"`);
  }
  const got = attempt(() => audiences(claims.aud));
  if (got && !spec.issuer.audiences.some((a) => got.includes(a))) {
    const expected =
      spec.issuer.audiences.length === 1
        ? `expected audience "${spec.issuer.audiences[0]}"`
        : `expected audience in [${[...spec.issuer.audiences].sort().map((a) => `"${a}"`).join(' ')}]`;
    problems.push(`oidc: verify token: oidc: ${expected} got [${got.map((a) => `"${a}"`).join(' ')}]`);
  }
  const expMs = (exp ?? 0) * 1000;
  if (nowMs > expMs) problems.push(`oidc: verify token: oidc: token is expired (Token Expiry: ${goTime(expMs)})`);
  if (nbf !== undefined && nowMs + NBF_LEEWAY_MS < nbf * 1000) {
    problems.push(`oidc: verify token: oidc: current time ${goTime(nowMs)} before the nbf (not before) time: ${goTime(nbf * 1000)}`);
  }
  return problems;
}

function stringClaim(claims: Record<string, unknown>, name: string, context: string): string {
  const v = claims[name];
  if (v === undefined) throw new TokenError(`oidc: ${context} "${name}": claim not present`);
  if (typeof v !== 'string') throw new TokenError(`oidc: ${context} "${name}": json: cannot unmarshal ${jsonType(v)} into Go value of type string`);
  return v;
}

function jsonType(v: unknown): string {
  if (Array.isArray(v)) return 'array';
  if (v === null) return 'null';
  return typeof v === 'object' ? 'object' : typeof v;
}

function evaluate(program: CompiledExpression, activation: Record<string, unknown>, context: string): unknown {
  try {
    return program.evaluate(activation);
  } catch (err) {
    throw new TokenError(`oidc: ${context}: expression '${program.source}' resulted in error: ${celErrorText(err)}`);
  }
}

/** A CEL groups/extra value: a string or a list of strings; "", [] and null mean "absent", "" inside a list is dropped. */
function stringList(value: unknown, context: string, what: string): string[] {
  if (value === null || value === undefined) return [];
  if (typeof value === 'string') return value === '' ? [] : [value];
  if (Array.isArray(value) && value.every((v) => typeof v === 'string')) return (value as string[]).filter((v) => v !== '');
  throw new TokenError(`oidc: ${context}: ${what} must return a string or a list of strings`);
}

function mapUsername(claims: Record<string, unknown>, compiled: CompiledJwtSpec, activation: () => Record<string, unknown>): string {
  const mapping = compiled.claimMappings.username;
  if ('expression' in mapping) {
    const value = evaluate(mapping.program, activation(), 'error evaluating username claim expression');
    if (typeof value !== 'string') throw new TokenError('oidc: error evaluating username claim expression: username claim expression must return a string');
    if (value === '') throw new TokenError('oidc: empty username via CEL expression is not allowed');
    return value;
  }
  const raw = stringClaim(claims, mapping.claim, 'parse username claims');
  if (mapping.claim === 'email' && claims.email_verified !== undefined) {
    if (typeof claims.email_verified !== 'boolean') {
      throw new TokenError(`oidc: parse 'email_verified' claim: json: cannot unmarshal ${jsonType(claims.email_verified)} into Go value of type bool`);
    }
    if (!claims.email_verified) throw new TokenError('oidc: email not verified');
  }
  return mapping.prefix + raw;
}

function mapGroups(claims: Record<string, unknown>, compiled: CompiledJwtSpec, activation: () => Record<string, unknown>): string[] {
  const mapping = compiled.claimMappings.groups;
  if (!mapping) return [];
  const context = 'error evaluating group claim expression';
  if ('expression' in mapping) return stringList(evaluate(mapping.program, activation(), context), context, 'group claim expression');
  const v = claims[mapping.claim];
  let groups: string[] = [];
  if (typeof v === 'string') groups = [v];
  else if (Array.isArray(v) && v.every((g) => typeof g === 'string')) groups = v as string[];
  else if (v !== undefined && v !== null) {
    throw new TokenError(`oidc: parse groups claim "${mapping.claim}": json: cannot unmarshal ${jsonType(v)} into Go value of type string`);
  }
  return groups.map((g) => mapping.prefix + g);
}

function mapUid(claims: Record<string, unknown>, compiled: CompiledJwtSpec, activation: () => Record<string, unknown>): string | undefined {
  const mapping = compiled.claimMappings.uid;
  if (!mapping) return undefined;
  if ('claim' in mapping) return stringClaim(claims, mapping.claim, 'parse uid claim');
  const value = evaluate(mapping.program, activation(), 'error evaluating uid claim expression');
  if (typeof value !== 'string') throw new TokenError('oidc: error evaluating uid claim expression: uid claim expression must return a string');
  return value;
}

function mapExtra(claims: Record<string, unknown>, compiled: CompiledJwtSpec, activation: () => Record<string, unknown>): Record<string, string[]> {
  const extra: Record<string, string[]> = {};
  const context = 'error evaluating extra claim expression';
  for (const { key, program } of compiled.claimMappings.extra) {
    const values = stringList(evaluate(program, activation(), context), context, 'extra mapping expression');
    if (values.length > 0) extra[key] = values; // an empty value omits the key (vector 92)
  }
  // kube-apiserver records the token's jti as the credential id (vector 94); a non-string jti is ignored.
  if (typeof claims.jti === 'string' && claims.jti !== '') extra[CREDENTIAL_ID_EXTRA] = [`JTI=${claims.jti}`];
  return extra;
}

function checkClaimRules(claims: Record<string, unknown>, compiled: CompiledJwtSpec, activation: () => Record<string, unknown>): void {
  // Legacy required claims first, then CEL rules (oidc.go: 917-947).
  for (const rule of compiled.claimValidationRules) {
    if (!('claim' in rule)) continue;
    const v = claims[rule.claim];
    if (v === undefined) throw new TokenError(`oidc: required claim ${rule.claim} not present in ID token`);
    if (typeof v !== 'string') throw new TokenError(`oidc: parse claim ${rule.claim}: json: cannot unmarshal ${jsonType(v)} into Go value of type string`);
    if (v !== rule.requiredValue) throw new TokenError(`oidc: required claim ${rule.claim} value does not match. Got = ${v}, want = ${rule.requiredValue}`);
  }
  const context = 'error evaluating claim validation expression';
  for (const rule of compiled.claimValidationRules) {
    if (!('expression' in rule)) continue;
    if (evaluate(rule.program, activation(), context) !== true) {
      throw new TokenError(`oidc: ${context}: validation expression '${rule.expression}' failed: ${rule.message ?? ''}`);
    }
  }
}

function checkUserRules(user: UserInfo, compiled: CompiledJwtSpec): void {
  if (compiled.userValidationRules.length === 0) return; // the --oidc-* flags never have any
  const context = 'error evaluating user info validation rule';
  const activation = { user: { username: user.username, uid: user.uid ?? '', groups: [...user.groups], extra: Object.fromEntries(Object.entries(user.extra).map(([k, v]) => [k, [...v]])) } };
  for (const rule of compiled.userValidationRules) {
    if (evaluate(rule.program, activation, context) !== true) {
      throw new TokenError(`oidc: ${context}: validation expression '${rule.expression}' failed: ${rule.message ?? ''}`);
    }
  }
}

/**
 * Map verified claims to a user exactly as kube-apiserver's claim mappings do, in its order: username →
 * groups → uid → extra → required claims → CEL claim rules → user rules (oidc.go: 895-969).
 */
export function mapClaims(claims: Record<string, unknown>, compiled: CompiledJwtSpec): UserInfo {
  let cached: Record<string, unknown> | undefined;
  const activation = (): Record<string, unknown> => (cached ??= { claims: claimsActivation(claims) });
  const username = mapUsername(claims, compiled, activation);
  const groups = mapGroups(claims, compiled, activation);
  const uid = mapUid(claims, compiled, activation);
  const extra = mapExtra(claims, compiled, activation);
  checkClaimRules(claims, compiled, activation);
  const user: UserInfo = { username, ...(uid !== undefined ? { uid } : {}), groups, extra };
  checkUserRules(user, compiled);
  return user;
}
