import { describe, expect, it } from '@jest/globals';
import { compileValidatedSpec, type JwtAuthenticatorSpec } from '../../../src/auth/jwt-authenticator-spec.js';
import { checkStandardClaims, decodeCompact, mapClaims, unverifiedIssuer } from '../../../src/auth/token-claims.js';

const ISSUER = 'https://auth.example.com';
const NOW = Date.parse('2026-11-22T12:00:00Z');
const nowS = NOW / 1000;

function spec(overrides: Partial<JwtAuthenticatorSpec['claimMappings']> = {}, more: Partial<JwtAuthenticatorSpec> = {}): JwtAuthenticatorSpec {
  return {
    issuer: { url: ISSUER, audiences: ['my-client'] },
    claimValidationRules: [],
    claimMappings: { username: { claim: 'username', prefix: 'prefix:' }, ...overrides },
    signingAlgs: ['RS256'],
    ...more,
  };
}

function compact(claims: Record<string, unknown>, header: Record<string, unknown> = { alg: 'RS256' }): string {
  const enc = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');
  return `${enc(header)}.${enc(claims)}.sig`;
}

describe('decodeCompact and issuer selection (vectors 1-5)', () => {
  it.each([
    ['JSON serialisation', '{"payload":"x"}'],
    ['two parts', 'a.b'],
    ['four parts', 'a.b.c.d'],
    ['padded base64', `${Buffer.from('{}').toString('base64')}==.e30.x`],
    ['a payload that is not JSON', `e30.${Buffer.from('nope').toString('base64url')}.x`],
    ['an oversized token', `e30.${'a'.repeat(20_000)}.x`],
  ])('skips %s', (_name, token) => {
    expect(decodeCompact(token)).toBeUndefined();
  });

  it.each([
    [{ iss: ISSUER }, ISSUER],
    [{ iss: 'accounts.google.com' }, 'https://accounts.google.com'],
    [{ iss: `${ISSUER}/` }, `${ISSUER}/`],
    [{ iss: 42 }, undefined],
  ])('reads the unverified issuer of %j exactly', (claims, expected) => {
    expect(unverifiedIssuer(decodeCompact(compact(claims))!)).toBe(expected);
  });
});

