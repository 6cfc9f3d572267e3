/** A bounded HTTPS GET of a JSON document (discovery, JWKS): custom CA, timeout, size cap, no redirects. */
import { request } from 'node:https';

export interface FetchOptions {
  readonly ca?: string;
  readonly timeoutMs: number;
  readonly maxBytes: number;
}

export interface FetchedJson {
  readonly body: unknown;
  readonly cacheControl?: string;
}

export function fetchJson(url: string, opts: FetchOptions): Promise<FetchedJson> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: 'GET', ...(opts.ca ? { ca: opts.ca } : {}), headers: { accept: 'application/json' }, timeout: opts.timeoutMs }, (res) => {
      if (res.statusCode !== 200) {
        res.resume();
        reject(new Error(`GET ${url}: unexpected status ${res.statusCode}`));
        return;
      }
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
        try {
          const cacheControl = res.headers['cache-control'];
          resolve({ body: JSON.parse(Buffer.concat(chunks).toString('utf8')), ...(cacheControl ? { cacheControl } : {}) });
        } catch {
          reject(new Error(`GET ${url}: response is not valid JSON`));
        }
      });
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`GET ${url}: timed out after ${opts.timeoutMs} ms`)));
    req.on('error', reject);
    req.end();
  });
}
