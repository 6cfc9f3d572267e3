/**
 * Tokens never appear in any log line: not on success, not on any kind of failure, not when sent as the
 * WebSocket bearer subprotocol, not over HTTP/2, not at debug level. The SIEM access line records who, never how.
 */
import { afterAll, beforeAll, expect, it } from '@jest/globals';
import WebSocket from 'ws';
import { bearer, send } from './support/client.js';
import { type Environment, startEnvironment } from './support/environment.js';
import { connectHttp2, sendHttp2 } from './support/http2-client.js';

let env: Environment;
beforeAll(async () => {
  env = await startEnvironment({ extraArgs: ['--v=10'] });
});
afterAll(async () => env?.stop());

it('no token or signature reaches stdout or stderr', async () => {
  const tokens = [
    await env.token(),
    await env.token({ exp: Math.floor(Date.now() / 1000) - 10 }),
    await env.token({ aud: 'other' }),
    await env.token({ iss: 'https://unknown.example' }),
    await env.token({}, { alg: 'ES256' }),
  ];
  const garbage = 'definitely-not-a-jwt-but-secret-9c1e';
  for (const token of tokens) {
    await send(env.proxy.url, { path: '/api/v1/pods', headers: bearer(token), ca: env.ca.caPem });
    await send(env.proxy.url, { path: '/api/v1/pods', headers: { ...bearer(token), 'Impersonate-User': 'x' }, ca: env.ca.caPem });
  }
  await send(env.proxy.url, { path: '/api/v1/pods', headers: bearer(garbage), ca: env.ca.caPem });
  // The same over HTTP/2, where a 401 also closes the connection: one connection per token.
  for (const token of [...tokens, garbage]) {
    const session = await connectHttp2(env.proxy.url, env.ca.caPem);
    await sendHttp2(session, { path: '/api/v1/pods', headers: { ...bearer(token), 'impersonate-user': 'x' } });
    session.destroy();
  }
  const wsToken = await env.token({ jti: 'ws' });
  const ws = new WebSocket(`wss://127.0.0.1:${env.proxy.securePort}/api/v1/namespaces/default/pods/web/exec`, [
    'v5.channel.k8s.io',
    `base64url.bearer.authorization.k8s.io.${Buffer.from(wsToken).toString('base64url')}`,
  ], { ca: env.ca.caPem });
  await new Promise<void>((resolve, reject) => {
    ws.once('open', resolve);
    ws.once('error', reject);
  });
  ws.close();
  await new Promise((r) => setTimeout(r, 300));

  const output = env.proxy.output();
  expect(output).toContain('AuSuccess');
  expect(output).toContain('AuFail');
  for (const token of [...tokens, wsToken]) {
    const [header, payload, signature] = token.split('.');
    expect(output).not.toContain(token);
    expect(output).not.toContain(payload);
    expect(output).not.toContain(signature);
    expect(output).not.toContain(`${header}.${payload}`);
  }
  expect(output).not.toContain(garbage);
  expect(output).not.toContain(Buffer.from(wsToken).toString('base64url'));
  expect(output).toContain('inbound:[jane@example.com / dev|ops|system:authenticated');
});
