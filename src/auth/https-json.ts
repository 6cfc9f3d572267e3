/**
 * Bounded HTTPS GETs for the authenticator's own traffic (discovery, JWKS, distributed claims): custom CA,
 * timeout, size cap, no redirects.
 */
import { STATUS_CODES } from 'node:http';
import { request } from 'node:https';

export interface FetchOptions {
  readonly ca?: string;
  readonly timeoutMs: number;
  readonly maxBytes: number;
  readonly headers?: Readonly<Record<string, string>>;
}

export interface FetchedText {
  readonly statusCode: number;
  /** Go's `Response.Status`, e.g. `404 Not Found`. */
  readonly status: string;
  readonly body: string;
  readonly cacheControl?: string;
}

export interface FetchedJson {
  readonly body: unknown;
  readonly cacheControl?: string;
}

/** GET a URL and read the whole body (any status). Rejects on transport failure, timeout or an oversized body. */
export function fetchText(url: string, opts: FetchOptions): Promise<FetchedText> {
  return new Promise((resolve, reject) => {
    const headers = { accept: 'application/json', ...opts.headers };
    const req = request(url, { method: 'GET', ...(opts.ca ? { ca: opts.ca } : {}), headers, timeout: opts.timeoutMs }, (res) => {
      const statusCode = res.statusCode ?? 0;
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size > opts.maxBytes) {
          req.destroy(new Error(`GET ${url}: response exceeds ${opts.maxBytes} bytes`));
          return;
        }
        chunks.push(chunk);
      });
      res.on('end', () => {
        const cacheControl = res.headers['cache-control'];
        resolve({ statusCode, status: `${statusCode} ${STATUS_CODES[statusCode] ?? ''}`.trimEnd(), body: Buffer.concat(chunks).toString('utf8'), ...(cacheControl ? { cacheControl } : {}) });
      });
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`GET ${url}: timed out after ${opts.timeoutMs} ms`)));
    req.on('error', reject);
    req.end();
  });
}

/** GET a JSON document; anything but a 200 with valid JSON is an error. */
export async function fetchJson(url: string, opts: FetchOptions): Promise<FetchedJson> {
  const res = await fetchText(url, opts);
  if (res.statusCode !== 200) throw new Error(`GET ${url}: unexpected status ${res.statusCode}`);
  let body: unknown;
  try {
    body = JSON.parse(res.body);
  } catch {
    throw new Error(`GET ${url}: response is not valid JSON`);
  }
  return { body, ...(res.cacheControl ? { cacheControl: res.cacheControl } : {}) };
}
