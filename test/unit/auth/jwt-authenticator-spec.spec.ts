import { describe, expect, it } from '@jest/globals';
import { compileSpec, compileValidatedSpec, type JwtAuthenticatorSpec } from '../../../src/auth/jwt-authenticator-spec.js';
import { mapClaims } from '../../../src/auth/token-claims.js';

const spec = (): JwtAuthenticatorSpec => ({
  issuer: { url: 'https://auth.example.com', audiences: ['my-client'] },
  claimValidationRules: [],
  claimMappings: { username: { expression: 'claims.sub + ":" + claims.email' } },
  signingAlgs: ['RS256'],
});

describe('compileSpec', () => {
  it('compiles a spec object once: validation and the authenticator built from the same object share the result', () => {
    const s = spec();
    const first = compileSpec(s);
    expect(first.problems).toEqual([]);
    expect(compileSpec(s)).toBe(first);
    expect(compileValidatedSpec(s)).toBe(first.compiled);
  });

  it('compiles an equal but distinct spec on its own, to the same behaviour', () => {
    const a = compileValidatedSpec(spec());
    const b = compileValidatedSpec(spec());
    expect(b).not.toBe(a);
    expect(mapClaims({ sub: 'alice', email: 'a@example.com' }, a).username).toBe('alice:a@example.com');
    expect(mapClaims({ sub: 'bob', email: 'b@example.com' }, b).username).toBe('bob:b@example.com');
  });

  it('remembers refusals too, with every problem', () => {
    const bad: JwtAuthenticatorSpec = { ...spec(), claimMappings: { username: { expression: 'claims.sub == "x"' } } };
    const first = compileSpec(bad);
    expect(first.compiled).toBeUndefined();
    expect(first.problems).toEqual([{ path: 'claimMappings.username.expression', expression: 'claims.sub == "x"', message: 'must evaluate to string' }]);
    expect(compileSpec(bad)).toBe(first);
  });

  it('lists every problem in field order: username, groups, uid, extra, claim rules, user rules', () => {
    const bad: JwtAuthenticatorSpec = {
      ...spec(),
      claimValidationRules: [{ claim: 'hd', requiredValue: 'example.com' }, { expression: 'claims.sub' }],
      claimMappings: {
        username: { expression: 'claims.sub == "x"' },
        groups: { expression: '1' },
        uid: { expression: 'true' },
        extra: [
          { key: 'example.com/ok', valueExpression: 'claims.sub' },
          { key: 'example.com/bad', valueExpression: 'nope' },
        ],
      },
      userValidationRules: [{ expression: 'user.username' }],
    };
    expect(compileSpec(bad).problems.map((p) => `${p.path}: ${p.message}`)).toEqual([
      'claimMappings.username.expression: must evaluate to string',
      'claimMappings.groups.expression: must evaluate to string or list of strings',
      'claimMappings.uid.expression: must evaluate to string',
      'claimMappings.extra[1].valueExpression: compilation failed: Unknown variable: nope',
      'claimValidationRules[1].expression: must evaluate to bool',
      'userValidationRules[0].expression: must evaluate to bool',
    ]);
  });

  it('evaluates an expression used in two places at both', () => {
    const s: JwtAuthenticatorSpec = { ...spec(), claimMappings: { username: { expression: 'claims.sub' }, uid: { expression: 'claims.sub' }, extra: [{ key: 'example.com/sub', valueExpression: 'claims.sub' }] } };
    expect(mapClaims({ sub: 'alice' }, compileValidatedSpec(s))).toEqual({ username: 'alice', uid: 'alice', groups: [], extra: { 'example.com/sub': ['alice'] } });
  });
});
