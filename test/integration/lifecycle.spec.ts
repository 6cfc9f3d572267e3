/**
 * As a platform team running the proxy: probes tell the truth, metrics are there, certificates rotate
 * without dropping connections, and SIGTERM drains before exiting 0.
 */
import { afterEach, describe, expect, it } from '@jest/globals';
import { copyFileSync } from 'node:fs';
import { request } from 'node:https';
import { connect } from 'node:tls';
import { bearer, send } from './support/client.js';
import { connectHttp2 } from './support/http2-client.js';
import { type Environment, startEnvironment } from './support/environment.js';
import { opsGet, waitFor } from './support/proxy-process.js';
import { closeRawUpgrades, rawUpgrade, upgradeHead } from './support/upgrade-client.js';

let env: Environment | undefined;
afterEach(async () => {
  closeRawUpgrades();
  await env?.stop();
  env = undefined;
});

function servedCertificateSerial(port: number, ca: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port, ca, servername: 'localhost' }, () => {
      resolve(socket.getPeerCertificate().serialNumber);
      socket.destroy();
    });
    socket.on('error', reject);
  });
}

describe('probes', () => {
  it('is not ready while the issuer is down, becomes ready when it returns, and /live never depends on it', async () => {
    env = await startEnvironment({ waitReady: false });
    await env.issuer.stop();
    // The proxy process may have loaded keys before we stopped the issuer; restart it against a dead issuer.
    await env.proxy.stop('SIGKILL');
    const { startProxy } = await import('./support/proxy-process.js');
    const args = env.proxy.child.spawnargs.slice(2).filter((a) => !a.startsWith('--secure-port') && !a.startsWith('--readiness-probe-port') && !a.startsWith('--bind-address'));
    const proxy = await startProxy({ args, waitReady: false });
    try {
      await waitFor(async () => ((await opsGet(proxy.opsPort, '/live')).status === 200 ? true : undefined), 5000, '/live');
      const notReady = await opsGet(proxy.opsPort, '/ready');
      expect(notReady.status).toBe(503);
      expect(notReady.body).toContain('OIDC provider not yet initialized');
      expect((await opsGet(proxy.opsPort, '/live')).status).toBe(200);
      await env.issuer.restart();
      await waitFor(async () => ((await opsGet(proxy.opsPort, '/ready')).status === 200 ? true : undefined), 15_000, '/ready after the issuer returned');
    } finally {
      await proxy.stop('SIGKILL');
    }
  }, 30_000);

  it('serves Prometheus metrics with closed label sets', async () => {
    env = await startEnvironment();
    await send(env.proxy.url, { path: '/api/v1/namespaces/default/pods', headers: bearer(await env.token()), ca: env.ca.caPem });
    await send(env.proxy.url, { path: '/api/v1/namespaces/default/pods', ca: env.ca.caPem });
    const metrics = (await opsGet(env.proxy.opsPort, '/metrics')).body;
    expect(metrics).toContain('kube_oidc_proxy_http_requests_total{verb="list",code_class="2xx"} 1');
    expect(metrics).toContain('kube_oidc_proxy_http_requests_total{verb="list",code_class="4xx"} 1');
    expect(metrics).toContain('kube_oidc_proxy_authentications_total{outcome="success"} 1');
    expect(metrics).not.toContain('jane@example.com');
    expect((await opsGet(env.proxy.opsPort, '/nope')).status).toBe(404);
  });
});

describe('certificate rotation', () => {
  it('serves a new certificate after the files change, without dropping an open watch', async () => {
    env = await startEnvironment();
    const before = await servedCertificateSerial(env.proxy.securePort, env.ca.caPem);
    const token = await env.token();
    let watchClosed = false;
    const watch = request(new URL('/api/v1/pods?watch=true', env.proxy.url), { headers: bearer(token), ca: env.ca.caPem, agent: false });
    const lines: string[] = [];
    await new Promise<void>((resolve) =>
      watch.on('response', (res) => {
        res.on('data', (c: Buffer) => lines.push(c.toString()));
        res.on('close', () => (watchClosed = true));
        resolve();
      }).end(),
    );
    const next = env.ca.issue('proxy-rotated');
    copyFileSync(next.keyFile, env.proxyKeyFile);
    copyFileSync(next.certFile, env.proxyCertFile);
    await env.proxy.waitForOutput('serving certificate reloaded', 10_000);
    const after = await servedCertificateSerial(env.proxy.securePort, env.ca.caPem);
    expect(after).not.toBe(before);
    env.upstream.pushWatchEvent('{"type":"MODIFIED"}');
    await waitFor(async () => (lines.join('').includes('MODIFIED') ? true : undefined), 2000, 'a watch event after rotation');
    expect(watchClosed).toBe(false);
    watch.destroy();
  }, 30_000);
});

