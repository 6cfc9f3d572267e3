import { describe, expect, it } from '@jest/globals';
import type { UserInfo } from '../../../src/auth/user-info.js';
import type { ImpersonationCheck } from '../../../src/impersonation/impersonation-request.js';
import { DEFAULT_SAR_CACHE_OPTIONS, SarCache, sarKey } from '../../../src/impersonation/sar-cache.js';

const jane: UserInfo = { username: 'jane', uid: 'u-1', groups: ['dev', 'ops'], extra: { scopes: ['a', 'b'] } };
const alice: ImpersonationCheck = { resource: 'users', group: '', name: 'alice', describe: "user 'alice'" };

describe('sarKey', () => {
  it('ignores the order of groups and extras', () => {
    const reordered: UserInfo = { username: 'jane', uid: 'u-1', groups: ['ops', 'dev'], extra: { scopes: ['b', 'a'] } };
    expect(sarKey(reordered, alice)).toBe(sarKey(jane, alice));
  });

  it.each<[string, UserInfo, ImpersonationCheck]>([
    ['another username', { ...jane, username: 'joe' }, alice],
    ['another uid', { ...jane, uid: 'u-2' }, alice],
    ['no uid', { username: 'jane', groups: jane.groups, extra: jane.extra }, alice],
    ['another group', { ...jane, groups: ['dev', 'admins'] }, alice],
    ['another extra value', { ...jane, extra: { scopes: ['a', 'c'] } }, alice],
    ['another target name', jane, { ...alice, name: 'bob' }],
    ['another resource', jane, { ...alice, resource: 'groups' }],
    ['another namespace', jane, { resource: 'serviceaccounts', group: '', name: 'alice', namespace: 'ci', describe: '' }],
    ['another subresource', jane, { resource: 'userextras', group: 'authentication.k8s.io', subresource: 'k', name: 'alice', describe: '' }],
  ])('differs for %s', (_case, requester, check) => {
    expect(sarKey(requester, check)).not.toBe(sarKey(jane, alice));
  });

  it('cannot be confused by separators inside names', () => {
    const a = sarKey({ username: 'a","b', groups: [], extra: {} }, alice);
    const b = sarKey({ username: 'a', groups: ['b'], extra: {} }, alice);
    expect(a).not.toBe(b);
  });
});

describe('SarCache', () => {
  it('uses the documented defaults: allow 5 minutes, deny 30 seconds, about 10k entries', () => {
    expect(DEFAULT_SAR_CACHE_OPTIONS).toEqual({ maxEntries: 10_000, allowTtlMs: 300_000, denyTtlMs: 30_000 });
  });

  it('keeps an allow for its TTL and a denial for the shorter one', () => {
    let now = 1_000_000;
    const sut = new SarCache({ maxEntries: 10, allowTtlMs: 300_000, denyTtlMs: 30_000, now: () => now });
    sut.set('allow', { allowed: true });
    sut.set('deny', { allowed: false, reason: 'no' });
    now += 29_999;
    expect(sut.get('deny')).toEqual({ allowed: false, reason: 'no' });
    now += 1;
    expect(sut.get('deny')).toBeUndefined();
    now += 269_999;
    expect(sut.get('allow')).toEqual({ allowed: true });
    now += 1;
    expect(sut.get('allow')).toBeUndefined();
    expect(sut.size).toBe(0);
  });

  it('evicts the least recently used entry when full', () => {
    const sut = new SarCache({ maxEntries: 2, allowTtlMs: 60_000, denyTtlMs: 60_000 });
    sut.set('a', { allowed: true });
    sut.set('b', { allowed: true });
    sut.get('a');
    sut.set('c', { allowed: false });
    expect(sut.size).toBe(2);
    expect(sut.get('b')).toBeUndefined();
    expect(sut.get('a')).toEqual({ allowed: true });
    expect(sut.get('c')).toEqual({ allowed: false });
  });

  it('replacing an entry restarts its TTL with the new decision', () => {
    let now = 0;
    const sut = new SarCache({ maxEntries: 10, allowTtlMs: 100, denyTtlMs: 10, now: () => now });
    sut.set('k', { allowed: false });
    sut.set('k', { allowed: true });
    now += 50;
    expect(sut.get('k')).toEqual({ allowed: true });
    expect(sut.size).toBe(1);
  });
});
