/**
 * Http2Upstream on real sockets: an HTTP/2 server standing in for the API server, a plain HTTP front that
 * hands each request to the class, and real clients. Only the timings are shortened.
 */
import { afterEach, describe, expect, it } from '@jest/globals';
import { createServer as createHttpServer, get, type IncomingMessage, request, type Server as HttpServer, type ServerResponse } from 'node:http';
import { type ClientHttp2Stream, createSecureServer, type Http2SecureServer, type IncomingHttpHeaders, type ServerHttp2Stream } from 'node:http2';
import { createServer as createHttpsServer } from 'node:https';
import { type AddressInfo, connect as tcpConnect, createServer as createTcpServer, type Server as TcpServer, type Socket } from 'node:net';
import { hasRequestBody, Http2Upstream, type Http2UpstreamOptions, http1ResponseHeaders, http2RequestHeaders } from '../../../src/upstream/http2-upstream.js';
import { upstreamPath } from '../../../src/upstream/upstream-target.js';
import { createTestCa } from '../../fixtures/tls.js';

const ca = createTestCa();
const leaf = ca.issue('h2-upstream');
const cleanups: (() => void)[] = [];
afterEach(() => {
  while (cleanups.length) cleanups.pop()!();
});

const listen = async <T extends HttpServer | Http2SecureServer | TcpServer>(server: T): Promise<number> => {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as AddressInfo).port;
};

interface Upstream {
  readonly port: number;
  readonly streams: { headers: IncomingHttpHeaders; stream: ServerHttp2Stream }[];
  sessions: number;
}

/** An HTTP/2-only API server that records every stream and hands it to `answer`. */
async function h2Server(answer: (stream: ServerHttp2Stream, headers: IncomingHttpHeaders) => void, settings: { maxConcurrentStreams?: number } = {}): Promise<Upstream> {
  const server = createSecureServer({ cert: leaf.certPem, key: leaf.keyPem, settings });
  const up = { port: 0, streams: [] as Upstream['streams'], sessions: 0 };
  server.on('session', (session) => {
    up.sessions++;
    cleanups.push(() => session.destroy());
  });
  server.on('stream', (stream, headers) => {
    up.streams.push({ headers, stream });
    stream.on('error', () => {});
    answer(stream, headers);
  });
  up.port = await listen(server);
  cleanups.push(() => server.close());
  return up;
}

/** An API server whose watches send one event and stay open. */
function h2Upstream(settings: { maxConcurrentStreams?: number } = {}, answer = true): Promise<Upstream> {
  return h2Server((stream) => {
    if (!answer) return;
    stream.respond({ ':status': 200, 'content-type': 'application/json' });
    stream.write('{"type":"ADDED"}\n');
  }, settings);
}

interface Front {
  readonly port: number;
  readonly errors: NodeJS.ErrnoException[];
  readonly viaHttp1: string[];
}

/** The proxy's side: every request is handed to `watches`. */
async function front(watches: Http2Upstream): Promise<Front> {
  const f = { port: 0, errors: [] as NodeJS.ErrnoException[], viaHttp1: [] as string[] };
  const server = createHttpServer((req: IncomingMessage, res: ServerResponse) => {
    watches.forward({
      req,
      res,
      headers: { authorization: 'Bearer proxy-sa', 'impersonate-user': 'alice', 'impersonate-group': ['dev', 'ops'], connection: 'keep-alive', host: 'ignored', accept: 'application/json' },
      onError: (err) => {
        f.errors.push(err);
        res.writeHead(503).end();
      },
      viaHttp1: () => {
        f.viaHttp1.push(req.url ?? '');
        res.writeHead(200).end('http/1.1');
      },
    });
  });
  f.port = await listen(server);
  cleanups.push(() => {
    server.closeAllConnections();
    server.close();
  });
  return f;
}

