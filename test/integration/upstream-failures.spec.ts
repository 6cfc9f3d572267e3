/**
 * As a kubectl user, when the API server is down or misbehaves I get a prompt, clear Status answer, and
 * the proxy recovers by itself when the API server returns.
 */
import { afterAll, afterEach, beforeAll, expect, it } from '@jest/globals';
import { bearer, send } from './support/client.js';
import { type Environment, startEnvironment } from './support/environment.js';
import { closeRawUpgrades, rawUpgrade } from './support/upgrade-client.js';

let env: Environment;
beforeAll(async () => {
  env = await startEnvironment();
});
afterEach(closeRawUpgrades);
afterAll(async () => env?.stop());

it('relays a redirect from the API server without following it (CVE-2020-8559)', async () => {
  const res = await send(env.proxy.url, { path: '/redirect', headers: bearer(await env.token()), ca: env.ca.caPem });
  expect(res.status).toBe(302);
  expect(res.headers.location).toBe('https://example.invalid/elsewhere');
});

/** Proxy log lines (JSON) about one request URI with the given message. */
const logLines = (uri: string, msg: string) =>
  env.proxy
    .output()
    .split('\n')
    .filter((line) => line.includes(`"uri":"${uri}"`) && line.includes(msg));

it('answers 503 while the API server is down, and recovers when it returns', async () => {
  const token = await env.token();
  await env.upstream.stop();
  const down = await send(env.proxy.url, { path: '/api/v1/pods?down=1', headers: bearer(token), ca: env.ca.caPem });
  expect(down.status).toBe(503);
  expect(down.json()).toMatchObject({ kind: 'Status', code: 503, message: expect.stringContaining('API server is unavailable') });
  await env.upstream.restart();
  const up = await send(env.proxy.url, { path: '/api/v1/pods', headers: bearer(token), ca: env.ca.caPem });
  expect(up.status).toBe(200);

  // The API server's own 500 passes through and is logged once, by the catch-all for unlogged 5xx.
  const failed = await send(env.proxy.url, { path: '/server-error', headers: bearer(token), ca: env.ca.caPem });
  expect(failed.status).toBe(500);
  expect(failed.json()).toMatchObject({ kind: 'Status', message: 'etcd is on fire' });
  await env.proxy.waitForOutput(/^(?=.*"uri":"\/server-error")(?=.*request answered with a server error).*$/m, 5_000);
  expect(logLines('/server-error', 'request answered with a server error')).toHaveLength(1);
  // The proxy's own 503 was logged where it was decided, and (long finished by now) not again by the catch-all.
  expect(logLines('/api/v1/pods?down=1', 'API server is unavailable')).toHaveLength(1);
  expect(logLines('/api/v1/pods?down=1', 'request answered with a server error')).toHaveLength(0);
});

it('a watch open when the API server restarts ends promptly instead of hanging, and the client can re-watch once it is back', async () => {
  const token = await env.token();
  const watch = await rawUpgrade(env.proxy.securePort, env.ca.caPem, `GET /api/v1/pods?watch=true HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer ${token}\r\n\r\n`);
  await watch.waitFor('"ADDED"', 10_000);
  await env.upstream.stop();
  // The proxy cuts the client's stream (a truncated chunked body), so client-go's reflector sees an error and re-lists.
  await watch.closed;
  expect(watch.received()).not.toMatch(/0\r\n\r\n$/);
  await env.upstream.restart();
  const again = await rawUpgrade(env.proxy.securePort, env.ca.caPem, `GET /api/v1/pods?watch=true HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer ${token}\r\n\r\n`);
  await again.waitFor('"ADDED"', 10_000);
  env.upstream.pushWatchEvent('{"type":"MODIFIED"}');
  await again.waitFor('MODIFIED', 5000);
  again.socket.destroy();
}, 30_000);
