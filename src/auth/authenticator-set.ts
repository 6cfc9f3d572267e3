/**
 * One immutable generation of JWT authenticators: the token's unverified `iss` selects one by exact
 * string, and that one verifies everything. A configuration reload builds a new set (reusing the
 * authenticators whose spec did not change, so their keys stay loaded) and swaps it in with one
 * assignment: a request sees either the old set or the new one, never a mix.
 */
import { type IssuerStatus, JwtAuthenticator, type JwtAuthenticatorOptions } from './jwt-authenticator.js';
import type { JwtAuthenticatorSpec } from './jwt-authenticator-spec.js';
import { type DecodedToken, unverifiedIssuer } from './token-claims.js';

export class AuthenticatorSet {
  private readonly byIssuer: ReadonlyMap<string, JwtAuthenticator>;

  private constructor(
    readonly hash: string,
    readonly authenticators: readonly JwtAuthenticator[],
  ) {
    this.byIssuer = new Map(authenticators.map((a) => [a.issuer, a]));
  }

  /** Build a set; authenticators of `previous` with an identical spec are reused (already discovered). */
  static build(specs: readonly JwtAuthenticatorSpec[], hash: string, options: JwtAuthenticatorOptions, previous?: AuthenticatorSet): { set: AuthenticatorSet; created: JwtAuthenticator[] } {
    const reusable = new Map((previous?.authenticators ?? []).map((a) => [JSON.stringify(a.spec), a]));
    const created: JwtAuthenticator[] = [];
    const authenticators = specs.map((spec) => {
      const existing = reusable.get(JSON.stringify(spec));
      if (existing) return existing;
      const fresh = new JwtAuthenticator(spec, options);
      created.push(fresh);
      return fresh;
    });
    return { set: new AuthenticatorSet(hash, authenticators), created };
  }

  /** Authenticators of this set that `next` no longer uses (to stop after a swap). */
  retiredBy(next: AuthenticatorSet): JwtAuthenticator[] {
    return this.authenticators.filter((a) => !next.authenticators.includes(a));
  }

  select(decoded: DecodedToken): JwtAuthenticator | undefined {
    const issuer = unverifiedIssuer(decoded);
    return issuer !== undefined ? this.byIssuer.get(issuer) : undefined;
  }

  status(): IssuerStatus[] {
    return this.authenticators.map((a) => a.status());
  }
}

/** Why a token that no authenticator was selected for is refused (401; the issuer shown is bounded). */
export function unknownIssuerMessage(decoded: DecodedToken): string {
  return `token issuer ${JSON.stringify(decoded.claims.iss ?? null).slice(0, 200)} is not a configured issuer`;
}
