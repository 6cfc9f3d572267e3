/**
 * As an auditor, the client address the API server and the SIEM line see is the real client's: the socket
 * peer, unless that peer is a load balancer named in --trusted-proxies, and then the rightmost address in
 * X-Forwarded-For that is not one of them. A client cannot choose its own Remote-Client-IP.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { bearer, send } from './support/client.js';
import { type Environment, startEnvironment } from './support/environment.js';
import { startProxy } from './support/proxy-process.js';

const PATH = '/api/v1/namespaces/default/pods/web';

async function seenThrough(env: Environment, headers: Record<string, string>) {
  const before = env.upstream.requests.length;
  const res = await send(env.proxy.url, { path: PATH, headers: { ...bearer(await env.token()), ...headers }, ca: env.ca.caPem });
  expect(res.status).toBe(200);
  const [seen] = env.upstream.since(before);
  return { clientIp: seen!.header('impersonate-extra-remote-client-ip'), forwardedFor: seen!.header('x-forwarded-for'), realIp: seen!.header('x-real-ip') };
}

describe('when the connecting peer is not a trusted proxy', () => {
  let env: Environment;
  beforeAll(async () => {
    env = await startEnvironment({ extraArgs: ['--extra-user-header-client-ip', '--trusted-proxies=10.0.0.0/8'] });
  });
  afterAll(async () => env?.stop());

  it("the client's X-Forwarded-For and X-Real-Ip are ignored: the peer is the client", async () => {
    const seen = await seenThrough(env, { 'X-Forwarded-For': '203.0.113.9, 10.1.2.3', 'X-Real-Ip': '198.51.100.7' });
    expect(seen).toEqual({ clientIp: ['127.0.0.1'], forwardedFor: ['127.0.0.1'], realIp: [] });
    await env.proxy.waitForOutput(/AuSuccess src:\[127\.0\.0\.1 \/ /);
  });
});

describe('when the connecting peer is a trusted proxy', () => {
  let env: Environment;
  beforeAll(async () => {
    env = await startEnvironment({ extraArgs: ['--extra-user-header-client-ip', '--trusted-proxies=127.0.0.1/32,10.0.0.0/8'] });
  });
  afterAll(async () => env?.stop());

  it('the rightmost untrusted X-Forwarded-For address is the client, in Remote-Client-IP and the outbound X-Forwarded-For', async () => {
    const seen = await seenThrough(env, { 'X-Forwarded-For': '198.51.100.1, 203.0.113.9, 10.1.2.3' });
    expect(seen).toEqual({ clientIp: ['203.0.113.9'], forwardedFor: ['203.0.113.9'], realIp: [] });
    await env.proxy.waitForOutput(/AuSuccess src:\[203\.0\.113\.9 \/ /);
  });

  it('without X-Forwarded-For, the trusted peer itself is the client', async () => {
    const seen = await seenThrough(env, {});
    expect(seen.clientIp).toEqual(['127.0.0.1']);
  });

  it('a garbage hop ends the walk at the last trustworthy address', async () => {
    const seen = await seenThrough(env, { 'X-Forwarded-For': '203.0.113.9, not-an-ip, 10.1.2.3' });
    expect(seen.clientIp).toEqual(['10.1.2.3']);
  });
});

it('an invalid --trusted-proxies entry stops the proxy at startup, naming the flag', async () => {
  const proxy = await startProxy({ waitReady: false, args: ['--trusted-proxies=10.0.0.0/40,10.0.0.0/8'] });
  expect(await proxy.exited).toBe(1);
  expect(proxy.stderr()).toContain('--trusted-proxies: "10.0.0.0/40" is not an IP address or CIDR (e.g. 10.0.0.0/8)');
});
