/**
 * As a platform team publishing the cluster's service-account issuer for workload identity (IRSA, GCP/Azure,
 * Vault): the discovery listener serves exactly the two documents, caches them, answers conditional
 * requests, keeps serving the last good copy through an API server outage, and never caches garbage.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { type Environment, PROXY_SA_TOKEN, startEnvironment } from './support/environment.js';
import { freePort, opsGet, waitFor } from './support/proxy-process.js';
import { copyFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect as tlsConnect } from 'node:tls';
import { DISCOVERY_PATH, JWKS_PATH } from '../fixtures/recording-apiserver.js';
import { createTestCa } from '../fixtures/tls.js';
import { send } from './support/client.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function startWithDiscovery(args: readonly string[] = [], options: Parameters<typeof startEnvironment>[0] = {}) {
  const port = await freePort();
  const env = await startEnvironment({ ...options, extraArgs: [`--oidc-discovery-bind-address=127.0.0.1:${port}`, ...args] });
  const base = `http://127.0.0.1:${port}`;
  return { env, port, get: (path: string, init: RequestInit = {}) => fetch(`${base}${path}`, init) };
}

async function metric(env: Environment, name: string, document: string): Promise<number> {
  const body = (await opsGet(env.proxy.opsPort, '/metrics')).body;
  const line = body.split('\n').find((l) => l.startsWith(`${name}{document="${document}"`));
  return line ? Number(line.split(' ').at(-1)) : 0;
}

describe('with the default cache TTL', () => {
  let sut: Awaited<ReturnType<typeof startWithDiscovery>>;
  beforeAll(async () => {
    sut = await startWithDiscovery(['--oidc-discovery-public-url=https://oidc.example.com/cluster-a']);
  }, 30_000);
  afterAll(async () => sut.env.stop());

  it('serves the discovery document with jwks_uri rewritten, the issuer as the API server says, and cache headers', async () => {
    const res = await sut.get(DISCOVERY_PATH);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/json');
    expect(res.headers.get('cache-control')).toBe('public, max-age=3600');
    expect(res.headers.get('etag')).toMatch(/^"[0-9a-f]{64}"$/);
    expect(Date.parse(res.headers.get('last-modified')!)).not.toBeNaN();
    expect(await res.json()).toEqual({ ...sut.env.upstream.discovery.configuration, jwks_uri: 'https://oidc.example.com/cluster-a/openid/v1/jwks' });
  });

  it('serves the JWKS as application/jwk-set+json', async () => {
    const res = await sut.get(JWKS_PATH);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/jwk-set+json');
    expect(await res.json()).toEqual(sut.env.upstream.discovery.jwks);
  });

  it('fetched each document with the proxy\'s own credentials and answers later requests from the cache', async () => {
    const before = sut.env.upstream.discoveryFetches.length;
    for (let i = 0; i < 5; i++) expect((await sut.get(JWKS_PATH)).status).toBe(200);
    expect(sut.env.upstream.discoveryFetches.length).toBe(before);
    expect(sut.env.upstream.discoveryFetchCount(JWKS_PATH)).toBe(1);
    expect(new Set(sut.env.upstream.discoveryFetches.map((f) => f.authorization))).toEqual(new Set([`Bearer ${PROXY_SA_TOKEN}`]));
    expect(sut.env.upstream.requests).toEqual([]);
  });

  it('answers If-None-Match with the current ETag with 304, no body, and the same validators', async () => {
    const first = await sut.get(JWKS_PATH);
    const etag = first.headers.get('etag')!;
    const res = await sut.get(JWKS_PATH, { headers: { 'if-none-match': etag } });
    expect(res.status).toBe(304);
    expect(res.headers.get('etag')).toBe(etag);
    expect(res.headers.get('cache-control')).toBe('public, max-age=3600');
    expect(await res.text()).toBe('');
    expect((await sut.get(JWKS_PATH, { headers: { 'if-none-match': '"stale-tag"' } })).status).toBe(200);
  });

  it('answers HEAD with the headers of GET and no body', async () => {
    const get = await sut.get(DISCOVERY_PATH);
    const getBody = await get.arrayBuffer();
    const head = await sut.get(DISCOVERY_PATH, { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(head.headers.get('etag')).toBe(get.headers.get('etag'));
    expect(head.headers.get('content-length')).toBe(String(getBody.byteLength));
    expect(await head.text()).toBe('');
  });

  it.each(['/', '/openid/v1/jwks/', '/.well-known/openid-configuration/extra', '/api/v1/pods', '/ready', '/metrics'])('answers %s with 404', async (path) => {
    expect((await sut.get(path)).status).toBe(404);
  });

  it.each(['POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS'])('answers %s on the documents with 405 and Allow: GET, HEAD', async (method) => {
    const res = await sut.get(JWKS_PATH, { method });
    expect(res.status).toBe(405);
    expect(res.headers.get('allow')).toBe('GET, HEAD');
  });

  it('reports the discovery indicator in /ready', async () => {
    const ready = await opsGet(sut.env.proxy.opsPort, '/ready');
    expect(ready.status).toBe(200);
    expect(JSON.parse(ready.body).details.oidc_discovery).toEqual({ status: 'up' });
  });
});

describe('with a short cache TTL', () => {
  let sut: Awaited<ReturnType<typeof startWithDiscovery>> | undefined;
  afterEach(async () => {
    await sut?.env.stop();
    sut = undefined;
  });

  it('fetches again after the TTL, keeps serving the last good copy through an outage, and recovers', async () => {
    sut = await startWithDiscovery(['--oidc-discovery-cache-ttl=1s', '--oidc-discovery-upstream-timeout=2s']);
    const { env } = sut;
    const good = await sut.get(JWKS_PATH);
    const goodBody = await good.text();
    const fetches = env.upstream.discoveryFetchCount(JWKS_PATH);
    await sleep(1200);
    expect((await sut.get(JWKS_PATH)).status).toBe(200);
    expect(env.upstream.discoveryFetchCount(JWKS_PATH)).toBe(fetches + 1);

    env.upstream.discovery.mode = 'fail';
    await sleep(1200);
    const stale = await sut.get(JWKS_PATH);
    expect(stale.status).toBe(200);
    expect(await stale.text()).toBe(goodBody);
    expect(stale.headers.get('etag')).toBe(good.headers.get('etag'));
    expect(stale.headers.get('cache-control')).toBe('public, max-age=1');
    expect(await metric(env, 'kube_oidc_proxy_discovery_stale_served_total', 'jwks')).toBeGreaterThanOrEqual(1);
    await env.proxy.waitForOutput(/serving the last good copy of \/openid\/v1\/jwks.*HTTP 500/);
    expect((await opsGet(env.proxy.opsPort, '/ready')).status).toBe(200);

    env.upstream.discovery.jwks = { keys: [{ kty: 'RSA', kid: 'rotated', n: 'AQAB', e: 'AQAB' }] };
    env.upstream.discovery.mode = 'ok';
    const fresh = await sut.get(JWKS_PATH);
    expect(await fresh.json()).toEqual(env.upstream.discovery.jwks);
    expect(fresh.headers.get('etag')).not.toBe(good.headers.get('etag'));
    expect((await sut.get(JWKS_PATH, { headers: { 'if-none-match': good.headers.get('etag')! } })).status).toBe(200);
  }, 30_000);

  it.each([
    ['oversize', /exceeds the 1048576-byte limit/],
    ['invalid-json', /the body is not JSON/],
  ] as const)('never caches an %s answer: the good copy stays, and the refusal is logged', async (mode, log) => {
    sut = await startWithDiscovery(['--oidc-discovery-cache-ttl=1s']);
    const { env } = sut;
    const goodBody = await (await sut.get(JWKS_PATH)).text();
    env.upstream.discovery.mode = mode;
    await sleep(1200);
    const res = await sut.get(JWKS_PATH);
    expect(res.status).toBe(200);
    expect(await res.text()).toBe(goodBody);
    await env.proxy.waitForOutput(log);
  }, 30_000);
});

describe('when the API server never served a good copy', () => {
  let env: Environment | undefined;
  afterEach(async () => {
    await env?.stop();
    env = undefined;
  });

  it('answers 502, logs why, keeps /ready down on the discovery indicator and /live up', async () => {
    const port = await freePort();
    env = await startEnvironment({
      waitReady: false,
      extraArgs: [`--oidc-discovery-bind-address=127.0.0.1:${port}`],
      beforeStart: ({ upstream }) => (upstream.discovery.mode = 'oversize'),
    });
    const proxy = env.proxy;
    await waitFor(async () => ((await opsGet(proxy.opsPort, '/live')).status === 200 ? true : undefined), 15_000, '/live').catch((err: Error) => {
      throw new Error(`${err.message}\n--- proxy output ---\n${proxy.output()}`);
    });
    const res = await waitFor(async () => fetch(`http://127.0.0.1:${port}${JWKS_PATH}`), 10_000, 'the discovery listener');
    expect(res.status).toBe(502);
    expect(await res.text()).toMatch(/could not be fetched from the API server/);
    await proxy.waitForOutput(/cannot fetch \/openid\/v1\/jwks from the API server and no copy is cached: .*exceeds the 1048576-byte limit/);
    const ready = await opsGet(proxy.opsPort, '/ready');
    expect(ready.status).toBe(503);
    expect(JSON.parse(ready.body).details.oidc_discovery).toEqual({ status: 'down', message: expect.stringMatching(/not yet fetched from the API server/) });

    env.upstream.discovery.mode = 'ok';
    expect((await fetch(`http://127.0.0.1:${port}${JWKS_PATH}`)).status).toBe(200);
    await waitFor(async () => ((await opsGet(proxy.opsPort, '/ready')).status === 200 ? true : undefined), 15_000, '/ready after recovery');
  }, 60_000);
});

describe('without --oidc-discovery-bind-address', () => {
  it('has no discovery indicator in /ready and fetches nothing', async () => {
    const env = await startEnvironment();
    try {
      const ready = await opsGet(env.proxy.opsPort, '/ready');
      expect(JSON.parse(ready.body).details).not.toHaveProperty('oidc_discovery');
      expect(env.upstream.discoveryFetches).toEqual([]);
    } finally {
      await env.stop();
    }
  }, 30_000);
});

describe('with --oidc-discovery-tls-cert-file and --oidc-discovery-tls-private-key-file', () => {
  let sut: Awaited<ReturnType<typeof startWithDiscovery>>;
  let certFile: string;
  let keyFile: string;
  const dir = mkdtempSync(join(tmpdir(), 'kop-discovery-tls-'));
  const servedSerial = (): Promise<string> =>
    new Promise((resolve, reject) => {
      const socket = tlsConnect({ host: '127.0.0.1', port: sut.port, ca: sut.env.ca.caPem, servername: 'localhost' }, () => {
        resolve(socket.getPeerCertificate().serialNumber);
        socket.destroy();
      });
      socket.on('error', reject);
    });

  beforeAll(async () => {
    const first = createTestCa().issue('discovery-placeholder'); // replaced below by one from the environment's CA
    certFile = join(dir, 'discovery.crt');
    keyFile = join(dir, 'discovery.key');
    copyFileSync(first.certFile, certFile);
    copyFileSync(first.keyFile, keyFile);
    sut = await startWithDiscovery([`--oidc-discovery-tls-cert-file=${certFile}`, `--oidc-discovery-tls-private-key-file=${keyFile}`]);
    // Now a certificate the test trusts, which also proves the listener re-reads the pair.
    const trusted = sut.env.ca.issue('discovery');
    copyFileSync(trusted.keyFile, keyFile);
    copyFileSync(trusted.certFile, certFile);
    await sut.env.proxy.waitForOutput('OIDC discovery serving certificate reloaded', 10_000);
  }, 30_000);
  afterAll(async () => sut.env.stop());

  it('serves the documents over HTTPS only, with the re-read certificate', async () => {
    const res = await send(`https://127.0.0.1:${sut.port}`, { path: JWKS_PATH, ca: sut.env.ca.caPem });
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toBe('application/jwk-set+json');
    expect(JSON.parse(res.body)).toEqual(sut.env.upstream.discovery.jwks);
    await expect(sut.get(JWKS_PATH)).rejects.toThrow();
  });

  it('picks up a rotated certificate again without a restart', async () => {
    const before = await servedSerial();
    const next = sut.env.ca.issue('discovery-next');
    copyFileSync(next.keyFile, keyFile);
    copyFileSync(next.certFile, certFile);
    await waitFor(async () => ((await servedSerial()) !== before ? true : undefined), 10_000, 'the rotated discovery certificate');
    expect((await send(`https://127.0.0.1:${sut.port}`, { path: DISCOVERY_PATH, ca: sut.env.ca.caPem })).status).toBe(200);
  });
});
