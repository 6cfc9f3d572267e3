/**
 * The --authentication-config file: structured-configuration validation vectors 101–114 (same decision,
 * the API server's field paths and wording), YAML and JSON, every problem listed, and the flag rules
 * (vector 115: mutually exclusive with --oidc-*).
 */
import { describe, expect, it } from '@jest/globals';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { parseAuthenticationConfig } from '../../../src/config/authentication-config.js';
import { parseConfig } from '../../../src/config/config-parser.js';
import { ALLOWED_SIGNING_ALGS } from '../../../src/config/proxy-config.js';
import { createTestCa } from '../../fixtures/tls.js';

type Jwt = Record<string, unknown>;

const baseJwt = (overrides: Jwt = {}): Jwt => ({
  issuer: { url: 'https://issuer-url', audiences: ['audience'] },
  claimMappings: { username: { claim: 'sub', prefix: '' } },
  ...overrides,
});

function fileOf(jwt: Jwt[], apiVersion = 'apiserver.config.k8s.io/v1'): string {
  return stringify({ apiVersion, kind: 'AuthenticationConfiguration', jwt });
}

function errorsOf(jwt: Jwt[]): readonly string[] {
  const result = parseAuthenticationConfig(fileOf(jwt), []);
  return result.ok ? [] : result.errors;
}

describe('parseAuthenticationConfig accepts', () => {
  it.each([
    ['apiserver.config.k8s.io/v1'],
    ['apiserver.config.k8s.io/v1beta1'],
  ])('a minimal %s file, allowing every asymmetric algorithm (vector 33)', (apiVersion) => {
    const result = parseAuthenticationConfig(fileOf([baseJwt()], apiVersion), []);
    expect(result.ok && result.config.jwt).toEqual([
      { issuer: { url: 'https://issuer-url', audiences: ['audience'] }, claimValidationRules: [], claimMappings: { username: { claim: 'sub', prefix: '' } }, signingAlgs: [...ALLOWED_SIGNING_ALGS] },
    ]);
  });

  it('JSON as well as YAML, and hashes the bytes', () => {
    const json = JSON.stringify({ apiVersion: 'apiserver.config.k8s.io/v1', kind: 'AuthenticationConfiguration', jwt: [baseJwt()] });
    const a = parseAuthenticationConfig(json, []);
    const b = parseAuthenticationConfig(`${json}\n`, []);
    expect(a.ok && b.ok && a.config.hash !== b.config.hash && /^[0-9a-f]{16}$/.test(a.config.hash)).toBe(true);
  });

  it('an empty fragment in issuer.url and discoveryURL, which kube-apiserver does not count as a fragment (as for --oidc-issuer-url)', () => {
    const result = parseAuthenticationConfig(fileOf([baseJwt({ issuer: { url: 'https://issuer-url/#', discoveryURL: 'https://discovery/#', audiences: ['a'] } })]), []);
    expect(result.ok && result.config.jwt.map((j) => j.issuer)).toEqual([{ url: 'https://issuer-url/#', discoveryURL: 'https://discovery/#', audiences: ['a'] }]);
  });

  it('two issuers, expressions, extra and user rules, and an email username guarded by email_verified', () => {
    const result = parseAuthenticationConfig(
      fileOf([
        baseJwt({
          claimValidationRules: [{ expression: 'claims.?email_verified.orValue(true) == true', message: 'email must be verified' }],
          claimMappings: { username: { expression: 'claims.email' }, groups: { claim: 'groups', prefix: 'oidc:' }, uid: { claim: 'sub' }, extra: [{ key: 'example.org/tenant', valueExpression: 'claims.tid' }] },
          userValidationRules: [{ expression: "!user.username.startsWith('system:')", message: 'no system: names' }],
        }),
        baseJwt({ issuer: { url: 'https://second', audiences: ['a', 'b'], audienceMatchPolicy: 'MatchAny' } }),
      ]),
      [],
    );
    expect(result.ok && result.config.jwt.map((j) => j.issuer.url)).toEqual(['https://issuer-url', 'https://second']);
  });
});

