/**
 * Request smuggling (CWE-444) and h2c upgrade smuggling: a client that frames a request ambiguously hopes
 * the proxy and the API server disagree on where it ends, so a second request rides the proxy's
 * privileged connection without admission. Node's strict parser refuses every ambiguous framing with
 * 400 and closes the connection before admission runs; h2c is refused by the upgrade listener. In every
 * case nothing reaches the API server, and the smuggled request in particular never does.
 */
import { afterAll, afterEach, beforeAll, expect, it } from '@jest/globals';
import { type Environment, startEnvironment } from './support/environment.js';
import { closeRawUpgrades, rawUpgrade } from './support/upgrade-client.js';

let env: Environment;
let token: string;
beforeAll(async () => {
  env = await startEnvironment();
  token = await env.token();
});
afterEach(closeRawUpgrades);
afterAll(async () => env?.stop());

const SMUGGLED = (t: string): string => `GET /api/v1/namespaces/kube-system/secrets HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer ${t}\r\n\r\n`;

const cases: Array<[string, (t: string) => string]> = [
  ['Content-Length and Transfer-Encoding together (CL.TE)', (t) =>
    `POST /api/v1/namespaces/default/pods HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer ${t}\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n${SMUGGLED(t)}`],
  ['two different Content-Length headers', (t) =>
    `POST /api/v1/namespaces/default/pods HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer ${t}\r\nContent-Length: 4\r\nContent-Length: 90\r\n\r\nabcd${SMUGGLED(t)}`],
  ['two equal Content-Length headers', (t) =>
    `POST /api/v1/namespaces/default/pods HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer ${t}\r\nContent-Length: 4\r\nContent-Length: 4\r\n\r\nabcd${SMUGGLED(t)}`],
  ['Transfer-Encoding with a space before the colon', (t) =>
    `POST /api/v1/namespaces/default/pods HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer ${t}\r\nTransfer-Encoding : chunked\r\nContent-Length: 4\r\n\r\n0\r\n\r\n${SMUGGLED(t)}`],
  ['Transfer-Encoding not ending in chunked (chunked, identity)', (t) =>
    `POST /api/v1/namespaces/default/pods HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer ${t}\r\nTransfer-Encoding: chunked, identity\r\n\r\n0\r\n\r\n${SMUGGLED(t)}`],
  ['an obs-fold continuation line hiding Impersonate-User', (t) =>
    `GET /api/v1/pods HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer ${t}\r\nX-Note: a\r\n Impersonate-User: system:admin\r\n\r\n`],
  ['bare LF line endings', (t) => `GET /api/v1/pods HTTP/1.1\nHost: localhost\nAuthorization: Bearer ${t}\n\n`],
  ['a NUL byte in a header value', (t) => `GET /api/v1/pods HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer ${t}\r\nX-A: a\x00b\r\n\r\n`],
];

it.each(cases)('%s is refused with 400, the connection is closed, and nothing reaches the API server', async (_name, raw) => {
  const before = env.upstream.requests.length;
  const conn = await rawUpgrade(env.proxy.securePort, env.ca.caPem, raw(token));
  await conn.closed;
  expect(conn.received()).toMatch(/^HTTP\/1\.1 400 /);
  expect(conn.received()).toContain('Connection: close');
  // The proxy's own refusal (Node's default 400 has no body): a Status kubectl can print.
  expect(JSON.parse(conn.received().slice(conn.received().indexOf('\r\n\r\n') + 4))).toMatchObject({ kind: 'Status', code: 400, reason: 'BadRequest', message: 'malformed HTTP request' });
  expect(env.upstream.since(before)).toEqual([]);
});

it('h2c upgrade smuggling: Upgrade: h2c with HTTP2-Settings and a preface is refused with 400 and the connection closed', async () => {
  const before = env.upstream.requests.length;
  const conn = await rawUpgrade(
    env.proxy.securePort,
    env.ca.caPem,
    `GET /api/v1/pods HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer ${token}\r\nConnection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\nHTTP2-Settings: AAMAAABkAARAAAAAAAIAAAAA\r\n\r\nPRI * HTTP/2.0\r\n\r\nSM\r\n\r\n`,
  );
  await conn.closed;
  expect(conn.received()).toMatch(/^HTTP\/1\.1 400 /);
  expect(conn.received()).toContain('not supported by kube-oidc-proxy');
  expect(env.upstream.since(before)).toEqual([]);
});

it('after a well-framed request, the next request on the same connection is admitted on its own (no carried identity)', async () => {
  const before = env.upstream.requests.length;
  const conn = await rawUpgrade(
    env.proxy.securePort,
    env.ca.caPem,
    `GET /api/v1/pods HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer ${token}\r\n\r\nGET /api/v1/namespaces/kube-system/secrets HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n`,
  );
  await conn.closed;
  expect(conn.received()).toMatch(/^HTTP\/1\.1 200 [\s\S]*HTTP\/1\.1 401 /);
  expect(env.upstream.since(before).map((r) => r.url)).toEqual(['/api/v1/pods']);
});
