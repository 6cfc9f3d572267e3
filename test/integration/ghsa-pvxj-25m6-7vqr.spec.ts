/**
 * GHSA-pvxj-25m6-7vqr (and Go CVE-2021-33197): a client names the proxy's identity headers in
 * `Connection`, hoping a hop-by-hop strip runs after they are added and the request reaches the API server
 * as the proxy's own service account. Stripping happens first, adding after: the identity headers survive.
 */
import { afterAll, beforeAll, expect, it } from '@jest/globals';
import { bearer, send } from './support/client.js';
import { type Environment, PROXY_SA_TOKEN, startEnvironment } from './support/environment.js';

let env: Environment;
beforeAll(async () => {
  env = await startEnvironment();
});
afterAll(async () => env?.stop());

it.each([
  'Impersonate-User, Impersonate-Group',
  'impersonate-user,impersonate-group,authorization',
  ' , IMPERSONATE-USER ,Impersonate-Extra-Authentication.kubernetes.io%2fcredential-id',
])('Connection: %s cannot remove the identity headers', async (connection) => {
  const before = env.upstream.requests.length;
  const res = await send(env.proxy.url, {
    path: '/api/v1/pods',
    headers: { ...bearer(await env.token({ jti: 'j-1' })), connection },
    ca: env.ca.caPem,
  });
  expect(res.status).toBe(200);
  const [seen] = env.upstream.since(before);
  expect(seen!.header('impersonate-user')).toEqual(['jane@example.com']);
  expect(seen!.header('impersonate-group')).toEqual(['dev', 'ops', 'system:authenticated']);
  expect(seen!.header('authorization')).toEqual([`Bearer ${PROXY_SA_TOKEN}`]);
  expect(seen!.header('impersonate-extra-authentication.kubernetes.io%2fcredential-id')).toEqual(['JTI=j-1']);
});
