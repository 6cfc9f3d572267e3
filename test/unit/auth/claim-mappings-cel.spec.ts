/**
 * Conformance vectors (docs: apiserver reference §A.5–A.10) for CEL claim mappings, claim validation
 * rules, extra mappings and user validation rules: same inputs, same accept/reject decision, same identity.
 */
import { describe, expect, it } from '@jest/globals';
import { compileValidatedSpec, type JwtAuthenticatorSpec } from '../../../src/auth/jwt-authenticator-spec.js';
import { mapClaims } from '../../../src/auth/token-claims.js';

const ISSUER = 'https://auth.example.com';
type Mappings = JwtAuthenticatorSpec['claimMappings'];

function spec(claimMappings: Partial<Mappings>, more: Partial<JwtAuthenticatorSpec> = {}): JwtAuthenticatorSpec {
  return {
    issuer: { url: ISSUER, audiences: ['my-client'] },
    claimValidationRules: [],
    claimMappings: { username: { expression: 'claims.username' }, ...claimMappings },
    signingAlgs: ['RS256'],
    ...more,
  };
}

const SA_PAYLOAD = {
  sub: 'system:serviceaccount:kube-system:coredns',
  'kubernetes.io': {
    namespace: 'kube-system',
    node: { name: 'node-1', uid: 'n-uid' },
    pod: { name: 'coredns-1', uid: 'p-uid' },
    serviceaccount: { name: 'coredns', uid: 'a087d5a0-e1dd-43ec-93ac-f13d89cd13af' },
  },
};

const SA_SPEC = spec(
  {
    username: { expression: '"system:serviceaccount:" + claims.kubernetes__dot__io.namespace + ":" + claims.kubernetes__dot__io.serviceaccount.name' },
    uid: { expression: 'claims.kubernetes__dot__io.serviceaccount.uid' },
    groups: { expression: '["system:serviceaccounts", "system:serviceaccounts:" + claims.kubernetes__dot__io.namespace]' },
    extra: [
      { key: 'authentication.kubernetes.io/pod-name', valueExpression: 'claims.kubernetes__dot__io.pod.name' },
      { key: 'authentication.kubernetes.io/pod-uid', valueExpression: 'claims["kubernetes.io"]["pod"]["uid"]' },
      { key: 'authentication.kubernetes.io/node-name', valueExpression: 'claims.?kubernetes__dot__io.node.name.orValue("")' },
    ],
  },
  {
    claimValidationRules: [
      { expression: 'claims.sub == ("system:serviceaccount:" + claims.kubernetes__dot__io.namespace + ":" + claims.kubernetes__dot__io.serviceaccount.name)' },
      { expression: 'has(claims.kubernetes__dot__io.pod.uid)' },
      { expression: 'claims["kubernetes.io"]["node"]["uid"] != ""' },
      { expression: 'claims[?"kubernetes.io"]["node"]["ip"].orValue(true)' },
    ],
  },
);

