/**
 * Distributed claims (OpenID Connect Core 1.0 §5.6.2) as kube-apiserver resolves them (vectors 67–79):
 * only for a groups mapping by claim, only when the token has no such claim of its own, by a GET of the
 * source's `endpoint` with `Authorization: Bearer <access_token>`. The answer is a JWT that must verify
 * like an ID token (its issuer's keys, the authenticator's audiences, exp/nbf, allowed algorithms), and
 * its value of the claim is used as if the ID token had carried it. Aggregated sources (an inline `JWT`)
 * are ignored, as the API server ignores them. Results are not cached here: the verified-token cache in
 * front of the authenticator already means one fetch per token, not per request.
 *
 * Stricter than the API server, on purpose: the endpoint and a foreign issuer must be https (the access
 * token is a bearer credential), redirects are not followed, the answer is capped at 1 MiB, and at most
 * MAX_FOREIGN_ISSUERS issuers other than the authenticator's own are discovered.
 */
import { fetchText } from './https-json.js';
import { type RemoteFetchOptions, RemoteKeySet } from './remote-key-set.js';
import { algorithmProblem, type DecodedToken, decodeCompact, standardClaimProblems, TokenError } from './token-claims.js';

export const MAX_FOREIGN_ISSUERS = 8;
/** How long a failed discovery of a foreign issuer is remembered before the next token tries again. */
export const FOREIGN_RETRY_MS = 10_000;

export interface DistributedClaimOptions {
  /** The claim to resolve (the groups mapping's `claim`). */
  readonly claim: string;
  readonly issuer: string;
  readonly audiences: readonly string[];
  readonly signingAlgs: readonly string[];
  /** The authenticator's own keys, used when the answer is signed by the same issuer. */
  readonly ownKeys: () => RemoteKeySet | undefined;
  /** The authenticator's own; endpoints and foreign issuers are reached with the same CA and limits. */
  readonly fetch: RemoteFetchOptions;
}

interface ForeignIssuer {
  readonly keys: Promise<RemoteKeySet>;
  failedAt?: number;
}

function fail(message: string): never {
  throw new TokenError(`oidc: could not expand distributed claims: ${message}`);
}

/** go-oidc's messages without its `oidc: verify token: ` wrapper (the distributed token has its own). */
const unwrap = (message: string): string => message.replace(/^oidc: verify token: /, '');

export class DistributedClaimResolver {
  private readonly foreign = new Map<string, ForeignIssuer>();
  private endpointFetches = 0;

  constructor(private readonly o: DistributedClaimOptions) {}

  private now(): number {
    return (this.o.fetch.now ?? Date.now)();
  }

  /** Endpoint GETs made so far. */
  get fetches(): number {
    return this.endpointFetches;
  }

  /**
   * The claims with the distributed claim filled in, or the same object when there is nothing to resolve.
   * The `_claim_names`/`_claim_sources` shapes were checked with the standard claims already.
   */
  async expand(claims: Record<string, unknown>): Promise<Record<string, unknown>> {
    const { claim } = this.o;
    if (claims[claim] !== undefined) return claims; // a normal claim wins, nothing is fetched (vector 75)
    const names = claims._claim_names as Record<string, string> | undefined;
    const sourceName = names?.[claim];
    if (sourceName === undefined) return claims;
    const source = (claims._claim_sources as Record<string, { endpoint?: string; access_token?: string }> | undefined)?.[sourceName];
    if (!source) fail(`id token _claim_names contained a source ${sourceName} missing in _claims_sources`);
    if (!source.endpoint) return claims; // an aggregated claim (inline JWT): ignored (vector 77)
    const jwt = await this.fetchClaimJwt(source.endpoint, source.access_token);
    const decoded = decodeCompact(jwt);
    const iss = decoded && typeof decoded.claims.iss === 'string' ? decoded.claims.iss : undefined;
    if (!decoded || iss === undefined) fail(`getting untrusted issuer from endpoint ${source.endpoint} failed for claim "${claim}": not a JWT with an "iss" claim`);
    const keys = await this.keysFor(iss);
    await this.verifyClaimJwt(jwt, decoded, iss, keys);
    const value = decoded.claims[claim];
    if (value === undefined) fail(`jwt returned by distributed claim endpoint "${source.endpoint}" did not contain claim: ${claim}`);
    return { ...claims, [claim]: value };
  }

  private async fetchClaimJwt(endpoint: string, accessToken: string | undefined): Promise<string> {
    const context = `while getting distributed claim "${this.o.claim}"`;
    let url: URL;
    try {
      url = new URL(endpoint);
    } catch {
      fail(`${context}: parse "${endpoint}": invalid URL`);
    }
    if (url.protocol !== 'https:') fail(`${context}: endpoint "${endpoint}" must use https`);
    this.endpointFetches += 1;
    let res;
    try {
      res = await fetchText(url.href, { ...this.o.fetch, headers: { accept: 'application/jwt, */*', ...(accessToken ? { authorization: `Bearer ${accessToken}` } : {}) } });
    } catch (err) {
      fail(`${context}: Get "${endpoint}": ${(err as Error).message}`);
    }
    if (res.statusCode < 200 || res.statusCode > 299) fail(`${context}: error while getting distributed claim JWT: ${res.status}`);
    return res.body.trim();
  }

  /** The keys of the answer's issuer: the authenticator's own, or a foreign issuer discovered on first use. */
  private async keysFor(iss: string): Promise<RemoteKeySet> {
    if (iss === this.o.issuer) {
      const own = this.o.ownKeys();
      if (!own) fail(`verifying untrusted issuer ${iss} failed: verifier not initialized for issuer: "${iss}"`);
      return own;
    }
    // Failed discoveries are forgotten after the retry interval, so they neither block a retry of the
    // same issuer nor hold one of the MAX_FOREIGN_ISSUERS slots for good.
    const now = this.now();
    for (const [known, { failedAt }] of this.foreign) {
      if (failedAt !== undefined && now - failedAt >= FOREIGN_RETRY_MS) this.foreign.delete(known);
    }
    let entry = this.foreign.get(iss);
    if (!entry) {
      if (!iss.startsWith('https://')) fail(`verifying untrusted issuer ${iss} failed: issuer URL scheme must be https`);
      if (this.foreign.size >= MAX_FOREIGN_ISSUERS) fail(`verifying untrusted issuer ${iss} failed: more than ${MAX_FOREIGN_ISSUERS} distributed claim issuers`);
      const created: ForeignIssuer = {
        keys: RemoteKeySet.discover(iss, this.o.fetch),
      };
      created.keys.catch(() => {
        created.failedAt = this.now();
      });
      this.foreign.set(iss, created);
      entry = created;
    }
    try {
      return await entry.keys;
    } catch (err) {
      return fail(`verifying untrusted issuer ${iss} failed: verifier not initialized for issuer: "${iss}": ${(err as Error).message}`);
    }
  }

  private async verifyClaimJwt(jwt: string, decoded: DecodedToken, iss: string, keys: RemoteKeySet): Promise<void> {
    const [problem] = standardClaimProblems(decoded, { issuer: { url: iss, audiences: this.o.audiences } }, this.now());
    if (problem !== undefined) fail(`verify distributed claim token: ${unwrap(problem)}`);
    const algProblem = algorithmProblem(decoded.header.alg, this.o.signingAlgs);
    if (algProblem !== undefined) fail(`verify distributed claim token: ${algProblem}`);
    try {
      await keys.verify(jwt, decoded.header.kid, [decoded.header.alg as string]);
    } catch (err) {
      fail(`verify distributed claim token: ${(err as Error).message}`);
    }
  }
}
