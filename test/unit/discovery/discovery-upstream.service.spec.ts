import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Agent } from 'node:https';
import type { ProxyConfig } from '../../../src/config/proxy-config.js';
import { DiscoveryUpstreamService } from '../../../src/discovery/discovery-upstream.service.js';
import type { UpstreamCredentialsService } from '../../../src/upstream/upstream-credentials.service.js';
import { DISCOVERY_PATH, JWKS_PATH, RecordingApiServer } from '../../fixtures/recording-apiserver.js';
import { createTestCa } from '../../fixtures/tls.js';

let upstream: RecordingApiServer;
let agent: Agent;
let token = 'token-before-rotation';
let sut: DiscoveryUpstreamService;

beforeAll(async () => {
  const ca = createTestCa();
  upstream = await RecordingApiServer.start(ca);
  agent = new Agent({ ca: ca.caPem, keepAlive: true });
  // The credentials service's contract: a shared agent and the token as it is now (re-read as it rotates).
  const credentials = {
    target: { url: new URL(upstream.url), rejectUnauthorized: true },
    agent,
    authorization: () => `Bearer ${token}`,
  } as unknown as UpstreamCredentialsService;
  sut = new DiscoveryUpstreamService({ discovery: { upstreamTimeoutMs: 500 } } as ProxyConfig, credentials);
});

afterAll(async () => {
  agent.destroy();
  await upstream.stop();
});

describe('DiscoveryUpstreamService', () => {
  it('fetches both documents with the current token, following a rotation', async () => {
    upstream.discovery.mode = 'ok';
    await sut.fetch('openid-configuration');
    token = 'token-after-rotation';
    const jwks = JSON.parse((await sut.fetch('jwks')).toString());
    expect(jwks).toEqual(upstream.discovery.jwks);
    expect(upstream.discoveryFetches.slice(-2)).toEqual([
      { path: DISCOVERY_PATH, authorization: 'Bearer token-before-rotation' },
      { path: JWKS_PATH, authorization: 'Bearer token-after-rotation' },
    ]);
  });

  it.each([
    ['fail', /answered HTTP 500: etcdserver: request timed out/],
    ['oversize', /exceeds the 1048576-byte limit/],
    ['hang', /no answer within 500 ms/],
  ] as const)('refuses an upstream in %s mode loudly', async (mode, message) => {
    upstream.discovery.mode = mode;
    await expect(sut.fetch('jwks')).rejects.toThrow(message);
  });

  it('refuses a declared Content-Length over the cap without reading the body', async () => {
    upstream.discovery.mode = 'ok';
    await expect(sut.fetch('openid-configuration', 16)).rejects.toThrow(/over the 16-byte limit/);
  });
});