describe('checkStandardClaims', () => {
  const ok = { iss: ISSUER, aud: 'my-client', exp: nowS + 600 };
  it.each([
    ['a single string audience (vector 11)', ok, spec()],
    ['aud containing the client among others, azp ignored (vector 13)', { ...ok, aud: ['not-my-client', 'my-client'], azp: 'not-my-client' }, spec()],
    ['one of several configured audiences (vector 14)', { ...ok, aud: ['my-client'] }, spec({}, { issuer: { url: ISSUER, audiences: ['random-client', 'my-client'], audienceMatchPolicy: 'MatchAny' } })],
    ['nbf 30 s ahead, inside the 60 s leeway (vector 25)', { ...ok, nbf: nowS + 30 }, spec()],
    ['a future iat, which is never compared (vector 26)', { ...ok, iat: nowS + 3600 }, spec()],
    ['a float exp (vector 23)', { ...ok, exp: nowS + 600.5 }, spec()],
    ['exp exactly now', { ...ok, exp: nowS }, spec()],
    ['claim sources that all exist, including an aggregated one (vector 77)', { ...ok, _claim_names: { groups: 's1', roles: 's2' }, _claim_sources: { s1: { endpoint: 'https://x', access_token: 't' }, s2: { JWT: 'a.b.c' } } }, spec()],
  ])('accepts %s', (_name, claims, s) => {
    expect(() => checkStandardClaims(decodeCompact(compact(claims))!, s, NOW)).not.toThrow();
  });

  it.each([
    ['another audience (vector 12)', { ...ok, aud: 'not-my-client' }, spec(), 'oidc: verify token: oidc: expected audience "my-client" got ["not-my-client"]'],
    ['no configured audience, sorted list (vector 16)', { ...ok, aud: ['not-my-client'] }, spec({}, { issuer: { url: ISSUER, audiences: ['random-client', 'my-client'] } }), 'oidc: verify token: oidc: expected audience in ["my-client" "random-client"] got ["not-my-client"]'],
    ['aud missing (vector 19)', { iss: ISSUER, exp: nowS + 600 }, spec(), 'oidc: verify token: oidc: expected audience "my-client" got []'],
    ['exp an hour ago (vector 20)', { ...ok, exp: nowS - 3600 }, spec(), 'oidc: verify token: oidc: token is expired (Token Expiry: 2026-11-22 11:00:00 +0000 UTC)'],
    ['exp one second ago: no leeway (vector 21)', { ...ok, exp: nowS - 1 }, spec(), 'token is expired'],
    ['exp missing (vector 22)', { iss: ISSUER, aud: 'my-client' }, spec(), 'oidc: token is expired (Token Expiry: 0001-01-01 00:00:00 +0000 UTC)'],
    ['nbf an hour ahead (vector 24)', { ...ok, nbf: nowS + 3600 }, spec(), 'before the nbf (not before) time'],
    ['a non-numeric iat (vector 26)', { ...ok, iat: 'yesterday' }, spec(), 'failed to unmarshal claims'],
    ['another issuer', { ...ok, iss: 'https://example.com' }, spec(), 'id token issued by a different provider'],
    ['a claim name whose source is missing, before the issuer check (vector 70)', { ...ok, iss: 'https://example.com', _claim_names: { groups: 's1' }, _claim_sources: { s2: {} } }, spec(), 'oidc: verify token: oidc: source does not exist'],
    ['claim names without sources (vector 71)', { ...ok, _claim_names: { groups: 's1' } }, spec(), 'oidc: verify token: oidc: source does not exist'],
    ['an empty source name', { ...ok, _claim_names: { groups: '' }, _claim_sources: { '': {} } }, spec(), 'oidc: verify token: oidc: failed to obtain source from claim name'],
    ['_claim_names that is not an object of strings', { ...ok, _claim_names: { groups: 1 } }, spec(), 'oidc: verify token: oidc: failed to unmarshal claims: _claim_names'],
    ['_claim_sources with a non-string endpoint', { ...ok, _claim_names: { groups: 's1' }, _claim_sources: { s1: { endpoint: 7 } } }, spec(), 'oidc: verify token: oidc: failed to unmarshal claims: _claim_sources'],
  ])('refuses %s', (_name, claims, s, message) => {
    expect(() => checkStandardClaims(decodeCompact(compact(claims))!, s, NOW)).toThrow(message);
  });
});

