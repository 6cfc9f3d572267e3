/**
 * As a kubectl user, my client speaks HTTP/2 to the proxy as it does to kube-apiserver (and to jetstack's
 * proxy): one connection carries my requests and watches as streams. Every stream is admitted, audited and
 * forwarded exactly like an HTTP/1.1 request; nothing HTTP/2-specific (pseudo-headers, connection headers)
 * crosses the proxy.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { ClientHttp2Session } from 'node:http2';
import { connect as tlsConnect } from 'node:tls';
import { bearer } from './support/client.js';
import { type Environment, PROXY_SA_TOKEN, startEnvironment } from './support/environment.js';
import { connectHttp2, sendHttp2 } from './support/http2-client.js';
import { opsGet, waitFor } from './support/proxy-process.js';

/** The protocol the proxy picks when a client offers both, as client-go does. */
function negotiated(env: Environment): Promise<string | false> {
  return new Promise((resolve, reject) => {
    const socket = tlsConnect({ port: env.proxy.securePort, host: '127.0.0.1', ca: env.ca.caPem, servername: 'localhost', ALPNProtocols: ['h2', 'http/1.1'] }, () => {
      resolve(socket.alpnProtocol ?? false);
      socket.destroy();
    });
    socket.once('error', reject);
  });
}

describe('with HTTP/2 served (the default)', () => {
  let env: Environment;
  let token: string;
  let session: ClientHttp2Session;
  beforeAll(async () => {
    env = await startEnvironment({ upstreamHttp1Only: true, extraArgs: ['--request-read-timeout=1s'] });
    token = await env.token();
    session = await connectHttp2(env.proxy.url, env.ca.caPem);
  });
  afterAll(async () => {
    session?.destroy();
    await env?.stop();
  });

  it('picks HTTP/2 when the client offers it, and counts the connection by protocol', async () => {
    expect(await negotiated(env)).toBe('h2');
    expect((await opsGet(env.proxy.opsPort, '/metrics')).body).toMatch(/^kube_oidc_proxy_client_connections\{protocol="h2"\} [1-9]/m);
  });

  it("forwards a request with the user's identity, the proxy's credential, and no pseudo-header", async () => {
    const res = await sendHttp2(session, { path: '/api/v1/namespaces/default/pods/web', headers: bearer(token) });
    expect(res.status).toBe(200);
    expect(res.json()).toMatchObject({ kind: 'Pod' });
    expect(res.headers['audit-id']).toMatch(/^[0-9a-f-]{36}$/);
    const seen = env.upstream.last!;
    expect(seen.url).toBe('/api/v1/namespaces/default/pods/web');
    expect(seen.header('impersonate-user')).toEqual(['jane@example.com']);
    expect(seen.header('authorization')).toEqual([`Bearer ${PROXY_SA_TOKEN}`]);
    expect(seen.header('audit-id')).toEqual([res.headers['audit-id']]);
    expect(seen.rawHeaders.filter((_, i) => i % 2 === 0 && seen.rawHeaders[i]!.startsWith(':'))).toEqual([]);
  });

  it("passes a chunked HTTP/1.1 answer to the HTTP/2 client without HTTP/1.1's connection headers", async () => {
    const res = await sendHttp2(session, { path: '/big?bytes=1048576', headers: bearer(token) });
    expect(res.status).toBe(200);
    expect(res.body).toHaveLength(1_048_576);
    expect(res.headers['transfer-encoding']).toBeUndefined();
  });

  it('carries a request body of unknown length to the API server', async () => {
    const body = JSON.stringify({ kind: 'Pod', metadata: { name: 'x'.repeat(100_000) } });
    const res = await sendHttp2(session, { method: 'POST', path: '/echo', headers: { ...bearer(token), 'content-type': 'application/json' }, body });
    expect(res.status).toBe(200);
    expect(res.json<{ body: string }>().body).toBe(body);
  });

  it('refuses kubectl --as without a SubjectAccessReview that allows it, with a Status kubectl prints', async () => {
    env.upstream.sarPolicy = () => false;
    const before = env.upstream.requests.length;
    const res = await sendHttp2(session, { path: '/api/v1/namespaces/default/pods', headers: { ...bearer(token), 'impersonate-user': 'alice' } });
    expect(res.status).toBe(403);
    expect(res.json()).toMatchObject({ kind: 'Status', code: 403, reason: 'Forbidden' });
    expect(res.json<{ message: string }>().message).toBe("jane@example.com is not allowed to impersonate user 'alice'");
    expect(env.upstream.requests.length).toBe(before);
  });

  it('serves many streams on one connection at once, up to 250 (Go and kube-apiserver)', async () => {
    expect(session.remoteSettings.maxConcurrentStreams).toBe(250);
    const answers = await Promise.all(Array.from({ length: 100 }, () => sendHttp2(session, { path: '/api/v1/namespaces/default/pods/web', headers: bearer(token) })));
    expect(answers.map((r) => r.status)).toEqual(Array(100).fill(200));
  });

  it('ends the upstream watch when the client cancels its stream', async () => {
    const stream = session.request({ ':path': '/api/v1/namespaces/default/pods?watch=true', ...bearer(token) });
    await new Promise<void>((resolve) => stream.once('data', () => resolve()));
    expect(env.upstream.openWatches).toBe(1);
    stream.close();
    await waitFor(async () => (env.upstream.openWatches === 0 ? true : undefined), 5000, 'the upstream watch to close');
  });

  it('answers a body trickled past --request-read-timeout with 408', async () => {
    const stream = session.request({ ':method': 'POST', ':path': '/echo', ...bearer(token) }, { endStream: false });
    const trickle = setInterval(() => stream.writable && stream.write(' '), 200);
    let status = 0;
    const chunks: Buffer[] = [];
    stream.on('response', (h) => (status = Number(h[':status'])));
    stream.on('data', (c: Buffer) => chunks.push(c));
    await new Promise<void>((resolve) => stream.once('close', () => resolve()));
    clearInterval(trickle);
    expect(status).toBe(408);
    expect(JSON.parse(Buffer.concat(chunks).toString())).toMatchObject({ kind: 'Status', code: 408, reason: 'Timeout' });
    // Only the stream was cancelled: the connection goes on serving.
    expect((await sendHttp2(session, { path: '/api/v1/namespaces/default/pods/web', headers: bearer(token) })).status).toBe(200);
  });

  it('answers a request without a token with 401 and then closes the connection (CVE-2023-44487 mitigation, as kube-apiserver)', async () => {
    const other = await connectHttp2(env.proxy.url, env.ca.caPem);
    const goaway = new Promise<void>((resolve) => other.once('goaway', () => resolve()));
    const res = await sendHttp2(other, { path: '/api/v1/namespaces/default/pods' });
    expect(res.status).toBe(401);
    expect(res.json()).toMatchObject({ kind: 'Status', code: 401, reason: 'Unauthorized' });
    await goaway;
    await new Promise<void>((resolve) => (other.closed ? resolve() : other.once('close', () => resolve())));
  });
});