describe('parseAuthenticationConfig refuses, naming the field', () => {
  it.each([
    ['a duplicate issuer URL (vector 101)', [baseJwt(), baseJwt()], 'jwt[1].issuer.url: Duplicate value: "https://issuer-url"'],
    [
      'a duplicate discoveryURL (vector 102)',
      [baseJwt({ issuer: { url: 'https://a', discoveryURL: 'https://d/x', audiences: ['a'] } }), baseJwt({ issuer: { url: 'https://b', discoveryURL: 'https://d/x', audiences: ['a'] } })],
      'jwt[1].issuer.discoveryURL: Duplicate value: "https://d/x"',
    ],
    ['an http issuer (vector 103)', [baseJwt({ issuer: { url: 'http://issuer-url', audiences: ['a'] } })], 'jwt[0].issuer.url: Invalid value: "http://issuer-url": URL scheme must be https'],
    ['an empty issuer URL (vector 104)', [baseJwt({ issuer: { url: '', audiences: ['a'] } })], 'jwt[0].issuer.url: Required value'],
    ['an issuer with a password, never echoed (vector 104)', [baseJwt({ issuer: { url: 'https://u:secret@issuer', audiences: ['a'] } })], 'jwt[0].issuer.url: Invalid value: "<omitted>": URL must not contain a username or password'],
    ['an issuer with a query (vector 104)', [baseJwt({ issuer: { url: 'https://issuer?x=1', audiences: ['a'] } })], 'URL must not contain a query'],
    ['an issuer with a fragment (vector 104)', [baseJwt({ issuer: { url: 'https://issuer#x', audiences: ['a'] } })], 'URL must not contain a fragment'],
    ['a discoveryURL with a fragment (vector 104)', [baseJwt({ issuer: { url: 'https://issuer-url', discoveryURL: 'https://discovery#x', audiences: ['a'] } })], 'jwt[0].issuer.discoveryURL: Invalid value: "https://discovery#x": URL must not contain a fragment'],
    ['an issuer that is not a URL, in the same words as for --oidc-issuer-url', [baseJwt({ issuer: { url: 'issuer-url', audiences: ['a'] } })], 'jwt[0].issuer.url: Invalid value: "issuer-url": not a valid URL'],
    ['a discoveryURL equal to the URL (vector 106)', [baseJwt({ issuer: { url: 'https://issuer-url', discoveryURL: 'https://issuer-url/', audiences: ['a'] } })], 'discoveryURL must be different from URL'],
    ['no audiences (vector 107)', [baseJwt({ issuer: { url: 'https://issuer-url', audiences: [] } })], 'jwt[0].issuer.audiences: Required value: at least one issuer.audiences is required'],
    ['an empty audience (vector 107)', [baseJwt({ issuer: { url: 'https://issuer-url', audiences: [''] } })], 'jwt[0].issuer.audiences[0]: Required value'],
    ['a duplicate audience (vector 107)', [baseJwt({ issuer: { url: 'https://issuer-url', audiences: ['audience', 'audience'], audienceMatchPolicy: 'MatchAny' } })], 'jwt[0].issuer.audiences[1]: Duplicate value: "audience"'],
    ['several audiences without MatchAny (vector 108)', [baseJwt({ issuer: { url: 'https://issuer-url', audiences: ['a', 'b'] } })], 'jwt[0].issuer.audienceMatchPolicy: Invalid value: "": audienceMatchPolicy must be MatchAny for multiple audiences'],
    ['MatchExact with one audience (vector 108)', [baseJwt({ issuer: { url: 'https://issuer-url', audiences: ['a'], audienceMatchPolicy: 'MatchExact' } })], 'audienceMatchPolicy must be empty or MatchAny for single audience'],
    ['a bad CA (vector 109)', [baseJwt({ issuer: { url: 'https://issuer-url', audiences: ['a'], certificateAuthority: 'not a pem' } })], 'jwt[0].issuer.certificateAuthority: Invalid value: "<omitted>": data does not contain any valid RSA or ECDSA certificates'],
    ['a rule with neither claim nor expression (vector 110)', [baseJwt({ claimValidationRules: [{}] })], 'jwt[0].claimValidationRules[0]: Required value: claim or expression is required'],
    ['a rule with both (vector 110)', [baseJwt({ claimValidationRules: [{ claim: 'a', expression: 'true' }] })], "claim and expression can't both be set"],
    ['a message with a claim (vector 110)', [baseJwt({ claimValidationRules: [{ claim: 'a', message: 'm' }] })], 'jwt[0].claimValidationRules[0].message: Invalid value: "m": may not be specified when claim is set'],
    ['a requiredValue with an expression (vector 110)', [baseJwt({ claimValidationRules: [{ expression: 'true', requiredValue: 'x' }] })], 'may not be specified when expression is set'],
    ['a duplicate claim rule (vector 110)', [baseJwt({ claimValidationRules: [{ claim: 'a' }, { claim: 'a' }] })], 'jwt[0].claimValidationRules[1].claim: Duplicate value: "a"'],
    ['a duplicate expression rule (vector 110)', [baseJwt({ claimValidationRules: [{ expression: 'true' }, { expression: 'true' }] })], 'jwt[0].claimValidationRules[1].expression: Duplicate value: "true"'],
    ['an undeclared variable (vector 110)', [baseJwt({ claimValidationRules: [{ expression: 'foo.bar' }] })], 'jwt[0].claimValidationRules[0].expression: Invalid value: "foo.bar": compilation failed: Unknown variable: foo'],
    ['a dyn rule (vector 110)', [baseJwt({ claimValidationRules: [{ expression: 'claims.foo' }] })], 'jwt[0].claimValidationRules[0].expression: Invalid value: "claims.foo": must evaluate to bool'],
    ['a claim username without prefix (vector 54)', [baseJwt({ claimMappings: { username: { claim: 'sub' } } })], 'jwt[0].claimMappings.username.prefix: Required value: prefix is required when claim is set. It can be set to an empty string to disable prefixing'],
    ['a prefix with an expression (vector 55)', [baseJwt({ claimMappings: { username: { expression: 'claims.sub', prefix: 'x' } } })], 'jwt[0].claimMappings.username.prefix: Invalid value: "prefix": may not be specified when expression is set'],
    ['no username mapping (vector 56)', [baseJwt({ claimMappings: { username: {} } })], 'jwt[0].claimMappings.username: Required value: claim or expression is required'],
    [
      'a duplicate extra key (vector 93)',
      [baseJwt({ claimMappings: { username: { claim: 'sub', prefix: '' }, extra: [{ key: 'example.org/foo', valueExpression: 'claims.a' }, { key: 'example.org/bar', valueExpression: 'claims.b' }, { key: 'example.org/foo', valueExpression: 'claims.c' }] } })],
      'jwt[0].claimMappings.extra[2].key: Duplicate value: "example.org/foo"',
    ],
    ['an extra key without a domain (vector 95)', [baseJwt({ claimMappings: { username: { claim: 'sub', prefix: '' }, extra: [{ key: 'foo', valueExpression: 'claims.a' }] } })], 'must be a domain-prefixed path (such as "acme.io/foo")'],
    ['an upper-case extra key (vector 95)', [baseJwt({ claimMappings: { username: { claim: 'sub', prefix: '' }, extra: [{ key: 'example.org/Foo', valueExpression: 'claims.a' }] } })], 'must be lowercase'],
    ['an extra key under kubernetes.io (vector 95)', [baseJwt({ claimMappings: { username: { claim: 'sub', prefix: '' }, extra: [{ key: 'sub.kubernetes.io/foo', valueExpression: 'claims.a' }] } })], 'reserved for Kubernetes use'],
    ['an email username without email_verified (vector 111)', [baseJwt({ claimMappings: { username: { expression: 'claims.email' } } })], 'jwt[0].claimMappings.username.expression: Invalid value: "claims.email": claims.email_verified must be used in'],
    ['an optional email username without email_verified (vector 111)', [baseJwt({ claimMappings: { username: { expression: 'claims.?email.orValue("")' } } })], 'claims.email_verified must be used in'],
    ['an empty user rule (vector 112)', [baseJwt({ userValidationRules: [{ expression: '' }] })], 'jwt[0].userValidationRules[0].expression: Required value'],
    ['a duplicate user rule (vector 112)', [baseJwt({ userValidationRules: [{ expression: 'true' }, { expression: 'true' }] })], 'jwt[0].userValidationRules[1].expression: Duplicate value: "true"'],
    ['a non-bool user rule (vector 112)', [baseJwt({ userValidationRules: [{ expression: 'user.username' }] })], 'jwt[0].userValidationRules[0].expression: Invalid value: "user.username": must evaluate to bool'],
    ['65 authenticators (vector 113)', Array.from({ length: 65 }, (_, i) => baseJwt({ issuer: { url: `https://i${i}`, audiences: ['a'] } })), 'jwt: Too many: 65: must have at most 64 items'],
    ['an invalid egress selector (vector 114)', [baseJwt({ issuer: { url: 'https://issuer-url', audiences: ['a'], egressSelectorType: 'etcd' } })], 'jwt[0].issuer.egressSelectorType: Invalid value: "etcd": egress selector must be either controlplane or cluster'],
    ['a misspelt field (strict decoding)', [baseJwt({ claimMapping: {} })], 'jwt[0].claimMapping: unknown field'],
    ['nested comprehensions beyond the cost cap', [baseJwt({ claimValidationRules: [{ expression: 'claims.a.all(x, claims.b.all(y, claims.c.all(z, x == y && y == z)))' }] })], 'may be nested at most 2 deep'],
  ])('%s', (_name, jwt, message) => {
    expect(errorsOf(jwt as Jwt[]).some((e) => e.includes(message))).toBe(true);
  });

  it('lists every problem of every authenticator at once', () => {
    const errors = errorsOf([
      baseJwt({ issuer: { url: 'http://a', audiences: [] }, claimValidationRules: [{ expression: 'claims.x' }] }),
      baseJwt({ claimMappings: { username: { claim: 'sub' } }, userValidationRules: [{ expression: 'nope(' }] }),
    ]);
    expect(errors.map((e) => e.split(':')[0])).toEqual([
      'jwt[0].issuer.url',
      'jwt[0].issuer.audiences',
      'jwt[0].claimValidationRules[0].expression',
      'jwt[1].claimMappings.username.prefix',
      'jwt[1].userValidationRules[0].expression',
    ]);
  });

  it.each([
    ['another apiVersion', 'apiVersion: v1\nkind: AuthenticationConfiguration\njwt: []\n', 'apiVersion: Invalid value: "v1"'],
    ['another kind', 'apiVersion: apiserver.config.k8s.io/v1\nkind: Foo\njwt: []\n', 'kind: Invalid value: "Foo"'],
    ['no authenticators', 'apiVersion: apiserver.config.k8s.io/v1\nkind: AuthenticationConfiguration\n', 'jwt: Required value'],
    ['broken YAML', 'jwt: [\n', 'not valid YAML or JSON'],
    ['anonymous authentication', 'apiVersion: apiserver.config.k8s.io/v1\nkind: AuthenticationConfiguration\nanonymous: {enabled: true}\njwt: []\n', 'anonymous: Invalid value'],
  ])('a file with %s', (_name, text, message) => {
    const result = parseAuthenticationConfig(text, []);
    expect(!result.ok && result.errors.some((e) => e.includes(message))).toBe(true);
  });
});

