/**
 * POST one review object (SubjectAccessReview, TokenReview) to the API server as the proxy itself.
 *
 * Why a direct HTTPS POST rather than @kubernetes/client-node's generated APIs: those build their own
 * connections from a KubeConfig, so they would neither share the proxy's keep-alive agent nor see the
 * service-account token as it rotates without a custom authenticator, and they have no per-call deadline.
 * UpstreamCredentialsService already owns both. Callers type the body with client-node's V1* types, so the
 * wire shape is still checked by the compiler.
 */
import { request } from 'node:https';
import type { UpstreamCredentialsService } from './upstream-credentials.service.js';

const MAX_RESPONSE_BYTES = 1024 * 1024;

/** A review that got no usable answer: the status code (if any) and a log-only detail. */
export class ReviewFailure extends Error {
  constructor(
    readonly status: number | undefined,
    detail: string,
  ) {
    super(detail);
  }
}

/** The parsed 200/201 answer; anything else rejects with a ReviewFailure (never a decision). */
export function postReview(credentials: UpstreamCredentialsService, path: string, review: unknown, timeoutMs: number): Promise<unknown> {
  const target = credentials.target;
  const body = JSON.stringify(review);
  const authorization = credentials.authorization();
  const url = new URL(path.replace(/^\//, ''), target.url.href.endsWith('/') ? target.url : `${target.url.href}/`);
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      {
        method: 'POST',
        agent: credentials.agent,
        ...(target.servername ? { servername: target.servername } : {}),
        headers: {
          'content-type': 'application/json',
          accept: 'application/json',
          'content-length': Buffer.byteLength(body),
          ...(authorization ? { authorization } : {}),
        },
        signal: AbortSignal.timeout(timeoutMs),
      },
      (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (c: Buffer) => {
          size += c.length;
          if (size > MAX_RESPONSE_BYTES) res.destroy(new ReviewFailure(res.statusCode, 'response too large'));
          else chunks.push(c);
        });
        res.on('error', reject);
        res.on('end', () => {
          const status = res.statusCode ?? 0;
          const text = Buffer.concat(chunks).toString('utf8');
          if (status !== 200 && status !== 201) {
            let message = '';
            try {
              message = String((JSON.parse(text) as { message?: unknown }).message ?? '');
            } catch {
              // Not a Status body; the code alone says enough.
            }
            return reject(new ReviewFailure(status, message.slice(0, 500) || 'unexpected response'));
          }
          try {
            resolve(JSON.parse(text));
          } catch {
            reject(new ReviewFailure(status, 'the response is not JSON'));
          }
        });
      },
    );
    req.on('error', (err) =>
      reject(err.name === 'AbortError' || err.name === 'TimeoutError' ? new ReviewFailure(undefined, `no answer within ${timeoutMs} ms`) : err),
    );
    req.end(body);
  });
}
