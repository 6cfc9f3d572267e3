/**
 * Distributed groups claims (vectors 67–79) against real HTTPS issuers: the ID token names a source, the
 * authenticator fetches the source's endpoint with its access token and verifies the JWT it returns.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { FOREIGN_RETRY_MS, MAX_FOREIGN_ISSUERS } from '../../../src/auth/distributed-claims.js';
import { JwtAuthenticator } from '../../../src/auth/jwt-authenticator.js';
import type { JwtAuthenticatorSpec } from '../../../src/auth/jwt-authenticator-spec.js';
import { decodeCompact } from '../../../src/auth/token-claims.js';
import { TestIssuer } from '../../fixtures/test-issuer.js';
import { createTestCa } from '../../fixtures/tls.js';

const ca = createTestCa();
let issuer: TestIssuer;
let other: TestIssuer;
const started: JwtAuthenticator[] = [];

beforeAll(async () => {
  issuer = await TestIssuer.start(ca);
  other = await TestIssuer.start(ca);
});
afterAll(async () => {
  await issuer.stop();
  await other.stop();
});
afterEach(() => {
  for (const a of started.splice(0)) a.stop();
  issuer.routes.clear();
  issuer.routeRequests.length = 0;
});

function spec(groups: JwtAuthenticatorSpec['claimMappings']['groups'] = { claim: 'groups', prefix: '' }): JwtAuthenticatorSpec {
  return {
    issuer: { url: issuer.url, audiences: ['my-client'], certificateAuthority: ca.caPem },
    claimValidationRules: [],
    claimMappings: { username: { claim: 'sub', prefix: '' }, ...(groups ? { groups } : {}) },
    signingAlgs: ['RS256', 'ES256'],
  };
}

async function ready(s = spec()): Promise<JwtAuthenticator> {
  const a = new JwtAuthenticator(s, { retryMinMs: 50, retryMaxMs: 100 });
  started.push(a);
  await a.start();
  expect(a.ready).toBe(true);
  return a;
}

const verify = (a: JwtAuthenticator, token: string) => a.verify(token, decodeCompact(token)!);

/** An ID token whose `claim` lives at `<issuer>/groups`, reached with access token `groups_token`. */
function idToken(claim = 'groups', extra: Record<string, unknown> = {}): Promise<string> {
  return issuer.sign({
    aud: 'my-client',
    sub: 'jane',
    _claim_names: { [claim]: 'src1' },
    _claim_sources: { src1: { endpoint: `${issuer.url}/groups`, access_token: 'groups_token' } },
    ...extra,
  });
}

/** The endpoint answers with a JWT signed by `by` (default: the same issuer). */
async function serveClaims(claims: Record<string, unknown>, by: TestIssuer = issuer): Promise<void> {
  issuer.routes.set('/groups', { code: 200, body: await by.sign({ aud: 'my-client', ...claims }) });
}