describe('an issuer that is also a service-account issuer (vector 105)', () => {
  // validation_test.go's own case: the list is printed sorted, as Go's sets.List, in Go's `[a b]` form.
  const disallowed = ['a', 'b', 'https://issuer-url', 'c'];

  it('is refused with kube-apiserver\'s message, the only problem of an otherwise valid file', () => {
    const result = parseAuthenticationConfig(fileOf([baseJwt()]), disallowed);
    expect(result.ok ? [] : result.errors).toEqual(['jwt[0].issuer.url: Invalid value: "https://issuer-url": URL must not overlap with disallowed issuers: [a b c https://issuer-url]']);
  });

  it.each([
    ['a different issuer', baseJwt({ issuer: { url: 'https://other', audiences: ['a'] } })],
    ['an issuer differing only by a trailing slash (exact string comparison)', baseJwt({ issuer: { url: 'https://issuer-url/', audiences: ['a'] } })],
    ['a discoveryURL equal to a service-account issuer (only issuer.url is compared)', baseJwt({ issuer: { url: 'https://other', discoveryURL: 'https://issuer-url', audiences: ['a'] } })],
  ])('accepts %s', (_name, jwt) => {
    const result = parseAuthenticationConfig(fileOf([jwt]), disallowed);
    expect(result.ok ? [] : result.errors).toEqual([]);
  });

  it('names the authenticator by index and lists the overlap before the issuer URL\'s other problems', () => {
    const result = parseAuthenticationConfig(fileOf([baseJwt({ issuer: { url: 'https://ok', audiences: ['a'] } }), baseJwt({ issuer: { url: 'https://sa?x=1', audiences: ['a'] } })]), ['https://sa?x=1']);
    expect(result.ok ? [] : result.errors).toEqual([
      'jwt[1].issuer.url: Invalid value: "https://sa?x=1": URL must not overlap with disallowed issuers: [https://sa?x=1]',
      'jwt[1].issuer.url: Invalid value: "https://sa?x=1": URL must not contain a query',
    ]);
  });

  it('never echoes a password, neither in the value nor in the list', () => {
    const result = parseAuthenticationConfig(fileOf([baseJwt({ issuer: { url: 'https://u:secret@sa', audiences: ['a'] } })]), ['https://u:secret@sa', 'https://kubernetes']);
    expect(result.ok ? [] : result.errors).toContain('jwt[0].issuer.url: Invalid value: "<omitted>": URL must not overlap with disallowed issuers: [https://kubernetes <omitted>]');
    expect(JSON.stringify(result)).not.toContain('secret');
  });
});

