/**
 * SubjectAccessReview decisions, so a busy `kubectl --as` session costs no extra round trips. Cached
 * asymmetrically like kube-rbac-proxy and kube-apiserver's webhook authorizer: an allow for 5 minutes, a
 * denial for 30 seconds (a freshly granted RoleBinding takes effect quickly). Bounded: the least recently
 * used entry goes first. Errors are never cached: they are neither an allow nor a deny.
 */
import type { UserInfo } from '../auth/user-info.js';
import { BoundedTtlMap } from '../common/bounded-ttl-map.js';
import type { ImpersonationCheck } from './impersonation-request.js';

export interface SarDecision {
  readonly allowed: boolean;
  readonly reason?: string;
}

export interface SarCacheOptions {
  readonly maxEntries: number;
  readonly allowTtlMs: number;
  readonly denyTtlMs: number;
  readonly now?: () => number;
}

export const DEFAULT_SAR_CACHE_OPTIONS: SarCacheOptions = { maxEntries: 10_000, allowTtlMs: 5 * 60_000, denyTtlMs: 30_000 };

/**
 * The whole question the API server answers: who asks (username, uid, groups in any order, extras) and
 * what is asked. JSON of arrays keeps every field unambiguous, whatever characters names contain.
 */
export function sarKey(requester: UserInfo, check: ImpersonationCheck): string {
  const extra = Object.keys(requester.extra)
    .sort()
    .map((k) => [k, [...(requester.extra[k] ?? [])].sort()]);
  return JSON.stringify([
    requester.username,
    requester.uid ?? '',
    [...requester.groups].sort(),
    extra,
    check.resource,
    check.group,
    check.namespace ?? '',
    check.subresource ?? '',
    check.name,
  ]);
}

export class SarCache {
  private readonly entries: BoundedTtlMap<SarDecision>;

  constructor(private readonly opts: SarCacheOptions = DEFAULT_SAR_CACHE_OPTIONS) {
    this.entries = new BoundedTtlMap(opts.maxEntries, opts.now ?? Date.now);
  }

  get size(): number {
    return this.entries.size;
  }

  /** The cached decision, or undefined. */
  get(key: string): SarDecision | undefined {
    return this.entries.get(key);
  }

  set(key: string, decision: SarDecision): void {
    const ttl = decision.allowed ? this.opts.allowTtlMs : this.opts.denyTtlMs;
    this.entries.set(key, decision, (this.opts.now ?? Date.now)() + ttl);
  }
}
