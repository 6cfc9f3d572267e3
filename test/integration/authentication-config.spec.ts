/**
 * As an operator with an --authentication-config file naming two real issuers, each token is mapped by
 * its own issuer's CEL mappings, a token from neither is refused, /ready and /metrics show each issuer and
 * the active configuration, and editing the file swaps a valid version in while an invalid one (including
 * one naming the cluster's service-account issuer, vector 105) is refused and the previous one stays in force.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import { TestIssuer } from '../fixtures/test-issuer.js';
import { createTestCa } from '../fixtures/tls.js';
import { bearer, send } from './support/client.js';
import { type Environment, startEnvironment } from './support/environment.js';
import { opsGet, startProxy, waitFor } from './support/proxy-process.js';

let env: Environment;
let second: TestIssuer;
let file: string;
const SERVICE_ACCOUNT_ISSUER = 'https://kubernetes.default.svc.cluster.local';

function configFor(first: TestIssuer, other: TestIssuer, secondPrefix: string): string {
  return stringify({
    apiVersion: 'apiserver.config.k8s.io/v1',
    kind: 'AuthenticationConfiguration',
    jwt: [
      {
        issuer: { url: first.url, audiences: ['cluster-a'], certificateAuthority: first.caPem },
        claimValidationRules: [{ expression: 'claims.?email_verified.orValue(true) == true', message: 'email must be verified' }],
        claimMappings: {
          username: { expression: 'claims.email.lowerAscii()' },
          groups: { expression: 'claims.roles.split(",").map(r, "a:" + r)' },
          extra: [{ key: 'example.org/tenant', valueExpression: 'claims.?tid.orValue("")' }],
        },
      },
      {
        issuer: { url: other.url, audiences: ['cluster-b', 'other'], audienceMatchPolicy: 'MatchAny', certificateAuthority: other.caPem },
        claimValidationRules: [{ claim: 'hd', requiredValue: 'example.com' }],
        claimMappings: { username: { claim: 'sub', prefix: secondPrefix }, groups: { claim: 'groups', prefix: 'b:' } },
        userValidationRules: [{ expression: "!user.username.startsWith('system:')", message: 'no system: users' }],
      },
    ],
  });
}

beforeAll(async () => {
  second = await TestIssuer.start(createTestCa());
  file = join(mkdtempSync(join(tmpdir(), 'kop-authn-')), 'authentication.yaml');
  env = await startEnvironment({
    oidcArgs: [`--authentication-config=${file}`, '--authentication-config-reload-interval=200ms', `--service-account-issuer=${SERVICE_ACCOUNT_ISSUER}`],
    beforeStart: ({ issuer }) => writeFileSync(file, configFor(issuer, second, 'b-user:')),
  });
}, 60_000);
afterAll(async () => {
  await env?.stop();
  await second?.stop();
});

const get = (token: string) => send(env.proxy.url, { path: '/api/v1/namespaces/default/pods', headers: bearer(token), ca: env.ca.caPem });

async function seenBy(token: string): Promise<{ status: number; user?: string[]; groups?: string[]; tenant?: string[] }> {
  const before = env.upstream.requests.length;
  const res = await get(token);
  const seen = env.upstream.since(before)[0];
  return { status: res.status, ...(seen ? { user: seen.header('impersonate-user'), groups: seen.header('impersonate-group'), tenant: seen.header('impersonate-extra-example.org%2ftenant') } : {}) };
}

describe('two issuers in one file', () => {
  it('maps a token of the first issuer with its CEL mappings', async () => {
    const token = await env.issuer.sign({ aud: 'cluster-a', email: 'Jane@Example.com', roles: 'dev,ops', tid: 't-1' });
    expect(await seenBy(token)).toEqual({ status: 200, user: ['jane@example.com'], groups: ['a:dev', 'a:ops', 'system:authenticated'], tenant: ['t-1'] });
  });

  it('maps a token of the second issuer with its claim mappings', async () => {
    const token = await second.sign({ aud: ['other'], sub: 'bob', groups: ['x'], hd: 'example.com' });
    expect(await seenBy(token)).toEqual({ status: 200, user: ['b-user:bob'], groups: ['b:x', 'system:authenticated'], tenant: [] });
  });

  it.each([
    ['a token from neither issuer', async () => {
      const stranger = await TestIssuer.start(createTestCa());
      const token = await stranger.sign({ aud: 'cluster-a', email: 'a@b', roles: 'x' });
      await stranger.stop();
      return token;
    }],
    ['a token of the first issuer for the second issuer\'s audience', async () => env.issuer.sign({ aud: 'cluster-b', email: 'a@b', roles: 'x' })],
    ['a token of the second issuer failing its required claim', async () => second.sign({ aud: 'cluster-b', sub: 'bob', hd: 'example.org' })],
    ['a token of the first issuer failing its CEL rule', async () => env.issuer.sign({ aud: 'cluster-a', email: 'a@b', roles: 'x', email_verified: false })],
    ['a token of the second issuer signed by the first issuer\'s key', async () => env.issuer.sign({ iss: second.url, aud: 'cluster-b', sub: 'bob', hd: 'example.com' })],
  ])('refuses %s with 401', async (_name, token) => {
    expect((await seenBy(await token())).status).toBe(401);
  });

  it('reports each issuer on /ready and the active configuration on /metrics', async () => {
    const ready = JSON.parse((await opsGet(env.proxy.opsPort, '/ready')).body) as { info: { oidc: { issuers: Array<{ issuer: string; state: string }> } } };
    expect(ready.info.oidc.issuers.map((i) => [i.issuer, i.state])).toEqual([[env.issuer.url, 'ready'], [second.url, 'ready']]);
    const metrics = (await opsGet(env.proxy.opsPort, '/metrics')).body;
    expect(metrics).toMatch(/kube_oidc_proxy_authentication_config_info\{hash="[0-9a-f]{16}"\} 1/);
    expect(env.proxy.output()).toMatch(/authentication configuration [0-9a-f]{16} active/);
  });
});

describe('reloading the file', () => {
  const hashOnMetrics = async () => /kube_oidc_proxy_authentication_config_info\{hash="([0-9a-f]{16})"\} 1/.exec((await opsGet(env.proxy.opsPort, '/metrics')).body)?.[1];

  it('refuses an invalid version with a log line, and the previous configuration stays in force', async () => {
    const before = await hashOnMetrics();
    writeFileSync(file, configFor(env.issuer, second, 'b-user:').replace('cluster-b', '""'));
    await env.proxy.waitForOutput('rejected, configuration', 10_000);
    expect(env.proxy.output()).toContain('jwt[1].issuer.audiences[0]: Required value');
    expect(await hashOnMetrics()).toBe(before);
    expect((await seenBy(await second.sign({ aud: 'cluster-b', sub: 'bob', hd: 'example.com' }))).user).toEqual(['b-user:bob']);
  });

  it('refuses a version that adds the service-account issuer as an OIDC issuer (vector 105); the previous configuration stays', async () => {
    const before = await hashOnMetrics();
    const config = parse(configFor(env.issuer, second, 'b-user:')) as { jwt: unknown[] };
    config.jwt.push({ issuer: { url: SERVICE_ACCOUNT_ISSUER, audiences: ['cluster-a'] }, claimMappings: { username: { claim: 'sub', prefix: '' } } });
    writeFileSync(file, stringify(config));
    const problem = `jwt[2].issuer.url: Invalid value: "${SERVICE_ACCOUNT_ISSUER}": URL must not overlap with disallowed issuers: [${SERVICE_ACCOUNT_ISSUER}]`;
    // The log line is JSON: the problem's quotes arrive escaped.
    await env.proxy.waitForOutput(JSON.stringify(problem).slice(1, -1), 10_000);
    expect(await hashOnMetrics()).toBe(before);
    expect((await seenBy(await second.sign({ aud: 'cluster-b', sub: 'bob', hd: 'example.com' }))).user).toEqual(['b-user:bob']);
  });

  it('swaps a valid new version in: the new mapping applies (also to a token verified just before) and the hash changes', async () => {
    const before = await hashOnMetrics();
    // Verified and cached under the old mapping; the cache answers before any decoding, so it must not survive the swap.
    const cachedToken = await second.sign({ aud: 'cluster-b', sub: 'bob', hd: 'example.com' });
    expect((await seenBy(cachedToken)).user).toEqual(['b-user:bob']);
    writeFileSync(file, configFor(env.issuer, second, 'team-b:'));
    const token = await second.sign({ aud: 'cluster-b', sub: 'carol', hd: 'example.com' });
    const seen = await waitFor(async () => {
      const s = await seenBy(token);
      return s.user?.[0] === 'team-b:carol' ? s : undefined;
    }, 10_000, 'the reloaded mapping');
    expect(seen.groups).toEqual(['system:authenticated']);
    // Well within the cache's 10 s: a stale entry would still answer b-user:bob here.
    expect((await seenBy(cachedToken)).user).toEqual(['team-b:bob']);
    const after = await hashOnMetrics();
    expect(after).not.toBe(before);
    expect(env.proxy.output()).toContain(`authentication configuration ${after} active`);
  });
});

it('stops startup listing every problem of a bad file by field, and exits 1', async () => {
  const bad = join(mkdtempSync(join(tmpdir(), 'kop-authn-bad-')), 'authentication.yaml');
  writeFileSync(bad, stringify({ apiVersion: 'apiserver.config.k8s.io/v1', kind: 'AuthenticationConfiguration', jwt: [{ issuer: { url: 'http://x', audiences: [] }, claimMappings: { username: { claim: 'sub' } } }] }));
  const proxy = await startProxy({ waitReady: false, args: [`--authentication-config=${bad}`, '--oidc-client-id=x', '--service-account-issuer=http://x'] });
  expect(await proxy.exited).toBe(1);
  for (const expected of [
    'authentication-config file and oidc-* flags are mutually exclusive',
    'jwt[0].issuer.url: Invalid value: "http://x": URL must not overlap with disallowed issuers: [http://x]',
    'jwt[0].issuer.url: Invalid value: "http://x": URL scheme must be https',
    'jwt[0].issuer.audiences: Required value',
    'jwt[0].claimMappings.username.prefix: Required value',
  ]) {
    expect(proxy.stderr()).toContain(expected);
  }
});