function watchesTo(port: number, options: Http2UpstreamOptions & { path?: string; requestTimeoutMs?: number } = {}): Http2Upstream {
  const w = new Http2Upstream(
    { url: new URL(`https://127.0.0.1:${port}${options.path ?? ''}`), connectTimeoutMs: 2000, requestTimeoutMs: options.requestTimeoutMs ?? 0, tlsOptions: () => ({ ca: ca.caPem }) },
    options,
  );
  cleanups.push(() => w.close());
  return w;
}

interface Watch {
  readonly res: Promise<IncomingMessage>;
  /** Everything received so far. */
  body(): string;
  /** Resolves when the response ends: 'complete' (cleanly) or 'aborted'. */
  readonly ended: Promise<'complete' | 'aborted'>;
  close(): void;
}

function openWatch(port: number, path = '/api/v1/pods?watch=true'): Watch {
  let body = '';
  let close = (): void => {};
  let settle: (how: 'complete' | 'aborted') => void = () => {};
  const ended = new Promise<'complete' | 'aborted'>((resolve) => (settle = resolve));
  const res = new Promise<IncomingMessage>((resolve, reject) => {
    const req = get({ host: '127.0.0.1', port, path, agent: false }, (r) => {
      r.setEncoding('utf8');
      r.on('data', (c: string) => (body += c));
      r.on('end', () => settle('complete'));
      r.on('aborted', () => settle('aborted'));
      r.on('error', () => settle('aborted'));
      resolve(r);
    });
    req.on('error', reject);
    close = () => req.destroy();
  });
  cleanups.push(() => close());
  return { res, body: () => body, ended, close: () => close() };
}

const until = async (what: string, check: () => boolean, ms = 5000): Promise<void> => {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
};

describe('the header and path helpers', () => {
  it('joins the server URL path and the request path as http-proxy does', () => {
    expect(upstreamPath(new URL('https://h:6443'), '/api/v1/pods?watch=1')).toBe('/api/v1/pods?watch=1');
    expect(upstreamPath(new URL('https://h/k8s/clusters/c-1/'), '/api/v1/pods?watch=1')).toBe('/k8s/clusters/c-1/api/v1/pods?watch=1');
  });

  it('drops the headers HTTP/2 forbids and keeps every value of the others', () => {
    const out = http2RequestHeaders('GET', '/p', 'h:6443', { Connection: 'keep-alive', 'keep-alive': 'timeout=5', 'transfer-encoding': 'chunked', upgrade: 'h2c', host: 'x', te: 'gzip', 'Impersonate-Group': ['a', 'b'], authorization: 'Bearer t' });
    expect(out).toEqual({ ':method': 'GET', ':path': '/p', ':scheme': 'https', ':authority': 'h:6443', 'impersonate-group': ['a', 'b'], authorization: 'Bearer t' });
    expect(http2RequestHeaders('GET', '/p', 'h', { te: 'trailers' }).te).toBe('trailers');
  });

  it('keeps every response header line but the pseudo-headers, a repeated one as several lines', () => {
    const raw = [':status', '200', 'content-type', 'application/json', 'warning', '299 - "a"', 'warning', '299 - "b"', 'set-cookie', 'a', 'set-cookie', 'b', 'set-cookie', 'c'];
    expect(http1ResponseHeaders(raw)).toEqual({ 'content-type': 'application/json', warning: ['299 - "a"', '299 - "b"'], 'set-cookie': ['a', 'b', 'c'] });
  });

  it.each([
    [{}, false],
    [{ 'content-length': '0' }, false],
    [{ 'content-length': '3' }, true],
    [{ 'transfer-encoding': 'chunked' }, true],
  ])('a request with %j has a body: %s', (headers, expected) => {
    expect(hasRequestBody({ headers } as unknown as IncomingMessage)).toBe(expected);
  });
});