describe('distributed claims', () => {
  it('fetches the groups with the access token and verifies the answer (vector 67)', async () => {
    const a = await ready();
    await serveClaims({ groups: ['team1', 'team2'] });
    expect((await verify(a, await idToken())).groups).toEqual(['team1', 'team2']);
    expect(issuer.routeRequests).toEqual([{ path: '/groups', authorization: 'Bearer groups_token' }]);
  });

  it('applies the groups prefix to distributed groups (vector 68)', async () => {
    const a = await ready(spec({ claim: 'groups', prefix: 'groups:' }));
    await serveClaims({ groups: ['team1', 'team2'] });
    expect((await verify(a, await idToken())).groups).toEqual(['groups:team1', 'groups:team2']);
  });

  it('works for any claim name (vector 69)', async () => {
    const a = await ready(spec({ claim: 'rabbits', prefix: '' }));
    await serveClaims({ rabbits: ['team1', 'team2'] });
    expect((await verify(a, await idToken('rabbits'))).groups).toEqual(['team1', 'team2']);
  });

  it('refuses a claim name whose source does not exist (vectors 70, 71)', async () => {
    const a = await ready();
    const missing = await issuer.sign({ aud: 'my-client', sub: 'jane', _claim_names: { groups: 'src1' }, _claim_sources: { src2: { endpoint: `${issuer.url}/groups` } } });
    await expect(verify(a, missing)).rejects.toThrow('oidc: verify token: oidc: source does not exist');
    const none = await issuer.sign({ aud: 'my-client', sub: 'jane', _claim_names: { groups: 'src1' } });
    await expect(verify(a, none)).rejects.toThrow('oidc: verify token: oidc: source does not exist');
    expect(issuer.routeRequests).toHaveLength(0);
  });

  it('refuses an answer that lacks the claim (vector 72)', async () => {
    const a = await ready();
    await serveClaims({ other: ['team1'] });
    await expect(verify(a, await idToken())).rejects.toThrow(
      `oidc: could not expand distributed claims: jwt returned by distributed claim endpoint "${issuer.url}/groups" did not contain claim: groups`,
    );
  });

  it('refuses an answer for another audience (vector 73)', async () => {
    const a = await ready();
    issuer.routes.set('/groups', { code: 200, body: await issuer.sign({ aud: 'your-client', groups: ['team1'] }) });
    await expect(verify(a, await idToken())).rejects.toThrow(
      'oidc: could not expand distributed claims: verify distributed claim token: oidc: expected audience "my-client" got ["your-client"]',
    );
  });

  it('refuses an expired answer (vector 74)', async () => {
    const a = await ready();
    await serveClaims({ groups: ['team1'], exp: Math.floor(Date.now() / 1000) - 10 });
    await expect(verify(a, await idToken())).rejects.toThrow('oidc: could not expand distributed claims: verify distributed claim token: oidc: token is expired (Token Expiry: ');
  });

  it('refuses an answer whose signature does not verify', async () => {
    const a = await ready();
    const good = await issuer.sign({ aud: 'my-client', groups: ['team1'] });
    issuer.routes.set('/groups', { code: 200, body: `${good.slice(0, -6)}AAAAAA` });
    await expect(verify(a, await idToken())).rejects.toThrow('oidc: could not expand distributed claims: verify distributed claim token: failed to verify signature');
  });

  it('refuses an answer signed with an algorithm the authenticator does not allow', async () => {
    const a = await ready({ ...spec(), signingAlgs: ['RS256'] });
    issuer.routes.set('/groups', { code: 200, body: await issuer.sign({ aud: 'my-client', groups: ['team1'] }, { alg: 'ES256' }) });
    await expect(verify(a, await idToken())).rejects.toThrow(
      'oidc: could not expand distributed claims: verify distributed claim token: oidc: id token signed with unsupported algorithm, expected ["RS256"] got "ES256"',
    );
  });

  it('lets a normal claim win without fetching (vector 75)', async () => {
    const a = await ready();
    await serveClaims({ groups: ['team2'] });
    expect((await verify(a, await idToken('groups', { groups: 'team1' }))).groups).toEqual(['team1']);
    expect(issuer.routeRequests).toHaveLength(0);
  });

  it('accepts a distributed value given as a string (vector 76)', async () => {
    const a = await ready();
    await serveClaims({ groups: 'team1' });
    expect((await verify(a, await idToken())).groups).toEqual(['team1']);
  });

  it('ignores an aggregated claim (vector 77)', async () => {
    const a = await ready();
    const token = await issuer.sign({ aud: 'my-client', sub: 'jane', _claim_names: { groups: 'src1' }, _claim_sources: { src1: { JWT: 'some.jwt.token' } } });
    expect((await verify(a, token)).groups).toEqual([]);
    expect(issuer.routeRequests).toHaveLength(0);
  });

  it('reports a transport failure and a non-2xx answer (vector 78)', async () => {
    const a = await ready();
    const unreachable = 'https://127.0.0.1:1/groups';
    const token = await issuer.sign({ aud: 'my-client', sub: 'jane', _claim_names: { groups: 'src1' }, _claim_sources: { src1: { endpoint: unreachable, access_token: 't' } } });
    await expect(verify(a, token)).rejects.toThrow(`oidc: could not expand distributed claims: while getting distributed claim "groups": Get "${unreachable}": `);
    issuer.routes.set('/groups', { code: 404, body: 'no' });
    await expect(verify(a, await idToken())).rejects.toThrow(
      'oidc: could not expand distributed claims: while getting distributed claim "groups": error while getting distributed claim JWT: 404 Not Found',
    );
  });

  it('does not cache resolved claims: every verification fetches (vector 79)', async () => {
    const a = await ready();
    await serveClaims({ groups: ['team1'] });
    const token = await idToken();
    await verify(a, token);
    await verify(a, token);
    expect(a.distributedClaimFetches).toBe(2);
  });

  it('verifies an answer signed by another issuer against that issuer, discovered on first use', async () => {
    const a = await ready();
    await serveClaims({ groups: ['from-other'] }, other);
    const before = other.discoveryFetches;
    expect((await verify(a, await idToken())).groups).toEqual(['from-other']);
    expect((await verify(a, await idToken())).groups).toEqual(['from-other']);
    expect(other.discoveryFetches).toBe(before + 1);
  });

  it('discovers at most MAX_FOREIGN_ISSUERS other issuers, and a failed one frees its slot after the retry interval', async () => {
    let offsetMs = 0;
    const a = new JwtAuthenticator(spec(), { now: () => Date.now() + offsetMs });
    started.push(a);
    await a.start();
    const answerFrom = async (i: number) => {
      // Nothing listens on port 1: discovery of this issuer fails at once.
      issuer.routes.set('/groups', { code: 200, body: await issuer.sign({ iss: `https://127.0.0.1:1/issuer-${i}`, aud: 'my-client', groups: ['x'] }) });
      return verify(a, await idToken());
    };
    for (let i = 0; i < MAX_FOREIGN_ISSUERS; i++) {
      await expect(answerFrom(i)).rejects.toThrow(`verifier not initialized for issuer: "https://127.0.0.1:1/issuer-${i}"`);
    }
    await expect(answerFrom(MAX_FOREIGN_ISSUERS)).rejects.toThrow(`more than ${MAX_FOREIGN_ISSUERS} distributed claim issuers`);
    offsetMs = FOREIGN_RETRY_MS;
    await expect(answerFrom(MAX_FOREIGN_ISSUERS)).rejects.toThrow(`verifier not initialized for issuer: "https://127.0.0.1:1/issuer-${MAX_FOREIGN_ISSUERS}"`);
  });

  it('never sends the access token over plain http', async () => {
    const a = await ready();
    const token = await issuer.sign({ aud: 'my-client', sub: 'jane', _claim_names: { groups: 'src1' }, _claim_sources: { src1: { endpoint: 'http://127.0.0.1:1/groups', access_token: 't' } } });
    await expect(verify(a, token)).rejects.toThrow('while getting distributed claim "groups": endpoint "http://127.0.0.1:1/groups" must use https');
  });

  it('resolves nothing when groups are mapped by an expression', async () => {
    const a = await ready(spec({ expression: 'has(claims.groups) ? claims.groups : []' }));
    await serveClaims({ groups: ['team1'] });
    expect((await verify(a, await idToken())).groups).toEqual([]);
    expect(issuer.routeRequests).toHaveLength(0);
  });

  it('check-token reports a distributed-claim failure with the other reasons', async () => {
    const a = await ready();
    issuer.routes.set('/groups', { code: 500, body: '' });
    const token = await idToken();
    const { user, reasons } = await a.diagnose(token, decodeCompact(token)!);
    expect(user).toBeUndefined();
    expect(reasons).toEqual(['oidc: could not expand distributed claims: while getting distributed claim "groups": error while getting distributed claim JWT: 500 Internal Server Error']);
  });

  it('check-token never calls the endpoint of a token whose signature does not verify', async () => {
    const a = await ready();
    await serveClaims({ groups: ['team1'] });
    const good = await idToken();
    const tampered = `${good.slice(0, -6)}AAAAAA`;
    const { reasons } = await a.diagnose(tampered, decodeCompact(tampered)!);
    expect(reasons[0]).toContain('failed to verify signature');
    expect(issuer.routeRequests).toHaveLength(0);
  });
});
