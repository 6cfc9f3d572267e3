/**
 * Client Impersonate-* headers in every spelling a parser might disagree on: case, duplicates across
 * case, underscores, percent-encoded extra keys, commas inside values. Either the request is refused
 * before anything is forwarded, or the API server receives exactly the identity that was reviewed —
 * never a header the reviews did not cover. (Plain case and duplicates: impersonation.spec.ts.)
 */
import { afterAll, afterEach, beforeAll, beforeEach, expect, it } from '@jest/globals';
import { bearer, send } from './support/client.js';
import { type Environment, startEnvironment } from './support/environment.js';
import { closeRawUpgrades, rawUpgrade } from './support/upgrade-client.js';

let env: Environment;
beforeAll(async () => {
  env = await startEnvironment();
});
beforeEach(() => {
  env.upstream.sarPolicy = () => true;
});
afterEach(closeRawUpgrades);
afterAll(async () => env?.stop());

const get = async (headers: Record<string, string | string[]>) =>
  send(env.proxy.url, { path: '/api/v1/namespaces/default/pods', headers: { ...bearer(await env.token()), ...headers }, ca: env.ca.caPem });

it.each([
  ['two Impersonate-Uid lines', { 'Impersonate-User': 'amy', 'Impersonate-Uid': ['1', '0'] }, 'only one Impersonate-Uid header is allowed'],
  ['Impersonate_User (underscore, which some proxies turn into a dash)', { Impersonate_User: 'system:admin' }, "unknown impersonation header 'Impersonate_User'"],
  ['Impersonate-Extra- with an empty key', { 'Impersonate-User': 'amy', 'Impersonate-Extra-': 'x' }, "unknown impersonation header 'Impersonate-Extra-'"],
  ['ImpersonateUser (no dash)', { ImpersonateUser: 'system:admin' }, "unknown impersonation header 'ImpersonateUser'"],
])('%s is refused with 400 before any review, and nothing is forwarded', async (_name, headers, message) => {
  const before = env.upstream.requests.length;
  const reviewsBefore = env.upstream.reviews.length;
  const res = await get(headers);
  expect(res.status).toBe(400);
  expect(res.json()).toMatchObject({ code: 400, message });
  expect(env.upstream.since(before)).toEqual([]);
  expect(env.upstream.reviews.length).toBe(reviewsBefore);
});

it('Impersonate-User and IMPERSONATE-USER as two raw header lines are refused with 400, nothing forwarded', async () => {
  // Node's client would merge the two spellings into one header, so the bytes are written by hand.
  const before = env.upstream.requests.length;
  const conn = await rawUpgrade(
    env.proxy.securePort,
    env.ca.caPem,
    `GET /api/v1/pods HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer ${await env.token()}\r\nImpersonate-User: amy\r\nIMPERSONATE-USER: system:admin\r\nConnection: close\r\n\r\n`,
  );
  await conn.closed;
  expect(conn.received()).toMatch(/^HTTP\/1\.1 400 /);
  expect(conn.received()).toContain('only one Impersonate-User header is allowed');
  expect(env.upstream.since(before)).toEqual([]);
});

it('a percent-encoded extra key is reviewed decoded and forwarded encoded, naming the same key', async () => {
  const before = env.upstream.requests.length;
  const reviewsBefore = env.upstream.reviews.length;
  const res = await get({ 'Impersonate-User': 'bea', 'Impersonate-Extra-Acme.com%2FProject': 'p1' });
  expect(res.status).toBe(200);
  const reviewed = env.upstream.reviews.slice(reviewsBefore).map((r) => r.spec.resourceAttributes?.subresource).filter(Boolean);
  expect(reviewed).toEqual(['acme.com/project']);
  const [seen] = env.upstream.since(before);
  const extras = seen!.rawHeaders.filter((_, i) => i % 2 === 0 && /^impersonate-extra-acme/i.test(seen!.rawHeaders[i]!));
  expect(extras.map((n) => decodeURIComponent(n.slice('impersonate-extra-'.length)).toLowerCase())).toEqual(['acme.com/project']);
  expect(seen!.header(extras[0]!)).toEqual(['p1']);
});

it('a double-encoded extra key stays the key that was reviewed (%252F is not a slash)', async () => {
  const before = env.upstream.requests.length;
  const reviewsBefore = env.upstream.reviews.length;
  expect((await get({ 'Impersonate-User': 'bea', 'Impersonate-Extra-a%252Fb': 'v' })).status).toBe(200);
  const reviewed = env.upstream.reviews.slice(reviewsBefore).map((r) => r.spec.resourceAttributes?.subresource).filter(Boolean);
  expect(reviewed).toEqual(['a%2fb']);
  const [seen] = env.upstream.since(before);
  const names = seen!.rawHeaders.filter((_, i) => i % 2 === 0 && /^impersonate-extra-a%25/i.test(seen!.rawHeaders[i]!));
  expect(names.map((n) => decodeURIComponent(n.slice('impersonate-extra-'.length)).toLowerCase())).toEqual(['a%2fb']);
});

it('a group name with a comma is one group, reviewed and forwarded as one header line', async () => {
  const before = env.upstream.requests.length;
  const reviewsBefore = env.upstream.reviews.length;
  expect((await get({ 'Impersonate-User': 'cy', 'Impersonate-Group': 'team-a,system:masters' })).status).toBe(200);
  const groups = env.upstream.reviews.slice(reviewsBefore).filter((r) => r.spec.resourceAttributes?.resource === 'groups').map((r) => r.spec.resourceAttributes?.name);
  expect(groups).toEqual(['team-a,system:masters']);
  expect(env.upstream.since(before)[0]!.header('impersonate-group')).toEqual(['team-a,system:masters', 'system:authenticated']);
});

it('when a review denies, nothing is forwarded whatever the spelling', async () => {
  env.upstream.sarPolicy = (spec) => spec.resourceAttributes?.resource === 'users';
  const before = env.upstream.requests.length;
  const res = await get({ 'iMpErSoNaTe-UsEr': 'dan', 'IMPERSONATE-GROUP': 'system:masters' });
  expect(res.status).toBe(403);
  expect(env.upstream.since(before)).toEqual([]);
});
