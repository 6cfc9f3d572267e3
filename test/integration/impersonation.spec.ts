/**
 * As a kubectl user, `kubectl --as/--as-group/--as-uid/--as-user-extra` works through the proxy exactly
 * when kube-apiserver's impersonation filter would let me, checked with SubjectAccessReviews; a refused
 * request never reaches the API server, and the API server's audit log still shows who really acted.
 */
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import type { ReviewSpec } from '../fixtures/recording-apiserver.js';
import { bearer, send } from './support/client.js';
import { type Environment, PROXY_SA_TOKEN, startEnvironment } from './support/environment.js';
import { closeRawUpgrades, rawUpgrade, upgradeHead } from './support/upgrade-client.js';

const PATH = '/api/v1/namespaces/default/pods/web';
const attrs = (spec: ReviewSpec) => spec.resourceAttributes ?? {};

/** Allows impersonating exactly the listed `resource/name` pairs (and `userextras/<key>/<value>`). */
function allowOnly(...allowed: string[]) {
  return (spec: ReviewSpec): boolean => {
    const a = attrs(spec);
    const id = a.resource === 'userextras' ? `userextras/${a.subresource}/${a.name}` : `${a.resource}/${a.name}`;
    return a.verb === 'impersonate' && allowed.includes(id);
  };
}

