/**
 * The issuer's signing keys. Refreshed periodically, and on an unknown `kid` with a per-issuer cooldown:
 * a rotated key is accepted within seconds, while a flood of tokens with bogus `kid`s costs the identity
 * provider at most one JWKS request per cooldown (go-oidc v2 had no rate limit, kubernetes#139769 the
 * opposite problem). Concurrent refreshes are collapsed into one. A bad or oversized JWKS is refused and
 * the previous keys stay in force.
 */
import { compactVerify, createLocalJWKSet, errors as joseErrors, type CompactVerifyResult, type JSONWebKeySet, type JWTVerifyGetKey } from 'jose';
import { fetchJson, type FetchOptions } from './https-json.js';
import { TokenError } from './token-claims.js';

/** A concrete verification key (what jose's key resolver yields). */
type VerifyKey = Exclude<Parameters<typeof compactVerify>[1], (...args: never[]) => unknown>;

/**
 * How one authenticator talks to an issuer: the bounded GET's CA and limits, plus the key set's refresh
 * cooldown and clock. One value serves its discovery, its key set, its distributed-claim endpoints and the
 * foreign issuers those name.
 */
export interface RemoteFetchOptions extends Omit<FetchOptions, 'headers'> {
  /** Minimum time between two refreshes triggered by unknown kids. */
  readonly cooldownMs: number;
  /** The clock (tests set it); Date.now otherwise. */
  readonly now?: () => number;
}

function validateJwks(body: unknown): JSONWebKeySet {
  const keys = (body as { keys?: unknown })?.keys;
  if (!Array.isArray(keys)) throw new Error('JWKS has no "keys" array');
  const usable = keys.filter((k): k is JSONWebKeySet['keys'][number] => typeof k === 'object' && k !== null && typeof (k as { kty?: unknown }).kty === 'string');
  if (usable.length === 0) throw new Error('JWKS contains no usable keys');
  return { keys: usable };
}

export class RemoteKeySet {
  private getKey?: JWTVerifyGetKey;
  private kids = new Set<string>();
  private keyCount = 0;
  /** Only refreshes caused by unknown kids are spaced out; a scheduled refresh must not delay a rotation. */
  private lastKidRefreshAt = Number.NEGATIVE_INFINITY;
  private inflight?: Promise<void>;
  /** How many JWKS documents were fetched (for tests and metrics). */
  fetches = 0;

  constructor(
    private readonly jwksUri: string,
    private readonly opts: RemoteFetchOptions,
  ) {}

  /**
   * OIDC discovery for an issuer, then its first JWKS fetch. The document must name exactly this issuer
   * and an https `jwks_uri`; anything else is an error (go-oidc's rules). Without a `discoveryURL` (absent
   * or empty, as in kube-apiserver) the document is `<issuer>/.well-known/openid-configuration`.
   */
  static async discover(issuer: string, o: RemoteFetchOptions, discoveryURL?: string): Promise<RemoteKeySet> {
    const url = discoveryURL || `${issuer.replace(/\/$/, '')}/.well-known/openid-configuration`;
    const { body } = await fetchJson(url, o);
    const doc = body as { issuer?: unknown; jwks_uri?: unknown };
    if (doc.issuer !== issuer) {
      throw new Error(`oidc: issuer did not match the issuer returned by provider, expected "${issuer}" got "${String(doc.issuer)}"`);
    }
    if (typeof doc.jwks_uri !== 'string' || !doc.jwks_uri.startsWith('https://')) throw new Error('oidc: discovery document has no https jwks_uri');
    const keySet = new RemoteKeySet(doc.jwks_uri, o);
    await keySet.refresh();
    return keySet;
  }

  private now(): number {
    return (this.opts.now ?? Date.now)();
  }

  get loaded(): boolean {
    return this.getKey !== undefined;
  }

  get size(): number {
    return this.keyCount;
  }

  has(kid: string): boolean {
    return this.kids.has(kid);
  }

  /** Fetch now (collapsed with any refresh in flight). Throws when the document is unusable; old keys stay. */
  refresh(): Promise<void> {
    this.inflight ??= (async () => {
      try {
        this.fetches += 1;
        const { body } = await fetchJson(this.jwksUri, this.opts);
        const jwks = validateJwks(body);
        this.getKey = createLocalJWKSet(jwks);
        this.kids = new Set(jwks.keys.map((k) => k.kid).filter((kid): kid is string => typeof kid === 'string'));
        this.keyCount = jwks.keys.length;
      } finally {
        this.inflight = undefined;
      }
    })();
    return this.inflight;
  }

  /** Refresh for an unknown kid, unless one happened within the cooldown. Returns whether it refreshed. */
  async refreshForUnknownKid(): Promise<boolean> {
    if (this.inflight) {
      await this.inflight.catch(() => undefined);
      return true;
    }
    if (this.now() - this.lastKidRefreshAt < this.opts.cooldownMs) return false;
    this.lastKidRefreshAt = this.now();
    await this.refresh().catch(() => undefined);
    return true;
  }

  /**
   * Verify a compact JWS against these keys (refetching once, within the cooldown, for an unknown `kid`).
   * Errors read like go-oidc's `failed to verify signature: …`; the caller adds its context.
   */
  async verify(token: string, kid: unknown, algorithms: string[]): Promise<CompactVerifyResult> {
    if (typeof kid === 'string' && !this.has(kid)) await this.refreshForUnknownKid();
    const resolver = this.getKey;
    if (!resolver) throw new TokenError('failed to verify signature: no signing keys loaded');
    try {
      return await compactVerify(token, resolver, { algorithms });
    } catch (err) {
      // A token without `kid` may match several keys: try each (vector 36).
      if (err instanceof joseErrors.JWKSMultipleMatchingKeys) {
        for await (const key of err as unknown as AsyncIterable<VerifyKey>) {
          try {
            return await compactVerify(token, key, { algorithms });
          } catch {
            // next key
          }
        }
        throw new TokenError('failed to verify signature: failed to verify id token signature');
      }
      if (err instanceof joseErrors.JWKSNoMatchingKey) throw new TokenError('failed to verify signature: no keys matches jwk keyid');
      throw new TokenError(`failed to verify signature: ${(err as Error).message}`);
    }
  }
}
