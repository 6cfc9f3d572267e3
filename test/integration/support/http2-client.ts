/** An HTTP/2 client for tests, speaking to the proxy the way client-go does: one connection, many streams. */
import { type ClientHttp2Session, connect, type IncomingHttpHeaders, type OutgoingHttpHeaders } from 'node:http2';

export interface Http2TestResponse {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
  json<T = Record<string, unknown>>(): T;
}

/** Connects with ALPN h2 only and the test CA trusted; rejects if the server does not agree to HTTP/2. */
export function connectHttp2(baseUrl: string, ca: string): Promise<ClientHttp2Session> {
  return new Promise((resolve, reject) => {
    const session = connect(baseUrl, { ca });
    session.once('connect', () => resolve(session));
    session.once('error', reject);
  });
}

export interface Http2TestRequest {
  readonly method?: string;
  readonly path: string;
  readonly headers?: OutgoingHttpHeaders;
  /** Sent without a content-length (as a client streaming a body of unknown length). */
  readonly body?: string | Buffer;
  readonly timeoutMs?: number;
}

export function sendHttp2(session: ClientHttp2Session, r: Http2TestRequest): Promise<Http2TestResponse> {
  return new Promise((resolve, reject) => {
    const stream = session.request({ ':method': r.method ?? 'GET', ':path': r.path, ...r.headers }, { endStream: r.body === undefined });
    const timer = setTimeout(() => stream.close(), r.timeoutMs ?? 10_000);
    let headers: IncomingHttpHeaders = {};
    const chunks: Buffer[] = [];
    stream.on('response', (h) => (headers = h));
    stream.on('data', (c: Buffer) => chunks.push(c));
    stream.on('end', () => {
      clearTimeout(timer);
      const body = Buffer.concat(chunks).toString();
      resolve({ status: Number(headers[':status']), headers, body, json: <T>() => JSON.parse(body) as T });
    });
    stream.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    if (r.body !== undefined) stream.end(r.body);
  });
}