describe('with end-user impersonation on (the default)', () => {
  let env: Environment;
  beforeAll(async () => {
    env = await startEnvironment({ extraArgs: ['--extra-user-headers=site=eu'] });
  });
  beforeEach(() => {
    env.upstream.sarPolicy = () => false;
    env.upstream.sarMode = 'answer';
  });
  afterEach(closeRawUpgrades);
  afterAll(async () => env?.stop());

  // Each test uses its own target names, so cached decisions from one test never answer another.
  const get = async (headers: Record<string, string | string[]>, claims: Record<string, unknown> = {}) =>
    send(env.proxy.url, { path: PATH, headers: { ...bearer(await env.token(claims)), ...headers }, ca: env.ca.caPem });

  it('an allowed user impersonation reaches the API server as the target, with the original user in extras', async () => {
    env.upstream.sarPolicy = allowOnly('users/alice');
    const before = env.upstream.requests.length;
    const reviewsBefore = env.upstream.reviews.length;
    const res = await get({ 'Impersonate-User': 'alice' }, { sub: 'u-1' });
    expect(res.status).toBe(200);
    const [seen] = env.upstream.since(before);
    expect(seen!.header('impersonate-user')).toEqual(['alice']);
    expect(seen!.header('impersonate-group')).toEqual(['system:authenticated']);
    expect(seen!.header('authorization')).toEqual([`Bearer ${PROXY_SA_TOKEN}`]);
    expect(seen!.header('impersonate-extra-originaluser.jetstack.io-user')).toEqual(['jane@example.com']);
    expect(seen!.header('impersonate-extra-originaluser.jetstack.io-groups')).toEqual(['dev', 'ops']);
    expect(seen!.header('impersonate-extra-site')).toEqual(['eu']);
    const [review] = env.upstream.reviews.slice(reviewsBefore);
    expect(review!.authorization).toBe(`Bearer ${PROXY_SA_TOKEN}`);
    expect(review!.spec).toMatchObject({
      user: 'jane@example.com',
      groups: ['dev', 'ops', 'system:authenticated'],
      resourceAttributes: { verb: 'impersonate', group: '', resource: 'users', name: 'alice' },
    });
    await env.proxy.waitForOutput(/AuSuccess .*inbound:\[jane@example\.com \/ dev\|ops\|system:authenticated \/ [^\]]*\] outbound:\[alice \/ system:authenticated \/ /);
  });

  it('the original extras travel as JSON in originaluser.jetstack.io-extra', async () => {
    env.upstream.sarPolicy = allowOnly('users/alice-extra');
    const before = env.upstream.requests.length;
    expect((await get({ 'Impersonate-User': 'alice-extra' }, { jti: 'j-1' })).status).toBe(200);
    const [seen] = env.upstream.since(before);
    expect(seen!.header('impersonate-extra-originaluser.jetstack.io-extra')).toEqual([JSON.stringify({ 'authentication.kubernetes.io/credential-id': ['JTI=j-1'] })]);
  });

  it('allowed groups, uid and extras are all forwarded after one review each, in kube-apiserver order', async () => {
    env.upstream.sarPolicy = allowOnly('users/bob', 'groups/admins', 'groups/a,b', 'uids/bob-uid', 'userextras/scopes/read', 'userextras/scopes/write');
    const before = env.upstream.requests.length;
    const reviewsBefore = env.upstream.reviews.length;
    const res = await get({
      'Impersonate-User': 'bob',
      'Impersonate-Group': ['admins', 'a,b'],
      'Impersonate-Uid': 'bob-uid',
      'Impersonate-Extra-Scopes': ['read', 'write'],
    });
    expect(res.status).toBe(200);
    const [seen] = env.upstream.since(before);
    expect(seen!.header('impersonate-user')).toEqual(['bob']);
    expect(seen!.header('impersonate-group')).toEqual(['admins', 'a,b', 'system:authenticated']);
    expect(seen!.header('impersonate-uid')).toEqual(['bob-uid']);
    expect(seen!.header('impersonate-extra-scopes')).toEqual(['read', 'write']);
    expect(env.upstream.reviews.slice(reviewsBefore).map((r) => attrs(r.spec))).toEqual([
      { verb: 'impersonate', group: '', resource: 'users', name: 'bob' },
      { verb: 'impersonate', group: '', resource: 'groups', name: 'admins' },
      { verb: 'impersonate', group: '', resource: 'groups', name: 'a,b' },
      { verb: 'impersonate', group: 'authentication.k8s.io', resource: 'userextras', subresource: 'scopes', name: 'read' },
      { verb: 'impersonate', group: 'authentication.k8s.io', resource: 'userextras', subresource: 'scopes', name: 'write' },
      { verb: 'impersonate', group: 'authentication.k8s.io', resource: 'uids', name: 'bob-uid' },
    ]);
  });

  it('a service-account target is checked as serviceaccounts in its namespace and gets its fixed groups', async () => {
    env.upstream.sarPolicy = (spec) => attrs(spec).resource === 'serviceaccounts' && attrs(spec).namespace === 'ci' && attrs(spec).name === 'deployer';
    const before = env.upstream.requests.length;
    const reviewsBefore = env.upstream.reviews.length;
    expect((await get({ 'Impersonate-User': 'system:serviceaccount:ci:deployer' })).status).toBe(200);
    expect(env.upstream.since(before)[0]!.header('impersonate-group')).toEqual(['system:serviceaccounts', 'system:serviceaccounts:ci', 'system:authenticated']);
    expect(attrs(env.upstream.reviews[reviewsBefore]!.spec)).toEqual({ verb: 'impersonate', group: '', resource: 'serviceaccounts', name: 'deployer', namespace: 'ci' });
  });

  it.each([
    ['a user', { 'Impersonate-User': 'carol' }, [] as string[], "user 'carol'"],
    ['a group', { 'Impersonate-User': 'dave', 'Impersonate-Group': 'system:masters' }, ['users/dave'], "group 'system:masters'"],
    ['a uid', { 'Impersonate-User': 'erin', 'Impersonate-Uid': '0' }, ['users/erin'], "uid '0'"],
    ['an extra', { 'Impersonate-User': 'frank', 'Impersonate-Extra-Scopes': 'all' }, ['users/frank'], "extra info 'scopes'='all'"],
  ])('impersonating %s without the right gets 403 naming it and never reaches the API server', async (_kind, headers, allowed, refused) => {
    env.upstream.sarPolicy = allowOnly(...allowed);
    const before = env.upstream.requests.length;
    const reviewsBefore = env.upstream.reviews.length;
    const res = await get(headers);
    expect(res.status).toBe(403);
    expect(res.json()).toMatchObject({ kind: 'Status', code: 403, message: `jane@example.com is not allowed to impersonate ${refused}` });
    expect(env.upstream.since(before)).toHaveLength(0);
    expect(env.upstream.reviews.length).toBeGreaterThan(reviewsBefore);
  });

  it.each([
    ['a group without a user', { 'Impersonate-Group': 'admins' }, "requested [group 'admins'] without impersonating a user"],
    ['two Impersonate-User headers', { 'Impersonate-User': ['a', 'b'] }, 'only one Impersonate-User header is allowed'],
    ['an unknown Impersonate-Foo header', { 'Impersonate-User': 'gina', 'Impersonate-Foo': 'x' }, "unknown impersonation header 'Impersonate-Foo'"],
  ])('%s gets 400 before any review and never reaches the API server', async (_case, headers, message) => {
    const before = env.upstream.requests.length;
    const reviewsBefore = env.upstream.reviews.length;
    const res = await get(headers);
    expect(res.status).toBe(400);
    expect(res.json()).toMatchObject({ code: 400, message });
    expect(env.upstream.since(before)).toHaveLength(0);
    expect(env.upstream.reviews.length).toBe(reviewsBefore);
  });

  it('a second identical request is answered from the cache without a new review', async () => {
    env.upstream.sarPolicy = allowOnly('users/hank', 'groups/hankers');
    const headers = { 'Impersonate-User': 'hank', 'Impersonate-Group': 'hankers' };
    const reviewsBefore = env.upstream.reviews.length;
    expect((await get(headers)).status).toBe(200);
    expect(env.upstream.reviews.length).toBe(reviewsBefore + 2);
    expect((await get(headers)).status).toBe(200);
    expect(env.upstream.reviews.length).toBe(reviewsBefore + 2);
  });

  it('a denial is cached too, so a retried refusal costs no review', async () => {
    const reviewsBefore = env.upstream.reviews.length;
    expect((await get({ 'Impersonate-User': 'ivan' })).status).toBe(403);
    expect((await get({ 'Impersonate-User': 'ivan' })).status).toBe(403);
    expect(env.upstream.reviews.length).toBe(reviewsBefore + 1);
  });

  it('when the proxy may not create SubjectAccessReviews, impersonation is refused with 403 naming the missing permission', async () => {
    env.upstream.sarMode = 'forbidden';
    env.upstream.sarPolicy = () => true;
    const before = env.upstream.requests.length;
    const res = await get({ 'Impersonate-User': 'judy' });
    expect(res.status).toBe(403);
    expect(res.json<{ message: string }>().message).toContain('not allowed to create subjectaccessreviews.authorization.k8s.io');
    expect(env.upstream.since(before)).toHaveLength(0);
    // The error was not cached: once RBAC is fixed, the same request goes through.
    env.upstream.sarMode = 'answer';
    expect((await get({ 'Impersonate-User': 'judy' })).status).toBe(200);
  });

  it('an SPDY upgrade with --as passes the same reviews', async () => {
    const denied = await rawUpgrade(env.proxy.securePort, env.ca.caPem, upgradeHead(`${PATH}/exec`, await env.token(), 'SPDY/3.1', { 'Impersonate-User': 'kim' }));
    await denied.closed;
    expect(denied.received()).toMatch(/^HTTP\/1\.1 403 /);
    expect(denied.received()).toContain("jane@example.com is not allowed to impersonate user 'kim'");

    env.upstream.sarPolicy = allowOnly('users/leo');
    const before = env.upstream.requests.length;
    const allowed = await rawUpgrade(env.proxy.securePort, env.ca.caPem, upgradeHead(`${PATH}/exec`, await env.token(), 'SPDY/3.1', { 'Impersonate-User': 'leo' }));
    await allowed.waitFor('\r\n\r\n');
    expect(allowed.received()).toMatch(/^HTTP\/1\.1 101 /);
    const [seen] = env.upstream.since(before);
    expect(seen!.upgrade).toBe(true);
    expect(seen!.header('impersonate-user')).toEqual(['leo']);
  });

  it.each([
    ['a system: user name', { email: 'system:admin' }, 'system:admin'],
    ['the system:masters group', { groups: ['dev', 'system:masters'] }, 'system:masters'],
    ['the system:nodes group', { groups: ['system:nodes'] }, 'system:nodes'],
  ])('a token carrying %s is refused with 403 and never reaches the API server', async (_case, claims, reserved) => {
    const before = env.upstream.requests.length;
    const res = await get({}, claims);
    expect(res.status).toBe(403);
    expect(res.json()).toMatchObject({
      code: 403,
      message: `kube-oidc-proxy refuses the reserved identity "${reserved}" from the identity provider; see --allow-reserved-identities`,
    });
    expect(env.upstream.since(before)).toHaveLength(0);
  });

  it('a token already in system:authenticated is not a reserved identity', async () => {
    expect((await get({}, { groups: ['dev', 'system:authenticated'] })).status).toBe(200);
  });
});