describe('with --http2-max-streams-per-connection, and an API server that speaks HTTP/2 too', () => {
  let env: Environment;
  beforeAll(async () => {
    env = await startEnvironment({ extraArgs: ['--http2-max-streams-per-connection=7'] });
  });
  afterAll(async () => env?.stop());

  it('carries a watch as an HTTP/2 stream on both sides, and ends it upstream with the client', async () => {
    const session = await connectHttp2(env.proxy.url, env.ca.caPem);
    try {
      const stream = session.request({ ':path': '/api/v1/namespaces/default/pods?watch=true', ...bearer(await env.token()) });
      const first = await new Promise<string>((resolve) => stream.once('data', (c: Buffer) => resolve(c.toString())));
      expect(first).toContain('"ADDED"');
      expect(env.upstream.http2Requests).toBe(1);
      expect(env.upstream.last!.header('impersonate-user')).toEqual(['jane@example.com']);
      stream.close();
      await waitFor(async () => (env.upstream.openWatches === 0 ? true : undefined), 5000, 'the upstream watch to close');
    } finally {
      session.destroy();
    }
  });

  it('tells clients that limit', async () => {
    const session = await connectHttp2(env.proxy.url, env.ca.caPem);
    try {
      await new Promise<void>((resolve) => (session.remoteSettings.maxConcurrentStreams === 7 ? resolve() : session.once('remoteSettings', () => resolve())));
      expect(session.remoteSettings.maxConcurrentStreams).toBe(7);
    } finally {
      session.destroy();
    }
  });
});

describe('with --serve-http2=false', () => {
  let env: Environment;
  beforeAll(async () => {
    env = await startEnvironment({ extraArgs: ['--serve-http2=false'] });
  });
  afterAll(async () => env?.stop());

  it('offers only HTTP/1.1', async () => {
    expect(await negotiated(env)).toBe('http/1.1');
  });
});