describe('CEL claim mappings: accepted tokens and their identity', () => {
  it.each([
    ['a one-space username via CEL (vector 42)', spec({}), { username: ' ' }, { username: ' ', groups: [], extra: {} }],
    ['a minimal payload mapped by expression (vector 9)', spec({ username: { expression: 'claims.user' } }), { user: 'jane' }, { username: 'jane', groups: [], extra: {} }],
    [
      'groups from split and map (vector 63)',
      spec({ groups: { expression: '(claims.roles.split(",") + claims.other_roles.split(",")).map(role, "groups:" + role)' } }),
      { username: 'j', roles: 'foo,bar', other_roles: 'baz,qux' },
      { username: 'j', groups: ['groups:foo', 'groups:bar', 'groups:baz', 'groups:qux'], extra: {} },
    ],
    ['groups null via CEL mean no groups (vector 64)', spec({ groups: { expression: 'claims.groups' } }), { username: 'j', groups: null }, { username: 'j', groups: [], extra: {} }],
    ['empty strings in a groups list are dropped (vector 64)', spec({ groups: { expression: 'claims.groups' } }), { username: 'j', groups: ['a', ''] }, { username: 'j', groups: ['a'], extra: {} }],
    [
      'an optional path to a missing key falls back (vector 65)',
      spec({ groups: { expression: "claims.turtle.foo.bar.baz.?a.b.c.d.orValue(['claus'])" } }),
      { username: 'j', turtle: { foo: { bar: { baz: {} } } } },
      { username: 'j', groups: ['claus'], extra: {} },
    ],
    ['a uid expression (vector 88)', spec({ uid: { expression: 'claims.uid' } }), { username: 'j', uid: '1234' }, { username: 'j', uid: '1234', groups: [], extra: {} }],
    [
      'extra values from a string and a list (vector 90)',
      spec({ extra: [{ key: 'example.org/foo', valueExpression: 'claims.foo' }, { key: 'example.org/bar', valueExpression: 'claims.bar' }] }),
      { username: 'j', foo: 'bar', bar: ['baz', 'qux'] },
      { username: 'j', groups: [], extra: { 'example.org/foo': ['bar'], 'example.org/bar': ['baz', 'qux'] } },
    ],
    [
      'conditional extra values with has() and optionals (vector 91)',
      spec({
        extra: [
          { key: 'example.org/admin', valueExpression: '(has(claims.is_admin) && claims.is_admin) ? "true":""' },
          { key: 'example.org/admin2', valueExpression: 'claims.?is_admin.orValue(false) == true ? "true":""' },
          { key: 'example.org/fixed', valueExpression: '"true"' },
        ],
      }),
      { username: 'j', is_admin: true },
      { username: 'j', groups: [], extra: { 'example.org/admin': ['true'], 'example.org/admin2': ['true'], 'example.org/fixed': ['true'] } },
    ],
    ['an empty extra value omits the key (vector 92)', spec({ extra: [{ key: 'example.org/foo', valueExpression: 'claims.foo' }] }), { username: 'j', foo: '' }, { username: 'j', groups: [], extra: {} }],
    [
      'credential-id is added next to mapped extras (vector 94)',
      spec({ extra: [{ key: 'example.org/foo', valueExpression: 'claims.foo' }] }),
      { username: 'j', foo: 'x', jti: '1234' },
      { username: 'j', groups: [], extra: { 'example.org/foo': ['x'], 'authentication.kubernetes.io/credential-id': ['JTI=1234'] } },
    ],
    [
      'a service-account-shaped payload with escaped and optional access (vector 87)',
      SA_SPEC,
      SA_PAYLOAD,
      {
        username: 'system:serviceaccount:kube-system:coredns',
        uid: 'a087d5a0-e1dd-43ec-93ac-f13d89cd13af',
        groups: ['system:serviceaccounts', 'system:serviceaccounts:kube-system'],
        extra: { 'authentication.kubernetes.io/pod-name': ['coredns-1'], 'authentication.kubernetes.io/pod-uid': ['p-uid'], 'authentication.kubernetes.io/node-name': ['node-1'] },
      },
    ],
    [
      'an exact audience set via sets.equivalent (vector 17)',
      spec({}, { claimValidationRules: [{ expression: 'sets.equivalent(claims.aud, ["bar", "foo", "baz"])', message: 'audience must exactly contain [bar, foo, baz]' }] }),
      { username: 'j', aud: ['foo', 'bar', 'baz'] },
      { username: 'j', groups: [], extra: {} },
    ],
    ['a CEL rule on a present claim (vector 84)', spec({}, { claimValidationRules: [{ expression: 'claims.hd == "example.com"' }] }), { username: 'j', hd: 'example.com' }, { username: 'j', groups: [], extra: {} }],
    [
      'a nested claim rule mixed with a required claim (vector 85)',
      spec({}, { claimValidationRules: [{ claim: 'hd', requiredValue: 'example.com' }, { expression: 'claims.foo.bar == "baz"' }] }),
      { username: 'j', hd: 'example.com', foo: { bar: 'baz' } },
      { username: 'j', groups: [], extra: {} },
    ],
    [
      'a user rule over extra values (vector 98)',
      spec(
        { extra: [{ key: 'example.org/foo', valueExpression: 'claims.foo' }, { key: 'example.org/baz', valueExpression: 'claims.baz' }] },
        { userValidationRules: [{ expression: "'bar' in user.extra['example.org/foo'] && 'qux' in user.extra['example.org/baz']" }] },
      ),
      { username: 'j', foo: 'bar', baz: 'qux' },
      { username: 'j', groups: [], extra: { 'example.org/foo': ['bar'], 'example.org/baz': ['qux'] } },
    ],
    [
      'a token lifetime within the KEP limit (vector 27)',
      spec({}, { claimValidationRules: [{ expression: 'claims.exp - claims.nbf <= 86400', message: 'total token lifetime must not exceed 24 hours' }] }),
      { username: 'j', exp: 1_700_086_400, nbf: 1_700_000_000 },
      { username: 'j', groups: [], extra: {} },
    ],
    ['lowerAscii on a claim', spec({ username: { expression: 'claims.email.lowerAscii()' } }), { email: 'Jane@Example.COM' }, { username: 'jane@example.com', groups: [], extra: {} }],
  ])('maps %s', (_name, s, claims, user) => {
    expect(mapClaims(claims, compileValidatedSpec(s))).toEqual(user);
  });
});