describe('watches as HTTP/2 streams', () => {
  it('carries the outbound headers on its stream and delivers events as they come', async () => {
    const up = await h2Upstream();
    const f = await front(watchesTo(up.port, { path: '/prefix' }));
    const watch = openWatch(f.port);
    expect((await watch.res).statusCode).toBe(200);
    await until('the first event', () => watch.body().includes('ADDED'));
    const { headers, stream } = up.streams[0]!;
    expect(headers[':path']).toBe('/prefix/api/v1/pods?watch=true');
    expect(headers[':authority']).toBe(`127.0.0.1:${String(up.port)}`);
    expect(headers.authorization).toBe('Bearer proxy-sa');
    expect(headers['impersonate-user']).toBe('alice');
    expect(headers['impersonate-group']).toBe('dev, ops');
    expect(headers.connection).toBeUndefined();
    stream.write('{"type":"MODIFIED"}\n');
    await until('the pushed event', () => watch.body().includes('MODIFIED'));
  });

  it('shares one connection between many watches', async () => {
    const up = await h2Upstream();
    const watches = watchesTo(up.port);
    const f = await front(watches);
    const all = Array.from({ length: 30 }, () => openWatch(f.port));
    await Promise.all(all.map((w) => w.res));
    await until('30 upstream streams', () => up.streams.length === 30);
    expect(up.sessions).toBe(1);
    expect(watches.sessionCount).toBe(1);
  });

  it("opens another connection when one carries the server's stream limit", async () => {
    const up = await h2Upstream({ maxConcurrentStreams: 5 });
    const watches = watchesTo(up.port);
    const f = await front(watches);
    // One first, so the server's SETTINGS are known before the rest arrive.
    await openWatch(f.port).res;
    const rest = Array.from({ length: 11 }, () => openWatch(f.port));
    await Promise.all(rest.map((w) => w.res));
    expect(up.streams.length).toBe(12);
    expect(up.sessions).toBe(3);
  });

  it('closes the upstream stream when the client goes away, and the idle connection after that', async () => {
    const up = await h2Upstream();
    const watches = watchesTo(up.port, { idleCloseMs: 100 });
    const f = await front(watches);
    const watch = openWatch(f.port);
    await watch.res;
    await until('the upstream stream', () => up.streams.length === 1);
    watch.close();
    await until('the upstream stream to close', () => up.streams[0]!.stream.closed);
    await until('the idle connection to close', () => watches.sessionCount === 0, 2000);
  });

  it('cuts the client response short when the connection to the API server breaks', async () => {
    const up = await h2Upstream();
    const f = await front(watchesTo(up.port));
    const watch = openWatch(f.port);
    await watch.res;
    await until('the upstream stream', () => up.streams.length === 1);
    up.streams[0]!.stream.session!.socket.destroy();
    expect(await watch.ended).toBe('aborted');
  });

  it('ends the client response cleanly when the API server ends the stream', async () => {
    const up = await h2Upstream();
    const f = await front(watchesTo(up.port));
    const watch = openWatch(f.port);
    await watch.res;
    await until('the upstream stream', () => up.streams.length === 1);
    up.streams[0]!.stream.end('{"type":"DELETED"}\n');
    expect(await watch.ended).toBe('complete');
    expect(watch.body()).toContain('DELETED');
  });

  it('destroys a connection whose pings go unanswered, so its watches end instead of hanging', async () => {
    const up = await h2Upstream();
    // A relay that can stop passing bytes without closing anything: a blackholed network path.
    let blackholed = false;
    const relay = createTcpServer((client: Socket) => {
      const server = tcpConnect(up.port, '127.0.0.1');
      client.on('data', (c) => blackholed || server.write(c));
      server.on('data', (c) => blackholed || client.write(c));
      client.on('error', () => {});
      server.on('error', () => {});
      client.on('close', () => server.destroy());
      server.on('close', () => client.destroy());
      cleanups.push(() => client.destroy());
    });
    const relayPort = await listen(relay);
    cleanups.push(() => relay.close());
    const f = await front(watchesTo(relayPort, { pingIntervalMs: 100, pingTimeoutMs: 200 }));
    const watch = openWatch(f.port);
    await watch.res;
    await until('the first event', () => watch.body().includes('ADDED'));
    blackholed = true;
    expect(await watch.ended).toBe('aborted');
  });

  it('answers with the connection error when the API server is down', async () => {
    const gone = createTcpServer();
    const port = await listen(gone);
    await new Promise((r) => gone.close(r));
    const f = await front(watchesTo(port));
    const res = await openWatch(f.port).res;
    expect(res.statusCode).toBe(503);
    expect(f.errors.map((e) => e.code)).toEqual(['ECONNREFUSED']);
  });

  it('gives up on an API server that sends no response head in time', async () => {
    const up = await h2Upstream({}, false);
    const f = await front(watchesTo(up.port, { requestTimeoutMs: 200 }));
    const res = await openWatch(f.port).res;
    expect(res.statusCode).toBe(503);
    expect(f.errors.map((e) => e.code)).toEqual(['UPSTREAM_HEADERS_TIMEOUT']);
  });
});