describe('with --disable-end-user-impersonation', () => {
  let env: Environment;
  beforeAll(async () => {
    env = await startEnvironment({ extraArgs: ['--disable-end-user-impersonation'] });
    env.upstream.sarPolicy = () => true;
  });
  afterAll(async () => env?.stop());

  it.each(['Impersonate-User', 'IMPERSONATE-UID', 'Impersonate-Whatever'])('%s is refused with jetstack\'s 403 and no review', async (name) => {
    const before = env.upstream.requests.length;
    const res = await send(env.proxy.url, { path: PATH, headers: { ...bearer(await env.token()), [name]: 'admin' }, ca: env.ca.caPem });
    expect(res.status).toBe(403);
    expect(res.json()).toMatchObject({ message: 'Impersonation requests are disabled when using kube-oidc-proxy', code: 403 });
    expect(env.upstream.since(before)).toHaveLength(0);
    expect(env.upstream.reviews).toHaveLength(0);
  });
});

describe('with --allow-reserved-identities', () => {
  let env: Environment;
  beforeAll(async () => {
    env = await startEnvironment({ extraArgs: ['--allow-reserved-identities'] });
  });
  afterAll(async () => env?.stop());

  it('a system:masters group from the identity provider is forwarded as is', async () => {
    const before = env.upstream.requests.length;
    const res = await send(env.proxy.url, { path: PATH, headers: bearer(await env.token({ groups: ['system:masters'] })), ca: env.ca.caPem });
    expect(res.status).toBe(200);
    expect(env.upstream.since(before)[0]!.header('impersonate-group')).toEqual(['system:masters', 'system:authenticated']);
  });
});
