import { describe, expect, it } from '@jest/globals';
import { TokenCache, tokenKey } from '../../../src/auth/token-cache.js';

const user = (name: string) => ({ username: name, groups: [], extra: {} });

describe('TokenCache', () => {
  it('never keys entries by the token itself', () => {
    expect(tokenKey('secret.token.value')).not.toContain('secret');
  });

  it('serves a hit until the TTL, and never past the token exp', () => {
    let now = 1_000_000;
    const sut = new TokenCache({ maxEntries: 10, ttlMs: 10_000, now: () => now });
    sut.set('a', user('a'), now + 60_000);
    sut.set('b', user('b'), now + 2_000);
    now += 1_999;
    expect(sut.get('a')?.username).toBe('a');
    expect(sut.get('b')?.username).toBe('b');
    now += 1;
    expect(sut.get('b')).toBeUndefined();
    now += 8_000;
    expect(sut.get('a')).toBeUndefined();
  });

  it('evicts the least recently used entry when full', () => {
    const sut = new TokenCache({ maxEntries: 2, ttlMs: 10_000 });
    sut.set('a', user('a'), Date.now() + 60_000);
    sut.set('b', user('b'), Date.now() + 60_000);
    sut.get('a');
    sut.set('c', user('c'), Date.now() + 60_000);
    expect(sut.get('b')).toBeUndefined();
    expect(sut.get('a')?.username).toBe('a');
    expect(sut.size).toBe(2);
  });

  it('collapses concurrent verifications of one token and does not cache failures', async () => {
    const sut = new TokenCache({ maxEntries: 10, ttlMs: 10_000 });
    let calls = 0;
    const verify = async () => {
      calls += 1;
      await new Promise((r) => setTimeout(r, 20));
      return { user: user('j'), expMs: Date.now() + 60_000 };
    };
    const results = await Promise.all([sut.getOrVerify(tokenKey('t'), verify), sut.getOrVerify(tokenKey('t'), verify), sut.getOrVerify(tokenKey('t'), verify)]);
    expect(results.map((u) => u.username)).toEqual(['j', 'j', 'j']);
    expect(calls).toBe(1);
    await expect(sut.getOrVerify(tokenKey('bad'), async () => Promise.reject(new Error('nope')))).rejects.toThrow('nope');
    let retried = false;
    await sut.getOrVerify(tokenKey('bad'), async () => {
      retried = true;
      return { user: user('x'), expMs: Date.now() + 60_000 };
    });
    expect(retried).toBe(true);
  });
});
