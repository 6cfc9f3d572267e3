/**
 * Slow clients: --request-read-timeout bounds how long a client may take to send its request (head and
 * body), so one that trickles a body cannot hold an in-flight slot and an upstream connection; responses
 * are never cut by it, so a watch outlives it.
 */
import { afterAll, afterEach, beforeAll, expect, it } from '@jest/globals';
import { bearer, send } from './support/client.js';
import { type Environment, startEnvironment } from './support/environment.js';
import { closeRawUpgrades, type RawUpgrade, rawUpgrade } from './support/upgrade-client.js';

let env: Environment;
let token: string;
beforeAll(async () => {
  env = await startEnvironment({ extraArgs: ['--request-read-timeout=1s'] });
  token = await env.token();
});
afterEach(closeRawUpgrades);
afterAll(async () => env?.stop());

/** Keep sending `chunk` every 200 ms, as a slow client would, until the proxy closes the connection. */
async function trickleUntilClosed(conn: RawUpgrade, chunk: string): Promise<void> {
  const trickle = setInterval(() => conn.socket.writable && conn.socket.write(chunk), 200);
  try {
    await conn.closed;
  } finally {
    clearInterval(trickle);
  }
}

it('a client trickling a request body is answered 408 and disconnected once --request-read-timeout passes', async () => {
  // /echo answers only once the whole body has arrived, as the API server does.
  const started = Date.now();
  const conn = await rawUpgrade(
    env.proxy.securePort,
    env.ca.caPem,
    `POST /echo HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer ${token}\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{"kind":`,
  );
  await trickleUntilClosed(conn, ' ');
  expect(conn.received()).toMatch(/^HTTP\/1\.1 408 /);
  const body = JSON.parse(conn.received().slice(conn.received().indexOf('\r\n\r\n') + 4)) as Record<string, unknown>;
  expect(body).toMatchObject({ kind: 'Status', code: 408, reason: 'Timeout' });
  // Well before the 30 s a test would need if the timeout were not enforced (Node checks every 250 ms here).
  expect(Date.now() - started).toBeLessThan(15_000);
  // The proxy still serves.
  const res = await send(env.proxy.url, { path: '/api/v1/namespaces/default/pods/web', headers: bearer(token), ca: env.ca.caPem });
  expect(res.status).toBe(200);
});

it('a slow-loris client that never finishes its request head is answered 408 and disconnected', async () => {
  const conn = await rawUpgrade(env.proxy.securePort, env.ca.caPem, 'GET /api/v1/pods HTTP/1.1\r\nHost: localhost\r\n');
  await trickleUntilClosed(conn, 'X-Slow: 1\r\n');
  expect(conn.received()).toMatch(/^HTTP\/1\.1 408 /);
});

it('a watch outlives --request-read-timeout: the limit is on receiving the request, not on the response', async () => {
  const watch = await rawUpgrade(env.proxy.securePort, env.ca.caPem, `GET /api/v1/pods?watch=true HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer ${token}\r\n\r\n`);
  await watch.waitFor('"ADDED"', 10_000);
  await new Promise((r) => setTimeout(r, 2_500));
  env.upstream.pushWatchEvent('{"type":"MODIFIED","object":{"kind":"Pod"}}');
  await watch.waitFor('MODIFIED', 5_000);
  expect(watch.socket.destroyed).toBe(false);
});