describe('shutdown', () => {
  it('on SIGTERM drops readiness, lets an open watch finish within the grace period, then exits 0', async () => {
    env = await startEnvironment({ extraArgs: ['--shutdown-grace-period=2s'] });
    const token = await env.token();
    const watch = request(new URL('/api/v1/pods?watch=true', env.proxy.url), { headers: bearer(token), ca: env.ca.caPem, agent: false });
    let ended = false;
    await new Promise<void>((resolve) =>
      watch.on('response', (res) => {
        res.resume();
        res.on('close', () => (ended = true));
        resolve();
      }).end(),
    );
    const started = Date.now();
    env.proxy.child.kill('SIGTERM');
    await waitFor(async () => ((await opsGet(env!.proxy.opsPort, '/ready')).status === 503 ? true : undefined), 2000, '/ready 503 after SIGTERM');
    expect(ended).toBe(false);
    const code = await env.proxy.exited;
    expect(code).toBe(0);
    expect(Date.now() - started).toBeGreaterThanOrEqual(1500);
    expect(ended).toBe(true);
  }, 30_000);

  it('on SIGTERM with an exec session and a watch open: readiness drops, new connections are refused, the exec session keeps working through the grace period, exit 0', async () => {
    env = await startEnvironment({ extraArgs: ['--shutdown-grace-period=3s'] });
    const token = await env.token();
    const exec = await rawUpgrade(env.proxy.securePort, env.ca.caPem, upgradeHead('/api/v1/namespaces/default/pods/web/exec?command=sh', token, 'SPDY/3.1'));
    await exec.waitFor('101 Switching Protocols', 10_000);
    const watch = await rawUpgrade(env.proxy.securePort, env.ca.caPem, `GET /api/v1/pods?watch=true HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer ${token}\r\n\r\n`);
    await watch.waitFor('"ADDED"', 10_000);

    env.proxy.child.kill('SIGTERM');
    await waitFor(async () => ((await opsGet(env!.proxy.opsPort, '/ready')).status === 503 ? true : undefined), 5000, '/ready 503 after SIGTERM');
    const refused = await new Promise<string>((resolve) => {
      const socket = connect({ host: '127.0.0.1', port: env!.proxy.securePort, ca: env!.ca.caPem, servername: 'localhost' }, () => resolve('connected'));
      socket.on('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? err.message));
    });
    expect(refused).toBe('ECONNREFUSED');
    // In-flight work still flows during the grace period.
    exec.socket.write('still-here');
    await exec.waitFor('still-here', 2000);
    env.upstream.pushWatchEvent('{"type":"MODIFIED"}');
    await watch.waitFor('MODIFIED', 2000);

    expect(await env.proxy.exited).toBe(0);
    await Promise.all([exec.closed, watch.closed]);
  }, 30_000);

  it('on SIGTERM an HTTP/2 client gets a GOAWAY, and its open watch keeps receiving events through the grace period, exit 0', async () => {
    env = await startEnvironment({ extraArgs: ['--shutdown-grace-period=3s'] });
    const session = await connectHttp2(env.proxy.url, env.ca.caPem);
    const watch = session.request({ ':path': '/api/v1/pods?watch=true', ...bearer(await env.token()) });
    let received = '';
    watch.on('data', (c: Buffer) => (received += c.toString()));
    await waitFor(async () => (received.includes('"ADDED"') ? true : undefined), 10_000, 'the first watch event');
    const goaway = new Promise<void>((resolve) => session.once('goaway', () => resolve()));

    env.proxy.child.kill('SIGTERM');
    await goaway;
    env.upstream.pushWatchEvent('{"type":"MODIFIED"}');
    await waitFor(async () => (received.includes('MODIFIED') ? true : undefined), 2000, 'an event after the GOAWAY');

    expect(await env.proxy.exited).toBe(0);
    await new Promise<void>((resolve) => (watch.closed ? resolve() : watch.once('close', () => resolve())));
    session.destroy();
  }, 30_000);

  it('does not wait out the grace period for an idle HTTP/2 connection', async () => {
    env = await startEnvironment({ extraArgs: ['--shutdown-grace-period=10m'] });
    const session = await connectHttp2(env.proxy.url, env.ca.caPem);
    env.proxy.child.kill('SIGTERM');
    expect(await env.proxy.exited).toBe(0);
    session.destroy();
  });

  it('a second SIGTERM during the drain forces an immediate exit', async () => {
    env = await startEnvironment({ extraArgs: ['--shutdown-grace-period=60s'] });
    const watch = await rawUpgrade(env.proxy.securePort, env.ca.caPem, `GET /api/v1/pods?watch=true HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer ${await env.token()}\r\n\r\n`);
    await watch.waitFor('"ADDED"', 10_000);
    env.proxy.child.kill('SIGTERM');
    await waitFor(async () => ((await opsGet(env!.proxy.opsPort, '/ready')).status === 503 ? true : undefined), 5000, '/ready 503 after SIGTERM');
    env.proxy.child.kill('SIGTERM');
    // Without the second signal this would wait for the 60 s grace period (beyond this test's timeout).
    expect(await env.proxy.exited).toBe(1);
    expect(env.proxy.stderr()).toContain('received SIGTERM again: exiting immediately');
    await watch.closed;
  }, 30_000);

  it('exits with 0 without waiting out the grace period when nothing is in flight', async () => {
    env = await startEnvironment({ extraArgs: ['--shutdown-grace-period=10m'] });
    env.proxy.child.kill('SIGTERM');
    // Waiting out a 10-minute grace period would time this test out instead.
    expect(await env.proxy.exited).toBe(0);
  });
});