describe('--authentication-config on the command line', () => {
  const ca = createTestCa();
  const serving = ca.issue('serving');
  const tls = [`--tls-cert-file=${serving.certFile}`, `--tls-private-key-file=${serving.keyFile}`];
  const good = join(ca.dir, 'authn.yaml');
  writeFileSync(good, fileOf([baseJwt(), baseJwt({ issuer: { url: 'https://second', audiences: ['b'] } })]));
  const bad = join(ca.dir, 'authn-bad.yaml');
  writeFileSync(bad, fileOf([baseJwt({ issuer: { url: 'http://x', audiences: ['a'] } })]));

  it('becomes the list of authenticators; no --oidc-* flag is needed', () => {
    const result = parseConfig([...tls, `--authentication-config=${good}`, '--readiness-require-all-issuers']);
    expect(result.errors).toEqual([]);
    expect(result.config!.authentication).toMatchObject({ source: 'file', file: good, reloadIntervalMs: 60_000, requireAllIssuers: true });
    expect(result.config!.authentication.jwt.map((j) => j.issuer.url)).toEqual(['https://issuer-url', 'https://second']);
    expect(result.config!.oidc).toBeUndefined();
  });

  it('is mutually exclusive with the --oidc-* flags (vector 115), but not with --oidc-discovery-*', () => {
    const result = parseConfig([...tls, `--authentication-config=${good}`, '--oidc-issuer-url=https://x', '--oidc-discovery-pretty']);
    expect(result.errors).toEqual(['authentication-config file and oidc-* flags are mutually exclusive (also given: --oidc-issuer-url)']);
  });

  it('reports the file\'s problems by flag, path and field', () => {
    expect(parseConfig([...tls, `--authentication-config=${bad}`]).errors).toEqual([`--authentication-config: ${bad}: jwt[0].issuer.url: Invalid value: "http://x": URL scheme must be https`]);
  });

  it('refuses a file whose issuer is a --service-account-issuer (vector 105), listing it with every other problem', () => {
    const result = parseConfig([...tls, `--authentication-config=${good}`, '--service-account-issuer=https://second', '--service-account-issuer=https://kubernetes.default.svc', '--service-account-issuer=']);
    expect(result.config).toBeUndefined();
    expect(result.errors).toEqual([
      '--service-account-issuer should not be an empty string',
      `--authentication-config: ${good}: jwt[1].issuer.url: Invalid value: "https://second": URL must not overlap with disallowed issuers: [https://kubernetes.default.svc https://second]`,
    ]);
  });

  it('keeps the --service-account-issuer values for reloads, and accepts a file that does not overlap them (vector 105)', () => {
    const result = parseConfig([...tls, `--authentication-config=${good}`, '--service-account-issuer=https://kubernetes.default.svc']);
    expect(result.errors).toEqual([]);
    expect(result.config!.authentication.serviceAccountIssuers).toEqual(['https://kubernetes.default.svc']);
  });

  it('reports an unreadable file by flag', () => {
    expect(parseConfig([...tls, '--authentication-config=/nonexistent/authn.yaml']).errors).toEqual(['--authentication-config: cannot read /nonexistent/authn.yaml: ENOENT']);
  });

  it('turns the legacy flags into one authenticator of the same shape (one code path)', () => {
    const result = parseConfig([...tls, '--oidc-issuer-url=https://issuer', '--oidc-client-id=k8s', '--oidc-groups-claim=groups', '--oidc-required-claim=hd=example.com']);
    expect(result.config!.authentication.source).toBe('flags');
    expect(result.config!.authentication.jwt).toEqual([
      {
        issuer: { url: 'https://issuer', audiences: ['k8s'] },
        claimValidationRules: [{ claim: 'hd', requiredValue: 'example.com' }],
        claimMappings: { username: { claim: 'sub', prefix: 'https://issuer#' }, groups: { claim: 'groups', prefix: '' } },
        signingAlgs: ['RS256'],
      },
    ]);
  });
});

