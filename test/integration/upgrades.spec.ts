/**
 * As a kubectl user, exec, attach, cp and port-forward work through the proxy over SPDY/3.1 (kubectl before
 * 1.30) and WebSocket (v5.channel.k8s.io, kubectl 1.30+), and upgrades pass the same admission steps.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import WebSocket from 'ws';
import { type Environment, PROXY_SA_TOKEN, startEnvironment } from './support/environment.js';
import { closeRawUpgrades, rawUpgrade, upgradeHead } from './support/upgrade-client.js';

let env: Environment;
beforeAll(async () => {
  env = await startEnvironment();
});
afterEach(closeRawUpgrades);
afterAll(async () => env?.stop());

describe('SPDY/3.1', () => {
  it('is tunnelled after the API server answers 101, bytes flowing both ways', async () => {
    const before = env.upstream.requests.length;
    const conn = await rawUpgrade(env.proxy.securePort, env.ca.caPem, upgradeHead('/api/v1/namespaces/default/pods/web/exec?command=sh', await env.token(), 'SPDY/3.1'));
    await conn.waitFor('\r\n\r\n');
    expect(conn.received()).toMatch(/^HTTP\/1\.1 101 /);
    expect(conn.received()).toContain('X-Stream-Protocol-Version: v4.channel.k8s.io');
    conn.socket.write(Buffer.from('stdin bytes \u0000\u0001\u00ff', 'latin1'));
    await conn.waitFor('stdin bytes \u0000\u0001\u00ff');
    const [seen] = env.upstream.since(before);
    expect(seen!.upgrade).toBe(true);
    expect(seen!.header('impersonate-user')).toEqual(['jane@example.com']);
    expect(seen!.header('authorization')).toEqual([`Bearer ${PROXY_SA_TOKEN}`]);
    conn.socket.destroy();
  });

  it('refuses an upgrade without a valid token with 401 before contacting the API server', async () => {
    const before = env.upstream.requests.length;
    const conn = await rawUpgrade(env.proxy.securePort, env.ca.caPem, upgradeHead('/api/v1/namespaces/default/pods/web/exec', 'bad.token.here', 'SPDY/3.1'));
    await conn.closed;
    expect(conn.received()).toMatch(/^HTTP\/1\.1 401 /);
    expect(conn.received()).toContain('"message":"Unauthorized"');
    expect(env.upstream.since(before)).toHaveLength(0);
  });

  it('refuses an upgrade impersonating a user without the right to with 403', async () => {
    const conn = await rawUpgrade(env.proxy.securePort, env.ca.caPem, upgradeHead('/api/v1/namespaces/default/pods/web/exec', await env.token(), 'SPDY/3.1', { 'Impersonate-User': 'admin' }));
    await conn.closed;
    expect(conn.received()).toMatch(/^HTTP\/1\.1 403 /);
    expect(conn.received()).toContain("jane@example.com is not allowed to impersonate user 'admin'");
  });
});

describe('WebSocket', () => {
  it('carries v5.channel.k8s.io frames both ways with a real WebSocket client', async () => {
    const token = await env.token();
    const ws = new WebSocket(`wss://127.0.0.1:${env.proxy.securePort}/api/v1/namespaces/default/pods/web/exec?command=sh`, ['v5.channel.k8s.io'], {
      ca: env.ca.caPem,
      headers: { authorization: `Bearer ${token}` },
    });
    await new Promise<void>((resolve, reject) => {
      ws.once('open', resolve);
      ws.once('error', reject);
    });
    expect(ws.protocol).toBe('v5.channel.k8s.io');
    const echoed = new Promise<Buffer>((resolve) => ws.once('message', (data) => resolve(data as Buffer)));
    ws.send(Buffer.from([0, 104, 105]));
    expect([...(await echoed)]).toEqual([0, 104, 105]);
    ws.close();
  });

  it('accepts the token as a base64url bearer subprotocol and strips it before forwarding', async () => {
    const before = env.upstream.requests.length;
    const token = await env.token();
    const ws = new WebSocket(`wss://127.0.0.1:${env.proxy.securePort}/api/v1/namespaces/default/pods/web/exec`, [
      'v5.channel.k8s.io',
      `base64url.bearer.authorization.k8s.io.${Buffer.from(token).toString('base64url')}`,
    ], { ca: env.ca.caPem });
    await new Promise<void>((resolve, reject) => {
      ws.once('open', resolve);
      ws.once('error', reject);
    });
    const [seen] = env.upstream.since(before);
    expect(seen!.header('sec-websocket-protocol')).toEqual(['v5.channel.k8s.io']);
    expect(seen!.header('impersonate-user')).toEqual(['jane@example.com']);
    ws.close();
  });
});

describe('other upgrade protocols', () => {
  it.each(['h2c', 'websocket, h2c', 'TLS/1.0', 'IRC/6.9'])('Upgrade: %s is refused with 400 and never forwarded', async (protocol) => {
    const before = env.upstream.requests.length;
    const conn = await rawUpgrade(env.proxy.securePort, env.ca.caPem, upgradeHead('/api/v1/pods', await env.token(), protocol));
    await conn.closed;
    expect(conn.received()).toMatch(/^HTTP\/1\.1 400 /);
    expect(env.upstream.since(before)).toHaveLength(0);
  });
});