describe('CEL claim mappings: refused tokens', () => {
  it.each([
    ['a username expression yielding "" (vector 43)', spec({}), { username: '' }, 'oidc: empty username via CEL expression is not allowed'],
    ['a username expression yielding a number (vector 44)', spec({}), { username: 42 }, 'oidc: error evaluating username claim expression: username claim expression must return a string'],
    [
      'a path through a missing key (vector 65)',
      spec({ groups: { expression: 'claims.turtle.foo.bar.baz.a.b.c.d' } }),
      { username: 'j', turtle: { foo: { bar: { baz: {} } } } },
      "oidc: error evaluating group claim expression: expression 'claims.turtle.foo.bar.baz.a.b.c.d' resulted in error: no such key: a",
    ],
    [
      'a set that is not equivalent (vector 18)',
      spec({}, { claimValidationRules: [{ expression: 'sets.equivalent(claims.aud, ["bar", "foo", "baz"])', message: 'audience must exactly contain [bar, foo, baz]' }] }),
      { username: 'j', aud: ['foo', 'baz'] },
      `oidc: error evaluating claim validation expression: validation expression 'sets.equivalent(claims.aud, ["bar", "foo", "baz"])' failed: audience must exactly contain [bar, foo, baz]`,
    ],
    [
      'a rule on an absent claim is an error, not false (vector 84)',
      spec({}, { claimValidationRules: [{ expression: 'claims.hd == "example.com"' }] }),
      { username: 'j' },
      `oidc: error evaluating claim validation expression: expression 'claims.hd == "example.com"' resulted in error: no such key: hd`,
    ],
    [
      'a token lifetime over the KEP limit (vector 27)',
      spec({}, { claimValidationRules: [{ expression: 'claims.exp - claims.nbf <= 86400', message: 'total token lifetime must not exceed 24 hours' }] }),
      { username: 'j', exp: 1_700_172_800, nbf: 1_700_000_000 },
      'failed: total token lifetime must not exceed 24 hours',
    ],
    ['a missing uid via expression (vector 89)', spec({ uid: { expression: 'claims.uid' } }), { username: 'j' }, "oidc: error evaluating uid claim expression: expression 'claims.uid' resulted in error: no such key: uid"],
    ['a non-string uid via expression (vector 89)', spec({ uid: { expression: 'claims.uid' } }), { username: 'j', uid: 7 }, 'oidc: error evaluating uid claim expression: uid claim expression must return a string'],
    [
      'a reserved username prefix (vector 96)',
      spec({ username: { claim: 'username', prefix: 'system:' } }, { userValidationRules: [{ expression: "!user.username.startsWith('system:')", message: 'username cannot used reserved system: prefix' }] }),
      { username: 'j' },
      "oidc: error evaluating user info validation rule: validation expression '!user.username.startsWith('system:')' failed: username cannot used reserved system: prefix",
    ],
    [
      'a reserved groups prefix (vector 97)',
      spec(
        { groups: { claim: 'groups', prefix: 'system:' } },
        { userValidationRules: [{ expression: "user.groups.all(group, !group.startsWith('system:'))", message: 'groups cannot used reserved system: prefix' }] },
      ),
      { username: 'j', groups: ['admins'] },
      'failed: groups cannot used reserved system: prefix',
    ],
    [
      'a revoked credential id (vector 99)',
      spec({}, { userValidationRules: [{ expression: "!(user.extra[?'authentication.kubernetes.io/credential-id'][0].orValue('') in ['JTI=ea28ed49-2e11-4280-9ec5-bc3d1d84661a'])", message: 'credential is revoked' }] }),
      { username: 'j', jti: 'ea28ed49-2e11-4280-9ec5-bc3d1d84661a' },
      'failed: credential is revoked',
    ],
    ['mapping order: a missing username wins over a failing rule (A.0)', spec({ username: { claim: 'username', prefix: '' } }, { claimValidationRules: [{ expression: 'false' }] }), {}, 'oidc: parse username claims "username": claim not present'],
  ])('refuses %s', (_name, s, claims, message) => {
    expect(() => mapClaims(claims, compileValidatedSpec(s))).toThrow(message);
  });
});
