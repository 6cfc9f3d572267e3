/**
 * As a platform team whose API server sits behind a path-routing gateway (a server URL such as
 * https://gateway/k8s/clusters/c-1, as Rancher hands out), every kind of request keeps that path: plain
 * requests, watches (HTTP/2 streams) and exec upgrades alike.
 */
import { afterAll, afterEach, beforeAll, expect, it } from '@jest/globals';
import { request } from 'node:https';
import { bearer, send } from './support/client.js';
import { type Environment, startEnvironment } from './support/environment.js';
import { closeRawUpgrades, rawUpgrade, upgradeHead } from './support/upgrade-client.js';

const PREFIX = '/k8s/clusters/c-1';
let env: Environment;
beforeAll(async () => {
  env = await startEnvironment({ upstreamPath: `${PREFIX}/` });
});
afterAll(async () => env?.stop());
afterEach(() => closeRawUpgrades());

it('sends a plain request under the server path', async () => {
  const before = env.upstream.requests.length;
  const res = await send(env.proxy.url, { method: 'GET', path: '/api/v1/namespaces/default/pods/web', headers: bearer(await env.token()), ca: env.ca.caPem });
  expect(res.status).toBe(200);
  expect(env.upstream.since(before).map((r) => r.url)).toEqual([`${PREFIX}/api/v1/namespaces/default/pods/web`]);
});

it('sends a watch under the server path', async () => {
  const before = env.upstream.requests.length;
  const token = await env.token();
  await new Promise<void>((resolve, reject) => {
    const req = request(new URL('/api/v1/namespaces/default/pods?watch=true', env.proxy.url), { ca: env.ca.caPem, agent: false, headers: bearer(token) }, (res) => {
      res.once('data', () => {
        req.destroy();
        resolve();
      });
    });
    req.on('error', reject);
    req.end();
  });
  expect(env.upstream.since(before).map((r) => r.url)).toEqual([`${PREFIX}/api/v1/namespaces/default/pods?watch=true`]);
});

it('sends an exec upgrade under the server path', async () => {
  const before = env.upstream.requests.length;
  const conn = await rawUpgrade(env.proxy.securePort, env.ca.caPem, upgradeHead('/api/v1/namespaces/default/pods/web/exec?command=sh', await env.token(), 'SPDY/3.1'));
  await conn.waitFor('\r\n\r\n');
  expect(conn.received()).toMatch(/^HTTP\/1\.1 101 /);
  expect(env.upstream.since(before).map((r) => r.url)).toEqual([`${PREFIX}/api/v1/namespaces/default/pods/web/exec?command=sh`]);
});
