/** Issuer selection by the token's unverified `iss` (vectors 1–3) and reuse of unchanged authenticators on reload. */
import { describe, expect, it } from '@jest/globals';
import { AuthenticatorSet, unknownIssuerMessage } from '../../../src/auth/authenticator-set.js';
import type { JwtAuthenticatorSpec } from '../../../src/auth/jwt-authenticator-spec.js';
import { decodeCompact } from '../../../src/auth/token-claims.js';

const spec = (url: string, prefix = ''): JwtAuthenticatorSpec => ({
  issuer: { url, audiences: ['a'] },
  claimValidationRules: [],
  claimMappings: { username: { claim: 'sub', prefix } },
  signingAlgs: ['RS256'],
});

const compact = (claims: Record<string, unknown>): string => {
  const enc = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');
  return `${enc({ alg: 'RS256' })}.${enc(claims)}.sig`;
};

const SPECS = [spec('https://auth.example.com'), spec('https://other.example.com/'), spec('https://accounts.google.com')];

describe('AuthenticatorSet.select', () => {
  const { set } = AuthenticatorSet.build(SPECS, 'h1', {});
  it.each([
    ['the exact issuer', 'https://auth.example.com', 'https://auth.example.com'],
    ['an issuer with its trailing slash', 'https://other.example.com/', 'https://other.example.com/'],
    ['accounts.google.com, coalesced (vector 2)', 'accounts.google.com', 'https://accounts.google.com'],
    ['another issuer (vector 1)', 'https://example.com', undefined],
    ['a missing trailing slash: no normalisation (vector 3)', 'https://other.example.com', undefined],
    ['an added trailing slash', 'https://auth.example.com/', undefined],
    ['a different case', 'https://AUTH.example.com', undefined],
    ['a non-string iss', 42, undefined],
  ])('selects by %s', (_name, iss, expected) => {
    expect(set.select(decodeCompact(compact({ iss }))!)?.issuer).toBe(expected);
  });

  it('explains a token that matches no issuer, bounding what it repeats of the token', () => {
    expect(unknownIssuerMessage(decodeCompact(compact({ iss: 'https://evil.example.com' }))!)).toBe('token issuer "https://evil.example.com" is not a configured issuer');
    expect(unknownIssuerMessage(decodeCompact(compact({ iss: 'x'.repeat(1000) }))!)).toHaveLength('token issuer '.length + 200 + ' is not a configured issuer'.length);
  });
});

describe('AuthenticatorSet.build on reload', () => {
  it('reuses unchanged authenticators, creates changed ones and retires removed ones', () => {
    const first = AuthenticatorSet.build(SPECS, 'h1', {}).set;
    const { set: second, created } = AuthenticatorSet.build([SPECS[0]!, spec('https://other.example.com/', 'changed:')], 'h2', {}, first);
    expect(second.hash).toBe('h2');
    expect(second.authenticators[0]).toBe(first.authenticators[0]);
    expect(created.map((a) => a.issuer)).toEqual(['https://other.example.com/']);
    expect(first.retiredBy(second).map((a) => a.issuer)).toEqual(['https://other.example.com/', 'https://accounts.google.com']);
  });
});
