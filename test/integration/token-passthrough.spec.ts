/**
 * As a client holding a token the OIDC issuer did not mint (a service-account token, say), with
 * --token-passthrough I reach the API server with my own credential, exactly once, once the API server's
 * TokenReview accepts it; anything short of a clear "authenticated" is a 401 that never reaches upstream.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import type { TokenReviewSpec, TokenReviewStatus } from '../fixtures/recording-apiserver.js';
import { bearer, send } from './support/client.js';
import { type Environment, PROXY_SA_TOKEN, startEnvironment } from './support/environment.js';

const PATH = '/api/v1/namespaces/default/pods/web';
const SA_USER = { username: 'system:serviceaccount:ci:deployer', uid: 'sa-uid-1', groups: ['system:serviceaccounts', 'system:serviceaccounts:ci'] };

/** Authenticates exactly the listed tokens as the CI service account. */
function acceptOnly(...tokens: string[]) {
  return (spec: TokenReviewSpec): TokenReviewStatus =>
    tokens.includes(spec.token) ? { authenticated: true, user: SA_USER, audiences: spec.audiences ?? ['https://kubernetes.default.svc'] } : { authenticated: false };
}

describe('with --token-passthrough', () => {
  let env: Environment;
  beforeAll(async () => {
    env = await startEnvironment({ extraArgs: ['--token-passthrough', '--token-passthrough-audiences=api,other'] });
  });
  beforeEach(() => {
    env.upstream.tokenReviewPolicy = () => ({ authenticated: false });
    env.upstream.tokenReviewMode = 'answer';
  });
  afterAll(async () => env?.stop());

  // Each test uses its own token, so a cached answer from one test never answers another.
  const get = (token: string, headers: Record<string, string | string[]> = {}) =>
    send(env.proxy.url, { path: PATH, headers: { ...bearer(token), ...headers }, ca: env.ca.caPem });

  it('an accepted token reaches the API server as the only Authorization, with no impersonation headers', async () => {
    env.upstream.tokenReviewPolicy = acceptOnly('sa-token-accepted');
    const before = env.upstream.requests.length;
    const reviewsBefore = env.upstream.tokenReviews.length;
    const res = await get('sa-token-accepted');
    expect(res.status).toBe(200);
    const [seen] = env.upstream.since(before);
    expect(seen!.header('authorization')).toEqual(['Bearer sa-token-accepted']);
    expect(seen!.rawHeaders.filter((_, i) => i % 2 === 0 && seen!.rawHeaders[i]!.toLowerCase().startsWith('impersonate'))).toEqual([]);
    const [review] = env.upstream.tokenReviews.slice(reviewsBefore);
    expect(review).toEqual({ spec: { token: 'sa-token-accepted', audiences: ['api', 'other'] }, authorization: `Bearer ${PROXY_SA_TOKEN}` });
    await env.proxy.waitForOutput(/AuSuccess .*inbound:\[system:serviceaccount:ci:deployer \/ system:serviceaccounts\|system:serviceaccounts:ci\|system:authenticated \/ /);
  });

  it("the client's own Impersonate-* headers pass through untouched, for the API server to authorize against the token", async () => {
    env.upstream.tokenReviewPolicy = acceptOnly('sa-token-as');
    const before = env.upstream.requests.length;
    const res = await get('sa-token-as', { 'Impersonate-User': 'alice', 'Impersonate-Group': ['admins', 'ops'] });
    expect(res.status).toBe(200);
    const [seen] = env.upstream.since(before);
    expect(seen!.header('impersonate-user')).toEqual(['alice']);
    expect(seen!.header('impersonate-group')).toEqual(['admins', 'ops']);
    expect(seen!.header('authorization')).toEqual(['Bearer sa-token-as']);
    expect(env.upstream.reviews).toEqual([]); // no SubjectAccessReview: not the proxy's decision
  });

  it('a token the TokenReview refuses is a 401 and never reaches the API server', async () => {
    const before = env.upstream.requests.length;
    const res = await get('sa-token-refused');
    expect(res.status).toBe(401);
    expect(res.json()).toMatchObject({ kind: 'Status', code: 401, message: 'Unauthorized' });
    expect(env.upstream.since(before)).toEqual([]);
    await env.proxy.waitForOutput(/AuFail /);
  });

  it('a TokenReview answer with an error is a 401', async () => {
    env.upstream.tokenReviewPolicy = () => ({ authenticated: true, user: SA_USER, audiences: ['api'], error: 'webhook unavailable' });
    const before = env.upstream.requests.length;
    expect((await get('sa-token-status-error')).status).toBe(401);
    expect(env.upstream.since(before)).toEqual([]);
  });

  it('an answer for none of the requested audiences is a 401', async () => {
    env.upstream.tokenReviewPolicy = () => ({ authenticated: true, user: SA_USER, audiences: ['someone-else'] });
    const before = env.upstream.requests.length;
    expect((await get('sa-token-wrong-audience')).status).toBe(401);
    expect(env.upstream.since(before)).toEqual([]);
  });

  it('a TokenReview the API server refuses to answer (403) is a 401, never an admission', async () => {
    env.upstream.tokenReviewPolicy = acceptOnly('sa-token-api-error');
    env.upstream.tokenReviewMode = 'forbidden';
    const before = env.upstream.requests.length;
    const reviewsBefore = env.upstream.tokenReviews.length;
    expect((await get('sa-token-api-error')).status).toBe(401);
    expect(env.upstream.since(before)).toEqual([]);
    // Errors are not cached: once the API server answers, the same token is accepted.
    env.upstream.tokenReviewMode = 'answer';
    expect((await get('sa-token-api-error')).status).toBe(200);
    expect(env.upstream.tokenReviews.length - reviewsBefore).toBe(2);
  });

  it('a second request with the same token is answered from the cache, without a second TokenReview', async () => {
    env.upstream.tokenReviewPolicy = acceptOnly('sa-token-cached');
    const reviewsBefore = env.upstream.tokenReviews.length;
    expect((await get('sa-token-cached')).status).toBe(200);
    expect((await get('sa-token-cached')).status).toBe(200);
    expect(env.upstream.tokenReviews.length - reviewsBefore).toBe(1);
  });

  it('a refusal is cached too, so a client retrying a bad token does not cost a TokenReview each time', async () => {
    const reviewsBefore = env.upstream.tokenReviews.length;
    expect((await get('sa-token-refused-twice')).status).toBe(401);
    expect((await get('sa-token-refused-twice')).status).toBe(401);
    expect(env.upstream.tokenReviews.length - reviewsBefore).toBe(1);
  });

  it('a valid OIDC token is still impersonated as usual, without a TokenReview', async () => {
    const before = env.upstream.requests.length;
    const reviewsBefore = env.upstream.tokenReviews.length;
    const res = await get(await env.token());
    expect(res.status).toBe(200);
    const [seen] = env.upstream.since(before);
    expect(seen!.header('impersonate-user')).toEqual(['jane@example.com']);
    expect(seen!.header('authorization')).toEqual([`Bearer ${PROXY_SA_TOKEN}`]);
    expect(env.upstream.tokenReviews.length).toBe(reviewsBefore);
  });

  it('an OIDC token that fails verification (expired) goes to TokenReview and is refused there', async () => {
    const expired = await env.token({ exp: Math.floor(Date.now() / 1000) - 60 });
    const reviewsBefore = env.upstream.tokenReviews.length;
    expect((await get(expired)).status).toBe(401);
    expect(env.upstream.tokenReviews.slice(reviewsBefore).map((r) => r.spec.token)).toEqual([expired]);
  });

  it('a missing or non-bearer Authorization is a 401 without a TokenReview', async () => {
    const reviewsBefore = env.upstream.tokenReviews.length;
    expect((await send(env.proxy.url, { path: PATH, ca: env.ca.caPem })).status).toBe(401);
    expect((await send(env.proxy.url, { path: PATH, headers: { authorization: 'Basic YTpi' }, ca: env.ca.caPem })).status).toBe(401);
    expect(env.upstream.tokenReviews.length).toBe(reviewsBefore);
  });

  it('no passthrough token appears in the logs', async () => {
    env.upstream.tokenReviewPolicy = acceptOnly('sa-token-secret-never-logged');
    await get('sa-token-secret-never-logged');
    await get('sa-token-secret-refused-never-logged');
    expect(env.proxy.stdout() + env.proxy.stderr()).not.toMatch(/sa-token-secret/);
  });
});

describe('without --token-passthrough (the default)', () => {
  let env: Environment;
  beforeAll(async () => {
    env = await startEnvironment();
  });
  afterAll(async () => env?.stop());

  it('a token that is not an OIDC token is a 401 without any TokenReview', async () => {
    env.upstream.tokenReviewPolicy = () => ({ authenticated: true, user: SA_USER });
    const before = env.upstream.requests.length;
    const res = await send(env.proxy.url, { path: PATH, headers: bearer('sa-token-no-passthrough'), ca: env.ca.caPem });
    expect(res.status).toBe(401);
    expect(env.upstream.tokenReviews).toEqual([]);
    expect(env.upstream.since(before)).toEqual([]);
  });
});
