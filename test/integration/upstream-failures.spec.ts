/**
 * As a kubectl user, when the API server is down or misbehaves I get a prompt, clear Status answer, and
 * the proxy recovers by itself when the API server returns.
 */
import { afterAll, beforeAll, expect, it } from '@jest/globals';
import { bearer, send } from './support/client.js';
import { type Environment, startEnvironment } from './support/environment.js';

let env: Environment;
beforeAll(async () => {
  env = await startEnvironment();
});
afterAll(async () => env?.stop());

it('relays a redirect from the API server without following it (CVE-2020-8559)', async () => {
  const res = await send(env.proxy.url, { path: '/redirect', headers: bearer(await env.token()), ca: env.ca.caPem });
  expect(res.status).toBe(302);
  expect(res.headers.location).toBe('https://example.invalid/elsewhere');
});

it('answers 503 while the API server is down, and recovers when it returns', async () => {
  const token = await env.token();
  await env.upstream.stop();
  const down = await send(env.proxy.url, { path: '/api/v1/pods', headers: bearer(token), ca: env.ca.caPem });
  expect(down.status).toBe(503);
  expect(down.json()).toMatchObject({ kind: 'Status', code: 503, message: expect.stringContaining('API server is unavailable') });
  await env.upstream.restart();
  const up = await send(env.proxy.url, { path: '/api/v1/pods', headers: bearer(token), ca: env.ca.caPem });
  expect(up.status).toBe(200);
});