describe('docs/authentication-config.md', () => {
  const doc = readFileSync(join(import.meta.dirname, '..', '..', '..', 'docs', 'authentication-config.md'), 'utf8');
  const blocks = [...doc.matchAll(/```yaml\n([\s\S]*?)```/g)].map((m) => m[1]!);
  const entries = blocks.filter((b) => b.startsWith('- issuer:'));

  it('has a worked example for Dex, Keycloak, Okta, Entra ID and Google', () => {
    expect(entries).toHaveLength(5);
  });

  it.each(entries.map((entry) => [entry.split('\n')[1]!.trim(), entry]))('example %s is a valid authenticator', (_url, entry) => {
    const result = parseAuthenticationConfig(`apiVersion: apiserver.config.k8s.io/v1\nkind: AuthenticationConfiguration\njwt:\n${entry}`, []);
    expect(result.ok ? [] : result.errors).toEqual([]);
  });

  it('its migration example is a valid file once the CA is filled in', () => {
    const migration = blocks.find((b) => b.startsWith('apiVersion:'))!;
    const pem = createTestCa().caPem.trim().split('\n').map((l) => `      ${l}`).join('\n');
    const text = migration.replace(/ {6}-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/, pem);
    const result = parseAuthenticationConfig(text, []);
    expect(result.ok ? [] : result.errors).toEqual([]);
  });
});
