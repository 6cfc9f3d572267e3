/**
 * TokenReview answers, so a passthrough client does not cost one API round trip per request (jetstack sent
 * one TokenReview per request: [J] PR#203, [T]#51/#65). Short and asymmetric like kube-apiserver's webhook
 * token authenticator cache: an accepted token for 10 s (never beyond a JWT's own `exp`), a refused one for
 * 5 s. Keyed by SHA-256 of the token and the audiences (the raw token is never a key), bounded (least
 * recently used first). Errors are never cached: they are neither an accept nor a refusal.
 */
import { createHash } from 'node:crypto';
import { BoundedTtlMap } from '../common/bounded-ttl-map.js';
import type { UserInfo } from './user-info.js';

export type TokenReviewResult = { readonly authenticated: true; readonly user: UserInfo } | { readonly authenticated: false; readonly reason: string };

export interface TokenReviewCacheOptions {
  readonly maxEntries: number;
  readonly successTtlMs: number;
  readonly failureTtlMs: number;
  readonly now?: () => number;
}

export const DEFAULT_TOKEN_REVIEW_CACHE_OPTIONS: TokenReviewCacheOptions = { maxEntries: 10_000, successTtlMs: 10_000, failureTtlMs: 5_000 };

/** SHA-256 over the token and the audiences, length-prefixed so no two inputs collide by concatenation. */
export function tokenReviewKey(token: string, audiences: readonly string[]): string {
  const hash = createHash('sha256');
  for (const part of [token, ...audiences]) hash.update(`${Buffer.byteLength(part)}:${part};`);
  return hash.digest('base64url');
}

export class TokenReviewCache {
  private readonly entries: BoundedTtlMap<TokenReviewResult>;
  private readonly now: () => number;

  constructor(private readonly opts: TokenReviewCacheOptions = DEFAULT_TOKEN_REVIEW_CACHE_OPTIONS) {
    this.now = opts.now ?? Date.now;
    this.entries = new BoundedTtlMap(opts.maxEntries, this.now);
  }

  get size(): number {
    return this.entries.size;
  }

  /** The cached answer, or undefined. A hit moves the entry to the most recently used end. */
  get(key: string): TokenReviewResult | undefined {
    return this.entries.get(key);
  }

  /** `tokenExpMs`: the token's own expiry when it is a JWT; an accept is never cached beyond it. */
  set(key: string, result: TokenReviewResult, tokenExpMs?: number): void {
    const ttl = result.authenticated ? this.opts.successTtlMs : this.opts.failureTtlMs;
    let expiresAt = this.now() + ttl;
    if (result.authenticated && tokenExpMs !== undefined && Number.isFinite(tokenExpMs)) expiresAt = Math.min(expiresAt, tokenExpMs);
    this.entries.set(key, result, expiresAt);
  }
}
