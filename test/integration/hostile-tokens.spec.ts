/**
 * Tokens built to hurt the verifier: oversized, malformed, and JSON bombs in the header or payload. Each
 * is refused (431 for a head over the 64 KiB limit, 401 otherwise) without reaching the API server, and
 * the proxy stays up and keeps serving valid tokens afterwards.
 */
import { afterAll, beforeAll, expect, it } from '@jest/globals';
import { bearer, send } from './support/client.js';
import { CLIENT_ID, type Environment, startEnvironment } from './support/environment.js';

let env: Environment;
beforeAll(async () => {
  env = await startEnvironment();
});
afterAll(async () => env?.stop());

const b64 = (s: string): string => Buffer.from(s).toString('base64url');
const now = (): number => Math.floor(Date.now() / 1000);
const claims = (extra: Record<string, unknown> = {}): string =>
  JSON.stringify({ iss: env.issuer.url, aud: CLIENT_ID, email: 'jane@example.com', exp: now() + 600, ...extra });

const cases: Array<[string, () => string]> = [
  ['a payload nested 20,000 arrays deep', () => `${b64('{"alg":"RS256","kid":"x"}')}.${b64(`{"groups":${'['.repeat(20_000)}${']'.repeat(20_000)}}`)}.c2ln`],
  ['a header nested 5,000 objects deep', () => `${b64(`${'{"a":'.repeat(5_000)}1${'}'.repeat(5_000)}`)}.${b64(claims())}.c2ln`],
  ['a payload of 5,000 groups with a forged signature', () => `${b64('{"alg":"RS256"}')}.${b64(claims({ groups: Array.from({ length: 5000 }, (_, i) => `g${i}`) }))}.c2ln`],
  ['a payload that is not JSON', () => `${b64('{"alg":"RS256"}')}.${b64('{"iss":')}.c2ln`],
  ['a payload that is a JSON string', () => `${b64('{"alg":"RS256"}')}.${b64('"hello"')}.c2ln`],
  ['a header with __proto__ and constructor keys', () => `${b64('{"alg":"RS256","__proto__":{"admin":true},"constructor":{"prototype":{"x":1}}}')}.${b64(claims())}.c2ln`],
  ['a JWE-shaped token of five parts', () => 'eyJhbGciOiJSU0EtT0FFUCJ9.a.b.c.d'],
  ['a token of binary garbage', () => Buffer.from(Array.from({ length: 512 }, (_, i) => (i * 37) % 94 + 33)).toString('latin1')],
  ['a 60 KiB token of dots', () => '.'.repeat(60 * 1024)],
];

it.each(cases)('%s is 401, never forwarded', async (_name, token) => {
  const before = env.upstream.requests.length;
  const res = await send(env.proxy.url, { path: '/api/v1/pods', headers: bearer(token()), ca: env.ca.caPem });
  expect(res.status).toBe(401);
  expect(env.upstream.since(before)).toEqual([]);
});

it('a request head over the 64 KiB limit (a 70 KiB token) is 431 or a reset, and never forwarded', async () => {
  const before = env.upstream.requests.length;
  // The server answers 431 and closes while the client may still be writing, so the client sees either.
  const outcome = await send(env.proxy.url, { path: '/api/v1/pods', headers: bearer('a'.repeat(70 * 1024)), ca: env.ca.caPem }).then(
    (res) => String(res.status),
    (err: NodeJS.ErrnoException) => err.code ?? err.message,
  );
  expect(['431', 'ECONNRESET', 'EPIPE', 'socket hang up']).toContain(outcome);
  expect(env.upstream.since(before)).toEqual([]);
});

it('a real token over 16 KiB (450 Entra ID group GUIDs, about 23 KiB) is verified and forwarded whole, as the 64 KiB header limit promises', async () => {
  const groups = Array.from({ length: 450 }, (_, i) => `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`);
  const before = env.upstream.requests.length;
  const res = await send(env.proxy.url, { path: '/api/v1/pods', headers: bearer(await env.token({ groups })), ca: env.ca.caPem });
  expect(res.status).toBe(200);
  expect(env.upstream.since(before)[0]!.header('impersonate-group')).toHaveLength(451);
});

it('after all of that the proxy is alive and a valid token still works', async () => {
  const res = await send(env.proxy.url, { path: '/api/v1/pods', headers: bearer(await env.token()), ca: env.ca.caPem });
  expect(res.status).toBe(200);
  expect(env.proxy.child.exitCode).toBeNull();
});
