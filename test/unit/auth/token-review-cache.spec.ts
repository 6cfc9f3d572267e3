import { describe, expect, it } from '@jest/globals';
import { TokenReviewCache, type TokenReviewResult, tokenReviewKey } from '../../../src/auth/token-review-cache.js';

const accepted: TokenReviewResult = { authenticated: true, user: { username: 'system:serviceaccount:ci:deployer', groups: [], extra: {} } };
const refused: TokenReviewResult = { authenticated: false, reason: 'not authenticated' };

function clock(start = 1_000_000) {
  let t = start;
  return { now: () => t, advance: (ms: number) => void (t += ms) };
}

describe('tokenReviewKey', () => {
  it('never contains the token', () => {
    expect(tokenReviewKey('secret-token-value', [])).not.toContain('secret-token-value');
  });

  it.each([
    ['another token', 'tok-2', ['api']],
    ['other audiences', 'tok', ['api', 'x']],
    ['no audiences', 'tok', []],
    ['a token that absorbs an audience', 'tokapi', []],
  ])('differs for %s', (_case, token, audiences) => {
    expect(tokenReviewKey(token, audiences)).not.toBe(tokenReviewKey('tok', ['api']));
  });
});

describe('TokenReviewCache', () => {
  const options = (now: () => number, maxEntries = 10) => ({ maxEntries, successTtlMs: 10_000, failureTtlMs: 5_000, now });

  it('an accepted token is remembered for 10 s', () => {
    const c = clock();
    const sut = new TokenReviewCache(options(c.now));
    sut.set('k', accepted);
    c.advance(9_999);
    expect(sut.get('k')).toBe(accepted);
    c.advance(1);
    expect(sut.get('k')).toBeUndefined();
  });

  it('a refused token is remembered for only 5 s', () => {
    const c = clock();
    const sut = new TokenReviewCache(options(c.now));
    sut.set('k', refused);
    c.advance(4_999);
    expect(sut.get('k')).toBe(refused);
    c.advance(1);
    expect(sut.get('k')).toBeUndefined();
  });

  it("an accepted token is never remembered beyond its own expiry", () => {
    const c = clock();
    const sut = new TokenReviewCache(options(c.now));
    sut.set('k', accepted, c.now() + 2_000);
    c.advance(2_000);
    expect(sut.get('k')).toBeUndefined();
  });

  it('an already expired token is not stored at all', () => {
    const c = clock();
    const sut = new TokenReviewCache(options(c.now));
    sut.set('k', accepted, c.now() - 1);
    expect(sut.size).toBe(0);
  });

  it('the least recently used entry goes first when full', () => {
    const c = clock();
    const sut = new TokenReviewCache(options(c.now, 2));
    sut.set('a', accepted);
    sut.set('b', accepted);
    sut.get('a');
    sut.set('c', accepted);
    expect([sut.get('a'), sut.get('b'), sut.get('c')]).toEqual([accepted, undefined, accepted]);
  });
});
