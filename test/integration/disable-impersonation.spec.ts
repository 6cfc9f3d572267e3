/**
 * As the operator of an API server that accepts the OIDC token itself, with --disable-impersonation the
 * proxy only authenticates: the API server receives my own bearer token, unchanged and alone, and no
 * impersonation headers. (jetstack deleted the token and sent an anonymous request instead.) Client
 * Impersonate-* headers are refused: the proxy cannot vouch for them.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { bearer, send } from './support/client.js';
import { type Environment, startEnvironment } from './support/environment.js';

const PATH = '/api/v1/namespaces/default/pods/web';

describe('with --disable-impersonation', () => {
  let env: Environment;
  beforeAll(async () => {
    env = await startEnvironment({ extraArgs: ['--disable-impersonation'] });
  });
  afterAll(async () => env?.stop());

  it("the API server receives the user's own bearer token as the only Authorization and no impersonation headers", async () => {
    const token = await env.token();
    const before = env.upstream.requests.length;
    const res = await send(env.proxy.url, { path: PATH, headers: bearer(token), ca: env.ca.caPem });
    expect(res.status).toBe(200);
    const [seen] = env.upstream.since(before);
    expect(seen!.header('authorization')).toEqual([`Bearer ${token}`]);
    expect(seen!.rawHeaders.filter((_, i) => i % 2 === 0 && seen!.rawHeaders[i]!.toLowerCase().startsWith('impersonate'))).toEqual([]);
    await env.proxy.waitForOutput(/AuSuccess .*inbound:\[jane@example\.com \/ dev\|ops\|system:authenticated \/ /);
  });

  it.each([
    ['Impersonate-User', { 'Impersonate-User': 'alice' }],
    ['Impersonate-Group', { 'Impersonate-Group': 'admins' }],
    ['Impersonate-Uid', { 'Impersonate-Uid': 'u-1' }],
    ['Impersonate-Extra-Scopes', { 'Impersonate-Extra-Scopes': 'all' }],
  ])('a request with %s is refused with 403 and never reaches the API server', async (_name, headers) => {
    const before = env.upstream.requests.length;
    const res = await send(env.proxy.url, { path: PATH, headers: { ...bearer(await env.token()), ...headers }, ca: env.ca.caPem });
    expect(res.status).toBe(403);
    expect(res.json()).toMatchObject({ kind: 'Status', code: 403, message: 'Impersonation requests are disabled when using kube-oidc-proxy' });
    expect(env.upstream.since(before)).toEqual([]);
    expect(env.upstream.reviews).toEqual([]);
  });

  it('a token that fails OIDC verification is still a 401 that never reaches the API server', async () => {
    const before = env.upstream.requests.length;
    const res = await send(env.proxy.url, { path: PATH, headers: bearer(await env.token({ aud: 'someone-else' })), ca: env.ca.caPem });
    expect(res.status).toBe(401);
    expect(env.upstream.since(before)).toEqual([]);
  });

  it('a reserved identity from the identity provider is still refused with 403', async () => {
    const before = env.upstream.requests.length;
    const res = await send(env.proxy.url, { path: PATH, headers: bearer(await env.token({ groups: ['system:masters'] })), ca: env.ca.caPem });
    expect(res.status).toBe(403);
    expect(env.upstream.since(before)).toEqual([]);
  });
});
