/** The HTTP/2 stream presented as an IncomingMessage: only regular headers, Node's HTTP/1.1 joining rules, the stream's body. */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { connect, createSecureServer, type Http2SecureServer, type Http2ServerRequest, type Http2ServerResponse, type OutgoingHttpHeaders } from 'node:http2';
import type { AddressInfo } from 'node:net';
import { fromHttp2, type Http2Request } from '../../../src/proxy/http2-request.js';
import { createTestCa, type TestCa } from '../../fixtures/tls.js';

interface Seen {
  readonly req: Http2Request;
  readonly body: string;
}

let ca: TestCa;
let server: Http2SecureServer;
let seen: (seen: Seen) => void = () => undefined;

beforeAll(async () => {
  ca = createTestCa();
  const pair = ca.issue(`http2-request-${process.pid}`);
  server = createSecureServer({ key: pair.keyPem, cert: pair.certPem }, (inbound: Http2ServerRequest, response: Http2ServerResponse) => {
    const { req, res } = fromHttp2(inbound, response);
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      seen({ req, body: Buffer.concat(chunks).toString() });
      res.end('ok');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

/** Sends one request and resolves with what the adapter presented. */
function exchange(headers: OutgoingHttpHeaders, body?: string): Promise<Seen> {
  return new Promise((resolve, reject) => {
    seen = resolve;
    const session = connect(`https://localhost:${(server.address() as AddressInfo).port}`, { ca: ca.caPem });
    session.once('error', reject);
    const stream = session.request({ ':path': '/api/v1/pods?watch=1', ...headers }, { endStream: body === undefined });
    stream.on('data', () => undefined);
    stream.once('close', () => session.close());
    if (body !== undefined) stream.end(body);
  });
}

describe('Http2Request', () => {
  it('has the method, the path and the regular headers, with host from :authority and no pseudo-header', async () => {
    const { req } = await exchange({ ':method': 'DELETE', authorization: 'Bearer t', accept: 'application/json' });
    expect(req.method).toBe('DELETE');
    expect(req.url).toBe('/api/v1/pods?watch=1');
    expect(req.httpVersion).toBe('2.0');
    expect(req.httpVersionMajor).toBe(2);
    expect(req.headers).toEqual({ authorization: 'Bearer t', accept: 'application/json', host: expect.stringMatching(/^localhost:\d+$/) });
    expect(req.rawHeaders.filter((_, i) => i % 2 === 0)).toEqual(['authorization', 'accept', 'host']);
    expect(req.socket.remoteAddress).toBe('127.0.0.1');
    expect(req.complete).toBe(true);
  });

  it('joins repeated header lines by the HTTP/1.1 rules and keeps each line raw', async () => {
    const { req } = await exchange({ 'impersonate-group': ['a', 'b, c'], 'set-cookie': ['x=1', 'y=2'] });
    expect(req.headers['impersonate-group']).toBe('a, b, c');
    expect(req.headers['set-cookie']).toEqual(['x=1', 'y=2']);
    expect(req.rawHeaders).toEqual(expect.arrayContaining(['impersonate-group', 'a', 'impersonate-group', 'b, c']));
  });

  it('streams the body, and marks a body of unknown length as chunked for the header rules', async () => {
    const { req, body } = await exchange({ ':method': 'POST' }, '{"kind":"Pod"}');
    expect(body).toBe('{"kind":"Pod"}');
    expect(req.headers['transfer-encoding']).toBe('chunked');
    expect(req.complete).toBe(true);
  });

  it('does not mark a body with a content-length', async () => {
    const { req, body } = await exchange({ ':method': 'POST', 'content-length': '2' }, '{}');
    expect(body).toBe('{}');
    expect(req.headers['transfer-encoding']).toBeUndefined();
    expect(req.headers['content-length']).toBe('2');
  });
});
