/**
 * One cached value with a TTL, refreshed on demand:
 * - single-flight: however many callers arrive while it is expired, one load runs and all share its result;
 * - stale-on-error: if the load fails and a good copy exists, callers get the old copy (marked stale) and
 *   the failure is reported once per failed load, not once per caller;
 * - nothing is cached unless the loader returned it (the loader validates; a throw never replaces a copy).
 */

export interface CacheRead<T> {
  readonly value: T;
  /** 'hit' from cache, 'loaded' by this or a shared load, 'stale' the last good copy after a failed load. */
  readonly source: 'hit' | 'loaded' | 'stale';
}

export interface RefreshingCacheOptions<T> {
  /** Loads a fresh value; receives the current copy (expired or not) so it can keep unchanged metadata. */
  readonly load: (previous: T | undefined) => Promise<T>;
  readonly ttlMs: number;
  /** Called once per failed load; `stale` says whether an old copy is being served instead. */
  readonly onLoadFailed?: (error: Error, stale: T | undefined) => void;
  readonly now?: () => number;
}

type LoadOutcome<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly error: Error };

export class RefreshingCache<T> {
  private entry?: { readonly value: T; readonly loadedAt: number };
  private inflight?: Promise<LoadOutcome<T>>;
  private readonly now: () => number;

  constructor(private readonly options: RefreshingCacheOptions<T>) {
    this.now = options.now ?? Date.now;
  }

  /** The last good copy, however old, without loading. */
  peek(): T | undefined {
    return this.entry?.value;
  }

  isFresh(): boolean {
    return this.entry !== undefined && this.now() - this.entry.loadedAt < this.options.ttlMs;
  }

  /** A fresh copy, a stale one if the load fails and one exists; otherwise throws the load's error. */
  async get(): Promise<CacheRead<T>> {
    if (this.entry && this.isFresh()) return { value: this.entry.value, source: 'hit' };
    const outcome = await this.load();
    if (outcome.ok) return { value: outcome.value, source: 'loaded' };
    if (this.entry) return { value: this.entry.value, source: 'stale' };
    throw outcome.error;
  }

  /** Loads now (joining a load already running); never throws. */
  load(): Promise<LoadOutcome<T>> {
    this.inflight ??= this.runLoad().finally(() => {
      this.inflight = undefined;
    });
    return this.inflight;
  }

  private async runLoad(): Promise<LoadOutcome<T>> {
    try {
      const value = await this.options.load(this.entry?.value);
      this.entry = { value, loadedAt: this.now() };
      return { ok: true, value };
    } catch (err) {
      const error = err instanceof Error ? err : new Error(String(err));
      this.options.onLoadFailed?.(error, this.entry?.value);
      return { ok: false, error };
    }
  }
}
