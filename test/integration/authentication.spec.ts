/**
 * As a kubectl user with an ID token, I am let through exactly when kube-apiserver's OIDC authenticator
 * would let me through, and the API server then sees my identity, never the proxy's.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { SignJWT } from 'jose';
import { createSecretKey } from 'node:crypto';
import { bearer, send } from './support/client.js';
import { CLIENT_ID, type Environment, PROXY_SA_TOKEN, startEnvironment } from './support/environment.js';

let env: Environment;
const now = () => Math.floor(Date.now() / 1000);

beforeAll(async () => {
  env = await startEnvironment({ extraArgs: ['--oidc-required-claim=hd=example.com'] });
});
afterAll(async () => env?.stop());

const get = (headers: Record<string, string | string[]>, path = '/api/v1/namespaces/default/pods/web') =>
  send(env.proxy.url, { path, headers, ca: env.ca.caPem });

describe('a valid token', () => {
  it('reaches the API server as the OIDC user, with the proxy credentials and nothing of the client', async () => {
    const before = env.upstream.requests.length;
    const res = await get({ ...bearer(await env.token({ hd: 'example.com' })), accept: 'application/json' });
    expect(res.status).toBe(200);
    const [seen] = env.upstream.since(before);
    expect(seen!.header('impersonate-user')).toEqual(['jane@example.com']);
    expect(seen!.header('impersonate-group')).toEqual(['dev', 'ops', 'system:authenticated']);
    expect(seen!.header('authorization')).toEqual([`Bearer ${PROXY_SA_TOKEN}`]);
    expect(seen!.header('x-forwarded-for')).toEqual(['127.0.0.1']);
    expect(seen!.header('accept')).toEqual(['application/json']);
    expect(seen!.url).toBe('/api/v1/namespaces/default/pods/web');
  });

  it('carries the credential-id extra from jti, percent-encoded like client-go', async () => {
    const before = env.upstream.requests.length;
    expect((await get(bearer(await env.token({ hd: 'example.com', jti: 'abc-123' })))).status).toBe(200);
    expect(env.upstream.since(before)[0]!.header('impersonate-extra-authentication.kubernetes.io%2fcredential-id')).toEqual(['JTI=abc-123']);
  });
});

describe('distributed groups (OIDC Core §5.6.2)', () => {
  const accessToken = 'dist-access-token-7c1e';
  const distributed = (endpoint: string) => ({ hd: 'example.com', groups: undefined, _claim_names: { groups: 'src1' }, _claim_sources: { src1: { endpoint, access_token: accessToken } } });

  it('are fetched with the access token, verified, and forwarded; the access token goes nowhere else', async () => {
    env.issuer.routes.set('/distributed-groups', { code: 200, body: await env.issuer.sign({ aud: CLIENT_ID, groups: ['far-away', 'team'] }) });
    const before = env.upstream.requests.length;
    const res = await get(bearer(await env.token(distributed(`${env.issuer.url}/distributed-groups`))));
    expect(res.status).toBe(200);
    const [seen] = env.upstream.since(before);
    expect(seen!.header('impersonate-group')).toEqual(['far-away', 'team', 'system:authenticated']);
    expect(env.issuer.routeRequests.at(-1)).toEqual({ path: '/distributed-groups', authorization: `Bearer ${accessToken}` });
    expect(seen!.rawHeaders.join('\n')).not.toContain(accessToken);
    expect(env.proxy.output()).not.toContain(accessToken);
  });

  it('that cannot be fetched refuse the token with 401 and nothing reaches the API server', async () => {
    env.issuer.routes.set('/broken-groups', { code: 503, body: '' });
    const before = env.upstream.requests.length;
    const res = await get(bearer(await env.token(distributed(`${env.issuer.url}/broken-groups`))));
    expect(res.status).toBe(401);
    expect(res.json()).toMatchObject({ kind: 'Status', code: 401 });
    expect(env.upstream.since(before)).toHaveLength(0);
  });
});

describe('refused tokens', () => {
  const cases: Array<[string, () => Promise<Record<string, string>>]> = [
    ['no Authorization header', async () => ({})],
    ['an empty bearer token (CVE-2023-48312)', async () => ({ authorization: 'Bearer ' })],
    ['a Basic credential', async () => ({ authorization: 'Basic amFuZTpwYXNz' })],
    ['a token that is not a JWT', async () => bearer('not-a-jwt')],
    ['an expired token (no leeway on exp)', async () => bearer(await env.token({ hd: 'example.com', exp: now() - 2 }))],
    ['a token without exp', async () => bearer(await env.token({ hd: 'example.com', exp: undefined }))],
    ['a token not valid before an hour from now', async () => bearer(await env.token({ hd: 'example.com', nbf: now() + 3600 }))],
    ['a token for another audience', async () => bearer(await env.token({ hd: 'example.com', aud: 'someone-else' }))],
    ['a token from another issuer', async () => bearer(await env.token({ hd: 'example.com', iss: 'https://evil.example.com' }))],
    ['an ES256 token when only RS256 is allowed', async () => bearer(await env.token({ hd: 'example.com' }, { alg: 'ES256' }))],
    ['a token whose email is not verified', async () => bearer(await env.token({ hd: 'example.com', email_verified: false }))],
    ['a token with a non-boolean email_verified', async () => bearer(await env.token({ hd: 'example.com', email_verified: 'true' }))],
    ['a token without the username claim', async () => bearer(await env.token({ hd: 'example.com', email: undefined }))],
    ['a token without the required claim', async () => bearer(await env.token({}))],
    ['a token with the wrong required-claim value', async () => bearer(await env.token({ hd: 'example.org' }))],
    ['a token with a tampered payload', async () => {
      const [h, , s] = (await env.token({ hd: 'example.com' })).split('.');
      const payload = Buffer.from(JSON.stringify({ iss: env.issuer.url, aud: CLIENT_ID, email: 'admin@example.com', hd: 'example.com', exp: now() + 600 })).toString('base64url');
      return bearer(`${h}.${payload}.${s}`);
    }],
    ['an alg=none token', async () => {
      const header = Buffer.from(JSON.stringify({ alg: 'none', typ: 'JWT' })).toString('base64url');
      const payload = Buffer.from(JSON.stringify({ iss: env.issuer.url, aud: CLIENT_ID, email: 'jane@example.com', hd: 'example.com', exp: now() + 600 })).toString('base64url');
      return bearer(`${header}.${payload}.`);
    }],
    ['an HS256 token signed with a guessable secret (key confusion)', async () =>
      bearer(
        await new SignJWT({ iss: env.issuer.url, aud: CLIENT_ID, email: 'jane@example.com', hd: 'example.com' })
          .setProtectedHeader({ alg: 'HS256' })
          .setExpirationTime('10m')
          .sign(createSecretKey(Buffer.from(env.issuer.caPem))),
      )],
  ];

  it.each(cases)('%s gets 401 Unauthorized and never reaches the API server', async (_name, headers) => {
    const before = env.upstream.requests.length;
    const res = await get(await headers());
    expect(res.status).toBe(401);
    expect(res.headers['content-type']).toBe('application/json');
    expect(res.json()).toMatchObject({ kind: 'Status', status: 'Failure', message: 'Unauthorized', reason: 'Unauthorized', code: 401 });
    expect(env.upstream.since(before)).toHaveLength(0);
  });
});

describe('client-supplied identity headers', () => {
  // The fake API server's SubjectAccessReview policy denies everything unless a test says otherwise.
  it.each([
    ['Impersonate-User', 'admin', "user 'admin'"],
    ['IMPERSONATE-USER', 'root', "user 'root'"],
  ])('%s on an authenticated request is checked, denied with 403 and never forwarded', async (name, value, refused) => {
    const before = env.upstream.requests.length;
    const res = await get({ ...bearer(await env.token({ hd: 'example.com' })), [name]: value });
    expect(res.status).toBe(403);
    expect(res.json()).toMatchObject({ message: `jane@example.com is not allowed to impersonate ${refused}`, code: 403 });
    expect(env.upstream.since(before)).toHaveLength(0);
  });

  it.each([
    ['impersonate-group', 'system:masters'],
    ['IMPERSONATE-UID', '0'],
    ['Impersonate-Extra-scopes', 'all'],
    ['Impersonate-Whatever', 'x'],
  ])('%s without Impersonate-User is refused with 400 and never forwarded', async (name, value) => {
    const before = env.upstream.requests.length;
    const res = await get({ ...bearer(await env.token({ hd: 'example.com' })), [name]: value });
    expect(res.status).toBe(400);
    expect(res.json()).toMatchObject({ code: 400 });
    expect(env.upstream.since(before)).toHaveLength(0);
  });

  it('an unauthenticated request with impersonation headers gets 401, not 403', async () => {
    expect((await get({ 'Impersonate-User': 'admin' })).status).toBe(401);
  });

  it('front-proxy and forwarded-for headers from the client are not forwarded', async () => {
    const before = env.upstream.requests.length;
    const res = await get({
      ...bearer(await env.token({ hd: 'example.com' })),
      'X-Remote-User': 'admin',
      'X-Remote-Group': 'system:masters',
      'X-Forwarded-For': '10.9.9.9',
      'X-Real-Ip': '10.9.9.9',
    });
    expect(res.status).toBe(200);
    const [seen] = env.upstream.since(before);
    expect(seen!.header('x-remote-user')).toEqual([]);
    expect(seen!.header('x-remote-group')).toEqual([]);
    expect(seen!.header('x-real-ip')).toEqual([]);
    expect(seen!.header('x-forwarded-for')).toEqual(['127.0.0.1']);
  });
});
