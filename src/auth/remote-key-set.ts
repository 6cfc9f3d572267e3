/**
 * The issuer's signing keys. Refreshed periodically, and on an unknown `kid` with a per-issuer cooldown:
 * a rotated key is accepted within seconds, while a flood of tokens with bogus `kid`s costs the identity
 * provider at most one JWKS request per cooldown (go-oidc v2 had no rate limit, kubernetes#139769 the
 * opposite problem). Concurrent refreshes are collapsed into one. A bad or oversized JWKS is refused and
 * the previous keys stay in force.
 */
import { createLocalJWKSet, type JSONWebKeySet, type JWTVerifyGetKey } from 'jose';
import { fetchJson } from './https-json.js';

export interface KeySetOptions {
  readonly jwksUri: string;
  readonly ca?: string;
  readonly timeoutMs: number;
  readonly maxBytes: number;
  /** Minimum time between two refreshes triggered by unknown kids. */
  readonly cooldownMs: number;
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

  constructor(private readonly opts: KeySetOptions) {}

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
        const { body } = await fetchJson(this.opts.jwksUri, { ...(this.opts.ca ? { ca: this.opts.ca } : {}), timeoutMs: this.opts.timeoutMs, maxBytes: this.opts.maxBytes });
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

  /** The jose key resolver for the current keys (undefined until the first successful fetch). */
  resolver(): JWTVerifyGetKey | undefined {
    return this.getKey;
  }
}
