import { describe, expect, it } from '@jest/globals';
import { RefreshingCache } from '../../../src/discovery/refreshing-cache.js';

/** A cache over a scripted loader and a hand-driven clock. */
function setup(ttlMs = 1000) {
  let clock = 0;
  const results: Array<() => Promise<string>> = [];
  const failures: Array<{ message: string; stale: string | undefined }> = [];
  const previousSeen: Array<string | undefined> = [];
  let loads = 0;
  const sut = new RefreshingCache<string>({
    ttlMs,
    now: () => clock,
    load: (previous) => {
      loads++;
      previousSeen.push(previous);
      const next = results.shift();
      return next ? next() : Promise.reject(new Error('no scripted result'));
    },
    onLoadFailed: (error, stale) => failures.push({ message: error.message, stale }),
  });
  return {
    sut,
    failures,
    previousSeen,
    loads: () => loads,
    advance: (ms: number) => (clock += ms),
    next: (fn: () => Promise<string>) => results.push(fn),
  };
}

describe('RefreshingCache', () => {
  it('loads on a miss, then answers from the cache until the TTL passes', async () => {
    const t = setup(1000);
    t.next(async () => 'v1');
    expect(await t.sut.get()).toEqual({ value: 'v1', source: 'loaded' });
    t.advance(999);
    expect(await t.sut.get()).toEqual({ value: 'v1', source: 'hit' });
    expect(t.loads()).toBe(1);
  });

  it('loads again once the TTL has passed, handing the loader the old copy', async () => {
    const t = setup(1000);
    t.next(async () => 'v1');
    t.next(async () => 'v2');
    await t.sut.get();
    t.advance(1000);
    expect(await t.sut.get()).toEqual({ value: 'v2', source: 'loaded' });
    expect(t.previousSeen).toEqual([undefined, 'v1']);
  });

  it('runs one load for many concurrent callers (single-flight)', async () => {
    const t = setup();
    let release!: (v: string) => void;
    t.next(() => new Promise<string>((resolve) => (release = resolve)));
    const reads = Array.from({ length: 20 }, () => t.sut.get());
    await Promise.resolve();
    release('v1');
    const values = await Promise.all(reads);
    expect(values.every((r) => r.value === 'v1' && r.source === 'loaded')).toBe(true);
    expect(t.loads()).toBe(1);
  });

  it('serves the last good copy as stale when a refresh fails, reporting the failure once', async () => {
    const t = setup(1000);
    t.next(async () => 'v1');
    t.next(async () => Promise.reject(new Error('apiserver down')));
    await t.sut.get();
    t.advance(5000);
    const reads = await Promise.all([t.sut.get(), t.sut.get(), t.sut.get()]);
    expect(reads).toEqual([0, 1, 2].map(() => ({ value: 'v1', source: 'stale' })));
    expect(t.failures).toEqual([{ message: 'apiserver down', stale: 'v1' }]);
    expect(t.loads()).toBe(2);
  });

  it('tries the upstream again on the next read after a failed refresh, and recovers', async () => {
    const t = setup(1000);
    t.next(async () => 'v1');
    t.next(async () => Promise.reject(new Error('down')));
    t.next(async () => 'v2');
    await t.sut.get();
    t.advance(1000);
    expect((await t.sut.get()).source).toBe('stale');
    expect(await t.sut.get()).toEqual({ value: 'v2', source: 'loaded' });
  });

  it('throws the load error when there is no copy at all', async () => {
    const t = setup();
    t.next(async () => Promise.reject(new Error('over the 1048576-byte limit')));
    await expect(t.sut.get()).rejects.toThrow('over the 1048576-byte limit');
    expect(t.failures).toEqual([{ message: 'over the 1048576-byte limit', stale: undefined }]);
    expect(t.sut.peek()).toBeUndefined();
  });

  it('keeps the good copy when the loader refuses an invalid document', async () => {
    const t = setup(1000);
    t.next(async () => 'good');
    t.next(async () => Promise.reject(new Error('the body is not JSON')));
    await t.sut.get();
    t.advance(1000);
    await t.sut.get();
    expect(t.sut.peek()).toBe('good');
    expect(t.sut.isFresh()).toBe(false);
  });

  it('with a TTL of zero, loads on every read', async () => {
    const t = setup(0);
    t.next(async () => 'a');
    t.next(async () => 'b');
    expect((await t.sut.get()).value).toBe('a');
    expect((await t.sut.get()).value).toBe('b');
  });
});
