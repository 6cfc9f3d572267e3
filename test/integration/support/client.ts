/** A tiny HTTPS client for tests: raw status, headers and body, with the test CA trusted. */
import { type IncomingHttpHeaders, type OutgoingHttpHeaders } from 'node:http';
import { Agent, request } from 'node:https';

export interface TestResponse {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly rawHeaders: string[];
  readonly body: string;
  json<T = Record<string, unknown>>(): T;
}

export interface TestRequest {
  readonly method?: string;
  readonly path?: string;
  readonly headers?: OutgoingHttpHeaders;
  readonly body?: string | Buffer;
  readonly ca: string;
  readonly agent?: Agent;
  readonly timeoutMs?: number;
}

export function send(baseUrl: string, r: TestRequest): Promise<TestResponse> {
  const url = new URL(r.path ?? '/', baseUrl);
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      { method: r.method ?? 'GET', headers: r.headers ?? {}, ca: r.ca, agent: r.agent ?? false, timeout: r.timeoutMs ?? 10_000 },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const body = Buffer.concat(chunks).toString();
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            rawHeaders: res.rawHeaders,
            body,
            json: <T>() => JSON.parse(body) as T,
          });
        });
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error(`request to ${url.pathname} timed out`)));
    req.on('error', reject);
    req.end(r.body);
  });
}

export const bearer = (token: string): Record<string, string> => ({ authorization: `Bearer ${token}` });
