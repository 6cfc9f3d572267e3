/**
 * kube-apiserver's max-in-flight filter (k8s.io/apiserver/pkg/server/filters/maxinflight.go), in front of
 * the API server it protects: two global pools, one for read-only requests (get, list, watch verbs) and one
 * for everything else, each with a fixed number of slots. A request that finds its pool full is answered
 * 429 at once, so one runaway client cannot queue unbounded work in the proxy or push it onto the API
 * server. Long-running requests (watch, proxy, exec, attach, log, port-forward) are never counted, exactly
 * as in the API server, because they would hold a slot for hours. A limit of 0 means unlimited.
 *
 * Global rather than per user: the proxy fronts one API server whose own limits are global, and counting
 * before authentication means a flood of bad tokens cannot burn the issuer's or the CPU's budget either.
 */
import type { RequestInfo } from './request-info.js';

export type InflightPool = 'readOnly' | 'mutating';

/** kube-apiserver's nonMutatingRequestVerbs; a non-resource request's verb is its lower-cased method. */
const READ_ONLY_VERBS = new Set(['get', 'list', 'watch']);

export function inflightPool(info: Pick<RequestInfo, 'verb'>): InflightPool {
  return READ_ONLY_VERBS.has(info.verb) ? 'readOnly' : 'mutating';
}

export type InflightDecision =
  | { readonly admitted: true; readonly pool?: InflightPool; readonly release: () => void }
  | { readonly admitted: false; readonly pool: InflightPool };

export class InflightLimiter {
  private readonly inUse: Record<InflightPool, number> = { readOnly: 0, mutating: 0 };
  private readonly limits: Record<InflightPool, number>;

  constructor(maxReadOnly: number, maxMutating: number) {
    this.limits = { readOnly: maxReadOnly, mutating: maxMutating };
  }

  /** Take a slot for this request; `release` is idempotent, so every close path may call it. */
  acquire(info: Pick<RequestInfo, 'verb' | 'longRunning'>): InflightDecision {
    if (info.longRunning) return { admitted: true, release: () => undefined };
    const pool = inflightPool(info);
    const limit = this.limits[pool];
    if (limit === 0) return { admitted: true, pool, release: () => undefined };
    if (this.inUse[pool] >= limit) return { admitted: false, pool };
    this.inUse[pool] += 1;
    let released = false;
    return {
      admitted: true,
      pool,
      release: () => {
        if (released) return;
        released = true;
        this.inUse[pool] -= 1;
      },
    };
  }

  inFlight(pool: InflightPool): number {
    return this.inUse[pool];
  }
}