describe('mapClaims', () => {
  it.each([
    ['username with prefix (vector 49)', spec(), { username: 'jane' }, { username: 'prefix:jane', groups: [], extra: {} }],
    ['an empty username claim with a prefix gives the bare prefix (vector 41)', spec(), { username: '' }, { username: 'prefix:', groups: [], extra: {} }],
    ['email with email_verified true (vector 45)', spec({ username: { claim: 'email', prefix: '' } }), { email: 'jane@example.com', email_verified: true }, { username: 'jane@example.com', groups: [], extra: {} }],
    ['email without email_verified (vector 47)', spec({ username: { claim: 'email', prefix: '' } }), { email: 'jane@example.com' }, { username: 'jane@example.com', groups: [], extra: {} }],
    ['email_verified ignored for other claims', spec(), { username: 'jane', email_verified: false }, { username: 'prefix:jane', groups: [], extra: {} }],
    ['groups as an array (vector 57)', spec({ groups: { claim: 'groups', prefix: '' } }), { username: 'j', groups: ['team1', 'team2'] }, { username: 'prefix:j', groups: ['team1', 'team2'], extra: {} }],
    ['groups as a string (vector 58)', spec({ groups: { claim: 'groups', prefix: '' } }), { username: 'j', groups: 'team1' }, { username: 'prefix:j', groups: ['team1'], extra: {} }],
    ['groups missing (vector 59)', spec({ groups: { claim: 'groups', prefix: '' } }), { username: 'j' }, { username: 'prefix:j', groups: [], extra: {} }],
    ['groups null (vector 61)', spec({ groups: { claim: 'groups', prefix: '' } }), { username: 'j', groups: null }, { username: 'prefix:j', groups: [], extra: {} }],
    ['groups with a prefix (vector 62)', spec({ groups: { claim: 'groups', prefix: 'groups:' } }), { username: 'j', groups: ['team1'] }, { username: 'prefix:j', groups: ['groups:team1'], extra: {} }],
    ['uid from a claim (vector 88)', spec({ uid: { claim: 'uid' } }), { username: 'j', uid: '1234' }, { username: 'prefix:j', uid: '1234', groups: [], extra: {} }],
    ['credential-id from jti (vector 94)', spec(), { username: 'j', jti: '1234' }, { username: 'prefix:j', groups: [], extra: { 'authentication.kubernetes.io/credential-id': ['JTI=1234'] } }],
    ['no credential-id from a numeric jti (vector 94)', spec(), { username: 'j', jti: 1234 }, { username: 'prefix:j', groups: [], extra: {} }],
  ])('maps %s', (_name, s, claims, user) => {
    expect(mapClaims(claims, compileValidatedSpec(s))).toEqual(user);
  });

  const rules = spec({}, { claimValidationRules: [{ claim: 'hd', requiredValue: 'example.com' }, { claim: 'sub', requiredValue: 'test' }] });
  it.each([
    ['a missing username claim (vector 39)', spec(), {}, 'oidc: parse username claims "username": claim not present'],
    ['a numeric username (vector 40)', spec(), { username: 42 }, 'json: cannot unmarshal number into Go value of type string'],
    ['email_verified false (vector 46)', spec({ username: { claim: 'email', prefix: '' } }), { email: 'j@e', email_verified: false }, 'oidc: email not verified'],
    ['email_verified as a string (vector 48)', spec({ username: { claim: 'email', prefix: '' } }), { email: 'j@e', email_verified: 'false' }, "oidc: parse 'email_verified' claim: json: cannot unmarshal string into Go value of type bool"],
    ['numeric groups (vector 60)', spec({ groups: { claim: 'groups', prefix: '' } }), { username: 'j', groups: 42 }, 'oidc: parse groups claim "groups": json: cannot unmarshal number'],
    ['mixed groups (vector 61)', spec({ groups: { claim: 'groups', prefix: '' } }), { username: 'j', groups: [1, 'a'] }, 'oidc: parse groups claim "groups"'],
    ['a missing required claim (vector 81)', rules, { username: 'j', sub: 'test' }, 'oidc: required claim hd not present in ID token'],
    ['a wrong required value (vector 82)', rules, { username: 'j', hd: 'example.org', sub: 'test' }, 'oidc: required claim hd value does not match. Got = example.org, want = example.com'],
    ['a non-string required claim (vector 83)', rules, { username: 'j', hd: 123, sub: 'test' }, 'oidc: parse claim hd: json: cannot unmarshal number into Go value of type string'],
    ['a missing uid claim (vector 89)', spec({ uid: { claim: 'uid' } }), { username: 'j' }, 'oidc: parse uid claim "uid": claim not present'],
  ])('refuses %s', (_name, s, claims, message) => {
    expect(() => mapClaims(claims, compileValidatedSpec(s))).toThrow(message);
  });

  it('accepts required claims that are present and equal (vector 80)', () => {
    expect(mapClaims({ username: 'j', hd: 'example.com', sub: 'test' }, compileValidatedSpec(rules)).username).toBe('prefix:j');
  });
});
