/**
 * Verified tokens, so the common path costs no signature check. Keyed by SHA-256 of the token (the token
 * itself is never kept as a key), bounded (least recently used entries go first), and an entry never
 * outlives the token's `exp`. Concurrent verifications of the same token are collapsed into one.
 * Failures are not cached (as kube-apiserver).
 */
import { createHash } from 'node:crypto';
import { BoundedTtlMap } from '../common/bounded-ttl-map.js';
import type { UserInfo } from './user-info.js';

export interface TokenCacheOptions {
  readonly maxEntries: number;
  readonly ttlMs: number;
  readonly now?: () => number;
}

export function tokenKey(token: string): string {
  return createHash('sha256').update(token).digest('base64url');
}

export class TokenCache {
  private readonly entries: BoundedTtlMap<UserInfo>;
  private readonly pending = new Map<string, Promise<{ user: UserInfo; expMs: number }>>();

  constructor(private readonly opts: TokenCacheOptions) {
    this.entries = new BoundedTtlMap(opts.maxEntries, opts.now ?? Date.now);
  }

  get size(): number {
    return this.entries.size;
  }

  /** The cached user, or undefined. */
  get(key: string): UserInfo | undefined {
    return this.entries.get(key);
  }

  /** Cache for the TTL, but never past the token's own expiry. */
  set(key: string, user: UserInfo, tokenExpMs: number): void {
    this.entries.set(key, user, Math.min((this.opts.now ?? Date.now)() + this.opts.ttlMs, tokenExpMs));
  }

  /** Cached user, or run `verify` once for all concurrent callers with the same token (`key`: its tokenKey). */
  async getOrVerify(key: string, verify: () => Promise<{ user: UserInfo; expMs: number }>): Promise<UserInfo> {
    const hit = this.get(key);
    if (hit) return hit;
    let inflight = this.pending.get(key);
    if (!inflight) {
      inflight = verify().finally(() => this.pending.delete(key));
      this.pending.set(key, inflight);
    }
    const { user, expMs } = await inflight;
    this.set(key, user, expMs);
    return user;
  }
}