/**
 * An API server that answers every request with its method, its body and two Warning headers, and
 * `/big` with 64 MiB as fast as the reader allows (more than any window or socket buffer holds).
 */
function echoUpstream(): Promise<Upstream> {
  return h2Server((stream, headers) => {
    if (headers[':path'] === '/big') {
      stream.respond({ ':status': 200 });
      const chunk = Buffer.alloc(64 * 1024, 120);
      let left = 1024;
      const pump = (): void => {
        while (left > 0 && !stream.destroyed) {
          left--;
          if (!stream.write(chunk)) return void stream.once('drain', pump);
        }
        stream.end();
      };
      return pump();
    }
    let body = '';
    stream.setEncoding('utf8');
    stream.on('data', (c: string) => (body += c));
    stream.on('end', () => {
      stream.respond({ ':status': 201, 'content-type': 'text/plain', warning: ['299 - "first"', '299 - "second"'] as unknown as string });
      stream.end(`${String(headers[':method'])} ${body}`);
    });
  });
}

function send(port: number, method: string, body: string): Promise<{ status: number; body: string; rawHeaders: string[] }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, method, path: '/api/v1/namespaces/default/configmaps', agent: false, headers: { 'content-type': 'application/json' } }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (text += c));
      res.on('end', () => resolve({ status: res.statusCode!, body: text, rawHeaders: res.rawHeaders }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

describe('ordinary requests as HTTP/2 streams', () => {
  it('relays a bodiless request, its status and every repeated header line', async () => {
    const up = await echoUpstream();
    const f = await front(watchesTo(up.port));
    const res = await send(f.port, 'GET', '');
    expect(res).toMatchObject({ status: 201, body: 'GET ' });
    const warnings = res.rawHeaders.filter((_, i) => i % 2 === 0 && res.rawHeaders[i]!.toLowerCase() === 'warning').length;
    expect(warnings).toBe(2);
    expect(f.viaHttp1).toEqual([]);
  });

  it('sends a body over HTTP/1.1 until a connection has proven to speak HTTP/2, then as a stream', async () => {
    const up = await echoUpstream();
    const f = await front(watchesTo(up.port));
    // First: no connection yet, so it cannot risk a refusal it could not replay; one is opened meanwhile.
    expect(await send(f.port, 'POST', '{"a":1}')).toMatchObject({ status: 200, body: 'http/1.1' });
    await until('the connection', () => up.sessions === 1);
    await new Promise((r) => setTimeout(r, 50));
    const big = 'x'.repeat(3 * 1024 * 1024);
    expect(await send(f.port, 'PUT', big)).toMatchObject({ status: 201, body: `PUT ${big}` });
    expect(f.viaHttp1).toEqual(['/api/v1/namespaces/default/configmaps']);
    expect(up.streams.map((s) => s.headers[':method'])).toEqual(['PUT']);
    expect(up.sessions).toBe(1);
  });

  it('cancels the stream instead of answering a client that was already answered', async () => {
    const up = await h2Upstream();
    const upstream = watchesTo(up.port);
    const errors: Error[] = [];
    const server = createHttpServer((req, res) => {
      res.writeHead(408).write('answered already');
      upstream.forward({ req, res, headers: { authorization: 'Bearer proxy-sa' }, onError: (err) => errors.push(err), viaHttp1: () => res.end('http/1.1') });
    });
    const port = await listen(server);
    cleanups.push(() => {
      server.closeAllConnections();
      server.close();
    });
    const res = await new Promise<IncomingMessage>((resolve) => get({ host: '127.0.0.1', port, path: '/', agent: false }, resolve));
    expect(res.statusCode).toBe(408);
    await until('the upstream stream to be cancelled', () => up.streams[0]?.stream.rstCode === 8);
    expect(errors).toEqual([]);
    res.destroy();
  });

  it('lets go of the exchange once its stream has closed: a late error reaches no one', async () => {
    // A closed stream outlives young-generation GCs (Node's native handle keeps it): it must not keep the
    // client's request and response alive with it.
    const up = await echoUpstream();
    const upstream = watchesTo(up.port);
    const errors: Error[] = [];
    const streams: ClientHttp2Stream[] = [];
    const server = createHttpServer((req, res) => {
      upstream.forward({
        req,
        res,
        headers: { authorization: 'Bearer proxy-sa' },
        taps: { onUpstreamRequest: (stream) => streams.push(stream as unknown as ClientHttp2Stream) },
        onError: (err) => errors.push(err),
        viaHttp1: () => res.end('http/1.1'),
      });
    });
    const port = await listen(server);
    cleanups.push(() => {
      server.closeAllConnections();
      server.close();
    });
    expect(await send(port, 'GET', '')).toMatchObject({ status: 201, body: 'GET ' });
    const stream = streams[0]!;
    await until('the upstream stream to close', () => stream.closed && stream.listenerCount('close') === 0);
    expect(stream.listenerCount('response')).toBe(0);
    expect(stream.listenerCount('error')).toBe(1);
    stream.emit('error', new Error('late'));
    expect(errors).toEqual([]);
  });

  it('goes on serving other streams on the connection while a client does not read a large answer', async () => {
    const up = await echoUpstream();
    const f = await front(watchesTo(up.port));
    let received = 0;
    const stalled = await new Promise<IncomingMessage>((resolve) => get({ host: '127.0.0.1', port: f.port, path: '/big', agent: false }, resolve));
    stalled.once('data', (c: Buffer) => {
      received += c.length;
      stalled.pause();
    });
    await until('the first bytes', () => received > 0);
    await new Promise((r) => setTimeout(r, 200));
    expect(await send(f.port, 'GET', '')).toMatchObject({ status: 201, body: 'GET ' });
    expect(up.sessions).toBe(1);
    stalled.destroy();
  });
});

describe('an API server without HTTP/2', () => {
  it('sends its watches over HTTP/1.1, and keeps doing so without retrying h2 for a while', async () => {
    const server = createHttpsServer({ cert: leaf.certPem, key: leaf.keyPem }, (_req, res) => res.end());
    let connections = 0;
    server.on('secureConnection', () => connections++);
    server.on('tlsClientError', () => connections++);
    const port = await listen(server);
    cleanups.push(() => server.close());
    let now = 1_000_000;
    let fallbacks = 0;
    const f = await front(watchesTo(port, { now: () => now, onHttp1Fallback: () => fallbacks++ }));
    const first = openWatch(f.port, '/first');
    expect(await first.ended).toBe('complete');
    expect(f.errors).toEqual([]);
    expect(first.body()).toBe('http/1.1');
    const tried = connections;
    expect(tried).toBeGreaterThan(0);
    const second = openWatch(f.port, '/second');
    await second.ended;
    expect(connections).toBe(tried);
    expect(f.viaHttp1).toEqual(['/first', '/second']);
    expect(fallbacks).toBe(1);
    now += 10 * 60_000;
    await openWatch(f.port, '/third').ended;
    expect(connections).toBeGreaterThan(tried);
    expect(fallbacks).toBe(2);
    expect(f.errors).toEqual([]);
  });
});
