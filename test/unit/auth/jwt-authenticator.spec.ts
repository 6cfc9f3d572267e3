/** One issuer end to end against a real HTTPS issuer: discovery, readiness, rotation and JWKS abuse. */
import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { JwtAuthenticator } from '../../../src/auth/jwt-authenticator.js';
import type { JwtAuthenticatorSpec } from '../../../src/auth/jwt-authenticator-spec.js';
import { decodeCompact } from '../../../src/auth/token-claims.js';
import { TestIssuer } from '../../fixtures/test-issuer.js';
import { createTestCa } from '../../fixtures/tls.js';

const ca = createTestCa();
let issuer: TestIssuer;
const started: JwtAuthenticator[] = [];

beforeAll(async () => {
  issuer = await TestIssuer.start(ca);
});
afterAll(async () => issuer.stop());
afterEach(() => {
  for (const a of started.splice(0)) a.stop();
  issuer.jwksMode = 'normal';
  issuer.discoveryIssuerOverride = undefined;
});

function spec(algs: JwtAuthenticatorSpec['signingAlgs'] = ['RS256']): JwtAuthenticatorSpec {
  return {
    issuer: { url: issuer.url, audiences: ['aud'], certificateAuthority: ca.caPem },
    claimValidationRules: [],
    claimMappings: { username: { claim: 'sub', prefix: '' } },
    signingAlgs: algs,
  };
}

function authenticator(s = spec(), opts: ConstructorParameters<typeof JwtAuthenticator>[1] = {}): JwtAuthenticator {
  const a = new JwtAuthenticator(s, { retryMinMs: 50, retryMaxMs: 100, ...opts });
  started.push(a);
  return a;
}

const verify = (a: JwtAuthenticator, token: string) => a.verify(token, decodeCompact(token)!);
const waitReady = async (a: JwtAuthenticator) => {
  for (let i = 0; i < 100 && !a.ready; i++) await new Promise((r) => setTimeout(r, 20));
};

describe('JwtAuthenticator', () => {
  it('verifies RS256 and, when allowed, ES256 tokens (vector 29)', async () => {
    const a = authenticator(spec(['RS256', 'ES256']));
    await a.start();
    expect(a.ready).toBe(true);
    expect((await verify(a, await issuer.sign({ aud: 'aud', sub: 'rs' }))).username).toBe('rs');
    expect((await verify(a, await issuer.sign({ aud: 'aud', sub: 'es' }, { alg: 'ES256' }))).username).toBe('es');
  });

  it('refuses an algorithm outside the allowlist before touching keys (vector 28)', async () => {
    const a = authenticator();
    await a.start();
    await expect(verify(a, await issuer.sign({ aud: 'aud', sub: 'x' }, { alg: 'ES256' }))).rejects.toThrow(
      'oidc: verify token: oidc: id token signed with unsupported algorithm, expected ["RS256"] got "ES256"',
    );
  });

  it('tries every key for a token without kid (vector 36)', async () => {
    const a = authenticator();
    await a.start();
    expect((await verify(a, await issuer.sign({ aud: 'aud', sub: 'nokid' }, { kid: null }))).username).toBe('nokid');
  });

  it('reports claim errors before signature errors (vector 38)', async () => {
    const a = authenticator();
    await a.start();
    const expired = await issuer.sign({ aud: 'aud', sub: 'x', exp: Math.floor(Date.now() / 1000) - 5 });
    const tampered = `${expired.slice(0, -4)}AAAA`;
    await expect(verify(a, tampered)).rejects.toThrow('token is expired');
  });

  it('says it is not initialized before discovery succeeds', async () => {
    const a = authenticator();
    expect(a.status()).toEqual({ issuer: issuer.url, state: 'discovering', keys: 0 });
    await expect(verify(a, await issuer.sign({ aud: 'aud', sub: 'x' }))).rejects.toThrow('oidc: authenticator not initialized');
  });

  it('reads discovery from discoveryURL when set, and from the well-known path when it is absent or empty', async () => {
    issuer.routes.set('/elsewhere/openid-configuration', { code: 200, body: JSON.stringify({ issuer: issuer.url, jwks_uri: `${issuer.url}/keys` }) });
    const wellKnownFetches = issuer.discoveryFetches;
    const custom = authenticator({ ...spec(), issuer: { ...spec().issuer, discoveryURL: `${issuer.url}/elsewhere/openid-configuration` } });
    await custom.start();
    expect(custom.ready).toBe(true);
    expect(issuer.routeRequests.map((r) => r.path)).toContain('/elsewhere/openid-configuration');
    expect(issuer.discoveryFetches).toBe(wellKnownFetches);
    const empty = authenticator({ ...spec(), issuer: { ...spec().issuer, discoveryURL: '' } });
    await empty.start();
    expect(empty.ready).toBe(true);
    expect(issuer.discoveryFetches).toBe(wellKnownFetches + 1);
    issuer.routes.delete('/elsewhere/openid-configuration');
  });

  it('never becomes ready when the discovery document names another issuer (vector 6)', async () => {
    issuer.discoveryIssuerOverride = 'https://someone-else.example';
    const a = authenticator();
    await a.start();
    expect(a.ready).toBe(false);
    expect(a.status().lastError).toContain('oidc: issuer did not match the issuer returned by provider');
  });

  it('becomes ready when a down issuer comes back', async () => {
    await issuer.stop();
    const a = authenticator();
    await a.start();
    expect(a.ready).toBe(false);
    expect(a.status()).toMatchObject({ state: 'failed', keys: 0, lastError: expect.any(String) });
    await issuer.restart();
    await waitReady(a);
    expect(a.ready).toBe(true);
    const status = a.status();
    expect(status.state).toBe('ready');
    expect(status.keys).toBeGreaterThan(0);
    expect(status.lastError).toBeUndefined();
  });

  it('refuses a garbage or oversized JWKS', async () => {
    for (const mode of ['garbage', 'huge'] as const) {
      issuer.jwksMode = mode;
      const a = authenticator();
      await a.start();
      expect(a.ready).toBe(false);
      expect(a.status().lastError).toMatch(mode === 'garbage' ? /not valid JSON/ : /exceeds/);
    }
  });

  it('accepts a rotated key after one refetch, and a flood of bogus kids costs one fetch per cooldown', async () => {
    const a = authenticator(spec(), { unknownKidCooldownMs: 60_000 });
    await a.start();
    const fetchesAfterStart = a.jwksFetches;
    await issuer.rotateKeys();
    expect((await verify(a, await issuer.sign({ aud: 'aud', sub: 'rotated' }))).username).toBe('rotated');
    expect(a.jwksFetches).toBe(fetchesAfterStart + 1);
    const bogus = await Promise.allSettled(Array.from({ length: 50 }, async (_, i) => verify(a, await issuer.sign({ aud: 'aud', sub: 'x' }, { kid: `bogus-${i}` }))));
    expect(bogus.every((r) => r.status === 'rejected')).toBe(true);
    expect(a.jwksFetches).toBe(fetchesAfterStart + 1);
  });

  it('keeps verifying with cached keys while the issuer is down', async () => {
    const a = authenticator();
    await a.start();
    const token = await issuer.sign({ aud: 'aud', sub: 'cached' });
    await issuer.stop();
    try {
      expect((await verify(a, token)).username).toBe('cached');
    } finally {
      await issuer.restart();
    }
  });
});
