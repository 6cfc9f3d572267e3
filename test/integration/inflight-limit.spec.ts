/**
 * As a platform team: one runaway client cannot starve everyone else or push unbounded work onto the API
 * server. --max-requests-inflight and --max-mutating-requests-inflight behave like kube-apiserver's: a
 * full pool answers 429 TooManyRequests with Retry-After: 1 at once, long-running requests are not
 * counted, and an Upgrade header does not get a short request past the limit.
 */
import { afterAll, afterEach, beforeAll, expect, it } from '@jest/globals';
import { bearer, send, type TestResponse } from './support/client.js';
import { type Environment, startEnvironment } from './support/environment.js';
import { opsGet, waitFor } from './support/proxy-process.js';
import { closeRawUpgrades, rawUpgrade, upgradeHead } from './support/upgrade-client.js';

let env: Environment;
let token: string;
beforeAll(async () => {
  env = await startEnvironment({ extraArgs: ['--max-requests-inflight=2', '--max-mutating-requests-inflight=1'] });
  token = await env.token();
});
afterEach(() => {
  closeRawUpgrades();
  env.upstream.releaseHeld();
});
afterAll(async () => env?.stop());

const call = (method: string, path: string): Promise<TestResponse> =>
  send(env.proxy.url, { method, path, headers: bearer(token), ca: env.ca.caPem, timeoutMs: 20_000 });

async function holdUpstream(count: number, method: string, path: string): Promise<Promise<TestResponse>[]> {
  const before = env.upstream.heldRequests;
  const pending = Array.from({ length: count }, () => call(method, path));
  await waitFor(async () => (env.upstream.heldRequests === before + count ? true : undefined), 10_000, `${count} held ${method} requests`);
  return pending;
}

function expectTooManyRequests(res: TestResponse): void {
  expect(res.status).toBe(429);
  expect(res.headers['retry-after']).toBe('1');
  expect(res.json()).toMatchObject({ kind: 'Status', status: 'Failure', reason: 'TooManyRequests', code: 429, message: 'Too many requests, please try again later.' });
}

const rejections = async (kind: string): Promise<number> => {
  const line = (await opsGet(env.proxy.opsPort, '/metrics')).body.split('\n').find((l) => l.startsWith(`kube_oidc_proxy_inflight_rejections_total{request_kind="${kind}"}`));
  return line ? Number(line.split(' ').at(-1)) : 0;
};

it('a full read-only pool answers 429 with Retry-After: 1 without reaching the API server, and frees up when requests finish', async () => {
  const held = await holdUpstream(2, 'GET', '/api/v1/namespaces/default/pods/web?hold=true');
  const before = env.upstream.requests.length;
  const rejectedBefore = await rejections('readOnly');
  expectTooManyRequests(await call('GET', '/api/v1/namespaces/default/pods/web'));
  expect(env.upstream.since(before)).toHaveLength(0);
  expect(await rejections('readOnly')).toBe(rejectedBefore + 1);

  env.upstream.releaseHeld();
  expect((await Promise.all(held)).map((r) => r.status)).toEqual([200, 200]);
  expect((await call('GET', '/api/v1/namespaces/default/pods/web')).status).toBe(200);
});

it('mutating requests have their own pool: a full read-only pool does not block writes, and a full mutating pool refuses the next write', async () => {
  const reads = await holdUpstream(2, 'GET', '/api/v1/namespaces/default/pods/web?hold=true');
  const writes = await holdUpstream(1, 'POST', '/api/v1/namespaces/default/pods?hold=true');
  const rejectedBefore = await rejections('mutating');
  expectTooManyRequests(await call('DELETE', '/api/v1/namespaces/default/pods/web'));
  expect(await rejections('mutating')).toBe(rejectedBefore + 1);
  env.upstream.releaseHeld();
  expect((await Promise.all([...reads, ...writes])).map((r) => r.status)).toEqual([200, 200, 200]);
});

it('watches and exec sessions are long-running and still admitted while both pools are full', async () => {
  const held = [...(await holdUpstream(2, 'GET', '/api/v1/pods?hold=true')), ...(await holdUpstream(1, 'PATCH', '/api/v1/namespaces/default/pods/web?hold=true'))];
  const watch = await rawUpgrade(env.proxy.securePort, env.ca.caPem, `GET /api/v1/pods?watch=true HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer ${token}\r\n\r\n`);
  await watch.waitFor('"ADDED"', 10_000);
  expect(watch.received()).toMatch(/^HTTP\/1\.1 200 /);
  const exec = await rawUpgrade(env.proxy.securePort, env.ca.caPem, upgradeHead('/api/v1/namespaces/default/pods/web/exec?command=sh', token, 'SPDY/3.1'));
  await exec.waitFor('101 Switching Protocols', 10_000);
  env.upstream.releaseHeld();
  await Promise.all(held);
});

it('an Upgrade header on a short request is counted too, so it cannot bypass the limit', async () => {
  const held = await holdUpstream(2, 'GET', '/api/v1/pods?hold=true');
  const before = env.upstream.requests.length;
  const conn = await rawUpgrade(
    env.proxy.securePort,
    env.ca.caPem,
    `GET /api/v1/namespaces/default/secrets HTTP/1.1\r\nHost: localhost\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nAuthorization: Bearer ${token}\r\n\r\n`,
  );
  await conn.waitFor('TooManyRequests', 10_000);
  expect(conn.received()).toMatch(/^HTTP\/1\.1 429 /);
  expect(conn.received()).toContain('Retry-After: 1');
  await conn.closed;
  expect(env.upstream.since(before)).toHaveLength(0);
  env.upstream.releaseHeld();
  await Promise.all(held);
});

/** Sends until the answer is not a 429 (a slot is released when the previous response or socket closes, a moment after the client sees it). */
async function firstAnswerOtherThan429(request: () => Promise<{ status: number }>): Promise<number> {
  let status = 429;
  await waitFor(async () => ((status = (await request()).status) !== 429 ? true : undefined), 5_000, 'a free in-flight slot');
  return status;
}

it('a refused request and a closed counted upgrade give their slot back: the pool never leaks', async () => {
  // The mutating pool holds one: a leaked slot would make every later write a 429.
  const unauthenticated = (): Promise<TestResponse> => send(env.proxy.url, { method: 'POST', path: '/api/v1/namespaces/default/pods', ca: env.ca.caPem });
  for (let i = 0; i < 3; i++) expect(await firstAnswerOtherThan429(unauthenticated)).toBe(401);

  for (let i = 0; i < 3; i++) {
    const upgrade = await rawUpgrade(env.proxy.securePort, env.ca.caPem, upgradeHead('/api/v1/namespaces/default/pods', token, 'websocket'));
    await upgrade.waitFor('HTTP/1.1 ', 10_000);
    expect(upgrade.received()).not.toMatch(/^HTTP\/1\.1 429 /);
    upgrade.socket.destroy();
    await upgrade.closed;
  }
  expect(await firstAnswerOtherThan429(() => call('POST', '/api/v1/namespaces/default/pods'))).toBe(200);
});
