/**
 * As a platform team running many controllers and `kubectl get -w` through the proxy, I want requests and
 * open watches to share a few HTTP/2 connections to the API server (as client-go's own do) instead of
 * holding a connection each, with the same identity on every stream, and with API servers that speak only
 * HTTP/1.1 still working.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Agent, request } from 'node:https';
import { bearer, send } from './support/client.js';
import { type Environment, PROXY_SA_TOKEN, startEnvironment } from './support/environment.js';
import { opsGet, waitFor } from './support/proxy-process.js';

/** Opens `n` watches through the proxy; resolves once each has its first event. Returns a closer. */
async function openWatches(env: Environment, token: string, n: number): Promise<() => void> {
  const agent = new Agent({ ca: env.ca.caPem, keepAlive: true, maxSockets: Infinity });
  await Promise.all(
    Array.from(
      { length: n },
      () =>
        new Promise<void>((resolve, reject) => {
          const req = request(new URL('/api/v1/namespaces/default/pods?watch=true', env.proxy.url), { agent, headers: bearer(token) }, (res) => {
            if (res.statusCode !== 200) return reject(new Error(`watch: HTTP ${res.statusCode}`));
            res.once('data', () => resolve());
          });
          req.on('error', reject);
          req.end();
        }),
    ),
  );
  return () => agent.destroy();
}

describe('with an API server that speaks HTTP/2', () => {
  let env: Environment;
  beforeAll(async () => {
    env = await startEnvironment();
  });
  afterAll(async () => env?.stop());

  it("sends a watch as an HTTP/2 stream carrying the user's identity and the proxy's credential", async () => {
    const close = await openWatches(env, await env.token(), 1);
    try {
      expect(env.upstream.http2Requests).toBe(1);
      const seen = env.upstream.last!;
      expect(seen.url).toBe('/api/v1/namespaces/default/pods?watch=true');
      expect(seen.header('impersonate-user')).toEqual(['jane@example.com']);
      expect(seen.header('impersonate-group').join(', ').split(', ').sort()).toEqual(['dev', 'ops', 'system:authenticated']);
      expect(seen.header('authorization')).toEqual([`Bearer ${PROXY_SA_TOKEN}`]);
    } finally {
      close();
    }
    await waitFor(async () => (env.upstream.openWatches === 0 ? true : undefined), 5000, 'the upstream stream to close with the client');
  });

  it('lets 200 watches share one connection to the API server', async () => {
    const before = env.upstream.openConnections;
    const token = await env.token();
    // One first: until the server's SETTINGS arrive, the proxy assumes 100 streams per connection.
    const first = await openWatches(env, token, 1);
    const rest = await openWatches(env, token, 199);
    try {
      await waitFor(async () => (env.upstream.openWatches === 200 ? true : undefined), 10_000, '200 upstream watches');
      expect(env.upstream.openConnections - before).toBeLessThanOrEqual(1);
      expect((await opsGet(env.proxy.opsPort, '/metrics')).body).toMatch(/^kube_oidc_proxy_upstream_http2_connections 1$/m);
    } finally {
      first();
      rest();
    }
  });

  it('sends plain requests as HTTP/2 streams too, a request body included', async () => {
    const token = await env.token();
    const before = env.upstream.http2Requests;
    const res = await send(env.proxy.url, { method: 'GET', path: '/api/v1/namespaces/default/pods/web', headers: bearer(token), ca: env.ca.caPem });
    expect(res.status).toBe(200);
    expect(env.upstream.http2Requests).toBe(before + 1);
    expect(env.upstream.last!.header('impersonate-user')).toEqual(['jane@example.com']);
    // The connection is proven now, so a body may go on it (it could not be replayed over HTTP/1.1).
    const body = JSON.stringify({ kind: 'ConfigMap', data: { big: 'x'.repeat(2 * 1024 * 1024) } });
    const echoed = await send(env.proxy.url, { method: 'POST', path: '/echo', headers: { ...bearer(token), 'content-type': 'application/json' }, body, ca: env.ca.caPem });
    expect(echoed.status).toBe(200);
    expect(echoed.json<{ body: string }>().body).toBe(body);
    expect(env.upstream.http2Requests).toBe(before + 2);
    expect(env.upstream.last!.method).toBe('POST');
  });
});

describe('with an API server that speaks only HTTP/1.1', () => {
  let env: Environment;
  beforeAll(async () => {
    env = await startEnvironment({ upstreamHttp1Only: true });
  });
  afterAll(async () => env?.stop());

  it('sends plain requests over HTTP/1.1, a request body included', async () => {
    const token = await env.token();
    expect((await send(env.proxy.url, { path: '/api/v1/namespaces/default/pods/web', headers: bearer(token), ca: env.ca.caPem })).status).toBe(200);
    const echoed = await send(env.proxy.url, { method: 'POST', path: '/echo', headers: { ...bearer(token), 'content-type': 'application/json' }, body: '{"kind":"ConfigMap"}', ca: env.ca.caPem });
    expect(echoed.json<{ body: string }>().body).toBe('{"kind":"ConfigMap"}');
    expect(env.upstream.http2Requests).toBe(0);
  });

  it('sends watches over HTTP/1.1 and says so once', async () => {
    const token = await env.token();
    const first = await openWatches(env, token, 1);
    const second = await openWatches(env, token, 2);
    try {
      expect(env.upstream.openWatches).toBe(3);
      expect(env.upstream.last!.header('impersonate-user')).toEqual(['jane@example.com']);
      expect(env.proxy.stdout().match(/does not offer HTTP\/2/g)).toHaveLength(1);
      expect((await opsGet(env.proxy.opsPort, '/metrics')).body).toMatch(/^kube_oidc_proxy_upstream_http2_connections 0$/m);
    } finally {
      first();
      second();
    }
  });
});

describe('with --upstream-http2-watches=false', () => {
  let env: Environment;
  beforeAll(async () => {
    env = await startEnvironment({ extraArgs: ['--upstream-http2-watches=false'] });
  });
  afterAll(async () => env?.stop());

  it('sends watches over HTTP/1.1', async () => {
    const close = await openWatches(env, await env.token(), 2);
    try {
      expect(env.upstream.openWatches).toBe(2);
      expect(env.upstream.http2Requests).toBe(0);
    } finally {
      close();
    }
  });
});

describe('with --upstream-http2=false', () => {
  let env: Environment;
  beforeAll(async () => {
    env = await startEnvironment({ extraArgs: ['--upstream-http2=false'] });
  });
  afterAll(async () => env?.stop());

  it('keeps plain requests on HTTP/1.1 and still sends watches as HTTP/2 streams', async () => {
    const token = await env.token();
    expect((await send(env.proxy.url, { path: '/api/v1/namespaces/default/pods/web', headers: bearer(token), ca: env.ca.caPem })).status).toBe(200);
    expect(env.upstream.http2Requests).toBe(0);
    const close = await openWatches(env, token, 1);
    try {
      expect(env.upstream.http2Requests).toBe(1);
    } finally {
      close();
    }
  });
});
