/**
 * As a kubectl user, watches and `logs -f` reach me as soon as the API server sends them, bodies stream
 * both ways without buffering, and a huge response passes with bounded proxy memory.
 */
import { afterAll, beforeAll, expect, it } from '@jest/globals';
import type { ClientRequest } from 'node:http';
import { Agent, request } from 'node:https';
import { readFileSync } from 'node:fs';
import { bearer, send } from './support/client.js';
import { type Environment, startEnvironment } from './support/environment.js';
import { opsGet, waitFor } from './support/proxy-process.js';

let env: Environment;
beforeAll(async () => {
  env = await startEnvironment();
});
afterAll(async () => env?.stop());

function proxyRssMiB(): number {
  const status = readFileSync(`/proc/${env.proxy.child.pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+)/.exec(status)![1]) / 1024;
}

it('delivers each watch event immediately, while the stream stays open', async () => {
  const token = await env.token();
  const received: string[] = [];
  const req = request(new URL('/api/v1/namespaces/default/pods?watch=true', env.proxy.url), { headers: bearer(token), ca: env.ca.caPem, agent: false });
  const response = new Promise<void>((resolve) => {
    req.on('response', (res) => {
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => received.push(...chunk.split('\n').filter(Boolean)));
      resolve();
    });
  });
  req.end();
  await response;
  await waitFor(async () => (received.length >= 1 ? true : undefined), 2000, 'the first watch event');
  await waitFor(async () => (env.upstream.openWatches > 0 ? true : undefined), 2000, 'the upstream watch');
  env.upstream.pushWatchEvent('{"type":"MODIFIED","object":{"kind":"Pod"}}');
  // The upstream stream never ends, so the event can only arrive if the proxy flushes it on its own.
  await waitFor(async () => (received.length >= 2 ? true : undefined), 10_000, 'the pushed watch event');
  expect(received[1]).toContain('MODIFIED');
  expect(env.upstream.openWatches).toBe(1);
  req.destroy();
});

it('streams a request body through and back', async () => {
  const body = JSON.stringify({ kind: 'ConfigMap', data: { big: 'x'.repeat(200_000) } });
  const res = await send(env.proxy.url, { method: 'POST', path: '/echo', headers: { ...bearer(await env.token()), 'content-type': 'application/json' }, body, ca: env.ca.caPem });
  expect(res.status).toBe(200);
  expect(res.json<{ body: string }>().body).toBe(body);
});

it('passes 512 MiB with bounded proxy memory and receives the first bytes before the end', async () => {
  const total = 512 * 1024 * 1024;
  const token = await env.token();
  const rssBefore = proxyRssMiB();
  let peak = rssBefore;
  const sampler = setInterval(() => (peak = Math.max(peak, proxyRssMiB())), 50);
  let received = 0;
  let upstreamSentAtFirstChunk = -1;
  await new Promise<void>((resolve, reject) => {
    const req = request(new URL(`/big?bytes=${total}`, env.proxy.url), { headers: bearer(token), ca: env.ca.caPem, agent: false }, (res) => {
      res.on('data', (c: Buffer) => {
        if (received === 0) upstreamSentAtFirstChunk = env.upstream.bigBytesSent;
        received += c.length;
      });
      res.on('end', resolve);
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
  clearInterval(sampler);
  expect(received).toBe(total);
  // The first bytes reached the client while the API server was still far from done sending.
  expect(upstreamSentAtFirstChunk).toBeGreaterThan(0);
  expect(upstreamSentAtFirstChunk).toBeLessThan(total / 2);
  // Never buffered: growth is a fraction of the body (what remains is V8's young generation and TLS buffers).
  expect(peak - rssBefore).toBeLessThan(128);
  // The chunks were freed by young-generation collections (--stream-buffer-gc-mib, 16 by default), not left to full ones.
  const reclaims = (await opsGet(env.proxy.opsPort, '/metrics')).body.split('\n').find((l) => l.startsWith('kube_oidc_proxy_buffer_reclaims_total '));
  expect(Number(reclaims?.split(' ')[1])).toBeGreaterThan(0);
}, 60_000);

it('answers a plain GET while 600 watches hold upstream connections (no connection cap to queue behind)', async () => {
  const token = await env.token();
  const agent = new Agent({ keepAlive: false, maxSockets: Infinity, ca: env.ca.caPem });
  const watches = 600;
  let established = 0;
  const open: ClientRequest[] = [];
  try {
    await Promise.all(
      Array.from({ length: watches }, () =>
        new Promise<void>((resolve, reject) => {
          const req = request(new URL('/api/v1/namespaces/default/pods?watch=true', env.proxy.url), { agent, headers: bearer(token) }, (res) => {
            res.once('data', () => {
              established += 1;
              resolve();
            });
          });
          req.on('error', reject);
          open.push(req);
          req.end();
        }),
      ),
    );
    expect(established).toBe(watches);
    await waitFor(async () => (env.upstream.openWatches >= watches ? true : undefined), 10_000, 'every watch open upstream');
    const res = await send(env.proxy.url, { path: '/api/v1/namespaces/default/pods/web', headers: bearer(token), ca: env.ca.caPem });
    expect(res.status).toBe(200);
  } finally {
    for (const req of open) req.destroy();
    agent.destroy();
  }
}, 60_000);
