/**
 * One JWT authenticator, in the shape of kube-apiserver's AuthenticationConfiguration `jwt[]` entry
 * (apiserver.config.k8s.io/v1). The legacy --oidc-* flags become one of these and an
 * --authentication-config file becomes a list of them: one code path for both.
 */
import type { OidcConfig, SigningAlg } from '../config/proxy-config.js';
import { type CelResultType, type CelVariable, compileExpression, type CompiledExpression } from './cel-expressions.js';

export type PrefixedClaimOrExpression = { readonly claim: string; readonly prefix: string } | { readonly expression: string };
export type ClaimOrExpression = { readonly claim: string } | { readonly expression: string };
export type ClaimValidationRule = { readonly claim: string; readonly requiredValue: string } | { readonly expression: string; readonly message?: string };
export interface ExtraMapping {
  readonly key: string;
  readonly valueExpression: string;
}
export interface UserValidationRule {
  readonly expression: string;
  readonly message?: string;
}

export interface JwtAuthenticatorSpec {
  readonly issuer: {
    readonly url: string;
    readonly discoveryURL?: string;
    readonly audiences: readonly string[];
    readonly audienceMatchPolicy?: 'MatchAny';
    /** PEM. */
    readonly certificateAuthority?: string;
  };
  readonly claimValidationRules: readonly ClaimValidationRule[];
  readonly claimMappings: {
    readonly username: PrefixedClaimOrExpression;
    readonly groups?: PrefixedClaimOrExpression;
    readonly uid?: ClaimOrExpression;
    readonly extra?: readonly ExtraMapping[];
  };
  readonly userValidationRules?: readonly UserValidationRule[];
  readonly signingAlgs: readonly SigningAlg[];
}

/** A spec whose expressions are compiled, keyed by the expression text (each is compiled once). */
export interface CompiledJwtSpec {
  readonly spec: JwtAuthenticatorSpec;
  readonly expressions: ReadonlyMap<string, CompiledExpression>;
}

export interface SpecProblem {
  /** Field path inside the `jwt[]` entry, e.g. `claimMappings.username.expression`. */
  readonly path: string;
  readonly expression: string;
  readonly message: string;
}

/** Every CEL expression of a spec with its field path, variable and required result type. */
export function specExpressions(spec: JwtAuthenticatorSpec): Array<{ path: string; source: string; variable: CelVariable; type: CelResultType }> {
  const out: Array<{ path: string; source: string; variable: CelVariable; type: CelResultType }> = [];
  const m = spec.claimMappings;
  if ('expression' in m.username) out.push({ path: 'claimMappings.username.expression', source: m.username.expression, variable: 'claims', type: 'string' });
  if (m.groups && 'expression' in m.groups) out.push({ path: 'claimMappings.groups.expression', source: m.groups.expression, variable: 'claims', type: 'string-or-list' });
  if (m.uid && 'expression' in m.uid) out.push({ path: 'claimMappings.uid.expression', source: m.uid.expression, variable: 'claims', type: 'string' });
  (m.extra ?? []).forEach((e, i) => out.push({ path: `claimMappings.extra[${i}].valueExpression`, source: e.valueExpression, variable: 'claims', type: 'string-or-list' }));
  spec.claimValidationRules.forEach((r, i) => {
    if ('expression' in r) out.push({ path: `claimValidationRules[${i}].expression`, source: r.expression, variable: 'claims', type: 'bool' });
  });
  (spec.userValidationRules ?? []).forEach((r, i) => out.push({ path: `userValidationRules[${i}].expression`, source: r.expression, variable: 'user', type: 'bool' }));
  return out;
}

type SpecCompilation = { compiled?: CompiledJwtSpec; problems: SpecProblem[] };

/**
 * Compilations by spec object. Loading a configuration validates each spec by compiling it, and the
 * authenticator built from that same object then needs the compiled form: it is looked up, not redone.
 * Keyed by identity, so it lives exactly as long as the spec does.
 */
const compilations = new WeakMap<JwtAuthenticatorSpec, SpecCompilation>();

/** Compile every expression of a spec (once per spec object); all problems, not just the first. */
export function compileSpec(spec: JwtAuthenticatorSpec): SpecCompilation {
  let compilation = compilations.get(spec);
  if (!compilation) {
    compilation = compileEach(spec);
    compilations.set(spec, compilation);
  }
  return compilation;
}

function compileEach(spec: JwtAuthenticatorSpec): SpecCompilation {
  const expressions = new Map<string, CompiledExpression>();
  const problems: SpecProblem[] = [];
  for (const { path, source, variable, type } of specExpressions(spec)) {
    const key = `${variable}:${type}:${source}`;
    if (expressions.has(key)) continue;
    const result = compileExpression(source, variable, type);
    if (result.ok) expressions.set(key, result.expression);
    else problems.push({ path, expression: source, message: result.error });
  }
  return problems.length > 0 ? { problems } : { compiled: { spec, expressions }, problems };
}

/** Compile a spec that was validated already (config loading did); throws if it was not. */
export function compileValidatedSpec(spec: JwtAuthenticatorSpec): CompiledJwtSpec {
  const { compiled, problems } = compileSpec(spec);
  if (!compiled) throw new Error(`invalid authenticator for ${spec.issuer.url}: ${problems.map((p) => `${p.path}: ${p.message}`).join('; ')}`);
  return compiled;
}

export function expressionOf(compiled: CompiledJwtSpec, variable: CelVariable, type: CelResultType, source: string): CompiledExpression {
  const expression = compiled.expressions.get(`${variable}:${type}:${source}`);
  if (!expression) throw new Error(`expression not compiled: ${source}`);
  return expression;
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
