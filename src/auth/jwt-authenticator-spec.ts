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

/** A mapping or rule with its CEL expression compiled next to it (the source stays, for messages). */
export type WithProgram<T> = T extends { readonly expression: string } ? T & { readonly program: CompiledExpression } : T;

/**
 * A spec with every CEL expression compiled, in the spec's own shape: the token path evaluates
 * `rule.program` directly, nothing is looked up per token.
 */
export interface CompiledJwtSpec {
  readonly claimMappings: {
    readonly username: WithProgram<PrefixedClaimOrExpression>;
    readonly groups?: WithProgram<PrefixedClaimOrExpression>;
    readonly uid?: WithProgram<ClaimOrExpression>;
    readonly extra: ReadonlyArray<ExtraMapping & { readonly program: CompiledExpression }>;
  };
  readonly claimValidationRules: ReadonlyArray<WithProgram<ClaimValidationRule>>;
  readonly userValidationRules: ReadonlyArray<WithProgram<UserValidationRule>>;
}

export interface SpecProblem {
  /** Field path inside the `jwt[]` entry, e.g. `claimMappings.username.expression`. */
  readonly path: string;
  readonly expression: string;
  readonly message: string;
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

/** Stands in for an expression that did not compile; the spec is refused, so it is never evaluated. */
function refused(source: string): CompiledExpression {
  return {
    source,
    evaluate: () => {
      throw new Error(`expression not compiled: ${source}`);
    },
  };
}

/** Problems are listed in field order: username, groups, uid, extra, claim rules, user rules. */
function compileEach(spec: JwtAuthenticatorSpec): SpecCompilation {
  const problems: SpecProblem[] = [];
  const compile = (path: string, source: string, variable: CelVariable, type: CelResultType): CompiledExpression => {
    const result = compileExpression(source, variable, type);
    if (result.ok) return result.expression;
    problems.push({ path, expression: source, message: result.error });
    return refused(source);
  };
  const m = spec.claimMappings;
  const compiled: CompiledJwtSpec = {
    claimMappings: {
      username: 'expression' in m.username ? { ...m.username, program: compile('claimMappings.username.expression', m.username.expression, 'claims', 'string') } : m.username,
      ...(m.groups ? { groups: 'expression' in m.groups ? { ...m.groups, program: compile('claimMappings.groups.expression', m.groups.expression, 'claims', 'string-or-list') } : m.groups } : {}),
      ...(m.uid ? { uid: 'expression' in m.uid ? { ...m.uid, program: compile('claimMappings.uid.expression', m.uid.expression, 'claims', 'string') } : m.uid } : {}),
      extra: (m.extra ?? []).map((e, i) => ({ ...e, program: compile(`claimMappings.extra[${i}].valueExpression`, e.valueExpression, 'claims', 'string-or-list') })),
    },
    claimValidationRules: spec.claimValidationRules.map((r, i) => ('expression' in r ? { ...r, program: compile(`claimValidationRules[${i}].expression`, r.expression, 'claims', 'bool') } : r)),
    userValidationRules: (spec.userValidationRules ?? []).map((r, i) => ({ ...r, program: compile(`userValidationRules[${i}].expression`, r.expression, 'user', 'bool') })),
  };
  return problems.length > 0 ? { problems } : { compiled, problems };
}

/** Compile a spec that was validated already (config loading did); throws if it was not. */
export function compileValidatedSpec(spec: JwtAuthenticatorSpec): CompiledJwtSpec {
  const { compiled, problems } = compileSpec(spec);
  if (!compiled) throw new Error(`invalid authenticator for ${spec.issuer.url}: ${problems.map((p) => `${p.path}: ${p.message}`).join('; ')}`);
  return compiled;
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
