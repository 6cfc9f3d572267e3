import { describe, expect, it } from '@jest/globals';
import type { V1TokenReview } from '@kubernetes/client-node';
import { tokenReviewResult } from '../../../src/auth/token-review.service.js';

const review = (status: V1TokenReview['status']): V1TokenReview => ({ spec: { token: 't' }, ...(status ? { status } : {}) });
const user = { username: 'system:serviceaccount:ci:deployer', uid: 'u-1', groups: ['system:serviceaccounts'], extra: { 'authentication.kubernetes.io/pod-name': ['web-1'] } };

describe('tokenReviewResult', () => {
  it('an authenticated answer gives the user exactly as the API server described it', () => {
    expect(tokenReviewResult(review({ authenticated: true, user, audiences: ['api'] }), ['api'])).toEqual({ authenticated: true, user });
  });

  it('without requested audiences, the answer needs none', () => {
    expect(tokenReviewResult(review({ authenticated: true, user: { username: 'bob' } }), [])).toEqual({ authenticated: true, user: { username: 'bob', groups: [], extra: {} } });
  });

  it.each<[string, V1TokenReview['status'], string[]]>([
    ['a refusal', { authenticated: false }, []],
    ['an answer with an error', { authenticated: true, user, error: 'webhook down' }, []],
    ['an answer for none of the requested audiences', { authenticated: true, user, audiences: ['other'] }, ['api']],
    ['an answer without audiences when some were requested', { authenticated: true, user }, ['api']],
    ['an answer without a user name', { authenticated: true, user: { username: '' } }, []],
  ])('%s is not authenticated', (_case, status, audiences) => {
    expect(tokenReviewResult(review(status), audiences).authenticated).toBe(false);
  });

  it('a body without a status is no answer at all (an error, never a cached refusal)', () => {
    expect(() => tokenReviewResult(review(undefined), [])).toThrow('the response is not a TokenReview');
  });
});
